//! The SFrame key schedule (RFC 9605 §4.4.2) and the AEAD engines it feeds (§4.5).
//!
//! [`FrameKey`] holds what is derived once per (base key, KID): the salt and the expanded
//! AEAD key (AES round keys, or AES round keys plus a keyed HMAC state). Frames are then
//! sealed and opened with no further derivation, and no allocation unless the metadata is
//! unusually long (see [`FrameKey::seal`]). Which implementation runs AES-GCM and AES-CTR
//! is [`backend`](super::backend)'s choice; nothing here changes with it.

use std::ops::Range;

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::backend::{Body, CtrKey, GCM_OPEN_KEEPS_INPUT, GcmKey};
use super::error::{MalformedReason, SframeError};
use super::header::{Header, KidField, MAX_HEADER_LEN};
use super::suite::{CipherSuite, NONCE_LEN};

/// Label prefixes of the §4.4.2 key schedule.
const KEY_LABEL: &[u8] = b"SFrame 1.0 Secret key ";
const SALT_LABEL: &[u8] = b"SFrame 1.0 Secret salt ";

/// Header plus metadata up to this size is assembled on the stack as the AAD.
const STACK_AAD_LEN: usize = 1024;

/// The expanded AEAD key of one suite: AES-GCM, or AES-CTR plus HMAC-SHA256 as RFC 9605
/// §4.5.1 combines them. Most callers never see it: [`FrameKey`] wraps it with the salt.
/// It is public for known-answer tests of the AEAD alone.
///
/// ```
/// use mlsframe::sframe::{AeadKey, CipherSuite};
/// let key = AeadKey::new(CipherSuite::Aes128CtrHmacSha256_80, &[1u8; 48])?;
/// let mut sealed = [0u8; 3 + 10];
/// key.encrypt(&[0u8; 12], b"aad", b"abc", &mut sealed)?;
/// let mut opened = [0u8; 3];
/// key.decrypt(&[0u8; 12], b"aad", &sealed, &mut opened)?;
/// assert_eq!(&opened, b"abc");
/// # Ok::<(), mlsframe::sframe::SframeError>(())
/// ```
pub struct AeadKey(Engine);

impl std::fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AeadKey(..)")
    }
}

enum Engine {
    Gcm(GcmKey),
    /// Boxed: AES round keys plus an HMAC state are far larger than a GCM key handle.
    CtrHmac(Box<CtrHmac>),
}

/// AES-CTR and HMAC-SHA256 as RFC 9605 §4.5.1 combines them.
struct CtrHmac {
    aes: CtrKey,
    mac: Hmac<Sha256>,
    tag_len: usize,
}

/// Everything derived from one (base key, KID): the nonce salt and the ready-to-use AEAD.
///
/// Derivation runs once, in [`FrameKey::derive`]; sealing and opening only compute the nonce
/// (`salt XOR CTR`). The salt is zeroized on drop, the AES round keys by the `aes` crate's
/// own `zeroize` support; `Debug` shows only the suite and KID.
pub struct FrameKey {
    suite: CipherSuite,
    /// `suite.tag_len()`, kept so that a frame reads it instead of matching the suite.
    tag_len: usize,
    kid: u64,
    /// The KID's part of every header this key seals.
    kid_field: KidField,
    salt: [u8; NONCE_LEN],
    aead: AeadKey,
}

impl Drop for FrameKey {
    fn drop(&mut self) {
        self.salt.zeroize();
    }
}

impl std::fmt::Debug for FrameKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameKey")
            .field("suite", &self.suite)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// `label || KID (u64 BE) || suite (u16 BE)`, as §4.4.2 builds the HKDF info.
fn label(prefix: &[u8], kid: u64, suite: CipherSuite) -> ([u8; 33], usize) {
    let mut out = [0u8; 33];
    let n = prefix.len();
    out[..n].copy_from_slice(prefix);
    out[n..n + 8].copy_from_slice(&kid.to_be_bytes());
    out[n + 8..n + 10].copy_from_slice(&suite.id().to_be_bytes());
    (out, n + 10)
}

