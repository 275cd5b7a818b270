//! Writes the seed corpora in `fuzz/corpus/<target>/seed-*` from real frames and messages:
//! frames sealed under all five suites (with the keys `frame_open` installs, so they open
//! there), frames of an MLS group's media encryptor, that group's MLS messages (commits,
//! proposals, a welcome, a key package) and a snapshot (withheld for now, see below), and
//! inputs in the layouts of `sframe_differential` and `c_abi` built from them. cargo-fuzz
//! starts from these.
//!
//! Run from the repository root (MLS randomness makes the bytes differ per run):
//! `cargo run --manifest-path fuzz/Cargo.toml --example seed_corpora`
//! Only `seed-*` files are tracked; what fuzzing adds next to them stays untracked.

use std::path::{Path, PathBuf};
use std::ptr;

use mlsframe::ffi::buffer::{mlsframe_buffer, mlsframe_buffer_free};
use mlsframe::ffi::encryptor::{mlsframe_encryptor, mlsframe_encryptor_encrypt};
use mlsframe::ffi::mlsframe_result::{self, MLSFRAME_OK};
use mlsframe::ffi::session::*;
use mlsframe::sframe::{CipherSuite, Header, MAX_HEADER_LEN, SendKey};

fn ok(what: &str, code: mlsframe_result) {
    assert_eq!(code, MLSFRAME_OK, "{what}");
}

/// Runs an export that fills a library buffer; returns its bytes and frees it.
fn bytes(what: &str, f: impl FnOnce(*mut mlsframe_buffer) -> mlsframe_result) -> Vec<u8> {
    let mut buf = mlsframe_buffer {
        data: ptr::null_mut(),
        len: 0,
    };
    ok(what, f(&mut buf));
    let out = if buf.data.is_null() {
        Vec::new()
    } else {
        // SAFETY: the library filled `buf` with `len` bytes at `data`.
        unsafe { std::slice::from_raw_parts(buf.data, buf.len) }.to_vec()
    };
    // SAFETY: filled by the library, unmodified.
    unsafe { mlsframe_buffer_free(&mut buf) };
    out
}

/// A session through the C ABI (the same surface the `c_abi` target drives).
struct Member(*mut mlsframe_session);

impl Member {
    fn new(name: &str) -> Member {
        let mut s = ptr::null_mut();
        // SAFETY: valid pointers for their lengths; `s` writable.
        ok("session_new", unsafe {
            mlsframe_session_new(
                name.as_ptr(),
                name.len(),
                b"seed".as_ptr(),
                4,
                ptr::null(),
                0,
                ptr::null(),
                &mut s,
            )
        });
        Member(s)
    }

    fn key_package(&self) -> Vec<u8> {
        // SAFETY: live session; `b` writable.
        bytes("key_package", |b| unsafe {
            mlsframe_session_key_package(self.0, b)
        })
    }

    /// Adds `kp`'s owner; returns (commit, welcome), merged.
    fn add(&self, kp: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut welcome = Vec::new();
        let commit = bytes("add_members", |c| {
            let (p, l) = ([kp.as_ptr()], [kp.len()]);
            welcome = bytes("welcome", |w| {
                // SAFETY: live session; one valid key package; writable outputs.
                unsafe { mlsframe_session_add_members(self.0, p.as_ptr(), l.as_ptr(), 1, c, w) }
            });
            MLSFRAME_OK
        });
        // SAFETY: live session.
        ok("confirm", unsafe {
            mlsframe_session_confirm_commit(self.0)
        });
        (commit, welcome)
    }

    fn process(&self, message: &[u8]) {
        let mut o = std::mem::MaybeUninit::<mlsframe_outcome>::uninit();
        // SAFETY: live session; valid message; writable outcome.
        ok("process", unsafe {
            mlsframe_session_process(self.0, message.as_ptr(), message.len(), o.as_mut_ptr())
        });
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        // SAFETY: from `mlsframe_session_new`, freed once.
        unsafe { mlsframe_session_free(self.0) };
    }
}

/// Seals with an MLS media encryptor.
fn media_frame(enc: *mut mlsframe_encryptor, meta: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; payload.len() + 64];
    let mut n = 0;
    // SAFETY: live encryptor; valid, disjoint buffers; `n` writable.
    ok("encrypt", unsafe {
        mlsframe_encryptor_encrypt(
            enc,
            payload.as_ptr(),
            payload.len(),
            meta.as_ptr(),
            meta.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut n,
        )
    });
    out.truncate(n);
    out
}

