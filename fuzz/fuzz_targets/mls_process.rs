//! Fuzzes the MLS input path: arbitrary bytes as an incoming message (commit, proposal,
//! welcome, key package) to a member of a two-member group, as a welcome to a fresh
//! session, and as a group info for an external join, with the same bytes as an
//! out-of-band ratchet tree. Nothing may panic, and input that fails must leave the
//! epoch unchanged.
#![no_main]

use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, JoinOptions, Session};

fn session(name: &str) -> Session {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"fuzz".to_vec()).expect("valid id");
    Session::new(
        Identity::from_seed(id, &[name.as_bytes()[0]; 32]),
        Arc::new(AdmitAll),
        MediaConfig::default(),
    )
    .expect("session")
}

/// Alice (in a group with Bob) and a joiner with no group yet.
fn members() -> &'static Mutex<(Session, Session)> {
    static MEMBERS: OnceLock<Mutex<(Session, Session)>> = OnceLock::new();
    MEMBERS.get_or_init(|| {
        let mut alice = session("alice");
        let bob = session("bob");
        alice.create_group(GroupParams::default()).expect("group");
        let kp = bob.key_package().expect("key package");
        alice.add_members(&[&kp]).expect("add");
        alice.confirm_own_commit().expect("merge");
        Mutex::new((alice, session("carol")))
    })
}

fuzz_target!(|data: &[u8]| {
    let mut guard = members().lock().unwrap_or_else(|p| p.into_inner());
    let (alice, carol) = &mut *guard;
    let epoch = alice.epoch();
    if alice.process(data).is_err() {
        assert_eq!(alice.epoch(), epoch, "failed input changed the epoch");
    }
    if carol.join(data).is_err() {
        assert_eq!(carol.epoch(), None);
    }
    let tree = JoinOptions {
        ratchet_tree: Some(data),
        params: None,
    };
    match carol.join_by_external_commit(data, tree) {
        // A real group info (a seed): carol's join is pending; drop it for the next input.
        Ok(_) => carol.discard_pending_commit().expect("discard"),
        Err(_) => assert_eq!(carol.epoch(), None, "a failed external join left a group"),
    }
    if carol.join_with(data, tree).is_err() {
        assert_eq!(carol.epoch(), None);
    }
});
