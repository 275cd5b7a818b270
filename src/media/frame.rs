//! Sealing and opening a codec-aware frame (`docs/FRAMING.md` §4–§6): one RFC 9605
//! SFrame ciphertext whose bytes are scattered over the frame's non-clear positions, with
//! a trailer carrying the SFrame header, the tag and the layout; the codec id, the layout
//! and the clear bytes are bound through the SFrame metadata (AAD).
//!
//! Codec-aware sealing allocates per frame (the gathered plaintext, the metadata and the
//! layout); [`Codec::Whole`] keeps the allocation-free RFC 9605 path.

use zeroize::Zeroize;

use super::plan::{Plan, Unit, plan, receiver_units};
use super::wire::{
    FOOTER_LEN, Layout, MAX_HEADER_TAG, MAX_LAYOUT_LEN, MAX_PACKED_HEADER_TAG, find_trailer,
    put_trailer, u_len,
};
use super::{Codec, FramingError, av1};
use crate::sframe::{CipherSuite, Header, MAX_HEADER_LEN, Opened, Receiver, SendKey, SframeError};

/// First bytes of the authenticated metadata of every codec-aware frame.
pub(crate) const AAD_LABEL: [u8; 4] = *b"MFv1";
/// Seals tried before [`FramingError::StartCodeEmulation`]: each fails with probability
/// about `n * 2^-22` for an `n`-byte H.264/H.265 frame.
pub(crate) const MAX_SEAL_ATTEMPTS: usize = 8;

/// An upper bound on the sealed size of a `frame_len`-byte frame in mode `codec` under
/// `suite`; `None` on overflow.
pub fn max_sealed_len(codec: Codec, suite: CipherSuite, frame_len: usize) -> Option<usize> {
    let whole = crate::sframe::max_frame_len(suite, frame_len)?;
    if codec == Codec::Whole {
        return Some(whole);
    }
    let int = u_len(frame_len);
    // Units and ranges per unit at most (see each codec's module).
    let (units, ranges) = match codec {
        Codec::H264 | Codec::H265 => (frame_len / 4 + 1, 1),
        Codec::Av1 => (frame_len / 2 + 1, 1),
        Codec::Vp9 => (1, 9),
        _ => (1, 1),
    };
    let layout = units
        .checked_mul(2 * int + ranges * 2 * int)?
        .checked_add(1 + int)?
        .min(MAX_LAYOUT_LEN);
    // AV1: the padding OBU's header and size.
    let obu = if codec == Codec::Av1 { 4 } else { 0 };
    frame_len.checked_add(MAX_PACKED_HEADER_TAG + layout + FOOTER_LEN + obu)
}

/// Seals `frame` with the standalone `key` in mode `codec` into `out`; returns the bytes
/// written. [`Codec::Whole`] is [`SendKey::encrypt`]. Size `out` with [`max_sealed_len`].
///
/// ```
/// use mlsframe::media::{Codec, open, seal, max_sealed_len};
/// use mlsframe::sframe::{CipherSuite, Receiver, SendKey};
/// let suite = CipherSuite::Aes128GcmSha256_128;
/// let key = SendKey::new(suite, 1, &[7u8; 16]);
/// let mut rx = Receiver::new();
/// rx.add_key(suite, 1, &[7u8; 16])?;
/// let frame = [0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 1, 2, 3];
/// let mut sealed = vec![0u8; max_sealed_len(Codec::Vp8, suite, frame.len()).unwrap()];
/// let n = seal(Codec::Vp8, &key, b"", &frame, &mut sealed)?;
/// assert_eq!(&sealed[..10], &frame[..10]); // the VP8 key-frame header stays clear
/// let mut out = vec![0u8; n];
/// let opened = open(Codec::Vp8, &rx, b"", &sealed[..n], &mut out)?;
/// assert_eq!(&out[..opened.len], &frame[..]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`FramingError::LayoutTooLarge`], [`FramingError::StartCodeEmulation`], and SFrame
/// errors (buffer too small, counter exhausted).
pub fn seal(
    codec: Codec,
    key: &SendKey,
    metadata: &[u8],
    frame: &[u8],
    out: &mut [u8],
) -> Result<usize, FramingError> {
    if codec == Codec::Whole {
        return Ok(key.encrypt(metadata, frame, out)?);
    }
    seal_with(codec, metadata, frame, out, |aad, plain, sealed| {
        key.encrypt(aad, plain, sealed).map_err(FramingError::from)
    })
}

