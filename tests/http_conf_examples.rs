//! conf/: every example passes `pollux -c`; the demo alternates A and B; the
//! content-switching, header-rewrite and tls-not-ssh examples do what their
//! comments say (ports rewritten to free ones, servers to in-test ones).

mod common;

use common::*;
use std::io::Write;

/// The example's text, with `maxconn 1000` lowered to 200 (select(2)'s fd
/// limit: HAProxy's select poller refuses maxconn values that may exceed it).
fn conf(name: &str) -> String {
    std::fs::read_to_string(format!("{}/conf/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("conf/{name}: {e}"))
        .replace("maxconn 1000", "maxconn 200")
}

#[test]
fn every_conf_example_passes_the_check() {
    let dir = TestDir::new("conf-check");
    for name in [
        "tcp.cfg",
        "demo.cfg",
        "content-switching.cfg",
        "header-rewrite.cfg",
        "tls-not-ssh.cfg",
        "logging.cfg",
        "stats.cfg",
    ] {
        let path = format!("{}/conf/{name}", env!("CARGO_MANIFEST_DIR"));
        let out = run_pollux(&dir, &["-c", "-f", &path], &[]);
        assert_eq!(out.code(), Some(0), "pollux -c -f conf/{name}:\n{out}");
    }
}

per_poller!(
    demo_alternates_between_a_and_b,
    content_switching_example_routes_by_host_and_path,
    header_rewrite_example_rewrites_both_ways,
    tls_not_ssh_example_passes_tls_and_refuses_ssh,
    logging_example_sends_an_httplog_line_per_request,
    stats_example_serves_the_page_csv_and_metrics,
);

fn logging_example_sends_an_httplog_line_per_request(poller: &str) {
    let syslog = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    syslog.set_read_timeout(Some(PATIENCE)).unwrap();
    let port = syslog.local_addr().unwrap().port();
    let cfg = conf("logging.cfg")
        .replace("127.0.0.1:514", &format!("127.0.0.1:{port}"))
        .replace("127.0.0.1:8080", "127.0.0.1:@P0@")
        .replace("127.0.0.1:8081", "127.0.0.1:@P1@");
    let px = Pollux::start(poller, &cfg);
    let url = format!("http://{}/hello", px.addr(0));
    assert_eq!(curl(&[&url]).text(), "served by A\n");
    let mut buf = [0u8; 4096];
    let line = loop {
        let n = syslog.recv(&mut buf).expect("a log line");
        let line = String::from_utf8_lossy(&buf[..n]).to_string();
        if line.contains("GET /hello") {
            break line;
        }
    };
    assert!(line.starts_with("<134>"), "local0.info: {line}");
    assert!(line.contains(" web app/a "), "{line}");
    assert!(line.contains(" ---- "), "{line}");
    assert!(
        line.contains(&format!("{{{}}}", px.addr(0))),
        "captured Host: {line}"
    );
    px.stop();
}

fn stats_example_serves_the_page_csv_and_metrics(poller: &str) {
    let cfg = conf("stats.cfg")
        .replace("127.0.0.1:8080", "127.0.0.1:@P0@")
        .replace("127.0.0.1:8081", "127.0.0.1:@P1@")
        .replace("127.0.0.1:8082", "127.0.0.1:@P2@")
        .replace("127.0.0.1:8404", "127.0.0.1:@P3@")
        .replace("127.0.0.1:8083", "127.0.0.1:1");
    let px = Pollux::start(poller, &cfg);
    let front = format!("http://{}/", px.addr(0));
    for _ in 0..4 {
        assert!(curl(&[&front]).text().starts_with("served by"));
    }
    let page = format!("http://{}/stats", px.addr(3));
    assert!(curl(&[&page]).text().contains("401 Unauthorized"));
    let html = curl(&["-u", "admin:admin", &page]).text();
    assert!(
        html.contains("<table class=\"px\" id=\"servers\">"),
        "{html}"
    );
    let csv = curl(&["-u", "admin:admin", &format!("{page};csv")]).text();
    let demo = csv
        .lines()
        .find(|l| l.starts_with("demo,FRONTEND,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert_eq!(demo.split(',').nth(7), Some("4"), "stot: {demo}");
    let metrics = curl(&[&format!("http://{}/metrics", px.addr(3))]).text();
    assert!(
        metrics.contains("haproxy_frontend_sessions_total{proxy=\"demo\"} 4"),
        "{metrics}"
    );
    px.stop();
}

fn demo_alternates_between_a_and_b(poller: &str) {
    let cfg = conf("demo.cfg")
        .replace("127.0.0.1:8080", "127.0.0.1:@P0@")
        .replace("127.0.0.1:8081", "127.0.0.1:@P1@")
        .replace("127.0.0.1:8082", "127.0.0.1:@P2@");
    let px = Pollux::start(poller, &cfg);
    let url = format!("http://{}/", px.addr(0));
    let got: Vec<String> = (0..4).map(|_| curl(&[&url]).text()).collect();
    assert!(
        got[0] == "served by A\n" || got[0] == "served by B\n",
        "{got:?}"
    );
    for w in got.windows(2) {
        assert_ne!(w[0], w[1], "alternates: {got:?}");
    }
    px.stop();
}

fn content_switching_example_routes_by_host_and_path(poller: &str) {
    let (api, st, www) = (
        HttpBackend::start("api"),
        HttpBackend::start("static"),
        HttpBackend::start("www"),
    );
    let cfg = conf("content-switching.cfg")
        .replace("127.0.0.1:8080", "127.0.0.1:@P0@")
        .replace("127.0.0.1:8081", &api.addr().to_string())
        .replace("127.0.0.1:8082", &st.addr().to_string())
        .replace("127.0.0.1:8083", &www.addr().to_string());
    let px = Pollux::start(poller, &cfg);
    let mut c = HttpConn::open(px.addr(0));
    for (path, host, want) in [
        ("/", "API.example.com", "api"),
        ("/api/users", "www.example.com", "api"),
        ("/static/a.txt", "www.example.com", "static"),
        ("/app.js", "www.example.com", "static"),
        ("/", "www.example.com", "www"),
    ] {
        let r = c.get(path, &[&format!("Host: {host}")]);
        assert_eq!(r.server(), want, "{host}{path}");
    }
    px.stop();
}

fn header_rewrite_example_rewrites_both_ways(poller: &str) {
    let app = HttpBackend::start("app");
    let cfg = conf("header-rewrite.cfg")
        .replace("127.0.0.1:8080", "127.0.0.1:@P0@")
        .replace("127.0.0.1:8081", &app.addr().to_string());
    let px = Pollux::start(poller, &cfg);
    let r = http_get(
        px.addr(0),
        "/api/x",
        &["X-Debug: 1", "User-Agent: curl/8.1"],
    );
    assert_eq!(r.header("x-proxy"), Some("pollux"));
    assert_eq!(r.header("x-secret"), None);
    let req = app.last();
    assert_eq!(req.target(), "/v2/api/x");
    assert_eq!(req.header("x-client"), Some("127.0.0.1"));
    assert_eq!(req.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(req.header("x-debug"), None);
    assert_eq!(req.header("user-agent"), Some("curl-8.1"));
    px.stop();
}

fn tls_not_ssh_example_passes_tls_and_refuses_ssh(poller: &str) {
    let echo = TestServer::echo();
    let cfg = conf("tls-not-ssh.cfg")
        .replace("127.0.0.1:8443", "127.0.0.1:@P0@")
        .replace("127.0.0.1:9443", &echo.addr().to_string());
    let px = Pollux::start(poller, &cfg);
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/client_hello.py"
        ))
        .output()
        .expect("python3");
    let mut tls = connect(px.addr(0));
    roundtrip(&mut tls, &out.stdout);
    let mut ssh = connect(px.addr(0));
    ssh.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n").unwrap();
    assert_closed(&mut ssh, "SSH refused");
    assert_eq!(echo.accepted(), 1);
    px.stop();
}
