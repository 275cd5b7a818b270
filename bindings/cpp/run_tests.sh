#!/usr/bin/env bash
# Builds and runs the C++ binding tests against target/debug/libmlsframe.a (built by
# `cargo build --lib` or `cargo test`): the wrapper's coverage of the C header, then
# tests/call_test.cpp (exceptions on) and tests/webrtc_adapter_test.cpp (-fno-exceptions
# -fno-rtti, as WebRTC builds), each with g++ -std=c++17 under ASan/LSan/UBSan. Linked
# statically like tests/c_abi.rs links the C programs. Needs g++ and python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
lib="$target/debug/libmlsframe.a"
if [ ! -f "$lib" ]; then
    echo "error: $lib missing: run 'cargo build --lib' first" >&2
    exit 1
fi
out="$target/cpp"
mkdir -p "$out"

python3 "$root/bindings/cpp/check_coverage.py"

cxxflags=(-std=c++17 -Wall -Wextra -Wpedantic -Werror -g
    -fsanitize=address,undefined -fno-omit-frame-pointer
    -I "$root/include" -I "$root/bindings/cpp/include" -I "$root/bindings/cpp/webrtc")
libs=("$lib" -lpthread -ldl -lm)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

build_and_run() { # name, expected last line, extra flags...
    local name="$1" want="$2"
    shift 2
    echo "== $name"
    g++ "${cxxflags[@]}" "$@" "$root/bindings/cpp/tests/$name.cpp" "${libs[@]}" -o "$out/$name"
    "$out/$name" >"$out/$name.log"
    tail -n 2 "$out/$name.log"
    if [ "$(tail -n 1 "$out/$name.log")" != "$want" ]; then
        echo "error: $name did not end with '$want'" >&2
        exit 1
    fi
}

build_and_run call_test "cpp call: OK"
build_and_run webrtc_adapter_test "cpp webrtc adapter: OK" -fno-exceptions -fno-rtti
echo "C++ bindings: OK"
