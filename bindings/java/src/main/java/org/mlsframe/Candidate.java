package org.mlsframe;

/**
 * A member the {@link AdmissionPolicy} is asked about ({@code mlsframe_candidate}).
 *
 * @param isMlsframeIdentity true when the credential is an mlsframe identity; false for a
 *     member on another MLS stack (then {@code userId} and {@code deviceId} are empty, and
 *     only {@code credentialType} and {@code credential} say who it is)
 * @param userId the user id (empty for a foreign credential)
 * @param deviceId the device id (may be empty)
 * @param credentialType the MLS credential type (1 = basic)
 * @param credential the raw credential content
 * @param signatureKey the member's signature public key
 * @param fingerprint the signature key's SHA-256 in hex, 16 groups of four
 */
public record Candidate(boolean isMlsframeIdentity, byte[] userId, byte[] deviceId, int credentialType,
        byte[] credential, byte[] signatureKey, String fingerprint) {}
