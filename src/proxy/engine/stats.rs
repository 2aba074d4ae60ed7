//! The engine's side of statistics: the counter hooks called from the
//! event loop, servers' administrative state (READY, DRAIN, MAINT) and
//! weight as the stats page and the runtime API set them, the snapshot
//! every renderer works from, and the answers to stats page and
//! `use-service` requests.

use super::{Engine, WEIGHT_SCALE};
use crate::config::{self, stats::StatsCfg, Balance, Mode};
use crate::http::acl::Truth;
use crate::http::fetch::FetchCtx;
use crate::http::message::Headers;
use crate::http::rules::Service;
use crate::proxy::checks::{Checker, Health, Outcome, Transition};
use crate::proxy::counters::Ctr;
use crate::proxy::lb::ServerRt;
use crate::session::http::{AppletReq, TxnEvent};
use crate::stats::{self, html, page, prom, ProxyStats, Row, RowKind, Snapshot, Value};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A server's administrative state, as `set server B/S state` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admin {
    /// In service (health checks permitting).
    Ready,
    /// No new traffic, but clients persistent to it (cookie, stick table)
    /// still reach it.
    Drain,
    /// No traffic at all.
    Maint,
}

impl Admin {
    pub fn parse(s: &str) -> Option<Admin> {
        match s.to_ascii_lowercase().as_str() {
            "ready" => Some(Admin::Ready),
            "drain" => Some(Admin::Drain),
            "maint" => Some(Admin::Maint),
            _ => None,
        }
    }
}

/// What the snapshot needs from the config, kept by the engine.
pub(super) struct StatsRt {
    pub fe_cfg: Vec<Option<StatsCfg>>,
    fe_http: Vec<bool>,
    be_http: Vec<bool>,
    be_algo: Vec<&'static str>,
    /// Configured (user) weight of each server, as `set server weight` changes it.
    pub(super) uweight: Vec<Vec<u32>>,
    /// The weight each server has in the configuration (`get weight`'s
    /// "initial", the state file's `srv_iweight`).
    pub(super) iweight: Vec<Vec<u32>>,
    /// Proxies in config order: name, frontend index, backend index.
    layout: Vec<(String, Option<usize>, Option<usize>)>,
    /// The first proxy's id: 2 when `stats socket` exists, since HAProxy
    /// gives its hidden CLI proxy id 1 (the stats page's `b=#N`, `iid` and
    /// the server-state file's `be_id` follow).
    id_base: u32,
    started: SystemTime,
    global_maxconn: u32,
}

pub(super) fn build(cfg: &config::Config) -> StatsRt {
    let mut layout: Vec<(config::Origin, String, Option<usize>, Option<usize>)> = Vec::new();
    for (fi, f) in cfg.frontends.iter().enumerate() {
        layout.push((f.origin.clone(), f.name.clone(), Some(fi), None));
    }
    for (bi, b) in cfg.backends.iter().enumerate() {
        match layout.iter_mut().find(|p| p.1 == b.name) {
            Some(p) => p.3 = Some(bi),
            None => layout.push((b.origin.clone(), b.name.clone(), None, Some(bi))),
        }
    }
    layout.sort_by(|a, b| (&a.0.file, a.0.line).cmp(&(&b.0.file, b.0.line)));
    StatsRt {
        fe_cfg: cfg
            .frontends
            .iter()
            .map(|f| f.rules.stats.clone().filter(|_| f.mode == Mode::Http))
            .collect(),
        fe_http: cfg.frontends.iter().map(|f| f.mode == Mode::Http).collect(),
        be_http: cfg.backends.iter().map(|b| b.mode == Mode::Http).collect(),
        be_algo: cfg.backends.iter().map(|b| algo(&b.balance)).collect(),
        uweight: cfg
            .backends
            .iter()
            .map(|b| b.servers.iter().map(|s| s.weight).collect())
            .collect(),
        iweight: cfg
            .backends
            .iter()
            .map(|b| b.servers.iter().map(|s| s.weight).collect())
            .collect(),
        layout: layout.into_iter().map(|(_, n, f, b)| (n, f, b)).collect(),
        id_base: 1 + u32::from(!cfg.global.stats_sockets.is_empty()),
        started: SystemTime::now(),
        global_maxconn: cfg.global.maxconn,
    }
}

