//! The C ABI: the only place in the crate with `unsafe`. One file per C object
//! ([`session`], [`encryptor`], [`decryptor`], [`sframe_context`], and the structs the
//! session takes: [`identity`] for who it is and how it signs, [`params`] for group
//! parameters and options, [`admission`] for the admission callback's candidate), plus
//! the plumbing every export shares: result codes, library-owned buffers, the panic
//! boundary and argument checks. Conventions (after rustls-ffi): fallible calls return
//! [`mlsframe_result`]; inputs are `(const uint8_t *ptr, size_t len)` where NULL with
//! length 0 is an empty slice; outputs come last; every object has `_new`/`_free`. No
//! output may overlap an input or another output (`disjoint`), except a frame call exactly
//! in place (`out == frame`). Every out-parameter is reset on entry (`reset_outputs!`),
//! so a failed call leaves each one in one documented state.
#![allow(non_camel_case_types)]
// The shared plumbing below serves the exports, which wasm32 leaves out.
#![cfg_attr(
    target_arch = "wasm32",
    allow(dead_code, unused_macros, unused_imports)
)]

// On wasm32 only the result codes are built (the web binding reports the same codes);
// the exports and their plumbing would pull the whole C surface into the `.wasm`.
#[cfg(not(target_arch = "wasm32"))]
pub mod admission;
#[cfg(not(target_arch = "wasm32"))]
pub mod buffer;
#[cfg(not(target_arch = "wasm32"))]
pub mod codec;
#[cfg(not(target_arch = "wasm32"))]
pub mod decryptor;
#[cfg(not(target_arch = "wasm32"))]
pub mod encryptor;
#[cfg(not(target_arch = "wasm32"))]
pub mod identity;
#[cfg(not(target_arch = "wasm32"))]
pub mod log;
#[cfg(not(target_arch = "wasm32"))]
pub mod params;
pub mod result;
#[cfg(not(target_arch = "wasm32"))]
pub mod session;
#[cfg(not(target_arch = "wasm32"))]
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

/// A typed slice of `count` elements from `(ptr, count)`: NULL with count 0 is empty; NULL
/// with a count is `NULL_ARGUMENT`; more than `isize::MAX` bytes is `INVALID_ARGUMENT`.
macro_rules! try_array {
    ($ptr:expr, $count:expr) => {{
        let (ptr, count) = ($ptr, $count);
        if ptr.is_null() {
            if count != 0 {
                return $crate::ffi::result::mlsframe_result::MLSFRAME_NULL_ARGUMENT;
            }
            &[][..]
        } else {
            if count > $crate::ffi::max_elements(ptr) {
                return $crate::ffi::result::mlsframe_result::MLSFRAME_INVALID_ARGUMENT;
            }
            // SAFETY: non-NULL; at most `isize::MAX` bytes; the caller guarantees `count`
            // readable elements at `ptr` that stay valid and unmodified during the call.
            unsafe { ::std::slice::from_raw_parts(ptr, count) }
        }
    }};
}
pub(crate) use try_array;

/// The most elements of `T` a slice may have (`isize::MAX` bytes).
pub(crate) fn max_elements<T>(_: *const T) -> usize {
    (isize::MAX as usize) / std::mem::size_of::<T>().max(1)
}

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

/// Caller memory one argument names: `len` bytes at `start`. A NULL pointer or a zero
/// length names no memory and overlaps nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    len: usize,
}

impl Span {
    /// No memory (an absent optional argument).
    pub(crate) const NONE: Span = Span { start: 0, len: 0 };

    /// The `len` bytes at `ptr`.
    pub(crate) fn bytes(ptr: *const u8, len: usize) -> Span {
        Span::array(ptr, len)
    }

    /// The `count` elements at `ptr` (an input array such as key-package pointers). More
    /// than `isize::MAX` bytes is no slice a caller can pass: such an argument names no
    /// memory either (every export refuses it before reading it).
    pub(crate) fn array<T>(ptr: *const T, count: usize) -> Span {
        let len = count.saturating_mul(std::mem::size_of::<T>());
        if ptr.is_null() || len > isize::MAX as usize {
            return Span::NONE;
        }
        Span {
            start: ptr as usize,
            len,
        }
    }

