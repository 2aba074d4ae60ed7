//! Stick tables (manual §4.2 `stick-table`, `stick`, `track-scN`): bounded
//! maps from a key (address, integer, string) to a server id and counters,
//! with per-entry expiry. Sans-IO: every call takes `now`.
//!
//! Engine use: one [`StickTable`] per [`StickTableCfg`] in
//! `Config::stick_tables` (see [`StickTables`]); [`stick_match`] before load
//! balancing, [`stick_store_request`] once a server is chosen,
//! [`stick_store_response`] on the response head; [`StreamTracker`] for
//! `http-request track-scN` and `sc0_*`/`src_*` ACLs.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use fnv::FnvHashMap;

use crate::config::{StickKeyType, StickKind, StickRule, StickTableCfg};
use crate::http::acl::{eval_opt, Truth};
use crate::http::fetch::{Counter, CounterView, FetchCtx, Sample, Tracked};
use crate::http::rules::{TrackSc, Tracker};
pub use crate::http::track::{EntryRef, Slots, StickKey};

/// The key a sample gives in a table of this type, as HAProxy casts:
/// None if it does not convert (an IPv6 address in an `ip` table).
pub fn key_from_sample(s: &Sample, cfg: &StickTableCfg) -> Option<StickKey> {
    match cfg.key {
        StickKeyType::Ip | StickKeyType::Ipv6 => {
            let ip = match s {
                Sample::Ip(ip) => *ip,
                other => other.to_text().trim().parse().ok()?,
            };
            Some(StickKey::Ip(match (cfg.key, ip) {
                (StickKeyType::Ip, IpAddr::V6(v6)) => IpAddr::V4(v6.to_ipv4_mapped()?),
                (StickKeyType::Ipv6, IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
                (_, ip) => ip,
            }))
        }
        StickKeyType::Integer => match s {
            Sample::Int(n) => Some(StickKey::Int(*n)),
            Sample::Bool(b) => Some(StickKey::Int(i64::from(*b))),
            other => other.to_text().trim().parse().ok().map(StickKey::Int),
        },
        StickKeyType::String => {
            let mut t = s.to_text();
            if t.len() > cfg.len {
                let mut end = cfg.len;
                while !t.is_char_boundary(end) {
                    end -= 1;
                }
                t.truncate(end);
            }
            Some(StickKey::Str(t))
        }
    }
}

/// HAProxy's two-bucket frequency counter (`freq_ctr`): events of the
/// current period, and of the previous one, which counts for the part of
/// the sliding window still inside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FreqCtr {
    /// Start of the current period.
    start: Option<Instant>,
    curr: u32,
    prev: u32,
}

impl FreqCtr {
    /// Moves the window so that `now` is in the current period.
    fn rotate(&mut self, period: Duration, now: Instant) {
        let Some(start) = self.start else {
            self.start = Some(now);
            return;
        };
        let elapsed = now.saturating_duration_since(start);
        if elapsed < period {
            return;
        }
        let periods = (elapsed.as_nanos() / period.as_nanos().max(1)) as u32;
        self.prev = if periods == 1 { self.curr } else { 0 };
        self.curr = 0;
        self.start = Some(start + period * periods);
    }

    pub fn add(&mut self, period: Duration, now: Instant, n: u32) {
        self.rotate(period, now);
        self.curr = self.curr.saturating_add(n);
    }

    /// Events per period over the sliding window ending at `now`:
    /// `curr + prev * (period - elapsed) / period`.
    pub fn rate(&self, period: Duration, now: Instant) -> u32 {
        let mut f = *self;
        f.rotate(period, now);
        let Some(start) = f.start else { return 0 };
        let elapsed = now.saturating_duration_since(start).as_nanos();
        let p = period.as_nanos().max(1);
        let remain = p.saturating_sub(elapsed);
        f.curr + (u128::from(f.prev) * remain / p) as u32
    }
}

