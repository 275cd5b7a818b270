//! Limits on untrusted MLS input, seen from outside (issue 8: 2e, 2m): replayed proposals
//! are refused without being stored, oversized messages, welcomes and key packages are
//! refused before parsing, and the member cap holds for our adds, incoming commits and
//! welcomes. Every refusal leaves the session's state byte for byte as it was.

use std::fmt;
use std::sync::Arc;

use mlsframe::mls::error::MlsError;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{
    DEFAULT_MAX_KEY_PACKAGE_BYTES, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_WELCOME_BYTES,
    GroupParams, HandshakeFormat, Limits, Outcome, Session,
};

fn member(name: &str) -> Session {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"dev".to_vec()).unwrap();
    Session::new(
        Identity::generate(id).unwrap(),
        Arc::new(AdmitAll),
        MediaConfig::default(),
    )
    .unwrap()
}

const PLAINTEXT: GroupParams = GroupParams {
    sframe_suite: 4,
    epoch_bits: 4,
    handshake: HandshakeFormat::Plaintext,
};

/// `names[0]` creates a group with `params` and adds the rest in one commit.
fn group(names: &[&str], params: GroupParams) -> Vec<Session> {
    let mut members: Vec<Session> = names.iter().map(|n| member(n)).collect();
    members[0].create_group(params).unwrap();
    let kps: Vec<Vec<u8>> = members[1..]
        .iter()
        .map(|m| m.key_package().unwrap())
        .collect();
    let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
    let out = members[0].add_members(&refs).unwrap();
    members[0].confirm_own_commit().unwrap();
    let welcome = out.welcome.unwrap();
    for m in &mut members[1..] {
        m.join(&welcome).unwrap();
    }
    members
}

/// Everything the session would persist: any stored byte that changes shows here. Shown
/// by length only: it holds secrets.
#[derive(PartialEq, Eq)]
struct State(Vec<u8>);

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "State({} bytes)", self.0.len())
    }
}

fn state(s: &Session) -> State {
    State(s.snapshot().unwrap().to_vec())
}

#[test]
fn replayed_proposal_is_refused_and_stores_nothing() {
    let mut g = group(&["alice", "bob", "carol"], PLAINTEXT);
    let leave = g[2].leave().unwrap();
    assert_eq!(g[0].process(&leave), Ok(Outcome::ProposalsPending));
    assert_eq!(g[1].process(&leave), Ok(Outcome::ProposalsPending));
    let stored = state(&g[0]);
    for _ in 0..50 {
        assert_eq!(g[0].process(&leave), Err(MlsError::DuplicateProposal));
    }
    assert_eq!(state(&g[0]), stored);
    // Our own proposal echoed back is ignored, not stored twice.
    assert_eq!(g[2].process(&leave), Ok(Outcome::OwnMessageIgnored));
    // The one stored copy commits as usual.
    let out = g[0].commit_pending_proposals().unwrap();
    g[0].confirm_own_commit().unwrap();
    assert!(matches!(
        g[1].process(&out.commit),
        Ok(Outcome::EpochChanged { ref removed, .. }) if removed.len() == 1
    ));
    assert_eq!(g[2].process(&out.commit), Ok(Outcome::Removed));
}

#[test]
fn replayed_proposal_in_an_encrypted_group_is_refused_too() {
    let mut g = group(&["alice", "bob", "carol"], GroupParams::default());
    let leave = g[2].leave().unwrap();
    assert_eq!(g[0].process(&leave), Ok(Outcome::ProposalsPending));
    let stored = state(&g[0]);
    // The key of a private message is used once: a byte-identical replay cannot open.
    assert_eq!(g[0].process(&leave), Err(MlsError::Rejected));
    assert_eq!(state(&g[0]), stored);
}

/// Replays of one leave proposal are refused and leave the stored state as it was (on
/// the code before the fix, 3,000 replays grew a 10 KB snapshot to 1.2 MB).
#[test]
fn a_thousand_proposal_replays_store_nothing() {
    let mut g = group(&["alice", "bob", "carol"], PLAINTEXT);
    let leave = g[2].leave().unwrap();
    assert_eq!(g[0].process(&leave), Ok(Outcome::ProposalsPending));
    let after_one = g[0].snapshot().unwrap().len();
    for _ in 0..1000 {
        assert_eq!(g[0].process(&leave), Err(MlsError::DuplicateProposal));
    }
    assert_eq!(g[0].snapshot().unwrap().len(), after_one);
}

