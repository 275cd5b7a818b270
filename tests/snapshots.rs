//! Snapshots written by earlier builds still restore: `vectors/snapshot-v2.bin` is bob's
//! state in a two-member group (alice at leaf 0, bob at leaf 1, epoch 1), taken by the build
//! whose key store was `openmls_memory_storage` after bob had opened one frame from alice;
//! its version-1 form is the same bytes without the replay highs, and its version-3 form
//! (what this build writes) adds the signature algorithm (Ed25519) and the parameters
//! source (the group context).

use std::sync::Arc;

use mlsframe::mls::error::MlsError;
use mlsframe::mls::identity::{Identity, MemberIdentity, SignatureAlgorithm};
use mlsframe::mls::media::{MediaConfig, MediaError};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};
use mlsframe::sframe::SframeError;

const V2: &[u8] = include_bytes!("vectors/snapshot-v2.bin");
/// The frame alice sealed ("hello", KID 1, CTR 0) and bob opened before the snapshot.
const FRAME: &str = "10e19b671e42e5aa98b6cd3f50606f54202740bf1bb4";
/// Bob's security code in epoch 1, as the writing build showed it.
const CODE: &str = "09960 93317 45409 45090 64612 66141";
/// Where the snapshot's seed (its length) starts: after the magic and the length-prefixed
/// user id ("bob") and device id ("dev").
const SEED_AT: usize = 20 + (4 + 3) + (4 + 3);
/// Where the version-2 snapshot keeps its copy of the group parameters: after the seed and
/// its own length.
const PARAMS_AT: usize = SEED_AT + (4 + 32) + 4;
/// In the version-3 form: where the algorithm code sits, and where the parameters source
/// byte sits (the parameters' length follows it).
const V3_ALGORITHM_AT: usize = SEED_AT;
const V3_SOURCE_AT: usize = SEED_AT + 2 + (4 + 32);
/// The v2 tail: one replay high, KID 1 at CTR 0.
const HIGHS: [u8; 20] = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];

fn v1() -> Vec<u8> {
    let (body, highs) = V2.split_at(V2.len() - HIGHS.len());
    assert_eq!(highs, HIGHS);
    let mut v1 = b"mlsframe-snapshot-v1".to_vec();
    v1.extend_from_slice(&body[b"mlsframe-snapshot-v2".len()..]);
    v1
}

/// `V2` as version 3 writes it: the v3 magic, the algorithm code (Ed25519, 0x0807) before
/// the seed, and the parameters source (0, the group context) before the parameters.
fn v3() -> Vec<u8> {
    let mut v3 = b"mlsframe-snapshot-v3".to_vec();
    v3.extend_from_slice(&V2[20..SEED_AT]);
    v3.extend_from_slice(&[0x08, 0x07]);
    v3.extend_from_slice(&V2[SEED_AT..PARAMS_AT - 4]);
    v3.push(0);
    v3.extend_from_slice(&V2[PARAMS_AT - 4..]);
    v3
}

