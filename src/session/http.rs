//! The HTTP/1.x transaction of a session (`mode http`): the request and
//! response analysers that sit between the buffers and the sockets. A request
//! head is parsed in place, turned into an owned `Request`, run through the
//! rules, re-serialized towards the server; its body streams through with its
//! framing checked, never buffered whole. The response goes the same way back.
//! Keep-alive on both sides: after a complete exchange the next request is
//! parsed, switched and balanced on its own.

use super::decide::{CookieIn, CookieOut, Decide, PersistFlags, PersistResponse, Tracking};
use super::{Abort, Phase, Session, Side};
use crate::core::buffer::{Buffer, BufferPool};
use crate::http::acl::{Condition, Truth};
use crate::http::body::{self, BodyTracker, Framing};
use crate::http::errors::ErrorPages;
use crate::http::fetch::FetchCtx;
use crate::http::forward;
use crate::http::message::{Headers, Request, Response};
use crate::http::parser::{HeadParser, ParseError};
use crate::http::rules::{self, Rule, Verdict};
use crate::http::track::Slots;
use crate::http::Version;
use crate::pollers::Interest;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// `option http-keep-alive | http-server-close | httpclose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

impl ConnMode {
    /// Frontend and backend combined: the most closing one wins, as HAProxy.
    fn combine(self, other: ConnMode) -> ConnMode {
        use ConnMode::*;
        match (self, other) {
            (Close, _) | (_, Close) => Close,
            (ServerClose, _) | (_, ServerClose) => ServerClose,
            _ => KeepAlive,
        }
    }
}

/// `option forwardfor` / `option originalto`: header name, exception network.
#[derive(Debug, Clone)]
pub struct AddrHeader {
    pub header: String,
    pub except: Option<(IpAddr, u8)>,
    /// forwardfor `if-none`: only when the header is absent.
    pub if_none: bool,
}

/// The HTTP settings of one proxy (frontend or backend side) at run time.
#[derive(Debug, Clone, Default)]
pub struct HttpSide {
    pub rules_req: Vec<Rule>,
    pub rules_res: Vec<Rule>,
    pub conn_mode: ConnMode,
    pub forwardfor: Option<AddrHeader>,
    pub originalto: Option<AddrHeader>,
    pub errors: ErrorPages,
}

/// Frontend-only HTTP settings: content switching and monitoring.
#[derive(Debug, Clone, Default)]
pub struct HttpFront {
    pub side: HttpSide,
    pub use_backend: Vec<(usize, Option<Condition>)>,
    pub default_backend: Option<usize>,
    pub monitor_uri: Option<String>,
    /// For a `listen` section: its own backend, whose rules are the
    /// frontend's and must not run twice.
    pub own_backend: Option<usize>,
    /// `capture request header NAME len N`, `capture response header ...`,
    /// `capture cookie NAME len N`.
    pub captures_req: Vec<(String, usize)>,
    pub captures_res: Vec<(String, usize)>,
    pub capture_cookie: Option<(String, usize)>,
    /// `stats uri`: requests under this prefix go to the stats page.
    pub stats_uri: Option<String>,
}

/// A request the engine answers itself: the stats page or a `use-service`.
#[derive(Debug)]
pub struct AppletReq {
    /// None: the stats page; Some: an `http-request use-service`.
    pub service: Option<rules::Service>,
    pub req: Request,
    /// The request body (the stats admin form), complete.
    pub body: Vec<u8>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    keep: bool,
}

/// What happened in a transaction, for the engine's counters (drained by
/// the engine after each step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnEvent {
    /// A request head was parsed.
    Request,
    /// A response head went to the client; `server`: the server's own.
    Response { status: u16, server: bool },
    /// Denied by a rule (`deny`, `tarpit`).
    Denied,
    /// An invalid or refused request (parse, framing).
    BadRequest,
    /// A server's response denied by an `http-response` rule.
    DeniedResponse,
}

/// The most a stats form body may hold (it must fit in the buffer anyway).
const MAX_APPLET_BODY: usize = 8192;

/// What the analysers need to know about the proxies.
pub struct Conf<'a> {
    pub fe: &'a HttpFront,
    /// HTTP settings of every backend, by index.
    pub backends: &'a [HttpSide],
    /// Most bytes a head may take: tune.bufsize - tune.maxrewrite.
    pub max_head: usize,
    /// Backend names, by index (stick tables are named after sections).
    pub be_names: &'a [String],
    /// tune.bufsize: a head rewritten by the rules must still fit in it
    /// (the `tune.maxrewrite` reserve is what rewrites may add).
    pub bufsize: usize,
    pub fe_name: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    /// Reading and parsing a request head.
    WaitRequest,
    /// Request analysed; the engine is finding or connecting a server.
    WaitServer,
    /// Request (head, body) to the server, response back to the client.
    Exchange,
    /// Sending a response of our own (error, redirect, return, monitor).
    Respond,
    /// After 101 Switching Protocols or a 2xx to CONNECT: raw bytes both ways.
    Tunnel,
    /// Error sent and write side shut: discard input until EOF, so the
    /// client reads the response instead of a reset.
    Drain,
    /// `tarpit`: hold the client until `timeout tarpit`, then answer.
    Tarpit,
}

/// What the engine must do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Wait,
    /// Connect to (or reuse) a server of this backend for the current request.
    NeedServer(usize),
    /// Close the server connection, keep the client.
    DropServer,
    Close,
}

