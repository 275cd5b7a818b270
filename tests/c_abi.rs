//! The C ABI as a C program sees it: builds the library (`cargo build --lib`, debug), then
//! compiles `examples/c/call.c`, `tests/c/bad_input.c` and `tests/c/interop.c` against
//! `include/mlsframe.h` and the static library, and runs them twice: under
//! AddressSanitizer, LeakSanitizer and UBSan, and (built without sanitizers) under
//! valgrind's leak checker. Every run must exit 0. Needs `cc` and `valgrind` on PATH (CI
//! installs valgrind).
//!
//! Then, from Rust, what no C program can reach: a member of another MLS stack (plain
//! `openmls` with a basic credential that is not an mlsframe identity) in a group with
//! mlsframe members driven through the C exports, a welcome without its ratchet tree,
//! and the candidate the admission callback sees for such a member.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory cargo uses for this test run.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                manifest_dir().join(dir)
            }
        }
        None => manifest_dir().join("target"),
    }
}

fn show(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn run(cmd: &mut Command) -> Output {
    let started = Instant::now();
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    eprintln!("[{:.1}s] {cmd:?}", started.elapsed().as_secs_f64());
    output
}

/// `target/debug/libmlsframe.a`, built once per test binary.
fn static_lib() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let output = run(Command::new(env!("CARGO"))
            .args(["build", "--lib"])
            .current_dir(manifest_dir())
            .env("CARGO_TARGET_DIR", target_dir()));
        assert!(
            output.status.success(),
            "cargo build --lib failed\n{}",
            show(&output)
        );
        let lib = target_dir().join("debug/libmlsframe.a");
        assert!(lib.is_file(), "{} missing after cargo build", lib.display());
        let so = target_dir().join("debug/libmlsframe.so");
        assert!(so.is_file(), "{} missing after cargo build", so.display());
        lib
    })
}

/// Compiles `source` (relative to the manifest) into `<target>/c_abi/<name>`.
fn compile(source: &str, name: &str, sanitize: bool) -> PathBuf {
    let lib = static_lib();
    let out_dir = target_dir().join("c_abi");
    std::fs::create_dir_all(&out_dir).expect("create the C build directory");
    let exe = out_dir.join(name);
    let mut cmd = Command::new("cc");
    cmd.args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g"]);
    if sanitize {
        cmd.args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]);
    }
    cmd.arg("-I")
        .arg(manifest_dir().join("include"))
        .arg(manifest_dir().join(source))
        .arg(lib)
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe);
    let output = run(&mut cmd);
    assert!(
        output.status.success(),
        "compiling {source} failed\n{}",
        show(&output)
    );
    exe
}

fn run_sanitized(exe: &Path) -> Output {
    let output = run(Command::new(exe)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1"));
    assert!(
        output.status.success(),
        "{} failed\n{}",
        exe.display(),
        show(&output)
    );
    output
}

fn valgrind() -> &'static str {
    let found = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "valgrind is not on PATH: install it (Debian: apt-get install -y valgrind); \
         CI installs it before `cargo test`"
    );
    "valgrind"
}

fn run_valgrind(exe: &Path) -> Output {
    let output = run(Command::new(valgrind())
        .args([
            "--leak-check=full",
            "--error-exitcode=1",
            "--errors-for-leak-kinds=definite,indirect",
        ])
        .arg(exe));
    assert!(
        output.status.success(),
        "{} failed under valgrind\n{}",
        exe.display(),
        show(&output)
    );
    output
}

/// The bad-input program's summary line: `N passed, 0 failed`, N > 0.
fn assert_all_passed(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    let passed = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse::<u32>().ok());
    assert!(
        passed.is_some_and(|n| n > 0),
        "unexpected summary line {last:?}\n{stdout}"
    );
}

#[test]
fn call_example_under_sanitizers() {
    let exe = compile("examples/c/call.c", "call-asan", true);
    let output = run_sanitized(&exe);
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("call: OK\n"));
}

#[test]
fn bad_input_under_sanitizers() {
    let exe = compile("tests/c/bad_input.c", "bad_input-asan", true);
    assert_all_passed(&run_sanitized(&exe));
}

