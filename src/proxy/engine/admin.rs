//! What the runtime API's commands do to the running engine: the `Ops`
//! implementation behind every `stats socket` connection. Names are looked
//! up here and unknown ones answered with HAProxy's messages.

use super::stats::Admin as AdminState;
use super::Engine;
use crate::runtime::command::{AdminState as CliState, HealthState};
use crate::runtime::{server_state, Command, Format, Ops, StatFilter, WeightSpec};
use crate::session::Phase;
use crate::stats::{json_str, RowKind, Snapshot};
use std::fmt::Write;
use std::time::Instant;

pub(super) struct Admin<'a> {
    e: &'a mut Engine,
    /// The connection came through a socket with `expose-fd listeners`.
    expose_fd: bool,
    /// `_getsocks` was accepted: the connection now belongs to the
    /// listener handover (`proxy::takeover`), not to the CLI.
    pub(super) getsocks: bool,
    /// Running a command another thread ran first (`nbthread`).
    replay: bool,
}

impl<'a> Admin<'a> {
    pub(super) fn new(e: &'a mut Engine, expose_fd: bool) -> Admin<'a> {
        Admin {
            e,
            expose_fd,
            getsocks: false,
            replay: false,
        }
    }
}

/// Commands that change a loop's own state: every thread runs them.
fn per_thread(cmd: &Command) -> bool {
    matches!(
        cmd,
        Command::SetServerState(..)
            | Command::SetServerAddr(..)
            | Command::SetServerHealth(..)
            | Command::SetChecks(..)
            | Command::SetWeight(..)
            | Command::SetMaxconnServer(..)
            | Command::SetMaxconnFrontend(..)
            | Command::SetMaxconnGlobal(..)
            | Command::DisableFrontend(..)
            | Command::EnableFrontend(..)
            | Command::AddServer(..)
            | Command::DelServer(..)
            | Command::ShutdownSessionsServer(..)
            | Command::ClearCounters { .. }
    )
}

type Reply = Result<String, String>;

impl Engine {
    fn backend_index(&self, name: &str) -> Result<usize, String> {
        self.backends
            .iter()
            .position(|b| b.name == name)
            .ok_or_else(|| "No such backend.".to_string())
    }

    pub(super) fn server_index(&self, be: &str, srv: &str) -> Result<(usize, usize), String> {
        let bi = self.backend_index(be)?;
        let si = self.backends[bi]
            .servers
            .iter()
            .position(|s| s.name == srv && !s.deleted)
            .ok_or_else(|| "No such server.".to_string())?;
        Ok((bi, si))
    }

    fn frontend_index(&self, name: &str) -> Result<usize, String> {
        self.frontends
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| "No such frontend.".to_string())
    }

    /// Let queued sessions take servers that have room again (after a limit
    /// was raised or a server came back by hand).
    pub(super) fn drain_queue(&mut self, bi: usize, now: Instant) {
        let n = self.backends[bi].queue.len();
        for _ in 0..n {
            let room = self.backends[bi]
                .servers
                .iter()
                .any(|s| s.usable() && !s.is_full());
            if !room {
                break;
            }
            let Some(sid) = self.backends[bi].queue.pop_front() else {
                break;
            };
            let queued = self.sessions.get(sid).and_then(Option::as_ref);
            if queued.is_some_and(|s| matches!(s.phase, Phase::Queued { .. })) {
                self.assign(sid, None, now);
                self.refresh(sid, now);
            }
        }
    }

    fn set_frontend_disabled(&mut self, fi: usize, disabled: bool) {
        self.frontends[fi].disabled = disabled;
        if disabled {
            for li in 0..self.listeners.len() {
                if self.listeners[li].frontend == fi {
                    self.pause(li);
                }
            }
        } else {
            // resume_listeners only looks when something is paused.
            self.any_paused = true;
            self.resume_listeners();
        }
    }