pub struct Txn {
    pub state: TxnState,
    req_parser: HeadParser,
    res_parser: HeadParser,
    pub req: Option<Request>,
    req_body: Option<BodyTracker>,
    /// Body bytes at the front of the request buffer already checked by the
    /// tracker and not yet written.
    req_ready: usize,
    res_body: Option<BodyTracker>,
    res_ready: usize,
    res_head_done: bool,
    to_srv: Vec<u8>,
    to_cli: Vec<u8>,
    close_after: bool,
    client_keep: bool,
    server_keep: bool,
    head_method: bool,
    connect_method: bool,
    pub since: Instant,
    /// Exchanges completed on this client connection.
    pub requests: u32,
    pub backend: Option<usize>,
    /// Whether anything of the current response reached the client.
    pub response_started: bool,
    pub last_status: Option<u16>,
    /// Status to answer once a tarpit delay ends.
    pub tarpit_status: u16,
    /// Captured request and response headers (one slot per `capture`
    /// line, None when absent) and cookies, kept for the log line.
    pub captured_req: Vec<Option<String>>,
    pub captured_res: Vec<Option<String>>,
    pub captured_cookie: Option<String>,
    pub captured_set_cookie: Option<String>,
    /// Set when a server's final response head arrived: how long after the
    /// request was analysed, and its status (for `balance response-time` and
    /// `observe layer7`). The engine takes them after each step.
    pub server_reply: Option<(std::time::Duration, u16)>,
    /// When the request head was fully handed to the server.
    req_sent: Option<Instant>,
    /// `track-scN` entries of this transaction.
    pub slots: Slots,
    /// Persistence for the current request: force/ignore/persist flags, the
    /// server a cookie or stick table designates, and whether a cookie did.
    pub persist_flags: PersistFlags,
    pub forced_server: Option<usize>,
    /// The cookie bound the request to `forced_server` (HAProxy's
    /// SF_DIRECT); cleared when a redispatch moves it.
    pub by_cookie: bool,
    /// The log's cookie letters: what the request's cookie was, what the
    /// response did with it.
    pub cookie_in: CookieIn,
    pub cookie_out: CookieOut,
    /// The request as the client sent its cookies, before `indirect` or
    /// `prefix` stripped ours (the response side must know what it held).
    pub cookie_req: Option<Request>,
    /// The last message the parser rejected, for `show errors`; the engine
    /// takes it after each step.
    pub bad: Option<Box<BadMessage>>,
    /// A request for the engine to answer (stats page, `use-service`).
    pub applet: Option<Box<AppletReq>>,
    /// Counter events since the engine last looked.
    pub events: Vec<TxnEvent>,
    /// What HAProxy 2.6 logs as the bytes of this transaction (%B, %U): the
    /// messages as received, in its internal (HTX) size (`Request::htx_len`,
    /// `BodyTracker::htx_len`), and the answers pollux makes itself. The
    /// engine resets them once the transaction is logged.
    pub htx_out: u64,
    pub htx_in: u64,
}

/// A request or response head the parser rejected, with its bytes.
#[derive(Debug, Clone)]
pub struct BadMessage {
    pub request: bool,
    pub reason: &'static str,
    /// Offset of the offending byte in `bytes`.
    pub at: usize,
    pub bytes: Vec<u8>,
}

impl Txn {
    pub fn new(max_head: usize, now: Instant) -> Txn {
        Txn {
            state: TxnState::WaitRequest,
            req_parser: HeadParser::new(max_head),
            res_parser: HeadParser::new(max_head),
            req: None,
            req_body: None,
            req_ready: 0,
            res_body: None,
            res_ready: 0,
            res_head_done: false,
            to_srv: Vec::new(),
            to_cli: Vec::new(),
            close_after: false,
            client_keep: false,
            server_keep: false,
            head_method: false,
            connect_method: false,
            since: now,
            requests: 0,
            backend: None,
            response_started: false,
            last_status: None,
            tarpit_status: 500,
            captured_req: Vec::new(),
            captured_res: Vec::new(),
            captured_cookie: None,
            captured_set_cookie: None,
            server_reply: None,
            req_sent: None,
            slots: Default::default(),
            persist_flags: PersistFlags::default(),
            forced_server: None,
            by_cookie: false,
            cookie_in: CookieIn::None,
            cookie_out: CookieOut::None,
            cookie_req: None,
            bad: None,
            applet: None,
            events: Vec::new(),
            htx_out: 0,
            htx_in: 0,
        }
    }

    /// The engine's answer to [`Txn::applet`]: send it, keeping the
    /// connection as the request allowed.
    pub fn respond_applet(&mut self, a: &AppletReq, bytes: Vec<u8>) {
        let status = status_of(&bytes);
        self.events.push(TxnEvent::Response {
            status,
            server: false,
        });
        self.to_cli = with_connection(bytes, a.keep, a.req.version);
        self.htx_out += htx_len_of(&self.to_cli, self.head_method);
        self.close_after = !a.keep;
        self.state = TxnState::Respond;
        self.response_started = true;
        self.last_status = Some(status);
    }

    /// A redispatch moved the request away from the server its cookie
    /// named (`to` another one): no longer direct, and a valid cookie is
    /// logged as one for a DOWN server, as HAProxy (`assign_server_and_queue`).
    pub fn redispatched(&mut self, to_another: bool) {
        if self.by_cookie && to_another && self.cookie_in == CookieIn::Valid {
            self.cookie_in = CookieIn::Down;
        }
        self.by_cookie = false;
    }

    /// The request body has not fully arrived (nor been refused).
    pub fn request_incomplete(&self) -> bool {
        self.req_body.as_ref().is_some_and(|b| !b.is_done())
    }

    /// Waiting for a response head from the server (for timeout server -> 504).
    pub fn awaiting_response(&self) -> bool {
        self.state == TxnState::Exchange && !self.res_head_done
    }

    /// Answer with an error page and close once it is sent.
    pub fn fail(&mut self, status: u16, pages: &ErrorPages) {
        self.fail_with(status, pages, pages);
    }

    /// Answer with the backend's error page, else the frontend's.
    pub fn fail_with(&mut self, status: u16, be: &ErrorPages, fe: &ErrorPages) {
        self.refuse(status, be, fe);
        self.htx_out += htx_len_of(&self.to_cli, self.head_method);
    }

    /// `fail_with` for what HAProxy's HTTP/1 layer refuses itself (a request
    /// it cannot parse, a timeout before one arrived): it logs no bytes.
    pub fn refuse(&mut self, status: u16, be: &ErrorPages, fe: &ErrorPages) {
        self.to_cli = be.get_or(status, fe).into_owned();
        self.events.push(TxnEvent::Response {
            status,
            server: false,
        });
        self.close_after = true;
        self.state = TxnState::Respond;
        self.last_status = Some(status);
        self.response_started = true;
    }

    /// Request-side bytes still expected from the client.
    fn wants_client_input(&self) -> bool {
        match self.state {
            // Reading ahead while a request is served keeps the client's
            // interest steady (no poller update per request); pipelined
            // bytes wait in the buffer until their turn.
            TxnState::WaitRequest
            | TxnState::Drain
            | TxnState::WaitServer
            | TxnState::Exchange
            | TxnState::Respond => true,
            TxnState::Tunnel | TxnState::Tarpit => false,
        }
    }

    fn request_done(&self) -> bool {
        self.req_body.as_ref().map_or(true, BodyTracker::is_done)
            && self.req_ready == 0
            && self.to_srv.is_empty()
    }

