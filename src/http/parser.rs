//! Incremental HTTP/1.x head parser (RFC 9110, RFC 9112): resumes where it
//! stopped when more bytes arrive and indexes the head in place.
//!
//! Decisions, each one a place where parsers disagree and requests get smuggled:
//! - Line endings: CRLF, or a bare LF (RFC 9112 §2.2 MAY; HAProxy accepts it).
//!   Accepting is safe here because the engine never forwards a head as
//!   received: it rebuilds it from the spans (`message::Request::serialize`),
//!   which always writes CRLF. A bare CR (CR not followed by LF) anywhere in a
//!   head is rejected. Chunked framing and trailers in the body are forwarded
//!   byte for byte, so `body.rs` accepts CRLF only there.
//! - Empty lines (CRLF or LF) before the start line are skipped (RFC 9112
//!   §2.2), for requests and, as HAProxy does, for responses; they count in
//!   `len`.
//! - Request line: `method SP target SP version` with exactly one SP each;
//!   TAB or any other whitespace is rejected, and so is a request line without
//!   a version (HTTP/0.9). A `#` (fragment) in the target is 400, as in
//!   HAProxy 2.6.12: a fragment is never sent, and a server that drops it
//!   would serve another path than the one the rules judged.
//! - Version: exactly `HTTP/1.0` or `HTTP/1.1`. Any other well-formed
//!   `HTTP/DIGIT.DIGIT` (HTTP/1.2, HTTP/2.0, HTTP/0.9 ...) in a request gets 505
//!   (RFC 9110 §15.6.6) rather than being processed as 1.1: we forward heads we
//!   understand only. Anything else (`http/1.1`, `HTTP/1.10`, `HTTP/1`) is 400.
//! - Header names are tokens; an empty name, whitespace before the colon (RFC
//!   9112 §5.1) or any other non-tchar is 400. A line starting with SP/HTAB
//!   after the start line is obs-fold (RFC 9112 §5.2) or whitespace before the
//!   first header (§2.2): 400. Values admit VCHAR, obs-text, SP and HTAB only
//!   (NUL, DEL and every other CTL are 400); leading and trailing SP/HTAB are
//!   left out of the value span.
//! - At most `max` bytes per head: a longer request head is 400 "request header
//!   too large" (HAProxy's answer), or 414 if the scan is still inside the
//!   request target when the limit is hit. At most `max_headers` header lines
//!   (default 101, HAProxy's tune.http.maxhdr): 400.
//! - Every error from `parse_response` has status 502, ready to send to the client.

use super::{HeaderSpan, Span, Version};
use std::fmt;

/// Why a head was rejected, with the status HAProxy would answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 400, 414, 501 or 505 for requests; 502 for every response error.
    pub status: u16,
    /// Short reason for the log line and `show errors`.
    pub reason: &'static str,
    /// Offset in the buffer of the offending byte.
    pub at: usize,
}

impl ParseError {
    pub(crate) const fn new(status: u16, reason: &'static str, at: usize) -> ParseError {
        ParseError { status, reason, at }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {} ({})", self.reason, self.at, self.status)
    }
}

impl std::error::Error for ParseError {}

/// A parsed request head; spans index the buffer given to `parse`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: Span,
    pub uri: Span,
    pub version: Option<Version>,
    pub headers: Vec<HeaderSpan>,
    /// Length of the whole head including the final CRLF CRLF.
    pub len: usize,
}

/// A parsed response head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: Option<Version>,
    pub status: u16,
    pub reason: Span,
    pub headers: Vec<HeaderSpan>,
    pub len: usize,
}

// Byte classes, one lookup per byte.
const TCHAR: u8 = 1; // RFC 9110 §5.6.2 token characters
const FVCHAR: u8 = 2; // field-vchar: VCHAR / obs-text
const TARGET: u8 = 4; // request-target bytes we accept: VCHAR (0x21..=0x7e) but `#`

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0usize;
    while c < 256 {
        let b = c as u8;
        let mut v = 0;
        if b.is_ascii_alphanumeric() {
            v |= TCHAR;
        }
        match b {
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_'
            | b'`' | b'|' | b'~' => v |= TCHAR,
            _ => {}
        }
        if (b >= 0x21 && b <= 0x7e) || b >= 0x80 {
            v |= FVCHAR;
        }
        // '#' starts a fragment, which never goes on the wire (RFC 9110
        // §4.2.5): servers that drop it would serve another resource than the
        // one the rules saw (HAProxy 2.6.12 answers 400 too).
        if b >= 0x21 && b <= 0x7e && b != b'#' {
            v |= TARGET;
        }
        t[c] = v;
        c += 1;
    }
    t
}

