//! Per-codec framing on synthetic frames: clear ranges where the codec rules put them,
//! byte-identical round trips, every bit flip refused, modes never confused, no start-code
//! emulation in H.264/H.265 output, and depayloader normalisation survived.

use super::h26x;
use super::*;
use crate::sframe::{CipherSuite, Receiver, SendKey, SframeError};

const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
const KEY: [u8; 16] = [0x42; 16];

fn pair(kid: u64) -> (SendKey, Receiver) {
    let tx = SendKey::new(SUITE, kid, &KEY);
    let mut rx = Receiver::new();
    rx.add_key(SUITE, kid, &KEY).unwrap();
    (tx, rx)
}

fn seal_vec(codec: Codec, tx: &SendKey, ad: &[u8], frame: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; max_sealed_len(codec, SUITE, frame.len()).unwrap()];
    let n = seal(codec, tx, ad, frame, &mut out).unwrap();
    out.truncate(n);
    out
}

fn open_vec(
    codec: Codec,
    rx: &Receiver,
    ad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, FramingError> {
    let mut out = vec![0u8; sealed.len()];
    let opened = open(codec, rx, ad, sealed, &mut out)?;
    out.truncate(opened.len);
    Ok(out)
}

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect()
}

pub(crate) fn vp8_key() -> Vec<u8> {
    let mut f = vec![0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
    f.extend(payload(60, 1));
    f
}

pub(crate) fn h264_frame(body: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40];
    f.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80]);
    f.extend_from_slice(&[0, 0, 1, 0x06, 0x05, 0x11, 0x22, 0x80]);
    f.extend_from_slice(&[0, 0, 1, 0x65, 0x88, 0x84]);
    f.extend_from_slice(body);
    f.push(0x80);
    f
}

fn h265_frame(body: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0, 0, 1, 0x40, 0x01, 0x0c, 0x01, 0xff];
    f.extend_from_slice(&[0, 0, 0, 1, 0x42, 0x01, 0x01, 0x01, 0x60]);
    f.extend_from_slice(&[0, 0, 0, 1, 0x44, 0x01, 0xc1, 0x72]);
    f.extend_from_slice(&[0, 0, 1, 0x26, 0x01, 0xaf, 0x06]);
    f.extend_from_slice(body);
    f.push(0x80);
    f
}

fn av1_frame() -> Vec<u8> {
    // TD, sequence header (4 bytes), frame OBU (40 bytes).
    let mut f = vec![0x12, 0x00, 0x0a, 0x04, 0x00, 0x00, 0x00, 0x24];
    f.extend_from_slice(&[0x32, 40]);
    f.extend(payload(40, 3));
    f
}

/// A codec, a frame, and the ranges expected clear.
type Sample = (Codec, Vec<u8>, Vec<(usize, usize)>);

/// A superframe: a VP9 key frame (29 bytes), an inter frame (4 bytes), the index.
fn vp9_superframe() -> Vec<u8> {
    let mut f = vp9::tests::key_frame();
    assert_eq!(f.len(), 29);
    f.extend_from_slice(&[0b1000_0110, 0x11, 0x22, 0x33]);
    let marker = 0b1100_0001;
    f.extend_from_slice(&[marker, 29, 4, marker]);
    f
}

fn av1_layered() -> Vec<u8> {
    let mut f = vec![0x0a, 0x03, 0x00, 0x00, 0x00];
    f.extend_from_slice(&[0x36, 0x28, 0x80, 0x01]);
    f.extend(payload(128, 6));
    f
}