    fn response_done(&self) -> bool {
        self.res_head_done
            && self.res_body.as_ref().map_or(true, BodyTracker::is_done)
            && self.res_ready == 0
            && self.to_cli.is_empty()
    }

    /// Ready for the next request on the same connection.
    fn next_request(&mut self, now: Instant) {
        self.state = TxnState::WaitRequest;
        self.req_parser.reset();
        self.res_parser.reset();
        self.req = None;
        self.req_body = None;
        self.res_body = None;
        self.res_head_done = false;
        self.req_ready = 0;
        self.res_ready = 0;
        self.close_after = false;
        self.since = now;
        self.requests += 1;
        self.response_started = false;
        self.backend = None;
        self.req_sent = None;
    }

    /// Both sides' interests, or None in a tunnel whose head went out (then
    /// the TCP rules apply).
    pub fn interests(&self, s: &Session) -> Option<(Interest, Option<Interest>)> {
        if self.state == TxnState::Tunnel && self.to_cli.is_empty() {
            return None;
        }
        let (read, write) = self.client_interest(s);
        let srv = s.srv.as_ref().map(|_| match s.phase {
            Phase::Connecting { .. } => Interest::WRITE,
            Phase::Connected => {
                let (read, write) = self.server_interest(s);
                Interest { read, write }
            }
            _ => Interest::NONE,
        });
        Some((Interest { read, write }, srv))
    }

    /// The client's interest: read while request bytes are expected (or to
    /// spot a close when idle), write while bytes wait for it.
    pub fn client_interest(&self, s: &Session) -> (bool, bool) {
        let room = !s.req.as_ref().is_some_and(Buffer::is_full);
        let read = s.client.state().can_read() && room && self.wants_client_input();
        let write = s.client.state().can_write()
            && (!self.to_cli.is_empty()
                || (self.res_ready > 0 && s.res.as_ref().is_some_and(|b| !b.is_empty())));
        (read, write)
    }

    /// The server's interest once connected.
    pub fn server_interest(&self, s: &Session) -> (bool, bool) {
        let Some(srv) = s.srv.as_ref() else {
            return (false, false);
        };
        let room = !s.res.as_ref().is_some_and(Buffer::is_full);
        let expecting = match self.state {
            TxnState::WaitRequest => true,
            TxnState::Exchange => {
                !self.res_head_done || self.res_body.as_ref().is_some_and(|b| !b.is_done())
            }
            _ => false,
        };
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

/// A body the tracker refused, kept for `show errors` with the bytes not yet
/// forwarded (the head and earlier body bytes are gone).
fn bad_body(e: &ParseError, buf: &Option<Buffer>, request: bool) -> Option<Box<BadMessage>> {
    Some(Box::new(BadMessage {
        request,
        reason: e.reason,
        at: e.at,
        bytes: buf.as_ref().map_or_else(Vec::new, |b| b.pending().to_vec()),
    }))
}

fn in_net(ip: IpAddr, net: Option<(IpAddr, u8)>) -> bool {
    let Some((base, bits)) = net else {
        return false;
    };
    match (ip, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits.min(32)))
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits.min(128)))
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// Run the HTTP analysers and move bytes as far as possible.
pub fn pump(
    s: &mut Session,
    conf: &Conf,
    decide: &mut dyn Decide,
    pool: &mut BufferPool,
    now: Instant,
) -> Result<Step, Abort> {
    let Some(mut txn) = s.http.take() else {
        return Ok(Step::Close);
    };
    let r = pump_txn(s, &mut txn, conf, decide, pool, now);
    let tunnel = txn.state == TxnState::Tunnel && txn.to_cli.is_empty();
    s.http = Some(txn);
    if tunnel && s.log.as_ref().is_some_and(|r| r.tunnel_from.is_none()) {
        let at = s.client_bytes();
        if let Some(r) = s.log.as_mut() {
            r.tunnel_from = Some(at);
        }
    }
    if tunnel && matches!(r, Ok(Step::Wait)) {
        // After 101 or a CONNECT's 2xx: plain TCP forwarding both ways.
        s.pump(pool, now)?;
        return Ok(if s.is_done() { Step::Close } else { Step::Wait });
    }
    r
}

fn pump_txn(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    pool: &mut BufferPool,
    now: Instant,
) -> Result<Step, Abort> {
    let connected = s.phase == Phase::Connected;
    for _ in 0..16 {
        let mut progress = false;
        // Client -> request buffer.
        if t.wants_client_input() {
            progress |= read_side(&mut s.client, &mut s.req, pool, now).map_err(Abort::Client)?;
            if t.state == TxnState::Drain {
                if let Some(b) = s.req.as_mut() {
                    let n = b.len();
                    b.consume(n);
                }
                pool.release_if_empty(&mut s.req);
                if s.client.state().input_closed() {
                    return Ok(Step::Close);
                }
                if !progress {
                    return Ok(Step::Wait);
                }
                continue;
            }
        }
        if t.state == TxnState::WaitRequest && s.req.is_some() {
            if let Some(r) = s.log.as_mut() {
                r.first_byte(now);
            }
        }
        if t.state == TxnState::WaitRequest {
            match analyse_request(s, t, conf, decide, now) {
                Some(step) => return Ok(step),
                None if t.state != TxnState::WaitRequest => progress = true,
                None => {}
            }
        }
        if matches!(t.state, TxnState::WaitServer | TxnState::Exchange) {
            let tracked = track(&mut t.req_body, &mut s.req, &mut t.req_ready);
            if let Err(e) = tracked.map(|n| t.htx_in += n) {
                log::warn!(
                    "frontend {}: invalid request body from {} at byte {}: {}",
                    conf.fe_name,
                    s.src,
                    e.at,
                    e.reason
                );
                t.bad = bad_body(&e, &s.req, true);
                t.events.push(TxnEvent::BadRequest);
                log_term(s, b"CD");
                if t.response_started {
                    return Ok(Step::Close);
                }
                let pages = &conf.fe.side.errors;
                t.refuse(400, pages, pages);
                return Ok(Step::DropServer);
            }
            if s.client.state().input_closed()
                && t.req_body.as_ref().is_some_and(|b| !b.is_done())
                && t.req_ready == 0
            {
                // Client went away in the middle of its body.
                log_term(s, &[b'C', log_phase(s, Some(t))]);
                return Ok(Step::Close);
            }
        }
        if connected && matches!(t.state, TxnState::Exchange | TxnState::WaitServer) {
            if t.state == TxnState::WaitServer {
                t.state = TxnState::Exchange;
            }
            if let Some(srv) = s.srv.as_mut() {
                progress |= write_out(srv, &mut t.to_srv, &mut s.req, &mut t.req_ready, pool, now)
                    .map_err(Abort::Server)?;
                if t.to_srv.is_empty() && t.req_sent.is_none() {
                    t.req_sent = Some(now);
                }
            }
        }
        if connected && t.state == TxnState::Exchange {
            if let Some(step) = server_side(s, t, conf, decide, pool, now, &mut progress)? {
                return Ok(step);
            }
        }
        if connected && t.state == TxnState::WaitRequest {
            // An idle kept-alive server connection: any byte or EOF ends it.
            if let Some(srv) = s.srv.as_mut() {
                if read_side(srv, &mut s.res, pool, now).unwrap_or(true) {
                    if let Some(b) = s.res.take() {
                        pool.put(b);
                    }
                    return Ok(Step::DropServer);
                }
            }
        }
        // Our bytes, then response body bytes, to the client.
        let mut none = 0;
        let ready = if t.state == TxnState::Exchange {
            &mut t.res_ready
        } else {
            &mut none
        };
        progress |= write_out(&mut s.client, &mut t.to_cli, &mut s.res, ready, pool, now)
            .map_err(Abort::Client)?;
        let before = t.state;
        if let Some(step) = finish(s, t, now) {
            return Ok(step);
        }
        // A finished transaction is logged before the next one is parsed.
        if before != t.state && t.state == TxnState::WaitRequest && s.log.is_some() {
            return Ok(Step::Wait);
        }
        // A new state (next request, drain) has work to do at once.
        progress |= t.state != before;
        if !progress {
            break;
        }
    }
    if t.state == TxnState::WaitRequest && s.client.state().input_closed() && s.req.is_none() {
        return Ok(Step::Close);
    }
    Ok(Step::Wait)
}

