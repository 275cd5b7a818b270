//! A frame cut into units and clear ranges, walked without allocating: what the sender
//! computes from the codec's bitstream ([`SenderPlan`]) and what the receiver finds again
//! in the received bytes, with the clear ranges read from the trailer's layout
//! ([`ReceiverPlan`]). Both walk the frame again on every pass (layout, authenticated
//! data, encrypted runs): each pass is linear and touches only headers.

use super::wire::{Form, LayoutUnits};
use super::{Codec, FramingError, av1, h26x, opus, vp8, vp9};

/// Most clear ranges a sender keeps in one unit (a VP9 superframe: eight frame headers
/// and the index).
pub(crate) const MAX_RANGES: usize = 9;

/// Up to [`MAX_RANGES`] clear ranges `(offset, len)` of one unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Ranges {
    items: [(usize, usize); MAX_RANGES],
    len: usize,
}

impl Ranges {
    /// One range (or none when `len` is 0).
    pub(crate) fn one(off: usize, len: usize) -> Ranges {
        let mut r = Ranges::default();
        r.push(off, len);
        r
    }

    /// Appends a range; ranges beyond [`MAX_RANGES`] are dropped (their bytes are then
    /// encrypted, which is always safe).
    pub(crate) fn push(&mut self, off: usize, len: usize) {
        if self.len < MAX_RANGES {
            self.items[self.len] = (off, len);
            self.len += 1;
        }
    }

    pub(crate) fn as_slice(&self) -> &[(usize, usize)] {
        &self.items[..self.len]
    }

    /// Sorted, clipped to `unit_len`, empty ranges dropped and touching ones merged.
    pub(crate) fn canonical(mut self, unit_len: usize) -> Ranges {
        self.items[..self.len].sort_unstable();
        let mut out = Ranges::default();
        for &(off, n) in self.as_slice() {
            let end = off.saturating_add(n).min(unit_len);
            if off >= end {
                continue;
            }
            match out.len.checked_sub(1).map(|i| &mut out.items[i]) {
                Some((o, m)) if *o + *m >= off => *m = (*o + *m).max(end) - *o,
                _ => out.push(off, end - off),
            }
        }
        out
    }
}

/// A unit's clear ranges: computed by the sender, or read from a validated layout.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Clear<'a> {
    Fixed(Ranges),
    /// `count` ranges as the layout encodes them (`U(gap) U(len)` each), already checked.
    Encoded {
        bytes: &'a [u8],
        count: usize,
    },
}

impl<'a> Clear<'a> {
    /// The ranges, in order.
    pub(crate) fn iter(self) -> ClearIter<'a> {
        ClearIter {
            clear: self,
            next: 0,
            pos: 0,
            at: 0,
        }
    }
}

/// Iterator over a unit's clear ranges `(offset, len)`.
pub(crate) struct ClearIter<'a> {
    clear: Clear<'a>,
    next: usize,
    pos: usize,
    at: usize,
}

impl Iterator for ClearIter<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        match self.clear {
            Clear::Fixed(r) => {
                let item = r.as_slice().get(self.next).copied();
                self.next += 1;
                item
            }
            Clear::Encoded { bytes, count } => {
                if self.next == count {
                    return None;
                }
                self.next += 1;
                // Validated by `LayoutUnits::validate`: these reads cannot fail.
                let gap = super::wire::get_u(bytes, &mut self.pos).ok()?;
                let n = super::wire::get_u(bytes, &mut self.pos).ok()?;
                let off = self.at + gap;
                self.at = off + n;
                Some((off, n))
            }
        }
    }
}

