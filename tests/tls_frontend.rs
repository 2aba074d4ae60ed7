//! TLS frontends (`bind ... ssl crt`), with real clients (curl, `openssl
//! s_client`) and certificates made at test time by `openssl` (a CA, an
//! ECDSA certificate for a.test, an RSA one for r.test and *.w.test):
//! certificate selection by SNI (exact, wildcard, default, `strict-sni`),
//! ALPN, version bounds, large bodies both ways and keep-alive through the
//! TLS transport, garbage instead of a ClientHello, and the config errors
//! (a missing file, a key that does not match, `ssl` without `crt`).

mod common;

use common::http::HttpBackend;
use common::pki::openssl;
use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Certificates for the tests, made by the openssl CLI in `dir`.
struct Pki {
    ca: String,
    ec: String,
    rsa: String,
}

fn make_pki(dir: &TestDir) -> Pki {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=pollux test CA",
        ],
    );
    // name, key type, SANs
    for (name, key, san) in [
        ("ec", "ec:ca.pem", "DNS:a.test"),
        ("rsa", "rsa:2048", "DNS:r.test,DNS:*.w.test"),
    ] {
        let mut req = vec!["req", "-new", "-nodes", "-keyout"];
        let keyf = format!("{name}.key");
        let csr = format!("{name}.csr");
        req.extend([keyf.as_str(), "-out", csr.as_str(), "-subj", "/CN=test"]);
        if key.starts_with("ec") {
            req.extend(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]);
        } else {
            req.extend(["-newkey", key]);
        }
        openssl(dir, &req);
        let ext = dir.join(&format!("{name}.ext"));
        std::fs::write(&ext, format!("subjectAltName={san}\n")).unwrap();
        let crt = format!("{name}.crt");
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
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
        // HAProxy's usual layout: certificate, then its key, in one file.
        let pem = std::fs::read_to_string(dir.join(&crt)).unwrap()
            + &std::fs::read_to_string(dir.join(&keyf)).unwrap();
        std::fs::write(dir.join(&format!("{name}.pem")), pem).unwrap();
    }
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    Pki {
        ca: p("ca.pem"),
        ec: p("ec.pem"),
        rsa: p("rsa.pem"),
    }
}

fn config(pki: &Pki, be: SocketAddr, extra: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend tls\n    bind 127.0.0.1:@P0@ ssl crt {} crt {} {extra}\n    default_backend be\n\
         backend be\n    server s1 {be}\n",
        pki.ec, pki.rsa
    )
}

/// `openssl s_client` against `to` with `args`: its whole output.
fn s_client(to: SocketAddr, args: &[&str]) -> String {
    let mut child = Command::new("timeout")
        .args(["10", "openssl", "s_client", "-connect", &to.to_string()])
        // -brief says little, but enough, except for ALPN.
        .args(if args.contains(&"-alpn") {
            &[][..]
        } else {
            &["-brief"][..]
        })
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_client");
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// curl through `to` as https://HOST/PATH, verifying with the test CA:
/// (status, body).
fn curl(to: SocketAddr, host: &str, path: &str, ca: &str, extra: &[&str]) -> (String, Vec<u8>) {
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "10",
            "--cacert",
            ca,
            "-w",
            "\n%{http_code}",
        ])
        .args(["--resolve", &format!("{host}:{}:{}", to.port(), to.ip())])
        .args(extra)
        .arg(format!("https://{host}:{}{path}", to.port()))
        .output()
        .expect("curl");
    let mut body = out.stdout;
    let at = body.iter().rposition(|&c| c == b'\n').unwrap_or(0);
    let code = String::from_utf8_lossy(&body[at + 1..]).to_string();
    body.truncate(at);
    (code, body)
}

