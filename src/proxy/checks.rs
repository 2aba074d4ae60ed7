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
    Connect(SocketAddr),
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
        let ip = cfg.addr.unwrap_or(server_addr.ip());
        let default = SocketAddr::new(ip, cfg.port.unwrap_or(server_addr.port()));
        let mut steps = vec![Step::Connect(default)];
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
                    TcpCheckStep::Connect { port } => {
                        Step::Connect(SocketAddr::new(ip, port.unwrap_or(default.port())))
                    }
                    TcpCheckStep::Send(b) => Step::Send(b.clone()),
                    TcpCheckStep::Expect { negate, what } => Step::Expect {
                        negate: *negate,
                        what: what.clone(),
                    },
                }));
            }
        }
        let mut c = Checker {
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
                Step::Connect(addr) => {
                    let addr = *addr;
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
