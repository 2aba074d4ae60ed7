//! Timers in an ordered map keyed by deadline: arming, cancelling and finding
//! the expired ones cost O(log n), never a scan of all sessions.

use std::collections::BTreeMap;
use std::time::Instant;

/// Handle to cancel an armed timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerKey(Instant, u64);

#[derive(Default)]
pub struct Timers {
    map: BTreeMap<TimerKey, usize>,
    seq: u64,
}

impl Timers {
    /// Arm a timer that yields `owner` once `at` has passed.
    pub fn add(&mut self, at: Instant, owner: usize) -> TimerKey {
        self.seq += 1;
        let key = TimerKey(at, self.seq);
        self.map.insert(key, owner);
        key
    }
    pub fn cancel(&mut self, key: TimerKey) {
        self.map.remove(&key);
    }
    /// Earliest deadline, to bound the poller's wait.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.map.keys().next().map(|k| k.0)
    }
    /// Remove and return the owner of the earliest timer due at `now`.
    pub fn pop_expired(&mut self, now: Instant) -> Option<usize> {
        let (&key, _) = self.map.iter().next()?;
        if key.0 > now {
            return None;
        }
        self.map.remove(&key)
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timers_expire_in_deadline_order_and_cancel_works() {
        let mut t = Timers::default();
        let now = Instant::now();
        let k3 = t.add(now + Duration::from_millis(3), 3);
        t.add(now + Duration::from_millis(1), 1);
        t.add(now + Duration::from_millis(2), 2);
        t.cancel(k3);
        assert_eq!(t.next_deadline(), Some(now + Duration::from_millis(1)));
        let later = now + Duration::from_millis(10);
        assert_eq!(t.pop_expired(later), Some(1));
        assert_eq!(t.pop_expired(later), Some(2));
        assert_eq!(t.pop_expired(later), None);
        assert!(t.is_empty());
    }

    #[test]
    fn future_timer_is_not_expired() {
        let mut t = Timers::default();
        let now = Instant::now();
        t.add(now + Duration::from_secs(5), 7);
        assert_eq!(t.pop_expired(now), None);
        assert_eq!(t.len(), 1);
    }
}
