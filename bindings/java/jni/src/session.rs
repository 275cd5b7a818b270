//! `org.mlsframe.Session`'s native methods: `mlsframe_session_*` (identities, snapshots,
//! group creation and joins, commits and proposals, the roster and the epoch's secrets).

use std::ptr;

use jni::JNIEnv;
use jni::objects::{JByteArray, JClass, JIntArray, JLongArray, JObjectArray};
use jni::sys::{jboolean, jbyteArray, jint, jlong, jlongArray, jobjectArray};
use mlsframe::ffi::identity::mlsframe_identity_options;
use mlsframe::ffi::mlsframe_result::{self, *};
use mlsframe::ffi::params::{
    mlsframe_external_sender, mlsframe_group_options, mlsframe_group_params,
};
use mlsframe::ffi::session::{
    mlsframe_outcome, mlsframe_outcome_kind, mlsframe_session, mlsframe_session_add_members,
    mlsframe_session_ciphersuite, mlsframe_session_commit_pending_proposals,
    mlsframe_session_config, mlsframe_session_confirm_commit, mlsframe_session_create_group,
    mlsframe_session_create_group_with, mlsframe_session_discard_commit, mlsframe_session_epoch,
    mlsframe_session_epoch_authenticator, mlsframe_session_export_secret, mlsframe_session_free,
    mlsframe_session_group_info, mlsframe_session_join, mlsframe_session_join_by_external_commit,
    mlsframe_session_join_with, mlsframe_session_key_package, mlsframe_session_key_package_for,
    mlsframe_session_leave, mlsframe_session_member_credential, mlsframe_session_member_identity,
    mlsframe_session_new, mlsframe_session_new_with, mlsframe_session_params,
    mlsframe_session_process, mlsframe_session_ratchet_tree, mlsframe_session_receivers_ready,
    mlsframe_session_remove_member, mlsframe_session_remove_user, mlsframe_session_restore,
    mlsframe_session_roster, mlsframe_session_security_code, mlsframe_session_self_update,
    mlsframe_session_signature_algorithm, mlsframe_session_snapshot,
};

use crate::callback::{admission_trampoline, callback_ptr};
use crate::{
    Failure, Outcome, OwnedBuffer, byte_arrays, check, fail, guard, optional_bytes, optional_ints,
    outside_callback, parts, wipe,
};

fn session(handle: jlong) -> *const mlsframe_session {
    handle as usize as *const mlsframe_session
}

/// The session options `{retentionMs, removalRetentionMs, sendSwitchDelayMs,
/// replayWindow}` (null: the defaults) with the admission callback slot `admission`
/// (0: admit everyone). A negative value is `MLSFRAME_INVALID_CONFIG`.
fn config_of(
    env: &JNIEnv,
    values: &JIntArray,
    admission: jlong,
) -> Outcome<Option<mlsframe_session_config>> {
    let values = optional_ints::<4>(env, values)?;
    if values.is_none() && admission == 0 {
        return Ok(None);
    }
    let [retention, removal, delay, window] = values.unwrap_or_default();
    let field = |v: jint| u32::try_from(v).map_err(|_| Failure::Code(MLSFRAME_INVALID_CONFIG));
    Ok(Some(mlsframe_session_config {
        retention_ms: field(retention)?,
        removal_retention_ms: field(removal)?,
        send_switch_delay_ms: field(delay)?,
        replay_window: field(window)?,
        admission: if admission == 0 {
            None
        } else {
            Some(admission_trampoline)
        },
        admission_user_data: callback_ptr(admission),
    }))
}

/// The group parameters `{sframeSuite, epochBits, handshake}` (null: none given).
fn params_of(env: &JNIEnv, values: &JIntArray) -> Outcome<Option<mlsframe_group_params>> {
    let Some([suite, bits, handshake]) = optional_ints::<3>(env, values)? else {
        return Ok(None);
    };
    let (Ok(sframe_suite), Ok(epoch_bits)) = (u16::try_from(suite), u8::try_from(bits)) else {
        return fail(MLSFRAME_MLS_INVALID_PARAMS);
    };
    let Ok(handshake) = u32::try_from(handshake) else {
        return fail(MLSFRAME_INVALID_ARGUMENT);
    };
    Ok(Some(mlsframe_group_params {
        sframe_suite,
        epoch_bits,
        handshake,
    }))
}

