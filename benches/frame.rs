//! Per-frame cost, side by side in one run: the floors (bare AES-128-GCM with a
//! pre-expanded key, out of place, no copy: RustCrypto's `aes-gcm`, and aws-lc-rs when the
//! default `aws-lc-rs` feature is on), mlsframe's SFrame seal/open into a caller buffer
//! (with whichever backend the build has), and the `sframe` crate (2.x, ring backend)
//! doing the same frames.
//!
//! Input and output sit in one allocation at a fixed distance (2 KiB modulo 4 KiB), so
//! no variant is helped or hurt by 4K aliasing in memcpy.
//!
//! `cargo bench --bench frame`; compare medians within one run (ratios), not across machines.

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlsframe::sframe::{CipherSuite, Receiver, ReceiverConfig, SendKey};
use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
use sframe::key::{DecryptionKey, EncryptionKey};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SIZES: [usize; 4] = [100, 1024, 10 * 1024, 100 * 1024];
const BASE_KEY: &[u8] = b"benchmark base key 0123456789abc";

/// One buffer holding the input at 0 and the output 2 KiB past a 4 KiB boundary.
struct Buffers {
    mem: Vec<u8>,
    out_at: usize,
}

impl Buffers {
    fn new(len: usize) -> Buffers {
        let out_at = len.div_ceil(4096) * 4096 + 2048;
        let mut mem = vec![0u8; out_at + len + 64];
        for (i, b) in mem[..len].iter_mut().enumerate() {
            *b = i as u8;
        }
        Buffers { mem, out_at }
    }

    fn split(&mut self, len: usize) -> (&[u8], &mut [u8]) {
        let (input, rest) = self.mem.split_at_mut(self.out_at);
        (&input[..len], &mut rest[..len + 64])
    }
}

fn seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("seal_aes128gcm");
    for len in SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        let mut bufs = Buffers::new(len);

        let aead = Aes128Gcm::new_from_slice(&BASE_KEY[..16]).expect("16-byte key");
        let nonce = Nonce::from([7u8; 12]);
        group.bench_function(BenchmarkId::new("bare_aead", len), |b| {
            b.iter(|| {
                let (input, output) = bufs.split(len);
                let buf = InOutBuf::new(input, &mut output[..len]).expect("equal lengths");
                black_box(
                    aead.encrypt_inout_detached(&nonce, b"", buf)
                        .expect("seals"),
                )
            })
        });

        #[cfg(feature = "aws-lc-rs")]
        {
            use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
            let key =
                LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &BASE_KEY[..16]).expect("key"));
            group.bench_function(BenchmarkId::new("bare_aws_lc", len), |b| {
                b.iter(|| {
                    let (input, output) = bufs.split(len);
                    let (body, tag) = output.split_at_mut(len);
                    let nonce = Nonce::assume_unique_for_key([7u8; 12]);
                    key.seal_out_of_place_scatter(
                        nonce,
                        Aad::empty(),
                        input,
                        body,
                        &[],
                        &mut tag[..16],
                    )
                    .expect("seals");
                    black_box(tag[0])
                })
            });
        }

        let ours = SendKey::new(CipherSuite::Aes128GcmSha256_128, 7, BASE_KEY);
        group.bench_function(BenchmarkId::new("mlsframe", len), |b| {
            b.iter(|| {
                let (input, output) = bufs.split(len);
                black_box(ours.encrypt(b"", input, output).expect("seals"))
            })
        });

        let theirs =
            EncryptionKey::derive_from(sframe::CipherSuite::AesGcm128Sha256, 7u64, BASE_KEY)
                .expect("derives");
        let mut counter = MonotonicCounter::default();
        let mut out = Vec::with_capacity(len + 64);
        let (input, _) = bufs.split(len);
        let input = input.to_vec();
        group.bench_function(BenchmarkId::new("sframe_crate", len), |b| {
            b.iter(|| {
                let frame = MediaFrameView::try_new(&mut counter, &input).expect("counter");
                black_box(
                    frame
                        .encrypt_into(&theirs, &mut out)
                        .expect("seals")
                        .cipher_text()
                        .len(),
                )
            })
        });
    }
    group.finish();
}

fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("open_aes128gcm");
    for len in SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();

        let aead = Aes128Gcm::new_from_slice(&BASE_KEY[..16]).expect("16-byte key");
        let nonce = Nonce::from([7u8; 12]);
        let mut sealed = payload.clone();
        let tag = aead
            .encrypt_inout_detached(&nonce, b"", InOutBuf::from(&mut sealed[..]))
            .expect("seals");
        let mut out = vec![0u8; len];
        group.bench_function(BenchmarkId::new("bare_aead", len), |b| {
            b.iter(|| {
                let buf = InOutBuf::new(&sealed, &mut out).expect("equal lengths");
                aead.decrypt_inout_detached(&nonce, b"", buf, &tag)
                    .expect("opens");
                black_box(out[0])
            })
        });

        #[cfg(feature = "aws-lc-rs")]
        {
            use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
            let key =
                LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &BASE_KEY[..16]).expect("key"));
            let mut sealed = payload.clone();
            let nonce = || Nonce::assume_unique_for_key([7u8; 12]);
            let tag = key
                .seal_in_place_separate_tag(nonce(), Aad::empty(), &mut sealed)
                .expect("seals");
            group.bench_function(BenchmarkId::new("bare_aws_lc", len), |b| {
                b.iter(|| {
                    key.open_separate_gather(
                        nonce(),
                        Aad::empty(),
                        &sealed,
                        tag.as_ref(),
                        &mut out,
                    )
                    .expect("opens");
                    black_box(out[0])
                })
            });
        }

        // The replay window refuses a frame seen before, so each timed call opens a fresh
        // frame; a new receiver (set up outside the timing) starts each pass over them.
        let sender = SendKey::new(CipherSuite::Aes128GcmSha256_128, 7, BASE_KEY);
        let count = (64 << 20) / len.max(1);
        let frames: Vec<Vec<u8>> = (0..count.min(4096))
            .map(|_| sender.encrypt_to_vec(b"", &payload).expect("seals"))
            .collect();
        let fresh_receiver = || {
            let mut r = Receiver::with_config(ReceiverConfig::default());
            r.add_key(CipherSuite::Aes128GcmSha256_128, 7, BASE_KEY)
                .expect("installs");
            r
        };
        group.bench_function(BenchmarkId::new("mlsframe", len), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let receiver = fresh_receiver();
                    let n = (iters - done).min(frames.len() as u64) as usize;
                    let start = Instant::now();
                    for frame in &frames[..n] {
                        black_box(receiver.decrypt(b"", frame, &mut out).expect("opens").len);
                    }
                    total += start.elapsed();
                    done += n as u64;
                }
                total
            })
        });

        let theirs_enc =
            EncryptionKey::derive_from(sframe::CipherSuite::AesGcm128Sha256, 7u64, BASE_KEY)
                .expect("derives");
        let theirs_dec =
            DecryptionKey::derive_from(sframe::CipherSuite::AesGcm128Sha256, 7u64, BASE_KEY)
                .expect("derives");
        let mut counter = MonotonicCounter::default();
        let mut buf = Vec::new();
        let wire = MediaFrameView::try_new(&mut counter, &payload)
            .expect("counter")
            .encrypt_into(&theirs_enc, &mut buf)
            .expect("seals")
            .sframe_cipher_text()
            .to_vec();
        let mut plain = Vec::with_capacity(len);
        group.bench_function(BenchmarkId::new("sframe_crate", len), |b| {
            b.iter(|| {
                let view = EncryptedFrameView::try_new(&wire).expect("parses");
                black_box(
                    view.decrypt_into(&theirs_dec, &mut plain)
                        .expect("opens")
                        .payload()
                        .len(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, seal, open);
criterion_main!(benches);
