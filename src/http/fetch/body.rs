//! Fetches on the request body waited for by `option http-buffer-request`
//! or `http-request wait-for-body` (manual §7.3.6): `req.body`,
//! `req.body_len`, `req.body_size`, `req.body_param`; and HAProxy's
//! parameter finder, shared with `url_param`. The body is read where it
//! sits, in the client's input buffer behind the head: a `Content-Length`
//! body is borrowed as is, a chunked one is de-chunked only when a fetch
//! needs its bytes together.

use super::{want_args, FetchCtx, Fetched, Kind, Values};
use crate::http::body::Framing;
use crate::sample::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Data,
    Len,
    Size,
    /// `req.body_param([NAME])`: no name, every parameter.
    Param(String),
}

pub fn parse(name: &str, a: &[&str]) -> Option<Result<Body, String>> {
    let r = match name {
        "req.body" => want_args(name, a, 0, 0).map(|()| Body::Data),
        "req.body_len" => want_args(name, a, 0, 0).map(|()| Body::Len),
        "req.body_size" => want_args(name, a, 0, 0).map(|()| Body::Size),
        "req.body_param" => {
            want_args(name, a, 0, 1).map(|()| Body::Param(a.first().unwrap_or(&"").to_string()))
        }
        _ => return None,
    };
    Some(r)
}

/// The request body as far as it has arrived: the bytes behind the head
/// in the client's input, framed as the head said.
#[derive(Debug, Clone, Copy)]
pub struct ReqBody<'a> {
    pub raw: &'a [u8],
    pub framing: Framing,
    /// No more bytes will come for now: the buffer is full (HAProxy's
    /// `tune.bufsize` less `tune.maxrewrite`, head included) or the client
    /// closed.
    pub stalled: bool,
}

/// What has arrived of a body: its data length, whether it is all there,
/// and the size it announces (HAProxy's `htx->extra`: a Content-Length's
/// rest, or the rest of the chunk being received).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrived {
    pub len: u64,
    pub complete: bool,
    pub size: u64,
}

impl<'a> ReqBody<'a> {
    pub fn arrived(&self) -> Arrived {
        match self.framing {
            Framing::None => Arrived {
                len: 0,
                complete: true,
                size: 0,
            },
            Framing::Length(n) => {
                let len = n.min(self.raw.len() as u64);
                Arrived {
                    len,
                    complete: len == n,
                    size: n,
                }
            }
            // Requests are never close-delimited; kept total for safety.
            Framing::UntilClose => Arrived {
                len: self.raw.len() as u64,
                complete: self.stalled,
                size: self.raw.len() as u64,
            },
            Framing::Chunked => {
                let mut len = 0u64;
                let (complete, rest) = chunks(self.raw, |d| len += d.len() as u64);
                Arrived {
                    len,
                    complete,
                    size: len + rest,
                }
            }
        }
    }

    /// Enough to stop waiting: all of it, a stalled buffer, or `at_least`
    /// bytes of data when that is set (`wait-for-body ... at-least N`).
    pub fn enough(&self, at_least: u64) -> bool {
        let a = self.arrived();
        a.complete || self.stalled || (at_least > 0 && a.len >= at_least)
    }

    /// The data, de-chunked (a copy only for a chunked body).
    pub fn data(&self) -> Cow<'a, [u8]> {
        match self.framing {
            Framing::None => Cow::Borrowed(&[]),
            Framing::Length(n) => Cow::Borrowed(&self.raw[..n.min(self.raw.len() as u64) as usize]),
            Framing::UntilClose => Cow::Borrowed(self.raw),
            Framing::Chunked => {
                let mut out = Vec::new();
                chunks(self.raw, |d| out.extend_from_slice(d));
                Cow::Owned(out)
            }
        }
    }
}

/// Walks the chunks of a chunked body received so far, giving `f` each
/// piece of data (a chunk cut short by the end of the bytes too). Returns
/// whether the body is complete (last chunk and trailers) and how many
/// bytes of the chunk being received are still to come. Framing errors
/// stop the walk: the body tracker refuses them when the body is sent.
fn chunks(raw: &[u8], mut f: impl FnMut(&[u8])) -> (bool, u64) {
    let mut at = 0;
    loop {
        let Some(eol) = find_lf(raw, at) else {
            return (false, 0);
        };
        let line = &raw[at..eol];
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 {
            return (false, 0);
        }
        let Some(size) = line[..digits]
            .iter()
            .try_fold(0u64, |v, &b| v.checked_mul(16)?.checked_add(hex(b)))
        else {
            return (false, 0);
        };
        at = eol + 1;
        if size == 0 {
            // Trailers: header lines up to an empty one.
            loop {
                let Some(eol) = find_lf(raw, at) else {
                    return (false, 0);
                };
                let empty = eol == at || (eol == at + 1 && raw[at] == b'\r');
                at = eol + 1;
                if empty {
                    return (true, 0);
                }
            }
        }
        let have = (raw.len() - at) as u64;
        if have < size {
            f(&raw[at..]);
            return (false, size - have);
        }
        let end = at + size as usize;
        f(&raw[at..end]);
        // The CRLF after the data.
        at = end;
        match raw.get(at..) {
            Some([b'\r', b'\n', ..]) => at += 2,
            Some([b'\n', ..]) => at += 1,
            Some([] | [b'\r']) => return (false, 0),
            _ => return (false, 0),
        }
    }
}

fn find_lf(raw: &[u8], from: usize) -> Option<usize> {
    raw.get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| from + i)
}

