//! The sending side: a [`SendKey`] is an encrypt-only key with its own atomic frame
//! counter, so no (key, CTR) pair is ever used twice, however many threads seal with it.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::SframeError;
use super::header::{Header, MAX_HEADER_LEN};
use super::key::{FrameKey, SframeSecret};
use super::suite::CipherSuite;

/// An encrypt-only SFrame key for one KID, with the counter that makes every nonce unique.
///
/// `SendKey` is `Send + Sync`: threads may seal with one key concurrently and each frame
/// still gets its own counter. A sender that owns its key seals through `&mut self`
/// instead ([`encrypt_exclusive`](Self::encrypt_exclusive) and its in-place siblings),
/// with a plain increment for the counter. When the counter space is spent, sealing fails
/// with [`SframeError::CounterExhausted`] instead of wrapping.
///
/// ```
/// use mlsframe::sframe::{CipherSuite, Receiver, SendKey};
/// let base_key = [0x42u8; 16];
/// let sender = SendKey::new(CipherSuite::Aes128GcmSha256_128, 7, &base_key);
/// let mut receiver = Receiver::new();
/// receiver.add_key(CipherSuite::Aes128GcmSha256_128, 7, &base_key)?;
///
/// let mut frame = vec![0u8; sender.max_ciphertext_len(5).unwrap()];
/// let n = sender.encrypt(b"", b"hello", &mut frame)?;
/// let mut plain = [0u8; 5];
/// let opened = receiver.decrypt(b"", &frame[..n], &mut plain)?;
/// assert_eq!((&plain[..], opened.kid), (&b"hello"[..], 7));
/// # Ok::<(), mlsframe::sframe::SframeError>(())
/// ```
#[derive(Debug)]
pub struct SendKey {
    key: FrameKey,
    /// The next counter to hand out; `u64::MAX` means exhausted.
    next_ctr: AtomicU64,
}

impl SendKey {
    /// Derives the send key for `kid` from `base_key` (RFC 9605 §4.4.2); counters start at 0.
    pub fn new(suite: CipherSuite, kid: u64, base_key: &[u8]) -> SendKey {
        SendKey::from_frame_key(FrameKey::derive(suite, base_key, kid))
    }

    /// [`new`](Self::new) from a base key's secret extracted once.
    pub(crate) fn from_secret(secret: &SframeSecret, kid: u64) -> SendKey {
        SendKey::from_frame_key(FrameKey::from_secret(secret, kid))
    }

    pub(crate) fn from_frame_key(key: FrameKey) -> SendKey {
        SendKey {
            key,
            next_ctr: AtomicU64::new(0),
        }
    }

    /// Continues counting from `ctr`, for a key whose counters below `ctr` were already
    /// used (for example restored from storage). Never move a counter backwards.
    #[must_use]
    pub fn starting_at(self, ctr: u64) -> SendKey {
        self.next_ctr.store(ctr, Ordering::Relaxed);
        self
    }

    /// The KID this key seals under.
    pub fn kid(&self) -> u64 {
        self.key.kid()
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.key.suite()
    }

    /// The counter the next frame will use.
    pub fn next_counter(&self) -> u64 {
        self.next_ctr.load(Ordering::Relaxed)
    }

    /// The sealed size of a `plaintext_len`-byte frame sent next: header (for this KID
    /// and the current counter) plus plaintext plus tag. Exact for a single sending
    /// thread; when threads share the key, a concurrent send may push the counter across
    /// a byte boundary and grow the header by one byte, so size such buffers with
    /// [`max_frame_len`](crate::sframe::max_frame_len). `None` on overflow.
    pub fn max_ciphertext_len(&self, plaintext_len: usize) -> Option<usize> {
        let header = Header::new(self.kid(), self.next_counter()).encoded_len();
        plaintext_len.checked_add(header + self.suite().tag_len())
    }

    /// The derived key (codec-aware framing seals through it, see
    /// [`FrameKey::seal_detached`]).
    pub(crate) fn frame_key(&self) -> &FrameKey {
        &self.key
    }

