//! The one channel from MLS to media: what happened to a session's epochs, as
//! [`EpochEvent`]s carrying the RFC 9605 §5.2 base key and the epoch's roster.
//!
//! The session (`session/`) emits events into an [`EpochSink`]; the media key ring
//! (`media/`) is the sink. Both depend on this module and neither on the other, and the
//! sink consumes events through one exhaustive `match`, so a new session state cannot be
//! added without deciding its media effect.

use core::fmt;
use std::collections::HashMap;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::identity::MemberIdentity;

/// The group-wide SFrame layout of an epoch, as the media side needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SframeLayout {
    /// SFrame cipher suite (RFC 9605 §4.5).
    pub suite: u16,
    /// E: low epoch bits in the KID (2..=16).
    pub epoch_bits: u8,
}

/// Keys and roster of one epoch, handed to the media key ring.
pub(crate) struct EpochSecrets {
    /// MLS epoch number.
    pub epoch: u64,
    /// `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`.
    pub base_key: Zeroizing<Vec<u8>>,
    /// Occupied leaf indices in this epoch, ascending.
    pub occupied_leaves: Vec<u32>,
    /// Who holds each occupied leaf in this epoch (leaves whose credential is not an
    /// `mlsframe` identity are absent). Frames of this epoch are attributed through this
    /// map, never through a later roster.
    pub identities: HashMap<u32, Arc<MemberIdentity>>,
    /// Our own leaf index in this epoch.
    pub own_leaf: u32,
    /// Whether the commit creating this epoch removed someone.
    pub removed_someone: bool,
    /// The group-wide SFrame parameters.
    pub layout: SframeLayout,
    /// False for an epoch of a session restored from a snapshot whose own self-update has
    /// not merged yet: its send counters are unknown, so nothing may be sealed in it.
    pub may_send: bool,
}

impl fmt::Debug for EpochSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochSecrets")
            .field("epoch", &self.epoch)
            .field("occupied_leaves", &self.occupied_leaves)
            .field("own_leaf", &self.own_leaf)
            .field("removed_someone", &self.removed_someone)
            .field("may_send", &self.may_send)
            .finish_non_exhaustive()
    }
}

/// Everything a session tells its media key ring. Each variant has exactly one media
/// effect (see the ring's `apply`).
#[derive(Debug)]
pub(crate) enum EpochEvent {
    /// A new group begins (create or join): forget every earlier group's epochs, then seal
    /// and open in this one.
    Started(EpochSecrets),
    /// A session was rebuilt from a snapshot: like `Started`, with sealing refused until
    /// our own self-update merges (`may_send` is false), and every counter at or below
    /// the snapshot's highest accepted one refused per KID.
    Restored {
        /// The restored epoch.
        secrets: EpochSecrets,
        /// Highest counter accepted per KID of that epoch before the snapshot.
        replay_floors: HashMap<u64, u64>,
    },
    /// A commit was staged (an incoming one before its merge, or our own pending one):
    /// open frames of the next epoch, seal nothing in it yet.
    Staged(EpochSecrets),
    /// Our external commit joined a group and awaits confirmation: forget every earlier
    /// group's epochs (as `Started`), then open frames of the epoch it creates but seal
    /// nothing in it until it is `Merged` (or `Discarded`, leaving no group at all).
    Joining(EpochSecrets),
    /// The staged commit for `epoch` lost the race or was discarded: drop its keys.
    Discarded {
        /// The epoch the commit would have created.
        epoch: u64,
    },
    /// A commit merged: this epoch is current; senders switch to it.
    Merged(EpochSecrets),
    /// A commit removed us. Terminal.
    Removed,
    /// An incoming commit broke the admission policy; we can no longer follow the group.
    /// Terminal.
    Terminated,
    /// The session was dropped while in a group. Terminal.
    Dropped,
}

/// Receiver of a session's epoch events (implemented by the media key ring).
pub(crate) trait EpochSink: Send + Sync {
    /// Applies one event.
    fn apply(&self, event: EpochEvent);
}
