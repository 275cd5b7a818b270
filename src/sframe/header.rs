//! The SFrame header (RFC 9605 §4.3): one config byte `X|K(3)|Y|C(3)` followed by the key
//! id and the counter in minimal big-endian form, 1 to 17 bytes in all.
//!
//! Receipt policy: a header whose KID or CTR is encoded in more bytes than the minimum (or
//! uses the extended form for a value below 8) is rejected as
//! [`MalformedReason::NonMinimalHeader`]. Every value therefore has exactly one encoding.
//! Whatever the policy, the AAD is always the header bytes *as received*, never a
//! re-encoding.

use super::error::{MalformedReason, SframeError};

/// The longest possible header: config byte, 8-byte KID, 8-byte CTR.
pub const MAX_HEADER_LEN: usize = 17;

/// A parsed SFrame header: which key sealed the frame and under which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Key identifier (KID).
    pub kid: u64,
    /// Frame counter (CTR), the per-key nonce input.
    pub ctr: u64,
}

/// Bytes needed for `v` in minimal big-endian form when it does not fit in 3 bits.
#[inline]
fn extended_len(v: u64) -> usize {
    (8 - v.leading_zeros() as usize / 8).max(1)
}

/// The bytes that follow the config byte for `v`: none when it fits in 3 bits.
#[inline]
fn field_len(v: u64) -> usize {
    if v < 8 { 0 } else { extended_len(v) }
}

impl Header {
    /// Creates a header for `kid` and `ctr`.
    pub const fn new(kid: u64, ctr: u64) -> Self {
        Header { kid, ctr }
    }

    /// The number of bytes [`encode`](Self::encode) writes for this header (1..=17).
    #[inline]
    pub fn encoded_len(&self) -> usize {
        1 + field_len(self.kid) + field_len(self.ctr)
    }

    /// Writes the minimal encoding into the start of `out` and returns its length.
    ///
    /// # Errors
    /// [`SframeError::BufferTooSmall`] when `out` is shorter than
    /// [`encoded_len`](Self::encoded_len).
    ///
    /// ```
    /// use mlsframe::sframe::Header;
    /// let mut buf = [0u8; 17];
    /// let n = Header::new(0x123, 0x4567).encode(&mut buf)?;
    /// assert_eq!(&buf[..n], &[0x99, 0x01, 0x23, 0x45, 0x67]);
    /// # Ok::<(), mlsframe::sframe::SframeError>(())
    /// ```
    #[inline]
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, SframeError> {
        self.fields().encode(out)
    }

    /// The config byte and the two fields, each front-aligned in a word.
    #[inline]
    fn fields(&self) -> Fields {
        KidField::new(self.kid).with_ctr(self.ctr)
    }

    /// Parses the header at the start of `frame` and returns it with its length in bytes.
    ///
    /// # Errors
    /// [`SframeError::MalformedFrame`] when `frame` ends inside the header or the header is
    /// not minimally encoded.
    ///
    /// ```
    /// use mlsframe::sframe::Header;
    /// let (header, len) = Header::decode(&[0x99, 0x01, 0x23, 0x45, 0x67, 0xaa])?;
    /// assert_eq!((header.kid, header.ctr, len), (0x123, 0x4567, 5));
    /// # Ok::<(), mlsframe::sframe::SframeError>(())
    /// ```
    #[inline]
    pub fn decode(frame: &[u8]) -> Result<(Header, usize), SframeError> {
        let config = *frame.first().ok_or(MalformedReason::TruncatedHeader)?;
        let kid_len = nibble_len(config >> 4);
        let ctr_len = nibble_len(config & 0x0f);
        let len = 1 + kid_len + ctr_len;
        // The common case: the header and at least 8 bytes after it are there (a frame
        // carries a tag after its header), so each field loads as one fixed 8-byte word.
        // Otherwise the byte-wise reader, which also tells where the frame ended.
        let Some(window) = frame.get(..len + 8) else {
            return decode_short(frame, config);
        };
        let kid = field_value(window, 1, kid_len, config >> 4)?;
        let ctr = field_value(window, 1 + kid_len, ctr_len, config & 0x0f)?;
        Ok((Header { kid, ctr }, len))
    }
}

