package org.mlsframe;

/** The result of {@link Session#process}: what happened and the epoch after it. */
public record Outcome(OutcomeKind kind, long epoch, int added, int removed) {}