/// `sframe_secret = HKDF-Extract("", base_key)` (RFC 9605 §4.4.2), kept as the HMAC state
/// keyed with it: every KID's key and salt are expanded from it. A base key that serves
/// many KIDs (an MLS epoch's: one KID per member and stream) is extracted once, and each
/// KID then costs only its two expansions. The state is zeroized on drop (`hmac`'s
/// `zeroize` feature); `Debug` shows only the suite. Not `Clone`: one copy per base key.
pub(crate) struct SframeSecret {
    suite: CipherSuite,
    hkdf: Prk,
}

enum Prk {
    Sha256(Hkdf<Sha256>),
    Sha512(Hkdf<Sha512>),
}

impl std::fmt::Debug for SframeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SframeSecret")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl SframeSecret {
    /// Extracts the secret of `base_key` for `suite` (its hash: SHA-512 for suite 5,
    /// SHA-256 otherwise).
    pub(crate) fn extract(suite: CipherSuite, base_key: &[u8]) -> SframeSecret {
        let hkdf = match suite {
            CipherSuite::Aes256GcmSha512_128 => Prk::Sha512(Hkdf::new(None, base_key)),
            _ => Prk::Sha256(Hkdf::new(None, base_key)),
        };
        SframeSecret { suite, hkdf }
    }

    /// The suite the secret was extracted for.
    pub(crate) fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The key and salt expansions of §4.4.2 for `kid`.
    fn expand_key_and_salt(&self, kid: u64, key: &mut [u8], salt: &mut [u8]) {
        let (key_info, key_info_len) = label(KEY_LABEL, kid, self.suite);
        let (salt_info, salt_info_len) = label(SALT_LABEL, kid, self.suite);
        // Expansion lengths are at most 48 bytes, far below HKDF's 255 * Nh limit.
        const WHY: &str = "SFrame key and salt lengths are within HKDF's output limit";
        match &self.hkdf {
            Prk::Sha512(hk) => {
                hk.expand(&key_info[..key_info_len], key).expect(WHY);
                hk.expand(&salt_info[..salt_info_len], salt).expect(WHY);
            }
            Prk::Sha256(hk) => {
                hk.expand(&key_info[..key_info_len], key).expect(WHY);
                hk.expand(&salt_info[..salt_info_len], salt).expect(WHY);
            }
        }
    }
}

/// The raw §4.4.2 outputs for `(base_key, kid)`: `sframe_key` (Nk bytes) and
/// `sframe_salt` (Nn bytes). Exposed for known-answer tests and interop checks; the media
/// path never needs raw keys. Both are zeroized when dropped.
pub fn derive_key_and_salt(
    suite: CipherSuite,
    base_key: &[u8],
    kid: u64,
) -> (Zeroizing<Vec<u8>>, Zeroizing<[u8; NONCE_LEN]>) {
    let mut key = Zeroizing::new(vec![0u8; suite.key_len()]);
    let mut salt = Zeroizing::new([0u8; NONCE_LEN]);
    SframeSecret::extract(suite, base_key).expand_key_and_salt(kid, &mut key, &mut salt[..]);
    (key, salt)
}

impl FrameKey {
    /// Derives the key and salt for `kid` from `base_key` (RFC 9605 §4.4.2) and expands the
    /// AEAD key. The raw key bytes live only on the stack during this call and are zeroized.
    pub fn derive(suite: CipherSuite, base_key: &[u8], kid: u64) -> FrameKey {
        FrameKey::from_secret(&SframeSecret::extract(suite, base_key), kid)
    }

