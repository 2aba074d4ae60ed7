//! Health checks in the event loop: one sans-IO `Checker` per checked
//! server, driven here with a non-blocking connection (`conn::Conn`) per
//! running attempt and one timer each; over TLS with the server's own TLS
//! settings when the checker says so (`check-ssl`, `ssl`), the handshake
//! being part of connecting, as for traffic. A transition marks the server
//! DOWN or UP for the balancer and logs it as HAProxy does. No threads.

use super::owner::{Owner, Timer};
use super::Engine;
use crate::config;
use crate::conn::{Conn, HalfState, Plain, Tls, Xprt};
use crate::core::timers::TimerKey;
use crate::pollers::{Event, Interest, Token};
use crate::proxy::checks::{Action, Checker, Health, Outcome, Spread, Transition};
use crate::proxy::lb;
use std::time::Instant;

/// One checked server.
pub(super) struct CheckRt {
    pub bi: usize,
    pub si: usize,
    pub checker: Checker,
    /// The configured weight, which slowstart ramps up to.
    pub weight: u32,
    /// `observe layer4|layer7`: which live results count.
    pub observe: Option<config::Observe>,
    /// `disable health` (and a server added at run time until `enable
    /// health`): no checks run; the server keeps the state it had.
    pub enabled: bool,
    /// The server's TLS settings, for the checks' TLS connects, and the
    /// same with `check-alpn`'s list.
    tls: Option<CheckTls>,
    alpn_tls: Option<CheckTls>,
    /// The attempt's connection and its reactor token.
    conn: Option<(Conn, Token)>,
    connecting: bool,
    out: Vec<u8>,
    timer: Option<TimerKey>,
}

/// What a TLS check connects with: the server's TLS context.
type CheckTls = crate::tls::client::ClientCtx;

/// Build the checkers of every server with `check`, first checks spread over
/// the interval as HAProxy does.
pub(super) fn build(cfg: &config::Config, now: Instant) -> Vec<CheckRt> {
    let total = cfg
        .backends
        .iter()
        .flat_map(|b| &b.servers)
        .filter(|s| s.check.is_some())
        .count() as u32;
    let mut out = Vec::new();
    for (bi, b) in cfg.backends.iter().enumerate() {
        for (si, s) in b.servers.iter().enumerate() {
            let Some(sc) = s.check.as_ref() else { continue };
            let spread = Spread {
                slot: out.len() as u32,
                slots: total.max(1),
                percent: cfg.global.spread_checks,
                seed: (now.elapsed().as_nanos() as u64)
                    ^ ((bi as u64) << 32)
                    ^ si as u64
                    ^ u64::from(std::process::id()),
            };
            let checker = Checker::new(sc, &b.health, &b.timeouts, s.addr, now, spread);
            out.push(CheckRt {
                bi,
                si,
                checker,
                weight: s.weight * super::WEIGHT_SCALE,
                observe: sc.observe,
                enabled: true,
                tls: s.ssl.ctx.clone(),
                alpn_tls: sc.alpn_ctx.clone(),
                conn: None,
                connecting: false,
                out: Vec::new(),
                timer: None,
            });
        }
    }
    out
}

impl Engine {
    /// Link each checked server to its check.
    pub(super) fn link_checks(&mut self) {
        for (ci, c) in self.checks.iter().enumerate() {
            self.backends[c.bi].servers[c.si].check = Some(ci);
        }
    }

    /// Server `si` of backend `bi`'s check, if it has one.
    pub(super) fn check_of(&self, bi: usize, si: usize) -> Option<usize> {
        self.backends[bi].servers.get(si).and_then(|s| s.check)
    }

    /// Arm every check's first timer.
    /// Checks run in thread 0 only; the others replay their results.
    pub(super) fn start_checks(&mut self) {
        if self.tid != 0 {
            return;
        }
        for ci in 0..self.checks.len() {
            self.rearm_check(ci);
        }
    }

    fn rearm_check(&mut self, ci: usize) {
        // Only thread 0 does the checks' I/O (see start_checks).
        if self.tid != 0 || !self.checks[ci].enabled {
            return;
        }
        let c = &mut self.checks[ci];
        if let Some(k) = c.timer.take() {
            self.reactor.timers.cancel(k);
        }
        let at = c.checker.next_deadline();
        c.timer = Some(self.reactor.timers.add(at, Timer::Check(ci).pack()));
    }

