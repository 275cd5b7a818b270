//! `mlsframe_decryptor`: opens other members' frames, shaped for WebRTC's
//! `FrameDecryptorInterface` (including in-place decryption, `out == in`). Callable from
//! any thread; never blocks on MLS work. Calls on one decryptor are
//! serialized by its own lock (the Rust [`Decryptor`] opens through `&mut`); a receiver
//! that opens on several threads at once gives each its own decryptor.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::buffer::mlsframe_buffer;
use super::{
    FrameArgs, FrameIo, Reset, Span, ffi_guard, frame_call, mlsframe_result, reset_outputs,
    try_disjoint, try_ref, try_write,
};
use crate::media::{Codec, FramingError};
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

// SAFETY: integers only.
unsafe impl Reset for mlsframe_sender {}

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
    /// `MLSFRAME_MALFORMED` and `MLSFRAME_MALFORMED_LAYOUT` results.
    pub malformed: u64,
    /// Other failures of the open itself (buffer too small, too many streams). Calls
    /// refused for their arguments (NULL, overlap) are not counted.
    pub other: u64,
    /// Epoch of the last frame opened.
    pub epoch: u64,
}

// SAFETY: integers only.
unsafe impl Reset for mlsframe_decryptor_stats {}

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
    /// Taken once per frame; MLS work never takes it.
    inner: Mutex<Decryptor>,
    stats: Stats,
    released: Mutex<VecDeque<ReleasedFrame>>,
}

impl mlsframe_decryptor {
    pub(crate) fn into_raw(inner: Decryptor) -> *mut mlsframe_decryptor {
        Box::into_raw(Box::new(mlsframe_decryptor {
            inner: Mutex::new(inner),
            stats: Stats::default(),
            released: Mutex::new(VecDeque::new()),
        }))
    }

    /// The decryptor; a panic elsewhere cannot leave it half-updated (its state changes in
    /// single assignments), so a poisoned lock is still safe to use.
    fn opener(&self) -> std::sync::MutexGuard<'_, Decryptor> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
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
/// Never fails; `dec` may be NULL. (WebRTC's `media_type` is not taken: see the preamble.)
#[unsafe(no_mangle)]
pub extern "C" fn mlsframe_decryptor_max_plaintext_size(
    dec: *const mlsframe_decryptor,
    frame_len: usize,
) -> usize {
    let _ = dec;
    frame_len
}

/// Opens `frame` into `out` (capacity `out_cap`); writes the plaintext length to `*written`
/// and, if `sender` is not NULL, who sealed it to `*sender`. `out == frame` decrypts in
/// place (the plaintext starts at `out`; `out_cap` must be at least `frame_len`). The
/// frame is opened whole (WebRTC's `media_type` is not taken: see the preamble).
///
/// Out-parameters: `*written` and `*sender` are reset (0, all zero) on entry (see the
/// preamble); on success they hold the plaintext length and the sender. After a failure
/// `out` holds no plaintext: nothing is written there before the tag verifies, and a frame
/// refused after it verified (`MLSFRAME_REPLAY` lost to a concurrent duplicate,
/// `MLSFRAME_TOO_MANY_STREAMS`) has its plaintext wiped. In place, a failure before the tag
/// verifies leaves the frame as it was.
///
/// Codes, the argument checks first, in this order:
/// - `MLSFRAME_NULL_ARGUMENT`: `dec` or `written` NULL; `out` NULL with `out_cap` > 0;
///   `frame` or `additional_data` NULL with a length.
/// - `MLSFRAME_INVALID_ARGUMENT`: a length over `PTRDIFF_MAX`; an output (`out[..out_cap]`,
///   `*written`, `*sender`) sharing a byte with an input (`frame`, `additional_data`) or
///   with another output, except exactly in place (and even then `additional_data`,
///   `written` and `sender` must lie outside `out[..out_cap]`); in place with
///   `out_cap < frame_len`.
///
/// Then what the frame itself gets. The header is read first (`MALFORMED` for one that does
/// not parse), then its key looked up; a counter already accepted is refused (`REPLAY`)
/// before the rest of the frame is looked at, so a replayed frame gets `MLSFRAME_REPLAY`
/// even when it is also too short or tampered:
/// - `MLSFRAME_MALFORMED`: empty; the header truncated; a header that encodes the KID or
///   the counter in more bytes than needed (RFC 9605 section 4.3 asks senders for the
///   minimum; mlsframe refuses any other encoding, so every frame has one wire form);
///   shorter than header plus tag.
/// - `MLSFRAME_NO_KEY` (recoverable): the KID's epoch is not installed (not yet, never, or
///   its retention has passed). A frame of an epoch that may still arrive is held: drain
///   it with `mlsframe_decryptor_take_released` after processing its commit.
/// - `MLSFRAME_UNKNOWN_SENDER`: the KID names our own leaf, an empty leaf, or is not
///   canonical.
/// - `MLSFRAME_SUPERSEDED`: the sender's stream already moved to a newer epoch.
/// - `MLSFRAME_TOO_MANY_STREAMS`: a new stream past the per-epoch cap (1024).
/// - `MLSFRAME_BUFFER_TOO_SMALL`: `out_cap` below the plaintext length.
/// - `MLSFRAME_AUTH_FAILED`: the tag does not verify (tampered, truncated, other additional
///   data, forged).
/// - `MLSFRAME_REPLAY`: the counter was already accepted, or is older than the replay
///   window.
/// - `MLSFRAME_OK`.
///
/// WebRTC mapping: `MLSFRAME_NO_KEY` → `kRecoverable`, other failures → `kFailedToDecrypt`.
///
/// # Safety
/// Pointers are valid for their lengths; `out` writable for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_decrypt(
    dec: *const mlsframe_decryptor,
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
        // SAFETY: this export's contract is `decrypt`'s.
        unsafe {
            decrypt(
                dec,
                Ok(Codec::Whole),
                frame,
                frame_len,
                additional_data,
                additional_data_len,
                out,
                out_cap,
                written,
                sender,
            )
        }
    })
}

