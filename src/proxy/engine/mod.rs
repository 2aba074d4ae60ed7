//! The engine: builds listeners, frontends and backends from the config, then
//! runs the event loop, dispatching readiness and timer events to listeners
//! and sessions (what a reactor or timer owner stands for: `owner.rs`).
//! `server.rs` attaches sessions to servers; `flow.rs` drives a session after
//! each event (TCP forwarding, content inspection, the HTTP analysers).

/// A process-wide message (server state, proxy start/stop): said by thread 0
/// only, which every change reaches, so `nbthread` does not repeat it.
macro_rules! once {
    ($level:ident, $tid:expr, $($arg:tt)+) => {
        if $tid == 0 {
            log::$level!($($arg)+);
        }
    };
}

mod admin;
mod bad_msgs;
mod cli;
mod flow;
mod glue;
mod health;
mod logs;
mod owner;
mod procctl;
mod rt;
mod server;
mod snapshot;
mod state_file;
mod stats;
mod threads;
mod view;

pub use stats::Admin;
pub use threads::{share, split as split_listeners, Shared};

use super::listener;
use crate::config;
use crate::conn::Side;
use crate::conn::{Conn, Plain, Xprt};
use crate::core::{Reactor, Ready};
use crate::http::fetch::FetchCtx;
use crate::http::rules::TcpAction;
use crate::pollers::{Interest, Token};
use crate::sample::vars::Vars;
use crate::session::txn::{HttpSide, Txn};
use crate::session::{Phase, Session};
use crate::sys::{self, SignalPipe};
use owner::{Owner, Timer};
use rt::{BackendRt, FrontendRt};
use socket2::{Domain, TcpKeepalive};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

pub(super) use super::lb::WEIGHT_SCALE;

struct Listener {
    sock: TcpListener,
    token: Token,
    frontend: usize,
    paused: bool,
    /// The bound address when it is a specific one: then every accepted
    /// connection's destination is known without a getsockname(2).
    addr: Option<SocketAddr>,
    /// `bind ... ssl`: the TLS context its connections start with.
    tls: Option<crate::tls::server::ServerCtx>,
    /// HAProxy's listener id (`so_id`).
    so_id: u32,
}

/// The bind line (and address in it) a listening socket belongs to: the
/// line naming its address (or its port on a wildcard address); a
/// frontend's only bind line when no address says (port 0, `fd@N`).
fn bind_at(fe: &config::Frontend, local: Option<SocketAddr>) -> Option<(usize, usize)> {
    let at = |a: &config::BindAddr| match (a, local) {
        (config::BindAddr::Inet(sa), Some(l)) => {
            sa.port() == l.port() && (sa.ip() == l.ip() || sa.ip().is_unspecified())
        }
        _ => false,
    };
    for (bi, b) in fe.binds.iter().enumerate() {
        if let Some(ai) = b.addrs.iter().position(at) {
            return Some((bi, ai));
        }
    }
    match fe.binds.as_slice() {
        [_] => Some((0, 0)),
        _ => None,
    }
}

pub use cli::{bind_cli, bind_cli_addr};

