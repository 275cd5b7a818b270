package org.mlsframe;

/**
 * Who sealed a frame ({@code mlsframe_sender}), filled in by a decrypt: the frame's epoch,
 * the sender's leaf in that epoch and its stream context, "claimed within the group" (any
 * member holds the epoch key, RFC 9605 section 7.2). A mutable holder the caller allocates
 * once and passes to every decrypt, so the frame path allocates nothing; not thread-safe
 * (one per decrypting thread). Resolve it with {@link Decryptor#senderIdentity}.
 */
public final class FrameSender {
    final long[] values = new long[3];

    /** An empty holder (all zero). */
    public FrameSender() {}

    /** The MLS epoch of the frame's key. */
    public long epoch() {
        return values[0];
    }

    /** The sender's leaf index in that epoch. */
    public int leaf() {
        return (int) values[1];
    }

    /** The sender's stream context. */
    public long context() {
        return values[2];
    }

    static long[] valuesOf(FrameSender s) {
        return s == null ? null : s.values;
    }

    @Override
    public String toString() {
        return "FrameSender[epoch=" + epoch() + ", leaf=" + leaf() + ", context=" + context() + "]";
    }
}
