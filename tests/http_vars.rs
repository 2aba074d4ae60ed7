//! Variables (`set-var`, `set-var-fmt`, `unset-var`, `var()`, the
//! `set-var`/`unset-var` converters) side by side with HAProxy 2.6: the same
//! configuration and traffic through Debian's haproxy and through pollux,
//! which must both give the bytes written here (taken from haproxy 2.6.12).
//! Scopes: `proc` counting across connections and threads, `sess` kept over
//! keep-alive requests and set by `tcp-request connection`, `txn`, `req`
//! gone once the response comes (where `var()`'s default does not apply
//! either: the scope itself is gone), `res`; 2.6's set conditions; typed
//! values (`var(sess.n,0),add(1)` counts); variables as the operand of
//! arithmetic converters; the default of `var()`; the global section's
//! `set-var`/`set-var-fmt`.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const HTTP: &str = "global
    nbthread 2
    set-var proc.int12 int(12)
    set-var proc.int5 var(proc.str60,60),div(proc.int12)
    set-var-fmt proc.str \"%[var(proc.int5)] of %[var(proc.int12)]\"
@DEFAULTS@
frontend fe
    bind 127.0.0.1:@P0@
    tcp-request connection set-var(sess.from) src
    tcp-request content set-var(sess.tc) str(tc)
    http-request set-var(txn.name) req.hdr(x-name),lower
    http-request set-var(sess.n) var(sess.n,0),add(1)
    http-request set-var(proc.hits) var(proc.hits,0),add(1)
    http-request set-var(sess.first,ifnotexists) var(txn.name)
    http-request set-var(txn.big) int(5)
    http-request set-var(txn.big,ifgt) int(3)
    http-request set-var(txn.small) int(5)
    http-request set-var(txn.small,iflt) int(3)
    http-request set-var(txn.e,ifempty) req.hdr(x-empty)
    http-request set-var(txn.ne,ifnotempty) req.hdr(x-empty)
    http-request set-var(txn.set,ifset) str(set)
    http-request set-var(req.r) str(req-only)
    http-request set-var(txn.gone) str(x)
    http-request unset-var(txn.gone)
    http-request set-var-fmt(txn.fmt) \"%[var(txn.name)]/%[var(sess.n)]\"
    http-request set-var(txn.conv) str(abc),set-var(txn.copy),length
    http-request set-var(txn.m) method
    http-request set-var(txn.flag) bool(1) if { var(txn.name) -m str alice }
    http-request set-var(txn.many) str(yes) if { var(sess.n) -m int gt 1 }
    http-request set-var(txn.u) str(u)
    http-request set-header X-U %[str(k),unset-var(txn.u)]
    http-request set-var(txn.un) var(txn.u,unset)
    http-request return status 200 content-type text/plain lf-string \"name=%[var(txn.name)] n=%[var(sess.n)] hits=%[var(proc.hits)] first=%[var(sess.first)] big=%[var(txn.big)] small=%[var(txn.small)] e=%[var(txn.e,none)] ne=%[var(txn.ne,none)] set=%[var(txn.set,none)] r=%[var(req.r)] gone=%[var(txn.gone,none)] fmt=%[var(txn.fmt)] conv=%[var(txn.conv)] copy=%[var(txn.copy)] m=%[var(txn.m)] flag=%[var(txn.flag,no)] many=%[var(txn.many,no)] un=%[var(txn.un)] from=%[var(sess.from),ipmask(8)] tc=%[var(sess.tc)] n2=%[var(sess.n),add(10)] ar=%[int(10),add(txn.big)] arm=%[int(10),add(txn.nosuch)] ars=%[int(10),sub(txn.name)] arp=%[var(proc.hits),mul(sess.n)] g=%[var(proc.str)]\" if { path /ret }
    default_backend be
backend be
    http-request set-header X-Name %[var(txn.name)]
    http-request set-header X-Req %[var(req.r)]
    http-response set-var(res.st) status
    http-response set-header X-Res \"%[var(res.st)] req=%[var(req.r,gone)] name=%[var(txn.name)] n=%[var(sess.n)]\"
    server s1 @SRV@
