//! The engine: builds listeners, frontends and backends from the config, then
//! runs the event loop, dispatching readiness and timer events to listeners
//! and sessions. Owners registered with the reactor encode (id, kind).

use super::lb::{self, LbState, Pick, ServerRt};
use super::listener;
use crate::config::{self, Balance, Timeouts};
use crate::core::{Reactor, Ready};
use crate::pollers::{Interest, Token};
use crate::session::{Abort, HalfEvent, HalfState, Phase, Session, Side};
use crate::sys::{self, SignalPipe};
use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use std::collections::VecDeque;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

// Owner kinds, in the low two bits of a reactor owner.
const K_LISTENER: usize = 0;
const K_CLIENT: usize = 1;
const K_SERVER: usize = 2;
const K_SIGNAL: usize = 3;
/// Timer owner for "try resuming paused listeners" (after EMFILE and such).
const RESUME_TIMER: usize = usize::MAX;

fn owner(id: usize, kind: usize) -> usize {
    (id << 2) | kind
}

struct Listener {
    sock: TcpListener,
    token: Token,
    frontend: usize,
    paused: bool,
}

struct FrontendRt {
    name: String,
    maxconn: Option<u32>,
    cur: u32,
    backend: Option<usize>,
    timeouts: Timeouts,
    clitcpka: bool,
}

struct BackendRt {
    name: String,
    balance: Balance,
    servers: Vec<ServerRt>,
    lb: LbState,
    queue: VecDeque<usize>,
    timeouts: Timeouts,
    retries: u32,
    redispatch: bool,
    srvtcpka: bool,
}

pub struct Engine {
    reactor: Reactor,
    listeners: Vec<Listener>,
    frontends: Vec<FrontendRt>,
    backends: Vec<BackendRt>,
    sessions: Vec<Option<Session>>,
    free_sids: Vec<usize>,
    /// Sessions currently open, against the global maxconn.
    cur_conns: u32,
    maxconn: u32,
    maxaccept: u32,
    signals: Option<SignalPipe>,
    /// Soft stop (SIGUSR1): listeners closed, exit once sessions are done.
    soft_stop: bool,
    stop: bool,
    any_paused: bool,
}

/// Bind every listener; errors name the frontend and address, as HAProxy's
/// "Starting frontend X: cannot bind socket" alert does.
pub fn bind_all(cfg: &config::Config) -> Result<Vec<(usize, TcpListener)>, String> {
    let mut out = Vec::new();
    for (fi, fe) in cfg
        .frontends
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.disabled)
    {
        let backlog = fe.maxconn.unwrap_or(cfg.global.maxconn).clamp(128, 65535) as i32;
        for bind in &fe.binds {
            for addr in &bind.addrs {
                let l = listener::open(addr, backlog).map_err(|e| {
                    format!(
                        "{}:{}: Starting frontend {}: cannot bind socket ({e}) [{}]",
                        bind.origin.file,
                        bind.origin.line,
                        fe.name,
                        listener::describe(addr)
                    )
                })?;
                out.push((fi, l));
            }
        }
    }
    Ok(out)
}