static CLASS: [u8; 256] = classes();

#[inline]
pub(crate) fn is_tchar(c: u8) -> bool {
    CLASS[c as usize] & TCHAR != 0
}

#[inline]
pub(crate) fn is_field_vchar(c: u8) -> bool {
    CLASS[c as usize] & FVCHAR != 0
}

#[inline]
fn is_target(c: u8) -> bool {
    CLASS[c as usize] & TARGET != 0
}

fn span(start: usize, end: usize) -> Span {
    Span {
        start: start as u32,
        len: (end - start) as u32,
    }
}

/// Where the scan is. Start-line states come first, then the header states
/// shared by requests and responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Skipping empty lines before the start line.
    Start,
    /// CR seen in a leading empty line.
    StartLf,
    Method,
    TargetStart,
    Target,
    VersionStart,
    Version,
    RespVersion,
    RespStatus,
    RespAfterStatus,
    RespReason,
    /// CR seen at the end of the start line.
    StartLineLf,
    LineStart,
    Name,
    ValueStart,
    Value,
    ValueLf,
    /// CR seen on the empty line ending the head.
    EndLf,
}

/// Resumable parser state for one message head. `max` is the most bytes a
/// head may take (tune.bufsize - tune.maxrewrite).
pub struct HeadParser {
    max: usize,
    max_headers: usize,
    state: State,
    /// Next byte to look at; every byte before it has been validated.
    pos: usize,
    /// Start of the element being scanned (method, target, version, name...).
    mark: usize,
    method: Span,
    target: Span,
    version: Option<Version>,
    status: u16,
    reason: Span,
    name: Span,
    value_start: usize,
    value_end: usize,
    headers: Vec<HeaderSpan>,
}

/// HAProxy's default tune.http.maxhdr.
pub const DEFAULT_MAX_HEADERS: usize = 101;

type Step = Result<bool, ParseError>;

fn bad(reason: &'static str, at: usize) -> ParseError {
    ParseError::new(400, reason, at)
}

impl HeadParser {
    pub fn new(max: usize) -> HeadParser {
        HeadParser {
            // Spans are u32.
            max: max.min(u32::MAX as usize),
            max_headers: DEFAULT_MAX_HEADERS,
            state: State::Start,
            pos: 0,
            mark: 0,
            method: Span::default(),
            target: Span::default(),
            version: None,
            status: 0,
            reason: Span::default(),
            name: Span::default(),
            value_start: 0,
            value_end: 0,
            headers: Vec::new(),
        }
    }

    /// Most header lines a head may carry (tune.http.maxhdr); default 101.
    pub fn set_max_headers(&mut self, n: usize) {
        self.max_headers = n;
    }

    /// Ready for the next message. Also done automatically when a head
    /// completes or is rejected.
    pub fn reset(&mut self) {
        self.state = State::Start;
        self.pos = 0;
        self.version = None;
        self.headers.clear();
    }

    /// Bytes validated so far (for diagnostics).
    pub fn scanned(&self) -> usize {
        self.pos
    }

    /// Ok(None): need more bytes (call again with the same buffer, grown).
    pub fn parse_request(&mut self, buf: &[u8]) -> Result<Option<RequestHead>, ParseError> {
        if !self.run(buf, false)? {
            return Ok(None);
        }
        let head = RequestHead {
            method: self.method,
            uri: self.target,
            version: self.version,
            headers: std::mem::take(&mut self.headers),
            len: self.pos,
        };
        self.reset();
        Ok(Some(head))
    }

