//! `mlsframe_result`: every fallible export's return code, with stable values grouped by
//! range (never reused; retired values stay listed as comments), and the one mapping from
//! Rust errors to codes.

use std::ffi::c_char;

use crate::media::FramingError;
use crate::mls::error::MlsError;
use crate::mls::media::MediaError;
use crate::sframe::SframeError;

/// Result of a C ABI call. `MLSFRAME_OK` is 0; ranges: 1xx arguments and buffers, 2xx frame
/// decrypt outcomes, 3xx frame encrypt and key outcomes, 4xx MLS, 9xx internal.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mlsframe_result {
    /// Success.
    MLSFRAME_OK = 0,
    /// A required pointer was NULL (or NULL with a non-zero length).
    MLSFRAME_NULL_ARGUMENT = 100,
    /// An argument is out of range, or an output overlaps an input or another output
    /// (other than a frame call exactly in place, `out == frame`).
    MLSFRAME_INVALID_ARGUMENT = 101,
    /// The output buffer is too small.
    MLSFRAME_BUFFER_TOO_SMALL = 102,
    /// A session configuration value is out of range (replay window, switch delay).
    MLSFRAME_INVALID_CONFIG = 103,
    /// The codec id is not one of `mlsframe_codec`.
    MLSFRAME_UNSUPPORTED_CODEC = 104,
    /// No key for this frame (yet). Recoverable: WebRTC `kRecoverable`.
    MLSFRAME_NO_KEY = 200,
    /// The frame's tag did not verify.
    MLSFRAME_AUTH_FAILED = 201,
    /// The frame was already accepted or is older than the replay window.
    MLSFRAME_REPLAY = 202,
    /// The frame cannot be parsed (truncated, shorter than its tag, or a header that is
    /// not minimally encoded: RFC 9605 section 4.3).
    MLSFRAME_MALFORMED = 203,
    /// The frame's KID names no other member in its epoch.
    MLSFRAME_UNKNOWN_SENDER = 204,
    /// The sender already moved to a newer epoch.
    MLSFRAME_SUPERSEDED = 205,
    /// Too many streams in one epoch.
    MLSFRAME_TOO_MANY_STREAMS = 206,
    /// A codec-aware frame's trailer or layout does not parse or does not fit the frame
    /// (docs/FRAMING.md): no trailer, a bad footer, or unit counts or lengths that differ.
    MLSFRAME_MALFORMED_LAYOUT = 207,
    /// Not (or no longer) a member: nothing can be sealed.
    MLSFRAME_NOT_MEMBER = 300,
    /// The send counter is exhausted; rekey.
    MLSFRAME_COUNTER_EXHAUSTED = 301,
    /// Another encryptor owns this stream context.
    MLSFRAME_CONTEXT_IN_USE = 302,
    /// The stream context does not fit the KID.
    MLSFRAME_CONTEXT_TOO_LARGE = 303,
    /// Unknown SFrame cipher suite.
    MLSFRAME_UNKNOWN_SUITE = 304,
    /// A key with this id is already installed.
    MLSFRAME_DUPLICATE_KEY = 305,
    /// Restored from a snapshot: self-update (and confirm it) before sending.
    MLSFRAME_REKEY_REQUIRED = 306,
    /// The standalone SFrame context has no send key: set one with
    /// `mlsframe_sframe_context_set_send_key` (before code 307 existed,
    /// `MLSFRAME_NOT_MEMBER`).
    MLSFRAME_NO_SEND_KEY = 307,
    /// An H.264/H.265 frame kept containing start-code emulation in its sealed output after
    /// every allowed re-seal (each with a fresh counter); the frame was not sent.
    MLSFRAME_START_CODE_EMULATION = 308,
    /// The frame's codec layout exceeds what the trailer carries (16383 bytes).
    MLSFRAME_LAYOUT_TOO_LARGE = 309,
    /// The MLS message is malformed.
    MLSFRAME_MLS_MALFORMED = 400,
    /// The MLS message is of an unexpected type here.
    MLSFRAME_MLS_UNEXPECTED_MESSAGE = 401,
    /// The key package is invalid.
    MLSFRAME_MLS_INVALID_KEY_PACKAGE = 402,
    /// A member identity is invalid.
    MLSFRAME_MLS_INVALID_IDENTITY = 403,
    /// The message is for another group.
    MLSFRAME_MLS_WRONG_GROUP = 404,
    /// The message is for another epoch (a competing commit won, or a replay).
    MLSFRAME_MLS_WRONG_EPOCH = 405,
    /// MLS validation rejected the message.
    MLSFRAME_MLS_REJECTED = 406,
    /// The welcome is invalid.
    MLSFRAME_MLS_INVALID_WELCOME = 407,
    /// Invalid group parameters.
    MLSFRAME_MLS_INVALID_PARAMS = 408,
    /// The session is not in a group.
    MLSFRAME_MLS_NO_GROUP = 409,
    /// The session is already in a group.
    MLSFRAME_MLS_ALREADY_IN_GROUP = 410,
    /// We are no longer a member.
    MLSFRAME_MLS_NOT_MEMBER = 411,
    /// The group was terminated after a policy violation.
    MLSFRAME_MLS_TERMINATED = 412,
    /// A commit of ours is pending; confirm or discard it first.
    MLSFRAME_MLS_COMMIT_PENDING = 413,
    /// No commit of ours is pending.
    MLSFRAME_MLS_NO_PENDING_COMMIT = 414,
    /// The admission policy refused a member.
    MLSFRAME_MLS_ADMISSION_REFUSED = 415,
    /// No such member.
    MLSFRAME_MLS_UNKNOWN_MEMBER = 416,
    /// The member is already in the group.
    MLSFRAME_MLS_DUPLICATE_MEMBER = 417,
    /// We cannot remove ourselves by commit; leave instead.
    MLSFRAME_MLS_CANNOT_REMOVE_SELF = 418,
    /// The handshake wire format is not allowed by the group.
    MLSFRAME_MLS_WIRE_FORMAT = 419,
    /// The proposal is already pending (a replay); nothing was stored. Harmless.
    MLSFRAME_MLS_DUPLICATE_PROPOSAL = 420,
    /// Too many (or too large) proposals are pending; nothing was stored.
    MLSFRAME_MLS_TOO_MANY_PROPOSALS = 421,
    /// The MLS message exceeds the size limit (2 MiB by default); not parsed.
    MLSFRAME_MLS_MESSAGE_TOO_LARGE = 422,
    /// The welcome exceeds the size limit (24 MiB by default); not parsed.
    MLSFRAME_MLS_WELCOME_TOO_LARGE = 423,
    /// A key package exceeds the size limit (64 KiB by default); not parsed.
    MLSFRAME_MLS_KEY_PACKAGE_TOO_LARGE = 424,
    /// The group would exceed the member limit (10,000 by default).
    MLSFRAME_MLS_GROUP_FULL = 425,
    /// The welcome has no ratchet tree and none was given.
    MLSFRAME_MLS_MISSING_RATCHET_TREE = 426,
    /// A ratchet tree is malformed or not the group's.
    MLSFRAME_MLS_INVALID_RATCHET_TREE = 427,
    /// The MLS ciphersuite is not one of 0x0001..=0x0003.
    MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE = 428,
    /// A key package of another suite than the group's, or a suite our identity cannot sign for.
    MLSFRAME_MLS_CIPHERSUITE_MISMATCH = 429,
    /// The key package does not advertise extension 0xff00, which the group requires.
    MLSFRAME_MLS_MISSING_CAPABILITY = 430,
    /// A proposal or commit would change the SFrame parameters: not stored, not merged.
    MLSFRAME_MLS_PARAMS_CHANGE_REFUSED = 431,
    /// A proposal type this library does not follow: not stored, not merged.
    MLSFRAME_MLS_UNSUPPORTED_PROPOSAL = 432,
    /// The group info does not verify, or has no ratchet tree (external join).
    MLSFRAME_MLS_INVALID_GROUP_INFO = 433,
    /// The group info or ratchet tree exceeds the size limit (that of welcomes); not parsed.
    MLSFRAME_MLS_GROUP_INFO_TOO_LARGE = 434,
    /// A proposal from an external sender the group does not list (or a bad signature);
    /// nothing was stored.
    MLSFRAME_MLS_UNAUTHORIZED_EXTERNAL_SENDER = 435,
    /// The member's credential is not an mlsframe identity (a member on another MLS
    /// stack): it has no user id or device id. Read its raw credential with
    /// `mlsframe_session_member_credential`.
    MLSFRAME_MLS_FOREIGN_CREDENTIAL = 436,
    /// The identity secret is not a key of its signature algorithm (a P-256 scalar that is
    /// zero or not below the group order).
    MLSFRAME_MLS_INVALID_SIGNING_KEY = 437,
    /// The signature algorithm is not one of 0x0807 (Ed25519) and 0x0403 (ECDSA P-256).
    MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM = 438,
    /// A panic was caught at the boundary (a bug; please report).
    MLSFRAME_PANIC = 900,
    /// An internal failure (a bug; please report).
    MLSFRAME_INTERNAL = 901,
}

