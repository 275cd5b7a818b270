//! Sealing and opening a codec-aware frame (`docs/FRAMING.md` §4–§6): one RFC 9605
//! SFrame ciphertext whose bytes are scattered over the frame's non-clear positions, with
//! a trailer carrying the SFrame header, the tag and the layout; the codec id, the layout
//! and the clear bytes are bound through the SFrame metadata (AAD).
//!
//! Nothing is allocated per frame. The encrypted runs are gathered into one contiguous
//! block of the caller's output buffer (the last `len` bytes before the end of the last
//! run), sealed or opened there in place, and scattered back; the authenticated data is
//! assembled on the stack. In place, the runs are recorded and the clear bytes between
//! them saved (on the stack) before anything moves, and on any error the frame is put
//! back together. Heap buffers are borrowed only for unusually long clear data (more
//! than 1 KiB of authenticated data, or in place more than 64 runs or 1 KiB between
//! them).

use zeroize::Zeroize;

use super::plan::{ReceiverPlan, SenderPlan, Walk, plan, unit_runs};
use super::wire::{
    self, FOOTER_LEN, Form, MAX_HEADER_TAG, MAX_LAYOUT_LEN, MAX_PACKED_HEADER_TAG, find_trailer,
    u_len,
};
use super::{Codec, FramingError, av1, h26x};
use crate::sframe::{
    CipherSuite, FrameInput, Header, MAX_HEADER_LEN, Opened, Receiver, SendKey, SframeError,
};

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
/// Allocates nothing (see the module docs for the rare exceptions).
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
    seal_frame(codec, key, metadata, Source::Separate(frame), out)
}

/// Opens a frame sealed by [`seal`] in mode `codec` into `out` (`frame.len()` bytes
/// suffice); `Opened::len` is the frame's length. [`Codec::Whole`] is
/// [`Receiver::decrypt`]. Allocates nothing (as [`seal`]); on error `out` holds no
/// plaintext.
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
    let (mut opened, len) = open_frame(
        codec,
        metadata,
        Source::Separate(frame),
        out,
        |aad, body, tag| Ok::<_, FramingError>(receiver.decrypt_detached(aad, body, tag)?),
    )?;
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

/// Stack space for the authenticated data (SFrame header, label, codec id, layout, clear
/// bytes, metadata); longer data goes to the heap.
const STACK_AAD: usize = 1024;
/// In place: stack space for the bytes between encrypted runs, and for the runs.
const STACK_GAPS: usize = 1024;
const STACK_RUNS: usize = 64;

/// Where the frame to seal or open is.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    /// A separate buffer; the result goes to `out`.
    Separate(&'a [u8]),
    /// The first `len` bytes of `out` itself.
    InPlace(usize),
}

/// A byte buffer on the stack, or on the heap when longer than `N` (for unusually long
/// clear data: see the module docs).
struct Scratch<const N: usize> {
    stack: [u8; N],
    heap: Vec<u8>,
    len: usize,
}

impl<const N: usize> Scratch<N> {
    fn new() -> Scratch<N> {
        Scratch {
            stack: [0; N],
            heap: Vec::new(),
            len: 0,
        }
    }

    /// Makes it `len` bytes long.
    fn set_len(&mut self, len: usize) {
        if len > N {
            self.heap.resize(len, 0);
        }
        self.len = len;
    }

    fn bytes(&self) -> &[u8] {
        if self.len > N {
            &self.heap
        } else {
            &self.stack[..self.len]
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        if self.len > N {
            &mut self.heap
        } else {
            &mut self.stack[..self.len]
        }
    }
}

/// The encrypted runs `(offset, len)` of a frame, recorded so that they can be walked
/// while the frame's bytes change (in place); on the heap beyond [`STACK_RUNS`] runs.
struct RunList {
    stack: [(usize, usize); STACK_RUNS],
    heap: Vec<(usize, usize)>,
    len: usize,
    heap_allowed: bool,
}

impl RunList {
    /// An empty list; beyond [`STACK_RUNS`] runs it moves to the heap when `heap` is set,
    /// and otherwise only counts them ([`RunList::complete`] is then false).
    fn new(heap: bool) -> RunList {
        RunList {
            stack: [(0, 0); STACK_RUNS],
            heap: Vec::new(),
            len: 0,
            heap_allowed: heap,
        }
    }

