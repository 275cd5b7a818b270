//! `mlsframe_decryptor`: opens other members' frames, shaped for WebRTC's
//! `FrameDecryptorInterface` (including in-place decryption, `out == in`). Callable from
//! any thread, concurrently; never blocks on MLS work.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::buffer::mlsframe_buffer;
use super::{
    FrameArgs, FrameIo, Span, ffi_guard, frame_io, mlsframe_result, try_disjoint, try_ref,
    try_write,
};
use crate::mls::media::{Decryptor, LeafHolder, ReleasedFrame};
use mlsframe_result::*;

/// Who sealed a frame, from its authenticated KID: "claimed within the group" (any member
/// holds the epoch key, RFC 9605 §7.2). Resolve it to a user and device with
/// `mlsframe_decryptor_sender_identity`, which looks `leaf` up in the frame's own epoch.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct mlsframe_sender {
    /// MLS epoch of the frame's key.
    pub epoch: u64,
    /// The sender's leaf index in that epoch.
    pub leaf: u32,
    /// The sender's stream context.
    pub context: u64,
}

/// Counters an app can show. Read with `mlsframe_decryptor_get_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct mlsframe_decryptor_stats {
    /// Frames opened.
    pub frames_in: u64,
    /// Sealed bytes taken in (opened frames).
    pub bytes_in: u64,
    /// Plaintext bytes written.
    pub bytes_out: u64,
    /// `MLSFRAME_NO_KEY` results (recoverable).
    pub no_key: u64,
    /// `MLSFRAME_AUTH_FAILED` and `MLSFRAME_UNKNOWN_SENDER` results.
    pub auth_failed: u64,
    /// `MLSFRAME_REPLAY` and `MLSFRAME_SUPERSEDED` results.
    pub replay: u64,
    /// `MLSFRAME_MALFORMED` results.
    pub malformed: u64,
    /// Other failures of the open itself (buffer too small, too many streams). Calls
    /// refused for their arguments (NULL, overlap, media type) are not counted.
    pub other: u64,
    /// Epoch of the last frame opened.
    pub epoch: u64,
}

#[derive(Default)]
struct Stats {
    frames_in: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    no_key: AtomicU64,
    auth_failed: AtomicU64,
    replay: AtomicU64,
    malformed: AtomicU64,
    other: AtomicU64,
    epoch: AtomicU64,
}

/// Opens other members' frames (opaque).
pub struct mlsframe_decryptor {
    inner: Decryptor,
    stats: Stats,
    released: Mutex<VecDeque<ReleasedFrame>>,
}

impl mlsframe_decryptor {
    pub(crate) fn into_raw(inner: Decryptor) -> *mut mlsframe_decryptor {
        Box::into_raw(Box::new(mlsframe_decryptor {
            inner,
            stats: Stats::default(),
            released: Mutex::new(VecDeque::new()),
        }))
    }
}

/// Frees a decryptor. NULL is a no-op.
///
/// # Safety
/// `dec` is NULL or from `mlsframe_session_decryptor_new`, not freed, not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_free(dec: *mut mlsframe_decryptor) {
    let _ = ffi_guard!({
        if !dec.is_null() {
            // SAFETY: from `Box::into_raw` in `into_raw`, freed once.
            drop(unsafe { Box::from_raw(dec) });
        }
        MLSFRAME_OK
    });
}

/// The most plaintext a `frame_len`-byte frame can hold: never more than `frame_len`.
/// Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn mlsframe_decryptor_max_plaintext_size(
    dec: *const mlsframe_decryptor,
    media_type: u32,
    frame_len: usize,
) -> usize {
    let _ = (dec, media_type);
    frame_len
}

