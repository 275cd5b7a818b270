#!/usr/bin/env python3
"""Instruction counts per call of the target ratios, under valgrind --tool=callgrind.

Runs each case of the benches `layers` and `media` alone (MLSFRAME_BENCH_COUNT=<case>)
with collection switched on only inside their `measured` function, and writes
target/callgrind/counts.json (read by scripts/bench-report.py): per case the instructions
collected and the calls measured, and the ratios the project is held to. Instruction
counts do not depend on machine load, so this runs on a busy machine too (one process at a
time, about 3 minutes for the default set). Python 3 standard library only.

    python3 scripts/callgrind-counts.py [--sizes 100,1024] [--target target]
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys


def executable(target, name):
    """The newest bench executable `name-<hash>` (built by `cargo bench --no-run`)."""
    found = [p for p in glob.glob(os.path.join(target, "release", "deps", f"{name}-*"))
             if os.access(p, os.X_OK) and not p.endswith(".d")]
    if not found:
        sys.exit(f"no {name} bench executable: run `cargo bench --bench {name} --no-run`")
    return max(found, key=os.path.getmtime)


def count(exe, case):
    env = dict(os.environ, MLSFRAME_BENCH_COUNT=case)
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--toggle-collect=*measured*",
         "--callgrind-out-file=/dev/null", exe],
        env=env, capture_output=True, text=True, check=True)
    calls = re.search(r": (\d+) calls measured", run.stdout)
    collected = re.search(r"Collected : (\d+)", run.stderr)
    if not calls or not collected:
        sys.exit(f"{case}: no count in the output:\n{run.stdout}\n{run.stderr}")
    return {"instructions": int(collected.group(1)), "calls": int(calls.group(1))}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--target", default=os.environ.get("CARGO_TARGET_DIR", "target"))
    p.add_argument("--sizes", default="100,1024,102400")
    p.add_argument("--suites", default="1,4,5")
    p.add_argument("--members", default="2,1000",
                   help="group sizes of the Encryptor/Decryptor cases")
    args = p.parse_args()
    subprocess.run(["cargo", "bench", "--bench", "layers", "--bench", "media", "--no-run"],
                   check=True)
    layers = executable(args.target, "layers")
    media = executable(args.target, "media")
    cases, ratios = {}, []
    for suite in args.suites.split(","):
        for size in args.sizes.split(","):
            limit = 1.25 if size == "100" else 1.08
            for op in ["seal", "open"]:
                pre = f"{op}/suite{suite}"
                for num, den, lim in [("rust_out", "aws_lc_out", limit),
                                      ("rust_in_unmoved", "aws_lc_in", limit),
                                      ("c_out", "rust_out", 1.05),
                                      ("c_in", "rust_in", 1.05)]:
                    ratios.append([f"{pre} {size} B: {num} ÷ {den}",
                                   f"{pre}/{num}/{size}", f"{pre}/{den}/{size}", lim])
                if suite in ("4", "5"):
                    # Through `&mut self`: never more than through `&self`.
                    ratios.append([f"{pre} {size} B: rust_out_excl ÷ rust_out",
                                   f"{pre}/rust_out_excl/{size}", f"{pre}/rust_out/{size}",
                                   1.0])
                    # The sframe crate ÷ mlsframe: above 1 is mlsframe faster.
                    ratios.append([f"{pre} {size} B: rust_out ÷ sframe_crate "
                                   f"(≤ {0.4 if size == '100' else 1.0})",
                                   f"{pre}/rust_out/{size}", f"{pre}/sframe_crate/{size}",
                                   0.4 if size == "100" else 1.0])
    for members in args.members.split(","):
        ratios.append([f"Decryptor ÷ Receiver, 100 B, {members} members",
                       f"decrypt_100B/decryptor/{members}", f"decrypt_100B/receiver/{members}",
                       1.05])
        ratios.append([f"Encryptor ÷ SendKey, 100 B, {members} members",
                       f"encrypt_100B/encryptor/{members}", f"encrypt_100B/send_key/{members}",
                       1.05])
    ratios.append(["first frame, 1,000 ÷ 10 members", "first_frame/1000", "first_frame/10", 1.3])
    needed = sorted({c for r in ratios for c in r[1:3]})
    for case in needed:
        exe = layers if case.startswith(("seal/", "open/")) else media
        cases[case] = count(exe, case)
        per = cases[case]["instructions"] / cases[case]["calls"]
        print(f"{case:<36} {per:>12,.0f} instructions/call", flush=True)
    version = subprocess.run(["valgrind", "--version"], capture_output=True,
                             text=True).stdout.strip()
    out_dir = os.path.join(args.target, "callgrind")
    os.makedirs(out_dir, exist_ok=True)
    command = "python3 scripts/callgrind-counts.py " + " ".join(sys.argv[1:])
    with open(os.path.join(out_dir, "counts.json"), "w") as f:
        json.dump({"valgrind": version, "command": command.strip(), "cases": cases,
                   "ratios": ratios}, f, indent=1)
    for label, a, b, limit in ratios:
        r = (cases[a]["instructions"] / cases[a]["calls"]) / (
            cases[b]["instructions"] / cases[b]["calls"])
        print(f"{label:<60} {r:6.3f} {'ok' if r <= limit else 'MISS'} (≤ {limit})")


if __name__ == "__main__":
    main()
