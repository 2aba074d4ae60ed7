//! TLS bind options, side by side with HAProxy 2.6 (OpenSSL), certificates
//! made at test time by `openssl`:
//! - client certificates (`ca-file`, `verify`, `crl-file`, `crt-ignore-err`,
//!   `ca-ignore-err`) and the `ssl_c_*` fetches: curl with a good
//!   certificate, one from another CA, a revoked one (CRL), a self-signed
//!   one and none, over TLS 1.3 and 1.2;
//! - `crt-list`: SNI filters (wildcard, negative), the default certificate,
//!   per-line options (ALPN, minimum version, client certificates).

mod common;

use common::pki::openssl;
use common::*;
use std::net::SocketAddr;
use std::process::{Command, Stdio};

const EC: [&str; 4] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// A CA, another CA, a server certificate for a.test, client certificates
/// `good` and `revoked` (from the CA, revoked by `crl.pem`), `bad` (from
/// the other CA) and `self` (self-signed).
pub fn make_pki(dir: &TestDir) {
    for (name, subj) in [
        ("ca", "/C=FR/O=Pollux Test/CN=pollux test CA"),
        ("other", "/CN=other CA"),
        ("self", "/CN=self"),
    ] {
        let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
        let mut a = vec!["req", "-x509", "-nodes", "-days", "2", "-subj", subj];
        a.extend(EC);
        a.extend(["-keyout", &key, "-out", &crt]);
        openssl(dir, &a);
    }
    std::fs::write(dir.join("srv.ext"), "subjectAltName=DNS:a.test\n").unwrap();
    std::fs::write(dir.join("cli.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    std::fs::write(
        dir.join("rsa.ext"),
        "subjectAltName=DNS:r.test,DNS:*.w.test\n",
    )
    .unwrap();
    std::fs::write(dir.join("b.ext"), "subjectAltName=DNS:b.test\n").unwrap();
    for (name, ca, subj, ext) in [
        ("srv", "ca", "/CN=a.test", "srv.ext"),
        (
            "good",
            "ca",
            "/C=FR/O=Clients/OU=Unit A/OU=Unit B/CN=client good",
            "cli.ext",
        ),
        ("revoked", "ca", "/O=Clients/CN=client revoked", "cli.ext"),
        ("rsa", "ca", "/CN=r.test", "rsa.ext"),
        ("b", "ca", "/CN=b.test", "b.ext"),
        ("bad", "other", "/CN=client bad", "cli.ext"),
    ] {
        let (key, csr, crt) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.crt"),
        );
        let mut a = vec!["req", "-new", "-nodes", "-subj", subj];
        if name == "rsa" {
            a.extend(["-newkey", "rsa:2048"]);
        } else {
            a.extend(EC);
        }
        a.extend(["-keyout", &key, "-out", &csr]);
        openssl(dir, &a);
        let (cacrt, cakey) = (format!("{ca}.crt"), format!("{ca}.key"));
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &cacrt,
                "-CAkey",
                &cakey,
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                ext,
            ],
        );
    }
    for n in ["srv", "rsa", "b"] {
        let pem = std::fs::read_to_string(dir.join(&format!("{n}.crt"))).unwrap()
            + &std::fs::read_to_string(dir.join(&format!("{n}.key"))).unwrap();
        std::fs::write(dir.join(&format!("{n}.pem")), pem).unwrap();
    }
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ndefault_md=sha256\ndefault_crl_days=2\n",
    )
    .unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    let ca = ["-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt"];
    openssl(
        dir,
        &[&["ca"][..], &ca, &["-revoke", "revoked.crt"]].concat(),
    );
    openssl(
        dir,
        &[&["ca"][..], &ca, &["-gencrl", "-out", "crl.pem"]].concat(),
    );
}

