//! The media key ring: SFrame keys per MLS epoch (RFC 9605 §5.2) and the lock-free media
//! handles built on it, [`Encryptor`] (our own streams) and [`Decryptor`] (everyone else).
//!
//! MLS work (on the signalling thread) only ever builds a new [`KeyRing`] and swaps it in
//! with one atomic store. Media threads load the ring without locking; the only locks on
//! the frame path are per-epoch caches and per-KID replay windows, which MLS work never
//! takes. Per-sender keys are derived lazily, so installing an epoch is O(1) in group size.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use zeroize::Zeroizing;

use super::session::{EpochSecrets, EpochSink};
use crate::sframe::{
    CipherSuite, FrameInput, FrameKey, Header, ReplayWindow, SendKey, SframeError,
};

/// A monotonic clock, injectable so tests can move time.
pub trait Clock: Send + Sync {
    /// Time elapsed since an arbitrary fixed origin.
    fn now(&self) -> Duration;
}

/// The real monotonic clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock(Instant::now())
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A clock that moves only when told to (for tests and simulations).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.0.fetch_add(ms, Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.load(Ordering::Relaxed))
    }
}

/// How the media key ring retains and switches epochs.
#[derive(Clone)]
pub struct MediaConfig {
    /// How long a superseded epoch still opens in-flight frames (default 10 s).
    pub retention: Duration,
    /// Retention after a commit that removed someone (default 1 s).
    pub retention_after_removal: Duration,
    /// How long the sender keeps sealing with the old epoch after a merge, so receivers
    /// can install the new one (default 0: switch at once; at most
    /// [`MAX_SEND_SWITCH_DELAY`]). [`Encryptor`] switches earlier when the app calls
    /// [`MediaKeys::receivers_ready`], and never waits after a commit that removed
    /// someone: a removed member must not open anything sealed after its removal.
    pub send_switch_delay: Duration,
    /// Replay window per KID (default 128 counters).
    pub replay_window: u64,
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
            .field("max_streams_per_epoch", &self.max_streams_per_epoch)
            .finish_non_exhaustive()
    }
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecryptedFrame {
    /// Plaintext bytes written.
    pub len: usize,
    /// Who sealed it.
    pub sender: FrameSender,
    /// The frame counter.
    pub ctr: u64,
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
}

/// The smallest S with `highest_leaf + 1 <= 2^S`.
fn leaf_bits(occupied: &[u32]) -> u32 {
    let highest = occupied.iter().copied().max().unwrap_or(0);
    u64::from(highest).checked_ilog2().map_or(0, |l| l + 1)
}

/// One decrypt stream: a KID's key and replay window.
struct Stream {
    key: FrameKey,
    replay: Mutex<ReplayWindow>,
}

/// The keys of one MLS epoch.
struct EpochKeys {
    /// Which group this epoch belongs to: bumped whenever the session starts a new group.
    incarnation: u64,
    epoch: u64,
    suite: CipherSuite,
    base_key: Zeroizing<Vec<u8>>,
    epoch_bits: u32,
    leaf_bits: u32,
    occupied: HashSet<u32>,
    own_leaf: Option<u32>,
    /// False while a restored session has not rekeyed (see `EpochSecrets::may_send`);
    /// raised when its own self-update is merged.
    may_send: AtomicBool,
    /// When retention ends, in nanoseconds of the ring's clock (`u64::MAX`: not yet
    /// superseded). Atomic, so MLS work never takes a lock the media path needs.
    expires_at: AtomicU64,
    /// Streams whose tag verified, by KID.
    streams: Mutex<HashMap<u64, Arc<Stream>>>,
    /// Our send keys by stream context: one per (epoch, context) for the ring's whole life,
    /// so a counter is never restarted, whichever encryptor or thread seals.
    send_keys: Mutex<HashMap<u64, Arc<SendKey>>>,
}

impl EpochKeys {
    fn new(s: EpochSecrets, suite: CipherSuite, incarnation: u64) -> EpochKeys {
        EpochKeys {
            incarnation,
            epoch: s.epoch,
            suite,
            epoch_bits: u32::from(s.params.epoch_bits),
            leaf_bits: leaf_bits(&s.occupied_leaves),
            occupied: s.occupied_leaves.into_iter().collect(),
            own_leaf: s.own_leaf,
            may_send: AtomicBool::new(s.may_send),
            base_key: s.base_key,
            expires_at: AtomicU64::new(u64::MAX),
            streams: Mutex::new(HashMap::new()),
            send_keys: Mutex::new(HashMap::new()),
        }
    }

