//! TLS towards servers (`server ... ssl`), against Python's ssl module
//! (OpenSSL) as the server (tests/py/tls_server.py) and side by side with
//! HAProxy 2.6: a handshake that fails (a certificate `verify required`
//! refuses, a server that never answers) is a failed connect, retried and
//! then 503 with HAProxy's termination state, bounded by `timeout connect`;
//! certificate names as HAProxy matches them; `crt` (a client certificate);
//! health checks over TLS (`check-ssl`, `check-sni`, `ssl-hello-chk`,
//! `tcp-check connect ssl`); `ssl_bc*` and resumption (`no-ssl-reuse`,
//! `no-tls-tickets`); the `-c` verdicts. Certificates are made at test
//! time by the openssl CLI.

mod common;

use common::pki::openssl;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Certificates made by the openssl CLI: a CA; a.test signed by it (`good`),
/// a.test self-signed (`bad`); a client certificate signed by the CA
/// (`client`, CN "pollux-client"); cn.test as a CN only, no SAN (`cn`).
struct Pki {
    ca: String,
    good: String,
    bad: String,
    client: String,
    cn: String,
}

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

fn make_pki(dir: &TestDir) -> Pki {
    let self_signed = |name: &str, cn: &str, san: Option<&str>| {
        let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
        let subj = format!("/CN={cn}");
        let mut a = vec!["req", "-x509", "-nodes", "-days", "2", "-subj", &subj];
        a.extend(EC);
        a.extend(["-keyout", &key, "-out", &crt]);
        let ext = san.map(|s| format!("subjectAltName={s}"));
        if let Some(e) = &ext {
            a.extend(["-addext", e]);
        }
        openssl(dir, &a);
    };
    self_signed("ca", "pollux test CA", None);
    self_signed("bad", "a.test", Some("DNS:a.test"));
    for (name, cn, exts) in [
        ("good", "a.test", "subjectAltName=DNS:a.test"),
        ("client", "pollux-client", "subjectAltName=DNS:client.test"),
        ("cn", "cn.test", "basicConstraints=CA:FALSE"),
    ] {
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        let subj = format!("/CN={cn}");
        let mut a = vec![
            "req", "-new", "-nodes", "-subj", &subj, "-keyout", &key, "-out", &csr,
        ];
        a.extend(EC);
        openssl(dir, &a);
        let ext = dir.join(&format!("{name}.ext"));
        std::fs::write(&ext, format!("{exts}\n")).unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                ext.to_str().unwrap(),
            ],
        );
    }
    // HAProxy's layout: the certificate, then its key, in one file.
    for name in ["good", "bad", "client", "cn"] {
        let pem = std::fs::read_to_string(dir.join(&format!("{name}.crt"))).unwrap()
            + &std::fs::read_to_string(dir.join(&format!("{name}.key"))).unwrap();
        std::fs::write(dir.join(&format!("{name}.pem")), pem).unwrap();
    }
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    Pki {
        ca: p("ca.crt"),
        good: p("good.pem"),
        bad: p("bad.pem"),
        client: p("client.pem"),
        cn: p("cn.pem"),
    }
}

