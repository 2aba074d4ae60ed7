//! HTTP error responses: 400 (and its log line), 403, 408 is in http_basic,
//! 500 (a rewrite that does not fit), 502 (invalid, missing or too big
//! response), 503 (no server), 504 (timeout server), and `errorfile`.

mod common;

use common::*;
use std::time::Duration;

fn cfg(global: &str, fe: &str, be_lines: &str) -> String {
    format!(
        "global\n    maxconn 200\n{global}\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n{fe}\n    default_backend be\n\nbackend be\n{be_lines}\n",
        http_defaults()
    )
}

fn server(be: &HttpBackend) -> String {
    format!("    server s1 {}", be.addr())
}

per_poller!(
    bad_request_gets_400_and_nothing_reaches_the_server,
    bad_request_is_logged,
    deny_gets_403,
    rewrite_that_does_not_fit_gets_500,
    server_closing_without_response_gets_502,
    invalid_response_gets_502,
    response_head_too_big_gets_502,
    request_head_too_big_gets_400,
    no_server_available_gets_503,
    timeout_server_before_the_response_gets_504,
    errorfile_replaces_the_503_response,
    errorfile_replaces_the_403_response,
);

fn bad_request_gets_400_and_nothing_reaches_the_server(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(poller, &cfg("", "", &server(&be)));
    let mut c = HttpConn::open(px.addr(0));
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n");
    let r = c.response_to("GET");
    assert_eq!(r.status, 400, "{r}");
    assert!(c.closed_within(PATIENCE), "closed after a 400");
    assert_eq!(be.accepted(), 0);
    // The process goes on.
    assert_eq!(http_get(px.addr(0), "/", &[]).status, 200);
    px.stop();
}

fn bad_request_is_logged(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(poller, &cfg("", "", &server(&be)));
    let mut c = HttpConn::open(px.addr(0));
    c.send(b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n");
    assert_eq!(c.response_to("GET").status, 400);
    // Without `log` in the config, pollux's own warning on stderr names it
    // (the syslog line, `CR--` with `<BADREQ>`, is checked in tests/logging.rs).
    assert!(
        eventually(PATIENCE, || (px.stdout() + &px.stderr())
            .lines()
            .any(|l| l.contains("invalid request") && l.contains("400"))),
        "no log line naming the invalid request and its 400:\n{}",
        px.logs()
    );
    px.stop();
}

fn deny_gets_403(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "",
            "    http-request deny if { path_beg /private }",
            &server(&be),
        ),
    );
    assert_eq!(http_get(px.addr(0), "/private/x", &[]).status, 403);
    assert_eq!(http_get(px.addr(0), "/public", &[]).status, 200);
    assert_eq!(be.requests().len(), 1);
    px.stop();
}

fn rewrite_that_does_not_fit_gets_500(poller: &str) {
    // The head (about 9 KiB) fits in bufsize - maxrewrite (15 KiB); copying its
    // 9,000-byte header into another one does not fit in the 16 KiB buffer.
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "    tune.bufsize 16384\n    tune.maxrewrite 1024",
            "    http-request set-header X-Copy %[req.hdr(x-fill)]",
            &server(&be),
        ),
    );
    let fill = format!("X-Fill: {}", "f".repeat(9000));
    let r = http_get(px.addr(0), "/", &[&fill]);
    assert_eq!(r.status, 500, "{r}");
    assert_eq!(be.requests().len(), 0);
    let r = http_get(px.addr(0), "/", &["X-Fill: short"]);
    assert_eq!(r.status, 200);
    assert_eq!(be.last().header("x-copy"), Some("short"));
    px.stop();
}

fn server_closing_without_response_gets_502(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(poller, &cfg("", "", &server(&be)));
    let r = http_get(px.addr(0), "/no-response", &[]);
    assert_eq!(r.status, 502, "{r}");
    px.stop();
}