    pub fn parse_response(&mut self, buf: &[u8]) -> Result<Option<ResponseHead>, ParseError> {
        match self.run(buf, true) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let head = ResponseHead {
                    version: self.version,
                    status: self.status,
                    reason: self.reason,
                    headers: std::mem::take(&mut self.headers),
                    len: self.pos,
                };
                self.reset();
                Ok(Some(head))
            }
            Err(e) => Err(ParseError { status: 502, ..e }),
        }
    }

    /// Scans from `pos` to the end of `buf` (at most `max` bytes in all);
    /// true when the head is complete.
    fn run(&mut self, buf: &[u8], response: bool) -> Step {
        if self.pos > buf.len() {
            // The caller gave a shorter buffer: a new message without reset().
            self.reset();
        }
        let end = buf.len().min(self.max);
        let r = self.scan(&buf[..end], response);
        match r {
            Ok(false) if buf.len() >= self.max => {
                let e = if self.state == State::Target && !response {
                    ParseError::new(414, "request URI too long", self.max)
                } else if response {
                    ParseError::new(502, "response header too large", self.max)
                } else {
                    bad("request header too large", self.max)
                };
                self.reset();
                Err(e)
            }
            Err(e) => {
                self.reset();
                Err(e)
            }
            r => r,
        }
    }

    fn scan(&mut self, buf: &[u8], response: bool) -> Step {
        let end = buf.len();
        let mut p = self.pos;
        while p < end {
            let c = buf[p];
            match self.state {
                State::Start => match c {
                    b'\r' => {
                        self.state = State::StartLf;
                        p += 1;
                    }
                    b'\n' => p += 1,
                    _ => {
                        self.mark = p;
                        self.state = if response {
                            State::RespVersion
                        } else {
                            State::Method
                        };
                    }
                },
                State::StartLf => {
                    if c != b'\n' {
                        return Err(bad("bare CR", p - 1));
                    }
                    self.state = State::Start;
                    p += 1;
                }
                State::Method => {
                    while p < end && is_tchar(buf[p]) {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    match buf[p] {
                        b' ' if p == self.mark => return Err(bad("empty method", p)),
                        b' ' => {
                            self.method = span(self.mark, p);
                            self.state = State::TargetStart;
                            p += 1;
                        }
                        b'\t' => return Err(bad("whitespace other than SP in request line", p)),
                        b'\r' | b'\n' => return Err(bad("request line without target", p)),
                        _ => return Err(bad("invalid character in method", p)),
                    }
                }
                // Several SP between the elements, as HAProxy (RFC 9112 §3
                // allows it); the line goes out re-serialized with one.
                State::TargetStart if c == b' ' => p += 1,
                State::TargetStart => {
                    self.mark = p;
                    self.state = State::Target;
                }
                State::Target => {
                    while p < end && is_target(buf[p]) {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    match buf[p] {
                        b' ' => {
                            self.target = span(self.mark, p);
                            self.state = State::VersionStart;
                            p += 1;
                        }
                        b'\t' => return Err(bad("whitespace other than SP in request line", p)),
                        b'\r' | b'\n' => return Err(bad("request line without version", p)),
                        b'#' => return Err(bad("fragment ('#') in URI", p)),
                        0x80.. => return Err(bad("non-ASCII byte in URI", p)),
                        _ => return Err(bad("control character in URI", p)),
                    }
                }
                State::VersionStart if c == b' ' => p += 1,
                State::VersionStart => {
                    self.mark = p;
                    self.state = State::Version;
                }
                State::Version => {
                    while p < end && is_target(buf[p]) && p - self.mark < 8 {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    match buf[p] {
                        b'\r' | b'\n' => {
                            self.version = Some(request_version(&buf[self.mark..p], self.mark)?);
                            self.state = if buf[p] == b'\r' {
                                State::StartLineLf
                            } else {
                                State::LineStart
                            };
                            p += 1;
                        }
                        b' ' | b'\t' => return Err(bad("extra space in request line", p)),
                        _ => return Err(bad("invalid HTTP version", self.mark)),
                    }
                }
                State::RespVersion => {
                    while p < end && is_target(buf[p]) && p - self.mark < 8 {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    if buf[p] != b' ' {
                        return Err(bad("invalid status line", p));
                    }
                    self.version = Some(match &buf[self.mark..p] {
                        b"HTTP/1.1" => Version::Http11,
                        b"HTTP/1.0" => Version::Http10,
                        _ => return Err(bad("invalid HTTP version", self.mark)),
                    });
                    p += 1;
                    self.mark = p;
                    self.status = 0;
                    self.state = State::RespStatus;
                }
                State::RespStatus => {
                    if !c.is_ascii_digit() {
                        return Err(bad("invalid status code", p));
                    }
                    self.status = self.status * 10 + (c - b'0') as u16;
                    p += 1;
                    if p - self.mark == 3 {
                        if !(100..=599).contains(&self.status) {
                            return Err(bad("status code out of range", self.mark));
                        }
                        self.state = State::RespAfterStatus;
                    }
                }
                State::RespAfterStatus => match c {
                    b' ' => {
                        p += 1;
                        self.mark = p;
                        self.state = State::RespReason;
                    }
                    // Missing SP and reason: tolerated, as HAProxy does.
                    b'\r' | b'\n' => {
                        self.reason = span(p, p);
                        self.state = if c == b'\r' {
                            State::StartLineLf
                        } else {
                            State::LineStart
                        };
                        p += 1;
                    }
                    _ => return Err(bad("invalid status code", p)),
                },
                State::RespReason => {
                    while p < end && (is_field_vchar(buf[p]) || buf[p] == b' ' || buf[p] == b'\t') {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    match buf[p] {
                        b'\r' | b'\n' => {
                            self.reason = span(self.mark, p);
                            self.state = if buf[p] == b'\r' {
                                State::StartLineLf
                            } else {
                                State::LineStart
                            };
                            p += 1;
                        }
                        _ => return Err(bad("invalid character in reason phrase", p)),
                    }
                }
                State::StartLineLf | State::ValueLf | State::EndLf => {
                    if c != b'\n' {
                        return Err(bad("bare CR", p - 1));
                    }
                    p += 1;
                    match self.state {
                        State::EndLf => {
                            self.pos = p;
                            return Ok(true);
                        }
                        State::ValueLf => self.push_header(p)?,
                        _ => {}
                    }
                    self.state = State::LineStart;
                }
                State::LineStart => match c {
                    b'\r' => {
                        self.state = State::EndLf;
                        p += 1;
                    }
                    b'\n' => {
                        self.pos = p + 1;
                        return Ok(true);
                    }
                    b' ' | b'\t' if self.headers.is_empty() => {
                        return Err(bad("whitespace between start line and first header", p))
                    }
                    b' ' | b'\t' => return Err(bad("obsolete line folding", p)),
                    b':' => return Err(bad("empty header name", p)),
                    _ if is_tchar(c) => {
                        self.mark = p;
                        self.state = State::Name;
                        p += 1;
                    }
                    _ => return Err(bad("invalid character in header name", p)),
                },
                State::Name => {
                    while p < end && is_tchar(buf[p]) {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    match buf[p] {
                        b':' => {
                            self.name = span(self.mark, p);
                            self.state = State::ValueStart;
                            p += 1;
                        }
                        b' ' | b'\t' => return Err(bad("whitespace before colon", p)),
                        b'\r' | b'\n' => return Err(bad("header line without colon", p)),
                        _ => return Err(bad("invalid character in header name", p)),
                    }
                }
                State::ValueStart => {
                    while p < end && (buf[p] == b' ' || buf[p] == b'\t') {
                        p += 1;
                    }
                    if p == end {
                        break;
                    }
                    self.value_start = p;
                    self.value_end = p;
                    self.state = State::Value;
                }
                State::Value => {
                    let mut vend = self.value_end;
                    while p < end {
                        let c = buf[p];
                        if is_field_vchar(c) {
                            p += 1;
                            vend = p;
                        } else if c == b' ' || c == b'\t' {
                            p += 1;
                        } else {
                            break;
                        }
                    }
                    self.value_end = vend;
                    if p == end {
                        break;
                    }
                    match buf[p] {
                        b'\r' => {
                            self.state = State::ValueLf;
                            p += 1;
                        }
                        b'\n' => {
                            p += 1;
                            self.push_header(p)?;
                            self.state = State::LineStart;
                        }
                        0 => return Err(bad("NUL byte in header value", p)),
                        _ => return Err(bad("control character in header value", p)),
                    }
                }
            }
        }
        self.pos = p;
        Ok(false)
    }

    fn push_header(&mut self, at: usize) -> Result<(), ParseError> {
        if self.headers.len() >= self.max_headers {
            return Err(bad("too many headers", at));
        }
        if self.headers.capacity() == 0 {
            self.headers.reserve(16);
        }
        self.headers.push(HeaderSpan {
            name: self.name,
            value: span(self.value_start, self.value_end),
        });
        Ok(())
    }
}

fn request_version(v: &[u8], at: usize) -> Result<Version, ParseError> {
    match v {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', a, b'.', b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Err(ParseError::new(505, "unsupported HTTP version", at))
        }
        _ => Err(bad("invalid HTTP version", at)),
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
