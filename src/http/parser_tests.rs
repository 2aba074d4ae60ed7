//! Specification of the head parser.

use super::*;

const MAX: usize = 16384 - 1024;

fn whole(buf: &[u8]) -> Result<Option<RequestHead>, ParseError> {
    HeadParser::new(MAX).parse_request(buf)
}

/// Feeds `buf` growing one byte at a time; returns the first non-None answer.
fn bytewise(buf: &[u8]) -> Result<Option<RequestHead>, ParseError> {
    let mut p = HeadParser::new(MAX);
    for i in 1..=buf.len() {
        match p.parse_request(&buf[..i]) {
            Ok(None) => {}
            r => return r,
        }
    }
    Ok(None)
}

fn reject(buf: &[u8]) -> (u16, &'static str) {
    match whole(buf) {
        Err(e) => (e.status, e.reason),
        other => panic!("accepted {:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

fn strs(h: &RequestHead, buf: &[u8]) -> Vec<(String, String)> {
    h.headers
        .iter()
        .map(|x| {
            (
                String::from_utf8_lossy(x.name.get(buf)).into_owned(),
                String::from_utf8_lossy(x.value.get(buf)).into_owned(),
            )
        })
        .collect()
}

const SAMPLES: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"\r\n\r\nGET /x?y=1 HTTP/1.1\r\nHost: a\r\nX:   v  \t\r\nEmpty:\r\n\r\nBODY",
    b"POST http://h:80/p HTTP/1.1\nHost: h\nContent-Length: 3\n\nabc",
    b"OPTIONS * HTTP/1.1\r\nA: \xe9t\xe9\r\n\r\n",
    b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
    b"M-SEARCH * HTTP/1.1\r\nX\t: bad\r\n\r\n",
    b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
    b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
    b"GET  / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.2\r\n\r\n",
    b"GET / http/1.1\r\n\r\n",
    b"GET /\xff HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nA: \x00\r\n\r\n",
    b"G\x01T / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\n: x\r\n\r\n",
    b"GET / HTTP/1.1\r\nA: b\r\n\r",
];

#[test]
fn bytewise_feeding_gives_the_same_result_as_whole_buffers() {
    for s in SAMPLES {
        let w = whole(s);
        assert_eq!(bytewise(s), w, "{:?}", String::from_utf8_lossy(s));
    }
}

#[test]
fn a_head_split_at_every_offset_parses_identically() {
    for s in SAMPLES {
        let w = whole(s);
        for cut in 0..=s.len() {
            let mut p = HeadParser::new(MAX);
            let first = p.parse_request(&s[..cut]);
            let r = match first {
                Ok(None) => p.parse_request(s),
                r => r,
            };
            assert_eq!(r, w, "cut at {cut} of {:?}", String::from_utf8_lossy(s));
        }
    }
}

#[test]
fn parser_never_rescans_validated_bytes() {
    let s = b"GET /abc HTTP/1.1\r\nHost: example\r\n";
    let mut p = HeadParser::new(MAX);
    assert_eq!(p.parse_request(&s[..10]), Ok(None));
    assert_eq!(p.scanned(), 10);
    // Corrupting already-validated bytes goes unnoticed: they are not read again.
    let mut t = s.to_vec();
    t[1] = 0;
    assert_eq!(p.parse_request(&t), Ok(None));
    assert_eq!(p.scanned(), s.len());
}

#[test]
fn request_line_and_headers_are_indexed_in_place() {
    let s = b"\r\n\nGET /x?y=1 HTTP/1.1\r\nHost: a\r\nX:   v w \t\r\nEmpty:\r\n\r\nBODY";
    let h = whole(s).unwrap().unwrap();
    assert_eq!(h.method.get(s), b"GET");
    assert_eq!(h.uri.get(s), b"/x?y=1");
    assert_eq!(h.version, Some(Version::Http11));
    assert_eq!(
        h.len,
        s.len() - 4,
        "leading empty lines count in len, body does not"
    );
    assert_eq!(
        strs(&h, s),
        [("Host", "a"), ("X", "v w"), ("Empty", "")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[test]
fn bare_lf_line_endings_are_accepted_and_spans_exclude_them() {
    let s = b"GET / HTTP/1.0\nA: 1\r\nB: 2\n\r\n";
    let h = whole(s).unwrap().unwrap();
    assert_eq!(h.version, Some(Version::Http10));
    assert_eq!(h.len, s.len());
    assert_eq!(strs(&h, s)[0].1, "1");
    assert_eq!(strs(&h, s)[1].1, "2");
    let s = b"GET / HTTP/1.1\nHost: a\n\nX";
    assert_eq!(whole(s).unwrap().unwrap().len, s.len() - 1);
}

#[test]
fn bare_cr_is_rejected_everywhere_in_a_head() {
    for s in [
        &b"\rGET / HTTP/1.1\r\n\r\n"[..],
        b"GET / HTTP/1.1\rX: y\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\r\n\r\n",
        b"GET / HTTP/1.1\r\nA: b\r\n\rX",
        b"GET /a\rb HTTP/1.1\r\n\r\n",
    ] {
        assert_eq!(reject(s).0, 400, "{:?}", String::from_utf8_lossy(s));
    }
    assert_eq!(reject(b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n").1, "bare CR");
}

#[test]
fn request_line_rejections() {
    let cases: &[(&[u8], u16, &str)] = &[
        (b" GET / HTTP/1.1\r\n\r\n", 400, "empty method"),
        (
            b"G(T / HTTP/1.1\r\n\r\n",
            400,
            "invalid character in method",
        ),
        (
            b"G\xc3\xa9T / HTTP/1.1\r\n\r\n",
            400,
            "invalid character in method",
        ),
        (
            b"GET\t/ HTTP/1.1\r\n\r\n",
            400,
            "whitespace other than SP in request line",
        ),
        (
            b"GET /\tHTTP/1.1\r\n\r\n",
            400,
            "whitespace other than SP in request line",
        ),
        (
            b"GET \t/ HTTP/1.1\r\n\r\n",
            400,
            "whitespace other than SP in request line",
        ),
        (
            b"GET / HTTP/1.1 \r\n\r\n",
            400,
            "extra space in request line",
        ),
        (b"GET /\r\n\r\n", 400, "request line without version"),
        (b"GET\r\n\r\n", 400, "request line without target"),
        (
            b"GET /a b HTTP/1.1\r\n\r\n",
            400,
            "extra space in request line",
        ),
        (
            b"GET /\x7f HTTP/1.1\r\n\r\n",
            400,
            "control character in URI",
        ),
        (
            b"GET /\x00 HTTP/1.1\r\n\r\n",
            400,
            "control character in URI",
        ),
        (b"GET /\x80 HTTP/1.1\r\n\r\n", 400, "non-ASCII byte in URI"),
        (
            b"GET /secret.php#x HTTP/1.1\r\n\r\n",
            400,
            "fragment ('#') in URI",
        ),
        (b"GET # HTTP/1.1\r\n\r\n", 400, "fragment ('#') in URI"),
        (b"GET /?a=b# HTTP/1.1\r\n\r\n", 400, "fragment ('#') in URI"),
        (b"GET / http/1.1\r\n\r\n", 400, "invalid HTTP version"),
        (b"GET / HTTP/1.10\r\n\r\n", 400, "invalid HTTP version"),
        (b"GET / HTTP/1\r\n\r\n", 400, "invalid HTTP version"),
        (b"GET / HTTP/1.x\r\n\r\n", 400, "invalid HTTP version"),
        (b"GET / HTTP/1.2\r\n\r\n", 505, "unsupported HTTP version"),
        (b"GET / HTTP/2.0\r\n\r\n", 505, "unsupported HTTP version"),
        (b"GET / HTTP/0.9\r\n\r\n", 505, "unsupported HTTP version"),
        (b"GET / HTTP/9.9\r\n\r\n", 505, "unsupported HTTP version"),
    ];
    for (s, status, reason) in cases {
        assert_eq!(
            reject(s),
            (*status, *reason),
            "{:?}",
            String::from_utf8_lossy(s)
        );
        assert_eq!(bytewise(s).unwrap_err().status, *status);
    }
}

#[test]
fn header_rejections() {
    let cases: &[(&[u8], &str)] = &[
        (b"GET / HTTP/1.1\r\n: x\r\n\r\n", "empty header name"),
        (
            b"GET / HTTP/1.1\r\nA : x\r\n\r\n",
            "whitespace before colon",
        ),
        (
            b"GET / HTTP/1.1\r\nA\t: x\r\n\r\n",
            "whitespace before colon",
        ),
        (
            b"GET / HTTP/1.1\r\nA(b: x\r\n\r\n",
            "invalid character in header name",
        ),
        (
            b"GET / HTTP/1.1\r\n\x00A: x\r\n\r\n",
            "invalid character in header name",
        ),
        (
            b"GET / HTTP/1.1\r\nA\xe9: x\r\n\r\n",
            "invalid character in header name",
        ),
        (
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            "header line without colon",
        ),
        (
            b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
            "obsolete line folding",
        ),
        (
            b"GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n",
            "obsolete line folding",
        ),
        (
            b"GET / HTTP/1.1\r\n A: b\r\n\r\n",
            "whitespace between start line and first header",
        ),
        (
            b"GET / HTTP/1.1\r\nA: \x00\r\n\r\n",
            "NUL byte in header value",
        ),
        (
            b"GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n",
            "control character in header value",
        ),
        (
            b"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",
            "control character in header value",
        ),
        (
            b"GET / HTTP/1.1\r\nA: b\x0bc\r\n\r\n",
            "control character in header value",
        ),
    ];
    for (s, reason) in cases {
        assert_eq!(
            reject(s),
            (400, *reason),
            "{:?}",
            String::from_utf8_lossy(s)
        );
    }
}

#[test]
fn tab_and_obs_text_are_allowed_inside_values() {
    let s = b"GET / HTTP/1.1\r\nA: x\ty \xe9\r\n\r\n";
    let h = whole(s).unwrap().unwrap();
    assert_eq!(h.headers[0].value.get(s), b"x\ty \xe9");
}

#[test]
fn a_head_longer_than_max_is_400_and_a_long_uri_is_414() {
    let mut p = HeadParser::new(64);
    let mut s = b"GET / HTTP/1.1\r\n".to_vec();
    s.extend_from_slice(&[b'a'; 100]);
    let e = p.parse_request(&s).unwrap_err();
    assert_eq!(
        (e.status, e.reason, e.at),
        (400, "request header too large", 64)
    );
    let mut s = b"GET /".to_vec();
    s.extend_from_slice(&[b'a'; 100]);
    assert_eq!(
        HeadParser::new(64).parse_request(&s).unwrap_err().status,
        414
    );
    // Exactly max bytes is fine; incomplete at max bytes is not.
    let s = b"GET / HTTP/1.1\r\nA: b\r\n\r\n";
    assert!(HeadParser::new(s.len()).parse_request(s).unwrap().is_some());
    let e = HeadParser::new(s.len() - 1).parse_request(s).unwrap_err();
    assert_eq!(e.status, 400);
    // A short buffer under max is just incomplete.
    assert_eq!(HeadParser::new(64).parse_request(&s[..20]), Ok(None));
}

#[test]
fn too_many_headers_is_400() {
    let mut s = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..DEFAULT_MAX_HEADERS + 1 {
        s.extend_from_slice(b"A: b\r\n");
    }
    s.extend_from_slice(b"\r\n");
    assert_eq!(reject(&s).1, "too many headers");
    let mut p = HeadParser::new(MAX);
    p.set_max_headers(200);
    assert!(p.parse_request(&s).unwrap().is_some());
}

#[test]
fn parser_resets_itself_after_each_message() {
    let s = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nX: y\r\n\r\n";
    let mut p = HeadParser::new(MAX);
    let h1 = p.parse_request(s).unwrap().unwrap();
    assert_eq!(h1.uri.get(s), b"/a");
    let rest = &s[h1.len..];
    let h2 = p.parse_request(rest).unwrap().unwrap();
    assert_eq!(h2.uri.get(rest), b"/b");
    assert_eq!(h2.headers.len(), 1);
    // reset() mid-way drops the partial state.
    p.parse_request(&rest[..10]).unwrap();
    p.reset();
    assert_eq!(p.parse_request(s).unwrap().unwrap(), h1);
}

fn resp(buf: &[u8]) -> Result<Option<ResponseHead>, ParseError> {
    HeadParser::new(MAX).parse_response(buf)
}

#[test]
fn response_status_line_and_headers() {
    let s = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    let h = resp(s).unwrap().unwrap();
    assert_eq!(
        (h.version, h.status, h.len),
        (Some(Version::Http11), 200, s.len() - 2)
    );
    assert_eq!(h.reason.get(s), b"OK");
    assert_eq!(h.headers[0].value.get(s), b"2");
    let s = b"HTTP/1.0 404 Not  Found \xe9\r\n\r\n";
    let h = resp(s).unwrap().unwrap();
    assert_eq!(h.reason.get(s), b"Not  Found \xe9");
    // Empty reason, with and without the SP.
    for s in [
        &b"HTTP/1.1 204 \r\n\r\n"[..],
        b"HTTP/1.1 204\r\n\r\n",
        b"HTTP/1.1 204\n\n",
    ] {
        let h = resp(s).unwrap().unwrap();
        assert_eq!((h.status, h.reason.len, h.len), (204, 0, s.len()));
    }
}

#[test]
fn response_split_at_every_offset_parses_identically() {
    let s = b"\r\nHTTP/1.1 301 Moved\r\nLocation: /x\r\nA:b\r\n\r\n";
    let w = resp(s);
    assert!(w.as_ref().unwrap().is_some());
    for cut in 0..=s.len() {
        let mut p = HeadParser::new(MAX);
        let r = match p.parse_response(&s[..cut]) {
            Ok(None) => p.parse_response(s),
            r => r,
        };
        assert_eq!(r, w, "cut at {cut}");
    }
}

#[test]
fn every_response_error_is_502() {
    for s in [
        &b"HTTP/1.1 20 OK\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 099 x\r\n\r\n",
        b"HTTP/1.1 600 x\r\n\r\n",
        b"HTTP/1.1 abc x\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"http/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 200 O\x01K\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
        b"<html>\r\n\r\n",
    ] {
        let e = resp(s).unwrap_err();
        assert_eq!(
            e.status,
            502,
            "{:?}: {}",
            String::from_utf8_lossy(s),
            e.reason
        );
    }
    let mut p = HeadParser::new(32);
    let e = p.parse_response(&[b'H'; 40]).unwrap_err();
    assert_eq!(e.status, 502);
    let mut s = b"HTTP/1.1 200 OK\r\n".to_vec();
    s.extend_from_slice(&[b'a'; 40]);
    assert_eq!(
        p.parse_response(&s).unwrap_err().reason,
        "response header too large"
    );
}

#[test]
fn several_spaces_between_request_line_elements_are_one() {
    // HAProxy 2.6 reads them so (reg-test http_request_buffer sends
    // `POST /1  HTTP/1.1`); a tab or a trailing space is still refused.
    let buf = b"POST   /1  HTTP/1.1\r\nHost: a\r\n\r\n";
    let h = HeadParser::new(MAX).parse_request(buf).unwrap().unwrap();
    assert_eq!(h.method.get(buf), b"POST");
    assert_eq!(h.uri.get(buf), b"/1");
    assert_eq!(h.version, Some(Version::Http11));
}
