//! The engine's side of statistics: the counter hooks called from the
//! event loop, servers' administrative state (READY, DRAIN, MAINT) and
//! weight as the stats page and the runtime API set them, and the answers
//! to stats page and `use-service` requests. The snapshot every renderer
//! works from is `snapshot.rs`.

use super::{Engine, WEIGHT_SCALE};
use crate::config::{self, stats::StatsCfg, Balance, Mode};
use crate::http::acl::Truth;
use crate::http::fetch::FetchCtx;
use crate::http::message::Headers;
use crate::http::rules::Service;
use crate::proxy::checks::{Health, Outcome, Transition};
use crate::session::txn::{AppletReq, TxnEvent};
use crate::stats::{html, page, prom};
use std::time::{Instant, SystemTime};

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
    pub(super) fe_http: Vec<bool>,
    pub(super) be_http: Vec<bool>,
    pub(super) be_algo: Vec<&'static str>,
    /// Proxies in config order: name, frontend index, backend index.
    pub(super) layout: Vec<(String, Option<usize>, Option<usize>)>,
    /// The first proxy's id: 2 when `stats socket` exists, since HAProxy
    /// gives its hidden CLI proxy id 1 (the stats page's `b=#N`, `iid` and
    /// the server-state file's `be_id` follow).
    pub(super) id_base: u32,
    pub(super) started: SystemTime,
    pub(super) global_maxconn: u32,
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
        if let Some(slots) = self.tcp_slots.get(&sid) {
            // TCP: what `tcp-request` rules track counts the bytes as they
            // flow (HTTP counts each transaction's messages instead).
            let (i, o) = (u64::from(rx), u64::from(tx));
            let now = std::time::Instant::now();
            crate::proxy::stick::add_bytes(&mut self.shared.stick(), slots, i, o, now);
        }
        let at = s
            .backend
            .map(|b| (b as usize, s.server.map(|x| x as usize)));
        self.ctr
            .bytes(s.frontend as usize, at, u64::from(rx), u64::from(tx));
        self.ctr_dirty = true;
    }

    /// A session (or HTTP request) attached to a server; `pending`: 1 when
    /// called before the server's count is raised.
    pub(super) fn stats_attach(&mut self, bi: usize, si: usize, pending: u32, now: Instant) {
        let srv_cur = self.total_srv_cur(bi, si) + pending;
        let be_cur = self.total_be_cur(bi) + pending;
        self.ctr.srv_session(bi, si, srv_cur, be_cur, now);
        self.ctr_dirty = true;
    }

    pub(super) fn stats_queued(&mut self, bi: usize, si: Option<usize>) {
        let srv_q = si.map_or(0, |si| self.total_srv_queue(bi, si));
        let be_q = self.total_be_queue(bi);
        self.ctr.queued(bi, si, be_q, srv_q);
        self.ctr_dirty = true;
    }

    /// A connect failed: a retry follows, a redispatch, or nothing (econ).
    pub(super) fn stats_conn_error(&mut self, sid: usize, bi: usize, si: usize) {
        let left = self.sessions[sid].as_ref().map_or(0, |s| s.retries_left);
        let redispatch = left == 1 && self.backends[bi].redispatch;
        self.ctr_dirty = true;
        let ctr = &mut self.ctr;
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
        let ctr = &mut self.ctr;
        let start = ctr.start;
        self.ctr_dirty |= !t.events.is_empty();
        let mut server_answered = false;
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
                    server_answered |= server;
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
        let applet = t.applet.take();
        if server_answered {
            self.log_asap(sid, now);
        }
        let Some(a) = applet else {
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
        self.ctr_dirty = true;
        if let Some(s) = self.ctr.srv(bi, si) {
            s.check_started = Some(now);
        }
    }

    /// A check finished (after its transition, if any, was applied).
    pub(super) fn stats_check_done(&mut self, ci: usize, o: &Outcome, now: Instant) {
        let c = &self.checks[ci];
        let (bi, si) = (c.bi, c.si);
        let up = c.checker.health() == Health::Up;
        self.ctr_dirty = true;
        let Some(s) = self.ctr.srv(bi, si) else {
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
        self.stats_backend_state(bi, now);
    }

    /// (State history is kept by thread 0, which every change reaches.)
    pub(super) fn stats_transition(&mut self, bi: usize, si: usize, t: &Transition, now: Instant) {
        if self.tid != 0 {
            return;
        }
        self.ctr_dirty = true;
        if let Some(s) = self.ctr.srv(bi, si) {
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
        self.ctr_dirty = true;
        let Some(be) = self.ctr.be.get_mut(bi) else {
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
            if self.tid == 0 {
                self.ctr_dirty = true;
                if let Some(s) = self.ctr.srv(bi, si) {
                    s.last_change = Some(now);
                }
            }
        }
        self.backends[bi].lb.invalidate();
        self.stats_backend_state(bi, now);
        if a == Admin::Maint {
            // Requests waiting for this very server go elsewhere, as
            // HAProxy redistributes a server's pending connections.
            let waiting: Vec<usize> = self.backends[bi].servers[si].queue.drain(..).collect();
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
    /// Every thread clears its own (the runtime API broadcasts it).
    pub fn clear_counters(&mut self, all: bool) {
        self.ctr_dirty = true;
        let ctr = &mut self.ctr;
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
        let scaled = w * WEIGHT_SCALE;
        let ci = self.check_of(bi, si);
        let checked = ci.is_some();
        if let Some(ci) = ci {
            self.checks[ci].weight = scaled;
        }
        let srv = &mut self.backends[bi].servers[si];
        srv.uweight = w;
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
        Ok((a, s.uweight))
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
        let target = crate::session::txn::stats_target(&cfg.uri, &a.req).unwrap_or(&a.req.uri);
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
                    node: cfg.node.as_deref(),
                    desc: cfg.desc.as_deref(),
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
