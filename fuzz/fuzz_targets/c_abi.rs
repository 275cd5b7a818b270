//! Fuzzes the C ABI as a C caller drives it: the `extern "C"` exports called through raw
//! pointers, with fuzz-chosen lengths, NULLs, and buffers placed in place, apart, or
//! overlapping anywhere inside one allocation. Covered: frame decrypt
//! (`mlsframe_decryptor_decrypt`, `mlsframe_sframe_context_decrypt`), frame encrypt
//! (`mlsframe_encryptor_encrypt`, `mlsframe_sframe_context_encrypt`) and MLS input
//! (`mlsframe_session_process`) on a real two-member group, set up once per process.
//!
//! Asserted for every call: no panic and never `MLSFRAME_PANIC` / `MLSFRAME_INTERNAL`;
//! `*written <= out_cap`, and 0 after any failure unless the out-pointers themselves were
//! refused (`written` NULL, or an output overlapping an input or another output: then
//! `*written` and the inputs are not written); the argument
//! verdict matches an independent model of the rules (NULL with a length is
//! `NULL_ARGUMENT`; an output overlapping an input or another output, other than exactly in
//! place, or an in-place call whose buffer cannot hold the frame, is `INVALID_ARGUMENT`;
//! anything else is neither). And the happy paths hold: a frame sealed just now, passed
//! intact with legal arguments and enough room, opens to its plaintext; a seal with legal
//! arguments and room succeeds and its output opens again.
//!
//! Input: `op`, then per op a few selector bytes and data (see `Reader` and `place`);
//! bytes past the end read as zero.
#![no_main]

use std::mem::{MaybeUninit, size_of};
use std::ptr;
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use mlsframe::ffi::buffer::{mlsframe_buffer, mlsframe_buffer_free};
use mlsframe::ffi::decryptor::{mlsframe_decryptor, mlsframe_decryptor_decrypt, mlsframe_sender};
use mlsframe::ffi::encryptor::{mlsframe_encryptor, mlsframe_encryptor_encrypt};
use mlsframe::ffi::mlsframe_result::{self, *};
use mlsframe::ffi::session::*;
use mlsframe::ffi::sframe_context::*;
use mlsframe::ffi::{decryptor, encryptor};

/// Bytes in the one allocation every call's buffers are placed in.
const ARENA: usize = 8192;
/// Frames and messages longer than this are cut (the arena must hold one with room).
const MAX_DATA: usize = 4096;

/// The group and handles every input reuses (raw handles are neither `Send` nor `Sync`,
/// and libFuzzer runs inputs on one thread).
struct World {
    alice: *mut mlsframe_session,
    bob: *mut mlsframe_session,
    /// Alice's encryptor (context 0) and Bob's decryptor.
    enc: *mut mlsframe_encryptor,
    dec: *mut mlsframe_decryptor,
    /// `tx[i]` seals with suite `i + 1` under KID `i + 1`; `rx` holds all five keys.
    tx: [*mut mlsframe_sframe_context; 5],
    rx: *mut mlsframe_sframe_context,
    /// Real MLS messages of this group for Bob: a commit of Alice's (discarded, so Bob must
    /// only ever see it mutated), the welcome, a spare key package, a leave proposal of a
    /// stranger's group.
    messages: Vec<Vec<u8>>,
}

fn must(what: &str, code: mlsframe_result) {
    assert_eq!(code, MLSFRAME_OK, "setup: {what}");
}

/// Takes a library buffer's bytes and frees it.
fn take(buf: &mut mlsframe_buffer) -> Vec<u8> {
    let bytes = if buf.data.is_null() {
        Vec::new()
    } else {
        // SAFETY: the library filled `buf` with `len` bytes at `data`.
        unsafe { std::slice::from_raw_parts(buf.data, buf.len) }.to_vec()
    };
    // SAFETY: `buf` was filled by the library and not modified.
    unsafe { mlsframe_buffer_free(buf) };
    bytes
}

fn empty() -> mlsframe_buffer {
    mlsframe_buffer {
        data: ptr::null_mut(),
        len: 0,
    }
}

