//! Health checks as a sans-IO state machine: one [`Checker`] per server with
//! `check`. The engine does the I/O in its event loop and feeds the results
//! back; the checker says what to do next with an [`Action`].
//!
//! One attempt:
//!
//! ```text
//! next_deadline() reached while idle -> start(now)
//!   Connect(addr)  -> open a TCP connection, then on_connected / on_error
//!   Send(bytes)    -> write them all, then on_sent / on_error
//!   Expect         -> read, then on_data / on_eof / on_error
//!   Done(outcome)  -> close the connection, then finish(outcome, now)
//! next_deadline() reached while running -> on_timeout(now)
//! ```
//!
//! A `Connect` while a connection is open (a `tcp-check connect` rule after
//! another) closes the old one first.
//!
//! The UP/DOWN logic is HAProxy's (src/check.c): a health counter from 0 to
//! `rise + fall - 1`; UP while it is at least `rise`. A server starts UP at
//! `rise`, so its first failed check takes it DOWN (HAProxy's default
//! `init-state up`); once fully UP it takes `fall` failures.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::config::{
    CheckKind, HealthConfig, HttpCheck, HttpExpect, HttpMatch, OnError, ServerCheck, TcpCheckStep,
    TcpMatch, Timeouts,
};
use crate::http::parser::HeadParser;

/// The most response bytes a check keeps (HAProxy's check buffer).
pub const CHECK_BUFSIZE: usize = 16384;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Up,
    Down,
}

/// What the engine does next for this check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Connect to this address (closing any open check connection).
    Connect(SocketAddr),
    /// Write these bytes, then call `on_sent`.
    Send(Vec<u8>),
    /// Read, then call `on_data`, `on_eof` or `on_error`.
    Expect,
    /// The attempt is over: close, then call `finish` with the outcome.
    Done(Outcome),
}

/// The result of one attempt, with HAProxy's check status words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// For example `Layer4 connection problem, info: "Connection refused"`
    /// or `Layer7 wrong status, code: 503, info: "Service Unavailable"`.
    pub reason: String,
}

impl Outcome {
    fn pass(reason: impl Into<String>) -> Outcome {
        Outcome {
            ok: true,
            reason: reason.into(),
        }
    }
    fn fail(reason: impl Into<String>) -> Outcome {
        Outcome {
            ok: false,
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    WentDown { reason: String },
    WentUp,
}

/// How the first check of each server is placed (HAProxy spreads the
/// servers' first checks over the first interval: server `slot` of `slots`
/// starts at `inter * slot / slots`), and the random variation of every
/// interval (`spread-checks`, a percentage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub slot: u32,
    pub slots: u32,
    /// `spread-checks`, 0..=50.
    pub percent: u32,
    /// Seeds this checker's random numbers.
    pub seed: u64,
}

impl Default for Spread {
    fn default() -> Self {
        Spread {
            slot: 0,
            slots: 1,
            percent: 0,
            seed: 0,
        }
    }
}

/// An attempt's steps; every check kind is a script of these.
#[derive(Debug, Clone)]
enum Step {
    /// Connect to the check address: the server's (or `addr`), on this
    /// port (None: the server's port, or `port`). Resolved when the step
    /// runs, so `set server ... addr` moves the checks along.
    Connect(Option<u16>),
    Send(Vec<u8>),
    Expect {
        negate: bool,
        what: TcpMatch,
    },
    /// Read an HTTP response and judge it by `http-check expect`.
    ExpectHttp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Connecting,
    Sending,
    Receiving,
    /// `Done` was returned; waiting for `finish`.
    Finishing,
}

/// Evaluation of the bytes received for the current step.
enum Eval {
    Wait,
    Pass(Option<String>),
    Fail(String),
}

pub struct Checker {
    /// The server's address, which checks go to unless `addr`/`port` say.
    server_addr: SocketAddr,
    cfg: ServerCheck,
    steps: Vec<Step>,
    expect: Option<HttpExpect>,
    /// A `tcp-check` script: failures name the rule.
    script: bool,
    /// Index of the first user rule in `steps` (1 with an implicit connect).
    first_rule: usize,
    timeout_check: Option<Duration>,
    connect_timeout: Duration,
    /// HAProxy's health counter, 0..=rise+fall-1.
    health: u32,
    transitions: u32,
    last_change: Instant,
    /// When the server last went UP, for `slowstart`.
    up_since: Option<Instant>,
    consecutive_errors: u32,
    phase: Phase,
    step: usize,
    rx: Vec<u8>,
    eof: bool,
    /// Why the attempt passed, from the last layer-7 step.
    pass_reason: Option<String>,
    next_check: Instant,
    /// End of the current attempt (or of its connect phase).
    deadline: Instant,
    spread_percent: u32,
    rng: u64,
}

impl Checker {
    /// `timeouts`: the backend's (`timeout check` and `timeout connect`).
    pub fn new(
        cfg: &ServerCheck,
        health: &HealthConfig,
        timeouts: &Timeouts,
        server_addr: SocketAddr,
        now: Instant,
        spread: Spread,
    ) -> Checker {
        let mut steps = vec![Step::Connect(None)];
        let mut first_rule = 0;
        match &health.kind {
            CheckKind::Tcp => {}
            CheckKind::Http(http) => {
                steps.push(Step::Send(http_request(http)));
                steps.push(Step::ExpectHttp);
            }
            CheckKind::TcpScript(rules) => {
                if matches!(rules.first(), Some(TcpCheckStep::Connect { .. })) {
                    steps.clear();
                } else {
                    first_rule = 1;
                }
                steps.extend(rules.iter().map(|r| match r {
                    TcpCheckStep::Connect { port } => Step::Connect(*port),
                    TcpCheckStep::Send(b) => Step::Send(b.clone()),
                    TcpCheckStep::Expect { negate, what } => Step::Expect {
                        negate: *negate,
                        what: what.clone(),
                    },
                }));
            }
        }
        let mut c = Checker {
            server_addr,
            cfg: cfg.clone(),
            steps,
            expect: health.expect.clone(),
            script: matches!(health.kind, CheckKind::TcpScript(_)),
            first_rule,
            timeout_check: timeouts.check,
            connect_timeout: timeouts.connect.map_or(cfg.inter, |t| t.min(cfg.inter)),
            health: cfg.rise,
            transitions: 0,
            last_change: now,
            up_since: None,
            consecutive_errors: 0,
            phase: Phase::Idle,
            step: 0,
            rx: Vec::new(),
            eof: false,
            pass_reason: None,
            next_check: now,
            deadline: now,
            spread_percent: spread.percent.min(50),
            rng: spread.seed,
        };
        let slots = u64::from(spread.slots.max(1));
        let slot = u64::from(spread.slot) % slots;
        let offset = ms(c.cfg.inter) * slot / slots;
        let jitter = c.jitter(c.cfg.inter);
        c.next_check = now + Duration::from_millis(offset.saturating_add_signed(jitter));
        c
    }

