/*
 * Every export of include/mlsframe.h driven with bad input: NULLs, zero lengths,
 * undersized and overlapping buffers, garbage frames and garbage MLS bytes. Each check
 * pins the exact result code. One line per check; the last line is "N passed, M failed";
 * exits 1 on any failure. Run by tests/c_abi.rs (under ASan/UBSan and valgrind).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlsframe.h"

/* ---- checks ------------------------------------------------------------------------ */

static unsigned g_pass, g_fail;

static void check(const char *what, bool ok) {
    if (ok) {
        g_pass++;
        printf("ok   %s\n", what);
    } else {
        g_fail++;
        printf("FAIL %s\n", what);
    }
}

static void check_code(const char *what, mlsframe_result got, mlsframe_result want) {
    if (got == want) {
        g_pass++;
        printf("ok   %s -> %u\n", what, (unsigned)got);
    } else {
        g_fail++;
        printf("FAIL %s -> %u (%s), want %u (%s)\n", what, (unsigned)got,
               mlsframe_result_message(got), (unsigned)want, mlsframe_result_message(want));
    }
}

/* A setup step that must succeed; without it later checks are meaningless. */
static void must(const char *what, mlsframe_result got) {
    if (got != MLSFRAME_OK) {
        printf("FAIL setup: %s -> %u (%s)\n", what, (unsigned)got, mlsframe_result_message(got));
        printf("%u passed, %u failed\n", g_pass, g_fail + 1);
        exit(1);
    }
}

#define CODE(want, label, call) check_code(label, (call), (want))

static const uint8_t GARBAGE[] = "this is not an MLS message, nor a frame, at all...";
/* The default input limits (see mlsframe_result's 42x codes). */
#define MAX_MLS_MESSAGE ((size_t)2 << 20)
#define MAX_WELCOME ((size_t)24 << 20)
#define MAX_KEY_PACKAGE ((size_t)64 << 10)
#define GARBAGE_LEN (sizeof GARBAGE - 1)
/* A valid pointer with a length no slice may have (never read: rejected first). */
#define HUGE ((size_t)SIZE_MAX)

static mlsframe_session *new_session(const char *user, const char *device) {
    mlsframe_session *s = NULL;
    must("session_new", mlsframe_session_new((const uint8_t *)user, strlen(user),
                                             (const uint8_t *)device, strlen(device), NULL, 0,
                                             NULL, &s));
    return s;
}

/* ---- log callback ------------------------------------------------------------------ */

static unsigned g_log_lines;
static void on_log(void *user_data, uint32_t level, const char *message) {
    unsigned *n = user_data;
    (*n)++;
    (void)level;
    (void)message;
}

static void on_key_frame(void *user_data, uint64_t context, uint64_t epoch) {
    (void)user_data;
    (void)context;
    (void)epoch;
}

/* ---- result messages, buffers, NULL handles ---------------------------------------- */

static void test_result_messages(void) {
    static const uint32_t codes[] = {
        0,   100, 101, 102, 103, 104, 200, 201, 202, 203, 204, 205, 206, 207, 300, 301,
        302, 303, 304, 305, 306, 307, 308, 309, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411,
        412, 413, 414, 415, 416, 417, 418, 419, 420, 421, 422, 423, 424, 425, 426, 427,
        428, 429, 430, 431, 432, 433, 434, 435, 436, 437, 438, 900, 901,
    };
    const char *unknown = mlsframe_result_message(12345);
    check("result_message(12345) is \"unknown result code\"",
          unknown != NULL && strcmp(unknown, "unknown result code") == 0);
    bool all_known = true;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *m = mlsframe_result_message(codes[i]);
        if (m == NULL || m[0] == '\0' || strcmp(m, unknown) == 0) {
            printf("     code %u has no message of its own\n", codes[i]);
            all_known = false;
        }
    }
    check("result_message(every defined code) is its own non-empty text", all_known);
    static const uint32_t odd[] = {1, 99, 199, 299, 399, 499, 899, 902, UINT32_MAX};
    bool all_unknown = true;
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        const char *m = mlsframe_result_message(odd[i]);
        all_unknown = all_unknown && m != NULL && strcmp(m, unknown) == 0;
    }
    check("result_message(undefined codes incl. UINT32_MAX) non-NULL, unknown", all_unknown);
}

static void test_null_frees(void) {
    mlsframe_buffer_free(NULL);
    check("buffer_free(NULL) is a no-op", true);
    mlsframe_buffer empty = {NULL, 0};
    mlsframe_buffer_free(&empty);
    check("buffer_free({NULL,0}) is a no-op", empty.data == NULL && empty.len == 0);
    mlsframe_session_free(NULL);
    mlsframe_encryptor_free(NULL);
    mlsframe_decryptor_free(NULL);
    mlsframe_sframe_context_free(NULL);
    check("session/encryptor/decryptor/sframe_context_free(NULL) are no-ops", true);
}

/* ---- sessions ---------------------------------------------------------------------- */

static void test_session_new(void) {
    const uint8_t u[] = "user", d[] = "dev";
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    mlsframe_session *s = (mlsframe_session *)&s; /* must be overwritten with NULL */
    CODE(MLSFRAME_NULL_ARGUMENT, "session_new(out NULL)",
         mlsframe_session_new(u, 4, d, 3, NULL, 0, NULL, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "session_new(user NULL, len 4)",
         mlsframe_session_new(NULL, 4, d, 3, NULL, 0, NULL, &s));
    check("session_new failure sets *out to NULL", s == NULL);
    CODE(MLSFRAME_NULL_ARGUMENT, "session_new(device NULL, len 3)",
         mlsframe_session_new(u, 4, NULL, 3, NULL, 0, NULL, &s));
    CODE(MLSFRAME_MLS_INVALID_IDENTITY, "session_new(user NULL, len 0 = empty)",
         mlsframe_session_new(NULL, 0, d, 3, NULL, 0, NULL, &s));
    /* User ids are 1..=1024 bytes, device ids 0..=1024 bytes. */
    uint8_t long_id[1025];
    memset(long_id, 'x', sizeof long_id);
    CODE(MLSFRAME_MLS_INVALID_IDENTITY, "session_new(user 1025 bytes)",
         mlsframe_session_new(long_id, 1025, d, 3, NULL, 0, NULL, &s));
    CODE(MLSFRAME_MLS_INVALID_IDENTITY, "session_new(device 1025 bytes)",
         mlsframe_session_new(u, 4, long_id, 1025, NULL, 0, NULL, &s));
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new(user len SIZE_MAX)",
         mlsframe_session_new(u, HUGE, d, 3, NULL, 0, NULL, &s));
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new(seed 31 bytes)",
         mlsframe_session_new(u, 4, d, 3, seed, 31, NULL, &s));
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new(seed 33 bytes)",
         mlsframe_session_new(u, 4, d, 3, seed, 33, NULL, &s));
    CODE(MLSFRAME_NULL_ARGUMENT, "session_new(seed NULL, len 32)",
         mlsframe_session_new(u, 4, d, 3, NULL, 32, NULL, &s));
    check("failed session_new leaves *out NULL", s == NULL);
    /* An output overlapping an input is refused (uint64_t arrays keep out-pointers
     * aligned), and then nothing is written: the input stays intact. */
    uint64_t id_words[4];
    memcpy(id_words, "an overlapping user id!", 24);
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new(out inside the user id)",
         mlsframe_session_new((const uint8_t *)id_words, 24, d, 3, NULL, 0, NULL,
                              (mlsframe_session **)&id_words[1]));
    check("session_new(out inside the user id) left the user id intact",
          memcmp(id_words, "an overlapping user id!", 24) == 0);
    mlsframe_session_config over;
    memset(&over, 0, sizeof over);
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new(out inside the config)",
         mlsframe_session_new(u, 4, d, 3, NULL, 0, &over,
                              (mlsframe_session **)&over.admission_user_data));

    CODE(MLSFRAME_OK, "session_new(empty device id)",
         mlsframe_session_new(u, 4, NULL, 0, NULL, 0, NULL, &s));
    mlsframe_session_free(s);
    s = NULL;
    CODE(MLSFRAME_OK, "session_new(1024-byte ids, 32-byte seed)",
         mlsframe_session_new(long_id, 1024, long_id, 1024, seed, 32, NULL, &s));
    check("session_new returned a handle", s != NULL);
    mlsframe_session_free(s);
    s = NULL;
    mlsframe_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CODE(MLSFRAME_OK, "session_new(zeroed config)",
         mlsframe_session_new(u, 4, d, 3, NULL, 0, &cfg, &s));
    mlsframe_session_free(s);
    s = NULL;
    cfg.replay_window = 65537;
    CODE(MLSFRAME_INVALID_CONFIG, "session_new(replay window 65537)",
         mlsframe_session_new(u, 4, d, 3, NULL, 0, &cfg, &s));
    check("rejected config leaves *out NULL", s == NULL);
    cfg.replay_window = 65536;
    CODE(MLSFRAME_OK, "session_new(replay window 65536)",
         mlsframe_session_new(u, 4, d, 3, NULL, 0, &cfg, &s));
    mlsframe_session_free(s);
    s = NULL;
    cfg.send_switch_delay_ms = 5001;
    CODE(MLSFRAME_INVALID_CONFIG, "session_new(switch delay 5001 ms)",
         mlsframe_session_new(u, 4, d, 3, NULL, 0, &cfg, &s));
    check("rejected switch delay leaves *out NULL", s == NULL);
    cfg.send_switch_delay_ms = 5000;
    CODE(MLSFRAME_OK, "session_new(switch delay 5000 ms)",
         mlsframe_session_new(u, 4, d, 3, NULL, 0, &cfg, &s));
    mlsframe_session_free(s);
}

