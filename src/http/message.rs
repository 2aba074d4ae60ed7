//! Owned, editable message heads. The parser indexes a head in the buffer;
//! the analysers turn it into one of these once, header rules edit it, and it
//! is serialized towards the other side.

use super::parser::{RequestHead, ResponseHead};
use super::Version;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// Request target as received (origin-form, absolute-form, authority-form or `*`).
    pub uri: String,
    pub version: Version,
    /// Header lines in order; names keep their case, compare them ignoring it.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub version: Version,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

fn text(b: &[u8]) -> String {
    // The parser admits only visible ASCII, SP, HTAB and obs-text; obs-text is
    // kept byte-for-byte through a lossless Latin-1 mapping. ASCII, nearly
    // every field, is one copy (a char-by-char collect costs ~10x).
    match std::str::from_utf8(b) {
        Ok(s) if b.is_ascii() => s.to_owned(),
        _ => b.iter().map(|&c| c as char).collect(),
    }
}

fn bytes(s: &str, out: &mut Vec<u8>) {
    if s.is_ascii() {
        out.extend_from_slice(s.as_bytes());
    } else {
        out.extend(s.chars().map(|c| c as u32 as u8));
    }
}

/// The values of the lines with one name: a named type (not a boxed
/// iterator) keeps `Headers` usable as `dyn` without an allocation per call.
pub struct Values<'a> {
    lines: std::slice::Iter<'a, (String, String)>,
    name: &'a str,
}

impl<'a> Iterator for Values<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let name = self.name;
        self.lines
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Header access shared by requests and responses.
pub trait Headers {
    fn headers(&self) -> &Vec<(String, String)>;
    fn headers_mut(&mut self) -> &mut Vec<(String, String)>;

    /// Values of every line named `name` (case-insensitive), in order.
    fn header_values<'a>(&'a self, name: &'a str) -> Values<'a> {
        Values {
            lines: self.headers().iter(),
            name,
        }
    }
    /// Last value of `name`, as HAProxy's `hdr(name)` with no occurrence given.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers()
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn add_header(&mut self, name: &str, value: &str) {
        self.headers_mut()
            .push((name.to_string(), value.to_string()));
    }
    /// Remove every line named `name`; returns how many went.
    fn del_header(&mut self, name: &str) -> usize {
        // Most deletions find nothing: look before rebuilding the list.
        if !self
            .headers()
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return 0;
        }
        let before = self.headers().len();
        self.headers_mut()
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        before - self.headers().len()
    }
    fn set_header(&mut self, name: &str, value: &str) {
        self.del_header(name);
        self.add_header(name, value);
    }
}

impl Headers for Request {
    fn headers(&self) -> &Vec<(String, String)> {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.headers
    }
}

impl Headers for Response {
    fn headers(&self) -> &Vec<(String, String)> {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.headers
    }
}

fn version_str(v: Version) -> &'static str {
    v.as_str()
}

/// Wire bytes of a head field (each char is one byte, see `text`).
fn wire_len(s: &str) -> u64 {
    if s.is_ascii() {
        return s.len() as u64;
    }
    // A char above U+007F is two UTF-8 bytes and one wire byte.
    let wide = s.bytes().filter(|&b| b & 0xc0 == 0xc0).count();
    (s.len() - wide) as u64
}

/// The tokens of a `Connection` value HAProxy 2.6's HTTP/1 layer keeps:
/// all but `close` and `keep-alive` (it drops the header when none is
/// left). Both its log byte counts and its `req.hdrs` see this value.
pub fn connection_kept(v: &str) -> Vec<&str> {
    v.split(',')
        .map(|t| t.trim_matches([' ', '\t']))
        .filter(|t| {
            !t.is_empty()
                && !t.eq_ignore_ascii_case("close")
                && !t.eq_ignore_ascii_case("keep-alive")
        })
        .collect()
}

