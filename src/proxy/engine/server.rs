//! Attaching sessions to servers: balancing, queueing, non-blocking connect,
//! retries with redispatch, giving slots back; and closing sessions.

use super::logs::{self, term_at};
use super::owner::Owner;
use super::{start_connect, Engine};
use crate::conn::Side;
use crate::conn::{Conn, HalfState, Plain, Xprt};
use crate::core::Ready;
use crate::pollers::Interest;
use crate::proxy::lb::{self, Pick};
use crate::session::Phase;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

/// `minconn`/`fullconn`: a server's limit grows from minconn to maxconn as
/// the backend's load (connections attached plus queued) nears fullconn.
fn apply_dynamic_limits(be: &mut super::BackendRt) {
    if !be.minconn {
        return;
    }
    let load: u64 =
        be.servers.iter().map(|s| u64::from(s.cur)).sum::<u64>() + be.queue.len() as u64;
    for srv in be.servers.iter_mut() {
        if let (Some(max), Some(min)) = (srv.cfg_maxconn, srv.minconn) {
            let scaled = u64::from(max) * load / u64::from(be.fullconn.max(1));
            srv.maxconn = Some(scaled.clamp(u64::from(min.min(max)).max(1), u64::from(max)) as u32);
        }
    }
}

impl Engine {
    /// Pick a server of the session's backend and connect (or reuse a
    /// kept-alive connection to that same server), or queue the session.
    /// `avoid` is the server that just failed, on a redispatch.
    pub(super) fn assign(&mut self, sid: usize, avoid: Option<usize>, now: Instant) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let Some(bi) = s.backend.map(|b| b as usize) else {
            return;
        };
        logs::rec(self.sessions[sid].as_mut(), |r| r.backend = Some(bi as u32));
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let src = s.src;
        // uri / url_param / hdr hash the request, rdp-cookie the inspected
        // TCP payload; without a key the algorithm falls back to round robin.
        let key = if self.backends[bi].balance.is_hash() {
            let req = s.http.as_ref().and_then(|t| t.req.as_ref());
            let payload = s.req.as_ref().map_or(&[][..], |b| b.pending());
            lb::hash_key(&self.backends[bi].balance, req, payload)
        } else {
            None
        };
        self.refresh_backend_weights(bi, now);
        let (tid, n) = (self.tid, self.nthreads());
        let be = &mut self.backends[bi];
        apply_dynamic_limits(be);
        let input = lb::LbInput {
            src: Some(src),
            key: key.as_deref(),
        };
        // A persistence cookie or stick table may have bound the request to
        // a server (checked usable, or forced); not on a redispatch.
        let forced = self.sessions[sid]
            .as_ref()
            .and_then(|s| s.http.as_ref())
            .and_then(|t| t.forced_server)
            .filter(|&si| avoid.is_none() && si < be.servers.len());
        // The server a redispatch moves the request away from.
        let mut moved_from = avoid;
        let pick = match forced {
            Some(si) if !be.servers[si].is_full() => Pick::Server(si),
            // Bound to a busy server: wait in its own queue up to maxqueue;
            // beyond, redispatch if allowed, else 503 (HAProxy).
            Some(si)
                if be.servers[si].maxqueue.map_or(true, |m| {
                    be.servers[si].queue.len() < super::share(m, tid, n) as usize
                }) =>
            {
                let pos = be.servers[si].queue.len();
                be.servers[si].queue.push_back(sid);
                if let Some(s) = self.sessions[sid].as_mut() {
                    s.phase = Phase::Queued { since: now };
                    logs::rec(Some(s), |r| r.queued(pos, 0));
                }
                self.stats_queued(bi, Some(si));
                return;
            }
            Some(si) if !be.redispatch => {
                log::info!(
                    "backend {}: server {} queue is full (maxqueue), 503",
                    be.name,
                    be.servers[si].name
                );
                if let Some(s) = self.sessions[sid].as_mut() {
                    term_at(s, b'S', b'Q');
                }
                self.no_server(sid, now);
                return;
            }
            Some(si) => {
                moved_from = Some(si);
                lb::pick(
                    &be.balance,
                    be.hash_type,
                    &mut be.servers,
                    &mut be.lb,
                    &input,
                    Some(si),
                )
            }
            None => lb::pick(
                &be.balance,
                be.hash_type,
                &mut be.servers,
                &mut be.lb,
                &input,
                avoid,
            ),
        };
        if let Some(from) = moved_from {
            let another = !matches!(pick, Pick::Server(si) if si == from);
            if let Some(t) = self.sessions[sid].as_mut().and_then(|s| s.http.as_mut()) {
                t.redispatched(another);
            }
        }
        match pick {
            Pick::Server(si) => {
                self.stick_store_request(sid, bi, si, now);
                let s = self.sessions[sid].as_ref().expect("checked above");
                if s.phase == Phase::Connected && s.server == Some(si as u32) && s.srv.is_some() {
                    // Keep-alive: the same server again, reuse its connection.
                    logs::rec(self.sessions[sid].as_mut(), |r| r.reused(now, si));
                    let s = self.sessions[sid].as_ref().expect("checked above");
                    if !s.slot {
                        let srv = &mut self.backends[bi].servers[si];
                        srv.cur += 1;
                        srv.total += 1;
                        self.srv_gauge(bi, si, true);
                        if let Some(s) = self.sessions[sid].as_mut() {
                            s.slot = true;
                        }
                        self.stats_attach(bi, si, 0, now);
                    }
                    return;
                }
                if s.srv.is_some() {
                    self.drop_server(sid, now);
                }
                self.connect(sid, bi, si, now);
            }
            Pick::Full => {
                if self.sessions[sid].as_ref().is_some_and(|s| s.srv.is_some()) {
                    self.drop_server(sid, now);
                }
                let pos = self.backends[bi].queue.len();
                if let Some(s) = self.sessions[sid].as_mut() {
                    s.phase = Phase::Queued { since: now };
                    logs::rec(Some(s), |r| r.queued(0, pos));
                }
                self.backends[bi].queue.push_back(sid);
                self.stats_queued(bi, None);
            }
            Pick::NoServer => {
                crate::warn_limited!("backend {}: no server available", self.backends[bi].name);
                self.no_server(sid, now);
            }
        }
    }

    /// `stick on` / `stick store-request`: remember the chosen server.
    fn stick_store_request(&mut self, sid: usize, bi: usize, si: usize, now: Instant) {
        let rules = &self.persist[bi].stick;
        if rules.is_empty() {
            return;
        }
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let req = s.http.as_ref().and_then(|t| t.req.as_ref());
        let src = std::net::SocketAddr::new(s.src, s.src_port);
        let ctx = crate::http::fetch::FetchCtx::http(src, s.dst, req, None).with_vars(&s.vars);
        let tables = self.shared.stick_tables();
        crate::proxy::stick::stick_store_request(rules, tables, &ctx, si, now);
    }

    /// Nothing can serve the session: 503 in HTTP, a close in TCP.
    fn no_server(&mut self, sid: usize, now: Instant) {
        if self.sessions[sid].as_ref().is_some_and(|s| s.srv.is_some()) {
            self.drop_server(sid, now);
        }
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        // The server refused (S) or timed out (s) the connection.
        let timed_out = s.log.as_ref().is_some_and(|r| r.connect_timed_out);
        term_at(s, if timed_out { b's' } else { b'S' }, b'C');
        s.phase = Phase::Idle;
        let fe_pages = self.frontends[s.frontend as usize]
            .http
            .as_ref()
            .map(|h| &h.side.errors);
        match (s.http.as_mut(), s.backend, fe_pages) {
            (Some(txn), Some(bi), Some(fe)) => {
                txn.fail_with(503, &self.http_backends[bi as usize].errors, fe)
            }
            _ => self.close(sid),
        }
    }

    pub(super) fn connect(&mut self, sid: usize, bi: usize, si: usize, now: Instant) {
        self.stats_attach(bi, si, 1, now);
        self.srv_gauge(bi, si, true);
        let be = &mut self.backends[bi];
        let srv = &mut be.servers[si];
        srv.cur += 1;
        srv.total += 1;
        let client_dst = self.sessions[sid].as_ref().map(|s| s.dst);
        let addr = target(srv.addr, srv.map_ports, client_dst);
        let keepalive = be.srvtcpka;
        let xprt = match &srv.tls {
            None => Xprt::Plain(Plain),
            Some((ctx, sni)) => {
                // `sni EXPR`, on the request being sent.
                let name = sni.as_ref().and_then(|e| {
                    let s = self.sessions[sid].as_ref()?;
                    let req = s.http.as_ref().and_then(|t| t.req.as_ref());
                    let src = std::net::SocketAddr::new(s.src, s.src_port);
                    let ctx = crate::http::fetch::FetchCtx::http(src, s.dst, req, None)
                        .with_vars(&s.vars);
                    let v = e.fetch_one(&ctx)?.into_text()?;
                    String::from_utf8(v.into_owned()).ok()
                });
                let name = crate::tls::client::server_name(name.as_deref(), addr.ip());
                match crate::conn::Tls::client(ctx, name) {
                    Ok(t) => Xprt::Tls(Box::new(t)),
                    Err(e) => {
                        log::info!("backend {}: server {}: TLS: {e}", be.name, srv.name);
                        self.attach_failed(sid, bi, si, now);
                        return;
                    }
                }
            }
        };
        let conn = match start_connect(addr, keepalive) {
            Ok(sock) => Conn::connecting(sock, xprt),
            Err(e) => {
                log::info!("backend {}: server {}: connect: {e}", be.name, srv.name);
                self.attach_failed(sid, bi, si, now);
                return;
            }
        };
        let fd = conn.fd();
        if self.reactor.max_fd().is_some_and(|m| fd > m) {
            log::warn!("server connection fd {fd} exceeds the poller's limit; closing the session");
            self.release_server(bi, si, now);
            self.close(sid);
            return;
        }
        let token = self
            .reactor
            .register(fd, Owner::Server(sid).pack(), Interest::WRITE);
        if let Some(s) = self.sessions[sid].as_mut() {
            let queued = match s.phase {
                Phase::Queued { since } => Some(since),
                _ => None,
            };
            logs::rec(Some(s), |r| {
                r.connecting(now, queued);
                r.server = Some(si as u32);
                r.srv_addr = Some(addr);
            });
            s.server = Some(si as u32);
            s.slot = true;
            s.srv = Some(Side::new(conn, token, now));
            s.phase = Phase::Connecting { since: now };
        }
    }

    /// A connect attempt failed: retry, possibly on another server
    /// (redispatch on the last retry, as HAProxy), or give up.
    pub(super) fn attach_failed(&mut self, sid: usize, bi: usize, si: usize, now: Instant) {
        self.stats_conn_error(sid, bi, si);
        self.observe(bi, si, false, false, now);
        self.release_server(bi, si, now);
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        if let Some(side) = s.srv.take() {
            self.reactor.deregister(side.token);
            side.conn.close();
        }
        s.server = None;
        s.slot = false;
        s.phase = Phase::Idle;
        if s.retries_left == 0 {
            log::info!(
                "backend {}: connection failed after all retries",
                self.backends[bi].name
            );
            self.no_server(sid, now);
            return;
        }
        s.retries_left -= 1;
        let redispatch = s.retries_left == 0 && self.backends[bi].redispatch;
        logs::rec(Some(s), |r| {
            r.retries += 1;
            r.redispatched |= redispatch;
            r.connect_timed_out = false;
        });
        if redispatch {
            self.assign(sid, Some(si), now);
        } else {
            self.connect(sid, bi, si, now);
        }
    }

    /// Give a server slot back and let a queued session take it.
    pub(super) fn release_server(&mut self, bi: usize, si: usize, now: Instant) {
        let srv = &mut self.backends[bi].servers[si];
        if srv.cur > 0 {
            srv.cur -= 1;
            self.srv_gauge(bi, si, false);
        }
        apply_dynamic_limits(&mut self.backends[bi]);
        // Sessions waiting for this very server go first.
        while let Some(next) = self.backends[bi]
            .servers
            .get_mut(si)
            .and_then(|s| s.queue.pop_front())
        {
            let queued = self.sessions.get(next).and_then(Option::as_ref);
            if queued.is_some_and(|s| matches!(s.phase, Phase::Queued { .. })) {
                self.assign(next, None, now);
                self.refresh(next, now);
                return;
            }
        }
        while let Some(next) = self.backends[bi].queue.pop_front() {
            let queued = self.sessions.get(next).and_then(Option::as_ref);
            if queued.is_some_and(|s| matches!(s.phase, Phase::Queued { .. })) {
                self.assign(next, None, now);
                self.refresh(next, now);
                break;
            }
        }
    }

    /// An HTTP exchange ended and the session waits for the next request:
    /// give the server slot back (the connection itself stays for reuse).
    pub(super) fn end_of_exchange(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        // HAProxy releases `http-request track-sc` entries per transaction.
        let logs = s.log.is_some();
        if let Some(t) = s
            .http
            .as_mut()
            .filter(|t| t.slots.iter().any(Option::is_some))
        {
            let mut tables = self.shared.stick();
            crate::proxy::stick::add_bytes(&mut tables, &t.slots, t.htx_in, t.htx_out, now);
            crate::proxy::stick::release_stream(&mut tables, &mut t.slots, now);
            if !logs {
                // Nothing else reads them; the log resets them otherwise.
                (t.htx_in, t.htx_out) = (0, 0);
            }
        }
        if !s.slot {
            return;
        }
        // Sessions wait for a slot: close the idle connection rather than
        // keep it, so the server never holds more connections than maxconn.
        if s.backend
            .is_some_and(|b| !self.backends[b as usize].queue.is_empty())
        {
            self.drop_server(sid, now);
            return;
        }
        s.slot = false;
        if let (Some(bi), Some(si)) = (s.backend, s.server) {
            self.release_server(bi as usize, si as usize, now);
        }
    }

    /// A queued session gives up its place (closed, timed out): its log
    /// record keeps the time it waited.
    fn leave_queue(&mut self, sid: usize, now: Instant) {
        if let Some(s) = self.sessions[sid].as_mut() {
            if let Phase::Queued { since } = s.phase {
                logs::rec(Some(s), |r| r.left_queue(now, since));
            }
        }
    }

    /// Close the server connection of a session that goes on (HTTP).
    pub(super) fn drop_server(&mut self, sid: usize, now: Instant) {
        self.leave_queue(sid, now);
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        let slot = s.server.take().filter(|_| s.slot);
        s.slot = false;
        if let Some(side) = s.srv.take() {
            self.reactor.deregister(side.token);
            side.conn.close();
        }
        if let Some(b) = s.res.take() {
            self.reactor.pool.put(b);
        }
        if let Phase::Queued { .. } = s.phase {
            let bi = s.backend.unwrap_or(0) as usize;
            self.backends[bi].queue.retain(|&q| q != sid);
            for srv in &mut self.backends[bi].servers {
                srv.queue.retain(|&x| x != sid);
            }
        }
        s.phase = Phase::Idle;
        let bi = s.backend.unwrap_or(0) as usize;
        if let Some(si) = slot {
            self.release_server(bi, si as usize, now);
        }
    }

    /// Readiness on a session's socket: finish a pending connect, then let
    /// the session forward what it can.
    pub(super) fn on_session_io(&mut self, sid: usize, r: Ready) {
        let now = Instant::now();
        let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
            return;
        };
        let is_server = Owner::unpack(r.owner) == Owner::Server(sid);
        // A stale event for a token since reused by another fd: ignore it.
        let token_ok = if is_server {
            s.srv.as_ref().is_some_and(|x| x.token == r.token)
        } else {
            s.client.token == r.token
        };
        if !token_ok {
            return;
        }
        let ev = r.event;
        let side = if is_server {
            s.srv.as_mut()
        } else {
            Some(&mut s.client)
        };
        if let Some(side) = side {
            side.conn.on_event(&ev);
        }
        if let (true, Phase::Connecting { .. }) = (is_server, s.phase) {
            let Some(srv) = s.srv.as_mut() else { return };
            let (bi, si) = (
                s.backend.unwrap_or(0) as usize,
                s.server.unwrap_or(0) as usize,
            );
            // The TCP connect first, then the transport's handshake (TLS):
            // a failure of either is a failed connect, retried.
            let failed = match connect_progress(&mut srv.conn, &r.event) {
                Ok(true) => None,
                Ok(false) => {
                    self.refresh(sid, now);
                    return;
                }
                Err(e) => Some(e),
            };
            if let Some((what, e)) = failed {
                if what == "TLS handshake" {
                    self.ctr.srv_tls(bi, si, None);
                    self.ctr_dirty = true;
                }
                let be = &self.backends[bi];
                log::info!(
                    "backend {}: server {}: {what}: {e}",
                    be.name,
                    be.servers[si].name
                );
                if crate::tls::client::sni_mismatch(&e) {
                    // HAProxy: not retried; the log says all were spent.
                    s.retries_left = 0;
                    let all = be.retries;
                    logs::rec(Some(&mut *s), |r| r.retries = all);
                }
                self.attach_failed(sid, bi, si, now);
                self.refresh(sid, now);
                return;
            }
            if let Some(side) = s.srv.as_mut() {
                side.last_io = now;
                if let Some(resumed) = side.conn.tls_take_established() {
                    self.ctr.srv_tls(bi, si, Some(resumed));
                    self.ctr_dirty = true;
                }
                let local = side.conn.local_addr().ok();
                let tls = side.conn.tls();
                logs::rec(Some(&mut *s), |r| {
                    r.connected(now, local);
                    r.bc_tls = tls;
                });
            }
            // TCP mode has no reply to time: `balance response-time` uses
            // the connect time there (HTTP feeds the reply delay instead).
            if let (Phase::Connecting { since }, None) = (s.phase, s.http.as_ref()) {
                if let Some(srv) = self.backends[bi].servers.get_mut(si) {
                    srv.record_response_time(now.saturating_duration_since(since));
                }
            }
            s.phase = Phase::Connected;
            let tcp = s.http.is_none();
            let (bi, si) = (
                s.backend.unwrap_or(0) as usize,
                s.server.unwrap_or(0) as usize,
            );
            self.observe(bi, si, true, false, now);
            if tcp {
                self.log_asap(sid, now);
                self.trace_connected(sid, bi);
            }
        }
        self.refresh(sid, now);
    }

    /// `-d`: a TCP stream's server connection is up; its end lines say so.
    fn trace_connected(&mut self, sid: usize, bi: usize) {
        let Some(end) = self.trace_tcp.get_mut(&sid) else {
            return;
        };
        let sfd = self.sessions[sid]
            .as_ref()
            .and_then(|s| s.srv.as_ref())
            .map(|x| x.conn.fd());
        end.px.clone_from(&self.backends[bi].name);
        end.sfd = sfd;
    }

    /// Close both sides and give back every resource the session held.
    pub(super) fn close(&mut self, sid: usize) {
        self.stats_io(sid);
        self.leave_queue(sid, Instant::now());
        self.tls_account(sid);
        self.log_close(sid, Instant::now());
        let Some(mut s) = self.sessions.get_mut(sid).and_then(Option::take) else {
            return;
        };
        let now = Instant::now();
        let end = match s.http.as_mut() {
            Some(t) => t.trace.as_mut().and_then(|x| x.end.take()),
            None => self.trace_tcp.remove(&sid),
        };
        if let Some(end) = end {
            end.print(false);
        }
        self.reactor.deregister(s.client.token);
        s.client.conn.close();
        if let Some(srv) = s.srv.take() {
            self.reactor.deregister(srv.token);
            srv.conn.close();
        }
        if let Some((key, _)) = s.timer.take() {
            self.reactor.timers.cancel(key);
        }
        for b in [s.req.take(), s.res.take()].into_iter().flatten() {
            self.reactor.pool.put(b);
        }
        if let Some(t) = s
            .http
            .as_mut()
            .filter(|t| t.slots.iter().any(Option::is_some))
        {
            let mut tables = self.shared.stick();
            crate::proxy::stick::add_bytes(&mut tables, &t.slots, t.htx_in, t.htx_out, now);
            crate::proxy::stick::release(&mut tables, &mut t.slots, now);
        }
        if let Some(mut slots) = self.tcp_slots.remove(&sid) {
            // (`stats_io` above counted their last bytes.)
            crate::proxy::stick::release(&mut self.shared.stick(), &mut slots, now);
        }
        let bi = s.backend.unwrap_or(0) as usize;
        if let Phase::Queued { .. } = s.phase {
            self.backends[bi].queue.retain(|&q| q != sid);
            for srv in &mut self.backends[bi].servers {
                srv.queue.retain(|&x| x != sid);
            }
        }
        self.free_sids.push(sid);
        self.cur_conns = self.cur_conns.saturating_sub(1);
        let fi = s.frontend as usize;
        if self.frontends[fi].cur > 0 {
            self.frontends[fi].cur -= 1;
            self.fe_gauge(fi, false);
        }
        if let (Some(si), true) = (s.server, s.slot) {
            self.release_server(bi, si as usize, now);
        }
        self.resume_listeners();
    }
}

