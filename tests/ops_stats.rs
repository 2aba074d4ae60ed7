//! The statistics page (`stats enable|uri|auth|admin...`), its CSV/JSON
//! exports, the admin form, and `http-request use-service
//! prometheus-exporter`, seen from outside through real HTTP: counters are
//! checked against the traffic the test itself sent.

mod common;

use common::*;
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `admin:s3cret`, base64.
const AUTH: &str = "Authorization: Basic YWRtaW46czNjcmV0";

/// Frontend `fe` on @P0@ to backend `be` (servers a and b with cookies,
/// `opts` on each); a stats listen on @P1@ (auth, admin from 127.0.0.1,
/// Prometheus on /metrics) and a read-only one on @P2@.
fn cfg(a: &LiveServer, b: &LiveServer, be_lines: &str, opts: &str) -> String {
    format!(
        "global\n    maxconn 1000\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\n\
         backend be\n    balance roundrobin\n    cookie SRV insert indirect nocache\n{be_lines}\
         \n    server a {} cookie a {opts}\n    server b {} cookie b {opts}\n\n\
         listen stats\n    bind 127.0.0.1:@P1@\n    stats enable\n    stats uri /st\n    stats realm Ops\\ area\n\
         \n    stats auth admin:s3cret\n    stats admin if {{ src 127.0.0.1 }}\n    stats refresh 5s\n\
         \n    http-request use-service prometheus-exporter if {{ path /metrics }}\n\n\
         listen stats_ro\n    bind 127.0.0.1:@P2@\n    stats uri /st\n    stats hide-version\n",
        http_defaults(),
        a.addr(),
        b.addr()
    )
}

fn get(addr: std::net::SocketAddr, path: &str, headers: &[&str]) -> Response {
    let mut h = headers.to_vec();
    h.push("Connection: close");
    HttpConn::open(addr).get(path, &h)
}

/// The CSV export as rows keyed by "pxname/svname", plus its header line.
fn csv(px: &Pollux, path: &str) -> (String, CsvRows) {
    let r = get(px.addr(1), path, &[AUTH]);
    assert_eq!(r.status, 200, "{r}");
    parse_csv(&r.text())
}

/// POST the admin form of `addr`'s stats page; the Location it redirects to.
fn post_form(addr: std::net::SocketAddr, body: &str) -> String {
    let mut c = HttpConn::open(addr);
    c.send(&request_bytes(
        "POST",
        "/st",
        &[
            AUTH,
            "Content-Type: application/x-www-form-urlencoded",
            "Connection: close",
        ],
        body.as_bytes(),
    ));
    let r = c.response_to("POST");
    assert_eq!(r.status, 303, "{r}");
    r.header("location").unwrap_or("").to_string()
}

const REFERENCE_HEADER: &str = include_str!("reference/haproxy-2.6-show-stat-header.csv");

per_poller!(
    stats_page_requires_the_configured_credentials,
    csv_counters_follow_real_traffic,
    a_stopped_server_goes_down_through_transitions,
    admin_form_sets_a_server_to_maint_and_traffic_stops,
    drain_keeps_persistent_clients_only,
    maint_sends_requests_queued_for_the_server_elsewhere,
    prometheus_output_parses_and_agrees_with_the_csv,
    chromium_renders_the_stats_page,
    scope_shows_the_proxies_whose_name_contains_it,
    show_node_and_show_desc_name_the_page,
);

/// `stats show-node NAME` and `stats show-desc TEXT` show on the page;
/// `show-node` alone shows the process's node name.
fn show_node_and_show_desc_name_the_page(poller: &str) {
    let px = Pollux::start(
        poller,
        &format!(
            "{}listen st\n    bind 127.0.0.1:@P0@\n    stats uri /st\n    stats show-node edge-7\n    stats show-desc \"front <door>\"\n\
             listen plain\n    bind 127.0.0.1:@P1@\n    stats uri /st\n    stats show-node\n",
            http_defaults()
        ),
    );
    let page = get(px.addr(0), "/st", &[]).text();
    assert!(page.contains("<b>node</b> = edge-7"), "{page}");
    assert!(page.contains("front &lt;door&gt;"), "{page}");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let page = get(px.addr(1), "/st", &[]).text();
    assert!(
        page.contains(&format!("<b>node</b> = {}", host.trim())),
        "{page}"
    );
    px.stop();
}

