//! Opus (RFC 6716): the TOC byte stays clear.
//!
//! RFC 6716 §3.1: every Opus packet starts with a one-byte table-of-contents (TOC) header
//! giving the mode (SILK/Hybrid/CELT), bandwidth, frame size, stereo flag and frame count
//! code. libwebrtc's Opus packetizer (RFC 7587) sends the packet opaquely and needs
//! nothing clear; the TOC is kept so an SFU can tell the bandwidth, stereo and DTX/CNG
//! frames (short packets) apart without the key. Everything after it is encrypted. An
//! empty packet keeps nothing clear.

use super::plan::Ranges;

/// Clear ranges `(offset, len)` of an Opus packet.
pub(crate) fn clear(packet: &[u8]) -> Ranges {
    Ranges::one(0, packet.len().min(1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn toc_only() {
        assert_eq!(super::clear(&[0xfc, 1, 2]).as_slice(), &[(0, 1)]);
        assert!(super::clear(&[]).canonical(0).as_slice().is_empty());
    }
}
