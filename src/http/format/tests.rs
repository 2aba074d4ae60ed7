//! The log-format engine: parsing, flags and rendering outside the log line
//! (the log line's own variables are tested in `log::tests`).

use super::*;
use crate::http::fetch::{Stamp, TxnView};
use crate::http::message::Request;

fn req(headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        uri: "/".into(),
        version: crate::http::Version::Http11,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn render(f: &str, r: &Request) -> String {
    let ctx = FetchCtx::http(
        "127.0.0.1:34000".parse().unwrap(),
        "10.0.0.1:8080".parse().unwrap(),
        Some(r),
        None,
    );
    Format::parse(f).unwrap().render(&ctx)
}

#[test]
fn a_sample_never_brings_line_breaks_into_a_head() {
    let r = req(&[("x", "a%0d%0aContent-Length:%205%00b")]);
    // Encoded as HAProxy encodes samples in HTTP proxies (checked against
    // HAProxy 2.6 in tests/sample_fetch_compat.rs with `req.hdrs`).
    assert_eq!(
        render("v=%[req.fhdr(x),url_dec]", &r),
        "v=a%0D%0AContent-Length: 5%00b"
    );
}

#[test]
fn header_values_keep_spaces_and_render_addresses_with_flags() {
    let r = req(&[("host", "Example.COM"), ("x-e", "a\"b\\c]d")]);
    assert_eq!(
        render(
            "  a  %ci:%cp %{+Q}ci %{+X}ci:%{+X}fp %[req.hdr(host),lower] ",
            &r
        ),
        "  a  127.0.0.1:34000 \"127.0.0.1\" 7F000001:1F90 example.com "
    );
    // As HAProxy 2.6: no quotes on samples outside the log line, `+E`
    // escapes, an absent sample is empty.
    assert_eq!(
        render(
            "%{+Q}[req.hdr(x-e)] %{+E}[req.hdr(x-e)] <%[req.hdr(nope)]>",
            &r
        ),
        "a\"b\\c]d a\\\"b\\\\c\\]d <>"
    );
    // `%o` sets the flags of every later field; the space is text here.
    assert_eq!(render("%{+X}o %ci %% %{-X}ci", &r), " 7F000001 % 127.0.0.1");
}

#[test]
fn an_expression_ends_at_the_bracket_outside_its_parentheses() {
    let r = req(&[("x", "a12b3")]);
    assert_eq!(render("<%[req.hdr(x),regsub('[0-9]+',N,g)]>", &r), "<aNbN>");
}

#[test]
fn literal_strings_are_known_as_such() {
    assert_eq!(Format::parse("app").unwrap().as_literal(), Some("app"));
    assert_eq!(Format::parse("a%%b").unwrap().as_literal(), Some("a%b"));
    assert_eq!(Format::parse("%[src]").unwrap().as_literal(), None);
}

#[test]
fn bad_strings_are_refused_naming_the_part() {
    for (s, at, want) in [
        ("%[src", Where::Http, "missing ']'"),
        ("%[nosuch]", Where::Http, "nosuch"),
        ("%{+Z}ci", Where::Http, "unknown log-format flag '+Z'"),
        ("%{Q}ci", Where::Http, "unknown log-format flag 'Q'"),
        ("%Tt", Where::Http, "'%Tt' is not supported yet outside"),
        ("%ID", Where::UniqueId, "'%ID' is not supported yet outside"),
        (
            "%[req.hdr(host)]",
            Where::Log,
            "needs 'HTTP request headers'",
        ),
        (
            "%[res.hdr(x)]",
            Where::UniqueId,
            "needs 'HTTP response headers'",
        ),
        ("%[req.len]", Where::Log, "needs 'request buffer contents'"),
        ("%lc", Where::Log, "'%lc' is not supported yet"),
        (
            "%[sc0_conn_cur]",
            Where::Http,
            "stick counter fetches in a log-format string are not supported yet",
        ),
    ] {
        let e = Format::parse_in(s, at).unwrap_err();
        assert!(e.contains(want), "{s}: {e}");
    }
    assert!(Format::parse_in("%[status] %ID %Tt", Where::Log).is_ok());
    assert!(Format::parse_in("TEST-%[req.hdr(in)]", Where::UniqueId).is_ok());
}

#[test]
fn unique_id_renders_haproxys_example_format() {
    // HAProxy's example; spaces merge and go at the start, as in a log line.
    let f = Format::parse_in("%{+X}o %ci:%cp_%fi:%fp_%Ts_%rt:%pid", Where::UniqueId).unwrap();
    let mut ctx = FetchCtx::http(
        "127.0.0.1:34000".parse().unwrap(),
        "127.0.0.1:18080".parse().unwrap(),
        None,
        None,
    );
    ctx.txn.stamp = Stamp {
        frontend: "fe",
        backend: None,
        first: true,
        px: Default::default(),
        no: 1,
        date: Some(
            SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(0x6B16_BE92 * 1000 + 42),
        ),
        tls: None,
        bc_tls: None,
    };
    let mut out = String::new();
    f.render_with(&mut out, &ctx, &HttpVars(&ctx));
    let pid = std::process::id();
    assert_eq!(
        out,
        format!("7F000001:84D0_7F000001:46A0_6B16BE92_0001:{pid:04X}")
    );
    // The same variables in a header value.
    let f = Format::parse("%f|%{+Q}f|%Ts.%ms|%rt|%{+X}rt").unwrap();
    assert_eq!(f.render(&ctx), "fe|\"fe\"|1796652690.042|1|0001");
}

#[test]
fn capture_and_unique_id_fetches_read_the_transaction() {
    let caps = [Some("ua".to_string()), None];
    let mut ctx = FetchCtx::http(
        "127.0.0.1:1".parse().unwrap(),
        "127.0.0.1:2".parse().unwrap(),
        None,
        None,
    );
    ctx.txn = TxnView {
        captured_req: &caps,
        captured_res: &[],
        unique_id: Some("ID1"),
        stamp: Stamp::default(),
        body: None,
    };
    let f = Format::parse_in(
        "%[capture.req.hdr(0)] %[capture.req.hdr(1)] %{+Q}[capture.res.hdr(0)] %[unique-id,lower]",
        Where::Log,
    )
    .unwrap();
    let mut out = String::new();
    f.render_with(&mut out, &ctx, &HttpVars(&ctx));
    assert_eq!(out, "ua - \"\" id1");
}