    /// The send key for our stream `context` in this epoch, derived on first use.
    fn send_key(&self, context: u64) -> Result<Arc<SendKey>, MediaError> {
        let leaf = self.own_leaf.ok_or(MediaError::NotMember)?;
        if !self.may_send.load(Ordering::Acquire) {
            return Err(MediaError::RekeyRequired);
        }
        let kid = self.kid(leaf, context)?;
        let mut keys = lock(&self.send_keys);
        Ok(Arc::clone(keys.entry(context).or_insert_with(|| {
            Arc::new(SendKey::new(self.suite, kid, &self.base_key))
        })))
    }

    fn low_bits(&self) -> u64 {
        self.epoch & ((1u64 << self.epoch_bits) - 1)
    }

    fn kid(&self, leaf: u32, context: u64) -> Result<u64, MediaError> {
        let shift = self.leaf_bits + self.epoch_bits;
        if shift < 64 && context >> (64 - shift) != 0 {
            return Err(MediaError::ContextTooLarge);
        }
        let context_part = if shift >= 64 { 0 } else { context << shift };
        Ok(context_part | (u64::from(leaf) << self.epoch_bits) | self.low_bits())
    }

    fn sender_of(&self, kid: u64) -> FrameSender {
        let leaf_mask = (1u64 << self.leaf_bits) - 1;
        let shift = self.leaf_bits + self.epoch_bits;
        FrameSender {
            epoch: self.epoch,
            leaf: u32::try_from((kid >> self.epoch_bits) & leaf_mask).unwrap_or(u32::MAX),
            context: if shift >= 64 { 0 } else { kid >> shift },
        }
    }

    fn expired(&self, now: Duration) -> bool {
        nanos(now) >= self.expires_at.load(Ordering::Acquire)
    }