fn sni_picks_the_certificate(poller: &str) {
    let dir = TestDir::new("tls-sni");
    let pki = make_pki(&dir);
    let be = HttpBackend::start("be");
    let px = Pollux::start(poller, &config(&pki, be.addr(), "alpn h2,http/1.1"));
    let to = px.addr(0);
    // Verified with the CA and the name: the right certificate each time.
    for host in ["a.test", "r.test", "x.w.test"] {
        let (code, body) = curl(to, host, "/", &pki.ca, &[]);
        assert_eq!(
            (code.as_str(), body.as_slice()),
            ("200", &b"be\n"[..]),
            "{host}"
        );
    }
    // No name, or an unknown one: the first certificate (a.test's).
    let out = s_client(
        to,
        &[
            "-noservername",
            "-CAfile",
            &pki.ca,
            "-verify_hostname",
            "a.test",
        ],
    );
    assert!(out.contains("Verification: OK"), "{out}");
    let out = s_client(
        to,
        &[
            "-servername",
            "nope.test",
            "-CAfile",
            &pki.ca,
            "-verify_hostname",
            "a.test",
        ],
    );
    assert!(out.contains("Verification: OK"), "{out}");
    // Two levels under the wildcard are not covered by it.
    let (code, _) = curl(to, "x.y.w.test", "/", &pki.ca, &[]);
    assert_ne!(code, "200");
    // h2 is left out of the ALPN list (no HTTP/2 yet): http/1.1 is chosen.
    let out = s_client(to, &["-alpn", "h2,http/1.1", "-servername", "a.test"]);
    assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    assert!(px.stderr().contains("'h2' is left out of the ALPN list"));
    px.stop();
}

fn strict_sni_and_versions(poller: &str) {
    let dir = TestDir::new("tls-strict");
    let pki = make_pki(&dir);
    let be = HttpBackend::start("be");
    let px = Pollux::start(
        poller,
        &config(&pki, be.addr(), "strict-sni ssl-max-ver TLSv1.2"),
    );
    let to = px.addr(0);
    let (code, _) = curl(to, "a.test", "/", &pki.ca, &[]);
    assert_eq!(code, "200");
    let out = s_client(to, &["-servername", "a.test"]);
    assert!(out.contains("Protocol version: TLSv1.2"), "{out}");
    // strict-sni: no certificate for the name, no handshake.
    let out = s_client(to, &["-servername", "nope.test"]);
    assert!(!out.contains("Protocol version"), "{out}");
    let out = s_client(to, &["-noservername"]);
    assert!(!out.contains("Protocol version"), "{out}");
    // TLS 1.3 only from the client: refused.
    let out = s_client(to, &["-servername", "a.test", "-tls1_3"]);
    assert!(!out.contains("Protocol version"), "{out}");
    px.stop();
}

fn bodies_and_keep_alive_over_tls(poller: &str) {
    let dir = TestDir::new("tls-bodies");
    let pki = make_pki(&dir);
    let be = HttpBackend::start("be");
    let px = Pollux::start(poller, &config(&pki, be.addr(), ""));
    let to = px.addr(0);
    // A large response, Content-Length and chunked: every byte, in order.
    for path in ["/len/3000000", "/chunked/1000000"] {
        let n: usize = path.rsplit('/').next().unwrap().parse().unwrap();
        let (code, body) = curl(to, "a.test", path, &pki.ca, &[]);
        assert_eq!(code, "200", "{path}");
        assert_eq!(body, pattern(n as u64, n), "{path}");
    }
    // A large upload: the backend saw all of it.
    let upload = dir.join("up.bin");
    std::fs::write(&upload, pattern(7, 2_000_000)).unwrap();
    let (code, _) = curl(
        to,
        "a.test",
        "/",
        &pki.ca,
        &[
            "--data-binary",
            &format!("@{}", upload.display()),
            "-D",
            "-",
        ],
    );
    assert_eq!(code, "200");
    let got = be.requests();
    let last = got.last().expect("a request");
    assert_eq!(last.body.len, 2_000_000);
    assert_eq!(last.body.hash.0, common::http::pattern_hash(7, 2_000_000));
    // Three requests on one connection.
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "10",
            "--cacert",
            &pki.ca,
            "-w",
            "%{num_connects} ",
        ])
        .args(["--resolve", &format!("a.test:{}:127.0.0.1", to.port())])
        .args([0, 1, 2].map(|i| format!("https://a.test:{}/k{i}", to.port())))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.matches("be\n").count(), 3, "{text}");
    assert!(
        text.contains("be\n1 be\n0 be\n0 "),
        "one connection: {text}"
    );
    px.stop();
}

