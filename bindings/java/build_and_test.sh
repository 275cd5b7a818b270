#!/usr/bin/env bash
# Builds the Java binding (the JNI library with cargo, the classes with javac) and runs
# its tests on the JVM. Fails first ("no silent gaps") when include/mlsframe.h has an
# export the JNI glue (jni/src/*.rs) does not call, or a result code that
# MlsframeException.CODES lacks. The frame-path measurement is bench/run.sh.
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

# Every export of the header must be used by the JNI glue: named in its code (comments
# and `use` declarations left out, so an import alone does not count), as a call or as
# the argument of a macro that calls it. And the glue calls nothing the header lacks.
exports="$(grep -oE '^[A-Za-z_][A-Za-z0-9_ *]*\bmlsframe_[a-z0-9_]+\(' "${root}/include/mlsframe.h" |
    grep -oE 'mlsframe_[a-z0-9_]+\($' | tr -d '(' | sort -u)"
glue="$(cat jni/src/*.rs | sed 's|//.*||' | awk '/^use /{skip=1} !skip{print} skip && /;/{skip=0}')"
count="$(echo "${exports}" | wc -l)"
if [ "${count}" -lt 50 ]; then
    echo "ERROR: parsed only ${count} exports from include/mlsframe.h" >&2
    exit 1
fi
for name in ${exports}; do
    if ! grep -qw "${name}" <<<"${glue}"; then
        echo "ERROR: export ${name} (include/mlsframe.h) is not called by the JNI glue (bindings/java/jni/src)" >&2
        missing=1
    fi
done
for name in $(grep -oE '\bmlsframe_[a-z0-9_]+\(' <<<"${glue}" | tr -d '(' | sort -u); do
    if ! grep -qx "${name}" <<<"${exports}"; then
        echo "ERROR: the JNI glue calls ${name}, which include/mlsframe.h does not declare" >&2
        missing=1
    fi
done
[ "${missing}" -eq 0 ] || exit 1
echo "exports: the JNI glue calls all ${count} exports of include/mlsframe.h"

(cd "${root}" && cargo build -p mlsframe-jni -p mlsframe --lib)

classes="$(mktemp -d)"
trap 'rm -rf "${classes}"' EXIT
javac -Xlint:all,-try -Werror -d "${classes}" $(find src -name '*.java')
java -Xcheck:jni -Djava.library.path="${target_dir}/debug" -cp "${classes}" org.mlsframe.CallTest
