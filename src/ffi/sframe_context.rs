//! `mlsframe_sframe_context`: SFrame with keys the app manages itself (RFC 9605 §5), no
//! MLS. One context holds at most one send key and any number of receive keys by KID.
//!
//! Calls may come from any thread. Each direction has one lock, taken once per call: seals
//! (and send-key changes) wait for each other, opens (and receive-key changes) for each
//! other, and a seal never waits for an open. Holding its direction alone, a frame call
//! reaches the key's counter or replay window without the atomics a shared [`SendKey`] or
//! [`Receiver`] pays for (`docs/bench/notes.md` has the measurement).

use hkdf::Hkdf;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    FrameArgs, FrameIo, ffi_guard, frame_call, mlsframe_result, reset_outputs, try_ref, try_slice,
    try_write,
};
use crate::sframe::{
    CipherSuite, FrameInput, FrameLock, Receiver, ReceiverConfig, SendKey, max_frame_len,
};
use mlsframe_result::*;

/// The shortest base key a context accepts, in bytes. RFC 9605's test vectors use 16-byte
/// base keys for every suite, so this is not the suite's Nk (48 for suites 1 to 3).
pub(crate) const MIN_BASE_KEY_LEN: usize = 16;

/// SFrame state for app-managed keys (opaque).
pub struct mlsframe_sframe_context {
    send: FrameLock<Option<Sender>>,
    receive: FrameLock<Receiver>,
}

/// The send key, and what tells a later `set_send_key` with the same (suite, KID, base key)
/// apart from a new key without keeping the base key.
struct Sender {
    key: SendKey,
    fingerprint: KeyFingerprint,
}

/// A one-way fingerprint of a send key's (suite, KID, base key): HKDF-SHA256 of the base
/// key under a label of its own, so it reveals nothing about the frame keys. The base key
/// itself is never copied: the fingerprint is all the context keeps. Compared in constant
/// time; zeroized on drop.
struct KeyFingerprint(Zeroizing<[u8; 32]>);

/// The HKDF salt that separates fingerprints from every SFrame derivation.
const FINGERPRINT_SALT: &[u8] = b"mlsframe 1.0 send key fingerprint";

impl KeyFingerprint {
    fn of(suite: CipherSuite, kid: u64, base_key: &[u8]) -> KeyFingerprint {
        let mut info = [0u8; 10];
        info[..8].copy_from_slice(&kid.to_be_bytes());
        info[8..].copy_from_slice(&suite.id().to_be_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(FINGERPRINT_SALT), base_key)
            .expand(&info, &mut out[..])
            .expect("32 bytes are within HKDF-SHA256's output limit");
        KeyFingerprint(out)
    }

    /// Whether both fingerprint the same (suite, KID, base key), in constant time.
    fn matches(&self, other: &KeyFingerprint) -> bool {
        bool::from(self.0.ct_eq(&*other.0))
    }
}

/// A frame call's error code, out of the frame path's way.
#[cold]
fn code_of(e: crate::sframe::SframeError) -> mlsframe_result {
    e.into()
}

/// A base key as a context accepts it: `(suite, key)` checked, suite first.
fn checked_key(suite: u16, key: &[u8]) -> Result<CipherSuite, mlsframe_result> {
    let Ok(suite) = CipherSuite::try_from(suite) else {
        return Err(MLSFRAME_UNKNOWN_SUITE);
    };
    if key.len() < MIN_BASE_KEY_LEN {
        return Err(MLSFRAME_INVALID_ARGUMENT);
    }
    Ok(suite)
}

