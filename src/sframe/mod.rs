//! SFrame (RFC 9605): per-frame end-to-end encryption of real-time media, usable alone with
//! app-managed keys or keyed from MLS by [`crate::mls`].
//!
//! - [`Header`]: the wire header codec.
//! - [`CipherSuite`]: the five RFC 9605 suites.
//! - [`SendKey`]: encrypt-only key with an atomic counter.
//! - [`Receiver`]: decrypt-only keys by KID, each with a [`ReplayWindow`].
//! - [`RatchetingSender`] / [`ReceiverConfig::ratchet`]: the §5.1 sender-key ratchet.
#![forbid(unsafe_code)]

mod backend;
mod error;
mod frame_lock;
mod header;
mod key;
mod ratchet;
mod receive;
mod replay;
mod send;
mod suite;

pub use backend::AEAD_BACKEND;
pub use error::{MalformedReason, SframeError};
pub(crate) use frame_lock::FrameLock;
pub use header::{Header, MAX_HEADER_LEN};
pub use key::{AeadKey, FrameKey, derive_key_and_salt, max_frame_len};
pub(crate) use key::{FrameInput, SframeSecret};
pub use ratchet::{RatchetBits, RatchetingSender, ratchet_base_key};
pub use receive::{Opened, Receiver, ReceiverConfig, max_plaintext_len};
pub use replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW, ReplayWindow};
pub use send::SendKey;
pub use suite::{CipherSuite, MAX_TAG_LEN};
