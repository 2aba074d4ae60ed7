//! The connection layer: a connection is one socket (it owns the fd) and the
//! transport that carries a stream's bytes over it. Sessions and the engine
//! reach the wire only through [`Conn`]; they never see the socket.
//!
//! The transport is the [`Transport`] trait: receive into a pool buffer, send
//! from buffers (vectored), shut down, close, and say which socket readiness
//! it needs for what the stream wants (a TLS transport may need to write to
//! read, so the poller interest comes from here, not from the session).
//! [`Xprt`] is the closed set of transports, dispatched by `match` so the hot
//! path costs no allocation and no indirect call: plain sockets today
//! (`plain.rs`) and TLS (`tls.rs`, rustls), boxed so that a plain connection
//! stays small.
//!
//! The connection also keeps its half state machine (`half.rs`: an EOF
//! received or a write side shut steps it; a closed direction is no longer
//! tried) and the speculative-I/O hints (HAProxy's
//! "may receive / may send"): an operation is tried before any readiness
//! event, and only stops being tried once it comes back short.

pub mod half;
mod plain;
mod side;
mod tls;

pub use half::{HalfEvent, HalfState};
pub use plain::Plain;
pub use side::Side;
pub use tls::{open_count as tls_open_count, Tls};

use crate::core::buffer::Buffer;
use crate::pollers::{Event, Interest};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};

/// What carries the bytes between the socket and the session.
///
/// Every call gets the connection's socket; a transport keeps its own state
/// only (none for plain TCP, the TLS session later). Errors follow
/// `std::io`: `WouldBlock`/`Interrupted` mean "nothing now, wait".
pub trait Transport {
    /// Receive into `buf`'s free space and `fill` it. Ok(0): end of stream.
    fn recv(&mut self, sock: &TcpStream, buf: &mut Buffer) -> io::Result<usize>;
    /// Send from `parts` in order, as much as the socket takes.
    fn send(&mut self, sock: &TcpStream, parts: &[&[u8]]) -> io::Result<usize>;
    /// Shut the write side (`Shutdown::Write`) or both directions.
    fn shutdown(&mut self, sock: &TcpStream, how: Shutdown) -> io::Result<()>;
    /// Last words before the fd is closed (a TLS close_notify); best effort.
    fn close(&mut self, sock: &TcpStream);
    /// The socket readiness to wait for so the stream can do `want`.
    fn interest(&self, want: Interest) -> Interest;
    /// A socket readiness `ev`: the transport's own I/O (a TLS transport
    /// writes records no send carries), then which stream operations it
    /// may unblock.
    fn on_ready(&mut self, sock: &TcpStream, ev: &Event) -> Interest;
}

/// The transports pollux has; a `match` each, no vtable on the hot path.
pub enum Xprt {
    Plain(Plain),
    /// Boxed: a TLS session is kilobytes, a plain connection nothing.
    Tls(Box<Tls>),
}

macro_rules! dispatch {
    ($self:expr, $x:ident => $e:expr) => {
        match $self {
            Xprt::Plain($x) => $e,
            Xprt::Tls($x) => $e,
        }
    };
}

impl Transport for Xprt {
    fn recv(&mut self, sock: &TcpStream, buf: &mut Buffer) -> io::Result<usize> {
        dispatch!(self, x => x.recv(sock, buf))
    }
    fn send(&mut self, sock: &TcpStream, parts: &[&[u8]]) -> io::Result<usize> {
        dispatch!(self, x => x.send(sock, parts))
    }
    fn shutdown(&mut self, sock: &TcpStream, how: Shutdown) -> io::Result<()> {
        dispatch!(self, x => x.shutdown(sock, how))
    }
    fn close(&mut self, sock: &TcpStream) {
        dispatch!(self, x => x.close(sock))
    }
    fn interest(&self, want: Interest) -> Interest {
        dispatch!(self, x => x.interest(want))
    }
    fn on_ready(&mut self, sock: &TcpStream, ev: &Event) -> Interest {
        dispatch!(self, x => x.on_ready(sock, ev))
    }
}

/// One connection: its socket, its transport, its half state and the
/// speculative-I/O hints. Sixteen bytes (the transport is a box or
/// nothing): two per session, and `a_session_stays_small` guards the total.
/// Dropping it closes the fd without the transport's goodbye; [`Conn::close`]
/// says it first.
pub struct Conn {
    sock: TcpStream,
    xprt: Xprt,
    state: HalfState,
    /// A receive may find bytes (or an EOF): set by a readiness event,
    /// cleared when a receive comes back short. Receives are only tried
    /// while set, so no syscall is spent on a connection known to be empty.
    may_recv: bool,
    /// A send may be taken: cleared by a short send.
    may_send: bool,
}

impl Conn {
    /// A connection just accepted: try both directions before any event.
    pub fn accepted(sock: TcpStream, xprt: Xprt) -> Conn {
        Conn {
            sock,
            xprt,
            state: HalfState::Established,
            may_recv: true,
            may_send: true,
        }
    }

    /// A connection whose connect is in flight: nothing to receive before
    /// it is even up.
    pub fn connecting(sock: TcpStream, xprt: Xprt) -> Conn {
        Conn {
            state: HalfState::Connecting,
            may_recv: false,
            ..Conn::accepted(sock, xprt)
        }
    }

    pub fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    pub fn state(&self) -> HalfState {
        self.state
    }

    /// The non-blocking connect completed.
    pub fn connected(&mut self) {
        self.state = self.state.next(HalfEvent::Connected);
    }