fn invalid_response_gets_502(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(poller, &cfg("", "", &server(&be)));
    for path in ["/bad-response", "/garbage-response"] {
        let r = http_get(px.addr(0), path, &[]);
        assert_eq!(r.status, 502, "{path}: {r}");
    }
    px.stop();
}

fn response_head_too_big_gets_502(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "    tune.bufsize 16384\n    tune.maxrewrite 1024",
            "",
            &server(&be),
        ),
    );
    let r = http_get(px.addr(0), "/huge-response-head", &[]);
    assert_eq!(r.status, 502, "{r}");
    px.stop();
}

fn request_head_too_big_gets_400(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "    tune.bufsize 16384\n    tune.maxrewrite 1024",
            "",
            &server(&be),
        ),
    );
    // 15,000 bytes of head fit in 16384 - 1024; 16,000 do not.
    let fits = format!("X-Fill: {}", "f".repeat(14_900));
    assert_eq!(http_get(px.addr(0), "/", &[&fits]).status, 200);
    let big = format!("X-Fill: {}", "f".repeat(16_000));
    let mut c = HttpConn::open(px.addr(0));
    c.send(&request_bytes("GET", "/", &[&big], b""));
    let r = c.response_to("GET");
    assert_eq!(r.status, 400, "{r}");
    assert_eq!(be.requests().len(), 1);
    px.stop();
}

fn no_server_available_gets_503(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg("", "", &format!("    server s1 {} disabled", be.addr())),
    );
    let r = http_get(px.addr(0), "/", &[]);
    assert_eq!(r.status, 503, "{r}");
    assert_eq!(be.accepted(), 0);
    px.stop();
}

fn timeout_server_before_the_response_gets_504(poller: &str) {
    let be = HttpBackend::start("a");
    let px = Pollux::start(
        poller,
        &cfg(
            "",
            "",
            &format!("    timeout server 300ms\n{}", server(&be)),
        ),
    );
    let r = http_get(px.addr(0), "/sleep/3000", &[]);
    assert_eq!(r.status, 504, "{r}");
    px.stop();
}

/// What an errorfile holds, and what must arrive: the status line and the body
/// as written; the headers equal ignoring the case of names (HAProxy lowercases them).
fn check_errorfile(got: &Response, file: &str) {
    let (head, body) = file.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let got_status = String::from_utf8_lossy(&got.head.raw);
    assert!(
        got_status.starts_with(&format!("{status_line}\r\n")),
        "status line of the errorfile: {got}"
    );
    for l in lines {
        let (n, v) = l.split_once(": ").unwrap();
        assert_eq!(got.header(n), Some(v), "header {n} of the errorfile: {got}");
    }
    assert_eq!(got.text(), body, "errorfile body");
}

fn errorfile_replaces_the_503_response(poller: &str) {
    let dir = TestDir::new("errorfile");
    let text = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nCache-Control: no-cache\r\n\r\nsorry, none\n";
    let path = dir.write("503.http", text);
    let px = Pollux::start(
        poller,
        &cfg(
            "",
            &format!("    errorfile 503 {}", path.display()),
            &format!("    server s1 {} disabled", dead_addr()),
        ),
    );
    let r = http_get(px.addr(0), "/", &[]);
    check_errorfile(&r, text);
    px.stop();
}

fn errorfile_replaces_the_403_response(poller: &str) {
    let be = HttpBackend::start("a");
    let dir = TestDir::new("errorfile");
    let text = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot here!\n";
    let path = dir.write("403.http", text);
    let px = Pollux::start(
        poller,
        &cfg(
            "",
            &format!(
                "    errorfile 403 {}\n    http-request deny if {{ path_beg /x }}",
                path.display()
            ),
            &server(&be),
        ),
    );
    check_errorfile(&http_get(px.addr(0), "/x", &[]), text);
    // Unchanged for other statuses.
    let _ = Duration::ZERO;
    px.stop();
}
