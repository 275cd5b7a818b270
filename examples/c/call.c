/*
 * A three-party call through the mlsframe C ABI only (include/mlsframe.h).
 *
 *   alice creates a group (SFrame suite 4, E = 4, encrypted handshakes) and adds bob
 *   and carol in one commit; the welcome travels over an in-memory message queue.
 *   Everyone seals and opens frames; security codes match. Then alice removes carol:
 *   bob follows, carol is locked out (NO_KEY, then REMOVED and NOT_MEMBER).
 *
 * Build (from the repository root, after `cargo build --lib`):
 *   cc -std=c11 -Wall -Wextra -I include examples/c/call.c target/debug/libmlsframe.a \
 *      -lpthread -ldl -lm -o call && ./call
 * or against an installed copy: cc call.c $(pkg-config --cflags --libs mlsframe)
 *
 * Exits 0 only if every check passes.
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

/* A condition that must hold. */
#define CHECK(cond)                                                                        \
    do {                                                                                   \
        g_checks++;                                                                        \
        if (!(cond)) fail(__FILE__, __LINE__, #cond, NULL);                                \
    } while (0)

/* A call that must return exactly `want`. */
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

/* ---- participants ------------------------------------------------------------------ */

enum { ALICE, BOB, CAROL, N_MEMBERS };

typedef struct {
    const char *name;
    mlsframe_session *session;
    mlsframe_encryptor *enc;
    mlsframe_decryptor *dec;
    uint32_t leaf;
    uint64_t epoch;
    bool member;
} member;

static member g_m[N_MEMBERS] = {
    [ALICE] = {.name = "alice"},
    [BOB] = {.name = "bob"},
    [CAROL] = {.name = "carol"},
};

static void refresh_epoch(member *m) {
    OK(mlsframe_session_epoch(m->session, &m->epoch, &m->leaf));
}

/* ---- the message queue (stands in for the delivery service) ----------------------- */

typedef struct {
    mlsframe_buffer msg; /* owned by the queue until every recipient has it */
    const char *what;
    unsigned to; /* bit per member still to deliver to */
} queued;

enum { QUEUE_CAP = 8 };
static queued g_queue[QUEUE_CAP];
static size_t g_queued;

/* Moves `*buf` into the queue for the members in `to` (buf is left empty). */
static void post(mlsframe_buffer *buf, const char *what, unsigned to) {
    CHECK(g_queued < QUEUE_CAP);
    CHECK(buf->data != NULL && buf->len > 0);
    g_queue[g_queued++] = (queued){.msg = *buf, .what = what, .to = to};
    *buf = (mlsframe_buffer){NULL, 0};
    printf("  ds: queued %-7s (%4zu bytes) for", what, g_queue[g_queued - 1].msg.len);
    for (int i = 0; i < N_MEMBERS; i++)
        if (to & (1u << i)) printf(" %s", g_m[i].name);
    printf("\n");
}

/* Takes the oldest message for `who` (the caller borrows it until `done`). */
static queued *next_for(int who) {
    for (size_t i = 0; i < g_queued; i++)
        if (g_queue[i].to & (1u << who)) return &g_queue[i];
    return NULL;
}

/* Marks `q` delivered to `who`; frees and drops it once everyone has it. */
static void done(queued *q, int who) {
    q->to &= ~(1u << who);
    if (q->to != 0) return;
    mlsframe_buffer_free(&q->msg);
    CHECK(q->msg.data == NULL && q->msg.len == 0);
    size_t i = (size_t)(q - g_queue);
    memmove(&g_queue[i], &g_queue[i + 1], (g_queued - i - 1) * sizeof g_queue[0]);
    g_queued--;
}

/* Delivers the next commit to `who`; returns the processing outcome. */
static mlsframe_outcome deliver_commit(int who) {
    queued *q = next_for(who);
    CHECK(q != NULL);
    mlsframe_outcome out;
    memset(&out, 0, sizeof out);
    OK(mlsframe_session_process(g_m[who].session, q->msg.data, q->msg.len, &out));
    printf("  %s: processed %s -> outcome %u, epoch %" PRIu64 " (+%u -%u)\n", g_m[who].name,
           q->what, (unsigned)out.kind, out.epoch, out.added, out.removed);
    done(q, who);
    return out;
}

/* ---- media ------------------------------------------------------------------------- */

/* Whether `needle` occurs in `hay` (memmem is not ISO C). */
static bool contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t n) {
    for (size_t i = 0; n <= hay_len && i <= hay_len - n; i++)
        if (memcmp(hay + i, needle, n) == 0) return true;
    return false;
}