    /// A check's timer: start an attempt, or time the running one out.
    pub(super) fn on_check_timer(&mut self, ci: usize, now: Instant) {
        let Some(c) = self.checks.get_mut(ci) else {
            return;
        };
        c.timer = None;
        if now < c.checker.next_deadline() {
            self.rearm_check(ci);
            return;
        }
        let action = if c.checker.is_running() {
            c.checker.on_timeout(now)
        } else {
            c.checker.start(now)
        };
        if matches!(action, Action::Connect(_)) {
            self.stats_check_start(ci, now);
        }
        self.perform(ci, action, now);
    }

    /// Readiness on a check's socket.
    pub(super) fn on_check_io(&mut self, ci: usize, token: Token, ev: Event) {
        let now = Instant::now();
        let Some(c) = self.checks.get_mut(ci) else {
            return;
        };
        let Some((conn, t)) = c.conn.as_mut() else {
            return;
        };
        if *t != token {
            return;
        }
        conn.on_event(&ev);
        let action = if c.connecting {
            // TCP first, then the TLS handshake if any, as for traffic.
            let tcp = conn.state() == HalfState::Connecting;
            match super::server::connect_progress(conn, &ev) {
                Ok(true) => {
                    c.connecting = false;
                    c.checker.on_connected(now)
                }
                Ok(false) => {
                    if tcp && conn.state() != HalfState::Connecting {
                        c.checker.on_tcp_connected(now);
                    }
                    self.reactor.set_want(token, conn.interest(Interest::WRITE));
                    return;
                }
                Err(("connect", e)) => c.checker.on_error(&os_text(&e), now),
                Err((_, e)) => {
                    log::debug!("check: TLS handshake: {e}");
                    c.checker.on_handshake_error(now)
                }
            }
        } else if !c.out.is_empty() && (ev.writable || ev.error) {
            match conn.send(&[&c.out]) {
                Ok(n) => {
                    c.out.drain(..n);
                    if !c.out.is_empty() {
                        return;
                    }
                    c.checker.on_sent(now)
                }
                Err(e) => c.checker.on_error(&os_text(&e), now),
            }
        } else if ev.readable || ev.hup || ev.error {
            let mut buf = self.reactor.pool.get();
            let action = match conn.recv(&mut buf) {
                Ok(Some(0)) => c.checker.on_eof(now),
                Ok(Some(_)) => c.checker.on_data(buf.pending(), now),
                Ok(None) => {
                    self.reactor.pool.put(buf);
                    return;
                }
                Err(e) => c.checker.on_error(&os_text(&e), now),
            };
            self.reactor.pool.put(buf);
            action
        } else {
            return;
        };
        self.perform(ci, action, now);
    }