/// curl https://a.test/ through `to` with client certificate `cert` (or
/// none): "CODE BODY", CODE 000 when the handshake or the exchange failed.
pub fn curl_cert(dir: &TestDir, to: SocketAddr, cert: Option<&str>, extra: &[&str]) -> String {
    let mut c = Command::new("curl");
    c.current_dir(dir.path())
        .args(["-s", "--max-time", "10", "--cacert", "ca.crt"])
        .args(["-w", "%{http_code}", "-o", "body.txt"])
        .args(["--resolve", &format!("a.test:{}:{}", to.port(), to.ip())])
        .args(extra);
    if let Some(n) = cert {
        c.args(["--cert", &format!("{n}.crt"), "--key", &format!("{n}.key")]);
    }
    let _ = std::fs::remove_file(dir.join("body.txt"));
    let out = c
        .arg(format!("https://a.test:{}/", to.port()))
        .output()
        .expect("curl");
    let body = std::fs::read_to_string(dir.join("body.txt")).unwrap_or_default();
    format!(
        "{} {}",
        String::from_utf8_lossy(&out.stdout),
        body.trim_end()
    )
}

const FETCHES: &str = "%[ssl_c_used] %[ssl_c_verify] %[ssl_c_err] %[ssl_c_ca_err] \
    %[ssl_c_ca_err_depth] s=%[ssl_c_s_dn] i=%[ssl_c_i_dn] cn=%[ssl_c_s_dn(cn)] \
    ou=%[ssl_c_s_dn(OU)],%[ssl_c_s_dn(OU,2)],%[ssl_c_s_dn(OU,-1)],%[ssl_c_s_dn(OU,3)] \
    ca=%[ssl_c_i_dn(CN)] %[ssl_c_serial,hex] %[ssl_c_notbefore] %[ssl_c_notafter] \
    %[ssl_c_version] %[ssl_c_sha1,hex] %[ssl_c_der,length] %[ssl_c_der,sha1,hex]";

fn client_certificates_as_haproxy(poller: &str) {
    let dir = TestDir::new("tls-client-certs");
    make_pki(&dir);
    let d = dir.path().display();
    let tls = format!("ssl crt {d}/srv.pem ca-file {d}/ca.crt");
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend f\n\
         \x20   bind 127.0.0.1:@P0@ {tls} verify optional crl-file {d}/crl.pem\n\
         \x20   bind 127.0.0.1:@P1@ {tls} verify optional crl-file {d}/crl.pem crt-ignore-err all ca-ignore-err all\n\
         \x20   bind 127.0.0.1:@P2@ {tls} verify required crl-file {d}/crl.pem\n\
         \x20   bind 127.0.0.1:@P3@ {tls} verify optional crt-ignore-err 20,21\n\
         \x20   bind 127.0.0.1:@P4@ {tls} verify optional crt-ignore-err 20,21,18 crl-file {d}/crl.pem\n\
         \x20   bind 127.0.0.1:@P5@\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"{FETCHES}\"\n"
    );
    let clients = [
        Some("good"),
        Some("bad"),
        Some("revoked"),
        Some("self"),
        None,
    ];
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let px = imp.start(&cfg);
        let mut got = Vec::new();
        for port in 0..5 {
            for c in clients {
                let r = curl_cert(&dir, px.addr(port), c, &[]);
                got.push(format!("P{port} {c:?}: {r}"));
            }
        }
        for c in [Some("good"), Some("bad")] {
            let r = curl_cert(&dir, px.addr(1), c, &["--tls-max", "1.2"]);
            got.push(format!("P1 TLSv1.2 {c:?}: {r}"));
        }
        // A plain connection: no TLS, no sample (the flags are false).
        let out = Command::new("curl")
            .args(["-s", "--max-time", "10"])
            .arg(format!("http://{}/", px.addr(5)))
            .output()
            .unwrap();
        got.push(format!("plain: {}", String::from_utf8_lossy(&out.stdout)));
        px.stop();
        seen.push((imp.name, got));
    }
    let ours = &seen[0].1;
    let line = |p: &str| {
        ours.iter()
            .find(|l| l.starts_with(p))
            .unwrap_or_else(|| panic!("{p}: {ours:#?}"))
            .as_str()
    };
    // The good certificate passes everywhere, its fields as OpenSSL shows them.
    let good = line("P0 Some(\"good\")");
    assert!(
        good.starts_with(
            "P0 Some(\"good\"): 200 1 0 0 0 0 s=/C=FR/O=Clients/OU=Unit A/OU=Unit B/CN=client good \
             i=/C=FR/O=Pollux Test/CN=pollux test CA cn=client good ou=Unit A,Unit B,Unit B, \
             ca=pollux test CA "
        ),
        "{good}"
    );
    assert!(good.contains(" 3 "), "version 3: {good}");
    // Refused by `verify optional` (no ignore list): bad, revoked, self.
    for c in ["bad", "revoked", "self"] {
        assert_eq!(
            line(&format!("P0 Some(\"{c}\")")),
            format!("P0 Some(\"{c}\"): 000 ")
        );
    }
    assert!(line("P0 None").starts_with("P0 None: 200 0 0 0 0 0 s= i="));
    assert!(line("P2 None").starts_with("P2 None: 000"));
    // Everything ignored: the errors OpenSSL reports.
    assert!(
        line("P1 Some(\"bad\")").starts_with("P1 Some(\"bad\"): 200 1 21 20 0 0 s=/CN=client bad")
    );
    assert!(line("P1 Some(\"revoked\")").starts_with("P1 Some(\"revoked\"): 200 1 23 23 0 0"));
    assert!(line("P1 Some(\"self\")").starts_with("P1 Some(\"self\"): 200 1 3 18 0 0"));
    // 20 and 21 ignored, no CRL: the other CA's certificate passes.
    assert!(line("P3 Some(\"bad\")").starts_with("P3 Some(\"bad\"): 200 1 21 20"));
    // With a CRL, its lookup fails too (3), not ignored.
    assert!(line("P4 Some(\"bad\")").starts_with("P4 Some(\"bad\"): 000"));
    if let Some((_, theirs)) = seen.get(1) {
        for (a, b) in ours.iter().zip(theirs) {
            assert_eq!(a, b, "pollux, then HAProxy");
        }
        assert_eq!(ours.len(), theirs.len());
    }
}

