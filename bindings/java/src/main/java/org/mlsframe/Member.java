package org.mlsframe;

/**
 * One member of the roster ({@code mlsframe_session_roster}).
 *
 * @param leaf its leaf index
 * @param userId its user id (empty for a member on another MLS stack)
 * @param deviceId its device id (may be empty)
 * @param fingerprint its signature key's fingerprint (hex, space-separated groups of four)
 * @param credentialType its MLS credential type (1 = basic)
 * @param foreignCredential the raw credential of a member on another MLS stack, else empty
 */
public record Member(int leaf, byte[] userId, byte[] deviceId, String fingerprint, int credentialType,
        byte[] foreignCredential) {}