/* Calls on a session that is in no group. */
static void test_no_group(void) {
    mlsframe_session *s = new_session("lonely", "phone");
    mlsframe_buffer b = {NULL, 0}, b2 = {NULL, 0};
    mlsframe_outcome o;
    uint64_t epoch = 99;
    uint32_t leaf = 99;

    CODE(MLSFRAME_MLS_NO_GROUP, "epoch(no group)", mlsframe_session_epoch(s, &epoch, &leaf));
    check("failed epoch reset both outputs to 0", epoch == 0 && leaf == 0);
    CODE(MLSFRAME_MLS_NO_GROUP, "security_code(no group)", mlsframe_session_security_code(s, &b));
    check("failed security_code leaves an empty buffer", b.data == NULL && b.len == 0);
    CODE(MLSFRAME_MLS_NO_GROUP, "roster(no group)", mlsframe_session_roster(s, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "member_identity(no group)",
         mlsframe_session_member_identity(s, 0, &b, &b2));
    CODE(MLSFRAME_MLS_NO_GROUP, "remove_member(no group)",
         mlsframe_session_remove_member(s, 1, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "remove_user(no group)",
         mlsframe_session_remove_user(s, (const uint8_t *)"x", 1, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "self_update(no group)", mlsframe_session_self_update(s, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "commit_pending_proposals(no group)",
         mlsframe_session_commit_pending_proposals(s, &b, &b2));
    CODE(MLSFRAME_MLS_NO_GROUP, "leave(no group)", mlsframe_session_leave(s, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "confirm_commit(no group)", mlsframe_session_confirm_commit(s));
    CODE(MLSFRAME_MLS_NO_GROUP, "discard_commit(no group)", mlsframe_session_discard_commit(s));
    CODE(MLSFRAME_OK, "receivers_ready(no group)", mlsframe_session_receivers_ready(s));
    CODE(MLSFRAME_MLS_NO_GROUP, "process(garbage, no group)",
         mlsframe_session_process(s, GARBAGE, GARBAGE_LEN, &o));
    check("no buffer was filled", b.data == NULL && b2.data == NULL);

    /* The interop queries without a group. */
    uint16_t suite = 77, type = 77;
    mlsframe_group_params params = {77, 77, 77};
    uint32_t source = 77;
    CODE(MLSFRAME_MLS_NO_GROUP, "ratchet_tree(no group)", mlsframe_session_ratchet_tree(s, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "ciphersuite(no group)", mlsframe_session_ciphersuite(s, &suite));
    CODE(MLSFRAME_MLS_NO_GROUP, "params(no group)", mlsframe_session_params(s, &params, &source));
    check("failed ciphersuite/params reset their outputs to 0",
          suite == 0 && params.sframe_suite == 0 && params.epoch_bits == 0 &&
              params.handshake == 0 && source == 0);
    CODE(MLSFRAME_MLS_NO_GROUP, "export_secret(no group)",
         mlsframe_session_export_secret(s, (const uint8_t *)"l", 1, NULL, 0, 16, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "export_secret(no group, length 0: state first)",
         mlsframe_session_export_secret(s, (const uint8_t *)"l", 1, NULL, 0, 0, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "epoch_authenticator(no group)",
         mlsframe_session_epoch_authenticator(s, &b));
    CODE(MLSFRAME_MLS_NO_GROUP, "member_credential(no group)",
         mlsframe_session_member_credential(s, 0, &type, &b));
    check("failed member_credential: type 0", type == 0);
    CODE(MLSFRAME_MLS_NO_GROUP, "group_info(no group)", mlsframe_session_group_info(s, &b));
    check("no interop buffer was filled", b.data == NULL && b.len == 0);

    /* key packages per MLS ciphersuite (no group needed) */
    CODE(MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE, "key_package_for(suite 0)",
         mlsframe_session_key_package_for(s, 0, &b));
    CODE(MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE, "key_package_for(suite 4)",
         mlsframe_session_key_package_for(s, 4, &b));
    CODE(MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE, "key_package_for(suite 0xFFFF)",
         mlsframe_session_key_package_for(s, 0xFFFF, &b));
    CODE(MLSFRAME_MLS_CIPHERSUITE_MISMATCH, "key_package_for(suite 2: P-256, Ed25519 identity)",
         mlsframe_session_key_package_for(s, 2, &b));
    check("failed key_package_for filled no buffer", b.data == NULL && b.len == 0);
    CODE(MLSFRAME_OK, "key_package_for(suite 1)", mlsframe_session_key_package_for(s, 1, &b));
    check("-> a key package", b.data != NULL && b.len > 0);
    mlsframe_buffer_free(&b);
    CODE(MLSFRAME_OK, "key_package_for(suite 3)", mlsframe_session_key_package_for(s, 3, &b));
    mlsframe_buffer_free(&b);

    /* A handle made before joining seals nothing. */
    mlsframe_encryptor *enc = NULL;
    CODE(MLSFRAME_OK, "encryptor_new(no group)", mlsframe_session_encryptor_new(s, 0, &enc));
    uint8_t out[64];
    size_t n = 77;
    CODE(MLSFRAME_NOT_MEMBER, "encryptor_encrypt(no group)",
         mlsframe_encryptor_encrypt(enc, (const uint8_t *)"x", 1, NULL, 0,
                                    out, sizeof out, &n));
    check("failed encrypt writes 0 to *written", n == 0);
    mlsframe_encryptor_free(enc);

    /* create_group parameter ranges (suite 1..=5, E 2..=16). */
    CODE(MLSFRAME_NULL_ARGUMENT, "create_group(NULL session)",
         mlsframe_session_create_group(NULL, 4, 4, false));
    CODE(MLSFRAME_MLS_INVALID_PARAMS, "create_group(suite 0)",
         mlsframe_session_create_group(s, 0, 4, false));
    CODE(MLSFRAME_MLS_INVALID_PARAMS, "create_group(suite 6)",
         mlsframe_session_create_group(s, 6, 4, false));
    CODE(MLSFRAME_MLS_INVALID_PARAMS, "create_group(E 0)",
         mlsframe_session_create_group(s, 4, 0, false));
    CODE(MLSFRAME_MLS_INVALID_PARAMS, "create_group(E 1: own commit would evict the epoch)",
         mlsframe_session_create_group(s, 4, 1, false));
    CODE(MLSFRAME_MLS_INVALID_PARAMS, "create_group(E 17)",
         mlsframe_session_create_group(s, 4, 17, false));
    CODE(MLSFRAME_MLS_NO_GROUP, "epoch(after failed create_group)",
         mlsframe_session_epoch(s, NULL, NULL));
    mlsframe_session_free(s);
}

/* NULL session and NULL out-pointers for every session call. */
static void test_session_nulls(mlsframe_session *s) {
    mlsframe_buffer b = {NULL, 0}, b2 = {NULL, 0};
    mlsframe_outcome o;
    mlsframe_encryptor *enc = NULL;
    mlsframe_decryptor *dec = NULL;
    const uint8_t *kps[1] = {GARBAGE};
    size_t lens[1] = {GARBAGE_LEN};

    CODE(MLSFRAME_NULL_ARGUMENT, "key_package(NULL session)", mlsframe_session_key_package(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "key_package(out NULL)", mlsframe_session_key_package(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "join(NULL session)",
         mlsframe_session_join(NULL, GARBAGE, GARBAGE_LEN, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "add_members(NULL session)",
         mlsframe_session_add_members(NULL, kps, lens, 1, &b, &b2));
    CODE(MLSFRAME_NULL_ARGUMENT, "remove_member(NULL session)",
         mlsframe_session_remove_member(NULL, 1, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "remove_member(commit_out NULL)",
         mlsframe_session_remove_member(s, 1, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "remove_user(NULL session)",
         mlsframe_session_remove_user(NULL, (const uint8_t *)"x", 1, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "remove_user(user NULL, len 1)",
         mlsframe_session_remove_user(s, NULL, 1, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "remove_user(commit_out NULL)",
         mlsframe_session_remove_user(s, (const uint8_t *)"x", 1, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "self_update(NULL session)", mlsframe_session_self_update(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "self_update(commit_out NULL)", mlsframe_session_self_update(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "commit_pending_proposals(NULL session)",
         mlsframe_session_commit_pending_proposals(NULL, &b, &b2));
    CODE(MLSFRAME_NULL_ARGUMENT, "commit_pending_proposals(commit_out NULL)",
         mlsframe_session_commit_pending_proposals(s, NULL, &b2));
    CODE(MLSFRAME_NULL_ARGUMENT, "leave(NULL session)", mlsframe_session_leave(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "leave(proposal_out NULL)", mlsframe_session_leave(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "confirm_commit(NULL)", mlsframe_session_confirm_commit(NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "discard_commit(NULL)", mlsframe_session_discard_commit(NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "receivers_ready(NULL)", mlsframe_session_receivers_ready(NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "process(NULL session)",
         mlsframe_session_process(NULL, GARBAGE, GARBAGE_LEN, &o));
    CODE(MLSFRAME_NULL_ARGUMENT, "process(message NULL, len 5)",
         mlsframe_session_process(s, NULL, 5, &o));
    CODE(MLSFRAME_NULL_ARGUMENT, "process(out NULL)",
         mlsframe_session_process(s, GARBAGE, GARBAGE_LEN, NULL));
    CODE(MLSFRAME_INVALID_ARGUMENT, "process(len SIZE_MAX)",
         mlsframe_session_process(s, GARBAGE, HUGE, &o));
    CODE(MLSFRAME_NULL_ARGUMENT, "epoch(NULL session)", mlsframe_session_epoch(NULL, NULL, NULL));
    CODE(MLSFRAME_OK, "epoch(both outs NULL)", mlsframe_session_epoch(s, NULL, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "security_code(NULL session)",
         mlsframe_session_security_code(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "security_code(out NULL)", mlsframe_session_security_code(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "roster(NULL session)", mlsframe_session_roster(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "roster(out NULL)", mlsframe_session_roster(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "member_identity(NULL session)",
         mlsframe_session_member_identity(NULL, 0, &b, &b2));
    CODE(MLSFRAME_NULL_ARGUMENT, "member_identity(user_id_out NULL)",
         mlsframe_session_member_identity(s, 0, NULL, &b2));
    CODE(MLSFRAME_NULL_ARGUMENT, "member_identity(device_id_out NULL)",
         mlsframe_session_member_identity(s, 0, &b, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "encryptor_new(NULL session)",
         mlsframe_session_encryptor_new(NULL, 0, &enc));
    CODE(MLSFRAME_NULL_ARGUMENT, "encryptor_new(out NULL)", mlsframe_session_encryptor_new(s, 0, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "decryptor_new(NULL session)",
         mlsframe_session_decryptor_new(NULL, &dec));
    CODE(MLSFRAME_NULL_ARGUMENT, "decryptor_new(out NULL)", mlsframe_session_decryptor_new(s, NULL));
    /* the interop calls */
    mlsframe_group_options opts;
    memset(&opts, 0, sizeof opts);
    mlsframe_group_params params;
    memset(&params, 0, sizeof params);
    uint16_t u16 = 0;
    uint32_t u32 = 0;
    uint64_t epoch = 0;
    CODE(MLSFRAME_NULL_ARGUMENT, "create_group_with(NULL session)",
         mlsframe_session_create_group_with(NULL, &opts));
    CODE(MLSFRAME_NULL_ARGUMENT, "join_with(NULL session)",
         mlsframe_session_join_with(NULL, GARBAGE, GARBAGE_LEN, NULL, 0, NULL, &epoch));
    CODE(MLSFRAME_NULL_ARGUMENT, "join_with(welcome NULL, len 10)",
         mlsframe_session_join_with(s, NULL, 10, NULL, 0, NULL, &epoch));
    CODE(MLSFRAME_NULL_ARGUMENT, "join_with(ratchet_tree NULL, len 10)",
         mlsframe_session_join_with(s, GARBAGE, GARBAGE_LEN, NULL, 10, NULL, &epoch));
    CODE(MLSFRAME_NULL_ARGUMENT, "ratchet_tree(NULL session)", mlsframe_session_ratchet_tree(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "ratchet_tree(out NULL)", mlsframe_session_ratchet_tree(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "key_package_for(NULL session)",
         mlsframe_session_key_package_for(NULL, 1, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "key_package_for(out NULL)",
         mlsframe_session_key_package_for(s, 1, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "ciphersuite(NULL session)", mlsframe_session_ciphersuite(NULL, &u16));
    CODE(MLSFRAME_NULL_ARGUMENT, "ciphersuite(out NULL)", mlsframe_session_ciphersuite(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "params(NULL session)",
         mlsframe_session_params(NULL, &params, &u32));
    CODE(MLSFRAME_OK, "params(both outs NULL)", mlsframe_session_params(s, NULL, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "export_secret(NULL session)",
         mlsframe_session_export_secret(NULL, (const uint8_t *)"l", 1, NULL, 0, 16, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "export_secret(label NULL, len 1)",
         mlsframe_session_export_secret(s, NULL, 1, NULL, 0, 16, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "export_secret(context NULL, len 1)",
         mlsframe_session_export_secret(s, (const uint8_t *)"l", 1, NULL, 1, 16, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "export_secret(out NULL)",
         mlsframe_session_export_secret(s, (const uint8_t *)"l", 1, NULL, 0, 16, NULL));
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(label len SIZE_MAX)",
         mlsframe_session_export_secret(s, (const uint8_t *)"l", HUGE, NULL, 0, 16, &b));
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(context len SIZE_MAX)",
         mlsframe_session_export_secret(s, (const uint8_t *)"l", 1, GARBAGE, HUGE, 16, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "epoch_authenticator(NULL session)",
         mlsframe_session_epoch_authenticator(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "epoch_authenticator(out NULL)",
         mlsframe_session_epoch_authenticator(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "member_credential(NULL session)",
         mlsframe_session_member_credential(NULL, 0, &u16, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "member_credential(credential_type_out NULL)",
         mlsframe_session_member_credential(s, 0, NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "member_credential(content_out NULL)",
         mlsframe_session_member_credential(s, 0, &u16, NULL));
    /* identities and external commits */
    CODE(MLSFRAME_NULL_ARGUMENT, "signature_algorithm(NULL session)",
         mlsframe_session_signature_algorithm(NULL, &u16));
    CODE(MLSFRAME_NULL_ARGUMENT, "signature_algorithm(out NULL)",
         mlsframe_session_signature_algorithm(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "group_info(NULL session)", mlsframe_session_group_info(NULL, &b));
    CODE(MLSFRAME_NULL_ARGUMENT, "group_info(out NULL)", mlsframe_session_group_info(s, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "join_by_external_commit(NULL session)",
         mlsframe_session_join_by_external_commit(NULL, GARBAGE, GARBAGE_LEN, NULL, 0, NULL, &b,
                                                  &epoch));
    CODE(MLSFRAME_NULL_ARGUMENT, "join_by_external_commit(group_info NULL, len 10)",
         mlsframe_session_join_by_external_commit(s, NULL, 10, NULL, 0, NULL, &b, &epoch));
    CODE(MLSFRAME_NULL_ARGUMENT, "join_by_external_commit(ratchet_tree NULL, len 10)",
         mlsframe_session_join_by_external_commit(s, GARBAGE, GARBAGE_LEN, NULL, 10, NULL, &b,
                                                  &epoch));
    CODE(MLSFRAME_NULL_ARGUMENT, "join_by_external_commit(commit_out NULL)",
         mlsframe_session_join_by_external_commit(s, GARBAGE, GARBAGE_LEN, NULL, 0, NULL, NULL,
                                                  &epoch));
    check("no handle or buffer was produced",
          enc == NULL && dec == NULL && b.data == NULL && b2.data == NULL);
}

/* Two Ed25519 public keys (RFC 8032, tests 1 and 2): external senders must be real keys. */
static const uint8_t DS_KEY_1[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a};
static const uint8_t DS_KEY_2[32] = {
    0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b, 0x7e, 0xbc,
    0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};

/* create_group_with: every field's bad values, on sessions in no group. */
static void test_group_options(void) {
    mlsframe_session *s = new_session("options", "dev");
    mlsframe_group_options opts;
    uint8_t key[32];
    memcpy(key, DS_KEY_2, sizeof key);
    mlsframe_external_sender ds[2] = {{DS_KEY_1, sizeof DS_KEY_1, (const uint8_t *)"ds", 2},
                                      {key, sizeof key, NULL, 0}};
#define WITH(field, value, want, label)                                                     \
    do {                                                                                    \
        memset(&opts, 0, sizeof opts);                                                      \
        opts.field = (value);                                                               \
        CODE(want, label, mlsframe_session_create_group_with(s, &opts));                    \
    } while (0)
    WITH(params.handshake, 2, MLSFRAME_INVALID_ARGUMENT, "create_group_with(handshake 2)");
    WITH(params.handshake, UINT32_MAX, MLSFRAME_INVALID_ARGUMENT,
         "create_group_with(handshake UINT32_MAX)");
    WITH(params_source, 2, MLSFRAME_INVALID_ARGUMENT, "create_group_with(params_source 2)");
    WITH(mls_ciphersuite, 4, MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE,
         "create_group_with(MLS suite 4)");
    WITH(mls_ciphersuite, 0xFFFF, MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE,
         "create_group_with(MLS suite 0xFFFF)");
    WITH(mls_ciphersuite, 2, MLSFRAME_MLS_CIPHERSUITE_MISMATCH,
         "create_group_with(MLS suite 2: P-256, Ed25519 identity)");
    WITH(params.sframe_suite, 6, MLSFRAME_MLS_INVALID_PARAMS, "create_group_with(SFrame suite 6)");
    WITH(params.epoch_bits, 1, MLSFRAME_MLS_INVALID_PARAMS, "create_group_with(E 1)");
    WITH(params.epoch_bits, 17, MLSFRAME_MLS_INVALID_PARAMS, "create_group_with(E 17)");
    WITH(external_senders_count, 1, MLSFRAME_NULL_ARGUMENT,
         "create_group_with(external_senders NULL, count 1)");
    memset(&opts, 0, sizeof opts);
    opts.external_senders = ds;
    opts.external_senders_count = HUGE;
    CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(external_senders_count SIZE_MAX)",
         mlsframe_session_create_group_with(s, &opts));
    opts.external_senders_count = 2;
    ds[1].identity_len = 4; /* NULL with a length */
    CODE(MLSFRAME_NULL_ARGUMENT, "create_group_with(sender identity NULL, len 4)",
         mlsframe_session_create_group_with(s, &opts));
    ds[1].identity_len = 0;
    ds[1].signature_key = NULL;
    ds[1].signature_key_len = 32;
    CODE(MLSFRAME_NULL_ARGUMENT, "create_group_with(sender key NULL, len 32)",
         mlsframe_session_create_group_with(s, &opts));
    ds[1].signature_key = key;
    ds[1].signature_key_len = HUGE;
    CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(sender key len SIZE_MAX)",
         mlsframe_session_create_group_with(s, &opts));
    ds[1].signature_key_len = 0;
    CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(sender key empty)",
         mlsframe_session_create_group_with(s, &opts));
    {
        uint8_t *big = calloc(1, 65537);
        ds[1].signature_key = big;
        ds[1].signature_key_len = 1025;
        CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(sender key 1025 bytes)",
             mlsframe_session_create_group_with(s, &opts));
        ds[1].signature_key = key;
        ds[1].signature_key_len = sizeof key;
        ds[1].identity = big;
        ds[1].identity_len = 65537;
        CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(sender identity 65537 bytes)",
             mlsframe_session_create_group_with(s, &opts));
        free(big);
    }
    /* a bad value is refused before a bad sender is looked at, and vice versa */
    opts.params.handshake = 5;
    ds[1].identity = NULL;
    ds[1].identity_len = 1;
    CODE(MLSFRAME_NULL_ARGUMENT, "create_group_with(NULL sender identity and handshake 5)",
         mlsframe_session_create_group_with(s, &opts));
    CODE(MLSFRAME_MLS_NO_GROUP, "epoch(after every refused create_group_with)",
         mlsframe_session_epoch(s, NULL, NULL));

    ds[1].identity = NULL;
    ds[1].identity_len = 0;
    opts.params.handshake = MLSFRAME_HANDSHAKE_PLAINTEXT;
    opts.params_source = MLSFRAME_PARAMS_APP;
    opts.mls_ciphersuite = 3;
    memset(key, 7, sizeof key);
    CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(sender key not an Ed25519 point)",
         mlsframe_session_create_group_with(s, &opts));
    memcpy(key, DS_KEY_1, sizeof key);
    CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(one sender key listed twice)",
         mlsframe_session_create_group_with(s, &opts));
    memcpy(key, DS_KEY_2, sizeof key);
    opts.params_source = MLSFRAME_PARAMS_APP;
    opts.mls_ciphersuite = 3;
    CODE(MLSFRAME_OK, "create_group_with(two senders, plaintext, app params, MLS suite 3)",
         mlsframe_session_create_group_with(s, &opts));
    uint16_t suite = 0;
    mlsframe_group_params params = {0, 0, 0};
    uint32_t source = 0;
    CODE(MLSFRAME_OK, "ciphersuite", mlsframe_session_ciphersuite(s, &suite));
    CODE(MLSFRAME_OK, "params", mlsframe_session_params(s, &params, &source));
    check("-> suite 3; SFrame suite 4, E 4, plaintext; from the app",
          suite == 3 && params.sframe_suite == 4 && params.epoch_bits == 4 &&
              params.handshake == MLSFRAME_HANDSHAKE_PLAINTEXT && source == MLSFRAME_PARAMS_APP);
    CODE(MLSFRAME_MLS_ALREADY_IN_GROUP, "create_group_with(already in a group)",
         mlsframe_session_create_group_with(s, &opts));
    CODE(MLSFRAME_MLS_ALREADY_IN_GROUP, "create_group_with(NULL options, already in a group)",
         mlsframe_session_create_group_with(s, NULL));
    opts.params.handshake = 9;
    CODE(MLSFRAME_INVALID_ARGUMENT, "create_group_with(handshake 9, already in a group: values first)",
         mlsframe_session_create_group_with(s, &opts));
#undef WITH
    mlsframe_session_free(s);
}

/* ---- the group used by the MLS and media checks ------------------------------------ */

typedef struct {
    mlsframe_session *alice, *bob;
    mlsframe_buffer bob_kp_spare; /* an unused key package of bob's */
    mlsframe_buffer welcome;      /* the welcome bob joined with */
    mlsframe_buffer add_commit;   /* the commit that added bob (already merged) */
} group;

static group make_group(void) {
    group g;
    memset(&g, 0, sizeof g);
    g.alice = new_session("alice", "laptop");
    g.bob = new_session("bob", "phone");
    mlsframe_buffer kp = {NULL, 0};
    must("key_package", mlsframe_session_key_package(g.bob, &kp));
    must("key_package", mlsframe_session_key_package(g.bob, &g.bob_kp_spare));
    must("create_group", mlsframe_session_create_group(g.alice, 4, 4, false));
    const uint8_t *kps[1] = {kp.data};
    size_t lens[1] = {kp.len};
    must("add_members", mlsframe_session_add_members(g.alice, kps, lens, 1, &g.add_commit,
                                                     &g.welcome));
    must("confirm_commit", mlsframe_session_confirm_commit(g.alice));
    must("join", mlsframe_session_join(g.bob, g.welcome.data, g.welcome.len, NULL));
    mlsframe_buffer_free(&kp);
    return g;
}

static void free_group(group *g) {
    mlsframe_buffer_free(&g->bob_kp_spare);
    mlsframe_buffer_free(&g->welcome);
    mlsframe_buffer_free(&g->add_commit);
    mlsframe_session_free(g->alice);
    mlsframe_session_free(g->bob);
}

static void test_mls_garbage(group *g) {
    mlsframe_buffer b = {NULL, 0}, b2 = {NULL, 0};
    mlsframe_outcome o;
    uint64_t epoch = 0;

    /* join */
    mlsframe_session *carol = new_session("carol", "tablet");
    CODE(MLSFRAME_NULL_ARGUMENT, "join(welcome NULL, len 10)",
         mlsframe_session_join(carol, NULL, 10, &epoch));
    CODE(MLSFRAME_MLS_MALFORMED, "join(welcome NULL, len 0 = empty)",
         mlsframe_session_join(carol, NULL, 0, &epoch));
    CODE(MLSFRAME_MLS_MALFORMED, "join(garbage)",
         mlsframe_session_join(carol, GARBAGE, GARBAGE_LEN, &epoch));
    CODE(MLSFRAME_MLS_MALFORMED, "join(truncated welcome)",
         mlsframe_session_join(carol, g->welcome.data, g->welcome.len - 1, &epoch));
    CODE(MLSFRAME_MLS_UNEXPECTED_MESSAGE, "join(a key package)",
         mlsframe_session_join(carol, g->bob_kp_spare.data, g->bob_kp_spare.len, &epoch));
    CODE(MLSFRAME_MLS_INVALID_WELCOME, "join(someone else's welcome)",
         mlsframe_session_join(carol, g->welcome.data, g->welcome.len, &epoch));
    CODE(MLSFRAME_MLS_ALREADY_IN_GROUP, "join(already in a group)",
         mlsframe_session_join(g->bob, g->welcome.data, g->welcome.len, &epoch));
    CODE(MLSFRAME_INVALID_ARGUMENT, "join(len SIZE_MAX)",
         mlsframe_session_join(carol, GARBAGE, HUGE, &epoch));
    {
        /* the real welcome, zero-padded past the limit: refused before parsing */
        uint8_t *big = calloc(1, MAX_WELCOME + 1);
        memcpy(big, g->welcome.data, g->welcome.len);
        CODE(MLSFRAME_MLS_WELCOME_TOO_LARGE, "join(welcome padded to 24 MiB + 1)",
             mlsframe_session_join(carol, big, MAX_WELCOME + 1, &epoch));
        CODE(MLSFRAME_MLS_MALFORMED, "join(welcome padded to exactly 24 MiB)",
             mlsframe_session_join(carol, big, MAX_WELCOME, &epoch));
        free(big);
    }
    CODE(MLSFRAME_MLS_ALREADY_IN_GROUP, "create_group(already in a group)",
         mlsframe_session_create_group(g->alice, 4, 4, false));

    /* add_members */
    mlsframe_buffer carol_kp = {NULL, 0};
    must("key_package", mlsframe_session_key_package(carol, &carol_kp));
    const uint8_t *kps[2] = {GARBAGE, carol_kp.data};
    size_t lens[2] = {GARBAGE_LEN, carol_kp.len};
    CODE(MLSFRAME_MLS_MALFORMED, "add_members(count 0, NULL arrays)",
         mlsframe_session_add_members(g->alice, NULL, NULL, 0, &b, &b2));
    CODE(MLSFRAME_NULL_ARGUMENT, "add_members(key_packages NULL, count 1)",
         mlsframe_session_add_members(g->alice, NULL, lens, 1, &b, &b2));
    CODE(MLSFRAME_NULL_ARGUMENT, "add_members(lens NULL, count 1)",
         mlsframe_session_add_members(g->alice, kps, NULL, 1, &b, &b2));
    CODE(MLSFRAME_INVALID_ARGUMENT, "add_members(count SIZE_MAX)",
         mlsframe_session_add_members(g->alice, kps, lens, HUGE, &b, &b2));
    const uint8_t *null_kp[1] = {NULL};
    size_t one[1] = {1};
    CODE(MLSFRAME_NULL_ARGUMENT, "add_members(entry NULL with len 1)",
         mlsframe_session_add_members(g->alice, null_kp, one, 1, &b, &b2));
    CODE(MLSFRAME_MLS_MALFORMED, "add_members(garbage key package)",
         mlsframe_session_add_members(g->alice, kps, lens, 2, &b, &b2));
    const uint8_t *wrong[1] = {g->welcome.data};
    size_t wrong_len[1] = {g->welcome.len};
    CODE(MLSFRAME_MLS_UNEXPECTED_MESSAGE, "add_members(a welcome as key package)",
         mlsframe_session_add_members(g->alice, wrong, wrong_len, 1, &b, &b2));
    const uint8_t *dup[1] = {g->bob_kp_spare.data};
    size_t dup_len[1] = {g->bob_kp_spare.len};
    CODE(MLSFRAME_MLS_DUPLICATE_MEMBER, "add_members(bob again)",
         mlsframe_session_add_members(g->alice, dup, dup_len, 1, &b, &b2));
    {
        uint8_t *big = calloc(1, MAX_KEY_PACKAGE + 1);
        memcpy(big, carol_kp.data, carol_kp.len);
        const uint8_t *big_kp[1] = {big};
        size_t big_len[1] = {MAX_KEY_PACKAGE + 1};
        CODE(MLSFRAME_MLS_KEY_PACKAGE_TOO_LARGE, "add_members(key package padded to 64 KiB + 1)",
             mlsframe_session_add_members(g->alice, big_kp, big_len, 1, &b, &b2));
        big_len[0] = MAX_KEY_PACKAGE;
        CODE(MLSFRAME_MLS_MALFORMED, "add_members(key package padded to exactly 64 KiB)",
             mlsframe_session_add_members(g->alice, big_kp, big_len, 1, &b, &b2));
        free(big);
    }
    CODE(MLSFRAME_NULL_ARGUMENT, "add_members(commit_out NULL)",
         mlsframe_session_add_members(g->alice, &kps[1], &lens[1], 1, NULL, &b2));
    CODE(MLSFRAME_MLS_NO_GROUP, "add_members(carol, not in a group)",
         mlsframe_session_add_members(carol, &kps[1], &lens[1], 1, &b, &b2));
    check("failed add_members filled no buffer", b.data == NULL && b2.data == NULL);
    /* Outputs overlapping inputs or each other: refused before anything is written. */
    uint64_t kp_words[8];
    memcpy(kp_words, GARBAGE, GARBAGE_LEN);
    const uint8_t *kp_in[2] = {(const uint8_t *)kp_words, NULL};
    size_t kp_in_len[2] = {GARBAGE_LEN, 0};
    CODE(MLSFRAME_INVALID_ARGUMENT, "add_members(commit_out inside a key package)",
         mlsframe_session_add_members(g->alice, kp_in, kp_in_len, 1,
                                      (mlsframe_buffer *)&kp_words[2], &b2));
    CODE(MLSFRAME_INVALID_ARGUMENT, "add_members(welcome_out over the pointer array)",
         mlsframe_session_add_members(g->alice, kp_in, kp_in_len, 1, &b,
                                      (mlsframe_buffer *)kp_in));
    CODE(MLSFRAME_INVALID_ARGUMENT, "add_members(welcome_out over the length array)",
         mlsframe_session_add_members(g->alice, kp_in, kp_in_len, 1, &b,
                                      (mlsframe_buffer *)kp_in_len));
    CODE(MLSFRAME_INVALID_ARGUMENT, "add_members(commit_out == welcome_out)",
         mlsframe_session_add_members(g->alice, &kps[1], &lens[1], 1, &b, &b));
    check("refused add_members wrote nothing",
          b.data == NULL && b2.data == NULL && memcmp(kp_words, GARBAGE, GARBAGE_LEN) == 0 &&
              kp_in[0] == (const uint8_t *)kp_words && kp_in_len[0] == GARBAGE_LEN);

    /* remove */
    CODE(MLSFRAME_MLS_CANNOT_REMOVE_SELF, "remove_member(own leaf 0)",
         mlsframe_session_remove_member(g->alice, 0, &b));
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "remove_member(leaf 7)",
         mlsframe_session_remove_member(g->alice, 7, &b));
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "remove_member(leaf UINT32_MAX)",
         mlsframe_session_remove_member(g->alice, UINT32_MAX, &b));
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "remove_user(unknown user)",
         mlsframe_session_remove_user(g->alice, (const uint8_t *)"mallory", 7, &b));
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "remove_user(NULL, len 0 = empty)",
         mlsframe_session_remove_user(g->alice, NULL, 0, &b));
    CODE(MLSFRAME_MLS_CANNOT_REMOVE_SELF, "remove_user(own user)",
         mlsframe_session_remove_user(g->alice, (const uint8_t *)"alice", 5, &b));
    CODE(MLSFRAME_MLS_MALFORMED, "commit_pending_proposals(none pending)",
         mlsframe_session_commit_pending_proposals(g->alice, &b, NULL));
    uint64_t user_words[2];
    memcpy(user_words, "mallory", 8);
    CODE(MLSFRAME_INVALID_ARGUMENT, "remove_user(commit_out over the user id)",
         mlsframe_session_remove_user(g->alice, (const uint8_t *)user_words, 7,
                                      (mlsframe_buffer *)user_words));
    check("refused remove_user left the user id intact", memcmp(user_words, "mallory", 8) == 0);
    CODE(MLSFRAME_INVALID_ARGUMENT, "commit_pending_proposals(commit_out == welcome_out)",
         mlsframe_session_commit_pending_proposals(g->alice, &b, &b));
    check("failed commits filled no buffer", b.data == NULL && b2.data == NULL);

    /* member_identity */
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "member_identity(leaf 7)",
         mlsframe_session_member_identity(g->alice, 7, &b, &b2));
    CODE(MLSFRAME_INVALID_ARGUMENT, "member_identity(user_id_out == device_id_out)",
         mlsframe_session_member_identity(g->alice, 0, &b, &b));
    check("refused member_identity filled no buffer", b.data == NULL);
    uint64_t both = 0;
    CODE(MLSFRAME_INVALID_ARGUMENT, "epoch(own_leaf_out inside epoch_out)",
         mlsframe_session_epoch(g->alice, &both, (uint32_t *)&both));

    /* pending-commit state machine */
    CODE(MLSFRAME_MLS_NO_PENDING_COMMIT, "confirm_commit(none pending)",
         mlsframe_session_confirm_commit(g->alice));
    CODE(MLSFRAME_MLS_NO_PENDING_COMMIT, "discard_commit(none pending)",
         mlsframe_session_discard_commit(g->alice));
    CODE(MLSFRAME_OK, "self_update", mlsframe_session_self_update(g->alice, &b));
    CODE(MLSFRAME_MLS_COMMIT_PENDING, "self_update(commit pending)",
         mlsframe_session_self_update(g->alice, &b2));
    CODE(MLSFRAME_MLS_COMMIT_PENDING, "remove_member(commit pending)",
         mlsframe_session_remove_member(g->alice, 1, &b2));
    CODE(MLSFRAME_OK, "discard_commit", mlsframe_session_discard_commit(g->alice));
    CODE(MLSFRAME_MLS_NO_PENDING_COMMIT, "discard_commit(again)",
         mlsframe_session_discard_commit(g->alice));
    mlsframe_buffer_free(&b);
    mlsframe_buffer_free(&b2);
    check("buffer_free resets to {NULL,0}", b.data == NULL && b.len == 0);
    mlsframe_buffer_free(&b);
    check("buffer_free twice is a no-op", b.data == NULL && b.len == 0);

    /* process */
    CODE(MLSFRAME_MLS_MALFORMED, "process(NULL, len 0 = empty)",
         mlsframe_session_process(g->bob, NULL, 0, &o));
    CODE(MLSFRAME_MLS_MALFORMED, "process(garbage)",
         mlsframe_session_process(g->bob, GARBAGE, GARBAGE_LEN, &o));
    uint64_t msg_words[8];
    memcpy(msg_words, GARBAGE, GARBAGE_LEN);
    CODE(MLSFRAME_INVALID_ARGUMENT, "process(out inside the message)",
         mlsframe_session_process(g->bob, (const uint8_t *)msg_words, GARBAGE_LEN,
                                  (mlsframe_outcome *)&msg_words[2]));
    CODE(MLSFRAME_INVALID_ARGUMENT, "join(epoch_out inside the welcome)",
         mlsframe_session_join(carol, (const uint8_t *)msg_words, GARBAGE_LEN, &msg_words[1]));
    check("refused process/join left the message intact",
          memcmp(msg_words, GARBAGE, GARBAGE_LEN) == 0);
    CODE(MLSFRAME_MLS_UNEXPECTED_MESSAGE, "process(a welcome)",
         mlsframe_session_process(g->bob, g->welcome.data, g->welcome.len, &o));
    CODE(MLSFRAME_MLS_UNEXPECTED_MESSAGE, "process(a key package)",
         mlsframe_session_process(g->bob, g->bob_kp_spare.data, g->bob_kp_spare.len, &o));
    CODE(MLSFRAME_MLS_WRONG_EPOCH, "process(an old commit)",
         mlsframe_session_process(g->alice, g->add_commit.data, g->add_commit.len, &o));
    /* a commit with one byte flipped in its ciphertext */
    mlsframe_buffer upd = {NULL, 0};
    must("self_update", mlsframe_session_self_update(g->alice, &upd));
    uint8_t *bad = malloc(upd.len);
    memcpy(bad, upd.data, upd.len);
    bad[upd.len - 5] ^= 0x40;
    CODE(MLSFRAME_MLS_REJECTED, "process(commit with a flipped byte)",
         mlsframe_session_process(g->bob, bad, upd.len, &o));
    CODE(MLSFRAME_MLS_MALFORMED, "process(truncated commit)",
         mlsframe_session_process(g->bob, upd.data, upd.len - 1, &o));
    {
        uint8_t *big = calloc(1, MAX_MLS_MESSAGE + 1);
        memcpy(big, upd.data, upd.len);
        CODE(MLSFRAME_MLS_MESSAGE_TOO_LARGE, "process(commit padded to 2 MiB + 1)",
             mlsframe_session_process(g->bob, big, MAX_MLS_MESSAGE + 1, &o));
        CODE(MLSFRAME_MLS_MALFORMED, "process(commit padded to exactly 2 MiB)",
             mlsframe_session_process(g->bob, big, MAX_MLS_MESSAGE, &o));
        free(big);
    }
    free(bad);
    uint64_t e = 0;
    must("epoch", mlsframe_session_epoch(g->bob, &e, NULL));
    check("bob's epoch unchanged by failed process", e == 1);
    must("discard_commit", mlsframe_session_discard_commit(g->alice));
    mlsframe_buffer_free(&upd);

    /* leave: a proposal; bob commits it? keep the group: only check the proposal path */
    mlsframe_buffer_free(&carol_kp);
    mlsframe_session_free(carol);
}

/* ---- the interop calls on a real group --------------------------------------------- */

static void test_interop_calls(group *g) {
    mlsframe_buffer b = {NULL, 0}, tree = {NULL, 0};
    mlsframe_session *carol = new_session("carol", "tablet");
    mlsframe_group_params params = {0, 0, 0};
    uint64_t epoch = 77;

    /* join_with */
    CODE(MLSFRAME_OK, "ratchet_tree(alice)", mlsframe_session_ratchet_tree(g->alice, &tree));
    check("-> a non-empty tree", tree.data != NULL && tree.len > 0);
    CODE(MLSFRAME_INVALID_ARGUMENT, "join_with(welcome len SIZE_MAX)",
         mlsframe_session_join_with(carol, GARBAGE, HUGE, NULL, 0, NULL, &epoch));
    CODE(MLSFRAME_INVALID_ARGUMENT, "join_with(ratchet_tree len SIZE_MAX)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, tree.data, HUGE,
                                    NULL, &epoch));
    uint64_t words[8];
    memcpy(words, GARBAGE, GARBAGE_LEN);
    CODE(MLSFRAME_INVALID_ARGUMENT, "join_with(epoch_out inside the welcome)",
         mlsframe_session_join_with(carol, (const uint8_t *)words, GARBAGE_LEN, NULL, 0, NULL,
                                    &words[2]));
    CODE(MLSFRAME_INVALID_ARGUMENT, "join_with(epoch_out inside the tree)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len,
                                    (const uint8_t *)words, GARBAGE_LEN, NULL, &words[3]));
    check("refused join_with left its inputs intact", memcmp(words, GARBAGE, GARBAGE_LEN) == 0);
    mlsframe_group_params in_params[2];
    memset(in_params, 0, sizeof in_params);
    CODE(MLSFRAME_INVALID_ARGUMENT, "join_with(epoch_out inside *params)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, NULL, 0, in_params,
                                    (uint64_t *)(void *)in_params));
    params.handshake = 2;
    CODE(MLSFRAME_INVALID_ARGUMENT, "join_with(params handshake 2)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, NULL, 0, &params,
                                    &epoch));
    params.handshake = 0;
    params.epoch_bits = 1;
    CODE(MLSFRAME_MLS_INVALID_PARAMS, "join_with(params E 1)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, NULL, 0, &params,
                                    &epoch));
    params.epoch_bits = 0;
    params.sframe_suite = 6;
    CODE(MLSFRAME_MLS_INVALID_PARAMS, "join_with(params suite 6)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, NULL, 0, &params,
                                    &epoch));
    params.sframe_suite = 0;
    CODE(MLSFRAME_MLS_MALFORMED, "join_with(welcome NULL, len 0 = empty)",
         mlsframe_session_join_with(carol, NULL, 0, NULL, 0, NULL, &epoch));
    CODE(MLSFRAME_MLS_MALFORMED, "join_with(garbage welcome)",
         mlsframe_session_join_with(carol, GARBAGE, GARBAGE_LEN, tree.data, tree.len, NULL,
                                    &epoch));
    CODE(MLSFRAME_MLS_UNEXPECTED_MESSAGE, "join_with(a key package)",
         mlsframe_session_join_with(carol, g->bob_kp_spare.data, g->bob_kp_spare.len, NULL, 0,
                                    NULL, &epoch));
    CODE(MLSFRAME_MLS_INVALID_RATCHET_TREE, "join_with(garbage tree)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, GARBAGE,
                                    GARBAGE_LEN, NULL, &epoch));
    CODE(MLSFRAME_MLS_INVALID_RATCHET_TREE, "join_with(truncated tree)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, tree.data,
                                    tree.len - 1, NULL, &epoch));
    CODE(MLSFRAME_MLS_INVALID_WELCOME, "join_with(someone else's welcome, the right tree)",
         mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, tree.data, tree.len,
                                    &params, &epoch));
    CODE(MLSFRAME_MLS_ALREADY_IN_GROUP, "join_with(already in a group)",
         mlsframe_session_join_with(g->bob, g->welcome.data, g->welcome.len, tree.data,
                                    tree.len, NULL, &epoch));
    {
        uint8_t *big = calloc(1, MAX_WELCOME + 1);
        memcpy(big, tree.data, tree.len);
        CODE(MLSFRAME_MLS_WELCOME_TOO_LARGE, "join_with(tree padded to 24 MiB + 1)",
             mlsframe_session_join_with(carol, g->welcome.data, g->welcome.len, big,
                                        MAX_WELCOME + 1, NULL, &epoch));
        free(big);
    }
    check("refused join_with reset the epoch to 0", epoch == 0);
    CODE(MLSFRAME_MLS_NO_GROUP, "epoch(carol after every refused join_with)",
         mlsframe_session_epoch(carol, NULL, NULL));

    /* export_secret */
    const uint8_t not_utf8[] = {'a', 0xff, 'b'};
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(label not UTF-8)",
         mlsframe_session_export_secret(g->alice, not_utf8, sizeof not_utf8, NULL, 0, 16, &b));
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(label not UTF-8, no group: label first)",
         mlsframe_session_export_secret(carol, not_utf8, sizeof not_utf8, NULL, 0, 16, &b));
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(length 0)",
         mlsframe_session_export_secret(g->alice, (const uint8_t *)"l", 1, NULL, 0, 0, &b));
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(length 8161)",
         mlsframe_session_export_secret(g->alice, (const uint8_t *)"l", 1, NULL, 0, 8161, &b));
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(length SIZE_MAX)",
         mlsframe_session_export_secret(g->alice, (const uint8_t *)"l", 1, NULL, 0, SIZE_MAX,
                                        &b));
    check("failed export_secret filled no buffer", b.data == NULL && b.len == 0);
    memcpy(words, GARBAGE, GARBAGE_LEN);
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(out inside the label)",
         mlsframe_session_export_secret(g->alice, (const uint8_t *)words, 40, NULL, 0, 16,
                                        (mlsframe_buffer *)&words[2]));
    CODE(MLSFRAME_INVALID_ARGUMENT, "export_secret(out inside the context)",
         mlsframe_session_export_secret(g->alice, NULL, 0, (const uint8_t *)words, 40, 16,
                                        (mlsframe_buffer *)&words[1]));
    check("refused export_secret left its inputs intact",
          memcmp(words, GARBAGE, GARBAGE_LEN) == 0);
    CODE(MLSFRAME_OK, "export_secret(empty label and context, length 8160)",
         mlsframe_session_export_secret(g->alice, NULL, 0, NULL, 0, 8160, &b));
    check("-> 8160 bytes", b.data != NULL && b.len == 8160);
    mlsframe_buffer_free(&b);

    /* epoch_authenticator, params, member_credential */
    CODE(MLSFRAME_OK, "epoch_authenticator(alice)", mlsframe_session_epoch_authenticator(g->alice, &b));
    check("-> 32 bytes", b.data != NULL && b.len == 32);
    mlsframe_buffer_free(&b);
    uint64_t both[2] = {0, 0};
    CODE(MLSFRAME_INVALID_ARGUMENT, "params(params_source_out inside params_out)",
         mlsframe_session_params(g->alice, (mlsframe_group_params *)(void *)both,
                                 (uint32_t *)(void *)both));
    uint16_t type = 77;
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "member_credential(leaf 7)",
         mlsframe_session_member_credential(g->alice, 7, &type, &b));
    check("failed member_credential: type 0, {NULL, 0}", type == 0 && b.data == NULL && b.len == 0);
    type = 77;
    CODE(MLSFRAME_INVALID_ARGUMENT, "member_credential(credential_type_out inside content_out)",
         mlsframe_session_member_credential(g->alice, 1, (uint16_t *)(void *)&b, &b));
    CODE(MLSFRAME_OK, "member_credential(bob's leaf)",
         mlsframe_session_member_credential(g->alice, 1, &type, &b));
    check("-> a basic credential", type == 1 && b.data != NULL && b.len > 0);
    mlsframe_buffer_free(&b);

    mlsframe_buffer_free(&tree);
    mlsframe_session_free(carol);
}

/* ---- snapshot and restore ---------------------------------------------------------- */

static void test_snapshot_restore(group *g) {
    mlsframe_buffer snap = {NULL, 0};
    mlsframe_session *r = (mlsframe_session *)&r;
    CODE(MLSFRAME_NULL_ARGUMENT, "snapshot(NULL session)", mlsframe_session_snapshot(NULL, &snap));
    CODE(MLSFRAME_NULL_ARGUMENT, "snapshot(out NULL)", mlsframe_session_snapshot(g->bob, NULL));
    mlsframe_session *lonely = new_session("lonely", "phone");
    CODE(MLSFRAME_MLS_NO_GROUP, "snapshot(no group)", mlsframe_session_snapshot(lonely, &snap));
    mlsframe_session_free(lonely);
    CODE(MLSFRAME_NULL_ARGUMENT, "restore(out NULL)",
         mlsframe_session_restore(GARBAGE, GARBAGE_LEN, NULL, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "restore(snapshot NULL, len 8)",
         mlsframe_session_restore(NULL, 8, NULL, &r));
    check("failed restore sets *out NULL", r == NULL);
    CODE(MLSFRAME_MLS_MALFORMED, "restore(NULL, len 0 = empty)",
         mlsframe_session_restore(NULL, 0, NULL, &r));
    CODE(MLSFRAME_MLS_MALFORMED, "restore(garbage)",
         mlsframe_session_restore(GARBAGE, GARBAGE_LEN, NULL, &r));
    CODE(MLSFRAME_INVALID_ARGUMENT, "restore(len SIZE_MAX)",
         mlsframe_session_restore(GARBAGE, HUGE, NULL, &r));
    CODE(MLSFRAME_MLS_MALFORMED, "restore(a welcome)",
         mlsframe_session_restore(g->welcome.data, g->welcome.len, NULL, &r));
    uint64_t snap_words[8];
    memcpy(snap_words, GARBAGE, GARBAGE_LEN);
    CODE(MLSFRAME_INVALID_ARGUMENT, "restore(out inside the snapshot)",
         mlsframe_session_restore((const uint8_t *)snap_words, GARBAGE_LEN, NULL,
                                  (mlsframe_session **)&snap_words[3]));

    mlsframe_buffer pending = {NULL, 0};
    must("self_update", mlsframe_session_self_update(g->alice, &pending));
    CODE(MLSFRAME_MLS_COMMIT_PENDING, "snapshot(commit pending)",
         mlsframe_session_snapshot(g->alice, &snap));
    must("discard_commit", mlsframe_session_discard_commit(g->alice));
    mlsframe_buffer_free(&pending);

    CODE(MLSFRAME_OK, "snapshot(bob)", mlsframe_session_snapshot(g->bob, &snap));
    CODE(MLSFRAME_MLS_MALFORMED, "restore(truncated snapshot)",
         mlsframe_session_restore(snap.data, snap.len - 1, NULL, &r));
    mlsframe_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CODE(MLSFRAME_OK, "restore(snapshot, zeroed config)",
         mlsframe_session_restore(snap.data, snap.len, &cfg, &r));
    mlsframe_buffer_free(&snap);
    uint64_t epoch = 0;
    uint32_t leaf = 0;
    CODE(MLSFRAME_OK, "epoch(restored)", mlsframe_session_epoch(r, &epoch, &leaf));
    check("restored bob: epoch 1, leaf 1", epoch == 1 && leaf == 1);
    mlsframe_encryptor *enc = NULL;
    must("encryptor_new", mlsframe_session_encryptor_new(r, 5, &enc));
    uint8_t out[64];
    size_t n = 1;
    CODE(MLSFRAME_REKEY_REQUIRED, "encrypt(restored, before a new epoch)",
         mlsframe_encryptor_encrypt(enc, (const uint8_t *)"x", 1, NULL, 0, out, sizeof out,
                                    &n));
    mlsframe_encryptor_free(enc);
    mlsframe_session_free(r);
}

/* ---- codec-aware framing (docs/FRAMING.md) ---------------------------------------- */

static void test_codec(group *g) {
    mlsframe_encryptor *enc = NULL;
    mlsframe_decryptor *dec = NULL;
    CODE(MLSFRAME_NULL_ARGUMENT, "encryptor_new_with_codec(NULL session)",
         mlsframe_session_encryptor_new_with_codec(NULL, 9, MLSFRAME_CODEC_VP8, &enc));
    CODE(MLSFRAME_NULL_ARGUMENT, "encryptor_new_with_codec(out NULL)",
         mlsframe_session_encryptor_new_with_codec(g->alice, 9, MLSFRAME_CODEC_VP8, NULL));
    CODE(MLSFRAME_UNSUPPORTED_CODEC, "encryptor_new_with_codec(codec 7)",
         mlsframe_session_encryptor_new_with_codec(g->alice, 9, 7, &enc));
    check("failed encryptor_new_with_codec sets *out NULL", enc == NULL);
    must("encryptor_new_with_codec",
         mlsframe_session_encryptor_new_with_codec(g->alice, 9, MLSFRAME_CODEC_VP8, &enc));
    must("decryptor_new", mlsframe_session_decryptor_new(g->bob, &dec));

    /* A VP8 key frame: 3-byte tag, start code, 640x480, then the first partition. */
    uint8_t frame[64] = {0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
    for (size_t i = 10; i < sizeof frame; i++) frame[i] = (uint8_t)(i * 7 + 1);
    size_t cap = mlsframe_encryptor_max_ciphertext_size(enc, sizeof frame);
    check("codec max_ciphertext_size covers a trailer",
          cap > mlsframe_encryptor_max_ciphertext_size(NULL, sizeof frame));
    uint8_t sealed[512], plain[512];
    size_t sealed_len = 0, n = 1;
    check("codec max_ciphertext_size fits the test buffer", cap <= sizeof sealed);
    CODE(MLSFRAME_OK, "encrypt(codec VP8)",
         mlsframe_encryptor_encrypt(enc, frame, sizeof frame, (const uint8_t *)"ad", 2, sealed,
                                    cap, &sealed_len));
    check("VP8 key-frame header clear on the wire", memcmp(sealed, frame, 10) == 0);
    check("VP8 payload not clear", memcmp(sealed + 10, frame + 10, sizeof frame - 10) != 0);
    mlsframe_sender who;
    CODE(MLSFRAME_NULL_ARGUMENT, "decrypt_codec(NULL decryptor)",
         mlsframe_decryptor_decrypt_codec(NULL, MLSFRAME_CODEC_VP8, sealed, sealed_len,
                                          NULL, 0, plain, sizeof plain, &n, &who));
    CODE(MLSFRAME_UNSUPPORTED_CODEC, "decrypt_codec(codec 99)",
         mlsframe_decryptor_decrypt_codec(dec, 99, sealed, sealed_len, (const uint8_t *)"ad",
                                          2, plain, sizeof plain, &n, &who));
    uint8_t tampered[512];
    memcpy(tampered, sealed, sealed_len);
    tampered[7] ^= 0x04; /* a clear width bit */
    CODE(MLSFRAME_AUTH_FAILED, "decrypt_codec(a clear byte flipped)",
         mlsframe_decryptor_decrypt_codec(dec, MLSFRAME_CODEC_VP8, tampered, sealed_len,
                                          (const uint8_t *)"ad", 2, plain, sizeof plain, &n,
                                          &who));
    check("failed decrypt_codec writes 0 to *written", n == 0);
    CODE(MLSFRAME_MALFORMED_LAYOUT, "decrypt_codec(footer cut off)",
         mlsframe_decryptor_decrypt_codec(dec, MLSFRAME_CODEC_VP8, sealed, sealed_len - 1,
                                          (const uint8_t *)"ad", 2, plain, sizeof plain, &n,
                                          &who));
    CODE(MLSFRAME_AUTH_FAILED, "decrypt_codec(sealed as VP8, opened as VP9)",
         mlsframe_decryptor_decrypt_codec(dec, MLSFRAME_CODEC_VP9, sealed, sealed_len,
                                          (const uint8_t *)"ad", 2, plain, sizeof plain, &n,
                                          &who));
    /* Read whole, the clear VP8 tag is taken for an SFrame header: never opened. */
    check("decrypt(codec frame opened whole) is refused",
          mlsframe_decryptor_decrypt(dec, sealed, sealed_len, (const uint8_t *)"ad", 2, plain,
                                     sizeof plain, &n, &who) != MLSFRAME_OK);
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "decrypt_codec(out_cap below the frame)",
         mlsframe_decryptor_decrypt_codec(dec, MLSFRAME_CODEC_VP8, sealed, sealed_len,
                                          (const uint8_t *)"ad", 2, plain, 10, &n, &who));
    CODE(MLSFRAME_OK, "decrypt_codec(VP8)",
         mlsframe_decryptor_decrypt_codec(dec, MLSFRAME_CODEC_VP8, sealed, sealed_len,
                                          (const uint8_t *)"ad", 2, plain, sizeof plain, &n,
                                          &who));
    check("decrypt_codec round trip is byte-identical",
          n == sizeof frame && memcmp(plain, frame, sizeof frame) == 0 && who.context == 9);
    CODE(MLSFRAME_REPLAY, "decrypt_codec(again)",
         mlsframe_decryptor_decrypt_codec(dec, MLSFRAME_CODEC_VP8, sealed, sealed_len,
                                          (const uint8_t *)"ad", 2, plain, sizeof plain, &n,
                                          &who));
    /* In place. */
    CODE(MLSFRAME_OK, "encrypt(codec VP8, second frame)",
         mlsframe_encryptor_encrypt(enc, frame, sizeof frame, NULL, 0, sealed, cap,
                                    &sealed_len));
    CODE(MLSFRAME_OK, "decrypt_codec(in place)",
         mlsframe_decryptor_decrypt_codec(dec, MLSFRAME_CODEC_VP8, sealed, sealed_len, NULL, 0,
                                          sealed, sizeof sealed, &n, &who));
    check("decrypt_codec in place is byte-identical",
          n == sizeof frame && memcmp(sealed, frame, sizeof frame) == 0);
    mlsframe_encryptor_free(enc);
    mlsframe_decryptor_free(dec);
}

/* ---- encryptor and decryptor ------------------------------------------------------- */

static void test_media(group *g) {
    mlsframe_encryptor *enc = NULL, *enc2 = NULL, *bob_enc = NULL;
    mlsframe_decryptor *dec = NULL, *alice_dec = NULL;
    must("encryptor_new", mlsframe_session_encryptor_new(g->alice, 0, &enc));
    must("decryptor_new", mlsframe_session_decryptor_new(g->bob, &dec));
    must("decryptor_new", mlsframe_session_decryptor_new(g->alice, &alice_dec));
    must("encryptor_new", mlsframe_session_encryptor_new(g->bob, 0, &bob_enc));
    CODE(MLSFRAME_CONTEXT_IN_USE, "encryptor_new(context 0 again)",
         mlsframe_session_encryptor_new(g->alice, 0, &enc2));
    check("failed encryptor_new sets *out NULL", enc2 == NULL);
    CODE(MLSFRAME_OK, "encryptor_new(context UINT64_MAX: checked when sealing)",
         mlsframe_session_encryptor_new(g->alice, UINT64_MAX, &enc2));
    {
        uint8_t o[64];
        size_t w = 1;
        CODE(MLSFRAME_CONTEXT_TOO_LARGE, "encrypt(context UINT64_MAX)",
             mlsframe_encryptor_encrypt(enc2, (const uint8_t *)"x", 1, NULL, 0, o, sizeof o,
                                        &w));
        check("failed encrypt writes 0 to *written", w == 0);
        mlsframe_encryptor_free(enc2);
        enc2 = NULL;
    }

    const uint8_t pt[] = "sixteen byte msg";
    const size_t pt_len = 16;
    uint8_t out[128], buf[128], plain[128];
    size_t n = 0;

    /* max sizes */
    check("encryptor_max_ciphertext_size(NULL, 0) == 33",
          mlsframe_encryptor_max_ciphertext_size(NULL, 0) == 33);
    check("encryptor_max_ciphertext_size(16) == 49",
          mlsframe_encryptor_max_ciphertext_size(enc, 16) == 49);
    check("encryptor_max_ciphertext_size(SIZE_MAX) == SIZE_MAX",
          mlsframe_encryptor_max_ciphertext_size(enc, SIZE_MAX) ==
              SIZE_MAX);
    check("encryptor_max_ciphertext_size(SIZE_MAX - 32) == SIZE_MAX",
          mlsframe_encryptor_max_ciphertext_size(enc, SIZE_MAX - 32) == SIZE_MAX);
    static const size_t sizes[] = {0, 1, 16, 33, 1200, SIZE_MAX / 2, SIZE_MAX - 1, SIZE_MAX};
    bool le = true;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        le = le && mlsframe_decryptor_max_plaintext_size(dec, sizes[i]) <=
                       sizes[i];
        le = le && mlsframe_decryptor_max_plaintext_size(NULL, sizes[i]) <= sizes[i];
    }
    check("decryptor_max_plaintext_size(n) <= n for n in {0,1,16,33,1200,..,SIZE_MAX}", le);

    /* encrypt: arguments */
    CODE(MLSFRAME_NULL_ARGUMENT, "encrypt(NULL encryptor)",
         mlsframe_encryptor_encrypt(NULL, pt, pt_len, NULL, 0, out, sizeof out, &n));
    CODE(MLSFRAME_NULL_ARGUMENT, "encrypt(written NULL)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, out, sizeof out, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "encrypt(out NULL, cap 64)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, NULL, 64, &n));
    CODE(MLSFRAME_NULL_ARGUMENT, "encrypt(frame NULL, len 16)",
         mlsframe_encryptor_encrypt(enc, NULL, pt_len, NULL, 0, out, sizeof out, &n));
    CODE(MLSFRAME_NULL_ARGUMENT, "encrypt(additional data NULL, len 4)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 4, out, sizeof out, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(out_cap SIZE_MAX)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, out, HUGE, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(frame len SIZE_MAX)",
         mlsframe_encryptor_encrypt(enc, pt, HUGE, NULL, 0, out, sizeof out, &n));
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "encrypt(out NULL, cap 0)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, NULL, 0, &n));
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "encrypt(out cap 16 < needed)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, out, pt_len, &n));
    memcpy(buf, pt, pt_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(out = frame + 1, overlapping)",
         mlsframe_encryptor_encrypt(enc, buf, pt_len, NULL, 0, buf + 1, 64, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(frame = out + 8, overlapping)",
         mlsframe_encryptor_encrypt(enc, buf + 8, pt_len, NULL, 0, buf, 64, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(in place, out_cap < frame_len)",
         mlsframe_encryptor_encrypt(enc, buf, pt_len, NULL, 0, buf, pt_len - 1, &n));
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "encrypt(in place, no room for header and tag)",
         mlsframe_encryptor_encrypt(enc, buf, pt_len, NULL, 0, buf, pt_len + 4, &n));
    /* Additional data overlapping out (issue 8, 2h): refused in place and out of place;
     * so is `written` inside out or the frame. Argument errors: not counted in stats. */
    uint64_t words[16];
    uint8_t *w = (uint8_t *)words;
    memset(words, 0xA5, sizeof words);
    memcpy(w, pt, pt_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(in place, additional data inside out)",
         mlsframe_encryptor_encrypt(enc, w, pt_len, w + 100, 4, w, sizeof words, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(in place, additional data = the frame)",
         mlsframe_encryptor_encrypt(enc, w, pt_len, w, pt_len, w, sizeof words, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(in place, additional data across the end of out)",
         mlsframe_encryptor_encrypt(enc, w, pt_len, w + 60, 8, w, 64, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(out of place, additional data inside out)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, w + 8, 4, w, 64, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(out of place, out inside additional data)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, w, sizeof words, w + 32, 64, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(written inside out)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, w, 64, (size_t *)&words[2]));
    check("refused encrypts left the frame untouched", memcmp(w, pt, pt_len) == 0);
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(written inside the frame)",
         mlsframe_encryptor_encrypt(enc, w, pt_len, NULL, 0, out, sizeof out,
                                    (size_t *)&words[1]));
    check("encrypt(written inside the frame) wrote nothing into the frame",
          memcmp(w, pt, pt_len) == 0);
    n = 777;
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "encrypt(out cap 16 < needed, again)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, out, pt_len, &n));
    check("a failed encrypt wrote 0 to *written", n == 0);
    n = 777;
    CODE(MLSFRAME_INVALID_ARGUMENT, "encrypt(out_cap SIZE_MAX, again)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, out, HUGE, &n));
    check("an encrypt refused for its arguments wrote 0 to *written", n == 0);
    mlsframe_encryptor_stats es;
    CODE(MLSFRAME_NULL_ARGUMENT, "mlsframe_encryptor_get_stats(NULL)", mlsframe_encryptor_get_stats(NULL, &es));
    CODE(MLSFRAME_NULL_ARGUMENT, "mlsframe_encryptor_get_stats(out NULL)", mlsframe_encryptor_get_stats(enc, NULL));
    CODE(MLSFRAME_OK, "encryptor_stats", mlsframe_encryptor_get_stats(enc, &es));
    printf("     alice's encryptor: out %" PRIu64 ", not_member %" PRIu64 ", buffer %" PRIu64
           ", other %" PRIu64 ", epoch %" PRIu64 "\n",
           es.frames_out, es.failed_not_member, es.failed_buffer, es.failed_other, es.epoch);
    /* "in place, out_cap < frame_len" is an argument error: returned before counting. */
    check("encryptor stats: 0 sealed, 4 buffer failures, epoch 1",
          es.frames_out == 0 && es.failed_buffer == 4 && es.failed_not_member == 0 &&
              es.epoch == 1);
    CODE(MLSFRAME_NULL_ARGUMENT, "set_key_frame_callback(NULL encryptor)",
         mlsframe_encryptor_set_key_frame_callback(NULL, on_key_frame, NULL));
    CODE(MLSFRAME_OK, "set_key_frame_callback(callback)",
         mlsframe_encryptor_set_key_frame_callback(enc, on_key_frame, NULL));
    CODE(MLSFRAME_OK, "set_key_frame_callback(NULL callback clears)",
         mlsframe_encryptor_set_key_frame_callback(enc, NULL, NULL));

    /* encrypt: valid edge cases */
    size_t empty_len = 0;
    uint8_t empty_frame[64];
    CODE(MLSFRAME_OK, "encrypt(frame NULL, len 0 = empty frame)",
         mlsframe_encryptor_encrypt(enc, NULL, 0, NULL, 0, empty_frame, sizeof empty_frame,
                                    &empty_len));
    check("empty frame seals to header + tag", empty_len > 16 && empty_len <= 33);
    uint8_t ip[64];
    memcpy(ip, pt, pt_len);
    size_t ip_len = 0;
    CODE(MLSFRAME_OK, "encrypt(in place)",
         mlsframe_encryptor_encrypt(enc, ip, pt_len, NULL, 0, ip, sizeof ip, &ip_len));
    size_t sealed_len = 0;
    CODE(MLSFRAME_OK, "encrypt(with additional data)",
         mlsframe_encryptor_encrypt(enc, pt, pt_len,
                                    (const uint8_t *)"ad", 2, out, sizeof out, &sealed_len));

    /* decrypt: arguments */
    mlsframe_sender who;
    CODE(MLSFRAME_NULL_ARGUMENT, "decrypt(NULL decryptor)",
         mlsframe_decryptor_decrypt(NULL, out, sealed_len, NULL, 0, plain, sizeof plain, &n,
                                    &who));
    CODE(MLSFRAME_NULL_ARGUMENT, "decrypt(written NULL)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, NULL, 0, plain, sizeof plain, NULL,
                                    &who));
    CODE(MLSFRAME_NULL_ARGUMENT, "decrypt(out NULL, cap 64)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, NULL, 0, NULL, 64, &n, &who));
    CODE(MLSFRAME_NULL_ARGUMENT, "decrypt(frame NULL, len 40)",
         mlsframe_decryptor_decrypt(dec, NULL, 40, NULL, 0, plain, sizeof plain, &n, &who));
    CODE(MLSFRAME_NULL_ARGUMENT, "decrypt(additional data NULL, len 2)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, NULL, 2, plain, sizeof plain, &n,
                                    &who));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(out_cap SIZE_MAX)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, NULL, 0, plain, HUGE, &n, &who));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(frame len SIZE_MAX)",
         mlsframe_decryptor_decrypt(dec, out, HUGE, NULL, 0, plain, sizeof plain, &n, &who));
    memcpy(buf, out, sealed_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(out = frame + 1, overlapping)",
         mlsframe_decryptor_decrypt(dec, buf, sealed_len, (const uint8_t *)"ad", 2, buf + 1,
                                    64, &n, &who));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(frame = out + 1, overlapping)",
         mlsframe_decryptor_decrypt(dec, buf + 1, sealed_len - 1, (const uint8_t *)"ad", 2,
                                    buf, 64, &n, &who));
    /* Additional data overlapping out (issue 8, 2h), in place and out of place; `written`
     * or `sender` inside out. All refused before anything is read or written. */
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(in place, additional data inside out)",
         mlsframe_decryptor_decrypt(dec, buf, sealed_len, buf + 100, 2, buf, sizeof buf, &n,
                                    &who));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(in place, additional data = the header)",
         mlsframe_decryptor_decrypt(dec, buf, sealed_len, buf, 2, buf, sealed_len, &n, &who));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(out of place, additional data inside out)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, plain + 4, 2, plain, sizeof plain,
                                    &n, &who));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(out of place, out inside additional data)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, plain, sizeof plain, plain + 8, 64,
                                    &n, &who));
    uint64_t dwords[16];
    memset(dwords, 0, sizeof dwords);
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(written inside out)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, (const uint8_t *)"ad", 2,
                                    (uint8_t *)dwords, sizeof dwords, (size_t *)&dwords[3],
                                    &who));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(sender inside out)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, (const uint8_t *)"ad", 2,
                                    (uint8_t *)dwords, sizeof dwords, &n,
                                    (mlsframe_sender *)&dwords[4]));
    memcpy(dwords, out, sealed_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(in place, sender inside the buffer)",
         mlsframe_decryptor_decrypt(dec, (uint8_t *)dwords, sealed_len, (const uint8_t *)"ad",
                                    2, (uint8_t *)dwords, sizeof dwords, &n,
                                    (mlsframe_sender *)&dwords[12]));
    check("refused decrypts left the frames untouched",
          memcmp(buf, out, sealed_len) == 0 && memcmp(dwords, out, sealed_len) == 0);
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "decrypt(out cap 15 < plaintext 16)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, (const uint8_t *)"ad", 2, plain,
                                    pt_len - 1, &n, &who));
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "decrypt(out NULL, cap 0)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, (const uint8_t *)"ad", 2, NULL, 0,
                                    &n, &who));
    n = 77;
    memset(&who, 0xA5, sizeof who);
    CODE(MLSFRAME_AUTH_FAILED, "decrypt(wrong additional data)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, (const uint8_t *)"AD", 2, plain,
                                    sizeof plain, &n, &who));
    check("a failed decrypt reset *written and *sender",
          n == 0 && who.epoch == 0 && who.leaf == 0 && who.context == 0);
    CODE(MLSFRAME_OK, "decrypt(valid, exact plaintext size cap)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, (const uint8_t *)"ad", 2, plain,
                                    pt_len, &n, &who));
    check("decrypt wrote the plaintext and sender leaf 0",
          n == pt_len && memcmp(plain, pt, pt_len) == 0 && who.leaf == 0 && who.epoch == 1);
    /* sender_identity: resolved in the frame's epoch */
    mlsframe_buffer uid = {NULL, 0}, did = {NULL, 0};
    CODE(MLSFRAME_OK, "sender_identity(decrypted sender)",
         mlsframe_decryptor_sender_identity(dec, &who, &uid, &did));
    check("sender_identity filled the user id", uid.data != NULL && uid.len > 0);
    mlsframe_buffer_free(&uid);
    mlsframe_buffer_free(&did);
    CODE(MLSFRAME_NULL_ARGUMENT, "sender_identity(NULL decryptor)",
         mlsframe_decryptor_sender_identity(NULL, &who, &uid, &did));
    CODE(MLSFRAME_NULL_ARGUMENT, "sender_identity(NULL sender)",
         mlsframe_decryptor_sender_identity(dec, NULL, &uid, &did));
    CODE(MLSFRAME_NULL_ARGUMENT, "sender_identity(NULL user out)",
         mlsframe_decryptor_sender_identity(dec, &who, NULL, &did));
    CODE(MLSFRAME_NULL_ARGUMENT, "sender_identity(NULL device out)",
         mlsframe_decryptor_sender_identity(dec, &who, &uid, NULL));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sender_identity(user out == device out)",
         mlsframe_decryptor_sender_identity(dec, &who, &uid, &uid));
    union {
        mlsframe_sender sender;
        mlsframe_buffer buffer;
    } alias;
    alias.sender = who;
    CODE(MLSFRAME_INVALID_ARGUMENT, "sender_identity(sender inside user out)",
         mlsframe_decryptor_sender_identity(dec, &alias.sender, &alias.buffer, &did));
    mlsframe_sender nobody = who;
    nobody.epoch = 999;
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "sender_identity(epoch not installed)",
         mlsframe_decryptor_sender_identity(dec, &nobody, &uid, &did));
    nobody = who;
    nobody.leaf = 77;
    CODE(MLSFRAME_MLS_UNKNOWN_MEMBER, "sender_identity(empty leaf)",
         mlsframe_decryptor_sender_identity(dec, &nobody, &uid, &did));
    check("failed sender_identity left empty buffers", uid.data == NULL && did.data == NULL);
    CODE(MLSFRAME_REPLAY, "decrypt(same frame again)",
         mlsframe_decryptor_decrypt(dec, out, sealed_len, (const uint8_t *)"ad", 2, plain,
                                    sizeof plain, &n, NULL));
    CODE(MLSFRAME_INVALID_ARGUMENT, "decrypt(in place, out_cap < frame_len)",
         mlsframe_decryptor_decrypt(dec, ip, ip_len, NULL, 0, ip, ip_len - 1, &n, NULL));
    CODE(MLSFRAME_OK, "decrypt(in place, sender NULL)",
         mlsframe_decryptor_decrypt(dec, ip, ip_len, NULL, 0, ip, ip_len, &n, NULL));
    check("in-place plaintext at the start of the buffer",
          n == pt_len && memcmp(ip, pt, pt_len) == 0);
    CODE(MLSFRAME_OK, "decrypt(empty frame)",
         mlsframe_decryptor_decrypt(dec, empty_frame, empty_len, NULL, 0, NULL, 0, &n, NULL));
    check("empty frame opens to 0 bytes", n == 0);
    CODE(MLSFRAME_UNKNOWN_SENDER, "decrypt(own frame at alice)",
         mlsframe_decryptor_decrypt(alice_dec, out, sealed_len, (const uint8_t *)"ad", 2,
                                    plain, sizeof plain, &n, NULL));

    /* decrypt: garbage frames */
    size_t fresh_len = 0;
    uint8_t fresh[64];
    must("encrypt", mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, fresh, sizeof fresh,
                                               &fresh_len));
    CODE(MLSFRAME_MALFORMED, "decrypt(NULL, len 0 = empty frame)",
         mlsframe_decryptor_decrypt(dec, NULL, 0, NULL, 0, plain, sizeof plain, &n, NULL));
    const uint8_t all_ff[1] = {0xFF};
    CODE(MLSFRAME_MALFORMED, "decrypt(0xFF: header wants 17 bytes)",
         mlsframe_decryptor_decrypt(dec, all_ff, 1, NULL, 0, plain, sizeof plain, &n, NULL));
    {
        /* KID 1 written in an extended byte (X=1, one KID byte): RFC 9605 section 4.3 asks
         * for the minimum, and mlsframe refuses any other encoding. */
        uint8_t non_minimal[40];
        memset(non_minimal, 0, sizeof non_minimal);
        non_minimal[0] = 0x80;
        non_minimal[1] = 0x01;
        CODE(MLSFRAME_MALFORMED, "decrypt(KID 1 in an extended byte: non-minimal header)",
             mlsframe_decryptor_decrypt(dec, non_minimal, sizeof non_minimal, NULL, 0, plain,
                                        sizeof plain, &n, NULL));
    }
    CODE(MLSFRAME_MALFORMED, "decrypt(header only)",
         mlsframe_decryptor_decrypt(dec, fresh, 2, NULL, 0, plain, sizeof plain, &n, NULL));
    CODE(MLSFRAME_MALFORMED, "decrypt(shorter than its tag)",
         mlsframe_decryptor_decrypt(dec, fresh, 10, NULL, 0, plain, sizeof plain, &n, NULL));
    CODE(MLSFRAME_AUTH_FAILED, "decrypt(last byte dropped)",
         mlsframe_decryptor_decrypt(dec, fresh, fresh_len - 1, NULL, 0, plain, sizeof plain,
                                    &n, NULL));
    memcpy(buf, fresh, fresh_len);
    buf[fresh_len - 1] ^= 1;
    CODE(MLSFRAME_AUTH_FAILED, "decrypt(tag bit flipped)",
         mlsframe_decryptor_decrypt(dec, buf, fresh_len, NULL, 0, plain, sizeof plain, &n,
                                    NULL));
    CODE(MLSFRAME_NO_KEY, "decrypt(garbage text: KID 7, epoch 7 unknown)",
         mlsframe_decryptor_decrypt(dec, GARBAGE, GARBAGE_LEN, NULL, 0, plain, sizeof plain,
                                    &n, NULL));
    uint8_t kid0[40];
    memset(kid0, 0, sizeof kid0); /* KID 0: epoch 0, which bob never had */
    CODE(MLSFRAME_NO_KEY, "decrypt(zeros: KID of unknown epoch 0)",
         mlsframe_decryptor_decrypt(dec, kid0, sizeof kid0, NULL, 0, plain, sizeof plain, &n,
                                    NULL));
    uint8_t kid_leaf9[40];
    memset(kid_leaf9, 0, sizeof kid_leaf9);
    kid_leaf9[0] = 0x10; /* X=0, K=1: KID 1 (epoch 1, leaf 0) with CTR in 1 byte */
    CODE(MLSFRAME_AUTH_FAILED, "decrypt(zeros with KID of alice, epoch 1)",
         mlsframe_decryptor_decrypt(dec, kid_leaf9, sizeof kid_leaf9, NULL, 0, plain,
                                    sizeof plain, &n, NULL));
    CODE(MLSFRAME_OK, "decrypt(the untouched frame still opens)",
         mlsframe_decryptor_decrypt(dec, fresh, fresh_len, NULL, 0, plain, sizeof plain, &n,
                                    NULL));

    mlsframe_decryptor_stats ds;
    CODE(MLSFRAME_NULL_ARGUMENT, "mlsframe_decryptor_get_stats(NULL)", mlsframe_decryptor_get_stats(NULL, &ds));
    CODE(MLSFRAME_NULL_ARGUMENT, "mlsframe_decryptor_get_stats(out NULL)", mlsframe_decryptor_get_stats(dec, NULL));
    CODE(MLSFRAME_OK, "decryptor_stats", mlsframe_decryptor_get_stats(dec, &ds));
    printf("     bob's decryptor: in %" PRIu64 ", no_key %" PRIu64 ", auth %" PRIu64
           ", replay %" PRIu64 ", malformed %" PRIu64 ", other %" PRIu64 "\n",
           ds.frames_in, ds.no_key, ds.auth_failed, ds.replay, ds.malformed, ds.other);
    /* Argument errors (NULL, overlap) return before counting; only failures
     * of a well-formed call are counted (buffer too small -> other). */
    check("decryptor stats: 4 opened, 2 no-key, 4 auth, 1 replay, 5 malformed, 2 other",
          ds.frames_in == 4 && ds.no_key == 2 && ds.auth_failed == 4 && ds.replay == 1 &&
              ds.malformed == 5 && ds.other == 2 && ds.epoch == 1);

    /* take_released */
    bool released = true;
    CODE(MLSFRAME_NULL_ARGUMENT, "take_released(NULL decryptor)",
         mlsframe_decryptor_take_released(NULL, plain, sizeof plain, &n, NULL, &released));
    CODE(MLSFRAME_NULL_ARGUMENT, "take_released(written NULL)",
         mlsframe_decryptor_take_released(dec, plain, sizeof plain, NULL, NULL, &released));
    CODE(MLSFRAME_NULL_ARGUMENT, "take_released(released NULL)",
         mlsframe_decryptor_take_released(dec, plain, sizeof plain, &n, NULL, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "take_released(out NULL, cap 8)",
         mlsframe_decryptor_take_released(dec, NULL, 8, &n, NULL, &released));
    CODE(MLSFRAME_OK, "take_released(nothing held)",
         mlsframe_decryptor_take_released(dec, NULL, 0, &n, NULL, &released));
    check("nothing released", !released && n == 0);
    uint64_t rwords[8];
    CODE(MLSFRAME_INVALID_ARGUMENT, "take_released(written inside out)",
         mlsframe_decryptor_take_released(dec, (uint8_t *)rwords, sizeof rwords,
                                          (size_t *)&rwords[1], NULL, &released));
    CODE(MLSFRAME_INVALID_ARGUMENT, "take_released(sender inside out)",
         mlsframe_decryptor_take_released(dec, (uint8_t *)rwords, sizeof rwords, &n,
                                          (mlsframe_sender *)&rwords[2], &released));
    CODE(MLSFRAME_INVALID_ARGUMENT, "take_released(released == written)",
         mlsframe_decryptor_take_released(dec, NULL, 0, &n, NULL, (bool *)&n));

    /* A frame from the next epoch is held, then released once bob has that epoch. */
    mlsframe_buffer commit = {NULL, 0};
    mlsframe_outcome o;
    must("self_update", mlsframe_session_self_update(g->alice, &commit));
    must("confirm_commit", mlsframe_session_confirm_commit(g->alice));
    size_t next_len = 0;
    uint8_t next[64];
    must("encrypt", mlsframe_encryptor_encrypt(enc, pt, pt_len, NULL, 0, next, sizeof next,
                                               &next_len));
    CODE(MLSFRAME_NO_KEY, "decrypt(frame of the next epoch, before its commit)",
         mlsframe_decryptor_decrypt(dec, next, next_len, NULL, 0, plain, sizeof plain, &n,
                                    NULL));
    must("process", mlsframe_session_process(g->bob, commit.data, commit.len, &o));
    check("process(commit) -> EPOCH_CHANGED, epoch 2",
          o.kind == MLSFRAME_OUTCOME_EPOCH_CHANGED && o.epoch == 2);
    CODE(MLSFRAME_MLS_WRONG_EPOCH, "process(the same commit again)",
         mlsframe_session_process(g->bob, commit.data, commit.len, &o));
    mlsframe_buffer_free(&commit);
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "take_released(cap 15 < 16)",
         mlsframe_decryptor_take_released(dec, plain, pt_len - 1, &n, NULL, &released));
    check("undersized take_released releases nothing", !released && n == 0);
    memset(&who, 0, sizeof who);
    CODE(MLSFRAME_OK, "take_released(held frame)",
         mlsframe_decryptor_take_released(dec, plain, pt_len, &n, &who, &released));
    check("held frame released with its sender",
          released && n == pt_len && memcmp(plain, pt, pt_len) == 0 && who.leaf == 0 &&
              who.epoch == 2);
    CODE(MLSFRAME_OK, "take_released(drained)",
         mlsframe_decryptor_take_released(dec, plain, sizeof plain, &n, NULL, &released));
    check("queue drained", !released);

    /* bob's own encryptor, now in epoch 2, still works; alice opens it */
    must("encrypt", mlsframe_encryptor_encrypt(bob_enc, pt, pt_len, NULL, 0, out, sizeof out,
                                               &sealed_len));
    CODE(MLSFRAME_OK, "alice opens bob's frame",
         mlsframe_decryptor_decrypt(alice_dec, out, sealed_len, NULL, 0, plain, sizeof plain,
                                    &n, &who));
    check("sender is bob (leaf 1), epoch 2", who.leaf == 1 && who.epoch == 2);

    mlsframe_encryptor_free(enc);
    mlsframe_encryptor_free(bob_enc);
    mlsframe_decryptor_free(dec);
    mlsframe_decryptor_free(alice_dec);
}

