//! `mlsframe_session`: one device's MLS membership, driven from one thread at a time
//! (calls are serialized internally, so concurrent misuse is safe but blocks). Every MLS
//! message goes in and out as bytes; the app carries them over its own signalling.

use std::ffi::c_void;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use zeroize::Zeroizing;

use super::admission::{self, mlsframe_admission_callback};
use super::buffer::mlsframe_buffer;
use super::decryptor::mlsframe_decryptor;
use super::encryptor::mlsframe_encryptor;
use super::identity::{algorithm_of, identity_of, mlsframe_identity_options};
use super::log::{emit, mlsframe_log_level};
use super::params::{
    ciphersuite_of, mlsframe_group_options, mlsframe_group_params, params_source_of,
    params_source_value,
};
use super::{
    Reset, Span, disjoint, ffi_guard, mlsframe_result, reset_outputs, try_array, try_disjoint,
    try_ref, try_slice, try_write,
};
use crate::mls::error::MlsError;
use crate::mls::identity::{Identity, SignatureAlgorithm};
use crate::mls::media::MediaConfig;
use crate::mls::policy::AdmissionPolicy;
use crate::mls::session::{
    GroupOptions, GroupParams, HandshakeFormat, JoinOptions, MlsCiphersuite, Outcome, Session,
};
use mlsframe_result::*;

/// An MLS group member (opaque).
pub struct mlsframe_session {
    inner: Mutex<Session>,
}

impl mlsframe_session {
    fn lock(&self) -> MutexGuard<'_, Session> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Session options. Zero-initialize for defaults (`mlsframe_session_config cfg = {0};`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mlsframe_session_config {
    /// How long a superseded epoch still opens in-flight frames, in ms (0: 10000).
    pub retention_ms: u32,
    /// The same after a commit that removed someone, in ms (0: 1000).
    pub removal_retention_ms: u32,
    /// How long encryptors keep sealing in the old epoch after a merge, in ms, unless
    /// `mlsframe_session_receivers_ready` is called first (0: switch at once; at most
    /// 5000, else `MLSFRAME_INVALID_CONFIG`). Never applied after a commit that removed
    /// someone: senders switch at once.
    pub send_switch_delay_ms: u32,
    /// Replay window per sender stream, in counters (0: 128; at most 65536, else
    /// `MLSFRAME_INVALID_CONFIG`), rounded up to a multiple of 64 (100 keeps 128).
    pub replay_window: u32,
    /// Admission policy: called with an `mlsframe_candidate` for every new member (NULL:
    /// admit everyone, members on other MLS stacks included).
    pub admission: mlsframe_admission_callback,
    /// Passed to `admission` as its first argument.
    pub admission_user_data: *mut c_void,
}

fn policy_of(cfg: Option<&mlsframe_session_config>) -> Arc<dyn AdmissionPolicy> {
    match cfg {
        Some(c) => admission::policy_of(c.admission, c.admission_user_data),
        None => admission::policy_of(None, std::ptr::null_mut()),
    }
}

fn media_config(cfg: Option<&mlsframe_session_config>) -> Result<MediaConfig, mlsframe_result> {
    let mut media = MediaConfig::default();
    if let Some(cfg) = cfg {
        let ms = |v: u32, default: Duration| {
            if v == 0 {
                default
            } else {
                Duration::from_millis(u64::from(v))
            }
        };
        media.retention = ms(cfg.retention_ms, media.retention);
        media.retention_after_removal = ms(cfg.removal_retention_ms, media.retention_after_removal);
        media.send_switch_delay = Duration::from_millis(u64::from(cfg.send_switch_delay_ms));
        if cfg.replay_window != 0 {
            media.replay_window = u64::from(cfg.replay_window);
        }
    }
    media.validate()?;
    Ok(media)
}

/// Creates a session for the member `(user_id, device_id)` with an Ed25519 identity key:
/// opaque bytes, the user id 1..=1024 bytes, the device id 0..=1024 bytes.
/// `seed` is NULL (generate a new Ed25519 identity key) or 32 bytes the app persists.
/// `config` may be NULL. Free with `mlsframe_session_free`. For a P-256 identity, use
/// `mlsframe_session_new_with`. `*out` is reset to NULL on entry (see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `out` is NULL, or `user_id`,
/// `device_id` or `seed` NULL with a length; `MLSFRAME_INVALID_ARGUMENT` for a length over
/// `PTRDIFF_MAX`, or `*out` sharing a byte with an input (the ids, the seed, `*config`);
/// `MLSFRAME_MLS_INVALID_IDENTITY` for a user id empty or over 1024 bytes or a device id
/// over 1024 bytes; `MLSFRAME_INVALID_ARGUMENT` for a seed neither 0 nor 32 bytes;
/// `MLSFRAME_INVALID_CONFIG` for a config value out of range; `MLSFRAME_OK`.
///
/// # Safety
/// Pointers are NULL or valid for their lengths; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_new(
    user_id: *const u8,
    user_id_len: usize,
    device_id: *const u8,
    device_id_len: usize,
    seed: *const u8,
    seed_len: usize,
    config: *const mlsframe_session_config,
    out: *mut *mut mlsframe_session,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[
                Span::bytes(user_id, user_id_len),
                Span::bytes(device_id, device_id_len),
                Span::bytes(seed, seed_len),
                Span::of(config),
            ],
            required: [out],
            optional: [],
        );
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let user = try_slice!(user_id, user_id_len);
        let device = try_slice!(device_id, device_id_len);
        let seed = try_slice!(seed, seed_len);
        try_disjoint!(
            inputs: [
                Span::bytes(user.as_ptr(), user.len()),
                Span::bytes(device.as_ptr(), device.len()),
                Span::bytes(seed.as_ptr(), seed.len()),
                Span::of(config),
            ],
            outputs: [Span::of(out.cast_const())],
        );
        let cfg = if config.is_null() {
            None
        } else {
            Some(*try_ref!(config))
        };
        let identity = match identity_of(user, device, seed, SignatureAlgorithm::Ed25519) {
            Ok(identity) => identity,
            Err(code) => return code,
        };
        new_session(identity, cfg.as_ref(), out)
    })
}

/// Creates a session for the identity `*identity` describes: its user id and device id
/// (as for `mlsframe_session_new`), its signature algorithm (Ed25519 or ECDSA P-256) and
/// its secret (NULL: a fresh key). A P-256 session creates MLS ciphersuite 0x0002 groups
/// by default (`mlsframe_session_create_group`, `mlsframe_session_key_package`, and
/// `mls_ciphersuite` 0 in `mlsframe_group_options`); an Ed25519 session, 0x0001. `config`
/// may be NULL. Free with `mlsframe_session_free`.
///
/// `*out` is reset to NULL on entry (see the preamble). Codes, in this order: `out` NULL:
/// `MLSFRAME_NULL_ARGUMENT`; `identity` NULL: `MLSFRAME_NULL_ARGUMENT`; `*out` overlapping
/// `*identity` or `*config`: `MLSFRAME_INVALID_ARGUMENT`; a field's pointer NULL with a
/// length: `MLSFRAME_NULL_ARGUMENT`, a length over `PTRDIFF_MAX`:
/// `MLSFRAME_INVALID_ARGUMENT`; `*out` overlapping the user id, device id or secret:
/// `MLSFRAME_INVALID_ARGUMENT`; then `signature_algorithm` unknown:
/// `MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM`; the ids out of range:
/// `MLSFRAME_MLS_INVALID_IDENTITY`; `secret_len` neither 0 nor 32:
/// `MLSFRAME_INVALID_ARGUMENT`; a P-256 secret that is not a valid scalar:
/// `MLSFRAME_MLS_INVALID_SIGNING_KEY`; then the config (`MLSFRAME_INVALID_CONFIG`);
/// `MLSFRAME_OK`.
///
/// # Safety
/// `identity` is NULL or readable, and its pointers NULL or readable for their lengths;
/// `config` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_new_with(
    identity: *const mlsframe_identity_options,
    config: *const mlsframe_session_config,
    out: *mut *mut mlsframe_session,
) -> mlsframe_result {
    ffi_guard!({
        // The fields' memory counts only once `*identity` itself is known to be readable
        // and apart from `*out`: it is read for that before anything is written.
        let fields = if !identity.is_null()
            && disjoint(&[Span::of(identity)], &[Span::of(out.cast_const())])
        {
            // SAFETY: non-NULL and readable (the caller's guarantee); nothing writes it.
            let id = unsafe { identity.read() };
            [
                Span::bytes(id.user_id, id.user_id_len),
                Span::bytes(id.device_id, id.device_id_len),
                Span::bytes(id.secret, id.secret_len),
            ]
        } else {
            [Span::NONE; 3]
        };
        reset_outputs!(
            inputs: &[Span::of(identity), Span::of(config), fields[0], fields[1], fields[2]],
            required: [out],
            optional: [],
        );
        if out.is_null() || identity.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        // The structs first: their fields are read below.
        try_disjoint!(
            inputs: [Span::of(identity), Span::of(config)],
            outputs: [Span::of(out.cast_const())],
        );
        let id = *try_ref!(identity);
        let user = try_slice!(id.user_id, id.user_id_len);
        let device = try_slice!(id.device_id, id.device_id_len);
        let secret = try_slice!(id.secret, id.secret_len);
        try_disjoint!(
            inputs: [
                Span::bytes(user.as_ptr(), user.len()),
                Span::bytes(device.as_ptr(), device.len()),
                Span::bytes(secret.as_ptr(), secret.len()),
            ],
            outputs: [Span::of(out.cast_const())],
        );
        let cfg = if config.is_null() {
            None
        } else {
            Some(*try_ref!(config))
        };
        let identity = match algorithm_of(id.signature_algorithm)
            .and_then(|algorithm| identity_of(user, device, secret, algorithm))
        {
            Ok(identity) => identity,
            Err(code) => return code,
        };
        new_session(identity, cfg.as_ref(), out)
    })
}

