//! Test support: a group member on another MLS stack (`mls-rs`, RustCrypto provider) and
//! SFrame on another SFrame stack (the `sframe` crate), for the interop tests. Nothing here
//! calls mlsframe: the base key comes from mls-rs's own exporter, and the `sframe` crate
//! derives the frame keys, lays out the KID (`sframe::mls::MlsKeyId`) and seals and opens.
//!
//! The only mlsframe convention the peer has to follow is S, the KID's sender-index width:
//! the bits of the highest occupied leaf index ([`leaf_bits`]; README, "KIDs").

#![allow(dead_code)] // Each test binary that includes this module uses a different part.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mls_rs::client_builder::{BaseConfig, WithCryptoProvider, WithIdentityProvider, WithMlsRules};
use mls_rs::error::MlsError;
use mls_rs::extension::built_in::RequiredCapabilitiesExt;
use mls_rs::group::{CommitEffect, ExportedTree, ReceivedMessage, Roster};
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::identity::{CredentialType, SigningIdentity};
use mls_rs::mls_rs_codec::MlsDecode;
use mls_rs::mls_rules::{
    CommitDirection, CommitOptions, CommitSource, DefaultMlsRules, EncryptionOptions,
    ProposalBundle,
};
use mls_rs::{
    CipherSuite, CipherSuiteProvider, Client, CryptoProvider, Extension, ExtensionList, Group,
    MlsMessage, MlsRules,
};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::key::{DecryptionKey, EncryptionKey};
use sframe::mls::{MlsExporter, MlsKeyId, MlsKeyIdBitRange};

/// RFC 9605 §5.2 exporter label.
pub const BASE_KEY_LABEL: &str = "SFrame 1.0 Base Key";

/// The peer's client configuration: basic credentials, RustCrypto, [`PeerRules`].
type PeerConfig = WithMlsRules<
    PeerRules,
    WithCryptoProvider<RustCryptoProvider, WithIdentityProvider<BasicIdentityProvider, BaseConfig>>,
>;

/// mls-rs commit and framing choices that a test can change at any time (every group of
/// the client shares them).
#[derive(Clone, Debug)]
pub struct PeerRules {
    /// Handshakes (commits, proposals) as `PrivateMessage` rather than `PublicMessage`.
    encrypt_handshakes: Arc<AtomicBool>,
    /// Welcomes carry the ratchet tree (RFC 9420 §12.4.3.3); otherwise the tree goes out
    /// of band ([`Commit::ratchet_tree`]).
    tree_in_welcome: Arc<AtomicBool>,
}

impl MlsRules for PeerRules {
    type Error = std::convert::Infallible;

    fn filter_proposals(
        &self,
        direction: CommitDirection,
        source: CommitSource,
        roster: &Roster,
        context: &mls_rs::group::GroupContext,
        proposals: ProposalBundle,
    ) -> Result<ProposalBundle, Self::Error> {
        DefaultMlsRules::new().filter_proposals(direction, source, roster, context, proposals)
    }

    fn commit_options(
        &self,
        _: &Roster,
        _: &mls_rs::group::GroupContext,
        _: &ProposalBundle,
    ) -> Result<CommitOptions, Self::Error> {
        Ok(CommitOptions::new()
            .with_ratchet_tree_extension(self.tree_in_welcome.load(Ordering::SeqCst)))
    }

    fn encryption_options(
        &self,
        _: &Roster,
        _: &mls_rs::group::GroupContext,
    ) -> Result<EncryptionOptions, Self::Error> {
        // mls-rs's default padding: openmls must strip it from PrivateMessages.
        Ok(EncryptionOptions::new(
            self.encrypt_handshakes.load(Ordering::SeqCst),
            mls_rs::client_builder::PaddingMode::default(),
        ))
    }
}

/// A commit this peer made, as bytes for the other members.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The commit (`MLSMessage`).
    pub commit: Vec<u8>,
    /// The welcome for added members (`MLSMessage`), if any were added.
    pub welcome: Option<Vec<u8>>,
    /// The new epoch's ratchet tree, when it is sent out of band (welcome without it).
    pub ratchet_tree: Option<Vec<u8>>,
}

/// What an incoming MLS message did to the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A commit was applied; the group is now in `epoch`.
    Commit {
        /// The new epoch.
        epoch: u64,
        /// The commit removed this peer.
        removed_self: bool,
    },
    /// A proposal was stored.
    Proposal,
    /// An application message (the tests send none).
    Application,
    /// Anything else mls-rs reports.
    Other,
}