fn samples() -> Vec<Sample> {
    let h264 = h264_frame(&payload(50, 7));
    let h265 = h265_frame(&payload(50, 9));
    let vp9 = vp9::tests::key_frame();
    vec![
        (Codec::Opus, vec![0xfc, 0xff, 0xfe, 1, 2, 3], vec![(0, 1)]),
        (Codec::Vp8, vp8_key(), vec![(0, 10)]),
        (Codec::Vp8, vec![0x31, 0x02, 0x00, 9, 8, 7, 6], vec![(0, 3)]),
        (Codec::Vp9, vp9, vec![(0, 9)]),
        // SPS, PPS whole; SEI header; slice header to the PPS id (1 + 2 bytes).
        (Codec::H264, h264, vec![(0, 23), (30, 3)]),
        // VPS, SPS, PPS whole; IDR: 2-byte header + 1 byte of slice header.
        (Codec::H265, h265, vec![(0, 26), (29, 3)]),
        // TD (framing), sequence header with its header and size, frame OBU header.
        (Codec::Av1, av1_frame(), vec![(0, 10)]),
        (Codec::Vp9, vp9_superframe(), vec![(0, 9), (29, 1), (33, 4)]),
        // Sequence header, then a frame OBU with an extension byte (layer ids).
        (Codec::Av1, av1_layered(), vec![(0, 5), (5, 4)]),
        // Not low-overhead AV1 (no size field): one unit, nothing clear.
        (Codec::Av1, vec![0x30, 1, 2, 3, 4, 5], vec![]),
        (Codec::Whole, payload(20, 5), vec![]),
    ]
}

/// Whether every byte in `clear` ranges is unchanged and (statistically) the rest is not.
fn clear_bytes_kept(frame: &[u8], sealed: &[u8], clear: &[(usize, usize)]) -> bool {
    clear
        .iter()
        .all(|&(o, n)| sealed.get(o..o + n) == frame.get(o..o + n))
}

#[test]
fn every_codec_round_trips_and_keeps_its_clear_ranges() {
    for suite_round in 0..2 {
        for (codec, frame, clear) in samples() {
            let (tx, rx) = pair(3 + suite_round);
            let sealed = seal_vec(codec, &tx, b"ad", &frame);
            assert!(clear_bytes_kept(&frame, &sealed, &clear), "{codec:?}");
            // The encrypted bytes changed: compare the non-clear positions.
            let mut changed = 0;
            for i in 0..frame.len().min(sealed.len()) {
                if !clear.iter().any(|&(o, n)| (o..o + n).contains(&i)) && frame[i] != sealed[i] {
                    changed += 1;
                }
            }
            if codec != Codec::Whole {
                assert!(changed > 0, "{codec:?}: nothing encrypted");
            }
            assert_eq!(
                open_vec(codec, &rx, b"ad", &sealed).unwrap(),
                frame,
                "{codec:?}"
            );
        }
    }
}

#[test]
fn every_bit_flip_is_refused() {
    for (codec, frame, _) in samples() {
        let (tx, rx) = pair(9);
        let sealed = seal_vec(codec, &tx, b"", &frame);
        for i in 0..sealed.len() {
            for bit in 0..8 {
                let mut bad = sealed.clone();
                bad[i] ^= 1 << bit;
                assert!(
                    open_vec(codec, &rx, b"", &bad).is_err(),
                    "{codec:?}: flip of byte {i} bit {bit} accepted"
                );
            }
        }
        assert_eq!(open_vec(codec, &rx, b"", &sealed).unwrap(), frame);
    }
}

#[test]
fn modes_are_never_confused() {
    for (codec, frame, _) in samples() {
        let (tx, rx) = pair(11);
        let sealed = seal_vec(codec, &tx, b"", &frame);
        for other in Codec::ALL {
            if other == codec {
                continue;
            }
            assert!(
                open_vec(other, &rx, b"", &sealed).is_err(),
                "{codec:?} frame opened as {other:?}"
            );
        }
        assert!(open_vec(codec, &rx, b"other ad", &sealed).is_err());
        assert_eq!(open_vec(codec, &rx, b"", &sealed).unwrap(), frame);
    }
}

