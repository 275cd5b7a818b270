"""One device's MLS membership: `Session` (create or join a group, commit, process the
group's messages, snapshot) and the records its calls return. The library never touches
the network: every MLS message is bytes the app carries."""

import ctypes
from collections import namedtuple

from . import _ffi
from ._ffi import as_bytes, as_uint, buffer_to_bytes, byref, lib, ptr_len
from ._handle import Handle
from .constants import Codec, HandshakeFormat, OutcomeKind, ParamsSource, SignatureAlgorithm
from .errors import check
from .media import Decryptor, Encryptor

Commit = namedtuple("Commit", "commit welcome")
Commit.__doc__ = "A commit to send to the group and a welcome for joiners (None if nobody joins)."
Outcome = namedtuple("Outcome", "kind epoch added removed")
Outcome.__doc__ = "What an incoming MLS message meant (kind: OutcomeKind)."
EpochInfo = namedtuple("EpochInfo", "epoch own_leaf")
ExternalJoin = namedtuple("ExternalJoin", "commit epoch")
ExternalJoin.__doc__ = "The external commit to send, and the epoch it makes once confirmed."
Member = namedtuple(
    "Member", "leaf user_id device_id fingerprint credential_type foreign_credential"
)
Member.__doc__ = "A roster row; user_id is b'' for a member on another MLS stack."
Candidate = namedtuple(
    "Candidate",
    "is_mlsframe_identity user_id device_id credential_type credential signature_key fingerprint",
)
Candidate.__doc__ = "Who the admission callback is asked about (bytes fields)."


class GroupParams(namedtuple("GroupParams", "sframe_suite epoch_bits handshake")):
    """SFrame parameters of a group: suite (1..5, default 4), E (default 4), handshake."""

    def __new__(cls, sframe_suite=4, epoch_bits=4, handshake=HandshakeFormat.CIPHERTEXT):
        return super().__new__(cls, sframe_suite, epoch_bits, HandshakeFormat(handshake))

    def _c(self):
        return _ffi.mlsframe_group_params(
            as_uint(self.sframe_suite, 16, "sframe_suite"),
            as_uint(self.epoch_bits, 8, "epoch_bits"),
            as_uint(int(self.handshake), 32, "handshake"),
        )


def _opt_params(params):
    if params is None:
        return None
    if not isinstance(params, GroupParams):
        raise TypeError("params must be a mlsframe.GroupParams or None")
    return byref(params._c())


def _view(ptr, length):
    return ctypes.string_at(ptr, length) if ptr and length else b""


class _Buffers:
    """Out-parameter mlsframe_buffers, freed (and wiped by the library) on exit."""

    def __init__(self, n):
        self.bufs = [_ffi.mlsframe_buffer() for _ in range(n)]

    def __enter__(self):
        return self.bufs

    def __exit__(self, *exc):
        for buf in self.bufs:
            lib.mlsframe_buffer_free(byref(buf))
        return False