/// `scope=TEXT` in the stats URI (`;csv;scope=b1`, the page's `?scope=`
/// form) shows only the proxies whose name contains TEXT, ignoring case;
/// `stats scope NAME|.` only the sections listed. Pollux and HAProxy 2.6
/// answer the same (reg-tests/webstats/webstats-scope-and-post-change.vtc).
fn scope_shows_the_proxies_whose_name_contains_it(poller: &str) {
    let dead = dead_addr();
    let template = format!(
        "{}frontend fe1\n    bind 127.0.0.1:@P0@\n    stats enable\n    stats uri /\n    stats admin if TRUE\n\
         backend b1\n    server srv1 {dead}\n    server srv2 {dead}\n\
         backend b2\n    server srv1 {dead}\n\
         listen st2\n    bind 127.0.0.1:@P1@\n    stats uri /\n    stats scope .\n    stats scope b2\n",
        http_defaults()
    );
    let all = ["b1", "b2", "fe1", "st2"];
    for im in pollux_and_haproxy(poller) {
        let px = im.start(&template);
        let shown = |port: usize, path: &str| {
            let r = get(px.addr(port), path, &[]);
            assert_eq!(r.status, 200, "{}: {path}: {r}", im.name);
            let mut names: Vec<String> = r
                .text()
                .lines()
                .skip(1)
                .filter_map(|l| l.split(',').next().map(str::to_string))
                .collect();
            names.sort();
            names.dedup();
            names
        };
        for (path, want) in [
            ("/?;csv;scope=b1", &["b1"][..]),
            ("/;csv;scope=B1", &["b1"]),
            ("/;csv;scope=b;up", &["b1", "b2"]),
            ("/;csv;scope=zz", &[]),
            // Ignored: a bad character, or one byte at the very end.
            ("/;csv;scope=a%20", &all),
            ("/;csv;scope=b", &all),
            ("/;csv", &all),
        ] {
            assert_eq!(shown(0, path), want, "{}: {path}", im.name);
        }
        assert_eq!(shown(1, "/;csv"), ["b2", "st2"], "{}: stats scope", im.name);
        assert_eq!(
            shown(1, "/;csv;scope=st"),
            ["st2"],
            "{}: stats scope",
            im.name
        );
        let html = get(px.addr(0), "/?scope=b2", &[]).text();
        assert!(
            html.contains(">b2<") && !html.contains(">b1<"),
            "{}: {html}",
            im.name
        );
        // The admin form's redirect keeps the view.
        let mut c = HttpConn::open(px.addr(0));
        c.send(&request_bytes(
            "POST",
            "/;up?scope=b2",
            &[
                "Content-Type: application/x-www-form-urlencoded",
                "Connection: close",
            ],
            b"s=srv1&action=maint&b=b2",
        ));
        let r = c.response_to("POST");
        assert_eq!(r.status, 303, "{}: {r}", im.name);
        assert_eq!(
            r.header("location"),
            Some("/;st=DONE;up?scope=b2"),
            "{}",
            im.name
        );
        px.stop();
    }
}

fn stats_page_requires_the_configured_credentials(poller: &str) {
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &cfg(&a, &b, "", ""));
    let r = get(px.addr(1), "/st", &[]);
    assert_eq!(r.status, 401, "{r}");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"Ops area\"")
    );
    // admin:wrong
    let r = get(
        px.addr(1),
        "/st",
        &["Authorization: Basic YWRtaW46d3Jvbmc="],
    );
    assert_eq!(r.status, 401, "{r}");
    let r = get(px.addr(1), "/st", &[AUTH]);
    assert_eq!(r.status, 200, "{r}");
    let html = r.text();
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    for needle in [
        "<table class=\"px\" id=\"fe\">",
        "<table class=\"px\" id=\"be\">",
        "<td class=\"name\">a</td>",
        "<td class=\"name\">b</td>",
        "http-equiv=\"refresh\" content=\"5\"",
        "<form method=\"post\" action=\"/st\">",
        env!("CARGO_PKG_VERSION"),
    ] {
        assert!(html.contains(needle), "page lacks {needle:?}:\n{html}");
    }
    // Other URIs of the stats listen are not the stats page.
    let r = get(px.addr(1), "/elsewhere", &[AUTH]);
    assert_eq!(r.status, 503, "no server in the stats listen: {r}");
    // The read-only page: no auth, no form, no version.
    let r = get(px.addr(2), "/st", &[]);
    assert_eq!(r.status, 200, "{r}");
    assert!(!r.text().contains("<form method=\"post\""), "{r}");
    assert!(!r.text().contains(env!("CARGO_PKG_VERSION")), "{r}");
    px.stop();
}

