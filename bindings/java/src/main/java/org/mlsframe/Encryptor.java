package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * Seals one stream's frames ({@code mlsframe_encryptor}) in the session's current epoch.
 * The {@link ByteBuffer} path hands direct buffers' memory to the native code: nothing is
 * copied, and nothing is allocated on the Java heap (it returns an {@code int}). Thread-safe;
 * {@link #close()} frees it and frees its stream context.
 */
public final class Encryptor extends NativeHandle {
    /** The key-frame callback's slot, created on first use, freed after the encryptor. */
    private long keyFrameState;

    Encryptor(long handle) {
        super(handle);
    }

    @Override
    void free(long handle) {
        Native.encryptorFree(handle);
        long state;
        synchronized (this) {
            state = keyFrameState;
            keyFrameState = 0;
        }
        Native.callbackStateFree(state);
    }

    /**
     * An upper bound on the whole-frame ({@link Codec#WHOLE}) sealed size of a
     * {@code frameLen}-byte frame; a codec-aware encryptor's frames also carry a trailer:
     * see {@link #sealedSizeBound(int)}.
     */
    public static int maxCiphertextSize(int frameLen) {
        return Native.maxCiphertextSize(frameLen);
    }

    /**
     * An upper bound on this encryptor's sealed size of a {@code frameLen}-byte frame,
     * including the trailer of a codec-aware encryptor
     * ({@code mlsframe_encryptor_max_ciphertext_size} with the encryptor). On a closed
     * encryptor, the whole-frame bound.
     */
    public int sealedSizeBound(int frameLen) {
        return Native.encryptorMaxCiphertextSize(handle(), frameLen);
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
        return encrypt(frame, out, null);
    }

    /**
     * {@link #encrypt(ByteBuffer, ByteBuffer)} with additional data: {@code additionalData}'s
     * remaining bytes (a direct buffer, or null for none) are authenticated, not sent; its
     * position does not move. The receiver must pass the same bytes.
     */
    public int encrypt(ByteBuffer frame, ByteBuffer out, ByteBuffer additionalData) {
        Buffers.requireDirect(frame, out);
        Buffers.requireDirectOrNull(additionalData);
        int written = Native.encryptDirect(handle(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining(),
                additionalData, Buffers.position(additionalData), Buffers.remaining(additionalData));
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }

    /** Seals a whole frame into a new array (convenience: copies). */
    public byte[] encrypt(byte[] frame) {
        return Native.encryptArray(handle(), frame, null);
    }

    /** Seals a whole frame with additional data (may be null) into a new array. */
    public byte[] encrypt(byte[] frame, byte[] additionalData) {
        return Native.encryptArray(handle(), frame, additionalData);
    }

    /** The encryptor's counters. */
    public EncryptorStats stats() {
        long[] s = Native.encryptorStats(handle());
        return new EncryptorStats(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
    }

    /**
     * Registers (or with null clears) the callback asked for a key frame when the
     * encryptor switches to a new epoch (see {@link KeyFrameCallback} for its thread and
     * exceptions).
     */
    public void setKeyFrameCallback(KeyFrameCallback callback) {
        long handle = handle();
        if (handle == 0) {
            throw new MlsframeException(MlsframeException.NULL_ARGUMENT);
        }
        synchronized (this) {
            if (keyFrameState == 0) {
                if (callback == null) {
                    Native.setKeyFrameCallback(handle, 0);
                    return;
                }
                keyFrameState = Native.callbackStateNew(callback);
            } else {
                Native.callbackStateSet(keyFrameState, callback);
            }
            Native.setKeyFrameCallback(handle, callback == null ? 0 : keyFrameState);
        }
    }
}