/// A KID's part of every header it seals under, worked out once per key: the config
/// byte's `X|K` bits, the field's length and its minimal bytes at the front of a word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KidField {
    bits: u8,
    len: usize,
    word: u64,
    /// The field's value (0 when the KID is in the config byte).
    value: u64,
}

impl KidField {
    /// The header field of `kid`.
    pub(crate) fn new(kid: u64) -> KidField {
        let len = field_len(kid);
        // The casts take at most 3 bits of a value already known to fit.
        let bits = if len == 0 {
            (kid as u8) << 4
        } else {
            0x80 | (((len - 1) as u8) << 4)
        };
        KidField {
            bits,
            len,
            word: front_aligned(kid, len),
            value: if len == 0 { 0 } else { kid },
        }
    }

    /// The header of the frame with counter `ctr` under this KID.
    #[inline]
    pub(crate) fn with_ctr(&self, ctr: u64) -> Fields {
        let ctr_len = field_len(ctr);
        let ctr_bits = if ctr_len == 0 {
            ctr as u8
        } else {
            0x08 | (ctr_len - 1) as u8
        };
        // An empty field contributes no bytes (its value, if any, is in the config byte).
        let ctr_value = if ctr_len == 0 { 0 } else { ctr };
        Fields {
            len: 1 + self.len + ctr_len,
            kid_len: self.len,
            config: self.bits | ctr_bits,
            kid: self.word,
            ctr: front_aligned(ctr, ctr_len),
            tail: (u128::from(self.value) << (8 * ctr_len)) | u128::from(ctr_value),
        }
    }
}

/// A header ready to store: its length, the config byte and each field's minimal bytes at
/// the front of a word (the bytes after them are zero).
pub(crate) struct Fields {
    len: usize,
    kid_len: usize,
    config: u8,
    kid: u64,
    ctr: u64,
    /// The bytes after the config byte as one big-endian number (`kid_len + ctr_len`
    /// bytes, at most 16).
    tail: u128,
}

impl Fields {
    /// The header's length in bytes (1..=17).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Writes the header to the start of `out`, which holds at least `len + 8` bytes; up to
    /// 8 bytes after the header are overwritten (with zeros).
    #[inline]
    fn store(&self, out: &mut [u8]) {
        out[0] = self.config;
        out[1..9].copy_from_slice(&self.kid.to_be_bytes());
        out[1 + self.kid_len..9 + self.kid_len].copy_from_slice(&self.ctr.to_be_bytes());
    }

    /// As [`Header::encode`].
    #[inline]
    pub(crate) fn encode(&self, out: &mut [u8]) -> Result<usize, SframeError> {
        let len = self.len;
        let available = out.len();
        let out = out.get_mut(..len).ok_or(SframeError::BufferTooSmall {
            needed: len,
            available,
        })?;
        // Assembled in registers and written with at most three fixed-size stores, two
        // of which may overlap: no load reads back what a store just wrote (see
        // `encode_before`).
        let tail_len = len - 1;
        let config = u128::from(self.config) << 120;
        let front = if tail_len == 16 {
            out[16] = self.tail as u8;
            config | (self.tail >> 8)
        } else {
            config | (self.tail << (8 * (15 - tail_len)))
        };
        let n = len.min(16);
        // The last bytes of the first `n`, right-aligned in a word.
        let end = front >> (8 * (16 - n));
        if n >= 8 {
            out[..8].copy_from_slice(&((front >> 64) as u64).to_be_bytes());
            out[n - 8..n].copy_from_slice(&(end as u64).to_be_bytes());
        } else if n >= 4 {
            out[..4].copy_from_slice(&((front >> 96) as u32).to_be_bytes());
            out[n - 4..n].copy_from_slice(&(end as u32).to_be_bytes());
        } else if n >= 2 {
            out[..2].copy_from_slice(&((front >> 112) as u16).to_be_bytes());
            out[n - 2..n].copy_from_slice(&(end as u16).to_be_bytes());
        } else {
            out[0] = self.config;
        }
        Ok(len)
    }

