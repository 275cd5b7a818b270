//! Joins and proposals from outside the group (RFC 9420 §12.4.3.2 and §12.1.8): publishing
//! a GroupInfo, joining (or rejoining after a crash) by external commit, vetting other
//! devices' external commits, and the `external_senders` extension whose members may
//! propose adds and removes. Every device that comes in this way passes the admission
//! policy, the duplicate-device rule and the member cap, as an added member does.
//!
//! # How an external join is sent and confirmed
//!
//! `openmls` merges an external commit when it creates it (`ExternalCommitBuilder::finalize`
//! returns the group already in the new epoch: there is no pending commit to clear). The
//! session keeps its own pending-commit model on top of that: the joined group is held
//! with the commit as our pending commit, and the media key ring only *stages* its epoch
//! (`EpochEvent::Joining`: earlier groups forgotten, frames of the new epoch open, nothing
//! sealed). Then, as for any of our commits:
//!
//! * the delivery service accepted it: [`Session::confirm_own_commit`] (or the echoed commit
//!   fed to [`Session::process`]) activates the epoch (`EpochEvent::Merged`); the outcome
//!   lists our new leaf as added and our old leaf, if the commit removed one, as removed;
//! * it was refused or lost a race (another commit of the same epoch went first):
//!   [`Session::discard_pending_commit`] drops the joined group's whole state
//!   (`EpochEvent::Discarded`) and leaves the session out of any group. Unlike a member's
//!   commit, a lost external commit cannot be followed by processing the winner (we were
//!   not in that epoch): fetch a fresh group info and join again.
//!
//! While the join is pending, [`Session::process`] refuses every other message with
//! [`MlsError::CommitPending`], and the queries (roster, epoch, security code) show the
//! group as our commit makes it.

use std::collections::BTreeSet;

use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::tls_codec::Deserialize as _;
use openmls::prelude::*;

use super::incoming::map_process_error;
use super::params::{JoinOptions, MlsCiphersuite, PARAMS_EXTENSION_TYPE, ParamsSource};
use super::storage::SessionProvider;
use super::{
    CommitOutput, Group, GroupParams, MemberInfo, Outcome, PendingOwn, Session, Status,
    capabilities, member_info, parse, serialize,
};
use crate::mls::credential::MemberCredential;
use crate::mls::epoch_event::EpochEvent;
use crate::mls::error::{MlsError, Result};

/// What confirming our pending external join reports, besides our own new leaf.
pub(super) struct ExternalJoin {
    /// Our old leaf (same device, same signature key), which the external commit removes.
    removed: Vec<MemberInfo>,
}

impl Group {
    /// Whether our pending commit is an external join (the group is already merged in
    /// `openmls`; see the module documentation).
    pub(super) fn joining(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.external.is_some())
    }
}

/// The leaf an external commit brings into the group (its update-path leaf), or `None`
/// for a member's commit. Only an external commit carries an ExternalInit proposal
/// (`openmls` refuses one in a member's commit).
pub(super) fn joiner(sc: &StagedCommit) -> Option<&LeafNode> {
    sc.queued_proposals()
        .any(|p| matches!(p.proposal(), Proposal::ExternalInit(_)))
        .then(|| sc.update_path_leaf_node())
        .flatten()
}

/// Whether `message` claims to come from one of the group's external senders.
pub(super) fn claims_external_sender(message: &ProtocolMessage) -> bool {
    matches!(message, ProtocolMessage::PublicMessage(m) if matches!(m.sender(), Sender::External(_)))
}

/// [`map_process_error`], with the refusals of a message that claims an external sender
/// named: `openmls` looks the sender up in the group's `external_senders` extension and
/// verifies the signature with the key listed there.
pub(super) fn map_error<E>(claims_external: bool, e: ProcessMessageError<E>) -> MlsError {
    match e {
        ProcessMessageError::ValidationError(
            ValidationError::UnauthorizedExternalSender
            | ValidationError::NoExternalSendersExtension,
        ) => MlsError::UnauthorizedExternalSender,
        ProcessMessageError::ValidationError(ValidationError::InvalidSignature)
            if claims_external =>
        {
            MlsError::UnauthorizedExternalSender
        }
        e => map_process_error(e),
    }
}

