//! Stick counters end to end: `http-request track-sc0`, the `sc_*`/`sc0_*`/
//! `src_*` fetches (with a table argument), a rate limit, gpc0 incremented
//! by a fetch and read back, and the runtime API's `show table`, `set
//! table`, `clear table`. The same traffic through pollux and HAProxy 2.6
//! must give the same answers and the same `show table` lines (entry
//! pointers and expiry times aside).

mod common;

use common::ops::{cli, SockDir};
use common::reference::pollux_and_haproxy;
use common::*;
use std::time::Duration;

fn config(sock: &str, app: std::net::SocketAddr) -> String {
    format!(
        "global\n    stats socket {sock} level admin\n\
         defaults\n    mode http\n\
         \x20   timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n\
         \x20   stick-table type ip size 100 expire 60s store gpc0,gpc1,gpt0,conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),gpc0_rate(10s),gpc1_rate(10s),server_id\n\
         \x20   http-request track-sc0 src\n\
         \x20   http-request return status 204 if {{ src_inc_gpc0 eq 100 }}\n\
         \x20   http-request sc-inc-gpc1(0)\n\
         \x20   http-request sc-set-gpt0(0) req.hdr_cnt(x-a) if {{ req.hdr_cnt(x-a) gt 0 }}\n\
         \x20   http-request sc-inc-gpc0(2)\n\
         \x20   http-request return status 203 if {{ sc0_get_gpt0 eq 9 }}\n\
         \x20   http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 4 }}\n\
         \x20   http-request return status 201 if {{ sc0_http_req_cnt eq 1 }} {{ sc0_get_gpc0 eq 1 }} {{ sc_trackers(0) eq 1 }} {{ sc0_tracked }} !{{ sc1_tracked }} {{ src_conn_cnt(fe) eq 1 }} {{ sc0_sess_cnt eq 0 }}\n\
         \x20   http-request return status 202 if {{ sc0_http_req_cnt eq 2 }} {{ sc_get_gpc0(0,fe) eq 2 }} {{ src_get_gpt0(other) eq 0 }} {{ sc0_conn_cur(other) eq 0 }} !{{ sc2_conn_cur ge 0 }}\n\
         \x20   http-request return status 200\n\
         backend other\n\
         \x20   stick-table type string len 8 size 10 store gpt0,gpc1\n\
         frontend errs\n    bind 127.0.0.1:@P1@\n\
         \x20   stick-table type ip size 10 store http_err_cnt,http_err_rate(10s),http_req_cnt,gpc1,gpt0\n\
         \x20   http-response sc-inc-gpc1(1) if {{ status 404 }} {{ sc1_http_err_cnt gt 0 }}\n\
         \x20   http-response sc-set-gpt0(1) status\n\
         \x20   http-request track-sc1 src\n\
         \x20   http-request deny deny_status 404 if {{ path /own }}\n\
         \x20   http-request return status 404 if {{ path /ret }}\n\
         \x20   http-request auth if {{ path /auth }}\n\
         \x20   http-request return status 200 if {{ path /check }} {{ sc1_http_err_cnt eq 4 }} {{ sc_http_err_rate(1) eq 4 }} {{ src_http_err_cnt(errs) eq 4 }}\n\
         \x20   default_backend app\n\
         frontend bytes\n    bind 127.0.0.1:@P2@\n\
         \x20   stick-table type ip size 10 store bytes_in_cnt,bytes_in_rate(10s),bytes_out_cnt,bytes_out_rate(10s)\n\
         \x20   http-request track-sc2 src\n\
         \x20   http-request return status 200 if {{ path /check }} {{ sc2_kbytes_in eq 0 }} {{ sc_kbytes_out(2) eq 0 }} {{ src_bytes_in_rate(bytes) gt 100 }} {{ sc2_bytes_out_rate gt 100 }}\n\
         \x20   default_backend app\n\
         backend app\n    stick-table type ip size 10\n    stick on src\n    server s1 {app}\n"
    )
}

/// Status and body of one request on its own connection.
fn get(addr: std::net::SocketAddr) -> String {
    get_with(addr, "")
}

fn get_with(addr: std::net::SocketAddr, headers: &str) -> String {
    request(addr, "/", headers)
}

fn get_path(addr: std::net::SocketAddr, path: &str) -> String {
    request(addr, path, "")
}

fn request(addr: std::net::SocketAddr, path: &str, headers: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
    let raw = raw_exchange(addr, req.as_bytes(), Duration::from_secs(2));
    let text = String::from_utf8_lossy(&raw).to_string();
    text.chars().skip(9).take(3).collect()
}

