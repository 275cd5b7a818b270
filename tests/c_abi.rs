//! The C ABI as a C program sees it: builds the library (`cargo build --lib`, debug), then
//! compiles `examples/c/call.c` and `tests/c/bad_input.c` against `include/mlsframe.h` and
//! the static library, and runs them twice: under AddressSanitizer, LeakSanitizer and
//! UBSan, and (built without sanitizers) under valgrind's leak checker. Every run must exit
//! 0. Needs `cc` and `valgrind` on PATH (CI installs valgrind).

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
