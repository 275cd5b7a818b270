//! H.264 (ITU-T H.264 Annex B byte stream) and H.265 (ITU-T H.265 Annex B): NAL units
//! found from start codes, and the bytes of each that stay clear.
//!
//! Units: a frame is split on every start code `00 00 01` (a 4-byte `00 00 00 01` is a
//! zero byte plus a 3-byte one, Annex B.2); a unit is the bytes between two start codes
//! with trailing zero bytes removed (`trailing_zero_8bits`, B.1.1), so the layout never
//! counts start-code or padding bytes: depayloaders rewrite 3-byte start codes to 4 bytes
//! and drop trailing zeros. Bytes before the first start code that are not all zero form
//! a unit too; empty units do not count.
//!
//! Clear bytes per NAL unit (libwebrtc's `RtpPacketizerH264`/`RtpPacketizerH265` and
//! depacketizers read the NAL header of every unit, keep SPS/PPS(/VPS) to emit them with
//! IDRs and for `sprop-parameter-sets`, and its H.264 depacketizer parses the SPS; SFUs
//! read the slice type and the PPS id):
//! - H.264 §7.3.1: the 1-byte NAL header always. Whole unit for SPS (7), PPS (8), SPS
//!   extension (13), subset SPS (15), access unit delimiter (9), end of sequence (10),
//!   end of stream (11) and filler (12). For slices (1, 5) also the slice header (§7.3.3)
//!   through `first_mb_in_slice`, `slice_type` and `pic_parameter_set_id` (Exp-Golomb,
//!   read across emulation-prevention bytes), up to the last byte holding a bit of the
//!   PPS id. SEI (6) and the rest: only the header.
//! - H.265 §7.3.1.2: the 2-byte NAL header always. Whole unit for VPS (32), SPS (33),
//!   PPS (34), AUD (35), end of sequence/bitstream (36, 37) and filler (38). For VCL units
//!   (0..=31) also the slice segment header (§7.3.6.1) through
//!   `first_slice_segment_in_pic_flag`, `no_output_of_prior_pics_flag` (IRAP, 16..=23) and
//!   `slice_pic_parameter_set_id`. SEI and the rest: only the header.
//!
//! Fallback: a slice header that ends before its PPS id keeps only the NAL header clear;
//! a unit shorter than its NAL header stays entirely clear (it carries nothing else).
//! Stacks that need more of the slice header (for example `frame_num` or POC for
//! reordering in an SFU) need a longer clear prefix than libwebrtc's.

use super::Codec;
use super::bits::BitReader;

/// Units `(start, len)` of an Annex B byte stream, in order, found without allocating.
/// With `strip_last`, the last unit loses its trailing zero bytes like the others (the
/// sender reading a frame); without, it runs to the end of the bytes (the receiver reading
/// the frame before its trailer).
#[derive(Debug, Clone)]
pub(crate) struct NalUnits<'a> {
    bytes: &'a [u8],
    strip_last: bool,
    /// Start of the unit being scanned, and the scan position; `None` when done.
    start: Option<usize>,
    i: usize,
}

impl<'a> NalUnits<'a> {
    pub(crate) fn new(bytes: &'a [u8], strip_last: bool) -> NalUnits<'a> {
        NalUnits {
            bytes,
            strip_last,
            start: Some(0),
            i: 0,
        }
    }

    /// `(start, len)` of `bytes[start..end]`, trailing zeros removed when `strip`; `None`
    /// when that leaves nothing.
    fn unit(&self, start: usize, mut end: usize, strip: bool) -> Option<(usize, usize)> {
        if strip {
            while end > start && self.bytes[end - 1] == 0 {
                end -= 1;
            }
        }
        (end > start).then(|| (start, end - start))
    }
}

impl Iterator for NalUnits<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let bytes = self.bytes;
        loop {
            let start = self.start?;
            let mut found = None;
            // A start code is found from its `01` (in coded data rarer than `00`, which
            // emulation prevention `00 00 03` makes common).
            let mut q = self.i + 2;
            while q < bytes.len() {
                q = find_byte(bytes, q, 1);
                if q >= bytes.len() {
                    break;
                }
                if bytes[q - 1] == 0 && bytes[q - 2] == 0 {
                    found = Some(q - 2);
                    break;
                }
                q += 1;
            }
            self.i = found.map_or(bytes.len(), |at| at + 3);
            let unit = match found {
                Some(at) => {
                    self.start = Some(at + 3);
                    self.unit(start, at, true)
                }
                None => {
                    self.start = None;
                    self.unit(start, bytes.len(), self.strip_last)
                }
            };
            if unit.is_some() {
                return unit;
            }
        }
    }
}

/// Where the first byte equal to `needle` in `bytes` at or after `from` is (`bytes.len()`
/// if none): 32 bytes at a time, branch-free within a chunk so that the compiler
/// vectorises it.
#[inline]
pub(crate) fn find_byte(bytes: &[u8], from: usize, needle: u8) -> usize {
    const CHUNK: usize = 32;
    let mut at = from;
    while let Some(chunk) = bytes.get(at..at.saturating_add(CHUNK)) {
        let Ok(chunk) = <&[u8; CHUNK]>::try_from(chunk) else {
            break;
        };
        if chunk
            .iter()
            .fold(0u8, |hit, &b| hit | u8::from(b == needle))
            != 0
        {
            break;
        }
        at += CHUNK;
    }
    bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == needle))
        .map_or(bytes.len(), |p| at + p)
}

