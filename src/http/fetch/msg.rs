//! More fetches on the HTTP heads (manual §7.3.6), HAProxy 2.6's way:
//! `pathq`, `baseq`, `base32`, `url32` and their `+src` forms, `req.ver`,
//! `res.ver`, `req.hdrs`, `req.hdr_names`, and the typed forms of value
//! fetches (`hdr_ip`, `hdr_val`, `cook_val`, `urlp_val`, `res.cook_cnt`...),
//! which read through the plain fetch they type.

use super::{owned_text, text, Dir, Fetch, FetchCtx, Fetched, Kind};
use crate::http::auth::{self, Credentials, UserlistRef};
use crate::http::message::{Headers, Request};
use crate::http::Version;
use crate::sample::{hash, Value};
use std::borrow::Cow;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// The path with its query string.
    PathQ,
    /// `baseq`: `base` with the query string.
    BaseQ,
    /// `base32` (false) and `url32` (true), with the source address after
    /// the hash in their `+src` forms.
    Hash32 {
        url: bool,
        src: bool,
    },
    Ver(Dir),
    Hdrs(Dir),
    HdrNames(Dir, char),
    /// The first plain fetch's values as addresses (`hdr_ip`).
    AsIp(Box<Fetch>),
    /// ... as integers, parsed as HAProxy's `strl2ic` (`hdr_val`,
    /// `cook_val`, `urlp_val`).
    AsInt(Box<Fetch>),
    /// ... counted (`res.cook_cnt`).
    Count(Box<Fetch>),
    /// `http_auth(L)`: Basic credentials valid in userlist L.
    Auth(UserlistRef),
    /// `http_auth_group(L)`: the authenticated user's name as a sample; for
    /// ACLs, the user's groups, so that `http_auth_group(L) G1 G2` matches
    /// a member of G1 or G2 (HAProxy matches groups for this fetch).
    AuthGroup(UserlistRef),
    AuthType,
    AuthUser,
    AuthPass,
    /// `http_auth_bearer([HEADER])`.
    AuthBearer(Option<String>),
    /// `url_ip` / `url_port`: the IPv4 address and port of an
    /// absolute-form `http://` or `https://` target.
    UrlIp,
    UrlPort,
    /// `fe_name`, `be_name` (the frontend's before a backend is chosen, as
    /// HAProxy), `http_first_req`: what the transaction knows.
    FeName,
    BeName,
    FirstReq,
}

