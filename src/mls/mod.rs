//! MLS half: group key agreement over `openmls`, driving SFrame epoch keys.
#![forbid(unsafe_code)]

pub mod error;
pub mod identity;
pub mod media;
pub mod policy;
pub mod session;