fn garbage_and_plain_http_get_closed(poller: &str) {
    let dir = TestDir::new("tls-garbage");
    let pki = make_pki(&dir);
    let be = HttpBackend::start("be");
    let px = Pollux::start(poller, &config(&pki, be.addr(), ""));
    let to = px.addr(0);
    for junk in [
        &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
        &[0x16, 0x03, 0x01, 0x00, 0x10, 0x01][..], // a truncated ClientHello, then EOF
        &[0u8; 300][..],
    ] {
        let mut c = TcpStream::connect(to).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(junk).unwrap();
        let _ = c.shutdown(std::net::Shutdown::Write);
        let mut got = Vec::new();
        let _ = c.read_to_end(&mut got);
        // At most a TLS alert record, never an HTTP answer.
        assert!(got.is_empty() || got[0] == 0x15, "{got:?}");
    }
    // A stalled handshake is bounded by `timeout client`.
    let mut c = TcpStream::connect(to).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut got = Vec::new();
    let t = std::time::Instant::now();
    let _ = c.read_to_end(&mut got);
    assert!(
        t.elapsed() < Duration::from_secs(14),
        "closed by the timeout"
    );
    // And the proxy still serves.
    assert_eq!(curl(to, "a.test", "/", &pki.ca, &[]).0, "200");
    assert_eq!(
        be.accepted(),
        1,
        "nothing reached the backend but the last request"
    );
    px.stop();
}

fn ciphers_select_suites(poller: &str) {
    let dir = TestDir::new("tls-ciphers");
    let pki = make_pki(&dir);
    let be = HttpBackend::start("be");
    // Debian's stock list (DHE suites in it: a warning), one TLS 1.3 suite.
    let global = "global\n    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256\n\
                  \x20   ssl-default-bind-ciphersuites TLS_CHACHA20_POLY1305_SHA256\n";
    let px = Pollux::start(poller, &(global.to_string() + &config(&pki, be.addr(), "")));
    let to = px.addr(0);
    let out = s_client(to, &["-servername", "a.test", "-tls1_2"]);
    assert!(
        out.contains("Ciphersuite: ECDHE-ECDSA-AES128-GCM-SHA256"),
        "{out}"
    );
    let out = s_client(
        to,
        &[
            "-servername",
            "a.test",
            "-tls1_2",
            "-cipher",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
        ],
    );
    assert!(
        !out.contains("Protocol version"),
        "a suite the list leaves out: {out}"
    );
    let out = s_client(to, &["-servername", "a.test", "-tls1_3"]);
    assert!(
        out.contains("Ciphersuite: TLS_CHACHA20_POLY1305_SHA256"),
        "{out}"
    );
    assert!(
        px.stderr().contains("cannot be offered by rustls"),
        "{}",
        px.stderr()
    );
    px.stop();
}

/// `ssl_fc*` fetches and `redirect scheme https if !{ ssl_fc }`, side by
/// side with HAProxy 2.6 (OpenSSL) on the same certificates and clients.
fn ssl_fetches_as_haproxy(poller: &str) {
    let dir = TestDir::new("tls-fetches");
    let pki = make_pki(&dir);
    let fetches = "%[ssl_fc] %[ssl_fc_has_sni] %[ssl_fc_sni] %[ssl_fc_protocol] %[ssl_fc_cipher] \
                   %[ssl_fc_alpn] %[ssl_fc_is_resumed]";
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend f\n    bind 127.0.0.1:@P0@ ssl crt {} crt {} alpn http/1.1 ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384 \
         ciphersuites TLS_AES_128_GCM_SHA256\n    bind 127.0.0.1:@P1@\n\
         \x20   http-request redirect scheme https code 301 if !{{ ssl_fc }}\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"{fetches}\"\n",
        pki.ec, pki.rsa
    );
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let px = imp.start(&cfg);
        let (tls, plain) = (px.addr(0), px.addr(1));
        let mut got = Vec::new();
        for (host, extra) in [
            ("a.test", &["--tlsv1.3"][..]),
            ("x.w.test", &["--tls-max", "1.2"][..]),
        ] {
            let (code, body) = curl(tls, host, "/", &pki.ca, extra);
            got.push(format!("{code} {}", String::from_utf8_lossy(&body)));
        }
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{redirect_url}",
            ])
            .arg(format!("http://{plain}/p?q"))
            .output()
            .unwrap();
        // The port differs between the two proxies' runs.
        got.push(String::from_utf8_lossy(&out.stdout).replace(&plain.to_string(), "PLAIN"));
        px.stop();
        seen.push((imp.name, got));
    }
    let ours = &seen[0].1;
    assert_eq!(
        ours[0], "200 1 1 a.test TLSv1.3 TLS_AES_128_GCM_SHA256 http/1.1 0",
        "{ours:?}"
    );
    assert_eq!(
        ours[1], "200 1 1 x.w.test TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384 http/1.1 0",
        "{ours:?}"
    );
    assert_eq!(ours[2], "301 https://PLAIN/p?q", "{ours:?}");
    if let Some((_, theirs)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux, then HAProxy");
    }
}

