//! SFrame alone, with app-managed keys: seals and opens an audio-sized (160 B) and a
//! video-sized (1200 B) frame, with and without metadata, under each of the five RFC 9605
//! cipher suites, then shows a tampered frame and a replayed frame being rejected.
//!
//! For every frame it prints the suite, KID, CTR, the header bytes in hex, the plaintext
//! and ciphertext sizes, and the result. It exits non-zero if anything unexpected happens.
//!
//! ```sh
//! cargo run --example sframe_roundtrip
//! ```

use std::process::ExitCode;

use mlsframe::sframe::{CipherSuite, Header, Receiver, SendKey, SframeError};

/// Frame sizes: one 20 ms Opus packet, one small video frame.
const FRAMES: [(&str, usize); 2] = [("audio", 160), ("video", 1200)];

/// Metadata variants: none, and an RTP-header-like prefix bound into the AAD.
const METADATA: [&[u8]; 2] = [b"", b"rtp:ssrc=1234;seq=42"];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A base key of the suite's Nk length; a real app would get it from its key management.
fn base_key(suite: CipherSuite, seed: u8) -> Vec<u8> {
    (0..suite.key_len())
        .map(|i| seed.wrapping_add(i as u8))
        .collect()
}

/// A recognisable plaintext of `len` bytes.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Seals one frame, opens it, checks the plaintext, prints one line. `Err` explains what
/// went wrong.
fn round_trip(
    sender: &SendKey,
    receiver: &Receiver,
    kind: &str,
    plaintext: &[u8],
    metadata: &[u8],
) -> Result<Vec<u8>, String> {
    let capacity = sender
        .max_ciphertext_len(plaintext.len())
        .ok_or("ciphertext size overflows")?;
    let mut frame = vec![0u8; capacity];
    let n = sender
        .encrypt(metadata, plaintext, &mut frame)
        .map_err(|e| format!("encrypt failed: {e}"))?;
    frame.truncate(n);

    let (header, header_len) =
        Header::decode(&frame).map_err(|e| format!("own header does not parse: {e}"))?;
    let mut out = vec![0u8; frame.len()];
    let opened = receiver
        .decrypt(metadata, &frame, &mut out)
        .map_err(|e| format!("decrypt failed: {e}"))?;
    let ok = opened.len == plaintext.len()
        && &out[..opened.len] == plaintext
        && (opened.kid, opened.ctr) == (header.kid, header.ctr)
        && header.kid == sender.kid();
    println!(
        "{:<24} {kind:<5} meta={:<2} KID={:<5} CTR={:<3} header={:<8} pt={:>4} B  ct={:>4} B  {}",
        format!("{:?}", sender.suite()),
        metadata.len(),
        header.kid,
        header.ctr,
        hex(&frame[..header_len]),
        plaintext.len(),
        frame.len(),
        if ok { "ok" } else { "MISMATCH" },
    );
    if ok {
        Ok(frame)
    } else {
        Err("decrypted frame differs from what was sealed".into())
    }
}

/// Expects `result` to be the error `want`, printing what happened.
fn expect_rejected(
    what: &str,
    result: Result<mlsframe::sframe::Opened, SframeError>,
    want: SframeError,
) -> Result<(), String> {
    match result {
        Err(e) if e == want => {
            println!("{what}: rejected as expected: {e}");
            Ok(())
        }
        Err(e) => Err(format!("{what}: rejected with {e:?}, expected {want:?}")),
        Ok(opened) => Err(format!("{what}: accepted ({opened:?}), expected {want:?}")),
    }
}