/// The new session as a handle, or, when a Java callback threw during its creation (the
/// exception `guard` rethrows), none: the session is freed rather than lost.
fn created(out: *mut mlsframe_session) -> Outcome<jlong> {
    if crate::PENDING.with_borrow(Option::is_some) {
        // SAFETY: `out` is the session the call just created (or NULL); nothing else
        // holds it.
        unsafe { mlsframe_session_free(out) };
        return fail(MLSFRAME_INTERNAL);
    }
    Ok(out as usize as jlong)
}

/// A pointer to the optional value, NULL for none.
fn opt_ptr<T>(value: &Option<T>) -> *const T {
    value.as_ref().map_or(ptr::null(), |v| v as *const T)
}

/// A new session for `(userId, deviceId)` with an Ed25519 identity: `seed` (null: a fresh
/// key), the config values and the admission callback slot (see `config_of`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sessionNew<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    user_id: JByteArray<'local>,
    device_id: JByteArray<'local>,
    seed: JByteArray<'local>,
    config: JIntArray<'local>,
    admission: jlong,
) -> jlong {
    guard(&mut env, 0, |env| {
        let user_id = env.convert_byte_array(&user_id)?;
        let device_id = env.convert_byte_array(&device_id)?;
        let config = config_of(env, &config, admission)?;
        let seed = optional_bytes(env, &seed)?;
        let (seed_ptr, seed_len) = parts(&seed);
        let mut out: *mut mlsframe_session = ptr::null_mut();
        // SAFETY: the ids and the seed are live vectors of the lengths given (or NULL/0);
        // the config is NULL or a live local; `out` is a writable local.
        let code = unsafe {
            mlsframe_session_new(
                user_id.as_ptr(),
                user_id.len(),
                device_id.as_ptr(),
                device_id.len(),
                seed_ptr,
                seed_len,
                opt_ptr(&config),
                &mut out,
            )
        };
        if let Some(seed) = seed {
            wipe(seed);
        }
        check(code)?;
        created(out)
    })
}

/// A new session for an identity of either signature algorithm (`mlsframe_session_new_with`).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_sessionNewWith<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    user_id: JByteArray<'local>,
    device_id: JByteArray<'local>,
    secret: JByteArray<'local>,
    algorithm: jint,
    config: JIntArray<'local>,
    admission: jlong,
) -> jlong {
    guard(&mut env, 0, |env| {
        let user_id = env.convert_byte_array(&user_id)?;
        let device_id = env.convert_byte_array(&device_id)?;
        let config = config_of(env, &config, admission)?;
        let Ok(signature_algorithm) = u16::try_from(algorithm) else {
            return fail(MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM);
        };
        let secret = optional_bytes(env, &secret)?;
        let (secret_ptr, secret_len) = parts(&secret);
        let identity = mlsframe_identity_options {
            user_id: user_id.as_ptr(),
            user_id_len: user_id.len(),
            device_id: device_id.as_ptr(),
            device_id_len: device_id.len(),
            secret: secret_ptr,
            secret_len,
            signature_algorithm,
        };
        let mut out: *mut mlsframe_session = ptr::null_mut();
        // SAFETY: `identity` points into live vectors of the lengths it gives; the config
        // is NULL or a live local; `out` is a writable local.
        let code = unsafe { mlsframe_session_new_with(&identity, opt_ptr(&config), &mut out) };
        if let Some(secret) = secret {
            wipe(secret);
        }
        check(code)?;
        created(out)
    })
}

/// A session restored from `snapshot` bytes.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sessionRestore<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    snapshot: JByteArray<'local>,
    config: JIntArray<'local>,
    admission: jlong,
) -> jlong {
    guard(&mut env, 0, |env| {
        let snapshot = env.convert_byte_array(&snapshot)?;
        let config = config_of(env, &config, admission)?;
        let mut out: *mut mlsframe_session = ptr::null_mut();
        // SAFETY: `snapshot` is a live vector of its length; the config NULL or a live
        // local; `out` a writable local.
        let code = unsafe {
            mlsframe_session_restore(
                snapshot.as_ptr(),
                snapshot.len(),
                opt_ptr(&config),
                &mut out,
            )
        };
        wipe(snapshot);
        check(code)?;
        created(out)
    })
}

