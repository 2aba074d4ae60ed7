//! `http-request set-src`, `set-src-port`, `set-dst`, `set-dst-port`:
//! later rules, `option forwardfor` and a `0.0.0.0:0` server see the new
//! addresses. The same configuration and requests go through pollux and
//! HAProxy 2.6; what the client and the server receive must be the same.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// `fe` prints what its rules see; `px` forwards to a `0.0.0.0:0` server
/// after pointing the destination at the test's server.
fn config(server_port: u16) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n\
         \x20   http-request set-src req.hdr(x-src) if {{ req.hdr(x-src) -m found }}\n\
         \x20   http-request set-src-port req.hdr(x-sport) if {{ req.hdr(x-sport) -m found }}\n\
         \x20   http-request set-dst str(10.9.8.7)\n\
         \x20   http-request set-dst-port int(70000)\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"src=%[src] sp=%[src_port] dst=%[dst] dp=%[dst_port]\"\n\
         frontend px\n    bind 127.0.0.1:@P1@\n    option forwardfor\n\
         \x20   http-request set-src str(192.0.2.55)\n\
         \x20   http-request set-dst str(127.0.0.1)\n\
         \x20   http-request set-dst-port int({server_port})\n\
         \x20   default_backend be\n\
         backend be\n    server any 0.0.0.0:0\n"
    )
}

fn body(px: &Pollux, port: usize, headers: &str) -> String {
    let mut c = TcpStream::connect(px.addr(port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let _ = c.read_to_end(&mut resp);
    let resp = String::from_utf8_lossy(&resp).to_string();
    resp.split_once("\r\n\r\n")
        .map_or(resp.clone(), |(_, b)| b.to_string())
}

fn addresses_set_by_rules_are_used(poller: &str) {
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        // A one-shot server that answers with the X-Forwarded-For it got.
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let px = imp.start(&config(port));
        let got = vec![
            body(&px, 0, ""),
            body(&px, 0, "x-src: 2001:db8::7\r\nx-sport: 1234\r\n"),
            body(&px, 0, "x-src: not-an-address\r\n"),
        ];
        let echo = std::thread::spawn(move || {
            let (mut c, _) = server.accept().unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = c.read(&mut buf).unwrap();
                assert!(n > 0, "closed before the head");
                head.extend_from_slice(&buf[..n]);
            }
            let head = String::from_utf8_lossy(&head).to_lowercase();
            let xff = head
                .lines()
                .find_map(|l| l.strip_prefix("x-forwarded-for: "))
                .unwrap_or("none")
                .to_string();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xff}",
                xff.len()
            );
            c.write_all(resp.as_bytes()).unwrap();
        });
        let forwarded = body(&px, 1, "");
        echo.join().unwrap();
        px.stop();
        // The client's own port varies: mask it.
        let got: Vec<String> = got
            .into_iter()
            .map(|b| {
                b.split(' ')
                    .map(|w| {
                        if w.starts_with("sp=") && w != "sp=1234" {
                            "sp=*"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        seen.push((imp.name, got, forwarded));
    }
    let (_, got, fwd) = &seen[0];
    assert_eq!(got[0], "src=127.0.0.1 sp=* dst=10.9.8.7 dp=4464", "{got:?}");
    assert_eq!(
        got[1], "src=2001:db8::7 sp=1234 dst=10.9.8.7 dp=4464",
        "{got:?}"
    );
    assert_eq!(fwd, "192.0.2.55", "the server got the new source");
    if let Some((_, h_got, h_fwd)) = seen.get(1) {
        assert_eq!((got, fwd), (h_got, h_fwd), "pollux, then HAProxy");
    }
}

per_poller!(addresses_set_by_rules_are_used);
