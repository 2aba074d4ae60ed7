//! One client<->server stream (HAProxy's "stream"): a client side and a server
//! side, each a connection (`conn::Conn`, which owns the socket and its half
//! state machine), and one buffer per direction taken from the pool only while
//! bytes are in flight. A half-close on one side is passed to the other once
//! the bytes before it are delivered. No socket is touched here but through
//! the connection.
//!
//! A session's [`Stage`] says how it is driven: content inspection, TCP
//! forwarding, the HTTP transaction (`txn/`, over the HTTP/1 mux in
//! `mux/h1.rs`), or a tunnel after an HTTP upgrade. Nothing here decides about
//! servers: a transaction asks the proxy through `decide::Decide`.

pub mod decide;
pub mod txn;

use crate::conn::Side;
pub use crate::conn::{HalfEvent, HalfState};
use crate::core::buffer::{Buffer, BufferPool};
use crate::core::timers::TimerKey;
use crate::mux::h1::{Conns, ConnsMut};
use crate::pollers::Interest;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// Where the session stands with its server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// HTTP: no server needed until a request is analysed (or between
    /// requests once the server connection is gone).
    Idle,
    /// No server connection yet: waiting in the backend queue since `since`.
    Queued { since: Instant },
    /// A connect attempt is in flight since `since`.
    Connecting { since: Instant },
    /// Both sides connected; bytes flow.
    Connected,
}

/// What a session is doing, which decides how it is driven: the session's
/// `stage` field, set at the three transitions only (inspection done ->
/// TCP or HTTP, in [`Session::inspected`]; HTTP -> tunnel, when the
/// transaction's upgrade went out), matched where the session is driven
/// (`proxy/engine/flow.rs`) and in [`Session::interests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `tcp-request content` rules are still deciding, at the latest
    /// until this instant (`tcp-request inspect-delay`).
    Inspecting { until: Instant },
    /// `mode tcp`: bytes forwarded both ways.
    Tcp,
    /// `mode http`: the transaction analyses each request and response.
    Http,
    /// HTTP after 101 or a CONNECT's 2xx, that head sent: bytes both ways.
    Tunnel,
}

pub struct Session {
    pub frontend: u32,
    /// The listener's id (`so_id`) the client connected to.
    pub so_id: u32,
    pub backend: Option<u32>,
    /// The server of the current (or kept-alive) server connection.
    pub server: Option<u32>,
    /// This session counts in that server's `cur` (a request is being
    /// served): HTTP gives the slot back between requests, as HAProxy's
    /// `served` counts streams in progress, not idle connections.
    pub slot: bool,
    pub src: IpAddr,
    pub src_port: u16,
    /// The address the client connected to (for `dst` and `option originalto`).
    pub dst: SocketAddr,
    pub client: Side,
    pub srv: Option<Side>,
    /// Client -> server bytes.
    pub req: Option<Buffer>,
    /// Server -> client bytes.
    pub res: Option<Buffer>,
    pub phase: Phase,
    /// Connect attempts left after the current one (`retries`).
    pub retries_left: u32,
    /// Armed timer and its deadline.
    pub timer: Option<(TimerKey, Instant)>,
    /// How the session is driven now (see [`Stage`]).
    pub stage: Stage,
    /// The HTTP transaction (`mode http` only); boxed so TCP sessions stay small.
    pub http: Option<Box<txn::Txn>>,
    /// The log record, when the frontend logs sessions.
    pub log: Option<Box<crate::log::LogRec>>,
    /// Variables (`set-var`): `sess`, and the current transaction's.
    pub vars: crate::sample::vars::Vars,
}

/// A fatal I/O condition: the session must be closed.
#[derive(Debug)]
pub enum Abort {
    Client(io::Error),
    Server(io::Error),
}

/// Move bytes from `src` to `dst` through `buf` until neither side can make
/// progress; then pass a half-close along once the buffer is drained.
/// `dst_open` is false while `dst` is still connecting.
fn forward(
    src: &mut Side,
    dst: Option<&mut Side>,
    buf: &mut Option<Buffer>,
    pool: &mut BufferPool,
    now: Instant,
) -> io::Result<Option<io::Error>> {
    let mut dst = dst;
    // Bounded rounds: level-triggered pollers will call us again.
    for _ in 0..16 {
        let mut progressed = false;
        if let (Some(d), Some(b)) = (dst.as_deref_mut(), buf.as_mut()) {
            match d.write_parts(&[b.pending()], now) {
                Ok(n) => {
                    b.consume(n);
                    progressed = n > 0;
                }
                Err(e) => return Ok(Some(e)),
            }
        }
        if src.state().can_read()
            && src.conn.may_recv()
            && !buf.as_ref().is_some_and(Buffer::is_full)
        {
            let b = buf.get_or_insert_with(|| pool.get());
            match src.read_into(b, now) {
                Ok(Some(_)) => progressed = true,
                Ok(None) => {}
                Err(e) => {
                    pool.release_if_empty(buf);
                    return Err(e);
                }
            }
        }
        pool.release_if_empty(buf);
        if !progressed {
            break;
        }
    }
    // The source said EOF and everything before it is delivered: shut the
    // destination's write side (RFC 9293 half-close), never before.
    if let Some(d) = dst {
        if src.state().input_closed() && buf.is_none() && d.state().can_write() {
            d.conn.shut_write();
        }
    }
    Ok(None)
}