/* ---- the app-keyed SFrame context -------------------------------------------------- */

static void test_sframe_context(void) {
    mlsframe_sframe_context *tx = (mlsframe_sframe_context *)&tx, *rx = NULL;
    const uint8_t key[16] = "0123456789abcdef", other[16] = "fedcba9876543210";
    const uint8_t pt[] = "app keyed frame";
    const size_t pt_len = sizeof pt - 1;
    uint8_t out[128], buf[128], plain[128];
    size_t n = 0, sealed_len = 0;
    uint64_t kid = 0;

    CODE(MLSFRAME_NULL_ARGUMENT, "sframe_context_new(out NULL)",
         mlsframe_sframe_context_new(0, NULL));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe_context_new(replay window 65537)",
         mlsframe_sframe_context_new(65537, &tx));
    check("failed sframe_context_new sets *out NULL", tx == NULL);
    CODE(MLSFRAME_OK, "sframe_context_new(replay window 65536)",
         mlsframe_sframe_context_new(65536, &tx));
    mlsframe_sframe_context_free(tx);
    must("sframe_context_new", mlsframe_sframe_context_new(0, &tx));
    must("sframe_context_new", mlsframe_sframe_context_new(0, &rx));

    check("sframe_max_ciphertext_size(0) == 33", mlsframe_sframe_max_ciphertext_size(0) == 33);
    check("sframe_max_ciphertext_size(SIZE_MAX) == SIZE_MAX",
          mlsframe_sframe_max_ciphertext_size(SIZE_MAX) == SIZE_MAX);

    CODE(MLSFRAME_NULL_ARGUMENT, "set_send_key(NULL context)",
         mlsframe_sframe_context_set_send_key(NULL, 4, 1, key, 16, 0));
    CODE(MLSFRAME_NULL_ARGUMENT, "set_send_key(key NULL, len 16)",
         mlsframe_sframe_context_set_send_key(tx, 4, 1, NULL, 16, 0));
    CODE(MLSFRAME_INVALID_ARGUMENT, "set_send_key(key NULL, len 0 = empty)",
         mlsframe_sframe_context_set_send_key(tx, 4, 1, NULL, 0, 0));
    CODE(MLSFRAME_INVALID_ARGUMENT, "set_send_key(key len SIZE_MAX)",
         mlsframe_sframe_context_set_send_key(tx, 4, 1, key, HUGE, 0));
    CODE(MLSFRAME_UNKNOWN_SUITE, "set_send_key(suite 0)",
         mlsframe_sframe_context_set_send_key(tx, 0, 1, key, 16, 0));
    CODE(MLSFRAME_UNKNOWN_SUITE, "set_send_key(suite 6)",
         mlsframe_sframe_context_set_send_key(tx, 6, 1, key, 16, 0));
    CODE(MLSFRAME_UNKNOWN_SUITE, "set_send_key(suite 0xFFFF)",
         mlsframe_sframe_context_set_send_key(tx, 0xFFFF, 1, key, 16, 0));
    /* Base keys are 16 bytes or longer (RFC 9605's vectors use 16 for every suite). */
    CODE(MLSFRAME_INVALID_ARGUMENT, "set_send_key(15-byte key)",
         mlsframe_sframe_context_set_send_key(tx, 4, 1, key, 15, 0));
    CODE(MLSFRAME_INVALID_ARGUMENT, "set_send_key(1-byte key, suite 1)",
         mlsframe_sframe_context_set_send_key(tx, 1, 1, key, 1, 0));
    CODE(MLSFRAME_UNKNOWN_SUITE, "set_send_key(suite 6, 15-byte key: the suite first)",
         mlsframe_sframe_context_set_send_key(tx, 6, 1, key, 15, 0));
    CODE(MLSFRAME_INVALID_ARGUMENT, "add_receive_key(15-byte key)",
         mlsframe_sframe_context_add_receive_key(rx, 4, 1, key, 15));
    uint64_t next = 77;
    CODE(MLSFRAME_NULL_ARGUMENT, "send_counter(NULL context)",
         mlsframe_sframe_context_send_counter(NULL, &next));
    check("send_counter(NULL context) reset *next_counter_out to 0", next == 0);
    CODE(MLSFRAME_NULL_ARGUMENT, "send_counter(out NULL)",
         mlsframe_sframe_context_send_counter(tx, NULL));
    next = 77;
    CODE(MLSFRAME_NO_SEND_KEY, "send_counter(no send key: the refused keys set none)",
         mlsframe_sframe_context_send_counter(tx, &next));
    check("send_counter(no send key) reset *next_counter_out to 0", next == 0);
    CODE(MLSFRAME_NULL_ARGUMENT, "add_receive_key(NULL context)",
         mlsframe_sframe_context_add_receive_key(NULL, 4, 1, key, 16));
    CODE(MLSFRAME_UNKNOWN_SUITE, "add_receive_key(suite 9)",
         mlsframe_sframe_context_add_receive_key(rx, 9, 1, key, 16));
    CODE(MLSFRAME_INVALID_ARGUMENT, "add_receive_key(empty key)",
         mlsframe_sframe_context_add_receive_key(rx, 4, 1, key, 0));
    CODE(MLSFRAME_NULL_ARGUMENT, "remove_receive_key(NULL context)",
         mlsframe_sframe_context_remove_receive_key(NULL, 1));
    CODE(MLSFRAME_NO_KEY, "remove_receive_key(never installed)",
         mlsframe_sframe_context_remove_receive_key(rx, 1));

    n = 77;
    CODE(MLSFRAME_NO_SEND_KEY, "sframe encrypt(no send key)",
         mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, out, sizeof out, &n));
    check("sframe encrypt(no send key) reset *written to 0", n == 0);
    CODE(MLSFRAME_OK, "set_send_key(suite 4, KID 1)",
         mlsframe_sframe_context_set_send_key(tx, 4, 1, key, sizeof key, 0));
    CODE(MLSFRAME_OK, "send_counter(fresh key)", mlsframe_sframe_context_send_counter(tx, &next));
    check("a fresh key's first counter is 0", next == 0);
    CODE(MLSFRAME_OK, "add_receive_key(suite 4, KID 1)",
         mlsframe_sframe_context_add_receive_key(rx, 4, 1, key, sizeof key));
    CODE(MLSFRAME_DUPLICATE_KEY, "add_receive_key(KID 1 again)",
         mlsframe_sframe_context_add_receive_key(rx, 4, 1, other, sizeof other));
    CODE(MLSFRAME_DUPLICATE_KEY, "add_receive_key(KID 1 again, other suite)",
         mlsframe_sframe_context_add_receive_key(rx, 1, 1, other, sizeof other));

    CODE(MLSFRAME_NULL_ARGUMENT, "sframe encrypt(NULL context)",
         mlsframe_sframe_context_encrypt(NULL, pt, pt_len, NULL, 0, out, sizeof out, &n));
    CODE(MLSFRAME_NULL_ARGUMENT, "sframe encrypt(written NULL)",
         mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, out, sizeof out, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "sframe encrypt(out NULL, cap 9)",
         mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, NULL, 9, &n));
    CODE(MLSFRAME_NULL_ARGUMENT, "sframe encrypt(frame NULL, len 3)",
         mlsframe_sframe_context_encrypt(tx, NULL, 3, NULL, 0, out, sizeof out, &n));
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "sframe encrypt(cap 16)",
         mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, out, 16, &n));
    memcpy(buf, pt, pt_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe encrypt(in place, out_cap < frame_len)",
         mlsframe_sframe_context_encrypt(tx, buf, pt_len, NULL, 0, buf, pt_len - 1, &n));
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "sframe encrypt(in place, no room for header and tag)",
         mlsframe_sframe_context_encrypt(tx, buf, pt_len, NULL, 0, buf, pt_len, &n));
    CODE(MLSFRAME_OK, "sframe encrypt(in place: out == frame)",
         mlsframe_sframe_context_encrypt(tx, buf, pt_len, NULL, 0, buf, sizeof buf, &n));
    check("in-place seal added header and tag", n > pt_len && n <= sizeof buf);
    memcpy(buf, pt, pt_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe encrypt(out = frame + 3, overlapping)",
         mlsframe_sframe_context_encrypt(tx, buf, pt_len, NULL, 0, buf + 3, 64, &n));
    CODE(MLSFRAME_OK, "sframe encrypt",
         mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, out,
                                         mlsframe_sframe_max_ciphertext_size(pt_len),
                                         &sealed_len));

    CODE(MLSFRAME_NULL_ARGUMENT, "sframe decrypt(NULL context)",
         mlsframe_sframe_context_decrypt(NULL, out, sealed_len, NULL, 0, plain, sizeof plain,
                                         &n, &kid));
    CODE(MLSFRAME_NULL_ARGUMENT, "sframe decrypt(written NULL)",
         mlsframe_sframe_context_decrypt(rx, out, sealed_len, NULL, 0, plain, sizeof plain,
                                         NULL, &kid));
    CODE(MLSFRAME_NULL_ARGUMENT, "sframe decrypt(frame NULL, len 5)",
         mlsframe_sframe_context_decrypt(rx, NULL, 5, NULL, 0, plain, sizeof plain, &n, &kid));
    CODE(MLSFRAME_MALFORMED, "sframe decrypt(empty frame)",
         mlsframe_sframe_context_decrypt(rx, NULL, 0, NULL, 0, plain, sizeof plain, &n, &kid));
    CODE(MLSFRAME_MALFORMED, "sframe decrypt(0xFF)",
         mlsframe_sframe_context_decrypt(rx, (const uint8_t *)"\xff", 1, NULL, 0, plain,
                                         sizeof plain, &n, &kid));
    {
        uint8_t non_minimal[40];
        memset(non_minimal, 0, sizeof non_minimal);
        non_minimal[0] = 0x80; /* X=1: a 1-byte KID follows, though KID 1 fits the config */
        non_minimal[1] = 0x01;
        CODE(MLSFRAME_MALFORMED, "sframe decrypt(KID 1 in an extended byte: non-minimal)",
             mlsframe_sframe_context_decrypt(rx, non_minimal, sizeof non_minimal, NULL, 0, plain,
                                             sizeof plain, &n, &kid));
    }
    CODE(MLSFRAME_NO_KEY, "sframe decrypt(garbage: unknown KID)",
         mlsframe_sframe_context_decrypt(rx, GARBAGE, GARBAGE_LEN, NULL, 0, plain,
                                         sizeof plain, &n, &kid));
    CODE(MLSFRAME_NO_KEY, "sframe decrypt(at the sender: no receive keys)",
         mlsframe_sframe_context_decrypt(tx, out, sealed_len, NULL, 0, plain, sizeof plain,
                                         &n, &kid));
    CODE(MLSFRAME_BUFFER_TOO_SMALL, "sframe decrypt(cap 14 < 15)",
         mlsframe_sframe_context_decrypt(rx, out, sealed_len, NULL, 0, plain, pt_len - 1, &n,
                                         &kid));
    CODE(MLSFRAME_AUTH_FAILED, "sframe decrypt(additional data added)",
         mlsframe_sframe_context_decrypt(rx, out, sealed_len, (const uint8_t *)"x", 1, plain,
                                         sizeof plain, &n, &kid));
    memcpy(buf, out, sealed_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe decrypt(out = frame + 2, overlapping)",
         mlsframe_sframe_context_decrypt(rx, buf, sealed_len, NULL, 0, buf + 2, 64, &n,
                                         &kid));
    kid = 0;
    CODE(MLSFRAME_OK, "sframe decrypt(round trip)",
         mlsframe_sframe_context_decrypt(rx, out, sealed_len, NULL, 0, plain, sizeof plain,
                                         &n, &kid));
    check("round trip: exact plaintext, KID 1",
          n == pt_len && memcmp(plain, pt, pt_len) == 0 && kid == 1);
    CODE(MLSFRAME_REPLAY, "sframe decrypt(replayed)",
         mlsframe_sframe_context_decrypt(rx, out, sealed_len, NULL, 0, plain, sizeof plain,
                                         &n, NULL));

    must("sframe encrypt", mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, buf,
                                                           sizeof buf, &sealed_len));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe decrypt(in place, out_cap < frame_len)",
         mlsframe_sframe_context_decrypt(rx, buf, sealed_len, NULL, 0, buf, sealed_len - 1,
                                         &n, NULL));
    CODE(MLSFRAME_OK, "sframe decrypt(in place, kid_out NULL)",
         mlsframe_sframe_context_decrypt(rx, buf, sealed_len, NULL, 0, buf, sealed_len, &n,
                                         NULL));
    check("in place: plaintext at the start", n == pt_len && memcmp(buf, pt, pt_len) == 0);

    /* Additional data overlapping out (issue 8, 2h): refused in place and out of place,
     * and so are `written` and `kid_out` inside out; data right next to out is fine. */
    uint64_t sw[16], kw[8];
    uint8_t *s8 = (uint8_t *)sw;
    memset(sw, 0xA5, sizeof sw);
    memcpy(s8, pt, pt_len);
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe encrypt(in place, additional data inside out)",
         mlsframe_sframe_context_encrypt(tx, s8, pt_len, s8 + 96, 8, s8, sizeof sw, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe encrypt(in place, additional data = the frame)",
         mlsframe_sframe_context_encrypt(tx, s8, pt_len, s8, 4, s8, 96, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe encrypt(out of place, additional data inside out)",
         mlsframe_sframe_context_encrypt(tx, pt, pt_len, s8 + 8, 8, s8, sizeof sw, &n));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe encrypt(written inside out)",
         mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, s8, 64, (size_t *)&sw[2]));
    check("refused seals left the frame untouched", memcmp(s8, pt, pt_len) == 0);
    CODE(MLSFRAME_OK, "sframe encrypt(in place, additional data right after out)",
         mlsframe_sframe_context_encrypt(tx, s8, pt_len, s8 + 96, 8, s8, 96, &sealed_len));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe decrypt(in place, additional data inside out)",
         mlsframe_sframe_context_decrypt(rx, s8, sealed_len, s8 + 96, 8, s8, sizeof sw, &n,
                                         &kid));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe decrypt(in place, additional data = the header)",
         mlsframe_sframe_context_decrypt(rx, s8, sealed_len, s8, 2, s8, sealed_len, &n, &kid));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe decrypt(out of place, additional data inside out)",
         mlsframe_sframe_context_decrypt(rx, s8, sealed_len, plain + 1, 8, plain,
                                         sizeof plain, &n, &kid));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe decrypt(kid_out inside out)",
         mlsframe_sframe_context_decrypt(rx, s8, sealed_len, s8 + 96, 8, (uint8_t *)kw,
                                         sizeof kw, &n, &kw[3]));
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe decrypt(written inside out)",
         mlsframe_sframe_context_decrypt(rx, s8, sealed_len, s8 + 96, 8, (uint8_t *)kw,
                                         sizeof kw, (size_t *)&kw[0], &kid));
    /* The same additional data, moved to start right where the frame ends. */
    memmove(s8 + sealed_len, s8 + 96, 8);
    kid = 0;
    CODE(MLSFRAME_OK, "sframe decrypt(in place, additional data right after the frame)",
         mlsframe_sframe_context_decrypt(rx, s8, sealed_len, s8 + sealed_len, 8, s8,
                                         sealed_len, &n, &kid));
    check("in place next to its data: plaintext at the start, KID 1",
          n == pt_len && memcmp(s8, pt, pt_len) == 0 && kid == 1);

    CODE(MLSFRAME_OK, "remove_receive_key(KID 1)",
         mlsframe_sframe_context_remove_receive_key(rx, 1));
    must("sframe encrypt", mlsframe_sframe_context_encrypt(tx, pt, pt_len, NULL, 0, out,
                                                           sizeof out, &sealed_len));
    CODE(MLSFRAME_NO_KEY, "sframe decrypt(after its key was removed)",
         mlsframe_sframe_context_decrypt(rx, out, sealed_len, NULL, 0, plain, sizeof plain,
                                         &n, NULL));
    CODE(MLSFRAME_OK, "add_receive_key(KID 1, wrong key)",
         mlsframe_sframe_context_add_receive_key(rx, 4, 1, other, sizeof other));
    CODE(MLSFRAME_AUTH_FAILED, "sframe decrypt(wrong key)",
         mlsframe_sframe_context_decrypt(rx, out, sealed_len, NULL, 0, plain, sizeof plain,
                                         &n, NULL));

    mlsframe_sframe_context_free(tx);
    mlsframe_sframe_context_free(rx);
}