fn algo(b: &Balance) -> &'static str {
    match b {
        Balance::RoundRobin => "roundrobin",
        Balance::StaticRr => "static-rr",
        Balance::LeastConn => "leastconn",
        Balance::First => "first",
        Balance::Source => "source",
        Balance::Uri { .. } => "uri",
        Balance::UrlParam { .. } => "url_param",
        Balance::Hdr { .. } => "hdr",
        Balance::Random { .. } => "random",
        Balance::RdpCookie { .. } => "rdp-cookie",
        Balance::ResponseTime => "response-time",
    }
}

/// HAProxy's check status word of an outcome, and its HTTP code if any.
fn check_word(o: &Outcome) -> (&'static str, Option<u64>) {
    let r = o.reason.as_str();
    let word = [
        ("Layer4 check passed", "L4OK"),
        ("Layer4 connection problem", "L4CON"),
        ("Layer4 timeout", "L4TOUT"),
        ("Layer6", "L6RSP"),
        ("Layer7 check passed", "L7OK"),
        ("Layer7 wrong status", "L7STS"),
        ("Layer7 timeout", "L7TOUT"),
        ("Layer7 invalid response", "L7RSP"),
    ]
    .iter()
    .find(|(p, _)| r.starts_with(p))
    .map_or(if o.ok { "L4OK" } else { "SOCKERR" }, |(_, w)| w);
    let code = r
        .split_once("code: ")
        .and_then(|(_, c)| c.get(..3))
        .and_then(|c| c.parse().ok());
    (word, code)
}

/// A server's status as HAProxy shows it: MAINT, DRAIN, "no check", UP,
/// DOWN, or "UP 2/3" / "DOWN 1/2" while a transition is counting.
fn server_status(srv: &ServerRt, check: Option<&Checker>) -> String {
    if srv.disabled {
        return "MAINT".into();
    }
    let Some(c) = check else {
        // Without checks only `set server ... health down` stops it.
        return if srv.down {
            "DOWN"
        } else if srv.drain {
            "DRAIN"
        } else {
            "no check"
        }
        .into();
    };
    let (health, rise, fall) = c.counter();
    if health < rise {
        return if health == 0 {
            "DOWN".into()
        } else {
            format!("DOWN {health}/{rise}")
        };
    }
    let word = if srv.drain { "DRAIN" } else { "UP" };
    if health >= rise + fall - 1 {
        word.into()
    } else {
        format!("{word} {}/{fall}", health - rise + 1)
    }
}

fn secs_since(t: Option<Instant>, now: Instant) -> Option<u64> {
    t.map(|t| now.saturating_duration_since(t).as_secs())
}

/// The columns every kind of row fills from its counters.
fn common(r: &mut Row, c: &mut Ctr, start: Instant, now: Instant, http: bool) {
    r.u("smax", u64::from(c.smax));
    r.u("stot", c.stot);
    r.u("bin", c.bin);
    r.u("bout", c.bout);
    r.u("rate", u64::from(c.rate.read(start, now)));
    r.u("rate_max", u64::from(c.rate.max));
    if http {
        for (f, n) in stats::HRSP.iter().zip(c.hrsp) {
            r.u(f, n);
        }
    }
    r.s("mode", if http { "http" } else { "tcp" });
}

fn req_cols(r: &mut Row, c: &mut Ctr, start: Instant, now: Instant) {
    r.u("req_rate", u64::from(c.req_rate.read(start, now)));
    r.u("req_rate_max", u64::from(c.req_rate.max));
    r.u("req_tot", c.req_tot);
}

impl Engine {
    // ---- hooks (one-line calls from the event loop) ----