/// `show table` output without what differs by nature: the entry's
/// address and its expiry countdown.
fn table(sock: &std::path::Path, line: &str) -> String {
    let ptr = regex::Regex::new(r"0x[0-9a-f]+: ").unwrap();
    let exp = regex::Regex::new(r" exp=[0-9]+").unwrap();
    let out = cli(sock, line);
    exp.replace_all(&ptr.replace_all(&out, "PTR: "), " exp=X")
        .to_string()
}

fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}

fn counters_match_haproxy(poller: &str) {
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let dir = SockDir::new();
        let sock = dir.sock();
        let app = LiveServer::start("app");
        let px = imp.start(&config(sock.to_str().unwrap(), app.addr()));
        let mut out: Vec<String> = (0..6).map(|_| get(px.addr(0))).collect();
        // The stream's end (which releases the tracked entry) may follow
        // the client's read of the response by a moment.
        settle();
        for line in [
            "show table",
            "show table fe",
            "show table fe data.gpc0 gt 3",
            "show table fe data.gpt0 gt 0",
            "show table fe key 127.0.0.1",
            "show table fe key 10.0.0.1",
            "show table fe data.frob gt 0",
            "show table nope",
            "set table other key abcdefghijk data.gpt0 5 data.gpc1 7",
            "set table other key ab data.conn_cnt 5",
            "show table other",
        ] {
            out.push(format!("{line}: {}", table(&sock, line)));
        }
        // sc-set-gpt0 from an expression (rate-limited requests still run
        // the rules before the deny).
        out.push(get_with(px.addr(0), "X-A: 1\r\nX-A: 2\r\n"));
        settle();
        for line in [
            "show table fe data.gpt0 eq 2",
            "set table fe key 127.0.0.1 data.gpt0 9",
            "clear table other data.gpt0 eq 5",
            "show table other",
        ] {
            out.push(format!("{line}: {}", table(&sock, line)));
        }
        // gpt0 set through the CLI is visible to the next request.
        out.push(get(px.addr(0)));
        settle();
        out.push(table(&sock, "clear table fe"));
        // HTTP errors: the server's 4xx, denies and auth challenges count,
        // `return` does not.
        let errs = px.addr(1);
        out.push(get_path(errs, "/a"));
        app.set(|b| b.status = 404);
        out.push(get_path(errs, "/b"));
        out.push(get_path(errs, "/own"));
        out.push(get_path(errs, "/ret"));
        out.push(get_path(errs, "/auth"));
        app.set(|b| b.status = 403);
        out.push(get_path(errs, "/c"));
        app.set(|b| b.status = 500);
        out.push(get_path(errs, "/d"));
        out.push(get_path(errs, "/check"));
        settle();
        out.push(table(&sock, "show table errs"));
        // Bytes from and to the client, over a kept-alive connection too.
        app.set(|b| b.status = 200);
        let mut c = HttpConn::open(px.addr(2));
        out.push(c.get("/a", &[]).status.to_string());
        out.push(c.get("/bb", &[]).status.to_string());
        drop(c);
        let post =
            b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
        raw_exchange(px.addr(2), post, Duration::from_secs(2));
        out.push(get_path(px.addr(2), "/check"));
        settle();
        out.push(table(&sock, "show table bytes"));
        // A table `stick` rules use: server_id and server_key.
        for line in [
            "set table app key 10.0.0.5 data.server_id 1",
            "set table app key 10.0.0.6",
            "show table app",
            "show table app data.server_id eq 1",
        ] {
            out.push(format!("{line}: {}", table(&sock, line)));
        }
        out.push(table(&sock, "show table fe"));
        px.stop();
        seen.push((imp.name, out));
    }
    let (_, out) = &seen[0];
    let statuses = ["201", "202", "200", "200", "429", "429"];
    assert_eq!(out[..6], statuses, "pollux: {out:#?}");
    assert_eq!(out[22], "203", "gpt0 set by the CLI: {out:#?}");
    assert!(
        out[18].contains("gpt0=2 gpc0=7 ") && out[18].contains("gpc1=7 "),
        "sc-set-gpt0, sc-inc-gpc1: {out:#?}"
    );
    assert!(
        out[7].contains(
            "key=127.0.0.1 use=0 exp=X server_id=0 gpt0=0 gpc0=6 gpc0_rate(10000)=6 conn_cnt=6"
        ),
        "pollux: {out:#?}"
    );
    assert_eq!(
        out[24..32],
        ["200", "404", "404", "404", "401", "403", "500", "200"],
        "{out:#?}"
    );
    assert!(
        out[32].contains("gpt0=500 http_req_cnt=8 http_err_cnt=4 http_err_rate(10000)=4 gpc1=1"),
        "{out:#?}"
    );
    assert_eq!(out[33..36], ["200", "200", "200"], "{out:#?}");
    assert!(out[36].contains(" bytes_in_cnt="), "{out:#?}");
    assert!(
        out[39].contains("key=127.0.0.1 use=0 exp=X server_id=1 server_key=s1\n"),
        "{out:#?}"
    );
    if let Some((_, h)) = seen.get(1) {
        assert_eq!(out, h, "pollux, then HAProxy");
    }
}

