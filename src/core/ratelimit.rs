//! Warnings that traffic can repeat (a bad request, a 503 for want of a
//! server) are said at most once every ten seconds per place in the code,
//! with the count of those left out since: a flood of bad requests must not
//! become a flood on the terminal or the journal. See [`warn_limited!`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The least time between two messages from one place, in milliseconds.
const EVERY_MS: u64 = 10_000;

/// One place's gate: when it last let a message through, and how many it
/// held back since.
pub struct Gate {
    last: AtomicU64,
    held: AtomicU64,
}

impl Gate {
    pub const fn new() -> Gate {
        Gate {
            last: AtomicU64::new(0),
            held: AtomicU64::new(0),
        }
    }

    /// Some(messages held back since the last one) when this one may go.
    pub fn pass(&self) -> Option<u64> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < EVERY_MS {
            self.held.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if self
            .last
            .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            // Another thread let one through just now.
            self.held.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(self.held.swap(0, Ordering::Relaxed))
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}

/// `log::warn!`, at most once every ten seconds from this place; the next
/// one that goes says how many were held back.
#[macro_export]
macro_rules! warn_limited {
    ($($arg:tt)+) => {{
        static GATE: $crate::core::ratelimit::Gate = $crate::core::ratelimit::Gate::new();
        match GATE.pass() {
            Some(0) => log::warn!($($arg)+),
            Some(n) => log::warn!("{} ({n} more like it since the last one)", format_args!($($arg)+)),
            None => {}
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::Gate;

    #[test]
    fn one_message_then_silence_counted() {
        let g = Gate::new();
        assert_eq!(g.pass(), Some(0));
        assert_eq!(g.pass(), None);
        assert_eq!(g.pass(), None);
        assert_eq!(g.held.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}
