#!/usr/bin/env bash
# Installs mlsframe for C/C++ apps under PREFIX:
#   PREFIX/include/mlsframe.h
#   PREFIX/lib/libmlsframe.so, PREFIX/lib/libmlsframe.a
#   PREFIX/lib/pkgconfig/mlsframe.pc
# Usage: scripts/install.sh PREFIX   (builds with `cargo build --release --lib` first)
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
prefix="$(cd "$1" && pwd)"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi

# The package version: the first `version = "..."` of the [package] table.
version="$(awk '
    /^\[/ { in_package = ($0 == "[package]") }
    in_package && /^version[[:space:]]*=/ {
        gsub(/^version[[:space:]]*=[[:space:]]*"|"[[:space:]]*$/, ""); print; exit
    }' "$root/Cargo.toml")"
if [ -z "$version" ]; then
    echo "error: no [package] version in $root/Cargo.toml" >&2
    exit 1
fi

(cd "$root" && cargo build --release --lib)

target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in
    /*) ;;
    *) target_dir="$root/$target_dir" ;;
esac
release="$target_dir/release"
for f in libmlsframe.so libmlsframe.a; do
    if [ ! -f "$release/$f" ]; then
        echo "error: $release/$f was not built" >&2
        exit 1
    fi
done

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 0644 "$root/include/mlsframe.h" "$prefix/include/mlsframe.h"
install -m 0755 "$release/libmlsframe.so" "$prefix/lib/libmlsframe.so"
install -m 0644 "$release/libmlsframe.a" "$prefix/lib/libmlsframe.a"

cat >"$prefix/lib/pkgconfig/mlsframe.pc" <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: mlsframe
Description: End-to-end encryption for real-time calls: MLS (RFC 9420) group keys driving SFrame (RFC 9605) per-frame encryption.
Version: $version
Libs: -L\${libdir} -lmlsframe
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
chmod 0644 "$prefix/lib/pkgconfig/mlsframe.pc"

echo "installed mlsframe $version into $prefix"
