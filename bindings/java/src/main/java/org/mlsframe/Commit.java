package org.mlsframe;

/**
 * A pending commit to send to the group, and the welcome for the members it adds (null
 * when it adds none). Confirm it ({@link Session#confirmCommit()}) once the delivery
 * service accepts it, or discard it ({@link Session#discardCommit()}).
 */
public record Commit(byte[] commit, byte[] welcome) {}
