/*
 * The MLS interop calls of the C ABI, driven the way an app would: a group created from
 * mlsframe_group_options (MLS ciphersuite 0x0003, the SFrame parameters left to the apps,
 * an external sender), a join with the ratchet tree passed out of band and the SFrame
 * parameters given by the app, the parameter and ciphersuite getters, the exporter and
 * epoch authenticator agreeing between members and across epochs, the admission callback's
 * mlsframe_candidate, the roster's six columns and member credentials; then a P-256 call
 * (identities from mlsframe_session_new_with, MLS ciphersuite 0x0002, a snapshot and
 * restore, a crashed member rejoining by external commit from another member's group
 * info).
 *
 * Run by tests/c_abi.rs under ASan/UBSan and valgrind. Prints "interop: OK" last and exits
 * 0 only if every check passes. (What C cannot reach, a member of another MLS stack and a
 * welcome without its tree, is driven from Rust in tests/c_abi.rs.)
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlsframe.h"

/* ---- checks ------------------------------------------------------------------------ */

static unsigned g_checks;

static void fail(const char *file, int line, const char *what, const char *detail) {
    fprintf(stderr, "FAILED %s:%d: %s%s%s\n", file, line, what, detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        g_checks++;                                                                        \
        if (!(cond)) fail(__FILE__, __LINE__, #cond, NULL);                                \
    } while (0)

#define EXPECT(want, call)                                                                 \
    do {                                                                                   \
        g_checks++;                                                                        \
        mlsframe_result got_ = (call);                                                     \
        if (got_ != (mlsframe_result)(want)) {                                             \
            char d_[160];                                                                  \
            snprintf(d_, sizeof d_, "got %u (%s), want %u (%s)", (unsigned)got_,          \
                     mlsframe_result_message(got_), (unsigned)(want),                      \
                     mlsframe_result_message(want));                                       \
            fail(__FILE__, __LINE__, #call, d_);                                           \
        }                                                                                  \
    } while (0)

#define OK(call) EXPECT(MLSFRAME_OK, call)

static bool same(const mlsframe_buffer *a, const mlsframe_buffer *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool is(const mlsframe_buffer *b, const char *text) {
    size_t n = strlen(text);
    return b->len == n && (n == 0 || memcmp(b->data, text, n) == 0);
}

/* ---- the admission callback -------------------------------------------------------- */

/* What one session's admission callback saw last, and whether it refuses. */
typedef struct {
    unsigned calls, foreign;
    bool refuse;
    bool is_mlsframe_identity;
    char user[64], device[64];
    size_t user_len, device_len;
    uint16_t credential_type;
    size_t credential_len, signature_key_len, fingerprint_len;
    bool fingerprint_hex; /* lowercase hex in groups of four, one space apart */
} seen;

static bool on_candidate(void *user_data, const mlsframe_candidate *c) {
    seen *s = user_data;
    s->calls++;
    s->is_mlsframe_identity = c->is_mlsframe_identity;
    if (!c->is_mlsframe_identity) s->foreign++;
    s->user_len = c->user_id_len < sizeof s->user ? c->user_id_len : 0;
    s->device_len = c->device_id_len < sizeof s->device ? c->device_id_len : 0;
    if (s->user_len) memcpy(s->user, c->user_id, s->user_len);
    if (s->device_len) memcpy(s->device, c->device_id, s->device_len);
    s->credential_type = c->credential_type;
    s->credential_len = c->credential_len;
    s->signature_key_len = c->signature_key_len;
    s->fingerprint_len = c->fingerprint_len;
    bool hex = c->fingerprint_len == 79;
    for (size_t i = 0; hex && i < c->fingerprint_len; i++) {
        char ch = (char)c->fingerprint[i];
        hex = (i % 5 == 4) ? ch == ' ' : ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
    }
    s->fingerprint_hex = hex;
    /* Touch every byte the candidate points to (ASan/valgrind check they are readable). */
    unsigned sum = 0;
    for (size_t i = 0; i < c->credential_len; i++) sum += c->credential[i];
    for (size_t i = 0; i < c->signature_key_len; i++) sum += c->signature_key[i];
    (void)sum;
    return !s->refuse;
}

/* Whether the last candidate was the mlsframe identity (user, device) with a signature key
 * of `key_len` bytes (Ed25519: 32; P-256: 65). */
static bool saw(const seen *s, const char *user, const char *device, size_t key_len) {
    return s->is_mlsframe_identity && s->user_len == strlen(user) &&
           memcmp(s->user, user, s->user_len) == 0 && s->device_len == strlen(device) &&
           memcmp(s->device, device, s->device_len) == 0 && s->credential_type == 1 &&
           s->credential_len > s->user_len + s->device_len && s->signature_key_len == key_len &&
           s->fingerprint_hex;
}

static mlsframe_session *new_session(const char *user, const char *device, seen *s) {
    mlsframe_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.admission = on_candidate;
    cfg.admission_user_data = s;
    mlsframe_session *session = NULL;
    OK(mlsframe_session_new((const uint8_t *)user, strlen(user), (const uint8_t *)device,
                            strlen(device), NULL, 0, &cfg, &session));
    return session;
}

/* Adds the member whose key package is `kp` in one confirmed commit; returns the welcome. */
static mlsframe_buffer add(mlsframe_session *committer, const mlsframe_buffer *kp) {
    const uint8_t *kps[1] = {kp->data};
    size_t lens[1] = {kp->len};
    mlsframe_buffer commit = {NULL, 0}, welcome = {NULL, 0};
    OK(mlsframe_session_add_members(committer, kps, lens, 1, &commit, &welcome));
    OK(mlsframe_session_confirm_commit(committer));
    mlsframe_buffer_free(&commit);
    return welcome;
}

static mlsframe_buffer exported(mlsframe_session *s, const char *label, const char *context,
                              size_t length) {
    mlsframe_buffer out = {NULL, 0};
    OK(mlsframe_session_export_secret(s, (const uint8_t *)label, strlen(label),
                                      (const uint8_t *)context, strlen(context), length, &out));
    CHECK(out.len == length);
    return out;
}

static mlsframe_buffer authenticator(mlsframe_session *s) {
    mlsframe_buffer out = {NULL, 0};
    OK(mlsframe_session_epoch_authenticator(s, &out));
    CHECK(out.len == 32); /* the SHA-256 suites' hash length */
    return out;
}

static void check_params(mlsframe_session *s, uint16_t suite, uint8_t e, uint32_t handshake,
                         uint32_t source, uint16_t mls_suite) {
    mlsframe_group_params p;
    memset(&p, 0, sizeof p);
    uint32_t src = 99;
    uint16_t cs = 0;
    OK(mlsframe_session_params(s, &p, &src));
    CHECK(p.sframe_suite == suite && p.epoch_bits == e && p.handshake == handshake);
    CHECK(src == source);
    OK(mlsframe_session_ciphersuite(s, &cs));
    CHECK(cs == mls_suite);
}

/* ---- a group for other MLS stacks: options, out-of-band tree, app parameters -------- */

static void group_for_other_stacks(void) {
    printf("== options: MLS suite 0x0003, parameters left to the apps, an external sender\n");
    seen a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    mlsframe_session *alice = new_session("alice", "laptop", &a);
    mlsframe_session *bob = new_session("bob", "phone", &b);

    /* An Ed25519 public key (RFC 8032, test 1): external senders must be real keys. */
    static const uint8_t ds_key[32] = {
        0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
        0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
    const char *ds_name = "delivery-service";
    mlsframe_external_sender ds = {ds_key, sizeof ds_key, (const uint8_t *)ds_name,
                                   strlen(ds_name)};
    mlsframe_group_options opts;
    memset(&opts, 0, sizeof opts);
    opts.params.sframe_suite = 5;
    opts.params.epoch_bits = 6;
    opts.params.handshake = MLSFRAME_HANDSHAKE_PLAINTEXT;
    opts.mls_ciphersuite = 3;
    opts.params_source = MLSFRAME_PARAMS_APP;
    opts.external_senders = &ds;
    opts.external_senders_count = 1;
    OK(mlsframe_session_create_group_with(alice, &opts));
    check_params(alice, 5, 6, MLSFRAME_HANDSHAKE_PLAINTEXT, MLSFRAME_PARAMS_APP, 3);

    /* A key package of the default suite cannot join a 0x0003 group. */
    mlsframe_buffer kp = {NULL, 0}, commit = {NULL, 0}, welcome = {NULL, 0};
    OK(mlsframe_session_key_package(bob, &kp));
    const uint8_t *kps[1] = {kp.data};
    size_t lens[1] = {kp.len};
    EXPECT(MLSFRAME_MLS_CIPHERSUITE_MISMATCH,
           mlsframe_session_add_members(alice, kps, lens, 1, &commit, &welcome));
    mlsframe_buffer_free(&kp);
    OK(mlsframe_session_key_package_for(bob, 3, &kp));
    welcome = add(alice, &kp);
    mlsframe_buffer_free(&kp);
    CHECK(a.calls == 1 && a.foreign == 0 && saw(&a, "bob", "phone", 32));
    printf("  alice's admission callback saw bob (user, device, credential type 1, "
           "32-byte key, fingerprint)\n");

    /* The tree of the welcome's epoch (taken after the commit is confirmed). */
    mlsframe_buffer tree = {NULL, 0};
    OK(mlsframe_session_ratchet_tree(alice, &tree));
    CHECK(tree.len > 0);

    /* A tree that does not parse is refused before the welcome is used. */
    const uint8_t garbage[] = {1, 2, 'g', 'a', 'r', 'b', 'a', 'g', 'e'};
    uint64_t epoch = 0;
    mlsframe_group_params params;
    memset(&params, 0, sizeof params);
    params.sframe_suite = 5;
    params.epoch_bits = 6;
    params.handshake = MLSFRAME_HANDSHAKE_PLAINTEXT;
    EXPECT(MLSFRAME_MLS_INVALID_RATCHET_TREE,
           mlsframe_session_join_with(bob, welcome.data, welcome.len, garbage, sizeof garbage,
                                      &params, &epoch));
    mlsframe_group_params bad = params;
    bad.epoch_bits = 1;
    EXPECT(MLSFRAME_MLS_INVALID_PARAMS,
           mlsframe_session_join_with(bob, welcome.data, welcome.len, tree.data, tree.len,
                                      &bad, &epoch));
    CHECK(b.calls == 0 && epoch == 0);
    OK(mlsframe_session_join_with(bob, welcome.data, welcome.len, tree.data, tree.len, &params,
                                  &epoch));
    CHECK(epoch == 1);
    CHECK(b.calls == 1 && saw(&b, "alice", "laptop", 32));
    check_params(bob, 5, 6, MLSFRAME_HANDSHAKE_PLAINTEXT, MLSFRAME_PARAMS_APP, 3);
    mlsframe_buffer bob_tree = {NULL, 0};
    OK(mlsframe_session_ratchet_tree(bob, &bob_tree));
    CHECK(same(&tree, &bob_tree));
    printf("  bob joined at epoch %" PRIu64 " with the tree out of band (%zu bytes) and the "
           "app's parameters (suite 5, E 6, plaintext handshakes)\n",
           epoch, tree.len);

    printf("== exporter and epoch authenticator\n");
    mlsframe_buffer x1 = exported(alice, "app feature", "ctx", 42);
    mlsframe_buffer x2 = exported(bob, "app feature", "ctx", 42);
    mlsframe_buffer x3 = exported(bob, "other label", "ctx", 42);
    mlsframe_buffer x4 = exported(bob, "app feature", "other ctx", 42);
    CHECK(same(&x1, &x2));
    CHECK(!same(&x1, &x3) && !same(&x1, &x4) && !same(&x3, &x4));
    mlsframe_buffer k1 = exported(alice, "SFrame 1.0 Base Key", "", 32);
    mlsframe_buffer k2 = exported(bob, "SFrame 1.0 Base Key", "", 32);
    CHECK(same(&k1, &k2));
    mlsframe_buffer au1 = authenticator(alice), au2 = authenticator(bob);
    CHECK(same(&au1, &au2));
    mlsframe_buffer c1 = {NULL, 0}, c2 = {NULL, 0};
    OK(mlsframe_session_security_code(alice, &c1));
    OK(mlsframe_session_security_code(bob, &c2));
    CHECK(same(&c1, &c2));
    printf("  exporter equal at both members, different per label and context; "
           "authenticators equal\n");

    /* A new epoch: new values, equal again. */
    mlsframe_buffer update = {NULL, 0};
    mlsframe_outcome o;
    OK(mlsframe_session_self_update(bob, &update));
    OK(mlsframe_session_confirm_commit(bob));
    OK(mlsframe_session_process(alice, update.data, update.len, &o));
    CHECK(o.kind == MLSFRAME_OUTCOME_EPOCH_CHANGED && o.epoch == 2);
    mlsframe_buffer y1 = exported(alice, "app feature", "ctx", 42);
    mlsframe_buffer y2 = exported(bob, "app feature", "ctx", 42);
    mlsframe_buffer au3 = authenticator(alice), au4 = authenticator(bob);
    CHECK(same(&y1, &y2) && !same(&y1, &x1));
    CHECK(same(&au3, &au4) && !same(&au3, &au1));
    printf("  after bob's self-update (epoch 2): both changed, still equal\n");

    printf("== roster and credentials\n");
    mlsframe_buffer roster = {NULL, 0};
    OK(mlsframe_session_roster(bob, &roster));
    printf("%.*s", (int)roster.len, (const char *)roster.data);
    /* "0\t616c696365\t6c6170746f70\t<fingerprint>\t1\t\n1\t626f62\t70686f6e65\t...\t1\t\n" */
    {
        const char *text = (const char *)roster.data;
        size_t lines = 0, tabs = 0;
        for (size_t i = 0; i < roster.len; i++) {
            if (text[i] == '\n') {
                CHECK(tabs == 5);
                CHECK(i >= 3 && memcmp(&text[i - 3], "\t1\t", 3) == 0);
                lines++;
                tabs = 0;
            } else if (text[i] == '\t') {
                tabs++;
            }
        }
        CHECK(lines == 2);
        CHECK(roster.len > 12 && memcmp(text, "0\t616c696365\t6c6170746f70\t", 26) == 0);
    }
    mlsframe_buffer uid = {NULL, 0}, did = {NULL, 0}, content = {NULL, 0};
    uint16_t type = 0;
    OK(mlsframe_session_member_identity(bob, 0, &uid, &did));
    CHECK(is(&uid, "alice") && is(&did, "laptop"));
    OK(mlsframe_session_member_credential(bob, 0, &type, &content));
    CHECK(type == 1 && content.len > uid.len + did.len);
    printf("  leaf 0: alice/laptop, basic credential of %zu bytes\n", content.len);

    printf("== media in a 0x0003 group with SFrame suite 5\n");
    mlsframe_encryptor *enc = NULL;
    mlsframe_decryptor *dec = NULL;
    OK(mlsframe_session_encryptor_new(alice, 0, &enc));
    OK(mlsframe_session_decryptor_new(bob, &dec));
    {
        const char *text = "hello over suite 5";
        uint8_t sealed[128], plain[128];
        size_t n = 0, m = 0;
        OK(mlsframe_encryptor_encrypt(enc, (const uint8_t *)text, strlen(text), NULL, 0, sealed,
                                      sizeof sealed, &n));
        mlsframe_sender who;
        OK(mlsframe_decryptor_decrypt(dec, sealed, n, NULL, 0, plain, sizeof plain, &m, &who));
        CHECK(m == strlen(text) && memcmp(plain, text, m) == 0);
        CHECK(who.leaf == 0 && who.epoch == 2);
        mlsframe_buffer su = {NULL, 0}, sd = {NULL, 0};
        OK(mlsframe_decryptor_sender_identity(dec, &who, &su, &sd));
        CHECK(is(&su, "alice") && is(&sd, "laptop"));
        mlsframe_buffer_free(&su);
        mlsframe_buffer_free(&sd);
    }
    mlsframe_encryptor_free(enc);
    mlsframe_decryptor_free(dec);

    printf("== the admission callback refuses\n");
    seen c;
    memset(&c, 0, sizeof c);
    mlsframe_session *carol = new_session("carol", "", &c);
    OK(mlsframe_session_key_package_for(carol, 3, &kp));
    a.refuse = true;
    kps[0] = kp.data;
    lens[0] = kp.len;
    mlsframe_buffer refused_commit = {NULL, 0}, refused_welcome = {NULL, 0};
    EXPECT(MLSFRAME_MLS_ADMISSION_REFUSED,
           mlsframe_session_add_members(alice, kps, lens, 1, &refused_commit,
                                        &refused_welcome));
    CHECK(a.calls == 2 && saw(&a, "carol", "", 32));
    CHECK(refused_commit.data == NULL && refused_welcome.data == NULL);
    EXPECT(MLSFRAME_MLS_NO_PENDING_COMMIT, mlsframe_session_discard_commit(alice));
    printf("  carol (empty device id) refused; nothing pending\n");
    mlsframe_buffer_free(&kp);
    mlsframe_session_free(carol);

    mlsframe_buffer *all[] = {&welcome, &tree, &bob_tree, &x1, &x2, &x3, &x4, &k1, &k2, &au1,
                              &au2, &au3, &au4, &y1, &y2, &c1, &c2, &update, &roster, &uid,
                              &did, &content};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mlsframe_buffer_free(all[i]);
    mlsframe_session_free(alice);
    mlsframe_session_free(bob);
}

/* ---- a group that carries its parameters ------------------------------------------ */

static void group_with_extension(void) {
    printf("== zeroed options: parameters in the group context; a joiner's own are ignored\n");
    seen c, d;
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    mlsframe_session *carol = new_session("carol", "desk", &c);
    mlsframe_session *dave = new_session("dave", "car", &d);
    mlsframe_group_options opts;
    memset(&opts, 0, sizeof opts);
    OK(mlsframe_session_create_group_with(carol, &opts));
    check_params(carol, 4, 4, MLSFRAME_HANDSHAKE_CIPHERTEXT, MLSFRAME_PARAMS_GROUP_CONTEXT, 1);
    mlsframe_buffer kp = {NULL, 0};
    OK(mlsframe_session_key_package_for(dave, 1, &kp));
    mlsframe_buffer welcome = add(carol, &kp);
    mlsframe_group_params mine = {5, 6, MLSFRAME_HANDSHAKE_PLAINTEXT};
    uint64_t epoch = 0;
    OK(mlsframe_session_join_with(dave, welcome.data, welcome.len, NULL, 0, &mine, &epoch));
    CHECK(epoch == 1);
    check_params(dave, 4, 4, MLSFRAME_HANDSHAKE_CIPHERTEXT, MLSFRAME_PARAMS_GROUP_CONTEXT, 1);
    mlsframe_buffer x1 = exported(carol, "x", "", 1), x2 = exported(dave, "x", "", 1);
    CHECK(same(&x1, &x2));
    mlsframe_buffer_free(&x1);
    mlsframe_buffer_free(&x2);
    mlsframe_buffer_free(&kp);
    mlsframe_buffer_free(&welcome);

    /* NULL options: the defaults too. */
    seen e;
    memset(&e, 0, sizeof e);
    mlsframe_session *erin = new_session("erin", "tv", &e);
    OK(mlsframe_session_create_group_with(erin, NULL));
    check_params(erin, 4, 4, MLSFRAME_HANDSHAKE_CIPHERTEXT, MLSFRAME_PARAMS_GROUP_CONTEXT, 1);
    printf("  carol, dave and erin: suite 4, E 4, encrypted handshakes, MLS suite 0x0001\n");
    mlsframe_session_free(carol);
    mlsframe_session_free(dave);
    mlsframe_session_free(erin);
}

/* ---- a P-256 call: identities, snapshot and restore, a crash and an external rejoin -- */

static mlsframe_session *new_p256_session(const char *user, const char *device,
                                          const uint8_t secret[32], seen *s) {
    mlsframe_identity_options id;
    memset(&id, 0, sizeof id);
    id.user_id = (const uint8_t *)user;
    id.user_id_len = strlen(user);
    id.device_id = (const uint8_t *)device;
    id.device_id_len = strlen(device);
    id.secret = secret;
    id.secret_len = 32;
    id.signature_algorithm = MLSFRAME_SIGNATURE_ECDSA_P256;
    mlsframe_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.admission = on_candidate;
    cfg.admission_user_data = s;
    mlsframe_session *session = NULL;
    OK(mlsframe_session_new_with(&id, &cfg, &session));
    uint16_t alg = 0;
    OK(mlsframe_session_signature_algorithm(session, &alg));
    CHECK(alg == MLSFRAME_SIGNATURE_ECDSA_P256 && alg == 0x0403);
    return session;
}

/* Processes `commit` at `s`: a new epoch `epoch` that added and removed as given. */
static void expect_epoch(mlsframe_session *s, const mlsframe_buffer *commit, uint64_t epoch,
                         uint32_t added, uint32_t removed) {
    mlsframe_outcome o;
    OK(mlsframe_session_process(s, commit->data, commit->len, &o));
    CHECK(o.kind == MLSFRAME_OUTCOME_EPOCH_CHANGED && o.epoch == epoch);
    CHECK(o.added == added && o.removed == removed);
}

/* `from` seals `text` on stream 0; every session in `to` opens it from `from_leaf`. */
static void frame_flows(mlsframe_session *from, uint32_t from_leaf, mlsframe_session **to,
                        size_t count, const char *text) {
    mlsframe_encryptor *enc = NULL;
    OK(mlsframe_session_encryptor_new(from, 0, &enc));
    uint8_t sealed[128];
    size_t n = 0;
    OK(mlsframe_encryptor_encrypt(enc, (const uint8_t *)text, strlen(text), NULL, 0, sealed,
                                  sizeof sealed, &n));
    uint64_t epoch = 0;
    OK(mlsframe_session_epoch(from, &epoch, NULL));
    for (size_t i = 0; i < count; i++) {
        mlsframe_decryptor *dec = NULL;
        OK(mlsframe_session_decryptor_new(to[i], &dec));
        uint8_t plain[128];
        size_t m = 0;
        mlsframe_sender who;
        OK(mlsframe_decryptor_decrypt(dec, sealed, n, NULL, 0, plain, sizeof plain, &m, &who));
        CHECK(m == strlen(text) && memcmp(plain, text, m) == 0);
        CHECK(who.leaf == from_leaf && who.epoch == epoch && who.context == 0);
        mlsframe_decryptor_free(dec);
    }
    mlsframe_encryptor_free(enc);
}

static void same_security_code(mlsframe_session **members, size_t count) {
    mlsframe_buffer first = {NULL, 0};
    OK(mlsframe_session_security_code(members[0], &first));
    for (size_t i = 1; i < count; i++) {
        mlsframe_buffer other = {NULL, 0};
        OK(mlsframe_session_security_code(members[i], &other));
        CHECK(same(&first, &other));
        mlsframe_buffer_free(&other);
    }
    mlsframe_buffer_free(&first);
}

static void p256_call(void) {
    printf("== a P-256 call: three members, MLS ciphersuite 0x0002\n");
    /* The apps persist these secrets (P-256 private scalars, below the group order). */
    uint8_t alice_secret[32], bob_secret[32], carol_secret[32];
    memset(alice_secret, 0xa1, sizeof alice_secret);
    memset(bob_secret, 0xb0, sizeof bob_secret);
    memset(carol_secret, 0xc0, sizeof carol_secret);
    seen a, b, c;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    mlsframe_session *alice = new_p256_session("alice", "laptop", alice_secret, &a);
    mlsframe_session *bob = new_p256_session("bob", "phone", bob_secret, &b);
    mlsframe_session *carol = new_p256_session("carol", "tablet", carol_secret, &c);

    OK(mlsframe_session_create_group(alice, 4, 4, false));
    check_params(alice, 4, 4, MLSFRAME_HANDSHAKE_CIPHERTEXT, MLSFRAME_PARAMS_GROUP_CONTEXT, 2);
    mlsframe_buffer kp = {NULL, 0};
    OK(mlsframe_session_key_package(bob, &kp)); /* the identity's default suite: 0x0002 */
    mlsframe_buffer welcome = add(alice, &kp);
    mlsframe_buffer_free(&kp);
    CHECK(a.calls == 1 && saw(&a, "bob", "phone", 65));
    uint64_t epoch = 0;
    OK(mlsframe_session_join(bob, welcome.data, welcome.len, &epoch));
    CHECK(epoch == 1 && b.calls == 1 && saw(&b, "alice", "laptop", 65));
    mlsframe_buffer_free(&welcome);

    OK(mlsframe_session_key_package_for(carol, 2, &kp));
    const uint8_t *kps[1] = {kp.data};
    size_t lens[1] = {kp.len};
    mlsframe_buffer commit = {NULL, 0};
    OK(mlsframe_session_add_members(alice, kps, lens, 1, &commit, &welcome));
    OK(mlsframe_session_confirm_commit(alice));
    expect_epoch(bob, &commit, 2, 1, 0);
    OK(mlsframe_session_join(carol, welcome.data, welcome.len, &epoch));
    CHECK(epoch == 2 && c.calls == 2);
    check_params(carol, 4, 4, MLSFRAME_HANDSHAKE_CIPHERTEXT, MLSFRAME_PARAMS_GROUP_CONTEXT, 2);
    mlsframe_buffer_free(&kp);
    mlsframe_buffer_free(&commit);
    mlsframe_buffer_free(&welcome);

    mlsframe_session *all[3] = {alice, bob, carol};
    same_security_code(all, 3);
    frame_flows(alice, 0, (mlsframe_session *[]){bob, carol}, 2, "alice over P-256");
    frame_flows(bob, 1, (mlsframe_session *[]){alice, carol}, 2, "bob over P-256");
    frame_flows(carol, 2, (mlsframe_session *[]){alice, bob}, 2, "carol over P-256");
    printf("  alice, bob and carol in epoch 2: 65-byte keys seen by the callbacks, security "
           "codes equal, a frame from each opened by the others\n");

    printf("== snapshot and restore of a P-256 member, then its self-update\n");
    mlsframe_buffer snap = {NULL, 0};
    OK(mlsframe_session_snapshot(bob, &snap));
    mlsframe_session_free(bob);
    bob = NULL;
    OK(mlsframe_session_restore(snap.data, snap.len, NULL, &bob));
    mlsframe_buffer_free(&snap);
    uint16_t alg = 0, suite = 0;
    OK(mlsframe_session_signature_algorithm(bob, &alg));
    OK(mlsframe_session_ciphersuite(bob, &suite));
    CHECK(alg == MLSFRAME_SIGNATURE_ECDSA_P256 && suite == 2);
    {
        mlsframe_encryptor *enc = NULL;
        OK(mlsframe_session_encryptor_new(bob, 0, &enc));
        uint8_t sealed[64];
        size_t n = 0;
        EXPECT(MLSFRAME_REKEY_REQUIRED,
               mlsframe_encryptor_encrypt(enc, (const uint8_t *)"x", 1, NULL, 0, sealed,
                                          sizeof sealed, &n));
        mlsframe_encryptor_free(enc);
    }
    /* The restored member opens frames at once. */
    frame_flows(alice, 0, (mlsframe_session *[]){bob}, 1, "to the restored bob");
    OK(mlsframe_session_self_update(bob, &commit));
    OK(mlsframe_session_confirm_commit(bob));
    expect_epoch(alice, &commit, 3, 0, 0);
    expect_epoch(carol, &commit, 3, 0, 0);
    mlsframe_buffer_free(&commit);
    all[1] = bob;
    same_security_code(all, 3);
    frame_flows(bob, 1, (mlsframe_session *[]){alice, carol}, 2, "restored bob, rekeyed");
    printf("  restored bob: P-256, suite 0x0002; sealed again after its self-update (epoch 3)\n");

    printf("== carol crashes and rejoins by external commit with her persisted secret\n");
    mlsframe_session_free(carol); /* the crash: only carol_secret survives */
    memset(&c, 0, sizeof c);
    carol = new_p256_session("carol", "tablet", carol_secret, &c);
    mlsframe_buffer info = {NULL, 0};
    OK(mlsframe_session_group_info(bob, &info));
    OK(mlsframe_session_join_by_external_commit(carol, info.data, info.len, NULL, 0, NULL,
                                                &commit, &epoch));
    CHECK(epoch == 4 && commit.len > 0);
    CHECK(c.calls == 2 && c.foreign == 0); /* alice and bob; not her own old leaf */
    {
        /* Pending: carol seals nothing yet. */
        mlsframe_encryptor *enc = NULL;
        OK(mlsframe_session_encryptor_new(carol, 0, &enc));
        uint8_t sealed[64];
        size_t n = 0;
        EXPECT(MLSFRAME_NOT_MEMBER,
               mlsframe_encryptor_encrypt(enc, (const uint8_t *)"x", 1, NULL, 0, sealed,
                                          sizeof sealed, &n));
        mlsframe_encryptor_free(enc);
    }
    unsigned alice_calls = a.calls;
    /* The others process it: her new leaf added, her old leaf removed. */
    expect_epoch(alice, &commit, 4, 1, 1);
    expect_epoch(bob, &commit, 4, 1, 1);
    CHECK(a.calls == alice_calls + 1 && saw(&a, "carol", "tablet", 65));
    OK(mlsframe_session_confirm_commit(carol));
    mlsframe_buffer_free(&commit);
    mlsframe_buffer_free(&info);
    uint32_t leaf = 99;
    OK(mlsframe_session_epoch(carol, &epoch, &leaf));
    CHECK(epoch == 4 && leaf == 2);
    all[2] = carol;
    same_security_code(all, 3);
    frame_flows(carol, 2, (mlsframe_session *[]){alice, bob}, 2, "carol is back");
    frame_flows(alice, 0, (mlsframe_session *[]){bob, carol}, 2, "welcome back");
    /* The group goes on: carol's next commit is an ordinary one. */
    OK(mlsframe_session_self_update(carol, &commit));
    OK(mlsframe_session_confirm_commit(carol));
    expect_epoch(alice, &commit, 5, 0, 0);
    expect_epoch(bob, &commit, 5, 0, 0);
    mlsframe_buffer_free(&commit);
    frame_flows(bob, 1, (mlsframe_session *[]){alice, carol}, 2, "epoch 5");
    printf("  carol rejoined at epoch 4 in her old leaf (2); frames flow both ways; her "
           "self-update made epoch 5\n");

    mlsframe_session_free(alice);
    mlsframe_session_free(bob);
    mlsframe_session_free(carol);
}

int main(void) {
    group_for_other_stacks();
    group_with_extension();
    p256_call();
    printf("%u checks\ninterop: OK\n", g_checks);
    return 0;
}
