"""SFrame alone (RFC 9605) with app-managed keys: `SFrameContext`."""

import ctypes

from ._ffi import as_bytes, as_uint, byref, lib, out_bytes, ptr_len
from ._handle import Handle
from .errors import check


def max_ciphertext_size(frame_len):
    """Upper bound on the sealed size of a `frame_len`-byte frame, any suite, KID, counter."""
    return lib.mlsframe_sframe_max_ciphertext_size(as_uint(frame_len, 63, "frame_len"))


class SFrameContext(Handle):
    """One send key and any number of receive keys (suites 1..5, base keys >= 16 bytes).
    `replay_window`: counters kept per receive key (0: 128; up to 65536)."""

    _free = staticmethod(lib.mlsframe_sframe_context_free)

    def __init__(self, replay_window=0):
        ptr = ctypes.c_void_p()
        window = as_uint(replay_window, 32, "replay_window")
        check(lib.mlsframe_sframe_context_new(window, byref(ptr)))
        self._adopt(ptr.value)

    def set_send_key(self, suite, kid, base_key, first_counter=0):
        """Seal under `kid` with `base_key` in `suite`; setting the same key again keeps
        its counter (never reused)."""
        key = as_bytes(base_key, "base_key")
        check(
            lib.mlsframe_sframe_context_set_send_key(
                self._p(),
                as_uint(suite, 16, "suite"),
                as_uint(kid, 64, "kid"),
                *ptr_len(key),
                as_uint(first_counter, 64, "first_counter"),
            )
        )

    def send_counter(self):
        """The counter the next sealed frame will use."""
        counter = ctypes.c_uint64()
        check(lib.mlsframe_sframe_context_send_counter(self._p(), byref(counter)))
        return counter.value

    def add_receive_key(self, suite, kid, base_key):
        """Installs a receive key for `kid`."""
        key = as_bytes(base_key, "base_key")
        check(
            lib.mlsframe_sframe_context_add_receive_key(
                self._p(), as_uint(suite, 16, "suite"), as_uint(kid, 64, "kid"), *ptr_len(key)
            )
        )

    def remove_receive_key(self, kid):
        """Removes (and wipes) the receive key for `kid`."""
        check(lib.mlsframe_sframe_context_remove_receive_key(self._p(), as_uint(kid, 64, "kid")))

    def encrypt(self, frame, additional_data=b""):
        """Seals `frame` with the send key: header || ciphertext || tag."""
        frame = as_bytes(frame, "frame")
        ad = as_bytes(additional_data, "additional_data", optional=True)
        ptr = self._p()
        cap = lib.mlsframe_sframe_max_ciphertext_size(len(frame))
        out = out_bytes(cap)
        written = ctypes.c_size_t()
        check(
            lib.mlsframe_sframe_context_encrypt(
                ptr, *ptr_len(frame), *ptr_len(ad), out, cap, byref(written)
            )
        )
        return bytes(out[: written.value])

    def decrypt(self, frame, additional_data=b""):
        """Opens `frame`: (plaintext, kid)."""
        frame = as_bytes(frame, "frame")
        ad = as_bytes(additional_data, "additional_data", optional=True)
        ptr = self._p()
        out = out_bytes(len(frame))
        written = ctypes.c_size_t()
        kid = ctypes.c_uint64()
        check(
            lib.mlsframe_sframe_context_decrypt(
                ptr, *ptr_len(frame), *ptr_len(ad), out, len(frame), byref(written), byref(kid)
            )
        )
        return bytes(out[: written.value]), kid.value


__all__ = ["SFrameContext", "max_ciphertext_size"]