    /// The one `T` an out-pointer (or a pointer to an input struct) names.
    pub(crate) fn of<T>(ptr: *const T) -> Span {
        Span::array(ptr, 1)
    }

    /// Whether the two spans share a byte.
    fn overlaps(self, other: Span) -> bool {
        self.len != 0
            && other.len != 0
            && self.start < other.start.saturating_add(other.len)
            && other.start < self.start.saturating_add(self.len)
    }
}

/// The C ABI's one aliasing rule, in one place: no output may share a byte with any input
/// or with another output (inputs may overlap each other: they are only read). Every export
/// that takes an input and writes caller memory checks its arguments with this before it
/// forms a reference to either, and answers `MLSFRAME_INVALID_ARGUMENT` when it fails. The
/// only exception, an exactly in-place frame call (`out == frame`), is resolved by
/// [`frame_io`] before it applies the rule to everything else.
pub(crate) fn disjoint(inputs: &[Span], outputs: &[Span]) -> bool {
    outputs.iter().enumerate().all(|(i, out)| {
        inputs.iter().all(|input| !out.overlaps(*input))
            && outputs[i + 1..].iter().all(|other| !out.overlaps(*other))
    })
}

/// An out-parameter type whose reset value is all-zero bytes, padding included: 0,
/// `false`, NULL, `{NULL, 0}` or a zeroed struct in C. That is the value it holds after a
/// failed call, and before a successful one writes its result.
///
/// # Safety
/// All-zero bytes must be a valid value of the type (no references, no enum without a 0
/// variant, no `NonNull`).
pub(crate) unsafe trait Reset {}

// SAFETY: 0 and `false` are valid integers and booleans.
unsafe impl Reset for u16 {}
// SAFETY: as above.
unsafe impl Reset for u32 {}
// SAFETY: as above.
unsafe impl Reset for u64 {}
// SAFETY: as above.
unsafe impl Reset for usize {}
// SAFETY: as above.
unsafe impl Reset for bool {}
// SAFETY: all-zero bytes are a NULL raw pointer.
unsafe impl<T> Reset for *mut T {}

/// Zeroes the `T` at `ptr` (padding included) unless `ptr` is NULL.
///
/// # Safety
/// `ptr` is NULL or writable for a `T`, and no reference to the memory it names is alive.
pub(crate) unsafe fn reset<T: Reset>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: non-NULL; writable and unaliased by the caller's guarantee; all-zero
        // bytes are a valid `T` (`Reset`'s contract).
        unsafe { ptr.write_bytes(0, 1) };
    }
}

/// Whether a call's out-parameters are *usable*: every `required` one is non-NULL, and no
/// output (the out-parameters, and buffers such as a frame's `out[..out_cap]`) shares a
/// byte with an input or with another output. Allocates nothing (frame calls run it).
pub(crate) fn outputs_usable(required: &[bool], inputs: &[Span], outputs: &[Span]) -> bool {
    required.iter().all(|non_null| *non_null) && disjoint(inputs, outputs)
}

/// The out-parameter rule, in one place (the header's preamble states it for C): when the
/// out-parameters are usable ([`outputs_usable`]), each non-NULL one is reset (zeroed,
/// see [`Reset`]) as the export's first action, before any other check (the handle's
/// included); when they are not, none is written, and the checks that follow return
/// `NULL_ARGUMENT` or `INVALID_ARGUMENT`. So after any failure an app whose out-pointers
/// are valid and distinct finds every one of them reset. `inputs` is a `&[Span]` of the
/// caller memory the export reads; `buffers` (optional) are further outputs that are not
/// reset (a frame's output buffer).
macro_rules! reset_outputs {
    (
        inputs: $inputs:expr,
        required: [$($req:expr),* $(,)?],
        optional: [$($opt:expr),* $(,)?]
        $(, buffers: [$($buffer:expr),* $(,)?])? $(,)?
    ) => {{
        let usable = $crate::ffi::outputs_usable(
            &[$(!$req.is_null()),*],
            $inputs,
            &[
                $($crate::ffi::Span::of($req.cast_const()),)*
                $($crate::ffi::Span::of($opt.cast_const()),)*
                $($($buffer,)*)?
            ],
        );
        if usable {
            // SAFETY: each pointer is NULL or writable (the export's contract), shares no
            // byte with an input or another output, and no reference to caller memory
            // exists yet.
            unsafe {
                $($crate::ffi::reset($req);)*
                $($crate::ffi::reset($opt);)*
            }
        }
        usable
    }};
}
pub(crate) use reset_outputs;