/// tests/py/tls_server.py: a TLS HTTP/1.1 server (OpenSSL), stopped by
/// its pid when dropped. Each successful handshake is a line in `lines()`.
struct TlsServer {
    child: Child,
    addr: SocketAddr,
    lines: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    fn start(cert: &str, extra: &[&str]) -> TlsServer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/tls_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(cert)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 tls_server.py");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).expect("the server's port");
        let port: u16 = first.trim().parse().expect("a port number");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                l.lock().unwrap().push(line);
            }
        });
        TlsServer {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            lines,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The handshakes it completed so far.
    fn handshakes(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A UDP syslog receiver: the log lines of a run.
struct LogSink(UdpSocket);

impl LogSink {
    fn new() -> LogSink {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        LogSink(s)
    }

    fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }

    /// The next line that contains `needle` (other lines are skipped).
    fn line_with(&self, needle: &str) -> String {
        let mut buf = vec![0u8; 4096];
        loop {
            let n = self
                .0
                .recv(&mut buf)
                .unwrap_or_else(|e| panic!("no log line with {needle:?}: {e}"));
            let line = String::from_utf8_lossy(&buf[..n]).to_string();
            if line.contains(needle) {
                return line;
            }
        }
    }
}

/// A log line's fields after `fe`: `be/srv`, timers, and (HTTP) status,
/// termination state, conn counts: the status, the termination state and
/// the retries (last field of the counts), HTTP or TCP layout.
fn outcome(line: &str, fe: &str) -> (String, String, String) {
    let f: Vec<&str> = line.split_whitespace().collect();
    let at = f
        .iter()
        .position(|w| *w == fe)
        .expect("the frontend's name")
        + 1;
    let http = f
        .get(at + 2)
        .is_some_and(|s| s.len() == 3 && s.parse::<u16>().is_ok());
    let (status, term, counts) = if http {
        (f[at + 2], f[at + 6], f[at + 7])
    } else {
        ("-", f[at + 3], f[at + 4])
    };
    let retries = counts.rsplit('/').next().unwrap_or("");
    (status.into(), term.into(), retries.into())
}

/// A certificate `verify required` refuses, and a server that never answers
/// the ClientHello: HAProxy counts both as failed connects (`econ`), retries
/// them (`retries`, `option redispatch`), then answers 503 with `SC--`
/// (`sC--` after `timeout connect`), in HTTP and TCP; pollux the same.
fn handshake_failure_is_a_failed_connect(poller: &str) {
    let dir = TestDir::new("tls-srv-fail");
    let pki = make_pki(&dir);
    let bad = TlsServer::start(&pki.bad, &[]);
    let good = TlsServer::start(&pki.good, &[]);
    // Accepts the TCP connection (the kernel does) and never answers.
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let sock = SockDir::new();
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let log = LogSink::new();
        let verify = format!("ssl verify required ca-file {}", pki.ca);
        let cfg = format!(
            "global\n    log 127.0.0.1:{log} local0\n    stats socket {sock} level admin\n\
             defaults\n    log global\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             frontend fh\n    mode http\n    option httplog\n    bind 127.0.0.1:@P0@\n\
             \x20   use_backend good if {{ path_beg /good }}\n    use_backend mute if {{ path_beg /mute }}\n\
             \x20   default_backend bad\n\
             frontend ft\n    mode tcp\n    option tcplog\n    bind 127.0.0.1:@P1@\n    default_backend bad_tcp\n\
             backend bad\n    mode http\n    retries 2\n    option redispatch\n\
             \x20   server s1 {bad} {verify}\n    server s2 {bad} {verify}\n\
             backend good\n    mode http\n    server s1 {good} {verify} sni str(a.test)\n\
             backend mute\n    mode http\n    timeout connect 300ms\n    retries 1\n    server s1 {mute} ssl verify none\n\
             backend bad_tcp\n    mode tcp\n    retries 1\n    server s1 {bad} {verify}\n",
            log = log.port(),
            sock = sock.sock().display(),
            bad = bad.addr(),
            good = good.addr(),
            mute = mute.local_addr().unwrap(),
        );
        let px = imp.start(&cfg);
        let mut got = Vec::new();
        // The certificate is refused: retried, redispatched, then 503.
        let r = http_get(px.addr(0), "/", &[]);
        got.push(format!("refused: {}", r.status));
        let (_, term, retries) = outcome(&log.line_with("GET / "), "fh");
        got.push(format!("refused: {term} {retries}"));
        // A verified server still serves.
        let r = http_get(px.addr(0), "/good", &[]);
        got.push(format!("good: {}", r.status));
        let (_, term, _) = outcome(&log.line_with("GET /good"), "fh");
        got.push(format!("good: {term}"));
        // A handshake that stalls: `timeout connect` per attempt.
        let t0 = Instant::now();
        let r = http_get(px.addr(0), "/mute", &[]);
        let took = t0.elapsed();
        got.push(format!("mute: {}", r.status));
        assert!(
            took >= Duration::from_millis(550) && took < Duration::from_secs(5),
            "{}: two connect timeouts of 300ms, took {took:?}",
            imp.name
        );
        let (_, term, retries) = outcome(&log.line_with("GET /mute"), "fh");
        got.push(format!("mute: {term} {retries}"));
        // TCP: the client is closed without a byte.
        let mut c = TcpStream::connect(px.addr(1)).unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        c.write_all(b"hello\n").unwrap();
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        got.push(format!("tcp: {} bytes back", buf.len()));
        let (_, term, retries) = outcome(&log.line_with(" ft "), "ft");
        got.push(format!("tcp: {term} {retries}"));
        let stat = show_stat(&sock.sock());
        for be in ["bad", "bad_tcp", "good"] {
            let econ = csv_num(&stat, &format!("{be}/BACKEND"), "econ");
            got.push(format!("{be} econ {econ}"));
        }
        // HAProxy's ssl module: each failed handshake, per server.
        for row in [
            "bad/BACKEND",
            "bad/s1",
            "bad/s2",
            "good/s1",
            "mute/s1",
            "bad_tcp/s1",
        ] {
            let n = |c: &str| csv_num(&stat, row, c);
            got.push(format!(
                "{row} ssl {} failed {}",
                n("ssl_sess"),
                n("ssl_failed_handshake")
            ));
        }
        px.stop();
        seen.push((imp.name, got));
    }
    let want = [
        "refused: 503",
        "refused: SC-- +2",
        "good: 200",
        "good: ----",
        "mute: 503",
        "mute: sC-- 1",
        "tcp: 0 bytes back",
        "tcp: SC 1",
        "bad econ 1",
        "bad_tcp econ 1",
        "good econ 0",
        "bad/BACKEND ssl 0 failed 3",
        "bad/s1 ssl 0 failed 2",
        "bad/s2 ssl 0 failed 1",
        "good/s1 ssl 1 failed 0",
        "mute/s1 ssl 0 failed 0",
        "bad_tcp/s1 ssl 0 failed 2",
    ];
    for (name, got) in &seen {
        assert_eq!(got, &want, "{name}");
    }
    assert!(bad.handshakes().is_empty(), "{:?}", bad.handshakes());
}

