//! Fuzzes codec-aware framing (`docs/FRAMING.md`): the trailer, footer and layout parser
//! and the unit splitters behind `media::open`, on arbitrary bytes for every codec; and
//! `media::seal` on arbitrary frames, whose output must open to the frame again. Nothing
//! may panic; an opened frame never exceeds its input.
//!
//! Input: byte 0 picks the codec (mod 7), byte 1 the metadata length (& 7), then the
//! metadata, then the frame.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mlsframe::Codec;
use mlsframe::media;
use mlsframe::sframe::{CipherSuite, Receiver, ReceiverConfig, SendKey};

const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
/// The key of KID 1 (seeds are sealed under it: fuzz/examples/seed_corpora.rs).
pub const KEY: [u8; 16] = [0x33; 16];

fn keys() -> &'static (SendKey, Receiver) {
    static KEYS: OnceLock<(SendKey, Receiver)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rx = Receiver::with_config(ReceiverConfig {
            replay_window: 1 << 16,
            ..ReceiverConfig::default()
        });
        rx.add_key(SUITE, 1, &KEY).expect("one key");
        rx.add_key(SUITE, 2, &KEY).expect("one key");
        // The sender uses KID 2, so fuzzed inputs replaying seeds (KID 1) never collide
        // with its counters.
        (SendKey::new(SUITE, 2, &KEY), rx)
    })
}

fuzz_target!(|data: &[u8]| {
    let [selector, meta, rest @ ..] = data else {
        return;
    };
    let codec = Codec::ALL[usize::from(*selector) % Codec::ALL.len()];
    let meta_len = usize::from(meta & 0x07).min(rest.len());
    let (metadata, frame) = rest.split_at(meta_len);
    let (tx, rx) = keys();

    let mut out = vec![0u8; frame.len()];
    if let Ok(opened) = media::open(codec, rx, metadata, frame, &mut out) {
        assert!(opened.len <= frame.len());
    }
    let mut short = vec![0u8; frame.len() / 2];
    if let Ok(opened) = media::open(codec, rx, metadata, frame, &mut short) {
        assert!(opened.len <= short.len());
    }

    // Any frame seals, and opens to itself (H.264/H.265: without the bytes after its last
    // NAL unit, which the sender drops).
    let cap = media::max_sealed_len(codec, SUITE, frame.len()).expect("small input");
    let mut sealed = vec![0u8; cap];
    match media::seal(codec, tx, metadata, frame, &mut sealed) {
        Ok(n) => {
            let mut back = vec![0u8; n];
            let opened = media::open(codec, rx, metadata, &sealed[..n], &mut back)
                .expect("a sealed frame opens");
            assert_eq!(&back[..opened.len], &frame[..opened.len]);
            if !matches!(codec, Codec::H264 | Codec::H265) {
                assert_eq!(opened.len, frame.len());
            } else {
                assert!(frame[opened.len..].iter().all(|&b| b == 0 || b == 1));
            }
        }
        Err(media::FramingError::StartCodeEmulation) | Err(media::FramingError::LayoutTooLarge) => {
        }
        Err(e) => panic!("seal failed: {e}"),
    }
});