fn csv_counters_follow_real_traffic(poller: &str) {
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &cfg(&a, &b, "", ""));
    let (mut sent, mut bodies, mut fives) = (0u64, 0u64, 0u64);
    for i in 0..12 {
        if i == 6 {
            a.set(|x| x.status = 500);
        }
        let req = request_bytes("GET", &format!("/n{i}"), &["Connection: close"], b"");
        sent += req.len() as u64;
        let mut c = HttpConn::open(px.addr(0));
        c.send(&req);
        let r = c.response_to("GET");
        bodies += r.body.len;
        fives += u64::from(r.status == 500);
    }
    assert_eq!(fives, 3, "round robin: a answers 3 of the last 6");
    // Both suffix spellings give the CSV.
    let (header, rows) = csv(&px, "/st;csv");
    let (header2, _) = csv(&px, "/st?stats;csv");
    assert_eq!(format!("{header}\n"), REFERENCE_HEADER);
    assert_eq!(header2, header);
    assert_eq!(csv_num(&rows, "fe/FRONTEND", "stot"), 12);
    assert_eq!(csv_num(&rows, "fe/FRONTEND", "req_tot"), 12);
    assert_eq!(csv_num(&rows, "fe/FRONTEND", "bin"), sent);
    assert!(
        csv_num(&rows, "fe/FRONTEND", "bout") > bodies,
        "heads count too"
    );
    assert_eq!(csv_num(&rows, "fe/FRONTEND", "hrsp_5xx"), 3);
    assert_eq!(csv_num(&rows, "fe/FRONTEND", "hrsp_2xx"), 9);
    assert_eq!(csv_num(&rows, "be/BACKEND", "stot"), 12);
    assert_eq!(csv_num(&rows, "be/BACKEND", "hrsp_5xx"), 3);
    assert_eq!(csv_num(&rows, "be/BACKEND", "bin"), sent);
    assert_eq!(csv_num(&rows, "be/a", "stot"), 6);
    assert_eq!(csv_num(&rows, "be/b", "stot"), 6);
    assert_eq!(csv_num(&rows, "be/a", "hrsp_5xx"), 3);
    assert_eq!(csv_num(&rows, "be/b", "hrsp_5xx"), 0);
    assert_eq!(
        csv_num(&rows, "be/a", "bin") + csv_num(&rows, "be/b", "bin"),
        sent,
        "every request byte is charged to the server that got it"
    );
    assert_eq!(csv_field(&rows, "fe/FRONTEND", "status"), "OPEN");
    assert_eq!(csv_field(&rows, "be/a", "status"), "no check");
    assert_eq!(csv_field(&rows, "be/BACKEND", "status"), "UP");
    assert_eq!(csv_field(&rows, "be/BACKEND", "algo"), "roundrobin");
    assert_eq!(csv_field(&rows, "be/a", "addr"), a.addr().to_string());
    assert_eq!(csv_field(&rows, "be/a", "type"), "2");
    // Columns pollux has no data for stay empty.
    assert_eq!(csv_field(&rows, "be/a", "throttle"), "");
    // HAProxy's ssl module counts on every server, TLS or not.
    assert_eq!(csv_field(&rows, "be/a", "ssl_sess"), "0");
    // The JSON export holds the same counters.
    let j = get(px.addr(1), "/st;json", &[AUTH]);
    assert_eq!(j.header("content-type"), Some("application/json"));
    assert!(j.text().contains(
        "\"objType\":\"Frontend\",\"proxyId\":1,\"id\":0,\"field\":{\"pos\":7,\"name\":\"stot\"}"
    ));
    assert!(j
        .text()
        .contains("\"value\":{\"type\":\"u64\",\"value\":12}"));
    px.stop();
}