/// Parse the request head when complete and decide where it goes.
fn analyse_request(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    now: Instant,
) -> Option<Step> {
    let Some(buf) = s.req.as_ref() else {
        if s.client.state().input_closed() {
            // Closed before any request: HAProxy's CR (dontlognull skips it).
            log_term(s, b"CR");
            return Some(Step::Close);
        }
        return None;
    };
    let head = match t.req_parser.parse_request(buf.pending()) {
        Ok(Some(h)) => h,
        Ok(None) => {
            if s.client.state().input_closed() {
                log::info!(
                    "frontend {}: truncated request from {}",
                    conf.fe_name,
                    s.src
                );
                log_term(s, b"CR");
                let pages = &conf.fe.side.errors;
                t.refuse(400, pages, pages);
                return Some(Step::Wait);
            }
            return None;
        }
        Err(e) => {
            log::warn!(
                "frontend {}: invalid request from {} at byte {}: {}; answering {}",
                conf.fe_name,
                s.src,
                e.at,
                e.reason,
                e.status
            );
            t.bad = Some(Box::new(BadMessage {
                request: true,
                reason: e.reason,
                at: e.at,
                bytes: buf.pending().to_vec(),
            }));
            log_term(s, b"CR");
            t.events.push(TxnEvent::BadRequest);
            let pages = &conf.fe.side.errors;
            t.refuse(e.status, pages, pages);
            return Some(if s.srv.is_some() {
                Step::DropServer
            } else {
                Step::Wait
            });
        }
    };
    let mut req = Request::from_head(&head, buf.pending());
    // A form posted to the stats page is read whole before it is answered.
    if applet_body_missing(conf, &req, buf.pending().len() - head.len) {
        if s.client.state().input_closed() {
            return Some(Step::Close);
        }
        return None;
    }
    if let Some(r) = s.log.as_mut() {
        let v = match req.version {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        };
        r.request(now, &req.method, &req.uri, v);
    }
    t.htx_in += req.htx_len();
    if let Some(b) = s.req.as_mut() {
        b.consume(head.len);
    }
    t.events.push(TxnEvent::Request);
    // Captured as received, before any rule rewrites them (HAProxy).
    t.captured_req = capture(&req, &conf.fe.captures_req);
    t.captured_cookie = conf
        .fe
        .capture_cookie
        .as_ref()
        .and_then(|(n, l)| capture_cookie(req.header_values("cookie"), n, *l));
    t.captured_res.clear();
    t.captured_set_cookie = None;
    if !t.captured_req.is_empty() || t.captured_cookie.is_some() {
        log::debug!(
            "frontend {}: captured {:?} cookie {:?}",
            conf.fe_name,
            t.captured_req,
            t.captured_cookie
        );
    }
    // The rules see the message as it will be forwarded (`forward::before_rules`).
    let framing = match forward::before_rules(&mut req) {
        Ok(f) => f,
        Err((status, why)) => return Some(reject_request(s, t, conf, &req, status, why)),
    };
    t.head_method = req.method == "HEAD";
    t.connect_method = req.method == "CONNECT";
    t.since = now;

    if conf
        .fe
        .monitor_uri
        .as_deref()
        .is_some_and(|u| is_monitor(u, &req))
    {
        // HAProxy never logs monitor requests.
        if let Some(r) = s.log.as_mut() {
            r.silent = true;
        }
        return Some(respond_local(
            t,
            &req,
            crate::http::errors::default_response(200),
            framing,
            conf,
        ));
    }
    let fe = &conf.fe.side;
    let dst = s.dst;
    let src = SocketAddr::new(s.src, s.src_port);
    // `track-scN` entries still held from an earlier request count this one.
    decide.count_request(&t.slots);
    let mut tracker = Tracking {
        decide: &mut *decide,
        slots: &mut t.slots,
        own_table: conf.fe_name,
        src: s.src,
    };
    match rules::run_request_tracked(&fe.rules_req, &mut req, src, dst, &mut tracker) {
        Verdict::Continue | Verdict::Allow => {}
        v => {
            log_term(s, verdict_term(&v));
            return Some(verdict_response(t, &mut req, v, framing, fe, conf, s));
        }
    }
    // The stats page comes after the frontend's rules, as in HAProxy.
    if let Some(prefix) = conf.fe.stats_uri.as_deref() {
        if stats_target(prefix, &req).is_some() {
            return Some(to_applet(t, s, req, None, framing, conf));
        }
    }
    let ctx = FetchCtx {
        src,
        dst,
        req: Some(&req),
        res: None,
        payload: &[],
        payload_complete: true,
    };
    let chosen = conf
        .fe
        .use_backend
        .iter()
        .find(|(_, c)| c.as_ref().map_or(true, |c| c.eval(&ctx) == Truth::True))
        .map(|(b, _)| *b)
        .or(conf.fe.default_backend);
    let Some(bi) = chosen else {
        log::info!("frontend {}: no backend for the request, 503", conf.fe_name);
        t.fail(503, &fe.errors);
        return Some(Step::Wait);
    };
    let be = &conf.backends[bi];
    let be_rules: &[Rule] = if conf.fe.own_backend == Some(bi) {
        &[]
    } else {
        &be.rules_req
    };
    let mut tracker = Tracking {
        decide: &mut *decide,
        slots: &mut t.slots,
        own_table: &conf.be_names[bi],
        src: s.src,
    };
    match rules::run_request_tracked(be_rules, &mut req, src, dst, &mut tracker) {
        Verdict::Continue | Verdict::Allow => {}
        v => {
            log_term(s, verdict_term(&v));
            return Some(verdict_response(t, &mut req, v, framing, be, conf, s));
        }
    }
    persistence(t, &mut req, decide, bi, src, dst);
    prepare_request(s, t, &mut req, &framing, fe, be);
    t.req_body = match framing {
        Framing::None => None,
        f => Some(BodyTracker::new(f)),
    };
    t.req_ready = 0;
    t.req_parser.reset();
    t.to_srv.clear();
    req.serialize(&mut t.to_srv);
    if t.to_srv.len() > conf.bufsize {
        // HAProxy's strict rewriting: a head grown past the buffer is a 500.
        log::warn!(
            "frontend {}: rewritten request head of {} bytes exceeds tune.bufsize; answering 500",
            conf.fe_name,
            t.to_srv.len()
        );
        t.to_srv.clear();
        log_term(s, b"PR");
        t.fail_with(500, &be.errors, &fe.errors);
        return Some(Step::Wait);
    }
    t.req = Some(req);
    t.backend = Some(bi);
    t.state = TxnState::WaitServer;
    Some(Step::NeedServer(bi))
}

