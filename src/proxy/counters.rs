//! Activity counters of frontends, backends and servers, in HAProxy's
//! terms (the `show stat` columns): sessions, rates, bytes, denials,
//! errors, warnings, HTTP responses by class, and per server its check
//! results, state changes and downtime. The engine bumps them with one-line
//! calls at its hook points; `engine/snapshot.rs` turns them into rows.
//!
//! With `nbthread`, each loop owns a [`Counters`] (no lock on the data path)
//! and readers add them up with [`Counters::add`]. Sums add; a maximum of a
//! process-wide figure (sessions, queue) is the largest; a rate's maximum,
//! each loop measuring its own share, is the sum of the loops' maxima.

use std::time::{Duration, Instant};

/// Events per second over a sliding second, as HAProxy's freq counters:
/// the previous second's count weighted by how much of it is still inside
/// the window, plus the current second's.
#[derive(Debug, Clone, Default)]
pub struct Rate {
    /// Seconds since `origin` of the current period.
    sec: u64,
    cur: u32,
    prev: u32,
    pub max: u32,
}

impl Rate {
    fn roll(&mut self, origin: Instant, now: Instant) -> f64 {
        let el = now.saturating_duration_since(origin);
        let sec = el.as_secs();
        if sec != self.sec {
            self.prev = if sec == self.sec + 1 { self.cur } else { 0 };
            self.cur = 0;
            self.sec = sec;
        }
        f64::from(el.subsec_millis()) / 1000.0
    }

    pub fn add(&mut self, origin: Instant, now: Instant) {
        self.roll(origin, now);
        self.cur = self.cur.saturating_add(1);
        let r = self.read(origin, now);
        self.max = self.max.max(r);
    }

    /// Add another loop's rate over the same origin, both as of `now`.
    fn merge(&mut self, o: &Rate, origin: Instant, now: Instant) {
        let mut o = o.clone();
        self.roll(origin, now);
        o.roll(origin, now);
        self.cur = self.cur.saturating_add(o.cur);
        self.prev = self.prev.saturating_add(o.prev);
        self.max = self.max.saturating_add(o.max);
    }

    /// The rate now, events per second.
    pub fn read(&mut self, origin: Instant, now: Instant) -> u32 {
        let frac = self.roll(origin, now);
        self.cur + (f64::from(self.prev) * (1.0 - frac)).round() as u32
    }
}

/// Counters common to frontends, backends and servers.
#[derive(Debug, Clone, Default)]
pub struct Ctr {
    pub smax: u32,
    pub stot: u64,
    pub rate: Rate,
    pub qmax: u32,
    pub bin: u64,
    pub bout: u64,
    pub dreq: u64,
    pub dresp: u64,
    pub ereq: u64,
    pub econ: u64,
    pub eresp: u64,
    pub wretr: u64,
    pub wredis: u64,
    /// hrsp_1xx..hrsp_5xx, then hrsp_other.
    pub hrsp: [u64; 6],
    pub req_tot: u64,
    pub req_rate: Rate,
    pub last_sess: Option<Instant>,
    /// Frontends: connections accepted (`stot` counts sessions: on a TLS
    /// listener, the handshakes that completed).
    pub conn_tot: u64,
    /// TLS handshakes completed in full, resumed, failed (HAProxy's ssl
    /// module: `ssl_sess` does not count the resumed ones).
    pub ssl_sess: u64,
    pub ssl_reused: u64,
    pub ssl_failed: u64,
    /// Frontends: TLS connections accepted per second (HAProxy's SslRate);
    /// frontends and backends: full handshakes per second (its key rates).
    pub ssl_rate: Rate,
    pub ssl_key_rate: Rate,
}

impl Ctr {
    fn add(&mut self, o: &Ctr, origin: Instant, now: Instant) {
        self.smax = self.smax.max(o.smax);
        self.stot += o.stot;
        self.conn_tot += o.conn_tot;
        self.ssl_sess += o.ssl_sess;
        self.ssl_reused += o.ssl_reused;
        self.ssl_failed += o.ssl_failed;
        self.ssl_rate.merge(&o.ssl_rate, origin, now);
        self.ssl_key_rate.merge(&o.ssl_key_rate, origin, now);
        self.rate.merge(&o.rate, origin, now);
        self.qmax = self.qmax.max(o.qmax);
        self.bin += o.bin;
        self.bout += o.bout;
        self.dreq += o.dreq;
        self.dresp += o.dresp;
        self.ereq += o.ereq;
        self.econ += o.econ;
        self.eresp += o.eresp;
        self.wretr += o.wretr;
        self.wredis += o.wredis;
        for (a, b) in self.hrsp.iter_mut().zip(o.hrsp) {
            *a += b;
        }
        self.req_tot += o.req_tot;
        self.req_rate.merge(&o.req_rate, origin, now);
        self.last_sess = self.last_sess.max(o.last_sess);
    }

