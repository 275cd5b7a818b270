//! What codec-aware framing (`docs/FRAMING.md`) costs against whole-frame SFrame, on real
//! frames from `examples/media/`: an H.264 key frame (SPS, PPS, SEI, IDR slice) and a
//! delta frame, an H.265 key frame, a VP8 key frame and a delta frame, a VP9 and an AV1
//! key frame, and an Opus packet. Per frame, side by side in one run: `whole` seals with
//! [`SendKey::encrypt`] (RFC 9605, `Codec::Whole`'s path) and `codec` with
//! [`media::seal`] for the frame's codec; the `open_*` group does the same for opening.
//! The codec-aware cost is the frame parse, the layout, the scattered AEAD input and (for
//! H.26x) the start-code emulation check. The size overhead (trailer) is printed once.
//!
//! `cargo bench --bench codec`; compare within one run. `cargo bench --bench codec --
//! --test` runs each case once (a check that it works, no measurement).

#[path = "../examples/call/media.rs"]
#[allow(dead_code)]
mod call_media;
#[path = "../tests/support/codec_frames.rs"]
mod codec_frames;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlsframe::Codec;
use mlsframe::media;
use mlsframe::sframe::{CipherSuite, Receiver, SendKey};

const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
const KID: u64 = 7;
const BASE_KEY: &[u8] = b"benchmark base key 0123456789abc";
/// Frames sealed ahead for the open benches (the replay window refuses repeats).
const OPEN_FRAMES: usize = 1024;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/examples/media/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ivf(name: &str) -> Vec<Vec<u8>> {
    call_media::parse_ivf(&sample(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .frames
}

/// (name, codec, frame) for every case.
fn cases() -> Vec<(&'static str, Codec, Vec<u8>)> {
    let h264 = sample("video.h264");
    let h264_units = codec_frames::access_units(&h264, false);
    let h265 = sample("video.h265");
    let h265_units = codec_frames::access_units(&h265, true);
    let vp8 = ivf("video.ivf");
    let opus = call_media::opus_packets(&sample("audio.opus")).expect("Ogg Opus");
    vec![
        ("h264_key", Codec::H264, h264_units[0].to_vec()),
        ("h264_delta", Codec::H264, h264_units[1].to_vec()),
        ("h265_key", Codec::H265, h265_units[0].to_vec()),
        ("vp8_key", Codec::Vp8, vp8[0].clone()),
        ("vp8_delta", Codec::Vp8, vp8[1].clone()),
        ("vp9_key", Codec::Vp9, ivf("video-vp9.ivf")[0].clone()),
        ("av1_key", Codec::Av1, ivf("video-av1.ivf")[0].clone()),
        ("opus", Codec::Opus, opus[10].clone()),
    ]
}

fn seal_frame(codec: Codec, key: &SendKey, frame: &[u8], out: &mut [u8]) -> usize {
    if codec == Codec::Whole {
        key.encrypt(b"", frame, out).expect("seals")
    } else {
        media::seal(codec, key, b"", frame, out).expect("seals")
    }
}

fn seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec_seal");
    for (name, codec, frame) in cases() {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        let key = SendKey::new(SUITE, KID, BASE_KEY);
        let mut out = vec![0u8; frame.len() + 1024];
        let whole = seal_frame(Codec::Whole, &key, &frame, &mut out);
        let aware = seal_frame(codec, &key, &frame, &mut out);
        println!(
            "{name}: {} bytes, sealed whole-frame {whole} (+{}), codec-aware {aware} (+{})",
            frame.len(),
            whole - frame.len(),
            aware - frame.len()
        );
        for mode in [Codec::Whole, codec] {
            let label = if mode == Codec::Whole {
                "whole"
            } else {
                "codec"
            };
            group.bench_function(BenchmarkId::new(label, name), |b| {
                b.iter(|| black_box(seal_frame(mode, &key, black_box(&frame), &mut out)))
            });
        }
    }
    group.finish();
}

fn open(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec_open");
    for (name, codec, frame) in cases() {
        group.throughput(Throughput::Bytes(frame.len() as u64));
        for mode in [Codec::Whole, codec] {
            let label = if mode == Codec::Whole {
                "whole"
            } else {
                "codec"
            };
            let key = SendKey::new(SUITE, KID, BASE_KEY);
            let mut buf = vec![0u8; frame.len() + 1024];
            let sealed: Vec<Vec<u8>> = (0..OPEN_FRAMES)
                .map(|_| {
                    let n = seal_frame(mode, &key, &frame, &mut buf);
                    buf[..n].to_vec()
                })
                .collect();
            let fresh_receiver = || {
                let mut r = Receiver::new();
                r.add_key(SUITE, KID, BASE_KEY).expect("installs");
                r
            };
            // A new receiver (set up outside the timing) starts each pass over the frames.
            group.bench_function(BenchmarkId::new(label, name), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut done = 0u64;
                    while done < iters {
                        let receiver = fresh_receiver();
                        let n = (iters - done).min(sealed.len() as u64) as usize;
                        let start = Instant::now();
                        for s in &sealed[..n] {
                            let len = if mode == Codec::Whole {
                                receiver.decrypt(b"", s, &mut buf).expect("opens").len
                            } else {
                                media::open(mode, &receiver, b"", s, &mut buf)
                                    .expect("opens")
                                    .len
                            };
                            black_box(len);
                        }
                        total += start.elapsed();
                        done += n as u64;
                    }
                    total
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, seal, open);
criterion_main!(benches);
