//! Links the Android builds of `libmlsframe_jni.so` with 16 KB page alignment: Android 15+
//! devices may use 16 KB pages, and Google Play requires every `LOAD` segment of an app's
//! native libraries to be aligned to 16384. NDK r28 and later align so by default; this
//! makes older NDKs do the same, whatever RUSTFLAGS the build tool (cargo-ndk) sets.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("android") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,max-page-size=16384");
    }
}
