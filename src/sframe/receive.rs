//! The receiving side: a [`Receiver`] holds decrypt-only keys by KID (or, with the §5.1
//! ratchet, by generation), each with its own replay window behind its own short lock.
//!
//! Order per frame: parse the header, find the key, check the replay window, verify and
//! decrypt, then record the counter. A fixed key's window lock is taken once and held from
//! the check to the record, so two threads cannot both accept one duplicate (frames of one
//! key on two threads take turns for one AEAD; keys are independent). Plaintext of a frame
//! refused at the record is wiped.
//!
//! # Ratcheting generations (RFC 9605 §5.1)
//!
//! A generation keeps the key of its *current* step (the last one a verified frame named),
//! the key of its *previous* step, and a cache of the steps ahead ([`LookAhead`]):
//!
//! - **Previous step.** When a verified frame moves the generation from step `p` to `n`,
//!   step `p` stays open, with its replay window, for frames still in flight (when the
//!   sender ratchets one step at a time, `p = n - 1`). It is dropped when the generation
//!   moves again; frames for any older step are refused. Because KIDs carry the step mod
//!   2^R, the previous step's KID also names step `p + 2^R` ahead; such a frame is tried
//!   under the previous key first and, if that fails, as a step ahead.
//! - **Steps ahead: derived once, cached.** A frame naming step `n + k` (`1 <= k <= 2^R - 1`)
//!   needs the ratchet applied `k` times, and its tag can only be checked after that. Were
//!   the candidate discarded on a bad tag, every forged frame naming `n + 255` would cost
//!   255 HKDF steps again. Instead each step's base key, and its `FrameKey` once a frame
//!   names it, is derived at most once per generation and kept until the generation moves
//!   past it or is removed. A repeated forged frame then costs one AEAD check, like a
//!   genuine frame; all forged frames together cost at most `2^R - 1` ratchet steps plus
//!   one `FrameKey` per distinct step named, and a genuine move forward by `k` steps lets
//!   them reach at most `k` steps further. `FrameKey`s are derived lazily, only for steps a frame names, so a
//!   sender that ratchets one step at a time pays one ratchet step and one key per move.
//!   Memory stays bounded by `2^R - 1` cached steps, all of it wiped on drop. The
//!   look-ahead itself is not narrowed below `2^R - 1`: R is the application's bound on
//!   how far a receiver may catch up, and once derivation is paid once per step a
//!   narrower bound would refuse genuine catch-ups without saving anything repeated.
//! - **Two locks.** `steps` (current and previous key with their replay windows) and
//!   `chain` (the look-ahead) are separate mutexes, always taken `chain` first. Frames for
//!   the current or previous step take only `steps`; a frame naming a step ahead takes
//!   `chain`, derives and verifies under it alone, and takes `steps` only to install a
//!   verified step. HKDF work and forged frames' AEAD checks therefore never hold up the
//!   sender's current frames on other threads; only frames naming steps ahead queue behind
//!   each other. The generation moves only under both locks, so while `chain` is held the
//!   current step is fixed.
//! - Nothing moves unless a tag verified: a frame that fails leaves the current and
//!   previous steps and their replay windows as they were (it may only have extended the
//!   cache), and each step's replay window is exact, so no frame is accepted twice.
//! - In place, a frame that the previous step refuses must still be readable as a step
//!   ahead. Where a failed open clears the buffer (AES-GCM under aws-lc), the frame's body
//!   is copied aside before the previous key is tried and put back after a failure: the
//!   one allocation on a frame path, and only for frames naming the previous step's KID.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;
use std::sync::{Mutex, MutexGuard};

use zeroize::Zeroize;

use super::error::SframeError;
use super::frame_lock::FrameLock;
use super::header::Header;
use super::key::{FrameInput, FrameKey};
use super::ratchet::{LookAhead, RatchetBits};
use super::replay::{DEFAULT_REPLAY_WINDOW, ReplayWindow};
use super::suite::CipherSuite;

/// How a [`Receiver`] treats incoming frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// Counters covered by each key's replay window (default 128).
    pub replay_window: u64,
    /// When set, keys are installed per generation and frames may ratchet them forward
    /// (RFC 9605 §5.1) by up to `2^R - 1` steps; the step before the current one stays
    /// open for frames in flight until the generation moves again.
    pub ratchet: Option<RatchetBits>,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            replay_window: DEFAULT_REPLAY_WINDOW,
            ratchet: None,
        }
    }
}

/// What a successful decrypt reports about the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// The KID from the (now authenticated) header.
    pub kid: u64,
    /// The frame counter.
    pub ctr: u64,
    /// Plaintext length in bytes.
    pub len: usize,
}

/// A key and its replay window, as used by one KID.
struct KeyState {
    key: FrameKey,
    replay: ReplayWindow,
}

impl KeyState {
    /// Checks the counter, opens the frame, and records the counter.
    fn open_once(
        &mut self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        input: &mut FrameInput<'_>,
    ) -> Result<usize, SframeError> {
        open_fixed(
            &self.key,
            &mut self.replay,
            header,
            header_len,
            metadata,
            input,
        )
    }
}

/// The steps of a ratcheting generation that frames open under directly.
struct Steps {
    /// The current step; equal to the `LookAhead`'s, both change under both locks.
    step: u64,
    current: KeyState,
    /// The step current before the last move, with its replay window (boxed so that a
    /// generation's slot stays about as small as a fixed key's).
    previous: Option<Box<(u64, KeyState)>>,
}

/// A ratcheting generation. Lock order: `chain`, then `steps` (see the module docs).
struct RatchetState {
    steps: Mutex<Steps>,
    chain: Mutex<LookAhead>,
}

enum Slot {
    /// A fixed key: only the replay window needs a lock (held from check to record).
    Fixed {
        key: FrameKey,
        replay: FrameLock<ReplayWindow>,
    },
    /// A ratcheting key: verified frames can move it forward.
    Ratcheting(RatchetState),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded state is updated in single assignments; a panic elsewhere cannot leave
    // it half-written, so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Hashes the key map's ids (KIDs, or generations): one multiplication and a fold, where
/// the standard library's SipHash costs about a tenth of a 100-byte frame's open. SipHash
/// guards maps whose *keys* an attacker chooses; here only the application installs keys,
/// and a peer's frame only looks one up, which cannot lengthen the table's probe chains.
#[derive(Default, Clone, Copy)]
struct KidHasher(u64);

/// 2^64 divided by the golden ratio, odd: Fibonacci hashing's multiplier.
const KID_HASH_MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for KidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        // The product's high half depends on every bit of the id; folding it down spreads
        // ids that differ only in high bits (leaf indices above the epoch bits) over the
        // table's low-bit bucket index too.
        let h = (self.0 ^ n).wrapping_mul(KID_HASH_MULTIPLIER);
        self.0 = h ^ (h >> 32);
    }
}

