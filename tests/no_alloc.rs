//! A counting global allocator proves that sealing and opening into caller buffers
//! allocate nothing per frame once keys are set up, for every suite, with and without
//! metadata, out of place and in place; that the MLS media handles (an `Encryptor`,
//! a `Decryptor` whose stream is verified) allocate nothing per frame either; and that
//! codec-aware framing (`docs/FRAMING.md`) allocates nothing on every frame of every
//! bundled sample, standalone and through the media handles, out of place and in place.

#[path = "../examples/call/media.rs"]
#[allow(dead_code)]
mod call_media;
#[path = "support/codec_frames.rs"]
mod codec_frames;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use std::sync::Arc;

use mlsframe::Codec;
use mlsframe::media;
use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};
use mlsframe::sframe::{CipherSuite, Receiver, SendKey};

struct Counting;

// Per thread: tests run in parallel, and only the thread under test counts.
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.with(Cell::get) - before)
}

#[test]
fn per_frame_paths_allocate_nothing() {
    // The counter must see allocations at all, or this test proves nothing.
    let (_, n) = counted(|| vec![1u8; 10]);
    assert_eq!(n, 1);

    for suite in CipherSuite::ALL {
        let sender = SendKey::new(suite, 77, b"base");
        let mut receiver = Receiver::new();
        receiver.add_key(suite, 77, b"base").unwrap();
        let plaintext = vec![0xabu8; 1200];
        let mut frame = vec![0u8; 1300];
        let mut plain = vec![0u8; 1300];
        let mut in_place = vec![0u8; 1300];
        for metadata in [&b""[..], &[9u8; 100][..]] {
            let (_, n) = counted(|| {
                for _ in 0..100 {
                    let len = sender.encrypt(metadata, &plaintext, &mut frame).unwrap();
                    let opened = receiver
                        .decrypt(metadata, &frame[..len], &mut plain)
                        .unwrap();
                    assert_eq!(opened.len, plaintext.len());

                    in_place[..plaintext.len()].copy_from_slice(&plaintext);
                    let len = sender
                        .encrypt_in_place(metadata, &mut in_place, plaintext.len())
                        .unwrap();
                    let opened = receiver
                        .decrypt_in_place(metadata, &mut in_place[..len])
                        .unwrap();
                    assert_eq!(opened.len, plaintext.len());
                }
            });
            assert_eq!(n, 0, "{suite:?} allocated {n} times in 200 frames");
        }
    }
}

fn session(name: &str) -> Session {
    let id = MemberIdentity::new(name.as_bytes().to_vec(), b"dev".to_vec()).unwrap();
    Session::new(
        Identity::generate(id).unwrap(),
        Arc::new(AdmitAll),
        MediaConfig::default(),
    )
    .unwrap()
}

/// Alice and Bob in one group, receivers ready.
fn call() -> (Session, Session) {
    let (mut alice, mut bob) = (session("alice"), session("bob"));
    alice.create_group(GroupParams::default()).unwrap();
    let out = alice.add_members(&[&bob.key_package().unwrap()]).unwrap();
    alice.confirm_own_commit().unwrap();
    bob.join(out.welcome.as_deref().unwrap()).unwrap();
    alice.media().receivers_ready();
    (alice, bob)
}

#[test]
fn media_handles_allocate_nothing_per_frame() {
    let (alice, bob) = call();
    let mut encryptor = alice.media().encryptor(0).unwrap();
    let mut decryptor = bob.media().decryptor();

    let plaintext = vec![0x5au8; 1200];
    let mut frame = vec![0u8; 1300];
    let mut plain = vec![0u8; 1300];
    let mut in_place = vec![0u8; 1300];
    // The first frame derives the send key and caches the receiving stream.
    let n = encryptor.encrypt(b"", &plaintext, &mut frame).unwrap();
    decryptor.decrypt(b"", &frame[..n], &mut plain).unwrap();
    for metadata in [&b""[..], &[9u8; 100][..]] {
        let (_, n) = counted(|| {
            for _ in 0..100 {
                let len = encryptor.encrypt(metadata, &plaintext, &mut frame).unwrap();
                let opened = decryptor
                    .decrypt(metadata, &frame[..len], &mut plain)
                    .unwrap();
                assert_eq!(opened.len, plaintext.len());

                in_place[..plaintext.len()].copy_from_slice(&plaintext);
                let len = encryptor
                    .encrypt_in_place(metadata, &mut in_place, plaintext.len())
                    .unwrap();
                let opened = decryptor
                    .decrypt_in_place(metadata, &mut in_place[..len])
                    .unwrap();
                assert_eq!(opened.len, plaintext.len());
            }
        });
        assert_eq!(n, 0, "the media handles allocated {n} times in 200 frames");
    }
}