/// The end of both `_new` calls: a session for `identity` configured by `cfg`, written to
/// `out` (already checked, non-NULL and holding NULL).
fn new_session(
    identity: Identity,
    cfg: Option<&mlsframe_session_config>,
    out: *mut *mut mlsframe_session,
) -> mlsframe_result {
    let media = match media_config(cfg) {
        Ok(m) => m,
        Err(code) => return code,
    };
    match Session::new(identity, policy_of(cfg), media) {
        Ok(session) => {
            let handle = Box::new(mlsframe_session {
                inner: Mutex::new(session),
            });
            try_write!(out, Box::into_raw(handle));
            emit(mlsframe_log_level::MLSFRAME_LOG_INFO, "session created");
            MLSFRAME_OK
        }
        Err(e) => e.into(),
    }
}

/// The signature algorithm of the session's identity, an `mlsframe_signature_algorithm`
/// (0x0807 Ed25519, 0x0403 ECDSA P-256): it decides the MLS ciphersuites the session can
/// use. Restored sessions keep their algorithm. `*out` is reset to 0 on entry (see the
/// preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; otherwise
/// `MLSFRAME_OK`, in every state.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_signature_algorithm(
    session: *const mlsframe_session,
    out: *mut u16,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let algorithm = session.lock().identity().algorithm();
        try_write!(out, algorithm.code());
        MLSFRAME_OK
    })
}

/// Restores a session from `mlsframe_session_snapshot` bytes (`config` may be NULL), with
/// the identity's signature algorithm (Ed25519 or P-256) as it was. The
/// restored member processes and decrypts as before; its encryptors return
/// `MLSFRAME_REKEY_REQUIRED` until the group moves to a new epoch (self-update). `*out` is
/// reset to NULL on entry (see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `out` is NULL or `snapshot` NULL
/// with a length; `MLSFRAME_INVALID_ARGUMENT` for `snapshot_len` over `PTRDIFF_MAX`, or
/// `*out` sharing a byte with the snapshot or `*config`; `MLSFRAME_INVALID_CONFIG`;
/// then the snapshot: `MLSFRAME_MLS_MALFORMED` (not a snapshot, truncated, trailing bytes,
/// an unknown signature algorithm or parameters source, a store entry that does not load),
/// `MLSFRAME_MLS_INVALID_PARAMS` (group parameters missing, out of range or
/// contradictory), `MLSFRAME_MLS_INVALID_IDENTITY` (stored ids invalid, or not the
/// store's own leaf, or a ciphersuite of another signature algorithm),
/// `MLSFRAME_MLS_INVALID_SIGNING_KEY` (a P-256 secret that is no valid scalar),
/// `MLSFRAME_MLS_NO_GROUP` (the store holds no group with the snapshot's group id);
/// `MLSFRAME_OK`.
///
/// # Safety
/// `snapshot` valid for its length; `config` NULL or valid; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_restore(
    snapshot: *const u8,
    snapshot_len: usize,
    config: *const mlsframe_session_config,
    out: *mut *mut mlsframe_session,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[Span::bytes(snapshot, snapshot_len), Span::of(config)],
            required: [out],
            optional: [],
        );
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let snapshot = try_slice!(snapshot, snapshot_len);
        try_disjoint!(
            inputs: [Span::bytes(snapshot.as_ptr(), snapshot.len()), Span::of(config)],
            outputs: [Span::of(out.cast_const())],
        );
        let cfg = if config.is_null() {
            None
        } else {
            Some(*try_ref!(config))
        };
        let media = match media_config(cfg.as_ref()) {
            Ok(m) => m,
            Err(code) => return code,
        };
        match Session::restore(snapshot, policy_of(cfg.as_ref()), media) {
            Ok(session) => {
                try_write!(
                    out,
                    Box::into_raw(Box::new(mlsframe_session {
                        inner: Mutex::new(session)
                    }))
                );
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Serializes the session (identity seed and MLS key store) for `mlsframe_session_restore`.
/// The bytes are secret: encrypt them at rest; `mlsframe_buffer_free` wipes the buffer,
/// wipe any copy you make. `*out` is reset to `{NULL, 0}` on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; `MLSFRAME_MLS_NO_GROUP`
/// without a group; `MLSFRAME_MLS_COMMIT_PENDING` while a commit of ours is pending;
/// `MLSFRAME_MLS_NOT_MEMBER` after removal or a policy violation; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_snapshot(
    session: *const mlsframe_session,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_secret(session, out, |s| s.snapshot().map_err(Into::into))
    })
}

/// Frees a session. Its encryptors and decryptors stay valid: encryptors then return
/// `MLSFRAME_NOT_MEMBER`, decryptors open only frames of retained epochs, then `NO_KEY`.
/// NULL is a no-op.
///
/// # Safety
/// `session` is NULL or from `mlsframe_session_new`, not yet freed, and not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_free(session: *mut mlsframe_session) {
    let _ = ffi_guard!({
        if !session.is_null() {
            // SAFETY: from `Box::into_raw` in `mlsframe_session_new`, freed once.
            drop(unsafe { Box::from_raw(session) });
        }
        MLSFRAME_OK
    });
}

/// Runs `f` on the session, writing a byte result into `out` (already reset).
fn with_bytes(
    session: &mlsframe_session,
    out: *mut mlsframe_buffer,
    f: impl FnOnce(&mut Session) -> Result<Vec<u8>, mlsframe_result>,
) -> mlsframe_result {
    if out.is_null() {
        return MLSFRAME_NULL_ARGUMENT;
    }
    let result = f(&mut session.lock());
    match result {
        Ok(bytes) => {
            try_write!(out, mlsframe_buffer::from_vec(bytes));
            MLSFRAME_OK
        }
        Err(code) => code,
    }
}

/// Runs `f` on the session, writing a secret result into `out` (already reset): copied once
/// into a buffer of its exact size, the session's copy wiped; `mlsframe_buffer_free` wipes
/// the buffer.
fn with_secret(
    session: &mlsframe_session,
    out: *mut mlsframe_buffer,
    f: impl FnOnce(&Session) -> Result<Zeroizing<Vec<u8>>, mlsframe_result>,
) -> mlsframe_result {
    if out.is_null() {
        return MLSFRAME_NULL_ARGUMENT;
    }
    let result = f(&session.lock());
    match result {
        Ok(secret) => {
            try_write!(out, mlsframe_buffer::from_secret(secret));
            MLSFRAME_OK
        }
        Err(code) => code,
    }
}

/// A fresh key package (bytes to publish so others can add this device), for the default
/// MLS ciphersuite of the session's identity: 0x0001 for Ed25519, 0x0002 for P-256. For a
/// group of another suite, use `mlsframe_session_key_package_for`. `*out` is reset to
/// `{NULL, 0}` on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; otherwise
/// `MLSFRAME_OK`, in every state.
///
/// # Safety
/// `session` is a live session; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_key_package(
    session: *const mlsframe_session,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_bytes(session, out, |s| s.key_package().map_err(Into::into))
    })
}

/// A fresh key package for the MLS ciphersuite `mls_ciphersuite` (0x0001..=0x0003; see
/// `mlsframe_group_options.mls_ciphersuite`): only groups of that suite can add it.
/// `*out` is reset to `{NULL, 0}` on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL;
/// `MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE` for any other suite code (0 included);
/// `MLSFRAME_MLS_CIPHERSUITE_MISMATCH` for a suite the session's identity cannot sign for
/// (0x0002 with an Ed25519 identity, 0x0001 or 0x0003 with a P-256 one); `MLSFRAME_OK`, in
/// every state.
///
/// # Safety
/// `session` is a live session; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_key_package_for(
    session: *const mlsframe_session,
    mls_ciphersuite: u16,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_bytes(session, out, |s| {
            let suite = MlsCiphersuite::try_from(mls_ciphersuite)?;
            s.key_package_for(suite).map_err(Into::into)
        })
    })
}

