//! The key ring: the SFrame keys of every installed MLS epoch (retained, current, staged),
//! and how each [`EpochEvent`] changes them.
//!
//! MLS work (on the signalling thread) only ever builds a new [`KeyRing`] and swaps it in
//! with one atomic store, then bumps the ring's generation. A media handle keeps the ring
//! (or, for an encryptor, the send key) it last used and, per frame, compares the
//! generation with one atomic load: no lock and no reference count until the ring
//! changes. So a handle that has sealed or opened nothing since holds the ring it last
//! used, epochs the session has since dropped included, until its next frame or until it
//! is dropped; the keys are wiped when the last holder lets go. A decryptor that moves on
//! leaves its old ring to MLS work to free (`retire`), so a media thread never pays for
//! freeing a large group's epoch. An epoch indexes
//! its leaves directly ([`Leaf`]: who held it, its verified streams), so finding a frame's
//! sender and stream touches the same few cache lines whatever the group size, and takes
//! no lock: a frame that opens takes only its stream's lock ([`StreamKeys`]: its key and
//! replay window), once, held from the replay check across authentication to the record.
//! The per-group sender cut-off map is locked only for a stream's first frame in an epoch
//! and for frames of a sender that already moved on. MLS work takes none of these locks,
//! except a session snapshot, which reads each stream's highest counter.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arc_swap::ArcSwap;

use super::config::{MAX_SEND_SWITCH_DELAY, MediaConfig};
use super::{FrameSender, LeafHolder, MediaError, lock, nanos};
use crate::mls::epoch_event::{EpochEvent, EpochSecrets, EpochSink};
use crate::mls::identity::MemberIdentity;
use crate::sframe::{CipherSuite, FrameKey, FrameLock, ReplayWindow, SendKey, SframeSecret};

/// The smallest S with `highest_leaf + 1 <= 2^S`.
fn leaf_bits(occupied: &[u32]) -> u32 {
    let highest = occupied.iter().copied().max().unwrap_or(0);
    u64::from(highest).checked_ilog2().map_or(0, |l| l + 1)
}

/// What a frame of a stream needs, behind the stream's one lock: taken once per frame,
/// across the replay check, the AEAD and the counter's record.
pub(super) struct StreamKeys {
    pub(super) key: FrameKey,
    pub(super) replay: ReplayWindow,
}

/// One decrypt stream: a KID's key and replay window.
pub(super) struct Stream {
    pub(super) keys: FrameLock<StreamKeys>,
    /// Where this stream's sender (leaf, context) is, shared with its streams of other
    /// epochs; set before the stream is cached.
    sender: OnceLock<Arc<SenderEpoch>>,
}

impl Stream {
    /// Whether this stream's sender authenticated a frame in an epoch after `epoch`: then
    /// its frames go through the cut-off check (RFC 9605 §6.2). One atomic load.
    #[inline]
    pub(super) fn moved_past(&self, epoch: u64) -> bool {
        self.sender.get().is_some_and(|s| s.epoch() > epoch)
    }

    /// Ties a new stream, before it is cached, to its sender's place.
    pub(super) fn set_sender(&self, sender: Arc<SenderEpoch>) {
        // A new stream is the caller's alone: this is its only `set`.
        let _ = self.sender.set(sender);
    }
}

/// Stream contexts below this are found without any lock (audio, video, screen, ...).
const INLINE_CONTEXTS: usize = 4;

/// The verified decrypt streams of one leaf in one epoch, by stream context. Streams are
/// only ever added (under the group's sender map lock, after a tag verified) and live as
/// long as the epoch.
#[derive(Default)]
pub(super) struct LeafStreams {
    /// Contexts `0..INLINE_CONTEXTS`: read without a lock.
    inline: [OnceLock<Arc<Stream>>; INLINE_CONTEXTS],
    /// Larger contexts, behind this leaf's own lock (rare: apps number streams from 0).
    more: Mutex<HashMap<u64, Arc<Stream>>>,
}

impl LeafStreams {
    /// The stream of a context past the inline ones.
    #[cold]
    fn more_stream(&self, context: u64) -> Option<Arc<Stream>> {
        lock(&self.more).get(&context).cloned()
    }
}