    /// Drive the transport's handshake (TLS towards a server): Ok(true)
    /// once it is done, at once for a plain connection. After a TLS one
    /// both directions are worth trying: the handshake may have read bytes
    /// that no readiness event will announce.
    pub fn handshake(&mut self) -> io::Result<bool> {
        let Xprt::Tls(t) = &mut self.xprt else {
            return Ok(true);
        };
        let done = t.handshake(&self.sock)?;
        if done {
            self.may_recv = true;
            self.may_send = true;
        }
        Ok(done)
    }

    /// A receive is worth trying (no short receive since the last event).
    pub fn may_recv(&self) -> bool {
        self.may_recv
    }

    /// Receive into `buf`'s free space. Ok(None): nothing to receive now;
    /// Ok(Some(0)): end of stream (the half state is stepped).
    pub fn recv(&mut self, buf: &mut Buffer) -> io::Result<Option<usize>> {
        if !self.may_recv || !self.state.can_read() {
            return Ok(None);
        }
        let want = buf.space().len();
        match self.xprt.recv(&self.sock, buf) {
            Ok(0) => {
                self.state = self.state.next(HalfEvent::InputEof);
                Ok(Some(0))
            }
            Ok(n) => {
                // A short receive drained the connection: wait for an event.
                self.may_recv = n == want;
                Ok(Some(n))
            }
            Err(e) if would_block(&e) => {
                self.may_recv = false;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Send as much of `parts` as the connection takes (0 if none).
    pub fn send(&mut self, parts: &[&[u8]]) -> io::Result<usize> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total == 0 || !self.may_send || !self.state.can_write() {
            return Ok(0);
        }
        match self.xprt.send(&self.sock, parts) {
            Ok(n) => {
                self.may_send = n == total;
                Ok(n)
            }
            Err(e) if would_block(&e) => {
                self.may_send = false;
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// Shut the write side once everything before the peer's EOF is
    /// delivered (RFC 9293 half-close), and step the half state.
    pub fn shut_write(&mut self) {
        // ENOTCONN: the peer already went away; the read side will tell.
        let _ = self.xprt.shutdown(&self.sock, Shutdown::Write);
        self.state = self.state.next(HalfEvent::OutputShut);
    }

    /// Shut both directions: nothing more is read or written.
    pub fn shut_both(&mut self) {
        let _ = self.xprt.shutdown(&self.sock, Shutdown::Both);
        self.state = self.state.next(HalfEvent::Failed);
    }

    /// Let the transport say goodbye, then close the fd.
    pub fn close(mut self) {
        self.xprt.close(&self.sock);
    }

    /// A readiness event on the socket: retry what it may unblock.
    pub fn on_event(&mut self, ev: &Event) {
        let u = self.xprt.on_ready(&self.sock, ev);
        self.may_recv |= u.read;
        self.may_send |= u.write;
    }

    /// The poller interest for a stream that wants `want`.
    pub fn interest(&self, want: Interest) -> Interest {
        self.xprt.interest(want)
    }

    /// What its TLS session negotiated; None for a plain connection.
    pub fn tls(&self) -> Option<crate::http::fetch::tls::TlsFacts> {
        match &self.xprt {
            Xprt::Tls(t) => Some(t.facts()),
            Xprt::Plain(_) => None,
        }
    }

    /// A TLS connection whose handshake has not finished (or failed).
    pub fn tls_handshaking(&self) -> bool {
        matches!(&self.xprt, Xprt::Tls(t) if t.handshaking())
    }

    /// Why its TLS handshake failed, once it did.
    pub fn tls_failure(&self) -> Option<crate::tls::HsFailure> {
        match &self.xprt {
            Xprt::Tls(t) => t.failure(),
            Xprt::Plain(_) => None,
        }
    }

    /// TLS: None while the handshake runs, then whether its end was
    /// counted (`take_established`, `take_failed`); None when plain too.
    pub fn tls_counted(&self) -> Option<bool> {
        match &self.xprt {
            Xprt::Tls(t) => t.counted(),
            Xprt::Plain(_) => None,
        }
    }

    /// Once, when its TLS handshake completed: whether it resumed.
    pub fn tls_take_established(&mut self) -> Option<bool> {
        match &mut self.xprt {
            Xprt::Tls(t) => t.take_established(),
            Xprt::Plain(_) => None,
        }
    }

    /// Once, when its TLS handshake failed: true.
    pub fn tls_take_failed(&mut self) -> bool {
        match &mut self.xprt {
            Xprt::Tls(t) => t.take_failed(),
            Xprt::Plain(_) => false,
        }
    }

    /// A timeout ended the connection (a handshake's failure reason).
    pub fn tls_expired(&mut self) {
        if let Xprt::Tls(t) = &mut self.xprt {
            t.expired();
        }
    }

    /// Advance a TLS handshake before its facts are taken (`Tls::settle`).
    pub fn settle_tls(&mut self) {
        if let Xprt::Tls(t) = &mut self.xprt {
            t.settle(&self.sock);
        }
    }

    /// The pending socket error (SO_ERROR): how a non-blocking connect ended.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.sock.take_error()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// SO_KEEPALIVE (`option clitcpka` / `srvtcpka`).
    pub fn set_keepalive(&self, on: bool) -> io::Result<()> {
        socket2::SockRef::from(&self.sock).set_keepalive(on)
    }
}

pub(crate) fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_conn_is_two_words() {
        // Two per session: fd, half state and hints in one word, the
        // transport in the other (a plain one is nothing, a TLS one a box).
        assert!(std::mem::size_of::<super::Conn>() <= 16);
    }
}
