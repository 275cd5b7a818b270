//! The sender-key ratchet of RFC 9605 §5.1 for app-managed keys.
//!
//! A sender holds a base key per *generation*; ratcheting replaces it with
//! `HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh)` and bumps the step.
//! The KID names both: `KID = (generation << R) + (step mod 2^R)`, so a receiver can catch up
//! by at most `2^R - 1` steps from what it last verified.
//!
//! On the receiving side, [`LookAhead`] holds one generation's chain: the base key of the
//! step the receiver last verified and, in front of it, the steps that frames have named
//! since, each derived at most once (see [`Receiver`](super::Receiver) for how frames use it).

use std::collections::VecDeque;

use hkdf::Hkdf;
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use super::error::SframeError;
use super::key::FrameKey;
use super::send::SendKey;
use super::suite::CipherSuite;

const RATCHET_LABEL: &[u8] = b"SFrame 1.0 Ratchet";

/// One ratchet step: the next base key, `Nh` bytes long.
pub fn ratchet_base_key(suite: CipherSuite, base_key: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut next = Zeroizing::new(vec![0u8; suite.hash_len()]);
    const WHY: &str = "Nh is within HKDF's output limit";
    match suite {
        CipherSuite::Aes256GcmSha512_128 => Hkdf::<Sha512>::new(None, base_key)
            .expand(RATCHET_LABEL, &mut next)
            .expect(WHY),
        _ => Hkdf::<Sha256>::new(None, base_key)
            .expand(RATCHET_LABEL, &mut next)
            .expect(WHY),
    }
    next
}

/// How KIDs split into generation and ratchet step: the low `bits` (R) carry the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatchetBits(u8);

impl RatchetBits {
    /// R bits of ratchet step, 1..=8.
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] outside 1..=8.
    pub fn new(bits: u8) -> Result<Self, SframeError> {
        if (1..=8).contains(&bits) {
            Ok(RatchetBits(bits))
        } else {
            Err(SframeError::InvalidArgument("ratchet bits must be 1..=8"))
        }
    }

    /// R.
    pub fn get(self) -> u8 {
        self.0
    }

    pub(crate) fn mask(self) -> u64 {
        (1u64 << self.0) - 1
    }

    /// `(generation << R) + (step mod 2^R)`.
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] when the generation does not fit in `64 - R` bits.
    pub fn kid(self, generation: u64, step: u64) -> Result<u64, SframeError> {
        if generation >> (64 - self.0) != 0 {
            return Err(SframeError::InvalidArgument(
                "generation too large for the KID",
            ));
        }
        Ok((generation << self.0) | (step & self.mask()))
    }

    /// The generation a KID names.
    pub fn generation(self, kid: u64) -> u64 {
        kid >> self.0
    }
}

/// The most steps a receiver ever looks ahead of its current step: `2^R - 1` for R = 8.
pub(super) const MAX_LOOK_AHEAD: u64 = 255;

/// A receiver's cache of one generation's ratchet chain.
///
/// `base_key` belongs to `step`, the step the receiver last verified a frame of. `ahead[i]`
/// holds the base key of step `step + 1 + i`, and that step's [`FrameKey`] once a frame has
/// named it. The chain is extended only as far as a frame names, and never recomputed: a
/// step's base key and its `FrameKey` are each derived at most once for as long as the
/// generation is installed. Moving forward drops the steps passed over; the steps beyond
/// stay cached. At most [`MAX_LOOK_AHEAD`] steps are held: a base key each (Nh bytes), plus
/// a boxed `FrameKey` (under 700 bytes) for each step a frame has named, so under 200 KiB
/// per generation at worst. Every base key is [`Zeroizing`]; every `FrameKey` wipes itself
/// on drop.
pub(super) struct LookAhead {
    suite: CipherSuite,
    step: u64,
    base_key: Zeroizing<Vec<u8>>,
    ahead: VecDeque<AheadStep>,
    /// Ratchet steps (HKDF) derived so far.
    #[cfg(test)]
    pub(super) derived_steps: usize,
    /// `FrameKey`s (HKDF) derived so far for steps ahead.
    #[cfg(test)]
    pub(super) derived_keys: usize,
}

/// One step in front of the current one.
struct AheadStep {
    base_key: Zeroizing<Vec<u8>>,
    /// Boxed so that a chain of base keys alone stays small.
    key: Option<Box<FrameKey>>,
}

impl LookAhead {
    /// A chain at `step` whose base key is `base_key`, with nothing derived ahead yet.
    pub(super) fn new(suite: CipherSuite, step: u64, base_key: &[u8]) -> LookAhead {
        LookAhead {
            suite,
            step,
            base_key: Zeroizing::new(base_key.to_vec()),
            ahead: VecDeque::new(),
            #[cfg(test)]
            derived_steps: 0,
            #[cfg(test)]
            derived_keys: 0,
        }
    }

    /// The step the chain stands at (the receiver's current step).
    pub(super) fn step(&self) -> u64 {
        self.step
    }

    /// Steps held in front of the current one.
    #[cfg(test)]
    pub(super) fn cached(&self) -> usize {
        self.ahead.len()
    }

