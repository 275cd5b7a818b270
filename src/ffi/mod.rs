//! The C ABI: the only place in the crate with `unsafe`. One file per C object
//! ([`session`], [`encryptor`], [`decryptor`], [`sframe_context`]), plus the plumbing every
//! export shares: result codes, library-owned buffers, the panic boundary and argument
//! checks. Conventions (after rustls-ffi): fallible calls return [`mlsframe_result`];
//! inputs are `(const uint8_t *ptr, size_t len)` where NULL with length 0 is an empty slice;
//! outputs come last; every object has `_new`/`_free`.
#![allow(non_camel_case_types)]

pub mod buffer;
pub mod decryptor;
pub mod encryptor;
pub mod log;
pub mod result;
pub mod session;
pub mod sframe_context;

pub use result::mlsframe_result;

/// Runs an export body behind `catch_unwind`, turning a panic into
/// [`mlsframe_result::MLSFRAME_PANIC`] so no unwind ever crosses into C.
macro_rules! ffi_guard {
    ($body:block) => {{
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> $crate::ffi::result::mlsframe_result { $body },
        )) {
            Ok(code) => code,
            Err(_) => {
                $crate::ffi::log::emit(
                    $crate::ffi::log::mlsframe_log_level::MLSFRAME_LOG_ERROR,
                    "panic caught at the C boundary",
                );
                $crate::ffi::result::mlsframe_result::MLSFRAME_PANIC
            }
        }
    }};
}
pub(crate) use ffi_guard;

/// Returns `NULL_ARGUMENT` from the enclosing export when `$ptr` is NULL, else a shared
/// reference to what it points to.
macro_rules! try_ref {
    ($ptr:expr) => {{
        let ptr = $ptr;
        if ptr.is_null() {
            return $crate::ffi::result::mlsframe_result::MLSFRAME_NULL_ARGUMENT;
        }
        // SAFETY: non-NULL was checked; the C caller guarantees the pointer came from the
        // matching `_new` and has not been freed (documented in the header).
        unsafe { &*ptr }
    }};
}
pub(crate) use try_ref;

/// A byte slice from `(ptr, len)`: NULL with length 0 is empty; NULL with a length is
/// `NULL_ARGUMENT`.
macro_rules! try_slice {
    ($ptr:expr, $len:expr) => {{
        let (ptr, len): (*const u8, usize) = ($ptr, $len);
        if ptr.is_null() {
            if len != 0 {
                return $crate::ffi::result::mlsframe_result::MLSFRAME_NULL_ARGUMENT;
            }
            &[][..]
        } else {
            if len > isize::MAX as usize {
                return $crate::ffi::result::mlsframe_result::MLSFRAME_INVALID_ARGUMENT;
            }
            // SAFETY: non-NULL; the caller guarantees `len` readable bytes at `ptr` that
            // stay valid and unmodified for the duration of the call.
            unsafe { ::std::slice::from_raw_parts(ptr, len) }
        }
    }};
}
pub(crate) use try_slice;

/// Writes `$value` through the out-pointer `$ptr`, or returns `NULL_ARGUMENT`.
macro_rules! try_write {
    ($ptr:expr, $value:expr) => {{
        let ptr = $ptr;
        if ptr.is_null() {
            return $crate::ffi::result::mlsframe_result::MLSFRAME_NULL_ARGUMENT;
        }
        // SAFETY: non-NULL was checked; the caller guarantees it points to writable memory
        // of the right type.
        unsafe { ptr.write($value) };
    }};
}
pub(crate) use try_write;

/// Whether the byte ranges `[a, a+a_len)` and `[b, b+b_len)` intersect.
fn overlaps(a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> bool {
    let (a, b) = (a as usize, b as usize);
    a_len != 0 && b_len != 0 && a < b.saturating_add(b_len) && b < a.saturating_add(a_len)
}

/// The buffers of one frame call (encrypt or decrypt), checked.
pub(crate) enum FrameIo<'a> {
    /// `out == frame`: the frame is `buf[..len]` and the result is written over it.
    InPlace { buf: &'a mut [u8], len: usize },
    /// Disjoint input and output.
    Separate {
        input: &'a [u8],
        output: &'a mut [u8],
    },
}

/// The argument checks every frame call shares, in one place: `written` is required (and
/// zeroed first), the media type known, sizes within `isize::MAX`; `out == frame` means in
/// place (then `out_cap >= frame_len`), any other overlap is an error.
///
/// # Safety
/// `frame` is NULL or readable for `frame_len` bytes; `out` is NULL or writable for
/// `out_cap` bytes; `written` is NULL or writable. Both buffers stay valid, and are not
/// used elsewhere, for the returned lifetime.
pub(crate) unsafe fn frame_io<'a>(
    media_type: u32,
    frame: *const u8,
    frame_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> Result<FrameIo<'a>, mlsframe_result> {
    use mlsframe_result::*;
    if written.is_null() || (out.is_null() && out_cap != 0) || (frame.is_null() && frame_len != 0) {
        return Err(MLSFRAME_NULL_ARGUMENT);
    }
    // SAFETY: non-NULL, and the caller guarantees it is writable.
    unsafe { written.write(0) };
    let limit = isize::MAX as usize;
    if !encryptor::valid_media_type(media_type) || out_cap > limit || frame_len > limit {
        return Err(MLSFRAME_INVALID_ARGUMENT);
    }
    if !out.is_null() && std::ptr::eq(out.cast_const(), frame) {
        if out_cap < frame_len {
            // The output is the frame's own buffer, so it must hold the whole frame.
            return Err(MLSFRAME_INVALID_ARGUMENT);
        }
        // SAFETY: `out` is non-NULL and writable for `out_cap` bytes; the frame is its
        // first `frame_len` bytes and is accessed only through this slice.
        let buf = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
        return Ok(FrameIo::InPlace {
            buf,
            len: frame_len,
        });
    }
    if overlaps(frame, frame_len, out, out_cap) {
        return Err(MLSFRAME_INVALID_ARGUMENT);
    }
    let input: &[u8] = if frame.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL and readable for `frame_len` bytes (caller's guarantee).
        unsafe { std::slice::from_raw_parts(frame, frame_len) }
    };
    let output: &mut [u8] = if out.is_null() {
        &mut []
    } else {
        // SAFETY: non-NULL, writable for `out_cap` bytes, disjoint from the input.
        unsafe { std::slice::from_raw_parts_mut(out, out_cap) }
    };
    Ok(FrameIo::Separate { input, output })
}
