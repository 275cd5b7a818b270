//! The bytes of the trailer (`docs/FRAMING.md` §3): the zero-free integer encoding, the
//! 7-bit packing of the SFrame header and tag, the layout and the fixed-size footer. No
//! byte this module writes is ever `0x00`, so a trailer can never form (or end) an H.264 or
//! H.265 start code.

use super::FramingError;
use super::plan::Clear;
use crate::sframe::{MAX_HEADER_LEN, MAX_TAG_LEN};

/// Largest encoded layout a trailer carries (14 bits in the footer).
pub const MAX_LAYOUT_LEN: usize = (1 << 14) - 1;
/// The footer: layout length (2 bytes), packed header-and-tag length (1 byte), magic.
pub(crate) const FOOTER_LEN: usize = 5;
/// The last two bytes of every codec-aware frame: "M1" (mlsframe framing, version 1).
pub(crate) const MAGIC: [u8; 2] = [0x4d, 0x31];
/// Longest SFrame header plus tag, and its packed length.
pub(crate) const MAX_HEADER_TAG: usize = MAX_HEADER_LEN + MAX_TAG_LEN;
pub(crate) const MAX_PACKED_HEADER_TAG: usize = (MAX_HEADER_TAG * 8).div_ceil(7);

/// Writes `v` as ULEB128 of `v + 1` at `out[*pos..]` (advancing `pos`; `out` has room,
/// see [`u_len`]): never a zero byte (continuation bytes have the top bit set; the last
/// byte is the nonzero high part of a nonzero value).
pub(crate) fn write_u(out: &mut [u8], pos: &mut usize, v: usize) {
    let mut x = (v as u128) + 1;
    loop {
        let low = (x & 0x7f) as u8;
        x >>= 7;
        if x == 0 {
            out[*pos] = low;
            *pos += 1;
            return;
        }
        out[*pos] = low | 0x80;
        *pos += 1;
    }
}

/// Appends `v` as [`write_u`] does.
#[cfg(test)]
pub(crate) fn put_u(out: &mut Vec<u8>, v: usize) {
    let mut buf = [0u8; 19];
    let mut n = 0;
    write_u(&mut buf, &mut n, v);
    out.extend_from_slice(&buf[..n]);
}

/// Encoded length of [`put_u`]`(v)`.
pub(crate) fn u_len(v: usize) -> usize {
    let bits = 128 - ((v as u128) + 1).leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Reads one [`put_u`] integer from `bytes[*pos..]`: minimal, at most 10 bytes, fitting
/// a `usize` after subtracting one.
pub(crate) fn get_u(bytes: &[u8], pos: &mut usize) -> Result<usize, FramingError> {
    let bad = FramingError::MalformedLayout("bad integer");
    let mut x: u64 = 0;
    for i in 0..10 {
        let b = *bytes.get(*pos).ok_or(bad)?;
        *pos += 1;
        let part = u64::from(b & 0x7f);
        if i == 9 && part > 1 {
            return Err(bad);
        }
        x |= part << (7 * i);
        if b & 0x80 == 0 {
            // Minimal: a last byte of zero (after a first) would be a padded encoding, and
            // a lone zero would encode -1.
            if b == 0 {
                return Err(bad);
            }
            return usize::try_from(x - 1).map_err(|_| bad);
        }
    }
    Err(bad)
}

/// Packs `raw` 7 bits per byte into `out` (which has room for `packed_len(raw.len())`),
/// most significant bit first, each byte `0x80 | bits`; the last group is padded with
/// zero bits. Returns the bytes written.
pub(crate) fn pack7(raw: &[u8], out: &mut [u8]) -> usize {
    let mut w = 0;
    // Seven bytes (56 bits) make eight 7-bit groups.
    for group in raw.chunks(7) {
        let mut bytes = [0u8; 8];
        bytes[1..1 + group.len()].copy_from_slice(group);
        let bits = u64::from_be_bytes(bytes);
        let n = packed_len(group.len());
        for (k, o) in out[w..w + n].iter_mut().enumerate() {
            *o = 0x80 | ((bits >> (49 - 7 * k)) & 0x7f) as u8;
        }
        w += n;
    }
    w
}

/// Length of [`pack7`]'s output for `n` raw bytes.
pub(crate) fn packed_len(n: usize) -> usize {
    (n * 8).div_ceil(7)
}

/// Inverse of [`pack7`]: `packed.len()` must be the packed length of some byte count and
/// the padding bits zero. Returns the bytes written to `out`.
pub(crate) fn unpack7(packed: &[u8], out: &mut [u8]) -> Result<usize, FramingError> {
    let bad = FramingError::MalformedLayout("bad packed header");
    let n = packed.len() * 7 / 8;
    if (n * 8).div_ceil(7) != packed.len() || n > out.len() {
        return Err(bad);
    }
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut w = 0;
    for &b in packed {
        if b & 0x80 == 0 {
            return Err(bad);
        }
        acc = ((acc << 7) | u32::from(b & 0x7f)) & 0x7fff;
        bits += 7;
        if bits >= 8 && w < n {
            bits -= 8;
            out[w] = (acc >> bits) as u8;
            w += 1;
        }
    }
    if acc & ((1 << bits) - 1) != 0 {
        return Err(bad);
    }
    Ok(n)
}

/// How the receiver cuts the frame into units before applying the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// One unit: the whole frame before the trailer (VP8, VP9, Opus, malformed AV1).
    Single = 0,
    /// The codec's units: NAL units (H.264/H.265), OBUs (AV1).
    Units = 1,
}