/// The name a certificate must carry, matched as HAProxy does (SAN DNS
/// names, then the CN): a certificate with the CN only passes `verifyhost`;
/// a name that does not match the SNI sent is not retried (503 at once,
/// the log's retries all spent, no `wretr`), one that does not match
/// `verifyhost` is; side by side with HAProxy 2.6.
fn certificate_names_as_haproxy(poller: &str) {
    let dir = TestDir::new("tls-srv-names");
    let pki = make_pki(&dir);
    let good = TlsServer::start(&pki.good, &[]);
    let cn = TlsServer::start(&pki.cn, &[]);
    let sock = SockDir::new();
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let log = LogSink::new();
        let verify = format!("ssl verify required ca-file {}", pki.ca);
        let cfg = format!(
            "global\n    log 127.0.0.1:{log} local0\n    stats socket {sock} level admin\n\
             defaults\n    mode http\n    log global\n    option httplog\n\
             \x20   timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:@P0@\n\
             \x20   use_backend sni_wrong if {{ path_beg /sni }}\n    use_backend host_wrong if {{ path_beg /host }}\n\
             \x20   use_backend cn_only if {{ path_beg /cn }}\n    default_backend sni_ok\n\
             backend sni_ok\n    server s1 {good} {verify} sni str(A.TEST)\n\
             backend sni_wrong\n    retries 3\n    server s1 {good} {verify} sni str(nope.test)\n\
             backend host_wrong\n    retries 1\n    server s1 {good} {verify} verifyhost nope.test\n\
             backend cn_only\n    server s1 {cn} {verify} verifyhost cn.test\n",
            log = log.port(),
            sock = sock.sock().display(),
            good = good.addr(),
            cn = cn.addr(),
        );
        let px = imp.start(&cfg);
        let mut got = Vec::new();
        for path in ["/ok", "/cn", "/host", "/sni"] {
            let t0 = Instant::now();
            let r = http_get(px.addr(0), path, &[]);
            let (_, term, retries) = outcome(&log.line_with(&format!("GET {path}")), "f");
            got.push(format!("{path} {} {term} {retries}", r.status));
            if path == "/sni" {
                // Not retried: no turn-around delay either.
                assert!(t0.elapsed() < Duration::from_millis(900), "{}", imp.name);
            }
        }
        let stat = show_stat(&sock.sock());
        for be in ["host_wrong", "sni_wrong"] {
            let row = format!("{be}/BACKEND");
            got.push(format!(
                "{be} econ {} wretr {}",
                csv_num(&stat, &row, "econ"),
                csv_num(&stat, &row, "wretr")
            ));
        }
        px.stop();
        seen.push((imp.name, got));
    }
    let want = [
        "/ok 200 ---- 0",
        "/cn 200 ---- 0",
        "/host 503 SC-- 1",
        "/sni 503 SC-- 3",
        "host_wrong econ 1 wretr 1",
        "sni_wrong econ 1 wretr 0",
    ];
    for (name, got) in &seen {
        assert_eq!(got, &want, "{name}");
    }
}

