//! Heap memory of one member of a 1,000-member group, mlsframe's [`Session`] next to the
//! same member written directly against openmls (`benches/common/stacks.rs`), measured by
//! a counting global allocator in this process (not RSS: bytes asked of the allocator).
//!
//! For each stack, four figures (bytes): the creator's peak while it creates the group
//! and adds 999 members, and what it still holds afterwards; a joiner's peak while it
//! joins from that welcome, and what it holds afterwards. Each peak is counted from the
//! heap in use just before the operation (the other members' key packages and the welcome
//! are the bench's, not the member's).
//!
//! `cargo bench --bench memory` prints them and writes `target/criterion/memory.json`
//! (`$CARGO_TARGET_DIR` when set), which `scripts/bench-report.py` reads. With `--test`
//! (as `.ci/run` runs every bench), or under `cargo test`, the group has 20 members and
//! nothing is written.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

#[path = "common/stacks.rs"]
mod stacks;
use stacks::{Mlsframe, Openmls, Stack, key_packages};

/// The system allocator, counting bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let now = IN_USE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` with the caller's arguments unchanged; the
// counters only observe sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f`; returns its result, the peak heap above the starting level while it ran, and
/// the heap it left allocated (what it returned included).
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let before = IN_USE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let after = IN_USE.load(Ordering::Relaxed).saturating_sub(before);
    (out, peak, after)
}

/// (creator peak, creator held, joiner peak, joiner held) in bytes.
fn member_memory<S: Stack>(n: usize) -> [usize; 4] {
    let kps = key_packages::<S>("member", n - 2);
    let mut joiner = S::member("joiner");
    let mut all = vec![S::key_package(&joiner)];
    all.extend(kps);
    let mut creator = S::member("creator");
    let held_before = IN_USE.load(Ordering::Relaxed);
    let (welcome, creator_peak, _) = measure(|| S::create_add(&mut creator, &all));
    // What the creator holds: the heap now, less the welcome it returned.
    let creator_held = IN_USE
        .load(Ordering::Relaxed)
        .saturating_sub(held_before + welcome.capacity());
    drop(all);
    let ((), joiner_peak, joiner_held) = measure(|| S::join(&mut joiner, &welcome));
    std::hint::black_box((&creator, &joiner));
    [creator_peak, creator_held, joiner_peak, joiner_held]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` passes nothing (a debug
    // build): both that and `-- --test` get the small group and write nothing.
    let test = !std::env::args().any(|a| a == "--bench") || std::env::args().any(|a| a == "--test");
    let n = if test { 20 } else { 1000 };
    let names = ["creator_peak", "creator_held", "joiner_peak", "joiner_held"];
    let mut json = format!(
        "{{\n  \"members\": {n},\n  \"method\": \"counting global allocator (heap bytes requested, not RSS)\""
    );
    for (stack, figures) in [
        (Mlsframe::NAME, member_memory::<Mlsframe>(n)),
        (Openmls::NAME, member_memory::<Openmls>(n)),
    ] {
        json.push_str(&format!(",\n  \"{stack}\": {{"));
        for (i, (name, bytes)) in names.iter().zip(figures).enumerate() {
            println!("memory/{stack}/{n}/{name}: {bytes} bytes");
            let sep = if i == 0 { "" } else { "," };
            json.push_str(&format!("{sep}\n    \"{name}\": {bytes}"));
        }
        json.push_str("\n  }");
    }
    json.push_str("\n}\n");
    if test {
        return;
    }
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let path = std::path::Path::new(&dir).join("criterion");
    std::fs::create_dir_all(&path).expect("target/criterion");
    std::fs::write(path.join("memory.json"), json).expect("writes memory.json");
}
