//! The HTTP/1 mux, one stream at a time: between a client and a server
//! connection's bytes and the transaction's messages. It reads a
//! connection into its input buffer, parses the head at its front into a
//! message and takes it off, lets the body tracker claim (and de-chunk
//! where needed) the bytes that belong to a body, writes a serialized head
//! and the claimed body bytes behind it in one vectored send, drains and
//! shuts, and frames the responses pollux writes itself. The transaction
//! (`session::txn`) works on messages and decides; it reaches the
//! connections only through [`H1Mux`] and the facts of [`Conns`].
//!
//! The input buffers stay the session's: TCP forwarding, content
//! inspection and tunnels use the same ones, so the mux borrows them for
//! each call ([`Conns`], [`ConnsMut`]) instead of owning copies, and a body
//! goes from the buffer it was read into straight to the other side.
//! Nothing here knows about sessions.

use crate::conn::Side;
use crate::core::buffer::{Buffer, BufferPool};
use crate::http::body::{BodyTracker, Framing};
use crate::http::compress::{Algo, Dechunk, Encoder};
use crate::http::message::{Headers, Request, Response};
use crate::http::parser::{HeadParser, ParseError};
use crate::http::Version;
use std::io;
use std::time::Instant;

/// The HTTP/1 state of one stream over a client and a server connection:
/// the head parsers, each body's tracker and how many bytes at the front of
/// its buffer it has claimed (checked, not yet written), and the serialized
/// heads (and our own responses) waiting to go out.
pub struct H1Mux {
    req_parser: HeadParser,
    res_parser: HeadParser,
    req_body: Option<BodyTracker>,
    req_ready: usize,
    res_body: Option<BodyTracker>,
    res_ready: usize,
    to_srv: Vec<u8>,
    to_cli: Vec<u8>,
    /// The response body being compressed (`compression`): the claimed
    /// bytes go through it into `to_cli` instead of out as they are.
    comp: Option<Box<Compressing>>,
}

/// A response body on its way through the compressor.
struct Compressing {
    enc: Encoder,
    /// For a chunked body: its payload without the chunk framing.
    dechunk: Option<Dechunk>,
    payload: Vec<u8>,
    finished: bool,
}

/// Compressed output held for the client before the body waits for it
/// (the server is read no further meanwhile).
const COMP_HIGH: usize = 32 * 1024;

/// A stream's two connections and their input buffers (client -> server
/// bytes in `req`, server -> client in `res`), lent to the mux to look at.
/// Only the mux opens it: its users get the facts below.
pub struct Conns<'a> {
    client: &'a Side,
    srv: Option<&'a Side>,
    req: &'a Option<Buffer>,
    res: &'a Option<Buffer>,
}

/// The same, lent for reading, writing and taking bytes off; only the mux
/// uses what is inside.
pub struct ConnsMut<'a> {
    client: &'a mut Side,
    srv: Option<&'a mut Side>,
    req: &'a mut Option<Buffer>,
    res: &'a mut Option<Buffer>,
}

impl<'a> ConnsMut<'a> {
    pub fn new(
        client: &'a mut Side,
        srv: Option<&'a mut Side>,
        req: &'a mut Option<Buffer>,
        res: &'a mut Option<Buffer>,
    ) -> ConnsMut<'a> {
        ConnsMut {
            client,
            srv,
            req,
            res,
        }
    }
}

impl<'a> Conns<'a> {
    pub fn new(
        client: &'a Side,
        srv: Option<&'a Side>,
        req: &'a Option<Buffer>,
        res: &'a Option<Buffer>,
    ) -> Conns<'a> {
        Conns {
            client,
            srv,
            req,
            res,
        }
    }

    /// The client will send nothing more (EOF or error).
    pub fn client_eof(&self) -> bool {
        self.client.state().input_closed()
    }

    /// The server will send nothing more (false without a server).
    pub fn server_eof(&self) -> bool {
        self.srv.is_some_and(|s| s.state().input_closed())
    }

    /// Bytes from the client sit in the input buffer (possibly none left
    /// once a head was taken off).
    pub fn has_client_input(&self) -> bool {
        self.req.is_some()
    }

    /// The client's bytes not taken or forwarded yet.
    pub fn client_input(&self) -> &'a [u8] {
        self.req.as_ref().map_or(&[][..], Buffer::pending)
    }

    /// The server's bytes not taken or forwarded yet.
    pub fn server_input(&self) -> &[u8] {
        self.res.as_ref().map_or(&[][..], Buffer::pending)
    }
}