/// Writes `fuzz/corpus/<target>/seed-<name>`.
struct Corpus {
    root: PathBuf,
    total: usize,
}

impl Corpus {
    fn put(&mut self, target: &str, name: &str, data: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        std::fs::write(dir.join(format!("seed-{name}")), data).expect("write a seed");
        self.total += data.len();
    }
}

/// Builds inputs in the targets' byte layouts.
#[derive(Default)]
struct Input(Vec<u8>);

impl Input {
    fn byte(mut self, b: u8) -> Self {
        self.0.push(b);
        self
    }
    fn u16(mut self, v: usize) -> Self {
        self.0.extend_from_slice(&(v as u16).to_be_bytes());
        self
    }
    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }
    /// 2-byte length, then the bytes.
    fn data(self, bytes: &[u8]) -> Self {
        self.u16(bytes.len()).raw(bytes)
    }
    /// 1-byte length, then the bytes.
    fn short(self, bytes: &[u8]) -> Self {
        self.byte(bytes.len() as u8).raw(bytes)
    }
    /// `sframe_differential`'s variable-width integer.
    fn varint(self, v: u64) -> Self {
        let width = (8 - v.leading_zeros() as usize / 8).min(8);
        let be = v.to_be_bytes();
        self.byte(width as u8).raw(&be[8 - width..])
    }
}

