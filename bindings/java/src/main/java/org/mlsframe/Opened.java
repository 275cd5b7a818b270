package org.mlsframe;

/** A frame opened by {@link SframeContext#decrypt(byte[], byte[])}: its plaintext and KID. */
public record Opened(byte[] plaintext, long kid) {}