/// The receiver's keys by id (KID, or generation with a ratchet). The first key installed
/// sits in `first`, found by one comparison; further keys go to the hash map. A receiver
/// usually holds one sender's key (a WebRTC frame decryptor serves one remote track), and
/// then no frame hashes or probes a table.
#[derive(Default)]
struct SlotMap {
    first: Option<(u64, Slot)>,
    rest: HashMap<u64, Slot, BuildHasherDefault<KidHasher>>,
}

impl SlotMap {
    #[inline]
    fn get(&self, id: &u64) -> Option<&Slot> {
        match &self.first {
            Some((first, slot)) if first == id => Some(slot),
            _ if self.rest.is_empty() => None,
            _ => self.rest.get(id),
        }
    }

    #[inline]
    fn get_mut(&mut self, id: &u64) -> Option<&mut Slot> {
        match &mut self.first {
            Some((first, slot)) if *first == *id => Some(slot),
            _ if self.rest.is_empty() => None,
            _ => self.rest.get_mut(id),
        }
    }

    fn contains_key(&self, id: &u64) -> bool {
        self.get(id).is_some()
    }

    /// Installs `slot` for `id`, which the caller checked is not installed yet.
    fn insert(&mut self, id: u64, slot: Slot) {
        if self.first.is_none() {
            self.first = Some((id, slot));
        } else {
            self.rest.insert(id, slot);
        }
    }

    fn remove(&mut self, id: &u64) -> Option<Slot> {
        match &self.first {
            Some((first, _)) if first == id => self.first.take().map(|(_, slot)| slot),
            _ => self.rest.remove(id),
        }
    }

    fn keys(&self) -> impl Iterator<Item = &u64> {
        self.first.iter().map(|(id, _)| id).chain(self.rest.keys())
    }
}

/// A store of decrypt-only SFrame keys.
///
/// Installing and removing keys takes `&mut self`; decrypting takes `&self` and may run on
/// many threads at once (wrap the receiver in a lock of your choice if keys change while
/// media flows). A receiver owned by one thread opens through `&mut self` instead
/// ([`decrypt_exclusive`](Self::decrypt_exclusive) and its in-place siblings), which
/// skips the lock on a fixed key's replay window. See [`SendKey`](super::SendKey) for a round trip.
pub struct Receiver {
    config: ReceiverConfig,
    slots: SlotMap,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<_> = self.slots.keys().collect();
        ids.sort();
        f.debug_struct("Receiver")
            .field("config", &self.config)
            .field("keys", &ids)
            .finish()
    }
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new()
    }
}

impl Receiver {
    /// A receiver with a 128-counter replay window and no ratchet.
    pub fn new() -> Self {
        Receiver::with_config(ReceiverConfig::default())
    }

    /// A receiver with the given configuration.
    pub fn with_config(config: ReceiverConfig) -> Self {
        Receiver {
            config,
            slots: SlotMap::default(),
        }
    }

    /// Installs a decrypt key derived from `base_key`: for `id` = the KID, or with a ratchet
    /// configured, for `id` = the generation (starting at step 0).
    ///
    /// # Errors
    /// [`SframeError::DuplicateKeyId`] when `id` is installed already;
    /// [`SframeError::InvalidArgument`] for a bad replay window or generation.
    pub fn add_key(
        &mut self,
        suite: CipherSuite,
        id: u64,
        base_key: &[u8],
    ) -> Result<(), SframeError> {
        if self.slots.contains_key(&id) {
            return Err(SframeError::DuplicateKeyId(id));
        }
        let replay = ReplayWindow::new(self.config.replay_window)?;
        let slot = match self.config.ratchet {
            None => Slot::Fixed {
                key: FrameKey::derive(suite, base_key, id),
                replay: FrameLock::new(replay),
            },
            Some(bits) => {
                let kid = bits.kid(id, 0)?;
                Slot::Ratcheting(RatchetState {
                    steps: Mutex::new(Steps {
                        step: 0,
                        current: KeyState {
                            key: FrameKey::derive(suite, base_key, kid),
                            replay,
                        },
                        previous: None,
                    }),
                    chain: Mutex::new(LookAhead::new(suite, 0, base_key)),
                })
            }
        };
        self.slots.insert(id, slot);
        Ok(())
    }

    /// Removes the key for `id` (KID, or generation with a ratchet); its material is zeroized.
    /// Returns whether it was installed.
    pub fn remove_key(&mut self, id: u64) -> bool {
        self.slots.remove(&id).is_some()
    }

