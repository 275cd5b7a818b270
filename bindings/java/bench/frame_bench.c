/* The frame path through the C ABI, as FrameBench.java measures it through Java: per-frame
 * nanoseconds to seal and to open a 100-byte and a 10 KiB frame. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mlsframe.h"

#define CHECK(x) do { mlsframe_result r_ = (x); if (r_ != MLSFRAME_OK) { \
    fprintf(stderr, "%s: %u\n", #x, (unsigned)r_); exit(1); } } while (0)

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(void) {
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
    size_t sizes[2] = {100, 10240};
    for (int s = 0; s < 2; s++) {
        size_t size = sizes[s];
        int iterations = size == 100 ? 50000 : 2000;
        uint8_t *frame = calloc(size, 1);
        size_t cap = mlsframe_encryptor_max_ciphertext_size(enc, size);
        uint8_t *sealed = malloc(cap);
        uint8_t *plain = malloc(size);
        for (int round = 0; round < 2; round++) {
            long long seal_ns = 0, open_ns = 0;
            for (int i = 0; i < iterations; i++) {
                size_t n, m;
                long long t0 = now_ns();
                CHECK(mlsframe_encryptor_encrypt(enc, frame, size, NULL, 0, sealed, cap, &n));
                long long t1 = now_ns();
                CHECK(mlsframe_decryptor_decrypt(dec, sealed, n, NULL, 0, plain, size, &m, NULL));
                long long t2 = now_ns();
                seal_ns += t1 - t0;
                open_ns += t2 - t1;
            }
            if (round == 1) {
                printf("c    %6zu B: encrypt %8.0f ns/frame, decrypt %8.0f ns/frame\n", size,
                       (double)seal_ns / iterations, (double)open_ns / iterations);
            }
        }
        free(frame);
        free(sealed);
        free(plain);
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
