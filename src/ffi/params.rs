//! The C forms of a group's SFrame parameters and creation options
//! (`mlsframe_group_params`, `mlsframe_group_options`, `mlsframe_external_sender`) and
//! their value checks: a zero field means the default, an unknown value a specific code.

use crate::mls::session::{GroupParams, HandshakeFormat, MlsCiphersuite, ParamsSource};

use super::mlsframe_result::{self, *};

/// Values of `mlsframe_group_params.handshake`: how commits and proposals travel.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mlsframe_handshake_format {
    /// MLS `PrivateMessage`: handshakes are encrypted to the group (the default).
    MLSFRAME_HANDSHAKE_CIPHERTEXT = 0,
    /// MLS `PublicMessage`: the delivery service can read commits and proposals.
    MLSFRAME_HANDSHAKE_PLAINTEXT = 1,
}

/// Where a group's SFrame parameters come from: values of
/// `mlsframe_group_options.params_source` and of `mlsframe_session_params`'s source.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mlsframe_params_source {
    /// Carried in the group context (private extension 0xff00): joiners read them from the
    /// welcome, and only members whose key package advertises the extension can be added
    /// (others: `MLSFRAME_MLS_MISSING_CAPABILITY`). The default.
    MLSFRAME_PARAMS_GROUP_CONTEXT = 0,
    /// Not carried (the extension is omitted), for groups with members on other MLS stacks:
    /// every member's application must use the same values (pass them to
    /// `mlsframe_session_join_with`).
    MLSFRAME_PARAMS_APP = 1,
}

/// A group's SFrame parameters. Zero-initialize for the defaults (SFrame suite 4, E = 4,
/// encrypted handshakes); `mlsframe_session_params` fills in the values in use, never 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct mlsframe_group_params {
    /// SFrame cipher suite 1..=5 (RFC 9605 section 4.5); 0 means 4 (AES-128-GCM with
    /// SHA-256, 128-bit tag). Any other value: `MLSFRAME_MLS_INVALID_PARAMS`.
    pub sframe_suite: u16,
    /// E, the KID's epoch bits, 2..=16; 0 means 4. Any other value:
    /// `MLSFRAME_MLS_INVALID_PARAMS`.
    pub epoch_bits: u8,
    /// An `mlsframe_handshake_format` (0: encrypted). Any other value:
    /// `MLSFRAME_INVALID_ARGUMENT`.
    pub handshake: u32,
}

// SAFETY: integers only (zero fields mean the defaults).
unsafe impl super::Reset for mlsframe_group_params {}

impl mlsframe_group_params {
    /// The parameters these fields name, zero fields replaced by the defaults. Ranges are
    /// left to the session (`MLSFRAME_MLS_INVALID_PARAMS`); an unknown handshake value is
    /// `INVALID_ARGUMENT`.
    pub(crate) fn to_params(self) -> Result<GroupParams, mlsframe_result> {
        let defaults = GroupParams::default();
        let handshake = match self.handshake {
            0 => HandshakeFormat::Ciphertext,
            1 => HandshakeFormat::Plaintext,
            _ => return Err(MLSFRAME_INVALID_ARGUMENT),
        };
        Ok(GroupParams {
            sframe_suite: if self.sframe_suite == 0 {
                defaults.sframe_suite
            } else {
                self.sframe_suite
            },
            epoch_bits: if self.epoch_bits == 0 {
                defaults.epoch_bits
            } else {
                self.epoch_bits
            },
            handshake,
        })
    }

    /// The C form of `params`.
    pub(crate) fn of(params: GroupParams) -> mlsframe_group_params {
        mlsframe_group_params {
            sframe_suite: params.sframe_suite,
            epoch_bits: params.epoch_bits,
            handshake: match params.handshake {
                HandshakeFormat::Ciphertext => {
                    mlsframe_handshake_format::MLSFRAME_HANDSHAKE_CIPHERTEXT as u32
                }
                HandshakeFormat::Plaintext => {
                    mlsframe_handshake_format::MLSFRAME_HANDSHAKE_PLAINTEXT as u32
                }
            },
        }
    }
}

/// A third party allowed to send proposals to the group (RFC 9420 section 12.1.8.1),
/// such as a delivery service that removes members who disconnected.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mlsframe_external_sender {
    /// Its signature public key, 1..=1024 bytes (not checked further: it must be of the
    /// group's MLS signature scheme for its proposals to verify).
    pub signature_key: *const u8,
    /// Length of `signature_key`.
    pub signature_key_len: usize,
    /// The identity of its basic credential, 0..=65536 bytes.
    pub identity: *const u8,
    /// Length of `identity`.
    pub identity_len: usize,
}

