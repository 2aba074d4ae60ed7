//! Process-wide "soft stop in progress" flag: once set, HTTP responses
//! carry `Connection: close`, so keep-alive clients leave the old process
//! after their current request and reconnect to the new one, losing nothing.

use std::sync::atomic::{AtomicBool, Ordering};

static STOPPING: AtomicBool = AtomicBool::new(false);

pub fn set_stopping() {
    STOPPING.store(true, Ordering::Relaxed);
}

pub fn stopping() -> bool {
    STOPPING.load(Ordering::Relaxed)
}
