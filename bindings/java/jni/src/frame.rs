//! `org.mlsframe.Encryptor` and `Decryptor`'s native methods: `mlsframe_encryptor_*` and
//! `mlsframe_decryptor_*`. The direct-buffer methods hand the buffers' memory to the C ABI
//! and allocate nothing: results come back as the return value and, for the sender, in a
//! `long[]` the caller owns.

use std::ptr;

use jni::JNIEnv;
use jni::objects::{JByteArray, JByteBuffer, JClass, JLongArray};
use jni::sys::{jbyteArray, jint, jlong, jlongArray, jobjectArray};
use mlsframe::ffi::decryptor::{
    mlsframe_decryptor, mlsframe_decryptor_decrypt, mlsframe_decryptor_decrypt_codec,
    mlsframe_decryptor_free, mlsframe_decryptor_get_stats, mlsframe_decryptor_max_plaintext_size,
    mlsframe_decryptor_sender_identity, mlsframe_decryptor_stats, mlsframe_decryptor_take_released,
    mlsframe_sender,
};
use mlsframe::ffi::encryptor::{
    mlsframe_encryptor, mlsframe_encryptor_encrypt, mlsframe_encryptor_free,
    mlsframe_encryptor_get_stats, mlsframe_encryptor_max_ciphertext_size,
    mlsframe_encryptor_set_key_frame_callback, mlsframe_encryptor_stats,
};
use mlsframe::ffi::mlsframe_result::*;
use mlsframe::ffi::session::{
    mlsframe_session, mlsframe_session_decryptor_new, mlsframe_session_encryptor_new,
    mlsframe_session_encryptor_new_with_codec,
};

use crate::callback::{callback_ptr, key_frame_trampoline};
use crate::{
    OwnedBuffer, byte_arrays, check, direct_region, fail, guard, optional_bytes, optional_region,
    outside_callback, parts, to_jint, to_len,
};

fn session(handle: jlong) -> *const mlsframe_session {
    handle as usize as *const mlsframe_session
}

fn encryptor(handle: jlong) -> *const mlsframe_encryptor {
    handle as usize as *const mlsframe_encryptor
}

fn decryptor(handle: jlong) -> *const mlsframe_decryptor {
    handle as usize as *const mlsframe_decryptor
}