/// One external sender: its signature public key (Ed25519: 32 bytes; P-256: the 65-byte
/// uncompressed point) and the identity bytes of its basic credential.
pub(super) type ExternalSenderSpec = (Vec<u8>, Vec<u8>);

/// The `external_senders` group context extension (RFC 9420 §12.1.8.1) listing `senders`
/// in order (a proposal names its sender by index in this list), or `None` for no senders.
/// Keys must be valid for the group's signature `scheme`. `ExternalSenders` is a default
/// extension type: no required capability is needed for it.
///
/// # Errors
/// [`MlsError::InvalidConfig`] for a key that is not a valid public key of `scheme`, or a
/// key listed twice.
pub(super) fn external_senders_extension(
    senders: &[ExternalSenderSpec],
    scheme: SignatureScheme,
) -> Result<Option<Extension>> {
    if senders.is_empty() {
        return Ok(None);
    }
    let mut keys = BTreeSet::new();
    let mut list = ExternalSendersExtension::with_capacity(senders.len());
    for (key, identity) in senders {
        let valid = match scheme {
            SignatureScheme::ED25519 => <&[u8; 32]>::try_from(key.as_slice())
                .is_ok_and(|point| ed25519_dalek::VerifyingKey::from_bytes(point).is_ok()),
            SignatureScheme::ECDSA_SECP256R1_SHA256 => {
                key.len() == 65 && p256::PublicKey::from_sec1_bytes(key).is_ok()
            }
            _ => false,
        };
        if !valid {
            return Err(MlsError::InvalidConfig(
                "external sender key is not a public key of the group's signature scheme",
            ));
        }
        if !keys.insert(key.as_slice()) {
            return Err(MlsError::InvalidConfig("external sender listed twice"));
        }
        if identity.len() > crate::mls::identity::MAX_ID_LEN {
            return Err(MlsError::InvalidConfig("external sender identity too long"));
        }
        list.push(ExternalSender::new(
            key.as_slice().into(),
            BasicCredential::new(identity.clone()).into(),
        ));
    }
    Ok(Some(Extension::ExternalSenders(list)))
}

/// A group info (or a separately carried ratchet tree) is bounded as a welcome is: both
/// carry the whole tree.
fn check_group_info_len(session: &Session, len: usize) -> Result<()> {
    session
        .limits
        .check_welcome(len)
        .map_err(|_| MlsError::GroupInfoTooLarge)
}

fn builder_error<E>(e: ExternalCommitBuilderError<E>) -> MlsError {
    match e {
        ExternalCommitBuilderError::LibraryError(_)
        | ExternalCommitBuilderError::StorageError(_) => {
            MlsError::Internal("external commit failed")
        }
        _ => MlsError::InvalidGroupInfo,
    }
}

impl Session {
    /// A signed GroupInfo (TLS-encoded `MLSMessage`) of the current epoch, with the
    /// `external_pub` and `ratchet_tree` extensions: what a member publishes (through the
    /// delivery service) so that devices can join, or rejoin after a crash, by
    /// [`join_by_external_commit`](Self::join_by_external_commit). It is valid for this
    /// epoch only: publish a fresh one after every epoch change. Anyone holding it can
    /// attempt a join; the members' admission policies decide.
    ///
    /// # Errors
    /// [`MlsError::NoGroup`], [`MlsError::NotMember`], [`MlsError::Terminated`];
    /// [`MlsError::CommitPending`] while our own external join awaits confirmation (its
    /// epoch is not the group's yet); [`MlsError::GroupInfoTooLarge`] when it would exceed
    /// [`Limits::max_welcome_bytes`](super::Limits::max_welcome_bytes), which bounds it
    /// for joiners too.
    pub fn group_info(&self) -> Result<Vec<u8>> {
        let g = self.group()?;
        match g.status {
            Status::Removed => return Err(MlsError::NotMember),
            Status::Terminated => return Err(MlsError::Terminated),
            Status::Active => {}
        }
        if g.joining() {
            return Err(MlsError::CommitPending);
        }
        let info = g
            .mls
            .export_group_info(self.provider.crypto(), &self.signer, true)
            .map_err(|_| MlsError::Internal("group info export failed"))?;
        let bytes = serialize(&info)?;
        check_group_info_len(self, bytes.len())?;
        Ok(bytes)
    }

