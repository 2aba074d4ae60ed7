//! Persistence (HAProxy semantics): `cookie` insert/prefix with a real cookie
//! jar (curl -b/-c), `option persist`, `force-persist`, stick tables
//! (`stick on src`, learning the application's session cookie) and
//! `track-sc0` counters for rate limiting.

mod common;

use common::*;
use std::time::Duration;

fn cfg(lines: &[&str], servers: &[(&LiveServer, &str)]) -> String {
    let mut c = format!(
        "global\n    maxconn 1000\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    balance roundrobin\n",
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

fn url(px: &Pollux, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", px.ports[0])
}

per_poller!(
    cookie_insert_indirect_nocache_sticks_a_cookie_jar,
    cookie_client_of_a_down_server_moves_and_gets_a_new_cookie,
    option_persist_keeps_sending_to_a_down_server,
    force_persist_overrides_a_down_server,
    cookie_prefix_wraps_the_application_cookie,
    stick_on_src_keeps_a_source_on_its_server,
    stick_store_response_learns_the_application_session_cookie,
    track_sc0_http_req_rate_denies_the_11th_request,
    tcp_request_connection_track_sc_counts_the_connection,
);

fn cookie_insert_indirect_nocache_sticks_a_cookie_jar(poller: &str) {
    let a = LiveServer::start("a");
    let b = LiveServer::start("b");
    let px = Pollux::start(
        poller,
        &cfg(
            &["cookie SRV insert indirect nocache"],
            &[(&a, "cookie a"), (&b, "cookie b")],
        ),
    );
    let dir = TestDir::new("jar");
    let mut firsts = Vec::new();
    for j in 0..4 {
        let jar = dir.join(&format!("jar{j}"));
        // HAProxy adds `Cache-control: private` only to a response that would
        // otherwise be cacheable: the first one is.
        let r = curl_jar(&jar, &url(&px, "/cacheable"), &[]);
        assert_eq!(r.code, 200, "{r:?}");
        let srv = r.server();
        let sc = r.headers("set-cookie");
        assert!(
            sc.len() == 1 && sc[0].starts_with(&format!("SRV={srv}")),
            "first answer sets SRV={srv}: {r:?}"
        );
        assert!(
            r.headers("cache-control")
                .iter()
                .any(|v| v.contains("private")),
            "nocache: {r:?}"
        );
        for _ in 0..4 {
            let r = curl_jar(&jar, &url(&px, "/"), &[]);
            assert_eq!(
                (r.code, r.server()),
                (200, srv.clone()),
                "jar {j} moved: {r:?}"
            );
            assert!(
                r.headers("set-cookie").is_empty(),
                "cookie set again: {r:?}"
            );
        }
        firsts.push(srv);
    }
    assert!(
        firsts.contains(&"a".to_string()) && firsts.contains(&"b".to_string()),
        "{firsts:?}"
    );
    for s in a.seen().iter().chain(b.seen().iter()) {
        assert!(
            !s.header("cookie").unwrap_or("").contains("SRV="),
            "indirect: server saw {:?}",
            s.header("cookie")
        );
    }
    px.stop();
}

fn cookie_client_of_a_down_server_moves_and_gets_a_new_cookie(poller: &str) {
    let a = LiveServer::start("a");
    let b = LiveServer::start("b");
    let px = Pollux::start(
        poller,
        &cfg(
            &[
                "cookie SRV insert indirect nocache",
                "option httpchk GET /health",
                "default-server inter 100ms fall 2 rise 2",
            ],
            &[(&a, "cookie a check"), (&b, "cookie b check")],
        ),
    );
    let dir = TestDir::new("jar");
    let jar = dir.join("jar");
    let first = curl_jar(&jar, &url(&px, "/"), &[]).server();
    let (gone, other) = if first == "a" { (&a, "b") } else { (&b, "a") };
    gone.set(|b| b.health_status = 503);
    if let Err(e) = wait_consecutive(px.addr(0), "/", 10, Duration::from_secs(5), |s| s == other) {
        panic!("{first} never DOWN: {e}\n{}", px.logs());
    }
    let r = curl_jar(&jar, &url(&px, "/"), &[]);
    assert_eq!(r.server(), other, "{r:?}");
    assert!(
        r.headers("set-cookie")
            .iter()
            .any(|c| c.starts_with(&format!("SRV={other}"))),
        "new cookie: {r:?}"
    );
    let r = curl_jar(&jar, &url(&px, "/"), &[]);
    assert_eq!(r.server(), other, "sticks to the new server: {r:?}");
    px.stop();
}

/// a is DOWN by its health check but still answers: a client holding `SRV=a`
/// reaches a when `extra` makes it persist, b otherwise.
fn down_a_with_cookie(poller: &str, extra: &[&str], headers: &[&str]) -> String {
    let a = LiveServer::with("a", |b| b.health_status = 503);
    let b = LiveServer::start("b");
    let mut lines = vec![
        "cookie SRV insert indirect",
        "option httpchk GET /health",
        "default-server inter 100ms fall 2 rise 2",
    ];
    lines.extend_from_slice(extra);
    let px = Pollux::start(
        poller,
        &cfg(&lines, &[(&a, "cookie a check"), (&b, "cookie b check")]),
    );
    if let Err(e) = wait_consecutive(px.addr(0), "/", 10, Duration::from_secs(5), |s| s == "b") {
        panic!("a never DOWN: {e}\n{}", px.logs());
    }
    let mut h = vec!["Cookie: SRV=a"];
    h.extend_from_slice(headers);
    let got = get_ok(px.addr(0), "/", &h);
    px.stop();
    got
}

fn option_persist_keeps_sending_to_a_down_server(poller: &str) {
    assert_eq!(
        down_a_with_cookie(poller, &["option persist"], &[]),
        "a",
        "option persist"
    );
    assert_eq!(
        down_a_with_cookie(poller, &[], &[]),
        "b",
        "without option persist"
    );
}

fn force_persist_overrides_a_down_server(poller: &str) {
    let rule = "force-persist if { hdr(X-Force) -m found }";
    assert_eq!(
        down_a_with_cookie(poller, &[rule], &["X-Force: 1"]),
        "a",
        "force-persist matched"
    );
    assert_eq!(
        down_a_with_cookie(poller, &[rule], &[]),
        "b",
        "force-persist not matched"
    );
}

/// `cookie JSESSIONID prefix`: the application's `JSESSIONID=x` reaches the
/// client as `JSESSIONID=SRV~x` and goes back to the server as `x`.
fn cookie_prefix_wraps_the_application_cookie(poller: &str) {
    let a = LiveServer::start("a");
    let b = LiveServer::start("b");
    let px = Pollux::start(
        poller,
        &cfg(
            &["cookie JSESSIONID prefix"],
            &[(&a, "cookie a"), (&b, "cookie b")],
        ),
    );
    let dir = TestDir::new("jar");
    let jar = dir.join("jar");
    let r = curl_jar(&jar, &url(&px, "/setcookie/JSESSIONID=x123"), &[]);
    let srv = r.server();
    assert!(
        r.headers("set-cookie")
            .iter()
            .any(|c| c.starts_with(&format!("JSESSIONID={srv}~x123"))),
        "{r:?}"
    );
    for _ in 0..4 {
        let r = curl_jar(&jar, &url(&px, "/"), &[]);
        assert_eq!(r.server(), srv, "{r:?}");
        assert_eq!(
            r.headers("x-seen-cookie"),
            vec!["JSESSIONID=x123".to_string()],
            "{r:?}"
        );
    }
    px.stop();
}

fn stick_on_src_keeps_a_source_on_its_server(poller: &str) {
    let a = LiveServer::start("a");
    let b = LiveServer::start("b");
    let px = Pollux::start(
        poller,
        &cfg(
            &["stick-table type ip size 1m expire 30s", "stick on src"],
            &[(&a, ""), (&b, "")],
        ),
    );
    let first = get_ok(px.addr(0), "/", &[]);
    for _ in 0..20 {
        assert_eq!(get_ok(px.addr(0), "/", &[]), first, "source moved");
    }
    px.stop();
}

/// appsession-style: the server each session cookie was first set by is
/// learnt from the response and matched on later requests.
fn stick_store_response_learns_the_application_session_cookie(poller: &str) {
    let a = LiveServer::start("a");
    let b = LiveServer::start("b");
    let px = Pollux::start(
        poller,
        &cfg(
            &[
                "stick-table type string len 32 size 10k expire 30s",
                "stick store-response res.cook(JSESSIONID)",
                "stick match req.cook(JSESSIONID)",
            ],
            &[(&a, ""), (&b, "")],
        ),
    );
    let mut owners = Vec::new();
    for i in 0..6 {
        let owner = get_ok(px.addr(0), &format!("/setcookie/JSESSIONID=sess{i}"), &[]);
        for _ in 0..5 {
            let cookie = format!("Cookie: JSESSIONID=sess{i}");
            assert_eq!(
                get_ok(px.addr(0), "/", &[&cookie]),
                owner,
                "session sess{i} moved"
            );
        }
        owners.push(owner);
    }
    assert!(
        owners.iter().any(|o| o == "a") && owners.iter().any(|o| o == "b"),
        "{owners:?}"
    );
    px.stop();
}

fn track_sc0_http_req_rate_denies_the_11th_request(poller: &str) {
    let a = LiveServer::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            &[
                "stick-table type ip size 100k expire 30s store http_req_rate(10s)",
                "http-request track-sc0 src",
                "http-request deny if { sc0_http_req_rate gt 10 }",
            ],
            &[(&a, "")],
        ),
    );
    let got: Vec<u16> = (0..15)
        .map(|_| try_get(px.addr(0), "/", &[]).map(|g| g.0).unwrap_or(0))
        .collect();
    assert_eq!(&got[..10], &[200; 10], "{got:?}");
    assert_eq!(&got[10..], &[403; 5], "{got:?}");
    assert_eq!(a.count(), 10);
    px.stop();
}

/// `tcp-request connection track-sc0` tracks the connection in another
/// section's table: `sc0_conn_cur` sees it (1 while the connection lasts,
/// over its requests).
/// tests/stick_counters.rs compares the counters with HAProxy.
fn tcp_request_connection_track_sc_counts_the_connection(poller: &str) {
    let a = LiveServer::start("a");
    let c = cfg(
        &["stick-table type ip size 100k expire 30s store conn_cur"],
        &[(&a, "")],
    )
    .replace(
        "    default_backend be\n",
        "    tcp-request connection track-sc0 src table be\n    http-request deny deny_status 429 if { sc0_conn_cur gt 1 }\n    http-request return status 203 if { sc0_conn_cur eq 1 }\n    default_backend be\n",
    );
    let px = Launch::new(Some(poller)).start(&c);
    // One kept-alive connection: tracked once, for all its requests.
    let mut conn = HttpConn::open(px.addr(0));
    for _ in 0..3 {
        assert_eq!(conn.get("/", &[]).status, 203);
    }
}
