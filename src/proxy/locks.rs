//! The one way to lock a process-wide mutex (stick tables, kept errors,
//! mailboxes, the listener list): counted, so that `show activity`'s
//! `process_locks` and a test can prove the data path takes none, and
//! ignoring poisoning (a thread that panicked while holding a lock leaves
//! plain data behind, still good to read).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Locks taken on process-wide mutexes since start.
static LOCKS: AtomicU64 = AtomicU64::new(0);

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    LOCKS.fetch_add(1, Ordering::Relaxed);
    lock_uncounted(m)
}

/// A thread's own slot (published counters and gauges): written by its
/// thread at the end of a loop turn, read by the stats; not counted.
pub fn lock_uncounted<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How many process-wide locks were taken so far.
pub fn taken() -> u64 {
    LOCKS.load(Ordering::Relaxed)
}
