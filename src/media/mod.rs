//! Codec-aware SFrame framing (`docs/FRAMING.md`): which bytes of an encoded frame stay in
//! the clear for RTP packetizers and SFUs, per codec, and the wire layout that seals the
//! rest with RFC 9605 while authenticating the clear bytes *and* their layout.
//!
//! - [`Codec`]: the framing mode, chosen per stream by the application (never guessed).
//! - `vp8`, `vp9`, `h26x` (H.264 and H.265), `av1`, `opus`: per-codec clear ranges, each
//!   citing its specification; the target packetizers are libwebrtc's.
//! - `plan`: a frame cut into units (NAL units, OBUs, or the whole frame) and clear ranges.
//! - `wire`: the zero-free integer encoding, the trailer and the footer.
//! - `frame`: sealing and opening (scatter, gather, start-code emulation checks);
//!   [`seal`] and [`open`] for the standalone SFrame [`SendKey`](crate::sframe::SendKey)
//!   and [`Receiver`](crate::sframe::Receiver).
#![forbid(unsafe_code)]

mod av1;
mod bits;
mod frame;
mod h26x;
mod opus;
mod plan;
#[cfg(test)]
mod tests;
mod vp8;
mod vp9;
mod wire;

pub(crate) use frame::{Source, open_frame, seal_frame};
pub use frame::{frame_header, max_sealed_len, open, seal};
pub use wire::MAX_LAYOUT_LEN;

/// How a stream's frames are framed: whole-frame RFC 9605 SFrame, or codec-aware (clear
/// codec headers, see `docs/FRAMING.md`). Both ends configure it per stream; the receiver
/// is told it, never guesses it, and the codec id is authenticated, so a frame sealed in
/// one mode fails authentication in every other.
#[non_exhaustive]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Codec {
    /// Whole-frame SFrame (RFC 9605 as is): nothing stays clear, no trailer.
    #[default]
    Whole = 0,
    /// Opus (RFC 6716): the TOC byte stays clear.
    Opus = 1,
    /// VP8 (RFC 6386): frame tag, and for key frames the start code and size.
    Vp8 = 2,
    /// VP9: the uncompressed header up to the frame size, and any superframe index.
    Vp9 = 3,
    /// H.264 Annex B: NAL headers, parameter sets, slice headers up to the PPS id.
    H264 = 4,
    /// H.265 Annex B: NAL headers, parameter sets, slice headers up to the PPS id.
    H265 = 5,
    /// AV1 low-overhead format: OBU headers and sizes, sequence headers.
    Av1 = 6,
}

impl Codec {
    /// Every codec, in id order.
    pub const ALL: [Codec; 7] = [
        Codec::Whole,
        Codec::Opus,
        Codec::Vp8,
        Codec::Vp9,
        Codec::H264,
        Codec::H265,
        Codec::Av1,
    ];

    /// The codec with wire id `id` (the value of the C enum `mlsframe_codec`).
    ///
    /// # Errors
    /// [`FramingError::UnsupportedCodec`] for an id no codec has.
    pub fn from_id(id: u32) -> Result<Codec, FramingError> {
        Codec::ALL
            .into_iter()
            .find(|c| c.id() == id)
            .ok_or(FramingError::UnsupportedCodec(id))
    }

    /// The wire id (also the byte bound into the authenticated metadata).
    pub fn id(self) -> u32 {
        self as u32
    }
}

/// Why codec-aware framing refused a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// No codec has this id.
    #[error("unsupported codec id {0}")]
    UnsupportedCodec(u32),
    /// The received frame's trailer or layout cannot be parsed, or does not match the
    /// frame (unit count or lengths differ).
    #[error("malformed codec layout: {0}")]
    MalformedLayout(&'static str),
    /// The sealed H.264/H.265 output kept containing start-code emulation after every
    /// allowed re-seal (each with a fresh counter).
    #[error("start-code emulation in sealed output after retries")]
    StartCodeEmulation,
    /// The frame needs more layout than the trailer can carry ([`MAX_LAYOUT_LEN`]).
    #[error("frame layout too large for the trailer")]
    LayoutTooLarge,
    /// An SFrame-level failure.
    #[error(transparent)]
    Sframe(#[from] crate::sframe::SframeError),
}
