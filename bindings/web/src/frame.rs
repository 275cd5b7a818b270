//! The per-frame path for JavaScript: the MLS-keyed [`Encryptor`] and [`Decryptor`], and
//! the standalone [`SframeContext`]. Each object keeps its own input and output scratch
//! buffers in wasm memory, grown to the largest frame seen, so a frame costs one copy in
//! (`Uint8Array` → wasm memory), the seal or open in place, and one copy out (a new
//! `Uint8Array`). After warm-up nothing is allocated in wasm memory per frame, whole-frame
//! or codec-aware.

use mlsframe::ffi::mlsframe_result;
use mlsframe::mls::media::{self, MediaKeys};
use mlsframe::sframe::{CipherSuite, Receiver, SendKey};
use subtle::ConstantTimeEq;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::error::{js_error, to_js};

/// Shortest base key accepted, as in the C ABI (the RFC 9605 vectors use 16 bytes).
const MIN_BASE_KEY_LEN: usize = 16;

/// Copies `frame` into `scratch` (grown if needed) and returns its length.
fn copy_in(frame: &js_sys::Uint8Array, scratch: &mut Vec<u8>) -> usize {
    let len = frame.length() as usize;
    if scratch.len() < len {
        scratch.resize(len, 0);
    }
    frame.copy_to(&mut scratch[..len]);
    len
}

/// `scratch` with at least `len` bytes.
fn room(scratch: &mut Vec<u8>, len: usize) -> &mut [u8] {
    if scratch.len() < len {
        scratch.resize(len, 0);
    }
    &mut scratch[..len]
}

/// The codec framing `id` names (the C ABI's `mlsframe_codec` numbers).
fn codec(id: u32) -> Result<mlsframe::media::Codec, JsValue> {
    mlsframe::media::Codec::from_id(id).map_err(to_js)
}

/// Seals our own stream's frames with the current epoch's key.
#[wasm_bindgen]
pub struct Encryptor {
    inner: media::Encryptor,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl Encryptor {
    pub(crate) fn new(keys: &MediaKeys, context: u64, codec_id: u32) -> Result<Self, JsValue> {
        let inner = keys
            .encryptor_with_codec(context, codec(codec_id)?)
            .map_err(to_js)?;
        Ok(Encryptor {
            inner,
            input: Vec::new(),
            output: Vec::new(),
        })
    }
}

#[wasm_bindgen]
impl Encryptor {
    /// Seals one encoded frame; returns the sealed frame.
    ///
    /// Throws `MLSFRAME_NOT_MEMBER` before joining or after removal, and the codec
    /// framing's errors for a frame that cannot be framed.
    pub fn encrypt(&mut self, frame: &js_sys::Uint8Array) -> Result<js_sys::Uint8Array, JsValue> {
        let len = copy_in(frame, &mut self.input);
        let cap = self.inner.max_ciphertext_len(len).ok_or_else(|| {
            js_error(
                mlsframe_result::MLSFRAME_INVALID_ARGUMENT,
                "frame too large",
            )
        })?;
        let out = room(&mut self.output, cap);
        let written = self
            .inner
            .encrypt(&[], &self.input[..len], out)
            .map_err(to_js)?;
        Ok(js_sys::Uint8Array::from(&out[..written]))
    }

    /// Whether our epoch changed since the last call: ask the encoder for a key frame.
    #[wasm_bindgen(js_name = takeKeyFrameRequest)]
    pub fn take_key_frame_request(&self) -> bool {
        self.inner.take_key_frame_request()
    }
}

/// Opens every other member's frames.
#[wasm_bindgen]
pub struct Decryptor {
    inner: media::Decryptor,
    input: Vec<u8>,
    output: Vec<u8>,
    last: Option<media::FrameSender>,
}

impl Decryptor {
    pub(crate) fn new(inner: media::Decryptor) -> Self {
        Decryptor {
            inner,
            input: Vec::new(),
            output: Vec::new(),
            last: None,
        }
    }
}

#[wasm_bindgen]
impl Decryptor {
    /// Opens one frame sealed with framing `codec`; returns the plaintext.
    ///
    /// Throws `MLSFRAME_NO_KEY` (recoverable: the sender's epoch has not arrived; drop
    /// the frame), `MLSFRAME_AUTH_FAILED`, `MLSFRAME_REPLAY`, `MLSFRAME_MALFORMED`,
    /// `MLSFRAME_UNKNOWN_SENDER`, `MLSFRAME_SUPERSEDED`, and the codec framing's errors.
    pub fn decrypt(
        &mut self,
        frame: &js_sys::Uint8Array,
        codec_id: u32,
    ) -> Result<js_sys::Uint8Array, JsValue> {
        let codec = codec(codec_id)?;
        let len = copy_in(frame, &mut self.input);
        let out = room(&mut self.output, len);
        let opened = self
            .inner
            .decrypt_codec(codec, &[], &self.input[..len], out)
            .map_err(to_js)?;
        self.last = Some(opened.sender);
        Ok(js_sys::Uint8Array::from(&out[..opened.len]))
    }