/// A parsed request refused for its meaning (framing, Host, authority):
/// logged, kept for `show errors` (as pollux understood it), answered.
fn reject_request(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    req: &Request,
    status: u16,
    reason: &'static str,
) -> Step {
    log::warn!(
        "frontend {}: invalid request from {}: {}; answering {}",
        conf.fe_name,
        s.src,
        reason,
        status
    );
    let mut bytes = Vec::new();
    req.serialize(&mut bytes);
    t.bad = Some(Box::new(BadMessage {
        request: true,
        reason,
        at: 0,
        bytes,
    }));
    log_term(s, b"CR");
    t.events.push(TxnEvent::BadRequest);
    let pages = &conf.fe.side.errors;
    t.refuse(status, pages, pages);
    if s.srv.is_some() {
        Step::DropServer
    } else {
        Step::Wait
    }
}

/// Cookie and stick-table persistence, as the proxy decides it: which
/// server the request is bound to, if any (the engine connects there
/// instead of balancing); the request cookie is stripped as configured.
fn persistence(
    t: &mut Txn,
    req: &mut Request,
    decide: &mut dyn Decide,
    bi: usize,
    src: SocketAddr,
    dst: SocketAddr,
) {
    t.forced_server = None;
    t.by_cookie = false;
    t.cookie_req = None;
    t.cookie_in = CookieIn::None;
    t.cookie_out = CookieOut::None;
    if let Some(p) = decide.persist_request(bi, req, src, dst) {
        t.persist_flags = p.flags;
        (t.forced_server, t.by_cookie) = (p.server, p.by_cookie);
        (t.cookie_in, t.cookie_req) = (p.cookie_in, p.cookie_req);
    }
}

/// Connection headers and address headers on the way to the server.
fn prepare_request(
    s: &Session,
    t: &mut Txn,
    req: &mut Request,
    framing: &Framing,
    fe: &HttpSide,
    be: &HttpSide,
) {
    let named = forward::connection_tokens(req);
    let upgrade = named.iter().any(|n| n == "upgrade") && req.header("upgrade").is_some();
    t.client_keep = match req.version {
        Version::Http11 => !named.iter().any(|n| n == "close"),
        Version::Http10 => named.iter().any(|n| n == "keep-alive"),
    };
    let mode = fe.conn_mode.combine(be.conn_mode);
    t.client_keep &= mode != ConnMode::Close && !upgrade && !t.connect_method;
    // HTTP/1.0 clients get a kept-alive server connection too: the request
    // then says so explicitly.
    t.server_keep = mode == ConnMode::KeepAlive && !upgrade && !t.connect_method;
    let connection = if upgrade {
        Some("upgrade")
    } else if !t.server_keep {
        Some("close")
    } else if req.version == Version::Http10 {
        Some("keep-alive")
    } else {
        None
    };
    forward::set_connection(req, connection);
    for ff in [&fe.forwardfor, &be.forwardfor]
        .into_iter()
        .flatten()
        .take(1)
    {
        let present = ff.if_none && req.header(&ff.header).is_some();
        if !in_net(s.src, ff.except) && !present {
            req.add_header(&ff.header, &s.src.to_string());
        }
    }
    for ot in [&fe.originalto, &be.originalto]
        .into_iter()
        .flatten()
        .take(1)
    {
        if !in_net(s.dst.ip(), ot.except) {
            req.add_header(&ot.header, &s.dst.ip().to_string());
        }
    }
    // Whatever the rules did, the head we send is framed as we parsed it.
    forward::impose_request_framing(req, framing);
}

/// The stats page or a `use-service`: the engine answers (see
/// [`Txn::applet`]); the body of a small form comes along.
fn to_applet(
    t: &mut Txn,
    s: &mut Session,
    req: Request,
    service: Option<rules::Service>,
    framing: Framing,
    conf: &Conf,
) -> Step {
    let mut body = Vec::new();
    let mut keep = wants_keep_alive(&req) && conf.fe.side.conn_mode != ConnMode::Close;
    match framing {
        Framing::None => {}
        Framing::Length(n) if n as usize <= MAX_APPLET_BODY => {
            if let Some(b) = s.req.as_mut() {
                let n = (n as usize).min(b.len());
                body.extend_from_slice(&b.pending()[..n]);
                b.consume(n);
                t.htx_in += n as u64;
            }
        }
        // Anything else is not read: close after the answer.
        _ => keep = false,
    }
    t.state = TxnState::Respond;
    t.response_started = true;
    t.applet = Some(Box::new(AppletReq {
        service,
        req,
        body,
        src: SocketAddr::new(s.src, s.src_port),
        dst: s.dst,
        keep,
    }));
    Step::Wait
}