/// Opens a frame sealed in framing mode `codec` (a `mlsframe_codec` value, docs/FRAMING.md)
/// by a codec-aware encryptor, exactly like `mlsframe_decryptor_decrypt` otherwise (same
/// arguments, out-parameters, in-place rule and codes; `*written` is the frame's length,
/// at most `frame_len`). The caller names the codec from the stream's configuration (for
/// example its RTP payload type); it is authenticated, so a frame sealed in another mode,
/// or whole, fails with `MLSFRAME_AUTH_FAILED`, and a whole-frame SFrame given a codec
/// fails with `MLSFRAME_MALFORMED_LAYOUT` or `MLSFRAME_AUTH_FAILED`. A frame held for a
/// missing epoch (`MLSFRAME_NO_KEY`) is released later under the same codec.
///
/// Codes, after the argument checks of `mlsframe_decryptor_decrypt`
/// (`MLSFRAME_NULL_ARGUMENT`, `MLSFRAME_INVALID_ARGUMENT`):
/// - `MLSFRAME_UNSUPPORTED_CODEC`: `codec` is not a `mlsframe_codec` value.
/// - `MLSFRAME_MALFORMED_LAYOUT` (codecs other than WHOLE): no footer or trailer, a trailer
///   or layout that does not parse, or a layout whose units differ from the frame's.
/// - `MLSFRAME_BUFFER_TOO_SMALL`: `out_cap` below the frame's length (checked before the
///   replay window is touched).
/// - then those of `mlsframe_decryptor_decrypt` for the SFrame inside: `MLSFRAME_MALFORMED`
///   (its header), `MLSFRAME_NO_KEY`, `MLSFRAME_UNKNOWN_SENDER`, `MLSFRAME_SUPERSEDED`,
///   `MLSFRAME_TOO_MANY_STREAMS`, `MLSFRAME_REPLAY`, `MLSFRAME_AUTH_FAILED` (also any
///   changed clear byte, range or codec), `MLSFRAME_OK`.
///
/// # Safety
/// As `mlsframe_decryptor_decrypt`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_decrypt_codec(
    dec: *const mlsframe_decryptor,
    codec: u32,
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
        // SAFETY: this export's contract is `decrypt`'s.
        unsafe {
            decrypt(
                dec,
                Codec::from_id(codec),
                frame,
                frame_len,
                additional_data,
                additional_data_len,
                out,
                out_cap,
                written,
                sender,
            )
        }
    })
}

