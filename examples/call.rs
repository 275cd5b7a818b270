//! A multi-party call with end-to-end encrypted media, simulated in memory: what mlsframe
//! does, in a few seconds.
//!
//! Four participants (by default) each send real Opus audio and VP8 video (the files in
//! `examples/media/`) through an SFU that only ever sees ciphertext. MLS messages travel
//! through a delivery service, slower than media. Mid-call two members' key updates race,
//! one member leaves and one joins; the network drops, duplicates and reorders frames.
//! Every run checks that receivers open exactly what was sent, that the leaver and the
//! joiner open nothing they should not, and that every member shows the same security
//! code in each epoch. It exits non-zero if any check fails.
//!
//! ```sh
//! cargo run --release --example call
//! cargo run --release --example call -- --participants 6 --loss 3 --seed 7 --suite 1
//! cargo run --release --example call -- --dump-dir /tmp/call   # IVF files for a decoder
//! cargo run --release --example call -- --codec-aware   # clear VP8/Opus headers, SFU gate
//! ```
//!
//! This file owns the command line and the printed report; `call/sim.rs` owns the
//! simulation and the checks; `call/media.rs` owns reading the sample media.

#[path = "call/media.rs"]
mod media;
#[path = "call/sim.rs"]
mod sim;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sim::{Config, Report, Track, TrackStats};

const USAGE: &str = "\
usage: cargo run --release --example call -- [options]

  --participants N   participants at the start, 3..=64 (default 4); one more joins
  --duration SECS    simulated call length, 3..=600 (default 10)
  --suite ID         SFrame cipher suite 1..=5 (default 4, AES-128-GCM)
  --loss PCT         media frames the network drops, percent (default 1)
  --seed N           seed of the network and the race (default 1)
  --late-grace-ms MS how long a sender's older-epoch frames that were merely late still
                     open after its first newer-epoch frame on that stream, 0..=1000
                     (default 100)
  --dump-dir DIR     write alice's video as each receiver reassembled it (IVF), and as
                     the SFU forwarded it (sealed), for a decoder to check
  --codec-aware      seal VP8 and Opus with codec-aware framing (docs/FRAMING.md): codec
                     headers stay clear and authenticated, and the SFU starts each new
                     video stream at a key frame it reads from the sealed frame
  --quiet            no progress line
  -h, --help         this text";

fn parse_args() -> Result<Option<Config>, String> {
    let mut config = Config {
        progress: true,
        ..Config::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        if flag == "--quiet" {
            config.progress = false;
            continue;
        }
        if flag == "--codec-aware" {
            config.codec_aware = true;
            continue;
        }
        const WITH_VALUE: [&str; 7] = [
            "--late-grace-ms",
            "--participants",
            "--duration",
            "--suite",
            "--loss",
            "--seed",
            "--dump-dir",
        ];
        if !WITH_VALUE.contains(&flag.as_str()) {
            return Err(format!("unknown flag {flag}"));
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--participants" => config.participants = value.parse().map_err(|e| bad(&e))?,
            "--duration" => {
                let secs: f64 = value.parse().map_err(|e| bad(&e))?;
                config.duration = Duration::try_from_secs_f64(secs).map_err(|e| bad(&e))?;
            }
            "--suite" => config.suite = value.parse().map_err(|e| bad(&e))?,
            "--loss" => config.loss_pct = value.parse().map_err(|e| bad(&e))?,
            "--seed" => config.seed = value.parse().map_err(|e| bad(&e))?,
            "--late-grace-ms" => {
                let ms: u64 = value.parse().map_err(|e| bad(&e))?;
                config.late_frame_grace = Duration::from_millis(ms);
            }
            "--dump-dir" => config.dump_dir = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    config.validate()?;
    Ok(Some(config))
}

fn suite_name(id: u16) -> &'static str {
    match id {
        1 => "AES_128_CTR_HMAC_SHA256_80",
        2 => "AES_128_CTR_HMAC_SHA256_64",
        3 => "AES_128_CTR_HMAC_SHA256_32",
        4 => "AES_128_GCM_SHA256_128",
        5 => "AES_256_GCM_SHA512_128",
        _ => "?",
    }
}

fn ms(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v} ms"))
}

