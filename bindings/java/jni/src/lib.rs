//! The JNI layer of mlsframe's Java binding: `org.mlsframe.Native`'s static methods over
//! the C ABI (`mlsframe::ffi`). Handles cross as `long`s; every failure code becomes an
//! `org.mlsframe.MlsframeException` carrying it, and no panic crosses into the JVM.
//!
//! The frame path (`encrypt`/`decrypt` on direct `ByteBuffer`s) hands the buffers' own
//! memory to the C ABI: nothing is copied.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use jni::JNIEnv;
use jni::objects::{JByteArray, JByteBuffer, JClass, JObject, JObjectArray, JValue};
use jni::sys::{jboolean, jbyteArray, jint, jlong, jlongArray, jobjectArray};
use mlsframe::ffi::buffer::{mlsframe_buffer, mlsframe_buffer_free};
use mlsframe::ffi::decryptor::{
    mlsframe_decryptor, mlsframe_decryptor_decrypt, mlsframe_decryptor_free,
};
use mlsframe::ffi::encryptor::{
    mlsframe_encryptor, mlsframe_encryptor_encrypt, mlsframe_encryptor_free,
    mlsframe_encryptor_max_ciphertext_size,
};
use mlsframe::ffi::mlsframe_result;
use mlsframe::ffi::session::{
    mlsframe_outcome, mlsframe_outcome_kind, mlsframe_session, mlsframe_session_add_members,
    mlsframe_session_confirm_commit, mlsframe_session_create_group, mlsframe_session_decryptor_new,
    mlsframe_session_encryptor_new, mlsframe_session_epoch, mlsframe_session_free,
    mlsframe_session_join, mlsframe_session_key_package, mlsframe_session_new,
    mlsframe_session_process, mlsframe_session_receivers_ready, mlsframe_session_remove_member,
};
use mlsframe::ffi::sframe_context::{
    mlsframe_sframe_context, mlsframe_sframe_context_add_receive_key,
    mlsframe_sframe_context_decrypt, mlsframe_sframe_context_encrypt, mlsframe_sframe_context_free,
    mlsframe_sframe_context_new, mlsframe_sframe_context_remove_receive_key,
    mlsframe_sframe_context_set_send_key, mlsframe_sframe_max_ciphertext_size,
};

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
        let _ = env.throw(jni::objects::JThrowable::from(obj));
    }
}

/// Runs `body`; a failure or a panic becomes a pending Java exception and `fallback` is
/// returned (the JVM ignores it while an exception is pending).
fn guard<'local, T>(
    env: &mut JNIEnv<'local>,
    fallback: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Outcome<T>,
) -> T {
    match catch_unwind(AssertUnwindSafe(|| body(env))) {
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
        return Err(Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT));
    };
    if offset.checked_add(len).is_none_or(|end| end > capacity) {
        return Err(Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT));
    }
    // SAFETY: `offset <= capacity` (checked above), so the result stays inside (or one
    // past the end of) the buffer's allocation.
    Ok((unsafe { base.add(offset) }, len))
}

fn to_jint(n: usize) -> Outcome<jint> {
    jint::try_from(n).map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT))
}

fn session(handle: jlong) -> *const mlsframe_session {
    handle as usize as *const mlsframe_session
}

fn encryptor(handle: jlong) -> *const mlsframe_encryptor {
    handle as usize as *const mlsframe_encryptor
}

fn decryptor(handle: jlong) -> *const mlsframe_decryptor {
    handle as usize as *const mlsframe_decryptor
}

/// A new session for `(userId, deviceId)` with a fresh Ed25519 identity.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sessionNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    user_id: JByteArray<'local>,
    device_id: JByteArray<'local>,
) -> jlong {
    guard(&mut env, 0, |env| {
        let user_id = env.convert_byte_array(&user_id)?;
        let device_id = env.convert_byte_array(&device_id)?;
        let mut out: *mut mlsframe_session = ptr::null_mut();
        // SAFETY: both ids are live vectors of the lengths given; no seed or config;
        // `out` is a writable local.
        check(unsafe {
            mlsframe_session_new(
                user_id.as_ptr(),
                user_id.len(),
                device_id.as_ptr(),
                device_id.len(),
                ptr::null(),
                0,
                ptr::null(),
                &mut out,
            )
        })?;
        Ok(out as usize as jlong)
    })
}

