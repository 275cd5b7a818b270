//! The MLS session: one device's membership in one MLS group (RFC 9420, via `openmls`).
//!
//! This module owns the session's state, its identity and the read-only queries (roster,
//! security code); group operations live in `ops`, incoming messages in `incoming`,
//! snapshots in `persist`, the group-wide parameters in `params`, the key store that
//! wipes `openmls`'s secrets in `storage`, the caps on untrusted input in `limits`, and
//! joins and proposals from outside the group (external commits, external senders) in
//! `external`.
//! Every change to the session's epochs reaches the media key ring as one `EpochEvent`
//! (`epoch_event.rs`).

use core::fmt;
use std::sync::Arc;

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::credential::MemberCredential;
use super::epoch_event::{EpochEvent, EpochSink};
use super::error::{MlsError, Result};
use super::identity::{Identity, MemberIdentity, fingerprint};
use super::media::{MediaConfig, MediaKeys};
use super::policy::{AdmissionPolicy, Candidate};
use storage::SessionProvider;

mod external;
mod incoming;
#[cfg(test)]
mod interop_tests;
mod limits;
mod ops;
mod params;
mod persist;
mod storage;
#[cfg(test)]
mod tests;

pub use limits::{
    DEFAULT_MAX_KEY_PACKAGE_BYTES, DEFAULT_MAX_MEMBERS, DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MAX_PENDING_PROPOSAL_BYTES, DEFAULT_MAX_PENDING_PROPOSALS, DEFAULT_MAX_WELCOME_BYTES,
    Limits,
};
pub use params::{
    GroupOptions, GroupParams, HandshakeFormat, JoinOptions, MlsCiphersuite, PARAMS_EXTENSION_TYPE,
    ParamsSource,
};

/// RFC 9605 §5.2 exporter label.
const BASE_KEY_LABEL: &str = "SFrame 1.0 Base Key";

/// Domain separation for [`Session::security_code`].
const SECURITY_CODE_LABEL: &[u8] = b"mlsframe security code v1";

/// One leaf of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// Leaf index in the ratchet tree (the SFrame sender index).
    pub leaf: u32,
    /// Who the leaf belongs to, when its credential is an `mlsframe` identity; `None`
    /// for a member on another MLS stack (see `credential`).
    pub identity: Option<MemberIdentity>,
    /// The leaf's credential, raw.
    pub credential: MemberCredential,
    /// Fingerprint of the leaf's signature key.
    pub fingerprint: String,
}

/// All devices of one user in the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterUser {
    /// The user id; for a member whose credential is not an `mlsframe` identity, the
    /// credential's raw content (such a member is always a user of its own).
    pub user_id: Vec<u8>,
    /// The user's devices, by ascending leaf index.
    pub devices: Vec<MemberInfo>,
}

/// Messages produced by a commit we created. Send `commit` to the group through the
/// delivery service and `welcome` (if any) to the new members; then call
/// [`Session::confirm_own_commit`] once the delivery service accepted it (or feed the
/// echoed commit to [`Session::process`]), or [`Session::discard_pending_commit`] if
/// it was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOutput {
    /// The commit message (TLS-encoded `MLSMessage`).
    pub commit: Vec<u8>,
    /// The welcome for added members (TLS-encoded `MLSMessage`), if any were added.
    pub welcome: Option<Vec<u8>>,
    /// The epoch the commit moves the group into.
    pub epoch: u64,
}

/// What an incoming message meant, for the application to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A commit was merged (someone else's, or our own confirmed): new epoch keys are active.
    EpochChanged {
        /// The new epoch.
        epoch: u64,
        /// Members added by the commit.
        added: Vec<MemberInfo>,
        /// Members removed by the commit.
        removed: Vec<MemberInfo>,
    },
    /// A proposal was stored; some member should commit it
    /// ([`Session::commit_pending_proposals`]). A proposal already pending is not stored
    /// again: [`MlsError::DuplicateProposal`].
    ProposalsPending,
    /// We were removed from the group. Terminal.
    Removed,
    /// An incoming, sequenced commit violated the admission policy, added a device
    /// already in the group, or would exceed [`Limits::max_members`]. Terminal: the group
    /// is unusable; leave or rejoin.
    PolicyViolation {
        /// Why the commit was refused.
        reason: String,
    },
    /// An MLS application message: not used by this library, ignored.
    ApplicationIgnored,
    /// Our own message (other than a pending commit) echoed back; ignored.
    OwnMessageIgnored,
}

