//! Logging end to end (manual §4.2 `log`, §8): a UDP socket of the test (or
//! a Unix datagram socket) receives pollux's syslog lines, and each field of
//! the default `option httplog` / `option tcplog` lines is checked against
//! what the client and the server saw: addresses, names, timers (-1 where a
//! phase was never reached), status, bytes, termination state, counters.

mod common;

use common::*;
use regex::Regex;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

per_poller!(
    httplog_line_has_every_field_of_a_normal_exchange,
    httplog_keep_alive_logs_each_transaction_with_its_own_bytes,
    tcplog_line_has_every_field_of_a_session,
    client_abort_during_data_is_cd,
    refused_server_connection_is_sc_and_an_error_level_line,
    server_timeout_before_headers_is_sh,
    denied_request_is_pr,
    bad_request_is_cr_with_badreq,
    captured_header_bytes_are_escaped,
    custom_log_format_renders_its_variables,
    rfc5424_framing_and_len_truncation,
    unix_datagram_sink_receives_lines,
    empty_connection_is_logged_unless_dontlognull,
    server_down_goes_to_the_logs_and_levels_filter,
    proxies_stopping_softly_are_logged,
    ipv6_syslog_target_receives_lines,
    tcp_client_timeout_is_cd,
    queued_requests_log_their_wait_and_queue_position,
    leaving_the_queue_logs_the_time_spent_in_it,
    without_a_format_the_connection_is_logged_at_accept,
    monitor_requests_are_not_logged,
    monitor_uri_matches_the_path_of_an_absolute_form_target,
    every_response_from_a_server_has_its_tr,
    bytes_are_counted_as_haproxy_2_6_counts_them,
    cookie_flags_are_haproxys_in_every_mode,
    cookie_flags_of_a_valueless_server_and_a_redispatch,
);

/// The test's syslog server.
struct Syslog(UdpSocket);

impl Syslog {
    fn new() -> Syslog {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind syslog");
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        Syslog(s)
    }
    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }
    /// The next datagram, raw.
    fn raw(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 65536];
        let n = self.0.recv(&mut buf).expect("a log line within PATIENCE");
        buf.truncate(n);
        buf
    }
    /// The next line but "Proxy X started.": (PRI, message after the
    /// RFC 3164 header).
    fn next(&self) -> (u32, String) {
        loop {
            let (pri, msg) = self.next_any();
            if !(msg.starts_with("Proxy ") && msg.ends_with(" started.")) {
                return (pri, msg);
            }
        }
    }
    fn next_any(&self) -> (u32, String) {
        let raw = String::from_utf8(self.raw()).expect("utf-8 log line");
        let re = Regex::new(r"^<([0-9]+)>[A-Za-z]{3} [ 0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] (?:pollux|haproxy)\[([0-9]+)\]: (.*)\n$")
            .unwrap();
        let c = re
            .captures(&raw)
            .unwrap_or_else(|| panic!("not an RFC 3164 line: {raw:?}"));
        (c[1].parse().unwrap(), c[3].to_string())
    }
    /// True if nothing arrives for `d`.
    fn quiet_for(&self, d: Duration) -> bool {
        self.0.set_read_timeout(Some(d)).unwrap();
        let mut buf = [0u8; 2048];
        let r = self.0.recv(&mut buf);
        self.0.set_read_timeout(Some(PATIENCE)).unwrap();
        match r {
            Ok(n) => {
                eprintln!(
                    "unexpected log line: {}",
                    String::from_utf8_lossy(&buf[..n])
                );
                false
            }
            Err(_) => true,
        }
    }
}

/// The fields of a default `option httplog` line.
#[derive(Debug)]
struct HttpLine {
    client: SocketAddr,
    frontend: String,
    backend: String,
    server: String,
    /// TR, Tw, Tc, Tr, Ta.
    timers: [i64; 5],
    status: i64,
    bytes: u64,
    term: String,
    /// ac, fc, bc, sc; and rc as written.
    conns: [u32; 4],
    retries: String,
    queues: (u32, u32),
    headers: Vec<String>,
    request: String,
}

fn http_line(msg: &str) -> HttpLine {
    let re = Regex::new(concat!(
        r"^([^ ]+):([0-9]+) \[[0-9][0-9]/[A-Za-z]{3}/[0-9]{4}:[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]{3}\] ([^ ]+) ([^ ]+)/([^ ]+) ",
        r"(-?[0-9]+)/(-?[0-9]+)/(-?[0-9]+)/(-?[0-9]+)/(-?[0-9]+) (-?[0-9]+) ([0-9]+) - - ([^ ]{4}) ",
        r"([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+)/(\+?[0-9]+) ([0-9]+)/([0-9]+)((?: \{[^ ]*\})*) (.*)$"
    ))
    .unwrap();
    let c = re
        .captures(msg)
        .unwrap_or_else(|| panic!("not an httplog line: {msg}"));
    let n = |i: usize| c[i].parse::<i64>().unwrap();
    HttpLine {
        client: format!("{}:{}", &c[1], &c[2]).parse().unwrap(),
        frontend: c[3].into(),
        backend: c[4].into(),
        server: c[5].into(),
        timers: [n(6), n(7), n(8), n(9), n(10)],
        status: n(11),
        bytes: c[12].parse().unwrap(),
        term: c[13].into(),
        conns: [14, 15, 16, 17].map(|i| c[i].parse().unwrap()),
        retries: c[18].into(),
        queues: (c[19].parse().unwrap(), c[20].parse().unwrap()),
        headers: c[21].split_whitespace().map(str::to_string).collect(),
        request: c[22].into(),
    }
}

