package org.mlsframe;

/** A member's raw MLS credential: its type (1 = basic, 2 = X.509, ...) and content. */
public record Credential(int type, byte[] content) {}
