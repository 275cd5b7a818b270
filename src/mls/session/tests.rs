//! Unit tests of the session: key agreement, commit races, policy, parameters.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use super::*;
use crate::mls::epoch_event::EpochEvent;
use crate::mls::policy::{AdmitAll, Refusal};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Stage(u64, Vec<u32>, Vec<u8>),
    Unstage(u64),
    Activate(u64, Vec<u32>, Vec<u8>, bool),
    Removed,
    Terminated,
    Dropped,
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
    fn apply(&self, event: EpochEvent) {
        let ev = match event {
            EpochEvent::Staged(s) | EpochEvent::Joining(s) => {
                Ev::Stage(s.epoch, s.occupied_leaves, s.base_key.to_vec())
            }
            EpochEvent::Discarded { epoch } => Ev::Unstage(epoch),
            EpochEvent::Started(s)
            | EpochEvent::Merged(s)
            | EpochEvent::Restored { secrets: s, .. } => Ev::Activate(
                s.epoch,
                s.occupied_leaves,
                s.base_key.to_vec(),
                s.removed_someone,
            ),
            EpochEvent::Removed => Ev::Removed,
            EpochEvent::Terminated => Ev::Terminated,
            EpochEvent::Dropped => Ev::Dropped,
        };
        self.0.lock().expect("lock").push(ev);
    }
}

fn session_with(user: &str, device: &str, policy: Arc<dyn AdmissionPolicy>) -> (Session, Arc<Rec>) {
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
            Outcome::EpochChanged { epoch: 2, ref removed, .. } if removed.len() == 1 && removed[0].identity.as_ref().is_some_and(|id| id.user_id == b"carol")
        ));
    }
    assert_eq!(g[2].0.process(&out.commit), Ok(Outcome::Removed));
    assert_eq!(g[2].0.process(&out.commit), Err(MlsError::NotMember));
    assert_same_keys(&[&g[0], &g[1], &g[3]]);
}

#[test]
fn admission_policy_refuses_own_adds_and_flags_incoming() {
    let no_mallory: Arc<dyn AdmissionPolicy> = Arc::new(|c: &Candidate<'_>| {
        if c.identity.is_some_and(|id| id.user_id == b"mallory") {
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
            if c.identity.is_some_and(|id| id.user_id == b"carol") {
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
    assert_eq!(
        GroupParams::decode(&[0, 1, 1, 1]),
        Err(MlsError::InvalidParams)
    );
    assert!(GroupParams::decode(&[0, 1, 2, 1]).is_ok());
    assert!(GroupParams::decode(&[0, 1, 16, 1]).is_ok());
    assert!(GroupParams::decode(&[0, 1, 17, 1]).is_err());
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
    assert_eq!(
        s.create_group(GroupParams { epoch_bits: 1, ..p }),
        Err(MlsError::InvalidParams)
    );
    assert_eq!(s.epoch(), None);
    let id = |u: &str| Arc::new(MemberIdentity::new(u.as_bytes().to_vec(), b"d".to_vec()).unwrap());
    let current = ops::EpochRoster {
        leaves: vec![0, 2, 5],
        identities: HashMap::from([(0, id("a")), (2, id("b")), (5, id("c"))]),
    };
    let next = ops::predict_roster(
        &current,
        &BTreeSet::from([2]),
        [Some(id("x")), None, Some(id("z"))],
    );
    assert_eq!(next.leaves, vec![0, 1, 2, 3, 5]);
    assert_eq!(
        next.identities,
        HashMap::from([(0, id("a")), (1, id("x")), (3, id("z")), (5, id("c"))])
    );
}

// ---- Untrusted input: duplicates, new keys, pending caps (issue 8: 2e, 2g) ----------

/// Runs `f` on `s`'s raw `openmls` group: messages a misbehaving (or differently
/// implemented) member could send, bypassing this library's own checks.
fn raw<T>(
    s: &mut Session,
    f: impl FnOnce(&mut MlsGroup, &SessionProvider, &SignatureKeyPair) -> T,
) -> T {
    let g = s.group.as_mut().expect("group");
    f(&mut g.mls, &s.provider, &s.signer)
}

/// A fresh, validated key package of `s`.
fn key_package_of(s: &Session) -> KeyPackage {
    let bytes = s.key_package().expect("kp");
    let MlsMessageBodyIn::KeyPackage(kp) = parse(&bytes).expect("parse").extract() else {
        panic!("not a key package")
    };
    kp.validate(s.provider.crypto(), ProtocolVersion::Mls10)
        .expect("valid key package")
}

fn pending_proposals(s: &Session) -> usize {
    s.group
        .as_ref()
        .map_or(0, |g| g.mls.pending_proposals().count())
}

/// The full serialized state: any stored byte that changes shows here. Shown by length
/// only: it holds secrets.
#[derive(PartialEq, Eq)]
struct State(Vec<u8>);

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "State({} bytes)", self.0.len())
    }
}