/// One leaf of an epoch's tree, indexed by leaf: who held it, and its verified streams.
pub(super) struct Leaf {
    /// `None`: nobody held the leaf in this epoch. `Some(None)`: a member whose credential
    /// is not an `mlsframe` identity (another MLS stack's).
    holder: Option<Option<Arc<MemberIdentity>>>,
    /// Allocated with the leaf's first verified stream.
    streams: OnceLock<Box<LeafStreams>>,
}

impl Leaf {
    /// The identity that held this leaf (`None` for another stack's member).
    #[inline]
    pub(super) fn identity(&self) -> Option<Arc<MemberIdentity>> {
        self.holder.as_ref()?.clone()
    }

    /// The verified stream of `context` if it is one of the inline contexts (the common
    /// ones): borrowed, no lock, no reference count.
    #[inline]
    pub(super) fn inline_stream(&self, context: u64) -> Option<&Arc<Stream>> {
        let streams = self.streams.get()?;
        streams.inline.get(usize::try_from(context).ok()?)?.get()
    }

    /// The verified stream of `context`, if any: borrowed for the common contexts.
    #[inline]
    pub(super) fn stream(&self, context: u64) -> Option<Cow<'_, Arc<Stream>>> {
        let streams = self.streams.get()?;
        match usize::try_from(context) {
            Ok(i) if i < INLINE_CONTEXTS => streams.inline[i].get().map(Cow::Borrowed),
            _ => streams.more_stream(context).map(Cow::Owned),
        }
    }

    /// Adds a verified stream. The caller holds the group's sender map lock (so no two
    /// threads add at once) and checked that `context` has none yet.
    fn add_stream(&self, context: u64, stream: Arc<Stream>) {
        let streams = self.streams.get_or_init(Box::default);
        match usize::try_from(context) {
            Ok(i) if i < INLINE_CONTEXTS => {
                // Cannot be set already: additions are serialized and checked first.
                let _ = streams.inline[i].set(stream);
            }
            _ => {
                lock(&streams.more).insert(context, stream);
            }
        }
    }

    /// Every verified stream of this leaf.
    fn streams(&self) -> Vec<Arc<Stream>> {
        let Some(streams) = self.streams.get() else {
            return Vec::new();
        };
        let mut all: Vec<Arc<Stream>> = streams
            .inline
            .iter()
            .filter_map(|s| s.get().cloned())
            .collect();
        all.extend(lock(&streams.more).values().cloned());
        all
    }
}

/// The leaf table of an epoch: one entry per leaf up to the highest occupied one.
fn leaf_table(occupied: &[u32], identities: &HashMap<u32, Arc<MemberIdentity>>) -> Box<[Leaf]> {
    let len = occupied.iter().max().map_or(0, |&h| h as usize + 1);
    let mut leaves: Vec<Leaf> = (0..len)
        .map(|_| Leaf {
            holder: None,
            streams: OnceLock::new(),
        })
        .collect();
    for &leaf in occupied {
        leaves[leaf as usize].holder = Some(identities.get(&leaf).cloned());
    }
    leaves.into_boxed_slice()
}

/// The keys of one MLS epoch.
pub(super) struct EpochKeys {
    /// Which group this epoch belongs to: bumped whenever the session starts a new group.
    pub(super) incarnation: u64,
    pub(super) epoch: u64,
    pub(super) suite: CipherSuite,
    /// The epoch's §4.4.2 secret, extracted once from its base key: each stream's key
    /// costs only its two expansions.
    secret: SframeSecret,
    pub(super) epoch_bits: u32,
    leaf_bits: u32,
    /// `epoch mod 2^E`, the low bits every KID of this epoch carries.
    low: u64,
    /// Every leaf up to the highest occupied one: who held it in this epoch (frames are
    /// attributed here, not in a later roster) and its verified streams. Built once when
    /// the epoch is installed, on the MLS thread.
    leaves: Box<[Leaf]>,
    own_leaf: u32,
    /// The commit that created this epoch removed someone.
    pub(super) removed_someone: bool,
    /// False while a restored session has not rekeyed (see `EpochSecrets::may_send`);
    /// raised when its own self-update is merged.
    may_send: AtomicBool,
    /// When retention ends, in nanoseconds of the ring's clock (`u64::MAX`: not yet
    /// superseded). Atomic, so MLS work never takes a lock the media path needs.
    expires_at: AtomicU64,
    /// Highest counter accepted per KID before a snapshot: counters at or below it are
    /// refused after the restore (replay windows are not saved whole).
    replay_floors: HashMap<u64, u64>,
    /// Verified streams in this epoch (capped by `MediaConfig::max_streams_per_epoch`);
    /// changed only under the group's sender map lock.
    stream_count: AtomicUsize,
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
            epoch_bits: u32::from(s.layout.epoch_bits),
            leaf_bits: leaf_bits(&s.occupied_leaves),
            low: s.epoch & ((1u64 << s.layout.epoch_bits) - 1),
            leaves: leaf_table(&s.occupied_leaves, &s.identities),
            own_leaf: s.own_leaf,
            removed_someone: s.removed_someone,
            may_send: AtomicBool::new(s.may_send),
            secret: SframeSecret::extract(suite, &s.base_key),
            expires_at: AtomicU64::new(u64::MAX),
            replay_floors: HashMap::new(),
            stream_count: AtomicUsize::new(0),
            send_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `s` describes this epoch with the same members in the same leaves.
    fn same_roster(&self, s: &EpochSecrets) -> bool {
        let held = self.leaves.iter().filter(|l| l.holder.is_some()).count();
        held == s.occupied_leaves.len()
            && s.occupied_leaves.iter().all(|&leaf| {
                self.leaves
                    .get(leaf as usize)
                    .and_then(|l| l.holder.as_ref())
                    .is_some_and(|holder| holder.as_ref() == s.identities.get(&leaf))
            })
    }

