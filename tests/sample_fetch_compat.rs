//! Fetches against HAProxy 2.6, end to end: the same configuration (an
//! `http-request return` whose `lf-string` prints every fetch) and the same
//! raw requests through Debian's haproxy and through pollux, on each poller;
//! the bodies must be equal, fetch by fetch. Volatile fetches (`rand`,
//! `uuid`, `date`) go through converters that make them stable.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const FETCHES: &[&str] = &[
    "path",
    "pathq",
    "base",
    "baseq",
    "base32",
    "url32",
    "base32+src,hex",
    "url32+src,hex",
    "req.ver",
    "req_ver",
    "req.hdr_names",
    "req.hdrs",
    "req.hdr_names(;)",
    "hdr_ip(x-ip)",
    "req.hdr_ip(x-ip,1)",
    "req.hdr_ip(x-ip,2)",
    "req.hdr_val(x-num)",
    "hdr_val(x-neg)",
    "cook_val(a)",
    "req.cook_val(b)",
    "urlp_val(y)",
    "rand(1)",
    "uuid,length",
    "uuid(4),bytes(14,1)",
    "hostname",
    "env(PATH)",
    "env(POLLUX_SURELY_UNSET)",
    "date,div(1000000)",
    "date(3600),div(1000000)",
    "date(0,ms),div(1000000000)",
    "nbproc",
    "proc",
    "req.proto_http",
    "url_ip",
    "url_port",
    "fe_name",
    "be_name",
    "http_first_req",
    "str(hel),concat(lo,txn.s,!)",
    "str(x),concat(,txn.none,)",
    "str(hello),strcmp(txn.s)",
    "str(hellp),strcmp(txn.s)",
    "str(abc),strcmp(txn.s)",
    "str(hello!),strcmp(txn.s)",
    "str(hello),secure_memcmp(txn.s)",
    "str(hellO),secure_memcmp(txn.s)",
    "str(x),hmac(sha256,txn.k),hex",
    "str(x),hmac(sha1,txn.none),hex",
];

const SEP: &str = "|#|";

/// Requests whose answers are compared: ordinary, HTTP/1.0 without Host,
/// absolute-form, odd header values.
const REQUESTS: &[&str] = &[
    "GET /a/b?x=1&y=22 HTTP/1.1\r\nHost: Example.com\r\nX-Ip: 10.1.2.3:8080\r\nX-Ip: ::1\r\nX-Num: 42abc\r\nX-Neg: -17\r\nCookie: a=12; b=x9\r\nConnection: close\r\n\r\n",
    "GET /p?q HTTP/1.0\r\n\r\n",
    "GET http://h.example:81/abs/path?k=v&y=-3 HTTP/1.1\r\nHost: h.example:81\r\nConnection: close\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a.example\r\nX-Ip: 10.0.0.1:99999\r\nX-Ip: not-an-ip\r\nX-Num: 1 2\r\nConnection: x-foo, close\r\n\r\n",
    "GET http://127.0.0.1:8081/p?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nConnection: close\r\n\r\n",
    "POST /form HTTP/1.1\r\nhost: MiXeD.example\r\nContent-Length: 0\r\nX-Ip: 2001:db8::1\r\nConnection: close\r\n\r\n",
];

fn config() -> String {
    let body: String = FETCHES.iter().map(|f| format!("%[{f}]{SEP}")).collect();
    format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n\
         listen fe\n    bind 127.0.0.1:@P0@\n\
         \x20   http-request set-var(txn.s) str(hello)\n\
         \x20   http-request set-var(txn.k) str(a2V5)\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"{body}\"\n"
    )
}

fn ask(px: &Pollux, req: &str) -> Vec<String> {
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let _ = c.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp).to_string();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "{req:?} answered:\n{resp}"
    );
    body.split(SEP).map(str::to_string).collect()
}

fn fetches_give_haproxys_values(poller: &str) {
    let mut answers = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let px = imp.start(&config());
        let got: Vec<Vec<String>> = REQUESTS.iter().map(|r| ask(&px, r)).collect();
        px.stop();
        answers.push((imp.name, got));
    }
    let (_, ours) = &answers[0];
    for row in ours {
        assert_eq!(row.len(), FETCHES.len() + 1, "one value per fetch: {row:?}");
    }
    // Sanity of the volatile ones on pollux's side alone.
    assert_eq!(
        ours[0][FETCHES.iter().position(|f| *f == "uuid,length").unwrap()],
        "36"
    );
    let Some((_, theirs)) = answers.get(1) else {
        return;
    };
    let mut diffs = Vec::new();
    for (i, req) in REQUESTS.iter().enumerate() {
        for (j, f) in FETCHES.iter().enumerate() {
            if ours[i][j] != theirs[i][j] {
                diffs.push(format!(
                    "%[{f}] on request {i} ({:?}): HAProxy {:?}, pollux {:?}",
                    req.lines().next().unwrap_or(""),
                    theirs[i][j],
                    ours[i][j]
                ));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

per_poller!(fetches_give_haproxys_values);
