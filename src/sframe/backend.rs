//! Which implementation seals and opens a frame body. With the `aws-lc-rs` feature (the
//! default) AES-GCM (suites 4, 5) and AES-CTR (suites 1–3) come from aws-lc-rs; without it
//! from RustCrypto (`aes-gcm`; `aes` + `ctr`), pure Rust. HMAC-SHA256 is RustCrypto's in
//! both builds: it was the faster one for audio-sized frames (`benches/backends/`).
//!
//! Keys are expanded once, when a [`FrameKey`](super::FrameKey) is derived, and hold the
//! backend's key schedule; a frame costs no key setup and no allocation. Key schedules are
//! wiped on drop: RustCrypto's through its `zeroize` features, aws-lc's by aws-lc itself
//! (an AEAD context is cleansed when freed, a cipher key zeroized by aws-lc-rs's `Drop`).
//! Out of place, both backends' AES-GCM read the input and write the output in one pass;
//! aws-lc-rs's AES-CTR works in place only, so out of place it copies first (the copy is a
//! small fraction of the HMAC pass that follows).

use super::error::SframeError;
use super::suite::NONCE_LEN;

/// Where a frame body is read from and written to.
pub(crate) enum Body<'a> {
    /// Read `input`, write `out` (the same length).
    Separate { input: &'a [u8], out: &'a mut [u8] },
    /// Transform the buffer in place.
    InPlace(&'a mut [u8]),
}

impl Body<'_> {
    /// The bytes read: plaintext when sealing, ciphertext when opening.
    #[inline]
    pub(crate) fn input(&self) -> &[u8] {
        match self {
            Body::Separate { input, .. } => input,
            Body::InPlace(buf) => buf,
        }
    }

    /// The bytes written.
    #[inline]
    pub(crate) fn output(&mut self) -> &mut [u8] {
        match self {
            Body::Separate { out, .. } => out,
            Body::InPlace(buf) => buf,
        }
    }
}

/// The name of the backend that seals AES-GCM and AES-CTR in this build.
pub const AEAD_BACKEND: &str = imp::NAME;

/// AES-CTR as RFC 9605 §4.5.1 uses it: the 16-byte IV `nonce || 0x00000000`.
fn ctr_iv(nonce: &[u8; NONCE_LEN]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..NONCE_LEN].copy_from_slice(nonce);
    iv
}

const TOO_LONG: SframeError = SframeError::InvalidArgument("frame exceeds the AEAD's length limit");

#[cfg(feature = "aws-lc-rs")]
use aws_lc as imp;
#[cfg(not(feature = "aws-lc-rs"))]
use rust_crypto as imp;

pub(crate) use imp::{CtrKey, GCM_OPEN_KEEPS_INPUT, GcmKey};

#[cfg(feature = "aws-lc-rs")]
mod aws_lc {
    use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    use aws_lc_rs::cipher::{AES_128, EncryptingKey, EncryptionContext, UnboundCipherKey};

    use super::{Body, NONCE_LEN, SframeError, TOO_LONG, ctr_iv};

    pub(super) const NAME: &str = "aws-lc-rs";

    /// aws-lc clears the output of an open that fails, so a failed in-place open does not
    /// leave the ciphertext behind.
    pub(crate) const GCM_OPEN_KEEPS_INPUT: bool = false;

    /// AES-128-GCM or AES-256-GCM (by key length), key schedule and GHASH key expanded.
    pub(crate) struct GcmKey(LessSafeKey);

    impl GcmKey {
        /// `None` unless `key` is 16 or 32 bytes.
        pub(crate) fn new(key: &[u8]) -> Option<GcmKey> {
            let algorithm = match key.len() {
                16 => &AES_128_GCM,
                32 => &AES_256_GCM,
                _ => return None,
            };
            let key = UnboundKey::new(algorithm, key).ok()?;
            Some(GcmKey(LessSafeKey::new(key)))
        }

        /// Encrypts the body and writes the 16-byte tag.
        #[inline(always)]
        pub(crate) fn seal(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            body: &mut Body<'_>,
            tag: &mut [u8],
        ) -> Result<(), SframeError> {
            let nonce = Nonce::assume_unique_for_key(*nonce);
            let aad = Aad::from(aad);
            match body {
                Body::Separate { input, out } => {
                    self.0
                        .seal_out_of_place_scatter(nonce, aad, input, out, &[], tag)
                }
                Body::InPlace(buf) => self.0.seal_in_place_scatter(nonce, aad, buf, &[], tag),
            }
            .map_err(|_| TOO_LONG)
        }

