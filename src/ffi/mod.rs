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
pub(crate) fn overlaps(a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> bool {
    let (a, b) = (a as usize, b as usize);
    a_len != 0 && b_len != 0 && a < b.saturating_add(b_len) && b < a.saturating_add(a_len)
}
