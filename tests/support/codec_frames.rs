//! Test and bench support: owns splitting the codec samples of `examples/media/` into the
//! frames an encoder hands to an RTP stack (H.264/H.265 access units from Annex B byte
//! streams; VP8, VP9 and AV1 frames come from IVF through `examples/call/media.rs`), and
//! parsing just enough of each codec's headers to check that a sealed frame still parses
//! as its codec: NAL unit types, start-code emulation, VP8/VP9 key-frame flags, AV1 OBU
//! types. Written from the specs (ITU-T H.264 §7.3-7.4, H.265 §7.3-7.4, VP9 bitstream
//! spec §6.2, AV1 spec §5.3), independent of `src/media/`, so the two check each other.

#![allow(dead_code)] // each user (test, bench) calls its own subset

use std::ops::Range;

/// Where every NAL unit of an Annex B stream lies, start codes (of any length) excluded
/// and trailing zero bytes (`trailing_zero_8bits`, the next 4-byte start code's first
/// byte) trimmed. Bytes before the first start code are ignored.
pub fn annexb_nals(data: &[u8]) -> Vec<Range<usize>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::with_capacity(starts.len());
    for (k, &start) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |&next| next - 3);
        while end > start && data[end - 1] == 0 {
            end -= 1;
        }
        nals.push(start..end);
    }
    nals
}

/// `nal_unit_type` of an H.264 NAL unit (H.264 §7.3.1: the low 5 bits of byte 0).
pub fn h264_nal_type(nal: &[u8]) -> u8 {
    nal[0] & 0x1f
}

/// `nal_unit_type` of an H.265 NAL unit (H.265 §7.3.1.2: bits 1..7 of byte 0).
pub fn h265_nal_type(nal: &[u8]) -> u8 {
    (nal[0] >> 1) & 0x3f
}

/// The NAL unit types of an Annex B access unit, in order.
pub fn nal_types(unit: &[u8], h265: bool) -> Vec<u8> {
    annexb_nals(unit)
        .into_iter()
        .map(|r| {
            if h265 {
                h265_nal_type(&unit[r])
            } else {
                h264_nal_type(&unit[r])
            }
        })
        .collect()
}

/// Where a NAL unit's start code begins (3 or 4 bytes before `nal_start`).
fn start_code_at(data: &[u8], nal_start: usize) -> usize {
    let three = nal_start - 3;
    if three > 0 && data[three - 1] == 0 {
        three - 1
    } else {
        three
    }
}

/// Splits an Annex B stream into access units, each as the stream's own bytes (start
/// codes as the encoder wrote them). With no access unit delimiters, a new unit begins
/// (H.264 §7.4.1.2.3, H.265 §7.4.2.4.4) at a parameter set, SEI or delimiter after a
/// slice, or at a slice that starts a picture: `first_mb_in_slice` = 0 in H.264 (its ue(v)
/// code is the single bit 1, the first bit after the 1-byte NAL header), or
/// `first_slice_segment_in_pic_flag` = 1 in H.265 (the first bit after the 2-byte header).
pub fn access_units(data: &[u8], h265: bool) -> Vec<&[u8]> {
    let mut units = Vec::new();
    let mut unit_start: Option<usize> = None;
    let mut seen_vcl = false;
    for nal in annexb_nals(data) {
        let (vcl, prefix, header_len) = if h265 {
            let t = h265_nal_type(&data[nal.clone()]);
            // VCL 0..=31; VPS, SPS, PPS, AUD 32..=35, prefix SEI 39, reserved 41..=44, 48..=55.
            let prefix = matches!(t, 32..=35 | 39 | 41..=44 | 48..=55);
            (t <= 31, prefix, 2)
        } else {
            let t = h264_nal_type(&data[nal.clone()]);
            // Slices 1..=5; SEI 6, SPS 7, PPS 8, AUD 9, 14..=18 precede a primary picture.
            (matches!(t, 1..=5), matches!(t, 6..=9 | 14..=18), 1)
        };
        let first_in_picture = vcl
            && data
                .get(nal.start + header_len)
                .is_some_and(|b| b & 0x80 != 0);
        let sc = start_code_at(data, nal.start);
        match unit_start {
            None => unit_start = Some(sc),
            Some(start) if seen_vcl && (prefix || first_in_picture) => {
                units.push(&data[start..sc]);
                unit_start = Some(sc);
                seen_vcl = false;
            }
            Some(_) => {}
        }
        seen_vcl |= vcl;
    }
    if let Some(start) = unit_start {
        units.push(&data[start..]);
    }
    units
}

