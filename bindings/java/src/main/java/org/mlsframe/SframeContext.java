package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * SFrame alone, with keys the app manages ({@code mlsframe_sframe_context}, RFC 9605
 * section 5): one send key and any number of receive keys, each by KID. The frame path
 * takes direct buffers and copies nothing (it returns an {@code int}; the KID goes into a
 * {@code long[]} the caller reuses). Thread-safe; {@link #close()} frees it.
 */
public final class SframeContext extends NativeHandle {
    /** A context whose receive keys keep {@code replayWindow} counters (0: 128). */
    public SframeContext(int replayWindow) {
        super(Native.sframeContextNew(replayWindow));
    }

    @Override
    void free(long handle) {
        Native.sframeContextFree(handle);
    }

    /**
     * Sets the send key: RFC 9605 suite (1..=5), KID, base key (16 bytes or more), and the
     * counter of its first frame. Setting the key already set keeps its counter (the next
     * frame uses the larger of the two); any other key starts at {@code firstCounter}.
     */
    public void setSendKey(int suite, long kid, byte[] baseKey, long firstCounter) {
        Native.sframeSetSendKey(handle(), suite, kid, baseKey, firstCounter);
    }

    /**
     * The counter the send key's next frame will use (-1, that is {@code UINT64_MAX},
     * once spent): persist it and pass it back as {@code firstCounter}.
     */
    public long sendCounter() {
        return Native.sframeSendCounter(handle());
    }

    /** Adds a receive key for {@code kid}. */
    public void addReceiveKey(int suite, long kid, byte[] baseKey) {
        Native.sframeAddReceiveKey(handle(), suite, kid, baseKey);
    }

    /** Removes the receive key for {@code kid}. */
    public void removeReceiveKey(long kid) {
        Native.sframeRemoveReceiveKey(handle(), kid);
    }

    /** An upper bound on the sealed size of a {@code frameLen}-byte frame. */
    public static int maxCiphertextSize(int frameLen) {
        return Native.sframeMaxCiphertextSize(frameLen);
    }

    /** Seals {@code frame}'s remaining bytes into {@code out}, as {@link Encryptor#encrypt(ByteBuffer, ByteBuffer)}. */
    public int encrypt(ByteBuffer frame, ByteBuffer out) {
        return encrypt(frame, out, null);
    }

    /** {@link #encrypt(ByteBuffer, ByteBuffer)} with additional data (direct, or null). */
    public int encrypt(ByteBuffer frame, ByteBuffer out, ByteBuffer additionalData) {
        Buffers.requireDirect(frame, out);
        Buffers.requireDirectOrNull(additionalData);
        int written = Native.sframeEncryptDirect(handle(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining(),
                additionalData, Buffers.position(additionalData), Buffers.remaining(additionalData));
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }

    /** Opens {@code frame}'s remaining bytes into {@code out}, as {@link Decryptor#decrypt(ByteBuffer, ByteBuffer)}. */
    public int decrypt(ByteBuffer frame, ByteBuffer out) {
        return decrypt(frame, out, null, null);
    }

    /**
     * {@link #decrypt(ByteBuffer, ByteBuffer)} with additional data (direct, or null),
     * writing the frame's KID to {@code kidOut[0]} ({@code kidOut} may be null).
     */
    public int decrypt(ByteBuffer frame, ByteBuffer out, ByteBuffer additionalData, long[] kidOut) {
        Buffers.requireDirect(frame, out);
        Buffers.requireDirectOrNull(additionalData);
        if (kidOut != null && kidOut.length < 1) {
            throw new MlsframeException(MlsframeException.INVALID_ARGUMENT);
        }
        int written = Native.sframeDecryptDirect(handle(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining(),
                additionalData, Buffers.position(additionalData), Buffers.remaining(additionalData), kidOut);
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }

    /** Seals a whole frame into a new array (convenience: copies). */
    public byte[] encrypt(byte[] frame) {
        return encrypt(frame, null);
    }

    /** Opens a whole frame: its plaintext and KID (convenience: copies). */
    public Opened decrypt(byte[] frame) {
        return decrypt(frame, null);
    }

    /** Seals a whole frame with additional data (may be null) into a new array (copies). */
    public byte[] encrypt(byte[] frame, byte[] additionalData) {
        return Native.sframeEncryptArray(handle(), frame, additionalData);
    }

    /** Opens a whole frame with additional data (may be null): its plaintext and KID (copies). */
    public Opened decrypt(byte[] frame, byte[] additionalData) {
        long[] kid = new long[1];
        byte[] plain = Native.sframeDecryptArray(handle(), frame, additionalData, kid);
        return new Opened(plain, kid[0]);
    }
}