fn session(name: &str) -> *mut mlsframe_session {
    let mut s = ptr::null_mut();
    let seed = [name.as_bytes()[0]; 32];
    // SAFETY: every pointer is valid for its length; `s` is writable.
    must("session_new", unsafe {
        mlsframe_session_new(
            name.as_ptr(),
            name.len(),
            b"fuzz".as_ptr(),
            4,
            seed.as_ptr(),
            32,
            ptr::null(),
            &mut s,
        )
    });
    s
}

impl World {
    fn new() -> World {
        let started = Instant::now();
        let (alice, bob) = (session("alice"), session("bob"));
        let (mut kp, mut spare, mut commit, mut welcome) = (empty(), empty(), empty(), empty());
        let (mut update, mut leave) = (empty(), empty());
        let mut w = World {
            alice,
            bob,
            enc: ptr::null_mut(),
            dec: ptr::null_mut(),
            tx: [ptr::null_mut(); 5],
            rx: ptr::null_mut(),
            messages: Vec::new(),
        };
        // SAFETY: live handles from above; every out-pointer is a writable local.
        unsafe {
            must("key_package", mlsframe_session_key_package(bob, &mut kp));
            must("key_package", mlsframe_session_key_package(bob, &mut spare));
            must(
                "create_group",
                mlsframe_session_create_group(alice, 4, 4, false),
            );
            let (p, l) = ([kp.data.cast_const()], [kp.len]);
            must(
                "add_members",
                mlsframe_session_add_members(
                    alice,
                    p.as_ptr(),
                    l.as_ptr(),
                    1,
                    &mut commit,
                    &mut welcome,
                ),
            );
            must("confirm_commit", mlsframe_session_confirm_commit(alice));
            must(
                "join",
                mlsframe_session_join(bob, welcome.data, welcome.len, ptr::null_mut()),
            );
            must(
                "self_update",
                mlsframe_session_self_update(alice, &mut update),
            );
            must("discard_commit", mlsframe_session_discard_commit(alice));
            // A leave proposal from a group Bob is not in.
            let (carol, dave) = (session("carol"), session("dave"));
            let mut dave_kp = empty();
            let (mut c2, mut w2) = (empty(), empty());
            must(
                "key_package",
                mlsframe_session_key_package(dave, &mut dave_kp),
            );
            must(
                "create_group",
                mlsframe_session_create_group(carol, 4, 4, false),
            );
            let (p, l) = ([dave_kp.data.cast_const()], [dave_kp.len]);
            must(
                "add_members",
                mlsframe_session_add_members(carol, p.as_ptr(), l.as_ptr(), 1, &mut c2, &mut w2),
            );
            must("confirm_commit", mlsframe_session_confirm_commit(carol));
            must(
                "join",
                mlsframe_session_join(dave, w2.data, w2.len, ptr::null_mut()),
            );
            must("leave", mlsframe_session_leave(dave, &mut leave));
            for b in [&mut dave_kp, &mut c2, &mut w2] {
                take(b);
            }
            mlsframe_session_free(carol);
            mlsframe_session_free(dave);

            must(
                "encryptor_new",
                mlsframe_session_encryptor_new(alice, 0, &mut w.enc),
            );
            must(
                "decryptor_new",
                mlsframe_session_decryptor_new(bob, &mut w.dec),
            );
            must(
                "sframe_context_new",
                mlsframe_sframe_context_new(0, &mut w.rx),
            );
            for (i, tx) in w.tx.iter_mut().enumerate() {
                let (suite, kid) = (i as u16 + 1, i as u64 + 1);
                let key = [0x40 + i as u8; 32];
                must("sframe_context_new", mlsframe_sframe_context_new(0, tx));
                must(
                    "set_send_key",
                    mlsframe_sframe_context_set_send_key(
                        *tx,
                        suite,
                        kid,
                        key.as_ptr(),
                        key.len(),
                        0,
                    ),
                );
                must(
                    "add_receive_key",
                    mlsframe_sframe_context_add_receive_key(
                        w.rx,
                        suite,
                        kid,
                        key.as_ptr(),
                        key.len(),
                    ),
                );
            }
        }
        take(&mut kp);
        take(&mut commit);
        w.messages = vec![
            take(&mut update),
            take(&mut welcome),
            take(&mut spare),
            take(&mut leave),
        ];
        eprintln!(
            "c_abi: group and handles set up once, in {:?}",
            started.elapsed()
        );
        w
    }