    /// The send key for our stream `context` in this epoch, derived on first use.
    pub(super) fn send_key(&self, context: u64) -> Result<Arc<SendKey>, MediaError> {
        if !self.may_send.load(Ordering::Acquire) {
            return Err(MediaError::RekeyRequired);
        }
        let kid = self.kid(self.own_leaf, context)?;
        let mut keys = lock(&self.send_keys);
        Ok(Arc::clone(keys.entry(context).or_insert_with(|| {
            Arc::new(SendKey::from_secret(&self.secret, kid))
        })))
    }

    /// A fresh decrypt stream for `kid` (its tag not yet verified).
    pub(super) fn new_stream(&self, kid: u64, window: u64) -> Result<Stream, MediaError> {
        let replay = match self.replay_floors.get(&kid) {
            Some(&floor) => ReplayWindow::starting_after(window, floor)?,
            None => ReplayWindow::new(window)?,
        };
        Ok(Stream {
            keys: FrameLock::new(StreamKeys {
                key: FrameKey::from_secret(&self.secret, kid),
                replay,
            }),
            sender: OnceLock::new(),
        })
    }

    /// Whether the epoch has room for another stream under `cap`.
    pub(super) fn has_room_for_stream(&self, cap: usize) -> bool {
        self.stream_count.load(Ordering::Relaxed) < cap
    }