/// Creates a context whose receive keys each use a replay window of `replay_window`
/// counters: 0 means 128; 1..=65536 are accepted and rounded up to a multiple of 64 (100
/// keeps 128 counters). `*out` is reset to NULL on entry (see the preamble).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `out` is NULL; `MLSFRAME_INVALID_ARGUMENT` for a
/// replay window over 65536; `MLSFRAME_OK`.
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_new(
    replay_window: u32,
    out: *mut *mut mlsframe_sframe_context,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [out], optional: []);
        if out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let mut config = ReceiverConfig::default();
        if replay_window != 0 {
            config.replay_window = u64::from(replay_window);
        }
        if crate::sframe::ReplayWindow::new(config.replay_window).is_err() {
            return MLSFRAME_INVALID_ARGUMENT;
        }
        let ctx = Box::new(mlsframe_sframe_context {
            send: FrameLock::new(None),
            receive: FrameLock::new(Receiver::with_config(config)),
        });
        try_write!(out, Box::into_raw(ctx));
        MLSFRAME_OK
    })
}

/// Frees a context (its keys are zeroized). NULL is a no-op.
///
/// # Safety
/// `ctx` is NULL or from `mlsframe_sframe_context_new`, not freed, not in use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_free(ctx: *mut mlsframe_sframe_context) {
    let _ = ffi_guard!({
        if !ctx.is_null() {
            // SAFETY: from `Box::into_raw` in `_new`, freed once.
            drop(unsafe { Box::from_raw(ctx) });
        }
        MLSFRAME_OK
    });
}

/// Sets the send key: frames are sealed under `kid` with keys derived from `base_key`
/// (RFC 9605 section 4.4.2) in `suite` (1..=5), the first of them with counter
/// `first_counter` (0 for a fresh key).
///
/// Base keys are 16 bytes or longer: RFC 9605's test vectors use 16-byte base keys for
/// every suite, and any longer key is accepted as it is (an MLS exporter gives the suite's
/// Nk bytes: 48 for suites 1 to 3, 16 for suite 4, 32 for suite 5). Use uniformly random
/// keys.
///
/// Counters. A (key, counter) pair must never seal twice, so:
/// - Setting the send key already set (the same suite, KID and base key, compared in
///   constant time) keeps its counter: the next frame uses the larger of the counter it
///   reached and `first_counter`. A counter never moves backwards in a context.
/// - Any other key replaces it, and its counter starts at `first_counter`. Only the current
///   send key is remembered: a key set again after another one starts over at
///   `first_counter`, so read `mlsframe_sframe_context_send_counter` before switching and
///   pass it back, or never return to a key.
/// - `first_counter` `UINT64_MAX` sets a spent key (`MLSFRAME_COUNTER_EXHAUSTED`).
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `ctx` is NULL or `base_key` NULL
/// with a length; `MLSFRAME_INVALID_ARGUMENT` when `base_key_len` is over `PTRDIFF_MAX`;
/// `MLSFRAME_UNKNOWN_SUITE` for a suite not 1..=5; `MLSFRAME_INVALID_ARGUMENT` for a base
/// key shorter than 16 bytes; `MLSFRAME_OK`. On error the send key is unchanged.
///
/// # Safety
/// `ctx` is a live context; `base_key` valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_set_send_key(
    ctx: *const mlsframe_sframe_context,
    suite: u16,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
    first_counter: u64,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        let key = try_slice!(base_key, base_key_len);
        let suite = match checked_key(suite, key) {
            Ok(suite) => suite,
            Err(code) => return code,
        };
        let fingerprint = KeyFingerprint::of(suite, kid, key);
        let mut send = ctx.send.lock();
        let same = send.as_ref().is_some_and(|current| {
            current.key.suite() == suite
                && current.key.kid() == kid
                && current.fingerprint.matches(&fingerprint)
        });
        *send = Some(match send.take() {
            Some(current) if same => {
                let next = current.key.next_counter().max(first_counter);
                Sender {
                    key: current.key.starting_at(next),
                    fingerprint: current.fingerprint,
                }
            }
            _ => Sender {
                key: SendKey::new(suite, kid, key).starting_at(first_counter),
                fingerprint,
            },
        });
        MLSFRAME_OK
    })
}

