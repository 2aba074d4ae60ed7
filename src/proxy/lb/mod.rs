//! Load-balancing algorithms over a backend's servers: weighted smooth
//! round-robin (`roundrobin`, `static-rr`), `leastconn`, `first`, the hashing
//! ones (`source`, `uri`, `url_param`, `hdr`, `rdp-cookie`; [`map`]-based or
//! consistent, see [`chash`]: a key reaches the server HAProxy 2.6 chooses
//! for the same servers, weights and ids), `random` (power of N choices)
//! and, beyond HAProxy, `response-time` (doc/response-time.md). Backup
//! servers serve only when no active server is usable: the first one, or all
//! of them with [`LbState::all_backups`].

mod chash;
mod hash;
mod map;
#[cfg(test)]
mod tests;

pub use hash::hash_key;

use crate::config::{Balance, HashMethod, HashType};
use crate::proxy::persist::ServerView;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::Duration;

/// EWMA weight of a new response-time sample.
pub const RT_ALPHA: f64 = 0.2;
/// Response times below this count as this (seconds): sub-millisecond
/// differences are noise, and a near-zero average would take all traffic.
pub const RT_FLOOR: f64 = 0.001;
/// Server weights are kept scaled, as HAProxy's effective weights are
/// (`BE_WEIGHT_SCALE`), so that slowstart can ramp even a weight-1 server
/// up in steps and consistent hashing places as many points as HAProxy.
pub const WEIGHT_SCALE: u32 = 16;

/// A server's run-time state in one loop: what balancing reads, and the
/// engine's record of it (limits, queue, weights, cookie, check). The one
/// place each piece lives; persistence reads it through [`ServerRt::view`].
#[derive(Debug, Clone)]
pub struct ServerRt {
    pub name: String,
    pub addr: SocketAddr,
    /// Some(N): connect to the client's destination port plus N (a
    /// `server` line without a port, or with `+N`/`-N`).
    pub map_ports: Option<i32>,
    /// The server's id in its backend (HAProxy's `puid`: its `id`, or its
    /// rank); consistent hashing places its points by it.
    pub puid: u32,
    /// Effective weight: the user weight × [`WEIGHT_SCALE`] (less while
    /// slowstart ramps it up).
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    /// Marked DOWN by health checks: gets no new traffic.
    pub down: bool,
    /// Removed at run time (`del server`): kept as a tombstone, always
    /// disabled, so the indices of the other servers never move.
    pub deleted: bool,
    /// Administrative DRAIN: no new traffic but persistent clients.
    pub drain: bool,
    /// None: no limit.
    pub maxconn: Option<u32>,
    /// Connections currently attached (connecting or established).
    pub cur: u32,
    /// Connections ever attached, for distribution checks and stats.
    pub total: u64,
    /// Smooth weighted round-robin accumulator.
    rr_acc: i64,
    /// `response-time`: decaying average in seconds, None before a sample.
    rt_avg: Option<f64>,
    /// `response-time`: smooth weighted round-robin accumulator.
    rt_acc: f64,
    /// As configured for the whole process: `maxconn` (None: no limit),
    /// which `maxconn` above is this loop's share of, and `minconn`.
    pub cfg_maxconn: Option<u32>,
    pub minconn: Option<u32>,
    /// Sessions bound to this server by persistence waiting for a slot,
    /// and their bound (`maxqueue`, for the whole process).
    pub queue: VecDeque<usize>,
    pub maxqueue: Option<u32>,
    /// The weight the user set (`set weight`, 0..=256) and the configured
    /// one ("initial"; the state file's `srv_iweight`).
    pub uweight: u32,
    pub iweight: u32,
    /// The persistence cookie value naming it.
    pub cookie: Option<String>,
    /// Its health check: an index in the engine's checks.
    pub check: Option<usize>,
    /// With several threads: the process-wide `cur`, one counter shared
    /// by every thread's record of this server.
    pub cur_all: Arc<AtomicU32>,
    /// `ssl`: the TLS context towards the server and its `sni` expression.
    pub tls: Option<(
        crate::tls::client::ClientCtx,
        Option<crate::http::expr::Expr>,
    )>,
}

impl ServerRt {
    pub fn new(
        name: String,
        addr: SocketAddr,
        puid: u32,
        weight: u32,
        backup: bool,
        disabled: bool,
        maxconn: Option<u32>,
    ) -> Self {
        ServerRt {
            name,
            addr,
            map_ports: None,
            puid,
            weight,
            backup,
            disabled,
            down: false,
            drain: false,
            deleted: false,
            maxconn: maxconn.filter(|&m| m > 0),
            cur: 0,
            total: 0,
            rr_acc: 0,
            rt_avg: None,
            rt_acc: 0.0,
            cfg_maxconn: maxconn.filter(|&m| m > 0),
            minconn: None,
            queue: VecDeque::new(),
            maxqueue: None,
            uweight: weight / WEIGHT_SCALE,
            iweight: weight / WEIGHT_SCALE,
            cookie: None,
            check: None,
            cur_all: Arc::default(),
            tls: None,
        }
    }

