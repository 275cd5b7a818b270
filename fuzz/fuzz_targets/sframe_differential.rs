//! Differential fuzzing against the `sframe` crate (2.1, `ring` backend) on the two suites
//! both implement: AES-128-GCM (0x0004) and AES-256-GCM (0x0005). From the input come the
//! suite, base key, KID, CTR, metadata and payload. Each side seals that payload; both
//! sides open both frames, then mutated copies of them, then the payload itself taken as a
//! frame. Asserted:
//! - a frame either side sealed opens at both sides to exactly the sealed payload;
//! - whenever both sides accept the same (frame, metadata), their plaintexts are identical.
//!
//! Deliberately not asserted (the two may legitimately differ there):
//! - acceptance itself. We reject non-minimal headers (a KID or CTR written in more bytes
//!   than it needs, or a value below 8 written in extended form); the crate accepts them,
//!   and because it builds the AAD from the header it re-serializes, a mutation that only
//!   re-encodes the header can still open there. So "one accepts, the other rejects" is
//!   not a bug by itself; only different plaintexts for one accepted frame would be.
//! - CTR 2^64-1: our `SendKey` reserves it to mark an exhausted counter and refuses to
//!   seal with it (`CounterExhausted`), whereas the crate's counter hands it out. The frame
//!   the crate seals with it must still open at both.
//! - the crate's ratchet (it expands with a different label than RFC 9605 §5.1; pinned in
//!   tests/interop_sframe_crate.rs) is not used here.
//!
//! Input layout (missing bytes read as zero, lengths are clamped to what is left):
//! `flags, key_len, key, kid_width, kid, ctr_width, ctr, meta_len, meta, payload_len (2 bytes,
//! big-endian), payload, then 3-byte mutations (position high, position low, xor; xor 0
//! truncates at the position)`. Flags bit 0 picks the suite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlsframe::sframe::{CipherSuite, Receiver, SendKey, SframeError};
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::key::{DecryptionKey, EncryptionKey};

/// Reads the fuzz input front to back; past the end it yields zeros and empty slices.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    /// A big-endian integer of 0..=8 bytes (its width read first), so small values are common.
    fn varint(&mut self) -> u64 {
        let width = usize::from(self.byte() % 9);
        self.take(width)
            .iter()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b))
    }
}

struct Case<'a> {
    ours: CipherSuite,
    theirs: sframe::CipherSuite,
    key: &'a [u8],
    kid: u64,
    meta: &'a [u8],
}

impl Case<'_> {
    /// Our receiver (fresh, so no replay state carries over) opening `frame`.
    fn ours_open(&self, frame: &[u8]) -> Option<Vec<u8>> {
        let mut receiver = Receiver::new();
        receiver
            .add_key(self.ours, self.kid, self.key)
            .expect("one key in an empty receiver");
        let mut out = vec![0u8; frame.len()];
        let opened = receiver.decrypt(self.meta, frame, &mut out).ok()?;
        assert!(opened.len <= frame.len());
        out.truncate(opened.len);
        Some(out)
    }

    /// The `sframe` crate opening `frame`.
    fn peer_open(&self, frame: &[u8]) -> Option<Vec<u8>> {
        let key = DecryptionKey::derive_from(self.theirs, self.kid, self.key).ok()?;
        let view = EncryptedFrameView::try_with_meta_data(frame, self.meta).ok()?;
        let mut buf = Vec::new();
        let opened = view.decrypt_into(&key, &mut buf).ok()?;
        Some(opened.payload().to_vec())
    }

    /// Both sides open `frame`; when both accept, the plaintexts must be identical.
    fn agree(&self, frame: &[u8]) {
        if let (Some(ours), Some(theirs)) = (self.ours_open(frame), self.peer_open(frame)) {
            assert_eq!(
                ours, theirs,
                "both accepted one frame with different plaintexts"
            );
        }
    }

    /// A frame one side sealed must open at both sides to `payload`.
    fn both_open(&self, frame: &[u8], payload: &[u8], sealer: &str) {
        assert_eq!(
            self.ours_open(frame).as_deref(),
            Some(payload),
            "we cannot open a frame {sealer} sealed"
        );
        assert_eq!(
            self.peer_open(frame).as_deref(),
            Some(payload),
            "the sframe crate cannot open a frame {sealer} sealed"
        );
    }
}

fn mutate(frame: &[u8], mutations: &[u8]) -> Vec<u8> {
    let mut frame = frame.to_vec();
    for m in mutations.chunks_exact(3) {
        if frame.is_empty() {
            break;
        }
        let pos = usize::from(u16::from_be_bytes([m[0], m[1]])) % frame.len();
        match m[2] {
            0 => frame.truncate(pos),
            x => frame[pos] ^= x,
        }
    }
    frame
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader(data);
    let flags = r.byte();
    let (ours, theirs) = if flags & 1 == 0 {
        (
            CipherSuite::Aes128GcmSha256_128,
            sframe::CipherSuite::AesGcm128Sha256,
        )
    } else {
        (
            CipherSuite::Aes256GcmSha512_128,
            sframe::CipherSuite::AesGcm256Sha512,
        )
    };
    // A base key of 1..=64 bytes (the C ABI refuses empty keys; both derive any length).
    let key_len = 1 + usize::from(r.byte() % 64);
    let mut key = r.take(key_len).to_vec();
    key.resize(key_len, 0);
    let kid = r.varint();
    let ctr = r.varint();
    let meta_len = usize::from(r.byte() % 64);
    let meta = r.take(meta_len);
    let payload_len = usize::from(u16::from_be_bytes([r.byte(), r.byte()]));
    let payload = r.take(payload_len);
    let mutations = r.0;
    let case = Case {
        ours,
        theirs,
        key: &key,
        kid,
        meta,
    };

    // We seal: both open it to the payload; mutated copies must not make them disagree.
    match SendKey::new(ours, kid, &key)
        .starting_at(ctr)
        .encrypt_to_vec(meta, payload)
    {
        Ok(frame) => {
            case.both_open(&frame, payload, "we");
            case.agree(&mutate(&frame, mutations));
        }
        // CTR 2^64-1 marks our exhausted counter (see the module docs).
        Err(SframeError::CounterExhausted) => assert_eq!(ctr, u64::MAX),
        Err(e) => panic!("sealing failed: {e:?}"),
    }

    // The crate seals: the same.
    let peer_key = EncryptionKey::derive_from(theirs, kid, &key).expect("any key length derives");
    let mut counter = MonotonicCounter::with_start_value(ctr, u64::MAX);
    if let Ok(view) = MediaFrameView::try_with_meta_data(&mut counter, &payload, &meta) {
        let mut buf = Vec::new();
        let frame = view
            .encrypt_into(&peer_key, &mut buf)
            .expect("the sframe crate seals")
            .sframe_cipher_text()
            .to_vec();
        case.both_open(&frame, payload, "the sframe crate");
        case.agree(&mutate(&frame, mutations));
    }

    // The payload bytes themselves as a frame (a made-up header, usually a failing tag).
    case.agree(payload);
});
