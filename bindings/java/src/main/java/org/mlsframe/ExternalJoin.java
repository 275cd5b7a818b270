package org.mlsframe;

/**
 * The result of {@link Session#joinByExternalCommit}: the commit to send to the group
 * (pending until {@link Session#confirmCommit()}) and the epoch it makes.
 */
public record ExternalJoin(byte[] commit, long epoch) {}