/// `crt FILE`: the client certificate a server asks for is presented
/// (the server sees its CN); without it the server refuses the handshake:
/// a failed connect in TLS 1.2 (503 `SC--`, as HAProxy). In TLS 1.3 the
/// server refuses after the client's last flight, so when the refusal
/// arrives (before the request goes or after) decides between 503 and 502,
/// in HAProxy too.
fn client_certificate_with_crt(poller: &str) {
    let dir = TestDir::new("tls-srv-crt");
    let pki = make_pki(&dir);
    let srv = TlsServer::start(&pki.good, &["--ca", &pki.ca]);
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let log = LogSink::new();
        let verify = format!("ssl verify required ca-file {} sni str(a.test)", pki.ca);
        let cfg = format!(
            "global\n    log 127.0.0.1:{log} local0\n\
             defaults\n    mode http\n    log global\n    option httplog\n    retries 1\n\
             \x20   timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:@P0@\n\
             \x20   use_backend bare if {{ path_beg /bare }}\n    use_backend bare12 if {{ path_beg /12 }}\n\
             \x20   default_backend with_crt\n\
             backend with_crt\n    server s1 {srv} {verify} crt {crt}\n\
             backend bare\n    server s1 {srv} {verify}\n\
             backend bare12\n    server s1 {srv} {verify} ssl-max-ver TLSv1.2\n",
            log = log.port(),
            srv = srv.addr(),
            crt = pki.client,
        );
        let px = imp.start(&cfg);
        let mut got = Vec::new();
        let before = srv.handshakes().len();
        let r = http_get(px.addr(0), "/", &[]);
        got.push(format!(
            "crt: {} {}",
            r.status,
            r.text().contains("cn=pollux-client")
        ));
        let (_, term, _) = outcome(&log.line_with("GET / "), "f");
        got.push(format!("crt: {term}"));
        let r = http_get(px.addr(0), "/12", &[]);
        got.push(format!("no crt, TLS 1.2: {}", r.status));
        let (_, term, retries) = outcome(&log.line_with("GET /12"), "f");
        got.push(format!("no crt, TLS 1.2: {term} {retries}"));
        let r = http_get(px.addr(0), "/bare", &[]);
        assert!(
            matches!(r.status, 502 | 503),
            "{}: no crt, TLS 1.3: {r}",
            imp.name
        );
        // Only the handshake with the certificate went through.
        let hs = srv.handshakes()[before..].to_vec();
        got.push(format!("handshakes: {}", hs.len()));
        assert!(hs[0].contains("cn=pollux-client"), "{hs:?}");
        px.stop();
        seen.push((imp.name, got));
    }
    let want = [
        "crt: 200 true",
        "crt: ----",
        "no crt, TLS 1.2: 503",
        "no crt, TLS 1.2: SC-- 1",
        "handshakes: 1",
    ];
    for (name, got) in &seen {
        assert_eq!(got, &want, "{name}");
    }
}

/// `show stat`'s `status` and `check_status` of each server of `rows`.
fn check_states(sock: &std::path::Path, rows: &[&str]) -> Vec<String> {
    let stat = show_stat(sock);
    rows.iter()
        .map(|r| {
            let status = csv_field(&stat, r, "status");
            let word = csv_field(&stat, r, "check_status");
            format!("{r} {status} {}", word.trim_start_matches(['*', ' ']))
        })
        .collect()
}