fn restore(snapshot: &[u8]) -> Result<Session, MlsError> {
    Session::restore(snapshot, Arc::new(AdmitAll), MediaConfig::default())
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
    let mut encryptor = bob.media().encryptor(0).expect("encryptor");
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
fn a_version_3_snapshot_restores_with_its_replay_highs() {
    let v3 = v3();
    let bob = restore(&v3).expect("v3");
    assert_eq!(bob.identity().algorithm(), SignatureAlgorithm::Ed25519);
    let frame = hex::decode(FRAME).expect("hex");
    assert_eq!(
        open(&bob, &frame),
        Err(MediaError::Sframe(SframeError::Replay))
    );
    restores_bob(&v3);
}

#[test]
fn a_restored_snapshot_snapshots_as_version_3() {
    let v3 = v3();
    for old in [V2, &v3] {
        let bob = restore(old).expect("restore");
        // Not assert_eq: a mismatch would print kilobytes of key store.
        assert!(bob.snapshot().expect("snapshot")[..] == v3[..]);
    }
}

#[test]
fn a_version_3_snapshot_with_an_unknown_algorithm_or_source_is_malformed() {
    for (at, value) in [
        (V3_ALGORITHM_AT, 0x00),
        (V3_ALGORITHM_AT + 1, 0x08),
        (V3_SOURCE_AT, 2),
        (V3_SOURCE_AT, 0xff),
    ] {
        let mut tampered = v3();
        tampered[at] = value;
        assert_eq!(
            restore(&tampered).err(),
            Some(MlsError::Malformed),
            "byte {at} set to {value}"
        );
    }
}

#[test]
fn a_version_3_snapshot_claiming_app_parameters_for_a_group_context_that_has_them_is_refused() {
    let mut tampered = v3();
    tampered[V3_SOURCE_AT] = 1;
    assert_eq!(restore(&tampered).err(), Some(MlsError::InvalidParams));
}

#[test]
fn a_version_3_snapshot_whose_seed_is_read_as_a_p256_scalar_is_refused() {
    // Another key than the leaf's, for another algorithm than the group's.
    let mut tampered = v3();
    tampered[V3_ALGORITHM_AT..V3_ALGORITHM_AT + 2].copy_from_slice(&[0x04, 0x03]);
    assert_eq!(restore(&tampered).err(), Some(MlsError::InvalidIdentity));
}

#[test]
fn a_p256_identity_round_trips_through_its_secret() {
    let member = MemberIdentity::new(b"carol".to_vec(), b"tablet".to_vec()).expect("id");
    let carol =
        Identity::generate_with(member.clone(), SignatureAlgorithm::EcdsaP256).expect("rng");
    assert_eq!(carol.algorithm(), SignatureAlgorithm::EcdsaP256);
    assert_eq!(carol.public_key().len(), 65);
    assert_eq!(carol.public_key()[0], 0x04, "uncompressed SEC1 point");
    let again = Identity::from_secret(member.clone(), carol.algorithm(), &carol.seed()[..])
        .expect("valid secret");
    assert_eq!(again.public_key(), carol.public_key());
    assert_eq!(again.fingerprint(), carol.fingerprint());
    let code = carol.algorithm().code();
    assert_eq!(SignatureAlgorithm::try_from(code), Ok(carol.algorithm()));
    let secret_hex: String = carol.seed().iter().map(|b| format!("{b:02x}")).collect();
    assert!(!format!("{carol:?}").contains(&secret_hex[..16]));
    assert_eq!(
        Identity::from_secret(member, SignatureAlgorithm::EcdsaP256, &[0; 32]).err(),
        Some(MlsError::InvalidSigningKey)
    );
}

/// A group of alice and bob, both with P-256 identities, in MLS ciphersuite 0x0002
/// (`MLS_128_DHKEMP256_AES128GCM_SHA256_P256`). The one place the group-level P-256 test
/// below depends on how `create_group` picks its ciphersuite: adjust it when that lands.
fn p256_pair() -> (Session, Session) {
    let device = |user: &str| {
        let member = MemberIdentity::new(user.as_bytes().to_vec(), b"dev".to_vec()).expect("id");
        let identity = Identity::generate_with(member, SignatureAlgorithm::EcdsaP256).expect("rng");
        Session::new(identity, Arc::new(AdmitAll), MediaConfig::default()).expect("session")
    };
    let (mut alice, mut bob) = (device("alice"), device("bob"));
    alice.create_group(GroupParams::default()).expect("create");
    let kp = bob.key_package().expect("key package");
    let commit = alice.add_members(&[&kp]).expect("add");
    alice.confirm_own_commit().expect("confirm");
    bob.join(commit.welcome.as_deref().expect("welcome"))
        .expect("join");
    (alice, bob)
}

#[test]
fn a_p256_session_round_trips_through_a_version_3_snapshot() {
    let (mut alice, bob) = p256_pair();
    let snapshot = bob.snapshot().expect("snapshot");
    assert_eq!(snapshot[V3_ALGORITHM_AT..V3_ALGORITHM_AT + 2], [0x04, 0x03]);
    let mut restored = restore(&snapshot).expect("restore");
    assert!(restored.snapshot().expect("snapshot")[..] == snapshot[..]);
    assert_eq!(
        restored.identity().public_key(),
        bob.identity().public_key()
    );
    assert_eq!(
        restored.security_code().expect("code"),
        alice.security_code().expect("code")
    );
    drop(bob);
    let update = restored.self_update().expect("self-update");
    alice.process(&update.commit).expect("alice verifies");
    restored.confirm_own_commit().expect("confirm");
    let mut sealed = [0u8; 64];
    let n = restored
        .media()
        .encryptor(0)
        .expect("encryptor")
        .encrypt(b"", b"hi", &mut sealed)
        .expect("seal");
    let mut plain = [0u8; 64];
    let opened = alice
        .media()
        .decryptor()
        .decrypt(b"", &sealed[..n], &mut plain)
        .expect("open");
    assert_eq!(&plain[..opened.len], b"hi");
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