pub struct Engine {
    reactor: Reactor,
    listeners: Vec<Listener>,
    frontends: Vec<FrontendRt>,
    backends: Vec<BackendRt>,
    /// HTTP settings of each backend (empty for TCP ones), apart from
    /// `backends` so the analysers can read them while a session is borrowed.
    http_backends: Vec<HttpSide>,
    sessions: Vec<Option<Session>>,
    free_sids: Vec<usize>,
    /// Sessions currently open, against the global maxconn.
    cur_conns: u32,
    maxconn: u32,
    maxaccept: u32,
    /// tune.bufsize - tune.maxrewrite: the most bytes an HTTP head may take.
    max_head: usize,
    /// Health checks of the servers that have `check`, and each backend's
    /// check settings (for servers added at run time).
    checks: Vec<health::CheckRt>,
    health_cfg: Vec<config::HealthConfig>,
    /// Per backend: its name and persistence settings (its servers as
    /// persistence sees them: `ServerRt::view`). The stick tables are in
    /// `shared`.
    be_names: Vec<String>,
    /// An empty set of stick tables, lent to the analysers when the config
    /// has none (no lock to take then).
    has_stick: bool,
    /// What `tcp-request` rules track in `mode tcp` sessions, by session
    /// (HTTP keeps them in its transaction; kept here so that sessions
    /// stay small).
    tcp_slots: fnv::FnvHashMap<usize, crate::http::track::Slots>,
    /// `-d`: how each TCP stream ends (HTTP's are in their transactions).
    trace_tcp: fnv::FnvHashMap<usize, crate::core::trace::End>,
    persist: Vec<crate::config::Persistence>,
    signals: Option<SignalPipe>,
    /// Soft stop (SIGUSR1): listeners closed, exit once sessions are done.
    soft_stop: bool,
    stop: bool,
    any_paused: bool,
    /// The runtime API: `stats socket` listeners and their connections.
    cli_listeners: Vec<cli::CliListener>,
    clis: Vec<Option<cli::CliClient>>,
    cli_timeout: Duration,
    /// The configured global maxconn: `set maxconn global` may not exceed it.
    hard_maxconn: u32,
    /// Syslog sockets.
    logs: crate::log::Hub,
    /// Signals, hard-stop-after, the socket exposing listeners on reload.
    proc: procctl::ProcCtl,
    /// What the stats need from the config.
    stats: stats::StatsRt,
    /// `nbthread`: this loop's index, what all loops share (counters,
    /// stick tables, kept errors), and the read end of our mailbox.
    tid: usize,
    shared: std::sync::Arc<Shared>,
    /// This thread's activity counters (the stats add every thread's up),
    /// and whether they moved since last published.
    ctr: crate::proxy::counters::Counters,
    ctr_dirty: bool,
    mailbox: Option<std::os::unix::net::UnixStream>,
    /// The config's ACL and map references (shared by every thread).
    patterns: crate::sample::patref::Registry,
    /// The certificate store and `crt-base`, for the runtime API.
    certs: crate::tls::store::Store,
    crt_base: Option<String>,
}

/// Bind every listener, reusing a socket taken over from an old process
/// (`taken`, by address) where there is one; errors name the frontend and
/// address, as HAProxy's "Starting frontend X: cannot bind socket" alert does.
pub fn bind_all(
    cfg: &config::Config,
    taken: &mut Vec<(SocketAddr, TcpListener)>,
) -> Result<Vec<(usize, TcpListener)>, String> {
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
                // With several threads, one socket each where the kernel
                // spreads connections over SO_REUSEPORT sockets; elsewhere
                // the threads share one (threads::split).
                let mut want = 1;
                if let config::BindAddr::Inet(sa) = addr {
                    if cfg.global.nbthread > 1
                        && !cfg.global.noreuseport
                        && sys::REUSEPORT_BALANCES
                        && sa.port() != 0
                    {
                        want = cfg.global.nbthread;
                    }
                    // Every socket the old process had for this address:
                    // one closed here would drop its queued connections.
                    let mut got = 0;
                    while let Some(l) = super::takeover::take(taken, *sa) {
                        out.push((fi, l));
                        got += 1;
                    }
                    want = want.saturating_sub(got);
                }
                for _ in 0..want {
                    out.push((fi, open_listener(cfg, fe, bind, addr, backlog)?));
                }
            }
        }
    }
    Ok(out)
}

fn open_listener(
    cfg: &config::Config,
    fe: &config::Frontend,
    bind: &config::Bind,
    addr: &config::BindAddr,
    backlog: i32,
) -> Result<TcpListener, String> {
    listener::open(addr, backlog, !cfg.global.noreuseport).map_err(|e| {
        format!(
            "{}:{}: Starting frontend {}: cannot bind socket ({e}) [{}]",
            bind.origin.file,
            bind.origin.line,
            fe.name,
            listener::describe(addr)
        )
    })
}