    /// The server as persistence sees it: computed, never stored.
    pub fn view(&self) -> ServerView<'_> {
        ServerView {
            name: &self.name,
            cookie: self.cookie.as_deref(),
            usable: !self.disabled && !self.down,
            backup: self.backup,
        }
    }

    /// Can take new traffic: not disabled, not down, weight above 0.
    pub fn usable(&self) -> bool {
        !self.disabled && !self.down && !self.drain && self.weight > 0
    }

    pub fn is_full(&self) -> bool {
        self.maxconn.is_some_and(|m| self.cur >= m)
    }

    /// Feed one measured response time to the `response-time` average:
    /// the first sample sets it, later ones move it by [`RT_ALPHA`].
    pub fn record_response_time(&mut self, d: Duration) {
        let x = d.as_secs_f64();
        self.rt_avg = Some(match self.rt_avg {
            None => x,
            Some(avg) => avg + RT_ALPHA * (x - avg),
        });
    }

    /// The decaying average response time, None before any sample.
    pub fn response_time(&self) -> Option<Duration> {
        self.rt_avg.map(Duration::from_secs_f64)
    }
}

/// What the balancer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Server(usize),
    /// Usable servers exist but all are at their maxconn: queue the session.
    Full,
    /// No usable server at all.
    NoServer,
}

/// What a hashing algorithm hashes.
#[derive(Debug, Clone, Copy, Default)]
pub struct LbInput<'a> {
    /// The client address (`source`).
    pub src: Option<IpAddr>,
    /// The key from [`hash_key`] (`uri`, `url_param`, `hdr`, `rdp-cookie`).
    pub key: Option<&'a [u8]>,
}

#[derive(Debug)]
pub struct LbState {
    /// `option allbackups`: when no active server is usable, balance over
    /// all usable backups instead of the first one only.
    pub all_backups: bool,
    /// Rotating start for leastconn ties.
    next: usize,
    /// `random`'s generator.
    rng: Rng,
    /// `hash-type map-based`'s map and `consistent`'s ring, each rebuilt
    /// lazily when the usable set or a weight changes.
    map: map::Map,
    ring: chash::Ring,
}

impl Default for LbState {
    /// Seeded from the clock and the process id.
    fn default() -> Self {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        LbState::with_seed(t ^ u64::from(std::process::id()) << 32)
    }
}

impl LbState {
    pub fn with_seed(seed: u64) -> Self {
        LbState {
            all_backups: false,
            next: 0,
            rng: Rng(seed),
            map: map::Map::default(),
            ring: chash::Ring::default(),
        }
    }

    /// Force a rebuild of the hash map and ring at the next pick (they are
    /// also rebuilt by themselves when the usable set or a weight changes).
    pub fn invalidate(&mut self) {
        self.map.invalidate();
        self.ring.invalidate();
    }
}

/// Whether an algorithm follows `slowstart`: not map-based hashing, whose
/// map (and so every key's server) must not change while a weight ramps.
/// HAProxy ramps dynamic algorithms only; pollux still ramps `static-rr`.
pub fn ramps_weights(algo: &Balance, hash_type: HashType) -> bool {
    !(algo.is_hash() && hash_type.method == HashMethod::Map)
}

/// Identifies a usable set and its weights, to rebuild a map or ring only
/// when it changes.
fn signature(servers: &[ServerRt], pool: &[usize]) -> u64 {
    pool.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &i| {
        hash::mix64(h ^ ((i as u64) << 32 | u64::from(servers[i].weight)))
    })
}

/// splitmix64: small, fast, good enough to draw servers.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        hash::mix64(self.0)
    }
    /// Uniform in 0..n (n > 0), by multiply-shift.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// Choose a server. `avoid` is skipped when another usable server exists
/// (redispatch after a failure; a hashing algorithm then takes the next
/// server along its map or ring). A hashing algorithm without its input
/// (no key, no address) balances round robin, as HAProxy (smooth weighted
/// round robin here, HAProxy walks its map or ring: another order).
pub fn pick(
    algo: &Balance,
    hash_type: HashType,
    servers: &mut [ServerRt],
    state: &mut LbState,
    input: &LbInput,
    avoid: Option<usize>,
) -> Pick {
    let usable = usable_set(servers, state.all_backups);
    if usable.is_empty() {
        return Pick::NoServer;
    }
    if algo.is_hash() {
        let h = match algo {
            Balance::Source => input.src.map(hash::source_hash),
            _ => input.key.map(|k| hash::key_hash(hash_type.function, k)),
        };
        if let Some(h) = h {
            let h = if hash_type.avalanche {
                hash::full_hash(h)
            } else {
                h
            };
            let avoid = avoid.filter(|_| usable.len() > 1);
            let i = match hash_type.method {
                HashMethod::Map => state.map.lookup(servers, &usable, h, avoid),
                HashMethod::Consistent => state.ring.lookup(servers, &usable, h, avoid),
            };
            return if servers[i].is_full() {
                Pick::Full
            } else {
                Pick::Server(i)
            };
        }
    }
    let mut pool = usable;
    if pool.len() > 1 {
        if let Some(a) = avoid {
            pool.retain(|&i| i != a);
        }
    }
    pool.retain(|&i| !servers[i].is_full());
    if pool.is_empty() {
        return Pick::Full;
    }
    let i = match algo {
        Balance::LeastConn => least_conn(servers, &pool, state),
        Balance::First => pool[0],
        Balance::Random { draws } => random(servers, &pool, *draws, &mut state.rng),
        Balance::ResponseTime => response_time(servers, &pool),
        // roundrobin, static-rr, and the hashing ones without a key.
        _ => smooth_rr(servers, &pool),
    };
    Pick::Server(i)
}