fn cfg(syslog: u16, fe: &str, be: &str) -> String {
    format!(
        "global\n    log 127.0.0.1:{syslog} local0\n\
         defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n{fe}\n    default_backend be\n\
         backend be\n{be}\n"
    )
}

/// A server answering every request on a connection with `response`.
fn fixed_server(response: &'static [u8]) -> FnServer {
    FnServer::spawn(move |mut s| {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            while let Some(end) = find(&buf, b"\r\n\r\n") {
                buf.drain(..end + 4);
                if s.write_all(response).is_err() {
                    return;
                }
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
}

/// A server that reads the request head and then runs `then`.
fn server_then(then: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> FnServer {
    FnServer::spawn(move |mut s| {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while find(&buf, b"\r\n\r\n").is_none() {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        then(&mut s);
    })
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/// Send `req` on a new connection and read until the proxy closes.
fn exchange(addr: SocketAddr, req: &[u8]) -> (SocketAddr, Vec<u8>) {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(req).unwrap();
    let local = c.local_addr().unwrap();
    (local, read_to_eof(&mut c))
}

fn server_line(be: SocketAddr) -> String {
    format!("    server s1 {be}")
}

fn httplog_line_has_every_field_of_a_normal_exchange(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "    capture request header Host len 32\n    capture response header Content-Length len 8",
            &server_line(srv.addr()),
        ),
    );
    let (client, got) = exchange(
        px.addr(0),
        b"GET /a?b=1 HTTP/1.1\r\nHost: example.org\r\nConnection: close\r\n\r\n",
    );
    assert!(got.starts_with(b"HTTP/1.1 200"), "{got:?}");
    let (pri, msg) = log.next();
    assert_eq!(pri, 16 * 8 + 6, "local0.info: {msg}");
    let l = http_line(&msg);
    assert_eq!(l.client, client, "{msg}");
    assert_eq!(
        (l.frontend.as_str(), l.backend.as_str(), l.server.as_str()),
        ("fe", "be", "s1")
    );
    let [tr, tw, tc, trsp, ta] = l.timers;
    assert!(
        tr >= 0 && tw == 0 && tc >= 0 && trsp >= 0,
        "every phase reached: {msg}"
    );
    assert!(
        ta >= tr + tw + tc + trsp,
        "Ta covers the other timers: {msg}"
    );
    assert_eq!(l.status, 200);
    assert_eq!(
        l.bytes,
        htx_bytes(OK),
        "B is HAProxy 2.6's count of the server's response: {msg}"
    );
    assert_eq!(l.term, "----");
    assert_eq!(
        l.conns,
        [1, 1, 1, 1],
        "ac/fc/bc/sc while this session runs: {msg}"
    );
    assert_eq!((l.retries.as_str(), l.queues), ("0", (0, 0)));
    assert_eq!(l.headers, ["{example.org}", "{5}"]);
    assert_eq!(l.request, "\"GET /a?b=1 HTTP/1.1\"");
    px.stop();
}

/// Read one response with a Content-Length body.
fn read_response(c: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while find(&buf, b"\r\n\r\n").is_none() {
        assert_eq!(c.read(&mut b).unwrap(), 1, "response head");
        buf.push(b[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; len];
    c.read_exact(&mut body).unwrap();
    buf.extend(body);
    buf
}

fn httplog_keep_alive_logs_each_transaction_with_its_own_bytes(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(poller, &cfg(log.port(), "", &server_line(srv.addr())));
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let first = read_response(&mut c);
    let l1 = http_line(&log.next().1);
    assert_eq!(l1.request, "\"GET /one HTTP/1.1\"");
    assert_eq!(
        (l1.status, l1.bytes, l1.term.as_str()),
        (200, htx_bytes(&first), "----")
    );
    // The second request of the connection, then two pipelined ones.
    c.write_all(b"GET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let second = read_response(&mut c);
    c.write_all(b"GET /three HTTP/1.1\r\nHost: x\r\n\r\nGET /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let third = read_response(&mut c);
    let fourth = read_to_eof(&mut c);
    for (path, bytes) in [("two", &second), ("three", &third), ("four", &fourth)] {
        let l = http_line(&log.next().1);
        assert_eq!(l.request, format!("\"GET /{path} HTTP/1.1\""));
        assert_eq!((l.status, l.bytes), (200, htx_bytes(bytes)), "/{path}");
        assert_eq!(l.client.port(), c.local_addr().unwrap().port());
    }
    assert!(
        log.quiet_for(Duration::from_millis(300)),
        "one line per request"
    );
    px.stop();
}

fn tcplog_line_has_every_field_of_a_session(poller: &str) {
    let log = Syslog::new();
    let srv = TestServer::echo();
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    log 127.0.0.1:{} local0\n\
             defaults\n    mode tcp\n    log global\n    option tcplog\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             listen li\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
            log.port(),
            srv.addr()
        ),
    );
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"ping\n").unwrap();
    let mut five = [0u8; 5];
    c.read_exact(&mut five).unwrap();
    c.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(read_to_eof(&mut c).is_empty());
    let (pri, msg) = log.next();
    assert_eq!(pri, 134);
    let re = Regex::new(concat!(
        r"^127\.0\.0\.1:([0-9]+) \[[0-9][0-9]/[A-Za-z]{3}/[0-9]{4}:[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]{3}\] li li/s1 ",
        r"(-?[0-9]+)/(-?[0-9]+)/(-?[0-9]+) ([0-9]+) ([^ ][^ ]) ([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+)/([0-9]+) ([0-9]+)/([0-9]+)$"
    ))
    .unwrap();
    let f = re
        .captures(&msg)
        .unwrap_or_else(|| panic!("not a tcplog line: {msg}"));
    let n = |i: usize| f[i].parse::<i64>().unwrap();
    assert_eq!(n(1) as u16, c.local_addr().unwrap().port());
    assert!(n(2) == 0 && n(3) >= 0 && n(4) >= n(3), "Tw/Tc/Tt: {msg}");
    assert_eq!(n(5), 5, "B: the 5 bytes echoed");
    assert_eq!(&f[6], "--");
    assert_eq!(
        [7, 8, 9, 10, 11, 12, 13].map(n),
        [1, 1, 1, 1, 0, 0, 0],
        "{msg}"
    );
    px.stop();
}

fn client_abort_during_data_is_cd(poller: &str) {
    let log = Syslog::new();
    // A long body sent slowly: the client leaves in the middle of it.
    let srv = server_then(|s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n");
        for _ in 0..500 {
            if s.write_all(&[b'x'; 8192]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    });
    let px = Pollux::start(poller, &cfg(log.port(), "", &server_line(srv.addr())));
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut some = [0u8; 1000];
    c.read_exact(&mut some).unwrap();
    drop(c);
    let l = http_line(&log.next().1);
    assert_eq!(l.term, "CD--", "{l:?}");
    assert_eq!(l.status, 200);
    assert!(l.bytes >= 1000, "{l:?}");
    assert!(
        l.timers.iter().all(|&t| t >= 0),
        "every phase reached: {l:?}"
    );
    px.stop();
}

fn refused_server_connection_is_sc_and_an_error_level_line(poller: &str) {
    let log = Syslog::new();
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "    option log-separate-errors",
            &format!("    retries 1\n    server s1 {dead}"),
        ),
    );
    let (_, got) = exchange(px.addr(0), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first_status(&got), Some(503));
    let (pri, msg) = log.next();
    assert_eq!(pri, 16 * 8 + 3, "log-separate-errors: err level: {msg}");
    let l = http_line(&msg);
    assert_eq!((l.status, l.term.as_str()), (503, "SC--"));
    assert_eq!((l.backend.as_str(), l.server.as_str()), ("be", "s1"));
    let [tr, tw, tc, trsp, _] = l.timers;
    assert!(tr >= 0 && tw >= 0, "{msg}");
    assert_eq!((tc, trsp), (-1, -1), "never connected: {msg}");
    assert_eq!(l.retries, "1", "one retry: {msg}");
    assert_eq!(l.bytes, htx_bytes(&got));
    px.stop();
}

fn server_timeout_before_headers_is_sh(poller: &str) {
    let log = Syslog::new();
    let srv = server_then(|_| thread::sleep(Duration::from_secs(3)));
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "",
            &format!(
                "    timeout server {SHORT_TIMEOUT}\n{}",
                server_line(srv.addr())
            ),
        ),
    );
    let (_, got) = exchange(px.addr(0), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first_status(&got), Some(504));
    let (pri, msg) = log.next();
    assert_eq!(pri, 134, "info without log-separate-errors");
    let l = http_line(&msg);
    assert_eq!((l.status, l.term.as_str()), (504, "sH--"));
    let [_, tw, tc, trsp, ta] = l.timers;
    assert!(tw >= 0 && tc >= 0, "{msg}");
    assert_eq!(trsp, -1, "no response head: {msg}");
    assert!(ta >= 300, "waited for timeout server: {msg}");
    px.stop();
}

fn denied_request_is_pr(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "    http-request deny if { path_beg /private }",
            &server_line(srv.addr()),
        ),
    );
    let (_, got) = exchange(px.addr(0), b"GET /private HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first_status(&got), Some(403));
    let l = http_line(&log.next().1);
    assert_eq!((l.status, l.term.as_str()), (403, "PR--"));
    assert_eq!((l.backend.as_str(), l.server.as_str()), ("fe", "<NOSRV>"));
    assert!(l.timers[0] >= 0);
    assert_eq!(
        &l.timers[1..4],
        &[-1, -1, -1],
        "no queue, connect, response"
    );
    assert_eq!(l.bytes, htx_bytes(&got));
    assert_eq!(l.request, "\"GET /private HTTP/1.1\"");
    px.stop();
}

fn bad_request_is_cr_with_badreq(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(poller, &cfg(log.port(), "", &server_line(srv.addr())));
    let (_, got) = exchange(
        px.addr(0),
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n",
    );
    assert_eq!(first_status(&got), Some(400));
    let l = http_line(&log.next().1);
    assert_eq!((l.status, l.term.as_str()), (400, "CR--"));
    assert_eq!((l.backend.as_str(), l.server.as_str()), ("fe", "<NOSRV>"));
    assert_eq!(
        l.timers[..4],
        [-1, -1, -1, -1],
        "no complete request: {l:?}"
    );
    assert_eq!(l.request, "\"<BADREQ>\"");
    px.stop();
}

fn captured_header_bytes_are_escaped(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "    capture request header X-Note len 64",
            &server_line(srv.addr()),
        ),
    );
    // A client tries to close the braces, quote, and forge with `#`.
    let (_, got) = exchange(
        px.addr(0),
        "GET /q\"x HTTP/1.1\r\nHost: x\r\nX-Note: a\"b#c|d}{é\r\nConnection: close\r\n\r\n"
            .as_bytes(),
    );
    assert_eq!(first_status(&got), Some(200));
    let l = http_line(&log.next().1);
    assert_eq!(l.headers, ["{a#22b#23c#7Cd#7D#7B#C3#A9}"]);
    assert_eq!(l.request, "\"GET /q#22x HTTP/1.1\"");
    px.stop();
}

