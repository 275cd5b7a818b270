package org.mlsframe;

import java.nio.ByteBuffer;
import java.util.Objects;

final class Buffers {
    private Buffers() {}

    /** The frame path takes direct buffers only (their memory is passed, never copied). */
    static void requireDirect(ByteBuffer frame, ByteBuffer out) {
        Objects.requireNonNull(frame, "frame");
        Objects.requireNonNull(out, "out");
        if (!frame.isDirect() || !out.isDirect() || out.isReadOnly()) {
            throw new MlsframeException(MlsframeException.INVALID_ARGUMENT);
        }
    }

    /** Additional data: null (none) or a direct buffer whose remaining bytes are read. */
    static void requireDirectOrNull(ByteBuffer ad) {
        if (ad != null && !ad.isDirect()) {
            throw new MlsframeException(MlsframeException.INVALID_ARGUMENT);
        }
    }

    static int position(ByteBuffer b) {
        return b == null ? 0 : b.position();
    }

    static int remaining(ByteBuffer b) {
        return b == null ? 0 : b.remaining();
    }
}