    /// `show sess`: one line per session.
    /// `show sess` over every thread (the one a session id names).
    fn show_sess_all(&mut self, which: Option<&str>) -> Reply {
        let one = match which {
            None | Some("all") => None,
            Some(id) => Some(parse_sid(id).ok_or("Session not found.")?),
        };
        let threads: Vec<usize> = match one {
            Some((tid, _)) => vec![tid],
            None => (0..self.nthreads()).collect(),
        };
        let mut out = String::new();
        for tid in threads {
            let sid = one.map(|(_, sid)| sid);
            let part = self
                .ask(tid, move |e| e.show_sess(sid))
                .ok_or("Session not found.")?;
            out.push_str(&part);
        }
        if one.is_some() && out.is_empty() {
            return Err("Session not found.".into());
        }
        Ok(out)
    }

    /// This thread's sessions (or only slot `one`).
    fn show_sess(&self, one: Option<usize>) -> String {
        let mut out = String::new();
        for (sid, s) in self.sessions.iter().enumerate() {
            let Some(s) = s else { continue };
            if one.is_some_and(|o| o != sid) {
                continue;
            }
            let be = s
                .backend
                .map_or("<NONE>", |b| self.backends[b as usize].name.as_str());
            let srv = match (s.backend, s.server) {
                (Some(b), Some(v)) => self.backends[b as usize].servers[v as usize].name.as_str(),
                _ => "<none>",
            };
            let proto = if s.src.is_ipv4() { "tcpv4" } else { "tcpv6" };
            let src = std::net::SocketAddr::new(s.src, s.src_port);
            let phase = match s.phase {
                Phase::Idle => "idle",
                Phase::Queued { .. } => "queued",
                Phase::Connecting { .. } => "connecting",
                Phase::Connected => "connected",
            };
            let _ = writeln!(
                out,
                "{}: proto={proto} src={src} fe={} be={be} srv={srv} phase={phase}",
                sess_id(self.tid, sid),
                self.frontends[s.frontend as usize].name,
            );
        }
        out
    }

    fn shutdown_session_any(&mut self, id: &str) -> Reply {
        let (tid, sid) = parse_sid(id).ok_or("No such session (use 'show sess').")?;
        let closed = self.ask(tid, move |e| {
            let there = e.sessions.get(sid).is_some_and(Option::is_some);
            if there {
                e.close(sid);
            }
            there
        });
        match closed {
            Some(true) => Ok(String::new()),
            _ => Err("No such session (use 'show sess').".into()),
        }
    }

    /// `set server B/S addr IP [port P]`: new connections (and checks
    /// without their own `addr`/`port`) go there; HAProxy's answer.
    fn set_server_addr(&mut self, bi: usize, si: usize, addr: &str, port: Option<&str>) -> String {
        const BY: &str = " by 'stats socket command'\n";
        let old = self.backends[bi].servers[si].addr;
        let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
            return format!("Invalid addr '{addr}'{BY}");
        };
        let mut msg = if ip == old.ip() {
            "no need to change the addr".to_string()
        } else {
            format!("IP changed from '{}' to '{ip}'", old.ip())
        };
        let mut new = std::net::SocketAddr::new(ip, old.port());
        match port.map(|p| (p, p.parse::<u16>())) {
            None => {}
            Some((_, Ok(p))) if p == old.port() => msg.push_str(", no need to change the port"),
            Some((_, Ok(p))) if p > 0 => {
                msg.push_str(&format!(", port changed from '{}' to '{p}'", old.port()));
                new.set_port(p);
            }
            Some((p, _)) => msg.push_str(&format!(", problem converting port '{p}' to an int")),
        }
        if new != old {
            self.backends[bi].servers[si].addr = new;
            if let Some(ci) = self.check_of(bi, si) {
                self.checks[ci].checker.set_server_addr(new);
            }
            once!(
                warn,
                self.tid,
                "{}/{} changed its IP from {} to {} by stats socket command.",
                self.backends[bi].name,
                self.backends[bi].servers[si].name,
                old,
                new
            );
        }
        msg + BY
    }

    /// A new limit must leave each thread a share of at least one.
    fn fits_threads(&self, n: u32) -> Result<(), String> {
        if n > 0 && n < self.nthreads() as u32 {
            return Err(format!(
                "Value out of range: below nbthread ({}), some thread would get no share.",
                self.nthreads()
            ));
        }
        Ok(())
    }

    /// `show activity`: per-thread loop counters, HAProxy's layout
    /// (`NAME: TOTAL [ PER THREAD ]`).
    fn show_activity(&self) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let n = self.nthreads();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut out = format!(
            "thread_id: {} (1..{n})\ndate_now: {}.{:06}\n",
            self.tid + 1,
            now.as_secs(),
            now.subsec_micros()
        );
        let acts = &self.shared.activity;
        type Get = fn(&super::threads::Activity) -> u64;
        let rows: [(&str, Get); 3] = [
            ("loops", |a| a.loops.load(Relaxed)),
            ("accepted", |a| a.accepted.load(Relaxed)),
            ("jobs", |a| a.jobs.load(Relaxed)),
        ];
        for (name, get) in rows {
            let per: Vec<u64> = acts.iter().map(get).collect();
            let list: Vec<String> = per.iter().map(u64::to_string).collect();
            let _ = writeln!(
                out,
                "{name}: {} [ {} ]",
                per.iter().sum::<u64>(),
                list.join(" ")
            );
        }
        // pollux's own: locks taken on process-wide mutexes (threads.rs);
        // serving traffic takes none.
        let _ = writeln!(out, "process_locks: {}", crate::proxy::locks::taken());
        out
    }

    fn shutdown_server_sessions(&mut self, bi: usize, si: usize) {
        let victims: Vec<usize> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(sid, s)| s.as_ref().map(|s| (sid, s)))
            .filter(|(_, s)| s.backend == Some(bi as u32) && s.server == Some(si as u32))
            .map(|(sid, _)| sid)
            .collect();
        for sid in victims {
            self.close(sid);
        }
    }
}