/// A layout checked to be canonical, read again unit by unit without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LayoutUnits<'a> {
    pub(crate) form: Form,
    count: usize,
    /// The encoded units (after the form and the count).
    units: &'a [u8],
}

impl<'a> LayoutUnits<'a> {
    /// Checks that `bytes` is exactly one canonical layout (`U(form) U(units)`, per unit
    /// `U(len) U(ranges)`, per range `U(gap) U(len)`, `gap` from the end of the previous
    /// range or the unit start; ranges non-empty, not touching, inside the unit).
    pub(crate) fn validate(bytes: &'a [u8]) -> Result<LayoutUnits<'a>, FramingError> {
        let mut pos = 0;
        let form = match get_u(bytes, &mut pos)? {
            0 => Form::Single,
            1 => Form::Units,
            _ => return Err(FramingError::MalformedLayout("unknown form")),
        };
        let count = get_u(bytes, &mut pos)?;
        // Every unit takes at least two bytes: a count beyond that is a lie.
        if count > bytes.len() / 2 || (form == Form::Single && count != 1) {
            return Err(FramingError::MalformedLayout("bad unit count"));
        }
        let units_at = pos;
        for _ in 0..count {
            let len = get_u(bytes, &mut pos)?;
            let ranges = get_u(bytes, &mut pos)?;
            if ranges > bytes.len() / 2 {
                return Err(FramingError::MalformedLayout("bad range count"));
            }
            let mut at = 0usize;
            for i in 0..ranges {
                let gap = get_u(bytes, &mut pos)?;
                let n = get_u(bytes, &mut pos)?;
                let end = at
                    .checked_add(gap)
                    .and_then(|off| off.checked_add(n))
                    .ok_or(FramingError::MalformedLayout("range overflow"))?;
                if n == 0 || (i > 0 && gap == 0) || end > len {
                    return Err(FramingError::MalformedLayout("non-canonical range"));
                }
                at = end;
            }
        }
        if pos != bytes.len() {
            return Err(FramingError::MalformedLayout("trailing layout bytes"));
        }
        Ok(LayoutUnits {
            form,
            count,
            units: &bytes[units_at..],
        })
    }

    /// Each unit's length and clear ranges.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, Clear<'a>)> + use<'a> {
        let bytes = self.units;
        let mut pos = 0;
        (0..self.count).map_while(move |_| {
            let len = get_u(bytes, &mut pos).ok()?;
            let count = get_u(bytes, &mut pos).ok()?;
            let start = pos;
            for _ in 0..2 * count {
                get_u(bytes, &mut pos).ok()?;
            }
            Some((
                len,
                Clear::Encoded {
                    bytes: &bytes[start..pos],
                    count,
                },
            ))
        })
    }
}

/// One unit's length and clear ranges `(offset, len)` within it, sorted, disjoint and
/// not touching (tests build and forge layouts with it).
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct UnitLayout {
    pub(crate) len: usize,
    pub(crate) clear: Vec<(usize, usize)>,
}

/// The layout a trailer carries, as plain vectors (tests).
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) form: Form,
    pub(crate) units: Vec<UnitLayout>,
}

#[cfg(test)]
impl Layout {
    /// Canonical encoding: `U(form) U(units)`, per unit `U(len) U(ranges)`, per range
    /// `U(gap) U(len)` with `gap` from the end of the previous range (or unit start).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_u(out, self.form as usize);
        put_u(out, self.units.len());
        for unit in &self.units {
            put_u(out, unit.len);
            put_u(out, unit.clear.len());
            let mut at = 0;
            for &(off, len) in &unit.clear {
                put_u(out, off - at);
                put_u(out, len);
                at = off + len;
            }
        }
    }

    /// Parses exactly `bytes` as a canonical layout.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Layout, FramingError> {
        let layout = LayoutUnits::validate(bytes)?;
        Ok(Layout {
            form: layout.form,
            units: layout
                .iter()
                .map(|(len, clear)| UnitLayout {
                    len,
                    clear: clear.iter().collect(),
                })
                .collect(),
        })
    }
}

