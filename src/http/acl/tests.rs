use std::net::SocketAddr;

use super::*;
use crate::http::fetch::{ssl_version, Fetch, SslVer};
use crate::http::message::{Request, Response};
use crate::http::Version;

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        uri: uri.into(),
        version: Version::Http11,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn src() -> SocketAddr {
    "192.168.1.20:40000".parse().unwrap()
}
fn dst() -> SocketAddr {
    "10.0.0.1:80".parse().unwrap()
}

fn sample_req() -> Request {
    req(
        "GET",
        "/static/img/logo.png?lang=fr&v=2",
        &[
            ("Host", "www.example.com"),
            ("Accept", "text/html, application/json"),
            ("X-Num", "42"),
            ("X-Forwarded-For", "10.1.2.3"),
            ("Cookie", "SESSION=abc; theme=dark"),
            ("Cookie", "SESSION=def"),
        ],
    )
}

/// Evaluates one criterion ("path_beg /static") against the sample request.
fn matches_on(r: &Request, text: &str) -> Truth {
    let c = parse_criterion(&words(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
    c.eval(&FetchCtx::http(src(), dst(), Some(r), None))
}

fn yes(text: &str) {
    assert_eq!(matches_on(&sample_req(), text), Truth::True, "{text}");
}
fn no(text: &str) {
    assert_eq!(matches_on(&sample_req(), text), Truth::False, "{text}");
}

#[test]
fn address_fetches_match_ip_networks_and_ports() {
    yes("src 192.168.1.0/24");
    yes("src 192.168.1.20");
    yes("src 10.0.0.0/8 192.168.0.0/255.255.0.0");
    no("src 192.168.2.0/24");
    yes("dst 10.0.0.1");
    yes("src_port gt 1024");
    yes("dst_port 80");
    no("dst_port 443");
    yes("dst_port 1:1024");
}

#[test]
fn ipv6_networks_and_mapped_ipv4_addresses() {
    let r = sample_req();
    let ctx6 = FetchCtx::http(
        "[2001:db8::5]:1".parse().unwrap(),
        "[::ffff:10.0.0.1]:80".parse().unwrap(),
        Some(&r),
        None,
    );
    let c = |t: &str| parse_criterion(&words(t)).unwrap().eval(&ctx6);
    assert_eq!(c("src 2001:db8::/32"), Truth::True);
    assert_eq!(c("src 2001:db9::/32"), Truth::False);
    assert_eq!(c("dst 10.0.0.0/8"), Truth::True);
}

#[test]
fn request_line_fetches() {
    yes("method GET");
    no("method POST");
    yes("path /static/img/logo.png");
    yes("url /static/img/logo.png?lang=fr&v=2");
    yes("base www.example.com/static/img/logo.png");
    yes("url_param(lang) fr");
    yes("urlp(v) -m int 2");
    no("url_param(nope) -m found");
    yes("query -m sub lang=");
}

#[test]
fn derived_path_and_url_keywords() {
    yes("path_beg /static /images");
    yes("path_end .png .jpg");
    yes("path_sub img");
    yes(r"path_reg ^/static/.*\.png$");
    yes("path_dir img");
    no("path_dir im");
    yes("path_len 20");
    yes("url_beg /static");
    yes("url_end v=2");
    yes("url_sub lang");
    yes("url_reg lang=(fr|en)");
    yes("url_dir static");
    yes("base_beg www.example");
}

#[test]
fn header_fetches_split_values_on_commas() {
    yes("hdr(host) www.example.com");
    yes("req.hdr(accept) application/json");
    yes("hdr(accept,1) text/html");
    no("hdr(accept,1) application/json");
    yes("hdr(accept,-1) application/json");
    yes("hdr_cnt(accept) 2");
    yes("req.hdr_cnt(cookie) eq 2");
    yes("req.fhdr(accept) -m beg text/html,");
    yes("req.fhdr_cnt(accept) 1");
    yes("hdr_beg(host) www.");
    yes("hdr_end(host) .com");
    yes("hdr_sub(host) example");
    yes("hdr_reg(host) ^www\\.");
    yes("hdr_dom(host) example");
    no("hdr_dom(host) exam");
    yes("hdr_val(x-num) ge 40");
    yes("hdr_len(host) 15");
    yes("hdr_ip(x-forwarded-for) 10.0.0.0/8");
    yes("hdr_cnt(x-absent) 0");
    no("hdr(x-absent) -m found");
    yes("hdr(host) -m found");
}

#[test]
fn cookie_fetches() {
    yes("cook(SESSION) abc");
    yes("cook(SESSION) def");
    yes("req.cook(theme) dark");
    yes("cook_beg(theme) da");
    yes("cook_cnt(SESSION) 2");
    no("cook(missing) -m found");
}

#[test]
fn response_fetches_read_the_response() {
    let r = sample_req();
    let res = Response {
        version: Version::Http11,
        status: 404,
        reason: "Not Found".into(),
        headers: vec![("Content-Type".into(), "text/plain".into())],
    };
    let ctx = FetchCtx::http(src(), dst(), Some(&r), Some(&res));
    let c = |t: &str| parse_criterion(&words(t)).unwrap().eval(&ctx);
    assert_eq!(c("status 400:499"), Truth::True);
    assert_eq!(c("res.hdr(content-type) -m beg text/"), Truth::True);
    // hdr() reads the response when there is one, as HAProxy in response rules.
    assert_eq!(c("hdr(content-type) text/plain"), Truth::True);
    assert_eq!(c("req.hdr(host) www.example.com"), Truth::True);
    assert_eq!(c("shdr_cnt(content-type) 1"), Truth::True);
}

#[test]
fn match_methods_and_case_insensitivity() {
    yes("hdr(host) -i WWW.EXAMPLE.COM");
    no("hdr(host) WWW.EXAMPLE.COM");
    yes("hdr(host) -m beg -i WWW");
    yes("hdr(host) -m end .com");
    yes("hdr(host) -m sub -i EXAMPLE");
    yes("hdr(host) -m reg -i ^WWW");
    yes("hdr(host) -m dom www");
    yes("path -m dir /static/img/");
    yes("path -m len 20");
    yes("path -m len ge 5");
    yes("hdr(x-num) -m int 42");
    yes("hdr(x-num) -m int lt 43");
    yes("hdr(x-num) -m int le 42");
    no("hdr(x-num) -m int gt 42");
    yes("hdr(x-num) -m int 40:45");
    yes("hdr(x-num) -m int :42");
    yes("hdr(x-num) -m int 42:");
    yes("hdr(x-forwarded-for) -m ip 10.1.2.3");
    yes("always_true");
    no("always_false");
    yes("always_true -m bool");
    yes("hdr(x-num) -m found");
    yes("hdr(host) -m str -- www.example.com");
}

fn with_header(text: &str, name: &str, value: &str) -> Truth {
    matches_on(&req("GET", "/", &[(name, value)]), text)
}

#[test]
fn len_counts_bytes_and_icase_folds_ascii_only_as_haproxy() {
    // Header values hold the wire's bytes one char each: "é" arrives as
    // the two bytes of its UTF-8, and HAProxy's `-m len` counts bytes.
    let e_acute = "\u{c3}\u{a9}";
    let e_acute_upper = "\u{c3}\u{89}";
    assert_eq!(with_header("hdr(x) -m len 2", "X", e_acute), Truth::True);
    assert_eq!(with_header("hdr(x) -m len 1", "X", e_acute), Truth::False);
    // The pattern, from the UTF-8 config, is the same bytes.
    assert_eq!(with_header("hdr(x) é", "X", e_acute), Truth::True);
    // `-i` folds ASCII letters only (HAProxy's strncasecmp).
    assert_eq!(with_header("hdr(x) -i É", "X", e_acute), Truth::False);
    assert_eq!(with_header("hdr(x) -i É", "X", e_acute_upper), Truth::True);
    assert_eq!(with_header("hdr(x) -i AbC", "X", "aBc"), Truth::True);
    assert_eq!(
        with_header("hdr(x) -m reg -i ^É", "X", e_acute),
        Truth::False
    );
    assert_eq!(with_header("hdr(x) -m sub -i B", "X", "abc"), Truth::True);
}

#[test]
fn every_method_matches_as_haproxy() {
    let h = |text: &str, v: &str| with_header(text, "X", v);
    assert_eq!(h("hdr(x) -m beg ab", "abc"), Truth::True);
    assert_eq!(h("hdr(x) -m end bc", "abc"), Truth::True);
    assert_eq!(h("hdr(x) -m sub zz", "abc"), Truth::False);
    assert_eq!(h("hdr(x) -m dom b.c", "a.b.c:80"), Truth::True);
    assert_eq!(h("hdr(x) -m dom b", "ab.c"), Truth::False);
    assert_eq!(h("hdr(x) -m dir /b/", "/a/b/c"), Truth::True);
    assert_eq!(h("hdr(x) -m dir b", "/a/bb/c"), Truth::False);
    // A string becomes an integer by its leading digits.
    assert_eq!(h("hdr(x) -m int 12", "12abc"), Truth::True);
    assert_eq!(h("hdr(x) -m int 0", "abc"), Truth::True);
    assert_eq!(h("hdr(x) -m bin 616263", "abc"), Truth::True);
    assert_eq!(h("hdr(x) -m ip 10.0.0.0/8", "10.1.2.3"), Truth::True);
    assert_eq!(h("hdr(x) -m ip 10.0.0.0/8", "not an ip"), Truth::False);
    assert_eq!(
        h("hdr(x) -m ip ::ffff:10.0.0.0/104", "10.1.2.3"),
        Truth::True
    );
    assert_eq!(h("hdr(x) -m bool", "1"), Truth::True);
    assert_eq!(h("hdr(x) -m bool", "0"), Truth::False);
    assert_eq!(h("hdr(x) -m found", ""), Truth::True);
    assert_eq!(h("hdr(y) -m found", ""), Truth::False);
    // Operators apply to every value after them.
    assert_eq!(h("hdr(x) -m int lt 5 gt 10", "11"), Truth::True);
    assert_eq!(h("hdr(x) -m int lt 5 gt 10", "7"), Truth::False);
    assert_eq!(h("hdr(x) -m int lt 5 eq 7", "7"), Truth::True);
}

#[test]
fn operators_are_kept_as_the_ranges_haproxy_lists() {
    let c = parse_criterion(&words("req.len lt 10 eq 20 5:8 gt 1")).unwrap();
    let shown: Vec<String> = c
        .inline_ref()
        .show(None)
        .lines()
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect();
    assert_eq!(shown, [":9", "20", "5:8", "2:"]);
}

#[test]
fn map_files_as_acl_patterns_and_several_files() {
    let dir = std::env::temp_dir();
    let m = dir.join(format!("pollux-acl-m-{}.map", std::process::id()));
    let l = dir.join(format!("pollux-acl-l-{}.lst", std::process::id()));
    std::fs::write(&m, "a.com be_a\nb.com be_b\n").unwrap();
    std::fs::write(&l, "c.com\n").unwrap();
    // `-M` reads the map's keys (the values are not patterns).
    let text = format!("hdr(x) -f {} -M -f {}", l.display(), m.display());
    for (v, t) in [
        ("a.com", Truth::True),
        ("c.com", Truth::True),
        ("be_a", Truth::False),
    ] {
        assert_eq!(with_header(&text, "X", v), t, "{v}");
    }
    // `-i` after a file applies to what follows only.
    let text = format!("hdr(x) -f {} -i B.COM", l.display());
    assert_eq!(with_header(&text, "X", "b.com"), Truth::True);
    assert_eq!(with_header(&text, "X", "C.COM"), Truth::False);
    let _ = std::fs::remove_file(&m);
    let _ = std::fs::remove_file(&l);
}

#[test]
fn patterns_from_files_skip_comments_and_blanks() {
    let path = std::env::temp_dir().join(format!("pollux-acl-{}.lst", std::process::id()));
    // As HAProxy: `#` only first on a line is a comment, leading blanks go,
    // trailing ones belong to the pattern.
    std::fs::write(&path, "# static paths\n\n  /nothing\n/static\n #x\n").unwrap();
    let text = format!("path_beg -f {}", path.display());
    yes(&text);
    let c = parse_criterion(&words(&text)).unwrap();
    assert_eq!(c.len(), 3);
    std::fs::write(&path, "/static  \n").unwrap();
    no(&text);
    let _ = std::fs::remove_file(&path);
    assert!(parse_criterion(&words("path -f /nonexistent/x.lst"))
        .unwrap_err()
        .contains("/nonexistent/x.lst"));
}

#[test]
fn bad_criteria_are_errors() {
    for (text, fragment) in [
        ("nosuchfetch foo", "unknown fetch method 'nosuchfetch'"),
        ("path_reg (", "regex '(' is invalid"),
        ("hdr", "fetch method 'hdr' expects"),
        (
            "src 1.2.3.999",
            "'1.2.3.999' is not a valid IPv4 or IPv6 address",
        ),
        ("src 10.0.0.0/33", "not a valid IPv4 or IPv6 address"),
        ("dst_port eighty", "'eighty' is not a number"),
        ("dst_port gt", "missing value after operator 'gt'"),
        ("dst_port 9:1", "'9:1' is not a valid number range"),
        ("path -m nope /", "unknown match method 'nope'"),
        ("path -m found /x", "takes no pattern"),
        ("path -x /", "unknown ACL flag '-x'"),
        ("path -m", "missing argument after '-m'"),
        ("req.payload(0) 00", "expects 2"),
        ("req.ssl_ver 140737488355328", "is not a number"),
        ("hdr(host", "missing closing ')'"),
        ("path -u x /", "the argument of -u must be an integer"),
        (
            "path -f /dev/null -m beg /",
            "'-m' must only be specified before patterns and files",
        ),
    ] {
        let e = parse_criterion(&words(text)).unwrap_err();
        assert!(e.contains(fragment), "{text}: {e}");
    }
}

fn acls(lines: &[&str]) -> AclSet {
    let mut set = AclSet::default();
    for l in lines {
        set.add(&words(l)).unwrap();
    }
    set
}

fn cond(set: &AclSet, text: &str) -> Truth {
    let c = parse_condition(&words(text), set).unwrap_or_else(|e| panic!("{text}: {e}"));
    let r = sample_req();
    c.eval(&FetchCtx::http(src(), dst(), Some(&r), None))
}

#[test]
fn conditions_combine_and_or_not_and_anonymous_acls() {
    let set = acls(&[
        "is_static path_beg /static",
        "is_api path_beg /api",
        "is_get method GET",
        "is_post method POST",
    ]);
    assert_eq!(cond(&set, "if is_static is_get"), Truth::True);
    assert_eq!(cond(&set, "if is_static is_post"), Truth::False);
    assert_eq!(cond(&set, "if is_api || is_static"), Truth::True);
    assert_eq!(cond(&set, "if is_api or is_post"), Truth::False);
    assert_eq!(cond(&set, "if !is_api is_get"), Truth::True);
    assert_eq!(cond(&set, "if ! is_api"), Truth::True);
    assert_eq!(cond(&set, "unless is_static"), Truth::False);
    assert_eq!(cond(&set, "if is_api is_get || is_static"), Truth::True);
    assert_eq!(
        cond(&set, "if { hdr(host) -i www.example.com } is_get"),
        Truth::True
    );
    assert_eq!(cond(&set, "if !{ path_end .png }"), Truth::False);
    assert_eq!(cond(&set, "if METH_GET !LOCALHOST"), Truth::True);
    assert_eq!(cond(&set, "if TRUE !FALSE"), Truth::True);
}

#[test]
fn acl_lines_with_the_same_name_are_ored() {
    let set = acls(&["media path_end .jpg", "media path_end .png"]);
    assert_eq!(cond(&set, "if media"), Truth::True);
    let set = acls(&["media path_end .jpg", "media path_end .gif"]);
    assert_eq!(cond(&set, "if media"), Truth::False);
}

#[test]
fn bad_conditions_are_errors_naming_the_problem() {
    let set = acls(&["a always_true"]);
    for (text, fragment) in [
        ("if nope", "no such ACL : 'nope'"),
        ("if", "missing condition after 'if'"),
        ("if a ||", "missing term at the end"),
        ("if || a", "missing term before '||'"),
        ("if { path_beg /", "missing '}'"),
        ("if { nosuch x }", "unknown fetch method 'nosuch'"),
        ("when a", "expected 'if' or 'unless'"),
        ("if !", "missing term"),
        ("if HTTP", "not supported yet"),
    ] {
        let e = parse_condition(&words(text), &set).unwrap_err();
        assert!(e.contains(fragment), "{text}: {e}");
    }
    let mut set = AclSet::default();
    assert!(set
        .add(&words("bad/name path /"))
        .unwrap_err()
        .contains("'/'"));
    assert!(set
        .add(&words("lonely"))
        .unwrap_err()
        .contains("expects a criterion"));
    assert!(set
        .add(&words("x path_reg ("))
        .unwrap_err()
        .starts_with("acl 'x': regex '(' is invalid"));
}

/// The first bytes of a real TLS 1.2/1.3 ClientHello (curl 8): record
/// layer version 3.1, handshake type 1, client version 3.3.
const CLIENT_HELLO: &[u8] = &[
    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x5a, 0x8e, 0x1c, 0x47, 0x93,
    0x0b, 0x7d, 0x22, 0x4e, 0x61, 0x0f, 0x9a, 0xd3, 0x88, 0x17, 0x46, 0xbe, 0x2c, 0x71, 0x05, 0xf0,
    0x3d, 0x9e, 0x62, 0x11, 0xc4, 0x58, 0xa7, 0x30, 0xe9, 0x4b, 0x86, 0x20, 0x8d, 0xe2, 0x6f, 0x13,
    0x3a, 0x51, 0xd0, 0x9c, 0x27, 0x74, 0xbb, 0x0e, 0x45, 0xf1, 0x68, 0x2a,
];
const SSH_BANNER: &[u8] = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";

#[test]
fn ssl_version_of_tls_hello_ssh_banner_and_short_input() {
    assert_eq!(ssl_version(CLIENT_HELLO), SslVer::Version(0x30001));
    assert_eq!(ssl_version(&CLIENT_HELLO[..3]), SslVer::TooShort);
    assert_eq!(ssl_version(&[]), SslVer::TooShort);
    assert_eq!(ssl_version(SSH_BANNER), SslVer::NotSsl);
    // SSLv2-compatible CLIENT-HELLO announcing SSLv3: 9 + 3 + 0 + 16 bytes.
    let mut v2 = vec![
        0x80, 28, 0x01, 0x03, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x10,
    ];
    v2.extend([0; 19]);
    assert_eq!(ssl_version(&v2), SslVer::Version(0x30000));
    // A record with an SSLv2 version number is not SSLv3+.
    assert_eq!(ssl_version(&[0x16, 0x02, 0x00, 0x00, 0x10]), SslVer::NotSsl);
}

fn tcp_eval(text: &str, payload: &[u8], complete: bool) -> Truth {
    let c = parse_criterion(&words(text)).unwrap_or_else(|e| panic!("{text}: {e}"));
    c.eval(&FetchCtx {
        src: src(),
        dst: dst(),
        req: None,
        res: None,
        payload,
        payload_complete: complete,
        vars: None,
        txn: Default::default(),
    })
}

#[test]
fn payload_fetches_wait_for_more_bytes_unless_complete() {
    assert_eq!(
        tcp_eval("req.ssl_ver 3.1", CLIENT_HELLO, false),
        Truth::True
    );
    assert_eq!(
        tcp_eval("req_ssl_ver 3.0:3.3", CLIENT_HELLO, false),
        Truth::True
    );
    assert_eq!(
        tcp_eval("req.ssl_ver gt 3.1", CLIENT_HELLO, false),
        Truth::False
    );
    assert_eq!(
        tcp_eval("req.ssl_ver 3.1", &CLIENT_HELLO[..2], false),
        Truth::NeedMore
    );
    assert_eq!(
        tcp_eval("req.ssl_ver 3.1", &CLIENT_HELLO[..2], true),
        Truth::False
    );
    assert_eq!(
        tcp_eval("req.ssl_ver -m found", SSH_BANNER, false),
        Truth::False
    );
    assert_eq!(tcp_eval("req.len gt 0", b"", false), Truth::NeedMore);
    assert_eq!(tcp_eval("req.len gt 0", b"", true), Truth::False);
    assert_eq!(tcp_eval("req.len ge 4", b"SSH-", false), Truth::True);
    assert_eq!(
        tcp_eval("req.payload(0,4) 5353482d", SSH_BANNER, false),
        Truth::True
    );
    assert_eq!(
        tcp_eval("req.payload(0,4) -m str SSH-", SSH_BANNER, false),
        Truth::True
    );
    assert_eq!(
        tcp_eval("req.payload(0,4) 5353482d", b"SS", false),
        Truth::NeedMore
    );
    assert_eq!(
        tcp_eval("req.payload(0,4) 5353482d", b"SS", true),
        Truth::False
    );
    assert_eq!(
        tcp_eval("req.payload(0,4) 5353482d", CLIENT_HELLO, false),
        Truth::False
    );
    assert_eq!(
        tcp_eval("req.payload(4,0) -m sub OpenSSH", SSH_BANNER, false),
        Truth::True
    );
}

#[test]
fn need_more_propagates_through_conditions() {
    let set = acls(&["tls req.ssl_ver 3.0:", "big req.len gt 100"]);
    let eval = |text: &str, payload: &[u8], complete: bool| {
        parse_condition(&words(text), &set)
            .unwrap()
            .eval(&FetchCtx {
                src: src(),
                dst: dst(),
                req: None,
                res: None,
                payload,
                payload_complete: complete,
                vars: None,
                txn: Default::default(),
            })
    };
    assert_eq!(eval("if tls", b"", false), Truth::NeedMore);
    assert_eq!(eval("unless tls", b"", false), Truth::NeedMore);
    assert_eq!(eval("if tls", CLIENT_HELLO, false), Truth::True);
    // One false term settles an AND; one true group settles an OR.
    assert_eq!(eval("if tls FALSE", b"", false), Truth::False);
    assert_eq!(eval("if big || TRUE", b"", false), Truth::True);
    assert_eq!(eval("if big || tls", b"", true), Truth::False);
}

#[test]
fn fetch_one_takes_the_last_header_and_cookie() {
    let r = sample_req();
    let ctx = FetchCtx::http(src(), dst(), Some(&r), None);
    let one = |e: &str| {
        Fetch::parse(e)
            .unwrap()
            .fetch_one(&ctx)
            .map(|s| crate::http::fetch::to_text(&s).into_owned())
    };
    assert_eq!(one("hdr(accept)").as_deref(), Some("application/json"));
    assert_eq!(
        one("req.fhdr(accept)").as_deref(),
        Some("text/html, application/json")
    );
    assert_eq!(one("cook(SESSION)").as_deref(), Some("def"));
    assert_eq!(one("src").as_deref(), Some("192.168.1.20"));
    assert_eq!(one("src_port").as_deref(), Some("40000"));
    assert_eq!(one("hdr(none)"), None);
    assert_eq!(one("status"), None);
}
