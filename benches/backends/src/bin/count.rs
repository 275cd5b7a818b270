//! Two ways to compare the cases when a criterion run is not possible or not trusted:
//!
//! - `count CASE ITERS`: runs one case `ITERS` times, for instruction counts under
//!   callgrind. (difference of the totals for ITERS = 1000 and 0) / 1000 = instructions
//!   per frame. Note that valgrind hides SHA-NI, VAES and AVX-512 from the program, so
//!   backends then run other code paths than on the real machine.
//! - `count time [FILTER]`: thread CPU time per call (`CLOCK_THREAD_CPUTIME_ID`, so time
//!   the thread spent waiting for a core on a loaded machine is not counted),
//!   over 15 rounds that interleave the cases; prints the minimum and median per case.
//! - `count list`: the case names.

use std::time::Duration;

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut cases = mlsframe_backends::cases();
    match args.get(1).map(String::as_str) {
        Some("list") => {
            for c in &cases {
                println!("{}", c.name);
            }
        }
        Some("time") => {
            let filter = args.get(2).cloned().unwrap_or_default();
            cases.retain(|c| c.name.contains(&filter));
            // Calibrate each case to batches of about 5 ms of CPU.
            let mut batch = Vec::new();
            for c in &mut cases {
                let mut n = 1u64;
                loop {
                    let start = thread_cpu_ns();
                    for _ in 0..n {
                        (c.run)();
                    }
                    if thread_cpu_ns() - start > 2_000_000 {
                        break;
                    }
                    n *= 2;
                }
                batch.push(n * 2);
            }
            let mut samples = vec![Vec::new(); cases.len()];
            for _ in 0..15 {
                for (i, c) in cases.iter_mut().enumerate() {
                    let start = thread_cpu_ns();
                    for _ in 0..batch[i] {
                        (c.run)();
                    }
                    samples[i].push((thread_cpu_ns() - start) as f64 / batch[i] as f64);
                }
            }
            for (c, s) in cases.iter().zip(&mut samples) {
                s.sort_by(f64::total_cmp);
                println!(
                    "{:<58} min {:>10.1?}  median {:>10.1?}",
                    c.name,
                    Duration::from_secs_f64(s[0] / 1e9),
                    Duration::from_secs_f64(s[s.len() / 2] / 1e9)
                );
            }
        }
        Some(name) => {
            let iters: u64 = args.get(2).expect("iterations").parse().expect("a number");
            let case = cases
                .iter_mut()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no case {name}"));
            // One warm-up call (CPU feature detection, lazy tables), then the counted ones.
            (case.run)();
            for _ in 0..iters {
                (case.run)();
            }
        }
        None => eprintln!("usage: count list | count time [FILTER] | count CASE ITERS"),
    }
}
