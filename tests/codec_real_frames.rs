//! Codec-aware framing (`docs/FRAMING.md`) on frames real encoders made: the bundled VP8
//! and Opus of the call demo plus H.264, H.265, VP9 and AV1 clips from Debian's ffmpeg
//! (`examples/media/README.md`). For every frame of every sample: the sealed frame still
//! parses as its codec (NAL unit types and no start-code emulation; VP8/VP9 key-frame
//! flags and sizes; AV1 OBU types, plus the one padding OBU carrying the trailer; the Opus
//! TOC byte), it opens byte-identical (H.26x also after the normalisation an RTP round trip
//! makes), and flipping any clear byte or any trailer byte, or opening it as another
//! codec, is refused. The codec parsers are `tests/support/codec_frames.rs`, written from
//! the specs apart from `src/media/`.

#[path = "../examples/call/media.rs"]
#[allow(dead_code)]
mod call_media;
#[path = "support/codec_frames.rs"]
mod codec_frames;

use codec_frames::{
    OBU_PADDING, access_units, annexb_nals, annexb_normalised, av1_obus, h264_nal_type,
    h265_nal_type, nal_types, vp9_info, zero_zero_at,
};
use mlsframe::Codec;
use mlsframe::media;
use mlsframe::sframe::{CipherSuite, Receiver, SendKey};

const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
const KID: u64 = 7;
const BASE_KEY: &[u8] = b"codec real frames base key 01234";
const METADATA: &[u8] = b"rtp header extension";

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/examples/media/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ivf(name: &str) -> Vec<Vec<u8>> {
    call_media::parse_ivf(&sample(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .frames
}

fn receiver() -> Receiver {
    let mut receiver = Receiver::new();
    receiver.add_key(SUITE, KID, BASE_KEY).expect("key");
    receiver
}

fn seal(codec: Codec, key: &SendKey, frame: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; frame.len() + 1024];
    let n = media::seal(codec, key, METADATA, frame, &mut out)
        .unwrap_or_else(|e| panic!("{codec:?}: seal of a {}-byte frame: {e}", frame.len()));
    out.truncate(n);
    out
}

/// Opens with a fresh receiver (so one sealed frame can be opened more than once).
fn open(codec: Codec, frame: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; frame.len()];
    let opened =
        media::open(codec, &receiver(), METADATA, frame, &mut out).map_err(|e| e.to_string())?;
    out.truncate(opened.len);
    Ok(out)
}

/// Seals every frame, runs `parses_as` on (original, sealed), checks the round trip and
/// that tampering is refused. Returns the sealed frames.
fn check_codec(
    codec: Codec,
    frames: &[&[u8]],
    key_frames: &[usize],
    parses_as: impl Fn(usize, &[u8], &[u8]),
) -> Vec<Vec<u8>> {
    assert!(!frames.is_empty());
    let key = SendKey::new(SUITE, KID, BASE_KEY);
    let sealed: Vec<Vec<u8>> = frames.iter().map(|f| seal(codec, &key, f)).collect();
    for (i, (frame, s)) in frames.iter().zip(&sealed).enumerate() {
        assert_ne!(&s[..], *frame, "{codec:?} frame {i} went out in the clear");
        parses_as(i, frame, s);
        assert_eq!(
            open(codec, s).as_deref(),
            Ok(*frame),
            "{codec:?} frame {i} does not open byte-identical"
        );
        for other in [
            Codec::Whole,
            Codec::Opus,
            Codec::Vp8,
            Codec::Vp9,
            Codec::H264,
        ] {
            if other != codec {
                assert!(
                    open(other, s).is_err(),
                    "{codec:?} frame {i} opened as {other:?}"
                );
            }
        }
        assert!(
            open(codec, &s[..s.len() - 1]).is_err(),
            "truncated frame opened"
        );
    }
    // Tampering: every clear byte (a byte equal to the original's at its place), every
    // byte past the original's length (the trailer: SFrame header, tag, layout, footer)
    // and a spread of ciphertext bytes, in the key frames and two delta frames.
    let delta: Vec<usize> = (0..frames.len())
        .filter(|i| !key_frames.contains(i))
        .take(2)
        .collect();
    for &i in key_frames.iter().chain(&delta) {
        let (frame, s) = (frames[i], &sealed[i]);
        let mut positions: Vec<usize> = (0..s.len())
            .filter(|&p| p >= frame.len() || s[p] == frame[p])
            .collect();
        positions.extend((0..s.len()).step_by(s.len() / 64 + 1));
        assert!(positions.iter().any(|&p| p >= frame.len()), "no trailer");
        for p in positions {
            for flip in [0x01u8, 0x80] {
                let mut bad = s.clone();
                bad[p] ^= flip;
                assert!(
                    open(codec, &bad).is_err(),
                    "{codec:?} frame {i}: byte {p} of {} flipped by {flip:#04x} still opens",
                    s.len()
                );
            }
        }
    }
    sealed
}