#[test]
fn oversized_inputs_are_refused_before_parsing() {
    let mut g = group(&["alice", "bob"], PLAINTEXT);
    let before = state(&g[0]);
    let out = g[1].self_update().unwrap();
    g[1].discard_pending_commit().unwrap();

    // A valid commit padded past the cap is not parsed (else: malformed, trailing bytes).
    let mut padded = out.commit.clone();
    padded.resize(DEFAULT_MAX_MESSAGE_BYTES + 1, 0);
    assert_eq!(g[0].process(&padded), Err(MlsError::MessageTooLarge));
    assert_eq!(
        g[0].process(&vec![0xff; DEFAULT_MAX_MESSAGE_BYTES + 1]),
        Err(MlsError::MessageTooLarge)
    );
    assert_eq!(
        g[0].process(&vec![0; DEFAULT_MAX_MESSAGE_BYTES]),
        Err(MlsError::Malformed)
    );

    let carol = member("carol");
    let mut kp = carol.key_package().unwrap();
    kp.resize(DEFAULT_MAX_KEY_PACKAGE_BYTES + 1, 0);
    assert_eq!(g[0].add_members(&[&kp]), Err(MlsError::KeyPackageTooLarge));
    assert!(!g[0].has_pending_commit());
    assert_eq!(state(&g[0]), before);

    let mut lonely = member("dave");
    assert_eq!(
        lonely.join(&vec![0; DEFAULT_MAX_WELCOME_BYTES + 1]),
        Err(MlsError::WelcomeTooLarge)
    );
    assert_eq!(lonely.epoch(), None);

    // Caps are per session and configurable.
    let kp = carol.key_package().unwrap();
    g[0].set_limits(Limits {
        max_key_package_bytes: kp.len() - 1,
        max_message_bytes: out.commit.len() - 1,
        ..Limits::default()
    })
    .unwrap();
    assert_eq!(g[0].add_members(&[&kp]), Err(MlsError::KeyPackageTooLarge));
    assert_eq!(g[0].process(&out.commit), Err(MlsError::MessageTooLarge));
    assert_eq!(state(&g[0]), before);
}

#[test]
fn own_commits_and_welcomes_stay_within_the_caps() {
    let mut g = group(&["alice", "bob"], PLAINTEXT);
    let before = state(&g[0]);
    let carol = member("carol");
    let kp = carol.key_package().unwrap();
    g[0].set_limits(Limits {
        max_welcome_bytes: 100,
        ..Limits::default()
    })
    .unwrap();
    assert_eq!(g[0].add_members(&[&kp]), Err(MlsError::WelcomeTooLarge));
    g[0].set_limits(Limits {
        max_message_bytes: 100,
        ..Limits::default()
    })
    .unwrap();
    assert_eq!(g[0].self_update(), Err(MlsError::MessageTooLarge));
    assert!(!g[0].has_pending_commit());
    assert_eq!(state(&g[0]), before);
}

#[test]
fn the_member_cap_holds_for_own_adds_incoming_commits_and_welcomes() {
    let mut g = group(&["alice", "bob", "carol"], GroupParams::default());
    let cap = Limits {
        max_members: 3,
        ..Limits::default()
    };
    g[0].set_limits(cap).unwrap();
    let before = state(&g[0]);
    let mut dave = member("dave");
    dave.set_limits(cap).unwrap();
    let kp = dave.key_package().unwrap();

    // Our own add: an error, and nothing changes.
    assert_eq!(g[0].add_members(&[&kp]), Err(MlsError::GroupFull));
    assert!(!g[0].has_pending_commit());
    assert_eq!(state(&g[0]), before);

    // bob (default cap) adds dave; the delivery service sequenced it: terminal for alice.
    let out = g[1].add_members(&[&kp]).unwrap();
    assert_eq!(
        g[0].process(&out.commit),
        Ok(Outcome::PolicyViolation {
            reason: "commit would exceed the group's member cap".into()
        })
    );
    assert_eq!(g[0].self_update(), Err(MlsError::Terminated));
    assert!(matches!(
        g[2].process(&out.commit),
        Ok(Outcome::EpochChanged { epoch: 2, .. })
    ));

    // A joiner whose cap the group exceeds refuses the welcome (and, as for any refused
    // welcome, the key package it consumed is gone: it publishes a new one).
    assert_eq!(
        dave.join(out.welcome.as_ref().unwrap()),
        Err(MlsError::GroupFull)
    );
    assert_eq!(dave.epoch(), None);

    // A commit that removes as many as it adds stays within the cap.
    let mut h = group(&["alice", "bob", "carol"], GroupParams::default());
    for m in &mut h {
        m.set_limits(cap).unwrap();
    }
    let out = h[1].remove_members(&[2]).unwrap();
    h[1].confirm_own_commit().unwrap();
    h[0].process(&out.commit).unwrap();
    let erin = member("erin");
    let out = h[1].add_members(&[&erin.key_package().unwrap()]).unwrap();
    assert!(matches!(
        h[0].process(&out.commit),
        Ok(Outcome::EpochChanged { ref added, .. }) if added.len() == 1
    ));
    let frank = member("frank");
    h[1].confirm_own_commit().unwrap();
    assert_eq!(
        h[1].add_members(&[&frank.key_package().unwrap()]),
        Err(MlsError::GroupFull)
    );
}
