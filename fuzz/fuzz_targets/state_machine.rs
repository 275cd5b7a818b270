//! Fuzzes the group state machine: random operations on one MLS group (adds, rejoins,
//! removals, leaves, self-updates, racing and discarded commits, refused adds,
//! snapshot/restore, sealing and opening frames, the clock), checked after every step by
//! the reference model in `tests/model/mod.rs`, shared with `tests/state_machine.rs`. A
//! violated invariant panics.
//!
//! Compact input, so that short inputs already run long sequences: the first byte chooses
//! the group's parameters and every further byte one operation. The byte picks the kind of
//! operation; its arguments are derived from the byte and its position.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/model/mod.rs"]
#[allow(dead_code)]
mod model;

/// Operations per input at most, so that one input stays fast.
const MAX_OPS: usize = 256;

/// Four operation bytes from one input byte: the byte itself (the kind) and three argument
/// bytes mixed from it and its position (splitmix64).
fn expand(position: usize, byte: u8) -> [u8; 4] {
    let mut x = ((position as u64) << 8 | u64::from(byte)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    let [a, b, c, ..] = x.to_le_bytes();
    [byte, a, b, c]
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, ops)) = data.split_first() else {
        return;
    };
    let config = model::Config::from_bytes(expand(usize::MAX >> 8, config));
    let ops: Vec<model::Op> = ops
        .iter()
        .take(MAX_OPS)
        .enumerate()
        .map(|(i, &b)| model::Op::from_bytes(expand(i, b)))
        .collect();
    model::World::run(config, &ops);
});
