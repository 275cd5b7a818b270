//! Every layer of the frame path, side by side in one run, for all five RFC 9605 suites at
//! 100 B, 1 KiB, 10 KiB and 100 KiB, sealing and opening:
//!
//! - `aws_lc_{in,out}`: the bare backend as mlsframe's default build uses it: aws-lc-rs
//!   AES-GCM (suites 4, 5), aws-lc-rs AES-CTR plus RustCrypto HMAC-SHA256 (suites 1–3),
//!   each with a pre-expanded key and a 4-byte AAD (the size of mlsframe's header here).
//!   Only with the default `aws-lc-rs` feature.
//! - `rustcrypto_{in,out}`: the same with RustCrypto alone (`aes-gcm`; `aes` + `ctr` +
//!   `hmac`), the `--no-default-features` backend.
//! - `rust_{in,out}`: mlsframe's Rust API, [`SendKey`] and [`Receiver`].
//! - `c_{in,out}`: mlsframe's C ABI, `mlsframe_sframe_context_encrypt/decrypt` called
//!   through the extern fns of the rlib (the same code a C caller reaches).
//! - `sframe_crate`: the `sframe` crate 2.1 (ring backend; suites 4 and 5 only, it has no
//!   CTR suites), out of place into a reused `Vec`.
//!
//! - `rust_in_unmoved`: mlsframe's Rust API in place without moving the plaintext:
//!   [`SendKey::encrypt_with_headroom`] (the plaintext behind 32 bytes of headroom, the
//!   header written before it) and [`Receiver::decrypt_in_place_unmoved`] (the plaintext
//!   left behind the header). This is what the bare `aws_lc_in` rows do.
//! - `rust_out_excl`: `rust_out` through `&mut self` ([`SendKey::encrypt_exclusive`],
//!   [`Receiver::decrypt_exclusive`]: no atomic counter, no lock on the replay window), as
//!   the `sframe` crate's sender and receiver work.
//!
//! `_in` seals/opens in one buffer, `_out` reads one buffer and writes another (aws-lc-rs's
//! AES-CTR works in place only: its `_out` copies first, as mlsframe does). Every in-place
//! open first copies the sealed frame into the work buffer (a frame opened in place is
//! gone); that copy is in every `_in` open row, bare ones included. mlsframe's in-place
//! seal moves the plaintext behind the header and its in-place open moves the plaintext to
//! the start of the buffer (the contract of `encrypt_in_place`/`decrypt_in_place` and of
//! the C ABI, as WebRTC's frame transformers expect), which the bare rows do not do; the
//! `rust_in_unmoved` rows do not either.
//!
//! Opening under a [`Receiver`] refuses a replayed frame, so mlsframe's open rows cycle
//! through distinct frames ([`POOL_BYTES`] of them, 4 to 4,096 frames) and start a fresh
//! receiver (outside the timing) before reusing them. The pool and the output fit in L2,
//! as the bare rows' one reused frame does: with a 32 MiB pool every mlsframe open read a
//! frame no cache held while the bare rows reread a cached one, which alone made mlsframe
//! 10–40% slower at 10 and 100 KiB (AES-GCM; `docs/bench/notes.md`).
//!
//! `cargo bench --bench layers`. Names: `{seal,open}/suite{1..5}/{impl}/{size}`.
//!
//! Instruction counts (load-independent): `MLSFRAME_BENCH_COUNT=seal/suite4/rust_out/100`
//! runs that case's calls inside `measured` only, for `valgrind --tool=callgrind
//! --toggle-collect='*measured*'`; `scripts/callgrind-ratios.sh` does this for the target
//! ratios.

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use aes::Aes128;
use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use criterion::{BenchmarkId, Criterion, Throughput};
use ctr::cipher::{InnerIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use mlsframe::ffi::mlsframe_result;
use mlsframe::ffi::sframe_context::{
    mlsframe_sframe_context, mlsframe_sframe_context_add_receive_key,
    mlsframe_sframe_context_decrypt, mlsframe_sframe_context_encrypt, mlsframe_sframe_context_free,
    mlsframe_sframe_context_new, mlsframe_sframe_context_set_send_key,
};
use mlsframe::sframe::{CipherSuite, Receiver, SendKey, max_frame_len};
use sha2::Sha256;

const SIZES: [usize; 4] = [100, 1024, 10 * 1024, 100 * 1024];
const BASE_KEY: &[u8] = b"benchmark base key 0123456789abc";
const KID: u64 = 7;
/// AEAD key bytes of the bare rows (the derived key's length is what matters).
const KEY: [u8; 48] = [0x42; 48];
const NONCE: [u8; 12] = [9; 12];
/// As long as mlsframe's header for KID 7 and a counter of 3 bytes.
const AAD: [u8; 4] = [0x17, 0x01, 0x02, 0x03];
/// Bytes of distinct sealed frames an mlsframe open row cycles through: with the output,
/// within a 1 MiB L2, so that they are as warm as the bare rows' reused frame.
const POOL_BYTES: usize = 256 << 10;
/// Headroom of the `rust_in_unmoved` seal rows: at least `MAX_HEADER_LEN`, and a multiple
/// of 32 so that the plaintext is as aligned as the bare rows'.
const HEADROOM: usize = 32;

/// One timed operation. `fresh` prepares state outside the timing and says how many `run`s
/// may follow before the next `fresh`.
trait Op {
    fn fresh(&mut self) -> usize {
        usize::MAX
    }
    fn run(&mut self);
    fn run_n(&mut self, n: usize) {
        for _ in 0..n {
            self.run();
        }
    }
}

/// An operation with no state to renew.
struct Plain<F: FnMut()>(F);

impl<F: FnMut()> Op for Plain<F> {
    fn run(&mut self) {
        (self.0)()
    }
}

/// Opens distinct frames in order; `make` builds a fresh receiving state.
struct Frames<S, M: FnMut() -> S, O: FnMut(&mut S, &[u8])> {
    frames: Rc<Vec<Vec<u8>>>,
    make: M,
    open: O,
    state: Option<S>,
    next: usize,
}

impl<S, M: FnMut() -> S, O: FnMut(&mut S, &[u8])> Frames<S, M, O> {
    /// A row that opens `frames` with `open`, each pass under a fresh state from `make`.
    fn boxed(frames: &Rc<Vec<Vec<u8>>>, make: M, open: O) -> Box<Self> {
        Box::new(Frames {
            frames: Rc::clone(frames),
            make,
            open,
            state: None,
            next: 0,
        })
    }
}

impl<S, M: FnMut() -> S, O: FnMut(&mut S, &[u8])> Op for Frames<S, M, O> {
    fn fresh(&mut self) -> usize {
        self.state = None;
        self.state = Some((self.make)());
        self.next = 0;
        self.frames.len()
    }
    fn run(&mut self) {
        let state = self.state.as_mut().expect("fresh first");
        (self.open)(state, &self.frames[self.next]);
        self.next += 1;
    }
}

/// Input at 0 and an output 2 KiB past a 4 KiB boundary, in one allocation (no 4K
/// aliasing between them).
struct Bufs {
    mem: Vec<u8>,
    out_at: usize,
}

impl Bufs {
    fn new(len: usize) -> Bufs {
        let out_at = len.div_ceil(4096) * 4096 + 2048;
        let mut mem = vec![0u8; out_at + len + 64];
        for (i, b) in mem[..len].iter_mut().enumerate() {
            *b = i as u8;
        }
        Bufs { mem, out_at }
    }

    fn split(&mut self, len: usize) -> (&mut [u8], &mut [u8]) {
        let (input, rest) = self.mem.split_at_mut(self.out_at);
        (&mut input[..len], &mut rest[..len + 64])
    }
}

fn suite_no(suite: CipherSuite) -> u16 {
    suite as u16
}

fn is_gcm(suite: CipherSuite) -> bool {
    matches!(
        suite,
        CipherSuite::Aes128GcmSha256_128 | CipherSuite::Aes256GcmSha512_128
    )
}

/// The §4.5.1 tag over `ct`, with a keyed HMAC state cloned per frame (as mlsframe does).
fn hmac_tag(mac: &Hmac<Sha256>, tag_len: usize, aad: &[u8], ct: &[u8]) -> [u8; 32] {
    let mut mac = mac.clone();
    mac.update(&(aad.len() as u64).to_be_bytes());
    mac.update(&(ct.len() as u64).to_be_bytes());
    mac.update(&(tag_len as u64).to_be_bytes());
    mac.update(&NONCE);
    mac.update(aad);
    mac.update(ct);
    mac.finalize().into_bytes().into()
}

fn ctr_iv() -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..12].copy_from_slice(&NONCE);
    iv
}

