//! What each hashing algorithm hashes (backend.c: `get_server_sh`, `_uh`,
//! `_ph`, `_hh`, `_rch`), byte for byte, so that a key reaches the server
//! HAProxy would choose. The hash functions themselves (hash.c) are
//! `sample::hash`, shared with the hashing converters.

use crate::config::{Balance, HashFunction};
use crate::http::message::Request;
use std::net::IpAddr;

pub(super) use crate::sample::hash::{crc32, djb2, full_hash, sdbm, wt6};

/// The configured function over a key (HAProxy's `gen_hash`).
pub(super) fn key_hash(f: HashFunction, key: &[u8]) -> u32 {
    match f {
        HashFunction::Sdbm => sdbm(key),
        HashFunction::Djb2 => djb2(key),
        HashFunction::Wt6 => wt6(key),
        HashFunction::Crc32 => crc32(key),
    }
}

/// `balance source` (HAProxy's `get_server_sh`): the address's 32-bit
/// big-endian words XORed together, so an IPv4 address is its own hash and
/// an IPv6 one folds its four words (an IPv4-mapped client of an IPv6
/// listener is hashed as IPv6, as HAProxy does). No hash function applies;
/// `avalanche` does.
pub(super) fn source_hash(a: IpAddr) -> u32 {
    match a {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(a) => a
            .octets()
            .chunks_exact(4)
            .fold(0, |h, w| h ^ u32::from_be_bytes([w[0], w[1], w[2], w[3]])),
    }
}

/// splitmix64's finaliser, for `random`'s generator.
pub(super) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key a hashing algorithm balances on: `uri`, `url_param` and `hdr`
/// read the HTTP request, `rdp-cookie` the first bytes of a TCP stream
/// (`payload`). None when the algorithm hashes no key (`source` hashes the
/// client address, given apart) or the key is absent: the balancer then
/// falls back to round robin, as HAProxy.
pub fn hash_key(algo: &Balance, req: Option<&Request>, payload: &[u8]) -> Option<Vec<u8>> {
    match algo {
        Balance::Uri {
            len,
            depth,
            whole,
            path_only,
        } => req.map(|r| uri_key(&latin1(&r.uri), *len, *depth, *whole, *path_only).to_vec()),
        Balance::UrlParam { name, .. } => {
            req.and_then(|r| url_param(&latin1(&r.uri), name.as_bytes()).map(<[u8]>::to_vec))
        }
        Balance::Hdr {
            name,
            use_domain_only,
        } => {
            let v = header_value(req?, name)?;
            Some(if *use_domain_only {
                domain_only(&v).to_vec()
            } else {
                v
            })
        }
        Balance::RdpCookie { name } => rdp_cookie(payload, name.as_bytes())
            .filter(|v| !v.is_empty())
            .map(<[u8]>::to_vec),
        _ => None,
    }
}

/// The bytes of a head field: the parser keeps obs-text as Latin-1 chars,
/// one per byte, and HAProxy hashes the bytes.
fn latin1(s: &str) -> Vec<u8> {
    s.chars().map(|c| c as u32 as u8).collect()
}

/// HAProxy's `get_server_uh`: with `path_only`, the path of the target;
/// then at most `len` bytes, stopping before the `depth`+1-th slash and,
/// unless `whole`, before the `?`.
pub(super) fn uri_key(
    uri: &[u8],
    len: Option<usize>,
    depth: Option<usize>,
    whole: bool,
    path_only: bool,
) -> &[u8] {
    let mut u = if path_only { uri_path(uri) } else { uri };
    if let Some(l) = len {
        u = &u[..l.min(u.len())];
    }
    let mut slashes = 0;
    let mut end = 0;
    for &c in u {
        if c == b'/' {
            slashes += 1;
            if depth.is_some_and(|d| slashes == d + 1) {
                break;
            }
        } else if c == b'?' && !whole {
            break;
        }
        end += 1;
    }
    &u[..end]
}

