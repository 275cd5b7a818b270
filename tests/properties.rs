//! Property tests over every suite: round trips for random KIDs, counters, metadata and
//! frames up to 64 KiB; every single-bit flip and every truncation is rejected; replays are
//! rejected; reordering inside the replay window opens each frame exactly once.

use mlsframe::sframe::{CipherSuite, Receiver, ReceiverConfig, SendKey, SframeError};
use proptest::prelude::*;

fn suite() -> impl Strategy<Value = CipherSuite> {
    prop::sample::select(CipherSuite::ALL.to_vec())
}

fn pair(suite: CipherSuite, kid: u64, base_key: &[u8], ctr: u64) -> (SendKey, Receiver) {
    let mut receiver = Receiver::new();
    receiver.add_key(suite, kid, base_key).unwrap();
    (
        SendKey::new(suite, kid, base_key).starting_at(ctr),
        receiver,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip(
        suite in suite(),
        kid in any::<u64>(),
        ctr in 0..u64::MAX - 1,
        base_key in prop::collection::vec(any::<u8>(), 1..64),
        metadata in prop::collection::vec(any::<u8>(), 0..40),
        len in prop_oneof![0usize..200, 0usize..=65536],
        seed in any::<u8>(),
    ) {
        let plaintext: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
        let (sender, receiver) = pair(suite, kid, &base_key, ctr);
        let bound = sender.max_ciphertext_len(len).unwrap();
        let frame = sender.encrypt_to_vec(&metadata, &plaintext).unwrap();
        prop_assert_eq!(frame.len(), bound);
        let mut out = vec![0u8; frame.len()];
        let opened = receiver.decrypt(&metadata, &frame, &mut out).unwrap();
        prop_assert_eq!(&out[..opened.len], &plaintext[..]);
        prop_assert_eq!((opened.kid, opened.ctr), (kid, ctr));

        // In place, plaintext moved to the start of the same buffer.
        let frame2 = sender.encrypt_to_vec(&metadata, &plaintext).unwrap();
        let mut buf = frame2.clone();
        let opened = receiver.decrypt_in_place(&metadata, &mut buf).unwrap();
        prop_assert_eq!(&buf[..opened.len], &plaintext[..]);
        // The same frame again is a replay.
        prop_assert_eq!(receiver.decrypt(&metadata, &frame2, &mut out), Err(SframeError::Replay));
    }

    #[test]
    fn every_bit_flip_and_truncation_is_rejected(
        suite in suite(),
        kid in any::<u64>(),
        ctr in any::<u32>(),
        metadata in prop::collection::vec(any::<u8>(), 0..8),
        plaintext in prop::collection::vec(any::<u8>(), 0..24),
    ) {
        let (sender, receiver) = pair(suite, kid, b"base key", u64::from(ctr));
        let frame = sender.encrypt_to_vec(&metadata, &plaintext).unwrap();
        let mut out = vec![0u8; frame.len()];
        for bit in 0..frame.len() * 8 {
            let mut bad = frame.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(receiver.decrypt(&metadata, &bad, &mut out).is_err(), "frame bit {}", bit);
        }
        for bit in 0..metadata.len() * 8 {
            let mut bad = metadata.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            prop_assert_eq!(receiver.decrypt(&bad, &frame, &mut out), Err(SframeError::AuthenticationFailed));
        }
        for cut in 0..frame.len() {
            prop_assert!(receiver.decrypt(&metadata, &frame[..cut], &mut out).is_err(), "cut {}", cut);
        }
        // Nothing above moved the window: the genuine frame still opens, once.
        let opened = receiver.decrypt(&metadata, &frame, &mut out).unwrap();
        prop_assert_eq!(&out[..opened.len], &plaintext[..]);
        prop_assert_eq!(receiver.decrypt(&metadata, &frame, &mut out), Err(SframeError::Replay));
    }

    #[test]
    fn reordering_inside_the_window_opens_each_frame_once(
        suite in suite(),
        order in Just((0..100usize).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let (sender, receiver) = pair(suite, 9, b"k", 0);
        let frames: Vec<Vec<u8>> = (0..100u8)
            .map(|i| sender.encrypt_to_vec(b"", &[i; 10]).unwrap())
            .collect();
        let mut out = [0u8; 64];
        for &i in &order {
            let opened = receiver.decrypt(b"", &frames[i], &mut out).unwrap();
            prop_assert_eq!(&out[..opened.len], &[i as u8; 10][..]);
        }
        for &i in &order {
            prop_assert_eq!(receiver.decrypt(b"", &frames[i], &mut out), Err(SframeError::Replay));
        }
    }
}

#[test]
fn frames_older_than_the_window_are_refused() {
    let mut receiver = Receiver::with_config(ReceiverConfig {
        replay_window: 64,
        ..Default::default()
    });
    receiver
        .add_key(CipherSuite::Aes128GcmSha256_128, 1, b"k")
        .unwrap();
    let sender = SendKey::new(CipherSuite::Aes128GcmSha256_128, 1, b"k");
    let frames: Vec<Vec<u8>> = (0..200)
        .map(|_| sender.encrypt_to_vec(b"", b"x").unwrap())
        .collect();
    let mut out = [0u8; 8];
    receiver.decrypt(b"", &frames[199], &mut out).unwrap();
    assert_eq!(
        receiver.decrypt(b"", &frames[199 - 64], &mut out),
        Err(SframeError::Replay)
    );
    receiver.decrypt(b"", &frames[199 - 63], &mut out).unwrap();
}

#[test]
fn errors_are_specific() {
    let suite = CipherSuite::Aes128GcmSha256_128;
    let (sender, receiver) = pair(suite, 5, b"k", 0);
    let frame = sender.encrypt_to_vec(b"", b"hello").unwrap();
    let mut out = [0u8; 64];
    // Unknown KID: recoverable, and it names the KID.
    let other = SendKey::new(suite, 6, b"k")
        .encrypt_to_vec(b"", b"x")
        .unwrap();
    assert_eq!(
        receiver.decrypt(b"", &other, &mut out),
        Err(SframeError::UnknownKeyId(6))
    );
    // Wrong key under the right KID.
    let forged = SendKey::new(suite, 5, b"not k")
        .encrypt_to_vec(b"", b"hello")
        .unwrap();
    assert_eq!(
        receiver.decrypt(b"", &forged, &mut out),
        Err(SframeError::AuthenticationFailed)
    );
    // Output buffer too small, and nothing consumed: the frame still opens afterwards.
    assert_eq!(
        receiver.decrypt(b"", &frame, &mut out[..4]),
        Err(SframeError::BufferTooSmall {
            needed: 5,
            available: 4
        })
    );
    assert!(matches!(
        receiver.decrypt(b"", &[], &mut out),
        Err(SframeError::MalformedFrame(_))
    ));
    assert!(matches!(
        receiver.decrypt(b"", &frame[..5], &mut out),
        Err(SframeError::MalformedFrame(_))
    ));
    receiver.decrypt(b"", &frame, &mut out).unwrap();
    // Encrypting into a short buffer says how much is needed.
    assert!(matches!(
        sender.encrypt(b"", b"hello", &mut [0u8; 10]),
        Err(SframeError::BufferTooSmall { available: 10, .. })
    ));
}