/// How `mlsframe_session_create_group_with` creates a group. Zero-initialize for the
/// defaults, which are `mlsframe_session_create_group(session, 4, 4, false)`'s
/// (`mlsframe_group_options opts = {0};`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mlsframe_group_options {
    /// The SFrame suite, E and handshake format (zero fields: the defaults).
    pub params: mlsframe_group_params,
    /// The MLS ciphersuite (RFC 9420 section 17.1): 0x0001
    /// (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519), 0x0002
    /// (MLS_128_DHKEMP256_AES128GCM_SHA256_P256; needs a P-256 identity, from
    /// `mlsframe_session_new_with`) or 0x0003
    /// (MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519); 0 means the default suite of
    /// the session's identity (0x0001 for an Ed25519 identity, 0x0002 for a P-256 one).
    /// Others: `MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE`; a suite the identity cannot sign
    /// for: `MLSFRAME_MLS_CIPHERSUITE_MISMATCH`. Joiners need a key package of the same
    /// suite (`mlsframe_session_key_package_for`).
    pub mls_ciphersuite: u16,
    /// An `mlsframe_params_source` (0: carry the parameters in the group context). Any
    /// other value: `MLSFRAME_INVALID_ARGUMENT`.
    pub params_source: u32,
    /// `external_senders_count` entries (NULL with count 0: none).
    pub external_senders: *const mlsframe_external_sender,
    /// Number of entries at `external_senders`.
    pub external_senders_count: usize,
}

/// The MLS ciphersuite a C code names; 0 is `default`.
pub(crate) fn ciphersuite_of(
    code: u16,
    default: MlsCiphersuite,
) -> Result<MlsCiphersuite, mlsframe_result> {
    if code == 0 {
        return Ok(default);
    }
    MlsCiphersuite::try_from(code).map_err(Into::into)
}

/// The `ParamsSource` a C value names.
pub(crate) fn params_source_of(value: u32) -> Result<ParamsSource, mlsframe_result> {
    match value {
        0 => Ok(ParamsSource::GroupContext),
        1 => Ok(ParamsSource::App),
        _ => Err(MLSFRAME_INVALID_ARGUMENT),
    }
}

/// The C value of a `ParamsSource`.
pub(crate) fn params_source_value(source: ParamsSource) -> u32 {
    match source {
        ParamsSource::GroupContext => mlsframe_params_source::MLSFRAME_PARAMS_GROUP_CONTEXT as u32,
        ParamsSource::App => mlsframe_params_source::MLSFRAME_PARAMS_APP as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_fields_are_the_defaults_and_unknown_values_have_codes() {
        let zero = mlsframe_group_params::default();
        assert_eq!(zero.to_params(), Ok(GroupParams::default()));
        let set = mlsframe_group_params {
            sframe_suite: 5,
            epoch_bits: 6,
            handshake: 1,
        };
        let params = set.to_params().expect("valid");
        assert_eq!(params.handshake, HandshakeFormat::Plaintext);
        assert_eq!(mlsframe_group_params::of(params), set);
        let odd = mlsframe_group_params {
            handshake: 2,
            ..zero
        };
        assert_eq!(odd.to_params(), Err(MLSFRAME_INVALID_ARGUMENT));
        // Out-of-range suites and E pass through for the session to refuse.
        let wide = mlsframe_group_params {
            sframe_suite: 9,
            epoch_bits: 1,
            handshake: 0,
        };
        assert_eq!(wide.to_params().map(|p| p.validate().is_err()), Ok(true));

        let default = MlsCiphersuite::X25519Aes128GcmEd25519;
        assert_eq!(ciphersuite_of(0, default), Ok(default));
        assert_eq!(
            ciphersuite_of(3, default),
            Ok(MlsCiphersuite::X25519ChaCha20Ed25519)
        );
        assert_eq!(
            ciphersuite_of(4, default),
            Err(MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE)
        );
        assert_eq!(params_source_of(1), Ok(ParamsSource::App));
        assert_eq!(params_source_of(2), Err(MLSFRAME_INVALID_ARGUMENT));
        for source in [ParamsSource::GroupContext, ParamsSource::App] {
            assert_eq!(params_source_of(params_source_value(source)), Ok(source));
        }
    }
}
