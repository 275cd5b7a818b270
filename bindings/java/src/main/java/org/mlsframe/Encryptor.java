package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * Seals one stream's frames ({@code mlsframe_encryptor}) in the session's current epoch.
 * The {@link ByteBuffer} path hands direct buffers' memory to the native code: nothing is
 * copied. Thread-safe; {@link #close()} frees it and frees its stream context.
 */
public final class Encryptor extends NativeHandle {
    Encryptor(long handle) {
        super(handle);
    }

    @Override
    void free(long handle) {
        Native.encryptorFree(handle);
    }

    /** An upper bound on the sealed size of a {@code frameLen}-byte frame. */
    public static int maxCiphertextSize(int frameLen) {
        return Native.maxCiphertextSize(frameLen);
    }

    /**
     * Seals {@code frame}'s remaining bytes into {@code out} at its position, like
     * {@code Cipher.doFinal(ByteBuffer, ByteBuffer)}: on success {@code frame}'s position
     * moves to its limit and {@code out}'s past the sealed bytes. Both buffers must be
     * direct ({@code MLSFRAME_INVALID_ARGUMENT} otherwise).
     *
     * @return the sealed length
     */
    public int encrypt(ByteBuffer frame, ByteBuffer out) {
        Buffers.requireDirect(frame, out);
        int written = Native.encryptDirect(handle(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining());
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }

    /** Seals a whole frame into a new array (convenience: copies). */
    public byte[] encrypt(byte[] frame) {
        return Native.encryptArray(handle(), frame);
    }
}