/// Writes `{epoch, leaf, context}` into `out` (a `long[3]`) unless it is null.
fn write_sender(env: &JNIEnv, out: &JLongArray, sender: &mlsframe_sender) -> crate::Outcome<()> {
    if !out.is_null() {
        let values = [
            sender.epoch as jlong,
            jlong::from(sender.leaf),
            sender.context as jlong,
        ];
        env.set_long_array_region(out, 0, &values)?;
    }
    Ok(())
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

/// An encryptor that frames as the codec `codec` (an `org.mlsframe.Codec` id).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptorNewWithCodec<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    context: jlong,
    codec: jint,
) -> jlong {
    guard(&mut env, 0, |_| {
        let mut out: *mut mlsframe_encryptor = ptr::null_mut();
        // SAFETY: the handle is NULL or a live session; `out` is a writable local; an
        // unknown codec is an error code, not undefined behaviour.
        check(unsafe {
            mlsframe_session_encryptor_new_with_codec(
                session(handle),
                context as u64,
                codec as u32,
                &mut out,
            )
        })?;
        Ok(out as usize as jlong)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptorFree<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    if !outside_callback(&mut env) {
        return;
    }
    // SAFETY: the Java handle owns the encryptor and frees it once, not from inside a
    // callback (checked above); 0 is a no-op.
    unsafe { mlsframe_encryptor_free(encryptor(handle).cast_mut()) }
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_maxCiphertextSize<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    frame_len: jint,
) -> jint {
    guard(&mut env, 0, |_| {
        let len = to_len(frame_len)?;
        // SAFETY: a NULL encryptor is allowed; the call reads nothing else.
        to_jint(unsafe { mlsframe_encryptor_max_ciphertext_size(ptr::null(), len) })
    })
}

/// The sealed-size bound of this encryptor (its codec's trailer included); of whole-frame
/// mode for a closed (0) handle.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptorMaxCiphertextSize<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame_len: jint,
) -> jint {
    guard(&mut env, 0, |_| {
        let len = to_len(frame_len)?;
        // SAFETY: the handle is NULL (allowed) or a live encryptor; nothing else is read.
        to_jint(unsafe { mlsframe_encryptor_max_ciphertext_size(encryptor(handle), len) })
    })
}

/// Seals `frame[frameOff..frameOff+frameLen]` into `out[outOff..outOff+outCap]` with the
/// additional data `ad[adOff..adOff+adLen]` (`ad` may be null): direct buffers, no copy.
/// Returns the sealed length.
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
    ad: JByteBuffer<'local>,
    ad_off: jint,
    ad_len: jint,
) -> jint {
    guard(&mut env, 0, |env| {
        let (frame_ptr, frame_len) = direct_region(env, &frame, frame_off, frame_len)?;
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let (ad_ptr, ad_len) = optional_region(env, &ad, ad_off, ad_len)?;
        let mut written = 0usize;
        // SAFETY: the regions lie inside their direct buffers (checked by
        // `direct_region`), which the Java caller keeps reachable for the call; the C ABI
        // refuses overlap other than exactly in place; the handle is NULL or live.
        check(unsafe {
            mlsframe_encryptor_encrypt(
                encryptor(handle),
                frame_ptr,
                frame_len,
                ad_ptr,
                ad_len,
                out_ptr,
                out_cap,
                &mut written,
            )
        })?;
        to_jint(written)
    })
}

/// Seals a whole `byte[]` frame (with optional additional data) into a new array (the
/// convenience path: copies).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptArray<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteArray<'local>,
    ad: JByteArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let frame = env.convert_byte_array(&frame)?;
        let ad = optional_bytes(env, &ad)?;
        let (ad_ptr, ad_len) = parts(&ad);
        // SAFETY: the handle is NULL (allowed) or a live encryptor (whose codec's trailer
        // the bound includes); the call reads nothing else.
        let cap = unsafe { mlsframe_encryptor_max_ciphertext_size(encryptor(handle), frame.len()) };
        let mut out = vec![0u8; cap];
        let mut written = 0usize;
        // SAFETY: `frame`, `ad` and `out` are distinct live vectors of the lengths given
        // (or NULL/0); `written` a writable local; the handle is NULL or live.
        check(unsafe {
            mlsframe_encryptor_encrypt(
                encryptor(handle),
                frame.as_ptr(),
                frame.len(),
                ad_ptr,
                ad_len,
                out.as_mut_ptr(),
                out.len(),
                &mut written,
            )
        })?;
        Ok(env.byte_array_from_slice(&out[..written])?.into_raw())
    })
}

/// Returns the encryptor's counters `{framesOut, bytesIn, bytesOut, failedNotMember,
/// failedBuffer, failedOther, epoch}`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_encryptorStats<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlongArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let mut s = mlsframe_encryptor_stats::default();
        // SAFETY: the handle is NULL or a live encryptor; `s` a writable local.
        check(unsafe { mlsframe_encryptor_get_stats(encryptor(handle), &mut s) })?;
        let values = [
            s.frames_out,
            s.bytes_in,
            s.bytes_out,
            s.failed_not_member,
            s.failed_buffer,
            s.failed_other,
            s.epoch,
        ]
        .map(|v| v as jlong);
        let array = env.new_long_array(to_jint(values.len())?)?;
        env.set_long_array_region(&array, 0, &values)?;
        Ok(array.into_raw())
    })
}

