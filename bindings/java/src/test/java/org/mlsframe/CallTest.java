package org.mlsframe;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The Java binding's tests on the JVM (no JUnit: a plain main that exits non-zero on the
 * first failure): a 3-party call with a removal, frames through direct buffers, bad
 * inputs mapped to their codes.
 */
public final class CallTest {
    private static int checks;

    static void check(boolean ok, String what) {
        checks++;
        if (!ok) {
            throw new AssertionError("FAILED: " + what);
        }
    }

    static void expectCode(int code, Runnable call, String what) {
        try {
            call.run();
        } catch (MlsframeException e) {
            check(e.code() == code, what + ": expected " + MlsframeException.nameOf(code) + ", got " + e.getMessage());
            return;
        }
        check(false, what + ": no exception, expected " + MlsframeException.nameOf(code));
    }

    /** Seals {@code plain} through direct buffers and returns the sealed bytes (a direct buffer, flipped). */
    static ByteBuffer seal(Encryptor enc, byte[] plain) {
        ByteBuffer frame = ByteBuffer.allocateDirect(plain.length);
        frame.put(plain).flip();
        ByteBuffer out = ByteBuffer.allocateDirect(Encryptor.maxCiphertextSize(plain.length));
        int n = enc.encrypt(frame, out);
        check(n == out.position() && !frame.hasRemaining(), "encrypt moves the positions");
        return out.flip();
    }

    static byte[] open(Decryptor dec, ByteBuffer sealed) {
        ByteBuffer out = ByteBuffer.allocateDirect(sealed.remaining());
        dec.decrypt(sealed.duplicate(), out);
        out.flip();
        byte[] plain = new byte[out.remaining()];
        out.get(plain);
        return plain;
    }

    static void threePartyCallWithRemoval() {
        try (Session alice = Session.create("alice", "phone");
                Session bob = Session.create("bob", "laptop");
                Session carol = Session.create("carol", "tablet")) {
            alice.createGroup();
            Commit addBob = alice.addMembers(bob.keyPackage());
            alice.confirmCommit();
            check(bob.join(addBob.welcome()) == 1, "bob joins epoch 1");

            Commit addCarol = alice.addMembers(carol.keyPackage());
            alice.confirmCommit();
            Outcome o = bob.process(addCarol.commit());
            check(o.kind() == OutcomeKind.EPOCH_CHANGED && o.epoch() == 2 && o.added() == 1, "bob sees carol added: " + o);
            check(carol.join(addCarol.welcome()) == 2, "carol joins epoch 2");
            alice.receiversReady();

            try (Encryptor aliceEnc = alice.encryptor(0);
                    Decryptor bobDec = bob.decryptor();
                    Decryptor carolDec = carol.decryptor()) {
                byte[] hello = "hello, epoch 2".getBytes(StandardCharsets.UTF_8);
                ByteBuffer sealed = seal(aliceEnc, hello);
                check(Arrays.equals(open(bobDec, sealed), hello), "bob opens alice's frame");
                check(Arrays.equals(open(carolDec, sealed), hello), "carol opens alice's frame");
                // byte[] convenience path.
                byte[] sealedArray = aliceEnc.encrypt(hello);
                check(Arrays.equals(bobDec.decrypt(sealedArray), hello), "byte[] path");

                int carolLeaf = carol.ownLeaf();
                byte[] remove = alice.removeMember(carolLeaf);
                alice.confirmCommit();
                alice.receiversReady();
                check(bob.process(remove).kind() == OutcomeKind.EPOCH_CHANGED, "bob sees the removal");
                check(carol.process(remove).kind() == OutcomeKind.REMOVED, "carol is removed");
                check(alice.epoch() == 3 && bob.epoch() == 3, "epoch 3");

                byte[] secret = "after carol left".getBytes(StandardCharsets.UTF_8);
                ByteBuffer sealed3 = seal(aliceEnc, secret);
                check(Arrays.equals(open(bobDec, sealed3), secret), "bob opens epoch 3");
                try {
                    open(carolDec, sealed3);
                    check(false, "carol must not open epoch 3");
                } catch (MlsframeException e) {
                    check(e.code() == MlsframeException.NO_KEY, "carol: NO_KEY, got " + e.getMessage());
                }
                expectCode(MlsframeException.NOT_MEMBER, () -> carol.encryptor(1).encrypt(hello), "removed carol cannot send");
            }
        }
    }

