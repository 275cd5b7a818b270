//! The sender-key ratchet of RFC 9605 §5.1 for app-managed keys.
//!
//! A sender holds a base key per *generation*; ratcheting replaces it with
//! `HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh)` and bumps the step.
//! The KID names both: `KID = (generation << R) + (step mod 2^R)`, so a receiver can catch up
//! by at most `2^R - 1` steps from what it last verified.

use hkdf::Hkdf;
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use super::error::SframeError;
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
