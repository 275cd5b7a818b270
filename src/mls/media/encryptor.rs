//! [`Encryptor`]: seals our own frames for one stream context in the epoch the ring says
//! we send in, switching (and asking for a key frame) when that epoch changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;

use super::ring::{EpochKeys, MediaShared};
use super::{MediaError, lock};
use crate::sframe::{CipherSuite, SendKey};

/// The send key of one epoch for one encryptor.
struct EpochSendKey {
    incarnation: u64,
    epoch: u64,
    key: Arc<SendKey>,
}

impl EpochSendKey {
    /// Whether this key may stand in for `keys`: same group, and not older (the encryptor
    /// never moves back to an older epoch).
    fn covers(&self, keys: &EpochKeys) -> bool {
        self.incarnation == keys.incarnation && self.epoch >= keys.epoch
    }
}

/// Seals our own frames for one stream context. `Send + Sync`; never blocks on MLS work.
///
/// Frames are sealed under the current epoch's key for KID
/// `(context << (S+E)) + (own_leaf << E) + (epoch mod 2^E)`; when the epoch changes the
/// next frame uses the new key and [`take_key_frame_request`](Self::take_key_frame_request)
/// returns true once, so the app can send a key frame.
pub struct Encryptor {
    shared: Arc<MediaShared>,
    context: u64,
    current: ArcSwapOption<EpochSendKey>,
    key_frame_needed: AtomicBool,
}

impl std::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encryptor")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Drop for Encryptor {
    fn drop(&mut self) {
        lock(&self.shared.contexts).remove(&self.context);
    }
}

impl Encryptor {
    pub(super) fn new(shared: &Arc<MediaShared>, context: u64) -> Result<Encryptor, MediaError> {
        if !lock(&shared.contexts).insert(context) {
            return Err(MediaError::ContextInUse);
        }
        Ok(Encryptor {
            shared: Arc::clone(shared),
            context,
            current: ArcSwapOption::empty(),
            key_frame_needed: AtomicBool::new(false),
        })
    }

    /// The stream context this encryptor owns.
    pub fn context(&self) -> u64 {
        self.context
    }

    /// The epoch the next frame will be sealed in, if any.
    pub fn epoch(&self) -> Option<u64> {
        self.send_epoch().map(|e| e.epoch)
    }

    fn send_epoch(&self) -> Option<Arc<EpochKeys>> {
        let ring = self.shared.ring.load();
        if ring.stopped {
            return None;
        }
        if let Some((next, at)) = &ring.send_next
            && (self.shared.now() >= *at || self.shared.receivers_ready.load(Ordering::Acquire))
        {
            return Some(Arc::clone(next));
        }
        ring.send.clone()
    }

    /// The send key for the current epoch. Keys live in the epoch (one per context), so
    /// racing threads and successive encryptors share one counter; the cache here only
    /// saves the lookup, and never moves back to an older epoch.
    fn send_key(&self) -> Result<Arc<EpochSendKey>, MediaError> {
        let epoch = self.send_epoch().ok_or(MediaError::NotMember)?;
        let cached = self.current.load_full();
        if let Some(k) = &cached
            && k.covers(&epoch)
        {
            return Ok(Arc::clone(k));
        }
        let fresh = Arc::new(EpochSendKey {
            incarnation: epoch.incarnation,
            epoch: epoch.epoch,
            key: epoch.send_key(self.context)?,
        });
        let previous = self
            .current
            .compare_and_swap(&cached, Some(Arc::clone(&fresh)));
        if same(&previous, &cached) {
            if cached.is_some() {
                self.key_frame_needed.store(true, Ordering::Release);
            }
            return Ok(fresh);
        }
        // Another thread moved the cache first; use whichever epoch is newer.
        match self.current.load_full() {
            Some(k) if k.covers(&epoch) => Ok(k),
            _ => Ok(fresh),
        }
    }

    /// Upper bound on the sealed size of `plaintext_len` bytes (any KID and counter).
    pub fn max_ciphertext_len(&self, plaintext_len: usize) -> Option<usize> {
        let suite = self
            .send_epoch()
            .map_or(CipherSuite::Aes128GcmSha256_128, |e| e.suite);
        crate::sframe::max_frame_len(suite, plaintext_len)
    }

    /// Seals `frame` into `out`; returns the bytes written.
    ///
    /// # Errors
    /// [`MediaError::NotMember`] before joining or after removal,
    /// [`MediaError::ContextTooLarge`], and SFrame errors (buffer too small, counter
    /// exhausted).
    pub fn encrypt(
        &self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<usize, MediaError> {
        let key = self.send_key()?;
        Ok(key.key.encrypt(metadata, frame, out)?)
    }

    /// Seals in place: `buf[..len]` holds the frame and `buf` has room for header and tag.
    ///
    /// # Errors
    /// As [`encrypt`](Self::encrypt).
    pub fn encrypt_in_place(
        &self,
        metadata: &[u8],
        buf: &mut [u8],
        len: usize,
    ) -> Result<usize, MediaError> {
        let key = self.send_key()?;
        Ok(key.key.encrypt_in_place(metadata, buf, len)?)
    }

    /// Whether the sender's epoch changed since the last call (send a key frame).
    pub fn take_key_frame_request(&self) -> bool {
        self.key_frame_needed.swap(false, Ordering::AcqRel)
    }
}

fn same<T>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}