    /// The key of step `step + k`, whose KID is `kid`, deriving only what is not cached yet.
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] unless `1 <= k <= MAX_LOOK_AHEAD`;
    /// [`SframeError::RatchetOutOfRange`] when `step + k` overflows.
    pub(super) fn key(&mut self, k: u64, kid: u64) -> Result<&FrameKey, SframeError> {
        if !(1..=MAX_LOOK_AHEAD).contains(&k) {
            return Err(SframeError::InvalidArgument(
                "ratchet look-ahead must be 1..=255 steps",
            ));
        }
        self.step
            .checked_add(k)
            .ok_or(SframeError::RatchetOutOfRange)?;
        // k <= 255, so the cast is lossless.
        let index = k as usize - 1;
        while self.ahead.len() <= index {
            let from = self.ahead.back().map_or(&self.base_key, |s| &s.base_key);
            let base_key = ratchet_base_key(self.suite, from);
            #[cfg(test)]
            {
                self.derived_steps += 1;
            }
            self.ahead.push_back(AheadStep {
                base_key,
                key: None,
            });
        }
        let suite = self.suite;
        let entry = &mut self.ahead[index];
        if entry.key.is_none() {
            #[cfg(test)]
            {
                self.derived_keys += 1;
            }
        }
        Ok(entry
            .key
            .get_or_insert_with(|| Box::new(FrameKey::derive(suite, &entry.base_key, kid))))
    }

    /// Moves the chain to step `step + k` and hands over that step's key, which
    /// [`key`](Self::key) must have derived; the steps passed over are dropped (wiped).
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] when step `step + k` has no key cached (nothing
    /// changes then); [`SframeError::RatchetOutOfRange`] when `step + k` overflows.
    pub(super) fn advance(&mut self, k: u64) -> Result<FrameKey, SframeError> {
        let not_derived = SframeError::InvalidArgument("ratchet step not derived");
        let index = usize::try_from(k)
            .ok()
            .and_then(|k| k.checked_sub(1))
            .ok_or(not_derived)?;
        if self.ahead.get(index).is_none_or(|s| s.key.is_none()) {
            return Err(not_derived);
        }
        let step = self
            .step
            .checked_add(k)
            .ok_or(SframeError::RatchetOutOfRange)?;
        self.ahead.drain(..index);
        let AheadStep { base_key, key } = self.ahead.pop_front().ok_or(not_derived)?;
        self.base_key = base_key;
        self.step = step;
        key.map(|key| *key).ok_or(not_derived)
    }
}

/// A sender's ratcheting key: the current [`SendKey`] and what is needed to move forward.
///
/// ```
/// use mlsframe::sframe::{CipherSuite, RatchetBits, RatchetingSender, Receiver, ReceiverConfig};
/// let suite = CipherSuite::Aes128GcmSha256_128;
/// let bits = RatchetBits::new(4)?;
/// let mut sender = RatchetingSender::new(suite, 2, &[1u8; 16], bits)?;
/// let mut receiver = Receiver::with_config(ReceiverConfig { ratchet: Some(bits), ..Default::default() });
/// receiver.add_key(suite, 2, &[1u8; 16])?; // generation 2
///
/// sender.ratchet()?; // e.g. after a member left
/// let frame = sender.send_key().encrypt_to_vec(b"", b"after")?;
/// let mut out = [0u8; 5];
/// assert_eq!(receiver.decrypt(b"", &frame, &mut out)?.kid, (2 << 4) + 1);
/// # Ok::<(), mlsframe::sframe::SframeError>(())
/// ```
#[derive(Debug)]
pub struct RatchetingSender {
    bits: RatchetBits,
    generation: u64,
    step: u64,
    base_key: Zeroizing<Vec<u8>>,
    current: SendKey,
}

impl RatchetingSender {
    /// Starts `generation` at step 0 with `base_key`.
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] when the generation does not fit beside R bits.
    pub fn new(
        suite: CipherSuite,
        generation: u64,
        base_key: &[u8],
        bits: RatchetBits,
    ) -> Result<Self, SframeError> {
        let kid = bits.kid(generation, 0)?;
        Ok(RatchetingSender {
            bits,
            generation,
            step: 0,
            base_key: Zeroizing::new(base_key.to_vec()),
            current: SendKey::new(suite, kid, base_key),
        })
    }

    /// The key to seal with now.
    pub fn send_key(&self) -> &SendKey {
        &self.current
    }

    /// The ratchet step (not reduced mod 2^R).
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Moves to the next step: new base key, new KID, counters from 0.
    ///
    /// # Errors
    /// [`SframeError::RatchetOutOfRange`] after `u64::MAX` steps.
    pub fn ratchet(&mut self) -> Result<(), SframeError> {
        let suite = self.current.suite();
        let step = self
            .step
            .checked_add(1)
            .ok_or(SframeError::RatchetOutOfRange)?;
        let next = ratchet_base_key(suite, &self.base_key);
        let kid = self.bits.kid(self.generation, step)?;
        self.current = SendKey::new(suite, kid, &next);
        self.base_key = next;
        self.step = step;
        Ok(())
    }
}