/// curl -v to https://HOST/ through `to`, any certificate accepted: what
/// the handshake gave (certificate subject, version, ALPN) and the answer.
fn probe(dir: &TestDir, to: SocketAddr, host: &str, extra: &[&str]) -> String {
    let _ = std::fs::remove_file(dir.join("body.txt"));
    let out = Command::new("curl")
        .current_dir(dir.path())
        .args(["-sv", "-k", "--max-time", "10", "-o", "body.txt"])
        .args(["-w", "%{http_code}"])
        .args(["--resolve", &format!("{host}:{}:{}", to.port(), to.ip())])
        .args(extra)
        .arg(format!("https://{host}:{}/", to.port()))
        .output()
        .expect("curl");
    let err = String::from_utf8_lossy(&out.stderr);
    let pick = |key: &str| {
        err.lines()
            .find_map(|l| l.split_once(key).map(|(_, v)| v.trim().to_string()))
            .unwrap_or_default()
    };
    let version = pick("SSL connection using ");
    let version = version.split(" /").next().unwrap_or("");
    format!(
        "{host}: subject={} {version} alpn={} {} {}",
        pick("subject: "),
        pick("ALPN: server accepted "),
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(dir.join("body.txt")).unwrap_or_default()
    )
}

/// The ALPN protocol `openssl s_client` gets offering `protos`.
fn alpn(to: SocketAddr, host: &str, protos: &str) -> String {
    let out = Command::new("timeout")
        .args(["10", "openssl", "s_client", "-connect", &to.to_string()])
        .args(["-servername", host, "-alpn", protos])
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.contains("ALPN"))
        .unwrap_or("no handshake")
        .trim()
        .to_string()
}