    /// Ends retention at `until` at the latest.
    fn expire_by(&self, until: Duration) {
        self.expires_at.fetch_min(nanos(until), Ordering::AcqRel);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // State behind these locks is updated in single steps; a panic elsewhere cannot leave
    // it half-written.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An immutable snapshot of installed epochs, swapped atomically by MLS work.
#[derive(Default)]
struct KeyRing {
    /// Installed epochs, newest last: past ones (retained), the current one, a staged one.
    epochs: Vec<Arc<EpochKeys>>,
    /// The epoch the group is in (merged), if any.
    current: Option<u64>,
    /// The epoch our encryptors seal with, and from when the next one takes over.
    send: Option<Arc<EpochKeys>>,
    send_next: Option<(Arc<EpochKeys>, Duration)>,
    /// We were removed: nothing more is sealed.
    removed: bool,
    /// Highest epoch in which each leaf's frame authenticated (this group only: a reset
    /// starts a new map instead of clearing this one, so MLS work never locks it).
    newest_by_leaf: Arc<Mutex<HashMap<u32, u64>>>,
}

impl KeyRing {
    fn find(&self, low_bits: u64) -> Option<&Arc<EpochKeys>> {
        self.epochs.iter().rev().find(|e| e.low_bits() == low_bits)
    }

    fn find_epoch(&self, epoch: u64) -> Option<&Arc<EpochKeys>> {
        self.epochs.iter().find(|e| e.epoch == epoch)
    }
}

/// Shared between the session's sink, its encryptors and its decryptors.
pub(crate) struct MediaShared {
    config: MediaConfig,
    ring: ArcSwap<KeyRing>,
    /// Serializes MLS-side ring updates (the media path never takes it).
    update: Mutex<()>,
    /// Stream contexts owned by live encryptors.
    contexts: Mutex<HashSet<u64>>,
    /// Frames waiting for their epoch.
    held: Mutex<HeldFrames>,
    /// Set by the app when receivers have the new epoch.
    receivers_ready: AtomicBool,
    /// Counts the groups this ring has served (see [`EpochKeys::incarnation`]).
    incarnation: AtomicU64,
}

#[derive(Default)]
struct HeldFrames {
    frames: VecDeque<(Vec<u8>, Vec<u8>)>,
    bytes: usize,
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
            shared: Arc::new(MediaShared {
                config,
                ring: ArcSwap::from_pointee(KeyRing::default()),
                update: Mutex::new(()),
                contexts: Mutex::new(HashSet::new()),
                held: Mutex::new(HeldFrames::default()),
                receivers_ready: AtomicBool::new(false),
                incarnation: AtomicU64::new(0),
            }),
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
        if !lock(&self.shared.contexts).insert(context) {
            return Err(MediaError::ContextInUse);
        }
        Ok(Encryptor {
            shared: Arc::clone(&self.shared),
            context,
            current: ArcSwapOption::empty(),
            key_frame_needed: AtomicBool::new(false),
        })
    }

    /// A decryptor for every other member's frames.
    pub fn decryptor(&self) -> Decryptor {
        Decryptor {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Tells the ring that receivers have the new epoch: encryptors waiting out
    /// [`MediaConfig::send_switch_delay`] switch now.
    pub fn receivers_ready(&self) {
        self.shared.receivers_ready.store(true, Ordering::Release);
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
}

impl MediaShared {
    fn now(&self) -> Duration {
        self.config.clock.now()
    }

    /// Builds the next ring from the current one and swaps it in.
    fn update_ring(&self, change: impl FnOnce(&mut KeyRing)) {
        let _serial = lock(&self.update);
        let old = self.ring.load_full();
        let mut next = KeyRing {
            epochs: old.epochs.clone(),
            current: old.current,
            send: old.send.clone(),
            send_next: old.send_next.clone(),
            removed: old.removed,
            newest_by_leaf: Arc::clone(&old.newest_by_leaf),
        };
        change(&mut next);
        let now = self.now();
        next.epochs.retain(|e| !e.expired(now));
        self.ring.store(Arc::new(next));
    }

    fn suite_of(s: &EpochSecrets) -> Option<CipherSuite> {
        CipherSuite::try_from(s.params.sframe_suite).ok()
    }

    fn insert_epoch(ring: &mut KeyRing, keys: Arc<EpochKeys>) {
        // Keep past + current + pending below 2^E, so every low-bits value names one epoch
        // and one is always free for the next: a newer epoch evicts the one whose low E
        // bits it reuses and anything 2^E - 1 or more epochs older.
        let bits = keys.low_bits();
        let span = (1u64 << keys.epoch_bits) - 1;
        ring.epochs.retain(|e| {
            e.epoch != keys.epoch
                && e.low_bits() != bits
                && (e.epoch > keys.epoch || keys.epoch - e.epoch < span)
        });
        ring.epochs.push(keys);
    }
}

impl EpochSink for MediaShared {
    fn stage(&self, s: EpochSecrets) {
        let Some(suite) = Self::suite_of(&s) else {
            return;
        };
        let keys = Arc::new(EpochKeys::new(
            s,
            suite,
            self.incarnation.load(Ordering::Acquire),
        ));
        self.update_ring(|ring| Self::insert_epoch(ring, keys));
    }

    fn unstage(&self, epoch: u64) {
        self.update_ring(|ring| {
            if ring.current != Some(epoch) {
                ring.epochs.retain(|e| e.epoch != epoch);
            }
        });
    }

    fn activate(&self, s: EpochSecrets) {
        let Some(suite) = Self::suite_of(&s) else {
            return;
        };
        let now = self.now();
        let retention = if s.removed_someone {
            self.config.retention_after_removal
        } else {
            self.config.retention
        };
        // After a removal nobody waits: the removed member holds the old epoch's key.
        let delay = if s.removed_someone {
            Duration::ZERO
        } else {
            self.config.send_switch_delay.min(MAX_SEND_SWITCH_DELAY)
        };
        let ready = self.receivers_ready.swap(false, Ordering::AcqRel);
        self.update_ring(|ring| {
            // A switch still waiting is overtaken: its epoch becomes the one we send in
            // until the new one is due.
            if let Some((next, at)) = ring.send_next.take()
                && (ready || now >= at || ring.send.is_none())
            {
                ring.send = Some(next);
            }
            // Reuse the staged keys (and the streams they verified) when present; merging a
            // restored session's own self-update lets it send again.
            let keys = match ring.find_epoch(s.epoch) {
                Some(k) => {
                    if s.may_send {
                        k.may_send.store(true, Ordering::Release);
                    }
                    Arc::clone(k)
                }
                None => {
                    let k = Arc::new(EpochKeys::new(
                        s,
                        suite,
                        self.incarnation.load(Ordering::Acquire),
                    ));
                    Self::insert_epoch(ring, Arc::clone(&k));
                    k
                }
            };
            for e in ring.epochs.iter().filter(|e| e.epoch < keys.epoch) {
                e.expire_by(now + retention);
            }
            ring.epochs.retain(|e| e.epoch <= keys.epoch);
            ring.current = Some(keys.epoch);
            ring.removed = false;
            match (&ring.send, delay.is_zero()) {
                (Some(_), false) => ring.send_next = Some((keys, now + delay)),
                _ => {
                    ring.send = Some(keys);
                    ring.send_next = None;
                }
            }
        });
    }

    fn reset(&self) {
        self.incarnation.fetch_add(1, Ordering::AcqRel);
        self.update_ring(|ring| *ring = KeyRing::default());
        *lock(&self.held) = HeldFrames::default();
        self.receivers_ready.store(false, Ordering::Release);
    }

    fn removed(&self) {
        let now = self.now();
        let retention = self.config.retention_after_removal;
        self.update_ring(|ring| {
            for e in &ring.epochs {
                e.expire_by(now + retention);
            }
            ring.removed = true;
            ring.send = None;
            ring.send_next = None;
        });
    }
}

/// The send key of one epoch for one encryptor.
struct EpochSendKey {
    incarnation: u64,
    epoch: u64,
    key: Arc<SendKey>,
}

impl EpochSendKey {
    /// Whether this key may stand in for `keys`: same group, and not older (the encryptor
    /// never moves back to an older epoch).
    fn covers(&self, keys: &EpochKeys) -> bool {
        self.incarnation == keys.incarnation && self.epoch >= keys.epoch
    }
}

/// Seals our own frames for one stream context. `Send + Sync`; never blocks on MLS work.
///
/// Frames are sealed under the current epoch's key for KID
/// `(context << (S+E)) + (own_leaf << E) + (epoch mod 2^E)`; when the epoch changes the
/// next frame uses the new key and [`take_key_frame_request`](Self::take_key_frame_request)
/// returns true once, so the app can send a key frame.
pub struct Encryptor {
    shared: Arc<MediaShared>,
    context: u64,
    current: ArcSwapOption<EpochSendKey>,
    key_frame_needed: AtomicBool,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Drop for Encryptor {
    fn drop(&mut self) {
        lock(&self.shared.contexts).remove(&self.context);
    }
}

impl Encryptor {
    /// The stream context this encryptor owns.
    pub fn context(&self) -> u64 {
        self.context
    }

    /// The epoch the next frame will be sealed in, if any.
    pub fn epoch(&self) -> Option<u64> {
        self.send_epoch().map(|e| e.epoch)
    }

    fn send_epoch(&self) -> Option<Arc<EpochKeys>> {
        let ring = self.shared.ring.load();
        if ring.removed {
            return None;
        }
        if let Some((next, at)) = &ring.send_next
            && (self.shared.now() >= *at || self.shared.receivers_ready.load(Ordering::Acquire))
        {
            return Some(Arc::clone(next));
        }
        ring.send.clone()
    }

    /// The send key for the current epoch. Keys live in the epoch (one per context), so
    /// racing threads and successive encryptors share one counter; the cache here only
    /// saves the lookup, and never moves back to an older epoch.
    fn send_key(&self) -> Result<Arc<EpochSendKey>, MediaError> {
        let epoch = self.send_epoch().ok_or(MediaError::NotMember)?;
        let cached = self.current.load_full();
        if let Some(k) = &cached
            && k.covers(&epoch)
        {
            return Ok(Arc::clone(k));
        }
        let fresh = Arc::new(EpochSendKey {
            incarnation: epoch.incarnation,
            epoch: epoch.epoch,
            key: epoch.send_key(self.context)?,
        });
        let previous = self
            .current
            .compare_and_swap(&cached, Some(Arc::clone(&fresh)));
        if same(&previous, &cached) {
            if cached.is_some() {
                self.key_frame_needed.store(true, Ordering::Release);
            }
            return Ok(fresh);
        }
        // Another thread moved the cache first; use whichever epoch is newer.
        match self.current.load_full() {
            Some(k) if k.covers(&epoch) => Ok(k),
            _ => Ok(fresh),
        }
    }

    /// Upper bound on the sealed size of `plaintext_len` bytes (any KID and counter).
    pub fn max_ciphertext_len(&self, plaintext_len: usize) -> Option<usize> {
        let suite = self
            .send_epoch()
            .map_or(CipherSuite::Aes128GcmSha256_128, |e| e.suite);
        crate::sframe::max_frame_len(suite, plaintext_len)
    }

    /// Seals `frame` into `out`; returns the bytes written.
    ///
    /// # Errors
    /// [`MediaError::NotMember`] before joining or after removal,
    /// [`MediaError::ContextTooLarge`], and SFrame errors (buffer too small, counter
    /// exhausted).
    pub fn encrypt(
        &self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<usize, MediaError> {
        let key = self.send_key()?;
        Ok(key.key.encrypt(metadata, frame, out)?)
    }

    /// Seals in place: `buf[..len]` holds the frame and `buf` has room for header and tag.
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt).
    pub fn encrypt_in_place(
        &self,
        metadata: &[u8],
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, MediaError> {
        let key = self.send_key()?;
        Ok(key.key.encrypt_in_place(metadata, buf, len)?)
    }

    /// Whether the sender's epoch changed since the last call (send a key frame).
    pub fn take_key_frame_request(&self) -> bool {
        self.key_frame_needed.swap(false, Ordering::AcqRel)
    }
}

fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Opens other members' frames. `Send + Sync`; never blocks on MLS work.
#[derive(Clone)]
pub struct Decryptor {
    shared: Arc<MediaShared>,
}

impl std::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decryptor").finish_non_exhaustive()
    }
}

/// Where a frame's plaintext goes.
enum Target<'a> {
    Separate(&'a [u8], &'a mut [u8]),
    InPlace(&'a mut [u8]),
}

impl Decryptor {
    /// Opens `frame` into `out` (at least `frame.len()` bytes suffice).
    ///
    /// # Errors
    /// [`MediaError::NoKey`] (recoverable; the frame is held if its epoch may still
    /// arrive, see [`release_held`](Self::release_held)), [`MediaError::UnknownSender`],
    /// [`MediaError::Superseded`], and SFrame errors: authentication failed, replay,
    /// malformed, buffer too small.
    pub fn decrypt(
        &self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<DecryptedFrame, MediaError> {
        let result = self.open(metadata, Target::Separate(frame, out));
        if result == Err(MediaError::NoKey) {
            self.hold(metadata, frame);
        }
        result
    }

    /// Opens the frame in `buf` in place; the plaintext is moved to the start of `buf`.
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt).
    pub fn decrypt_in_place(
        &self,
        metadata: &[u8],
        buf: &mut [u8],
    ) -> Result<DecryptedFrame, MediaError> {
        let result = self.open(metadata, Target::InPlace(&mut *buf));
        // NO_KEY is decided before any byte of `buf` is touched, so it is still the frame.
        if result == Err(MediaError::NoKey) {
            self.hold(metadata, buf);
        }
        result
    }

    fn open(&self, metadata: &[u8], target: Target<'_>) -> Result<DecryptedFrame, MediaError> {
        let frame: &[u8] = match &target {
            Target::Separate(f, _) => f,
            Target::InPlace(b) => b,
        };
        let (header, header_len) = Header::decode(frame)?;
        let ring = self.shared.ring.load();
        let Some(any) = ring.epochs.first() else {
            return Err(MediaError::NoKey);
        };
        let low = header.kid & ((1u64 << any.epoch_bits) - 1);
        let epoch = ring.find(low).ok_or(MediaError::NoKey)?;
        if epoch.expired(self.shared.now()) {
            return Err(MediaError::NoKey);
        }
        let sender = epoch.sender_of(header.kid);
        if Some(sender.leaf) == epoch.own_leaf
            || !epoch.occupied.contains(&sender.leaf)
            || epoch.kid(sender.leaf, sender.context).ok() != Some(header.kid)
        {
            return Err(MediaError::UnknownSender);
        }
        if lock(&ring.newest_by_leaf)
            .get(&sender.leaf)
            .is_some_and(|&newest| newest > epoch.epoch)
        {
            return Err(MediaError::Superseded);
        }
        let cached = lock(&epoch.streams).get(&header.kid).cloned();
        let (stream, fresh) = match cached {
            Some(s) => (s, false),
            None => (
                Arc::new(Stream {
                    key: FrameKey::derive(epoch.suite, &epoch.base_key, header.kid),
                    replay: Mutex::new(ReplayWindow::new(self.shared.config.replay_window)?),
                }),
                true,
            ),
        };
        lock(&stream.replay).check(header.ctr)?;
        let plaintext: &mut [u8] = match target {
            Target::Separate(frame, out) => {
                let mut input = FrameInput::Separate {
                    frame,
                    out: &mut *out,
                };
                let len = stream.key.open(header, header_len, metadata, &mut input)?;
                &mut out[..len]
            }
            Target::InPlace(buf) => {
                let len = stream.key.open(
                    header,
                    header_len,
                    metadata,
                    &mut FrameInput::InPlace(&mut *buf),
                )?;
                buf.copy_within(header_len..header_len + len, 0);
                &mut buf[..len]
            }
        };
        // Authenticated: keep the stream (bounded) and record the counter once. A frame
        // refused now has its plaintext wiped before the error is returned.
        if let Err(e) = self.record(epoch, header, stream, fresh) {
            zeroize::Zeroize::zeroize(plaintext);
            return Err(e);
        }
        let len = plaintext.len();
        let mut newest = lock(&ring.newest_by_leaf);
        let entry = newest.entry(sender.leaf).or_insert(epoch.epoch);
        *entry = (*entry).max(epoch.epoch);
        Ok(DecryptedFrame {
            len,
            sender,
            ctr: header.ctr,
        })
    }

    /// Caches a newly verified stream (within the per-epoch cap) and accepts the counter
    /// under the stream's replay lock, so concurrent duplicates are accepted once.
    fn record(
        &self,
        epoch: &EpochKeys,
        header: Header,
        stream: Arc<Stream>,
        fresh: bool,
    ) -> Result<(), MediaError> {
        let stream = if fresh {
            let mut streams = lock(&epoch.streams);
            if let Some(existing) = streams.get(&header.kid) {
                Arc::clone(existing)
            } else if streams.len() >= self.shared.config.max_streams_per_epoch {
                return Err(MediaError::TooManyStreams);
            } else {
                streams.insert(header.kid, Arc::clone(&stream));
                stream
            }
        } else {
            stream
        };
        lock(&stream.replay).accept(header.ctr)?;
        Ok(())
    }

    /// Keeps a copy of a frame whose epoch may still arrive (bounded).
    fn hold(&self, metadata: &[u8], frame: &[u8]) {
        let ring = self.shared.ring.load();
        let Some(current) = ring.current.and_then(|c| ring.find_epoch(c)) else {
            return;
        };
        let Ok((header, _)) = Header::decode(frame) else {
            return;
        };
        let mask = (1u64 << current.epoch_bits) - 1;
        let ahead = header.kid.wrapping_sub(current.epoch) & mask;
        if !(1..=2).contains(&ahead) {
            return;
        }
        let config = &self.shared.config;
        let size = frame.len() + metadata.len();
        if size > config.max_held_bytes || config.max_held_frames == 0 {
            return;
        }
        let mut held = lock(&self.shared.held);
        while !held.frames.is_empty()
            && (held.frames.len() >= config.max_held_frames
                || held.bytes + size > config.max_held_bytes)
        {
            if let Some((f, m)) = held.frames.pop_front() {
                held.bytes -= f.len() + m.len();
            }
        }
        held.bytes += size;
        held.frames.push_back((frame.to_vec(), metadata.to_vec()));
    }

    /// Opens held frames whose epoch is now installed; frames still without a key stay
    /// held (bounded), frames that fail otherwise are dropped. Call after processing MLS
    /// messages.
    pub fn release_held(&self) -> Vec<ReleasedFrame> {
        let pending: Vec<_> = {
            let mut held = lock(&self.shared.held);
            held.bytes = 0;
            held.frames.drain(..).collect()
        };
        let mut released = Vec::new();
        for (frame, metadata) in pending {
            let mut out = vec![0u8; frame.len()];
            match self.open(&metadata, Target::Separate(&frame, &mut out)) {
                Ok(opened) => {
                    out.truncate(opened.len);
                    released.push(ReleasedFrame {
                        plaintext: out,
                        sender: opened.sender,
                        ctr: opened.ctr,
                    });
                }
                Err(MediaError::NoKey) => self.hold(&metadata, &frame),
                Err(_) => {}
            }
        }
        released
    }

    /// Number of frames currently held for a future epoch.
    pub fn held_frames(&self) -> usize {
        lock(&self.shared.held).frames.len()
    }
}