    fn push(&mut self, run: (usize, usize)) {
        if self.len < STACK_RUNS {
            self.stack[self.len] = run;
        } else if self.heap_allowed {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack);
            }
            self.heap.push(run);
        }
        self.len += 1;
    }

    /// Whether every run is in the list.
    fn complete(&self) -> bool {
        self.len <= STACK_RUNS || self.heap_allowed
    }

    fn as_slice(&self) -> &[(usize, usize)] {
        if self.len > STACK_RUNS {
            &self.heap
        } else {
            &self.stack[..self.len]
        }
    }
}

/// Where the encrypted runs lie: from the first run's start `first` to the last run's
/// end `end`, `len` bytes in all. The AEAD works on the contiguous block
/// `end - len .. end`, into which the runs are gathered and from which they are scattered
/// back (left-moving copies in order, so no run overwrites one not yet moved).
#[derive(Clone, Copy, Default)]
struct Span {
    first: usize,
    end: usize,
    len: usize,
}

impl Span {
    fn of(runs: impl Iterator<Item = (usize, usize)>) -> Span {
        let mut span = Span::default();
        for (i, (at, n)) in runs.enumerate() {
            if i == 0 {
                span.first = at;
            }
            span.end = at + n;
            span.len += n;
        }
        span
    }

    fn block(&self) -> std::ops::Range<usize> {
        self.end - self.len..self.end
    }

    /// Bytes between the runs.
    fn gaps_len(&self) -> usize {
        self.end - self.first - self.len
    }
}

/// Calls `f(offset, len)` for each stretch of `0..region_len` that no run covers.
fn for_each_gap(
    runs: impl Iterator<Item = (usize, usize)>,
    region_len: usize,
    mut f: impl FnMut(usize, usize),
) {
    let mut at = 0;
    for (start, n) in runs {
        if start > at {
            f(at, start - at);
        }
        at = start + n;
    }
    if region_len > at {
        f(at, region_len - at);
    }
}

/// Copies the runs of `src` (frame offsets) into the block of `out`, in order.
fn gather_from(runs: impl Iterator<Item = (usize, usize)>, src: &[u8], out: &mut [u8], span: Span) {
    let mut to = span.block().start;
    for (at, n) in runs {
        out[to..to + n].copy_from_slice(&src[at..at + n]);
        to += n;
    }
}

/// In place: moves the runs of `buf` (whose gaps were saved) into the block.
fn gather_in_place(runs: &[(usize, usize)], buf: &mut [u8], span: Span) {
    if span.gaps_len() == 0 {
        return; // The runs already form the block.
    }
    // Left to the front (each move only overwrites gaps and runs already moved), then the
    // whole block to the back.
    let mut to = span.first;
    for &(at, n) in runs {
        buf.copy_within(at..at + n, to);
        to += n;
    }
    buf.copy_within(span.first..span.first + span.len, span.block().start);
}

/// Moves the block's bytes out to the runs' places (each run moves left or stays).
fn scatter(runs: &mut dyn Iterator<Item = (usize, usize)>, buf: &mut [u8], span: Span) {
    if span.gaps_len() == 0 {
        return;
    }
    let mut from = span.block().start;
    for (at, n) in runs {
        buf.copy_within(from..from + n, at);
        from += n;
    }
}

/// Saves the bytes between the runs of `buf` (in place, before gathering).
fn save_gaps(runs: &[(usize, usize)], buf: &[u8], span: Span, gaps: &mut Scratch<STACK_GAPS>) {
    gaps.set_len(span.gaps_len());
    let saved = gaps.bytes_mut();
    let mut w = 0;
    for pair in runs.windows(2) {
        let (gap_at, gap_end) = (pair[0].0 + pair[0].1, pair[1].0);
        saved[w..w + gap_end - gap_at].copy_from_slice(&buf[gap_at..gap_end]);
        w += gap_end - gap_at;
    }
}

