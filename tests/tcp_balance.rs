//! Load-balancing algorithms: where connections land, counted by named servers
//! (each writes its name first).

mod common;

use common::*;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::thread;

/// A frontend on @P0@ in front of backend `be` with `balance` and `servers`
/// (full `server` lines).
fn cfg(balance: &str, servers: &[String]) -> String {
    let mut c = format!(
        "global\n    maxconn 1000\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    balance {balance}\n",
        tcp_defaults()
    );
    for s in servers {
        c.push_str(&format!("    {s}\n"));
    }
    c
}

/// `conf` with a runtime API socket at `sock` (to see pollux's own counts).
fn with_stats_socket(conf: String, sock: &std::path::Path) -> String {
    conf.replacen(
        "global\n",
        &format!("global\n    stats socket {}\n", sock.display()),
        1,
    )
}

fn server_line(name: &str, srv: &TestServer, opts: &str) -> String {
    format!("server {name} {} {opts}", srv.addr())
}

/// Open `n` short connections (from a few threads), return how many reached each server.
fn distribution(addr: SocketAddr, n: usize) -> HashMap<String, usize> {
    const THREADS: usize = 4;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let mut counts = HashMap::new();
                for _ in (t..n).step_by(THREADS) {
                    let (_s, name) = which_server(addr);
                    *counts.entry(name).or_insert(0usize) += 1;
                }
                counts
            })
        })
        .collect();
    let mut total = HashMap::new();
    for h in handles {
        for (k, v) in h.join().expect("client thread") {
            *total.entry(k).or_insert(0) += v;
        }
    }
    total
}

/// Weights 3:1 must give 75% / 25% within ±2 points over 4,000 connections.
fn weights_3_to_1(poller: &str, balance: &str) {
    let _g = heavy_lock();
    let a = TestServer::named("a");
    let b = TestServer::named("b");
    let px = Pollux::start(
        poller,
        &cfg(
            balance,
            &[
                server_line("a", &a, "weight 3"),
                server_line("b", &b, "weight 1"),
            ],
        ),
    );
    const N: usize = 4000;
    let d = distribution(px.addr(0), N);
    let share = |k: &str| *d.get(k).unwrap_or(&0) as f64 / N as f64;
    assert_eq!(d.values().sum::<usize>(), N, "{d:?}");
    assert!(
        (share("a") - 0.75).abs() <= 0.02,
        "balance {balance}: a got {:.1}% ({d:?})",
        share("a") * 100.0
    );
    assert!(
        (share("b") - 0.25).abs() <= 0.02,
        "balance {balance}: b got {:.1}% ({d:?})",
        share("b") * 100.0
    );
    px.stop();
}

per_poller!(
    roundrobin_weights_3_to_1_split_75_25,
    static_rr_weights_3_to_1_split_75_25,
    leastconn_picks_the_server_with_fewest_connections,
    first_fills_servers_in_order_up_to_maxconn,
    source_sends_each_client_address_to_one_server,
    backup_server_unused_while_an_active_one_is_up,
    backup_server_used_when_all_active_are_disabled,
    disabled_server_gets_nothing,
);

fn roundrobin_weights_3_to_1_split_75_25(poller: &str) {
    weights_3_to_1(poller, "roundrobin");
}

fn static_rr_weights_3_to_1_split_75_25(poller: &str) {
    weights_3_to_1(poller, "static-rr");
}

fn leastconn_picks_the_server_with_fewest_connections(poller: &str) {
    let a = TestServer::named("a");
    let b = TestServer::named("b");
    let dir = SockDir::new();
    let sock = dir.sock();
    let px = Pollux::start(
        poller,
        &with_stats_socket(
            cfg(
                "leastconn",
                &[server_line("a", &a, ""), server_line("b", &b, "")],
            ),
            &sock,
        ),
    );
    let mut held: Vec<(TcpStream, String)> = Vec::new();
    let count = |held: &[(TcpStream, String)], n: &str| held.iter().filter(|(_, s)| s == n).count();
    // Held connections: each new one goes to a server with the fewest.
    for i in 0..6 {
        let (ca, cb) = (count(&held, "a"), count(&held, "b"));
        let (s, name) = which_server(px.addr(0));
        let mine = if name == "a" { ca } else { cb };
        assert_eq!(
            mine,
            ca.min(cb),
            "connection {i} went to {name} with a={ca} b={cb} held"
        );
        held.push((s, name));
    }
    assert_eq!((count(&held, "a"), count(&held, "b")), (3, 3));
    // Close every connection on b: a keeps 3, b has 0.
    held.retain(|(_, n)| n == "a");
    assert!(
        b.wait_current(0),
        "pollux did not close b's connections ({} open)",
        b.current()
    );
    // The server closes first; pollux counts a session until it sees that.
    assert!(
        eventually(PATIENCE, || csv_num(&show_stat(&sock), "be/b", "scur") == 0),
        "pollux still counts sessions on b"
    );
    // The next three must all go to b, until balanced.
    for i in 0..3 {
        let (s, name) = which_server(px.addr(0));
        assert_eq!(
            name, "b",
            "connection {i} after closing b's: a has 3, b has {i}"
        );
        held.push((s, name));
    }
    drop(held);
    px.stop();
}

