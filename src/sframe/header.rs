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
fn extended_len(v: u64) -> usize {
    (8 - v.leading_zeros() as usize / 8).max(1)
}

/// Returns the config-byte field (4 bits: flag + 3-bit value) and the bytes that follow.
fn field_len(v: u64) -> usize {
    if v < 8 { 0 } else { extended_len(v) }
}

impl Header {
    /// Creates a header for `kid` and `ctr`.
    pub const fn new(kid: u64, ctr: u64) -> Self {
        Header { kid, ctr }
    }

    /// The number of bytes [`encode`](Self::encode) writes for this header (1..=17).
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
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, SframeError> {
        let len = self.encoded_len();
        let available = out.len();
        let out = out.get_mut(..len).ok_or(SframeError::BufferTooSmall {
            needed: len,
            available,
        })?;
        let kid_len = field_len(self.kid);
        let ctr_len = field_len(self.ctr);
        // The casts below take at most 3 bits of a value already known to fit.
        let kid_bits = if kid_len == 0 {
            (self.kid as u8) << 4
        } else {
            0x80 | (((kid_len - 1) as u8) << 4)
        };
        let ctr_bits = if ctr_len == 0 {
            self.ctr as u8
        } else {
            0x08 | (ctr_len - 1) as u8
        };
        out[0] = kid_bits | ctr_bits;
        out[1..1 + kid_len].copy_from_slice(&self.kid.to_be_bytes()[8 - kid_len..]);
        out[1 + kid_len..].copy_from_slice(&self.ctr.to_be_bytes()[8 - ctr_len..]);
        Ok(len)
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
    pub fn decode(frame: &[u8]) -> Result<(Header, usize), SframeError> {
        let config = *frame.first().ok_or(MalformedReason::TruncatedHeader)?;
        let mut pos = 1;
        let kid = read_field(frame, &mut pos, config >> 4)?;
        let ctr = read_field(frame, &mut pos, config & 0x0f)?;
        Ok((Header { kid, ctr }, pos))
    }
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