/// Puts back what [`save_gaps`] saved (after scattering).
fn restore_gaps(runs: &[(usize, usize)], buf: &mut [u8], gaps: &Scratch<STACK_GAPS>) {
    let saved = gaps.bytes();
    let mut r = 0;
    for pair in runs.windows(2) {
        let (gap_at, gap_end) = (pair[0].0 + pair[0].1, pair[1].0);
        buf[gap_at..gap_end].copy_from_slice(&saved[r..r + gap_end - gap_at]);
        r += gap_end - gap_at;
    }
}

/// The authenticated data, with room for the SFrame header in front: `[reserve] || label
/// || codec id || layout || the clear bytes of every unit (prefix first) || metadata`;
/// the layout's place in it and the end of the last unit; and the encrypted runs,
/// recorded on the way. Two walks over the units: one to measure (and record the runs),
/// one to write.
fn authenticated_data(
    codec: Codec,
    walk: &impl Walk,
    layout: LayoutSource<'_>,
    bytes: &[u8],
    metadata: &[u8],
    aad: &mut Scratch<STACK_AAD>,
    runs: &mut RunList,
) -> Result<(std::ops::Range<usize>, usize), FramingError> {
    let (mut units, mut clear_len, mut units_len, mut units_end) = (0, 0, 0, 0);
    for u in walk.units() {
        units += 1;
        units_end = u.start + u.len;
        clear_len += u.prefix_len;
        let mut ranges = 0;
        let mut at = 0;
        for (off, n) in u.clear.iter() {
            clear_len += n;
            ranges += 1;
            units_len += u_len(off - at) + u_len(n);
            at = off + n;
        }
        units_len += u_len(u.len) + u_len(ranges);
        unit_runs(u).for_each(|run| runs.push(run));
    }
    let layout_len = match layout {
        LayoutSource::Write(form) => u_len(form as usize) + u_len(units) + units_len,
        LayoutSource::Bytes(b) => b.len(),
    };
    if layout_len > MAX_LAYOUT_LEN {
        return Err(FramingError::LayoutTooLarge);
    }
    let label_at = MAX_HEADER_LEN;
    let layout_at = label_at + AAD_LABEL.len() + 1;
    let clear_at = layout_at + layout_len;
    let total = clear_at + clear_len + metadata.len();
    aad.set_len(total);
    let buf = aad.bytes_mut();
    buf[label_at..label_at + AAD_LABEL.len()].copy_from_slice(&AAD_LABEL);
    buf[layout_at - 1] = codec.id() as u8;
    let mut pos = layout_at;
    match layout {
        LayoutSource::Write(form) => {
            wire::write_u(buf, &mut pos, form as usize);
            wire::write_u(buf, &mut pos, units);
        }
        LayoutSource::Bytes(b) => buf[layout_at..clear_at].copy_from_slice(b),
    }
    let write_layout = matches!(layout, LayoutSource::Write(_));
    let mut w = clear_at;
    for u in walk.units() {
        if write_layout {
            wire::write_u(buf, &mut pos, u.len);
            wire::write_u(buf, &mut pos, u.clear.iter().count());
        }
        buf[w..w + u.prefix_len].copy_from_slice(u.prefix());
        w += u.prefix_len;
        let mut at = 0;
        for (off, n) in u.clear.iter() {
            if write_layout {
                wire::write_u(buf, &mut pos, off - at);
                wire::write_u(buf, &mut pos, n);
                at = off + n;
            }
            buf[w..w + n].copy_from_slice(&bytes[u.start + off..u.start + off + n]);
            w += n;
        }
    }
    debug_assert!(!write_layout || pos == clear_at);
    buf[w..].copy_from_slice(metadata);
    Ok((layout_at..clear_at, units_end))
}

/// The layout for [`authenticated_data`]: encoded from the walk (sender), or as received.
#[derive(Clone, Copy)]
enum LayoutSource<'a> {
    Write(Form),
    Bytes(&'a [u8]),
}

/// Writes `header` into the reserve in front of the authenticated data; returns where
/// the complete AAD starts.
fn put_header(aad: &mut Scratch<STACK_AAD>, header: &[u8]) -> usize {
    let at = MAX_HEADER_LEN - header.len();
    aad.bytes_mut()[at..MAX_HEADER_LEN].copy_from_slice(header);
    at
}

