//! Group operations this member starts: key packages, creating and joining a group, and
//! our own commits (add, remove, update, leave, pending proposals) with their
//! confirmation or discard.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use openmls::prelude::*;
use openmls_traits::storage::StorageProvider as _;
use zeroize::Zeroizing;

use super::external;
use super::incoming::commit_changes;
use super::params::{GroupOptions, JoinOptions, ParamsSource};
use super::{
    BASE_KEY_LABEL, CommitOutput, Group, GroupParams, MemberInfo, Outcome, PARAMS_EXTENSION_TYPE,
    PendingOwn, Session, Status, capabilities, member_info, operational, parse, serialize,
};
use crate::mls::credential::MemberCredential;
use crate::mls::epoch_event::{EpochEvent, EpochSecrets};
use crate::mls::error::{MlsError, Result};
use crate::mls::identity::MemberIdentity;

/// The roster after removing `removed` and adding `added` members in order, following
/// RFC 9420 §12.1.1 (each add takes the leftmost blank leaf, else extends the tree).
pub(super) fn predict_roster(
    current: &EpochRoster,
    removed: &BTreeSet<u32>,
    added: impl IntoIterator<Item = Option<Arc<MemberIdentity>>>,
) -> EpochRoster {
    let mut occupied: BTreeSet<u32> = current
        .leaves
        .iter()
        .copied()
        .filter(|l| !removed.contains(l))
        .collect();
    let mut identities = current.identities.clone();
    identities.retain(|l, _| occupied.contains(l));
    let mut next = 0u32;
    for identity in added {
        while occupied.contains(&next) {
            next += 1;
        }
        occupied.insert(next);
        if let Some(id) = identity {
            identities.insert(next, id);
        }
    }
    EpochRoster {
        leaves: occupied.into_iter().collect(),
        identities,
    }
}

/// Who holds which leaf in one epoch.
pub(super) struct EpochRoster {
    pub(super) leaves: Vec<u32>,
    pub(super) identities: HashMap<u32, Arc<MemberIdentity>>,
}

impl EpochRoster {
    fn of(mls: &MlsGroup) -> EpochRoster {
        let mut leaves = Vec::new();
        let mut identities = HashMap::new();
        for m in mls.members() {
            let leaf = m.index.u32();
            leaves.push(leaf);
            if let Some(id) = MemberCredential::of(&m.credential).identity() {
                identities.insert(leaf, Arc::new(id));
            }
        }
        EpochRoster { leaves, identities }
    }
}

impl Session {
    fn ensure_no_active_group(&self) -> Result<()> {
        match &self.group {
            Some(g) if g.status == Status::Active => Err(MlsError::AlreadyInGroup),
            _ => Ok(()),
        }
    }

    /// Create a new group with this device as its only member (epoch 0): the default
    /// MLS ciphersuite of our identity (0x0001 for Ed25519, 0x0002 for P-256), `params`
    /// carried in the group context. See
    /// [`create_group_with`](Self::create_group_with) for the other choices.
    ///
    /// # Errors
    /// As [`create_group_with`](Self::create_group_with).
    pub fn create_group(&mut self, params: GroupParams) -> Result<()> {
        self.create_group_with(&GroupOptions {
            params,
            ciphersuite: self.default_ciphersuite(),
            ..GroupOptions::default()
        })
    }

    /// Create a new group with this device as its only member (epoch 0), as `options`
    /// say: the MLS ciphersuite, whether the SFrame parameters travel in the group
    /// context (and every member must support extension 0xff00) or are left to the
    /// applications (for groups with members on other MLS stacks), and the external
    /// senders allowed to propose.
    ///
    /// # Errors
    /// [`MlsError::AlreadyInGroup`]; [`MlsError::InvalidParams`];
    /// [`MlsError::CiphersuiteMismatch`] when the suite needs another signature
    /// algorithm than our identity's; [`MlsError::InvalidConfig`] for a malformed
    /// external sender.
    pub fn create_group_with(&mut self, options: &GroupOptions) -> Result<()> {
        self.ensure_no_active_group()?;
        let params = options.params;
        params.validate()?;
        self.check_suite(options.ciphersuite)?;
        let mut extensions = Vec::new();
        if options.params_source == ParamsSource::GroupContext {
            extensions.push(Extension::Unknown(
                PARAMS_EXTENSION_TYPE,
                UnknownExtension(params.encode()),
            ));
            extensions.push(Extension::RequiredCapabilities(
                RequiredCapabilitiesExtension::new(
                    &[ExtensionType::Unknown(PARAMS_EXTENSION_TYPE)],
                    &[],
                    &[CredentialType::Basic],
                ),
            ));
        }
        extensions.extend(external::external_senders_extension(
            &options.external_senders,
            options.ciphersuite.signature_scheme(),
        )?);
        let gce = Extensions::<GroupContext>::from_vec(extensions)
            .map_err(|_| MlsError::Internal("group context extensions rejected"))?;
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(options.ciphersuite.openmls())
            .use_ratchet_tree_extension(true)
            .wire_format_policy(params.wire_policy())
            .capabilities(capabilities(self.signer.signature_scheme()))
            .with_group_context_extensions(gce)
            .build();
        let mls = MlsGroup::new(
            &self.provider,
            &self.signer,
            &config,
            self.credential.clone(),
        )
        .map_err(|_| MlsError::Internal("group creation failed"))?;
        // A new group's epochs were never sealed in by us: whatever a restore left
        // unknown belonged to the group that ended.
        self.rekey_required = false;
        let secrets = self.current_secrets(&mls, params, false)?;
        self.group = Some(Group {
            mls,
            params,
            params_source: options.params_source,
            status: Status::Active,
            pending: None,
        });
        self.sink.apply(EpochEvent::Started(secrets));
        Ok(())
    }