    /// Alice's and Bob's epochs (Bob may have moved on if mutations ever cancelled out).
    fn same_epoch(&self) -> bool {
        let (mut a, mut b) = (0u64, 0u64);
        // SAFETY: live sessions; writable locals; the leaf out-pointer may be NULL.
        unsafe {
            mlsframe_session_epoch(self.alice, &mut a, ptr::null_mut()) == MLSFRAME_OK
                && mlsframe_session_epoch(self.bob, &mut b, ptr::null_mut()) == MLSFRAME_OK
                && a == b
        }
    }
}

thread_local! {
    static WORLD: World = World::new();
}

/// Reads the fuzz input front to back; past the end it yields zeros and empty slices.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }

    fn u16(&mut self) -> usize {
        usize::from(u16::from_be_bytes([self.byte(), self.byte()]))
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    /// Length-prefixed (1 byte) metadata, at most 31 bytes.
    fn short(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte() % 32);
        self.take(n)
    }

    /// Length-prefixed (2 bytes) data, at most `MAX_DATA` bytes.
    fn data(&mut self) -> &'a [u8] {
        let n = self.u16() % (MAX_DATA + 1);
        self.take(n)
    }
}

/// Applies 3-byte mutations (position high, low, xor; xor 0 truncates) from `r`, `count`
/// of them.
fn mutate(bytes: &mut Vec<u8>, r: &mut Reader<'_>, count: usize) {
    for _ in 0..count {
        if bytes.is_empty() {
            return;
        }
        let pos = r.u16() % bytes.len();
        match r.byte() {
            0 => bytes.truncate(pos),
            x => bytes[pos] ^= x,
        }
    }
}

/// A byte range of caller memory for the overlap model (NULL or empty: nothing).
#[derive(Clone, Copy)]
struct Range(usize, usize);

impl Range {
    fn new<T>(p: *const T, bytes: usize) -> Range {
        if p.is_null() {
            Range(0, 0)
        } else {
            Range(p as usize, bytes)
        }
    }

    fn meets(self, o: Range) -> bool {
        self.1 != 0 && o.1 != 0 && self.0 < o.0 + o.1 && o.0 < self.0 + self.1
    }
}

/// The model of the aliasing rule, written independently of the library's.
fn any_overlap(inputs: &[Range], outputs: &[Range]) -> bool {
    outputs.iter().enumerate().any(|(i, o)| {
        inputs.iter().any(|x| o.meets(*x)) || outputs[i + 1..].iter().any(|p| o.meets(*p))
    })
}

/// One frame call's arguments, placed by the fuzzer.
struct Args {
    handle_null: bool,
    frame: *const u8,
    frame_len: usize,
    meta: *const u8,
    meta_len: usize,
    out: *mut u8,
    out_cap: usize,
    written: *mut usize,
    /// The extra out-pointer (sender or KID), `extra_size` bytes.
    extra: *mut u8,
}

/// What a placed call did.
struct Done {
    code: mlsframe_result,
    /// The arguments passed every check and the frame and metadata bytes the callee saw
    /// were exactly the given ones.
    clean: bool,
    /// The metadata bytes the callee saw.
    meta_seen: Vec<u8>,
    /// The frame (or plaintext) bytes the callee saw: the given ones, unless the layout
    /// clobbered them, or made the pointer NULL or the length 0.
    frame_seen: Vec<u8>,
    /// The output capacity passed.
    out_cap: usize,
    /// On success, the `*written` output bytes.
    output: Vec<u8>,
    /// On success, the extra out-value (if it was not NULL).
    extra: Option<[u8; 24]>,
}

