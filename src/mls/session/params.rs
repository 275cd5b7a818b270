//! Group-wide parameters: the SFrame suite, E (the KID's epoch bits) and the handshake
//! wire format, carried in the group context's private extension 0xff00 when the group
//! has it, or given by the application for groups that do not (other MLS stacks); and
//! the MLS ciphersuite and creation options of a new group.

use openmls::prelude::*;

use crate::mls::epoch_event::SframeLayout;
use crate::mls::error::{MlsError, Result};

/// MLS extension type (private-use range) of the group context extension carrying
/// [`GroupParams`].
pub const PARAMS_EXTENSION_TYPE: u16 = 0xff00;

/// How handshake messages (commits, proposals) are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeFormat {
    /// MLS `PublicMessage`: the delivery service can read the handshake.
    Plaintext,
    /// MLS `PrivateMessage`: handshakes are encrypted to the group.
    Ciphertext,
}

/// Group-wide parameters fixed by the creator and carried in the group context (or, for
/// a group without the [`PARAMS_EXTENSION_TYPE`] extension, agreed by the applications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupParams {
    /// SFrame cipher suite (RFC 9605 §4.5), 0x0001..=0x0005.
    pub sframe_suite: u16,
    /// E: number of low epoch bits in the KID (2..=16, default 4). At most 2^E - 1
    /// epochs are kept, and a member needs two at once (the current one and the one its
    /// own pending commit stages), so E = 1 is refused.
    pub epoch_bits: u8,
    /// Wire format of handshake messages.
    pub handshake: HandshakeFormat,
}

impl Default for GroupParams {
    /// AES-128-GCM (suite 4), E = 4, encrypted handshakes.
    fn default() -> Self {
        Self {
            sframe_suite: 0x0004,
            epoch_bits: 4,
            handshake: HandshakeFormat::Ciphertext,
        }
    }
}

impl GroupParams {
    /// Check the parameters are in range: SFrame suite 1..=5, E 2..=16.
    ///
    /// # Errors
    /// [`MlsError::InvalidParams`] otherwise.
    pub fn validate(&self) -> Result<()> {
        if !(1..=5).contains(&self.sframe_suite) || !(2..=16).contains(&self.epoch_bits) {
            return Err(MlsError::InvalidParams);
        }
        Ok(())
    }

    /// The SFrame layout the media key ring needs.
    pub(crate) fn layout(&self) -> SframeLayout {
        SframeLayout {
            suite: self.sframe_suite,
            epoch_bits: self.epoch_bits,
        }
    }

    /// Nk: the SFrame suite's key length, which is also the base key length.
    pub fn key_len(&self) -> usize {
        crate::sframe::CipherSuite::try_from(self.sframe_suite)
            .map_or(16, crate::sframe::CipherSuite::key_len)
    }

    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = self.sframe_suite.to_be_bytes().to_vec();
        out.push(self.epoch_bits);
        out.push(match self.handshake {
            HandshakeFormat::Plaintext => 0,
            HandshakeFormat::Ciphertext => 1,
        });
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self> {
        let [s0, s1, epoch_bits, hs] = bytes else {
            return Err(MlsError::InvalidParams);
        };
        let handshake = match hs {
            0 => HandshakeFormat::Plaintext,
            1 => HandshakeFormat::Ciphertext,
            _ => return Err(MlsError::InvalidParams),
        };
        let params = Self {
            sframe_suite: u16::from_be_bytes([*s0, *s1]),
            epoch_bits: *epoch_bits,
            handshake,
        };
        params.validate()?;
        Ok(params)
    }

    /// The parameters a group context carries in its [`PARAMS_EXTENSION_TYPE`] extension.
    ///
    /// # Errors
    /// [`MlsError::InvalidParams`] if the extension is missing or out of range.
    pub(super) fn in_context(extensions: &Extensions<GroupContext>) -> Result<Self> {
        let ext = extensions
            .unknown(PARAMS_EXTENSION_TYPE)
            .ok_or(MlsError::InvalidParams)?;
        Self::decode(&ext.0)
    }

    pub(super) fn wire_policy(&self) -> WireFormatPolicy {
        match self.handshake {
            HandshakeFormat::Plaintext => PURE_PLAINTEXT_WIRE_FORMAT_POLICY,
            HandshakeFormat::Ciphertext => PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
        }
    }

    pub(super) fn join_config(&self) -> MlsGroupJoinConfig {
        MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(true)
            .wire_format_policy(self.wire_policy())
            .build()
    }
}

