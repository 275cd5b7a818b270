#!/usr/bin/env bash
# The real-browser test of the mlsframe web package (issue 13): three participants in one
# Chromium page, each with its own worker and Session, RTCPeerConnections on 127.0.0.1,
# checked on getStats() and on the pixels of the received video. See run-test.mjs.
#
#   bindings/web/test/run.sh                  # needs the built package (bindings/web/build.sh)
#   bindings/web/test/run.sh --selftest-stub  # harness self-test with an XOR stand-in:
#                                             # NOT the real test, never counts as it
#
# Installs what it needs, idempotently: Debian's chromium (apt, as root), and playwright-core
# from package-lock.json into test/node_modules (no browser download). Runs the browser in
# a network namespace that has only lo when the machine allows it (unshare), so every
# connection is 127.0.0.1 to 127.0.0.1. Exits non-zero if any check fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
web="$(cd "${here}/.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"

if [ "${1:-}" != "--selftest-stub" ] && [ ! -f "${web}/pkg/mlsframe_web_bg.wasm" ]; then
    echo "run.sh: no wasm package in ${web}/pkg: build it first (bash ${web}/build.sh)" >&2
    exit 2
fi

if [ ! -x "${chromium}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "run.sh: installing Debian's chromium"
        apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
    else
        echo "run.sh: ${chromium} not found; install Debian's chromium (apt-get install chromium)" >&2
        exit 2
    fi
fi

cd "${here}"
want="$(node -p 'require("./package-lock.json").packages["node_modules/playwright-core"].version')"
have="$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch { "" }')"
if [ "${have}" != "${want}" ]; then
    echo "run.sh: installing playwright-core ${want} (npm ci)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

export CHROMIUM="${chromium}"
if command -v unshare >/dev/null && command -v ip >/dev/null; then
    for flags in -n -rn; do
        if unshare "${flags}" sh -c 'ip link set lo up' 2>/dev/null; then
            echo "run.sh: running in a network namespace with only lo (unshare ${flags})"
            exec timeout 900 unshare "${flags}" sh -c \
                'ip link set lo up && MLSFRAME_TEST_NETNS=1 exec node run-test.mjs "$@"' sh "$@"
        fi
    done
fi
echo "run.sh: no network namespace available; running on the host's loopback"
exec timeout 900 node run-test.mjs "$@"