per_poller!(counters_match_haproxy);

fn tcp_config(sock: &str, app: std::net::SocketAddr) -> String {
    format!(
        "global\n    stats socket {sock} level admin\n\
         defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend tcp\n    mode tcp\n    bind 127.0.0.1:@P0@\n\
         \x20   stick-table type ip size 10 store conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,bytes_in_cnt,bytes_out_cnt,gpc0,gpt0\n\
         \x20   tcp-request connection track-sc0 src\n\
         \x20   tcp-request connection sc-inc-gpc0(0)\n\
         \x20   tcp-request connection sc-set-gpt0(0) 4 if {{ sc0_conn_cnt eq 2 }}\n\
         \x20   tcp-request connection reject if {{ sc0_conn_rate gt 3 }}\n\
         \x20   tcp-request inspect-delay 1s\n\
         \x20   tcp-request content track-sc1 src table other\n\
         \x20   tcp-request content reject if {{ sc1_conn_cnt gt 3 }}\n\
         \x20   default_backend apptcp\n\
         frontend web\n    mode http\n    bind 127.0.0.1:@P1@\n\
         \x20   stick-table type ip size 10 store conn_cnt,conn_cur,sess_cnt,http_req_cnt,http_req_rate(10s),gpc1\n\
         \x20   tcp-request connection track-sc1 src\n\
         \x20   http-request return status 200 if {{ path /check }} {{ sc1_sess_cnt eq 2 }} {{ sc1_conn_cur eq 1 }} {{ sc_http_req_cnt(1) eq 4 }} !{{ sc2_tracked }}\n\
         \x20   use_backend app if {{ sc1_http_req_cnt gt 0 }}\n\
         backend app\n    mode http\n    server s1 {app}\n\
         backend apptcp\n    mode tcp\n    server s1 {app}\n\
         backend other\n    stick-table type ip size 10 store conn_cnt,http_req_cnt\n"
    )
}

/// A request through a TCP frontend: the status, or "" when the proxy
/// closed the connection (a rejected one may even be reset).
fn tcp_get(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    String::from_utf8_lossy(&got)
        .chars()
        .skip(9)
        .take(3)
        .collect()
}

/// `tcp-request connection|content track-scN` and `sc-*` actions: in
/// `mode tcp` (bytes as they flow, a rate limit by reject) and in `mode
/// http` (held over kept-alive requests), as HAProxy 2.6 counts them.
fn tcp_rules_track_like_haproxy(poller: &str) {
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let dir = SockDir::new();
        let sock = dir.sock();
        let app = LiveServer::start("app");
        let px = imp.start(&tcp_config(sock.to_str().unwrap(), app.addr()));
        let mut out: Vec<String> = (0..5).map(|_| tcp_get(px.addr(0))).collect();
        settle();
        out.push(table(&sock, "show table tcp"));
        let mut c = HttpConn::open(px.addr(1));
        out.push(c.get("/a", &[]).status.to_string());
        out.push(c.get("/b", &[]).status.to_string());
        drop(c);
        let mut c = HttpConn::open(px.addr(1));
        out.push(c.get("/c", &[]).status.to_string());
        out.push(c.get("/check", &[]).status.to_string());
        out.push(table(&sock, "show table web"));
        drop(c);
        settle();
        out.push(table(&sock, "show table web"));
        out.push(table(&sock, "show table other"));
        px.stop();
        seen.push((imp.name, out));
    }
    let (_, out) = &seen[0];
    // The fourth connection within the period is rejected (no answer).
    assert_eq!(out[..5], ["200", "200", "200", "", ""], "{out:#?}");
    assert!(
        out[5].contains(" conn_cnt=5 conn_rate(10000)=5 conn_cur=0 sess_cnt=3 "),
        "{out:#?}"
    );
    assert!(out[5].contains(" gpt0=4 gpc0=5 "), "{out:#?}");
    assert!(out[5].contains(" http_req_cnt=0 "), "{out:#?}");
    assert_eq!(out[6..10], ["200", "200", "200", "200"], "{out:#?}");
    assert!(out[10].contains(" use=1 "), "{out:#?}");
    if let Some((_, h)) = seen.get(1) {
        assert_eq!(out, h, "pollux, then HAProxy");
    }
}

