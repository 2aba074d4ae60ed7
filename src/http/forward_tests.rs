use super::*;
use crate::http::Version;

fn req(uri: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        uri: uri.into(),
        version: Version::Http11,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn res(status: u16, headers: &[(&str, &str)]) -> Response {
    Response {
        version: Version::Http11,
        status,
        reason: String::new(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn names<H: Headers>(m: &H) -> Vec<String> {
    m.headers()
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect()
}

#[test]
fn connection_never_removes_framing_or_routing_headers() {
    let mut r = req(
        "/",
        &[
            ("Host", "a"),
            ("Content-Length", "5"),
            ("Transfer-Encoding", "chunked"),
            ("TE", "trailers"),
            ("Trailer", "X"),
            ("Upgrade", "websocket"),
            ("X-Gone", "1"),
            (
                "Connection",
                "Content-Length, transfer-encoding, HOST, te, trailer, upgrade, connection, x-gone, close",
            ),
        ],
    );
    let named = connection_tokens(&r);
    strip_nominated(&mut r, &named);
    assert_eq!(
        names(&r),
        [
            "host",
            "content-length",
            "transfer-encoding",
            "te",
            "trailer",
            "upgrade",
            "connection"
        ]
    );
}

#[test]
fn nominated_headers_go_but_keep_alive_tokens_are_not_headers_to_delete() {
    let mut r = res(
        200,
        &[
            ("Keep-Alive", "timeout=5"),
            ("X-A", "1"),
            ("x-b", "2"),
            ("Connection", "keep-alive,  X-A\t,x-B"),
        ],
    );
    let named = connection_tokens(&r);
    assert_eq!(named, ["keep-alive", "x-a", "x-b"]);
    strip_nominated(&mut r, &named);
    assert_eq!(names(&r), ["keep-alive", "connection"]);
    strip_connection_headers(&mut r);
    assert!(r.headers.is_empty());
}

#[test]
fn http2_upgrade_is_removed_other_protocols_stay() {
    let mut r = req(
        "/",
        &[
            ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAAQAAP__"),
            ("Connection", "Upgrade, HTTP2-Settings"),
        ],
    );
    assert!(drop_http2_upgrade(&mut r));
    assert_eq!(names(&r), ["connection"]);

    let mut r = req("/", &[("Upgrade", "H2C, websocket"), ("upgrade", "h2/2")]);
    assert!(drop_http2_upgrade(&mut r));
    assert_eq!(r.header("upgrade"), Some("websocket"));
    assert_eq!(r.headers.len(), 1);

    let mut r = req("/", &[("Upgrade", "websocket")]);
    assert!(!drop_http2_upgrade(&mut r));
    assert_eq!(r.header("upgrade"), Some("websocket"));
}

#[test]
fn a_switch_needs_a_protocol_the_request_offered() {
    let ws = req("/", &[("Upgrade", "websocket"), ("Connection", "upgrade")]);
    assert!(switch_allowed(&ws, &res(101, &[("Upgrade", "WebSocket")])));
    assert!(!switch_allowed(&ws, &res(101, &[("Upgrade", "h2c")])));
    assert!(!switch_allowed(&ws, &res(101, &[])));
    assert!(!switch_allowed(&ws, &res(101, &[("Upgrade", "tls/1.2")])));
    let plain = req("/", &[("Connection", "keep-alive")]);
    assert!(!switch_allowed(
        &plain,
        &res(101, &[("Upgrade", "websocket")])
    ));
    // Even offered, HTTP/2 is never a protocol to switch to under pollux.
    let h2 = req("/", &[("Upgrade", "h2c"), ("Connection", "upgrade")]);
    assert!(!switch_allowed(&h2, &res(101, &[("Upgrade", "h2c")])));
}

#[test]
fn absolute_form_authority_is_the_one_that_counts() {
    let ok = |uri: &str, host: Option<&str>| {
        let mut r = req(uri, &[]);
        if let Some(h) = host {
            r.add_header("Host", h);
        }
        check_authority(&mut r).map(|_| r.header("host").map(str::to_string))
    };
    assert_eq!(ok("/x", Some("a")), Ok(Some("a".into())));
    assert_eq!(ok("/x", None), Ok(None));
    assert_eq!(ok("/a://b", Some("a")), Ok(Some("a".into())));
    assert_eq!(
        ok("http://a.test/", Some("A.TEST")),
        Ok(Some("A.TEST".into()))
    );
    assert_eq!(ok("http://a.test/", None), Ok(Some("a.test".into())));
    assert_eq!(
        ok("HTTP://a.test:80/x", Some("a.test")),
        Ok(Some("a.test".into()))
    );
    assert_eq!(
        ok("https://a.test/x", Some("a.test:443")),
        Ok(Some("a.test:443".into()))
    );
    assert_eq!(
        ok("http://a.test?q", Some("a.test")),
        Ok(Some("a.test".into()))
    );
    assert_eq!(
        ok("http://[::1]:80/", Some("[::1]")),
        Ok(Some("[::1]".into()))
    );
    let bad = |uri: &str, host: Option<&str>| {
        let mut r = req(uri, &[]);
        if let Some(h) = host {
            r.add_header("Host", h);
        }
        check_authority(&mut r).unwrap_err()
    };
    assert_eq!(
        bad("http://admin.internal/", Some("public.test")),
        "Host differs from the authority of the request target"
    );
    assert_eq!(
        bad("http://a.test:8080/", Some("a.test")),
        "Host differs from the authority of the request target"
    );
    assert_eq!(
        bad("https://a.test:80/", Some("a.test")),
        "Host differs from the authority of the request target"
    );
    assert_eq!(
        bad("http://good.test@evil.test/", Some("evil.test")),
        "userinfo in request target"
    );
    assert_eq!(
        bad("http://a.test/", Some("")),
        "empty Host with an absolute request target"
    );
    assert_eq!(
        bad("http:///x", Some("a")),
        "empty authority in request target"
    );
    assert_eq!(
        bad("http://:80/x", Some("a")),
        "empty authority in request target"
    );
    assert_eq!(
        bad("ftp://a.test/", Some("a.test")),
        "scheme other than http or https in request target"
    );
    assert_eq!(
        bad("gopher://a.test/", None),
        "scheme other than http or https in request target"
    );
}

#[test]
fn imposed_request_framing_survives_any_header_edit() {
    // A rule removed the framing header: it comes back.
    let mut r = req("/", &[("Host", "a")]);
    impose_request_framing(&mut r, &Framing::Length(47));
    assert_eq!(r.header("content-length"), Some("47"));
    // A rule turned chunked into something else: chunked is the final coding again.
    let mut r = req(
        "/",
        &[("Transfer-Encoding", "gzip"), ("Content-Length", "3")],
    );
    impose_request_framing(&mut r, &Framing::Chunked);
    assert_eq!(names(&r), ["transfer-encoding"]);
    assert_eq!(r.header("transfer-encoding"), Some("gzip, chunked"));
    let mut r = req("/", &[("Transfer-Encoding", "chunked, chunked")]);
    impose_request_framing(&mut r, &Framing::Chunked);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    // No body: a rule cannot make the server wait for one.
    let mut r = req(
        "/",
        &[("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
    );
    impose_request_framing(&mut r, &Framing::None);
    assert!(r.headers.is_empty());
}

#[test]
fn imposed_response_framing() {
    let mut r = res(
        200,
        &[("Transfer-Encoding", "chunked"), ("Content-Length", "9")],
    );
    impose_response_framing(&mut r, &Framing::UntilClose);
    assert!(r.headers.is_empty());
    let mut r = res(200, &[("Transfer-Encoding", "gzip, chunked")]);
    impose_response_framing(&mut r, &Framing::UntilClose);
    assert_eq!(r.header("transfer-encoding"), Some("gzip"));
    // HEAD, 204, 304: Content-Length describes the representation.
    let mut r = res(304, &[("Content-Length", "9")]);
    impose_response_framing(&mut r, &Framing::None);
    assert_eq!(r.header("content-length"), Some("9"));
}

#[test]
fn a_target_that_is_neither_a_path_nor_an_absolute_uri_is_refused() {
    let form = |method: &str, uri: &str| {
        let mut r = req(uri, &[("Host", "a")]);
        r.method = method.into();
        check_authority(&mut r)
    };
    for (m, u) in [
        ("GET", "/x"),
        ("OPTIONS", "*"),
        ("CONNECT", "a.test:443"),
        ("GET", "http://a/x"),
    ] {
        assert_eq!(form(m, u), Ok(()), "{m} {u}");
    }
    for (m, u, why) in [
        (
            "GET",
            "a/b/c",
            "request target is neither a path nor an absolute URI",
        ),
        (
            "GET",
            "http:/x",
            "request target is neither a path nor an absolute URI",
        ),
        (
            "GET",
            "admin",
            "request target is neither a path nor an absolute URI",
        ),
        (
            "GET",
            "*",
            "asterisk-form request target with a method other than OPTIONS",
        ),
        (
            "OPTIONS",
            "*x",
            "request target is neither a path nor an absolute URI",
        ),
    ] {
        assert_eq!(form(m, u), Err(why), "{m} {u}");
    }
}