/// The MLS ciphersuites a group can use (RFC 9420 §17.1): every suite
/// `openmls_rust_crypto` implements. SFrame keying (RFC 9605 §5.2) is the same for all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MlsCiphersuite {
    /// 0x0001 `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519` (the default).
    #[default]
    X25519Aes128GcmEd25519,
    /// 0x0002 `MLS_128_DHKEMP256_AES128GCM_SHA256_P256`: needs a P-256 identity.
    P256Aes128GcmP256,
    /// 0x0003 `MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519`.
    X25519ChaCha20Ed25519,
}

impl MlsCiphersuite {
    /// Every suite, in code order.
    pub const ALL: [MlsCiphersuite; 3] = [
        MlsCiphersuite::X25519Aes128GcmEd25519,
        MlsCiphersuite::P256Aes128GcmP256,
        MlsCiphersuite::X25519ChaCha20Ed25519,
    ];

    /// The RFC 9420 code point.
    pub fn code(self) -> u16 {
        match self {
            MlsCiphersuite::X25519Aes128GcmEd25519 => 0x0001,
            MlsCiphersuite::P256Aes128GcmP256 => 0x0002,
            MlsCiphersuite::X25519ChaCha20Ed25519 => 0x0003,
        }
    }

    pub(crate) fn openmls(self) -> Ciphersuite {
        match self {
            MlsCiphersuite::X25519Aes128GcmEd25519 => {
                Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519
            }
            MlsCiphersuite::P256Aes128GcmP256 => {
                Ciphersuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256
            }
            MlsCiphersuite::X25519ChaCha20Ed25519 => {
                Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519
            }
        }
    }

    pub(crate) fn from_openmls(suite: Ciphersuite) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.openmls() == suite)
    }

    /// The signature scheme a member's identity needs for this suite.
    pub(crate) fn signature_scheme(self) -> SignatureScheme {
        self.openmls().signature_algorithm()
    }
}

impl TryFrom<u16> for MlsCiphersuite {
    type Error = MlsError;

    /// # Errors
    /// [`MlsError::UnsupportedCiphersuite`] for any other code.
    fn try_from(code: u16) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or(MlsError::UnsupportedCiphersuite)
    }
}

/// Where a group's SFrame parameters come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParamsSource {
    /// The group context's [`PARAMS_EXTENSION_TYPE`] extension: every member reads the
    /// same values, and only members advertising the extension can be added.
    #[default]
    GroupContext,
    /// The application (a group without the extension, e.g. one created by another MLS
    /// implementation): every member's application must configure the same values.
    App,
}

/// How [`Session::create_group_with`](super::Session::create_group_with) creates a group.
///
/// ```
/// use mlsframe::mls::session::{GroupOptions, GroupParams, MlsCiphersuite, ParamsSource};
/// let options = GroupOptions {
///     params: GroupParams::default(),
///     ciphersuite: MlsCiphersuite::X25519ChaCha20Ed25519,
///     params_source: ParamsSource::App,
///     external_senders: Vec::new(),
/// };
/// assert_eq!(options.ciphersuite.code(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupOptions {
    /// The SFrame suite, E and handshake format.
    pub params: GroupParams,
    /// The MLS ciphersuite; it must match the identity's signature algorithm.
    pub ciphersuite: MlsCiphersuite,
    /// [`ParamsSource::GroupContext`] (the default) carries `params` in the group context
    /// and requires every member to advertise the extension;
    /// [`ParamsSource::App`] omits it, for groups with members on other MLS stacks.
    pub params_source: ParamsSource,
    /// Third parties allowed to send proposals to the group (RFC 9420 §12.1.8.1): each a
    /// (signature public key, basic credential identity) pair.
    pub external_senders: Vec<(Vec<u8>, Vec<u8>)>,
}

/// How [`Session::join_with`](super::Session::join_with) joins a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JoinOptions<'a> {
    /// The ratchet tree (TLS-encoded, as [`Session::ratchet_tree`](super::Session::ratchet_tree)
    /// exports it), for a welcome without the `ratchet_tree` extension.
    pub ratchet_tree: Option<&'a [u8]>,
    /// The SFrame parameters to use when the group context has no
    /// [`PARAMS_EXTENSION_TYPE`] extension; `None` means [`GroupParams::default`]. A
    /// group that carries the extension always uses its own values.
    pub params: Option<GroupParams>,
}
