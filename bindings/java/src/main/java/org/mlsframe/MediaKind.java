package org.mlsframe;

/**
 * The usual stream contexts of one device ({@link Session#encryptor(MediaKind)}): each
 * kind seals under its own context, so one device's audio, video and screen streams never
 * share counters. Any other context is {@link Session#encryptor(long)}.
 */
public enum MediaKind {
    /** Context 0. */
    AUDIO,
    /** Context 1. */
    VIDEO,
    /** Context 2. */
    SCREEN;

    /** The stream context. */
    public long context() {
        return ordinal();
    }
}
