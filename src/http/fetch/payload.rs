//! More fetches on the raw request bytes of `tcp-request content` (manual
//! §7.3.5): `req.proto_http`, `req.payload_lv`, `req.rdp_cookie` and
//! `req.rdp_cookie_cnt`. Each says when waiting for more bytes could change
//! its answer, so that rules wait (up to `inspect-delay`) instead of
//! deciding on half a message.

use super::{int_arg, want_args, FetchCtx, Fetched, Kind, Values};
use crate::http::parser::HeadParser;
use crate::sample::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buf {
    ProtoHttp,
    /// `req.payload_lv(OFFSET1,LENGTH[,OFFSET2])`: a big-endian length of
    /// LENGTH bytes at OFFSET1, then that many bytes at OFFSET2 (absolute,
    /// or relative to the end of the length with a sign).
    PayloadLv {
        len_at: u64,
        len_size: u64,
        data_at: Option<(bool, i64)>,
    },
    /// `req.rdp_cookie([NAME])`; `cnt`: 1 or 0 for found or not.
    RdpCookie {
        name: Option<String>,
        cnt: bool,
    },
}

/// The largest body a payload fetch looks at: HAProxy's default
/// `tune.bufsize`, beyond which `payload_lv` never matches.
const MAX: u64 = 16384;

pub fn parse(name: &str, a: &[&str]) -> Option<Result<Buf, String>> {
    let r = match name {
        "req.proto_http" | "req_proto_http" => want_args(name, a, 0, 0).map(|()| Buf::ProtoHttp),
        "req.payload_lv" | "payload_lv" => payload_lv(name, a),
        "req.rdp_cookie" | "rdp_cookie" | "req.rdp_cookie_cnt" | "rdp_cookie_cnt" => {
            want_args(name, a, 0, 1).map(|()| Buf::RdpCookie {
                name: a.first().filter(|n| !n.is_empty()).map(|n| n.to_string()),
                cnt: name.ends_with("_cnt"),
            })
        }
        _ => return None,
    };
    Some(r)
}

fn payload_lv(name: &str, a: &[&str]) -> Result<Buf, String> {
    want_args(name, a, 2, 3)?;
    let off = int_arg(name, 1, a[0])?;
    let len = int_arg(name, 2, a[1])?;
    if off < 0 {
        return Err(format!(
            "fetch method '{name}': payload offset1 must be positive"
        ));
    }
    if len == 0 {
        return Err(format!("fetch method '{name}': payload length must be > 0"));
    }
    let data_at = match a.get(2).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            let relative = s.starts_with(['+', '-']);
            let n = int_arg(name, 3, s)
                .map_err(|_| format!("fetch method '{name}': payload offset2 is not a number"))?;
            if off.saturating_add(len).saturating_add(n) < 0 {
                return Err(format!(
                    "fetch method '{name}': payload offset2 too negative"
                ));
            }
            Some((relative, n))
        }
    };
    // A length wider than 8 bytes or past any buffer can never match.
    Ok(Buf::PayloadLv {
        len_at: off as u64,
        len_size: len.clamp(0, 64) as u64,
        data_at,
    })
}

impl Buf {
    pub fn kind(&self) -> Kind {
        match self {
            Buf::ProtoHttp => Kind::Bool,
            Buf::PayloadLv { .. } => Kind::Bin,
            Buf::RdpCookie { cnt: true, .. } => Kind::Int,
            Buf::RdpCookie { cnt: false, .. } => Kind::Str,
        }
    }

    pub fn fetch<'a>(&self, ctx: &FetchCtx<'a>) -> Fetched<'a> {
        let wait = || Fetched {
            values: Values::None,
            may_change: !ctx.payload_complete,
        };
        match self {
            Buf::ProtoHttp => {
                // HTTP rules: the request was parsed as HTTP already.
                if ctx.req.is_some() {
                    return Fetched::one(Value::Bool(true));
                }
                let mut p = HeadParser::new(MAX as usize);
                match p.parse_request(ctx.payload) {
                    Ok(Some(_)) => Fetched::one(Value::Bool(true)),
                    Ok(None) => wait(),
                    Err(_) => Fetched::none(),
                }
            }
            Buf::PayloadLv {
                len_at,
                len_size,
                data_at,
            } => {
                let d = ctx.payload;
                let len_end = len_at + len_size;
                if len_end > d.len() as u64 {
                    return wait();
                }
                let mut size: u64 = 0;
                for &b in &d[*len_at as usize..len_end as usize] {
                    size = (size << 8) | u64::from(b);
                }
                let start = match data_at {
                    None => len_end as i64,
                    Some((true, n)) => (len_end as i64).saturating_add(*n),
                    Some((false, n)) => *n,
                };
                if size == 0 || size > MAX || start < 0 || start as u64 + size > MAX {
                    return Fetched::none();
                }
                let (start, end) = (start as usize, start as usize + size as usize);
                if end > d.len() {
                    return wait();
                }
                Fetched::one(Value::Bin(Cow::Borrowed(&d[start..end])))
            }
            Buf::RdpCookie { name, cnt } => match rdp_cookie(ctx.payload, name.as_deref()) {
                Rdp::Found(_) if *cnt => Fetched::one(Value::Sint(1)),
                Rdp::Found(v) => Fetched::one(Value::Str(Cow::Borrowed(v))),
                Rdp::TooShort if !ctx.payload_complete => wait(),
                _ if *cnt => Fetched::one(Value::Sint(0)),
                _ => Fetched::none(),
            },
        }
    }
}

enum Rdp<'a> {
    Found(&'a [u8]),
    TooShort,
    NotCookie,
}