/// What HAProxy 2.6 counts for a message head in its logs (%B, %U): the
/// size of its internal (HTX) form, not of the wire form. 20 bytes of
/// start-line record plus its three words, each header's name and value, 1
/// for the end of the headers. Its HTTP/1 layer drops on the way in the
/// `close` and `keep-alive` tokens of `Connection` (the header if nothing is
/// left), repeated `Content-Length` headers and `Content-Length` next to
/// `Transfer-Encoding` (h1.c, `h1_headers_to_hdr_list`); blanks around
/// values never count.
fn htx_head_len(start_line: u64, headers: &[(String, String)]) -> u64 {
    let is = |n: &str, name: &str| n.eq_ignore_ascii_case(name);
    let te = headers.iter().any(|(n, _)| is(n, "transfer-encoding"));
    let mut cl_seen = false;
    let mut len = 20 + start_line + 1;
    for (n, v) in headers {
        let value = if is(n, "connection") {
            let kept = connection_kept(v);
            if kept.is_empty() {
                continue;
            }
            kept.iter().map(|t| wire_len(t)).sum::<u64>() + kept.len() as u64 - 1
        } else if is(n, "content-length") {
            if te || std::mem::replace(&mut cl_seen, true) {
                continue;
            }
            // `5, 5` is indexed as `5`.
            v.split(',').next().map_or(0, |e| wire_len(e.trim()))
        } else {
            wire_len(v)
        };
        len += wire_len(n) + value;
    }
    len
}

impl Request {
    /// HAProxy 2.6's count of this head in its logs (see `htx_head_len`).
    pub fn htx_len(&self) -> u64 {
        let words = wire_len(&self.method) + wire_len(&self.uri) + 8;
        htx_head_len(words, &self.headers)
    }

    pub fn from_head(h: &RequestHead, buf: &[u8]) -> Request {
        Request {
            method: text(h.method.get(buf)),
            uri: text(h.uri.get(buf)),
            version: h.version.unwrap_or(Version::Http10),
            headers: h
                .headers
                .iter()
                .map(|x| (text(x.name.get(buf)), text(x.value.get(buf))))
                .collect(),
        }
    }

    /// Path part of the URI: for absolute-form, after the authority; without
    /// the query string.
    pub fn path(&self) -> &str {
        let u = self.uri.as_str();
        let u = match u.find("://") {
            Some(i) => u[i + 3..].find('/').map_or("", |j| &u[i + 3 + j..]),
            None => u,
        };
        u.split('?').next().unwrap_or("")
    }

    /// The target from its path on, query included, as HAProxy's
    /// `http_parse_path` cuts it (what `monitor-uri` and `stats uri` match
    /// when they start with '/'): origin-form whole, absolute-form after
    /// `scheme://authority`; None for `*`, authority-form (CONNECT) or an
    /// absolute target without a path.
    pub fn path_on(&self) -> Option<&str> {
        let u = self.uri.as_str();
        if u.starts_with('/') {
            return Some(u);
        }
        // RFC 3986 §3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
        let scheme_len = u
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
            .count();
        if !u.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let rest = u[scheme_len..].strip_prefix("://")?;
        rest.find('/').map(|i| &rest[i..])
    }

    /// Query string without the '?', if any.
    pub fn query(&self) -> Option<&str> {
        self.uri.split_once('?').map(|(_, q)| q)
    }

    pub fn serialize(&self, out: &mut Vec<u8>) {
        bytes(&self.method, out);
        out.push(b' ');
        bytes(&self.uri, out);
        out.push(b' ');
        out.extend_from_slice(version_str(self.version).as_bytes());
        out.extend_from_slice(b"\r\n");
        serialize_headers(&self.headers, out);
    }
}

impl Response {
    /// HAProxy 2.6's count of this head in its logs (see `htx_head_len`).
    pub fn htx_len(&self) -> u64 {
        // "HTTP/1.x" and a three-digit status.
        htx_head_len(8 + 3 + wire_len(&self.reason), &self.headers)
    }

    pub fn from_head(h: &ResponseHead, buf: &[u8]) -> Response {
        Response {
            version: h.version.unwrap_or(Version::Http10),
            status: h.status,
            reason: text(h.reason.get(buf)),
            headers: h
                .headers
                .iter()
                .map(|x| (text(x.name.get(buf)), text(x.value.get(buf))))
                .collect(),
        }
    }