fn crt_list_as_haproxy(poller: &str) {
    let dir = TestDir::new("tls-crt-list");
    make_pki(&dir);
    let d = dir.path().display();
    std::fs::write(
        dir.join("list.txt"),
        format!(
            "# the first line's certificate is the default one\n\
             \n{d}/srv.pem\n\
             \x20 rsa.pem [alpn acme-tls/1,http/1.1 ssl-min-ver TLSv1.3] r.test *.w.test !no.w.test\n\
             b.pem [ verify required ca-file {d}/ca.crt ] b.test\n"
        ),
    )
    .unwrap();
    let cfg = format!(
        "global\n    crt-base {d}\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend f\n    bind 127.0.0.1:@P0@ ssl crt-list {d}/list.txt alpn http/1.1\n\
         \x20   bind 127.0.0.1:@P1@ ssl crt-list {d}/list.txt strict-sni\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"%[ssl_fc_sni] %[ssl_c_used] %[ssl_fc_protocol]\"\n"
    );
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let px = imp.start(&cfg);
        let (to, strict) = (px.addr(0), px.addr(1));
        let mut got = Vec::new();
        for host in [
            "a.test",
            "r.test",
            "x.w.test",
            "no.w.test",
            "b.test",
            "other.test",
        ] {
            got.push(probe(&dir, to, host, &[]));
        }
        got.push(probe(&dir, to, "r.test", &["--tls-max", "1.2"]));
        for host in ["r.test", "a.test"] {
            got.push(format!("{host}: {}", alpn(to, host, "acme-tls/1")));
        }
        got.push(probe(
            &dir,
            to,
            "b.test",
            &["--cert", "good.crt", "--key", "good.key"],
        ));
        for host in ["a.test", "no.w.test", "other.test"] {
            got.push(format!("strict {}", probe(&dir, strict, host, &[])));
        }
        px.stop();
        seen.push((imp.name, got));
    }
    let ours = &seen[0].1;
    let want = [
        "a.test: subject=CN=a.test TLSv1.3 alpn=http/1.1 200 a.test 0 TLSv1.3",
        "r.test: subject=CN=r.test TLSv1.3 alpn=http/1.1 200 r.test 0 TLSv1.3",
        "x.w.test: subject=CN=r.test TLSv1.3 alpn=http/1.1 200 x.w.test 0 TLSv1.3",
        // The negative filter stops the wildcard: the default certificate.
        "no.w.test: subject=CN=a.test TLSv1.3 alpn=http/1.1 200 no.w.test 0 TLSv1.3",
        // verify required, no certificate: refused.
        "b.test: subject=CN=b.test TLSv1.3 alpn=http/1.1 000 ",
        "other.test: subject=CN=a.test TLSv1.3 alpn=http/1.1 200 other.test 0 TLSv1.3",
        // ssl-min-ver TLSv1.3 on the line.
        "r.test: subject=  alpn= 000 ",
        // The line's ALPN list, the bind's elsewhere.
        "r.test: ALPN protocol: acme-tls/1",
        "a.test: No ALPN negotiated",
        "b.test: subject=CN=b.test TLSv1.3 alpn=http/1.1 200 b.test 1 TLSv1.3",
        "strict a.test: subject=CN=a.test TLSv1.3 alpn= 200 a.test 0 TLSv1.3",
        "strict no.w.test: subject=  alpn= 000 ",
        "strict other.test: subject=  alpn= 000 ",
    ];
    assert_eq!(ours.len(), want.len(), "{ours:#?}");
    for (a, b) in ours.iter().zip(want) {
        assert_eq!(a, b, "{ours:#?}");
    }
    if let Some((_, theirs)) = seen.get(1) {
        for (a, b) in ours.iter().zip(theirs) {
            assert_eq!(a, b, "pollux, then HAProxy");
        }
    }
}

per_poller!(client_certificates_as_haproxy, crt_list_as_haproxy);