impl Engine {
    /// Build the run-time state from the config and the already-bound listeners.
    pub fn new(
        cfg: &config::Config,
        mut reactor: Reactor,
        socks: Vec<(usize, TcpListener)>,
    ) -> io::Result<Engine> {
        let backends: Vec<BackendRt> = cfg
            .backends
            .iter()
            .map(|b| BackendRt {
                name: b.name.clone(),
                balance: b.balance,
                servers: b
                    .servers
                    .iter()
                    .map(|s| {
                        ServerRt::new(
                            s.name.clone(),
                            s.addr,
                            s.weight,
                            s.backup,
                            s.disabled,
                            s.maxconn,
                        )
                    })
                    .collect(),
                lb: LbState::default(),
                queue: VecDeque::new(),
                timeouts: b.timeouts,
                retries: b.retries,
                redispatch: b.redispatch,
                srvtcpka: b.srvtcpka,
            })
            .collect();
        let frontends = cfg
            .frontends
            .iter()
            .map(|f| FrontendRt {
                name: f.name.clone(),
                maxconn: f.maxconn.filter(|&m| m > 0),
                cur: 0,
                backend: f
                    .default_backend
                    .as_ref()
                    .and_then(|n| cfg.backends.iter().position(|b| &b.name == n)),
                timeouts: f.timeouts,
                clitcpka: f.clitcpka,
            })
            .collect();
        let mut listeners = Vec::new();
        for (i, (fi, sock)) in socks.into_iter().enumerate() {
            let token = reactor.register(fd_of(&sock), owner(i, K_LISTENER), Interest::READ);
            listeners.push(Listener {
                sock,
                token,
                frontend: fi,
                paused: false,
            });
        }
        let signals = SignalPipe::install()?;
        reactor.register(signals.fd(), owner(0, K_SIGNAL), Interest::READ);
        Ok(Engine {
            reactor,
            listeners,
            frontends,
            backends,
            sessions: Vec::new(),
            free_sids: Vec::new(),
            cur_conns: 0,
            maxconn: cfg.global.maxconn.max(1),
            maxaccept: cfg.global.maxaccept.max(1),
            signals: Some(signals),
            soft_stop: false,
            stop: false,
            any_paused: false,
        })
    }

    /// Run until SIGINT/SIGTERM, or until a soft stop has drained all sessions.
    pub fn run(&mut self) -> io::Result<()> {
        let mut ready: Vec<Ready> = Vec::with_capacity(256);
        while !self.stop {
            if self.soft_stop && self.cur_conns == 0 {
                break;
            }
            ready.clear();
            self.reactor.poll(&mut ready, None)?;
            for r in ready.drain(..) {
                self.dispatch(r);
            }
            let now = Instant::now();
            while let Some(o) = self.reactor.timers.pop_expired(now) {
                self.on_timer(o, now);
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, r: Ready) {
        let id = r.owner >> 2;
        match r.owner & 3 {
            K_LISTENER => self.on_accept(id),
            K_CLIENT | K_SERVER => self.on_session_io(id, r),
            _ => self.on_signal(),
        }
    }

    fn on_signal(&mut self) {
        let Some(sp) = self.signals.as_mut() else {
            return;
        };
        for sig in sp.drain() {
            match sig {
                sys::SIGUSR1 => {
                    log::warn!(
                        "soft stop: closing listeners, {} sessions to finish",
                        self.cur_conns
                    );
                    self.soft_stop = true;
                    for l in std::mem::take(&mut self.listeners) {
                        self.reactor.deregister(l.token);
                    }
                }
                _ => {
                    log::info!("signal {sig}: stopping");
                    self.stop = true;
                }
            }
        }
    }

    // ---- accepting ----

    fn at_limit(&self, fi: usize) -> bool {
        let fe = &self.frontends[fi];
        self.cur_conns >= self.maxconn || fe.maxconn.is_some_and(|m| fe.cur >= m)
    }

    fn pause(&mut self, li: usize) {
        let l = &mut self.listeners[li];
        if !l.paused {
            l.paused = true;
            self.reactor.set_want(l.token, Interest::NONE);
            self.any_paused = true;
        }
    }

    /// Resume listeners whose frontend is below its limits again.
    fn resume_listeners(&mut self) {
        if !self.any_paused || self.stop {
            return;
        }
        let mut still = false;
        for li in 0..self.listeners.len() {
            if !self.listeners[li].paused {
                continue;
            }
            if self.at_limit(self.listeners[li].frontend) {
                still = true;
            } else {
                self.listeners[li].paused = false;
                self.reactor
                    .set_want(self.listeners[li].token, Interest::READ);
            }
        }
        self.any_paused = still;
    }

    fn on_accept(&mut self, li: usize) {
        let Some(l) = self.listeners.get(li) else {
            return;
        };
        let fi = l.frontend;
        for _ in 0..self.maxaccept {
            if self.at_limit(fi) {
                // Stop accepting: extra clients wait in the kernel backlog.
                self.pause(li);
                return;
            }
            match sys::accept_nonblocking(&self.listeners[li].sock) {
                Ok((sock, peer)) => self.new_session(fi, sock, peer.ip()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), io::ErrorKind::ConnectionAborted) => continue,
                Err(e) => {
                    // EMFILE/ENFILE/ENOBUFS: back off instead of spinning.
                    log::warn!(
                        "frontend {}: accept failed: {e}; pausing 100ms",
                        self.frontends[fi].name
                    );
                    self.pause(li);
                    self.reactor
                        .timers
                        .add(Instant::now() + Duration::from_millis(100), RESUME_TIMER);
                    return;
                }
            }
        }
    }

    fn new_session(&mut self, fi: usize, sock: TcpStream, src: std::net::IpAddr) {
        let fd = fd_of(&sock);
        if let Some(max) = self.reactor.max_fd() {
            if fd > max {
                log::warn!(
                    "frontend {}: fd {fd} is above the {} poller's limit {max}; closing the connection",
                    self.frontends[fi].name,
                    self.reactor.poller_name()
                );
                return;
            }
        }
        let fe = &self.frontends[fi];
        if fe.clitcpka {
            let _ = SockRef::from(&sock).set_keepalive(true);
        }
        let Some(bi) = fe.backend else {
            log::info!(
                "frontend {}: no backend for the connection, closing it",
                fe.name
            );
            return;
        };
        let now = Instant::now();
        let sid = self.free_sids.pop().unwrap_or_else(|| {
            self.sessions.push(None);
            self.sessions.len() - 1
        });
        let token = self
            .reactor
            .register(fd, owner(sid, K_CLIENT), Interest::READ);
        let retries = self.backends[bi].retries;
        self.sessions[sid] = Some(Session {
            frontend: fi as u32,
            backend: Some(bi as u32),
            server: None,
            src,
            client: Side::new(sock, token, HalfState::Established, now),
            srv: None,
            req: None,
            res: None,
            phase: Phase::Queued { since: now },
            retries_left: retries,
            timer: None,
        });
        self.cur_conns += 1;
        self.frontends[fi].cur += 1;
        self.assign(sid, None, now);
        self.refresh(sid, now);
    }

    // ---- server side ----

    /// Pick a server and start connecting, or queue the session. `avoid` is
    /// the server that just failed, on a redispatch.
    fn assign(&mut self, sid: usize, avoid: Option<usize>, now: Instant) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let bi = s.backend.unwrap_or(0) as usize;
        let src = s.src;
        let be = &mut self.backends[bi];
        match lb::pick(be.balance, &mut be.servers, &mut be.lb, Some(src), avoid) {
            Pick::Server(si) => self.connect(sid, bi, si, now),
            Pick::Full => {
                if let Some(s) = self.sessions[sid].as_mut() {
                    s.phase = Phase::Queued { since: now };
                }
                self.backends[bi].queue.push_back(sid);
            }
            Pick::NoServer => {
                log::warn!("backend {}: no server available", self.backends[bi].name);
                self.close(sid);
            }
        }
    }

