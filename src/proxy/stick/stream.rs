//! A stream's side of the stick tables: `track-scN`, the counters it
//! reads and changes through its tracked entries (`sc*_`/`src_*` fetches),
//! the per-request counts, and the release when it ends.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use super::{key_from_sample, Slots, StickTables};
use crate::config::StickData;
use crate::http::fetch::{Counter, CounterView, Tracked};
use crate::http::rules::{TrackSc, Tracker};
use crate::sample::Value;

/// The [`Tracker`] request rules run with: `track-scN` tracks the key in
/// the rule's table (or `own_table`, the proxy's section name) and counts
/// the current request; counter fetches read the tables. `src` is the
/// client address, for `src_*` fetches (looked up in `own_table`).
pub struct StreamTracker<'a> {
    pub tables: &'a Mutex<StickTables>,
    pub slots: &'a mut Slots,
    pub own_table: &'a str,
    pub src: IpAddr,
    pub now: Instant,
    /// `http-request` rules: tracking counts the current request too.
    pub http: bool,
}

impl Tracker for StreamTracker<'_> {
    fn track(&mut self, rule: &TrackSc, key: &Value) {
        let mut t = crate::proxy::locks::lock(self.tables);
        if !self.http {
            track_tcp(&mut t, self.slots, self.own_table, rule, key, self.now);
            return;
        }
        track_sc(&mut t, self.slots, self.own_table, rule, key, self.now);
    }

    fn counters(&self) -> &dyn CounterView {
        self
    }

    fn http_err(&mut self) {
        count_http_err(
            &mut crate::proxy::locks::lock(self.tables),
            self.slots,
            self.now,
        );
    }
}

impl CounterView for StreamTracker<'_> {
    fn counter(&self, of: Tracked, what: Counter) -> Option<i64> {
        counter(
            &mut crate::proxy::locks::lock(self.tables),
            self.slots,
            self.own_table,
            self.src,
            of,
            what,
            self.now,
        )
    }
}

/// `track-scN` met with this key: track it in the rule's table (or
/// `own_table`) in slot N, unless slot N already tracks an entry (HAProxy
/// keeps the first), and count the current request.
pub fn track_sc(
    tables: &mut StickTables,
    slots: &mut Slots,
    own_table: &str,
    rule: &TrackSc,
    key: &Value,
    now: Instant,
) {
    let slot = usize::from(rule.slot).min(2);
    if slots[slot].is_some() {
        return;
    }
    let name = rule.table.as_deref().unwrap_or(own_table);
    let Some(t) = tables.get_mut(name) else {
        return;
    };
    let Some(key) = key_from_sample(key, &t.cfg) else {
        return;
    };
    if let Some(r) = t.track(&key, now) {
        t.inc_http_req(&key, now);
        slots[slot] = Some(r);
    }
}

/// `tcp-request ... track-scN`: as [`track_sc`], without counting a
/// request (the connection's requests count as they come).
fn track_tcp(
    tables: &mut StickTables,
    slots: &mut Slots,
    own_table: &str,
    rule: &TrackSc,
    key: &Value,
    now: Instant,
) {
    let slot = usize::from(rule.slot).min(2);
    if slots[slot].is_some() {
        return;
    }
    let name = rule.table.as_deref().unwrap_or(own_table);
    let Some(t) = tables.get_mut(name) else {
        return;
    };
    if let Some(r) = key_from_sample(key, &t.cfg).and_then(|k| t.track(&k, now)) {
        slots[slot] = Some(r);
    }
}

/// A `scN_*` counter of a tracked entry, or a `src_*` one (the client
/// address `src` looked up in `own_table`), as it is at `now`, with
/// HAProxy's results: no sample when nothing is tracked or the entry's
/// table does not store the type, 0 for an absent entry. `inc`, `clr` and
/// `src_updt_conn_cnt` change the entry (the `src_*` ones create it).
pub fn counter(
    tables: &mut StickTables,
    slots: &Slots,
    own_table: &str,
    src: IpAddr,
    of: Tracked,
    what: Counter,
    now: Instant,
) -> Option<i64> {
    let (name, key, create) = match of {
        Tracked::Sc(n, table) => {
            let Some(r) = slots.get(usize::from(n)).and_then(Option::as_ref) else {
                return (what == Counter::Tracked).then_some(0);
            };
            let name = table.map_or(r.table.as_str(), |t| t.as_str());
            (name, r.key.clone(), false)
        }
        Tracked::Src(table) => {
            let name = table.map_or(own_table, |t| t.as_str());
            let t = tables.get(name)?;
            let key = key_from_sample(&Value::from(src), &t.cfg)?;
            (name, key, true)
        }
    };
    let t = tables.get_mut(name)?;
    match what {
        Counter::Tracked => Some(1),
        Counter::Trackers => Some(t.peek(&key, now).map_or(0, |e| i64::from(e.refs))),
        Counter::Data(d) => t.data(&key, d, now),
        Counter::KBytes(d) => t.data(&key, d, now).map(|v| v >> 10),
        Counter::IncGpc(i) | Counter::ClrGpc(i) => {
            // `src_inc_gpc0`/`src_clr_gpc0` create the entry (even when it
            // stores neither type), `sc*_` ones find an absent one 0.
            if create {
                t.touch(&key, now)?;
            } else if t.peek(&key, now).is_none() {
                return Some(0);
            }
            match what {
                Counter::IncGpc(_) => t.inc_gpc(&key, i, now),
                _ => t.clr_gpc(&key, i, now),
            }
        }
        Counter::SetGpt0(v) => {
            if t.peek(&key, now).is_none() && !create {
                return None;
            }
            let ok = t.set(&key, StickData::Gpt0, u64::from(v as u32), now);
            ok.then_some(v)
        }
        Counter::UpdtConnCnt => {
            if !t.cfg.store.has(StickData::ConnCnt) {
                return None;
            }
            let store = t.cfg.store;
            let e = t.touch(&key, now)?;
            e.add(&store, StickData::ConnCnt, StickData::ConnCnt, 1, now);
            Some(e.value(&store, StickData::ConnCnt, now))
        }
    }
}

