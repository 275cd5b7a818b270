#!/usr/bin/env bash
# Checks the C install layout: installs into a temporary prefix (scripts/install.sh), then
# builds examples/c/call.c out of tree with pkg-config against the installed files only,
# linked dynamically and statically, and runs both. Needs cc and pkg-config.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for tool in cc pkg-config; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found (Debian: apt-get install -y build-essential pkg-config)" >&2
        exit 1
    fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/mlsframe-install-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

"$root/scripts/install.sh" "$prefix"

for f in include/mlsframe.h lib/libmlsframe.so lib/libmlsframe.a lib/pkgconfig/mlsframe.pc; do
    test -f "$prefix/$f" || { echo "error: $prefix/$f not installed" >&2; exit 1; }
done

# Out of tree: only the installed files and a copy of the example.
mkdir -p "$work/app"
cp "$root/examples/c/call.c" "$work/app/call.c"
cd "$work/app"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"

expected="$(awk '/^\[/ { p = ($0 == "[package]") } p && /^version/ { gsub(/.*= *"|".*/, ""); print; exit }' "$root/Cargo.toml")"
actual="$(pkg-config --modversion mlsframe)"
if [ "$actual" != "$expected" ]; then
    echo "error: pkg-config reports version $actual, Cargo.toml has $expected" >&2
    exit 1
fi
echo "pkg-config: mlsframe $actual"
echo "  cflags: $(pkg-config --cflags mlsframe)"
echo "  libs:   $(pkg-config --libs mlsframe)"
echo "  static: $(pkg-config --static --libs mlsframe)"

# Dynamic: libmlsframe.so from the prefix at run time.
# shellcheck disable=SC2046 # pkg-config output is a list of flags
cc -std=c11 -Wall -Wextra -Werror $(pkg-config --cflags mlsframe) call.c \
    $(pkg-config --libs mlsframe) -o call-shared
if ! readelf -d call-shared | grep -q 'NEEDED.*libmlsframe'; then
    echo "error: call-shared does not link libmlsframe.so dynamically" >&2
    exit 1
fi
echo "== call (shared)"
LD_LIBRARY_PATH="$prefix/lib" ./call-shared >call-shared.log
tail -n 1 call-shared.log

# Static: libmlsframe.a plus Libs.private, in a fully static executable (with -static the
# linker takes libmlsframe.a although libmlsframe.so sits next to it).
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -static $(pkg-config --cflags mlsframe) call.c \
    $(pkg-config --static --libs mlsframe) -o call-static
if readelf -d call-static 2>/dev/null | grep -q 'NEEDED'; then
    echo "error: call-static has dynamic dependencies" >&2
    exit 1
fi
echo "== call (static)"
./call-static >call-static.log
tail -n 1 call-static.log

echo "C install check: OK"
