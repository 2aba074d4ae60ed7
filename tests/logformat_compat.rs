//! Log-format strings against HAProxy 2.6 (manual §8.2.4): the same
//! configuration and requests through Debian's haproxy and through pollux,
//! comparing the log line (`%[sample]`s with `+Q`/`+X`/`+E`, `%hr`, `%hs`,
//! `%ID`, `%rt`), the headers the backend received (`set-header` with
//! `%vars` and samples, `unique-id-header`), what the client received
//! (`http-response set-header`, a redirect location, a `return` body with
//! `lf-string`) and which backend `use_backend %[req.hdr(host),lower]`
//! picked. What differs by nature between the two
//! runs (client and frontend ports, pid, timestamp) is replaced by names
//! before comparing.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use regex::Regex;
use std::net::{TcpStream, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

per_poller!(
    log_lines_headers_and_switching_match_haproxy,
    structured_data_matches_haproxy,
    unique_id_from_a_request_header,
    use_server_picks_as_haproxy,
);

const LOG_FORMAT: &str = concat!(
    "%{+Q}[capture.req.hdr(0)] %[capture.req.hdr(1)] %{+E}[capture.req.hdr(0)] ",
    "%[capture.req.hdr(2)] %[capture.req.hdr(3)] %{+Q}[capture.req.hdr(3)] ",
    "%hr %{+Q}hr %{+E}hr %ID %{+Q}ID %[unique-id,lower] ",
    "%{+X}ci:%{+X}cp %{+X}fi:%{+X}fp %[src] %{+Q}[src] %{+X}[src] %[dst_port] ",
    "%{+X}rt %rt %{+Q}b %{+Q}s %ST %{+Q}[int(7)] %{+X}[int(255)] %[status] ",
    "%{+Q}[str(x),upper] %{+E}r %{+X}Ts %{+X}pid %hs %[capture.res.hdr(0)] %{+Q}[capture.res.hdr(1)]",
);

const SET_HEADER: &str = concat!(
    "%ci-%{+X}ci-%{+Q}ci-%[req.hdr(host),lower]-%{+E}[req.hdr(x-e)]-",
    "%{+Q}[req.hdr(x-e)]-%[req.hdr(nope)]-%[capture.req.hdr(1)]-%[unique-id]-",
    "%f-%{+Q}f-%Ts-%{+X}Ts-%rt-%{+X}rt-%pid",
);

fn config(syslog: u16, a: &HttpBackend, b: &HttpBackend) -> String {
    format!(
        "global\n    log 127.0.0.1:{syslog} local0\n\
         defaults\n    mode http\n    log global\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n\
         \x20   unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid\n\
         \x20   unique-id-header X-Unique-ID\n\
         \x20   declare capture request len 20\n\
         \x20   http-request capture req.hdr(user-agent) len 10\n\
         \x20   http-request capture req.hdr(x-e) id 0\n\
         \x20   capture request header Host len 15\n\
         \x20   http-request set-header X-F \"{SET_HEADER}\"\n\
         \x20   http-request set-header X-P \"  a   %{{+X}}fp %{{+Q}}fi \"\n\
         \x20   declare capture response len 4\n\
         \x20   capture response header X-Server len 10\n\
         \x20   http-response capture res.hdr(x-server),upper id 0\n\
         \x20   http-response set-header X-R \"%[capture.res.hdr(0)]/%[capture.req.hdr(1)]/%[unique-id]\"\n\
         \x20   http-request redirect location /r/%[req.hdr(x-e),url_enc]?%{{+X}}ci code 302 if {{ path_beg /redir }}\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"<%[unique-id]|%{{+Q}}ci|%[capture.req.hdr(0)]|%[req.hdr(nope)]|  %{{+X}}fp  >\" if {{ path_beg /ret }}\n\
         \x20   log-format \"{LOG_FORMAT}\"\n\
         \x20   use_backend %[req.hdr(host),lower]\n\
         \x20   default_backend a\n\
         backend a\n    server a {}\n\
         backend b.example\n    server b {}\n",
        a.addr(),
        b.addr()
    )
}

/// (path, Host, User-Agent, x-e): a backend by its name, a name no backend
/// has (default_backend), the default's own name; a redirect and a
/// `return` pollux answers itself.
const REQUESTS: &[(&str, &str, &str, &str)] = &[
    (
        "/p?q=\"1",
        "B.Example",
        "Mozilla/5.0 long agent",
        "a\"b\\c]d e",
    ),
    ("/p", "nosuch.example", "curl/8", "#{x|y}"),
    ("/p", "A", "x", ""),
    ("/redir", "A", "x", "a b/c"),
    ("/ret", "A", "x", "z"),
];

/// What one request shows: the answer, the backend's view, the log line.
#[derive(Debug, PartialEq)]
struct Seen {
    answer: String,
    backend: Vec<String>,
    log: String,
}

/// One run's observations: per request, the backend that answered, the
/// headers it got and the log line; ports, pid and time named.
fn observe(im: &common::reference::Impl) -> Vec<Seen> {
    let log = UdpSocket::bind("127.0.0.1:0").unwrap();
    log.set_read_timeout(Some(PATIENCE)).unwrap();
    let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
    let px = im.start(&config(log.local_addr().unwrap().port(), &a, &b));
    let t0 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let s = TcpStream::connect(px.addr(0)).unwrap();
    let cp = s.local_addr().unwrap().port();
    let fp = px.addr(0).port();
    let mut c = HttpConn::from_stream(s);
    let mut answered = Vec::new();
    for (path, host, ua, xe) in REQUESTS {
        let mut h = vec![format!("Host: {host}"), format!("User-Agent: {ua}")];
        if !xe.is_empty() {
            h.push(format!("x-e: {xe}"));
        }
        let h: Vec<&str> = h.iter().map(String::as_str).collect();
        let r = c.get(path, &h);
        answered.push(format!(
            "{} server={} x-r={} location={} body={}",
            r.status,
            r.server(),
            r.header("x-r").unwrap_or("-"),
            r.header("location").unwrap_or("-"),
            if r.server().is_empty() {
                r.text()
            } else {
                String::new()
            },
        ));
    }
    let t1 = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let line_re =
        Regex::new(r"^<[0-9]+>[A-Za-z]{3} [ 0-9][0-9] [0-9:]{8} [a-z]+\[([0-9]+)\]: (.*)\n$")
            .unwrap();
    let mut lines = Vec::new();
    while lines.len() < REQUESTS.len() {
        let mut buf = vec![0u8; 65536];
        let n = log.recv(&mut buf).expect("a log line within PATIENCE");
        let raw = String::from_utf8_lossy(&buf[..n]).to_string();
        let c = line_re
            .captures(&raw)
            .unwrap_or_else(|| panic!("{}: not a syslog line: {raw:?}", im.name));
        if c[2].starts_with("Proxy ") {
            continue;
        }
        lines.push((c[1].parse::<u32>().unwrap(), c[2].to_string()));
    }
    px.stop();
    let pid = lines[0].0;
    // Longest first: a timestamp's hex digits before a port's; hex in
    // either case has one name (digits alone read the same in both).
    let mut names: Vec<(String, String)> = (t0..=t1)
        .flat_map(|t| {
            [
                (t.to_string(), "<TS>".into()),
                (format!("{t:08X}"), "<TS>".into()),
                (format!("{t:08x}"), "<TS>".into()),
            ]
        })
        .collect();
    for (v, n) in [(cp, "CP"), (fp, "FP")] {
        names.push((format!("{v:04X}"), format!("<{n}X>")));
        names.push((format!("{v:04x}"), format!("<{n}X>")));
        names.push((v.to_string(), format!("<{n}>")));
    }
    names.push((format!("{pid:04X}"), "<PIDX>".into()));
    names.push((format!("{pid:04x}"), "<PIDX>".into()));
    names.push((pid.to_string(), "<PID>".into()));
    let named = |s: &str| {
        let mut s = s.to_string();
        for (v, n) in &names {
            s = s.replace(v.as_str(), n);
        }
        s
    };
    let mut recorded: Vec<_> = a.requests();
    recorded.extend(b.requests());
    recorded.sort_by_key(|r| r.header("x-unique-id").map(str::to_string));
    let mut out = Vec::new();
    for (i, answer) in answered.into_iter().enumerate() {
        let r = recorded.iter().find(|r| {
            r.header("x-unique-id")
                .is_some_and(|id| id.ends_with(&format!("_{i:04X}:{pid:04X}")))
        });
        let backend = match r {
            Some(r) => ["x-f", "x-p", "x-unique-id"]
                .iter()
                .map(|h| format!("{h}: {}", named(r.header(h).unwrap_or("(none)"))))
                .collect(),
            None => Vec::new(),
        };
        out.push(Seen {
            answer: named(&answer),
            backend,
            log: named(&lines[i].1),
        });
    }
    out
}

fn log_lines_headers_and_switching_match_haproxy(poller: &str) {
    let mut runs = Vec::new();
    for im in pollux_and_haproxy(poller) {
        runs.push((im.name, observe(&im)));
    }
    let (_, ours) = &runs[0];
    // Without haproxy, pollux is still held to what HAProxy 2.6 answers.
    let servers: Vec<&str> = ours
        .iter()
        .map(|o| o.answer.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        servers,
        ["server=b", "server=a", "server=a", "server=", "server="],
        "use_backend %[req.hdr(host),lower], default_backend when no backend has the name"
    );
    assert_eq!(
        ours[0].backend.get(2).map(String::as_str),
        Some("x-unique-id: 7F000001:<CPX>_7F000001:<FPX>_<TS>_0000:<PIDX>"),
        "the backend got the request with its unique id"
    );
    if let Some((_, theirs)) = runs.get(1) {
        for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
            assert_eq!(o.answer, t.answer, "request {i}: what the client received");
            assert_eq!(
                o.backend, t.backend,
                "request {i}: headers the backend received"
            );
            assert_eq!(o.log, t.log, "request {i}: log line");
        }
    }
}