fn custom_log_format_renders_its_variables(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "    log-format \"%ci %fi:%fp %f %b %s %si:%sp %ST %B %U %HM %HP %HQ %HV %{+Q}HU %ts %rc %Th %%\"",
            &server_line(srv.addr()),
        ),
    );
    let req = b"GET /p?k=v HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    exchange(px.addr(0), req);
    let (_, msg) = log.next();
    let want = format!(
        "127.0.0.1 {} fe be s1 {} 200 {} {} GET /p ?k=v HTTP/1.1 \"/p?k=v\" -- 0 0 %",
        px.addr(0),
        srv.addr(),
        htx_bytes(OK),
        htx_bytes(req)
    );
    assert_eq!(msg, want);
    px.stop();
}

fn rfc5424_framing_and_len_truncation(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    log 127.0.0.1:{} len 120 format rfc5424 local3 info\n    log-tag edge\n\
             defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
             backend be\n    server s1 {}\n",
            log.port(),
            srv.addr()
        ),
    );
    let long = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "z".repeat(300)
    );
    exchange(px.addr(0), long.as_bytes());
    let raw = loop {
        let raw = String::from_utf8(log.raw()).unwrap();
        if !raw.contains(" started.") {
            break raw;
        }
    };
    assert_eq!(raw.len(), 120, "cut to len: {raw:?}");
    assert!(raw.ends_with('\n'));
    let re = Regex::new(&format!(
        r"^<158>1 [0-9]{{4}}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]{{6}}\+00:00 [^ ]+ edge {} - - 127\.0\.0\.1:[0-9]+ \[",
        px.pid()
    ))
    .unwrap();
    assert!(re.is_match(&raw), "RFC 5424 header: {raw:?}");
    px.stop();
}

