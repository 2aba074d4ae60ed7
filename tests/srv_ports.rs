//! `server` lines without a port, or with a `+N`/`-N` offset: the
//! connection goes to the port the client connected to (plus the offset),
//! as HAProxy does; each case run through pollux and HAProxy 2.6 alike.

mod common;

use common::reference::pollux_and_haproxy;
use common::servers::{Behavior, TestServer};
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `nop` (port P0) forwards to 127.0.0.2 without a port: 127.0.0.2:P0.
/// `off` (port P1 = P0 + 1) forwards to 127.0.0.2:-1: 127.0.0.2:P0 too.
/// `far` (port P2) forwards to 127.0.0.2:+7: nothing listens there.
fn config() -> String {
    format!(
        "{}listen nop\n    bind 127.0.0.1:@P0@\n    server s 127.0.0.2\n\
         listen off\n    bind 127.0.0.1:@P1@\n    server s 127.0.0.2:-1\n\
         listen far\n    bind 127.0.0.1:@P2@\n    server s 127.0.0.2:+7\n",
        tcp_defaults()
    )
}

/// What a client connected to `port` reads after sending "ping\n".
fn exchange(port: u16) -> String {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Where no server answers, the proxy may have reset the connection
    // before these: what counts is what was read.
    let _ = c.write_all(b"ping\n");
    let _ = c.shutdown(std::net::Shutdown::Write);
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    String::from_utf8_lossy(&got).to_string()
}

fn servers_without_a_port_take_the_clients(poller: &str) {
    for imp in pollux_and_haproxy(poller) {
        let px = match imp.is_haproxy() {
            true => Launch::new(Some(if poller == "select" { "poll" } else { poller }))
                .program(common::reference::haproxy_26().unwrap())
                .consecutive_ports()
                .start(&config()),
            false => Launch::new(Some(poller))
                .consecutive_ports()
                .start(&config()),
        };
        let p0 = px.ports[0];
        assert_eq!(px.ports[1], p0 + 1, "consecutive ports");
        let srv = TestServer::spawn(&format!("127.0.0.2:{p0}"), Behavior::Named("back".into()));
        assert_eq!(exchange(p0), "back\nping\n", "{}: no port", imp.name);
        assert_eq!(exchange(px.ports[1]), "back\nping\n", "{}: -1", imp.name);
        assert_eq!(
            exchange(px.ports[2]),
            "",
            "{}: +7 reaches nothing",
            imp.name
        );
        assert_eq!(srv.accepted(), 2, "{}", imp.name);
        px.stop();
    }
}

per_poller!(servers_without_a_port_take_the_clients);
