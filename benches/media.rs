//! The MLS media path against the SFrame core it wraps, side by side in one run:
//!
//! - `decrypt_100B/{decryptor,receiver}/{2,100,1000}`: [`Decryptor::decrypt`] against
//!   [`Receiver::decrypt`], both opening the very same 100-byte frames (sealed by a
//!   member's encryptor; the receiver holds the epoch's key for that KID), in groups of
//!   2, 100 and 1,000 members.
//! - `encrypt_100B/{encryptor,send_key}/{2,100,1000}`: [`Encryptor::encrypt`] against
//!   [`SendKey::encrypt`] for the same KID.
//! - `first_frame`: the first frame of each of 8 senders in a fresh epoch (so the
//!   decryptor derives the sender's key and caches its stream), at 10 and 1,000 members,
//!   right after the receiver processed the commit that made the epoch, on its own
//!   thread (see [`FirstFrames`]); per frame, over whole epochs (see [`time_first_frames`]).
//! - `first_frame_paced`: the same first frames, handed to the media thread
//!   [`PACE`] after the epoch was asked for at both sizes, as frames reach a media thread
//!   on the network's schedule rather than the moment the commit is processed. Frame for
//!   frame the path is the same; only the idle time before it differs (see
//!   docs/bench/notes.md, "First frame").
//!
//! `cargo bench --bench media`; compare within one run. For instruction counts, which do
//! not depend on machine load, run one case's measured loop alone under callgrind:
//!
//! ```sh
//! MLSFRAME_BENCH_COUNT=decrypt_100B/decryptor valgrind --tool=callgrind \
//!     --toggle-collect='*measured*' --callgrind-out-file=/dev/null target/release/deps/media-*
//! ```
//!
//! and divide the collected instructions by the calls it prints. Cases: `decrypt_100B/
//! {decryptor,receiver}[/members]`, `encrypt_100B/{encryptor,send_key}[/members]` (2
//! members unless given), `first_frame/{10,1000}`.
//!
//! On a loaded machine, `MLSFRAME_BENCH_CPU=1` instead times every case by thread CPU time
//! (time spent waiting for a core is not counted), in 15 interleaved rounds, and prints
//! the minimum and median per call with the ratios the media path is held to.
//! `MLSFRAME_BENCH_EVICT=1` evicts the caches before each fresh epoch's timed first frames
//! (see [`evict_caches_if_asked`]). `MLSFRAME_BENCH_GAP_MS=N` times each fresh epoch's first
//! frames N ms after the epoch was asked for, at 10 members as at 1,000 (see
//! [`gap_if_asked`]).

use std::hint::black_box;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode};
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::{Decryptor, Encryptor, MediaConfig};
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};
use mlsframe::sframe::{CipherSuite, Receiver, SendKey};

const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
const EPOCH_BITS: u32 = 4;
const LEN: usize = 100;
/// Senders whose first frame is measured in each fresh epoch (leaves 2..2+SENDERS).
const SENDERS: u32 = 8;

fn session(name: &str) -> Session {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"bench".to_vec()).expect("id");
    let identity = Identity::generate(id).expect("identity");
    Session::new(identity, Arc::new(AdmitAll), MediaConfig::default()).expect("session")
}

/// A group of `n` members of which only two hold sessions: the creator (leaf 0), who
/// seals, and the receiver (leaf 1), who opens. Frames of the other leaves are sealed
/// with the epoch's base key, as those members would seal them.
struct Group {
    creator: Session,
    receiver: Session,
    members: u32,
}

impl Group {
    fn new(n: u32) -> Group {
        let mut creator = session("creator");
        let mut receiver = session("receiver");
        creator.create_group(GroupParams::default()).expect("group");
        let mut key_packages = vec![receiver.key_package().expect("key package")];
        for i in 2..n {
            key_packages.push(session(&format!("m{i}")).key_package().expect("kp"));
        }
        let refs: Vec<&[u8]> = key_packages.iter().map(Vec::as_slice).collect();
        let out = creator.add_members(&refs).expect("add");
        creator.confirm_own_commit().expect("confirm");
        receiver
            .join(out.welcome.as_deref().expect("welcome"))
            .expect("join");
        creator.media().receivers_ready();
        Group {
            creator,
            receiver,
            members: n,
        }
    }