/* ---- leave and removal ------------------------------------------------------------- */

static void test_leave_and_removed(group *g) {
    mlsframe_buffer proposal = {NULL, 0}, commit = {NULL, 0}, welcome = {NULL, 0}, b = {NULL, 0};
    mlsframe_outcome o;
    mlsframe_encryptor *enc = NULL;
    mlsframe_decryptor *dec = NULL;
    must("encryptor_new", mlsframe_session_encryptor_new(g->bob, 1, &enc));
    must("decryptor_new", mlsframe_session_decryptor_new(g->bob, &dec));

    CODE(MLSFRAME_OK, "leave(bob)", mlsframe_session_leave(g->bob, &proposal));
    CODE(MLSFRAME_OK, "process(bob's leave proposal at alice)",
         mlsframe_session_process(g->alice, proposal.data, proposal.len, &o));
    check("-> PROPOSALS_PENDING", o.kind == MLSFRAME_OUTCOME_PROPOSALS_PENDING);
    CODE(MLSFRAME_MLS_REJECTED, "process(the encrypted leave proposal again: its key is used)",
         mlsframe_session_process(g->alice, proposal.data, proposal.len, &o));
    CODE(MLSFRAME_OK, "commit_pending_proposals(welcome_out NULL)",
         mlsframe_session_commit_pending_proposals(g->alice, &commit, NULL));
    must("confirm_commit", mlsframe_session_confirm_commit(g->alice));
    CODE(MLSFRAME_OK, "process(commit removing bob) at bob",
         mlsframe_session_process(g->bob, commit.data, commit.len, &o));
    check("-> REMOVED", o.kind == MLSFRAME_OUTCOME_REMOVED);
    CODE(MLSFRAME_MLS_NOT_MEMBER, "process(after removal)",
         mlsframe_session_process(g->bob, commit.data, commit.len, &o));
    CODE(MLSFRAME_MLS_NOT_MEMBER, "security_code(after removal)",
         mlsframe_session_security_code(g->bob, &b));
    CODE(MLSFRAME_MLS_NOT_MEMBER, "self_update(after removal)",
         mlsframe_session_self_update(g->bob, &b));
    CODE(MLSFRAME_MLS_NOT_MEMBER, "leave(after removal)", mlsframe_session_leave(g->bob, &b));
    CODE(MLSFRAME_MLS_NOT_MEMBER, "epoch(after removal)", mlsframe_session_epoch(g->bob, NULL, NULL));
    CODE(MLSFRAME_MLS_NOT_MEMBER, "export_secret(after removal)",
         mlsframe_session_export_secret(g->bob, (const uint8_t *)"l", 1, NULL, 0, 16, &b));
    CODE(MLSFRAME_MLS_NOT_MEMBER, "epoch_authenticator(after removal)",
         mlsframe_session_epoch_authenticator(g->bob, &b));
    {
        /* The last group stays readable. */
        uint16_t suite = 0, type = 0;
        mlsframe_buffer tree = {NULL, 0}, content = {NULL, 0};
        CODE(MLSFRAME_OK, "ciphersuite(after removal)", mlsframe_session_ciphersuite(g->bob, &suite));
        CODE(MLSFRAME_OK, "params(after removal)", mlsframe_session_params(g->bob, NULL, NULL));
        CODE(MLSFRAME_OK, "ratchet_tree(after removal)", mlsframe_session_ratchet_tree(g->bob, &tree));
        CODE(MLSFRAME_OK, "member_credential(after removal)",
             mlsframe_session_member_credential(g->bob, 0, &type, &content));
        check("-> suite 1, a tree, alice's basic credential",
              suite == 1 && tree.len > 0 && type == 1 && content.len > 0);
        mlsframe_buffer_free(&tree);
        mlsframe_buffer_free(&content);
    }
    uint8_t out[64];
    size_t n = 0;
    CODE(MLSFRAME_NOT_MEMBER, "encrypt(after removal)",
         mlsframe_encryptor_encrypt(enc, (const uint8_t *)"x", 1, NULL, 0, out, sizeof out,
                                    &n));
    check("no buffer filled after removal", b.data == NULL && welcome.data == NULL);

    /* freeing the session first leaves the handles usable */
    mlsframe_session_free(g->bob);
    g->bob = NULL;
    CODE(MLSFRAME_NOT_MEMBER, "encrypt(after session_free)",
         mlsframe_encryptor_encrypt(enc, (const uint8_t *)"x", 1, NULL, 0, out, sizeof out,
                                    &n));
    CODE(MLSFRAME_NO_KEY, "decrypt(after session_free, frame of unknown epoch)",
         mlsframe_decryptor_decrypt(dec, (const uint8_t[40]){0}, 40, NULL, 0, out,
                                    sizeof out, &n, NULL));
    mlsframe_encryptor_free(enc);
    mlsframe_decryptor_free(dec);
    mlsframe_buffer_free(&proposal);
    mlsframe_buffer_free(&commit);
}

