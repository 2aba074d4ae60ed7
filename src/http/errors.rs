//! Error responses pollux sends itself, and `errorfile` loading.
//!
//! Every built-in response is HTTP/1.1 with `content-type: text/html`,
//! `cache-control: no-cache`, `content-length` and `connection: close`, and a
//! short HTML body. `errorfile CODE FILE` replaces one with the file's bytes,
//! sent verbatim; the file must hold a complete, valid response head.

use super::body::{response_framing, Framing};
use super::message::Response;
use super::parser::HeadParser;
use super::rules::{Reply, ReplyBody};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// Standard reason phrase (RFC 9110 §15); a generic one per class otherwise.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            _ => "Server Error",
        },
    }
}

/// One sentence for the body of each built-in response.
fn explanation(status: u16) -> &'static str {
    match status {
        200 => "The service is up.",
        400 => "The request was malformed and could not be processed.",
        401 => "This resource needs valid credentials.",
        403 => "Access to this resource is refused.",
        404 => "Nothing was found at this address.",
        405 => "This method is not accepted for this resource.",
        408 => "The request did not arrive in time.",
        410 => "This resource is no longer here.",
        413 => "The request body is larger than allowed.",
        414 => "The request target is longer than allowed.",
        425 => "The request was sent too early; please retry.",
        429 => "Too many requests were sent; please slow down.",
        431 => "The request headers are larger than allowed.",
        501 => "The request asks for something this server does not implement.",
        502 => "The server behind this proxy sent an invalid or no response.",
        503 => "No server is available to handle this request.",
        504 => "The server behind this proxy did not answer in time.",
        505 => "This HTTP version is not supported.",
        _ => "The request could not be completed because of an internal error.",
    }
}

/// The response pollux sends for `status` when no errorfile replaces it.
pub fn default_response(status: u16) -> Vec<u8> {
    let status = if (100..=999).contains(&status) {
        status
    } else {
        500
    };
    let reason = reason(status);
    let body = format!(
        "<html><head><title>{status} {reason}</title></head>\n\
         <body><h1>{status} {reason}</h1>\n<p>{}</p>\n</body></html>\n",
        explanation(status)
    );
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         content-type: text/html\r\n\
         cache-control: no-cache\r\n\
         content-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

/// Reads an `errorfile`: a full raw HTTP response sent verbatim. Checks that
/// it starts with a complete, valid response head and, when it declares a
/// Content-Length, that the body after the head has that many bytes.
pub fn load_errorfile(path: &Path) -> Result<Vec<u8>, String> {
    let name = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("errorfile '{name}': {e}"))?;
    if bytes.is_empty() {
        return Err(format!("errorfile '{name}': empty file"));
    }
    let head = match HeadParser::new(bytes.len() + 1).parse_response(&bytes) {
        Ok(Some(h)) => h,
        Ok(None) => {
            return Err(format!(
                "errorfile '{name}': incomplete HTTP response (no empty line ends the headers)"
            ))
        }
        Err(e) => {
            return Err(format!(
                "errorfile '{name}': invalid HTTP response at byte {}: {}",
                e.at, e.reason
            ))
        }
    };
    let res = Response::from_head(&head, &bytes);
    let body = (bytes.len() - head.len) as u64;
    match response_framing(&res, "GET") {
        Ok(Framing::Length(n)) if n != body => Err(format!(
            "errorfile '{name}': content-length is {n} but {body} body bytes follow the headers"
        )),
        Err(e) => Err(format!("errorfile '{name}': {}", e.reason)),
        Ok(_) => Ok(bytes),
    }
}

/// Error responses of one proxy: `errorfile` overrides, else the defaults;
/// an `http-error` reply whose headers or body are log-format strings is
/// built per response ([`ErrorPages::page`]).
#[derive(Debug, Clone, Default)]
pub struct ErrorPages {
    pages: HashMap<u16, Vec<u8>>,
    replies: HashMap<u16, Reply>,
}

