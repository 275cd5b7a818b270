"""The header's enums other than `mlsframe_result` (see errors.Result), as IntEnums whose
names drop the header's prefix (`MLSFRAME_OUTCOME_`, `MLSFRAME_LOG_`, ...)."""

import enum


class OutcomeKind(enum.IntEnum):
    """`mlsframe_outcome_kind`: what an incoming MLS message meant."""

    NONE = 0
    EPOCH_CHANGED = 1
    PROPOSALS_PENDING = 2
    REMOVED = 3
    POLICY_VIOLATION = 4
    IGNORED = 5


class LogLevel(enum.IntEnum):
    """`mlsframe_log_level`."""

    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


class HandshakeFormat(enum.IntEnum):
    """`mlsframe_handshake_format`: how commits and proposals travel."""

    CIPHERTEXT = 0
    PLAINTEXT = 1


class ParamsSource(enum.IntEnum):
    """`mlsframe_params_source`: where a group's SFrame parameters come from."""

    GROUP_CONTEXT = 0
    APP = 1


class SignatureAlgorithm(enum.IntEnum):
    """`mlsframe_signature_algorithm`: MLS SignatureScheme code points."""

    ECDSA_P256 = 1027
    ED25519 = 2055


class Codec(enum.IntEnum):
    """`mlsframe_codec`: how a stream's frames are framed (docs/FRAMING.md). WHOLE is
    whole-frame SFrame; the others keep the codec's headers clear and authenticated."""

    WHOLE = 0
    OPUS = 1
    VP8 = 2
    VP9 = 3
    H264 = 4
    H265 = 5
    AV1 = 6


# Header prefix of each enum above, for the header check (tests/test_header.py).
HEADER_ENUMS = {
    "mlsframe_codec": ("MLSFRAME_CODEC_", Codec),
    "mlsframe_outcome_kind": ("MLSFRAME_OUTCOME_", OutcomeKind),
    "mlsframe_log_level": ("MLSFRAME_LOG_", LogLevel),
    "mlsframe_handshake_format": ("MLSFRAME_HANDSHAKE_", HandshakeFormat),
    "mlsframe_params_source": ("MLSFRAME_PARAMS_", ParamsSource),
    "mlsframe_signature_algorithm": ("MLSFRAME_SIGNATURE_", SignatureAlgorithm),
}
