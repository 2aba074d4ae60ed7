//! `option logasap`: the log line leaves when the server's response head
//! arrives (HTTP) or the server connection is up (TCP), before the body or
//! the connection is over, with `+` before the total time and the bytes so
//! far; one line per transaction still. Side by side with HAProxy 2.6.

mod common;

use common::servers::FnServer;
use common::*;
use regex::Regex;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// A server whose response head comes at once and its 10-byte body 800 ms
/// later; a TCP client gets its bytes echoed.
fn slow_body() -> FnServer {
    FnServer::spawn(|mut s: TcpStream| {
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap_or(0);
        if !buf[..n].starts_with(b"GET ") {
            let _ = s.write_all(&buf[..n]);
            let _ = s.read(&mut buf);
            return;
        }
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-A: b\r\n\r\n");
        std::thread::sleep(Duration::from_millis(800));
        let _ = s.write_all(b"0123456789");
    })
}

/// The line with its numbers (timers, status, bytes, counts) as `T`, a
/// `+` before them kept; the client and the date removed.
fn shape(line: &str) -> String {
    let line = line.split_once("]: ").map_or(line, |(_, l)| l);
    let line = Regex::new(r"^[^ ]+ \[[^\]]+\] ")
        .unwrap()
        .replace(line, "C [D] ");
    Regex::new(r"(\+?)-?[0-9]+([/ \n])")
        .unwrap()
        .replace_all(&line, "${1}T$2")
        .to_string()
}

fn early_lines_as_haproxy(poller: &str) {
    let srv = slow_body();
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let log = UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let cfg = format!(
            "global\n    log 127.0.0.1:{} local0\n\
             defaults\n    log global\n    option logasap\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend h\n    mode http\n    option httplog\n    bind 127.0.0.1:@P0@\n    default_backend hb\n\
             backend hb\n    mode http\n    server s1 {a}\n\
             frontend t\n    mode tcp\n    option tcplog\n    bind 127.0.0.1:@P1@\n    default_backend tb\n\
             backend tb\n    mode tcp\n    server s1 {a}\n",
            log.local_addr().unwrap().port(),
            a = srv.addr()
        );
        let px = imp.start(&cfg);
        let mut buf = vec![0u8; 4096];
        let mut drain = |log: &UdpSocket| {
            let mut lines = Vec::new();
            while let Ok(n) = log.recv(&mut buf) {
                let l = String::from_utf8_lossy(&buf[..n]).to_string();
                if !l.contains("Proxy ") {
                    lines.push(l);
                }
            }
            lines
        };
        drain(&log);
        let mut got = Vec::new();
        // HTTP: the line is there before the body is.
        let mut c = TcpStream::connect(px.addr(0)).unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        let t0 = Instant::now();
        c.write_all(b"GET /x HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
            .unwrap();
        log.set_read_timeout(Some(Duration::from_millis(600)))
            .unwrap();
        let mut first = vec![0u8; 4096];
        let n = log.recv(&mut first).expect("the early line");
        assert!(t0.elapsed() < Duration::from_millis(700), "{}", imp.name);
        got.push(shape(&String::from_utf8_lossy(&first[..n])));
        let mut body = Vec::new();
        let _ = c.read_to_end(&mut body);
        assert!(body.ends_with(b"0123456789"), "{}", imp.name);
        log.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        // No second line for it.
        got.push(format!("after: {}", drain(&log).len()));
        // TCP: the line once the server connection is up.
        let mut c = TcpStream::connect(px.addr(1)).unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        c.write_all(b"hello").unwrap();
        let mut echo = [0u8; 5];
        c.read_exact(&mut echo).unwrap();
        let early = drain(&log);
        got.extend(early.iter().map(|l| shape(l)));
        drop(c);
        std::thread::sleep(Duration::from_millis(200));
        got.push(format!("after: {}", drain(&log).len()));
        px.stop();
        seen.push((imp.name, got));
    }
    let ours = &seen[0].1;
    assert!(
        ours[0].contains("h hb/sT T/T/T/T/+T T +T - - ----")
            && ours[0].contains("\"GET /x HTTP/1.1\""),
        "{ours:?}"
    );
    assert_eq!(ours[1], "after: 0", "{ours:?}");
    assert!(ours[2].contains("t tb/sT T/T/+T +T --"), "{ours:?}");
    assert_eq!(ours[3], "after: 0", "{ours:?}");
    if let Some((_, theirs)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux, then HAProxy");
    }
}

per_poller!(early_lines_as_haproxy);
