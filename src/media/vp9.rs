//! VP9 (VP9 Bitstream & Decoding Process Specification v0.6): each frame's uncompressed
//! header up to what packetizers read, and the superframe index.
//!
//! - §6.2 / §7.2 `uncompressed_header()`: `frame_marker`, profile bits, `show_existing_frame`
//!   (a frame that only shows a stored one is 1–2 bytes, all clear), `frame_type`,
//!   `show_frame`, `error_resilient_mode`. For key frames also the `frame_sync_code`
//!   (`49 83 42`), `color_config()` and `frame_size()` (16-bit width and height minus 1):
//!   clear up to the last byte holding a bit of `frame_height_minus_1`. Non-key frames:
//!   clear up to the byte holding `error_resilient_mode`.
//! - Annex B (superframes): a chunk may hold several frames followed by an index whose
//!   first and last byte is the marker `0b110xxyyy`; the index stays clear, and each frame
//!   in it is treated as above.
//!
//! Target: libwebrtc's `RtpPacketizerVp9` builds the payload descriptor from
//! codec-specific info, and `VideoRtpDepacketizerVp9` reads only that descriptor; the
//! clear bytes serve SFUs and depacketizers that read the bitstream (frame type, key-frame
//! size) as RFC 9628 §4 allows. GStreamer's `rtpvp9pay` parses further into the
//! compressed header and needs the whole frame clear.
//!
//! Fallback: a frame whose header does not parse (wrong marker, truncated) keeps nothing
//! of its own clear; a superframe index that is inconsistent is ignored (the chunk is one
//! frame).

use super::bits::BitReader;
use super::plan::Ranges;

/// Clear ranges `(offset, len)` of a VP9 chunk (a frame or a superframe).
pub(crate) fn clear(chunk: &[u8]) -> Ranges {
    let mut ranges = Ranges::default();
    match superframe(chunk) {
        Some((sizes, count, index_len)) => {
            let mut at = 0;
            for &size in &sizes[..count] {
                ranges.push(at, header_len(&chunk[at..at + size]));
                at += size;
            }
            ranges.push(chunk.len() - index_len, index_len);
        }
        None => ranges.push(0, header_len(chunk)),
    }
    ranges
}

/// The frame sizes of a superframe index (Annex B.3), its frame count and its length,
/// when the index is present and consistent.
fn superframe(chunk: &[u8]) -> Option<([usize; 8], usize, usize)> {
    let marker = *chunk.last()?;
    if marker & 0xe0 != 0xc0 {
        return None;
    }
    let frames = usize::from(marker & 7) + 1;
    let size_bytes = usize::from((marker >> 3) & 3) + 1;
    let index_len = 2 + size_bytes * frames;
    let index_at = chunk.len().checked_sub(index_len)?;
    if chunk[index_at] != marker {
        return None;
    }
    let mut sizes = [0usize; 8];
    let mut total = 0usize;
    for (f, size) in sizes.iter_mut().enumerate().take(frames) {
        let at = index_at + 1 + f * size_bytes;
        *size = chunk[at..at + size_bytes]
            .iter()
            .rev()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        total = total.checked_add(*size)?;
    }
    (total <= index_at).then_some((sizes, frames, index_len))
}

/// Bytes of one frame's uncompressed header kept clear (0 if it does not parse).
fn header_len(frame: &[u8]) -> usize {
    parse_header(frame).unwrap_or(0)
}

fn parse_header(frame: &[u8]) -> Option<usize> {
    let mut r = BitReader::new(frame, false);
    if r.bits(2)? != 2 {
        return None;
    }
    let low = r.bit()?;
    let high = r.bit()?;
    let profile = (high << 1) | low;
    if profile == 3 {
        r.bit()?; // reserved_zero
    }
    if r.bit()? == 1 {
        r.bits(3)?; // frame_to_show_map_idx
        return Some(r.bytes_touched());
    }
    let key_frame = r.bit()? == 0;
    r.bits(2)?; // show_frame, error_resilient_mode
    if !key_frame {
        return Some(r.bytes_touched());
    }
    if r.bits(24)? != 0x49_83_42 {
        return None;
    }
    // color_config() (§6.2.2)
    if profile >= 2 {
        r.bit()?; // ten_or_twelve_bit
    }
    let color_space = r.bits(3)?;
    if color_space != 7 {
        r.bit()?; // color_range
        if profile == 1 || profile == 3 {
            r.bits(3)?; // subsampling_x, subsampling_y, reserved_zero
        }
    } else if profile == 1 || profile == 3 {
        r.bit()?; // reserved_zero
    }
    r.bits(32)?; // frame_size(): frame_width_minus_1, frame_height_minus_1
    Some(r.bytes_touched())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A profile-0 key frame: marker 10, profile 00, show_existing 0, frame_type 0,
    /// show 1, error_res 0, sync code, color_space 1 (3 bits) + range, 640x480.
    pub(crate) fn key_frame() -> Vec<u8> {
        // bits: 10 0 0 0 0 1 0 | 0x498342 | 001 0 | w-1=639 (16) | h-1=479 (16) | pad
        let mut bits = String::from("10000010");
        bits += "010010011000001101000010";
        bits += "0010";
        bits += &format!("{:016b}{:016b}", 639, 479);
        while bits.len() % 8 != 0 {
            bits.push('0');
        }
        let mut out: Vec<u8> = (0..bits.len() / 8)
            .map(|i| u8::from_str_radix(&bits[i * 8..i * 8 + 8], 2).unwrap())
            .collect();
        out.extend_from_slice(&[0xaa; 20]);
        out
    }

    #[test]
    fn key_frame_header_to_frame_size() {
        let f = key_frame();
        // 8 + 24 + 4 + 32 = 68 bits: 9 bytes.
        assert_eq!(clear(&f).as_slice(), &[(0, 9)]);
        // Inter frame: 1 byte.
        assert_eq!(clear(&[0b1000_0110, 0xff, 0xff]).as_slice(), &[(0, 1)]);
        // Wrong marker or bad sync code: nothing clear.
        assert_eq!(clear(&[0x00, 0xff]).as_slice(), &[(0, 0)]);
        let mut bad = f.clone();
        bad[1] ^= 0x10;
        assert_eq!(clear(&bad).as_slice(), &[(0, 0)]);
    }

    #[test]
    fn superframe_index_and_each_frame() {
        let a = key_frame();
        let b = vec![0b1000_0110, 0x11, 0x22];
        let mut chunk = a.clone();
        chunk.extend_from_slice(&b);
        // marker: 110 00 001 = 2 frames, 1 byte per size.
        let marker = 0b1100_0001;
        chunk.extend_from_slice(&[marker, a.len() as u8, b.len() as u8, marker]);
        assert_eq!(
            clear(&chunk).as_slice(),
            &[(0, 9), (a.len(), 1), (a.len() + b.len(), 4)]
        );
        // Sizes that overrun the chunk: no superframe.
        let n = chunk.len();
        chunk[n - 3] = 0xff;
        assert_eq!(clear(&chunk).as_slice(), &[(0, 9)]);
    }
}
