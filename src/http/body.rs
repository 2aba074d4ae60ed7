//! Message body framing (RFC 9112 §6): Content-Length, chunked, close-delimited.
//! (Interface stub; implemented on branch wt-h1.)
use super::message::{Request, Response};
use super::parser::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

pub fn request_framing(_req: &Request) -> Result<Framing, ParseError> {
    todo!()
}
pub fn normalize_request_framing(_req: &mut Request, _f: &Framing) {
    todo!()
}
pub fn response_framing(_res: &Response, _req_method: &str) -> Result<Framing, ParseError> {
    todo!()
}

pub struct BodyTracker {}
impl BodyTracker {
    pub fn new(_f: Framing) -> BodyTracker {
        todo!()
    }
    pub fn advance(&mut self, _data: &[u8]) -> Result<usize, ParseError> {
        todo!()
    }
    pub fn is_done(&self) -> bool {
        todo!()
    }
    pub fn eof(&mut self) -> Result<(), ParseError> {
        todo!()
    }
}