/// `Some` when `name` is one of these fetches; `plain` parses the fetch a
/// typed form reads through.
pub fn parse(
    name: &str,
    a: &[&str],
    plain: impl Fn(&str) -> Result<Fetch, String>,
) -> Option<Result<Msg, String>> {
    let no_arg = |m: Msg| super::want_args(name, a, 0, 0).map(|()| m);
    let dir = if name.starts_with("res") || name.starts_with("resp") {
        Dir::Res
    } else {
        Dir::Req
    };
    // The typed forms take the plain fetch's arguments, checked by it.
    let inner = |base: &str| {
        let call = if a.is_empty() {
            base.to_string()
        } else {
            format!("{base}({})", a.join(","))
        };
        plain(&call)
            .map(Box::new)
            .map_err(|e| e.replacen(&format!("'{base}'"), &format!("'{name}'"), 1))
    };
    let r = match name {
        "pathq" => no_arg(Msg::PathQ),
        "baseq" => no_arg(Msg::BaseQ),
        "base32" => no_arg(Msg::Hash32 {
            url: false,
            src: false,
        }),
        "base32+src" => no_arg(Msg::Hash32 {
            url: false,
            src: true,
        }),
        "url32" => no_arg(Msg::Hash32 {
            url: true,
            src: false,
        }),
        "url32+src" => no_arg(Msg::Hash32 {
            url: true,
            src: true,
        }),
        "req.ver" | "req_ver" | "res.ver" | "resp_ver" => no_arg(Msg::Ver(dir)),
        "req.hdrs" | "res.hdrs" => no_arg(Msg::Hdrs(dir)),
        "req.hdr_names" | "res.hdr_names" => {
            super::want_args(name, a, 0, 1).and_then(|()| match a.first() {
                None => Ok(Msg::HdrNames(dir, ',')),
                Some(d) => d
                    .chars()
                    .next()
                    .map(|c| Msg::HdrNames(dir, c))
                    .ok_or_else(|| format!("fetch method '{name}': empty delimiter")),
            })
        }
        "hdr_ip" | "req.hdr_ip" => inner("req.hdr").map(Msg::AsIp),
        "res.hdr_ip" | "shdr_ip" => inner("res.hdr").map(Msg::AsIp),
        "hdr_val" | "req.hdr_val" => inner("req.hdr").map(Msg::AsInt),
        "res.hdr_val" | "shdr_val" => inner("res.hdr").map(Msg::AsInt),
        "cook_val" | "req.cook_val" => inner("req.cook").map(Msg::AsInt),
        "res.cook_val" | "scook_val" => inner("res.cook").map(Msg::AsInt),
        "res.cook_cnt" | "scook_cnt" => inner("res.cook").map(Msg::Count),
        "urlp_val" => inner("url_param").map(Msg::AsInt),
        "http_auth" | "http_auth_group" => super::want_args(name, a, 1, 1).map(|()| {
            let l = auth::reference(a[0]);
            if name == "http_auth" {
                Msg::Auth(l)
            } else {
                Msg::AuthGroup(l)
            }
        }),
        "url_ip" => no_arg(Msg::UrlIp),
        "fe_name" => no_arg(Msg::FeName),
        "be_name" => no_arg(Msg::BeName),
        "http_first_req" => no_arg(Msg::FirstReq),
        "url_port" => no_arg(Msg::UrlPort),
        "http_auth_type" => no_arg(Msg::AuthType),
        "http_auth_user" => no_arg(Msg::AuthUser),
        "http_auth_pass" => no_arg(Msg::AuthPass),
        "http_auth_bearer" => super::want_args(name, a, 0, 1)
            .map(|()| Msg::AuthBearer(a.first().map(|h| h.to_string()))),
        _ => return None,
    };
    Some(r)
}

impl Msg {
    /// See `Fetch::one_of_all`.
    pub fn one_of_all(&self) -> bool {
        !matches!(self, Msg::AuthGroup(_))
    }

    pub fn kind(&self) -> Kind {
        match self {
            Msg::Hash32 { src: false, .. } | Msg::AsInt(_) | Msg::Count(_) => Kind::Int,
            Msg::Hash32 { src: true, .. } => Kind::Bin,
            Msg::AsIp(_) | Msg::UrlIp => Kind::Ip,
            Msg::UrlPort => Kind::Int,
            Msg::Auth(_) | Msg::FirstReq => Kind::Bool,
            _ => Kind::Str,
        }
    }

    pub fn needs(&self) -> u8 {
        match self {
            Msg::Ver(Dir::Res) | Msg::Hdrs(Dir::Res) | Msg::HdrNames(Dir::Res, _) => {
                super::needs::RES
            }
            Msg::AsIp(f) | Msg::AsInt(f) | Msg::Count(f) => f.needs(),
            Msg::FeName | Msg::BeName => 0,
            _ => super::needs::REQ,
        }
    }

