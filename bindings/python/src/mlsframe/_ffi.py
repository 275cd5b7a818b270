"""The C ABI as ctypes sees it: library loading, the header's structs and callback types,
and one prototype per export. Everything above this module is the idiomatic API."""

import ctypes
import ctypes.util
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path

if sys.platform == "darwin":
    _LIB_NAME = "libmlsframe.dylib"
elif sys.platform == "win32":
    _LIB_NAME = "mlsframe.dll"
else:
    _LIB_NAME = "libmlsframe.so"


def _candidates():
    env = os.environ.get("MLSFRAME_LIB")
    if env:
        yield Path(env)
        return
    here = Path(__file__).resolve().parent
    yield here / _LIB_NAME
    for parent in here.parents:
        if (parent / "Cargo.toml").is_file() and (parent / "include" / "mlsframe.h").is_file():
            yield parent / "target" / "release" / _LIB_NAME
            yield parent / "target" / "debug" / _LIB_NAME
            break
    found = ctypes.util.find_library("mlsframe")
    if found:
        yield Path(found)


def _load():
    tried = []
    for path in _candidates():
        if path.is_absolute() and not path.exists():
            tried.append(str(path))
            continue
        try:
            return ctypes.CDLL(str(path))
        except OSError as err:
            tried.append("%s (%s)" % (path, err))
    raise ImportError(
        "libmlsframe not found; set MLSFRAME_LIB or run `cargo build --lib`. Tried: "
        + ", ".join(tried)
    )


# --- structs (field order and types as in include/mlsframe.h) ---


class mlsframe_buffer(Structure):
    _fields_ = [("data", POINTER(c_uint8)), ("len", c_size_t)]


class mlsframe_sender(Structure):
    _fields_ = [("epoch", c_uint64), ("leaf", c_uint32), ("context", c_uint64)]


class mlsframe_decryptor_stats(Structure):
    _fields_ = [
        (name, c_uint64)
        for name in (
            "frames_in",
            "bytes_in",
            "bytes_out",
            "no_key",
            "auth_failed",
            "replay",
            "malformed",
            "other",
            "epoch",
        )
    ]


class mlsframe_encryptor_stats(Structure):
    _fields_ = [
        (name, c_uint64)
        for name in (
            "frames_out",
            "bytes_in",
            "bytes_out",
            "failed_not_member",
            "failed_buffer",
            "failed_other",
            "epoch",
        )
    ]


class mlsframe_candidate(Structure):
    _fields_ = [
        ("is_mlsframe_identity", c_bool),
        ("user_id", POINTER(c_uint8)),
        ("user_id_len", c_size_t),
        ("device_id", POINTER(c_uint8)),
        ("device_id_len", c_size_t),
        ("credential_type", c_uint16),
        ("credential", POINTER(c_uint8)),
        ("credential_len", c_size_t),
        ("signature_key", POINTER(c_uint8)),
        ("signature_key_len", c_size_t),
        ("fingerprint", POINTER(c_uint8)),
        ("fingerprint_len", c_size_t),
    ]


key_frame_callback = CFUNCTYPE(None, c_void_p, c_uint64, c_uint64)
log_callback = CFUNCTYPE(None, c_void_p, c_uint32, c_char_p)
admission_callback = CFUNCTYPE(c_bool, c_void_p, POINTER(mlsframe_candidate))


class mlsframe_session_config(Structure):
    _fields_ = [
        ("retention_ms", c_uint32),
        ("removal_retention_ms", c_uint32),
        ("send_switch_delay_ms", c_uint32),
        ("replay_window", c_uint32),
        ("admission", admission_callback),
        ("admission_user_data", c_void_p),
    ]


class mlsframe_identity_options(Structure):
    _fields_ = [
        ("user_id", c_char_p),
        ("user_id_len", c_size_t),
        ("device_id", c_char_p),
        ("device_id_len", c_size_t),
        ("secret", c_char_p),
        ("secret_len", c_size_t),
        ("signature_algorithm", c_uint16),
    ]


class mlsframe_group_params(Structure):
    _fields_ = [("sframe_suite", c_uint16), ("epoch_bits", c_uint8), ("handshake", c_uint32)]


class mlsframe_external_sender(Structure):
    _fields_ = [
        ("signature_key", c_char_p),
        ("signature_key_len", c_size_t),
        ("identity", c_char_p),
        ("identity_len", c_size_t),
    ]


