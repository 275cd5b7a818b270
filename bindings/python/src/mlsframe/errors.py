"""Result codes and the exceptions they raise: one `IntEnum` member per code of the
header's `mlsframe_result`, and one exception class per failure code, grouped by range
under `MlsframeError`. Messages come from `mlsframe_result_message` (never secrets)."""

import enum

from ._ffi import lib


class Result(enum.IntEnum):
    """`mlsframe_result`: values as in include/mlsframe.h (names without `MLSFRAME_`)."""

    OK = 0
    NULL_ARGUMENT = 100
    INVALID_ARGUMENT = 101
    BUFFER_TOO_SMALL = 102
    INVALID_CONFIG = 103
    UNSUPPORTED_CODEC = 104
    NO_KEY = 200
    AUTH_FAILED = 201
    REPLAY = 202
    MALFORMED = 203
    UNKNOWN_SENDER = 204
    SUPERSEDED = 205
    TOO_MANY_STREAMS = 206
    MALFORMED_LAYOUT = 207
    NOT_MEMBER = 300
    COUNTER_EXHAUSTED = 301
    CONTEXT_IN_USE = 302
    CONTEXT_TOO_LARGE = 303
    UNKNOWN_SUITE = 304
    DUPLICATE_KEY = 305
    REKEY_REQUIRED = 306
    NO_SEND_KEY = 307
    START_CODE_EMULATION = 308
    LAYOUT_TOO_LARGE = 309
    MLS_MALFORMED = 400
    MLS_UNEXPECTED_MESSAGE = 401
    MLS_INVALID_KEY_PACKAGE = 402
    MLS_INVALID_IDENTITY = 403
    MLS_WRONG_GROUP = 404
    MLS_WRONG_EPOCH = 405
    MLS_REJECTED = 406
    MLS_INVALID_WELCOME = 407
    MLS_INVALID_PARAMS = 408
    MLS_NO_GROUP = 409
    MLS_ALREADY_IN_GROUP = 410
    MLS_NOT_MEMBER = 411
    MLS_TERMINATED = 412
    MLS_COMMIT_PENDING = 413
    MLS_NO_PENDING_COMMIT = 414
    MLS_ADMISSION_REFUSED = 415
    MLS_UNKNOWN_MEMBER = 416
    MLS_DUPLICATE_MEMBER = 417
    MLS_CANNOT_REMOVE_SELF = 418
    MLS_WIRE_FORMAT = 419
    MLS_DUPLICATE_PROPOSAL = 420
    MLS_TOO_MANY_PROPOSALS = 421
    MLS_MESSAGE_TOO_LARGE = 422
    MLS_WELCOME_TOO_LARGE = 423
    MLS_KEY_PACKAGE_TOO_LARGE = 424
    MLS_GROUP_FULL = 425
    MLS_MISSING_RATCHET_TREE = 426
    MLS_INVALID_RATCHET_TREE = 427
    MLS_UNSUPPORTED_CIPHERSUITE = 428
    MLS_CIPHERSUITE_MISMATCH = 429
    MLS_MISSING_CAPABILITY = 430
    MLS_PARAMS_CHANGE_REFUSED = 431
    MLS_UNSUPPORTED_PROPOSAL = 432
    MLS_INVALID_GROUP_INFO = 433
    MLS_GROUP_INFO_TOO_LARGE = 434
    MLS_UNAUTHORIZED_EXTERNAL_SENDER = 435
    MLS_FOREIGN_CREDENTIAL = 436
    MLS_INVALID_SIGNING_KEY = 437
    MLS_UNSUPPORTED_SIGNATURE_ALGORITHM = 438
    PANIC = 900
    INTERNAL = 901


def result_message(code):
    """The library's static description of a result code (`mlsframe_result_message`)."""
    return lib.mlsframe_result_message(int(code)).decode("utf-8", "replace")


class MlsframeError(Exception):
    """A call failed. `code` is its `Result`; the text is the library's message."""

    code = None

    def __init__(self, code=None, message=None):
        if code is None:
            code = type(self).code
        try:
            self.code = Result(code)
        except ValueError:  # a code newer than this package: keep the number
            self.code = code
        self.message = message if message is not None else result_message(code)
        name = getattr(self.code, "name", code)
        super().__init__("%s (%s): %s" % (name, int(code), self.message))


class ClosedError(MlsframeError, ValueError):
    """The handle was closed (`close()` or the end of its `with` block)."""

    def __init__(self, what="handle"):
        self.code = None
        self.message = "%s is closed" % what
        Exception.__init__(self, self.message)


class ArgumentError(MlsframeError, ValueError):
    """1xx: arguments and buffers."""


class FrameError(MlsframeError):
    """2xx: a frame did not open. `NoKeyError` is recoverable (the key may still come)."""


class SendError(MlsframeError):
    """3xx: a frame could not be sealed, or a key could not be set."""


class MlsError(MlsframeError):
    """4xx: MLS."""


class InternalError(MlsframeError):
    """9xx: a bug in the library (please report)."""


def _base_for(code):
    return {1: ArgumentError, 2: FrameError, 3: SendError, 4: MlsError, 9: InternalError}[
        int(code) // 100
    ]


def _class_name(name):
    return "".join(part.capitalize() for part in name.split("_")) + "Error"


# One class per failure code: NoKeyError, MlsWrongEpochError, ... (exported by name).
ERROR_CLASSES = {}
for _member in Result:
    if _member is Result.OK:
        continue
    _cls = type(
        _class_name(_member.name),
        (_base_for(_member),),
        {"code": _member, "__doc__": "MLSFRAME_%s: %s" % (_member.name, result_message(_member))},
    )
    _cls.__module__ = __name__
    globals()[_cls.__name__] = _cls
    ERROR_CLASSES[_member] = _cls


def error_for(code):
    """The exception for a failure code (an unknown code gets `MlsframeError`)."""
    try:
        return ERROR_CLASSES[Result(code)](code)
    except ValueError:
        return MlsframeError(code)


def check(code):
    """Raises the code's exception unless it is `MLSFRAME_OK`."""
    if code != 0:
        raise error_for(code)


__all__ = [
    "Result",
    "result_message",
    "MlsframeError",
    "ClosedError",
    "ArgumentError",
    "FrameError",
    "SendError",
    "MlsError",
    "InternalError",
    "ERROR_CLASSES",
    "check",
] + sorted(cls.__name__ for cls in ERROR_CLASSES.values())
