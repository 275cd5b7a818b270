#!/usr/bin/env python3
"""Fails when include/mlsframe.h has an export or a result code that the C++ wrapper does
not map.

The wrapper (bindings/cpp/include/mlsframe/mlsframe.hpp) lists what it maps in its code:
each export it wraps appears qualified, `::mlsframe_<name>` (a call, or a function handed
to a helper), each result code as an
enumerator `= MLSFRAME_<CODE>,` of `mlsframe::Code`. This script compares those lists with
the header's function declarations and `enum mlsframe_result`, both ways.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = ROOT / "include" / "mlsframe.h"
WRAPPER = ROOT / "bindings" / "cpp" / "include" / "mlsframe" / "mlsframe.hpp"


def header_exports(text):
    # A declaration: a return type at the start of a line, then the name and "(".
    return set(re.findall(r"^[A-Za-z_][\w \*]*?\b(mlsframe_\w+)\(", text, re.M))


def header_codes(text):
    enum = re.search(r"^enum mlsframe_result\b.*?^};", text, re.M | re.S)
    if enum is None:
        sys.exit("check_coverage: enum mlsframe_result not found in the header")
    return set(re.findall(r"^\s*(MLSFRAME_\w+) = \d+,", enum.group(0), re.M))


def main():
    header = HEADER.read_text()
    wrapper = WRAPPER.read_text()
    exports, codes = header_exports(header), header_codes(header)
    mapped_exports = set(re.findall(r"::(mlsframe_\w+)\b", wrapper))
    code_enum = re.search(r"^enum class Code\b.*?^};", wrapper, re.M | re.S)
    if code_enum is None:
        sys.exit("check_coverage: enum class Code not found in the wrapper")
    mapped_codes = set(re.findall(r"=\s*(MLSFRAME_\w+),", code_enum.group(0)))
    if len(exports) < 50 or len(codes) < 50:
        sys.exit(f"check_coverage: parsed only {len(exports)} exports, {len(codes)} codes")
    problems = []
    for name in sorted(exports - mapped_exports):
        problems.append(f"export {name} is not mapped by the C++ wrapper")
    for name in sorted(codes - mapped_codes):
        problems.append(f"result code {name} is not in mlsframe::Code")
    for name in sorted(mapped_exports - exports):
        problems.append(f"the C++ wrapper calls {name}, which the header does not declare")
    for name in sorted(mapped_codes - codes):
        problems.append(f"mlsframe::Code has {name}, which the header does not define")
    for p in problems:
        print(f"check_coverage: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"C++ wrapper maps all {len(exports)} exports and {len(codes)} result codes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
