//! Error type of the MLS half: every fallible `Session` operation returns [`MlsError`].
//!
//! Messages never carry key material or message contents; they name what went wrong only.

use thiserror::Error;

/// Why an MLS operation failed. A failed operation leaves the group state unchanged.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MlsError {
    /// The bytes are not a well-formed MLS message.
    #[error("malformed MLS message")]
    Malformed,
    /// The message is well formed but not of the kind this call expects
    /// (e.g. a key package where a welcome was expected).
    #[error("unexpected MLS message type")]
    UnexpectedMessageType,
    /// A key package failed validation (signature, ciphersuite, capabilities, lifetime).
    #[error("invalid key package")]
    InvalidKeyPackage,
    /// A user id or device id is out of range, or an update replaces an `mlsframe`
    /// identity with another credential. (A credential that is not an `mlsframe` identity
    /// is not an error: it goes to the admission policy.)
    #[error("invalid member identity")]
    InvalidIdentity,
    /// An identity's secret is not a valid signing key for its algorithm: not 32 bytes,
    /// or (P-256) a scalar that is zero or not below the group order.
    #[error("invalid signing key")]
    InvalidSigningKey,
    /// The message belongs to another group.
    #[error("message is for a different group")]
    WrongGroup,
    /// The message is for another epoch (stale, replayed or from the future).
    #[error("message is for a different epoch")]
    WrongEpoch,
    /// The message failed MLS validation (authentication, decryption, proposal rules).
    #[error("message rejected by MLS validation")]
    Rejected,
    /// The message uses a wire format the group's handshake policy forbids.
    #[error("message wire format not allowed by the group policy")]
    WireFormatNotAllowed,
    /// The welcome failed validation, or is not for any key package of ours.
    #[error("invalid welcome")]
    InvalidWelcome,
    /// The welcome carries no `ratchet_tree` extension and no tree was supplied out of
    /// band ([`JoinOptions::ratchet_tree`](crate::mls::session::JoinOptions)).
    #[error("no ratchet tree: the welcome has none and none was given")]
    MissingRatchetTree,
    /// A ratchet tree is malformed, or does not match the group it is for.
    #[error("invalid ratchet tree")]
    InvalidRatchetTree,
    /// The MLS ciphersuite is not one this library implements (0x0001..=0x0003).
    #[error("unsupported MLS ciphersuite")]
    UnsupportedCiphersuite,
    /// The ciphersuite does not fit: a key package for another suite than the group's,
    /// or a suite whose signature algorithm is not our identity's.
    #[error("MLS ciphersuite mismatch")]
    CiphersuiteMismatch,
    /// The key package does not advertise the group's required capabilities (the group
    /// carries its SFrame parameters in extension 0xff00 and requires every member to
    /// support it; create the group with `ParamsSource::App` to admit other MLS stacks).
    #[error("key package lacks a capability the group requires")]
    MissingCapability,
    /// A group-context-extensions proposal or commit would change the SFrame parameters
    /// (suite, E, handshake format). Never adopted: a proposal is not stored, a commit is
    /// not merged, and the session stays in its epoch for the application to decide
    /// (leave, or rejoin).
    #[error("change of the group's SFrame parameters refused")]
    ParamsChangeRefused,
    /// A proposal or commit carries a proposal type this library cannot follow (ReInit,
    /// SelfRemove, custom types). Not stored, not merged; the session stays in its epoch.
    #[error("unsupported proposal type")]
    UnsupportedProposal,
    /// Group parameters are out of range (unknown SFrame suite, bad epoch bits), or a
    /// snapshot's copy of them disagrees with its group context.
    #[error("invalid group parameters")]
    InvalidParams,
    /// The operation needs a group but the session has none.
    #[error("session is not in a group")]
    NoGroup,
    /// The session is already in a group.
    #[error("session is already in a group")]
    AlreadyInGroup,
    /// We were removed from the group; only read-only queries remain.
    #[error("no longer a member of the group")]
    NotMember,
    /// A previous incoming commit violated the admission policy; the group is unusable.
    #[error("group terminated after a policy violation")]
    Terminated,
    /// Our own commit is pending: confirm or discard it first.
    #[error("a commit of ours is pending")]
    CommitPending,
    /// There is no pending commit of ours.
    #[error("no pending commit")]
    NoPendingCommit,
    /// The admission policy refused a credential for a commit we would create.
    #[error("admission policy refused a member: {reason}")]
    AdmissionRefused {
        /// The reason the policy gave.
        reason: String,
    },
    /// A leaf index or user to remove is not in the group.
    #[error("no such member")]
    UnknownMember,
    /// The device (user id, device id) is already in the group.
    #[error("member already in the group")]
    DuplicateMember,
    /// A commit cannot remove its own sender; use `leave`.
    #[error("cannot remove ourselves by commit; use leave")]
    CannotRemoveSelf,
    /// The operation needs input (e.g. at least one key package) and got none.
    #[error("empty input")]
    EmptyInput,
    /// The proposal is already pending (a replay or a redelivery): nothing was stored.
    /// Harmless; the application may ignore it.
    #[error("proposal already pending")]
    DuplicateProposal,
    /// Storing the proposal would exceed the pending-proposal count or byte cap
    /// ([`Limits`](crate::mls::session::Limits)); nothing was stored. A commit of the
    /// pending proposals makes room.
    #[error("too many pending proposals")]
    TooManyProposals,
    /// The message is larger than [`Limits::max_message_bytes`]; it was not parsed.
    ///
    /// [`Limits::max_message_bytes`]: crate::mls::session::Limits::max_message_bytes
    #[error("MLS message too large")]
    MessageTooLarge,
    /// The welcome is larger than [`Limits::max_welcome_bytes`]; it was not parsed.
    ///
    /// [`Limits::max_welcome_bytes`]: crate::mls::session::Limits::max_welcome_bytes
    #[error("welcome too large")]
    WelcomeTooLarge,
    /// A key package is larger than [`Limits::max_key_package_bytes`]; it was not parsed.
    ///
    /// [`Limits::max_key_package_bytes`]: crate::mls::session::Limits::max_key_package_bytes
    #[error("key package too large")]
    KeyPackageTooLarge,
    /// The group would exceed [`Limits::max_members`].
    ///
    /// [`Limits::max_members`]: crate::mls::session::Limits::max_members
    #[error("group is full")]
    GroupFull,
    /// A group info (for a join by external commit) does not verify: bad signature,
    /// ratchet tree or `external_pub` extension, or a group our commit cannot join.
    #[error("invalid group info")]
    InvalidGroupInfo,
    /// A group info (or a ratchet tree given with it) is larger than
    /// [`Limits::max_welcome_bytes`], which bounds both; it was not parsed. Also returned
    /// when a group info we export would exceed it.
    ///
    /// [`Limits::max_welcome_bytes`]: crate::mls::session::Limits::max_welcome_bytes
    #[error("group info too large")]
    GroupInfoTooLarge,
    /// A proposal claims an external sender the group does not list in its
    /// `external_senders` extension (or the group lists none), or its signature does not
    /// verify with the listed key; nothing was stored.
    #[error("proposal from an unauthorized external sender")]
    UnauthorizedExternalSender,
    /// A [`MediaConfig`](crate::mls::media::MediaConfig) or
    /// [`Limits`](crate::mls::session::Limits) value is out of range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
    /// An internal failure (crypto or storage); not caused by the input.
    #[error("internal MLS failure: {0}")]
    Internal(&'static str),
}

/// Result alias for the MLS half.
pub type Result<T> = core::result::Result<T, MlsError>;
