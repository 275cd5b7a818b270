//! The media side of a session: SFrame keys per MLS epoch (RFC 9605 §5.2) and the
//! media handles built on them, [`Encryptor`] (our own streams) and [`Decryptor`]
//! (everyone else), which never wait on MLS work.
//!
//! It learns of epochs only through `EpochEvent`s
//! (`ring`); `encryptor` and `decryptor` keep the ring they last used and check its
//! generation per frame (one atomic load, no lock that MLS work holds), and a decrypted
//! frame takes one short lock of its own key's (see `ring` for which);
//! `held` keeps frames whose epoch has not arrived yet; `config` and `clock` say how long
//! keys are retained. Per-sender keys are derived lazily, so installing an epoch derives
//! no key; it builds the epoch's leaf table, one small entry per leaf.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::media::{Codec, FramingError};
use crate::mls::epoch_event::EpochSink;
use crate::mls::identity::MemberIdentity;
use crate::sframe::SframeError;

mod clock;
mod config;
mod decryptor;
mod encryptor;
mod held;
mod ring;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{MAX_LATE_FRAME_GRACE, MAX_SEND_SWITCH_DELAY, MediaConfig};
pub use decryptor::Decryptor;
pub use encryptor::Encryptor;
use ring::MediaShared;

/// Why a media operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// No key for this frame (yet): its epoch is not installed, or was already dropped.
    /// Recoverable: keep the stream; the frame may be held and released later.
    #[error("no key for this frame's epoch")]
    NoKey,
    /// We are not (or no longer) a member: nothing can be sealed.
    #[error("not a member of the group")]
    NotMember,
    /// The KID names no other member's leaf in its epoch.
    #[error("frame names no sender in its epoch")]
    UnknownSender,
    /// The sender has already moved to a newer epoch; older frames from it are refused.
    #[error("sender has moved to a newer epoch")]
    Superseded,
    /// Too many distinct streams in one epoch.
    #[error("too many streams in this epoch")]
    TooManyStreams,
    /// Another encryptor already owns this stream context.
    #[error("stream context already has an encryptor")]
    ContextInUse,
    /// The stream context does not fit in the KID for this epoch (`< 2^(64-S-E)`).
    #[error("stream context too large for the KID")]
    ContextTooLarge,
    /// The session was restored from a snapshot: send counters were not saved, so it must
    /// self-update (and have that commit confirmed) before it seals anything.
    #[error("self-update required before sending")]
    RekeyRequired,
    /// A [`MediaConfig`] value is out of range.
    #[error("invalid media configuration: {0}")]
    InvalidConfig(&'static str),
    /// An SFrame-level failure (authentication, replay, malformed, buffer size, counter).
    #[error(transparent)]
    Sframe(#[from] SframeError),
    /// A codec-aware framing failure (`docs/FRAMING.md`): unsupported codec, malformed
    /// layout, start-code emulation, layout too large. Never [`FramingError::Sframe`]
    /// (those convert to [`MediaError::Sframe`]).
    #[error(transparent)]
    Framing(FramingError),
}

impl From<FramingError> for MediaError {
    fn from(e: FramingError) -> Self {
        match e {
            FramingError::Sframe(e) => MediaError::Sframe(e),
            e => MediaError::Framing(e),
        }
    }
}

/// Who sealed a frame, from its authenticated KID. "Claimed within the group": any member
/// holds the epoch's base key and could have sealed it (RFC 9605 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameSender {
    /// MLS epoch of the key.
    pub epoch: u64,
    /// The sender's leaf index in that epoch.
    pub leaf: u32,
    /// The sender's stream context (audio, video, screen...).
    pub context: u64,
}

/// A frame a [`Decryptor`] opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptedFrame {
    /// Plaintext bytes written.
    pub len: usize,
    /// Who sealed it.
    pub sender: FrameSender,
    /// The frame counter.
    pub ctr: u64,
}

/// Who held a leaf in an installed epoch, as the key ring knows it (see
/// [`Decryptor::holder_at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafHolder {
    /// A member whose credential is an `mlsframe` identity.
    Identity(Arc<MemberIdentity>),
    /// A member whose credential is not an `mlsframe` identity (another MLS stack's). The
    /// ring keeps no credential for it; the session's roster has it while the leaf is
    /// unchanged.
    Foreign,
}