/// A new request on a stream whose slots already track entries (a
/// keep-alive connection tracked by an earlier rule): count it.
pub fn count_http_req(tables: &mut StickTables, slots: &Slots, now: Instant) {
    for r in slots.iter().flatten() {
        if let Some(t) = tables.get_mut(&r.table) {
            t.inc_http_req(&r.key, now);
        }
    }
}

/// The server answered a 4xx: an HTTP error for every tracked entry (as
/// HAProxy counts them: the server's 4xx, not the proxy's own answers).
pub fn count_http_err(tables: &mut StickTables, slots: &Slots, now: Instant) {
    for r in slots.iter().flatten() {
        if let Some(t) = tables.get_mut(&r.table) {
            t.add(
                &r.key,
                StickData::HttpErrCnt,
                StickData::HttpErrRate,
                1,
                now,
            );
        }
    }
}

/// A transaction's bytes, as HAProxy's logs count them (`%U` from the
/// client, `%B` to it), added to every tracked entry's `bytes_in_*` and
/// `bytes_out_*`: call just before [`release`].
pub fn add_bytes(
    tables: &mut StickTables,
    slots: &Slots,
    bytes_in: u64,
    bytes_out: u64,
    now: Instant,
) {
    for r in slots.iter().flatten() {
        if let Some(t) = tables.get_mut(&r.table) {
            t.add(
                &r.key,
                StickData::BytesInCnt,
                StickData::BytesInRate,
                bytes_in,
                now,
            );
            t.add(
                &r.key,
                StickData::BytesOutCnt,
                StickData::BytesOutRate,
                bytes_out,
                now,
            );
        }
    }
}

/// A new session for the entries tracked by `tcp-request connection`
/// rules (`sess_cnt`/`sess_rate`); they are now held for the connection.
pub fn count_sess(tables: &mut StickTables, slots: &mut Slots, now: Instant) {
    for r in slots.iter_mut().flatten() {
        r.sess = true;
        if let Some(t) = tables.get_mut(&r.table) {
            t.add(&r.key, StickData::SessCnt, StickData::SessRate, 1, now);
        }
    }
}

/// `tcp-request connection|content` rules with their `track-scN` and
/// `sc-*` actions and counter conditions, over `slots` (the connection's).
/// Locks the tables per operation.
pub fn track_conn(
    tables: &Mutex<StickTables>,
    rules: &[crate::http::rules::TcpRule],
    ctx: &crate::http::fetch::FetchCtx,
    slots: &mut Slots,
    own_table: &str,
    now: Instant,
) -> Option<crate::http::rules::TcpAction> {
    let mut tr = StreamTracker {
        tables,
        slots,
        own_table,
        src: ctx.src.ip(),
        now,
        http: false,
    };
    let v = crate::http::rules::run_tcp_tracked(rules, ctx, Some(&mut tr));
    for r in tr.slots.iter_mut().flatten() {
        r.sess = true;
    }
    v
}

/// An HTTP transaction ends: the entries its `http-request` rules tracked
/// lose one current connection (those of the connection stay).
pub fn release_stream(tables: &mut StickTables, slots: &mut Slots, now: Instant) {
    for s in slots
        .iter_mut()
        .filter(|s| s.as_ref().is_some_and(|r| !r.sess))
    {
        if let Some(r) = s.take() {
            if let Some(t) = tables.get_mut(&r.table) {
                t.dec_conn_cur(&r.key, now);
            }
        }
    }
}

/// The stream ends: every tracked entry loses one current connection.
pub fn release(tables: &mut StickTables, slots: &mut Slots, now: Instant) {
    for r in slots.iter_mut().filter_map(Option::take) {
        if let Some(t) = tables.get_mut(&r.table) {
            t.dec_conn_cur(&r.key, now);
        }
    }
}
