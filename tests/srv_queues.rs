//! Server limits and queues (HAProxy semantics): `maxconn`, `timeout queue`,
//! `maxqueue`, `minconn`/`fullconn`, `option abortonclose`, `retries` +
//! `option redispatch` in HTTP mode. The recording server counts how many
//! requests it processes at once.

mod common;

use common::*;
use std::thread;
use std::time::Duration;

fn cfg(lines: &[&str], servers: &[(&LiveServer, &str)]) -> String {
    let mut c = format!(
        "global\n    maxconn 1000\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n",
        http_defaults()
    );
    for l in lines {
        c.push_str(&format!("    {l}\n"));
    }
    for (s, opts) in servers {
        c.push_str(&format!("    server {} {} {opts}\n", s.name(), s.addr()));
    }
    c
}

/// `n` clients at once, each one request to `path` on its own connection.
fn parallel(addr: std::net::SocketAddr, n: usize, path: &str) -> Vec<Got> {
    let hs: Vec<_> = (0..n)
        .map(|_| {
            let p = path.to_string();
            thread::spawn(move || try_get(addr, &p, &[]))
        })
        .collect();
    hs.into_iter().map(|h| h.join().expect("client")).collect()
}

fn statuses_of(got: &[Got]) -> (usize, usize, Vec<&Got>) {
    let ok = got.iter().filter(|g| matches!(g, Ok((200, _)))).count();
    let e503 = got.iter().filter(|g| matches!(g, Ok((503, _)))).count();
    let other = got
        .iter()
        .filter(|g| !matches!(g, Ok((200 | 503, _))))
        .collect();
    (ok, e503, other)
}

per_poller!(
    maxconn_2_with_20_clients_never_more_than_2_at_once_and_all_served,
    timeout_queue_gives_503_to_requests_waiting_too_long,
    maxqueue_overflow_gets_503,
    minconn_is_the_limit_at_low_load_and_fullconn_scales_it,
    abortonclose_drops_a_queued_request_whose_client_left,
    retries_and_redispatch_send_requests_to_a_live_server,
);

fn maxconn_2_with_20_clients_never_more_than_2_at_once_and_all_served(poller: &str) {
    let s = LiveServer::start("s");
    let px = Pollux::start(poller, &cfg(&["timeout queue 20s"], &[(&s, "maxconn 2")]));
    let got = parallel(px.addr(0), 20, "/sleep/150");
    let (ok, _, _) = statuses_of(&got);
    assert_eq!(ok, 20, "{got:?}");
    assert_eq!(s.count(), 20);
    assert_eq!(s.peak(), 2, "the server held {} requests at once", s.peak());
    px.stop();
}

/// maxconn 1, `timeout queue 300ms`, 5 clients on a 1 s response: one is
/// served, the 4 queued ones get 503 and never reach the server.
fn timeout_queue_gives_503_to_requests_waiting_too_long(poller: &str) {
    let s = LiveServer::start("s");
    let px = Pollux::start(poller, &cfg(&["timeout queue 300ms"], &[(&s, "maxconn 1")]));
    let got = parallel(px.addr(0), 5, "/sleep/1000");
    let (ok, e503, other) = statuses_of(&got);
    assert_eq!((ok, e503), (1, 4), "{got:?} {other:?}");
    assert_eq!(s.count(), 1);
    px.stop();
}

/// maxqueue applies to requests bound to a server (here by cookie; requests
/// the algorithm places wait in the backend queue instead, as in HAProxy):
/// a maxconn 1 maxqueue 2, 6 clients with `SRV=a` at once: 1 served + 2 queued,
/// the 3 beyond get 503, or go to b with `option redispatch`.
fn maxqueue_overflow_gets_503(poller: &str) {
    for redispatch in [false, true] {
        let a = LiveServer::start("a");
        let b = LiveServer::start("b");
        let mut lines = vec!["timeout queue 20s", "cookie SRV insert indirect"];
        if redispatch {
            lines.push("option redispatch");
        }
        let px = Pollux::start(
            poller,
            &cfg(
                &lines,
                &[(&a, "cookie a maxconn 1 maxqueue 2"), (&b, "cookie b")],
            ),
        );
        let addr = px.addr(0);
        let hs: Vec<_> = (0..6)
            .map(|_| thread::spawn(move || try_get(addr, "/sleep/400", &["Cookie: SRV=a"])))
            .collect();
        let got: Vec<Got> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        let (ok, e503, other) = statuses_of(&got);
        assert_eq!(a.peak(), 1);
        assert_eq!(a.count(), 3, "{got:?}");
        if redispatch {
            assert_eq!((ok, b.count()), (6, 3), "{got:?} {other:?}");
        } else {
            assert_eq!((ok, e503), (3, 3), "{got:?} {other:?}");
        }
        px.stop();
    }
}

