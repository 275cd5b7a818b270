package org.mlsframe;

/**
 * Receives mlsframe's log lines ({@code mlsframe_log_callback}): static descriptions of
 * events, never key material or identities. Called on the thread that caused the event;
 * must be thread-safe and must not call into mlsframe (such calls throw
 * {@link IllegalStateException}). If it throws, the mlsframe call that logged rethrows the
 * exception (on a thread outside any mlsframe call, it is printed and dropped).
 */
@FunctionalInterface
public interface LogCallback {
    /** One log line. */
    void log(LogLevel level, String message);
}