/// Whether a sealed H.264/H.265 region (`out[..region_len]`, followed by a trailer that
/// starts with a byte above `0x7f` and holds no zero byte) is free of start-code
/// emulation: no `00 00 0x` (`x <= 3`) involving an encrypted byte, and no NAL unit but
/// the last ending in an encrypted `00`. Every encrypted run ends its NAL unit (only a
/// prefix stays clear), and a window starting before the unit meets its start code's
/// `01`, so scanning each run with the two bytes before it covers every window the sender
/// changed.
fn emulation_free(
    out: &[u8],
    runs: impl Iterator<Item = (usize, usize)>,
    region_len: usize,
) -> bool {
    #[cfg(test)]
    if tests::force_emulation() {
        return false;
    }
    runs.into_iter().all(|(at, n)| {
        let end = at + n;
        let window = &out[at.saturating_sub(2)..end];
        let mut p = 0;
        let pattern = loop {
            p = h26x::find_byte(window, p, 0);
            if p + 2 >= window.len() {
                break false;
            }
            if window[p + 1] == 0 && window[p + 2] <= 3 {
                break true;
            }
            p += 1;
        };
        let trailing_zero = end < region_len && out[end - 1] == 0;
        !pattern && !trailing_zero
    })
}

/// The runs of a frame: walked from the plan (the frame is a separate buffer that does not
/// change), or recorded before the frame's own buffer changes (in place).
enum Runs<'a, W: Walk> {
    Walk(&'a W),
    List(&'a RunList),
}

impl<W: Walk> Runs<'_, W> {
    /// In place, saves the bytes between the runs into `slot` before anything moves (see
    /// [`save_gaps`]); out of place there is nothing to save (the source keeps them).
    fn save_gaps<'s>(
        &self,
        in_place: bool,
        out: &[u8],
        span: Span,
        slot: &'s mut Option<Scratch<STACK_GAPS>>,
    ) -> Option<&'s Scratch<STACK_GAPS>> {
        match self {
            Runs::List(list) if in_place => {
                let saved = slot.insert(Scratch::new());
                save_gaps(list.as_slice(), out, span, saved);
                Some(saved)
            }
            _ => None,
        }
    }

    fn span(&self) -> Span {
        match self {
            Runs::Walk(w) => Span::of(w.runs()),
            Runs::List(l) => Span::of(l.as_slice().iter().copied()),
        }
    }

    /// Puts the runs' bytes into the block: from the separate `frame`, or moved within
    /// `out` (in place; the gaps were saved).
    fn gather(&self, frame: Option<&[u8]>, out: &mut [u8], span: Span) {
        match (self, frame) {
            (Runs::Walk(w), Some(frame)) => gather_from(w.runs(), frame, out, span),
            (Runs::List(l), Some(frame)) => {
                gather_from(l.as_slice().iter().copied(), frame, out, span)
            }
            (Runs::List(l), None) => gather_in_place(l.as_slice(), out, span),
            // A walk reads the frame: in place it is always recorded.
            (Runs::Walk(_), None) => {}
        }
    }

    /// Moves the block's bytes to the runs' places and fills the rest of
    /// `out[..region_len]`: from the separate `frame`, or from the saved gaps.
    fn spread(
        &self,
        frame: Option<&[u8]>,
        gaps: Option<&Scratch<STACK_GAPS>>,
        out: &mut [u8],
        span: Span,
        region_len: usize,
    ) {
        match self {
            Runs::Walk(w) => scatter(&mut w.runs(), out, span),
            Runs::List(l) => scatter(&mut l.as_slice().iter().copied(), out, span),
        }
        match (frame, gaps, self) {
            (Some(frame), _, Runs::Walk(w)) => for_each_gap(w.runs(), region_len, |at, n| {
                out[at..at + n].copy_from_slice(&frame[at..at + n]);
            }),
            (Some(frame), _, Runs::List(l)) => {
                for_each_gap(l.as_slice().iter().copied(), region_len, |at, n| {
                    out[at..at + n].copy_from_slice(&frame[at..at + n]);
                });
            }
            (None, Some(gaps), Runs::List(l)) => restore_gaps(l.as_slice(), out, gaps),
            _ => {}
        }
    }

    fn emulation_free(&self, out: &[u8], region_len: usize) -> bool {
        match self {
            Runs::Walk(w) => emulation_free(out, w.runs(), region_len),
            Runs::List(l) => emulation_free(out, l.as_slice().iter().copied(), region_len),
        }
    }
}