/// Poll `check_states` until it is `want` (or give up after a while):
/// what it was last.
fn settle(sock: &std::path::Path, rows: &[&str], want: &[String]) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut got = check_states(sock, rows);
        // A `*` in `want` stands for any check status.
        for (g, w) in got.iter_mut().zip(want) {
            if let Some(head) = w.strip_suffix('*') {
                if g.starts_with(head) {
                    *g = w.clone();
                }
            }
        }
        if got == want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Health checks over TLS, side by side with HAProxy 2.6: `option
/// httpchk` and a plain `check` on an `ssl` server go over TLS (verified,
/// `check-sni`), `check-ssl` on a server without `ssl`, `port` sending the
/// checks elsewhere in plain text, a certificate `verify required` refuses,
/// `option ssl-hello-chk` to a TLS and to a plain HTTP server, and a
/// `tcp-check connect ssl sni NAME` script. The
/// TLS server then answers 503, then closes before the handshake: the
/// servers' states and check statuses follow, as in HAProxy.
fn health_checks_over_tls(poller: &str) {
    let dir = TestDir::new("tls-srv-checks");
    let pki = make_pki(&dir);
    let state = dir.join("state");
    std::fs::write(&state, "up").unwrap();
    let srv = TlsServer::start(&pki.good, &["--state", state.to_str().unwrap()]);
    let bad = TlsServer::start(&pki.bad, &[]);
    let plain = common::http::HttpBackend::start("plain");
    let sock = SockDir::new();
    let rows = [
        "http/s1",
        "http/port",
        "l4/s1",
        "l4/check_ssl",
        "l4/refused",
        "hello/tls",
        "hello/plain",
        "script/s1",
    ];
    let phases = [
        (
            "up",
            [
                "UP L7OK",
                "UP L7OK",
                "UP L6OK",
                "UP L6OK",
                "DOWN L6RSP",
                "UP L6OK",
                "DOWN L6TOUT",
                "UP L7OK",
            ],
        ),
        (
            "down",
            [
                "DOWN L7STS",
                "UP L7OK",
                "UP L6OK",
                "UP L6OK",
                "DOWN L6RSP",
                "UP L6OK",
                "DOWN L6TOUT",
                // (A mismatch waits for more until `timeout check`.)
                "DOWN L7TOUT",
            ],
        ),
        // (The hello meets a reset, SOCKERR, or the close, L6RSP: a race.)
        (
            "closed",
            [
                "DOWN L6RSP",
                "UP L7OK",
                "DOWN L6RSP",
                "DOWN L6RSP",
                "DOWN L6RSP",
                "DOWN *",
                "DOWN L6TOUT",
                "DOWN L6RSP",
            ],
        ),
    ];
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        std::fs::write(&state, "up").unwrap();
        let verify = format!("verify required ca-file {} check-sni a.test", pki.ca);
        let chk = "check inter 100ms rise 1 fall 1";
        let cfg = format!(
            "global\n    stats socket {sock} level admin\n\
             defaults\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n    timeout check 2s\n\
             frontend f\n    bind 127.0.0.1:@P0@\n    default_backend http\n\
             backend http\n    option httpchk GET /health\n\
             \x20   server s1 {srv} ssl {verify} {chk}\n\
             \x20   server port {srv} ssl {verify} {chk} port {plain_port}\n\
             backend l4\n\
             \x20   server s1 {srv} ssl {verify} {chk}\n\
             \x20   server check_ssl {srv} check-ssl {verify} {chk}\n\
             \x20   server refused {bad} ssl {verify} {chk}\n\
             backend hello\n    option ssl-hello-chk\n\
             \x20   server tls {srv} {chk}\n    server plain {plain} {chk}\n\
             backend script\n    option tcp-check\n    tcp-check connect ssl sni a.test\n\
             \x20   tcp-check send \"GET /health HTTP/1.1\\r\\nhost: x\\r\\n\\r\\n\"\n\
             \x20   tcp-check expect string \"200 OK\"\n\
             \x20   server s1 {srv} verify required ca-file {ca} {chk}\n",
            ca = pki.ca,
            sock = sock.sock().display(),
            srv = srv.addr(),
            bad = bad.addr(),
            plain = plain.addr(),
            plain_port = plain.addr().port(),
        );
        let px = imp.start(&cfg);
        for (phase, want) in &phases {
            std::fs::write(&state, phase).unwrap();
            let want: Vec<String> = rows
                .iter()
                .zip(want)
                .map(|(r, w)| format!("{r} {w}"))
                .collect();
            let got = settle(&sock.sock(), &rows, &want);
            seen.push((imp.name, phase, got, want));
        }
        px.stop();
    }
    for (name, phase, got, want) in &seen {
        assert_eq!(got, want, "{name}: TLS server {phase}; all: {seen:#?}");
    }
    // The checks sent check-sni and went through verification.
    assert!(
        srv.handshakes().iter().any(|h| h.contains("sni=a.test")),
        "{:?}",
        srv.handshakes()
    );
}

