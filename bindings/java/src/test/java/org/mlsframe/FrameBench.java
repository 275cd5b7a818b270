package org.mlsframe;

import java.nio.ByteBuffer;

/**
 * The frame path through Java (direct buffers): per-frame nanoseconds to seal and to open
 * a 100-byte and a 10 KiB frame. bench/frame_bench.c measures the same calls in C; the
 * README compares the two.
 */
public final class FrameBench {
    public static void main(String[] args) {
        try (Session alice = Session.create("alice", "phone"); Session bob = Session.create("bob", "laptop")) {
            alice.createGroup();
            Commit add = alice.addMembers(bob.keyPackage());
            alice.confirmCommit();
            bob.join(add.welcome());
            alice.receiversReady();
            // The bare JNI crossing: a native call that does no crypto.
            long sink = 0;
            for (int round = 0; round < 2; round++) {
                int n = 1_000_000;
                long t0 = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    sink += Encryptor.maxCiphertextSize(i & 1023);
                }
                if (round == 1) {
                    System.out.printf("java JNI round trip (maxCiphertextSize): %.0f ns/call (%d)%n",
                            (double) (System.nanoTime() - t0) / n, sink & 1);
                }
            }
            try (Encryptor enc = alice.encryptor(0); Decryptor dec = bob.decryptor()) {
                for (int size : new int[] {100, 10240}) {
                    int iterations = size == 100 ? 50_000 : 2_000;
                    ByteBuffer frame = ByteBuffer.allocateDirect(size);
                    ByteBuffer sealed = ByteBuffer.allocateDirect(Encryptor.maxCiphertextSize(size));
                    ByteBuffer plain = ByteBuffer.allocateDirect(size);
                    for (int round = 0; round < 2; round++) { // round 0 warms up the JIT
                        long sealNs = 0;
                        long openNs = 0;
                        for (int i = 0; i < iterations; i++) {
                            frame.clear();
                            sealed.clear();
                            long t0 = System.nanoTime();
                            enc.encrypt(frame, sealed);
                            long t1 = System.nanoTime();
                            sealed.flip();
                            plain.clear();
                            dec.decrypt(sealed, plain);
                            long t2 = System.nanoTime();
                            sealNs += t1 - t0;
                            openNs += t2 - t1;
                        }
                        if (round == 1) {
                            System.out.printf("java %6d B: encrypt %8.0f ns/frame, decrypt %8.0f ns/frame%n",
                                    size, (double) sealNs / iterations, (double) openNs / iterations);
                        }
                    }
                }
            }
        }
    }
}
