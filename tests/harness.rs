//! Self-tests of the harness in tests/common, without pollux: the in-test
//! servers and clients against each other, the -vv parser, ports, helpers.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

#[test]
fn echo_server_echoes_and_closes_after_client_half_close() {
    let echo = TestServer::echo();
    let mut s = connect(echo.addr());
    roundtrip(&mut s, b"hello");
    let data = pattern(7, 300_000);
    s.write_all(&data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_to_eof(&mut s), data);
    assert!(echo.wait_current(0));
    assert_eq!(echo.accepted(), 1);
}

#[test]
fn named_server_sends_its_name_then_echoes() {
    let srv = TestServer::named("alpha");
    let (mut s, name) = which_server(srv.addr());
    assert_eq!(name, "alpha");
    roundtrip(&mut s, b"ping");
}

#[test]
fn silent_server_never_writes_and_closes_when_peer_closes() {
    let srv = TestServer::silent();
    let mut s = connect(srv.addr());
    s.write_all(b"anything").unwrap();
    assert_stays_open(&mut s, Duration::from_millis(300), "silent server");
    drop(s);
    assert!(srv.wait_current(0));
}

#[test]
fn hold_server_keeps_connections_and_counts_peak() {
    let srv = TestServer::hold();
    let conns: Vec<TcpStream> = (0..5).map(|_| connect(srv.addr())).collect();
    assert!(eventually(PATIENCE, || srv.accepted() == 5));
    assert_eq!(srv.current(), 5);
    assert_eq!(srv.peak(), 5);
    drop(conns);
}

#[test]
fn server_current_count_follows_closes() {
    let srv = TestServer::echo();
    let mut a = connect(srv.addr());
    let mut b = connect(srv.addr());
    roundtrip(&mut a, b"a");
    roundtrip(&mut b, b"b");
    assert_eq!(srv.current(), 2);
    drop(a);
    assert!(srv.wait_current(1));
    assert_eq!(srv.peak(), 2);
}

#[test]
fn closed_connection_is_seen_as_closed() {
    let srv = FnServer::spawn(drop);
    let mut c = connect(srv.addr());
    assert_closed(&mut c, "fn server drops at once");
}

#[test]
fn fn_server_runs_handler_per_connection() {
    let srv = FnServer::spawn(|mut s| {
        s.write_all(b"bye").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        s.write_all(&[]).ok();
    });
    let mut c = connect(srv.addr());
    assert_eq!(read_to_eof(&mut c), b"bye");
    c.write_all(b"after").unwrap();
}

#[test]
fn bulk_clients_against_echo_server_directly() {
    init();
    let _g = heavy_lock();
    let echo = TestServer::echo();
    bulk_echo_clients(echo.addr(), 1000, 64 * 1024, Duration::from_secs(60)).unwrap();
    assert_eq!(echo.accepted(), 1000);
    assert!(echo.wait_current(0));
}