    pub fn fetch<'a>(
        &'a self,
        ctx: &FetchCtx<'a>,
        sc: Option<&dyn super::CounterView>,
        one: bool,
    ) -> Fetched<'a> {
        let heads = |d: Dir| -> Option<&dyn Headers> {
            match d {
                Dir::Res => ctx.res.map(|r| r as &dyn Headers),
                _ => ctx.req.map(|r| r as &dyn Headers),
            }
        };
        let str_of =
            |s: Option<String>| s.map_or_else(Fetched::none, |s| Fetched::one(owned_text(s)));
        let slice_of = |s: Option<&'a str>| s.map_or_else(Fetched::none, |s| Fetched::one(text(s)));
        match self {
            Msg::PathQ => slice_of(ctx.req.and_then(|r| r.path_on())),
            Msg::BaseQ => ctx
                .req
                .and_then(baseq)
                .map_or_else(Fetched::none, Fetched::one),
            Msg::Hash32 { url, src } => {
                let Some(r) = ctx.req else {
                    return Fetched::none();
                };
                let h = hash32(r, *url);
                if !*src {
                    return Fetched::one(Value::Sint(h.into()));
                }
                let mut b = h.to_be_bytes().to_vec();
                match ctx.src.ip() {
                    IpAddr::V4(a) => b.extend_from_slice(&a.octets()),
                    IpAddr::V6(a) => b.extend_from_slice(&a.octets()),
                }
                Fetched::one(Value::Bin(Cow::Owned(b)))
            }
            Msg::Ver(d) => {
                let v = match d {
                    Dir::Res => ctx.res.map(|r| r.version),
                    _ => ctx.req.map(|r| r.version),
                };
                slice_of(v.map(|v| match v {
                    Version::Http10 => "1.0",
                    Version::Http11 => "1.1",
                }))
            }
            Msg::Hdrs(d) => str_of(heads(*d).map(|h| {
                let mut s = String::new();
                for (n, v) in as_haproxy_keeps(h) {
                    s.push_str(&n);
                    s.push_str(": ");
                    s.push_str(&v);
                    s.push_str("\r\n");
                }
                s.push_str("\r\n");
                s
            })),
            Msg::HdrNames(d, delim) => str_of(heads(*d).map(|h| {
                let names: Vec<String> = as_haproxy_keeps(h).into_iter().map(|(n, _)| n).collect();
                names.join(&delim.to_string())
            })),
            Msg::AsIp(f) => f.fetch(ctx, sc, one).filter_map(|s| match s {
                Value::Str(t) => header_ip(std::str::from_utf8(&t).ok()?).map(Value::from),
                _ => None,
            }),
            Msg::AsInt(f) => f.fetch(ctx, sc, one).filter_map(|s| match s {
                Value::Str(t) => Some(Value::Sint(strl2ic(&t).into())),
                _ => None,
            }),
            Msg::Count(f) => {
                let n = f.fetch(ctx, sc, false).values.len();
                Fetched::one(Value::Sint(n as i64))
            }
            Msg::Auth(l) => match (ctx.req.and_then(auth::credentials), l.get()) {
                (Some(Credentials::Basic(u, p)), Some(list)) => {
                    Fetched::one(Value::Bool(list.check(&u, &p).is_some()))
                }
                _ => Fetched::none(),
            },
            Msg::AuthGroup(l) => {
                let (Some(Credentials::Basic(u, p)), Some(list)) =
                    (ctx.req.and_then(auth::credentials), l.get())
                else {
                    return Fetched::none();
                };
                let Some(user) = list.check(&u, &p) else {
                    return Fetched::none();
                };
                if one {
                    return Fetched::one(owned_text(user.name.clone()));
                }
                Fetched::some(
                    user.groups
                        .iter()
                        .map(|&g| owned_text(list.groups[g].clone()))
                        .collect(),
                )
            }
            Msg::UrlIp | Msg::UrlPort => match ctx.req.and_then(|r| url_addr(&r.uri)) {
                Some((ip, _)) if matches!(self, Msg::UrlIp) => Fetched::one(Value::Ipv4(ip)),
                Some((_, port)) => Fetched::one(Value::Sint(port.into())),
                None => Fetched::none(),
            },
            Msg::FeName | Msg::BeName => {
                let st = ctx.txn.stamp;
                let name = match self {
                    Msg::BeName => st.backend.unwrap_or(st.frontend),
                    _ => st.frontend,
                };
                slice_of((!name.is_empty()).then_some(name))
            }
            Msg::FirstReq => match ctx.req {
                Some(_) => Fetched::one(Value::Bool(ctx.txn.stamp.first)),
                None => Fetched::none(),
            },
            Msg::AuthType => slice_of(ctx.req.and_then(auth::credentials).map(|c| match c {
                Credentials::Basic(..) => "Basic",
                Credentials::Bearer(_) => "Bearer",
            })),
            Msg::AuthUser | Msg::AuthPass => match ctx.req.and_then(auth::credentials) {
                Some(Credentials::Basic(u, p)) => {
                    str_of(Some(if matches!(self, Msg::AuthUser) { u } else { p }))
                }
                _ => Fetched::none(),
            },
            Msg::AuthBearer(None) => match ctx.req.and_then(auth::credentials) {
                Some(Credentials::Bearer(t)) => str_of(Some(t)),
                _ => Fetched::none(),
            },
            Msg::AuthBearer(Some(h)) => {
                let Some(v) = ctx.req.and_then(|r| r.header_values(h).next()) else {
                    return Fetched::none();
                };
                let v = v.split(',').next().unwrap_or("");
                match v.split_once(' ') {
                    Some((s, t))
                        if s.eq_ignore_ascii_case("bearer")
                            && !t.trim_start_matches(' ').is_empty() =>
                    {
                        slice_of(Some(t.trim_start_matches(' ')))
                    }
                    _ => Fetched::none(),
                }
            }
        }
    }
}

