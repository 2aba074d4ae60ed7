//! Load-balancing algorithms over a backend's servers: weighted smooth
//! round-robin (`roundrobin`, `static-rr`), `leastconn`, `first` and `source`
//! (map-based hash of the client address), with backup servers used only when
//! no active server is usable.

use crate::config::Balance;
use std::net::{IpAddr, SocketAddr};

/// A server's run-time state.
#[derive(Debug, Clone)]
pub struct ServerRt {
    pub name: String,
    pub addr: SocketAddr,
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    /// None: no limit.
    pub maxconn: Option<u32>,
    /// Connections currently attached (connecting or established).
    pub cur: u32,
    /// Connections ever attached, for distribution checks and stats.
    pub total: u64,
    /// Smooth weighted round-robin accumulator.
    rr_acc: i64,
}

impl ServerRt {
    pub fn new(
        name: String,
        addr: SocketAddr,
        weight: u32,
        backup: bool,
        disabled: bool,
        maxconn: Option<u32>,
    ) -> Self {
        ServerRt {
            name,
            addr,
            weight,
            backup,
            disabled,
            maxconn: maxconn.filter(|&m| m > 0),
            cur: 0,
            total: 0,
            rr_acc: 0,
        }
    }
    fn usable(&self) -> bool {
        !self.disabled && self.weight > 0
    }
    pub fn is_full(&self) -> bool {
        self.maxconn.is_some_and(|m| self.cur >= m)
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

#[derive(Debug, Default)]
pub struct LbState {
    /// Rotating start for leastconn ties.
    next: usize,
}

/// Choose a server. `avoid` is skipped when another usable server exists
/// (redispatch after a failure).
pub fn pick(
    algo: Balance,
    servers: &mut [ServerRt],
    state: &mut LbState,
    src: Option<IpAddr>,
    avoid: Option<usize>,
) -> Pick {
    let mut pool = candidates(servers, false, avoid);
    if pool.is_empty() {
        // HAProxy without `allbackups`: only the first usable backup serves.
        pool = candidates(servers, true, avoid)
            .into_iter()
            .take(1)
            .collect();
    }
    if pool.is_empty() {
        return Pick::NoServer;
    }
    if algo == Balance::Source {
        let i = by_hash(servers, &pool, src);
        return if servers[i].is_full() {
            Pick::Full
        } else {
            Pick::Server(i)
        };
    }
    pool.retain(|&i| !servers[i].is_full());
    if pool.is_empty() {
        return Pick::Full;
    }
    let i = match algo {
        Balance::RoundRobin | Balance::StaticRr => smooth_rr(servers, &pool),
        Balance::LeastConn => least_conn(servers, &pool, state),
        Balance::First => pool[0],
        Balance::Source => unreachable!("handled above"),
    };
    Pick::Server(i)
}

fn candidates(servers: &[ServerRt], backup: bool, avoid: Option<usize>) -> Vec<usize> {
    let all: Vec<usize> = (0..servers.len())
        .filter(|&i| servers[i].usable() && servers[i].backup == backup)
        .collect();
    if all.len() > 1 {
        if let Some(a) = avoid {
            return all.into_iter().filter(|&i| i != a).collect();
        }
    }
    all
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

/// Map-based hashing: each server owns `weight` slots of the map.
fn by_hash(servers: &[ServerRt], pool: &[usize], src: Option<IpAddr>) -> usize {
    let h = match src {
        Some(IpAddr::V4(a)) => hash32(&a.octets()),
        Some(IpAddr::V6(a)) => hash32(&a.octets()),
        None => 0,
    };
    let total: u64 = pool.iter().map(|&i| u64::from(servers[i].weight)).sum();
    let mut slot = u64::from(h) % total.max(1);
    for &i in pool {
        let w = u64::from(servers[i].weight);
        if slot < w {
            return i;
        }
        slot -= w;
    }
    pool[0]
}

/// FNV-1a then a final avalanche, so neighbouring addresses spread out.
/// Byte-oriented: the same result on every endianness.
fn hash32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn srv(name: &str, weight: u32) -> ServerRt {
        ServerRt::new(
            name.into(),
            "127.0.0.1:1".parse().unwrap(),
            weight,
            false,
            false,
            None,
        )
    }

    fn counts(algo: Balance, servers: &mut [ServerRt], n: usize) -> Vec<usize> {
        let mut st = LbState::default();
        let mut c = vec![0; servers.len()];
        for _ in 0..n {
            if let Pick::Server(i) = pick(algo, servers, &mut st, None, None) {
                c[i] += 1;
            }
        }
        c
    }

    #[test]
    fn roundrobin_follows_weights_exactly_per_cycle() {
        let mut s = vec![srv("a", 3), srv("b", 1)];
        assert_eq!(counts(Balance::RoundRobin, &mut s, 4000), vec![3000, 1000]);
    }

    #[test]
    fn roundrobin_interleaves_instead_of_bursting() {
        let mut s = vec![srv("a", 2), srv("b", 2)];
        let mut st = LbState::default();
        let seq: Vec<_> = (0..4)
            .map(|_| pick(Balance::RoundRobin, &mut s, &mut st, None, None))
            .collect();
        assert_ne!(seq[0], seq[1]);
    }

    #[test]
    fn disabled_and_zero_weight_servers_get_nothing() {
        let mut s = vec![srv("a", 1), srv("b", 0), srv("c", 1)];
        s[2].disabled = true;
        assert_eq!(counts(Balance::RoundRobin, &mut s, 10), vec![10, 0, 0]);
    }

    #[test]
    fn backup_serves_only_when_all_active_are_unusable() {
        let mut s = vec![srv("a", 1), srv("bk1", 1), srv("bk2", 1)];
        s[1].backup = true;
        s[2].backup = true;
        assert_eq!(counts(Balance::RoundRobin, &mut s, 5), vec![5, 0, 0]);
        s[0].disabled = true;
        assert_eq!(counts(Balance::RoundRobin, &mut s, 5), vec![0, 5, 0]);
    }

    #[test]
    fn leastconn_prefers_the_least_loaded() {
        let mut s = vec![srv("a", 1), srv("b", 1)];
        s[0].cur = 5;
        let mut st = LbState::default();
        assert_eq!(
            pick(Balance::LeastConn, &mut s, &mut st, None, None),
            Pick::Server(1)
        );
    }

    #[test]
    fn first_fills_in_order_then_reports_full() {
        let mut s = vec![srv("a", 1), srv("b", 1)];
        s[0].maxconn = Some(1);
        s[1].maxconn = Some(1);
        let mut st = LbState::default();
        assert_eq!(
            pick(Balance::First, &mut s, &mut st, None, None),
            Pick::Server(0)
        );
        s[0].cur = 1;
        assert_eq!(
            pick(Balance::First, &mut s, &mut st, None, None),
            Pick::Server(1)
        );
        s[1].cur = 1;
        assert_eq!(
            pick(Balance::First, &mut s, &mut st, None, None),
            Pick::Full
        );
    }

    #[test]
    fn source_is_sticky_and_spreads() {
        let mut s = vec![srv("a", 1), srv("b", 1)];
        let mut st = LbState::default();
        let mut seen = [0; 2];
        for last in 1..=50u8 {
            let ip: IpAddr = [127, 0, 0, last].into();
            let p1 = pick(Balance::Source, &mut s, &mut st, Some(ip), None);
            let p2 = pick(Balance::Source, &mut s, &mut st, Some(ip), None);
            assert_eq!(p1, p2);
            if let Pick::Server(i) = p1 {
                seen[i] += 1;
            }
        }
        assert!(seen[0] > 10 && seen[1] > 10, "spread: {seen:?}");
    }

    #[test]
    fn redispatch_avoids_the_failed_server() {
        let mut s = vec![srv("a", 1), srv("b", 1)];
        let mut st = LbState::default();
        for _ in 0..4 {
            assert_eq!(
                pick(Balance::RoundRobin, &mut s, &mut st, None, Some(0)),
                Pick::Server(1)
            );
        }
    }

    #[test]
    fn no_usable_server_is_reported() {
        let mut s = vec![srv("a", 1)];
        s[0].disabled = true;
        let mut st = LbState::default();
        assert_eq!(
            pick(Balance::RoundRobin, &mut s, &mut st, None, None),
            Pick::NoServer
        );
    }
}