/// The cookie line of an RDP connection request: after the 11-byte
/// TPKT/X.224 header, `Cookie: NAME=VALUE\r\n`; the name is compared
/// ignoring case, any name when none is given.
fn rdp_cookie<'a>(d: &'a [u8], name: Option<&str>) -> Rdp<'a> {
    if d.len() <= 18 {
        return Rdp::TooShort;
    }
    let mut rest = &d[11..];
    if !rest[..7].eq_ignore_ascii_case(b"Cookie:") {
        return Rdp::NotCookie;
    }
    rest = &rest[7..];
    while let [b' ', tail @ ..] = rest {
        rest = tail;
    }
    match name {
        Some(n) => {
            let n = n.as_bytes();
            if rest.len() <= n.len() {
                return Rdp::TooShort;
            }
            if rest[n.len()] != b'=' || !rest[..n.len()].eq_ignore_ascii_case(n) {
                return Rdp::NotCookie;
            }
            rest = &rest[n.len() + 1..];
        }
        None => {
            let Some(eq) = rest.iter().position(|&c| matches!(c, b'=' | b'\r' | b'\n')) else {
                return Rdp::TooShort;
            };
            if rest[eq] != b'=' {
                return Rdp::NotCookie;
            }
            rest = &rest[eq + 1..];
        }
    }
    let Some(cr) = rest.iter().position(|&c| c == b'\r') else {
        return Rdp::TooShort;
    };
    match rest.get(cr + 1) {
        None => Rdp::TooShort,
        Some(b'\n') => Rdp::Found(&rest[..cr]),
        Some(_) => Rdp::NotCookie,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(payload: &[u8], complete: bool) -> FetchCtx<'_> {
        FetchCtx {
            src: "192.0.2.1:40000".parse().unwrap(),
            dst: "192.0.2.2:80".parse().unwrap(),
            req: None,
            res: None,
            payload,
            payload_complete: complete,
            vars: None,
            txn: Default::default(),
        }
    }

    fn rdp(payload: &[u8]) -> Vec<u8> {
        let mut d = b"\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00".to_vec();
        d.extend_from_slice(payload);
        d
    }

    #[test]
    fn rdp_cookie_by_name_or_any() {
        let d = rdp(b"Cookie: mstshash=alice\r\n\x01\x00");
        let named = Buf::RdpCookie {
            name: Some("MSTSHASH".into()),
            cnt: false,
        };
        assert_eq!(
            named.fetch(&ctx(&d, true)).values.as_slice(),
            [Value::str(&b"alice"[..])]
        );
        let any = Buf::RdpCookie {
            name: None,
            cnt: true,
        };
        assert_eq!(
            any.fetch(&ctx(&d, true)).values.as_slice(),
            [Value::Sint(1)]
        );
        let other = Buf::RdpCookie {
            name: Some("x".into()),
            cnt: true,
        };
        assert_eq!(
            other.fetch(&ctx(&d, true)).values.as_slice(),
            [Value::Sint(0)]
        );
        // Cut before the CRLF: wait for more, unless no more can come.
        let cut = rdp(b"Cookie: mstshash=ali");
        assert!(named.fetch(&ctx(&cut, false)).may_change);
        assert!(named.fetch(&ctx(&cut, true)).values.is_empty());
    }

    #[test]
    fn payload_lv_absolute_relative_and_waiting() {
        let lv = parse("req.payload_lv", &["0", "2"]).unwrap().unwrap();
        let d = b"\x00\x03abcdef";
        assert_eq!(
            lv.fetch(&ctx(d, true)).values.as_slice(),
            [Value::Bin(Cow::Borrowed(b"abc"))]
        );
        assert!(lv.fetch(&ctx(b"\x00\x09abc", false)).may_change);
        let rel = parse("req.payload_lv", &["0", "1", "+1"]).unwrap().unwrap();
        assert_eq!(
            rel.fetch(&ctx(b"\x02xyz", true)).values.as_slice(),
            [Value::Bin(Cow::Borrowed(b"yz"))]
        );
        let abs = parse("req.payload_lv", &["0", "1", "3"]).unwrap().unwrap();
        assert_eq!(
            abs.fetch(&ctx(b"\x01xyz", true)).values.as_slice(),
            [Value::Bin(Cow::Borrowed(b"z"))]
        );
        // A zero length never matches; nor does one past any buffer.
        assert!(lv.fetch(&ctx(b"\x00\x00abc", false)).values.is_empty());
        assert!(!lv.fetch(&ctx(b"\xff\xffabc", false)).may_change);
        for bad in [
            &["-1", "2"][..],
            &["0", "0"],
            &["0", "1", "x"],
            &["0", "1", "-5"],
        ] {
            assert!(parse("req.payload_lv", bad).unwrap().is_err(), "{bad:?}");
        }
        // Huge arguments: no overflow.
        let big = parse(
            "req.payload_lv",
            &["9223372036854775807", "9223372036854775807"],
        );
        assert!(big
            .unwrap()
            .unwrap()
            .fetch(&ctx(b"abc", true))
            .values
            .is_empty());
    }

    #[test]
    fn proto_http_waits_for_a_whole_head() {
        let f = Buf::ProtoHttp;
        assert_eq!(
            f.fetch(&ctx(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false))
                .values
                .as_slice(),
            [Value::Bool(true)]
        );
        assert!(f.fetch(&ctx(b"GET / HTTP/1.1\r\nHo", false)).may_change);
        let ssh = f.fetch(&ctx(b"SSH-2.0-OpenSSH\r\n", false));
        assert!(ssh.values.is_empty() && !ssh.may_change);
    }
}
