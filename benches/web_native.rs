//! The native side of the web build's cost comparison: the same calls the browser worker
//! times in `bindings/web/test/frame-cost.mjs` (a two-member group's MLS-keyed
//! [`Encryptor::encrypt`] and [`Decryptor::decrypt`], whole-frame framing, AES-128-GCM),
//! at 1 KiB and 10 KiB, so BENCHMARKS.md can give worker ÷ native.
//!
//! `cargo bench --bench web_native` measures the default backend (aws-lc-rs);
//! `cargo bench --bench web_native --no-default-features` measures RustCrypto, the same
//! code the wasm build runs (there without AES-NI or carry-less multiply).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};

fn session(name: &str) -> Session {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"bench".to_vec()).expect("id");
    Session::new(
        Identity::generate(id).expect("identity"),
        Arc::new(AdmitAll),
        MediaConfig::default(),
    )
    .expect("session")
}

fn web_native(c: &mut Criterion) {
    let (mut alice, mut bob) = (session("alice"), session("bob"));
    alice.create_group(GroupParams::default()).expect("group");
    let kp = bob.key_package().expect("key package");
    let add = alice.add_members(&[&kp]).expect("add");
    alice.confirm_own_commit().expect("confirm");
    bob.join(add.welcome.as_deref().expect("welcome"))
        .expect("join");
    let mut enc = alice.media().encryptor(1).expect("encryptor");
    let mut dec = bob.media().decryptor();
    let backend = mlsframe::sframe::AEAD_BACKEND;

    let mut group = c.benchmark_group(format!("web_native_{backend}"));
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for len in [1024usize, 10240] {
        let frame: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
        let mut sealed = vec![0u8; enc.max_ciphertext_len(len).expect("size")];
        let mut plain = vec![0u8; len + 64];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new("seal", len), |b| {
            b.iter(|| {
                enc.encrypt(b"", black_box(&frame), &mut sealed)
                    .expect("seal")
            })
        });
        // Each open needs a fresh counter (the replay window refuses a repeat): seal a
        // batch, then time opening it.
        group.bench_function(BenchmarkId::new("open", len), |b| {
            b.iter_custom(|iters| {
                let frames: Vec<Vec<u8>> = (0..iters)
                    .map(|_| {
                        let n = enc.encrypt(b"", &frame, &mut sealed).expect("seal");
                        sealed[..n].to_vec()
                    })
                    .collect();
                let start = std::time::Instant::now();
                for f in &frames {
                    black_box(dec.decrypt(b"", f, &mut plain).expect("open"));
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, web_native);
criterion_main!(benches);
