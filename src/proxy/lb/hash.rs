//! Hash functions (HAProxy's sdbm, djb2, wt6, crc32 and its `full_hash`
//! avalanche) and the extraction of the hashed key from a request or a TCP
//! payload.

use crate::config::{Balance, HashFunction, HashType};
use crate::http::message::Request;
use std::net::IpAddr;

pub(super) fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| {
        u32::from(c)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h)
    })
}

pub(super) fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(u32::from(c))
    })
}

pub(super) fn wt6(key: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965a_u32, 0x5ca6_953a_u32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in key {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

pub(super) fn crc32(key: &[u8]) -> u32 {
    let mut h = !0u32;
    for &c in key {
        h ^= u32::from(c);
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// Bob Jenkins' full-avalanche integer hash, as HAProxy's `full_hash`.
pub(super) fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// The configured function over a key, then `avalanche` if asked.
pub(super) fn key_hash(ht: HashType, key: &[u8]) -> u32 {
    let h = match ht.function {
        HashFunction::Sdbm => sdbm(key),
        HashFunction::Djb2 => djb2(key),
        HashFunction::Wt6 => wt6(key),
        HashFunction::Crc32 => crc32(key),
    };
    if ht.avalanche {
        full_hash(h)
    } else {
        h
    }
}

/// `source`: FNV-1a over the address bytes then a final avalanche, so
/// neighbouring addresses spread out. Byte-oriented: the same result on
/// every endianness.
pub(super) fn addr_hash(a: IpAddr) -> u32 {
    match a {
        IpAddr::V4(a) => hash32(&a.octets()),
        IpAddr::V6(a) => hash32(&a.octets()),
    }
}

pub(super) fn hash32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// splitmix64's finaliser, for ring points.
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
        } => req.map(|r| uri_key(r.uri.as_bytes(), *len, *depth, *whole, *path_only).to_vec()),
        Balance::UrlParam { name, .. } => {
            req.and_then(|r| url_param(r.uri.as_bytes(), name.as_bytes()).map(<[u8]>::to_vec))
        }
        Balance::Hdr {
            name,
            use_domain_only,
        } => {
            let v = header_value(req?, name)?;
            let v = if *use_domain_only { domain_only(v) } else { v };
            Some(v.to_vec())
        }
        Balance::RdpCookie { name } => rdp_cookie(payload, name.as_bytes()).map(<[u8]>::to_vec),
        _ => None,
    }
}

/// HAProxy's `get_server_uh`: at most `len` bytes, stopping at the
/// `depth`+1-th slash and, unless `whole`, at the `?`.
pub(super) fn uri_key(
    uri: &[u8],
    len: Option<usize>,
    depth: Option<usize>,
    whole: bool,
    path_only: bool,
) -> &[u8] {
    let mut u = uri;
    if path_only {
        u = strip_scheme_authority(u);
    }
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

/// `http://host:port/p?q` → `/p?q` (an absolute-form target); other forms
/// are returned as they are.
fn strip_scheme_authority(u: &[u8]) -> &[u8] {
    let Some(p) = u.windows(3).position(|w| w == b"://") else {
        return u;
    };
    if u[..p].iter().any(|&c| c == b'/' || c == b'?') {
        return u; // "://" inside the path, not a scheme
    }
    let rest = &u[p + 3..];
    match rest.iter().position(|&c| c == b'/' || c == b'?') {
        Some(s) => &rest[s..],
        None => b"/",
    }
}

/// The value of `name=value` in the query string (`&`-separated), as
/// HAProxy's `get_server_ph`; an empty value is a value.
pub(super) fn url_param<'a>(uri: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let q = uri.iter().position(|&c| c == b'?')?;
    let query = &uri[q + 1..];
    let query = match query.iter().position(|&c| c == b'#') {
        Some(h) => &query[..h],
        None => query,
    };
    query.split(|&c| c == b'&').find_map(|pair| {
        pair.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(b"="))
    })
}

/// The first value of the first header `name` (comma-separated values, as
/// HAProxy's non-full header lookup); None if absent or empty.
fn header_value<'a>(req: &'a Request, name: &str) -> Option<&'a [u8]> {
    let (_, v) = req
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    let first = v.split(',').next().unwrap_or("").trim_matches([' ', '\t']);
    (!first.is_empty()).then_some(first.as_bytes())
}

/// `use_domain_only`: the label before the last dot ("www.example.com" →
/// "example"; "example.com:8080" → "example"); no dot: the whole value.
pub(super) fn domain_only(v: &[u8]) -> &[u8] {
    match v.iter().rposition(|&c| c == b'.') {
        None | Some(0) => v,
        Some(end) => {
            let start = v[..end]
                .iter()
                .rposition(|&c| c == b'.')
                .map_or(0, |p| p + 1);
            &v[start..end]
        }
    }
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
