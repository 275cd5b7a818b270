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

use super::epoch_event::{EpochEvent, EpochSink};
use super::error::{MlsError, Result};
use super::identity::{Identity, MemberIdentity, fingerprint};
use super::media::{MediaConfig, MediaKeys};
use super::policy::{AdmissionPolicy, Candidate};
use storage::SessionProvider;

mod external;
mod incoming;
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
pub use params::{GroupParams, HandshakeFormat, PARAMS_EXTENSION_TYPE};

/// The only MLS ciphersuite this library speaks.
const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// RFC 9605 §5.2 exporter label.
const BASE_KEY_LABEL: &str = "SFrame 1.0 Base Key";

/// Domain separation for [`Session::security_code`].
const SECURITY_CODE_LABEL: &[u8] = b"mlsframe security code v1";

/// One leaf of the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// Leaf index in the ratchet tree (the SFrame sender index).
    pub leaf: u32,
    /// Who the leaf belongs to.
    pub identity: MemberIdentity,
    /// Fingerprint of the leaf's signature key.
    pub fingerprint: String,
}

/// All devices of one user in the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterUser {
    /// The user id.
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

fn capabilities() -> Capabilities {
    Capabilities::new(
        None,
        Some(&[CIPHERSUITE]),
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

fn identity_of(credential: &Credential) -> Result<MemberIdentity> {
    let basic =
        BasicCredential::try_from(credential.clone()).map_err(|_| MlsError::InvalidIdentity)?;
    MemberIdentity::decode(basic.identity())
}

fn member_info(m: &Member) -> Option<MemberInfo> {
    Some(MemberInfo {
        leaf: m.index.u32(),
        identity: identity_of(&m.credential).ok()?,
        fingerprint: fingerprint(&m.signature_key),
    })
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
        let signer = SignatureKeyPair::from_raw(
            SignatureScheme::ED25519,
            identity.seed().to_vec(),
            identity.public_key().to_vec(),
        );
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

    /// A fresh key package (TLS-encoded `MLSMessage`) others can use to add this device.
    /// Its private keys stay in the session until a welcome consumes them.
    pub fn key_package(&self) -> Result<Vec<u8>> {
        let bundle = KeyPackage::builder()
            .leaf_node_capabilities(capabilities())
            .build(
                CIPHERSUITE,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .map_err(|_| MlsError::Internal("key package creation failed"))?;
        serialize(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    fn admit(&self, identity: &MemberIdentity, signature_key: &[u8]) -> Result<()> {
        let candidate = Candidate {
            identity,
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
        Ok(g.mls.members().filter_map(|m| member_info(&m)).collect())
    }

    /// Members grouped by user (users ordered by their lowest leaf).
    pub fn roster(&self) -> Result<Vec<RosterUser>> {
        let mut users: Vec<RosterUser> = Vec::new();
        for m in self.members()? {
            match users.iter_mut().find(|u| u.user_id == m.identity.user_id) {
                Some(u) => u.devices.push(m),
                None => users.push(RosterUser {
                    user_id: m.identity.user_id.clone(),
                    devices: vec![m],
                }),
            }
        }
        Ok(users)
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
