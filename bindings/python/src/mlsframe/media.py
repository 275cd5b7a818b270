"""The media path of a session: `Encryptor` (one per own stream context) and `Decryptor`
(everyone else's frames). Both outlive their session and may be used from any thread."""

import ctypes
from collections import namedtuple

from . import _ffi
from ._ffi import as_bytes, as_uint, byref, lib, out_bytes, ptr_len
from ._handle import Handle
from .constants import Codec
from .errors import Result, check

Sender = namedtuple("Sender", "epoch leaf context")
Sender.__doc__ = "Who sealed a frame: (epoch, leaf, stream context), claimed within the group."

DecryptedFrame = namedtuple("DecryptedFrame", "data sender")
DecryptedFrame.__doc__ = "An opened frame: its plaintext bytes and its Sender."

EncryptorStats = namedtuple(
    "EncryptorStats", [f for f, _ in _ffi.mlsframe_encryptor_stats._fields_]
)
EncryptorStats.__doc__ = "An encryptor's counters (`mlsframe_encryptor_stats`)."
DecryptorStats = namedtuple(
    "DecryptorStats", [f for f, _ in _ffi.mlsframe_decryptor_stats._fields_]
)
DecryptorStats.__doc__ = "A decryptor's counters (`mlsframe_decryptor_stats`)."


def _sender(c_sender):
    return Sender(c_sender.epoch, c_sender.leaf, c_sender.context)


class Encryptor(Handle):
    """Seals our frames on one stream context (`Session.encryptor(context, codec=...)`),
    in the codec framing `codec` (a Codec; WHOLE is whole-frame SFrame)."""

    _free = staticmethod(lib.mlsframe_encryptor_free)

    def __init__(self, ptr, context, codec=Codec.WHOLE):
        self._callbacks = []  # every key-frame callback given to C, kept alive
        self.context = context
        self.codec = Codec(codec)
        self._adopt(ptr)

    def max_ciphertext_size(self, frame_len):
        """Upper bound on the sealed size of a `frame_len`-byte frame."""
        return lib.mlsframe_encryptor_max_ciphertext_size(
            self._p(), as_uint(frame_len, 63, "frame_len")
        )

    def encrypt(self, frame, additional_data=b""):
        """Seals `frame` (bytes); `additional_data` is authenticated, not sent."""
        frame = as_bytes(frame, "frame")
        ad = as_bytes(additional_data, "additional_data", optional=True)
        ptr = self._p()
        cap = lib.mlsframe_encryptor_max_ciphertext_size(ptr, len(frame))
        out = out_bytes(cap)
        written = ctypes.c_size_t()
        check(
            lib.mlsframe_encryptor_encrypt(
                ptr, *ptr_len(frame), *ptr_len(ad), out, cap, byref(written)
            )
        )
        return bytes(out[: written.value])

    def stats(self):
        """The encryptor's counters (EncryptorStats)."""
        s = _ffi.mlsframe_encryptor_stats()
        check(lib.mlsframe_encryptor_get_stats(self._p(), byref(s)))
        return EncryptorStats(*(getattr(s, f) for f in EncryptorStats._fields))

    def set_key_frame_callback(self, callback):
        """`callback(context, epoch)` runs when this encryptor moves to a new epoch (send a
        key frame); None removes it. Exceptions in it are swallowed (C cannot take them)."""
        if callback is None:
            c_callback = _ffi.key_frame_callback()
        else:
            if not callable(callback):
                raise TypeError("callback must be callable or None")

            def trampoline(_user_data, context, epoch):
                try:
                    callback(context, epoch)
                except Exception:  # noqa: BLE001 - never unwind into C
                    pass

            c_callback = _ffi.key_frame_callback(trampoline)
        check(lib.mlsframe_encryptor_set_key_frame_callback(self._p(), c_callback, None))
        self._callbacks.append(c_callback)


