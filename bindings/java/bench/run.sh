#!/usr/bin/env bash
# The Java ÷ C ratio of the frame path: builds the release libraries (the JNI one and the
# C ABI's cdylib), the C harness (frame_bench.c, cc -O2) and the Java one (FrameBench.java),
# then runs both RUNS times (default 3), alternating, one process per run, and prints per
# frame size the median over runs of each process's median ns per frame (seal + open) and
# the ratio. QUICK=1 makes each round 10 times shorter (a check that it works, not a
# measurement). Run it on an idle machine: the figure is only as quiet as the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(cd ../../.. && pwd)"
target_dir="${CARGO_TARGET_DIR:-${root}/target}"
case "${target_dir}" in
    /*) ;;
    *) target_dir="${root}/${target_dir}" ;;
esac
release="${target_dir}/release"
runs="${RUNS:-3}"
mode=""
[ "${QUICK:-0}" = 1 ] && mode=quick

(cd "${root}" && cargo build --release -p mlsframe-jni -p mlsframe --lib)

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
cc -O2 -Wall -Wextra -Werror -I"${root}/include" -o "${work}/frame_bench" frame_bench.c \
    -L"${release}" -lmlsframe -Wl,-rpath,"${release}"
javac -Xlint:all,-try -Werror -d "${work}/classes" $(find ../src/main -name '*.java') FrameBench.java

echo "machine: $(nproc) cores, $(uptime | sed 's/.*load/load/')"
for i in $(seq 1 "${runs}"); do
    "${work}/frame_bench" ${mode} >>"${work}/results"
    java -Djava.library.path="${release}" -cp "${work}/classes" org.mlsframe.FrameBench ${mode} >>"${work}/results"
done

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
printf '%-8s %14s %14s %8s\n' "frame" "C ns/frame" "Java ns/frame" "Java/C"
for size in 100 1024 10240; do
    c="$(awk -v s="${size}" '$1 == "c" && $2 == s {print $3}' "${work}/results" | median)"
    j="$(awk -v s="${size}" '$1 == "java" && $2 == s {print $3}' "${work}/results" | median)"
    awk -v s="${size}" -v c="${c}" -v j="${j}" \
        'BEGIN {printf "%-8s %14.1f %14.1f %8.3f\n", s " B", c, j, j / c}'
done
echo "(${runs} runs of each, alternating; each run: the median of 7 timed rounds, after 3 warm-up rounds of every size and 1 of the size${mode:+; QUICK: rounds 10x shorter})"