/// Sessions are named `0x` + their slot number in hex, the thread in the
/// top byte (so thread 0's ids are the plain slot numbers).
const TID_SHIFT: u32 = usize::BITS - 8;

fn sess_id(tid: usize, sid: usize) -> String {
    format!("0x{:x}", (tid << TID_SHIFT) | sid)
}

/// (thread, slot) of a session id.
fn parse_sid(id: &str) -> Option<(usize, usize)> {
    let v = usize::from_str_radix(id.strip_prefix("0x").unwrap_or(id), 16).ok()?;
    Some((v >> TID_SHIFT, v & ((1 << TID_SHIFT) - 1)))
}

impl Ops for Admin<'_> {
    fn run(&mut self, cmd: &Command) -> Reply {
        let r = self.run_here(cmd);
        if r.is_ok() && !self.replay && per_thread(cmd) {
            // The answer waits until every thread applied the command, so
            // the next request anywhere sees it (only thread 0 asks: no
            // two threads wait for each other).
            let me = self.e.tid;
            for t in (0..self.e.nthreads()).filter(|&t| t != me) {
                let c = cmd.clone();
                let done = self.e.ask(t, move |e| {
                    let mut a = Admin::new(e, false);
                    a.replay = true;
                    if let Err(err) = a.run(&c) {
                        log::warn!("thread {}: {c:?} failed here: {err}", e.tid);
                    }
                });
                if done.is_none() {
                    log::warn!("thread {t} did not apply {cmd:?} within 1s");
                }
            }
        }
        r
    }
}

