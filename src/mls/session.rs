//! The MLS session: one device's membership in one MLS group (RFC 9420, via `openmls`).
//!
//! Owns key packages, group creation and joining, commits (add, remove, update, leave),
//! processing of incoming handshake messages into app-level [`Outcome`]s, the
//! group-wide SFrame parameters carried in the group context, the roster, the security
//! code, and the notification of a media key ring ([`EpochSink`]) about epoch changes
//! with the RFC 9605 §5.2 base key.

use core::fmt;
use std::collections::BTreeSet;
use std::sync::Arc;

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::{MlsError, Result};
mod persist;

use super::identity::{Identity, MemberIdentity, fingerprint};
use super::media::{MediaConfig, MediaKeys};
use super::policy::{AdmissionPolicy, Candidate};

/// The only MLS ciphersuite this library speaks.
const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// MLS extension type (private-use range) of the group context extension carrying
/// [`GroupParams`].
pub const PARAMS_EXTENSION_TYPE: u16 = 0xff00;

/// RFC 9605 §5.2 exporter label.
const BASE_KEY_LABEL: &str = "SFrame 1.0 Base Key";

/// Domain separation for [`Session::security_code`].
const SECURITY_CODE_LABEL: &[u8] = b"mlsframe security code v1";

/// How handshake messages (commits, proposals) are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeFormat {
    /// MLS `PublicMessage`: the delivery service can read the handshake.
    Plaintext,
    /// MLS `PrivateMessage`: handshakes are encrypted to the group.
    Ciphertext,
}

/// Group-wide parameters fixed by the creator and carried in the group context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupParams {
    /// SFrame cipher suite (RFC 9605 §4.5), 0x0001..=0x0005.
    pub sframe_suite: u16,
    /// E: number of low epoch bits in the KID (1..=16, default 4).
    pub epoch_bits: u8,
    /// Wire format of handshake messages.
    pub handshake: HandshakeFormat,
}

impl Default for GroupParams {
    /// AES-128-GCM (suite 4), E = 4, encrypted handshakes.
    fn default() -> Self {
        Self {
            sframe_suite: 0x0004,
            epoch_bits: 4,
            handshake: HandshakeFormat::Ciphertext,
        }
    }
}

impl GroupParams {
    /// Check the parameters are in range.
    pub fn validate(&self) -> Result<()> {
        if !(1..=5).contains(&self.sframe_suite) || !(1..=16).contains(&self.epoch_bits) {
            return Err(MlsError::InvalidParams);
        }
        Ok(())
    }

    /// Nk: the SFrame suite's key length, which is also the base key length.
    pub fn key_len(&self) -> usize {
        crate::sframe::CipherSuite::try_from(self.sframe_suite)
            .map_or(16, crate::sframe::CipherSuite::key_len)
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = self.sframe_suite.to_be_bytes().to_vec();
        out.push(self.epoch_bits);
        out.push(match self.handshake {
            HandshakeFormat::Plaintext => 0,
            HandshakeFormat::Ciphertext => 1,
        });
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let [s0, s1, epoch_bits, hs] = bytes else {
            return Err(MlsError::InvalidParams);
        };
        let handshake = match hs {
            0 => HandshakeFormat::Plaintext,
            1 => HandshakeFormat::Ciphertext,
            _ => return Err(MlsError::InvalidParams),
        };
        let params = Self {
            sframe_suite: u16::from_be_bytes([*s0, *s1]),
            epoch_bits: *epoch_bits,
            handshake,
        };
        params.validate()?;
        Ok(params)
    }

    fn wire_policy(&self) -> WireFormatPolicy {
        match self.handshake {
            HandshakeFormat::Plaintext => PURE_PLAINTEXT_WIRE_FORMAT_POLICY,
            HandshakeFormat::Ciphertext => PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
        }
    }

    fn join_config(&self) -> MlsGroupJoinConfig {
        MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(true)
            .wire_format_policy(self.wire_policy())
            .build()
    }
}

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
    /// ([`Session::commit_pending_proposals`]).
    ProposalsPending,
    /// We were removed from the group. Terminal.
    Removed,
    /// An incoming, sequenced commit violated the admission policy. Terminal: the group
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

/// Keys and layout of one epoch, handed to the media key ring.
pub(crate) struct EpochSecrets {
    /// MLS epoch number.
    pub epoch: u64,
    /// `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`.
    pub base_key: Zeroizing<Vec<u8>>,
    /// Occupied leaf indices, ascending.
    pub occupied_leaves: Vec<u32>,
    /// Our own leaf index, if we are a member in this epoch.
    pub own_leaf: Option<u32>,
    /// Whether the commit creating this epoch removed someone.
    pub removed_someone: bool,
    /// The group-wide parameters (SFrame suite, E).
    pub params: GroupParams,
    /// False for an epoch restored from a snapshot: its send counters are unknown, so
    /// nothing may be sealed until a self-update moves to a fresh epoch.
    pub may_send: bool,
}

impl fmt::Debug for EpochSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochSecrets")
            .field("epoch", &self.epoch)
            .field("occupied_leaves", &self.occupied_leaves)
            .field("own_leaf", &self.own_leaf)
            .field("removed_someone", &self.removed_someone)
            .finish_non_exhaustive()
    }
}