/// Opens a frame sealed by [`seal`] in mode `codec` into `out` (`frame.len()` bytes
/// suffice); `Opened::len` is the frame's length. [`Codec::Whole`] is
/// [`Receiver::decrypt`].
///
/// # Errors
/// [`FramingError::MalformedLayout`] (no trailer, or a layout that does not fit the
/// frame), and SFrame errors: authentication failed (also for a frame sealed in another
/// mode or with any clear byte or range changed), unknown key, replay, buffer too small.
pub fn open(
    codec: Codec,
    receiver: &Receiver,
    metadata: &[u8],
    frame: &[u8],
    out: &mut [u8],
) -> Result<Opened, FramingError> {
    if codec == Codec::Whole {
        return Ok(receiver.decrypt(metadata, frame, out)?);
    }
    let (mut opened, len) = open_with(codec, metadata, frame, out, |aad, sealed, plain| {
        let o = receiver.decrypt(aad, sealed, plain)?;
        Ok::<_, FramingError>((o, o.len))
    })?;
    opened.len = len;
    Ok(opened)
}

/// The SFrame header (KID and counter) of a frame sealed in mode `codec`, as an SFU or a
/// ledger reads it without a key: at the start of a [`Codec::Whole`] frame (RFC 9605
/// §4.3), otherwise from the codec-aware trailer at the end (`docs/FRAMING.md` §3;
/// H.264/H.265 trailing zero bytes are skipped). `None` when it does not parse. The
/// header is not authenticated until the frame opens. Allocates nothing.
///
/// ```
/// use mlsframe::media::{Codec, frame_header, max_sealed_len, seal};
/// use mlsframe::sframe::{CipherSuite, SendKey};
/// let suite = CipherSuite::Aes128GcmSha256_128;
/// let key = SendKey::new(suite, 9, &[7u8; 16]);
/// let frame = [0xfc, 1, 2, 3, 4];
/// let mut sealed = vec![0u8; max_sealed_len(Codec::Opus, suite, frame.len()).unwrap()];
/// let n = seal(Codec::Opus, &key, b"", &frame, &mut sealed)?;
/// let header = frame_header(Codec::Opus, &sealed[..n]).unwrap();
/// assert_eq!(header.kid, 9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn frame_header(codec: Codec, frame: &[u8]) -> Option<Header> {
    if codec == Codec::Whole {
        return Header::decode(frame).ok().map(|(h, _)| h);
    }
    let mut frame = frame;
    if matches!(codec, Codec::H264 | Codec::H265) {
        while let [rest @ .., 0] = frame {
            frame = rest;
        }
    }
    let trailer = find_trailer(frame).ok()?;
    Header::decode(&trailer.header_tag[..trailer.header_tag_len])
        .ok()
        .map(|(h, _)| h)
}

/// The authenticated metadata: label, codec id, layout, the clear bytes of `units` in
/// `bytes` (prefixes first, per unit), app metadata; built in one allocation.
fn aad(codec: Codec, layout: &[u8], bytes: &[u8], units: &[Unit], metadata: &[u8]) -> Vec<u8> {
    let clear_len: usize = units
        .iter()
        .map(|u| u.prefix_len + u.clear.iter().map(|&(_, n)| n).sum::<usize>())
        .sum();
    let mut aad = Vec::with_capacity(5 + layout.len() + clear_len + metadata.len());
    aad.extend_from_slice(&AAD_LABEL);
    aad.push(codec.id() as u8);
    aad.extend_from_slice(layout);
    for u in units {
        aad.extend_from_slice(u.prefix());
        for &(off, n) in &u.clear {
            aad.extend_from_slice(&bytes[u.start + off..u.start + off + n]);
        }
    }
    aad.extend_from_slice(metadata);
    aad
}