impl Engine {
    /// Build the run-time state from the config and the already-bound listeners.
    pub fn new(
        cfg: &config::Config,
        mut reactor: Reactor,
        socks: Vec<(usize, TcpListener)>,
        shared: std::sync::Arc<Shared>,
        tid: usize,
    ) -> io::Result<Engine> {
        let n = shared.nthreads();
        let mut backends: Vec<BackendRt> = cfg
            .backends
            .iter()
            .map(|b| BackendRt::new(cfg, b, tid, n))
            .collect();
        for (bi, b) in backends.iter_mut().enumerate() {
            for (si, s) in b.servers.iter_mut().enumerate() {
                s.cur_all = shared.srv_gauge(bi, si);
            }
        }
        let frontends = cfg
            .frontends
            .iter()
            .map(|f| FrontendRt::new(cfg, f))
            .collect();
        let mut listeners = Vec::new();
        for (i, (fi, sock)) in socks.into_iter().enumerate() {
            let token = reactor.register(fd_of(&sock), Owner::Listener(i).pack(), Interest::READ);
            let local = sock.local_addr().ok();
            let fe = &cfg.frontends[fi];
            let at = bind_at(fe, local);
            let tls = at.and_then(|(b, _)| fe.binds[b].ssl.ctx.clone());
            let so_id = at
                .and_then(|(b, a)| Some(*config::listener_ids(&fe.binds).get(b)?.get(a)?))
                .unwrap_or(0);
            listeners.push(Listener {
                sock,
                token,
                frontend: fi,
                paused: false,
                addr: local.filter(|a| !a.ip().is_unspecified()),
                tls,
                so_id,
            });
        }
        let mut logs = crate::log::Hub::new(&cfg.global.log);
        for f in cfg.frontends.iter().filter_map(|f| f.log.as_ref()) {
            logs.open(&f.targets)?;
        }
        for b in &cfg.backends {
            logs.open(&b.log_targets)?;
        }
        // Signals and the runtime API are thread 0's.
        let signals = if tid == 0 {
            let sp = SignalPipe::install()?;
            reactor.register(sp.fd(), Owner::Signal.pack(), Interest::READ);
            Some(sp)
        } else {
            None
        };
        let mailbox = shared.take_mailbox(tid);
        if let Some(m) = &mailbox {
            reactor.register(fd_of(m), Owner::Mail.pack(), Interest::READ);
        }
        Ok(Engine {
            reactor,
            listeners,
            frontends,
            backends,
            http_backends: cfg
                .backends
                .iter()
                .map(|b| glue::http_backend(b, cfg.global.comp_level))
                .collect(),
            sessions: Vec::new(),
            free_sids: Vec::new(),
            cur_conns: 0,
            maxconn: cfg.global.maxconn.max(1),
            maxaccept: cfg.global.maxaccept.max(1),
            max_head: cfg
                .global
                .bufsize
                .saturating_sub(cfg.global.maxrewrite)
                .max(1024),
            checks: health::build(cfg, Instant::now()),
            health_cfg: cfg.backends.iter().map(|b| b.health.clone()).collect(),
            be_names: cfg.backends.iter().map(|b| b.name.clone()).collect(),
            has_stick: !cfg.stick_tables.is_empty(),
            tcp_slots: Default::default(),
            trace_tcp: Default::default(),
            persist: cfg.backends.iter().map(|b| b.persist.clone()).collect(),
            signals,
            soft_stop: false,
            stop: false,
            any_paused: false,
            cli_listeners: Vec::new(),
            clis: Vec::new(),
            cli_timeout: cfg.global.stats_timeout,
            hard_maxconn: cfg.global.maxconn.max(1),
            logs,
            proc: procctl::ProcCtl::new(cfg),
            stats: stats::build(cfg),
            tid,
            ctr: crate::proxy::counters::Counters::new(
                cfg.frontends.len(),
                &cfg.backends
                    .iter()
                    .map(|b| b.servers.len())
                    .collect::<Vec<_>>(),
                shared.start,
            ),
            ctr_dirty: false,
            shared,
            mailbox,
            patterns: cfg.patterns.clone(),
            certs: cfg.global.tls.store.clone(),
            crt_base: cfg.global.tls.crt_base.clone(),
        })
        .map(|mut e: Engine| {
            e.link_checks();
            e.load_server_states(cfg);
            e.start_checks();
            // HAProxy 2.6 logs no "Proxy X started." line (1.x did).
            e
        })
    }