impl H1Mux {
    pub fn new(max_head: usize) -> H1Mux {
        H1Mux {
            req_parser: HeadParser::new(max_head),
            res_parser: HeadParser::new(max_head),
            req_body: None,
            req_ready: 0,
            res_body: None,
            res_ready: 0,
            to_srv: Vec::new(),
            to_cli: Vec::new(),
            comp: None,
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
        self.comp = None;
    }

    // The request, client -> server.

    /// Read the client once. Ok(true) on progress (data or EOF).
    pub fn read_client(
        &mut self,
        c: &mut ConnsMut,
        pool: &mut BufferPool,
        now: Instant,
    ) -> io::Result<bool> {
        read_side(c.client, c.req, pool, now)
    }

    /// The request head at the front of the client's input, once complete;
    /// None before any byte.
    pub fn request_head(&mut self, c: &Conns) -> Option<Head<Request>> {
        let buf = c.req.as_ref()?;
        Some(match self.req_parser.parse_request(buf.pending()) {
            Ok(Some(h)) => Head::Complete(Request::from_head(&h, buf.pending()), h.len),
            Ok(None) => Head::Partial,
            Err(e) => Head::Invalid(e),
        })
    }

    /// The parsed request head, `len` bytes long, is taken off the input:
    /// it goes out re-serialized.
    pub fn take_request_head(&mut self, c: &mut ConnsMut, len: usize) {
        if let Some(b) = c.req.as_mut() {
            b.consume(len);
        }
    }

    /// Up to `len` body bytes taken off the client's input (a small body
    /// read whole, as the stats form).
    pub fn take_request_body(&mut self, c: &mut ConnsMut, len: usize) -> Vec<u8> {
        let Some(b) = c.req.as_mut() else {
            return Vec::new();
        };
        let n = len.min(b.len());
        let body = b.pending()[..n].to_vec();
        b.consume(n);
        body
    }

    /// The request as it goes to the server: its serialized head queued and
    /// its body framed as `framing` says. Returns the head's length.
    pub fn send_request_head(&mut self, req: &Request, framing: Framing) -> usize {
        self.req_body = match framing {
            Framing::None => None,
            f => Some(BodyTracker::new(f)),
        };
        self.req_ready = 0;
        self.req_parser.reset();
        self.to_srv.clear();
        req.serialize(&mut self.to_srv);
        self.to_srv.len()
    }

    /// The queued request head will not be sent after all.
    pub fn cancel_request_head(&mut self) {
        self.to_srv.clear();
    }

    /// Let the request body claim the bytes read. Ok: what HAProxy would
    /// log of the bytes claimed.
    pub fn claim_request_body(&mut self, c: &mut ConnsMut) -> Result<u64, ParseError> {
        track(&mut self.req_body, c.req, &mut self.req_ready)
    }

    /// The request body has not fully arrived (nor been refused).
    pub fn request_body_open(&self) -> bool {
        self.req_body.as_ref().is_some_and(|b| !b.is_done())
    }

    /// Every claimed request body byte went out.
    pub fn request_body_flushed(&self) -> bool {
        self.req_ready == 0
    }

    /// The request head went out whole.
    pub fn request_head_sent(&self) -> bool {
        self.to_srv.is_empty()
    }

    /// The whole request went out: head, body, nothing claimed left.
    pub fn request_sent(&self) -> bool {
        !self.request_body_open() && self.req_ready == 0 && self.to_srv.is_empty()
    }

    /// The request head, then the body bytes claimed, to the server (if
    /// there is one).
    pub fn send_to_server(
        &mut self,
        c: &mut ConnsMut,
        pool: &mut BufferPool,
        now: Instant,
    ) -> io::Result<bool> {
        let Some(srv) = c.srv.as_deref_mut() else {
            return Ok(false);
        };
        write_out(srv, &mut self.to_srv, c.req, &mut self.req_ready, pool, now)
    }

    /// Drop whatever the client sent (draining after our answer).
    pub fn discard_client_input(&mut self, c: &mut ConnsMut, pool: &mut BufferPool) {
        if let Some(b) = c.req.as_mut() {
            let n = b.len();
            b.consume(n);
        }
        pool.release_if_empty(c.req);
    }

    /// Shut the client connection's write side after our answer, so the
    /// client reads it and then EOF.
    pub fn shut_client(&mut self, c: &mut ConnsMut) {
        c.client.conn.shut_write();
    }

    // The response, server -> client.

    /// Read the server once (if there is one). Ok(true) on progress.
    pub fn read_server(
        &mut self,
        c: &mut ConnsMut,
        pool: &mut BufferPool,
        now: Instant,
    ) -> io::Result<bool> {
        let Some(srv) = c.srv.as_deref_mut() else {
            return Ok(false);
        };
        read_side(srv, c.res, pool, now)
    }

    /// An idle kept-alive server connection between requests: true if it
    /// sent a byte, an EOF or an error, which ends it (what it sent is
    /// dropped).
    pub fn idle_server_spoke(
        &mut self,
        c: &mut ConnsMut,
        pool: &mut BufferPool,
        now: Instant,
    ) -> bool {
        if !self.read_server(c, pool, now).unwrap_or(true) {
            return false;
        }
        if let Some(b) = c.res.take() {
            pool.put(b);
        }
        true
    }

    /// The response head at the front of the server's input, once
    /// complete; None before any byte.
    pub fn response_head(&mut self, c: &Conns) -> Option<Head<Response>> {
        let buf = c.res.as_ref()?;
        Some(match self.res_parser.parse_response(buf.pending()) {
            Ok(Some(h)) => Head::Complete(Response::from_head(&h, buf.pending()), h.len),
            Ok(None) => Head::Partial,
            Err(e) => Head::Invalid(e),
        })
    }

    /// The parsed response head, `len` bytes long, is taken off the input
    /// (it goes out re-serialized); the parser waits for the next one.
    pub fn take_response_head(&mut self, c: &mut ConnsMut, pool: &mut BufferPool, len: usize) {
        if let Some(b) = c.res.as_mut() {
            b.consume(len);
        }
        pool.release_if_empty(c.res);
        self.res_parser.reset();
    }

    /// A response head (interim or final) queued for the client, behind
    /// what is queued already. Returns its length.
    pub fn send_response_head(&mut self, res: &Response) -> usize {
        let before = self.to_cli.len();
        res.serialize(&mut self.to_cli);
        self.to_cli.len() - before
    }

    /// The final response's body is framed as `framing` says.
    pub fn start_response_body(&mut self, framing: Framing) {
        self.res_body = match framing {
            Framing::None => None,
            f => Some(BodyTracker::new(f)),
        };
        self.res_ready = 0;
    }

    /// Compress the response body that starts (its head, rewritten for it,
    /// went out): `chunked` says how the server frames it.
    pub fn compress_response(&mut self, algo: Algo, level: u32, chunked: bool) {
        self.comp = Some(Box::new(Compressing {
            enc: Encoder::new(algo, level),
            dechunk: chunked.then(Dechunk::default),
            payload: Vec::new(),
            finished: false,
        }));
    }

    /// Through the compressor: the claimed body bytes (while the client
    /// keeps up), then the end of the stream once the body is complete.
    fn compress_ready(&mut self, res: &mut Option<Buffer>, pool: &mut BufferPool) {
        let Some(cz) = self.comp.as_deref_mut() else {
            return;
        };
        if self.res_ready > 0 && self.to_cli.len() < COMP_HIGH {
            if let Some(b) = res.as_mut() {
                let data = &b.pending()[..self.res_ready];
                cz.payload.clear();
                match cz.dechunk.as_mut() {
                    Some(d) => d.feed(data, &mut cz.payload),
                    None => cz.payload.extend_from_slice(data),
                }
                cz.enc.push(&cz.payload, &mut self.to_cli);
                b.consume(self.res_ready);
                self.res_ready = 0;
                pool.release_if_empty(res);
            }
        }
        let complete = !self.res_body.as_ref().is_some_and(|b| !b.is_done());
        if self.res_ready == 0 && complete && !cz.finished {
            cz.enc.finish(&mut self.to_cli);
            cz.finished = true;
        }
    }

    /// The compressor still has output to make (its end, once the body
    /// is complete).
    fn compressor_owes(&self) -> bool {
        self.comp.as_ref().is_some_and(|c| !c.finished)
    }

    /// Let the response body claim the bytes read. Ok: what HAProxy would
    /// log of the bytes claimed.
    pub fn claim_response_body(&mut self, c: &mut ConnsMut) -> Result<u64, ParseError> {
        track(&mut self.res_body, c.res, &mut self.res_ready)
    }

    /// The response body has not fully arrived.
    pub fn response_body_open(&self) -> bool {
        self.res_body.as_ref().is_some_and(|b| !b.is_done())
    }

    /// Every claimed response body byte went out.
    pub fn response_body_flushed(&self) -> bool {
        self.res_ready == 0
    }

    /// The server closed: whether the body may end there (a body read
    /// until close) or was cut short. Ok without a body.
    pub fn response_body_eof(&mut self) -> Result<(), ParseError> {
        match self.res_body.as_mut() {
            Some(b) if !b.is_done() => b.eof(),
            _ => Ok(()),
        }
    }

    /// The whole response went out (its head is the transaction's to know).
    pub fn response_sent(&self) -> bool {
        !self.response_body_open()
            && self.res_ready == 0
            && self.to_cli.is_empty()
            && !self.compressor_owes()
    }

    /// A response of our own replaces whatever was queued for the client.
    pub fn answer(&mut self, bytes: Vec<u8>) {
        self.to_cli = bytes;
    }

    /// What is queued for the client (our own response, for the log).
    pub fn queued_to_client(&self) -> &[u8] {
        &self.to_cli
    }

    /// Bytes wait to go to the client.
    pub fn client_output_pending(&self) -> bool {
        !self.to_cli.is_empty()
    }

    /// Queued bytes, then (with `body`) the claimed response body bytes,
    /// to the client.
    pub fn send_to_client(
        &mut self,
        c: &mut ConnsMut,
        body: bool,
        pool: &mut BufferPool,
        now: Instant,
    ) -> io::Result<bool> {
        if body && self.comp.is_some() {
            // Compressed output goes out as our own bytes, never the
            // server's as they are.
            self.compress_ready(c.res, pool);
            let mut none = 0;
            let sent = write_out(c.client, &mut self.to_cli, c.res, &mut none, pool, now)?;
            self.compress_ready(c.res, pool);
            return Ok(sent);
        }
        let mut none = 0;
        let ready = if body { &mut self.res_ready } else { &mut none };
        write_out(c.client, &mut self.to_cli, c.res, ready, pool, now)
    }

    // What the mux wants from the poller.

    /// The client connection's (read, write): read while `want_input` and
    /// there is room, write while bytes wait for it.
    pub fn client_interest(&self, c: &Conns, want_input: bool) -> (bool, bool) {
        let room = !c.req.as_ref().is_some_and(Buffer::is_full);
        let state = c.client.state();
        let read = state.can_read() && room && want_input;
        let complete = !self.res_body.as_ref().is_some_and(|b| !b.is_done());
        let write = state.can_write()
            && (!self.to_cli.is_empty()
                || (self.res_ready > 0 && c.res.as_ref().is_some_and(|b| !b.is_empty()))
                || (self.compressor_owes() && complete));
        (read, write)
    }

    /// The server connection's (read, write) once connected: read while a
    /// response is `expecting` and there is room, write while request bytes
    /// wait.
    pub fn server_interest(&self, c: &Conns, expecting: bool) -> (bool, bool) {
        let Some(srv) = c.srv else {
            return (false, false);
        };
        let room = !c.res.as_ref().is_some_and(Buffer::is_full);
        let read = srv.state().can_read() && room && expecting;
        let write = srv.state().can_write() && (!self.to_srv.is_empty() || self.req_ready > 0);
        (read, write)
    }
}

/// Read once from `side` into `buf`. Ok(true) on progress (data or EOF).
fn read_side(
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
fn write_out(
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
fn track(
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

/// What HAProxy would log of a complete raw response of ours (its head
/// only for a HEAD request).
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
