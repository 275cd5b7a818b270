package org.mlsframe;

/** Process-wide calls: the log callback and the description of result codes. */
public final class Mlsframe {
    private Mlsframe() {}

    /** Adapts a {@link LogCallback} to what the JNI layer calls: {@code log(int, String)}. */
    private static final class Sink {
        private final LogCallback callback;

        Sink(LogCallback callback) {
            this.callback = callback;
        }

        @SuppressWarnings("unused") // called from native code
        void log(int level, String message) {
            callback.log(LogLevel.of(level), message);
        }
    }

    /**
     * Installs the process-wide log callback ({@code mlsframe_set_log_callback}) for
     * messages up to {@code maxLevel}; null removes it.
     */
    public static void setLogCallback(LogCallback callback, LogLevel maxLevel) {
        Native.setLogCallback(callback == null ? null : new Sink(callback),
                maxLevel == null ? LogLevel.DEBUG.code() : maxLevel.code());
    }

    /** The library's English description of a result code ({@code mlsframe_result_message}). */
    public static String resultMessage(int code) {
        return Native.resultMessage(code);
    }
}