    fn epoch(&self) -> u64 {
        self.creator.epoch().expect("in a group")
    }

    fn base_key(&self) -> Vec<u8> {
        let key = self
            .creator
            .export_secret("SFrame 1.0 Base Key", b"", SUITE.key_len())
            .expect("exporter");
        key.to_vec()
    }

    /// KID of `leaf`'s stream context 0 in the current epoch.
    fn kid(&self, leaf: u32) -> u64 {
        (u64::from(leaf) << EPOCH_BITS) | (self.epoch() & ((1 << EPOCH_BITS) - 1))
    }

    /// A new epoch, and the first frames of leaves 2..2+SENDERS in it. The creator
    /// self-updates, the frames are sealed, and only then does the receiver process the
    /// commit, as a device would just before those frames reach it: the work that runs
    /// right before the timed frames is the receiver's own.
    fn next_epoch(&mut self) -> Vec<Vec<u8>> {
        let update = self.creator.self_update().expect("self-update");
        self.creator.confirm_own_commit().expect("confirm");
        self.creator.media().receivers_ready();
        let frames = self.first_frames();
        self.receiver.process(&update.commit).expect("process");
        frames
    }

    /// The first frames of leaves 2..2+SENDERS in the creator's current epoch.
    fn first_frames(&self) -> Vec<Vec<u8>> {
        let base_key = self.base_key();
        (2..2 + SENDERS.min(self.members - 2))
            .map(|leaf| {
                SendKey::new(SUITE, self.kid(leaf), &base_key)
                    .encrypt_to_vec(b"", &[0x5a; LEN])
                    .expect("seals")
            })
            .collect()
    }
}

/// A group of `n` members for first-frame runs, with a decryptor of the receiver's. Its
/// MLS work runs on a thread of its own, as an app's signalling thread; frames are
/// opened on the caller's thread, as on a media thread. (With `MLSFRAME_BENCH_ONE_THREAD`
/// set, everything runs on the caller's thread: then glibc's malloc, which sorts the
/// chunks a commit freed only at the next allocation in the same arena, charges that
/// sorting, which grows with the group, to the first frame's allocations.)
struct FirstFrames {
    /// Hand each epoch's frames over no sooner than this after asking for it (or as soon
    /// as the commit is processed, if that takes longer).
    pace: Option<Duration>,
    source: Epochs,
}