class Decryptor(Handle):
    """Opens other members' frames (`Session.decryptor()`)."""

    _free = staticmethod(lib.mlsframe_decryptor_free)

    def __init__(self, ptr):
        self._adopt(ptr)
        self._released_cap = 64 * 1024

    def max_plaintext_size(self, frame_len):
        """Upper bound on the plaintext of a `frame_len`-byte frame (never more)."""
        return lib.mlsframe_decryptor_max_plaintext_size(
            self._p(), as_uint(frame_len, 63, "frame_len")
        )

    def decrypt(self, frame, additional_data=b"", codec=Codec.WHOLE):
        """Opens `frame`, sealed in the codec framing `codec` (the sending stream's; WHOLE
        is whole-frame SFrame): a DecryptedFrame, or an exception (`NoKeyError` is
        recoverable; a wrong codec gives `AuthFailedError` or `MalformedLayoutError`)."""
        frame = as_bytes(frame, "frame")
        ad = as_bytes(additional_data, "additional_data", optional=True)
        codec = as_uint(int(codec), 32, "codec")
        ptr = self._p()
        cap = len(frame)
        out = out_bytes(cap)
        written = ctypes.c_size_t()
        sender = _ffi.mlsframe_sender()
        if codec == Codec.WHOLE:
            code = lib.mlsframe_decryptor_decrypt(
                ptr, *ptr_len(frame), *ptr_len(ad), out, cap, byref(written), byref(sender)
            )
        else:
            code = lib.mlsframe_decryptor_decrypt_codec(
                ptr, codec, *ptr_len(frame), *ptr_len(ad), out, cap, byref(written),
                byref(sender)
            )
        check(code)
        return DecryptedFrame(bytes(out[: written.value]), _sender(sender))

    def take_released(self):
        """Frames held for an epoch that has since arrived: a list of DecryptedFrame. Call
        after processing MLS messages."""
        frames = []
        while True:
            ptr = self._p()
            out = out_bytes(self._released_cap)
            written = ctypes.c_size_t()
            sender = _ffi.mlsframe_sender()
            released = ctypes.c_bool()
            code = lib.mlsframe_decryptor_take_released(
                ptr, out, self._released_cap, byref(written), byref(sender), byref(released)
            )
            if code == Result.BUFFER_TOO_SMALL and self._released_cap < (1 << 30):
                self._released_cap *= 4  # the frame stays queued: ask again with room
                continue
            check(code)
            if not released.value:
                return frames
            frames.append(DecryptedFrame(bytes(out[: written.value]), _sender(sender)))

    def sender_identity(self, sender):
        """(user_id, device_id) of a frame's Sender, resolved in the frame's own epoch."""
        if not isinstance(sender, Sender):
            raise TypeError("sender must be a mlsframe.Sender")
        c_sender = _ffi.mlsframe_sender(
            as_uint(sender.epoch, 64, "epoch"),
            as_uint(sender.leaf, 32, "leaf"),
            as_uint(sender.context, 64, "context"),
        )
        user, device = _ffi.mlsframe_buffer(), _ffi.mlsframe_buffer()
        try:
            check(
                lib.mlsframe_decryptor_sender_identity(
                    self._p(), byref(c_sender), byref(user), byref(device)
                )
            )
            return _ffi.buffer_to_bytes(user), _ffi.buffer_to_bytes(device)
        finally:
            lib.mlsframe_buffer_free(byref(user))
            lib.mlsframe_buffer_free(byref(device))

    def stats(self):
        """The decryptor's counters (DecryptorStats)."""
        s = _ffi.mlsframe_decryptor_stats()
        check(lib.mlsframe_decryptor_get_stats(self._p(), byref(s)))
        return DecryptorStats(*(getattr(s, f) for f in DecryptorStats._fields))


__all__ = ["Encryptor", "Decryptor", "Sender", "DecryptedFrame", "EncryptorStats",
           "DecryptorStats"]
