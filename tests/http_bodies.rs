//! Bodies stream through intact: Content-Length and chunked requests to the
//! recording backend (which hashes what it gets), Content-Length responses from
//! nginx files, chunked and close-delimited responses from the in-test server;
//! 0 B, 1 B and 1 MiB with keep-alive on and off, and 100 MiB once per direction.
//! (A request cannot be close-delimited, RFC 9112 §6.3: without Content-Length
//! or Transfer-Encoding its body is empty; the smuggling suite covers that.)

mod common;

use common::*;
use std::io::{BufWriter, Write};

const SIZES: [usize; 3] = [0, 1, MIB];

/// Frontend @P0@ to nginx, @P1@ to the recording backend; `fe_extra` in both.
fn cfg(fe_extra: &str, nginx: &Nginx, rec: &HttpBackend) -> String {
    format!(
        "global\n    maxconn 200\n{}\nfrontend to_nginx\n    bind 127.0.0.1:@P0@\n{fe_extra}\n    default_backend nginx\n\nfrontend to_rec\n    bind 127.0.0.1:@P1@\n{fe_extra}\n    default_backend rec\n\nbackend nginx\n    server n1 {}\n\nbackend rec\n    server r1 {}\n",
        http_defaults(),
        nginx.addr(),
        rec.addr()
    )
}

#[derive(Clone, Copy, Debug)]
enum Req {
    Length,
    Chunked,
}

/// Send a POST with `len` bytes of pattern `len`, streamed, and check what the
/// backend says it received (its X-Body-Len / X-Body-Hash).
fn post(c: &mut HttpConn, how: Req, len: usize) {
    let seed = len as u64;
    {
        let mut w = BufWriter::with_capacity(256 * 1024, &mut c.wire.s);
        match how {
            Req::Length => {
                write!(
                    w,
                    "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: {len}\r\n\r\n"
                )
                .unwrap();
                write_pattern(&mut w, seed, len, 64 * 1024).unwrap();
            }
            Req::Chunked => {
                write!(
                    w,
                    "POST /upload HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n"
                )
                .unwrap();
                write_pattern_chunked(&mut w, seed, len).unwrap();
            }
        }
        w.flush().expect("send the request body");
    }
    let r = c.response_to("POST");
    assert_eq!(r.status, 200, "{how:?} {len}: {r}");
    assert_eq!(
        r.header("x-body-len"),
        Some(len.to_string().as_str()),
        "{how:?} {len}: length at the backend"
    );
    assert_eq!(
        r.header("x-body-hash"),
        Some(format!("{:016x}", pattern_hash(seed, len)).as_str()),
        "{how:?} {len}: content at the backend"
    );
}

/// GET `path`, expecting `len` bytes of pattern `len`.
fn get_pattern(c: &mut HttpConn, path: &str, len: usize) -> Response {
    let r = c.get(path, &[]);
    assert_eq!(r.status, 200, "{path}: {r}");
    assert_eq!(
        r.body.len, len as u64,
        "{path}: body length ({:?})",
        r.framing
    );
    assert_eq!(
        r.body.hash.0,
        pattern_hash(len as u64, len),
        "{path}: body content"
    );
    r
}

fn files() -> Vec<(String, usize)> {
    SIZES.iter().map(|&n| (format!("f{n}"), n)).collect()
}

fn start_nginx(extra: &[(&str, usize)]) -> Nginx {
    let f = files();
    let mut all: Vec<(&str, usize)> = f.iter().map(|(n, l)| (n.as_str(), *l)).collect();
    all.extend_from_slice(extra);
    Nginx::start(&all)
}

per_poller!(
    request_bodies_pass_intact_with_keep_alive,
    request_bodies_pass_intact_without_keep_alive,
    response_bodies_pass_intact_with_keep_alive,
    response_bodies_pass_intact_without_keep_alive,
    request_body_of_100_mib_passes_intact,
    response_body_of_100_mib_passes_intact,
);

fn request_bodies_pass_intact_with_keep_alive(poller: &str) {
    let ng = start_nginx(&[]);
    let rec = HttpBackend::start("rec");
    let px = Pollux::start(poller, &cfg("", &ng, &rec));
    let mut c = HttpConn::open(px.addr(1));
    for how in [Req::Length, Req::Chunked] {
        for len in SIZES {
            post(&mut c, how, len);
        }
    }
    assert_eq!(rec.requests().len(), 6);
    assert!(rec.violations().is_empty(), "{:?}", rec.violations());
    px.stop();
}