/// Lays out `frame` and `meta` and the outputs in one arena (or apart, or NULL) as the
/// input chooses, makes the call, and checks everything common to frame calls.
fn place(
    r: &mut Reader<'_>,
    frame: &[u8],
    meta: &[u8],
    extra_size: usize,
    call: impl FnOnce(&Args) -> mlsframe_result,
) -> Done {
    let mut arena = vec![0u64; ARENA / 8];
    let base = arena.as_mut_ptr().cast::<u8>();
    let mut local_out: Vec<u8>;
    let mut local_meta = meta.to_vec();
    let mut local_written = 0usize;
    let mut local_extra = [0u64; 3];
    let (m1, m2, delta) = (r.byte(), r.byte(), usize::from(r.byte()));
    let at = |off: usize| base.wrapping_add(off);
    let aligned = |r: &mut Reader<'_>, size: usize| at((r.u16() % ((ARENA - size) / 8 + 1)) * 8);

    // The frame, somewhere in the arena (or NULL).
    let frame_off = r.u16() % (ARENA - frame.len() + 1);
    // SAFETY: `frame_off + frame.len() <= ARENA`; nothing else refers to the arena now.
    unsafe { ptr::copy_nonoverlapping(frame.as_ptr(), at(frame_off), frame.len()) };
    let (frame_ptr, frame_len) = if m2 & 4 != 0 {
        (ptr::null(), if delta & 1 == 0 { 0 } else { frame.len() })
    } else {
        (at(frame_off).cast_const(), frame.len())
    };

    // The metadata: apart, in the arena (written after the frame, so it may clobber it),
    // or NULL.
    let (meta_ptr, meta_len) = match (m1 >> 2) & 3 {
        1 => {
            let off = r.u16() % (ARENA - meta.len() + 1);
            // SAFETY: in bounds, as above.
            unsafe { ptr::copy_nonoverlapping(meta.as_ptr(), at(off), meta.len()) };
            (at(off).cast_const(), meta.len())
        }
        2 => (ptr::null(), meta.len()),
        _ => (local_meta.as_mut_ptr().cast_const(), meta.len()),
    };

    // The output: apart, exactly in place, in the arena, or NULL; capacity near the frame's.
    let wanted = match m2 & 3 {
        0 => frame.len(),
        1 => frame.len() + delta,
        2 => frame.len().saturating_sub(delta),
        _ => delta * 16,
    };
    let (out, out_cap) = match m1 & 3 {
        0 => {
            local_out = vec![0u8; wanted];
            (local_out.as_mut_ptr(), wanted)
        }
        1 => (at(frame_off), wanted.min(ARENA - frame_off)),
        2 => {
            let off = r.u16() % ARENA;
            (at(off), wanted.min(ARENA - off))
        }
        _ => (ptr::null_mut(), if delta & 2 == 0 { 0 } else { wanted }),
    };
    let written = match (m1 >> 4) & 3 {
        1 => aligned(r, size_of::<usize>()).cast::<usize>(),
        2 => ptr::null_mut(),
        _ => &mut local_written as *mut usize,
    };
    let extra = match m1 >> 6 {
        1 => aligned(r, extra_size),
        2 => ptr::null_mut(),
        _ => local_extra.as_mut_ptr().cast::<u8>(),
    };
    let args = Args {
        handle_null: m2 & 16 != 0,
        frame: frame_ptr,
        frame_len,
        meta: meta_ptr,
        meta_len,
        out,
        out_cap,
        written,
        extra,
    };

    // The model's verdict on the arguments.
    let null_argument = args.handle_null
        || written.is_null()
        || (out.is_null() && out_cap != 0)
        || (frame_ptr.is_null() && frame_len != 0)
        || (meta_ptr.is_null() && meta_len != 0);
    let in_place = !out.is_null() && ptr::eq(out.cast_const(), frame_ptr);
    let frame_range = if in_place {
        Range(0, 0)
    } else {
        Range::new(frame_ptr, frame_len)
    };
    let overlap = any_overlap(
        &[frame_range, Range::new(meta_ptr, meta_len)],
        &[
            Range::new(out, out_cap),
            Range::new(written, size_of::<usize>()),
            Range::new(extra, extra_size),
        ],
    );
    let invalid = overlap || (in_place && out_cap < frame_len);
    // The out-parameter rule: `*written` is reset unless the out-pointers are refused
    // (`written` NULL, or an output overlapping an input or another output, the buffer
    // counting for the whole frame in place).
    let buffer_len = if in_place {
        out_cap.max(frame_len)
    } else {
        out_cap
    };
    let outputs_refused = written.is_null()
        || any_overlap(
            &[frame_range, Range::new(meta_ptr, meta_len)],
            &[
                Range::new(out, buffer_len),
                Range::new(written, size_of::<usize>()),
                Range::new(extra, extra_size),
            ],
        );
    // SAFETY: each pointer is NULL or in bounds for its length; no reference to the arena
    // or the locals is alive.
    let seen = |p: *const u8, n: usize| {
        if p.is_null() {
            Vec::new()
        } else {
            unsafe { std::slice::from_raw_parts(p, n) }.to_vec()
        }
    };
    let meta_seen = seen(meta_ptr, meta_len);
    let frame_seen = seen(frame_ptr, frame_len);
    let clean = !null_argument && !invalid && frame_seen == frame && meta_seen == meta;

    let code = call(&args);

    assert!(
        code != MLSFRAME_PANIC && code != MLSFRAME_INTERNAL,
        "internal failure {code:?}"
    );
    if null_argument {
        assert_eq!(code, MLSFRAME_NULL_ARGUMENT);
    } else if invalid {
        assert_eq!(code, MLSFRAME_INVALID_ARGUMENT);
    } else {
        assert!(
            code != MLSFRAME_NULL_ARGUMENT && code != MLSFRAME_INVALID_ARGUMENT,
            "legal arguments refused: {code:?}"
        );
    }
    let mut done = Done {
        code,
        clean,
        meta_seen,
        frame_seen,
        out_cap,
        output: Vec::new(),
        extra: None,
    };
    // `*written` is defined unless the out-pointers were refused.
    if !outputs_refused {
        // SAFETY: `written` is a local or an aligned in-bounds arena slot.
        let n = unsafe { written.read() };
        assert!(n <= out_cap, "*written {n} > out_cap {out_cap}");
        if code == MLSFRAME_OK {
            done.output = seen(out, n);
            if !extra.is_null() {
                let mut e = [0u8; 24];
                // SAFETY: `extra` is valid for `extra_size <= 24` bytes.
                unsafe { ptr::copy_nonoverlapping(extra, e.as_mut_ptr(), extra_size) };
                done.extra = Some(e);
            }
        } else {
            assert_eq!(n, 0, "a failed call must leave *written at 0");
        }
    }
    drop(local_meta);
    drop(arena);
    done
}