/// `ssl_bc*` in `http-response` rules and in HTTP and TCP log lines, and
/// TLS session resumption towards a server (`ssl_bc_is_resumed`, and the
/// server's own word) unless `no-ssl-reuse`; side by side with HAProxy 2.6.
fn server_tls_fetches_and_resumption(poller: &str) {
    let dir = TestDir::new("tls-srv-bc");
    let pki = make_pki(&dir);
    let srv = TlsServer::start(&pki.good, &[]);
    let plain = common::http::HttpBackend::start("plain");
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let log = LogSink::new();
        let bc =
            "%[ssl_bc] %[ssl_bc_protocol] %[ssl_bc_cipher] %[ssl_bc_alpn] %[ssl_bc_is_resumed] \
                  %[ssl_bc_alg_keysize]/%[ssl_bc_use_keysize]";
        let tls = format!("ssl verify required ca-file {} verifyhost a.test", pki.ca);
        // One thread: HAProxy keeps a session to resume per thread.
        let sock = dir.join(&format!("{}.sock", imp.name));
        let cfg = format!(
            "global\n    log 127.0.0.1:{log} local0\n    nbthread 1\n    stats socket {sock}\n\
             defaults\n    log global\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    mode http\n    bind 127.0.0.1:@P0@\n    log-format \"L {bc} %HP\"\n\
             \x20   http-response set-header x-bc \"{bc}\"\n\
             \x20   use_backend noreuse if {{ path_beg /noreuse }}\n    use_backend plain if {{ path_beg /plain }}\n\
             \x20   default_backend reuse\n\
             backend reuse\n    mode http\n    option http-server-close\n\
             \x20   server s1 {srv} {tls} alpn http/1.1 ciphersuites TLS_AES_128_GCM_SHA256\n\
             backend noreuse\n    mode http\n    option http-server-close\n    server s1 {srv} {tls} no-ssl-reuse\n\
             backend plain\n    mode http\n    server s1 {plain}\n\
             frontend t\n    mode tcp\n    bind 127.0.0.1:@P1@\n    log-format \"T {bc}\"\n    default_backend tcp12\n\
             backend tcp12\n    mode tcp\n\
             \x20   server s1 {srv} ssl verify none ssl-max-ver TLSv1.2 ciphers ECDHE-ECDSA-AES256-GCM-SHA384\n",
            log = log.port(),
            srv = srv.addr(),
            plain = plain.addr(),
            sock = sock.display(),
        );
        let px = imp.start(&cfg);
        let mut got = Vec::new();
        let before = srv.handshakes().len();
        for path in ["/a", "/b", "/noreuse/1", "/noreuse/2", "/plain"] {
            let r = http_get(px.addr(0), path, &[]);
            got.push(format!(
                "{path} {} [{}]",
                r.status,
                r.header("x-bc").unwrap_or("?")
            ));
            let line = log.line_with(&format!(" {path}"));
            got.push(
                line[line.find(" L ").expect("the log line")..]
                    .trim()
                    .to_string(),
            );
        }
        let mut c = TcpStream::connect(px.addr(1)).unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        c.write_all(b"GET /tcp HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut buf = Vec::new();
        let _ = c.read_to_end(&mut buf);
        assert!(buf.starts_with(b"HTTP/1.1 200"), "{}", imp.name);
        let line = log.line_with(" T ");
        got.push(line[line.find(" T ").unwrap()..].trim().to_string());
        // What the server saw: resumed or not, and the ALPN agreed.
        for h in &srv.handshakes()[before..] {
            let words: Vec<&str> = h.split(' ').collect();
            got.push(format!("server: {} {} {}", words[1], words[4], words[5]));
        }
        // HAProxy's ssl module columns, on backends and servers.
        let rows = common::ops::show_stat(&sock);
        for row in [
            "f/FRONTEND",
            "reuse/BACKEND",
            "reuse/s1",
            "noreuse/s1",
            "plain/s1",
            "tcp12/BACKEND",
        ] {
            let n = |c: &str| common::ops::csv_field(&rows, row, c);
            got.push(format!(
                "{row} {} {} {}",
                n("ssl_sess"),
                n("ssl_reused_sess"),
                n("ssl_failed_handshake")
            ));
        }
        px.stop();
        seen.push((imp.name, got));
    }
    let l13 = "TLSv1.3 TLS_AES_128_GCM_SHA256 http/1.1";
    let n13 = "TLSv1.3 TLS_AES_256_GCM_SHA384";
    let want = [
        format!("/a 200 [1 {l13} 0 128/128]"),
        format!("L 1 {l13} 0 128/128 /a"),
        format!("/b 200 [1 {l13} 1 128/128]"),
        format!("L 1 {l13} 1 128/128 /b"),
        format!("/noreuse/1 200 [1 {n13}  0 256/256]"),
        format!("L 1 {n13} - 0 256/256 /noreuse/1"),
        format!("/noreuse/2 200 [1 {n13}  0 256/256]"),
        format!("L 1 {n13} - 0 256/256 /noreuse/2"),
        "/plain 200 [0    0 /]".to_string(),
        "L 0 - - - 0 -/- /plain".to_string(),
        "T 1 TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 - 0 256/256".to_string(),
        "server: resumed=0 alpn=http/1.1 ver=TLSv1.3".to_string(),
        "server: resumed=1 alpn=http/1.1 ver=TLSv1.3".to_string(),
        "server: resumed=0 alpn=- ver=TLSv1.3".to_string(),
        "server: resumed=0 alpn=- ver=TLSv1.3".to_string(),
        "server: resumed=0 alpn=- ver=TLSv1.2".to_string(),
        "f/FRONTEND 0 0 0".to_string(),
        // A resumed handshake is not counted in ssl_sess (HAProxy).
        "reuse/BACKEND 1 1 0".to_string(),
        "reuse/s1 1 1 0".to_string(),
        "noreuse/s1 2 0 0".to_string(),
        "plain/s1 0 0 0".to_string(),
        "tcp12/BACKEND 1 0 0".to_string(),
    ];
    for (name, got) in &seen {
        assert_eq!(got, &want, "{name}");
    }
}

