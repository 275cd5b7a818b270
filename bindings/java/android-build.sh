#!/usr/bin/env bash
# Cross-builds libmlsframe_jni.so for Android (arm64-v8a, armeabi-v7a, x86_64, x86) into
# bindings/java/android/jniLibs/<abi>/ with cargo-ndk, and checks that every LOAD segment
# of each is 16 KB aligned (jni/build.rs links Android builds with
# -Wl,-z,max-page-size=16384). Needs the Android NDK (ANDROID_NDK_HOME or
# ANDROID_NDK_ROOT) and cargo-ndk; without the NDK it says so and exits 0 (nothing to
# build here). PURE_RUST=1 builds without aws-lc-rs (RustCrypto AEADs, no C build).
# API level: ANDROID_API (default 24). See README.md, "Android".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(cd ../.. && pwd)"

ndk="${ANDROID_NDK_HOME:-${ANDROID_NDK_ROOT:-}}"
if [ -z "${ndk}" ] || [ ! -d "${ndk}" ]; then
    echo "SKIPPED: no Android NDK (set ANDROID_NDK_HOME); nothing cross-built"
    exit 0
fi
export ANDROID_NDK_HOME="${ndk}"
if ! cargo ndk --version >/dev/null 2>&1; then
    echo "cargo-ndk missing: installing"
    cargo install cargo-ndk --locked
fi
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android

features=()
[ "${PURE_RUST:-0}" = 1 ] && features=(--no-default-features)
out="${PWD}/android/jniLibs"
(cd "${root}" && cargo ndk --platform "${ANDROID_API:-24}" \
    -t arm64-v8a -t armeabi-v7a -t x86_64 -t x86 \
    -o "${out}" build -p mlsframe-jni --release "${features[@]}")

# Every LOAD segment aligned to 16 KB (or more: 32 or 64 KB).
readelf="$(find "${ndk}/toolchains/llvm/prebuilt" -name llvm-readelf | head -n 1)"
[ -n "${readelf}" ] || { echo "ERROR: no llvm-readelf in ${ndk}" >&2; exit 1; }
count=0
for so in "${out}"/*/libmlsframe_jni.so; do
    [ -f "${so}" ] || continue
    aligns="$("${readelf}" -lW "${so}" | awk '$1 == "LOAD" { print $NF }')"
    if [ -z "${aligns}" ] || grep -qvE '^0x(4000|8000|10000)$' <<<"${aligns}"; then
        echo "ERROR: ${so} has a LOAD segment not aligned to 16 KB: ${aligns//$'\n'/ }" >&2
        exit 1
    fi
    echo "${so}: every LOAD segment 16 KB aligned"
    count=$((count + 1))
done
[ "${count}" -eq 4 ] || { echo "ERROR: expected 4 ABIs, built ${count}" >&2; exit 1; }
