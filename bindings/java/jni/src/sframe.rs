//! `org.mlsframe.SframeContext`'s native methods: `mlsframe_sframe_context_*`, SFrame
//! with keys the app manages. The direct-buffer methods copy nothing and allocate nothing.

use std::ptr;

use jni::JNIEnv;
use jni::objects::{JByteArray, JByteBuffer, JClass, JLongArray};
use jni::sys::{jbyteArray, jint, jlong};
use mlsframe::ffi::mlsframe_result;
use mlsframe::ffi::sframe_context::{
    mlsframe_sframe_context, mlsframe_sframe_context_add_receive_key,
    mlsframe_sframe_context_decrypt, mlsframe_sframe_context_encrypt, mlsframe_sframe_context_free,
    mlsframe_sframe_context_new, mlsframe_sframe_context_remove_receive_key,
    mlsframe_sframe_context_send_counter, mlsframe_sframe_context_set_send_key,
    mlsframe_sframe_max_ciphertext_size,
};

use crate::{
    Failure, Outcome, check, direct_region, guard, optional_bytes, optional_region,
    outside_callback, parts, to_jint, to_len, wipe,
};

fn sframe_context(handle: jlong) -> *const mlsframe_sframe_context {
    handle as usize as *const mlsframe_sframe_context
}

fn suite(value: jint) -> Outcome<u16> {
    u16::try_from(value).map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_UNKNOWN_SUITE))
}

/// Writes the KID to `kid_out[0]` unless it is null.
fn write_kid(env: &JNIEnv, kid_out: &JLongArray, kid: u64) -> Outcome<()> {
    if !kid_out.is_null() {
        env.set_long_array_region(kid_out, 0, &[kid as jlong])?;
    }
    Ok(())
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeContextNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    replay_window: jint,
) -> jlong {
    guard(&mut env, 0, |_| {
        let window = u32::try_from(to_len(replay_window)?)
            .map_err(|_| Failure::Code(mlsframe_result::MLSFRAME_INVALID_ARGUMENT))?;
        let mut out: *mut mlsframe_sframe_context = ptr::null_mut();
        // SAFETY: `out` is a writable local.
        check(unsafe { mlsframe_sframe_context_new(window, &mut out) })?;
        Ok(out as usize as jlong)
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeContextFree<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    if !outside_callback(&mut env) {
        return;
    }
    // SAFETY: the Java handle owns the context and frees it once, not from inside a
    // callback (checked above); 0 is a no-op.
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

/// The counter the send key's next frame will use.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeSendCounter<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jlong {
    guard(&mut env, 0, |_| {
        let mut next = 0u64;
        // SAFETY: the handle is NULL or a live context; `next` a writable local.
        check(unsafe { mlsframe_sframe_context_send_counter(sframe_context(handle), &mut next) })?;
        Ok(next as jlong)
    })
}

/// Seals into a direct buffer with optional additional data (no copy); returns the sealed
/// length.
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
            mlsframe_sframe_context_encrypt(
                sframe_context(handle),
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

/// Opens into a direct buffer with optional additional data (no copy); returns the
/// plaintext length and writes the frame's KID to `kidOut[0]` (may be null).
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
    ad: JByteBuffer<'local>,
    ad_off: jint,
    ad_len: jint,
    kid_out: JLongArray<'local>,
) -> jint {
    guard(&mut env, 0, |env| {
        let (frame_ptr, frame_len) = direct_region(env, &frame, frame_off, frame_len)?;
        let (out_ptr, out_cap) = direct_region(env, &out, out_off, out_cap)?;
        let (ad_ptr, ad_len) = optional_region(env, &ad, ad_off, ad_len)?;
        let mut written = 0usize;
        let mut kid = 0u64;
        // SAFETY: as in `sframeEncryptDirect`; `written` and `kid` are distinct locals.
        check(unsafe {
            mlsframe_sframe_context_decrypt(
                sframe_context(handle),
                frame_ptr,
                frame_len,
                ad_ptr,
                ad_len,
                out_ptr,
                out_cap,
                &mut written,
                &mut kid,
            )
        })?;
        write_kid(env, &kid_out, kid)?;
        to_jint(written)
    })
}

/// Seals a whole `byte[]` frame into a new array (the convenience path: copies).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeEncryptArray<'local>(
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
        let mut out = vec![0u8; mlsframe_sframe_max_ciphertext_size(frame.len())];
        let mut written = 0usize;
        // SAFETY: `frame`, `ad` and `out` are distinct live vectors of the lengths given
        // (or NULL/0); `written` a writable local; the handle is NULL or live.
        check(unsafe {
            mlsframe_sframe_context_encrypt(
                sframe_context(handle),
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

/// Opens a whole `byte[]` frame into a new array (copies); the KID goes to `kidOut[0]`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeDecryptArray<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    frame: JByteArray<'local>,
    ad: JByteArray<'local>,
    kid_out: JLongArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let frame = env.convert_byte_array(&frame)?;
        let ad = optional_bytes(env, &ad)?;
        let (ad_ptr, ad_len) = parts(&ad);
        let mut out = vec![0u8; frame.len()];
        let mut written = 0usize;
        let mut kid = 0u64;
        // SAFETY: `frame`, `ad` and `out` are distinct live vectors of the lengths given
        // (or NULL/0); `written` and `kid` distinct locals; the handle is NULL or live.
        check(unsafe {
            mlsframe_sframe_context_decrypt(
                sframe_context(handle),
                frame.as_ptr(),
                frame.len(),
                ad_ptr,
                ad_len,
                out.as_mut_ptr(),
                out.len(),
                &mut written,
                &mut kid,
            )
        })?;
        write_kid(env, &kid_out, kid)?;
        Ok(env.byte_array_from_slice(&out[..written])?.into_raw())
    })
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sframeMaxCiphertextSize<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    frame_len: jint,
) -> jint {
    guard(&mut env, 0, |_| {
        let len = to_len(frame_len)?;
        to_jint(mlsframe_sframe_max_ciphertext_size(len))
    })
}
