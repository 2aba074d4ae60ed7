//! Converters against HAProxy 2.6: each case's input goes to Debian's
//! haproxy in a request header, HAProxy runs the converter chain in an
//! `http-request return ... lf-string`, and pollux's sample engine must give
//! the same bytes (an `lf-string` prints nothing where a converter leaves no
//! sample, so a failure and an empty result read the same here; the unit
//! tests in src/sample/tests.rs tell them apart).
//! No pollux process runs: this compares the library with the reference;
//! the expressions wired into pollux's config are tested end to end apart.

mod common;

use ::pollux::sample::conv::{parse_chain, run_chain};
use ::pollux::sample::Value;
use common::reference::haproxy_26;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;

/// (converter chain, input). Inputs are header values: no CR, LF or NUL,
/// no leading or trailing blanks.
const CASES: &[(&str, &[u8])] = &[
    ("lower", b"HeLLo World"),
    ("upper", b"HeLLo World"),
    ("length", "h\u{e9}llo".as_bytes()),
    ("bytes(2,3)", b"abcdefg"),
    ("bytes(9)", b"abc"),
    ("bytes(1)", b"abc"),
    ("bytes(1,-1)", b"abc"),
    ("bytes(1,0)", b"abc"),
    ("field(2,/)", b"/a/b/c"),
    ("field(-1,/)", b"/a/b/c"),
    ("field(2,/,2)", b"/a/b/c"),
    ("field(-2,/,2)", b"/a/b/c"),
    ("field(1,/,0)", b"a/b/c"),
    ("field(9,/)", b"/a/b/c"),
    ("field(3,:/)", b"a:b/c:d"),
    ("field(-4,.)", b"a.b"),
    ("word(1,/)", b"//a//b/c"),
    ("word(-1,/)", b"//a//b/c//"),
    ("word(2,/,2)", b"//a//b/c"),
    ("word(-2,/,2)", b"a/b//c"),
    ("word(9,/)", b"/a"),
    ("json", b"a\"b\\/c\x01\x7f\xc3\xa9"),
    ("json(utf8)", "\u{e9}\u{20ac}".as_bytes()),
    ("json(utf8)", b"a\xff"),
    ("json(utf8s)", b"a\xffb\xc3"),
    ("json(utf8p)", b"a\xc0\xafb"),
    ("json(utf8)", b"a\xc0\xafb"),
    ("json(utf8ps)", "x\u{1f600}y".as_bytes()),
    ("base64", b"hello!?"),
    ("base64", b"ab"),
    ("ub64enc", b"hello!?"),
    ("ub64enc", b"\xfb\xff"),
    ("b64dec", b"aGVsbG8hPw=="),
    ("b64dec", b"aGVsbG8hPw="),
    ("b64dec", b"aGVs=G8hPw=="),
    ("b64dec", b"aGVsbG8h"),
    ("ub64dec", b"aGVsbG8hPw"),
    ("ub64dec", b"aGVsbG8hP"),
    ("ub64dec", b"-_8"),
    ("hex", b"AZ~"),
    ("hex2i", b"ff"),
    ("hex2i", b"FfFfFfFfFfFfFfFfFf"),
    ("hex2i", b"fg"),
    ("crc32", b"123456789"),
    ("crc32(1)", b"123456789"),
    ("crc32c", b"123456789"),
    ("djb2", b"some key"),
    ("djb2(1)", b"some key"),
    ("sdbm", b"some key"),
    ("wt6", b"some key"),
    ("xxh32", b"some key"),
    ("xxh32(5)", b"some key"),
    ("xxh64", b"some key"),
    ("xxh64(7)", b"some key"),
    ("xxh3", b"some key"),
    ("xxh3(9)", b"some key"),
    ("sha1,hex", b"abc"),
    ("sha1,base64", b"abc"),
    ("sha2,hex", b"abc"),
    ("sha2(224),hex", b"abc"),
    ("sha2(384),hex", b"abc"),
    ("sha2(512),base64", b"abc"),
    ("digest(sha256),hex", b"abc"),
    ("digest(SHA512),hex", b"abc"),
    ("digest(sha1),hex", b""),
    ("digest(sha512-256),hex", b"abc"),
    ("ipmask(24)", b"10.1.2.3"),
    ("ipmask(255.255.0.0)", b"10.1.2.3"),
    ("ipmask(24,64)", b"2001:db8:1:2::1"),
    ("ipmask(24)", b"2001:db8::1"),
    ("ipmask(16)", b"::ffff:10.1.2.3"),
    ("ipmask(8)", b"not an address"),
    ("add(3)", b"5"),
    ("add(1)", b"12abc"),
    ("add(1)", b"abc"),
    ("add(1)", b"9223372036854775807"),
    ("sub(10)", b"5"),
    ("mul(-2)", b"5"),
    ("mul(2)", b"-9223372036854775807"),
    ("div(0)", b"5"),
    ("div(2)", b"-7"),
    ("mod(3)", b"-7"),
    ("mod(0)", b"7"),
    ("and(6)", b"3"),
    ("or(4)", b"3"),
    ("xor(5)", b"3"),
    ("cpl", b"0"),
    ("neg", b"5"),
    ("neg", b"-9223372036854775808"),
    ("bool", b"0"),
    ("bool", b"7"),
    ("not", b"0"),
    ("odd", b"3"),
    ("even", b"3"),
    ("iif(yes,no)", b"1"),
    ("iif(yes,no)", b"abc"),
    ("htonl,hex", b"16909060"),
    ("ltrim(' x')", b"xx ab"),
    ("rtrim(/)", b"ab//"),
    ("rtrim(/)", b"///"),
    ("host_only", b"WWW.Example.com:8080"),
    ("host_only", b"[::1]:80"),
    ("host_only", b"[::1]"),
    ("port_only", b"[::1]:8443"),
    ("port_only", b"example.com:"),
    ("port_only", b"example.com"),
    ("port_only", b"a:99999999999"),
    ("url_dec", b"a%20b+c?d+e"),
    ("url_dec(1)", b"a+b%41"),
    ("url_dec", b"a%2"),
    ("url_enc", "a b/\u{e9}~".as_bytes()),
    ("url_enc(query)", b"x=1&y=2"),
    ("http_date", b"784111777"),
    ("http_date(3600)", b"784111777"),
    ("http_date(0,ms)", b"784111777005"),
    ("http_date(0,us)", b"784111777000005"),
    ("http_date", b"-1"),
    ("lower,hex", b"AB"),
    ("length,add(2)", b"abc"),
    ("bytes(1,2),hex", b"abcd"),
    ("field(2,=),url_dec,upper", b"k=a%20b"),
    ("word(1,.),length,mul(3),odd", b"host.example"),
    ("regsub(a,X)", b"banana"),
    ("regsub(a,X,g)", b"banana"),
    ("regsub(^b,X,g)", b"bbb"),
    ("regsub(x*,-,g)", b"abc"),
    ("regsub(x*,-)", b"abc"),
    ("regsub(A,X,ig)", b"banana"),
    ("regsub('(an)(a)',<\\2\\1>,g)", b"banana"),
    ("regsub(n,\\x41,g)", b"banana"),
    ("regsub(/+,/,g)", b"//a///b/"),
    ("regsub($,!)", b"end"),
    ("regsub('[0-9]+',N,g)", b"a12b345c"),
    ("regsub(\"a|n\",,g)", b"banana"),
    ("utime(%Y-%m-%d_%H:%M:%S)", b"784111777"),
    ("utime('%a, %d %b %Y %j %U %e',3600)", b"784111777"),
    ("ltime(%H%M%S%z)", b"784111777"),
    ("utime(%s)", b"-5"),
    ("utime(%Y)", b"99999999999999999"),
];