fn a_stopped_server_goes_down_through_transitions(poller: &str) {
    let (mut a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(
        poller,
        &cfg(
            &a,
            &b,
            "    option httpchk GET /health\n    default-server inter 500ms fall 3 rise 2",
            "check",
        ),
    );
    let status = |px: &Pollux| csv_field(&csv(px, "/st;csv").1, "be/a", "status");
    assert!(
        eventually(PATIENCE, || status(&px) == "UP"),
        "{}",
        status(&px)
    );
    a.stop();
    let mut seen = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let s = status(&px);
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "DOWN" {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(seen.last().map(String::as_str), Some("DOWN"), "{seen:?}");
    assert!(
        seen.iter().any(|s| s == "UP 2/3" || s == "UP 1/3"),
        "a transition 'UP n/3' shows on the way down: {seen:?}"
    );
    let (_, rows) = csv(&px, "/st;csv");
    assert_eq!(csv_num(&rows, "be/a", "chkdown"), 1);
    assert!(csv_num(&rows, "be/a", "chkfail") >= 3);
    assert_eq!(csv_field(&rows, "be/a", "check_status"), "L4CON");
    assert_eq!(csv_field(&rows, "be/a", "check_rise"), "2");
    assert_eq!(csv_field(&rows, "be/a", "check_fall"), "3");
    assert_eq!(csv_field(&rows, "be/b", "check_status"), "L7OK");
    assert_eq!(csv_field(&rows, "be/b", "check_code"), "200");
    assert_eq!(csv_num(&rows, "be/BACKEND", "act"), 1);
    let html = get(px.addr(1), "/st", &[AUTH]).text();
    assert!(html.contains("<tr class=\"active_down\">"), "{html}");
    a.restart();
    let mut seen = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let s = status(&px);
        if seen.last() != Some(&s) {
            seen.push(s.clone());
        }
        if s == "UP" {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(seen.last().map(String::as_str), Some("UP"), "{seen:?}");
    assert!(
        seen.iter().any(|s| s == "DOWN 1/2"),
        "'DOWN 1/2' shows on the way up: {seen:?}"
    );
    let (_, rows) = csv(&px, "/st;csv");
    assert!(csv_num(&rows, "be/a", "downtime") <= 60);
    px.stop();
}

fn admin_form_sets_a_server_to_maint_and_traffic_stops(poller: &str) {
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &cfg(&a, &b, "", ""));
    // The read-only page refuses the form.
    let loc = post_form(px.addr(2), "s=a&action=maint&b=be");
    assert_eq!(loc, "/st;st=DENY");
    assert_eq!(
        csv_field(&csv(&px, "/st;csv").1, "be/a", "status"),
        "no check"
    );
    let loc = post_form(px.addr(1), "s=a&action=maint&b=be");
    assert_eq!(loc, "/st;st=DONE");
    let page = get(px.addr(1), &loc, &[AUTH]).text();
    assert!(page.contains("Action processed successfully."), "{page}");
    assert!(page.contains("<tr class=\"maintain\">"), "{page}");
    assert_eq!(csv_field(&csv(&px, "/st;csv").1, "be/a", "status"), "MAINT");
    let before = a.count();
    let d = spread(px.addr(0), 20, 2, |i| format!("/m{i}"));
    assert_eq!(d.get("b"), Some(&20), "{d:?}");
    assert_eq!(a.count(), before, "a in MAINT gets nothing");
    // A cookie for a does not help in MAINT.
    for _ in 0..4 {
        assert_eq!(get_ok(px.addr(0), "/c", &["Cookie: SRV=a"]), "b");
    }
    // Unknown things are reported, not applied.
    assert_eq!(
        post_form(px.addr(1), "s=zz&action=ready&b=be"),
        "/st;st=ERRP"
    );
    assert_eq!(
        post_form(px.addr(1), "s=a&action=explode&b=be"),
        "/st;st=ERRP"
    );
    assert_eq!(post_form(px.addr(1), "action=ready&b=be"), "/st;st=NONE");
    assert_eq!(
        post_form(px.addr(1), "s=a&action=ready&b=be"),
        "/st;st=DONE"
    );
    let d = spread(px.addr(0), 20, 2, |i| format!("/r{i}"));
    assert_eq!(d.get("a"), Some(&10), "READY again: {d:?}");
    px.stop();
}

fn drain_keeps_persistent_clients_only(poller: &str) {
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &cfg(&a, &b, "", ""));
    assert_eq!(
        post_form(px.addr(1), "s=a&action=drain&b=be"),
        "/st;st=DONE"
    );
    let (_, rows) = csv(&px, "/st;csv");
    assert_eq!(csv_field(&rows, "be/a", "status"), "DRAIN");
    assert_eq!(csv_field(&rows, "be/a", "weight"), "0");
    assert_eq!(csv_field(&rows, "be/a", "uweight"), "1");
    for i in 0..10 {
        assert_eq!(
            get_ok(px.addr(0), &format!("/p{i}"), &["Cookie: SRV=a"]),
            "a"
        );
        assert_eq!(get_ok(px.addr(0), &format!("/n{i}"), &[]), "b");
    }
    let html = get(px.addr(1), "/st", &[AUTH]).text();
    assert!(html.contains("<tr class=\"active_draining\">"), "{html}");
    px.stop();
}

/// A request bound to `a` by its cookie waits in a's queue (maxconn 1,
/// busy); MAINT on `a` sends it to `b` at once.
fn maint_sends_requests_queued_for_the_server_elsewhere(poller: &str) {
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &cfg(&a, &b, "", "maxconn 1"));
    let addr = px.addr(0);
    let busy = std::thread::spawn(move || try_get(addr, "/sleep/3000", &["Cookie: SRV=a"]));
    assert!(eventually(PATIENCE, || a.inflight() == 1));
    let waiting = std::thread::spawn(move || try_get(addr, "/q", &["Cookie: SRV=a"]));
    assert!(
        eventually(PATIENCE, || csv_num(&csv(&px, "/st;csv").1, "be/a", "qcur")
            == 1),
        "the second request waits in a's queue"
    );
    assert_eq!(csv_num(&csv(&px, "/st;csv").1, "be/BACKEND", "qmax"), 1);
    assert_eq!(
        post_form(px.addr(1), "s=a&action=maint&b=be"),
        "/st;st=DONE"
    );
    let got = waiting.join().expect("client");
    assert_eq!(got, Ok((200, "b".to_string())));
    assert_eq!(a.inflight(), 1, "answered while a is still busy");
    assert_eq!(busy.join().expect("client"), Ok((200, "a".to_string())));
    px.stop();
}

