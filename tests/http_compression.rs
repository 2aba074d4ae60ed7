//! `compression algo|type|offload`, side by side with HAProxy 2.6 on the
//! same server and requests: which responses are compressed (status,
//! type, framing, Content-Encoding, no-transform, HTTP/1.0, HEAD), the
//! headers of a compressed one (chunked, no length, `Vary`, weak ETag),
//! the algorithm picked from Accept-Encoding, `offload`, and bodies that
//! decompress to exactly what the server sent, per poller.

mod common;

use common::servers::FnServer;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

/// 40 kB of text that compresses well but not trivially.
fn text() -> Vec<u8> {
    (0..4000u32)
        .flat_map(|i| format!("line {i:05} {}\n", i * 7919 % 1000).into_bytes())
        .collect()
}

/// 4 MB of hex digits from a xorshift: compresses to about half.
fn big() -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..4 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"0123456789abcdef"[(x & 15) as usize]
        })
        .collect()
}

/// Answers by path, keep-alive, GET and HEAD without bodies.
fn server() -> FnServer {
    FnServer::spawn(|mut s: TcpStream| {
        let mut buf = Vec::new();
        loop {
            let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                let mut tmp = [0u8; 4096];
                match s.read(&mut tmp) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                }
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            buf.drain(..end + 4);
            let path = head.split(' ').nth(1).unwrap_or("/").to_string();
            let ae = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("accept-encoding")
                        .then(|| v.trim().to_string())
                })
                .unwrap_or_else(|| "-".into());
            let head_only = head.starts_with("HEAD ");
            let body = if path == "/big" { big() } else { text() };
            let (status, extra, chunked) = match path.as_str() {
                "/chunked" | "/big" => {
                    ("200 OK", "Content-Type: text/html; charset=utf-8\r\n", true)
                }
                "/json" => ("200 OK", "Content-Type: application/json\r\n", false),
                "/br" => (
                    "200 OK",
                    "Content-Type: text/plain\r\nContent-Encoding: br\r\n",
                    false,
                ),
                "/nt" => (
                    "200 OK",
                    "Content-Type: text/plain\r\nCache-Control: public, no-transform\r\n",
                    false,
                ),
                "/etag" => (
                    "200 OK",
                    "Content-Type: text/plain\r\nETag: \"v1\"\r\n",
                    false,
                ),
                "/201" => ("201 Created", "Content-Type: text/plain\r\n", false),
                "/404" => ("404 Not Found", "Content-Type: text/plain\r\n", false),
                "/notype" => ("200 OK", "", false),
                _ => ("200 OK", "Content-Type: text/plain\r\n", false),
            };
            let mut out = format!("HTTP/1.1 {status}\r\n{extra}X-AE: {ae}\r\n").into_bytes();
            if chunked {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                if !head_only {
                    for part in body.chunks(7000) {
                        out.extend_from_slice(format!("{:x};ext=1\r\n", part.len()).as_bytes());
                        out.extend_from_slice(part);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(b"0\r\n\r\n");
                }
            } else {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                if !head_only {
                    out.extend_from_slice(&body);
                }
            }
            if s.write_all(&out).is_err() {
                return;
            }
        }
    })
}

/// curl's view: status, the headers that matter, and the body decoded
/// as its Content-Encoding says (`=` when it is the server's text).
fn fetch(port: u16, path: &str, args: &[&str]) -> String {
    fetch_ae(port, path, "gzip, deflate", args)
}

fn fetch_ae(port: u16, path: &str, ae: &str, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-D", "-", "--max-time", "5", "-H"])
        .arg(format!("Accept-Encoding: {ae}"))
        .args(args)
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl");
    let raw = out.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = raw.get(split + 4..).unwrap_or(&[]).to_vec();
    let h = |n: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.trim().to_string())
            .collect::<Vec<_>>()
            .join("|")
    };
    let status = head.split(' ').nth(1).unwrap_or("?").to_string();
    let mut plain = Vec::new();
    let decoded = match h("content-encoding").as_str() {
        "gzip" => flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .is_ok(),
        "deflate" => flate2::read::ZlibDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .is_ok(),
        _ => {
            plain = body.clone();
            true
        }
    };
    let verdict = if !decoded {
        "UNDECODABLE".to_string()
    } else if plain == text() {
        "=".to_string()
    } else {
        format!("{} bytes", plain.len())
    };
    format!(
        "{path} {status} ce={} vary={} etag={} te={} cl={} ae={} body {verdict}",
        h("content-encoding"),
        h("vary"),
        h("etag"),
        h("transfer-encoding"),
        !h("content-length").is_empty(),
        h("x-ae"),
    )
}