    /// Caches `stream`, just verified, as `leaf`'s stream of `context`. The caller holds
    /// the group's sender map lock, checked that none is cached yet and that there is room.
    pub(super) fn add_stream(&self, leaf: &Leaf, context: u64, stream: Arc<Stream>) {
        leaf.add_stream(context, stream);
        self.stream_count.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub(super) fn low_bits(&self) -> u64 {
        self.low
    }

    fn kid(&self, leaf: u32, context: u64) -> Result<u64, MediaError> {
        let shift = self.leaf_bits + self.epoch_bits;
        if shift < 64 && context >> (64 - shift) != 0 {
            return Err(MediaError::ContextTooLarge);
        }
        let context_part = if shift >= 64 { 0 } else { context << shift };
        Ok(context_part | (u64::from(leaf) << self.epoch_bits) | self.low_bits())
    }

    /// The other member that `kid` names in this epoch, with its leaf in this epoch (who
    /// held it, its streams). One index into the leaf table, whatever the group size.
    ///
    /// # Errors
    /// [`MediaError::UnknownSender`] for our own leaf, an empty leaf, or a KID that is not
    /// the canonical encoding of its (context, leaf, epoch).
    #[inline]
    pub(super) fn sender_of(&self, kid: u64) -> Result<(FrameSender, &Leaf), MediaError> {
        let leaf_mask = (1u64 << self.leaf_bits) - 1;
        let shift = self.leaf_bits + self.epoch_bits;
        let sender = FrameSender {
            epoch: self.epoch,
            leaf: u32::try_from((kid >> self.epoch_bits) & leaf_mask).unwrap_or(u32::MAX),
            context: if shift >= 64 { 0 } else { kid >> shift },
        };
        let leaf = self
            .leaves
            .get(sender.leaf as usize)
            .filter(|l| l.holder.is_some() && sender.leaf != self.own_leaf)
            .ok_or(MediaError::UnknownSender)?;
        // S <= 32 and E <= 16: context, leaf and epoch bits together are the whole KID,
        // so every KID whose leaf was found is the canonical encoding of its sender.
        debug_assert_eq!(self.kid(sender.leaf, sender.context).ok(), Some(kid));
        Ok((sender, leaf))
    }

    /// The identity that held `leaf` in this epoch.
    pub(super) fn identity_at(&self, leaf: u32) -> Option<Arc<MemberIdentity>> {
        self.leaves.get(leaf as usize)?.identity()
    }

    /// Who held `leaf` in this epoch; `None` for a leaf nobody held.
    pub(super) fn holder_at(&self, leaf: u32) -> Option<LeafHolder> {
        Some(match self.leaves.get(leaf as usize)?.holder.as_ref()? {
            Some(id) => LeafHolder::Identity(Arc::clone(id)),
            None => LeafHolder::Foreign,
        })
    }

    pub(super) fn expired(&self, now: Duration) -> bool {
        nanos(now) >= self.expires_at.load(Ordering::Acquire)
    }

    /// Whether retention has ended, reading the clock only once it has been set to end
    /// (an epoch not yet superseded costs one atomic load).
    #[inline]
    pub(super) fn expired_by(&self, clock: impl FnOnce() -> Duration) -> bool {
        let at = self.expires_at.load(Ordering::Acquire);
        at != u64::MAX && nanos(clock()) >= at
    }

    /// Ends retention at `until` at the latest.
    fn expire_by(&self, until: Duration) {
        self.expires_at.fetch_min(nanos(until), Ordering::AcqRel);
    }

    /// Highest accepted counter per verified KID (for a snapshot).
    fn replay_highs(&self) -> Vec<(u64, u64)> {
        let streams: Vec<Arc<Stream>> = self.leaves.iter().flat_map(Leaf::streams).collect();
        let mut verified = HashSet::new();
        let mut highs: Vec<(u64, u64)> = Vec::new();
        for s in &streams {
            let keys = s.keys.lock();
            verified.insert(keys.key.kid());
            highs.extend(keys.replay.highest().map(|h| (keys.key.kid(), h)));
        }
        // Floors of streams not seen again since the restore still hold.
        for (kid, floor) in &self.replay_floors {
            if !verified.contains(kid) {
                highs.push((*kid, *floor));
            }
        }
        highs.sort_unstable();
        highs
    }
}

/// When a sender (leaf, stream context) was last seen moving to a newer epoch. Changed
/// only under the group's sender map lock; the sender's cached streams read `epoch`
/// without it.
#[derive(Debug)]
pub(super) struct SenderEpoch {
    /// The newest epoch in which a frame of this sender authenticated.
    epoch: AtomicU64,
    /// When that epoch's first frame of this sender authenticated (ring clock, ns).
    since: AtomicU64,
}

impl SenderEpoch {
    pub(super) fn new(epoch: u64, since: Duration) -> SenderEpoch {
        SenderEpoch {
            epoch: AtomicU64::new(epoch),
            since: AtomicU64::new(nanos(since)),
        }
    }

    /// The newest epoch in which a frame of this sender authenticated.
    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// When that epoch's first frame authenticated. Consistent with [`epoch`](Self::epoch)
    /// when read under the sender map lock.
    pub(super) fn since(&self) -> Duration {
        Duration::from_nanos(self.since.load(Ordering::Acquire))
    }

