//! Caps on untrusted MLS input: how many proposals may wait for a commit, and how many
//! bytes they may hold. One [`Limits`] value per session.

use crate::mls::error::{MlsError, Result};

/// Caps on untrusted MLS input, checked by every [`Session`](super::Session) call that
/// takes MLS bytes. Each cap has its own error (see the fields).
///
/// Caps are local to this session, not part of the group: give every member the same
/// limits (the defaults), so that all refuse the same proposals and no commit names a
/// proposal some member did not keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most proposals kept waiting for a commit ([`MlsError::TooManyProposals`]).
    pub max_pending_proposals: usize,
    /// Most bytes (TLS-encoded proposals) kept waiting for a commit
    /// ([`MlsError::TooManyProposals`]).
    pub max_pending_proposal_bytes: usize,
}

/// Default [`Limits::max_pending_proposals`]: 256. Honest groups commit proposals within
/// seconds; even a leave from every device of a large call is committed in batches.
pub const DEFAULT_MAX_PENDING_PROPOSALS: usize = 256;

/// Default [`Limits::max_pending_proposal_bytes`]: 256 KiB (a remove is 6 bytes, an add
/// 0.3 to 2.3 KB): room for about 110 adds with the longest identities.
pub const DEFAULT_MAX_PENDING_PROPOSAL_BYTES: usize = 256 << 10;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_pending_proposals: DEFAULT_MAX_PENDING_PROPOSALS,
            max_pending_proposal_bytes: DEFAULT_MAX_PENDING_PROPOSAL_BYTES,
        }
    }
}

impl Limits {
    /// Check every cap is usable: each at least 1.
    ///
    /// # Errors
    /// [`MlsError::InvalidConfig`] naming the first cap out of range.
    pub fn validate(&self) -> Result<()> {
        let nonzero = [
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
        for broken in [
            Limits {
                max_pending_proposals: 0,
                ..d
            },
            Limits {
                max_pending_proposal_bytes: 0,
                ..d
            },
        ] {
            assert!(matches!(broken.validate(), Err(MlsError::InvalidConfig(_))));
        }
    }

    #[test]
    fn caps_are_inclusive() {
        let l = Limits {
            max_pending_proposals: 2,
            max_pending_proposal_bytes: 100,
        };
        assert_eq!(l.check_pending(1, 50, 50), Ok(()));
        assert_eq!(l.check_pending(2, 0, 1), Err(MlsError::TooManyProposals));
        assert_eq!(l.check_pending(1, 50, 51), Err(MlsError::TooManyProposals));
        assert_eq!(
            l.check_pending(0, usize::MAX, 1),
            Err(MlsError::TooManyProposals)
        );
    }
}