/// Frees a session handle (0 is a no-op).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_sessionFree<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    if !outside_callback(&mut env) {
        return;
    }
    // SAFETY: the Java handle owns the session and frees it once (`close` zeroes its
    // handle first), not from inside a callback (checked above); 0 is NULL, a no-op.
    unsafe { mlsframe_session_free(session(handle).cast_mut()) }
}

/// Runs a call that fills one library-owned buffer and returns it as a `byte[]`.
fn buffer_call<'local>(
    env: &mut JNIEnv<'local>,
    call: impl FnOnce(*mut mlsframe::ffi::buffer::mlsframe_buffer) -> mlsframe_result,
) -> jbyteArray {
    guard(env, ptr::null_mut(), |env| {
        let mut out = OwnedBuffer::new();
        check(call(&mut out.0))?;
        Ok(out.to_java(env)?.into_raw())
    })
}

/// Defines a native method `Java_org_mlsframe_Native_<name>(session)` returning the
/// buffer `$ffi(session, &mut out)` fills.
macro_rules! session_buffer {
    ($(#[$doc:meta])* $java:ident, $ffi:ident) => {
        $(#[$doc])*
        #[unsafe(no_mangle)]
        pub extern "system" fn $java<'local>(
            mut env: JNIEnv<'local>,
            _class: JClass<'local>,
            handle: jlong,
        ) -> jbyteArray {
            // SAFETY: the handle is NULL (a closed session: the C ABI answers
            // `MLSFRAME_NULL_ARGUMENT`) or a live session; `out` is a writable buffer.
            buffer_call(&mut env, |out| unsafe { $ffi(session(handle), out) })
        }
    };
}

session_buffer!(
    /// A fresh key package for the identity's default MLS ciphersuite.
    Java_org_mlsframe_Native_keyPackage,
    mlsframe_session_key_package
);
session_buffer!(
    /// The session's snapshot (secret).
    Java_org_mlsframe_Native_snapshot,
    mlsframe_session_snapshot
);
session_buffer!(
    /// A signed group info of the current epoch.
    Java_org_mlsframe_Native_groupInfo,
    mlsframe_session_group_info
);
session_buffer!(
    /// A self-update in a new pending commit.
    Java_org_mlsframe_Native_selfUpdate,
    mlsframe_session_self_update
);
session_buffer!(
    /// A remove proposal for ourselves.
    Java_org_mlsframe_Native_leave,
    mlsframe_session_leave
);
session_buffer!(
    /// The current epoch's ratchet tree.
    Java_org_mlsframe_Native_ratchetTree,
    mlsframe_session_ratchet_tree
);
session_buffer!(
    /// The epoch's security code (ASCII).
    Java_org_mlsframe_Native_securityCode,
    mlsframe_session_security_code
);
session_buffer!(
    /// The epoch authenticator (confidential).
    Java_org_mlsframe_Native_epochAuthenticator,
    mlsframe_session_epoch_authenticator
);
session_buffer!(
    /// The roster as text (see the header).
    Java_org_mlsframe_Native_roster,
    mlsframe_session_roster
);

/// A fresh key package for the MLS ciphersuite `suite`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_keyPackageFor<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    suite: jint,
) -> jbyteArray {
    let suite = u16::try_from(suite).unwrap_or(0);
    // SAFETY: the handle is NULL or a live session; `out` is a writable buffer. A suite
    // outside u16 becomes 0, which the C ABI refuses as unsupported.
    buffer_call(&mut env, |out| unsafe {
        mlsframe_session_key_package_for(session(handle), suite, out)
    })
}

/// The signature algorithm's code point.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_signatureAlgorithm<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    guard(&mut env, 0, |_| {
        let mut out = 0u16;
        // SAFETY: the handle is NULL or a live session; `out` a writable local.
        check(unsafe { mlsframe_session_signature_algorithm(session(handle), &mut out) })?;
        Ok(jint::from(out))
    })
}

/// The group's MLS ciphersuite.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_ciphersuite<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jint {
    guard(&mut env, 0, |_| {
        let mut out = 0u16;
        // SAFETY: the handle is NULL or a live session; `out` a writable local.
        check(unsafe { mlsframe_session_ciphersuite(session(handle), &mut out) })?;
        Ok(jint::from(out))
    })
}