/// Creates a new group with this device as its only member, in the default MLS
/// ciphersuite of the session's identity (0x0001 for Ed25519, 0x0002 for P-256).
/// `sframe_suite` 1..=5 (4 is AES-128-GCM), `epoch_bits` E 2..=16 (4 is usual),
/// `plaintext_handshake` true when the delivery service must read commits. These are fixed
/// for the group's life.
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` is NULL; `MLSFRAME_MLS_ALREADY_IN_GROUP`
/// for an active member (even with a commit pending; a removed or terminated session
/// creates a new group); `MLSFRAME_MLS_INVALID_PARAMS` for a suite not 1..=5 or E not
/// 2..=16; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_create_group(
    session: *const mlsframe_session,
    sframe_suite: u16,
    epoch_bits: u8,
    plaintext_handshake: bool,
) -> mlsframe_result {
    ffi_guard!({
        let session = try_ref!(session);
        let params = GroupParams {
            sframe_suite,
            epoch_bits,
            handshake: if plaintext_handshake {
                HandshakeFormat::Plaintext
            } else {
                HandshakeFormat::Ciphertext
            },
        };
        let result = session.lock().create_group(params);
        if result.is_ok() {
            emit(mlsframe_log_level::MLSFRAME_LOG_INFO, "group created");
        }
        result.into()
    })
}

/// Joins from a welcome; writes the joined epoch to `*epoch_out` (`epoch_out` may be NULL;
/// reset to 0 on entry, see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` is NULL or `welcome` NULL
/// with a length; `MLSFRAME_INVALID_ARGUMENT` for `welcome_len` over `PTRDIFF_MAX`, or
/// `*epoch_out` sharing a byte with the welcome; `MLSFRAME_MLS_WELCOME_TOO_LARGE` over 24
/// MiB (not parsed); `MLSFRAME_MLS_ALREADY_IN_GROUP` for an active member (a removed or
/// terminated session joins anew); `MLSFRAME_MLS_MALFORMED` (empty, garbage, truncated);
/// `MLSFRAME_MLS_UNEXPECTED_MESSAGE` (an MLS message that is not a welcome);
/// `MLSFRAME_MLS_INVALID_WELCOME` (not for us, or does not process);
/// `MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE`; `MLSFRAME_MLS_INVALID_PARAMS` (the group's
/// parameters extension out of range); `MLSFRAME_MLS_MISSING_RATCHET_TREE` (a welcome
/// without its tree: use `mlsframe_session_join_with`); `MLSFRAME_MLS_GROUP_FULL` (over
/// 10,000 members); `MLSFRAME_MLS_DUPLICATE_MEMBER` (two leaves of one device);
/// `MLSFRAME_MLS_ADMISSION_REFUSED`; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `welcome` is valid for `welcome_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_join(
    session: *const mlsframe_session,
    welcome: *const u8,
    welcome_len: usize,
    epoch_out: *mut u64,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[Span::bytes(welcome, welcome_len)],
            required: [],
            optional: [epoch_out],
        );
        let session = try_ref!(session);
        let welcome = try_slice!(welcome, welcome_len);
        try_disjoint!(
            inputs: [Span::bytes(welcome.as_ptr(), welcome.len())],
            outputs: [Span::of(epoch_out.cast_const())],
        );
        match session.lock().join(welcome) {
            Ok(epoch) => {
                if !epoch_out.is_null() {
                    try_write!(epoch_out, epoch);
                }
                emit(
                    mlsframe_log_level::MLSFRAME_LOG_INFO,
                    "joined a group from a welcome",
                );
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Creates a new group with this device as its only member, as `*options` says; `options`
/// NULL, or zero-initialized, means the defaults (those of
/// `mlsframe_session_create_group(session, 4, 4, false)`). Set `mls_ciphersuite` for
/// another MLS ciphersuite, `params_source = MLSFRAME_PARAMS_APP` to omit the group
/// context extension that carries the SFrame parameters (so members on other MLS stacks,
/// which lack it, can be added), and `external_senders` for third parties allowed to
/// propose. All of this is fixed for the group's life.
///
/// Codes, in this order: `session` NULL: `MLSFRAME_NULL_ARGUMENT`; the pointers
/// (`external_senders` NULL with a count, an entry's pointer NULL with a length:
/// `MLSFRAME_NULL_ARGUMENT`; a count or length over `PTRDIFF_MAX` bytes:
/// `MLSFRAME_INVALID_ARGUMENT`); the values the C fields encode
/// (`handshake` or `params_source` unknown: `MLSFRAME_INVALID_ARGUMENT`; an unknown
/// `mls_ciphersuite`: `MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE`); then
/// `MLSFRAME_MLS_ALREADY_IN_GROUP`; SFrame suite or E out of range:
/// `MLSFRAME_MLS_INVALID_PARAMS`; a suite the identity cannot sign for:
/// `MLSFRAME_MLS_CIPHERSUITE_MISMATCH`; an external sender whose key is empty or over
/// 1024 bytes, or whose identity is over 65536 bytes: `MLSFRAME_INVALID_ARGUMENT`;
/// `MLSFRAME_OK`. On error the session stays without a group.
///
/// # Safety
/// `session` is a live session; `options` is NULL or readable, its `external_senders`
/// NULL or readable for `external_senders_count` entries, and each entry's pointers NULL
/// or readable for their lengths.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_create_group_with(
    session: *const mlsframe_session,
    options: *const mlsframe_group_options,
) -> mlsframe_result {
    ffi_guard!({
        let session = try_ref!(session);
        if options.is_null() {
            return create_group_result(session.lock().create_group(GroupParams::default()));
        }
        let opts = *try_ref!(options);
        let entries = try_array!(opts.external_senders, opts.external_senders_count);
        let mut external_senders = Vec::with_capacity(entries.len());
        for e in entries {
            let key = try_slice!(e.signature_key, e.signature_key_len);
            let identity = try_slice!(e.identity, e.identity_len);
            external_senders.push((key.to_vec(), identity.to_vec()));
        }
        let params = match opts.params.to_params() {
            Ok(p) => p,
            Err(code) => return code,
        };
        let params_source = match params_source_of(opts.params_source) {
            Ok(source) => source,
            Err(code) => return code,
        };
        let mut s = session.lock();
        let ciphersuite = match ciphersuite_of(opts.mls_ciphersuite, s.default_ciphersuite()) {
            Ok(suite) => suite,
            Err(code) => return code,
        };
        create_group_result(s.create_group_with(&GroupOptions {
            params,
            ciphersuite,
            params_source,
            external_senders,
        }))
    })
}

/// The code of a `create_group_with`: a malformed external sender (the only
/// `InvalidConfig` it returns) is a bad argument, not a session configuration.
fn create_group_result(result: Result<(), MlsError>) -> mlsframe_result {
    match result {
        Ok(()) => {
            emit(mlsframe_log_level::MLSFRAME_LOG_INFO, "group created");
            MLSFRAME_OK
        }
        Err(MlsError::InvalidConfig(_)) => MLSFRAME_INVALID_ARGUMENT,
        Err(e) => e.into(),
    }
}

/// Joins from a welcome, as `mlsframe_session_join` does, for groups shared with other MLS
/// stacks. `ratchet_tree` (NULL or length 0: none) is the group's ratchet tree for a
/// welcome that does not carry it (another stack may send it out of band; from this
/// library, `mlsframe_session_ratchet_tree` of a member in the welcome's epoch). A
/// welcome that carries its tree uses that one: a given tree must then still parse, but
/// is otherwise ignored.
/// `*params` (NULL: the defaults; zero fields: the defaults) are the SFrame parameters to
/// use when the group context has no parameters extension (`MLSFRAME_PARAMS_APP`): every
/// member's application must pass the same ones. A group that carries the extension uses
/// its own, whatever `*params` says (they are still range-checked). Writes the joined
/// epoch to `*epoch_out` (`epoch_out` may be NULL; reset to 0 on entry, see the preamble).
///
/// Codes, in this order: the pointers and overlap (`MLSFRAME_NULL_ARGUMENT` for `session`
/// NULL or an input NULL with a length; `MLSFRAME_INVALID_ARGUMENT` for a length over
/// `PTRDIFF_MAX`, or `*epoch_out` sharing a byte with an input); `params->handshake`
/// (unknown: `MLSFRAME_INVALID_ARGUMENT`); then as `mlsframe_session_join` (welcome size,
/// state), `*params` ranges (suite or E out of range: `MLSFRAME_MLS_INVALID_PARAMS`), the
/// welcome's parse, the tree's size and parse, the welcome itself. Besides
/// `mlsframe_session_join`'s codes: `MLSFRAME_MLS_MISSING_RATCHET_TREE` when neither the
/// welcome nor `ratchet_tree` has a tree; `MLSFRAME_MLS_INVALID_RATCHET_TREE` for a tree
/// that does not parse or is not the group's; a tree over 24 MiB is
/// `MLSFRAME_MLS_WELCOME_TOO_LARGE`; the group's MLS ciphersuite not 0x0001..=0x0003:
/// `MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE`. `*epoch_out` may not overlap the welcome, the
/// tree or `*params` (`MLSFRAME_INVALID_ARGUMENT`). On error the session stays out of the
/// group and the key package the welcome is for stays usable (retry with a tree).
///
/// # Safety
/// `session` is a live session; `welcome` and `ratchet_tree` are NULL or readable for
/// their lengths; `params` is NULL or readable; `epoch_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_join_with(
    session: *const mlsframe_session,
    welcome: *const u8,
    welcome_len: usize,
    ratchet_tree: *const u8,
    ratchet_tree_len: usize,
    params: *const mlsframe_group_params,
    epoch_out: *mut u64,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[
                Span::bytes(welcome, welcome_len),
                Span::bytes(ratchet_tree, ratchet_tree_len),
                Span::of(params),
            ],
            required: [],
            optional: [epoch_out],
        );
        let session = try_ref!(session);
        let welcome = try_slice!(welcome, welcome_len);
        let tree = try_slice!(ratchet_tree, ratchet_tree_len);
        try_disjoint!(
            inputs: [
                Span::bytes(welcome.as_ptr(), welcome.len()),
                Span::bytes(tree.as_ptr(), tree.len()),
                Span::of(params),
            ],
            outputs: [Span::of(epoch_out.cast_const())],
        );
        let app_params = if params.is_null() {
            None
        } else {
            match try_ref!(params).to_params() {
                Ok(p) => Some(p),
                Err(code) => return code,
            }
        };
        let options = JoinOptions {
            ratchet_tree: (!tree.is_empty()).then_some(tree),
            params: app_params,
        };
        match session.lock().join_with(welcome, options) {
            Ok(epoch) => {
                if !epoch_out.is_null() {
                    try_write!(epoch_out, epoch);
                }
                emit(
                    mlsframe_log_level::MLSFRAME_LOG_INFO,
                    "joined a group from a welcome",
                );
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// A signed GroupInfo of the current epoch (an MLSMessage, with the group's ratchet tree
/// and external public key): public data a member publishes through the delivery service
/// so that a device can join, or rejoin after a crash, with
/// `mlsframe_session_join_by_external_commit`. It is valid for this epoch only: publish a
/// fresh one after every epoch change. Anyone holding it can attempt a join; the members'
/// admission callbacks decide.
///
/// `MLSFRAME_MLS_NO_GROUP` without a group; `MLSFRAME_MLS_NOT_MEMBER` after removal;
/// `MLSFRAME_MLS_TERMINATED` after a policy violation; `MLSFRAME_MLS_COMMIT_PENDING` while
/// our own external join awaits confirmation (a member's ordinary pending commit does not
/// stop it: the group info is then the current epoch's);
/// `MLSFRAME_MLS_GROUP_INFO_TOO_LARGE` over 24 MiB; `MLSFRAME_NULL_ARGUMENT` when `session`
/// or `out` is NULL; `MLSFRAME_OK`. `*out` is reset to `{NULL, 0}` on entry (see the
/// preamble).
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_group_info(
    session: *const mlsframe_session,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_bytes(session, out, |s| s.group_info().map_err(Into::into))
    })
}

