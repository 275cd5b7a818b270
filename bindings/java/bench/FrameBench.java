package org.mlsframe;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The frame path through Java with direct buffers, as bench/frame_bench.c measures it
 * through the C ABI: alice seals a frame, bob opens it, for frames of 100 B, 1 KiB and
 * 10 KiB, with the same warm-up (every size first, then each size again) and timed
 * rounds of the same number of frames (the loop timed as a whole); prints
 * "java size median-ns-per-frame (seal + open)". Argument: "quick" for short rounds. bench/run.sh runs both and compares them.
 */
public final class FrameBench {
    private static final int WARMUP = 3;
    private static final int ROUNDS = 7;

    private FrameBench() {}

    /** Frames per round, as frame_bench.c. */
    private static int framesFor(int size, boolean quick) {
        int n = size <= 100 ? 20000 : size <= 1024 ? 10000 : 2000;
        return quick ? n / 10 : n;
    }

    /** Runs the measurement; {@code args[0] == "quick"} for short rounds. */
    public static void main(String[] args) {
        boolean quick = args.length > 0 && args[0].equals("quick");
        try (Session alice = Session.create("alice", "phone"); Session bob = Session.create("bob", "laptop")) {
            alice.createGroup();
            Commit add = alice.addMembers(bob.keyPackage());
            alice.confirmCommit();
            bob.join(add.welcome());
            alice.receiversReady();
            try (Encryptor enc = alice.encryptor(0); Decryptor dec = bob.decryptor()) {
                // Pass 0 warms every size up (WARMUP rounds each, untimed: the JIT compiles
                // here); pass 1 measures each size after one more warm-up round.
                for (int pass = 0; pass < 2; pass++) {
                    for (int size : new int[] {100, 1024, 10240}) {
                        int n = framesFor(size, quick);
                        int warmup = pass == 0 ? WARMUP : 1;
                        int timed = pass == 0 ? 0 : ROUNDS;
                        ByteBuffer frame = ByteBuffer.allocateDirect(size);
                        ByteBuffer sealed = ByteBuffer.allocateDirect(Encryptor.maxCiphertextSize(size));
                        ByteBuffer plain = ByteBuffer.allocateDirect(size);
                        double[] perFrame = new double[ROUNDS];
                        for (int round = 0; round < warmup + timed; round++) {
                            long t0 = System.nanoTime();
                            for (int i = 0; i < n; i++) {
                                frame.clear();
                                sealed.clear();
                                enc.encrypt(frame, sealed);
                                sealed.flip();
                                plain.clear();
                                dec.decrypt(sealed, plain);
                            }
                            long t1 = System.nanoTime();
                            if (round >= warmup) {
                                perFrame[round - warmup] = (double) (t1 - t0) / n;
                            }
                        }
                        if (timed > 0) {
                            Arrays.sort(perFrame);
                            System.out.printf("java %d %.1f%n", size, perFrame[ROUNDS / 2]);
                        }
                    }
                }
            }
        }
    }
}