/// A proxy's answer for a status: bytes, or a reply to build.
pub enum Page<'a> {
    Bytes(Cow<'a, [u8]>),
    Reply(&'a Reply),
}

impl ErrorPages {
    pub fn new() -> ErrorPages {
        ErrorPages::default()
    }

    pub fn set(&mut self, status: u16, bytes: Vec<u8>) {
        self.replies.remove(&status);
        self.pages.insert(status, bytes);
    }

    /// `http-error status N` with a built reply: fixed bytes when nothing
    /// in it depends on the request, else built for each response.
    pub fn set_reply(&mut self, r: Reply) {
        let dynamic = matches!(r.body, ReplyBody::Format(_))
            || r.headers.iter().any(|(_, f)| f.as_literal().is_none());
        if dynamic {
            self.pages.remove(&r.status);
            self.replies.insert(r.status, r);
        } else {
            let any = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
            let ctx = crate::http::fetch::FetchCtx::http(any, any, None, None);
            let bytes = crate::http::rules::reply_bytes(&r, &ctx, false);
            self.set(r.status, bytes);
        }
    }

    /// Some reply is built per response.
    pub fn has_replies(&self) -> bool {
        !self.replies.is_empty()
    }

    /// Forget an override: the built-in page again.
    pub fn unset(&mut self, status: u16) {
        self.pages.remove(&status);
        self.replies.remove(&status);
    }

    /// This proxy's answer for `status`, else `fallback`'s, else the
    /// built-in page.
    pub fn page<'a>(&'a self, status: u16, fallback: &'a ErrorPages) -> Page<'a> {
        if let Some(r) = self.replies.get(&status) {
            return Page::Reply(r);
        }
        if let Some(b) = self.pages.get(&status) {
            return Page::Bytes(Cow::Borrowed(b));
        }
        match fallback.replies.get(&status) {
            Some(r) => Page::Reply(r),
            None => Page::Bytes(fallback.get(status)),
        }
    }

    pub fn get(&self, status: u16) -> Cow<'_, [u8]> {
        match self.pages.get(&status) {
            Some(b) => Cow::Borrowed(b),
            None => Cow::Owned(default_response(status)),
        }
    }

    /// This proxy's page, else `fallback`'s (a backend's errorfiles, then
    /// the frontend's, as HAProxy), else the built-in one.
    pub fn get_or<'a>(&'a self, status: u16, fallback: &'a ErrorPages) -> Cow<'a, [u8]> {
        match self.pages.get(&status) {
            Some(b) => Cow::Borrowed(b),
            None => fallback.get(status),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: &[u16] = &[
        200, 400, 401, 403, 404, 405, 408, 410, 413, 414, 425, 429, 431, 500, 501, 502, 503, 504,
        505,
    ];

    fn parse(bytes: &[u8]) -> (u16, Response, usize) {
        let h = HeadParser::new(bytes.len() + 1)
            .parse_response(bytes)
            .unwrap()
            .unwrap();
        (h.status, Response::from_head(&h, bytes), h.len)
    }

    #[test]
    fn every_default_response_parses_with_matching_length_and_headers() {
        for &s in LISTED {
            let r = default_response(s);
            let (status, res, len) = parse(&r);
            assert_eq!(status, s);
            assert_eq!(res.reason, reason(s));
            if s != 500 {
                assert_ne!(explanation(s), explanation(999), "{s} has its own text");
            }
            use crate::http::message::Headers;
            assert_eq!(res.header("content-type"), Some("text/html"));
            assert_eq!(res.header("cache-control"), Some("no-cache"));
            assert_eq!(res.header("connection"), Some("close"));
            let cl: usize = res.header("content-length").unwrap().parse().unwrap();
            assert_eq!(cl, r.len() - len, "{s}");
            assert!(r.starts_with(b"HTTP/1.1 "));
        }
    }

    #[test]
    fn unknown_status_gets_the_500_shape_with_a_generic_reason() {
        let r = String::from_utf8(default_response(599)).unwrap();
        assert!(r.starts_with("HTTP/1.1 599 Server Error\r\n"));
        assert!(r.contains(explanation(500)));
        let r = String::from_utf8(default_response(7)).unwrap();
        assert!(r.starts_with("HTTP/1.1 500 Internal Server Error\r\n"));
    }

    #[test]
    fn reason_phrases_are_the_standard_ones() {
        assert_eq!(reason(404), "Not Found");
        assert_eq!(reason(413), "Content Too Large");
        assert_eq!(reason(418), "Client Error");
    }

    fn tmp(name: &str, content: &[u8]) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("pollux-errfile-{}-{name}", std::process::id()));
        std::fs::write(&p, content).unwrap();
        p
    }

    #[test]
    fn errorfile_is_returned_verbatim_when_valid() {
        let c = b"HTTP/1.0 503 Service Unavailable\r\nCache-Control: no-cache\r\n\
                  Content-Type: text/html\r\nContent-Length: 5\r\n\r\nbusy\n";
        let p = tmp("ok", c);
        assert_eq!(load_errorfile(&p).unwrap(), c.to_vec());
        // Close-delimited (no content-length), as many hand-written files are.
        let c = b"HTTP/1.0 503 Busy\nConnection: close\n\n<html>busy</html>\n";
        let p2 = tmp("lf", c);
        assert_eq!(load_errorfile(&p2).unwrap(), c.to_vec());
        let _ = std::fs::remove_file(p);
        let _ = std::fs::remove_file(p2);
    }

    #[test]
    fn errorfile_errors_name_the_file_and_the_problem() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("empty", b"", "empty file"),
            ("nohead", b"HTTP/1.1 503 x\r\nA: b\r\n", "incomplete"),
            (
                "bad",
                b"<html>oops</html>\r\n\r\n",
                "invalid HTTP response at byte",
            ),
            (
                "cl",
                b"HTTP/1.1 503 x\r\nContent-Length: 10\r\n\r\nab",
                "content-length is 10",
            ),
        ];
        for (name, c, want) in cases {
            let p = tmp(name, c);
            let e = load_errorfile(&p).unwrap_err();
            assert!(e.contains(&p.display().to_string()), "{e}");
            assert!(e.contains(want), "{e}");
            let _ = std::fs::remove_file(p);
        }
        let e = load_errorfile(Path::new("/nonexistent/pollux/503.http")).unwrap_err();
        assert!(
            e.starts_with("errorfile '/nonexistent/pollux/503.http': "),
            "{e}"
        );
    }

    #[test]
    fn error_pages_fall_back_to_defaults() {
        let mut p = ErrorPages::new();
        p.set(503, b"HTTP/1.1 503 x\r\n\r\n".to_vec());
        assert_eq!(&*p.get(503), b"HTTP/1.1 503 x\r\n\r\n");
        assert_eq!(&*p.get(502), &default_response(502)[..]);
    }
}
