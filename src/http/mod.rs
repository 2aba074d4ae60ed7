//! HTTP/1.x for `mode http`: an incremental, strict head parser that indexes
//! the start line and headers inside the receive buffer (RFC 9112), body
//! framing checked as bytes stream through, owned editable heads for header
//! rules, HAProxy's error responses, and ACLs over requests and responses.

pub mod acl;
pub mod auth;
pub mod body;
pub mod compress;
pub mod errors;
pub mod expr;
pub mod fetch;
pub mod format;
pub mod forward;
pub mod message;
pub mod parser;
pub mod rules;
pub mod smuggling_cases;
pub mod track;

/// A byte range inside the buffer a head was parsed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub len: u32,
}

impl Span {
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start as usize..(self.start + self.len) as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

impl Version {
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// One header line: name and value (value without surrounding whitespace).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderSpan {
    pub name: Span,
    pub value: Span,
}