";

fn body(r: &Response) -> String {
    r.text()
}

/// Keep-alive requests on one connection, then a second connection: what
/// each answer and the backend show of the variables.
fn variables_live_in_their_scope(poller: &str) {
    let want = [
        "name=alice n=1 hits=1 first=alice big=3 small=5 e= ne=none set=none r=req-only gone=none fmt=alice/1 conv=3 copy=abc m=GET flag=1 many=no un=unset from=127.0.0.0 tc=tc n2=11 ar=13 arm= ars=10 arp=1 g=5 of 12",
        "name=bob n=2 hits=2 first=alice big=3 small=5 e=none ne=none set=none r=req-only gone=none fmt=bob/2 conv=3 copy=abc m=GET flag=no many=yes un=unset from=127.0.0.0 tc=tc n2=12 ar=13 arm= ars=10 arp=4 g=5 of 12",
        "X-Res: 200 req= name=carol n=3",
        "X-Name: carol, X-Req: req-only",
        "name=dan n=1 hits=4 first=dan big=3 small=5 e=none ne=x set=none r=req-only gone=none fmt=dan/1 conv=3 copy=abc m=GET flag=no many=no un=unset from=127.0.0.0 tc=tc n2=11 ar=13 arm= ars=10 arp=4 g=5 of 12",
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
        let mut got = Vec::new();
        let mut c = HttpConn::open(px.addr(0));
        got.push(body(&c.get("/ret", &["X-Name: Alice", "X-Empty:"])));
        got.push(body(&c.get("/ret", &["X-Name: BOB"])));
        let r = c.get("/be", &["X-Name: Carol"]);
        assert_eq!(r.status, 200, "{}: {r}", im.name);
        got.push(format!("X-Res: {}", r.header("x-res").unwrap_or("-")));
        let b = srv.last();
        got.push(format!(
            "X-Name: {}, X-Req: {}",
            b.header("x-name").unwrap_or("-"),
            b.header("x-req").unwrap_or("-")
        ));
        let mut c2 = HttpConn::open(px.addr(0));
        got.push(body(&c2.get("/ret", &["X-Name: Dan", "X-Empty: x"])));
        px.stop();
        assert_eq!(got, want, "{}", im.name);
    }
}

const TYPES: &str = "@DEFAULTS@
frontend fe
    bind 127.0.0.1:@P0@
    http-request set-var(txn.a) req.hdr(x-absent)
    http-request set-var(txn.b) bool(1)
    http-request set-var(txn.s) str(5)
    http-request set-var(txn.found) str(yes) if { var(txn.b) -m found } { var(txn.b) -m bool }
    http-request set-var(txn.h2) str(no)
    http-request set-var(txn.h2) str(yes) if { req.hdr(x-h),set-var(txn.hh) -m found }
    http-request set-var(txn.c,ifexists,ifnotempty) str(c)
    http-request set-var(txn.s,ifexists,ifnotempty) str(7)
    http-request set-var(txn.bin) bin(000102)
    http-request set-var(txn.six) ipv6(::1)
    http-request set-var(txn.neg) int(-5),set-var(txn.neg2,iflt)
    http-request set-var(sess.cnt) var(sess.cnt),add(1)
    http-request return status 200 content-type text/plain lf-string \"a=%[var(txn.a,d)] b=%[var(txn.b)] s1=%[var(txn.s),add(1)] found=%[var(txn.found,no)] h2=%[var(txn.h2)] hh=%[var(txn.hh)] c=%[var(txn.c,none)] s=%[var(txn.s)] bin=%[var(txn.bin),hex] binl=%[var(txn.bin),length] six=%[var(txn.six)] neg=%[var(txn.neg2)] cnt=%[var(sess.cnt,none)] len=%[var(txn.a),length] blen=%[var(txn.b),length]\"
";