/// The usable active servers; if none, the usable backups: all of them
/// with `all_backups`, else the first (as HAProxy).
fn usable_set(servers: &[ServerRt], all_backups: bool) -> Vec<usize> {
    let of = |backup: bool| {
        (0..servers.len()).filter(move |&i| servers[i].usable() && servers[i].backup == backup)
    };
    let active: Vec<usize> = of(false).collect();
    if !active.is_empty() {
        return active;
    }
    let n = if all_backups { usize::MAX } else { 1 };
    of(true).take(n).collect()
}

/// nginx-style smooth weighted round-robin: every pick adds each weight to its
/// accumulator and takes the largest, which then pays back the total. Over any
/// window of sum(weights) picks each server gets exactly its weight, spread out.
fn smooth_rr(servers: &mut [ServerRt], pool: &[usize]) -> usize {
    let total: i64 = pool.iter().map(|&i| i64::from(servers[i].weight)).sum();
    let mut best = pool[0];
    for &i in pool {
        servers[i].rr_acc += i64::from(servers[i].weight);
        if servers[i].rr_acc > servers[best].rr_acc {
            best = i;
        }
    }
    servers[best].rr_acc -= total;
    best
}

/// Fewest connections relative to weight; ties rotate so equal servers share.
fn least_conn(servers: &[ServerRt], pool: &[usize], state: &mut LbState) -> usize {
    let n = pool.len();
    let start = state.next % n;
    state.next = state.next.wrapping_add(1);
    let load = |i: usize| (u64::from(servers[i].cur) + 1, u64::from(servers[i].weight));
    let mut best = pool[start];
    for k in 1..n {
        let i = pool[(start + k) % n];
        let (ci, wi) = load(i);
        let (cb, wb) = load(best);
        if ci * wb < cb * wi {
            best = i;
        }
    }
    best
}

/// Power of `draws` choices: draw that many distinct servers, each with a
/// probability proportional to its weight among those left, and keep the
/// least loaded (current connections / weight); on a tie the first drawn,
/// so idle servers get traffic in proportion to their weights.
fn random(servers: &[ServerRt], pool: &[usize], draws: u32, rng: &mut Rng) -> usize {
    let mut left = pool.to_vec();
    let mut best: Option<usize> = None;
    for _ in 0..draws.max(1) {
        if left.is_empty() {
            break;
        }
        let total: u64 = left.iter().map(|&i| u64::from(servers[i].weight)).sum();
        let mut r = rng.below(total.max(1));
        let mut k = 0;
        while k + 1 < left.len() && r >= u64::from(servers[left[k]].weight) {
            r -= u64::from(servers[left[k]].weight);
            k += 1;
        }
        let i = left.swap_remove(k);
        best = Some(match best {
            None => i,
            Some(b) => {
                let (ci, wi) = (u64::from(servers[i].cur), u64::from(servers[i].weight));
                let (cb, wb) = (u64::from(servers[b].cur), u64::from(servers[b].weight));
                if ci * wb < cb * wi {
                    i
                } else {
                    b
                }
            }
        });
    }
    best.unwrap_or(pool[0])
}

/// `response-time`: smooth weighted round-robin over effective weights
/// weight / max(avg, RT_FLOOR), recomputed at every pick. A server without
/// a sample counts the mean average of those with one (all equal if none).
fn response_time(servers: &mut [ServerRt], pool: &[usize]) -> usize {
    let measured: Vec<f64> = pool.iter().filter_map(|&i| servers[i].rt_avg).collect();
    let prior = if measured.is_empty() {
        1.0
    } else {
        measured.iter().sum::<f64>() / measured.len() as f64
    };
    let eff = |s: &ServerRt| f64::from(s.weight) / s.rt_avg.unwrap_or(prior).max(RT_FLOOR);
    let total: f64 = pool.iter().map(|&i| eff(&servers[i])).sum();
    let mut best = pool[0];
    for &i in pool {
        servers[i].rt_acc += eff(&servers[i]);
        if servers[i].rt_acc > servers[best].rt_acc {
            best = i;
        }
    }
    servers[best].rt_acc -= total;
    best
}