    /// Join a group from a welcome (TLS-encoded `MLSMessage`) that carries the ratchet
    /// tree; the SFrame parameters come from the group context, or are the
    /// [`GroupParams::default`] when it has none. Same as
    /// [`join_with`](Self::join_with) with [`JoinOptions::default`].
    ///
    /// # Errors
    /// As [`join_with`](Self::join_with).
    pub fn join(&mut self, welcome: &[u8]) -> Result<u64> {
        self.join_with(welcome, JoinOptions::default())
    }

    /// Join a group from a welcome (TLS-encoded `MLSMessage`). The ratchet tree comes
    /// from the welcome's `ratchet_tree` extension or from `options.ratchet_tree`. The
    /// SFrame parameters come from the group context's extension 0xff00 when the group
    /// has it (`options.params` is then ignored), else from `options.params` or
    /// [`GroupParams::default`] (suite 4, E = 4, encrypted handshakes): every member's
    /// application must then agree on them. Every existing member is vetted by the
    /// admission policy. Returns the epoch joined. A session whose group ended (removed
    /// or terminated) can join again, even the same group: the ended group's state is
    /// discarded first.
    ///
    /// # Errors
    /// [`MlsError::WelcomeTooLarge`] before parsing anything;
    /// [`MlsError::MissingRatchetTree`] with no tree in either place;
    /// [`MlsError::InvalidRatchetTree`] for a tree that is malformed or not the group's;
    /// [`MlsError::InvalidParams`] for parameters out of range (in the group context or
    /// `options`); [`MlsError::UnsupportedCiphersuite`]; [`MlsError::GroupFull`] for a
    /// group over [`Limits::max_members`](super::Limits); [`MlsError::DuplicateMember`]
    /// when two leaves hold one credential; [`MlsError::AdmissionRefused`];
    /// [`MlsError::InvalidWelcome`] for a welcome not for us or failing validation. On
    /// error the session stays out of the group and the key package the welcome was
    /// sealed to stays usable (retry with a tree, or take another welcome).
    pub fn join_with(&mut self, welcome: &[u8], options: JoinOptions<'_>) -> Result<u64> {
        use openmls::prelude::tls_codec::Deserialize as _;
        self.limits.check_welcome(welcome.len())?;
        self.ensure_no_active_group()?;
        if let Some(p) = options.params {
            p.validate()?;
        }
        let MlsMessageBodyIn::Welcome(welcome) = parse(welcome)?.extract() else {
            return Err(MlsError::UnexpectedMessageType);
        };
        let tree = options
            .ratchet_tree
            .map(|bytes| {
                self.limits.check_welcome(bytes.len())?;
                RatchetTreeIn::tls_deserialize_exact(bytes)
                    .map_err(|_| MlsError::InvalidRatchetTree)
            })
            .transpose()?;
        let tree_given = tree.is_some();
        // A group of ours that ended (removed, terminated) may be the very group we are
        // re-added to, and openmls keeps one group per id: its state goes first.
        if let Some(mut ended) = self.group.take()
            && ended.mls.delete(self.provider.storage()).is_err()
        {
            self.group = Some(ended);
            return Err(MlsError::Internal("storage failed"));
        }
        // openmls deletes the key package the welcome is sealed to as soon as it finds
        // it, even when the join then fails (no tree, a wrong tree, a refused member):
        // keep a copy and put it back on failure, so the right welcome still works.
        let kept: Vec<(KeyPackageRef, KeyPackageBundle)> = welcome
            .secrets()
            .iter()
            .filter_map(|s| {
                let r = s.new_member();
                let bundle = self.provider.storage().key_package(&r).ok()??;
                Some((r, bundle))
            })
            .collect();
        let joined = self.stage_welcome(welcome, tree, tree_given, options.params);
        if joined.is_err() {
            for (r, bundle) in &kept {
                self.provider
                    .storage()
                    .write_key_package(r, bundle)
                    .map_err(|_| MlsError::Internal("storage failed"))?;
            }
        }
        let (mls, params, params_source) = joined?;
        // A new group's epochs were never sealed in by us: whatever a restore left
        // unknown belonged to the group that ended.
        self.rekey_required = false;
        let secrets = self.current_secrets(&mls, params, false)?;
        let epoch = secrets.epoch;
        self.group = Some(Group {
            mls,
            params,
            params_source,
            status: Status::Active,
            pending: None,
        });
        self.sink.apply(EpochEvent::Started(secrets));
        Ok(epoch)
    }

