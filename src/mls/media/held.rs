//! Frames that arrived before their epoch's keys: a small queue per decryptor, bounded by
//! count and bytes, since nothing in it has been authenticated yet.

use std::collections::VecDeque;

/// One frame waiting for its epoch.
pub(super) struct HeldFrame {
    pub(super) frame: Vec<u8>,
    pub(super) metadata: Vec<u8>,
    /// The framing the caller named for it, used again when it is released.
    pub(super) codec: crate::media::Codec,
    /// The group (ring incarnation) it arrived in: a frame never opens in another group.
    pub(super) incarnation: u64,
}

impl HeldFrame {
    fn size(&self) -> usize {
        self.frame.len() + self.metadata.len()
    }
}

/// A decryptor's held frames, oldest first.
#[derive(Default)]
pub(super) struct HeldFrames {
    frames: VecDeque<HeldFrame>,
    bytes: usize,
}

impl HeldFrames {
    /// Keeps `held`, dropping the oldest frames to stay within `max_frames` and
    /// `max_bytes`. A frame larger than `max_bytes` on its own is not kept (and evicts
    /// nothing).
    pub(super) fn push(&mut self, held: HeldFrame, max_frames: usize, max_bytes: usize) {
        let size = held.size();
        if size > max_bytes || max_frames == 0 {
            return;
        }
        while self.frames.len() >= max_frames || self.bytes + size > max_bytes {
            match self.frames.pop_front() {
                Some(old) => self.bytes -= old.size(),
                None => break,
            }
        }
        self.bytes += size;
        self.frames.push_back(held);
    }

    /// Takes every held frame, oldest first.
    pub(super) fn take_all(&mut self) -> Vec<HeldFrame> {
        self.bytes = 0;
        self.frames.drain(..).collect()
    }

    /// Number of frames held.
    pub(super) fn len(&self) -> usize {
        self.frames.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> HeldFrame {
        HeldFrame {
            frame: vec![0; n],
            metadata: Vec::new(),
            codec: crate::media::Codec::Whole,
            incarnation: 1,
        }
    }

    #[test]
    fn bounded_by_count_and_bytes_oldest_dropped_first() {
        let mut h = HeldFrames::default();
        for n in 1..=5 {
            h.push(frame(n), 3, 100);
        }
        assert_eq!(
            h.take_all()
                .iter()
                .map(|f| f.frame.len())
                .collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        h.push(frame(60), 8, 100);
        h.push(frame(50), 8, 100);
        assert_eq!(h.len(), 1, "bytes bound evicted the older frame");
        h.push(frame(101), 8, 100);
        assert_eq!(
            h.len(),
            1,
            "an oversized frame is refused and evicts nothing"
        );
    }
}
