//! Health checks as a sans-IO state machine: one [`Checker`] per server with
//! `check`. The engine does the I/O in its event loop and feeds the results
//! back; the checker says what to do next with an [`Action`].
//!
//! One attempt:
//!
//! ```text
//! next_deadline() reached while idle -> start(now)
//!   Connect(addr)  -> open a TCP connection (over TLS if `connect_tls()`:
//!                     on_tcp_connected once TCP is up, on_handshake_error),
//!                     then on_connected / on_error
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

mod health;
mod http;
mod proto;
mod script;
mod ssl_hello;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::config::{CheckKind, HealthConfig, HttpExpect, ServerCheck, TcpMatch, Timeouts};

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

    /// HAProxy's description of the status (`check_desc`), the reason's
    /// first part: "Layer7 wrong status".
    pub fn description(&self) -> &str {
        self.reason.split(", ").next().unwrap_or("")
    }

    /// The reason's info (`last_chk`): "Connection refused", or "".
    pub fn info(&self) -> &str {
        match self.reason.split_once(", info: \"") {
            Some((_, rest)) => rest.strip_suffix('"').unwrap_or(rest),
            None => "",
        }
    }

    /// HAProxy's check status word (`L4CON`, `L7STS`...) and the code the
    /// reason carries, if any.
    pub fn status(&self) -> (&'static str, Option<u64>) {
        let r = self.reason.as_str();
        let word = [
            ("Layer4 check passed", "L4OK"),
            ("Layer4 connection problem", "L4CON"),
            ("Layer4 timeout", "L4TOUT"),
            ("Layer6 check passed", "L6OK"),
            ("Layer6 timeout", "L6TOUT"),
            ("Layer6", "L6RSP"),
            ("Layer7 check passed", "L7OK"),
            ("Layer7 wrong status", "L7STS"),
            ("Layer7 timeout", "L7TOUT"),
            ("Layer7 invalid response", "L7RSP"),
            ("Socket error", "SOCKERR"),
            ("Health analyze", "HANA"),
        ]
        .iter()
        .find(|(p, _)| r.starts_with(p))
        .map_or(if self.ok { "L4OK" } else { "SOCKERR" }, |(_, w)| w);
        let code = r
            .split_once("code: ")
            .and_then(|(_, c)| c.split(',').next())
            .and_then(|c| c.parse().ok());
        (word, code)
    }
}

/// What `option log-health-checks` reports of an attempt (HAProxy logs one
/// when the check status changed or the health counter moved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    pub ok: bool,
    /// The attempt's reason (`Layer4 connection problem, info: "..."`).
    pub reason: String,
    /// How long the attempt took (None: a passive check's verdict).
    pub duration: Option<Duration>,
    /// HAProxy's `status: N/M UP|DOWN`: the steps towards `fall` while UP,
    /// towards `rise` while DOWN.
    pub steps: (u32, u32),
    pub up: bool,
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
    /// runs, so `set server ... addr` moves the checks along. `tls`: with
    /// the server's TLS settings (`check-ssl`, or `ssl` without `port`),
    /// presenting `sni` if any; `default`: as the server's checks (the
    /// implicit connect, `tcp-check connect default`), with `check-alpn`.
    Connect {
        port: Option<u16>,
        tls: bool,
        sni: Option<String>,
        default: bool,
    },
    Send(Vec<u8>),
    /// `option ssl-hello-chk`'s ClientHello, dated when it is sent.
    SendSslHello,
    /// A TLS record in answer to it (`ssl_hello.rs`).
    ExpectSslHello,
    Expect {
        negate: bool,
        what: TcpMatch,
    },
    /// Read an HTTP response and judge it by `http-check expect`.
    ExpectHttp,
    /// An answer of a protocol check (`proto.rs`).
    Proto(proto::ProtoExpect),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Connecting,
    /// TCP is up, the TLS handshake runs.
    Handshaking,
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
    /// What `option log-health-checks` says of the attempt, where it
    /// differs from the outcome (`proto::info_replaced_at_end`).
    log_reason: Option<String>,
    next_check: Instant,
    /// End of the current attempt (or of its connect phase).
    deadline: Instant,
    spread_percent: u32,
    rng: u64,
    /// When the running attempt started, for its duration.
    started: Option<Instant>,
    /// The last attempt's status word (HAProxy's `INI` before any).
    last_status: Option<&'static str>,
    /// What the last `finish` leaves for `option log-health-checks`.
    report: Option<CheckReport>,
    /// How long the last attempt took.
    last_duration: Option<Duration>,
}