/// Frees a session handle (0 is a no-op).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sessionFree<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: the Java handle owns the session and frees it once (`close` zeroes its
    // handle first); 0 is NULL, a no-op.
    unsafe { mlsframe_session_free(session(handle).cast_mut()) }
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_keyPackage<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let mut out = OwnedBuffer::new();
        // SAFETY: the handle is NULL (a closed session: the C ABI answers
        // `MLSFRAME_NULL_ARGUMENT`) or a live session; `out` is writable.
        check(unsafe { mlsframe_session_key_package(session(handle), &mut out.0) })?;
        Ok(out.to_java(env)?.into_raw())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_createGroup<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    sframe_suite: jint,
    epoch_bits: jint,
    plaintext_handshake: jboolean,
) {
    guard(&mut env, (), |_| {
        let (Ok(suite), Ok(bits)) = (u16::try_from(sframe_suite), u8::try_from(epoch_bits)) else {
            return Err(Failure::Code(mlsframe_result::MLSFRAME_MLS_INVALID_PARAMS));
        };
        // SAFETY: the handle is NULL or a live session.
        check(unsafe {
            mlsframe_session_create_group(session(handle), suite, bits, plaintext_handshake != 0)
        })
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_join<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    welcome: JByteArray<'local>,
) -> jlong {
    guard(&mut env, 0, |env| {
        let welcome = env.convert_byte_array(&welcome)?;
        let mut epoch = 0u64;
        // SAFETY: the handle is NULL or a live session; `welcome` is a live vector of its
        // length; `epoch` a writable local.
        check(unsafe {
            mlsframe_session_join(session(handle), welcome.as_ptr(), welcome.len(), &mut epoch)
        })?;
        Ok(epoch as jlong)
    })
}

/// Returns `{commit, welcome}`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_addMembers<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    key_packages: JObjectArray<'local>,
) -> jobjectArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let count = env.get_array_length(&key_packages)?;
        let mut packages = Vec::new();
        for i in 0..count {
            let element = JByteArray::from(env.get_object_array_element(&key_packages, i)?);
            packages.push(env.convert_byte_array(&element)?);
        }
        let pointers: Vec<*const u8> = packages.iter().map(|p| p.as_ptr()).collect();
        let lens: Vec<usize> = packages.iter().map(Vec::len).collect();
        let mut commit = OwnedBuffer::new();
        let mut welcome = OwnedBuffer::new();
        // SAFETY: `pointers` and `lens` hold `packages.len()` entries, each pointer valid
        // for its length (the vectors live until the call returns); the outputs are
        // distinct writable locals; the handle is NULL or a live session.
        check(unsafe {
            mlsframe_session_add_members(
                session(handle),
                pointers.as_ptr(),
                lens.as_ptr(),
                packages.len(),
                &mut commit.0,
                &mut welcome.0,
            )
        })?;
        let pair = env.new_object_array(2, "[B", JObject::null())?;
        let commit = commit.to_java(env)?;
        env.set_object_array_element(&pair, 0, commit)?;
        let welcome = welcome.to_java(env)?;
        env.set_object_array_element(&pair, 1, welcome)?;
        Ok(pair.into_raw())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_removeMember<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    leaf: jint,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let leaf = u32::try_from(leaf)
            .map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_MLS_UNKNOWN_MEMBER))?;
        let mut commit = OwnedBuffer::new();
        // SAFETY: the handle is NULL or a live session; `commit` is writable.
        check(unsafe { mlsframe_session_remove_member(session(handle), leaf, &mut commit.0) })?;
        Ok(commit.to_java(env)?.into_raw())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_confirmCommit<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    guard(&mut env, (), |_| {
        // SAFETY: the handle is NULL or a live session.
        check(unsafe { mlsframe_session_confirm_commit(session(handle)) })
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_receiversReady<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    guard(&mut env, (), |_| {
        // SAFETY: the handle is NULL or a live session.
        check(unsafe { mlsframe_session_receivers_ready(session(handle)) })
    })
}

/// Returns `{kind, epoch, added, removed}`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_process<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    message: JByteArray<'local>,
) -> jlongArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let message = env.convert_byte_array(&message)?;
        let mut out = mlsframe_outcome {
            kind: mlsframe_outcome_kind::MLSFRAME_OUTCOME_NONE,
            epoch: 0,
            added: 0,
            removed: 0,
        };
        // SAFETY: the handle is NULL or a live session; `message` is a live vector of its
        // length; `out` a writable local.
        check(unsafe {
            mlsframe_session_process(session(handle), message.as_ptr(), message.len(), &mut out)
        })?;
        let values = [
            out.kind as jlong,
            out.epoch as jlong,
            jlong::from(out.added),
            jlong::from(out.removed),
        ];
        let array = env.new_long_array(4)?;
        env.set_long_array_region(&array, 0, &values)?;
        Ok(array.into_raw())
    })
}

