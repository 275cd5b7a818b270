package org.mlsframe;

/** A decryptor's counters ({@code mlsframe_decryptor_stats}). */
public record DecryptorStats(long framesIn, long bytesIn, long bytesOut, long noKey, long authFailed,
        long replay, long malformed, long other, long epoch) {}