impl Session {
    /// Bytes written to and read from the client so far: what the log
    /// record has been given, plus what the engine has not taken from the
    /// side yet.
    pub fn client_bytes(&self) -> (u64, u64) {
        let (out, inb) = self
            .log
            .as_ref()
            .map_or((0, 0), |r| (r.bytes_out, r.bytes_in));
        (
            out + u64::from(self.client.tx),
            inb + u64::from(self.client.rx),
        )
    }

    /// Forward in both directions as far as possible.
    pub fn pump(&mut self, pool: &mut BufferPool, now: Instant) -> Result<(), Abort> {
        let connected = self.phase == Phase::Connected;
        let srv = if connected { self.srv.as_mut() } else { None };
        match forward(&mut self.client, srv, &mut self.req, pool, now) {
            Ok(None) => {}
            Ok(Some(e)) => return Err(Abort::Server(e)),
            Err(e) => return Err(Abort::Client(e)),
        }
        if let (true, Some(srv)) = (connected, self.srv.as_mut()) {
            match forward(srv, Some(&mut self.client), &mut self.res, pool, now) {
                Ok(None) => {}
                Ok(Some(e)) => return Err(Abort::Client(e)),
                Err(e) => return Err(Abort::Server(e)),
            }
        }
        Ok(())
    }

    /// The connections and their input buffers, as the HTTP/1 mux looks
    /// at them.
    pub fn conns(&self) -> Conns<'_> {
        Conns::new(&self.client, self.srv.as_ref(), &self.req, &self.res)
    }

    /// The same, lent to the mux for I/O.
    pub fn conns_mut(&mut self) -> ConnsMut<'_> {
        let srv = self.srv.as_mut();
        ConnsMut::new(&mut self.client, srv, &mut self.req, &mut self.res)
    }

    /// Both directions are finished: every EOF seen and passed on.
    pub fn is_done(&self) -> bool {
        let Some(srv) = &self.srv else {
            return self.client.state() == HalfState::Closed;
        };
        let c2s =
            self.client.state().input_closed() && self.req.is_none() && !srv.state().can_write();
        let s2c =
            srv.state().input_closed() && self.res.is_none() && !self.client.state().can_write();
        (c2s && s2c)
            || (self.client.state() == HalfState::Closed && srv.state() == HalfState::Closed)
    }

    /// Read what the client sent, without forwarding (content inspection).
    pub fn read_client(&mut self, pool: &mut BufferPool, now: Instant) -> io::Result<()> {
        for _ in 0..16 {
            if self.req.as_ref().is_some_and(Buffer::is_full) {
                break;
            }
            let b = self.req.get_or_insert_with(|| pool.get());
            match self.client.read_into(b, now) {
                Ok(Some(n)) if n > 0 => {}
                Ok(_) => break,
                Err(e) => {
                    pool.release_if_empty(&mut self.req);
                    return Err(e);
                }
            }
        }
        pool.release_if_empty(&mut self.req);
        Ok(())
    }

    /// The stage a new session starts in: inspecting while `tcp-request
    /// content` rules exist (until `until`), else its frontend's mode.
    pub fn first_stage(inspect_until: Option<Instant>, http: bool) -> Stage {
        match (inspect_until, http) {
            (Some(until), _) => Stage::Inspecting { until },
            (None, true) => Stage::Http,
            (None, false) => Stage::Tcp,
        }
    }

    /// Until when `tcp-request content` rules may still wait for bytes.
    pub fn inspect_until(&self) -> Option<Instant> {
        match self.stage {
            Stage::Inspecting { until } => Some(until),
            Stage::Tcp | Stage::Http | Stage::Tunnel => None,
        }
    }

    /// The content rules accepted: on to TCP forwarding, or to HTTP.
    pub fn inspected(&mut self) {
        self.stage = Session::first_stage(None, self.http.is_some());
    }

    /// The interests each side should have now: read while there is room to
    /// put bytes, write while bytes wait (or while a connect is pending).
    pub fn interests(&self) -> (Interest, Option<Interest>) {
        match (self.stage, self.http.as_deref()) {
            (Stage::Inspecting { .. }, _) => {
                let room = !self.req.as_ref().is_some_and(Buffer::is_full);
                let read = self.client.state().can_read() && room;
                (Interest { read, write: false }, None)
            }
            (Stage::Http, Some(t)) => t.interests(self),
            (Stage::Http, None) | (Stage::Tcp | Stage::Tunnel, _) => self.tcp_interests(),
        }
    }

    fn tcp_interests(&self) -> (Interest, Option<Interest>) {
        let room = |b: &Option<Buffer>| !b.as_ref().is_some_and(Buffer::is_full);
        let pending = |b: &Option<Buffer>| b.as_ref().is_some_and(|b| !b.is_empty());
        let client = Interest {
            read: self.client.state().can_read() && room(&self.req),
            write: self.client.state().can_write() && pending(&self.res),
        };
        let srv = self.srv.as_ref().map(|s| match self.phase {
            Phase::Connecting { .. } => Interest::WRITE,
            Phase::Connected => Interest {
                read: s.state().can_read() && room(&self.res),
                write: s.state().can_write() && pending(&self.req),
            },
            Phase::Queued { .. } | Phase::Idle => Interest::NONE,
        });
        (client, srv)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_session_stays_small() {
        // Idle sessions must cost a few hundred bytes, not kilobytes: buffers
        // are taken from the pool only while bytes are in flight.
        // (352: 320, plus two words for the variables, `sample::vars::Vars`,
        // plus one per connection for its transport, a TLS session's box.)
        let size = std::mem::size_of::<super::Session>();
        assert!(size <= 352, "Session is {size} bytes");
    }
}