/// `option httpslog` and `%ft`'s `~`: the TLS fields of the log line are
/// HAProxy 2.6's.
fn httpslog_as_haproxy(poller: &str) {
    let dir = TestDir::new("tls-log");
    let pki = make_pki(&dir);
    let be = HttpBackend::start("be");
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let log = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let cfg = format!(
            "global\n    log 127.0.0.1:{} local0\n\
             defaults\n    mode http\n    log global\n    option httpslog\n\
             \x20   timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:@P0@ ssl crt {} ciphersuites TLS_AES_128_GCM_SHA256\n\
             \x20   default_backend be\nbackend be\n    server s1 {}\n",
            log.local_addr().unwrap().port(),
            pki.ec,
            be.addr()
        );
        let px = imp.start(&cfg);
        let (code, _) = curl(px.addr(0), "a.test", "/x", &pki.ca, &["--tlsv1.3"]);
        assert_eq!(code, "200", "{}", imp.name);
        let mut buf = vec![0u8; 4096];
        // Past the "Proxy f started." lines, the request's.
        let line = loop {
            let n = log.recv(&mut buf).expect("a log line");
            let line = String::from_utf8_lossy(&buf[..n]).to_string();
            if line.contains("GET /x") {
                break line;
            }
        };
        px.stop();
        // Frontend, backend/server, and the TLS fields at the end.
        let fields: Vec<&str> = line.split(' ').collect();
        let at = fields
            .iter()
            .position(|f| *f == "f" || *f == "f~")
            .unwrap_or(0);
        let mut got = vec![fields[at].to_string(), fields[at + 1].to_string()];
        got.extend(
            fields[fields.len() - 2..]
                .iter()
                .map(|s| s.trim().to_string()),
        );
        seen.push((imp.name, got, line));
    }
    let (_, ours, line) = &seen[0];
    assert_eq!(
        ours,
        &[
            "f~",
            "be/s1",
            "0/0000000000000000/0/0/0",
            "a.test/TLSv1.3/TLS_AES_128_GCM_SHA256"
        ],
        "{line}"
    );
    if let Some((_, theirs, hline)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux: {line}\nHAProxy: {hline}");
    }
}

/// SNI and ALPN routing of TLS that passes through (`req.ssl_sni`,
/// `req.ssl_alpn`, `req.ssl_hello_type` in `tcp-request content`), to two
/// TLS frontends of the same process; side by side with HAProxy 2.6.
fn sni_routing_without_terminating(poller: &str) {
    let dir = TestDir::new("tls-route");
    let pki = make_pki(&dir);
    let cfg = format!(
        "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend router\n    mode tcp\n    bind 127.0.0.1:@P0@\n    tcp-request inspect-delay 5s\n\
         \x20   tcp-request content accept if {{ req.ssl_hello_type 1 }}\n\
         \x20   use_backend to_b if {{ req.ssl_alpn acme-tls/1 }}\n\
         \x20   use_backend to_a if {{ req.ssl_sni -i a.test }}\n    default_backend to_b\n\
         backend to_a\n    mode tcp\n    server a 127.0.0.1:@P1@\n\
         backend to_b\n    mode tcp\n    server b 127.0.0.1:@P2@\n\
         frontend ta\n    mode http\n    bind 127.0.0.1:@P1@ ssl crt {ec} crt {rsa} alpn http/1.1,acme-tls/1\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"A %[ssl_fc_sni]\"\n\
         frontend tb\n    mode http\n    bind 127.0.0.1:@P2@ ssl crt {ec} crt {rsa} alpn http/1.1,acme-tls/1\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"B %[ssl_fc_sni]\"\n",
        ec = pki.ec,
        rsa = pki.rsa
    );
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let px = imp.start(&cfg);
        let to = px.addr(0);
        let mut got = Vec::new();
        for host in ["a.test", "r.test", "x.w.test"] {
            let (code, body) = curl(to, host, "/", &pki.ca, &[]);
            got.push(format!("{code} {}", String::from_utf8_lossy(&body)));
        }
        // ALPN acme-tls/1 goes to B whatever the name.
        let out = s_client(to, &["-servername", "a.test", "-alpn", "acme-tls/1"]);
        got.push(
            out.lines()
                .find(|l| l.contains("ALPN protocol"))
                .unwrap_or("no ALPN")
                .to_string(),
        );
        px.stop();
        seen.push((imp.name, got));
    }
    let ours = &seen[0].1;
    assert_eq!(
        ours[..3],
        ["200 A a.test", "200 B r.test", "200 B x.w.test"],
        "{ours:?}"
    );
    assert_eq!(ours[3], "ALPN protocol: acme-tls/1", "{ours:?}");
    if let Some((_, theirs)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux, then HAProxy");
    }
}

