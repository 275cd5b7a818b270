#!/usr/bin/env bash
# Cross-builds libmlsframe_jni.so for Android (arm64-v8a, armeabi-v7a, x86_64, x86) into
# bindings/java/android/jniLibs/<abi>/, 16 KB page aligned, with cargo-ndk. Needs the
# Android NDK (ANDROID_NDK_HOME or ANDROID_NDK_ROOT) and cargo-ndk; without the NDK it
# says so and exits 0 (nothing to build here). See README.md, "Android".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(cd ../.. && pwd)"

ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [ -z "${ndk}" ] || [ ! -d "${ndk}" ]; then
    echo "SKIPPED: no Android NDK (set ANDROID_NDK_HOME); nothing cross-built"
    exit 0
fi
if ! cargo ndk --version >/dev/null 2>&1; then
    echo "cargo-ndk missing: installing"
    cargo install cargo-ndk --locked
fi
targets=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android)
rustup target add "${targets[@]}"

# 16 KB pages (required for apps targeting Android 15+ devices with 16 KB pages): every
# LOAD segment aligned to 16384. NDK r28+ does this by default; older NDKs need the flag.
for t in "${targets[@]}"; do
    var="CARGO_TARGET_$(echo "${t}" | tr 'a-z-' 'A-Z_')_RUSTFLAGS"
    export "${var}=-C link-arg=-Wl,-z,max-page-size=16384"
done

out="${PWD}/android/jniLibs"
(cd "${root}" && cargo ndk --platform 24 \
    -t arm64-v8a -t armeabi-v7a -t x86_64 -t x86 \
    -o "${out}" build -p mlsframe-jni --release)

# Check that every LOAD segment is aligned to 16 KB (or 32 or 64 KB).
readelf="$(find "${ndk}/toolchains/llvm/prebuilt" -name llvm-readelf | head -n 1)"
for so in "${out}"/*/libmlsframe_jni.so; do
    if "${readelf}" -lW "${so}" | awk '$1 == "LOAD" { print $NF }' | grep -qvE '^0x(4000|8000|10000)$'; then
        echo "ERROR: ${so} has a LOAD segment not aligned to 16 KB" >&2
        exit 1
    fi
    echo "${so}: 16 KB aligned"
done
