//! Limits on untrusted MLS input, seen from outside (issue 8: 2e): replayed proposals are
//! refused without being stored. Every refusal leaves the session's state byte for byte
//! as it was.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use mlsframe::mls::error::MlsError;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, HandshakeFormat, Outcome, Session};

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

/// 3,000 replays of one leave proposal: snapshot size and time, printed. Run with
/// `cargo test --release --test mls_limits -- --ignored --nocapture`.
#[test]
#[ignore = "measurement"]
fn measure_proposal_replays() {
    let mut g = group(&["alice", "bob", "carol"], PLAINTEXT);
    let leave = g[2].leave().unwrap();
    let before = g[0].snapshot().unwrap().len();
    assert_eq!(g[0].process(&leave), Ok(Outcome::ProposalsPending));
    let after_one = g[0].snapshot().unwrap().len();
    let start = Instant::now();
    let mut first_100 = 0.0;
    let mut last_100 = Instant::now();
    for i in 0..3000 {
        if i == 100 {
            first_100 = start.elapsed().as_secs_f64();
        }
        if i == 2900 {
            last_100 = Instant::now();
        }
        assert_eq!(g[0].process(&leave), Err(MlsError::DuplicateProposal));
    }
    let (total, last_100) = (
        start.elapsed().as_secs_f64(),
        last_100.elapsed().as_secs_f64(),
    );
    let after = g[0].snapshot().unwrap().len();
    println!(
        "proposal {} B; snapshot {before} B, after one {after_one} B, after 3000 replays \
         {after} B; replays {total:.3} s (first 100 {first_100:.4} s, last 100 {last_100:.4} s)",
        leave.len()
    );
    assert_eq!(after, after_one);
}