/// Returns `INVALID_ARGUMENT` from the enclosing export unless [`disjoint`] holds.
macro_rules! try_disjoint {
    (inputs: [$($input:expr),* $(,)?], outputs: [$($output:expr),* $(,)?] $(,)?) => {
        if !$crate::ffi::disjoint(&[$($input),*], &[$($output),*]) {
            return $crate::ffi::result::mlsframe_result::MLSFRAME_INVALID_ARGUMENT;
        }
    };
}
pub(crate) use try_disjoint;

/// The arguments every frame call (seal or open) shares, as the C caller passed them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameArgs {
    /// The frame to seal or open: `frame_len` bytes (NULL with 0 is empty).
    pub(crate) frame: *const u8,
    pub(crate) frame_len: usize,
    /// Authenticated, unsent metadata (`additional_data`): NULL with 0 is empty.
    pub(crate) metadata: *const u8,
    pub(crate) metadata_len: usize,
    /// The output buffer and its capacity.
    pub(crate) out: *mut u8,
    pub(crate) out_cap: usize,
    /// Required: receives the output length.
    pub(crate) written: *mut usize,
}

impl FrameArgs {
    /// Whether `out == frame` (an in-place call).
    fn in_place(&self) -> bool {
        !self.out.is_null() && std::ptr::eq(self.out.cast_const(), self.frame)
    }

    /// The call's caller memory as [`reset_outputs!`] weighs it: the inputs (frame and
    /// metadata) and the output buffer. In place the frame lies in the buffer, which then
    /// counts as `max(out_cap, frame_len)` bytes of output, so that nothing is reset inside
    /// the frame even when `out_cap` is too small to hold it.
    pub(crate) fn spans(&self) -> ([Span; 2], Span) {
        let metadata = Span::bytes(self.metadata, self.metadata_len);
        if self.in_place() {
            let buffer = Span::bytes(self.out, self.out_cap.max(self.frame_len));
            ([Span::NONE, metadata], buffer)
        } else {
            let frame = Span::bytes(self.frame, self.frame_len);
            ([frame, metadata], Span::bytes(self.out, self.out_cap))
        }
    }
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

/// A frame call's checked buffers and metadata.
pub(crate) struct FrameCall<'a> {
    /// Frame and output.
    pub(crate) io: FrameIo<'a>,
    /// The metadata, disjoint from the output (and from `written` and `extra_out`).
    pub(crate) metadata: &'a [u8],
}

