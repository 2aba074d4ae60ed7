//! What pollux forwards is exactly what its rules judged: `Connection` cannot
//! delete the framing (request smuggling), an absolute-form target has one
//! authority, a fragment never passes, no server can switch a connection to
//! HTTP/2 behind the rules, and a malformed chunk extension is never forwarded.
//! The recording backend re-parses every byte it receives with the tests' own
//! strict parser: each accepted case must arrive as exactly one message with
//! the same method, target and body length, and nothing else.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

const CFG: &str = "
global
    maxconn 200
@DEFAULTS@
    timeout http-request 2s
frontend fe
    bind 127.0.0.1:@P0@
    http-request deny if { path_end .php }
    http-request deny if { path_beg /smuggled }
    http-request deny if { hdr(host) -i admin.internal }
    http-request set-header X-Added by-rule
    default_backend be
backend be
    server s1 @BE@
";

/// What pollux must do with a case.
enum Want {
    /// Answered with this status by pollux; the backend sees nothing.
    Refused(u16),
    /// Forwarded as one message: method, target, body length; 200 to the client.
    One(&'static str, &'static str, usize),
}

const SECRET: &str = "GET /secret.php HTTP/1.1\r\nHost: a\r\n\r\n";

fn cases() -> Vec<(&'static str, String, Want)> {
    let post = |conn: &str, body: &str| {
        format!(
            "POST /up HTTP/1.1\r\nHost: a\r\nConnection: {conn}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let chunked = |conn: &str| {
        format!(
            "POST /up HTTP/1.1\r\nHost: a\r\nConnection: {conn}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        )
    };
    let get = |target: &str, headers: &str| format!("GET {target} HTTP/1.1\r\n{headers}\r\n");
    let n = SECRET.len();
    vec![
        ("conn_content_length", post("Content-Length", SECRET), Want::One("POST", "/up", n)),
        ("conn_cl_mixed_case", post("close, CONTENT-LENGTH", SECRET), Want::One("POST", "/up", n)),
        ("conn_transfer_encoding", chunked("Transfer-Encoding"), Want::One("POST", "/up", 5)),
        ("conn_te_and_trailer", chunked("TE, Trailer, Connection"), Want::One("POST", "/up", 5)),
        ("conn_host", get("/h", "Host: a\r\nConnection: Host\r\n"), Want::One("GET", "/h", 0)),
        ("conn_upgrade", post("Upgrade", SECRET), Want::One("POST", "/up", n)),
        (
            "h2c_upgrade",
            get(
                "/h2",
                "Host: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n",
            ),
            Want::One("GET", "/h2", 0),
        ),
        (
            "absolute_host_differs",
            get("http://admin.internal/", "Host: public.test\r\n"),
            Want::Refused(400),
        ),
        ("absolute_host_same", get("http://admin.internal/", "Host: admin.internal\r\n"), Want::Refused(403)),
        ("absolute_no_host", get("http://admin.internal/", ""), Want::Refused(403)),
        ("absolute_empty_host", get("http://public.test/", "Host:\r\n"), Want::Refused(400)),
        ("absolute_userinfo", get("http://good.test@evil.test/", "Host: evil.test\r\n"), Want::Refused(400)),
        ("absolute_scheme_ftp", get("ftp://public.test/", "Host: public.test\r\n"), Want::Refused(400)),
        ("absolute_empty_authority", get("http:///x", "Host: public.test\r\n"), Want::Refused(400)),
        (
            "absolute_default_port",
            get("http://public.test:80/ok", "Host: Public.Test\r\n"),
            Want::One("GET", "http://public.test:80/ok", 0),
        ),
        ("fragment", get("/secret.php#x", "Host: a\r\n"), Want::Refused(400)),
        // Neither a path nor an absolute URI: a server could resolve it
        // against a path the rules never saw.
        ("relative_target", get("admin/secret", "Host: a\r\n"), Want::Refused(400)),
        ("scheme_without_authority", get("http:/admin", "Host: a\r\n"), Want::Refused(400)),
        ("asterisk_with_get", get("*", "Host: a\r\n"), Want::Refused(400)),
        ("fragment_plain", get("/ok#x", "Host: a\r\n"), Want::Refused(400)),
        (
            "chunk_ext_unclosed_quote",
            format!(
                "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\r\nhello\r\n0\r\n\r\n{SECRET}"
            ),
            Want::Refused(400),
        ),
        (
            "chunk_size_leading_zeros",
            "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000005\r\nhello\r\n0;a=\"q\\\"\";b=c\r\n\r\n".to_string(),
            Want::One("POST", "/up", 5),
        ),
    ]
}

per_poller!(
    every_forwarded_message_is_framed_by_the_headers_pollux_emits,
    rules_see_what_the_backend_sees,
    connection_cannot_unframe_a_response,
    no_switch_to_a_protocol_the_request_did_not_offer,
    websocket_upgrades_still_work,
    body_errors_are_logged_and_kept_by_show_errors,
    bytes_after_a_response_are_never_read_as_the_next_one,
);

fn start(poller: &str, be: &HttpBackend) -> Pollux {
    Pollux::start(
        poller,
        &fill(
            CFG,
            &[
                ("@DEFAULTS@", http_defaults()),
                ("@BE@", be.addr().to_string()),
            ],
        ),
    )
}

fn every_forwarded_message_is_framed_by_the_headers_pollux_emits(poller: &str) {
    let be = HttpBackend::start("be");
    let px = start(poller, &be);
    let mut failures = Vec::new();
    for (name, bytes, want) in cases() {
        let before = be.requests().len();
        let mut c = HttpConn::open(px.addr(0));
        c.send(bytes.as_bytes());
        let method = bytes.split(' ').next().unwrap_or("GET").to_string();
        let got = c.try_response(&method);
        match (&want, &got) {
            (Want::Refused(code), Ok(r)) if r.status == *code => {}
            (Want::One(..), Ok(r)) if r.status == 200 && r.server() == "be" => {}
            (_, Ok(r)) => failures.push(format!("{name}: unexpected answer {r}")),
            (_, Err(e)) => failures.push(format!("{name}: no answer: {e}")),
        }
        // Nothing more may come: a second message would be a smuggled one.
        drop(c);
        std::thread::sleep(Duration::from_millis(50));
        let reqs = be.requests();
        let new = &reqs[before.min(reqs.len())..];
        match want {
            Want::Refused(_) if !new.is_empty() => failures.push(format!(
                "{name}: refused, yet the backend got {:?}",
                String::from_utf8_lossy(&new[0].head.raw)
            )),
            Want::One(m, t, len) => {
                let ok = new.len() == 1
                    && new[0].method() == m
                    && new[0].target() == t
                    && new[0].body.len == len as u64;
                if !ok {
                    failures.push(format!(
                        "{name}: the backend got {} messages: {:?}",
                        new.len(),
                        new.iter()
                            .map(|r| (r.method().to_string(), r.target().to_string(), r.body.len))
                            .collect::<Vec<_>>()
                    ));
                }
            }
            _ => {}
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    for r in be.requests() {
        if r.target().contains(".php") || r.target().contains("smuggled") {
            failures.push(format!("backend received {}", r.target()));
        }
    }
    failures.extend(be.violations());
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        be.dump()
    );
    px.stop();
}

fn rules_see_what_the_backend_sees(poller: &str) {
    let be = HttpBackend::start("be");
    let px = start(poller, &be);
    // A header a rule adds survives a client naming it in Connection; a
    // header the client named goes before the rules.
    let r = http_get(
        px.addr(0),
        "/a",
        &["Connection: X-Added, X-Client", "X-Client: 1"],
    );
    assert_eq!(r.status, 200);
    let got = be.last();
    assert_eq!(got.header("x-added"), Some("by-rule"));
    assert_eq!(got.header("x-client"), None);
    // Absolute form without Host: the authority becomes the Host.
    served(
        &px,
        b"GET http://public.test/abs HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    let got = be.last();
    assert_eq!(got.target(), "http://public.test/abs");
    assert_eq!(got.header("host"), Some("public.test"));
    // h2c is gone, and with it the upgrade: the server answered a plain 200.
    served(
        &px,
        b"GET /h2 HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
    );
    let got = be.last();
    assert_eq!(got.header("upgrade"), None);
    assert_eq!(got.header("http2-settings"), None);
    assert!(!got.head.has_token("connection", "upgrade"));
    px.stop();
}

/// Sends `req` raw on a new connection; the answer must be a 200.
fn served(px: &Pollux, req: &[u8]) {
    let got = raw_exchange(px.addr(0), req, Duration::from_millis(500));
    let text = String::from_utf8_lossy(&got);
    assert_eq!(first_status(&got), Some(200), "{text}");
}

/// Reads one request head from a raw server connection.
fn read_request(s: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while find(&got, b"\r\n\r\n").is_none() {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&b[..n]),
        }
    }
    got
}

fn connection_cannot_unframe_a_response(poller: &str) {
    // A server that names Content-Length in Connection: the client must still
    // get a framed body, and the next response on the same connection.
    let srv = FnServer::spawn(|mut s| {
        for body in ["hello", "world"] {
            if read_request(&mut s).is_empty() {
                return;
            }
            let r = format!(
                "HTTP/1.1 200 OK\r\nConnection: Content-Length, Transfer-Encoding\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if s.write_all(r.as_bytes()).is_err() {
                return;
            }
        }
    });
    let be = HttpBackend::start("unused");
    let cfg = fill(
        CFG,
        &[
            ("@DEFAULTS@", http_defaults()),
            ("@BE@", srv.addr().to_string()),
        ],
    );
    drop(be);
    let px = Pollux::start(poller, &cfg);
    let mut c = HttpConn::open(px.addr(0));
    for body in ["hello", "world"] {
        c.send(b"GET /r HTTP/1.1\r\nHost: a\r\n\r\n");
        let r = c.try_response("GET").expect("a framed response");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-length"), Some("5"), "{r}");
        assert_eq!(r.text(), body);
    }
    px.stop();
}

fn no_switch_to_a_protocol_the_request_did_not_offer(poller: &str) {
    // A server that switches to h2c whatever it is asked: pollux answers 502
    // and never becomes a tunnel.
    let srv = FnServer::spawn(|mut s| {
        if !read_request(&mut s).is_empty() {
            let _ = s.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    let cfg = fill(
        CFG,
        &[
            ("@DEFAULTS@", http_defaults()),
            ("@BE@", srv.addr().to_string()),
        ],
    );
    let px = Pollux::start(poller, &cfg);
    for req in [
        &b"GET /flag-free HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"[..],
        b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        b"GET /plain HTTP/1.1\r\nHost: a\r\n\r\n",
    ] {
        let got = raw_exchange(px.addr(0), req, Duration::from_millis(700));
        assert_eq!(
            first_status(&got),
            Some(502),
            "{}",
            String::from_utf8_lossy(&got)
        );
        assert!(find(&got, b"PRI *").is_none(), "tunnelled: {}", String::from_utf8_lossy(&got));
    }
    px.stop();
}

fn websocket_upgrades_still_work(poller: &str) {
    let be = HttpBackend::start("be");
    let px = start(poller, &be);
    let mut s = TcpStream::connect(px.addr(0)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(
        b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    )
    .unwrap();
    let head = read_request(&mut s);
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    // The backend echoes once switched.
    s.write_all(b"ping").unwrap();
    let mut b = [0u8; 4];
    s.read_exact(&mut b).unwrap();
    assert_eq!(&b, b"ping");
    px.stop();
}

fn body_errors_are_logged_and_kept_by_show_errors(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let syslog = UdpSocket::bind("127.0.0.1:0").unwrap();
    syslog.set_read_timeout(Some(PATIENCE)).unwrap();
    let be = HttpBackend::start("be");
    let cfg = format!(
        "global\n    stats socket {} level admin\n    log 127.0.0.1:{} local0\n{}\n    log global\n    option httplog\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\nbackend be\n    server s1 {}\n",
        sock.display(),
        syslog.local_addr().unwrap().port(),
        http_defaults(),
        be.addr()
    );
    let px = Pollux::start(poller, &cfg);
    let got = raw_exchange(
        px.addr(0),
        b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"open\r\nhello\r\n0\r\n\r\n",
        Duration::from_millis(500),
    );
    assert_eq!(
        first_status(&got),
        Some(400),
        "{}",
        String::from_utf8_lossy(&got)
    );
    let out = cli(&sock, "show errors");
    assert!(out.contains("frontend fe (#2): invalid request"), "{out}");
    assert!(
        out.contains("unterminated quoted string in chunk extension"),
        "{out}"
    );
    assert!(out.contains("5;a=\"open"), "the body bytes are kept: {out}");
    // One log line for the transaction, with the 400 and a client-side code.
    let mut buf = vec![0u8; 65536];
    let mut line = String::new();
    for _ in 0..5 {
        let n = syslog.recv(&mut buf).expect("a log line");
        line = String::from_utf8_lossy(&buf[..n]).to_string();
        if line.contains("POST /up") {
            break;
        }
    }
    assert!(line.contains(" 400 ") && line.contains(" CD"), "{line}");
    px.stop();
}

/// A server that sends a body with its answer to HEAD (HAProxy's reg-test
/// h1_to_h1 has one): the stray bytes must not become the next request's
/// response on a reused server connection.
fn bytes_after_a_response_are_never_read_as_the_next_one(poller: &str) {
    let srv = FnServer::spawn(|mut s| loop {
        let head = read_request(&mut s);
        if head.is_empty() {
            return;
        }
        let r: &[u8] = if head.starts_with(b"HEAD") {
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        };
        if s.write_all(r).is_err() {
            return;
        }
        // And stray bytes on an idle connection, later (a HEAD's body in
        // a second write).
        if head.starts_with(b"HEAD /late") {
            thread::sleep(Duration::from_millis(100));
            let _ = s.write_all(b"late!");
        }
    });
    let cfg = fill(
        CFG,
        &[
            ("@DEFAULTS@", http_defaults()),
            ("@BE@", srv.addr().to_string()),
        ],
    );
    let px = Pollux::start(poller, &cfg);
    let mut c = HttpConn::open(px.addr(0));
    for head in ["/h", "/late", "/h", "/late"] {
        c.send(format!("HEAD {head} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes());
        let r = c.try_response("HEAD").expect("a response to HEAD");
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "");
        if head == "/late" {
            thread::sleep(Duration::from_millis(300));
        }
        c.send(b"GET /g HTTP/1.1\r\nHost: a\r\n\r\n");
        let r = c.try_response("GET").expect("a response to GET");
        assert_eq!((r.status, r.text().as_str()), (200, "ok"), "{r}");
    }
    px.stop();
}