/// The header lines as HAProxy 2.6 keeps them once its HTTP/1 mux has
/// read them: names in lower case, and `Connection` without its `close`
/// and `keep-alive` tokens (the line dropped when nothing else is left),
/// which is what its `req.hdrs` and `req.hdr_names` list.
fn as_haproxy_keeps(h: &dyn Headers) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(h.headers().len());
    for (n, v) in h.headers() {
        let name = n.to_ascii_lowercase();
        if name == "connection" {
            let kept = crate::http::message::connection_kept(v);
            if !kept.is_empty() {
                out.push((name, kept.join(",")));
            }
            continue;
        }
        out.push((name, v.clone()));
    }
    out
}

/// The first Host value, if not empty (HAProxy's `base` family reads
/// that one).
fn first_host(r: &Request) -> Option<&str> {
    let v = r.header_values("host").next()?;
    let v = v.split(',').next().unwrap_or("").trim();
    (!v.is_empty()).then_some(v)
}

/// `base`: the first Host value then the path (no query); without a
/// Host, the path alone.
pub fn base(r: &Request) -> Value<'_> {
    host_then_path(r, false).unwrap_or(text(""))
}

/// `baseq`: Host then the path and query; without a Host, `pathq`.
fn baseq(r: &Request) -> Option<Value<'_>> {
    host_then_path(r, true)
}

/// The first Host value then the path (with the query or not); without a
/// Host, the path alone, borrowed.
fn host_then_path(r: &Request, query: bool) -> Option<Value<'_>> {
    let path = r.path_on().map(|p| {
        if query {
            p
        } else {
            p.split('?').next().unwrap_or("")
        }
    });
    let Some(host) = first_host(r) else {
        return path.map(text);
    };
    let p = path.filter(|p| p.starts_with('/')).unwrap_or("");
    let mut s = String::with_capacity(host.len() + p.len());
    s.push_str(host);
    s.push_str(p);
    Some(owned_text(s))
}

/// `base32`: the sdbm hash of the first Host value then the path (no
/// query); `url32`: of the whole first Host line then path and query;
/// then the full avalanche.
fn hash32(r: &Request, url: bool) -> u32 {
    let mut key = Vec::new();
    let host = if url {
        r.header_values("host").next()
    } else {
        first_host(r)
    };
    key.extend(host.unwrap_or("").chars().map(|c| c as u32 as u8));
    if let Some(p) = r.path_on() {
        let p = if url {
            p
        } else {
            p.split('?').next().unwrap_or("")
        };
        if p.starts_with('/') {
            key.extend(p.chars().map(|c| c as u32 as u8));
        }
    }
    hash::full_hash(hash::sdbm(&key))
}