    pub fn response(&mut self, status: u16) {
        let i = match status {
            100..=599 => usize::from(status / 100 - 1),
            _ => 5,
        };
        self.hrsp[i] += 1;
    }
}

/// A server's counters beyond [`Ctr`]: health and state history.
#[derive(Debug, Clone, Default)]
pub struct SrvCtr {
    pub c: Ctr,
    /// `chkfail`: failed checks; `chkdown`: UP to DOWN transitions.
    pub chkfail: u64,
    pub chkdown: u64,
    /// Last state change (health or administrative).
    pub last_change: Option<Instant>,
    /// Total time spent DOWN before the current period, and since when the
    /// server is DOWN now.
    pub downtime: Duration,
    pub down_since: Option<Instant>,
    /// The last check: when it started, its result and how long it took.
    pub check_started: Option<Instant>,
    pub check_ok: Option<bool>,
    pub check_desc: String,
    pub check_duration: Option<Duration>,
}

impl SrvCtr {
    /// Health and state history are thread 0's alone: the other loops'
    /// are empty, so keeping whichever is set is exact.
    fn add(&mut self, o: &SrvCtr, origin: Instant, now: Instant) {
        self.c.add(&o.c, origin, now);
        self.chkfail += o.chkfail;
        self.chkdown += o.chkdown;
        self.last_change = self.last_change.max(o.last_change);
        self.downtime += o.downtime;
        self.down_since = self.down_since.or(o.down_since);
        self.check_started = self.check_started.or(o.check_started);
        self.check_ok = self.check_ok.or(o.check_ok);
        if self.check_desc.is_empty() {
            self.check_desc.clone_from(&o.check_desc);
        }
        self.check_duration = self.check_duration.or(o.check_duration);
    }

    pub fn went_down(&mut self, now: Instant) {
        self.chkdown += 1;
        self.last_change = Some(now);
        self.down_since.get_or_insert(now);
    }

    pub fn went_up(&mut self, now: Instant) {
        self.last_change = Some(now);
        if let Some(since) = self.down_since.take() {
            self.downtime += now.saturating_duration_since(since);
        }
    }

    /// Total downtime so far, the current DOWN period included.
    pub fn downtime(&self, now: Instant) -> Duration {
        self.downtime
            + self
                .down_since
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s))
    }
}

#[derive(Debug, Default)]
pub struct BeCtr {
    pub c: Ctr,
    pub srv: Vec<SrvCtr>,
    /// When the backend last had no usable server, and the total of such.
    pub down_since: Option<Instant>,
    pub downtime: Duration,
    pub last_change: Option<Instant>,
}

/// Counters of one loop, or (added up) of the process.
#[derive(Debug)]
pub struct Counters {
    /// Origin of the rate periods, and the process start.
    pub start: Instant,
    pub fe: Vec<Ctr>,
    pub be: Vec<BeCtr>,
}

// By hand so that `clone_from` (a loop publishing its counters at the end
// of each busy turn) reuses the vectors instead of allocating anew.
impl Clone for BeCtr {
    fn clone(&self) -> Self {
        BeCtr {
            c: self.c.clone(),
            srv: self.srv.clone(),
            down_since: self.down_since,
            downtime: self.downtime,
            last_change: self.last_change,
        }
    }

    fn clone_from(&mut self, o: &Self) {
        self.c.clone_from(&o.c);
        self.srv.clone_from(&o.srv);
        self.down_since = o.down_since;
        self.downtime = o.downtime;
        self.last_change = o.last_change;
    }
}

impl Clone for Counters {
    fn clone(&self) -> Self {
        Counters {
            start: self.start,
            fe: self.fe.clone(),
            be: self.be.clone(),
        }
    }