/// A sealed frame body and tag for the bare open rows, and the AEAD that opens it.
fn rustcrypto_cases(
    suite: CipherSuite,
    len: usize,
    seal: bool,
    out: &mut Vec<(String, Box<dyn Op>)>,
) {
    let tag_len = suite.tag_len();
    enum Gcm {
        A128(Box<Aes128Gcm>),
        A256(Box<Aes256Gcm>),
    }
    let gcm = Rc::new(match suite {
        CipherSuite::Aes256GcmSha512_128 => Gcm::A256(Box::new(
            Aes256Gcm::new_from_slice(&KEY[..32]).expect("key"),
        )),
        _ => Gcm::A128(Box::new(
            Aes128Gcm::new_from_slice(&KEY[..16]).expect("key"),
        )),
    });
    let aes = Rc::new(Aes128::new_from_slice(&KEY[..16]).expect("key"));
    let mac = Rc::new(<Hmac<Sha256> as KeyInit>::new_from_slice(&KEY[16..48]).expect("key"));
    let gcm_seal = |g: &Gcm, buf: InOutBuf<'_, '_, u8>| -> [u8; 32] {
        let tag = match g {
            Gcm::A128(k) => k.encrypt_inout_detached(&NONCE.into(), &AAD, buf),
            Gcm::A256(k) => k.encrypt_inout_detached(&NONCE.into(), &AAD, buf),
        }
        .expect("seals");
        let mut out = [0u8; 32];
        out[..16].copy_from_slice(&tag);
        out
    };
    let gcm_open = |g: &Gcm, buf: InOutBuf<'_, '_, u8>, tag: &[u8]| {
        let tag = tag.try_into().expect("16 bytes");
        match g {
            Gcm::A128(k) => k.decrypt_inout_detached(&NONCE.into(), &AAD, buf, tag),
            Gcm::A256(k) => k.decrypt_inout_detached(&NONCE.into(), &AAD, buf, tag),
        }
        .expect("opens")
    };
    let ctr = |aes: &Aes128, buf: InOutBuf<'_, '_, u8>| {
        let core = ctr::CtrCore::inner_iv_init(aes.clone(), &ctr_iv().into());
        ctr::Ctr32BE::<Aes128>::from_core(core)
            .try_apply_keystream_inout(buf)
            .expect("in range");
    };
    let gcm_suite = is_gcm(suite);
    if seal {
        for in_place in [false, true] {
            let mut bufs = Bufs::new(len);
            let (gcm, aes, mac) = (gcm.clone(), aes.clone(), mac.clone());
            let name = if in_place {
                "rustcrypto_in"
            } else {
                "rustcrypto_out"
            };
            out.push((
                name.into(),
                Box::new(Plain(move || {
                    let (input, output) = bufs.split(len);
                    let (body, rest) = output.split_at_mut(len);
                    let (buf, ct) = if in_place {
                        (InOutBuf::from(&mut *input), 0)
                    } else {
                        (InOutBuf::new(input, body).expect("same length"), 1)
                    };
                    let tag = if gcm_suite {
                        gcm_seal(&gcm, buf)
                    } else {
                        ctr(&aes, buf);
                        let ct: &[u8] = if ct == 0 { input } else { body };
                        hmac_tag(&mac, tag_len, &AAD, ct)
                    };
                    rest[..tag_len].copy_from_slice(&tag[..tag_len]);
                    black_box(&rest[0]);
                })),
            ));
        }
    } else {
        // A sealed body and tag under the same key and nonce.
        let mut sealed: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let tag = if gcm_suite {
            gcm_seal(&gcm, InOutBuf::from(&mut sealed[..]))
        } else {
            ctr(&aes, InOutBuf::from(&mut sealed[..]));
            hmac_tag(&mac, tag_len, &AAD, &sealed)
        };
        for in_place in [false, true] {
            let (gcm, aes, mac) = (gcm.clone(), aes.clone(), mac.clone());
            let sealed = sealed.clone();
            let mut work = vec![0u8; len];
            let name = if in_place {
                "rustcrypto_in"
            } else {
                "rustcrypto_out"
            };
            out.push((
                name.into(),
                Box::new(Plain(move || {
                    let buf = if in_place {
                        work.copy_from_slice(&sealed);
                        InOutBuf::from(&mut work[..])
                    } else {
                        InOutBuf::new(&sealed, &mut work).expect("same length")
                    };
                    if gcm_suite {
                        gcm_open(&gcm, buf, &tag[..16]);
                    } else {
                        let input: &[u8] = if in_place { buf.get_in() } else { &sealed };
                        let expected = hmac_tag(&mac, tag_len, &AAD, input);
                        assert!(expected[..tag_len] == tag[..tag_len], "authentic");
                        ctr(&aes, buf);
                    }
                    black_box(&work[0]);
                })),
            ));
        }
    }
}