/// Opens `frame` into `out` (capacity `out_cap`); writes the plaintext length to `written`
/// and, if `sender` is not NULL, who sealed it. `out == frame` decrypts in place (the
/// plaintext starts at `out`; `out_cap` must be at least `frame_len`); any other overlap
/// between an output (`out[..out_cap]`, `*written`, `*sender`) and an input (`frame`,
/// `additional_data`) or another output is `MLSFRAME_INVALID_ARGUMENT`, in place too:
/// `additional_data` never lies inside `out`.
/// WebRTC mapping: `MLSFRAME_NO_KEY` → `kRecoverable`, other failures → `kFailedToDecrypt`.
///
/// # Safety
/// Pointers are valid for their lengths; `out` writable for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_decrypt(
    dec: *const mlsframe_decryptor,
    media_type: u32,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    sender: *mut mlsframe_sender,
) -> mlsframe_result {
    ffi_guard!({
        let dec = try_ref!(dec);
        let args = FrameArgs {
            media_type,
            frame,
            frame_len,
            metadata: additional_data,
            metadata_len: additional_data_len,
            out,
            out_cap,
            written,
            extra_out: Span::of(sender.cast_const()),
        };
        // SAFETY: the caller's guarantees for these pointers are this export's contract.
        let (io, ad) = match unsafe { frame_io(args) } {
            Ok(call) => (call.io, call.metadata),
            Err(code) => return code,
        };
        let result = match io {
            FrameIo::InPlace { buf, len } => dec.inner.decrypt_in_place(ad, &mut buf[..len]),
            FrameIo::Separate { input, output } => dec.inner.decrypt(ad, input, output),
        };
        let s = &dec.stats;
        match result {
            Ok(opened) => {
                s.frames_in.fetch_add(1, Ordering::Relaxed);
                s.bytes_in.fetch_add(frame_len as u64, Ordering::Relaxed);
                s.bytes_out.fetch_add(opened.len as u64, Ordering::Relaxed);
                s.epoch.store(opened.sender.epoch, Ordering::Relaxed);
                try_write!(written, opened.len);
                if !sender.is_null() {
                    try_write!(
                        sender,
                        mlsframe_sender {
                            epoch: opened.sender.epoch,
                            leaf: opened.sender.leaf,
                            context: opened.sender.context,
                        }
                    );
                }
                MLSFRAME_OK
            }
            Err(e) => {
                let code = mlsframe_result::from(e);
                let counter = match code {
                    MLSFRAME_NO_KEY => &s.no_key,
                    MLSFRAME_AUTH_FAILED | MLSFRAME_UNKNOWN_SENDER => &s.auth_failed,
                    MLSFRAME_REPLAY | MLSFRAME_SUPERSEDED => &s.replay,
                    MLSFRAME_MALFORMED => &s.malformed,
                    _ => &s.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                code
            }
        }
    })
}

/// Copies the decryptor's counters into `out`.
///
/// # Safety
/// `dec` is a live decryptor; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_get_stats(
    dec: *const mlsframe_decryptor,
    out: *mut mlsframe_decryptor_stats,
) -> mlsframe_result {
    ffi_guard!({
        let dec = try_ref!(dec);
        let s = &dec.stats;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        try_write!(
            out,
            mlsframe_decryptor_stats {
                frames_in: get(&s.frames_in),
                bytes_in: get(&s.bytes_in),
                bytes_out: get(&s.bytes_out),
                no_key: get(&s.no_key),
                auth_failed: get(&s.auth_failed),
                replay: get(&s.replay),
                malformed: get(&s.malformed),
                other: get(&s.other),
                epoch: get(&s.epoch),
            }
        );
        MLSFRAME_OK
    })
}