/// Every frame of every bundled sample, by codec.
fn samples() -> Vec<(Codec, Vec<Vec<u8>>)> {
    let read = |name: &str| {
        std::fs::read(format!(
            "{}/examples/media/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let ivf = |name: &str| call_media::parse_ivf(&read(name)).unwrap().frames;
    let units = |name: &str, h265: bool| -> Vec<Vec<u8>> {
        codec_frames::access_units(&read(name), h265)
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect()
    };
    vec![
        (Codec::Vp8, ivf("video.ivf")),
        (
            Codec::Opus,
            call_media::opus_packets(&read("audio.opus")).unwrap(),
        ),
        (Codec::H264, units("video.h264", false)),
        (Codec::H265, units("video.h265", true)),
        (Codec::Vp9, ivf("video-vp9.ivf")),
        (Codec::Av1, ivf("video-av1.ivf")),
    ]
}

#[test]
fn codec_aware_framing_allocates_nothing_per_frame() {
    let suite = CipherSuite::Aes128GcmSha256_128;
    let (alice, bob) = call();
    let mut decryptor = bob.media().decryptor();
    for (i, (codec, frames)) in samples().into_iter().enumerate() {
        assert!(!frames.is_empty(), "{codec:?}: no frames");
        let largest = frames.iter().map(Vec::len).max().unwrap();
        let cap = media::max_sealed_len(codec, suite, largest).unwrap();
        let (mut sealed, mut opened, mut in_place) =
            (vec![0u8; cap], vec![0u8; cap], vec![0u8; cap]);
        let key = SendKey::new(suite, 40 + i as u64, b"base");
        let mut receiver = Receiver::new();
        receiver.add_key(suite, 40 + i as u64, b"base").unwrap();
        let mut encryptor = alice.media().encryptor_with_codec(i as u64, codec).unwrap();
        // The first frame derives the send key and caches the receiving stream.
        let n = encryptor.encrypt(b"", &frames[0], &mut sealed).unwrap();
        decryptor
            .decrypt_codec(codec, b"", &sealed[..n], &mut opened)
            .unwrap();
        for metadata in [&b""[..], &[9u8; 100][..]] {
            let (_, allocations) = counted(|| {
                for frame in &frames {
                    // Standalone SFrame keys.
                    let n = media::seal(codec, &key, metadata, frame, &mut sealed).unwrap();
                    let o =
                        media::open(codec, &receiver, metadata, &sealed[..n], &mut opened).unwrap();
                    assert_eq!(&opened[..o.len], &frame[..]);
                    // The MLS media handles, out of place.
                    let n = encryptor.encrypt(metadata, frame, &mut sealed).unwrap();
                    let o = decryptor
                        .decrypt_codec(codec, metadata, &sealed[..n], &mut opened)
                        .unwrap();
                    assert_eq!(&opened[..o.len], &frame[..]);
                    // And in place.
                    in_place[..frame.len()].copy_from_slice(frame);
                    let n = encryptor
                        .encrypt_in_place(metadata, &mut in_place, frame.len())
                        .unwrap();
                    let o = decryptor
                        .decrypt_codec_in_place(codec, metadata, &mut in_place[..n])
                        .unwrap();
                    assert_eq!(&in_place[..o.len], &frame[..]);
                }
            });
            assert_eq!(
                allocations,
                0,
                "{codec:?}: {allocations} allocations in {} frames",
                frames.len()
            );
        }
    }
}
