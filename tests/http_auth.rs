//! `userlist` sections, the `http_auth*` fetches and `http-request auth`,
//! through pollux and HAProxy 2.6 with the same configuration and requests:
//! the same statuses, the same `WWW-Authenticate` challenge, and the same
//! body where the request is let through (it prints the fetches).

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

// crypt(3) hashes of "elgato", made with glibc (Debian 12).
const SHA512: &str = "$6$k6y3o.eP$igsQ78VXKk9l2wz.QFQagpKvYHWFNvg0DOkd1VmMynF60v8nKVbmNrY7rIn2yimPK6tKljx287YlyBOj9X8Gk/";
const SHA256: &str = "$5$saltstring$IdnSaDXd1mU7jtAia471CUMHmx5YqUv2pZEDOlKVdR4";

fn config() -> String {
    format!(
        "userlist L1\n    group G1 users tiger\n    group G2\n\
         \x20   user tiger password {SHA512}\n\
         \x20   user scott insecure-password elgato groups G2\n\
         \x20   user r256 password {SHA256} groups G1,G2\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n\
         \x20   acl ok http_auth(L1)\n\
         \x20   acl g1 http_auth_group(L1) G1\n\
         \x20   acl later http_auth(L2)\n\
         \x20   http-request auth realm Zone unless ok || later\n\
         \x20   http-request set-header x-g1 yes if g1\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"user=%[http_auth_user] pass=%[http_auth_pass] type=%[http_auth_type] group=%[http_auth_group(L1)] g1=%[req.hdr(x-g1)]\"\n\
         frontend other\n    bind 127.0.0.1:@P1@\n    http-request auth\n\
         userlist L2\n    user late insecure-password x\n"
    )
}

fn b64(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Status, `WWW-Authenticate` value, and the body of a 200.
fn ask(px: &Pollux, port: usize, auth: Option<&str>) -> (String, String, String) {
    let mut c = TcpStream::connect(px.addr(port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let _ = c.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp).to_string();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head.get(9..12).unwrap_or("").to_string();
    let challenge = head
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case("www-authenticate")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let body = if status == "200" {
        body.to_string()
    } else {
        String::new()
    };
    (status, challenge, body)
}

fn userlists_authenticate_as_haproxy(poller: &str) {
    let basic = |u: &str, p: &str| format!("Basic {}", b64(&format!("{u}:{p}")));
    let cases: Vec<(usize, Option<String>)> = vec![
        (0, None),
        (0, Some(basic("tiger", "elgato"))),
        (0, Some(basic("tiger", "wrong"))),
        (0, Some(basic("scott", "elgato"))),
        (0, Some(basic("r256", "elgato"))),
        (0, Some(basic("late", "x"))),
        (0, Some(format!("basic   {}", b64("scott:elgato")))),
        (0, Some("Bearer abc".into())),
        (0, Some("Basic !!!".into())),
        (1, None),
    ];
    let mut all = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let px = imp.start(&config());
        let got: Vec<_> = cases
            .iter()
            .map(|(p, a)| ask(&px, *p, a.as_deref()))
            .collect();
        px.stop();
        all.push((imp.name, got));
    }
    let ours = &all[0].1;
    assert_eq!(ours[0].0, "401");
    assert_eq!(ours[0].1, "Basic realm=\"Zone\"");
    assert_eq!(ours[1].0, "200", "{:?}", ours[1]);
    assert_eq!(
        ours[9].1, "Basic realm=\"other\"",
        "the proxy's name by default"
    );
    if let Some((_, theirs)) = all.get(1) {
        for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
            assert_eq!(o, t, "case {i} {:?}: pollux, then HAProxy", cases[i]);
        }
    }
}

per_poller!(userlists_authenticate_as_haproxy);