/// Seals `src` with `key` in mode `codec` (not [`Codec::Whole`]) into `out`; returns the
/// sealed length. Allocates nothing unless the authenticated data exceeds [`STACK_AAD`]
/// bytes or, in place, the frame has more than [`STACK_RUNS`] encrypted runs or more
/// than [`STACK_GAPS`] bytes between them. In place, on error `out` still holds the frame.
pub(crate) fn seal_frame(
    codec: Codec,
    key: &SendKey,
    metadata: &[u8],
    src: Source<'_>,
    out: &mut [u8],
) -> Result<usize, FramingError> {
    let mut aad = Scratch::new();
    match src {
        Source::Separate(frame) => {
            let planned = plan(codec, frame);
            let mut list = RunList::new(false);
            let layout = LayoutSource::Write(planned.form);
            let (layout, units_end) = authenticated_data(
                codec, &planned, layout, frame, metadata, &mut aad, &mut list,
            )?;
            let region_len = region_len(codec, frame, units_end);
            // Walked again from the plan only when there are too many runs to list.
            let runs = if list.complete() {
                Runs::List(&list)
            } else {
                Runs::Walk(&planned)
            };
            seal_runs(
                codec,
                key,
                &mut aad,
                layout,
                region_len,
                &runs,
                Some(frame),
                out,
            )
        }
        Source::InPlace(len) => {
            let frame = out.get(..len).ok_or(SframeError::InvalidArgument(
                "plaintext length exceeds the buffer",
            ))?;
            // Everything that reads the frame as the codec wrote it happens first.
            let planned = plan(codec, frame);
            let mut list = RunList::new(true);
            let layout = LayoutSource::Write(planned.form);
            let (layout, units_end) = authenticated_data(
                codec, &planned, layout, frame, metadata, &mut aad, &mut list,
            )?;
            let region_len = region_len(codec, frame, units_end);
            let runs = Runs::<SenderPlan<'_>>::List(&list);
            seal_runs(codec, key, &mut aad, layout, region_len, &runs, None, out)
        }
    }
}

/// What a sealed frame keeps of `frame`: all of it, except H.264/H.265 bytes after the
/// last unit (trailing zero bytes, a bare final start code).
fn region_len(codec: Codec, frame: &[u8], units_end: usize) -> usize {
    match codec {
        Codec::H264 | Codec::H265 => units_end,
        _ => frame.len(),
    }
}