#[test]
fn call_example_under_valgrind() {
    valgrind();
    let exe = compile("examples/c/call.c", "call", false);
    let output = run_valgrind(&exe);
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("call: OK\n"));
}

#[test]
fn bad_input_under_valgrind() {
    valgrind();
    let exe = compile("tests/c/bad_input.c", "bad_input", false);
    assert_all_passed(&run_valgrind(&exe));
}

#[test]
fn interop_under_sanitizers() {
    let exe = compile("tests/c/interop.c", "interop-asan", true);
    let output = run_sanitized(&exe);
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("interop: OK\n"));
}

#[test]
fn interop_under_valgrind() {
    valgrind();
    let exe = compile("tests/c/interop.c", "interop", false);
    let output = run_valgrind(&exe);
    assert!(String::from_utf8_lossy(&output.stdout).ends_with("interop: OK\n"));
}

/// Every function the header declares is driven by the bad-input program, so a new export
/// cannot slip in untested.
#[test]
fn bad_input_covers_every_export() {
    let header = std::fs::read_to_string(manifest_dir().join("include/mlsframe.h"))
        .expect("read include/mlsframe.h");
    let program = std::fs::read_to_string(manifest_dir().join("tests/c/bad_input.c"))
        .expect("read tests/c/bad_input.c");
    let mut exports = Vec::new();
    for line in header.lines() {
        let line = line.trim_start();
        if line.starts_with("//") || line.starts_with('#') {
            continue;
        }
        if line.starts_with("typedef") {
            continue;
        }
        for (start, _) in line.match_indices("mlsframe_") {
            let name: String = line[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if line[start + name.len()..].starts_with('(') && !exports.contains(&name) {
                exports.push(name);
            }
        }
    }
    assert!(exports.len() >= 40, "found only {} exports", exports.len());
    let missing: Vec<_> = exports
        .iter()
        .filter(|name| !program.contains(&format!("{name}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "tests/c/bad_input.c never calls {missing:?}"
    );
}

/// A member of another MLS stack, as the C exports see it: `openmls` itself, with a basic
/// credential whose identity is a plain name (not an mlsframe identity).
mod foreign {
    use std::ffi::c_void;
    use std::ptr;
    use std::sync::Mutex;

    use mlsframe::ffi::admission::mlsframe_candidate;
    use mlsframe::ffi::buffer::{mlsframe_buffer, mlsframe_buffer_free};
    use mlsframe::ffi::decryptor::{
        mlsframe_decryptor, mlsframe_decryptor_free, mlsframe_decryptor_sender_identity,
        mlsframe_sender,
    };
    use mlsframe::ffi::mlsframe_result::{self, *};
    use mlsframe::ffi::params::{mlsframe_group_options, mlsframe_group_params};
    use mlsframe::ffi::session::*;
    use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
    use openmls::prelude::*;
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;

    const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
    const BOT: &[u8] = b"recorder-bot";

    /// What an admission callback saw: one entry per candidate.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Seen {
        is_mlsframe_identity: bool,
        user_id: Option<Vec<u8>>,
        device_id: Option<Vec<u8>>,
        credential_type: u16,
        credential: Vec<u8>,
        signature_key: Vec<u8>,
        fingerprint: String,
    }

    /// Copies `len` bytes at `ptr`, or `None` for NULL (which must come with length 0).
    ///
    /// # Safety
    /// `ptr` is NULL or readable for `len` bytes.
    unsafe fn bytes(ptr: *const u8, len: usize) -> Option<Vec<u8>> {
        if ptr.is_null() {
            assert_eq!(len, 0, "NULL comes with length 0");
            return None;
        }
        // SAFETY: non-NULL and readable for `len` bytes (the caller's guarantee).
        Some(unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec())
    }

    /// The admission callback: records the candidate in the `Mutex<Vec<Seen>>` at
    /// `user_data` and admits everyone.
    unsafe extern "C" fn record(user_data: *mut c_void, c: *const mlsframe_candidate) -> bool {
        // SAFETY: the library passes a valid candidate for the call's duration, and the
        // tests pass a `Mutex<Vec<Seen>>` that outlives the session as user data.
        let (c, log) = unsafe { (&*c, &*user_data.cast::<Mutex<Vec<Seen>>>()) };
        // SAFETY: each pointer is NULL or readable for its length during the call.
        let seen = unsafe {
            Seen {
                is_mlsframe_identity: c.is_mlsframe_identity,
                user_id: bytes(c.user_id, c.user_id_len),
                device_id: bytes(c.device_id, c.device_id_len),
                credential_type: c.credential_type,
                credential: bytes(c.credential, c.credential_len).unwrap_or_default(),
                signature_key: bytes(c.signature_key, c.signature_key_len).unwrap_or_default(),
                fingerprint: String::from_utf8(
                    bytes(c.fingerprint, c.fingerprint_len).unwrap_or_default(),
                )
                .expect("UTF-8 fingerprint"),
            }
        };
        log.lock().expect("lock").push(seen);
        true
    }

    fn must(what: &str, code: mlsframe_result) {
        assert_eq!(code, MLSFRAME_OK, "{what}");
    }

    fn empty() -> mlsframe_buffer {
        mlsframe_buffer {
            data: ptr::null_mut(),
            len: 0,
        }
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

    /// A session (C ABI) whose admission callback records into `log`.
    fn session(user: &str, log: &Mutex<Vec<Seen>>) -> *mut mlsframe_session {
        let cfg = mlsframe_session_config {
            retention_ms: 0,
            removal_retention_ms: 0,
            send_switch_delay_ms: 0,
            replay_window: 0,
            admission: Some(record),
            admission_user_data: ptr::from_ref(log).cast_mut().cast(),
        };
        let mut s = ptr::null_mut();
        // SAFETY: valid pointers for their lengths; `cfg` readable; `s` writable.
        must("session_new", unsafe {
            mlsframe_session_new(
                user.as_ptr(),
                user.len(),
                b"dev".as_ptr(),
                3,
                ptr::null(),
                0,
                &cfg,
                &mut s,
            )
        });
        s
    }

    fn key_package(s: *const mlsframe_session) -> Vec<u8> {
        let mut kp = empty();
        // SAFETY: live session; `kp` writable.
        must("key_package", unsafe {
            mlsframe_session_key_package(s, &mut kp)
        });
        take(&mut kp)
    }

    fn export(s: *const mlsframe_session, label: &str, context: &[u8], len: usize) -> Vec<u8> {
        let mut out = empty();
        // SAFETY: live session; label and context valid for their lengths; `out` writable.
        must("export_secret", unsafe {
            mlsframe_session_export_secret(
                s,
                label.as_ptr(),
                label.len(),
                context.as_ptr(),
                context.len(),
                len,
                &mut out,
            )
        });
        take(&mut out)
    }

    fn roster(s: *const mlsframe_session) -> String {
        let mut out = empty();
        // SAFETY: live session; `out` writable.
        must("roster", unsafe { mlsframe_session_roster(s, &mut out) });
        String::from_utf8(take(&mut out)).expect("UTF-8 roster")
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The other stack's member: an `openmls` provider, signer and credential.
    struct Bot {
        provider: OpenMlsRustCrypto,
        signer: SignatureKeyPair,
        credential: CredentialWithKey,
    }

    impl Bot {
        fn new() -> Bot {
            let provider = OpenMlsRustCrypto::default();
            let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).expect("key pair");
            signer.store(provider.storage()).expect("store");
            let credential = CredentialWithKey {
                credential: BasicCredential::new(BOT.to_vec()).into(),
                signature_key: signer.public().into(),
            };
            Bot {
                provider,
                signer,
                credential,
            }
        }

        /// A key package with openmls's default capabilities: no extension 0xff00.
        fn key_package(&self) -> Vec<u8> {
            let bundle = KeyPackage::builder()
                .build(SUITE, &self.provider, &self.signer, self.credential.clone())
                .expect("key package");
            MlsMessageOut::from(bundle.key_package().clone())
                .tls_serialize_detached()
                .expect("serialize")
        }
    }

    fn message_in(bytes: &[u8]) -> MlsMessageBodyIn {
        MlsMessageIn::tls_deserialize_exact(bytes)
            .expect("an MLS message")
            .extract()
    }

    /// Issue 9 from C: a group created by another MLS stack, without our parameters
    /// extension and with welcomes that do not carry the ratchet tree. Bob (C ABI) joins
    /// with the tree out of band and the SFrame parameters from the app, sees the bot in
    /// his admission callback as a foreign credential, and derives the same exporter
    /// values, authenticator and SFrame base key; he follows the bot's commits.
    #[test]
    fn a_foreign_group_without_tree_or_extension() {
        let bot = Bot::new();
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(SUITE)
            .use_ratchet_tree_extension(false)
            .build();
        let mut group = MlsGroup::new(&bot.provider, &bot.signer, &config, bot.credential.clone())
            .expect("group");

        let log = Mutex::new(Vec::new());
        let bob = session("bob", &log);
        let MlsMessageBodyIn::KeyPackage(kp) = message_in(&key_package(bob)) else {
            panic!("a key package");
        };
        let kp = kp
            .validate(bot.provider.crypto(), ProtocolVersion::Mls10)
            .expect("bob's key package validates at another stack");
        let (_, welcome, _) = group
            .add_members(&bot.provider, &bot.signer, &[kp])
            .expect("add bob");
        group.merge_pending_commit(&bot.provider).expect("merge");
        let welcome = welcome.tls_serialize_detached().expect("welcome");
        let tree = group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .expect("tree");

        // Another group's tree, well formed but not this group's.
        let other_log = Mutex::new(Vec::new());
        let other = session("other", &other_log);
        let mut wrong = empty();
        // SAFETY: live sessions; every pointer valid for its length; outs writable.
        unsafe {
            must(
                "create",
                mlsframe_session_create_group_with(other, ptr::null()),
            );
            must("tree", mlsframe_session_ratchet_tree(other, &mut wrong));
        }
        let wrong = take(&mut wrong);

        let params = mlsframe_group_params {
            sframe_suite: 5,
            epoch_bits: 6,
            handshake: 0,
        };
        let mut epoch = 77u64;
        // SAFETY: as above.
        unsafe {
            assert_eq!(
                mlsframe_session_join(bob, welcome.as_ptr(), welcome.len(), &mut epoch),
                MLSFRAME_MLS_MISSING_RATCHET_TREE
            );
            assert_eq!(
                mlsframe_session_join_with(
                    bob,
                    welcome.as_ptr(),
                    welcome.len(),
                    ptr::null(),
                    0,
                    &params,
                    &mut epoch
                ),
                MLSFRAME_MLS_MISSING_RATCHET_TREE
            );
            assert_eq!(
                mlsframe_session_join_with(
                    bob,
                    welcome.as_ptr(),
                    welcome.len(),
                    wrong.as_ptr(),
                    wrong.len(),
                    &params,
                    &mut epoch
                ),
                MLSFRAME_MLS_INVALID_RATCHET_TREE
            );
            assert_eq!(
                mlsframe_session_join_with(
                    bob,
                    welcome.as_ptr(),
                    welcome.len(),
                    b"\x01\x02garbage".as_ptr(),
                    9,
                    &params,
                    &mut epoch
                ),
                MLSFRAME_MLS_INVALID_RATCHET_TREE
            );
            assert_eq!(epoch, 0, "refused joins reset the epoch");
            // The refusals left the key package usable: the right tree joins.
            must(
                "join_with the tree out of band",
                mlsframe_session_join_with(
                    bob,
                    welcome.as_ptr(),
                    welcome.len(),
                    tree.as_ptr(),
                    tree.len(),
                    &params,
                    &mut epoch,
                ),
            );
        }
        assert_eq!(epoch, 1);

        // The admission callback saw the bot for what it is.
        let seen = log.lock().expect("lock").clone();
        let bot_key = bot.signer.public().to_vec();
        assert!(
            !seen.is_empty(),
            "bob's join asked about the existing member"
        );
        for s in &seen {
            assert_eq!(
                s,
                &Seen {
                    is_mlsframe_identity: false,
                    user_id: None,
                    device_id: None,
                    credential_type: 1,
                    credential: BOT.to_vec(),
                    signature_key: bot_key.clone(),
                    fingerprint: mlsframe::mls::identity::fingerprint(&bot_key),
                }
            );
        }

        let mut got = mlsframe_group_params::default();
        let (mut source, mut suite) = (9u32, 0u16);
        let mut bob_tree = empty();
        // SAFETY: live session; outs writable.
        unsafe {
            must(
                "params",
                mlsframe_session_params(bob, &mut got, &mut source),
            );
            must("ciphersuite", mlsframe_session_ciphersuite(bob, &mut suite));
            must("tree", mlsframe_session_ratchet_tree(bob, &mut bob_tree));
        }
        assert_eq!((got, source, suite), (params, 1, 1));
        assert_eq!(take(&mut bob_tree), tree, "the tree round-trips");

        // Same keys on both stacks.
        let crypto = bot.provider.crypto();
        let bot_export = |label: &str, ctx: &[u8], n: usize| {
            group.export_secret(crypto, label, ctx, n).expect("export")
        };
        assert_eq!(
            export(bob, "app feature", b"ctx", 42),
            bot_export("app feature", b"ctx", 42)
        );
        assert_eq!(
            export(bob, "SFrame 1.0 Base Key", b"", 32),
            bot_export("SFrame 1.0 Base Key", b"", 32),
            "suite 5's 32-byte base key is the same at both stacks"
        );
        let mut auth = empty();
        // SAFETY: live session; `auth` writable.
        must("authenticator", unsafe {
            mlsframe_session_epoch_authenticator(bob, &mut auth)
        });
        assert_eq!(take(&mut auth), group.epoch_authenticator().as_slice());

        // The roster, the lookups and a frame's sender, for the foreign member at leaf 0.
        let text = roster(bob);
        let fp = mlsframe::mls::identity::fingerprint(&bot_key);
        assert!(
            text.starts_with(&format!("0\t\t\t{fp}\t1\t{}\n", hex(BOT))),
            "{text}"
        );
        assert!(text.contains(&format!("1\t{}\t{}\t", hex(b"bob"), hex(b"dev"))));
        let (mut uid, mut did, mut content) = (empty(), empty(), empty());
        let mut ty = 0u16;
        // SAFETY: live session; outs writable.
        unsafe {
            assert_eq!(
                mlsframe_session_member_identity(bob, 0, &mut uid, &mut did),
                MLSFRAME_MLS_FOREIGN_CREDENTIAL
            );
            assert!(uid.data.is_null() && did.data.is_null());
            must(
                "member_credential",
                mlsframe_session_member_credential(bob, 0, &mut ty, &mut content),
            );
        }
        assert_eq!((ty, take(&mut content)), (1, BOT.to_vec()));
        let mut dec: *mut mlsframe_decryptor = ptr::null_mut();
        // SAFETY: live session and decryptor; outs writable.
        unsafe {
            must("decryptor", mlsframe_session_decryptor_new(bob, &mut dec));
            let sender = |leaf| mlsframe_sender {
                epoch: 1,
                leaf,
                context: 0,
            };
            assert_eq!(
                mlsframe_decryptor_sender_identity(dec, &sender(0), &mut uid, &mut did),
                MLSFRAME_MLS_FOREIGN_CREDENTIAL
            );
            assert!(uid.data.is_null() && did.data.is_null());
            assert_eq!(
                mlsframe_decryptor_sender_identity(dec, &sender(7), &mut uid, &mut did),
                MLSFRAME_MLS_UNKNOWN_MEMBER
            );
            must(
                "own leaf",
                mlsframe_decryptor_sender_identity(dec, &sender(1), &mut uid, &mut did),
            );
        }
        assert_eq!(
            (take(&mut uid), take(&mut did)),
            (b"bob".to_vec(), b"dev".to_vec())
        );

        // The bot commits (a self-update): bob follows, and the keys still agree.
        let (commit, _, _) = group
            .self_update(&bot.provider, &bot.signer, LeafNodeParameters::default())
            .expect("update")
            .into_messages();
        group.merge_pending_commit(&bot.provider).expect("merge");
        let commit = commit.tls_serialize_detached().expect("commit");
        let mut outcome = mlsframe_outcome {
            kind: mlsframe_outcome_kind::MLSFRAME_OUTCOME_IGNORED,
            epoch: 0,
            added: 0,
            removed: 0,
        };
        // SAFETY: live session; message valid; `outcome` writable.
        must("process the bot's commit", unsafe {
            mlsframe_session_process(bob, commit.as_ptr(), commit.len(), &mut outcome)
        });
        assert_eq!(
            (outcome.kind, outcome.epoch),
            (mlsframe_outcome_kind::MLSFRAME_OUTCOME_EPOCH_CHANGED, 2)
        );
        let crypto = bot.provider.crypto();
        assert_eq!(
            export(bob, "app feature", b"ctx", 42),
            group
                .export_secret(crypto, "app feature", b"ctx", 42)
                .expect("export")
        );
        // SAFETY: handles from this test, freed once.
        unsafe {
            mlsframe_decryptor_free(dec);
            mlsframe_session_free(bob);
            mlsframe_session_free(other);
        }
    }

    /// A foreign key package added through the C ABI: refused by a group that carries (and
    /// requires) our extension, admitted by one created with `MLSFRAME_PARAMS_APP` after
    /// the admission callback saw it; the bot then joins on its own stack and derives the
    /// same SFrame base key.
    #[test]
    fn a_foreign_member_added_from_c() {
        let bot = Bot::new();
        let kp = bot.key_package();
        let kps = [kp.as_ptr()];
        let lens = [kp.len()];
        let (mut commit, mut welcome) = (empty(), empty());

        let log = Mutex::new(Vec::new());
        let strict = session("strict", &log);
        // SAFETY: live session; arrays of one valid entry; outs writable.
        unsafe {
            must(
                "create",
                mlsframe_session_create_group_with(strict, ptr::null()),
            );
            assert_eq!(
                mlsframe_session_add_members(
                    strict,
                    kps.as_ptr(),
                    lens.as_ptr(),
                    1,
                    &mut commit,
                    &mut welcome
                ),
                MLSFRAME_MLS_MISSING_CAPABILITY
            );
            mlsframe_session_free(strict);
        }
        assert!(
            log.lock().expect("lock").is_empty(),
            "refused before the policy"
        );

        let alice = session("alice", &log);
        let options = mlsframe_group_options {
            params: mlsframe_group_params::default(),
            mls_ciphersuite: 0,
            params_source: 1,
            external_senders: ptr::null(),
            external_senders_count: 0,
        };
        // SAFETY: as above.
        unsafe {
            must(
                "create_group_with",
                mlsframe_session_create_group_with(alice, &options),
            );
            must(
                "add the bot",
                mlsframe_session_add_members(
                    alice,
                    kps.as_ptr(),
                    lens.as_ptr(),
                    1,
                    &mut commit,
                    &mut welcome,
                ),
            );
            must("confirm", mlsframe_session_confirm_commit(alice));
        }
        let seen = log.lock().expect("lock").clone();
        assert_eq!(seen.len(), 1);
        assert!(!seen[0].is_mlsframe_identity && seen[0].user_id.is_none());
        assert_eq!(seen[0].credential, BOT);
        assert_eq!(seen[0].signature_key, bot.signer.public());
        take(&mut commit);
        let welcome = take(&mut welcome);

        // Alice's view of the bot.
        let text = roster(alice);
        assert!(
            text.lines()
                .any(|l| l.starts_with("1\t\t\t") && l.ends_with(&format!("\t1\t{}", hex(BOT)))),
            "{text}"
        );
        let mut out = empty();
        // SAFETY: live session; the user id is valid; `out` writable.
        unsafe {
            assert_eq!(
                mlsframe_session_remove_user(alice, BOT.as_ptr(), BOT.len(), &mut out),
                MLSFRAME_MLS_UNKNOWN_MEMBER,
                "a foreign credential is never taken for a user id"
            );
        }

        // The bot joins on its own stack and holds alice's SFrame base key.
        let MlsMessageBodyIn::Welcome(welcome) = message_in(&welcome) else {
            panic!("a welcome");
        };
        let group = StagedWelcome::new_from_welcome(
            &bot.provider,
            &MlsGroupJoinConfig::builder()
                .use_ratchet_tree_extension(true)
                .build(),
            welcome,
            None,
        )
        .expect("stage")
        .into_group(&bot.provider)
        .expect("join");
        assert_eq!(
            export(alice, "SFrame 1.0 Base Key", b"", 16),
            group
                .export_secret(bot.provider.crypto(), "SFrame 1.0 Base Key", b"", 16)
                .expect("export")
        );
        // SAFETY: freed once.
        unsafe { mlsframe_session_free(alice) };
    }
}
