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
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fnv::FnvHashMap;

use crate::config::{StickData, StickKeyType, StickKind, StickRule, StickStore, StickTableCfg};
use crate::http::acl::{eval_opt, Truth};
use crate::http::fetch::{to_text, FetchCtx};
pub use crate::http::track::{EntryRef, Slots, StickKey};
use crate::sample::Value;

/// The key a sample gives in a table of this type, as HAProxy casts:
/// None if it does not convert (an IPv6 address in an `ip` table).
pub fn key_from_sample(s: &Value, cfg: &StickTableCfg) -> Option<StickKey> {
    match cfg.key {
        StickKeyType::Ip | StickKeyType::Ipv6 => {
            let ip = match s {
                Value::Ipv4(a) => IpAddr::V4(*a),
                Value::Ipv6(a) => IpAddr::V6(*a),
                other => to_text(other).trim().parse().ok()?,
            };
            Some(StickKey::Ip(match (cfg.key, ip) {
                (StickKeyType::Ip, IpAddr::V6(v6)) => IpAddr::V4(v6.to_ipv4_mapped()?),
                (StickKeyType::Ipv6, IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
                (_, ip) => ip,
            }))
        }
        StickKeyType::Integer => match s {
            Value::Sint(n) => Some(StickKey::Int(*n)),
            Value::Bool(b) => Some(StickKey::Int(i64::from(*b))),
            other => to_text(other).trim().parse().ok().map(StickKey::Int),
        },
        StickKeyType::String => {
            let t = to_text(s);
            let mut end = t.len().min(cfg.len);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            Some(StickKey::Str(t[..end].to_string()))
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

    /// The current period's count becomes `n` (the previous one stays).
    fn set(&mut self, period: Duration, now: Instant, n: u32) {
        self.rotate(period, now);
        self.curr = n;
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
    /// `server_id` came from a `stick` rule (HAProxy's `server_key`, the
    /// server's name, is then known), not from `set table`.
    server_key: bool,
    /// Streams tracking it (`show table`'s `use=`): it never expires
    /// while one does.
    pub refs: u32,
    /// Counts, `conn_cur`, `gpc0/1` and `gpt0`, by [`StickData::index`].
    vals: [u64; 19],
    /// The `_rate` types' frequency counters, by [`StickData::index`].
    rates: [FreqCtr; 19],
    /// Position in the use order (larger: used more recently).
    seq: u64,
    last_use: Option<Instant>,
}

impl Entry {
    /// The value of a stored type at `now` (a rate over its period).
    pub fn value(&self, store: &StickStore, d: StickData, now: Instant) -> i64 {
        match store.period(d) {
            Some(p) => i64::from(self.rates[d.index()].rate(p, now)),
            None => self.vals[d.index()].min(i64::MAX as u64) as i64,
        }
    }

    /// Adds `n` to `cnt` and `rate` where the table stores them.
    fn add(&mut self, store: &StickStore, cnt: StickData, rate: StickData, n: u64, now: Instant) {
        if store.has(cnt) {
            let v = &mut self.vals[cnt.index()];
            *v = v.saturating_add(n);
        }
        if let Some(p) = store.period(rate) {
            self.rates[rate.index()].add(p, now, u32::try_from(n).unwrap_or(u32::MAX));
        }
    }

    /// `set table ... data.TYPE VALUE` and `sc-set-gpt0`: a count is set,
    /// a rate's current period becomes VALUE (as HAProxy).
    fn set(&mut self, store: &StickStore, d: StickData, v: u64, now: Instant) {
        match (d, store.period(d)) {
            (_, Some(p)) => self.rates[d.index()].set(p, now, u32::try_from(v).unwrap_or(u32::MAX)),
            _ => self.vals[d.index()] = v,
        }
    }
}

/// The gpc0/gpc1 data types and their rates.
fn gpc(i: u8) -> (StickData, StickData) {
    if i == 0 {
        (StickData::Gpc0, StickData::Gpc0Rate)
    } else {
        (StickData::Gpc1, StickData::Gpc1Rate)
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
            // A tracked entry is referenced: never expires.
            (Some(exp), Some(t)) => e.refs == 0 && now.saturating_duration_since(t) >= exp,
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
            } else if e.refs == 0 {
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

    /// The live entry of `key`, read without refreshing it.
    pub fn peek(&self, key: &StickKey, now: Instant) -> Option<&Entry> {
        self.entries.get(key).filter(|e| !self.expired(e, now))
    }

    /// The live entries, least recently used first.
    pub fn iter(&self, now: Instant) -> impl Iterator<Item = (&StickKey, &Entry)> {
        self.order
            .values()
            .filter_map(|k| Some((k, self.entries.get(k)?)))
            .filter(move |(_, e)| !self.expired(e, now))
    }

    /// Removes `key` unless a stream tracks it (`clear table`). True:
    /// removed.
    pub fn remove(&mut self, key: &StickKey) -> bool {
        match self.entries.get(key) {
            Some(e) if e.refs == 0 => {
                let seq = e.seq;
                self.order.remove(&seq);
                self.entries.remove(key);
                true
            }
            _ => false,
        }
    }

    /// The value of `d` in `e` as `show table` shows it: `server_id` is the
    /// server's id (HAProxy's puid), or what `set table` put there.
    pub fn value(&self, e: &Entry, d: StickData, now: Instant) -> i64 {
        match (d, e.server_id) {
            (StickData::ServerId, Some(i)) => self
                .cfg
                .servers
                .get(i)
                .map_or(i as i64 + 1, |s| i64::from(s.0)),
            _ => e.value(&self.cfg.store, d, now),
        }
    }

    /// The server name a `stick` rule stored (`server_key`), if any.
    pub fn server_key(&self, e: &Entry) -> Option<&str> {
        let i = e.server_id.filter(|_| e.server_key)?;
        self.cfg.servers.get(i).map(|s| s.1.as_str())
    }

    /// A data type of `key`, for counter fetches: 0 for an absent entry,
    /// None if the entry exists but the table does not store `d` (as
    /// HAProxy's `sc_*`/`src_*` fetches). Reading refreshes nothing.
    pub fn data(&self, key: &StickKey, d: StickData, now: Instant) -> Option<i64> {
        match self.peek(key, now) {
            None => Some(0),
            Some(_) if !self.cfg.store.has(d) => None,
            Some(e) => Some(e.value(&self.cfg.store, d, now)),
        }
    }

    /// Adds `n` to `cnt`/`rate` of an existing entry (a tracked one).
    pub fn add(&mut self, key: &StickKey, cnt: StickData, rate: StickData, n: u64, now: Instant) {
        let store = self.cfg.store;
        if let Some(e) = self.touch_existing(key, now) {
            e.add(&store, cnt, rate, n, now);
        }
    }

    /// Sets `d` of `key`, creating the entry (`set table`, `sc-set-gpt0`).
    /// False: the table does not store `d`, or is full of tracked entries.
    pub fn set(&mut self, key: &StickKey, d: StickData, v: u64, now: Instant) -> bool {
        let store = self.cfg.store;
        if !store.has(d) {
            return false;
        }
        // `server_id`: the server with that id, if any, for `stick match`.
        let server = (d == StickData::ServerId).then(|| {
            let ids = &self.cfg.servers;
            ids.iter().position(|s| u64::from(s.0) == v)
        });
        match self.touch(key, now) {
            Some(e) => {
                if let Some(server) = server {
                    (e.server_id, e.server_key) = (server, false);
                }
                e.set(&store, d, v, now);
                true
            }
            None => false,
        }
    }

    /// `inc_gpc0/1`, `sc-inc-gpc0/1`: the new count (or the rate's current
    /// period count when only the rate is stored); None: neither stored or
    /// no such entry.
    pub fn inc_gpc(&mut self, key: &StickKey, i: u8, now: Instant) -> Option<i64> {
        let store = self.cfg.store;
        let (cnt, rate) = gpc(i);
        if !store.has(cnt) && !store.has(rate) {
            return None;
        }
        let e = self.touch_existing(key, now)?;
        e.add(&store, cnt, rate, 1, now);
        Some(if store.has(cnt) {
            e.value(&store, cnt, now)
        } else {
            i64::from(e.rates[rate.index()].curr)
        })
    }

    /// `clr_gpc0/1`: the old count, now 0; None: not stored or no entry.
    pub fn clr_gpc(&mut self, key: &StickKey, i: u8, now: Instant) -> Option<i64> {
        let (cnt, _) = gpc(i);
        if !self.cfg.store.has(cnt) {
            return None;
        }
        let e = self.touch_existing(key, now)?;
        let old = e.vals[cnt.index()];
        e.vals[cnt.index()] = 0;
        Some(old.min(i64::MAX as u64) as i64)
    }

    fn touch_existing(&mut self, key: &StickKey, now: Instant) -> Option<&mut Entry> {
        self.peek(key, now)?;
        self.touch(key, now)
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
                    .find(|(_, k)| self.entries[*k].refs == 0)
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
                e.server_key = true;
                true
            }
            None => false,
        }
    }

    /// `track-scN`: the stream starts tracking `key`: one more current
    /// connection, one more connection in `conn_cnt`/`conn_rate`.
    pub fn track(&mut self, key: &StickKey, now: Instant) -> Option<EntryRef> {
        let store = self.cfg.store;
        let e = self.touch(key, now)?;
        e.refs += 1;
        e.add(&store, StickData::ConnCnt, StickData::ConnRate, 1, now);
        e.add(&store, StickData::ConnCur, StickData::ConnCur, 1, now);
        Some(EntryRef {
            table: self.cfg.name.clone(),
            key: key.clone(),
            sess: false,
        })
    }

    /// One more HTTP request in `http_req_cnt`/`http_req_rate`.
    pub fn inc_http_req(&mut self, key: &StickKey, now: Instant) {
        self.add(key, StickData::HttpReqCnt, StickData::HttpReqRate, 1, now);
    }

    /// The stream tracking `key` ended: one less current connection (the
    /// entry's expiry starts again from now).
    pub fn dec_conn_cur(&mut self, key: &StickKey, now: Instant) {
        if let Some(e) = self.entries.get_mut(key) {
            e.refs = e.refs.saturating_sub(1);
            let v = &mut e.vals[StickData::ConnCur.index()];
            *v = v.saturating_sub(1);
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

/// The samples of the rules of `kinds` whose condition holds, with the
/// rule: evaluated before the tables are locked, since a condition may
/// read them (`in_table`, `table_*` converters).
fn rule_samples<'r>(
    rules: &'r [StickRule],
    kinds: &[StickKind],
    ctx: &FetchCtx,
) -> Vec<(&'r StickRule, Value<'static>)> {
    rules
        .iter()
        .filter(|r| kinds.contains(&r.kind))
        .filter(|r| eval_opt(r.cond.as_ref(), ctx) == Truth::True)
        .filter_map(|r| Some((r, r.pattern.fetch_one(ctx)?.into_owned())))
        .collect()
}

/// `stick on` and `stick match` rules, in order: the server id stored for
/// the first key found. The engine then uses that server if it is usable
/// (or `option persist`/`force-persist` say so), else balances as usual.
/// Skip this when an `ignore-persist` rule matched.
pub fn stick_match(
    rules: &[StickRule],
    tables: &Mutex<StickTables>,
    ctx: &FetchCtx,
    now: Instant,
) -> Option<usize> {
    let samples = rule_samples(rules, &[StickKind::On, StickKind::Match], ctx);
    if samples.is_empty() {
        return None;
    }
    let mut tables = crate::proxy::locks::lock(tables);
    for (rule, sample) in samples {
        let Some(t) = tables.get_mut(&rule.table) else {
            continue;
        };
        let Some(key) = key_from_sample(&sample, &t.cfg) else {
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
    tables: &Mutex<StickTables>,
    ctx: &FetchCtx,
    server_id: usize,
    now: Instant,
) {
    let samples = rule_samples(rules, kinds, ctx);
    if samples.is_empty() {
        return;
    }
    let mut tables = crate::proxy::locks::lock(tables);
    let mut done: Vec<&str> = Vec::new();
    for (rule, sample) in samples {
        if done.contains(&rule.table.as_str()) {
            continue;
        }
        let Some(t) = tables.get_mut(&rule.table) else {
            continue;
        };
        if let Some(key) = key_from_sample(&sample, &t.cfg) {
            t.put_server(&key, server_id, now);
            done.push(&rule.table);
        }
    }
}

/// `stick on` and `stick store-request` rules over the request: call once
/// the server is chosen (`ctx` without a response).
pub fn stick_store_request(
    rules: &[StickRule],
    tables: &Mutex<StickTables>,
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
    tables: &Mutex<StickTables>,
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

pub mod cli;
pub mod conv;
mod stream;
pub use stream::{
    add_bytes, count_http_err, count_http_req, count_sess, counter, release, release_stream,
    track_conn, track_sc, StreamTracker,
};

#[cfg(test)]
mod tests;