        /// Verifies the tag and decrypts the body; on failure the output is cleared.
        #[inline]
        pub(crate) fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            body: &mut Body<'_>,
            tag: &[u8],
        ) -> Result<(), SframeError> {
            let nonce = Nonce::assume_unique_for_key(*nonce);
            let aad = Aad::from(aad);
            match body {
                Body::Separate { input, out } => {
                    self.0.open_separate_gather(nonce, aad, input, tag, out)
                }
                Body::InPlace(buf) => self
                    .0
                    .open_in_place_separate_tag(nonce, aad, tag, buf)
                    .map(|_| ()),
            }
            .map_err(|_| SframeError::AuthenticationFailed)
        }
    }

    /// AES-128 round keys for CTR mode.
    pub(crate) struct CtrKey(EncryptingKey);

    impl CtrKey {
        /// `None` unless `key` is 16 bytes.
        pub(crate) fn new(key: &[u8]) -> Option<CtrKey> {
            let key = UnboundCipherKey::new(&AES_128, key).ok()?;
            EncryptingKey::ctr(key).ok().map(CtrKey)
        }

        /// XORs the keystream for `nonce` into the body (in place; out of place it copies
        /// the input to the output first).
        pub(crate) fn apply(
            &self,
            nonce: &[u8; NONCE_LEN],
            body: &mut Body<'_>,
        ) -> Result<(), SframeError> {
            let buf: &mut [u8] = match body {
                Body::Separate { input, out } => {
                    out.copy_from_slice(input);
                    out
                }
                Body::InPlace(buf) => buf,
            };
            let iv = EncryptionContext::Iv128(ctr_iv(nonce).into());
            self.0
                .less_safe_encrypt(buf, iv)
                .map(|_| ())
                .map_err(|_| TOO_LONG)
        }
    }
}

#[cfg(any(test, not(feature = "aws-lc-rs")))]
mod rust_crypto {
    use aes::Aes128;
    use aes_gcm::aead::inout::InOutBuf;
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use aes_gcm::{Aes128Gcm, Aes256Gcm};
    use ctr::cipher::{InnerIvInit, StreamCipher};

    use super::{Body, NONCE_LEN, SframeError, TOO_LONG, ctr_iv};
    use crate::sframe::suite::MAX_TAG_LEN;

    #[cfg_attr(all(test, feature = "aws-lc-rs"), allow(dead_code))]
    pub(super) const NAME: &str = "RustCrypto";

    /// `aes-gcm` checks the tag before it decrypts: a failed open changes nothing.
    #[cfg_attr(all(test, feature = "aws-lc-rs"), allow(dead_code))]
    pub(crate) const GCM_OPEN_KEEPS_INPUT: bool = true;

    fn inout<'a>(body: &'a mut Body<'_>) -> Result<InOutBuf<'a, 'a, u8>, SframeError> {
        match body {
            Body::Separate { input, out } => InOutBuf::new(input, out)
                .map_err(|_| SframeError::InvalidArgument("length mismatch")),
            Body::InPlace(buf) => Ok(InOutBuf::from(&mut **buf)),
        }
    }

    /// AES-128-GCM or AES-256-GCM (by key length), key schedule and GHASH key expanded.
    pub(crate) enum GcmKey {
        Aes128(Box<Aes128Gcm>),
        Aes256(Box<Aes256Gcm>),
    }

    impl GcmKey {
        /// `None` unless `key` is 16 or 32 bytes.
        pub(crate) fn new(key: &[u8]) -> Option<GcmKey> {
            match key.len() {
                16 => Aes128Gcm::new_from_slice(key)
                    .ok()
                    .map(|k| GcmKey::Aes128(Box::new(k))),
                32 => Aes256Gcm::new_from_slice(key)
                    .ok()
                    .map(|k| GcmKey::Aes256(Box::new(k))),
                _ => None,
            }
        }

        /// Encrypts the body and writes the 16-byte tag.
        #[inline]
        pub(crate) fn seal(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            body: &mut Body<'_>,
            tag: &mut [u8],
        ) -> Result<(), SframeError> {
            let tag: &mut [u8; MAX_TAG_LEN] = tag
                .try_into()
                .map_err(|_| SframeError::InvalidArgument("GCM tags are 16 bytes"))?;
            let buf = inout(body)?;
            let full = match self {
                GcmKey::Aes128(k) => k.encrypt_inout_detached(nonce.into(), aad, buf),
                GcmKey::Aes256(k) => k.encrypt_inout_detached(nonce.into(), aad, buf),
            }
            .map_err(|_| TOO_LONG)?;
            tag.copy_from_slice(&full);
            Ok(())
        }

        /// Verifies the tag, then decrypts the body; on failure nothing is written.
        pub(crate) fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            body: &mut Body<'_>,
            tag: &[u8],
        ) -> Result<(), SframeError> {
            let tag = tag
                .try_into()
                .map_err(|_| SframeError::AuthenticationFailed)?;
            let buf = inout(body)?;
            match self {
                GcmKey::Aes128(k) => k.decrypt_inout_detached(nonce.into(), aad, buf, tag),
                GcmKey::Aes256(k) => k.decrypt_inout_detached(nonce.into(), aad, buf, tag),
            }
            .map_err(|_| SframeError::AuthenticationFailed)
        }
    }

    /// AES-128 round keys for CTR mode (`ctr::Ctr32BE`: the last 4 IV bytes count blocks).
    pub(crate) struct CtrKey(Aes128);

    impl CtrKey {
        /// `None` unless `key` is 16 bytes.
        pub(crate) fn new(key: &[u8]) -> Option<CtrKey> {
            Aes128::new_from_slice(key).ok().map(CtrKey)
        }

        /// XORs the keystream for `nonce` into the body, in one pass.
        pub(crate) fn apply(
            &self,
            nonce: &[u8; NONCE_LEN],
            body: &mut Body<'_>,
        ) -> Result<(), SframeError> {
            let buf = inout(body)?;
            // Borrows the round keys (`cipher` implements the block cipher traits for
            // `&Aes128`): no per-frame copy of the key schedule, and none left to wipe.
            let iv = ctr_iv(nonce).into();
            let core = ctr::CtrCore::<&Aes128, ctr::flavors::Ctr32BE>::inner_iv_init(&self.0, &iv);
            ctr::Ctr32BE::<&Aes128>::from_core(core)
                .try_apply_keystream_inout(buf)
                .map_err(|_| TOO_LONG)
        }
    }
}

