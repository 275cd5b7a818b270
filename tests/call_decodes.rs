//! The call demo, closed with a real decoder: runs the simulation of
//! `examples/call.rs` in-process, then has `ffmpeg` decode the VP8 stream each receiver
//! reassembled from what it opened, and compares every decoded frame's MD5 with the
//! original file's. The ciphertext the SFU forwarded, in the same IVF framing, must not
//! decode to any of those frames.
//!
//! Needs `ffmpeg` on PATH (CI installs it); without it the decoder test fails when `CI`
//! is set, and elsewhere prints why it is skipped and passes. The other tests here need no decoder.

#[allow(dead_code)] // the example uses parts of the shared modules this test does not
#[path = "../examples/call/media.rs"]
mod media;
#[allow(dead_code)]
#[path = "../examples/call/sim.rs"]
mod sim;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sim::{Config, Report, Track};

const ORIGINAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/media/video.ivf");

fn ffmpeg_on_path() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Decodes `path` with ffmpeg; returns whether ffmpeg succeeded and the MD5 of every
/// decoded frame, in order.
fn framemd5(path: &Path) -> (bool, Vec<String>) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg runs");
    let md5s = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit(',').next().map(|m| m.trim().to_string()))
        .collect();
    (out.status.success(), md5s)
}

fn run(config: Config) -> Report {
    let report = sim::run(&config).expect("the call sets up");
    assert!(
        report.passed(),
        "checks failed: {:#?}\nproblems: {:#?}",
        report.checks,
        report.problems
    );
    report
}

fn dump_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn receivers_reassembled_video_decodes_to_the_original_frames() {
    if !ffmpeg_on_path() {
        // In CI a missing decoder is a failure, never a silent skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "`ffmpeg` is not on PATH but CI is set: .ci/run must install it \
             (apt-get install -y --no-install-recommends ffmpeg)"
        );
        println!(
            "SKIPPED receivers_reassembled_video_decodes_to_the_original_frames: `ffmpeg` is \
             not on PATH (install it: apt-get install -y --no-install-recommends ffmpeg)"
        );
        return;
    }
    let dir = dump_dir("call_decodes");
    let report = run(Config {
        participants: 4,
        duration: Duration::from_secs(4),
        loss_pct: 0.0,
        seed: 7,
        dump_dir: Some(dir.clone()),
        ..Config::default()
    });
    let video = &report.tracks[Track::Video.index()];
    assert_eq!(video.lost_in_network, 0);
    assert_eq!(
        video.opened, video.deliveries,
        "without loss every frame opens"
    );
    let dump = report.dump.as_ref().expect("dumps written");
    assert_eq!(dump.sender, "alice");
    assert_eq!(dump.sent, 120, "4 s of 30 fps video");

    let (ok, original) = framemd5(Path::new(ORIGINAL));
    assert!(
        ok && original.len() == 300,
        "the original decodes: {ok} {}",
        original.len()
    );
    let expected = &original[..120];

    // bob and carol were in the call throughout: every frame, decoded bit-exact.
    for name in ["bob", "carol"] {
        let (_, path, frames) = dump
            .receivers
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("{name}'s dump"));
        assert_eq!(*frames, dump.sent, "{name} opened every frame");
        let (ok, decoded) = framemd5(path);
        assert!(ok, "{name}'s stream decodes without error");
        assert_eq!(
            decoded, expected,
            "{name}'s decoded frames equal the original's"
        );
    }
    // dave left mid-call: what he opened is an exact prefix of the stream, and nothing
    // after it.
    let (_, path, frames) = dump
        .receivers
        .iter()
        .find(|(n, _, _)| n == "dave")
        .expect("dave's dump");
    assert!(
        *frames > 0 && *frames < dump.sent,
        "dave opened {frames} frames"
    );
    let (ok, decoded) = framemd5(path);
    assert!(ok);
    assert_eq!(decoded, &original[..decoded.len()]);
    assert_eq!(decoded.len() as u64, *frames);

    // What the SFU forwarded: same framing, sealed payloads. It must not decode to the
    // original frames (ffmpeg may refuse it outright, or produce garbage).
    let sealed =
        media::parse_ivf(&std::fs::read(&dump.ciphertext).expect("ciphertext dump")).expect("IVF");
    assert_eq!(sealed.frames.len() as u64, dump.sent);
    let plain = media::parse_ivf(&std::fs::read(ORIGINAL).expect("original")).expect("IVF");
    for (c, p) in sealed.frames.iter().zip(&plain.frames) {
        assert_ne!(c, p);
        assert!(
            !c.windows(16).any(|w| p.starts_with(w)),
            "ciphertext contains the frame's first bytes"
        );
    }
    let (_, from_ciphertext) = framemd5(&dump.ciphertext);
    let originals: HashSet<&String> = original.iter().collect();
    let leaked = from_ciphertext
        .iter()
        .filter(|m| originals.contains(m))
        .count();
    assert_eq!(
        leaked,
        0,
        "{leaked} of {} frames decoded from ciphertext match an original frame",
        from_ciphertext.len()
    );
}