/* A replayed plaintext proposal is refused, not stored again. */
static void test_replayed_proposal(void) {
    mlsframe_session *alice = new_session("alice", "plain");
    mlsframe_session *bob = new_session("bob", "plain");
    mlsframe_buffer kp = {NULL, 0}, commit = {NULL, 0}, welcome = {NULL, 0}, leave = {NULL, 0};
    mlsframe_outcome o;
    must("key_package", mlsframe_session_key_package(bob, &kp));
    must("create_group(plaintext handshakes)", mlsframe_session_create_group(alice, 4, 4, true));
    const uint8_t *kps[1] = {kp.data};
    size_t lens[1] = {kp.len};
    must("add_members", mlsframe_session_add_members(alice, kps, lens, 1, &commit, &welcome));
    must("confirm_commit", mlsframe_session_confirm_commit(alice));
    must("join", mlsframe_session_join(bob, welcome.data, welcome.len, NULL));
    must("leave", mlsframe_session_leave(bob, &leave));
    CODE(MLSFRAME_OK, "process(plaintext leave proposal)",
         mlsframe_session_process(alice, leave.data, leave.len, &o));
    check("-> PROPOSALS_PENDING", o.kind == MLSFRAME_OUTCOME_PROPOSALS_PENDING);
    bool all = true;
    for (int i = 0; i < 20; i++) {
        all = all && mlsframe_session_process(alice, leave.data, leave.len, &o) ==
                         MLSFRAME_MLS_DUPLICATE_PROPOSAL;
    }
    check("process(the same proposal 20 more times) -> DUPLICATE_PROPOSAL each", all);
    CODE(MLSFRAME_OK, "process(own proposal echoed back)",
         mlsframe_session_process(bob, leave.data, leave.len, &o));
    check("-> IGNORED", o.kind == MLSFRAME_OUTCOME_IGNORED);
    mlsframe_buffer_free(&commit);
    CODE(MLSFRAME_OK, "commit_pending_proposals(the one stored leave)",
         mlsframe_session_commit_pending_proposals(alice, &commit, NULL));
    CODE(MLSFRAME_OK, "process(commit) at bob", mlsframe_session_process(bob, commit.data,
                                                                         commit.len, &o));
    check("-> REMOVED", o.kind == MLSFRAME_OUTCOME_REMOVED);
    mlsframe_buffer_free(&kp);
    mlsframe_buffer_free(&commit);
    mlsframe_buffer_free(&welcome);
    mlsframe_buffer_free(&leave);
    mlsframe_session_free(alice);
    mlsframe_session_free(bob);
}

