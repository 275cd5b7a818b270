//! MLS half: group key agreement over `openmls`, driving SFrame epoch keys.
//!
//! Arrows run one way: `session` (group operations, incoming messages, persistence) emits
//! `epoch_event`s; `media` (key ring, encryptor, decryptor, held frames) consumes them.
#![forbid(unsafe_code)]

pub mod credential;
pub(crate) mod epoch_event;
pub mod error;
pub mod identity;
pub mod media;
pub mod policy;
pub mod session;