use mlsframe_result::*;

impl From<SframeError> for mlsframe_result {
    fn from(e: SframeError) -> Self {
        match e {
            SframeError::UnknownKeyId(_) => MLSFRAME_NO_KEY,
            SframeError::AuthenticationFailed => MLSFRAME_AUTH_FAILED,
            SframeError::Replay => MLSFRAME_REPLAY,
            SframeError::MalformedFrame(_) => MLSFRAME_MALFORMED,
            SframeError::BufferTooSmall { .. } => MLSFRAME_BUFFER_TOO_SMALL,
            SframeError::CounterExhausted => MLSFRAME_COUNTER_EXHAUSTED,
            SframeError::UnknownCipherSuite(_) => MLSFRAME_UNKNOWN_SUITE,
            SframeError::DuplicateKeyId(_) => MLSFRAME_DUPLICATE_KEY,
            SframeError::RatchetOutOfRange | SframeError::InvalidArgument(_) => {
                MLSFRAME_INVALID_ARGUMENT
            }
        }
    }
}

impl From<MediaError> for mlsframe_result {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::NoKey => MLSFRAME_NO_KEY,
            MediaError::NotMember => MLSFRAME_NOT_MEMBER,
            MediaError::UnknownSender => MLSFRAME_UNKNOWN_SENDER,
            MediaError::Superseded => MLSFRAME_SUPERSEDED,
            MediaError::TooManyStreams => MLSFRAME_TOO_MANY_STREAMS,
            MediaError::ContextInUse => MLSFRAME_CONTEXT_IN_USE,
            MediaError::ContextTooLarge => MLSFRAME_CONTEXT_TOO_LARGE,
            MediaError::RekeyRequired => MLSFRAME_REKEY_REQUIRED,
            MediaError::InvalidConfig(_) => MLSFRAME_INVALID_CONFIG,
            MediaError::Sframe(e) => e.into(),
            MediaError::Framing(e) => e.into(),
        }
    }
}