/// TLS towards servers: `server ... ssl` to a TLS frontend of the same
/// process, verified with the CA and the SNI sent, or `verifyhost`; a name
/// the certificate does not carry fails the connection; `verify none`
/// trusts anything. Large bodies both ways go through intact.
fn tls_to_servers(poller: &str) {
    let dir = TestDir::new("tls-servers");
    let pki = make_pki(&dir);
    let be = HttpBackend::start("be");
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend plain\n    bind 127.0.0.1:@P0@\n\
         \x20   use_backend by_sni if {{ path_beg /sni }}\n    use_backend by_host if {{ path_beg /host }}\n\
         \x20   use_backend wrong if {{ path_beg /wrong }}\n    use_backend blind if {{ path_beg /blind }}\n\
         \x20   default_backend by_sni\n\
         backend by_sni\n    server s 127.0.0.1:@P1@ ssl verify required ca-file {ca} sni req.hdr(x-sni) alpn http/1.1\n\
         backend by_host\n    server s 127.0.0.1:@P1@ ssl ca-file {ca} verifyhost a.test\n\
         backend wrong\n    server s 127.0.0.1:@P1@ ssl verify required ca-file {ca} sni str(nope.test)\n\
         backend blind\n    server s 127.0.0.1:@P1@ ssl verify none\n\
         frontend tls\n    bind 127.0.0.1:@P1@ ssl crt {ec} crt {rsa}\n\
         \x20   http-request set-header x-seen \"%[ssl_fc_sni] %[ssl_fc_protocol]\"\n    default_backend real\n\
         backend real\n    server s {be}\n",
        ca = pki.ca,
        ec = pki.ec,
        rsa = pki.rsa,
        be = be.addr()
    );
    let px = Pollux::start(poller, &cfg);
    let get = |path: &str, sni: &str| {
        let out = Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "10",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
            ])
            .args(["-H", &format!("x-sni: {sni}")])
            .arg(format!("http://{}{path}", px.addr(0)))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert_eq!(get("/sni/1", "a.test"), "200");
    assert_eq!(get("/sni/2", "x.w.test"), "200");
    assert_eq!(get("/host", ""), "200");
    // A name the certificate does not carry: the handshake fails, a failed
    // connect, retried then 503 (HAProxy; tests/tls_servers.rs compares).
    assert_eq!(
        get("/wrong", ""),
        "503",
        "a name the certificate does not carry"
    );
    assert_eq!(get("/blind", ""), "200");
    let seen: Vec<String> = be
        .requests()
        .iter()
        .filter_map(|r| r.head.header("x-seen").map(str::to_string))
        .collect();
    assert_eq!(
        seen[..2],
        ["a.test TLSv1.3", "x.w.test TLSv1.3"],
        "{seen:?}"
    );
    // A large upload and download through both TLS legs.
    let upload = dir.join("up.bin");
    std::fs::write(&upload, pattern(9, 1_500_000)).unwrap();
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "-H",
            "x-sni: a.test",
            "--data-binary",
        ])
        .arg(format!("@{}", upload.display()))
        .arg(format!("http://{}/len/2000000", px.addr(0)))
        .output()
        .unwrap();
    assert_eq!(out.stdout.len(), 2_000_000);
    let want = common::http::pattern_hash(2_000_000, 2_000_000);
    assert!(
        common::http::Fnv::of(&out.stdout) == want,
        "the download's bytes differ"
    );
    let last = be.requests().pop().expect("the upload");
    assert_eq!(last.body.hash.0, common::http::pattern_hash(9, 1_500_000));
    px.stop();
}

