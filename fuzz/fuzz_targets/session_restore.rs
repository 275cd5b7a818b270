//! Fuzzes snapshot parsing: arbitrary bytes given to `Session::restore` must be refused
//! with an error, never a panic.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mlsframe::mls::media::MediaConfig;
use mlsframe::mls::policy::AdmitAll;
use mlsframe::mls::session::Session;

fuzz_target!(|data: &[u8]| {
    let _ = Session::restore(data, Arc::new(AdmitAll), MediaConfig::default());
});
