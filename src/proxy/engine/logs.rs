//! The engine's side of logging: the session's record is created at accept,
//! filled at the hook points (one-line calls elsewhere), and rendered here
//! with the counters only the engine knows, at the end of each HTTP
//! transaction or TCP session. Also the proxies' own messages (server UP
//! and DOWN) to their log targets.

use super::Engine;
use crate::config::CookieMode;
use crate::log::format::Ctx;
use crate::log::{LogRec, ERR, INFO};
use crate::session::txn::{log_phase, TxnState};
use crate::session::Session;
use std::net::SocketAddr;
use std::time::Instant;

/// Records `cause` (C, S, P, R, I, c, s...) with the phase the session is in.
pub(super) fn term(s: &mut Session, cause: u8) {
    let phase = log_phase(s, s.http.as_deref());
    if let Some(r) = s.log.as_mut() {
        r.term(cause, phase);
    }
}

pub(super) fn term_at(s: &mut Session, cause: u8, phase: u8) {
    if let Some(r) = s.log.as_mut() {
        r.term(cause, phase);
    }
}

/// Runs `f` on the session's record, if it has one.
pub(super) fn rec(s: Option<&mut Session>, f: impl FnOnce(&mut LogRec)) {
    if let Some(r) = s.and_then(|s| s.log.as_deref_mut()) {
        f(r);
    }
}

impl Engine {
    /// A new session: its record, and HAProxy's default line ("Connect
    /// from") when the frontend logs without a format.
    pub(super) fn log_accept(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        let Some(fl) = self.frontends[s.frontend as usize].log.as_deref() else {
            return;
        };
        let tls = s.client.conn.tls_handshaking();
        if fl.format.is_some() || tls {
            // (A TLS handshake's failure is logged with its accept date.)
            s.log = Some(LogRec::new(now));
        }
        if fl.format.is_none() && !tls {
            self.log_connect_from(sid);
        }
    }

