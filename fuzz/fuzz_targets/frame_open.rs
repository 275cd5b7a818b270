//! Fuzzes frame opening on arbitrary bytes: a receiver holding keys for a few KIDs across
//! all five suites decrypts the input out of place and in place (moving the plaintext to
//! the start, and leaving it where it lies). It must never panic, and any plaintext it
//! reports must fit in the input. A second receiver with the same keys sees every call
//! through `&mut self` (the `_exclusive` methods) and must answer exactly as the first.
//!
//! The first input byte picks the metadata length (0..=7 bytes taken from the input), so
//! metadata is fuzzed too; the rest is the frame.
#![no_main]

use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use mlsframe::sframe::{CipherSuite, Receiver};

/// The receiver opened through `&self`.
fn receiver() -> &'static Receiver {
    static RECEIVER: OnceLock<Receiver> = OnceLock::new();
    RECEIVER.get_or_init(build)
}

/// The twin of [`receiver`], opened through `&mut self`.
fn exclusive() -> &'static Mutex<Receiver> {
    static RECEIVER: OnceLock<Mutex<Receiver>> = OnceLock::new();
    RECEIVER.get_or_init(|| Mutex::new(build()))
}

/// KIDs 0..=4 use suites 1..=5 under short (inline) KIDs; 8, 300 and 70 000 exercise the
/// extended KID forms.
fn build() -> Receiver {
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
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let meta_len = usize::from(selector & 0x07).min(rest.len());
    let (metadata, frame) = rest.split_at(meta_len);
    let receiver = receiver();
    let mut twin = exclusive().lock().expect("no panic while held");

    let mut out = vec![0u8; frame.len()];
    let mut twin_out = vec![0u8; frame.len()];
    let opened = receiver.decrypt(metadata, frame, &mut out);
    assert_eq!(
        opened,
        twin.decrypt_exclusive(metadata, frame, &mut twin_out)
    );
    if let Ok(opened) = opened {
        assert!(opened.len <= frame.len());
        assert_eq!(out[..opened.len], twin_out[..opened.len]);
    }

    let mut buf = frame.to_vec();
    let mut twin_buf = frame.to_vec();
    let opened = receiver.decrypt_in_place(metadata, &mut buf);
    assert_eq!(
        opened,
        twin.decrypt_in_place_exclusive(metadata, &mut twin_buf)
    );
    if let Ok(opened) = opened {
        assert!(opened.len <= frame.len());
    }

    // Unmoved in place (a replay of the above when that opened): the plaintext range it
    // reports lies inside the frame, behind a header.
    let mut buf = frame.to_vec();
    let mut twin_buf = frame.to_vec();
    let opened = receiver.decrypt_in_place_unmoved(metadata, &mut buf);
    assert_eq!(
        opened,
        twin.decrypt_in_place_unmoved_exclusive(metadata, &mut twin_buf)
    );
    if let Ok((opened, range)) = opened {
        assert!(range.start > 0 && range.end <= frame.len());
        assert_eq!(range.len(), opened.len);
    }

    // A short output buffer must be an error, never a panic.
    let mut short = vec![0u8; frame.len() / 2];
    let opened = receiver.decrypt(metadata, frame, &mut short);
    assert_eq!(opened, twin.decrypt_exclusive(metadata, frame, &mut short));
    if let Ok(opened) = opened {
        assert!(opened.len <= short.len());
    }
});