static unsigned g_frames_sent, g_frames_opened;

/* `from` seals one frame; every member in `to` must open it exactly. */
static void send_frame(int from, unsigned to, const char *text) {
    member *s = &g_m[from];
    const uint8_t *pt = (const uint8_t *)text;
    size_t pt_len = strlen(text);
    uint8_t sealed[256];
    size_t cap = mlsframe_encryptor_max_ciphertext_size(s->enc, pt_len);
    CHECK(cap <= sizeof sealed && cap > pt_len);
    size_t sealed_len = 0;
    OK(mlsframe_encryptor_encrypt(s->enc, pt, pt_len, NULL, 0, sealed, cap, &sealed_len));
    CHECK(sealed_len > pt_len && sealed_len <= cap);
    CHECK(!contains(sealed, sealed_len, pt, pt_len)); /* no plaintext on the wire */
    g_frames_sent++;
    printf("  %s -> \"%s\" (%zu -> %zu bytes, epoch %" PRIu64 ")\n", s->name, text, pt_len,
           sealed_len, s->epoch);
    for (int r = 0; r < N_MEMBERS; r++) {
        if (!(to & (1u << r))) continue;
        uint8_t plain[256];
        size_t cap_out = mlsframe_decryptor_max_plaintext_size(g_m[r].dec, sealed_len);
        CHECK(cap_out <= sealed_len && cap_out <= sizeof plain);
        size_t n = 0;
        mlsframe_sender who;
        memset(&who, 0xA5, sizeof who);
        OK(mlsframe_decryptor_decrypt(g_m[r].dec, sealed, sealed_len, NULL, 0, plain, cap_out,
                                      &n, &who));
        CHECK(n == pt_len && memcmp(plain, pt, pt_len) == 0);
        CHECK(who.leaf == s->leaf);
        CHECK(who.epoch == s->epoch);
        CHECK(who.context == 0);
        /* Credit the frame to who held that leaf in the frame's own epoch. */
        mlsframe_buffer uid = {NULL, 0}, did = {NULL, 0};
        OK(mlsframe_decryptor_sender_identity(g_m[r].dec, &who, &uid, &did));
        CHECK(uid.len == strlen(s->name) && memcmp(uid.data, s->name, uid.len) == 0);
        mlsframe_buffer_free(&uid);
        mlsframe_buffer_free(&did);
        g_frames_opened++;
        printf("      %s opened it: sender leaf %u, epoch %" PRIu64 ", context %" PRIu64 "\n",
               g_m[r].name, who.leaf, who.epoch, who.context);
    }
}

/* Seals a frame from `from` into `sealed` (for the failure cases below). */
static size_t seal(int from, const char *text, uint8_t *sealed, size_t cap) {
    size_t n = 0;
    OK(mlsframe_encryptor_encrypt(g_m[from].enc, (const uint8_t *)text, strlen(text), NULL, 0,
                                  sealed, cap, &n));
    g_frames_sent++;
    return n;
}

/* ---- security codes ---------------------------------------------------------------- */

static void security_codes(unsigned who) {
    mlsframe_buffer first = {NULL, 0};
    int first_idx = -1;
    for (int i = 0; i < N_MEMBERS; i++) {
        if (!(who & (1u << i))) continue;
        mlsframe_buffer code = {NULL, 0};
        OK(mlsframe_session_security_code(g_m[i].session, &code));
        CHECK(code.len > 0 && memchr(code.data, '\0', code.len) == NULL);
        printf("  %-5s security code: %.*s\n", g_m[i].name, (int)code.len,
               (const char *)code.data);
        if (first_idx < 0) {
            first = code;
            first_idx = i;
        } else {
            CHECK(code.len == first.len && memcmp(code.data, first.data, code.len) == 0);
            mlsframe_buffer_free(&code);
        }
    }
    mlsframe_buffer_free(&first);
}

/* ---- library log and key-frame callbacks ------------------------------------------- */

static void on_log(void *user_data, uint32_t level, const char *message) {
    (void)user_data;
    printf("  [lib level %u] %s\n", level, message);
}