    fn clone_from(&mut self, o: &Self) {
        self.start = o.start;
        self.fe.clone_from(&o.fe);
        self.be.clone_from(&o.be);
    }
}

impl Counters {
    pub fn new(frontends: usize, servers_per_backend: &[usize], now: Instant) -> Counters {
        Counters {
            start: now,
            fe: vec![Ctr::default(); frontends],
            be: servers_per_backend
                .iter()
                .map(|&n| BeCtr {
                    srv: vec![SrvCtr::default(); n],
                    ..Default::default()
                })
                .collect(),
        }
    }

    /// A connection accepted by frontend `fi`, which now has `cur`; a
    /// session unless a TLS handshake is to come first (`fe_tls`).
    pub fn fe_session(&mut self, fi: usize, cur: u32, tls: bool, now: Instant) {
        let start = self.start;
        if let Some(c) = self.fe.get_mut(fi) {
            c.conn_tot += 1;
            c.stot += u64::from(!tls);
            c.smax = c.smax.max(cur);
            c.rate.add(start, now);
            if tls {
                c.ssl_rate.add(start, now);
            }
            c.last_sess = Some(now);
        }
    }

    /// A TLS handshake on frontend `fi` completed (a session; `Some(true)`:
    /// resumed) or failed (`None`).
    pub fn fe_tls(&mut self, fi: usize, done: Option<bool>) {
        let start = self.start;
        if let Some(c) = self.fe.get_mut(fi) {
            match done {
                Some(resumed) => {
                    c.stot += 1;
                    c.ssl_sess += u64::from(!resumed);
                    c.ssl_reused += u64::from(resumed);
                    if !resumed {
                        c.ssl_key_rate.add(start, Instant::now());
                    }
                }
                None => c.ssl_failed += 1,
            }
        }
    }

    /// A TLS handshake towards server `si` of backend `bi` completed
    /// (`Some(true)`: resumed) or failed (`None`): HAProxy's ssl module
    /// counts it on the server and on its backend.
    pub fn srv_tls(&mut self, bi: usize, si: usize, done: Option<bool>) {
        let start = self.start;
        let Some(be) = self.be.get_mut(bi) else {
            return;
        };
        if done == Some(false) {
            be.c.ssl_key_rate.add(start, Instant::now());
        }
        for c in [Some(&mut be.c), be.srv.get_mut(si).map(|s| &mut s.c)]
            .into_iter()
            .flatten()
        {
            match done {
                Some(resumed) => {
                    c.ssl_sess += u64::from(!resumed);
                    c.ssl_reused += u64::from(resumed);
                }
                None => c.ssl_failed += 1,
            }
        }
    }

    /// A session (HTTP: a request) attached to server `si` of backend `bi`;
    /// `srv_cur`/`be_cur`: their current sessions after it.
    pub fn srv_session(&mut self, bi: usize, si: usize, srv_cur: u32, be_cur: u32, now: Instant) {
        let start = self.start;
        let Some(be) = self.be.get_mut(bi) else {
            return;
        };
        for c in [Some(&mut be.c), be.srv.get_mut(si).map(|s| &mut s.c)]
            .into_iter()
            .flatten()
        {
            c.stot += 1;
            c.rate.add(start, now);
            c.last_sess = Some(now);
        }
        be.c.smax = be.c.smax.max(be_cur);
        if let Some(s) = be.srv.get_mut(si) {
            s.c.smax = s.c.smax.max(srv_cur);
        }
    }

    /// Queue lengths after a session was queued.
    pub fn queued(&mut self, bi: usize, si: Option<usize>, be_q: usize, srv_q: usize) {
        let Some(be) = self.be.get_mut(bi) else {
            return;
        };
        be.c.qmax = be.c.qmax.max(be_q as u32);
        if let Some(s) = si.and_then(|si| be.srv.get_mut(si)) {
            s.c.qmax = s.c.qmax.max(srv_q as u32);
        }
    }

    /// A failed connect to a server, then a retry or a redispatch.
    pub fn conn_error(&mut self, bi: usize, si: usize, retry: bool, redispatch: bool) {
        let Some(be) = self.be.get_mut(bi) else {
            return;
        };
        for c in [Some(&mut be.c), be.srv.get_mut(si).map(|s| &mut s.c)]
            .into_iter()
            .flatten()
        {
            c.econ += 1;
            c.wretr += u64::from(retry && !redispatch);
            c.wredis += u64::from(redispatch);
        }
    }