/// A POST to the stats page whose body has not fully arrived yet.
fn applet_body_missing(conf: &Conf, req: &Request, have: usize) -> bool {
    let Some(prefix) = conf.fe.stats_uri.as_deref() else {
        return false;
    };
    if stats_target(prefix, req).is_none() {
        return false;
    }
    match body::request_framing(req) {
        Ok(Framing::Length(n)) => (n as usize) <= MAX_APPLET_BODY && have < n as usize,
        _ => false,
    }
}

/// `monitor-uri U`: the whole target is U, or, when U starts with '/', its
/// path (query included) is: an absolute-form `GET http://h/U` matches as
/// in HAProxy 2.6 (`http_wait_for_request`).
fn is_monitor(u: &str, req: &Request) -> bool {
    req.uri == u || (u.starts_with('/') && req.path_on() == Some(u))
}

/// The target a `stats uri` prefix is matched against (its path when the
/// prefix starts with '/', as HAProxy), if the prefix matches.
pub fn stats_target<'a>(prefix: &str, req: &'a Request) -> Option<&'a str> {
    let target = if prefix.starts_with('/') {
        req.path_on()?
    } else {
        req.uri.as_str()
    };
    target.starts_with(prefix).then_some(target)
}

fn wants_keep_alive(req: &Request) -> bool {
    let named = forward::connection_tokens(req);
    match req.version {
        Version::Http11 => !named.iter().any(|n| n == "close"),
        Version::Http10 => named.iter().any(|n| n == "keep-alive"),
    }
}

/// What HAProxy 2.6 logs of a complete response of our own: its head's and
/// its body's HTX size (no body after HEAD, which HAProxy skips).
fn htx_len_of(bytes: &[u8], head_only: bool) -> u64 {
    let mut p = HeadParser::new(bytes.len() + 1);
    let Ok(Some(head)) = p.parse_response(bytes) else {
        return 0;
    };
    let body = if head_only { 0 } else { bytes.len() - head.len };
    Response::from_head(&head, bytes).htx_len() + body as u64
}