/// `log-format-sd`: the structured data of an RFC 5424 line, after the
/// header's MSGID, rendered with its own flags (`%{+Q,+E}o`).
fn structured_data_matches_haproxy(poller: &str) {
    let mut seen = Vec::new();
    let re = Regex::new(r"^<134>1 [^ ]+ [^ ]+ [^ ]+ [0-9]+ - (.*)\n$").unwrap();
    for im in pollux_and_haproxy(poller) {
        let log = UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(PATIENCE)).unwrap();
        let a = HttpBackend::start("a");
        let px = im.start(&format!(
            "global\n    log 127.0.0.1:{} format rfc5424 local0\n\
             defaults\n    mode http\n    log global\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:@P0@\n\
             \x20   capture request header X-E len 30\n\
             \x20   log-format \"%ST %{{+Q}}[capture.req.hdr(0)] %hr\"\n\
             \x20   log-format-sd %{{+Q,+E}}o\\ [exampleSDID@1234\\ status=%ST\\ x=%[capture.req.hdr(0)]\\ b=%b\\ m=%[str(),upper]]\n\
             \x20   default_backend a\n\
             backend a\n    server a {}\n",
            log.local_addr().unwrap().port(),
            a.addr()
        ));
        let mut c = HttpConn::open(px.addr(0));
        assert_eq!(c.get("/", &["Host: x", "X-E: a\"b]c\\d"]).status, 200);
        let line = loop {
            let mut buf = vec![0u8; 65536];
            let n = log.recv(&mut buf).expect("a log line within PATIENCE");
            let raw = String::from_utf8_lossy(&buf[..n]).to_string();
            if !raw.contains("Proxy ") {
                break raw;
            }
        };
        px.stop();
        let sd_and_msg = re
            .captures(&line)
            .unwrap_or_else(|| panic!("{}: not an RFC 5424 line: {line:?}", im.name))[1]
            .to_string();
        seen.push((im.name, sd_and_msg));
    }
    assert_eq!(
        seen[0].1,
        "[exampleSDID@1234 status=200 x=\"a\\\"b\\]c\\\\d\" b=\"a\" m=\"\"] 200 \"a\"b]c\\d\" {a\"b]c\\d}"
            .replace("{a\"b]c\\d}", "{a#22b]c\\d}")
    );
    if let Some((_, theirs)) = seen.get(1) {
        assert_eq!(&seen[0].1, theirs, "pollux, then haproxy");
    }
}

