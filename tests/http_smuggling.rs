//! Request smuggling: every case of `common::smuggling::CASES` is sent raw on a
//! fresh connection through pollux to a recording backend. The config denies
//! `/smuggled` (403), so the only way `GET /smuggled` can reach the backend is
//! by hiding from pollux's parser: the backend's own strict parse of exactly the
//! bytes it received must never show it, nor any framing it cannot parse.

mod common;

use common::smuggling::{Expect, CASES, LENIENT};
use common::*;
use std::time::Duration;

const CFG: &str = "
global
    maxconn 200
    tune.bufsize 16384
    tune.maxrewrite 1024
@DEFAULTS@
    timeout http-request 2s
frontend fe
    bind 127.0.0.1:@P0@
    http-request deny if { path_beg /smuggled }
    default_backend be
backend be
    server s1 @BE@
";

/// The table itself: names unique, at least 40 cases, and each Accept case's
/// first request is exactly `first_len` bytes by a strict parse.
#[test]
fn smuggling_table_is_self_consistent() {
    assert!(CASES.len() >= 40, "only {} cases", CASES.len());
    let mut names: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "duplicate case names");
    for (name, bytes, expect) in CASES {
        let Expect::Accept { first_len } = *expect else {
            continue;
        };
        if LENIENT.contains(name) {
            continue;
        }
        let end = find(bytes, b"\r\n\r\n").unwrap_or_else(|| panic!("{name}: no head end")) + 4;
        let head = parse_head(&bytes[..end]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let body = match request_framing(&head).unwrap_or_else(|e| panic!("{name}: {e}")) {
            Framing::None => 0,
            Framing::Length(n) => n as usize,
            Framing::Chunked => {
                chunked_len(&bytes[end..]).unwrap_or_else(|| panic!("{name}: bad chunked body"))
            }
            Framing::Close => unreachable!(),
        };
        assert_eq!(end + body, first_len, "{name}: first request length");
        let tail = &bytes[first_len..];
        assert!(
            tail.is_empty() || tail.starts_with(b"GET /smuggled "),
            "{name}: tail must be empty or GET /smuggled"
        );
    }
}

/// Method, target and body length (chunked: data bytes) of the first request.
fn expected_message(bytes: &[u8], first_len: usize) -> Option<(String, String, u64)> {
    let end = find(bytes, b"\r\n\r\n")? + 4;
    let head = parse_head(&bytes[..end]).ok()?;
    let body = match request_framing(&head).ok()? {
        Framing::None => 0,
        Framing::Length(n) => n,
        Framing::Chunked => chunked_data_len(&bytes[end..first_len])?,
        Framing::Close => return None,
    };
    Some((head.start[0].clone(), head.start[1].clone(), body))
}

/// Sum of the chunk sizes of a chunked body.
fn chunked_data_len(b: &[u8]) -> Option<u64> {
    let (mut i, mut total) = (0, 0u64);
    loop {
        let eol = find(&b[i..], b"\r\n")?;
        let size = b[i..i + eol].split(|&c| c == b';').next()?;
        let size = std::str::from_utf8(size)
            .ok()?
            .trim_end_matches([' ', '\t']);
        let n = u64::from_str_radix(size, 16).ok()?;
        if n == 0 {
            return Some(total);
        }
        total += n;
        i += eol + 2 + n as usize + 2;
    }
}

/// Length of a chunked body (with its trailers) at the start of `b`.
fn chunked_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        let eol = find(&b[i..], b"\r\n")?;
        let size = b[i..i + eol].split(|&c| c == b';').next()?;
        let n = usize::from_str_radix(std::str::from_utf8(size).ok()?, 16).ok()?;
        i += eol + 2;
        if n == 0 {
            loop {
                let eol = find(&b[i..], b"\r\n")?;
                i += eol + 2;
                if eol == 0 {
                    return Some(i);
                }
            }
        }
        i += n + 2;
    }
}

per_poller!(malformed_and_ambiguous_requests_never_smuggle_a_second_request);

fn malformed_and_ambiguous_requests_never_smuggle_a_second_request(poller: &str) {
    let be = HttpBackend::start("be");
    let px = Pollux::start(
        poller,
        &fill(
            CFG,
            &[
                ("@DEFAULTS@", http_defaults()),
                ("@BE@", be.addr().to_string()),
            ],
        ),
    );
    let mut failures = Vec::new();
    let mut accepted = 0;
    for (name, bytes, expect) in CASES {
        let before = be.requests().len();
        let mut c = HttpConn::open(px.addr(0));
        c.send(bytes);
        let method =
            String::from_utf8_lossy(&bytes[..bytes.iter().position(|&b| b == b' ').unwrap_or(0)])
                .to_string();
        let got = match *expect {
            Expect::Reject(code) => match c.try_response(&method) {
                Ok(r) if r.status == code => {
                    if c.closed_within(Duration::from_secs(3)) {
                        Ok(())
                    } else {
                        Err(format!("{code} but the connection stayed open"))
                    }
                }
                Ok(r) => Err(format!("expected {code}, got {}", r.status)),
                Err(e) => Err(format!("expected {code}, got no response: {e}")),
            },
            Expect::Accept { first_len } => {
                accepted += 1;
                let r1 = c.try_response(&method);
                let r2 = if first_len < bytes.len() {
                    Some(c.try_response("GET"))
                } else {
                    None
                };
                match (r1, r2) {
                    (Ok(a), _) if a.status != 200 || a.server() != "be" => {
                        Err(format!("expected 200 from the backend, got {a}"))
                    }
                    (Ok(_), Some(Ok(b))) if b.status != 403 => {
                        Err(format!("the tail should be denied (403), got {}", b.status))
                    }
                    (Ok(_), Some(Err(e))) => Err(format!("no response to the tail: {e}")),
                    (Ok(_), _) => Ok(()),
                    (Err(e), _) => Err(format!("expected 200, got no response: {e}")),
                }
            }
        };
        drop(c);
        let after = be.requests();
        let want = before + usize::from(matches!(expect, Expect::Accept { .. }));
        let got = got.and_then(|()| {
            if after.len() == want {
                Ok(())
            } else {
                Err(format!(
                    "backend has {} complete requests, expected {want}",
                    after.len()
                ))
            }
        });
        // The one message forwarded is the one the client sent: same method,
        // target and body length, by the tests' own strict parse of both.
        let got = got.and_then(|()| match (*expect, after.last()) {
            (Expect::Accept { first_len }, Some(r)) if !LENIENT.contains(name) => {
                let want = expected_message(bytes, first_len)
                    .ok_or_else(|| "the case does not parse strictly".to_string())?;
                let seen = (r.method().to_string(), r.target().to_string(), r.body.len);
                if seen == want {
                    Ok(())
                } else {
                    Err(format!("forwarded as {seen:?}, sent as {want:?}"))
                }
            }
            _ => Ok(()),
        });
        if let Err(e) = got {
            failures.push(format!("{name}: {e}"));
        }
    }
    // Let anything still in flight land, then look at the backend's whole view.
    std::thread::sleep(Duration::from_millis(300));
    let reqs = be.requests();
    for r in &reqs {
        if r.target().contains("smuggled") {
            failures.push(format!(
                "backend received a smuggled request on its conn {}: {:?}",
                r.conn,
                String::from_utf8_lossy(&r.head.raw)
            ));
        }
    }
    failures.extend(be.violations());
    if reqs.len() != accepted {
        failures.push(format!(
            "backend received {} complete requests in all, expected {accepted}",
            reqs.len()
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n"),
        be.dump()
    );
    px.stop();
}