fn state(s: &Session) -> State {
    State(s.snapshot().expect("snapshot").to_vec())
}

#[test]
fn incoming_add_proposals_refuse_devices_already_present() {
    let mut g = group_of_four(GroupParams::default());
    // A second leaf for bob/phone (g[3]), proposed by bob/laptop.
    let twin = key_package_of(&session("bob", "phone").0);
    let (msg, _) =
        raw(&mut g[1].0, |mls, p, s| mls.propose_add_member(p, s, &twin)).expect("propose");
    let before = (snapshot(&g[0].0), pending_proposals(&g[0].0));
    assert_eq!(
        g[0].0.process(&serialize(&msg).expect("ser")),
        Err(MlsError::DuplicateMember)
    );
    assert_eq!((snapshot(&g[0].0), pending_proposals(&g[0].0)), before);

    // A new device is stored once; a second add of it (another key package) is refused.
    let (dave, _) = session("dave", "d");
    let kps = [key_package_of(&dave), key_package_of(&dave)];
    let msgs: Vec<Vec<u8>> = kps
        .iter()
        .map(|kp| {
            let (m, _) =
                raw(&mut g[1].0, |mls, p, s| mls.propose_add_member(p, s, kp)).expect("propose");
            serialize(&m).expect("ser")
        })
        .collect();
    assert_eq!(g[0].0.process(&msgs[0]), Ok(Outcome::ProposalsPending));
    assert_eq!(g[0].0.process(&msgs[1]), Err(MlsError::DuplicateMember));
    assert_eq!(pending_proposals(&g[0].0), 1);
    // The stored add commits normally.
    let out = g[0].0.commit_pending_proposals().expect("commit");
    assert!(matches!(
        g[0].0.confirm_own_commit(),
        Ok(Outcome::EpochChanged { ref added, .. }) if added.len() == 1
    ));
    assert!(out.welcome.is_some());
}

#[test]
fn incoming_commits_and_welcomes_adding_a_present_device_are_refused() {
    let mut g = group_of_four(GroupParams::default());
    let (mut twin, _) = session("bob", "phone");
    let (mut dave, _) = session("dave", "d");
    let kps = [key_package_of(&dave), key_package_of(&twin)];
    let (commit, welcome, _) =
        raw(&mut g[1].0, |mls, p, s| mls.add_members(p, s, &kps)).expect("raw add");
    let commit = serialize(&commit).expect("ser");
    let welcome = serialize(&welcome).expect("ser");
    // Sequenced by the delivery service: terminal for every member that sees it.
    for i in [0, 2, 3] {
        assert_eq!(
            g[i].0.process(&commit),
            Ok(Outcome::PolicyViolation {
                reason: "commit adds a device already in the group".into()
            })
        );
        assert_eq!(g[i].1.events().last(), Some(&Ev::Terminated));
    }
    // Neither joiner accepts a tree with two bob/phone leaves.
    assert_eq!(dave.join(&welcome), Err(MlsError::DuplicateMember));
    assert_eq!(twin.join(&welcome), Err(MlsError::DuplicateMember));
    assert_eq!((dave.epoch(), twin.epoch()), (None, None));
}

