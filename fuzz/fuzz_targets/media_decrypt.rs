//! Fuzzes the MLS-keyed media path: a member's Decryptor opens arbitrary bytes (out of
//! place and in place). Made-up KIDs must cost no retained memory and nothing may panic;
//! any plaintext reported must fit in the input.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::{Decryptor, MediaConfig};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};

fn decryptor() -> &'static Decryptor {
    static DECRYPTOR: OnceLock<(Session, Session, Decryptor)> = OnceLock::new();
    let (_, _, d) = DECRYPTOR.get_or_init(|| {
        let new = |name: &str| {
            let id = MemberIdentity::new(name.as_bytes().to_vec(), b"fuzz".to_vec()).expect("id");
            Session::new(
                Identity::from_seed(id, &[name.as_bytes()[0]; 32]),
                Arc::new(AdmitAll),
                MediaConfig::default(),
            )
            .expect("session")
        };
        let (mut alice, mut bob) = (new("alice"), new("bob"));
        alice.create_group(GroupParams::default()).expect("group");
        let kp = bob.key_package().expect("key package");
        let out = alice.add_members(&[&kp]).expect("add");
        alice.confirm_own_commit().expect("merge");
        bob.join(&out.welcome.expect("welcome")).expect("join");
        let d = bob.media().decryptor();
        (alice, bob, d)
    });
    d
}

fuzz_target!(|data: &[u8]| {
    // Opening takes `&mut`; a clone shares the original's streams and held frames.
    let mut d = decryptor().clone();
    let mut out = vec![0u8; data.len()];
    if let Ok(opened) = d.decrypt(b"", data, &mut out) {
        assert!(opened.len <= data.len());
    }
    let mut buf = data.to_vec();
    if let Ok(opened) = d.decrypt_in_place(b"", &mut buf) {
        assert!(opened.len <= data.len());
    }
    let _ = d.release_held();
});
