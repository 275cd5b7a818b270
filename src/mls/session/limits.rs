//! Caps on untrusted MLS input: how many bytes a message, welcome or key package may have
//! (checked before parsing), how many proposals may wait for a commit, and how many
//! members a group may have. One [`Limits`] value per session.

use crate::mls::error::{MlsError, Result};

/// Caps on untrusted MLS input, checked by every [`Session`](super::Session) call that
/// takes MLS bytes. Each cap has its own error (see the fields).
///
/// The defaults serve groups of up to [`DEFAULT_MAX_MEMBERS`] devices with room to
/// spare; measured sizes are given with each default. Caps are local to this session,
/// not part of the group: give every member the same limits (the defaults), or a member
/// with lower caps will refuse, and be terminated by, commits the others accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message [`process`](super::Session::process) parses, in bytes
    /// ([`MlsError::MessageTooLarge`]). Also bounds the commits we create.
    pub max_message_bytes: usize,
    /// Largest welcome [`join`](super::Session::join) parses, in bytes
    /// ([`MlsError::WelcomeTooLarge`]). A welcome carries the whole ratchet tree, so this
    /// grows with the member cap. Also bounds the welcomes we create, and the group infos
    /// (and ratchet trees) [`join_by_external_commit`](super::Session::join_by_external_commit)
    /// parses and [`group_info`](super::Session::group_info) exports, which carry the tree
    /// too ([`MlsError::GroupInfoTooLarge`]).
    pub max_welcome_bytes: usize,
    /// Largest key package [`add_members`](super::Session::add_members) parses, in bytes
    /// ([`MlsError::KeyPackageTooLarge`]).
    pub max_key_package_bytes: usize,
    /// Most proposals kept waiting for a commit ([`MlsError::TooManyProposals`]).
    pub max_pending_proposals: usize,
    /// Most bytes (TLS-encoded proposals) kept waiting for a commit
    /// ([`MlsError::TooManyProposals`]).
    pub max_pending_proposal_bytes: usize,
    /// Most members (leaves) the group may have ([`MlsError::GroupFull`]; an incoming
    /// commit that would exceed it is a terminal
    /// [`Outcome::PolicyViolation`](super::Outcome::PolicyViolation)).
    pub max_members: usize,
}

/// Default member cap: 10,000 devices.
pub const DEFAULT_MAX_MEMBERS: usize = 10_000;

/// Default [`Limits::max_message_bytes`]: 2 MiB. Measured (short identities): a commit's
/// update path costs about 83 bytes per node of its resolution (at most one per other
/// member: 0.83 MB at 10,000 members) and each member it adds by value about 292 bytes
/// (2.3 KB with the longest identities); a 1,000-member group's largest commit, adding
/// 999 members at once, is 292 KB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 2 << 20;

/// Default [`Limits::max_welcome_bytes`]: 24 MiB. A welcome carries the ratchet tree:
/// measured, about 190 bytes per member plus the member's identity, and about 150 bytes
/// per member it adds (341 KB for a 1,000-member group created in one commit). At
/// 10,000 members with the longest identities (2 KiB each) that is about 23.9 MB.
pub const DEFAULT_MAX_WELCOME_BYTES: usize = 24 << 20;

/// Default [`Limits::max_key_package_bytes`]: 64 KiB. Measured, a key package is 292
/// bytes with a short identity and 2,327 bytes with the longest; the rest is headroom
/// for extensions.
pub const DEFAULT_MAX_KEY_PACKAGE_BYTES: usize = 64 << 10;

/// Default [`Limits::max_pending_proposals`]: 256. Honest groups commit proposals within
/// seconds; even a leave from every device of a large call is committed in batches.
pub const DEFAULT_MAX_PENDING_PROPOSALS: usize = 256;

/// Default [`Limits::max_pending_proposal_bytes`]: 256 KiB (a remove is 6 bytes, an add
/// 0.3 to 2.3 KB): room for about 110 adds with the longest identities.
pub const DEFAULT_MAX_PENDING_PROPOSAL_BYTES: usize = 256 << 10;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_welcome_bytes: DEFAULT_MAX_WELCOME_BYTES,
            max_key_package_bytes: DEFAULT_MAX_KEY_PACKAGE_BYTES,
            max_pending_proposals: DEFAULT_MAX_PENDING_PROPOSALS,
            max_pending_proposal_bytes: DEFAULT_MAX_PENDING_PROPOSAL_BYTES,
            max_members: DEFAULT_MAX_MEMBERS,
        }
    }
}

