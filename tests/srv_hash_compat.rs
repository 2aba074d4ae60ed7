//! Hash-based balancing places every key on the server HAProxy 2.6 picks,
//! so that a cut-over from HAProxy keeps cache locality and affinity:
//! Debian's `/usr/sbin/haproxy` and pollux run the same configuration (five
//! servers, different weights, one with an `id`), and each of 200 keys
//! sent through both must reach the same server, for `balance uri` (plain,
//! `whole`, `len`+`depth`, `path-only`), `url_param`, `hdr()` (plain and
//! `use_domain_only`) and `source` (IPv4, and IPv4-mapped IPv6), each under
//! map-based and consistent hashing with every hash function. Without
//! HAProxy installed the test says SKIP and passes.

mod common;

use common::*;
use socket2::{Domain, Socket, Type};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;

const HAPROXY: &str = "/usr/sbin/haproxy";

/// Keys per case.
const KEYS: usize = 200;

/// The servers: name and `server` options (weights 3, 1, 4, 1, 5; s3 has
/// `id 9`, so consistent hashing places its points by 9, and s4, s5 get 3
/// and 4 as HAProxy numbers them).
const SERVERS: [(&str, &str); 5] = [
    ("s1", "weight 3"),
    ("s2", "weight 1"),
    ("s3", "weight 4 id 9"),
    ("s4", "weight 1"),
    ("s5", "weight 5"),
];

/// Every method, every function, with and without avalanche (a bare
/// `consistent` is `consistent sdbm avalanche`).
const HASH_TYPES: [&str; 6] = [
    "map-based",
    "consistent",
    "map-based djb2",
    "consistent wt6",
    "map-based crc32 avalanche",
    "consistent sdbm",
];

/// What a case balances on, and the request for key `i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algo {
    Uri,
    UriWhole,
    UriLenDepth,
    UriPathOnly,
    UrlParam,
    Hdr,
    HdrDomain,
    Source,
    SourceMapped,
}

impl Algo {
    fn balance(self) -> &'static str {
        match self {
            Algo::Uri => "balance uri",
            Algo::UriWhole => "balance uri whole",
            Algo::UriLenDepth => "balance uri len 12 depth 2",
            Algo::UriPathOnly => "balance uri path-only",
            Algo::UrlParam => "balance url_param uid",
            Algo::Hdr => "balance hdr(X-Key)",
            Algo::HdrDomain => "balance hdr(Host) use_domain_only",
            Algo::Source | Algo::SourceMapped => "balance source",
        }
    }

    /// Where the case listens (`@P@` is its port): IPv4-mapped clients for
    /// `SourceMapped` (an IPv6 socket on ::ffff:127.0.0.1).
    fn bind(self) -> &'static str {
        match self {
            Algo::SourceMapped => "[::ffff:127.0.0.1]:@P@",
            _ => "127.0.0.1:@P@",
        }
    }

    fn by_source(self) -> bool {
        matches!(self, Algo::Source | Algo::SourceMapped)
    }

    /// Request `i` (its target and extra header lines).
    fn request(self, i: usize) -> (String, Vec<String>) {
        let none = Vec::new();
        match self {
            // The query string is not hashed: the same path, whatever `v`.
            Algo::Uri => (format!("/img/{}/photo-{i}.jpg?v={}", i % 37, i % 3), none),
            Algo::UriWhole => (format!("/search?q=term{i}&page={}", i % 5), none),
            // Hashes "/dN/eM" cut at 12 bytes: groups of keys share one.
            Algo::UriLenDepth => (format!("/d{}/e{i}/f/g.html", i % 50), none),
            // Half absolute-form (its authority matches Host: test).
            Algo::UriPathOnly if i % 2 == 0 => (format!("http://test/p/{i}/x?y={i}"), none),
            Algo::UriPathOnly => (format!("/p/{i}/x"), none),
            Algo::UrlParam => (format!("/cart?a={}&uid=user{i}&b=2", i % 7), none),
            Algo::Hdr => ("/".into(), vec![format!("X-Key: key-{i}")]),
            // HAProxy 2.6 reads one byte past the value here (backend.c,
            // get_server_hh) and hashes the last label instead when that
            // byte is a dot: hosts whose last two labels are the same hash
            // alike either way, so the comparison is deterministic.
            Algo::HdrDomain => ("/".into(), vec![format!("Host: www{i}.k{i}.k{i}")]),
            Algo::Source | Algo::SourceMapped => ("/".into(), none),
        }
    }

    /// The client address of key `i` (127.0.0.1 to 127.0.0.200 for source).
    fn client(self, i: usize) -> Option<IpAddr> {
        self.by_source()
            .then(|| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + i as u8)))
    }
}

const ALGOS: [Algo; 9] = [
    Algo::Uri,
    Algo::UriWhole,
    Algo::UriLenDepth,
    Algo::UriPathOnly,
    Algo::UrlParam,
    Algo::Hdr,
    Algo::HdrDomain,
    Algo::Source,
    Algo::SourceMapped,
];