/// The body of both decrypt exports.
///
/// # Safety
/// As `mlsframe_decryptor_decrypt`.
#[allow(clippy::too_many_arguments)]
unsafe fn decrypt(
    dec: *const mlsframe_decryptor,
    codec: Result<Codec, FramingError>,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    sender: *mut mlsframe_sender,
) -> mlsframe_result {
    {
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
        let (dec, io, ad) = match unsafe { frame_call(dec, args, sender) } {
            Ok((dec, call)) => (dec, call.io, call.metadata),
            Err(code) => return code,
        };
        let codec = match codec {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        let result = match (io, codec) {
            (FrameIo::InPlace { buf, len }, Codec::Whole) => {
                dec.opener().decrypt_in_place(ad, &mut buf[..len])
            }
            (FrameIo::Separate { input, output }, Codec::Whole) => {
                dec.opener().decrypt(ad, input, output)
            }
            (FrameIo::InPlace { buf, len }, codec) => {
                dec.opener()
                    .decrypt_codec_in_place(codec, ad, &mut buf[..len])
            }
            (FrameIo::Separate { input, output }, codec) => {
                dec.opener().decrypt_codec(codec, ad, input, output)
            }
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
                    MLSFRAME_MALFORMED | MLSFRAME_MALFORMED_LAYOUT => &s.malformed,
                    _ => &s.other,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                code
            }
        }
    }
}

/// Copies the decryptor's counters into `*out` (reset to all zero on entry, see the
/// preamble).
///
/// Codes: `MLSFRAME_OK`; `MLSFRAME_NULL_ARGUMENT` when `dec` or `out` is NULL.
///
/// # Safety
/// `dec` is a live decryptor; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_decryptor_get_stats(
    dec: *const mlsframe_decryptor,
    out: *mut mlsframe_decryptor_stats,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
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
/// into `out` (as `mlsframe_decryptor_decrypt` would), its length into `*written` and its
/// sender into `*sender` (may be NULL), and sets `*released`.
///
/// Out-parameters: `*written`, `*sender` and `*released` are reset (0, all zero, false) on
/// entry (see the preamble).
///
/// Codes, in this order:
/// - `MLSFRAME_NULL_ARGUMENT`: `dec`, `written` or `released` NULL; `out` NULL with
///   `out_cap` > 0.
/// - `MLSFRAME_INVALID_ARGUMENT`: `out_cap` over `PTRDIFF_MAX`; any two of the outputs
///   (`out[..out_cap]`, `*written`, `*sender`, `*released`) sharing a byte.
/// - `MLSFRAME_BUFFER_TOO_SMALL`: the next released frame is larger than `out_cap`; it
///   stays queued (call again with room).
/// - `MLSFRAME_OK`: `*released` says whether a frame was written.
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
        reset_outputs!(
            inputs: &[],
            required: [written, released],
            optional: [sender],
            buffers: [Span::bytes(out, out_cap)],
        );
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
        let mut queue = dec.released.lock().unwrap_or_else(|p| p.into_inner());
        if queue.is_empty() {
            queue.extend(dec.opener().release_held());
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
/// holder). Both buffers are reset to `{NULL, 0}` on entry (see the preamble). Free both
/// with `mlsframe_buffer_free`.
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `dec`, `sender`, `user_id_out` or
/// `device_id_out` is NULL; `MLSFRAME_INVALID_ARGUMENT` when the two outputs share a byte
/// with each other or with `*sender`; `MLSFRAME_MLS_UNKNOWN_MEMBER`;
/// `MLSFRAME_MLS_FOREIGN_CREDENTIAL`; `MLSFRAME_OK`.
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
        reset_outputs!(
            inputs: &[Span::of(sender)],
            required: [user_id_out, device_id_out],
            optional: [],
        );
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
        let holder = dec.opener().holder_at(sender.epoch, sender.leaf);
        let identity = match holder {
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
