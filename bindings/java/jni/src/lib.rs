//! The JNI layer of mlsframe's Java binding: `org.mlsframe.Native`'s static methods over
//! the C ABI (`mlsframe::ffi`). Handles cross as `long`s; every failure code becomes an
//! `org.mlsframe.MlsframeException` carrying it, and no panic crosses into the JVM.
//!
//! This file owns what every native method shares: the failure type, `guard` (which turns
//! codes, JNI errors, panics and exceptions thrown by Java callbacks into one pending Java
//! exception), library-owned buffers and argument conversions. The methods live in
//! `session` (MLS), `frame` (encryptors and decryptors), `sframe` (the standalone SFrame
//! context) and `callback` (callbacks into Java, and the process-wide calls).
//!
//! The frame path (`encrypt`/`decrypt` on direct `ByteBuffer`s) hands the buffers' own
//! memory to the C ABI: nothing is copied.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use jni::JNIEnv;
use jni::objects::{GlobalRef, JByteArray, JByteBuffer, JIntArray, JObject, JThrowable, JValue};
use jni::sys::{jint, jobjectArray};
use mlsframe::ffi::buffer::{mlsframe_buffer, mlsframe_buffer_free};
use mlsframe::ffi::mlsframe_result;

mod callback;
mod frame;
mod session;
mod sframe;

/// Why a native method did not complete.
enum Failure {
    /// A C ABI result code (or one this layer chose, such as `MLSFRAME_INVALID_ARGUMENT`).
    Code(mlsframe_result),
    /// A JNI call failed; a Java exception may already be pending.
    Jni(jni::errors::Error),
}

impl From<jni::errors::Error> for Failure {
    fn from(e: jni::errors::Error) -> Failure {
        Failure::Jni(e)
    }
}

type Outcome<T> = Result<T, Failure>;

/// `Ok` for `MLSFRAME_OK`, the code otherwise.
fn check(code: mlsframe_result) -> Outcome<()> {
    match code {
        mlsframe_result::MLSFRAME_OK => Ok(()),
        other => Err(Failure::Code(other)),
    }
}

/// `Err(code)`, for the checks this layer makes before calling the C ABI.
fn fail<T>(code: mlsframe_result) -> Outcome<T> {
    Err(Failure::Code(code))
}

thread_local! {
    /// True while this thread runs a native method of `org.mlsframe.Native`.
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
    /// True while this thread runs a Java callback (calls into mlsframe are refused then:
    /// the C ABI forbids them, and a session call would wait for its own lock).
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    /// An exception a Java callback threw during the current native method, thrown again
    /// when that method returns.
    static PENDING: RefCell<Option<GlobalRef>> = const { RefCell::new(None) };
}

/// Throws `MlsframeException(code)` unless a Java exception is already pending.
fn throw_code(env: &mut JNIEnv, code: u32) {
    if env.exception_check().unwrap_or(true) {
        return;
    }
    let Ok(code) = i32::try_from(code) else {
        return;
    };
    if let Ok(obj) = env.new_object(
        "org/mlsframe/MlsframeException",
        "(I)V",
        &[JValue::Int(code)],
    ) {
        let _ = env.throw(JThrowable::from(obj));
    }
}

/// Refuses a call made from inside a callback (throws `IllegalStateException`); true
/// when the call may go on.
fn outside_callback(env: &mut JNIEnv) -> bool {
    if IN_CALLBACK.get() {
        let _ = env.throw_new(
            "java/lang/IllegalStateException",
            "mlsframe called from inside an mlsframe callback",
        );
        return false;
    }
    true
}

/// Runs `body`; a failure or a panic becomes a pending Java exception and `fallback` is
/// returned (the JVM ignores it while an exception is pending). An exception a Java
/// callback threw during `body` wins over the call's own result.
fn guard<'local, T>(
    env: &mut JNIEnv<'local>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Outcome<T>,
) -> T {
    if !outside_callback(env) {
        return fallback;
    }
    IN_CALL.set(true);
    let result = catch_unwind(AssertUnwindSafe(|| body(env)));
    IN_CALL.set(false);
    if let Some(thrown) = PENDING.with_borrow_mut(Option::take) {
        if !env.exception_check().unwrap_or(true) {
            let _ = env.throw(<&JThrowable>::from(thrown.as_obj()));
        }
        return fallback;
    }
    match result {
        Ok(Ok(value)) => value,
        Ok(Err(Failure::Code(code))) => {
            throw_code(env, code as u32);
            fallback
        }
        Ok(Err(Failure::Jni(jni::errors::Error::JavaException))) => fallback,
        Ok(Err(Failure::Jni(
            jni::errors::Error::NullPtr(_) | jni::errors::Error::NullDeref(_),
        ))) => {
            throw_code(env, mlsframe_result::MLSFRAME_NULL_ARGUMENT as u32);
            fallback
        }
        Ok(Err(Failure::Jni(_))) => {
            throw_code(env, mlsframe_result::MLSFRAME_INTERNAL as u32);
            fallback
        }
        Err(_) => {
            throw_code(env, mlsframe_result::MLSFRAME_PANIC as u32);
            fallback
        }
    }
}