    fn connect(&mut self, sid: usize, bi: usize, si: usize, now: Instant) {
        let be = &mut self.backends[bi];
        let srv = &mut be.servers[si];
        srv.cur += 1;
        srv.total += 1;
        let addr = srv.addr;
        let keepalive = be.srvtcpka;
        let sock = match start_connect(addr, keepalive) {
            Ok(sock) => sock,
            Err(e) => {
                log::info!("backend {}: server {}: connect: {e}", be.name, srv.name);
                self.attach_failed(sid, bi, si, now);
                return;
            }
        };
        let fd = fd_of(&sock);
        if self.reactor.max_fd().is_some_and(|m| fd > m) {
            log::warn!("server connection fd {fd} exceeds the poller's limit; closing the session");
            self.release_server(bi, si, now);
            self.close(sid);
            return;
        }
        let token = self
            .reactor
            .register(fd, owner(sid, K_SERVER), Interest::WRITE);
        if let Some(s) = self.sessions[sid].as_mut() {
            s.server = Some(si as u32);
            s.srv = Some(Side::new(sock, token, HalfState::Connecting, now));
            s.phase = Phase::Connecting { since: now };
        }
    }

    /// A connect attempt failed before or while connecting: retry, possibly on
    /// another server (redispatch on the last retry, as HAProxy), or give up.
    fn attach_failed(&mut self, sid: usize, bi: usize, si: usize, now: Instant) {
        self.release_server(bi, si, now);
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        if let Some(side) = s.srv.take() {
            self.reactor.deregister(side.token);
        }
        s.server = None;
        if s.retries_left == 0 {
            log::info!(
                "backend {}: connection failed after all retries; closing the client",
                self.backends[bi].name
            );
            self.close(sid);
            return;
        }
        s.retries_left -= 1;
        let be = &mut self.backends[bi];
        if s.retries_left == 0 && be.redispatch {
            self.assign(sid, Some(si), now);
        } else {
            self.connect(sid, bi, si, now);
        }
        self.refresh(sid, now);
    }