/// Where fresh epochs come from: the group on this thread, or its signalling thread.
enum Epochs {
    OneThread(Box<Group>, Decryptor),
    Signalling {
        requests: Option<mpsc::Sender<()>>,
        frames: mpsc::Receiver<Vec<Vec<u8>>>,
        decryptor: Decryptor,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

impl FirstFrames {
    fn new(members: u32) -> FirstFrames {
        let source = if std::env::var_os("MLSFRAME_BENCH_ONE_THREAD").is_some() {
            let g = Group::new(members);
            let decryptor = g.receiver.media().decryptor();
            Epochs::OneThread(Box::new(g), decryptor)
        } else {
            let (requests, asked) = mpsc::channel::<()>();
            let (sealed, frames) = mpsc::channel();
            let (give, take) = mpsc::channel();
            let thread = std::thread::spawn(move || {
                let mut g = Group::new(members);
                give.send(g.receiver.media().decryptor())
                    .expect("bench thread");
                for () in asked {
                    sealed.send(g.next_epoch()).expect("bench thread");
                }
            });
            Epochs::Signalling {
                requests: Some(requests),
                frames,
                decryptor: take.recv().expect("the group is set up"),
                thread: Some(thread),
            }
        };
        FirstFrames { pace: None, source }
    }

    fn decryptor(&mut self) -> &mut Decryptor {
        match &mut self.source {
            Epochs::OneThread(_, d) | Epochs::Signalling { decryptor: d, .. } => d,
        }
    }

    /// Opens the first frames of as many fresh epochs as the receiver's key ring holds
    /// (2^E - 1 installed at most), untimed. Until the ring is full, every epoch's new
    /// streams take heap the process never used before (a page fault every epoch or two,
    /// several microseconds each on a VM); afterwards each reuses what an evicted epoch
    /// freed, as on a device whose call has seen a few commits. Without this the long
    /// cases (few epochs) would be timed mostly while the heap grows, the short ones not.
    fn fill_ring(&mut self) {
        let mut out = [0u8; LEN + 64];
        for _ in 0..1 << EPOCH_BITS {
            for frame in self.next_epoch() {
                self.decryptor()
                    .decrypt(b"", &frame, &mut out)
                    .expect("opens");
            }
        }
    }

    /// A fresh epoch (processed by the receiver) and its senders' first frames, handed
    /// over no sooner than the pace (or `MLSFRAME_BENCH_GAP_MS`) after the epoch was asked
    /// for (see [`gap_if_asked`]).
    fn next_epoch(&mut self) -> Vec<Vec<u8>> {
        let asked = Instant::now();
        let frames = match &mut self.source {
            Epochs::OneThread(g, _) => g.next_epoch(),
            Epochs::Signalling {
                requests, frames, ..
            } => {
                requests
                    .as_ref()
                    .expect("open until dropped")
                    .send(())
                    .expect("bench thread");
                frames.recv().expect("bench thread")
            }
        };
        gap_if_asked(asked, self.pace);
        frames
    }
}

impl Drop for Epochs {
    fn drop(&mut self) {
        if let Epochs::Signalling {
            requests, thread, ..
        } = self
        {
            requests.take();
            if let Some(t) = thread.take() {
                let _ = t.join();
            }
        }
    }
}

/// With `MLSFRAME_BENCH_EVICT` set, writes 64 MiB before a fresh epoch's first frames are
/// timed, so that they start as cold at 10 members as at 1,000 (the commit that makes a
/// 1,000-member epoch does far more work, and leaves the caches far colder, than a
/// 10-member one).
fn evict_caches_if_asked() {
    if std::env::var_os("MLSFRAME_BENCH_EVICT").is_none() {
        return;
    }
    let mut junk = vec![1u8; 64 << 20];
    for (i, b) in junk.iter_mut().enumerate().step_by(64) {
        *b = b.wrapping_add(i as u8);
    }
    black_box(&junk);
}

/// How long after asking for a fresh epoch `first_frame_paced` hands its frames to the
/// media thread, at both group sizes: longer than a 1,000-member commit takes here (about
/// 90 ms, up to 250 ms on a loaded machine), so the wait does not depend on the group.
const PACE: Duration = Duration::from_millis(300);

/// With a `pace` (or `MLSFRAME_BENCH_GAP_MS=N`, N ms), the measuring thread stays off the
/// CPU until then after it asked for a fresh epoch, so that its first frames follow the
/// same gap at every group size. Without either the gap is the commit's processing time
/// (about 2 ms at 10 members, about 90 ms at 1,000), and on a shared machine the first
/// frame after a longer gap finds its core's caches colder (docs/bench/notes.md, "First
/// frame").
fn gap_if_asked(asked: Instant, pace: Option<Duration>) {
    let Some(gap) = pace.or_else(|| {
        std::env::var("MLSFRAME_BENCH_GAP_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
    }) else {
        return;
    };
    if let Some(left) = gap.checked_sub(asked.elapsed()) {
        std::thread::sleep(left);
    }
}

/// Counted by callgrind with `--toggle-collect='*measured*'`.
#[inline(never)]
fn measured(f: &mut dyn FnMut()) {
    f()
}

/// Frames sealed in order by one encryptor: each is new to the receiving side.
fn sealed_frames(encryptor: &mut Encryptor, count: usize) -> Vec<Vec<u8>> {
    let mut out = vec![0u8; LEN + 64];
    (0..count)
        .map(|_| {
            let n = encryptor
                .encrypt(b"", &[0x11; LEN], &mut out)
                .expect("seals");
            out[..n].to_vec()
        })
        .collect()
}

/// Opens `frames[..]` in order with `open`; new frames are sealed (outside the timing)
/// whenever they run out, and a fresh `open` starts each pass.
fn time_opens(
    iters: u64,
    mut refill: impl FnMut() -> Vec<Vec<u8>>,
    mut open: impl FnMut(&[u8], &mut [u8]),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    let mut out = vec![0u8; LEN + 64];
    while done < iters {
        let frames = refill();
        let n = (iters - done).min(frames.len() as u64) as usize;
        let start = Instant::now();
        for frame in &frames[..n] {
            open(frame, &mut out);
        }
        total += start.elapsed();
        done += n as u64;
    }
    total
}

struct Setup {
    group: Group,
    encryptor: Encryptor,
    decryptor: Decryptor,
    receiver: Receiver,
    send_key: SendKey,
}

fn setup(members: u32) -> Setup {
    let group = Group::new(members);
    let encryptor = group.creator.media().encryptor(0).expect("encryptor");
    let decryptor = group.receiver.media().decryptor();
    let base_key = group.base_key();
    let kid = group.kid(0);
    let mut receiver = Receiver::new();
    receiver.add_key(SUITE, kid, &base_key).expect("key");
    let send_key = SendKey::new(SUITE, kid, &base_key);
    Setup {
        group,
        encryptor,
        decryptor,
        receiver,
        send_key,
    }
}

/// Group sizes of the steady-state cases (smaller when run as a smoke test).
fn steady_sizes() -> [u32; 3] {
    if full_run() {
        [2, 100, 1000]
    } else {
        [2, 10, 20]
    }
}

/// `cargo bench` (not `--test`, not `cargo test`).
fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--test")
}

fn steady_state(c: &mut Criterion) {
    for members in steady_sizes() {
        steady_state_at(c, members);
    }
}

/// Short warm-up and measurement for the steady-state groups (the suite runs in minutes).
/// With `MLSFRAME_BENCH_SMOKE` set, a few milliseconds each (`scripts/bench.sh --smoke`).
fn short(group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    let smoke = std::env::var_os("MLSFRAME_BENCH_SMOKE").is_some();
    let (warm_up, measure) = if smoke { (10, 30) } else { (300, 1000) };
    group
        .warm_up_time(Duration::from_millis(warm_up))
        .measurement_time(Duration::from_millis(measure))
        .sample_size(if smoke { 10 } else { 30 })
        .nresamples(10_000);
}

fn steady_state_at(c: &mut Criterion, members: u32) {
    let mut s = setup(members);
    // The decryptor's first frame caches its stream; from then on every frame is a hit.
    let warm = sealed_frames(&mut s.encryptor, 1);
    s.decryptor
        .decrypt(b"", &warm[0], &mut [0u8; LEN + 64])
        .expect("opens");

    let mut group = c.benchmark_group("decrypt_100B");
    short(&mut group);
    group.bench_function(BenchmarkId::new("decryptor", members), |b| {
        b.iter_custom(|iters| {
            time_opens(
                iters,
                || sealed_frames(&mut s.encryptor, 4096),
                |f: &[u8], out: &mut [u8]| {
                    black_box(s.decryptor.decrypt(b"", f, out).expect("opens").len);
                },
            )
        })
    });
    group.bench_function(BenchmarkId::new("receiver", members), |b| {
        b.iter_custom(|iters| {
            time_opens(
                iters,
                || sealed_frames(&mut s.encryptor, 4096),
                |f: &[u8], out: &mut [u8]| {
                    black_box(s.receiver.decrypt(b"", f, out).expect("opens").len);
                },
            )
        })
    });
    group.finish();

    // Input at 0, output 2 KiB past a 4 KiB boundary (no 4K aliasing in either).
    let mut mem = vec![0x22u8; 4096 + 2048 + LEN + 64];
    let (input, output) = mem.split_at_mut(4096 + 2048);
    let input = &input[..LEN];
    let mut group = c.benchmark_group("encrypt_100B");
    short(&mut group);
    group.bench_function(BenchmarkId::new("encryptor", members), |b| {
        b.iter(|| black_box(s.encryptor.encrypt(b"", input, output).expect("seals")))
    });
    group.bench_function(BenchmarkId::new("send_key", members), |b| {
        b.iter(|| black_box(s.send_key.encrypt(b"", input, output).expect("seals")))
    });
    group.finish();
    drop(s.group);
}

fn first_frame(c: &mut Criterion) {
    // Criterion sizes runs by each call's wall time (`iter_custom` included), epochs and
    // all: a fresh epoch takes about 2 ms at 10 members and 90 ms at 1,000, so it asks for
    // only a few frames per sample, often one. Every sample times whole epochs (all 8
    // senders' first frames, see `time_first_frames`); flat sampling gives each the same
    // number of frames.
    let smoke = std::env::var_os("MLSFRAME_BENCH_SMOKE").is_some();
    let (samples, measure) = if smoke { (10, 30) } else { (30, 3000) };
    // `cargo test --all-targets` runs this once, unoptimized, as a smoke test: a smaller
    // large group and a short pace there keep it quick.
    let large = if full_run() { 1000 } else { 50 };
    let pace = if full_run() && !smoke {
        PACE
    } else {
        Duration::from_millis(5)
    };
    // Right after the commit, then the same frames at the network's pace. Filling the
    // ring unpaced is enough: only the timed epochs need the equal gap.
    for (name, pace) in [("first_frame", None), ("first_frame_paced", Some(pace))] {
        let mut group = c.benchmark_group(name);
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(samples)
            .warm_up_time(Duration::from_millis(1))
            .measurement_time(Duration::from_millis(measure));
        for members in [10u32, large] {
            let mut g = FirstFrames::new(members);
            g.fill_ring();
            g.pace = pace;
            group.bench_function(BenchmarkId::from_parameter(members), |b| {
                b.iter_custom(|iters| time_first_frames(&mut g, iters))
            });
        }
        group.finish();
    }
}

/// The time `iters` first frames take, measured on whole epochs: each fresh epoch's frames
/// of all its senders are timed, and the total is scaled to `iters` frames. Timing only
/// the first `iters` frames of an epoch (criterion often asks for one) would time only
/// its first sender's frame, the one that meets the core coldest after the commit.
fn time_first_frames(g: &mut FirstFrames, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut timed = 0u64;
    let mut out = [0u8; LEN + 64];
    while timed < iters {
        let frames = g.next_epoch();
        evict_caches_if_asked();
        let start = Instant::now();
        for frame in &frames {
            black_box(
                g.decryptor()
                    .decrypt(b"", frame, &mut out)
                    .expect("opens")
                    .len,
            );
        }
        total += start.elapsed();
        timed += frames.len() as u64;
    }
    let scaled = total.as_nanos() * u128::from(iters) / u128::from(timed);
    Duration::from_nanos(u64::try_from(scaled).unwrap_or(u64::MAX))
}

/// The group size a counted case names (`decrypt_100B/decryptor/1000`), 2 by default.
fn members_of(case: &str) -> u32 {
    case.rsplit_once('/')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(2)
}

/// One case's measured loop alone, for callgrind (see the module docs).
fn count(case: &str) {
    let mut calls = 0u64;
    let base = case
        .rsplit_once('/')
        .filter(|(_, n)| n.parse::<u32>().is_ok());
    let kind = match base {
        Some((kind, _)) if !kind.starts_with("first_frame") => kind,
        _ => case,
    };
    match kind {
        "decrypt_100B/decryptor" | "decrypt_100B/receiver" => {
            let mut s = setup(members_of(case));
            let frames = sealed_frames(&mut s.encryptor, 1001);
            let mut out = [0u8; LEN + 64];
            let by_decryptor = kind.ends_with("decryptor");
            let mut open = |f: &[u8], out: &mut [u8]| {
                if by_decryptor {
                    black_box(s.decryptor.decrypt(b"", f, out).expect("opens").len);
                } else {
                    black_box(s.receiver.decrypt(b"", f, out).expect("opens").len);
                }
            };
            // The first frame (the decryptor caches its stream) is not counted.
            open(&frames[0], &mut out);
            for frame in &frames[1..] {
                measured(&mut || open(frame, &mut out));
                calls += 1;
            }
        }
        "encrypt_100B/encryptor" | "encrypt_100B/send_key" => {
            let mut s = setup(members_of(case));
            let mut out = [0u8; LEN + 64];
            let by_encryptor = kind.ends_with("encryptor");
            let mut seal = |out: &mut [u8]| {
                if by_encryptor {
                    black_box(s.encryptor.encrypt(b"", &[0x11; LEN], out).expect("seals"));
                } else {
                    black_box(s.send_key.encrypt(b"", &[0x11; LEN], out).expect("seals"));
                }
            };
            seal(&mut out);
            for _ in 0..1000 {
                measured(&mut || seal(&mut out));
                calls += 1;
            }
        }
        "first_frame/10" | "first_frame/1000" => {
            let members = if case.ends_with("1000") { 1000 } else { 10 };
            let mut g = FirstFrames::new(members);
            let mut out = [0u8; LEN + 64];
            for _ in 0..3 {
                for frame in g.next_epoch() {
                    let decryptor = g.decryptor();
                    measured(&mut || {
                        black_box(decryptor.decrypt(b"", &frame, &mut out).expect("opens").len);
                    });
                    calls += 1;
                }
            }
        }
        other => panic!("no case {other}"),
    }
    println!("{case}: {calls} calls measured");
}

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and the clock id a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Thread CPU time per call of each case, interleaved over 15 rounds: (name, min, median).
fn cpu_times() -> Vec<(String, f64, f64)> {
    const ROUNDS: usize = 15;
    const BATCH: usize = 20_000;
    let mut s = setup(2);
    let mut out = [0u8; LEN + 64];
    let mut samples: Vec<(String, Vec<f64>)> = [
        "decrypt_100B/decryptor",
        "decrypt_100B/receiver",
        "encrypt_100B/encryptor",
        "encrypt_100B/send_key",
        "first_frame/10",
        "first_frame/1000",
    ]
    .iter()
    .map(|n| (n.to_string(), Vec::new()))
    .collect();
    let mut groups = [FirstFrames::new(10), FirstFrames::new(1000)];
    for g in &mut groups {
        g.fill_ring();
    }
    let warm = sealed_frames(&mut s.encryptor, 1);
    s.decryptor.decrypt(b"", &warm[0], &mut out).expect("opens");
    for _ in 0..ROUNDS {
        for (by_decryptor, i) in [(true, 0), (false, 1)] {
            let frames = sealed_frames(&mut s.encryptor, BATCH);
            let start = thread_cpu_ns();
            for f in &frames {
                if by_decryptor {
                    black_box(s.decryptor.decrypt(b"", f, &mut out).expect("opens").len);
                } else {
                    black_box(s.receiver.decrypt(b"", f, &mut out).expect("opens").len);
                }
            }
            samples[i]
                .1
                .push((thread_cpu_ns() - start) as f64 / BATCH as f64);
        }
        for (by_encryptor, i) in [(true, 2), (false, 3)] {
            let start = thread_cpu_ns();
            for _ in 0..BATCH {
                if by_encryptor {
                    black_box(
                        s.encryptor
                            .encrypt(b"", &[0x11; LEN], &mut out)
                            .expect("seals"),
                    );
                } else {
                    black_box(
                        s.send_key
                            .encrypt(b"", &[0x11; LEN], &mut out)
                            .expect("seals"),
                    );
                }
            }
            samples[i]
                .1
                .push((thread_cpu_ns() - start) as f64 / BATCH as f64);
        }
        // First frames: 8 senders in each of 4 fresh epochs per round.
        for (g, i) in [(0usize, 4usize), (1, 5)] {
            let mut total = 0u64;
            let mut calls = 0u64;
            for _ in 0..4 {
                let frames = groups[g].next_epoch();
                evict_caches_if_asked();
                let start = thread_cpu_ns();
                for f in &frames {
                    black_box(
                        groups[g]
                            .decryptor()
                            .decrypt(b"", f, &mut out)
                            .expect("opens")
                            .len,
                    );
                }
                total += thread_cpu_ns() - start;
                calls += frames.len() as u64;
            }
            samples[i].1.push(total as f64 / calls as f64);
        }
    }
    samples
        .into_iter()
        .map(|(name, mut v)| {
            v.sort_by(f64::total_cmp);
            (name, v[0], v[v.len() / 2])
        })
        .collect()
}

fn main() {
    if std::env::var("MLSFRAME_BENCH_CPU").is_ok() {
        let t = cpu_times();
        for (name, min, median) in &t {
            println!("{name:<24} min {min:>8.1} ns  median {median:>8.1} ns");
        }
        let ratio = |a: usize, b: usize| (t[a].1 / t[b].1, t[a].2 / t[b].2);
        for (what, (a, b)) in [
            ("Decryptor / Receiver", (0, 1)),
            ("Encryptor / SendKey", (2, 3)),
            ("first frame 1000 / 10", (5, 4)),
        ] {
            let (min, median) = ratio(a, b);
            println!("{what:<24} {min:.3} (min)  {median:.3} (median)");
        }
        return;
    }
    if let Ok(case) = std::env::var("MLSFRAME_BENCH_COUNT") {
        count(&case);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    steady_state(&mut c);
    first_frame(&mut c);
    c.final_summary();
}
