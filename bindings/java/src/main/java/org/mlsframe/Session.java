package org.mlsframe;

import java.nio.charset.StandardCharsets;

/**
 * One device's MLS membership ({@code mlsframe_session}): key packages, group operations
 * and incoming handshake messages. Thread-safe; {@link #close()} frees it (its encryptors
 * and decryptors live on independently and must be closed too).
 */
public final class Session extends NativeHandle {
    /** SFrame suite AES-128-GCM-SHA256-128 (RFC 9605 suite 4), the default. */
    public static final int SFRAME_AES_128_GCM = 4;
    /** Bits of the epoch in each KID (RFC 9605 section 5.2 E), the default. */
    public static final int DEFAULT_EPOCH_BITS = 4;

    private Session(long handle) {
        super(handle);
    }

    /** A session for {@code (userId, deviceId)} with a fresh Ed25519 identity key. */
    public static Session create(byte[] userId, byte[] deviceId) {
        return new Session(Native.sessionNew(userId, deviceId));
    }

    /** {@link #create(byte[], byte[])} with UTF-8 ids. */
    public static Session create(String userId, String deviceId) {
        return create(userId.getBytes(StandardCharsets.UTF_8), deviceId.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    void free(long handle) {
        Native.sessionFree(handle);
    }

    /** A fresh key package to publish so that others can add this device. */
    public byte[] keyPackage() {
        return Native.keyPackage(handle());
    }

    /** Creates a group with this device as its only member, with the defaults. */
    public void createGroup() {
        createGroup(SFRAME_AES_128_GCM, DEFAULT_EPOCH_BITS, false);
    }

    /** Creates a group: SFrame suite, epoch bits E, and whether handshakes go in plaintext. */
    public void createGroup(int sframeSuite, int epochBits, boolean plaintextHandshake) {
        Native.createGroup(handle(), sframeSuite, epochBits, plaintextHandshake);
    }

    /** Joins from a welcome; returns the joined epoch. */
    public long join(byte[] welcome) {
        return Native.join(handle(), welcome);
    }

    /** Adds members by their key packages in a pending commit (confirm or discard it). */
    public Commit addMembers(byte[]... keyPackages) {
        byte[][] pair = Native.addMembers(handle(), keyPackages);
        return new Commit(pair[0], pair[1].length == 0 ? null : pair[1]);
    }

    /** Removes the member at {@code leaf} in a pending commit; returns the commit. */
    public byte[] removeMember(int leaf) {
        return Native.removeMember(handle(), leaf);
    }

    /** The delivery service accepted our pending commit: merge it (new epoch). */
    public void confirmCommit() {
        Native.confirmCommit(handle());
    }

    /**
     * All receivers have the new epoch: the session's encryptors switch to it now rather
     * than after the configured delay.
     */
    public void receiversReady() {
        Native.receiversReady(handle());
    }

    /** Processes an incoming MLS message (commit, proposal). */
    public Outcome process(byte[] message) {
        long[] o = Native.process(handle(), message);
        return new Outcome(OutcomeKind.of(o[0]), o[1], (int) o[2], (int) o[3]);
    }

    /** The current epoch. */
    public long epoch() {
        return Native.epoch(handle())[0];
    }

    /** Our leaf index in the current epoch. */
    public int ownLeaf() {
        return (int) Native.epoch(handle())[1];
    }

    /** An encryptor for our stream {@code context} (one live encryptor per context). */
    public Encryptor encryptor(long context) {
        return new Encryptor(Native.encryptorNew(handle(), context));
    }

    /** A decryptor for the other members' frames. */
    public Decryptor decryptor() {
        return new Decryptor(Native.decryptorNew(handle()));
    }
}
