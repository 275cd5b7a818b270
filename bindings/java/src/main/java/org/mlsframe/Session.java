package org.mlsframe;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One device's MLS membership ({@code mlsframe_session}): identity, key packages, group
 * operations, incoming handshake messages and the epoch's secrets. Calls are serialized
 * internally (drive it from one thread or a serial executor); {@link #close()} frees it
 * (its encryptors and decryptors live on independently and must be closed too).
 *
 * <p>Every method maps to the {@code mlsframe_session_*} function of the same name and
 * throws {@link MlsframeException} with the codes that function documents.
 */
public final class Session extends NativeHandle {
    /** SFrame suite AES-128-GCM-SHA256-128 (RFC 9605 suite 4), the default. */
    public static final int SFRAME_AES_128_GCM = 4;
    /** Bits of the epoch in each KID (RFC 9605 section 5.2 E), the default. */
    public static final int DEFAULT_EPOCH_BITS = 4;

    /** The admission callback's slot, freed after the native session (0: none). */
    private final long admissionState;

    private Session(long handle, long admissionState) {
        super(handle);
        this.admissionState = admissionState;
    }

    /** Creates the session {@code create} makes, freeing the admission slot on failure. */
    private interface Creator {
        long create(int[] config, long admission);
    }

    private static Session make(SessionConfig config, Creator creator) {
        SessionConfig c = config == null ? SessionConfig.DEFAULTS : config;
        long state = c.admission() == null ? 0 : Native.callbackStateNew(c.admission());
        try {
            return new Session(creator.create(c.values(), state), state);
        } catch (RuntimeException | Error e) {
            Native.callbackStateFree(state);
            throw e;
        }
    }

    /** A session for {@code (userId, deviceId)} with a fresh Ed25519 identity key. */
    public static Session create(byte[] userId, byte[] deviceId) {
        return create(userId, deviceId, null, null);
    }

    /** {@link #create(byte[], byte[])} with UTF-8 ids. */
    public static Session create(String userId, String deviceId) {
        return create(userId.getBytes(StandardCharsets.UTF_8), deviceId.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A session with an Ed25519 identity ({@code mlsframe_session_new}): {@code seed} is the
     * 32-byte seed the app persists (null: a fresh key); {@code config} may be null.
     */
    public static Session create(byte[] userId, byte[] deviceId, byte[] seed, SessionConfig config) {
        return make(config, (values, state) -> Native.sessionNew(userId, deviceId, seed, values, state));
    }

    /**
     * A session for {@code identity}, Ed25519 or ECDSA P-256 ({@code mlsframe_session_new_with});
     * {@code config} may be null.
     */
    public static Session create(Identity identity, SessionConfig config) {
        int algorithm = identity.algorithm() == null ? 0 : identity.algorithm().code;
        return make(config, (values, state) -> Native.sessionNewWith(identity.userId(), identity.deviceId(),
                identity.secret(), algorithm, values, state));
    }

    /**
     * Restores a session from {@link #snapshot()} bytes ({@code mlsframe_session_restore}).
     * Its encryptors answer {@code MLSFRAME_REKEY_REQUIRED} until its own
     * {@link #selfUpdate()} is confirmed.
     */
    public static Session restore(byte[] snapshot, SessionConfig config) {
        return make(config, (values, state) -> Native.sessionRestore(snapshot, values, state));
    }

    @Override
    void free(long handle) {
        Native.sessionFree(handle);
        Native.callbackStateFree(admissionState);
    }

    /**
     * Serializes the session (identity secret and MLS key store) for {@link #restore}. The
     * bytes are secret: encrypt them at rest and overwrite the array when done.
     */
    public byte[] snapshot() {
        return Native.snapshot(handle());
    }

    /** The signature algorithm of the session's identity. */
    public SignatureAlgorithm signatureAlgorithm() {
        return SignatureAlgorithm.of(Native.signatureAlgorithm(handle()));
    }

    /** A fresh key package to publish so that others can add this device. */
    public byte[] keyPackage() {
        return Native.keyPackage(handle());
    }

    /** A fresh key package for the MLS ciphersuite {@code mlsCiphersuite} (0x0001..=0x0003). */
    public byte[] keyPackage(int mlsCiphersuite) {
        return Native.keyPackageFor(handle(), mlsCiphersuite);
    }

    /** Creates a group with this device as its only member, with the defaults. */
    public void createGroup() {
        createGroup(SFRAME_AES_128_GCM, DEFAULT_EPOCH_BITS, false);
    }

    /** Creates a group: SFrame suite, epoch bits E, and whether handshakes go in plaintext. */
    public void createGroup(int sframeSuite, int epochBits, boolean plaintextHandshake) {
        Native.createGroup(handle(), sframeSuite, epochBits, plaintextHandshake);
    }

    /** Creates a group as {@code options} say ({@code mlsframe_session_create_group_with}). */
    public void createGroup(GroupOptions options) {
        List<ExternalSender> senders = options.externalSenders() == null ? List.of() : options.externalSenders();
        byte[][] keys = new byte[senders.size()][];
        byte[][] ids = new byte[senders.size()][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = senders.get(i).signatureKey();
            ids[i] = senders.get(i).identity();
        }
        ParamsSource source = options.paramsSource() == null ? ParamsSource.GROUP_CONTEXT : options.paramsSource();
        Native.createGroupWith(handle(), GroupParams.valuesOrNull(options.params()), options.mlsCiphersuite(),
                source.ordinal(), keys, ids);
    }

    /** Joins from a welcome; returns the joined epoch. */
    public long join(byte[] welcome) {
        return Native.join(handle(), welcome);
    }

    /**
     * Joins from a welcome with the group's ratchet tree (null: the welcome carries it) and
     * the SFrame parameters for a group that does not carry them (null: the defaults);
     * returns the joined epoch ({@code mlsframe_session_join_with}).
     */
    public long join(byte[] welcome, byte[] ratchetTree, GroupParams params) {
        return Native.joinWith(handle(), welcome, ratchetTree, GroupParams.valuesOrNull(params));
    }

    /**
     * A signed group info of the current epoch, to publish so that a device can join (or
     * rejoin after a crash) by {@link #joinByExternalCommit}. Valid for this epoch only.
     */
    public byte[] groupInfo() {
        return Native.groupInfo(handle());
    }

    /**
     * Joins the group {@code groupInfo} describes by external commit (ratchet tree and
     * parameters may be null). The returned commit is pending: send it, then
     * {@link #confirmCommit()} (or {@link #discardCommit()} when it is refused).
     */
    public ExternalJoin joinByExternalCommit(byte[] groupInfo, byte[] ratchetTree, GroupParams params) {
        long[] epoch = new long[1];
        byte[] commit = Native.joinByExternalCommit(handle(), groupInfo, ratchetTree,
                GroupParams.valuesOrNull(params), epoch);
        return new ExternalJoin(commit, epoch[0]);
    }

    /** Adds members by their key packages in a pending commit (confirm or discard it). */
    public Commit addMembers(byte[]... keyPackages) {
        return commit(Native.addMembers(handle(), keyPackages));
    }

    private static Commit commit(byte[][] pair) {
        return new Commit(pair[0], pair[1].length == 0 ? null : pair[1]);
    }

    /** Removes the member at {@code leaf} in a pending commit; returns the commit. */
    public byte[] removeMember(int leaf) {
        return Native.removeMember(handle(), leaf);
    }

    /** Removes every device of {@code userId} in a pending commit; returns the commit. */
    public byte[] removeUser(byte[] userId) {
        return Native.removeUser(handle(), userId);
    }

    /** Refreshes our own keys in a pending commit (post-compromise security); returns it. */
    public byte[] selfUpdate() {
        return Native.selfUpdate(handle());
    }

    /** Commits all stored proposals (for example a member's leave) in a pending commit. */
    public Commit commitPendingProposals() {
        return commit(Native.commitPendingProposals(handle()));
    }

    /** Asks to leave: returns a remove proposal that another member must commit. */
    public byte[] leave() {
        return Native.leave(handle());
    }

    /** The delivery service accepted our pending commit: merge it (new epoch). */
    public void confirmCommit() {
        Native.confirmCommit(handle());
    }

    /** Drops our pending commit (the delivery service refused it, or another won). */
    public void discardCommit() {
        Native.discardCommit(handle());
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

    /** The group's MLS ciphersuite (0x0001..=0x0003). */
    public int ciphersuite() {
        return Native.ciphersuite(handle());
    }

    /** The group's SFrame parameters as in use. */
    public GroupParams params() {
        int[] p = Native.params(handle());
        return new GroupParams(p[0], p[1], HandshakeFormat.values()[p[2]]);
    }

    /** Where the group's SFrame parameters come from. */
    public ParamsSource paramsSource() {
        return ParamsSource.values()[Native.params(handle())[3]];
    }

    /** The current epoch's ratchet tree (public), for a joiner whose welcome lacks it. */
    public byte[] ratchetTree() {
        return Native.ratchetTree(handle());
    }

    /** The epoch's security code (digits in groups of five), the same at every member. */
    public String securityCode() {
        return new String(Native.securityCode(handle()), StandardCharsets.US_ASCII);
    }

    /**
     * The epoch authenticator (RFC 9420 section 8.7). Confidential: compare a hash of it,
     * never log or send it.
     */
    public byte[] epochAuthenticator() {
        return Native.epochAuthenticator(handle());
    }

    /**
     * An MLS exporter value of the current epoch (RFC 9420 section 8.5), {@code length}
     * 1..=8160 bytes. Secret.
     */
    public byte[] exportSecret(String label, byte[] context, int length) {
        return Native.exportSecret(handle(), label.getBytes(StandardCharsets.UTF_8),
                context == null ? new byte[0] : context, length);
    }

    /** The members of the current epoch ({@code mlsframe_session_roster}). */
    public List<Member> roster() {
        String text = new String(Native.roster(handle()), StandardCharsets.UTF_8);
        List<Member> members = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            String[] c = line.split("\t", -1);
            if (c.length != 6) {
                throw new MlsframeException(MlsframeException.INTERNAL);
            }
            members.add(new Member(Integer.parseInt(c[0]), parseHex(c[1]), parseHex(c[2]), c[3],
                    Integer.parseInt(c[4]), parseHex(c[5])));
        }
        return members;
    }

    /** Lowercase or uppercase hex to bytes (java.util.HexFormat is not on older Android). */
    private static byte[] parseHex(String hex) {
        if (hex.length() % 2 != 0) {
            throw new MlsframeException(MlsframeException.INTERNAL);
        }
        byte[] out = new byte[hex.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(hex.charAt(2 * i), 16);
            int lo = Character.digit(hex.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new MlsframeException(MlsframeException.INTERNAL);
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    /** The user id and device id of the member at {@code leaf} in the current epoch. */
    public MemberIdentity memberIdentity(int leaf) {
        byte[][] ids = Native.memberIdentity(handle(), leaf);
        return new MemberIdentity(ids[0], ids[1]);
    }

    /** The raw MLS credential of the member at {@code leaf} in the current epoch. */
    public Credential memberCredential(int leaf) {
        int[] type = new int[1];
        byte[] content = Native.memberCredential(handle(), leaf, type);
        return new Credential(type[0], content);
    }

    /** An encryptor for our stream {@code context} (one live encryptor per context). */
    public Encryptor encryptor(long context) {
        return new Encryptor(Native.encryptorNew(handle(), context));
    }

    /**
     * An encryptor for our stream {@code context} that frames every frame as {@code codec}
     * ({@code mlsframe_session_encryptor_new_with_codec}): the codec's headers stay clear
     * and authenticated ({@code docs/FRAMING.md}). Receivers open its frames with the
     * {@code Decryptor.decrypt} overloads that take the same {@link Codec}.
     * {@link Codec#WHOLE} is {@link #encryptor(long)}.
     */
    public Encryptor encryptor(long context, Codec codec) {
        java.util.Objects.requireNonNull(codec, "codec");
        return new Encryptor(Native.encryptorNewWithCodec(handle(), context, codec.id()));
    }

    /** An encryptor for the stream context of {@code kind}. */
    public Encryptor encryptor(MediaKind kind) {
        return encryptor(kind.context());
    }

    /** A decryptor for the other members' frames. */
    public Decryptor decryptor() {
        return new Decryptor(Native.decryptorNew(handle()));
    }
}