fn prometheus_output_parses_and_agrees_with_the_csv(poller: &str) {
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &cfg(&a, &b, "", ""));
    for i in 0..5 {
        get_ok(px.addr(0), &format!("/x{i}"), &[]);
    }
    let r = get(px.addr(1), "/metrics", &[]);
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    let (_, rows) = csv(&px, "/st;csv");
    let text = r.text();
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut samples: HashMap<String, f64> = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("TYPE name type");
            assert!(ty == "gauge" || ty == "counter", "{line}");
            assert!(
                typed.insert(name.into(), ty.into()).is_none(),
                "TYPE twice: {line}"
            );
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("series value");
        let name = series.split('{').next().unwrap();
        assert!(typed.contains_key(name), "sample before its TYPE: {line}");
        assert!(name.starts_with("haproxy_"), "{line}");
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        samples.insert(series.to_string(), v);
    }
    let s = |k: &str| *samples.get(k).unwrap_or_else(|| panic!("no sample {k}"));
    assert_eq!(
        s("haproxy_frontend_sessions_total{proxy=\"fe\"}") as u64,
        csv_num(&rows, "fe/FRONTEND", "stot")
    );
    assert_eq!(s("haproxy_frontend_sessions_total{proxy=\"fe\"}"), 5.0);
    assert_eq!(
        s("haproxy_frontend_bytes_in_total{proxy=\"fe\"}") as u64,
        csv_num(&rows, "fe/FRONTEND", "bin")
    );
    assert_eq!(
        s("haproxy_server_sessions_total{proxy=\"be\",server=\"a\"}") as u64,
        csv_num(&rows, "be/a", "stot")
    );
    assert_eq!(
        s("haproxy_backend_http_responses_total{proxy=\"be\",code=\"2xx\"}"),
        5.0
    );
    assert_eq!(
        s("haproxy_server_status{proxy=\"be\",server=\"a\",state=\"UP\"}"),
        1.0
    );
    assert_eq!(
        s("haproxy_server_status{proxy=\"be\",server=\"a\",state=\"MAINT\"}"),
        0.0
    );
    assert_eq!(s("haproxy_backend_active_servers{proxy=\"be\"}"), 2.0);
    assert_eq!(typed["haproxy_frontend_current_sessions"], "gauge");
    assert_eq!(typed["haproxy_backend_bytes_out_total"], "counter");
    px.stop();
}

