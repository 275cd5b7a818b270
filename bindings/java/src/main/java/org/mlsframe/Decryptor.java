package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * Opens the other members' frames ({@code mlsframe_decryptor}). The {@link ByteBuffer}
 * path hands direct buffers' memory to the native code: nothing is copied, and nothing is
 * allocated on the Java heap (it returns an {@code int}; the sender goes into a
 * {@link FrameSender} the caller reuses). Thread-safe; {@link #close()} frees it.
 */
public final class Decryptor extends NativeHandle {
    Decryptor(long handle) {
        super(handle);
    }

    @Override
    void free(long handle) {
        Native.decryptorFree(handle);
    }

    /** The most plaintext a {@code frameLen}-byte frame can hold (never more than {@code frameLen}). */
    public static int maxPlaintextSize(int frameLen) {
        return Native.maxPlaintextSize(frameLen);
    }

    /**
     * Opens {@code frame}'s remaining bytes into {@code out} at its position: on success
     * {@code frame}'s position moves to its limit and {@code out}'s past the plaintext.
     * Both buffers must be direct. {@code MLSFRAME_NO_KEY} is recoverable (the epoch has
     * not arrived; the frame may be held, see {@link #takeReleased}); other codes mean a
     * bad frame. On failure no position moves.
     *
     * @return the plaintext length
     */
    public int decrypt(ByteBuffer frame, ByteBuffer out) {
        return decrypt(frame, out, null, null);
    }

    /**
     * {@link #decrypt(ByteBuffer, ByteBuffer)} with additional data (a direct buffer, or
     * null; its position does not move), writing who sealed the frame into {@code sender}
     * (may be null).
     */
    public int decrypt(ByteBuffer frame, ByteBuffer out, ByteBuffer additionalData, FrameSender sender) {
        return decrypt(frame, out, additionalData, sender, Codec.WHOLE);
    }

    /**
     * {@link #decrypt(ByteBuffer, ByteBuffer)} for a frame sealed as {@code codec} by a
     * codec-aware encryptor ({@code mlsframe_decryptor_decrypt_codec}; the plaintext is
     * at most the frame's length). The codec comes from the stream's configuration (e.g.
     * its RTP payload type) and is authenticated: a frame sealed as another codec, or
     * whole, fails ({@code MLSFRAME_AUTH_FAILED} or {@code MLSFRAME_MALFORMED_LAYOUT}).
     */
    public int decrypt(ByteBuffer frame, ByteBuffer out, Codec codec) {
        return decrypt(frame, out, null, null, codec);
    }

    /**
     * {@link #decrypt(ByteBuffer, ByteBuffer, Codec)} with additional data (a direct
     * buffer, or null) and the sender holder (may be null), as
     * {@link #decrypt(ByteBuffer, ByteBuffer, ByteBuffer, FrameSender)}.
     */
    public int decrypt(ByteBuffer frame, ByteBuffer out, ByteBuffer additionalData, FrameSender sender,
            Codec codec) {
        java.util.Objects.requireNonNull(codec, "codec");
        Buffers.requireDirect(frame, out);
        Buffers.requireDirectOrNull(additionalData);
        int written = Native.decryptDirect(handle(), codec.id(), frame, frame.position(), frame.remaining(),
                out, out.position(), out.remaining(),
                additionalData, Buffers.position(additionalData), Buffers.remaining(additionalData),
                FrameSender.valuesOf(sender));
        frame.position(frame.limit());
        out.position(out.position() + written);
        return written;
    }

    /** Opens a whole frame into a new array (convenience: copies). */
    public byte[] decrypt(byte[] frame) {
        return decrypt(frame, null, null, Codec.WHOLE);
    }

    /** Opens a whole frame with additional data (may be null); the sender goes to {@code sender} (may be null). */
    public byte[] decrypt(byte[] frame, byte[] additionalData, FrameSender sender) {
        return decrypt(frame, additionalData, sender, Codec.WHOLE);
    }

    /** Opens a frame sealed as {@code codec} into a new array (convenience: copies). */
    public byte[] decrypt(byte[] frame, Codec codec) {
        return decrypt(frame, null, null, codec);
    }

    /**
     * Opens a frame sealed as {@code codec} with additional data (may be null); the sender
     * goes to {@code sender} (may be null).
     */
    public byte[] decrypt(byte[] frame, byte[] additionalData, FrameSender sender, Codec codec) {
        java.util.Objects.requireNonNull(codec, "codec");
        return Native.decryptArray(handle(), codec.id(), frame, additionalData, FrameSender.valuesOf(sender));
    }

    /**
     * A frame answered {@code MLSFRAME_NO_KEY} because its epoch had not arrived is held
     * (a bounded few) and released once the epoch arrives. After processing MLS messages,
     * call this until it returns -1: each call writes one released frame's plaintext into
     * {@code out} at its position (moving it), its sender into {@code sender} (may be
     * null), and returns its length. {@code MLSFRAME_BUFFER_TOO_SMALL} leaves the frame
     * queued.
     *
     * @return the plaintext length, or -1 when no frame is released
     */
    public int takeReleased(ByteBuffer out, FrameSender sender) {
        java.util.Objects.requireNonNull(out, "out");
        if (!out.isDirect() || out.isReadOnly()) {
            throw new MlsframeException(MlsframeException.INVALID_ARGUMENT);
        }
        int written = Native.takeReleased(handle(), out, out.position(), out.remaining(),
                FrameSender.valuesOf(sender));
        if (written >= 0) {
            out.position(out.position() + written);
        }
        return written;
    }

    /**
     * The user id and device id of the member who sealed a frame, looked up in the frame's
     * own epoch ({@code mlsframe_decryptor_sender_identity}).
     */
    public MemberIdentity senderIdentity(FrameSender sender) {
        byte[][] ids = Native.senderIdentity(handle(), sender.epoch(), sender.leaf(), sender.context());
        return new MemberIdentity(ids[0], ids[1]);
    }

    /** The decryptor's counters. */
    public DecryptorStats stats() {
        long[] s = Native.decryptorStats(handle());
        return new DecryptorStats(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8]);
    }
}
