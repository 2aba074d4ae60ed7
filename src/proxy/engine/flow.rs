//! Driving a session after each event: `tcp-request content` inspection, TCP
//! forwarding or the HTTP analysers, the interests that follow, and the
//! session's timeouts (one timer per session, moved only when it must fire
//! earlier).

use super::logs::{self, term, term_at};
use super::owner::Timer;
use super::Engine;
use crate::http::fetch::FetchCtx;
use crate::http::rules::TcpAction;
use crate::proxy::decide::Decider;
use crate::session::txn::{self, Step, TxnState};
use crate::session::{Abort, Phase, Stage};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// After an error response, how long we read and discard the client's input
/// so that it gets the response rather than a reset.
const DRAIN: Duration = Duration::from_secs(2);

enum Inspect {
    Wait,
    Done,
    Closed,
}

fn after(t: Instant, d: Option<Duration>) -> Option<Instant> {
    d.map(|d| t + d)
}

fn min(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

impl Engine {
    /// Forward what can be forwarded, act on what the session asks for, then
    /// update interests and the timer.
    pub(super) fn refresh(&mut self, sid: usize, now: Instant) {
        for _ in 0..8 {
            let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
                return;
            };
            if s.client.conn.tls_counted() == Some(false) {
                self.tls_account(sid);
                continue;
            }
            let mut logged = false;
            let step = match s.stage {
                Stage::Inspecting { .. } => match self.inspect(sid, now) {
                    Inspect::Wait => break,
                    Inspect::Done => continue,
                    Inspect::Closed => return,
                },
                Stage::Tcp => self.tcp_step(sid, now),
                Stage::Http | Stage::Tunnel => {
                    let step = self.http_step(sid, now);
                    logged = self.log_http_progress(sid, now);
                    if self.stats_txn(sid, now) {
                        continue;
                    }
                    self.note_server_reply(sid);
                    let idle = self.sessions[sid]
                        .as_ref()
                        .and_then(|s| s.http.as_ref())
                        .is_some_and(|t| t.state() == TxnState::WaitRequest);
                    if idle {
                        self.end_of_exchange(sid, now);
                    }
                    step
                }
            };
            match step {
                // A transaction was just logged: the next may be pipelined.
                Step::Wait if logged => continue,
                Step::Wait => break,
                Step::Close => {
                    self.close(sid);
                    return;
                }
                Step::DropServer => self.drop_server(sid, now),
                Step::NeedServer(bi) => {
                    let retries = self.backends[bi].retries;
                    if let Some(s) = self.sessions[sid].as_mut() {
                        if s.backend != Some(bi as u32) && s.srv.is_some() {
                            self.drop_server(sid, now);
                        }
                    }
                    if let Some(s) = self.sessions[sid].as_mut() {
                        s.backend = Some(bi as u32);
                        s.retries_left = retries;
                    }
                    self.assign(sid, None, now);
                }
            }
        }
        // `option abortonclose`: a client that gave up while its request
        // waited for a server is dropped instead of being served; so is one
        // that closed before its request body was complete, whose request
        // can never be (HAProxy 2.6 does so even without the option).
        if let Some(s) = self.sessions[sid].as_mut() {
            let waiting = matches!(s.phase, Phase::Queued { .. } | Phase::Connecting { .. });
            let abort = s
                .backend
                .is_some_and(|b| self.backends[b as usize].abortonclose)
                || s.http.as_ref().is_some_and(|t| t.request_incomplete());
            if waiting && abort && s.client.state().input_closed() {
                term(s, b'C');
                log::info!(
                    "session {sid}: client closed while waiting for a server (abortonclose)"
                );
                self.close(sid);
                return;
            }
        }
        self.stats_io(sid);
        self.arm(sid, now);
    }

    /// Feed a server's reply to `balance response-time` and `observe`.
    fn note_server_reply(&mut self, sid: usize) {
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        let Some((delay, status)) = s.http.as_mut().and_then(|t| t.server_reply.take()) else {
            return;
        };
        if let (Some(b), Some(si)) = (s.backend, s.server) {
            if let Some(srv) = self.backends[b as usize].servers.get_mut(si as usize) {
                srv.record_response_time(delay);
            }
            // observe layer7: a 5xx, but 501 and 505, is an error (HAProxy).
            let ok = !(500..600).contains(&status) || status == 501 || status == 505;
            self.observe(b as usize, si as usize, ok, true, Instant::now());
        }
    }

    fn tcp_step(&mut self, sid: usize, now: Instant) -> Step {
        let Some(s) = self.sessions[sid].as_mut() else {
            return Step::Close;
        };
        if let Err(abort) = s.pump(&mut self.reactor.pool, now) {
            let client = matches!(abort, Abort::Client(_));
            term(s, if client { b'C' } else { b'S' });
            match abort {
                Abort::Client(e) => log::debug!("session {sid}: client side: {e}"),
                Abort::Server(e) => log::debug!("session {sid}: server side: {e}"),
            }
            return Step::Close;
        }
        if s.is_done() {
            Step::Close
        } else {
            Step::Wait
        }
    }

    fn http_step(&mut self, sid: usize, now: Instant) -> Step {
        let step = self.http_pump(sid, now);
        self.take_bad_message(sid);
        step
    }

    fn http_pump(&mut self, sid: usize, now: Instant) -> Step {
        let Engine {
            sessions,
            frontends,
            http_backends,
            reactor,
            max_head,
            shared,
            has_stick,
            be_names,
            persist,
            backends,
            stats,
            ..
        } = self;
        let Some(s) = sessions[sid].as_mut() else {
            return Step::Close;
        };
        // The facts below are the handshake's as far as it can go now.
        s.client.conn.settle_tls();
        let fe = &frontends[s.frontend as usize];
        let Some(front) = fe.http.as_ref() else {
            return Step::Close;
        };
        let view = super::view::EngineView {
            frontends,
            backends,
            stats,
            shared,
        };
        let conf = txn::Conf {
            fe: front,
            backends: http_backends,
            max_head: *max_head,
            bufsize: reactor.pool.bufsize(),
            fe_name: &fe.name,
            fe_index: s.frontend as usize,
            so_id: s.so_id,
            tls: s.client.conn.tls(),
            bc_tls: s.srv.as_ref().and_then(|x| x.conn.tls()),
            px: Some(&view),
            be_names,
        };
        // The stick tables are the process's: each operation on them takes
        // their lock for itself, never across the pump's socket calls.
        let mut decide = Decider {
            stick: has_stick.then(|| shared.stick_tables()),
            persist,
            views: &*backends,
            now,
        };
        match txn::pump(s, &conf, &mut decide, &mut reactor.pool, now) {
            Ok(step) => step,
            Err(Abort::Client(e)) => {
                log::debug!("session {sid}: client side: {e}");
                term(s, b'C');
                Step::Close
            }
            Err(Abort::Server(e)) => {
                log::info!("frontend {}: server connection failed: {e}", fe.name);
                term(s, b'S');
                let Some(t) = s.http.as_mut() else {
                    return Step::Close;
                };
                if t.response_started {
                    return Step::Close;
                }
                let pages = s
                    .backend
                    .map_or(&front.side.errors, |b| &http_backends[b as usize].errors);
                t.fail_with(502, pages, &front.side.errors);
                Step::DropServer
            }
        }
    }

    /// `tcp-request content` rules: buffer the client's first bytes until a
    /// rule decides or `tcp-request inspect-delay` runs out.
    fn inspect(&mut self, sid: usize, now: Instant) -> Inspect {
        let Some(s) = self.sessions[sid].as_mut() else {
            return Inspect::Closed;
        };
        if let Err(e) = s.read_client(&mut self.reactor.pool, now) {
            log::debug!("session {sid}: client side: {e}");
            term_at(s, b'C', b'R');
            self.close(sid);
            return Inspect::Closed;
        }
        let Some(s) = self.sessions[sid].as_mut() else {
            return Inspect::Closed;
        };
        if s.client.conn.tls_handshaking() {
            // HAProxy runs the rules on the stream the handshake makes.
            if !s.client.state().input_closed() {
                return Inspect::Wait;
            }
            term_at(s, b'C', b'R');
            self.close(sid);
            return Inspect::Closed;
        }
        let fe = &self.frontends[s.frontend as usize];
        let payload = s.req.as_ref().map_or(&[][..], |b| b.pending());
        let full = s.req.as_ref().is_some_and(|b| b.is_full());
        let complete =
            full || s.client.state().input_closed() || s.inspect_until().map_or(true, |t| t <= now);
        // `ssl_fc*` in `tcp-request content` rules.
        let tls = s.client.conn.tls();
        let mut txn = crate::http::fetch::TxnView::default();
        txn.stamp.tls = tls.as_ref();
        let ctx = FetchCtx {
            src: SocketAddr::new(s.src, s.src_port),
            dst: s.dst,
            req: None,
            res: None,
            payload,
            payload_complete: complete,
            vars: Some(&s.vars),
            txn,
        };
        let mut tcp = self.tcp_slots.remove(&sid).unwrap_or_default();
        let slots = match s.http.as_mut() {
            Some(t) => &mut t.slots,
            None => &mut tcp,
        };
        let tables = self.shared.stick_tables();
        let v =
            crate::proxy::stick::track_conn(tables, &fe.tcp_content, &ctx, slots, &fe.name, now);
        if tcp.iter().any(Option::is_some) {
            self.tcp_slots.insert(sid, tcp);
        }
        match v {
            Some(TcpAction::Reject) => {
                log::info!(
                    "frontend {}: connection from {} rejected by tcp-request content",
                    fe.name,
                    s.src
                );
                term_at(s, b'P', b'R');
                self.close(sid);
                Inspect::Closed
            }
            None if !complete => Inspect::Wait,
            // Accept (rules return no other action), or nothing more will come.
            _ => {
                let tcp = s.http.is_none();
                let chosen = if tcp {
                    crate::session::txn::pick_backend(&fe.tcp_switch, &self.be_names, &ctx, None)
                } else {
                    None
                };
                s.inspected();
                if tcp {
                    if let Some(b) = chosen {
                        s.backend = Some(b as u32);
                        s.retries_left = self.backends[b].retries;
                    }
                    if s.backend.is_none() {
                        log::info!(
                            "frontend {}: no backend for the connection, closing it",
                            fe.name
                        );
                        term_at(s, b'P', b'R');
                        self.close(sid);
                        return Inspect::Closed;
                    }
                    self.assign(sid, None, now);
                }
                Inspect::Done
            }
        }
    }

    /// Set the sockets' interests and (re)arm the session's timer.
    fn arm(&mut self, sid: usize, _now: Instant) {
        let Some(s) = self.sessions.get(sid).and_then(Option::as_ref) else {
            return;
        };
        let (ci, si) = s.interests();
        self.reactor
            .set_want(s.client.token, s.client.conn.interest(ci));
        if let (Some(srv), Some(si)) = (s.srv.as_ref(), si) {
            self.reactor.set_want(srv.token, srv.conn.interest(si));
        }
        let deadline = self.deadline(sid);
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        match (deadline, s.timer) {
            (None, Some((key, _))) => {
                self.reactor.timers.cancel(key);
                s.timer = None;
            }
            // Only move the timer earlier; a later deadline is found when the
            // current one fires, so busy sessions don't churn the timer tree.
            (Some(d), Some((key, at))) if d < at => {
                self.reactor.timers.cancel(key);
                s.timer = Some((self.reactor.timers.add(d, Timer::Session(sid).pack()), d));
            }
            (Some(d), None) => {
                s.timer = Some((self.reactor.timers.add(d, Timer::Session(sid).pack()), d))
            }
            _ => {}
        }
    }

    /// The earliest moment one of the session's timeouts can fire.
    pub(super) fn deadline(&self, sid: usize) -> Option<Instant> {
        let s = self.sessions[sid].as_ref()?;
        let fe = &self.frontends[s.frontend as usize];
        let be = s.backend.map(|b| &self.backends[b as usize].timeouts);
        let tunnel = be.and_then(|b| b.tunnel).or(fe.timeouts.tunnel);
        let state = s.http.as_ref().map(|t| t.state());
        let tunneling = match state {
            Some(st) => st == TxnState::Tunnel,
            None => s.phase == Phase::Connected,
        };
        // Once tunneling, `timeout tunnel` supersedes client and server.
        let (cli_to, srv_to) = match (tunneling, tunnel) {
            (true, Some(t)) => (Some(t), Some(t)),
            _ => (fe.timeouts.client, be.and_then(|b| b.server)),
        };
        let mut d = after(s.client.last_io, cli_to);
        if s.client.conn.tls_handshaking() {
            // Before the stream exists, only `timeout client` bounds the
            // handshake (HAProxy's embryonic session).
            return d;
        }
        if let Some(until) = s.inspect_until() {
            d = min(d, Some(until));
        }
        if let Some(t) = s.http.as_ref() {
            match t.state() {
                // Waiting for a body: its own deadline (HAProxy's
                // `http_wait_for_msg_body`), else `timeout client`.
                TxnState::WaitRequest => match t.body_deadline() {
                    Some(until) => d = min(d, until),
                    None => {
                        d = min(
                            d,
                            after(t.since, self.request_timeout(s.frontend as usize, t)),
                        )
                    }
                },
                TxnState::Drain => d = min(d, Some(t.since + DRAIN)),
                // HAProxy: an unset `timeout tarpit` falls back to `timeout connect`.
                TxnState::Tarpit => {
                    d = min(
                        d,
                        Some(t.since + fe.tarpit.or(fe.timeouts.connect).unwrap_or_default()),
                    )
                }
                _ => {}
            }
        }
        match s.phase {
            // HAProxy: an unset `timeout queue` falls back to `timeout connect`.
            Phase::Queued { since } => {
                d = min(d, be.and_then(|b| after(since, b.queue.or(b.connect))))
            }
            Phase::Connecting { since } => d = min(d, be.and_then(|b| after(since, b.connect))),
            Phase::Connected => d = min(d, s.srv.as_ref().and_then(|x| after(x.last_io, srv_to))),
            Phase::Idle => {}
        }
        d
    }

    /// `timeout http-request` for a first request, `timeout http-keep-alive`
    /// (falling back to http-request) between requests; then `timeout client`.
    fn request_timeout(&self, fi: usize, t: &txn::Txn) -> Option<Duration> {
        let fe = &self.frontends[fi];
        if txn::first_request(t) {
            fe.http_request.or(fe.timeouts.client)
        } else {
            fe.http_keep_alive
                .or(fe.http_request)
                .or(fe.timeouts.client)
        }
    }

    /// A session's timer fired.
    pub(super) fn on_session_timer(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
            return;
        };
        s.timer = None;
        match self.deadline(sid) {
            Some(d) if d <= now => self.expire(sid, now),
            _ => self.refresh(sid, now),
        }
    }

    /// A timeout fired: decide which one and act as HAProxy does.
    fn expire(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        if s.client.conn.tls_handshaking() {
            // Still in the TLS handshake: no answer can go; logged as such.
            s.client.conn.tls_expired();
            self.close(sid);
            return;
        }
        let fe = &self.frontends[s.frontend as usize];
        let bi = s.backend.map(|b| b as usize);
        let bt = bi.map(|b| self.backends[b].timeouts);
        let client_expired = fe
            .timeouts
            .client
            .is_some_and(|t| s.client.last_io + t <= now);
        if s.inspect_until().is_some_and(|t| t <= now) && !client_expired {
            self.refresh(sid, now);
            return;
        }
        if let (Phase::Connecting { since }, Some(b), Some(t)) = (s.phase, bi, bt) {
            if !client_expired && t.connect.is_some_and(|c| since + c <= now) {
                let si = s.server.unwrap_or(0) as usize;
                log::info!("backend {}: connect timeout", self.backends[b].name);
                logs::rec(Some(s), |r| r.connect_timed_out = true);
                self.attach_failed(sid, b, si, now);
                self.refresh(sid, now);
                return;
            }
        }
        // Which side's inactivity fired: c (client) or s (server), §8.5.
        let who = if client_expired { b'c' } else { b's' };
        let Some(t) = s.http.as_ref() else {
            log::info!("session {sid}: timeout ({:?})", s.phase);
            term(s, who);
            self.close(sid);
            return;
        };
        let status = match (t.state(), s.phase) {
            (_, Phase::Queued { .. }) => Some(503),
            (TxnState::Tarpit, _) => Some(t.tarpit_status),
            (TxnState::WaitRequest, _) if t.body_deadline().is_some() => Some(408),
            (TxnState::WaitRequest, _) => {
                let pending = s.req.as_ref().is_some_and(|b| !b.is_empty());
                let probe = !pending
                    && s.client_bytes().1 == 0
                    && fe.http.as_ref().is_some_and(|h| h.ignore_probes);
                ((txn::first_request(t) || pending) && !probe).then_some(408)
            }
            (TxnState::Exchange, Phase::Connected) if t.awaiting_response() => Some(504),
            _ => None,
        };
        let Some(code) = status else {
            term(s, who);
            self.close(sid);
            return;
        };
        match code {
            408 => term_at(s, b'c', b'R'),
            503 => term_at(s, b's', b'Q'),
            504 => term_at(s, b's', b'H'),
            _ => term_at(s, b'P', b'T'),
        }
        log::info!("frontend {}: timeout, answering {code}", fe.name);
        if s.srv.is_some() || matches!(s.phase, Phase::Queued { .. }) {
            self.drop_server(sid, now);
        }
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        let Some(fe_pages) = self.frontends[s.frontend as usize]
            .http
            .as_ref()
            .map(|h| &h.side.errors)
        else {
            return;
        };
        let pages = match bi {
            Some(b) if code != 408 => &self.http_backends[b].errors,
            _ => fe_pages,
        };
        if let Some(t) = s.http.as_mut() {
            if code == 408 {
                // HAProxy's HTTP/1 layer answers that one itself, unlogged bytes.
                t.refuse(code, pages, fe_pages);
            } else {
                t.fail_with(code, pages, fe_pages);
            }
        }
        self.refresh(sid, now);
    }
}
