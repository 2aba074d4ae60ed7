//! The HTTP/1.x transaction of a session (`mode http`): one request and its
//! response at a time. Its state is [`TxnState`], moved on only by the
//! events the analysers report, through the one transition function in
//! `state.rs`; [`pump`] (`pump.rs`) drives it with one `match` over that
//! state per round and applies those events. The request analysers are in
//! `request.rs`, the response analysers in `response.rs`, the proxies'
//! settings they read in `conf.rs`. The transaction works on messages: the
//! bytes on the wire (reading, head parsing, vectored writes, body framing,
//! EOFs, poller interests) are the HTTP/1 mux's ([`H1Mux`], which it reaches
//! the session's connections through), and every decision about servers
//! goes through `session::decide`. A request body or a
//! response body streams through with its framing checked, never buffered
//! whole. Keep-alive on both sides: after a complete exchange the next
//! request is parsed, switched and balanced on its own.

mod after;
mod body_wait;
mod conf;
mod pump;
mod request;
mod response;
mod state;
mod switch;
pub use switch::{next_stream_no, pick_backend};

pub use conf::{AddrHeader, Conf, ConnMode, HttpFront, HttpSide, Switch, UniqueId};
pub use pump::pump;
pub use request::stats_target;
pub use state::{next, Action, Event, TxnState};

use super::decide::{
    CookieIn, CookieOut, Counters, Decide, PersistFlags, PersistResponse, Tracking,
};
use super::{Abort, Phase, Session, Stage};
use crate::core::buffer::BufferPool;
use crate::http::body::{self, Framing};
use crate::http::errors::{ErrorPages, Page};
use crate::http::fetch::FetchCtx;
use crate::http::forward;
use crate::http::message::{Headers, Request, Response};
use crate::http::parser::ParseError;
use crate::http::rules::{self, Rule, Verdict};
use crate::http::track::Slots;
use crate::http::Version;
use crate::mux::h1::{htx_len_of, status_of, with_connection, H1Mux, Head};
use crate::pollers::Interest;
use request::analyse_request;
use response::server_side;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

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
    /// Assigned in [`Txn::on`] only.
    state: TxnState,
    /// The HTTP/1 mux of this stream's connections: all the transaction
    /// knows of the bytes on the wire.
    h1: H1Mux,
    pub req: Option<Request>,
    res_head_done: bool,
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
    /// The request's `unique-id-format` id, and its number in the process
    /// (`%rt`).
    pub unique_id: Option<String>,
    pub req_no: u64,
    /// The transaction's start date (`%Ts`, `%ms` in its rules).
    pub req_date: Option<std::time::SystemTime>,
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
    /// `-d`: the trace state (see `core::trace`).
    pub trace: Option<Box<crate::core::trace::Stream>>,
    /// The compression the request asked for and the proxies offer
    /// (decided again for each request; the response may still refuse).
    pub comp: Option<crate::http::compress::Algo>,
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
    /// Our own answer is queued and the `http-after-response` rules have
    /// not seen it yet: the pump runs them before it goes out (`after.rs`;
    /// the engine queues some answers where the rules cannot run).
    after: bool,
    /// A request whose analysis waits for its body (`body_wait.rs`).
    paused: Option<Box<body_wait::Paused>>,
    /// The stream's addresses when the request arrived (for replies built
    /// outside the rules).
    peer: Option<(SocketAddr, SocketAddr)>,
}

/// What an analyser made of its input: the event it reports, which the
/// pump applies ([`apply`], the one place events take effect: analysers
/// never move the state themselves), and the engine's turn, if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
struct Outcome {
    ev: Option<Event>,
    step: Option<Step>,
}

impl Outcome {
    /// Nothing happened yet: more bytes are needed.
    const NOTHING: Outcome = Outcome {
        ev: None,
        step: None,
    };

    /// The engine must act; the state stays.
    fn step(step: Step) -> Outcome {
        Outcome {
            ev: None,
            step: Some(step),
        }
    }