fn request_bodies_pass_intact_without_keep_alive(poller: &str) {
    let ng = start_nginx(&[]);
    let rec = HttpBackend::start("rec");
    let px = Pollux::start(poller, &cfg("    option httpclose", &ng, &rec));
    for how in [Req::Length, Req::Chunked] {
        for len in SIZES {
            let mut c = HttpConn::open(px.addr(1));
            post(&mut c, how, len);
            assert!(
                c.closed_within(PATIENCE),
                "httpclose: closed after the response"
            );
        }
    }
    assert_eq!(rec.accepted(), 6);
    px.stop();
}

fn response_bodies_pass_intact_with_keep_alive(poller: &str) {
    let ng = start_nginx(&[]);
    let rec = HttpBackend::start("rec");
    let px = Pollux::start(poller, &cfg("", &ng, &rec));
    let mut c = HttpConn::open(px.addr(0));
    for len in SIZES {
        let r = get_pattern(&mut c, &format!("/f{len}"), len);
        assert_eq!(r.framing, Framing::Length(len as u64));
    }
    let mut c = HttpConn::open(px.addr(1));
    for len in SIZES {
        get_pattern(&mut c, &format!("/chunked/{len}"), len);
    }
    // A close-delimited response ends its server connection; the client may get
    // it chunked (and keep its connection) or close-delimited.
    for len in SIZES {
        let mut c = HttpConn::open(px.addr(1));
        get_pattern(&mut c, &format!("/close/{len}"), len);
    }
    px.stop();
}

fn response_bodies_pass_intact_without_keep_alive(poller: &str) {
    let ng = start_nginx(&[]);
    let rec = HttpBackend::start("rec");
    let px = Pollux::start(poller, &cfg("    option httpclose", &ng, &rec));
    for len in SIZES {
        for (port, path) in [
            (0, format!("/f{len}")),
            (1, format!("/chunked/{len}")),
            (1, format!("/close/{len}")),
        ] {
            let mut c = HttpConn::open(px.addr(port));
            get_pattern(&mut c, &path, len);
            assert!(
                c.closed_within(PATIENCE),
                "{path}: closed after the response"
            );
        }
    }
    px.stop();
}

const BIG: usize = 100 * MIB;

fn request_body_of_100_mib_passes_intact(poller: &str) {
    let _g = heavy_lock();
    let ng = start_nginx(&[]);
    let rec = HttpBackend::start("rec");
    let px = Pollux::start(poller, &cfg("", &ng, &rec));
    // Keep-alive: Content-Length then chunked on one connection, then a small one.
    let mut c = HttpConn::open(px.addr(1));
    post(&mut c, Req::Length, BIG);
    post(&mut c, Req::Chunked, BIG);
    post(&mut c, Req::Length, 1);
    drop(c);
    px.stop();
    // Keep-alive off.
    let px = Pollux::start(poller, &cfg("    option httpclose", &ng, &rec));
    for how in [Req::Chunked, Req::Length] {
        let mut c = HttpConn::open(px.addr(1));
        post(&mut c, how, BIG);
        assert!(c.closed_within(PATIENCE));
    }
    px.stop();
}

fn response_body_of_100_mib_passes_intact(poller: &str) {
    let _g = heavy_lock();
    let ng = start_nginx(&[("big", BIG)]);
    let rec = HttpBackend::start("rec");
    let px = Pollux::start(poller, &cfg("", &ng, &rec));
    // Keep-alive: a 100 MiB file then a small one on one connection; chunked likewise.
    let mut c = HttpConn::open(px.addr(0));
    let r = c.get("/big", &[]);
    assert_eq!((r.status, r.body.len), (200, BIG as u64));
    assert_eq!(
        r.body.hash.0,
        pattern_hash(BIG as u64, BIG),
        "100 MiB file content"
    );
    get_pattern(&mut c, "/f1", 1);
    let mut c = HttpConn::open(px.addr(1));
    get_pattern(&mut c, &format!("/chunked/{BIG}"), BIG);
    get_pattern(&mut c, "/chunked/1", 1);
    px.stop();
    // Keep-alive off: curl downloads the file; close-delimited from the in-test server.
    let px = Pollux::start(poller, &cfg("    option httpclose", &ng, &rec));
    let dir = TestDir::new("download");
    let code = curl_download(&format!("http://{}/big", px.addr(0)), &dir.join("big"));
    assert_eq!(code, 200, "curl through pollux");
    assert!(
        file_is_pattern(&dir.join("big"), BIG as u64, BIG),
        "curl's download differs"
    );
    let mut c = HttpConn::open(px.addr(1));
    get_pattern(&mut c, &format!("/close/{BIG}"), BIG);
    let mut c = HttpConn::open(px.addr(1));
    get_pattern(&mut c, &format!("/chunked/{BIG}"), BIG);
    assert!(c.closed_within(PATIENCE));
    px.stop();
}
