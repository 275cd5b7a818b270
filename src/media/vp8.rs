//! VP8 (RFC 6386): the frame tag, and for key frames the start code and dimensions.
//!
//! RFC 6386 §9.1: every frame starts with a 3-byte frame tag (bit 0 of byte 0 is the
//! inverse key-frame flag, then version, show_frame and the 19-bit first-partition size);
//! a key frame continues with the 3-byte start code `9d 01 2a` and two 16-bit fields of
//! width/height with their scaling bits (7 bytes). RFC 7741 §4.3 (the VP8 RTP payload
//! header) is what depacketizers and SFUs read: its P bit is the inverse key-frame flag
//! and, on key frames, the size fields follow. libwebrtc's VP8 packetizer
//! (`RtpPacketizerVp8`) builds the payload descriptor from codec-specific info, and its
//! depacketizer (`VideoRtpDepacketizerVp8`) reads the key-frame flag and, on key frames,
//! width and height from these 10 bytes: so 10 clear bytes on key frames, 3 otherwise.
//! Stacks that parse further (GStreamer's `rtpvp8pay` reads the whole frame header,
//! including the encrypted first partition, to find partition boundaries) need more than
//! any encryption can leave clear.
//!
//! Fallback: a frame shorter than its 3-byte tag keeps nothing clear; a key frame whose
//! start code is missing or truncated keeps only the tag clear.

use super::plan::Ranges;

/// Clear ranges `(offset, len)` of a VP8 frame.
pub(crate) fn clear(frame: &[u8]) -> Ranges {
    if frame.len() < 3 {
        return Ranges::default();
    }
    let key_frame = frame[0] & 1 == 0;
    if key_frame && frame.len() >= 10 && frame[3..6] == [0x9d, 0x01, 0x2a] {
        Ranges::one(0, 10)
    } else {
        Ranges::one(0, 3)
    }
}

#[cfg(test)]
mod tests {
    use super::clear;

    #[test]
    fn key_and_inter_frames() {
        let key = [
            0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0xaa,
        ];
        assert_eq!(clear(&key).as_slice(), &[(0, 10)]);
        let inter = [0x51, 0x02, 0x00, 0x11, 0x22];
        assert_eq!(clear(&inter).as_slice(), &[(0, 3)]);
        let bad_start = [0x50, 0x02, 0x00, 0x9d, 0x01, 0x2b, 0, 0, 0, 0, 0];
        assert_eq!(clear(&bad_start).as_slice(), &[(0, 3)]);
        assert_eq!(clear(&key[..9]).as_slice(), &[(0, 3)]);
        assert!(clear(&[0x50, 0x02]).as_slice().is_empty());
    }
}
