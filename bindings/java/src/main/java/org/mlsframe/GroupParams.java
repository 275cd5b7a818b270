package org.mlsframe;

/**
 * A group's SFrame parameters ({@code mlsframe_group_params}): SFrame suite 1..=5 (0: 4,
 * AES-128-GCM), KID epoch bits E 2..=16 (0: 4), handshake format.
 */
public record GroupParams(int sframeSuite, int epochBits, HandshakeFormat handshake) {
    /** The defaults: suite 4, E = 4, encrypted handshakes. */
    public static final GroupParams DEFAULTS = new GroupParams(4, 4, HandshakeFormat.CIPHERTEXT);

    int[] values() {
        return new int[] {sframeSuite, epochBits, handshake.ordinal()};
    }

    static int[] valuesOrNull(GroupParams p) {
        return p == null ? null : p.values();
    }
}