/// The path (query included) of a request target, as HAProxy's
/// `http_parse_path`: origin-form as it is; absolute-form from the first
/// `/` after `scheme://authority` (only a `/` ends the authority); empty
/// for `*`, authority-form, or an absolute-form without a path.
fn uri_path(u: &[u8]) -> &[u8] {
    match u.first() {
        Some(b'/') => u,
        Some(c) if c.is_ascii_alphabetic() => {
            // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
            let scheme = 1 + u[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
                .count();
            let Some(rest) = u[scheme..].strip_prefix(b"://") else {
                return b"";
            };
            rest.iter()
                .position(|&c| c == b'/')
                .map_or(&b""[..], |p| &rest[p..])
        }
        _ => b"",
    }
}

/// The value of `name=value` in the query string, as HAProxy's
/// `get_server_ph`: the parameters after the first `?`, separated by `&`,
/// the name compared byte for byte; the value runs to the next `&` or the
/// end (a `#` is part of it). An empty value is a value.
pub(super) fn url_param<'a>(uri: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let q = uri.iter().position(|&c| c == b'?')?;
    let mut params = &uri[q + 1..];
    while params.len() > name.len() {
        if params[name.len()] == b'=' && params.starts_with(name) {
            let v = &params[name.len() + 1..];
            let end = v.iter().position(|&c| c == b'&').unwrap_or(v.len());
            return Some(&v[..end]);
        }
        let amp = params.iter().position(|&c| c == b'&')?;
        params = &params[amp + 1..];
    }
    None
}

/// The first value of the first header `name`, as HAProxy's
/// `http_find_header` without `full`: leading and trailing blanks dropped,
/// ending at the first comma outside a quoted string. None if the header is
/// absent or that value empty (HAProxy then balances round robin; it does
/// not look at the next value).
fn header_value(req: &Request, name: &str) -> Option<Vec<u8>> {
    let (_, v) = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    let v = latin1(v);
    let lws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = v.iter().position(|c| !lws(c)).unwrap_or(v.len());
    let v = &v[start..];
    let mut end = value_end(v);
    while end > 0 && lws(&v[end - 1]) {
        end -= 1;
    }
    (end > 0).then(|| v[..end].to_vec())
}

/// Where a header value ends: its first comma outside a quoted string
/// (HAProxy's `http_find_hdr_value_end`: `\` escapes inside quotes).
fn value_end(v: &[u8]) -> usize {
    let (mut quoted, mut escaped) = (false, false);
    for (i, &c) in v.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted {
            match c {
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            return i;
        }
    }
    v.len()
}

/// `use_domain_only`, exactly as HAProxy's `get_server_hh` walks the value
/// back from its end: the hashed part ends at the last dot and starts after
/// the dot before it ("www.example.com" → "example", "example.com:8080" →
/// "example"; no dot: the whole value). Quirk kept: the byte just before
/// the last dot is never taken for the start ("a..b" → "a.").
pub(super) fn domain_only(v: &[u8]) -> &[u8] {
    let mut p = v.len();
    let mut end = None;
    while p > 0 {
        match end {
            Some(_) if v[p - 1] == b'.' => break,
            Some(_) => {}
            // HAProxy also looks at the byte after the value (outside it,
            // never a dot in practice); here there is none.
            None if v.get(p) == Some(&b'.') => end = Some(p),
            None => {}
        }
        p -= 1;
    }
    &v[p..end.unwrap_or(v.len())]
}

/// The RDP cookie of an X.224 Connection Request (MS-RDPBCGR 2.2.1.1):
/// after the 4-byte TPKT header and the 7-byte X.224 CR header comes
/// `Cookie: NAME=VALUE\r\n`. As HAProxy's `rdp_cookie` fetch: the name is
/// compared ignoring case, spaces after `Cookie:` are skipped, and the value
/// must end with CRLF inside the bytes received so far.
pub(super) fn rdp_cookie<'a>(payload: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let data = payload.get(11..)?;
    if data.len() <= 7 || !data[..7].eq_ignore_ascii_case(b"Cookie:") {
        return None;
    }
    let mut d = &data[7..];
    while let [b' ', rest @ ..] = d {
        d = rest;
    }
    if d.len() <= name.len() || d[name.len()] != b'=' || !d[..name.len()].eq_ignore_ascii_case(name)
    {
        return None;
    }
    let d = &d[name.len() + 1..];
    let end = d.iter().position(|&c| c == b'\r')?;
    (d.get(end + 1) == Some(&b'\n')).then_some(&d[..end])
}
