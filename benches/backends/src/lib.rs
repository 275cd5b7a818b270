//! Bare AEAD work per frame, one closure per (backend, operation, suite, size), shared by
//! the criterion bench (`cargo bench`) and the instruction counter (`src/bin/count.rs`,
//! run under `valgrind --tool=callgrind`).
//!
//! Every case holds a pre-expanded key (built once, outside the measured work), as
//! mlsframe's `FrameKey` does; only the per-frame work is measured. Seal and open both
//! take a fresh nonce-sized value each call, like a frame counter would.
//!
//! Beside them, `lock/*`: what a frame pays to take and release the lock around a key's
//! counter or replay window, uncontended (`std_mutex`, `spin_mutex` as mlsframe's
//! `FrameLock`, an `atomic_fetch_add` as a shared `SendKey` takes its counter, and `none`:
//! the same increment without synchronisation).

use std::hint::black_box;

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use ctr::cipher::{InnerIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Frame sizes compared: an audio frame, 1 KiB (where ring and aws-lc-rs cross over out of
/// place on a machine without VAES) and a video-ish frame.
pub const SIZES: [usize; 3] = [100, 1024, 10 * 1024];

/// One measurable case: `name` like `seal/aes128gcm/ring/in_place/100`.
pub struct Case {
    pub name: String,
    pub run: Box<dyn FnMut()>,
}

fn case(name: String, run: impl FnMut() + 'static) -> Case {
    Case {
        name,
        run: Box::new(run),
    }
}

const KEY: [u8; 48] = [0x42; 48];
const NONCE: [u8; 12] = [7; 12];
const AAD: [u8; 1] = [0x17];

/// Input and output in one allocation, 2 KiB apart modulo 4 KiB (no 4K aliasing).
struct Bufs {
    mem: Vec<u8>,
    out_at: usize,
    len: usize,
}

impl Bufs {
    fn new(len: usize) -> Bufs {
        let out_at = len.div_ceil(4096) * 4096 + 2048;
        let mut mem = vec![0u8; out_at + len + 64];
        for (i, b) in mem[..len + 16].iter_mut().enumerate() {
            *b = i as u8;
        }
        Bufs { mem, out_at, len }
    }

    /// (input of `len + extra` bytes, output of `len + 16` bytes).
    fn split(&mut self, extra: usize) -> (&mut [u8], &mut [u8]) {
        let (input, rest) = self.mem.split_at_mut(self.out_at);
        (&mut input[..self.len + extra], &mut rest[..self.len + 16])
    }
}

fn gcm_cases(out: &mut Vec<Case>, bits: usize, len: usize) {
    let klen = bits / 8;
    let suite = format!("aes{bits}gcm");

    // RustCrypto aes-gcm 0.11: out of place, one pass (inout).
    {
        macro_rules! rc {
            ($ty:ty) => {{
                let aead = <$ty>::new_from_slice(&KEY[..klen]).unwrap();
                let mut bufs = Bufs::new(len);
                out.push(case(
                    format!("seal/{suite}/rustcrypto/out_of_place/{len}"),
                    move || {
                        let (input, output) = bufs.split(0);
                        let buf = InOutBuf::new(input, &mut output[..len]).unwrap();
                        black_box(
                            aead.encrypt_inout_detached(&NONCE.into(), &AAD, buf)
                                .unwrap(),
                        );
                    },
                ));
                let aead = <$ty>::new_from_slice(&KEY[..klen]).unwrap();
                let mut bufs = Bufs::new(len);
                let (input, _) = bufs.split(0);
                let tag = aead
                    .encrypt_inout_detached(&NONCE.into(), &AAD, InOutBuf::from(&mut input[..]))
                    .unwrap();
                out.push(case(
                    format!("open/{suite}/rustcrypto/out_of_place/{len}"),
                    move || {
                        let (input, output) = bufs.split(0);
                        let buf = InOutBuf::new(input, &mut output[..len]).unwrap();
                        aead.decrypt_inout_detached(&NONCE.into(), &AAD, buf, &tag)
                            .unwrap();
                        black_box(output[0]);
                    },
                ));
            }};
        }
        if bits == 128 {
            rc!(aes_gcm::Aes128Gcm)
        } else {
            rc!(aes_gcm::Aes256Gcm)
        }
    }

    // ring 0.17: in place only; out of place = copy, then seal in place.
    {
        use ring::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let alg = if bits == 128 {
            &AES_128_GCM
        } else {
            &AES_256_GCM
        };
        let key = || LessSafeKey::new(UnboundKey::new(alg, &KEY[..klen]).unwrap());
        let k = key();
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/ring/in_place/{len}"),
            move || {
                let (input, _) = bufs.split(0);
                let n = Nonce::assume_unique_for_key(NONCE);
                let _ = black_box(
                    k.seal_in_place_separate_tag(n, Aad::from(AAD), input)
                        .unwrap(),
                );
            },
        ));
        let k = key();
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/ring/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(0);
                let output = &mut output[..len];
                output.copy_from_slice(input);
                let n = Nonce::assume_unique_for_key(NONCE);
                let _ = black_box(
                    k.seal_in_place_separate_tag(n, Aad::from(AAD), output)
                        .unwrap(),
                );
            },
        ));
        // Open: a sealed body + tag, decrypted into a copy (in place needs a fresh
        // ciphertext every call, so each call first restores it: the copy is the cost of
        // out of place, and in place is measured as open_within on a restored buffer).
        let k = key();
        let mut sealed = Bufs::new(len).mem[..len].to_vec();
        let tag = k
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(NONCE),
                Aad::from(AAD),
                &mut sealed,
            )
            .unwrap();
        sealed.extend_from_slice(tag.as_ref());
        let mut bufs = Bufs::new(len);
        bufs.mem[..len + 16].copy_from_slice(&sealed);
        out.push(case(
            format!("open/{suite}/ring/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(16);
                output.copy_from_slice(input);
                let n = Nonce::assume_unique_for_key(NONCE);
                black_box(k.open_in_place(n, Aad::from(AAD), output).unwrap().len());
            },
        ));
    }

    // aws-lc-rs: in place, and out of place in one pass (scatter / gather).
    {
        use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let alg = if bits == 128 {
            &AES_128_GCM
        } else {
            &AES_256_GCM
        };
        let key = || LessSafeKey::new(UnboundKey::new(alg, &KEY[..klen]).unwrap());
        let k = key();
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/aws-lc-rs/in_place/{len}"),
            move || {
                let (input, _) = bufs.split(0);
                let n = Nonce::assume_unique_for_key(NONCE);
                let _ = black_box(
                    k.seal_in_place_separate_tag(n, Aad::from(AAD), input)
                        .unwrap(),
                );
            },
        ));
        let k = key();
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/aws-lc-rs/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(0);
                let (body, tag) = output.split_at_mut(len);
                let n = Nonce::assume_unique_for_key(NONCE);
                k.seal_out_of_place_scatter(n, Aad::from(AAD), input, body, &[], tag)
                    .unwrap();
                black_box(tag[0]);
            },
        ));
        let k = key();
        let mut sealed = Bufs::new(len).mem[..len].to_vec();
        let tag = k
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(NONCE),
                Aad::from(AAD),
                &mut sealed,
            )
            .unwrap();
        sealed.extend_from_slice(tag.as_ref());
        let mut bufs = Bufs::new(len);
        bufs.mem[..len + 16].copy_from_slice(&sealed);
        out.push(case(
            format!("open/{suite}/aws-lc-rs/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(16);
                let (ct, tag) = input.split_at(len);
                let n = Nonce::assume_unique_for_key(NONCE);
                k.open_separate_gather(n, Aad::from(AAD), ct, tag, &mut output[..len])
                    .unwrap();
                black_box(output[0]);
            },
        ));
    }
}

