use super::hash::{crc32, domain_only, rdp_cookie, uri_key, url_param};
use super::*;
use crate::config::{HashFunction, HashMethod};
use crate::http::message::Request;
use crate::http::Version;

/// A server of user weight `weight` (kept scaled, as the engine does) and
/// id `puid`.
fn srv(name: &str, puid: u32, weight: u32) -> ServerRt {
    ServerRt::new(
        name.into(),
        "127.0.0.1:1".parse().unwrap(),
        puid,
        weight * WEIGHT_SCALE,
        false,
        false,
        None,
    )
}

/// Servers s0, s1... with ids 1, 2... (HAProxy's numbering without `id`).
fn servers(weights: &[u32]) -> Vec<ServerRt> {
    weights
        .iter()
        .enumerate()
        .map(|(i, &w)| srv(&format!("s{i}"), i as u32 + 1, w))
        .collect()
}

/// `hash-type map-based` (HAProxy's default).
const MAP: HashType = HashType {
    method: HashMethod::Map,
    function: HashFunction::Sdbm,
    avalanche: false,
};
/// `hash-type consistent` (HAProxy 2.6: sdbm with avalanche).
const CONSISTENT: HashType = HashType {
    method: HashMethod::Consistent,
    function: HashFunction::Sdbm,
    avalanche: true,
};
const NONE: LbInput = LbInput {
    src: None,
    key: None,
};

fn pick1(algo: &Balance, s: &mut [ServerRt], st: &mut LbState, avoid: Option<usize>) -> Pick {
    pick(algo, MAP, s, st, &NONE, avoid)
}

fn counts(algo: &Balance, servers: &mut [ServerRt], n: usize) -> Vec<usize> {
    let mut st = LbState::with_seed(1);
    let mut c = vec![0; servers.len()];
    for _ in 0..n {
        if let Pick::Server(i) = pick1(algo, servers, &mut st, None) {
            c[i] += 1;
        }
    }
    c
}

fn pick_key(ht: HashType, s: &mut [ServerRt], st: &mut LbState, key: &[u8]) -> usize {
    let input = LbInput {
        src: None,
        key: Some(key),
    };
    match pick(&uri(), ht, s, st, &input, None) {
        Pick::Server(i) => i,
        other => panic!("{other:?}"),
    }
}

/// A key-hashing algorithm (they all hash the key the same way).
fn uri() -> Balance {
    Balance::Uri {
        len: None,
        depth: None,
        whole: false,
        path_only: false,
    }
}

/// 10,000 distinct random-looking keys, the same at every run.
fn keys(n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(42);
    (0..n)
        .map(|_| format!("/item/{:x}", rng.next()).into_bytes())
        .collect()
}

/// Asserts every share is within `tol` (relative) of its weight's due.
fn assert_shares(c: &[usize], weights: &[u32], tol: f64) {
    let n: usize = c.iter().sum();
    let tw: u32 = weights.iter().sum();
    for (i, (&got, &w)) in c.iter().zip(weights).enumerate() {
        let due = n as f64 * f64::from(w) / f64::from(tw);
        let err = (got as f64 - due).abs() / due;
        assert!(err <= tol, "server {i}: {got} vs {due:.0} due ({c:?})");
    }
}

#[test]
fn roundrobin_follows_weights_exactly_per_cycle() {
    let mut s = servers(&[3, 1]);
    assert_eq!(counts(&Balance::RoundRobin, &mut s, 4000), vec![3000, 1000]);
}

#[test]
fn roundrobin_interleaves_instead_of_bursting() {
    let mut s = servers(&[2, 2]);
    let mut st = LbState::default();
    let seq: Vec<_> = (0..4)
        .map(|_| pick1(&Balance::RoundRobin, &mut s, &mut st, None))
        .collect();
    assert_ne!(seq[0], seq[1]);
}

#[test]
fn disabled_down_and_zero_weight_servers_get_nothing() {
    let mut s = servers(&[1, 0, 1, 1]);
    s[2].disabled = true;
    s[3].down = true;
    assert_eq!(counts(&Balance::RoundRobin, &mut s, 10), vec![10, 0, 0, 0]);
}

#[test]
fn backup_serves_only_when_all_active_are_unusable() {
    let mut s = servers(&[1, 1, 1]);
    s[1].backup = true;
    s[2].backup = true;
    assert_eq!(counts(&Balance::RoundRobin, &mut s, 5), vec![5, 0, 0]);
    s[0].down = true;
    assert_eq!(counts(&Balance::RoundRobin, &mut s, 5), vec![0, 5, 0]);
    // A down backup is skipped too.
    s[1].down = true;
    assert_eq!(counts(&Balance::RoundRobin, &mut s, 5), vec![0, 0, 5]);
    s[2].down = true;
    let mut st = LbState::default();
    assert_eq!(
        pick1(&Balance::RoundRobin, &mut s, &mut st, None),
        Pick::NoServer
    );
}