/// The counter the send key's next frame will use (`UINT64_MAX` once the key is spent),
/// written to `*next_counter_out` (reset to 0 on entry, see the preamble). Frame calls on
/// other threads may move it on at once: to persist it, read it while no encrypt is in
/// flight, and pass it back as `first_counter`.
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `ctx` or `next_counter_out` is NULL;
/// `MLSFRAME_NO_SEND_KEY` when no send key is set; `MLSFRAME_OK`.
///
/// # Safety
/// `ctx` is a live context; `next_counter_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_send_counter(
    ctx: *const mlsframe_sframe_context,
    next_counter_out: *mut u64,
) -> mlsframe_result {
    ffi_guard!({
        reset_outputs!(inputs: &[], required: [next_counter_out], optional: []);
        let ctx = try_ref!(ctx);
        if next_counter_out.is_null() {
            return MLSFRAME_NULL_ARGUMENT;
        }
        let send = ctx.send.lock();
        let Some(sender) = send.as_ref() else {
            return MLSFRAME_NO_SEND_KEY;
        };
        try_write!(next_counter_out, sender.key.next_counter());
        MLSFRAME_OK
    })
}

/// Installs a receive key for `kid`: `base_key` in `suite`, 16 bytes or longer as for
/// `mlsframe_sframe_context_set_send_key`.
///
/// Codes, in this order: `MLSFRAME_NULL_ARGUMENT` when `ctx` is NULL or `base_key` NULL
/// with a length; `MLSFRAME_INVALID_ARGUMENT` when `base_key_len` is over `PTRDIFF_MAX`;
/// `MLSFRAME_UNKNOWN_SUITE` for a suite not 1..=5; `MLSFRAME_INVALID_ARGUMENT` for a base
/// key shorter than 16 bytes; `MLSFRAME_DUPLICATE_KEY` when `kid` is installed already (in
/// any suite: remove it first); `MLSFRAME_OK`.
///
/// # Safety
/// `ctx` is a live context; `base_key` valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_add_receive_key(
    ctx: *const mlsframe_sframe_context,
    suite: u16,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        let key = try_slice!(base_key, base_key_len);
        let suite = match checked_key(suite, key) {
            Ok(suite) => suite,
            Err(code) => return code,
        };
        ctx.receive.lock().add_key(suite, kid, key).into()
    })
}

/// Removes the receive key for `kid` (zeroized).
///
/// Codes: `MLSFRAME_NULL_ARGUMENT` when `ctx` is NULL; `MLSFRAME_NO_KEY` when no key for
/// `kid` is installed; `MLSFRAME_OK`.
///
/// # Safety
/// `ctx` is a live context.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_remove_receive_key(
    ctx: *const mlsframe_sframe_context,
    kid: u64,
) -> mlsframe_result {
    ffi_guard!({
        let ctx = try_ref!(ctx);
        if ctx.receive.lock().remove_key(kid) {
            MLSFRAME_OK
        } else {
            MLSFRAME_NO_KEY
        }
    })
}

/// Upper bound on the sealed size of a `frame_len`-byte frame, whatever the suite, KID and
/// counter; `SIZE_MAX` on overflow. Never fails.
#[unsafe(no_mangle)]
pub extern "C" fn mlsframe_sframe_max_ciphertext_size(frame_len: usize) -> usize {
    max_frame_len(CipherSuite::Aes128GcmSha256_128, frame_len).unwrap_or(usize::MAX)
}

