//! `mlsframe_encryptor`: seals our own frames for one stream context, shaped for WebRTC's
//! `FrameEncryptorInterface`. Callable from any thread; never blocks on MLS work. Calls on
//! one encryptor are serialized by its own lock (the Rust [`Encryptor`] seals
//! through `&mut`): WebRTC seals a stream's frames one at a time anyway.

use std::ffi::c_void;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{
    FrameArgs, FrameIo, Reset, ffi_guard, frame_call, mlsframe_result, reset_outputs, try_ref,
    try_write,
};
use crate::media::{Codec, max_sealed_len};
use crate::mls::media::Encryptor;
use crate::sframe::CipherSuite;
use mlsframe_result::*;

/// Called when the encryptor switches to a new epoch: send a key frame now.
pub type mlsframe_key_frame_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, context: u64, epoch: u64)>;

/// Counters an app can show. Read with `mlsframe_encryptor_get_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct mlsframe_encryptor_stats {
    /// Frames sealed.
    pub frames_out: u64,
    /// Plaintext bytes taken in.
    pub bytes_in: u64,
    /// Sealed bytes written.
    pub bytes_out: u64,
    /// Calls that failed because we are not a member (or must rekey after a restore).
    pub failed_not_member: u64,
    /// Calls that failed because the output buffer was too small.
    pub failed_buffer: u64,
    /// Other failures of the seal itself (counter exhausted, context too large). Calls
    /// refused for their arguments (NULL, overlap) are not counted.
    pub failed_other: u64,
    /// Epoch the next frame is sealed in (0 when none).
    pub epoch: u64,
}

// SAFETY: integers only.
unsafe impl Reset for mlsframe_encryptor_stats {}

#[derive(Default)]
struct Stats {
    frames_out: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    failed_not_member: AtomicU64,
    failed_buffer: AtomicU64,
    failed_other: AtomicU64,
}

/// Seals frames of one of our streams (opaque).
pub struct mlsframe_encryptor {
    /// Taken once per frame; MLS work never takes it.
    inner: Mutex<Encryptor>,
    /// The encryptor's framing mode, fixed at creation (read without the lock).
    codec: Codec,
    stats: Stats,
    key_frame: Mutex<Option<(unsafe extern "C" fn(*mut c_void, u64, u64), usize)>>,
}

impl mlsframe_encryptor {
    pub(crate) fn into_raw(inner: Encryptor) -> *mut mlsframe_encryptor {
        Box::into_raw(Box::new(mlsframe_encryptor {
            codec: inner.codec(),
            inner: Mutex::new(inner),
            stats: Stats::default(),
            key_frame: Mutex::new(None),
        }))
    }

    /// The encryptor; a panic elsewhere cannot leave it half-updated (its state changes in
    /// single assignments), so a poisoned lock is still safe to use.
    fn sealer(&self) -> std::sync::MutexGuard<'_, Encryptor> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Frees an encryptor (its stream context becomes free). NULL is a no-op.
///
/// # Safety
/// `enc` is NULL or from `mlsframe_session_encryptor_new`, not freed, not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_encryptor_free(enc: *mut mlsframe_encryptor) {
    let _ = ffi_guard!({
        if !enc.is_null() {
            // SAFETY: from `Box::into_raw` in `into_raw`, freed once.
            drop(unsafe { Box::from_raw(enc) });
        }
        MLSFRAME_OK
    });
}

/// Registers (or with NULL clears) the key-frame callback.
///
/// Codes: `MLSFRAME_OK`; `MLSFRAME_NULL_ARGUMENT` when `enc` is NULL.
///
/// # Safety
/// `enc` is a live encryptor; the callback is thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_encryptor_set_key_frame_callback(
    enc: *const mlsframe_encryptor,
    callback: mlsframe_key_frame_callback,
    user_data: *mut c_void,
) -> mlsframe_result {
    ffi_guard!({
        let enc = try_ref!(enc);
        *enc.key_frame.lock().unwrap_or_else(|p| p.into_inner()) =
            callback.map(|cb| (cb, user_data as usize));
        MLSFRAME_OK
    })
}

/// An upper bound on the sealed size of a `frame_len`-byte frame (header and tag
/// included, whatever the epoch, KID and counter, and for a codec-aware encryptor its
/// trailer); `SIZE_MAX` if that overflows. Never fails; `enc` may be NULL (then the bound
/// of whole-frame mode). (WebRTC's `media_type` is not taken: see the preamble.)
///
/// # Safety
/// `enc` is NULL or a live encryptor.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_encryptor_max_ciphertext_size(
    enc: *const mlsframe_encryptor,
    frame_len: usize,
) -> usize {
    // SAFETY: the caller passes NULL or a live encryptor (this export's contract).
    let codec = unsafe { enc.as_ref() }.map_or(Codec::Whole, |e| e.codec);
    max_sealed_len(codec, CipherSuite::Aes128GcmSha256_128, frame_len).unwrap_or(usize::MAX)
}