    /// Bytes from the client (`bin`) and to it (`bout`), charged to the
    /// frontend and to the backend and server serving the session.
    pub fn bytes(&mut self, fi: usize, at: Option<(usize, Option<usize>)>, rx: u64, tx: u64) {
        if rx == 0 && tx == 0 {
            return;
        }
        if let Some(c) = self.fe.get_mut(fi) {
            c.bin += rx;
            c.bout += tx;
        }
        if let Some((bi, si)) = at {
            if let Some(be) = self.be.get_mut(bi) {
                be.c.bin += rx;
                be.c.bout += tx;
                if let Some(s) = si.and_then(|si| be.srv.get_mut(si)) {
                    s.c.bin += rx;
                    s.c.bout += tx;
                }
            }
        }
    }

    /// Add another loop's counters (over the same `start`) as of `now`.
    pub fn add(&mut self, o: &Counters, now: Instant) {
        let start = self.start;
        for (a, b) in self.fe.iter_mut().zip(&o.fe) {
            a.add(b, start, now);
        }
        for (a, b) in self.be.iter_mut().zip(&o.be) {
            a.c.add(&b.c, start, now);
            a.down_since = a.down_since.or(b.down_since);
            a.downtime += b.downtime;
            a.last_change = a.last_change.max(b.last_change);
            // A loop that has not added a run-time server yet lacks it.
            for (x, y) in a.srv.iter_mut().zip(&b.srv) {
                x.add(y, start, now);
            }
        }
    }

    pub fn srv(&mut self, bi: usize, si: usize) -> Option<&mut SrvCtr> {
        self.be.get_mut(bi).and_then(|b| b.srv.get_mut(si))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_counts_the_current_second_and_decays_the_previous_one() {
        let t0 = Instant::now();
        let mut r = Rate::default();
        for _ in 0..10 {
            r.add(t0, t0);
        }
        assert_eq!(r.read(t0, t0), 10);
        assert_eq!(r.max, 10);
        // Half-way through the next second: half of the previous one counts.
        let t = t0 + Duration::from_millis(1500);
        assert_eq!(r.read(t0, t), 5);
        // Two seconds later nothing is left, but the max stays.
        assert_eq!(r.read(t0, t0 + Duration::from_secs(3)), 0);
        assert_eq!(r.max, 10);
    }

    #[test]
    fn loops_add_up_sums_and_keep_the_largest_maximum() {
        let t0 = Instant::now();
        let mut a = Counters::new(1, &[1], t0);
        let mut b = a.clone();
        a.fe_session(0, 3, false, t0);
        b.fe_session(0, 5, false, t0);
        b.fe_session(0, 4, false, t0);
        b.bytes(0, Some((0, Some(0))), 10, 20);
        if let Some(s) = a.srv(0, 0) {
            s.went_down(t0);
        }
        a.add(&b, t0);
        let fe = &mut a.fe[0];
        assert_eq!((fe.stot, fe.smax, fe.bin, fe.bout), (3, 5, 10, 20));
        assert_eq!((fe.rate.read(t0, t0), fe.rate.max), (3, 3));
        assert_eq!(a.be[0].srv[0].c.bout, 20);
        assert_eq!(a.be[0].srv[0].chkdown, 1);
    }

    #[test]
    fn responses_are_counted_by_class() {
        let mut c = Ctr::default();
        for s in [101, 200, 204, 302, 404, 503, 0, 600] {
            c.response(s);
        }
        assert_eq!(c.hrsp, [1, 2, 1, 1, 1, 2]);
    }

    #[test]
    fn downtime_includes_the_current_down_period() {
        let t0 = Instant::now();
        let mut s = SrvCtr::default();
        s.went_down(t0);
        s.went_up(t0 + Duration::from_secs(2));
        assert_eq!(
            s.downtime(t0 + Duration::from_secs(5)),
            Duration::from_secs(2)
        );
        s.went_down(t0 + Duration::from_secs(5));
        assert_eq!(
            s.downtime(t0 + Duration::from_secs(6)),
            Duration::from_secs(3)
        );
        assert_eq!(s.chkdown, 2);
    }
}
