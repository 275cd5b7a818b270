"""No silent gaps: every `mlsframe_*` export of include/mlsframe.h has a prototype and is
called by the package's wrappers, and every value of the header's enums (every result
code included) is mapped, with the same value. Adding an export or a code to the header
without wrapping it here fails this test (and so `.ci/run`)."""

import re
from pathlib import Path

import mlsframe
from mlsframe import _ffi
from mlsframe.constants import HEADER_ENUMS

HEADER = (Path(__file__).resolve().parents[3] / "include" / "mlsframe.h").read_text()
PACKAGE = Path(mlsframe.__file__).resolve().parent


def header_functions():
    return set(re.findall(r"^[A-Za-z_][\w \*]*?\b(mlsframe_\w+)\(", HEADER, re.M))


def header_enum(name):
    body = re.search(r"^enum %s\b.*?\{(.*?)^\};" % name, HEADER, re.M | re.S)
    assert body, "enum %s not found in the header" % name
    return {k: int(v) for k, v in re.findall(r"^\s*(MLSFRAME_\w+) = (\d+),", body.group(1), re.M)}


def test_header_parses():
    functions = header_functions()
    assert len(functions) >= 50
    assert "mlsframe_session_new" in functions and "mlsframe_result_message" in functions


def test_every_export_has_a_prototype():
    functions = header_functions()
    assert sorted(functions - set(_ffi.PROTOTYPES)) == [], "exports with no prototype"
    assert sorted(set(_ffi.PROTOTYPES) - functions) == [], "prototypes of no export"


def test_every_export_is_called_by_a_wrapper():
    wrappers = "".join(
        p.read_text() for p in PACKAGE.glob("*.py") if p.name != "_ffi.py"
    )
    unwrapped = sorted(f for f in header_functions() if "lib.%s" % f not in wrappers)
    assert unwrapped == [], "exports no wrapper calls"


def test_every_result_code_is_mapped():
    codes = header_enum("mlsframe_result")
    assert len(codes) >= 60
    mapped = {"MLSFRAME_" + m.name: int(m) for m in mlsframe.Result}
    assert mapped == codes
    for name, value in codes.items():
        if value:
            assert mlsframe.Result(value) in mlsframe.ERROR_CLASSES, name


def test_every_other_enum_is_mapped():
    declared = set(re.findall(r"^enum (mlsframe_\w+)", HEADER, re.M)) - {"mlsframe_result"}
    assert declared == set(HEADER_ENUMS), "header enums the package does not map"
    for name, (prefix, enum) in HEADER_ENUMS.items():
        assert {prefix + m.name: int(m) for m in enum} == header_enum(name), name