/// Where the session stands in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// A member: follows commits, seals and opens.
    Active,
    /// A commit removed us. Terminal.
    Removed,
    /// An incoming commit broke the admission policy. Terminal.
    Terminated,
}

impl Status {
    /// The media effect of entering this state. Exhaustive: a new state must name one.
    fn media_event(self) -> Option<EpochEvent> {
        match self {
            Status::Active => None,
            Status::Removed => Some(EpochEvent::Removed),
            Status::Terminated => Some(EpochEvent::Terminated),
        }
    }
}

struct PendingOwn {
    commit: Vec<u8>,
    epoch: u64,
    /// A self-update: merging it gives a restored session fresh send keys.
    rekeys: bool,
    /// An external join: `openmls` merged it already (see `external.rs`).
    external: Option<external::ExternalJoin>,
}

struct Group {
    mls: MlsGroup,
    params: GroupParams,
    params_source: ParamsSource,
    status: Status,
    pending: Option<PendingOwn>,
}

/// One device's MLS group membership. Drive it from one thread at a time.
pub struct Session {
    provider: SessionProvider,
    signer: SignatureKeyPair,
    identity: Identity,
    credential: CredentialWithKey,
    policy: Arc<dyn AdmissionPolicy>,
    limits: Limits,
    sink: Arc<dyn EpochSink>,
    media: Option<MediaKeys>,
    group: Option<Group>,
    /// Set by [`Session::restore`]: send counters of the restored state are unknown, so no
    /// epoch may be sealed in until our own self-update is merged (a redelivered commit
    /// would otherwise recreate an epoch whose counters were already used).
    rekey_required: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("identity", &self.identity)
            .field("epoch", &self.epoch())
            .field("own_leaf", &self.own_leaf())
            .finish_non_exhaustive()
    }
}

/// What our leaves advertise: the MLS suites our identity can sign for, our group
/// context extension, basic credentials.
fn capabilities(scheme: SignatureScheme) -> Capabilities {
    let suites: Vec<Ciphersuite> = MlsCiphersuite::ALL
        .into_iter()
        .filter(|s| s.signature_scheme() == scheme)
        .map(MlsCiphersuite::openmls)
        .collect();
    Capabilities::new(
        None,
        Some(&suites),
        Some(&[ExtensionType::Unknown(PARAMS_EXTENSION_TYPE)]),
        None,
        Some(&[CredentialType::Basic]),
    )
}

fn serialize(msg: &MlsMessageOut) -> Result<Vec<u8>> {
    msg.tls_serialize_detached()
        .map_err(|_| MlsError::Internal("message serialization failed"))
}

fn parse(bytes: &[u8]) -> Result<MlsMessageIn> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|_| MlsError::Malformed)
}

fn member_info(m: &Member) -> MemberInfo {
    let credential = MemberCredential::of(&m.credential);
    MemberInfo {
        leaf: m.index.u32(),
        identity: credential.identity(),
        credential,
        fingerprint: fingerprint(&m.signature_key),
    }
}

/// The group, checked to be active with no pending commit of ours.
fn operational(group: &mut Option<Group>) -> Result<&mut Group> {
    let g = group.as_mut().ok_or(MlsError::NoGroup)?;
    match g.status {
        Status::Removed => return Err(MlsError::NotMember),
        Status::Terminated => return Err(MlsError::Terminated),
        Status::Active => {}
    }
    if g.pending.is_some() || g.mls.pending_commit().is_some() {
        return Err(MlsError::CommitPending);
    }
    Ok(g)
}