    /// [`encode`](Self::encode) for a buffer whose 8 bytes after the header are the
    /// caller's to overwrite (a sealed frame's ciphertext, not yet written): the fields
    /// are stored straight into `out` as fixed 8-byte words, without an assembly buffer
    /// and a copy of variable length.
    #[inline]
    pub(crate) fn encode_with_slack(&self, out: &mut [u8]) -> Result<usize, SframeError> {
        match out.get_mut(..self.len + 8) {
            Some(window) => {
                self.store(window);
                Ok(self.len)
            }
            None => self.encode(out),
        }
    }

    /// Writes the header into the end of `window` (the bytes just before a frame's
    /// plaintext) and returns its length; the bytes before it keep their values.
    ///
    /// The window's last 16 bytes are read as one number, the header merged into it in
    /// registers, and the result written back as whole words (the config byte of a
    /// 17-byte header goes to the first byte). No load reads what a smaller store wrote
    /// just before: assembling the header in memory and copying it out made the CPU wait
    /// for those stores (a failed store-to-load forward), which cost more than all the
    /// instructions here (`docs/bench/notes.md`).
    #[inline]
    pub(crate) fn encode_before(&self, window: &mut [u8; MAX_HEADER_LEN]) -> usize {
        let [first, last @ ..] = window;
        let tail_len = self.len - 1;
        if tail_len == 16 {
            *first = self.config;
        }
        // The config byte joins the 16-byte word unless the fields fill it; the header's
        // bytes replace the word's last `len` bytes (all 16 from a 16-byte header on).
        let config = u128::from(self.config)
            .checked_shl(8 * tail_len as u32)
            .unwrap_or(0);
        let mask = u128::MAX >> (8 * (16 - self.len.min(16)));
        let kept = u128::from_be_bytes(*last) & !mask;
        *last = (kept | config | self.tail).to_be_bytes();
        self.len
    }
}

/// `v` shifted so that its `len` minimal big-endian bytes come first (0 when `len` is 0).
#[inline]
fn front_aligned(v: u64, len: usize) -> u64 {
    // `len` is 0..=8; an empty field is 0 (a shift by 64 would overflow).
    if len == 0 {
        0
    } else {
        v << (64 - 8 * len as u32)
    }
}

/// Bytes that follow the config byte for a field described by the nibble `flag|value(3)`.
#[inline]
fn nibble_len(nibble: u8) -> usize {
    if nibble & 0x08 == 0 {
        0
    } else {
        usize::from(nibble & 0x07) + 1
    }
}

/// The value of the field at `frame[pos..pos + len]` (`len` 0..=8; `frame` holds at least
/// 8 bytes from `pos`), or the nibble's 3-bit value when `len` is 0.
///
/// A field is minimal when its first byte is not zero and, for one byte, its value does
/// not fit in the nibble (at least 8).
#[inline]
fn field_value(frame: &[u8], pos: usize, len: usize, nibble: u8) -> Result<u64, SframeError> {
    if len == 0 {
        return Ok(u64::from(nibble & 0x07));
    }
    let mut word = [0u8; 8];
    word.copy_from_slice(&frame[pos..pos + 8]);
    let value = u64::from_be_bytes(word) >> (64 - 8 * len as u32);
    let first = word[0];
    if first == 0 || (len == 1 && first < 8) {
        return Err(MalformedReason::NonMinimalHeader.into());
    }
    Ok(value)
}

/// [`Header::decode`] for a frame that may end inside its header: reads field by field,
/// so that the error says where the frame ended.
#[cold]
fn decode_short(frame: &[u8], config: u8) -> Result<(Header, usize), SframeError> {
    let mut pos = 1;
    let kid = read_field(frame, &mut pos, config >> 4)?;
    let ctr = read_field(frame, &mut pos, config & 0x0f)?;
    Ok((Header { kid, ctr }, pos))
}