#[cfg(feature = "aws-lc-rs")]
fn aws_lc_cases(suite: CipherSuite, len: usize, seal: bool, out: &mut Vec<(String, Box<dyn Op>)>) {
    use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};

    let tag_len = suite.tag_len();
    let gcm_suite = is_gcm(suite);
    let gcm = Rc::new(if suite == CipherSuite::Aes256GcmSha512_128 {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &KEY[..32]).expect("key"))
    } else {
        LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &KEY[..16]).expect("key"))
    });
    let ctr = Rc::new(
        EncryptingKey::ctr(UnboundCipherKey::new(&AES_128, &KEY[..16]).expect("key")).expect("key"),
    );
    let mac = Rc::new(<Hmac<Sha256> as KeyInit>::new_from_slice(&KEY[16..48]).expect("key"));
    let nonce = || Nonce::assume_unique_for_key(NONCE);
    let apply_ctr = |k: &EncryptingKey, buf: &mut [u8]| {
        k.less_safe_encrypt(buf, EncryptionContext::Iv128(ctr_iv().into()))
            .expect("in range");
    };
    if seal {
        for in_place in [false, true] {
            let mut bufs = Bufs::new(len);
            let (gcm, ctr, mac) = (gcm.clone(), ctr.clone(), mac.clone());
            let name = if in_place { "aws_lc_in" } else { "aws_lc_out" };
            out.push((
                name.into(),
                Box::new(Plain(move || {
                    let (input, output) = bufs.split(len);
                    let (body, rest) = output.split_at_mut(len);
                    let tag = &mut rest[..tag_len];
                    if gcm_suite {
                        if in_place {
                            gcm.seal_in_place_scatter(nonce(), Aad::from(AAD), input, &[], tag)
                        } else {
                            gcm.seal_out_of_place_scatter(
                                nonce(),
                                Aad::from(AAD),
                                input,
                                body,
                                &[],
                                tag,
                            )
                        }
                        .expect("seals");
                    } else {
                        let ct: &mut [u8] = if in_place {
                            input
                        } else {
                            body.copy_from_slice(input);
                            body
                        };
                        apply_ctr(&ctr, ct);
                        let full = hmac_tag(&mac, tag_len, &AAD, ct);
                        tag.copy_from_slice(&full[..tag_len]);
                    }
                    black_box(&rest[0]);
                })),
            ));
        }
    } else {
        let mut sealed: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let tag: Vec<u8> = if gcm_suite {
            gcm.seal_in_place_separate_tag(nonce(), Aad::from(AAD), &mut sealed)
                .expect("seals")
                .as_ref()
                .to_vec()
        } else {
            apply_ctr(&ctr, &mut sealed);
            hmac_tag(&mac, tag_len, &AAD, &sealed)[..tag_len].to_vec()
        };
        for in_place in [false, true] {
            let (gcm, ctr, mac) = (gcm.clone(), ctr.clone(), mac.clone());
            let (sealed, tag) = (sealed.clone(), tag.clone());
            let mut work = vec![0u8; len];
            let name = if in_place { "aws_lc_in" } else { "aws_lc_out" };
            out.push((
                name.into(),
                Box::new(Plain(move || {
                    if gcm_suite {
                        if in_place {
                            work.copy_from_slice(&sealed);
                            gcm.open_in_place_separate_tag(nonce(), Aad::from(AAD), &tag, &mut work)
                                .map(|_| ())
                        } else {
                            gcm.open_separate_gather(
                                nonce(),
                                Aad::from(AAD),
                                &sealed,
                                &tag,
                                &mut work,
                            )
                        }
                        .expect("opens");
                    } else {
                        let expected = hmac_tag(&mac, tag_len, &AAD, &sealed);
                        assert!(expected[..tag_len] == tag[..], "authentic");
                        // Out of place: copy, then in place (aws-lc-rs's CTR has no other
                        // way). In place: the frame's copy into the work buffer.
                        work.copy_from_slice(&sealed);
                        apply_ctr(&ctr, &mut work);
                    }
                    black_box(&work[0]);
                })),
            ));
        }
    }
}