    /// Carry out what the checker asked for, until it waits for I/O.
    fn perform(&mut self, ci: usize, mut action: Action, now: Instant) {
        for _ in 0..16 {
            let c = &mut self.checks[ci];
            action = match action {
                Action::Connect(addr) => {
                    if let Some((conn, t)) = c.conn.take() {
                        self.reactor.deregister(t);
                        conn.close();
                    }
                    let ctx = match &c.alpn_tls {
                        Some(a) if c.checker.connect_default() => Some(a),
                        _ => c.tls.as_ref(),
                    };
                    let xprt = match (ctx, c.checker.connect_tls()) {
                        (_, false) => Ok(Xprt::Plain(Plain)),
                        (Some(ctx), true) => {
                            let sni = c.checker.connect_sni();
                            let name = crate::tls::client::server_name(sni, addr.ip());
                            Tls::client(ctx, name).map(|t| Xprt::Tls(Box::new(t)))
                        }
                        (None, true) => Err(std::io::Error::other("no TLS settings")),
                    };
                    // HAProxy: a connect() that fails at once (not later,
                    // as a refusal usually does) is a "General socket error".
                    let started = xprt.and_then(|x| match super::start_connect(addr, false) {
                        Ok(sock) => Ok((x, sock)),
                        Err(e) => Err(std::io::Error::other(format!(
                            "General socket error ({})",
                            os_text(&e)
                        ))),
                    });
                    match started {
                        Ok((xprt, sock)) => {
                            let conn = Conn::connecting(sock, xprt);
                            let token = self.reactor.register(
                                conn.fd(),
                                Owner::Check(ci).pack(),
                                conn.interest(Interest::WRITE),
                            );
                            c.conn = Some((conn, token));
                            c.connecting = true;
                            break;
                        }
                        Err(e) => c.checker.on_error(&os_text(&e), now),
                    }
                }
                Action::Send(bytes) => {
                    c.out = bytes;
                    let Some((conn, token)) = c.conn.as_mut() else {
                        action = c.checker.on_error("no connection to send on", now);
                        continue;
                    };
                    match conn.send(&[&c.out]) {
                        Ok(n) if n == c.out.len() => {
                            c.out.clear();
                            c.checker.on_sent(now)
                        }
                        // Partly sent, or nothing (it would block).
                        Ok(n) => {
                            c.out.drain(..n);
                            self.reactor
                                .set_want(*token, conn.interest(Interest::WRITE));
                            break;
                        }
                        Err(e) => c.checker.on_error(&os_text(&e), now),
                    }
                }
                Action::Expect => {
                    if let Some((conn, token)) = c.conn.as_ref() {
                        self.reactor.set_want(*token, conn.interest(Interest::READ));
                    }
                    break;
                }
                Action::Done(outcome) => {
                    if let Some((conn, t)) = c.conn.take() {
                        self.reactor.deregister(t);
                        conn.close();
                    }
                    c.connecting = false;
                    c.out.clear();
                    let tr = c.checker.finish(outcome.clone(), now);
                    self.log_check_report(ci);
                    self.apply_transition(ci, tr, &outcome, now);
                    self.stats_check_done(ci, &outcome, now);
                    if self.nthreads() > 1 {
                        self.broadcast(move |e| e.replay_check(ci, outcome.clone()));
                    }
                    break;
                }
            };
        }
        self.rearm_check(ci);
    }

    /// Another thread's check result: the same checker steps here, so every
    /// loop sees the server in the same state (and slowstart ramps alike).
    fn replay_check(&mut self, ci: usize, outcome: Outcome) {
        let now = Instant::now();
        let Some(c) = self.checks.get_mut(ci) else {
            return;
        };
        let tr = c.checker.finish(outcome.clone(), now);
        self.apply_transition(ci, tr, &outcome, now);
    }

    /// `enable health` / `disable health`: run or stop a server's checks
    /// (an attempt in flight is dropped). Nothing for a server without.
    pub(super) fn set_checks(&mut self, bi: usize, si: usize, on: bool) {
        let Some(ci) = self.check_of(bi, si) else {
            return;
        };
        let c = &mut self.checks[ci];
        if c.enabled == on {
            return;
        }
        c.enabled = on;
        if let Some(k) = c.timer.take() {
            self.reactor.timers.cancel(k);
        }
        if let Some((conn, t)) = c.conn.take() {
            self.reactor.deregister(t);
            conn.close();
        }
        c.connecting = false;
        c.out.clear();
        if on {
            // The next attempt starts now rather than mid-way through one.
            c.checker.reset_attempt(Instant::now());
            self.rearm_check(ci);
        }
    }

    /// A check for a server added at run time, stopped until `enable health`.
    pub(super) fn add_check(
        &mut self,
        bi: usize,
        si: usize,
        sc: &config::ServerCheck,
        addr: std::net::SocketAddr,
        weight: u32,
    ) {
        let now = Instant::now();
        let spread = Spread {
            slot: 0,
            slots: 1,
            percent: 0,
            seed: now.elapsed().as_nanos() as u64 ^ ((bi as u64) << 32) ^ si as u64,
        };
        let checker = Checker::new(
            sc,
            &self.health_cfg[bi],
            &self.backends[bi].timeouts,
            addr,
            now,
            spread,
        );
        self.checks.push(CheckRt {
            bi,
            si,
            checker,
            weight: weight * super::WEIGHT_SCALE,
            observe: sc.observe,
            enabled: false,
            // (Refused on servers added at run time.)
            tls: None,
            alpn_tls: None,
            conn: None,
            connecting: false,
            out: Vec::new(),
            timer: None,
        });
        self.backends[bi].servers[si].check = Some(self.checks.len() - 1);
    }

