//! mlsframe for the browser: the MLS [`Session`], its media [`Encryptor`] and
//! [`Decryptor`], and the standalone [`SframeContext`], exported to JavaScript with
//! wasm-bindgen. `build.sh` turns this crate into the ES module package in `pkg/`; the
//! transform worker in `js/` drives it from WebRTC Encoded Transform.
//!
//! Errors are JavaScript `Error`s whose `name` is the C ABI's code name (for example
//! `MLSFRAME_NO_KEY`) and whose `code` is its number, so every code documented in
//! `include/mlsframe.h` means the same here. A frame is copied once into wasm memory
//! (a scratch buffer per object, grown to the largest frame) and the result once out into a
//! new `Uint8Array`; nothing else is allocated in wasm memory per frame, whole-frame or
//! codec-aware.
#![forbid(unsafe_code)]

mod error;
mod frame;
mod session;

pub use frame::{Decryptor, Encryptor, SframeContext};
pub use session::{Commit, Session, SessionOutcome};