/* ---- identities: session_new_with, signature algorithms ---------------------------- */

/* The P-256 group order n, big-endian: the first scalar that is not a private key. */
static const uint8_t P256_ORDER[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

/* Identity options for (user, device) with `secret` (32 bytes, or NULL) and `algorithm`. */
static mlsframe_identity_options identity(const char *user, const char *device,
                                          const uint8_t *secret, uint16_t algorithm) {
    mlsframe_identity_options id;
    memset(&id, 0, sizeof id);
    id.user_id = (const uint8_t *)user;
    id.user_id_len = strlen(user);
    id.device_id = (const uint8_t *)device;
    id.device_id_len = strlen(device);
    id.secret = secret;
    id.secret_len = secret ? 32 : 0;
    id.signature_algorithm = algorithm;
    return id;
}

static mlsframe_session *new_session_with(const char *user, const char *device,
                                          const uint8_t *secret, uint16_t algorithm) {
    mlsframe_identity_options id = identity(user, device, secret, algorithm);
    mlsframe_session *s = NULL;
    must("session_new_with", mlsframe_session_new_with(&id, NULL, &s));
    return s;
}

static void test_session_new_with(void) {
    const uint16_t P256 = MLSFRAME_SIGNATURE_ECDSA_P256, ED = MLSFRAME_SIGNATURE_ED25519;
    uint8_t secret[32];
    memset(secret, 0x42, sizeof secret);
    mlsframe_identity_options id = identity("user", "dev", secret, P256);
    mlsframe_session *s = (mlsframe_session *)&s; /* must be overwritten with NULL */
    CODE(MLSFRAME_NULL_ARGUMENT, "session_new_with(out NULL)",
         mlsframe_session_new_with(&id, NULL, NULL));
    CODE(MLSFRAME_NULL_ARGUMENT, "session_new_with(identity NULL)",
         mlsframe_session_new_with(NULL, NULL, &s));
    check("session_new_with failure sets *out to NULL", s == NULL);
#define ID_CASE(want, label, field, value)                                                  \
    do {                                                                                    \
        id = identity("user", "dev", secret, P256);                                         \
        id.field = (value);                                                                 \
        s = (mlsframe_session *)&s;                                                         \
        CODE(want, label, mlsframe_session_new_with(&id, NULL, &s));                        \
        check("  -> *out NULL", s == NULL);                                                 \
    } while (0)
    ID_CASE(MLSFRAME_NULL_ARGUMENT, "session_new_with(user_id NULL, len 4)", user_id, NULL);
    ID_CASE(MLSFRAME_NULL_ARGUMENT, "session_new_with(device_id NULL, len 3)", device_id, NULL);
    ID_CASE(MLSFRAME_NULL_ARGUMENT, "session_new_with(secret NULL, len 32)", secret, NULL);
    ID_CASE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(user_id_len SIZE_MAX)", user_id_len, HUGE);
    ID_CASE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(device_id_len SIZE_MAX)", device_id_len,
            HUGE);
    ID_CASE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(secret_len SIZE_MAX)", secret_len, HUGE);
    ID_CASE(MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM, "session_new_with(algorithm 1)",
            signature_algorithm, 1);
    ID_CASE(MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM,
            "session_new_with(algorithm 0x0503: ecdsa_secp384r1)", signature_algorithm, 0x0503);
    ID_CASE(MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM, "session_new_with(algorithm 0xFFFF)",
            signature_algorithm, 0xFFFF);
    ID_CASE(MLSFRAME_MLS_INVALID_IDENTITY, "session_new_with(user id empty)", user_id_len, 0);
    ID_CASE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(P-256 secret 31 bytes)", secret_len, 31);
    ID_CASE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(P-256 secret 33 bytes)", secret_len, 33);
    {
        uint8_t long_id[1025];
        memset(long_id, 'x', sizeof long_id);
        id = identity("user", "dev", secret, P256);
        id.user_id = long_id;
        id.user_id_len = 1025;
        CODE(MLSFRAME_MLS_INVALID_IDENTITY, "session_new_with(user id 1025 bytes)",
             mlsframe_session_new_with(&id, NULL, &s));
        id.signature_algorithm = 7;
        CODE(MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM,
             "session_new_with(user id 1025 bytes and algorithm 7: algorithm first)",
             mlsframe_session_new_with(&id, NULL, &s));
        id = identity("user", "dev", secret, P256);
        id.device_id = long_id;
        id.device_id_len = 1025;
        CODE(MLSFRAME_MLS_INVALID_IDENTITY, "session_new_with(device id 1025 bytes)",
             mlsframe_session_new_with(&id, NULL, &s));
        id.device_id_len = 1024;
        id.secret_len = 31;
        CODE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(secret 31 bytes, 1024-byte device id)",
             mlsframe_session_new_with(&id, NULL, &s));
    }