/// A library-owned buffer, freed (wiped) on drop.
struct OwnedBuffer(mlsframe_buffer);

impl OwnedBuffer {
    fn new() -> OwnedBuffer {
        OwnedBuffer(mlsframe_buffer {
            data: ptr::null_mut(),
            len: 0,
        })
    }

    fn as_slice(&self) -> &[u8] {
        if self.0.data.is_null() {
            return &[];
        }
        // SAFETY: a non-NULL buffer filled by the library holds `len` initialised bytes,
        // alive until `mlsframe_buffer_free` in `drop`.
        unsafe { std::slice::from_raw_parts(self.0.data, self.0.len) }
    }

    fn to_java<'local>(&self, env: &JNIEnv<'local>) -> Outcome<JByteArray<'local>> {
        Ok(env.byte_array_from_slice(self.as_slice())?)
    }
}

impl Drop for OwnedBuffer {
    fn drop(&mut self) {
        // SAFETY: `self.0` is empty or was filled by the library and not modified since.
        unsafe { mlsframe_buffer_free(&mut self.0) }
    }
}

/// A `byte[][]` of the given arrays.
fn byte_arrays<'local>(env: &mut JNIEnv<'local>, parts: &[&[u8]]) -> Outcome<jobjectArray> {
    let len = to_jint(parts.len())?;
    let array = env.new_object_array(len, "[B", JObject::null())?;
    for (i, part) in parts.iter().enumerate() {
        let element = env.byte_array_from_slice(part)?;
        env.set_object_array_element(&array, to_jint(i)?, &element)?;
        env.delete_local_ref(element)?;
    }
    Ok(array.into_raw())
}

/// The bytes of a `byte[]` that may be null (`None`).
fn optional_bytes(env: &JNIEnv, array: &JByteArray) -> Outcome<Option<Vec<u8>>> {
    if array.is_null() {
        return Ok(None);
    }
    Ok(Some(env.convert_byte_array(array)?))
}

/// `(pointer, length)` of optional bytes: NULL and 0 for none.
fn parts(bytes: &Option<Vec<u8>>) -> (*const u8, usize) {
    match bytes {
        Some(b) => (b.as_ptr(), b.len()),
        None => (ptr::null(), 0),
    }
}

/// The `n` ints of an `int[]` that may be null (`None`); a shorter array is
/// `MLSFRAME_INVALID_ARGUMENT`.
fn optional_ints<const N: usize>(env: &JNIEnv, array: &JIntArray) -> Outcome<Option<[jint; N]>> {
    if array.is_null() {
        return Ok(None);
    }
    if usize::try_from(env.get_array_length(array)?) != Ok(N) {
        return fail(mlsframe_result::MLSFRAME_INVALID_ARGUMENT);
    }
    let mut values = [0; N];
    env.get_int_array_region(array, 0, &mut values)?;
    Ok(Some(values))
}

/// The region `[offset, offset + len)` of a direct buffer, checked against its capacity.
fn direct_region(
    env: &JNIEnv,
    buf: &JByteBuffer,
    offset: jint,
    len: jint,
) -> Outcome<(*mut u8, usize)> {
    let base = env.get_direct_buffer_address(buf)?;
    let capacity = env.get_direct_buffer_capacity(buf)?;
    let (Ok(offset), Ok(len)) = (usize::try_from(offset), usize::try_from(len)) else {
        return fail(mlsframe_result::MLSFRAME_INVALID_ARGUMENT);
    };
    if offset.checked_add(len).is_none_or(|end| end > capacity) {
        return fail(mlsframe_result::MLSFRAME_INVALID_ARGUMENT);
    }
    // SAFETY: `offset <= capacity` (checked above), so the result stays inside (or one
    // past the end of) the buffer's allocation.
    Ok((unsafe { base.add(offset) }, len))
}

/// As `direct_region`, for a buffer that may be null (additional data): NULL and 0.
fn optional_region(
    env: &JNIEnv,
    buf: &JByteBuffer,
    offset: jint,
    len: jint,
) -> Outcome<(*const u8, usize)> {
    if buf.is_null() {
        return Ok((ptr::null(), 0));
    }
    let (p, n) = direct_region(env, buf, offset, len)?;
    Ok((p.cast_const(), n))
}

fn to_jint(n: usize) -> Outcome<jint> {
    jint::try_from(n).map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT))
}

/// A non-negative `int` as a length.
fn to_len(n: jint) -> Outcome<usize> {
    usize::try_from(n).map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT))
}

/// Overwrites a copy of secret material before it is freed.
fn wipe(mut bytes: Vec<u8>) {
    bytes.iter_mut().for_each(|b| {
        // SAFETY: `b` is a valid, aligned, exclusive reference; a volatile write keeps
        // the compiler from dropping the wipe of memory about to be freed.
        unsafe { ptr::write_volatile(b, 0) }
    });
}