type Aes128Ctr = ctr::Ctr32BE<aes::Aes128>;

/// Suites 1-3: AES-128-CTR, then HMAC-SHA256 over lengths, nonce, AAD and ciphertext.
fn ctr_hmac_cases(out: &mut Vec<Case>, len: usize) {
    let suite = "aes128ctr_hmac";
    fn iv() -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv[..12].copy_from_slice(&NONCE);
        iv
    }

    // RustCrypto: aes + ctr (out of place, inout) + hmac/sha2, keys pre-expanded.
    {
        let aes = <aes::Aes128 as aes::cipher::KeyInit>::new_from_slice(&KEY[..16]).unwrap();
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&KEY[16..]).unwrap();
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/rustcrypto/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(0);
                let body = &mut output[..len];
                let mut c =
                    Aes128Ctr::from_core(ctr::CtrCore::inner_iv_init(aes.clone(), &iv().into()));
                c.apply_keystream_inout(InOutBuf::new(input, body).unwrap());
                let mut m = mac.clone();
                m.update(&(AAD.len() as u64).to_be_bytes());
                m.update(&(len as u64).to_be_bytes());
                m.update(&10u64.to_be_bytes());
                m.update(&NONCE);
                m.update(&AAD);
                m.update(body);
                black_box(m.finalize().into_bytes());
            },
        ));
    }

    // aws-lc-rs: AES-CTR in place (copy first when out of place), HMAC-SHA256.
    {
        use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
        use aws_lc_rs::hmac;
        let aes = EncryptingKey::ctr(UnboundCipherKey::new(&AES_128, &KEY[..16]).unwrap()).unwrap();
        let mac = hmac::Key::new(hmac::HMAC_SHA256, &KEY[16..]);
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/aws-lc-rs/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(0);
                let body = &mut output[..len];
                body.copy_from_slice(input);
                aes.less_safe_encrypt(body, EncryptionContext::Iv128(iv().into()))
                    .unwrap();
                let mut m = hmac::Context::with_key(&mac);
                m.update(&(AAD.len() as u64).to_be_bytes());
                m.update(&(len as u64).to_be_bytes());
                m.update(&10u64.to_be_bytes());
                m.update(&NONCE);
                m.update(&AAD);
                m.update(body);
                black_box(m.sign());
            },
        ));
    }

    // aws-lc-rs's AES-CTR with RustCrypto's HMAC.
    {
        use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};
        let aes = EncryptingKey::ctr(UnboundCipherKey::new(&AES_128, &KEY[..16]).unwrap()).unwrap();
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&KEY[16..]).unwrap();
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/aws-lc-rs-ctr+rustcrypto-hmac/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(0);
                let body = &mut output[..len];
                body.copy_from_slice(input);
                aes.less_safe_encrypt(body, EncryptionContext::Iv128(iv().into()))
                    .unwrap();
                let mut m = mac.clone();
                m.update(&(AAD.len() as u64).to_be_bytes());
                m.update(&(len as u64).to_be_bytes());
                m.update(&10u64.to_be_bytes());
                m.update(&NONCE);
                m.update(&AAD);
                m.update(body);
                black_box(m.finalize().into_bytes());
            },
        ));
    }

    // ring has no public AES-CTR: its HMAC with RustCrypto's CTR.
    {
        use ring::hmac;
        let aes = <aes::Aes128 as aes::cipher::KeyInit>::new_from_slice(&KEY[..16]).unwrap();
        let mac = hmac::Key::new(hmac::HMAC_SHA256, &KEY[16..]);
        let mut bufs = Bufs::new(len);
        out.push(case(
            format!("seal/{suite}/ring+rustcrypto-ctr/out_of_place/{len}"),
            move || {
                let (input, output) = bufs.split(0);
                let body = &mut output[..len];
                let mut c =
                    Aes128Ctr::from_core(ctr::CtrCore::inner_iv_init(aes.clone(), &iv().into()));
                c.apply_keystream_inout(InOutBuf::new(input, body).unwrap());
                let mut m = hmac::Context::with_key(&mac);
                m.update(&(AAD.len() as u64).to_be_bytes());
                m.update(&(len as u64).to_be_bytes());
                m.update(&10u64.to_be_bytes());
                m.update(&NONCE);
                m.update(&AAD);
                m.update(body);
                black_box(m.sign());
            },
        ));
    }
}

/// The `lock/*` cases: one increment of a counter behind each kind of synchronisation.
fn lock_cases(out: &mut Vec<Case>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let std_mutex = std::sync::Mutex::new(0u64);
    out.push(case("lock/std_mutex".into(), move || {
        *black_box(&std_mutex).lock().unwrap_or_else(|p| p.into_inner()) += 1;
    }));
    let spin_mutex = spin::mutex::SpinMutex::<u64>::new(0);
    out.push(case("lock/spin_mutex".into(), move || {
        *black_box(&spin_mutex).lock() += 1;
    }));
    let atomic = AtomicU64::new(0);
    out.push(case("lock/atomic_fetch_add".into(), move || {
        black_box(&atomic).fetch_add(1, Ordering::Relaxed);
    }));
    let mut plain = 0u64;
    out.push(case("lock/none".into(), move || {
        *black_box(&mut plain) += 1;
    }));
}

/// Every case, in a fixed order.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    lock_cases(&mut out);
    for len in SIZES {
        gcm_cases(&mut out, 128, len);
        gcm_cases(&mut out, 256, len);
        ctr_hmac_cases(&mut out, len);
    }
    out
}
