//! Rust errors to JavaScript `Error`s carrying the C ABI's result code, so a web client
//! and a native one see the same codes for the same failure.

use mlsframe::ffi::mlsframe_result;
use wasm_bindgen::JsValue;

/// A JS `Error` with `name` = the code's name and `code` = its number; `message` is the
/// Rust error's text (which never carries key material).
pub(crate) fn js_error(code: mlsframe_result, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(&format!("{code:?}"));
    // Setting a data property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &(code as u32).into());
    error.into()
}

/// Maps any error with a C code.
pub(crate) fn to_js<E>(error: E) -> JsValue
where
    E: Into<mlsframe_result> + std::fmt::Display,
{
    let message = error.to_string();
    js_error(error.into(), &message)
}
