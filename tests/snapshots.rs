//! Snapshots written by earlier builds still restore: `vectors/snapshot-v2.bin` is bob's
//! state in a two-member group (alice at leaf 0, bob at leaf 1, epoch 1), taken by the build
//! whose key store was `openmls_memory_storage` after bob had opened one frame from alice;
//! its version-1 form is the same bytes without the replay highs.

use std::sync::Arc;

use mlsframe::mls::error::MlsError;
use mlsframe::mls::media::{MediaConfig, MediaError};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::Session;
use mlsframe::sframe::SframeError;

const V2: &[u8] = include_bytes!("vectors/snapshot-v2.bin");
/// The frame alice sealed ("hello", KID 1, CTR 0) and bob opened before the snapshot.
const FRAME: &str = "10e19b671e42e5aa98b6cd3f50606f54202740bf1bb4";
/// Bob's security code in epoch 1, as the writing build showed it.
const CODE: &str = "09960 93317 45409 45090 64612 66141";
/// Where the snapshot keeps its copy of the group parameters: after the magic, the
/// length-prefixed user id ("bob"), device id ("dev") and seed, and its own length.
const PARAMS_AT: usize = 20 + (4 + 3) + (4 + 3) + (4 + 32) + 4;
/// The v2 tail: one replay high, KID 1 at CTR 0.
const HIGHS: [u8; 20] = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];

fn v1() -> Vec<u8> {
    let (body, highs) = V2.split_at(V2.len() - HIGHS.len());
    assert_eq!(highs, HIGHS);
    let mut v1 = b"mlsframe-snapshot-v1".to_vec();
    v1.extend_from_slice(&body[b"mlsframe-snapshot-v2".len()..]);
    v1
}

fn open(session: &Session, frame: &[u8]) -> Result<Vec<u8>, MediaError> {
    let mut out = vec![0u8; frame.len()];
    let opened = session.media().decryptor().decrypt(b"", frame, &mut out)?;
    out.truncate(opened.len);
    Ok(out)
}

/// Restores `snapshot` and checks it is bob in epoch 1, who self-updates and seals again.
fn restores_bob(snapshot: &[u8]) -> Session {
    let mut bob =
        Session::restore(snapshot, Arc::new(AdmitAll), MediaConfig::default()).expect("restore");
    assert_eq!((bob.epoch(), bob.own_leaf()), (Some(1), Some(1)));
    assert_eq!(bob.security_code().expect("code"), CODE);
    let users: Vec<Vec<u8>> = bob
        .members()
        .expect("members")
        .into_iter()
        .filter_map(|m| m.identity.map(|id| id.user_id))
        .collect();
    assert_eq!(users, [b"alice".to_vec(), b"bob".to_vec()]);
    let encryptor = bob.media().encryptor(0).expect("encryptor");
    assert_eq!(
        encryptor.encrypt(b"", b"x", &mut [0u8; 64]),
        Err(MediaError::RekeyRequired)
    );
    bob.self_update().expect("self-update");
    bob.confirm_own_commit().expect("confirm");
    assert!(encryptor.encrypt(b"", b"x", &mut [0u8; 64]).is_ok());
    bob
}

#[test]
fn a_version_2_snapshot_restores_with_its_replay_highs() {
    let bob = Session::restore(V2, Arc::new(AdmitAll), MediaConfig::default()).expect("v2");
    let frame = hex::decode(FRAME).expect("hex");
    assert_eq!(
        open(&bob, &frame),
        Err(MediaError::Sframe(SframeError::Replay))
    );
    restores_bob(V2);
}

#[test]
fn a_version_1_snapshot_restores_without_replay_highs() {
    let v1 = v1();
    let bob = Session::restore(&v1, Arc::new(AdmitAll), MediaConfig::default()).expect("v1");
    let frame = hex::decode(FRAME).expect("hex");
    assert_eq!(open(&bob, &frame).expect("open"), b"hello");
    restores_bob(&v1);
}

#[test]
fn a_restored_snapshot_snapshots_to_the_same_bytes() {
    let bob = Session::restore(V2, Arc::new(AdmitAll), MediaConfig::default()).expect("v2");
    assert_eq!(&bob.snapshot().expect("snapshot")[..], V2);
}

/// `V2` with one byte of its parameter copy (suite 2 bytes, E, handshake) set to `value`.
fn with_param_byte(at: usize, value: u8) -> Vec<u8> {
    let mut tampered = V2.to_vec();
    tampered[PARAMS_AT + at] = value;
    tampered
}

#[test]
fn a_snapshot_whose_parameters_disagree_with_its_group_context_is_refused() {
    // Suite 4, E = 4, encrypted handshakes, as in the group context.
    assert_eq!(V2[PARAMS_AT - 4..PARAMS_AT + 4], [0, 0, 0, 4, 0, 4, 4, 1]);
    // E = 1 is refused outright (a member's own commit would evict its current epoch).
    for (at, value) in [(1, 5), (1, 1), (2, 5), (2, 16), (2, 1), (3, 0)] {
        assert_eq!(
            Session::restore(
                &with_param_byte(at, value),
                Arc::new(AdmitAll),
                MediaConfig::default()
            )
            .err(),
            Some(MlsError::InvalidParams),
            "parameter byte {at} set to {value}"
        );
    }
}

#[test]
fn a_snapshot_with_a_tampered_key_store_value_is_refused_not_a_panic() {
    // Found by the session_restore fuzz target: a key-store value that is not valid JSON.
    // openmls_memory_storage unwrapped it; our store returns an error.
    let tampered = include_bytes!("vectors/snapshot-tampered-store-value.bin");
    let restored = std::panic::catch_unwind(|| {
        Session::restore(tampered, Arc::new(AdmitAll), MediaConfig::default()).err()
    });
    assert_eq!(restored.expect("no panic"), Some(MlsError::Malformed));
}
