//! The checked-in C header is exactly what cbindgen generates from `src/ffi` with the
//! committed `cbindgen.toml`, plus version macros that match `Cargo.toml`. Any drift fails.
//! Regenerate with `MLSFRAME_BLESS=1 cargo test --test c_header`.

use std::path::Path;

fn generate() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml parses");
    config.after_includes = Some(format!(
        "\n#define MLSFRAME_VERSION \"{}\"\n#define MLSFRAME_VERSION_MAJOR {}\n#define MLSFRAME_VERSION_MINOR {}\n#define MLSFRAME_VERSION_PATCH {}\n",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
    ));
    let mut out = Vec::new();
    cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

#[test]
fn header_matches_the_ffi_module() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/mlsframe.h");
    let generated = generate();
    if std::env::var_os("MLSFRAME_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("header written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/mlsframe.h is stale: run `MLSFRAME_BLESS=1 cargo test --test c_header`"
    );
    assert!(generated.contains(&format!(
        "#define MLSFRAME_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION")
    )));
}

/// The header compiles as strict C11 and as C++17 (a text comparison alone would not catch
/// a name declared twice).
#[test]
fn header_compiles_as_c_and_cpp() {
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    for (compiler, args) in [
        ("cc", &["-std=c11", "-pedantic", "-x", "c"][..]),
        ("c++", &["-std=c++17", "-x", "c++"][..]),
    ] {
        let mut child = std::process::Command::new(compiler)
            .args(args)
            .args(["-Wall", "-Wextra", "-Werror", "-fsyntax-only", "-I"])
            .arg(&include)
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{compiler} must be installed (.ci/run does): {e}"));
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"#include \"mlsframe.h\"\nint main(void) { return MLSFRAME_OK; }\n")
            .expect("source written");
        assert!(
            child.wait().expect("compiler ran").success(),
            "{compiler} rejects the header"
        );
    }
}