/// An access unit as an RTP round trip (GStreamer's rtph264pay/rtph264depay) returns it:
/// every NAL unit behind a 4-byte start code, trailing zero bytes trimmed.
pub fn annexb_normalised(unit: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(unit.len() + 16);
    for nal in annexb_nals(unit) {
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(&unit[nal]);
    }
    out
}

/// Offsets inside `nal` where three bytes `00 00 0x` with x <= `max_third` begin.
pub fn zero_zero_at(nal: &[u8], max_third: u8) -> Vec<usize> {
    nal.windows(3)
        .enumerate()
        .filter(|(_, w)| w[0] == 0 && w[1] == 0 && w[2] <= max_third)
        .map(|(i, _)| i)
        .collect()
}

/// What a VP9 uncompressed header (VP9 bitstream spec §6.2) says that packetizers and
/// SFUs read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vp9Info {
    /// Profile 0..=3.
    pub profile: u8,
    /// `show_existing_frame`.
    pub show_existing: bool,
    /// `frame_type == KEY_FRAME`.
    pub key_frame: bool,
    /// `show_frame`.
    pub show_frame: bool,
    /// Width and height, on key frames.
    pub size: Option<(u32, u32)>,
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0, |acc, _| Some((acc << 1) | self.bit()?))
    }
}

/// Parses a VP9 frame's uncompressed header up to the key-frame size; `None` when the
/// frame marker, the key-frame sync code or the reserved bits are wrong.
pub fn vp9_info(frame: &[u8]) -> Option<Vp9Info> {
    let mut r = Bits {
        data: frame,
        pos: 0,
    };
    if r.bits(2)? != 2 {
        return None; // frame_marker
    }
    let low = r.bit()?;
    let high = r.bit()?;
    let profile = (high << 1 | low) as u8;
    if profile == 3 && r.bit()? != 0 {
        return None; // reserved_zero
    }
    let show_existing = r.bit()? == 1;
    if show_existing {
        return Some(Vp9Info {
            profile,
            show_existing,
            key_frame: false,
            show_frame: true,
            size: None,
        });
    }
    let key_frame = r.bit()? == 0;
    let show_frame = r.bit()? == 1;
    let _error_resilient = r.bit()?;
    let mut size = None;
    if key_frame {
        if r.bits(24)? != 0x49_83_42 {
            return None; // frame_sync_code
        }
        // color_config (§6.2.2)
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
        let width = r.bits(16)? + 1;
        let height = r.bits(16)? + 1;
        size = Some((width, height));
    }
    Some(Vp9Info {
        profile,
        show_existing,
        key_frame,
        show_frame,
        size,
    })
}

/// `OBU_PADDING` (AV1 spec §6.2.2).
pub const OBU_PADDING: u8 = 15;

/// One OBU of an AV1 temporal unit: its type and where it lies (header included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obu {
    /// `obu_type`.
    pub obu_type: u8,
    /// The whole OBU: header, size field, payload.
    pub range: Range<usize>,
    /// Its payload.
    pub payload: Range<usize>,
}

/// Splits an AV1 temporal unit (low-overhead bitstream format, AV1 spec §5.2) into OBUs;
/// `None` when a header or size is malformed or runs past the end.
pub fn av1_obus(data: &[u8]) -> Option<Vec<Obu>> {
    let mut obus = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let header = data[at];
        if header & 0x80 != 0 {
            return None; // obu_forbidden_bit
        }
        let obu_type = (header >> 3) & 0x0f;
        let extension = header & 0x04 != 0;
        let has_size = header & 0x02 != 0;
        let mut p = at + 1 + usize::from(extension);
        let size = if has_size {
            let mut value = 0usize;
            let mut i = 0;
            loop {
                let byte = *data.get(p)?;
                p += 1;
                value |= usize::from(byte & 0x7f) << (7 * i);
                i += 1;
                if byte & 0x80 == 0 {
                    break;
                }
                if i == 8 {
                    return None;
                }
            }
            value
        } else {
            data.len().checked_sub(p)?
        };
        let end = p.checked_add(size).filter(|&e| e <= data.len())?;
        obus.push(Obu {
            obu_type,
            range: at..end,
            payload: p..end,
        });
        at = end;
    }
    Some(obus)
}