fn handle<T>(args: &Args, h: *const T) -> *const T {
    if args.handle_null { ptr::null() } else { h }
}

/// Bob's decryptor opens a raw, a fresh (Alice just sealed it) or a mutated frame.
fn decryptor_decrypt(w: &World, r: &mut Reader<'_>) {
    let source = r.byte();
    let payload = r.data();
    let meta = r.short().to_vec();
    let mut frame = if source & 3 == 0 {
        payload.to_vec()
    } else {
        let mut buf = vec![0u8; payload.len() + 64];
        let mut n = 0;
        // SAFETY: valid, disjoint buffers for their lengths; `n` writable.
        let code = unsafe {
            mlsframe_encryptor_encrypt(
                w.enc,
                payload.as_ptr(),
                payload.len(),
                meta.as_ptr(),
                meta.len(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut n,
            )
        };
        assert_eq!(code, MLSFRAME_OK, "sealing with clean arguments");
        buf.truncate(n);
        buf
    };
    let sealed = frame.clone();
    if source & 4 != 0 {
        mutate(&mut frame, r, usize::from(source >> 3) % 4 + 1);
    }
    let fresh = source & 3 != 0 && frame == sealed;
    let done = place(r, &frame, &meta, size_of::<mlsframe_sender>(), |a| {
        // SAFETY: `place` made every pointer NULL or valid for its length.
        unsafe {
            mlsframe_decryptor_decrypt(
                handle(a, w.dec),
                a.frame,
                a.frame_len,
                a.meta,
                a.meta_len,
                a.out,
                a.out_cap,
                a.written,
                a.extra.cast(),
            )
        }
    });
    if done.code == MLSFRAME_OK {
        assert!(done.output.len() <= frame.len());
    }
    if fresh && done.clean && done.out_cap >= payload.len() && w.same_epoch() {
        assert_eq!(done.code, MLSFRAME_OK, "a fresh frame did not open");
        assert_eq!(done.output, payload, "a fresh frame opened to other bytes");
        if let Some(e) = done.extra {
            // mlsframe_sender: epoch u64, leaf u32 (+ padding), context u64; Alice is leaf 0.
            assert_eq!(u32::from_ne_bytes([e[8], e[9], e[10], e[11]]), 0);
        }
    }
}

/// The app-keyed context opens a raw, fresh or mutated frame of any of the five suites.
fn sframe_decrypt(w: &World, r: &mut Reader<'_>) {
    let source = r.byte();
    let suite = usize::from(source >> 5) % 5;
    let payload = r.data();
    let meta = r.short().to_vec();
    let mut frame = if source & 3 == 0 {
        payload.to_vec()
    } else {
        seal_clean(w.tx[suite], payload, &meta)
    };
    let sealed = frame.clone();
    if source & 4 != 0 {
        mutate(&mut frame, r, usize::from(source >> 3) % 4 + 1);
    }
    let fresh = source & 3 != 0 && frame == sealed;
    let done = place(r, &frame, &meta, size_of::<u64>(), |a| {
        // SAFETY: `place` made every pointer NULL or valid for its length.
        unsafe {
            mlsframe_sframe_context_decrypt(
                handle(a, w.rx),
                a.frame,
                a.frame_len,
                a.meta,
                a.meta_len,
                a.out,
                a.out_cap,
                a.written,
                a.extra.cast(),
            )
        }
    });
    if done.code == MLSFRAME_OK {
        assert!(done.output.len() <= frame.len());
    }
    if fresh && done.clean && done.out_cap >= payload.len() {
        assert_eq!(done.code, MLSFRAME_OK, "a fresh frame did not open");
        assert_eq!(done.output, payload);
        if let Some(e) = done.extra {
            let kid = u64::from_ne_bytes(e[..8].try_into().expect("8 bytes"));
            assert_eq!(kid, suite as u64 + 1);
        }
    }
}

/// Seals with clean arguments (the reference the fuzzed calls are compared with).
fn seal_clean(ctx: *const mlsframe_sframe_context, payload: &[u8], meta: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; mlsframe_sframe_max_ciphertext_size(payload.len())];
    let mut n = 0;
    // SAFETY: valid, disjoint buffers for their lengths; `n` writable.
    let code = unsafe {
        mlsframe_sframe_context_encrypt(
            ctx,
            payload.as_ptr(),
            payload.len(),
            meta.as_ptr(),
            meta.len(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut n,
        )
    };
    assert_eq!(code, MLSFRAME_OK, "sealing with clean arguments");
    buf.truncate(n);
    buf
}

/// Opens with clean arguments; `None` on any failure.
fn open_clean(ctx: *const mlsframe_sframe_context, frame: &[u8], meta: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; frame.len()];
    let mut n = 0;
    // SAFETY: valid, disjoint buffers for their lengths; `n` writable; kid_out NULL.
    let code = unsafe {
        mlsframe_sframe_context_decrypt(
            ctx,
            frame.as_ptr(),
            frame.len(),
            meta.as_ptr(),
            meta.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut n,
            ptr::null_mut(),
        )
    };
    (code == MLSFRAME_OK).then(|| out[..n].to_vec())
}