/// Seals `frame` with the send key into `out` (capacity `out_cap`, see
/// `mlsframe_sframe_max_ciphertext_size`), or in place when `out == frame` (the buffer then
/// has room for header and tag), and writes the sealed length to `*written`.
/// `additional_data` (may be NULL/0) is authenticated, not sent. Every frame is sealed
/// whole (no `media_type`: see the preamble).
///
/// Out-parameters: `*written` is reset to 0 on entry (see the preamble). After a failure
/// `out`'s bytes are unspecified.
///
/// Codes, in this order:
/// - `MLSFRAME_NULL_ARGUMENT`: `ctx` or `written` NULL; `out` NULL with `out_cap` > 0;
///   `frame` or `additional_data` NULL with a length.
/// - `MLSFRAME_INVALID_ARGUMENT`: a length over `PTRDIFF_MAX`; an output (`out[..out_cap]`,
///   `*written`) sharing a byte with an input (`frame`, `additional_data`) or with the
///   other output, except exactly in place (and even then `additional_data` and `written`
///   must lie outside `out[..out_cap]`); in place with `out_cap < frame_len`.
/// - `MLSFRAME_NO_SEND_KEY`: no send key is set.
/// - `MLSFRAME_COUNTER_EXHAUSTED`: the send key's counters are spent; set a new key.
/// - `MLSFRAME_BUFFER_TOO_SMALL`: `out_cap` below header + frame + tag (the counter taken
///   is spent, never reused).
/// - `MLSFRAME_INVALID_ARGUMENT`: a frame longer than the AEAD accepts.
/// - `MLSFRAME_OK`.
///
/// # Safety
/// Pointers valid for their lengths; `out` writable for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_encrypt(
    ctx: *const mlsframe_sframe_context,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
) -> mlsframe_result {
    ffi_guard!({
        let args = FrameArgs {
            frame,
            frame_len,
            metadata: additional_data,
            metadata_len: additional_data_len,
            out,
            out_cap,
            written,
        };
        // SAFETY: the caller's guarantees for these pointers are this export's contract.
        let (ctx, io, ad) = match unsafe { frame_call(ctx, args, std::ptr::null_mut::<u64>()) } {
            Ok((ctx, call)) => (ctx, call.io, call.metadata),
            Err(code) => return code,
        };
        let mut send = ctx.send.lock();
        let Some(sender) = send.as_mut() else {
            return MLSFRAME_NO_SEND_KEY;
        };
        let result = sender
            .key
            .take_counter_exclusive()
            .and_then(|ctr| match io {
                FrameIo::InPlace { buf, len } => sender.key.encrypt_in_place_at(ctr, ad, buf, len),
                FrameIo::Separate { input, output } => {
                    sender.key.encrypt_at(ctr, ad, input, output)
                }
            });
        drop(send);
        match result {
            Ok(n) => {
                try_write!(written, n);
                MLSFRAME_OK
            }
            Err(e) => code_of(e),
        }
    })
}