per_poller!(
    tls_to_servers,
    sni_routing_without_terminating,
    httpslog_as_haproxy,
    ssl_fetches_as_haproxy,
    ciphers_select_suites,
    sni_picks_the_certificate,
    strict_sni_and_versions,
    bodies_and_keep_alive_over_tls,
    garbage_and_plain_http_get_closed
);

#[test]
fn tls_config_errors_name_the_file() {
    let dir = TestDir::new("tls-errors");
    let pki = make_pki(&dir);
    let head = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n";
    // The RSA certificate with the EC key: they do not match.
    let crt = std::fs::read_to_string(dir.join("rsa.crt")).unwrap();
    let key = std::fs::read_to_string(dir.join("ec.key")).unwrap();
    let bad = dir.join("mismatch.pem");
    std::fs::write(&bad, crt + &key).unwrap();
    let cases = [
        (
            format!(
                "    bind 127.0.0.1:1 ssl crt {}/none.pem\n",
                dir.path().display()
            ),
            "none.pem",
        ),
        (
            format!("    bind 127.0.0.1:1 ssl crt {}\n", bad.display()),
            "does not fit the certificate",
        ),
        (
            "    bind 127.0.0.1:1 ssl\n".to_string(),
            "no SSL certificate specified (use 'crt')",
        ),
        (
            "    bind 127.0.0.1:1 ssl crt-list x.txt\n".to_string(),
            "'crt-list' : cannot open file 'x.txt'",
        ),
        (
            format!(
                "    bind 127.0.0.1:1 ssl crt {} ssl-max-ver TLSv1.1\n",
                pki.ec
            ),
            "does not offer",
        ),
        (
            format!("    bind 127.0.0.1:1 ssl crt {} curves X448\n", pki.ec),
            "curves X448",
        ),
    ];
    for (bind, want) in cases {
        let path = dir.join("t.cfg");
        std::fs::write(&path, format!("{head}{bind}")).unwrap();
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{bind}: {}", out.stderr);
        let line = out
            .stderr
            .lines()
            .find(|l| l.contains("t.cfg:7:"))
            .unwrap_or("");
        assert!(
            line.contains(want),
            "{bind}: want '{want}' in: {}",
            out.stderr
        );
    }
    // Servers: verification needs a CA unless told otherwise.
    let be_head = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nbackend b\n";
    for (extra, line, want) in [
        (
            "",
            "    server s 127.0.0.1:1 ssl\n",
            Some("no CA file specified"),
        ),
        (
            "",
            "    server s 127.0.0.1:1 ssl verify maybe\n",
            Some("expected 'none' or 'required'"),
        ),
        (
            "",
            "    server s 127.0.0.1:1 ssl verify none sni req.frobnicate\n",
            Some("server option 'sni'"),
        ),
        // Checks go over TLS (tests/tls_servers.rs).
        (
            "    option httpchk\n",
            "    server s 127.0.0.1:1 ssl verify none check\n",
            None,
        ),
        ("", "    server s 127.0.0.1:1 ssl verify none\n", None),
        (
            "",
            "    server s 127.0.0.1:1 ssl ca-file /nonexistent/ca.pem\n",
            Some("unable to load CA file"),
        ),
    ] {
        let path = dir.join("s.cfg");
        std::fs::write(&path, format!("{be_head}{extra}{line}")).unwrap();
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        match want {
            Some(w) => {
                assert_eq!(out.code(), Some(1), "{line}: {}", out.stderr);
                assert!(
                    out.stderr.contains(w) && out.stderr.contains("s.cfg:"),
                    "{line}: {}",
                    out.stderr
                );
            }
            None => assert_eq!(out.code(), Some(0), "{line}: {}", out.stderr),
        }
    }
    let path = dir.join("g.cfg");
    std::fs::write(
        &path,
        format!("global\n    ssl-server-verify none\n{be_head}    server s 127.0.0.1:1 ssl\n"),
    )
    .unwrap();
    let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(
        out.code(),
        Some(0),
        "ssl-server-verify none: {}",
        out.stderr
    );
    // `crt` without `ssl`: the file is checked, the listener stays plain (HAProxy).
    let path = dir.join("plain.cfg");
    std::fs::write(
        &path,
        format!("{head}    bind 127.0.0.1:1 crt {}\n", pki.ec),
    )
    .unwrap();
    let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
}