/// The configuration's `lf-string`: every case, its input from header
/// `x-in-N`, results separated by a marker no result contains.
const SEP: &str = "|#|";

fn config(cases: &[(String, Vec<u8>)]) -> String {
    let mut body = String::new();
    for (i, (chain, _)) in cases.iter().enumerate() {
        // In the config's double quotes, `\\`, `\"` and `\$` are escapes.
        let chain = chain
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$");
        body.push_str(&format!("%[req.fhdr(x-in-{i}),{chain}]{SEP}"));
    }
    format!(
        "global\n    tune.http.maxhdr 200\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n\
         frontend fe\n    bind 127.0.0.1:@P0@\n\
         \x20   http-request return status 200 content-type text/plain lf-string \"{body}\"\n"
    )
}

fn ask_haproxy(px: &Pollux, cases: &[(String, Vec<u8>)]) -> Vec<Vec<u8>> {
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_vec();
    for (i, (_, input)) in cases.iter().enumerate() {
        req.extend_from_slice(format!("x-in-{i}: ").as_bytes());
        req.extend_from_slice(input);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    let mut c = TcpStream::connect(px.addr(0)).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    c.write_all(&req).unwrap();
    let mut resp = Vec::new();
    c.read_to_end(&mut resp).unwrap();
    let at = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head")
        + 4;
    let head = String::from_utf8_lossy(&resp[..at]).to_string();
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "haproxy answered:\n{head}"
    );
    let body = &resp[at..];
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(p) = rest.windows(SEP.len()).position(|w| w == SEP.as_bytes()) {
        out.push(rest[..p].to_vec());
        rest = &rest[p + SEP.len()..];
    }
    out
}

fn ours(chain: &str, input: &[u8]) -> Vec<u8> {
    let chain = parse_chain(chain).unwrap_or_else(|e| panic!("{chain}: {e}"));
    match run_chain(&chain, Value::str(input)).and_then(Value::into_text) {
        Some(t) => t.into_owned(),
        None => Vec::new(),
    }
}

