package org.mlsframe;

/** What processing an MLS message did ({@code mlsframe_outcome_kind}). */
public enum OutcomeKind {
    /** Nothing (not returned by a successful call). */
    NONE,
    /** A commit was merged: a new epoch (ask encoders for a key frame). */
    EPOCH_CHANGED,
    /** A proposal was stored; a commit will apply it. */
    PROPOSALS_PENDING,
    /** We were removed: the session's encryptors stop. */
    REMOVED,
    /** A commit broke the admission policy: the session is terminated. */
    POLICY_VIOLATION,
    /** The message changed nothing (for example our own commit echoed). */
    IGNORED;

    static OutcomeKind of(long value) {
        OutcomeKind[] all = values();
        return value >= 0 && value < all.length ? all[(int) value] : NONE;
    }
}