/// One device on mls-rs, in at most one group.
pub struct Peer {
    client: Client<PeerConfig>,
    group: Option<Group<PeerConfig>>,
    rules: PeerRules,
    suite: CipherSuite,
    identity: Vec<u8>,
    /// SFrame counter of this peer's own frames: one sequence for all its KIDs, so no
    /// (key, counter) pair ever repeats.
    sframe_counter: MonotonicCounter,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("suite", &self.suite)
            .field("identity", &String::from_utf8_lossy(&self.identity))
            .field("epoch", &self.group.as_ref().map(Group::current_epoch))
            .finish_non_exhaustive()
    }
}

impl Peer {
    /// A device for MLS ciphersuite `suite` (0x0001, 0x0002 or 0x0003) whose basic credential
    /// carries `identity` as is (mlsframe's `u16 len || user || u16 len || device`, or any
    /// foreign name). Its capabilities list `extra_extensions` besides the default ones (an
    /// mlsframe group requires its parameters extension 0xff00). Handshakes start as
    /// `PublicMessage`, with the ratchet tree in welcomes.
    pub fn new(suite: u16, identity: &[u8], extra_extensions: &[u16]) -> Peer {
        let suite = CipherSuite::from(suite);
        let crypto = RustCryptoProvider::default();
        let provider = crypto
            .cipher_suite_provider(suite)
            .unwrap_or_else(|| panic!("RustCrypto provider lacks MLS ciphersuite {suite:?}"));
        let (secret, public) = provider
            .signature_key_generate()
            .expect("signature key generation");
        let signing_identity = SigningIdentity::new(
            BasicCredential::new(identity.to_vec()).into_credential(),
            public,
        );
        let rules = PeerRules {
            encrypt_handshakes: Arc::new(AtomicBool::new(false)),
            tree_in_welcome: Arc::new(AtomicBool::new(true)),
        };
        let client = Client::builder()
            .identity_provider(BasicIdentityProvider::new())
            .crypto_provider(crypto)
            .mls_rules(rules.clone())
            .extension_types(
                extra_extensions
                    .iter()
                    .map(|t| mls_rs::extension::ExtensionType::new(*t)),
            )
            .signing_identity(signing_identity, secret, suite)
            .build();
        Peer {
            client,
            group: None,
            rules,
            suite,
            identity: identity.to_vec(),
            sframe_counter: MonotonicCounter::default(),
        }
    }

    /// Send handshakes as `PrivateMessage` (`true`) or `PublicMessage` (`false`), from the
    /// next one on (mls-rs's `EncryptionOptions::encrypt_control_messages`).
    pub fn set_encrypted_handshakes(&self, encrypted: bool) {
        self.rules
            .encrypt_handshakes
            .store(encrypted, Ordering::SeqCst);
    }

    /// Put the ratchet tree in welcomes (`true`) or hand it out of band (`false`), from the
    /// next commit on.
    pub fn set_tree_in_welcome(&self, in_welcome: bool) {
        self.rules
            .tree_in_welcome
            .store(in_welcome, Ordering::SeqCst);
    }

    /// The credential's identity bytes.
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The MLS ciphersuite.
    pub fn suite(&self) -> u16 {
        *self.suite
    }

    fn group(&self) -> &Group<PeerConfig> {
        self.group.as_ref().expect("the peer is in a group")
    }

    fn group_mut(&mut self) -> &mut Group<PeerConfig> {
        self.group.as_mut().expect("the peer is in a group")
    }

    /// A fresh key package, as a TLS-encoded `MLSMessage`.
    pub fn key_package(&self) -> Vec<u8> {
        self.client
            .generate_key_package_message(ExtensionList::new(), ExtensionList::new(), None)
            .expect("key package")
            .to_bytes()
            .expect("key package encodes")
    }

    /// Create a group (epoch 0) whose group context carries `extensions` (type, data), and,
    /// when `required` is not empty, a required-capabilities extension naming those
    /// extension types and basic credentials.
    pub fn create_group(&mut self, extensions: &[(u16, Vec<u8>)], required: &[u16]) {
        let mut gce = ExtensionList::new();
        for (t, data) in extensions {
            gce.set(Extension::new(
                mls_rs::extension::ExtensionType::new(*t),
                data.clone(),
            ));
        }
        if !required.is_empty() {
            gce.set_from(RequiredCapabilitiesExt::new(
                required
                    .iter()
                    .map(|t| mls_rs::extension::ExtensionType::new(*t))
                    .collect(),
                Vec::new(),
                vec![CredentialType::BASIC],
            ))
            .expect("required capabilities encode");
        }
        let group = self
            .client
            .create_group(gce, ExtensionList::new(), None)
            .expect("group creation");
        self.group = Some(group);
    }