#[test]
fn allbackups_balances_over_every_usable_backup() {
    let mut s = servers(&[1, 1, 3, 1]);
    for b in &mut s[1..] {
        b.backup = true;
    }
    s[0].down = true;
    let mut st = LbState {
        all_backups: true,
        ..LbState::default()
    };
    let mut c = [0; 4];
    for _ in 0..500 {
        if let Pick::Server(i) = pick1(&Balance::RoundRobin, &mut s, &mut st, None) {
            c[i] += 1;
        }
    }
    assert_eq!(c, [0, 100, 300, 100]);
    // And the active server takes everything back when it returns.
    s[0].down = false;
    assert_eq!(
        pick1(&Balance::RoundRobin, &mut s, &mut st, None),
        Pick::Server(0)
    );
}

#[test]
fn leastconn_prefers_the_least_loaded() {
    let mut s = servers(&[1, 1]);
    s[0].cur = 5;
    let mut st = LbState::default();
    assert_eq!(
        pick1(&Balance::LeastConn, &mut s, &mut st, None),
        Pick::Server(1)
    );
}

#[test]
fn first_fills_in_order_then_reports_full() {
    let mut s = servers(&[1, 1]);
    s[0].maxconn = Some(1);
    s[1].maxconn = Some(1);
    let mut st = LbState::default();
    assert_eq!(
        pick1(&Balance::First, &mut s, &mut st, None),
        Pick::Server(0)
    );
    s[0].cur = 1;
    assert_eq!(
        pick1(&Balance::First, &mut s, &mut st, None),
        Pick::Server(1)
    );
    s[1].cur = 1;
    assert_eq!(pick1(&Balance::First, &mut s, &mut st, None), Pick::Full);
}

#[test]
fn source_is_sticky_and_spreads() {
    for ht in [MAP, CONSISTENT] {
        let mut s = servers(&[1, 1]);
        let mut st = LbState::default();
        let mut seen = [0; 2];
        for last in 1..=50u8 {
            let input = LbInput {
                src: Some([127, 0, 0, last].into()),
                key: None,
            };
            let p1 = pick(&Balance::Source, ht, &mut s, &mut st, &input, None);
            let p2 = pick(&Balance::Source, ht, &mut s, &mut st, &input, None);
            assert_eq!(p1, p2);
            if let Pick::Server(i) = p1 {
                seen[i] += 1;
            }
        }
        assert!(seen[0] > 10 && seen[1] > 10, "spread: {seen:?}");
    }
}

#[test]
fn redispatch_avoids_the_failed_server() {
    let mut s = servers(&[1, 1]);
    let mut st = LbState::default();
    for _ in 0..4 {
        assert_eq!(
            pick1(&Balance::RoundRobin, &mut s, &mut st, Some(0)),
            Pick::Server(1)
        );
    }
    // Hashing too: the key's next server on the ring, or in the map.
    for ht in [CONSISTENT, MAP] {
        for k in keys(20) {
            let input = LbInput {
                src: None,
                key: Some(&k),
            };
            let algo = uri();
            let Pick::Server(i) = pick(&algo, ht, &mut s, &mut st, &input, None) else {
                panic!()
            };
            let p = pick(&algo, ht, &mut s, &mut st, &input, Some(i));
            assert_eq!(p, Pick::Server(1 - i));
        }
    }
}

#[test]
fn no_usable_server_is_reported() {
    let mut s = servers(&[1]);
    s[0].disabled = true;
    let mut st = LbState::default();
    assert_eq!(
        pick1(&Balance::RoundRobin, &mut s, &mut st, None),
        Pick::NoServer
    );
}

// ---- Key extraction ----

