//! `FrameLock`: the lock the frame path takes once per frame, around state that one frame
//! at a time may change (a replay window, a C context's keys).
//!
//! Why not `std::sync::Mutex`: taking and releasing it costs two atomic read-modify-writes,
//! and on the 2-core AMD EPYC VMs the benches run on each costs about 10 ns (a std mutex's
//! lock and unlock together 24 ns, against 12 ns for this lock: `count time lock` in
//! `benches/backends`), near a tenth of a 100-byte frame's open. This lock takes one
//! read-modify-write to lock and a plain store to unlock (the `spin` crate's `SpinMutex`).
//!
//! A waiter never spins the CPU: it sleeps [`NAP`] between looks. A frame call holds the
//! lock for one AEAD (under 50 µs for 100 KiB here), so a waiter loses at most that plus a
//! nap, and only when two threads use the same state at once. Sleeping rather than yielding
//! also means a real-time waiter cannot keep a lower-priority holder off its core.

use std::time::Duration;

use spin::RelaxStrategy;

/// How long a waiter sleeps before it looks at the lock again.
pub(crate) const NAP: Duration = Duration::from_micros(10);

/// The relax strategy of [`FrameLock`]: sleep for [`NAP`].
pub(crate) struct Nap;

impl RelaxStrategy for Nap {
    #[inline(never)]
    #[cold]
    fn relax() {
        std::thread::sleep(NAP);
    }
}

/// A lock taken once per frame (see the module docs). Never poisoned: a panic while it is
/// held (none is known) releases it, and its holders change their state in single
/// assignments.
pub(crate) type FrameLock<T> = spin::mutex::SpinMutex<T, Nap>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_that_contend_lose_no_update() {
        let counter = Arc::new(FrameLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        let mut n = counter.lock();
                        // A read, a pause and a write: a second holder would lose updates.
                        let seen = *n;
                        std::hint::spin_loop();
                        *n = seen + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("no thread panics");
        }
        assert_eq!(*counter.lock(), 8_000);
    }

    #[test]
    fn a_panic_while_held_releases_the_lock() {
        let lock = Arc::new(FrameLock::new(1u8));
        let held = Arc::clone(&lock);
        let result = std::thread::spawn(move || {
            let _guard = held.lock();
            panic!("while holding the lock");
        })
        .join();
        assert!(result.is_err());
        assert_eq!(
            *lock.try_lock().expect("released by the unwinding guard"),
            1
        );
    }
}