// The engine's side: creating a checker, running attempts, scheduling.
// The UP/DOWN counter is in `health.rs`, the steps of an attempt in
// `script.rs`, HTTP requests and responses in `http.rs`.
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
        let (steps, first_rule) =
            script::compile(&health.kind, cfg.ssl == Some(true), cfg.sni.as_deref());
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
            log_reason: None,
            next_check: now,
            deadline: now,
            spread_percent: spread.percent.min(50),
            rng: spread.seed,
            started: None,
            last_status: None,
            report: None,
            last_duration: None,
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

    /// Forget any attempt in flight; the next starts at `now` (checks
    /// enabled again after `disable health`).
    pub fn reset_attempt(&mut self, now: Instant) {
        self.phase = Phase::Idle;
        self.step = 0;
        self.rx.clear();
        self.eof = false;
        self.next_check = now;
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

    /// Begins an attempt (aborting any running one).
    pub fn start(&mut self, now: Instant) -> Action {
        self.step = 0;
        self.rx.clear();
        self.eof = false;
        self.pass_reason = None;
        self.log_reason = None;
        self.deadline = now + self.cfg.inter;
        self.started = Some(now);
        self.run(now)
    }

    /// Whether the connection `Connect` asked for goes over TLS.
    pub fn connect_tls(&self) -> bool {
        matches!(
            self.steps.get(self.step),
            Some(Step::Connect { tls: true, .. })
        )
    }

    /// Whether that connection is made as the server's checks are
    /// (`check-alpn` applies), not by a `tcp-check connect` of its own.
    pub fn connect_default(&self) -> bool {
        matches!(
            self.steps.get(self.step),
            Some(Step::Connect { default: true, .. })
        )
    }

    /// The SNI that connection presents, if any.
    pub fn connect_sni(&self) -> Option<&str> {
        match self.steps.get(self.step) {
            Some(Step::Connect { sni, .. }) => sni.as_deref(),
            _ => None,
        }
    }

    /// TCP is up under a TLS connect: the handshake runs (its failures and
    /// timeouts are "Layer6").
    pub fn on_tcp_connected(&mut self, _now: Instant) {
        if self.phase == Phase::Connecting {
            self.phase = Phase::Handshaking;
        }
    }

    /// The TLS handshake failed (a refused certificate, an alert, a close).
    pub fn on_handshake_error(&mut self, _now: Instant) -> Action {
        let at = self.at_step();
        self.done(Outcome::fail(format!(
            "Layer6 invalid response, info: \"SSL handshake failure{at}\""
        )))
    }

    pub fn on_connected(&mut self, now: Instant) -> Action {
        if !matches!(self.phase, Phase::Connecting | Phase::Handshaking) {
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
            Phase::Connecting | Phase::Handshaking | Phase::Sending => {
                let why = format!("Connection closed by server{}", self.at_step());
                self.done(Outcome::fail(format!(
                    "Layer4 connection problem, info: \"{why}\""
                )))
            }
            _ => self.out_of_phase("on_eof"),
        }
    }

    /// A socket error (`err` is its text, for example "Connection refused"):
    /// a connection problem while connecting, a socket error once the
    /// connection is up (HAProxy's L4CON and SOCKERR).
    pub fn on_error(&mut self, err: &str, _now: Instant) -> Action {
        let why = format!("{err}{}", self.at_step());
        let what = match self.phase {
            Phase::Sending | Phase::Receiving => "Socket error",
            _ => "Layer4 connection problem",
        };
        self.done(Outcome::fail(format!("{what}, info: \"{why}\"")))
    }

    /// The deadline of a running attempt passed.
    pub fn on_timeout(&mut self, _now: Instant) -> Action {
        let layer = match self.phase {
            Phase::Handshaking => "Layer6",
            Phase::Receiving if matches!(self.steps.get(self.step), Some(Step::ExpectSslHello)) => {
                "Layer6"
            }
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
        let before = self.health;
        let ok = outcome.ok;
        let reason = self
            .log_reason
            .take()
            .unwrap_or_else(|| outcome.reason.clone());
        let t = if outcome.ok {
            self.success(now)
        } else {
            self.failure(outcome.reason, now)
        };
        let duration = self
            .started
            .take()
            .map(|s| now.saturating_duration_since(s));
        self.last_duration = duration;
        self.note_report(Outcome { ok, reason }, before, duration);
        let inter = self.interval();
        let jitter = self.jitter(inter);
        self.next_check = now + Duration::from_millis(ms(inter).saturating_add_signed(jitter));
        t
    }

    /// What the last attempt leaves for `option log-health-checks`: None
    /// when neither its status nor the health counter changed.
    pub fn take_report(&mut self) -> Option<CheckReport> {
        self.report.take()
    }

    /// How long the last attempt took (HAProxy's `check duration`).
    pub fn last_duration(&self) -> Option<Duration> {
        self.last_duration
    }

    /// Keep a report if the status word or the health counter changed.
    fn note_report(&mut self, o: Outcome, before: u32, duration: Option<Duration>) {
        let status = o.status().0;
        let changed = self.last_status.replace(status) != Some(status);
        self.report = (changed || self.health != before).then(|| {
            let (h, rise, fall) = (self.health, self.cfg.rise, self.cfg.fall);
            CheckReport {
                ok: o.ok,
                reason: o.reason,
                duration,
                steps: if h >= rise {
                    (h - rise + 1, fall)
                } else {
                    (h, rise)
                },
                up: h >= rise,
            }
        });
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
