//! The C form of a device's identity (`mlsframe_identity_options`: user id, device id,
//! identity secret and signature algorithm) and the signature algorithm values
//! (`mlsframe_signature_algorithm`), with their value checks.

use crate::mls::identity::{Identity, MemberIdentity, SignatureAlgorithm};

use super::mlsframe_result::{self, *};

/// Values of `mlsframe_identity_options.signature_algorithm` and of
/// `mlsframe_session_signature_algorithm`: the MLS `SignatureScheme` code points (RFC 9420
/// section 17.3). The algorithm decides the MLS ciphersuites a session can use: Ed25519
/// for 0x0001 and 0x0003, ECDSA P-256 for 0x0002.
#[repr(u16)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mlsframe_signature_algorithm {
    /// ECDSA over P-256 with SHA-256 (`ecdsa_secp256r1_sha256`). The secret is the 32-byte
    /// big-endian private scalar (nonzero, below the group order); public keys are 65-byte
    /// uncompressed points.
    MLSFRAME_SIGNATURE_ECDSA_P256 = 0x0403,
    /// Ed25519. The secret is the 32-byte RFC 8032 seed; public keys are 32 bytes.
    MLSFRAME_SIGNATURE_ED25519 = 0x0807,
}

/// Who a new session is and how it signs, for `mlsframe_session_new_with`.
/// Zero-initialize, then set the ids (`mlsframe_identity_options id = {0};`): the zeroed
/// secret and algorithm mean "a fresh Ed25519 key", as `mlsframe_session_new` makes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mlsframe_identity_options {
    /// The user id: opaque bytes, 1..=1024 (the same for all devices of one person).
    pub user_id: *const u8,
    /// Length of `user_id`.
    pub user_id_len: usize,
    /// The device id: opaque bytes, 0..=1024 (NULL with 0: empty).
    pub device_id: *const u8,
    /// Length of `device_id`.
    pub device_id_len: usize,
    /// The identity secret the app persists, 32 bytes: the Ed25519 seed, or the P-256
    /// private scalar (big-endian). NULL with length 0: generate a fresh key (it can then
    /// be kept only inside a snapshot). Any other length: `MLSFRAME_INVALID_ARGUMENT`; a
    /// P-256 scalar that is zero or not below the group order:
    /// `MLSFRAME_MLS_INVALID_SIGNING_KEY` (32 random bytes are one with probability below
    /// 2^-32).
    pub secret: *const u8,
    /// Length of `secret`: 0 or 32.
    pub secret_len: usize,
    /// An `mlsframe_signature_algorithm` (0x0807 Ed25519, 0x0403 ECDSA P-256); 0 means
    /// Ed25519. Any other value: `MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM`.
    pub signature_algorithm: u16,
}

/// The algorithm a C value names; 0 is Ed25519.
pub(crate) fn algorithm_of(code: u16) -> Result<SignatureAlgorithm, mlsframe_result> {
    if code == 0 {
        return Ok(SignatureAlgorithm::Ed25519);
    }
    SignatureAlgorithm::try_from(code).map_err(|_| MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM)
}

/// The identity the checked C parts name, checked in this order: the ids
/// (`MLSFRAME_MLS_INVALID_IDENTITY`), the secret's length (`MLSFRAME_INVALID_ARGUMENT`),
/// the secret as a key of `algorithm` (`MLSFRAME_MLS_INVALID_SIGNING_KEY`). An empty
/// secret generates a fresh key.
pub(crate) fn identity_of(
    user_id: &[u8],
    device_id: &[u8],
    secret: &[u8],
    algorithm: SignatureAlgorithm,
) -> Result<Identity, mlsframe_result> {
    let member = MemberIdentity::new(user_id.to_vec(), device_id.to_vec())
        .map_err(|_| MLSFRAME_MLS_INVALID_IDENTITY)?;
    match secret.len() {
        0 => Identity::generate_with(member, algorithm).map_err(Into::into),
        32 => Identity::from_secret(member, algorithm, secret).map_err(Into::into),
        _ => Err(MLSFRAME_INVALID_ARGUMENT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_values_are_the_mls_codes_and_zero_is_ed25519() {
        for (value, algorithm) in [
            (0, SignatureAlgorithm::Ed25519),
            (
                mlsframe_signature_algorithm::MLSFRAME_SIGNATURE_ED25519 as u16,
                SignatureAlgorithm::Ed25519,
            ),
            (
                mlsframe_signature_algorithm::MLSFRAME_SIGNATURE_ECDSA_P256 as u16,
                SignatureAlgorithm::EcdsaP256,
            ),
        ] {
            assert_eq!(algorithm_of(value), Ok(algorithm));
            if value != 0 {
                assert_eq!(algorithm.code(), value);
            }
        }
        for unknown in [1, 0x0503, 0x0808, 0xffff] {
            assert_eq!(
                algorithm_of(unknown),
                Err(MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM)
            );
        }
    }

    #[test]
    fn identities_check_ids_then_length_then_key() {
        let p256 = SignatureAlgorithm::EcdsaP256;
        let code = |r: Result<Identity, mlsframe_result>| r.err();
        assert_eq!(
            code(identity_of(b"", b"d", &[0; 31], p256)),
            Some(MLSFRAME_MLS_INVALID_IDENTITY)
        );
        assert_eq!(
            code(identity_of(b"u", b"d", &[1; 31], p256)),
            Some(MLSFRAME_INVALID_ARGUMENT)
        );
        assert_eq!(
            code(identity_of(b"u", b"d", &[0; 32], p256)),
            Some(MLSFRAME_MLS_INVALID_SIGNING_KEY)
        );
        assert_eq!(
            code(identity_of(b"u", b"d", &[0xff; 32], p256)),
            Some(MLSFRAME_MLS_INVALID_SIGNING_KEY)
        );
        let fresh = identity_of(b"u", b"", &[], p256).expect("generated");
        assert_eq!((fresh.algorithm(), fresh.public_key().len()), (p256, 65));
        let again = identity_of(b"u", b"", &fresh.seed()[..], p256).expect("restored");
        assert_eq!(again.public_key(), fresh.public_key());
        let ed = identity_of(b"u", b"d", &[7; 32], SignatureAlgorithm::Ed25519).expect("seed");
        assert_eq!(ed.public_key().len(), 32);
    }
}
