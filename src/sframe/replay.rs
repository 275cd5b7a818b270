//! Replay protection for one receive key: a sliding window over frame counters in the
//! style of RFC 3711 §3.3.2 (a bitmap of the last `size` counters below the highest seen).
//!
//! The caller checks a counter before opening a frame and records it only after the tag
//! verifies, so forged frames cannot move the window.

use super::error::SframeError;

/// The default window: 128 counters, enough for reordering across several video frames'
/// worth of packets.
pub const DEFAULT_REPLAY_WINDOW: u64 = 128;

/// The largest window accepted (bits of bitmap kept per key).
pub const MAX_REPLAY_WINDOW: u64 = 1 << 16;

/// A sliding replay window of `size` counters.
///
/// ```
/// use mlsframe::sframe::ReplayWindow;
/// let mut w = ReplayWindow::new(64)?;
/// w.check(10)?;
/// w.accept(10)?;
/// assert!(w.check(10).is_err()); // seen
/// w.accept(9)?;                  // late but inside the window: once
/// assert!(w.accept(9).is_err());
/// # Ok::<(), mlsframe::sframe::SframeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    /// Bit `c % size` is set when counter `c` (within the window) was accepted.
    bits: Box<[u64]>,
    size: u64,
    highest: Option<u64>,
}

impl ReplayWindow {
    /// A window covering `size` counters; `size` is rounded up to a multiple of 64.
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] when `size` is 0 or above [`MAX_REPLAY_WINDOW`].
    pub fn new(size: u64) -> Result<Self, SframeError> {
        if size == 0 || size > MAX_REPLAY_WINDOW {
            return Err(SframeError::InvalidArgument(
                "replay window must hold 1..=65536 counters",
            ));
        }
        let words = size.div_ceil(64);
        Ok(ReplayWindow {
            bits: vec![0u64; words as usize].into_boxed_slice(),
            size: words * 64,
            highest: None,
        })
    }

    /// A window that refuses every counter up to and including `floor`, as if all of them
    /// had been accepted (a restored receiver that saw counters up to `floor` before).
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub fn starting_after(size: u64, floor: u64) -> Result<Self, SframeError> {
        let mut w = Self::new(size)?;
        w.bits.fill(u64::MAX);
        w.highest = Some(floor);
        Ok(w)
    }

    /// Counters covered by the window.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The highest counter accepted so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    fn slot(&self, ctr: u64) -> (usize, u64) {
        let bit = ctr % self.size;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    }

    /// Whether `ctr` may still be accepted: not seen, and not older than the window.
    ///
    /// # Errors
    /// [`SframeError::Replay`] otherwise.
    pub fn check(&self, ctr: u64) -> Result<(), SframeError> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if ctr > highest {
            return Ok(());
        }
        if highest - ctr >= self.size {
            return Err(SframeError::Replay);
        }
        let (word, mask) = self.slot(ctr);
        if self.bits[word] & mask != 0 {
            Err(SframeError::Replay)
        } else {
            Ok(())
        }
    }

    /// Re-checks `ctr` and records it as accepted. Call only after the frame authenticated.
    ///
    /// # Errors
    /// [`SframeError::Replay`] if `ctr` was accepted meanwhile (or fell out of the window).
    pub fn accept(&mut self, ctr: u64) -> Result<(), SframeError> {
        self.check(ctr)?;
        match self.highest {
            Some(highest) if ctr <= highest => {}
            Some(highest) if ctr - highest < self.size => {
                // Forget the counters the window slides past: highest+1 ..= ctr.
                for c in highest + 1..=ctr {
                    let (word, mask) = self.slot(c);
                    self.bits[word] &= !mask;
                }
                self.highest = Some(ctr);
            }
            _ => {
                self.bits.fill(0);
                self.highest = Some(ctr);
            }
        }
        let (word, mask) = self.slot(ctr);
        self.bits[word] |= mask;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_starting_after_a_floor_refuses_it_and_below() {
        let mut w = ReplayWindow::starting_after(64, 100).unwrap();
        for c in [0, 36, 37, 99, 100] {
            assert_eq!(w.check(c), Err(SframeError::Replay), "{c}");
        }
        w.accept(101).unwrap();
        assert_eq!(w.accept(100), Err(SframeError::Replay));
        w.accept(103).unwrap();
        w.accept(102).unwrap();
    }

    #[test]
    fn window_slides_and_forgets() {
        let mut w = ReplayWindow::new(128).unwrap();
        for c in 0..1000u64 {
            w.accept(c).unwrap();
            assert_eq!(w.accept(c), Err(SframeError::Replay));
        }
        assert_eq!(w.check(999 - 128), Err(SframeError::Replay)); // too old
        assert_eq!(w.check(999 - 127), Err(SframeError::Replay)); // seen
        // Jump far ahead, then fill in a late counter exactly once.
        w.accept(5000).unwrap();
        w.accept(4900).unwrap();
        assert_eq!(w.accept(4900), Err(SframeError::Replay));
        assert_eq!(w.check(5000 - 128), Err(SframeError::Replay));
        w.accept(5000 - 127).unwrap();
    }

    #[test]
    fn slots_are_reused_only_after_sliding_past() {
        let mut w = ReplayWindow::new(64).unwrap();
        w.accept(3).unwrap();
        // 67 maps to the same slot as 3; accepting it must clear stale bits in between.
        w.accept(67).unwrap();
        w.check(66).unwrap();
        w.check(10).unwrap();
        assert_eq!(w.check(3), Err(SframeError::Replay)); // now too old
    }

    #[test]
    fn sizes_are_validated() {
        assert!(ReplayWindow::new(0).is_err());
        assert!(ReplayWindow::new(MAX_REPLAY_WINDOW + 1).is_err());
        assert_eq!(ReplayWindow::new(100).unwrap().size(), 128);
    }
}