    fn finish(output: mls_rs::group::CommitOutput) -> Commit {
        Commit {
            commit: output.commit_message().to_bytes().expect("commit encodes"),
            welcome: output
                .welcome_messages()
                .first()
                .map(|w| w.to_bytes().expect("welcome encodes")),
            ratchet_tree: output
                .ratchet_tree()
                .map(|t| t.to_bytes().expect("tree encodes")),
        }
    }

    /// Commit the addition of the key packages (TLS-encoded `MLSMessage`s). The commit
    /// stays pending until [`apply_pending_commit`](Self::apply_pending_commit) (or its
    /// echo through [`process`](Self::process)).
    ///
    /// # Errors
    /// mls-rs's refusal (for example a key package of another ciphersuite).
    pub fn add(&mut self, key_packages: &[&[u8]]) -> Result<Commit, MlsError> {
        let mut builder = self.group_mut().commit_builder();
        for kp in key_packages {
            builder = builder.add_member(MlsMessage::from_bytes(kp)?)?;
        }
        Ok(Self::finish(builder.build()?))
    }

    /// Commit the removal of the members at `leaves`; pending like [`add`](Self::add).
    ///
    /// # Errors
    /// mls-rs's refusal (for example an empty leaf).
    pub fn remove(&mut self, leaves: &[u32]) -> Result<Commit, MlsError> {
        let mut builder = self.group_mut().commit_builder();
        for leaf in leaves {
            builder = builder.remove_member(*leaf)?;
        }
        Ok(Self::finish(builder.build()?))
    }

    /// Commit an empty commit with a path (a self-update).
    pub fn self_update(&mut self) -> Commit {
        Self::finish(
            self.group_mut()
                .commit(Vec::new())
                .expect("self-update commit"),
        )
    }

    /// The delivery service accepted our commit: move to its epoch.
    pub fn apply_pending_commit(&mut self) {
        self.group_mut()
            .apply_pending_commit()
            .expect("pending commit applies");
    }

    /// Our commit was refused: drop it.
    pub fn clear_pending_commit(&mut self) {
        self.group_mut().clear_pending_commit();
    }

    /// Process an incoming MLS message (TLS-encoded `MLSMessage`).
    ///
    /// # Errors
    /// mls-rs's refusal; the group state is then unchanged.
    pub fn process(&mut self, message: &[u8]) -> Result<Received, MlsError> {
        let message = MlsMessage::from_bytes(message)?;
        Ok(match self.group_mut().process_incoming_message(message)? {
            ReceivedMessage::Commit(c) => match c.effect {
                CommitEffect::NewEpoch(e) => Received::Commit {
                    epoch: e.epoch,
                    removed_self: false,
                },
                CommitEffect::Removed { new_epoch, .. } => Received::Commit {
                    epoch: new_epoch.epoch,
                    removed_self: true,
                },
                CommitEffect::ReInit(_) => Received::Other,
            },
            ReceivedMessage::Proposal(_) => Received::Proposal,
            ReceivedMessage::ApplicationMessage(_) => Received::Application,
            _ => Received::Other,
        })
    }

    /// Join from a welcome (TLS-encoded `MLSMessage`); `ratchet_tree` is the tree handed
    /// out of band when the welcome does not carry it. Returns the epoch joined.
    ///
    /// # Errors
    /// mls-rs's refusal (the welcome is not for us, the tree is missing or wrong, ...).
    pub fn join(&mut self, welcome: &[u8], ratchet_tree: Option<&[u8]>) -> Result<u64, MlsError> {
        let welcome = MlsMessage::from_bytes(welcome)?;
        let tree = ratchet_tree
            .map(|bytes| ExportedTree::mls_decode(&mut &*bytes))
            .transpose()?;
        let (group, _) = self.client.join_group(tree, &welcome, None)?;
        let epoch = group.current_epoch();
        self.group = Some(group);
        Ok(epoch)
    }

    /// The current epoch's ratchet tree (TLS-encoded `optional<Node> ratchet_tree<V>`).
    pub fn export_tree(&self) -> Vec<u8> {
        self.group().export_tree().to_bytes().expect("tree encodes")
    }