/// The status code of a complete raw response (0 if unreadable).
fn status_of(bytes: &[u8]) -> u16 {
    bytes
        .get(9..12)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// A deny, tarpit, redirect, return or service decided by the rules.
fn verdict_response(
    t: &mut Txn,
    req: &mut Request,
    v: Verdict,
    framing: Framing,
    side: &HttpSide,
    conf: &Conf,
    s: &mut Session,
) -> Step {
    if matches!(v, Verdict::Deny(_) | Verdict::Tarpit(_)) {
        t.events.push(TxnEvent::Denied);
    }
    match v {
        Verdict::Service(svc) => {
            let req = std::mem::replace(
                req,
                Request {
                    method: String::new(),
                    uri: String::new(),
                    version: req.version,
                    headers: Vec::new(),
                },
            );
            to_applet(t, s, req, Some(svc), framing, conf)
        }
        Verdict::Deny(code) => {
            log::info!("frontend {}: request denied ({code})", conf.fe_name);
            t.fail_with(code, &side.errors, &conf.fe.side.errors);
            Step::Wait
        }
        Verdict::Tarpit(code) => {
            // The engine's timer answers once `timeout tarpit` has passed.
            log::info!("frontend {}: request tarpitted ({code})", conf.fe_name);
            t.state = TxnState::Tarpit;
            t.tarpit_status = code;
            Step::Wait
        }
        Verdict::Respond(bytes) => respond_local(t, req, bytes, framing, conf),
        Verdict::Continue | Verdict::Allow => Step::Wait,
    }
}

/// Send a response of our own (monitor, redirect, return). The connection
/// stays open for the next request only when the request had no body left
/// to read and the client wants keep-alive.
fn respond_local(
    t: &mut Txn,
    req: &Request,
    bytes: Vec<u8>,
    framing: Framing,
    conf: &Conf,
) -> Step {
    let named = forward::connection_tokens(req);
    let wants_keep = match req.version {
        Version::Http11 => !named.iter().any(|n| n == "close"),
        Version::Http10 => named.iter().any(|n| n == "keep-alive"),
    };
    let keep = wants_keep
        && framing == Framing::None
        && conf.fe.side.conn_mode != ConnMode::Close
        && !crate::core::lifecycle::stopping();
    t.events.push(TxnEvent::Response {
        status: status_of(&bytes),
        server: false,
    });
    t.to_cli = with_connection(bytes, keep, req.version);
    t.htx_out += htx_len_of(&t.to_cli, t.head_method);
    t.last_status = Some(status_of(&t.to_cli));
    t.close_after = !keep;
    t.state = TxnState::Respond;
    t.response_started = true;
    Step::Wait
}

/// Rewrite the Connection header of a complete response of our own.
fn with_connection(bytes: Vec<u8>, keep: bool, v: Version) -> Vec<u8> {
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

/// Server side of an exchange: read, parse the response head, apply the
/// response rules, stream the body. Returns a step when the engine must act.
fn server_side(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    pool: &mut BufferPool,
    now: Instant,
    progress: &mut bool,
) -> Result<Option<Step>, Abort> {
    let Some(srv) = s.srv.as_mut() else {
        return Ok(None);
    };
    let want_more = !t.res_head_done || t.res_body.as_ref().is_some_and(|b| !b.is_done());
    if want_more {
        match read_side(srv, &mut s.res, pool, now) {
            Ok(p) => *progress |= p,
            Err(e) => {
                log::info!("frontend {}: server read error: {e}", conf.fe_name);
                log_term(s, if t.res_head_done { b"SD" } else { b"SH" });
                return Ok(Some(server_failed(t, conf)));
            }
        }
    }
    let be = &conf.backends[t.backend.unwrap_or(0)];
    while !t.res_head_done {
        let Some(buf) = s.res.as_ref() else {
            if srv_eof(s) {
                log::info!(
                    "frontend {}: server closed before responding, 502",
                    conf.fe_name
                );
                log_term(s, b"SH");
                return Ok(Some(server_failed(t, conf)));
            }
            return Ok(None);
        };
        let head = match t.res_parser.parse_response(buf.pending()) {
            Ok(Some(h)) => h,
            Ok(None) => {
                if srv_eof(s) {
                    log::info!("frontend {}: truncated response head, 502", conf.fe_name);
                    log_term(s, b"SH");
                    return Ok(Some(server_failed(t, conf)));
                }
                return Ok(None);
            }
            Err(e) => {
                log::warn!(
                    "frontend {}: invalid response at byte {}: {}",
                    conf.fe_name,
                    e.at,
                    e.reason
                );
                t.bad = Some(Box::new(BadMessage {
                    request: false,
                    reason: e.reason,
                    at: e.at,
                    bytes: buf.pending().to_vec(),
                }));
                log_term(s, b"PH");
                return Ok(Some(server_failed(t, conf)));
            }
        };
        let mut res = Response::from_head(&head, buf.pending());
        t.htx_out += res.htx_len();
        if let Some(b) = s.res.as_mut() {
            b.consume(head.len);
        }
        t.captured_res = capture(&res, &conf.fe.captures_res);
        t.captured_set_cookie = conf.fe.capture_cookie.as_ref().and_then(|(n, l)| {
            let v = res
                .header_values("set-cookie")
                .flat_map(|c| c.split(';').next());
            capture_cookie(v, n, *l)
        });
        pool.release_if_empty(&mut s.res);
        t.res_parser.reset();
        *progress = true;
        // End of Tr: stamped here, with the head (interim ones too, the
        // final one last, as HAProxy's t_data), so that a response sent and
        // logged within this same step has its time.
        if let Some(r) = s.log.as_mut() {
            r.resp_at = Some(now);
        }
        if (100..200).contains(&res.status) && res.status != 101 {
            // Interim response: pass it on and wait for the final one.
            res.serialize(&mut t.to_cli);
            continue;
        }
        let method = t.req.as_ref().map_or("GET", |r| r.method.as_str());
        let framing = match body::response_framing(&res, method) {
            Ok(f) => f,
            Err(e) => {
                log::warn!(
                    "frontend {}: invalid response framing: {}",
                    conf.fe_name,
                    e.reason
                );
                log_term(s, b"PH");
                return Ok(Some(server_failed(t, conf)));
            }
        };
        let named = forward::connection_tokens(&res);
        forward::strip_nominated(&mut res, &named);
        if res.status == 101
            && !t
                .req
                .as_ref()
                .is_some_and(|r| forward::switch_allowed(r, &res))
        {
            // RFC 9110 §7.8: only to a protocol the forwarded request offered.
            log::warn!(
                "frontend {}: server switched to a protocol the request did not offer, 502",
                conf.fe_name
            );
            let mut bytes = Vec::new();
            res.serialize(&mut bytes);
            t.bad = Some(Box::new(BadMessage {
                request: false,
                reason: "101 to a protocol the request did not offer",
                at: 0,
                bytes,
            }));
            log_term(s, b"PH");
            return Ok(Some(server_failed(t, conf)));
        }
        let req = t.req.clone().unwrap_or_else(|| Request {
            method: "GET".into(),
            uri: "/".into(),
            version: Version::Http11,
            headers: Vec::new(),
        });
        let src = SocketAddr::new(s.src, s.src_port);
        let own = conf.fe.own_backend.is_some() && conf.fe.own_backend == t.backend;
        for side in [be, &conf.fe.side]
            .into_iter()
            .take(if own { 1 } else { 2 })
        {
            match rules::run_response(&side.rules_res, &req, &mut res, src, s.dst) {
                Verdict::Continue | Verdict::Allow => {}
                Verdict::Deny(_) | Verdict::Tarpit(_) | Verdict::Service(_) => {
                    log::info!("frontend {}: response denied, 502", conf.fe_name);
                    log_term(s, b"PH");
                    t.events.push(TxnEvent::DeniedResponse);
                    t.fail_with(502, &side.errors, &conf.fe.side.errors);
                    return Ok(Some(Step::DropServer));
                }
                Verdict::Respond(bytes) => {
                    t.htx_out += htx_len_of(&bytes, t.head_method);
                    t.to_cli = bytes;
                    t.close_after = true;
                    t.state = TxnState::Respond;
                    return Ok(Some(Step::DropServer));
                }
            }
        }
        // Persistence on the way back: the cookie naming the server, and
        // what `stick store-response` learns (an application session id).
        if let (Some(bi), Some(si)) = (t.backend, s.server.map(|x| x as usize)) {
            let r = PersistResponse {
                bi,
                si,
                flags: t.persist_flags,
                by_cookie: t.by_cookie,
                sent: t.cookie_req.as_ref().unwrap_or(&req),
                req: &req,
                src,
                dst: s.dst,
            };
            if let Some(out) = decide.persist_response(r, &mut res) {
                t.cookie_out = out;
            }
        }
        // TE and CL together (RFC 9112 §6.3): TE wins, and the connection is
        // not reused, since the server's idea of the length is suspect.
        let ambiguous =
            res.header("transfer-encoding").is_some() && res.header("content-length").is_some();
        body::normalize_response_framing(&mut res, &framing);
        let tunnel = res.status == 101 || (t.connect_method && (200..300).contains(&res.status));
        let named = forward::connection_tokens(&res);
        let srv_keep = match res.version {
            Version::Http11 => !named.iter().any(|n| n == "close"),
            Version::Http10 => named.iter().any(|n| n == "keep-alive"),
        };
        t.server_keep &= srv_keep && framing != Framing::UntilClose && !tunnel && !ambiguous;
        t.client_keep &= framing != Framing::UntilClose && !tunnel;
        // Soft stop: keep-alive clients move to the new process.
        t.client_keep &= tunnel || !crate::core::lifecycle::stopping();
        forward::strip_connection_headers(&mut res);
        if res.status == 101 {
            res.add_header("Connection", "upgrade");
        } else if !t.client_keep && !tunnel {
            res.add_header("Connection", "close");
        } else if req.version == Version::Http10 && t.client_keep {
            res.add_header("Connection", "keep-alive");
        }
        t.last_status = Some(res.status);
        t.events.push(TxnEvent::Response {
            status: res.status,
            server: true,
        });
        let from = t.req_sent.unwrap_or(t.since);
        t.server_reply = Some((now.saturating_duration_since(from), res.status));
        let before = t.to_cli.len();
        res.serialize(&mut t.to_cli);
        if t.to_cli.len() - before > conf.bufsize {
            log::warn!(
                "frontend {}: rewritten response head exceeds tune.bufsize; answering 500",
                conf.fe_name
            );
            log_term(s, b"PH");
            t.fail_with(500, &be.errors, &conf.fe.side.errors);
            return Ok(Some(Step::DropServer));
        }
        t.response_started = true;
        t.res_head_done = true;
        if tunnel {
            t.state = TxnState::Tunnel;
            return Ok(None);
        }
        t.res_body = match framing {
            Framing::None => None,
            f => Some(BodyTracker::new(f)),
        };
        t.res_ready = 0;
    }
    let tracked = track(&mut t.res_body, &mut s.res, &mut t.res_ready);
    if let Err(e) = tracked.map(|n| t.htx_out += n) {
        log::warn!(
            "frontend {}: invalid response body at byte {}: {}",
            conf.fe_name,
            e.at,
            e.reason
        );
        t.bad = bad_body(&e, &s.res, false);
        log_term(s, b"SD");
        return Ok(Some(Step::Close));
    }
    if srv_eof(s) && t.res_ready == 0 {
        if let Some(b) = t.res_body.as_mut() {
            if !b.is_done() && b.eof().is_err() {
                log::info!(
                    "frontend {}: server closed in the middle of the body",
                    conf.fe_name
                );
                log_term(s, b"SD");
                return Ok(Some(Step::Close));
            }
        }
    }
    Ok(None)
}

fn srv_eof(s: &Session) -> bool {
    s.srv.as_ref().is_some_and(|x| x.state().input_closed())
}

/// The server failed before the response head reached the client: 502.
fn server_failed(t: &mut Txn, conf: &Conf) -> Step {
    if t.response_started && t.res_head_done {
        return Step::Close;
    }
    let pages = t
        .backend
        .map_or(&conf.fe.side.errors, |b| &conf.backends[b].errors);
    t.fail_with(502, pages, &conf.fe.side.errors);
    Step::DropServer
}

/// End of an exchange or of our own response: keep-alive, drain or close.
fn finish(s: &mut Session, t: &mut Txn, now: Instant) -> Option<Step> {
    match t.state {
        TxnState::Respond if t.to_cli.is_empty() => {
            if t.close_after {
                s.client.conn.shut_write();
                t.state = TxnState::Drain;
                t.since = now;
                return Some(if s.srv.is_some() {
                    Step::DropServer
                } else {
                    Step::Wait
                });
            }
            t.next_request(now);
            None
        }
        TxnState::Exchange if t.request_done() && t.response_done() => {
            // Bytes past the end of the response (a body sent to a HEAD, a
            // server miscounting): they would be read as the next response,
            // so this server connection is not reused (as HAProxy).
            let stray = s.res.as_ref().is_some_and(|b| !b.is_empty());
            let drop_server = !t.server_keep || stray;
            if t.client_keep && !s.client.state().input_closed() {
                t.next_request(now);
                return drop_server.then_some(Step::DropServer);
            }
            Some(Step::Close)
        }
        _ => None,
    }
}

/// `capture ... header NAME len N`: the last value of each named header,
/// cut to N bytes (on a character boundary).
fn capture<H: Headers>(m: &H, specs: &[(String, usize)]) -> Vec<Option<String>> {
    specs
        .iter()
        .map(|(name, len)| m.header(name).map(|v| cut(v, *len)))
        .collect()
}

/// `capture cookie NAME len N`: the first `NAME=value` among the cookie
/// values given, whole (name, '=' and value) and cut to N bytes, as HAProxy.
fn capture_cookie<'a>(
    values: impl Iterator<Item = &'a str>,
    name: &str,
    len: usize,
) -> Option<String> {
    values
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .find(|c| c.split_once('=').is_some_and(|(n, _)| n.trim() == name))
        .map(|c| cut(c, len))
}

fn cut(v: &str, len: usize) -> String {
    let mut end = v.len().min(len);
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    v[..end].to_string()
}

/// Records a termination state (HAProxy §8.5) in the session's log record.
fn log_term(s: &mut Session, code: &[u8; 2]) {
    if let Some(r) = s.log.as_mut() {
        r.term(code[0], code[1]);
    }
}

/// Deny: the proxy blocked the request; tarpit; a local response.
fn verdict_term(v: &Verdict) -> &'static [u8; 2] {
    match v {
        Verdict::Deny(_) => b"PR",
        Verdict::Tarpit(_) => b"PT",
        _ => b"LR",
    }
}

