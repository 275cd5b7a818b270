//! `mlsframe_sframe_context`: SFrame with keys the app manages itself (RFC 9605 §5), no MLS.
//! One context holds at most one send key and any number of receive keys by KID. Frame
//! calls may run on several threads; key changes take a short lock that frame calls share.

use std::sync::RwLock;

use super::{
    FrameArgs, FrameIo, Span, ffi_guard, frame_io, mlsframe_result, try_ref, try_slice, try_write,
};
use crate::sframe::{CipherSuite, Receiver, ReceiverConfig, SendKey, max_frame_len};
use mlsframe_result::*;

/// SFrame state for app-managed keys (opaque).
pub struct mlsframe_sframe_context {
    send: RwLock<Option<SendKey>>,
    receive: RwLock<Receiver>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// Creates a context whose receive keys use a replay window of `replay_window` frames
/// (0: 128).
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_new(
    replay_window: u32,
    out: *mut *mut mlsframe_sframe_context,
) -> mlsframe_result {
    ffi_guard!({
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        try_write!(out, std::ptr::null_mut());
        let mut config = ReceiverConfig::default();
        if replay_window != 0 {
            config.replay_window = u64::from(replay_window);
        }
        if crate::sframe::ReplayWindow::new(config.replay_window).is_err() {
            return MLSFRAME_INVALID_ARGUMENT;
        }
        let ctx = Box::new(mlsframe_sframe_context {
            send: RwLock::new(None),
            receive: RwLock::new(Receiver::with_config(config)),
        });
        try_write!(out, Box::into_raw(ctx));
        MLSFRAME_OK
    })
}

/// Frees a context (its keys are zeroized). NULL is a no-op.
///
/// # Safety
/// `ctx` is NULL or from `mlsframe_sframe_context_new`, not freed, not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_free(ctx: *mut mlsframe_sframe_context) {
    let _ = ffi_guard!({
        if !ctx.is_null() {
            // SAFETY: from `Box::into_raw` in `_new`, freed once.
            drop(unsafe { Box::from_raw(ctx) });
        }
        MLSFRAME_OK
    });
}

/// Sets (replacing any) the send key: frames are sealed under `kid` with keys derived from
/// `base_key` (any length ≥ 1); counters start at 0, so never reuse a (base key, KID) pair.
///
/// # Safety
/// `ctx` is a live context; `base_key` valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_set_send_key(
    ctx: *const mlsframe_sframe_context,
    suite: u16,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        let key = try_slice!(base_key, base_key_len);
        let Ok(suite) = CipherSuite::try_from(suite) else {
            return MLSFRAME_UNKNOWN_SUITE;
        };
        if key.is_empty() {
            return MLSFRAME_INVALID_ARGUMENT;
        }
        *write(&ctx.send) = Some(SendKey::new(suite, kid, key));
        MLSFRAME_OK
    })
}

/// Installs a receive key for `kid`.
///
/// # Safety
/// `ctx` is a live context; `base_key` valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_add_receive_key(
    ctx: *const mlsframe_sframe_context,
    suite: u16,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        let key = try_slice!(base_key, base_key_len);
        let Ok(suite) = CipherSuite::try_from(suite) else {
            return MLSFRAME_UNKNOWN_SUITE;
        };
        if key.is_empty() {
            return MLSFRAME_INVALID_ARGUMENT;
        }
        write(&ctx.receive).add_key(suite, kid, key).into()
    })
}

/// Removes the receive key for `kid` (zeroized). `MLSFRAME_NO_KEY` if none was installed.
///
/// # Safety
/// `ctx` is a live context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_remove_receive_key(
    ctx: *const mlsframe_sframe_context,
    kid: u64,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        if write(&ctx.receive).remove_key(kid) {
            MLSFRAME_OK
        } else {
            MLSFRAME_NO_KEY
        }
    })
}

/// Upper bound on the sealed size of a `frame_len`-byte frame; `SIZE_MAX` on overflow.
#[unsafe(no_mangle)]
pub extern "C" fn mlsframe_sframe_max_ciphertext_size(frame_len: usize) -> usize {
    max_frame_len(CipherSuite::Aes128GcmSha256_128, frame_len).unwrap_or(usize::MAX)
}

/// Seals `frame` with the send key into `out`, or in place when `out == frame` (the buffer
/// then has room for header and tag); writes the sealed length to `written`.
/// `MLSFRAME_NOT_MEMBER` if no send key is set. Any other overlap between an output
/// (`out[..out_cap]`, `*written`) and an input (`frame`, `additional_data`) or another output
/// is `MLSFRAME_INVALID_ARGUMENT`, in place too: `additional_data` never lies inside `out`.
///
/// # Safety
/// Pointers valid for their lengths; `out` writable for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_encrypt(
    ctx: *const mlsframe_sframe_context,
    media_type: u32,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        let args = FrameArgs {
            media_type,
            frame,
            frame_len,
            metadata: additional_data,
            metadata_len: additional_data_len,
            out,
            out_cap,
            written,
            extra_out: Span::NONE,
        };
        // SAFETY: the caller's guarantees for these pointers are this export's contract.
        let (io, ad) = match unsafe { frame_io(args) } {
            Ok(call) => (call.io, call.metadata),
            Err(code) => return code,
        };
        let send = read(&ctx.send);
        let Some(key) = send.as_ref() else {
            return MLSFRAME_NOT_MEMBER;
        };
        let result = match io {
            FrameIo::InPlace { buf, len } => key.encrypt_in_place(ad, buf, len),
            FrameIo::Separate { input, output } => key.encrypt(ad, input, output),
        };
        match result {
            Ok(n) => {
                try_write!(written, n);
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Opens `frame` into `out` (or in place when `out == frame`, with `out_cap >= frame_len`);
/// writes the plaintext length to `written` and the frame's KID to `kid_out` (may be NULL).
/// Any other overlap between an output (`out[..out_cap]`, `*written`, `*kid_out`) and an
/// input (`frame`, `additional_data`) or another output is `MLSFRAME_INVALID_ARGUMENT`, in
/// place too: `additional_data` never lies inside `out`.
///
/// # Safety
/// Pointers valid for their lengths; `out` writable for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_decrypt(
    ctx: *const mlsframe_sframe_context,
    media_type: u32,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    kid_out: *mut u64,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        let args = FrameArgs {
            media_type,
            frame,
            frame_len,
            metadata: additional_data,
            metadata_len: additional_data_len,
            out,
            out_cap,
            written,
            extra_out: Span::of(kid_out.cast_const()),
        };
        // SAFETY: the caller's guarantees for these pointers are this export's contract.
        let (io, ad) = match unsafe { frame_io(args) } {
            Ok(call) => (call.io, call.metadata),
            Err(code) => return code,
        };
        let receiver = read(&ctx.receive);
        let result = match io {
            FrameIo::InPlace { buf, len } => receiver.decrypt_in_place(ad, &mut buf[..len]),
            FrameIo::Separate { input, output } => receiver.decrypt(ad, input, output),
        };
        match result {
            Ok(opened) => {
                try_write!(written, opened.len);
                if !kid_out.is_null() {
                    try_write!(kid_out, opened.kid);
                }
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}