    /// Whether the peer is in a group.
    pub fn in_group(&self) -> bool {
        self.group.is_some()
    }

    /// Our leaf index.
    pub fn leaf(&self) -> u32 {
        self.group().current_member_index()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.group().current_epoch()
    }

    /// The group id.
    pub fn group_id(&self) -> Vec<u8> {
        self.group().group_id().to_vec()
    }

    /// The group's MLS ciphersuite, as mls-rs sees it.
    pub fn group_suite(&self) -> u16 {
        *self.group().cipher_suite()
    }

    /// Occupied leaf indices, ascending.
    pub fn occupied_leaves(&self) -> Vec<u32> {
        let mut leaves: Vec<u32> = self
            .group()
            .roster()
            .members_iter()
            .map(|m| m.index)
            .collect();
        leaves.sort_unstable();
        leaves
    }

    /// The basic-credential identity bytes at `leaf`, if occupied.
    pub fn identity_at(&self, leaf: u32) -> Option<Vec<u8>> {
        let member = self.group().member_at_index(leaf)?;
        Some(
            member
                .signing_identity
                .credential
                .as_basic()?
                .identifier
                .clone(),
        )
    }

    /// The data of the group-context extension of type `t`, if present.
    pub fn context_extension(&self, t: u16) -> Option<Vec<u8>> {
        self.group()
            .context()
            .extensions()
            .get(mls_rs::extension::ExtensionType::new(t))
            .map(|e| e.extension_data().to_vec())
    }

    /// The epoch authenticator (RFC 9420 §8.7).
    pub fn epoch_authenticator(&self) -> Vec<u8> {
        self.group()
            .epoch_authenticator()
            .expect("epoch authenticator")
            .to_vec()
    }

    /// `MLS-Exporter("SFrame 1.0 Base Key", "", nk)` of the current epoch, with mls-rs's own
    /// exporter (RFC 9605 §5.2).
    pub fn sframe_base_key(&self, nk: usize) -> Vec<u8> {
        self.group()
            .export_secret(BASE_KEY_LABEL.as_bytes(), b"", nk)
            .expect("exporter")
            .to_vec()
    }

    /// The current epoch's exporter, for the `sframe` crate's own RFC 9605 §5.2 derivation.
    pub fn exporter(&self) -> PeerExporter<'_> {
        PeerExporter(self.group())
    }

    /// The KID of our frames on stream `context` in the current epoch, laid out by the
    /// `sframe` crate with E = `epoch_bits` and S from our roster ([`leaf_bits`]).
    pub fn own_kid(&self, epoch_bits: u8, context: u64) -> MlsKeyId {
        self.kid_of(epoch_bits, self.leaf(), context)
    }

    /// The KID of `leaf`'s frames on stream `context` in the current epoch.
    pub fn kid_of(&self, epoch_bits: u8, leaf: u32, context: u64) -> MlsKeyId {
        let range = MlsKeyIdBitRange::new(epoch_bits, leaf_bits(&self.occupied_leaves()));
        MlsKeyId::try_new(context, self.epoch(), leaf, range).expect("KID fits")
    }

    /// Seal `payload` as our frame on stream `context` in the current epoch, with the
    /// `sframe` crate (key from [`exporter`](Self::exporter), KID from
    /// [`own_kid`](Self::own_kid)).
    pub fn seal(
        &mut self,
        sframe_suite: u16,
        epoch_bits: u8,
        context: u64,
        metadata: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let kid = self.own_kid(epoch_bits, context);
        let key = EncryptionKey::derive_from_mls(
            sframe_cipher_suite(sframe_suite),
            &self.exporter(),
            kid,
        )
        .expect("sframe key");
        seal_with(&key, &mut self.sframe_counter, metadata, payload)
    }

    /// Open a frame `leaf` sealed on stream `context` in the current epoch, with the
    /// `sframe` crate. Returns the plaintext and the frame counter.
    ///
    /// # Errors
    /// The `sframe` crate's refusal: another KID on the wire than the one this peer
    /// computes for (`leaf`, `context`, epoch), or a failed tag.
    pub fn open(
        &self,
        sframe_suite: u16,
        epoch_bits: u8,
        leaf: u32,
        context: u64,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<(Vec<u8>, u64), sframe::error::SframeError> {
        let kid = self.kid_of(epoch_bits, leaf, context);
        let key = DecryptionKey::derive_from_mls(
            sframe_cipher_suite(sframe_suite),
            &self.exporter(),
            kid,
        )?;
        open_with(&key, metadata, frame)
    }
}