#[cfg(not(feature = "aws-lc-rs"))]
fn aws_lc_cases(_: CipherSuite, _: usize, _: bool, _: &mut Vec<(String, Box<dyn Op>)>) {}

/// A C context with a send key and a receive key for `KID`.
struct Context(*mut mlsframe_sframe_context);

impl Context {
    fn new(suite: CipherSuite) -> Context {
        let mut ctx = std::ptr::null_mut();
        // SAFETY: `ctx` is writable; the key pointers are valid for their lengths.
        unsafe {
            assert_eq!(
                mlsframe_sframe_context_new(0, &mut ctx),
                mlsframe_result::MLSFRAME_OK
            );
            assert_eq!(
                mlsframe_sframe_context_set_send_key(
                    ctx,
                    suite_no(suite),
                    KID,
                    BASE_KEY.as_ptr(),
                    BASE_KEY.len(),
                    0
                ),
                mlsframe_result::MLSFRAME_OK
            );
            assert_eq!(
                mlsframe_sframe_context_add_receive_key(
                    ctx,
                    suite_no(suite),
                    KID,
                    BASE_KEY.as_ptr(),
                    BASE_KEY.len()
                ),
                mlsframe_result::MLSFRAME_OK
            );
        }
        Context(ctx)
    }

    /// Seals `input` (`in_len` bytes) into `out`; `input == out` seals in place.
    fn encrypt(&self, input: *const u8, in_len: usize, out: *mut u8, cap: usize) -> usize {
        let mut written = 0usize;
        // SAFETY: the pointers are valid for their lengths (the callers pass slices).
        let rc = unsafe {
            mlsframe_sframe_context_encrypt(
                self.0,
                input,
                in_len,
                std::ptr::null(),
                0,
                out,
                cap,
                &mut written,
            )
        };
        assert_eq!(rc, mlsframe_result::MLSFRAME_OK);
        written
    }