/// The argument checks every frame call shares, in one place: `written` is required,
/// sizes within `isize::MAX`. `out == frame` means in place (then `out_cap >= frame_len`);
/// apart from that, [`disjoint`] holds for the inputs (frame, metadata) and the outputs
/// (`out[..out_cap]`, `*written`, `extra_out`), so metadata overlapping the output is
/// refused in place too. Every failure of these checks is `NULL_ARGUMENT` or
/// `INVALID_ARGUMENT`. The out-parameters were reset before (see [`FrameArgs::spans`]).
///
/// # Safety
/// `frame` and `metadata` are NULL or readable for their lengths; `out` is NULL or
/// writable for `out_cap` bytes; `written` is NULL or writable. All stay valid, and are
/// not used elsewhere, for the returned lifetime.
pub(crate) unsafe fn frame_io<'a>(
    args: FrameArgs,
    extra_out: Span,
) -> Result<FrameCall<'a>, mlsframe_result> {
    use mlsframe_result::*;
    let in_place = args.in_place();
    let FrameArgs {
        frame,
        frame_len,
        metadata,
        metadata_len,
        out,
        out_cap,
        written,
    } = args;
    if written.is_null()
        || (out.is_null() && out_cap != 0)
        || (frame.is_null() && frame_len != 0)
        || (metadata.is_null() && metadata_len != 0)
    {
        return Err(MLSFRAME_NULL_ARGUMENT);
    }
    let limit = isize::MAX as usize;
    if out_cap > limit || frame_len > limit || metadata_len > limit {
        return Err(MLSFRAME_INVALID_ARGUMENT);
    }
    let frame_span = if in_place {
        // The frame lies inside the output; the in-place check below covers it.
        Span::NONE
    } else {
        Span::bytes(frame, frame_len)
    };
    let outputs = [
        Span::bytes(out, out_cap),
        Span::of(written.cast_const()),
        extra_out,
    ];
    if !disjoint(&[frame_span, Span::bytes(metadata, metadata_len)], &outputs) {
        return Err(MLSFRAME_INVALID_ARGUMENT);
    }
    let metadata: &[u8] = if metadata.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL and readable for `metadata_len <= isize::MAX` bytes (caller's
        // guarantee); disjoint from every output, so nothing writes it while it is borrowed.
        unsafe { std::slice::from_raw_parts(metadata, metadata_len) }
    };
    if in_place {
        if out_cap < frame_len {
            // The output is the frame's own buffer, so it must hold the whole frame.
            return Err(MLSFRAME_INVALID_ARGUMENT);
        }
        // SAFETY: `out` is non-NULL and writable for `out_cap <= isize::MAX` bytes; the
        // frame is its first `frame_len` bytes and is accessed only through this slice,
        // and no other argument (metadata, `written`, `extra_out`) overlaps it.
        let buf = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
        return Ok(FrameCall {
            io: FrameIo::InPlace {
                buf,
                len: frame_len,
            },
            metadata,
        });
    }
    let input: &[u8] = if frame.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL and readable for `frame_len <= isize::MAX` bytes (caller's
        // guarantee); disjoint from every output.
        unsafe { std::slice::from_raw_parts(frame, frame_len) }
    };
    let output: &mut [u8] = if out.is_null() {
        &mut []
    } else {
        // SAFETY: non-NULL, writable for `out_cap <= isize::MAX` bytes, disjoint from the
        // frame, the metadata and the other out-pointers.
        unsafe { std::slice::from_raw_parts_mut(out, out_cap) }
    };
    Ok(FrameCall {
        io: FrameIo::Separate { input, output },
        metadata,
    })
}

/// Every frame export's checks, in one place: the out-parameters reset ([`reset_outputs!`]
/// over [`FrameArgs::spans`], with `written` required and `extra_out` optional), then the
/// handle (`NULL_ARGUMENT` when NULL), then [`frame_io`]. Returns the handle and the
/// checked buffers, or the code the export returns.
///
/// Most calls take the fast path, [`FrameArgs::fast`]: one pass of comparisons that accepts
/// only arguments the full checks accept, and then yields the same buffers and leaves the
/// out-parameters as the full checks would. Everything else (every failure included) goes
/// through the full checks, out of line, so every code and every reset is theirs.
///
/// # Safety
/// As [`frame_io`]; `handle` is NULL or valid for `'a`; `extra_out` is NULL or writable.
#[inline(always)]
pub(crate) unsafe fn frame_call<'a, T, E: Reset>(
    handle: *const T,
    args: FrameArgs,
    extra_out: *mut E,
) -> Result<(&'a T, FrameCall<'a>), mlsframe_result> {
    if !handle.is_null() {
        // SAFETY: the caller's guarantees for these pointers (this function's contract).
        if let Some(call) = unsafe { args.fast(Span::of(extra_out.cast_const())) } {
            // SAFETY: `written` and `extra_out` are NULL or writable (the contract), share
            // no byte with an input or another output (`fast` checked it) and no reference
            // to them exists. A non-NULL handle is live by the caller's guarantee.
            unsafe {
                reset(args.written);
                reset(extra_out);
                return Ok((&*handle, call));
            }
        }
    }
    // SAFETY: as above.
    unsafe { frame_call_checked(handle, args, extra_out) }
}