    /// `set server ... health up|down`: through its checker when it has
    /// one (the checks go on from the new state), else the state alone.
    pub(super) fn force_health(&mut self, bi: usize, si: usize, up: bool, now: Instant) {
        const WHY: &str = "changed from CLI";
        if let Some(ci) = self.check_of(bi, si) {
            let tr = self.checks[ci].checker.force(up, WHY, now);
            let outcome = Outcome {
                ok: up,
                reason: WHY.into(),
            };
            self.apply_transition(ci, tr, &outcome, now);
            self.rearm_check(ci);
            return;
        }
        if self.backends[bi].servers[si].down != up {
            return;
        }
        let t = if up {
            Transition::WentUp
        } else {
            Transition::WentDown { reason: WHY.into() }
        };
        self.stats_transition(bi, si, &t, now);
        let be = &mut self.backends[bi];
        be.servers[si].down = !up;
        be.lb.invalidate();
        let msg = state_message(be, si, up, &format!(", {WHY}"));
        once!(warn, self.tid, "{msg}");
        let level = if up {
            crate::log::NOTICE
        } else {
            crate::log::ALERT
        };
        self.log_backend(bi, level, &msg);
        self.stats_backend_state(bi, now);
    }

    /// A server changed state: tell the balancer and log it as HAProxy.
    fn apply_transition(
        &mut self,
        ci: usize,
        tr: Option<Transition>,
        outcome: &Outcome,
        now: Instant,
    ) {
        let (bi, si) = (self.checks[ci].bi, self.checks[ci].si);
        if let Some(t) = &tr {
            self.stats_transition(bi, si, t, now);
        }
        let Some(tr) = tr else {
            self.refresh_weight(ci, now);
            return;
        };
        // HAProxy: the reason is the check's, unless each check is logged.
        let cause = |reason: &str, duration: Option<std::time::Duration>| {
            let ms = duration.map_or(String::new(), |d| {
                format!(", check duration: {}ms", d.as_millis())
            });
            format!(", reason: {reason}{ms}")
        };
        let quiet = self.health_cfg[bi].log_checks;
        let duration = self.checks[ci].checker.last_duration();
        let be = &mut self.backends[bi];
        match tr {
            Transition::WentDown { reason } => {
                be.servers[si].down = true;
                let (act, bck) = usable_counts(&be.servers);
                let why = if quiet {
                    String::new()
                } else if reason == "changed from CLI" {
                    format!(", {reason}")
                } else {
                    cause(
                        &reason,
                        duration.filter(|_| !reason.starts_with("Health analyze")),
                    )
                };
                let msg = state_message(be, si, false, &why);
                once!(warn, self.tid, "{msg}");
                let name = be.name.clone();
                self.log_backend(bi, crate::log::ALERT, &msg);
                if act + bck == 0 {
                    once!(error, self.tid, "backend '{name}' has no server available!");
                    // (HAProxy's log line names it without quotes.)
                    let msg = format!("backend {name} has no server available!");
                    self.log_backend(bi, 0, &msg);
                }
            }
            Transition::WentUp => {
                be.servers[si].down = false;
                let why = if quiet {
                    String::new()
                } else if outcome.reason == "changed from CLI" {
                    format!(", {}", outcome.reason)
                } else {
                    cause(&outcome.reason, duration)
                };
                let msg = state_message(be, si, true, &why);
                once!(warn, self.tid, "{msg}");
                self.log_backend(bi, crate::log::NOTICE, &msg);
                self.refresh_weight(ci, now);
            }
        }
    }

    /// `option log-health-checks`: HAProxy's line for an attempt that
    /// changed the check status or the health counter, at NOTICE.
    fn log_check_report(&mut self, ci: usize) {
        let c = &mut self.checks[ci];
        let Some(r) = c.checker.take_report() else {
            return;
        };
        let (bi, si, weight) = (c.bi, c.si, c.weight);
        if !self.health_cfg[bi].log_checks {
            return;
        }
        let be = &self.backends[bi];
        let srv = &be.servers[si];
        let ms = r.duration.map_or(String::new(), |d| {
            format!(", check duration: {}ms", d.as_millis())
        });
        let state = match (r.up, weight) {
            (false, _) => "DOWN",
            (true, 0) => "DRAIN",
            (true, _) => "UP",
        };
        let msg = format!(
            "Health check for {}server {}/{} {}, reason: {}{ms}, status: {}/{} {state}.",
            if srv.backup { "backup " } else { "" },
            be.name,
            srv.name,
            if r.ok { "succeeded" } else { "failed" },
            r.reason,
            r.steps.0,
            r.steps.1,
        );
        once!(warn, self.tid, "{msg}");
        self.log_backend(bi, crate::log::NOTICE, &msg);
    }

