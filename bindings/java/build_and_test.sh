#!/usr/bin/env bash
# Builds the Java binding (the JNI library with cargo, the classes with javac) and runs
# its tests on the JVM. Fails when include/mlsframe.h has a result code that
# MlsframeException.CODES lacks. BENCH=1 also runs the frame-path measurement.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(cd ../.. && pwd)"
target_dir="${CARGO_TARGET_DIR:-${root}/target}"
case "${target_dir}" in
    /*) ;;
    *) target_dir="${root}/${target_dir}" ;;
esac

# Every failure code of the header must be in the Java mapping (value and name).
missing=0
while read -r name value; do
    if ! grep -q "{${value}, \"${name}\"}" src/main/java/org/mlsframe/MlsframeException.java; then
        echo "ERROR: ${name} = ${value} (include/mlsframe.h) is missing from MlsframeException.CODES" >&2
        missing=1
    fi
done < <(sed -n '/^enum mlsframe_result/,/^};/p' "${root}/include/mlsframe.h" |
    sed -n 's/^  \(MLSFRAME_[A-Z0-9_]*\) = \([0-9]*\),$/\1 \2/p' | grep -v '^MLSFRAME_OK ')
[ "${missing}" -eq 0 ] || exit 1
echo "result codes: the Java mapping covers include/mlsframe.h"

(cd "${root}" && cargo build -p mlsframe-jni -p mlsframe --lib)

classes="$(mktemp -d)"
trap 'rm -rf "${classes}"' EXIT
javac -Xlint:all,-try -Werror -d "${classes}" $(find src -name '*.java')
java -Xcheck:jni -Djava.library.path="${target_dir}/debug" -cp "${classes}" org.mlsframe.CallTest

if [ "${BENCH:-0}" = 1 ]; then
    # The same calls through the C ABI (the root crate's cdylib, built with the JNI one).
    cc -O2 -Wall -Wextra -Werror -I"${root}/include" -o "${classes}/frame_bench" bench/frame_bench.c \
        -L"${target_dir}/debug" -lmlsframe -Wl,-rpath,"${target_dir}/debug"
    uptime
    "${classes}/frame_bench"
    java -Djava.library.path="${target_dir}/debug" -cp "${classes}" org.mlsframe.FrameBench
fi