/// Joins the group `group_info` describes (from `mlsframe_session_group_info` of a member,
/// or another MLS stack's GroupInfo) by external commit: as a new device, or as this device
/// again after a crash (a session with the same identity secret: the commit also removes
/// the device's old leaf). `ratchet_tree` (NULL or length 0: none) is needed only when the
/// group info carries no tree (this library's always do); when it carries one, a given
/// tree is ignored, not even parsed. `*params` (NULL or zero fields: the defaults) are the
/// SFrame parameters for a group without the parameters extension, as in
/// `mlsframe_session_join_with`. Every existing member goes to the admission callback,
/// except our own old leaf.
///
/// On success `*commit_out` is the commit to send to the group and `*epoch_out` (may be
/// NULL) the epoch it makes. The commit is then our pending commit: confirm it with
/// `mlsframe_session_confirm_commit` when the delivery service accepts it (the others
/// process it as `MLSFRAME_OUTCOME_EPOCH_CHANGED`), or drop the joined group with
/// `mlsframe_session_discard_commit` when it is refused or loses a race (then fetch a fresh
/// group info and join again: the winning commit cannot be processed from outside).
/// Until then `mlsframe_session_process` refuses other messages
/// (`MLSFRAME_MLS_COMMIT_PENDING`), encryptors return `MLSFRAME_NOT_MEMBER`, and
/// decryptors already open the new epoch's frames. External commits travel as MLS
/// `PublicMessage`s whatever the group's handshake format.
///
/// Codes, in this order: the pointers (`session` or `commit_out` NULL, an input NULL with a
/// length: `MLSFRAME_NULL_ARGUMENT`; a length over `PTRDIFF_MAX`:
/// `MLSFRAME_INVALID_ARGUMENT`) and overlap (`*commit_out` or `*epoch_out` over the group
/// info, the tree, `*params` or each other: `MLSFRAME_INVALID_ARGUMENT`);
/// `params->handshake` (unknown: `MLSFRAME_INVALID_ARGUMENT`); `*params` ranges
/// (`MLSFRAME_MLS_INVALID_PARAMS`); the group info or tree over 24 MiB
/// (`MLSFRAME_MLS_GROUP_INFO_TOO_LARGE`, unparsed); already an active member, even with a
/// commit pending (`MLSFRAME_MLS_ALREADY_IN_GROUP`); the group info's parse
/// (`MLSFRAME_MLS_MALFORMED`; a well-formed message that is not a group info:
/// `MLSFRAME_MLS_UNEXPECTED_MESSAGE`); its MLS ciphersuite (not 0x0001..=0x0003:
/// `MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE`; one the identity cannot sign for:
/// `MLSFRAME_MLS_CIPHERSUITE_MISMATCH`); a given tree's parse, when the group info has no
/// tree of its own (`MLSFRAME_MLS_INVALID_RATCHET_TREE`; no tree in either place:
/// `MLSFRAME_MLS_MISSING_RATCHET_TREE`); then the group info itself (bad signature, tree or
/// external key: `MLSFRAME_MLS_INVALID_GROUP_INFO`), and the group as a joiner vets it
/// (`MLSFRAME_MLS_GROUP_FULL`; `MLSFRAME_MLS_DUPLICATE_MEMBER` when two leaves claim one
/// device or this device is in the group under another key; `MLSFRAME_MLS_INVALID_IDENTITY`
/// when our key sits in another identity's leaf; `MLSFRAME_MLS_ADMISSION_REFUSED`); the
/// commit over 2 MiB (`MLSFRAME_MLS_MESSAGE_TOO_LARGE`); `MLSFRAME_OK`. `*commit_out` and
/// `*epoch_out` are reset (`{NULL, 0}`, 0) on entry (see the preamble). On error the
/// session is unchanged; a removed or terminated session may join this way (its ended group
/// is discarded once the commit is built).
///
/// # Safety
/// `session` is a live session; `group_info` and `ratchet_tree` are NULL or readable for
/// their lengths; `params` is NULL or readable; `commit_out` is writable; `epoch_out` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_join_by_external_commit(
    session: *const mlsframe_session,
    group_info: *const u8,
    group_info_len: usize,
    ratchet_tree: *const u8,
    ratchet_tree_len: usize,
    params: *const mlsframe_group_params,
    commit_out: *mut mlsframe_buffer,
    epoch_out: *mut u64,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[
                Span::bytes(group_info, group_info_len),
                Span::bytes(ratchet_tree, ratchet_tree_len),
                Span::of(params),
            ],
            required: [commit_out],
            optional: [epoch_out],
        );
        let session = try_ref!(session);
        let info = try_slice!(group_info, group_info_len);
        let tree = try_slice!(ratchet_tree, ratchet_tree_len);
        if commit_out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        try_disjoint!(
            inputs: [
                Span::bytes(info.as_ptr(), info.len()),
                Span::bytes(tree.as_ptr(), tree.len()),
                Span::of(params),
            ],
            outputs: [Span::of(commit_out.cast_const()), Span::of(epoch_out.cast_const())],
        );
        let app_params = if params.is_null() {
            None
        } else {
            match try_ref!(params).to_params() {
                Ok(p) => Some(p),
                Err(code) => return code,
            }
        };
        let options = JoinOptions {
            ratchet_tree: (!tree.is_empty()).then_some(tree),
            params: app_params,
        };
        let result = session.lock().join_by_external_commit(info, options);
        match result {
            Ok(out) => {
                try_write!(commit_out, mlsframe_buffer::from_vec(out.commit));
                if !epoch_out.is_null() {
                    try_write!(epoch_out, out.epoch);
                }
                emit(
                    mlsframe_log_level::MLSFRAME_LOG_INFO,
                    "external commit created: pending until confirmed",
                );
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// Writes a commit's outputs (already reset): `commit_out` always, `welcome_out` (may be
/// NULL) when members were added. `inputs` are the caller memory `f` reads: neither output
/// may overlap them or each other (`INVALID_ARGUMENT`).
fn commit_outputs(
    session: &mlsframe_session,
    inputs: &[Span],
    commit_out: *mut mlsframe_buffer,
    welcome_out: *mut mlsframe_buffer,
    f: impl FnOnce(
        &mut Session,
    ) -> Result<crate::mls::session::CommitOutput, crate::mls::error::MlsError>,
) -> mlsframe_result {
    if commit_out.is_null() {
        return MLSFRAME_NULL_ARGUMENT;
    }
    if !disjoint(
        inputs,
        &[
            Span::of(commit_out.cast_const()),
            Span::of(welcome_out.cast_const()),
        ],
    ) {
        return MLSFRAME_INVALID_ARGUMENT;
    }
    let result = f(&mut session.lock());
    match result {
        Ok(out) if out.welcome.is_some() && welcome_out.is_null() => {
            // The commit also adds members (stored Add proposals it covers), but this call
            // has nowhere to return their welcome: drop the commit rather than add members
            // who could never join. `commit_pending_proposals` returns the welcome.
            if session.lock().discard_pending_commit().is_err() {
                return MLSFRAME_INTERNAL;
            }
            MLSFRAME_INVALID_ARGUMENT
        }
        Ok(out) => {
            try_write!(commit_out, mlsframe_buffer::from_vec(out.commit));
            if let Some(welcome) = out.welcome
                && !welcome_out.is_null()
            {
                try_write!(welcome_out, mlsframe_buffer::from_vec(welcome));
            }
            MLSFRAME_OK
        }
        Err(e) => e.into(),
    }
}

/// Adds the members whose key packages are given (`count` pointers and lengths) in one
/// commit. The commit is pending until `mlsframe_session_confirm_commit` (the delivery
/// service accepted it) or a competing commit arrives. Send `commit_out` to the group and
/// `welcome_out` to the new members. Both are reset to `{NULL, 0}` on entry (see the
/// preamble); nothing changes on error.
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` or `commit_out` is NULL,
/// an array NULL with `count` > 0, or an entry NULL with a length;
/// `MLSFRAME_INVALID_ARGUMENT` for `count` over `PTRDIFF_MAX / 16` or a length over
/// `PTRDIFF_MAX`, or an output sharing a byte with a key package, either array or the
/// other output; `MLSFRAME_MLS_MALFORMED` for `count` 0; the state
/// (`MLSFRAME_MLS_NO_GROUP`, `MLSFRAME_MLS_COMMIT_PENDING`, `MLSFRAME_MLS_NOT_MEMBER`,
/// `MLSFRAME_MLS_TERMINATED`); then the key packages: `MLSFRAME_MLS_KEY_PACKAGE_TOO_LARGE`
/// (over 64 KiB, not parsed), `MLSFRAME_MLS_MALFORMED` (empty, garbage),
/// `MLSFRAME_MLS_UNEXPECTED_MESSAGE` (an MLS message that is not a key package),
/// `MLSFRAME_MLS_INVALID_KEY_PACKAGE`, `MLSFRAME_MLS_CIPHERSUITE_MISMATCH` (another MLS
/// ciphersuite than the group's), `MLSFRAME_MLS_MISSING_CAPABILITY`,
/// `MLSFRAME_MLS_DUPLICATE_MEMBER`, `MLSFRAME_MLS_ADMISSION_REFUSED`,
/// `MLSFRAME_MLS_GROUP_FULL` (past 10,000 members); `MLSFRAME_INVALID_ARGUMENT` when
/// `welcome_out` is NULL (the commit is dropped: its new members could never join);
/// `MLSFRAME_OK`.
///
/// # Safety
/// `key_packages` and `key_package_lens` hold `count` entries; each pointer is valid for
/// its length. Out-pointers are writable (`welcome_out` may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_add_members(
    session: *const mlsframe_session,
    key_packages: *const *const u8,
    key_package_lens: *const usize,
    count: usize,
    commit_out: *mut mlsframe_buffer,
    welcome_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        // SAFETY: the arrays' contract is this export's.
        let inputs = unsafe { key_package_spans(key_packages, key_package_lens, count) };
        reset_outputs!(inputs: &inputs, required: [commit_out], optional: [welcome_out]);
        let session = try_ref!(session);
        let ptrs = try_slice_of!(key_packages, count);
        let lens = try_slice_of!(key_package_lens, count);
        let mut kps = Vec::with_capacity(count);
        let mut inputs = Vec::with_capacity(count + 2);
        inputs.push(Span::array(ptrs.as_ptr(), ptrs.len()));
        inputs.push(Span::array(lens.as_ptr(), lens.len()));
        for (&p, &l) in ptrs.iter().zip(lens) {
            let kp = try_slice!(p, l);
            inputs.push(Span::bytes(kp.as_ptr(), kp.len()));
            kps.push(kp);
        }
        commit_outputs(session, &inputs, commit_out, welcome_out, |s| {
            s.add_members(&kps)
        })
    })
}

/// The caller memory `add_members` reads, as far as it is known before any check: the two
/// arrays and, when both are readable for `count` entries, every key package they name.
///
/// # Safety
/// `ptrs` and `lens` are NULL or readable for `count` entries.
unsafe fn key_package_spans(ptrs: *const *const u8, lens: *const usize, count: usize) -> Vec<Span> {
    let mut spans = vec![Span::array(ptrs, count), Span::array(lens, count)];
    if !ptrs.is_null() && !lens.is_null() && count <= KEY_PACKAGES_MAX {
        // SAFETY: non-NULL, readable for `count` entries (the caller's guarantee), and at
        // most `isize::MAX` bytes each; nothing writes them during the call.
        let (ptrs, lens) = unsafe {
            (
                std::slice::from_raw_parts(ptrs, count),
                std::slice::from_raw_parts(lens, count),
            )
        };
        spans.extend(ptrs.iter().zip(lens).map(|(&p, &l)| Span::bytes(p, l)));
    }
    spans
}

/// The most key packages one call takes (so that each array stays within `isize::MAX`
/// bytes whatever its element size).
const KEY_PACKAGES_MAX: usize = (isize::MAX as usize) / 16;

/// A typed slice of `count` elements; NULL with count 0 is empty.
macro_rules! try_slice_of {
    ($ptr:expr, $count:expr) => {{
        let (ptr, count) = ($ptr, $count);
        if ptr.is_null() {
            if count != 0 {
                return MLSFRAME_NULL_ARGUMENT;
            }
            &[][..]
        } else {
            if count > KEY_PACKAGES_MAX {
                return MLSFRAME_INVALID_ARGUMENT;
            }
            // SAFETY: non-NULL; the caller guarantees `count` readable elements.
            unsafe { std::slice::from_raw_parts(ptr, count) }
        }
    }};
}
use try_slice_of;

/// Removes the member at `leaf` (see the roster) in a new pending commit. `*commit_out` is
/// reset to `{NULL, 0}` on entry (see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` or `commit_out` is NULL;
/// the state (`MLSFRAME_MLS_NO_GROUP`, `MLSFRAME_MLS_COMMIT_PENDING`,
/// `MLSFRAME_MLS_NOT_MEMBER` after removal, `MLSFRAME_MLS_TERMINATED` after a policy
/// violation); `MLSFRAME_MLS_CANNOT_REMOVE_SELF` for our own leaf;
/// `MLSFRAME_MLS_UNKNOWN_MEMBER` for a leaf no member holds; `MLSFRAME_INVALID_ARGUMENT`
/// when stored proposals would add members (this call has no welcome output: use
/// `mlsframe_session_commit_pending_proposals`); `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `commit_out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_remove_member(
    session: *const mlsframe_session,
    leaf: u32,
    commit_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [commit_out], optional: []);
        let session = try_ref!(session);
        commit_outputs(session, &[], commit_out, std::ptr::null_mut(), |s| {
            s.remove_members(&[leaf])
        })
    })
}

