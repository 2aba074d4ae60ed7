//! Waiting for the request body, side by side with HAProxy 2.6:
//! `option http-buffer-request` (frontend and backend), `http-request
//! wait-for-body time T [at-least N]`, and the `req.body*` fetches on what
//! was waited for. Bodies are sent in pieces with pauses, so that a proxy
//! that did not wait would see only the first piece; the answers (an
//! `http-request return` printing the fetches), what the server receives
//! and the log lines must be HAProxy's. A body that does not come in time
//! gets a 408 logged `cR`; a client that leaves in the middle is logged
//! `CR` and gets nothing.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::sleep;
use std::time::Duration;

/// Sends each piece after its pause, then reads until the proxy closes.
/// A piece the proxy no longer wants (it answered already) may fail.
fn exchange(addr: SocketAddr, pieces: &[(u64, &[u8])]) -> String {
    send_then_read(addr, pieces, false)
}

fn send_then_read(addr: SocketAddr, pieces: &[(u64, &[u8])], shut: bool) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    for (pause, bytes) in pieces {
        sleep(Duration::from_millis(*pause));
        let _ = c.write_all(bytes);
    }
    if shut {
        let _ = c.shutdown(std::net::Shutdown::Write);
    }
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The body of the last response in `raw` (after a possible 100 Continue).
fn last_body(raw: &str) -> (String, String) {
    let start = raw.rfind("HTTP/1.1 ").unwrap_or(0);
    let (head, body) = raw[start..].split_once("\r\n\r\n").unwrap_or((raw, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    (status, body.to_string())
}

const FETCHES: &str = "%[req.body]|%[req.body_len]|%[req.body_size]|%[req.body_param(b)]|%[req.body_param]|%[url_param(x)]|%[url_param(x,;)]|%[hdr_cnt(expect)]";

fn fetch_config(option: &str) -> String {
    format!(
        "{}frontend fe\n    bind 127.0.0.1:@P0@\n{option}\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"{FETCHES}\"\n",
        http_defaults()
    )
}

type Pieces = Vec<(u64, Vec<u8>)>;

fn requests() -> Vec<Pieces> {
    let p = |v: &[(u64, &str)]| -> Pieces {
        v.iter().map(|(d, s)| (*d, s.as_bytes().to_vec())).collect()
    };
    vec![
        // Content-Length, the body in two pieces.
        p(&[
            (0, "POST /f?x=1;x=2&x=3 HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nConnection: close\r\n\r\na=1&"),
            (150, "b=22&b=3"),
        ]),
        // Chunked, cut in the middle of a chunk, with a trailer.
        p(&[
            (0, "POST /g;x=5 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nb=1&a\r\n3\r\n="),
            (150, "22\r\n0\r\nX-T: 1\r\n\r\n"),
        ]),
        // No body.
        p(&[(0, "GET /?x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")]),
        // A body larger than the buffer: what fits is all the rules see.
        vec![
            (
                0,
                b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 40000\r\nConnection: close\r\n\r\n".to_vec(),
            ),
            (50, vec![b'z'; 40000]),
        ],
    ]
}

/// What `FETCHES` printed, the large body's bytes summarized (HTX and
/// pollux's buffer do not hold the same number of bytes).
fn summary(raw: &str) -> String {
    let (status, body) = last_body(raw);
    let body = if body.len() > 200 {
        let fields: Vec<&str> = body.split('|').collect();
        let n: usize = fields.get(1).and_then(|n| n.parse().ok()).unwrap_or(0);
        format!(
            "{}z... ({}) | len in 8000..40000: {} | size {:?}",
            &fields[0][..3],
            fields[0].len() == n,
            (8000..40000).contains(&n),
            fields.get(2)
        )
    } else {
        body
    };
    format!("{status} {body}")
}

fn fetches_read_the_waited_body(poller: &str) {
    let mut seen = Vec::new();
    for im in pollux_and_haproxy(poller) {
        let px = im.start(&fetch_config("    option http-buffer-request"));
        let got: Vec<String> = requests()
            .iter()
            .map(|pieces| {
                let p: Vec<(u64, &[u8])> = pieces.iter().map(|(d, b)| (*d, &b[..])).collect();
                summary(&exchange(px.addr(0), &p))
            })
            .collect();
        px.stop();
        seen.push((im.name, got));
    }
    let (_, ours) = &seen[0];
    assert_eq!(ours[0], "HTTP/1.1 200 OK a=1&b=22&b=3|12|12|22|1|1|2|0");
    assert_eq!(ours[1], "HTTP/1.1 200 OK b=1&a=22|8|8|1|1||5|0");
    if let Some((name, theirs)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux vs {name}");
    }
}

/// An `Expect: 100-continue` is answered before the body is waited for
/// (or the client would hold it back), and not passed on.
fn expect_100_continue_is_answered(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        let px = im.start(&fetch_config("    option http-buffer-request"));
        let mut c = TcpStream::connect(px.addr(0)).unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        c.write_all(b"PUT /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 25];
        c.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n", "{}", im.name);
        c.write_all(b"b=9").unwrap();
        let mut rest = Vec::new();
        let _ = c.read_to_end(&mut rest);
        let (status, body) = last_body(&String::from_utf8_lossy(&rest));
        assert_eq!(
            (status.as_str(), body.as_str()),
            ("HTTP/1.1 200 OK", "b=9|3|3|9|9|||0"),
            "{}",
            im.name
        );
        px.stop();
    }
}

const WAIT: &str = "global
    log 127.0.0.1:@LOG@ local0
@DEFAULTS@
frontend fe
    bind 127.0.0.1:@P0@
    log global
    log-format \"%ST %ts %b/%s %r\"
    http-request add-header X-Before 1
    http-request wait-for-body time 300ms if { path /a }
    http-request wait-for-body time 2s at-least 10 if { path /b }
    http-request return status 200 content-type text/plain lf-string \"%[req.body_len] %[req.hdr_cnt(x-before)]\" if { path /a } || { path /b }
    default_backend be
backend be
    option http-buffer-request
    timeout http-request 300ms
    server s1 @SRV@
";

/// `wait-for-body` (its `at-least`, its time limit) and a backend's
/// `option http-buffer-request`, with the log lines, as HAProxy.
fn waits_and_timeouts_as_haproxy(poller: &str) {
    let want = [
        "200 LR fe/<NOSRV> POST /b HTTP/1.1",
        "408 cR fe/<NOSRV> POST /a HTTP/1.1",
        "408 cR be/<NOSRV> POST /be-slow HTTP/1.1",
        "200 -- be/s1 POST /be HTTP/1.1",
        "-1 CR be/<NOSRV> POST /gone HTTP/1.1",
    ];
    let mut seen = Vec::new();
    for im in pollux_and_haproxy(poller) {
        let log = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(PATIENCE)).unwrap();
        let srv = HttpBackend::start("s1");
        let px = im.start(&fill(
            WAIT,
            &[
                ("@DEFAULTS@", http_defaults()),
                ("@SRV@", srv.addr().to_string()),
                ("@LOG@", log.local_addr().unwrap().port().to_string()),
            ],
        ));
        let head = |path: &str, len: usize| {
            format!("POST {path} HTTP/1.1\r\nHost: h\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
        };
        // at-least 10: it goes on once 12 bytes are there, not all 30.
        let b = exchange(
            px.addr(0),
            &[
                (0, format!("{}abcd", head("/b", 30)).as_bytes()),
                (150, b"efghijkl"),
                (400, b"mnopqrstuvwxyzABCDEF"),
            ],
        );
        // Never complete: 408 once the rule's 300 ms are over.
        let a = exchange(
            px.addr(0),
            &[(0, format!("{}abc", head("/a", 10)).as_bytes())],
        );
        let slow = exchange(
            px.addr(0),
            &[(0, format!("{}abc", head("/be-slow", 10)).as_bytes())],
        );
        let be = exchange(
            px.addr(0),
            &[
                (0, format!("{}abc", head("/be", 10)).as_bytes()),
                (100, b"defghij"),
            ],
        );
        // The client leaves before its chunked body ends.
        let gone = send_then_read(
            px.addr(0),
            &[(
                0,
                b"POST /gone HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n1\r\n0\r\n",
            )],
            true,
        );
        let mut lines = Vec::new();
        while lines.len() < want.len() {
            let mut buf = [0u8; 4096];
            let n = log.recv(&mut buf).expect("a log line within PATIENCE");
            let raw = String::from_utf8_lossy(&buf[..n]).to_string();
            let text = raw.split_once("]: ").map_or("", |(_, t)| t.trim_end());
            if !text.starts_with("Proxy ") {
                lines.push(text.to_string());
            }
        }
        px.stop();
        assert_eq!(
            last_body(&b),
            ("HTTP/1.1 200 OK".into(), "12 1".into()),
            "{}",
            im.name
        );
        assert!(a.starts_with("HTTP/1.1 408"), "{}: {a}", im.name);
        assert!(slow.starts_with("HTTP/1.1 408"), "{}: {slow}", im.name);
        assert!(be.starts_with("HTTP/1.1 200"), "{}: {be}", im.name);
        assert_eq!(gone, "", "{}", im.name);
        let got = srv.requests();
        assert_eq!(got.len(), 1, "{}", im.name);
        assert_eq!(got[0].body.text(), "abcdefghij", "{}", im.name);
        lines.sort();
        seen.push((im.name, lines));
    }
    let mut want = want.map(String::from);
    want.sort();
    for (name, lines) in &seen {
        assert_eq!(lines, &want, "{name}, all: {seen:?}");
    }
}

/// Bodies waited for reach the server whole and framed as sent: one
/// larger than the buffer (the rest streams after the wait), a chunked
/// one, and one announced with `Expect: 100-continue` (not passed on).
fn waited_bodies_reach_the_server_whole(poller: &str) {
    let srv = HttpBackend::start("s1");
    let px = Pollux::start(
        poller,
        &fill(
            "@DEFAULTS@frontend fe\n    bind 127.0.0.1:@P0@\n    option http-buffer-request\n    default_backend be\nbackend be\n    server s1 @SRV@\n",
            &[
                ("@DEFAULTS@", http_defaults()),
                ("@SRV@", srv.addr().to_string()),
            ],
        ),
    );
    let big: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let mut head =
        b"POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
            .to_vec();
    head.extend_from_slice(&big[..5000]);
    let r = exchange(px.addr(0), &[(0, &head), (100, &big[5000..])]);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let r = exchange(
        px.addr(0),
        &[
            (0, b"POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nab"),
            (100, b"cd\r\n0\r\n\r\n"),
        ],
    );
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"POST /expect HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 25];
    c.read_exact(&mut first).unwrap();
    c.write_all(b"ok").unwrap();
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert!(rest.starts_with(b"HTTP/1.1 200"));
    px.stop();
    let got = srv.requests();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].body.len, 100_000);
    assert_eq!(got[0].body.kept, big[..got[0].body.kept.len()]);
    assert_eq!(got[1].body.text(), "abcd");
    assert_eq!(got[1].header("transfer-encoding"), Some("chunked"));
    assert_eq!(got[2].body.text(), "ok");
    assert_eq!(got[2].header("expect"), None);
    assert!(srv.violations().is_empty(), "{:?}", srv.violations());
}

per_poller!(
    fetches_read_the_waited_body,
    expect_100_continue_is_answered,
    waits_and_timeouts_as_haproxy,
    waited_bodies_reach_the_server_whole
);
