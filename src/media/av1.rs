//! AV1 (AV1 Bitstream & Decoding Process Specification, low-overhead bitstream format
//! §5.2): OBUs, their headers and sizes clear, sequence headers whole.
//!
//! - §5.3.1 `obu_header()`: forbidden bit, `obu_type`, `obu_extension_flag`,
//!   `obu_has_size_field`; §5.3.3 the optional extension byte (temporal and spatial ids).
//!   Both stay clear and are authenticated, with `obu_has_size_field` cleared, because
//!   an RTP depacketizer rewrites it (RFC-format "RTP Payload Format for AV1" §4.3 drops
//!   `obu_size` on the wire and libwebrtc's `VideoRtpDepacketizerAv1` restores it).
//! - §4.10.5 `obu_size` (leb128) stays clear and is *not* authenticated as bytes (a
//!   depacketizer may re-encode it); the layout authenticates each OBU's payload length.
//! - §5.5 sequence header OBU (type 1): the whole payload stays clear (decoders and SFUs
//!   need it to start decoding a layer; libwebrtc's packetizer reads its presence to mark
//!   key frames). Every other payload is encrypted.
//! - Temporal delimiters (type 2) and padding (type 15) are not units: libwebrtc's
//!   `RtpPacketizerAv1` drops them, as the AV1 RTP payload format §5 says a sender SHOULD.
//!   Their bytes pass through unauthenticated (a delimiter is empty; padding is ignored by
//!   decoders).
//!
//! The trailer is itself an OBU_PADDING OBU appended to the temporal unit, so OBU parsers
//! skip it. Caveat: a packetizer that drops padding OBUs (libwebrtc's does) also drops the
//! trailer; codec-aware AV1 therefore needs a packetizer that forwards OBU_PADDING, or an
//! insertable-streams hook after packetization.
//!
//! Fallback: a temporal unit that is not a sequence of well-formed OBUs with size fields
//! (the low-overhead format requires `obu_has_size_field = 1`, §7.5) is sealed as one unit
//! with nothing clear.

use super::plan::Unit;

/// OBU type of the trailer.
pub(crate) const OBU_PADDING: u8 = 15;
const OBU_TEMPORAL_DELIMITER: u8 = 2;
const OBU_SEQUENCE_HEADER: u8 = 1;

/// One OBU of a temporal unit: its payload `(start, len)`, header bytes and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Obu {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) header: [u8; 2],
    pub(crate) header_len: usize,
    pub(crate) obu_type: u8,
}

impl Obu {
    /// The unit: the payload, with the header (has-size bit cleared) as its prefix.
    pub(crate) fn unit(&self) -> Unit<'static> {
        let mut unit = Unit::new(self.start, self.len);
        unit.prefix = self.header;
        unit.prefix[0] &= !0x02;
        unit.prefix_len = self.header_len;
        unit
    }
}

/// Whether an OBU type's payload stays clear.
pub(crate) fn payload_clear(obu_type: u8) -> bool {
    obu_type == OBU_SEQUENCE_HEADER
}

/// A leb128 (§4.10.5) at `bytes[at..]`: value and length; at most 8 bytes, < 2^32.
pub(crate) fn leb128(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut v: u64 = 0;
    for i in 0..8 {
        let b = *bytes.get(at + i)?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return usize::try_from(v)
                .ok()
                .filter(|&v| v <= u32::MAX as usize)
                .map(|v| (v, i + 1));
        }
    }
    None
}

/// Writes `v` as minimal leb128 at the start of `out` (10 bytes always suffice); returns
/// its length.
pub(crate) fn write_leb128(out: &mut [u8], mut v: usize) -> usize {
    let mut n = 0;
    loop {
        let low = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out[n] = low;
            return n + 1;
        }
        out[n] = low | 0x80;
        n += 1;
    }
}

