//! The UP/DOWN logic of a [`Checker`], HAProxy's (src/check.c): the
//! health counter with `rise` and `fall`, states forced by the runtime API
//! or a state file, the check interval for each state, the `slowstart`
//! weight ramp and passive checks (`observe`, `on-error`).

use std::time::{Duration, Instant};

use super::{Checker, Health, Transition};
use crate::config::OnError;

impl Checker {
    /// `set server ... health up|down`: the state at once, as if `rise`
    /// checks had passed or `fall` had failed; the checks go on from there.
    pub fn force(&mut self, up: bool, reason: &str, now: Instant) -> Option<Transition> {
        let was = self.health();
        self.health = if up { self.max_health() } else { 0 };
        match (was, self.health()) {
            (Health::Down, Health::Up) => {
                self.changed(now);
                self.up_since = Some(now);
                Some(Transition::WentUp)
            }
            (Health::Up, Health::Down) => {
                self.changed(now);
                self.up_since = None;
                Some(Transition::WentDown {
                    reason: reason.to_string(),
                })
            }
            _ => None,
        }
    }

    /// Start DOWN (a state file said so before a reload): `rise` passing
    /// checks are needed before the server gets traffic again.
    pub fn set_down(&mut self, now: Instant) {
        self.health = 0;
        self.up_since = None;
        self.last_change = now;
    }

    pub fn health(&self) -> Health {
        if self.health >= self.cfg.rise {
            Health::Up
        } else {
            Health::Down
        }
    }

    /// HAProxy's health counter with `rise` and `fall`: UP from `rise` on,
    /// fully UP at `rise + fall - 1` (the stats show the steps between).
    pub fn counter(&self) -> (u32, u32, u32) {
        (self.health, self.cfg.rise, self.cfg.fall)
    }

    /// UP<->DOWN changes so far.
    pub fn transitions(&self) -> u32 {
        self.transitions
    }

    /// When the server last changed state (or the checker was created).
    pub fn last_change(&self) -> Instant {
        self.last_change
    }

    /// The delay before the next check: `inter` while fully UP, `downinter`
    /// while fully DOWN, `fastinter` in between (HAProxy's srv_getinter).
    pub fn interval(&self) -> Duration {
        if self.health == self.max_health() {
            self.cfg.inter
        } else if self.health == 0 {
            self.cfg.downinter
        } else {
            self.cfg.fastinter
        }
    }

    /// The weight to balance with now: 0 while DOWN; during `slowstart`
    /// after going UP, it grows linearly from 1 to `configured`.
    pub fn effective_weight(&self, configured: u32, now: Instant) -> u32 {
        if self.health() == Health::Down {
            return 0;
        }
        match (self.cfg.slowstart, self.up_since) {
            (Some(ss), Some(since)) if configured > 0 => {
                let elapsed = now.saturating_duration_since(since);
                if elapsed >= ss {
                    return configured;
                }
                let total = ss.as_millis().max(1);
                let w = (u128::from(configured) * elapsed.as_millis()).div_ceil(total);
                (w as u32).clamp(1, configured)
            }
            _ => configured,
        }
    }

    /// The weight is still ramping up (recompute it, say, every second).
    pub fn in_slowstart(&self, now: Instant) -> bool {
        match (self.cfg.slowstart, self.up_since) {
            (Some(ss), Some(since)) => self.health() == Health::Up && now < since + ss,
            _ => false,
        }
    }

    /// Passive check (`observe`): the engine reports each live connection
    /// (layer4: connect failure or timeout = error) or response (layer7:
    /// also 5xx or invalid = error). After `error-limit` consecutive errors,
    /// `on-error` applies and the next check comes within `fastinter`.
    pub fn report_live_result(&mut self, ok: bool, now: Instant) -> Option<Transition> {
        self.cfg.observe?;
        if ok {
            self.consecutive_errors = 0;
            return None;
        }
        self.consecutive_errors += 1;
        if self.consecutive_errors < self.cfg.error_limit {
            return None;
        }
        let reason = format!(
            "Health analyze, info: \"Detected {} consecutive errors\"",
            self.consecutive_errors
        );
        self.consecutive_errors = 0;
        let rise = self.cfg.rise;
        let before = self.health;
        let hana = super::Outcome::fail(reason.clone());
        let t = match self.cfg.on_error {
            OnError::FastInter => None,
            OnError::FailCheck => self.failure(reason, now),
            OnError::SuddenDeath => {
                // Leave one failure before DOWN, then count this one.
                if self.health > rise {
                    self.health = rise + 1;
                }
                self.failure(reason, now)
            }
            OnError::MarkDown => {
                self.health = self.health.min(rise);
                self.failure(reason, now)
            }
        };
        if self.cfg.on_error != OnError::FastInter {
            self.note_report(hana, before, None);
        }
        if !self.is_running() {
            self.next_check = self.next_check.min(now + self.cfg.fastinter);
        }
        t
    }

    fn max_health(&self) -> u32 {
        self.cfg.rise + self.cfg.fall - 1
    }

    /// HAProxy's check_notify_success.
    pub(super) fn success(&mut self, now: Instant) -> Option<Transition> {
        let was = self.health();
        if self.health < self.max_health() {
            self.health += 1;
        }
        if self.health >= self.cfg.rise {
            self.health = self.max_health();
        }
        (was == Health::Down && self.health() == Health::Up).then(|| {
            self.changed(now);
            self.up_since = Some(now);
            Transition::WentUp
        })
    }

    /// HAProxy's check_notify_failure.
    pub(super) fn failure(&mut self, reason: String, now: Instant) -> Option<Transition> {
        let was = self.health();
        if self.health > self.cfg.rise {
            self.health -= 1;
            return None;
        }
        self.health = 0;
        (was == Health::Up).then(|| {
            self.changed(now);
            self.up_since = None;
            Transition::WentDown { reason }
        })
    }

    fn changed(&mut self, now: Instant) {
        self.transitions += 1;
        self.last_change = now;
    }
}