#[test]
fn a_commit_may_remove_a_device_and_add_it_back() {
    let mut g = group_of_four(GroupParams::default());
    let (mut twin, _) = session("bob", "phone");
    let kp = key_package_of(&twin);
    let bundle = raw(&mut g[1].0, |mls, p, s| {
        mls.commit_builder()
            .propose_removals([LeafNodeIndex::new(3)])
            .propose_adds([kp])
            .load_psks(p.storage())
            .expect("psks")
            .build(p.rand(), p.crypto(), s, |_| true)
            .expect("build")
            .stage_commit(p)
            .expect("stage")
    });
    let (commit, welcome, _) = bundle.into_messages();
    let commit = serialize(&commit).expect("ser");
    for i in [0, 2] {
        match g[i].0.process(&commit).expect("process") {
            Outcome::EpochChanged {
                epoch: 2,
                added,
                removed,
            } => {
                assert_eq!(added.len(), 1);
                assert_eq!(added[0].identity, removed[0].identity);
                assert_ne!(added[0].fingerprint, removed[0].fingerprint);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(g[3].0.process(&commit), Ok(Outcome::Removed));
    let welcome = serialize(&welcome.expect("welcome")).expect("ser");
    assert_eq!(twin.join(&welcome), Ok(2));
    assert_same_keys(&[&g[0], &g[2]]);
    assert_eq!(twin.base_key(), g[0].0.base_key());
}

/// A policy that records every signature key it is asked about and refuses `banned`.
#[derive(Default)]
struct KeyPolicy {
    asked: Mutex<Vec<Vec<u8>>>,
    banned: Mutex<Vec<Vec<u8>>>,
}

impl AdmissionPolicy for KeyPolicy {
    fn admit(&self, c: &Candidate<'_>) -> core::result::Result<(), Refusal> {
        self.asked
            .lock()
            .expect("lock")
            .push(c.signature_key.to_vec());
        if self
            .banned
            .lock()
            .expect("lock")
            .iter()
            .any(|k| k == c.signature_key)
        {
            return Err(Refusal("key is banned".into()));
        }
        Ok(())
    }
}

/// alice (with `policy`) creates; bob and carol join.
fn group_of_three(policy: Arc<KeyPolicy>, params: GroupParams) -> Vec<(Session, Arc<Rec>)> {
    let mut a = session_with("alice", "a", policy);
    let mut others = vec![session("bob", "b"), session("carol", "c")];
    a.0.create_group(params).expect("create");
    let kps: Vec<Vec<u8>> = others
        .iter()
        .map(|(s, _)| s.key_package().expect("kp"))
        .collect();
    let out = a.0.add_members(&[&kps[0], &kps[1]]).expect("add");
    a.0.confirm_own_commit().expect("confirm");
    let welcome = out.welcome.expect("welcome");
    for m in &mut others {
        m.0.join(&welcome).expect("join");
    }
    let mut all = vec![a];
    all.extend(others);
    all
}

/// A new Ed25519 key for `user`/`device` and its credential.
fn new_signer(user: &str, device: &str) -> (SignatureKeyPair, CredentialWithKey) {
    let signer = SignatureKeyPair::new(SignatureScheme::ED25519).expect("keygen");
    let id = MemberIdentity::new(user.as_bytes().to_vec(), device.as_bytes().to_vec()).expect("id");
    let credential = CredentialWithKey {
        credential: BasicCredential::new(id.encode()).into(),
        signature_key: signer.public().into(),
    };
    (signer, credential)
}

#[test]
fn update_proposals_with_a_new_signature_key_ask_the_policy() {
    let policy = Arc::new(KeyPolicy::default());
    let mut g = group_of_three(policy.clone(), GroupParams::default());
    let propose = |s: &mut Session, signer: &SignatureKeyPair, cwk: CredentialWithKey| {
        let (m, _) = raw(s, |mls, p, old| {
            mls.propose_self_update_with_new_signer(
                p,
                old,
                NewSignerBundle {
                    signer,
                    credential_with_key: cwk,
                },
                LeafNodeParameters::default(),
            )
        })
        .expect("propose");
        serialize(&m).expect("ser")
    };
    let (bad, bad_cwk) = new_signer("bob", "b");
    let (good, good_cwk) = new_signer("carol", "c");
    let (other, other_cwk) = new_signer("mallory", "b");
    policy
        .banned
        .lock()
        .expect("lock")
        .push(bad.public().to_vec());
    let refused = propose(&mut g[1].0, &bad, bad_cwk);
    let accepted = propose(&mut g[2].0, &good, good_cwk);
    let renamed = propose(&mut g[1].0, &other, other_cwk);
    policy.asked.lock().expect("lock").clear();
    let before = pending_proposals(&g[0].0);

    assert_eq!(
        g[0].0.process(&refused),
        Err(MlsError::AdmissionRefused {
            reason: "key is banned".into()
        })
    );
    assert_eq!(g[0].0.process(&renamed), Err(MlsError::InvalidIdentity));
    assert_eq!(pending_proposals(&g[0].0), before);
    assert_eq!(g[0].0.process(&accepted), Ok(Outcome::ProposalsPending));
    assert_eq!(
        *policy.asked.lock().expect("lock"),
        vec![bad.public().to_vec(), good.public().to_vec()]
    );
}

#[test]
fn commit_paths_with_a_new_signature_key_ask_the_policy() {
    let policy = Arc::new(KeyPolicy::default());
    let mut g = group_of_three(policy.clone(), GroupParams::default());
    let commit = |s: &mut Session, signer: &SignatureKeyPair, cwk: CredentialWithKey| {
        let bundle = raw(s, |mls, p, old| {
            mls.self_update_with_new_signer(
                p,
                old,
                NewSignerBundle {
                    signer,
                    credential_with_key: cwk,
                },
                LeafNodeParameters::default(),
            )
        })
        .expect("commit");
        serialize(bundle.commit()).expect("ser")
    };
    // An accepted new key: the policy is asked, the commit merges.
    let (good, good_cwk) = new_signer("bob", "b");
    let first = commit(&mut g[1].0, &good, good_cwk);
    policy.asked.lock().expect("lock").clear();
    assert!(matches!(
        g[0].0.process(&first),
        Ok(Outcome::EpochChanged { epoch: 2, .. })
    ));
    assert_eq!(
        *policy.asked.lock().expect("lock"),
        vec![good.public().to_vec()]
    );
    assert!(matches!(
        g[2].0.process(&first),
        Ok(Outcome::EpochChanged { epoch: 2, .. })
    ));
    // A refused new key in a sequenced commit: terminal.
    let (bad, bad_cwk) = new_signer("carol", "c");
    policy
        .banned
        .lock()
        .expect("lock")
        .push(bad.public().to_vec());
    let second = commit(&mut g[2].0, &bad, bad_cwk);
    assert_eq!(
        g[0].0.process(&second),
        Ok(Outcome::PolicyViolation {
            reason: "key is banned".into()
        })
    );
    // A plain self-update (same key) does not ask the policy again.
    let mut h = group_of_three(policy.clone(), GroupParams::default());
    let out = h[1].0.self_update().expect("update");
    policy.asked.lock().expect("lock").clear();
    assert!(matches!(
        h[0].0.process(&out.commit),
        Ok(Outcome::EpochChanged { .. })
    ));
    assert!(policy.asked.lock().expect("lock").is_empty());
}

/// `n` distinct Remove proposals of leaf `target` from `s` (distinct authenticated data).
fn removes(s: &mut Session, target: u32, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let (m, _) = raw(s, |mls, p, signer| {
                mls.set_aad(format!("nonce {i}").into_bytes());
                mls.propose_remove_member(p, signer, LeafNodeIndex::new(target))
            })
            .expect("propose");
            serialize(&m).expect("ser")
        })
        .collect()
}

#[test]
fn pending_proposals_are_capped_by_count() {
    let mut g = group_of_four(GroupParams::default());
    let msgs = removes(&mut g[1].0, 2, DEFAULT_MAX_PENDING_PROPOSALS + 1);
    for m in &msgs[..DEFAULT_MAX_PENDING_PROPOSALS] {
        assert_eq!(g[0].0.process(m), Ok(Outcome::ProposalsPending));
    }
    let before = (snapshot(&g[0].0), pending_proposals(&g[0].0));
    assert_eq!(
        g[0].0.process(&msgs[DEFAULT_MAX_PENDING_PROPOSALS]),
        Err(MlsError::TooManyProposals)
    );
    assert_eq!((snapshot(&g[0].0), pending_proposals(&g[0].0)), before);
    assert_eq!(before.1, DEFAULT_MAX_PENDING_PROPOSALS);
    // A commit of the pending proposals empties the store.
    g[0].0.commit_pending_proposals().expect("commit");
    g[0].0.confirm_own_commit().expect("confirm");
    assert_eq!(pending_proposals(&g[0].0), 0);
}

#[test]
fn pending_proposals_are_capped_by_bytes() {
    let mut g = group_of_four(GroupParams {
        handshake: HandshakeFormat::Plaintext,
        ..GroupParams::default()
    });
    // A Remove proposal is 6 bytes (type, leaf index): three fit in 20 bytes, not four.
    g[0].0
        .set_limits(Limits {
            max_pending_proposal_bytes: 20,
            ..Limits::default()
        })
        .expect("limits");
    let msgs = removes(&mut g[1].0, 2, 4);
    for m in &msgs[..3] {
        assert_eq!(g[0].0.process(m), Ok(Outcome::ProposalsPending));
    }
    let before = state(&g[0].0);
    assert_eq!(g[0].0.process(&msgs[3]), Err(MlsError::TooManyProposals));
    assert_eq!(state(&g[0].0), before);
    // Replays are refused as duplicates before the cap is looked at.
    assert_eq!(g[0].0.process(&msgs[0]), Err(MlsError::DuplicateProposal));
    assert_eq!(state(&g[0].0), before);
}

#[test]
fn limits_are_validated_and_kept() {
    let (mut s, _) = session("a", "b");
    assert_eq!(s.limits(), Limits::default());
    let zero = Limits {
        max_members: 0,
        ..Limits::default()
    };
    assert!(matches!(
        s.set_limits(zero),
        Err(MlsError::InvalidConfig(_))
    ));
    assert_eq!(s.limits(), Limits::default());
    let small = Limits {
        max_members: 5,
        ..Limits::default()
    };
    assert_eq!(s.set_limits(small), Ok(()));
    assert_eq!(s.limits(), small);
}

#[test]
fn add_proposals_and_their_commits_respect_the_member_cap() {
    // Plaintext handshakes: a refused encrypted message still uses up its one-time key,
    // so only here is the whole state byte for byte the same after a refusal.
    let mut g = group_of_four(GroupParams {
        handshake: HandshakeFormat::Plaintext,
        ..GroupParams::default()
    });
    g[0].0
        .set_limits(Limits {
            max_members: 5,
            ..Limits::default()
        })
        .expect("limits");
    let (dave, _) = session("dave", "d");
    let (erin, _) = session("erin", "e");
    let msgs: Vec<Vec<u8>> = [key_package_of(&dave), key_package_of(&erin)]
        .iter()
        .map(|kp| {
            let (m, _) =
                raw(&mut g[1].0, |mls, p, s| mls.propose_add_member(p, s, kp)).expect("propose");
            serialize(&m).expect("ser")
        })
        .collect();
    // Four members and one pending add fill the cap of five.
    assert_eq!(g[0].0.process(&msgs[0]), Ok(Outcome::ProposalsPending));
    let before = state(&g[0].0);
    assert_eq!(g[0].0.process(&msgs[1]), Err(MlsError::GroupFull));
    assert_eq!(state(&g[0].0), before);
    // Lowered below what the pending add needs: committing it is refused, nothing changes.
    g[0].0
        .set_limits(Limits {
            max_members: 4,
            ..Limits::default()
        })
        .expect("limits");
    assert_eq!(g[0].0.commit_pending_proposals(), Err(MlsError::GroupFull));
    assert!(!g[0].0.has_pending_commit());
    assert_eq!(state(&g[0].0), before);
}

/// Every wiped buffer in `buffers` (address, length) was retired by `s`'s key store, and
/// holds only zeros.
fn assert_retired_and_wiped(s: &Session, buffers: &[(*const u8, usize)]) {
    let retired = s.provider.storage().retired();
    for (ptr, len) in buffers {
        let (_, bytes) = retired
            .iter()
            .find(|(p, _)| p == ptr)
            .expect("the old value's buffer was retired");
        assert_eq!(bytes.len(), *len);
        assert!(bytes.iter().all(|&b| b == 0), "retired secret not wiped");
    }
}

#[test]
fn the_key_store_wipes_the_secrets_openmls_replaces_or_deletes() {
    let (mut alice, _) = session("alice", "phone");
    let (mut bob, _) = session("bob", "laptop");
    alice.create_group(GroupParams::default()).expect("create");
    let kp = bob.key_package().expect("kp");
    for s in [&alice, &bob] {
        s.provider.storage().keep_retired();
    }
    // Alice's epoch-0 secrets are overwritten when her commit is merged; bob's key
    // package bundle (its private init and leaf keys) is deleted when the welcome uses it.
    let epoch_0 = alice.provider.storage().buffers(b"EpochSecrets");
    let bundle = bob.provider.storage().buffers(b"KeyPackage");
    assert_eq!((epoch_0.len(), bundle.len()), (1, 1));
    let out = alice.add_members(&[&kp]).expect("add");
    alice.confirm_own_commit().expect("confirm");
    bob.join(&out.welcome.expect("welcome")).expect("join");
    assert_retired_and_wiped(&alice, &epoch_0);
    assert_retired_and_wiped(&bob, &bundle);
    assert!(bob.provider.storage().buffers(b"KeyPackage").is_empty());
}

/// A group made as `create_group` makes it but with parameters it would refuse (as a
/// foreign or older build might have made it).
fn create_unchecked(s: &mut Session, params: GroupParams) {
    let gce = Extensions::<GroupContext>::from_vec(vec![
        Extension::Unknown(PARAMS_EXTENSION_TYPE, UnknownExtension(params.encode())),
        Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
            &[ExtensionType::Unknown(PARAMS_EXTENSION_TYPE)],
            &[],
            &[CredentialType::Basic],
        )),
    ])
    .expect("extensions");
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(MlsCiphersuite::default().openmls())
        .use_ratchet_tree_extension(true)
        .wire_format_policy(params.wire_policy())
        .capabilities(capabilities(SignatureScheme::ED25519))
        .with_group_context_extensions(gce)
        .build();
    let mls = MlsGroup::new(&s.provider, &s.signer, &config, s.credential.clone()).expect("group");
    s.group = Some(Group {
        mls,
        params,
        params_source: ParamsSource::GroupContext,
        status: Status::Active,
        pending: None,
    });
}

#[test]
fn a_group_whose_context_says_e_1_is_neither_joined_nor_restored() {
    let e1 = GroupParams {
        epoch_bits: 1,
        ..GroupParams::default()
    };
    let (mut alice, _) = session("alice", "phone");
    let (mut bob, _) = session("bob", "laptop");
    create_unchecked(&mut alice, e1);
    let kp = bob.key_package().expect("kp");
    let out = alice.add_members(&[&kp]).expect("add");
    alice.confirm_own_commit().expect("confirm");
    assert_eq!(
        bob.join(&out.welcome.expect("welcome")),
        Err(MlsError::InvalidParams)
    );
    assert_eq!(bob.epoch(), None);
    let snapshot = alice.snapshot().expect("snapshot");
    assert_eq!(
        Session::restore(&snapshot, Arc::new(AdmitAll), MediaConfig::default()).err(),
        Some(MlsError::InvalidParams)
    );
}