    /// A frame of this sender authenticated in `epoch` at `now` (under the map lock).
    pub(super) fn reached(&self, epoch: u64, now: Duration) {
        if epoch > self.epoch() {
            self.since.store(nanos(now), Ordering::Release);
            self.epoch.store(epoch, Ordering::Release);
        }
    }
}

/// Where each sender (leaf, stream context) of a group is.
pub(super) type SenderMap = HashMap<(u32, u64), Arc<SenderEpoch>>;

/// An immutable snapshot of installed epochs, swapped atomically by MLS work.
#[derive(Default)]
pub(super) struct KeyRing {
    /// Installed epochs, newest last: past ones (retained), the current one, a staged one.
    pub(super) epochs: Vec<Arc<EpochKeys>>,
    /// The epoch the group is in (merged), if any.
    pub(super) current: Option<u64>,
    /// The epoch our encryptors seal with, and from when the next one takes over.
    pub(super) send: Option<Arc<EpochKeys>>,
    pub(super) send_next: Option<(Arc<EpochKeys>, Duration)>,
    /// We were removed, or the session ended: nothing more is sealed.
    pub(super) stopped: bool,
    /// Newest epoch per (leaf, stream context) whose frame authenticated (this group only:
    /// a new group starts a new map instead of clearing this one, so MLS work never locks
    /// it).
    pub(super) senders: Arc<Mutex<SenderMap>>,
}

impl KeyRing {
    /// The installed epoch whose low E bits `kid` carries.
    #[inline]
    pub(super) fn find_kid(&self, kid: u64) -> Option<&Arc<EpochKeys>> {
        let bits = self.epochs.first()?.epoch_bits;
        let low = kid & ((1u64 << bits) - 1);
        self.epochs.iter().rev().find(|e| e.low_bits() == low)
    }

    pub(super) fn find_epoch(&self, epoch: u64) -> Option<&Arc<EpochKeys>> {
        self.epochs.iter().find(|e| e.epoch == epoch)
    }

    /// Whether late frames of epoch `older` stay refused once a sender reached `newer`:
    /// a commit that removed someone created an epoch in `(older, newer]`, or one of
    /// those epochs is no longer installed to tell.
    pub(super) fn late_frames_barred(&self, older: u64, newer: u64) -> bool {
        let mut installed = 0u64;
        for e in self
            .epochs
            .iter()
            .filter(|e| e.epoch > older && e.epoch <= newer)
        {
            if e.removed_someone {
                return true;
            }
            installed += 1;
        }
        installed < newer - older
    }
}

/// Shared between the session's sink, its encryptors and its decryptors.
pub(crate) struct MediaShared {
    pub(super) config: MediaConfig,
    pub(super) ring: ArcSwap<KeyRing>,
    /// Bumped after every ring swap: an encryptor's cached key stays valid while this is
    /// unchanged, so its frames need not load the ring.
    pub(super) generation: AtomicU64,
    /// Serializes MLS-side ring updates (the media path never takes it).
    update: Mutex<()>,
    /// Rings a decryptor let go of when it moved to a newer one. A decryptor keeps the
    /// ring it last used (see `Decryptor`), so it is often the last holder of an epoch
    /// that left the ring; freeing that epoch (its leaf table, one entry per member, and
    /// its streams' keys) on the media thread would charge a frame for it. The decryptor
    /// leaves the ring here instead, and MLS work frees those no handle holds any more
    /// ([`release_retired`](Self::release_retired)).
    retired: Mutex<Vec<Arc<KeyRing>>>,
    /// Stream contexts owned by live encryptors.
    pub(super) contexts: Mutex<HashSet<u64>>,
    /// Set by the app when receivers have the new epoch.
    pub(super) receivers_ready: AtomicBool,
    /// Counts the groups this ring has served (see [`EpochKeys::incarnation`]).
    incarnation: AtomicU64,
}

impl MediaShared {
    pub(super) fn new(config: MediaConfig) -> MediaShared {
        MediaShared {
            config,
            ring: ArcSwap::from_pointee(KeyRing::default()),
            generation: AtomicU64::new(0),
            update: Mutex::new(()),
            retired: Mutex::new(Vec::new()),
            contexts: Mutex::new(HashSet::new()),
            receivers_ready: AtomicBool::new(false),
            incarnation: AtomicU64::new(0),
        }
    }

    pub(super) fn now(&self) -> Duration {
        self.config.clock.now()
    }

    /// Builds the next ring from the current one and swaps it in.
    pub(super) fn update_ring(&self, change: impl FnOnce(&mut KeyRing)) {
        let _serial = lock(&self.update);
        let old = self.ring.load_full();
        let mut next = KeyRing {
            epochs: old.epochs.clone(),
            current: old.current,
            send: old.send.clone(),
            send_next: old.send_next.clone(),
            stopped: old.stopped,
            senders: Arc::clone(&old.senders),
        };
        change(&mut next);
        let now = self.now();
        next.epochs.retain(|e| !e.expired(now));
        self.ring.store(Arc::new(next));
        self.generation.fetch_add(1, Ordering::Release);
        drop(old);
        self.release_retired();
    }