    /// Slowstart: the weight ramps up after a server comes back (not under
    /// a static algorithm, see `lb::ramps_weights`).
    fn refresh_weight(&mut self, ci: usize, now: Instant) {
        let c = &self.checks[ci];
        if c.checker.health() == Health::Up {
            let be = &mut self.backends[c.bi];
            let w = if lb::ramps_weights(&be.balance, be.hash_type) {
                c.checker.effective_weight(c.weight, now)
            } else {
                c.weight
            };
            be.servers[c.si].weight = w.max(u32::from(c.weight > 0));
        }
    }

    /// Before balancing over a backend: bring slowstart weights up to date.
    pub(super) fn refresh_backend_weights(&mut self, bi: usize, now: Instant) {
        if !self.backends[bi].slowstart {
            return;
        }
        for ci in 0..self.checks.len() {
            if self.checks[ci].bi == bi && self.checks[ci].checker.in_slowstart(now) {
                self.refresh_weight(ci, now);
            } else if self.checks[ci].bi == bi {
                let c = &self.checks[ci];
                if c.checker.health() == Health::Up {
                    self.backends[bi].servers[c.si].weight = c.weight;
                }
            }
        }
    }

    /// `observe`: a live result for server `si`; `layer7` results (HTTP
    /// statuses) count only under `observe layer7`.
    pub(super) fn observe(&mut self, bi: usize, si: usize, ok: bool, layer7: bool, now: Instant) {
        let found = self.check_of(bi, si);
        let Some(ci) = found.filter(|&ci| self.checks[ci].enabled) else {
            return;
        };
        // layer4 watches connections; layer7 watches responses, and also
        // connection failures, but a connection that merely opened proves
        // nothing about the responses, so it doesn't reset the count.
        match self.checks[ci].observe {
            None => return,
            Some(config::Observe::Layer4) if layer7 => return,
            Some(config::Observe::Layer7) if !layer7 && ok => return,
            _ => {}
        }
        log::debug!(
            "observe {}/{}: {}",
            self.backends[bi].name,
            self.backends[bi].servers[si].name,
            if ok { "ok" } else { "error" }
        );
        let tr = self.checks[ci].checker.report_live_result(ok, now);
        if tr.is_some() {
            let outcome = Outcome {
                ok,
                reason: "live traffic errors (observe)".into(),
            };
            self.apply_transition(ci, tr, &outcome, now);
        }
        self.rearm_check(ci);
    }
}

/// HAProxy's state-change line (srv_update_status): `[Backup ]Server
/// BE/SRV is UP|DOWN`, `why` (a reason, or nothing), then the servers left
/// and the sessions (none is requeued here).
fn state_message(be: &super::rt::BackendRt, si: usize, up: bool, why: &str) -> String {
    let srv = &be.servers[si];
    let (act, bck) = usable_counts(&be.servers);
    let backup = if srv.backup { "Backup " } else { "" };
    let on_backup = if bck > 0 && act == 0 {
        " Running on backup."
    } else {
        ""
    };
    let queued = srv.queue.len();
    if up {
        format!(
            "{backup}Server {}/{} is UP{why}. {act} active and {bck} backup servers online.{on_backup} 0 sessions requeued, {queued} total in queue.",
            be.name, srv.name
        )
    } else {
        format!(
            "{backup}Server {}/{} is DOWN{why}. {act} active and {bck} backup servers left.{on_backup} {} sessions active, 0 requeued, {queued} remaining in queue.",
            be.name, srv.name, srv.cur
        )
    }
}

/// An I/O error as HAProxy words it: without Rust's "(os error N)".
fn os_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn usable_counts(servers: &[crate::proxy::lb::ServerRt]) -> (usize, usize) {
    let act = servers.iter().filter(|s| s.usable() && !s.backup).count();
    let bck = servers.iter().filter(|s| s.usable() && s.backup).count();
    (act, bck)
}