impl Drop for Session {
    /// A dropped session can no longer follow the group: its encryptors stop (NOT_MEMBER)
    /// and its decryptors keep only the short post-removal retention.
    fn drop(&mut self) {
        if self.group.is_some() {
            self.sink.apply(EpochEvent::Dropped);
        }
    }
}

impl Session {
    /// Creates a session (not yet in a group) for `identity`. `policy` vets every new
    /// member; `media` configures the key ring behind [`media`](Self::media).
    ///
    /// # Errors
    /// [`MlsError::InvalidConfig`] when `media` fails [`MediaConfig::validate`];
    /// [`MlsError::Internal`] if the key store cannot take the signature key.
    pub fn new(
        identity: Identity,
        policy: Arc<dyn AdmissionPolicy>,
        media: MediaConfig,
    ) -> Result<Self> {
        media.validate().map_err(|e| match e {
            super::media::MediaError::InvalidConfig(why) => MlsError::InvalidConfig(why),
            _ => MlsError::InvalidConfig("media configuration rejected"),
        })?;
        let keys = MediaKeys::new(media);
        let mut session = Self::with_sink(identity, policy, keys.sink())?;
        session.media = Some(keys);
        Ok(session)
    }

    /// The media key ring: hands out [`Encryptor`](super::media::Encryptor)s and
    /// [`Decryptor`](super::media::Decryptor)s that follow this session's epochs.
    pub fn media(&self) -> MediaKeys {
        match &self.media {
            Some(keys) => keys.clone(),
            // Sessions built on a custom sink (tests) get an empty, detached ring.
            None => MediaKeys::new(MediaConfig::default()),
        }
    }