/// An mls-rs group's exporter, for [`EncryptionKey::derive_from_mls`].
pub struct PeerExporter<'a>(&'a Group<PeerConfig>);

impl MlsExporter for PeerExporter<'_> {
    type BaseKey = Vec<u8>;
    type Error = MlsError;

    fn export_secret(&self, label: &str, context: &[u8], len: usize) -> Result<Vec<u8>, MlsError> {
        Ok(self
            .0
            .export_secret(label.as_bytes(), context, len)?
            .to_vec())
    }
}

/// The `sframe` crate's suite for an RFC 9605 suite id; its default `ring` backend has the
/// AES-GCM suites (0x0004, 0x0005) only.
pub fn sframe_cipher_suite(id: u16) -> sframe::CipherSuite {
    match id {
        0x0004 => sframe::CipherSuite::AesGcm128Sha256,
        0x0005 => sframe::CipherSuite::AesGcm256Sha512,
        other => panic!("the sframe crate's ring backend has no SFrame suite {other:#06x}"),
    }
}

/// Nk of an SFrame suite (the base key length), as the `sframe` crate has it.
pub fn sframe_key_len(id: u16) -> usize {
    sframe_cipher_suite(id).key_len()
}

/// S, the KID's sender-index width, as mlsframe sizes it: the smallest S with
/// `highest occupied leaf + 1 <= 2^S` (not the member count: gaps left by removals would
/// otherwise let a leaf index overflow into the context bits).
pub fn leaf_bits(occupied: &[u32]) -> u8 {
    let highest = occupied.iter().copied().max().unwrap_or(0);
    (0u8..=32)
        .find(|s| u64::from(highest) < 1u64 << s)
        .expect("a u32 fits in 32 bits")
}

/// The RFC 9605 §5.2 KID `(context, epoch, leaf)` with E = `epoch_bits`, S = `leaf_bits`,
/// laid out by the `sframe` crate.
pub fn kid(context: u64, epoch: u64, leaf: u32, epoch_bits: u8, leaf_bits: u8) -> u64 {
    MlsKeyId::try_new(
        context,
        epoch,
        leaf,
        MlsKeyIdBitRange::new(epoch_bits, leaf_bits),
    )
    .expect("KID fits")
    .into()
}

fn seal_with(
    key: &EncryptionKey,
    counter: &mut MonotonicCounter,
    metadata: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let frame = MediaFrameView::try_with_meta_data(counter, &payload, &metadata).expect("counter");
    let mut buf = Vec::new();
    frame
        .encrypt_into(key, &mut buf)
        .expect("sframe seal")
        .sframe_cipher_text()
        .to_vec()
}

fn open_with(
    key: &DecryptionKey,
    metadata: &[u8],
    frame: &[u8],
) -> Result<(Vec<u8>, u64), sframe::error::SframeError> {
    let view = EncryptedFrameView::try_with_meta_data(&frame, &metadata)?;
    let mut buf = Vec::new();
    let opened = view.decrypt_into(key, &mut buf)?;
    Ok((opened.payload().to_vec(), opened.counter()))
}

/// Seal `payload` with the `sframe` crate under (`base_key`, `kid`) at counter `ctr`.
pub fn seal(
    sframe_suite: u16,
    base_key: &[u8],
    kid: u64,
    ctr: u64,
    metadata: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    let key = EncryptionKey::derive_from(sframe_cipher_suite(sframe_suite), kid, base_key)
        .expect("sframe key");
    let mut counter = MonotonicCounter::with_start_value(ctr, u64::MAX);
    seal_with(&key, &mut counter, metadata, payload)
}

/// Open a frame with the `sframe` crate under (`base_key`, `kid`). Returns the plaintext
/// and the frame counter.
///
/// # Errors
/// The `sframe` crate's refusal: another KID on the wire, or a failed tag.
pub fn open(
    sframe_suite: u16,
    base_key: &[u8],
    kid: u64,
    metadata: &[u8],
    frame: &[u8],
) -> Result<(Vec<u8>, u64), sframe::error::SframeError> {
    let key = DecryptionKey::derive_from(sframe_cipher_suite(sframe_suite), kid, base_key)?;
    open_with(&key, metadata, frame)
}

/// The KID on the wire of a sealed frame, as the `sframe` crate reads its header.
pub fn wire_kid(frame: &[u8]) -> u64 {
    sframe::header::SframeHeader::deserialize(frame)
        .expect("SFrame header")
        .key_id()
}