    /// Join the group described by `group_info` (from [`group_info`](Self::group_info) of
    /// a member) by external commit, as a new device or as this device again after a crash.
    /// `options.ratchet_tree` (a TLS-encoded `RatchetTree`) is needed only when the group
    /// info carries no `ratchet_tree` extension; when it does, the extension is used.
    ///
    /// The group parameters come from the group context's extension 0xff00, else from
    /// `options.params` (or [`GroupParams::default`]), as in
    /// [`join_with`](Self::join_with). Every member in the tree is vetted
    /// by the admission policy, as in [`join`](Self::join), except our own old leaf: a leaf
    /// with our signature key (this device before a crash) is removed by the same commit
    /// (RFC 9420 §12.4.3.2).
    ///
    /// Send `commit` to the group; the commit is pending as any of ours: confirm it with
    /// [`confirm_own_commit`](Self::confirm_own_commit) (or by processing its echo) or
    /// drop the joined group with [`discard_pending_commit`](Self::discard_pending_commit).
    /// External commits are always `PublicMessage`s, whatever the group's
    /// [`HandshakeFormat`](super::HandshakeFormat); our later handshakes follow it. A
    /// session whose group ended (removed or terminated) can join this way too: the ended
    /// group's state is discarded first.
    ///
    /// # Errors
    /// [`MlsError::GroupInfoTooLarge`] before parsing anything (the group info or tree
    /// over [`Limits::max_welcome_bytes`](super::Limits::max_welcome_bytes));
    /// [`MlsError::AlreadyInGroup`]; [`MlsError::InvalidGroupInfo`] for a group info that
    /// does not verify (signature, tree, `external_pub`); [`MlsError::MissingRatchetTree`]
    /// without a tree in either place; [`MlsError::InvalidRatchetTree`] for a given tree
    /// that does not parse; [`MlsError::UnsupportedCiphersuite`], or [`MlsError::CiphersuiteMismatch`]
    /// for a suite our identity cannot sign for; [`MlsError::InvalidParams`] for
    /// parameters out of range;
    /// [`MlsError::GroupFull`]; [`MlsError::DuplicateMember`] when two leaves claim one
    /// device, or this device is in the group under another signature key (its leaf
    /// cannot be removed by our commit: a member must remove it, or restore the identity
    /// seed); [`MlsError::InvalidIdentity`] when our signature key sits in a leaf of another
    /// identity; [`MlsError::AdmissionRefused`]; [`MlsError::MessageTooLarge`] when the
    /// commit would exceed the limits. On error the session is unchanged (an ended group
    /// stays, unless the failure came after building the commit).
    pub fn join_by_external_commit(
        &mut self,
        group_info: &[u8],
        options: JoinOptions<'_>,
    ) -> Result<CommitOutput> {
        let ratchet_tree = options.ratchet_tree;
        if let Some(p) = options.params {
            p.validate()?;
        }
        check_group_info_len(self, group_info.len())?;
        if let Some(tree) = ratchet_tree {
            check_group_info_len(self, tree.len())?;
        }
        if self
            .group
            .as_ref()
            .is_some_and(|g| g.status == Status::Active)
        {
            return Err(MlsError::AlreadyInGroup);
        }
        let MlsMessageBodyIn::GroupInfo(info) = parse(group_info)?.extract() else {
            return Err(MlsError::UnexpectedMessageType);
        };
        let suite = MlsCiphersuite::from_openmls(info.ciphersuite())
            .ok_or(MlsError::UnsupportedCiphersuite)?;
        self.check_suite(suite)?;
        // The tree `openmls` will use: the group info's extension first, else the one given.
        let tree = match (info.extensions().ratchet_tree(), ratchet_tree) {
            (Some(ext), _) => ext.ratchet_tree().clone(),
            (None, Some(bytes)) => RatchetTreeIn::tls_deserialize_exact(bytes)
                .map_err(|_| MlsError::InvalidRatchetTree)?,
            (None, None) => return Err(MlsError::MissingRatchetTree),
        };
        let (params, params_source, removed) =
            self.vet_external_join(info.clone(), tree.clone(), options.params)?;

        // A group of ours that ended may be the very group we rejoin, and openmls keeps
        // one group per id: its state goes first.
        if let Some(mut ended) = self.group.take()
            && ended.mls.delete(self.provider.storage()).is_err()
        {
            self.group = Some(ended);
            return Err(MlsError::Internal("storage failed"));
        }
        let leaf = LeafNodeParameters::builder()
            .with_capabilities(capabilities(self.signer.signature_scheme()))
            .build();
        let (mut mls, bundle) = MlsGroup::external_commit_builder()
            .with_config(params.join_config())
            .with_ratchet_tree(tree)
            .build_group(&self.provider, info, self.credential.clone())
            .map_err(builder_error)?
            .leaf_node_parameters(leaf)
            .load_psks(self.provider.storage())
            .map_err(|_| MlsError::Internal("external commit failed"))?
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .map_err(|e| match e {
                CreateCommitError::LibraryError(_) => MlsError::Internal("external commit failed"),
                _ => MlsError::InvalidGroupInfo,
            })?
            .finalize(&self.provider)
            .map_err(|_| MlsError::Internal("external commit failed"))?;
        let staged = (|| {
            let commit = serialize(bundle.commit())?;
            // Members with the same limits would refuse what does not fit them.
            self.limits.check_message(commit.len())?;
            let secrets = self.current_secrets(&mls, params, !removed.is_empty())?;
            Ok((commit, secrets))
        })();
        let (commit, secrets) = match staged {
            Ok(staged) => staged,
            Err(e) => {
                mls.delete(self.provider.storage())
                    .map_err(|_| MlsError::Internal("storage failed"))?;
                return Err(e);
            }
        };
        let epoch = mls.epoch().as_u64();
        // A new group's epochs were never sealed in by us.
        self.rekey_required = false;
        self.group = Some(Group {
            mls,
            params,
            params_source,
            status: Status::Active,
            pending: Some(PendingOwn {
                commit: commit.clone(),
                epoch,
                rekeys: false,
                external: Some(ExternalJoin { removed }),
            }),
        });
        self.sink.apply(EpochEvent::Joining(secrets));
        Ok(CommitOutput {
            commit,
            welcome: None,
            epoch,
        })
    }

