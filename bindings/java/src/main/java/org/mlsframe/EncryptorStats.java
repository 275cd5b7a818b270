package org.mlsframe;

/** An encryptor's counters ({@code mlsframe_encryptor_stats}). */
public record EncryptorStats(long framesOut, long bytesIn, long bytesOut, long failedNotMember,
        long failedBuffer, long failedOther, long epoch) {}
