"""The lifetime of a C object held from Python: `close()` frees it once, a `with` block
closes it, `__del__` is the safety net, and a closed handle raises ClosedError."""

from .errors import ClosedError


class Handle:
    _free = None  # the export that frees this kind of object
    _ptr = None

    def _adopt(self, ptr):
        self._ptr = ptr

    @property
    def closed(self):
        return not self._ptr

    def _p(self):
        """The live C pointer, or ClosedError."""
        if not self._ptr:
            raise ClosedError(type(self).__name__)
        return self._ptr

    def close(self):
        """Frees the C object (idempotent). Call only when no other thread uses it."""
        ptr, self._ptr = self._ptr, None
        if ptr:
            type(self)._free(ptr)

    def __enter__(self):
        self._p()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass
