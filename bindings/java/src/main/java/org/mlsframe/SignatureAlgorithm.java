package org.mlsframe;

/** How an identity signs ({@code mlsframe_signature_algorithm}, RFC 9420 SignatureScheme). */
public enum SignatureAlgorithm {
    /** Ed25519 (0x0807): the secret is the 32-byte seed; MLS ciphersuites 0x0001, 0x0003. */
    ED25519(0x0807),
    /** ECDSA P-256 with SHA-256 (0x0403): the secret is the 32-byte scalar; MLS ciphersuite 0x0002. */
    ECDSA_P256(0x0403);

    /** The code point. */
    public final int code;

    SignatureAlgorithm(int code) {
        this.code = code;
    }

    static SignatureAlgorithm of(int code) {
        for (SignatureAlgorithm a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        throw new MlsframeException(MlsframeException.INTERNAL);
    }
}
