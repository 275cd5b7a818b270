package org.mlsframe;

/**
 * An owned native object. {@link #close()} frees it once; calls after that throw
 * {@link MlsframeException} with {@code MLSFRAME_NULL_ARGUMENT}. Closing while another
 * thread is inside a call on the same object is not allowed.
 */
abstract class NativeHandle implements AutoCloseable {
    private volatile long handle;

    NativeHandle(long handle) {
        this.handle = handle;
    }

    /** The native pointer, or 0 once closed (the C ABI answers NULL_ARGUMENT). */
    final long handle() {
        return handle;
    }

    abstract void free(long handle);

    @Override
    public final void close() {
        long h;
        synchronized (this) {
            h = handle;
            handle = 0;
        }
        if (h != 0) {
            free(h);
        }
    }
}