/// Returns `{epoch, ownLeaf}`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_epoch<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlongArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let mut epoch = 0u64;
        let mut leaf = 0u32;
        // SAFETY: the handle is NULL or a live session; the outputs are distinct
        // writable locals.
        check(unsafe { mlsframe_session_epoch(session(handle), &mut epoch, &mut leaf) })?;
        let array = env.new_long_array(2)?;
        env.set_long_array_region(&array, 0, &[epoch as jlong, jlong::from(leaf)])?;
        Ok(array.into_raw())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptorNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    context: jlong,
) -> jlong {
    guard(&mut env, 0, |_| {
        let mut out: *mut mlsframe_encryptor = ptr::null_mut();
        // SAFETY: the handle is NULL or a live session; `out` is a writable local.
        check(unsafe {
            mlsframe_session_encryptor_new(session(handle), context as u64, &mut out)
        })?;
        Ok(out as usize as jlong)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptorFree<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: the Java handle owns the encryptor and frees it once; 0 is a no-op.
    unsafe { mlsframe_encryptor_free(encryptor(handle).cast_mut()) }
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_maxCiphertextSize<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    frame_len: jint,
) -> jint {
    guard(&mut env, 0, |_| {
        let len = usize::try_from(frame_len)
            .map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT))?;
        // SAFETY: a NULL encryptor is allowed; the call reads nothing else.
        to_jint(unsafe { mlsframe_encryptor_max_ciphertext_size(ptr::null(), len) })
    })
}

/// Seals `frame[frameOff..frameOff+frameLen]` into `out[outOff..outOff+outCap]` (direct
/// buffers, no copy); returns the sealed length.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_encryptDirect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteBuffer<'local>,
    frame_off: jint,
    frame_len: jint,
    out: JByteBuffer<'local>,
    out_off: jint,
    out_cap: jint,
) -> jint {
    guard(&mut env, 0, |env| {
        let (frame_ptr, frame_len) = direct_region(env, &frame, frame_off, frame_len)?;
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let mut written = 0usize;
        // SAFETY: both regions lie inside their direct buffers (checked by
        // `direct_region`), which the Java caller keeps reachable for the call; the C ABI
        // refuses overlap other than exactly in place; the handle is NULL or live.
        check(unsafe {
            mlsframe_encryptor_encrypt(
                encryptor(handle),
                frame_ptr,
                frame_len,
                ptr::null(),
                0,
                out_ptr,
                out_cap,
                &mut written,
            )
        })?;
        to_jint(written)
    })
}

/// Seals a whole `byte[]` frame into a new array (the convenience path: copies).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptArray<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let frame = env.convert_byte_array(&frame)?;
        // SAFETY: a NULL encryptor is allowed; the call reads nothing else.
        let cap = unsafe { mlsframe_encryptor_max_ciphertext_size(ptr::null(), frame.len()) };
        let mut out = vec![0u8; cap];
        let mut written = 0usize;
        // SAFETY: `frame` and `out` are distinct live vectors of the lengths given;
        // `written` a writable local; the handle is NULL or live.
        check(unsafe {
            mlsframe_encryptor_encrypt(
                encryptor(handle),
                frame.as_ptr(),
                frame.len(),
                ptr::null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut written,
            )
        })?;
        Ok(env.byte_array_from_slice(&out[..written])?.into_raw())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_decryptorNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    guard(&mut env, 0, |_| {
        let mut out: *mut mlsframe_decryptor = ptr::null_mut();
        // SAFETY: the handle is NULL or a live session; `out` is a writable local.
        check(unsafe { mlsframe_session_decryptor_new(session(handle), &mut out) })?;
        Ok(out as usize as jlong)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_decryptorFree<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: the Java handle owns the decryptor and frees it once; 0 is a no-op.
    unsafe { mlsframe_decryptor_free(decryptor(handle).cast_mut()) }
}

/// Opens `frame[frameOff..frameOff+frameLen]` into `out[outOff..outOff+outCap]` (direct
/// buffers, no copy); returns the plaintext length.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_decryptDirect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteBuffer<'local>,
    frame_off: jint,
    frame_len: jint,
    out: JByteBuffer<'local>,
    out_off: jint,
    out_cap: jint,
) -> jint {
    guard(&mut env, 0, |env| {
        let (frame_ptr, frame_len) = direct_region(env, &frame, frame_off, frame_len)?;
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let mut written = 0usize;
        // SAFETY: both regions lie inside their direct buffers (checked by
        // `direct_region`), which the Java caller keeps reachable for the call; the C ABI
        // refuses overlap other than exactly in place; the handle is NULL or live.
        check(unsafe {
            mlsframe_decryptor_decrypt(
                decryptor(handle),
                frame_ptr,
                frame_len,
                ptr::null(),
                0,
                out_ptr,
                out_cap,
                &mut written,
                ptr::null_mut(),
            )
        })?;
        to_jint(written)
    })
}

/// Opens a whole `byte[]` frame into a new array (the convenience path: copies).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_decryptArray<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let frame = env.convert_byte_array(&frame)?;
        let mut out = vec![0u8; frame.len()];
        let mut written = 0usize;
        // SAFETY: `frame` and `out` are distinct live vectors of the lengths given;
        // `written` a writable local; the handle is NULL or live.
        check(unsafe {
            mlsframe_decryptor_decrypt(
                decryptor(handle),
                frame.as_ptr(),
                frame.len(),
                ptr::null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut written,
                ptr::null_mut(),
            )
        })?;
        Ok(env.byte_array_from_slice(&out[..written])?.into_raw())
    })
}

fn sframe_context(handle: jlong) -> *const mlsframe_sframe_context {
    handle as usize as *const mlsframe_sframe_context
}