/// Receiver of epoch events (implemented by the media key ring).
pub(crate) trait EpochSink: Send + Sync {
    /// A commit was staged (incoming before merge, or our own pending one): install
    /// decrypt-only keys for `s.epoch`.
    fn stage(&self, s: EpochSecrets);
    /// The staged commit for `epoch` lost or was discarded: drop its keys.
    fn unstage(&self, epoch: u64);
    /// `s.epoch` is now the current epoch (also at create / join).
    fn activate(&self, s: EpochSecrets);
    /// We were removed from the group.
    fn removed(&self);
    /// A new group starts (create or join): forget every epoch of any earlier group.
    fn reset(&self) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Active,
    Removed,
    Terminated,
}

struct PendingOwn {
    commit: Vec<u8>,
    epoch: u64,
    /// A self-update: merging it gives a restored session fresh send keys.
    rekeys: bool,
}

struct Group {
    mls: MlsGroup,
    params: GroupParams,
    status: Status,
    pending: Option<PendingOwn>,
}

/// One device's MLS group membership. Drive it from one thread at a time.
pub struct Session {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    identity: Identity,
    credential: CredentialWithKey,
    policy: Arc<dyn AdmissionPolicy>,
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

fn map_process_error<E>(e: ProcessMessageError<E>) -> MlsError {
    match e {
        ProcessMessageError::ValidationError(ValidationError::WrongGroupId) => MlsError::WrongGroup,
        ProcessMessageError::ValidationError(ValidationError::WrongEpoch) => MlsError::WrongEpoch,
        ProcessMessageError::IncompatibleWireFormat => MlsError::WireFormatNotAllowed,
        ProcessMessageError::LibraryError(_) | ProcessMessageError::StorageError(_) => {
            MlsError::Internal("MLS processing failed internally")
        }
        _ => MlsError::Rejected,
    }
}

/// Leaves occupied after removing `removed` and adding `added` members, following
/// RFC 9420 §12.1.1 (each add takes the leftmost blank leaf, else extends the tree).
fn predict_leaves(
    current: impl Iterator<Item = u32>,
    removed: &BTreeSet<u32>,
    added: usize,
) -> Vec<u32> {
    let mut occupied: BTreeSet<u32> = current.filter(|l| !removed.contains(l)).collect();
    let mut next = 0u32;
    for _ in 0..added {
        while occupied.contains(&next) {
            next += 1;
        }
        occupied.insert(next);
    }
    occupied.into_iter().collect()
}

impl Drop for Session {
    /// A dropped session can no longer follow the group: its encryptors stop (NOT_MEMBER)
    /// and its decryptors keep only the short post-removal retention.
    fn drop(&mut self) {
        if self.group.is_some() {
            self.sink.removed();
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
        let provider = OpenMlsRustCrypto::default();
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

    fn ensure_no_active_group(&self) -> Result<()> {
        match &self.group {
            Some(g) if g.status == Status::Active => Err(MlsError::AlreadyInGroup),
            _ => Ok(()),
        }
    }

    /// Create a new group with this device as its only member (epoch 0).
    pub fn create_group(&mut self, params: GroupParams) -> Result<()> {
        self.ensure_no_active_group()?;
        params.validate()?;
        let gce = Extensions::<GroupContext>::from_vec(vec![
            Extension::Unknown(PARAMS_EXTENSION_TYPE, UnknownExtension(params.encode())),
            Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
                &[ExtensionType::Unknown(PARAMS_EXTENSION_TYPE)],
                &[],
                &[CredentialType::Basic],
            )),
        ])
        .map_err(|_| MlsError::Internal("group context extensions rejected"))?;
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(CIPHERSUITE)
            .use_ratchet_tree_extension(true)
            .wire_format_policy(params.wire_policy())
            .capabilities(capabilities())
            .with_group_context_extensions(gce)
            .build();
        let mls = MlsGroup::new(
            &self.provider,
            &self.signer,
            &config,
            self.credential.clone(),
        )
        .map_err(|_| MlsError::Internal("group creation failed"))?;
        let secrets = self.current_secrets(&mls, params, false)?;
        self.group = Some(Group {
            mls,
            params,
            status: Status::Active,
            pending: None,
        });
        self.sink.reset();
        self.sink.activate(secrets);
        Ok(())
    }