/// Points the encryptor's key-frame callback at the callback slot `state` (0: none).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_setKeyFrameCallback<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    state: jlong,
) {
    guard(&mut env, (), |_| {
        let callback: mlsframe::ffi::encryptor::mlsframe_key_frame_callback = if state == 0 {
            None
        } else {
            Some(key_frame_trampoline)
        };
        // SAFETY: the handle is NULL or a live encryptor; `state` is 0 or a `Callback`
        // the Java encryptor frees only after the native encryptor, and the trampoline is
        // thread-safe.
        check(unsafe {
            mlsframe_encryptor_set_key_frame_callback(
                encryptor(handle),
                callback,
                callback_ptr(state),
            )
        })
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
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    if !outside_callback(&mut env) {
        return;
    }
    // SAFETY: the Java handle owns the decryptor and frees it once, not from inside a
    // callback (checked above); 0 is a no-op.
    unsafe { mlsframe_decryptor_free(decryptor(handle).cast_mut()) }
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_maxPlaintextSize<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    frame_len: jint,
) -> jint {
    guard(&mut env, 0, |_| {
        let len = to_len(frame_len)?;
        to_jint(mlsframe_decryptor_max_plaintext_size(ptr::null(), len))
    })
}

/// Opens `frame[frameOff..frameOff+frameLen]` into `out[outOff..outOff+outCap]` with the
/// additional data `ad` (may be null), as the codec `codec` (an `org.mlsframe.Codec` id):
/// direct buffers, no copy. Returns the plaintext length and writes the sender to
/// `senderOut` (a `long[3]`, may be null).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_decryptDirect<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    codec: jint,
    frame: JByteBuffer<'local>,
    frame_off: jint,
    frame_len: jint,
    out: JByteBuffer<'local>,
    out_off: jint,
    out_cap: jint,
    ad: JByteBuffer<'local>,
    ad_off: jint,
    ad_len: jint,
    sender_out: JLongArray<'local>,
) -> jint {
    guard(&mut env, 0, |env| {
        let (frame_ptr, frame_len) = direct_region(env, &frame, frame_off, frame_len)?;
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let (ad_ptr, ad_len) = optional_region(env, &ad, ad_off, ad_len)?;
        let mut written = 0usize;
        let mut sender = mlsframe_sender::default();
        // SAFETY: the regions lie inside their direct buffers (checked by
        // `direct_region`), which the Java caller keeps reachable for the call; the C ABI
        // refuses overlap other than exactly in place; `written` and `sender` are
        // distinct locals; the handle is NULL or live.
        check(unsafe {
            decrypt(
                decryptor(handle),
                codec,
                frame_ptr,
                frame_len,
                ad_ptr,
                ad_len,
                out_ptr,
                out_cap,
                &mut written,
                &mut sender,
            )
        })?;
        write_sender(env, &sender_out, &sender)?;
        to_jint(written)
    })
}

/// Opens a whole `byte[]` frame as the codec `codec` into a new array (the convenience
/// path: copies); the sender goes to `senderOut` (may be null).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_decryptArray<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    codec: jint,
    frame: JByteArray<'local>,
    ad: JByteArray<'local>,
    sender_out: JLongArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let frame = env.convert_byte_array(&frame)?;
        let ad = optional_bytes(env, &ad)?;
        let (ad_ptr, ad_len) = parts(&ad);
        let mut out = vec![0u8; frame.len()];
        let mut written = 0usize;
        let mut sender = mlsframe_sender::default();
        // SAFETY: `frame`, `ad` and `out` are distinct live vectors of the lengths given
        // (or NULL/0); `written` and `sender` distinct locals; the handle is NULL or live.
        check(unsafe {
            decrypt(
                decryptor(handle),
                codec,
                frame.as_ptr(),
                frame.len(),
                ad_ptr,
                ad_len,
                out.as_mut_ptr(),
                out.len(),
                &mut written,
                &mut sender,
            )
        })?;
        write_sender(env, &sender_out, &sender)?;
        Ok(env.byte_array_from_slice(&out[..written])?.into_raw())
    })
}