/// Returns `{sframeSuite, epochBits, handshake, paramsSource}`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_params<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jni::sys::jintArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let mut params = mlsframe_group_params::default();
        let mut source = 0u32;
        // SAFETY: the handle is NULL or a live session; the outputs are distinct
        // writable locals.
        check(unsafe { mlsframe_session_params(session(handle), &mut params, &mut source) })?;
        let values = [
            jint::from(params.sframe_suite),
            jint::from(params.epoch_bits),
            params.handshake as jint,
            source as jint,
        ];
        let array = env.new_int_array(4)?;
        env.set_int_array_region(&array, 0, &values)?;
        Ok(array.into_raw())
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
        byte_arrays(env, &[commit.as_slice(), welcome.as_slice()])
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

/// Creates a group as the options say (`mlsframe_session_create_group_with`).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "system" fn Java_org_mlsframe_Native_createGroupWith<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    params: JIntArray<'local>,
    mls_ciphersuite: jint,
    params_source: jint,
    sender_keys: JObjectArray<'local>,
    sender_identities: JObjectArray<'local>,
) {
    guard(&mut env, (), |env| {
        let params = params_of(env, &params)?.unwrap_or_default();
        let Ok(mls_ciphersuite) = u16::try_from(mls_ciphersuite) else {
            return fail(MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE);
        };
        let Ok(params_source) = u32::try_from(params_source) else {
            return fail(MLSFRAME_INVALID_ARGUMENT);
        };
        let keys = arrays(env, &sender_keys)?;
        let identities = arrays(env, &sender_identities)?;
        if keys.len() != identities.len() {
            return fail(MLSFRAME_INVALID_ARGUMENT);
        }
        let senders: Vec<mlsframe_external_sender> = keys
            .iter()
            .zip(&identities)
            .map(|(key, identity)| mlsframe_external_sender {
                signature_key: key.as_ptr(),
                signature_key_len: key.len(),
                identity: identity.as_ptr(),
                identity_len: identity.len(),
            })
            .collect();
        let options = mlsframe_group_options {
            params,
            mls_ciphersuite,
            params_source,
            external_senders: if senders.is_empty() {
                ptr::null()
            } else {
                senders.as_ptr()
            },
            external_senders_count: senders.len(),
        };
        // SAFETY: the handle is NULL or a live session; `options` and the entries it
        // points to live in this frame, each pointer valid for its length.
        check(unsafe { mlsframe_session_create_group_with(session(handle), &options) })
    })
}

/// The elements of a `byte[][]` (null: none).
fn arrays(env: &mut JNIEnv, array: &JObjectArray) -> Outcome<Vec<Vec<u8>>> {
    if array.is_null() {
        return Ok(Vec::new());
    }
    let count = env.get_array_length(array)?;
    let mut out = Vec::new();
    for i in 0..count {
        let element = JByteArray::from(env.get_object_array_element(array, i)?);
        out.push(env.convert_byte_array(&element)?);
        env.delete_local_ref(element)?;
    }
    Ok(out)
}

/// Joins from a welcome with an optional ratchet tree and parameters; returns the epoch.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_joinWith<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    welcome: JByteArray<'local>,
    ratchet_tree: JByteArray<'local>,
    params: JIntArray<'local>,
) -> jlong {
    guard(&mut env, 0, |env| {
        let welcome = env.convert_byte_array(&welcome)?;
        let tree = optional_bytes(env, &ratchet_tree)?;
        let params = params_of(env, &params)?;
        let (tree_ptr, tree_len) = parts(&tree);
        let mut epoch = 0u64;
        // SAFETY: the handle is NULL or a live session; the inputs are live vectors of
        // their lengths (or NULL/0) and a live local or NULL; `epoch` a writable local.
        check(unsafe {
            mlsframe_session_join_with(
                session(handle),
                welcome.as_ptr(),
                welcome.len(),
                tree_ptr,
                tree_len,
                opt_ptr(&params),
                &mut epoch,
            )
        })?;
        Ok(epoch as jlong)
    })
}