#[test]
fn client_certificate_config_errors() {
    let dir = TestDir::new("tls-client-cert-errors");
    make_pki(&dir);
    let d = dir.path().display();
    let head = "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\nfrontend f\n";
    for (opts, want) in [
        (
            "verify required",
            "verify is enabled but no CA file specified",
        ),
        ("verify maybe", "unknown verify method 'maybe'"),
        (
            "ca-file /nonexistent.pem verify optional",
            "unable to load /nonexistent.pem",
        ),
        (
            "ca-file /nonexistent.pem",
            "unable to load /nonexistent.pem",
        ),
        (
            &format!("ca-file {d}/ca.crt verify optional crl-file {d}/ca.crt"),
            "'crl-file' : unable to load",
        ),
        (
            &format!("ca-file {d}/ca.crt verify optional crt-ignore-err 20,999"),
            "ID '999' out of range",
        ),
    ] {
        let path = dir.join("t.cfg");
        std::fs::write(
            &path,
            format!("{head}    bind 127.0.0.1:1 ssl crt {d}/srv.pem {opts}\n"),
        )
        .unwrap();
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{opts}: {}", out.stderr);
        let line = out
            .stderr
            .lines()
            .find(|l| l.contains("t.cfg:7:"))
            .unwrap_or("");
        assert!(
            line.contains(want),
            "{opts}: want '{want}' in: {}",
            out.stderr
        );
    }
    // crt-list: errors name the list's file and line.
    for (list, want) in [
        (
            "srv.pem [npn h2]\n",
            "list.txt:1: crt-list option 'npn' is not supported yet",
        ),
        (
            "# c\nsrv.pem [frob 1]\n",
            "list.txt:2: unknown crt-list option 'frob'",
        ),
        ("srv.pem\nnone.pem a.test\n", "list.txt:2: unable to load"),
        ("srv.pem [alpn h2\n", "list.txt:1: missing ']'"),
        (
            "srv.pem [verify required]\n",
            "list.txt:1: verify is enabled but no CA file",
        ),
    ] {
        std::fs::write(dir.join("list.txt"), list).unwrap();
        let path = dir.join("t.cfg");
        std::fs::write(
            &path,
            format!(
                "global\n    crt-base {d}\n{head}    bind 127.0.0.1:1 ssl crt-list {d}/list.txt\n"
            ),
        )
        .unwrap();
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{list}: {}", out.stderr);
        assert!(
            out.stderr
                .lines()
                .any(|l| l.contains("t.cfg:9:") && l.contains(want)),
            "{list}: want '{want}' in: {}",
            out.stderr
        );
    }
    let path = dir.join("g.cfg");
    std::fs::write(&path, "global\n    tune.ssl.maxrecord 10\n").unwrap();
    let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("g.cfg:2: 'tune.ssl.maxrecord 10'"),
        "{}",
        out.stderr
    );
    let path = dir.join("ok.cfg");
    std::fs::write(
        &path,
        format!(
            "global\n    ca-base {d}\n{head}    bind 127.0.0.1:1 ssl crt {d}/srv.pem ca-file ca.crt ca-verify-file other.crt verify required no-ca-names crl-file crl.pem\n"
        ),
    )
    .unwrap();
    let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr);
}

