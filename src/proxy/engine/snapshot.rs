//! The stats snapshot: plain rows in HAProxy's `show stat` columns, from
//! the counters and the servers' records, that every renderer (CSV, JSON,
//! HTML, Prometheus, `show info`) works from.

use super::{Engine, WEIGHT_SCALE};
use crate::proxy::checks::{Checker, Outcome};
use crate::proxy::counters::{Counters, Ctr};
use crate::proxy::lb::ServerRt;
use crate::stats::{self, ProxyStats, Row, RowKind, Snapshot, Value};
use std::time::{Instant, UNIX_EPOCH};

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
    // HAProxy's ssl module: on every frontend, backend and server row.
    r.u("ssl_sess", c.ssl_sess);
    r.u("ssl_reused_sess", c.ssl_reused);
    r.u("ssl_failed_handshake", c.ssl_failed);
}

fn req_cols(r: &mut Row, c: &mut Ctr, start: Instant, now: Instant) {
    r.u("req_rate", u64::from(c.req_rate.read(start, now)));
    r.u("req_rate_max", u64::from(c.req_rate.max));
    r.u("req_tot", c.req_tot);
}

impl Engine {
    /// Every proxy's rows and the process information, now.
    pub fn snapshot(&mut self) -> Snapshot {
        let now = Instant::now();
        // Every thread's counters, added up once for all the rows.
        let mut ctr = self.process_counters(true);
        let start = ctr.start;
        let mut proxies = Vec::new();
        for (i, (name, fi, bi)) in self.stats.layout.clone().into_iter().enumerate() {
            let iid = i as u32 + self.stats.id_base;
            let frontend = fi.map(|fi| self.frontend_row(&mut ctr, fi, &name, iid, now));
            let (servers, backend) = match bi {
                Some(bi) => {
                    let live: Vec<usize> = (0..self.backends[bi].servers.len())
                        .filter(|&si| !self.backends[bi].servers[si].deleted)
                        .collect();
                    let servers = live
                        .into_iter()
                        .map(|si| self.server_row(&mut ctr, bi, si, iid, now))
                        .collect();
                    (servers, Some(self.backend_row(&mut ctr, bi, iid, now)))
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
        let fe_rates: Vec<(u32, u32)> = ctr
            .fe
            .iter_mut()
            .map(|c| (c.rate.read(start, now), c.rate.max))
            .collect();
        // Each rate now and its maximum, per frontend or backend.
        let read = |r: &mut crate::proxy::counters::Rate| (r.read(start, now), r.max);
        let fe_ssl: Vec<(u32, u32)> = ctr.fe.iter_mut().map(|c| read(&mut c.ssl_rate)).collect();
        let fe_keys: Vec<(u32, u32)> = ctr
            .fe
            .iter_mut()
            .map(|c| read(&mut c.ssl_key_rate))
            .collect();
        let be_keys: Vec<(u32, u32)> = ctr
            .be
            .iter_mut()
            .map(|b| read(&mut b.c.ssl_key_rate))
            .collect();
        let cache = crate::tls::tickets::cache_counts();
        let cum_conns = ctr.fe.iter().map(|c| c.conn_tot).sum();
        let cum_req = ctr.fe.iter().map(|c| c.req_tot).sum();
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
            ulimit_n: crate::sys::nofile_limit(),
            listeners: self.listeners.len() as u32,
            dropped_logs: self.logs.dropped,
            bytes_out: ctr.fe.iter().map(|c| c.bout).sum(),
            // Every TLS connection, both sides (HAProxy's CumSslConns).
            ssl_conns: ctr
                .fe
                .iter()
                .chain(ctr.be.iter().map(|b| &b.c))
                .map(|c| c.ssl_sess + c.ssl_reused + c.ssl_failed)
                .sum(),
            curr_ssl_conns: crate::conn::tls_open_count(),
            ssl_rate: fe_ssl.iter().map(|r| r.0).sum(),
            max_ssl_rate: fe_ssl.iter().map(|r| r.1).max().unwrap_or(0),
            fe_key_rate: fe_keys.iter().map(|r| r.0).sum(),
            max_fe_key_rate: fe_keys.iter().map(|r| r.1).max().unwrap_or(0),
            be_key_rate: be_keys.iter().map(|r| r.0).sum(),
            max_be_key_rate: be_keys.iter().map(|r| r.1).max().unwrap_or(0),
            ssl_cache_lookups: cache.0,
            ssl_cache_misses: cache.1,
        };
        Snapshot { info, proxies }
    }

    fn frontend_row(
        &mut self,
        ctr: &mut Counters,
        fi: usize,
        name: &str,
        iid: u32,
        now: Instant,
    ) -> Row {
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
        r.u("conn_tot", c.conn_tot);
        if http {
            req_cols(&mut r, c, start, now);
        }
        r
    }

    fn server_row(
        &mut self,
        ctr: &mut Counters,
        bi: usize,
        si: usize,
        iid: u32,
        now: Instant,
    ) -> Row {
        let be = &self.backends[bi];
        let srv = &be.servers[si];
        let http = self.stats.be_http[bi];
        let check = srv
            .check
            .map(|ci| &self.checks[ci])
            .filter(|c| c.enabled)
            .map(|c| &c.checker);
        let mut r = Row::new(RowKind::Server, &be.name, &srv.name);
        r.u("qcur", self.total_srv_queue(bi, si) as u64);
        r.u("scur", u64::from(self.total_srv_cur(bi, si)));
        // With several threads `maxconn` holds this thread's share.
        let slim = if self.nthreads() > 1 {
            srv.cfg_maxconn
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
        r.u("uweight", u64::from(srv.uweight));
        r.u("act", u64::from(!srv.backup));
        r.u("bck", u64::from(srv.backup));
        if let Some(q) = srv.maxqueue {
            r.u("qlimit", u64::from(q));
        }
        r.u("pid", 1);
        r.u("iid", u64::from(iid));
        r.u("sid", u64::from(srv.puid));
        r.u("lbtot", self.total_lbtot(bi, Some(si)));
        r.s("addr", srv.addr.to_string());
        if let Some(c) = srv.cookie.as_deref() {
            r.s("cookie", c);
        }
        if let Some(c) = check {
            let (h, rise, fall) = c.counter();
            r.u("check_rise", u64::from(rise));
            r.u("check_fall", u64::from(fall));
            r.u("check_health", u64::from(h));
        }
        let checked = check.is_some();
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
                let (word, code) = o.status();
                r.s("check_status", word);
                if let Some(code) = code {
                    r.u("check_code", code);
                }
                if let Some(d) = s.check_duration {
                    r.u("check_duration", d.as_millis() as u64);
                }
                // HAProxy: the info, and the status's description.
                r.s("last_chk", o.info().to_string());
                r.s("check_desc", o.description().to_string());
            }
        }
        r
    }

    fn backend_row(&mut self, ctr: &mut Counters, bi: usize, iid: u32, now: Instant) -> Row {
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
        // HAProxy: UP while the usable servers weigh something, or when
        // there is no server at all (a stats `listen`, one that `return`s).
        let up = weight > 0 || be.servers.is_empty();
        r.s("status", if up { "UP" } else { "DOWN" });
        r.u("weight", u64::from(weight));
        r.u("act", act as u64);
        r.u("bck", bck as u64);
        r.u("pid", 1);
        r.u("iid", u64::from(iid));
        r.u("sid", 0);
        r.u("lbtot", self.total_lbtot(bi, None));
        r.s("algo", self.stats.be_algo[bi]);
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
}
