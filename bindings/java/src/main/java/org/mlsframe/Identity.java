package org.mlsframe;

import java.nio.charset.StandardCharsets;

/**
 * Who a new session is and how it signs ({@code mlsframe_identity_options}): user id
 * (1..=1024 bytes), device id (0..=1024 bytes), signature algorithm, and the 32-byte
 * identity secret the app persists (null: a fresh key, kept only inside snapshots).
 */
public record Identity(byte[] userId, byte[] deviceId, SignatureAlgorithm algorithm, byte[] secret) {
    /** A fresh identity of {@code algorithm} with UTF-8 ids. */
    public static Identity fresh(String userId, String deviceId, SignatureAlgorithm algorithm) {
        return new Identity(userId.getBytes(StandardCharsets.UTF_8), deviceId.getBytes(StandardCharsets.UTF_8),
                algorithm, null);
    }
}