/// Failed handshakes, each logged on the line HAProxy 2.6 logs (same
/// traffic through each): garbage, a truncated ClientHello then EOF, a
/// connection closed at once, a stalled handshake (closed by `timeout
/// client`), no client certificate where one is required, one from another
/// CA, a reset; in HTTP and TCP frontends, by listener id or `name`, with
/// `option dontlognull`. The proxy serves on after all of them.
fn handshake_failures_are_logged_as_haproxy(poller: &str) {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let dir = TestDir::new("hs");
    make_pki(&dir);
    let d = dir.path().display();
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let log = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let cfg = format!(
            "global\n    log 127.0.0.1:{} local0\n    stats socket {d}/{}.sock level admin\n\
             defaults\n    log global\n    timeout connect 5s\n    timeout client 1s\n    timeout server 5s\n\
             frontend fh\n    mode http\n    option httplog\n\
             \x20   bind 127.0.0.1:@P0@ ssl crt {d}/srv.pem ca-file {d}/ca.crt verify required\n\
             \x20   http-request return status 200\n\
             listen ft\n    mode tcp\n    option tcplog\n    bind 127.0.0.1:@P1@ ssl crt {d}/srv.pem\n\
             \x20   tcp-request content reject\n    server s 127.0.0.1:1\n\
             frontend fn\n    mode http\n    option httplog\n    option dontlognull\n\
             \x20   bind 127.0.0.1:@P2@ ssl crt {d}/srv.pem name hs\n    http-request return status 200\n\
             frontend fc\n    mode http\n    bind 127.0.0.1:@P3@ ssl crt {d}/srv.pem\n    http-request return status 200\n",
            log.local_addr().unwrap().port(),
            &imp.name[..1]
        );
        let px = imp.start(&cfg);
        let mut ends = Vec::new();
        for port in 0..3 {
            let to = px.addr(port);
            // Raw clients: what they send, then wait for the proxy's close.
            for junk in [
                &b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"[..],
                &[0x16, 0x03, 0x01, 0x00, 0x10, 0x01][..],
                &[][..],
            ] {
                let mut c = TcpStream::connect(to).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                c.write_all(junk).unwrap();
                c.shutdown(std::net::Shutdown::Write).unwrap();
                let _ = c.read_to_end(&mut Vec::new());
            }
            // Stalled: closed by `timeout client` (1s), not later.
            let mut c = TcpStream::connect(to).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let t = Instant::now();
            let _ = c.read_to_end(&mut Vec::new());
            ends.push(t.elapsed());
            if port == 0 {
                // Garbage from a client that keeps its side open: closed
                // at once, not at the timeout.
                let mut c = TcpStream::connect(to).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                c.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff])
                    .unwrap();
                let t = Instant::now();
                let _ = c.read_to_end(&mut Vec::new());
                assert!(t.elapsed() < Duration::from_millis(800), "{}", imp.name);
                curl_cert(&dir, to, None, &[]);
                curl_cert(&dir, to, Some("bad"), &[]);
            }
            let ok = curl_cert(&dir, to, Some("good"), &["-H", "Connection: close"]);
            // A reset in the middle of a ClientHello.
            let c = TcpStream::connect(to).unwrap();
            (&c).write_all(&[0x16, 0x03, 0x01, 0x00, 0x10]).unwrap();
            socket2::SockRef::from(&c)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(c);
            std::thread::sleep(Duration::from_millis(200));
            ends.push(Duration::ZERO);
            let _ = ok;
        }
        // Without a log format: "Connect from" once the handshake is done.
        let mut c = TcpStream::connect(px.addr(3)).unwrap();
        c.write_all(&[0u8; 64]).unwrap();
        let _ = c.read_to_end(&mut Vec::new());
        curl_cert(&dir, px.addr(3), None, &["-H", "Connection: close"]);
        // Served on after all that.
        let up = curl_cert(&dir, px.addr(0), Some("good"), &["-H", "Connection: close"]);
        assert!(up.starts_with("200"), "{}: {up}", imp.name);
        // Connections, sessions (completed handshakes), TLS sessions and
        // failed handshakes (a timeout is none: HAProxy's counts).
        let stats = show_stat(&dir.join(&format!("{}.sock", &imp.name[..1])));
        let mut lines = Vec::new();
        for fe in ["fh", "ft", "fn"] {
            let row = format!("{fe}/FRONTEND");
            let n: Vec<u64> = ["conn_tot", "stot", "ssl_sess", "ssl_failed_handshake"]
                .iter()
                .map(|c| csv_num(&stats, &row, c))
                .collect();
            lines.push(format!("{fe} {n:?}"));
        }
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = log.recv(&mut buf) {
            let l = String::from_utf8_lossy(&buf[..n]).to_string();
            if !l.contains("Proxy ") {
                lines.push(normalize(&l));
            }
        }
        px.stop();
        // The order of lines from different connections is not the point.
        lines[3..].sort();
        for e in ends {
            assert!(
                e < Duration::from_secs(5),
                "{}: a stalled handshake lasted {e:?}",
                imp.name
            );
        }
        seen.push((imp.name, lines));
    }
    let ours = &seen[0].1;
    let mut want = vec![
        "fh [10, 2, 2, 7]",
        "ft [6, 1, 1, 4]",
        "fn [6, 1, 1, 4]",
        "<134> fh/1: SSL handshake failure",
        "<134> fh/1: SSL handshake failure",
        "<134> fh/1: Connection closed during SSL handshake",
        "<134> fh/1: Connection closed during SSL handshake",
        "<134> fh/1: Timeout during SSL handshake",
        "<134> fh/1: SSL handshake failure",
        "<134> fh/1: SSL client certificate not trusted",
        "<134> fh~ 200",
        "<134> fh/1: SSL handshake failure",
        "<134> ft/1: SSL handshake failure",
        "<134> ft/1: Connection closed during SSL handshake",
        "<134> ft/1: Connection closed during SSL handshake",
        "<134> ft/1: Timeout during SSL handshake",
        "<134> ft~ PR",
        "<134> ft/1: SSL handshake failure",
        // dontlognull: not the closes nor the timeout.
        "<134> fn/hs: SSL handshake failure",
        "<134> fn~ 200",
        "<134> fn/hs: SSL handshake failure",
        // No log format: no line for a failed handshake.
        "<134> Connect from (fc/HTTP)",
        "<134> fh~ 200",
    ];
    want[3..].sort();
    assert_eq!(ours, &want, "{ours:#?}");
    if let Some((_, theirs)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux, then HAProxy");
    }
}

