package org.mlsframe;

/**
 * A third party allowed to send proposals to the group ({@code mlsframe_external_sender}):
 * its signature public key (1..=1024 bytes) and its basic credential's identity.
 */
public record ExternalSender(byte[] signatureKey, byte[] identity) {}