/// [`frame_call`]'s full checks, in their documented order.
///
/// # Safety
/// As [`frame_call`].
#[cold]
#[inline(never)]
unsafe fn frame_call_checked<'a, T, E: Reset>(
    handle: *const T,
    args: FrameArgs,
    extra_out: *mut E,
) -> Result<(&'a T, FrameCall<'a>), mlsframe_result> {
    let written = args.written;
    let (inputs, buffer) = args.spans();
    reset_outputs!(
        inputs: &inputs,
        required: [written],
        optional: [extra_out],
        buffers: [buffer],
    );
    if handle.is_null() {
        return Err(mlsframe_result::MLSFRAME_NULL_ARGUMENT);
    }
    // SAFETY: the caller's guarantees for these pointers (this function's contract).
    let call = unsafe { frame_io(args, Span::of(extra_out.cast_const())) }?;
    // SAFETY: non-NULL; live by the caller's guarantee.
    Ok((unsafe { &*handle }, call))
}

impl FrameArgs {
    /// The common case of [`frame_call`]'s checks, in one pass: `frame`, `out` and
    /// `written` non-NULL, `metadata` non-NULL or of length 0, every length within
    /// `isize::MAX`, no span running past the end of the address space, in place with
    /// `out_cap >= frame_len`, and every output (`out[..out_cap]`, `*written`, `extra_out`)
    /// clear of every input (frame, metadata) and of each other, where a span of length 0
    /// counts as its address (a stricter rule than [`disjoint`]'s, which lets empty spans
    /// overlap anything). `None` when any of this fails: the full checks then decide.
    ///
    /// When it answers `Some`, [`reset_outputs!`] finds these arguments usable and
    /// [`frame_io`] accepts them and returns the same buffers (the test
    /// `fast_path_agrees_with_the_full_checks` compares them over every placement).
    ///
    /// # Safety
    /// As [`frame_io`].
    #[inline(always)]
    unsafe fn fast<'a>(&self, extra_out: Span) -> Option<FrameCall<'a>> {
        let FrameArgs {
            frame,
            frame_len,
            metadata,
            metadata_len,
            out,
            out_cap,
            written,
        } = *self;
        if frame.is_null() || out.is_null() || written.is_null() {
            return None;
        }
        if (frame_len | metadata_len | out_cap) > isize::MAX as usize {
            return None;
        }
        // `[start, end)` of each span; disjoint when one ends at or before the other starts.
        let apart = |a: (usize, usize), b: (usize, usize)| a.1 <= b.0 || b.1 <= a.0;
        let span = |ptr: usize, len: usize| ptr.checked_add(len).map(|end| (ptr, end));
        let buffer = span(out as usize, out_cap)?;
        let written_at = span(written as usize, std::mem::size_of::<usize>())?;
        let in_place = std::ptr::eq(out.cast_const(), frame);
        let frame_at = span(frame as usize, frame_len)?;
        if in_place {
            if out_cap < frame_len {
                return None;
            }
        } else if !apart(buffer, frame_at) || !apart(written_at, frame_at) {
            return None;
        }
        if !apart(written_at, buffer) {
            return None;
        }
        let metadata_at = if metadata_len == 0 {
            None
        } else {
            let at = span(metadata as usize, metadata_len).filter(|_| !metadata.is_null())?;
            if !apart(at, buffer) || !apart(at, written_at) {
                return None;
            }
            Some(at)
        };
        if extra_out.len != 0 {
            let at = span(extra_out.start, extra_out.len)?;
            if !(in_place || apart(at, frame_at))
                || !metadata_at.is_none_or(|m| apart(at, m))
                || !apart(at, buffer)
                || !apart(at, written_at)
            {
                return None;
            }
        }
        let metadata: &[u8] = if metadata_at.is_none() {
            &[]
        } else {
            // SAFETY: non-NULL and readable for `metadata_len <= isize::MAX` bytes
            // (caller's guarantee); clear of every output, so nothing writes it while it is
            // borrowed.
            unsafe { std::slice::from_raw_parts(metadata, metadata_len) }
        };
        let io = if in_place {
            // SAFETY: `out` is non-NULL and writable for `out_cap <= isize::MAX` bytes; the
            // frame is its first `frame_len` bytes and is accessed only through this
            // slice, and no other argument (metadata, `written`, `extra_out`) overlaps it.
            let buf = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
            FrameIo::InPlace {
                buf,
                len: frame_len,
            }
        } else {
            // SAFETY: non-NULL, within `isize::MAX` bytes, readable (frame) and writable
            // (out) for their lengths by the caller's guarantee, and disjoint from each
            // other, the metadata and the other out-pointers.
            unsafe {
                FrameIo::Separate {
                    input: std::slice::from_raw_parts(frame, frame_len),
                    output: std::slice::from_raw_parts_mut(out, out_cap),
                }
            }
        };
        Some(FrameCall { io, metadata })
    }
}