impl Admin<'_> {
    fn run_here(&mut self, cmd: &Command) -> Reply {
        let now = Instant::now();
        let e = &mut *self.e;
        match cmd {
            Command::ShowSess(which) => e.show_sess_all(which.as_deref()),
            Command::ShowActivity => Ok(e.show_activity()),
            Command::Table(c) => crate::proxy::stick::cli::run(&mut e.shared.stick(), c, now),
            // The references are shared by every thread: no replay.
            Command::Pat(c) => crate::runtime::maps::run(&e.patterns, c),
            // So is the certificate store.
            Command::Ssl(c) => crate::runtime::ssl::run(&e.certs, c, e.crt_base.as_deref()),
            Command::DebugDevPanic(t) => {
                let t = t.unwrap_or(e.tid);
                if t >= e.nthreads() {
                    return Err(format!("No thread {t} (nbthread {}).", e.nthreads()));
                }
                let why = format!("debug dev panic {t} (runtime API, expert mode)");
                if t == e.tid {
                    panic!("{why}");
                }
                // The process stops before the answer is due.
                let _ = e.ask(t, move |_| -> () { panic!("{why}") });
                Ok(String::new())
            }
            Command::ShowErrors(px, dir) => e.show_errors(px.as_deref(), *dir),
            Command::ShutdownSession(id) => e.shutdown_session_any(id),
            Command::ShutdownSessionsServer(b, s) => {
                let (bi, si) = e.server_index(b, s)?;
                e.shutdown_server_sessions(bi, si);
                Ok(String::new())
            }
            Command::SetMaxconnFrontend(f, n) => {
                let fi = e.frontend_index(f)?;
                e.fits_threads(*n)?;
                e.frontends[fi].maxconn = (*n > 0).then_some(*n);
                e.any_paused = true;
                e.resume_listeners();
                Ok(String::new())
            }
            Command::SetMaxconnGlobal(n) => {
                if *n > e.hard_maxconn || *n < e.nthreads() as u32 {
                    return Err("Value out of range.".into());
                }
                e.maxconn = *n;
                e.any_paused = true;
                e.resume_listeners();
                Ok(String::new())
            }
            Command::SetMaxconnServer(b, s, n) => {
                let (bi, si) = e.server_index(b, s)?;
                e.fits_threads(*n)?;
                let limit = (*n > 0).then_some(*n);
                // This thread enforces its share; the stats show the whole.
                e.backends[bi].servers[si].maxconn = limit.map(|m| e.share(m));
                e.backends[bi].servers[si].cfg_maxconn = limit;
                e.drain_queue(bi, now);
                Ok(String::new())
            }
            Command::DisableFrontend(f) => {
                let fi = e.frontend_index(f)?;
                if e.frontends[fi].disabled {
                    return Err("Frontend is already disabled.".into());
                }
                e.set_frontend_disabled(fi, true);
                Ok(String::new())
            }
            Command::EnableFrontend(f) => {
                let fi = e.frontend_index(f)?;
                if !e.frontends[fi].disabled {
                    return Err("Frontend is already enabled.".into());
                }
                e.set_frontend_disabled(fi, false);
                Ok(String::new())
            }
            Command::GetSocks if !self.expose_fd => {
                Err("Permission denied: this socket has no 'expose-fd listeners'.".into())
            }
            Command::GetSocks => {
                self.getsocks = true;
                Ok(String::new())
            }
            Command::ShowStat(fmt, filter) => {
                let snap = e.snapshot();
                let snap = match filter {
                    Some(f) => filter_rows(&snap, f)?,
                    None => snap,
                };
                Ok(match fmt {
                    Format::Plain => snap.csv(),
                    Format::Typed => snap.typed(),
                    Format::Json => snap.json(),
                })
            }
            Command::ShowInfo(fmt) => {
                let snap = e.snapshot();
                Ok(show_info(&snap, e.hard_maxconn, *fmt))
            }
            Command::ShowServersState(be) => e.show_servers_state(be.as_deref()),
            Command::GetWeight(b, s) => {
                let (bi, si) = e.server_index(b, s)?;
                let (_, w) = e.server_admin(b, s)?;
                Ok(format!(
                    "{w} (initial {})\n",
                    e.backends[bi].servers[si].iweight
                ))
            }
            Command::SetWeight(b, s, w) => {
                let (bi, si) = e.server_index(b, s)?;
                let w = match *w {
                    WeightSpec::Absolute(w) => w,
                    // A percentage of the configured weight, as HAProxy.
                    WeightSpec::Percent(p) => {
                        let w = u64::from(e.backends[bi].servers[si].iweight) * u64::from(p) / 100;
                        if w > 256 {
                            return Err("Relative weight too large.".into());
                        }
                        w as u32
                    }
                };
                e.set_server_weight(b, s, w)?;
                e.drain_queue(bi, now);
                Ok(String::new())
            }
            Command::SetServerState(b, s, st) => {
                e.server_index(b, s)?;
                let a = match st {
                    CliState::Ready => AdminState::Ready,
                    CliState::Drain => AdminState::Drain,
                    CliState::Maint => AdminState::Maint,
                };
                e.set_server_admin(b, s, a)?;
                Ok(String::new())
            }
            Command::SetServerAddr(b, s, addr, port) => {
                let (bi, si) = e.server_index(b, s)?;
                Ok(e.set_server_addr(bi, si, addr, port.as_deref()))
            }
            Command::SetServerHealth(b, s, st) => {
                let (bi, si) = e.server_index(b, s)?;
                let up = match st {
                    HealthState::Up => true,
                    HealthState::Down => false,
                    HealthState::Stopping => {
                        return Err(
                            "'set server <srv> health stopping' is not supported yet.".into()
                        )
                    }
                };
                e.force_health(bi, si, up, now);
                Ok(String::new())
            }
            Command::SetChecks(b, s, on) => {
                let (bi, si) = e.server_index(b, s)?;
                e.set_checks(bi, si, *on);
                Ok(String::new())
            }
            Command::AddServer(b, s, addr, opts) => e.add_server(b, s, addr, opts),
            Command::DelServer(b, s) => e.del_server(b, s, self.replay),
            Command::ClearCounters { all } => {
                e.clear_counters(*all);
                Ok(String::new())
            }
            // Handled by the connection itself (`runtime::CliConn`).
            Command::Help(_)
            | Command::Prompt
            | Command::Quit
            | Command::ExpertMode(_)
            | Command::Lower(_)
            | Command::SetTimeoutCli(_) => Ok(String::new()),
        }
    }
}