#[test]
fn every_suite_survives_loss_races_leave_and_join() {
    for suite in 1..=5 {
        let report = run(Config {
            participants: 3,
            duration: Duration::from_secs(3),
            suite,
            loss_pct: 5.0,
            seed: u64::from(suite),
            ..Config::default()
        });
        let audio = &report.tracks[Track::Audio.index()];
        let video = &report.tracks[Track::Video.index()];
        for t in [audio, video] {
            assert_eq!(t.failed, 0, "suite {suite}");
            assert!(t.lost_in_network > 0, "suite {suite}: loss was injected");
            assert_eq!(
                t.opened + t.lost_in_network + t.superseded,
                t.deliveries,
                "suite {suite}: every frame is accounted for"
            );
        }
        // Audio every 20 ms, video every 33 ms: two senders the whole 3 s, the leaver
        // until it is out, the joiner once it is in.
        assert!(
            audio.sealed > 2 * 150,
            "suite {suite}: {} audio",
            audio.sealed
        );
        assert!(
            video.sealed > 2 * 90,
            "suite {suite}: {} video",
            video.sealed
        );
        assert!(report.leaver.later_received > 0, "the SFU kept forwarding");
        assert_eq!(report.leaver.later_opened, 0);
        assert!(report.joiner.earlier_received > 0);
        assert_eq!(report.joiner.earlier_opened, 0);
        // Epochs: 0 (alice alone), 1 (call), 2 (race winner), 3 (leave), 4 (join).
        let epochs: Vec<u64> = report.epochs.iter().map(|e| e.epoch).collect();
        assert_eq!(epochs, [0, 1, 2, 3, 4], "suite {suite}");
        assert!(report.epochs.iter().all(sim::EpochRow::agreed));
        let codes: HashSet<&str> = report
            .epochs
            .iter()
            .map(|e| e.codes[0].1.as_str())
            .collect();
        assert_eq!(codes.len(), 5, "each epoch has its own security code");
    }
}

#[test]
fn codec_aware_sfu_starts_every_video_stream_at_a_key_frame() {
    let config = |codec_aware| Config {
        duration: Duration::from_secs(4),
        seed: 3,
        codec_aware,
        ..Config::default()
    };
    let aware = run(config(true));
    let video = &aware.tracks[Track::Video.index()];
    let s = &aware.sfu;
    // The SFU read the clear key-frame bit of every video frame it got, never wrongly.
    assert_eq!(s.key_bits_read, video.sealed);
    assert_eq!(s.key_bit_mismatches, 0);
    assert!(
        s.held_back > 0,
        "streams started mid-GOP: delta frames held back"
    );
    assert_eq!(s.undecodable_forwarded, 0);
    assert_eq!(video.failed, 0);
    assert!(video.opened > 0);

    // Whole-frame: the bit is ciphertext, the SFU forwards frames no decoder can use yet.
    let whole = run(config(false));
    assert_eq!(whole.sfu.key_bits_read, 0);
    assert_eq!(whole.sfu.held_back, 0);
    assert!(whole.sfu.undecodable_forwarded > 0);
}

#[test]
fn the_same_seed_gives_the_same_network_and_race() {
    let config = Config {
        duration: Duration::from_secs(3),
        seed: 42,
        ..Config::default()
    };
    let a = run(config.clone());
    let b = run(config);
    let summary = |r: &Report| {
        (
            r.timeline.clone(),
            r.tracks
                .iter()
                .map(|t| (t.sealed, t.opened, t.lost_in_network, t.replays_refused))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(summary(&a), summary(&b));
}

#[test]
fn invalid_flags_are_refused() {
    for bad in [
        Config {
            participants: 2,
            ..Config::default()
        },
        Config {
            suite: 6,
            ..Config::default()
        },
        Config {
            duration: Duration::from_secs(1),
            ..Config::default()
        },
        Config {
            loss_pct: 80.0,
            ..Config::default()
        },
    ] {
        assert!(sim::run(&bad).is_err(), "{bad:?}");
    }
}