#[cfg(test)]
mod tests {
    use super::sframe_context::*;
    use super::*;
    use mlsframe_result::*;

    #[test]
    fn spans_overlap_only_when_they_share_a_byte() {
        let buf = [0u8; 64];
        let p = buf.as_ptr();
        let at = |i: usize, len: usize| Span::bytes(p.wrapping_add(i), len);
        assert!(at(0, 8).overlaps(at(7, 1)));
        assert!(at(7, 1).overlaps(at(0, 8)));
        assert!(at(0, 64).overlaps(at(10, 2)), "containment");
        assert!(!at(0, 8).overlaps(at(8, 8)), "adjacent");
        assert!(!at(8, 8).overlaps(at(0, 8)), "adjacent");
        assert!(!at(0, 0).overlaps(at(0, 8)), "empty");
        assert!(!Span::NONE.overlaps(at(0, 8)));
        assert!(!Span::bytes(std::ptr::null(), 8).overlaps(at(0, 8)), "NULL");
        assert_eq!(Span::of(p.cast::<u64>()), at(0, 8));
        assert_eq!(Span::array(p.cast::<u32>(), 3), at(0, 12));
        // A span running past the end of the address space saturates, never wraps.
        let high = |addr: usize, len: usize| Span::bytes(std::ptr::without_provenance(addr), len);
        let top = high(usize::MAX - 16, isize::MAX as usize);
        assert!(top.overlaps(high(usize::MAX - 8, 4)));
        assert!(high(usize::MAX - 8, 4).overlaps(top));
        assert!(!top.overlaps(at(0, 8)));
        // A length no slice may have names no memory (the export refuses it unread).
        assert_eq!(Span::bytes(p, isize::MAX as usize + 1), Span::NONE);
        assert_eq!(Span::array(p.cast::<u64>(), usize::MAX / 8), Span::NONE);
    }

    /// A checked call's buffers as addresses and lengths (metadata of length 0 as 0), so
    /// that two answers for the same memory can be compared without holding both.
    fn parts(call: FrameCall<'_>) -> [usize; 7] {
        let meta = if call.metadata.is_empty() {
            0
        } else {
            call.metadata.as_ptr() as usize
        };
        let len = call.metadata.len();
        match call.io {
            FrameIo::InPlace { buf, len: n } => {
                [0, buf.as_ptr() as usize, buf.len(), n, 0, meta, len]
            }
            FrameIo::Separate { input, output } => [
                1,
                input.as_ptr() as usize,
                input.len(),
                output.as_ptr() as usize,
                output.len(),
                meta,
                len,
            ],
        }
    }