/// Opens `frame` into `out` (capacity `out_cap`), or in place when `out == frame` (then
/// `out_cap >= frame_len`; the plaintext starts at `out`); writes the plaintext length to
/// `*written` and the frame's KID to `*kid_out` (`kid_out` may be NULL). No `media_type`:
/// see the preamble.
///
/// Out-parameters: `*written` and `*kid_out` are reset to 0 on entry (see the preamble).
/// After a failure `out` holds no plaintext (nothing is written there before the tag
/// verifies; a frame refused after it verified has its plaintext wiped); in place, a
/// failure before the tag verifies leaves the frame as it was.
///
/// Codes, the argument checks first, in this order:
/// - `MLSFRAME_NULL_ARGUMENT`: `ctx` or `written` NULL; `out` NULL with `out_cap` > 0;
///   `frame` or `additional_data` NULL with a length.
/// - `MLSFRAME_INVALID_ARGUMENT`: a length over `PTRDIFF_MAX`; an output (`out[..out_cap]`,
///   `*written`, `*kid_out`) sharing a byte with an input (`frame`, `additional_data`) or
///   with another output, except exactly in place (and even then `additional_data`,
///   `written` and `kid_out` must lie outside `out[..out_cap]`); in place with
///   `out_cap < frame_len`.
///
/// Then what the frame itself gets. The header is read first (`MALFORMED` for one that does
/// not parse), then its key looked up; a counter already accepted is refused (`REPLAY`)
/// before the rest of the frame is looked at, so a replayed frame gets `MLSFRAME_REPLAY`
/// even when it is also too short or tampered:
/// - `MLSFRAME_MALFORMED`: empty; the header truncated; a header that encodes the KID or
///   the counter in more bytes than needed (RFC 9605 section 4.3 asks senders for the
///   minimum; mlsframe refuses any other encoding, so every frame has one wire form);
///   shorter than header plus tag.
/// - `MLSFRAME_NO_KEY`: no receive key for the frame's KID.
/// - `MLSFRAME_BUFFER_TOO_SMALL`: `out_cap` below the plaintext length.
/// - `MLSFRAME_AUTH_FAILED`: the tag does not verify (another key, other additional data,
///   tampered).
/// - `MLSFRAME_REPLAY`: the counter was already accepted for this KID, or is older than
///   the replay window.
/// - `MLSFRAME_OK`.
///
/// # Safety
/// Pointers valid for their lengths; `out` writable for `out_cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mlsframe_sframe_context_decrypt(
    ctx: *const mlsframe_sframe_context,
    frame: *const u8,
    frame_len: usize,
    additional_data: *const u8,
    additional_data_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    kid_out: *mut u64,
) -> mlsframe_result {
    ffi_guard!({
        let args = FrameArgs {
            frame,
            frame_len,
            metadata: additional_data,
            metadata_len: additional_data_len,
            out,
            out_cap,
            written,
        };
        // SAFETY: the caller's guarantees for these pointers are this export's contract.
        let (ctx, io, ad) = match unsafe { frame_call(ctx, args, kid_out) } {
            Ok((ctx, call)) => (ctx, call.io, call.metadata),
            Err(code) => return code,
        };
        let mut receiver = ctx.receive.lock();
        let result = match io {
            FrameIo::InPlace { buf, len } => {
                receiver.decrypt_in_place_exclusive(ad, &mut buf[..len])
            }
            // `decrypt_exclusive` with its body inlined here: one call less per frame, 26
            // instructions of a 100 B open. (Inlining the in-place open as well saved 10
            // and measured no faster.)
            FrameIo::Separate { input, output } => receiver
                .open_exclusive(
                    ad,
                    FrameInput::Separate {
                        frame: input,
                        out: output,
                    },
                )
                .map(|(opened, _)| opened),
        };
        drop(receiver);
        match result {
            Ok(opened) => {
                try_write!(written, opened.len);
                if !kid_out.is_null() {
                    try_write!(kid_out, opened.kid);
                }
                MLSFRAME_OK
            }
            Err(e) => code_of(e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh context (replay window 128).
    fn context() -> *mut mlsframe_sframe_context {
        let mut ctx = std::ptr::null_mut();
        // SAFETY: `ctx` is writable.
        let code = unsafe { mlsframe_sframe_context_new(0, &mut ctx) };
        assert_eq!(code, MLSFRAME_OK);
        ctx
    }

    fn set(ctx: *const mlsframe_sframe_context, suite: u16, kid: u64, key: &[u8], first: u64) {
        // SAFETY: live context; `key` valid for its length.
        let code = unsafe {
            mlsframe_sframe_context_set_send_key(ctx, suite, kid, key.as_ptr(), key.len(), first)
        };
        assert_eq!(code, MLSFRAME_OK);
    }

    fn counter(ctx: *const mlsframe_sframe_context) -> Result<u64, mlsframe_result> {
        let mut next = 77;
        // SAFETY: live context; `next` writable.
        match unsafe { mlsframe_sframe_context_send_counter(ctx, &mut next) } {
            MLSFRAME_OK => Ok(next),
            code => {
                assert_eq!(next, 0, "a failed getter resets its output");
                Err(code)
            }
        }
    }

    /// Seals one empty frame and returns its counter, read back from the header.
    fn seal(ctx: *const mlsframe_sframe_context) -> Result<u64, mlsframe_result> {
        let mut out = [0u8; 64];
        let mut n = 77;
        // SAFETY: live context; `out` and `n` are writable locals.
        let code = unsafe {
            mlsframe_sframe_context_encrypt(
                ctx,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        if code != MLSFRAME_OK {
            assert_eq!(n, 0, "a failed encrypt resets *written");
            return Err(code);
        }
        let (header, _) = crate::sframe::Header::decode(&out[..n]).expect("our own header");
        Ok(header.ctr)
    }

    #[test]
    fn the_same_send_key_again_keeps_its_counter_and_a_new_one_starts_over() {
        let ctx = context();
        let (a, b) = ([1u8; 16], [2u8; 32]);
        assert_eq!(counter(ctx), Err(MLSFRAME_NO_SEND_KEY));
        assert_eq!(seal(ctx), Err(MLSFRAME_NO_SEND_KEY));
        set(ctx, 4, 9, &a, 0);
        assert_eq!((seal(ctx), seal(ctx), counter(ctx)), (Ok(0), Ok(1), Ok(2)));
        // The same (suite, KID, key): continues, whatever `first_counter` says below it...
        set(ctx, 4, 9, &a, 0);
        assert_eq!(seal(ctx), Ok(2));
        // ...and moves forward to a larger one.
        set(ctx, 4, 9, &a, 100);
        assert_eq!((seal(ctx), counter(ctx)), (Ok(100), Ok(101)));
        // Another key, KID or suite is another key: its counter starts at `first_counter`.
        set(ctx, 4, 9, &b, 0);
        assert_eq!(seal(ctx), Ok(0));
        set(ctx, 4, 10, &b, 5);
        assert_eq!(seal(ctx), Ok(5));
        set(ctx, 5, 10, &b, 0);
        assert_eq!(seal(ctx), Ok(0));
        // A key that differs only in its last byte, or only in its length, is another key.
        let mut a2 = a;
        a2[15] ^= 1;
        set(ctx, 4, 9, &a, 0);
        set(ctx, 4, 9, &a, 0);
        assert_eq!(seal(ctx), Ok(0));
        set(ctx, 4, 9, &a2, 0);
        assert_eq!(seal(ctx), Ok(0));
        set(ctx, 4, 9, &[1u8; 17], 0);
        assert_eq!(seal(ctx), Ok(0));
        // A spent key stays spent, also when set again.
        set(ctx, 4, 9, &a, u64::MAX - 1);
        assert_eq!((seal(ctx), counter(ctx)), (Ok(u64::MAX - 1), Ok(u64::MAX)));
        assert_eq!(seal(ctx), Err(MLSFRAME_COUNTER_EXHAUSTED));
        set(ctx, 4, 9, &a, 0);
        assert_eq!(seal(ctx), Err(MLSFRAME_COUNTER_EXHAUSTED));
        // SAFETY: from `context`, freed once.
        unsafe { mlsframe_sframe_context_free(ctx) };
    }

    /// Frame calls whose arguments pass (the fast path) and that fail on the frame itself
    /// leave `*written` and `*kid_out` reset, out of place and in place.
    #[test]
    fn a_refused_frame_leaves_the_out_parameters_reset() {
        let ctx = context();
        set(ctx, 4, 9, &[1u8; 16], 0);
        let mut frame = [0u8; 64];
        let (mut n, mut kid) = (0usize, 0u64);
        // SAFETY: live context; every buffer is a local with its length.
        unsafe {
            let code = mlsframe_sframe_context_encrypt(
                ctx,
                b"hello".as_ptr(),
                5,
                std::ptr::null(),
                0,
                frame.as_mut_ptr(),
                frame.len(),
                &mut n,
            );
            assert_eq!(code, MLSFRAME_OK);
            let sealed = n;
            let intact = frame;
            frame[sealed - 1] ^= 1;
            let tampered = frame;
            let mut out = [0u8; 64];
            // Opens the tampered frame out of place and in place: refused with `expected`,
            // both out-parameters reset.
            let mut refused = |expected: mlsframe_result| {
                for in_place in [false, true] {
                    frame = tampered;
                    let (mut n, mut kid) = (77usize, 77u64);
                    let out = if in_place {
                        frame.as_mut_ptr()
                    } else {
                        out.as_mut_ptr()
                    };
                    let code = mlsframe_sframe_context_decrypt(
                        ctx,
                        frame.as_ptr(),
                        sealed,
                        std::ptr::null(),
                        0,
                        out,
                        64,
                        &mut n,
                        &mut kid,
                    );
                    assert_eq!((code, n, kid), (expected, 0, 0), "in place: {in_place}");
                }
            };
            refused(MLSFRAME_NO_KEY);
            // With the key: the tag fails.
            mlsframe_sframe_context_add_receive_key(ctx, 4, 9, [1u8; 16].as_ptr(), 16);
            refused(MLSFRAME_AUTH_FAILED);
            // The same calls with the frame intact succeed.
            frame = intact;
            let code = mlsframe_sframe_context_decrypt(
                ctx,
                frame.as_ptr(),
                sealed,
                std::ptr::null(),
                0,
                frame.as_mut_ptr(),
                64,
                &mut n,
                &mut kid,
            );
            assert_eq!((code, &frame[..n], kid), (MLSFRAME_OK, &b"hello"[..], 9));
            mlsframe_sframe_context_free(ctx);
        }
    }

    #[test]
    fn base_keys_are_16_bytes_or_longer() {
        let ctx = context();
        let key = [3u8; 64];
        for (len, want) in [
            (0, MLSFRAME_INVALID_ARGUMENT),
            (1, MLSFRAME_INVALID_ARGUMENT),
            (15, MLSFRAME_INVALID_ARGUMENT),
            (16, MLSFRAME_OK),
            (17, MLSFRAME_OK),
            (64, MLSFRAME_OK),
        ] {
            // SAFETY: live context; `key` holds at least `len` bytes.
            let (send, receive) = unsafe {
                (
                    mlsframe_sframe_context_set_send_key(ctx, 1, 1, key.as_ptr(), len, 0),
                    mlsframe_sframe_context_add_receive_key(ctx, 1, len as u64, key.as_ptr(), len),
                )
            };
            assert_eq!((send, receive), (want, want), "{len}-byte base key");
        }
        // SAFETY: live context.
        let unknown =
            unsafe { mlsframe_sframe_context_set_send_key(ctx, 6, 1, key.as_ptr(), 1, 0) };
        assert_eq!(
            unknown, MLSFRAME_UNKNOWN_SUITE,
            "the suite is checked first"
        );
        // SAFETY: from `context`, freed once.
        unsafe { mlsframe_sframe_context_free(ctx) };
    }

    #[test]
    fn fingerprints_tell_keys_kids_and_suites_apart() {
        let suite = CipherSuite::Aes128GcmSha256_128;
        let f = KeyFingerprint::of(suite, 1, &[5u8; 16]);
        assert!(f.matches(&KeyFingerprint::of(suite, 1, &[5u8; 16])));
        assert!(!f.matches(&KeyFingerprint::of(suite, 2, &[5u8; 16])));
        assert!(!f.matches(&KeyFingerprint::of(
            CipherSuite::Aes256GcmSha512_128,
            1,
            &[5u8; 16]
        )));
        assert!(!f.matches(&KeyFingerprint::of(suite, 1, &[5u8; 17])));
        // Not the base key, nor the frame key or salt it derives.
        let (key, salt) = crate::sframe::derive_key_and_salt(suite, &[5u8; 16], 1);
        assert_ne!(&f.0[..16], &[5u8; 16]);
        assert_ne!(&f.0[..16], &key[..]);
        assert_ne!(&f.0[..12], &salt[..]);
    }

    /// Opens `frame` through the context; the code and the plaintext.
    fn open(ctx: *const mlsframe_sframe_context, frame: &[u8]) -> (mlsframe_result, Vec<u8>) {
        let mut out = [0u8; 64];
        let mut n = 0;
        // SAFETY: live context; `frame` readable, `out` and `n` writable locals.
        let code = unsafe {
            mlsframe_sframe_context_decrypt(
                ctx,
                frame.as_ptr(),
                frame.len(),
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                std::ptr::null_mut(),
            )
        };
        (code, out[..n].to_vec())
    }

    /// Four threads seal on one context while a fifth reads its counter, then eight open
    /// on one context: every counter is used once, the counter read never goes back, every
    /// frame opens once with its own plaintext, and a frame opened already is a replay.
    #[test]
    fn threads_sharing_a_context_use_each_counter_once_and_open_each_frame_once() {
        const THREADS: usize = 4;
        const FRAMES: usize = 300;
        // Contexts are Send + Sync objects to C; threads get them as addresses.
        let ctx = context() as usize;
        set(ctx as *const _, 4, 9, &[3u8; 16], 0);
        let mut rx = std::ptr::null_mut();
        // SAFETY: `rx` writable; then a live context and a key valid for its length.
        unsafe {
            assert_eq!(mlsframe_sframe_context_new(4096, &mut rx), MLSFRAME_OK);
            let key = [3u8; 16];
            let code = mlsframe_sframe_context_add_receive_key(rx, 4, 9, key.as_ptr(), 16);
            assert_eq!(code, MLSFRAME_OK);
        }
        let rx = rx as usize;
        let done = std::sync::atomic::AtomicBool::new(false);
        let frames: Vec<(u8, u16, Vec<u8>)> = std::thread::scope(|scope| {
            let watcher = scope.spawn(|| {
                let mut last = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let now = counter(ctx as *const _).expect("a send key is set");
                    assert!(now >= last, "the counter went back from {last} to {now}");
                    last = now;
                }
            });
            let sealers: Vec<_> = (0..THREADS as u8)
                .map(|t| {
                    scope.spawn(move || {
                        (0..FRAMES as u16)
                            .map(|i| {
                                let plain = [t, (i >> 8) as u8, i as u8];
                                let mut out = [0u8; 64];
                                let mut n = 0;
                                // SAFETY: live context; locals readable and writable.
                                let code = unsafe {
                                    mlsframe_sframe_context_encrypt(
                                        ctx as *const _,
                                        plain.as_ptr(),
                                        plain.len(),
                                        std::ptr::null(),
                                        0,
                                        out.as_mut_ptr(),
                                        out.len(),
                                        &mut n,
                                    )
                                };
                                assert_eq!(code, MLSFRAME_OK);
                                (t, i, out[..n].to_vec())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let frames = sealers
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect();
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            watcher.join().unwrap();
            frames
        });
        let ctrs: std::collections::HashSet<u64> = frames
            .iter()
            .map(|(_, _, f)| crate::sframe::Header::decode(f).unwrap().0.ctr)
            .collect();
        assert_eq!(ctrs.len(), THREADS * FRAMES);
        assert_eq!(counter(ctx as *const _), Ok((THREADS * FRAMES) as u64));

        std::thread::scope(|scope| {
            for part in frames.chunks(FRAMES / 2) {
                scope.spawn(move || {
                    for (t, i, frame) in part {
                        let (code, plain) = open(rx as *const _, frame);
                        assert_eq!(code, MLSFRAME_OK);
                        assert_eq!(plain, [*t, (*i >> 8) as u8, *i as u8]);
                    }
                });
            }
        });
        assert_eq!(open(rx as *const _, &frames[7].2).0, MLSFRAME_REPLAY);
        // SAFETY: both from `_new`, freed once, no call in flight.
        unsafe {
            mlsframe_sframe_context_free(ctx as *mut _);
            mlsframe_sframe_context_free(rx as *mut _);
        }
    }
}