/// Frames answered `MLSFRAME_NO_KEY` because their epoch had not arrived are held (a
/// bounded few) and open once it does. Call this after processing MLS messages, repeatedly
/// until `*released` is false: each call writes at most one released frame's plaintext
/// into `out` (as `mlsframe_decryptor_decrypt` would) and its sender. The outputs
/// (`out[..out_cap]`, `*written`, `*sender`, `*released`) must not overlap
/// (`MLSFRAME_INVALID_ARGUMENT`).
///
/// # Safety
/// `dec` is a live decryptor; `out` writable for `out_cap` bytes; out-pointers writable
/// (`sender` may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_take_released(
    dec: *const mlsframe_decryptor,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    sender: *mut mlsframe_sender,
    released: *mut bool,
) -> mlsframe_result {
    ffi_guard!({
        let dec = try_ref!(dec);
        if written.is_null() || released.is_null() || (out.is_null() && out_cap != 0) {
            return MLSFRAME_NULL_ARGUMENT;
        }
        if out_cap > isize::MAX as usize {
            return MLSFRAME_INVALID_ARGUMENT;
        }
        try_disjoint!(
            inputs: [],
            outputs: [
                Span::bytes(out, out_cap),
                Span::of(written.cast_const()),
                Span::of(sender.cast_const()),
                Span::of(released.cast_const()),
            ],
        );
        try_write!(written, 0);
        try_write!(released, false);
        let mut queue = dec.released.lock().unwrap_or_else(|p| p.into_inner());
        if queue.is_empty() {
            queue.extend(dec.inner.release_held());
        }
        let Some(frame) = queue.front() else {
            return MLSFRAME_OK;
        };
        if frame.plaintext.len() > out_cap {
            return MLSFRAME_BUFFER_TOO_SMALL;
        }
        let Some(frame) = queue.pop_front() else {
            return MLSFRAME_OK;
        };
        if !frame.plaintext.is_empty() {
            // SAFETY: `out` is non-NULL here (out_cap >= len > 0) and writable for
            // `out_cap` bytes; the source is our own vector.
            unsafe {
                std::ptr::copy_nonoverlapping(frame.plaintext.as_ptr(), out, frame.plaintext.len())
            };
        }
        try_write!(written, frame.plaintext.len());
        if !sender.is_null() {
            try_write!(
                sender,
                mlsframe_sender {
                    epoch: frame.sender.epoch,
                    leaf: frame.sender.leaf,
                    context: frame.sender.context,
                }
            );
        }
        try_write!(released, true);
        dec.stats.frames_in.fetch_add(1, Ordering::Relaxed);
        MLSFRAME_OK
    })
}

/// The user id and device id of the member who held `sender->leaf` in `sender->epoch`, as a
/// decrypt or `take_released` reported it. Looks in the decryptor's own key ring, never in
/// the current roster (a leaf may since belong to someone else) and never waiting for MLS
/// work. `MLSFRAME_MLS_UNKNOWN_MEMBER` when that epoch is not installed (never, or its
/// retention has passed) or nobody held the leaf in it; `MLSFRAME_MLS_FOREIGN_CREDENTIAL`
/// when its holder's credential is not an mlsframe identity (a member on another MLS
/// stack: it has no user or device id, and the key ring keeps no credential for it;
/// `mlsframe_session_member_credential` gives the credential of the leaf's *current*
/// holder). On error both buffers are `{NULL, 0}`. Free both buffers with
/// `mlsframe_buffer_free`.
///
/// # Safety
/// `dec` is a live decryptor; `sender` readable; out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_sender_identity(
    dec: *const mlsframe_decryptor,
    sender: *const mlsframe_sender,
    user_id_out: *mut mlsframe_buffer,
    device_id_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        let dec = try_ref!(dec);
        let sender_ptr = sender;
        let sender = try_ref!(sender);
        if user_id_out.is_null() || device_id_out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        try_disjoint!(
            inputs: [Span::of(sender_ptr)],
            outputs: [Span::of(user_id_out.cast_const()), Span::of(device_id_out.cast_const())],
        );
        try_write!(user_id_out, mlsframe_buffer::empty());
        try_write!(device_id_out, mlsframe_buffer::empty());
        let identity = match dec.inner.holder_at(sender.epoch, sender.leaf) {
            Some(LeafHolder::Identity(identity)) => identity,
            Some(LeafHolder::Foreign) => return MLSFRAME_MLS_FOREIGN_CREDENTIAL,
            None => return MLSFRAME_MLS_UNKNOWN_MEMBER,
        };
        try_write!(
            user_id_out,
            mlsframe_buffer::from_vec(identity.user_id.clone())
        );
        try_write!(
            device_id_out,
            mlsframe_buffer::from_vec(identity.device_id.clone())
        );
        MLSFRAME_OK
    })
}