    static void badInputs() {
        try (Session alice = Session.create("alice", "phone"); Session bob = Session.create("bob", "laptop")) {
            alice.createGroup();
            Commit add = alice.addMembers(bob.keyPackage());
            alice.confirmCommit();
            bob.join(add.welcome());
            try (Encryptor enc = alice.encryptor(0); Decryptor dec = bob.decryptor()) {
                byte[] plain = new byte[100];
                ByteBuffer sealed = seal(enc, plain);

                // Short output buffer.
                ByteBuffer small = ByteBuffer.allocateDirect(10);
                expectCode(MlsframeException.BUFFER_TOO_SMALL, () -> dec.decrypt(sealed.duplicate(), small), "short plaintext buffer");
                ByteBuffer frame = ByteBuffer.allocateDirect(100);
                expectCode(MlsframeException.BUFFER_TOO_SMALL, () -> enc.encrypt(frame, ByteBuffer.allocateDirect(50)), "short ciphertext buffer");

                // Tampered frame: flip one bit of the last byte (the tag).
                ByteBuffer tampered = ByteBuffer.allocateDirect(sealed.remaining());
                tampered.put(sealed.duplicate()).flip();
                tampered.put(tampered.limit() - 1, (byte) (tampered.get(tampered.limit() - 1) ^ 1));
                expectCode(MlsframeException.AUTH_FAILED, () -> open(dec, tampered), "tampered frame");

                // Replay, then an empty frame.
                open(dec, sealed);
                expectCode(MlsframeException.REPLAY, () -> open(dec, sealed), "replayed frame");
                expectCode(MlsframeException.MALFORMED, () -> dec.decrypt(new byte[0]), "empty frame");

                // Heap buffers are refused on the zero-copy path (frame, output, additional
                // data), and so is a read-only output; null buffers are NullPointerExceptions.
                expectCode(MlsframeException.INVALID_ARGUMENT, () -> enc.encrypt(ByteBuffer.allocate(10), ByteBuffer.allocateDirect(64)), "heap buffer");
                expectCode(MlsframeException.INVALID_ARGUMENT, () -> enc.encrypt(ByteBuffer.allocateDirect(10), ByteBuffer.allocate(64)), "heap output buffer");
                expectCode(MlsframeException.INVALID_ARGUMENT, () -> enc.encrypt(ByteBuffer.allocateDirect(10), ByteBuffer.allocateDirect(64), ByteBuffer.allocate(4)), "heap additional data");
                expectCode(MlsframeException.INVALID_ARGUMENT, () -> dec.decrypt(sealed.duplicate(), ByteBuffer.allocateDirect(200).asReadOnlyBuffer()), "read-only output");
                expectThrows(NullPointerException.class, () -> enc.encrypt(null, ByteBuffer.allocateDirect(64)), "null frame buffer");
                expectThrows(NullPointerException.class, () -> dec.decrypt(sealed.duplicate(), null), "null output buffer");
                expectCode(MlsframeException.NULL_ARGUMENT, () -> enc.encrypt((byte[]) null), "null frame array (encrypt)");
                // A failed call moves no position.
                ByteBuffer shortOut = ByteBuffer.allocateDirect(10);
                ByteBuffer sealedCopy = seal(enc, plain);
                expectCode(MlsframeException.BUFFER_TOO_SMALL, () -> dec.decrypt(sealedCopy, shortOut), "short output again");
                check(sealedCopy.position() == 0 && shortOut.position() == 0, "a failed decrypt moves no position");

                // MLS: garbage message, own removal, unknown leaf, context in use.
                expectCode(MlsframeException.MLS_MALFORMED, () -> bob.process(new byte[] {1, 2, 3}), "garbage MLS message");
                expectCode(MlsframeException.NULL_ARGUMENT, () -> alice.process(null), "null MLS message");
                expectCode(MlsframeException.NULL_ARGUMENT, () -> dec.decrypt((byte[]) null), "null frame array");
                expectCode(MlsframeException.MLS_CANNOT_REMOVE_SELF, () -> alice.removeMember(alice.ownLeaf()), "remove self");
                expectCode(MlsframeException.MLS_UNKNOWN_MEMBER, () -> alice.removeMember(7), "unknown leaf");
                expectCode(MlsframeException.CONTEXT_IN_USE, () -> alice.encryptor(0), "context in use");
                expectCode(MlsframeException.MLS_UNKNOWN_MEMBER, () -> alice.removeMember(-1), "negative leaf");

                // Closed handles answer NULL_ARGUMENT; closing twice is harmless.
                enc.close();
                enc.close();
                expectCode(MlsframeException.NULL_ARGUMENT, () -> enc.encrypt(plain), "closed encryptor");
                dec.close();
                expectCode(MlsframeException.NULL_ARGUMENT, () -> open(dec, sealed), "closed decryptor");
            }
            bob.close();
            expectCode(MlsframeException.NULL_ARGUMENT, bob::keyPackage, "closed session");
        }
        expectCode(403, () -> Session.create(new byte[0], new byte[0]), "empty user id");
    }

