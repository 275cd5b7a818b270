//! The one error type of the SFrame layer. Variants name what went wrong with a frame or a
//! key; none of them carries key material, and none prints frame contents.

/// Why an SFrame operation failed.
///
/// Decrypt failures are split so a media pipeline can react correctly:
/// [`UnknownKeyId`](Self::UnknownKeyId) is recoverable (the key may arrive later), while
/// [`AuthenticationFailed`](Self::AuthenticationFailed), [`Replay`](Self::Replay) and
/// [`MalformedFrame`](Self::MalformedFrame) mean "drop this frame".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SframeError {
    /// The frame names a key id for which no decryption key is installed (recoverable).
    #[error("no key installed for key id {0}")]
    UnknownKeyId(u64),
    /// The tag did not verify: the frame was altered, or sealed under another key.
    #[error("frame authentication failed")]
    AuthenticationFailed,
    /// The frame's counter was already accepted, or is older than the replay window.
    #[error("frame replayed or too old for the replay window")]
    Replay,
    /// The frame cannot be parsed: truncated header, non-minimal header encoding, or
    /// shorter than header plus tag.
    #[error("malformed frame: {0}")]
    MalformedFrame(MalformedReason),
    /// The output buffer is too small; `needed` bytes are required.
    #[error("output buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the operation needs.
        needed: usize,
        /// Bytes the caller offered.
        available: usize,
    },
    /// The send key has used every counter value; a new key is required.
    #[error("send counter exhausted: rekey before sending more frames")]
    CounterExhausted,
    /// The cipher suite identifier is not one of RFC 9605's 0x0001..=0x0005.
    #[error("unknown cipher suite 0x{0:04x}")]
    UnknownCipherSuite(u16),
    /// A key id is already installed in this store.
    #[error("key id {0} is already installed")]
    DuplicateKeyId(u64),
    /// A ratchet step would exceed the configured range (`2^R - 1` steps).
    #[error("ratchet step out of range")]
    RatchetOutOfRange,
    /// An argument is outside what the operation accepts (for example a zero-sized replay
    /// window, or a frame larger than the AEAD's limit).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
}

/// Which rule a malformed frame broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedReason {
    /// The input ends before the header does.
    #[error("truncated header")]
    TruncatedHeader,
    /// The header encodes KID or CTR in more bytes than needed (RFC 9605 §4.3 requires
    /// the minimum; this implementation rejects other encodings on receipt).
    #[error("non-minimal header encoding")]
    NonMinimalHeader,
    /// The input ends before a full authentication tag.
    #[error("frame shorter than its authentication tag")]
    TruncatedTag,
}

impl From<MalformedReason> for SframeError {
    fn from(reason: MalformedReason) -> Self {
        SframeError::MalformedFrame(reason)
    }
}