fn suite(value: jint) -> Outcome<u16> {
    u16::try_from(value).map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_UNKNOWN_SUITE))
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeContextNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    replay_window: jint,
) -> jlong {
    guard(&mut env, 0, |_| {
        let window = u32::try_from(replay_window)
            .map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT))?;
        let mut out: *mut mlsframe_sframe_context = ptr::null_mut();
        // SAFETY: `out` is a writable local.
        check(unsafe { mlsframe_sframe_context_new(window, &mut out) })?;
        Ok(out as usize as jlong)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeContextFree<'local>(
    _env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    // SAFETY: the Java handle owns the context and frees it once; 0 is a no-op.
    unsafe { mlsframe_sframe_context_free(sframe_context(handle).cast_mut()) }
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeSetSendKey<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    suite_id: jint,
    kid: jlong,
    base_key: JByteArray<'local>,
    first_counter: jlong,
) {
    guard(&mut env, (), |env| {
        let suite = suite(suite_id)?;
        let key = env.convert_byte_array(&base_key)?;
        // SAFETY: the handle is NULL or a live context; `key` is a live vector of its
        // length.
        let code = unsafe {
            mlsframe_sframe_context_set_send_key(
                sframe_context(handle),
                suite,
                kid as u64,
                key.as_ptr(),
                key.len(),
                first_counter as u64,
            )
        };
        wipe(key);
        check(code)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeAddReceiveKey<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    suite_id: jint,
    kid: jlong,
    base_key: JByteArray<'local>,
) {
    guard(&mut env, (), |env| {
        let suite = suite(suite_id)?;
        let key = env.convert_byte_array(&base_key)?;
        // SAFETY: the handle is NULL or a live context; `key` is a live vector of its
        // length.
        let code = unsafe {
            mlsframe_sframe_context_add_receive_key(
                sframe_context(handle),
                suite,
                kid as u64,
                key.as_ptr(),
                key.len(),
            )
        };
        wipe(key);
        check(code)
    })
}

/// Overwrites a copy of key material before it is freed.
fn wipe(mut bytes: Vec<u8>) {
    bytes.iter_mut().for_each(|b| {
        // SAFETY: `b` is a valid, aligned, exclusive reference; a volatile write keeps
        // the compiler from dropping the wipe of memory about to be freed.
        unsafe { ptr::write_volatile(b, 0) }
    });
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeRemoveReceiveKey<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    kid: jlong,
) {
    guard(&mut env, (), |_| {
        // SAFETY: the handle is NULL or a live context.
        check(unsafe {
            mlsframe_sframe_context_remove_receive_key(sframe_context(handle), kid as u64)
        })
    })
}

/// Seals into a direct buffer (no copy); returns the sealed length.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_sframeEncryptDirect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteBuffer<'local>,
    frame_off: jint,
    frame_len: jint,
    out: JByteBuffer<'local>,
    out_off: jint,
    out_cap: jint,
) -> jint {
    guard(&mut env, 0, |env| {
        let (frame_ptr, frame_len) = direct_region(env, &frame, frame_off, frame_len)?;
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let mut written = 0usize;
        // SAFETY: both regions lie inside their direct buffers (checked by
        // `direct_region`), which the Java caller keeps reachable for the call; the C ABI
        // refuses overlap other than exactly in place; the handle is NULL or live.
        check(unsafe {
            mlsframe_sframe_context_encrypt(
                sframe_context(handle),
                frame_ptr,
                frame_len,
                ptr::null(),
                0,
                out_ptr,
                out_cap,
                &mut written,
            )
        })?;
        to_jint(written)
    })
}

/// Opens into a direct buffer (no copy); returns the plaintext length.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_sframeDecryptDirect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteBuffer<'local>,
    frame_off: jint,
    frame_len: jint,
    out: JByteBuffer<'local>,
    out_off: jint,
    out_cap: jint,
) -> jint {
    guard(&mut env, 0, |env| {
        let (frame_ptr, frame_len) = direct_region(env, &frame, frame_off, frame_len)?;
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let mut written = 0usize;
        // SAFETY: as in `sframeEncryptDirect`; the KID output is not asked for (NULL).
        check(unsafe {
            mlsframe_sframe_context_decrypt(
                sframe_context(handle),
                frame_ptr,
                frame_len,
                ptr::null(),
                0,
                out_ptr,
                out_cap,
                &mut written,
                ptr::null_mut(),
            )
        })?;
        to_jint(written)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeMaxCiphertextSize<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    frame_len: jint,
) -> jint {
    guard(&mut env, 0, |_| {
        let len = usize::try_from(frame_len)
            .map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT))?;
        to_jint(mlsframe_sframe_max_ciphertext_size(len))
    })
}