    static void expectThrows(Class<? extends Throwable> type, Runnable call, String what) {
        try {
            call.run();
        } catch (Throwable t) {
            check(type.isInstance(t), what + ": expected " + type.getSimpleName() + ", got " + t);
            return;
        }
        check(false, what + ": no exception, expected " + type.getSimpleName());
    }

    static void sframeAlone() {
        byte[] key = new byte[16];
        Arrays.fill(key, (byte) 7);
        byte[] otherKey = new byte[16];
        try (SframeContext sender = new SframeContext(0);
                SframeContext receiver = new SframeContext(0);
                SframeContext stranger = new SframeContext(0)) {
            sender.setSendKey(4, 42, key, 0);
            receiver.addReceiveKey(4, 42, key);
            stranger.addReceiveKey(4, 42, otherKey);
            byte[] hello = "sframe alone".getBytes(StandardCharsets.UTF_8);
            ByteBuffer frame = ByteBuffer.allocateDirect(hello.length);
            frame.put(hello).flip();
            ByteBuffer sealed = ByteBuffer.allocateDirect(SframeContext.maxCiphertextSize(hello.length));
            sender.encrypt(frame, sealed);
            sealed.flip();
            ByteBuffer plain = ByteBuffer.allocateDirect(hello.length);
            receiver.decrypt(sealed.duplicate(), plain);
            byte[] got = new byte[plain.flip().remaining()];
            plain.get(got);
            check(Arrays.equals(got, hello), "SframeContext round trip");
            expectCode(MlsframeException.AUTH_FAILED,
                    () -> stranger.decrypt(sealed.duplicate(), ByteBuffer.allocateDirect(64)), "another key");
            receiver.removeReceiveKey(42);
            expectCode(MlsframeException.NO_KEY,
                    () -> receiver.decrypt(sealed.duplicate(), ByteBuffer.allocateDirect(64)), "removed key");
            expectCode(304, () -> sender.setSendKey(9, 1, key, 0), "unknown suite");
            expectCode(MlsframeException.INVALID_ARGUMENT, () -> sender.setSendKey(4, 1, new byte[8], 0), "short key");
        }
    }

    /** Runs every test; exits non-zero (an AssertionError) on the first failed check. */
    public static void main(String[] args) {
        threePartyCallWithRemoval();
        System.out.println("ok: 3-party call with a removal, frames through direct buffers");
        badInputs();
        System.out.println("ok: bad inputs");
        sframeAlone();
        System.out.println("ok: SframeContext with app-managed keys");
        ApiTest.run();
        System.out.println("all " + checks + " checks passed");
    }
}