/// Length of the trailer for `header_tag_len` bytes of header and tag and a
/// `layout_len`-byte layout.
pub(crate) fn trailer_len(header_tag_len: usize, layout_len: usize) -> usize {
    packed_len(header_tag_len) + layout_len + FOOTER_LEN
}

/// Writes the trailer `pack7(header || tag) || layout || footer` at the start of `out`
/// (which has room, see [`trailer_len`]); returns its length.
pub(crate) fn write_trailer(
    header_tag: &[u8],
    layout: &[u8],
    out: &mut [u8],
) -> Result<usize, FramingError> {
    if layout.len() > MAX_LAYOUT_LEN {
        return Err(FramingError::LayoutTooLarge);
    }
    let packed = pack7(header_tag, out);
    let mut pos = packed + layout.len();
    out[packed..pos].copy_from_slice(layout);
    out[pos] = 0x80 | (layout.len() >> 7) as u8;
    out[pos + 1] = 0x80 | (layout.len() & 0x7f) as u8;
    out[pos + 2] = 0x80 | packed as u8;
    out[pos + 3..pos + FOOTER_LEN].copy_from_slice(&MAGIC);
    pos += FOOTER_LEN;
    Ok(pos)
}

/// Appends the trailer (tests forge frames with it).
#[cfg(test)]
pub(crate) fn put_trailer(
    header_tag: &[u8],
    layout: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), FramingError> {
    let start = out.len();
    out.resize(start + trailer_len(header_tag.len(), layout.len()), 0);
    let n = write_trailer(header_tag, layout, &mut out[start..])?;
    out.truncate(start + n);
    Ok(())
}

/// A trailer found at the end of a frame.
pub(crate) struct Trailer<'a> {
    /// Where the trailer starts in the frame.
    pub(crate) start: usize,
    /// `header || tag`, unpacked.
    pub(crate) header_tag: [u8; MAX_HEADER_TAG],
    pub(crate) header_tag_len: usize,
    /// The encoded layout, and where it starts in the frame.
    pub(crate) layout: &'a [u8],
    pub(crate) layout_at: usize,
}

/// Finds the trailer ending `frame` from its footer.
pub(crate) fn find_trailer(frame: &[u8]) -> Result<Trailer<'_>, FramingError> {
    let bad = |why| FramingError::MalformedLayout(why);
    let footer_at = frame
        .len()
        .checked_sub(FOOTER_LEN)
        .ok_or(bad("no footer"))?;
    let footer = &frame[footer_at..];
    if footer[3..] != MAGIC || footer[..3].iter().any(|b| b & 0x80 == 0) {
        return Err(bad("bad footer"));
    }
    let layout_len = (usize::from(footer[0] & 0x7f) << 7) | usize::from(footer[1] & 0x7f);
    let packed_len = usize::from(footer[2] & 0x7f);
    if packed_len > MAX_PACKED_HEADER_TAG {
        return Err(bad("bad footer"));
    }
    let layout_at = footer_at
        .checked_sub(layout_len)
        .ok_or(bad("short frame"))?;
    let start = layout_at
        .checked_sub(packed_len)
        .ok_or(bad("short frame"))?;
    let mut header_tag = [0u8; MAX_HEADER_TAG];
    let header_tag_len = unpack7(&frame[start..layout_at], &mut header_tag)?;
    Ok(Trailer {
        start,
        header_tag,
        header_tag_len,
        layout: &frame[layout_at..footer_at],
        layout_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_minimal_and_zero_free() {
        for v in [
            0usize,
            1,
            126,
            127,
            128,
            16383,
            16384,
            1 << 40,
            usize::MAX - 1,
        ] {
            let mut out = Vec::new();
            put_u(&mut out, v);
            assert_eq!(out.len(), u_len(v), "{v}");
            assert!(!out.contains(&0), "{v}: {out:?}");
            let mut pos = 0;
            assert_eq!(get_u(&out, &mut pos).unwrap(), v);
            assert_eq!(pos, out.len());
        }
        // Padded (non-minimal) and the zero byte are refused.
        for bad in [&[0x81u8, 0x00][..], &[0x00], &[0x80], &[]] {
            assert!(get_u(bad, &mut 0).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pack7_round_trips_every_length() {
        for n in 0..=MAX_HEADER_TAG {
            let raw: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            let mut packed = vec![0u8; packed_len(n)];
            assert_eq!(pack7(&raw, &mut packed), packed.len());
            assert_eq!(packed.len(), (n * 8).div_ceil(7));
            assert!(packed.iter().all(|b| b & 0x80 != 0));
            let mut back = [0u8; MAX_HEADER_TAG];
            let m = unpack7(&packed, &mut back).unwrap();
            assert_eq!(&back[..m], &raw[..]);
            if let Some(last) = packed.last_mut()
                && n % 7 != 0
            {
                *last |= 1; // a padding bit set
                assert!(unpack7(&packed, &mut back).is_err(), "{n}");
            }
        }
    }
}
