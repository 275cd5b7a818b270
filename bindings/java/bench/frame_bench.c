/* The frame path through the C ABI, as bench/FrameBench.java measures it through Java:
 * alice seals a frame, bob opens it, for frames of 100 B, 1 KiB and 10 KiB. First WARMUP
 * untimed rounds of every size, then per size one more warm-up round and ROUNDS timed
 * rounds of N frames each (the loop timed as a whole); prints
 * "c <size> <median ns per frame (seal + open)>". Argument: "quick" for short rounds.
 * bench/run.sh runs it and the Java harness and compares them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlsframe.h"

#define CHECK(x) do { mlsframe_result r_ = (x); if (r_ != MLSFRAME_OK) { \
    fprintf(stderr, "%s: %u\n", #x, (unsigned)r_); exit(1); } } while (0)

enum { WARMUP = 3, ROUNDS = 7 };

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Frames per round: about the same time per round for every size. */
static int frames_for(size_t size, int quick) {
    int n = size <= 100 ? 20000 : size <= 1024 ? 10000 : 2000;
    return quick ? n / 10 : n;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    mlsframe_session *alice, *bob;
    CHECK(mlsframe_session_new((const uint8_t *)"alice", 5, (const uint8_t *)"phone", 5, NULL, 0, NULL, &alice));
    CHECK(mlsframe_session_new((const uint8_t *)"bob", 3, (const uint8_t *)"laptop", 6, NULL, 0, NULL, &bob));
    CHECK(mlsframe_session_create_group(alice, 4, 4, false));
    mlsframe_buffer kp = {0}, commit = {0}, welcome = {0};
    CHECK(mlsframe_session_key_package(bob, &kp));
    const uint8_t *kps[1] = {kp.data};
    size_t lens[1] = {kp.len};
    CHECK(mlsframe_session_add_members(alice, kps, lens, 1, &commit, &welcome));
    CHECK(mlsframe_session_confirm_commit(alice));
    CHECK(mlsframe_session_join(bob, welcome.data, welcome.len, NULL));
    CHECK(mlsframe_session_receivers_ready(alice));
    mlsframe_encryptor *enc;
    mlsframe_decryptor *dec;
    CHECK(mlsframe_session_encryptor_new(alice, 0, &enc));
    CHECK(mlsframe_session_decryptor_new(bob, &dec));
    size_t sizes[3] = {100, 1024, 10240};
    /* Pass 0 warms every size up (WARMUP rounds each, untimed); pass 1 measures each size
     * after one more warm-up round. */
    for (int pass = 0; pass < 2; pass++) {
        for (int s = 0; s < 3; s++) {
            size_t size = sizes[s];
            int n = frames_for(size, quick);
            int warmup = pass == 0 ? WARMUP : 1;
            int timed = pass == 0 ? 0 : ROUNDS;
            uint8_t *frame = calloc(size, 1);
            size_t cap = mlsframe_encryptor_max_ciphertext_size(enc, size);
            uint8_t *sealed = malloc(cap);
            uint8_t *plain = malloc(size);
            double per_frame[ROUNDS];
            for (int round = 0; round < warmup + timed; round++) {
                long long t0 = now_ns();
                for (int i = 0; i < n; i++) {
                    size_t w, m;
                    CHECK(mlsframe_encryptor_encrypt(enc, frame, size, NULL, 0, sealed, cap, &w));
                    CHECK(mlsframe_decryptor_decrypt(dec, sealed, w, NULL, 0, plain, size, &m, NULL));
                }
                long long t1 = now_ns();
                if (round >= warmup) {
                    per_frame[round - warmup] = (double)(t1 - t0) / n;
                }
            }
            if (timed > 0) {
                qsort(per_frame, ROUNDS, sizeof per_frame[0], cmp_double);
                printf("c %zu %.1f\n", size, per_frame[ROUNDS / 2]);
            }
            free(frame);
            free(sealed);
            free(plain);
        }
    }
    mlsframe_encryptor_free(enc);
    mlsframe_decryptor_free(dec);
    mlsframe_buffer_free(&kp);
    mlsframe_buffer_free(&commit);
    mlsframe_buffer_free(&welcome);
    mlsframe_session_free(alice);
    mlsframe_session_free(bob);
    return 0;
}
