//! Codec-aware framing on the bundled real samples (`examples/media`): every VP8 frame of
//! `video.ivf` and every Opus packet of `audio.opus` sealed and opened byte-identical, the
//! VP8 key-frame flag and size still readable from the sealed frame, through the standalone
//! `media::seal`/`media::open` and through MLS sessions (`encryptor_with_codec`,
//! `decrypt_codec`, held frames keeping their codec). Also checks that the worked example
//! in `docs/FRAMING.md` is what this implementation produces.

use std::io::Cursor;
use std::sync::Arc;

use mlsframe::Codec;
use mlsframe::media::{self, FramingError};
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::{MediaConfig, MediaError};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};
use mlsframe::sframe::{CipherSuite, Receiver, SendKey, SframeError};

const VIDEO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/media/video.ivf");
const AUDIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/media/audio.opus");
const FRAMING_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FRAMING.md");

/// The frames of an IVF file (32-byte file header, then 12-byte frame headers).
fn ivf_frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&bytes[..4], b"DKIF");
    let mut frames = Vec::new();
    let mut at = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
    while at + 12 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        frames.push(bytes[at + 12..at + 12 + len].to_vec());
        at += 12 + len;
    }
    frames
}

fn opus_packets(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = ogg::reading::PacketReader::new(Cursor::new(bytes));
    let mut packets = Vec::new();
    while let Some(p) = reader.read_packet().unwrap() {
        packets.push(p.data);
    }
    assert!(packets[0].starts_with(b"OpusHead"));
    packets.split_off(2)
}

/// RFC 6386 §9.1: key frame, and for key frames the 14-bit width and height.
fn vp8_key_frame_size(frame: &[u8]) -> Option<(u16, u16)> {
    if frame[0] & 1 != 0 {
        return None;
    }
    assert_eq!(&frame[3..6], &[0x9d, 0x01, 0x2a], "start code");
    let w = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let h = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    Some((w, h))
}

fn standalone(kid: u64) -> (SendKey, Receiver) {
    let suite = CipherSuite::Aes128GcmSha256_128;
    let key = [0x5au8; 16];
    let mut rx = Receiver::with_config(mlsframe::sframe::ReceiverConfig {
        replay_window: 1024,
        ..Default::default()
    });
    rx.add_key(suite, kid, &key).unwrap();
    (SendKey::new(suite, kid, &key), rx)
}

#[test]
fn every_vp8_frame_round_trips_with_its_key_frame_header_readable() {
    let frames = ivf_frames(&std::fs::read(VIDEO).unwrap());
    assert_eq!(frames.len(), 300);
    let (tx, rx) = standalone(1);
    let suite = tx.suite();
    let mut key_frames = 0;
    for (i, frame) in frames.iter().enumerate() {
        let mut sealed = vec![0u8; media::max_sealed_len(Codec::Vp8, suite, frame.len()).unwrap()];
        let n = media::seal(Codec::Vp8, &tx, b"", frame, &mut sealed).unwrap();
        let sealed = &sealed[..n];
        assert_eq!(
            vp8_key_frame_size(sealed),
            vp8_key_frame_size(frame),
            "frame {i}"
        );
        if let Some(size) = vp8_key_frame_size(sealed) {
            assert_eq!(size, (640, 360));
            key_frames += 1;
        }
        assert_ne!(
            &sealed[10..frame.len()],
            &frame[10..],
            "frame {i} payload clear"
        );
        let mut out = vec![0u8; n];
        let opened = media::open(Codec::Vp8, &rx, b"", sealed, &mut out).unwrap();
        assert_eq!(&out[..opened.len], &frame[..], "frame {i}");
    }
    assert_eq!(key_frames, 5);
}

#[test]
fn every_opus_packet_round_trips_with_its_toc_clear() {
    let packets = opus_packets(&std::fs::read(AUDIO).unwrap());
    assert!(packets.len() >= 490, "{}", packets.len());
    let (tx, rx) = standalone(2);
    for (i, p) in packets.iter().enumerate() {
        let mut sealed =
            vec![0u8; media::max_sealed_len(Codec::Opus, tx.suite(), p.len()).unwrap()];
        let n = media::seal(Codec::Opus, &tx, b"rtp", p, &mut sealed).unwrap();
        assert_eq!(sealed[0], p[0], "packet {i}: TOC");
        let mut out = vec![0u8; n];
        let opened = media::open(Codec::Opus, &rx, b"rtp", &sealed[..n], &mut out).unwrap();
        assert_eq!(&out[..opened.len], &p[..], "packet {i}");
        // The same bytes opened whole, or as VP8, are refused.
        assert!(media::open(Codec::Whole, &rx, b"rtp", &sealed[..n], &mut out).is_err());
        assert!(media::open(Codec::Vp8, &rx, b"rtp", &sealed[..n], &mut out).is_err());
    }
}