/// Seals `frame` into `out` (capacity `out_cap`, see
/// `mlsframe_encryptor_max_ciphertext_size`) in the encryptor's current epoch and writes
/// the sealed length to `*written`. `additional_data` (may be NULL/0) is authenticated, not
/// sent. `out == frame` seals in place (the buffer must have room for header and tag).
/// Frames are sealed in the encryptor's codec framing (whole unless created with
/// `mlsframe_session_encryptor_new_with_codec`; WebRTC's `media_type` is not taken: see
/// the preamble).
///
/// Out-parameters: `*written` is reset to 0 on entry (see the preamble); on success it is
/// the sealed length. After a failure `out`'s bytes are unspecified.
///
/// Codes, in the order they are checked:
/// - `MLSFRAME_NULL_ARGUMENT`: `enc` or `written` NULL; `out` NULL with `out_cap` > 0;
///   `frame` or `additional_data` NULL with a length.
/// - `MLSFRAME_INVALID_ARGUMENT`: a length over `PTRDIFF_MAX`; an output (`out[..out_cap]`,
///   `*written`) sharing a byte with an input (`frame`, `additional_data`) or with the
///   other output, except exactly in place (and even then `additional_data` and `written`
///   must lie outside `out[..out_cap]`); in place with `out_cap < frame_len`.
/// - `MLSFRAME_NOT_MEMBER`: no group yet, removed, the group terminated, the session freed,
///   or our external join not yet confirmed.
/// - `MLSFRAME_REKEY_REQUIRED`: a restored session, until its own self-update is merged.
/// - `MLSFRAME_CONTEXT_TOO_LARGE`: the stream context does not fit this epoch's KID.
/// - `MLSFRAME_COUNTER_EXHAUSTED`: the epoch's send counter is spent.
/// - `MLSFRAME_BUFFER_TOO_SMALL`: `out_cap` below header + frame + tag (the counter taken
///   is spent, never reused).
/// - `MLSFRAME_INVALID_ARGUMENT`: a frame longer than the AEAD accepts (AES-GCM: 2^36 − 32
///   bytes).
/// - Codec-aware encryptors only: `MLSFRAME_LAYOUT_TOO_LARGE` (the frame needs more
///   layout than the trailer carries); `MLSFRAME_START_CODE_EMULATION` (H.264/H.265: every
///   re-seal still emulated a start code; each used a counter).
/// - `MLSFRAME_OK`.
///
/// # Safety
/// Pointers are valid for their lengths; `out` is writable for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_encryptor_encrypt(
    enc: *const mlsframe_encryptor,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> mlsframe_result {
    ffi_guard!({
        let args = FrameArgs {
            frame,
            frame_len,
            metadata: additional_data,
            metadata_len: additional_data_len,
            out,
            out_cap,
            written,
        };
        // SAFETY: the caller's guarantees for these pointers are this export's contract.
        let (enc, io, ad) = match unsafe { frame_call(enc, args, std::ptr::null_mut::<u64>()) } {
            Ok((enc, call)) => (enc, call.io, call.metadata),
            Err(code) => return code,
        };
        // The key-frame request is read under the same lock, and the callback runs after
        // it is released (so that it may seal on this encryptor itself).
        let (result, key_frame) = {
            let mut sealer = enc.sealer();
            let result = match io {
                FrameIo::InPlace { buf, len } => sealer.encrypt_in_place(ad, buf, len),
                FrameIo::Separate { input, output } => sealer.encrypt(ad, input, output),
            };
            let key_frame = (result.is_ok() && sealer.take_key_frame_request())
                .then(|| (sealer.context(), sealer.epoch().unwrap_or(0)));
            (result, key_frame)
        };
        let s = &enc.stats;
        match result {
            Ok(n) => {
                s.frames_out.fetch_add(1, Ordering::Relaxed);
                s.bytes_in.fetch_add(frame_len as u64, Ordering::Relaxed);
                s.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
                try_write!(written, n);
                if let Some((context, epoch)) = key_frame {
                    let cb = *enc.key_frame.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some((cb, user_data)) = cb {
                        // SAFETY: the app registered this thread-safe callback.
                        unsafe { cb(user_data as *mut c_void, context, epoch) };
                    }
                }
                MLSFRAME_OK
            }
            Err(e) => {
                let code = mlsframe_result::from(e);
                let counter = match code {
                    MLSFRAME_NOT_MEMBER | MLSFRAME_REKEY_REQUIRED => &s.failed_not_member,
                    MLSFRAME_BUFFER_TOO_SMALL => &s.failed_buffer,
                    _ => &s.failed_other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                code
            }
        }
    })
}

/// Copies the encryptor's counters into `*out` (reset to all zero on entry, see the
/// preamble).
///
/// Codes: `MLSFRAME_OK`; `MLSFRAME_NULL_ARGUMENT` when `enc` or `out` is NULL.
///
/// # Safety
/// `enc` is a live encryptor; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_encryptor_get_stats(
    enc: *const mlsframe_encryptor,
    out: *mut mlsframe_encryptor_stats,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let enc = try_ref!(enc);
        let s = &enc.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        try_write!(
            out,
            mlsframe_encryptor_stats {
                frames_out: get(&s.frames_out),
                bytes_in: get(&s.bytes_in),
                bytes_out: get(&s.bytes_out),
                failed_not_member: get(&s.failed_not_member),
                failed_buffer: get(&s.failed_buffer),
                failed_other: get(&s.failed_other),
                epoch: enc.sealer().epoch().unwrap_or(0),
            }
        );
        MLSFRAME_OK
    })
}