    /// Bytes moved on the client side since the last call: into the
    /// counters, and into the session's log record when it has one.
    pub(super) fn stats_io(&mut self, sid: usize) {
        let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
            return;
        };
        let (rx, tx) = (
            std::mem::take(&mut s.client.rx),
            std::mem::take(&mut s.client.tx),
        );
        if rx == 0 && tx == 0 {
            return;
        }
        if let Some(r) = s.log.as_mut() {
            r.bytes_in += u64::from(rx);
            r.bytes_out += u64::from(tx);
        }
        let at = s
            .backend
            .map(|b| (b as usize, s.server.map(|x| x as usize)));
        self.shared
            .ctr()
            .bytes(s.frontend as usize, at, u64::from(rx), u64::from(tx));
    }

    /// A session (or HTTP request) attached to a server; `pending`: 1 when
    /// called before the server's count is raised.
    pub(super) fn stats_attach(&mut self, bi: usize, si: usize, pending: u32, now: Instant) {
        let srv_cur = self.total_srv_cur(bi, si) + pending;
        let be_cur = self.total_be_cur(bi) + pending;
        self.shared.ctr().srv_session(bi, si, srv_cur, be_cur, now);
    }

    pub(super) fn stats_queued(&mut self, bi: usize, si: Option<usize>) {
        let srv_q = si.map_or(0, |si| self.total_srv_queue(bi, si));
        let be_q = self.total_be_queue(bi);
        self.shared.ctr().queued(bi, si, be_q, srv_q);
    }

    /// A connect failed: a retry follows, a redispatch, or nothing (econ).
    pub(super) fn stats_conn_error(&mut self, sid: usize, bi: usize, si: usize) {
        let left = self.sessions[sid].as_ref().map_or(0, |s| s.retries_left);
        let redispatch = left == 1 && self.backends[bi].redispatch;
        let mut ctr = self.shared.ctr();
        if left == 0 {
            ctr.conn_error(bi, si, false, false);
        } else {
            let Some(be) = ctr.be.get_mut(bi) else {
                return;
            };
            for c in [Some(&mut be.c), be.srv.get_mut(si).map(|s| &mut s.c)]
                .into_iter()
                .flatten()
            {
                c.wretr += u64::from(!redispatch);
                c.wredis += u64::from(redispatch);
            }
        }
    }

    /// After an HTTP step: count the transaction's events, and answer a
    /// stats or service request. True when an answer was queued.
    pub(super) fn stats_txn(&mut self, sid: usize, now: Instant) -> bool {
        let Some(s) = self.sessions.get_mut(sid).and_then(Option::as_mut) else {
            return false;
        };
        let Some(t) = s.http.as_mut() else {
            return false;
        };
        let fi = s.frontend as usize;
        let bi = s.backend.map(|b| b as usize).or(t.backend);
        let si = s.server.map(|x| x as usize);
        let mut guard = self.shared.ctr();
        let ctr = &mut *guard;
        let start = ctr.start;
        for ev in t.events.drain(..) {
            let (fe, be) = (ctr.fe.get_mut(fi), bi.and_then(|b| ctr.be.get_mut(b)));
            let Some(fe) = fe else { continue };
            match ev {
                TxnEvent::Request => {
                    fe.req_tot += 1;
                    fe.req_rate.add(start, now);
                }
                TxnEvent::Denied => fe.dreq += 1,
                TxnEvent::BadRequest => fe.ereq += 1,
                TxnEvent::DeniedResponse => {
                    fe.dresp += 1;
                    if let Some(be) = be {
                        be.c.dresp += 1;
                        if let Some(s) = si.and_then(|si| be.srv.get_mut(si)) {
                            s.c.dresp += 1;
                        }
                    }
                }
                TxnEvent::Response { status, server } => {
                    fe.response(status);
                    if let Some(be) = be {
                        be.c.response(status);
                        be.c.req_tot += 1;
                        be.c.req_rate.add(start, now);
                        if let (true, Some(s)) = (server, si.and_then(|si| be.srv.get_mut(si))) {
                            s.c.response(status);
                        }
                        // A 502 of our own after the server answered badly.
                        if !server && status == 502 && si.is_some() {
                            be.c.eresp += 1;
                            if let Some(s) = si.and_then(|si| be.srv.get_mut(si)) {
                                s.c.eresp += 1;
                            }
                        }
                    }
                }
            }
        }
        drop(guard);
        let Some(a) = t.applet.take() else {
            return false;
        };
        let bytes = self.applet_response(fi, &a, now);
        if let Some(t) = self.sessions[sid].as_mut().and_then(|s| s.http.as_mut()) {
            t.respond_applet(&a, bytes);
        }
        true
    }

    pub(super) fn stats_check_start(&mut self, ci: usize, now: Instant) {
        let (bi, si) = (self.checks[ci].bi, self.checks[ci].si);
        if let Some(s) = self.shared.ctr().srv(bi, si) {
            s.check_started = Some(now);
        }
    }

    /// A check finished (after its transition, if any, was applied).
    pub(super) fn stats_check_done(&mut self, ci: usize, o: &Outcome, now: Instant) {
        let c = &self.checks[ci];
        let (bi, si) = (c.bi, c.si);
        let up = c.checker.health() == Health::Up;
        let mut ctr = self.shared.ctr();
        let Some(s) = ctr.srv(bi, si) else {
            return;
        };
        // chkfail counts the failures of a server that was UP.
        let just_down = s.down_since == Some(now);
        if !o.ok && (up || just_down) {
            s.chkfail += 1;
        }
        s.check_ok = Some(o.ok);
        s.check_desc = o.reason.clone();
        s.check_duration = s.check_started.map(|t| now.saturating_duration_since(t));
        drop(ctr);
        self.stats_backend_state(bi, now);
    }

    /// (State history is kept by thread 0, which every change reaches.)
    pub(super) fn stats_transition(&mut self, bi: usize, si: usize, t: &Transition, now: Instant) {
        if self.tid != 0 {
            return;
        }
        if let Some(s) = self.shared.ctr().srv(bi, si) {
            match t {
                Transition::WentDown { .. } => s.went_down(now),
                Transition::WentUp => s.went_up(now),
            }
        }
    }

    /// Backend downtime: while no server is usable.
    pub(super) fn stats_backend_state(&mut self, bi: usize, now: Instant) {
        if self.tid != 0 {
            return;
        }
        let any = self.backends[bi]
            .servers
            .iter()
            .any(|s| !s.down && !s.disabled);
        let mut ctr = self.shared.ctr();
        let Some(be) = ctr.be.get_mut(bi) else {
            return;
        };
        match (any, be.down_since) {
            (false, None) => {
                be.down_since = Some(now);
                be.last_change = Some(now);
            }
            (true, Some(since)) => {
                be.downtime += now.saturating_duration_since(since);
                be.down_since = None;
                be.last_change = Some(now);
            }
            _ => {}
        }
    }

    /// HAProxy's id (uuid) of frontend `fi` or backend `bi`: its place
    /// among the proxies, in config order, from `id_base`.
    pub(super) fn proxy_iid(&self, fi: Option<usize>, bi: Option<usize>) -> u32 {
        let at = self
            .stats
            .layout
            .iter()
            .position(|p| (fi.is_some() && p.1 == fi) || (bi.is_some() && p.2 == bi))
            .unwrap_or(0);
        at as u32 + self.stats.id_base
    }

    // ---- administration (stats page form, runtime API) ----

    fn find_server(&self, backend: &str, server: &str) -> Result<(usize, usize), String> {
        let bi = match backend.strip_prefix('#') {
            Some(id) => id
                .parse::<usize>()
                .ok()
                .and_then(|id| {
                    let base = self.stats.id_base as usize;
                    self.stats.layout.get(id.checked_sub(base)?)
                })
                .and_then(|p| p.2),
            None => self.backends.iter().position(|b| b.name == backend),
        }
        .ok_or_else(|| format!("No such backend '{backend}'."))?;
        let si = self.backends[bi]
            .servers
            .iter()
            .position(|s| s.name == server && !s.deleted)
            .ok_or_else(|| format!("No such server '{server}' in backend '{backend}'."))?;
        Ok((bi, si))
    }

    /// Set a server READY, DRAIN or MAINT; it applies to the next balancing
    /// decision. DRAIN keeps honouring persistence (cookie, stick table).
    pub fn set_server_admin(
        &mut self,
        backend: &str,
        server: &str,
        a: Admin,
    ) -> Result<(), String> {
        let (bi, si) = self.find_server(backend, server)?;
        let now = Instant::now();
        let srv = &mut self.backends[bi].servers[si];
        let before = (srv.disabled, srv.drain);
        srv.disabled = a == Admin::Maint;
        srv.drain = a == Admin::Drain;
        let usable = !srv.disabled && !srv.down;
        if before != (srv.disabled, srv.drain) {
            once!(
                warn,
                self.tid,
                "Server {}/{} is {} (administrative state change).",
                self.backends[bi].name,
                self.backends[bi].servers[si].name,
                match a {
                    Admin::Ready => "READY",
                    Admin::Drain => "DRAIN",
                    Admin::Maint => "going into maintenance",
                }
            );
            if let Some(s) = self.shared.ctr().srv(bi, si).filter(|_| self.tid == 0) {
                s.last_change = Some(now);
            }
        }
        self.views[bi][si].usable = usable;
        self.backends[bi].lb.invalidate();
        self.stats_backend_state(bi, now);
        if a == Admin::Maint {
            // Requests waiting for this very server go elsewhere, as
            // HAProxy redistributes a server's pending connections.
            let waiting: Vec<usize> = self.backends[bi].srv_queues[si].drain(..).collect();
            for sid in waiting {
                if let Some(t) = self.sessions[sid].as_mut().and_then(|s| s.http.as_mut()) {
                    t.forced_server = None;
                }
                self.assign(sid, None, now);
                self.refresh(sid, now);
            }
        } else {
            // Sessions queued for the backend may go to a server again.
            self.release_server_slotless(bi, now);
        }
        Ok(())
    }

    /// `clear counters`: the maxima; `clear counters all`: everything.
    pub fn clear_counters(&mut self, all: bool) {
        let mut guard = self.shared.ctr();
        let ctr = &mut *guard;
        if all {
            let sizes: Vec<usize> = self.backends.iter().map(|b| b.servers.len()).collect();
            let start = ctr.start;
            *ctr = crate::proxy::counters::Counters::new(self.frontends.len(), &sizes, start);
            return;
        }
        let be = ctr
            .be
            .iter_mut()
            .flat_map(|b| std::iter::once(&mut b.c).chain(b.srv.iter_mut().map(|s| &mut s.c)));
        for c in ctr.fe.iter_mut().chain(be) {
            c.smax = 0;
            c.qmax = 0;
            c.rate.max = 0;
            c.req_rate.max = 0;
        }
    }

    /// Set a server's weight (0..=256), as `set server B/S weight W`.
    pub fn set_server_weight(&mut self, backend: &str, server: &str, w: u32) -> Result<(), String> {
        if w > 256 {
            return Err("Weight must be between 0 and 256.".into());
        }
        let (bi, si) = self.find_server(backend, server)?;
        self.stats.uweight[bi][si] = w;
        let scaled = w * WEIGHT_SCALE;
        let mut checked = false;
        for c in self.checks.iter_mut().filter(|c| c.bi == bi && c.si == si) {
            c.weight = scaled;
            checked = true;
        }
        let srv = &mut self.backends[bi].servers[si];
        if !checked || !srv.down {
            srv.weight = scaled;
        }
        self.backends[bi].lb.invalidate();
        Ok(())
    }

    /// A server's configured weight and administrative state.
    pub fn server_admin(&self, backend: &str, server: &str) -> Result<(Admin, u32), String> {
        let (bi, si) = self.find_server(backend, server)?;
        let s = &self.backends[bi].servers[si];
        let a = match (s.disabled, s.drain) {
            (true, _) => Admin::Maint,
            (_, true) => Admin::Drain,
            _ => Admin::Ready,
        };
        Ok((a, self.stats.uweight[bi][si]))
    }

    /// Let a queued session of backend `bi` try again (a server came back).
    fn release_server_slotless(&mut self, bi: usize, now: Instant) {
        while let Some(next) = self.backends[bi].queue.pop_front() {
            let queued = self.sessions.get(next).and_then(Option::as_ref);
            if queued.is_some_and(|s| matches!(s.phase, crate::session::Phase::Queued { .. })) {
                self.assign(next, None, now);
                self.refresh(next, now);
                break;
            }
        }
    }

    // ---- snapshot ----

    /// Every proxy's rows and the process information, now.
    pub fn snapshot(&mut self) -> Snapshot {
        let now = Instant::now();
        let start = self.shared.ctr().start;
        let mut proxies = Vec::new();
        for (i, (name, fi, bi)) in self.stats.layout.clone().into_iter().enumerate() {
            let iid = i as u32 + self.stats.id_base;
            let frontend = fi.map(|fi| self.frontend_row(fi, &name, iid, now));
            let (servers, backend) = match bi {
                Some(bi) => {
                    let live: Vec<usize> = (0..self.backends[bi].servers.len())
                        .filter(|&si| !self.backends[bi].servers[si].deleted)
                        .collect();
                    let servers = live
                        .into_iter()
                        .map(|si| self.server_row(bi, si, iid, now))
                        .collect();
                    (servers, Some(self.backend_row(bi, iid, now)))
                }
                None => (Vec::new(), None),
            };
            proxies.push(ProxyStats {
                name,
                iid,
                frontend,
                servers,
                backend,
            });
        }
        let mut ctr = self.shared.ctr();
        let fe_rates: Vec<(u32, u32)> = ctr
            .fe
            .iter_mut()
            .map(|c| (c.rate.read(start, now), c.rate.max))
            .collect();
        let cum_conns = ctr.fe.iter().map(|c| c.stot).sum();
        let cum_req = ctr.fe.iter().map(|c| c.req_tot).sum();
        drop(ctr);
        let info = stats::Info {
            name: "pollux".into(),
            version: crate::VERSION.into(),
            pid: std::process::id(),
            uptime_sec: now.saturating_duration_since(start).as_secs(),
            start_time: self
                .stats
                .started
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            maxconn: self.maxconn,
            nbthread: self.nthreads() as u32,
            curr_conns: self.total_conns(),
            cum_conns,
            cum_req,
            sess_rate: fe_rates.iter().map(|r| r.0).sum(),
            max_sess_rate: fe_rates.iter().map(|r| r.1).max().unwrap_or(0),
            poller: self.reactor.poller_name().into(),
            node: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_default(),
        };
        Snapshot { info, proxies }
    }

    fn frontend_row(&mut self, fi: usize, name: &str, iid: u32, now: Instant) -> Row {
        let fe = &self.frontends[fi];
        let http = self.stats.fe_http[fi];
        let slim = fe.maxconn.unwrap_or(self.stats.global_maxconn);
        let mut r = Row::new(RowKind::Frontend, name, "FRONTEND");
        let cur = self.total_fe_cur(fi);
        r.u("scur", u64::from(cur));
        r.u("slim", u64::from(slim));
        let full = cur >= slim;
        let status = if self.soft_stop {
            "STOP"
        } else if self.frontends[fi].disabled {
            // `disable frontend`: HAProxy 2.6 says PAUSED.
            "PAUSED"
        } else if full {
            "FULL"
        } else {
            "OPEN"
        };
        r.s("status", status);
        r.u("pid", 1);
        r.u("iid", u64::from(iid));
        r.u("sid", 0);
        let mut ctr = self.shared.ctr();
        let start = ctr.start;
        let Some(c) = ctr.fe.get_mut(fi) else {
            return r;
        };
        common(&mut r, c, start, now, http);
        for (f, v) in [("dreq", c.dreq), ("dresp", c.dresp), ("ereq", c.ereq)] {
            r.u(f, v);
        }
        r.u("conn_rate", u64::from(c.rate.read(start, now)));
        r.u("conn_rate_max", u64::from(c.rate.max));
        r.u("conn_tot", c.stot);
        if http {
            req_cols(&mut r, c, start, now);
        }
        r
    }

    fn server_row(&mut self, bi: usize, si: usize, iid: u32, now: Instant) -> Row {
        let be = &self.backends[bi];
        let srv = &be.servers[si];
        let http = self.stats.be_http[bi];
        let check = self
            .checks
            .iter()
            .find(|c| c.bi == bi && c.si == si && c.enabled)
            .map(|c| &c.checker);
        let mut r = Row::new(RowKind::Server, &be.name, &srv.name);
        r.u("qcur", self.total_srv_queue(bi, si) as u64);
        r.u("scur", u64::from(self.total_srv_cur(bi, si)));
        // With several threads `maxconn` holds this thread's share.
        let slim = if self.nthreads() > 1 {
            be.limits[si].0
        } else {
            srv.maxconn
        };
        if let Some(m) = slim {
            r.u("slim", u64::from(m));
        }
        r.s("status", server_status(srv, check));
        // DRAIN balances with weight 0, as HAProxy shows it.
        let weight = if srv.drain { 0 } else { srv.weight };
        r.u("weight", u64::from(weight.div_ceil(WEIGHT_SCALE)));
        r.u("uweight", u64::from(self.stats.uweight[bi][si]));
        r.u("act", u64::from(!srv.backup));
        r.u("bck", u64::from(srv.backup));
        if let Some(q) = be.maxqueue.get(si).copied().flatten() {
            r.u("qlimit", u64::from(q));
        }
        r.u("pid", 1);
        r.u("iid", u64::from(iid));
        r.u("sid", u64::from(srv.puid));
        r.u("lbtot", self.total_lbtot(bi, Some(si)));
        r.s("addr", srv.addr.to_string());
        if let Some(c) = self.views[bi][si].cookie.as_deref() {
            r.s("cookie", c);
        }
        if let Some(c) = check {
            let (h, rise, fall) = c.counter();
            r.u("check_rise", u64::from(rise));
            r.u("check_fall", u64::from(fall));
            r.u("check_health", u64::from(h));
        }
        let checked = check.is_some();
        let mut ctr = self.shared.ctr();
        let start = ctr.start;
        let Some(s) = ctr.srv(bi, si) else {
            return r;
        };
        common(&mut r, &mut s.c, start, now, http);
        r.u("qmax", u64::from(s.c.qmax));
        for (f, v) in [
            ("dresp", s.c.dresp),
            ("econ", s.c.econ),
            ("eresp", s.c.eresp),
            ("wretr", s.c.wretr),
            ("wredis", s.c.wredis),
        ] {
            r.u(f, v);
        }
        r.set(
            "lastsess",
            Value::I(secs_since(s.c.last_sess, now).map_or(-1, |v| v as i64)),
        );
        r.u(
            "lastchg",
            secs_since(s.last_change.or(Some(start)), now).unwrap_or(0),
        );
        if checked {
            r.u("chkfail", s.chkfail);
            r.u("chkdown", s.chkdown);
            r.u("downtime", s.downtime(now).as_secs());
            if let Some(ok) = s.check_ok {
                let o = Outcome {
                    ok,
                    reason: s.check_desc.clone(),
                };
                let (word, code) = check_word(&o);
                r.s("check_status", word);
                if let Some(code) = code {
                    r.u("check_code", code);
                }
                if let Some(d) = s.check_duration {
                    r.u("check_duration", d.as_millis() as u64);
                }
                r.s("last_chk", s.check_desc.clone());
                r.s("check_desc", s.check_desc.clone());
            }
        }
        r
    }

    fn backend_row(&mut self, bi: usize, iid: u32, now: Instant) -> Row {
        let be = &self.backends[bi];
        let http = self.stats.be_http[bi];
        let mut r = Row::new(RowKind::Backend, &be.name, "BACKEND");
        // As HAProxy: servers that take new traffic (DRAIN does not).
        let usable = |s: &&ServerRt| s.usable();
        let act = be
            .servers
            .iter()
            .filter(|s| !s.backup)
            .filter(usable)
            .count();
        let bck = be
            .servers
            .iter()
            .filter(|s| s.backup)
            .filter(usable)
            .count();
        let weight: u32 = be
            .servers
            .iter()
            .filter(|s| s.usable() && s.backup == (act == 0))
            .map(|s| s.weight.div_ceil(WEIGHT_SCALE))
            .sum();
        r.u("qcur", self.total_be_queue(bi) as u64);
        r.u("scur", u64::from(self.total_be_cur(bi)));
        r.u("slim", u64::from(be.fullconn));
        r.s("status", if act + bck > 0 { "UP" } else { "DOWN" });
        r.u("weight", u64::from(weight));
        r.u("act", act as u64);
        r.u("bck", bck as u64);
        r.u("pid", 1);
        r.u("iid", u64::from(iid));
        r.u("sid", 0);
        r.u("lbtot", self.total_lbtot(bi, None));
        r.s("algo", self.stats.be_algo[bi]);
        let mut ctr = self.shared.ctr();
        let chkdown: u64 = ctr
            .be
            .get(bi)
            .map_or(0, |b| b.srv.iter().map(|s| s.chkdown).sum());
        let start = ctr.start;
        let Some(b) = ctr.be.get_mut(bi) else {
            return r;
        };
        common(&mut r, &mut b.c, start, now, http);
        r.u("qmax", u64::from(b.c.qmax));
        for (f, v) in [
            ("dreq", b.c.dreq),
            ("dresp", b.c.dresp),
            ("econ", b.c.econ),
            ("eresp", b.c.eresp),
            ("wretr", b.c.wretr),
            ("wredis", b.c.wredis),
            ("chkdown", chkdown),
        ] {
            r.u(f, v);
        }
        r.set(
            "lastsess",
            Value::I(secs_since(b.c.last_sess, now).map_or(-1, |v| v as i64)),
        );
        r.u(
            "lastchg",
            secs_since(b.last_change.or(Some(start)), now).unwrap_or(0),
        );
        let down = b
            .down_since
            .map_or(0, |s| now.saturating_duration_since(s).as_secs());
        r.u("downtime", b.downtime.as_secs() + down);
        if http {
            req_cols(&mut r, &mut b.c, start, now);
        }
        r
    }

    // ---- answers ----

    fn applet_response(&mut self, fi: usize, a: &AppletReq, _now: Instant) -> Vec<u8> {
        let head = a.req.method == "HEAD";
        if a.service == Some(Service::Prometheus) {
            let body = prom::render(&self.snapshot());
            return page::response(200, "OK", prom::CONTENT_TYPE, &[], body.as_bytes(), head);
        }
        let Some(cfg) = self.stats.fe_cfg.get(fi).cloned().flatten() else {
            return page::response(404, "Not Found", "text/plain", &[], b"Not Found\n", head);
        };
        let auth = a.req.header("authorization");
        if !page::authorized(&cfg.auth, auth) {
            return page::unauthorized(&cfg.realm, head);
        }
        let ctx = FetchCtx::http(a.src, a.dst, Some(&a.req), None);
        let admin = cfg
            .admin
            .as_ref()
            .is_some_and(|c| c.eval(&ctx) == Truth::True);
        let target = crate::session::http::stats_target(&cfg.uri, &a.req).unwrap_or(&a.req.uri);
        let mut opts = page::options(&cfg.uri, target);
        // HAProxy reads `;norefresh` only when the page refreshes itself.
        opts.norefresh &= cfg.refresh.is_some();
        if a.req.method == "POST" {
            let code = if admin {
                self.admin_form(&a.body)
            } else {
                "DENY"
            };
            // Back to the page as it was viewed (HAProxy's redirect).
            let loc = format!("{};st={code}{}", cfg.uri, opts.carried());
            return page::response(
                303,
                "See Other",
                "text/plain",
                &[("Location", loc)],
                b"",
                head,
            );
        }
        let mut snap = self.snapshot();
        let own = &self.frontends[fi].name;
        snap.proxies
            .retain(|p| page::in_scope(&p.name, &cfg.scope, own, opts.scope.as_deref()));
        match opts.format {
            page::Format::Csv => {
                page::response(200, "OK", "text/plain", &[], snap.csv().as_bytes(), head)
            }
            page::Format::Json => page::response(
                200,
                "OK",
                "application/json",
                &[],
                snap.json().as_bytes(),
                head,
            ),
            page::Format::Html => {
                let view = html::PageView {
                    uri: &cfg.uri,
                    refresh: cfg
                        .refresh
                        .filter(|_| !opts.norefresh)
                        .map(|d| d.as_secs().max(1)),
                    hide_version: cfg.hide_version,
                    show_legends: cfg.show_legends,
                    admin,
                    up_only: opts.up_only,
                    status: opts.status.as_deref(),
                    scope: opts.scope.as_deref(),
                    carried: &opts.carried(),
                };
                let body = html::render(&snap, &view);
                page::response(
                    200,
                    "OK",
                    "text/html; charset=utf-8",
                    &[],
                    body.as_bytes(),
                    head,
                )
            }
        }
    }

    /// Apply a posted admin form; HAProxy's outcome codes.
    fn admin_form(&mut self, body: &[u8]) -> &'static str {
        let f = page::parse_form(body);
        let Some(a) = Admin::parse(&f.action) else {
            return if f.action.is_empty() { "NONE" } else { "ERRP" };
        };
        if f.servers.is_empty() {
            return "NONE";
        }
        let ok = f
            .servers
            .iter()
            .filter(|s| self.set_server_admin(&f.backend, s, a).is_ok())
            .count();
        if ok > 0 && self.nthreads() > 1 {
            let (b, servers) = (f.backend.clone(), f.servers.clone());
            self.broadcast(move |e| {
                for s in &servers {
                    let _ = e.set_server_admin(&b, s, a);
                }
            });
        }
        match ok {
            0 => "ERRP",
            n if n == f.servers.len() => "DONE",
            _ => "PART",
        }
    }
}