/// Removes every device of `user_id` in a new pending commit. `*commit_out` is reset to
/// `{NULL, 0}` on entry (see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` or `commit_out` is NULL,
/// or `user_id` NULL with a length; `MLSFRAME_INVALID_ARGUMENT` for `user_id_len` over
/// `PTRDIFF_MAX`, or `*commit_out` sharing a byte with the user id; the state
/// (`MLSFRAME_MLS_NO_GROUP`, `MLSFRAME_MLS_COMMIT_PENDING`, `MLSFRAME_MLS_NOT_MEMBER` after
/// removal, `MLSFRAME_MLS_TERMINATED` after a policy violation);
/// `MLSFRAME_MLS_UNKNOWN_MEMBER` when no device of that user is in the group (the empty
/// user id included); `MLSFRAME_MLS_CANNOT_REMOVE_SELF` for our own user id;
/// `MLSFRAME_INVALID_ARGUMENT` when stored proposals would add members (this call has no
/// welcome output: use `mlsframe_session_commit_pending_proposals`); `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `user_id` valid for its length; `commit_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_remove_user(
    session: *const mlsframe_session,
    user_id: *const u8,
    user_id_len: usize,
    commit_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[Span::bytes(user_id, user_id_len)],
            required: [commit_out],
            optional: [],
        );
        let session = try_ref!(session);
        let user = try_slice!(user_id, user_id_len);
        let inputs = [Span::bytes(user.as_ptr(), user.len())];
        commit_outputs(session, &inputs, commit_out, std::ptr::null_mut(), |s| {
            s.remove_user(user)
        })
    })
}

