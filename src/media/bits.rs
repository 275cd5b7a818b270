//! A bounds-checked bit reader for codec headers: MSB-first bits, Exp-Golomb codes
//! (H.264 §9.1), and optional skipping of emulation-prevention bytes (H.264 §7.4.1,
//! H.265 §7.4.2), reporting how many *raw* bytes the bits read so far touch. Every read
//! past the end returns `None`; nothing here can panic.

pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Raw index of the byte being read.
    byte: usize,
    /// Bits of `bytes[byte]` already read (0..8).
    bit: u32,
    /// Skip `0x03` after two zero bytes (RBSP inside a NAL unit).
    epb: bool,
    zeros: u32,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8], epb: bool) -> Self {
        let mut r = BitReader {
            bytes,
            byte: 0,
            bit: 0,
            epb,
            zeros: 0,
        };
        r.skip_epb();
        r
    }

    fn skip_epb(&mut self) {
        if self.epb && self.zeros >= 2 && self.bytes.get(self.byte) == Some(&3) {
            self.byte += 1;
            self.zeros = 0;
        }
    }

    /// One bit.
    pub(crate) fn bit(&mut self) -> Option<u32> {
        let b = *self.bytes.get(self.byte)?;
        let v = u32::from(b >> (7 - self.bit)) & 1;
        self.bit += 1;
        if self.bit == 8 {
            self.bit = 0;
            self.byte += 1;
            self.zeros = if b == 0 { self.zeros + 1 } else { 0 };
            self.skip_epb();
        }
        Some(v)
    }

    /// `n <= 32` bits, most significant first.
    pub(crate) fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v: u32 = 0;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    /// An unsigned Exp-Golomb code `ue(v)` (at most 31 leading zeros).
    pub(crate) fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// Raw bytes touched by the bits read so far (a partly read byte counts).
    pub(crate) fn bytes_touched(&self) -> usize {
        (self.byte + usize::from(self.bit > 0)).min(self.bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb_and_emulation_prevention() {
        // ue: 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3.
        let mut r = BitReader::new(&[0b1010_0110, 0b0100_0000], false);
        assert_eq!(
            (r.ue(), r.ue(), r.ue(), r.ue()),
            (Some(0), Some(1), Some(2), Some(3))
        );
        assert_eq!(r.bytes_touched(), 2);
        // 00 00 03 01: the 03 is skipped, the next bit read comes from 01.
        let mut r = BitReader::new(&[0, 0, 3, 0x80], true);
        assert_eq!(r.bits(16), Some(0));
        assert_eq!(r.bit(), Some(1));
        assert_eq!(r.bytes_touched(), 4);
        assert_eq!(BitReader::new(&[0, 0], false).ue(), None);
    }
}
