//! MLS group operations through mlsframe's [`Session`] next to the same operations written
//! directly against openmls 0.9 with `openmls_rust_crypto`, at 10, 100 and 1,000 members,
//! in one run:
//!
//! - `create_add`: create a group and add `N - 1` members in one commit (key packages
//!   parsed and validated, commit and welcome serialized, the commit merged).
//! - `join`: a new member joins from the welcome of an `N`-member group (ratchet tree in
//!   the welcome).
//! - `process_commit`: a member processes another's self-update commit (`N` members).
//! - `remove`: a member commits the removal of one member and merges it (`N` members).
//!
//! Both sides use the same MLS suite (X25519, AES-128-GCM, Ed25519), encrypted handshake
//! messages and the ratchet-tree extension, and go through the wire encoding. mlsframe
//! adds its own checks (limits, duplicate identities, the admission policy), its epoch
//! bookkeeping for the media keys, and its serde-JSON key store; openmls here uses
//! `openmls_memory_storage`.
//!
//! Key packages, groups and commits that an operation needs are made outside the timing;
//! each timed call is one operation. The 1,000-member cases take about a second per call,
//! so every case runs 10 samples of one call (`iter_custom`). `cargo bench --bench mls_ops`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};

#[path = "common/stacks.rs"]
mod stacks;
use stacks::{Fixture, Mlsframe, Openmls, Stack, key_packages};

/// One operation at `n` members, with what it needs kept between criterion's calls (the
/// 1,000-member groups take seconds to set up).
struct Runner<S: Stack> {
    op: &'static str,
    n: usize,
    key_packages: Vec<Vec<u8>>,
    fixture: Option<Fixture<S>>,
    /// `join`: the next joiner; `remove`: the next leaf.
    next: usize,
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

impl<S: Stack> Runner<S> {
    fn new(op: &'static str, n: usize) -> Runner<S> {
        Runner {
            op,
            n,
            key_packages: Vec::new(),
            fixture: None,
            next: 0,
        }
    }

    /// Times `iters` calls.
    fn run(&mut self, iters: u64) -> Duration {
        let n = self.n;
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            total += match self.op {
                "create_add" => {
                    if self.key_packages.is_empty() {
                        self.key_packages = key_packages::<S>("member", n - 1);
                    }
                    let mut creator = S::member("creator");
                    let kps = &self.key_packages;
                    time(|| {
                        std::hint::black_box(S::create_add(&mut creator, kps));
                    })
                }
                "join" => {
                    const JOINERS: usize = 16;
                    if self
                        .fixture
                        .as_ref()
                        .is_none_or(|f| self.next >= f.joined.len())
                    {
                        self.fixture = Some(Fixture::new(n, JOINERS, false));
                        self.next = 0;
                    }
                    let f = self.fixture.as_mut().expect("set up");
                    let (m, welcome) = (&mut f.joined[self.next], &f.welcome);
                    self.next += 1;
                    time(|| S::join(m, welcome))
                }
                "process_commit" => {
                    let f = self.fixture.get_or_insert_with(|| Fixture::new(n, 1, true));
                    let commit = S::self_update(&mut f.creator);
                    let receiver = &mut f.joined[0];
                    time(|| S::process(receiver, &commit))
                }
                "remove" => {
                    // Leaves 1.. in turn, up to half the group; then a new group.
                    if self.fixture.is_none() || self.next > n / 2 {
                        self.fixture = Some(Fixture::new(n, 0, false));
                        self.next = 1;
                    }
                    let f = self.fixture.as_mut().expect("set up");
                    let leaf = self.next as u32;
                    self.next += 1;
                    time(|| S::remove(&mut f.creator, leaf))
                }
                other => panic!("no operation {other}"),
            };
        }
        total
    }
}

fn mls_ops(c: &mut Criterion) {
    // `cargo test --all-targets` and `--test` run each once: keep that quick.
    let full = std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--test");
    // `MLSFRAME_BENCH_SMOKE` (scripts/bench.sh --smoke): no 1,000-member group.
    let smoke = std::env::var_os("MLSFRAME_BENCH_SMOKE").is_some();
    let sizes: &[usize] = match (full, smoke) {
        (true, false) => &[10, 100, 1000],
        (true, true) => &[10, 100],
        _ => &[10, 20],
    };
    for op in ["create_add", "join", "process_commit", "remove"] {
        let mut group = c.benchmark_group(format!("mls/{op}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_millis(500))
            .nresamples(10_000);
        for &n in sizes {
            let mut ours = Runner::<Mlsframe>::new(op, n);
            group.bench_function(BenchmarkId::new(Mlsframe::NAME, n), |b| {
                b.iter_custom(|iters| ours.run(iters))
            });
            drop(ours);
            let mut bare = Runner::<Openmls>::new(op, n);
            group.bench_function(BenchmarkId::new(Openmls::NAME, n), |b| {
                b.iter_custom(|iters| bare.run(iters))
            });
        }
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    mls_ops(&mut c);
    c.final_summary();
}