fn unix_datagram_sink_receives_lines(poller: &str) {
    let dir = TestDir::new("syslog");
    let path = dir.join("log.sock");
    let sock = UnixDatagram::bind(&path).expect("bind unix datagram");
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    log {} local1\n    log unix@{} local2\n\
             defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
             backend be\n    server s1 {}\n",
            path.display(),
            path.display(),
            srv.addr()
        ),
    );
    exchange(
        px.addr(0),
        b"GET /u HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let mut pris = Vec::new();
    while pris.len() < 2 {
        let mut buf = [0u8; 4096];
        let n = sock.recv(&mut buf).expect("a line on the unix socket");
        let line = String::from_utf8_lossy(&buf[..n]).to_string();
        if line.contains(" started.") {
            continue;
        }
        assert!(line.contains("\"GET /u HTTP/1.1\""), "{line}");
        pris.push(line[1..line.find('>').unwrap()].to_string());
    }
    pris.sort();
    assert_eq!(pris, ["142", "150"], "local1.info and local2.info");
    px.stop();
}

fn empty_connection_is_logged_unless_dontlognull(poller: &str) {
    let srv = fixed_server(OK);
    for dontlognull in [false, true] {
        let log = Syslog::new();
        let fe = if dontlognull {
            "    option dontlognull"
        } else {
            ""
        };
        let px = Pollux::start(poller, &cfg(log.port(), fe, &server_line(srv.addr())));
        let c = TcpStream::connect(px.addr(0)).unwrap();
        drop(c);
        if !dontlognull {
            let l = http_line(&log.next().1);
            // HAProxy 2.6 logs it as a 400, though nothing is sent.
            assert_eq!(
                (l.status, l.term.as_str(), l.request.as_str()),
                (400, "CR--", "\"<BADREQ>\"")
            );
            assert_eq!(l.bytes, 0);
        }
        exchange(
            px.addr(0),
            b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        let l = http_line(&log.next().1);
        assert_eq!(
            l.request, "\"GET /after HTTP/1.1\"",
            "dontlognull={dontlognull}"
        );
        px.stop();
    }
}

fn server_down_goes_to_the_logs_and_levels_filter(poller: &str) {
    let log = Syslog::new();
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // Only notice and more critical: session lines (info) are filtered out.
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    log 127.0.0.1:{} local0 notice\n\
             defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 1s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
             backend be\n    server s1 {dead} check inter 100ms fall 1 rise 1\n",
            log.port()
        ),
    );
    let (pri, msg) = log.next();
    assert_eq!(pri, 16 * 8 + 1, "alert: {msg}");
    assert!(msg.starts_with("Server be/s1 is DOWN, reason: "), "{msg}");
    let (pri, msg) = log.next();
    assert_eq!(
        (pri, msg.as_str()),
        // (HAProxy's log line names it without quotes, stderr with.)
        (128, "backend be has no server available!")
    );
    let (_, got) = exchange(px.addr(0), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first_status(&got), Some(503));
    assert!(
        log.quiet_for(Duration::from_millis(500)),
        "info lines filtered"
    );
    px.stop();
}