/// Seals through Alice's encryptor or an app-keyed context with placed buffers; a legal
/// call with room succeeds, and an app-keyed seal opens again to the plaintext.
fn encrypt(w: &World, r: &mut Reader<'_>) {
    let which = r.byte();
    let payload = r.data();
    let meta = r.short().to_vec();
    let (suite, mls) = (usize::from(which >> 1) % 5, which & 1 == 0);
    // SAFETY: live handle; `max_ciphertext_size` reads nothing through it.
    let needed =
        unsafe { encryptor::mlsframe_encryptor_max_ciphertext_size(w.enc, payload.len()) };
    let done = place(r, payload, &meta, 0, |a| {
        // SAFETY: `place` made every pointer NULL or valid for its length.
        unsafe {
            if mls {
                mlsframe_encryptor_encrypt(
                    handle(a, w.enc),
                    a.frame,
                    a.frame_len,
                    a.meta,
                    a.meta_len,
                    a.out,
                    a.out_cap,
                    a.written,
                )
            } else {
                mlsframe_sframe_context_encrypt(
                    handle(a, w.tx[suite]),
                    a.frame,
                    a.frame_len,
                    a.meta,
                    a.meta_len,
                    a.out,
                    a.out_cap,
                    a.written,
                )
            }
        }
    });
    if done.clean && done.out_cap >= needed {
        // The size bound holds for every suite: with that much room a seal succeeds.
        assert_eq!(done.code, MLSFRAME_OK, "a legal seal with room failed");
    }
    if done.code == MLSFRAME_OK {
        assert!(done.output.len() <= needed);
        if !mls {
            // What was sealed is what the callee saw (the layout may have changed it).
            let opened = open_clean(w.rx, &done.output, &done.meta_seen);
            assert_eq!(opened, Some(done.frame_seen), "our own seal did not open");
        }
    }
}