/// Each type stored as it came (bool, string, binary, IPv6, integer) and
/// cast where it is used; a converter's `set-var` inside an ACL; several
/// conditions at once; a missing operand leaves nothing to store.
fn variables_keep_their_type(poller: &str) {
    let want = "a=d b=1 s1=8 found=yes h2=yes hh=v c=none s=7 bin=000102 binl=0 six=::1 neg=-5 cnt=none len= blen=1";
    for im in pollux_and_haproxy(poller) {
        let px = im.start(&fill(TYPES, &[("@DEFAULTS@", http_defaults())]));
        let got = http_get(px.addr(0), "/", &["X-H: v"]).text();
        px.stop();
        assert_eq!(got, want, "{}", im.name);
    }
}

const TCP: &str = "@DEFAULTS@
frontend fe
    bind 127.0.0.1:@P0@
    tcp-request inspect-delay 3s
    tcp-request content set-var(txn.head) req.payload(0,4)
    tcp-request content reject if { var(txn.head) -m str QUIT }
    tcp-request content accept if { req.len ge 4 }
    default_backend be
backend be
    server s1 @SRV@
";

/// Whether the connection is forwarded (the echo comes back) or rejected.
fn tcp_outcome(addr: std::net::SocketAddr, parts: &[&[u8]]) -> String {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(300));
        }
        if c.write_all(p).is_err() {
            return "rejected".into();
        }
    }
    let want: usize = parts.iter().map(|p| p.len()).sum();
    let mut got = Vec::new();
    let mut buf = [0u8; 64];
    while got.len() < want {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    if got.is_empty() {
        "rejected".into()
    } else {
        format!("echoed {}", String::from_utf8_lossy(&got))
    }
}

/// When a `tcp-request content` condition waits for payload, the rules
/// run again from the first once more comes: the `set-var` before it sees
/// the later bytes too (HAProxy starts over; it resumes only a yielding
/// action).
fn tcp_content_set_var_runs_again_on_more_payload(poller: &str) {
    let want = [
        "rejected".to_string(),
        "rejected".to_string(),
        "echoed HELO".to_string(),
    ];
    for im in pollux_and_haproxy(poller) {
        let srv = TestServer::echo();
        let defaults = "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n";
        let px = im.start(&fill(
            TCP,
            &[
                ("@DEFAULTS@", defaults.to_string()),
                ("@SRV@", srv.addr().to_string()),
            ],
        ));
        let got = [
            tcp_outcome(px.addr(0), &[b"QUIT"]),
            tcp_outcome(px.addr(0), &[b"QU", b"IT!"]),
            tcp_outcome(px.addr(0), &[b"HELO"]),
        ];
        px.stop();
        assert_eq!(got, want, "{}", im.name);
    }
}

const ROUTING: &str = "@DEFAULTS@
frontend fe
    bind 127.0.0.1:@P0@
    http-request set-var(txn.user) req.hdr(x-user)
    use_backend b2 if { var(txn.user) -m str admin }
    default_backend b1
backend b1
    balance roundrobin
    stick-table type string len 32 size 10
    stick on var(txn.user)
    server s1 @S1@
    server s2 @S2@
backend b2
    server s3 @S3@
";

/// Variables decide: a backend switching rule reads one, and a stick table
/// keyed by one keeps a user on its server.
fn variables_route_and_stick(poller: &str) {
    let want = ["s1", "s1", "s2", "s1", "s3", "s2"];
    for im in pollux_and_haproxy(poller) {
        let srv: Vec<HttpBackend> = ["s1", "s2", "s3"].map(HttpBackend::start).into();
        let px = im.start(&fill(
            ROUTING,
            &[
                ("@DEFAULTS@", http_defaults()),
                ("@S1@", srv[0].addr().to_string()),
                ("@S2@", srv[1].addr().to_string()),
                ("@S3@", srv[2].addr().to_string()),
            ],
        ));
        let got: Vec<String> = ["alice", "alice", "bob", "alice", "admin", "bob"]
            .iter()
            .map(|u| {
                let h = format!("X-User: {u}");
                http_get(px.addr(0), "/", &[&h]).server().to_string()
            })
            .collect();
        px.stop();
        assert_eq!(got, want, "{}", im.name);
    }
}

per_poller!(
    variables_keep_their_type,
    variables_route_and_stick,
    variables_live_in_their_scope,
    tcp_content_set_var_runs_again_on_more_payload
);