    /// The server moved (`set server ... addr`): checks follow, except
    /// what `addr`/`port` options pin.
    pub fn set_server_addr(&mut self, addr: SocketAddr) {
        self.server_addr = addr;
    }

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

    /// Forget any attempt in flight; the next starts at `now` (checks
    /// enabled again after `disable health`).
    pub fn reset_attempt(&mut self, now: Instant) {
        self.phase = Phase::Idle;
        self.step = 0;
        self.rx.clear();
        self.eof = false;
        self.next_check = now;
    }

    /// Start DOWN (a state file said so before a reload): `rise` passing
    /// checks are needed before the server gets traffic again.
    pub fn set_down(&mut self, now: Instant) {
        self.health = 0;
        self.up_since = None;
        self.last_change = now;
    }

    /// When to call `start` (idle) or `on_timeout` (an attempt is running).
    pub fn next_deadline(&self) -> Instant {
        match self.phase {
            Phase::Idle | Phase::Finishing => self.next_check,
            _ => self.deadline,
        }
    }

    /// An attempt is in progress (its deadline is a timeout).
    pub fn is_running(&self) -> bool {
        !matches!(self.phase, Phase::Idle | Phase::Finishing)
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

    /// Begins an attempt (aborting any running one).
    pub fn start(&mut self, now: Instant) -> Action {
        self.step = 0;
        self.rx.clear();
        self.eof = false;
        self.pass_reason = None;
        self.deadline = now + self.cfg.inter;
        self.run(now)
    }

    pub fn on_connected(&mut self, now: Instant) -> Action {
        if self.phase != Phase::Connecting {
            return self.out_of_phase("on_connected");
        }
        if let Some(t) = self.timeout_check {
            self.deadline = now + t;
        }
        self.step += 1;
        self.run(now)
    }

    /// Every byte of the last `Send` is written.
    pub fn on_sent(&mut self, now: Instant) -> Action {
        if self.phase != Phase::Sending {
            return self.out_of_phase("on_sent");
        }
        self.step += 1;
        self.run(now)
    }

    /// Bytes read after an `Expect` (beyond [`CHECK_BUFSIZE`] they are dropped
    /// and the response is judged as it is).
    pub fn on_data(&mut self, bytes: &[u8], now: Instant) -> Action {
        let room = CHECK_BUFSIZE - self.rx.len();
        self.rx.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if self.phase != Phase::Receiving {
            return self.out_of_phase("on_data");
        }
        self.run(now)
    }

    /// The server closed its side.
    pub fn on_eof(&mut self, now: Instant) -> Action {
        self.eof = true;
        match self.phase {
            Phase::Receiving => self.run(now),
            Phase::Connecting | Phase::Sending => {
                let why = format!("Connection closed by server{}", self.at_step());
                self.done(Outcome::fail(format!(
                    "Layer4 connection problem, info: \"{why}\""
                )))
            }
            _ => self.out_of_phase("on_eof"),
        }
    }

    /// A socket error (`err` is its text, for example "Connection refused").
    pub fn on_error(&mut self, err: &str, _now: Instant) -> Action {
        let why = format!("{err}{}", self.at_step());
        self.done(Outcome::fail(format!(
            "Layer4 connection problem, info: \"{why}\""
        )))
    }

    /// The deadline of a running attempt passed.
    pub fn on_timeout(&mut self, _now: Instant) -> Action {
        let layer = match self.phase {
            Phase::Receiving => "Layer7",
            _ => "Layer4",
        };
        let at = self.at_step();
        if at.is_empty() {
            self.done(Outcome::fail(format!("{layer} timeout")))
        } else {
            self.done(Outcome::fail(format!(
                "{layer} timeout, info: \"{}\"",
                &at[1..]
            )))
        }
    }

    /// Applies the outcome of an attempt and schedules the next one.
    pub fn finish(&mut self, outcome: Outcome, now: Instant) -> Option<Transition> {
        self.phase = Phase::Idle;
        self.rx = Vec::new();
        let t = if outcome.ok {
            self.success(now)
        } else {
            self.failure(outcome.reason, now)
        };
        let inter = self.interval();
        let jitter = self.jitter(inter);
        self.next_check = now + Duration::from_millis(ms(inter).saturating_add_signed(jitter));
        t
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
        if !self.is_running() {
            self.next_check = self.next_check.min(now + self.cfg.fastinter);
        }
        t
    }

    fn max_health(&self) -> u32 {
        self.cfg.rise + self.cfg.fall - 1
    }

    /// HAProxy's check_notify_success.
    fn success(&mut self, now: Instant) -> Option<Transition> {
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
    fn failure(&mut self, reason: String, now: Instant) -> Option<Transition> {
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

    /// Runs steps from `self.step` until one needs the engine.
    fn run(&mut self, now: Instant) -> Action {
        loop {
            let Some(step) = self.steps.get(self.step) else {
                let reason = match self.pass_reason.take() {
                    Some(r) => r,
                    None if self.has_layer7() => "Layer7 check passed".to_string(),
                    None => "Layer4 check passed".to_string(),
                };
                return self.done(Outcome::pass(reason));
            };
            match step {
                Step::Connect(port) => {
                    let ip = self.cfg.addr.unwrap_or(self.server_addr.ip());
                    let default = self.cfg.port.unwrap_or(self.server_addr.port());
                    let addr = SocketAddr::new(ip, port.unwrap_or(default));
                    self.phase = Phase::Connecting;
                    self.rx.clear();
                    self.eof = false;
                    if self.timeout_check.is_some() {
                        self.deadline = now + self.connect_timeout;
                    }
                    return Action::Connect(addr);
                }
                Step::Send(bytes) => {
                    self.phase = Phase::Sending;
                    // A new request: what follows answers it.
                    self.rx.clear();
                    return Action::Send(bytes.clone());
                }
                Step::Expect { .. } | Step::ExpectHttp => {
                    self.phase = Phase::Receiving;
                    match self.eval() {
                        Eval::Wait => return Action::Expect,
                        Eval::Pass(reason) => {
                            if reason.is_some() {
                                self.pass_reason = reason;
                            }
                            self.step += 1;
                        }
                        Eval::Fail(reason) => return self.done(Outcome::fail(reason)),
                    }
                }
            }
        }
    }

    fn done(&mut self, outcome: Outcome) -> Action {
        self.phase = Phase::Finishing;
        Action::Done(outcome)
    }

    /// The engine called back at the wrong time: end the attempt rather
    /// than guess.
    fn out_of_phase(&mut self, what: &str) -> Action {
        let phase = self.phase;
        self.done(Outcome::fail(format!(
            "Layer4 connection problem, info: \"{what} while {phase:?}\""
        )))
    }

    fn has_layer7(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s, Step::Expect { .. } | Step::ExpectHttp))
    }

    /// " at step N of tcp-check" for scripts, "" otherwise.
    fn at_step(&self) -> String {
        if !self.script {
            String::new()
        } else if self.step < self.first_rule {
            " at initial connection step of tcp-check".to_string()
        } else {
            format!(" at step {} of tcp-check", self.step + 1 - self.first_rule)
        }
    }

    fn eval(&mut self) -> Eval {
        let full = self.rx.len() >= CHECK_BUFSIZE;
        let last = self.eof || full;
        match &self.steps[self.step] {
            Step::Expect { negate, what } => {
                let matched = match what {
                    TcpMatch::Bytes(b) => find(&self.rx, b),
                    TcpMatch::Rstring(re) => re.0.is_match(&String::from_utf8_lossy(&self.rx)),
                };
                // HAProxy: on a mismatch, wait for more unless nothing more comes.
                if !matched && !last {
                    return Eval::Wait;
                }
                if matched != *negate {
                    return Eval::Pass(None);
                }
                let pattern = match what {
                    TcpMatch::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    TcpMatch::Rstring(re) => re.0.as_str().to_string(),
                };
                let verb = if *negate {
                    "matched unwanted content"
                } else {
                    "did not match content"
                };
                Eval::Fail(format!(
                    "Layer7 invalid response, info: \"TCPCHK {verb} '{pattern}'{}\"",
                    self.at_step()
                ))
            }
            _ => eval_http(&self.rx, last, self.expect.as_ref()),
        }
    }

    /// A random variation of `inter` in ±`spread-checks`%, in milliseconds.
    fn jitter(&mut self, inter: Duration) -> i64 {
        if self.spread_percent == 0 {
            return 0;
        }
        let range = ms(inter) * u64::from(self.spread_percent) / 100;
        let r = splitmix64(&mut self.rng) % (2 * range + 1);
        r as i64 - range as i64
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// The check request: `METHOD URI VERSION`, the `http-check send` headers,
/// and `Connection: close` unless a header already says otherwise.
fn http_request(h: &HttpCheck) -> Vec<u8> {
    let mut req = format!("{} {} {}\r\n", h.method, h.uri, h.version);
    for (name, value) in &h.headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if !req.to_ascii_lowercase().contains("\nconnection:") {
        req.push_str("Connection: close\r\n");
    }
    req.push_str("\r\n");
    req.into_bytes()
}

/// Judges an HTTP response; `last`: no more bytes will come.
fn eval_http(rx: &[u8], last: bool, expect: Option<&HttpExpect>) -> Eval {
    let head = match HeadParser::new(CHECK_BUFSIZE).parse_response(rx) {
        Err(e) => return Eval::Fail(format!("Layer7 invalid response, info: \"{}\"", e.reason)),
        Ok(None) if last && rx.is_empty() => {
            return Eval::Fail("Layer7 invalid response, info: \"empty response\"".into())
        }
        Ok(None) if last => {
            return Eval::Fail("Layer7 invalid response, info: \"incomplete response\"".into())
        }
        Ok(None) => return Eval::Wait,
        Ok(Some(head)) => head,
    };
    let status = head.status;
    let info = String::from_utf8_lossy(head.reason.get(rx)).into_owned();
    let passed = format!("Layer7 check passed, code: {status}, info: \"{info}\"");
    let wrong = format!("Layer7 wrong status, code: {status}, info: \"{info}\"");
    let Some(expect) = expect else {
        // HAProxy's default: 2xx and 3xx pass.
        return if (200..400).contains(&status) {
            Eval::Pass(Some(passed))
        } else {
            Eval::Fail(wrong)
        };
    };
    let on_status = |matched: bool| {
        if matched != expect.negate {
            Eval::Pass(Some(passed.clone()))
        } else {
            Eval::Fail(wrong.clone())
        }
    };
    let body = match &expect.what {
        HttpMatch::Status(ranges) => {
            return on_status(ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&status)))
        }
        HttpMatch::Rstatus(re) => return on_status(re.0.is_match(&status.to_string())),
        HttpMatch::String(_) | HttpMatch::Rstring(_) => &rx[head.len..],
    };
    let length = head.headers.iter().find_map(|h| {
        h.name
            .get(rx)
            .eq_ignore_ascii_case(b"content-length")
            .then(|| {
                std::str::from_utf8(h.value.get(rx))
                    .ok()?
                    .parse::<usize>()
                    .ok()
            })
            .flatten()
    });
    let body = match length {
        Some(n) if body.len() >= n => &body[..n],
        _ if last => body,
        _ => return Eval::Wait,
    };
    let matched = match &expect.what {
        HttpMatch::String(s) => find(body, s.as_bytes()),
        HttpMatch::Rstring(re) => re.0.is_match(&String::from_utf8_lossy(body)),
        // Judged on the status above.
        HttpMatch::Status(_) | HttpMatch::Rstatus(_) => false,
    };
    if matched != expect.negate {
        Eval::Pass(Some(passed))
    } else if expect.negate {
        Eval::Fail("Layer7 invalid response, info: \"HTTP check matched unwanted content\"".into())
    } else {
        Eval::Fail("Layer7 invalid response, info: \"HTTP content check did not match\"".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::acl::Re;

    const SRV: &str = "127.0.0.1:8080";

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn check() -> ServerCheck {
        ServerCheck {
            inter: secs(2),
            fastinter: secs(1),
            downinter: secs(5),
            ..ServerCheck::default()
        }
    }

    fn http(expect: Option<HttpExpect>) -> HealthConfig {
        HealthConfig {
            kind: CheckKind::Http(HttpCheck::default()),
            expect,
            all_backups: false,
        }
    }

    fn checker(cfg: &ServerCheck, health: &HealthConfig, t0: Instant) -> Checker {
        Checker::new(
            cfg,
            health,
            &Timeouts::default(),
            SRV.parse().unwrap(),
            t0,
            Spread::default(),
        )
    }

    fn tcp(t0: Instant) -> Checker {
        checker(&check(), &HealthConfig::default(), t0)
    }

    fn done(a: Action) -> Outcome {
        match a {
            Action::Done(o) => o,
            other => panic!("expected Done, got {other:?}"),
        }
    }

    /// One whole plain TCP attempt at `now`; the connection opens if `ok`.
    fn attempt(c: &mut Checker, ok: bool, now: Instant) -> Option<Transition> {
        assert_eq!(c.start(now), Action::Connect(SRV.parse().unwrap()));
        let a = if ok {
            c.on_connected(now)
        } else {
            c.on_error("Connection refused", now)
        };
        let o = done(a);
        c.finish(o, now)
    }

    /// An HTTP check fed `response` then EOF; the outcome.
    fn http_outcome(expect: Option<HttpExpect>, response: &[u8]) -> Outcome {
        let t0 = Instant::now();
        let mut c = checker(&check(), &http(expect), t0);
        assert!(matches!(c.start(t0), Action::Connect(_)));
        assert!(matches!(c.on_connected(t0), Action::Send(_)));
        assert_eq!(c.on_sent(t0), Action::Expect);
        match c.on_data(response, t0) {
            Action::Expect => done(c.on_eof(t0)),
            a => done(a),
        }
    }

    fn expect(negate: bool, what: HttpMatch) -> Option<HttpExpect> {
        Some(HttpExpect { negate, what })
    }

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy";
    const UNAVAILABLE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";

    #[test]
    fn a_server_starts_up_and_its_first_failure_takes_it_down() {
        let t0 = Instant::now();
        let mut c = tcp(t0);
        assert_eq!(c.health(), Health::Up);
        let t = attempt(&mut c, false, t0);
        assert!(
            matches!(t, Some(Transition::WentDown { ref reason }) if reason.starts_with("Layer4 connection problem"))
        );
        assert_eq!(
            (c.health(), c.transitions(), c.last_change()),
            (Health::Down, 1, t0)
        );
    }

    #[test]
    fn fully_up_server_goes_down_after_fall_failures_and_up_after_rise_successes() {
        let t0 = Instant::now();
        let mut c = tcp(t0);
        assert_eq!(attempt(&mut c, true, t0), None, "already UP");
        assert_eq!(attempt(&mut c, false, t0), None);
        assert_eq!(attempt(&mut c, false, t0), None);
        assert!(
            matches!(
                attempt(&mut c, false, t0),
                Some(Transition::WentDown { .. })
            ),
            "fall 3"
        );
        assert_eq!(attempt(&mut c, true, t0), None);
        let t1 = t0 + secs(30);
        assert_eq!(
            attempt(&mut c, true, t1),
            Some(Transition::WentUp),
            "rise 2"
        );
        assert_eq!((c.transitions(), c.last_change()), (2, t1));
    }

    #[test]
    fn one_success_restores_a_server_going_down() {
        let t0 = Instant::now();
        let mut c = tcp(t0);
        attempt(&mut c, true, t0);
        attempt(&mut c, false, t0);
        attempt(&mut c, false, t0);
        attempt(&mut c, true, t0);
        assert_eq!(
            attempt(&mut c, false, t0),
            None,
            "full health again: fall 3 from here"
        );
        assert_eq!(c.health(), Health::Up);
    }

    #[test]
    fn intervals_are_inter_when_up_fastinter_in_transition_downinter_when_down() {
        let t0 = Instant::now();
        let mut c = tcp(t0);
        attempt(&mut c, true, t0);
        assert_eq!((c.interval(), c.next_deadline()), (secs(2), t0 + secs(2)));
        attempt(&mut c, false, t0);
        assert_eq!((c.interval(), c.next_deadline()), (secs(1), t0 + secs(1)));
        attempt(&mut c, false, t0);
        attempt(&mut c, false, t0);
        assert_eq!((c.interval(), c.next_deadline()), (secs(5), t0 + secs(5)));
        attempt(&mut c, true, t0);
        assert_eq!(c.interval(), secs(1), "DOWN, going up");
    }

    #[test]
    fn connect_timeout_is_a_layer4_timeout_at_inter_without_timeout_check() {
        let t0 = Instant::now();
        let mut c = tcp(t0);
        c.start(t0);
        assert!(c.is_running());
        assert_eq!(c.next_deadline(), t0 + secs(2));
        let o = done(c.on_timeout(t0 + secs(2)));
        assert_eq!(o, Outcome::fail("Layer4 timeout"));
        c.finish(o, t0 + secs(2));
        assert!(!c.is_running());
    }

    #[test]
    fn timeout_check_bounds_the_wait_for_the_response() {
        let t0 = Instant::now();
        let timeouts = Timeouts {
            connect: Some(Duration::from_millis(500)),
            check: Some(secs(10)),
            ..Timeouts::default()
        };
        let mut c = Checker::new(
            &check(),
            &http(None),
            &timeouts,
            SRV.parse().unwrap(),
            t0,
            Spread::default(),
        );
        c.start(t0);
        assert_eq!(
            c.next_deadline(),
            t0 + Duration::from_millis(500),
            "min(timeout connect, inter)"
        );
        let t1 = t0 + Duration::from_millis(100);
        c.on_connected(t1);
        c.on_sent(t1);
        assert_eq!(c.next_deadline(), t1 + secs(10));
        assert_eq!(
            done(c.on_timeout(t1 + secs(10))),
            Outcome::fail("Layer7 timeout")
        );
    }

    #[test]
    fn http_check_sends_haproxys_default_request() {
        let t0 = Instant::now();
        let mut c = checker(&check(), &http(None), t0);
        c.start(t0);
        assert_eq!(
            c.on_connected(t0),
            Action::Send(b"OPTIONS / HTTP/1.0\r\nConnection: close\r\n\r\n".to_vec())
        );
    }

    #[test]
    fn http_check_request_carries_send_headers() {
        let hc = HttpCheck {
            method: "GET".into(),
            uri: "/health".into(),
            version: "HTTP/1.1".into(),
            headers: vec![("Host".into(), "www".into())],
        };
        assert_eq!(
            http_request(&hc),
            b"GET /health HTTP/1.1\r\nHost: www\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn default_http_expectation_passes_2xx_and_3xx_only() {
        let o = http_outcome(None, OK);
        assert_eq!(
            o,
            Outcome::pass("Layer7 check passed, code: 200, info: \"OK\"")
        );
        assert!(http_outcome(None, b"HTTP/1.0 302 Found\r\n\r\n").ok);
        let o = http_outcome(None, UNAVAILABLE);
        assert_eq!(
            o,
            Outcome::fail("Layer7 wrong status, code: 503, info: \"Service Unavailable\"")
        );
        assert!(!http_outcome(None, b"HTTP/1.0 404 Not Found\r\n\r\n").ok);
    }

    #[test]
    fn http_status_is_judged_as_soon_as_the_head_is_in() {
        let t0 = Instant::now();
        let mut c = checker(&check(), &http(None), t0);
        c.start(t0);
        c.on_connected(t0);
        c.on_sent(t0);
        assert_eq!(c.on_data(b"HTTP/1.1 200 OK\r\n", t0), Action::Expect);
        assert!(done(c.on_data(b"\r\n", t0)).ok);
    }

    #[test]
    fn expect_status_list_rstatus_and_their_negations() {
        let list = |v: &[(u16, u16)]| HttpMatch::Status(v.to_vec());
        assert!(http_outcome(expect(false, list(&[(200, 200)])), OK).ok);
        assert!(!http_outcome(expect(false, list(&[(201, 299)])), OK).ok);
        assert!(http_outcome(expect(false, list(&[(500, 599)])), UNAVAILABLE).ok);
        assert!(!http_outcome(expect(true, list(&[(500, 599)])), UNAVAILABLE).ok);
        let re = |p: &str| HttpMatch::Rstatus(Re::new(p, false).unwrap());
        assert!(http_outcome(expect(false, re("^2")), OK).ok);
        assert!(!http_outcome(expect(true, re("^2")), OK).ok);
        assert!(http_outcome(expect(true, re("^2")), UNAVAILABLE).ok);
    }

    #[test]
    fn expect_string_and_rstring_search_the_body() {
        let string = |s: &str| HttpMatch::String(s.into());
        assert!(http_outcome(expect(false, string("healthy")), OK).ok);
        let o = http_outcome(expect(false, string("OK")), OK);
        assert_eq!(
            o,
            Outcome::fail("Layer7 invalid response, info: \"HTTP content check did not match\""),
            "the reason phrase is not the body"
        );
        assert!(!http_outcome(expect(true, string("healthy")), OK).ok);
        assert!(http_outcome(expect(true, string("maintenance")), OK).ok);
        let re = |p: &str| HttpMatch::Rstring(Re::new(p, false).unwrap());
        assert!(http_outcome(expect(false, re("^heal+thy$")), OK).ok);
        assert!(!http_outcome(expect(false, re("^busy$")), OK).ok);
    }

    #[test]
    fn body_is_complete_at_content_length_or_eof() {
        let t0 = Instant::now();
        let mut c = checker(
            &check(),
            &http(expect(false, HttpMatch::String("thy".into()))),
            t0,
        );
        c.start(t0);
        c.on_connected(t0);
        c.on_sent(t0);
        assert_eq!(
            c.on_data(&OK[..OK.len() - 3], t0),
            Action::Expect,
            "body incomplete"
        );
        assert!(done(c.on_data(&OK[OK.len() - 3..], t0)).ok);
        let o = http_outcome(
            expect(false, HttpMatch::String("end".into())),
            b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
        );
        assert!(o.ok, "no length: read to EOF");
    }

    #[test]
    fn malformed_or_missing_responses_fail() {
        let invalid = |r: &[u8]| http_outcome(None, r).reason;
        assert!(invalid(b"SSH-2.0-OpenSSH\r\n\r\n").starts_with("Layer7 invalid response"));
        assert_eq!(
            invalid(b""),
            "Layer7 invalid response, info: \"empty response\""
        );
        assert_eq!(
            invalid(b"HTTP/1.1 200 OK\r\n"),
            "Layer7 invalid response, info: \"incomplete response\""
        );
    }

    #[test]
    fn a_response_beyond_the_buffer_is_judged_at_the_bound() {
        let t0 = Instant::now();
        let mut c = checker(
            &check(),
            &http(expect(false, HttpMatch::String("needle".into()))),
            t0,
        );
        c.start(t0);
        c.on_connected(t0);
        c.on_sent(t0);
        let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".to_vec();
        big.resize(CHECK_BUFSIZE + 10, b'x');
        let o = done(c.on_data(&big, t0));
        assert!(!o.ok, "{o:?}");
    }

    fn script(steps: Vec<TcpCheckStep>) -> HealthConfig {
        HealthConfig {
            kind: CheckKind::TcpScript(steps),
            ..HealthConfig::default()
        }
    }

    fn expect_string(s: &str) -> TcpCheckStep {
        TcpCheckStep::Expect {
            negate: false,
            what: TcpMatch::Bytes(s.as_bytes().to_vec()),
        }
    }

    #[test]
    fn redis_ping_pong_script() {
        let t0 = Instant::now();
        let steps = vec![
            TcpCheckStep::Connect { port: Some(6379) },
            TcpCheckStep::Send(b"PING\r\n".to_vec()),
            expect_string("+PONG"),
        ];
        let mut c = checker(&check(), &script(steps), t0);
        assert_eq!(
            c.start(t0),
            Action::Connect("127.0.0.1:6379".parse().unwrap())
        );
        assert_eq!(c.on_connected(t0), Action::Send(b"PING\r\n".to_vec()));
        assert_eq!(c.on_sent(t0), Action::Expect);
        assert_eq!(c.on_data(b"+PO", t0), Action::Expect);
        let o = done(c.on_data(b"NG\r\n", t0));
        assert_eq!(o, Outcome::pass("Layer7 check passed"));
        assert_eq!(c.finish(o, t0), None);
    }

    #[test]
    fn redis_error_reply_fails_with_the_step() {
        let t0 = Instant::now();
        let steps = vec![
            TcpCheckStep::Send(b"PING\r\n".to_vec()),
            expect_string("+PONG"),
        ];
        let mut c = checker(&check(), &script(steps), t0);
        assert_eq!(
            c.start(t0),
            Action::Connect(SRV.parse().unwrap()),
            "implicit connect"
        );
        c.on_connected(t0);
        c.on_sent(t0);
        assert_eq!(
            c.on_data(b"-ERR loading\r\n", t0),
            Action::Expect,
            "may still come"
        );
        assert_eq!(
            done(c.on_eof(t0)),
            Outcome::fail("Layer7 invalid response, info: \"TCPCHK did not match content '+PONG' at step 2 of tcp-check\"")
        );
    }

    #[test]
    fn smtp_banner_then_quit() {
        let t0 = Instant::now();
        let steps = vec![
            expect_string("220"),
            TcpCheckStep::Send(b"QUIT\r\n".to_vec()),
            TcpCheckStep::Expect {
                negate: false,
                what: TcpMatch::Rstring(Re::new("^221 ", false).unwrap()),
            },
        ];
        let mut c = checker(&check(), &script(steps), t0);
        c.start(t0);
        assert_eq!(c.on_connected(t0), Action::Expect);
        assert_eq!(
            c.on_data(b"220 mail.example.com ESMTP\r\n", t0),
            Action::Send(b"QUIT\r\n".to_vec())
        );
        assert_eq!(c.on_sent(t0), Action::Expect);
        assert!(done(c.on_data(b"221 bye\r\n", t0)).ok);
    }

    #[test]
    fn negated_expect_passes_only_when_the_response_ends_without_it() {
        let t0 = Instant::now();
        let steps = vec![TcpCheckStep::Expect {
            negate: true,
            what: TcpMatch::Bytes(b"ERR".to_vec()),
        }];
        let mut c = checker(&check(), &script(steps.clone()), t0);
        c.start(t0);
        c.on_connected(t0);
        assert_eq!(c.on_data(b"fine", t0), Action::Expect);
        assert!(done(c.on_eof(t0)).ok);
        let mut c = checker(&check(), &script(steps), t0);
        c.start(t0);
        c.on_connected(t0);
        assert!(!done(c.on_data(b"ERR", t0)).ok);
    }

    #[test]
    fn script_expect_timeout_is_layer7() {
        let t0 = Instant::now();
        let mut c = checker(&check(), &script(vec![expect_string("220")]), t0);
        c.start(t0);
        c.on_connected(t0);
        assert_eq!(
            done(c.on_timeout(t0 + secs(2))),
            Outcome::fail("Layer7 timeout, info: \"at step 1 of tcp-check\"")
        );
    }

    #[test]
    fn check_port_and_addr_override_the_servers() {
        let t0 = Instant::now();
        let cfg = ServerCheck {
            port: Some(9000),
            addr: Some("10.0.0.9".parse().unwrap()),
            ..check()
        };
        let mut c = checker(&cfg, &HealthConfig::default(), t0);
        assert_eq!(
            c.start(t0),
            Action::Connect("10.0.0.9:9000".parse().unwrap())
        );
    }

    #[test]
    fn slowstart_ramps_the_weight_after_going_up() {
        let t0 = Instant::now();
        let cfg = ServerCheck {
            slowstart: Some(secs(10)),
            fall: 1,
            rise: 1,
            ..check()
        };
        let mut c = checker(&cfg, &HealthConfig::default(), t0);
        assert_eq!(c.effective_weight(100, t0), 100, "no slowstart at startup");
        attempt(&mut c, false, t0);
        assert_eq!(c.effective_weight(100, t0), 0, "DOWN");
        let up = t0 + secs(60);
        assert_eq!(attempt(&mut c, true, up), Some(Transition::WentUp));
        assert!(c.in_slowstart(up));
        assert_eq!(c.effective_weight(100, up), 1, "never 0 while UP");
        assert_eq!(c.effective_weight(100, up + secs(1)), 10);
        assert_eq!(c.effective_weight(100, up + secs(5)), 50);
        assert_eq!(c.effective_weight(3, up + secs(5)), 2);
        assert_eq!(c.effective_weight(100, up + secs(10)), 100);
        assert!(!c.in_slowstart(up + secs(10)));
    }

    fn observed(on_error: OnError) -> Checker {
        let cfg = ServerCheck {
            observe: Some(crate::config::Observe::Layer4),
            error_limit: 3,
            on_error,
            ..check()
        };
        let t0 = Instant::now();
        let mut c = checker(&cfg, &HealthConfig::default(), t0);
        attempt(&mut c, true, t0);
        c
    }

    /// `n` live errors at `now`; the last transition.
    fn live_errors(c: &mut Checker, n: u32, now: Instant) -> Option<Transition> {
        (0..n)
            .map(|_| c.report_live_result(false, now))
            .last()
            .flatten()
    }

    #[test]
    fn observe_fastinter_only_brings_the_next_check_closer() {
        let mut c = observed(OnError::FastInter);
        let now = c.last_change();
        assert_eq!(live_errors(&mut c, 3, now), None);
        assert_eq!((c.health(), c.next_deadline()), (Health::Up, now + secs(1)));
    }

    #[test]
    fn observe_counts_consecutive_errors_only() {
        let mut c = observed(OnError::MarkDown);
        let now = c.last_change();
        live_errors(&mut c, 2, now);
        assert_eq!(c.report_live_result(true, now), None);
        assert_eq!(live_errors(&mut c, 2, now), None);
        assert_eq!(c.health(), Health::Up);
    }

    #[test]
    fn observe_fail_check_counts_one_failed_check() {
        let mut c = observed(OnError::FailCheck);
        let now = c.last_change();
        assert_eq!(live_errors(&mut c, 3, now), None);
        assert_eq!(c.interval(), secs(1), "going down");
        assert_eq!(live_errors(&mut c, 3, now), None);
        assert!(
            matches!(
                live_errors(&mut c, 3, now),
                Some(Transition::WentDown { .. })
            ),
            "fall 3"
        );
    }

    #[test]
    fn observe_sudden_death_leaves_one_check_before_down() {
        let mut c = observed(OnError::SuddenDeath);
        let now = c.last_change();
        assert_eq!(live_errors(&mut c, 3, now), None);
        assert_eq!(c.health(), Health::Up);
        let o = done({
            c.start(now);
            c.on_error("Connection refused", now)
        });
        assert!(matches!(
            c.finish(o, now),
            Some(Transition::WentDown { .. })
        ));
    }

    #[test]
    fn observe_mark_down_goes_down_at_once() {
        let mut c = observed(OnError::MarkDown);
        let now = c.last_change();
        match live_errors(&mut c, 3, now) {
            Some(Transition::WentDown { reason }) => {
                assert_eq!(
                    reason,
                    "Health analyze, info: \"Detected 3 consecutive errors\""
                )
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.next_deadline(), now + secs(1));
    }

    #[test]
    fn live_results_are_ignored_without_observe() {
        let t0 = Instant::now();
        let mut c = tcp(t0);
        assert_eq!(live_errors(&mut c, 100, t0), None);
        assert_eq!(c.health(), Health::Up);
    }

    #[test]
    fn first_checks_are_spread_over_the_first_interval() {
        let t0 = Instant::now();
        let first = |slot, percent, seed| {
            let spread = Spread {
                slot,
                slots: 4,
                percent,
                seed,
            };
            Checker::new(
                &check(),
                &HealthConfig::default(),
                &Timeouts::default(),
                SRV.parse().unwrap(),
                t0,
                spread,
            )
            .next_deadline()
        };
        let ms = |n| t0 + Duration::from_millis(n);
        assert_eq!(
            [0, 1, 2, 3].map(|s| first(s, 0, 0)),
            [ms(0), ms(500), ms(1000), ms(1500)]
        );
        for seed in 0..50 {
            let d = first(2, 10, seed);
            assert!(d >= ms(800) && d <= ms(1200), "±10% of inter: {d:?}");
        }
        let distinct: std::collections::HashSet<_> =
            (0..50).map(|seed| first(2, 10, seed)).collect();
        assert!(distinct.len() > 10, "random");
    }

    #[test]
    fn spread_checks_varies_later_intervals_within_the_percentage() {
        let t0 = Instant::now();
        let spread = Spread {
            percent: 50,
            seed: 7,
            ..Spread::default()
        };
        let mut c = Checker::new(
            &check(),
            &HealthConfig::default(),
            &Timeouts::default(),
            SRV.parse().unwrap(),
            t0,
            spread,
        );
        let mut seen = std::collections::HashSet::new();
        for _ in 0..30 {
            attempt(&mut c, true, t0);
            let d = c.next_deadline() - t0;
            assert!(d >= secs(1) && d <= secs(3), "{d:?}");
            seen.insert(d);
        }
        assert!(seen.len() > 5);
    }

    #[test]
    fn callbacks_out_of_phase_end_the_attempt() {
        let t0 = Instant::now();
        let mut c = tcp(t0);
        c.start(t0);
        assert!(!done(c.on_sent(t0)).ok);
    }
}
