//! `mlsframe_buffer`: the one type for library-owned, variable-size outputs (key packages,
//! commits, welcomes, security codes, rosters, and secrets such as snapshots and exporter
//! values), freed by `mlsframe_buffer_free`, which wipes every buffer before freeing it.

use zeroize::{Zeroize, Zeroizing};

use super::{Reset, ffi_guard, mlsframe_result};

/// Bytes owned by the library. Free with `mlsframe_buffer_free`, which wipes them first
/// (so buffers holding secrets leave no copy in freed memory); an all-zero buffer
/// (`{NULL, 0}`) is valid and empty.
#[repr(C)]
#[derive(Debug)]
pub struct mlsframe_buffer {
    /// The bytes (NULL when empty).
    pub data: *mut u8,
    /// Number of bytes at `data`.
    pub len: usize,
}

impl mlsframe_buffer {
    /// Moves `bytes` into a C-owned buffer.
    pub(crate) fn from_vec(bytes: Vec<u8>) -> mlsframe_buffer {
        if bytes.is_empty() {
            return mlsframe_buffer::empty();
        }
        let boxed = bytes.into_boxed_slice();
        let len = boxed.len();
        mlsframe_buffer {
            data: Box::into_raw(boxed).cast::<u8>(),
            len,
        }
    }

    /// Copies a secret into a C-owned buffer of exactly its length (so no reallocation
    /// leaves a copy behind); `secret` itself is wiped when it drops here.
    pub(crate) fn from_secret(secret: Zeroizing<Vec<u8>>) -> mlsframe_buffer {
        mlsframe_buffer::from_vec(secret.as_slice().to_vec())
    }

    pub(crate) fn empty() -> mlsframe_buffer {
        mlsframe_buffer {
            data: std::ptr::null_mut(),
            len: 0,
        }
    }
}

// SAFETY: all-zero bytes are `{NULL, 0}`, the empty buffer.
unsafe impl Reset for mlsframe_buffer {}

/// Frees a buffer's bytes (wiping them first) and resets it to `{NULL, 0}`. NULL, or an
/// already-freed/empty buffer, is a no-op.
///
/// # Safety
/// `buf` is NULL or points to a buffer filled by this library and not modified since.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_buffer_free(buf: *mut mlsframe_buffer) {
    let _ = ffi_guard!({
        if buf.is_null() {
            return mlsframe_result::MLSFRAME_OK;
        }
        // SAFETY: non-NULL; the caller passes a buffer this library filled.
        let b = unsafe { &mut *buf };
        if !b.data.is_null() && b.len != 0 {
            // SAFETY: `data`/`len` came from `Box<[u8]>::into_raw` in `from_vec` and are
            // reclaimed exactly once (reset to NULL below).
            let mut boxed =
                unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(b.data, b.len)) };
            boxed.zeroize();
        }
        *b = mlsframe_buffer::empty();
        mlsframe_result::MLSFRAME_OK
    });
}