/// A `listen` per (algorithm, hash-type) case, in `cases` order, on
/// `@P0@`, `@P1@`...
fn config(cases: &[(Algo, &str)], servers: &[LiveServer]) -> String {
    let mut c = format!("global\n    maxconn 1000\n{}", http_defaults());
    for (n, (algo, ht)) in cases.iter().enumerate() {
        let bind = algo.bind().replace("@P@", &format!("@P{n}@"));
        c.push_str(&format!(
            "listen case{n}\n    bind {bind}\n    {}\n    hash-type {ht}\n",
            algo.balance()
        ));
        for (s, (name, opts)) in servers.iter().zip(SERVERS) {
            c.push_str(&format!("    server {name} {} {opts}\n", s.addr()));
        }
    }
    c
}

per_poller!(every_key_reaches_the_server_haproxy_chooses);

fn every_key_reaches_the_server_haproxy_chooses(poller: &str) {
    if !Path::new(HAPROXY).exists() {
        println!("SKIP: {HAPROXY} is not installed: placements not compared with HAProxy");
        return;
    }
    let sources = can_bind_source(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    if !sources {
        println!("SKIP: cannot bind 127.0.0.2 here: `balance source` not compared");
    }
    let mapped = ipv6_available();
    if !mapped {
        println!("SKIP: no IPv6: `balance source` with IPv4-mapped clients not compared");
    }
    let cases: Vec<(Algo, &str)> = ALGOS
        .iter()
        .filter(|a| sources || !a.by_source())
        .filter(|a| mapped || !matches!(a, Algo::SourceMapped))
        .flat_map(|&a| HASH_TYPES.iter().map(move |&ht| (a, ht)))
        .collect();
    let live: Vec<LiveServer> = SERVERS.iter().map(|(n, _)| LiveServer::start(n)).collect();
    let cfg = config(&cases, &live);

    let haproxy = Launch::new(None).program(HAPROXY).start(&cfg);
    let want: Vec<Vec<String>> = (0..cases.len())
        .map(|n| placements(haproxy.addr(n), cases[n].0))
        .collect();
    // HAProxy's soft stop (SIGUSR1) exits 0 once its connections are gone;
    // SIGTERM would be 143.
    let mut haproxy = haproxy;
    haproxy.stop_with(libc::SIGUSR1);

    // Meaningful only if HAProxy spreads each algorithm's keys. Not each
    // case's: without avalanche, consistent hashing of similar keys (sdbm
    // of "key-1", "key-2"... or neighbouring IPv4 addresses, hashed as
    // themselves) clusters on one or two servers, in HAProxy as here.
    for algo in ALGOS {
        let used: BTreeSet<&String> = cases
            .iter()
            .zip(&want)
            .filter(|((a, _), _)| *a == algo)
            .flat_map(|(_, w)| w)
            .collect();
        assert!(
            used.is_empty() || used.len() >= 4,
            "{algo:?}: HAProxy used only {used:?}"
        );
    }

    let px = Pollux::start(poller, &cfg);
    let mut wrong = Vec::new();
    for (n, &(algo, ht)) in cases.iter().enumerate() {
        let got = placements(px.addr(n), algo);
        for (i, (w, g)) in want[n].iter().zip(&got).enumerate() {
            if w != g {
                wrong.push(format!(
                    "{algo:?} / hash-type {ht}: key {i} {:?}: HAProxy {w}, pollux {g}",
                    algo.request(i)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} keys placed differently from HAProxy, e.g.:\n{}",
        wrong.len(),
        cases.len() * KEYS,
        wrong[..wrong.len().min(20)].join("\n")
    );
    px.stop();
}

/// The server (its `X-Server`) answering each key of `algo` at `addr`: one
/// keep-alive connection for the request-keyed algorithms; one connection
/// per key from its own address for `source`.
fn placements(addr: SocketAddr, algo: Algo) -> Vec<String> {
    let mut conn = (!algo.by_source()).then(|| HttpConn::open(addr));
    (0..KEYS)
        .map(|i| {
            let (target, headers) = algo.request(i);
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let r = match (&mut conn, algo.client(i)) {
                (Some(c), _) => {
                    c.send(&request_bytes("GET", &target, &headers, b""));
                    c.response_to("GET")
                }
                (None, Some(src)) => once_from(src, addr, &target),
                (None, None) => unreachable!("a source case has a client address"),
            };
            assert_eq!(r.status, 200, "{algo:?} key {i} ({target}): {r}");
            r.server().to_string()
        })
        .collect()
}

/// One `Connection: close` request from `src`; the server side closes
/// first, so the client address leaves no TIME_WAIT behind to collide with
/// the next test's.
fn once_from(src: IpAddr, addr: SocketAddr, target: &str) -> Response {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.set_reuse_address(true).expect("SO_REUSEADDR");
    sock.bind(&SocketAddr::new(src, 0).into())
        .unwrap_or_else(|e| panic!("bind {src}: {e}"));
    sock.connect_timeout(&addr.into(), PATIENCE)
        .unwrap_or_else(|e| panic!("connect {src} -> {addr}: {e}"));
    let mut s: TcpStream = sock.into();
    s.set_read_timeout(Some(PATIENCE)).expect("read timeout");
    s.set_write_timeout(Some(PATIENCE)).expect("write timeout");
    s.write_all(&request_bytes("GET", target, &["Connection: close"], b""))
        .expect("send");
    let mut c = HttpConn::from_stream(s);
    let r = c.response_to("GET");
    let mut rest = Vec::new();
    let _ = c.wire.s.read_to_end(&mut rest);
    r
}
