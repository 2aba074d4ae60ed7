//! The HTTP/1 mux, one stream at a time: reading a connection into its
//! buffer, parsing a head at its front into a message and taking it (or a
//! small body) off, writing a serialized head and the body bytes behind it
//! in one vectored send, letting the body tracker claim (and de-chunk where
//! needed) the bytes that belong to a message body, discarding input, shutting
//! a connection's write side, and the framing of the responses pollux writes
//! itself. The transaction (`session::txn`) works on parsed messages and
//! decides; the bytes on the wire are handled here. Nothing here knows about
//! sessions: it works on a `conn::Side` and its buffer.

use crate::conn::Side;
use crate::core::buffer::{Buffer, BufferPool};
use crate::http::body::BodyTracker;
use crate::http::message::{Headers, Request, Response};
use crate::http::parser::{HeadParser, ParseError};
use crate::http::Version;
use std::io;
use std::time::Instant;

/// The HTTP/1 state of one stream over a client and a server connection:
/// the head parsers, each body's tracker and how many bytes at the front of
/// its buffer it has claimed (checked, not yet written), and the serialized
/// heads (and our own responses) waiting to go out.
pub struct H1Stream {
    pub req_parser: HeadParser,
    pub res_parser: HeadParser,
    pub req_body: Option<BodyTracker>,
    pub req_ready: usize,
    pub res_body: Option<BodyTracker>,
    pub res_ready: usize,
    pub to_srv: Vec<u8>,
    pub to_cli: Vec<u8>,
}

impl H1Stream {
    pub fn new(max_head: usize) -> H1Stream {
        H1Stream {
            req_parser: HeadParser::new(max_head),
            res_parser: HeadParser::new(max_head),
            req_body: None,
            req_ready: 0,
            res_body: None,
            res_ready: 0,
            to_srv: Vec::new(),
            to_cli: Vec::new(),
        }
    }

    /// Ready for the next request and response on the same connections
    /// (what is still queued to go out stays).
    pub fn next_message(&mut self) {
        self.req_parser.reset();
        self.res_parser.reset();
        self.req_body = None;
        self.res_body = None;
        self.req_ready = 0;
        self.res_ready = 0;
    }
}

/// Read once from `side` into `buf`. Ok(true) on progress (data or EOF).
pub fn read_side(
    side: &mut Side,
    buf: &mut Option<Buffer>,
    pool: &mut BufferPool,
    now: Instant,
) -> io::Result<bool> {
    if !side.conn.may_recv()
        || !side.state().can_read()
        || buf.as_ref().is_some_and(Buffer::is_full)
    {
        return Ok(false);
    }
    let b = buf.get_or_insert_with(|| pool.get());
    let r = side.read_into(b, now).map(|n| n.is_some());
    pool.release_if_empty(buf);
    r
}

/// Write `head` then up to `*ready` body bytes from the front of `buf`, in
/// one vectored write, so a head and its first body bytes go in one segment.
pub fn write_out(
    side: &mut Side,
    head: &mut Vec<u8>,
    buf: &mut Option<Buffer>,
    ready: &mut usize,
    pool: &mut BufferPool,
    now: Instant,
) -> io::Result<bool> {
    let body = match buf.as_ref() {
        Some(b) if *ready > 0 => &b.pending()[..*ready],
        _ => &[][..],
    };
    if (head.is_empty() && body.is_empty()) || !side.state().can_write() {
        return Ok(false);
    }
    let n = side.write_parts(&[head.as_slice(), body], now)?;
    let from_head = n.min(head.len());
    head.drain(..from_head);
    let from_body = n - from_head;
    if from_body > 0 {
        if let Some(b) = buf.as_mut() {
            b.consume(from_body);
        }
        *ready -= from_body;
        pool.release_if_empty(buf);
    }
    Ok(n > 0)
}

