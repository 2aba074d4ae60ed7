//! `use_backend` in TCP frontends: decided at accept when there are no
//! `tcp-request content` rules (conditions on addresses, a log-format
//! name), after them when there are (on the bytes received). Named servers
//! say where each connection landed.

mod common;

use common::*;

fn switching_at_accept_and_after_inspection(poller: &str) {
    let (one, two, three) = (
        TestServer::named("one"),
        TestServer::named("two"),
        TestServer::named("three"),
    );
    let conf = format!(
        "{}\nfrontend at_accept\n    bind 127.0.0.1:@P0@\n    bind 127.0.0.1:@P1@\n    bind 127.0.0.1:@P2@\n\
         \x20   use_backend two if {{ dst_port @P1@ }}\n\
         \x20   use_backend %[str(th),concat(ree)] if {{ dst_port @P2@ }}\n\
         \x20   default_backend one\n\
         frontend inspected\n    bind 127.0.0.1:@P3@\n    tcp-request inspect-delay 5s\n\
         \x20   tcp-request content accept if {{ req.len ge 4 }}\n\
         \x20   use_backend three if {{ req.payload(0,4) -m str PING }}\n\
         \x20   use_backend two if {{ req.payload(0,4) -m str PONG }}\n\
         frontend no_default\n    bind 127.0.0.1:@P4@\n    use_backend one if {{ src 127.0.0.1 }}\n\
         backend one\n    server s {}\nbackend two\n    server s {}\nbackend three\n    server s {}\n",
        tcp_defaults(),
        one.addr(),
        two.addr(),
        three.addr()
    );
    let px = Pollux::start(poller, &conf);
    for (i, want) in [(0, "one"), (1, "two"), (2, "three"), (4, "one")] {
        let (_, name) = which_server(px.addr(i));
        assert_eq!(name, want, "bind {i}");
    }
    for (first, want) in [(&b"PING"[..], "three"), (b"PONG", "two")] {
        let mut c = connect(px.addr(3));
        std::io::Write::write_all(&mut c, first).unwrap();
        assert_eq!(
            read_name(&mut c),
            want,
            "{}",
            String::from_utf8_lossy(first)
        );
    }
    // Neither rule matches and no default_backend: the connection closes.
    let mut c = connect(px.addr(3));
    std::io::Write::write_all(&mut c, b"NOPE").unwrap();
    assert_closed(&mut c, "no backend for NOPE");
    px.stop();
}

per_poller!(switching_at_accept_and_after_inspection);