    /// Takes a ring a decryptor no longer uses, to be freed by MLS work. Never waits: if
    /// MLS work is releasing rings right now, the ring is dropped here instead.
    pub(super) fn retire(&self, ring: Arc<KeyRing>) {
        if let Ok(mut retired) = self.retired.try_lock() {
            retired.push(ring);
        }
    }

    /// Frees the retired rings that nothing else holds (on every ring update, so on the
    /// signalling thread); a ring a decryptor still uses stays until a later update.
    pub(super) fn release_retired(&self) {
        let released: Vec<Arc<KeyRing>> = {
            let mut retired = lock(&self.retired);
            // Decryptors that shared a ring each leave a reference: keep one, so that the
            // count below says whether anything outside this list still holds it.
            retired.sort_unstable_by_key(Arc::as_ptr);
            retired.dedup_by(|a, b| Arc::ptr_eq(a, b));
            let (free, kept) = std::mem::take(&mut *retired)
                .into_iter()
                .partition(|r| Arc::strong_count(r) == 1);
            *retired = kept;
            free
        };
        // Freed outside the lock, so a decryptor retiring a ring meanwhile is not refused.
        drop(released);
    }

    /// Highest accepted counter per KID of the current epoch (for a snapshot).
    pub(super) fn replay_highs(&self) -> Vec<(u64, u64)> {
        let ring = self.ring.load();
        ring.current
            .and_then(|c| ring.find_epoch(c))
            .map(|e| e.replay_highs())
            .unwrap_or_default()
    }