    /// [`derive`](Self::derive) from a base key's secret extracted once (an MLS epoch's
    /// keys: one extraction, then two expansions per KID).
    pub(crate) fn from_secret(secret: &SframeSecret, kid: u64) -> FrameKey {
        let suite = secret.suite();
        let mut key = Zeroizing::new([0u8; 48]);
        let key = &mut key[..suite.key_len()];
        let mut salt = [0u8; NONCE_LEN];
        secret.expand_key_and_salt(kid, key, &mut salt);
        let aead = AeadKey::new(suite, key).expect("derived key length matches the suite");
        FrameKey {
            suite,
            tag_len: suite.tag_len(),
            kid,
            kid_field: KidField::new(kid),
            salt,
            aead,
        }
    }

    /// The suite this key was derived for.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The KID this key was derived for.
    pub fn kid(&self) -> u64 {
        self.kid
    }

    /// `salt XOR CTR`, with CTR big-endian in the last 8 bytes (§4.4.3).
    ///
    /// Computed as one number and written out whole, so that the words the backend's
    /// wrapper copies the nonce with are the words it was stored as; XORing the counter
    /// into a stored copy of the salt left an 8-byte load straddling a 4-byte and an
    /// 8-byte store, which the CPU cannot forward (`docs/bench/notes.md`).
    #[inline]
    fn nonce(&self, ctr: u64) -> [u8; NONCE_LEN] {
        let mut padded = [0u8; 16];
        padded[..NONCE_LEN].copy_from_slice(&self.salt);
        let value = u128::from_be_bytes(padded) ^ (u128::from(ctr) << 32);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&value.to_be_bytes()[..NONCE_LEN]);
        nonce
    }

    /// Seals `plaintext` into `out` as `header || ciphertext || tag` and returns the
    /// frame's length. The AAD is `header || metadata`; metadata up to 1 KiB is assembled
    /// on the stack, longer metadata in a temporary heap buffer.
    pub(crate) fn seal(
        &self,
        ctr: u64,
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SframeError> {
        self.seal_frame(ctr, metadata, Some(plaintext), plaintext.len(), out)
    }

    /// [`seal`](Self::seal) of the plaintext that already sits in `buf` right after the
    /// room for the header (the in-place path).
    pub(crate) fn seal_in_place(
        &self,
        ctr: u64,
        metadata: &[u8],
        plaintext_len: usize,
        buf: &mut [u8],
    ) -> Result<usize, SframeError> {
        self.seal_frame(ctr, metadata, None, plaintext_len, buf)
    }

    /// What [`seal`](Self::seal) and [`seal_in_place`](Self::seal_in_place) share, inlined
    /// into each so that each keeps only its own way of writing the header: `input` is the
    /// plaintext, or `None` in place.
    #[inline(always)]
    fn seal_frame(
        &self,
        ctr: u64,
        metadata: &[u8],
        input: Option<&[u8]>,
        plaintext_len: usize,
        out: &mut [u8],
    ) -> Result<usize, SframeError> {
        let header = self.kid_field.with_ctr(ctr);
        let header_len = header.len();
        let tag_len = self.tag_len;
        let needed = header_len + plaintext_len + tag_len;
        if out.len() < needed {
            return Err(SframeError::BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        if input.is_some() {
            // Out of place: what follows the header is ciphertext still to be written.
            header.encode_with_slack(out)?;
        } else {
            header.encode(out)?;
        }
        let (head, rest) = out.split_at_mut(header_len);
        let (body, rest) = rest.split_at_mut(plaintext_len);
        let tag = &mut rest[..tag_len];
        let mut body = match input {
            Some(plaintext) if plaintext.len() == plaintext_len => Body::Separate {
                input: plaintext,
                out: body,
            },
            Some(_) => return Err(SframeError::InvalidArgument("plaintext length mismatch")),
            None => Body::InPlace(body),
        };
        self.seal_parts(ctr, head, metadata, &mut body, tag)?;
        Ok(needed)
    }

    /// Seals the plaintext at `buf[headroom..headroom + plaintext_len]` where it lies: the
    /// header goes just before it, the tag just after, and the frame's range in `buf` is
    /// returned. Nothing outside that range is changed. The caller has checked that
    /// `headroom >= MAX_HEADER_LEN` and that the plaintext lies inside `buf`.
    pub(crate) fn seal_behind(
        &self,
        ctr: u64,
        metadata: &[u8],
        buf: &mut [u8],
        headroom: usize,
        plaintext_len: usize,
    ) -> Result<Range<usize>, SframeError> {
        const GEOMETRY: SframeError = SframeError::InvalidArgument("plaintext exceeds the buffer");
        let available = buf.len();
        let (front, rest) = buf.split_at_mut_checked(headroom).ok_or(GEOMETRY)?;
        let window = front.last_chunk_mut::<MAX_HEADER_LEN>().ok_or(GEOMETRY)?;
        let (body, rest) = rest.split_at_mut_checked(plaintext_len).ok_or(GEOMETRY)?;
        let header = self.kid_field.with_ctr(ctr);
        let tag_len = self.tag_len;
        let Some(tag) = rest.get_mut(..tag_len) else {
            let header_len = header.len();
            return Err(SframeError::BufferTooSmall {
                needed: header_len + plaintext_len + tag_len,
                available: available - (headroom - header_len),
            });
        };
        let header_len = header.encode_before(window);
        let head = &window[MAX_HEADER_LEN - header_len..];
        self.seal_parts(ctr, head, metadata, &mut Body::InPlace(body), tag)?;
        Ok(headroom - header_len..headroom + plaintext_len + tag_len)
    }

    /// Seals `body` under counter `ctr` with the AAD `header || metadata`, writing the tag:
    /// what [`seal`](Self::seal) and [`seal_behind`](Self::seal_behind) share once the
    /// header is written. Frames without metadata pay one test.
    #[inline(always)]
    fn seal_parts(
        &self,
        ctr: u64,
        header: &[u8],
        metadata: &[u8],
        body: &mut Body<'_>,
        tag: &mut [u8],
    ) -> Result<(), SframeError> {
        let nonce = self.nonce(ctr);
        if metadata.is_empty() {
            self.aead.seal_body(&nonce, header, body, tag)
        } else {
            self.seal_joined(&nonce, header, metadata, body, tag)
        }
    }

    /// Opens the frame whose parsed header is `header` (`header_len` bytes of `frame`),
    /// writing the plaintext to `out`, or in place when `out` is `None` (the plaintext then
    /// stays at `frame[header_len..]`). Returns the plaintext length. A detached frame's
    /// AAD is complete already: `metadata` is not added to it.
    #[inline(always)]
    pub(crate) fn open(
        &self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &mut FrameInput<'_>,
    ) -> Result<usize, SframeError> {
        let tag_len = self.tag_len;
        let body_len = |frame: &[u8]| {
            frame
                .len()
                .checked_sub(header_len + tag_len)
                .ok_or(MalformedReason::TruncatedTag)
        };
        let (head, metadata, mut body, tag) = match frame {
            FrameInput::Detached { aad, body, tag } => {
                if tag.len() != tag_len {
                    return Err(MalformedReason::TruncatedTag.into());
                }
                (&**aad, &[][..], Body::InPlace(body), &**tag)
            }
            FrameInput::Separate { frame, out } => {
                let body_len = body_len(frame)?;
                let available = out.len();
                let out = out.get_mut(..body_len).ok_or(SframeError::BufferTooSmall {
                    needed: body_len,
                    available,
                })?;
                let (head, rest) = frame.split_at(header_len);
                let (input, tag) = rest.split_at(body_len);
                (head, metadata, Body::Separate { input, out }, tag)
            }
            FrameInput::InPlace(frame) => {
                let body_len = body_len(frame)?;
                let (head, rest) = frame.split_at_mut(header_len);
                let (body, tag) = rest.split_at_mut(body_len);
                (&*head, metadata, Body::InPlace(body), &*tag)
            }
        };
        let len = body.input().len();
        let nonce = self.nonce(header.ctr);
        if metadata.is_empty() {
            self.aead.open_body(&nonce, head, &mut body, tag)?;
        } else {
            self.open_joined(&nonce, head, metadata, &mut body, tag)?;
        }
        Ok(len)
    }

    /// Seals with the AAD `header || metadata` assembled (see [`with_aad`]). Out of line:
    /// frames without metadata, the common case, pass the header itself.
    #[inline(never)]
    fn seal_joined(
        &self,
        nonce: &[u8; NONCE_LEN],
        header: &[u8],
        metadata: &[u8],
        body: &mut Body<'_>,
        tag: &mut [u8],
    ) -> Result<(), SframeError> {
        with_aad(header, metadata, |aad| {
            self.aead.seal_body(nonce, aad, body, tag)
        })
    }

    /// Opens with the AAD `header || metadata` assembled, as [`seal_joined`](Self::seal_joined).
    #[inline(never)]
    fn open_joined(
        &self,
        nonce: &[u8; NONCE_LEN],
        header: &[u8],
        metadata: &[u8],
        body: &mut Body<'_>,
        tag: &[u8],
    ) -> Result<(), SframeError> {
        with_aad(header, metadata, |aad| {
            self.aead.open_body(nonce, aad, body, tag)
        })
    }

    /// Seals `body` in place under counter `ctr` with the complete AAD `aad` (which the
    /// caller built, SFrame header first) and writes the tag to `tag` (exactly the suite's
    /// tag length): the pieces of a frame whose ciphertext does not sit between its header
    /// and its tag (codec-aware framing).
    pub(crate) fn seal_detached(
        &self,
        ctr: u64,
        aad: &[u8],
        body: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), SframeError> {
        if tag.len() != self.tag_len {
            return Err(SframeError::InvalidArgument("tag length"));
        }
        self.aead
            .seal_body(&self.nonce(ctr), aad, &mut Body::InPlace(body), tag)
    }

    /// As [`seal_detached`](Self::seal_detached), reading the plaintext from `input` and
    /// writing the ciphertext to `out` (the same length).
    pub(crate) fn seal_detached_separate(
        &self,
        ctr: u64,
        aad: &[u8],
        input: &[u8],
        out: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), SframeError> {
        if tag.len() != self.tag_len || input.len() != out.len() {
            return Err(SframeError::InvalidArgument("tag or body length"));
        }
        let mut body = Body::Separate { input, out };
        self.aead.seal_body(&self.nonce(ctr), aad, &mut body, tag)
    }

    /// Whether a failed in-place [`open`](Self::open) may leave the frame unreadable (the
    /// backend clears what it decrypted); a caller that wants to try another key on the
    /// same frame then keeps a copy first.
    pub(crate) fn failed_open_clears_in_place(&self) -> bool {
        matches!(self.aead.0, Engine::Gcm(_)) && !GCM_OPEN_KEEPS_INPUT
    }
}

impl AeadKey {
    /// Expands `key` (Nk bytes: for CTR+HMAC suites the AES key then the HMAC key).
    ///
    /// # Errors
    /// [`SframeError::InvalidArgument`] when `key` is not `suite.key_len()` bytes.
    pub fn new(suite: CipherSuite, key: &[u8]) -> Result<AeadKey, SframeError> {
        if key.len() != suite.key_len() {
            return Err(SframeError::InvalidArgument(
                "key length does not match the suite",
            ));
        }
        let bad = SframeError::InvalidArgument("key length does not match the suite");
        Ok(AeadKey(match suite {
            CipherSuite::Aes128GcmSha256_128 | CipherSuite::Aes256GcmSha512_128 => {
                Engine::Gcm(GcmKey::new(key).ok_or(bad)?)
            }
            _ => Engine::CtrHmac(Box::new(CtrHmac {
                aes: CtrKey::new(&key[..16]).ok_or(bad)?,
                mac: <Hmac<Sha256> as KeyInit>::new_from_slice(&key[16..]).map_err(|_| bad)?,
                tag_len: suite.tag_len(),
            })),
        }))
    }

    #[inline]
    fn tag_len(&self) -> usize {
        match &self.0 {
            Engine::Gcm(_) => 16,
            Engine::CtrHmac(c) => c.tag_len,
        }
    }

    /// Encrypts `plaintext` into `out` as `ciphertext || tag`; returns the bytes written.
    ///
    /// # Errors
    /// [`SframeError::BufferTooSmall`] when `out` cannot hold plaintext and tag.
    pub fn encrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SframeError> {
        let needed = plaintext.len() + self.tag_len();
        let available = out.len();
        let out = out
            .get_mut(..needed)
            .ok_or(SframeError::BufferTooSmall { needed, available })?;
        let (body, tag) = out.split_at_mut(plaintext.len());
        let mut body = Body::Separate {
            input: plaintext,
            out: body,
        };
        self.seal_body(nonce, aad, &mut body, tag)?;
        Ok(needed)
    }

    /// Verifies and decrypts `ciphertext || tag` into `out`; returns the plaintext length.
    ///
    /// # Errors
    /// [`SframeError::AuthenticationFailed`], [`SframeError::MalformedFrame`] when shorter
    /// than a tag, [`SframeError::BufferTooSmall`].
    pub fn decrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
        out: &mut [u8],
    ) -> Result<usize, SframeError> {
        let len = sealed
            .len()
            .checked_sub(self.tag_len())
            .ok_or(MalformedReason::TruncatedTag)?;
        let available = out.len();
        let out = out.get_mut(..len).ok_or(SframeError::BufferTooSmall {
            needed: len,
            available,
        })?;
        let (input, tag) = sealed.split_at(len);
        self.open_body(nonce, aad, &mut Body::Separate { input, out }, tag)?;
        Ok(len)
    }

    /// Encrypts the body and writes the tag (`tag_out`: exactly the suite's tag length).
    #[inline(always)]
    fn seal_body(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        body: &mut Body<'_>,
        tag_out: &mut [u8],
    ) -> Result<(), SframeError> {
        match &self.0 {
            Engine::Gcm(key) => key.seal(nonce, aad, body, tag_out),
            Engine::CtrHmac(c) => {
                c.aes.apply(nonce, body)?;
                let full = ctr_hmac_tag(&c.mac, c.tag_len, nonce, aad, body.output());
                tag_out.copy_from_slice(&full[..c.tag_len]);
                Ok(())
            }
        }
    }

    /// Verifies the tag and decrypts the body. On failure the output holds no plaintext.
    #[inline(always)]
    fn open_body(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        body: &mut Body<'_>,
        tag: &[u8],
    ) -> Result<(), SframeError> {
        match &self.0 {
            Engine::Gcm(key) => key.open(nonce, aad, body, tag),
            Engine::CtrHmac(c) => {
                // Authenticate the ciphertext before releasing any plaintext.
                let expected = ctr_hmac_tag(&c.mac, c.tag_len, nonce, aad, body.input());
                if !bool::from(expected[..c.tag_len].ct_eq(tag)) {
                    return Err(SframeError::AuthenticationFailed);
                }
                c.aes.apply(nonce, body)
            }
        }
    }
}

/// Calls `f` with `header || metadata` as one slice: the header itself when there is no
/// metadata, a stack buffer up to [`STACK_AAD_LEN`], a heap buffer beyond.
fn with_aad<R>(header: &[u8], metadata: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    if metadata.is_empty() {
        return f(header);
    }
    let total = header.len() + metadata.len();
    if total <= STACK_AAD_LEN {
        let mut aad = [0u8; STACK_AAD_LEN];
        aad[..header.len()].copy_from_slice(header);
        aad[header.len()..total].copy_from_slice(metadata);
        f(&aad[..total])
    } else {
        let mut aad = Vec::with_capacity(total);
        aad.extend_from_slice(header);
        aad.extend_from_slice(metadata);
        f(&aad)
    }
}

/// The §4.5.1 tag: HMAC over `len(aad) || len(ct) || Nt || nonce || aad || ct`, untruncated.
fn ctr_hmac_tag(
    mac: &Hmac<Sha256>,
    tag_len: usize,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ct: &[u8],
) -> [u8; 32] {
    let mut mac = mac.clone();
    mac.update(&(aad.len() as u64).to_be_bytes());
    mac.update(&(ct.len() as u64).to_be_bytes());
    mac.update(&(tag_len as u64).to_be_bytes());
    mac.update(nonce);
    mac.update(aad);
    mac.update(ct);
    mac.finalize().into_bytes().into()
}

/// Where an incoming frame is and where its plaintext goes.
pub(crate) enum FrameInput<'a> {
    /// Read `frame`, write the plaintext to the start of `out`.
    Separate { frame: &'a [u8], out: &'a mut [u8] },
    /// Decrypt inside the frame buffer; the plaintext is left after the header.
    InPlace(&'a mut [u8]),
    /// A frame in pieces (codec-aware framing): the complete AAD, which starts with the
    /// SFrame header, the ciphertext (decrypted in place) and the tag.
    Detached {
        aad: &'a [u8],
        body: &'a mut [u8],
        tag: &'a [u8],
    },
}

impl FrameInput<'_> {
    /// The bytes the SFrame header is parsed from.
    pub(crate) fn frame(&self) -> &[u8] {
        match self {
            FrameInput::Separate { frame, .. } => frame,
            FrameInput::InPlace(frame) => frame,
            FrameInput::Detached { aad, .. } => aad,
        }
    }
}