/// A held frame released once its epoch arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleasedFrame {
    /// The plaintext.
    pub plaintext: Vec<u8>,
    /// Who sealed it.
    pub sender: FrameSender,
    /// The frame counter.
    pub ctr: u64,
    /// Who held the sender's leaf in the frame's epoch.
    pub identity: Option<Arc<MemberIdentity>>,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
}

/// Inlined (the per-frame path takes a stream's lock through this); `Mutex::lock` itself
/// stays a call in the `Decryptor` (the compiler's choice).
#[inline(always)]
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // State behind these locks is updated in single steps; a panic elsewhere cannot leave
    // it half-written.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The session's media key ring: hands out encryptors and decryptors.
///
/// Cloning is cheap; every clone, encryptor and decryptor shares one ring and stays valid
/// after the session is dropped (then [`MediaError::NoKey`] / [`MediaError::NotMember`]
/// once retained epochs expire).
#[derive(Clone)]
pub struct MediaKeys {
    shared: Arc<MediaShared>,
}

impl std::fmt::Debug for MediaKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ring = self.shared.ring.load();
        f.debug_struct("MediaKeys")
            .field("current_epoch", &ring.current)
            .field(
                "installed",
                &ring.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl MediaKeys {
    /// A ring with no epoch yet; `config` was checked by [`MediaConfig::validate`].
    pub(crate) fn new(config: MediaConfig) -> MediaKeys {
        MediaKeys {
            shared: Arc::new(MediaShared::new(config)),
        }
    }

    pub(crate) fn sink(&self) -> Arc<dyn EpochSink> {
        Arc::clone(&self.shared) as Arc<dyn EpochSink>
    }

    /// An encryptor for our own stream `context` (for example 0 = audio, 1 = video).
    ///
    /// # Errors
    /// [`MediaError::ContextInUse`] when another live encryptor owns `context`.
    pub fn encryptor(&self, context: u64) -> Result<Encryptor, MediaError> {
        Encryptor::new(&self.shared, context, Codec::Whole)
    }

    /// An encryptor for our own stream `context` that frames in mode `codec`
    /// (`docs/FRAMING.md`): codec headers stay clear and authenticated. Receivers open
    /// its frames with [`Decryptor::decrypt_codec`] and the same codec.
    ///
    /// # Errors
    /// [`MediaError::ContextInUse`] when another live encryptor owns `context`.
    pub fn encryptor_with_codec(
        &self,
        context: u64,
        codec: Codec,
    ) -> Result<Encryptor, MediaError> {
        Encryptor::new(&self.shared, context, codec)
    }

    /// A decryptor for every other member's frames. Each decryptor holds its own
    /// not-yet-openable frames (its clones share them); all of them share the session's
    /// keys and replay windows. Make one per thread that opens frames.
    pub fn decryptor(&self) -> Decryptor {
        Decryptor::new(&self.shared)
    }

    /// Tells the ring that receivers have the new epoch: encryptors waiting out
    /// [`MediaConfig::send_switch_delay`] switch now.
    pub fn receivers_ready(&self) {
        self.shared
            .receivers_ready
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// Epochs currently installed (retained, current and staged), oldest first.
    pub fn installed_epochs(&self) -> Vec<u64> {
        self.shared
            .ring
            .load()
            .epochs
            .iter()
            .map(|e| e.epoch)
            .collect()
    }

    /// Drops epochs whose retention has passed (also done on every MLS update).
    pub fn purge_expired(&self) {
        self.shared.update_ring(|_| {});
    }

    /// The identity that held `leaf` in `epoch`, while that epoch is installed. Reads the
    /// ring only: never waits for MLS work.
    pub fn identity_at(&self, epoch: u64, leaf: u32) -> Option<Arc<MemberIdentity>> {
        self.shared.ring.load().find_epoch(epoch)?.identity_at(leaf)
    }

    /// Highest accepted counter per KID of the current epoch (saved in snapshots).
    pub(crate) fn replay_highs(&self) -> Vec<(u64, u64)> {
        self.shared.replay_highs()
    }
}