/// The seal itself, tried up to [`MAX_SEAL_ATTEMPTS`] times for H.264/H.265 (each with a
/// fresh counter). `frame` is the separate source, or `None` in place (`out` then holds
/// the frame, and holds it again on error).
#[allow(clippy::too_many_arguments)]
fn seal_runs<W: Walk>(
    codec: Codec,
    key: &SendKey,
    aad: &mut Scratch<STACK_AAD>,
    layout: std::ops::Range<usize>,
    region_len: usize,
    runs: &Runs<'_, W>,
    frame: Option<&[u8]>,
    out: &mut [u8],
) -> Result<usize, FramingError> {
    let span = runs.span();
    let tag_len = key.suite().tag_len();
    let mut saved = None;
    let gaps = runs.save_gaps(frame.is_none(), out, span, &mut saved);
    for _ in 0..MAX_SEAL_ATTEMPTS {
        let ctr = key.take_counter()?;
        let header = Header::new(key.kid(), ctr);
        let mut header_tag = [0u8; MAX_HEADER_TAG];
        let header_len = header.encode(&mut header_tag)?;
        let header_tag_len = header_len + tag_len;
        let body_len = wire::trailer_len(header_tag_len, layout.len());
        let obu_len = if codec == Codec::Av1 {
            1 + av1::leb128_len(body_len)
        } else {
            0
        };
        let total = region_len + obu_len + body_len;
        if out.len() < total {
            return Err(SframeError::BufferTooSmall {
                needed: total,
                available: out.len(),
            }
            .into());
        }
        let aad_at = put_header(aad, &header_tag[..header_len]);
        let (_, tag) = header_tag.split_at_mut(header_len);
        let sealed = match frame {
            // The runs are one stretch of the frame: sealed straight from it.
            Some(frame) if span.gaps_len() == 0 => key.frame_key().seal_detached_separate(
                ctr,
                &aad.bytes()[aad_at..],
                &frame[span.block()],
                &mut out[span.block()],
                &mut tag[..tag_len],
            ),
            _ => {
                runs.gather(frame, out, span);
                key.frame_key().seal_detached(
                    ctr,
                    &aad.bytes()[aad_at..],
                    &mut out[span.block()],
                    &mut tag[..tag_len],
                )
            }
        };
        if let Err(e) = sealed {
            if frame.is_some() {
                out[span.block()].zeroize();
            } else {
                runs.spread(None, gaps, out, span, region_len);
            }
            return Err(e.into());
        }
        runs.spread(frame, gaps, out, span, region_len);
        let mut w = region_len;
        if codec == Codec::Av1 {
            out[w] = (av1::OBU_PADDING << 3) | 0x02;
            w += 1;
            w += av1::write_leb128(&mut out[w..], body_len);
        }
        let layout_bytes = &aad.bytes()[layout.clone()];
        wire::write_trailer(&header_tag[..header_tag_len], layout_bytes, &mut out[w..])?;
        if !matches!(codec, Codec::H264 | Codec::H265) || runs.emulation_free(out, region_len) {
            return Ok(total);
        }
        if frame.is_none() {
            // In place: decrypt what was just sealed, so that the next attempt (or the
            // caller, on error) finds the frame again.
            runs.gather(None, out, span);
            let mut input = FrameInput::Detached {
                aad: &aad.bytes()[aad_at..],
                body: &mut out[span.block()],
                tag: &header_tag[header_len..header_tag_len],
            };
            key.frame_key().open(header, header_len, &[], &mut input)?;
            runs.spread(None, gaps, out, span, region_len);
        }
    }
    Err(FramingError::StartCodeEmulation)
}

/// Opens `src`, sealed in mode `codec` (not [`Codec::Whole`]), into `out` with
/// `decrypt(aad, body, tag)` (an RFC 9605 open of a frame in pieces, decrypting `body` in
/// place, see [`FrameInput::Detached`]); returns what `decrypt` reports and the length of
/// the frame written to the start of `out`. Allocates nothing, with the same exceptions
/// as [`seal_frame`]. On error `out` holds no plaintext; in place it holds the frame
/// again (with its encrypted bytes cleared when authentication failed under a backend
/// that clears them).
pub(crate) fn open_frame<T, E: From<FramingError>>(
    codec: Codec,
    metadata: &[u8],
    src: Source<'_>,
    out: &mut [u8],
    decrypt: impl FnOnce(&[u8], &mut [u8], &[u8]) -> Result<T, E>,
) -> Result<(T, usize), E> {
    let mut aad = Scratch::new();
    match src {
        Source::Separate(frame) => {
            let received = Received::parse(codec, frame)?;
            let (region, layout) = (received.region(frame), received.layout(frame));
            let planned = ReceiverPlan::new(codec, region, layout)?;
            let mut list = RunList::new(false);
            let layout = LayoutSource::Bytes(layout);
            authenticated_data(
                codec, &planned, layout, region, metadata, &mut aad, &mut list,
            )?;
            // Walked again from the layout only when there are too many runs to list.
            let runs = if list.complete() {
                Runs::List(&list)
            } else {
                Runs::Walk(&planned)
            };
            open_runs(&received, &mut aad, &runs, Some(region), out, decrypt)
        }
        Source::InPlace(len) => {
            // Everything that reads the frame as received happens first.
            let mut list = RunList::new(true);
            let received =
                {
                    let frame = out.get(..len).ok_or(FramingError::Sframe(
                        SframeError::InvalidArgument("frame length exceeds the buffer"),
                    ))?;
                    let received = Received::parse(codec, frame)?;
                    let (region, layout) = (received.region(frame), received.layout(frame));
                    let planned = ReceiverPlan::new(codec, region, layout)?;
                    let layout = LayoutSource::Bytes(layout);
                    authenticated_data(
                        codec, &planned, layout, region, metadata, &mut aad, &mut list,
                    )?;
                    received
                };
            let runs = Runs::<ReceiverPlan<'_>>::List(&list);
            open_runs(&received, &mut aad, &runs, None, out, decrypt)
        }
    }
}