fn member(name: &str) -> Session {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"dev".to_vec()).unwrap();
    let config = MediaConfig {
        replay_window: 1024,
        ..MediaConfig::default()
    };
    Session::new(Identity::generate(id).unwrap(), Arc::new(AdmitAll), config).unwrap()
}

fn pair() -> (Session, Session) {
    let mut alice = member("alice");
    let mut bob = member("bob");
    alice.create_group(GroupParams::default()).unwrap();
    let kp = bob.key_package().unwrap();
    let out = alice.add_members(&[&kp]).unwrap();
    alice.confirm_own_commit().unwrap();
    bob.join(&out.welcome.unwrap()).unwrap();
    alice.media().receivers_ready();
    (alice, bob)
}

#[test]
fn mls_sessions_carry_codec_frames_and_held_frames_keep_their_codec() {
    let frames = ivf_frames(&std::fs::read(VIDEO).unwrap());
    let (mut alice, mut bob) = pair();
    let mut enc = alice.media().encryptor_with_codec(1, Codec::Vp8).unwrap();
    assert_eq!(enc.codec(), Codec::Vp8);
    let mut dec = bob.media().decryptor();
    let mut seal = |frame: &[u8]| {
        let mut out = vec![0u8; enc.max_ciphertext_len(frame.len()).unwrap()];
        let n = enc.encrypt(b"", frame, &mut out).unwrap();
        out.truncate(n);
        out
    };
    for frame in &frames[..30] {
        let sealed = seal(frame);
        let mut out = vec![0u8; sealed.len()];
        let opened = dec
            .decrypt_codec(Codec::Vp8, b"", &sealed, &mut out)
            .unwrap();
        assert_eq!(&out[..opened.len], &frame[..]);
        assert_eq!(opened.sender.context, 1);
        assert!(
            dec.decrypt_codec(Codec::Vp9, b"", &sealed, &mut out)
                .is_err()
        );
    }
    // A tampered clear byte.
    let mut bad = seal(&frames[0]);
    bad[7] ^= 0x01;
    let mut out = vec![0u8; bad.len()];
    assert_eq!(
        dec.decrypt_codec(Codec::Vp8, b"", &bad, &mut out),
        Err(MediaError::Sframe(SframeError::AuthenticationFailed))
    );
    assert_eq!(
        dec.decrypt_codec(Codec::Vp8, b"", &bad[..bad.len() - 2], &mut out),
        Err(MediaError::Framing(FramingError::MalformedLayout(
            "bad footer"
        )))
    );
    // A frame of the next epoch arrives before its commit: held, released as VP8.
    let update = alice.self_update().unwrap();
    alice.confirm_own_commit().unwrap();
    let early = seal(&frames[60]);
    assert_eq!(
        dec.decrypt_codec(Codec::Vp8, b"", &early, &mut out),
        Err(MediaError::NoKey)
    );
    assert_eq!(dec.held_frames(), 1);
    bob.process(&update.commit).unwrap();
    let released = dec.release_held();
    assert_eq!(released.len(), 1);
    assert_eq!(released[0].plaintext, frames[60]);
}

/// The hex of a code block that follows `marker` in docs/FRAMING.md.
fn doc_hex(doc: &str, marker: &str) -> Vec<u8> {
    let at = doc
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in docs/FRAMING.md"));
    let block = doc[at..].split("```").nth(1).expect("code block");
    let hex: String = block.split_whitespace().collect();
    hex::decode(hex).expect("hex")
}

/// The worked example of docs/FRAMING.md §8: AES-128-GCM (suite 0x0001), base key
/// `00 01 .. 0f`, KID 0x11, counter 0x20, the H.264 frame below, metadata "rtp".
#[test]
fn framing_doc_worked_example_is_what_we_produce() {
    let doc = std::fs::read_to_string(FRAMING_DOC).unwrap();
    let frame = doc_hex(&doc, "<!-- example-frame -->");
    let expected = doc_hex(&doc, "<!-- example-sealed -->");
    let base: Vec<u8> = (0u8..16).collect();
    let tx = SendKey::new(CipherSuite::Aes128GcmSha256_128, 0x11, &base).starting_at(0x20);
    let mut sealed = vec![0u8; 512];
    let n = media::seal(Codec::H264, &tx, b"rtp", &frame, &mut sealed).unwrap();
    assert_eq!(
        hex::encode(&sealed[..n]),
        hex::encode(&expected),
        "docs/FRAMING.md example drifted"
    );
    let mut rx = Receiver::new();
    rx.add_key(CipherSuite::Aes128GcmSha256_128, 0x11, &base)
        .unwrap();
    let mut out = vec![0u8; n];
    let opened = media::open(Codec::H264, &rx, b"rtp", &expected, &mut out).unwrap();
    assert_eq!(&out[..opened.len], &frame[..]);
}
