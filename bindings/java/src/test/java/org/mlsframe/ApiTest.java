package org.mlsframe;

import static org.mlsframe.CallTest.check;
import static org.mlsframe.CallTest.expectCode;
import static org.mlsframe.CallTest.expectThrows;
import static org.mlsframe.CallTest.open;
import static org.mlsframe.CallTest.seal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The rest of the API on the JVM: zero-copy semantics, senders and additional data,
 * snapshots, external commits, P-256 identities, group options, the roster and secrets,
 * held frames, callbacks (throwing ones included), and the result-code mapping.
 */
final class ApiTest {
    private ApiTest() {}

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** A thrown exception a callback uses, so the tests can tell it from anything else. */
    static final class CallbackFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        CallbackFailure(String message) {
            super(message);
        }
    }

    /** Alice creates a group and adds bob (both joined, alice's receivers ready). */
    private static void pair(Session alice, Session bob) {
        alice.createGroup();
        Commit add = alice.addMembers(bob.keyPackage());
        alice.confirmCommit();
        bob.join(add.welcome());
        alice.receiversReady();
    }

    static void zeroCopyAndSenders() {
        try (Session alice = Session.create("alice", "phone"); Session bob = Session.create("bob", "laptop")) {
            pair(alice, bob);
            try (Encryptor enc = alice.encryptor(MediaKind.VIDEO); Decryptor dec = bob.decryptor()) {
                // A frame in the middle of a larger direct buffer, sealed into the middle of
                // another: only [position, limit) is read, the output lands at its position.
                byte[] payload = utf8("zero-copy payload, 32 bytes long");
                ByteBuffer frame = ByteBuffer.allocateDirect(100);
                frame.position(10);
                frame.put(payload);
                frame.limit(10 + payload.length).position(10);
                ByteBuffer out = ByteBuffer.allocateDirect(300);
                out.position(7);
                ByteBuffer ad = ByteBuffer.allocateDirect(5);
                ad.put(utf8("hdr:1")).flip();
                int n = enc.encrypt(frame, out, ad);
                check(frame.position() == frame.limit(), "frame position at its limit");
                check(out.position() == 7 + n && n > payload.length, "out position moved past the sealed bytes");
                check(ad.position() == 0 && ad.remaining() == 5, "additional data position unchanged");
                byte[] stillThere = new byte[payload.length];
                frame.duplicate().position(10).get(stillThere);
                check(Arrays.equals(stillThere, payload), "the input frame is not modified");

                ByteBuffer sealed = out.duplicate().limit(7 + n).position(7);
                ByteBuffer plain = ByteBuffer.allocateDirect(200);
                plain.position(3);
                FrameSender sender = new FrameSender();
                int m = dec.decrypt(sealed.duplicate(), plain, ad, sender);
                check(m == payload.length && plain.position() == 3 + m, "decrypt moves out's position by the plaintext length");
                byte[] got = new byte[m];
                plain.duplicate().position(3).get(got);
                check(Arrays.equals(got, payload), "output bytes equal the input");
                check(sender.epoch() == 1 && sender.leaf() == alice.ownLeaf()
                        && sender.context() == MediaKind.VIDEO.context(), "sender: " + sender);
                MemberIdentity who = dec.senderIdentity(sender);
                check(Arrays.equals(who.userId(), utf8("alice")) && Arrays.equals(who.deviceId(), utf8("phone")),
                        "sender identity is alice's phone");

                // Other additional data: the tag does not verify.
                ByteBuffer otherAd = ByteBuffer.allocateDirect(5);
                otherAd.put(utf8("hdr:2")).flip();
                byte[] payload2 = utf8("second");
                ByteBuffer f2 = ByteBuffer.allocateDirect(payload2.length);
                f2.put(payload2).flip();
                ByteBuffer s2 = ByteBuffer.allocateDirect(Encryptor.maxCiphertextSize(payload2.length));
                enc.encrypt(f2, s2, ad);
                s2.flip();
                expectCode(MlsframeException.AUTH_FAILED,
                        () -> dec.decrypt(s2.duplicate(), ByteBuffer.allocateDirect(64), otherAd, null), "other additional data");
                expectCode(MlsframeException.AUTH_FAILED,
                        () -> dec.decrypt(s2.duplicate(), ByteBuffer.allocateDirect(64)), "missing additional data");

                // byte[] path with additional data and sender.
                byte[] sealedArray = enc.encrypt(payload2, utf8("ad"));
                FrameSender s3 = new FrameSender();
                check(Arrays.equals(dec.decrypt(sealedArray, utf8("ad"), s3), payload2) && s3.leaf() == alice.ownLeaf(),
                        "byte[] path with additional data");

                check(Decryptor.maxPlaintextSize(100) <= 100, "max plaintext size");

                EncryptorStats es = enc.stats();
                check(es.framesOut() == 3 && es.epoch() == 1, "encryptor stats: " + es);
                DecryptorStats ds = dec.stats();
                check(ds.framesIn() == 2 && ds.authFailed() == 2 && ds.epoch() == 1, "decryptor stats: " + ds);
            }
        }
    }

    static void snapshotRestore() {
        byte[] snapshot;
        try (Session alice = Session.create("alice", "phone"); Session bob = Session.create("bob", "laptop")) {
            pair(alice, bob);
            snapshot = bob.snapshot();
            long epoch = bob.epoch();
            bob.close();
            try (Session bob2 = Session.restore(snapshot, null);
                    Encryptor aliceEnc = alice.encryptor(0);
                    Decryptor bobDec = bob2.decryptor()) {
                check(bob2.epoch() == epoch && bob2.signatureAlgorithm() == SignatureAlgorithm.ED25519, "restored epoch and algorithm");
                byte[] hi = utf8("after restore");
                check(Arrays.equals(open(bobDec, seal(aliceEnc, hi)), hi), "the restored member opens frames");
                try (Encryptor bobEnc = bob2.encryptor(0)) {
                    expectCode(MlsframeException.REKEY_REQUIRED, () -> bobEnc.encrypt(hi), "restored: rekey before sending");
                    byte[] update = bob2.selfUpdate();
                    bob2.confirmCommit();
                    bob2.receiversReady();
                    check(alice.process(update).kind() == OutcomeKind.EPOCH_CHANGED, "alice merges bob's self-update");
                    try (Decryptor aliceDec = alice.decryptor()) {
                        check(Arrays.equals(aliceDec.decrypt(bobEnc.encrypt(hi)), hi), "the restored member sends after its self-update");
                    }
                }
            }
            expectCode(MlsframeException.MLS_MALFORMED, () -> Session.restore(new byte[] {1, 2, 3}, null), "garbage snapshot");
            Arrays.fill(snapshot, (byte) 0);
        }
    }

    static void externalCommitRejoin() {
        byte[] seed = new byte[32];
        Arrays.fill(seed, (byte) 42);
        try (Session alice = Session.create("alice", "phone");
                Session bob = Session.create(utf8("bob"), utf8("laptop"), seed, null)) {
            pair(alice, bob);
            int bobLeaf = bob.ownLeaf();
            bob.close(); // bob's device crashes and comes back with the same identity secret.
            try (Session bob2 = Session.create(utf8("bob"), utf8("laptop"), seed, null)) {
                ExternalJoin join = bob2.joinByExternalCommit(alice.groupInfo(), null, null);
                check(join.epoch() == 2 && join.commit().length > 0, "external join makes epoch 2");
                bob2.confirmCommit();
                Outcome o = alice.process(join.commit());
                check(o.kind() == OutcomeKind.EPOCH_CHANGED && o.epoch() == 2 && o.removed() == 1,
                        "alice merges the rejoin (the old leaf removed): " + o);
                check(alice.roster().size() == 2, "still two members");
                alice.receiversReady();
                try (Encryptor enc = alice.encryptor(0); Decryptor dec = bob2.decryptor()) {
                    byte[] hi = utf8("welcome back");
                    FrameSender sender = new FrameSender();
                    byte[] got = dec.decrypt(enc.encrypt(hi), null, sender);
                    check(Arrays.equals(got, hi) && sender.epoch() == 2, "the rejoined device opens epoch 2");
                }
                check(bobLeaf >= 0, "bob had a leaf");
            }
            try (Session eve = Session.create("eve", "x")) {
                expectCode(MlsframeException.MLS_MALFORMED,
                        () -> eve.joinByExternalCommit(new byte[] {9, 9}, null, null), "garbage group info");
            }
        }
    }

    static void identitiesAndOptions() {
        Identity p256 = Identity.fresh("paula", "desk", SignatureAlgorithm.ECDSA_P256);
        try (Session paula = Session.create(p256, SessionConfig.DEFAULTS);
                Session quinn = Session.create(Identity.fresh("quinn", "", SignatureAlgorithm.ECDSA_P256), null)) {
            check(paula.signatureAlgorithm() == SignatureAlgorithm.ECDSA_P256, "P-256 identity");
            paula.createGroup();
            check(paula.ciphersuite() == 2, "a P-256 session's group is MLS suite 0x0002");
            Commit add = paula.addMembers(quinn.keyPackage());
            paula.confirmCommit();
            quinn.join(add.welcome());
            check(quinn.ciphersuite() == 2, "quinn joins suite 2");
            expectCode(429, () -> paula.keyPackage(1), "P-256 cannot sign suite 1");
        }
        expectCode(MlsframeException.INVALID_ARGUMENT,
                () -> Session.create(new Identity(utf8("x"), new byte[0], SignatureAlgorithm.ED25519, new byte[5]), null),
                "a secret of 5 bytes");
        expectCode(MlsframeException.INVALID_CONFIG,
                () -> Session.create(utf8("x"), new byte[0], null, new SessionConfig(0, 0, 9999, 0, null)), "switch delay over 5000");
        expectCode(MlsframeException.INVALID_CONFIG,
                () -> Session.create(utf8("x"), new byte[0], null, new SessionConfig(-1, 0, 0, 0, null)), "a negative config value");
        expectCode(MlsframeException.NULL_ARGUMENT,
                () -> Session.create(new Identity(null, new byte[0], SignatureAlgorithm.ED25519, null), null), "a null user id");

        // Group options: app-agreed parameters, joined with an out-of-band ratchet tree.
        GroupParams params = new GroupParams(1, 8, HandshakeFormat.PLAINTEXT);
        try (Session alice = Session.create("alice", "phone"); Session bob = Session.create("bob", "laptop")) {
            alice.createGroup(new GroupOptions(params, 1, ParamsSource.APP,
                    List.of(new ExternalSender(new byte[32], utf8("ds")))));
            check(alice.params().equals(params) && alice.paramsSource() == ParamsSource.APP, "options applied: " + alice.params());
            Commit add = alice.addMembers(bob.keyPackage());
            alice.confirmCommit();
            check(bob.join(add.welcome(), alice.ratchetTree(), params) == 1, "join with a tree and app parameters");
            check(bob.params().equals(params), "bob uses the agreed parameters");
            try (Session lone = Session.create("c", "d")) {
                expectCode(MlsframeException.MLS_NO_GROUP, lone::ratchetTree, "no group");
            }
        }
    }

    static void rosterSecretsAndCommits() {
        try (Session alice = Session.create("alice", "phone");
                Session bob = Session.create("bob", "laptop");
                Session bobPhone = Session.create("bob", "phone");
                Session carol = Session.create("carol", "tablet")) {
            alice.createGroup();
            Commit add = alice.addMembers(bob.keyPackage(), bobPhone.keyPackage(), carol.keyPackage());
            alice.confirmCommit();
            bob.join(add.welcome());
            bobPhone.join(add.welcome());
            carol.join(add.welcome());

            List<Member> roster = alice.roster();
            check(roster.size() == 4, "four members");
            Member first = roster.get(0);
            check(Arrays.equals(first.userId(), utf8("alice")) && Arrays.equals(first.deviceId(), utf8("phone"))
                    && first.credentialType() == 1 && first.foreignCredential().length == 0
                    && first.fingerprint().length() == 79, "alice's roster line");
            MemberIdentity carolId = alice.memberIdentity(carol.ownLeaf());
            check(Arrays.equals(carolId.userId(), utf8("carol")), "member identity");
            Credential cred = alice.memberCredential(carol.ownLeaf());
            check(cred.type() == 1 && cred.content().length > 0, "member credential");
            expectCode(MlsframeException.MLS_UNKNOWN_MEMBER, () -> alice.memberIdentity(40), "no such leaf");

            check(alice.securityCode().equals(carol.securityCode()) && alice.securityCode().matches("[0-9 ]+"),
                    "same security code");
            check(Arrays.equals(alice.epochAuthenticator(), bob.epochAuthenticator()), "same epoch authenticator");
            byte[] k1 = alice.exportSecret("app key", utf8("ctx"), 32);
            check(k1.length == 32 && Arrays.equals(k1, carol.exportSecret("app key", utf8("ctx"), 32)), "same exporter value");
            check(!Arrays.equals(k1, alice.exportSecret("app key", utf8("other"), 32)), "another context, another value");
            expectCode(MlsframeException.INVALID_ARGUMENT, () -> alice.exportSecret("x", null, 0), "exporter length 0");

            // Remove both of bob's devices by user id.
            byte[] removeBob = alice.removeUser(utf8("bob"));
            alice.confirmCommit();
            check(carol.process(removeBob).removed() == 2, "carol sees bob's two devices removed");
            check(bob.process(removeBob).kind() == OutcomeKind.REMOVED, "bob is removed");
            check(alice.roster().size() == 2, "two members left");

            // Carol leaves: a proposal that alice commits.
            byte[] leave = carol.leave();
            check(alice.process(leave).kind() == OutcomeKind.PROPOSALS_PENDING, "alice stores carol's leave");
            Commit commit = alice.commitPendingProposals();
            check(commit.welcome() == null, "a leave adds nobody");
            alice.confirmCommit();
            check(carol.process(commit.commit()).kind() == OutcomeKind.REMOVED, "carol is out");
            check(alice.roster().size() == 1, "alice alone");

            // A self-update discarded: the epoch stays.
            long epoch = alice.epoch();
            alice.selfUpdate();
            alice.discardCommit();
            check(alice.epoch() == epoch, "a discarded commit changes nothing");
            expectCode(MlsframeException.MLS_NO_PENDING_COMMIT, alice::discardCommit, "nothing to discard");
        }
    }

    static void heldFrames() {
        try (Session alice = Session.create("alice", "phone");
                Session bob = Session.create("bob", "laptop");
                Session carol = Session.create("carol", "tablet")) {
            pair(alice, bob);
            try (Encryptor enc = alice.encryptor(0); Decryptor dec = bob.decryptor()) {
                Commit add = alice.addMembers(carol.keyPackage());
                alice.confirmCommit();
                alice.receiversReady();
                byte[] early = utf8("epoch 2, before bob has it");
                ByteBuffer sealed = seal(enc, early);
                ByteBuffer out = ByteBuffer.allocateDirect(100);
                expectCode(MlsframeException.NO_KEY, () -> dec.decrypt(sealed.duplicate(), out), "the frame's epoch has not arrived");
                check(dec.takeReleased(out, null) == -1, "nothing released yet");
                bob.process(add.commit());
                FrameSender sender = new FrameSender();
                int n = dec.takeReleased(out, sender);
                check(n == early.length && out.position() == n && sender.epoch() == 2, "the held frame is released: " + n);
                byte[] got = new byte[n];
                out.flip().get(got);
                check(Arrays.equals(got, early), "released plaintext");
                check(dec.takeReleased(ByteBuffer.allocateDirect(100), null) == -1, "nothing more");
            }
        }
    }

    /**
     * The first frame of {@code examples/media/video.ivf} (a VP8 key frame): an IVF file has
     * a 32-byte header, then per frame a 12-byte header starting with its little-endian
     * u32 size. The tests run from {@code bindings/java}.
     */
    private static byte[] firstIvfFrame() {
        Path path = Paths.get("../../examples/media/video.ivf");
        byte[] file;
        try {
            file = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + path.toAbsolutePath(), e);
        }
        check(file.length > 44 && new String(file, 0, 4, StandardCharsets.US_ASCII).equals("DKIF"), "an IVF file");
        int size = ByteBuffer.wrap(file, 32, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        check(size > 10 && 44 + size <= file.length, "the first IVF frame fits the file: " + size);
        return Arrays.copyOfRange(file, 44, 44 + size);
    }

    /** Codec-aware framing: a VP8 key frame sealed with its headers clear, opened as VP8 only. */
    static void codecFraming() {
        byte[] vp8 = firstIvfFrame();
        check((vp8[0] & 1) == 0 && (vp8[3] & 0xff) == 0x9d && vp8[4] == 0x01 && vp8[5] == 0x2a,
                "the first frame is a VP8 key frame (start code 9d 01 2a)");
        try (Session alice = Session.create("alice", "phone"); Session bob = Session.create("bob", "laptop")) {
            pair(alice, bob);
            try (Encryptor enc = alice.encryptor(MediaKind.VIDEO.context(), Codec.VP8);
                    Encryptor whole = alice.encryptor(MediaKind.AUDIO.context(), Codec.WHOLE);
                    Decryptor dec = bob.decryptor()) {
                ByteBuffer frame = ByteBuffer.allocateDirect(vp8.length);
                frame.put(vp8).flip();
                int bound = enc.sealedSizeBound(vp8.length);
                check(bound > Encryptor.maxCiphertextSize(vp8.length), "the codec bound counts the trailer: " + bound);
                check(whole.sealedSizeBound(vp8.length) == Encryptor.maxCiphertextSize(vp8.length), "WHOLE's bound");
                ByteBuffer sealed = ByteBuffer.allocateDirect(bound);
                int n = enc.encrypt(frame, sealed);
                check(n > vp8.length && n <= bound && sealed.position() == n && !frame.hasRemaining(),
                        "sealed with a trailer: " + n + " of " + vp8.length);
                sealed.flip();
                byte[] wire = new byte[n];
                sealed.duplicate().get(wire);
                check(Arrays.equals(Arrays.copyOf(wire, 10), Arrays.copyOf(vp8, 10)),
                        "frame tag, start code and size stay clear");
                check(!Arrays.equals(Arrays.copyOfRange(wire, 10, vp8.length), Arrays.copyOfRange(vp8, 10, vp8.length)),
                        "the rest is encrypted");

                ByteBuffer plain = ByteBuffer.allocateDirect(vp8.length);
                // Opened in another mode, or with a clear byte changed: refused, nothing moves.
                // (Whole mode wants room for its own plaintext bound, which counts the trailer.)
                ByteBuffer roomy = ByteBuffer.allocateDirect(n);
                expectCode(MlsframeException.AUTH_FAILED, () -> dec.decrypt(sealed, roomy, Codec.WHOLE),
                        "a VP8 frame opened whole");
                expectCode(MlsframeException.AUTH_FAILED, () -> dec.decrypt(sealed, roomy),
                        "a VP8 frame opened by decrypt(frame, out)");
                expectCode(MlsframeException.AUTH_FAILED, () -> dec.decrypt(sealed, plain, Codec.VP9),
                        "a VP8 frame opened as VP9");
                check(sealed.position() == 0 && plain.position() == 0 && roomy.position() == 0, "failed opens move nothing");
                ByteBuffer flipped = ByteBuffer.allocateDirect(n);
                flipped.put(wire).put(6, (byte) (wire[6] ^ 1)).flip();
                expectCode(MlsframeException.AUTH_FAILED, () -> dec.decrypt(flipped, plain, Codec.VP8),
                        "a flipped clear byte (the width)");

                int m = dec.decrypt(sealed, plain, Codec.VP8);
                check(m == vp8.length && plain.position() == m && !sealed.hasRemaining(), "opened as VP8: " + m);
                byte[] got = new byte[m];
                plain.flip().get(got);
                check(Arrays.equals(got, vp8), "the VP8 frame opens byte-identical");
                sealed.flip();
                expectCode(MlsframeException.REPLAY, () -> dec.decrypt(sealed, ByteBuffer.allocateDirect(n), Codec.VP8),
                        "the same frame again");

                // The byte[] path, with additional data and the sender.
                byte[] ad = utf8("rtp pt 96");
                byte[] sealedArray = enc.encrypt(vp8, ad);
                check(Arrays.equals(Arrays.copyOf(sealedArray, 10), Arrays.copyOf(vp8, 10)), "byte[]: clear header");
                expectCode(MlsframeException.AUTH_FAILED, () -> dec.decrypt(sealedArray, utf8("other"), null, Codec.VP8),
                        "byte[]: other additional data");
                FrameSender sender = new FrameSender();
                check(Arrays.equals(dec.decrypt(sealedArray, ad, sender, Codec.VP8), vp8)
                        && sender.leaf() == alice.ownLeaf() && sender.context() == MediaKind.VIDEO.context(),
                        "byte[]: opened as VP8 with its sender");

                // A whole-frame SFrame opened as VP8 has no trailer; WHOLE opens it.
                byte[] wholeSealed = whole.encrypt(vp8);
                expectCode(MlsframeException.MALFORMED_LAYOUT, () -> dec.decrypt(wholeSealed, Codec.VP8),
                        "a whole-frame SFrame opened as VP8");
                check(Arrays.equals(dec.decrypt(wholeSealed, Codec.WHOLE), vp8), "Codec.WHOLE opens a whole frame");
                check(Arrays.equals(dec.decrypt(whole.encrypt(vp8)), vp8), "so does decrypt(byte[])");

                // Opus: the TOC byte stays clear.
                try (Encryptor opus = alice.encryptor(3, Codec.OPUS)) {
                    byte[] packet = utf8("xOpus packet payload");
                    byte[] s = opus.encrypt(packet);
                    check(s[0] == packet[0] && s.length > packet.length, "Opus: the TOC byte stays clear");
                    check(Arrays.equals(dec.decrypt(s, Codec.OPUS), packet), "Opus: opens as OPUS");
                }
            }
        }
    }

    static void callbacks() {
        // A log callback sees the library's events; one that throws surfaces in the call.
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        Mlsframe.setLogCallback((level, message) -> lines.add(level + " " + message), LogLevel.INFO);
        try (Session s = Session.create("log", "test")) {
            s.createGroup();
        }
        check(lines.contains("INFO group created"), "the log callback sees events: " + lines);
        Mlsframe.setLogCallback((level, message) -> {
            throw new CallbackFailure("log");
        }, LogLevel.INFO);
        try {
            expectThrows(CallbackFailure.class, () -> Session.create("log", "throws").close(), "a throwing log callback");
        } finally {
            Mlsframe.setLogCallback(null, null);
        }
        int before = lines.size();
        try (Session s = Session.create("log", "off")) {
            s.createGroup();
        }
        check(lines.size() == before, "no log after removal");

        // Admission: a policy sees every candidate; a refusing one fails the add; a
        // throwing one surfaces in the call that asked; calls back into mlsframe are refused.
        List<String> asked = new ArrayList<>();
        List<Throwable> inside = new ArrayList<>();
        AdmissionPolicy onlyBob = c -> {
            asked.add(new String(c.userId(), StandardCharsets.UTF_8) + " " + c.isMlsframeIdentity() + " " + c.fingerprint().length());
            try {
                Mlsframe.resultMessage(200);
            } catch (IllegalStateException e) {
                inside.add(e);
            }
            if (new String(c.userId(), StandardCharsets.UTF_8).equals("mallory")) {
                throw new CallbackFailure("admission");
            }
            return new String(c.userId(), StandardCharsets.UTF_8).equals("bob");
        };
        try (Session alice = Session.create(utf8("alice"), utf8("phone"), null, SessionConfig.DEFAULTS.withAdmission(onlyBob));
                Session bob = Session.create("bob", "laptop");
                Session eve = Session.create("eve", "laptop");
                Session mallory = Session.create("mallory", "x")) {
            alice.createGroup();
            alice.addMembers(bob.keyPackage());
            alice.discardCommit();
            check(asked.contains("bob true 79"), "the policy saw bob: " + asked);
            check(inside.size() == 1, "a call into mlsframe from the callback is refused");
            expectCode(MlsframeException.MLS_ADMISSION_REFUSED, () -> alice.addMembers(eve.keyPackage()), "eve refused");
            expectThrows(CallbackFailure.class, () -> alice.addMembers(mallory.keyPackage()), "a throwing policy");
            Commit ok = alice.addMembers(bob.keyPackage());
            alice.confirmCommit();
            bob.join(ok.welcome());
            check(alice.roster().size() == 2, "the session works after the throwing policy");
        }

        // Key frames: asked when the encryptor switches epoch; a throwing callback
        // surfaces in that encrypt, and the next encrypt works.
        try (Session alice = Session.create("alice", "phone");
                Session bob = Session.create("bob", "laptop");
                Session carol = Session.create("carol", "tablet");
                Session dave = Session.create("dave", "tv")) {
            pair(alice, bob);
            try (Encryptor enc = alice.encryptor(MediaKind.AUDIO); Decryptor dec = bob.decryptor()) {
                List<long[]> keyFrames = Collections.synchronizedList(new ArrayList<>());
                enc.setKeyFrameCallback((context, epoch) -> keyFrames.add(new long[] {context, epoch}));
                enc.encrypt(utf8("epoch 1"));
                keyFrames.clear();
                Commit add = alice.addMembers(carol.keyPackage());
                alice.confirmCommit();
                alice.receiversReady();
                bob.process(add.commit());
                byte[] sealed = enc.encrypt(utf8("epoch 2"));
                check(keyFrames.size() == 1 && keyFrames.get(0)[0] == 0 && keyFrames.get(0)[1] == 2,
                        "a key frame asked for epoch 2");
                check(Arrays.equals(dec.decrypt(sealed), utf8("epoch 2")), "bob opens it");

                enc.setKeyFrameCallback((context, epoch) -> {
                    throw new CallbackFailure("key frame");
                });
                Commit add2 = alice.addMembers(dave.keyPackage());
                alice.confirmCommit();
                alice.receiversReady();
                expectThrows(CallbackFailure.class, () -> enc.encrypt(utf8("epoch 3")), "a throwing key-frame callback");
                byte[] next = enc.encrypt(utf8("epoch 3 again"));
                bob.process(add2.commit());
                check(Arrays.equals(dec.decrypt(next), utf8("epoch 3 again")), "the encryptor works after it");
                enc.setKeyFrameCallback(null);
            }
        }
    }

    static void resultCodes() {
        int[] codes = MlsframeException.allCodes();
        check(codes.length >= 60, "the mapping lists every code");
        for (int code : codes) {
            String name = MlsframeException.nameOf(code);
            check(name.startsWith("MLSFRAME_") && !name.equals("MLSFRAME_UNKNOWN_CODE"), "name of " + code);
            String message = Mlsframe.resultMessage(code);
            check(!message.isEmpty() && !message.equals("unknown result code"), "the library knows " + name + ": " + message);
            MlsframeException e = new MlsframeException(code);
            check(e.code() == code && e.codeName().equals(name) && e.getMessage().contains(name), "exception for " + name);
        }
        check(Mlsframe.resultMessage(12345).equals("unknown result code"), "an unknown code");
        check(MlsframeException.nameOf(12345).equals("MLSFRAME_UNKNOWN_CODE"), "an unknown code's name");
        check(new MlsframeException(200).isRecoverable() && !new MlsframeException(201).isRecoverable(), "NO_KEY is recoverable");
    }

    static void sframeCounters() {
        byte[] key = new byte[16];
        Arrays.fill(key, (byte) 3);
        try (SframeContext tx = new SframeContext(0); SframeContext rx = new SframeContext(0)) {
            expectCode(MlsframeException.NO_SEND_KEY, tx::sendCounter, "no send key yet");
            tx.setSendKey(4, 77, key, 1000);
            check(tx.sendCounter() == 1000, "first counter");
            rx.addReceiveKey(4, 77, key);
            byte[] sealed = tx.encrypt(utf8("kid 77"), utf8("ad"));
            check(tx.sendCounter() == 1001, "the counter moves");
            Opened opened = rx.decrypt(sealed, utf8("ad"));
            check(Arrays.equals(opened.plaintext(), utf8("kid 77")) && opened.kid() == 77, "byte[] path and KID");
            tx.setSendKey(4, 77, key, 0);
            check(tx.sendCounter() == 1001, "the same key keeps its counter");

            ByteBuffer frame = ByteBuffer.allocateDirect(8);
            frame.put(utf8("directly")).flip();
            ByteBuffer out = ByteBuffer.allocateDirect(SframeContext.maxCiphertextSize(8));
            tx.encrypt(frame, out);
            out.flip();
            long[] kid = new long[1];
            ByteBuffer plain = ByteBuffer.allocateDirect(8);
            check(rx.decrypt(out, plain, null, kid) == 8 && kid[0] == 77 && plain.position() == 8, "direct path and KID");
            expectCode(MlsframeException.REPLAY, () -> rx.decrypt(sealed, utf8("ad")), "replayed");
            Opened noAd = rx.decrypt(tx.encrypt(utf8("no ad")));
            check(Arrays.equals(noAd.plaintext(), utf8("no ad")) && noAd.kid() == 77, "byte[] path without additional data");
            expectCode(MlsframeException.NULL_ARGUMENT, () -> tx.encrypt((byte[]) null), "null frame array");
            expectCode(MlsframeException.AUTH_FAILED, () -> rx.decrypt(tx.encrypt(utf8("x"), utf8("ad")), utf8("other")), "other ad");
        }
    }

    static void run() {
        zeroCopyAndSenders();
        System.out.println("ok: zero-copy semantics, senders, additional data, stats");
        snapshotRestore();
        System.out.println("ok: snapshot and restore");
        externalCommitRejoin();
        System.out.println("ok: external commit rejoin");
        identitiesAndOptions();
        System.out.println("ok: P-256 identities, group options, join with a ratchet tree");
        rosterSecretsAndCommits();
        System.out.println("ok: roster, secrets, removeUser, leave, commitPendingProposals, discardCommit");
        heldFrames();
        System.out.println("ok: held frames (takeReleased)");
        codecFraming();
        System.out.println("ok: codec-aware framing (a VP8 key frame from video.ivf, Opus)");
        callbacks();
        System.out.println("ok: callbacks (log, admission, key frame), throwing ones included");
        resultCodes();
        System.out.println("ok: every result code mapped");
        sframeCounters();
        System.out.println("ok: SframeContext counters, KIDs, byte[] and additional data");
    }
}