fn req(uri: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        uri: uri.into(),
        version: Version::Http11,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn uri_key_follows_len_depth_and_whole() {
    let u = b"/a/b/c/page.html?x=1&y=2";
    assert_eq!(uri_key(u, None, None, false, false), b"/a/b/c/page.html");
    assert_eq!(uri_key(u, None, None, true, false), &u[..]);
    assert_eq!(uri_key(u, None, Some(1), false, false), b"/a");
    assert_eq!(uri_key(u, None, Some(2), true, false), b"/a/b");
    assert_eq!(uri_key(u, Some(4), None, false, false), b"/a/b");
    assert_eq!(uri_key(u, Some(4), Some(1), false, false), b"/a");
    assert_eq!(uri_key(b"/?q", None, None, false, false), b"/");
    // Depth counts the leading slash; a relative path has one level more.
    assert_eq!(uri_key(b"a/b/c", None, Some(1), false, false), b"a/b");
}

/// `path-only` as HAProxy's `http_parse_path`: only a `/` ends the
/// authority; no path (or `*`, or an authority-form target) hashes "".
#[test]
fn uri_path_only_takes_the_path_of_an_absolute_target() {
    let abs = b"http://example.com:8080/a/b?q=1";
    assert_eq!(uri_key(abs, None, None, false, true), b"/a/b");
    assert_eq!(uri_key(abs, None, None, true, true), b"/a/b?q=1");
    assert_eq!(
        uri_key(b"https://u@h:8/x/y", None, None, false, true),
        b"/x/y"
    );
    assert_eq!(uri_key(b"h+x.y-z://a/b", None, None, false, true), b"/b");
    assert_eq!(uri_key(b"http://h?q", None, None, true, true), b"");
    assert_eq!(uri_key(b"http://h", None, None, true, true), b"");
    assert_eq!(uri_key(b"*", None, None, true, true), b"");
    assert_eq!(uri_key(b"h:443", None, None, true, true), b"");
    assert_eq!(uri_key(b"1http://h/p", None, None, true, true), b"");
    assert_eq!(uri_key(b"/x://y", None, None, false, true), b"/x://y");
    assert_eq!(uri_key(b"http://h/a/b", Some(3), None, false, true), b"/a/");
}

#[test]
fn url_param_finds_the_value() {
    let u = b"/p?a=1&user=alice&b=&user=bob#frag";
    assert_eq!(url_param(u, b"user"), Some(&b"alice"[..]));
    assert_eq!(url_param(u, b"b"), Some(&b""[..]));
    assert_eq!(url_param(u, b"use"), None);
    assert_eq!(url_param(b"/p?userx=1", b"user"), None);
    assert_eq!(url_param(b"/p/user=1", b"user"), None);
    assert_eq!(url_param(b"/p?x=1#user=2", b"user"), None);
    // As HAProxy: the value runs to the next '&', a '#' included; the
    // query starts at the first '?'.
    assert_eq!(url_param(b"/p?user=1#f", b"user"), Some(&b"1#f"[..]));
    assert_eq!(url_param(b"/p??user=1", b"user"), None);
    assert_eq!(url_param(b"/p?a?user=1&user=2", b"user"), Some(&b"2"[..]));
    assert_eq!(url_param(b"/p?user", b"user"), None);
    assert_eq!(url_param(b"/p?user=", b"user"), Some(&b""[..]));
}

#[test]
fn hdr_value_and_use_domain_only() {
    assert_eq!(domain_only(b"www.example.com"), b"example");
    assert_eq!(domain_only(b"example.com:8080"), b"example");
    assert_eq!(domain_only(b"a.b.example.org"), b"example");
    assert_eq!(domain_only(b"localhost"), b"localhost");
    // HAProxy's walk back from the end, quirks included.
    assert_eq!(domain_only(b"a..b"), b"a.");
    assert_eq!(domain_only(b".com"), b".com");
    assert_eq!(domain_only(b"com."), b"com");
    assert_eq!(domain_only(b"."), b".");
    let r = req(
        "/",
        &[
            ("host", "www.example.com"),
            ("X-A", " v1 , v2"),
            ("X-Q", "\"a,b\" , c"),
            ("X-E", ", v"),
            ("X-A", "later"),
        ],
    );
    let hdr = |name: &str, dom: bool| Balance::Hdr {
        name: name.into(),
        use_domain_only: dom,
    };
    assert_eq!(
        hash_key(&hdr("Host", false), Some(&r), b""),
        Some(b"www.example.com".to_vec())
    );
    assert_eq!(
        hash_key(&hdr("Host", true), Some(&r), b""),
        Some(b"example".to_vec())
    );
    assert_eq!(
        hash_key(&hdr("x-a", false), Some(&r), b""),
        Some(b"v1".to_vec())
    );
    // A comma inside a quoted string does not end the value.
    assert_eq!(
        hash_key(&hdr("x-q", false), Some(&r), b""),
        Some(b"\"a,b\"".to_vec())
    );
    // An empty first value: no key (round robin), as HAProxy.
    assert_eq!(hash_key(&hdr("x-e", false), Some(&r), b""), None);
    assert_eq!(hash_key(&hdr("X-None", false), Some(&r), b""), None);
    assert_eq!(hash_key(&hdr("Host", false), None, b""), None);
    let up = Balance::UrlParam {
        name: "id".into(),
        check_post: None,
    };
    assert_eq!(
        hash_key(&up, Some(&req("/x?id=42", &[])), b""),
        Some(b"42".to_vec())
    );
    assert_eq!(hash_key(&up, Some(&req("/x", &[])), b""), None);
    assert_eq!(hash_key(&Balance::Source, Some(&r), b""), None);
}

/// An mstsc X.224 Connection Request: TPKT (version 3, length 51), X.224 CR
/// TPDU (LI 46, code 0xE0, refs 0, class 0), the routing cookie, then an
/// RDP_NEG_REQ asking for TLS|CredSSP.
const RDP_CR: &[u8] = b"\x03\x00\x00\x33\x2e\xe0\x00\x00\x00\x00\x00\
Cookie: mstshash=administrator\r\n\
\x01\x00\x08\x00\x03\x00\x00\x00";

#[test]
fn rdp_cookie_is_read_from_a_connection_request() {
    assert_eq!(RDP_CR.len(), 51);
    assert_eq!(usize::from(RDP_CR[3]), RDP_CR.len());
    assert_eq!(rdp_cookie(RDP_CR, b"mstshash"), Some(&b"administrator"[..]));
    assert_eq!(rdp_cookie(RDP_CR, b"MSTSHASH"), Some(&b"administrator"[..]));
    assert_eq!(rdp_cookie(RDP_CR, b"msts"), None);
    assert_eq!(rdp_cookie(RDP_CR, b"other"), None);
    // Not all received yet: no CRLF after the value.
    assert_eq!(rdp_cookie(&RDP_CR[..35], b"mstshash"), None);
    // A connection request without a cookie.
    assert_eq!(
        rdp_cookie(
            b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00",
            b"mstshash"
        ),
        None
    );
    let algo = Balance::RdpCookie {
        name: "mstshash".into(),
    };
    assert_eq!(
        hash_key(&algo, None, RDP_CR),
        Some(b"administrator".to_vec())
    );
}

#[test]
fn hash_functions_match_reference_values() {
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    assert_eq!(hash::djb2(b""), 5381);
    assert_eq!(hash::djb2(b"a"), 5381 * 33 + 97);
    assert_eq!(hash::sdbm(b"a"), 97);
    assert_eq!(hash::sdbm(b"ab"), 98 + 97 * 65599);
    // wt6 is deterministic and spreads single-byte changes.
    assert_ne!(hash::wt6(b"a"), hash::wt6(b"b"));
}

// ---- Keyed distribution ----

#[test]
fn same_key_same_server_every_function_and_method() {
    for function in [
        HashFunction::Sdbm,
        HashFunction::Djb2,
        HashFunction::Wt6,
        HashFunction::Crc32,
    ] {
        for method in [HashMethod::Map, HashMethod::Consistent] {
            let ht = HashType {
                method,
                function,
                avalanche: false,
            };
            let mut s = servers(&[1, 2, 3]);
            let mut st = LbState::default();
            for k in keys(200) {
                let a = pick_key(ht, &mut s, &mut st, &k);
                let b = pick_key(ht, &mut s, &mut st, &k);
                assert_eq!(a, b);
            }
        }
    }
}

/// Map-based: 10,000 random keys spread per the weights within ±5% of each
/// server's due, for every hash function (with and without avalanche).
#[test]
fn map_based_keys_spread_per_weights() {
    let weights = [1, 2, 3, 2];
    let ks = keys(10_000);
    for function in [
        HashFunction::Sdbm,
        HashFunction::Djb2,
        HashFunction::Wt6,
        HashFunction::Crc32,
    ] {
        for avalanche in [false, true] {
            let ht = HashType {
                method: HashMethod::Map,
                function,
                avalanche,
            };
            let mut s = servers(&weights);
            let mut st = LbState::default();
            let mut c = vec![0; weights.len()];
            for k in &ks {
                c[pick_key(ht, &mut s, &mut st, k)] += 1;
            }
            assert_shares(&c, &weights, 0.05);
        }
    }
}

/// Consistent: HAProxy's ring gives each server 16 points per unit of
/// weight, so shares vary more than map-based (a weight-1 server's by about
/// 1/sqrt(16) = 25%, one sigma): within ±25% of the due for these keys
/// (deterministic: the same keys on the same ring every run).
#[test]
fn consistent_keys_spread_per_weights() {
    let weights = [1, 2, 3, 2];
    let mut s = servers(&weights);
    let mut st = LbState::default();
    let mut c = vec![0; weights.len()];
    for k in keys(10_000) {
        c[pick_key(CONSISTENT, &mut s, &mut st, &k)] += 1;
    }
    assert_shares(&c, &weights, 0.25);
}

/// Taking one of N servers out moves only the keys it held (~1/N of them):
/// no key moves between two servers that both stayed. Tolerance: the moved
/// fraction is within ±40% of 1/N (a weight-1 server's share on HAProxy's
/// 16-point-per-weight ring varies by ~25%, 1 sigma; deterministic keys).
/// Putting it back restores every key.
#[test]
fn consistent_hashing_moves_only_the_removed_servers_keys() {
    let ks = keys(10_000);
    for n in 4..=8 {
        for out in [0, n / 2, n - 1] {
            let mut s = servers(&vec![1; n]);
            let mut st = LbState::default();
            let before: Vec<usize> = ks
                .iter()
                .map(|k| pick_key(CONSISTENT, &mut s, &mut st, k))
                .collect();
            s[out].down = true;
            let after: Vec<usize> = ks
                .iter()
                .map(|k| pick_key(CONSISTENT, &mut s, &mut st, k))
                .collect();
            let mut moved = 0;
            for (b, a) in before.iter().zip(&after) {
                if b != a {
                    assert_eq!(*b, out, "a key moved between two servers that stayed");
                    moved += 1;
                }
                assert_ne!(*a, out);
            }
            let frac = moved as f64 / ks.len() as f64;
            let due = 1.0 / n as f64;
            assert!(
                (frac - due).abs() <= 0.4 * due,
                "N={n}, out={out}: moved {frac:.3}, due {due:.3}"
            );
            s[out].down = false;
            let back: Vec<usize> = ks
                .iter()
                .map(|k| pick_key(CONSISTENT, &mut s, &mut st, k))
                .collect();
            assert_eq!(back, before);
        }
    }
}

#[test]
fn map_is_rebuilt_only_when_the_set_or_weights_change() {
    let mut s = servers(&[1, 1, 1]);
    let mut st = LbState::default();
    let k = b"/x";
    pick_key(MAP, &mut s, &mut st, k);
    pick_key(MAP, &mut s, &mut st, k);
    assert_eq!(st.map.builds, 1);
    s[1].weight = 2 * WEIGHT_SCALE;
    pick_key(MAP, &mut s, &mut st, k);
    assert_eq!(st.map.builds, 2);
    s[2].down = true;
    pick_key(MAP, &mut s, &mut st, k);
    pick_key(MAP, &mut s, &mut st, k);
    assert_eq!(st.map.builds, 3);
    st.invalidate();
    pick_key(MAP, &mut s, &mut st, k);
    assert_eq!(st.map.builds, 4);
}

#[test]
fn consistent_ring_is_rebuilt_only_when_the_set_or_weights_change() {
    let mut s = servers(&[1, 1, 1]);
    let mut st = LbState::default();
    let k = b"/x";
    pick_key(CONSISTENT, &mut s, &mut st, k);
    pick_key(CONSISTENT, &mut s, &mut st, k);
    assert_eq!(st.ring.builds, 1);
    s[1].weight = 2 * WEIGHT_SCALE;
    pick_key(CONSISTENT, &mut s, &mut st, k);
    assert_eq!(st.ring.builds, 2);
    s[2].disabled = true;
    pick_key(CONSISTENT, &mut s, &mut st, k);
    pick_key(CONSISTENT, &mut s, &mut st, k);
    assert_eq!(st.ring.builds, 3);
    st.invalidate();
    pick_key(CONSISTENT, &mut s, &mut st, k);
    assert_eq!(st.ring.builds, 4);
}

/// As HAProxy, slowstart ramps the weights of dynamic algorithms only: a
/// map-based hash keeps its map (and every key's server) while a server
/// ramps up; a consistent ring grows its points.
#[test]
fn map_based_hashing_does_not_follow_slowstart() {
    assert!(!ramps_weights(&uri(), MAP));
    assert!(!ramps_weights(&Balance::Source, MAP));
    assert!(ramps_weights(&uri(), CONSISTENT));
    assert!(ramps_weights(&Balance::RoundRobin, MAP));
}

#[test]
fn a_missing_key_falls_back_to_round_robin() {
    let algos = [
        Balance::Source,
        uri(),
        Balance::Hdr {
            name: "host".into(),
            use_domain_only: false,
        },
        Balance::RdpCookie {
            name: "mstshash".into(),
        },
    ];
    for algo in &algos {
        for ht in [MAP, CONSISTENT] {
            let mut s = servers(&[1, 3]);
            let mut st = LbState::default();
            let mut c = [0; 2];
            for _ in 0..400 {
                if let Pick::Server(i) = pick(algo, ht, &mut s, &mut st, &NONE, None) {
                    c[i] += 1;
                }
            }
            assert_eq!(c, [100, 300], "{algo:?}");
        }
    }
}

// ---- random ----

/// All idle: the first draw always wins the tie, so traffic follows the
/// weights: within ±5% of each due over 20,000 picks.
#[test]
fn random_respects_weights_when_idle() {
    for draws in [1, 2, 3] {
        let weights = [1, 2, 3, 2];
        let mut s = servers(&weights);
        let c = counts(&Balance::Random { draws }, &mut s, 20_000);
        assert_shares(&c, &weights, 0.05);
    }
}

#[test]
fn random_prefers_the_less_loaded() {
    // Two servers, two draws: both are always drawn, the idle one wins.
    let mut s = servers(&[1, 1]);
    s[0].cur = 10;
    assert_eq!(
        counts(&Balance::Random { draws: 2 }, &mut s, 100),
        vec![0, 100]
    );
    // Four servers, one loaded: it wins only when drawn with... nothing
    // lighter, which never happens with two distinct draws.
    let mut s = servers(&[1, 1, 1, 1]);
    s[2].cur = 5;
    let c = counts(&Balance::Random { draws: 2 }, &mut s, 10_000);
    assert_eq!(c[2], 0);
    assert_shares(&[c[0], c[1], c[3]], &[1, 1, 1], 0.05);
    // Load is relative to weight: 4 connections on weight 4 beat 2 on 1.
    let mut s = servers(&[4, 1]);
    s[0].cur = 4;
    s[1].cur = 2;
    assert_eq!(
        counts(&Balance::Random { draws: 2 }, &mut s, 100),
        vec![100, 0]
    );
    // One draw ignores the load entirely.
    let mut s = servers(&[1, 1]);
    s[0].cur = 10;
    let c = counts(&Balance::Random { draws: 1 }, &mut s, 10_000);
    assert_shares(&c, &[1, 1], 0.05);
}

// ---- response-time ----

fn rt_counts(s: &mut [ServerRt], st: &mut LbState, n: usize) -> Vec<usize> {
    let mut c = vec![0; s.len()];
    for _ in 0..n {
        if let Pick::Server(i) = pick1(&Balance::ResponseTime, s, st, None) {
            c[i] += 1;
        }
    }
    c
}

#[test]
fn response_time_ewma() {
    let mut a = srv("a", 1, 1);
    assert_eq!(a.response_time(), None);
    a.record_response_time(Duration::from_millis(10));
    assert_eq!(a.response_time(), Some(Duration::from_millis(10)));
    a.record_response_time(Duration::from_millis(20));
    let avg = a.response_time().unwrap().as_secs_f64();
    assert!((avg - 0.012).abs() < 1e-9, "{avg}");
}

/// 10 ms vs 30 ms: traffic 3:1, within ±1% (the smooth round robin is
/// deterministic; only float rounding differs from the exact ratio).
#[test]
fn response_time_slow_server_gets_proportionally_less() {
    let mut s = servers(&[1, 1]);
    s[0].record_response_time(Duration::from_millis(10));
    s[1].record_response_time(Duration::from_millis(30));
    let mut st = LbState::default();
    let c = rt_counts(&mut s, &mut st, 4000);
    assert_shares(&c, &[3, 1], 0.01);
    // Weights still count: weight 3 at 30 ms equals weight 1 at 10 ms.
    s[1].weight = 3 * WEIGHT_SCALE;
    let c = rt_counts(&mut s, &mut st, 4000);
    assert_shares(&c, &[1, 1], 0.01);
}

/// A server whose response time improves regains its share as its average
/// decays toward the new value.
#[test]
fn response_time_recovering_server_regains_share() {
    let mut s = servers(&[1, 1]);
    s[0].record_response_time(Duration::from_millis(10));
    s[1].record_response_time(Duration::from_millis(100));
    let mut st = LbState::default();
    let slow = rt_counts(&mut s, &mut st, 1100)[1];
    assert!((95..=105).contains(&slow), "{slow}");
    // It recovers: 10 samples at 10 ms bring its average to ~19.7 ms.
    let mut shares = Vec::new();
    for _ in 0..10 {
        s[1].record_response_time(Duration::from_millis(10));
        shares.push(rt_counts(&mut s, &mut st, 1000)[1]);
    }
    assert!(shares.windows(2).all(|w| w[1] + 5 >= w[0]), "{shares:?}");
    let last = *shares.last().unwrap();
    assert!(last > 300, "{shares:?}");
}

#[test]
fn response_time_unmeasured_server_gets_the_mean() {
    let mut s = servers(&[1, 1, 1]);
    s[0].record_response_time(Duration::from_millis(10));
    s[1].record_response_time(Duration::from_millis(30));
    // s2 counts as 20 ms: shares 1/10 : 1/30 : 1/20 = 6 : 2 : 3.
    let mut st = LbState::default();
    let c = rt_counts(&mut s, &mut st, 11_000);
    assert_shares(&c, &[6, 2, 3], 0.01);
    // Nothing measured: plain weights.
    let mut s = servers(&[1, 2]);
    let c = rt_counts(&mut s, &mut st, 3000);
    assert_eq!(c, vec![1000, 2000]);
}

// ---- HAProxy 2.6's placements ----
//
// Every table below was produced by Debian's HAProxy 2.6.12 itself: a
// `listen` per case over five servers, each answering with its name, and
// the keys sent through it (tests/srv_hash_compat.rs does the same live,
// against pollux). The same tables hold on every architecture (the hashes
// are byte-oriented, never native-endian or word-sized reads): ci/cross-run
// runs them under qemu on big-endian sparc64 and 32-bit armv7.

const KEY: &[u8] = b"/static/img/logo.png?v=3";

#[test]
fn hash_functions_give_the_same_values_on_every_architecture() {
    assert_eq!(hash::sdbm(KEY), 0xa8f5_f2f1);
    assert_eq!(hash::djb2(KEY), 0xbe03_7c00);
    assert_eq!(hash::wt6(KEY), 0x62e2_b472);
    assert_eq!(hash::crc32(KEY), 0x19b7_1834);
    assert_eq!(hash::full_hash(0xdead_beef), 0xfff0_eada);
    assert_eq!(hash::mix64(0x0123_4567_89ab_cdef), 0xb2c0_58e4_ebb5_112c);
    // `source`: the address's big-endian 32-bit words XORed.
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert_eq!(hash::source_hash(ip("192.0.2.7")), 0xc000_0207);
    assert_eq!(hash::source_hash(ip("2001:db8::7")), 0x2001_0dbf);
    assert_eq!(hash::source_hash(ip("::ffff:127.0.0.1")), 0x7f00_fffe);
}

/// The keys of the tables: reg-tests/balance/balance-uri.vtc's four, then
/// twenty more.
fn table_keys() -> Vec<Vec<u8>> {
    let mut k: Vec<Vec<u8>> = (1..=4).map(|i| format!("/url{i}").into_bytes()).collect();
    k.extend((0..20).map(|i| format!("/img/{i}.png").into_bytes()));
    k
}

fn placements(ht: HashType, s: &mut [ServerRt]) -> Vec<usize> {
    let mut st = LbState::default();
    table_keys()
        .iter()
        .map(|k| pick_key(ht, s, &mut st, k))
        .collect()
}

/// HAProxy's reg-test balance-uri.vtc: four equal servers, `balance uri`.
#[test]
fn balance_uri_regtest_placements() {
    let mut s = servers(&[1, 1, 1, 1]);
    assert_eq!(&placements(MAP, &mut s)[..4], [1, 2, 3, 0]);
}

/// `balance uri`, weights 1, 2, 3, 1, 5: the server (0-based) of each key
/// for every function, map-based and consistent, with and without
/// avalanche (`hash-type METHOD FUNCTION [avalanche]`).
#[test]
fn keys_reach_the_servers_haproxy_chooses() {
    use HashFunction::{Crc32, Djb2, Sdbm, Wt6};
    use HashMethod::{Consistent, Map};
    #[rustfmt::skip]
    let expected: [(HashFunction, HashMethod, bool, [usize; 24]); 16] = [
        (Sdbm, Map, false, [1, 4, 2, 4, 2, 1, 4, 4, 4, 1, 3, 4, 0, 4, 4, 4, 4, 2, 1, 3, 4, 4, 4, 2]),
        (Sdbm, Map, true, [2, 1, 1, 4, 1, 1, 0, 4, 4, 0, 4, 4, 4, 2, 1, 1, 1, 4, 1, 4, 4, 0, 1, 2]),
        (Sdbm, Consistent, false, [1, 1, 1, 1, 4, 0, 0, 2, 1, 3, 2, 3, 0, 4, 1, 2, 4, 3, 2, 2, 3, 0, 4, 4]),
        (Sdbm, Consistent, true, [4, 4, 2, 4, 4, 1, 2, 4, 1, 4, 4, 2, 4, 4, 2, 4, 0, 4, 2, 4, 2, 1, 3, 0]),
        (Djb2, Map, false, [0, 1, 4, 2, 2, 0, 4, 2, 2, 0, 4, 2, 2, 0, 4, 1, 3, 4, 4, 1, 3, 4, 4, 1]),
        (Djb2, Map, true, [2, 2, 4, 0, 3, 0, 4, 4, 4, 4, 4, 1, 4, 2, 2, 1, 2, 2, 3, 4, 4, 4, 0, 4]),
        (Djb2, Consistent, false, [4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1]),
        (Djb2, Consistent, true, [2, 4, 4, 1, 4, 3, 4, 4, 2, 2, 2, 2, 2, 0, 2, 2, 1, 3, 0, 2, 4, 4, 4, 2]),
        (Wt6, Map, false, [1, 1, 4, 1, 2, 2, 4, 4, 3, 4, 2, 2, 2, 1, 2, 4, 3, 4, 4, 1, 1, 3, 4, 1]),
        (Wt6, Map, true, [1, 2, 4, 4, 4, 4, 2, 1, 1, 4, 4, 4, 2, 4, 4, 4, 0, 1, 4, 0, 4, 0, 1, 4]),
        (Wt6, Consistent, false, [2, 2, 2, 2, 4, 1, 4, 4, 4, 1, 2, 1, 0, 1, 1, 1, 4, 3, 4, 2, 3, 0, 1, 2]),
        (Wt6, Consistent, true, [4, 4, 0, 4, 4, 4, 2, 1, 2, 0, 4, 4, 1, 2, 4, 2, 4, 4, 4, 4, 4, 3, 1, 4]),
        (Crc32, Map, false, [1, 4, 1, 4, 2, 2, 4, 4, 4, 2, 2, 4, 3, 2, 4, 4, 3, 3, 2, 4, 3, 2, 4, 4]),
        (Crc32, Map, true, [4, 4, 4, 2, 3, 0, 3, 4, 2, 4, 2, 4, 4, 4, 2, 4, 4, 4, 0, 4, 1, 4, 4, 2]),
        (Crc32, Consistent, false, [2, 4, 4, 1, 2, 4, 1, 4, 0, 4, 2, 0, 3, 4, 1, 0, 0, 2, 3, 1, 4, 3, 4, 4]),
        (Crc32, Consistent, true, [1, 4, 4, 3, 4, 2, 0, 4, 4, 1, 2, 4, 1, 4, 2, 2, 2, 1, 2, 4, 4, 2, 3, 4]),
    ];
    for (function, method, avalanche, want) in expected {
        let ht = HashType {
            method,
            function,
            avalanche,
        };
        let mut s = servers(&[1, 2, 3, 1, 5]);
        assert_eq!(
            placements(ht, &mut s),
            want,
            "{function:?} {method:?} avalanche={avalanche}"
        );
    }
}

/// Weights 4, 8, 12, 4, 20 place keys as 1, 2, 3, 1, 5 (HAProxy divides by
/// the GCD; the map of k×w is the map of w repeated k times).
#[test]
fn map_based_placement_ignores_a_common_weight_factor() {
    let mut s = servers(&[4, 8, 12, 4, 20]);
    assert_eq!(
        placements(MAP, &mut s),
        [1, 4, 2, 4, 2, 1, 4, 4, 4, 1, 3, 4, 0, 4, 4, 4, 4, 2, 1, 3, 4, 4, 4, 2]
    );
}

/// Consistent points are placed by server id: `id 7`, (auto: 2), `id 1`,
/// (auto: 5), `id 4`, weights 2, 3, 4, 2, 5. Map-based ignores ids.
#[test]
fn server_ids_place_consistent_points() {
    let mut s = servers(&[2, 3, 4, 2, 5]);
    for (srv, id) in s.iter_mut().zip([7, 2, 1, 5, 4]) {
        srv.puid = id;
    }
    assert_eq!(
        placements(CONSISTENT, &mut s),
        [4, 4, 4, 4, 3, 1, 0, 1, 1, 4, 0, 4, 2, 2, 4, 4, 2, 3, 4, 3, 4, 1, 4, 2]
    );
    assert_eq!(
        placements(MAP, &mut s),
        [1, 2, 4, 2, 0, 1, 2, 4, 2, 1, 4, 3, 0, 4, 1, 4, 3, 0, 4, 1, 2, 4, 2, 3]
    );
}

/// `balance source`, weights 1, 2, 3, 1, 5, clients 127.0.0.1 to .24, on
/// an IPv4 listener and on an IPv6 one (`::ffff:127.0.0.1`: the clients
/// are IPv4-mapped IPv6 addresses there, hashed as IPv6).
#[test]
fn source_addresses_reach_the_servers_haproxy_chooses() {
    #[rustfmt::skip]
    let expected: [(bool, HashType, [usize; 24]); 4] = [
        (false, MAP, [1, 2, 4, 2, 4, 3, 4, 0, 1, 4, 2, 4, 1, 2, 4, 2, 4, 3, 4, 0, 1, 4, 2, 4]),
        (false, CONSISTENT, [2, 3, 1, 0, 4, 2, 2, 4, 2, 1, 2, 3, 2, 4, 4, 0, 0, 2, 0, 2, 0, 3, 1, 4]),
        (true, MAP, [2, 1, 4, 2, 4, 1, 0, 4, 3, 4, 2, 4, 2, 1, 4, 2, 4, 1, 0, 4, 3, 4, 2, 4]),
        (true, CONSISTENT, [2, 2, 2, 2, 0, 3, 1, 4, 3, 4, 4, 2, 3, 4, 3, 2, 4, 1, 1, 3, 4, 4, 3, 2]),
    ];
    for (mapped, ht, want) in expected {
        let mut s = servers(&[1, 2, 3, 1, 5]);
        let mut st = LbState::default();
        let got: Vec<usize> = (1..=24u8)
            .map(|i| {
                let v4 = std::net::Ipv4Addr::new(127, 0, 0, i);
                let src = if mapped {
                    std::net::IpAddr::V6(v4.to_ipv6_mapped())
                } else {
                    std::net::IpAddr::V4(v4)
                };
                let input = LbInput {
                    src: Some(src),
                    key: None,
                };
                match pick(&Balance::Source, ht, &mut s, &mut st, &input, None) {
                    Pick::Server(i) => i,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(got, want, "mapped={mapped} {ht:?}");
    }
}