per_poller!(tcp_rules_track_like_haproxy);

/// Under `nbthread 2` the tables are the process's: every thread counts
/// into them, and what `set table` changes is seen by the requests every
/// thread serves, through counter fetches and table converters.
fn tables_are_shared_by_the_threads(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let cfg = format!(
        "global\n    nbthread 2\n    stats socket {} level admin\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n\
         \x20   stick-table type ip size 10 store http_req_cnt,gpt0\n\
         \x20   http-request track-sc0 src\n\
         \x20   http-request return status 203 if {{ sc0_get_gpt0 eq 7 }}\n\
         \x20   http-request return status 202 if {{ src,table_gpt0(fe) eq 8 }}\n\
         \x20   http-request return status 200\n",
        sock.display()
    );
    let px = Launch::new(Some(poller)).start(&cfg);
    let statuses: Vec<String> = (0..20).map(|_| get(px.addr(0))).collect();
    assert!(statuses.iter().all(|s| s == "200"), "{statuses:?}");
    settle();
    let t = table(&sock, "show table fe");
    assert!(t.contains(" gpt0=0 http_req_cnt=20"), "{t}");
    table(&sock, "set table fe key 127.0.0.1 data.gpt0 7");
    let statuses: Vec<String> = (0..20).map(|_| get(px.addr(0))).collect();
    assert!(statuses.iter().all(|s| s == "203"), "{statuses:?}");
    // The table converters too read the process's tables on every thread.
    table(&sock, "set table fe key 127.0.0.1 data.gpt0 8");
    let statuses: Vec<String> = (0..20).map(|_| get(px.addr(0))).collect();
    assert!(statuses.iter().all(|s| s == "202"), "{statuses:?}");
}

per_poller!(tables_are_shared_by_the_threads);

/// The table converters: every `table_*` and `in_table`, on a tracked
/// entry, an absent key, and an entry whose table does not store the
/// type, in a `return`'s headers and in ACLs (of rules and of `stick`
/// rules, which must not hold the tables while they evaluate them).
fn conv_config(sock: &str, app: std::net::SocketAddr) -> String {
    let all = |key: &str, t: &str| {
        [
            "conn_cnt",
            "conn_cur",
            "conn_rate",
            "sess_cnt",
            "sess_rate",
            "http_req_cnt",
            "http_req_rate",
            "http_err_cnt",
            "http_err_rate",
            "http_fail_cnt",
            "http_fail_rate",
            "bytes_in_rate",
            "kbytes_in",
            "kbytes_out",
            "gpc0",
            "gpc0_rate",
            "gpc1",
            "gpc1_rate",
            "gpt0",
            "server_id",
            "trackers",
        ]
        .iter()
        .map(|c| format!("{c}=%[{key},table_{c}({t})]"))
        .chain(["gpc(0", "gpc(1", "gpt(0", "gpc_rate(0"].iter().map(|c| {
            format!("{c})=%[{key},table_{c},{t})]")
        }))
        .collect::<Vec<_>>()
        .join(" ")
            // Bytes out differ by a few headers' worth from HAProxy's.
            + &format!(" bytes_out_rate=%[{key},table_bytes_out_rate({t}),div(1000)]")
    };
    let times = |key: &str, t: &str| {
        format!(
            "in=%[{key},in_table({t})] exp=%[{key},table_expire({t}),sub(1),div(20000)] \
             expd=%[{key},table_expire({t},170000),sub(1),div(20000)] \
             idle=%[{key},table_idle({t}),div(1000)] idled=%[{key},table_idle({t},42000),div(1000)]"
        )
    };
    format!(
        "global\n    stats socket {sock} level admin\n\
         defaults\n    mode http\n\
         \x20   timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n\
         \x20   stick-table type ip size 100 expire 60s store gpc0,gpc1,gpt0,conn_cnt,conn_cur,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,http_err_rate(10s),bytes_in_cnt,bytes_in_rate(10s),bytes_out_cnt,bytes_out_rate(10s),gpc0_rate(10s),gpc1_rate(10s)\n\
         \x20   tcp-request connection track-sc1 src\n\
         \x20   http-request track-sc0 src\n\
         \x20   http-request sc-inc-gpc0(0)\n\
         \x20   http-request sc-inc-gpc1(0) if {{ path /err }}\n\
         \x20   http-request sc-set-gpt0(0) 7\n\
         \x20   http-request deny deny_status 403 if {{ path /err }}\n\
         \x20   http-request return status 201 if {{ path /acl }} {{ src,table_gpc0(fe) gt 2 }} {{ src,in_table(fe) }} !{{ str(10.9.9.9),in_table(fe) }} {{ src,table_http_req_cnt(fe) ge 6 }}\n\
         \x20   http-request return status 202 if {{ path /acl }} {{ src,table_gpc0(fe) gt 0 }}\n\
         \x20   http-request return status 200 hdr x-fe \"{fe}\" hdr x-fet \"{fet}\" hdr x-abs \"{abs}\" hdr x-abst \"{abst}\" hdr x-app \"{app_t}\" hdr x-str \"{str_t}\" hdr x-strt \"{strt}\" hdr x-int \"%[int(2130706433),table_gpc0(fe)] %[int(-1),table_gpt0(small)]\" if {{ path /show }}\n\
         \x20   default_backend app\n\
         backend app\n    stick-table type ip size 10 expire 60s\n    stick on src\n\
         \x20   stick match src if {{ src,table_gpc0(fe) ge 0 }}\n\
         \x20   stick store-request src if {{ src,in_table(fe) }}\n\
         \x20   stick store-response src if {{ src,in_table(fe) }}\n\
         \x20   server s1 {app}\n\
         backend small\n    stick-table type string len 16 size 10 store gpt0\n",
        fe = all("src", "fe"),
        fet = times("src", "fe"),
        abs = all("str(10.9.9.9)", "fe"),
        abst = times("str(10.9.9.9)", "fe"),
        app_t = all("src", "app") + " " + &times("src", "app"),
        str_t = all("src", "small"),
        strt = times("src", "small"),
    )
}