    pub fn serialize(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(version_str(self.version).as_bytes());
        out.push(b' ');
        out.extend_from_slice(&status_digits(self.status));
        out.push(b' ');
        bytes(&self.reason, out);
        out.extend_from_slice(b"\r\n");
        serialize_headers(&self.headers, out);
    }
}

/// A status as three digits (the parser and the config checks admit no other).
fn status_digits(s: u16) -> [u8; 3] {
    let s = s.min(999);
    [
        b'0' + (s / 100) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
    ]
}

fn serialize_headers(h: &[(String, String)], out: &mut Vec<u8>) {
    for (n, v) in h {
        bytes(n, out);
        out.extend_from_slice(b": ");
        bytes(v, out);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str) -> Request {
        Request {
            method: "GET".into(),
            uri: uri.into(),
            version: Version::Http11,
            headers: vec![],
        }
    }

    #[test]
    fn path_and_query_split_origin_and_absolute_forms() {
        assert_eq!(req("/a/b?x=1").path(), "/a/b");
        assert_eq!(req("/a/b?x=1").query(), Some("x=1"));
        assert_eq!(req("http://h:80/p?q").path(), "/p");
        assert_eq!(req("http://h").path(), "");
        assert_eq!(req("*").path(), "*");
    }

    #[test]
    fn htx_len_is_what_haproxy_2_6_logs() {
        // Figures read from Debian's haproxy 2.6.12 logs (%B, %U).
        let res = |reason: &str, h: &[(&str, &str)]| Response {
            version: Version::Http11,
            status: 200,
            reason: reason.into(),
            headers: h
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        };
        assert_eq!(res("OK", &[("Content-Length", "5")]).htx_len(), 49);
        assert_eq!(res("OK", &[("Connection", "close")]).htx_len(), 34);
        let both = [("Transfer-Encoding", "chunked"), ("Content-Length", "5")];
        assert_eq!(res("OK", &both).htx_len(), 58);
        let twice = [("Content-Length", "5, 5"), ("content-length", "5")];
        assert_eq!(res("OK", &twice).htx_len(), 49);
        let mut r = req("/cl");
        r.headers = vec![
            ("Host".into(), "x".into()),
            ("Connection".into(), "keep-alive, close".into()),
            ("X-Y".into(), "z".into()),
        ];
        assert_eq!(r.htx_len(), 44);
        r.headers[1].1 = "Upgrade, close".into();
        assert_eq!(r.htx_len(), 44 + 10 + 7);
    }

    #[test]
    fn path_on_skips_scheme_and_authority_as_haproxy() {
        assert_eq!(req("/a?b").path_on(), Some("/a?b"));
        assert_eq!(req("http://h:80/a?b").path_on(), Some("/a?b"));
        assert_eq!(req("HTTPS://h/").path_on(), Some("/"));
        assert_eq!(req("http://h").path_on(), None);
        assert_eq!(req("http://h?x").path_on(), None);
        assert_eq!(req("h:443").path_on(), None);
        assert_eq!(req("*").path_on(), None);
        assert_eq!(req("1http://h/a").path_on(), None);
        assert_eq!(req("").path_on(), None);
    }

    #[test]
    fn header_edits_ignore_case_and_serialize_in_order() {
        let mut r = req("/");
        r.add_header("Host", "a");
        r.add_header("X-A", "1");
        r.add_header("x-a", "2");
        assert_eq!(r.header("X-a"), Some("2"));
        assert_eq!(r.header_values("x-A").count(), 2);
        r.set_header("X-A", "3");
        assert_eq!(r.del_header("nope"), 0);
        let mut out = Vec::new();
        r.serialize(&mut out);
        assert_eq!(out, b"GET / HTTP/1.1\r\nHost: a\r\nX-A: 3\r\n\r\n");
    }

    #[test]
    fn obs_text_survives_a_round_trip() {
        let mut r = req("/");
        r.headers.push(("X".into(), text(&[0xe9, b'a'])));
        let mut out = Vec::new();
        r.serialize(&mut out);
        assert!(out.windows(2).any(|w| w == [0xe9, b'a']));
    }
}