    /// Create a session for `identity`. `policy` vets new members; `sink` receives
    /// epoch events.
    pub(crate) fn with_sink(
        identity: Identity,
        policy: Arc<dyn AdmissionPolicy>,
        sink: Arc<dyn EpochSink>,
    ) -> Result<Self> {
        let provider = SessionProvider::default();
        let signer = identity.signature_key_pair();
        signer
            .store(provider.storage())
            .map_err(|_| MlsError::Internal("key storage failed"))?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.member().encode()).into(),
            signature_key: signer.public().into(),
        };
        Ok(Self {
            provider,
            signer,
            identity,
            credential,
            policy,
            limits: Limits::default(),
            sink,
            media: None,
            group: None,
            rekey_required: false,
        })
    }

    /// This device's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The caps on untrusted MLS input this session enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Replace the caps on untrusted MLS input (new sessions and restored ones start
    /// with [`Limits::default`]). Lower caps apply to the next message; proposals already
    /// pending stay.
    ///
    /// # Errors
    /// [`MlsError::InvalidConfig`] when `limits` fails [`Limits::validate`]; the old
    /// limits stay.
    pub fn set_limits(&mut self, limits: Limits) -> Result<()> {
        limits.validate()?;
        self.limits = limits;
        Ok(())
    }

    /// A fresh key package (TLS-encoded `MLSMessage`) others can use to add this device,
    /// for the default MLS ciphersuite of our identity's signature algorithm (0x0001 for
    /// Ed25519, 0x0002 for P-256). Its private keys stay in the session until a welcome
    /// consumes them.
    ///
    /// # Errors
    /// [`MlsError::Internal`] if the key store fails.
    pub fn key_package(&self) -> Result<Vec<u8>> {
        self.key_package_for(self.default_ciphersuite())
    }

    /// A fresh key package for the MLS ciphersuite `suite` (groups of another suite
    /// cannot add it).
    ///
    /// # Errors
    /// [`MlsError::CiphersuiteMismatch`] when `suite` needs another signature algorithm
    /// than our identity's; [`MlsError::Internal`] if the key store fails.
    pub fn key_package_for(&self, suite: MlsCiphersuite) -> Result<Vec<u8>> {
        self.check_suite(suite)?;
        let bundle = KeyPackage::builder()
            .leaf_node_capabilities(capabilities(self.signer.signature_scheme()))
            .build(
                suite.openmls(),
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .map_err(|_| MlsError::Internal("key package creation failed"))?;
        serialize(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    /// The first MLS ciphersuite our identity can sign for: the suite of
    /// [`key_package`](Self::key_package) and [`create_group`](Self::create_group).
    pub fn default_ciphersuite(&self) -> MlsCiphersuite {
        let scheme = self.signer.signature_scheme();
        MlsCiphersuite::ALL
            .into_iter()
            .find(|s| s.signature_scheme() == scheme)
            .unwrap_or_default()
    }

    fn check_suite(&self, suite: MlsCiphersuite) -> Result<()> {
        if suite.signature_scheme() != self.signer.signature_scheme() {
            return Err(MlsError::CiphersuiteMismatch);
        }
        Ok(())
    }

    fn admit(&self, credential: &MemberCredential, signature_key: &[u8]) -> Result<()> {
        let identity = credential.identity();
        let candidate = Candidate {
            identity: identity.as_ref(),
            credential,
            signature_key,
            fingerprint: fingerprint(signature_key),
        };
        self.policy
            .admit(&candidate)
            .map_err(|r| MlsError::AdmissionRefused { reason: r.0 })
    }

    /// Moves the group to `status` and tells the media ring its one effect.
    fn enter(&mut self, status: Status) {
        if let Some(g) = self.group.as_mut() {
            g.status = status;
        }
        if let Some(event) = status.media_event() {
            self.sink.apply(event);
        }
    }

    fn group(&self) -> Result<&Group> {
        self.group.as_ref().ok_or(MlsError::NoGroup)
    }

    /// Current epoch, if in a group.
    pub fn epoch(&self) -> Option<u64> {
        self.group.as_ref().map(|g| g.mls.epoch().as_u64())
    }

    /// Our leaf index, if an active member.
    pub fn own_leaf(&self) -> Option<u32> {
        self.group
            .as_ref()
            .filter(|g| g.status == Status::Active)
            .map(|g| g.mls.own_leaf_index().u32())
    }

    /// The group's parameters, if in a group.
    pub fn params(&self) -> Option<GroupParams> {
        self.group.as_ref().map(|g| g.params)
    }

    /// The MLS group id, if in a group.
    pub fn group_id(&self) -> Option<Vec<u8>> {
        self.group
            .as_ref()
            .map(|g| g.mls.group_id().as_slice().to_vec())
    }

    /// Whether we are an active member (not removed, not terminated).
    pub fn is_active(&self) -> bool {
        self.own_leaf().is_some()
    }

    /// All members by ascending leaf index.
    pub fn members(&self) -> Result<Vec<MemberInfo>> {
        let g = self.group()?;
        Ok(g.mls.members().map(|m| member_info(&m)).collect())
    }

    /// Members grouped by user (users ordered by their lowest leaf). A member whose
    /// credential is not an `mlsframe` identity is a user of its own.
    pub fn roster(&self) -> Result<Vec<RosterUser>> {
        let mut users: Vec<RosterUser> = Vec::new();
        for m in self.members()? {
            let Some(user_id) = m.identity.as_ref().map(|id| id.user_id.clone()) else {
                users.push(RosterUser {
                    user_id: m.credential.content.clone(),
                    devices: vec![m],
                });
                continue;
            };
            let same_user = |u: &&mut RosterUser| {
                u.user_id == user_id && u.devices.first().is_some_and(|d| d.identity.is_some())
            };
            match users.iter_mut().find(same_user) {
                Some(u) => u.devices.push(m),
                None => users.push(RosterUser {
                    user_id,
                    devices: vec![m],
                }),
            }
        }
        Ok(users)
    }

    /// Where the group's SFrame parameters come from, if in a group.
    pub fn params_source(&self) -> Option<ParamsSource> {
        self.group.as_ref().map(|g| g.params_source)
    }

    /// The group's MLS ciphersuite, if in a group.
    pub fn ciphersuite(&self) -> Option<MlsCiphersuite> {
        self.group
            .as_ref()
            .and_then(|g| MlsCiphersuite::from_openmls(g.mls.ciphersuite()))
    }

    /// The current ratchet tree (TLS-encoded `optional<Node> ratchet_tree<V>`, RFC 9420
    /// §12.4.3.3), for a joiner whose welcome lacks the `ratchet_tree` extension
    /// ([`JoinOptions::ratchet_tree`]). Public data: no secrets.
    ///
    /// # Errors
    /// [`MlsError::NoGroup`].
    pub fn ratchet_tree(&self) -> Result<Vec<u8>> {
        use openmls::prelude::tls_codec::Serialize as _;
        self.group()?
            .mls
            .export_ratchet_tree()
            .tls_serialize_detached()
            .map_err(|_| MlsError::Internal("ratchet tree serialization failed"))
    }

    /// The current epoch's epoch authenticator (RFC 9420 §8.7), for the application's
    /// own verification UI. Every member of the epoch holds the same value. It is derived
    /// from the key schedule: treat it as confidential (never log it); compare it
    /// through a hash or [`security_code`](Self::security_code) rather than in full.
    ///
    /// # Errors
    /// [`MlsError::NoGroup`], [`MlsError::NotMember`] once removed or terminated.
    pub fn epoch_authenticator(&self) -> Result<Zeroizing<Vec<u8>>> {
        let g = self.group()?;
        if g.status != Status::Active {
            return Err(MlsError::NotMember);
        }
        Ok(Zeroizing::new(
            g.mls.epoch_authenticator().as_slice().to_vec(),
        ))
    }

    /// An MLS exporter value of the current epoch (RFC 9420 §8.5):
    /// `MLS-Exporter(label, context, length)`. **Secret**: a key for whatever the
    /// application keys with it; choose a label of your own. (The label
    /// `"SFrame 1.0 Base Key"` with an empty context gives the SFrame base key of this
    /// epoch, which the media ring already holds.)
    ///
    /// # Errors
    /// [`MlsError::NoGroup`], [`MlsError::NotMember`] once removed or terminated,
    /// [`MlsError::InvalidConfig`] for a length of 0 or over 255 × the hash length.
    pub fn export_secret(
        &self,
        label: &str,
        context: &[u8],
        length: usize,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let g = self.group()?;
        if g.status != Status::Active {
            return Err(MlsError::NotMember);
        }
        if length == 0 || length > 255 * 32 {
            return Err(MlsError::InvalidConfig("exporter length out of range"));
        }
        g.mls
            .export_secret(self.provider.crypto(), label, context, length)
            .map(Zeroizing::new)
            .map_err(|_| MlsError::InvalidConfig("exporter length out of range"))
    }

    /// A 30-digit code (six groups of five digits) derived from the epoch
    /// authenticator. All members of an epoch see the same code; comparing it out of
    /// band detects a delivery service that split the group.
    pub fn security_code(&self) -> Result<String> {
        let g = self.group()?;
        if g.status != Status::Active {
            return Err(MlsError::NotMember);
        }
        let mut h = Sha256::new();
        h.update(SECURITY_CODE_LABEL);
        h.update(g.mls.epoch_authenticator().as_slice());
        let digest = h.finalize();
        let groups: Vec<String> = digest
            .chunks_exact(5)
            .take(6)
            .map(|c| {
                let n = c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                format!("{:05}", n % 100_000)
            })
            .collect();
        Ok(groups.join(" "))
    }

    #[cfg(test)]
    fn base_key(&self) -> Option<Vec<u8>> {
        let g = self.group.as_ref()?;
        g.mls
            .export_secret(
                self.provider.crypto(),
                BASE_KEY_LABEL,
                b"",
                g.params.key_len(),
            )
            .ok()
    }
}