    fn keys_for(&self, s: EpochSecrets) -> Option<EpochKeys> {
        let suite = CipherSuite::try_from(s.layout.suite).ok()?;
        Some(EpochKeys::new(
            s,
            suite,
            self.incarnation.load(Ordering::Acquire),
        ))
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

    /// Decrypt-only keys for a staged commit's epoch.
    fn stage(&self, s: EpochSecrets) {
        let Some(keys) = self.keys_for(s) else {
            return;
        };
        let keys = Arc::new(keys);
        self.update_ring(|ring| Self::insert_epoch(ring, keys));
    }

    /// The staged epoch lost: drop it (never the current one).
    fn discard(&self, epoch: u64) {
        self.update_ring(|ring| {
            if ring.current != Some(epoch) {
                ring.epochs.retain(|e| e.epoch != epoch);
            }
        });
    }

    /// `s.epoch` is current: older epochs start their retention, senders switch.
    fn activate(&self, s: EpochSecrets, replay_floors: HashMap<u64, u64>) {
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
        // A "receivers ready" from the app speaks for the epoch it was given for only.
        self.receivers_ready.store(false, Ordering::Release);
        let epoch = s.epoch;
        self.update_ring(|ring| {
            // A switch still waiting is overtaken: its epoch becomes the one we send in
            // now, so no sender stays more than one epoch behind, nor in an old epoch
            // longer than the delay after merging the next one.
            if let Some((next, _)) = ring.send_next.take() {
                ring.send = Some(next);
            }
            let staged = ring
                .find_epoch(epoch)
                .filter(|k| k.same_roster(&s) && replay_floors.is_empty())
                .cloned();
            let keys = match staged {
                // Reuse the staged keys (and the streams they verified); merging a
                // restored session's own self-update lets it send again.
                Some(k) => {
                    if s.may_send {
                        k.may_send.store(true, Ordering::Release);
                    }
                    k
                }
                None => {
                    let Some(mut k) = self.keys_for(s) else {
                        return;
                    };
                    k.replay_floors = replay_floors;
                    let k = Arc::new(k);
                    Self::insert_epoch(ring, Arc::clone(&k));
                    k
                }
            };
            for e in ring.epochs.iter().filter(|e| e.epoch < epoch) {
                e.expire_by(now + retention);
            }
            ring.epochs.retain(|e| e.epoch <= epoch);
            ring.current = Some(epoch);
            ring.stopped = false;
            // Waiting only helps while the epoch we send in can seal: a restored session
            // (sealing refused until its own self-update merged) switches at once.
            let send_can_seal = ring
                .send
                .as_ref()
                .is_some_and(|k| k.may_send.load(Ordering::Acquire));
            match (send_can_seal, delay.is_zero()) {
                (true, false) => ring.send_next = Some((keys, now + delay)),
                _ => {
                    ring.send = Some(keys);
                    ring.send_next = None;
                }
            }
        });
    }

    /// A new group: forget every epoch of earlier ones.
    fn reset(&self) {
        self.incarnation.fetch_add(1, Ordering::AcqRel);
        self.update_ring(|ring| *ring = KeyRing::default());
        self.receivers_ready.store(false, Ordering::Release);
    }

    /// A terminal state: seal nothing more, open retained epochs briefly.
    fn stop(&self) {
        let now = self.now();
        let retention = self.config.retention_after_removal;
        self.update_ring(|ring| {
            for e in &ring.epochs {
                e.expire_by(now + retention);
            }
            ring.stopped = true;
            ring.send = None;
            ring.send_next = None;
        });
    }
}

impl EpochSink for MediaShared {
    /// Every session event has exactly one media effect.
    fn apply(&self, event: EpochEvent) {
        match event {
            EpochEvent::Started(s) => {
                self.reset();
                self.activate(s, HashMap::new());
            }
            EpochEvent::Restored {
                secrets,
                replay_floors,
            } => {
                self.reset();
                self.activate(secrets, replay_floors);
            }
            EpochEvent::Staged(s) => self.stage(s),
            EpochEvent::Joining(s) => {
                self.reset();
                self.stage(s);
            }
            EpochEvent::Discarded { epoch } => self.discard(epoch),
            EpochEvent::Merged(s) => self.activate(s, HashMap::new()),
            EpochEvent::Removed | EpochEvent::Terminated | EpochEvent::Dropped => self.stop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Weak;

    use super::*;
    use crate::mls::media::decryptor::Decryptor;

    fn shared() -> Arc<MediaShared> {
        Arc::new(MediaShared::new(MediaConfig::default()))
    }

    #[test]
    fn retired_rings_are_freed_by_mls_work_once_nothing_else_holds_them() {
        let shared = shared();
        let (only_here, still_used) = (Arc::new(KeyRing::default()), Arc::new(KeyRing::default()));
        let (gone, kept) = (Arc::downgrade(&only_here), Arc::downgrade(&still_used));
        let user = Arc::clone(&still_used);
        // Three decryptors that shared `only_here` each retire their reference.
        shared.retire(Arc::clone(&only_here));
        shared.retire(Arc::clone(&only_here));
        shared.retire(only_here);
        shared.retire(still_used);
        assert!(gone.upgrade().is_some(), "retiring frees nothing by itself");
        shared.release_retired();
        assert!(gone.upgrade().is_none(), "held by the list alone: freed");
        assert!(kept.upgrade().is_some(), "a handle still uses it");
        assert_eq!(lock(&shared.retired).len(), 1);
        drop(user);
        // Every ring update releases what its handles let go of.
        shared.update_ring(|_| {});
        assert!(kept.upgrade().is_none());
        assert!(lock(&shared.retired).is_empty());
    }

    #[test]
    fn a_decryptor_keeps_its_ring_until_the_generation_changes_then_retires_it() {
        let shared = shared();
        let mut decryptor = Decryptor::new(&shared);
        // A well-formed header (KID 0, CTR 0) that no installed epoch names.
        let frame = [0u8; 40];
        let mut out = [0u8; 40];
        let first: Weak<KeyRing> = Arc::downgrade(&shared.ring.load_full());
        assert_eq!(
            decryptor.decrypt(b"", &frame, &mut out),
            Err(MediaError::NoKey)
        );
        // The ring changes: the handle's next frame moves to the new one and leaves the
        // old one to MLS work, so the media thread frees nothing.
        shared.update_ring(|_| {});
        assert!(
            first.upgrade().is_some(),
            "the decryptor still holds its ring"
        );
        let second = Arc::downgrade(&shared.ring.load_full());
        assert_eq!(
            decryptor.decrypt(b"", &frame, &mut out),
            Err(MediaError::NoKey)
        );
        assert!(
            first.upgrade().is_some(),
            "retired, not freed, on the media thread"
        );
        assert_eq!(lock(&shared.retired).len(), 1);
        shared.update_ring(|_| {});
        assert!(first.upgrade().is_none(), "freed by the next ring update");
        // A dropped decryptor lets go of its ring at once.
        assert!(
            second.upgrade().is_some(),
            "the ring the decryptor moved to"
        );
        drop(decryptor);
        assert!(second.upgrade().is_none());
    }
}