/// `show stat {<iid>|<proxy>} <type> <sid>`: rows of that proxy (by name or
/// numeric id, -1 for all), of the types in the bit field (1 frontend,
/// 2 backend, 4 server), of that server id (-1 for all).
fn filter_rows(snap: &Snapshot, f: &StatFilter) -> Result<Snapshot, String> {
    let iid: Option<i64> = f.proxy.parse().ok();
    let known = iid == Some(-1)
        || snap
            .proxies
            .iter()
            .any(|p| p.name == f.proxy || iid == Some(i64::from(p.iid)));
    if !known {
        return Err("No such proxy.".into());
    }
    Ok(snap.filtered(|p, r| {
        let px_ok = iid == Some(-1) || p.name == f.proxy || iid == Some(i64::from(p.iid));
        let bit = match r.kind {
            RowKind::Frontend => 1,
            RowKind::Backend => 2,
            RowKind::Server => 4,
        };
        let sid_ok = f.sid == -1
            || r.kind != RowKind::Server
            || r.num("sid").is_some_and(|s| s as i64 == f.sid);
        px_ok && (f.types == -1 || f.types & bit != 0) && sid_ok
    }))
}

/// `show info`: HAProxy's field names, as `name: value` lines, typed
/// (`POS.NAME.1:TAGS:TYPE:VALUE`) or JSON.
fn show_info(snap: &Snapshot, hard_maxconn: u32, fmt: Format) -> String {
    let i = &snap.info;
    let up = i.uptime_sec;
    let uptime = format!(
        "{}d {}h{:02}m{:02}s",
        up / 86400,
        up / 3600 % 24,
        up / 60 % 60,
        up % 60
    );
    // HAProxy 2.6's fields that mean something here, at their positions,
    // with their tags (origin, nature, scope) and types; pollux's `Poller`
    // after them.
    let u = |n: u64| n.to_string();
    let rate = u64::from(i.sess_rate);
    let max_rate = u64::from(i.max_sess_rate);
    let fields: Vec<(usize, &str, &str, &str, String)> = vec![
        (0, "Name", "POS", "str", i.name.clone()),
        (1, "Version", "POS", "str", i.version.clone()),
        (3, "Nbthread", "CGS", "u32", u(u64::from(i.nbthread.max(1)))),
        (4, "Nbproc", "CGS", "u32", u(1)),
        (5, "Process_num", "KGP", "u32", u(1)),
        (6, "Pid", "SGP", "u32", u(u64::from(i.pid))),
        (7, "Uptime", "MDP", "str", uptime),
        (8, "Uptime_sec", "MDP", "u32", u(up)),
        (13, "Ulimit-n", "CLP", "u32", u(i.ulimit_n)),
        (14, "Maxsock", "CLP", "u32", u(i.ulimit_n)),
        (15, "Maxconn", "CLP", "u32", u(u64::from(i.maxconn))),
        (16, "Hard_maxconn", "CLP", "u32", u(u64::from(hard_maxconn))),
        (17, "CurrConns", "MGP", "u32", u(u64::from(i.curr_conns))),
        (18, "CumConns", "MCP", "u32", u(i.cum_conns)),
        (19, "CumReq", "MCP", "u32", u(i.cum_req)),
        // No splicing, no rate limits: HAProxy's zeros mean the same.
        (20, "MaxSslConns", "MMP", "u32", u(0)),
        (
            21,
            "CurrSslConns",
            "MGP",
            "u32",
            u(u64::from(i.curr_ssl_conns)),
        ),
        (22, "CumSslConns", "MCP", "u32", u(i.ssl_conns)),
        (23, "Maxpipes", "CLP", "u32", u(0)),
        (24, "PipesUsed", "MGP", "u32", u(0)),
        (25, "PipesFree", "MGP", "u32", u(0)),
        // A connection is a session here: the same rates.
        (26, "ConnRate", "MRP", "u32", u(rate)),
        (27, "ConnRateLimit", "CLP", "u32", u(0)),
        (28, "MaxConnRate", "MMP", "u32", u(max_rate)),
        (29, "SessRate", "MRP", "u32", u(rate)),
        (30, "SessRateLimit", "CLP", "u32", u(0)),
        (31, "MaxSessRate", "MRP", "u32", u(max_rate)),
        (32, "SslRate", "MRP", "u32", u(u64::from(i.ssl_rate))),
        (33, "SslRateLimit", "CLP", "u32", u(0)),
        (34, "MaxSslRate", "MMP", "u32", u(u64::from(i.max_ssl_rate))),
        (
            35,
            "SslFrontendKeyRate",
            "MGP",
            "u32",
            u(u64::from(i.fe_key_rate)),
        ),
        (
            36,
            "SslFrontendMaxKeyRate",
            "MMP",
            "u32",
            u(u64::from(i.max_fe_key_rate)),
        ),
        (
            37,
            "SslFrontendSessionReuse_pct",
            "MGP",
            "u32",
            u(u64::from(i.ssl_reuse_pct())),
        ),
        (
            38,
            "SslBackendKeyRate",
            "MRP",
            "u32",
            u(u64::from(i.be_key_rate)),
        ),
        (
            39,
            "SslBackendMaxKeyRate",
            "MMP",
            "u32",
            u(u64::from(i.max_be_key_rate)),
        ),
        (40, "SslCacheLookups", "MCP", "u32", u(i.ssl_cache_lookups)),
        (41, "SslCacheMisses", "MCP", "u32", u(i.ssl_cache_misses)),
        (50, "node", "COS", "str", i.node.clone()),
        (
            52,
            "Stopping",
            "MGP",
            "u32",
            u(u64::from(crate::core::lifecycle::stopping())),
        ),
        (55, "Listeners", "MGP", "u32", u(u64::from(i.listeners))),
        (58, "DroppedLogs", "MGP", "u32", u(i.dropped_logs)),
        (61, "TotalBytesOut", "MGP", "u64", u(i.bytes_out)),
        // HAProxy 2.6's spelling.
        (62, "TotalSplicdedBytesOut", "MGP", "u64", u(0)),
        (66, "Build info", "POS", "str", i.version.clone()),
        (70, "Start_time_sec", "MDP", "u32", u(i.start_time)),
        (71, "Tainted", "SGP", "str", "0".into()),
        (72, "Poller", "POS", "str", i.poller.clone()),
    ];
    let mut out = String::new();
    match fmt {
        Format::Plain => {
            for (_, k, _, _, v) in &fields {
                let _ = writeln!(out, "{k}: {v}");
            }
        }
        Format::Typed => {
            for (pos, k, tags, ty, v) in &fields {
                let _ = writeln!(out, "{pos}.{k}.1:{tags}:{ty}:{v}");
            }
        }
        Format::Json => {
            out.push('[');
            for (n, (pos, k, tags, ty, v)) in fields.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let val = if *ty == "str" { json_str(v) } else { v.clone() };
                let (o, na, sc) = tag_names(tags);
                let _ = write!(
                    out,
                    "{{\"field\":{{\"pos\":{pos},\"name\":\"{k}\"}},\"processNum\":1,\"tags\":{{\"origin\":\"{o}\",\"nature\":\"{na}\",\"scope\":\"{sc}\"}},\"value\":{{\"type\":\"{ty}\",\"value\":{val}}}}}"
                );
            }
            out.push_str("]\n");
        }
    }
    out
}

