package org.mlsframe;

/**
 * Session options ({@code mlsframe_session_config}); 0 means the default of each value
 * (see {@code include/mlsframe.h}). {@code admission} (null: admit everyone) is asked
 * about every new member on the thread driving the session.
 *
 * @param retentionMs how long a superseded epoch still opens frames (0: 10000)
 * @param removalRetentionMs the same after a removal (0: 1000)
 * @param sendSwitchDelayMs how long encryptors keep the old epoch after a merge (0..5000)
 * @param replayWindow counters per sender stream (0: 128; at most 65536)
 * @param admission the admission policy, or null
 */
public record SessionConfig(int retentionMs, int removalRetentionMs, int sendSwitchDelayMs, int replayWindow,
        AdmissionPolicy admission) {
    /** The defaults, admitting everyone. */
    public static final SessionConfig DEFAULTS = new SessionConfig(0, 0, 0, 0, null);

    /** These options with another admission policy. */
    public SessionConfig withAdmission(AdmissionPolicy policy) {
        return new SessionConfig(retentionMs, removalRetentionMs, sendSwitchDelayMs, replayWindow, policy);
    }

    int[] values() {
        return new int[] {retentionMs, removalRetentionMs, sendSwitchDelayMs, replayWindow};
    }
}