/// Refreshes our own keys (post-compromise security) in a new pending commit. Like the
/// remove calls, it also covers stored proposals; if those add members, this call (which
/// has no welcome output) commits nothing and returns `MLSFRAME_INVALID_ARGUMENT`: use
/// `mlsframe_session_commit_pending_proposals`, which returns the welcome. `*commit_out`
/// is reset to `{NULL, 0}` on entry (see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` or `commit_out` is NULL;
/// the state (`MLSFRAME_MLS_NO_GROUP`, `MLSFRAME_MLS_COMMIT_PENDING`,
/// `MLSFRAME_MLS_NOT_MEMBER` after removal, `MLSFRAME_MLS_TERMINATED` after a policy
/// violation); `MLSFRAME_INVALID_ARGUMENT` when stored proposals would add members (this
/// call has no welcome output: use `mlsframe_session_commit_pending_proposals`);
/// `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `commit_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_self_update(
    session: *const mlsframe_session,
    commit_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [commit_out], optional: []);
        let session = try_ref!(session);
        commit_outputs(session, &[], commit_out, std::ptr::null_mut(), |s| {
            s.self_update()
        })
    })
}

/// Commits all pending proposals (for example a member's leave). Send `*commit_out` to the
/// group and, when the proposals add members, `*welcome_out` to them (`welcome_out` may be
/// NULL when no proposal adds anyone). Both are reset to `{NULL, 0}` on entry (see the
/// preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` or `commit_out` is NULL;
/// `MLSFRAME_INVALID_ARGUMENT` when the two outputs share a byte; the state
/// (`MLSFRAME_MLS_NO_GROUP`, `MLSFRAME_MLS_COMMIT_PENDING`, `MLSFRAME_MLS_NOT_MEMBER` after
/// removal, `MLSFRAME_MLS_TERMINATED` after a policy violation); `MLSFRAME_MLS_MALFORMED`
/// when no proposal is stored; `MLSFRAME_MLS_CANNOT_REMOVE_SELF` when a stored proposal
/// removes us; `MLSFRAME_INVALID_ARGUMENT` when the proposals add members and `welcome_out`
/// is NULL (the commit is dropped); `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `commit_out` writable; `welcome_out` writable or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_commit_pending_proposals(
    session: *const mlsframe_session,
    commit_out: *mut mlsframe_buffer,
    welcome_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [commit_out], optional: [welcome_out]);
        let session = try_ref!(session);
        commit_outputs(session, &[], commit_out, welcome_out, |s| {
            s.commit_pending_proposals()
        })
    })
}

/// Asks to leave: a remove proposal for the group that another member must commit.
/// `*proposal_out` is reset to `{NULL, 0}` on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `proposal_out` is NULL; the state
/// (`MLSFRAME_MLS_NO_GROUP`, `MLSFRAME_MLS_COMMIT_PENDING`, `MLSFRAME_MLS_NOT_MEMBER` after
/// removal, `MLSFRAME_MLS_TERMINATED` after a policy violation); `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `proposal_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_leave(
    session: *const mlsframe_session,
    proposal_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [proposal_out], optional: []);
        let session = try_ref!(session);
        with_bytes(session, proposal_out, |s| s.leave().map_err(Into::into))
    })
}

/// Our pending commit was accepted by the delivery service: merge it (new epoch).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` is NULL; `MLSFRAME_MLS_NO_GROUP` without
/// a group; `MLSFRAME_MLS_NO_PENDING_COMMIT` when no commit of ours is pending (also after
/// removal or a policy violation); `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_confirm_commit(
    session: *const mlsframe_session,
) -> mlsframe_result {
    ffi_guard!({
        let session = try_ref!(session);
        let result = session.lock().confirm_own_commit();
        if result.is_ok() {
            emit(
                mlsframe_log_level::MLSFRAME_LOG_INFO,
                "own commit merged: epoch changed",
            );
        }
        result.into()
    })
}

/// Drops our pending commit (the delivery service refused it, or another commit won).
///
/// Codes: as `mlsframe_session_confirm_commit`.
///
/// # Safety
/// `session` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_discard_commit(
    session: *const mlsframe_session,
) -> mlsframe_result {
    ffi_guard!({
        let session = try_ref!(session);
        session.lock().discard_pending_commit().into()
    })
}

/// Tells the session's encryptors that all receivers have the new epoch, so they switch
/// now rather than after `send_switch_delay_ms`.
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` is NULL; otherwise `MLSFRAME_OK`, in
/// every state.
///
/// # Safety
/// `session` is a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_receivers_ready(
    session: *const mlsframe_session,
) -> mlsframe_result {
    ffi_guard!({
        let session = try_ref!(session);
        session.lock().media().receivers_ready();
        MLSFRAME_OK
    })
}

/// What an incoming MLS message meant.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mlsframe_outcome_kind {
    /// No outcome: what a failed `mlsframe_session_process` leaves (the reset value).
    MLSFRAME_OUTCOME_NONE = 0,
    /// A commit was merged: new epoch (ask encoders for a key frame).
    MLSFRAME_OUTCOME_EPOCH_CHANGED = 1,
    /// A proposal was stored: some member should commit pending proposals.
    MLSFRAME_OUTCOME_PROPOSALS_PENDING = 2,
    /// We were removed. Terminal.
    MLSFRAME_OUTCOME_REMOVED = 3,
    /// A sequenced commit violated the admission policy. Terminal: leave or rejoin.
    MLSFRAME_OUTCOME_POLICY_VIOLATION = 4,
    /// Nothing to do (application message or our own echo).
    MLSFRAME_OUTCOME_IGNORED = 5,
}

/// The outcome of `mlsframe_session_process`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mlsframe_outcome {
    /// What happened.
    pub kind: mlsframe_outcome_kind,
    /// The session's epoch after the message.
    pub epoch: u64,
    /// Members added by a merged commit.
    pub added: u32,
    /// Members removed by a merged commit.
    pub removed: u32,
}

// SAFETY: integers, and a `kind` whose 0 is `MLSFRAME_OUTCOME_NONE`.
unsafe impl Reset for mlsframe_outcome {}

/// Processes any incoming MLS message (commit, proposal, our own commit echoed by the
/// delivery service). On error the group state is unchanged. Messages over 2 MiB are
/// refused unparsed (`MLSFRAME_MLS_MESSAGE_TOO_LARGE`); a proposal already pending is not
/// stored again (`MLSFRAME_MLS_DUPLICATE_PROPOSAL`, harmless); at most 256 proposals
/// (256 KiB) wait for a commit (`MLSFRAME_MLS_TOO_MANY_PROPOSALS`). A commit that breaks
/// the admission policy is not an error: `MLSFRAME_OK` with
/// `MLSFRAME_OUTCOME_POLICY_VIOLATION`. `*out` is reset to all zero
/// (`MLSFRAME_OUTCOME_NONE`) on entry (see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL or
/// `message` NULL with a length; `MLSFRAME_INVALID_ARGUMENT` for `message_len` over
/// `PTRDIFF_MAX`, or `*out` sharing a byte with the message;
/// `MLSFRAME_MLS_MESSAGE_TOO_LARGE` (not parsed); the state (`MLSFRAME_MLS_NO_GROUP`,
/// `MLSFRAME_MLS_NOT_MEMBER` after removal, `MLSFRAME_MLS_TERMINATED` after a policy
/// violation, `MLSFRAME_MLS_COMMIT_PENDING` while our external join awaits confirmation);
/// `MLSFRAME_MLS_MALFORMED`; `MLSFRAME_MLS_UNEXPECTED_MESSAGE` (not a handshake message);
/// `MLSFRAME_MLS_WRONG_GROUP`; `MLSFRAME_MLS_WRONG_EPOCH` (an old commit, or the same one
/// twice); `MLSFRAME_MLS_WIRE_FORMAT`; `MLSFRAME_MLS_REJECTED` (fails MLS validation);
/// `MLSFRAME_MLS_UNSUPPORTED_PROPOSAL`; `MLSFRAME_MLS_PARAMS_CHANGE_REFUSED`;
/// `MLSFRAME_MLS_INVALID_IDENTITY`; `MLSFRAME_MLS_ADMISSION_REFUSED` (a proposal);
/// `MLSFRAME_MLS_UNAUTHORIZED_EXTERNAL_SENDER`; `MLSFRAME_MLS_DUPLICATE_PROPOSAL`;
/// `MLSFRAME_MLS_TOO_MANY_PROPOSALS`; `MLSFRAME_MLS_GROUP_FULL`; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `message` valid for its length; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_process(
    session: *const mlsframe_session,
    message: *const u8,
    message_len: usize,
    out: *mut mlsframe_outcome,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[Span::bytes(message, message_len)],
            required: [out],
            optional: [],
        );
        let session = try_ref!(session);
        let message = try_slice!(message, message_len);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        try_disjoint!(
            inputs: [Span::bytes(message.as_ptr(), message.len())],
            outputs: [Span::of(out.cast_const())],
        );
        let mut s = session.lock();
        let outcome = match s.process(message) {
            Ok(o) => o,
            Err(e) => return e.into(),
        };
        let epoch = s.epoch().unwrap_or(0);
        let count = |v: &Vec<_>| u32::try_from(v.len()).unwrap_or(u32::MAX);
        let (kind, added, removed) = match &outcome {
            Outcome::EpochChanged { added, removed, .. } => {
                emit(mlsframe_log_level::MLSFRAME_LOG_INFO, "epoch changed");
                (
                    mlsframe_outcome_kind::MLSFRAME_OUTCOME_EPOCH_CHANGED,
                    count(added),
                    count(removed),
                )
            }
            Outcome::ProposalsPending => (
                mlsframe_outcome_kind::MLSFRAME_OUTCOME_PROPOSALS_PENDING,
                0,
                0,
            ),
            Outcome::Removed => {
                emit(
                    mlsframe_log_level::MLSFRAME_LOG_WARN,
                    "removed from the group",
                );
                (mlsframe_outcome_kind::MLSFRAME_OUTCOME_REMOVED, 0, 0)
            }
            Outcome::PolicyViolation { .. } => {
                emit(
                    mlsframe_log_level::MLSFRAME_LOG_ERROR,
                    "incoming commit violated the admission policy",
                );
                (
                    mlsframe_outcome_kind::MLSFRAME_OUTCOME_POLICY_VIOLATION,
                    0,
                    0,
                )
            }
            _ => (mlsframe_outcome_kind::MLSFRAME_OUTCOME_IGNORED, 0, 0),
        };
        try_write!(
            out,
            mlsframe_outcome {
                kind,
                epoch,
                added,
                removed
            }
        );
        MLSFRAME_OK
    })
}

/// The current epoch and our leaf index, written to `*epoch_out` and `*own_leaf_out`
/// (either may be NULL; both reset to 0 on entry, see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` is NULL; `MLSFRAME_INVALID_ARGUMENT`
/// when the two outputs share a byte; `MLSFRAME_MLS_NOT_MEMBER` after removal or a policy
/// violation; `MLSFRAME_MLS_NO_GROUP` without a group; `MLSFRAME_OK` (a commit of ours
/// pending: the current epoch).
///
/// # Safety
/// `session` is a live session; out-pointers writable (either may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_epoch(
    session: *const mlsframe_session,
    epoch_out: *mut u64,
    own_leaf_out: *mut u32,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [], optional: [epoch_out, own_leaf_out]);
        let session = try_ref!(session);
        try_disjoint!(
            inputs: [],
            outputs: [Span::of(epoch_out.cast_const()), Span::of(own_leaf_out.cast_const())],
        );
        let s = session.lock();
        if s.epoch().is_some() && !s.is_active() {
            return MLSFRAME_MLS_NOT_MEMBER;
        }
        let (Some(epoch), Some(leaf)) = (s.epoch(), s.own_leaf()) else {
            return MLSFRAME_MLS_NO_GROUP;
        };
        if !epoch_out.is_null() {
            try_write!(epoch_out, epoch);
        }
        if !own_leaf_out.is_null() {
            try_write!(own_leaf_out, leaf);
        }
        MLSFRAME_OK
    })
}