/// H.264 and H.265: the same NAL units of the same types; parameter sets whole; no byte
/// sequence in a sealed NAL unit a parser would take for a start code or trailing zeros,
/// and no emulation-prevention pattern the original did not have at that place.
fn check_annexb(codec: Codec, stream: &[u8], h265: bool) {
    let units = access_units(stream, h265);
    assert_eq!(units.len(), 60, "2 s at 30 fps (examples/media/README.md)");
    assert_eq!(units.concat(), stream);
    let idr = |t: u8| if h265 { (16..=21).contains(&t) } else { t == 5 };
    let key_frames: Vec<usize> = (0..units.len())
        .filter(|&i| nal_types(units[i], h265).into_iter().any(idr))
        .collect();
    assert_eq!(key_frames, [0, 30]);
    let parameter_set = |t: u8| {
        if h265 {
            (32..=34).contains(&t)
        } else {
            t == 7 || t == 8
        }
    };
    let sealed = check_codec(codec, &units, &key_frames, |i, unit, s| {
        assert_eq!(
            nal_types(s, h265),
            nal_types(unit, h265),
            "unit {i}: NAL types"
        );
        for (n, (a, b)) in annexb_nals(unit)
            .into_iter()
            .zip(annexb_nals(s))
            .enumerate()
        {
            let (orig, nal) = (&unit[a], &s[b]);
            assert!(
                zero_zero_at(nal, 2).is_empty(),
                "unit {i} NAL {n}: start code or 00 00 00/02 inside"
            );
            assert_ne!(
                nal.last(),
                Some(&0),
                "unit {i} NAL {n} ends with a zero byte"
            );
            let clear_epb = zero_zero_at(orig, 3);
            for at in zero_zero_at(nal, 3) {
                assert!(
                    clear_epb.contains(&at),
                    "unit {i} NAL {n}: 00 00 03 at {at} the original has not"
                );
            }
            let header = if h265 { 2 } else { 1 };
            assert_eq!(nal[..header], orig[..header], "unit {i} NAL {n}: header");
            let nal_type = if h265 {
                h265_nal_type(orig)
            } else {
                h264_nal_type(orig)
            };
            if parameter_set(nal_type) {
                assert_eq!(nal, orig, "unit {i} NAL {n}: parameter set not whole");
            }
        }
    });
    // What an RTP round trip hands the receiver: 4-byte start codes, no trailing zeros.
    for (i, (unit, s)) in units.iter().zip(&sealed).enumerate() {
        assert_eq!(
            open(codec, &annexb_normalised(s)),
            Ok(annexb_normalised(unit)),
            "unit {i} after normalisation"
        );
    }
}

#[test]
fn h264_access_units_keep_nal_types_and_open() {
    check_annexb(Codec::H264, &sample("video.h264"), false);
}

#[test]
fn h265_access_units_keep_nal_types_and_open() {
    check_annexb(Codec::H265, &sample("video.h265"), true);
}

