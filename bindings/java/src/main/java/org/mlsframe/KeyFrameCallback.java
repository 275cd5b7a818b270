package org.mlsframe;

/**
 * Called when an encryptor switches to a new epoch: ask the encoder for a key frame
 * ({@code mlsframe_key_frame_callback}). It runs on the thread of the encrypt call that
 * switched, after the frame was sealed; it must be thread-safe and must not call into
 * mlsframe (such calls throw {@link IllegalStateException}). If it throws, that encrypt
 * call throws the same exception (the frame was sealed, but the buffers' positions are
 * not moved: seal the frame again).
 */
@FunctionalInterface
public interface KeyFrameCallback {
    /** Stream {@code context} now seals in {@code epoch}. */
    void keyFrameNeeded(long context, long epoch);
}
