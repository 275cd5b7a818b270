"""Codec-aware framing through the binding: an encryptor per stream codec, the decryptor
told the codec, clear headers on the wire, tampering and wrong codecs refused."""

import pytest

import mlsframe
from mlsframe import Codec, Session

VP8_KEY = bytes([0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A, 0x40, 0x01, 0xF0, 0x00]) + bytes(range(64))
H264 = (b"\x00\x00\x00\x01\x67\x42\x00\x1f\xe9" b"\x00\x00\x00\x01\x68\xce\x38\x80"
        b"\x00\x00\x01\x65\x88\x80" + bytes(199) + b"\x80")


@pytest.fixture
def pair():
    alice, bob = Session(b"alice", b"laptop"), Session(b"bob", b"phone")
    alice.create_group()
    commit = alice.add_members([bob.key_package()])
    alice.confirm_commit()
    bob.join(commit.welcome)
    yield alice, bob
    alice.close()
    bob.close()


def test_codec_round_trip_keeps_headers_clear(pair):
    alice, bob = pair
    enc = alice.encryptor(1, codec=Codec.VP8)
    assert enc.codec == Codec.VP8
    dec = bob.decryptor()
    sealed = enc.encrypt(VP8_KEY, b"rtp")
    assert sealed[:10] == VP8_KEY[:10]
    assert len(sealed) > len(VP8_KEY)
    assert dec.decrypt(sealed, b"rtp", codec=Codec.VP8).data == VP8_KEY

    h264 = alice.encryptor(2, codec=Codec.H264)
    sealed = h264.encrypt(H264)
    assert sealed[:9] == H264[:9]  # start code and SPS clear
    assert dec.decrypt(sealed, codec=Codec.H264).data == H264


def test_codec_tamper_and_wrong_codec_refused(pair):
    alice, bob = pair
    enc = alice.encryptor(1, codec=Codec.VP8)
    dec = bob.decryptor()
    sealed = enc.encrypt(VP8_KEY)
    with pytest.raises(mlsframe.AuthFailedError):
        dec.decrypt(bytes([sealed[0] ^ 0x01]) + sealed[1:], codec=Codec.VP8)
    with pytest.raises(mlsframe.MalformedLayoutError):
        dec.decrypt(sealed[:-1], codec=Codec.VP8)
    with pytest.raises((mlsframe.AuthFailedError, mlsframe.MalformedLayoutError)):
        dec.decrypt(sealed, codec=Codec.OPUS)
    with pytest.raises(mlsframe.UnsupportedCodecError):
        dec.decrypt(sealed, codec=99)
    with pytest.raises(mlsframe.UnsupportedCodecError):
        alice.encryptor(3, codec=99)
    # The untampered frame still opens (nothing above consumed its counter).
    assert dec.decrypt(sealed, codec=Codec.VP8).data == VP8_KEY
