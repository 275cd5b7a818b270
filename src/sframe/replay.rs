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
    /// A ring of `mask + 1` bits (a power of two, at least `size`): bit `c & mask` is set
    /// when counter `c` (within the window) was accepted. A power of two makes a counter's
    /// slot a mask, not a division, on every frame.
    bits: Box<[u64]>,
    /// The ring's length in bits, minus one.
    mask: u64,
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
        let ring_words = words.next_power_of_two();
        Ok(ReplayWindow {
            bits: vec![0u64; ring_words as usize].into_boxed_slice(),
            mask: ring_words * 64 - 1,
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

    /// The ring word and bit of counter `ctr`. The word index is below `bits.len()`: the
    /// ring has `mask + 1 = 64 * bits.len()` bits.
    #[inline]
    fn slot(&self, ctr: u64) -> (usize, u64) {
        let bit = ctr & self.mask;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    }

    /// Whether `ctr` may still be accepted: not seen, and not older than the window.
    ///
    /// # Errors
    /// [`SframeError::Replay`] otherwise.
    #[inline]
    pub fn check(&self, ctr: u64) -> Result<(), SframeError> {
        match self.highest {
            Some(highest) if ctr <= highest => self.check_old(highest, ctr),
            _ => Ok(()),
        }
    }

    /// [`check`](Self::check) for a counter at or below the highest accepted one.
    #[inline]
    fn check_old(&self, highest: u64, ctr: u64) -> Result<(), SframeError> {
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
    #[inline]
    pub fn accept(&mut self, ctr: u64) -> Result<(), SframeError> {
        match self.highest {
            Some(highest) if ctr <= highest => self.check_old(highest, ctr)?,
            // The next counter in order (the common case): the window slides by one, and
            // the one slot it takes over is `ctr`'s own, set below.
            Some(highest) if ctr - highest == 1 => self.highest = Some(ctr),
            _ => self.advance(ctr),
        }
        let (word, mask) = self.slot(ctr);
        self.bits[word] |= mask;
        Ok(())
    }

    /// Moves the window's top to `ctr`, above the highest counter (or the first counter
    /// accepted), clearing the slots the new counters take over; `ctr`'s own bit is left
    /// to the caller.
    #[inline(never)]
    fn advance(&mut self, ctr: u64) {
        match self.highest {
            Some(highest) if ctr - highest < self.size => {
                // Forget the counters the window slides past: those whose slots the new
                // counters highest+1 .. ctr take over.
                for c in highest + 1..ctr {
                    let (word, mask) = self.slot(c);
                    self.bits[word] &= !mask;
                }
            }
            _ => self.bits.fill(0),
        }
        self.highest = Some(ctr);
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

    /// The window against a plain model (every accepted counter in a set) over a
    /// pseudo-random walk of counters: sizes that are not a power of two (the ring is
    /// larger than the window), steps back and forward across the window's edges.
    #[test]
    fn matches_a_model_at_every_size_and_edge() {
        use std::collections::BTreeSet;
        for size in [64u64, 128, 192, 320, 1000] {
            let mut w = ReplayWindow::new(size).unwrap();
            let size = w.size();
            let mut seen = BTreeSet::new();
            let mut highest: Option<u64> = None;
            let mut state = 0x2545_f491_4f6c_dd1du64 ^ size;
            let mut ctr = 1000u64;
            for _ in 0..20_000 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Steps of -(size + 2) ..= size + 2, and sometimes exactly at an edge.
                let span = 2 * size + 5;
                let step = (state % span) as i64 - (size as i64 + 2);
                let step = match state >> 60 {
                    0 => size as i64,
                    1 => size as i64 - 1,
                    2 => -(size as i64),
                    3 => -(size as i64 - 1),
                    _ => step,
                };
                ctr = ctr.saturating_add_signed(step);
                let allowed = match highest {
                    Some(h) if ctr <= h => h - ctr < size && !seen.contains(&ctr),
                    _ => true,
                };
                assert_eq!(w.check(ctr).is_ok(), allowed, "size {size}, ctr {ctr}");
                assert_eq!(w.accept(ctr).is_ok(), allowed, "size {size}, ctr {ctr}");
                if allowed {
                    seen.insert(ctr);
                    highest = highest.max(Some(ctr));
                }
                assert_eq!(w.highest(), highest);
            }
        }
    }

    #[test]
    fn window_edges_are_exact() {
        // 192 counters: the ring is 256 bits, the window still 192.
        let mut w = ReplayWindow::new(192).unwrap();
        w.accept(1000).unwrap();
        w.check(1000 - 191).unwrap();
        assert_eq!(w.check(1000 - 192), Err(SframeError::Replay));
        // Slide by exactly size - 1, then by exactly size.
        w.accept(1000 + 191).unwrap();
        w.accept(1000).unwrap_err();
        w.check(1001).unwrap();
        w.accept(1000 + 191 + 192).unwrap();
        w.check(1000 + 191 + 1).unwrap();
        assert_eq!(w.check(1000 + 191), Err(SframeError::Replay));
        // A restored window with the ring larger than the window.
        let w = ReplayWindow::starting_after(192, 500).unwrap();
        for c in [500 - 191, 500 - 192, 0, 500] {
            assert_eq!(w.check(c), Err(SframeError::Replay), "{c}");
        }
        w.check(501).unwrap();
    }

    #[test]
    fn sizes_are_validated() {
        assert!(ReplayWindow::new(0).is_err());
        assert!(ReplayWindow::new(MAX_REPLAY_WINDOW + 1).is_err());
        assert_eq!(ReplayWindow::new(100).unwrap().size(), 128);
    }
}
