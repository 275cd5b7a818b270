"""The standalone SFrame context against every `sframe` entry of the RFC 9605 test
vectors (tests/vectors/test-vectors.json): seal gives the vector's bytes, open inverts."""

import json
from pathlib import Path

import pytest

import mlsframe

VECTORS = json.loads(
    (Path(__file__).resolve().parents[3] / "tests" / "vectors" / "test-vectors.json").read_text()
)["sframe"]


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: "suite%d" % v["cipher_suite"])
def test_rfc9605_vector(v):
    base_key, metadata = bytes.fromhex(v["base_key"]), bytes.fromhex(v["metadata"])
    pt, ct = bytes.fromhex(v["pt"]), bytes.fromhex(v["ct"])
    with mlsframe.SFrameContext() as ctx:
        ctx.set_send_key(v["cipher_suite"], v["kid"], base_key, first_counter=v["ctr"])
        assert ctx.send_counter() == v["ctr"]
        sealed = ctx.encrypt(pt, metadata)
        assert sealed == ct
        assert len(sealed) <= mlsframe.max_ciphertext_size(len(pt))
        assert ctx.send_counter() == v["ctr"] + 1
        ctx.add_receive_key(v["cipher_suite"], v["kid"], base_key)
        assert ctx.decrypt(ct, metadata) == (pt, v["kid"])
        ctx.remove_receive_key(v["kid"])
        with pytest.raises(mlsframe.NoKeyError):
            ctx.decrypt(ct, metadata)


def test_all_suites_are_covered():
    assert sorted(v["cipher_suite"] for v in VECTORS) == [1, 2, 3, 4, 5]