    /// Verify the group info and tree (on a scratch key store: nothing of ours is
    /// touched) and vet the group as a joiner: parameters, member cap, duplicate devices,
    /// the admission policy. Returns the parameters, their source and our old leaf, if the
    /// tree has one.
    fn vet_external_join(
        &self,
        info: VerifiableGroupInfo,
        tree: RatchetTreeIn,
        app_params: Option<GroupParams>,
    ) -> Result<(GroupParams, ParamsSource, Vec<MemberInfo>)> {
        let scratch = SessionProvider::default();
        let (public, _) = PublicGroup::from_external(
            scratch.crypto(),
            scratch.storage(),
            tree,
            info,
            ProposalStore::new(),
        )
        .map_err(|_| MlsError::InvalidGroupInfo)?;
        let (params, source) = match public
            .group_context()
            .extensions()
            .unknown(PARAMS_EXTENSION_TYPE)
        {
            Some(ext) => (GroupParams::decode(&ext.0)?, ParamsSource::GroupContext),
            None => (app_params.unwrap_or_default(), ParamsSource::App),
        };
        let own_key = self.credential.signature_key.as_slice();
        let own = self.identity.member();
        let old_leaves = public
            .members()
            .filter(|m| m.signature_key == own_key)
            .count();
        self.limits
            .check_members(public.members().count() - old_leaves + 1)?;
        let mut removed = Vec::new();
        let mut seen = BTreeSet::new();
        for m in public.members() {
            let credential = MemberCredential::of(&m.credential);
            let identity = credential.identity();
            if m.signature_key == own_key {
                // Members accept the removal of a leaf of the joining device only.
                if identity.as_ref() != Some(own) {
                    return Err(MlsError::InvalidIdentity);
                }
                removed.push(member_info(&m));
                continue;
            }
            if let Some(identity) = identity
                && (identity == *own || !seen.insert(identity))
            {
                return Err(MlsError::DuplicateMember);
            }
            self.admit(&credential, &m.signature_key)?;
        }
        Ok((params, source, removed))
    }