/// A unique id made from the request (HAProxy's reg-test
/// stream/unique-id.vtc): the server gets it in `unique-id-header`, the
/// client in a response header set from `%[unique-id]`.
fn unique_id_from_a_request_header(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        let a = HttpBackend::start("a");
        let px = im.start(&format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:@P0@\n\
             \x20   unique-id-format TEST-%[req.hdr(in)]\n\
             \x20   unique-id-header X-Id\n\
             \x20   http-response set-header out %[unique-id]\n\
             \x20   default_backend a\n\
             backend a\n    server a {}\n",
            a.addr()
        ));
        let mut c = HttpConn::open(px.addr(0));
        let r = c.get("/", &["Host: x", "in: 12345678"]);
        assert_eq!(r.header("out"), Some("TEST-12345678"), "{}", im.name);
        assert_eq!(
            a.last().header("x-id"),
            Some("TEST-12345678"),
            "{}",
            im.name
        );
        let r = c.get("/", &["Host: x"]);
        assert_eq!(
            r.header("out"),
            Some("TEST-"),
            "{}: no header, empty",
            im.name
        );
        px.stop();
    }
}

/// `use-server`: a fixed name, a log-format name, and a log-format name no
/// server has, which stops the rules (the balancer chooses, here `first`).
fn use_server_picks_as_haproxy(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        let (a, b) = (HttpBackend::start("a"), HttpBackend::start("b"));
        let px = im.start(&format!(
            "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
             backend be\n    balance first\n\
             \x20   use-server %[req.hdr(x-srv),lower] if {{ req.hdr(x-srv) -m found }}\n\
             \x20   use-server b if {{ path_beg /two }}\n\
             \x20   server a {}\n    server b {}\n",
            a.addr(),
            b.addr()
        ));
        let mut c = HttpConn::open(px.addr(0));
        let got: Vec<String> = [
            ("/", ""),
            ("/two", ""),
            ("/", "B"),
            ("/two", "a"),
            ("/two", "nosuch"),
        ]
        .iter()
        .map(|(path, srv)| {
            let h = format!("x-srv: {srv}");
            let headers: &[&str] = if srv.is_empty() {
                &["Host: x"]
            } else {
                &["Host: x", &h]
            };
            c.get(path, headers).server().to_string()
        })
        .collect();
        assert_eq!(got, ["a", "b", "b", "a", "a"], "{}", im.name);
        px.stop();
    }
}