/// The IPv4 address and port of `http://A.B.C.D[:PORT]...` (or https,
/// default port 80 or 443), as HAProxy's `url2sa` reads a target while
/// serving: the scheme is what comes before the first `://`, the address a
/// dotted quad at the start of the authority (host names are not
/// resolved), the port its leading digits cut to 16 bits.
fn url_addr(uri: &str) -> Option<(std::net::Ipv4Addr, u16)> {
    let (scheme, rest) = uri.split_once("://")?;
    let default = if scheme.eq_ignore_ascii_case("http") {
        80
    } else if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        return None;
    };
    let b = rest.as_bytes();
    let (mut octets, mut cur, mut saw_digit, mut i) = ([0u8; 4], 0usize, false, 0usize);
    let mut count = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        if b[i].is_ascii_digit() {
            let v = u32::from(octets[cur]) * 10 + u32::from(b[i] - b'0');
            if v > 255 {
                return None;
            }
            octets[cur] = v as u8;
            if !saw_digit {
                count += 1;
                if count > 4 {
                    return None;
                }
                saw_digit = true;
            }
        } else if saw_digit && count < 4 {
            cur += 1;
            saw_digit = false;
        } else {
            return None;
        }
        i += 1;
    }
    if count < 4 {
        return None;
    }
    let mut port = default;
    if b.get(i) == Some(&b':') {
        let digits: u32 = b[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .fold(0u32, |n, &c| {
                n.wrapping_mul(10).wrapping_add(u32::from(c - b'0'))
            });
        port = digits as u16;
    }
    Some((std::net::Ipv4Addr::from(octets), port))
}

/// An address in a header value: IPv4 alone or followed by `:PORT`, or
/// IPv6 alone (HAProxy's `hdr_ip`).
fn header_ip(v: &str) -> Option<IpAddr> {
    if let Ok(a) = v.parse::<std::net::Ipv4Addr>() {
        return Some(IpAddr::V4(a));
    }
    if let Some((a, port)) = v.rsplit_once(':') {
        if let (Ok(a), Ok(p)) = (a.parse::<std::net::Ipv4Addr>(), port.parse::<u32>()) {
            if p <= 65535 && !port.starts_with('+') {
                return Some(IpAddr::V4(a));
            }
        }
    }
    v.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

/// HAProxy's `strl2ic`: a 32-bit integer from the leading characters; it
/// stops at the first byte above '9' (bytes below '0' are folded in, as
/// HAProxy does), wrapping on overflow.
pub fn strl2ic(b: &[u8]) -> i32 {
    let mut i: i32 = 0;
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    for &c in digits {
        let j = i32::from(c) - i32::from(b'0');
        if j > 9 {
            break;
        }
        i = if neg {
            i.wrapping_mul(10).wrapping_sub(j)
        } else {
            i.wrapping_mul(10).wrapping_add(j)
        };
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strl2ic_as_haproxy() {
        assert_eq!(strl2ic(b"123abc"), 123);
        assert_eq!(strl2ic(b"-42"), -42);
        assert_eq!(strl2ic(b"abc"), 0);
        assert_eq!(strl2ic(b""), 0);
        // A byte below '0' is folded in, not a stop.
        assert_eq!(strl2ic(b"1 2"), -58);
        assert_eq!(strl2ic(b"99999999999"), 99_999_999_999i64 as i32);
    }

    #[test]
    fn url_addr_as_haproxy_reads_it() {
        let a = |s: &str| url_addr(s).map(|(ip, p)| (ip.to_string(), p));
        assert_eq!(a("http://10.0.0.1/x"), Some(("10.0.0.1".into(), 80)));
        assert_eq!(
            a("HTTPS://10.0.0.1:8443/x"),
            Some(("10.0.0.1".into(), 8443))
        );
        assert_eq!(a("http://10.0.0.1:70000/"), Some(("10.0.0.1".into(), 4464)));
        assert_eq!(a("http://10.0.0.1foo/"), Some(("10.0.0.1".into(), 80)));
        for bad in [
            "/x",
            "ftp://10.0.0.1/",
            "http://host/",
            "http://1.2.3/",
            "http://1.2.3.4.5/",
            "http://256.1.1.1/",
            "http://[::1]/",
        ] {
            assert_eq!(a(bad), None, "{bad}");
        }
    }

    #[test]
    fn header_ip_forms() {
        assert_eq!(header_ip("10.0.0.1"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(header_ip("10.0.0.1:80"), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(header_ip("10.0.0.1:99999"), None);
        assert_eq!(header_ip("::1"), Some("::1".parse().unwrap()));
        assert_eq!(header_ip("[::1]:80"), None);
        assert_eq!(header_ip("x10.0.0.1"), None);
    }
}