static unsigned g_key_frames;
static void on_key_frame(void *user_data, uint64_t context, uint64_t epoch) {
    unsigned *count = user_data;
    (*count)++;
    printf("  [alice encryptor] key frame requested: context %" PRIu64 ", epoch %" PRIu64 "\n",
           context, epoch);
}

/* ---- the call ---------------------------------------------------------------------- */

int main(void) {
    printf("mlsframe %s C ABI call demo\n", MLSFRAME_VERSION);
    mlsframe_set_log_callback(on_log, NULL, MLSFRAME_LOG_WARN);

    printf("\n== sessions and key packages\n");
    mlsframe_session_config cfg;
    memset(&cfg, 0, sizeof cfg); /* defaults */
    mlsframe_buffer kp[N_MEMBERS] = {{NULL, 0}};
    for (int i = 0; i < N_MEMBERS; i++) {
        const char *device = "laptop";
        OK(mlsframe_session_new((const uint8_t *)g_m[i].name, strlen(g_m[i].name),
                                (const uint8_t *)device, strlen(device), NULL, 0, &cfg,
                                &g_m[i].session));
        CHECK(g_m[i].session != NULL);
        OK(mlsframe_session_key_package(g_m[i].session, &kp[i]));
        CHECK(kp[i].len > 0);
        printf("  %s: session ready, key package %zu bytes\n", g_m[i].name, kp[i].len);
    }
    mlsframe_buffer_free(&kp[ALICE]); /* alice creates the group; hers is unused */

    printf("\n== alice creates the group and adds bob and carol in one commit\n");
    OK(mlsframe_session_create_group(g_m[ALICE].session, 4, 4, false));
    g_m[ALICE].member = true;
    refresh_epoch(&g_m[ALICE]);
    const uint8_t *kps[2] = {kp[BOB].data, kp[CAROL].data};
    size_t kp_lens[2] = {kp[BOB].len, kp[CAROL].len};
    mlsframe_buffer commit = {NULL, 0}, welcome = {NULL, 0};
    OK(mlsframe_session_add_members(g_m[ALICE].session, kps, kp_lens, 2, &commit, &welcome));
    CHECK(commit.len > 0 && welcome.len > 0);
    mlsframe_buffer_free(&kp[BOB]);
    mlsframe_buffer_free(&kp[CAROL]);
    /* No one else is in the group yet: the commit only goes to the delivery service,
     * which accepts it; alice then merges it. */
    printf("  ds: accepted alice's add commit (%zu bytes)\n", commit.len);
    mlsframe_buffer_free(&commit);
    OK(mlsframe_session_confirm_commit(g_m[ALICE].session));
    refresh_epoch(&g_m[ALICE]);
    CHECK(g_m[ALICE].epoch == 1);
    post(&welcome, "welcome", 1u << BOB | 1u << CAROL);
    CHECK(welcome.data == NULL);

    for (int i = BOB; i <= CAROL; i++) {
        queued *q = next_for(i);
        CHECK(q != NULL);
        uint64_t joined = 0;
        OK(mlsframe_session_join(g_m[i].session, q->msg.data, q->msg.len, &joined));
        done(q, i);
        g_m[i].member = true;
        refresh_epoch(&g_m[i]);
        CHECK(joined == g_m[ALICE].epoch && g_m[i].epoch == joined);
        printf("  %s joined at epoch %" PRIu64 " as leaf %u\n", g_m[i].name, joined,
               g_m[i].leaf);
    }
    CHECK(g_queued == 0);
    printf("  alice is leaf %u\n", g_m[ALICE].leaf);
    CHECK(g_m[ALICE].leaf != g_m[BOB].leaf && g_m[BOB].leaf != g_m[CAROL].leaf &&
          g_m[ALICE].leaf != g_m[CAROL].leaf);

    mlsframe_buffer roster = {NULL, 0};
    OK(mlsframe_session_roster(g_m[BOB].session, &roster));
    printf("  bob's roster (leaf, user, device, fingerprint, credential type, foreign "
           "credential; ids in hex):\n%.*s",
           (int)roster.len, (const char *)roster.data);
    mlsframe_buffer_free(&roster);
    mlsframe_buffer uid = {NULL, 0}, did = {NULL, 0};
    OK(mlsframe_session_member_identity(g_m[BOB].session, g_m[CAROL].leaf, &uid, &did));
    CHECK(uid.len == 5 && memcmp(uid.data, "carol", 5) == 0);
    CHECK(did.len == 6 && memcmp(did.data, "laptop", 6) == 0);
    mlsframe_buffer_free(&uid);
    mlsframe_buffer_free(&did);

    printf("\n== media: everyone to everyone (context 0)\n");
    for (int i = 0; i < N_MEMBERS; i++) {
        OK(mlsframe_session_encryptor_new(g_m[i].session, 0, &g_m[i].enc));
        OK(mlsframe_session_decryptor_new(g_m[i].session, &g_m[i].dec));
    }
    OK(mlsframe_encryptor_set_key_frame_callback(g_m[ALICE].enc, on_key_frame, &g_key_frames));
    const unsigned all = 1u << ALICE | 1u << BOB | 1u << CAROL;
    send_frame(ALICE, all & ~(1u << ALICE), "hello from alice");
    send_frame(BOB, all & ~(1u << BOB), "bob here");
    send_frame(CAROL, all & ~(1u << CAROL), "carol, loud and clear");
    send_frame(ALICE, all & ~(1u << ALICE), "alice again");

    printf("\n== in-place decrypt at bob (out == in)\n");
    {
        uint8_t buf[128];
        const char *text = "in place, please";
        size_t n = seal(CAROL, text, buf, sizeof buf);
        size_t plain_len = 0;
        mlsframe_sender who;
        OK(mlsframe_decryptor_decrypt(g_m[BOB].dec, buf, n, NULL, 0, buf, n, &plain_len, &who));
        CHECK(plain_len == strlen(text) && memcmp(buf, text, plain_len) == 0);
        CHECK(who.leaf == g_m[CAROL].leaf);
        g_frames_opened++;
        printf("  bob opened carol's %zu-byte frame in place: \"%.*s\"\n", n, (int)plain_len,
               (const char *)buf);
    }

    printf("\n== security codes (epoch %" PRIu64 ")\n", g_m[ALICE].epoch);
    security_codes(all);

    printf("\n== alice removes carol\n");
    OK(mlsframe_session_remove_member(g_m[ALICE].session, g_m[CAROL].leaf, &commit));
    post(&commit, "remove", 1u << BOB | 1u << CAROL);
    mlsframe_outcome out = deliver_commit(BOB);
    CHECK(out.kind == MLSFRAME_OUTCOME_EPOCH_CHANGED);
    CHECK(out.removed == 1 && out.added == 0);
    OK(mlsframe_session_confirm_commit(g_m[ALICE].session));
    refresh_epoch(&g_m[ALICE]);
    refresh_epoch(&g_m[BOB]);
    CHECK(g_m[ALICE].epoch == 2 && g_m[BOB].epoch == 2 && out.epoch == 2);
    printf("  alice confirmed: epoch %" PRIu64 "\n", g_m[ALICE].epoch);

    printf("\n== alice's next frame: bob opens it, carol cannot\n");
    uint8_t sealed[128];
    size_t sealed_len;
    {
        uint8_t copy[128];
        const char *text = "carol is gone";
        sealed_len = seal(ALICE, text, sealed, sizeof sealed);
        size_t n = 0;
        mlsframe_sender who;
        OK(mlsframe_decryptor_decrypt(g_m[BOB].dec, sealed, sealed_len, NULL, 0, copy,
                                      sizeof copy, &n, &who));
        CHECK(n == strlen(text) && memcmp(copy, text, n) == 0);
        CHECK(who.leaf == g_m[ALICE].leaf && who.epoch == 2);
        g_frames_opened++;
        printf("  bob opened \"%.*s\" (epoch %" PRIu64 ")\n", (int)n, (const char *)copy,
               who.epoch);
        CHECK(g_key_frames == 1); /* alice's encryptor switched epochs once */

        /* Carol has not seen the commit yet: recoverable NO_KEY. */
        EXPECT(MLSFRAME_NO_KEY,
               mlsframe_decryptor_decrypt(g_m[CAROL].dec, sealed, sealed_len, NULL, 0, copy,
                                          sizeof copy, &n, NULL));
        CHECK(n == 0);
        printf("  carol (before the commit): %s\n", mlsframe_result_message(MLSFRAME_NO_KEY));

        out = deliver_commit(CAROL);
        CHECK(out.kind == MLSFRAME_OUTCOME_REMOVED);
        g_m[CAROL].member = false;
        CHECK(g_queued == 0);

        /* Removed: the held frame is not released, and it still does not open. */
        bool released = true;
        OK(mlsframe_decryptor_take_released(g_m[CAROL].dec, copy, sizeof copy, &n, NULL,
                                            &released));
        CHECK(!released && n == 0);
        mlsframe_result r = mlsframe_decryptor_decrypt(g_m[CAROL].dec, sealed, sealed_len, NULL,
                                                       0, copy, sizeof copy, &n, NULL);
        CHECK(r == MLSFRAME_NO_KEY);
        printf("  carol (after REMOVED): %u %s\n", (unsigned)r, mlsframe_result_message(r));
        EXPECT(MLSFRAME_NOT_MEMBER,
               mlsframe_encryptor_encrypt(g_m[CAROL].enc,
                                          (const uint8_t *)"hi", 2, NULL, 0, copy,
                                          sizeof copy, &n));
        printf("  carol's encryptor: %s\n", mlsframe_result_message(MLSFRAME_NOT_MEMBER));
        mlsframe_buffer code = {NULL, 0};
        EXPECT(MLSFRAME_MLS_NOT_MEMBER, mlsframe_session_security_code(g_m[CAROL].session, &code));
        CHECK(code.data == NULL);
    }
    send_frame(BOB, 1u << ALICE, "just the two of us");

    printf("\n== security codes (epoch %" PRIu64 ")\n", g_m[ALICE].epoch);
    security_codes(1u << ALICE | 1u << BOB);

    printf("\n== stats\n");
    mlsframe_encryptor_stats es;
    OK(mlsframe_encryptor_get_stats(g_m[ALICE].enc, &es));
    printf("  alice encryptor: frames %" PRIu64 ", bytes %" PRIu64 " -> %" PRIu64
           ", not-member failures %" PRIu64 ", epoch %" PRIu64 "\n",
           es.frames_out, es.bytes_in, es.bytes_out, es.failed_not_member, es.epoch);
    CHECK(es.frames_out == 3 && es.failed_not_member == 0 && es.epoch == 2);
    CHECK(es.bytes_out > es.bytes_in);
    mlsframe_decryptor_stats ds;
    OK(mlsframe_decryptor_get_stats(g_m[BOB].dec, &ds));
    printf("  bob decryptor:   frames %" PRIu64 ", bytes %" PRIu64 " -> %" PRIu64
           ", no-key %" PRIu64 ", auth %" PRIu64 ", replay %" PRIu64 ", malformed %" PRIu64
           ", epoch %" PRIu64 "\n",
           ds.frames_in, ds.bytes_in, ds.bytes_out, ds.no_key, ds.auth_failed, ds.replay,
           ds.malformed, ds.epoch);
    CHECK(ds.frames_in == 5 && ds.no_key == 0 && ds.epoch == 2);
    OK(mlsframe_decryptor_get_stats(g_m[CAROL].dec, &ds));
    CHECK(ds.frames_in == 3 && ds.no_key == 2);
    printf("  carol decryptor: frames %" PRIu64 ", no-key %" PRIu64 "\n", ds.frames_in,
           ds.no_key);

    printf("\n== handles outlive their session\n");
    mlsframe_session_free(g_m[ALICE].session);
    g_m[ALICE].session = NULL;
    {
        uint8_t buf[64];
        size_t n = 123;
        EXPECT(MLSFRAME_NOT_MEMBER,
               mlsframe_encryptor_encrypt(g_m[ALICE].enc,
                                          (const uint8_t *)"after free", 10, NULL, 0, buf,
                                          sizeof buf, &n));
        CHECK(n == 0);
        OK(mlsframe_encryptor_get_stats(g_m[ALICE].enc, &es));
        CHECK(es.failed_not_member == 1 && es.epoch == 0);
        printf("  alice's encryptor after mlsframe_session_free: %s\n",
               mlsframe_result_message(MLSFRAME_NOT_MEMBER));
    }

    printf("\n== cleanup\n");
    mlsframe_set_log_callback(NULL, NULL, 0);
    for (int i = 0; i < N_MEMBERS; i++) {
        mlsframe_encryptor_free(g_m[i].enc);
        mlsframe_decryptor_free(g_m[i].dec);
        mlsframe_session_free(g_m[i].session);
    }
    printf("  %u frames sealed, %u opened; %u checks passed\n", g_frames_sent, g_frames_opened,
           g_checks);
    printf("call: OK\n");
    return 0;
}