#undef ID_CASE
    id = identity("user", "dev", secret, ED);
    id.secret_len = 33;
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(Ed25519 secret 33 bytes)",
         mlsframe_session_new_with(&id, NULL, &s));
    check("-> *out NULL", s == NULL);
    /* P-256 scalars that are not keys: zero, the order, above it. */
    {
        uint8_t bad[32];
        memset(bad, 0, sizeof bad);
        id = identity("user", "dev", bad, P256);
        CODE(MLSFRAME_MLS_INVALID_SIGNING_KEY, "session_new_with(P-256 secret 0)",
             mlsframe_session_new_with(&id, NULL, &s));
        memcpy(bad, P256_ORDER, sizeof bad);
        CODE(MLSFRAME_MLS_INVALID_SIGNING_KEY, "session_new_with(P-256 secret = the order n)",
             mlsframe_session_new_with(&id, NULL, &s));
        memset(bad, 0xff, sizeof bad);
        CODE(MLSFRAME_MLS_INVALID_SIGNING_KEY, "session_new_with(P-256 secret 0xff..ff)",
             mlsframe_session_new_with(&id, NULL, &s));
        check("refused secrets leave *out NULL", s == NULL);
        /* The same bytes are an Ed25519 seed (any 32 bytes are). */
        id.signature_algorithm = ED;
        CODE(MLSFRAME_OK, "session_new_with(Ed25519 seed 0xff..ff)",
             mlsframe_session_new_with(&id, NULL, &s));
        mlsframe_session_free(s);
        s = NULL;
        memcpy(bad, P256_ORDER, sizeof bad);
        bad[31] -= 1; /* n - 1: the largest key */
        id = identity("user", "dev", bad, P256);
        CODE(MLSFRAME_OK, "session_new_with(P-256 secret n - 1)",
             mlsframe_session_new_with(&id, NULL, &s));
        mlsframe_session_free(s);
        s = NULL;
    }

    /* Overlap: *out may not lie in *identity, *config or the bytes they name (the library
     * writes *out = NULL first, then refuses). */
    id = identity("user", "dev", secret, P256);
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(out inside *identity)",
         mlsframe_session_new_with(&id, NULL, (mlsframe_session **)(void *)&id.device_id));
    id = identity("user", "dev", secret, P256);
    mlsframe_session_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CODE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(out inside *config)",
         mlsframe_session_new_with(&id, &cfg, (mlsframe_session **)&cfg.admission_user_data));
    {
        uint64_t words[4];
        memcpy(words, "an overlapping user id!", 24);
        id.user_id = (const uint8_t *)words;
        id.user_id_len = 24;
        CODE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(out inside the user id)",
             mlsframe_session_new_with(&id, NULL, (mlsframe_session **)&words[1]));
        id = identity("user", "dev", secret, P256);
        memset(words, 0x42, sizeof words);
        id.secret = (const uint8_t *)words;
        CODE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(out inside the secret)",
             mlsframe_session_new_with(&id, NULL, (mlsframe_session **)&words[3]));
        id = identity("user", "dev", secret, P256);
        memcpy(words, "dev-id-that-overlaps-out", 24);
        id.device_id = (const uint8_t *)words;
        id.device_id_len = 24;
        CODE(MLSFRAME_INVALID_ARGUMENT, "session_new_with(out inside the device id)",
             mlsframe_session_new_with(&id, NULL, (mlsframe_session **)&words[0]));
    }
    id = identity("user", "dev", secret, P256);
    cfg.replay_window = 65537;
    CODE(MLSFRAME_INVALID_CONFIG, "session_new_with(replay window 65537)",
         mlsframe_session_new_with(&id, &cfg, &s));
    check("rejected config leaves *out NULL", s == NULL);

    /* What each algorithm makes. */
    uint16_t alg = 0, suite = 0;
    mlsframe_buffer b = {NULL, 0};
    id = identity("user", "", NULL, 0);
    CODE(MLSFRAME_OK, "session_new_with(zeroed algorithm, no secret, empty device id)",
         mlsframe_session_new_with(&id, NULL, &s));
    CODE(MLSFRAME_OK, "signature_algorithm", mlsframe_session_signature_algorithm(s, &alg));
    check("-> Ed25519 (0x0807)", alg == MLSFRAME_SIGNATURE_ED25519 && alg == 0x0807);
    mlsframe_session_free(s);
    s = new_session("plain", "dev");
    alg = 0;
    CODE(MLSFRAME_OK, "signature_algorithm(session_new)",
         mlsframe_session_signature_algorithm(s, &alg));
    check("-> Ed25519", alg == MLSFRAME_SIGNATURE_ED25519);
    mlsframe_session_free(s);
    s = NULL;
    id = identity("user", "dev", NULL, P256);
    CODE(MLSFRAME_OK, "session_new_with(P-256, fresh key)", mlsframe_session_new_with(&id, NULL, &s));
    CODE(MLSFRAME_OK, "signature_algorithm(P-256)", mlsframe_session_signature_algorithm(s, &alg));
    check("-> ECDSA P-256 (0x0403)", alg == MLSFRAME_SIGNATURE_ECDSA_P256 && alg == 0x0403);
    CODE(MLSFRAME_MLS_CIPHERSUITE_MISMATCH, "key_package_for(P-256 identity, suite 1)",
         mlsframe_session_key_package_for(s, 1, &b));
    CODE(MLSFRAME_MLS_CIPHERSUITE_MISMATCH, "key_package_for(P-256 identity, suite 3)",
         mlsframe_session_key_package_for(s, 3, &b));
    check("failed key_package_for filled no buffer", b.data == NULL && b.len == 0);
    CODE(MLSFRAME_OK, "key_package_for(P-256 identity, suite 2)",
         mlsframe_session_key_package_for(s, 2, &b));
    mlsframe_buffer_free(&b);
    mlsframe_group_options opts;
    memset(&opts, 0, sizeof opts);
    opts.mls_ciphersuite = 1;
    CODE(MLSFRAME_MLS_CIPHERSUITE_MISMATCH, "create_group_with(P-256 identity, MLS suite 1)",
         mlsframe_session_create_group_with(s, &opts));
    opts.mls_ciphersuite = 3;
    CODE(MLSFRAME_MLS_CIPHERSUITE_MISMATCH, "create_group_with(P-256 identity, MLS suite 3)",
         mlsframe_session_create_group_with(s, &opts));
    CODE(MLSFRAME_OK, "create_group(P-256 identity)", mlsframe_session_create_group(s, 4, 4, false));
    CODE(MLSFRAME_OK, "ciphersuite", mlsframe_session_ciphersuite(s, &suite));
    check("-> MLS suite 2 (the P-256 identity's default)", suite == 2);
    mlsframe_session_free(s);
}

/* Finds `needle` (n bytes) in `hay`; NULL when absent. */
static uint8_t *find(uint8_t *hay, size_t len, const uint8_t *needle, size_t n) {
    for (size_t i = 0; i + n <= len; i++) {
        if (memcmp(hay + i, needle, n) == 0) return hay + i;
    }
    return NULL;
}

/* A P-256 session's snapshot restores with its algorithm; a snapshot whose secret or
 * algorithm was changed does not. (Version 3: the secret is a u32 length and 32 bytes,
 * right after the u16 algorithm.) */
static void test_p256_snapshot(void) {
    uint8_t secret[32];
    memset(secret, 0x5a, sizeof secret);
    mlsframe_session *s = new_session_with("p256", "dev", secret, MLSFRAME_SIGNATURE_ECDSA_P256);
    must("create_group", mlsframe_session_create_group(s, 4, 4, false));
    mlsframe_buffer snap = {NULL, 0};
    must("snapshot", mlsframe_session_snapshot(s, &snap));
    mlsframe_session *r = NULL;
    uint16_t alg = 0, suite = 0;
    CODE(MLSFRAME_OK, "restore(P-256 snapshot)", mlsframe_session_restore(snap.data, snap.len,
                                                                        NULL, &r));
    CODE(MLSFRAME_OK, "signature_algorithm(restored)", mlsframe_session_signature_algorithm(r, &alg));
    CODE(MLSFRAME_OK, "ciphersuite(restored)", mlsframe_session_ciphersuite(r, &suite));
    check("-> P-256, MLS suite 2", alg == MLSFRAME_SIGNATURE_ECDSA_P256 && suite == 2);
    mlsframe_session_free(r);
    r = NULL;
    uint8_t *at = find(snap.data, snap.len, secret, sizeof secret);
    check("the snapshot holds the secret after its algorithm and length",
          at != NULL && at - snap.data >= 6 && at[-6] == 0x04 && at[-5] == 0x03 &&
              at[-1] == 32 && at[-2] == 0);
    if (at != NULL && at - snap.data >= 6) {
        memset(at, 0xff, 32);
        CODE(MLSFRAME_MLS_INVALID_SIGNING_KEY, "restore(P-256 secret 0xff..ff)",
             mlsframe_session_restore(snap.data, snap.len, NULL, &r));
        check("-> *out NULL", r == NULL);
        memcpy(at, secret, 32);
        at[-6] = 0x08; /* Ed25519 (0x0807): another key than the leaf's */
        at[-5] = 0x07;
        CODE(MLSFRAME_MLS_INVALID_IDENTITY, "restore(algorithm changed to Ed25519)",
             mlsframe_session_restore(snap.data, snap.len, NULL, &r));
        at[-6] = 0x00;
        at[-5] = 0x01;
        CODE(MLSFRAME_MLS_MALFORMED, "restore(unknown algorithm 0x0001)",
             mlsframe_session_restore(snap.data, snap.len, NULL, &r));
    }
    mlsframe_buffer_free(&snap);
    mlsframe_session_free(s);
}

/* ---- group info and external commits ----------------------------------------------- */

static bool refuse_all(void *user_data, const mlsframe_candidate *c) {
    (void)user_data;
    (void)c;
    return false;
}

static void test_external_commit(void) {
    uint8_t bob_seed[32];
    memset(bob_seed, 0xb0, sizeof bob_seed);
    mlsframe_session *alice = new_session("alice", "laptop");
    mlsframe_session *bob = NULL;
    must("session_new(bob, seed)",
         mlsframe_session_new((const uint8_t *)"bob", 3, (const uint8_t *)"phone", 5, bob_seed,
                              32, NULL, &bob));
    mlsframe_buffer kp = {NULL, 0}, commit = {NULL, 0}, welcome = {NULL, 0};
    must("key_package", mlsframe_session_key_package(bob, &kp));
    must("create_group", mlsframe_session_create_group(alice, 4, 4, false));
    const uint8_t *kps[1] = {kp.data};
    size_t lens[1] = {kp.len};
    must("add_members", mlsframe_session_add_members(alice, kps, lens, 1, &commit, &welcome));
    must("confirm_commit", mlsframe_session_confirm_commit(alice));
    must("join", mlsframe_session_join(bob, welcome.data, welcome.len, NULL));
    mlsframe_buffer_free(&commit);

    mlsframe_buffer info = {NULL, 0}, b = {NULL, 0}, tree = {NULL, 0};
    CODE(MLSFRAME_OK, "group_info(alice)", mlsframe_session_group_info(alice, &info));
    check("-> a group info", info.data != NULL && info.len > 0);
    CODE(MLSFRAME_OK, "group_info(bob)", mlsframe_session_group_info(bob, &b));
    mlsframe_buffer_free(&b);
    must("ratchet_tree", mlsframe_session_ratchet_tree(alice, &tree));
    {
        /* An ordinary pending commit does not stop a group info (of the current epoch). */
        mlsframe_buffer up = {NULL, 0};
        must("self_update", mlsframe_session_self_update(alice, &up));
        CODE(MLSFRAME_OK, "group_info(alice, a self-update pending)",
             mlsframe_session_group_info(alice, &b));
        must("discard_commit", mlsframe_session_discard_commit(alice));
        mlsframe_buffer_free(&up);
        mlsframe_buffer_free(&b);
    }

    mlsframe_session *carol = new_session("carol", "tablet");
    mlsframe_group_params params = {0, 0, 0};
    uint64_t epoch = 77;
#define JOIN(want, label, s, gi, gi_len, t, t_len, p)                                       \
    CODE(want, label,                                                                       \
         mlsframe_session_join_by_external_commit(s, gi, gi_len, t, t_len, p, &b, &epoch))
    JOIN(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(group_info len SIZE_MAX)", carol,
         info.data, HUGE, NULL, 0, NULL);
    JOIN(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(ratchet_tree len SIZE_MAX)", carol,
         info.data, info.len, tree.data, HUGE, NULL);
    {
        uint64_t words[8];
        memcpy(words, GARBAGE, GARBAGE_LEN);
        CODE(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(commit_out inside the group info)",
             mlsframe_session_join_by_external_commit(carol, (const uint8_t *)words,
                                                      GARBAGE_LEN, NULL, 0, NULL,
                                                      (mlsframe_buffer *)&words[2], &epoch));
        CODE(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(epoch_out inside the group info)",
             mlsframe_session_join_by_external_commit(carol, (const uint8_t *)words,
                                                      GARBAGE_LEN, NULL, 0, NULL, &b, &words[5]));
        CODE(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(commit_out inside the tree)",
             mlsframe_session_join_by_external_commit(carol, info.data, info.len,
                                                      (const uint8_t *)words, GARBAGE_LEN, NULL,
                                                      (mlsframe_buffer *)&words[1], &epoch));
        check("refused join_by_external_commit left its inputs intact",
              memcmp(words, GARBAGE, GARBAGE_LEN) == 0);
        mlsframe_group_params in_params[2];
        memset(in_params, 0, sizeof in_params);
        CODE(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(epoch_out inside *params)",
             mlsframe_session_join_by_external_commit(carol, info.data, info.len, NULL, 0,
                                                      in_params, &b,
                                                      (uint64_t *)(void *)in_params));
        CODE(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(epoch_out inside commit_out)",
             mlsframe_session_join_by_external_commit(carol, info.data, info.len, NULL, 0, NULL,
                                                      &b, (uint64_t *)(void *)&b));
    }
    check("refused join_by_external_commit: no buffer, epoch reset to 0",
          b.data == NULL && epoch == 0);
    params.handshake = 2;
    JOIN(MLSFRAME_INVALID_ARGUMENT, "join_by_external_commit(params handshake 2)", carol,
         info.data, info.len, NULL, 0, &params);
    params.handshake = 0;
    params.epoch_bits = 1;
    JOIN(MLSFRAME_MLS_INVALID_PARAMS, "join_by_external_commit(params E 1)", carol, info.data,
         info.len, NULL, 0, &params);
    params.epoch_bits = 0;
    params.sframe_suite = 6;
    JOIN(MLSFRAME_MLS_INVALID_PARAMS, "join_by_external_commit(params suite 6, before the state)",
         bob, info.data, info.len, NULL, 0, &params);
    params.sframe_suite = 0;
    {
        uint8_t *big = calloc(1, MAX_WELCOME + 1);
        memcpy(big, info.data, info.len);
        JOIN(MLSFRAME_MLS_GROUP_INFO_TOO_LARGE,
             "join_by_external_commit(group info padded to 24 MiB + 1)", carol, big,
             MAX_WELCOME + 1, NULL, 0, NULL);
        JOIN(MLSFRAME_MLS_MALFORMED, "join_by_external_commit(group info padded to 24 MiB)",
             carol, big, MAX_WELCOME, NULL, 0, NULL);
        JOIN(MLSFRAME_MLS_GROUP_INFO_TOO_LARGE,
             "join_by_external_commit(tree 24 MiB + 1, before the state)", bob, info.data,
             info.len, big, MAX_WELCOME + 1, NULL);
        free(big);
    }
    JOIN(MLSFRAME_MLS_ALREADY_IN_GROUP, "join_by_external_commit(already in the group)", bob,
         info.data, info.len, NULL, 0, NULL);
    JOIN(MLSFRAME_MLS_ALREADY_IN_GROUP, "join_by_external_commit(garbage, already in a group)",
         bob, GARBAGE, GARBAGE_LEN, NULL, 0, NULL);
    JOIN(MLSFRAME_MLS_MALFORMED, "join_by_external_commit(NULL, len 0 = empty)", carol, NULL, 0,
         NULL, 0, NULL);
    JOIN(MLSFRAME_MLS_MALFORMED, "join_by_external_commit(garbage)", carol, GARBAGE, GARBAGE_LEN,
         NULL, 0, NULL);
    JOIN(MLSFRAME_MLS_MALFORMED, "join_by_external_commit(truncated group info)", carol,
         info.data, info.len - 1, NULL, 0, NULL);
    JOIN(MLSFRAME_MLS_UNEXPECTED_MESSAGE, "join_by_external_commit(a welcome)", carol,
         welcome.data, welcome.len, NULL, 0, NULL);
    {
        uint8_t *flipped = malloc(info.len);
        memcpy(flipped, info.data, info.len);
        flipped[info.len - 1] ^= 0x01; /* the signature's last byte */
        JOIN(MLSFRAME_MLS_INVALID_GROUP_INFO, "join_by_external_commit(signature flipped)", carol,
             flipped, info.len, NULL, 0, NULL);
        free(flipped);
    }
    check("failed join_by_external_commit: no buffer, epoch reset to 0",
          b.data == NULL && epoch == 0);

    /* Who may join: the joiner vets the group, and its key must be its own. */
    {
        mlsframe_session *mallory = NULL, *bob2 = NULL, *picky = NULL;
        must("session_new(mallory, bob's seed)",
             mlsframe_session_new((const uint8_t *)"mallory", 7, (const uint8_t *)"phone", 5,
                                  bob_seed, 32, NULL, &mallory));
        JOIN(MLSFRAME_MLS_INVALID_IDENTITY,
             "join_by_external_commit(our key in another identity's leaf)", mallory, info.data,
             info.len, NULL, 0, NULL);
        bob2 = new_session("bob", "phone");
        JOIN(MLSFRAME_MLS_DUPLICATE_MEMBER,
             "join_by_external_commit(this device in the group under another key)", bob2,
             info.data, info.len, NULL, 0, NULL);
        mlsframe_session_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.admission = refuse_all;
        must("session_new(picky)", mlsframe_session_new((const uint8_t *)"picky", 5, NULL, 0,
                                                        NULL, 0, &cfg, &picky));
        JOIN(MLSFRAME_MLS_ADMISSION_REFUSED,
             "join_by_external_commit(the callback refuses a member)", picky, info.data,
             info.len, NULL, 0, NULL);
        mlsframe_session *p256 = new_session_with("dave", "", NULL, MLSFRAME_SIGNATURE_ECDSA_P256);
        JOIN(MLSFRAME_MLS_CIPHERSUITE_MISMATCH,
             "join_by_external_commit(P-256 identity, MLS suite 1 group)", p256, info.data,
             info.len, NULL, 0, NULL);
        check("refused joins: no buffer, epoch reset to 0", b.data == NULL && epoch == 0);
        CODE(MLSFRAME_MLS_NO_GROUP, "epoch(after every refused external join)",
             mlsframe_session_epoch(mallory, NULL, NULL));
        mlsframe_session_free(mallory);
        mlsframe_session_free(bob2);
        mlsframe_session_free(picky);
        mlsframe_session_free(p256);
    }

    /* A join that succeeds is pending: a tree given with a group info that has its own is
     * ignored (garbage here); discarding drops the joined group. */
    JOIN(MLSFRAME_OK, "join_by_external_commit(carol, garbage tree: ignored)", carol, info.data,
         info.len, GARBAGE, GARBAGE_LEN, NULL);
    check("-> a commit for epoch 2", b.data != NULL && b.len > 0 && epoch == 2);
    mlsframe_buffer_free(&b);
    {
        mlsframe_buffer out = {NULL, 0};
        mlsframe_outcome o;
        CODE(MLSFRAME_MLS_COMMIT_PENDING, "group_info(external join pending)",
             mlsframe_session_group_info(carol, &out));
        check("-> {NULL, 0}", out.data == NULL && out.len == 0);
        CODE(MLSFRAME_MLS_COMMIT_PENDING, "process(external join pending)",
             mlsframe_session_process(carol, info.data, info.len, &o));
        CODE(MLSFRAME_MLS_COMMIT_PENDING, "snapshot(external join pending)",
             mlsframe_session_snapshot(carol, &out));
        CODE(MLSFRAME_MLS_COMMIT_PENDING, "self_update(external join pending)",
             mlsframe_session_self_update(carol, &out));
        uint64_t e = 0;
        CODE(MLSFRAME_OK, "epoch(external join pending)", mlsframe_session_epoch(carol, &e, NULL));
        check("-> the commit's epoch", e == 2);
        mlsframe_encryptor *enc = NULL;
        must("encryptor_new", mlsframe_session_encryptor_new(carol, 0, &enc));
        uint8_t sealed[64];
        size_t n = 1;
        CODE(MLSFRAME_NOT_MEMBER, "encrypt(external join pending)",
             mlsframe_encryptor_encrypt(enc, (const uint8_t *)"x", 1, NULL, 0, sealed,
                                        sizeof sealed, &n));
        mlsframe_encryptor_free(enc);
        check("no buffer filled while pending", out.data == NULL);
    }
    JOIN(MLSFRAME_MLS_ALREADY_IN_GROUP, "join_by_external_commit(external join pending)", carol,
         info.data, info.len, NULL, 0, NULL);
    CODE(MLSFRAME_OK, "discard_commit(external join)", mlsframe_session_discard_commit(carol));
    CODE(MLSFRAME_MLS_NO_GROUP, "epoch(after discarding the external join)",
         mlsframe_session_epoch(carol, NULL, NULL));
    CODE(MLSFRAME_MLS_NO_GROUP, "discard_commit(again)", mlsframe_session_discard_commit(carol));

    /* A removed member rejoins: its ended group is discarded. */
    {
        mlsframe_buffer rm = {NULL, 0}, info2 = {NULL, 0};
        mlsframe_outcome o;
        must("remove_member(bob)", mlsframe_session_remove_member(alice, 1, &rm));
        must("confirm_commit", mlsframe_session_confirm_commit(alice));
        must("process(removal) at bob", mlsframe_session_process(bob, rm.data, rm.len, &o));
        check("bob: REMOVED", o.kind == MLSFRAME_OUTCOME_REMOVED);
        CODE(MLSFRAME_MLS_NOT_MEMBER, "group_info(after removal)",
             mlsframe_session_group_info(bob, &b));
        check("-> {NULL, 0}", b.data == NULL && b.len == 0);
        must("group_info", mlsframe_session_group_info(alice, &info2));
        {
            /* A group info of an earlier epoch still verifies; its commit is refused. */
            mlsframe_session *erin = new_session("erin", "tv");
            JOIN(MLSFRAME_OK, "join_by_external_commit(erin, the last epoch's group info)", erin,
                 info.data, info.len, NULL, 0, NULL);
            CODE(MLSFRAME_MLS_WRONG_EPOCH, "process(erin's stale external commit) at alice",
                 mlsframe_session_process(alice, b.data, b.len, &o));
            CODE(MLSFRAME_OK, "discard_commit(erin)", mlsframe_session_discard_commit(erin));
            mlsframe_buffer_free(&b);
            mlsframe_session_free(erin);
        }
        JOIN(MLSFRAME_OK, "join_by_external_commit(removed bob rejoins)", bob, info2.data,
             info2.len, NULL, 0, NULL);
        check("-> epoch 3", epoch == 3 && b.len > 0);
        CODE(MLSFRAME_OK, "process(bob's external commit) at alice",
             mlsframe_session_process(alice, b.data, b.len, &o));
        check("-> EPOCH_CHANGED, one added",
              o.kind == MLSFRAME_OUTCOME_EPOCH_CHANGED && o.epoch == 3 && o.added == 1 &&
                  o.removed == 0);
        CODE(MLSFRAME_OK, "confirm_commit(bob's external join)",
             mlsframe_session_confirm_commit(bob));
        mlsframe_buffer_free(&info2);
        CODE(MLSFRAME_OK, "group_info(bob, back in)", mlsframe_session_group_info(bob, &info2));
        mlsframe_buffer_free(&b);
        mlsframe_buffer_free(&rm);
        mlsframe_buffer_free(&info2);
    }
#undef JOIN
    mlsframe_buffer_free(&info);
    mlsframe_buffer_free(&tree);
    mlsframe_buffer_free(&kp);
    mlsframe_buffer_free(&welcome);
    mlsframe_session_free(alice);
    mlsframe_session_free(bob);
    mlsframe_session_free(carol);
}