fn proxies_stopping_softly_are_logged(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let mut px = Pollux::start(poller, &cfg(log.port(), "", &server_line(srv.addr())));
    // HAProxy 2.6 logs no start, only a soft stop.
    exchange(
        px.addr(0),
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(log.next().1.contains("\"GET / HTTP/1.1\""));
    px.stop_with(libc::SIGUSR1);
    let mut lines: Vec<(u32, String)> = (0..4).map(|_| log.next_any()).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            (
                132,
                "Proxy be stopped (cumulated conns: FE: 0, BE: 1).".to_string()
            ),
            (
                132,
                "Proxy fe stopped (cumulated conns: FE: 1, BE: 0).".to_string()
            ),
            (132, "Stopping backend be in 0 ms.".to_string()),
            (132, "Stopping frontend fe in 0 ms.".to_string()),
        ]
    );
}

fn ipv6_syslog_target_receives_lines(poller: &str) {
    if !ipv6_available() {
        eprintln!("no IPv6 loopback: skipped");
        return;
    }
    let sock = UdpSocket::bind("[::1]:0").unwrap();
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    let port = sock.local_addr().unwrap().port();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    log udp@[::1]:{port} local0 info\n\
             defaults\n    mode http\n    log global\n    option httplog\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
             backend be\n    server s1 {}\n",
            srv.addr()
        ),
    );
    exchange(
        px.addr(0),
        b"GET /v6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let mut buf = [0u8; 4096];
    loop {
        let n = sock.recv(&mut buf).expect("a line over IPv6");
        let line = String::from_utf8_lossy(&buf[..n]).to_string();
        if line.contains("\"GET /v6 HTTP/1.1\"") {
            assert!(line.starts_with("<134>"), "{line}");
            break;
        }
    }
    px.stop();
}

fn tcp_client_timeout_is_cd(poller: &str) {
    let log = Syslog::new();
    let srv = TestServer::echo();
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    log 127.0.0.1:{} local0\n\
             defaults\n    mode tcp\n    log global\n    option tcplog\n    timeout connect 5s\n    timeout client {SHORT_TIMEOUT}\n    timeout server 30s\n\
             listen li\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
            log.port(),
            srv.addr()
        ),
    );
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"hi").unwrap();
    let mut two = [0u8; 2];
    c.read_exact(&mut two).unwrap();
    // Then silence: `timeout client` ends the session in its data phase.
    let (_, msg) = log.next();
    let f: Vec<&str> = msg.split(' ').collect();
    assert_eq!(f[2..4], ["li", "li/s1"], "{msg}");
    assert_eq!((f[5], f[6]), ("2", "cD"), "B and termination state: {msg}");
    let tt: i64 = f[4].rsplit('/').next().unwrap().parse().unwrap();
    assert!(tt >= 300, "Tt covers the timeout: {msg}");
    px.stop();
}

fn queued_requests_log_their_wait_and_queue_position(poller: &str) {
    let log = Syslog::new();
    let srv = server_then(|s| {
        thread::sleep(Duration::from_millis(300));
        let _ = s.write_all(OK);
    });
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "",
            &format!("    server s1 {} maxconn 1", srv.addr()),
        ),
    );
    let addr = px.addr(0);
    // One served, two queued (the third behind the second).
    let clients: Vec<_> = (0..3)
        .map(|i| {
            thread::sleep(Duration::from_millis(50));
            thread::spawn(move || {
                exchange(
                    addr,
                    format!("GET /{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
                )
            })
        })
        .collect();
    for c in clients {
        assert_eq!(first_status(&c.join().unwrap().1), Some(200));
    }
    let mut lines: Vec<HttpLine> = (0..3).map(|_| http_line(&log.next().1)).collect();
    // In order of service, whatever order the threads' requests arrived in.
    lines.sort_by_key(|l| l.timers[1]);
    let tw: Vec<i64> = lines.iter().map(|l| l.timers[1]).collect();
    assert_eq!(tw[0], 0, "served at once: {lines:?}");
    assert!(
        tw[1] >= 150 && tw[2] >= 400,
        "waited for one and two requests: {lines:?}"
    );
    let queues: Vec<(u32, u32)> = lines.iter().map(|l| l.queues).collect();
    assert_eq!(
        queues,
        [(0, 0), (0, 0), (0, 1)],
        "positions at queueing: {lines:?}"
    );
    px.stop();
}

