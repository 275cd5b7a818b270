"""mlsframe for Python: MLS (RFC 9420) agrees a call's keys, SFrame (RFC 9605) seals every
frame. A ctypes binding over the C ABI (include/mlsframe.h); see the package README.

    with Session(b"alice") as alice:
        alice.create_group()
        ...
"""

from . import _ffi
from .constants import (
    Codec,
    HandshakeFormat,
    LogLevel,
    OutcomeKind,
    ParamsSource,
    SignatureAlgorithm,
)
from .errors import *  # noqa: F401,F403 - Result, MlsframeError and one class per code
from .errors import __all__ as _errors_all
from .media import DecryptedFrame, Decryptor, DecryptorStats, Encryptor, EncryptorStats, Sender
from .session import (
    Candidate,
    Commit,
    EpochInfo,
    ExternalJoin,
    GroupParams,
    Member,
    Outcome,
    Session,
)
from .sframe import SFrameContext, max_ciphertext_size

__version__ = "0.1.0"

_log_callbacks = []  # every C callback installed, kept alive (a thread may be in one)


def set_log_callback(callback, max_level=LogLevel.INFO):
    """Process-wide: `callback(level: LogLevel, message: str)` gets the library's event
    lines (never secrets) up to `max_level`; None removes it. It may run on any thread."""
    if callback is None:
        c_callback = _ffi.log_callback()
    else:
        if not callable(callback):
            raise TypeError("callback must be callable or None")

        def trampoline(_user_data, level, message):
            try:
                callback(LogLevel(level), message.decode("utf-8", "replace"))
            except Exception:  # noqa: BLE001 - never unwind into C
                pass

        c_callback = _ffi.log_callback(trampoline)
    _ffi.lib.mlsframe_set_log_callback(
        c_callback, None, _ffi.as_uint(int(max_level), 32, "max_level")
    )
    _log_callbacks.append(c_callback)


__all__ = [
    "Session",
    "GroupParams",
    "Commit",
    "Outcome",
    "EpochInfo",
    "ExternalJoin",
    "Member",
    "Candidate",
    "Encryptor",
    "Decryptor",
    "Sender",
    "DecryptedFrame",
    "EncryptorStats",
    "DecryptorStats",
    "SFrameContext",
    "max_ciphertext_size",
    "set_log_callback",
    "Codec",
    "HandshakeFormat",
    "LogLevel",
    "OutcomeKind",
    "ParamsSource",
    "SignatureAlgorithm",
] + list(_errors_all)