/// A log line without what differs between runs: `<PRI> FE/LISTENER: WHY`
/// for a failed handshake, `<PRI> FE~ STATUS-OR-TERMINATION` for a stream.
fn normalize(line: &str) -> String {
    let pri = line.split('>').next().unwrap_or("").to_string() + ">";
    if let Some(at) = line.find("Connect from ") {
        let px = line[at..].split(' ').next_back().unwrap_or("").trim_end();
        return format!("{pri} Connect from {px}");
    }
    let after = line.split("] ").nth(1).unwrap_or("").trim_end();
    if after.contains(": ") && !after.contains('~') {
        // A reset: HAProxy says either, depending on whether OpenSSL or
        // its socket layer saw it first; pollux says the latter.
        let after = after.replace(
            "Connection error during SSL handshake",
            "SSL handshake failure",
        );
        return format!("{pri} {after}");
    }
    let f: Vec<&str> = after.split(' ').collect();
    // HTTP: FE BE/SRV TIMERS STATUS ...; TCP: FE BE/SRV TIMERS BYTES TERM ...
    let what = if f.get(3).is_some_and(|s| s.len() == 3) {
        f[3]
    } else {
        f.get(4).copied().unwrap_or("")
    };
    format!("{pri} {} {what}", f[0])
}

per_poller!(handshake_failures_are_logged_as_haproxy);

/// The largest TLS record a Python client sees from the server: the
/// handshake, then GET /len/N (Connection: close). "MAX BODYLEN".
const RECORDS_PY: &str = r#"
import socket, ssl, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
s = socket.create_connection(("127.0.0.1", port), timeout=10)
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(inc, out, server_hostname="a.test")
raw = bytearray()
def flush():
    d = out.read()
    if d:
        s.sendall(d)
while True:
    try:
        t.do_handshake()
        break
    except ssl.SSLWantReadError:
        flush()
        d = s.recv(65536)
        if not d:
            sys.exit("closed in the handshake")
        raw += d
        inc.write(d)
flush()
t.write(b"GET /len/%d HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" % n)
flush()
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    raw += d
    inc.write(d)
    try:
        while True:
            chunk = t.read(65536)
            if not chunk:
                break
            got += chunk
    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError, ssl.SSLEOFError):
        pass
i, big = 0, 0
while i + 5 <= len(raw):
    size = int.from_bytes(raw[i + 3:i + 5], "big")
    if raw[i] == 23:
        big = max(big, size)
    i += 5 + size
print(big, len(got.split(b"\r\n\r\n", 1)[-1]))
"#;

/// `tune.ssl.maxrecord`: no TLS record carries more plaintext than it says
/// (1000 bytes: a TLS 1.3 record of at most 1017), as with HAProxy 2.6 for
/// an answer after idle; without it, 16 kB records.
fn maxrecord_bounds_records_as_haproxy(poller: &str) {
    let dir = TestDir::new("tls-maxrecord");
    make_pki(&dir);
    let d = dir.path().display();
    let be = common::http::HttpBackend::start("be");
    let run = |px: &Pollux, n: usize| {
        let out = Command::new("python3")
            .args([
                "-c",
                RECORDS_PY,
                &px.addr(0).port().to_string(),
                &n.to_string(),
            ])
            .output()
            .expect("python3");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success(),
            "{text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Vec<usize> = text.split(' ').map(|x| x.parse().unwrap()).collect();
        (v[0], v[1])
    };
    let cfg = |global: &str| {
        format!(
            "global\n{global}defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:@P0@ ssl crt {d}/srv.pem\n    default_backend b\n\
             backend b\n    server s {}\n",
            be.addr()
        )
    };
    // A short answer after idle: HAProxy limits its records too (it lifts
    // the limit on long transfers; pollux keeps it).
    for imp in common::reference::pollux_and_haproxy(poller) {
        let px = imp.start(&cfg("    tune.ssl.maxrecord 1000\n"));
        let (big, len) = run(&px, 3000);
        assert_eq!(len, 3000, "{}", imp.name);
        assert!(
            (500..=1017).contains(&big),
            "{}: a record of {big}",
            imp.name
        );
        if !imp.is_haproxy() {
            let (big, len) = run(&px, 60000);
            assert_eq!(len, 60000);
            assert!((500..=1017).contains(&big), "a record of {big}");
        }
        px.stop();
    }
    let px = Pollux::start(poller, &cfg(""));
    let (big, len) = run(&px, 60000);
    px.stop();
    assert_eq!(len, 60000);
    assert!(big > 16000, "a record of {big}");
}

per_poller!(maxrecord_bounds_records_as_haproxy);