    /// Opens `frame` into `out`; `frame == out` opens in place.
    fn decrypt(&self, frame: *const u8, len: usize, out: *mut u8, cap: usize) -> usize {
        let mut written = 0usize;
        // SAFETY: the pointers are valid for their lengths (the callers pass slices).
        let rc = unsafe {
            mlsframe_sframe_context_decrypt(
                self.0,
                frame,
                len,
                std::ptr::null(),
                0,
                out,
                cap,
                &mut written,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, mlsframe_result::MLSFRAME_OK);
        written
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: from `mlsframe_sframe_context_new`, freed once, not in use.
        unsafe { mlsframe_sframe_context_free(self.0) }
    }
}

fn mlsframe_cases(
    suite: CipherSuite,
    len: usize,
    seal: bool,
    out: &mut Vec<(String, Box<dyn Op>)>,
) {
    let cap = max_frame_len(suite, len).expect("small");
    if seal {
        let key = Rc::new(SendKey::new(suite, KID, BASE_KEY));
        {
            let (key, mut bufs) = (key.clone(), Bufs::new(cap));
            out.push((
                "rust_out".into(),
                Box::new(Plain(move || {
                    let (input, output) = bufs.split(cap);
                    black_box(key.encrypt(b"", &input[..len], output).expect("seals"));
                })),
            ));
        }
        {
            let (key, mut bufs) = (key.clone(), Bufs::new(cap));
            out.push((
                "rust_in".into(),
                Box::new(Plain(move || {
                    let (buf, _) = bufs.split(cap);
                    black_box(key.encrypt_in_place(b"", buf, len).expect("seals"));
                })),
            ));
        }
        {
            // The plaintext 32 bytes in (as aligned as the bare rows' buffer), behind
            // headroom for the largest header.
            let mut bufs = Bufs::new(cap + HEADROOM);
            out.push((
                "rust_in_unmoved".into(),
                Box::new(Plain(move || {
                    let (buf, _) = bufs.split(cap + HEADROOM);
                    black_box(
                        key.encrypt_with_headroom(b"", buf, HEADROOM, len)
                            .expect("seals"),
                    );
                })),
            ));
        }
        // The same through `&mut self` (as the `sframe` crate seals): the row owns its key.
        {
            let (mut key, mut bufs) = (SendKey::new(suite, KID, BASE_KEY), Bufs::new(cap));
            out.push((
                "rust_out_excl".into(),
                Box::new(Plain(move || {
                    let (input, output) = bufs.split(cap);
                    black_box(
                        key.encrypt_exclusive(b"", &input[..len], output)
                            .expect("seals"),
                    );
                })),
            ));
        }
        let ctx = Rc::new(Context::new(suite));
        {
            let (ctx, mut bufs) = (ctx.clone(), Bufs::new(cap));
            out.push((
                "c_out".into(),
                Box::new(Plain(move || {
                    let (input, output) = bufs.split(cap);
                    black_box(ctx.encrypt(input.as_ptr(), len, output.as_mut_ptr(), output.len()));
                })),
            ));
        }
        let mut bufs = Bufs::new(cap);
        out.push((
            "c_in".into(),
            Box::new(Plain(move || {
                let (buf, _) = bufs.split(cap);
                black_box(ctx.encrypt(buf.as_ptr(), len, buf.as_mut_ptr(), buf.len()));
            })),
        ));
    } else {
        let sender = SendKey::new(suite, KID, BASE_KEY);
        let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let count = (POOL_BYTES / len).clamp(4, 4096);
        let frames = Rc::new(
            (0..count)
                .map(|_| sender.encrypt_to_vec(b"", &plain).expect("seals"))
                .collect::<Vec<_>>(),
        );
        let receiver = move || {
            let mut r = Receiver::new();
            r.add_key(suite, KID, BASE_KEY).expect("installs");
            r
        };
        let mut work = vec![0u8; cap];
        out.push((
            "rust_out".into(),
            Frames::boxed(&frames, receiver, move |r: &mut Receiver, f: &[u8]| {
                black_box(r.decrypt(b"", f, &mut work).expect("opens").len);
            }),
        ));
        let mut work = vec![0u8; cap];
        out.push((
            "rust_in".into(),
            Frames::boxed(&frames, receiver, move |r: &mut Receiver, f: &[u8]| {
                let buf = &mut work[..f.len()];
                buf.copy_from_slice(f);
                black_box(r.decrypt_in_place(b"", buf).expect("opens").len);
            }),
        ));
        let mut work = vec![0u8; cap];
        out.push((
            "rust_in_unmoved".into(),
            Frames::boxed(&frames, receiver, move |r: &mut Receiver, f: &[u8]| {
                let buf = &mut work[..f.len()];
                buf.copy_from_slice(f);
                black_box(r.decrypt_in_place_unmoved(b"", buf).expect("opens").1);
            }),
        ));
        let mut work = vec![0u8; cap];
        out.push((
            "rust_out_excl".into(),
            Frames::boxed(&frames, receiver, move |r: &mut Receiver, f: &[u8]| {
                black_box(r.decrypt_exclusive(b"", f, &mut work).expect("opens").len);
            }),
        ));
        let mut work = vec![0u8; cap];
        out.push((
            "c_out".into(),
            Frames::boxed(
                &frames,
                move || Context::new(suite),
                move |c: &mut Context, f: &[u8]| {
                    black_box(c.decrypt(f.as_ptr(), f.len(), work.as_mut_ptr(), work.len()));
                },
            ),
        ));
        let mut work = vec![0u8; cap];
        out.push((
            "c_in".into(),
            Frames::boxed(
                &frames,
                move || Context::new(suite),
                move |c: &mut Context, f: &[u8]| {
                    let buf = &mut work[..f.len()];
                    buf.copy_from_slice(f);
                    black_box(c.decrypt(buf.as_ptr(), buf.len(), buf.as_mut_ptr(), buf.len()));
                },
            ),
        ));
    }
}

fn sframe_crate_cases(
    suite: CipherSuite,
    len: usize,
    seal: bool,
    out: &mut Vec<(String, Box<dyn Op>)>,
) {
    use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
    use sframe::key::{DecryptionKey, EncryptionKey};
    let theirs = match suite {
        CipherSuite::Aes128GcmSha256_128 => sframe::CipherSuite::AesGcm128Sha256,
        CipherSuite::Aes256GcmSha512_128 => sframe::CipherSuite::AesGcm256Sha512,
        _ => return,
    };
    let enc = EncryptionKey::derive_from(theirs, KID, BASE_KEY).expect("derives");
    let input: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut counter = MonotonicCounter::default();
    let mut buf = Vec::with_capacity(len + 64);
    if seal {
        out.push((
            "sframe_crate".into(),
            Box::new(Plain(move || {
                let frame = MediaFrameView::try_new(&mut counter, &input).expect("counter");
                black_box(
                    frame
                        .encrypt_into(&enc, &mut buf)
                        .expect("seals")
                        .cipher_text()
                        .len(),
                );
            })),
        ));
    } else {
        let dec = DecryptionKey::derive_from(theirs, KID, BASE_KEY).expect("derives");
        let wire = MediaFrameView::try_new(&mut counter, &input)
            .expect("counter")
            .encrypt_into(&enc, &mut buf)
            .expect("seals")
            .sframe_cipher_text()
            .to_vec();
        let mut plain = Vec::with_capacity(len);
        out.push((
            "sframe_crate".into(),
            Box::new(Plain(move || {
                let view = EncryptedFrameView::try_new(&wire).expect("parses");
                black_box(
                    view.decrypt_into(&dec, &mut plain)
                        .expect("opens")
                        .payload()
                        .len(),
                );
            })),
        ));
    }
}

/// Every case of one (operation, suite, size).
fn cases(seal: bool, suite: CipherSuite, len: usize) -> Vec<(String, Box<dyn Op>)> {
    let mut out = Vec::new();
    aws_lc_cases(suite, len, seal, &mut out);
    rustcrypto_cases(suite, len, seal, &mut out);
    mlsframe_cases(suite, len, seal, &mut out);
    sframe_crate_cases(suite, len, seal, &mut out);
    out
}

fn op_name(seal: bool) -> &'static str {
    if seal { "seal" } else { "open" }
}

