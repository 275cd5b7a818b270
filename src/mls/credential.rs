//! Member credentials as the application sees them: the raw MLS credential of every leaf
//! (ours or another MLS stack's), and the (user id, device id) pair inside it when it is
//! an `mlsframe` identity.

use openmls::prelude::Credential;

use super::identity::MemberIdentity;

/// MLS credential type code of a basic credential (RFC 9420 §5.3).
pub const BASIC_CREDENTIAL: u16 = 0x0001;

/// A leaf's credential, raw: what an MLS implementation put in it.
///
/// Members created by this library carry a basic credential whose identity is the
/// [`MemberIdentity`] encoding; members from other MLS stacks carry whatever their
/// application chose (a basic credential with a plain name, say). Both are members alike:
/// the [`AdmissionPolicy`](super::policy::AdmissionPolicy) decides who gets in.
///
/// ```
/// use mlsframe::mls::credential::{BASIC_CREDENTIAL, MemberCredential};
/// use mlsframe::mls::identity::MemberIdentity;
///
/// let ours = MemberIdentity::new(b"alice".to_vec(), b"phone".to_vec()).unwrap();
/// let credential = MemberCredential::basic(ours.encode());
/// assert_eq!(credential.identity(), Some(ours));
/// let foreign = MemberCredential::basic(b"bot@example.org".to_vec());
/// assert_eq!(foreign.credential_type, BASIC_CREDENTIAL);
/// assert_eq!(foreign.identity(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberCredential {
    /// The MLS credential type (1 = basic, 2 = X.509, others from the IANA registry).
    pub credential_type: u16,
    /// The credential's content: a basic credential's identity bytes, or another type's
    /// serialized content (for X.509, the TLS-encoded certificate chain).
    pub content: Vec<u8>,
}

impl MemberCredential {
    /// A basic credential with these identity bytes.
    pub fn basic(identity: Vec<u8>) -> Self {
        Self {
            credential_type: BASIC_CREDENTIAL,
            content: identity,
        }
    }

    /// The `mlsframe` (user id, device id) this credential carries, if it is a basic
    /// credential in that encoding.
    pub fn identity(&self) -> Option<MemberIdentity> {
        if self.credential_type != BASIC_CREDENTIAL {
            return None;
        }
        MemberIdentity::decode(&self.content).ok()
    }

    pub(crate) fn of(credential: &Credential) -> Self {
        Self {
            credential_type: u16::from(credential.credential_type()),
            content: credential.serialized_content().to_vec(),
        }
    }
}