fn compression_as_haproxy(poller: &str) {
    let srv = server();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n    compression algo gzip deflate\n    compression type text/plain text/html\n    default_backend be\n\
         frontend off\n    bind 127.0.0.1:@P1@\n    compression algo gzip\n    compression offload\n    default_backend be\n\
         frontend nt\n    bind 127.0.0.1:@P2@\n    compression algo deflate\n    default_backend typed\n\
         backend be\n    server s1 {a}\n\
         backend typed\n    compression type text/html\n    server s1 {a}\n",
        a = srv.addr()
    );
    let mut seen = Vec::new();
    for imp in common::reference::pollux_and_haproxy(poller) {
        let px = imp.start(&cfg);
        let (p0, p1, p2) = (px.addr(0).port(), px.addr(1).port(), px.addr(2).port());
        let mut got = Vec::new();
        for path in [
            "/cl", "/chunked", "/json", "/br", "/nt", "/etag", "/201", "/404", "/notype",
        ] {
            got.push(fetch(p0, path, &[]));
        }
        got.push(fetch_ae(p0, "/cl", "gzip;q=0.5, deflate", &[]));
        got.push(fetch_ae(p0, "/cl", "br", &[]));
        got.push(fetch(p0, "/cl", &["-0"]));
        got.push(fetch(p0, "/cl", &["-I"]));
        got.push(fetch(p1, "/chunked", &[]));
        // The backend's type list wins over the frontend's (none).
        got.push(fetch(p2, "/cl", &[]));
        got.push(fetch(p2, "/chunked", &[]));
        // Several compressed responses on one keep-alive connection.
        let out = Command::new("curl")
            .args([
                "-s",
                "--compressed",
                "-o",
                "/dev/null",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{size_download} %{num_connects}\n",
            ])
            .arg(format!("http://127.0.0.1:{p0}/cl"))
            .arg(format!("http://127.0.0.1:{p0}/chunked"))
            .output()
            .unwrap();
        // The sizes are the deflate's (libslz or zlib there, miniz_oxide
        // here): that they are well under the text's is the point.
        let line: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let w: Vec<&str> = l.split(' ').collect();
                let small = w[1].parse::<usize>().unwrap_or(usize::MAX) < text().len() / 2;
                format!("{} small={small} connects={}", w[0], w[2])
            })
            .collect();
        got.push(line.join(" / "));
        px.stop();
        seen.push((imp.name, got));
    }
    let ours = &seen[0].1;
    let gz = "ce=gzip vary=Accept-Encoding";
    assert_eq!(
        ours[0],
        format!("/cl 200 {gz} etag= te=chunked cl=false ae=gzip, deflate body =")
    );
    assert_eq!(
        ours[1],
        format!("/chunked 200 {gz} etag= te=chunked cl=false ae=gzip, deflate body =")
    );
    assert!(
        ours[2].starts_with("/json 200 ce= vary= etag= te= cl=true"),
        "{ours:?}"
    );
    assert!(ours[5].contains("etag=W/\"v1\""), "{ours:?}");
    assert!(ours[9].starts_with("/cl 200 ce=deflate"), "{ours:?}");
    assert!(
        ours[13].starts_with("/chunked 200 ce=gzip") && ours[13].contains("ae=- body ="),
        "{ours:?}"
    );
    if let Some((_, theirs)) = seen.get(1) {
        assert_eq!(ours, theirs, "pollux, then HAProxy");
    }
}

per_poller!(compression_as_haproxy);

/// The configuration's errors, as HAProxy words them.
#[test]
fn compression_config_errors() {
    let dir = TestDir::new("comp-cfg");
    for (line, want) in [
        (
            "compression algo lzma",
            "'compression' : 'lzma' is not a supported algorithm.",
        ),
        ("compression algo", "'compression' expects <algorithm>."),
        ("compression type", "'compression' expects <type>."),
        (
            "compression level 3",
            "'compression' expects 'algo', 'type' or 'offload'",
        ),
        ("filter spoe", "'filter spoe' is not supported yet"),
    ] {
        let cfg = dir.write(
            "p.cfg",
            &format!("defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:1\n    {line}\n    http-request return status 200\n"),
        );
        let out = run_pollux(&dir, &["-c", "-f", cfg.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{line}: {}", out.all());
        assert!(
            out.all().contains(&format!("p.cfg:8: {want}")) || out.all().contains(want),
            "{line}: {}",
            out.all()
        );
    }
    // `filter compression` with `compression` is the same filter; offload
    // in defaults is ignored with HAProxy's warning.
    let cfg = dir.write(
        "ok.cfg",
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n    compression offload\n\
         frontend fe\n    bind 127.0.0.1:1\n    filter compression\n    compression algo gzip\n    http-request return status 200\n",
    );
    let out = run_pollux(&dir, &["-c", "-f", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(0), "{}", out.all());
    assert!(
        out.all()
            .contains("'offload' ignored in 'defaults' section"),
        "{}",
        out.all()
    );
}

/// A 4 MB chunked body to a client reading at 1 MB/s: the compressor
/// waits for the client (it holds 32 kB at most) and what arrives
/// decompresses to exactly what the server sent.
fn slow_client_gets_it_all(poller: &str) {
    let srv = server();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n    compression algo gzip\n    default_backend be\n\
         backend be\n    server s1 {}\n",
        srv.addr()
    );
    let px = Launch::new(Some(poller)).start(&cfg);
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "20",
            "--limit-rate",
            "1M",
            "-H",
            "Accept-Encoding: gzip",
        ])
        .arg(format!("http://{}/big", px.addr(0)))
        .output()
        .expect("curl");
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&out.stdout[..])
        .read_to_end(&mut plain)
        .expect("a gzip stream");
    assert!(plain == big(), "{} bytes decompressed", plain.len());
    assert!(
        out.stdout.len() < big().len() * 3 / 4,
        "{}",
        out.stdout.len()
    );
    px.stop();
}

per_poller!(slow_client_gets_it_all);