    /// The epoch of the last frame opened.
    #[wasm_bindgen(getter, js_name = lastEpoch)]
    pub fn last_epoch(&self) -> Option<f64> {
        self.last.map(|s| s.epoch as f64)
    }

    /// The sender's leaf of the last frame opened.
    #[wasm_bindgen(getter, js_name = lastLeaf)]
    pub fn last_leaf(&self) -> Option<u32> {
        self.last.map(|s| s.leaf)
    }

    /// The sender's stream context of the last frame opened.
    #[wasm_bindgen(getter, js_name = lastContext)]
    pub fn last_context(&self) -> Option<f64> {
        self.last.map(|s| s.context as f64)
    }
}

/// SFrame alone, with keys the app manages (RFC 9605 §5.1): one send key, any number of
/// receive keys.
#[wasm_bindgen]
pub struct SframeContext {
    suite: CipherSuite,
    /// The send key, with its base key kept to recognise the same key set again.
    send: Option<(SendKey, Zeroizing<Vec<u8>>)>,
    receiver: Receiver,
    input: Vec<u8>,
    output: Vec<u8>,
    last_kid: Option<u64>,
}

fn base_key_ok(base_key: &[u8]) -> Result<(), JsValue> {
    if base_key.len() < MIN_BASE_KEY_LEN {
        return Err(js_error(
            mlsframe_result::MLSFRAME_INVALID_ARGUMENT,
            "base key shorter than 16 bytes",
        ));
    }
    Ok(())
}

#[wasm_bindgen]
impl SframeContext {
    /// A context for cipher suite `suite` (1–5, RFC 9605 §4.5).
    #[wasm_bindgen(constructor)]
    pub fn new(suite: u16) -> Result<SframeContext, JsValue> {
        let suite = CipherSuite::try_from(suite).map_err(to_js)?;
        Ok(SframeContext {
            suite,
            send: None,
            receiver: Receiver::new(),
            input: Vec::new(),
            output: Vec::new(),
            last_kid: None,
        })
    }

    /// Seals with `base_key` under `kid` from counter `first_counter` on. Setting the
    /// same key and KID again continues its counter (a counter is never reused).
    #[wasm_bindgen(js_name = setSendKey)]
    pub fn set_send_key(
        &mut self,
        kid: u64,
        base_key: &[u8],
        first_counter: u64,
    ) -> Result<(), JsValue> {
        base_key_ok(base_key)?;
        let start = match &self.send {
            Some((old, old_base)) if old.kid() == kid && bool::from(old_base.ct_eq(base_key)) => {
                old.next_counter().max(first_counter)
            }
            _ => first_counter,
        };
        let key = SendKey::new(self.suite, kid, base_key).starting_at(start);
        self.send = Some((key, Zeroizing::new(base_key.to_vec())));
        Ok(())
    }

    /// Opens frames under `kid` with `base_key`.
    #[wasm_bindgen(js_name = addReceiveKey)]
    pub fn add_receive_key(&mut self, kid: u64, base_key: &[u8]) -> Result<(), JsValue> {
        base_key_ok(base_key)?;
        self.receiver
            .add_key(self.suite, kid, base_key)
            .map_err(to_js)
    }

    /// Stops opening frames under `kid`; whether it was installed.
    #[wasm_bindgen(js_name = removeReceiveKey)]
    pub fn remove_receive_key(&mut self, kid: u64) -> bool {
        self.receiver.remove_key(kid)
    }

    /// Seals one frame (whole-frame RFC 9605).
    pub fn encrypt(&mut self, frame: &js_sys::Uint8Array) -> Result<js_sys::Uint8Array, JsValue> {
        let Some((send, _)) = &self.send else {
            return Err(js_error(
                mlsframe_result::MLSFRAME_NO_SEND_KEY,
                "no send key set",
            ));
        };
        let len = copy_in(frame, &mut self.input);
        let cap = send.max_ciphertext_len(len).ok_or_else(|| {
            js_error(
                mlsframe_result::MLSFRAME_INVALID_ARGUMENT,
                "frame too large",
            )
        })?;
        let out = room(&mut self.output, cap);
        let written = send.encrypt(&[], &self.input[..len], out).map_err(to_js)?;
        Ok(js_sys::Uint8Array::from(&out[..written]))
    }

    /// Opens one frame (whole-frame RFC 9605); `lastKid` then names its key.
    pub fn decrypt(&mut self, frame: &js_sys::Uint8Array) -> Result<js_sys::Uint8Array, JsValue> {
        let len = copy_in(frame, &mut self.input);
        let out = room(&mut self.output, len);
        let opened = self
            .receiver
            .decrypt(&[], &self.input[..len], out)
            .map_err(to_js)?;
        self.last_kid = Some(opened.kid);
        Ok(js_sys::Uint8Array::from(&out[..opened.len]))
    }

    /// The next counter the send key will use (`undefined` without one).
    #[wasm_bindgen(getter, js_name = sendCounter)]
    pub fn send_counter(&self) -> Option<u64> {
        self.send.as_ref().map(|(key, _)| key.next_counter())
    }

    /// The KID of the last frame opened.
    #[wasm_bindgen(getter, js_name = lastKid)]
    pub fn last_kid(&self) -> Option<u64> {
        self.last_kid
    }
}