/// Upper bound on the sealed size of `plaintext_len` bytes under `suite`, whatever the KID
/// and CTR.
pub fn max_frame_len(suite: CipherSuite, plaintext_len: usize) -> Option<usize> {
    plaintext_len.checked_add(MAX_HEADER_LEN + suite.tag_len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_key_material() {
        let key = FrameKey::derive(CipherSuite::Aes128GcmSha256_128, &[7u8; 16], 3);
        let text = format!("{key:?}");
        assert_eq!(text, "FrameKey { suite: Aes128GcmSha256_128, kid: 3, .. }");
        let secret = SframeSecret::extract(CipherSuite::Aes128GcmSha256_128, &[7u8; 16]);
        assert_eq!(
            format!("{secret:?}"),
            "SframeSecret { suite: Aes128GcmSha256_128, .. }"
        );
    }

    /// One extraction serves every KID: each key and salt equals the one derived from the
    /// base key alone (§4.4.2), on every suite, and frames sealed under one open under the
    /// other.
    #[test]
    fn secret_extracted_once_derives_what_the_base_key_does() {
        for suite in CipherSuite::ALL {
            let base_key: Vec<u8> = (0..suite.key_len() as u8).collect();
            let secret = SframeSecret::extract(suite, &base_key);
            for kid in [0u64, 1, 0x1234, u64::MAX] {
                let (key, salt) = derive_key_and_salt(suite, &base_key, kid);
                let (mut key2, mut salt2) = (vec![0u8; suite.key_len()], [0u8; NONCE_LEN]);
                secret.expand_key_and_salt(kid, &mut key2, &mut salt2);
                assert_eq!(&key2, &*key, "{suite:?} kid {kid}");
                assert_eq!(&salt2, &*salt, "{suite:?} kid {kid}");

                let derived = FrameKey::derive(suite, &base_key, kid);
                let from_secret = FrameKey::from_secret(&secret, kid);
                let mut frame = [0u8; 64];
                let n = derived
                    .seal(5, b"meta", b"payload", &mut frame)
                    .expect("seal");
                let (header, header_len) = Header::decode(&frame[..n]).expect("header");
                let mut out = [0u8; 64];
                let mut input = FrameInput::Separate {
                    frame: &frame[..n],
                    out: &mut out,
                };
                let len = from_secret
                    .open(header, header_len, b"meta", &mut input)
                    .expect("opens under the key from the secret");
                assert_eq!(&out[..len], b"payload");
            }
        }
    }
}
