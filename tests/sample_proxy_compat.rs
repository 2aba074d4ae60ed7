//! Fetches on the proxies' state (`fe_id`, `be_id`, `srv_id`, `srv_name`,
//! `nbsrv`, `be_conn`, `connslots`, `queue`, `avg_queue`, `srv_conn`,
//! `srv_is_up`, `srv_queue`, `srv_weight`, `srv_iweight`, `srv_uweight`,
//! `so_id`, `so_name` with bind `id`/`name`)
//! through pollux and HAProxy 2.6 with the same configuration, on each
//! poller: the bodies and response headers must be the same.

mod common;

use common::live::LiveServer;
use common::reference::pollux_and_haproxy;
use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

const FETCHES: &[&str] = &[
    "fe_id",
    "be_id",
    "nbsrv",
    "nbsrv(other)",
    "nbsrv(backups)",
    "be_conn",
    "be_conn(other)",
    "connslots",
    "connslots(other)",
    "queue",
    "avg_queue(other)",
    "srv_conn(s1)",
    "srv_conn(other/o2)",
    "srv_is_up(s1)",
    "srv_is_up(other/o1)",
    "srv_queue(s2)",
    "srv_weight(s2)",
    "srv_iweight(s2)",
    "srv_uweight(s2)",
];

fn config(live: SocketAddr) -> String {
    let body: String = FETCHES.iter().map(|f| format!("{f}=%[{f}] ")).collect();
    format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n    use_backend real if {{ path /real }}\n    default_backend be\n\
         backend be\n\
         \x20   server s1 127.0.0.1:9 maxconn 10 maxqueue 5\n\
         \x20   server s2 127.0.0.1:9 weight 7 maxconn 3 maxqueue 2\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"{body}\"\n\
         backend other\n\
         \x20   server o1 127.0.0.1:9 disabled\n\
         \x20   server o2 127.0.0.1:9 maxconn 4\n\
         backend backups\n\
         \x20   server b1 127.0.0.1:9 backup\n\
         \x20   server b2 127.0.0.1:9 backup\n\
         backend real\n\
         \x20   server web {live}\n\
         \x20   http-response set-header x-srv \"%[srv_name] %[srv_id] %[be_id] %[srv_conn(web)]\"\n\
         frontend so\n    bind 127.0.0.1:@P1@\n    bind 127.0.0.1:@P2@ id 7 name web\n\
         \x20   bind 127.0.0.1:@P3@ name other\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"%[so_id] [%[so_name]]\"\n"
    )
}

/// The body (for `/`) or the `x-srv` header (for `/real`).
fn ask(px: &Pollux, path: &str) -> String {
    ask_at(px.addr(0), path)
}

fn ask_at(to: SocketAddr, path: &str) -> String {
    let mut c = TcpStream::connect(to).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let _ = c.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp).to_string();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    if path == "/" {
        return body.to_string();
    }
    head.lines()
        .find_map(|l| l.strip_prefix("x-srv: "))
        .unwrap_or("no x-srv")
        .to_string()
}

fn proxy_state_fetches_give_haproxys_values(poller: &str) {
    let live = LiveServer::start("web");
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let px = imp.start(&config(live.addr()));
        let so: Vec<String> = (1..=3).map(|i| ask_at(px.addr(i), "/")).collect();
        let got = (ask(&px, "/"), ask(&px, "/real"), so);
        px.stop();
        seen.push((imp.name, got));
    }
    let (_, ours) = &seen[0];
    assert!(ours.0.contains("nbsrv=2 "), "{ours:?}");
    assert!(ours.1.starts_with("web 1 "), "{ours:?}");
    // HAProxy 2.6 numbers listeners by position unless `id` says.
    assert_eq!(ours.2, ["1 []", "7 [web]", "3 [other]"], "{ours:?}");
    if let Some((_, theirs)) = seen.get(1) {
        let split = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
        let diffs: Vec<String> = split(&ours.0)
            .into_iter()
            .zip(split(&theirs.0))
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("pollux {a}, HAProxy {b}"))
            .collect();
        assert!(diffs.is_empty(), "{}", diffs.join("\n"));
        assert_eq!(ours.1, theirs.1, "x-srv: pollux, then HAProxy");
        assert_eq!(ours.2, theirs.2, "so_id/so_name: pollux, then HAProxy");
    }
}

per_poller!(proxy_state_fetches_give_haproxys_values);