/// The units of `bytes` and the end of the last one (tests).
#[cfg(test)]
pub(crate) fn split(bytes: &[u8], strip_last: bool) -> (Vec<(usize, usize)>, usize) {
    let units: Vec<_> = NalUnits::new(bytes, strip_last).collect();
    let end = units.last().map_or(0, |&(s, n)| s + n);
    (units, end)
}

/// How many leading bytes of `nal` stay clear.
pub(crate) fn clear_len(codec: Codec, nal: &[u8]) -> usize {
    let n = match codec {
        Codec::H265 => h265(nal),
        _ => h264(nal),
    };
    n.min(nal.len())
}

fn h264(nal: &[u8]) -> usize {
    let Some(&h) = nal.first() else { return 0 };
    match h & 0x1f {
        7 | 8 | 9 | 10 | 11 | 12 | 13 | 15 => nal.len(),
        1 | 5 => {
            let mut r = BitReader::new(&nal[1..], true);
            match (r.ue(), r.ue(), r.ue()) {
                (Some(_), Some(_), Some(_)) => 1 + r.bytes_touched(),
                _ => 1,
            }
        }
        _ => 1,
    }
}

fn h265(nal: &[u8]) -> usize {
    if nal.len() < 2 {
        return nal.len();
    }
    let nal_type = (nal[0] >> 1) & 0x3f;
    match nal_type {
        32..=38 => nal.len(),
        0..=31 => {
            let mut r = BitReader::new(&nal[2..], true);
            let parsed = (|| {
                r.bit()?; // first_slice_segment_in_pic_flag
                if (16..=23).contains(&nal_type) {
                    r.bit()?; // no_output_of_prior_pics_flag
                }
                r.ue() // slice_pic_parameter_set_id
            })();
            match parsed {
                Some(_) => 2 + r.bytes_touched(),
                None => 2,
            }
        }
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_ignore_start_code_length_and_trailing_zeros() {
        let three = [0, 0, 1, 0x67, 0xaa, 0, 0, 1, 0x65, 0xbb, 0xcc, 0, 0];
        let four = [0, 0, 0, 1, 0x67, 0xaa, 0, 0, 0, 1, 0x65, 0xbb, 0xcc];
        let (a, end_a) = split(&three, true);
        let (b, end_b) = split(&four, true);
        let lens = |u: &[(usize, usize)]| u.iter().map(|x| x.1).collect::<Vec<_>>();
        assert_eq!(lens(&a), vec![2, 3]);
        assert_eq!(lens(&b), vec![2, 3]);
        assert_eq!((end_a, end_b), (11, 13));
        // Without stripping, a last unit ending in zero keeps them.
        assert_eq!(split(&three, false).0.last(), Some(&(8, 5)));
        // No start code: one unit; all zeros: none.
        assert_eq!(split(&[5, 6, 0], true).0, vec![(0, 2)]);
        assert!(split(&[0, 0, 0], true).0.is_empty());
    }

    #[test]
    fn find_byte_finds_every_match_in_order() {
        let mut bytes = vec![7u8; 200];
        for z in [0, 31, 32, 33, 95, 199] {
            bytes[z] = 0;
        }
        let mut found = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            at = find_byte(&bytes, at, 0);
            if at < bytes.len() {
                found.push(at);
            }
            at += 1;
        }
        assert_eq!(found, [0, 31, 32, 33, 95, 199]);
        assert_eq!(find_byte(&[1, 2, 3], 0, 0), 3);
        assert_eq!(find_byte(&[0], 5, 0), 1);
        assert_eq!(find_byte(&[0, 0, 1], 0, 1), 2);
    }

    #[test]
    fn h264_clear_bytes() {
        // IDR slice: first_mb 0 ('1'), slice_type 7 ('0001000'), pps 0 ('1'): 9 bits.
        let idr = [0x65, 0b1000_1000, 0b1000_0000, 0xde, 0xad];
        assert_eq!(clear_len(Codec::H264, &idr), 3);
        let sps = [0x67, 0x42, 0x00, 0x1f];
        assert_eq!(clear_len(Codec::H264, &sps), 4);
        assert_eq!(clear_len(Codec::H264, &[0x06, 5, 4]), 1);
        // Truncated slice header: only the NAL header.
        assert_eq!(clear_len(Codec::H264, &[0x41, 0x00]), 1);
        // Emulation prevention inside the slice header is counted in raw bytes.
        let epb = [0x41, 0x00, 0x00, 0x03, 0x01, 0xff];
        // ue: 16 zero bits, EPB skipped, then 0x01 = '0000000 1'... too long: falls back.
        assert_eq!(clear_len(Codec::H264, &epb), 1);
    }

    #[test]
    fn h265_clear_bytes() {
        // IDR_W_RADL (19): first_slice 1, no_output 0, pps 0 ('1'): 3 bits.
        let idr = [19 << 1, 0x01, 0b1010_0000, 0x55];
        assert_eq!(clear_len(Codec::H265, &idr), 3);
        let vps = [32 << 1, 0x01, 0x0c, 0x01];
        assert_eq!(clear_len(Codec::H265, &vps), 4);
        assert_eq!(clear_len(Codec::H265, &[39 << 1, 1, 5]), 2);
        assert_eq!(clear_len(Codec::H265, &[1 << 1]), 1);
    }
}