/// One table entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// Index of the server in its backend's `servers` (`stick` rules).
    pub server_id: Option<usize>,
    pub conn_cur: u32,
    pub conn_cnt: u64,
    pub http_req_cnt: u64,
    conn_rate: FreqCtr,
    http_req_rate: FreqCtr,
    /// Position in the use order (larger: used more recently).
    seq: u64,
    last_use: Option<Instant>,
}

/// Counter values of one entry at one instant; None: not stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub conn_cur: Option<i64>,
    pub conn_rate: Option<i64>,
    pub http_req_rate: Option<i64>,
}

impl Counters {
    pub fn get(&self, c: Counter) -> Option<i64> {
        match c {
            Counter::ConnCur => self.conn_cur,
            Counter::ConnRate => self.conn_rate,
            Counter::HttpReqRate => self.http_req_rate,
        }
    }
}

#[derive(Debug, Clone)]
pub struct StickTable {
    pub cfg: StickTableCfg,
    entries: FnvHashMap<StickKey, Entry>,
    /// Use order: seq -> key; the smallest is the least recently used
    /// (with `expire`, also the first to expire).
    order: BTreeMap<u64, StickKey>,
    next_seq: u64,
}

impl StickTable {
    pub fn new(cfg: &StickTableCfg) -> StickTable {
        StickTable {
            cfg: cfg.clone(),
            entries: FnvHashMap::default(),
            order: BTreeMap::new(),
            next_seq: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        match (self.cfg.expire, e.last_use) {
            // A tracked entry (conn_cur > 0) is referenced: never expires.
            (Some(exp), Some(t)) => e.conn_cur == 0 && now.saturating_duration_since(t) >= exp,
            _ => false,
        }
    }

    /// Drops expired entries (the oldest first; stops at the first live one).
    pub fn purge(&mut self, now: Instant) {
        let mut dead = Vec::new();
        for (seq, key) in &self.order {
            let e = &self.entries[key];
            if self.expired(e, now) {
                dead.push((*seq, key.clone()));
            } else if e.conn_cur == 0 {
                break;
            }
        }
        for (seq, key) in dead {
            self.order.remove(&seq);
            self.entries.remove(&key);
        }
    }

    /// The entry, its expiry refreshed; None if absent or expired.
    pub fn get(&mut self, key: &StickKey, now: Instant) -> Option<&Entry> {
        self.purge(now);
        if !self.entries.contains_key(key) {
            return None;
        }
        self.touch(key, now).map(|e| &*e)
    }

    /// Counter values of `key` at `now` (0 for an unknown or expired key,
    /// as HAProxy's `src_*` fetches); None: the table does not store it.
    /// Reading changes nothing (no expiry refresh).
    pub fn counters(&self, key: &StickKey, now: Instant) -> Counters {
        let s = self.cfg.store;
        let e = match self.entries.get(key) {
            Some(e) if !self.expired(e, now) => e.clone(),
            _ => Entry::default(),
        };
        Counters {
            conn_cur: s.conn_cur.then_some(i64::from(e.conn_cur)),
            conn_rate: s.conn_rate.map(|p| i64::from(e.conn_rate.rate(p, now))),
            http_req_rate: s
                .http_req_rate
                .map(|p| i64::from(e.http_req_rate.rate(p, now))),
        }
    }

    /// Moves `key` to the most recent end, creating it if needed (evicting
    /// the least recently used unreferenced entry when full). None: the
    /// table is full of tracked entries.
    fn touch(&mut self, key: &StickKey, now: Instant) -> Option<&mut Entry> {
        if !self.entries.contains_key(key) {
            self.purge(now);
            if self.entries.len() >= self.cfg.size {
                let victim = self
                    .order
                    .iter()
                    .find(|(_, k)| self.entries[*k].conn_cur == 0)
                    .map(|(s, k)| (*s, k.clone()))?;
                self.order.remove(&victim.0);
                self.entries.remove(&victim.1);
            }
            self.entries.insert(key.clone(), Entry::default());
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = self.entries.get_mut(key)?;
        if e.last_use.is_some() {
            self.order.remove(&e.seq);
        }
        e.seq = seq;
        e.last_use = Some(now);
        self.order.insert(seq, key.clone());
        Some(e)
    }

    /// `stick store-*`: `key` now designates `server_id`. False: full of
    /// tracked entries, nothing stored.
    pub fn put_server(&mut self, key: &StickKey, server_id: usize, now: Instant) -> bool {
        match self.touch(key, now) {
            Some(e) => {
                e.server_id = Some(server_id);
                true
            }
            None => false,
        }
    }

    /// `track-scN`: the stream starts tracking `key`: one more current
    /// connection, one more connection in `conn_cnt`/`conn_rate`.
    pub fn track(&mut self, key: &StickKey, now: Instant) -> Option<EntryRef> {
        self.touch(key, now)?;
        self.inc_conn(key, now);
        let e = self.entries.get_mut(key)?;
        e.conn_cur += 1;
        Some(EntryRef {
            table: self.cfg.name.clone(),
            key: key.clone(),
        })
    }

    /// One more connection in `conn_cnt`/`conn_rate` (not `conn_cur`).
    pub fn inc_conn(&mut self, key: &StickKey, now: Instant) {
        let period = self.cfg.store.conn_rate;
        if let Some(e) = self.touch(key, now) {
            e.conn_cnt += 1;
            if let Some(p) = period {
                e.conn_rate.add(p, now, 1);
            }
        }
    }

    /// One more HTTP request in `http_req_cnt`/`http_req_rate`.
    pub fn inc_http_req(&mut self, key: &StickKey, now: Instant) {
        let period = self.cfg.store.http_req_rate;
        if let Some(e) = self.touch(key, now) {
            e.http_req_cnt += 1;
            if let Some(p) = period {
                e.http_req_rate.add(p, now, 1);
            }
        }
    }

    /// The stream tracking `key` ended: one less current connection (the
    /// entry's expiry starts again from now).
    pub fn dec_conn_cur(&mut self, key: &StickKey, now: Instant) {
        if let Some(e) = self.entries.get_mut(key) {
            e.conn_cur = e.conn_cur.saturating_sub(1);
            self.touch(key, now);
        }
    }
}

/// Every table of the configuration, by section name.
#[derive(Debug, Clone, Default)]
pub struct StickTables {
    tables: Vec<StickTable>,
}

impl StickTables {
    pub fn new(cfgs: &[StickTableCfg]) -> StickTables {
        StickTables {
            tables: cfgs.iter().map(StickTable::new).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&StickTable> {
        self.tables.iter().find(|t| t.cfg.name == name)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut StickTable> {
        self.tables.iter_mut().find(|t| t.cfg.name == name)
    }
}

fn rule_key(rule: &StickRule, t: &StickTable, ctx: &FetchCtx) -> Option<StickKey> {
    if eval_opt(rule.cond.as_ref(), ctx) != Truth::True {
        return None;
    }
    key_from_sample(&rule.pattern.fetch_one(ctx)?, &t.cfg)
}

/// `stick on` and `stick match` rules, in order: the server id stored for
/// the first key found. The engine then uses that server if it is usable
/// (or `option persist`/`force-persist` say so), else balances as usual.
/// Skip this when an `ignore-persist` rule matched.
pub fn stick_match(
    rules: &[StickRule],
    tables: &mut StickTables,
    ctx: &FetchCtx,
    now: Instant,
) -> Option<usize> {
    for rule in rules {
        if !matches!(rule.kind, StickKind::On | StickKind::Match) {
            continue;
        }
        let Some(t) = tables.get_mut(&rule.table) else {
            continue;
        };
        let Some(key) = rule_key(rule, t, ctx) else {
            continue;
        };
        if let Some(id) = t.get(&key, now).and_then(|e| e.server_id) {
            return Some(id);
        }
    }
    None
}

/// Stores `server_id` under the keys of the rules of `kinds`; as HAProxy,
/// only the first rule giving a key stores into a given table.
fn store(
    rules: &[StickRule],
    kinds: &[StickKind],
    tables: &mut StickTables,
    ctx: &FetchCtx,
    server_id: usize,
    now: Instant,
) {
    let mut done: Vec<&str> = Vec::new();
    for rule in rules {
        if !kinds.contains(&rule.kind) || done.contains(&rule.table.as_str()) {
            continue;
        }
        let Some(t) = tables.get_mut(&rule.table) else {
            continue;
        };
        if let Some(key) = rule_key(rule, t, ctx) {
            t.put_server(&key, server_id, now);
            done.push(&rule.table);
        }
    }
}

/// `stick on` and `stick store-request` rules over the request: call once
/// the server is chosen (`ctx` without a response).
pub fn stick_store_request(
    rules: &[StickRule],
    tables: &mut StickTables,
    ctx: &FetchCtx,
    server_id: usize,
    now: Instant,
) {
    let kinds = [StickKind::On, StickKind::StoreRequest];
    store(rules, &kinds, tables, ctx, server_id, now);
}

/// `stick store-response` rules: call on the response head (`ctx` with
/// both the request and the response), `server_id` the server that answered.
pub fn stick_store_response(
    rules: &[StickRule],
    tables: &mut StickTables,
    ctx: &FetchCtx,
    server_id: usize,
    now: Instant,
) {
    store(
        rules,
        &[StickKind::StoreResponse],
        tables,
        ctx,
        server_id,
        now,
    );
}

/// The [`Tracker`] request rules run with: `track-scN` tracks the key in
/// the rule's table (or `own_table`, the proxy's section name) and counts
/// the current request; counter fetches read the tables. `src` is the
/// client address, for `src_*` fetches (looked up in `own_table`).
pub struct StreamTracker<'a> {
    pub tables: &'a mut StickTables,
    pub slots: &'a mut Slots,
    pub own_table: &'a str,
    pub src: IpAddr,
    pub now: Instant,
}

impl Tracker for StreamTracker<'_> {
    fn track(&mut self, rule: &TrackSc, key: &Sample) {
        track_sc(self.tables, self.slots, self.own_table, rule, key, self.now);
    }

    fn counters(&self) -> &dyn CounterView {
        self
    }
}

impl CounterView for StreamTracker<'_> {
    fn counter(&self, of: Tracked, what: Counter) -> Option<i64> {
        counter(
            self.tables,
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
    key: &Sample,
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

/// A `scN_*` counter of a tracked entry, or a `src_*` one (the client
/// address `src` looked up in `own_table`), as it is at `now`.
pub fn counter(
    tables: &StickTables,
    slots: &Slots,
    own_table: &str,
    src: IpAddr,
    of: Tracked,
    what: Counter,
    now: Instant,
) -> Option<i64> {
    let (name, key) = match of {
        Tracked::Sc(n) => {
            let r = slots.get(usize::from(n))?.as_ref()?;
            (r.table.as_str(), r.key.clone())
        }
        Tracked::Src => {
            let t = tables.get(own_table)?;
            let key = key_from_sample(&Sample::Ip(src), &t.cfg)?;
            (own_table, key)
        }
    };
    tables.get(name)?.counters(&key, now).get(what)
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

/// The stream ends: every tracked entry loses one current connection.
pub fn release(tables: &mut StickTables, slots: &mut Slots, now: Instant) {
    for r in slots.iter_mut().filter_map(Option::take) {
        if let Some(t) = tables.get_mut(&r.table) {
            t.dec_conn_cur(&r.key, now);
        }
    }
}

#[cfg(test)]
mod tests;