    /// [`decrypt`](Self::decrypt) through `&mut self`, for a caller that owns its receiver
    /// (one thread per incoming stream, or calls already serialized, as in the C ABI's
    /// context): no other thread can come between, so a fixed key's replay window is
    /// checked and updated without its lock (`BENCHMARKS.md` has what that saves).
    /// Answers and errors are exactly those of `decrypt`, and both kinds of call may be
    /// mixed.
    ///
    /// ```
    /// use mlsframe::sframe::{CipherSuite, Receiver, SendKey, SframeError};
    /// let suite = CipherSuite::Aes128GcmSha256_128;
    /// let mut sender = SendKey::new(suite, 7, &[0x42; 16]);
    /// let mut receiver = Receiver::new();
    /// receiver.add_key(suite, 7, &[0x42; 16])?;
    ///
    /// let mut frame = [0u8; 64];
    /// let n = sender.encrypt_exclusive(b"", b"hello", &mut frame)?;
    /// let mut plain = [0u8; 64];
    /// let opened = receiver.decrypt_exclusive(b"", &frame[..n], &mut plain)?;
    /// assert_eq!(&plain[..opened.len], b"hello");
    /// // The replay window is the same one `decrypt` uses.
    /// assert_eq!(receiver.decrypt(b"", &frame[..n], &mut plain), Err(SframeError::Replay));
    /// # Ok::<(), mlsframe::sframe::SframeError>(())
    /// ```
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt).
    pub fn decrypt_exclusive(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<Opened, SframeError> {
        self.open_exclusive(metadata, FrameInput::Separate { frame, out })
            .map(|(opened, _)| opened)
    }

    /// [`decrypt_in_place`](Self::decrypt_in_place) through `&mut self`, as
    /// [`decrypt_exclusive`](Self::decrypt_exclusive).
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt); on error `buf` holds no plaintext.
    pub fn decrypt_in_place_exclusive(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
    ) -> Result<Opened, SframeError> {
        let (opened, plain) = self.decrypt_in_place_unmoved_exclusive(metadata, buf)?;
        buf.copy_within(plain, 0);
        Ok(opened)
    }

    /// [`decrypt_in_place_unmoved`](Self::decrypt_in_place_unmoved) through `&mut self`, as
    /// [`decrypt_exclusive`](Self::decrypt_exclusive).
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt); on error `buf` holds no plaintext.
    #[inline]
    pub fn decrypt_in_place_unmoved_exclusive(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
    ) -> Result<(Opened, Range<usize>), SframeError> {
        let (opened, header_len) = self.open_exclusive(metadata, FrameInput::InPlace(buf))?;
        Ok((opened, header_len..header_len + opened.len))
    }

    /// Opens `frame` into `out` (which needs at least the ciphertext's length; see
    /// [`max_plaintext_len`]).
    ///
    /// # Errors
    /// [`SframeError::UnknownKeyId`] (recoverable), [`SframeError::AuthenticationFailed`],
    /// [`SframeError::Replay`], [`SframeError::MalformedFrame`],
    /// [`SframeError::BufferTooSmall`]. On error, `out` holds no plaintext.
    pub fn decrypt(
        &self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<Opened, SframeError> {
        self.open(metadata, FrameInput::Separate { frame, out })
            .map(|(opened, _)| opened)
    }

    /// Opens the frame in `buf[..len]` in place; on success the plaintext is moved to the
    /// start of `buf` (as WebRTC's frame decryptor expects).
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt); on error `buf` holds no plaintext.
    pub fn decrypt_in_place(&self, metadata: &[u8], buf: &mut [u8]) -> Result<Opened, SframeError> {
        let (opened, plain) = self.decrypt_in_place_unmoved(metadata, buf)?;
        buf.copy_within(plain, 0);
        Ok(opened)
    }

    /// Opens the frame `buf` in place and leaves the plaintext where it lies, behind the
    /// header: it is `buf[range]`, where `range` is returned with what the frame reports.
    /// [`decrypt_in_place`](Self::decrypt_in_place) moves it to the start of `buf` instead;
    /// a pipeline that can take the plaintext at an offset saves that move here.
    ///
    /// ```
    /// use mlsframe::sframe::{CipherSuite, Receiver, SendKey};
    /// let suite = CipherSuite::Aes256GcmSha512_128;
    /// let sender = SendKey::new(suite, 3, &[7; 32]);
    /// let mut receiver = Receiver::new();
    /// receiver.add_key(suite, 3, &[7; 32])?;
    ///
    /// let mut frame = sender.encrypt_to_vec(b"", b"audio")?;
    /// let (opened, plain) = receiver.decrypt_in_place_unmoved(b"", &mut frame)?;
    /// assert_eq!((&frame[plain], opened.kid), (&b"audio"[..], 3));
    /// # Ok::<(), mlsframe::sframe::SframeError>(())
    /// ```
    ///
    /// # Errors
    /// As [`decrypt`](Self::decrypt); on error `buf` holds no plaintext.
    #[inline]
    pub fn decrypt_in_place_unmoved(
        &self,
        metadata: &[u8],
        buf: &mut [u8],
    ) -> Result<(Opened, Range<usize>), SframeError> {
        let (opened, header_len) = self.open(metadata, FrameInput::InPlace(buf))?;
        Ok((opened, header_len..header_len + opened.len))
    }

    /// Opens a frame in pieces (codec-aware framing, see [`FrameInput::Detached`]): `aad`
    /// starts with the SFrame header; `body` is decrypted in place. On error `body` holds
    /// no plaintext.
    pub(crate) fn decrypt_detached(
        &self,
        aad: &[u8],
        body: &mut [u8],
        tag: &[u8],
    ) -> Result<Opened, SframeError> {
        self.open(&[], FrameInput::Detached { aad, body, tag })
            .map(|(opened, _)| opened)
    }

    /// Opens a frame; returns what it reports and the header length. Inlined into each
    /// public entry point: the fixed-key path is then one function down to the AEAD.
    #[inline(always)]
    fn open(
        &self,
        metadata: &[u8],
        mut input: FrameInput<'_>,
    ) -> Result<(Opened, usize), SframeError> {
        let (header, header_len, id) = self.locate(input.frame())?;
        let slot = self
            .slots
            .get(&id)
            .ok_or(SframeError::UnknownKeyId(header.kid))?;
        let len = match slot {
            // One lock from the check across the AEAD to the record: a replay is refused
            // before the AEAD, a forged frame records nothing, and no other frame of this
            // key comes between check and record.
            Slot::Fixed { key, replay } => open_fixed(
                key,
                &mut replay.lock(),
                header,
                header_len,
                metadata,
                &mut input,
            )?,
            Slot::Ratcheting(state) => open_generation(
                &self.config,
                state,
                header,
                header_len,
                metadata,
                &mut input,
            )?,
        };
        Ok((opened(header, len), header_len))
    }

    /// [`open`](Self::open) with the receiver to itself: a fixed key's replay window is
    /// reached without its lock (the `&mut` borrow already excludes every other frame).
    /// What a caller that serializes its frames anyway saves: the lock's atomic
    /// read-modify-write per frame. The C context's out-of-place open calls it directly,
    /// so that its body is inlined into the export.
    #[inline(always)]
    pub(crate) fn open_exclusive(
        &mut self,
        metadata: &[u8],
        mut input: FrameInput<'_>,
    ) -> Result<(Opened, usize), SframeError> {
        let (header, header_len, id) = self.locate(input.frame())?;
        let config = &self.config;
        let len = match self.slots.get_mut(&id) {
            None => return Err(SframeError::UnknownKeyId(header.kid)),
            Some(Slot::Fixed { key, replay }) => open_fixed(
                key,
                replay.get_mut(),
                header,
                header_len,
                metadata,
                &mut input,
            )?,
            Some(Slot::Ratcheting(state)) => {
                open_generation(config, state, header, header_len, metadata, &mut input)?
            }
        };
        Ok((opened(header, len), header_len))
    }

    /// A frame's header, its length and the id its key is installed under (the KID, or its
    /// generation with a ratchet).
    #[inline(always)]
    fn locate(&self, frame: &[u8]) -> Result<(Header, usize, u64), SframeError> {
        let (header, header_len) = Header::decode(frame)?;
        let id = self
            .config
            .ratchet
            .map_or(header.kid, |b| b.generation(header.kid));
        Ok((header, header_len, id))
    }
}

