package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * Opens the other members' frames ({@code mlsframe_decryptor}). The {@link ByteBuffer}
 * path hands direct buffers' memory to the native code: nothing is copied. Thread-safe;
 * {@link #close()} frees it.
 */
public final class Decryptor extends NativeHandle {
    Decryptor(long handle) {
        super(handle);
    }

    @Override
    void free(long handle) {
        Native.decryptorFree(handle);
    }

    /**
     * Opens {@code frame}'s remaining bytes into {@code out} at its position: on success
     * {@code frame}'s position moves to its limit and {@code out}'s past the plaintext.
     * Both buffers must be direct. {@code MLSFRAME_NO_KEY} is recoverable (the epoch has
     * not arrived); other codes mean a bad frame.
     *
     * @return the plaintext length
     */
    public int decrypt(ByteBuffer frame, ByteBuffer out) {
        Buffers.requireDirect(frame, out);
        int written = Native.decryptDirect(handle(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining());
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }

    /** Opens a whole frame into a new array (convenience: copies). */
    public byte[] decrypt(byte[] frame) {
        return Native.decryptArray(handle(), frame);
    }
}
