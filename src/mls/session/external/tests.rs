//! External joins (rejoin after a crash, new devices), their confirmation and discard,
//! the policy on both sides, and proposals from external senders and new members.

use std::sync::Arc;

use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;

use super::super::storage::SessionProvider;
use super::super::*;
use crate::mls::media::MediaError;
use crate::mls::policy::{AdmitAll, Refusal};

type Storage = <SessionProvider as OpenMlsProvider>::StorageProvider;

/// Refuses every device of one user.
struct Refuse(&'static [u8]);

impl AdmissionPolicy for Refuse {
    fn admit(&self, c: &Candidate<'_>) -> core::result::Result<(), Refusal> {
        if c.identity.is_some_and(|id| id.user_id == self.0) {
            return Err(Refusal(format!(
                "{} is not welcome",
                String::from_utf8_lossy(self.0)
            )));
        }
        Ok(())
    }
}

fn member_id(user: &str) -> MemberIdentity {
    MemberIdentity::new(user.as_bytes().to_vec(), b"laptop".to_vec()).expect("valid id")
}

fn device_with(identity: Identity, policy: Arc<dyn AdmissionPolicy>) -> Session {
    Session::new(identity, policy, MediaConfig::default()).expect("session")
}

fn device(user: &str) -> Session {
    device_with(
        Identity::generate(member_id(user)).expect("rng"),
        Arc::new(AdmitAll),
    )
}

/// `members[0]` creates the group (with `senders` as external senders) and adds the rest.
fn call(mut members: Vec<Session>, senders: &[(Vec<u8>, Vec<u8>)]) -> Vec<Session> {
    members[0]
        .create_group_with(&GroupOptions {
            external_senders: senders.to_vec(),
            ..GroupOptions::default()
        })
        .expect("create");
    let kps: Vec<Vec<u8>> = members[1..]
        .iter()
        .map(|m| m.key_package().expect("kp"))
        .collect();
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let out = members[0].add_members(&refs).expect("add");
    members[0].confirm_own_commit().expect("confirm");
    let welcome = out.welcome.expect("welcome");
    for m in &mut members[1..] {
        m.join(&welcome).expect("join");
    }
    members
}

fn alice_bob_carol() -> Vec<Session> {
    call(vec![device("alice"), device("bob"), device("carol")], &[])
}

fn seal(s: &Session, context: u64, payload: &[u8]) -> core::result::Result<Vec<u8>, MediaError> {
    let mut enc = s.media().encryptor(context)?;
    let mut out = vec![0u8; enc.max_ciphertext_len(payload.len()).expect("small")];
    let n = enc.encrypt(b"", payload, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Opens `frame` at `s`: the plaintext and the sender's leaf and user id.
fn open(s: &Session, frame: &[u8]) -> (Vec<u8>, u32, Vec<u8>) {
    let mut out = vec![0u8; frame.len()];
    let mut decryptor = s.media().decryptor();
    let opened = decryptor.decrypt(b"", frame, &mut out).expect("opens");
    out.truncate(opened.len);
    let user = decryptor
        .identity_at(opened.sender.epoch, opened.sender.leaf)
        .expect("known sender")
        .user_id
        .clone();
    (out, opened.sender.leaf, user)
}

fn pending_proposals(s: &Session) -> usize {
    s.group
        .as_ref()
        .expect("group")
        .mls
        .pending_proposals()
        .count()
}

fn leaves_of(infos: &[MemberInfo]) -> Vec<(u32, Vec<u8>)> {
    infos
        .iter()
        .map(|m| {
            (
                m.leaf,
                m.identity
                    .as_ref()
                    .expect("mlsframe member")
                    .user_id
                    .clone(),
            )
        })
        .collect()
}

fn assert_epoch_changed(
    outcome: Outcome,
    epoch: u64,
    added: &[(u32, &str)],
    removed: &[(u32, &str)],
) {
    let want = |l: &[(u32, &str)]| -> Vec<(u32, Vec<u8>)> {
        l.iter()
            .map(|(leaf, u)| (*leaf, u.as_bytes().to_vec()))
            .collect()
    };
    match outcome {
        Outcome::EpochChanged {
            epoch: e,
            added: a,
            removed: r,
        } => {
            assert_eq!(e, epoch);
            assert_eq!(leaves_of(&a), want(added));
            assert_eq!(leaves_of(&r), want(removed));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_crashed_device_rejoins_by_external_commit_and_media_follows() {
    let mut g = alice_bob_carol();
    // Carol's device crashes: its session is gone, only its identity seed survived.
    let carol = g.pop().expect("carol");
    let seed = carol.identity().seed();
    drop(carol);
    let mut carol = device_with(
        Identity::from_seed(member_id("carol"), &seed),
        Arc::new(AdmitAll),
    );

    let info = g[0].group_info().expect("group info");
    let out = carol
        .join_by_external_commit(&info, JoinOptions::default())
        .expect("external commit");
    assert_eq!((out.epoch, out.welcome.as_ref()), (2, None));
    assert!(carol.has_pending_commit());
    // Pending: nothing sealed, nothing else processed, nothing else started.
    assert_eq!(seal(&carol, 0, b"early"), Err(MediaError::NotMember));
    assert_eq!(carol.process(&info), Err(MlsError::CommitPending));
    assert_eq!(carol.self_update(), Err(MlsError::CommitPending));
    assert_eq!(carol.group_info(), Err(MlsError::CommitPending));
    assert!(matches!(carol.snapshot(), Err(MlsError::CommitPending)));

    assert_eq!(carol.media().installed_epochs(), vec![2]);
    for m in &mut g {
        assert_epoch_changed(
            m.process(&out.commit).expect("process"),
            2,
            &[(2, "carol")],
            &[(2, "carol")],
        );
    }
    // The others moved first: the pending joiner already opens their frames.
    let early = seal(&g[0], 0, b"before the confirmation").expect("seal");
    assert_eq!(
        open(&carol, &early),
        (b"before the confirmation".to_vec(), 0, b"alice".to_vec())
    );
    assert_epoch_changed(
        carol.confirm_own_commit().expect("confirm"),
        2,
        &[(2, "carol")],
        &[(2, "carol")],
    );
    assert_eq!(carol.own_leaf(), Some(2));
    assert_eq!(carol.params(), Some(GroupParams::default()));
    for m in &g {
        assert_eq!(m.members(), carol.members());
        assert_eq!(m.security_code(), carol.security_code());
    }

    // Media: the rejoined device seals, the others open, and back.
    let frame = seal(&carol, 0, b"carol is back").expect("seal");
    for m in &g {
        assert_eq!(
            open(m, &frame),
            (b"carol is back".to_vec(), 2, b"carol".to_vec())
        );
    }
    let frame = seal(&g[1], 0, b"welcome back").expect("seal");
    assert_eq!(
        open(&carol, &frame),
        (b"welcome back".to_vec(), 1, b"bob".to_vec())
    );

    // The group goes on: carol's next commit is an ordinary (encrypted) one.
    let up = carol.self_update().expect("update");
    carol.confirm_own_commit().expect("confirm");
    for m in &mut g {
        assert_epoch_changed(m.process(&up.commit).expect("process"), 3, &[], &[]);
    }
}

#[test]
fn an_external_join_is_confirmed_by_its_echo_and_its_old_session_is_removed() {
    let mut g = alice_bob_carol();
    // Carol's old session still runs (say it lost its connection, then the app started
    // a new session with the same identity): the rejoin removes the old one.
    let seed = g[2].identity().seed();
    let mut carol = device_with(
        Identity::from_seed(member_id("carol"), &seed),
        Arc::new(AdmitAll),
    );
    let out = carol
        .join_by_external_commit(&g[1].group_info().expect("info"), JoinOptions::default())
        .expect("join");
    assert_eq!(g[2].process(&out.commit), Ok(Outcome::Removed));
    g.pop();
    for m in &mut g {
        assert_epoch_changed(
            m.process(&out.commit).expect("process"),
            2,
            &[(2, "carol")],
            &[(2, "carol")],
        );
    }
    assert!(matches!(
        carol.process(&out.commit),
        Ok(Outcome::EpochChanged { epoch: 2, .. })
    ));
    assert!(!carol.has_pending_commit());

    // A new device joins the same way; its leaf is a new one.
    let mut dave = device("dave");
    let out = dave
        .join_by_external_commit(&carol.group_info().expect("info"), JoinOptions::default())
        .expect("join");
    assert_epoch_changed(
        dave.process(&out.commit).expect("echo"),
        3,
        &[(3, "dave")],
        &[],
    );
    for m in g.iter_mut().chain([&mut carol]) {
        assert_epoch_changed(
            m.process(&out.commit).expect("process"),
            3,
            &[(3, "dave")],
            &[],
        );
    }
    assert_eq!(dave.security_code(), g[0].security_code());
}

#[test]
fn a_lost_or_refused_external_join_is_discarded_and_retried() {
    let mut g = alice_bob_carol();
    let mut dave = device("dave");
    let stale = g[0].group_info().expect("info");
    let out = dave
        .join_by_external_commit(&stale, JoinOptions::default())
        .expect("join");
    // Bob's commit is sequenced first; dave's external commit is now for a past epoch.
    let up = g[1].self_update().expect("update");
    g[1].confirm_own_commit().expect("confirm");
    for i in [0, 2] {
        g[i].process(&up.commit).expect("process");
    }
    assert_eq!(g[0].process(&out.commit), Err(MlsError::WrongEpoch));
    // The winner means nothing to dave: it was not in that epoch.
    assert_eq!(dave.process(&up.commit), Err(MlsError::CommitPending));
    dave.discard_pending_commit().expect("discard");
    assert_eq!(dave.epoch(), None);
    assert!(dave.media().installed_epochs().is_empty());
    assert!(!dave.has_pending_commit());
    assert_eq!(dave.discard_pending_commit(), Err(MlsError::NoGroup));
    assert_eq!(seal(&dave, 0, b"x"), Err(MediaError::NotMember));

    // A fresh group info works.
    let out = dave
        .join_by_external_commit(&g[2].group_info().expect("info"), JoinOptions::default())
        .expect("join");
    assert_eq!(out.epoch, 3);
    for m in &mut g {
        assert!(matches!(
            m.process(&out.commit),
            Ok(Outcome::EpochChanged { epoch: 3, .. })
        ));
    }
    dave.confirm_own_commit().expect("confirm");
    let frame = seal(&dave, 1, b"hello").expect("seal");
    assert_eq!(
        open(&g[0], &frame),
        (b"hello".to_vec(), 3, b"dave".to_vec())
    );
}

#[test]
fn a_ratchet_tree_may_travel_apart_from_the_group_info() {
    let mut g = alice_bob_carol();
    let a = &g[0];
    let gm = &a.group.as_ref().expect("group").mls;
    let info = gm
        .export_group_info(a.provider.crypto(), &a.signer, false)
        .expect("export");
    let info = info.tls_serialize_detached().expect("encode");
    let tree = gm
        .export_ratchet_tree()
        .tls_serialize_detached()
        .expect("encode");
    let mut dave = device("dave");
    assert_eq!(
        dave.join_by_external_commit(&info, JoinOptions::default()),
        Err(MlsError::MissingRatchetTree)
    );
    assert_eq!(
        dave.join_by_external_commit(
            &info,
            JoinOptions {
                ratchet_tree: Some(&[1, 2, 3]),
                params: None
            }
        ),
        Err(MlsError::InvalidRatchetTree)
    );
    let out = dave
        .join_by_external_commit(
            &info,
            JoinOptions {
                ratchet_tree: Some(&tree),
                params: None,
            },
        )
        .expect("join");
    assert!(matches!(
        g[1].process(&out.commit),
        Ok(Outcome::EpochChanged { epoch: 2, .. })
    ));
}

#[test]
fn bad_group_infos_are_errors_and_change_nothing() {
    let g = alice_bob_carol();
    let info = g[0].group_info().expect("info");
    let mut dave = device("dave");
    assert_eq!(
        dave.join_by_external_commit(&[], JoinOptions::default()),
        Err(MlsError::Malformed)
    );
    assert_eq!(
        dave.join_by_external_commit(&g[0].key_package().expect("kp"), JoinOptions::default()),
        Err(MlsError::UnexpectedMessageType)
    );
    let mut tampered = info.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1; // the signature
    assert_eq!(
        dave.join_by_external_commit(&tampered, JoinOptions::default()),
        Err(MlsError::InvalidGroupInfo)
    );
    dave.set_limits(Limits {
        max_welcome_bytes: info.len() - 1,
        ..Limits::default()
    })
    .expect("limits");
    assert_eq!(
        dave.join_by_external_commit(&info, JoinOptions::default()),
        Err(MlsError::GroupInfoTooLarge)
    );
    assert_eq!(dave.epoch(), None);
    // A member in a group cannot join another.
    let mut alice = g.into_iter().next().expect("alice");
    assert_eq!(
        alice.join_by_external_commit(&info, JoinOptions::default()),
        Err(MlsError::AlreadyInGroup)
    );
    assert_eq!(alice.epoch(), Some(1));
}

#[test]
fn the_joiner_vets_the_group_and_a_device_with_a_new_key_cannot_rejoin() {
    let g = alice_bob_carol();
    let info = g[0].group_info().expect("info");
    // The joiner's policy refuses bob: no commit, no group.
    let mut dave = device_with(
        Identity::generate(member_id("dave")).expect("rng"),
        Arc::new(Refuse(b"bob")),
    );
    assert!(matches!(
        dave.join_by_external_commit(&info, JoinOptions::default()),
        Err(MlsError::AdmissionRefused { .. })
    ));
    assert_eq!(dave.epoch(), None);
    // Carol's device lost its key: a new key for the same device cannot replace the
    // old leaf by external commit (a member must remove it first).
    let mut carol = device("carol");
    assert_eq!(
        carol.join_by_external_commit(&info, JoinOptions::default()),
        Err(MlsError::DuplicateMember)
    );
    // The member cap counts the joiner.
    let mut erin = device("erin");
    erin.set_limits(Limits {
        max_members: 3,
        ..Limits::default()
    })
    .expect("limits");
    assert_eq!(
        erin.join_by_external_commit(&info, JoinOptions::default()),
        Err(MlsError::GroupFull)
    );
}

#[test]
fn an_external_commit_the_policy_refuses_is_a_policy_violation() {
    let mut g = call(
        vec![
            device_with(
                Identity::generate(member_id("alice")).expect("rng"),
                Arc::new(Refuse(b"mallory")),
            ),
            device("bob"),
        ],
        &[],
    );
    let mut mallory = device("mallory");
    let out = mallory
        .join_by_external_commit(&g[1].group_info().expect("info"), JoinOptions::default())
        .expect("join");
    match g[0].process(&out.commit) {
        Ok(Outcome::PolicyViolation { reason }) => assert_eq!(reason, "mallory is not welcome"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(g[0].self_update(), Err(MlsError::Terminated));
    // Bob's policy admits mallory.
    assert!(matches!(
        g[1].process(&out.commit),
        Ok(Outcome::EpochChanged { epoch: 2, .. })
    ));
}

/// An external commit built with openmls directly: `credential` joins, signing with
/// `signer`, whose key openmls also removes from the tree if present.
fn raw_external_commit(
    info: &[u8],
    signer: &SignatureKeyPair,
    credential: CredentialWithKey,
) -> Vec<u8> {
    let provider = SessionProvider::default();
    let MlsMessageBodyIn::GroupInfo(info) = parse(info).expect("parse").extract() else {
        panic!("not a group info")
    };
    let (_, bundle) = MlsGroup::external_commit_builder()
        .build_group(&provider, info, credential)
        .expect("build group")
        .leaf_node_parameters(
            LeafNodeParameters::builder()
                .with_capabilities(capabilities(SignatureScheme::ED25519))
                .build(),
        )
        .load_psks(provider.storage())
        .expect("psks")
        .build(provider.rand(), provider.crypto(), signer, |_| true)
        .expect("build")
        .finalize(&provider)
        .expect("finalize");
    serialize(bundle.commit()).expect("encode")
}

#[test]
fn external_commits_that_remove_or_duplicate_others_are_policy_violations() {
    // Someone holding bob's signing key joins as mallory: openmls removes bob's leaf (same
    // signature key), which only the same device may do.
    let mut g = alice_bob_carol();
    let info = g[0].group_info().expect("info");
    let bob_signer = SignatureKeyPair::from_raw(
        SignatureScheme::ED25519,
        g[1].identity().seed().to_vec(),
        g[1].identity().public_key().to_vec(),
    );
    let as_mallory = CredentialWithKey {
        credential: BasicCredential::new(member_id("mallory").encode()).into(),
        signature_key: g[1].identity().public_key().into(),
    };
    let commit = raw_external_commit(&info, &bob_signer, as_mallory);
    match g[0].process(&commit) {
        Ok(Outcome::PolicyViolation { reason }) => {
            assert_eq!(reason, "external commit removes another member")
        }
        other => panic!("unexpected {other:?}"),
    }

    // A second leaf for a device already present (new key, same ids) is a duplicate.
    let mut g = alice_bob_carol();
    let info = g[0].group_info().expect("info");
    let carol2 = device("carol");
    let commit = raw_external_commit(&info, &carol2.signer, carol2.credential.clone());
    match g[0].process(&commit) {
        Ok(Outcome::PolicyViolation { reason }) => {
            assert_eq!(reason, "commit adds a device already in the group")
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn external_sender() -> (SignatureKeyPair, (Vec<u8>, Vec<u8>)) {
    let signer = SignatureKeyPair::new(SignatureScheme::ED25519).expect("keygen");
    let spec = (signer.public().to_vec(), b"delivery service".to_vec());
    (signer, spec)
}

fn key_package_of(s: &Session) -> KeyPackage {
    let MlsMessageBodyIn::KeyPackage(kp) = parse(&s.key_package().expect("kp"))
        .expect("parse")
        .extract()
    else {
        panic!("not a key package")
    };
    kp.validate(s.provider.crypto(), ProtocolVersion::Mls10)
        .expect("valid")
}

/// (group id, epoch) of `s`'s group.
fn where_(s: &Session) -> (GroupId, GroupEpoch) {
    let mls = &s.group.as_ref().expect("group").mls;
    (mls.group_id().clone(), mls.epoch())
}

fn external_remove(s: &Session, leaf: u32, signer: &SignatureKeyPair, index: u32) -> Vec<u8> {
    let (id, epoch) = where_(s);
    let msg = ExternalProposal::new_remove::<SessionProvider>(
        LeafNodeIndex::new(leaf),
        id,
        epoch,
        signer,
        SenderExtensionIndex::new(index),
    )
    .expect("proposal");
    serialize(&msg).expect("encode")
}

fn external_add(s: &Session, kp: KeyPackage, signer: &SignatureKeyPair) -> Vec<u8> {
    let (id, epoch) = where_(s);
    let msg = ExternalProposal::new_add::<SessionProvider>(
        kp,
        id,
        epoch,
        signer,
        SenderExtensionIndex::new(0),
    )
    .expect("proposal");
    serialize(&msg).expect("encode")
}

#[test]
fn external_senders_propose_removes_and_adds_that_members_commit() {
    let (ds, spec) = external_sender();
    let mut g = call(
        vec![device("alice"), device("bob"), device("carol")],
        &[spec],
    );

    // The delivery service asks to remove carol; alice commits it.
    let remove = external_remove(&g[0], 2, &ds, 0);
    for m in &mut g {
        assert_eq!(m.process(&remove), Ok(Outcome::ProposalsPending));
    }
    assert_eq!(g[1].process(&remove), Err(MlsError::DuplicateProposal));
    let out = g[0].commit_pending_proposals().expect("commit");
    g[0].confirm_own_commit().expect("confirm");
    assert_epoch_changed(
        g[1].process(&out.commit).expect("process"),
        2,
        &[],
        &[(2, "carol")],
    );
    assert_eq!(g[2].process(&out.commit), Ok(Outcome::Removed));
    g.pop();

    // It asks to add dave; bob commits it and dave joins from the welcome.
    let mut dave = device("dave");
    let add = external_add(&g[0], key_package_of(&dave), &ds);
    for m in &mut g {
        assert_eq!(m.process(&add), Ok(Outcome::ProposalsPending));
    }
    let out = g[1].commit_pending_proposals().expect("commit");
    g[1].confirm_own_commit().expect("confirm");
    assert_epoch_changed(
        g[0].process(&out.commit).expect("process"),
        3,
        &[(2, "dave")],
        &[],
    );
    assert_eq!(dave.join(out.welcome.as_deref().expect("welcome")), Ok(3));
    assert_eq!(dave.security_code(), g[0].security_code());
}

#[test]
fn external_adds_obey_the_policy_duplicates_and_the_cap() {
    let (ds, spec) = external_sender();
    let mut g = call(
        vec![
            device_with(
                Identity::generate(member_id("alice")).expect("rng"),
                Arc::new(Refuse(b"mallory")),
            ),
            device("bob"),
        ],
        &[spec],
    );
    let mallory = external_add(&g[0], key_package_of(&device("mallory")), &ds);
    assert!(matches!(
        g[0].process(&mallory),
        Err(MlsError::AdmissionRefused { .. })
    ));
    let bob_again = external_add(&g[0], key_package_of(&device("bob")), &ds);
    assert_eq!(g[0].process(&bob_again), Err(MlsError::DuplicateMember));
    g[0].set_limits(Limits {
        max_members: 2,
        ..Limits::default()
    })
    .expect("limits");
    let dave = external_add(&g[0], key_package_of(&device("dave")), &ds);
    assert_eq!(g[0].process(&dave), Err(MlsError::GroupFull));
    assert_eq!(pending_proposals(&g[0]), 0);
}

#[test]
fn proposals_from_unlisted_external_senders_are_refused_and_not_stored() {
    let (ds, spec) = external_sender();
    let (rogue, _) = external_sender();
    let mut g = call(vec![device("alice"), device("bob")], &[spec]);
    // Signed by a key the group does not list, claiming the listed sender's index.
    let forged = external_remove(&g[0], 1, &rogue, 0);
    assert_eq!(
        g[0].process(&forged),
        Err(MlsError::UnauthorizedExternalSender)
    );
    // An index the group does not list.
    let unlisted = external_remove(&g[0], 1, &ds, 1);
    assert_eq!(
        g[0].process(&unlisted),
        Err(MlsError::UnauthorizedExternalSender)
    );
    assert_eq!(pending_proposals(&g[0]), 0);

    // A group without external senders refuses them all.
    let mut h = alice_bob_carol();
    let proposal = external_remove(&h[0], 1, &ds, 0);
    assert_eq!(
        h[0].process(&proposal),
        Err(MlsError::UnauthorizedExternalSender)
    );
    assert_eq!(pending_proposals(&h[0]), 0);
}

#[test]
fn a_new_member_may_propose_its_own_add() {
    let mut g = alice_bob_carol();
    let mut dave = device("dave");
    let (id, epoch) = where_(&g[0]);
    let msg = JoinProposal::new::<Storage>(key_package_of(&dave), id, epoch, &dave.signer)
        .expect("proposal");
    let proposal = serialize(&msg).expect("encode");
    for m in &mut g {
        assert_eq!(m.process(&proposal), Ok(Outcome::ProposalsPending));
    }
    let out = g[2].commit_pending_proposals().expect("commit");
    g[2].confirm_own_commit().expect("confirm");
    assert_epoch_changed(
        g[0].process(&out.commit).expect("process"),
        2,
        &[(3, "dave")],
        &[],
    );
    assert_eq!(dave.join(out.welcome.as_deref().expect("welcome")), Ok(2));
    // The policy applies to these too.
    let mut h = call(
        vec![
            device_with(
                Identity::generate(member_id("alice")).expect("rng"),
                Arc::new(Refuse(b"mallory")),
            ),
            device("bob"),
        ],
        &[],
    );
    let mallory = device("mallory");
    let (id, epoch) = where_(&h[0]);
    let msg = JoinProposal::new::<Storage>(key_package_of(&mallory), id, epoch, &mallory.signer)
        .expect("proposal");
    assert!(matches!(
        h[0].process(&serialize(&msg).expect("encode")),
        Err(MlsError::AdmissionRefused { .. })
    ));
}

#[test]
fn external_sender_lists_are_validated() {
    let (_, spec) = external_sender();
    let ext =
        super::external_senders_extension(std::slice::from_ref(&spec), SignatureScheme::ED25519)
            .expect("valid");
    assert!(matches!(ext, Some(Extension::ExternalSenders(ref l)) if l.len() == 1));
    assert_eq!(
        super::external_senders_extension(&[], SignatureScheme::ED25519),
        Ok(None)
    );
    for bad in [
        vec![(vec![1u8; 31], b"x".to_vec())],
        vec![spec.clone(), (spec.0.clone(), b"other".to_vec())],
    ] {
        assert!(matches!(
            super::external_senders_extension(&bad, SignatureScheme::ED25519),
            Err(MlsError::InvalidConfig(_))
        ));
    }
    let mut s = device("alice");
    assert!(matches!(
        s.create_group_with(&GroupOptions {
            external_senders: vec![(vec![0; 5], vec![])],
            ..GroupOptions::default()
        }),
        Err(MlsError::InvalidConfig(_))
    ));
    assert_eq!(s.epoch(), None);
}

#[test]
fn a_removal_of_an_empty_leaf_is_not_stored() {
    // Stored, it would make every commit of the pending proposals fail.
    let (ds, spec) = external_sender();
    let mut g = call(vec![device("alice"), device("bob")], &[spec]);
    let blank = external_remove(&g[0], 7, &ds, 0);
    assert_eq!(g[0].process(&blank), Err(MlsError::UnknownMember));
    assert_eq!(pending_proposals(&g[0]), 0);
    // Two removals of one member (a leave and the service's) commit as one.
    let service = external_remove(&g[0], 1, &ds, 0);
    let leave = g[1].leave().expect("leave");
    for p in [&service, &leave] {
        assert_eq!(g[0].process(p), Ok(Outcome::ProposalsPending));
    }
    let out = g[0].commit_pending_proposals().expect("commit");
    assert_eq!(g[1].process(&out.commit), Ok(Outcome::Removed));
}

#[test]
fn a_removed_device_may_rejoin_by_external_commit() {
    let mut g = alice_bob_carol();
    let out = g[0].remove_members(&[2]).expect("remove");
    g[0].confirm_own_commit().expect("confirm");
    g[1].process(&out.commit).expect("process");
    assert_eq!(g[2].process(&out.commit), Ok(Outcome::Removed));
    let old = seal(&g[0], 0, b"after the removal").expect("seal");
    // Same session, same group id: the ended group's state is replaced.
    let info = g[1].group_info().expect("info");
    let join = g[2]
        .join_by_external_commit(&info, JoinOptions::default())
        .expect("join");
    assert_eq!(join.epoch, 3);
    assert_eq!(g[2].media().installed_epochs(), vec![3]);
    for i in [0, 1] {
        assert_epoch_changed(
            g[i].process(&join.commit).expect("process"),
            3,
            &[(2, "carol")],
            &[],
        );
    }
    g[2].confirm_own_commit().expect("confirm");
    assert_eq!(g[2].security_code(), g[0].security_code());
    let frame = seal(&g[2], 0, b"back").expect("seal");
    assert_eq!(
        open(&g[1], &frame),
        (b"back".to_vec(), 2, b"carol".to_vec())
    );
    // What was sealed while carol was out stays closed to her.
    let mut out = vec![0u8; old.len()];
    assert!(
        g[2].media()
            .decryptor()
            .decrypt(b"", &old, &mut out)
            .is_err()
    );
}
