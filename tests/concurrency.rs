//! Many threads on one key: every counter is handed out once, and a duplicate frame
//! delivered to several threads at once is accepted exactly once.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use mlsframe::sframe::{CipherSuite, Header, Receiver, SendKey, SframeError};

const THREADS: usize = 8;
const FRAMES: usize = 2000;

#[test]
fn eight_threads_never_share_a_counter() {
    let suite = CipherSuite::Aes128GcmSha256_128;
    let sender = Arc::new(SendKey::new(suite, 42, b"shared"));
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (sender, barrier) = (Arc::clone(&sender), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                let mut out = [0u8; 64];
                (0..FRAMES)
                    .map(|i| {
                        let n = sender.encrypt(b"", &[t as u8, i as u8], &mut out).unwrap();
                        out[..n].to_vec()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let frames: Vec<Vec<u8>> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let ctrs: HashSet<u64> = frames
        .iter()
        .map(|f| Header::decode(f).unwrap().0.ctr)
        .collect();
    assert_eq!(ctrs.len(), THREADS * FRAMES);
    assert_eq!(ctrs.iter().max(), Some(&((THREADS * FRAMES - 1) as u64)));

    let mut receiver = Receiver::with_config(mlsframe::sframe::ReceiverConfig {
        replay_window: (THREADS * FRAMES) as u64,
        ..Default::default()
    });
    receiver.add_key(suite, 42, b"shared").unwrap();
    let mut out = [0u8; 64];
    for frame in &frames {
        receiver.decrypt(b"", frame, &mut out).unwrap();
    }
}

#[test]
fn a_duplicate_raced_by_eight_threads_is_accepted_once() {
    let suite = CipherSuite::Aes256GcmSha512_128;
    let sender = SendKey::new(suite, 1, b"k");
    let mut receiver = Receiver::new();
    receiver.add_key(suite, 1, b"k").unwrap();
    let receiver = Arc::new(receiver);
    for _ in 0..50 {
        let frame = Arc::new(sender.encrypt_to_vec(b"", &[7u8; 500]).unwrap());
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (r, f, b) = (
                    Arc::clone(&receiver),
                    Arc::clone(&frame),
                    Arc::clone(&barrier),
                );
                std::thread::spawn(move || {
                    let mut out = [0u8; 600];
                    b.wait();
                    r.decrypt(b"", &f, &mut out).map(|o| o.len)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|r| **r == Ok(500)).count(), 1);
        assert_eq!(
            results
                .iter()
                .filter(|r| **r == Err(SframeError::Replay))
                .count(),
            THREADS - 1
        );
    }
}