    /// Join a group from a welcome (TLS-encoded `MLSMessage`). The group parameters
    /// come from the group context; every existing member is vetted by the admission
    /// policy. Returns the epoch joined.
    pub fn join(&mut self, welcome: &[u8]) -> Result<u64> {
        self.ensure_no_active_group()?;
        let MlsMessageBodyIn::Welcome(welcome) = parse(welcome)?.extract() else {
            return Err(MlsError::UnexpectedMessageType);
        };
        let staged = StagedWelcome::new_from_welcome(
            &self.provider,
            &GroupParams::default().join_config(),
            welcome,
            None,
        )
        .map_err(|_| MlsError::InvalidWelcome)?;
        let params = staged
            .group_context()
            .extensions()
            .unknown(PARAMS_EXTENSION_TYPE)
            .ok_or(MlsError::InvalidWelcome)
            .and_then(|ext| GroupParams::decode(&ext.0))?;
        let own = staged.own_leaf_index();
        for m in staged.members().filter(|m| m.index != own) {
            let identity = identity_of(&m.credential)?;
            self.admit(&identity, &m.signature_key)?;
        }
        let mut mls = staged
            .into_group(&self.provider)
            .map_err(|_| MlsError::InvalidWelcome)?;
        mls.set_configuration(self.provider.storage(), &params.join_config())
            .map_err(|_| MlsError::Internal("storage failed"))?;
        let secrets = self.current_secrets(&mls, params, false)?;
        let epoch = secrets.epoch;
        self.group = Some(Group {
            mls,
            params,
            status: Status::Active,
            pending: None,
        });
        self.sink.reset();
        self.sink.activate(secrets);
        Ok(epoch)
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

    fn group(&self) -> Result<&Group> {
        self.group.as_ref().ok_or(MlsError::NoGroup)
    }

    fn current_secrets(
        &self,
        mls: &MlsGroup,
        params: GroupParams,
        removed_someone: bool,
    ) -> Result<EpochSecrets> {
        let base_key = mls
            .export_secret(
                self.provider.crypto(),
                BASE_KEY_LABEL,
                b"",
                params.key_len(),
            )
            .map_err(|_| MlsError::Internal("exporter failed"))?;
        Ok(EpochSecrets {
            epoch: mls.epoch().as_u64(),
            base_key: Zeroizing::new(base_key),
            occupied_leaves: mls.members().map(|m| m.index.u32()).collect(),
            own_leaf: Some(mls.own_leaf_index().u32()),
            removed_someone,
            params,
            may_send: !self.rekey_required,
        })
    }

    fn staged_secrets(
        &self,
        mls: &MlsGroup,
        params: GroupParams,
        sc: &StagedCommit,
    ) -> Result<EpochSecrets> {
        let base_key = sc
            .export_secret(
                self.provider.crypto(),
                BASE_KEY_LABEL,
                b"",
                params.key_len(),
            )
            .map_err(|_| MlsError::Internal("exporter failed"))?;
        let removed: BTreeSet<u32> = sc
            .remove_proposals()
            .map(|r| r.remove_proposal().removed().u32())
            .collect();
        Ok(EpochSecrets {
            epoch: sc.epoch().as_u64(),
            base_key: Zeroizing::new(base_key),
            occupied_leaves: predict_leaves(
                mls.members().map(|m| m.index.u32()),
                &removed,
                sc.add_proposals().count(),
            ),
            own_leaf: Some(mls.own_leaf_index().u32()),
            removed_someone: !removed.is_empty(),
            params,
            may_send: !self.rekey_required,
        })
    }

    /// Stage the commit `openmls` just created: remember it and tell the sink.
    fn finish_own_commit(
        &mut self,
        commit: &MlsMessageOut,
        welcome: Option<&MlsMessageOut>,
    ) -> Result<CommitOutput> {
        let out = (|| {
            let g = self.group()?;
            let sc = g
                .mls
                .pending_commit()
                .ok_or(MlsError::Internal("commit not staged"))?;
            let secrets = self.staged_secrets(&g.mls, g.params, sc)?;
            let commit = serialize(commit)?;
            let welcome = welcome.map(serialize).transpose()?;
            Ok((
                secrets,
                CommitOutput {
                    commit,
                    welcome,
                    epoch: sc.epoch().as_u64(),
                },
            ))
        })();
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        match out {
            Ok((secrets, output)) => {
                g.pending = Some(PendingOwn {
                    commit: output.commit.clone(),
                    epoch: output.epoch,
                    rekeys: false,
                });
                self.sink.stage(secrets);
                Ok(output)
            }
            Err(e) => {
                g.mls
                    .clear_pending_commit(self.provider.storage())
                    .map_err(|_| MlsError::Internal("storage failed"))?;
                Err(e)
            }
        }
    }

    /// Add devices by their key packages (TLS-encoded `MLSMessage`s), all in one commit.
    /// Every credential is vetted by the admission policy first; a refusal is an error
    /// and changes nothing.
    pub fn add_members(&mut self, key_packages: &[&[u8]]) -> Result<CommitOutput> {
        if key_packages.is_empty() {
            return Err(MlsError::EmptyInput);
        }
        operational(&mut self.group)?;
        let mut kps = Vec::with_capacity(key_packages.len());
        let mut seen: BTreeSet<MemberIdentity> =
            self.members()?.into_iter().map(|m| m.identity).collect();
        for bytes in key_packages {
            let MlsMessageBodyIn::KeyPackage(kp) = parse(bytes)?.extract() else {
                return Err(MlsError::UnexpectedMessageType);
            };
            let kp = kp
                .validate(self.provider.crypto(), ProtocolVersion::Mls10)
                .map_err(|_| MlsError::InvalidKeyPackage)?;
            if kp.ciphersuite() != CIPHERSUITE {
                return Err(MlsError::InvalidKeyPackage);
            }
            let leaf = kp.leaf_node();
            let identity = identity_of(leaf.credential())?;
            if !seen.insert(identity.clone()) {
                return Err(MlsError::DuplicateMember);
            }
            self.admit(&identity, leaf.signature_key().as_slice())?;
            kps.push(kp);
        }
        let g = operational(&mut self.group)?;
        let (commit, welcome, _) = g
            .mls
            .add_members(&self.provider, &self.signer, &kps)
            .map_err(|e| match e {
                AddMembersError::CreateCommitError(_) => MlsError::InvalidKeyPackage,
                AddMembersError::GroupStateError(_) => MlsError::CommitPending,
                _ => MlsError::Internal("add failed"),
            })?;
        self.finish_own_commit(&commit, Some(&welcome))
    }

    /// Remove the members at the given leaf indices, in one commit.
    pub fn remove_members(&mut self, leaves: &[u32]) -> Result<CommitOutput> {
        if leaves.is_empty() {
            return Err(MlsError::EmptyInput);
        }
        let g = operational(&mut self.group)?;
        let own = g.mls.own_leaf_index().u32();
        let occupied: BTreeSet<u32> = g.mls.members().map(|m| m.index.u32()).collect();
        let targets: BTreeSet<u32> = leaves.iter().copied().collect();
        if targets.contains(&own) {
            return Err(MlsError::CannotRemoveSelf);
        }
        if !targets.is_subset(&occupied) {
            return Err(MlsError::UnknownMember);
        }
        let targets: Vec<LeafNodeIndex> = targets.into_iter().map(LeafNodeIndex::new).collect();
        let (commit, welcome, _) = g
            .mls
            .remove_members(&self.provider, &self.signer, &targets)
            .map_err(|_| MlsError::Internal("remove failed"))?;
        self.finish_own_commit(&commit, welcome.as_ref())
    }

    /// Remove every device of `user_id`, in one commit.
    pub fn remove_user(&mut self, user_id: &[u8]) -> Result<CommitOutput> {
        operational(&mut self.group)?;
        let leaves: Vec<u32> = self
            .members()?
            .into_iter()
            .filter(|m| m.identity.user_id == user_id)
            .map(|m| m.leaf)
            .collect();
        if leaves.is_empty() {
            return Err(MlsError::UnknownMember);
        }
        self.remove_members(&leaves)
    }

    /// Commit a fresh leaf key for this device (post-compromise security; also required
    /// after restoring a session before sending media). Covers pending proposals.
    pub fn self_update(&mut self) -> Result<CommitOutput> {
        let g = operational(&mut self.group)?;
        let (commit, welcome, _) = g
            .mls
            .self_update(&self.provider, &self.signer, LeafNodeParameters::default())
            .map_err(|_| MlsError::Internal("self update failed"))?
            .into_messages();
        let out = self.finish_own_commit(&commit, welcome.as_ref())?;
        if let Some(p) = self.group.as_mut().and_then(|g| g.pending.as_mut()) {
            p.rekeys = true;
        }
        Ok(out)
    }

    /// Ask to leave: returns a Remove proposal (TLS-encoded `MLSMessage`) for the group.
    /// Another member commits it; we learn of it as [`Outcome::Removed`].
    pub fn leave(&mut self) -> Result<Vec<u8>> {
        let g = operational(&mut self.group)?;
        let proposal = g
            .mls
            .leave_group(&self.provider, &self.signer)
            .map_err(|_| MlsError::Internal("leave failed"))?;
        serialize(&proposal)
    }

    /// Commit all stored proposals (e.g. another member's leave).
    pub fn commit_pending_proposals(&mut self) -> Result<CommitOutput> {
        let g = operational(&mut self.group)?;
        if !g.mls.has_pending_proposals() {
            return Err(MlsError::EmptyInput);
        }
        let own = g.mls.own_leaf_index();
        let removes_self = g
            .mls
            .pending_proposals()
            .any(|p| matches!(p.proposal(), Proposal::Remove(r) if r.removed() == own));
        if removes_self {
            return Err(MlsError::CannotRemoveSelf);
        }
        let (commit, welcome, _) = g
            .mls
            .commit_to_pending_proposals(&self.provider, &self.signer)
            .map_err(|_| MlsError::Internal("commit failed"))?;
        self.finish_own_commit(&commit, welcome.as_ref())
    }

    /// Whether a commit of ours awaits confirmation.
    pub fn has_pending_commit(&self) -> bool {
        self.group.as_ref().is_some_and(|g| g.pending.is_some())
    }

    /// The delivery service accepted our pending commit: merge it and activate its epoch.
    pub fn confirm_own_commit(&mut self) -> Result<Outcome> {
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        if g.pending.is_none() {
            return Err(MlsError::NoPendingCommit);
        }
        let sc = g.mls.pending_commit().ok_or(MlsError::NoPendingCommit)?;
        let (removed, added_keys) = commit_changes(&g.mls, sc);
        g.mls
            .merge_pending_commit(&self.provider)
            .map_err(|_| MlsError::Internal("merge failed"))?;
        if g.pending.take().is_some_and(|p| p.rekeys) {
            self.rekey_required = false;
        }
        self.after_merge(removed, added_keys)
    }

    /// Our pending commit lost (another commit was sequenced first and we will process
    /// it) or was refused: drop it and its staged keys.
    pub fn discard_pending_commit(&mut self) -> Result<()> {
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        let pending = g.pending.take().ok_or(MlsError::NoPendingCommit)?;
        g.mls
            .clear_pending_commit(self.provider.storage())
            .map_err(|_| MlsError::Internal("storage failed"))?;
        self.sink.unstage(pending.epoch);
        Ok(())
    }

    fn after_merge(
        &mut self,
        removed: Vec<MemberInfo>,
        added_keys: Vec<Vec<u8>>,
    ) -> Result<Outcome> {
        let g = self.group()?;
        let secrets = self.current_secrets(&g.mls, g.params, !removed.is_empty())?;
        let epoch = secrets.epoch;
        let added = g
            .mls
            .members()
            .filter(|m| added_keys.contains(&m.signature_key))
            .filter_map(|m| member_info(&m))
            .collect();
        self.sink.activate(secrets);
        Ok(Outcome::EpochChanged {
            epoch,
            added,
            removed,
        })
    }

    /// Process an incoming handshake message (TLS-encoded `MLSMessage`) from the
    /// delivery service. Errors leave the group state unchanged.
    pub fn process(&mut self, message: &[u8]) -> Result<Outcome> {
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        match g.status {
            Status::Removed => return Err(MlsError::NotMember),
            Status::Terminated => return Err(MlsError::Terminated),
            Status::Active => {}
        }
        if g.pending.as_ref().is_some_and(|p| p.commit == message) {
            return self.confirm_own_commit();
        }
        let protocol = parse(message)?
            .try_into_protocol_message()
            .map_err(|_| MlsError::UnexpectedMessageType)?;
        let processed = g
            .mls
            .process_message(&self.provider, protocol)
            .map_err(map_process_error)?;
        let sender = processed.sender().clone();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(_) => Ok(Outcome::ApplicationIgnored),
            ProcessedMessageContent::ProposalMessage(qp) => {
                match qp.proposal() {
                    Proposal::Add(add) => {
                        let leaf = add.key_package().leaf_node();
                        let identity = identity_of(leaf.credential())?;
                        self.admit(&identity, leaf.signature_key().as_slice())?;
                    }
                    Proposal::Remove(_) | Proposal::Update(_) => {}
                    _ => return Err(MlsError::Rejected),
                }
                let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
                g.mls
                    .store_pending_proposal(self.provider.storage(), *qp)
                    .map_err(|_| MlsError::Internal("storage failed"))?;
                Ok(Outcome::ProposalsPending)
            }
            ProcessedMessageContent::StagedCommitMessage(sc) => self.handle_commit(&sender, *sc),
            ProcessedMessageContent::OwnPendingCommit => self.confirm_own_commit(),
            ProcessedMessageContent::OwnPrivateMessage => Ok(Outcome::OwnMessageIgnored),
            _ => Err(MlsError::Rejected),
        }
    }

