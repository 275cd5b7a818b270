//! Member identity: the (user id, device id) pair bound into each MLS basic credential,
//! the device's signing key (Ed25519 or ECDSA P-256, generated or restored from its 32-byte
//! secret), and signature-key fingerprints for human comparison.

use core::fmt;

use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::random::OpenMlsRand;
use openmls_traits::types::SignatureScheme;
use sha2::{Digest, Sha256};
use thiserror::Error;
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

/// The signature algorithm of a device's identity key, as MLS names it (RFC 9420 §5.1.3).
///
/// Its stable code is the MLS `SignatureScheme` code point ([`code`](Self::code)); the
/// algorithm must match the group's MLS ciphersuite (Ed25519 for 0x0001 and 0x0003,
/// P-256 for 0x0002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// Ed25519 (`ed25519`, code 0x0807). The secret is the 32-byte RFC 8032 seed.
    Ed25519,
    /// ECDSA over secp256r1 with SHA-256 (`ecdsa_secp256r1_sha256`, code 0x0403). The
    /// secret is the 32-byte big-endian private scalar.
    EcdsaP256,
}

/// A [`SignatureAlgorithm`] code that names no algorithm this library supports.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("unsupported signature algorithm {0:#06x}")]
pub struct UnknownSignatureAlgorithm(pub u16);

impl SignatureAlgorithm {
    /// The MLS `SignatureScheme` code point: 0x0807 (Ed25519), 0x0403 (P-256).
    pub const fn code(self) -> u16 {
        match self {
            Self::Ed25519 => 0x0807,
            Self::EcdsaP256 => 0x0403,
        }
    }

    /// The `openmls` signature scheme.
    pub(crate) fn scheme(self) -> SignatureScheme {
        match self {
            Self::Ed25519 => SignatureScheme::ED25519,
            Self::EcdsaP256 => SignatureScheme::ECDSA_SECP256R1_SHA256,
        }
    }
}

impl TryFrom<u16> for SignatureAlgorithm {
    type Error = UnknownSignatureAlgorithm;

    /// The algorithm whose [`code`](SignatureAlgorithm::code) is `code`.
    fn try_from(code: u16) -> core::result::Result<Self, Self::Error> {
        match code {
            0x0807 => Ok(Self::Ed25519),
            0x0403 => Ok(Self::EcdsaP256),
            other => Err(UnknownSignatureAlgorithm(other)),
        }
    }
}

/// Length of an identity's secret for every supported algorithm.
const SECRET_LEN: usize = 32;

/// How many random draws [`Identity::generate_with`] makes before giving up. Only a P-256
/// draw can fail (zero or not below the group order, probability below 2^-32), so two
/// failures in a row mean a broken random number generator.
const KEY_DRAWS: usize = 2;

/// The public key of `secret` under `algorithm`: Ed25519's 32 bytes, or P-256's 65-byte
/// uncompressed SEC1 point (what `openmls` puts in a leaf's `signature_key`).
fn public_key_of(algorithm: SignatureAlgorithm, secret: &[u8; SECRET_LEN]) -> Result<Vec<u8>> {
    match algorithm {
        SignatureAlgorithm::Ed25519 => Ok(ed25519_dalek::SigningKey::from_bytes(secret)
            .verifying_key()
            .to_bytes()
            .to_vec()),
        SignatureAlgorithm::EcdsaP256 => {
            // The same parse `openmls_basic_credential` signs with: zero and scalars not
            // below the group order are refused.
            let key = p256::ecdsa::SigningKey::from_bytes(p256::FieldBytes::from_slice(secret))
                .map_err(|_| MlsError::InvalidSigningKey)?;
            Ok(key
                .verifying_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec())
        }
    }
}

/// This device's identity: who it is plus its signing key (Ed25519 or ECDSA P-256).
///
/// `Debug` shows the identity, algorithm and fingerprint only; the secret is zeroized on
/// drop.
pub struct Identity {
    member: MemberIdentity,
    algorithm: SignatureAlgorithm,
    secret: Zeroizing<[u8; SECRET_LEN]>,
    public: Vec<u8>,
}

impl Identity {
    /// Create an identity with a fresh random Ed25519 key.
    pub fn generate(member: MemberIdentity) -> Result<Self> {
        Self::generate_with(member, SignatureAlgorithm::Ed25519)
    }

