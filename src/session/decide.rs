//! What a transaction asks of the proxy above it. The session layer decides
//! nothing about servers: at fixed points the transaction hands the proxy
//! the facts it has (the request and response heads, the client address,
//! its `track-scN` slots) through [`Decide`], and keeps the answers (the
//! server a cookie or stick table binds the request to, the log's cookie
//! letters). The proxy's implementation takes the shared stick tables'
//! lock around each table operation only.

use crate::http::fetch::{Counter, CounterView, Stamp, Tracked, TxnView};
use crate::http::message::{Request, Response};
use crate::http::rules::{TrackSc, Tracker};
use crate::http::track::Slots;
use crate::sample::vars::Vars;
use crate::sample::Value;
use std::net::{IpAddr, SocketAddr};

/// The proxy's side of a transaction: stick counters and persistence.
pub trait Decide {
    /// A new request on a stream whose slots already track entries (a
    /// keep-alive connection tracked by an earlier rule): count it.
    fn count_request(&mut self, slots: &Slots);
    /// An HTTP error for the tracked entries (`http_err_cnt`/`_rate`): as
    /// HAProxy counts them, a server's 4xx, a deny or a tarpit.
    fn count_http_err(&mut self, slots: &Slots);
    /// `track-scN` met with `key` in the rules of the proxy whose own
    /// table is `own_table`.
    fn track(&mut self, slots: &mut Slots, own_table: &str, rule: &TrackSc, key: &Value);
    /// A `scN_*` or `src_*` (client `src`, in `own_table`) counter, now.
    fn counter(
        &self,
        slots: &Slots,
        own_table: &str,
        src: IpAddr,
        of: Tracked,
        what: Counter,
    ) -> Option<i64>;
    /// Cookie and stick persistence for a request to backend `bi`: the
    /// server it is bound to, if any; the request's cookie is stripped as
    /// `indirect`/`prefix` say. None: the backend has no persistence.
    /// `vars`: the stream's, for `var()` in the rules' samples.
    fn persist_request(
        &mut self,
        bi: usize,
        req: &mut Request,
        src: SocketAddr,
        dst: SocketAddr,
        vars: &Vars,
    ) -> Option<Persisted>;
    /// Server `si` of backend `bi` answered `req` (`sent`: its cookies as
    /// the client sent them) with `res`: the persistence cookie is set as
    /// configured and `stick store-response` learns. Some: the log's
    /// cookie letter, when the backend has a cookie.
    fn persist_response(&mut self, r: PersistResponse, res: &mut Response) -> Option<CookieOut>;
}

/// What [`Decide::persist_request`] found.
#[derive(Debug, Clone, Default)]
pub struct Persisted {
    pub flags: PersistFlags,
    /// The server a cookie or a stick table designates.
    pub server: Option<usize>,
    /// The cookie bound the request to `server` (HAProxy's SF_DIRECT).
    pub by_cookie: bool,
    pub cookie_in: CookieIn,
    /// The request as the client sent its cookies, before they were
    /// stripped (when the backend has a cookie).
    pub cookie_req: Option<Request>,
}

/// The facts [`Decide::persist_response`] works from.
pub struct PersistResponse<'a> {
    pub bi: usize,
    pub si: usize,
    pub flags: PersistFlags,
    pub by_cookie: bool,
    pub sent: &'a Request,
    pub req: &'a Request,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub vars: &'a Vars,
}

/// The [`Tracker`] request rules run with: `track-scN` and counter fetches
/// go to the proxy through [`Decide`], with this stream's slots.
pub struct Tracking<'a> {
    pub decide: &'a mut dyn Decide,
    pub slots: &'a mut Slots,
    pub own_table: &'a str,
    pub src: IpAddr,
    /// The request's capture slots and unique id (`http-request capture`,
    /// `capture.req.hdr`, `unique-id`).
    pub captured: &'a mut Vec<Option<String>>,
    pub unique_id: Option<&'a str>,
    pub stamp: Stamp<'a>,
    /// The request body received so far (`req.body*`, `wait-for-body`).
    pub body: Option<crate::http::fetch::body::ReqBody<'a>>,
}

impl Tracker for Tracking<'_> {
    fn track(&mut self, rule: &TrackSc, key: &Value) {
        self.decide.track(self.slots, self.own_table, rule, key);
    }

    fn counters(&self) -> &dyn CounterView {
        self
    }

    fn http_err(&mut self) {
        self.decide.count_http_err(self.slots);
    }

    fn capture(&mut self, slot: usize, value: String) {
        if let Some(s) = self.captured.get_mut(slot) {
            *s = Some(value);
        }
    }

    fn txn(&self) -> TxnView<'_> {
        TxnView {
            captured_req: self.captured,
            captured_res: &[],
            unique_id: self.unique_id,
            stamp: self.stamp,
            body: self.body,
        }
    }
}

/// Counter fetches alone (conditions outside the rules: `use_backend`).
pub struct Counters<'a> {
    pub decide: &'a dyn Decide,
    pub slots: &'a Slots,
    pub own_table: &'a str,
    pub src: IpAddr,
}

impl CounterView for Counters<'_> {
    fn counter(&self, of: Tracked, what: Counter) -> Option<i64> {
        self.decide
            .counter(self.slots, self.own_table, self.src, of, what)
    }
}

impl CounterView for Tracking<'_> {
    fn counter(&self, of: Tracked, what: Counter) -> Option<i64> {
        self.decide
            .counter(self.slots, self.own_table, self.src, of, what)
    }
}

/// Persistence decisions for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersistFlags {
    /// `option persist`: a cookie naming a DOWN server still sends there.
    pub persist: bool,
    /// A `force-persist` rule matched.
    pub force: bool,
    /// An `ignore-persist` rule matched: no cookie (nor stick) persistence,
    /// and no cookie inserted in the response.
    pub ignore: bool,
}

/// The request's persistence cookie, as the log reports it: the third
/// character of the termination state (HAProxy's `TX_CK_*`, manual §8.5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CookieIn {
    /// N: no cookie.
    #[default]
    None,
    /// I: a cookie naming no server (or empty).
    Invalid,
    /// D: a cookie naming a server that is down.
    Down,
    /// V: a cookie naming the server that took the request.
    Valid,
    /// E: past `maxidle`.
    Expired,
    /// O: past `maxlife`.
    Old,
    /// U: a cookie not looked at (`ignore-persist`).
    Unused,
}

impl CookieIn {
    pub fn letter(self) -> u8 {
        b"NIDVEOU"[self as usize]
    }
}

/// What the response did with the cookie: the fourth character of the
/// termination state (HAProxy's `TX_SCK_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CookieOut {
    /// N: none in the response.
    #[default]
    None,
    /// P: the server set it and it was left alone (passive, `preserve`).
    Found,
    /// D: the server set it and it was removed.
    Deleted,
    /// I: one was inserted.
    Inserted,
    /// R: the server's was rewritten (`rewrite`, `prefix`).
    Replaced,
    /// U: the client's was set again to refresh its date (same server).
    Updated,
}

impl CookieOut {
    pub fn letter(self) -> u8 {
        b"NPDIRU"[self as usize]
    }
}
