//! The receiving side: a [`Receiver`] holds decrypt-only keys by KID (or, with the §5.1
//! ratchet, by generation), each with its own replay window behind its own short lock.
//!
//! Order per frame: parse the header, find the key, check the replay window, verify and
//! decrypt, then re-check and record the counter under the window's lock, so two threads
//! cannot both accept one duplicate. Plaintext of a frame refused at that last step is wiped.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use zeroize::{Zeroize, Zeroizing};

use super::error::SframeError;
use super::header::Header;
use super::key::{FrameInput, FrameKey};
use super::ratchet::{RatchetBits, ratchet_base_key};
use super::replay::{DEFAULT_REPLAY_WINDOW, ReplayWindow};
use super::suite::CipherSuite;

/// How a [`Receiver`] treats incoming frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// Counters covered by each key's replay window (default 128).
    pub replay_window: u64,
    /// When set, keys are installed per generation and frames may ratchet them forward
    /// (RFC 9605 §5.1) by up to `2^R - 1` steps.
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

/// A ratcheting generation: the current step's base key beside its key state.
struct RatchetState {
    step: u64,
    base_key: Zeroizing<Vec<u8>>,
    current: KeyState,
}

enum Slot {
    /// A fixed key: only the replay window needs a lock.
    Fixed {
        key: FrameKey,
        replay: Mutex<ReplayWindow>,
    },
    /// A ratcheting key: verified frames can move it forward, so all of it is locked.
    Ratcheting(Mutex<RatchetState>),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded state is updated in single assignments; a panic elsewhere cannot leave
    // it half-written, so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A store of decrypt-only SFrame keys.
///
/// Installing and removing keys takes `&mut self`; decrypting takes `&self` and may run on
/// many threads at once (wrap the receiver in a lock of your choice if keys change while
/// media flows). See [`SendKey`](super::SendKey) for a round trip.
pub struct Receiver {
    config: ReceiverConfig,
    slots: HashMap<u64, Slot>,
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
            slots: HashMap::new(),
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
                replay: Mutex::new(replay),
            },
            Some(bits) => {
                let kid = bits.kid(id, 0)?;
                Slot::Ratcheting(Mutex::new(RatchetState {
                    step: 0,
                    base_key: Zeroizing::new(base_key.to_vec()),
                    current: KeyState {
                        key: FrameKey::derive(suite, base_key, kid),
                        replay,
                    },
                }))
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
        let (opened, header_len) = self.open(metadata, FrameInput::InPlace(buf))?;
        buf.copy_within(header_len..header_len + opened.len, 0);
        Ok(opened)
    }

    /// Opens a frame; returns what it reports and the header length.
    fn open(
        &self,
        metadata: &[u8],
        mut input: FrameInput<'_>,
    ) -> Result<(Opened, usize), SframeError> {
        let (header, header_len) = Header::decode(input.frame())?;
        let id = self
            .config
            .ratchet
            .map_or(header.kid, |b| b.generation(header.kid));
        let slot = self
            .slots
            .get(&id)
            .ok_or(SframeError::UnknownKeyId(header.kid))?;
        let len = match slot {
            Slot::Fixed { key, replay } => {
                lock(replay).check(header.ctr)?;
                let len = key.open(header, header_len, metadata, &mut input)?;
                if let Err(e) = lock(replay).accept(header.ctr) {
                    wipe_plaintext(&mut input, header_len, len);
                    return Err(e);
                }
                len
            }
            Slot::Ratcheting(state) => {
                let bits = self.config.ratchet.ok_or(SframeError::InvalidArgument(
                    "ratcheting key without ratchet bits",
                ))?;
                let mut state = lock(state);
                open_ratcheting(
                    &mut state,
                    bits,
                    self.config.replay_window,
                    header,
                    header_len,
                    metadata,
                    &mut input,
                )?
            }
        };
        let opened = Opened {
            kid: header.kid,
            ctr: header.ctr,
            len,
        };
        Ok((opened, header_len))
    }
}

/// Opens a frame of a ratcheting generation, moving the generation forward only when the
/// frame names a later step *and* its tag verifies under that step's key.
fn open_ratcheting(
    state: &mut RatchetState,
    bits: RatchetBits,
    window: u64,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    input: &mut FrameInput<'_>,
) -> Result<usize, SframeError> {
    let behind = header.kid.wrapping_sub(state.step) & bits.mask();
    if behind == 0 {
        state.current.replay.check(header.ctr)?;
        let len = state
            .current
            .key
            .open(header, header_len, metadata, input)?;
        state.current.replay.accept(header.ctr)?;
        return Ok(len);
    }
    let suite = state.current.key.suite();
    let mut base_key = ratchet_base_key(suite, &state.base_key);
    for _ in 1..behind {
        base_key = ratchet_base_key(suite, &base_key);
    }
    let candidate = KeyState {
        key: FrameKey::derive(suite, &base_key, header.kid),
        replay: ReplayWindow::new(window)?,
    };
    let len = candidate.key.open(header, header_len, metadata, input)?;
    let step = state
        .step
        .checked_add(behind)
        .ok_or(SframeError::RatchetOutOfRange)?;
    *state = RatchetState {
        step,
        base_key,
        current: candidate,
    };
    state.current.replay.accept(header.ctr)?;
    Ok(len)
}

/// Zeroes plaintext already written for a frame that was then refused.
fn wipe_plaintext(input: &mut FrameInput<'_>, header_len: usize, len: usize) {
    match input {
        FrameInput::Separate { out, .. } => out[..len].zeroize(),
        FrameInput::InPlace(buf) => buf[header_len..header_len + len].zeroize(),
    }
}

/// The most plaintext a frame of `frame_len` bytes can hold: never more than `frame_len`.
pub fn max_plaintext_len(frame_len: usize) -> usize {
    frame_len
}