    /// Takes the next counter; each is handed out once.
    pub(crate) fn take_counter(&self) -> Result<u64, SframeError> {
        self.next_ctr
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| c.checked_add(1))
            .map_err(|_| SframeError::CounterExhausted)
    }

    /// [`take_counter`](Self::take_counter) with the key to itself: no atomic
    /// read-modify-write.
    #[inline]
    pub(crate) fn take_counter_exclusive(&mut self) -> Result<u64, SframeError> {
        let next = self.next_ctr.get_mut();
        let ctr = *next;
        *next = ctr.checked_add(1).ok_or(SframeError::CounterExhausted)?;
        Ok(ctr)
    }

    /// Takes up to `n` consecutive counters at once (fewer only when the counter space
    /// runs out), for a sealer that owns them alone: none is handed out again, by this
    /// call or by [`take_counter`](Self::take_counter).
    pub(crate) fn take_counters(&self, n: u64) -> Result<Range<u64>, SframeError> {
        let first = self
            .next_ctr
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                (c != u64::MAX).then(|| c.saturating_add(n))
            })
            .map_err(|_| SframeError::CounterExhausted)?;
        Ok(first..first.saturating_add(n))
    }

    /// [`encrypt`](Self::encrypt) with a counter the caller took from this key.
    #[inline(always)]
    pub(crate) fn encrypt_at(
        &self,
        ctr: u64,
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SframeError> {
        self.key.seal(ctr, metadata, plaintext, out)
    }

    /// Seals `plaintext` into `out` (`header || ciphertext || tag`) and returns the bytes
    /// written. Allocates nothing (unless `metadata` exceeds 1 KiB).
    ///
    /// # Errors
    /// [`SframeError::BufferTooSmall`] (the counter it took is then spent, never reused),
    /// [`SframeError::CounterExhausted`].
    pub fn encrypt(
        &self,
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SframeError> {
        let ctr = self.take_counter()?;
        self.encrypt_at(ctr, metadata, plaintext, out)
    }

    /// Seals in place: `buf[..plaintext_len]` holds the plaintext and `buf` has room for
    /// header and tag; on return `buf[..n]` is the sealed frame.
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt); also [`SframeError::InvalidArgument`] when
    /// `plaintext_len > buf.len()`.
    pub fn encrypt_in_place(
        &self,
        metadata: &[u8],
        buf: &mut [u8],
        plaintext_len: usize,
    ) -> Result<usize, SframeError> {
        check_in_place(buf.len(), plaintext_len)?;
        let ctr = self.take_counter()?;
        self.encrypt_in_place_at(ctr, metadata, buf, plaintext_len)
    }

    /// [`encrypt_in_place`](Self::encrypt_in_place) with a counter the caller took from
    /// this key; `plaintext_len <= buf.len()` was checked.
    #[inline(always)]
    pub(crate) fn encrypt_in_place_at(
        &self,
        ctr: u64,
        metadata: &[u8],
        buf: &mut [u8],
        plaintext_len: usize,
    ) -> Result<usize, SframeError> {
        let header_len = Header::new(self.kid(), ctr).encoded_len();
        let needed = header_len + plaintext_len + self.suite().tag_len();
        if buf.len() < needed {
            return Err(SframeError::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        buf.copy_within(..plaintext_len, header_len);
        self.key.seal_in_place(ctr, metadata, plaintext_len, buf)
    }

    /// Seals in place without moving the plaintext: `buf[headroom..headroom + plaintext_len]`
    /// holds the plaintext, `headroom` is at least [`MAX_HEADER_LEN`] and `buf` has room
    /// for the tag after it. The header is written just before the plaintext, which is
    /// encrypted where it lies, and the tag just after; the sealed frame is
    /// `buf[range]`, where `range` is returned (it starts at `headroom - header length`).
    ///
    /// [`encrypt_in_place`](Self::encrypt_in_place) puts the frame at the start of the
    /// buffer and so first moves the plaintext behind the header; a pipeline that can
    /// leave headroom before its frames (as packet buffers often do) saves that move here.
    ///
    /// ```
    /// use mlsframe::sframe::{CipherSuite, MAX_HEADER_LEN, MAX_TAG_LEN, Receiver, SendKey};
    /// let suite = CipherSuite::Aes128GcmSha256_128;
    /// let sender = SendKey::new(suite, 7, &[0x42; 16]);
    /// let mut receiver = Receiver::new();
    /// receiver.add_key(suite, 7, &[0x42; 16])?;
    ///
    /// let mut buf = [0u8; MAX_HEADER_LEN + 5 + MAX_TAG_LEN];
    /// buf[MAX_HEADER_LEN..][..5].copy_from_slice(b"hello");
    /// let frame = sender.encrypt_with_headroom(b"", &mut buf, MAX_HEADER_LEN, 5)?;
    /// let frame = &mut buf[frame];
    /// let (opened, plain) = receiver.decrypt_in_place_unmoved(b"", frame)?;
    /// assert_eq!((&frame[plain], opened.ctr), (&b"hello"[..], 0));
    /// # Ok::<(), mlsframe::sframe::SframeError>(())
    /// ```
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] when `headroom < MAX_HEADER_LEN` or the plaintext
    /// does not fit in `buf` (no counter is taken then); [`SframeError::BufferTooSmall`]
    /// when the tag does not fit (the counter it took is then spent, never reused);
    /// [`SframeError::CounterExhausted`].
    pub fn encrypt_with_headroom(
        &self,
        metadata: &[u8],
        buf: &mut [u8],
        headroom: usize,
        plaintext_len: usize,
    ) -> Result<Range<usize>, SframeError> {
        check_headroom(buf.len(), headroom, plaintext_len)?;
        let ctr = self.take_counter()?;
        self.key
            .seal_behind(ctr, metadata, buf, headroom, plaintext_len)
    }

    /// [`encrypt`](Self::encrypt) through `&mut self`, for a sender that owns its key
    /// (one encoder thread per track, say): the counter is taken with a plain increment
    /// instead of the atomic read-modify-write that sharing across threads needs
    /// (`BENCHMARKS.md` has what that saves). Frames and errors are exactly those of
    /// `encrypt`, and both kinds of call may be mixed on one key.
    ///
    /// ```
    /// use mlsframe::sframe::{CipherSuite, SendKey};
    /// let mut sender = SendKey::new(CipherSuite::Aes128GcmSha256_128, 7, &[0x42; 16]);
    /// let mut frame = [0u8; 64];
    /// let n = sender.encrypt_exclusive(b"", b"hello", &mut frame)?;
    /// assert_eq!((n, sender.next_counter()), (1 + 5 + 16, 1));
    /// # Ok::<(), mlsframe::sframe::SframeError>(())
    /// ```
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt).
    pub fn encrypt_exclusive(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SframeError> {
        let ctr = self.take_counter_exclusive()?;
        self.encrypt_at(ctr, metadata, plaintext, out)
    }

    /// [`encrypt_in_place`](Self::encrypt_in_place) through `&mut self`, as
    /// [`encrypt_exclusive`](Self::encrypt_exclusive).
    ///
    /// # Errors
    /// As [`encrypt_in_place`](Self::encrypt_in_place).
    pub fn encrypt_in_place_exclusive(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
        plaintext_len: usize,
    ) -> Result<usize, SframeError> {
        check_in_place(buf.len(), plaintext_len)?;
        let ctr = self.take_counter_exclusive()?;
        self.encrypt_in_place_at(ctr, metadata, buf, plaintext_len)
    }

    /// [`encrypt_with_headroom`](Self::encrypt_with_headroom) through `&mut self`, as
    /// [`encrypt_exclusive`](Self::encrypt_exclusive).
    ///
    /// # Errors
    /// As [`encrypt_with_headroom`](Self::encrypt_with_headroom).
    pub fn encrypt_with_headroom_exclusive(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
        headroom: usize,
        plaintext_len: usize,
    ) -> Result<Range<usize>, SframeError> {
        check_headroom(buf.len(), headroom, plaintext_len)?;
        let ctr = self.take_counter_exclusive()?;
        self.key
            .seal_behind(ctr, metadata, buf, headroom, plaintext_len)
    }

    /// Seals `plaintext` into a new vector (convenience; allocates).
    ///
    /// # Errors
    /// [`SframeError::CounterExhausted`].
    pub fn encrypt_to_vec(
        &self,
        metadata: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SframeError> {
        let len = super::key::max_frame_len(self.suite(), plaintext.len())
            .ok_or(SframeError::InvalidArgument("frame too large"))?;
        let mut out = vec![0u8; len];
        let n = self.encrypt(metadata, plaintext, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

/// Refuses an in-place seal whose plaintext does not fit in its buffer, before a counter
/// is taken.
fn check_in_place(buf_len: usize, plaintext_len: usize) -> Result<(), SframeError> {
    if plaintext_len > buf_len {
        return Err(SframeError::InvalidArgument(
            "plaintext length exceeds the buffer",
        ));
    }
    Ok(())
}

/// Refuses a headroom seal's geometry before a counter is taken: the headroom must hold
/// the largest header and the plaintext must lie inside the buffer.
fn check_headroom(
    buf_len: usize,
    headroom: usize,
    plaintext_len: usize,
) -> Result<(), SframeError> {
    if headroom < MAX_HEADER_LEN {
        return Err(SframeError::InvalidArgument(
            "headroom is smaller than the largest SFrame header",
        ));
    }
    if headroom
        .checked_add(plaintext_len)
        .is_none_or(|end| end > buf_len)
    {
        return Err(SframeError::InvalidArgument("plaintext exceeds the buffer"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_counters_are_never_handed_out_again() {
        let key = SendKey::new(CipherSuite::Aes128GcmSha256_128, 1, &[1u8; 16]);
        assert_eq!(key.take_counter(), Ok(0));
        assert_eq!(key.take_counters(4), Ok(1..5));
        assert_eq!(key.take_counter(), Ok(5));
        // Near the end a block is cut short; then the space is spent.
        let key =
            SendKey::new(CipherSuite::Aes128GcmSha256_128, 1, &[1u8; 16]).starting_at(u64::MAX - 3);
        assert_eq!(key.take_counters(64), Ok(u64::MAX - 3..u64::MAX));
        assert_eq!(key.take_counters(64), Err(SframeError::CounterExhausted));
        assert_eq!(key.take_counter(), Err(SframeError::CounterExhausted));
    }

    #[test]
    fn an_exclusive_counter_counts_as_the_shared_one_and_ends_alike() {
        let mut key = SendKey::new(CipherSuite::Aes128GcmSha256_128, 1, b"k").starting_at(5);
        assert_eq!(key.take_counter_exclusive(), Ok(5));
        assert_eq!(key.take_counter(), Ok(6));
        assert_eq!(key.take_counter_exclusive(), Ok(7));
        assert_eq!(key.next_counter(), 8);
        let mut spent = key.starting_at(u64::MAX - 1);
        assert_eq!(spent.take_counter_exclusive(), Ok(u64::MAX - 1));
        for _ in 0..2 {
            assert_eq!(
                spent.take_counter_exclusive(),
                Err(SframeError::CounterExhausted)
            );
            assert_eq!(spent.take_counter(), Err(SframeError::CounterExhausted));
        }
    }

    #[test]
    fn counter_exhaustion_is_an_error_not_a_wrap() {
        let key =
            SendKey::new(CipherSuite::Aes128GcmSha256_128, 1, &[1u8; 16]).starting_at(u64::MAX - 2);
        let mut out = [0u8; 64];
        let a = key.encrypt(b"", b"x", &mut out).unwrap();
        assert_eq!(Header::decode(&out[..a]).unwrap().0.ctr, u64::MAX - 2);
        key.encrypt(b"", b"x", &mut out).unwrap();
        assert_eq!(
            key.encrypt(b"", b"x", &mut out),
            Err(SframeError::CounterExhausted)
        );
        assert_eq!(
            key.encrypt(b"", b"x", &mut out),
            Err(SframeError::CounterExhausted)
        );
    }

    #[test]
    fn max_ciphertext_len_is_exact_for_one_thread() {
        for suite in CipherSuite::ALL {
            let key = SendKey::new(suite, 300, &[9u8; 48][..suite.key_len()]).starting_at(250);
            let mut out = [0u8; 128];
            for _ in 0..10 {
                let bound = key.max_ciphertext_len(20).unwrap();
                let n = key.encrypt(b"m", &[0u8; 20], &mut out).unwrap();
                assert_eq!(n, bound);
            }
        }
    }

    #[test]
    fn in_place_matches_out_of_place() {
        for suite in CipherSuite::ALL {
            let a = SendKey::new(suite, 5, &[3u8; 16]).starting_at(1000);
            let b = SendKey::new(suite, 5, &[3u8; 16]).starting_at(1000);
            let plain: Vec<u8> = (0..100u8).collect();
            let mut out = [0u8; 200];
            let n = a.encrypt(b"meta", &plain, &mut out).unwrap();
            let mut buf = [0u8; 200];
            buf[..100].copy_from_slice(&plain);
            let m = b.encrypt_in_place(b"meta", &mut buf, 100).unwrap();
            assert_eq!(&out[..n], &buf[..m]);
        }
    }

    #[test]
    fn with_headroom_matches_out_of_place_at_every_header_length() {
        for suite in CipherSuite::ALL {
            for start in [0u64, 7, 255, 256, 1 << 40, u64::MAX - 2] {
                let a = SendKey::new(suite, 1 << 33, &[3u8; 16]).starting_at(start);
                let b = SendKey::new(suite, 1 << 33, &[3u8; 16]).starting_at(start);
                let plain: Vec<u8> = (0..100u8).collect();
                let mut out = [0u8; 200];
                let n = a.encrypt(b"meta", &plain, &mut out).unwrap();
                let headroom = MAX_HEADER_LEN + 3;
                let mut buf = [0xeeu8; 200];
                buf[headroom..][..100].copy_from_slice(&plain);
                let frame = b
                    .encrypt_with_headroom(b"meta", &mut buf, headroom, 100)
                    .unwrap();
                assert_eq!(
                    &buf[frame.clone()],
                    &out[..n],
                    "suite {suite:?}, ctr {start}"
                );
                assert_eq!(frame.start, headroom - Header::decode(&out).unwrap().1);
                assert!(buf[..frame.start].iter().all(|&b| b == 0xee));
                assert!(buf[frame.end..].iter().all(|&b| b == 0xee));
            }
        }
    }

    /// Two keys from one counter, one sealing through `&self` and one through `&mut self`:
    /// byte-identical buffers in every mode, at every header length, and the same end.
    #[test]
    fn exclusive_seals_are_the_shared_ones_byte_for_byte() {
        let plain: Vec<u8> = (0..100u8).collect();
        for suite in CipherSuite::ALL {
            for start in [0u64, 7, 255, 1 << 40, u64::MAX - 4] {
                let key = || SendKey::new(suite, 1 << 33, &[3u8; 32]).starting_at(start);
                let (shared, mut exclusive) = (key(), key());
                for mode in 0..3 {
                    let (mut a, mut b) = ([0xeeu8; 200], [0xeeu8; 200]);
                    let (fa, fb) = match mode {
                        0 => (
                            0..shared.encrypt(b"meta", &plain, &mut a).unwrap(),
                            0..exclusive
                                .encrypt_exclusive(b"meta", &plain, &mut b)
                                .unwrap(),
                        ),
                        1 => {
                            a[..100].copy_from_slice(&plain);
                            b[..100].copy_from_slice(&plain);
                            (
                                0..shared.encrypt_in_place(b"meta", &mut a, 100).unwrap(),
                                0..exclusive
                                    .encrypt_in_place_exclusive(b"meta", &mut b, 100)
                                    .unwrap(),
                            )
                        }
                        _ => {
                            a[MAX_HEADER_LEN..][..100].copy_from_slice(&plain);
                            b[MAX_HEADER_LEN..][..100].copy_from_slice(&plain);
                            (
                                shared
                                    .encrypt_with_headroom(b"meta", &mut a, MAX_HEADER_LEN, 100)
                                    .unwrap(),
                                exclusive
                                    .encrypt_with_headroom_exclusive(
                                        b"meta",
                                        &mut b,
                                        MAX_HEADER_LEN,
                                        100,
                                    )
                                    .unwrap(),
                            )
                        }
                    };
                    assert_eq!(
                        (fa, a),
                        (fb, b),
                        "suite {suite:?}, ctr {start}, mode {mode}"
                    );
                }
                assert_eq!(shared.next_counter(), exclusive.next_counter());
            }
            // Both run out alike; a refused geometry takes no counter.
            let mut spent = key_at(suite, u64::MAX - 1);
            let mut buf = [0u8; 64];
            assert!(spent.encrypt_exclusive(b"", b"x", &mut buf).is_ok());
            assert_eq!(
                spent.encrypt_exclusive(b"", b"x", &mut buf),
                Err(SframeError::CounterExhausted)
            );
            assert_eq!(
                spent.encrypt_in_place_exclusive(b"", &mut buf, 1),
                Err(SframeError::CounterExhausted)
            );
            assert_eq!(
                spent.encrypt_with_headroom_exclusive(b"", &mut buf, MAX_HEADER_LEN, 1),
                Err(SframeError::CounterExhausted)
            );
            let mut fresh = key_at(suite, 0);
            assert!(matches!(
                fresh.encrypt_with_headroom_exclusive(b"", &mut buf, MAX_HEADER_LEN - 1, 1),
                Err(SframeError::InvalidArgument(_))
            ));
            assert!(matches!(
                fresh.encrypt_in_place_exclusive(b"", &mut buf, 65),
                Err(SframeError::InvalidArgument(_))
            ));
            assert_eq!(fresh.next_counter(), 0);
        }
    }

    fn key_at(suite: CipherSuite, ctr: u64) -> SendKey {
        SendKey::new(suite, 1, &[3u8; 32]).starting_at(ctr)
    }

    #[test]
    fn with_headroom_refuses_bad_geometry_before_taking_a_counter() {
        let suite = CipherSuite::Aes128GcmSha256_128;
        let key = SendKey::new(suite, 1, &[3u8; 16]);
        let mut buf = [0u8; 64];
        assert!(matches!(
            key.encrypt_with_headroom(b"", &mut buf, MAX_HEADER_LEN - 1, 10),
            Err(SframeError::InvalidArgument(_))
        ));
        assert!(matches!(
            key.encrypt_with_headroom(b"", &mut buf, MAX_HEADER_LEN, 64),
            Err(SframeError::InvalidArgument(_))
        ));
        assert!(matches!(
            key.encrypt_with_headroom(b"", &mut buf, usize::MAX, 2),
            Err(SframeError::InvalidArgument(_))
        ));
        assert_eq!(key.next_counter(), 0);
        // The plaintext fits but the tag does not: that counter is spent.
        assert!(matches!(
            key.encrypt_with_headroom(b"", &mut buf, MAX_HEADER_LEN, 40),
            Err(SframeError::BufferTooSmall { .. })
        ));
        assert_eq!(key.next_counter(), 1);
        let frame = key
            .encrypt_with_headroom(b"", &mut buf, MAX_HEADER_LEN, 30)
            .unwrap();
        assert_eq!(frame.end, MAX_HEADER_LEN + 30 + suite.tag_len());
    }
}