    /// Run until SIGINT/SIGTERM, or until a soft stop has drained all sessions.
    pub fn run(&mut self) -> io::Result<()> {
        // This thread's table converters read the process's stick tables.
        let tables: std::sync::Arc<dyn crate::sample::conv::Tables> = self.shared.clone();
        crate::sample::conv::install_tables(Some(tables));
        let mut ready: Vec<Ready> = Vec::with_capacity(256);
        while !self.stop {
            if self.soft_stop && self.cur_conns == 0 && self.listeners.is_empty() {
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
            self.end_of_turn();
        }
        self.loop_done();
        // Only a soft stop says so (HAProxy's `stop_proxy`); a hard one exits.
        if self.soft_stop {
            self.log_proxies(crate::log::WARNING, |_, name, (fe, be)| {
                format!("Proxy {name} stopped (cumulated conns: FE: {fe}, BE: {be}).")
            });
        }
        crate::sample::conv::install_tables(None);
        Ok(())
    }

    fn dispatch(&mut self, r: Ready) {
        match Owner::unpack(r.owner) {
            Owner::Listener(li) => self.on_accept(li),
            Owner::Client(sid) | Owner::Server(sid) => self.on_session_io(sid, r),
            Owner::CliListener(i) => self.on_cli_accept(i),
            Owner::Cli(ci) => self.cli_io(ci),
            Owner::Mail => self.on_mail(),
            Owner::Signal => self.on_signal(),
            Owner::Check(ci) => self.on_check_io(ci, r.token, r.event),
        }
    }

    fn on_timer(&mut self, o: usize, now: Instant) {
        match Timer::unpack(o) {
            Some(Timer::Session(sid)) => self.on_session_timer(sid, now),
            Some(Timer::Cli(ci)) => self.on_cli_timer(ci),
            Some(Timer::Check(ci)) => self.on_check_timer(ci, now),
            Some(Timer::ResumeListeners) => self.resume_listeners(),
            Some(Timer::HardStop) => self.hard_stop(),
            Some(Timer::Grace) => self.end_grace(now),
            None => {}
        }
    }

    fn on_signal(&mut self) {
        let Some(sp) = self.signals.as_mut() else {
            return;
        };
        for sig in sp.drain() {
            match sig {
                sys::SIGUSR1 => self.begin_soft_stop(),
                sys::SIGTTOU => self.pause_all(),
                sys::SIGTTIN => self.resume_all(),
                sys::SIGHUP => self.dump_states(),
                _ => {
                    log::info!("signal {sig}: stopping");
                    self.stop = true;
                    self.broadcast(|e| e.stop = true);
                }
            }
        }
    }

    // ---- accepting ----

    fn at_limit(&self, fi: usize) -> bool {
        let fe = &self.frontends[fi];
        // Each thread enforces its share of the limits (see threads.rs).
        fe.disabled
            || self.cur_conns >= self.share(self.maxconn)
            || fe.maxconn.is_some_and(|m| fe.cur >= self.share(m))
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
        if !self.any_paused || self.stop || self.proc.paused {
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
                Ok((sock, peer)) => {
                    let dst = self.listeners[li].addr;
                    if let Some(xprt) = self.transport(&self.listeners[li]) {
                        let so = self.listeners[li].so_id;
                        let lfd = std::os::fd::AsRawFd::as_raw_fd(&self.listeners[li].sock);
                        self.new_session(fi, sock, (peer, dst, so, lfd), xprt)
                    }
                }
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
                    self.reactor.timers.add(
                        Instant::now() + Duration::from_millis(100),
                        Timer::ResumeListeners.pack(),
                    );
                    return;
                }
            }
        }
    }

    /// The transport a connection accepted on `l` starts with; None (the
    /// connection is dropped) if its TLS session cannot be made.
    fn transport(&self, l: &Listener) -> Option<Xprt> {
        let Some(ctx) = &l.tls else {
            return Some(Xprt::Plain(Plain));
        };
        match crate::conn::Tls::server(ctx) {
            Ok(t) => Some(Xprt::Tls(Box::new(t))),
            Err(e) => {
                let name = &self.frontends[l.frontend].name;
                log::warn!("frontend {name}: TLS session not created: {e}");
                None
            }
        }
    }

    fn new_session(
        &mut self,
        fi: usize,
        sock: TcpStream,
        (peer, dst, so_id, lfd): (SocketAddr, Option<SocketAddr>, u32, i32),
        xprt: Xprt,
    ) {
        let conn = Conn::accepted(sock, xprt);
        let fd = conn.fd();
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
        let dst = dst.or_else(|| conn.local_addr().ok()).unwrap_or(peer);
        // What `tcp-request connection track-scN` tracks, for the session.
        let mut slots = crate::http::track::Slots::default();
        // Before the stream: only `sess` and `proc` variables exist.
        let vars = Vars::connection_only();
        // What connection rules and a TCP `use_backend` see at accept.
        let ctx = FetchCtx {
            src: peer,
            dst,
            req: None,
            res: None,
            payload: &[],
            payload_complete: true,
            vars: Some(&vars),
            txn: Default::default(),
        };
        if !fe.tcp_conn.is_empty() {
            let tables = self.shared.stick_tables();
            let v = crate::proxy::stick::track_conn(
                tables,
                &fe.tcp_conn,
                &ctx,
                &mut slots,
                &fe.name,
                Instant::now(),
            );
            let tracked = slots.iter().any(Option::is_some);
            if v == Some(TcpAction::Reject) {
                log::info!(
                    "frontend {}: connection from {peer} rejected by tcp-request connection",
                    fe.name
                );
                if tracked {
                    let t = &mut crate::proxy::locks::lock(tables);
                    crate::proxy::stick::release(t, &mut slots, Instant::now());
                }
                return;
            }
            if tracked {
                let t = &mut crate::proxy::locks::lock(tables);
                crate::proxy::stick::count_sess(t, &mut slots, Instant::now());
            }
        }
        if fe.clitcpka {
            let _ = conn.set_keepalive(true);
        }
        let mut backend = fe.backend;
        // TCP `use_backend`: now, or once `tcp-request content` is done.
        if fe.http.is_none() && !fe.tcp_switch.is_empty() && fe.tcp_content.is_empty() {
            let chosen =
                crate::session::txn::pick_backend(&fe.tcp_switch, &self.be_names, &ctx, None);
            backend = chosen.or(backend);
        }
        let decide_later =
            fe.http.is_none() && !fe.tcp_switch.is_empty() && !fe.tcp_content.is_empty();
        if fe.http.is_none() && backend.is_none() && !decide_later {
            log::info!(
                "frontend {}: no backend for the connection, closing it",
                fe.name
            );
            return;
        }
        vars.stream_begins();
        let now = Instant::now();
        let sid = self.free_sids.pop().unwrap_or_else(|| {
            self.sessions.push(None);
            self.sessions.len() - 1
        });
        let token = self
            .reactor
            .register(fd, Owner::Client(sid).pack(), Interest::READ);
        let retries = backend.map_or(0, |b| self.backends[b].retries);
        let inspect =
            (!fe.tcp_content.is_empty()).then(|| now + fe.inspect_delay.unwrap_or_default());
        let mut http = fe
            .http
            .as_ref()
            .map(|_| Box::new(Txn::new(self.max_head, now)));
        // HTTP keeps the connection's tracked entries with its own.
        match http.as_mut() {
            Some(t) => t.slots = slots,
            None if slots.iter().any(Option::is_some) => {
                self.tcp_slots.insert(sid, slots);
            }
            None => {}
        }
        // `-d`: a TCP stream starts at accept (HTTP: with each request).
        if crate::core::trace::on() {
            match http.as_mut() {
                Some(t) => {
                    t.trace = Some(Box::new(crate::core::trace::Stream { lfd, end: None }));
                }
                None => {
                    let id = crate::session::txn::next_stream_no();
                    let t = crate::core::trace::fd;
                    crate::core::trace::line(&format!(
                        "{:08x}:{}.accept({})={} from [{}:{}] ALPN=<none>",
                        id as u32,
                        self.frontends[fi].name,
                        t(Some(lfd)),
                        t(Some(fd)),
                        peer.ip(),
                        peer.port()
                    ));
                    let px = backend.map_or(&self.frontends[fi].name, |b| &self.backends[b].name);
                    let end = crate::core::trace::End {
                        id,
                        px: px.clone(),
                        cfd: fd,
                        sfd: None,
                        tcp: true,
                    };
                    self.trace_tcp.insert(sid, end);
                }
            }
        }
        self.sessions[sid] = Some(Session {
            frontend: fi as u32,
            so_id,
            backend: backend.map(|b| b as u32),
            server: None,
            slot: false,
            src: peer.ip(),
            src_port: peer.port(),
            dst,
            client: Side::new(conn, token, now),
            srv: None,
            req: None,
            res: None,
            phase: Phase::Idle,
            retries_left: retries,
            timer: None,
            stage: Session::first_stage(inspect, http.is_some()),
            http,
            log: None,
            vars,
        });
        self.log_accept(sid, now);
        self.cur_conns += 1;
        self.frontends[fi].cur += 1;
        self.frontends[fi].cum += 1;
        self.fe_gauge(fi, true);
        let cur = self.total_fe_cur(fi);
        let tls = self.sessions[sid]
            .as_ref()
            .is_some_and(|s| s.client.conn.tls_handshaking());
        self.ctr.fe_session(fi, cur, tls, now);
        self.ctr_dirty = true;
        self.shared.activity[self.tid]
            .accepted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if inspect.is_none() && self.frontends[fi].http.is_none() {
            self.assign(sid, None, now);
        }
        self.refresh(sid, now);
    }
}

/// Non-blocking connect; EINPROGRESS is the normal outcome.
fn start_connect(addr: std::net::SocketAddr, keepalive: bool) -> io::Result<TcpStream> {
    let sock = sys::tcp_socket(Domain::for_address(addr))?;
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