/// Tw is the time spent in the queue even when the request leaves it
/// without a server: its client went away (CQ; HAProxy 2.6 aborts a request
/// whose body can no longer complete, `abortonclose` or not) or `timeout
/// queue` struck (sQ). Tc and Tr stay -1.
fn leaving_the_queue_logs_the_time_spent_in_it(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        // One request at a time, held by the server until released.
        let released = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let srv = {
            let (released, started) = (released.clone(), started.clone());
            server_then(move |s| {
                started.fetch_add(1, Ordering::SeqCst);
                eventually(PATIENCE, || released.load(Ordering::SeqCst) > 0);
                let _ = s.write_all(OK);
            })
        };
        let log = Syslog::new();
        let px = im.start(&cfg(
            log.port(),
            "",
            &format!(
                "    timeout queue 400ms\n    server s1 {} maxconn 1",
                srv.addr()
            ),
        ));
        let addr = px.addr(0);
        let holder = thread::spawn(move || {
            exchange(
                addr,
                b"GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
        });
        assert!(eventually(PATIENCE, || started.load(Ordering::SeqCst) == 1));
        // Queued with half its body, then gone.
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"POST /gone HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello")
            .unwrap();
        thread::sleep(Duration::from_millis(250));
        drop(c);
        let l = http_line(&log.next().1);
        assert_eq!(l.request, "\"POST /gone HTTP/1.1\"", "{}: {l:?}", im.name);
        assert_eq!(
            (l.term.as_str(), l.server.as_str(), l.status),
            ("CQ--", "<NOSRV>", -1),
            "{}: {l:?}",
            im.name
        );
        let [_, tw, tc, tr, _] = l.timers;
        assert!(tw >= 200, "{}: Tw is the wait: {l:?}", im.name);
        assert_eq!((tc, tr), (-1, -1), "{}: {l:?}", im.name);
        // Queued until `timeout queue`: a 503.
        let (_, got) = exchange(
            addr,
            b"GET /late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(first_status(&got), Some(503), "{}", im.name);
        let l = http_line(&log.next().1);
        assert_eq!(
            (l.term.as_str(), l.status),
            ("sQ--", 503),
            "{}: {l:?}",
            im.name
        );
        let [_, tw, tc, tr, _] = l.timers;
        assert!(tw >= 350, "{}: Tw is the wait: {l:?}", im.name);
        assert_eq!((tc, tr), (-1, -1), "{}: {l:?}", im.name);
        released.store(1, Ordering::SeqCst);
        let (_, got) = holder.join().unwrap();
        assert_eq!(first_status(&got), Some(200), "{}", im.name);
        px.stop();
    }
}

fn without_a_format_the_connection_is_logged_at_accept(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "    no option httplog",
            &server_line(srv.addr()),
        ),
    );
    let c = TcpStream::connect(px.addr(0)).unwrap();
    let (pri, msg) = log.next();
    assert_eq!(pri, 134);
    assert_eq!(
        msg,
        format!(
            "Connect from {} to {} (fe/HTTP)",
            c.local_addr().unwrap(),
            px.addr(0)
        )
    );
    px.stop();
}

