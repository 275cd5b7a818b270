//! The optional log callback. Messages are static descriptions of events (epoch changes,
//! failures by kind); they never contain key material, frame contents or identities.

use std::ffi::{CString, c_char, c_void};
use std::sync::RwLock;

/// Severity of a log message (the `level` argument of the log callback).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum mlsframe_log_level {
    /// Something failed.
    MLSFRAME_LOG_ERROR = 1,
    /// Something unusual.
    MLSFRAME_LOG_WARN = 2,
    /// A notable event (epoch change, session created).
    MLSFRAME_LOG_INFO = 3,
    /// Per-frame detail.
    MLSFRAME_LOG_DEBUG = 4,
}

/// Receives log lines: `(user_data, level, NUL-terminated message)`. Called on the thread
/// that caused the event; must be thread-safe and must not call back into the library.
pub type mlsframe_log_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, message: *const c_char)>;

struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, u32, *const c_char),
    user_data: usize,
    max_level: u32,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Installs (or, with a NULL callback, removes) the process-wide log callback; messages
/// above `max_level` (1 error … 4 debug) are not delivered.
#[unsafe(no_mangle)]
pub extern "C" fn mlsframe_set_log_callback(
    callback: mlsframe_log_callback,
    user_data: *mut c_void,
    max_level: u32,
) {
    let sink = callback.map(|callback| Sink {
        callback,
        user_data: user_data as usize,
        max_level,
    });
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = sink;
}

/// Delivers `message` to the callback, if one is installed and wants `level`.
pub(crate) fn emit(level: mlsframe_log_level, message: &str) {
    let guard = SINK.read().unwrap_or_else(|p| p.into_inner());
    if let Some(sink) = guard.as_ref()
        && level as u32 <= sink.max_level
        && let Ok(text) = CString::new(message)
    {
        // SAFETY: the callback and user data were installed together by the app, which
        // promised a thread-safe callback; `text` outlives the call.
        unsafe { (sink.callback)(sink.user_data as *mut c_void, level as u32, text.as_ptr()) };
    }
}