class mlsframe_group_options(Structure):
    _fields_ = [
        ("params", mlsframe_group_params),
        ("mls_ciphersuite", c_uint16),
        ("params_source", c_uint32),
        ("external_senders", POINTER(mlsframe_external_sender)),
        ("external_senders_count", c_size_t),
    ]


class mlsframe_outcome(Structure):
    _fields_ = [
        ("kind", c_uint32),
        ("epoch", c_uint64),
        ("added", c_uint32),
        ("removed", c_uint32),
    ]


# --- prototypes: every export of the header (tests/test_header.py checks the set) ---

_R = c_uint32  # mlsframe_result
_P = c_void_p  # opaque handles and byte inputs
_BUF = POINTER(mlsframe_buffer)
_U8P = POINTER(c_uint8)  # caller-owned output bytes

PROTOTYPES = {
    "mlsframe_buffer_free": (None, [_BUF]),
    "mlsframe_decryptor_free": (None, [_P]),
    "mlsframe_decryptor_max_plaintext_size": (c_size_t, [_P, c_size_t]),
    "mlsframe_decryptor_decrypt": (
        _R,
        [_P, _P, c_size_t, _P, c_size_t, _U8P, c_size_t, POINTER(c_size_t),
         POINTER(mlsframe_sender)],
    ),
    "mlsframe_decryptor_decrypt_codec": (
        _R,
        [_P, c_uint32, _P, c_size_t, _P, c_size_t, _U8P, c_size_t, POINTER(c_size_t),
         POINTER(mlsframe_sender)],
    ),
    "mlsframe_decryptor_get_stats": (_R, [_P, POINTER(mlsframe_decryptor_stats)]),
    "mlsframe_decryptor_take_released": (
        _R,
        [_P, _U8P, c_size_t, POINTER(c_size_t), POINTER(mlsframe_sender), POINTER(c_bool)],
    ),
    "mlsframe_decryptor_sender_identity": (_R, [_P, POINTER(mlsframe_sender), _BUF, _BUF]),
    "mlsframe_encryptor_free": (None, [_P]),
    "mlsframe_encryptor_set_key_frame_callback": (_R, [_P, key_frame_callback, _P]),
    "mlsframe_encryptor_max_ciphertext_size": (c_size_t, [_P, c_size_t]),
    "mlsframe_encryptor_encrypt": (
        _R,
        [_P, _P, c_size_t, _P, c_size_t, _U8P, c_size_t, POINTER(c_size_t)],
    ),
    "mlsframe_encryptor_get_stats": (_R, [_P, POINTER(mlsframe_encryptor_stats)]),
    "mlsframe_set_log_callback": (None, [log_callback, _P, c_uint32]),
    "mlsframe_result_message": (c_char_p, [c_uint32]),
    "mlsframe_session_new": (
        _R,
        [_P, c_size_t, _P, c_size_t, _P, c_size_t, POINTER(mlsframe_session_config), POINTER(_P)],
    ),
    "mlsframe_session_new_with": (
        _R,
        [POINTER(mlsframe_identity_options), POINTER(mlsframe_session_config), POINTER(_P)],
    ),
    "mlsframe_session_signature_algorithm": (_R, [_P, POINTER(c_uint16)]),
    "mlsframe_session_restore": (
        _R,
        [_P, c_size_t, POINTER(mlsframe_session_config), POINTER(_P)],
    ),
    "mlsframe_session_snapshot": (_R, [_P, _BUF]),
    "mlsframe_session_free": (None, [_P]),
    "mlsframe_session_key_package": (_R, [_P, _BUF]),
    "mlsframe_session_key_package_for": (_R, [_P, c_uint16, _BUF]),
    "mlsframe_session_create_group": (_R, [_P, c_uint16, c_uint8, c_bool]),
    "mlsframe_session_join": (_R, [_P, _P, c_size_t, POINTER(c_uint64)]),
    "mlsframe_session_create_group_with": (_R, [_P, POINTER(mlsframe_group_options)]),
    "mlsframe_session_join_with": (
        _R,
        [_P, _P, c_size_t, _P, c_size_t, POINTER(mlsframe_group_params), POINTER(c_uint64)],
    ),
    "mlsframe_session_group_info": (_R, [_P, _BUF]),
    "mlsframe_session_join_by_external_commit": (
        _R,
        [_P, _P, c_size_t, _P, c_size_t, POINTER(mlsframe_group_params), _BUF, POINTER(c_uint64)],
    ),
    "mlsframe_session_add_members": (
        _R,
        [_P, POINTER(c_char_p), POINTER(c_size_t), c_size_t, _BUF, _BUF],
    ),
    "mlsframe_session_remove_member": (_R, [_P, c_uint32, _BUF]),
    "mlsframe_session_remove_user": (_R, [_P, _P, c_size_t, _BUF]),
    "mlsframe_session_self_update": (_R, [_P, _BUF]),
    "mlsframe_session_commit_pending_proposals": (_R, [_P, _BUF, _BUF]),
    "mlsframe_session_leave": (_R, [_P, _BUF]),
    "mlsframe_session_confirm_commit": (_R, [_P]),
    "mlsframe_session_discard_commit": (_R, [_P]),
    "mlsframe_session_receivers_ready": (_R, [_P]),
    "mlsframe_session_process": (_R, [_P, _P, c_size_t, POINTER(mlsframe_outcome)]),
    "mlsframe_session_epoch": (_R, [_P, POINTER(c_uint64), POINTER(c_uint32)]),
    "mlsframe_session_ciphersuite": (_R, [_P, POINTER(c_uint16)]),
    "mlsframe_session_params": (_R, [_P, POINTER(mlsframe_group_params), POINTER(c_uint32)]),
    "mlsframe_session_ratchet_tree": (_R, [_P, _BUF]),
    "mlsframe_session_security_code": (_R, [_P, _BUF]),
    "mlsframe_session_epoch_authenticator": (_R, [_P, _BUF]),
    "mlsframe_session_export_secret": (_R, [_P, _P, c_size_t, _P, c_size_t, c_size_t, _BUF]),
    "mlsframe_session_roster": (_R, [_P, _BUF]),
    "mlsframe_session_member_identity": (_R, [_P, c_uint32, _BUF, _BUF]),
    "mlsframe_session_member_credential": (_R, [_P, c_uint32, POINTER(c_uint16), _BUF]),
    "mlsframe_session_encryptor_new": (_R, [_P, c_uint64, POINTER(_P)]),
    "mlsframe_session_encryptor_new_with_codec": (_R, [_P, c_uint64, c_uint32, POINTER(_P)]),
    "mlsframe_session_decryptor_new": (_R, [_P, POINTER(_P)]),
    "mlsframe_sframe_context_new": (_R, [c_uint32, POINTER(_P)]),
    "mlsframe_sframe_context_free": (None, [_P]),
    "mlsframe_sframe_context_set_send_key": (_R, [_P, c_uint16, c_uint64, _P, c_size_t, c_uint64]),
    "mlsframe_sframe_context_send_counter": (_R, [_P, POINTER(c_uint64)]),
    "mlsframe_sframe_context_add_receive_key": (_R, [_P, c_uint16, c_uint64, _P, c_size_t]),
    "mlsframe_sframe_context_remove_receive_key": (_R, [_P, c_uint64]),
    "mlsframe_sframe_max_ciphertext_size": (c_size_t, [c_size_t]),
    "mlsframe_sframe_context_encrypt": (
        _R,
        [_P, _P, c_size_t, _P, c_size_t, _U8P, c_size_t, POINTER(c_size_t)],
    ),
    "mlsframe_sframe_context_decrypt": (
        _R,
        [_P, _P, c_size_t, _P, c_size_t, _U8P, c_size_t, POINTER(c_size_t), POINTER(c_uint64)],
    ),
}

