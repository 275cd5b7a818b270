//! Interop, both directions, with the `sframe` crate (2.x, default `ring` backend), for every
//! suite that backend supports (AES-GCM 0x0004 and 0x0005; ring has no AES-CTR), with and
//! without metadata, and for its ratchet.
//!
//! Deviations of `sframe` 2.1 from RFC 9605 that are pinned here (we keep the RFC):
//! - its ratchet expands with the label "Sframe 1.0 Ratchet" (lower-case f) to Nk bytes;
//!   RFC 9605 §5.1 says "SFrame 1.0 Ratchet" and Nh bytes. Ratcheted keys therefore differ.
//! - its frame buffer stores metadata before the header (`metadata || header || ct`); the
//!   AAD itself is RFC-correct (`header || metadata`), so stripping the prefix interoperates.

use hkdf::Hkdf;
use mlsframe::sframe::{
    CipherSuite, RatchetBits, RatchetingSender, Receiver, ReceiverConfig, SendKey, SframeError,
};
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::key::{DecryptionKey, EncryptionKey};
use sha2::Sha256;

const PEER_SUITES: [(CipherSuite, sframe::CipherSuite); 2] = [
    (
        CipherSuite::Aes128GcmSha256_128,
        sframe::CipherSuite::AesGcm128Sha256,
    ),
    (
        CipherSuite::Aes256GcmSha512_128,
        sframe::CipherSuite::AesGcm256Sha512,
    ),
];

const BASE_KEY: &[u8] = b"a shared base key from the app";

#[test]
fn peer_seals_we_open() {
    for (ours, theirs) in PEER_SUITES {
        for metadata in [&b""[..], b"rtp-header-ish"] {
            for kid in [0u64, 7, 8, 0x1234_5678] {
                let key = EncryptionKey::derive_from(theirs, kid, BASE_KEY).unwrap();
                let mut counter = MonotonicCounter::with_start_value(1000, u64::MAX);
                let mut receiver = Receiver::new();
                receiver.add_key(ours, kid, BASE_KEY).unwrap();
                for i in 0..5u8 {
                    let payload = vec![i; 100 * usize::from(i)];
                    let frame =
                        MediaFrameView::try_with_meta_data(&mut counter, &payload, metadata)
                            .unwrap();
                    let mut buf = Vec::new();
                    let sealed = frame.encrypt_into(&key, &mut buf).unwrap();
                    let wire = sealed.sframe_cipher_text().to_vec();
                    let mut out = vec![0u8; wire.len()];
                    let opened = receiver.decrypt(metadata, &wire, &mut out).unwrap();
                    assert_eq!(&out[..opened.len], &payload[..], "{ours:?} kid {kid}");
                    assert_eq!((opened.kid, opened.ctr), (kid, 1000 + u64::from(i)));
                    // The peer's buffer layout: metadata, then the SFrame ciphertext.
                    assert_eq!(buf[..metadata.len()], *metadata);
                }
            }
        }
    }
}

#[test]
fn we_seal_peer_opens() {
    for (ours, theirs) in PEER_SUITES {
        for metadata in [&b""[..], b"rtp-header-ish"] {
            for kid in [0u64, 7, 8, 0x1234_5678] {
                let sender = SendKey::new(ours, kid, BASE_KEY).starting_at(250);
                let key = DecryptionKey::derive_from(theirs, kid, BASE_KEY).unwrap();
                for i in 0..5u8 {
                    let payload = vec![i ^ 0x5a; 333 * usize::from(i)];
                    let wire = sender.encrypt_to_vec(metadata, &payload).unwrap();
                    let view = EncryptedFrameView::try_with_meta_data(&wire, &metadata).unwrap();
                    let mut buf = Vec::new();
                    let opened = view.decrypt_into(&key, &mut buf).unwrap();
                    assert_eq!(opened.payload(), &payload[..], "{ours:?} kid {kid}");
                    assert_eq!(opened.counter(), 250 + u64::from(i));
                }
            }
        }
    }
}

/// The ratchet's step 0 is the plain key and interoperates; after one step the peer's
/// label and length differ from RFC 9605 §5.1, so its ratcheted frames only open under a key
/// built with its formula. This test fails if either side changes its ratchet.
#[test]
fn ratchet_matches_at_step_zero_and_pins_the_peer_deviation_after() {
    use sframe::ratchet::{RatchetBits as PeerBits, RatchetingEncryptionKey, RatchetingKeyId};
    let (ours, theirs) = PEER_SUITES[0];
    let bits = RatchetBits::new(4).unwrap();
    let generation = 3u64;
    let peer_kid = RatchetingKeyId::new(generation, PeerBits::new(4));
    let peer = RatchetingEncryptionKey::derive_from(theirs, peer_kid, BASE_KEY).unwrap();
    let seal = |key: &RatchetingEncryptionKey, payload: &[u8]| {
        let mut counter = MonotonicCounter::default();
        let frame = MediaFrameView::try_new(&mut counter, &payload).unwrap();
        let mut buf = Vec::new();
        frame
            .encrypt_into(key.as_ref(), &mut buf)
            .unwrap()
            .sframe_cipher_text()
            .to_vec()
    };
    let mut receiver = Receiver::with_config(ReceiverConfig {
        ratchet: Some(bits),
        ..Default::default()
    });
    receiver.add_key(ours, generation, BASE_KEY).unwrap();
    let mut out = [0u8; 64];

    // Step 0 interoperates.
    let opened = receiver
        .decrypt(b"", &seal(&peer, b"step zero"), &mut out)
        .unwrap();
    assert_eq!(
        (&out[..opened.len], opened.kid),
        (&b"step zero"[..], generation << 4)
    );

    // Step 1: the peer's frame does not open under the RFC ratchet...
    let peer1 = peer.ratchet().unwrap();
    let frame1 = seal(&peer1, b"step one");
    assert_eq!(
        receiver.decrypt(b"", &frame1, &mut out),
        Err(SframeError::AuthenticationFailed)
    );
    // ...but does under the peer's formula: "Sframe 1.0 Ratchet", Nk (16) bytes.
    let mut peer_base = [0u8; 16];
    Hkdf::<Sha256>::new(None, BASE_KEY)
        .expand(b"Sframe 1.0 Ratchet", &mut peer_base)
        .unwrap();
    let mut pinned = Receiver::new();
    pinned
        .add_key(ours, (generation << 4) + 1, &peer_base)
        .unwrap();
    let opened = pinned.decrypt(b"", &frame1, &mut out).unwrap();
    assert_eq!(&out[..opened.len], b"step one");

    // And our own ratchet still round-trips at step 1 (RFC label, Nh bytes).
    let mut sender = RatchetingSender::new(ours, generation, BASE_KEY, bits).unwrap();
    sender.ratchet().unwrap();
    let ours1 = sender
        .send_key()
        .encrypt_to_vec(b"", b"rfc step one")
        .unwrap();
    let opened = receiver.decrypt(b"", &ours1, &mut out).unwrap();
    assert_eq!(&out[..opened.len], b"rfc step one");
}
