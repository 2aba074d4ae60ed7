//! WebSocket upgrades and CONNECT: after the server's 101 (or 2xx to CONNECT)
//! the session is a tunnel of raw bytes governed by `timeout tunnel`.

mod common;

use common::*;
use std::io::{Read, Write};
use std::time::Duration;

fn cfg(be_timeouts: &str, be: &HttpBackend) -> String {
    format!(
        "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n{be_timeouts}\n    server s1 {}\n",
        http_defaults(),
        be.addr()
    )
}

const UPGRADE: &[&str] = &[
    "Connection: Upgrade",
    "Upgrade: websocket",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
];

fn echo_check(c: &mut HttpConn) {
    // Not HTTP: binary bytes, including what would look like a request.
    let msg: &[u8] = b"\x81\x05hello\x00\xffGET /x HTTP/1.1\r\n\r\n";
    c.wire.s.write_all(msg).unwrap();
    let mut back = vec![0u8; msg.len()];
    c.wire
        .s
        .read_exact(&mut back)
        .expect("echo through the tunnel");
    assert_eq!(back, msg);
}

per_poller!(
    websocket_upgrade_becomes_a_tunnel,
    connect_becomes_a_tunnel,
    timeout_tunnel_closes_an_idle_tunnel,
    timeout_tunnel_replaces_client_and_server_timeouts,
);

fn websocket_upgrade_becomes_a_tunnel(poller: &str) {
    let be = HttpBackend::start("ws");
    let px = Pollux::start(poller, &cfg("", &be));
    let mut c = HttpConn::open(px.addr(0));
    let r = c.get("/chat", UPGRADE);
    assert_eq!(r.status, 101, "{r}");
    assert!(r.head.has_token("upgrade", "websocket"), "{r}");
    echo_check(&mut c);
    echo_check(&mut c);
    assert_eq!(
        be.requests().len(),
        1,
        "only the upgrade request was parsed as HTTP"
    );
    px.stop();
}

fn connect_becomes_a_tunnel(poller: &str) {
    let be = HttpBackend::start("proxy");
    let px = Pollux::start(poller, &cfg("", &be));
    let mut c = HttpConn::open(px.addr(0));
    c.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    let r = c.response_to("CONNECT");
    assert_eq!(r.status, 200, "{r}");
    echo_check(&mut c);
    assert_eq!(be.last().method(), "CONNECT");
    px.stop();
}

fn timeout_tunnel_closes_an_idle_tunnel(poller: &str) {
    let be = HttpBackend::start("ws");
    let px = Pollux::start(poller, &cfg("    timeout tunnel 300ms", &be));
    let mut c = HttpConn::open(px.addr(0));
    assert_eq!(c.get("/chat", UPGRADE).status, 101);
    echo_check(&mut c);
    assert!(
        c.closed_within(PATIENCE),
        "idle tunnel closed by timeout tunnel"
    );
    px.stop();
}

fn timeout_tunnel_replaces_client_and_server_timeouts(poller: &str) {
    let be = HttpBackend::start("ws");
    let px = Pollux::start(
        poller,
        &cfg(
            "    timeout tunnel 30s\n    timeout server 300ms\n    timeout client 300ms",
            &be,
        ),
    );
    let mut c = HttpConn::open(px.addr(0));
    assert_eq!(c.get("/chat", UPGRADE).status, 101);
    assert!(
        !c.closed_within(Duration::from_millis(1500)),
        "timeout tunnel 30s applies, not client/server 300ms"
    );
    echo_check(&mut c);
    px.stop();
}
