//! Fetches on a TLS ClientHello passing through, not terminated
//! (`tcp-request content`, manual §7.3.5): `req.ssl_hello_type`,
//! `req.ssl_sni`, `req.ssl_alpn` — SNI routing of TLS that pollux only
//! forwards. Like HAProxy, the hello must sit whole in the first record;
//! until its bytes are there the answer may change (rules wait up to
//! `inspect-delay`), and anything else is no sample.

use super::{want_args, FetchCtx, Fetched, Kind, Values};
use crate::sample::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hello {
    Type,
    Sni,
    Alpn,
}

pub fn parse(name: &str, a: &[&str]) -> Option<Result<Hello, String>> {
    let h = match name {
        "req.ssl_hello_type" | "req_ssl_hello_type" => Hello::Type,
        "req.ssl_sni" | "req_ssl_sni" => Hello::Sni,
        "req.ssl_alpn" => Hello::Alpn,
        _ => return None,
    };
    Some(want_args(name, a, 0, 0).map(|()| h))
}

/// Why there is no ClientHello to read.
#[derive(Debug, PartialEq, Eq)]
enum No {
    /// More bytes may make one.
    Short,
    /// These bytes are not one.
    Not,
}

/// A big-endian number of `n` bytes at `at`.
fn be(d: &[u8], at: usize, n: usize) -> Option<usize> {
    let b = d.get(at..at + n)?;
    Some(b.iter().fold(0, |v, &x| (v << 8) | usize::from(x)))
}

/// The handshake type of the first record's handshake message, once the
/// whole message is there (`req.ssl_hello_type`).
fn hello_type(d: &[u8]) -> Result<u8, No> {
    let first = *d.first().ok_or(No::Short)?;
    if !(0x14..=0x17).contains(&first) && first != 0xff {
        return Err(No::Not);
    }
    if d.len() < 9 {
        return Err(No::Short);
    }
    // SSLv3 or later, a record long enough for a handshake header.
    if (usize::from(d[1]) << 16) + usize::from(d[2]) < 0x0003_0000 || be(d, 3, 2) < Some(4) {
        return Err(No::Not);
    }
    let len = be(d, 6, 3).ok_or(No::Short)?;
    if d.len() < 9 + len {
        return Err(No::Short);
    }
    Ok(d[5])
}

/// The extensions block of a ClientHello at the start of `d`.
fn extensions(d: &[u8]) -> Result<&[u8], No> {
    if d.is_empty() {
        return Err(No::Short);
    }
    if d[0] != 0x16 {
        return Err(No::Not);
    }
    if d.len() < 3 {
        return Err(No::Short);
    }
    if d[1] < 3 {
        return Err(No::Not);
    }
    if d.len() < 9 {
        return Err(No::Short);
    }
    // Too short to hold any extension (HAProxy's bound).
    const MIN: usize = 2 + 32 + 1 + 2 + 2 + 1 + 1 + 2 + 2;
    if be(d, 3, 2).unwrap_or(0) < 4 + MIN || d[5] != 0x01 {
        return Err(No::Not);
    }
    let len = be(d, 6, 3).unwrap_or(0);
    if len < MIN {
        return Err(No::Not);
    }
    let Some(h) = d.get(9..9 + len) else {
        return Err(No::Short);
    };
    // client_version (TLS 1.0 at least), random, session id.
    if h[0] < 3 || h[1] < 1 {
        return Err(No::Not);
    }
    let sid = usize::from(h[34]);
    if sid > 32 {
        return Err(No::Not);
    }
    let mut at = 35 + sid;
    let suites = be(h, at, 2).ok_or(No::Not)?;
    if suites < 2 {
        return Err(No::Not);
    }
    at += 2 + suites;
    let comp = usize::from(*h.get(at).ok_or(No::Not)?);
    if comp < 1 {
        return Err(No::Not);
    }
    at += 1 + comp;
    let ext = be(h, at, 2).ok_or(No::Not)?;
    h.get(at + 2..at + 2 + ext).ok_or(No::Not)
}

/// The body of extension `ty`.
fn extension(mut e: &[u8], ty: usize) -> Option<&[u8]> {
    while e.len() >= 4 {
        let (t, len) = (be(e, 0, 2)?, be(e, 2, 2)?);
        let body = e.get(4..4 + len)?;
        if t == ty {
            return Some(body);
        }
        e = &e[4 + len..];
    }
    None
}