    /// Give a server slot back and let a queued session take it.
    fn release_server(&mut self, bi: usize, si: usize, now: Instant) {
        let srv = &mut self.backends[bi].servers[si];
        srv.cur = srv.cur.saturating_sub(1);
        while let Some(next) = self.backends[bi].queue.pop_front() {
            if self
                .sessions
                .get(next)
                .and_then(Option::as_ref)
                .is_some_and(|s| matches!(s.phase, Phase::Queued { .. }))
            {
                self.assign(next, None, now);
                self.refresh(next, now);
                break;
            }
        }
    }

    // ---- session I/O ----

    fn on_session_io(&mut self, sid: usize, r: Ready) {
        let now = Instant::now();
        let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
            return;
        };
        let is_server = r.owner & 3 == K_SERVER;
        // A stale event for a token since reused by another fd: ignore it.
        let token_ok = if is_server {
            s.srv.as_ref().is_some_and(|x| x.token == r.token)
        } else {
            s.client.token == r.token
        };
        if !token_ok {
            return;
        }
        if is_server {
            if let Phase::Connecting { .. } = s.phase {
                let Some(srv) = s.srv.as_ref() else { return };
                let err = match srv.sock.take_error() {
                    Ok(Some(e)) => Some(e),
                    Err(e) => Some(e),
                    Ok(None) if r.event.error || (r.event.hup && !r.event.writable) => Some(
                        io::Error::new(io::ErrorKind::ConnectionRefused, "connection failed"),
                    ),
                    Ok(None) if r.event.writable => None,
                    Ok(None) => return,
                };
                let (bi, si) = (
                    s.backend.unwrap_or(0) as usize,
                    s.server.unwrap_or(0) as usize,
                );
                if let Some(e) = err {
                    log::info!(
                        "backend {}: server {}: connect: {e}",
                        self.backends[bi].name,
                        self.backends[bi].servers[si].name
                    );
                    self.attach_failed(sid, bi, si, now);
                    return;
                }
                if let Some(side) = s.srv.as_mut() {
                    side.state = side.state.next(HalfEvent::Connected);
                    side.last_io = now;
                }
                s.phase = Phase::Connected;
            }
        }
        self.refresh(sid, now);
    }

    /// Forward what can be forwarded, then update interests and the timer, or
    /// close the session if it is finished or failed.
    fn refresh(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
            return;
        };
        if let Err(abort) = s.pump(&mut self.reactor.pool, now) {
            match abort {
                Abort::Client(e) => log::debug!("session {sid}: client side: {e}"),
                Abort::Server(e) => log::debug!("session {sid}: server side: {e}"),
            }
            self.close(sid);
            return;
        }
        if s.is_done() {
            self.close(sid);
            return;
        }
        let (ci, si) = s.interests();
        self.reactor.set_want(s.client.token, ci);
        if let (Some(srv), Some(si)) = (s.srv.as_ref(), si) {
            self.reactor.set_want(srv.token, si);
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
                s.timer = Some((self.reactor.timers.add(d, owner(sid, K_CLIENT)), d));
            }
            (Some(d), None) => {
                s.timer = Some((self.reactor.timers.add(d, owner(sid, K_CLIENT)), d))
            }
            _ => {}
        }
    }

    /// The earliest moment one of the session's timeouts can fire.
    fn deadline(&self, sid: usize) -> Option<Instant> {
        let s = self.sessions[sid].as_ref()?;
        let fe = &self.frontends[s.frontend as usize].timeouts;
        let be = &self.backends[s.backend.unwrap_or(0) as usize].timeouts;
        let after = |t: Instant, d: Option<Duration>| d.map(|d| t + d);
        let min = |a: Option<Instant>, b: Option<Instant>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        // Once connected, `timeout tunnel` supersedes client and server.
        let tunnel = be.tunnel.or(fe.tunnel);
        let (cli_to, srv_to) = match (s.phase, tunnel) {
            (Phase::Connected, Some(t)) => (Some(t), Some(t)),
            _ => (fe.client, be.server),
        };
        let mut d = after(s.client.last_io, cli_to);
        match s.phase {
            // HAProxy: an unset `timeout queue` falls back to `timeout connect`.
            Phase::Queued { since } => d = min(d, after(since, be.queue.or(be.connect))),
            Phase::Connecting { since } => d = min(d, after(since, be.connect)),
            Phase::Connected => d = min(d, s.srv.as_ref().and_then(|x| after(x.last_io, srv_to))),
        }
        d
    }

    fn on_timer(&mut self, o: usize, now: Instant) {
        if o == RESUME_TIMER {
            self.resume_listeners();
            return;
        }
        let sid = o >> 2;
        let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
            return;
        };
        s.timer = None;
        match self.deadline(sid) {
            Some(d) if d <= now => self.expire(sid, now),
            _ => self.refresh(sid, now),
        }
    }

    /// A timeout fired: a pending connect counts as a failed attempt; any
    /// other timeout closes the session.
    fn expire(&mut self, sid: usize, now: Instant) {
        let Some(s) = self.sessions[sid].as_ref() else {
            return;
        };
        let bi = s.backend.unwrap_or(0) as usize;
        let be = &self.backends[bi].timeouts;
        let client_expired = self.frontends[s.frontend as usize]
            .timeouts
            .client
            .is_some_and(|t| s.client.last_io + t <= now);
        if let (Phase::Connecting { since }, false) = (s.phase, client_expired) {
            if be.connect.is_some_and(|t| since + t <= now) {
                let si = s.server.unwrap_or(0) as usize;
                log::info!("backend {}: connect timeout", self.backends[bi].name);
                self.attach_failed(sid, bi, si, now);
                return;
            }
        }
        log::info!("session {sid}: timeout ({:?})", s.phase);
        self.close(sid);
    }

    /// Close both sides and give back every resource the session held.
    fn close(&mut self, sid: usize) {
        let Some(mut s) = self.sessions.get_mut(sid).and_then(Option::take) else {
            return;
        };
        let now = Instant::now();
        self.reactor.deregister(s.client.token);
        if let Some(srv) = s.srv.take() {
            self.reactor.deregister(srv.token);
        }
        if let Some((key, _)) = s.timer.take() {
            self.reactor.timers.cancel(key);
        }
        for b in [s.req.take(), s.res.take()].into_iter().flatten() {
            self.reactor.pool.put(b);
        }
        let bi = s.backend.unwrap_or(0) as usize;
        if let Phase::Queued { .. } = s.phase {
            self.backends[bi].queue.retain(|&q| q != sid);
        }
        self.free_sids.push(sid);
        self.cur_conns = self.cur_conns.saturating_sub(1);
        let fe = &mut self.frontends[s.frontend as usize];
        fe.cur = fe.cur.saturating_sub(1);
        if let Some(si) = s.server {
            self.release_server(bi, si as usize, now);
        }
        self.resume_listeners();
    }
}

/// Non-blocking connect; EINPROGRESS is the normal outcome.
fn start_connect(addr: std::net::SocketAddr, keepalive: bool) -> io::Result<TcpStream> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_nonblocking(true)?;
    sock.set_tcp_nodelay(true)?;
    if keepalive {
        sock.set_tcp_keepalive(&TcpKeepalive::new())?;
    }
    match sock.connect(&addr.into()) {
        Ok(()) => {}
        Err(e)
            if e.raw_os_error() == Some(libc::EINPROGRESS)
                || e.kind() == io::ErrorKind::WouldBlock => {}
        Err(e) => return Err(e),
    }
    Ok(sock.into())
}

fn fd_of<T: std::os::fd::AsRawFd>(t: &T) -> std::os::fd::RawFd {
    t.as_raw_fd()
}
