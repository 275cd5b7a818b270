"""Bad input from Python: wrong types and ranges raise TypeError/ValueError before C is
called; bad values the library refuses raise the exception of their result code; closed
handles raise ClosedError, never crash."""

import pytest

import mlsframe
from mlsframe import Result, Session, SFrameContext


def test_every_code_has_an_exception_and_message():
    for code in Result:
        if code is Result.OK:
            continue
        err = mlsframe.errors.error_for(code)
        assert isinstance(err, mlsframe.MlsframeError) and err.code is code
        assert err.message and err.message != "unknown result code"
    assert issubclass(mlsframe.NoKeyError, mlsframe.FrameError)
    assert issubclass(mlsframe.InvalidArgumentError, ValueError)
    assert issubclass(mlsframe.MlsWrongEpochError, mlsframe.MlsError)
    assert mlsframe.result_message(12345) == "unknown result code"


def test_wrong_types_and_ranges():
    with pytest.raises(TypeError):
        Session("alice")  # str, not bytes
    with pytest.raises(TypeError):
        Session(b"alice", secret=12)
    with pytest.raises(ValueError):
        Session(b"alice", replay_window=-1)
    with pytest.raises(TypeError):
        Session(b"alice", admission=42)
    with Session(b"alice") as s:
        s.create_group()
        with pytest.raises(ValueError):
            s.remove_member(2**32)
        with pytest.raises(TypeError):
            s.process(None)
        with pytest.raises(TypeError):
            s.encryptor("audio")
        with pytest.raises(TypeError):
            s.decryptor().sender_identity((1, 0, 0))


def test_library_refusals_map_to_their_exceptions():
    with pytest.raises(mlsframe.InvalidArgumentError):
        Session(b"alice", secret=b"\x01" * 31)  # a seed is 0 or 32 bytes
    with pytest.raises(mlsframe.MlsInvalidIdentityError):
        Session(b"")  # the user id is 1..=1024 bytes
    with pytest.raises(mlsframe.InvalidConfigError):
        Session(b"alice", replay_window=1 << 20)
    with pytest.raises(mlsframe.MlsUnsupportedSignatureAlgorithmError):
        Session(b"alice", signature_algorithm=7)
    with Session(b"alice") as s:
        with pytest.raises(mlsframe.MlsNoGroupError):
            s.security_code()
        with pytest.raises(mlsframe.MlsNoGroupError):
            s.self_update()
        s.create_group()
        with pytest.raises(mlsframe.MlsAlreadyInGroupError):
            s.create_group()
        with pytest.raises(mlsframe.MlsNoPendingCommitError):
            s.confirm_commit()
        with pytest.raises(mlsframe.MlsError):
            s.process(b"\x00\x01garbage")
        with pytest.raises(mlsframe.MlsError):
            s.add_members([b"not a key package"])
        with pytest.raises(mlsframe.MlsUnknownMemberError):
            s.member_identity(7)
        with pytest.raises(mlsframe.MlsCannotRemoveSelfError):
            s.remove_user(b"alice")
        enc = s.encryptor(0)
        with pytest.raises(mlsframe.ContextInUseError):
            s.encryptor(0)
        enc.close()
        dec = s.decryptor()
        with pytest.raises(mlsframe.MalformedError):
            dec.decrypt(b"")
        with pytest.raises(mlsframe.FrameError):
            dec.decrypt(b"\x00" * 40)
        dec.close()
    with pytest.raises(mlsframe.MlsError):
        Session.restore(b"not a snapshot")


def test_closed_handles_raise_not_crash():
    s = Session(b"alice")
    s.create_group()
    enc, dec = s.encryptor(0), s.decryptor()
    sealed = enc.encrypt(b"x")
    s.close()
    s.close()  # idempotent
    assert s.closed
    with pytest.raises(mlsframe.ClosedError):
        s.key_package()
    with pytest.raises(ValueError):  # ClosedError is a ValueError, as for closed files
        s.epoch()
    # Media handles outlive their session: sealing now fails cleanly.
    with pytest.raises(mlsframe.NotMemberError):
        enc.encrypt(b"y")
    with pytest.raises(mlsframe.UnknownSenderError):
        dec.decrypt(sealed)  # our own frame: no other member sent it; refused, no crash
    enc.close()
    dec.close()
    for call in (lambda: enc.encrypt(b"z"), lambda: dec.decrypt(sealed), enc.stats, dec.stats,
                 dec.take_released):
        with pytest.raises(mlsframe.ClosedError):
            call()
    ctx = SFrameContext()
    ctx.close()
    with pytest.raises(mlsframe.ClosedError):
        ctx.encrypt(b"x")
    with pytest.raises(mlsframe.ClosedError):
        with ctx:
            pass


def test_sframe_context_bad_input():
    with SFrameContext() as ctx:
        with pytest.raises(mlsframe.NoSendKeyError):
            ctx.encrypt(b"x")
        with pytest.raises(mlsframe.NoSendKeyError):
            ctx.send_counter()
        with pytest.raises(mlsframe.UnknownSuiteError):
            ctx.set_send_key(9, 1, bytes(16))
        with pytest.raises(mlsframe.InvalidArgumentError):
            ctx.set_send_key(4, 1, bytes(15))
        with pytest.raises(TypeError):
            ctx.set_send_key(4, 1, "0" * 16)
        with pytest.raises(ValueError):
            ctx.set_send_key(4, -1, bytes(16))
        ctx.add_receive_key(4, 1, bytes(16))
        with pytest.raises(mlsframe.DuplicateKeyError):
            ctx.add_receive_key(4, 1, bytes(16))
        with pytest.raises(mlsframe.NoKeyError):
            ctx.remove_receive_key(2)
        ctx.set_send_key(4, 1, bytes(16), first_counter=2**64 - 1)
        with pytest.raises(mlsframe.CounterExhaustedError):
            ctx.encrypt(b"x")
        ctx.set_send_key(4, 1, bytes(16))  # the same key again keeps its (spent) counter
        with pytest.raises(mlsframe.CounterExhaustedError):
            ctx.encrypt(b"x")
        ctx.set_send_key(4, 1, bytes([1] * 16))  # another key: a fresh counter
        ctx.remove_receive_key(1)
        ctx.add_receive_key(4, 1, bytes([1] * 16))
        sealed = ctx.encrypt(b"frame", b"ad")
        with pytest.raises(mlsframe.AuthFailedError):
            ctx.decrypt(sealed, b"other ad")
        tampered = bytearray(sealed)
        tampered[-1] ^= 1
        with pytest.raises(mlsframe.AuthFailedError):
            ctx.decrypt(tampered, b"ad")
        assert ctx.decrypt(memoryview(sealed), b"ad") == (b"frame", 1)
        with pytest.raises(mlsframe.ReplayError):
            ctx.decrypt(sealed, b"ad")
        with pytest.raises(mlsframe.MalformedError):
            ctx.decrypt(ctx.encrypt(b"next", b"ad")[:2], b"ad")  # shorter than its tag
    with pytest.raises(mlsframe.InvalidArgumentError):
        SFrameContext(replay_window=65537)