/// Each case through HAProxy and through pollux's engine: the differences.
fn differences(cases: &[(String, Vec<u8>)]) -> Option<Vec<String>> {
    let haproxy = haproxy_26()?;
    let px = Launch::new(Some("poll"))
        .program(haproxy)
        .start(&config(cases));
    let theirs = ask_haproxy(&px, cases);
    px.stop();
    assert_eq!(theirs.len(), cases.len(), "one result per case");
    let mut diffs = Vec::new();
    for ((chain, input), want) in cases.iter().zip(&theirs) {
        let got = ours(chain, input);
        if &got != want {
            diffs.push(format!(
                "{chain} on {:?}: HAProxy {:?}, pollux {:?}",
                String::from_utf8_lossy(input),
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    Some(diffs)
}

fn owned(cases: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    cases
        .iter()
        .map(|(c, i)| (c.to_string(), i.to_vec()))
        .collect()
}

#[test]
fn converters_give_haproxys_bytes() {
    init();
    if let Some(d) = differences(&owned(CASES)) {
        assert!(d.is_empty(), "{} differences:\n{}", d.len(), d.join("\n"));
    }
}

/// Map files as HAProxy reads them (comments, blanks, duplicates), and
/// which entry wins for each match method: exact, longest prefix, longest
/// network, first in file order.
const MAPS: &[(&str, &str)] = &[
    ("hosts", "www.example.com be1\nexample.com\tbe2\n# a comment\n\n   api.example.com   be3 with spaces  \nwww.example.com dup\n #not a comment x\n"),
    ("beg", "/api/ api\n/api/v2/ api2\n/ root\n/api/ dup\n"),
    ("ip", "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n192.168.1.1 host\n2001:db8::/32 doc6\n10.0.0.0/255.0.255.0 odd-mask\n"),
    ("int", "1 one\n10:20 teens\n:0 nonpositive\n100: hundred+\n15 fifteen\n"),
    ("sub", "foo f\nbar b\n"),
    ("dom", "example.com dom\nwww ww\n"),
    ("dir", "/b/ dirb\nc dirc\n"),
    ("end", ".jpg image\n.png png\n"),
    ("reg", "^/img/[0-9]+\\.png$ numbered\n^/img/ img\n"),
    ("vint", "a 1\nb 22\n"),
    ("vip", "a 10.0.0.1\nb ::1\n"),
];

#[test]
fn maps_give_haproxys_values() {
    init();
    let dir = TestDir::new("maps");
    let path = |n: &str| {
        let (_, text) = MAPS.iter().find(|(m, _)| *m == n).expect("map");
        dir.write(&format!("{n}.map"), text).display().to_string()
    };
    let cases: Vec<(String, &[u8])> = vec![
        (format!("map({})", path("hosts")), b"www.example.com"),
        (format!("map({})", path("hosts")), b"example.com"),
        (format!("map({})", path("hosts")), b"api.example.com"),
        (format!("map({})", path("hosts")), b"#not"),
        (format!("map({},dflt)", path("hosts")), b"nope"),
        (format!("map_str({})", path("hosts")), b"WWW.example.com"),
        (format!("map_beg({})", path("beg")), b"/api/v2/users"),
        (format!("map_beg({})", path("beg")), b"/api/x"),
        (format!("map_beg({})", path("beg")), b"/x"),
        (format!("map_beg({})", path("beg")), b"x"),
        (format!("map_ip({})", path("ip")), b"10.1.2.3"),
        (format!("map_ip({})", path("ip")), b"10.2.3.4"),
        (format!("map_ip({})", path("ip")), b"192.168.1.1"),
        (format!("map_ip({})", path("ip")), b"2001:db8::1"),
        (format!("map_ip({})", path("ip")), b"::ffff:10.1.2.3"),
        (format!("map_ip({})", path("ip")), b"2002:a01:203::1"),
        (format!("map_ip({})", path("ip")), b"11.2.0.4"),
        (format!("map_ip({},none)", path("ip")), b"8.8.8.8"),
        (format!("map_int({})", path("int")), b"15"),
        (format!("map_int({})", path("int")), b"1"),
        (format!("map_int({})", path("int")), b"-3"),
        (format!("map_int({})", path("int")), b"150"),
        (format!("map_int({})", path("int")), b"50"),
        (format!("map_sub({})", path("sub")), b"xxbarfoo"),
        (format!("map_dom({})", path("dom")), b"www.example.com"),
        (format!("map_dom({})", path("dom")), b"wwwexample.com"),
        (format!("map_dir({})", path("dir")), b"/a/b/c"),
        (format!("map_dir({})", path("dir")), b"/a/bc"),
        (format!("map_end({})", path("end")), b"file.jpg"),
        (format!("map_reg({})", path("reg")), b"/img/12.png"),
        (format!("map_reg({})", path("reg")), b"/img/x.png"),
        (format!("map_str_int({}),add(1)", path("vint")), b"b"),
        (format!("map_str_int({},7)", path("vint")), b"z"),
        (format!("map_str_ip({})", path("vip")), b"a"),
        (format!("map_str_ip({})", path("vip")), b"b"),
        (format!("map_beg_int({})", path("vint")), b"bcd"),
        (format!("lower,map({})", path("hosts")), b"WWW.EXAMPLE.COM"),
    ];
    let cases: Vec<(String, Vec<u8>)> = cases.into_iter().map(|(c, i)| (c, i.to_vec())).collect();
    if let Some(d) = differences(&cases) {
        assert!(d.is_empty(), "{} differences:\n{}", d.len(), d.join("\n"));
    }
}