    /// Stage and check a welcome: the group, its SFrame parameters and their source.
    fn stage_welcome(
        &self,
        welcome: Welcome,
        tree: Option<RatchetTreeIn>,
        tree_given: bool,
        app_params: Option<GroupParams>,
    ) -> Result<(MlsGroup, GroupParams, ParamsSource)> {
        let staged = StagedWelcome::new_from_welcome(
            &self.provider,
            &GroupParams::default().join_config(),
            welcome,
            tree,
        )
        .map_err(|e| map_welcome_error(e, tree_given))?;
        let extensions = staged.group_context().extensions();
        let (params, params_source) = match extensions.unknown(PARAMS_EXTENSION_TYPE) {
            Some(ext) => (GroupParams::decode(&ext.0)?, ParamsSource::GroupContext),
            None => (app_params.unwrap_or_default(), ParamsSource::App),
        };
        self.limits.check_members(staged.members().count())?;
        let own = staged.own_leaf_index();
        // Two leaves of one `mlsframe` device are refused; other stacks' credentials
        // may repeat (MLS only requires distinct signature keys), the policy decides.
        let mut seen = BTreeSet::new();
        for m in staged.members() {
            let credential = MemberCredential::of(&m.credential);
            if m.index != own {
                self.admit(&credential, &m.signature_key)?;
            }
            if let Some(identity) = credential.identity()
                && !seen.insert(identity)
            {
                return Err(MlsError::DuplicateMember);
            }
        }
        let mut mls = staged
            .into_group(&self.provider)
            .map_err(|_| MlsError::InvalidWelcome)?;
        mls.set_configuration(self.provider.storage(), &params.join_config())
            .map_err(|_| MlsError::Internal("storage failed"))?;
        Ok((mls, params, params_source))
    }

    pub(super) fn current_secrets(
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
        let roster = EpochRoster::of(mls);
        Ok(EpochSecrets {
            epoch: mls.epoch().as_u64(),
            base_key: Zeroizing::new(base_key),
            occupied_leaves: roster.leaves,
            identities: roster.identities,
            own_leaf: mls.own_leaf_index().u32(),
            removed_someone,
            layout: params.layout(),
            may_send: !self.rekey_required,
        })
    }

