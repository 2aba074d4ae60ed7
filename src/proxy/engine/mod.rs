//! The engine: builds listeners, frontends and backends from the config, then
//! runs the event loop, dispatching readiness and timer events to listeners
//! and sessions. Owners registered with the reactor encode (id, kind).
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
mod procctl;
mod server;
mod state_file;
mod stats;
mod threads;

pub use stats::Admin;
pub use threads::{share, split as split_listeners, Shared};

use super::lb::{LbState, ServerRt};
use super::listener;
use crate::config::{self, Balance, HashType, Timeouts};
use crate::conn::{Conn, Plain, Xprt};
use crate::core::{Reactor, Ready};
use crate::http::fetch::FetchCtx;
use crate::http::rules::{self, TcpAction, TcpRule};
use crate::pollers::{Interest, Token};
use crate::proxy::persist::ServerView;
use crate::session::http::{HttpFront, HttpSide, Txn};
use crate::session::{Phase, Session, Side};
use crate::sys::{self, SignalPipe};
use socket2::{Domain, TcpKeepalive};
use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

// Owner kinds, in the low KIND_BITS bits of a reactor owner.
const KIND_BITS: usize = 3;
const KIND_MASK: usize = (1 << KIND_BITS) - 1;
const K_LISTENER: usize = 0;
const K_CLIENT: usize = 1;
const K_SERVER: usize = 2;
const K_SIGNAL: usize = 3;
/// A `stats socket` listener, and one runtime API connection.
const K_CLI_LISTENER: usize = 4;
const K_CLI: usize = 5;
/// A thread's mailbox (`nbthread`): other threads posted work.
const K_MAIL: usize = 6;
pub(super) use super::lb::WEIGHT_SCALE;
/// Timer owner for "try resuming paused listeners" (after EMFILE and such).
const RESUME_TIMER: usize = usize::MAX;

fn owner(id: usize, kind: usize) -> usize {
    (id << KIND_BITS) | kind
}

struct Listener {
    sock: TcpListener,
    token: Token,
    frontend: usize,
    paused: bool,
    /// The bound address when it is a specific one: then every accepted
    /// connection's destination is known without a getsockname(2).
    addr: Option<SocketAddr>,
}

struct FrontendRt {
    name: String,
    maxconn: Option<u32>,
    cur: u32,
    backend: Option<usize>,
    timeouts: Timeouts,
    clitcpka: bool,
    /// `mode http`: the HTTP settings; None in TCP mode.
    http: Option<HttpFront>,
    /// `timeout http-request` and `timeout http-keep-alive`.
    http_request: Option<Duration>,
    http_keep_alive: Option<Duration>,
    /// `timeout tarpit`.
    tarpit: Option<Duration>,
    tcp_conn: Vec<TcpRule>,
    tcp_content: Vec<TcpRule>,
    inspect_delay: Option<Duration>,
    /// `disable frontend` (runtime API): listeners paused until enabled.
    disabled: bool,
    /// `grace`: how long the listeners stay open after a soft stop.
    grace: Option<Duration>,
    /// Sessions accepted since start (for "Proxy X stopped" in the logs).
    cum: u64,
    /// Session logging (`log` targets and format); None: no logs.
    log: Option<Box<crate::log::FrontendLog>>,
}