impl From<FramingError> for mlsframe_result {
    fn from(e: FramingError) -> Self {
        match e {
            FramingError::UnsupportedCodec(_) => MLSFRAME_UNSUPPORTED_CODEC,
            FramingError::MalformedLayout(_) => MLSFRAME_MALFORMED_LAYOUT,
            FramingError::StartCodeEmulation => MLSFRAME_START_CODE_EMULATION,
            FramingError::LayoutTooLarge => MLSFRAME_LAYOUT_TOO_LARGE,
            FramingError::Sframe(e) => e.into(),
        }
    }
}

impl From<MlsError> for mlsframe_result {
    fn from(e: MlsError) -> Self {
        match e {
            MlsError::Malformed | MlsError::EmptyInput => MLSFRAME_MLS_MALFORMED,
            MlsError::UnexpectedMessageType => MLSFRAME_MLS_UNEXPECTED_MESSAGE,
            MlsError::InvalidKeyPackage => MLSFRAME_MLS_INVALID_KEY_PACKAGE,
            MlsError::InvalidIdentity => MLSFRAME_MLS_INVALID_IDENTITY,
            MlsError::InvalidSigningKey => MLSFRAME_MLS_INVALID_SIGNING_KEY,
            MlsError::WrongGroup => MLSFRAME_MLS_WRONG_GROUP,
            MlsError::WrongEpoch => MLSFRAME_MLS_WRONG_EPOCH,
            MlsError::Rejected => MLSFRAME_MLS_REJECTED,
            MlsError::WireFormatNotAllowed => MLSFRAME_MLS_WIRE_FORMAT,
            MlsError::InvalidWelcome => MLSFRAME_MLS_INVALID_WELCOME,
            MlsError::InvalidParams => MLSFRAME_MLS_INVALID_PARAMS,
            MlsError::NoGroup => MLSFRAME_MLS_NO_GROUP,
            MlsError::AlreadyInGroup => MLSFRAME_MLS_ALREADY_IN_GROUP,
            MlsError::NotMember => MLSFRAME_MLS_NOT_MEMBER,
            MlsError::Terminated => MLSFRAME_MLS_TERMINATED,
            MlsError::CommitPending => MLSFRAME_MLS_COMMIT_PENDING,
            MlsError::NoPendingCommit => MLSFRAME_MLS_NO_PENDING_COMMIT,
            MlsError::AdmissionRefused { .. } => MLSFRAME_MLS_ADMISSION_REFUSED,
            MlsError::UnknownMember => MLSFRAME_MLS_UNKNOWN_MEMBER,
            MlsError::DuplicateMember => MLSFRAME_MLS_DUPLICATE_MEMBER,
            MlsError::CannotRemoveSelf => MLSFRAME_MLS_CANNOT_REMOVE_SELF,
            MlsError::DuplicateProposal => MLSFRAME_MLS_DUPLICATE_PROPOSAL,
            MlsError::TooManyProposals => MLSFRAME_MLS_TOO_MANY_PROPOSALS,
            MlsError::MessageTooLarge => MLSFRAME_MLS_MESSAGE_TOO_LARGE,
            MlsError::WelcomeTooLarge => MLSFRAME_MLS_WELCOME_TOO_LARGE,
            MlsError::KeyPackageTooLarge => MLSFRAME_MLS_KEY_PACKAGE_TOO_LARGE,
            MlsError::GroupFull => MLSFRAME_MLS_GROUP_FULL,
            MlsError::MissingRatchetTree => MLSFRAME_MLS_MISSING_RATCHET_TREE,
            MlsError::InvalidRatchetTree => MLSFRAME_MLS_INVALID_RATCHET_TREE,
            MlsError::UnsupportedCiphersuite => MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE,
            MlsError::CiphersuiteMismatch => MLSFRAME_MLS_CIPHERSUITE_MISMATCH,
            MlsError::MissingCapability => MLSFRAME_MLS_MISSING_CAPABILITY,
            MlsError::ParamsChangeRefused => MLSFRAME_MLS_PARAMS_CHANGE_REFUSED,
            MlsError::UnsupportedProposal => MLSFRAME_MLS_UNSUPPORTED_PROPOSAL,
            MlsError::InvalidGroupInfo => MLSFRAME_MLS_INVALID_GROUP_INFO,
            MlsError::GroupInfoTooLarge => MLSFRAME_MLS_GROUP_INFO_TOO_LARGE,
            MlsError::UnauthorizedExternalSender => MLSFRAME_MLS_UNAUTHORIZED_EXTERNAL_SENDER,
            MlsError::InvalidConfig(_) => MLSFRAME_INVALID_CONFIG,
            MlsError::Internal(_) => MLSFRAME_INTERNAL,
        }
    }
}

