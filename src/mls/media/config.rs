//! How a media key ring retains and switches epochs, with the limits it enforces.

use std::sync::Arc;
use std::time::Duration;

use super::MediaError;
use super::clock::{Clock, SystemClock};
use crate::sframe::ReplayWindow;

/// How the media key ring retains and switches epochs.
#[derive(Clone)]
pub struct MediaConfig {
    /// How long a superseded epoch still opens in-flight frames (default 10 s). After it,
    /// the ring drops the epoch at the next MLS update or
    /// [`MediaKeys::purge_expired`](super::MediaKeys::purge_expired); its keys are wiped
    /// once no handle holds them (a handle lets go at its next frame or when dropped, so
    /// drop the handles of a stream that has ended).
    pub retention: Duration,
    /// Retention after a commit that removed someone (default 1 s).
    pub retention_after_removal: Duration,
    /// How long the sender keeps sealing with the old epoch after a merge, so receivers
    /// can install the new one (default 0: switch at once; at most
    /// [`MAX_SEND_SWITCH_DELAY`]). [`Encryptor`](super::Encryptor) switches earlier when the app calls
    /// [`MediaKeys::receivers_ready`](super::MediaKeys::receivers_ready), and never waits after a commit that removed
    /// someone: a removed member must not open anything sealed after its removal.
    pub send_switch_delay: Duration,
    /// Replay window per KID (default 128 counters).
    pub replay_window: u64,
    /// How long after a sender's first frame in a newer epoch its older-epoch frames that
    /// were merely late still open (default 100 ms, at most [`MAX_LATE_FRAME_GRACE`]).
    /// Only frames whose counter is below the highest already accepted on that stream
    /// qualify (they were sealed before the switch), and none at all once a commit that
    /// removed anyone lies between the two epochs.
    pub late_frame_grace: Duration,
    /// Most sender streams (KIDs) a decryptor keeps per epoch (default 1024).
    pub max_streams_per_epoch: usize,
    /// Most frames held back while their epoch is not yet installed (default 64).
    pub max_held_frames: usize,
    /// Most bytes held back in total (default 1 MiB). Held frames are not yet
    /// authenticated (their key has not arrived), so this bounds what anyone on the media
    /// path can make the decryptor keep.
    pub max_held_bytes: usize,
    /// The clock used for retention.
    pub clock: Arc<dyn Clock>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            retention: Duration::from_secs(10),
            retention_after_removal: Duration::from_secs(1),
            send_switch_delay: Duration::ZERO,
            replay_window: crate::sframe::DEFAULT_REPLAY_WINDOW,
            late_frame_grace: Duration::from_millis(100),
            max_streams_per_epoch: 1024,
            max_held_frames: 64,
            max_held_bytes: 1 << 20,
            clock: Arc::new(SystemClock::default()),
        }
    }
}

/// The longest [`MediaConfig::send_switch_delay`] accepted: the old epoch's key stays in
/// use for at most this long after a commit (and not at all after a removal).
pub const MAX_SEND_SWITCH_DELAY: Duration = Duration::from_secs(5);

/// The longest [`MediaConfig::late_frame_grace`] accepted.
pub const MAX_LATE_FRAME_GRACE: Duration = Duration::from_secs(1);

impl MediaConfig {
    /// Checks every value is in range.
    ///
    /// # Errors
    /// [`MediaError::InvalidConfig`] naming the first value out of range.
    pub fn validate(&self) -> Result<(), MediaError> {
        if self.send_switch_delay > MAX_SEND_SWITCH_DELAY {
            return Err(MediaError::InvalidConfig(
                "send_switch_delay exceeds MAX_SEND_SWITCH_DELAY",
            ));
        }
        if self.late_frame_grace > MAX_LATE_FRAME_GRACE {
            return Err(MediaError::InvalidConfig(
                "late_frame_grace exceeds MAX_LATE_FRAME_GRACE",
            ));
        }
        if ReplayWindow::new(self.replay_window).is_err() {
            return Err(MediaError::InvalidConfig("replay_window must be 1..=65536"));
        }
        Ok(())
    }
}

impl std::fmt::Debug for MediaConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaConfig")
            .field("retention", &self.retention)
            .field("retention_after_removal", &self.retention_after_removal)
            .field("send_switch_delay", &self.send_switch_delay)
            .field("replay_window", &self.replay_window)
            .field("late_frame_grace", &self.late_frame_grace)
            .field("max_streams_per_epoch", &self.max_streams_per_epoch)
            .finish_non_exhaustive()
    }
}
