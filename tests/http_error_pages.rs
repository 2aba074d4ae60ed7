//! Error pages side by side with HAProxy 2.6, per poller: `http-errors`
//! sections imported by `errorfiles` (whole or some codes, in the order
//! written, over the `defaults` section's), an empty `errorfile` (the
//! connection closes without a response), `http-error status N` with a
//! reply built per request, `deny` and `return` with `errorfile`,
//! `errorfiles`, `default-errorfiles` or a reply of their own, `http-response
//! deny deny_status N`, and a backend's imported 503 page. Pages are
//! written here so that both proxies send the same bytes (their built-in
//! pages differ); what the client gets is compared whole, and the log
//! lines' status and termination state too.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

fn page(code: u16, tag: &str) -> String {
    let body = format!("{code} from {tag}\n");
    format!(
        "HTTP/1.1 {code} Page\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nx-page: {tag}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

const CFG: &str = "global
    log 127.0.0.1:@LOG@ local0
http-errors site
    errorfile 403 @D@/403-site.http
    errorfile 404 @D@/404-site.http
    errorfile 503 @D@/503-site.http
defaults
    mode http
    log global
    log-format \"%ST %ts %r\"
    timeout connect 5s
    timeout client 5s
    timeout server 5s
    errorfiles site
    errorfile 404 @D@/404-def.http
frontend fe
    bind 127.0.0.1:@P0@
    errorfile 500 @D@/empty.http
    errorfiles later 403
    http-error status 429 content-type text/plain hdr x-path %[path] lf-string \"slow down on %[path]\"
    http-request deny deny_status 403 if { path /403 }
    http-request deny deny_status 404 if { path /404 }
    http-request deny deny_status 500 if { path /500 }
    http-request deny deny_status 429 if { path /429 }
    http-request deny status 403 errorfile @D@/403-own.http if { path /own }
    http-request deny deny_status 404 errorfiles later if { path /later404 }
    http-request deny status 401 content-type text/plain hdr x-why denied string nope if { path /reply }
    http-request return status 404 default-errorfiles if { path /ret-default }
    http-request return status 403 errorfiles site if { path /ret-site }
    http-request return status 200 errorfile @D@/200.http if { path /ret-file }
    use_backend empty if { path /none }
    default_backend be
http-errors later
    errorfile 403 @D@/403-later.http
    errorfile 404 @D@/404-later.http
backend be
    http-response deny deny_status 503 if { status 200 }
    server s1 @SRV@
backend empty
";

/// The whole answer (or `<closed>` when the connection closed without one).
fn ask(addr: SocketAddr, path: &str) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    if out.is_empty() {
        return "<closed>".into();
    }
    String::from_utf8_lossy(&out).into_owned()
}

const PATHS: &[&str] = &[
    "/403",
    "/404",
    "/500",
    "/429",
    "/own",
    "/later404",
    "/reply",
    "/ret-default",
    "/ret-site",
    "/ret-file",
    "/none",
    "/",
];

fn error_pages_as_haproxy(poller: &str) {
    let dir = TestDir::new("error-pages");
    for (file, code, tag) in [
        ("403-site.http", 403, "site"),
        ("404-site.http", 404, "site"),
        ("503-site.http", 503, "site"),
        ("404-def.http", 404, "defaults"),
        ("403-own.http", 403, "own"),
        ("403-later.http", 403, "later"),
        ("404-later.http", 404, "later"),
        ("200.http", 200, "file"),
    ] {
        dir.write(file, &page(code, tag));
    }
    dir.write("empty.http", "");
    let mut seen = Vec::new();
    for im in pollux_and_haproxy(poller) {
        let log = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(PATIENCE)).unwrap();
        let srv = HttpBackend::start("s1");
        let px = im.start(&fill(
            CFG,
            &[
                ("@D@", dir.path().display().to_string()),
                ("@SRV@", srv.addr().to_string()),
                ("@LOG@", log.local_addr().unwrap().port().to_string()),
            ],
        ));
        let answers: Vec<String> = PATHS.iter().map(|p| ask(px.addr(0), p)).collect();
        let mut lines = Vec::new();
        while lines.len() < PATHS.len() {
            let mut buf = [0u8; 4096];
            let n = log.recv(&mut buf).expect("a log line within PATIENCE");
            let raw = String::from_utf8_lossy(&buf[..n]).to_string();
            let text = raw.split_once("]: ").map_or("", |(_, t)| t.trim_end());
            if !text.starts_with("Proxy ") {
                lines.push(text.to_string());
            }
        }
        lines.sort();
        px.stop();
        seen.push((im.name, answers, lines));
    }
    let (_, ours, _) = &seen[0];
    let get = |p: &str| &ours[PATHS.iter().position(|x| *x == p).unwrap()];
    assert!(get("/403").contains("x-page: later"), "{}", get("/403"));
    assert!(get("/404").contains("x-page: defaults"), "{}", get("/404"));
    assert_eq!(get("/500"), "<closed>");
    assert!(
        get("/429").ends_with("slow down on /429"),
        "{}",
        get("/429")
    );
    assert!(get("/none").contains("503 from site"), "{}", get("/none"));
    assert!(get("/").contains("503 from site"), "{}", get("/"));
    if let Some((name, theirs, their_lines)) = seen.get(1) {
        for (i, p) in PATHS.iter().enumerate() {
            // Header case differs in what each proxy builds: compare the
            // status line, the headers lower-cased and the body.
            let norm = |s: &str| {
                let (head, body) = s.split_once("\r\n\r\n").unwrap_or((s, ""));
                let mut lines: Vec<String> = head.lines().map(str::to_ascii_lowercase).collect();
                lines[1..].sort();
                format!("{}\n{body}", lines.join("\n"))
            };
            assert_eq!(norm(&ours[i]), norm(&theirs[i]), "{p}: pollux vs {name}");
        }
        assert_eq!(&seen[0].2, their_lines, "log lines: pollux vs {name}");
    }
}

per_poller!(error_pages_as_haproxy);