/// Reads one field described by a 4-bit nibble `flag|value(3)`, advancing `pos`.
fn read_field(frame: &[u8], pos: &mut usize, nibble: u8) -> Result<u64, SframeError> {
    let short = u64::from(nibble & 0x07);
    if nibble & 0x08 == 0 {
        return Ok(short);
    }
    let len = short as usize + 1;
    let bytes = frame
        .get(*pos..*pos + len)
        .ok_or(MalformedReason::TruncatedHeader)?;
    let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    if value < 8 || extended_len(value) != len {
        return Err(MalformedReason::NonMinimalHeader.into());
    }
    *pos += len;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_with_slack_writes_the_same_header_and_nothing_past_its_window() {
        let values = [0u64, 7, 8, 0xff, 0x100, 0x1234_5678, u64::MAX];
        for kid in values {
            for ctr in values {
                let header = Header::new(kid, ctr);
                let len = header.encoded_len();
                let mut plain = [0xaau8; MAX_HEADER_LEN];
                assert_eq!(header.encode(&mut plain), Ok(len));
                // Room for the slack: the same header, nothing written past len + 8.
                let mut roomy = [0xaau8; MAX_HEADER_LEN + 16];
                assert_eq!(header.fields().encode_with_slack(&mut roomy), Ok(len));
                assert_eq!(roomy[..len], plain[..len]);
                assert!(roomy[len + 8..].iter().all(|b| *b == 0xaa));
                // Without it: the plain encoding, nothing past the header touched.
                for size in len..len + 8 {
                    let mut tight = vec![0xaau8; size];
                    assert_eq!(header.fields().encode_with_slack(&mut tight), Ok(len));
                    assert_eq!(tight[..len], plain[..len]);
                    assert!(tight[len..].iter().all(|b| *b == 0xaa));
                }
                let mut short = vec![0u8; len - 1];
                assert!(header.fields().encode_with_slack(&mut short).is_err());
            }
        }
    }

    /// A value of every field length 0..=8, so that every header length 1..=17 occurs.
    const EVERY_FIELD_LENGTH: [u64; 11] = [
        0,
        7,
        8,
        0xff,
        0x100,
        0x1_0000,
        0x1234_5678,
        0x12_3456_789a,
        0x1234_5678_9abc,
        0x12_3456_789a_bcde,
        u64::MAX,
    ];

    /// RFC 9605 §4.3 written out byte by byte: the reference the word-wise writers are
    /// checked against.
    fn reference_header(kid: u64, ctr: u64) -> Vec<u8> {
        let minimal = |v: u64| -> Vec<u8> {
            let bytes = v.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            bytes[skip..].to_vec()
        };
        let nibble = |v: u64, field: &[u8]| -> u8 {
            if v < 8 {
                v as u8
            } else {
                0x08 | (field.len() as u8 - 1)
            }
        };
        let (kid_field, ctr_field) = (minimal(kid), minimal(ctr));
        let kid_field = if kid < 8 { vec![] } else { kid_field };
        let ctr_field = if ctr < 8 { vec![] } else { ctr_field };
        let mut out = vec![(nibble(kid, &kid_field) << 4) | nibble(ctr, &ctr_field)];
        out.extend_from_slice(&kid_field);
        out.extend_from_slice(&ctr_field);
        out
    }

    #[test]
    fn every_writer_matches_the_reference_and_stays_in_bounds() {
        let mut lengths = [false; MAX_HEADER_LEN + 1];
        for kid in EVERY_FIELD_LENGTH {
            for ctr in EVERY_FIELD_LENGTH {
                let expected = reference_header(kid, ctr);
                let len = expected.len();
                lengths[len] = true;
                let header = Header::new(kid, ctr);
                assert_eq!(header.encoded_len(), len);
                // `encode`: exactly `len` bytes written, the rest untouched.
                let mut out = [0xaau8; MAX_HEADER_LEN + 8];
                assert_eq!(header.encode(&mut out), Ok(len), "kid {kid} ctr {ctr}");
                assert_eq!(out[..len], expected[..], "kid {kid} ctr {ctr}");
                assert!(out[len..].iter().all(|b| *b == 0xaa));
                // `encode_before`: the header ends the window, the bytes before it kept.
                // The fields are the same whether the KID's part was worked out once or now.
                let fields = KidField::new(kid).with_ctr(ctr);
                let mut window = [0xaau8; MAX_HEADER_LEN];
                assert_eq!(fields.encode_before(&mut window), len);
                assert_eq!(window[MAX_HEADER_LEN - len..], expected[..]);
                assert!(window[..MAX_HEADER_LEN - len].iter().all(|b| *b == 0xaa));
            }
        }
        assert!(lengths[1..].iter().all(|seen| *seen), "every length 1..=17");
    }

    #[test]
    fn every_length_round_trips() {
        let values = [
            0u64,
            7,
            8,
            255,
            256,
            0xffff,
            0x1_0000,
            u64::MAX >> 8,
            u64::MAX,
        ];
        let mut buf = [0u8; MAX_HEADER_LEN];
        for &kid in &values {
            for &ctr in &values {
                let h = Header::new(kid, ctr);
                let n = h.encode(&mut buf).unwrap();
                assert_eq!(n, h.encoded_len());
                assert_eq!(Header::decode(&buf[..n]).unwrap(), (h, n));
                for cut in 0..n {
                    assert_eq!(
                        Header::decode(&buf[..cut]),
                        Err(SframeError::MalformedFrame(
                            MalformedReason::TruncatedHeader
                        )),
                        "kid {kid} ctr {ctr} cut {cut}"
                    );
                }
            }
        }
    }

    /// The word-wise reader (the header plus 8 bytes) and the byte-wise one (any frame)
    /// agree on every config byte, field contents at the minimality edges, and every cut.
    #[test]
    fn both_readers_agree_on_every_config_byte() {
        let mut checked = 0;
        for config in 0..=255u8 {
            for first in [0x00u8, 0x01, 0x07, 0x08, 0x80, 0xff] {
                for rest in [0x00u8, 0x5a, 0xff] {
                    // Both fields start with `first`: the KID at 1, the CTR right after it.
                    let mut frame = [rest; 1 + 16 + 8];
                    frame[0] = config;
                    frame[1] = first;
                    let kid_len = nibble_len(config >> 4);
                    frame[1 + kid_len] = first;
                    for cut in 0..=frame.len() {
                        let f = &frame[..cut];
                        let slow = if f.is_empty() {
                            Err(MalformedReason::TruncatedHeader.into())
                        } else {
                            decode_short(f, config)
                        };
                        assert_eq!(Header::decode(f), slow, "{config:#04x} {first} {cut}");
                        checked += usize::from(slow.is_ok());
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn every_length_class_encodes_as_the_rfc_describes() {
        // KID and CTR of every length class 0 (inline) ..= 8 bytes, at both class edges.
        let mut values = vec![0u64, 7];
        for bytes in 1..=8u32 {
            values.push(if bytes == 1 {
                8
            } else {
                1u64 << (8 * (bytes - 1))
            });
            values.push(u64::MAX >> (64 - 8 * bytes));
        }
        for &kid in &values {
            for &ctr in &values {
                let mut buf = [0xeeu8; MAX_HEADER_LEN + 4];
                let n = Header::new(kid, ctr).encode(&mut buf).unwrap();
                // The reference: RFC 9605 §4.3 written out byte by byte.
                let mut expected = vec![0u8];
                for (v, shift) in [(kid, 4), (ctr, 0)] {
                    if v < 8 {
                        expected[0] |= (v as u8) << shift;
                    } else {
                        let be = v.to_be_bytes();
                        let skip = be.iter().take_while(|&&b| b == 0).count();
                        expected[0] |= (0x08 | (7 - skip as u8)) << shift;
                        expected.extend_from_slice(&be[skip..]);
                    }
                }
                assert_eq!(&buf[..n], &expected[..], "kid {kid:#x} ctr {ctr:#x}");
                assert!(buf[n..].iter().all(|&b| b == 0xee), "wrote past {n}");
            }
        }
    }

    #[test]
    fn non_minimal_encodings_are_rejected() {
        // KID 5 in the extended one-byte form, CTR 0 inline.
        assert_eq!(
            Header::decode(&[0x80, 0x05]),
            Err(MalformedReason::NonMinimalHeader.into())
        );
        // CTR 0x12 in two bytes.
        assert_eq!(
            Header::decode(&[0x09, 0x00, 0x12]),
            Err(MalformedReason::NonMinimalHeader.into())
        );
        // KID 0x100 in three bytes.
        assert_eq!(
            Header::decode(&[0xa0, 0x00, 0x01, 0x00]),
            Err(MalformedReason::NonMinimalHeader.into())
        );
    }

    #[test]
    fn encode_into_short_buffer_is_an_error() {
        let h = Header::new(1000, 1000);
        let mut buf = [0u8; 4];
        assert_eq!(
            h.encode(&mut buf),
            Err(SframeError::BufferTooSmall {
                needed: 5,
                available: 4
            })
        );
    }
}