    /// `ev` moves the state, then the engine acts.
    fn on(ev: Event, step: Step) -> Outcome {
        Outcome {
            ev: Some(ev),
            step: Some(step),
        }
    }
}

/// A request or response the parser or the body tracker rejected, with
/// its bytes (from the start of the head, or the body bytes not forwarded).
#[derive(Debug, Clone)]
pub struct BadMessage {
    pub request: bool,
    pub reason: &'static str,
    /// Offset of the offending byte in `bytes`.
    pub at: usize,
    pub bytes: Vec<u8>,
}

impl BadMessage {
    fn new(request: bool, e: &ParseError, bytes: Vec<u8>) -> BadMessage {
        BadMessage {
            request,
            reason: e.reason,
            at: e.at,
            bytes,
        }
    }

    /// A parsed message refused for its meaning: kept as pollux read it,
    /// written back by `head`.
    fn parsed(request: bool, reason: &'static str, head: impl FnOnce(&mut Vec<u8>)) -> Self {
        let mut bytes = Vec::new();
        head(&mut bytes);
        BadMessage {
            request,
            reason,
            at: 0,
            bytes,
        }
    }
}

/// The one way out for a bad message, request or response alike: kept for
/// `show errors`, its termination state logged; a request is counted and
/// answered with `status` (as HAProxy's HTTP/1 layer: no bytes logged), a
/// response with a 502 (see [`server_failed`]). Once the answer to the
/// client has begun, only closing is left.
fn bad_message(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    bad: BadMessage,
    status: u16,
    term: &[u8; 2],
) -> Outcome {
    let request = bad.request;
    t.bad = Some(Box::new(bad));
    log_term(s, term);
    if !request {
        return server_failed(t, conf);
    }
    t.events.push(TxnEvent::BadRequest);
    if t.response_started {
        return Outcome::step(Step::Close);
    }
    let pages = &conf.fe.side.errors;
    let ev = t.refused(status, pages, pages);
    // A server connection (kept alive, or being found) goes; none: wait.
    if s.srv.is_some() || s.phase != Phase::Idle {
        Outcome::on(ev, Step::DropServer)
    } else {
        Outcome::on(ev, Step::Wait)
    }
}

/// The server failed before the response head reached the client: 502.
fn server_failed(t: &mut Txn, conf: &Conf) -> Outcome {
    if t.response_started && t.res_head_done {
        return Outcome::step(Step::Close);
    }
    let pages = t
        .backend
        .map_or(&conf.fe.side.errors, |b| &conf.backends[b].errors);
    Outcome::on(t.failed(502, pages, &conf.fe.side.errors), Step::DropServer)
}

impl Txn {
    /// Run `f` with the request lent out of the transaction (GET / when
    /// there is none): the response's analysis reads it while it changes
    /// the rest of the transaction, without a copy.
    pub(super) fn with_request<R>(&mut self, f: impl FnOnce(&mut Txn, &Request) -> R) -> R {
        let lent = self.req.take();
        let fallback;
        let req = match &lent {
            Some(r) => r,
            None => {
                fallback = Request {
                    method: "GET".into(),
                    uri: "/".into(),
                    version: crate::http::Version::Http11,
                    headers: Vec::new(),
                };
                &fallback
            }
        };
        let out = f(self, req);
        self.req = lent;
        out
    }