/// HAProxy's three tag letters spelled out, as its JSON output has them.
fn tag_names(tags: &str) -> (&'static str, &'static str, &'static str) {
    let b = tags.as_bytes();
    let origin = match b.first() {
        Some(b'M') => "Metric",
        Some(b'S') => "Status",
        Some(b'K') => "Key",
        Some(b'C') => "Config",
        Some(b'P') => "Product",
        _ => "Unknown",
    };
    let nature = match b.get(1) {
        Some(b'G') => "Gauge",
        Some(b'L') => "Limit",
        Some(b'm') => "Min",
        Some(b'M') => "Max",
        Some(b'R') => "Rate",
        Some(b'C') => "Counter",
        Some(b'D') => "Duration",
        Some(b'A') => "Age",
        Some(b'T') => "Time",
        Some(b'N') => "Name",
        Some(b'O') => "Output",
        Some(b'a') => "Avg",
        _ => "Unknown",
    };
    let scope = match b.get(2) {
        Some(b'P') => "Process",
        Some(b'S') => "Service",
        Some(b's') => "System",
        Some(b'C') => "Cluster",
        _ => "Unknown",
    };
    (origin, nature, scope)
}

impl Engine {
    /// `add server B/S ADDR [options]`: the server starts in maintenance, as
    /// in HAProxy; `set server B/S state ready` puts it in service.
    fn add_server(&mut self, be: &str, name: &str, addr: &str, opts: &[String]) -> Reply {
        let bi = self.backend_index(be)?;
        if self.server_index(be, name).is_ok() {
            return Err("Already exists a server with the same name in backend.".into());
        }
        let mut srv = crate::config::dynamic_server(name, addr, opts)?;
        if srv.check.as_ref().is_some_and(|c| c.observe.is_some()) && self.nthreads() > 1 {
            return Err("'observe' is not supported with nbthread > 1.".into());
        }
        if srv.cookie.is_some() && self.persist[bi].cookie.is_none() {
            srv.cookie = None;
        }
        for v in [srv.maxconn, srv.maxqueue].into_iter().flatten() {
            self.fits_threads(v)?;
        }
        if srv.minconn.is_some() && self.nthreads() > 1 {
            return Err("'minconn' is not supported with nbthread > 1.".into());
        }
        let (tid, n) = (self.tid, self.nthreads());
        let b = &mut self.backends[bi];
        // As HAProxy: its `id`, else the lowest id no server has.
        let taken = |id: u32| b.servers.iter().any(|s| !s.deleted && s.puid == id);
        let puid = match srv.id {
            Some(id) if taken(id) => return Err(format!("'id' : custom id {id} already used")),
            Some(id) => id,
            None => (1..).find(|&id| !taken(id)).unwrap_or(u32::MAX),
        };
        let mut rt = super::rt::server(&srv, puid, tid, n);
        rt.disabled = true;
        rt.cur_all = self.shared.srv_gauge(bi, b.servers.len());
        b.servers.push(rt);
        b.minconn |= srv.minconn.is_some();
        b.lb.invalidate();
        // Every thread adds the server, to its own counters too.
        self.ctr.be[bi].srv.push(Default::default());
        self.ctr_dirty = true;
        if let Some(sc) = &srv.check {
            // As HAProxy: its checks wait for `enable health`.
            let si = self.backends[bi].servers.len() - 1;
            self.add_check(bi, si, sc, srv.addr, srv.weight);
        }
        once!(
            warn,
            self.tid,
            "New server {be}/{name} registered (in maintenance)."
        );
        Ok("New server registered.".into())
    }