struct BackendRt {
    name: String,
    balance: Balance,
    hash_type: HashType,
    servers: Vec<ServerRt>,
    lb: LbState,
    queue: VecDeque<usize>,
    timeouts: Timeouts,
    retries: u32,
    redispatch: bool,
    srvtcpka: bool,
    /// Dynamic limits: per server (maxconn, minconn) as configured, and the
    /// backend load at which servers reach maxconn.
    limits: Vec<(Option<u32>, Option<u32>)>,
    /// Per-server queues of sessions bound to that server by persistence,
    /// and their `maxqueue`.
    srv_queues: Vec<VecDeque<usize>>,
    maxqueue: Vec<Option<u32>>,
    fullconn: u32,
    abortonclose: bool,
    /// Where server UP/DOWN messages go.
    log_targets: Vec<crate::log::LogTarget>,
    /// Some server has `slowstart` (and the algorithm follows it) /
    /// `minconn`: only then do weights and limits need recomputing on each
    /// balancing decision.
    slowstart: bool,
    minconn: bool,
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
    /// Per backend: its name, persistence settings and its servers as
    /// persistence sees them (kept in step with health). The stick tables
    /// are in `shared`.
    be_names: Vec<String>,
    /// An empty set of stick tables, lent to the analysers when the config
    /// has none (no lock to take then).
    has_stick: bool,
    persist: Vec<crate::config::Persistence>,
    views: Vec<Vec<ServerView>>,
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
    mailbox: Option<std::os::unix::net::UnixStream>,
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
        let backends: Vec<BackendRt> = cfg
            .backends
            .iter()
            .map(|b| BackendRt {
                name: b.name.clone(),
                balance: b.balance.clone(),
                hash_type: b.hash_type,
                servers: b
                    .servers
                    .iter()
                    .zip(b.server_ids())
                    .map(|(s, puid)| {
                        ServerRt::new(
                            s.name.clone(),
                            s.addr,
                            puid,
                            s.weight * WEIGHT_SCALE,
                            s.backup,
                            s.disabled,
                            // Each thread enforces its share.
                            s.maxconn.map(|m| if m > 0 { share(m, tid, n) } else { m }),
                        )
                    })
                    .collect(),
                lb: {
                    let mut lb = LbState::default();
                    lb.all_backups = b.health.all_backups;
                    lb
                },
                queue: VecDeque::new(),
                timeouts: b.timeouts,
                retries: b.retries,
                redispatch: b.redispatch,
                srvtcpka: b.srvtcpka,
                limits: b
                    .servers
                    .iter()
                    .map(|s| (s.maxconn.filter(|&m| m > 0), s.minconn))
                    .collect(),
                srv_queues: vec![VecDeque::new(); b.servers.len()],
                maxqueue: b.servers.iter().map(|s| s.maxqueue).collect(),
                fullconn: b
                    .fullconn
                    .unwrap_or_else(|| glue::default_fullconn(cfg, &b.name)),
                abortonclose: b.abortonclose,
                log_targets: b.log_targets.clone(),
                slowstart: super::lb::ramps_weights(&b.balance, b.hash_type)
                    && b.servers
                        .iter()
                        .any(|s| s.check.as_ref().is_some_and(|c| c.slowstart.is_some())),
                minconn: b.servers.iter().any(|s| s.minconn.is_some()),
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
                http: glue::http_frontend(cfg, f),
                http_request: glue::http_request_timeout(f),
                http_keep_alive: glue::http_keep_alive_timeout(f),
                tarpit: glue::tarpit_timeout(f),
                tcp_conn: glue::tcp_conn_rules(f),
                tcp_content: glue::tcp_content_rules(f),
                inspect_delay: glue::inspect_delay(f),
                disabled: false,
                grace: f.grace,
                cum: 0,
                log: f.log.clone().map(Box::new),
            })
            .collect();
        let mut listeners = Vec::new();
        for (i, (fi, sock)) in socks.into_iter().enumerate() {
            let token = reactor.register(fd_of(&sock), owner(i, K_LISTENER), Interest::READ);
            let addr = sock.local_addr().ok().filter(|a| !a.ip().is_unspecified());
            listeners.push(Listener {
                sock,
                token,
                frontend: fi,
                paused: false,
                addr,
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
            reactor.register(sp.fd(), owner(0, K_SIGNAL), Interest::READ);
            Some(sp)
        } else {
            None
        };
        let mailbox = shared.take_mailbox(tid);
        if let Some(m) = &mailbox {
            reactor.register(fd_of(m), owner(0, K_MAIL), Interest::READ);
        }
        Ok(Engine {
            reactor,
            listeners,
            frontends,
            backends,
            http_backends: cfg.backends.iter().map(glue::http_backend).collect(),
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
            persist: cfg.backends.iter().map(|b| b.persist.clone()).collect(),
            views: cfg
                .backends
                .iter()
                .map(|b| {
                    b.servers
                        .iter()
                        .map(|s| ServerView {
                            cookie: s.cookie.clone(),
                            usable: !s.disabled,
                            backup: s.backup,
                        })
                        .collect()
                })
                .collect(),
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
            shared,
            mailbox,
        })
        .map(|mut e: Engine| {
            e.load_server_states(cfg);
            e.start_checks();
            e.log_proxies(crate::log::NOTICE, |_, name, _| {
                format!("Proxy {name} started.")
            });
            e
        })
    }

    /// Run until SIGINT/SIGTERM, or until a soft stop has drained all sessions.
    pub fn run(&mut self) -> io::Result<()> {
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
                if o == procctl::HARD_STOP_TIMER {
                    self.hard_stop();
                } else if o == procctl::GRACE_TIMER {
                    self.end_grace(now);
                } else {
                    self.on_timer(o, now);
                }
            }
            self.end_of_turn();
        }
        self.log_proxies(crate::log::WARNING, |_, name, (fe, be)| {
            format!("Proxy {name} stopped (cumulated conns: FE: {fe}, BE: {be}).")
        });
        Ok(())
    }

    fn dispatch(&mut self, r: Ready) {
        let id = r.owner >> KIND_BITS;
        match r.owner & KIND_MASK {
            K_LISTENER => self.on_accept(id),
            K_CLIENT | K_SERVER => self.on_session_io(id, r),
            K_CLI_LISTENER => self.on_cli_accept(id),
            K_CLI => self.cli_io(id),
            K_MAIL => self.on_mail(),
            _ if id == 0 => self.on_signal(),
            _ => self.on_check_io(id - 1, r.token, r.event),
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
                    self.new_session(fi, sock, peer, dst)
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
                    self.reactor
                        .timers
                        .add(Instant::now() + Duration::from_millis(100), RESUME_TIMER);
                    return;
                }
            }
        }
    }

    fn new_session(
        &mut self,
        fi: usize,
        sock: TcpStream,
        peer: SocketAddr,
        dst: Option<SocketAddr>,
    ) {
        let conn = Conn::accepted(sock, Xprt::Plain(Plain));
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
        if !fe.tcp_conn.is_empty() {
            let ctx = FetchCtx {
                src: peer,
                dst,
                req: None,
                res: None,
                payload: &[],
                payload_complete: true,
            };
            if rules::run_tcp(&fe.tcp_conn, &ctx) == Some(TcpAction::Reject) {
                log::info!(
                    "frontend {}: connection from {peer} rejected by tcp-request connection",
                    fe.name
                );
                return;
            }
        }
        if fe.clitcpka {
            let _ = conn.set_keepalive(true);
        }
        let backend = fe.backend;
        if fe.http.is_none() && backend.is_none() {
            log::info!(
                "frontend {}: no backend for the connection, closing it",
                fe.name
            );
            return;
        }
        let now = Instant::now();
        let sid = self.free_sids.pop().unwrap_or_else(|| {
            self.sessions.push(None);
            self.sessions.len() - 1
        });
        let token = self
            .reactor
            .register(fd, owner(sid, K_CLIENT), Interest::READ);
        let retries = backend.map_or(0, |b| self.backends[b].retries);
        let inspect =
            (!fe.tcp_content.is_empty()).then(|| now + fe.inspect_delay.unwrap_or_default());
        let http = fe
            .http
            .as_ref()
            .map(|_| Box::new(Txn::new(self.max_head, now)));
        self.sessions[sid] = Some(Session {
            frontend: fi as u32,
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
            inspect_until: inspect,
            http,
            log: None,
        });
        self.log_accept(sid, now);
        self.cur_conns += 1;
        self.frontends[fi].cur += 1;
        self.frontends[fi].cum += 1;
        let cur = self.total_fe_cur(fi);
        self.shared.ctr().fe_session(fi, cur, now);
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
