//! Admission policy: the hook through which the application vets the credentials of
//! members who join the group (by our own commits, by incoming commits, external
//! commits and proposals, or in a welcome).

use super::credential::MemberCredential;
use super::identity::MemberIdentity;

/// A member presented to the [`AdmissionPolicy`] for approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The (user id, device id) the credential claims, when it is an `mlsframe`
    /// identity; `None` for a credential from another MLS stack (see `credential`).
    pub identity: Option<&'a MemberIdentity>,
    /// The raw credential, whatever its type or encoding.
    pub credential: &'a MemberCredential,
    /// The member's signature public key (Ed25519: 32 bytes; P-256: 65-byte
    /// uncompressed point).
    pub signature_key: &'a [u8],
    /// Human-comparable fingerprint of `signature_key` (see [`super::identity::fingerprint`]).
    pub fingerprint: String,
}

/// Why a candidate was refused. The text is chosen by the application and is reported
/// back in errors and outcomes; it must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Application-provided validation of new members' credentials.
///
/// Refusing a member in a commit we would create is an error and changes nothing.
/// Refusing a member in an incoming commit the delivery service already sequenced
/// is terminal for the session (`Outcome::PolicyViolation`): the app must leave or rejoin.
/// A credential that is not an `mlsframe` identity is never refused by the library
/// itself: the policy sees it raw and decides.
pub trait AdmissionPolicy: Send + Sync {
    /// Accept or refuse one candidate.
    fn admit(&self, candidate: &Candidate<'_>) -> Result<(), Refusal>;
}

/// A policy that admits every credential, ours or foreign.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdmitAll;

impl AdmissionPolicy for AdmitAll {
    fn admit(&self, _candidate: &Candidate<'_>) -> Result<(), Refusal> {
        Ok(())
    }
}

impl<F> AdmissionPolicy for F
where
    F: Fn(&Candidate<'_>) -> Result<(), Refusal> + Send + Sync,
{
    fn admit(&self, candidate: &Candidate<'_>) -> Result<(), Refusal> {
        self(candidate)
    }
}