/// Bob processes raw bytes or a mutated real message, placed by the fuzzer.
fn process(w: &World, r: &mut Reader<'_>) {
    let source = r.byte();
    let mut message = if source & 1 == 0 {
        r.data().to_vec()
    } else {
        let k = usize::from(source >> 1) % w.messages.len();
        let mut m = w.messages[k].clone();
        let original = m.clone();
        mutate(&mut m, r, usize::from(source >> 4) % 4 + 1);
        if k == 0 && m == original {
            // Alice discarded this commit: Bob must never merge it (see `World`).
            m.pop();
        }
        m
    };
    message.truncate(MAX_DATA);
    let (m1, off) = (r.byte(), r.u16());
    let mut arena = vec![0u64; ARENA / 8];
    let base = arena.as_mut_ptr().cast::<u8>();
    let msg_off = off % (ARENA - message.len() + 1);
    // SAFETY: in bounds; nothing else refers to the arena now.
    unsafe { ptr::copy_nonoverlapping(message.as_ptr(), base.add(msg_off), message.len()) };
    let (msg, msg_len) = match m1 & 3 {
        1 => (ptr::null(), message.len()),
        _ => (base.wrapping_add(msg_off).cast_const(), message.len()),
    };
    let mut local = MaybeUninit::<mlsframe_outcome>::uninit();
    let size = size_of::<mlsframe_outcome>();
    let out: *mut mlsframe_outcome = match (m1 >> 2) & 3 {
        1 => ptr::null_mut(),
        2 => base
            .wrapping_add((r.u16() % ((ARENA - size) / 8 + 1)) * 8)
            .cast(),
        _ => local.as_mut_ptr(),
    };
    let null_argument = (msg.is_null() && msg_len != 0) || out.is_null();
    let invalid = any_overlap(&[Range::new(msg, msg_len)], &[Range::new(out, size)]);
    // SAFETY: `msg` is NULL or in bounds for `msg_len`; `out` NULL, a local, or an aligned
    // in-bounds arena slot.
    let code = unsafe { mlsframe_session_process(w.bob, msg, msg_len, out) };
    assert!(
        code != MLSFRAME_PANIC && code != MLSFRAME_INTERNAL,
        "internal failure {code:?}"
    );
    if null_argument {
        assert_eq!(code, MLSFRAME_NULL_ARGUMENT);
    } else if invalid {
        assert_eq!(code, MLSFRAME_INVALID_ARGUMENT);
    } else {
        assert!(code != MLSFRAME_NULL_ARGUMENT && code != MLSFRAME_INVALID_ARGUMENT);
    }
    drop(arena);
}

fuzz_target!(|data: &[u8]| {
    WORLD.with(|w| {
        let mut r = Reader(data);
        match r.byte() % 4 {
            0 => decryptor_decrypt(w, &mut r),
            1 => sframe_decrypt(w, &mut r),
            2 => process(w, &mut r),
            _ => encrypt(w, &mut r),
        }
        // Frames Bob's decryptor held for a future epoch: drain them (bounded, no leak).
        let mut out = [0u8; 64];
        let (mut n, mut released) = (0usize, false);
        // SAFETY: live handle; writable locals; sender NULL.
        let code = unsafe {
            decryptor::mlsframe_decryptor_take_released(
                w.dec,
                out.as_mut_ptr(),
                out.len(),
                &mut n,
                ptr::null_mut(),
                &mut released,
            )
        };
        assert!(code != MLSFRAME_PANIC && code != MLSFRAME_INTERNAL);
    });
});