class Session(Handle):
    """One device's membership. Drive it from one thread at a time.

    `Session(user_id, device_id=b"", secret=None, ...)`: an Ed25519 identity (`secret`: the
    32-byte seed the app persisted, or None for a new key); pass
    `signature_algorithm=SignatureAlgorithm.ECDSA_P256` for a P-256 identity.
    `admission(candidate) -> bool` decides who may join (an exception refuses).
    The other keywords are `mlsframe_session_config` fields (0: the default).
    """

    _free = staticmethod(lib.mlsframe_session_free)

    def __init__(self, user_id, device_id=b"", secret=None, *, signature_algorithm=None,
                 admission=None, retention_ms=0, removal_retention_ms=0,
                 send_switch_delay_ms=0, replay_window=0):
        user_id = as_bytes(user_id, "user_id")
        device_id = as_bytes(device_id, "device_id")
        secret = as_bytes(secret, "secret", optional=True)
        config = self._config(admission, retention_ms, removal_retention_ms,
                              send_switch_delay_ms, replay_window)
        out = ctypes.c_void_p()
        if signature_algorithm is None:
            check(lib.mlsframe_session_new(*ptr_len(user_id), *ptr_len(device_id),
                                           *ptr_len(secret), byref(config), byref(out)))
        else:
            opts = _ffi.mlsframe_identity_options(
                *ptr_len(user_id), *ptr_len(device_id), *ptr_len(secret),
                as_uint(int(signature_algorithm), 16, "signature_algorithm"))
            check(lib.mlsframe_session_new_with(byref(opts), byref(config), byref(out)))
        self._adopt(out.value)

    @classmethod
    def restore(cls, snapshot, *, admission=None, retention_ms=0, removal_retention_ms=0,
                send_switch_delay_ms=0, replay_window=0):
        """A session from `snapshot()` bytes. Its encryptors raise RekeyRequiredError until
        its own self-update is confirmed."""
        snapshot = as_bytes(snapshot, "snapshot")
        self = cls.__new__(cls)
        config = self._config(admission, retention_ms, removal_retention_ms,
                              send_switch_delay_ms, replay_window)
        out = ctypes.c_void_p()
        check(lib.mlsframe_session_restore(*ptr_len(snapshot), byref(config), byref(out)))
        self._adopt(out.value)
        return self

    def _config(self, admission, retention_ms, removal_retention_ms, send_switch_delay_ms,
                replay_window):
        config = _ffi.mlsframe_session_config(
            as_uint(retention_ms, 32, "retention_ms"),
            as_uint(removal_retention_ms, 32, "removal_retention_ms"),
            as_uint(send_switch_delay_ms, 32, "send_switch_delay_ms"),
            as_uint(replay_window, 32, "replay_window"),
        )
        self._admission = None  # the C callback lives as long as this session
        if admission is not None:
            if not callable(admission):
                raise TypeError("admission must be callable or None")

            def trampoline(_user_data, c):
                try:
                    cand = c.contents
                    return bool(admission(Candidate(
                        bool(cand.is_mlsframe_identity),
                        _view(cand.user_id, cand.user_id_len),
                        _view(cand.device_id, cand.device_id_len),
                        cand.credential_type,
                        _view(cand.credential, cand.credential_len),
                        _view(cand.signature_key, cand.signature_key_len),
                        _view(cand.fingerprint, cand.fingerprint_len),
                    )))
                except Exception:  # noqa: BLE001 - fail closed, never unwind into C
                    return False

            self._admission = _ffi.admission_callback(trampoline)
            config.admission = self._admission
        return config

    # --- identity and snapshots ---

    def signature_algorithm(self):
        out = ctypes.c_uint16()
        check(lib.mlsframe_session_signature_algorithm(self._p(), byref(out)))
        return SignatureAlgorithm(out.value)

    def snapshot(self):
        """The member's identity secret and MLS state (secret: encrypt it at rest)."""
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_snapshot(self._p(), byref(buf)))
            return buffer_to_bytes(buf)

    def key_package(self, mls_ciphersuite=None):
        """A key package to publish (for `mls_ciphersuite`, default: the identity's)."""
        with _Buffers(1) as (buf,):
            if mls_ciphersuite is None:
                check(lib.mlsframe_session_key_package(self._p(), byref(buf)))
            else:
                check(lib.mlsframe_session_key_package_for(
                    self._p(), as_uint(mls_ciphersuite, 16, "mls_ciphersuite"), byref(buf)))
            return buffer_to_bytes(buf)

    # --- creating and joining ---

    def create_group(self, sframe_suite=4, epoch_bits=4, plaintext_handshake=False):
        check(lib.mlsframe_session_create_group(
            self._p(), as_uint(sframe_suite, 16, "sframe_suite"),
            as_uint(epoch_bits, 8, "epoch_bits"), bool(plaintext_handshake)))

    def create_group_with(self, params=None, mls_ciphersuite=0,
                          params_source=ParamsSource.GROUP_CONTEXT, external_senders=()):
        """`external_senders`: (signature_key, identity) byte pairs."""
        params = GroupParams() if params is None else params
        if not isinstance(params, GroupParams):
            raise TypeError("params must be a mlsframe.GroupParams or None")
        senders = [(as_bytes(k, "signature_key"), as_bytes(i, "identity"))
                   for k, i in external_senders]
        c_senders = (_ffi.mlsframe_external_sender * max(len(senders), 1))(
            *[_ffi.mlsframe_external_sender(*ptr_len(k), *ptr_len(i)) for k, i in senders])
        opts = _ffi.mlsframe_group_options(
            params._c(), as_uint(mls_ciphersuite, 16, "mls_ciphersuite"),
            as_uint(int(params_source), 32, "params_source"),
            c_senders if senders else None, len(senders))
        check(lib.mlsframe_session_create_group_with(self._p(), byref(opts)))

    def join(self, welcome):
        """Joins from a welcome; returns the epoch joined."""
        welcome = as_bytes(welcome, "welcome")
        epoch = ctypes.c_uint64()
        check(lib.mlsframe_session_join(self._p(), *ptr_len(welcome), byref(epoch)))
        return epoch.value

    def join_with(self, welcome, ratchet_tree=None, params=None):
        """Joins with an out-of-band ratchet tree and/or app-agreed GroupParams."""
        welcome = as_bytes(welcome, "welcome")
        tree = as_bytes(ratchet_tree, "ratchet_tree", optional=True)
        epoch = ctypes.c_uint64()
        check(lib.mlsframe_session_join_with(self._p(), *ptr_len(welcome), *ptr_len(tree),
                                             _opt_params(params), byref(epoch)))
        return epoch.value

    def group_info(self):
        """A group info (public) from which a device can join by external commit."""
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_group_info(self._p(), byref(buf)))
            return buffer_to_bytes(buf)

    def join_by_external_commit(self, group_info, ratchet_tree=None, params=None):
        """Joins by external commit: send `.commit`, then confirm or discard it."""
        info = as_bytes(group_info, "group_info")
        tree = as_bytes(ratchet_tree, "ratchet_tree", optional=True)
        epoch = ctypes.c_uint64()
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_join_by_external_commit(
                self._p(), *ptr_len(info), *ptr_len(tree), _opt_params(params), byref(buf),
                byref(epoch)))
            return ExternalJoin(buffer_to_bytes(buf), epoch.value)

    # --- commits of our own ---

    def add_members(self, key_packages):
        """Adds members from their key packages: a Commit (commit and welcome)."""
        kps = [as_bytes(kp, "key package") for kp in key_packages]
        ptrs = (ctypes.c_char_p * max(len(kps), 1))(*kps)
        lens = (ctypes.c_size_t * max(len(kps), 1))(*[len(kp) for kp in kps])
        with _Buffers(2) as (commit, welcome):
            check(lib.mlsframe_session_add_members(self._p(), ptrs, lens, len(kps),
                                                   byref(commit), byref(welcome)))
            return Commit(buffer_to_bytes(commit), buffer_to_bytes(welcome) or None)

    def _commit(self, fn, *args):
        with _Buffers(1) as (buf,):
            check(fn(self._p(), *args, byref(buf)))
            return buffer_to_bytes(buf)

    def remove_member(self, leaf):
        """Removes the member at `leaf`: the commit bytes."""
        return self._commit(lib.mlsframe_session_remove_member, as_uint(leaf, 32, "leaf"))

    def remove_user(self, user_id):
        """Removes every device of `user_id`: the commit bytes."""
        return self._commit(lib.mlsframe_session_remove_user,
                            *ptr_len(as_bytes(user_id, "user_id")))

    def self_update(self):
        """A fresh leaf key (post-compromise security): the commit bytes."""
        return self._commit(lib.mlsframe_session_self_update)

    def leave(self):
        """A proposal to remove ourselves, for another member to commit."""
        return self._commit(lib.mlsframe_session_leave)

    def commit_pending_proposals(self):
        """Commits stored proposals: a Commit (welcome None unless someone is added)."""
        with _Buffers(2) as (commit, welcome):
            check(lib.mlsframe_session_commit_pending_proposals(self._p(), byref(commit),
                                                                byref(welcome)))
            return Commit(buffer_to_bytes(commit), buffer_to_bytes(welcome) or None)

    def confirm_commit(self):
        """The delivery service accepted our pending commit: merge it."""
        check(lib.mlsframe_session_confirm_commit(self._p()))

    def discard_commit(self):
        """Our pending commit lost a race: drop it."""
        check(lib.mlsframe_session_discard_commit(self._p()))

    def receivers_ready(self):
        """Every member has the latest commit: senders may switch now."""
        check(lib.mlsframe_session_receivers_ready(self._p()))

    # --- incoming ---

    def process(self, message):
        """Processes a group message: an Outcome."""
        message = as_bytes(message, "message")
        out = _ffi.mlsframe_outcome()
        check(lib.mlsframe_session_process(self._p(), *ptr_len(message), byref(out)))
        return Outcome(OutcomeKind(out.kind), out.epoch, out.added, out.removed)

    # --- state ---

    def epoch(self):
        """EpochInfo(epoch, own_leaf)."""
        epoch, leaf = ctypes.c_uint64(), ctypes.c_uint32()
        check(lib.mlsframe_session_epoch(self._p(), byref(epoch), byref(leaf)))
        return EpochInfo(epoch.value, leaf.value)

    def ciphersuite(self):
        out = ctypes.c_uint16()
        check(lib.mlsframe_session_ciphersuite(self._p(), byref(out)))
        return out.value

    def params(self):
        """(GroupParams, ParamsSource) of the group."""
        params, source = _ffi.mlsframe_group_params(), ctypes.c_uint32()
        check(lib.mlsframe_session_params(self._p(), byref(params), byref(source)))
        return (GroupParams(params.sframe_suite, params.epoch_bits, params.handshake),
                ParamsSource(source.value))

    def ratchet_tree(self):
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_ratchet_tree(self._p(), byref(buf)))
            return buffer_to_bytes(buf)

    def security_code(self):
        """The epoch's security code (digits in groups of five): compare it out of band."""
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_security_code(self._p(), byref(buf)))
            return buffer_to_bytes(buf).decode("ascii")

    def epoch_authenticator(self):
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_epoch_authenticator(self._p(), byref(buf)))
            return buffer_to_bytes(buf)

    def export_secret(self, label, context, length):
        """MLS-Exporter(label, context, length): a secret shared by the epoch's members."""
        label = as_bytes(label, "label")
        context = as_bytes(context, "context")
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_export_secret(
                self._p(), *ptr_len(label), *ptr_len(context), as_uint(length, 63, "length"),
                byref(buf)))
            return buffer_to_bytes(buf)

    def roster(self):
        """The members: a list of Member."""
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_roster(self._p(), byref(buf)))
            text = buffer_to_bytes(buf).decode("ascii")
        members = []
        for line in text.splitlines():
            leaf, user, device, fingerprint, ctype, foreign = line.split("\t")
            members.append(Member(int(leaf), bytes.fromhex(user), bytes.fromhex(device),
                                  fingerprint, int(ctype), bytes.fromhex(foreign)))
        return members

    def member_identity(self, leaf):
        """(user_id, device_id) of the member at `leaf` in the current epoch."""
        with _Buffers(2) as (user, device):
            check(lib.mlsframe_session_member_identity(
                self._p(), as_uint(leaf, 32, "leaf"), byref(user), byref(device)))
            return buffer_to_bytes(user), buffer_to_bytes(device)

    def member_credential(self, leaf):
        """(credential_type, content) of the member at `leaf`."""
        ctype = ctypes.c_uint16()
        with _Buffers(1) as (buf,):
            check(lib.mlsframe_session_member_credential(
                self._p(), as_uint(leaf, 32, "leaf"), byref(ctype), byref(buf)))
            return ctype.value, buffer_to_bytes(buf)

    # --- media ---

    def encryptor(self, context=0, codec=Codec.WHOLE):
        """An Encryptor for our stream `context` (one live encryptor per context), framing
        in `codec` (a Codec; WHOLE, the default, is whole-frame SFrame; the others keep the
        codec's headers clear and authenticated, docs/FRAMING.md)."""
        out = ctypes.c_void_p()
        context = as_uint(context, 64, "context")
        codec = as_uint(int(codec), 32, "codec")
        if codec == Codec.WHOLE:
            check(lib.mlsframe_session_encryptor_new(self._p(), context, byref(out)))
        else:
            check(lib.mlsframe_session_encryptor_new_with_codec(self._p(), context, codec,
                                                                 byref(out)))
        return Encryptor(out.value, context, codec)

    def decryptor(self):
        """A Decryptor for all other members' frames."""
        out = ctypes.c_void_p()
        check(lib.mlsframe_session_decryptor_new(self._p(), byref(out)))
        return Decryptor(out.value)


__all__ = ["Session", "GroupParams", "Commit", "Outcome", "EpochInfo", "ExternalJoin",
           "Member", "Candidate"]
