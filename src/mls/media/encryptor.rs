//! [`Encryptor`]: seals our own frames for one stream context in the epoch the ring says
//! we send in, switching (and asking for a key frame) when that epoch changes.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::ring::{EpochKeys, KeyRing, MediaShared};
use super::{MediaError, lock};
use crate::media::{self, Codec, Source};
use crate::sframe::{CipherSuite, SendKey, SframeError};

/// How many counters an encryptor reserves from its send key at once.
const COUNTER_BLOCK: u64 = 64;

/// The epoch an encryptor last moved to, and its send key there.
struct Sealing {
    incarnation: u64,
    epoch: u64,
    key: Arc<SendKey>,
    /// Counters of `key` reserved for this encryptor alone, taken from the key's shared
    /// counter [`COUNTER_BLOCK`] at a time: a frame then takes its counter without an
    /// atomic operation. Those left when the encryptor moves on or is dropped are never
    /// used (a gap in the stream's counters, which receivers accept).
    ctrs: Range<u64>,
    /// The ring generation ([`MediaShared::generation`]) at which the ring last named this
    /// epoch as the one to send in, with no switch to a later one waiting on the clock
    /// or on receivers. While the generation is unchanged, frames use `key` at once.
    valid_for: Option<u64>,
}

impl Sealing {
    /// Whether this key may stand in for `keys`: same group, and not older (the encryptor
    /// never moves back to an older epoch).
    fn covers(&self, keys: &EpochKeys) -> bool {
        self.incarnation == keys.incarnation && self.epoch >= keys.epoch
    }
}

/// Seals our own frames for one stream context. Never blocks on MLS work.
///
/// Sealing takes `&mut self`: the encryptor keeps its current send key and checks, with one
/// atomic load per frame, that the key ring has not changed since; no lock, no reference
/// count. It is `Send` (move it to the encoder's thread); threads that must seal on one
/// stream together share it behind a lock, as the C ABI does.
///
/// Frames are sealed under the current epoch's key for KID
/// `(context << (S+E)) + (own_leaf << E) + (epoch mod 2^E)`; when the epoch changes the
/// next frame uses the new key and [`take_key_frame_request`](Self::take_key_frame_request)
/// returns true once, so the app can send a key frame.
pub struct Encryptor {
    shared: Arc<MediaShared>,
    context: u64,
    /// Where the encryptor last moved. Only this handle reads or writes it (sealing takes
    /// `&mut self`), so a frame needs no lock to reach its key.
    sealing: Option<Sealing>,
    key_frame_needed: AtomicBool,
    /// How frames are framed (`docs/FRAMING.md`); [`Codec::Whole`] is plain RFC 9605.
    codec: Codec,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor")
            .field("context", &self.context)
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

impl Drop for Encryptor {
    fn drop(&mut self) {
        lock(&self.shared.contexts).remove(&self.context);
    }
}

impl Encryptor {
    pub(super) fn new(
        shared: &Arc<MediaShared>,
        context: u64,
        codec: Codec,
    ) -> Result<Encryptor, MediaError> {
        if !lock(&shared.contexts).insert(context) {
            return Err(MediaError::ContextInUse);
        }
        Ok(Encryptor {
            shared: Arc::clone(shared),
            context,
            sealing: None,
            key_frame_needed: AtomicBool::new(false),
            codec,
        })
    }

    /// The stream context this encryptor owns.
    pub fn context(&self) -> u64 {
        self.context
    }

    /// How this encryptor frames its frames (chosen at creation).
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The epoch the next frame will be sealed in, if any.
    pub fn epoch(&self) -> Option<u64> {
        self.send_epoch(&self.shared.ring.load()).map(|e| e.epoch)
    }