/// Length of [`write_leb128`]'s output.
pub(crate) fn leb128_len(v: usize) -> usize {
    let bits = usize::BITS as usize - v.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// The OBUs of a temporal unit in order, temporal delimiters and padding left out. It
/// stops at the first OBU that does not parse: check [`well_formed`] first.
#[derive(Debug, Clone)]
pub(crate) struct Obus<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Obus<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Obus<'a> {
        Obus { bytes, pos: 0 }
    }

    /// The next OBU, padding and delimiters included; `Err` when it does not parse.
    fn next_any(&mut self) -> Option<Result<Obu, ()>> {
        let bytes = self.bytes;
        let pos = self.pos;
        if pos >= bytes.len() {
            return None;
        }
        let parsed = (|| {
            let h = bytes[pos];
            // Forbidden bit and obu_reserved_1bit must be 0 (§6.2.2); a size field is
            // required.
            if h & 0x81 != 0 || h & 0x02 == 0 {
                return None;
            }
            let header_len = if h & 0x04 != 0 { 2 } else { 1 };
            let mut header = [h, 0];
            if header_len == 2 {
                header[1] = *bytes.get(pos + 1)?;
            }
            let (size, size_len) = leb128(bytes, pos + header_len)?;
            let start = pos + header_len + size_len;
            let end = start.checked_add(size).filter(|&e| e <= bytes.len())?;
            Some((
                Obu {
                    start,
                    len: size,
                    header,
                    header_len,
                    obu_type: (h >> 3) & 0x0f,
                },
                end,
            ))
        })();
        Some(match parsed {
            Some((obu, end)) => {
                self.pos = end;
                Ok(obu)
            }
            None => {
                self.pos = bytes.len();
                Err(())
            }
        })
    }
}

impl Iterator for Obus<'_> {
    type Item = Obu;

    fn next(&mut self) -> Option<Obu> {
        loop {
            match self.next_any()? {
                Ok(obu) if obu.obu_type == OBU_TEMPORAL_DELIMITER => {}
                Ok(obu) if obu.obu_type == OBU_PADDING => {}
                Ok(obu) => return Some(obu),
                Err(()) => return None,
            }
        }
    }
}

/// Whether every OBU of `bytes` has a valid header and a size field that fits.
pub(crate) fn well_formed(bytes: &[u8]) -> bool {
    let mut obus = Obus::new(bytes);
    while let Some(obu) = obus.next_any() {
        if obu.is_err() {
            return false;
        }
    }
    true
}

/// The OBUs of a temporal unit (tests); `None` unless [`well_formed`].
#[cfg(test)]
pub(crate) fn split(bytes: &[u8]) -> Option<Vec<Obu>> {
    well_formed(bytes).then(|| Obus::new(bytes).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obus_with_sizes() {
        // TD, sequence header (3 bytes), frame with extension (2 bytes).
        let tu = [0x12, 0x00, 0x0a, 0x03, 1, 2, 3, 0x36, 0x10, 0x02, 9, 9];
        let obus = split(&tu).unwrap();
        assert_eq!(obus.len(), 2);
        assert_eq!((obus[0].start, obus[0].len, obus[0].obu_type), (4, 3, 1));
        assert_eq!((obus[1].start, obus[1].len, obus[1].header_len), (10, 2, 2));
        assert_eq!(obus[1].unit().prefix(), &[0x34, 0x10]);
        // Overrunning size, missing size field, forbidden bit: refused.
        assert!(split(&[0x0a, 0x05, 1]).is_none());
        assert!(split(&[0x08, 1, 2]).is_none());
        assert!(split(&[0x8a, 0x00]).is_none());
        assert_eq!(leb128(&[0x80, 0x01], 0), Some((128, 2)));
        let mut v = [0u8; 10];
        assert_eq!(write_leb128(&mut v, 300), 2);
        assert_eq!(leb128(&v, 0), Some((300, 2)));
        for n in [0usize, 127, 128, 16383, 16384, usize::MAX] {
            assert_eq!(write_leb128(&mut v, n), leb128_len(n), "{n}");
        }
    }
}