/// Where a connect in flight stands after readiness `ev`: Ok(true) once the
/// TCP connect and the transport's handshake are done, Ok(false) while
/// either waits, else which step failed and why.
pub(super) fn connect_progress(
    conn: &mut Conn,
    ev: &crate::pollers::Event,
) -> Result<bool, (&'static str, io::Error)> {
    if conn.state() == HalfState::Connecting {
        let err = match conn.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) if ev.error || (ev.hup && !ev.writable) => Some(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "connection failed",
            )),
            Ok(None) if ev.writable => None,
            Ok(None) => return Ok(false),
        };
        if let Some(e) = err {
            // A reset once the connect went through (the peer closed on
            // the ClientHello) is the handshake's failure.
            let reset = matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            );
            if reset && ev.writable && conn.tls().is_some() {
                conn.connected();
                return Err(("TLS handshake", e));
            }
            return Err(("connect", e));
        }
        conn.connected();
    }
    conn.handshake().map_err(|e| ("TLS handshake", e))
}

/// Where a server connection goes: its address, where an unspecified IP
/// (`0.0.0.0`, `*`) takes the client's destination address (after
/// `set-dst`), and a mapped port the client's destination port plus the
/// offset (16-bit arithmetic, as HAProxy).
fn target(addr: SocketAddr, map_ports: Option<i32>, client_dst: Option<SocketAddr>) -> SocketAddr {
    let Some(dst) = client_dst else {
        return addr;
    };
    let mut to = addr;
    if addr.ip().is_unspecified() {
        to.set_ip(dst.ip());
    }
    if let Some(off) = map_ports {
        to.set_port((i32::from(dst.port()) + off) as u16);
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::lb::{LbState, ServerRt};

    fn backend(load_cur: u32, queued: usize) -> super::super::rt::BackendRt {
        let mut s = ServerRt::new(
            "a".into(),
            "127.0.0.1:1".parse().unwrap(),
            1,
            1,
            false,
            false,
            Some(100),
        );
        s.cur = load_cur;
        s.minconn = Some(10);
        super::super::rt::BackendRt {
            name: "be".into(),
            balance: crate::config::Balance::RoundRobin,
            hash_type: Default::default(),
            servers: vec![s],
            lb: LbState::default(),
            queue: (0..queued).collect(),
            timeouts: Default::default(),
            retries: 0,
            redispatch: false,
            srvtcpka: false,
            fullconn: 1000,
            abortonclose: false,
            log_targets: Vec::new(),
            slowstart: false,
            minconn: true,
        }
    }

    #[test]
    fn minconn_applies_at_low_load_and_maxconn_at_fullconn() {
        let mut be = backend(5, 0);
        apply_dynamic_limits(&mut be);
        assert_eq!(be.servers[0].maxconn, Some(10), "low load: minconn");
        let mut be = backend(100, 400);
        apply_dynamic_limits(&mut be);
        assert_eq!(
            be.servers[0].maxconn,
            Some(50),
            "half of fullconn: half of maxconn"
        );
        let mut be = backend(100, 5000);
        apply_dynamic_limits(&mut be);
        assert_eq!(be.servers[0].maxconn, Some(100), "past fullconn: maxconn");
    }
}