    /// The delivery service accepted our external join: activate its epoch.
    pub(super) fn confirm_external_join(&mut self) -> Result<Outcome> {
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        let join = g
            .pending
            .take()
            .and_then(|p| p.external)
            .ok_or(MlsError::NoPendingCommit)?;
        let own_key = self.credential.signature_key.as_slice().to_vec();
        self.after_merge(join.removed, vec![own_key])
    }

    /// Our external join was refused or lost: drop the joined group altogether.
    pub(super) fn discard_external_join(&mut self) -> Result<()> {
        let mut g = self.group.take().ok_or(MlsError::NoGroup)?;
        let Some(epoch) = g.pending.as_ref().map(|p| p.epoch) else {
            self.group = Some(g);
            return Err(MlsError::NoPendingCommit);
        };
        if g.mls.delete(self.provider.storage()).is_err() {
            self.group = Some(g);
            return Err(MlsError::Internal("storage failed"));
        }
        self.sink.apply(EpochEvent::Discarded { epoch });
        Ok(())
    }

    /// Check another device's external commit as an add: only its ExternalInit and the
    /// removal of leaves of the same device (a rejoin, RFC 9420 §12.4.3.2: the removed
    /// leaf must be the joiner's), then the duplicate-device rule after those removals,
    /// the member cap and the admission policy for the new leaf. `Err` is the reason of a
    /// terminal policy violation.
    pub(super) fn check_external_commit(
        &self,
        mls: &MlsGroup,
        sc: &StagedCommit,
    ) -> core::result::Result<(), String> {
        let leaf = joiner(sc).ok_or("external commit without a joining leaf")?;
        let credential = MemberCredential::of(leaf.credential());
        let identity = credential.identity();
        let mut removed = BTreeSet::new();
        for p in sc.queued_proposals() {
            if p.proposal_or_ref_type() != ProposalOrRefType::Proposal {
                return Err("external commit refers to stored proposals".into());
            }
            match p.proposal() {
                Proposal::ExternalInit(_) => {}
                Proposal::Remove(r) => {
                    // The same device: the same credential (for ours, the same identity).
                    let same_device = mls
                        .member_at(r.removed())
                        .is_some_and(|m| MemberCredential::of(&m.credential) == credential);
                    if !same_device {
                        return Err("external commit removes another member".into());
                    }
                    removed.insert(r.removed());
                }
                _ => return Err("external commit carries an unsupported proposal type".into()),
            }
        }
        let staying: Vec<Member> = mls
            .members()
            .filter(|m| !removed.contains(&m.index))
            .collect();
        if identity.is_some()
            && staying
                .iter()
                .any(|m| MemberCredential::of(&m.credential).identity() == identity)
        {
            return Err("commit adds a device already in the group".into());
        }
        if self.limits.check_members(staying.len() + 1).is_err() {
            return Err("commit would exceed the group's member cap".into());
        }
        self.admit(&credential, leaf.signature_key().as_slice())
            .map_err(|e| match e {
                MlsError::AdmissionRefused { reason } => reason,
                other => other.to_string(),
            })
    }
}

#[cfg(test)]
mod tests;
