//! Each timeout fires, shown by two runs: with a short timeout (300ms) the
//! connection gets closed (within a generous bound), with a long one (30s) the
//! same connection is still open and working after 1.5s. No speed is measured.

mod common;

use common::*;
use std::io::Write;
use std::net::SocketAddr;

/// `timeout connect/client/server` (and more lines in `extra`) in defaults,
/// a frontend on @P0@, backend `be` with `backend` lines.
fn cfg(connect: &str, client: &str, server: &str, extra: &str, backend: &str) -> String {
    format!(
        "defaults\n    mode tcp\n    timeout connect {connect}\n    timeout client {client}\n    timeout server {server}\n{extra}\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n{backend}"
    )
}

fn one_server(addr: SocketAddr) -> String {
    format!("    retries 0\n    server s1 {addr}\n")
}

const L: &str = LONG_TIMEOUT;
const S: &str = SHORT_TIMEOUT;

per_poller!(
    timeout_connect_closes_client_of_unreachable_server,
    long_timeout_connect_keeps_client_waiting,
    timeout_connect_then_redispatch_to_a_live_server,
    timeout_client_closes_idle_client_and_its_server,
    long_timeout_client_keeps_idle_client,
    timeout_server_closes_idle_server_and_its_client,
    long_timeout_server_keeps_idle_server,
    timeout_queue_closes_a_client_waiting_too_long,
    queued_client_served_when_slot_frees_in_time,
    timeout_tunnel_closes_idle_connection,
    timeout_tunnel_supersedes_client_and_server_timeouts,
);

fn timeout_connect_closes_client_of_unreachable_server(poller: &str) {
    let bh = Blackhole::new();
    let px = Pollux::start(poller, &cfg(S, L, L, "", &one_server(bh.addr())));
    let mut c = connect(px.addr(0));
    c.write_all(b"hello?").unwrap();
    assert_closed(
        &mut c,
        "timeout connect 300ms to a server that never answers SYN",
    );
    px.stop();
}

fn long_timeout_connect_keeps_client_waiting(poller: &str) {
    let bh = Blackhole::new();
    let px = Pollux::start(poller, &cfg(L, L, L, "", &one_server(bh.addr())));
    let mut c = connect(px.addr(0));
    c.write_all(b"hello?").unwrap();
    assert_stays_open(&mut c, STAYS_OPEN, "timeout connect 30s");
    px.stop();
}

fn timeout_connect_then_redispatch_to_a_live_server(poller: &str) {
    let bh = Blackhole::new();
    let live = TestServer::named("live");
    let backend = format!(
        "    balance roundrobin\n    retries 1\n    option redispatch\n    server hole {}\n    server live {}\n",
        bh.addr(),
        live.addr()
    );
    let px = Pollux::start(poller, &cfg(S, L, L, "", &backend));
    for i in 0..4 {
        let (mut c, name) = which_server(px.addr(0));
        assert_eq!(name, "live", "connection {i}");
        roundtrip(&mut c, b"ok");
    }
    px.stop();
}

fn timeout_client_closes_idle_client_and_its_server(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(poller, &cfg("5s", S, L, "", &one_server(echo.addr())));
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"then silence");
    assert_closed(&mut c, "timeout client 300ms, idle client");
    assert!(
        echo.wait_current(0),
        "the server-side connection was not closed with the client's"
    );
    px.stop();
}

fn long_timeout_client_keeps_idle_client(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(poller, &cfg("5s", L, L, "", &one_server(echo.addr())));
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"then silence");
    assert_stays_open(&mut c, STAYS_OPEN, "timeout client 30s");
    roundtrip(&mut c, b"still here");
    px.stop();
}

fn timeout_server_closes_idle_server_and_its_client(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(poller, &cfg("5s", L, S, "", &one_server(echo.addr())));
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"then silence");
    assert_closed(&mut c, "timeout server 300ms, idle server");
    assert!(
        echo.wait_current(0),
        "the server-side connection was not closed"
    );
    px.stop();
}

fn long_timeout_server_keeps_idle_server(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(poller, &cfg("5s", L, L, "", &one_server(echo.addr())));
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"then silence");
    assert_stays_open(&mut c, STAYS_OPEN, "timeout server 30s");
    roundtrip(&mut c, b"still here");
    assert_eq!(echo.current(), 1);
    px.stop();
}

fn queue_backend(addr: SocketAddr) -> String {
    format!("    retries 0\n    server s1 {addr} maxconn 1\n")
}

fn timeout_queue_closes_a_client_waiting_too_long(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(
        poller,
        &cfg(
            "5s",
            L,
            L,
            &format!("    timeout queue {S}\n"),
            &queue_backend(echo.addr()),
        ),
    );
    let mut first = connect(px.addr(0));
    roundtrip(&mut first, b"I hold the only slot");
    let mut second = connect(px.addr(0));
    second.write_all(b"waiting").unwrap();
    assert_closed(
        &mut second,
        "timeout queue 300ms while the only slot is taken",
    );
    assert_eq!(
        echo.accepted(),
        1,
        "the queued client must never have reached the server"
    );
    roundtrip(&mut first, b"first still served");
    px.stop();
}

fn queued_client_served_when_slot_frees_in_time(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(
        poller,
        &cfg(
            "5s",
            L,
            L,
            &format!("    timeout queue {L}\n"),
            &queue_backend(echo.addr()),
        ),
    );
    let mut first = connect(px.addr(0));
    roundtrip(&mut first, b"I hold the only slot");
    let mut second = connect(px.addr(0));
    second.write_all(b"waiting").unwrap();
    assert_stays_open(&mut second, STAYS_OPEN, "queued behind a server maxconn 1");
    assert_eq!(echo.peak(), 1, "server maxconn 1 exceeded");
    drop(first);
    let mut back = [0u8; 7];
    std::io::Read::read_exact(&mut second, &mut back)
        .expect("queued client never served after the slot freed");
    assert_eq!(&back, b"waiting");
    assert_eq!(echo.peak(), 1, "server maxconn 1 exceeded");
    px.stop();
}

fn timeout_tunnel_closes_idle_connection(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(
        poller,
        &cfg(
            "5s",
            L,
            L,
            &format!("    timeout tunnel {S}\n"),
            &one_server(echo.addr()),
        ),
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"then silence");
    assert_closed(&mut c, "timeout tunnel 300ms (client and server 30s)");
    px.stop();
}

fn timeout_tunnel_supersedes_client_and_server_timeouts(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(
        poller,
        &cfg(
            "5s",
            S,
            S,
            &format!("    timeout tunnel {L}\n"),
            &one_server(echo.addr()),
        ),
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"then silence");
    assert_stays_open(
        &mut c,
        STAYS_OPEN,
        "timeout tunnel 30s over client/server 300ms",
    );
    roundtrip(&mut c, b"still here");
    px.stop();
}