#[cfg(all(test, feature = "aws-lc-rs"))]
mod tests {
    //! With the feature on, RustCrypto is compiled for tests too: both backends must agree
    //! byte for byte, in place and out of place, and refuse the same forgeries.
    use super::*;

    fn separate<'a>(input: &'a [u8], out: &'a mut [u8]) -> Body<'a> {
        Body::Separate { input, out }
    }

    #[test]
    fn aws_lc_and_rust_crypto_agree() {
        for key_len in [16usize, 32] {
            let key: Vec<u8> = (0..key_len as u8).collect();
            let fast = aws_lc::GcmKey::new(&key).unwrap();
            let reference = rust_crypto::GcmKey::new(&key).unwrap();
            for len in [0usize, 1, 15, 16, 17, 100, 1000, 4099] {
                let nonce = [len as u8; NONCE_LEN];
                let plain: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
                let aad = &plain[..len.min(13)];
                let (mut a, mut b) = (vec![0u8; len], plain.clone());
                let (mut ta, mut tb) = ([0u8; 16], [0u8; 16]);
                fast.seal(&nonce, aad, &mut separate(&plain, &mut a), &mut ta)
                    .unwrap();
                reference
                    .seal(&nonce, aad, &mut Body::InPlace(&mut b), &mut tb)
                    .unwrap();
                assert_eq!((&a, ta), (&b, tb), "GCM-{} seal, {len} bytes", key_len * 8);

                // Each opens the other's, in place and out of place.
                let mut out = vec![0u8; len];
                reference
                    .open(&nonce, aad, &mut separate(&a, &mut out), &ta)
                    .unwrap();
                assert_eq!(out, plain);
                fast.open(&nonce, aad, &mut Body::InPlace(&mut b), &tb)
                    .unwrap();
                assert_eq!(b, plain);

                // A flipped tag bit fails in both, and aws-lc leaves no plaintext behind.
                ta[0] ^= 1;
                let mut out = vec![0xeeu8; len];
                assert!(
                    fast.open(&nonce, aad, &mut separate(&a, &mut out), &ta)
                        .is_err()
                );
                assert!(out.iter().all(|&x| x == 0));
                let mut out = vec![0u8; len];
                assert!(
                    reference
                        .open(&nonce, aad, &mut separate(&a, &mut out), &ta)
                        .is_err()
                );
            }
        }

        let fast = aws_lc::CtrKey::new(&[9u8; 16]).unwrap();
        let reference = rust_crypto::CtrKey::new(&[9u8; 16]).unwrap();
        for len in [0usize, 1, 16, 100, 4099] {
            let nonce = [3u8; NONCE_LEN];
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut a = vec![0u8; len];
            fast.apply(&nonce, &mut separate(&plain, &mut a)).unwrap();
            let mut b = plain.clone();
            reference.apply(&nonce, &mut Body::InPlace(&mut b)).unwrap();
            assert_eq!(a, b, "CTR, {len} bytes");
        }
    }
}