    /// Create an identity with a fresh random key for `algorithm`.
    ///
    /// # Errors
    /// [`MlsError::Internal`] if the random number generator fails.
    pub fn generate_with(member: MemberIdentity, algorithm: SignatureAlgorithm) -> Result<Self> {
        let rng = openmls_rust_crypto::RustCrypto::default();
        for _ in 0..KEY_DRAWS {
            let secret: Zeroizing<[u8; SECRET_LEN]> = Zeroizing::new(
                rng.random_array()
                    .map_err(|_| MlsError::Internal("random number generator failed"))?,
            );
            match Self::from_secret(member.clone(), algorithm, &secret[..]) {
                Err(MlsError::InvalidSigningKey) => continue,
                done => return done,
            }
        }
        Err(MlsError::Internal("random number generator failed"))
    }

    /// Restore an identity from a persisted 32-byte Ed25519 seed.
    pub fn from_seed(member: MemberIdentity, seed: &[u8; 32]) -> Self {
        let public = ed25519_dalek::SigningKey::from_bytes(seed)
            .verifying_key()
            .to_bytes()
            .to_vec();
        Self {
            member,
            algorithm: SignatureAlgorithm::Ed25519,
            secret: Zeroizing::new(*seed),
            public,
        }
    }

    /// Restore an identity from its persisted secret ([`seed`](Self::seed)): 32 bytes for
    /// both algorithms; for [`SignatureAlgorithm::EcdsaP256`] the big-endian private scalar,
    /// which must be nonzero and below the group order.
    ///
    /// # Errors
    /// [`MlsError::InvalidSigningKey`] when `secret` is not a valid key for `algorithm`.
    pub fn from_secret(
        member: MemberIdentity,
        algorithm: SignatureAlgorithm,
        secret: &[u8],
    ) -> Result<Self> {
        if secret.len() != SECRET_LEN {
            return Err(MlsError::InvalidSigningKey);
        }
        // Copied straight into the wiped-on-drop buffer: no other copy.
        let mut own = Zeroizing::new([0u8; SECRET_LEN]);
        own.copy_from_slice(secret);
        let secret = own;
        let public = public_key_of(algorithm, &secret)?;
        Ok(Self {
            member,
            algorithm,
            secret,
            public,
        })
    }