/// The host name of a server_name extension (RFC 6066 §3).
fn sni(body: &[u8]) -> Option<&[u8]> {
    let list = be(body, 0, 2)?;
    if list < 4 || list + 2 > body.len() {
        return None;
    }
    (body.get(2) == Some(&0)).then_some(())?;
    let n = be(body, 3, 2)?;
    body.get(5..5 + n)
}

/// The protocol names of an ALPN extension (RFC 7301 §3.1), in order.
fn alpn(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let Some(list) = be(body, 0, 2).and_then(|n| body.get(2..2 + n)) else {
        return out;
    };
    let mut l = list;
    while let Some((&n, rest)) = l.split_first() {
        let Some(name) = rest.get(..usize::from(n)) else {
            break;
        };
        out.push(name);
        l = &rest[usize::from(n)..];
    }
    out
}

impl Hello {
    pub fn kind(&self) -> Kind {
        match self {
            Hello::Type => Kind::Int,
            _ => Kind::Str,
        }
    }

    /// `one`: the one value a log-format or action uses (ALPN: the
    /// client's first choice); else every value an ACL tries.
    pub fn fetch<'a>(&self, ctx: &FetchCtx<'a>, one: bool) -> Fetched<'a> {
        let d = ctx.payload;
        let no = |why: No| Fetched {
            values: Values::None,
            may_change: why == No::Short && !ctx.payload_complete,
        };
        let ext = match self {
            Hello::Type => {
                return match hello_type(d) {
                    Ok(t) => Fetched::one(Value::Sint(t.into())),
                    Err(e) => no(e),
                }
            }
            _ => match extensions(d) {
                Ok(e) => e,
                Err(e) => return no(e),
            },
        };
        let text = |b: &'a [u8]| Value::Str(Cow::Borrowed(b));
        match self {
            Hello::Sni => extension(ext, 0)
                .and_then(sni)
                .map_or_else(Fetched::none, |n| Fetched::one(text(n))),
            _ => {
                let names = extension(ext, 16).map(alpn).unwrap_or_default();
                match names.as_slice() {
                    [] => Fetched::none(),
                    [first, ..] if one => Fetched::one(text(first)),
                    _ => Fetched::some(names.into_iter().map(text).collect()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.2 record holding a ClientHello with SNI `a.test` and ALPN
    /// `h2`, `http/1.1`.
    fn hello() -> Vec<u8> {
        let sni = [&[0, 0][..], &[0, 11, 0, 9, 0, 0, 6], b"a.test"].concat();
        let alpn = [&[0, 16][..], &[0, 14, 0, 12, 2], b"h2", &[8], b"http/1.1"].concat();
        let exts = [sni, alpn].concat();
        let mut body = vec![3, 3];
        body.extend([7u8; 32]);
        body.push(0); // no session id
        body.extend([0, 2, 0x13, 0x01]); // one suite
        body.extend([1, 0]); // null compression
        body.extend((exts.len() as u16).to_be_bytes());
        body.extend(exts);
        let mut hs = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
        hs.extend(body);
        let mut rec = vec![0x16, 3, 1, (hs.len() >> 8) as u8, hs.len() as u8];
        rec.extend(hs);
        rec
    }

    #[test]
    fn a_client_hello_gives_its_type_sni_and_alpn() {
        let h = hello();
        assert_eq!(hello_type(&h), Ok(1));
        let e = extensions(&h).unwrap();
        assert_eq!(extension(e, 0).and_then(sni), Some(&b"a.test"[..]));
        assert_eq!(alpn(extension(e, 16).unwrap()), [&b"h2"[..], b"http/1.1"]);
    }

    #[test]
    fn every_cut_is_short_and_garbage_is_not_a_hello() {
        let h = hello();
        for cut in 0..h.len() {
            assert_eq!(extensions(&h[..cut]).err(), Some(No::Short), "cut at {cut}");
            assert_eq!(hello_type(&h[..cut]).err(), Some(No::Short), "cut at {cut}");
        }
        assert_eq!(extensions(b"GET / HTTP/1.1\r\n").err(), Some(No::Not));
        assert_eq!(hello_type(b"GET / HTTP/1.1\r\n").err(), Some(No::Not));
        // Every single-byte corruption parses or is refused, never panics.
        for i in 0..h.len() {
            let mut bad = h.clone();
            bad[i] ^= 0xff;
            let _ = extensions(&bad)
                .map(|e| (extension(e, 0).and_then(sni), extension(e, 16).map(alpn)));
            let _ = hello_type(&bad);
        }
    }
}
