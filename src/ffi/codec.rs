//! `mlsframe_codec`: the framing mode of a stream (docs/FRAMING.md), passed to the C ABI
//! as a `uint32_t` so an unknown value is an error code, never undefined behaviour.

use crate::media::Codec;

/// How a stream's frames are framed; pass the value as `uint32_t`. `MLSFRAME_CODEC_WHOLE`
/// is whole-frame RFC 9605 SFrame (the default); the others keep the codec's headers clear
/// and authenticated (docs/FRAMING.md). Both ends name the same codec for a stream.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mlsframe_codec {
    /// Whole-frame SFrame: nothing clear.
    MLSFRAME_CODEC_WHOLE = 0,
    /// Opus: the TOC byte clear.
    MLSFRAME_CODEC_OPUS = 1,
    /// VP8: frame tag, key-frame start code and size clear.
    MLSFRAME_CODEC_VP8 = 2,
    /// VP9: uncompressed header to the frame size, superframe index clear.
    MLSFRAME_CODEC_VP9 = 3,
    /// H.264 Annex B: NAL headers, parameter sets, slice headers to the PPS id clear.
    MLSFRAME_CODEC_H264 = 4,
    /// H.265 Annex B: NAL headers, parameter sets, slice headers to the PPS id clear.
    MLSFRAME_CODEC_H265 = 5,
    /// AV1: OBU headers and sizes, sequence headers clear.
    MLSFRAME_CODEC_AV1 = 6,
}

impl From<mlsframe_codec> for Codec {
    fn from(c: mlsframe_codec) -> Codec {
        match c {
            mlsframe_codec::MLSFRAME_CODEC_WHOLE => Codec::Whole,
            mlsframe_codec::MLSFRAME_CODEC_OPUS => Codec::Opus,
            mlsframe_codec::MLSFRAME_CODEC_VP8 => Codec::Vp8,
            mlsframe_codec::MLSFRAME_CODEC_VP9 => Codec::Vp9,
            mlsframe_codec::MLSFRAME_CODEC_H264 => Codec::H264,
            mlsframe_codec::MLSFRAME_CODEC_H265 => Codec::H265,
            mlsframe_codec::MLSFRAME_CODEC_AV1 => Codec::Av1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_values_are_the_rust_ids() {
        use mlsframe_codec::*;
        for c in [
            MLSFRAME_CODEC_WHOLE,
            MLSFRAME_CODEC_OPUS,
            MLSFRAME_CODEC_VP8,
            MLSFRAME_CODEC_VP9,
            MLSFRAME_CODEC_H264,
            MLSFRAME_CODEC_H265,
            MLSFRAME_CODEC_AV1,
        ] {
            assert_eq!(Codec::from(c).id(), c as u32);
            assert_eq!(Codec::from_id(c as u32), Ok(Codec::from(c)));
        }
        assert!(Codec::from_id(7).is_err());
    }
}