/// Calls `mlsframe_decryptor_decrypt` for whole-frame mode (`codec` 0) and
/// `mlsframe_decryptor_decrypt_codec` otherwise (which refuses an unknown id with
/// `MLSFRAME_UNSUPPORTED_CODEC`).
///
/// # Safety
/// As `mlsframe_decryptor_decrypt`.
#[allow(clippy::too_many_arguments)]
unsafe fn decrypt(
    dec: *const mlsframe_decryptor,
    codec: jint,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    sender: *mut mlsframe_sender,
) -> mlsframe::ffi::mlsframe_result {
    if codec == 0 {
        // SAFETY: the caller upholds `mlsframe_decryptor_decrypt`'s contract.
        unsafe {
            mlsframe_decryptor_decrypt(
                dec,
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
    } else {
        // SAFETY: the caller upholds the contract, which is `mlsframe_decryptor_decrypt`'s.
        unsafe {
            mlsframe_decryptor_decrypt_codec(
                dec,
                codec as u32,
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
    }
}

/// Returns the decryptor's counters `{framesIn, bytesIn, bytesOut, noKey, authFailed,
/// replay, malformed, other, epoch}`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_decryptorStats<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlongArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let mut s = mlsframe_decryptor_stats::default();
        // SAFETY: the handle is NULL or a live decryptor; `s` a writable local.
        check(unsafe { mlsframe_decryptor_get_stats(decryptor(handle), &mut s) })?;
        let values = [
            s.frames_in,
            s.bytes_in,
            s.bytes_out,
            s.no_key,
            s.auth_failed,
            s.replay,
            s.malformed,
            s.other,
            s.epoch,
        ]
        .map(|v| v as jlong);
        let array = env.new_long_array(to_jint(values.len())?)?;
        env.set_long_array_region(&array, 0, &values)?;
        Ok(array.into_raw())
    })
}

/// Writes the next held frame that its epoch released into `out[outOff..outOff+outCap]`
/// (direct, no copy); returns its length, or -1 when none is released. The sender goes to
/// `senderOut` (may be null).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_takeReleased<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    out: JByteBuffer<'local>,
    out_off: jint,
    out_cap: jint,
    sender_out: JLongArray<'local>,
) -> jint {
    guard(&mut env, -1, |env| {
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let mut written = 0usize;
        let mut sender = mlsframe_sender::default();
        let mut released = false;
        // SAFETY: the region lies inside the direct buffer; the other outputs are
        // distinct locals; the handle is NULL or live.
        check(unsafe {
            mlsframe_decryptor_take_released(
                decryptor(handle),
                out_ptr,
                out_cap,
                &mut written,
                &mut sender,
                &mut released,
            )
        })?;
        if !released {
            return Ok(-1);
        }
        write_sender(env, &sender_out, &sender)?;
        to_jint(written)
    })
}

/// `{userId, deviceId}` of the member who held `leaf` in `epoch` (a decrypt's sender).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_senderIdentity<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    epoch: jlong,
    leaf: jint,
    context: jlong,
) -> jobjectArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let Ok(leaf) = u32::try_from(leaf) else {
            return fail(MLSFRAME_MLS_UNKNOWN_MEMBER);
        };
        let sender = mlsframe_sender {
            epoch: epoch as u64,
            leaf,
            context: context as u64,
        };
        let mut user = OwnedBuffer::new();
        let mut device = OwnedBuffer::new();
        // SAFETY: the handle is NULL or a live decryptor; `sender` a readable local; the
        // outputs distinct locals.
        check(unsafe {
            mlsframe_decryptor_sender_identity(
                decryptor(handle),
                &sender,
                &mut user.0,
                &mut device.0,
            )
        })?;
        byte_arrays(env, &[user.as_slice(), device.as_slice()])
    })
}