fn hex(b: u8) -> u64 {
    u64::from(match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    })
}

/// HAProxy's parameter delimiters: `&`, `;` and the fetch's own.
fn is_delim(c: u8, delim: u8) -> bool {
    c == b'&' || c == b';' || c == delim
}

/// Values of parameter `name` in `list` (`a=1&b=2`), in order, as
/// HAProxy's `http_find_next_url_param`: a parameter counts only with its
/// `=`; an empty name takes the value after each next `=`.
pub fn params<'a>(list: &'a [u8], name: &'a [u8], delim: u8) -> impl Iterator<Item = &'a [u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let start = if name.is_empty() {
            pos + list.get(pos..)?.iter().position(|&b| b == b'=')? + 1
        } else {
            let mut p = pos;
            loop {
                let eq = p + name.len();
                if eq >= list.len() {
                    return None;
                }
                if list[eq] == b'=' && &list[p..eq] == name {
                    break eq + 1;
                }
                while p < list.len() && !is_delim(list[p], delim) {
                    p += 1;
                }
                p += 1;
            }
        };
        let end = start
            + list[start..]
                .iter()
                .position(|&b| is_delim(b, delim))
                .unwrap_or(list.len() - start);
        pos = end;
        Some(&list[start..end])
    })
}

impl Body {
    pub fn kind(&self) -> Kind {
        match self {
            Body::Data | Body::Param(_) => Kind::Bin,
            Body::Len | Body::Size => Kind::Int,
        }
    }

    pub fn fetch<'a>(&'a self, ctx: &FetchCtx<'a>, one: bool) -> Fetched<'a> {
        // Outside an HTTP request (no body known): no sample, as HAProxy
        // without a message.
        let Some(b) = ctx.txn.body else {
            return Fetched::none();
        };
        match self {
            Body::Data => Fetched::one(Value::Bin(b.data())),
            Body::Len => Fetched::one(Value::Sint(b.arrived().len as i64)),
            Body::Size => Fetched::one(Value::Sint(b.arrived().size as i64)),
            Body::Param(name) => {
                let as_str = |v: Cow<'a, [u8]>| Value::Str(v);
                match b.data() {
                    Cow::Borrowed(d) => {
                        let mut all = params(d, name.as_bytes(), b'&');
                        if one {
                            return all.next().map_or_else(Fetched::none, |v| {
                                Fetched::one(as_str(Cow::Borrowed(v)))
                            });
                        }
                        Fetched::some(all.map(|v| as_str(Cow::Borrowed(v))).collect())
                    }
                    Cow::Owned(d) => {
                        let all = params(&d, name.as_bytes(), b'&');
                        let mut vals: Values<'a> = Values::None;
                        for v in all {
                            vals.push(as_str(Cow::Owned(v.to_vec())));
                            if one {
                                break;
                            }
                        }
                        Fetched::some(vals)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(raw: &[u8], framing: Framing) -> ReqBody<'_> {
        ReqBody {
            raw,
            framing,
            stalled: false,
        }
    }

    #[test]
    fn a_length_body_is_borrowed_up_to_its_length() {
        let b = body(b"hello, next", Framing::Length(5));
        assert_eq!(&*b.data(), b"hello");
        let a = b.arrived();
        assert_eq!((a.len, a.complete, a.size), (5, true, 5));
        let b = body(b"hel", Framing::Length(5));
        let a = b.arrived();
        assert_eq!((a.len, a.complete, a.size), (3, false, 5));
        assert!(!b.enough(0));
        assert!(b.enough(3));
        assert!(!b.enough(4));
    }

    #[test]
    fn a_chunked_body_is_dechunked_and_sized_as_haproxy() {
        let raw = b"3\r\nabc\r\n5;ext=1\r\n12";
        let b = body(raw, Framing::Chunked);
        assert_eq!(&*b.data(), b"abc12");
        let a = b.arrived();
        // 3 bytes of the second chunk still to come.
        assert_eq!((a.len, a.complete, a.size), (5, false, 8));
        let raw = b"1\r\n1\r\n1\r\n1\r\n0\r\nX-T: 1\r\n\r\n";
        let a = body(raw, Framing::Chunked).arrived();
        assert_eq!((a.len, a.complete), (2, true));
        // The last CRLF missing: not complete (reg-test http_request_buffer).
        let a = body(b"1\r\n1\r\n1\r\n1\r\n0\r\n", Framing::Chunked).arrived();
        assert_eq!((a.len, a.complete), (2, false));
        // Garbage stops the walk, without a panic.
        let a = body(b"zz\r\nabc", Framing::Chunked).arrived();
        assert_eq!((a.len, a.complete), (0, false));
        let a = body(b"ffffffffffffffffff\r\n", Framing::Chunked).arrived();
        assert_eq!((a.len, a.complete), (0, false));
    }

    #[test]
    fn parameters_are_found_as_haproxy_finds_them() {
        let all = |l: &'static str, n: &'static str| {
            params(l.as_bytes(), n.as_bytes(), b'&')
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("a=1&b=2;b=3", "b"), ["2", "3"]);
        assert_eq!(all("a=1&b=2", "a"), ["1"]);
        // A bare name is no parameter; a name is matched whole.
        assert!(all("b&ab=1", "b").is_empty());
        assert_eq!(all("user=x&pass=", "pass"), [""]);
        // No name: each value after an '='.
        assert_eq!(all("x&a=1&b=2", ""), ["1", "2"]);
        assert!(all("", "a").is_empty());
        assert!(all("a", "a").is_empty());
    }
}
