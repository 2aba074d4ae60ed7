//! `http-after-response` rules side by side with HAProxy 2.6: the same
//! configuration and traffic through Debian's haproxy and through pollux,
//! which must both give the summaries written here (taken from haproxy
//! 2.6.12). The rules run on every response: the server's (after the
//! `http-response` rules), a `deny` (the frontend's, or the backend's,
//! whose rules then run too), a `return`, a `redirect`, a 503 with no
//! server, a 502 for a bad response, the stats page; the backend's before the frontend's,
//! `allow` ending its own section only; `set-status`, conditions,
//! variables; a 504 on a timeout; a named `defaults` section's rules
//! before the proxy's own. An action HAProxy has and pollux lacks is
//! refused at config check.

mod common;

use common::*;

const HTTP: &str = "@DEFAULTS@
frontend fe
    bind 127.0.0.1:@P0@
    http-request set-var(txn.path) path
    http-request deny if { path /deny }
    http-request return status 200 content-type text/plain string ok if { path /ret }
    http-request redirect location /elsewhere if { path /redir }
    http-request set-var(txn.seen) str(req)
    use_backend empty if { path /none }
    stats uri /admin-stats
    default_backend be
    http-after-response set-header X-After fe-%[status]
    http-after-response add-header X-Ret-Path %[var(txn.path)] if { var(txn.path) -m beg /ret }
    http-after-response set-status 299 reason Changed if { var(txn.path) -m str /status }
    http-after-response del-header X-Resp if { var(txn.path) -m str /del }
    http-after-response set-header X-Var %[var(txn.seen,none)]
    http-after-response set-var(txn.after) str(set)
    http-after-response set-header X-Var2 %[var(txn.after,none)] unless { status 403 }
backend be
    http-request deny deny_status 401 if { path /bedeny }
    http-response set-header X-Resp %[status]
    http-after-response set-header X-Be-After be-%[status]
    http-after-response allow if { var(txn.path) -m str /allow }
    http-after-response set-header X-Not-Allowed yes
    server s1 @SRV@
backend empty
    http-after-response set-header X-Empty yes
";

const SHOWN: &[&str] = &[
    "x-after",
    "x-ret-path",
    "x-resp",
    "x-var",
    "x-var2",
    "x-be-after",
    "x-not-allowed",
    "x-empty",
    "location",
];

/// The status line and the headers the rules touch.
fn summary(r: &Response) -> String {
    let mut out = format!("{} {}", r.status, r.head.start[2]);
    for h in SHOWN {
        if let Some(v) = r.header(h) {
            out.push_str(&format!(" {h}={v}"));
        }
    }
    out
}

/// Each kind of response, a new connection each (some close), then the
/// same over one keep-alive connection where the answers allow it.
fn rules_run_on_every_response(poller: &str) {
    let want = [
        "200 OK x-after=fe-200 x-resp=200 x-var=req x-var2=set x-be-after=be-200 x-not-allowed=yes",
        "403 Forbidden x-after=fe-403 x-var=none",
        "200 OK x-after=fe-200 x-ret-path=/ret x-var=none x-var2=set",
        "302 Found x-after=fe-302 x-var=none x-var2=set location=/elsewhere",
        "503 Service Unavailable x-after=fe-503 x-var=req x-var2=set x-empty=yes",
        "299 Changed x-after=fe-200 x-resp=200 x-var=req x-var2=set x-be-after=be-200 x-not-allowed=yes",
        "200 OK x-after=fe-200 x-var=req x-var2=set x-be-after=be-200 x-not-allowed=yes",
        "200 OK x-after=fe-200 x-resp=200 x-var=req x-var2=set x-be-after=be-200",
        "401 Unauthorized x-after=fe-401 x-var=req x-var2=set x-be-after=be-401 x-not-allowed=yes",
        "502 Bad Gateway x-after=fe-502 x-var=req x-var2=set x-be-after=be-502 x-not-allowed=yes",
        "200 OK x-after=fe-200 x-var=req x-var2=set",
    ];
    let paths = [
        "/",
        "/deny",
        "/ret",
        "/redir",
        "/none",
        "/status",
        "/del",
        "/allow",
        "/bedeny",
        "/bad-response",
        "/admin-stats",
    ];
    for im in pollux_and_haproxy(poller) {
        let srv = HttpBackend::start("s1");
        let px = im.start(&fill(
            HTTP,
            &[
                ("@DEFAULTS@", http_defaults()),
                ("@SRV@", srv.addr().to_string()),
            ],
        ));
        let got: Vec<String> = paths
            .iter()
            .map(|p| summary(&http_get(px.addr(0), p, &[])))
            .collect();
        // Keep-alive: our own answers and the server's, one after another.
        let mut c = HttpConn::open(px.addr(0));
        let kept: Vec<String> = ["/ret", "/", "/redir", "/status"]
            .iter()
            .map(|p| summary(&c.get(p, &[])))
            .collect();
        px.stop();
        assert_eq!(got, want, "{}", im.name);
        assert_eq!(kept, [want[2], want[0], want[3], want[5]], "{}", im.name);
    }
}

const TIMEOUT: &str = "defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 300ms
listen ls
    bind 127.0.0.1:@P0@
    http-after-response set-header X-After ls-%[status]
    http-after-response add-header X-Once yes
    server s1 @SRV@
";

