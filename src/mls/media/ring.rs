//! The key ring: the SFrame keys of every installed MLS epoch (retained, current, staged),
//! and how each [`EpochEvent`] changes them.
//!
//! MLS work (on the signalling thread) only ever builds a new [`KeyRing`] and swaps it in
//! with one atomic store. Media threads load the ring without locking; the locks on the
//! frame path are per-epoch caches, per-KID replay windows and the per-group sender
//! cut-off map, none of which MLS work takes.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use zeroize::Zeroizing;

use super::config::{MAX_SEND_SWITCH_DELAY, MediaConfig};
use super::{FrameSender, LeafHolder, MediaError, lock, nanos};
use crate::mls::epoch_event::{EpochEvent, EpochSecrets, EpochSink};
use crate::mls::identity::MemberIdentity;
use crate::sframe::{CipherSuite, FrameKey, ReplayWindow, SendKey};

/// The smallest S with `highest_leaf + 1 <= 2^S`.
fn leaf_bits(occupied: &[u32]) -> u32 {
    let highest = occupied.iter().copied().max().unwrap_or(0);
    u64::from(highest).checked_ilog2().map_or(0, |l| l + 1)
}

/// One decrypt stream: a KID's key and replay window.
pub(super) struct Stream {
    pub(super) key: FrameKey,
    pub(super) replay: Mutex<ReplayWindow>,
}

/// The keys of one MLS epoch.
pub(super) struct EpochKeys {
    /// Which group this epoch belongs to: bumped whenever the session starts a new group.
    pub(super) incarnation: u64,
    pub(super) epoch: u64,
    pub(super) suite: CipherSuite,
    base_key: Zeroizing<Vec<u8>>,
    pub(super) epoch_bits: u32,
    leaf_bits: u32,
    occupied: Vec<u32>,
    /// Who held each leaf in this epoch: frames are attributed here, not in a later roster.
    identities: HashMap<u32, Arc<MemberIdentity>>,
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
    /// Streams whose tag verified, by KID.
    pub(super) streams: Mutex<HashMap<u64, Arc<Stream>>>,
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
            occupied: s.occupied_leaves,
            identities: s.identities,
            own_leaf: s.own_leaf,
            removed_someone: s.removed_someone,
            may_send: AtomicBool::new(s.may_send),
            base_key: s.base_key,
            expires_at: AtomicU64::new(u64::MAX),
            replay_floors: HashMap::new(),
            streams: Mutex::new(HashMap::new()),
            send_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `s` describes this epoch with the same members in the same leaves.
    fn same_roster(&self, s: &EpochSecrets) -> bool {
        self.occupied == s.occupied_leaves && self.identities == s.identities
    }

    /// The send key for our stream `context` in this epoch, derived on first use.
    pub(super) fn send_key(&self, context: u64) -> Result<Arc<SendKey>, MediaError> {
        if !self.may_send.load(Ordering::Acquire) {
            return Err(MediaError::RekeyRequired);
        }
        let kid = self.kid(self.own_leaf, context)?;
        let mut keys = lock(&self.send_keys);
        Ok(Arc::clone(keys.entry(context).or_insert_with(|| {
            Arc::new(SendKey::new(self.suite, kid, &self.base_key))
        })))
    }

    /// A fresh decrypt stream for `kid` (its tag not yet verified).
    pub(super) fn new_stream(&self, kid: u64, window: u64) -> Result<Stream, MediaError> {
        let replay = match self.replay_floors.get(&kid) {
            Some(&floor) => ReplayWindow::starting_after(window, floor)?,
            None => ReplayWindow::new(window)?,
        };
        Ok(Stream {
            key: FrameKey::derive(self.suite, &self.base_key, kid),
            replay: Mutex::new(replay),
        })
    }

    pub(super) fn low_bits(&self) -> u64 {
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

    /// The other member that `kid` names in this epoch, with the identity that held its
    /// leaf in this epoch.
    ///
    /// # Errors
    /// [`MediaError::UnknownSender`] for our own leaf, an empty leaf, or a KID that is not
    /// the canonical encoding of its (context, leaf, epoch).
    pub(super) fn sender_of(
        &self,
        kid: u64,
    ) -> Result<(FrameSender, Option<Arc<MemberIdentity>>), MediaError> {
        let leaf_mask = (1u64 << self.leaf_bits) - 1;
        let shift = self.leaf_bits + self.epoch_bits;
        let sender = FrameSender {
            epoch: self.epoch,
            leaf: u32::try_from((kid >> self.epoch_bits) & leaf_mask).unwrap_or(u32::MAX),
            context: if shift >= 64 { 0 } else { kid >> shift },
        };
        if sender.leaf == self.own_leaf
            || self.occupied.binary_search(&sender.leaf).is_err()
            || self.kid(sender.leaf, sender.context).ok() != Some(kid)
        {
            return Err(MediaError::UnknownSender);
        }
        Ok((sender, self.identities.get(&sender.leaf).cloned()))
    }

    /// The identity that held `leaf` in this epoch.
    pub(super) fn identity_at(&self, leaf: u32) -> Option<Arc<MemberIdentity>> {
        self.identities.get(&leaf).cloned()
    }

    /// Who held `leaf` in this epoch; `None` for a leaf nobody held.
    pub(super) fn holder_at(&self, leaf: u32) -> Option<LeafHolder> {
        self.occupied.binary_search(&leaf).ok()?;
        Some(match self.identities.get(&leaf) {
            Some(id) => LeafHolder::Identity(id.clone()),
            None => LeafHolder::Foreign,
        })
    }

    pub(super) fn expired(&self, now: Duration) -> bool {
        nanos(now) >= self.expires_at.load(Ordering::Acquire)
    }

    /// Ends retention at `until` at the latest.
    fn expire_by(&self, until: Duration) {
        self.expires_at.fetch_min(nanos(until), Ordering::AcqRel);
    }

    /// Highest accepted counter per verified KID (for a snapshot).
    fn replay_highs(&self) -> Vec<(u64, u64)> {
        let streams = lock(&self.streams);
        let mut highs: Vec<(u64, u64)> = streams
            .iter()
            .filter_map(|(kid, s)| lock(&s.replay).highest().map(|h| (*kid, h)))
            .collect();
        // Floors of streams not seen again since the restore still hold.
        for (kid, floor) in &self.replay_floors {
            if !streams.contains_key(kid) {
                highs.push((*kid, *floor));
            }
        }
        highs.sort_unstable();
        highs
    }
}

/// When a sender (leaf, stream context) was last seen moving to a newer epoch.
#[derive(Debug, Clone, Copy)]
pub(super) struct SenderEpoch {
    /// The newest epoch in which a frame of this sender authenticated.
    pub(super) epoch: u64,
    /// When that epoch's first frame of this sender authenticated.
    pub(super) since: Duration,
}

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
    pub(super) senders: Arc<Mutex<HashMap<(u32, u64), SenderEpoch>>>,
}

impl KeyRing {
    pub(super) fn find(&self, low_bits: u64) -> Option<&Arc<EpochKeys>> {
        self.epochs.iter().rev().find(|e| e.low_bits() == low_bits)
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
    /// Serializes MLS-side ring updates (the media path never takes it).
    update: Mutex<()>,
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
            update: Mutex::new(()),
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
