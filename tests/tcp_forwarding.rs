//! TCP forwarding through pollux: bytes intact under load, half-closes passed
//! on, and every kind of bind (IPv4, IPv6, several, port ranges, fd@N).

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::Duration;

fn simple_cfg(server: SocketAddr) -> String {
    format!(
        "global\n    maxconn 4000\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    server s1 {server}\n",
        tcp_defaults()
    )
}

per_poller!(
    thousand_concurrent_connections_64k_each_arrive_intact,
    half_close_from_client_is_forwarded,
    half_close_from_server_is_forwarded,
    listen_section_forwards,
    ipv6_bind_and_ipv6_server,
    several_binds_all_serve,
    port_range_bind_serves_every_port,
    fd_bind_uses_inherited_listener,
    fd_bind_from_environment_variable,
);

fn thousand_concurrent_connections_64k_each_arrive_intact(poller: &str) {
    // Two fds a connection in pollux.
    if select_cannot_hold(poller, 2000) {
        return;
    }
    let _g = heavy_lock();
    let echo = TestServer::echo();
    let px = Pollux::start(poller, &simple_cfg(echo.addr()));
    bulk_echo_clients(px.addr(0), 1000, 64 * 1024, Duration::from_secs(90))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        echo.accepted(),
        1000,
        "the server should see one connection per client"
    );
    assert!(
        echo.wait_current(0),
        "server-side connections left open: {}",
        echo.current()
    );
    px.stop();
}

fn half_close_from_client_is_forwarded(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(poller, &simple_cfg(echo.addr()));
    let mut c = connect(px.addr(0));
    // More than a buffer's worth, so some is still in flight at the shutdown.
    let data = pattern(11, 1 << 20);
    c.write_all(&data).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    // The echo server only closes after it sees EOF: the client can only reach
    // EOF if its FIN was passed on, and must get every byte back first.
    let back = read_to_eof(&mut c);
    assert_eq!(back.len(), data.len(), "bytes lost after client half-close");
    assert!(back == data, "bytes changed after client half-close");
    px.stop();
}

fn half_close_from_server_is_forwarded(poller: &str) {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let tx = std::sync::Mutex::new(tx);
    let srv = FnServer::spawn(move |mut s| {
        s.write_all(&pattern(5, 200_000)).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        // Still reading: the client can go on sending after our FIN.
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        let _ = tx.lock().unwrap().send(got);
    });
    let px = Pollux::start(poller, &simple_cfg(srv.addr()));
    let mut c = connect(px.addr(0));
    let from_server = read_to_eof(&mut c);
    assert!(
        from_server == pattern(5, 200_000),
        "server's bytes before its FIN were not all delivered"
    );
    // Our write side is still open through pollux.
    let data = pattern(6, 300_000);
    c.write_all(&data).unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let got = rx
        .recv_timeout(PATIENCE)
        .expect("server never saw the client's EOF");
    assert_eq!(
        got.len(),
        data.len(),
        "bytes sent after the server's half-close were lost"
    );
    assert!(got == data, "bytes changed after the server's half-close");
    px.stop();
}

fn listen_section_forwards(poller: &str) {
    let echo = TestServer::echo();
    let cfg = format!(
        "{}\nlisten both\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    );
    let px = Pollux::start(poller, &cfg);
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"through a listen section");
    px.stop();
}

fn ipv6_bind_and_ipv6_server(poller: &str) {
    if !ipv6_available() {
        println!("SKIPPED: ::1 cannot be bound here");
        return;
    }
    let echo = TestServer::spawn("[::1]:0", Behavior::Echo);
    let cfg = format!(
        "{}\nfrontend fe\n    bind [::1]:@P0@\n    default_backend be\nbackend be\n    server s6 [::1]:{}\n",
        tcp_defaults(),
        echo.addr().port()
    );
    let px = Pollux::start(poller, &cfg);
    let mut c = connect(SocketAddr::from((
        std::net::Ipv6Addr::LOCALHOST,
        px.ports[0],
    )));
    roundtrip(&mut c, b"over IPv6 both sides");
    assert_eq!(echo.accepted(), 1);
    px.stop();
}

fn several_binds_all_serve(poller: &str) {
    let echo = TestServer::echo();
    let cfg = format!(
        "{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    bind 127.0.0.1:@P1@\n    bind 127.0.0.1:@P2@\n    default_backend be\nbackend be\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    );
    let px = Pollux::start(poller, &cfg);
    let mut conns: Vec<_> = (0..3).map(|i| connect(px.addr(i))).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        roundtrip(c, format!("bind number {i}").as_bytes());
    }
    assert_eq!(echo.accepted(), 3);
    px.stop();
}

fn port_range_bind_serves_every_port(poller: &str) {
    let echo = TestServer::echo();
    let cfg = format!(
        "{}\nfrontend fe\n    bind 127.0.0.1:@P0@-@P3@\n    default_backend be\nbackend be\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    );
    // Four consecutive free ports; pollux must listen on all of them.
    let px = Pollux::launch(poller).consecutive_ports().start(&cfg);
    assert_eq!(px.ports[3], px.ports[0] + 3);
    for i in 0..4 {
        let mut c = connect(px.addr(i));
        roundtrip(&mut c, format!("port {}", px.ports[i]).as_bytes());
    }
    px.stop();
}

/// A listening socket made here, inherited by pollux as `fd@N`.
fn inherited_listener() -> TcpListener {
    // Port 0: the kernel picks, we keep the socket; no race.
    TcpListener::bind("127.0.0.1:0").expect("bind")
}

fn fd_bind_uses_inherited_listener(poller: &str) {
    let echo = TestServer::echo();
    let l = inherited_listener();
    let fd = l.as_raw_fd();
    let cfg = format!(
        "{}\nfrontend fe\n    bind fd@{fd}\n    default_backend be\nbackend be\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    );
    let px = Pollux::launch(poller).inherit_fd(&l).start(&cfg);
    // Connections queue on the inherited socket even before pollux accepts.
    let mut c = connect(l.local_addr().unwrap());
    roundtrip(&mut c, b"through an inherited listener");
    px.stop();
    drop(l);
}

fn fd_bind_from_environment_variable(poller: &str) {
    let echo = TestServer::echo();
    let l = inherited_listener();
    let fd = l.as_raw_fd();
    let cfg = format!(
        "{}\nfrontend fe\n    bind \"fd@${{LISTEN_FD}}\"\n    default_backend be\nbackend be\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    );
    let px = Pollux::launch(poller)
        .inherit_fd(&l)
        .env("LISTEN_FD", &fd.to_string())
        .start(&cfg);
    let mut c = connect(l.local_addr().unwrap());
    roundtrip(&mut c, b"fd number from the environment");
    px.stop();
    drop(l);
}
