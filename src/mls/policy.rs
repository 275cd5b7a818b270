//! Admission policy: the hook through which the application vets the credentials of
//! members who join the group (by our own commits, by incoming commits, or in a welcome).

use super::identity::MemberIdentity;

/// A member presented to the [`AdmissionPolicy`] for approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The (user id, device id) the credential claims.
    pub identity: &'a MemberIdentity,
    /// The member's Ed25519 signature public key (32 bytes).
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
pub trait AdmissionPolicy: Send + Sync {
    /// Accept or refuse one candidate.
    fn admit(&self, candidate: &Candidate<'_>) -> Result<(), Refusal>;
}

/// A policy that admits every well-formed credential.
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