fn run() -> Result<(), String> {
    println!("== round trips: 5 suites x 2 frame sizes x 2 metadata variants ==");
    for (i, suite) in CipherSuite::ALL.into_iter().enumerate() {
        // KIDs that exercise both header forms: inline (< 8) and extended (>= 8).
        let kid = [3u64, 7, 8, 300, 70_000][i];
        let key = base_key(suite, 0x10 * (i as u8 + 1));
        let sender = SendKey::new(suite, kid, &key);
        let mut receiver = Receiver::new();
        receiver
            .add_key(suite, kid, &key)
            .map_err(|e| format!("add_key: {e}"))?;
        for (kind, len) in FRAMES {
            for metadata in METADATA {
                round_trip(&sender, &receiver, kind, &payload(len), metadata)?;
            }
        }
    }

    println!();
    println!("== rejections ==");
    let suite = CipherSuite::Aes128GcmSha256_128;
    let key = base_key(suite, 0x99);
    // Start at CTR 250 (as if restored mid-stream): the header carries CTR in one extra byte.
    let sender = SendKey::new(suite, 42, &key).starting_at(250);
    let mut receiver = Receiver::new();
    receiver
        .add_key(suite, 42, &key)
        .map_err(|e| format!("add_key: {e}"))?;
    let metadata = METADATA[1];
    let frame = round_trip(&sender, &receiver, "video", &payload(1200), metadata)?;
    let mut out = vec![0u8; frame.len()];

    // Replay: the same frame again.
    expect_rejected(
        "replayed frame",
        receiver.decrypt(metadata, &frame, &mut out),
        SframeError::Replay,
    )?;

    // Tamper: flip one ciphertext bit.
    let mut tampered = sender
        .encrypt_to_vec(metadata, &payload(1200))
        .map_err(|e| format!("encrypt failed: {e}"))?;
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    expect_rejected(
        "tampered ciphertext",
        receiver.decrypt(metadata, &tampered, &mut out),
        SframeError::AuthenticationFailed,
    )?;

    // Metadata is authenticated too: the right frame with other metadata fails.
    let untouched = sender
        .encrypt_to_vec(metadata, &payload(160))
        .map_err(|e| format!("encrypt failed: {e}"))?;
    expect_rejected(
        "wrong metadata",
        receiver.decrypt(b"rtp:ssrc=9999;seq=42", &untouched, &mut out),
        SframeError::AuthenticationFailed,
    )?;
    // A rejected forgery does not burn the counter: the genuine frame still opens once.
    let opened = receiver
        .decrypt(metadata, &untouched, &mut out)
        .map_err(|e| format!("genuine frame after forgery: {e}"))?;
    println!(
        "genuine frame after the forgery: ok (KID={} CTR={})",
        opened.kid, opened.ctr
    );

    // Unknown KID: recoverable (the key may arrive later), unlike the others.
    let stranger = SendKey::new(suite, 43, &key)
        .encrypt_to_vec(b"", b"hi")
        .map_err(|e| format!("encrypt failed: {e}"))?;
    expect_rejected(
        "frame for an unknown KID",
        receiver.decrypt(b"", &stranger, &mut out),
        SframeError::UnknownKeyId(43),
    )?;

    // In-place decrypt, as WebRTC's frame decryptor does it; then the same bytes again.
    let plaintext = payload(160);
    let sealed = sender
        .encrypt_to_vec(b"", &plaintext)
        .map_err(|e| format!("encrypt failed: {e}"))?;
    let mut buf = sealed.clone();
    let opened = receiver
        .decrypt_in_place(b"", &mut buf)
        .map_err(|e| format!("in-place decrypt: {e}"))?;
    if buf[..opened.len] != plaintext[..] {
        return Err("in-place decrypt produced the wrong plaintext".into());
    }
    println!(
        "in-place decrypt: ok (KID={} CTR={}, {} B -> {} B)",
        opened.kid,
        opened.ctr,
        sealed.len(),
        opened.len
    );
    let mut buf = sealed;
    expect_rejected(
        "in-place replay",
        receiver.decrypt_in_place(b"", &mut buf),
        SframeError::Replay,
    )?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!();
            println!("all frames behaved as expected");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("UNEXPECTED: {e}");
            ExitCode::FAILURE
        }
    }
}