/// Dynamic limit = max(minconn, maxconn x backend load / fullconn): with 8
/// clients and fullconn 100 it is minconn (2); with fullconn 8 it grows.
fn minconn_is_the_limit_at_low_load_and_fullconn_scales_it(poller: &str) {
    let s = LiveServer::start("s");
    let px = Pollux::start(
        poller,
        &cfg(
            &["fullconn 100", "timeout queue 20s"],
            &[(&s, "minconn 2 maxconn 10")],
        ),
    );
    let (ok, _, _) = statuses_of(&parallel(px.addr(0), 8, "/sleep/200"));
    assert_eq!(ok, 8);
    assert_eq!(s.peak(), 2, "low load: the limit is minconn");
    px.stop();

    s.reset_counts();
    let px = Pollux::start(
        poller,
        &cfg(
            &["fullconn 8", "timeout queue 20s"],
            &[(&s, "minconn 2 maxconn 10")],
        ),
    );
    let (ok, _, _) = statuses_of(&parallel(px.addr(0), 8, "/sleep/300"));
    assert_eq!(ok, 8);
    assert!(
        (4..=8).contains(&s.peak()),
        "full load: the limit grows towards maxconn: peak {}",
        s.peak()
    );
    px.stop();
}

/// maxconn 1: a request queued behind a slow one, whose client closes, is
/// dropped with `option abortonclose` and forwarded without it (HAProxy: a
/// client's close may be a half-close).
fn abortonclose_drops_a_queued_request_whose_client_left(poller: &str) {
    for abort in [true, false] {
        let s = LiveServer::start("s");
        let opt = if abort {
            "option abortonclose"
        } else {
            "timeout queue 20s"
        };
        let px = Pollux::start(
            poller,
            &cfg(&[opt, "timeout queue 20s"], &[(&s, "maxconn 1")]),
        );
        let addr = px.addr(0);
        let first = thread::spawn(move || try_get(addr, "/sleep/800", &[]));
        assert!(
            eventually(PATIENCE, || s.inflight() == 1),
            "first request never reached the server"
        );
        let mut c = HttpConn::open(addr);
        c.send(&request_bytes("GET", "/queued", &[], b""));
        thread::sleep(Duration::from_millis(100));
        drop(c);
        assert!(matches!(first.join().unwrap(), Ok((200, _))));
        thread::sleep(Duration::from_millis(600));
        let n = s.count_target("/queued");
        if abort {
            assert_eq!(
                n, 0,
                "abortonclose: the abandoned queued request reached the server"
            );
        } else {
            assert_eq!(
                n, 1,
                "without abortonclose the queued request is still forwarded"
            );
        }
        px.stop();
    }
}

/// A dead server in the farm, no health check: with `retries 2` and `option
/// redispatch`, every request ends on the live one (without redispatch some get 503).
fn retries_and_redispatch_send_requests_to_a_live_server(poller: &str) {
    let live = LiveServer::start("live");
    let mut dead = LiveServer::start("dead");
    dead.stop();
    for redispatch in [true, false] {
        let mut lines = vec!["balance roundrobin", "retries 2", "timeout connect 300ms"];
        if redispatch {
            lines.push("option redispatch");
        }
        let px = Pollux::start(poller, &cfg(&lines, &[(&dead, ""), (&live, "")]));
        let got: Vec<Got> = (0..10).map(|_| try_get(px.addr(0), "/", &[])).collect();
        let (ok, e503, _) = statuses_of(&got);
        if redispatch {
            assert_eq!(ok, 10, "{got:?}");
        } else {
            assert!(
                e503 >= 3,
                "without redispatch, requests for the dead server get 503: {got:?}"
            );
        }
        px.stop();
    }
}
