//! Callbacks into Java (admission policy, key-frame requests, log lines) and the
//! process-wide calls (`mlsframe_set_log_callback`, `mlsframe_result_message`).
//!
//! A callback's Java object lives in a `Callback` (a global reference in a slot) that the
//! Java side creates, hands to the C ABI as `user_data`, and frees only after the native
//! object that may call it (session, encryptor) is freed. Each trampoline attaches the
//! calling thread if it must, catches any panic (none crosses into C), and never leaves a
//! Java exception pending: one thrown by the callback is cleared and kept in `PENDING`,
//! and `guard` throws it again when the native method that led to the callback returns.
//! On a thread that is not inside such a method (a native thread logging), the exception
//! is printed (`ExceptionDescribe`) and dropped.

use std::ffi::{CStr, c_char, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::sync::{OnceLock, RwLock};

use jni::objects::{GlobalRef, JClass, JObject, JString, JValue};
use jni::sys::{jint, jlong, jstring};
use jni::{JNIEnv, JavaVM};
use mlsframe::ffi::admission::mlsframe_candidate;
use mlsframe::ffi::log::mlsframe_set_log_callback;
use mlsframe::ffi::result::mlsframe_result_message;

use crate::{IN_CALL, IN_CALLBACK, PENDING, guard, outside_callback};

/// The JVM, for threads a callback arrives on.
static VM: OnceLock<JavaVM> = OnceLock::new();

/// The Java object a callback calls, replaceable while the C side holds its address.
pub(crate) struct Callback {
    target: RwLock<Option<GlobalRef>>,
}

/// The log callback's slot: one for the process, like the C ABI's.
static LOG: Callback = Callback {
    target: RwLock::new(None),
};

impl Callback {
    fn get(&self) -> Option<GlobalRef> {
        self.target
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn set(&self, target: Option<GlobalRef>) {
        *self.target.write().unwrap_or_else(|p| p.into_inner()) = target;
    }
}

/// The `Callback` a handle names (0: none).
pub(crate) fn callback_ptr(handle: jlong) -> *mut c_void {
    handle as usize as *mut c_void
}

/// A global reference to `obj` (`None` for null), and the JVM remembered for trampolines.
fn global(env: &JNIEnv, obj: &JObject) -> jni::errors::Result<Option<GlobalRef>> {
    if VM.get().is_none() {
        let _ = VM.set(env.get_java_vm()?);
    }
    if obj.is_null() {
        return Ok(None);
    }
    Ok(Some(env.new_global_ref(obj)?))
}

/// Calls `f` with the callback's Java object on the current thread; `default` when there
/// is none, when the thread cannot be attached, inside another callback, after a callback
/// of this call already threw, or when `f` fails.
fn call_java<T>(
    callback: &Callback,
    default: T,
    f: impl FnOnce(&mut JNIEnv, &JObject) -> jni::errors::Result<T>,
) -> T {
    let Some(target) = callback.get() else {
        return default;
    };
    let Some(vm) = VM.get() else {
        return default;
    };
    if IN_CALLBACK.get() || PENDING.with_borrow(Option::is_some) {
        return default;
    }
    let Ok(mut env) = vm.attach_current_thread() else {
        return default;
    };
    if env.exception_check().unwrap_or(true) {
        return default;
    }
    let result = {
        let _scope = CallbackScope::enter();
        env.with_local_frame(16, |env| f(env, target.as_obj()))
    };
    if env.exception_check().unwrap_or(false) {
        if IN_CALL.get() {
            if let Ok(thrown) = env.exception_occurred() {
                let _ = env.exception_clear();
                if let Ok(thrown) = env.new_global_ref(thrown) {
                    PENDING.set(Some(thrown));
                }
            }
        } else {
            // ExceptionDescribe prints and clears it.
            let _ = env.exception_describe();
        }
        let _ = env.exception_clear();
        return default;
    }
    result.unwrap_or(default)
}

/// Marks this thread as running a Java callback until dropped (also when unwinding).
struct CallbackScope;

impl CallbackScope {
    fn enter() -> CallbackScope {
        IN_CALLBACK.set(true);
        CallbackScope
    }
}

impl Drop for CallbackScope {
    fn drop(&mut self) {
        IN_CALLBACK.set(false);
    }
}

/// The bytes at `(ptr, len)`, empty for NULL.
///
/// # Safety
/// `ptr` is NULL or valid for `len` bytes for the returned lifetime.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() {
        return &[];
    }
    // SAFETY: the caller promises `ptr` valid for `len` bytes.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// `mlsframe_admission_callback`: builds an `org.mlsframe.Candidate` and asks the
/// `AdmissionPolicy`. A throwing policy refuses (and its exception is thrown again).
pub(crate) unsafe extern "C" fn admission_trampoline(
    user_data: *mut c_void,
    candidate: *const mlsframe_candidate,
) -> bool {
    catch_unwind(AssertUnwindSafe(|| {
        if user_data.is_null() || candidate.is_null() {
            return false;
        }
        // SAFETY: `user_data` is the `Callback` the Java session holds until after its
        // native session is freed; `candidate` is valid for this call (the C ABI's rule).
        let (callback, c) = unsafe { (&*(user_data as *const Callback), &*candidate) };
        call_java(callback, false, |env, target| {
            // SAFETY: every pointer of the candidate is NULL or valid for its length
            // during this call.
            let (user_id, device_id, credential, key, fingerprint) = unsafe {
                (
                    bytes(c.user_id, c.user_id_len),
                    bytes(c.device_id, c.device_id_len),
                    bytes(c.credential, c.credential_len),
                    bytes(c.signature_key, c.signature_key_len),
                    bytes(c.fingerprint, c.fingerprint_len),
                )
            };
            let user_id = env.byte_array_from_slice(user_id)?;
            let device_id = env.byte_array_from_slice(device_id)?;
            let credential = env.byte_array_from_slice(credential)?;
            let key = env.byte_array_from_slice(key)?;
            let fingerprint = env.new_string(String::from_utf8_lossy(fingerprint))?;
            let candidate = env.new_object(
                "org/mlsframe/Candidate",
                "(Z[B[BI[B[BLjava/lang/String;)V",
                &[
                    JValue::Bool(c.is_mlsframe_identity.into()),
                    JValue::Object(&user_id),
                    JValue::Object(&device_id),
                    JValue::Int(jint::from(c.credential_type)),
                    JValue::Object(&credential),
                    JValue::Object(&key),
                    JValue::Object(&fingerprint),
                ],
            )?;
            env.call_method(
                target,
                "admit",
                "(Lorg/mlsframe/Candidate;)Z",
                &[JValue::Object(&candidate)],
            )?
            .z()
        })
    }))
    .unwrap_or(false)
}

/// `mlsframe_key_frame_callback`: `KeyFrameCallback.keyFrameNeeded(context, epoch)`.
pub(crate) unsafe extern "C" fn key_frame_trampoline(
    user_data: *mut c_void,
    context: u64,
    epoch: u64,
) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if user_data.is_null() {
            return;
        }
        // SAFETY: `user_data` is the `Callback` the Java encryptor holds until after its
        // native encryptor is freed.
        let callback = unsafe { &*(user_data as *const Callback) };
        call_java(callback, (), |env, target| {
            env.call_method(
                target,
                "keyFrameNeeded",
                "(JJ)V",
                &[JValue::Long(context as jlong), JValue::Long(epoch as jlong)],
            )?;
            Ok(())
        });
    }));
}