impl Limits {
    /// Check every cap is usable: each at least 1, and at least 2 members (a group of
    /// one cannot add anyone).
    ///
    /// # Errors
    /// [`MlsError::InvalidConfig`] naming the first cap out of range.
    pub fn validate(&self) -> Result<()> {
        let nonzero = [
            (
                self.max_message_bytes,
                "max_message_bytes must be at least 1",
            ),
            (
                self.max_welcome_bytes,
                "max_welcome_bytes must be at least 1",
            ),
            (
                self.max_key_package_bytes,
                "max_key_package_bytes must be at least 1",
            ),
            (
                self.max_pending_proposals,
                "max_pending_proposals must be at least 1",
            ),
            (
                self.max_pending_proposal_bytes,
                "max_pending_proposal_bytes must be at least 1",
            ),
        ];
        for (value, why) in nonzero {
            if value == 0 {
                return Err(MlsError::InvalidConfig(why));
            }
        }
        if self.max_members < 2 {
            return Err(MlsError::InvalidConfig("max_members must be at least 2"));
        }
        Ok(())
    }

    /// `len` bytes of a message for [`process`](super::Session::process).
    pub(super) fn check_message(&self, len: usize) -> Result<()> {
        if len > self.max_message_bytes {
            return Err(MlsError::MessageTooLarge);
        }
        Ok(())
    }

    /// `len` bytes of a welcome for [`join`](super::Session::join).
    pub(super) fn check_welcome(&self, len: usize) -> Result<()> {
        if len > self.max_welcome_bytes {
            return Err(MlsError::WelcomeTooLarge);
        }
        Ok(())
    }

    /// `len` bytes of a key package for [`add_members`](super::Session::add_members).
    pub(super) fn check_key_package(&self, len: usize) -> Result<()> {
        if len > self.max_key_package_bytes {
            return Err(MlsError::KeyPackageTooLarge);
        }
        Ok(())
    }

    /// A group of `members` leaves.
    pub(super) fn check_members(&self, members: usize) -> Result<()> {
        if members > self.max_members {
            return Err(MlsError::GroupFull);
        }
        Ok(())
    }

    /// One more proposal of `bytes` on top of `count` pending ones of `pending_bytes`.
    pub(super) fn check_pending(
        &self,
        count: usize,
        pending_bytes: usize,
        bytes: usize,
    ) -> Result<()> {
        if count >= self.max_pending_proposals
            || pending_bytes.saturating_add(bytes) > self.max_pending_proposal_bytes
        {
            return Err(MlsError::TooManyProposals);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_zero_caps_do_not() {
        let d = Limits::default();
        assert_eq!(d.validate(), Ok(()));
        assert_eq!(d.max_members, 10_000);
        for broken in [
            Limits {
                max_message_bytes: 0,
                ..d
            },
            Limits {
                max_welcome_bytes: 0,
                ..d
            },
            Limits {
                max_key_package_bytes: 0,
                ..d
            },
            Limits {
                max_pending_proposals: 0,
                ..d
            },
            Limits {
                max_pending_proposal_bytes: 0,
                ..d
            },
            Limits {
                max_members: 1,
                ..d
            },
        ] {
            assert!(matches!(broken.validate(), Err(MlsError::InvalidConfig(_))));
        }
    }

    #[test]
    fn caps_are_inclusive() {
        let l = Limits {
            max_message_bytes: 10,
            max_welcome_bytes: 20,
            max_key_package_bytes: 30,
            max_pending_proposals: 2,
            max_pending_proposal_bytes: 100,
            max_members: 3,
        };
        assert_eq!(l.check_message(10), Ok(()));
        assert_eq!(l.check_message(11), Err(MlsError::MessageTooLarge));
        assert_eq!(l.check_welcome(20), Ok(()));
        assert_eq!(l.check_welcome(21), Err(MlsError::WelcomeTooLarge));
        assert_eq!(l.check_key_package(30), Ok(()));
        assert_eq!(l.check_key_package(31), Err(MlsError::KeyPackageTooLarge));
        assert_eq!(l.check_members(3), Ok(()));
        assert_eq!(l.check_members(4), Err(MlsError::GroupFull));
        assert_eq!(l.check_pending(1, 50, 50), Ok(()));
        assert_eq!(l.check_pending(2, 0, 1), Err(MlsError::TooManyProposals));
        assert_eq!(l.check_pending(1, 50, 51), Err(MlsError::TooManyProposals));
        assert_eq!(
            l.check_pending(0, usize::MAX, 1),
            Err(MlsError::TooManyProposals)
        );
    }
}
