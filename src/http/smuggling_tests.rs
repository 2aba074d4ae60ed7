//! Runs the smuggling table through the whole request pipeline: head parser,
//! framing, body tracker, fed whole, split at every offset, and byte by byte.

use crate::http::body::{normalize_request_framing, request_framing, BodyTracker, Framing};
use crate::http::message::{Headers, Request};
use crate::http::parser::HeadParser;
use crate::http::smuggling_cases::{Expect, CASES};

const MAX: usize = 16384 - 1024;

/// The first request in `bytes`, the buffer growing to each of `points` in turn.
fn first_request(bytes: &[u8], points: &[usize]) -> Expect {
    let mut p = HeadParser::new(MAX);
    let mut head = None;
    for &c in points {
        match p.parse_request(&bytes[..c]) {
            Err(e) => return Expect::Reject(e.status),
            Ok(Some(h)) => {
                head = Some(h);
                break;
            }
            Ok(None) => {}
        }
    }
    let head = head.expect("table rows hold complete heads");
    let req = Request::from_head(&head, bytes);
    let f = match request_framing(&req) {
        Ok(f) => f,
        Err(e) => return Expect::Reject(e.status),
    };
    let mut t = BodyTracker::new(f);
    let mut pos = head.len;
    for &c in points.iter().filter(|&&c| c > head.len) {
        if t.is_done() {
            break;
        }
        match t.advance(&bytes[pos..c]) {
            Ok(n) => pos += n,
            Err(e) => return Expect::Reject(e.status),
        }
    }
    assert!(t.is_done(), "table rows hold complete bodies");
    Expect::Accept { first_len: pos }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).escape_debug().to_string()
}

#[test]
fn smuggling_table_has_at_least_45_rows_with_unique_names() {
    assert!(CASES.len() >= 45, "{}", CASES.len());
    let mut names: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), CASES.len());
}

#[test]
fn smuggling_table_outcomes_whole_split_and_bytewise() {
    for (name, bytes, want) in CASES {
        let n = bytes.len();
        let got = first_request(bytes, &[n]);
        assert_eq!(&got, want, "{name}: {}", show(bytes));
        for cut in 0..n {
            assert_eq!(
                &first_request(bytes, &[cut, n]),
                want,
                "{name} cut at {cut}"
            );
        }
        let all: Vec<usize> = (1..=n).collect();
        assert_eq!(&first_request(bytes, &all), want, "{name} bytewise");
    }
}

#[test]
fn accepted_rows_leave_only_a_visible_next_request() {
    for (name, bytes, want) in CASES {
        if let Expect::Accept { first_len } = want {
            let rest = &bytes[*first_len..];
            assert!(
                rest.is_empty()
                    || rest.starts_with(b"GET /next ")
                    || rest.starts_with(b"GET /smuggled "),
                "{name}: rest {}",
                show(rest)
            );
            if !rest.is_empty() {
                // The rest parses as a request of its own, with no body.
                let h = HeadParser::new(MAX).parse_request(rest).unwrap().unwrap();
                assert_eq!(h.len, rest.len(), "{name}");
            }
        }
    }
}

#[test]
fn accepted_heads_are_forwarded_with_one_unambiguous_framing() {
    for (name, bytes, want) in CASES {
        let Expect::Accept { first_len } = want else {
            continue;
        };
        let head = HeadParser::new(MAX).parse_request(bytes).unwrap().unwrap();
        let mut req = Request::from_head(&head, bytes);
        let f = request_framing(&req).unwrap();
        normalize_request_framing(&mut req, &f);
        let framing_lines = req.header_values("content-length").count()
            + req.header_values("transfer-encoding").count();
        assert!(framing_lines <= 1, "{name}: {:?}", req.headers);
        match f {
            Framing::Length(n) => {
                assert_eq!(req.header("content-length"), Some(n.to_string().as_str()))
            }
            Framing::Chunked => {
                assert!(req
                    .header("transfer-encoding")
                    .unwrap()
                    .ends_with("chunked"))
            }
            _ => assert_eq!(framing_lines, 0),
        }
        // What we send, head re-serialized and body as received, frames the same.
        let mut out = Vec::new();
        req.serialize(&mut out);
        assert!(
            out.windows(2).all(|w| w[1] != b'\n' || w[0] == b'\r'),
            "{name}: bare LF forwarded"
        );
        let body = &bytes[head.len..*first_len];
        let sent_head_len = out.len();
        out.extend_from_slice(body);
        assert_eq!(
            first_request(&out, &[out.len()]),
            Expect::Accept {
                first_len: sent_head_len + body.len()
            },
            "{name}"
        );
    }
}