fn first_fills_servers_in_order_up_to_maxconn(poller: &str) {
    let a = TestServer::named("a");
    let b = TestServer::named("b");
    let c = TestServer::named("c");
    // The stats socket shows when pollux itself has given a's slot back.
    let dir = SockDir::new();
    let sock = dir.sock();
    let conf = cfg(
        "first",
        &[
            server_line("a", &a, "maxconn 2"),
            server_line("b", &b, "maxconn 2"),
            server_line("c", &c, "maxconn 2"),
        ],
    );
    let px = Pollux::start(poller, &with_stats_socket(conf, &sock));
    let mut held = Vec::new();
    for expect in ["a", "a", "b", "b"] {
        let (s, name) = which_server(px.addr(0));
        assert_eq!(
            name, expect,
            "order of filling with held connections {held:?}"
        );
        held.push((s, name));
    }
    // Free a slot on a: the next connection goes back to a, not to c.
    held.remove(0);
    assert!(
        a.wait_current(1),
        "pollux did not close the connection to a"
    );
    // The server closes its side first; pollux frees the slot when it
    // sees that close, which a new connection could otherwise overtake.
    assert!(
        eventually(PATIENCE, || csv_num(&show_stat(&sock), "be/a", "scur") == 1),
        "pollux still counts 2 sessions on a"
    );
    let (s, name) = which_server(px.addr(0));
    assert_eq!(name, "a", "a has a free slot again");
    held.push((s, name));
    assert_eq!(c.accepted(), 0);
    drop(held);
    px.stop();
}

fn source_sends_each_client_address_to_one_server(poller: &str) {
    let src0 = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    if !can_bind_source(src0) {
        println!("SKIPPED: cannot bind source addresses 127.0.0.2... here");
        return;
    }
    let a = TestServer::named("a");
    let b = TestServer::named("b");
    let px = Pollux::start(
        poller,
        &cfg(
            "source",
            &[server_line("a", &a, ""), server_line("b", &b, "")],
        ),
    );
    let mut per_source = Vec::new();
    for last in 2..=17u8 {
        let src = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
        let names: Vec<String> = (0..4)
            .map(|_| {
                let mut s = connect_from(src, px.addr(0));
                read_name(&mut s)
            })
            .collect();
        assert!(
            names.iter().all(|n| *n == names[0]),
            "source {src} went to several servers: {names:?}"
        );
        per_source.push((src, names[0].clone()));
    }
    let on_a = per_source.iter().filter(|(_, n)| n == "a").count();
    assert!(
        on_a > 0 && on_a < per_source.len(),
        "16 source addresses all went to one server: {per_source:?}"
    );
    px.stop();
}

fn backup_server_unused_while_an_active_one_is_up(poller: &str) {
    let a = TestServer::named("a");
    let bk = TestServer::named("bk");
    let px = Pollux::start(
        poller,
        &cfg(
            "roundrobin",
            &[server_line("a", &a, ""), server_line("bk", &bk, "backup")],
        ),
    );
    let d = distribution(px.addr(0), 20);
    assert_eq!(d.get("a"), Some(&20), "{d:?}");
    assert_eq!(bk.accepted(), 0);
    px.stop();
}

fn backup_server_used_when_all_active_are_disabled(poller: &str) {
    let a = TestServer::named("a");
    let bk = TestServer::named("bk");
    let px = Pollux::start(
        poller,
        &cfg(
            "roundrobin",
            &[
                server_line("a", &a, "disabled"),
                server_line("bk", &bk, "backup"),
            ],
        ),
    );
    let d = distribution(px.addr(0), 20);
    assert_eq!(d.get("bk"), Some(&20), "{d:?}");
    assert_eq!(a.accepted(), 0);
    px.stop();
}

fn disabled_server_gets_nothing(poller: &str) {
    let a = TestServer::named("a");
    let off = TestServer::named("off");
    let c = TestServer::named("c");
    let px = Pollux::start(
        poller,
        &cfg(
            "roundrobin",
            &[
                server_line("a", &a, ""),
                server_line("off", &off, "disabled"),
                server_line("c", &c, ""),
            ],
        ),
    );
    let d = distribution(px.addr(0), 20);
    assert_eq!(off.accepted(), 0, "{d:?}");
    assert_eq!(d.get("a"), Some(&10), "{d:?}");
    assert_eq!(d.get("c"), Some(&10), "{d:?}");
    px.stop();
}