/// One unit of a frame: a NAL unit's bytes (no start code), an OBU's payload (its header
/// bytes in `prefix`), or the whole frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit<'a> {
    /// Where the unit's bytes start in the frame.
    pub(crate) start: usize,
    /// How many bytes it has.
    pub(crate) len: usize,
    /// Bytes authenticated before the unit's clear bytes though not inside the unit (an
    /// AV1 OBU header, `obu_has_size_field` cleared).
    pub(crate) prefix: [u8; 2],
    pub(crate) prefix_len: usize,
    /// Clear ranges within the unit, canonical (sorted, non-empty, not touching).
    pub(crate) clear: Clear<'a>,
}

impl Unit<'_> {
    pub(crate) fn new(start: usize, len: usize) -> Unit<'static> {
        Unit {
            start,
            len,
            prefix: [0; 2],
            prefix_len: 0,
            clear: Clear::Fixed(Ranges::default()),
        }
    }

    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix[..self.prefix_len]
    }
}

/// Units of a frame without their clear ranges: the frame itself, its NAL units, or its
/// OBUs.
#[derive(Clone)]
enum Cuts<'a> {
    Single(Option<usize>),
    Nal(h26x::NalUnits<'a>),
    Obu(av1::Obus<'a>),
}

impl<'a> Iterator for Cuts<'a> {
    type Item = Unit<'static>;

    fn next(&mut self) -> Option<Unit<'static>> {
        match self {
            Cuts::Single(len) => len.take().map(|n| Unit::new(0, n)),
            Cuts::Nal(nals) => nals.next().map(|(s, n)| Unit::new(s, n)),
            Cuts::Obu(obus) => obus.next().map(|o| o.unit()),
        }
    }
}

/// A walk over the units of a frame with their clear ranges, restartable.
pub(crate) trait Walk {
    /// The units, in order.
    fn units(&self) -> impl Iterator<Item = Unit<'_>>;

    /// The encrypted runs `(frame offset, len)`, in order.
    fn runs(&self) -> impl Iterator<Item = (usize, usize)> {
        self.units().flat_map(unit_runs)
    }
}

/// The encrypted runs `(frame offset, len)` of one unit: what its clear ranges leave.
pub(crate) fn unit_runs(u: Unit<'_>) -> impl Iterator<Item = (usize, usize)> + use<'_> {
    let mut at = 0;
    let mut clear = u.clear.iter();
    let mut done = false;
    std::iter::from_fn(move || {
        while !done {
            match clear.next() {
                Some((off, n)) => {
                    let run = (off > at).then(|| (u.start + at, off - at));
                    at = off + n;
                    if run.is_some() {
                        return run;
                    }
                }
                None => {
                    done = true;
                    if u.len > at {
                        return Some((u.start + at, u.len - at));
                    }
                }
            }
        }
        None
    })
}

/// A sender's plan: the form, and how to cut the units. The sealed frame keeps the bytes
/// up to the end of the last unit (for H.264/H.265 trailing zero bytes are dropped; see
/// `frame`).
pub(crate) struct SenderPlan<'a> {
    codec: Codec,
    frame: &'a [u8],
    pub(crate) form: Form,
    /// For the single form: the frame's clear ranges.
    single: Ranges,
}

/// What the sender keeps clear in `frame` (`codec` is not [`Codec::Whole`]).
pub(crate) fn plan(codec: Codec, frame: &[u8]) -> SenderPlan<'_> {
    let single = |clear: Ranges| SenderPlan {
        codec,
        frame,
        form: Form::Single,
        single: clear.canonical(frame.len()),
    };
    match codec {
        Codec::Opus => single(opus::clear(frame)),
        Codec::Vp8 => single(vp8::clear(frame)),
        Codec::Vp9 => single(vp9::clear(frame)),
        Codec::H264 | Codec::H265 => SenderPlan {
            codec,
            frame,
            form: Form::Units,
            single: Ranges::default(),
        },
        // Not a well-formed low-overhead AV1 temporal unit: all of it is encrypted.
        Codec::Av1 if av1::well_formed(frame) => SenderPlan {
            codec,
            frame,
            form: Form::Units,
            single: Ranges::default(),
        },
        Codec::Av1 | Codec::Whole => single(Ranges::default()),
    }
}

