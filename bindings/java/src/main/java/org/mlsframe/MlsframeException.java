package org.mlsframe;

/**
 * A failure of an mlsframe call: {@link #code()} is the C ABI's {@code mlsframe_result}
 * (see {@code include/mlsframe.h}), {@link #codeName()} its name.
 */
public final class MlsframeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Every failure code of {@code include/mlsframe.h}, with its name. The build
     * ({@code bindings/java/build_and_test.sh}) fails when the header has a code this
     * list lacks.
     */
    static final Object[][] CODES = {
        {100, "MLSFRAME_NULL_ARGUMENT"},
        {101, "MLSFRAME_INVALID_ARGUMENT"},
        {102, "MLSFRAME_BUFFER_TOO_SMALL"},
        {103, "MLSFRAME_INVALID_CONFIG"},
        {104, "MLSFRAME_UNSUPPORTED_CODEC"},
        {200, "MLSFRAME_NO_KEY"},
        {201, "MLSFRAME_AUTH_FAILED"},
        {202, "MLSFRAME_REPLAY"},
        {203, "MLSFRAME_MALFORMED"},
        {204, "MLSFRAME_UNKNOWN_SENDER"},
        {205, "MLSFRAME_SUPERSEDED"},
        {206, "MLSFRAME_TOO_MANY_STREAMS"},
        {207, "MLSFRAME_MALFORMED_LAYOUT"},
        {300, "MLSFRAME_NOT_MEMBER"},
        {301, "MLSFRAME_COUNTER_EXHAUSTED"},
        {302, "MLSFRAME_CONTEXT_IN_USE"},
        {303, "MLSFRAME_CONTEXT_TOO_LARGE"},
        {304, "MLSFRAME_UNKNOWN_SUITE"},
        {305, "MLSFRAME_DUPLICATE_KEY"},
        {306, "MLSFRAME_REKEY_REQUIRED"},
        {307, "MLSFRAME_NO_SEND_KEY"},
        {308, "MLSFRAME_START_CODE_EMULATION"},
        {309, "MLSFRAME_LAYOUT_TOO_LARGE"},
        {400, "MLSFRAME_MLS_MALFORMED"},
        {401, "MLSFRAME_MLS_UNEXPECTED_MESSAGE"},
        {402, "MLSFRAME_MLS_INVALID_KEY_PACKAGE"},
        {403, "MLSFRAME_MLS_INVALID_IDENTITY"},
        {404, "MLSFRAME_MLS_WRONG_GROUP"},
        {405, "MLSFRAME_MLS_WRONG_EPOCH"},
        {406, "MLSFRAME_MLS_REJECTED"},
        {407, "MLSFRAME_MLS_INVALID_WELCOME"},
        {408, "MLSFRAME_MLS_INVALID_PARAMS"},
        {409, "MLSFRAME_MLS_NO_GROUP"},
        {410, "MLSFRAME_MLS_ALREADY_IN_GROUP"},
        {411, "MLSFRAME_MLS_NOT_MEMBER"},
        {412, "MLSFRAME_MLS_TERMINATED"},
        {413, "MLSFRAME_MLS_COMMIT_PENDING"},
        {414, "MLSFRAME_MLS_NO_PENDING_COMMIT"},
        {415, "MLSFRAME_MLS_ADMISSION_REFUSED"},
        {416, "MLSFRAME_MLS_UNKNOWN_MEMBER"},
        {417, "MLSFRAME_MLS_DUPLICATE_MEMBER"},
        {418, "MLSFRAME_MLS_CANNOT_REMOVE_SELF"},
        {419, "MLSFRAME_MLS_WIRE_FORMAT"},
        {420, "MLSFRAME_MLS_DUPLICATE_PROPOSAL"},
        {421, "MLSFRAME_MLS_TOO_MANY_PROPOSALS"},
        {422, "MLSFRAME_MLS_MESSAGE_TOO_LARGE"},
        {423, "MLSFRAME_MLS_WELCOME_TOO_LARGE"},
        {424, "MLSFRAME_MLS_KEY_PACKAGE_TOO_LARGE"},
        {425, "MLSFRAME_MLS_GROUP_FULL"},
        {426, "MLSFRAME_MLS_MISSING_RATCHET_TREE"},
        {427, "MLSFRAME_MLS_INVALID_RATCHET_TREE"},
        {428, "MLSFRAME_MLS_UNSUPPORTED_CIPHERSUITE"},
        {429, "MLSFRAME_MLS_CIPHERSUITE_MISMATCH"},
        {430, "MLSFRAME_MLS_MISSING_CAPABILITY"},
        {431, "MLSFRAME_MLS_PARAMS_CHANGE_REFUSED"},
        {432, "MLSFRAME_MLS_UNSUPPORTED_PROPOSAL"},
        {433, "MLSFRAME_MLS_INVALID_GROUP_INFO"},
        {434, "MLSFRAME_MLS_GROUP_INFO_TOO_LARGE"},
        {435, "MLSFRAME_MLS_UNAUTHORIZED_EXTERNAL_SENDER"},
        {436, "MLSFRAME_MLS_FOREIGN_CREDENTIAL"},
        {437, "MLSFRAME_MLS_INVALID_SIGNING_KEY"},
        {438, "MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM"},
        {900, "MLSFRAME_PANIC"},
        {901, "MLSFRAME_INTERNAL"}
    };

    private final int code;

    /** Called by the JNI layer. */
    MlsframeException(int code) {
        super(nameOf(code) + " (" + code + ")");
        this.code = code;
    }

    /** The {@code mlsframe_result} value. */
    public int code() {
        return code;
    }

    /** The library's description of the code ({@code mlsframe_result_message}). */
    public String description() {
        return Mlsframe.resultMessage(code);
    }

    /** True for {@code MLSFRAME_NO_KEY}: the frame's epoch may still arrive (WebRTC {@code kRecoverable}). */
    public boolean isRecoverable() {
        return code == NO_KEY;
    }

    /** The {@code mlsframe_result} name, e.g. {@code MLSFRAME_AUTH_FAILED}. */
    public String codeName() {
        return nameOf(code);
    }

    static String nameOf(int code) {
        for (Object[] entry : CODES) {
            if ((Integer) entry[0] == code) {
                return (String) entry[1];
            }
        }
        return "MLSFRAME_UNKNOWN_CODE";
    }

    /** Every code of {@code include/mlsframe.h}, by value (a copy of {@link #CODES}'s numbers). */
    public static int[] allCodes() {
        int[] all = new int[CODES.length];
        for (int i = 0; i < CODES.length; i++) {
            all[i] = (Integer) CODES[i][0];
        }
        return all;
    }

    /** {@code MLSFRAME_NULL_ARGUMENT}: a null argument, or a closed handle. */
    public static final int NULL_ARGUMENT = 100;
    /** {@code MLSFRAME_INVALID_ARGUMENT}: out of range, overlapping, or a heap buffer on the frame path. */
    public static final int INVALID_ARGUMENT = 101;
    /** {@code MLSFRAME_BUFFER_TOO_SMALL}. */
    public static final int BUFFER_TOO_SMALL = 102;
    /** {@code MLSFRAME_INVALID_CONFIG}. */
    public static final int INVALID_CONFIG = 103;
    /** {@code MLSFRAME_UNSUPPORTED_CODEC}: not a {@code mlsframe_codec} value. */
    public static final int UNSUPPORTED_CODEC = 104;
    /** {@code MLSFRAME_NO_KEY}: recoverable, the frame's epoch has not arrived. */
    public static final int NO_KEY = 200;
    /** {@code MLSFRAME_AUTH_FAILED}: the frame's tag did not verify. */
    public static final int AUTH_FAILED = 201;
    /** {@code MLSFRAME_REPLAY}. */
    public static final int REPLAY = 202;
    /** {@code MLSFRAME_MALFORMED}. */
    public static final int MALFORMED = 203;
    /** {@code MLSFRAME_MALFORMED_LAYOUT}: a codec-aware frame's trailer or layout does not parse or fit the frame. */
    public static final int MALFORMED_LAYOUT = 207;
    /** {@code MLSFRAME_NOT_MEMBER}: nothing can be sealed. */
    public static final int NOT_MEMBER = 300;
    /** {@code MLSFRAME_CONTEXT_IN_USE}. */
    public static final int CONTEXT_IN_USE = 302;
    /** {@code MLSFRAME_UNKNOWN_SUITE}. */
    public static final int UNKNOWN_SUITE = 304;
    /** {@code MLSFRAME_REKEY_REQUIRED}: restored from a snapshot, self-update first. */
    public static final int REKEY_REQUIRED = 306;
    /** {@code MLSFRAME_NO_SEND_KEY}. */
    public static final int NO_SEND_KEY = 307;
    /** {@code MLSFRAME_MLS_MALFORMED}. */
    public static final int MLS_MALFORMED = 400;
    /** {@code MLSFRAME_MLS_INVALID_IDENTITY}. */
    public static final int MLS_INVALID_IDENTITY = 403;
    /** {@code MLSFRAME_MLS_NO_GROUP}. */
    public static final int MLS_NO_GROUP = 409;
    /** {@code MLSFRAME_MLS_NOT_MEMBER}. */
    public static final int MLS_NOT_MEMBER = 411;
    /** {@code MLSFRAME_MLS_NO_PENDING_COMMIT}. */
    public static final int MLS_NO_PENDING_COMMIT = 414;
    /** {@code MLSFRAME_MLS_ADMISSION_REFUSED}. */
    public static final int MLS_ADMISSION_REFUSED = 415;
    /** {@code MLSFRAME_MLS_UNKNOWN_MEMBER}. */
    public static final int MLS_UNKNOWN_MEMBER = 416;
    /** {@code MLSFRAME_MLS_CANNOT_REMOVE_SELF}. */
    public static final int MLS_CANNOT_REMOVE_SELF = 418;
    /** {@code MLSFRAME_MLS_INVALID_GROUP_INFO}. */
    public static final int MLS_INVALID_GROUP_INFO = 433;
    /** {@code MLSFRAME_MLS_UNSUPPORTED_SIGNATURE_ALGORITHM}. */
    public static final int MLS_UNSUPPORTED_SIGNATURE_ALGORITHM = 438;
    /** {@code MLSFRAME_INTERNAL}. */
    public static final int INTERNAL = 901;
}
