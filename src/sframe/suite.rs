//! The RFC 9605 cipher suites (§4.5, §8.1) and their sizes: hash length Nh, key length Nk,
//! nonce length Nn and tag length Nt.

use super::error::SframeError;

/// An SFrame cipher suite, by its IANA value.
///
/// ```
/// use mlsframe::sframe::CipherSuite;
/// let suite = CipherSuite::try_from(0x0004)?;
/// assert_eq!(suite, CipherSuite::Aes128GcmSha256_128);
/// assert_eq!((suite.key_len(), suite.tag_len()), (16, 16));
/// # Ok::<(), mlsframe::sframe::SframeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CipherSuite {
    /// `AES_128_CTR_HMAC_SHA256_80` (0x0001): AES-128-CTR with an 80-bit HMAC-SHA256 tag.
    Aes128CtrHmacSha256_80 = 1,
    /// `AES_128_CTR_HMAC_SHA256_64` (0x0002): AES-128-CTR with a 64-bit HMAC-SHA256 tag.
    Aes128CtrHmacSha256_64 = 2,
    /// `AES_128_CTR_HMAC_SHA256_32` (0x0003): AES-128-CTR with a 32-bit HMAC-SHA256 tag.
    Aes128CtrHmacSha256_32 = 3,
    /// `AES_128_GCM_SHA256_128` (0x0004): AES-128-GCM, HKDF-SHA256. The default.
    Aes128GcmSha256_128 = 4,
    /// `AES_256_GCM_SHA512_128` (0x0005): AES-256-GCM, HKDF-SHA512.
    Aes256GcmSha512_128 = 5,
}

impl CipherSuite {
    /// All suites defined by RFC 9605, in IANA order.
    pub const ALL: [CipherSuite; 5] = [
        CipherSuite::Aes128CtrHmacSha256_80,
        CipherSuite::Aes128CtrHmacSha256_64,
        CipherSuite::Aes128CtrHmacSha256_32,
        CipherSuite::Aes128GcmSha256_128,
        CipherSuite::Aes256GcmSha512_128,
    ];

    /// The IANA identifier (the value in HKDF labels).
    pub const fn id(self) -> u16 {
        self as u16
    }

    /// Nh: output length of the suite's hash (32 for SHA-256, 64 for SHA-512).
    pub const fn hash_len(self) -> usize {
        match self {
            CipherSuite::Aes256GcmSha512_128 => 64,
            _ => 32,
        }
    }

    /// Nk: length of the AEAD key derived per KID (for CTR+HMAC suites, the AES key
    /// followed by the HMAC key). This is also the base-key length MLS exports (§5.2).
    pub const fn key_len(self) -> usize {
        match self {
            CipherSuite::Aes128CtrHmacSha256_80
            | CipherSuite::Aes128CtrHmacSha256_64
            | CipherSuite::Aes128CtrHmacSha256_32 => 48,
            CipherSuite::Aes128GcmSha256_128 => 16,
            CipherSuite::Aes256GcmSha512_128 => 32,
        }
    }

    /// Nn: nonce length (12 for every suite).
    pub const fn nonce_len(self) -> usize {
        NONCE_LEN
    }

    /// Nt: authentication tag length in bytes.
    pub const fn tag_len(self) -> usize {
        match self {
            CipherSuite::Aes128CtrHmacSha256_80 => 10,
            CipherSuite::Aes128CtrHmacSha256_64 => 8,
            CipherSuite::Aes128CtrHmacSha256_32 => 4,
            CipherSuite::Aes128GcmSha256_128 | CipherSuite::Aes256GcmSha512_128 => 16,
        }
    }
}

/// Nn for every RFC 9605 suite.
pub(crate) const NONCE_LEN: usize = 12;

/// The longest tag of any suite.
pub const MAX_TAG_LEN: usize = 16;

impl TryFrom<u16> for CipherSuite {
    type Error = SframeError;

    fn try_from(id: u16) -> Result<Self, SframeError> {
        CipherSuite::ALL
            .into_iter()
            .find(|s| s.id() == id)
            .ok_or(SframeError::UnknownCipherSuite(id))
    }
}

impl From<CipherSuite> for u16 {
    fn from(suite: CipherSuite) -> u16 {
        suite.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_fail() {
        for suite in CipherSuite::ALL {
            assert_eq!(CipherSuite::try_from(suite.id()), Ok(suite));
        }
        for bad in [0u16, 6, 7, 0xffff] {
            assert_eq!(
                CipherSuite::try_from(bad),
                Err(SframeError::UnknownCipherSuite(bad))
            );
        }
    }
}