/// Joins by external commit; returns the commit and writes the epoch to `epochOut[0]`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_joinByExternalCommit<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    group_info: JByteArray<'local>,
    ratchet_tree: JByteArray<'local>,
    params: JIntArray<'local>,
    epoch_out: JLongArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let group_info = env.convert_byte_array(&group_info)?;
        let tree = optional_bytes(env, &ratchet_tree)?;
        let params = params_of(env, &params)?;
        let (tree_ptr, tree_len) = parts(&tree);
        let mut commit = OwnedBuffer::new();
        let mut epoch = 0u64;
        // SAFETY: the handle is NULL or a live session; the inputs are live vectors of
        // their lengths (or NULL/0) and a live local or NULL; the outputs distinct locals.
        check(unsafe {
            mlsframe_session_join_by_external_commit(
                session(handle),
                group_info.as_ptr(),
                group_info.len(),
                tree_ptr,
                tree_len,
                opt_ptr(&params),
                &mut commit.0,
                &mut epoch,
            )
        })?;
        env.set_long_array_region(&epoch_out, 0, &[epoch as jlong])?;
        Ok(commit.to_java(env)?.into_raw())
    })
}

/// Removes every device of `userId` in a new pending commit.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_removeUser<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    user_id: JByteArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let user_id = env.convert_byte_array(&user_id)?;
        let mut commit = OwnedBuffer::new();
        // SAFETY: the handle is NULL or a live session; `user_id` a live vector of its
        // length; `commit` writable.
        check(unsafe {
            mlsframe_session_remove_user(
                session(handle),
                user_id.as_ptr(),
                user_id.len(),
                &mut commit.0,
            )
        })?;
        Ok(commit.to_java(env)?.into_raw())
    })
}

/// Commits the pending proposals; returns `{commit, welcome}` (welcome empty: none).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_commitPendingProposals<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> jobjectArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let mut commit = OwnedBuffer::new();
        let mut welcome = OwnedBuffer::new();
        // SAFETY: the handle is NULL or a live session; the outputs are distinct locals.
        check(unsafe {
            mlsframe_session_commit_pending_proposals(
                session(handle),
                &mut commit.0,
                &mut welcome.0,
            )
        })?;
        byte_arrays(env, &[commit.as_slice(), welcome.as_slice()])
    })
}

/// Drops our pending commit.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_discardCommit<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    guard(&mut env, (), |_| {
        // SAFETY: the handle is NULL or a live session.
        check(unsafe { mlsframe_session_discard_commit(session(handle)) })
    })
}

/// An MLS exporter value (secret).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_exportSecret<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    label: JByteArray<'local>,
    context: JByteArray<'local>,
    length: jint,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let label = env.convert_byte_array(&label)?;
        let context = env.convert_byte_array(&context)?;
        let length = crate::to_len(length)?;
        let mut out = OwnedBuffer::new();
        // SAFETY: the handle is NULL or a live session; label and context are live
        // vectors of their lengths; `out` writable.
        check(unsafe {
            mlsframe_session_export_secret(
                session(handle),
                label.as_ptr(),
                label.len(),
                context.as_ptr(),
                context.len(),
                length,
                &mut out.0,
            )
        })?;
        Ok(out.to_java(env)?.into_raw())
    })
}

/// `{userId, deviceId}` of the member at `leaf`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_memberIdentity<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    leaf: jint,
) -> jobjectArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let Ok(leaf) = u32::try_from(leaf) else {
            return fail(MLSFRAME_MLS_UNKNOWN_MEMBER);
        };
        let mut user = OwnedBuffer::new();
        let mut device = OwnedBuffer::new();
        // SAFETY: the handle is NULL or a live session; the outputs are distinct locals.
        check(unsafe {
            mlsframe_session_member_identity(session(handle), leaf, &mut user.0, &mut device.0)
        })?;
        byte_arrays(env, &[user.as_slice(), device.as_slice()])
    })
}

/// The raw credential of the member at `leaf`; its type goes to `typeOut[0]`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_mlsframe_Native_memberCredential<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
    handle: jlong,
    leaf: jint,
    type_out: JIntArray<'local>,
) -> jbyteArray {
    guard(&mut env, ptr::null_mut(), |env| {
        let Ok(leaf) = u32::try_from(leaf) else {
            return fail(MLSFRAME_MLS_UNKNOWN_MEMBER);
        };
        let mut kind = 0u16;
        let mut content = OwnedBuffer::new();
        // SAFETY: the handle is NULL or a live session; the outputs are distinct locals.
        check(unsafe {
            mlsframe_session_member_credential(session(handle), leaf, &mut kind, &mut content.0)
        })?;
        env.set_int_array_region(&type_out, 0, &[jint::from(kind)])?;
        Ok(content.to_java(env)?.into_raw())
    })
}