    /// The epoch the ring says we send in: the next one once the switch delay passed or
    /// receivers are ready (the clock is read only while a switch waits).
    fn send_epoch<'r>(&self, ring: &'r KeyRing) -> Option<&'r Arc<EpochKeys>> {
        if ring.stopped {
            return None;
        }
        if let Some((next, at)) = &ring.send_next
            && (self.shared.receivers_ready.load(Ordering::Acquire) || self.shared.now() >= *at)
        {
            return Some(next);
        }
        ring.send.as_ref()
    }

    /// Seals with the send key of the current epoch. Keys live in the epoch (one per
    /// context), so successive encryptors of a context share one counter. While the ring
    /// is unchanged since this encryptor last looked, a frame costs one atomic load on top
    /// of the [`SendKey`]: no lock, no ring load, no `Arc` clone.
    #[inline(always)]
    fn seal<R>(&mut self, seal: impl FnOnce(&SendKey) -> R) -> Result<R, MediaError> {
        let generation = self.shared.generation.load(Ordering::Acquire);
        if let Some(s) = &self.sealing
            && s.valid_for == Some(generation)
        {
            return Ok(seal(&s.key));
        }
        let key = self.look_again(generation)?;
        Ok(seal(&key))
    }

    /// Reads the ring: moves to the epoch it names (raising the key-frame request) unless
    /// this encryptor already reached that epoch or a newer one: it never moves back.
    /// `generation` was read before the ring.
    #[cold]
    fn look_again(&mut self, generation: u64) -> Result<Arc<SendKey>, MediaError> {
        let ring = self.shared.ring.load();
        let epoch = self.send_epoch(&ring).ok_or(MediaError::NotMember)?;
        // A switch still waiting for its delay or for receivers: look at the ring again
        // on every frame until it is taken.
        let waiting = ring
            .send_next
            .as_ref()
            .is_some_and(|(next, _)| !Arc::ptr_eq(next, epoch));
        let sealing = &mut self.sealing;
        if let Some(s) = sealing
            && s.covers(epoch)
        {
            if s.epoch == epoch.epoch && !waiting {
                s.valid_for = Some(generation);
            }
            return Ok(Arc::clone(&s.key));
        }
        let key = epoch.send_key(self.context)?;
        if sealing.is_some() {
            self.key_frame_needed.store(true, Ordering::Release);
        }
        self.sealing = Some(Sealing {
            incarnation: epoch.incarnation,
            epoch: epoch.epoch,
            key: Arc::clone(&key),
            ctrs: 0..0,
            valid_for: (!waiting).then_some(generation),
        });
        Ok(key)
    }

    /// Upper bound on the sealed size of `plaintext_len` bytes (any KID and counter),
    /// codec trailer included ([`media::max_sealed_len`]).
    pub fn max_ciphertext_len(&self, plaintext_len: usize) -> Option<usize> {
        let suite = self
            .send_epoch(&self.shared.ring.load())
            .map_or(CipherSuite::Aes128GcmSha256_128, |e| e.suite);
        media::max_sealed_len(self.codec, suite, plaintext_len)
    }

    /// Seals `frame` into `out` in this encryptor's codec framing; returns the bytes
    /// written.
    ///
    /// # Errors
    /// [`MediaError::NotMember`] before joining or after removal,
    /// [`MediaError::ContextTooLarge`], SFrame errors (buffer too small, counter
    /// exhausted), and for codec-aware framing [`MediaError::Framing`] (layout too large,
    /// start-code emulation after every retry).
    #[inline]
    pub fn encrypt(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<usize, MediaError> {
        if self.codec == Codec::Whole {
            if let Some((key, ctr)) = self.reserved_counter() {
                return Ok(key.encrypt_at(ctr, metadata, frame, out)?);
            }
            let (key, ctr) = self.take_counter()?;
            return Ok(key.encrypt_at(ctr, metadata, frame, out)?);
        }
        let codec = self.codec;
        Ok(self
            .seal(|key| media::seal_frame(codec, key, metadata, Source::Separate(frame), out))??)
    }

    /// Seals in place: `buf[..len]` holds the frame and `buf` has room for the sealed frame
    /// ([`max_ciphertext_len`](Self::max_ciphertext_len): header and tag, and in
    /// codec-aware framing the trailer). Allocates nothing.
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt). In codec-aware framing, on error `buf[..len]` still
    /// holds the frame.
    #[inline]
    pub fn encrypt_in_place(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, MediaError> {
        if self.codec == Codec::Whole {
            if len > buf.len() {
                return Err(
                    SframeError::InvalidArgument("plaintext length exceeds the buffer").into(),
                );
            }
            if let Some((key, ctr)) = self.reserved_counter() {
                return Ok(key.encrypt_in_place_at(ctr, metadata, buf, len)?);
            }
            let (key, ctr) = self.take_counter()?;
            return Ok(key.encrypt_in_place_at(ctr, metadata, buf, len)?);
        }
        let codec = self.codec;
        Ok(self.seal(|key| media::seal_frame(codec, key, metadata, Source::InPlace(len), buf))??)
    }

    /// Most frames: the ring is unchanged since this encryptor last looked and a reserved
    /// counter is left. One atomic load; no lock, no atomic read-modify-write.
    #[inline(always)]
    fn reserved_counter(&mut self) -> Option<(&SendKey, u64)> {
        let generation = self.shared.generation.load(Ordering::Acquire);
        let s = self.sealing.as_mut()?;
        if s.valid_for != Some(generation) {
            return None;
        }
        let ctr = s.ctrs.next()?;
        Some((&s.key, ctr))
    }

    /// The other frames: looks at the ring again (moving to a new epoch if it says so) and
    /// reserves more counters when none is left.
    #[cold]
    #[inline(never)]
    fn take_counter(&mut self) -> Result<(&SendKey, u64), MediaError> {
        let generation = self.shared.generation.load(Ordering::Acquire);
        self.look_again(generation)?;
        let s = self.sealing.as_mut().ok_or(MediaError::NotMember)?;
        if s.ctrs.is_empty() {
            s.ctrs = s.key.take_counters(COUNTER_BLOCK)?;
        }
        let ctr = s.ctrs.next().ok_or(SframeError::CounterExhausted)?;
        Ok((&s.key, ctr))
    }

    /// Whether the sender's epoch changed since the last call (send a key frame).
    pub fn take_key_frame_request(&self) -> bool {
        self.key_frame_needed.swap(false, Ordering::AcqRel)
    }
}
