package org.mlsframe;

import java.nio.ByteBuffer;

/** The JNI layer (libmlsframe_jni): one static method per native call. Not public API. */
final class Native {
    static {
        System.loadLibrary("mlsframe_jni");
    }

    private Native() {}

    static native long sessionNew(byte[] userId, byte[] deviceId);
    static native void sessionFree(long session);
    static native byte[] keyPackage(long session);
    static native void createGroup(long session, int sframeSuite, int epochBits, boolean plaintextHandshake);
    static native long join(long session, byte[] welcome);
    static native byte[][] addMembers(long session, byte[][] keyPackages);
    static native byte[] removeMember(long session, int leaf);
    static native void confirmCommit(long session);
    static native void receiversReady(long session);
    static native long[] process(long session, byte[] message);
    static native long[] epoch(long session);

    static native long encryptorNew(long session, long context);
    static native void encryptorFree(long encryptor);
    static native int maxCiphertextSize(int frameLen);
    static native int encryptDirect(long encryptor, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap);
    static native byte[] encryptArray(long encryptor, byte[] frame);

    static native long decryptorNew(long session);
    static native void decryptorFree(long decryptor);
    static native int decryptDirect(long decryptor, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap);
    static native byte[] decryptArray(long decryptor, byte[] frame);

    static native long sframeContextNew(int replayWindow);
    static native void sframeContextFree(long context);
    static native void sframeSetSendKey(long context, int suite, long kid, byte[] baseKey, long firstCounter);
    static native void sframeAddReceiveKey(long context, int suite, long kid, byte[] baseKey);
    static native void sframeRemoveReceiveKey(long context, long kid);
    static native int sframeMaxCiphertextSize(int frameLen);
    static native int sframeEncryptDirect(long context, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap);
    static native int sframeDecryptDirect(long context, ByteBuffer frame, int frameOff, int frameLen,
            ByteBuffer out, int outOff, int outCap);
}