/// Opens a frame of the ratcheting generation `state` under the receiver's `config`.
fn open_generation(
    config: &ReceiverConfig,
    state: &RatchetState,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    input: &mut FrameInput<'_>,
) -> Result<usize, SframeError> {
    let bits = config.ratchet.ok_or(SframeError::InvalidArgument(
        "ratcheting key without ratchet bits",
    ))?;
    open_ratcheting(
        state,
        bits,
        config.replay_window,
        header,
        header_len,
        metadata,
        input,
    )
}

/// What a frame opened under `header` reports.
#[inline(always)]
fn opened(header: Header, len: usize) -> Opened {
    Opened {
        kid: header.kid,
        ctr: header.ctr,
        len,
    }
}

/// Opens a frame of a fixed key whose replay window the caller holds: a counter already
/// accepted is refused before the AEAD, and one is recorded only once its tag verified.
#[inline(always)]
fn open_fixed(
    key: &FrameKey,
    window: &mut ReplayWindow,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    input: &mut FrameInput<'_>,
) -> Result<usize, SframeError> {
    window.check(header.ctr)?;
    let len = key.open(header, header_len, metadata, input)?;
    if let Err(e) = window.accept(header.ctr) {
        wipe_plaintext(input, header_len, len);
        return Err(e);
    }
    Ok(len)
}

/// What the `steps` lock alone settles for a ratcheting frame.
enum Local {
    /// Opened or refused under the current or previous step.
    Done(Result<usize, SframeError>),
    /// The frame names a step ahead of `step`. `previous` is why the previous step, whose
    /// KID is the same, refused it (then it is tried ahead only as a second reading).
    Ahead {
        step: u64,
        previous: Option<SframeError>,
    },
}

/// Opens the frame under the current or the previous step, if its KID names one of them.
fn open_local(
    steps: &mut Steps,
    bits: RatchetBits,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    input: &mut FrameInput<'_>,
) -> Local {
    let mask = bits.mask();
    if (header.kid ^ steps.step) & mask == 0 {
        return Local::Done(steps.current.open_once(header, header_len, metadata, input));
    }
    let mut previous = None;
    if let Some(kept) = &mut steps.previous
        && (header.kid ^ kept.0) & mask == 0
    {
        let copy = keep_for_retry(&kept.1.key, input, header_len);
        match kept.1.open_once(header, header_len, metadata, input) {
            // Refused under the previous key: it may still be the step 2^R later.
            Err(e @ (SframeError::AuthenticationFailed | SframeError::Replay)) => {
                restore_after_failure(input, header_len, copy);
                previous = Some(e);
            }
            done => return Local::Done(done),
        }
    }
    Local::Ahead {
        step: steps.step,
        previous,
    }
}

/// Opens a frame of a ratcheting generation, moving the generation forward only when the
/// frame names a later step *and* its tag verifies under that step's key. Kept out of
/// [`Receiver::open`] so that the fixed-key path stays a small function.
#[inline(never)]
fn open_ratcheting(
    state: &RatchetState,
    bits: RatchetBits,
    window: u64,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    input: &mut FrameInput<'_>,
) -> Result<usize, SframeError> {
    let seen = match open_local(
        &mut lock(&state.steps),
        bits,
        header,
        header_len,
        metadata,
        input,
    ) {
        Local::Done(result) => return result,
        Local::Ahead { step, previous } => (step, previous),
    };

    let mut chain = lock(&state.chain);
    // From here on the generation cannot move except by this call. If it moved since the
    // look above, the frame may now name the current or previous step: look again.
    let previous = if chain.step() == seen.0 {
        seen.1
    } else {
        match open_local(
            &mut lock(&state.steps),
            bits,
            header,
            header_len,
            metadata,
            input,
        ) {
            Local::Done(result) => return result,
            Local::Ahead { previous, .. } => previous,
        }
    };
    let ahead = header.kid.wrapping_sub(chain.step()) & bits.mask();
    let mut replay = ReplayWindow::new(window)?;
    replay.accept(header.ctr)?;
    let opened = chain
        .key(ahead, header.kid)
        .and_then(|key| key.open(header, header_len, metadata, input));
    let len = match opened {
        Ok(len) => len,
        // A frame the previous step refused as a replay is reported as one.
        Err(SframeError::AuthenticationFailed) => {
            return Err(previous.unwrap_or(SframeError::AuthenticationFailed));
        }
        Err(e) => return Err(e),
    };
    let key = match chain.advance(ahead) {
        Ok(key) => key,
        Err(e) => {
            wipe_plaintext(input, header_len, len);
            return Err(e);
        }
    };
    let mut steps = lock(&state.steps);
    let current = std::mem::replace(&mut steps.current, KeyState { key, replay });
    steps.previous = Some(Box::new((steps.step, current)));
    steps.step = chain.step();
    Ok(len)
}

/// A copy of an in-place frame's body and tag, taken before a key is tried whose failed
/// open would clear them (AES-GCM under aws-lc), so that the frame can still be tried under
/// another key. The only allocation on a frame path: a ratcheting receiver, in place, a
/// frame naming the previous step's KID.
fn keep_for_retry(key: &FrameKey, input: &FrameInput<'_>, header_len: usize) -> Option<Vec<u8>> {
    match input {
        FrameInput::InPlace(buf) if key.failed_open_clears_in_place() => {
            buf.get(header_len..).map(<[u8]>::to_vec)
        }
        FrameInput::Detached { body, .. } if key.failed_open_clears_in_place() => {
            Some(body.to_vec())
        }
        _ => None,
    }
}