impl Walk for SenderPlan<'_> {
    fn units(&self) -> impl Iterator<Item = Unit<'_>> {
        let cuts = match (self.form, self.codec) {
            (Form::Single, _) => Cuts::Single(Some(self.frame.len())),
            (Form::Units, Codec::Av1) => Cuts::Obu(av1::Obus::new(self.frame)),
            (Form::Units, _) => Cuts::Nal(h26x::NalUnits::new(self.frame, true)),
        };
        let (codec, form, frame, single) = (self.codec, self.form, self.frame, self.single);
        cuts.map(move |mut unit| {
            unit.clear = Clear::Fixed(match (form, codec) {
                (Form::Single, _) => single,
                (Form::Units, Codec::Av1) => {
                    if av1::payload_clear((unit.prefix[0] >> 3) & 0x0f) {
                        Ranges::one(0, unit.len).canonical(unit.len)
                    } else {
                        Ranges::default()
                    }
                }
                (Form::Units, _) => {
                    let nal = &frame[unit.start..unit.start + unit.len];
                    Ranges::one(0, h26x::clear_len(codec, nal)).canonical(unit.len)
                }
            });
            unit
        })
    }
}

/// A received frame's units (cut from the received bytes before the trailer) with the
/// clear ranges its layout gives, checked to match: same number of units, same lengths.
pub(crate) struct ReceiverPlan<'a> {
    codec: Codec,
    form: Form,
    region: &'a [u8],
    layout: LayoutUnits<'a>,
}

impl<'a> ReceiverPlan<'a> {
    /// Checks the layout against the units of `region` under `codec`.
    pub(crate) fn new(
        codec: Codec,
        region: &'a [u8],
        layout_bytes: &'a [u8],
    ) -> Result<ReceiverPlan<'a>, FramingError> {
        let layout = LayoutUnits::validate(layout_bytes)?;
        let form = layout.form;
        // H.264/H.265 are always sealed per NAL unit (see `plan`).
        match (form, codec) {
            (Form::Single, Codec::Opus | Codec::Vp8 | Codec::Vp9 | Codec::Av1) => {}
            (Form::Units, Codec::H264 | Codec::H265) => {}
            (Form::Units, Codec::Av1) if av1::well_formed(region) => {}
            (Form::Units, Codec::Av1) => {
                return Err(FramingError::MalformedLayout("OBUs do not parse"));
            }
            _ => return Err(FramingError::MalformedLayout("form not allowed for codec")),
        }
        let plan = ReceiverPlan {
            codec,
            form,
            region,
            layout,
        };
        let mut cuts = plan.cuts();
        let mut shapes = plan.layout.iter();
        loop {
            match (cuts.next(), shapes.next()) {
                (None, None) => break,
                (Some(unit), Some((len, _))) if unit.len == len => {}
                (Some(_), Some(_)) => {
                    return Err(FramingError::MalformedLayout(
                        "unit length differs from the layout",
                    ));
                }
                _ => {
                    return Err(FramingError::MalformedLayout(
                        "unit count differs from the layout",
                    ));
                }
            }
        }
        Ok(plan)
    }

    fn cuts(&self) -> Cuts<'a> {
        match (self.form, self.codec) {
            (Form::Single, _) => Cuts::Single(Some(self.region.len())),
            (Form::Units, Codec::Av1) => Cuts::Obu(av1::Obus::new(self.region)),
            (Form::Units, _) => Cuts::Nal(h26x::NalUnits::new(self.region, false)),
        }
    }
}

impl Walk for ReceiverPlan<'_> {
    fn units(&self) -> impl Iterator<Item = Unit<'_>> {
        self.cuts()
            .zip(self.layout.iter())
            .map(|(unit, (_, clear))| Unit { clear, ..unit })
    }
}
