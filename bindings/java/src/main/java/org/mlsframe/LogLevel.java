package org.mlsframe;

/** Severity of a log message ({@code mlsframe_log_level}). */
public enum LogLevel {
    /** Something failed. */
    ERROR,
    /** Something unusual. */
    WARN,
    /** A notable event (epoch change, session created). */
    INFO,
    /** Per-frame detail. */
    DEBUG;

    /** The C value (1..=4). */
    int code() {
        return ordinal() + 1;
    }

    static LogLevel of(int code) {
        LogLevel[] all = values();
        return code >= 1 && code <= all.length ? all[code - 1] : DEBUG;
    }
}
