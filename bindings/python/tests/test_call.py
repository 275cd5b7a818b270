"""A 3-party call driven as an app does: key packages, a group, frames every way, a
security code check, a removal after which the removed member opens nothing new."""

import pytest

import mlsframe
from mlsframe import OutcomeKind, Session


@pytest.fixture
def call():
    names = [b"alice", b"bob", b"carol"]
    sessions = [Session(n, b"laptop") for n in names]
    alice, bob, carol = sessions
    alice.create_group()
    commit = alice.add_members([bob.key_package(), carol.key_package()])
    assert commit.welcome
    alice.confirm_commit()  # the delivery service accepted it
    assert bob.join(commit.welcome) == 1
    assert carol.join(commit.welcome) == 1
    yield sessions
    for s in sessions:
        s.close()


def test_three_party_call_and_removal(call):
    alice, bob, carol = call
    members = [alice, bob, carol]
    leaves = [s.epoch().own_leaf for s in members]
    assert len(set(leaves)) == 3
    assert len({s.security_code() for s in members}) == 1
    assert [m.user_id for m in bob.roster()] == [b"alice", b"bob", b"carol"]
    assert bob.member_identity(leaves[2]) == (b"carol", b"laptop")

    encs = [s.encryptor(0) for s in members]
    decs = [s.decryptor() for s in members]
    for i, enc in enumerate(encs):
        text = b"hello from %d" % i
        sealed = enc.encrypt(text, b"rtp")
        assert text not in sealed
        for j, dec in enumerate(decs):
            if i == j:
                continue
            opened = dec.decrypt(sealed, b"rtp")
            assert opened.data == text
            assert opened.sender.leaf == leaves[i] and opened.sender.epoch == 1
            assert dec.sender_identity(opened.sender) == (
                [b"alice", b"bob", b"carol"][i],
                b"laptop",
            )
        with pytest.raises(mlsframe.ReplayError):
            decs[(i + 1) % 3].decrypt(sealed, b"rtp")
    assert encs[0].stats().frames_out == 1
    assert decs[1].stats().frames_in >= 2

    key_frames = []
    encs[0].set_key_frame_callback(lambda ctx, epoch: key_frames.append((ctx, epoch)))

    # Alice removes Carol; Bob processes the commit, Alice confirms.
    remove = alice.remove_member(leaves[2])
    outcome = bob.process(remove)
    assert outcome.kind == OutcomeKind.EPOCH_CHANGED and outcome.removed == 1
    alice.confirm_commit()
    assert alice.epoch().epoch == bob.epoch().epoch == 2
    assert alice.security_code() == bob.security_code()

    sealed = encs[0].encrypt(b"carol is gone")
    assert key_frames == [(0, 2)]
    assert decs[1].decrypt(sealed).data == b"carol is gone"
    with pytest.raises(mlsframe.NoKeyError):  # carol has not seen the commit yet
        decs[2].decrypt(sealed)
    assert carol.process(remove).kind == OutcomeKind.REMOVED
    assert decs[2].take_released() == []  # the held frame is not released to her
    with pytest.raises(mlsframe.NoKeyError):
        decs[2].decrypt(encs[1].encrypt(b"still gone"))
    with pytest.raises(mlsframe.NotMemberError):
        encs[2].encrypt(b"hi")
    with pytest.raises(mlsframe.MlsNotMemberError):
        carol.security_code()

    # Bob still hears Alice, and the exporter agrees between the remaining members.
    assert decs[0].decrypt(encs[1].encrypt(b"two of us")).data == b"two of us"
    assert alice.export_secret(b"label", b"", 32) == bob.export_secret(b"label", b"", 32)
    for handle in encs + decs:
        handle.close()


def test_held_frame_released_after_commit(call):
    alice, bob, _ = call
    enc, dec = alice.encryptor(1), bob.decryptor()
    update = alice.self_update()
    alice.confirm_commit()
    alice.receivers_ready()
    sealed = enc.encrypt(b"from the future")
    with pytest.raises(mlsframe.NoKeyError):
        dec.decrypt(sealed)  # held until bob has the epoch
    assert bob.process(update).kind == OutcomeKind.EPOCH_CHANGED
    released = dec.take_released()
    assert [f.data for f in released] == [b"from the future"]
    assert released[0].sender.context == 1


def test_snapshot_restore_and_external_rejoin():
    with Session(b"alice", secret=bytes(range(32))) as alice, Session(
        b"bob", signature_algorithm=mlsframe.SignatureAlgorithm.ED25519
    ) as bob:
        assert bob.signature_algorithm() == mlsframe.SignatureAlgorithm.ED25519
        alice.create_group_with(mlsframe.GroupParams(sframe_suite=4, epoch_bits=4))
        params, source = alice.params()
        assert params.sframe_suite == 4 and source == mlsframe.ParamsSource.GROUP_CONTEXT
        assert alice.ciphersuite() == 1
        commit = alice.add_members([bob.key_package()])
        alice.confirm_commit()
        bob.join_with(commit.welcome, ratchet_tree=alice.ratchet_tree())
        assert alice.epoch_authenticator() == bob.epoch_authenticator()
        assert bob.member_credential(0)[0] == 1

        restored = Session.restore(bob.snapshot())
        with restored, restored.encryptor(0) as enc:
            with pytest.raises(mlsframe.RekeyRequiredError):
                enc.encrypt(b"x")

        # A third device joins from a group info by external commit.
        with Session(b"carol") as carol:
            joined = carol.join_by_external_commit(alice.group_info())
            carol.confirm_commit()
            assert alice.process(joined.commit).kind == OutcomeKind.EPOCH_CHANGED
            assert carol.epoch().epoch == alice.epoch().epoch == joined.epoch
            assert carol.security_code() == alice.security_code()


def test_admission_and_log_callbacks():
    lines = []
    mlsframe.set_log_callback(lambda level, msg: lines.append((level, msg)), mlsframe.LogLevel.INFO)
    try:
        seen = []

        def admit(candidate):
            seen.append(candidate.user_id)
            return candidate.user_id != b"mallory"

        with Session(b"alice", admission=admit) as alice, Session(b"bob") as bob, Session(
            b"mallory"
        ) as mallory:
            alice.create_group()
            with pytest.raises(mlsframe.MlsAdmissionRefusedError):
                alice.add_members([mallory.key_package()])
            alice.add_members([bob.key_package()])
            alice.confirm_commit()
            assert b"mallory" in seen and b"bob" in seen
            assert [m.user_id for m in alice.roster()] == [b"alice", b"bob"]
            assert alice.remove_user(b"bob")  # a commit, then lost to a race:
            alice.discard_commit()
            assert [m.user_id for m in alice.roster()] == [b"alice", b"bob"]
    finally:
        mlsframe.set_log_callback(None)
    assert (mlsframe.LogLevel.INFO, "session created") in lines
    assert all(isinstance(level, mlsframe.LogLevel) and isinstance(m, str) for level, m in lines)


def test_leave_is_committed_by_another_member(call):
    alice, bob, carol = call
    proposal = carol.leave()
    assert alice.process(proposal).kind == OutcomeKind.PROPOSALS_PENDING
    assert bob.process(proposal).kind == OutcomeKind.PROPOSALS_PENDING
    commit = alice.commit_pending_proposals()
    assert commit.welcome is None
    assert bob.process(commit.commit).kind == OutcomeKind.EPOCH_CHANGED
    alice.confirm_commit()
    assert carol.process(commit.commit).kind == OutcomeKind.REMOVED
    assert [m.user_id for m in bob.roster()] == [b"alice", b"bob"]
