//! Member identity: the (user id, device id) pair bound into each MLS basic credential,
//! the device's Ed25519 signing key (generated or restored from a 32-byte seed), and
//! signature-key fingerprints for human comparison.

use core::fmt;

use openmls_traits::random::OpenMlsRand;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::{MlsError, Result};

/// Longest accepted user id or device id, in bytes.
pub const MAX_ID_LEN: usize = 1024;

/// Who a leaf belongs to: an opaque user id and an opaque device id.
///
/// Encoded in the basic credential as `u16 len || user_id || u16 len || device_id`
/// (big-endian lengths). The user id is non-empty; both are at most [`MAX_ID_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberIdentity {
    /// Opaque user id (the same for all devices of one person).
    pub user_id: Vec<u8>,
    /// Opaque device id (distinguishes the devices of one user).
    pub device_id: Vec<u8>,
}

impl MemberIdentity {
    /// Build an identity, checking the length limits.
    pub fn new(user_id: impl Into<Vec<u8>>, device_id: impl Into<Vec<u8>>) -> Result<Self> {
        let id = Self {
            user_id: user_id.into(),
            device_id: device_id.into(),
        };
        id.check()?;
        Ok(id)
    }

    fn check(&self) -> Result<()> {
        if self.user_id.is_empty()
            || self.user_id.len() > MAX_ID_LEN
            || self.device_id.len() > MAX_ID_LEN
        {
            return Err(MlsError::InvalidIdentity);
        }
        Ok(())
    }

    /// The credential identity bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + self.user_id.len() + self.device_id.len());
        for part in [&self.user_id, &self.device_id] {
            let len = u16::try_from(part.len()).expect("lengths are checked to be <= MAX_ID_LEN");
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Parse credential identity bytes; the whole input must be consumed.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        fn take<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8]> {
            let (len, tail) = rest.split_at_checked(2).ok_or(MlsError::InvalidIdentity)?;
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            let (part, tail) = tail
                .split_at_checked(len)
                .ok_or(MlsError::InvalidIdentity)?;
            *rest = tail;
            Ok(part)
        }
        let mut rest = bytes;
        let user_id = take(&mut rest)?.to_vec();
        let device_id = take(&mut rest)?.to_vec();
        if !rest.is_empty() {
            return Err(MlsError::InvalidIdentity);
        }
        let id = Self { user_id, device_id };
        id.check()?;
        Ok(id)
    }
}

/// Fingerprint of a signature public key: SHA-256, lowercase hex, in space-separated
/// groups of four characters (16 groups).
pub fn fingerprint(signature_key: &[u8]) -> String {
    let digest = Sha256::digest(signature_key);
    let mut out = String::with_capacity(79);
    for (i, pair) in digest.chunks(2).enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for b in pair {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// This device's identity: who it is plus its Ed25519 signing key.
///
/// `Debug` shows the identity and fingerprint only; the seed is zeroized on drop.
pub struct Identity {
    member: MemberIdentity,
    seed: Zeroizing<[u8; 32]>,
    public: [u8; 32],
}

impl Identity {
    /// Create an identity with a fresh random Ed25519 key.
    pub fn generate(member: MemberIdentity) -> Result<Self> {
        let rng = openmls_rust_crypto::RustCrypto::default();
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            rng.random_array()
                .map_err(|_| MlsError::Internal("random number generator failed"))?,
        );
        Ok(Self::from_seed(member, &seed))
    }

    /// Restore an identity from a persisted 32-byte Ed25519 seed.
    pub fn from_seed(member: MemberIdentity, seed: &[u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(seed)
            .verifying_key()
            .to_bytes();
        Self {
            member,
            seed: Zeroizing::new(*seed),
            public,
        }
    }

    /// The 32-byte Ed25519 seed, for the application to persist securely.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.seed)
    }

    /// The (user id, device id) pair.
    pub fn member(&self) -> &MemberIdentity {
        &self.member
    }

    /// The Ed25519 signature public key.
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    /// Fingerprint of the signature public key (see [`fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("member", &self.member)
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_roundtrip_and_rejects_bad_encodings() {
        let id = MemberIdentity::new(b"alice".to_vec(), b"phone".to_vec()).expect("valid");
        assert_eq!(MemberIdentity::decode(&id.encode()).expect("decodes"), id);
        let enc = id.encode();
        assert!(MemberIdentity::decode(&enc[..enc.len() - 1]).is_err());
        let mut long = enc.clone();
        long.push(0);
        assert!(MemberIdentity::decode(&long).is_err());
        assert!(MemberIdentity::decode(&[]).is_err());
        assert!(MemberIdentity::new(Vec::new(), b"d".to_vec()).is_err());
        assert!(MemberIdentity::new(vec![1; MAX_ID_LEN + 1], b"d".to_vec()).is_err());
    }

    #[test]
    fn seed_restores_same_key_and_debug_hides_seed() {
        let m = MemberIdentity::new(b"u".to_vec(), b"d".to_vec()).expect("valid");
        let a = Identity::generate(m.clone()).expect("rng");
        let b = Identity::from_seed(m, &a.seed());
        assert_eq!(a.public_key(), b.public_key());
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().split(' ').count(), 16);
        let dbg = format!("{a:?}");
        let seed_hex: String = a.seed().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!dbg.contains(&seed_hex[..16]));
    }
}