/// A 504 the engine answers once `timeout server` runs out gets the
/// rules too; a `listen` section runs its rules once, not once per side.
fn rules_run_on_a_timeout_answer(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        let srv = HttpBackend::start("s1");
        let px = im.start(&fill(TIMEOUT, &[("@SRV@", srv.addr().to_string())]));
        let ok = http_get(px.addr(0), "/", &[]);
        let late = http_get(px.addr(0), "/sleep/2000", &[]);
        px.stop();
        let got = [ok, late].map(|r| {
            format!(
                "{} {} {:?}",
                r.status,
                r.header("x-after").unwrap_or("-"),
                r.head.all("x-once")
            )
        });
        assert_eq!(
            got,
            ["200 ls-200 [\"yes\"]", "504 ls-504 [\"yes\"]"],
            "{}",
            im.name
        );
    }
}

const DEFAULTS: &str = "defaults fe-side
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-after-response add-header X-Order defaults-%[status]
frontend fe
    bind 127.0.0.1:@P0@
    http-request deny deny_status 429 if { path /deny }
    http-after-response add-header X-Order fe
    default_backend be
defaults be-side
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-after-response add-header X-Order be-defaults
backend be
    http-after-response add-header X-Order be
    server s1 @SRV@
";

/// A named `defaults` section's rules run before those of each proxy
/// that inherits them: the backend's side first, then the frontend's.
fn defaults_rules_run_first(poller: &str) {
    for im in pollux_and_haproxy(poller) {
        let srv = HttpBackend::start("s1");
        let px = im.start(&fill(DEFAULTS, &[("@SRV@", srv.addr().to_string())]));
        let got = ["/", "/deny"].map(|p| {
            let r = http_get(px.addr(0), p, &[]);
            format!("{} {:?}", r.status, r.head.all("x-order"))
        });
        px.stop();
        assert_eq!(
            got,
            [
                r#"200 ["be-defaults", "be", "defaults-200", "fe"]"#,
                r#"429 ["defaults-429", "fe"]"#
            ],
            "{}",
            im.name
        );
    }
}

const LOGGED: &str = "global
    log 127.0.0.1:@LOG@ local0
@DEFAULTS@
frontend fe
    bind 127.0.0.1:@P0@
    log global
    log-format \"%ST %B %hs\"
    declare capture response len 16
    http-request set-var(txn.path) path
    http-request return status 200 content-type text/plain string ok if { path /ret }
    http-request deny if { path /deny }
    http-after-response set-header X-After after-%[status]
    http-after-response set-status 202 if { var(txn.path) -m str /ret }
    http-after-response capture res.hdr(x-after) id 0
    errorfile 403 @PAGE@
    default_backend be
backend be
    server s1 @SRV@
";

/// The log line shows the status the rules set, the bytes of the
/// response as they left it, and what `capture ... id N` took.
fn the_log_sees_what_the_rules_did(poller: &str) {
    let want = [
        "202 95 {after-200}",
        "403 98 {after-403}",
        "200 170 {after-200}",
    ];
    for im in pollux_and_haproxy(poller) {
        let log = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        log.set_read_timeout(Some(PATIENCE)).unwrap();
        let srv = HttpBackend::start("s1");
        // The same 403 page through both (their built-in pages differ).
        let dir = TestDir::new("after-log");
        let page = dir.write(
            "403.http",
            "HTTP/1.1 403 Forbidden\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nno.\n",
        );
        let px = im.start(&fill(
            LOGGED,
            &[
                ("@PAGE@", page.display().to_string()),
                ("@DEFAULTS@", http_defaults()),
                ("@SRV@", srv.addr().to_string()),
                ("@LOG@", log.local_addr().unwrap().port().to_string()),
            ],
        ));
        let mut c = HttpConn::open(px.addr(0));
        let ret = c.get("/ret", &[]);
        let ok = c.get("/", &[]);
        let denied = http_get(px.addr(0), "/deny", &[]);
        let mut lines = Vec::new();
        while lines.len() < 3 {
            let mut buf = [0u8; 4096];
            let n = log.recv(&mut buf).expect("a log line within PATIENCE");
            let raw = String::from_utf8_lossy(&buf[..n]).to_string();
            let text = raw.split_once("]: ").map_or("", |(_, t)| t.trim_end());
            if !text.starts_with("Proxy ") {
                lines.push(text.to_string());
            }
        }
        drop(c);
        px.stop();
        assert_eq!(
            [ret.status, ok.status, denied.status],
            [202, 200, 403],
            "{}",
            im.name
        );
        lines.sort();
        let mut want = want.map(String::from);
        want.sort();
        assert_eq!(lines, want, "{}", im.name);
    }
}

per_poller!(
    the_log_sees_what_the_rules_did,
    rules_run_on_every_response,
    rules_run_on_a_timeout_answer,
    defaults_rules_run_first
);

/// An action HAProxy 2.6 has and pollux does not is refused at config
/// check, naming it, with FILE:LINE and exit status 1; one HAProxy does not
/// have either is unknown.
#[test]
fn unsupported_actions_are_refused_at_config_check() {
    let dir = TestDir::new("after-cfg");
    let cases = [
        (
            "strict.cfg",
            "    http-after-response strict-mode on\n",
            "strict.cfg:4: 'http-after-response strict-mode' is not supported yet",
        ),
        (
            "deny.cfg",
            "    http-after-response deny if TRUE\n",
            "deny.cfg:4: unknown 'http-after-response' action 'deny'",
        ),
    ];
    for (file, line, want) in cases {
        let text = format!("defaults\n    mode http\nfrontend fe\n{line}    bind 127.0.0.1:8000\n");
        let path = dir.write(file, &text);
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{file}: {}", out.all());
        assert!(out.all().contains(want), "{file}: {}", out.all());
    }
}