/// Debian's chromium loads the page headless; its DOM is checked. CI
/// installs chromium (.ci/run), so there a missing browser is a failure.
fn chromium_renders_the_stats_page(poller: &str) {
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is missing in CI (.ci/run installs it)"
        );
        eprintln!("\n*** SKIP chromium_renders_the_stats_page: chromium is not installed ***\n");
        return;
    };
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &cfg(&a, &b, "", ""));
    get_ok(px.addr(0), "/", &[]);
    let dir = TestDir::new("chromium");
    let url = format!("http://admin:s3cret@{}/st", px.addr(1));
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<table class=\"px\" id=\"be\">"),
        "chromium's DOM of {url}:\n{dom}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "<td class=\"name\">a</td>",
        "<td class=\"name\">b</td>",
        "Set state to MAINT",
        "CSV export",
    ] {
        assert!(dom.contains(needle), "DOM lacks {needle:?}:\n{dom}");
    }
    let _ = std::io::stderr().flush();
    px.stop();
}

/// The CSV header is HAProxy 2.6's, verbatim: compared with what Debian's
/// haproxy prints on its own stats page (CI installs it).
#[test]
fn csv_header_is_the_one_haproxy_2_6_prints() {
    let bin = "/usr/sbin/haproxy";
    if !std::path::Path::new(bin).exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "haproxy is missing in CI (.ci/run installs it)"
        );
        eprintln!("\n*** SKIP csv_header_is_the_one_haproxy_2_6_prints: no {bin} ***\n");
        return;
    }
    let version = Command::new(bin).arg("-v").output().expect("haproxy -v");
    let version = String::from_utf8_lossy(&version.stdout).to_string();
    if !version.contains("version 2.6.") {
        eprintln!("\n*** SKIP csv header comparison: {bin} is not 2.6: {version} ***\n");
        return;
    }
    let dir = TestDir::new("haproxy-csv");
    let port = free_ports(1, false)[0];
    let path = dir.join("h.cfg");
    std::fs::write(
        &path,
        format!(
            "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\n\
             listen st\n    bind 127.0.0.1:{port}\n    stats uri /s\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(bin)
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start haproxy");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut body = String::new();
    let ok = eventually(PATIENCE, || match try_http(addr) {
        Some(b) => {
            body = b;
            true
        }
        None => false,
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "haproxy did not answer on {addr}");
    let header = body.lines().next().unwrap_or("");
    assert_eq!(format!("{header}\n"), REFERENCE_HEADER);
}

fn try_http(addr: std::net::SocketAddr) -> Option<String> {
    let s = std::net::TcpStream::connect(addr).ok()?;
    let mut c = HttpConn::from_stream(s);
    c.wire
        .s
        .write_all(&request_bytes("GET", "/s;csv", &["Connection: close"], b""))
        .ok()?;
    let r = c.try_response("GET").ok()?;
    (r.status == 200).then(|| r.text())
}