#[test]
fn changed_layout_is_refused() {
    // Move a clear range by re-encoding a different (valid) layout into the trailer.
    let (tx, rx) = pair(5);
    let frame = vp8_key();
    let sealed = seal_vec(Codec::Vp8, &tx, b"", &frame);
    let trailer = wire::find_trailer(&sealed).unwrap();
    let layout = wire::Layout::parse(trailer.layout).unwrap();
    for (off, len) in [(0, 9), (1, 9), (0, 11), (0, 3)] {
        let mut other = layout.clone();
        other.units[0].clear = vec![(off, len)];
        let mut bytes = Vec::new();
        other.encode(&mut bytes);
        let mut forged = sealed[..trailer.start].to_vec();
        wire::put_trailer(
            &trailer.header_tag[..trailer.header_tag_len],
            &bytes,
            &mut forged,
        )
        .unwrap();
        assert!(matches!(
            open_vec(Codec::Vp8, &rx, b"", &forged),
            Err(FramingError::Sframe(SframeError::AuthenticationFailed))
        ));
    }
    assert_eq!(open_vec(Codec::Vp8, &rx, b"", &sealed).unwrap(), frame);
}

/// Start-code emulation or a trailing zero inside any NAL unit of `sealed`.
fn emulates(sealed: &[u8]) -> bool {
    let (units, _) = h26x::split(sealed, false);
    units.iter().any(|&(s, n)| {
        let nal = &sealed[s..s + n];
        nal.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 3) || nal.last() == Some(&0)
    })
}

#[test]
fn h26x_output_never_emulates_start_codes() {
    for codec in [Codec::H264, Codec::H265] {
        let (tx, rx) = pair(0x0100_0000);
        for i in 0..300usize {
            // Adversarial plaintexts: long runs of zeros (inside the encrypted part).
            let mut body = vec![0u8; 200 + i];
            body[i % 50] = 0x80;
            body.push(0x80);
            let frame = if codec == Codec::H264 {
                h264_frame(&body)
            } else {
                h265_frame(&body)
            };
            let sealed = seal_vec(codec, &tx, b"", &frame);
            assert!(!emulates(&sealed), "{codec:?} frame {i}");
            assert_eq!(open_vec(codec, &rx, b"", &sealed).unwrap(), frame);
        }
    }
}

