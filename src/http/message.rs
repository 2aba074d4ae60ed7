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
    // kept byte-for-byte through a lossless Latin-1 mapping.
    b.iter().map(|&c| c as char).collect()
}

fn bytes(s: &str, out: &mut Vec<u8>) {
    out.extend(s.chars().map(|c| c as u32 as u8));
}

/// Header access shared by requests and responses.
pub trait Headers {
    fn headers(&self) -> &Vec<(String, String)>;
    fn headers_mut(&mut self) -> &mut Vec<(String, String)>;

    /// Values of every line named `name` (case-insensitive), in order.
    fn header_values<'a>(&'a self, name: &'a str) -> Box<dyn Iterator<Item = &'a str> + 'a> {
        Box::new(
            self.headers()
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
        )
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
    match v {
        Version::Http10 => "HTTP/1.0",
        Version::Http11 => "HTTP/1.1",
    }
}

impl Request {
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
        out.extend_from_slice(format!(" {:03} ", self.status).as_bytes());
        bytes(&self.reason, out);
        out.extend_from_slice(b"\r\n");
        serialize_headers(&self.headers, out);
    }
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
