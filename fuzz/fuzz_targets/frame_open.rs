//! Fuzzes frame opening on arbitrary bytes: a receiver holding keys for a few KIDs across
//! all five suites decrypts the input out of place and in place (moving the plaintext to
//! the start, and leaving it where it lies). It must never panic, and any plaintext it
//! reports must fit in the input.
//!
//! The first input byte picks the metadata length (0..=7 bytes taken from the input), so
//! metadata is fuzzed too; the rest is the frame.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mlsframe::sframe::{CipherSuite, Receiver};

/// KIDs 0..=4 use suites 1..=5 under short (inline) KIDs; 8, 300 and 70 000 exercise the
/// extended KID forms.
fn receiver() -> &'static Receiver {
    static RECEIVER: OnceLock<Receiver> = OnceLock::new();
    RECEIVER.get_or_init(|| {
        let mut receiver = Receiver::new();
        for (i, suite) in CipherSuite::ALL.into_iter().enumerate() {
            let key = vec![i as u8; suite.key_len()];
            receiver
                .add_key(suite, i as u64, &key)
                .expect("distinct KIDs");
        }
        let extra = [
            (8u64, CipherSuite::Aes128CtrHmacSha256_32),
            (300, CipherSuite::Aes128GcmSha256_128),
            (70_000, CipherSuite::Aes256GcmSha512_128),
        ];
        for (kid, suite) in extra {
            receiver
                .add_key(suite, kid, &vec![0x5a; suite.key_len()])
                .expect("distinct KIDs");
        }
        receiver
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let meta_len = usize::from(selector & 0x07).min(rest.len());
    let (metadata, frame) = rest.split_at(meta_len);
    let receiver = receiver();

    let mut out = vec![0u8; frame.len()];
    if let Ok(opened) = receiver.decrypt(metadata, frame, &mut out) {
        assert!(opened.len <= frame.len());
    }

    let mut buf = frame.to_vec();
    if let Ok(opened) = receiver.decrypt_in_place(metadata, &mut buf) {
        assert!(opened.len <= frame.len());
    }

    // Unmoved in place (a replay of the above when that opened): the plaintext range it
    // reports lies inside the frame, behind a header.
    let mut buf = frame.to_vec();
    if let Ok((opened, range)) = receiver.decrypt_in_place_unmoved(metadata, &mut buf) {
        assert!(range.start > 0 && range.end <= frame.len());
        assert_eq!(range.len(), opened.len);
    }

    // A short output buffer must be an error, never a panic.
    let mut short = vec![0u8; frame.len() / 2];
    if let Ok(opened) = receiver.decrypt(metadata, frame, &mut short) {
        assert!(opened.len <= short.len());
    }
});