/// `iters` calls of `op`, renewing its state outside the timing when it asks.
fn timed(op: &mut dyn Op, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let n = (op.fresh() as u64).min(iters - done) as usize;
        let start = Instant::now();
        op.run_n(n);
        total += start.elapsed();
        done += n as u64;
    }
    total
}

fn bench_all(c: &mut Criterion) {
    for seal in [true, false] {
        for suite in CipherSuite::ALL {
            let mut group =
                c.benchmark_group(format!("{}/suite{}", op_name(seal), suite_no(suite)));
            let (warm_up, measure) = if smoke() { (10, 30) } else { (150, 400) };
            group
                .warm_up_time(Duration::from_millis(warm_up))
                .measurement_time(Duration::from_millis(measure))
                .sample_size(if smoke() { 10 } else { 20 })
                .nresamples(10_000);
            for len in SIZES {
                group.throughput(Throughput::Bytes(len as u64));
                for (name, mut op) in cases(seal, suite, len) {
                    group.bench_function(BenchmarkId::new(name, len), |b| {
                        b.iter_custom(|iters| timed(op.as_mut(), iters))
                    });
                }
            }
            group.finish();
        }
    }
}

/// `MLSFRAME_BENCH_SMOKE` set: a few milliseconds per case, to check the report end to end
/// (`scripts/bench.sh --smoke`); the figures mean nothing.
fn smoke() -> bool {
    std::env::var_os("MLSFRAME_BENCH_SMOKE").is_some()
}

/// Counted by callgrind with `--toggle-collect='*measured*'`.
#[inline(never)]
fn measured(op: &mut dyn Op, n: usize) {
    op.run_n(n)
}

/// `MLSFRAME_BENCH_COUNT=op/suiteN/impl/size`: that case's calls alone (after one warm-up
/// call), for callgrind.
fn count(case: &str) {
    let parts: Vec<&str> = case.split('/').collect();
    let [op, suite, name, size] = parts[..] else {
        panic!("expected op/suiteN/impl/size, got {case}");
    };
    let seal = op == "seal";
    let suite = suite
        .strip_prefix("suite")
        .and_then(|n| n.parse::<u16>().ok())
        .and_then(|n| CipherSuite::try_from(n).ok())
        .expect("suite1..suite5");
    let len: usize = size.parse().expect("size in bytes");
    let (_, mut op) = cases(seal, suite, len)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no case {case}"));
    let n = op.fresh().min(1001) - 1;
    op.run();
    measured(op.as_mut(), n);
    println!("{case}: {n} calls measured");
}

fn main() {
    if let Ok(case) = std::env::var("MLSFRAME_BENCH_COUNT") {
        count(&case);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench_all(&mut c);
    c.final_summary();
}
