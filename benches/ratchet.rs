//! What a frame of a ratcheting generation (RFC 9605 §5.1, R = 8) costs the receiver:
//!
//! - `ratchet/normal_frame`: a genuine frame for the current step.
//! - `ratchet/forged_step_255`: a forged frame (bad tag) whose KID names step +255, sent
//!   again and again to one receiver: what an attacker pays per frame, steady state.
//! - `ratchet/forged_step_255_first`: the same forged frame against a fresh generation,
//!   i.e. the one-off cost of deriving the look-ahead chain.
//!
//! `cargo bench --bench ratchet`; compare medians within one run (ratios), not across
//! machines.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mlsframe::sframe::{
    CipherSuite, Header, RatchetBits, RatchetingSender, Receiver, ReceiverConfig, SframeError,
};
use std::hint::black_box;
use std::time::{Duration, Instant};

const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
const BASE_KEY: &[u8] = b"benchmark base key 0123456789abc";
const GENERATION: u64 = 3;
const PAYLOAD_LEN: usize = 100;

fn bits() -> RatchetBits {
    RatchetBits::new(8).expect("8 is a valid R")
}

fn receiver() -> Receiver {
    let mut r = Receiver::with_config(ReceiverConfig {
        ratchet: Some(bits()),
        ..Default::default()
    });
    r.add_key(SUITE, GENERATION, BASE_KEY).expect("installs");
    r
}

/// A frame whose KID names step +255 of the generation, with a tag no key produced.
fn forged_frame() -> Vec<u8> {
    let kid = bits().kid(GENERATION, 255).expect("fits");
    let header = Header::new(kid, 42);
    let mut frame = vec![0u8; header.encoded_len() + PAYLOAD_LEN + SUITE.tag_len()];
    header.encode(&mut frame).expect("room for the header");
    frame
}

fn ratchet(c: &mut Criterion) {
    let mut group = c.benchmark_group("ratchet");
    let mut out = vec![0u8; PAYLOAD_LEN + 64];

    // The replay window refuses a frame seen before, so each timed call opens a fresh
    // frame; a new receiver (set up outside the timing) starts each pass over them.
    let sender = RatchetingSender::new(SUITE, GENERATION, BASE_KEY, bits()).expect("sender");
    let payload = [7u8; PAYLOAD_LEN];
    let frames: Vec<Vec<u8>> = (0..4096)
        .map(|_| {
            sender
                .send_key()
                .encrypt_to_vec(b"", &payload)
                .expect("seals")
        })
        .collect();
    group.bench_function("normal_frame", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let receiver = receiver();
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

    let forged = forged_frame();
    let target = receiver();
    group.bench_function("forged_step_255", |b| {
        b.iter(|| {
            let refused = target.decrypt(b"", black_box(&forged), &mut out);
            assert_eq!(refused, Err(SframeError::AuthenticationFailed));
        })
    });

    group.bench_function("forged_step_255_first", |b| {
        b.iter_batched(
            receiver,
            |fresh| {
                let refused = fresh.decrypt(b"", black_box(&forged), &mut out);
                assert_eq!(refused, Err(SframeError::AuthenticationFailed));
                fresh
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, ratchet);
criterion_main!(benches);