/* The send counter of an app-keyed context: setting the same (suite, KID, base key) again
 * continues it (so no nonce is used twice), a counter never moves backwards, any other key
 * starts at first_counter, and the getter reads it. The receiver's replay window shows
 * what the counter did: a reused counter would be refused as a replay. */
static void test_sframe_counters(void) {
    mlsframe_sframe_context *tx = NULL, *rx = NULL;
    must("sframe_context_new", mlsframe_sframe_context_new(0, &tx));
    must("sframe_context_new", mlsframe_sframe_context_new(0, &rx));
    const uint8_t key[16] = "a 16-byte key!!", other[32] = "another key, 32 bytes long.....";
    const uint8_t pt[] = "counted";
    uint8_t frame[64], plain[64];
    size_t n = 0, m = 0;
    uint64_t next = 77;
#define SEAL() mlsframe_sframe_context_encrypt(tx, pt, 7, NULL, 0, frame, sizeof frame, &n)
#define OPEN() mlsframe_sframe_context_decrypt(rx, frame, n, NULL, 0, plain, sizeof plain, &m, NULL)
#define NEXT() (mlsframe_sframe_context_send_counter(tx, &next) == MLSFRAME_OK ? next : 77)

    must("set_send_key", mlsframe_sframe_context_set_send_key(tx, 4, 3, key, 16, 0));
    must("add_receive_key", mlsframe_sframe_context_add_receive_key(rx, 4, 3, key, 16));
    must("seal", SEAL());
    CODE(MLSFRAME_OK, "counters: frame 0 opens", OPEN());
    check("counters: next is 1", NEXT() == 1);
    CODE(MLSFRAME_OK, "counters: the same key again",
         mlsframe_sframe_context_set_send_key(tx, 4, 3, key, 16, 0));
    check("counters: the same key again keeps its counter (1)", NEXT() == 1);
    must("seal", SEAL());
    CODE(MLSFRAME_OK, "counters: the next frame opens (its counter was not reused)", OPEN());
    CODE(MLSFRAME_OK, "counters: the same key, first_counter 1000",
         mlsframe_sframe_context_set_send_key(tx, 4, 3, key, 16, 1000));
    check("counters: moved forward to 1000", NEXT() == 1000);
    must("seal", SEAL());
    CODE(MLSFRAME_OK, "counters: frame 1000 opens", OPEN());
    CODE(MLSFRAME_OK, "counters: the same key, first_counter 10",
         mlsframe_sframe_context_set_send_key(tx, 4, 3, key, 16, 10));
    check("counters: never backwards (1001)", NEXT() == 1001);
    uint64_t saved = NEXT();

    CODE(MLSFRAME_OK, "counters: another base key, KID 3",
         mlsframe_sframe_context_set_send_key(tx, 4, 3, other, sizeof other, 0));
    check("counters: another key starts at first_counter (0)", NEXT() == 0);
    CODE(MLSFRAME_OK, "counters: the same base key in suite 5",
         mlsframe_sframe_context_set_send_key(tx, 5, 3, key, 16, 7));
    check("counters: another suite is another key (7)", NEXT() == 7);
    /* Only the current key is remembered: back to the first key, pass its counter back. */
    CODE(MLSFRAME_OK, "counters: the first key again, after another",
         mlsframe_sframe_context_set_send_key(tx, 4, 3, key, 16, 0));
    check("counters: a key set after another starts over (0)", NEXT() == 0);
    CODE(MLSFRAME_OK, "counters: the first key with its saved counter",
         mlsframe_sframe_context_set_send_key(tx, 4, 3, key, 16, saved));
    must("seal", SEAL());
    CODE(MLSFRAME_OK, "counters: the frame at the saved counter opens", OPEN());

    CODE(MLSFRAME_OK, "counters: first_counter UINT64_MAX",
         mlsframe_sframe_context_set_send_key(tx, 4, 9, key, 16, UINT64_MAX));
    check("counters: a spent key reads UINT64_MAX", NEXT() == UINT64_MAX);
    n = 77;
    CODE(MLSFRAME_COUNTER_EXHAUSTED, "counters: a spent key seals nothing", SEAL());
    check("counters: exhausted encrypt reset *written", n == 0);
#undef SEAL
#undef OPEN
#undef NEXT
    mlsframe_sframe_context_free(tx);
    mlsframe_sframe_context_free(rx);
}

/* ---- the out-parameter rule ------------------------------------------------------------ */

/* Every export resets its out-parameters before any other check, the handle included: a
 * NULL handle with valid out-pointers leaves 0, false, NULL, {NULL, 0} and zeroed structs.
 * Out-pointers that are themselves the problem (a required one NULL, or one overlapping an
 * input or another output) are never written. */
static void test_out_params_reset(void) {
    static uint8_t junk[8];
    const mlsframe_buffer STALE = {junk, 77};
    mlsframe_buffer b = STALE, b2 = STALE;
    size_t n = 77;
    uint64_t u64 = 77;
    uint32_t u32 = 77;
    uint16_t u16 = 77;
    bool flag = true;
    mlsframe_sender who;
    mlsframe_outcome o;
    mlsframe_group_params params;
    mlsframe_encryptor_stats es;
    mlsframe_decryptor_stats ds;
    mlsframe_session *s = (mlsframe_session *)junk;
    mlsframe_encryptor *enc = (mlsframe_encryptor *)junk;
    mlsframe_decryptor *dec = (mlsframe_decryptor *)junk;
    mlsframe_sframe_context *ctx = (mlsframe_sframe_context *)junk;
    const uint8_t *kps[1] = {GARBAGE};
    size_t lens[1] = {GARBAGE_LEN};
    uint8_t out[64];
    static const uint8_t zeros[sizeof(mlsframe_decryptor_stats)];
#define STALE_ALL()                                                                        \
    do {                                                                                   \
        b = STALE;                                                                         \
        b2 = STALE;                                                                        \
        n = 77;                                                                            \
        u64 = 77;                                                                          \
        u32 = 77;                                                                          \
        u16 = 77;                                                                          \
        flag = true;                                                                       \
        memset(&who, 0xA5, sizeof who);                                                    \
        memset(&o, 0xA5, sizeof o);                                                        \
        memset(&params, 0xA5, sizeof params);                                              \
        memset(&es, 0xA5, sizeof es);                                                      \
        memset(&ds, 0xA5, sizeof ds);                                                      \
    } while (0)
#define EMPTY(buf) ((buf).data == NULL && (buf).len == 0)
#define ZEROED(x) (memcmp(&(x), zeros, sizeof(x)) == 0)
#define RESET(label, call, reset)                                                          \
    do {                                                                                   \
        STALE_ALL();                                                                       \
        CODE(MLSFRAME_NULL_ARGUMENT, label, call);                                         \
        check(label ": out-parameters reset", reset);                                      \
    } while (0)

    RESET("session_signature_algorithm(NULL session)",
          mlsframe_session_signature_algorithm(NULL, &u16), u16 == 0);
    RESET("session_snapshot(NULL session)", mlsframe_session_snapshot(NULL, &b), EMPTY(b));
    RESET("session_key_package(NULL session)", mlsframe_session_key_package(NULL, &b),
          EMPTY(b));
    RESET("session_key_package_for(NULL session)",
          mlsframe_session_key_package_for(NULL, 1, &b), EMPTY(b));
    RESET("session_join(NULL session)",
          mlsframe_session_join(NULL, GARBAGE, GARBAGE_LEN, &u64), u64 == 0);
    RESET("session_join_with(NULL session)",
          mlsframe_session_join_with(NULL, GARBAGE, GARBAGE_LEN, NULL, 0, NULL, &u64), u64 == 0);
    RESET("session_group_info(NULL session)", mlsframe_session_group_info(NULL, &b), EMPTY(b));
    RESET("session_join_by_external_commit(NULL session)",
          mlsframe_session_join_by_external_commit(NULL, GARBAGE, GARBAGE_LEN, NULL, 0, NULL, &b,
                                                   &u64),
          EMPTY(b) && u64 == 0);
    RESET("session_add_members(NULL session)",
          mlsframe_session_add_members(NULL, kps, lens, 1, &b, &b2), EMPTY(b) && EMPTY(b2));
    RESET("session_remove_member(NULL session)", mlsframe_session_remove_member(NULL, 1, &b),
          EMPTY(b));
    RESET("session_remove_user(NULL session)",
          mlsframe_session_remove_user(NULL, (const uint8_t *)"x", 1, &b), EMPTY(b));
    RESET("session_self_update(NULL session)", mlsframe_session_self_update(NULL, &b),
          EMPTY(b));
    RESET("session_commit_pending_proposals(NULL session)",
          mlsframe_session_commit_pending_proposals(NULL, &b, &b2), EMPTY(b) && EMPTY(b2));
    RESET("session_leave(NULL session)", mlsframe_session_leave(NULL, &b), EMPTY(b));
    RESET("session_process(NULL session)",
          mlsframe_session_process(NULL, GARBAGE, GARBAGE_LEN, &o),
          ZEROED(o) && o.kind == MLSFRAME_OUTCOME_NONE);
    RESET("session_epoch(NULL session)", mlsframe_session_epoch(NULL, &u64, &u32),
          u64 == 0 && u32 == 0);
    RESET("session_ciphersuite(NULL session)", mlsframe_session_ciphersuite(NULL, &u16),
          u16 == 0);
    RESET("session_params(NULL session)", mlsframe_session_params(NULL, &params, &u32),
          ZEROED(params) && u32 == 0);
    RESET("session_ratchet_tree(NULL session)", mlsframe_session_ratchet_tree(NULL, &b),
          EMPTY(b));
    RESET("session_security_code(NULL session)", mlsframe_session_security_code(NULL, &b),
          EMPTY(b));
    RESET("session_epoch_authenticator(NULL session)",
          mlsframe_session_epoch_authenticator(NULL, &b), EMPTY(b));
    RESET("session_export_secret(NULL session)",
          mlsframe_session_export_secret(NULL, (const uint8_t *)"l", 1, NULL, 0, 16, &b),
          EMPTY(b));
    RESET("session_roster(NULL session)", mlsframe_session_roster(NULL, &b), EMPTY(b));
    RESET("session_member_identity(NULL session)",
          mlsframe_session_member_identity(NULL, 0, &b, &b2), EMPTY(b) && EMPTY(b2));
    RESET("session_member_credential(NULL session)",
          mlsframe_session_member_credential(NULL, 0, &u16, &b), u16 == 0 && EMPTY(b));
    enc = (mlsframe_encryptor *)junk;
    RESET("session_encryptor_new(NULL session)", mlsframe_session_encryptor_new(NULL, 0, &enc),
          enc == NULL);
    dec = (mlsframe_decryptor *)junk;
    RESET("session_decryptor_new(NULL session)", mlsframe_session_decryptor_new(NULL, &dec),
          dec == NULL);
    s = (mlsframe_session *)junk;
    RESET("session_new(user NULL with a length)",
          mlsframe_session_new(NULL, 4, NULL, 0, NULL, 0, NULL, &s), s == NULL);
    s = (mlsframe_session *)junk;
    RESET("session_new_with(identity NULL)", mlsframe_session_new_with(NULL, NULL, &s),
          s == NULL);
    s = (mlsframe_session *)junk;
    RESET("session_restore(snapshot NULL with a length)",
          mlsframe_session_restore(NULL, 5, NULL, &s), s == NULL);
    RESET("encryptor_encrypt(NULL encryptor)",
          mlsframe_encryptor_encrypt(NULL, (const uint8_t *)"x", 1, NULL, 0, out, sizeof out, &n),
          n == 0);
    RESET("encryptor_get_stats(NULL encryptor)", mlsframe_encryptor_get_stats(NULL, &es),
          ZEROED(es));
    RESET("decryptor_decrypt(NULL decryptor)",
          mlsframe_decryptor_decrypt(NULL, GARBAGE, GARBAGE_LEN, NULL, 0, out, sizeof out, &n,
                                     &who),
          n == 0 && ZEROED(who));
    RESET("decryptor_get_stats(NULL decryptor)", mlsframe_decryptor_get_stats(NULL, &ds),
          ZEROED(ds));
    RESET("decryptor_take_released(NULL decryptor)",
          mlsframe_decryptor_take_released(NULL, out, sizeof out, &n, &who, &flag),
          n == 0 && ZEROED(who) && !flag);
    {
        mlsframe_sender asked;
        memset(&asked, 0, sizeof asked);
        RESET("decryptor_sender_identity(NULL decryptor)",
              mlsframe_decryptor_sender_identity(NULL, &asked, &b, &b2), EMPTY(b) && EMPTY(b2));
    }
    RESET("sframe_context_encrypt(NULL context)",
          mlsframe_sframe_context_encrypt(NULL, (const uint8_t *)"x", 1, NULL, 0, out, sizeof out,
                                          &n),
          n == 0);
    RESET("sframe_context_decrypt(NULL context)",
          mlsframe_sframe_context_decrypt(NULL, GARBAGE, GARBAGE_LEN, NULL, 0, out, sizeof out, &n,
                                          &u64),
          n == 0 && u64 == 0);
    RESET("sframe_context_send_counter(NULL context)",
          mlsframe_sframe_context_send_counter(NULL, &u64), u64 == 0);
    /* A NULL input with a length, past a NULL-free handle check: reset all the same. */
    RESET("decryptor_decrypt(NULL decryptor and frame NULL with a length)",
          mlsframe_decryptor_decrypt(NULL, NULL, 9, NULL, 0, out, sizeof out, &n, &who),
          n == 0 && ZEROED(who));
    ctx = (mlsframe_sframe_context *)junk;
    STALE_ALL();
    CODE(MLSFRAME_INVALID_ARGUMENT, "sframe_context_new(replay window 65537)",
         mlsframe_sframe_context_new(65537, &ctx));
    check("sframe_context_new(replay window 65537): *out reset to NULL", ctx == NULL);

    /* Out-pointers that are the problem: nothing written. */
    STALE_ALL();
    CODE(MLSFRAME_NULL_ARGUMENT, "take_released(released NULL: no out-parameter written)",
         mlsframe_decryptor_take_released(NULL, out, sizeof out, &n, &who, NULL));
    check("take_released(released NULL): *written and *sender untouched",
          n == 77 && who.leaf == 0xA5A5A5A5u);
    STALE_ALL();
    CODE(MLSFRAME_NULL_ARGUMENT, "member_identity(device_id_out NULL: none written)",
         mlsframe_session_member_identity(NULL, 0, &b, NULL));
    check("member_identity(device_id_out NULL): *user_id_out untouched",
          b.data == junk && b.len == 77);
    STALE_ALL();
    CODE(MLSFRAME_NULL_ARGUMENT, "epoch(NULL session, outputs overlapping: none written)",
         mlsframe_session_epoch(NULL, &u64, (uint32_t *)&u64));
    check("epoch(outputs overlapping): untouched", u64 == 77);
    {
        /* *sender inside the frame: the frame must not be touched. */
        uint64_t words[8];
        memset(words, 0x5A, sizeof words);
        STALE_ALL();
        CODE(MLSFRAME_NULL_ARGUMENT, "decrypt(NULL decryptor, sender inside the frame)",
             mlsframe_decryptor_decrypt(NULL, (const uint8_t *)words, sizeof words, NULL, 0, out,
                                        sizeof out, &n, (mlsframe_sender *)&words[2]));
        uint64_t want[8];
        memset(want, 0x5A, sizeof want);
        check("decrypt(sender inside the frame): frame and *written untouched",
              memcmp(words, want, sizeof words) == 0 && n == 77);
    }
#undef RESET
#undef ZEROED
#undef EMPTY
#undef STALE_ALL
}

/* ---- config ------------------------------------------------------------------------ */

static void test_log_callback(void) {
    mlsframe_set_log_callback(on_log, &g_log_lines, MLSFRAME_LOG_INFO);
    mlsframe_session *s = new_session("logged", "dev");
    mlsframe_set_log_callback(NULL, NULL, 0);
    check("log callback received 'session created' at INFO", g_log_lines >= 1);
    unsigned before = g_log_lines;
    mlsframe_session_free(s);
    s = new_session("quiet", "dev");
    check("cleared log callback receives nothing", g_log_lines == before);
    mlsframe_session_free(s);
    mlsframe_set_log_callback(on_log, &g_log_lines, 0); /* level 0: nothing delivered */
    s = new_session("quiet", "dev");
    mlsframe_set_log_callback(NULL, NULL, 0);
    check("max_level 0 delivers nothing", g_log_lines == before);
    mlsframe_session_free(s);
}

int main(void) {
    test_result_messages();
    test_null_frees();
    test_log_callback();
    test_session_new();
    test_no_group();
    test_group_options();
    group g = make_group();
    test_session_nulls(g.alice);
    test_mls_garbage(&g);
    test_interop_calls(&g);
    test_snapshot_restore(&g);
    test_media(&g);
    test_codec(&g);
    test_leave_and_removed(&g);
    free_group(&g);
    test_replayed_proposal();
    test_session_new_with();
    test_p256_snapshot();
    test_external_commit();
    test_sframe_context();
    test_sframe_counters();
    test_out_params_reset();
    printf("%u passed, %u failed\n", g_pass, g_fail);
    return g_fail == 0 ? 0 : 1;
}