    pub fn new(max_head: usize, now: Instant) -> Txn {
        Txn {
            state: TxnState::WaitRequest,
            h1: H1Mux::new(max_head),
            req: None,
            res_head_done: false,
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
            unique_id: None,
            req_no: 0,
            req_date: None,
            server_reply: None,
            req_sent: None,
            slots: Default::default(),
            persist_flags: PersistFlags::default(),
            trace: None,
            comp: None,
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
            after: false,
            paused: None,
            peer: None,
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
        self.h1
            .answer(with_connection(bytes, a.keep, a.req.version));
        self.htx_out += htx_len_of(self.h1.queued_to_client(), self.head_method);
        self.close_after = !a.keep;
        // For the `http-after-response` rules, which the pump runs.
        self.req = Some(a.req.clone());
        self.after = true;
        self.answer(Event::Answer);
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
        self.h1.request_body_open()
    }

    /// Some(deadline) while the request's analysis waits for its body
    /// (None: no deadline of its own, `timeout client` bounds it).
    pub fn body_deadline(&self) -> Option<Option<Instant>> {
        self.paused.as_ref().map(|p| p.until)
    }

    /// Waiting for a response head from the server (for timeout server -> 504).
    pub fn awaiting_response(&self) -> bool {
        self.state == TxnState::Exchange && !self.res_head_done
    }

    /// The engine's error answer (a timeout, a server lost): the
    /// backend's error page, else the frontend's, closing once it is sent.
    pub fn fail_with(&mut self, status: u16, be: &ErrorPages, fe: &ErrorPages) {
        let ev = self.failed(status, be, fe);
        self.answer(ev);
    }

    /// `fail_with` for what HAProxy's HTTP/1 layer refuses itself (a
    /// timeout before a request arrived): it logs no bytes.
    pub fn refuse(&mut self, status: u16, be: &ErrorPages, fe: &ErrorPages) {
        let ev = self.refused(status, be, fe);
        self.answer(ev);
    }

    /// An answer the engine gives outside the pump: an [`Event::Answer`],
    /// which needs nothing else done ([`Action::None`] from any state).
    fn answer(&mut self, ev: Event) {
        let action = self.on(ev);
        debug_assert_eq!(action, Action::None);
    }

    /// Our error page, with its bytes logged (see [`Txn::refused`]).
    fn failed(&mut self, status: u16, be: &ErrorPages, fe: &ErrorPages) -> Event {
        let ev = self.refused(status, be, fe);
        self.htx_out += htx_len_of(self.h1.queued_to_client(), self.head_method);
        self.after = true;
        ev
    }

    /// Our error page queued for the client, the connection closed after
    /// it; the event to apply. No bytes logged, as HAProxy's HTTP/1 layer
    /// for what it refuses itself (a request it cannot parse).
    fn refused(&mut self, status: u16, be: &ErrorPages, fe: &ErrorPages) -> Event {
        let page = self.page(status, be, fe);
        self.answered(status, page)
    }

    /// The proxy's answer for `status` (see [`ErrorPages::page`]).
    fn page(&self, status: u16, be: &ErrorPages, fe: &ErrorPages) -> Vec<u8> {
        match be.page(status, fe) {
            Page::Bytes(b) => b.into_owned(),
            Page::Reply(r) => self.build_reply(r),
        }
    }

    /// An `http-error` reply built for this transaction: its request (when
    /// one was parsed), addresses, captures and unique id; not the stream's
    /// variables, which the transaction does not hold.
    fn build_reply(&self, r: &rules::Reply) -> Vec<u8> {
        let any = SocketAddr::from(([0, 0, 0, 0], 0));
        let (src, dst) = self.peer.unwrap_or((any, any));
        let mut ctx = FetchCtx::http(src, dst, self.req.as_ref(), None);
        ctx.txn.unique_id = self.unique_id.as_deref();
        ctx.txn.captured_req = &self.captured_req;
        rules::reply_bytes(r, &ctx, self.head_method)
    }

    /// [`Txn::failed`] with the response given (a `deny` with reply
    /// options); empty: the connection closes without one.
    fn failed_with(&mut self, status: u16, bytes: Vec<u8>) -> Event {
        let ev = self.answered(status, bytes);
        self.htx_out += htx_len_of(self.h1.queued_to_client(), self.head_method);
        self.after = true;
        ev
    }

    /// `bytes` queued as our answer with `status`, closing after it.
    fn answered(&mut self, status: u16, bytes: Vec<u8>) -> Event {
        self.paused = None;
        self.h1.answer(closing(bytes));
        self.events.push(TxnEvent::Response {
            status,
            server: false,
        });
        self.close_after = true;
        self.last_status = Some(status);
        self.response_started = true;
        Event::Answer
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
        self.h1.request_sent()
    }

    fn response_done(&self) -> bool {
        self.res_head_done && self.h1.response_sent()
    }

    pub fn state(&self) -> TxnState {
        self.state
    }

    /// Move on as `ev` says ([`next`]); what else must happen is
    /// [`apply`]'s to do.
    fn on(&mut self, ev: Event) -> Action {
        let (state, action) = next(self.state, ev);
        self.state = state;
        action
    }

    /// Ready for the next request on the same connection ([`Action::NextRequest`]).
    fn next_request(&mut self, now: Instant) {
        self.paused = None;
        self.h1.next_message();
        self.req = None;
        self.after = false;
        self.res_head_done = false;
        self.close_after = false;
        self.since = now;
        self.requests += 1;
        self.response_started = false;
        self.backend = None;
        self.req_sent = None;
    }

    /// After 101 or a CONNECT's 2xx, once that head went out: raw bytes
    /// both ways, as in TCP (the session's `Stage::Tunnel`).
    pub fn tunneling(&self) -> bool {
        self.state == TxnState::Tunnel && !self.h1.client_output_pending()
    }

    /// Both sides' interests while the transaction runs (not tunneling).
    pub fn interests(&self, s: &Session) -> (Interest, Option<Interest>) {
        let (read, write) = self.client_interest(s);
        let srv = s.srv.as_ref().map(|_| match s.phase {
            Phase::Connecting { .. } => Interest::WRITE,
            Phase::Connected => {
                let (read, write) = self.server_interest(s);
                Interest { read, write }
            }
            _ => Interest::NONE,
        });
        (Interest { read, write }, srv)
    }

    /// The client's interest: read while request bytes are expected (or to
    /// spot a close when idle), write while bytes wait for it.
    pub fn client_interest(&self, s: &Session) -> (bool, bool) {
        let (read, write) = self
            .h1
            .client_interest(&s.conns(), self.wants_client_input());
        // An empty answer (an empty errorfile) has nothing to write, but a
        // writable client wakes the pump that ends it (closes).
        let empty_answer = self.state == TxnState::Respond && !self.h1.client_output_pending();
        (
            read,
            write || (empty_answer && s.client.state().can_write()),
        )
    }

    /// The server's interest once connected.
    pub fn server_interest(&self, s: &Session) -> (bool, bool) {
        let expecting = match self.state {
            TxnState::WaitRequest => true,
            TxnState::Exchange => !self.res_head_done || self.h1.response_body_open(),
            _ => false,
        };
        self.h1.server_interest(&s.conns(), expecting)
    }
}

/// An answer the connection closes after says so (`connection: close`,
/// as HAProxy's HTTP/1 layer adds it) unless its head has a `connection`
/// header already; an empty one (an empty errorfile) stays empty.
fn closing(mut bytes: Vec<u8>) -> Vec<u8> {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let Some(line_end) = bytes[..head_end].iter().position(|&b| b == b'\n') else {
        return bytes;
    };
    let has = bytes[..head_end]
        .split(|&b| b == b'\n')
        .any(|l| l.len() >= 11 && l[..11].eq_ignore_ascii_case(b"connection:"));
    if !has {
        bytes.splice(line_end + 1..line_end + 1, *b"connection: close\r\n");
    }
    bytes
}

/// `capture ... header NAME len N`: the last value of each named header,
/// cut to N bytes (on a character boundary).
fn capture<H: Headers>(m: &H, specs: &[(String, usize)]) -> Vec<Option<String>> {
    specs
        .iter()
        // An unnamed slot is for `http-request capture` to fill.
        .map(|(name, len)| match name.as_str() {
            "" => None,
            _ => m.header(name).map(|v| cut(v, *len)),
        })
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
        Verdict::Deny(_) | Verdict::DenyWith(..) => b"PR",
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
