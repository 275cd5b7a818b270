package org.mlsframe;

/** How commits and proposals travel ({@code mlsframe_handshake_format}). */
public enum HandshakeFormat {
    /** MLS PrivateMessage: encrypted to the group (the default). */
    CIPHERTEXT,
    /** MLS PublicMessage: the delivery service can read them. */
    PLAINTEXT
}
