//! Servers that refuse connections: `retries`, then `option redispatch`; the
//! client is closed only when every attempt failed.

mod common;

use common::*;
use std::io::Write;

per_poller!(
    backend_down_client_closed_after_retries,
    redispatch_sends_to_the_live_server,
    without_redispatch_clients_of_a_dead_server_are_closed,
);

fn backend_down_client_closed_after_retries(poller: &str) {
    let dead = dead_addr();
    let cfg = format!(
        "{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\nbackend be\n    retries 2\n    server dead {dead}\n",
        tcp_defaults()
    );
    let px = Pollux::start(poller, &cfg);
    for i in 0..3 {
        let mut c = connect(px.addr(0));
        let _ = c.write_all(b"anyone there?");
        assert_closed(
            &mut c,
            &format!("client {i} of a backend whose only server refuses"),
        );
    }
    px.stop();
}

fn redispatch_sends_to_the_live_server(poller: &str) {
    let dead = dead_addr();
    let live = TestServer::named("live");
    let cfg = format!(
        "{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\nbackend be\n    balance roundrobin\n    retries 2\n    option redispatch\n    server dead {dead}\n    server live {}\n",
        tcp_defaults(),
        live.addr()
    );
    let px = Pollux::start(poller, &cfg);
    // Round robin sends about half of these to the dead server first.
    for i in 0..10 {
        let (mut c, name) = which_server(px.addr(0));
        assert_eq!(name, "live", "connection {i}");
        roundtrip(&mut c, b"served despite a dead server");
    }
    assert_eq!(live.accepted(), 10);
    px.stop();
}

fn without_redispatch_clients_of_a_dead_server_are_closed(poller: &str) {
    // The control for the test above: the same backend without redispatch.
    let dead = dead_addr();
    let live = TestServer::named("live");
    let cfg = format!(
        "{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\nbackend be\n    balance roundrobin\n    retries 1\n    server dead {dead}\n    server live {}\n",
        tcp_defaults(),
        live.addr()
    );
    let px = Pollux::start(poller, &cfg);
    let (mut served, mut closed) = (0, 0);
    for _ in 0..10 {
        let mut c = connect(px.addr(0));
        match wait_outcome(&mut c, PATIENCE) {
            Outcome::Data(d) => {
                assert!(d.starts_with(b"live"), "{d:?}");
                served += 1;
            }
            Outcome::Closed => closed += 1,
            Outcome::Open => panic!("connection neither served nor closed after {PATIENCE:?}"),
        }
    }
    assert!(
        served > 0 && closed > 0,
        "served {served}, closed {closed}: round robin should alternate"
    );
    px.stop();
}
