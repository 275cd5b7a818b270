//! A counting global allocator proves that sealing and opening into caller buffers
//! allocate nothing per frame once keys are set up, for every suite, with and without
//! metadata, out of place and in place; and that the MLS media handles (an `Encryptor`,
//! a `Decryptor` whose stream is verified) allocate nothing per frame either.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::sync::Arc;

use mlsframe::mls::identity::{Identity, MemberIdentity};
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::{GroupParams, Session};
use mlsframe::sframe::{CipherSuite, Receiver, SendKey};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn counted<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.load(Ordering::Relaxed) - before)
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

#[test]
fn media_handles_allocate_nothing_per_frame() {
    let session = |name: &str| {
        let id = MemberIdentity::new(name.as_bytes().to_vec(), b"dev".to_vec()).unwrap();
        Session::new(
            Identity::generate(id).unwrap(),
            Arc::new(AdmitAll),
            MediaConfig::default(),
        )
        .unwrap()
    };
    let (mut alice, mut bob) = (session("alice"), session("bob"));
    alice.create_group(GroupParams::default()).unwrap();
    let out = alice.add_members(&[&bob.key_package().unwrap()]).unwrap();
    alice.confirm_own_commit().unwrap();
    bob.join(out.welcome.as_deref().unwrap()).unwrap();
    alice.media().receivers_ready();
    let encryptor = alice.media().encryptor(0).unwrap();
    let decryptor = bob.media().decryptor();

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
