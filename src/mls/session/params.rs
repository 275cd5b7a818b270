//! Group-wide parameters fixed by the creator and carried in the group context: the
//! SFrame suite, E (the KID's epoch bits) and the handshake wire format.

use openmls::prelude::*;

use crate::mls::epoch_event::SframeLayout;
use crate::mls::error::{MlsError, Result};

/// MLS extension type (private-use range) of the group context extension carrying
/// [`GroupParams`].
pub const PARAMS_EXTENSION_TYPE: u16 = 0xff00;

/// Where a group's [`GroupParams`] come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamsSource {
    /// The group context carries them in its [`PARAMS_EXTENSION_TYPE`] extension.
    GroupContext,
    /// The group context has no such extension: the application gave them when it
    /// created or joined the group.
    App,
}

/// How handshake messages (commits, proposals) are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeFormat {
    /// MLS `PublicMessage`: the delivery service can read the handshake.
    Plaintext,
    /// MLS `PrivateMessage`: handshakes are encrypted to the group.
    Ciphertext,
}

/// Group-wide parameters fixed by the creator and carried in the group context.
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