/// Puts back what [`keep_for_retry`] copied.
fn restore_after_failure(input: &mut FrameInput<'_>, header_len: usize, copy: Option<Vec<u8>>) {
    let Some(copy) = copy else { return };
    let body = match input {
        FrameInput::InPlace(buf) => buf.get_mut(header_len..),
        FrameInput::Detached { body, .. } => Some(&mut **body),
        FrameInput::Separate { .. } => None,
    };
    if let Some(body) = body
        && body.len() == copy.len()
    {
        body.copy_from_slice(&copy);
    }
}

/// Zeroes plaintext already written for a frame that was then refused.
fn wipe_plaintext(input: &mut FrameInput<'_>, header_len: usize, len: usize) {
    match input {
        FrameInput::Separate { out, .. } => out[..len].zeroize(),
        FrameInput::InPlace(buf) => buf[header_len..header_len + len].zeroize(),
        FrameInput::Detached { body, .. } => body[..len].zeroize(),
    }
}

/// The most plaintext a frame of `frame_len` bytes can hold: never more than `frame_len`.
pub fn max_plaintext_len(frame_len: usize) -> usize {
    frame_len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MLS KIDs of one epoch share their low bits (`leaf << E | epoch`): their hashes must
    /// still spread over a table's low-bit bucket index.
    #[test]
    fn kid_hash_spreads_ids_that_differ_only_in_high_bits() {
        let buckets: std::collections::HashSet<u64> = (0..64u64)
            .map(|leaf| {
                let mut h = KidHasher::default();
                h.write_u64((leaf << 4) | 3);
                h.finish() & 63
            })
            .collect();
        // A bare multiplication keeps the low 4 bits fixed here: at most 4 buckets.
        assert!(buckets.len() >= 16, "{} of 64 buckets used", buckets.len());
    }

    /// Keys in the first slot and in the map: each frame finds its own key, whichever
    /// was installed first, after the first one is removed and another takes its place.
    #[test]
    fn every_installed_key_is_found_wherever_it_sits() {
        let suite = CipherSuite::Aes128GcmSha256_128;
        let key = |kid: u64| [kid as u8 + 1; 16];
        let mut receiver = Receiver::new();
        let ids = [7u64, 3, 1 << 40, 9];
        for &kid in &ids {
            receiver.add_key(suite, kid, &key(kid)).unwrap();
            assert_eq!(
                receiver.add_key(suite, kid, &key(kid)),
                Err(SframeError::DuplicateKeyId(kid))
            );
        }
        let opens = |receiver: &Receiver, kid: u64, ctr: u64| {
            let frame = SendKey::new(suite, kid, &key(kid))
                .starting_at(ctr)
                .encrypt_to_vec(b"", b"media")
                .unwrap();
            let mut out = [0u8; 16];
            receiver.decrypt(b"", &frame, &mut out).map(|o| o.kid)
        };
        for &kid in &ids {
            assert_eq!(opens(&receiver, kid, 0), Ok(kid));
        }
        assert_eq!(opens(&receiver, 8, 0), Err(SframeError::UnknownKeyId(8)));
        // Remove the first key installed, then install one that takes its place.
        assert!(receiver.remove_key(7));
        assert!(!receiver.remove_key(7));
        assert_eq!(opens(&receiver, 7, 1), Err(SframeError::UnknownKeyId(7)));
        receiver.add_key(suite, 8, &key(8)).unwrap();
        assert_eq!(
            receiver.add_key(suite, 3, &key(3)),
            Err(SframeError::DuplicateKeyId(3))
        );
        for kid in [3, 1 << 40, 9, 8] {
            assert_eq!(opens(&receiver, kid, 1), Ok(kid));
        }
        assert!(format!("{receiver:?}").contains("keys: [3, 8, 9, 1099511627776]"));
        // Down to one key, kept in the map: still found, others still unknown.
        for kid in [3, 9, 8] {
            assert!(receiver.remove_key(kid));
        }
        assert_eq!(opens(&receiver, 1 << 40, 2), Ok(1 << 40));
        assert_eq!(opens(&receiver, 3, 2), Err(SframeError::UnknownKeyId(3)));
    }

    use crate::sframe::{RatchetingSender, SendKey};

    const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
    const BASE_KEY: &[u8] = &[1u8; 16];
    const GENERATION: u64 = 5;

    fn setup(r: u8) -> (RatchetBits, Receiver, RatchetingSender) {
        let bits = RatchetBits::new(r).unwrap();
        let mut receiver = Receiver::with_config(ReceiverConfig {
            ratchet: Some(bits),
            ..Default::default()
        });
        receiver.add_key(SUITE, GENERATION, BASE_KEY).unwrap();
        let sender = RatchetingSender::new(SUITE, GENERATION, BASE_KEY, bits).unwrap();
        (bits, receiver, sender)
    }

    /// The generation's state as tests see it.
    #[derive(Debug, PartialEq, Eq)]
    struct Probe {
        step: u64,
        previous: Option<u64>,
        /// Steps cached ahead of the current one.
        cached: usize,
        /// Ratchet steps (HKDF) derived so far by the look-ahead.
        derived_steps: usize,
        /// `FrameKey`s derived so far for steps ahead.
        derived_keys: usize,
    }

    fn probe(receiver: &Receiver) -> Probe {
        let Some(Slot::Ratcheting(state)) = receiver.slots.get(&GENERATION) else {
            panic!("generation {GENERATION} is not a ratcheting slot");
        };
        let chain = lock(&state.chain);
        let steps = lock(&state.steps);
        assert_eq!(chain.step(), steps.step, "chain and steps agree");
        Probe {
            step: steps.step,
            previous: steps.previous.as_ref().map(|p| p.0),
            cached: chain.cached(),
            derived_steps: chain.derived_steps,
            derived_keys: chain.derived_keys,
        }
    }

    /// A frame naming `step` of the generation, sealed under a key the receiver lacks.
    fn forged(bits: RatchetBits, step: u64, ctr: u64) -> Vec<u8> {
        let kid = bits.kid(GENERATION, step).unwrap();
        SendKey::new(SUITE, kid, &[9u8; 16])
            .starting_at(ctr)
            .encrypt_to_vec(b"", b"forged")
            .unwrap()
    }

    fn seal(sender: &RatchetingSender) -> Vec<u8> {
        sender.send_key().encrypt_to_vec(b"", b"media").unwrap()
    }

    fn open(receiver: &Receiver, frame: &[u8]) -> Result<Opened, SframeError> {
        let mut out = [0u8; 64];
        receiver.decrypt(b"", frame, &mut out)
    }

    fn step_of(bits: RatchetBits, opened: Opened) -> u64 {
        opened.kid & bits.mask()
    }

    #[test]
    fn a_repeated_forged_frame_derives_no_new_step() {
        let (bits, receiver, mut sender) = setup(8);
        let far = forged(bits, 255, 0);
        assert_eq!(
            open(&receiver, &far),
            Err(SframeError::AuthenticationFailed)
        );
        let after_first = probe(&receiver);
        assert_eq!(
            after_first,
            Probe {
                step: 0,
                previous: None,
                cached: 255,
                derived_steps: 255,
                derived_keys: 1,
            }
        );
        // The same frame again, and other forgeries naming +255: no HKDF at all.
        for ctr in 0..10 {
            for frame in [far.clone(), forged(bits, 255, ctr)] {
                assert_eq!(
                    open(&receiver, &frame),
                    Err(SframeError::AuthenticationFailed)
                );
            }
        }
        assert_eq!(probe(&receiver), after_first);
        // A nearer step: no ratchet step, one key the first time, none after.
        for _ in 0..3 {
            assert_eq!(
                open(&receiver, &forged(bits, 100, 7)),
                Err(SframeError::AuthenticationFailed)
            );
            let p = probe(&receiver);
            assert_eq!((p.derived_steps, p.derived_keys), (255, 2));
        }
        // Genuine frames still open: step 0 now, then step 255 with the cached chain.
        assert_eq!(step_of(bits, open(&receiver, &seal(&sender)).unwrap()), 0);
        for _ in 0..255 {
            sender.ratchet().unwrap();
        }
        let frame = seal(&sender);
        assert_eq!(step_of(bits, open(&receiver, &frame).unwrap()), 255);
        assert_eq!(
            probe(&receiver),
            Probe {
                step: 255,
                previous: Some(0),
                cached: 0,
                derived_steps: 255,
                derived_keys: 2,
            }
        );
        assert_eq!(open(&receiver, &frame), Err(SframeError::Replay));
    }

    #[test]
    fn the_cache_survives_a_move_and_stays_bounded() {
        let (bits, receiver, mut sender) = setup(8);
        assert!(open(&receiver, &forged(bits, 255, 0)).is_err());
        sender.ratchet().unwrap();
        assert_eq!(step_of(bits, open(&receiver, &seal(&sender)).unwrap()), 1);
        let p = probe(&receiver);
        assert_eq!((p.step, p.cached, p.derived_steps), (1, 254, 255));
        // +255 from step 1 is step 256: one new ratchet step.
        assert!(open(&receiver, &forged(bits, 256, 0)).is_err());
        let p = probe(&receiver);
        assert_eq!((p.cached, p.derived_steps), (255, 256));
        // Never more than 2^R - 1 steps cached, whatever is forged.
        for step in 1..=600 {
            assert!(open(&receiver, &forged(bits, step, 3)).is_err());
            assert!(probe(&receiver).cached <= 255);
        }
        assert_eq!(probe(&receiver).step, 1);
    }

    #[test]
    fn the_previous_step_opens_each_frame_once_after_a_move() {
        let (bits, receiver, mut sender) = setup(8);
        let step0: Vec<_> = (0..3).map(|_| seal(&sender)).collect();
        assert_eq!(step_of(bits, open(&receiver, &step0[0]).unwrap()), 0);
        sender.ratchet().unwrap();
        let step1 = seal(&sender);
        assert_eq!(step_of(bits, open(&receiver, &step1).unwrap()), 1);
        // Frames of step 0 still in flight open, once each.
        let late = open(&receiver, &step0[1]).unwrap();
        assert_eq!((step_of(bits, late), late.ctr), (0, 1));
        assert_eq!(open(&receiver, &step0[1]), Err(SframeError::Replay));
        assert_eq!(open(&receiver, &step0[0]), Err(SframeError::Replay));
        assert_eq!(step_of(bits, open(&receiver, &step0[2]).unwrap()), 0);
        assert_eq!(open(&receiver, &step0[2]), Err(SframeError::Replay));
        assert_eq!(open(&receiver, &step1), Err(SframeError::Replay));
        let p = probe(&receiver);
        assert_eq!((p.step, p.previous), (1, Some(0)));
    }

    #[test]
    fn steps_older_than_the_previous_one_are_refused() {
        let (_, receiver, mut sender) = setup(8);
        let step0 = seal(&sender);
        sender.ratchet().unwrap();
        let step1: Vec<_> = (0..2).map(|_| seal(&sender)).collect();
        sender.ratchet().unwrap();
        let step2 = seal(&sender);
        sender.ratchet().unwrap();
        let step3 = seal(&sender);

        open(&receiver, &step1[0]).unwrap();
        open(&receiver, &step2).unwrap();
        assert_eq!(
            open(&receiver, &step0),
            Err(SframeError::AuthenticationFailed)
        );
        let p = probe(&receiver);
        assert_eq!((p.step, p.previous), (2, Some(1)));
        // Step 1 is the previous step until the generation moves again...
        open(&receiver, &step3).unwrap();
        assert_eq!(
            open(&receiver, &step1[1]),
            Err(SframeError::AuthenticationFailed)
        );
        let p = probe(&receiver);
        assert_eq!((p.step, p.previous), (3, Some(2)));
    }

    #[test]
    fn a_jump_keeps_the_step_it_left() {
        let (bits, receiver, mut sender) = setup(8);
        let step0: Vec<_> = (0..2).map(|_| seal(&sender)).collect();
        open(&receiver, &step0[0]).unwrap();
        sender.ratchet().unwrap();
        sender.ratchet().unwrap();
        let step2 = seal(&sender);
        sender.ratchet().unwrap();
        assert_eq!(step_of(bits, open(&receiver, &seal(&sender)).unwrap()), 3);
        assert_eq!(probe(&receiver).previous, Some(0));
        assert_eq!(step_of(bits, open(&receiver, &step0[1]).unwrap()), 0);
        // Step 2 was skipped over: neither current nor previous.
        assert_eq!(
            open(&receiver, &step2),
            Err(SframeError::AuthenticationFailed)
        );
        assert_eq!(probe(&receiver).step, 3);
    }

    #[test]
    fn one_ratchet_bit_tells_the_previous_step_from_the_next_by_the_tag() {
        // With R = 1, the previous step and the next one share a KID.
        let (bits, receiver, mut sender) = setup(1);
        let step0: Vec<_> = (0..3).map(|_| seal(&sender)).collect();
        open(&receiver, &step0[0]).unwrap();
        sender.ratchet().unwrap();
        open(&receiver, &seal(&sender)).unwrap();
        assert_eq!(open(&receiver, &step0[1]).unwrap().ctr, 1);
        assert_eq!(open(&receiver, &step0[1]), Err(SframeError::Replay));
        assert_eq!(
            open(&receiver, &forged(bits, 0, 9)),
            Err(SframeError::AuthenticationFailed)
        );
        // Step 2 has step 0's KID: it opens as the step ahead and moves the generation.
        sender.ratchet().unwrap();
        let step2 = seal(&sender);
        assert_eq!(step2[..2], step0[0][..2], "same KID and CTR");
        // In place: the failed try under the previous key leaves the frame intact.
        let mut buf = step2.clone();
        let opened = receiver.decrypt_in_place(b"", &mut buf).unwrap();
        assert_eq!((opened.ctr, &buf[..opened.len]), (0, &b"media"[..]));
        assert_eq!(open(&receiver, &step2), Err(SframeError::Replay));
        let p = probe(&receiver);
        assert_eq!((p.step, p.previous), (2, Some(1)));
        // Step 0 is now older than the previous step.
        assert_eq!(
            open(&receiver, &step0[2]),
            Err(SframeError::AuthenticationFailed)
        );
    }

    #[test]
    fn in_place_a_frame_the_previous_step_refuses_still_opens_as_the_next_step() {
        // With R = 1 step 2 shares step 0's KID. A step-2 frame whose counter step 0 has
        // not seen is tried, and refused, under step 0's key first; in place, the frame
        // must survive that try (a backend may clear what a failed open decrypted).
        for suite in CipherSuite::ALL {
            let bits = RatchetBits::new(1).unwrap();
            let base_key = &[7u8; 48][..suite.key_len()];
            let mut receiver = Receiver::with_config(ReceiverConfig {
                ratchet: Some(bits),
                ..Default::default()
            });
            receiver.add_key(suite, GENERATION, base_key).unwrap();
            let mut sender = RatchetingSender::new(suite, GENERATION, base_key, bits).unwrap();
            open(&receiver, &seal(&sender)).unwrap();
            sender.ratchet().unwrap();
            open(&receiver, &seal(&sender)).unwrap();
            sender.ratchet().unwrap();
            let step2: Vec<_> = (0..2).map(|_| seal(&sender)).collect();
            let mut buf = step2[1].clone();
            let opened = receiver.decrypt_in_place(b"", &mut buf).unwrap();
            assert_eq!(
                (opened.ctr, &buf[..opened.len]),
                (1, &b"media"[..]),
                "{suite:?}"
            );
            let p = probe(&receiver);
            assert_eq!((p.step, p.previous), (2, Some(1)), "{suite:?}");
            // Refused under the previous step's key and as a step ahead: no plaintext left.
            let mut forged = forged(bits, 1, 5);
            assert_eq!(
                receiver.decrypt_in_place(b"", &mut forged),
                Err(SframeError::AuthenticationFailed)
            );
            assert!(!forged.windows(6).any(|w| w == b"forged"), "{suite:?}");
        }
    }

    #[test]
    fn forged_frames_never_move_the_generation_or_its_windows() {
        for r in [1, 2, 4, 8] {
            let (bits, receiver, mut sender) = setup(r);
            let mask = bits.mask();
            let step0: Vec<_> = (0..3).map(|_| seal(&sender)).collect();
            open(&receiver, &step0[0]).unwrap();
            sender.ratchet().unwrap();
            let step1: Vec<_> = (0..3).map(|_| seal(&sender)).collect();
            open(&receiver, &step1[0]).unwrap();
            let before = probe(&receiver);
            assert_eq!((before.step, before.previous), (1, Some(0)));
            // Every KID of the generation, at counters in use and not.
            for step in 0..=2 * mask + 1 {
                for ctr in 0..3 {
                    // Counters already seen may be refused as replays before the tag.
                    let refused = open(&receiver, &forged(bits, step, ctr));
                    assert!(
                        matches!(
                            refused,
                            Err(SframeError::AuthenticationFailed | SframeError::Replay)
                        ),
                        "R = {r}, step {step}, ctr {ctr}: {refused:?}"
                    );
                }
            }
            let after = probe(&receiver);
            assert_eq!((after.step, after.previous), (1, Some(0)), "R = {r}");
            // The windows did not move: the genuine frames forged counters shadowed open.
            assert_eq!(open(&receiver, &step1[1]).unwrap().ctr, 1);
            assert_eq!(open(&receiver, &step0[1]).unwrap().ctr, 1);
            assert_eq!(open(&receiver, &step1[2]).unwrap().ctr, 2);
            assert_eq!(open(&receiver, &step0[2]).unwrap().ctr, 2);
        }
    }

    #[test]
    fn threads_accept_each_genuine_frame_exactly_once() {
        let (bits, receiver, mut sender) = setup(8);
        let mut frames = Vec::new();
        for _ in 0..6 {
            frames.extend((0..20).map(|_| seal(&sender)));
            sender.ratchet().unwrap();
        }
        let accepted: Vec<Vec<bool>> = std::thread::scope(|s| {
            let forger = s.spawn(|| {
                for step in 0..=512u64 {
                    assert!(open(&receiver, &forged(bits, step, step % 40)).is_err());
                }
            });
            let openers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        frames
                            .iter()
                            .map(|f| open(&receiver, f).is_ok())
                            .collect::<Vec<bool>>()
                    })
                })
                .collect();
            forger.join().unwrap();
            openers.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for i in 0..frames.len() {
            let times = accepted.iter().filter(|a| a[i]).count();
            assert_eq!(times, 1, "frame {i} accepted {times} times");
        }
        assert_eq!(probe(&receiver).step, 5);
    }

    #[test]
    fn debug_shows_no_key_material() {
        let (_, receiver, _) = setup(8);
        let shown = format!("{receiver:?}");
        assert!(!shown.contains("1, 1, 1"), "{shown}");
        assert!(shown.contains("keys: [5]"), "{shown}");
    }

    #[test]
    fn unmoved_in_place_opens_what_the_moving_call_opens_and_refuses_alike() {
        use crate::sframe::SendKey;
        for suite in CipherSuite::ALL {
            let base = [5u8; 64];
            let sender = SendKey::new(suite, 300, &base[..suite.key_len()]).starting_at(70_000);
            let mut moving = Receiver::new();
            moving
                .add_key(suite, 300, &base[..suite.key_len()])
                .unwrap();
            let mut unmoved = Receiver::new();
            unmoved
                .add_key(suite, 300, &base[..suite.key_len()])
                .unwrap();
            let plain: Vec<u8> = (0..77u8).collect();
            let frame = sender.encrypt_to_vec(b"md", &plain).unwrap();

            let mut a = frame.clone();
            let opened_a = moving.decrypt_in_place(b"md", &mut a).unwrap();
            let mut b = frame.clone();
            let (opened_b, range) = unmoved.decrypt_in_place_unmoved(b"md", &mut b).unwrap();
            assert_eq!(opened_a, opened_b);
            assert_eq!(&a[..opened_a.len], &plain[..]);
            assert_eq!(&b[range.clone()], &plain[..]);
            assert_eq!(range.start, Header::decode(&frame).unwrap().1);
            assert_eq!(&b[..range.start], &frame[..range.start], "header untouched");

            // Replayed, then forged: refused, and no plaintext is left in the buffer.
            let mut c = frame.clone();
            assert_eq!(
                unmoved.decrypt_in_place_unmoved(b"md", &mut c),
                Err(SframeError::Replay)
            );
            let mut forged = sender.encrypt_to_vec(b"md", &plain).unwrap();
            *forged.last_mut().unwrap() ^= 1;
            let mut d = forged.clone();
            assert_eq!(
                unmoved.decrypt_in_place_unmoved(b"md", &mut d),
                Err(SframeError::AuthenticationFailed)
            );
            assert!(!d.windows(plain.len()).any(|w| w == &plain[..]));
            assert_eq!(
                unmoved.decrypt_in_place_unmoved(b"md", &mut []),
                Err(SframeError::MalformedFrame(
                    crate::sframe::MalformedReason::TruncatedHeader
                ))
            );
        }
    }

    /// Every frame of a script, opened by two identical receivers, one through `&self`
    /// and one through `&mut self`: the same answers, the same plaintext, out of place and
    /// in place (moved and unmoved), for fixed and ratcheting keys.
    #[test]
    fn exclusive_opens_answer_as_shared_ones_do() {
        use crate::sframe::SendKey;
        let plain: Vec<u8> = (0..50u8).collect();
        for ratchet in [None, Some(RatchetBits::new(2).unwrap())] {
            let config = ReceiverConfig {
                ratchet,
                ..Default::default()
            };
            let (mut shared, mut exclusive) =
                (Receiver::with_config(config), Receiver::with_config(config));
            for r in [&mut shared, &mut exclusive] {
                r.add_key(SUITE, 1, BASE_KEY).unwrap();
                r.add_key(SUITE, 2, BASE_KEY).unwrap();
            }
            let mut frames = Vec::new();
            match ratchet {
                None => {
                    let sender = SendKey::new(SUITE, 2, BASE_KEY);
                    for _ in 0..3 {
                        frames.push(sender.encrypt_to_vec(b"m", &plain).unwrap());
                    }
                }
                Some(bits) => {
                    let mut sender = RatchetingSender::new(SUITE, 2, BASE_KEY, bits).unwrap();
                    frames.push(seal(&sender));
                    sender.ratchet().unwrap();
                    frames.push(seal(&sender));
                    frames.push(seal(&sender));
                }
            }
            let mut forged = frames[2].clone();
            *forged.last_mut().unwrap() ^= 1;
            let unknown = SendKey::new(SUITE, 1000, BASE_KEY)
                .encrypt_to_vec(b"m", &plain)
                .unwrap();
            // Genuine, a replay, forged, genuine after the forgery, unknown KID, garbage.
            let script = [
                &frames[0],
                &frames[1],
                &frames[0],
                &forged,
                &frames[2],
                &unknown,
                &vec![0xff],
            ];
            let mut answers = Vec::new();
            for (i, frame) in script.iter().enumerate() {
                let md: &[u8] = if ratchet.is_none() { b"m" } else { b"" };
                let (mut a, mut b) = ([0u8; 128], [0u8; 128]);
                let len = frame.len();
                // Out of place, in place with the plaintext moved, in place unmoved: each
                // mode sees a genuine frame and at least one refusal.
                let (ra, rb) = match [0, 1, 2, 0, 2, 1, 0][i] {
                    0 => (
                        shared.decrypt(md, frame, &mut a),
                        exclusive.decrypt_exclusive(md, frame, &mut b),
                    ),
                    1 => {
                        a[..len].copy_from_slice(frame);
                        b[..len].copy_from_slice(frame);
                        (
                            shared.decrypt_in_place(md, &mut a[..len]),
                            exclusive.decrypt_in_place_exclusive(md, &mut b[..len]),
                        )
                    }
                    _ => {
                        a[..len].copy_from_slice(frame);
                        b[..len].copy_from_slice(frame);
                        let ra = shared.decrypt_in_place_unmoved(md, &mut a[..len]);
                        let rb = exclusive.decrypt_in_place_unmoved_exclusive(md, &mut b[..len]);
                        assert_eq!(ra, rb, "frame {i}");
                        if let Ok((_, plain)) = &ra {
                            a.copy_within(plain.clone(), 0);
                            b.copy_within(plain.clone(), 0);
                        }
                        (ra.map(|(o, _)| o), rb.map(|(o, _)| o))
                    }
                };
                assert_eq!(ra, rb, "frame {i}");
                if let Ok(opened) = ra {
                    assert_eq!(&a[..opened.len], &b[..opened.len], "frame {i}");
                }
                answers.push(ra.map(|o| o.ctr));
            }
            // The script itself exercises what it should: opens, then every refusal.
            assert!(answers[0].is_ok() && answers[1].is_ok() && answers[4].is_ok());
            assert_eq!(answers[2], Err(SframeError::Replay));
            assert_eq!(answers[3], Err(SframeError::AuthenticationFailed));
            assert!(matches!(answers[5], Err(SframeError::UnknownKeyId(_))));
            assert!(matches!(answers[6], Err(SframeError::MalformedFrame(_))));
        }
    }
}
