//! Content switching and answers pollux makes itself: `use_backend`,
//! `default_backend`, `redirect location|prefix|scheme`, `monitor-uri`,
//! `http-request return`.

mod common;

use common::*;

/// Frontend @P0@ with `rules`, backends "a" and "b" (recording), default "a".
fn start(poller: &str, rules: &str, a: &HttpBackend, b: &HttpBackend) -> Pollux {
    Pollux::start(
        poller,
        &format!(
            "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    {rules}\n    default_backend a\n\nbackend a\n    server a {}\n\nbackend b\n    server b {}\n",
            http_defaults(),
            a.addr(),
            b.addr()
        ),
    )
}

per_poller!(
    use_backend_switches_each_request_by_host_and_path,
    default_backend_takes_what_no_rule_matches,
    redirect_location_with_code,
    redirect_prefix_keeps_the_path,
    redirect_scheme_keeps_host_and_path,
    monitor_uri_is_answered_by_pollux_itself,
    http_request_return_with_string_and_content_type,
    http_request_return_with_file,
);

fn use_backend_switches_each_request_by_host_and_path(poller: &str) {
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = start(
        poller,
        "use_backend b if { hdr(host) -i b.example } || { path_beg /b/ }",
        &a,
        &b,
    );
    let mut c = HttpConn::open(px.addr(0));
    let seq: Vec<String> = [
        ("/x", "Host: a.example"),
        ("/x", "Host: B.example"),
        ("/b/1", "Host: a.example"),
        ("/y", "Host: a.example"),
    ]
    .iter()
    .map(|(p, h)| c.get(p, &[h]).server().to_string())
    .collect();
    assert_eq!(
        seq,
        ["a", "b", "b", "a"],
        "switched per request on one connection"
    );
    px.stop();
}

fn default_backend_takes_what_no_rule_matches(poller: &str) {
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = start(poller, "use_backend b if { path /only-b }", &a, &b);
    assert_eq!(http_get(px.addr(0), "/other", &[]).server(), "a");
    assert_eq!(http_get(px.addr(0), "/only-b", &[]).server(), "b");
    px.stop();
}

fn redirect_location_with_code(poller: &str) {
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = start(
        poller,
        "redirect location /new code 301 if { path /old }",
        &a,
        &b,
    );
    let r = http_get(px.addr(0), "/old", &[]);
    assert_eq!(r.status, 301, "{r}");
    assert_eq!(r.header("location"), Some("/new"));
    assert_eq!(http_get(px.addr(0), "/new", &[]).status, 200);
    assert_eq!(
        a.requests().len(),
        1,
        "the redirected request never reaches a server"
    );
    px.stop();
}

fn redirect_prefix_keeps_the_path(poller: &str) {
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = start(
        poller,
        "redirect prefix https://www.example.com if { hdr(host) example.com }",
        &a,
        &b,
    );
    let r = http_get(px.addr(0), "/p/q?x=1", &["Host: example.com"]);
    assert_eq!(r.status, 302, "default code 302: {r}");
    assert_eq!(
        r.header("location"),
        Some("https://www.example.com/p/q?x=1")
    );
    px.stop();
}

fn redirect_scheme_keeps_host_and_path(poller: &str) {
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = start(
        poller,
        "redirect scheme https code 308 if { path_beg /secure }",
        &a,
        &b,
    );
    let r = http_get(px.addr(0), "/secure/x", &["Host: shop.example"]);
    assert_eq!(r.status, 308, "{r}");
    assert_eq!(r.header("location"), Some("https://shop.example/secure/x"));
    px.stop();
}

fn monitor_uri_is_answered_by_pollux_itself(poller: &str) {
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    monitor-uri /health\n    default_backend dead\n\nbackend dead\n    server d {}\n",
            http_defaults(),
            dead_addr()
        ),
    );
    let r = http_get(px.addr(0), "/health", &[]);
    assert_eq!(r.status, 200, "{r}");
    assert_eq!(
        http_get(px.addr(0), "/other", &[]).status,
        503,
        "other paths go to the dead server"
    );
    px.stop();
}

fn http_request_return_with_string_and_content_type(poller: &str) {
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = start(
        poller,
        "http-request return status 201 content-type text/plain string \"made here\" if { path /r }",
        &a,
        &b,
    );
    let mut c = HttpConn::open(px.addr(0));
    let r = c.get("/r", &[]);
    assert_eq!(r.status, 201, "{r}");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.text(), "made here");
    assert_eq!(c.get("/s", &[]).server(), "a", "the connection goes on");
    assert_eq!(a.requests().len(), 1);
    px.stop();
}

fn http_request_return_with_file(poller: &str) {
    let dir = TestDir::new("return-file");
    let f = dir.write("page.html", "<p>from a file</p>\n");
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = start(
        poller,
        &format!(
            "http-request return status 200 content-type text/html file {}",
            f.display()
        ),
        &a,
        &b,
    );
    let r = http_get(px.addr(0), "/", &[]);
    assert_eq!(
        (r.status, r.text().as_str()),
        (200, "<p>from a file</p>\n"),
        "{r}"
    );
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(a.accepted(), 0);
    px.stop();
}