#[test]
fn vp8_frames_keep_frame_tag_and_key_frame_header() {
    // The first 64 frames (two key frames: 0 and 60) of the call demo's video.
    let frames = ivf("video.ivf");
    let frames: Vec<&[u8]> = frames.iter().take(64).map(Vec::as_slice).collect();
    let is_key = |f: &[u8]| f[0] & 0x01 == 0; // RFC 6386 §9.1
    let key_frames: Vec<usize> = (0..frames.len()).filter(|&i| is_key(frames[i])).collect();
    assert_eq!(key_frames, [0, 60]);
    check_codec(Codec::Vp8, &frames, &key_frames, |i, frame, s| {
        assert_eq!(is_key(s), is_key(frame), "frame {i}: key-frame bit");
        assert_eq!(s[..3], frame[..3], "frame {i}: frame tag");
        if is_key(frame) {
            assert_eq!(s[3..6], [0x9d, 0x01, 0x2a], "frame {i}: start code");
            assert_eq!(s[3..10], frame[3..10], "frame {i}: start code and size");
        }
    });
}

#[test]
fn vp9_frames_keep_frame_type_sync_code_and_size() {
    let frames = ivf("video-vp9.ivf");
    let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let info: Vec<_> = frames
        .iter()
        .map(|f| vp9_info(f).expect("VP9 frame"))
        .collect();
    let key_frames: Vec<usize> = (0..frames.len()).filter(|&i| info[i].key_frame).collect();
    assert_eq!(key_frames, [0, 30]);
    assert_eq!(info[0].size, Some((320, 180)));
    check_codec(Codec::Vp9, &frames, &key_frames, |i, frame, s| {
        assert_eq!(
            vp9_info(s),
            vp9_info(frame),
            "frame {i}: uncompressed header"
        );
    });
}

#[test]
fn av1_temporal_units_keep_obu_types_plus_padding() {
    let frames = ivf("video-av1.ivf");
    let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let types = |f: &[u8]| -> Vec<u8> {
        av1_obus(f)
            .expect("AV1 OBUs")
            .iter()
            .map(|o| o.obu_type)
            .collect()
    };
    // Temporal delimiter (2), sequence header (1) on key frames, frame (6).
    let key_frames: Vec<usize> = (0..frames.len())
        .filter(|&i| types(frames[i]).contains(&1))
        .collect();
    assert_eq!(key_frames, [0, 30]);
    check_codec(Codec::Av1, &frames, &key_frames, |i, frame, s| {
        let orig = av1_obus(frame).expect("AV1 OBUs");
        let sealed = av1_obus(s).unwrap_or_else(|| panic!("frame {i}: sealed OBUs do not parse"));
        let padding = sealed.iter().filter(|o| o.obu_type == OBU_PADDING).count();
        assert_eq!(padding, 1, "frame {i}: one padding OBU carries the trailer");
        let kept: Vec<_> = sealed
            .iter()
            .filter(|o| o.obu_type != OBU_PADDING)
            .collect();
        assert_eq!(
            kept.iter().map(|o| o.obu_type).collect::<Vec<_>>(),
            types(frame),
            "frame {i}: OBU types"
        );
        for (o, k) in orig.iter().zip(&kept) {
            // Every OBU header and size stays at its place; sequence headers whole.
            assert_eq!(o.range, k.range, "frame {i}: OBU moved");
            assert_eq!(
                frame[o.range.start..o.payload.start],
                s[k.range.start..k.payload.start],
                "frame {i}: OBU header"
            );
            if o.obu_type == 1 {
                assert_eq!(
                    frame[o.range.clone()],
                    s[k.range.clone()],
                    "sequence header"
                );
            }
        }
    });
}

#[test]
fn opus_packets_keep_the_toc_byte() {
    let packets = call_media::opus_packets(&sample("audio.opus")).expect("Ogg Opus");
    let packets: Vec<&[u8]> = packets.iter().take(100).map(Vec::as_slice).collect();
    check_codec(Codec::Opus, &packets, &[0], |i, p, s| {
        assert_eq!(s[0], p[0], "packet {i}: TOC byte (RFC 6716 §3.1)");
    });
}

#[test]
fn annexb_splitter_takes_start_codes_of_both_lengths() {
    let data = [
        0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 0x88,
    ];
    assert_eq!(annexb_nals(&data), vec![4..7, 10..12, 17..19]);
    assert_eq!(
        annexb_normalised(&data),
        [
            0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 0x88
        ]
    );
}