/// The group's MLS ciphersuite (0x0001..=0x0003); after removal, the last group's. `*out`
/// is reset to 0 on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; `MLSFRAME_MLS_NO_GROUP`
/// without a group; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_ciphersuite(
    session: *const mlsframe_session,
    out: *mut u16,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let Some(suite) = session.lock().ciphersuite() else {
            return MLSFRAME_MLS_NO_GROUP;
        };
        try_write!(out, suite.code());
        MLSFRAME_OK
    })
}

/// The group's SFrame parameters as they are in use (no zero fields), and where they come
/// from (an `mlsframe_params_source`: `MLSFRAME_PARAMS_GROUP_CONTEXT` when the group
/// context carries them, `MLSFRAME_PARAMS_APP` when the applications agreed them). Either
/// out-pointer may be NULL; both are reset to all zero on entry (see the preamble). After
/// removal, the last group's.
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` is NULL; `MLSFRAME_INVALID_ARGUMENT`
/// when the two outputs share a byte; `MLSFRAME_MLS_NO_GROUP` without a group;
/// `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; out-pointers NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_params(
    session: *const mlsframe_session,
    params_out: *mut mlsframe_group_params,
    params_source_out: *mut u32,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [], optional: [params_out, params_source_out]);
        let session = try_ref!(session);
        try_disjoint!(
            inputs: [],
            outputs: [
                Span::of(params_out.cast_const()),
                Span::of(params_source_out.cast_const()),
            ],
        );
        let s = session.lock();
        let (Some(params), Some(source)) = (s.params(), s.params_source()) else {
            return MLSFRAME_MLS_NO_GROUP;
        };
        if !params_out.is_null() {
            try_write!(params_out, mlsframe_group_params::of(params));
        }
        if !params_source_out.is_null() {
            try_write!(params_source_out, params_source_value(source));
        }
        MLSFRAME_OK
    })
}

/// The current epoch's ratchet tree (TLS-encoded, RFC 9420 section 12.4.3.3): public
/// data, for a joiner whose welcome does not carry the tree (`ratchet_tree` of
/// `mlsframe_session_join_with`). A welcome is for the epoch its commit makes, so take the
/// tree after `mlsframe_session_confirm_commit`. After removal, the last epoch's tree.
/// `*out` is reset to `{NULL, 0}` on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; `MLSFRAME_MLS_NO_GROUP`
/// without a group; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_ratchet_tree(
    session: *const mlsframe_session,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_bytes(session, out, |s| s.ratchet_tree().map_err(Into::into))
    })
}

/// The epoch's security code (NUL-free ASCII digits in groups of five, e.g.
/// "12345 67890 …"), identical at every member; compare it out of band. `*out` is reset
/// to `{NULL, 0}` on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; `MLSFRAME_MLS_NO_GROUP`
/// without a group; `MLSFRAME_MLS_NOT_MEMBER` after removal or a policy violation;
/// `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_security_code(
    session: *const mlsframe_session,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_bytes(session, out, |s| {
            s.security_code()
                .map(String::into_bytes)
                .map_err(Into::into)
        })
    })
}

/// The current epoch's epoch authenticator (RFC 9420 section 8.7), identical at every
/// member of the epoch, for an app's own verification. **Confidential**: derived from the
/// key schedule; never log or send it in full: compare a hash of it, or the security
/// code. `mlsframe_buffer_free` wipes it. `*out` is reset to `{NULL, 0}` on entry (see
/// the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; `MLSFRAME_MLS_NO_GROUP`
/// without a group; `MLSFRAME_MLS_NOT_MEMBER` after removal or a policy violation;
/// `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_epoch_authenticator(
    session: *const mlsframe_session,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_secret(session, out, |s| {
            s.epoch_authenticator().map_err(Into::into)
        })
    })
}

