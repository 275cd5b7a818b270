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
