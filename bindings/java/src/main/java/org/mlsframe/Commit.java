package org.mlsframe;

/** A pending commit to send to the group, and the welcome for members it adds (or null). */
public record Commit(byte[] commit, byte[] welcome) {}
