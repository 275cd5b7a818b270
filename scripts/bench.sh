#!/usr/bin/env bash
# The full benchmark run behind BENCHMARKS.md: the benches `layers` (frame path, every
# layer), `media` (MLS media path), `mls_ops` (MLS operations against bare openmls) and
# `memory` (heap of a 1,000-member member), `web_native` and the browser worker's frame cost
# (bindings/web/test, when the web package is built), then scripts/bench-report.py.
#
#   scripts/bench.sh            the measurement (about 10 minutes on 2 cores); run it on a
#                               quiet machine, twice, and compare the two BENCHMARKS.md
#   scripts/bench.sh --smoke    a few milliseconds per case, no 1,000-member MLS groups:
#                               checks the pipeline end to end; figures mean nothing
#
# Records the CPU, core count, `uptime` load at start and end, the commit and this command
# in target/criterion/run-info.json for the report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

smoke=false
report_args=()
if [ "${1:-}" = "--smoke" ]; then
    smoke=true
    export MLSFRAME_BENCH_SMOKE=1
    report_args+=(--smoke)
fi
target="${CARGO_TARGET_DIR:-target}"
benches=(--bench layers --bench media --bench mls_ops --bench memory)

# Build first, so compile time is not part of the run and the load is the benches' alone
# (the web test's native participant too).
cargo bench "${benches[@]}" --no-run
cargo bench --bench web_native --no-run
cargo bench --no-default-features --bench web_native --no-run
cargo build --example web_peer

rm -rf "${target}/criterion"
mkdir -p "${target}/criterion"
cpu="$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
load_start="$(uptime)"
started="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
start_s=$SECONDS
cargo bench "${benches[@]}"
# The native side of the web build's cost, on both backends, then the worker side in
# headless Chromium when the web package is built (bindings/web/build.sh).
cargo bench --bench web_native
cargo bench --no-default-features --bench web_native
if [ -f bindings/web/pkg/mlsframe_web_bg.wasm ] && [ -x /usr/bin/chromium ]; then
    MLSFRAME_WEB_COST=1 bash bindings/web/test/run.sh
    # Kept with criterion's output, so that a later report can check these figures against
    # this run's (`bench-report.py --previous`).
    cp bindings/web/test/out/result.json "${target}/criterion/web-result.json"
else
    echo "no web package or chromium: the report's web section stays empty"
fi
elapsed=$((SECONDS - start_s))
load_end="$(uptime)"

CPU="${cpu}" CORES="$(nproc)" LOAD_START="${load_start}" LOAD_END="${load_end}" \
STARTED="${started}" ELAPSED="${elapsed}" COMMIT="$(git rev-parse --short HEAD)" \
SMOKE="${smoke}" COMMAND="scripts/bench.sh $*" python3 - "${target}/criterion/run-info.json" <<'PY'
import json, os, sys
e = os.environ
info = {
    "cpu": e["CPU"], "cores": int(e["CORES"]), "load_start": e["LOAD_START"].strip(),
    "load_end": e["LOAD_END"].strip(), "started": e["STARTED"],
    "commit": e["COMMIT"], "smoke": e["SMOKE"] == "true",
    "command": e["COMMAND"].strip() + f"  (benches ran {e['ELAPSED']} s)",
}
with open(sys.argv[1], "w") as f:
    json.dump(info, f, indent=2)
PY
python3 scripts/bench-report.py --target "${target}" "${report_args[@]}"
echo "benches ran ${elapsed} s"