/// What the trailer of a received frame says, as offsets into the frame.
struct Received {
    region_len: usize,
    layout: std::ops::Range<usize>,
    header_tag: [u8; MAX_HEADER_TAG],
    header_tag_len: usize,
}

impl Received {
    fn parse(codec: Codec, frame: &[u8]) -> Result<Received, FramingError> {
        let bad = FramingError::MalformedLayout;
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
            // The padding OBU's header and LEB128 size, just before the trailer.
            let mut obu = [0u8; 11];
            obu[0] = (av1::OBU_PADDING << 3) | 0x02;
            let obu_len = 1 + av1::write_leb128(&mut obu[1..], frame.len() - trailer.start);
            region_len = region_len
                .checked_sub(obu_len)
                .filter(|&at| frame[at..trailer.start] == obu[..obu_len])
                .ok_or(bad("no padding OBU"))?;
        }
        Ok(Received {
            region_len,
            layout: trailer.layout_at..trailer.layout_at + trailer.layout.len(),
            header_tag: trailer.header_tag,
            header_tag_len: trailer.header_tag_len,
        })
    }

    fn region<'f>(&self, frame: &'f [u8]) -> &'f [u8] {
        &frame[..self.region_len]
    }

    fn layout<'f>(&self, frame: &'f [u8]) -> &'f [u8] {
        &frame[self.layout.clone()]
    }
}

/// The open itself. `region` is the separate source, or `None` in place.
fn open_runs<W: Walk, T, E: From<FramingError>>(
    received: &Received,
    aad: &mut Scratch<STACK_AAD>,
    runs: &Runs<'_, W>,
    region: Option<&[u8]>,
    out: &mut [u8],
    decrypt: impl FnOnce(&[u8], &mut [u8], &[u8]) -> Result<T, E>,
) -> Result<(T, usize), E> {
    let region_len = received.region_len;
    if out.len() < region_len {
        return Err(FramingError::Sframe(SframeError::BufferTooSmall {
            needed: region_len,
            available: out.len(),
        })
        .into());
    }
    let ht = &received.header_tag[..received.header_tag_len];
    let (_, header_len) = Header::decode(ht).map_err(FramingError::from)?;
    let (header, tag) = ht.split_at(header_len);
    let aad_at = put_header(aad, header);
    let span = runs.span();
    let mut saved = None;
    let gaps = runs.save_gaps(region.is_none(), out, span, &mut saved);
    runs.gather(region, out, span);
    let opened = decrypt(&aad.bytes()[aad_at..], &mut out[span.block()], tag);
    // Out of place the block holds no plaintext after a failure; in place the frame is
    // put back together around whatever the block holds (never plaintext).
    let report = match opened {
        Ok(report) => report,
        Err(e) => {
            if region.is_none() {
                runs.spread(None, gaps, out, span, region_len);
            }
            return Err(e);
        }
    };
    runs.spread(region, gaps, out, span, region_len);
    Ok((report, region_len))
}

/// A hook for the tests: make the next `n` emulation checks fail, to exercise re-sealing.
#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    thread_local! {
        static FORCED: Cell<usize> = const { Cell::new(0) };
    }

    pub(crate) fn force_emulation_failures(n: usize) {
        FORCED.with(|f| f.set(n));
    }

    pub(super) fn force_emulation() -> bool {
        FORCED.with(|f| {
            let n = f.get();
            f.set(n.saturating_sub(1));
            n > 0
        })
    }
}