    /// `FrameArgs::fast` accepts only what the full checks (`reset_outputs!` finding the
    /// out-parameters usable, then `frame_io`) accept, and yields the same buffers: every
    /// placement of frame, output, metadata, `written` and an extra out-parameter in one
    /// 64-byte region (NULL, lengths 0 to 40, in place or not, overlapping or not).
    #[test]
    fn fast_path_agrees_with_the_full_checks() {
        let mut mem = [0u64; 8];
        let base = mem.as_mut_ptr().cast::<u8>();
        let at = |off: Option<usize>| off.map_or(std::ptr::null_mut(), |o| base.wrapping_add(o));
        let offs = [
            None,
            Some(0),
            Some(8),
            Some(16),
            Some(24),
            Some(40),
            Some(56),
        ];
        let lens = [0usize, 4, 8, 16, 40];
        let (mut fast_count, mut total) = (0u32, 0u32);
        for frame in offs {
            for frame_len in lens {
                // The output: NULL, in place, or anywhere.
                let outs = std::iter::once(frame).chain(offs).enumerate();
                for (i, out) in outs {
                    for out_cap in lens {
                        for meta in offs {
                            for meta_len in [0usize, 8, 16] {
                                for written in offs {
                                    for extra in offs {
                                        let args = FrameArgs {
                                            frame: at(frame).cast_const(),
                                            frame_len,
                                            metadata: at(meta).cast_const(),
                                            metadata_len: meta_len,
                                            out: at(out),
                                            out_cap,
                                            written: at(written).cast::<usize>(),
                                        };
                                        let extra = Span::of(at(extra).cast_const().cast::<u64>());
                                        total += 1;
                                        // SAFETY: every pointer is NULL or in `mem`; the
                                        // buffers are only turned into addresses.
                                        let Some(fast) = (unsafe { args.fast(extra) }) else {
                                            continue;
                                        };
                                        let fast = parts(fast);
                                        fast_count += 1;
                                        let (inputs, buffer) = args.spans();
                                        let outputs =
                                            [Span::of(args.written.cast_const()), extra, buffer];
                                        let usable = outputs_usable(
                                            &[!args.written.is_null()],
                                            &inputs,
                                            &outputs,
                                        );
                                        assert!(usable, "{args:?} {extra:?} {i}");
                                        // SAFETY: as above.
                                        let full = unsafe { frame_io(args, extra) }
                                            .map(parts)
                                            .unwrap_or_else(|e| panic!("{args:?}: {e:?}"));
                                        assert_eq!(fast, full, "{args:?} {extra:?}");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // The common calls take the fast path: neither all nor none of these do.
        assert!(
            fast_count > 1000 && fast_count < total / 2,
            "{fast_count} of {total}"
        );
        // Lengths no slice may have, and spans past the end of the address space, never do.
        let args = |frame_len: usize, out: *mut u8, written: *mut usize| FrameArgs {
            frame: base.cast_const(),
            frame_len,
            metadata: std::ptr::null(),
            metadata_len: 0,
            out,
            out_cap: 8,
            written,
        };
        let (out, written) = (base.wrapping_add(16), base.wrapping_add(32).cast::<usize>());
        let top = std::ptr::without_provenance_mut::<u8>(usize::MAX - 4);
        // SAFETY: these calls answer `None` before forming any slice.
        unsafe {
            assert!(
                args(8, out, written).fast(Span::NONE).is_some(),
                "the control"
            );
            assert!(
                args(isize::MAX as usize + 1, out, written)
                    .fast(Span::NONE)
                    .is_none()
            );
            assert!(args(usize::MAX, out, written).fast(Span::NONE).is_none());
            assert!(args(8, top, written).fast(Span::NONE).is_none());
            assert!(args(8, out, top.cast::<usize>()).fast(Span::NONE).is_none());
        }
    }

    #[test]
    fn outputs_must_avoid_inputs_and_each_other_inputs_may_share() {
        let buf = [0u8; 64];
        let at = |i: usize, len: usize| Span::bytes(buf.as_ptr().wrapping_add(i), len);
        assert!(disjoint(&[at(0, 16), at(8, 16)], &[at(32, 16), at(48, 8)]));
        assert!(!disjoint(&[at(0, 16)], &[at(15, 4)]));
        assert!(!disjoint(&[], &[at(32, 16), at(40, 8)]));
        assert!(disjoint(&[], &[at(32, 16), Span::NONE, at(48, 8)]));
        assert!(!disjoint(
            &[Span::NONE, at(50, 1)],
            &[at(32, 16), at(48, 8)]
        ));
    }

    /// A context with the same send and receive key (suite 4, KID 1).
    fn loopback() -> *mut mlsframe_sframe_context {
        let key = [7u8; 16];
        let mut ctx = std::ptr::null_mut();
        // SAFETY: valid pointers for their lengths; `ctx` is writable.
        unsafe {
            assert_eq!(mlsframe_sframe_context_new(0, &mut ctx), MLSFRAME_OK);
            assert_eq!(
                mlsframe_sframe_context_set_send_key(ctx, 4, 1, key.as_ptr(), key.len(), 0),
                MLSFRAME_OK
            );
            assert_eq!(
                mlsframe_sframe_context_add_receive_key(ctx, 4, 1, key.as_ptr(), key.len()),
                MLSFRAME_OK
            );
        }
        ctx
    }

    /// The out-parameter rule: usable out-pointers are reset even when the handle is NULL;
    /// out-pointers that are themselves the problem are never written. Here `written` lies
    /// in an in-place frame, past an `out_cap` too small to hold it: the frame stays
    /// intact.
    #[test]
    fn out_parameters_are_reset_unless_they_are_the_problem() {
        let ctx = loopback();
        let mut mem = [0x5a5a_5a5a_5a5a_5a5a_u64; 16];
        let base = mem.as_mut_ptr().cast::<u8>();
        let mut out = [0u8; 64];
        let (mut n, mut kid) = (77usize, 77u64);
        let null = std::ptr::null::<u8>();
        // SAFETY: every pointer is NULL or lies in `mem` (128 bytes) or `out` with its
        // length; `n` and `kid` are writable locals; `written` is 8-aligned inside `mem`.
        unsafe {
            let code = mlsframe_sframe_context_decrypt(
                std::ptr::null(),
                base,
                64,
                null,
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                &mut kid,
            );
            assert_eq!((code, n, kid), (MLSFRAME_NULL_ARGUMENT, 0, 0));
            let written = base.wrapping_add(40).cast::<usize>();
            let code = mlsframe_sframe_context_decrypt(
                ctx,
                base,
                64,
                null,
                0,
                base,
                16,
                written,
                std::ptr::null_mut(),
            );
            assert_eq!(code, MLSFRAME_INVALID_ARGUMENT);
            assert!(
                mem.iter().all(|w| *w == 0x5a5a_5a5a_5a5a_5a5a),
                "frame untouched"
            );
            mlsframe_sframe_context_free(ctx);
        }
    }

    /// Issue 8, 2h: metadata inside the output is refused in place and out of place (it
    /// would be borrowed shared while the output is borrowed mutably), while metadata
    /// next to the output in the same allocation works.
    #[test]
    fn metadata_overlapping_the_output_is_refused_in_one_allocation() {
        let ctx = loopback();
        let mut mem = vec![0u8; 256];
        let base = mem.as_mut_ptr();
        let at = |i: usize| base.wrapping_add(i);
        let mut n = 0usize;
        let mut kid = 0u64;
        mem[..5].copy_from_slice(b"hello");
        mem[200..208].copy_from_slice(b"metadata");
        // SAFETY: every pointer lies in `mem` (256 bytes) with its length; `n` and `kid`
        // are writable locals.
        unsafe {
            let seal = |meta: usize, out_cap: usize, n: &mut usize| {
                mlsframe_sframe_context_encrypt(ctx, at(0), 5, at(meta), 8, at(0), out_cap, n)
            };
            assert_eq!(
                seal(200, 256, &mut n),
                MLSFRAME_INVALID_ARGUMENT,
                "in place, inside"
            );
            assert_eq!(
                seal(0, 64, &mut n),
                MLSFRAME_INVALID_ARGUMENT,
                "in place, = frame"
            );
            assert_eq!(
                mlsframe_sframe_context_encrypt(ctx, at(0), 5, at(100), 8, at(96), 64, &mut n),
                MLSFRAME_INVALID_ARGUMENT,
                "out of place, inside"
            );
            assert_eq!(&mem[..5], b"hello", "refused calls wrote nothing");
            mem[100..108].copy_from_slice(b"metadata");
            assert_eq!(seal(100, 100, &mut n), MLSFRAME_OK, "in place, adjacent");
            let sealed = n;

            let open = |meta: usize, out: usize, out_cap: usize, n: &mut usize, kid: &mut u64| {
                mlsframe_sframe_context_decrypt(
                    ctx,
                    at(0),
                    sealed,
                    at(meta),
                    8,
                    at(out),
                    out_cap,
                    n,
                    kid,
                )
            };
            let code = open(100, 0, 256, &mut n, &mut kid);
            assert_eq!(code, MLSFRAME_INVALID_ARGUMENT, "in place, inside");
            let code = open(100, 96, 64, &mut n, &mut kid);
            assert_eq!(code, MLSFRAME_INVALID_ARGUMENT, "out of place, inside");
            let code = open(100, 0, 100, &mut n, &mut kid);
            assert_eq!(code, MLSFRAME_OK, "in place, adjacent");
            assert_eq!((&mem[..n], kid), (&b"hello"[..], 1));
            mlsframe_sframe_context_free(ctx);
        }
    }
}