lib = _load()
for _name, (_restype, _argtypes) in PROTOTYPES.items():
    _fn = getattr(lib, _name)
    _fn.restype = _restype
    _fn.argtypes = _argtypes


# --- argument helpers shared by the wrappers ---


def as_bytes(value, name, optional=False):
    """A bytes-like argument as `bytes` (None allowed when `optional`)."""
    if value is None and optional:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s must be bytes-like, not %s" % (name, type(value).__name__))


def as_uint(value, bits, name):
    """An integer argument checked to fit an unsigned C type (ctypes would wrap it)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    if not 0 <= value < (1 << bits):
        raise ValueError("%s must be in 0..2**%d, got %d" % (name, bits, value))
    return value


def ptr_len(data):
    """(pointer, length) for an optional bytes input: None is NULL with length 0."""
    if data is None:
        return None, 0
    return data, len(data)


def out_bytes(cap):
    """A caller-owned output buffer of `cap` bytes, as ctypes passes it."""
    return (c_uint8 * max(cap, 1))()


def buffer_to_bytes(buf):
    """Copies an mlsframe_buffer's bytes (the caller frees it)."""
    if not buf.data or buf.len == 0:
        return b""
    return ctypes.string_at(buf.data, buf.len)


def byref(obj):
    return ctypes.byref(obj)
