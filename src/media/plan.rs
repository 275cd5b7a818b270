//! A frame cut into units and clear ranges: what the sender computes from the codec's
//! bitstream (`plan`) and what the receiver finds again in the received bytes
//! (`receiver_units`), before the layout from the trailer says which bytes are clear.

use super::wire::{Form, Layout, UnitLayout};
use super::{Codec, FramingError, av1, h26x, opus, vp8, vp9};

/// One unit of a frame: a NAL unit's bytes (no start code), an OBU's payload (its header
/// bytes in `prefix`), or the whole frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unit {
    /// Where the unit's bytes start in the frame.
    pub(crate) start: usize,
    /// How many bytes it has.
    pub(crate) len: usize,
    /// Bytes authenticated before the unit's clear bytes though not inside the unit (an
    /// AV1 OBU header, `obu_has_size_field` cleared).
    pub(crate) prefix: [u8; 2],
    pub(crate) prefix_len: usize,
    /// Clear ranges `(offset, len)` within the unit, canonical (sorted, non-empty, not
    /// touching).
    pub(crate) clear: Vec<(usize, usize)>,
}

impl Unit {
    pub(crate) fn new(start: usize, len: usize) -> Unit {
        Unit {
            start,
            len,
            prefix: [0; 2],
            prefix_len: 0,
            clear: Vec::new(),
        }
    }

    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix[..self.prefix_len]
    }
}

/// A sender's plan: the bytes of the frame that the sealed frame keeps (`region_len`; the
/// rest, H.264/H.265 trailing zero bytes, is dropped) and its units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) form: Form,
    pub(crate) region_len: usize,
    pub(crate) units: Vec<Unit>,
}

impl Plan {
    pub(crate) fn layout(&self) -> Layout {
        Layout {
            form: self.form,
            units: self
                .units
                .iter()
                .map(|u| UnitLayout {
                    len: u.len,
                    clear: u.clear.clone(),
                })
                .collect(),
        }
    }
}

/// Sorts, clips to `len`, drops empty and merges touching ranges.
pub(crate) fn canonical(mut ranges: Vec<(usize, usize)>, len: usize) -> Vec<(usize, usize)> {
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (off, n) in ranges {
        let end = off.saturating_add(n).min(len);
        if off >= end {
            continue;
        }
        match out.last_mut() {
            Some((o, m)) if *o + *m >= off => *m = (*o + *m).max(end) - *o,
            _ => out.push((off, end - off)),
        }
    }
    out
}

fn single(frame: &[u8], clear: Vec<(usize, usize)>) -> Plan {
    let mut unit = Unit::new(0, frame.len());
    unit.clear = canonical(clear, frame.len());
    Plan {
        form: Form::Single,
        region_len: frame.len(),
        units: vec![unit],
    }
}

/// What the sender keeps clear in `frame` (`codec` is not [`Codec::Whole`]).
pub(crate) fn plan(codec: Codec, frame: &[u8]) -> Plan {
    match codec {
        Codec::Opus => single(frame, opus::clear(frame)),
        Codec::Vp8 => single(frame, vp8::clear(frame)),
        Codec::Vp9 => single(frame, vp9::clear(frame)),
        Codec::H264 | Codec::H265 => {
            let (units, region_len) = h26x::split(frame, true);
            let units = units
                .into_iter()
                .map(|(start, len)| {
                    let nal = &frame[start..start + len];
                    let mut unit = Unit::new(start, len);
                    unit.clear = canonical(vec![(0, h26x::clear_len(codec, nal))], len);
                    unit
                })
                .collect();
            Plan {
                form: Form::Units,
                region_len,
                units,
            }
        }
        Codec::Av1 => match av1::split(frame) {
            Some(obus) => Plan {
                form: Form::Units,
                region_len: frame.len(),
                units: obus
                    .into_iter()
                    .map(|obu| {
                        let mut unit = obu.unit();
                        if av1::payload_clear(obu.obu_type) {
                            unit.clear = canonical(vec![(0, unit.len)], unit.len);
                        }
                        unit
                    })
                    .collect(),
            },
            // Not a well-formed low-overhead AV1 temporal unit: all of it is encrypted.
            None => single(frame, Vec::new()),
        },
        Codec::Whole => single(frame, Vec::new()),
    }
}

/// The units of a received `region` (the frame before its trailer) under `form`.
pub(crate) fn receiver_units(
    codec: Codec,
    form: Form,
    region: &[u8],
) -> Result<Vec<Unit>, FramingError> {
    match (form, codec) {
        // H.264/H.265 are always sealed per NAL unit (see `plan`).
        (Form::Single, Codec::Opus | Codec::Vp8 | Codec::Vp9 | Codec::Av1) => {
            Ok(vec![Unit::new(0, region.len())])
        }
        (Form::Units, Codec::H264 | Codec::H265) => Ok(h26x::split(region, false)
            .0
            .into_iter()
            .map(|(start, len)| Unit::new(start, len))
            .collect()),
        (Form::Units, Codec::Av1) => av1::split(region)
            .map(|obus| obus.into_iter().map(|o| o.unit()).collect())
            .ok_or(FramingError::MalformedLayout("OBUs do not parse")),
        _ => Err(FramingError::MalformedLayout("form not allowed for codec")),
    }
}