/// Let the tracker claim the not-yet-checked bytes of `buf` for the body,
/// and drop from the buffer what it says must not be forwarded. Ok: what
/// HAProxy would log of the bytes claimed (`BodyTracker::htx_len`).
pub fn track(
    tracker: &mut Option<BodyTracker>,
    buf: &mut Option<Buffer>,
    ready: &mut usize,
) -> Result<u64, ParseError> {
    let (Some(t), Some(b)) = (tracker.as_mut(), buf.as_mut()) else {
        return Ok(0);
    };
    let counted = t.htx_len();
    let pending = b.pending();
    if !t.is_done() && pending.len() > *ready {
        let before = t.consumed();
        // Errors count from the first body byte; `show errors` wants the
        // offset in the bytes it keeps (the unforwarded part of the buffer).
        let n = t.advance(&pending[*ready..]).map_err(|mut e| {
            e.at = (*ready).saturating_add(e.at.saturating_sub(before as usize));
            e
        })?;
        let mut cut = 0;
        for &(at, len) in t.cuts().iter().rev() {
            b.cut(*ready + at, len);
            cut += len;
        }
        *ready += n - cut;
        if *ready == 0 && b.is_full() {
            // A chunk-size line as long as the buffer: it can never complete.
            return Err(ParseError::new(400, "chunk size line too long", 0));
        }
    }
    Ok(t.htx_len() - counted)
}

/// What the head parser made of the bytes at the front of a buffer.
pub enum Head<M> {
    /// A complete head, as an owned message, and its length on the wire.
    Complete(M, usize),
    /// More bytes are needed.
    Partial,
    Invalid(ParseError),
}

/// The request head at the front of `buf`, once complete.
pub fn request_head(p: &mut HeadParser, buf: &Buffer) -> Head<Request> {
    match p.parse_request(buf.pending()) {
        Ok(Some(h)) => Head::Complete(Request::from_head(&h, buf.pending()), h.len),
        Ok(None) => Head::Partial,
        Err(e) => Head::Invalid(e),
    }
}

/// The response head at the front of `buf`, once complete.
pub fn response_head(p: &mut HeadParser, buf: &Buffer) -> Head<Response> {
    match p.parse_response(buf.pending()) {
        Ok(Some(h)) => Head::Complete(Response::from_head(&h, buf.pending()), h.len),
        Ok(None) => Head::Partial,
        Err(e) => Head::Invalid(e),
    }
}

/// The parsed head (or the part of a message) at the front of `buf`,
/// `len` bytes long, is taken off: it goes out re-serialized.
pub fn take(buf: &mut Option<Buffer>, len: usize) {
    if let Some(b) = buf.as_mut() {
        b.consume(len);
    }
}

/// Up to `len` body bytes at the front of `buf`, taken off (a small body
/// read whole, as the stats form).
pub fn take_body(buf: &mut Option<Buffer>, len: usize) -> Vec<u8> {
    let Some(b) = buf.as_mut() else {
        return Vec::new();
    };
    let n = len.min(b.len());
    let body = b.pending()[..n].to_vec();
    b.consume(n);
    body
}

/// Drop whatever was read (draining a connection after our answer).
pub fn discard(buf: &mut Option<Buffer>, pool: &mut BufferPool) {
    if let Some(b) = buf.as_mut() {
        let n = b.len();
        b.consume(n);
    }
    pool.release_if_empty(buf);
}

/// Nothing more will be written to `side`: shut its write side, so the
/// peer reads our answer and then EOF.
pub fn shut(side: &mut Side) {
    side.conn.shut_write();
}

/// The bytes of a message not forwarded yet (`show errors` keeps them).
pub fn unforwarded(buf: &Option<Buffer>) -> Vec<u8> {
    buf.as_ref().map_or_else(Vec::new, |b| b.pending().to_vec())
}

pub fn htx_len_of(bytes: &[u8], head_only: bool) -> u64 {
    let mut p = HeadParser::new(bytes.len() + 1);
    let Ok(Some(head)) = p.parse_response(bytes) else {
        return 0;
    };
    let body = if head_only { 0 } else { bytes.len() - head.len };
    Response::from_head(&head, bytes).htx_len() + body as u64
}

/// The status code of a complete raw response (0 if unreadable).
pub fn status_of(bytes: &[u8]) -> u16 {
    bytes
        .get(9..12)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// Rewrite the Connection header of a complete response of our own.
pub fn with_connection(bytes: Vec<u8>, keep: bool, v: Version) -> Vec<u8> {
    let mut p = HeadParser::new(bytes.len() + 1);
    let Ok(Some(head)) = p.parse_response(&bytes) else {
        return bytes;
    };
    let mut res = Response::from_head(&head, &bytes);
    res.del_header("connection");
    if !keep {
        res.add_header("Connection", "close");
    } else if v == Version::Http10 {
        res.add_header("Connection", "keep-alive");
    }
    let mut out = Vec::with_capacity(bytes.len() + 32);
    res.serialize(&mut out);
    out.extend_from_slice(&bytes[head.len..]);
    out
}