    /// `del server B/S`: only a server in maintenance with nothing attached.
    /// `replay`: thread 0 found the server idle in every thread already.
    fn del_server(&mut self, be: &str, name: &str, replay: bool) -> Reply {
        let (bi, si) = self.server_index(be, name)?;
        let srv = &self.backends[bi].servers[si];
        if !srv.disabled {
            return Err("Only servers in maintenance mode can be deleted.".into());
        }

        // Sessions in an exchange with it block the deletion; idle kept-alive
        // connections to it are closed, their clients stay connected.
        let mut idle = Vec::new();
        let mut active = self.total_srv_cur(bi, si) > 0 || self.total_srv_queue(bi, si) > 0;
        for (sid, s) in self.sessions.iter().enumerate() {
            let Some(s) = s else { continue };
            if s.backend == Some(bi as u32) && s.server == Some(si as u32) {
                if s.slot {
                    active = true;
                } else {
                    idle.push(sid);
                }
            }
        }
        if active && !replay {
            return Err("Server still has connections attached to it, cannot remove it.".into());
        }
        let now = Instant::now();
        for sid in idle {
            self.drop_server(sid, now);
            self.refresh(sid, now);
        }
        // Its checks stop for good (the slot stays, as the server's does).
        self.set_checks(bi, si, false);
        let srv = &mut self.backends[bi].servers[si];
        srv.deleted = true;
        srv.name.clear();
        srv.cookie = None;
        self.backends[bi].lb.invalidate();
        once!(warn, self.tid, "Server {be}/{name} deleted.");
        Ok("Server deleted.".into())
    }

