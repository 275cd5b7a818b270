#!/usr/bin/env bash
# Builds the web package: the mlsframe-web crate for wasm32-unknown-unknown (pure Rust,
# no C ABI), then wasm-bindgen's ES module glue into pkg/; prints the .wasm sizes. Needs
# the wasm32-unknown-unknown target and wasm-bindgen-cli at the version Cargo.lock pins
# (.ci/run installs both).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
cd "${root}"

want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
# `|| true`: with pipefail a missing wasm-bindgen (exit 127) would end the script here,
# silently, before the message below.
have="$( (wasm-bindgen --version 2>/dev/null || true) | awk '{print $2}')"
if [ "${have}" != "${want}" ]; then
    echo "wasm-bindgen ${want} is needed (found: ${have:-none}):" >&2
    echo "  cargo install wasm-bindgen-cli --version ${want}" >&2
    exit 1
fi

cargo build --profile web --target wasm32-unknown-unknown -p mlsframe-web
raw="${root}/target/wasm32-unknown-unknown/web/mlsframe_web.wasm"
rm -rf "${here}/pkg"
wasm-bindgen --target web --remove-name-section --remove-producers-section \
    --out-dir "${here}/pkg" "${raw}"
out="${here}/pkg/mlsframe_web_bg.wasm"
echo "wasm (rustc, profile web): $(stat -c %s "${raw}") bytes"
echo "wasm (after wasm-bindgen): $(stat -c %s "${out}") bytes"
# No wasm-opt pass: Debian's binaryen (108) cannot parse the reference-types code Rust
# and wasm-bindgen emit now (table.fill), and a current binaryen (132, from npm) took
# 12% off the raw size and nothing off the gzip size (bindings/web/README.md).
echo "gzip -9:                   $(gzip -9 -c "${out}" | wc -c) bytes"