/// Calls `f(frame_offset, len)` for each encrypted run of `units`, in order.
fn for_each_encrypted(units: &[Unit], mut f: impl FnMut(usize, usize)) {
    for u in units {
        let mut at = 0;
        for &(off, n) in &u.clear {
            if off > at {
                f(u.start + at, off - at);
            }
            at = off + n;
        }
        if u.len > at {
            f(u.start + at, u.len - at);
        }
    }
}

/// Whether a sealed H.264/H.265 frame is free of start-code emulation: no `00 00 0x`
/// (`x <= 3`) and no trailing `00` in any unit, except where all bytes involved are the
/// unit's clear prefix (taken as is from the sender's frame).
fn emulation_free(out: &[u8], units: &[Unit], sealed_len: usize) -> bool {
    let last = units.len().saturating_sub(1);
    units.iter().enumerate().all(|(i, u)| {
        let end = if i == last {
            sealed_len
        } else {
            u.start + u.len
        };
        let clear_to = u
            .clear
            .first()
            .filter(|(off, _)| *off == 0)
            .map_or(u.start, |&(_, n)| u.start + n);
        let bytes = &out[u.start..end];
        let pattern = bytes
            .windows(3)
            .enumerate()
            .any(|(p, w)| w[0] == 0 && w[1] == 0 && w[2] <= 3 && u.start + p + 3 > clear_to);
        let trailing_zero = i != last && bytes.last() == Some(&0) && end > clear_to;
        !pattern && !trailing_zero
    })
}

/// Seals with `encrypt(aad, plaintext, out) -> sealed len` (an RFC 9605 seal that takes
/// a fresh counter on every call). `codec` is not [`Codec::Whole`].
pub(crate) fn seal_with<E: From<FramingError>>(
    codec: Codec,
    metadata: &[u8],
    frame: &[u8],
    out: &mut [u8],
    mut encrypt: impl FnMut(&[u8], &[u8], &mut [u8]) -> Result<usize, E>,
) -> Result<usize, E> {
    let planned = plan(codec, frame);
    let mut layout = Vec::new();
    planned.layout().encode(&mut layout);
    let Plan {
        region_len, units, ..
    } = planned;
    if layout.len() > MAX_LAYOUT_LEN {
        return Err(FramingError::LayoutTooLarge.into());
    }
    let aad = aad(codec, &layout, frame, &units, metadata);
    let mut plain = Vec::new();
    for_each_encrypted(&units, |at, n| {
        plain.extend_from_slice(&frame[at..at + n]);
    });
    let mut sealed = vec![0u8; MAX_HEADER_LEN + plain.len() + crate::sframe::MAX_TAG_LEN];
    let h26x = matches!(codec, Codec::H264 | Codec::H265);
    let mut result = Err(FramingError::StartCodeEmulation.into());
    // Reused by every attempt: a re-seal allocates nothing more.
    let mut header_tag = [0u8; MAX_HEADER_TAG];
    let mut body = Vec::with_capacity(MAX_PACKED_HEADER_TAG + layout.len() + FOOTER_LEN);
    let mut trailer = Vec::with_capacity(body.capacity() + 11);
    for _ in 0..MAX_SEAL_ATTEMPTS {
        let n = encrypt(&aad, &plain, &mut sealed)?;
        let (_, header_len) = Header::decode(&sealed[..n]).map_err(FramingError::from)?;
        let ct_end = header_len + plain.len();
        let header_tag_len = n - plain.len();
        header_tag[..header_len].copy_from_slice(&sealed[..header_len]);
        header_tag[header_len..header_tag_len].copy_from_slice(&sealed[ct_end..n]);
        body.clear();
        put_trailer(&header_tag[..header_tag_len], &layout, &mut body)?;
        trailer.clear();
        if codec == Codec::Av1 {
            trailer.push((av1::OBU_PADDING << 3) | 0x02);
            av1::put_leb128(&mut trailer, body.len());
        }
        trailer.extend_from_slice(&body);
        let total = region_len + trailer.len();
        if out.len() < total {
            plain.zeroize();
            return Err(FramingError::Sframe(SframeError::BufferTooSmall {
                needed: total,
                available: out.len(),
            })
            .into());
        }
        out[..region_len].copy_from_slice(&frame[..region_len]);
        let mut ct = &sealed[header_len..ct_end];
        for_each_encrypted(&units, |at, k| {
            out[at..at + k].copy_from_slice(&ct[..k]);
            ct = &ct[k..];
        });
        out[region_len..total].copy_from_slice(&trailer);
        if !h26x || emulation_free(out, &units, total) {
            result = Ok(total);
            break;
        }
    }
    plain.zeroize();
    result
}

