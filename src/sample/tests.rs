//! Unit tests of the sample types and converters; the differential test
//! against HAProxy 2.6 is tests/sample_conv_compat.rs.

use super::conv::Conv;
use super::{args, Type, Value};
use std::net::Ipv4Addr;

fn conv(expr: &str) -> Conv {
    let (name, a) = match expr.find('(') {
        None => (expr, Vec::new()),
        Some(i) => {
            let close = args::closing_paren(expr.as_bytes(), i).expect("closing paren");
            (&expr[..i], args::split(&expr[i + 1..close]).expect("args"))
        }
    };
    Conv::parse(name, &a).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Apply one converter; the result owned, so it outlives the converter.
fn eval(expr: &str, v: Value<'static>) -> Option<Value<'static>> {
    conv(expr).apply(v).map(Value::into_owned)
}

fn run(expr: &str, input: &str) -> Option<String> {
    conv(expr)
        .apply(Value::str(input.as_bytes()))
        .and_then(Value::into_text)
        .map(|t| String::from_utf8_lossy(&t).into_owned())
}

#[test]
fn casts_follow_haproxys_table() {
    assert_eq!(
        Value::str(&b"12abc"[..]).cast(Type::Sint),
        Some(Value::Sint(12))
    );
    assert_eq!(
        Value::str(&b"-7"[..]).cast(Type::Sint),
        Some(Value::Sint(-7))
    );
    assert_eq!(
        Value::str(&b"abc"[..]).cast(Type::Sint),
        Some(Value::Sint(0))
    );
    assert_eq!(Value::str(&b""[..]).cast(Type::Sint), None);
    assert_eq!(
        Value::str(&b"99999999999999999999"[..]).cast(Type::Sint),
        Some(Value::Sint(i64::MAX))
    );
    assert_eq!(
        Value::Sint(0x0a00_0001).cast(Type::Ipv4),
        Some(Value::Ipv4(Ipv4Addr::new(10, 0, 0, 1)))
    );
    assert_eq!(
        Value::Bin(b"ab\0cd"[..].into()).cast(Type::Str),
        Some(Value::str(&b"ab"[..]))
    );
    assert_eq!(Value::Ipv4(Ipv4Addr::LOCALHOST).cast(Type::Bool), None);
    assert!(!Type::Addr.casts_to(Type::Str));
    let v6: std::net::Ipv6Addr = "::1.2.3.4".parse().unwrap();
    assert_eq!(super::ipv6_text(v6), "::1.2.3.4");
    assert_eq!(super::ipv6_text("::1".parse().unwrap()), "::1");
}

#[test]
fn arguments_unquote_and_unescape_as_make_arg_list() {
    assert_eq!(
        args::split("1,'a,b',\"c\\\"d\"").unwrap(),
        ["1", "a,b", "c\"d"]
    );
    assert_eq!(args::split("a\\,b").unwrap(), ["a\\", "b"]);
    assert_eq!(args::split("").unwrap(), Vec::<String>::new());
    assert_eq!(args::split("1,").unwrap(), ["1", ""]);
    assert!(args::split("'abc").is_err());
    assert_eq!(args::closing_paren(b"f(')',x)y", 1), Some(7));
    assert!(args::int("12x").is_err());
    assert_eq!(args::int("-3"), Ok(-3));
}

#[test]
fn string_converters() {
    assert_eq!(run("lower", "HeLLo"), Some("hello".into()));
    assert_eq!(run("upper", "HeLLo"), Some("HELLO".into()));
    assert_eq!(run("length", "héllo"), Some("6".into()));
    assert_eq!(run("bytes(2,3)", "abcdefg"), Some("cde".into()));
    assert_eq!(run("bytes(9)", "abc"), Some("".into()));
    assert_eq!(run("bytes(-1)", "abc"), Some("".into()));
    assert_eq!(run("field(2,/)", "/a/b/c"), Some("a".into()));
    assert_eq!(run("field(-1,/)", "/a/b/c"), Some("c".into()));
    assert_eq!(run("field(2,/,2)", "/a/b/c"), Some("a/b".into()));
    assert_eq!(run("field(-2,/,2)", "/a/b/c"), Some("a/b".into()));
    assert_eq!(run("field(9,/)", "/a/b/c"), None);
    assert_eq!(run("word(1,/)", "//a//b/c"), Some("a".into()));
    assert_eq!(run("word(-1,/)", "//a//b/c//"), Some("c".into()));
    assert_eq!(run("word(2,/,2)", "//a//b/c"), Some("b/c".into()));
    assert_eq!(run("word(9,/)", "/a"), Some("".into()));
    assert_eq!(
        run("json", "a\"b\\/\n\u{1}é"),
        Some("a\\\"b\\\\\\/\\n\\u0001\\u00c3\\u00a9".into())
    );
    assert_eq!(run("json(utf8)", "é"), Some("\\u00e9".into()));
    assert_eq!(run("cut_crlf", "ab\r\ncd"), Some("ab".into()));
    assert_eq!(run("ltrim(' x')", "x  ab "), Some("ab ".into()));
    assert_eq!(run("rtrim(' ')", "  ab  "), Some("  ab".into()));
    assert_eq!(
        run("host_only", "WWW.Example.com:8080"),
        Some("www.example.com".into())
    );
    assert_eq!(run("host_only", "[::1]"), Some("[::1]".into()));
    assert_eq!(run("port_only", "[::1]:8443"), Some("8443".into()));
    assert_eq!(run("port_only", "example.com"), Some("0".into()));
    assert_eq!(run("url_dec", "a%20b+c?d+e"), Some("a b+c?d e".into()));
    assert_eq!(run("url_dec", "a%2"), None);
    assert_eq!(run("url_enc", "a b/é~"), Some("a%20b%2F%C3%A9~".into()));
}

#[test]
fn binary_and_hash_converters() {
    assert_eq!(run("base64", "hello!?"), Some("aGVsbG8hPw==".into()));
    assert_eq!(run("ub64enc", "hello!?"), Some("aGVsbG8hPw".into()));
    assert_eq!(run("b64dec", "aGVsbG8hPw=="), Some("hello!?".into()));
    assert_eq!(run("b64dec", "aGVsbG8hPw="), None);
    assert_eq!(run("ub64dec", "aGVsbG8hPw"), Some("hello!?".into()));
    assert_eq!(run("hex", "\u{1}AZ"), Some("01415A".into()));
    assert_eq!(run("hex2i", "ff"), Some("255".into()));
    assert_eq!(run("hex2i", "fg"), None);
    assert_eq!(run("crc32", "123456789"), Some("3421780262".into()));
    assert_eq!(run("crc32c", "123456789"), Some("3808858755".into()));
    assert_eq!(run("xxh32", "abc"), Some("852579327".into()));
    let (sha1, hex) = (conv("sha1"), conv("hex"));
    let sha = sha1.apply(Value::str(&b"abc"[..])).unwrap();
    let hex = hex.apply(sha).and_then(Value::into_text).unwrap();
    assert_eq!(&hex[..], b"A9993E364706816ABA3E25717850C26C9CD0D89D");
}

#[test]
fn integer_converters_saturate_as_haproxy() {
    let int = |e: &str, n: i64| eval(e, Value::Sint(n));
    assert_eq!(int("add(1)", i64::MAX), Some(Value::Sint(i64::MAX)));
    assert_eq!(int("sub(1)", i64::MIN), Some(Value::Sint(i64::MIN)));
    assert_eq!(int("mul(-1)", i64::MIN), Some(Value::Sint(i64::MAX)));
    assert_eq!(int("div(0)", 5), Some(Value::Sint(i64::MAX)));
    assert_eq!(int("mod(0)", 5), Some(Value::Sint(0)));
    assert_eq!(int("mod(3)", -7), Some(Value::Sint(-1)));
    assert_eq!(int("neg", i64::MIN), Some(Value::Sint(i64::MAX)));
    assert_eq!(int("and(6)", 3), Some(Value::Sint(2)));
    assert_eq!(int("odd", 3), Some(Value::Bool(true)));
    assert_eq!(int("not", 3), Some(Value::Bool(false)));
    assert_eq!(
        int("htonl", 0x0102_0304),
        Some(Value::Bin(vec![1, 2, 3, 4].into()))
    );
    assert_eq!(
        eval("http_date", Value::Sint(784_111_777)),
        Some(Value::str(&b"Sun, 06 Nov 1994 08:49:37 GMT"[..]))
    );
    assert_eq!(
        eval("http_date(0,ms)", Value::Sint(784_111_777_005)),
        Some(Value::str(&b"Sun, 06 Nov 1994 08:49:37.5 GMT"[..]))
    );
    assert_eq!(
        eval("iif(yes,no)", Value::str(&b"0"[..])),
        Some(Value::str(&b"no"[..]))
    );
    assert_eq!(
        eval("ipmask(24)", Value::str(&b"10.1.2.3"[..])),
        Some(Value::Ipv4(Ipv4Addr::new(10, 1, 2, 0)))
    );
    assert_eq!(eval("ipmask(24)", Value::str(&b"2001:db8::1"[..])), None);
}

#[test]
fn bad_arguments_are_refused_by_name() {
    let err = |name: &str, a: &[&str]| {
        Conv::parse(name, &a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_err()
    };
    assert_eq!(
        err("field", &["0", "/"]),
        "converter 'field': Unexpected value 0 for index"
    );
    assert_eq!(
        err("field", &["1", ""]),
        "converter 'field': Empty separators list"
    );
    assert!(err("bytes", &[]).contains("missing arguments"));
    assert!(err("lower", &["x"]).contains("end of arguments expected"));
    assert!(err("bytes", &["x"]).contains("failed to parse 'x'"));
    assert_eq!(
        err("be2dec", &[",", "1"]),
        "converter 'be2dec' is not supported yet"
    );
    assert!(err("digest", &["md5"]).contains("algorithm 'md5' is not supported yet"));
    assert!(err("concat", &["a", "nosuchscope.x"]).contains("converter 'concat'"));
    assert!(err("regsub", &["a", "b", "x"]).contains("invalid regex flag 'x'"));
    assert_eq!(
        err("lowr", &[]),
        "unknown converter 'lowr'; did you mean 'lower' maybe ?"
    );
    assert!(err("json", &["latin1"]).contains("Allowed value are"));
}

#[test]
fn patterns_pick_as_haproxy_and_refuse_bad_ones() {
    use super::pattern::{Method, PatternSet};
    let mut ips = PatternSet::new(Method::Ip, false);
    for (p, v) in [
        ("10.0.0.0/8", 1),
        ("10.1.0.0/16", 2),
        ("10.0.0.0/255.0.255.0", 3),
    ] {
        ips.add(p, v).unwrap();
    }
    let ip = |s: &str| Value::Ipv4(s.parse().unwrap());
    assert_eq!(ips.lookup(&ip("10.1.9.9")), Some(&2));
    assert_eq!(ips.lookup(&ip("10.9.9.9")), Some(&1));
    assert_eq!(ips.lookup(&ip("11.0.0.0")), None);
    let mut beg = PatternSet::new(Method::Beg, true);
    beg.add("/API", 1).unwrap();
    assert_eq!(beg.lookup(&Value::str(&b"/api/x"[..])), Some(&1));
    let mut ints = PatternSet::<()>::new(Method::Int, false);
    assert_eq!(
        ints.add("5:1", ()),
        Err("'5:1' is not a valid number range".into())
    );
    assert_eq!(ints.add("x", ()), Err("'x' is not a number".into()));
    let mut bad = PatternSet::<()>::new(Method::Ip, false);
    assert!(bad
        .add("10.0.0.1/33", ())
        .unwrap_err()
        .contains("not a valid IPv4"));
    let pats = super::pattern::read_acl_file("# c\n  a b  \n #x\r\n\n");
    assert_eq!(pats, [(2, "a b  "), (3, "#x")]);
    let entries = super::pattern::read_map_file("# c\n  k  v w \r\n\nk2\n");
    assert_eq!(entries, [(2, "k", "v w"), (4, "k2", "")]);
}

/// `int` patterns: single values are hashed, yet the first pattern in the
/// file's order still wins over a range before or after it, and the
/// runtime API is still told they are a list, as HAProxy keeps them.
#[test]
fn int_patterns_hashed_in_file_order() {
    use super::pattern::{Method, PatternSet};
    let mut ints = PatternSet::new(Method::Int, false);
    for (p, v) in [
        ("7", 1),
        ("5:9", 2),
        ("8", 3),
        ("8", 4),
        ("20:", 5),
        ("30", 6),
    ] {
        ints.add(p, v).unwrap();
    }
    for n in 1000..11000 {
        ints.add(&n.to_string(), n).unwrap();
    }
    let at = |s: &PatternSet<i64>, n: i64| s.lookup(&Value::Sint(n)).copied();
    assert_eq!(at(&ints, 7), Some(1));
    assert_eq!(at(&ints, 8), Some(2), "the range comes first");
    assert_eq!(at(&ints, 30), Some(5), "the open range comes first");
    assert_eq!(at(&ints, 4), None);
    assert_eq!(at(&ints, 10_999), Some(5));
    assert_eq!(ints.lookup_how(&Value::Sint(7)), Some((&1, false)));
    ints.retain(|v| *v != 2 && *v != 5);
    assert_eq!(at(&ints, 8), Some(3));
    assert_eq!(at(&ints, 30), Some(6));
    assert_eq!(at(&ints, 10_999), Some(10_999));
}

/// Converters run on whatever the wire brings: random bytes (and random
/// integers and addresses) through every converter must never panic.
#[test]
fn converters_never_panic_on_random_input() {
    let exprs = [
        "lower",
        "upper",
        "length",
        "bytes(3)",
        "bytes(0,2)",
        "bytes(-1,-1)",
        "field(2,/)",
        "field(-2,/.,3)",
        "word(1,/)",
        "word(-3,/,2)",
        "json",
        "json(utf8)",
        "json(utf8s)",
        "json(utf8p)",
        "json(utf8ps)",
        "base64",
        "b64dec",
        "ub64enc",
        "ub64dec",
        "hex",
        "hex2i",
        "crc32(1)",
        "crc32c",
        "djb2",
        "sdbm",
        "wt6",
        "xxh32(7)",
        "xxh64",
        "xxh3",
        "sha1",
        "ipmask(24,64)",
        "add(9223372036854775807)",
        "sub(-9223372036854775808)",
        "mul(-1)",
        "div(-1)",
        "mod(-1)",
        "and(3)",
        "or(3)",
        "xor(3)",
        "cpl",
        "neg",
        "bool",
        "not",
        "odd",
        "even",
        "iif(a,b)",
        "htonl",
        "cut_crlf",
        "ltrim(ab)",
        "rtrim(ab)",
        "host_only",
        "port_only",
        "url_dec",
        "url_dec(1)",
        "url_enc",
        "http_date(5,ms)",
        "http_date(-9223372036854775808,us)",
        "utime(%Y%j)",
        "ltime(%c,-1)",
        "regsub(a*,X,g)",
        "regsub('^|$',-,g)",
    ];
    let chains: Vec<Conv> = exprs.iter().map(|e| conv(e)).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"ab/.,:%+?[]\\\\=-_0123456789fF \r\n\t\0\xc0\xaf\xe0\xff";
    for _ in 0..3000 {
        let len = (next() % 24) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let n = next() as i64;
        let inputs = [
            Value::Str(bytes.clone().into()),
            Value::Bin(bytes.into()),
            Value::Sint(n),
            Value::Bool(n & 1 == 0),
            Value::Ipv4(Ipv4Addr::from(n as u32)),
            Value::Ipv6(std::net::Ipv6Addr::from(u128::from(n as u64) << 64)),
        ];
        for c in &chains {
            for v in &inputs {
                let _ = c.apply(v.clone());
            }
        }
    }
}

#[test]
fn a_map_value_of_the_wrong_type_names_its_file_and_line() {
    let path = std::env::temp_dir().join(format!("pollux-map-{}.map", std::process::id()));
    std::fs::write(&path, "a 1\nb two\n").unwrap();
    let p = path.display().to_string();
    let err = Conv::parse("map_str_int", std::slice::from_ref(&p)).unwrap_err();
    assert!(err.starts_with(&format!("{p}:2: ")), "{err}");
    assert!(Conv::parse("map_str", std::slice::from_ref(&p)).is_ok());
    let _ = std::fs::remove_file(&path);
    let err = Conv::parse("map_ip", &["/nonexistent/x.map".into()]).unwrap_err();
    assert!(
        err.contains("failed to load map file '/nonexistent/x.map'"),
        "{err}"
    );
    assert_eq!(
        Conv::parse("map_bin", &["x".into()]).unwrap_err(),
        "unknown converter 'map_bin'"
    );
}
