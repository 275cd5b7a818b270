//! Fuzzes the SFrame header parser on arbitrary bytes. Headers are strictly minimal on
//! receipt, so whatever `Header::decode` accepts must re-encode to exactly the bytes it
//! consumed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlsframe::sframe::{Header, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok((header, len)) = Header::decode(data) else {
        return;
    };
    assert!((1..=MAX_HEADER_LEN).contains(&len) && len <= data.len());
    assert_eq!(header.encoded_len(), len);
    let mut buf = [0u8; MAX_HEADER_LEN];
    let n = header
        .encode(&mut buf)
        .expect("MAX_HEADER_LEN fits every header");
    assert_eq!(
        &buf[..n],
        &data[..len],
        "decode accepted a non-canonical header"
    );
});