/// `mlsframe_log_callback`: `Mlsframe`'s log sink, `log(int level, String message)`.
unsafe extern "C" fn log_trampoline(_user_data: *mut c_void, level: u32, message: *const c_char) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        if message.is_null() {
            return;
        }
        // SAFETY: the C ABI passes a NUL-terminated string valid for this call.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        call_java(&LOG, (), |env, target| {
            let text = env.new_string(&*text)?;
            env.call_method(
                target,
                "log",
                "(ILjava/lang/String;)V",
                &[JValue::Int(level as jint), JValue::Object(&text)],
            )?;
            Ok(())
        });
    }));
}

/// A new callback slot holding `target` (may be null); freed with `callbackStateFree`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_callbackStateNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    target: JObject<'local>,
) -> jlong {
    guard(&mut env, 0, |env| {
        let callback = Box::new(Callback {
            target: RwLock::new(global(env, &target)?),
        });
        Ok(Box::into_raw(callback) as usize as jlong)
    })
}

/// Replaces the Java object of a callback slot (null: the callback does nothing).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_callbackStateSet<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    state: jlong,
    target: JObject<'local>,
) {
    guard(&mut env, (), |env| {
        let target = global(env, &target)?;
        if state != 0 {
            // SAFETY: a non-zero state is a live `Callback` from `callbackStateNew`.
            unsafe { &*(callback_ptr(state) as *const Callback) }.set(target);
        }
        Ok(())
    })
}

/// Frees a callback slot once nothing can call it any more (0 is a no-op).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_callbackStateFree<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    state: jlong,
) {
    if state == 0 || !outside_callback(&mut env) {
        return;
    }
    // SAFETY: the state came from `callbackStateNew` and the Java side frees it once,
    // after the native object that held it as `user_data` was freed.
    drop(unsafe { Box::from_raw(callback_ptr(state) as *mut Callback) });
}

/// Installs (`sink` non-null) or removes the process-wide log callback.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_setLogCallback<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    sink: JObject<'local>,
    max_level: jint,
) {
    guard(&mut env, (), |env| {
        let target = global(env, &sink)?;
        let on = target.is_some();
        LOG.set(target);
        let callback: Option<unsafe extern "C" fn(*mut c_void, u32, *const c_char)> =
            if on { Some(log_trampoline) } else { None };
        mlsframe_set_log_callback(callback, ptr::null_mut(), max_level.max(0) as u32);
        Ok(())
    })
}

/// `mlsframe_result_message(code)` as a Java string.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_resultMessage<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    code: jint,
) -> jstring {
    guard(&mut env, ptr::null_mut(), |env| {
        let message = mlsframe_result_message(code as u32);
        // SAFETY: the C ABI returns a static NUL-terminated string, never NULL.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        let text: JString = env.new_string(&*text)?;
        Ok(text.into_raw())
    })
}