#[test]
fn bulk_clients_detect_a_corrupting_server() {
    // A server that flips one byte: the client must notice.
    let srv = FnServer::spawn(|mut s| {
        let mut buf = vec![0u8; 1024];
        let mut total = 0;
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            if total <= 500 && total + n > 500 {
                buf[500 - total] ^= 1;
            }
            total += n;
            if s.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let err = bulk_echo_clients(srv.addr(), 1, 4096, PATIENCE).unwrap_err();
    assert!(err.contains("offset 500"), "{err}");
}

#[test]
fn blackhole_connect_never_completes() {
    let bh = Blackhole::new();
    let r = TcpStream::connect_timeout(&bh.addr(), Duration::from_millis(500));
    assert!(r.is_err(), "a connect to the blackhole completed");
}

#[test]
fn dead_addr_refuses() {
    let addr = dead_addr();
    let e = TcpStream::connect_timeout(&addr, PATIENCE).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[test]
fn source_binding_works_on_loopback() {
    let src: std::net::IpAddr = "127.0.0.5".parse().unwrap();
    if !can_bind_source(src) {
        println!("SKIPPED: cannot bind 127.0.0.5 here");
        return;
    }
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let _c = connect_from(src, addr);
    let (_s, peer) = l.accept().unwrap();
    *seen.lock().unwrap() = Some(peer.ip());
    assert_eq!(seen.lock().unwrap().unwrap(), src);
}

#[test]
fn free_ports_are_bindable_distinct_and_consecutive_when_asked() {
    let p = free_ports(4, true);
    assert_eq!(p, (p[0]..p[0] + 4).collect::<Vec<_>>());
    assert!(p.iter().all(|&x| (10_000..32_000).contains(&x)));
    let q = free_ports(3, false);
    assert!(q.iter().all(|x| !p.contains(x)));
    for port in p.iter().chain(&q) {
        TcpListener::bind(("127.0.0.1", *port)).unwrap();
    }
}

#[test]
fn render_substitutes_placeholders() {
    let t = "bind 127.0.0.1:@P0@\nbind 127.0.0.1:@P1@-@P2@\n";
    assert_eq!(placeholders(t), 3);
    assert_eq!(
        render(t, &[1, 2, 3]),
        "bind 127.0.0.1:1\nbind 127.0.0.1:2-3\n"
    );
    assert_eq!(placeholders("no ports"), 0);
    assert_eq!(placeholders("bind 127.0.0.1:@P0@-@P3@"), 4);
}

#[test]
fn listening_ports_of_finds_own_listener() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    match listening_ports_of(std::process::id()) {
        Some(ports) => assert!(ports.contains(&port)),
        None => println!("SKIPPED: no /proc here"),
    }
    let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let cport = c.local_addr().unwrap().port();
    if let Some(ports) = listening_ports_of(std::process::id()) {
        assert!(
            !ports.contains(&cport),
            "a connected socket counted as listening"
        );
    }
}

#[test]
fn pattern_is_deterministic_and_position_based() {
    let whole = pattern(3, 1000);
    let mut part = vec![0u8; 100];
    pattern_fill(3, 437, &mut part);
    assert_eq!(&whole[437..537], &part[..]);
    assert_ne!(pattern(3, 64), pattern(4, 64));
}

const SPEC_BLOCK: &str = "pollux version 0.1.0\nAvailable polling systems :\n      epoll : pref=300,  test result OK\n       poll : pref=200,  test result OK\n     select : pref=150,  test result OK\nTotal: 3 (3 usable), will use epoll.\n";

#[test]
fn poller_block_parser_accepts_the_specified_form() {
    let r = parse_poller_block(SPEC_BLOCK).unwrap();
    assert_eq!(r.total, 3);
    assert_eq!(r.usable, 3);
    assert_eq!(r.will_use, "epoll");
    assert_eq!(r.usable_names(), ["epoll", "poll", "select"]);
    assert_eq!(r.lines.len(), 5);
}

#[test]
fn poller_block_parser_rejects_other_forms() {
    for bad in [
        SPEC_BLOCK.replace("      epoll :", "epoll :"),
        SPEC_BLOCK.replace("Total: 3 (3 usable), will use epoll.", "Total: 3"),
        SPEC_BLOCK.replace("test result OK", "OK"),
        SPEC_BLOCK.replace("Available polling systems :", "Pollers:"),
    ] {
        assert!(parse_poller_block(&bad).is_err(), "accepted:\n{bad}");
    }
    let failed = SPEC_BLOCK.replace(
        "select : pref=150,  test result OK",
        "select : pref=150,  test result FAILED",
    );
    let r = parse_poller_block(&failed).unwrap();
    assert_eq!(r.usable_names(), ["epoll", "poll"]);
}

#[test]
fn eventually_is_bounded() {
    assert!(!eventually(Duration::from_millis(50), || false));
    assert!(eventually(Duration::from_millis(50), || true));
}

#[test]
fn fd_limit_is_raised() {
    init();
    assert!(
        fd_limit() >= 4096 || fd_limit() == 1024,
        "soft fd limit {}",
        fd_limit()
    );
}
