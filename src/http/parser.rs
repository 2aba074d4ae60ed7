//! Incremental HTTP/1.x head parser (RFC 9110, RFC 9112): resumes where it
//! stopped when more bytes arrive and indexes the head in place.

use super::{HeaderSpan, Span, Version};

/// Why a head was rejected, with the status HAProxy would answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 400, 414, 431 or 501 for requests; 502 for responses (the caller maps).
    pub status: u16,
    /// Short reason for the log line and `show errors`.
    pub reason: &'static str,
    /// Offset in the buffer of the offending byte.
    pub at: usize,
}

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

/// Resumable parser state for one message head. `max` is the most bytes a
/// head may take (tune.bufsize - tune.maxrewrite).
pub struct HeadParser {
    _max: usize,
}

impl HeadParser {
    pub fn new(max: usize) -> HeadParser {
        HeadParser { _max: max }
    }
    /// Ok(None): need more bytes (call again with the same buffer, grown).
    pub fn parse_request(&mut self, _buf: &[u8]) -> Result<Option<RequestHead>, ParseError> {
        todo!("http request parser")
    }
    pub fn parse_response(&mut self, _buf: &[u8]) -> Result<Option<ResponseHead>, ParseError> {
        todo!("http response parser")
    }
    pub fn reset(&mut self) {
        todo!("http parser reset")
    }
}
