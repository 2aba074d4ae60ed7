//! `tcp-request connection accept|reject` and `tcp-request inspect-delay` +
//! `tcp-request content accept|reject` with req.len, req.ssl_ver and
//! req.payload: TLS passes and SSH is refused on one TCP port.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::{Duration, Instant};

const LO2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Connect from `src` and check pollux closes the connection without a byte;
/// a reset that already fails the connect counts (the reject is that quick).
fn assert_rejected(src: Ipv4Addr, addr: std::net::SocketAddr, what: &str) {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&std::net::SocketAddr::new(IpAddr::V4(src), 0).into())
        .unwrap();
    match sock.connect_timeout(&addr.into(), PATIENCE) {
        Ok(()) => {
            let mut s: std::net::TcpStream = sock.into();
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_closed(&mut s, what);
        }
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("{what}: connect: {e}"),
    }
}

fn client_hello() -> Vec<u8> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/client_hello.py");
    let out = Command::new("python3")
        .arg(script)
        .output()
        .expect("python3");
    assert!(
        out.status.success() && out.stdout.len() > 50,
        "client_hello.py failed"
    );
    assert_eq!(out.stdout[0], 0x16, "a TLS handshake record");
    out.stdout
}

/// TCP-mode frontend @P0@ with `rules`, to an echo server.
fn tcp_start(poller: &str, rules: &str, echo: &TestServer) -> Pollux {
    Pollux::start(
        poller,
        &format!(
            "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    {rules}\n    default_backend be\n\nbackend be\n    server s1 {}\n",
            tcp_defaults(),
            echo.addr()
        ),
    )
}

per_poller!(
    tcp_request_connection_reject_closes_at_once,
    tcp_request_connection_accept_stops_the_rules,
    tcp_request_connection_reject_in_http_mode,
    tcp_request_content_lets_tls_through_and_refuses_ssh,
    tcp_request_content_req_len_waits_for_enough_bytes,
);

fn tcp_request_connection_reject_closes_at_once(poller: &str) {
    if !can_bind_source(IpAddr::V4(LO2)) {
        println!("SKIPPED: cannot bind 127.0.0.2 here");
        return;
    }
    let echo = TestServer::echo();
    let px = tcp_start(
        poller,
        "tcp-request connection reject if { src 127.0.0.2 }",
        &echo,
    );
    assert_rejected(LO2, px.addr(0), "rejected source");
    let mut ok = connect(px.addr(0));
    roundtrip(&mut ok, b"still served");
    assert_eq!(echo.accepted(), 1);
    px.stop();
}

fn tcp_request_connection_accept_stops_the_rules(poller: &str) {
    if !can_bind_source(IpAddr::V4(LO2)) {
        println!("SKIPPED: cannot bind 127.0.0.2 here");
        return;
    }
    let echo = TestServer::echo();
    let px = tcp_start(
        poller,
        "tcp-request connection accept if { src 127.0.0.1 }\n    tcp-request connection reject",
        &echo,
    );
    let mut ok = connect(px.addr(0));
    roundtrip(&mut ok, b"accepted");
    assert_rejected(LO2, px.addr(0), "falls through to reject");
    px.stop();
}

fn tcp_request_connection_reject_in_http_mode(poller: &str) {
    let be = HttpBackend::start("be");
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    bind 127.0.0.1:@P1@\n    tcp-request connection reject if {{ dst_port @P1@ }}\n    default_backend be\n\nbackend be\n    server s1 {}\n",
            http_defaults(),
            be.addr()
        ),
    );
    assert_eq!(http_get(px.addr(0), "/", &[]).status, 200);
    assert_rejected(Ipv4Addr::LOCALHOST, px.addr(1), "rejected port");
    assert_eq!(be.requests().len(), 1);
    px.stop();
}

const TLS_NOT_SSH: &str = "tcp-request inspect-delay 2s
    tcp-request content reject if { req.payload(0,4) -m str SSH- }
    tcp-request content accept if { req.ssl_ver gt 0 }
    tcp-request content reject";

fn tcp_request_content_lets_tls_through_and_refuses_ssh(poller: &str) {
    let echo = TestServer::echo();
    let px = tcp_start(poller, TLS_NOT_SSH, &echo);
    let hello = client_hello();
    let mut tls = connect(px.addr(0));
    roundtrip(&mut tls, &hello);
    let mut ssh = connect(px.addr(0));
    ssh.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        .unwrap();
    let t0 = Instant::now();
    assert_closed(&mut ssh, "SSH banner refused");
    assert!(
        t0.elapsed() < Duration::from_millis(1500),
        "refused at once, not after inspect-delay"
    );
    let mut junk = connect(px.addr(0));
    junk.write_all(b"hello\r\n").unwrap();
    assert_closed(
        &mut junk,
        "neither TLS nor SSH: refused after inspect-delay",
    );
    assert_eq!(echo.accepted(), 1, "only the TLS client reached the server");
    px.stop();
}

fn tcp_request_content_req_len_waits_for_enough_bytes(poller: &str) {
    let echo = TestServer::echo();
    let px = tcp_start(
        poller,
        "tcp-request inspect-delay 3s\n    tcp-request content accept if { req.len ge 8 }\n    tcp-request content reject",
        &echo,
    );
    let mut s = connect(px.addr(0));
    s.write_all(b"1234").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(echo.accepted(), 0, "4 bytes: still waiting");
    s.write_all(b"5678").unwrap();
    let mut back = [0u8; 8];
    s.read_exact(&mut back).expect("echo once 8 bytes arrived");
    assert_eq!(&back, b"12345678");
    let mut short = connect(px.addr(0));
    short.write_all(b"abc").unwrap();
    let t0 = Instant::now();
    assert_closed(&mut short, "too short when inspect-delay ends");
    assert!(
        t0.elapsed() >= Duration::from_millis(2500),
        "rejected before the delay: {:?}",
        t0.elapsed()
    );
    px.stop();
}