    /// HAProxy's line for a new stream of a frontend without a log format:
    /// at accept, or once the TLS handshake is over.
    fn log_connect_from(&mut self, sid: usize) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let fe = &self.frontends[s.frontend as usize];
        let Some(fl) = fe.log.as_deref().filter(|fl| fl.format.is_none()) else {
            return;
        };
        let mode = if fe.http.is_some() { "HTTP" } else { "TCP" };
        let msg = format!(
            "Connect from {} to {} ({}/{mode})",
            SocketAddr::new(s.src, s.src_port),
            s.dst,
            fe.name
        );
        self.logs.send(&fl.targets, INFO, &msg);
    }

    /// After an HTTP step: log a transaction that just completed (kept-alive
    /// connection) or ended in an error being drained. True when a line was
    /// emitted for a finished transaction (the next one may be waiting).
    pub(super) fn log_http_progress(&mut self, sid: usize, now: Instant) -> bool {
        let Some(s) = self.sessions[sid].as_ref() else {
            return false;
        };
        let (Some(r), Some(t)) = (s.log.as_ref(), s.http.as_ref()) else {
            return false;
        };
        if r.logged < t.requests {
            // The previous transaction finished; the next one starts now.
            self.emit(sid, now, true);
            if let Some(s) = self.sessions[sid].as_mut() {
                let (out, inb) = s.client_bytes();
                if let Some(r) = s.log.as_mut() {
                    r.next(now, out, inb);
                }
                if let Some(t) = s.http.as_mut() {
                    if t.slots.iter().any(Option::is_some) {
                        // The finished transaction's bytes go to its
                        // tracked entries before they restart from 0.
                        let tables = &mut self.shared.stick();
                        crate::proxy::stick::add_bytes(tables, &t.slots, t.htx_in, t.htx_out, now);
                    }
                    (t.htx_out, t.htx_in) = (0, 0);
                }
            }
            return true;
        }
        if t.state() == TxnState::Drain && r.logged == t.requests {
            self.emit(sid, now, false);
            rec(self.sessions[sid].as_mut(), |r| r.logged += 1);
        }
        false
    }

    /// The session closes: its last line, unless already logged, an idle
    /// kept-alive connection, or empty with `option dontlognull`.
    pub(super) fn log_close(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        if s.client.conn.tls_handshaking() {
            // No stream yet: HAProxy's line for the connection, if it failed.
            if let Some(why) = s.client.conn.tls_failure() {
                self.log_handshake_failure(sid, why);
            }
            return;
        }
        let Some(r) = s.log.as_ref() else {
            return;
        };
        let Some(fl) = self.frontends[s.frontend as usize].log.as_deref() else {
            return;
        };
        let empty = s.client_bytes().1 == r.in_base;
        if let Some(t) = s.http.as_ref() {
            if r.logged > t.requests || (t.requests > 0 && r.req_first.is_none() && empty) {
                return;
            }
        }
        let ignore_probes = self.frontends[s.frontend as usize]
            .http
            .as_ref()
            .is_some_and(|h| h.ignore_probes);
        if empty && (fl.dontlognull || (ignore_probes && s.client_bytes().1 == 0)) {
            return;
        }
        self.emit(sid, now, false);
    }

    /// Count a client's TLS handshake once it is over: a session (stot,
    /// ssl_sess) or a failure (not a timeout, as HAProxy). Called as the
    /// session goes on and when it closes.
    pub(super) fn tls_account(&mut self, sid: usize) {
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        let fi = s.frontend as usize;
        let done = if s.client.conn.tls_handshaking() {
            match s.client.conn.tls_failure() {
                Some(f)
                    if f != crate::tls::HsFailure::Timeout && s.client.conn.tls_take_failed() =>
                {
                    None
                }
                _ => return,
            }
        } else {
            match s.client.conn.tls_take_established() {
                Some(resumed) => Some(resumed),
                None => return,
            }
        };
        self.ctr.fe_tls(fi, done);
        self.ctr_dirty = true;
        if done.is_some() {
            self.log_connect_from(sid);
        }
    }

    /// A TLS handshake that failed: `SRC:PORT [ACCEPT_DATE] FE/LISTENER:
    /// WHY`, HAProxy's line for a connection that never became a stream
    /// (the listener by its `name`, else its id).
    fn log_handshake_failure(&mut self, sid: usize, why: crate::tls::HsFailure) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let fe = &self.frontends[s.frontend as usize];
        // Only frontends with a log format log it (HAProxy's `to_log`).
        let Some(fl) = fe.log.as_deref().filter(|fl| fl.format.is_some()) else {
            return;
        };
        if fl.dontlognull && why.is_null() {
            return;
        }
        let date = s
            .log
            .as_ref()
            .map_or_else(std::time::SystemTime::now, |r| r.start_date);
        let listener = fe
            .so_names
            .iter()
            .find(|(id, _)| *id == s.so_id)
            .map_or_else(|| s.so_id.to_string(), |(_, n)| n.clone());
        let msg = format!(
            "{}:{} [{}] {}/{listener}: {}",
            s.src,
            s.src_port,
            crate::log::log_date(date, true),
            fe.name,
            why.message()
        );
        let level = if fl.separate_errors { ERR } else { INFO };
        self.logs.send(&fl.targets, level, &msg);
    }

    /// `option logasap`: the line of the current transaction (HTTP: its
    /// server's response head just arrived; TCP: the server connection is
    /// up), once, with the time and bytes so far.
    pub(super) fn log_asap(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let asap = self.frontends[s.frontend as usize]
            .log
            .as_deref()
            .is_some_and(|fl| fl.logasap && fl.format.is_some());
        if !asap || s.log.as_ref().map_or(true, |r| r.asap_done) {
            return;
        }
        self.emit_as(sid, now, false, true);
        rec(self.sessions[sid].as_mut(), |r| r.asap_done = true);
    }

    /// Renders and sends the line of the session's current (or, with
    /// `previous`, just finished) transaction, unless `option logasap`
    /// sent it already.
    fn emit(&mut self, sid: usize, now: Instant, previous: bool) {
        self.emit_as(sid, now, previous, false)
    }

    fn emit_as(&mut self, sid: usize, now: Instant, previous: bool, asap: bool) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        if !asap && s.log.as_ref().is_some_and(|r| r.asap_done) {
            return;
        }
        let Some(r) = s.log.as_deref().filter(|r| !r.silent) else {
            return;
        };
        let fe = &self.frontends[s.frontend as usize];
        let Some(fl) = fe.log.as_deref() else {
            return;
        };
        let Some(format) = fl.format.as_ref() else {
            return;
        };
        let t = s.http.as_deref();
        // No backend until one was chosen: HAProxy then shows the frontend's name.
        let bi = r.backend.map(|b| b as usize);
        let be = bi.map(|b| &self.backends[b]);
        let si = r.server.map(|x| x as usize);
        let srv = be.zip(si).and_then(|(b, si)| b.servers.get(si));
        let status = t.and_then(|t| {
            (previous || t.response_started)
                .then_some(t.last_status)
                .flatten()
        });
        // HAProxy shows them for insert, rewrite, prefix or indirect, not
        // for a passive `cookie NAME` alone (PR_CK_ANY).
        let cookie = match (bi.and_then(|b| self.persist[b].cookie.as_ref()), t) {
            (Some(cc), Some(t)) if cc.mode != CookieMode::Passive || cc.indirect => {
                [t.cookie_in.letter(), t.cookie_out.letter()]
            }
            _ => *b"--",
        };
        let wire = s.client_bytes();
        // HTTP: HAProxy 2.6's count of the messages (`Txn::htx_out`), then
        // what a tunnel carried; TCP: the bytes as they flowed.
        let (bytes_out, bytes_in) = match t {
            Some(t) => {
                let (o, i) = r.tunnel_from.unwrap_or(wire);
                (
                    t.htx_out + wire.0.saturating_sub(o),
                    t.htx_in + wire.1.saturating_sub(i),
                )
            }
            None => (
                wire.0.saturating_sub(r.out_base),
                wire.1.saturating_sub(r.in_base),
            ),
        };
        let tls = s.client.conn.tls();
        let ctx = Ctx {
            rec: r,
            now,
            client: SocketAddr::new(s.src, s.src_port),
            frontend_addr: s.dst,
            frontend: &fe.name,
            backend: be.map(|b| b.name.as_str()),
            server: srv.map(|x| x.name.as_str()),
            status,
            bytes_out,
            bytes_in,
            term: r.term,
            cookie,
            actconn: self.cur_conns,
            feconn: fe.cur,
            beconn: be.map_or(0, |b| {
                b.servers.iter().map(|x| x.cur).sum::<u32>() + b.queue.len() as u32
            }),
            srvconn: srv.map_or(0, |x| x.cur),
            captured_req: t.map_or(&[][..], |t| &t.captured_req),
            captured_res: t.map_or(&[][..], |t| &t.captured_res),
            cookie_req: t.and_then(|t| t.captured_cookie.as_deref()),
            cookie_res: t.and_then(|t| t.captured_set_cookie.as_deref()),
            hostname: self.logs.hostname(),
            unique_id: t.and_then(|t| t.unique_id.as_deref()),
            counter: t.map_or(0, |t| t.req_no),
            vars: Some(&s.vars),
            tls: tls.as_ref(),
            bc_tls: r.bc_tls.as_ref(),
            asap,
        };
        let line = format.render(&ctx);
        let sd = fl.sd.as_ref().map(|f| f.render(&ctx)).unwrap_or_default();
        // HAProxy's "not normal": redispatched, ended by anything but the
        // client's or our own normal end (`-`, `L`), retried, or a 5xx.
        let error = r.redispatched
            || !matches!(r.term[0], b'-' | b'L')
            || (r.term[0] == b'-' && r.retries > 0)
            || status.is_some_and(|c| c >= 500);
        if fl.dontlog_normal && !error {
            return;
        }
        let level = if error && fl.separate_errors {
            ERR
        } else {
            INFO
        };
        self.logs.send_sd(&fl.targets, level, &line, &sd);
    }

    /// One message per proxy (a `listen` section's two halves are one) to
    /// its log targets: `msg(kind, name, (FE conns, BE conns))`.
    pub(super) fn log_proxies(
        &mut self,
        level: u8,
        msg: impl Fn(&str, &str, (u64, u64)) -> String,
    ) {
        // Process-wide messages: thread 0 speaks for all, with all counts.
        if self.tid != 0 {
            return;
        }
        let fe_cum: Vec<u64> = if self.nthreads() > 1 {
            // At start and stop: the other loops' published counters.
            let ctr = self.process_counters(false);
            ctr.fe.iter().map(|c| c.conn_tot).collect()
        } else {
            self.frontends.iter().map(|f| f.cum).collect()
        };
        let be_total: Vec<u64> = (0..self.backends.len())
            .map(|bi| self.total_lbtot(bi, None))
            .collect();
        for (fi, fe) in self.frontends.iter().enumerate() {
            if let Some(fl) = fe.log.as_deref() {
                let be = self.backends.iter().position(|b| b.name == fe.name);
                let kind = if be.is_some() { "proxy" } else { "frontend" };
                let text = msg(
                    kind,
                    &fe.name,
                    (fe_cum[fi], be.map_or(0, |bi| be_total[bi])),
                );
                self.logs.send(&fl.targets, level, &text);
            }
        }
        for (bi, be) in self.backends.iter().enumerate() {
            if !be.log_targets.is_empty() && !self.frontends.iter().any(|f| f.name == be.name) {
                let text = msg("backend", &be.name, (0, be_total[bi]));
                self.logs.send(&be.log_targets, level, &text);
            }
        }
    }

    /// A proxy's own message (server UP/DOWN) to its log targets.
    pub(super) fn log_backend(&mut self, bi: usize, level: u8, msg: &str) {
        if self.tid != 0 {
            return;
        }
        self.logs.send(&self.backends[bi].log_targets, level, msg);
    }
}
