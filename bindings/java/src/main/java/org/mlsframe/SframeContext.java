package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * SFrame alone, with keys the app manages ({@code mlsframe_sframe_context}, RFC 9605
 * section 5): one send key and any number of receive keys, each by KID. The frame path
 * takes direct buffers and copies nothing. Thread-safe; {@link #close()} frees it.
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

    /** Sets the send key: RFC 9605 suite, KID, base key (16 bytes or more), first counter. */
    public void setSendKey(int suite, long kid, byte[] baseKey, long firstCounter) {
        Native.sframeSetSendKey(handle(), suite, kid, baseKey, firstCounter);
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
        Buffers.requireDirect(frame, out);
        int written = Native.sframeEncryptDirect(handle(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining());
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }

    /** Opens {@code frame}'s remaining bytes into {@code out}, as {@link Decryptor#decrypt(ByteBuffer, ByteBuffer)}. */
    public int decrypt(ByteBuffer frame, ByteBuffer out) {
        Buffers.requireDirect(frame, out);
        int written = Native.sframeDecryptDirect(handle(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining());
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }
}