fn monitor_requests_are_not_logged(poller: &str) {
    let log = Syslog::new();
    let srv = fixed_server(OK);
    let px = Pollux::start(
        poller,
        &cfg(
            log.port(),
            "    monitor-uri /alive",
            &server_line(srv.addr()),
        ),
    );
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(b"GET /alive HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    read_response(&mut c);
    c.write_all(b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    read_to_eof(&mut c);
    let l = http_line(&log.next().1);
    assert_eq!(
        l.request, "\"GET /after HTTP/1.1\"",
        "the monitor request has no line"
    );
    assert!(log.quiet_for(Duration::from_millis(300)));
    px.stop();
}

/// Tr ends when the response head arrives: never -1 for a response the
/// server sent, even when its head and body arrive, leave and are logged in
/// one turn of the event loop (kept-alive connections, small answers).
fn every_response_from_a_server_has_its_tr(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        let log = Syslog::new();
        let srv = fixed_server(OK);
        let px = im.start(&cfg(log.port(), "", &server_line(srv.addr())));
        let mut c = TcpStream::connect(px.addr(0)).unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        for i in 0..20 {
            c.write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .unwrap();
            read_response(&mut c);
        }
        for i in 0..20 {
            let l = http_line(&log.next().1);
            assert_eq!(l.request, format!("\"GET /{i} HTTP/1.1\""), "{}", im.name);
            let [_, tw, tc, tr, ta] = l.timers;
            assert!(
                tw >= 0 && tc >= 0 && tr >= 0 && ta >= tr,
                "{}: request {i}: {l:?}",
                im.name
            );
        }
        px.stop();
    }
}

/// %B and %U are HAProxy 2.6's counts, not the wire's: the messages as
/// received, in their internal (HTX) size (no chunked framing, no
/// `Connection` tokens), plus the proxy's own answers; what the proxy adds
/// to a server's response (a persistence cookie, a rule's header) is not
/// counted. The figures are those Debian's haproxy 2.6.12 logs.
fn bytes_are_counted_as_haproxy_2_6_counts_them(poller: &str) {
    let cases: &[(&[u8], &str, (u64, u64))] = &[
        (b"GET /cl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", (54, 40)),
        (b"GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", (68, 45)),
        (b"GET /interim HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", (91, 45)),
        (b"HEAD /cl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", (49, 41)),
        (
            b"POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
            "200",
            (54, 59),
        ),
        (
            b"POST /cl HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
            "200",
            (54, 73),
        ),
        (b"GET /redir HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "302", (83, 43)),
        (b"GET /ret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", (73, 41)),
        (b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n", "200", (45, 43)),
    ];
    for im in pollux_and_haproxy(poller) {
        let log = Syslog::new();
        let srv = FnServer::spawn(|mut s| {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while find(&buf, b"\r\n\r\n").is_none() {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let line = String::from_utf8_lossy(&buf).to_string();
            let answer: &[u8] = match line.split(' ').nth(1) {
                Some("/chunked") => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
                Some("/interim") => b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                Some("/close") => b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-close",
                _ => OK,
            };
            // Bodies are short: whatever of one is still unread is dropped
            // with the connection, after the answer.
            let _ = s.write_all(answer);
        });
        let px = im.start(&cfg(
            log.port(),
            "    log-format \"%ST %B %U %{+Q}r\"\n\
             \x20   http-request redirect location /x if { path /redir }\n\
             \x20   http-request return status 200 content-type text/plain string hi if { path /ret }\n\
             \x20   http-response set-header X-Added foo",
            &format!(
                "    cookie SRV insert\n    server s1 {} cookie one",
                srv.addr()
            ),
        ));
        for (req, status, (b, u)) in cases {
            let (_, got) = exchange(px.addr(0), req);
            let (_, msg) = log.next();
            let line = String::from_utf8_lossy(req)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            assert_eq!(
                msg,
                format!("{status} {b} {u} \"{line}\""),
                "{}: B and U of {line:?}; the client got {} bytes",
                im.name,
                got.len()
            );
        }
        px.stop();
    }
}

/// HAProxy 2.6 matches a `monitor-uri` starting with '/' against the path
/// of the target (`http_wait_for_request`): `GET http://host/alive` is a
/// monitor request; the query string is part of that path.
fn monitor_uri_matches_the_path_of_an_absolute_form_target(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        let log = Syslog::new();
        let srv = fixed_server(OK);
        let px = im.start(&cfg(
            log.port(),
            "    monitor-uri /alive",
            &server_line(srv.addr()),
        ));
        for target in ["http://x/alive", "http://x:80/alive", "/alive"] {
            let (_, got) = exchange(
                px.addr(0),
                format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            );
            assert_eq!(first_status(&got), Some(200), "{}: {target}", im.name);
            assert!(
                !got.ends_with(b"hello"),
                "{}: {target} answered by the proxy, not the server",
                im.name
            );
        }
        for target in ["http://x/alive?probe", "http://x/alive/"] {
            let (_, got) = exchange(
                px.addr(0),
                format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
            );
            assert!(got.ends_with(b"hello"), "{}: {target} forwarded", im.name);
            let l = http_line(&log.next().1);
            assert_eq!(
                l.request,
                format!("\"GET {target} HTTP/1.1\""),
                "{}: monitor requests have no line",
                im.name
            );
        }
        assert!(log.quiet_for(Duration::from_millis(300)), "{}", im.name);
        px.stop();
    }
}

/// A server answering `OK`, with `Set-Cookie: SRV=app; path=/` for
/// `/setsrv`.
fn cookie_server() -> FnServer {
    FnServer::spawn(|mut s| {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            while let Some(end) = find(&buf, b"\r\n\r\n") {
                let set = String::from_utf8_lossy(&buf[..end]).starts_with("GET /setsrv ");
                buf.drain(..end + 4);
                let answer: &[u8] = if set {
                    b"HTTP/1.1 200 OK\r\nSet-Cookie: SRV=app; path=/\r\nContent-Length: 5\r\n\r\nhello"
                } else {
                    OK
                };
                if s.write_all(answer).is_err() {
                    return;
                }
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    })
}

/// The persistence cookie's two letters of the termination state (manual
/// §8.5) and the `Set-Cookie` the client gets, mode by mode, as Debian's
/// haproxy 2.6.12 logs and answers them. s1 (cookie `one`) serves; s2
/// (cookie `two`) is in maintenance; `/ign` is `ignore-persist`.
fn cookie_flags_are_haproxys_in_every_mode(poller: &str) {
    type Case = (
        &'static str,
        Option<&'static str>,
        &'static str,
        &'static [&'static str],
    );
    let one: &[&str] = &["SRV=one; path=/"];
    let app: &[&str] = &["SRV=app; path=/"];
    let scenarios: &[(&str, Vec<Case>)] = &[
        (
            "cookie SRV insert indirect nocache",
            vec![
                ("/", None, "--NI", one),
                ("/", Some("SRV=one"), "--VN", &[]),
                ("/", Some("SRV=bogus"), "--II", one),
                ("/", Some("SRV="), "--II", one),
                ("/", Some("SRV=two"), "--DI", one),
                ("/", Some("SRV=bogus; SRV=one"), "--VN", &[]),
                ("/setsrv", Some("SRV=one"), "--VD", &[]),
                ("/setsrv", Some("SRV=bogus"), "--II", one),
                ("/ign", Some("SRV=one"), "--UN", &[]),
                ("/ign", None, "--NN", &[]),
            ],
        ),
        (
            "cookie SRV insert",
            vec![
                ("/", Some("SRV=one"), "--VN", &[]),
                ("/setsrv", None, "--NI", one),
            ],
        ),
        (
            "cookie SRV insert postonly",
            vec![("/", None, "--NN", &[]), ("/setsrv", None, "--ND", &[])],
        ),
        (
            "cookie SRV insert indirect preserve",
            vec![
                ("/setsrv", None, "--NP", app),
                ("/setsrv", Some("SRV=one"), "--VP", app),
            ],
        ),
        (
            "cookie SRV rewrite",
            vec![
                ("/setsrv", None, "--NR", one),
                ("/", Some("SRV=bogus"), "--IN", &[]),
                ("/", Some("SRV=two"), "--DN", &[]),
            ],
        ),
        (
            "cookie SRV prefix",
            vec![
                ("/setsrv", Some("SRV=one"), "--VR", &["SRV=one~app; path=/"]),
                ("/", Some("SRV=one"), "--VN", &[]),
                ("/", Some("SRV=one~app"), "--VN", &[]),
            ],
        ),
        (
            "cookie SRV",
            vec![("/setsrv", Some("SRV=one"), "----", app)],
        ),
        (
            "cookie SRV indirect",
            vec![
                ("/setsrv", None, "--NP", app),
                ("/setsrv", Some("SRV=one"), "--VD", &[]),
            ],
        ),
    ];
    let dead = dead_addr();
    for im in pollux_and_haproxy(poller) {
        let srv = cookie_server();
        for (mode, cases) in scenarios {
            let log = Syslog::new();
            let px = im.start(&cfg(
                log.port(),
                "    log-format \"%tsc %s %{+Q}r\"",
                &format!(
                    "    {mode}\n    ignore-persist if {{ path /ign }}\n\
                     \x20   server s1 {} cookie one\n    server s2 {dead} cookie two disabled",
                    srv.addr()
                ),
            ));
            for (path, cookie, flags, set) in cases {
                let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
                let req =
                    format!("GET {path} HTTP/1.1\r\nHost: x\r\n{cookie}Connection: close\r\n\r\n");
                let (_, got) = exchange(px.addr(0), req.as_bytes());
                let head = String::from_utf8_lossy(&got).to_string();
                let head = head.split("\r\n\r\n").next().unwrap_or("");
                let sets: Vec<&str> = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
                    .map(|(_, v)| v.trim())
                    .collect();
                let (_, msg) = log.next();
                let what = format!("{}: {mode}: {path} {cookie:?}", im.name);
                assert_eq!(msg, format!("{flags} s1 \"GET {path} HTTP/1.1\""), "{what}");
                assert_eq!(&sets, set, "{what}");
            }
            px.stop();
        }
    }
}

/// A server without a cookie value clears the client's in insert mode;
/// a redispatch away from the server a valid cookie named logs it as a
/// cookie for a DOWN server (D), as does `option persist` sending to a
/// server in maintenance, as HAProxy.
fn cookie_flags_of_a_valueless_server_and_a_redispatch(poller: &str) {
    let dead = dead_addr();
    for im in pollux_and_haproxy(poller) {
        let srv = cookie_server();
        let log = Syslog::new();
        let px = im.start(&cfg(
            log.port(),
            "    log-format \"%tsc %s %{+Q}r\"",
            &format!(
                "    cookie SRV insert indirect\n    option redispatch\n    retries 1\n\
                 \x20   server s1 {dead} cookie one\n    server s2 {} cookie two\n\
                 \x20   server s3 {} backup",
                srv.addr(),
                srv.addr()
            ),
        ));
        let (_, got) = exchange(
            px.addr(0),
            b"GET / HTTP/1.1\r\nHost: x\r\nCookie: SRV=one\r\nConnection: close\r\n\r\n",
        );
        let text = String::from_utf8_lossy(&got).to_string();
        assert!(
            text.contains("Set-Cookie: SRV=two; path=/")
                || text.contains("set-cookie: SRV=two; path=/"),
            "{}: {text}",
            im.name
        );
        let (_, msg) = log.next();
        assert_eq!(msg, "--DI s2 \"GET / HTTP/1.1\"", "{}", im.name);
        px.stop();
        let log = Syslog::new();
        let px = im.start(&cfg(
            log.port(),
            "    log-format \"%tsc %s %{+Q}r\"",
            &format!(
                "    cookie SRV insert indirect\n    server s3 {}",
                srv.addr()
            ),
        ));
        for cookie in ["", "Cookie: SRV=one\r\n"] {
            let req = format!("GET / HTTP/1.1\r\nHost: x\r\n{cookie}Connection: close\r\n\r\n");
            let (_, got) = exchange(px.addr(0), req.as_bytes());
            let text = String::from_utf8_lossy(&got).to_lowercase();
            assert!(
                text.contains("set-cookie: srv=; expires=thu, 01-jan-1970 00:00:01 gmt; path=/"),
                "{}: {text}",
                im.name
            );
            let flags = if cookie.is_empty() { "--NI" } else { "--II" };
            let (_, msg) = log.next();
            assert_eq!(msg, format!("{flags} s3 \"GET / HTTP/1.1\""), "{}", im.name);
        }
        px.stop();
        // `option persist`: the cookie still sends to its server in
        // maintenance (D), which refuses: 503, SC.
        let log = Syslog::new();
        let px = im.start(&cfg(
            log.port(),
            "    log-format \"%tsc %s %ST\"",
            &format!(
                "    cookie SRV insert indirect\n    option persist\n    retries 0\n\
                 \x20   server s1 {} cookie one\n    server s2 {dead} cookie two disabled",
                srv.addr()
            ),
        ));
        exchange(
            px.addr(0),
            b"GET / HTTP/1.1\r\nHost: x\r\nCookie: SRV=two\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(log.next().1, "SCDN s2 503", "{}", im.name);
        px.stop();
    }
}