/// The phase letter of HAProxy's termination state the session is in: R
/// request, Q queue, C connect, H response headers, D data, L last data
/// (our own response), T tarpit.
pub fn log_phase(s: &Session, t: Option<&Txn>) -> u8 {
    match (t.map(|t| t.state), s.phase) {
        (_, Phase::Queued { .. }) => b'Q',
        (_, Phase::Connecting { .. }) => b'C',
        (Some(TxnState::WaitRequest), _) => b'R',
        (Some(TxnState::WaitServer), _) => b'C',
        (Some(TxnState::Exchange), _) if t.is_some_and(|t| !t.res_head_done) => b'H',
        (Some(TxnState::Exchange | TxnState::Tunnel), _) => b'D',
        (Some(TxnState::Respond | TxnState::Drain), _) => b'L',
        (Some(TxnState::Tarpit), _) => b'T',
        (None, Phase::Connected) => b'D',
        (None, Phase::Idle) => b'R',
    }
}

/// The timeout to apply while waiting for a request head.
pub fn first_request(t: &Txn) -> bool {
    t.requests == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            uri: "/".into(),
            version: Version::Http11,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn captures_take_the_last_value_cut_to_its_length() {
        let r = req(&[
            ("Host", "example.org"),
            ("User-Agent", "curl/8"),
            ("host", "b.example"),
        ]);
        let specs = vec![
            ("host".to_string(), 4),
            ("x-none".to_string(), 8),
            ("user-agent".to_string(), 64),
        ];
        assert_eq!(
            capture(&r, &specs),
            vec![Some("b.ex".into()), None, Some("curl/8".into())]
        );
    }

    #[test]
    fn cookie_capture_finds_the_named_cookie_among_several() {
        let r = req(&[("Cookie", "a=1; SESSID=abcdef; b=2")]);
        assert_eq!(
            capture_cookie(r.header_values("cookie"), "SESSID", 9),
            Some("SESSID=ab".into())
        );
        assert_eq!(capture_cookie(r.header_values("cookie"), "nope", 9), None);
    }

    #[test]
    fn cut_never_splits_a_character() {
        assert_eq!(cut("é", 1), "");
        assert_eq!(cut("abc", 10), "abc");
    }
}