fn secs(ms: u64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

/// Mean and 99th percentile of nanosecond samples, in microseconds.
fn timing(samples: &[u64]) -> String {
    if samples.is_empty() {
        return "-".into();
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let mean = sorted.iter().sum::<u64>() as f64 / sorted.len() as f64 / 1000.0;
    let p99 = sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)] as f64 / 1000.0;
    format!("{mean:6.2} / {p99:6.2}")
}

fn print_report(r: &Report) {
    let c = &r.config;
    println!();
    println!(
        "mlsframe call: {} participants (+1 joining), {:.1} s simulated, SFrame suite {} ({}), \
         loss {}%, seed {}",
        c.participants,
        c.duration.as_secs_f64(),
        c.suite,
        suite_name(c.suite),
        c.loss_pct,
        c.seed
    );
    println!(
        "media: examples/media/video.ivf (VP8 640x360 30 fps) and audio.opus (Opus, 20 ms \
         packets), {} KiB bundled",
        media::SampleMedia::bundled_bytes() / 1024
    );
    println!(
        "framing: {}",
        if c.codec_aware {
            "codec-aware (--codec-aware): VP8 frame tag and key-frame header, Opus TOC byte \
             clear and authenticated; the rest SFrame-sealed"
        } else {
            "whole-frame SFrame (RFC 9605): every byte of every frame sealed"
        }
    );

    println!("\nTimeline (simulated time; MLS messages take 50-150 ms each way)");
    for (t, text) in &r.timeline {
        println!("  {:>9}  {text}", secs(*t));
    }

    println!("\nEpochs and security codes (members compare the code out of band)");
    println!(
        "  {:<5} {:<32} {:<34} {:<35} agree",
        "epoch", "made by", "members", "security code"
    );
    for e in &r.epochs {
        let codes: Vec<&str> = e.codes.iter().map(|(_, code)| code.as_str()).collect();
        let first = codes.first().copied().unwrap_or("-");
        println!(
            "  {:<5} {:<32} {:<34} {:<35} {}",
            e.epoch,
            truncate(&e.cause, 32),
            truncate(&e.members.join(" "), 34),
            first,
            if e.agreed() {
                format!("{}/{} yes", e.codes.len(), e.members.len())
            } else {
                format!("{}/{} NO", e.codes.len(), e.members.len())
            }
        );
        if !e.agreed() {
            for (name, code) in &e.codes {
                println!("        {name:<10} {code}");
            }
        }
    }

    println!("\nMedia (pairs = frame x receiver that was a member of the frame's epoch)");
    println!(
        "  {:<6} {:>7} {:>7} {:>7} {:>11} {:>8} {:>11} {:>10} {:>8} {:>7}",
        "track",
        "sealed",
        "pairs",
        "opened",
        "after wait",
        "NO_KEY",
        "dup refused",
        "superseded",
        "net loss",
        "FAILED"
    );
    for t in Track::ALL {
        let s: &TrackStats = &r.tracks[t.index()];
        println!(
            "  {:<6} {:>7} {:>7} {:>7} {:>11} {:>8} {:>11} {:>10} {:>8} {:>7}",
            t.name(),
            s.sealed,
            s.deliveries,
            s.opened,
            s.opened_after_wait,
            s.no_key_waits,
            s.replays_refused,
            s.superseded,
            s.lost_in_network,
            s.failed
        );
    }
    println!(
        "  NO_KEY = frame of an epoch whose commit had not reached the receiver yet: held, \
         opened once it did ('after wait')."
    );

    println!("\nTime per frame (wall clock on this machine, microseconds, mean / p99)");
    println!(
        "  {:<6} {:>10} {:>17} {:>17} {:>10}",
        "track", "avg bytes", "encrypt", "decrypt", "overhead"
    );
    for t in Track::ALL {
        let s = &r.tracks[t.index()];
        let avg = s.plaintext_bytes.checked_div(s.sealed).unwrap_or(0);
        let overhead = (s.ciphertext_bytes - s.plaintext_bytes)
            .checked_div(s.sealed)
            .unwrap_or(0);
        println!(
            "  {:<6} {:>10} {:>17} {:>17} {:>8} B",
            t.name(),
            avg,
            timing(&s.encrypt_ns),
            timing(&s.decrypt_ns),
            overhead
        );
    }

    println!("\nMembership changes (simulated latency from the commit being made)");
    println!(
        "  {:<5} {:<36} {:>10} {:>13} {:>16}",
        "epoch", "commit", "sequenced", "all merged", "senders switched"
    );
    for k in &r.rekeys {
        println!(
            "  {:<5} {:<36} {:>10} {:>13} {:>16}",
            k.epoch,
            truncate(&k.cause, 36),
            ms(k.sequenced_ms),
            ms(k.all_merged_ms),
            ms(k.senders_switched_ms)
        );
    }
    let j = &r.joiner;
    println!(
        "  join of {}: welcome processed {} after dialling in; hears everyone after {}; \
         heard by everyone after {}",
        j.name,
        ms(j.welcome_ms),
        ms(j.hears_all_ms),
        ms(j.heard_by_all_ms)
    );
    println!(
        "  {} key-frame requests raised on epoch switches (a real encoder would send a key \
         frame)",
        r.key_frame_requests
    );

    let l = &r.leaver;
    println!("\nWho could read what");
    println!(
        "  {} left (removed in epoch {}); the SFU kept forwarding to it: {} frames sealed \
         after their sender merged the removal reached it, {} opened",
        l.name,
        l.removed_in.map_or("-".into(), |e| e.to_string()),
        l.later_received,
        l.later_opened
    );
    println!(
        "  {} joined in epoch {}: {} frames sealed before its join reached it, {} opened",
        j.name,
        j.epoch.map_or("-".into(), |e| e.to_string()),
        j.earlier_received,
        j.earlier_opened
    );
    println!(
        "  the SFU: {} frames in, {} copies out, {:.1} MiB, {} distinct KIDs seen; it read \
         SFrame headers{} only and held no key",
        r.sfu.frames_in,
        r.sfu.copies_out,
        r.sfu.bytes_in as f64 / (1024.0 * 1024.0),
        r.sfu.distinct_kids,
        if c.codec_aware {
            " and the clear codec headers"
        } else {
            ""
        }
    );
    let s = &r.sfu;
    if c.codec_aware {
        println!(
            "  the SFU read the clear VP8 key-frame bit of {} video frames ({} misread) and \
             started every new video stream at a key frame: {} delta frames ({:.1} KiB) held \
             back, {} forwarded before a key frame",
            s.key_bits_read,
            s.key_bit_mismatches,
            s.held_back,
            s.held_back_bytes as f64 / 1024.0,
            s.undecodable_forwarded
        );
    } else {
        println!(
            "  whole-frame mode: the VP8 frame tag is ciphertext, so the SFU cannot tell key \
             frames: it forwarded {} video frames ({:.1} KiB) to receivers before their first \
             key frame of that sender, useless to a decoder (--codec-aware lets it wait for one)",
            s.undecodable_forwarded,
            s.undecodable_bytes as f64 / 1024.0
        );
    }
    if let Some(d) = &r.dump {
        println!(
            "dumps: {}'s video ({} frames): {} (sealed)",
            d.sender,
            d.sent,
            d.ciphertext.display()
        );
        for (name, path, frames) in &d.receivers {
            println!("  {name:<8} {frames:>5} frames  {}", path.display());
        }
    }

    println!("\nChecks");
    for check in &r.checks {
        println!(
            "  [{}] {}: {}",
            if check.passed { " ok " } else { "FAIL" },
            check.name,
            check.detail
        );
    }
    for p in &r.problems {
        println!("  error: {p}");
    }
    for f in &r.failures {
        println!("  failed: {f}");
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('~');
        t
    }
}

fn main() -> ExitCode {
    let config = match parse_args() {
        Ok(Some(c)) => c,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let report = match sim::run(&config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: the call could not be set up: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_report(&report);
    let verdict = if report.passed() {
        "all checks passed"
    } else {
        "CHECKS FAILED"
    };
    println!(
        "\n{verdict}; {:.1} s simulated in {:.2} s of wall time",
        report.simulated_ms as f64 / 1000.0,
        started.elapsed().as_secs_f64()
    );
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
