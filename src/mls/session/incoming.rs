//! Incoming handshake messages: proposals and commits from the delivery service, checked
//! against the admission policy, identity rules and input limits, turned into
//! [`Outcome`]s.

use std::collections::BTreeSet;

use openmls::prelude::tls_codec::Size as _;
use openmls::prelude::*;

use super::params::{GroupParams, PARAMS_EXTENSION_TYPE, ParamsSource};
use super::{MemberInfo, Outcome, Session, Status, external, member_info, parse};
use crate::mls::credential::MemberCredential;
use crate::mls::epoch_event::EpochEvent;
use crate::mls::error::{MlsError, Result};
use crate::mls::identity::MemberIdentity;

/// Why an incoming commit is not merged.
enum CommitRefusal {
    /// The admission policy, identity rules or member cap refused it: the group is
    /// unusable ([`Outcome::PolicyViolation`]).
    Terminal(String),
    /// A change this library does not follow (SFrame parameters, unsupported proposal
    /// types): not merged, reported as this error; the application decides.
    NotFollowed(MlsError),
}

pub(super) fn map_process_error<E>(e: ProcessMessageError<E>) -> MlsError {
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

impl Session {
    /// Process an incoming handshake message (TLS-encoded `MLSMessage`) from the
    /// delivery service. Errors leave the group state unchanged (an encrypted message
    /// refused after decryption has used up its one-time key, as MLS requires).
    ///
    /// A proposal is stored only if it is not pending already, fits the pending caps of
    /// [`Limits`](super::Limits), adds no device already in the group (or already
    /// proposed), keeps the group within [`Limits::max_members`](super::Limits), and
    /// passes the admission policy (an add, or an update that changes a member's
    /// credential or signature key). A commit that adds a device already in the group
    /// (judged after its removals), would exceed the member cap, or brings a credential
    /// or signature key the policy refuses is a terminal [`Outcome::PolicyViolation`]:
    /// the delivery service already sequenced it.
    ///
    /// Proposals from the group's external senders (adds, removes) and a new member's
    /// proposal to add itself follow the same rules. Another device's external commit is
    /// judged as an add of its new leaf, and may remove only leaves of that same device (a
    /// rejoin); see [`join_by_external_commit`](Self::join_by_external_commit).
    ///
    /// # Errors
    /// [`MlsError::MessageTooLarge`] before parsing anything;
    /// [`MlsError::DuplicateProposal`] for a proposal already pending (a replay);
    /// [`MlsError::TooManyProposals`], [`MlsError::DuplicateMember`],
    /// [`MlsError::GroupFull`], [`MlsError::AdmissionRefused`],
    /// [`MlsError::InvalidIdentity`] or [`MlsError::UnknownMember`] (a removal of an empty
    /// leaf) for a proposal refused storage; [`MlsError::UnauthorizedExternalSender`] for
    /// a proposal from an external sender the group does not list; [`MlsError::CommitPending`]
    /// while our external join awaits confirmation; parsing and MLS validation errors
    /// otherwise.
    pub fn process(&mut self, message: &[u8]) -> Result<Outcome> {
        self.limits.check_message(message.len())?;
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        match g.status {
            Status::Removed => return Err(MlsError::NotMember),
            Status::Terminated => return Err(MlsError::Terminated),
            Status::Active => {}
        }
        if g.pending.as_ref().is_some_and(|p| p.commit == message) {
            return self.confirm_own_commit();
        }
        // Our external join is merged in openmls already: confirm or discard it first.
        if g.joining() {
            return Err(MlsError::CommitPending);
        }
        let protocol = parse(message)?
            .try_into_protocol_message()
            .map_err(|_| MlsError::UnexpectedMessageType)?;
        let from_external_sender = external::claims_external_sender(&protocol);
        let processed = g
            .mls
            .process_message(&self.provider, protocol)
            .map_err(|e| external::map_error(from_external_sender, e))?;
        let sender = processed.sender().clone();
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(_) => Ok(Outcome::ApplicationIgnored),
            ProcessedMessageContent::ProposalMessage(qp) => self.handle_proposal(*qp),
            // A new member's proposal to add itself: an Add like any other.
            ProcessedMessageContent::ExternalJoinProposalMessage(qp) => self.handle_proposal(*qp),
            ProcessedMessageContent::StagedCommitMessage(sc) => self.handle_commit(&sender, *sc),
            ProcessedMessageContent::OwnPendingCommit => self.confirm_own_commit(),
            ProcessedMessageContent::OwnPrivateMessage => Ok(Outcome::OwnMessageIgnored),
        }
    }

    /// Store an incoming proposal if it passes the duplicate, cap and membership checks.
    fn handle_proposal(&mut self, qp: QueuedProposal) -> Result<Outcome> {
        let mls = &self.group()?.mls;
        // The reference hashes the whole authenticated content: the same reference is
        // the same message again. Proposals equal in content but not in reference are
        // kept (a commit may name either); the caps bound them.
        let reference = qp.proposal_reference_ref();
        if mls
            .pending_proposals()
            .any(|p| p.proposal_reference_ref() == reference)
        {
            if *qp.sender() == Sender::Member(mls.own_leaf_index()) {
                return Ok(Outcome::OwnMessageIgnored);
            }
            return Err(MlsError::DuplicateProposal);
        }
        let pending_bytes = mls
            .pending_proposals()
            .map(|p| p.proposal().tls_serialized_len())
            .fold(0usize, usize::saturating_add);
        self.limits.check_pending(
            mls.pending_proposals().count(),
            pending_bytes,
            qp.proposal().tls_serialized_len(),
        )?;
        match qp.proposal() {
            Proposal::Add(add) => self.check_add_proposal(mls, add)?,
            Proposal::Update(update) => {
                let Sender::Member(leaf) = qp.sender() else {
                    return Err(MlsError::Rejected);
                };
                self.check_leaf_change(mls, *leaf, update.leaf_node())?;
            }
            // A removal of an empty leaf (say, from an external sender) would make every
            // commit of the pending proposals fail.
            Proposal::Remove(r) if mls.member_at(r.removed()).is_none() => {
                return Err(MlsError::UnknownMember);
            }
            Proposal::Remove(_) => {}
            Proposal::GroupContextExtensions(gce) => {
                self.params_after(gce.extensions())?;
            }
            // PreSharedKey: we hold no PSKs, so we could never commit it; ReInit,
            // SelfRemove, custom types: not followed.
            _ => return Err(MlsError::UnsupportedProposal),
        }
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        g.mls
            .store_pending_proposal(self.provider.storage(), qp)
            .map_err(|_| MlsError::Internal("storage failed"))?;
        Ok(Outcome::ProposalsPending)
    }

    /// An incoming Add proposal: a new device (not a member, not already proposed), room
    /// in the group once every pending add is committed, and the policy's consent.
    /// Pending removals are not counted: a device being replaced is added after its
    /// removal is committed.
    fn check_add_proposal(&self, mls: &MlsGroup, add: &AddProposal) -> Result<()> {
        let leaf = add.key_package().leaf_node();
        let credential = MemberCredential::of(leaf.credential());
        let identity = credential.identity();
        let same_device =
            |c: &Credential| identity.is_some() && MemberCredential::of(c).identity() == identity;
        let mut pending_adds = 0usize;
        for p in mls.pending_proposals() {
            if let Proposal::Add(other) = p.proposal() {
                pending_adds += 1;
                if same_device(other.key_package().leaf_node().credential()) {
                    return Err(MlsError::DuplicateMember);
                }
            }
        }
        if mls.members().any(|m| same_device(&m.credential)) {
            return Err(MlsError::DuplicateMember);
        }
        self.limits
            .check_members(mls.members().count() + pending_adds + 1)?;
        self.admit(&credential, leaf.signature_key().as_slice())
    }

    /// The source of the SFrame parameters once the group context carries
    /// `extensions`: refused when they would change the parameters themselves.
    ///
    /// # Errors
    /// [`MlsError::ParamsChangeRefused`] when extension 0xff00 would carry other (or
    /// malformed) parameters than the group uses.
    fn params_after(&self, extensions: &Extensions<GroupContext>) -> Result<ParamsSource> {
        let g = self.group()?;
        match extensions.unknown(PARAMS_EXTENSION_TYPE) {
            None => Ok(ParamsSource::App),
            Some(ext) => match GroupParams::decode(&ext.0) {
                Ok(p) if p == g.params => Ok(ParamsSource::GroupContext),
                _ => Err(MlsError::ParamsChangeRefused),
            },
        }
    }

    /// A member replaces its leaf (update proposal or commit path): an `mlsframe`
    /// identity must stay the same; any new credential or signature key goes to the
    /// admission policy.
    ///
    /// # Errors
    /// [`MlsError::Rejected`] for a leaf that is not in the group,
    /// [`MlsError::InvalidIdentity`] when an `mlsframe` identity would change,
    /// [`MlsError::AdmissionRefused`] when the policy refuses the new credential or key.
    fn check_leaf_change(&self, mls: &MlsGroup, leaf: LeafNodeIndex, new: &LeafNode) -> Result<()> {
        let old = mls.member_at(leaf).ok_or(MlsError::Rejected)?;
        let old_credential = MemberCredential::of(&old.credential);
        let credential = MemberCredential::of(new.credential());
        if old_credential.identity().is_some() && old_credential != credential {
            return Err(MlsError::InvalidIdentity);
        }
        if old_credential != credential || old.signature_key != new.signature_key().as_slice() {
            self.admit(&credential, new.signature_key().as_slice())?;
        }
        Ok(())
    }

    /// Check an incoming commit against the proposal types we follow, the SFrame
    /// parameters, the admission policy, identity rules and the member cap. Returns where
    /// the parameters come from after it.
    fn check_commit(
        &self,
        mls: &MlsGroup,
        sender: &Sender,
        sc: &StagedCommit,
    ) -> core::result::Result<ParamsSource, CommitRefusal> {
        let mut source = self
            .group()
            .map_err(CommitRefusal::NotFollowed)?
            .params_source;
        for p in sc.queued_proposals() {
            match p.proposal() {
                Proposal::Add(_)
                | Proposal::Remove(_)
                | Proposal::Update(_)
                | Proposal::ExternalInit(_)
                | Proposal::PreSharedKey(_) => {}
                Proposal::GroupContextExtensions(_) => {
                    source = self
                        .params_after(sc.group_context().extensions())
                        .map_err(CommitRefusal::NotFollowed)?;
                }
                _ => return Err(CommitRefusal::NotFollowed(MlsError::UnsupportedProposal)),
            }
        }
        if *sender == Sender::NewMemberCommit {
            self.check_external_commit(mls, sc)
        } else {
            self.check_members(mls, sender, sc)
        }
        .map_err(CommitRefusal::Terminal)?;
        Ok(source)
    }

    /// The membership part of [`check_commit`](Self::check_commit). `Err` is the reason
    /// of a terminal policy violation.
    fn check_members(
        &self,
        mls: &MlsGroup,
        sender: &Sender,
        sc: &StagedCommit,
    ) -> core::result::Result<(), String> {
        // Membership after the commit: its removals apply before its adds (RFC 9420
        // §12.3), so a commit may remove a device and add it back with a new leaf.
        let removed: BTreeSet<LeafNodeIndex> = sc
            .remove_proposals()
            .map(|r| r.remove_proposal().removed())
            .collect();
        let staying: Vec<Member> = mls
            .members()
            .filter(|m| !removed.contains(&m.index))
            .collect();
        let mut present: BTreeSet<MemberIdentity> = staying
            .iter()
            .filter_map(|m| MemberCredential::of(&m.credential).identity())
            .collect();
        let mut added = Vec::new();
        for add in sc.add_proposals() {
            let leaf = add.add_proposal().key_package().leaf_node();
            let credential = MemberCredential::of(leaf.credential());
            if let Some(identity) = credential.identity()
                && !present.insert(identity)
            {
                return Err("commit adds a device already in the group".into());
            }
            added.push((credential, leaf.signature_key().as_slice().to_vec()));
        }
        if self
            .limits
            .check_members(staying.len() + added.len())
            .is_err()
        {
            return Err("commit would exceed the group's member cap".into());
        }
        let refusal = |e: MlsError, changed_identity: &str| match e {
            MlsError::AdmissionRefused { reason } => reason,
            MlsError::InvalidIdentity => changed_identity.to_string(),
            other => other.to_string(),
        };
        for (credential, signature_key) in &added {
            self.admit(credential, signature_key)
                .map_err(|e| refusal(e, "added member has an invalid identity"))?;
        }
        // A member may rotate keys but never change who it claims to be; a new
        // credential or signature key needs the policy's consent.
        if let Some(path_leaf) = sc.update_path_leaf_node() {
            let Sender::Member(leaf) = sender else {
                return Err("commit from a non-member".into());
            };
            self.check_leaf_change(mls, *leaf, path_leaf)
                .map_err(|e| refusal(e, "committer changed its identity"))?;
        }
        for up in sc.update_proposals() {
            let Sender::Member(leaf) = up.sender() else {
                return Err("update from a non-member".into());
            };
            self.check_leaf_change(mls, *leaf, up.update_proposal().leaf_node())
                .map_err(|e| refusal(e, "member changed its identity"))?;
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
            g.pending = None;
            if let Some(epoch) = lost_pending {
                self.sink.apply(EpochEvent::Discarded { epoch });
            }
            self.enter(Status::Removed);
            return Ok(Outcome::Removed);
        }
        let params_source = match self.check_commit(&g.mls, sender, &sc) {
            Ok(source) => source,
            // Not merged, nothing changes: our pending commit (if any) stays pending.
            Err(CommitRefusal::NotFollowed(e)) => return Err(e),
            Err(CommitRefusal::Terminal(reason)) => return self.terminate(lost_pending, reason),
        };
        let secrets = self.staged_secrets(&g.mls, g.params, &sc)?;
        let (removed, added_keys) = commit_changes(&g.mls, &sc);
        let new_epoch = secrets.epoch;
        if let Some(epoch) = lost_pending {
            self.sink.apply(EpochEvent::Discarded { epoch });
        }
        self.sink.apply(EpochEvent::Staged(secrets));
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        g.pending = None;
        if g.mls.merge_staged_commit(&self.provider, sc).is_err() {
            self.sink.apply(EpochEvent::Discarded { epoch: new_epoch });
            return Err(MlsError::Internal("merge failed"));
        }
        g.params_source = params_source;
        self.after_merge(removed, added_keys)
    }

    /// An incoming, sequenced commit broke the admission policy: the group is unusable.
    fn terminate(&mut self, lost_pending: Option<u64>, reason: String) -> Result<Outcome> {
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        if g.pending.take().is_some() {
            g.mls
                .clear_pending_commit(self.provider.storage())
                .map_err(|_| MlsError::Internal("storage failed"))?;
        }
        if let Some(epoch) = lost_pending {
            self.sink.apply(EpochEvent::Discarded { epoch });
        }
        // Terminal: we cannot follow the group any more, so media stops as hard as
        // after a removal (no sealing, short retention for receiving).
        self.enter(Status::Terminated);
        Ok(Outcome::PolicyViolation { reason })
    }
}

/// Members a commit removes (resolved against the current tree) and the signature keys
/// of those it adds.
pub(super) fn commit_changes(mls: &MlsGroup, sc: &StagedCommit) -> (Vec<MemberInfo>, Vec<Vec<u8>>) {
    let removed_leaves: BTreeSet<LeafNodeIndex> = sc
        .remove_proposals()
        .map(|r| r.remove_proposal().removed())
        .collect();
    let removed = mls
        .members()
        .filter(|m| removed_leaves.contains(&m.index))
        .map(|m| member_info(&m))
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
        .chain(external::joiner(sc).map(|l| l.signature_key().as_slice().to_vec()))
        .collect();
    (removed, added)
}