/// The extension types of the first ClientHello a connection to `l`
/// sends (the connection is then closed).
fn client_hello_extensions(l: &TcpListener) -> Vec<u16> {
    let (mut c, _) = l.accept().unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut head = [0u8; 5];
    c.read_exact(&mut head).unwrap();
    assert_eq!(head[0], 0x16, "a handshake record");
    let mut rec = vec![0u8; usize::from(u16::from_be_bytes([head[3], head[4]]))];
    c.read_exact(&mut rec).unwrap();
    // handshake header (4), version (2), random (32), then three vectors.
    let mut at = 4 + 2 + 32;
    at += 1 + usize::from(rec[at]);
    at += 2 + usize::from(u16::from_be_bytes([rec[at], rec[at + 1]]));
    at += 1 + usize::from(rec[at]);
    let end = at + 2 + usize::from(u16::from_be_bytes([rec[at], rec[at + 1]]));
    at += 2;
    let mut types = Vec::new();
    while at + 4 <= end {
        types.push(u16::from_be_bytes([rec[at], rec[at + 1]]));
        at += 4 + usize::from(u16::from_be_bytes([rec[at + 2], rec[at + 3]]));
    }
    types
}

/// `no-tls-tickets` on a server line and in `ssl-default-server-options`:
/// the ClientHello asks for no RFC 5077 ticket (extension 35), as HAProxy's.
fn no_tls_tickets_towards_servers(poller: &str) {
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        for (global, opt) in [
            ("", ""),
            ("", "no-tls-tickets"),
            ("    ssl-default-server-options no-tls-tickets\n", ""),
        ] {
            let trap = TcpListener::bind("127.0.0.1:0").unwrap();
            let cfg = format!(
                "global\n{global}\
                 defaults\n    mode http\n    retries 0\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend f\n    bind 127.0.0.1:@P0@\n    default_backend b\n\
                 backend b\n    server s1 {} ssl verify none ssl-max-ver TLSv1.2 {opt}\n",
                trap.local_addr().unwrap()
            );
            let px = imp.start(&cfg);
            let to = px.addr(0);
            let client = std::thread::spawn(move || http_get(to, "/", &[]).status);
            let exts = client_hello_extensions(&trap);
            assert_eq!(client.join().unwrap(), 503, "{}", imp.name);
            px.stop();
            seen.push(format!(
                "{} {global:?} {opt:?}: ticket {}",
                imp.name,
                exts.contains(&35)
            ));
        }
    }
    let want = |name: &str| {
        vec![
            format!("{name} \"\" \"\": ticket true"),
            format!("{name} \"\" \"no-tls-tickets\": ticket false"),
            format!(
                "{name} \"    ssl-default-server-options no-tls-tickets\\n\" \"\": ticket false"
            ),
        ]
    };
    assert_eq!(seen[..3], want("pollux")[..], "{seen:#?}");
    if seen.len() > 3 {
        assert_eq!(seen[3..], want("haproxy")[..], "{seen:#?}");
    }
}