    /// `show servers state [BACKEND]`: HAProxy's state file format.
    fn show_servers_state(&mut self, only: Option<&str>) -> Reply {
        if let Some(b) = only {
            self.backend_index(b)?;
        }
        let snap = self.snapshot();
        let mut rows = Vec::new();
        for p in &snap.proxies {
            if p.backend.is_none() || only.is_some_and(|b| b != p.name) {
                continue;
            }
            let Ok(bi) = self.backend_index(&p.name) else {
                continue;
            };
            for r in &p.servers {
                let Ok((_, si)) = self.server_index(&p.name, r.name()) else {
                    continue;
                };
                let srv = &self.backends[bi].servers[si];
                let status = r.text("status");
                let (admin, uweight) = self.server_admin(&p.name, &srv.name)?;
                let admin_bits = match admin {
                    AdminState::Maint => server_state::ADMIN_FMAINT,
                    AdminState::Drain => server_state::ADMIN_FDRAIN,
                    AdminState::Ready => 0,
                };
                let configured = self.check_of(bi, si);
                let check = configured.filter(|&ci| self.checks[ci].enabled);
                rows.push(server_state::Row {
                    be_id: p.iid,
                    be_name: p.name.clone(),
                    srv_id: srv.puid,
                    srv_name: srv.name.clone(),
                    addr: srv.addr.ip().to_string(),
                    op_state: if status.starts_with("DOWN") {
                        server_state::OP_STOPPED
                    } else {
                        server_state::OP_RUNNING
                    },
                    admin_state: admin_bits,
                    uweight,
                    iweight: self.backends[bi].servers[si].iweight,
                    since_change: r.num("lastchg").unwrap_or(0),
                    check_status: status_number(&r.text("check_status")),
                    check_result: match (check, status.starts_with("DOWN")) {
                        (None, _) => 0,
                        (Some(_), true) => 2,
                        (Some(_), false) => 3,
                    },
                    check_health: r.num("check_health").unwrap_or(0) as u32,
                    // HAProxy's CHK_ST_CONFIGURED (2) and CHK_ST_ENABLED (4).
                    check_state: match (configured, check) {
                        (None, _) => 0,
                        (Some(_), None) => 2,
                        (Some(_), Some(_)) => 6,
                    },
                    port: srv.addr.port(),
                    check_port: 0,
                });
            }
        }
        Ok(server_state::format(&rows))
    }
}

/// HAProxy's number of a check status word (`enum healthcheck_status`).
fn status_number(word: &str) -> u8 {
    const WORDS: &[&str] = &[
        "UNK", "INI", "START", "CHECKED", "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK",
        "L6TOUT", "L6RSP", "L7TOUT", "L7RSP", "L57DATA", "L7OK", "L7OKC", "L7STS",
    ];
    // (No check yet: HAProxy's INI.)
    WORDS.iter().position(|w| *w == word).unwrap_or(1) as u8
}