fn table_converters_match_haproxy(poller: &str) {
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let dir = SockDir::new();
        let sock = dir.sock();
        let app = LiveServer::start("app");
        let px = imp.start(&conv_config(sock.to_str().unwrap(), app.addr()));
        let mut out = vec![get(px.addr(0)), get_path(px.addr(0), "/acl")];
        let mut c = HttpConn::open(px.addr(0));
        out.push(c.get("/a", &[]).status.to_string());
        let big = format!("x-big: {}", "b".repeat(3000));
        out.push(c.get("/b", &[&big]).status.to_string());
        drop(c);
        out.push(get_path(px.addr(0), "/err"));
        settle();
        table(&sock, "set table small key 127.0.0.1 data.gpt0 3");
        table(&sock, "set table small key -1 data.gpt0 4");
        out.push(get_path(px.addr(0), "/acl"));
        settle();
        let mut c = HttpConn::open(px.addr(0));
        let r = c.get("/show", &[]);
        out.push(r.status.to_string());
        for h in [
            "x-fe", "x-fet", "x-abs", "x-abst", "x-app", "x-str", "x-strt", "x-int",
        ] {
            out.push(format!("{h}: {}", r.header(h).unwrap_or("(none)")));
        }
        drop(c);
        px.stop();
        seen.push((imp.name, out));
    }
    let (_, out) = &seen[0];
    assert_eq!(
        out[..6],
        ["200", "202", "200", "200", "403", "201"],
        "{out:#?}"
    );
    // Two trackers (sc0, sc1): HAProxy counts its lookup's reference too.
    assert!(
        out[7].contains(" gpc0=7 ") && out[7].contains(" trackers=3 "),
        "{out:#?}"
    );
    assert!(out[7].contains(" http_fail_cnt= "), "not stored: {out:#?}");
    assert_eq!(
        out[8], "x-fet: in=1 exp=2 expd=2 idle=0 idled=0",
        "{out:#?}"
    );
    assert!(out[9].contains(" http_req_cnt=0 "), "absent: {out:#?}");
    assert_eq!(
        out[10], "x-abst: in=0 exp= expd=8 idle= idled=42",
        "{out:#?}"
    );
    assert!(out[11].contains(" server_id=1 "), "{out:#?}");
    assert!(out[12].contains(" gpt0=3 "), "{out:#?}");
    assert_eq!(out[14], "x-int: 7 4", "{out:#?}");
    if let Some((_, h)) = seen.get(1) {
        for (p, h) in out.iter().zip(h) {
            assert_eq!(p, h, "pollux, then HAProxy");
        }
    }
}

per_poller!(table_converters_match_haproxy);