    /// Check an incoming commit against the admission policy and identity rules.
    fn check_commit(
        &self,
        mls: &MlsGroup,
        sender: &Sender,
        sc: &StagedCommit,
    ) -> core::result::Result<(), String> {
        for p in sc.queued_proposals() {
            if !matches!(
                p.proposal(),
                Proposal::Add(_) | Proposal::Remove(_) | Proposal::Update(_)
            ) {
                return Err("commit carries an unsupported proposal type".into());
            }
        }
        for add in sc.add_proposals() {
            let leaf = add.add_proposal().key_package().leaf_node();
            let identity = identity_of(leaf.credential())
                .map_err(|_| "added member has an invalid identity".to_string())?;
            self.admit(&identity, leaf.signature_key().as_slice())
                .map_err(|e| match e {
                    MlsError::AdmissionRefused { reason } => reason,
                    other => other.to_string(),
                })?;
        }
        // A member may rotate keys but never change who it claims to be.
        let same_identity = |leaf: LeafNodeIndex, credential: &Credential| {
            let old = mls
                .members()
                .find(|m| m.index == leaf)
                .and_then(|m| identity_of(&m.credential).ok());
            old.is_some() && old == identity_of(credential).ok()
        };
        if let Some(path_leaf) = sc.update_path_leaf_node() {
            let Sender::Member(leaf) = sender else {
                return Err("commit from a non-member".into());
            };
            if !same_identity(*leaf, path_leaf.credential()) {
                return Err("committer changed its identity".into());
            }
        }
        for up in sc.update_proposals() {
            let Sender::Member(leaf) = up.sender() else {
                return Err("update from a non-member".into());
            };
            if !same_identity(*leaf, up.update_proposal().leaf_node().credential()) {
                return Err("member changed its identity".into());
            }
        }
        Ok(())
    }