    /// The 32-byte secret, for the application to persist securely: the Ed25519 seed, or
    /// the P-256 private scalar (big-endian). Restore it with [`from_secret`](Self::from_secret)
    /// and the same [`algorithm`](Self::algorithm) (or, for Ed25519, [`from_seed`](Self::from_seed)).
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(*self.secret)
    }

    /// The signature algorithm of the key.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The (user id, device id) pair.
    pub fn member(&self) -> &MemberIdentity {
        &self.member
    }

    /// The signature public key as MLS carries it: 32 bytes for Ed25519, the 65-byte
    /// uncompressed SEC1 point for P-256.
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// Fingerprint of the signature public key (see [`fingerprint`]).
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public)
    }

    /// The key pair `openmls` signs with: the raw secret (the Ed25519 seed or the P-256
    /// scalar, as `openmls_basic_credential` parses them) and the public key.
    pub(crate) fn signature_key_pair(&self) -> SignatureKeyPair {
        SignatureKeyPair::from_raw(
            self.algorithm.scheme(),
            self.secret.to_vec(),
            self.public.clone(),
        )
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("member", &self.member)
            .field("algorithm", &self.algorithm)
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

    fn member() -> MemberIdentity {
        MemberIdentity::new(b"u".to_vec(), b"d".to_vec()).expect("valid")
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The P-256 group order n, big-endian.
    const P256_ORDER: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63,
        0x25, 0x51,
    ];

    #[test]
    fn algorithm_codes_are_the_mls_signature_schemes() {
        for alg in [SignatureAlgorithm::Ed25519, SignatureAlgorithm::EcdsaP256] {
            assert_eq!(SignatureAlgorithm::try_from(alg.code()), Ok(alg));
            assert_eq!(alg.code(), alg.scheme() as u16);
        }
        assert_eq!(SignatureAlgorithm::Ed25519.code(), 0x0807);
        assert_eq!(SignatureAlgorithm::EcdsaP256.code(), 0x0403);
        for unknown in [0, 0x0503, 0x0808, 0xffff] {
            assert_eq!(
                SignatureAlgorithm::try_from(unknown),
                Err(UnknownSignatureAlgorithm(unknown))
            );
        }
    }

    #[test]
    fn p256_public_key_of_scalar_one_is_the_generator() {
        let mut one = [0u8; 32];
        one[31] = 1;
        let id = Identity::from_secret(member(), SignatureAlgorithm::EcdsaP256, &one)
            .expect("valid scalar");
        assert_eq!(
            hex(id.public_key()),
            "04\
             6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296\
             4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
        );
    }

    #[test]
    fn secrets_that_are_not_keys_are_refused_not_a_panic() {
        let mut below_order = P256_ORDER;
        below_order[31] -= 1;
        assert!(
            Identity::from_secret(member(), SignatureAlgorithm::EcdsaP256, &below_order).is_ok()
        );
        for bad in [[0u8; 32], P256_ORDER, [0xff; 32]] {
            assert_eq!(
                Identity::from_secret(member(), SignatureAlgorithm::EcdsaP256, &bad).err(),
                Some(MlsError::InvalidSigningKey)
            );
        }
        for alg in [SignatureAlgorithm::Ed25519, SignatureAlgorithm::EcdsaP256] {
            for len in [0, 31, 33, 64] {
                assert_eq!(
                    Identity::from_secret(member(), alg, &vec![1u8; len]).err(),
                    Some(MlsError::InvalidSigningKey),
                    "{alg:?}, {len} bytes"
                );
            }
        }
    }

    #[test]
    fn from_secret_restores_the_same_key_for_each_algorithm() {
        for alg in [SignatureAlgorithm::Ed25519, SignatureAlgorithm::EcdsaP256] {
            let a = Identity::generate_with(member(), alg).expect("rng");
            let b = Identity::from_secret(member(), alg, &a.seed()[..]).expect("valid");
            assert_eq!(b.algorithm(), alg);
            assert_eq!(a.public_key(), b.public_key());
            assert_eq!(a.fingerprint(), b.fingerprint());
            let expected_len = match alg {
                SignatureAlgorithm::Ed25519 => 32,
                SignatureAlgorithm::EcdsaP256 => 65,
            };
            assert_eq!(a.public_key().len(), expected_len);
            let dbg = format!("{a:?}");
            assert!(!dbg.contains(&hex(&a.seed()[..])[..16]), "{dbg}");
            assert!(dbg.contains(&format!("{alg:?}")));
        }
        let seed = Identity::generate(member()).expect("rng").seed();
        assert_eq!(
            Identity::from_seed(member(), &seed).public_key(),
            Identity::from_secret(member(), SignatureAlgorithm::Ed25519, &seed[..])
                .expect("valid")
                .public_key()
        );
    }

    /// A key package signed by `signer` for `credential_key`'s public key in `ciphersuite`,
    /// sent over the wire and validated by `openmls`.
    fn signed_key_package(
        ciphersuite: openmls::prelude::Ciphersuite,
        signer: &SignatureKeyPair,
        credential_key: &Identity,
    ) -> core::result::Result<(), openmls::prelude::KeyPackageVerifyError> {
        use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
        use openmls::prelude::*;

        let provider = openmls_rust_crypto::OpenMlsRustCrypto::default();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(credential_key.member().encode()).into(),
            signature_key: credential_key.public_key().into(),
        };
        let bundle = KeyPackage::builder()
            .build(ciphersuite, &provider, signer, credential)
            .expect("key package");
        let wire = MlsMessageOut::from(bundle.key_package().clone())
            .tls_serialize_detached()
            .expect("serialize");
        let MlsMessageBodyIn::KeyPackage(kp) = MlsMessageIn::tls_deserialize_exact(&wire)
            .expect("parse")
            .extract()
        else {
            panic!("not a key package");
        };
        kp.validate(provider.crypto(), ProtocolVersion::Mls10)
            .map(|_| ())
    }

    #[test]
    fn a_p256_identity_signs_what_openmls_verifies() {
        use openmls::prelude::Ciphersuite;
        let p256 = Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;
        let alice = Identity::generate_with(member(), SignatureAlgorithm::EcdsaP256).expect("rng");
        assert!(signed_key_package(p256, &alice.signature_key_pair(), &alice).is_ok());
        // The check is real: a signature by another key does not verify.
        let mallory =
            Identity::generate_with(member(), SignatureAlgorithm::EcdsaP256).expect("rng");
        assert!(signed_key_package(p256, &mallory.signature_key_pair(), &alice).is_err());
        // And Ed25519 still signs for its own ciphersuite.
        let ed = Identity::generate(member()).expect("rng");
        assert!(
            signed_key_package(
                Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
                &ed.signature_key_pair(),
                &ed
            )
            .is_ok()
        );
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