/// A depayloader's normalisation: 3-byte start codes become 4 bytes, zeros appended.
fn normalise(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(&[0, 0, 1]) && (i == 0 || bytes[i - 1] != 0) {
            out.extend_from_slice(&[0, 0, 0, 1]);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn h26x_survives_start_code_rewrite_and_trailing_zeros() {
    for codec in [Codec::H264, Codec::H265] {
        let (tx, rx) = pair(21);
        let frame = if codec == Codec::H264 {
            h264_frame(&payload(80, 2))
        } else {
            h265_frame(&payload(80, 4))
        };
        // The sender drops trailing zero bytes; the receiver ignores appended ones.
        let mut padded = frame.clone();
        padded.extend_from_slice(&[0, 0, 0]);
        let sealed = seal_vec(codec, &tx, b"", &padded);
        let mut received = normalise(&sealed);
        received.extend_from_slice(&[0, 0]);
        assert_eq!(
            open_vec(codec, &rx, b"", &received).unwrap(),
            normalise(&frame)
        );
    }
}

#[test]
fn malformed_input_is_sealed_without_panic() {
    let (tx, rx) = pair(1);
    let odd: [&[u8]; 6] = [
        &[],
        &[0],
        &[0, 0, 1],
        &[0, 0, 1, 0x65],
        &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
        &[0x82, 0x49],
    ];
    for codec in Codec::ALL {
        for frame in odd {
            let mut out = vec![0u8; max_sealed_len(codec, SUITE, frame.len()).unwrap()];
            let n = seal(codec, &tx, b"", frame, &mut out).unwrap();
            let opened = open_vec(codec, &rx, b"", &out[..n]).unwrap();
            let mut expect = frame.to_vec();
            if matches!(codec, Codec::H264 | Codec::H265) {
                // Bytes after the last NAL unit (zeros, a bare start code) are dropped.
                expect.truncate(h26x::split(frame, true).1);
            }
            assert_eq!(opened, expect, "{codec:?} {frame:?}");
        }
    }
}

#[test]
fn garbage_gets_malformed_layout() {
    let (_, rx) = pair(1);
    for codec in Codec::ALL.into_iter().skip(1) {
        for junk in [&[][..], &[1, 2, 3], &[0x80, 0x80, 0x80, 0x4d, 0x31]] {
            assert!(matches!(
                open_vec(codec, &rx, b"", junk),
                Err(FramingError::MalformedLayout(_))
            ));
        }
    }
}

/// Seals in place (the frame at the start of a buffer sized by `max_sealed_len`).
fn seal_in_place(
    codec: Codec,
    tx: &SendKey,
    ad: &[u8],
    frame: &[u8],
) -> Result<Vec<u8>, FramingError> {
    let mut buf = vec![0u8; max_sealed_len(codec, SUITE, frame.len()).unwrap()];
    buf[..frame.len()].copy_from_slice(frame);
    let n = frame::seal_frame(codec, tx, ad, frame::Source::InPlace(frame.len()), &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

/// Opens in place; returns the buffer after the call either way.
fn open_in_place(
    codec: Codec,
    rx: &Receiver,
    ad: &[u8],
    sealed: &[u8],
) -> (Result<usize, FramingError>, Vec<u8>) {
    let mut buf = sealed.to_vec();
    let result = frame::open_frame(
        codec,
        ad,
        frame::Source::InPlace(sealed.len()),
        &mut buf,
        |aad, body, tag| Ok::<_, FramingError>(rx.decrypt_detached(aad, body, tag)?),
    )
    .map(|(_, len)| len);
    (result, buf)
}

#[test]
fn in_place_and_out_of_place_agree_both_ways() {
    for (i, (codec, frame, clear)) in samples().into_iter().enumerate() {
        if codec == Codec::Whole {
            continue;
        }
        let (tx, rx) = pair(0x300 + i as u64);
        for ad in [&b""[..], b"rtp"] {
            // Sealed in place, opened out of place, and the reverse.
            let sealed = seal_in_place(codec, &tx, ad, &frame).unwrap();
            assert!(clear_bytes_kept(&frame, &sealed, &clear), "{codec:?}");
            assert_eq!(
                open_vec(codec, &rx, ad, &sealed).unwrap(),
                frame,
                "{codec:?}"
            );
            let sealed = seal_vec(codec, &tx, ad, &frame);
            let (opened, buf) = open_in_place(codec, &rx, ad, &sealed);
            let len = opened.unwrap();
            assert_eq!(&buf[..len], &frame[..], "{codec:?}");
            // Same frame, same counter: both ways give the same bytes.
            let (tx_a, tx_b) = (pair(9).0, pair(9).0);
            assert_eq!(
                seal_in_place(codec, &tx_a, ad, &frame).unwrap(),
                seal_vec(codec, &tx_b, ad, &frame),
                "{codec:?}"
            );
        }
    }
}

#[test]
fn a_frame_refused_in_place_is_left_whole_or_without_plaintext() {
    for (i, (codec, frame, _)) in samples().into_iter().enumerate() {
        if codec == Codec::Whole {
            continue;
        }
        let (tx, rx) = pair(0x400 + i as u64);
        let sealed = seal_vec(codec, &tx, b"", &frame);
        // No key: decided before anything is decrypted, the frame is put back unchanged.
        let (result, buf) = open_in_place(codec, &Receiver::new(), b"", &sealed);
        assert!(matches!(
            result,
            Err(FramingError::Sframe(SframeError::UnknownKeyId(_)))
        ));
        assert_eq!(buf, sealed, "{codec:?}");
        // Wrong metadata: refused, and the buffer holds no plaintext byte that was
        // encrypted (those are ciphertext or cleared).
        let (result, buf) = open_in_place(codec, &rx, b"other", &sealed);
        assert!(matches!(
            result,
            Err(FramingError::Sframe(SframeError::AuthenticationFailed))
        ));
        let encrypted: Vec<usize> = (0..frame.len().min(sealed.len()))
            .filter(|&p| sealed[p] != frame[p])
            .collect();
        assert!(
            encrypted.iter().all(|&p| buf[p] != frame[p] || buf[p] == 0),
            "{codec:?}: plaintext left in place after a failed open"
        );
        // And the genuine open still works afterwards (the counter was not recorded).
        let (result, buf) = open_in_place(codec, &rx, b"", &sealed);
        assert_eq!(&buf[..result.unwrap()], &frame[..]);
    }
}

#[test]
fn re_sealing_after_emulation_recovers_the_frame_in_place() {
    for codec in [Codec::H264, Codec::H265] {
        let frame = if codec == Codec::H264 {
            h264_frame(&payload(300, 3))
        } else {
            h265_frame(&payload(300, 4))
        };
        let (tx, rx) = pair(0x500);
        for in_place in [false, true] {
            let before = tx.next_counter();
            frame::tests::force_emulation_failures(3);
            let sealed = if in_place {
                seal_in_place(codec, &tx, b"ad", &frame).unwrap()
            } else {
                seal_vec(codec, &tx, b"ad", &frame)
            };
            // Three sealed versions were refused: the fourth counter went out.
            assert_eq!(tx.next_counter(), before + 4, "{codec:?}");
            assert_eq!(frame_header(codec, &sealed).unwrap().ctr, before + 3);
            assert_eq!(open_vec(codec, &rx, b"ad", &sealed).unwrap(), frame);
            assert!(!emulates(&sealed));
        }
        // Every attempt refused: an error, and in place the buffer holds the frame again.
        frame::tests::force_emulation_failures(frame::MAX_SEAL_ATTEMPTS);
        let mut buf = vec![0u8; max_sealed_len(codec, SUITE, frame.len()).unwrap()];
        buf[..frame.len()].copy_from_slice(&frame);
        let result = frame::seal_frame(
            codec,
            &tx,
            b"",
            frame::Source::InPlace(frame.len()),
            &mut buf,
        );
        assert_eq!(result, Err(FramingError::StartCodeEmulation));
        assert_eq!(&buf[..frame.len()], &frame[..], "{codec:?}");
        frame::tests::force_emulation_failures(0);
    }
}

#[test]
fn frames_with_more_runs_than_the_stack_list_round_trip() {
    // 100 slices (more than the 64 runs listed on the stack): walked again out of place,
    // listed on the heap in place.
    for codec in [Codec::H264, Codec::Av1] {
        let mut frame = Vec::new();
        for i in 0..100u8 {
            if codec == Codec::H264 {
                frame.extend_from_slice(&[0, 0, 1, 0x41, 0x9a, i | 0x80, 0x11, 0x22, 0x33]);
            } else {
                // A frame OBU (type 6) with a size field and 5 payload bytes.
                frame.extend_from_slice(&[0x32, 5, i | 1, 2, 3, 4, 5]);
            }
        }
        let (tx, rx) = pair(0x600);
        let sealed = seal_vec(codec, &tx, b"m", &frame);
        assert_eq!(
            open_vec(codec, &rx, b"m", &sealed).unwrap(),
            frame,
            "{codec:?}"
        );
        let sealed = seal_in_place(codec, &tx, b"m", &frame).unwrap();
        let (opened, buf) = open_in_place(codec, &rx, b"m", &sealed);
        assert_eq!(&buf[..opened.unwrap()], &frame[..], "{codec:?}");
        // Both ways agree byte for byte under the same counter.
        let (a, b) = (pair(0x601).0, pair(0x601).0);
        assert_eq!(
            seal_in_place(codec, &a, b"", &frame).unwrap(),
            seal_vec(codec, &b, b"", &frame)
        );
    }
}