    fn handle_commit(&mut self, sender: &Sender, sc: StagedCommit) -> Result<Outcome> {
        let g = self.group.as_ref().ok_or(MlsError::NoGroup)?;
        let lost_pending = g.pending.as_ref().map(|p| p.epoch);
        if sc.self_removed() {
            let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
            g.mls
                .merge_staged_commit(&self.provider, sc)
                .map_err(|_| MlsError::Internal("merge failed"))?;
            g.status = Status::Removed;
            g.pending = None;
            if let Some(epoch) = lost_pending {
                self.sink.unstage(epoch);
            }
            self.sink.removed();
            return Ok(Outcome::Removed);
        }
        if let Err(reason) = self.check_commit(&g.mls, sender, &sc) {
            let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
            g.status = Status::Terminated;
            if g.pending.take().is_some() {
                g.mls
                    .clear_pending_commit(self.provider.storage())
                    .map_err(|_| MlsError::Internal("storage failed"))?;
            }
            if let Some(epoch) = lost_pending {
                self.sink.unstage(epoch);
            }
            // Terminal: we cannot follow the group any more, so media stops as hard as
            // after a removal (no sealing, short retention for receiving).
            self.sink.removed();
            return Ok(Outcome::PolicyViolation { reason });
        }
        let secrets = self.staged_secrets(&g.mls, g.params, &sc)?;
        let (removed, added_keys) = commit_changes(&g.mls, &sc);
        let new_epoch = secrets.epoch;
        if let Some(epoch) = lost_pending {
            self.sink.unstage(epoch);
        }
        self.sink.stage(secrets);
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        g.pending = None;
        if g.mls.merge_staged_commit(&self.provider, sc).is_err() {
            self.sink.unstage(new_epoch);
            return Err(MlsError::Internal("merge failed"));
        }
        self.after_merge(removed, added_keys)
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

/// Members a commit removes (resolved against the current tree) and the signature keys
/// of those it adds.
fn commit_changes(mls: &MlsGroup, sc: &StagedCommit) -> (Vec<MemberInfo>, Vec<Vec<u8>>) {
    let removed_leaves: BTreeSet<LeafNodeIndex> = sc
        .remove_proposals()
        .map(|r| r.remove_proposal().removed())
        .collect();
    let removed = mls
        .members()
        .filter(|m| removed_leaves.contains(&m.index))
        .filter_map(|m| member_info(&m))
        .collect();
    let added = sc
        .add_proposals()
        .map(|a| {
            a.add_proposal()
                .key_package()
                .leaf_node()
                .signature_key()
                .as_slice()
                .to_vec()
        })
        .collect();
    (removed, added)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::mls::policy::{AdmitAll, Refusal};

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Ev {
        Stage(u64, Vec<u32>, Vec<u8>),
        Unstage(u64),
        Activate(u64, Vec<u32>, Vec<u8>, bool),
        Removed,
    }

    #[derive(Default)]
    struct Rec(Mutex<Vec<Ev>>);

    impl Rec {
        fn events(&self) -> Vec<Ev> {
            self.0.lock().expect("lock").clone()
        }
        fn take(&self) -> Vec<Ev> {
            std::mem::take(&mut *self.0.lock().expect("lock"))
        }
    }

    impl EpochSink for Rec {
        fn stage(&self, s: EpochSecrets) {
            self.0.lock().expect("lock").push(Ev::Stage(
                s.epoch,
                s.occupied_leaves,
                s.base_key.to_vec(),
            ));
        }
        fn unstage(&self, epoch: u64) {
            self.0.lock().expect("lock").push(Ev::Unstage(epoch));
        }
        fn activate(&self, s: EpochSecrets) {
            self.0.lock().expect("lock").push(Ev::Activate(
                s.epoch,
                s.occupied_leaves,
                s.base_key.to_vec(),
                s.removed_someone,
            ));
        }
        fn removed(&self) {
            self.0.lock().expect("lock").push(Ev::Removed);
        }
    }

    fn session_with(
        user: &str,
        device: &str,
        policy: Arc<dyn AdmissionPolicy>,
    ) -> (Session, Arc<Rec>) {
        let id = MemberIdentity::new(user.as_bytes().to_vec(), device.as_bytes().to_vec())
            .expect("valid id");
        let rec = Arc::new(Rec::default());
        let s = Session::with_sink(Identity::generate(id).expect("rng"), policy, rec.clone())
            .expect("session");
        (s, rec)
    }

    fn session(user: &str, device: &str) -> (Session, Arc<Rec>) {
        session_with(user, device, Arc::new(AdmitAll))
    }

    /// alice creates; bob/laptop, carol/desk, bob/phone join in one commit.
    fn group_of_four(params: GroupParams) -> Vec<(Session, Arc<Rec>)> {
        let mut a = session("alice", "phone");
        let others = vec![
            session("bob", "laptop"),
            session("carol", "desk"),
            session("bob", "phone"),
        ];
        a.0.create_group(params).expect("create");
        let kps: Vec<Vec<u8>> = others
            .iter()
            .map(|(s, _)| s.key_package().expect("kp"))
            .collect();
        let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
        let out = a.0.add_members(&refs).expect("add");
        assert_eq!(out.epoch, 1);
        // The delivery service echoes the commit back to its sender.
        match a.0.process(&out.commit).expect("echo") {
            Outcome::EpochChanged {
                epoch,
                added,
                removed,
            } => {
                assert_eq!(epoch, 1);
                assert_eq!(added.len(), 3);
                assert!(removed.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
        let welcome = out.welcome.expect("welcome");
        let mut all = vec![a];
        for mut m in others {
            assert_eq!(m.0.join(&welcome).expect("join"), 1);
            assert_eq!(m.0.params(), Some(params));
            all.push(m);
        }
        all
    }

    fn assert_same_keys(members: &[&(Session, Arc<Rec>)]) {
        let key = members[0].0.base_key().expect("key");
        let code = members[0].0.security_code().expect("code");
        let epoch = members[0].0.epoch();
        for (s, _) in members {
            assert_eq!(s.epoch(), epoch);
            assert_eq!(s.base_key().expect("key"), key);
            assert_eq!(s.security_code().expect("code"), code);
        }
    }

    fn snapshot(s: &Session) -> (Option<u64>, Vec<MemberInfo>, Option<Vec<u8>>, String) {
        (
            s.epoch(),
            s.members().expect("members"),
            s.base_key(),
            s.security_code().expect("code"),
        )
    }

    #[test]
    fn members_share_keys_and_codes_per_epoch() {
        let mut g = group_of_four(GroupParams::default());
        assert_same_keys(&g.iter().collect::<Vec<_>>());
        let code1 = g[0].0.security_code().expect("code");
        let groups: Vec<&str> = code1.split(' ').collect();
        assert_eq!(groups.len(), 6);
        assert!(
            groups
                .iter()
                .all(|d| d.len() == 5 && d.bytes().all(|b| b.is_ascii_digit()))
        );
        // Creator's sink: activate 0, stage 1 with the same key and leaves as activate 1.
        let ev = g[0].1.events();
        let Ev::Stage(1, staged_leaves, staged_key) = &ev[1] else {
            panic!("{ev:?}")
        };
        let Ev::Activate(1, leaves, key, false) = &ev[2] else {
            panic!("{ev:?}")
        };
        assert_eq!((staged_leaves, staged_key), (leaves, key));
        assert_eq!(leaves, &vec![0, 1, 2, 3]);
        assert_eq!(key.len(), 16);
        // A joiner's sink activates the same epoch key.
        assert_eq!(
            g[1].1.events(),
            vec![Ev::Activate(1, vec![0, 1, 2, 3], key.clone(), false)]
        );

        // bob/laptop self-updates; everyone moves to epoch 2 with a new key and code.
        let out = g[1].0.self_update().expect("update");
        for i in [1, 0, 2, 3] {
            assert!(matches!(
                g[i].0.process(&out.commit).expect("process"),
                Outcome::EpochChanged { epoch: 2, .. }
            ));
        }
        assert_same_keys(&g.iter().collect::<Vec<_>>());
        assert_ne!(g[0].0.security_code().expect("code"), code1);
        assert_ne!(g[0].0.base_key(), Some(key.clone()));

        // Roster groups bob's two devices.
        let roster = g[2].0.roster().expect("roster");
        assert_eq!(roster.len(), 3);
        assert_eq!(roster[1].user_id, b"bob");
        assert_eq!(
            roster[1].devices.iter().map(|d| d.leaf).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(
            roster[1].devices[0].fingerprint,
            g[1].0.identity().fingerprint()
        );
    }

    #[test]
    fn suite_5_exports_32_byte_keys_and_plaintext_handshakes_work() {
        let params = GroupParams {
            sframe_suite: 5,
            epoch_bits: 3,
            handshake: HandshakeFormat::Plaintext,
        };
        let mut g = group_of_four(params);
        assert_eq!(g[3].0.base_key().expect("key").len(), 32);
        let out = g[2].0.self_update().expect("update");
        for i in [2, 0, 1, 3] {
            assert!(matches!(
                g[i].0.process(&out.commit).expect("process"),
                Outcome::EpochChanged { epoch: 2, .. }
            ));
        }
        assert_same_keys(&g.iter().collect::<Vec<_>>());
    }

    #[test]
    fn invalid_input_is_an_error_and_changes_nothing() {
        let mut g = group_of_four(GroupParams::default());
        let out = g[1].0.self_update().expect("update");
        for i in [1, 0, 2, 3] {
            g[i].0.process(&out.commit).expect("process");
        }
        let before = snapshot(&g[0].0);

        let mut other = session("mallory", "x");
        other
            .0
            .create_group(GroupParams::default())
            .expect("create");
        let foreign = other.0.self_update().expect("update").commit;
        let kp = g[2].0.key_package().expect("kp");
        let truncated = &out.commit[..out.commit.len() / 2];

        assert_eq!(g[0].0.process(&[]), Err(MlsError::Malformed));
        assert_eq!(
            g[0].0.process(&[0xde, 0xad, 0xbe, 0xef]),
            Err(MlsError::Malformed)
        );
        assert_eq!(g[0].0.process(truncated), Err(MlsError::Malformed));
        assert_eq!(g[0].0.process(&out.commit), Err(MlsError::WrongEpoch)); // replay
        assert_eq!(g[0].0.process(&foreign), Err(MlsError::WrongGroup));
        assert_eq!(g[0].0.process(&kp), Err(MlsError::UnexpectedMessageType));
        assert!(g[0].0.join(&out.commit).is_err());
        assert!(g[0].0.add_members(&[&[1, 2, 3]]).is_err());
        assert_eq!(g[0].0.remove_members(&[9]), Err(MlsError::UnknownMember));
        assert_eq!(g[0].0.remove_members(&[0]), Err(MlsError::CannotRemoveSelf));
        assert_eq!(g[0].0.remove_user(b"nobody"), Err(MlsError::UnknownMember));
        assert!(!g[0].0.has_pending_commit());
        assert_eq!(snapshot(&g[0].0), before);

        // A tampered commit for the current epoch is rejected too, and the group still works.
        let next = g[2].0.self_update().expect("update");
        let mut bad = next.commit.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        assert!(g[0].0.process(&bad).is_err());
        assert_eq!(snapshot(&g[0].0), before);
        assert!(matches!(
            g[0].0.process(&next.commit),
            Ok(Outcome::EpochChanged { epoch: 3, .. })
        ));
    }

    #[test]
    fn competing_commits_resolve_by_delivery_order() {
        let mut g = group_of_four(GroupParams::default());
        for (_, r) in &g {
            r.take();
        }
        let from_bob = g[1].0.self_update().expect("bob update");
        let from_carol = g[2]
            .0
            .add_members(&[&session("dave", "d").0.key_package().expect("kp")])
            .expect("carol add");
        assert!(g[2].0.has_pending_commit());
        // The delivery service sequenced bob's commit first.
        for i in [0, 1, 2, 3] {
            assert!(matches!(
                g[i].0.process(&from_bob.commit).expect("winner"),
                Outcome::EpochChanged { epoch: 2, .. }
            ));
        }
        assert!(!g[2].0.has_pending_commit());
        let ev = g[2].1.events();
        assert_eq!(ev[0], Ev::Stage(2, vec![0, 1, 2, 3, 4], ev_key(&ev[0])));
        assert_eq!(ev[1], Ev::Unstage(2));
        assert!(matches!(ev[3], Ev::Activate(2, _, _, false)));
        // The loser's commit arrives late and is refused by everyone.
        for i in [0, 1, 3] {
            assert_eq!(
                g[i].0.process(&from_carol.commit),
                Err(MlsError::WrongEpoch)
            );
        }
        assert_same_keys(&g.iter().collect::<Vec<_>>());
        // Discarding a pending commit explicitly also works.
        let out = g[3].0.self_update().expect("update");
        g[3].0.discard_pending_commit().expect("discard");
        assert_eq!(g[3].1.events().last(), Some(&Ev::Unstage(out.epoch)));
        assert_eq!(g[3].0.confirm_own_commit(), Err(MlsError::NoPendingCommit));
    }

    fn ev_key(e: &Ev) -> Vec<u8> {
        match e {
            Ev::Stage(_, _, k) | Ev::Activate(_, _, k, _) => k.clone(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn remove_user_removes_all_devices() {
        let mut g = group_of_four(GroupParams::default());
        let out = g[0].0.remove_user(b"bob").expect("remove bob");
        g[0].0.confirm_own_commit().expect("confirm");
        match g[2].0.process(&out.commit).expect("carol") {
            Outcome::EpochChanged {
                epoch: 2,
                added,
                removed,
            } => {
                assert!(added.is_empty());
                assert_eq!(
                    removed.iter().map(|m| m.leaf).collect::<Vec<_>>(),
                    vec![1, 3]
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        for i in [1, 3] {
            assert_eq!(g[i].0.process(&out.commit), Ok(Outcome::Removed));
            assert_eq!(g[i].1.events().last(), Some(&Ev::Removed));
            assert!(!g[i].0.is_active());
            assert_eq!(g[i].0.self_update(), Err(MlsError::NotMember));
        }
        assert!(
            matches!(g[0].1.events().last(), Some(Ev::Activate(2, leaves, _, true)) if leaves == &vec![0, 2])
        );
        assert_same_keys(&[&g[0], &g[2]]);
        assert_eq!(g[0].0.roster().expect("roster").len(), 2);
    }

    #[test]
    fn leave_flow() {
        let mut g = group_of_four(GroupParams::default());
        let proposal = g[2].0.leave().expect("leave");
        assert_eq!(g[2].0.process(&proposal), Ok(Outcome::OwnMessageIgnored));
        for i in [0, 1, 3] {
            assert_eq!(g[i].0.process(&proposal), Ok(Outcome::ProposalsPending));
        }
        let out = g[1].0.commit_pending_proposals().expect("commit leave");
        g[1].0.process(&out.commit).expect("echo");
        for i in [0, 3] {
            assert!(matches!(
                g[i].0.process(&out.commit).expect("process"),
                Outcome::EpochChanged { epoch: 2, ref removed, .. } if removed.len() == 1 && removed[0].identity.user_id == b"carol"
            ));
        }
        assert_eq!(g[2].0.process(&out.commit), Ok(Outcome::Removed));
        assert_eq!(g[2].0.process(&out.commit), Err(MlsError::NotMember));
        assert_same_keys(&[&g[0], &g[1], &g[3]]);
    }

    #[test]
    fn admission_policy_refuses_own_adds_and_flags_incoming() {
        let no_mallory: Arc<dyn AdmissionPolicy> = Arc::new(|c: &Candidate<'_>| {
            if c.identity.user_id == b"mallory" {
                Err(Refusal("mallory is banned".into()))
            } else {
                Ok(())
            }
        });
        let (mut alice, _) = session_with("alice", "a", no_mallory.clone());
        let (mut bob, _) = session_with("bob", "b", no_mallory);
        let (mut carol, _) = session("carol", "c");
        let (mallory, _) = session("mallory", "m");
        carol.create_group(GroupParams::default()).expect("create");
        let kps = [
            alice.key_package().expect("kp"),
            bob.key_package().expect("kp"),
        ];
        let out = carol.add_members(&[&kps[0], &kps[1]]).expect("add");
        carol.confirm_own_commit().expect("confirm");
        let w = out.welcome.expect("welcome");
        alice.join(&w).expect("join");
        bob.join(&w).expect("join");
        // Own commit: refused, nothing changes.
        let before = snapshot(&alice);
        let mkp = mallory.key_package().expect("kp");
        assert_eq!(
            alice.add_members(&[&mkp]),
            Err(MlsError::AdmissionRefused {
                reason: "mallory is banned".into()
            })
        );
        assert!(!alice.has_pending_commit());
        assert_eq!(snapshot(&alice), before);
        // Duplicate device refused.
        assert_eq!(
            alice.add_members(&[&kps[1]]),
            Err(MlsError::DuplicateMember)
        );
        // Incoming sequenced commit adding mallory: terminal violation for bob.
        let out = carol.add_members(&[&mkp]).expect("carol adds mallory");
        assert_eq!(
            bob.process(&out.commit),
            Ok(Outcome::PolicyViolation {
                reason: "mallory is banned".into()
            })
        );
        assert_eq!(bob.process(&out.commit), Err(MlsError::Terminated));
        assert_eq!(bob.self_update(), Err(MlsError::Terminated));
        // A joiner whose policy refuses an existing member refuses the welcome.
        let (mut dave, _) = session_with(
            "dave",
            "d",
            Arc::new(|c: &Candidate<'_>| {
                if c.identity.user_id == b"carol" {
                    Err(Refusal("no".into()))
                } else {
                    Ok(())
                }
            }),
        );
        carol.discard_pending_commit().expect("discard");
        let out = carol
            .add_members(&[&dave.key_package().expect("kp")])
            .expect("add dave");
        assert!(matches!(
            dave.join(&out.welcome.expect("welcome")),
            Err(MlsError::AdmissionRefused { .. })
        ));
        assert_eq!(dave.epoch(), None);
    }

    #[test]
    fn params_validation_and_codec() {
        let p = GroupParams::default();
        assert_eq!(GroupParams::decode(&p.encode()), Ok(p));
        assert!(GroupParams::decode(&[0, 6, 4, 1]).is_err());
        assert!(GroupParams::decode(&[0, 1, 0, 1]).is_err());
        assert!(GroupParams::decode(&[0, 1, 4, 2]).is_err());
        assert!(GroupParams::decode(&[0, 1, 4]).is_err());
        let (mut s, _) = session("a", "b");
        assert_eq!(
            s.create_group(GroupParams {
                sframe_suite: 0,
                ..p
            }),
            Err(MlsError::InvalidParams)
        );
        assert_eq!(s.epoch(), None);
        assert_eq!(
            predict_leaves([0, 2, 5].into_iter(), &BTreeSet::from([2]), 3),
            vec![0, 1, 2, 3, 5]
        );
    }
}