    pub(super) fn staged_secrets(
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
        let added = sc.add_proposals().map(|a| {
            MemberCredential::of(a.add_proposal().key_package().leaf_node().credential())
                .identity()
                .map(Arc::new)
        });
        // An external commit's joiner takes a leaf as an add does.
        let joiner = external::joiner(sc).map(|l| {
            MemberCredential::of(l.credential())
                .identity()
                .map(Arc::new)
        });
        let added = added.chain(joiner);
        let roster = predict_roster(&EpochRoster::of(mls), &removed, added);
        Ok(EpochSecrets {
            epoch: sc.epoch().as_u64(),
            base_key: Zeroizing::new(base_key),
            occupied_leaves: roster.leaves,
            identities: roster.identities,
            own_leaf: mls.own_leaf_index().u32(),
            removed_someone: !removed.is_empty(),
            layout: params.layout(),
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
            // Members with the same limits would refuse what does not fit them.
            self.limits.check_message(commit.len())?;
            if let Some(w) = &welcome {
                self.limits.check_welcome(w.len())?;
            }
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
                    external: None,
                });
                self.sink.apply(EpochEvent::Staged(secrets));
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
    ///
    /// # Errors
    /// [`MlsError::KeyPackageTooLarge`] and [`MlsError::GroupFull`] (over
    /// [`Limits`](super::Limits)) before parsing anything; [`MlsError::DuplicateMember`]
    /// for a device already in the group or given twice; [`MlsError::AdmissionRefused`];
    /// [`MlsError::MessageTooLarge`] or [`MlsError::WelcomeTooLarge`] when the commit or
    /// welcome would exceed the limits; parsing and validation errors. Nothing changes
    /// on error.
    pub fn add_members(&mut self, key_packages: &[&[u8]]) -> Result<CommitOutput> {
        if key_packages.is_empty() {
            return Err(MlsError::EmptyInput);
        }
        let g = operational(&mut self.group)?;
        let members = g.mls.members().count();
        for bytes in key_packages {
            self.limits.check_key_package(bytes.len())?;
        }
        self.limits
            .check_members(members.saturating_add(key_packages.len()))?;
        let group_suite = g.mls.ciphersuite();
        let requires_params = g.params_source == ParamsSource::GroupContext;
        let mut kps = Vec::with_capacity(key_packages.len());
        let mut seen: BTreeSet<MemberIdentity> = self
            .members()?
            .into_iter()
            .filter_map(|m| m.identity)
            .collect();
        for bytes in key_packages {
            let MlsMessageBodyIn::KeyPackage(kp) = parse(bytes)?.extract() else {
                return Err(MlsError::UnexpectedMessageType);
            };
            let kp = kp
                .validate(self.provider.crypto(), ProtocolVersion::Mls10)
                .map_err(|_| MlsError::InvalidKeyPackage)?;
            if kp.ciphersuite() != group_suite {
                return Err(MlsError::CiphersuiteMismatch);
            }
            let leaf = kp.leaf_node();
            if requires_params
                && !leaf
                    .capabilities()
                    .extensions()
                    .contains(&ExtensionType::Unknown(PARAMS_EXTENSION_TYPE))
            {
                return Err(MlsError::MissingCapability);
            }
            let credential = MemberCredential::of(leaf.credential());
            if let Some(identity) = credential.identity()
                && !seen.insert(identity)
            {
                return Err(MlsError::DuplicateMember);
            }
            self.admit(&credential, leaf.signature_key().as_slice())?;
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
            .filter(|m| m.identity.as_ref().is_some_and(|id| id.user_id == user_id))
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
    ///
    /// # Errors
    /// [`MlsError::EmptyInput`] with nothing pending; [`MlsError::CannotRemoveSelf`];
    /// [`MlsError::GroupFull`] when the pending adds would exceed
    /// [`Limits::max_members`](super::Limits).
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
        let mut removed = BTreeSet::new();
        let mut adds = 0usize;
        for p in g.mls.pending_proposals() {
            match p.proposal() {
                Proposal::Add(_) => adds += 1,
                Proposal::Remove(r) => {
                    removed.insert(r.removed());
                }
                _ => {}
            }
        }
        let staying = g
            .mls
            .members()
            .filter(|m| !removed.contains(&m.index))
            .count();
        self.limits.check_members(staying + adds)?;
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
        if g.joining() {
            return self.confirm_external_join();
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
    /// it) or was refused: drop it and its staged keys. A pending external join takes the
    /// joined group with it ([`join_by_external_commit`](Self::join_by_external_commit)).
    pub fn discard_pending_commit(&mut self) -> Result<()> {
        let g = self.group.as_mut().ok_or(MlsError::NoGroup)?;
        if g.joining() {
            return self.discard_external_join();
        }
        let pending = g.pending.take().ok_or(MlsError::NoPendingCommit)?;
        g.mls
            .clear_pending_commit(self.provider.storage())
            .map_err(|_| MlsError::Internal("storage failed"))?;
        self.sink.apply(EpochEvent::Discarded {
            epoch: pending.epoch,
        });
        Ok(())
    }

    pub(super) fn after_merge(
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
            .map(|m| member_info(&m))
            .collect();
        self.sink.apply(EpochEvent::Merged(secrets));
        Ok(Outcome::EpochChanged {
            epoch,
            added,
            removed,
        })
    }
}

/// The specific error of a welcome openmls refused.
fn map_welcome_error<E>(e: WelcomeError<E>, tree_given: bool) -> MlsError {
    match e {
        WelcomeError::MissingRatchetTree => MlsError::MissingRatchetTree,
        WelcomeError::PublicTreeError(_) | WelcomeError::PublicGroupError(_) if tree_given => {
            MlsError::InvalidRatchetTree
        }
        WelcomeError::UnsupportedCiphersuite(_) => MlsError::UnsupportedCiphersuite,
        WelcomeError::CiphersuiteMismatch => MlsError::CiphersuiteMismatch,
        WelcomeError::LibraryError(_) | WelcomeError::StorageError(_) => {
            MlsError::Internal("welcome processing failed internally")
        }
        _ => MlsError::InvalidWelcome,
    }
}