/// An MLS exporter value of the current epoch (RFC 9420 section 8.5):
/// `MLS-Exporter(label, context, length)`, identical at every member of the epoch.
/// **Secret**: a key for whatever the app keys with it; `mlsframe_buffer_free` wipes it.
/// Choose a label of your own (`"SFrame 1.0 Base Key"` with an empty context is the
/// epoch's SFrame base key). `label` is UTF-8 (`label_len` bytes, not NUL-terminated;
/// NULL with 0 is the empty label); `context` any bytes; `length` 1..=8160 bytes.
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL, or
/// `label` or `context` NULL with a length; `MLSFRAME_INVALID_ARGUMENT` for a length over
/// `PTRDIFF_MAX`, or `*out` sharing a byte with the label or the context; invalid UTF-8
/// in the label: `MLSFRAME_INVALID_ARGUMENT`; then `MLSFRAME_MLS_NO_GROUP` without a
/// group, `MLSFRAME_MLS_NOT_MEMBER` after removal or a policy violation; then `length` 0
/// or over 8160: `MLSFRAME_INVALID_ARGUMENT`; `MLSFRAME_OK`. `*out` is reset to
/// `{NULL, 0}` on entry (see the preamble).
///
/// # Safety
/// `session` is a live session; `label` and `context` NULL or readable for their lengths;
/// `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_export_secret(
    session: *const mlsframe_session,
    label: *const u8,
    label_len: usize,
    context: *const u8,
    context_len: usize,
    length: usize,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[Span::bytes(label, label_len), Span::bytes(context, context_len)],
            required: [out],
            optional: [],
        );
        let session = try_ref!(session);
        let label = try_slice!(label, label_len);
        let context = try_slice!(context, context_len);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        try_disjoint!(
            inputs: [
                Span::bytes(label.as_ptr(), label.len()),
                Span::bytes(context.as_ptr(), context.len()),
            ],
            outputs: [Span::of(out.cast_const())],
        );
        let Ok(label) = std::str::from_utf8(label) else {
            return MLSFRAME_INVALID_ARGUMENT;
        };
        with_secret(session, out, |s| {
            s.export_secret(label, context, length)
                .map_err(|e| match e {
                    // The only configuration an export has is its length.
                    MlsError::InvalidConfig(_) => MLSFRAME_INVALID_ARGUMENT,
                    e => e.into(),
                })
        })
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The roster as text, one member per line, users in order of their lowest leaf and each
/// user's devices together, six tab-separated columns:
/// `leaf<TAB>user_id<TAB>device_id<TAB>fingerprint<TAB>credential_type<TAB>foreign_credential\n`.
/// `leaf` and `credential_type` (1 = basic) are decimal; `fingerprint` is the signature
/// key's (hex in space-separated groups of four); `user_id`, `device_id` and
/// `foreign_credential` are lowercase hex. For an mlsframe identity, `user_id` is never
/// empty, `device_id` may be, and `foreign_credential` is empty. For a member on another
/// MLS stack, `user_id` and `device_id` are empty and `foreign_credential` holds its raw
/// credential content: an empty `user_id` column is how to tell it apart. Never compare a
/// foreign credential with a user id. `*out` is reset to `{NULL, 0}` on entry (see the
/// preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; `MLSFRAME_MLS_NO_GROUP`
/// without a group; `MLSFRAME_OK` (after removal, the last epoch's roster).
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_roster(
    session: *const mlsframe_session,
    out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        with_bytes(session, out, |s| {
            let roster = s.roster().map_err(mlsframe_result::from)?;
            let mut text = String::new();
            for user in roster {
                for d in user.devices {
                    let (u, dev, foreign) = match &d.identity {
                        Some(id) => (hex(&id.user_id), hex(&id.device_id), String::new()),
                        None => (String::new(), String::new(), hex(&d.credential.content)),
                    };
                    text.push_str(&format!(
                        "{}\t{u}\t{dev}\t{}\t{}\t{foreign}\n",
                        d.leaf, d.fingerprint, d.credential.credential_type
                    ));
                }
            }
            Ok(text.into_bytes())
        })
    })
}

/// The user id and device id of the member at `leaf` in the *current* epoch.
/// `MLSFRAME_MLS_UNKNOWN_MEMBER` when no member holds the leaf;
/// `MLSFRAME_MLS_FOREIGN_CREDENTIAL` when its credential is not an mlsframe identity (a
/// member on another MLS stack: read it with `mlsframe_session_member_credential`). Both
/// buffers are reset to `{NULL, 0}` on entry (see the preamble). To credit a decrypted
/// frame, use `mlsframe_decryptor_sender_identity` instead: it resolves the leaf in the
/// frame's own epoch.
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session`, `user_id_out` or
/// `device_id_out` is NULL; `MLSFRAME_INVALID_ARGUMENT` when the two outputs share a byte;
/// `MLSFRAME_MLS_NO_GROUP` without a group; `MLSFRAME_MLS_UNKNOWN_MEMBER`;
/// `MLSFRAME_MLS_FOREIGN_CREDENTIAL`; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_member_identity(
    session: *const mlsframe_session,
    leaf: u32,
    user_id_out: *mut mlsframe_buffer,
    device_id_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[],
            required: [user_id_out, device_id_out],
            optional: [],
        );
        let session = try_ref!(session);
        if user_id_out.is_null() || device_id_out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        try_disjoint!(
            inputs: [],
            outputs: [Span::of(user_id_out.cast_const()), Span::of(device_id_out.cast_const())],
        );
        let members = match session.lock().members() {
            Ok(m) => m,
            Err(e) => return e.into(),
        };
        let Some(m) = members.into_iter().find(|m| m.leaf == leaf) else {
            return MLSFRAME_MLS_UNKNOWN_MEMBER;
        };
        let Some(id) = m.identity else {
            return MLSFRAME_MLS_FOREIGN_CREDENTIAL;
        };
        try_write!(user_id_out, mlsframe_buffer::from_vec(id.user_id));
        try_write!(device_id_out, mlsframe_buffer::from_vec(id.device_id));
        MLSFRAME_OK
    })
}

/// The raw MLS credential of the member at `leaf` in the *current* epoch, for every
/// member: `*credential_type_out` (1 = basic, 2 = X.509, ...) and its content (a basic
/// credential's identity bytes: for an mlsframe identity, the encoding of its user and
/// device id; for a member on another MLS stack, whatever that stack put there).
/// Both outputs are reset (0, `{NULL, 0}`) on entry (see the preamble).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `session`, `credential_type_out` or
/// `content_out` is NULL; `MLSFRAME_INVALID_ARGUMENT` when the two outputs share a byte;
/// `MLSFRAME_MLS_NO_GROUP` without a group; `MLSFRAME_MLS_UNKNOWN_MEMBER` when no member
/// holds the leaf; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; out-pointers writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_member_credential(
    session: *const mlsframe_session,
    leaf: u32,
    credential_type_out: *mut u16,
    content_out: *mut mlsframe_buffer,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(
            inputs: &[],
            required: [credential_type_out, content_out],
            optional: [],
        );
        let session = try_ref!(session);
        if credential_type_out.is_null() || content_out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        try_disjoint!(
            inputs: [],
            outputs: [
                Span::of(credential_type_out.cast_const()),
                Span::of(content_out.cast_const()),
            ],
        );
        let members = match session.lock().members() {
            Ok(m) => m,
            Err(e) => return e.into(),
        };
        let Some(m) = members.into_iter().find(|m| m.leaf == leaf) else {
            return MLSFRAME_MLS_UNKNOWN_MEMBER;
        };
        try_write!(credential_type_out, m.credential.credential_type);
        try_write!(content_out, mlsframe_buffer::from_vec(m.credential.content));
        MLSFRAME_OK
    })
}

/// An encryptor for our own stream `context` (e.g. 0 audio, 1 video, 2 screen); one per
/// context at a time. It lives independently of the session. `*out` is reset to NULL on
/// entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL;
/// `MLSFRAME_CONTEXT_IN_USE` while another live encryptor owns `context`; `MLSFRAME_OK` in
/// every state (a context too large for the KID is refused by each encrypt, with
/// `MLSFRAME_CONTEXT_TOO_LARGE`).
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_encryptor_new(
    session: *const mlsframe_session,
    context: u64,
    out: *mut *mut mlsframe_encryptor,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        match session.lock().media().encryptor(context) {
            Ok(enc) => {
                try_write!(out, mlsframe_encryptor::into_raw(enc));
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// An encryptor for our own stream `context` that frames every frame in mode `codec`
/// (a `mlsframe_codec` value, docs/FRAMING.md): the codec's headers stay clear and are
/// authenticated with the layout. `MLSFRAME_CODEC_WHOLE` is `mlsframe_session_encryptor_new`.
/// Receivers open its frames with `mlsframe_decryptor_decrypt_codec` and the same codec.
/// `*out` is reset to NULL on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL;
/// `MLSFRAME_UNSUPPORTED_CODEC` when `codec` is not a `mlsframe_codec` value;
/// `MLSFRAME_CONTEXT_IN_USE` while another live encryptor owns `context`; `MLSFRAME_OK`.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_encryptor_new_with_codec(
    session: *const mlsframe_session,
    context: u64,
    codec: u32,
    out: *mut *mut mlsframe_encryptor,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let codec = match crate::media::Codec::from_id(codec) {
            Ok(c) => c,
            Err(e) => return e.into(),
        };
        match session.lock().media().encryptor_with_codec(context, codec) {
            Ok(enc) => {
                try_write!(out, mlsframe_encryptor::into_raw(enc));
                MLSFRAME_OK
            }
            Err(e) => e.into(),
        }
    })
}

/// A decryptor for all other members' frames. It lives independently of the session.
/// `*out` is reset to NULL on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `session` or `out` is NULL; otherwise
/// `MLSFRAME_OK`, in every state.
///
/// # Safety
/// `session` is a live session; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_session_decryptor_new(
    session: *const mlsframe_session,
    out: *mut *mut mlsframe_decryptor,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        let session = try_ref!(session);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let dec = session.lock().media().decryptor();
        try_write!(out, mlsframe_decryptor::into_raw(dec));
        MLSFRAME_OK
    })
}

/// Make `mlsframe_result` printable in logs without secrets.
impl std::fmt::Display for mlsframe_result {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