/// `check-alpn`: the checks offer their own ALPN list, the traffic the
/// server's (none here); as HAProxy 2.6.
fn check_alpn_is_the_checks_own(poller: &str) {
    let dir = TestDir::new("tls-srv-check-alpn");
    let pki = make_pki(&dir);
    let srv = TlsServer::start(&pki.good, &[]);
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let cfg = format!(
            "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:@P0@\n    default_backend b\n\
             \x20   http-response set-header x-alpn \"[%[ssl_bc_alpn]]\"\n\
             backend b\n    server s1 {} ssl verify none check inter 100ms check-alpn http/1.1\n",
            srv.addr()
        );
        let before = srv.handshakes().len();
        let px = imp.start(&cfg);
        // A few checks first.
        let deadline = Instant::now() + PATIENCE;
        while srv.handshakes().len() < before + 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let r = http_get(px.addr(0), "/", &[]);
        px.stop();
        // (The server's lines reach us through a pipe: wait for the last.)
        let alpns = loop {
            let alpns: std::collections::BTreeSet<String> = srv.handshakes()[before..]
                .iter()
                .filter_map(|h| {
                    h.split(' ')
                        .find(|w| w.starts_with("alpn="))
                        .map(str::to_string)
                })
                .collect();
            if alpns.len() > 1 || Instant::now() > deadline {
                break alpns;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        seen.push((
            imp.name,
            r.status,
            r.header("x-alpn").unwrap_or("?").to_string(),
            alpns,
        ));
    }
    for (name, status, header, alpns) in &seen {
        assert_eq!(
            (*status, header.as_str()),
            (200, "[]"),
            "{name}: the traffic offers none"
        );
        let want: std::collections::BTreeSet<String> = ["alpn=-", "alpn=http/1.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(alpns, &want, "{name}: checks with, traffic without");
    }
}

per_poller!(
    check_alpn_is_the_checks_own,
    certificate_names_as_haproxy,
    no_tls_tickets_towards_servers,
    handshake_failure_is_a_failed_connect,
    client_certificate_with_crt,
    health_checks_over_tls,
    server_tls_fetches_and_resumption
);

/// `haproxy -c` on `cfg`: its exit code, None without HAProxy 2.6.
fn haproxy_check(dir: &TestDir, cfg: &std::path::Path) -> Option<i32> {
    haproxy_26()?;
    let out = Command::new("/usr/sbin/haproxy")
        .args(["-c", "-q", "-f", cfg.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .expect("haproxy -c");
    out.status.code()
}

/// The server TLS lines `-c` takes or refuses, each error on its line and
/// naming the file; HAProxy 2.6 gives the same verdict.
#[test]
fn server_tls_config_checks() {
    let dir = TestDir::new("tls-srv-cfg");
    let pki = make_pki(&dir);
    // The client certificate with the CA's key: they do not match.
    let crt = std::fs::read_to_string(dir.join("client.crt")).unwrap();
    let key = std::fs::read_to_string(dir.join("ca.key")).unwrap();
    std::fs::write(dir.join("mismatch.pem"), crt + &key).unwrap();
    let head = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n";
    let srv = format!(
        "backend b\n    server s 127.0.0.1:1 ssl verify required ca-file {}",
        pki.ca
    );
    let d = dir.path().display();
    for (global, line, want) in [
        (String::new(), format!("{srv} crt {}\n", pki.client), None),
        // `crt-base` is the directory of a relative `crt`.
        (
            format!("global\n    crt-base {d}\n"),
            format!("{srv} crt client.pem\n"),
            None,
        ),
        (
            String::new(),
            format!("{srv} crt {d}/none.pem\n"),
            Some("none.pem"),
        ),
        (
            String::new(),
            format!("{srv} crt {d}/mismatch.pem\n"),
            Some("does not fit"),
        ),
        (
            String::new(),
            format!("{srv} crt\n"),
            Some("expects an argument"),
        ),
        (
            format!(
                "global\n    ssl-default-server-options crt {}\n",
                pki.client
            ),
            format!("{srv}\n"),
            Some("unknown or unsupported option 'crt'"),
        ),
        (
            "global\n    ssl-default-server-options ssl-min-ver TLSv1.2 no-tlsv13\n".into(),
            format!("{srv}\n"),
            None,
        ),
    ] {
        let path = dir.join("s.cfg");
        // (HAProxy's -c says 2 without a listener.)
        let fe = "frontend f\n    bind 127.0.0.1:1\n    default_backend b\n";
        std::fs::write(&path, format!("{global}{head}{line}{fe}")).unwrap();
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        let code = if want.is_some() { 1 } else { 0 };
        assert_eq!(out.code(), Some(code), "{global}{line}: {}", out.stderr);
        if let Some(w) = want {
            let at = format!("s.cfg:{}:", global.lines().count() + 7);
            let at = if global.contains("ssl-default") {
                "s.cfg:2:".into()
            } else {
                at
            };
            assert!(
                out.stderr.lines().any(|l| l.contains(&at) && l.contains(w)),
                "{global}{line}: want '{w}' at {at}: {}",
                out.stderr
            );
        }
        if let Some(theirs) = haproxy_check(&dir, &path) {
            assert_eq!(theirs, code, "haproxy -c on {global}{line}");
        }
    }
}
