//! `-d`'s per-stream trace on stdout (`accept`, `clireq`, `clihdr`,
//! `srvrep`, `srvhdr`, `clicls`, `srvcls`, `closed`), compared with
//! HAProxy 2.6's for the same HTTP requests (two on one kept-alive
//! connection) and TCP connection; fds and ports, which differ between the
//! two processes, are replaced by names. `-d -q` prints none.

mod common;

use common::http::HttpBackend;
use common::servers::TestServer;
use common::*;
use regex::Regex;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The trace lines of `out`, fds and ports named. Which side's close
/// HAProxy reports first varies from run to run: each `clicls`/`srvcls`
/// pair is put in one order.
fn trace(out: &str) -> Vec<String> {
    let line = Regex::new(r"^[0-9a-f]{8}:").unwrap();
    let accept =
        Regex::new(r"accept\([0-9a-f]{4}\)=[0-9a-f]{4} from \[127\.0\.0\.1:[0-9]+\]").unwrap();
    let fds = Regex::new(r"\[[0-9a-f]{4}:([0-9a-f]{4}|ffffffff)\]").unwrap();
    let mut lines: Vec<String> = out
        .lines()
        .filter(|l| line.is_match(l))
        // The test server numbers the connections of both runs.
        .filter(|l| !l.contains(": x-conn: "))
        .map(|l| {
            let l = accept.replace(l, "accept(L)=C from [127.0.0.1:P]");
            fds.replace(&l, |c: &regex::Captures<'_>| match &c[1] {
                "ffff" | "ffffffff" => format!("[C:{}]", &c[1]),
                _ => "[C:S]".to_string(),
            })
            .to_string()
        })
        .collect();
    let cls = |l: &String| l.contains(".clicls[") || l.contains(".srvcls[");
    let mut i = 0;
    while i < lines.len() {
        let n = lines[i..].iter().take_while(|l| cls(l)).count();
        lines[i..i + n].sort();
        i += n.max(1);
    }
    lines
}

fn exchange(http: std::net::SocketAddr, tcp: std::net::SocketAddr) {
    let mut c = TcpStream::connect(http).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"GET /x HTTP/1.1\r\nhost: a\r\nx-a: b\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 4096];
    let _ = c.read(&mut buf).unwrap();
    c.write_all(b"GET /y HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
        .unwrap();
    let _ = c.read_to_end(&mut Vec::new());
    let mut t = TcpStream::connect(tcp).unwrap();
    t.set_read_timeout(Some(PATIENCE)).unwrap();
    t.write_all(b"hello").unwrap();
    let mut echo = [0u8; 5];
    t.read_exact(&mut echo).unwrap();
    drop(t);
    std::thread::sleep(Duration::from_millis(300));
}

fn trace_as_haproxy(poller: &str) {
    let be = HttpBackend::start("b");
    let echo = TestServer::echo();
    let cfg = format!(
        "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    mode http\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
         backend be\n    mode http\n    server s1 {}\n\
         frontend ft\n    mode tcp\n    bind 127.0.0.1:@P1@\n    default_backend tb\n\
         backend tb\n    mode tcp\n    server s1 {}\n",
        be.addr(),
        echo.addr()
    );
    let mut seen = Vec::new();
    let mut runs = vec![("pollux", Launch::new(Some(poller)).mode(&["-d"]))];
    if let Some(h) = common::reference::haproxy_26() {
        // HAProxy's select refuses the raised fd limit (see `reference`).
        let p = if poller == "select" { "poll" } else { poller };
        runs.push(("haproxy", Launch::new(Some(p)).mode(&["-d"]).program(h)));
    }
    for (name, l) in runs {
        let px = l.start(&cfg);
        exchange(px.addr(0), px.addr(1));
        let lines = trace(&px.stdout());
        px.stop();
        seen.push((name, lines));
    }
    let ours = &seen[0].1;
    let want_start = [
        "00000000:fe.accept(L)=C from [127.0.0.1:P] ALPN=<none>",
        "00000000:fe.clireq[C:ffffffff]: GET /x HTTP/1.1",
        "00000000:fe.clihdr[C:ffffffff]: host: a",
        "00000000:fe.clihdr[C:ffffffff]: x-a: b",
        "00000000:be.srvrep[C:S]: HTTP/1.1 200 OK",
    ];
    assert_eq!(&ours[..5], &want_start, "{ours:#?}");
    assert!(
        ours.contains(&"00000000:be.srvcls[C:S]".to_string()),
        "{ours:#?}"
    );
    assert!(
        ours.contains(&"00000002:ft.accept(L)=C from [127.0.0.1:P] ALPN=<none>".to_string()),
        "{ours:#?}"
    );
    assert_eq!(
        ours.last().map(String::as_str),
        Some("00000002:tb.closed[C:ffff]"),
        "{ours:#?}"
    );
    if let Some((_, theirs)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux, then HAProxy");
    }
}

per_poller!(trace_as_haproxy);

/// `-d -q`: quiet wins, no trace (HAProxy: unless `-V`).
#[test]
fn quiet_debug_prints_no_trace() {
    let be = HttpBackend::start("b");
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
         backend be\n    server s1 {}\n",
        be.addr()
    );
    for (flags, want) in [(&["-d", "-q"][..], 0), (&["-d", "-q", "-V"][..], 1)] {
        let px = Launch::new(None).mode(flags).start(&cfg);
        let mut c = TcpStream::connect(px.addr(0)).unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
            .unwrap();
        let _ = c.read_to_end(&mut Vec::new());
        std::thread::sleep(Duration::from_millis(200));
        let accepts = trace(&px.stdout())
            .iter()
            .filter(|l| l.contains(".accept("))
            .count();
        px.stop();
        assert_eq!(accepts, want, "{flags:?}");
    }
}
