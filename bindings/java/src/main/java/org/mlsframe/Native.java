package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * The JNI layer (libmlsframe_jni): one static method per native call. Not public API.
 * Optional arguments are null; "state" arguments are callback slots
 * ({@link #callbackStateNew}), 0 for none.
 */
final class Native {
    static {
        System.loadLibrary("mlsframe_jni");
    }

    private Native() {}

    // Sessions: identities, snapshots.
    static native long sessionNew(byte[] userId, byte[] deviceId, byte[] seed, int[] config, long admission);
    static native long sessionNewWith(byte[] userId, byte[] deviceId, byte[] secret, int algorithm,
            int[] config, long admission);
    static native long sessionRestore(byte[] snapshot, int[] config, long admission);
    static native void sessionFree(long session);
    static native byte[] snapshot(long session);
    static native int signatureAlgorithm(long session);

    // Groups: creation, joins, commits, proposals.
    static native byte[] keyPackage(long session);
    static native byte[] keyPackageFor(long session, int mlsCiphersuite);
    static native void createGroup(long session, int sframeSuite, int epochBits, boolean plaintextHandshake);
    static native void createGroupWith(long session, int[] params, int mlsCiphersuite, int paramsSource,
            byte[][] senderKeys, byte[][] senderIdentities);
    static native long join(long session, byte[] welcome);
    static native long joinWith(long session, byte[] welcome, byte[] ratchetTree, int[] params);
    static native byte[] groupInfo(long session);
    static native byte[] joinByExternalCommit(long session, byte[] groupInfo, byte[] ratchetTree, int[] params,
            long[] epochOut);
    static native byte[][] addMembers(long session, byte[][] keyPackages);
    static native byte[] removeMember(long session, int leaf);
    static native byte[] removeUser(long session, byte[] userId);
    static native byte[] selfUpdate(long session);
    static native byte[][] commitPendingProposals(long session);
    static native byte[] leave(long session);
    static native void confirmCommit(long session);
    static native void discardCommit(long session);
    static native void receiversReady(long session);
    static native long[] process(long session, byte[] message);

    // The group's state.
    static native long[] epoch(long session);
    static native int ciphersuite(long session);
    static native int[] params(long session);
    static native byte[] ratchetTree(long session);
    static native byte[] securityCode(long session);
    static native byte[] epochAuthenticator(long session);
    static native byte[] exportSecret(long session, byte[] label, byte[] context, int length);
    static native byte[] roster(long session);
    static native byte[][] memberIdentity(long session, int leaf);
    static native byte[] memberCredential(long session, int leaf, int[] typeOut);

    // Encryptors.
    static native long encryptorNew(long session, long context);
    static native long encryptorNewWithCodec(long session, long context, int codec);
    static native void encryptorFree(long encryptor);
    static native int maxCiphertextSize(int frameLen);
    static native int encryptorMaxCiphertextSize(long encryptor, int frameLen);
    static native int encryptDirect(long encryptor, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap, ByteBuffer ad, int adOff, int adLen);
    static native byte[] encryptArray(long encryptor, byte[] frame, byte[] ad);
    static native long[] encryptorStats(long encryptor);
    static native void setKeyFrameCallback(long encryptor, long state);

    // Decryptors.
    static native long decryptorNew(long session);
    static native void decryptorFree(long decryptor);
    static native int maxPlaintextSize(int frameLen);
    static native int decryptDirect(long decryptor, int codec, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap, ByteBuffer ad, int adOff, int adLen, long[] senderOut);
    static native byte[] decryptArray(long decryptor, int codec, byte[] frame, byte[] ad, long[] senderOut);
    static native long[] decryptorStats(long decryptor);
    static native int takeReleased(long decryptor, ByteBuffer out, int outOff, int outCap, long[] senderOut);
    static native byte[][] senderIdentity(long decryptor, long epoch, int leaf, long context);

    // SFrame alone.
    static native long sframeContextNew(int replayWindow);
    static native void sframeContextFree(long context);
    static native void sframeSetSendKey(long context, int suite, long kid, byte[] baseKey, long firstCounter);
    static native long sframeSendCounter(long context);
    static native void sframeAddReceiveKey(long context, int suite, long kid, byte[] baseKey);
    static native void sframeRemoveReceiveKey(long context, long kid);
    static native int sframeMaxCiphertextSize(int frameLen);
    static native int sframeEncryptDirect(long context, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap, ByteBuffer ad, int adOff, int adLen);
    static native int sframeDecryptDirect(long context, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap, ByteBuffer ad, int adOff, int adLen, long[] kidOut);
    static native byte[] sframeEncryptArray(long context, byte[] frame, byte[] ad);
    static native byte[] sframeDecryptArray(long context, byte[] frame, byte[] ad, long[] kidOut);

    // Callbacks and process-wide calls.
    static native long callbackStateNew(Object target);
    static native void callbackStateSet(long state, Object target);
    static native void callbackStateFree(long state);
    static native void setLogCallback(Object sink, int maxLevel);
    static native String resultMessage(int code);
}