impl<T, E: Into<mlsframe_result>> From<Result<T, E>> for mlsframe_result {
    fn from(r: Result<T, E>) -> Self {
        match r {
            Ok(_) => MLSFRAME_OK,
            Err(e) => e.into(),
        }
    }
}

/// A static, NUL-terminated English description of `code` (never NULL; unknown codes get
/// "unknown result code"). The string names the failure only: no key material, no input.
#[unsafe(no_mangle)]
pub extern "C" fn mlsframe_result_message(code: u32) -> *const c_char {
    let text: &'static std::ffi::CStr = match code {
        0 => c"ok",
        100 => c"a required pointer was NULL",
        101 => c"invalid argument",
        102 => c"output buffer too small",
        103 => c"session configuration value out of range",
        104 => c"unsupported codec id",
        200 => c"no key for this frame yet (recoverable)",
        201 => c"frame authentication failed",
        202 => c"frame replayed or too old",
        203 => c"malformed frame",
        204 => c"frame names no sender in its epoch",
        205 => c"sender has moved to a newer epoch",
        206 => c"too many streams in this epoch",
        207 => c"malformed codec layout (trailer)",
        300 => c"not a member of the group",
        301 => c"send counter exhausted: rekey",
        302 => c"stream context already has an encryptor",
        303 => c"stream context too large for the KID",
        304 => c"unknown SFrame cipher suite",
        305 => c"key id already installed",
        306 => c"restored session: self-update before sending",
        307 => c"no send key set",
        308 => c"start-code emulation in sealed H.264/H.265 output after retries",
        309 => c"codec layout too large for the trailer",
        400 => c"malformed MLS message",
        401 => c"unexpected MLS message type",
        402 => c"invalid key package",
        403 => c"invalid member identity",
        404 => c"MLS message for another group",
        405 => c"MLS message for another epoch",
        406 => c"MLS message rejected by validation",
        407 => c"invalid welcome",
        408 => c"invalid group parameters",
        409 => c"session is not in a group",
        410 => c"session is already in a group",
        411 => c"no longer a member of the group",
        412 => c"group terminated after a policy violation",
        413 => c"a commit of ours is pending",
        414 => c"no pending commit",
        415 => c"admission policy refused a member",
        416 => c"no such member",
        417 => c"member already in the group",
        418 => c"cannot remove ourselves by commit; leave instead",
        419 => c"handshake wire format not allowed by the group",
        420 => c"proposal already pending (replay); nothing stored",
        421 => c"too many pending proposals; nothing stored",
        422 => c"MLS message too large",
        423 => c"welcome too large",
        424 => c"key package too large",
        425 => c"group is full",
        426 => c"no ratchet tree: the welcome has none and none was given",
        427 => c"invalid ratchet tree",
        428 => c"unsupported MLS ciphersuite",
        429 => c"MLS ciphersuite mismatch",
        430 => c"key package lacks a capability the group requires",
        431 => c"change of the group's SFrame parameters refused",
        432 => c"unsupported proposal type",
        433 => c"invalid group info",
        434 => c"group info too large",
        435 => c"proposal from an unauthorized external sender; nothing stored",
        436 => c"member's credential is not an mlsframe identity",
        437 => c"identity secret is not a key of its signature algorithm",
        438 => c"unsupported signature algorithm",
        900 => c"panic caught at the C boundary (a bug)",
        901 => c"internal failure (a bug)",
        _ => c"unknown result code",
    };
    text.as_ptr()
}
