//! HTTP mode basics: `mode http` end to end with curl and nginx, keep-alive on
//! both sides, per-request load balancing, `option httpclose`,
//! `option http-server-close`, `option http-keep-alive`, `timeout http-request`
//! and `timeout http-keep-alive`.

mod common;

use common::*;
use std::time::{Duration, Instant};

/// One frontend on @P0@ with `fe_extra` lines, to backend `be` (`balance roundrobin`).
fn cfg(fe_extra: &str, servers: &[(&str, String)]) -> String {
    let mut c = format!(
        "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n{fe_extra}\n    default_backend be\n\nbackend be\n    balance roundrobin\n",
        http_defaults()
    );
    for (name, addr) in servers {
        c.push_str(&format!("    server {name} {addr}\n"));
    }
    c
}

per_poller!(
    mode_http_serves_nginx_files_to_curl,
    keep_alive_reuses_the_client_connection,
    each_request_of_a_keep_alive_connection_is_balanced,
    option_httpclose_closes_after_each_response,
    option_http_server_close_keeps_the_client_side_only,
    option_http_keep_alive_reuses_the_server_connection,
    timeout_http_request_gives_408_for_an_incomplete_head,
    timeout_http_keep_alive_closes_an_idle_client_connection,
);

fn mode_http_serves_nginx_files_to_curl(poller: &str) {
    let ng = Nginx::start(&[("page.html", 5000)]);
    let px = Pollux::start(poller, &cfg("", &[("web", ng.addr().to_string())]));
    let out = curl(&[&format!("http://{}/page.html", px.addr(0))]);
    assert_eq!(out.code, 200, "curl: {}", out.stderr);
    assert_eq!(out.body, pattern(5000, 5000), "body of page.html");
    let missing = curl(&[&format!("http://{}/nope.html", px.addr(0))]);
    assert_eq!(
        missing.code, 404,
        "nginx's 404 passes through: {}",
        missing.stderr
    );
    px.stop();
}

fn keep_alive_reuses_the_client_connection(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(poller, &cfg("", &[("a", be.addr().to_string())]));
    let mut c = HttpConn::open(px.addr(0));
    for i in 0..3 {
        let r = c.get(&format!("/r{i}"), &[]);
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(r.server(), "a");
    }
    assert!(
        !c.closed_within(Duration::from_millis(300)),
        "keep-alive is the default: the client connection must stay open"
    );
    let paths: Vec<String> = be
        .requests()
        .iter()
        .map(|r| r.target().to_string())
        .collect();
    assert_eq!(paths, ["/r0", "/r1", "/r2"]);
    px.stop();
}

fn each_request_of_a_keep_alive_connection_is_balanced(poller: &str) {
    let a = HttpBackend::start("a");
    let b = HttpBackend::start("b");
    let px = Pollux::start(
        poller,
        &cfg(
            "",
            &[("a", a.addr().to_string()), ("b", b.addr().to_string())],
        ),
    );
    let mut c = HttpConn::open(px.addr(0));
    let got: Vec<String> = (0..4)
        .map(|_| c.get("/", &[]).server().to_string())
        .collect();
    for w in got.windows(2) {
        assert_ne!(
            w[0], w[1],
            "roundrobin per request on one client connection: {got:?}"
        );
    }
    assert_eq!(a.requests().len(), 2);
    assert_eq!(b.requests().len(), 2);
    px.stop();
}

fn option_httpclose_closes_after_each_response(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg("    option httpclose", &[("a", be.addr().to_string())]),
    );
    for _ in 0..2 {
        let mut c = HttpConn::open(px.addr(0));
        let r = c.get("/", &[]);
        assert_eq!(r.status, 200, "{r}");
        assert!(
            c.closed_within(PATIENCE),
            "httpclose: client side closed after the response"
        );
    }
    assert!(
        eventually(PATIENCE, || be.conns().iter().all(|c| c.closed)),
        "httpclose: server side closed after the response"
    );
    assert_eq!(be.accepted(), 2);
    px.stop();
}

fn option_http_server_close_keeps_the_client_side_only(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "    option http-server-close",
            &[("a", be.addr().to_string())],
        ),
    );
    let mut c = HttpConn::open(px.addr(0));
    for _ in 0..2 {
        let r = c.get("/", &[]);
        assert_eq!(r.status, 200, "{r}");
        assert_eq!(
            r.header("x-req"),
            Some("0"),
            "a new server connection per request"
        );
    }
    assert!(
        !c.closed_within(Duration::from_millis(300)),
        "client side kept alive"
    );
    assert_eq!(be.accepted(), 2, "one server connection per request");
    assert!(eventually(PATIENCE, || be.conns().iter().all(|c| c.closed)));
    px.stop();
}

fn option_http_keep_alive_reuses_the_server_connection(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "    option http-keep-alive",
            &[("a", be.addr().to_string())],
        ),
    );
    let mut c = HttpConn::open(px.addr(0));
    let r1 = c.get("/", &[]);
    let r2 = c.get("/", &[]);
    assert_eq!((r1.status, r2.status), (200, 200));
    assert_eq!(
        r2.header("x-req"),
        Some("1"),
        "second request on the same server connection"
    );
    assert_eq!(be.accepted(), 1);
    px.stop();
}

fn timeout_http_request_gives_408_for_an_incomplete_head(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "    timeout http-request 300ms",
            &[("a", be.addr().to_string())],
        ),
    );
    let mut c = HttpConn::open(px.addr(0));
    let t0 = Instant::now();
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\n");
    let r = c.try_response("GET").expect("a 408 response");
    assert_eq!(r.status, 408, "{r}");
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "408 too early: {:?}",
        t0.elapsed()
    );
    assert!(c.closed_within(PATIENCE), "closed after the 408");
    assert_eq!(be.accepted(), 0, "nothing reaches the server");
    // A complete head sent in pieces within the timeout is served.
    let mut c = HttpConn::open(px.addr(0));
    c.send(b"GET / HTTP/1.1\r\n");
    std::thread::sleep(Duration::from_millis(100));
    c.send(b"Host: x\r\n\r\n");
    assert_eq!(c.response_to("GET").status, 200);
    px.stop();
}

fn timeout_http_keep_alive_closes_an_idle_client_connection(poller: &str) {
    let be = HttpBackend::start("a");
    let tmpl = format!(
        "global\n    maxconn 200\n{}\nfrontend short\n    bind 127.0.0.1:@P0@\n    timeout http-keep-alive 300ms\n    timeout http-request 30s\n    default_backend be\n\nfrontend long\n    bind 127.0.0.1:@P1@\n    timeout http-keep-alive 30s\n    timeout http-request 30s\n    default_backend be\n\nbackend be\n    server a {}\n",
        http_defaults(),
        be.addr()
    );
    let px = Pollux::start(poller, &tmpl);
    let mut short = HttpConn::open(px.addr(0));
    let mut long = HttpConn::open(px.addr(1));
    assert_eq!(short.get("/", &[]).status, 200);
    assert_eq!(long.get("/", &[]).status, 200);
    let t0 = Instant::now();
    assert!(
        short.closed_within(PATIENCE),
        "idle keep-alive connection closed"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(200),
        "closed too early"
    );
    assert!(
        !long.closed_within(STAYS_OPEN),
        "timeout http-keep-alive 30s: still open"
    );
    assert_eq!(long.get("/", &[]).status, 200, "and still usable");
    px.stop();
}
