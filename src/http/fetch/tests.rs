//! Numeric fetch arguments: HAProxy's limits at parse time, and no
//! arithmetic on them that can overflow at run time, whatever the value.

use super::*;
use crate::http::Version;

fn ctx<'a>(req: Option<&'a Request>, payload: &'a [u8], complete: bool) -> FetchCtx<'a> {
    FetchCtx {
        src: "192.0.2.1:40000".parse().unwrap(),
        dst: "192.0.2.2:80".parse().unwrap(),
        req,
        res: None,
        payload,
        payload_complete: complete,
        vars: None,
        txn: Default::default(),
    }
}

fn hosts() -> Request {
    Request {
        method: "GET".into(),
        uri: "/".into(),
        version: Version::Http11,
        headers: vec![("X".into(), "a, b".into()), ("X".into(), "c".into())],
    }
}

fn values(f: &Fetched) -> Vec<String> {
    f.values.iter().map(|s| to_text(s).into_owned()).collect()
}

#[test]
fn header_occurrence_below_minus_10_is_refused_as_haproxy() {
    for name in ["hdr", "req.hdr", "res.hdr", "shdr", "req.fhdr", "res.fhdr"] {
        for occ in ["-11", "-9223372036854775808", "-99999999999999999999"] {
            let e = Fetch::parse(&format!("{name}(x,{occ})")).unwrap_err();
            assert_eq!(
                e,
                format!("fetch method '{name}': header occurrence must be >= -10"),
                "{name}({occ})"
            );
        }
        assert!(Fetch::parse(&format!("{name}(x,-10)")).is_ok());
        let e = Fetch::parse(&format!("{name}(x,one)")).unwrap_err();
        assert!(e.contains("failed to parse 'one' as type 'integer'"), "{e}");
    }
}

#[test]
fn huge_header_occurrences_saturate_and_pick_nothing() {
    // HAProxy accepts these; they name no existing occurrence.
    let r = hosts();
    for occ in ["9223372036854775807", "99999999999999999999", "4"] {
        let f = Fetch::parse(&format!("hdr(x,{occ})")).unwrap();
        assert_eq!(
            values(&f.fetch_all(&ctx(Some(&r), &[], true))),
            Vec::<String>::new()
        );
    }
    let f = Fetch::parse("hdr(x,-3)").unwrap();
    assert_eq!(values(&f.fetch_all(&ctx(Some(&r), &[], true))), ["a"]);
    let f = Fetch::parse("req.fhdr(x,-1)").unwrap();
    assert_eq!(values(&f.fetch_all(&ctx(Some(&r), &[], true))), ["c"]);
}

#[test]
fn pick_is_total_over_i64() {
    let all = || ["1", "2"].into_iter();
    assert_eq!(pick(all, i64::MIN), None);
    assert_eq!(pick(all, i64::MAX), None);
    assert_eq!(pick(all, 0), None);
    assert_eq!(pick(all, -3), None);
    assert_eq!(pick(all, -2), Some("1"));
    assert_eq!(pick(all, -1), Some("2"));
    assert_eq!(pick(all, 2), Some("2"));
}

#[test]
fn payload_arguments_near_2_pow_64_never_wrap() {
    // Crash 1: the offset sum wrapped and a slice panicked.
    let p = b"SSH-2.0";
    for (args, complete) in [
        ("18446744073709551615,1", false),
        ("18446744073709551615,1", true),
        ("9223372036854775807,9223372036854775807", true),
        ("1,18446744073709551616", true),
        ("9223372036854775807,0", true),
    ] {
        let f = Fetch::parse(&format!("req.payload({args})")).unwrap();
        let got = f.fetch_all(&ctx(None, p, complete));
        assert!(got.values.is_empty(), "req.payload({args})");
        assert_eq!(got.may_change, !complete, "req.payload({args})");
    }
}

#[test]
fn negative_payload_arguments_are_accepted_and_never_match() {
    for args in ["-1,1", "0,-1", "-9223372036854775808,-9223372036854775808"] {
        let f = Fetch::parse(&format!("req.payload({args})")).unwrap();
        let got = f.fetch_all(&ctx(None, b"abcdef", false));
        assert_eq!(got.values, Values::None, "req.payload({args})");
        assert!(!got.may_change, "req.payload({args}): waiting cannot help");
    }
}

#[test]
fn payload_in_range_still_reads_the_bytes() {
    let f = Fetch::parse("req.payload(2,3)").unwrap();
    assert_eq!(
        f.fetch_all(&ctx(None, b"abcdef", false)).values,
        Values::One(Value::Bin(Cow::Borrowed(b"cde")))
    );
    let f = Fetch::parse("req.payload(4,0)").unwrap();
    assert_eq!(
        f.fetch_all(&ctx(None, b"abcdef", false)).values,
        Values::One(Value::Bin(Cow::Borrowed(b"ef")))
    );
    for bad in ["req.payload(abc,1)", "req.payload(1,)", "req.payload(1,2x)"] {
        assert!(Fetch::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn constant_fetches_give_their_argument() {
    let ctx = FetchCtx::http(
        "127.0.0.1:1".parse().unwrap(),
        "127.0.0.1:2".parse().unwrap(),
        None,
        None,
    );
    let one = |e: &str| {
        Fetch::parse(e)
            .unwrap()
            .fetch_one(&ctx)
            .map(Value::into_owned)
    };
    assert_eq!(one("str(a b)"), Some(Value::str(&b"a b"[..])));
    assert_eq!(one("int(-3)"), Some(Value::Sint(-3)));
    assert_eq!(one("bool(TRUE)"), Some(Value::Bool(true)));
    assert_eq!(one("bin(0aFF)"), Some(Value::Bin(vec![10, 255].into())));
    assert_eq!(
        one("ipv4(10.0.0.1)"),
        Some(Value::Ipv4("10.0.0.1".parse().unwrap()))
    );
    // HAProxy 2.6 takes `str()` as the empty string (`%[str()]` logs `-`).
    assert_eq!(one("str()"), Some(Value::str(Vec::new())));
    for bad in [
        "int(x)",
        "bool(yes)",
        "bin(abc)",
        "ipv4(::1)",
        "str",
        "int()",
    ] {
        assert!(Fetch::parse(bad).is_err(), "{bad} accepted");
    }
}