/// `c_abi`'s placement bytes: modes `m1`, `m2`, `delta`, then the frame offset and the
/// optional offsets (metadata, out, written, extra).
fn placement(input: Input, m1: u8, m2: u8, delta: u8, offsets: [usize; 5]) -> Input {
    offsets
        .into_iter()
        .fold(input.byte(m1).byte(m2).byte(delta), Input::u16)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut c = Corpus { root, total: 0 };
    let payloads: [&[u8]; 3] = [b"", b"an audio frame", &[0x5a; 300]];

    // header_decode: headers of every form (short and extended KID and CTR).
    for (kid, ctr) in [
        (0, 0),
        (7, 7),
        (8, 255),
        (300, 70_000),
        (u64::MAX, u64::MAX - 1),
    ] {
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = Header::new(kid, ctr).encode(&mut buf).expect("fits");
        c.put("header_decode", &format!("kid{kid}-ctr{ctr}"), &buf[..n]);
    }

    // frame_open: the keys it installs (KID i: suite i+1, key [i; Nk]; 8, 300, 70 000: 0x5a),
    // framed as `selector (metadata length & 7) || metadata || frame`.
    let mut frame_keys: Vec<(CipherSuite, u64, Vec<u8>)> = CipherSuite::ALL
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, i as u64, vec![i as u8; s.key_len()]))
        .collect();
    for (kid, s) in [
        (8, CipherSuite::Aes128CtrHmacSha256_32),
        (300, CipherSuite::Aes128GcmSha256_128),
        (70_000, CipherSuite::Aes256GcmSha512_128),
    ] {
        frame_keys.push((s, kid, vec![0x5a; s.key_len()]));
    }
    for (suite, kid, key) in &frame_keys {
        for (j, meta) in [&b""[..], b"rtp-h"].into_iter().enumerate() {
            let payload = payloads[j + 1];
            let frame = SendKey::new(*suite, *kid, key)
                .starting_at(1000 * j as u64)
                .encrypt_to_vec(meta, payload)
                .expect("seal");
            let input = Input::default()
                .byte(meta.len() as u8)
                .raw(meta)
                .raw(&frame);
            c.put(
                "frame_open",
                &format!("suite{}-kid{kid}-meta{}", suite.id(), meta.len()),
                &input.0,
            );
        }
    }

    // codec_layout: frames of every codec sealed under KID 1 (key [0x33; 16], suite 1),
    // framed as `codec || metadata length & 7 || metadata || sealed frame`.
    {
        use mlsframe::Codec;
        let key = SendKey::new(CipherSuite::Aes128GcmSha256_128, 1, &[0x33; 16]);
        let vp8 = [
            0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01, 7, 7, 7,
        ];
        let h264 = [
            0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 1, 0x65,
            0x88, 0x84, 0, 0xff, 0x80,
        ];
        let h265 = [
            0, 0, 0, 1, 0x40, 0x01, 0x0c, 0, 0, 1, 0x26, 0x01, 0xaf, 0x06, 0x80,
        ];
        let av1 = [0x12, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x32, 0x03, 9, 9, 9];
        let vp9 = [0x82, 0x49, 0x83, 0x42, 0x00, 0x27, 0xf0, 0x1d, 0xf0, 0xaa];
        let frames: [(Codec, &[u8]); 7] = [
            (Codec::Whole, b"an audio frame"),
            (Codec::Opus, &[0xfc, 0xff, 0xfe, 0x01]),
            (Codec::Vp8, &vp8),
            (Codec::Vp9, &vp9),
            (Codec::H264, &h264),
            (Codec::H265, &h265),
            (Codec::Av1, &av1),
        ];
        for (codec, frame) in frames {
            let mut out = vec![0u8; 1024];
            let n = mlsframe::media::seal(codec, &key, b"rtp", frame, &mut out).expect("seal");
            let input = Input::default()
                .byte(codec.id() as u8)
                .byte(3)
                .raw(b"rtp")
                .raw(&out[..n]);
            c.put(
                "codec_layout",
                &format!("{codec:?}").to_lowercase(),
                &input.0,
            );
        }
    }

    // sframe_differential: suites 4 and 5, several KID/CTR widths, metadata, payloads;
    // one input also carries mutations.
    for (i, (kid, ctr)) in [(0u64, 0u64), (7, 8), (300, 1 << 40), (u64::MAX, u64::MAX)]
        .into_iter()
        .enumerate()
    {
        for suite_bit in [0u8, 1] {
            let payload = payloads[i % 3];
            let mut input = Input::default()
                .byte(suite_bit)
                .byte(29) // a base key of 1 + 29 % 64 = 30 bytes
                .raw(b"a shared base key from the app")
                .varint(kid)
                .varint(ctr)
                .short(if i % 2 == 0 { b"" } else { b"rtp-header-ish" })
                .data(payload);
            if i == 2 {
                input = input.u16(0).byte(0x01).u16(5).byte(0x80).u16(40).byte(0);
            }
            c.put(
                "sframe_differential",
                &format!("suite{}-kid{kid}-ctr{ctr}", 4 + suite_bit),
                &input.0,
            );
        }
    }

    // An MLS group: alice adds bob; then a self-update, a leave proposal and its commit.
    let (alice, bob) = (Member::new("alice"), Member::new("bob"));
    // SAFETY: live session.
    ok("create_group", unsafe {
        mlsframe_session_create_group(alice.0, 4, 4, false)
    });
    let bob_kp = bob.key_package();
    let (add_commit, welcome) = alice.add(&bob_kp);
    // SAFETY: live session; valid welcome; epoch out NULL.
    ok("join", unsafe {
        mlsframe_session_join(bob.0, welcome.as_ptr(), welcome.len(), ptr::null_mut())
    });
    // SAFETY: live sessions; writable outputs.
    let update = bytes("self_update", |b| unsafe {
        mlsframe_session_self_update(alice.0, b)
    });
    ok("confirm", unsafe {
        mlsframe_session_confirm_commit(alice.0)
    });
    bob.process(&update);
    // SAFETY: as above.
    let leave = bytes("leave", |b| unsafe { mlsframe_session_leave(bob.0, b) });
    let snapshot = bytes("snapshot", |b| unsafe {
        mlsframe_session_snapshot(bob.0, b)
    });
    alice.process(&leave);
    // SAFETY: as above.
    let remove = bytes("commit_pending_proposals", |b| unsafe {
        mlsframe_session_commit_pending_proposals(alice.0, b, ptr::null_mut())
    });
    let spare_kp = Member::new("carol").key_package();
    let messages: [(&str, &[u8]); 6] = [
        ("commit-add", &add_commit),
        ("commit-update", &update),
        ("commit-remove", &remove),
        ("proposal-leave", &leave),
        ("welcome", &welcome),
        ("key-package", &spare_kp),
    ];
    for (name, m) in messages {
        c.put("mls_process", name, m);
    }
    // A group info (for external joins) and a ratchet tree, from the Rust API.
    {
        use mlsframe::mls::identity::{Identity, MemberIdentity};
        use mlsframe::mls::media::MediaConfig;
        use mlsframe::mls::policy::AdmitAll;
        use mlsframe::mls::session::{GroupParams, Session};
        let id = MemberIdentity::new(b"dave".to_vec(), b"seed".to_vec()).expect("id");
        let mut dave = Session::new(
            Identity::generate(id).expect("rng"),
            std::sync::Arc::new(AdmitAll),
            MediaConfig::default(),
        )
        .expect("session");
        dave.create_group(GroupParams::default()).expect("group");
        c.put(
            "mls_process",
            "group-info",
            &dave.group_info().expect("group info"),
        );
        c.put(
            "mls_process",
            "ratchet-tree",
            &dave.ratchet_tree().expect("tree"),
        );
    }
    // A real snapshot: the fuzzer mutates its key-store values, which our store refuses
    // with an error (openmls_memory_storage 0.6 used to panic on them).
    c.put("session_restore", "bob", &snapshot);

    // media_decrypt and c_abi frames: alice's media encryptor (epoch 2), contexts 0 and 5.
    let mut frames = Vec::new();
    for context in [0u64, 5] {
        let mut enc = ptr::null_mut();
        // SAFETY: live session; writable out.
        ok("encryptor_new", unsafe {
            mlsframe_session_encryptor_new(alice.0, context, &mut enc)
        });
        for (j, payload) in payloads.iter().enumerate() {
            let frame = media_frame(enc, b"", payload);
            c.put(
                "media_decrypt",
                &format!("ctx{context}-len{}", payload.len()),
                &frame,
            );
            if j == 1 {
                frames.push(frame);
            }
        }
        // SAFETY: from `encryptor_new`, freed once.
        unsafe { mlsframe::ffi::encryptor::mlsframe_encryptor_free(enc) };
    }

    // c_abi. Decrypt a fresh frame (source 1) or a real one (source 0) under several
    // layouts: apart; in place; metadata in the arena overlapping the output; `written`
    // inside the output; the extra out-pointer inside the frame. Offsets are read in the
    // order frame, metadata, out (bytes), written, extra (8-byte words), each only when
    // its mode puts it in the arena.
    let layouts: [(&str, u8, u8, [usize; 5]); 5] = [
        ("apart", 0x00, 0x00, [64, 0, 0, 0, 0]),
        ("in-place", 0x01, 0x00, [64, 0, 0, 0, 0]),
        ("meta-in-out", 0x06, 0x01, [64, 200, 190, 0, 0]),
        ("written-in-out", 0x12, 0x00, [64, 1024, 130, 0, 0]),
        ("sender-in-frame", 0x40, 0x00, [64, 9, 0, 0, 0]),
    ];
    let meta = b"rtp";
    for (name, m1, m2, offsets) in layouts {
        let input = Input::default()
            .byte(0)
            .byte(1)
            .data(b"a frame of media")
            .short(meta);
        c.put(
            "c_abi",
            &format!("decryptor-fresh-{name}"),
            &placement(input, m1, m2, 16, offsets).0,
        );
        for suite in 0..5u8 {
            let input = Input::default()
                .byte(1)
                .byte(1 | (suite << 5))
                .data(b"app keyed")
                .short(meta);
            c.put(
                "c_abi",
                &format!("sframe-suite{}-{name}", suite + 1),
                &placement(input, m1, m2, 16, offsets).0,
            );
        }
        for (k, mls) in [(0u8, "mls"), (1, "sframe")] {
            let input = Input::default()
                .byte(3)
                .byte(k)
                .data(b"to seal")
                .short(meta);
            c.put(
                "c_abi",
                &format!("encrypt-{mls}-{name}"),
                &placement(input, m1, 1, 48, offsets).0,
            );
        }
    }
    for (i, frame) in frames.iter().enumerate() {
        let input = Input::default().byte(0).byte(0).data(frame).short(b"");
        c.put(
            "c_abi",
            &format!("decryptor-real-{i}"),
            &placement(input, 0, 0, 0, [0; 5]).0,
        );
    }
    for (name, m) in messages {
        // Raw real message, out apart; and the target's own real messages, mutated, with the
        // outcome inside the message.
        let input = Input::default().byte(2).byte(0).data(m).byte(0).u16(32);
        c.put("c_abi", &format!("process-{name}"), &input.0);
    }
    for k in 0..4u8 {
        let input = Input::default()
            .byte(2)
            .byte(1 | (k << 1))
            .u16(100)
            .byte(0x20)
            .byte(0x08)
            .u16(0)
            .u16(16);
        c.put(
            "c_abi",
            &format!("process-own-message{k}-mutated"),
            &input.0,
        );
    }

    println!(
        "seed corpora written: {} bytes in {}",
        c.total,
        c.root.display()
    );
}
