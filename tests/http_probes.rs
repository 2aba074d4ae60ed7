//! `option http-ignore-probes`: a connection that sends nothing before it
//! times out or closes (a browser's pre-connect) gets no 408 and leaves no
//! log line; one that sent part of a request still gets its 408. The same
//! traffic through pollux and HAProxy 2.6 must give the same answers and
//! the same logged (frontend, status) pairs.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

fn config(log_port: u16) -> String {
    format!(
        "global\n    log 127.0.0.1:{log_port} local0\n\
         defaults\n    mode http\n    log global\n    option httplog\n\
         \x20   timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    timeout http-request 1s\n\
         frontend probes\n    bind 127.0.0.1:@P0@\n    option http-ignore-probes\n\
         \x20   http-request return status 200 content-type text/plain string ok\n\
         frontend plain\n    bind 127.0.0.1:@P1@\n\
         \x20   http-request return status 200 content-type text/plain string ok\n"
    )
}

/// Connect, send `bytes` (if any), and read until the proxy closes.
fn wait_answer(to: SocketAddr, bytes: &[u8]) -> String {
    let mut c = TcpStream::connect(to).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(bytes).unwrap();
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    // The status line without its reason phrase (pollux's are RFC 9110's).
    let line = String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or("")
        .to_string();
    line.chars().take("HTTP/1.1 200".len()).collect()
}

/// (frontend, status) of each log line received until the marker request.
fn logged(log: &UdpSocket) -> Vec<(String, String)> {
    let re = regex::Regex::new(r"\] ([^ ]+) [^ ]+ [^ ]+ (-?[0-9]+) ").unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = log.recv(&mut buf) {
        let line = String::from_utf8_lossy(&buf[..n]).to_string();
        if line.contains("GET /marker") {
            break;
        }
        if let Some(c) = re.captures(&line) {
            out.push((c[1].to_string(), c[2].to_string()));
        }
    }
    out
}

fn probes_get_no_408_and_no_log(poller: &str) {
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let log = UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let px = imp.start(&config(log.local_addr().unwrap().port()));
        let (probes, plain) = (px.addr(0), px.addr(1));
        let answers = vec![
            // Silent until the request timeout: nothing at all.
            wait_answer(probes, b""),
            // Part of a request: the 408 stays.
            wait_answer(probes, b"GET / HTTP/1.1\r\nHo"),
            // Without the option: 408.
            wait_answer(plain, b""),
        ];
        // Connect and close at once, on the frontend with the option.
        drop(TcpStream::connect(probes).unwrap());
        std::thread::sleep(Duration::from_millis(200));
        let ok = wait_answer(
            probes,
            b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(ok, "HTTP/1.1 200", "{}", imp.name);
        wait_answer(
            plain,
            b"GET /marker HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        let mut lines = logged(&log);
        lines.sort();
        px.stop();
        seen.push((imp.name, answers, lines));
    }
    let (_, answers, lines) = &seen[0];
    assert_eq!(answers[0], "", "pollux: a silent probe gets nothing");
    assert!(
        answers[1].starts_with("HTTP/1.1 408"),
        "pollux: {answers:?}"
    );
    assert!(
        answers[2].starts_with("HTTP/1.1 408"),
        "pollux: {answers:?}"
    );
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        lines,
        &pairs(&[("plain", "408"), ("probes", "200"), ("probes", "408")]),
        "pollux's log lines"
    );
    if let Some((_, h_answers, h_lines)) = seen.get(1) {
        assert_eq!(answers, h_answers, "answers: pollux, then HAProxy");
        assert_eq!(lines, h_lines, "log lines: pollux, then HAProxy");
    }
}

per_poller!(probes_get_no_408_and_no_log);
