//! Specification of body framing and the body tracker.

use super::*;

type Hdrs<'a> = &'a [(&'a str, &'a str)];

fn req(version: Version, headers: &[(&str, &str)]) -> Request {
    Request {
        method: "POST".into(),
        uri: "/".into(),
        version,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn rf(headers: &[(&str, &str)]) -> Result<Framing, u16> {
    request_framing(&req(Version::Http11, headers)).map_err(|e| e.status)
}

#[test]
fn request_framing_table() {
    use Framing::*;
    let te = "Transfer-Encoding";
    let cl = "Content-Length";
    let cases: &[(Hdrs, Result<Framing, u16>)] = &[
        (&[], Ok(None)),
        (&[("Host", "a")], Ok(None)),
        (&[(cl, "0")], Ok(Length(0))),
        (&[(cl, "42")], Ok(Length(42))),
        (&[(cl, "007")], Ok(Length(7))),
        (&[(cl, "18446744073709551615")], Ok(Length(u64::MAX))),
        (&[(cl, "18446744073709551616")], Err(400)),
        (&[(cl, "5"), (cl, "5")], Ok(Length(5))),
        (&[(cl, "5, 5,5")], Ok(Length(5))),
        (&[(cl, "5"), (cl, "6")], Err(400)),
        (&[(cl, "5, 6")], Err(400)),
        (&[(cl, "+5")], Err(400)),
        (&[(cl, "-5")], Err(400)),
        (&[(cl, "5 5")], Err(400)),
        (&[(cl, "0x10")], Err(400)),
        (&[(cl, "")], Err(400)),
        (&[(cl, "5,")], Err(400)),
        (&[(cl, "1e3")], Err(400)),
        (&[(te, "chunked")], Ok(Chunked)),
        (&[(te, "Chunked")], Ok(Chunked)),
        (&[(te, "CHUNKED")], Ok(Chunked)),
        (&[(te, "gzip, chunked")], Ok(Chunked)),
        (&[(te, "gzip"), (te, "chunked")], Ok(Chunked)),
        (&[(te, ", chunked")], Ok(Chunked)),
        (&[(te, "chunked"), (cl, "3")], Err(400)),
        (&[(cl, "3"), (te, "chunked")], Err(400)),
        (&[(te, "chunked, identity")], Err(400)),
        (&[(te, "identity")], Err(400)),
        (&[(te, "gzip")], Err(400)),
        (&[(te, "")], Err(400)),
        (&[(te, "xchunked")], Err(400)),
        (&[(te, "chunked, chunked")], Err(400)),
        (&[(te, "chunked"), (te, "chunked")], Err(400)),
        (&[(te, "chunked;q=1")], Err(400)),
        (&[(te, "\"chunked\"")], Err(400)),
        (&[(te, "foo, chunked")], Err(501)),
        (&[("Transfer_Encoding", "chunked")], Err(400)),
        (&[("content_length", "5")], Err(400)),
        (&[("X_Content_Length", "5")], Ok(None)),
    ];
    for (h, want) in cases {
        assert_eq!(&rf(h), want, "{h:?}");
    }
}

#[test]
fn transfer_encoding_in_http10_request_is_400() {
    let r = req(Version::Http10, &[("Transfer-Encoding", "chunked")]);
    assert_eq!(request_framing(&r).unwrap_err().status, 400);
}

#[test]
fn normalisation_leaves_one_unambiguous_framing_header() {
    let mut r = req(
        Version::Http11,
        &[
            ("Host", "a"),
            ("content-length", "5, 5"),
            ("X", "y"),
            ("Content-Length", "5"),
        ],
    );
    let f = request_framing(&r).unwrap();
    normalize_request_framing(&mut r, &f);
    let want: Vec<(String, String)> = [("Host", "a"), ("Content-Length", "5"), ("X", "y")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(r.headers, want);

    let mut r = req(
        Version::Http11,
        &[
            ("transfer-encoding", "GZIP"),
            ("Host", "a"),
            ("Transfer-Encoding", " Chunked"),
        ],
    );
    let f = request_framing(&r).unwrap();
    normalize_request_framing(&mut r, &f);
    assert_eq!(
        r.headers[0],
        ("Transfer-Encoding".into(), "gzip, chunked".into())
    );
    assert_eq!(r.headers.len(), 2);
}

fn res(version: Version, status: u16, headers: &[(&str, &str)]) -> Response {
    Response {
        version,
        status,
        reason: String::new(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

#[test]
fn response_framing_table() {
    use Framing::*;
    let v11 = Version::Http11;
    let te = "Transfer-Encoding";
    let cl = "Content-Length";
    let cases: &[(&str, u16, Hdrs, Result<Framing, u16>)] = &[
        ("HEAD", 200, &[(cl, "10")], Ok(None)),
        ("GET", 100, &[], Ok(None)),
        ("GET", 101, &[], Ok(None)),
        ("GET", 204, &[(cl, "10")], Ok(None)),
        ("GET", 304, &[(te, "chunked")], Ok(None)),
        ("CONNECT", 200, &[], Ok(None)),
        ("CONNECT", 407, &[(cl, "3")], Ok(Length(3))),
        ("GET", 200, &[(te, "chunked")], Ok(Chunked)),
        ("GET", 200, &[(te, "gzip, chunked")], Ok(Chunked)),
        ("GET", 200, &[(te, "gzip")], Ok(UntilClose)),
        ("GET", 200, &[(te, "chunked, gzip")], Ok(UntilClose)),
        ("GET", 200, &[(te, "chunked, chunked")], Err(502)),
        ("GET", 200, &[(te, "chunked"), (cl, "3")], Ok(Chunked)),
        ("GET", 200, &[(cl, "3")], Ok(Length(3))),
        ("GET", 200, &[(cl, "3"), (cl, "3")], Ok(Length(3))),
        ("GET", 200, &[(cl, "3"), (cl, "4")], Err(502)),
        ("GET", 200, &[(cl, "-3")], Err(502)),
        ("GET", 200, &[], Ok(UntilClose)),
    ];
    for (m, s, h, want) in cases {
        let got = response_framing(&res(v11, *s, h), m).map_err(|e| e.status);
        assert_eq!(&got, want, "{m} {s} {h:?}");
    }
    let r = res(Version::Http10, 200, &[(te, "chunked")]);
    assert_eq!(response_framing(&r, "GET").unwrap_err().status, 502);
}

#[test]
fn response_with_te_and_cl_is_forwarded_without_the_cl() {
    let mut r = res(
        Version::Http11,
        200,
        &[("Content-Length", "3"), ("Transfer-Encoding", "chunked")],
    );
    let f = response_framing(&r, "GET").unwrap();
    normalize_response_framing(&mut r, &f);
    assert_eq!(
        r.headers,
        vec![("Transfer-Encoding".to_string(), "chunked".to_string())]
    );
}

/// Runs the tracker over `data` split at `cuts`; returns (bytes claimed, done).
fn track(f: Framing, data: &[u8], cuts: &[usize]) -> Result<(usize, bool), ParseError> {
    let mut t = BodyTracker::new(f);
    let mut claimed = 0;
    for &c in cuts.iter().chain(std::iter::once(&data.len())) {
        if c < claimed {
            continue;
        }
        // What is not claimed (an unfinished chunk-size line) is offered again.
        let n = t.advance(&data[claimed..c])?;
        claimed += n;
        if t.is_done() {
            break;
        }
    }
    Ok((claimed, t.is_done()))
}

/// Same answer whole, split once at every offset, and byte by byte.
fn every_split(f: Framing, data: &[u8]) -> Result<(usize, bool), ParseError> {
    let w = track(f, data, &[]);
    for cut in 0..=data.len() {
        let r = track(f, data, &[cut]);
        assert_eq!(
            r.as_ref().map_err(|e| e.reason),
            w.as_ref().map_err(|e| e.reason),
            "cut {cut}"
        );
    }
    let all: Vec<usize> = (0..=data.len()).collect();
    let r = track(f, data, &all);
    assert_eq!(
        r.as_ref().map_err(|e| e.reason),
        w.as_ref().map_err(|e| e.reason),
        "bytewise"
    );
    w
}

#[test]
fn content_length_body_claims_exactly_its_bytes() {
    assert_eq!(
        every_split(Framing::Length(5), b"helloGET / HTTP/1.1\r\n"),
        Ok((5, true))
    );
    assert_eq!(every_split(Framing::Length(5), b"hel"), Ok((3, false)));
    assert_eq!(every_split(Framing::Length(0), b"GET"), Ok((0, true)));
    assert_eq!(every_split(Framing::None, b"GET"), Ok((0, true)));
}

#[test]
fn close_delimited_body_claims_everything_until_eof() {
    assert_eq!(
        every_split(Framing::UntilClose, b"abc\r\n\r\nGET"),
        Ok((10, false))
    );
    let mut t = BodyTracker::new(Framing::UntilClose);
    t.advance(b"x").unwrap();
    assert!(t.eof().is_ok());
    assert!(t.is_done());
}

#[test]
fn truncated_bodies_fail_at_eof() {
    for f in [Framing::Length(3), Framing::Chunked] {
        let mut t = BodyTracker::new(f);
        t.advance(b"1").unwrap();
        assert_eq!(t.eof().unwrap_err().reason, "truncated body");
    }
    let mut t = BodyTracker::new(Framing::Length(1));
    t.advance(b"1").unwrap();
    assert!(t.eof().is_ok());
}

#[test]
fn chunked_body_ends_after_last_chunk_and_trailers() {
    let next = b"GET /next HTTP/1.1\r\n\r\n";
    let bodies: &[&[u8]] = &[
        b"0\r\n\r\n",
        b"5\r\nhello\r\n0\r\n\r\n",
        b"5\r\nhello\r\na\r\n0123456789\r\n0\r\n\r\n",
        b"A\r\n0123456789\r\n00\r\n\r\n",
        b"5;ext=1\r\nhello\r\n0;last\r\n\r\n",
        b"5 ;ext=\"q v\"\r\nhello\r\n0\t; a ; b=c\r\n\r\n",
        b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY:\r\n\r\n",
        b"0000000000000005\r\nhello\r\n0\r\n\r\n",
        b"000000000000000000000000000005\r\nhello\r\n0000000000000000000\r\n\r\n",
        b"5;a=\"q\\\"x\";b\r\nhello\r\n0;a = \"v\" ;b\r\n\r\n",
        b"5;a=\"\"\r\nhello\r\n0;tok=!#$%&'*+-.^_`|~\r\n\r\n",
        b"3\r\n\r\n\r\r\n0\r\n\r\n",
    ];
    for b in bodies {
        let mut data = b.to_vec();
        data.extend_from_slice(next);
        assert_eq!(
            every_split(Framing::Chunked, &data).map_err(|e| e.reason),
            Ok((b.len(), true)),
            "{:?}",
            String::from_utf8_lossy(b)
        );
    }
}

#[test]
fn chunked_framing_errors() {
    let cases: &[(&[u8], &str)] = &[
        (b"\r\n", "invalid chunk size"),
        (b"x\r\n", "invalid chunk size"),
        (b" 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
        (b"-5\r\n", "invalid chunk size"),
        (b"+5\r\n", "invalid chunk size"),
        (b"0x5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"),
        (b"5 \r\nhello\r\n", "whitespace after chunk size"),
        (b"5\nhello\r\n", "invalid chunk size"),
        (b"5\r\rhello\r\n", "bare CR in chunk size line"),
        (b"10000000000000000\r\n", "chunk size too large"),
        (
            b"00000000000000010000000000000000\r\n",
            "chunk size too large",
        ),
        (
            b"5;a=\"unclosed\r\nhello\r\n0\r\n\r\n",
            "unterminated quoted string in chunk extension",
        ),
        (b"5;a=b c\r\nhello", "invalid character in chunk extension"),
        (b"5;a b\r\nhello", "invalid character in chunk extension"),
        (b"5;a \r\nhello", "invalid character in chunk extension"),
        (b"5;a=\r\nhello", "invalid chunk extension value"),
        (b"5;a=@\r\nhello", "invalid chunk extension value"),
        (
            b"5;a=\"x\x7f\"\r\nhello",
            "invalid character in chunk extension",
        ),
        (
            b"5;a=\"b\"c\r\nhello",
            "invalid character in chunk extension",
        ),
        (
            b"5;a=\"\\\x01\"\r\nhello",
            "invalid character in chunk extension",
        ),
        (b"5;\r\nhello", "invalid chunk extension name"),
        (b"5;=x\r\nhello", "invalid chunk extension name"),
        (b"5;a\nb\r\nhello", "invalid character in chunk extension"),
        (b"5;a\x00\r\nhello", "invalid character in chunk extension"),
        (b"5\r\nhelloX\r\n0\r\n\r\n", "missing CRLF after chunk data"),
        (b"5\r\nhello\n0\r\n\r\n", "missing CRLF after chunk data"),
        (b"5\r\nhello\rX0\r\n\r\n", "missing CRLF after chunk data"),
        (b"0\r\n\n", "invalid trailer field"),
        (b"0\r\n\rX", "bare CR after last chunk"),
        (b"0\r\nA : b\r\n\r\n", "invalid trailer field name"),
        (b"0\r\n b\r\n\r\n", "invalid trailer field"),
        (
            b"0\r\nA: b\x00\r\n\r\n",
            "invalid character in trailer value",
        ),
        (
            b"0\r\nA: b\nX: c\r\n\r\n",
            "invalid character in trailer value",
        ),
        (b"0\r\nA: b\rX\r\n\r\n", "bare CR in trailer"),
    ];
    for (b, reason) in cases {
        let e = every_split(Framing::Chunked, b).unwrap_err();
        assert_eq!(
            (e.status, e.reason),
            (400, *reason),
            "{:?}",
            String::from_utf8_lossy(b)
        );
    }
}

#[test]
fn chunk_extensions_and_trailers_are_bounded() {
    let mut b = b"1;a=".to_vec();
    b.extend(vec![b'x'; MAX_CHUNK_LINE as usize]);
    assert_eq!(
        track(Framing::Chunked, &b, &[]).unwrap_err().reason,
        "chunk size line too long"
    );
    let mut b = b"0\r\n".to_vec();
    for _ in 0..MAX_TRAILERS / 8 + 1 {
        b.extend_from_slice(b"A: bcd\r\n");
    }
    assert_eq!(
        track(Framing::Chunked, &b, &[]).unwrap_err().reason,
        "trailer section too large"
    );
}

#[test]
fn chunk_size_may_use_all_64_bits() {
    let mut t = BodyTracker::new(Framing::Chunked);
    assert_eq!(t.advance(b"ffffffffffffffff\r\nabc").unwrap(), 21);
    assert!(!t.is_done());
}

#[test]
fn a_failed_tracker_keeps_failing() {
    let mut t = BodyTracker::new(Framing::Chunked);
    let e = t.advance(b"zz").unwrap_err();
    assert_eq!(t.advance(b"0\r\n\r\n").unwrap_err(), e);
    assert!(t.eof().is_err());
}

#[test]
fn error_offsets_count_from_the_first_body_byte() {
    let mut t = BodyTracker::new(Framing::Chunked);
    assert_eq!(t.advance(b"2\r\nab").unwrap(), 5);
    assert_eq!(t.advance(b"\r\nX").unwrap_err().at, 7);
}

#[test]
fn an_unfinished_size_line_is_held_until_complete() {
    let mut t = BodyTracker::new(Framing::Chunked);
    assert_eq!(t.advance(b"5\r\nhello\r\n00").unwrap(), 10);
    assert_eq!(t.advance(b"00;a=\"b").unwrap(), 0);
    assert_eq!(t.advance(b"00;a=\"b\"\r").unwrap(), 0);
    assert_eq!(t.advance(b"00;a=\"b\"\r\n\r\n").unwrap(), 12);
    assert!(t.is_done());
}

#[test]
fn leading_zeros_past_16_digits_are_cut_not_forwarded() {
    let mut t = BodyTracker::new(Framing::Chunked);
    let body = b"0000000000000000000005;x\r\nhello\r\n5\r\nworld\r\n00000000000000000\r\n\r\n";
    assert_eq!(t.advance(body).unwrap(), body.len());
    assert!(t.is_done());
    // Twenty zeros go from the first line; sixteen from the last (one stays).
    assert_eq!(t.cuts(), &[(0, 21), (43, 16)]);
    let mut kept = body.to_vec();
    for &(at, n) in t.cuts().iter().rev() {
        kept.drain(at..at + n);
    }
    assert_eq!(&kept[..], b"5;x\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
    // Up to 16 digits the line passes as received.
    let mut t = BodyTracker::new(Framing::Chunked);
    t.advance(b"0000000000000005\r\nhello\r\n").unwrap();
    assert!(t.cuts().is_empty());
}

/// `htx_len` counts what HAProxy 2.6 logs of a body, whatever the reads.
#[test]
fn htx_len_counts_data_trailers_and_the_end_of_a_chunked_body() {
    let cases: &[(Framing, &[u8], u64)] = &[
        (Framing::Length(5), b"hello", 5),
        (Framing::UntilClose, b"until-close", 11),
        // 8 data bytes and the end of trailers (haproxy logged 67 = 58 + 9).
        (Framing::Chunked, b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", 9),
        // 5 data, `x-t` and `1`, the end (haproxy: 68 = 58 + 10).
        (Framing::Chunked, b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n", 10),
        // Inner blanks of a trailer value count, the outer ones do not.
        (
            Framing::Chunked,
            b"1;a=b\r\nx\r\n0\r\nA:  b c \r\nBc:d\r\n\r\n",
            1 + 4 + 3 + 1,
        ),
    ];
    for (f, body, want) in cases {
        let all: Vec<usize> = (0..=body.len()).collect();
        for cuts in [vec![], vec![body.len() / 2], all] {
            let mut t = BodyTracker::new(*f);
            let mut claimed = 0;
            for &c in cuts.iter().chain(std::iter::once(&body.len())) {
                if c >= claimed {
                    claimed += t.advance(&body[claimed..c]).unwrap();
                }
            }
            assert_eq!(t.htx_len(), *want, "{f:?} {body:?} cut at {cuts:?}");
        }
    }
}