/// Opens with `decrypt(aad, sealed, plaintext) -> (report, plaintext len)` (an RFC 9605
/// open); returns the report and the length of the frame written to `out`. `codec` is
/// not [`Codec::Whole`].
pub(crate) fn open_with<T, E: From<FramingError>>(
    codec: Codec,
    metadata: &[u8],
    frame: &[u8],
    out: &mut [u8],
    decrypt: impl FnOnce(&[u8], &[u8], &mut [u8]) -> Result<(T, usize), E>,
) -> Result<(T, usize), E> {
    let bad = |why| E::from(FramingError::MalformedLayout(why));
    let mut frame = frame;
    if matches!(codec, Codec::H264 | Codec::H265) {
        // Trailing zero bytes are byte-stream padding (the footer ends nonzero).
        while let [rest @ .., 0] = frame {
            frame = rest;
        }
    }
    let trailer = find_trailer(frame)?;
    let mut region_len = trailer.start;
    if codec == Codec::Av1 {
        // The padding OBU's header and LEB128 size (at most 10 bytes), on the stack.
        let mut obu = [0u8; 11];
        obu[0] = (av1::OBU_PADDING << 3) | 0x02;
        let mut obu_len = 1;
        let mut v = frame.len() - trailer.start;
        loop {
            obu[obu_len] = (v & 0x7f) as u8;
            obu_len += 1;
            v >>= 7;
            if v == 0 {
                break;
            }
            obu[obu_len - 1] |= 0x80;
        }
        region_len = region_len
            .checked_sub(obu_len)
            .filter(|&at| frame[at..trailer.start] == obu[..obu_len])
            .ok_or_else(|| bad("no padding OBU"))?;
    }
    let region = &frame[..region_len];
    let layout = Layout::parse(trailer.layout)?;
    let mut units = receiver_units(codec, layout.form, region)?;
    if units.len() != layout.units.len() {
        return Err(bad("unit count differs from the layout"));
    }
    for (unit, shape) in units.iter_mut().zip(layout.units) {
        if unit.len != shape.len {
            return Err(bad("unit length differs from the layout"));
        }
        unit.clear = shape.clear;
    }
    if out.len() < region_len {
        return Err(FramingError::Sframe(SframeError::BufferTooSmall {
            needed: region_len,
            available: out.len(),
        })
        .into());
    }
    let (header, tag) = {
        let ht = &trailer.header_tag[..trailer.header_tag_len];
        let (_, header_len) = Header::decode(ht).map_err(FramingError::from)?;
        ht.split_at(header_len)
    };
    let aad = aad(codec, trailer.layout, region, &units, metadata);
    let mut sealed = Vec::with_capacity(region_len + header.len() + tag.len());
    sealed.extend_from_slice(header);
    for_each_encrypted(&units, |at, n| {
        sealed.extend_from_slice(&region[at..at + n]);
    });
    let ct_len = sealed.len() - header.len();
    sealed.extend_from_slice(tag);
    let mut plain = vec![0u8; ct_len];
    let (report, n) = match decrypt(&aad, &sealed, &mut plain) {
        Ok(r) => r,
        Err(e) => {
            plain.zeroize();
            return Err(e);
        }
    };
    if n != ct_len {
        plain.zeroize();
        return Err(FramingError::MalformedLayout("plaintext length").into());
    }
    out[..region_len].copy_from_slice(region);
    let mut pt = &plain[..];
    for_each_encrypted(&units, |at, k| {
        out[at..at + k].copy_from_slice(&pt[..k]);
        pt = &pt[k..];
    });
    plain.zeroize();
    Ok((report, region_len))
}
