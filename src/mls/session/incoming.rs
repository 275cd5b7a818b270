//! Incoming handshake messages: proposals and commits from the delivery service, checked
//! against the admission policy and identity rules, turned into [`Outcome`]s.

use std::collections::BTreeSet;

use openmls::prelude::tls_codec::Size as _;
use openmls::prelude::*;

use super::{MemberInfo, Outcome, Session, Status, identity_of, member_info, parse};
use crate::mls::epoch_event::EpochEvent;
use crate::mls::error::{MlsError, Result};

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

impl Session {
    /// Process an incoming handshake message (TLS-encoded `MLSMessage`) from the
    /// delivery service. Errors leave the group state unchanged (an encrypted message
    /// refused after decryption has used up its one-time key, as MLS requires).
    ///
    /// A proposal is stored only if it is not pending already, fits the pending caps of
    /// [`Limits`](super::Limits), keeps the group within
    /// [`Limits::max_members`](super::Limits), and passes the admission policy (an add).
    /// A commit that would exceed the member cap or brings a member the policy refuses
    /// is a terminal [`Outcome::PolicyViolation`]: the delivery service already
    /// sequenced it.
    ///
    /// # Errors
    /// [`MlsError::MessageTooLarge`] before parsing anything;
    /// [`MlsError::DuplicateProposal`] for a proposal already pending (a replay);
    /// [`MlsError::TooManyProposals`], [`MlsError::GroupFull`] or
    /// [`MlsError::AdmissionRefused`] for a proposal refused storage; parsing and MLS
    /// validation errors otherwise.
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
            ProcessedMessageContent::ProposalMessage(qp) => self.handle_proposal(*qp),
            ProcessedMessageContent::StagedCommitMessage(sc) => self.handle_commit(&sender, *sc),
            ProcessedMessageContent::OwnPendingCommit => self.confirm_own_commit(),
            ProcessedMessageContent::OwnPrivateMessage => Ok(Outcome::OwnMessageIgnored),
            _ => Err(MlsError::Rejected),
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
            Proposal::Remove(_) | Proposal::Update(_) => {}
            _ => return Err(MlsError::Rejected),
        }
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        g.mls
            .store_pending_proposal(self.provider.storage(), qp)
            .map_err(|_| MlsError::Internal("storage failed"))?;
        Ok(Outcome::ProposalsPending)
    }

    /// An incoming Add proposal: room in the group once every pending add is committed,
    /// and the policy's consent. Pending removals are not counted.
    fn check_add_proposal(&self, mls: &MlsGroup, add: &AddProposal) -> Result<()> {
        let leaf = add.key_package().leaf_node();
        let identity = identity_of(leaf.credential())?;
        let pending_adds = mls
            .pending_proposals()
            .filter(|p| matches!(p.proposal(), Proposal::Add(_)))
            .count();
        self.limits
            .check_members(mls.members().count() + pending_adds + 1)?;
        self.admit(&identity, leaf.signature_key().as_slice())
    }

    /// Check an incoming commit against the admission policy, identity rules and the
    /// member cap. `Err` is the reason of a terminal policy violation.
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
        // Membership after the commit: its removals apply before its adds.
        let removed: BTreeSet<LeafNodeIndex> = sc
            .remove_proposals()
            .map(|r| r.remove_proposal().removed())
            .collect();
        let staying = mls
            .members()
            .filter(|m| !removed.contains(&m.index))
            .count();
        if self
            .limits
            .check_members(staying + sc.add_proposals().count())
            .is_err()
        {
            return Err("commit would exceed the group's member cap".into());
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
            g.pending = None;
            if let Some(epoch) = lost_pending {
                self.sink.apply(EpochEvent::Discarded { epoch });
            }
            self.enter(Status::Removed);
            return Ok(Outcome::Removed);
        }
        if let Err(reason) = self.check_commit(&g.mls, sender, &sc) {
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
            return Ok(Outcome::PolicyViolation { reason });
        }
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
        self.after_merge(removed, added_keys)
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
