//! The TLS transport (rustls): records to and from the socket, plaintext to
//! and from the session, which never knows TLS is there.
//!
//! Sends keep OpenSSL's `SSL_write` contract, which is what makes a session
//! written for plain sockets correct over TLS: bytes are reported sent only
//! once their records are in the kernel. Plaintext that rustls took while its
//! records could not all be written (or while the handshake runs) is "owed":
//! the call says WouldBlock, the session keeps the bytes and offers them
//! again, and the retry reports them sent once the records are out. So a
//! session that closes after "everything was sent" never truncates a reply.

use super::Transport;
use crate::core::buffer::Buffer;
use crate::http::fetch::tls::TlsFacts;
use crate::pollers::{Event, Interest};
use crate::tls::HsFailure;
use rustls::Connection;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU32, Ordering};

/// Plaintext rustls may hold before a send says WouldBlock: a few records,
/// so that a slow client costs a bounded amount of memory.
const SEND_LIMIT: usize = 64 * 1024;

pub struct Tls {
    conn: Connection,
    /// Plaintext taken by rustls but not yet reported sent (see the module
    /// comment).
    owed: usize,
    /// The peer closed the TCP stream: what rustls holds is all there is.
    eof: bool,
    /// What the handshake settled, once it is over.
    facts: Option<TlsFacts>,
    /// What verifying the client's certificate gave (`tls::verify`).
    verified: Option<crate::tls::verify::Outcome>,
    /// A frontend with several contexts (crt-list lines with options): the
    /// ClientHello is read first, then `conn` is made with the one it picks.
    accepting: Option<Box<(rustls::server::Acceptor, crate::tls::server::ServerCtx)>>,
    /// Why the handshake failed, once it did.
    failed: Option<HsFailure>,
    /// The handshake's end was counted in the stats.
    counted: bool,
    /// The client's certificate, once the handshake is over.
    peer: crate::tls::verify::PeerSlot,
}

impl Tls {
    /// The server side of a client's connection (`bind ... ssl`).
    pub fn server(cfg: &crate::tls::server::ServerCtx) -> io::Result<Tls> {
        let fe = &cfg.0;
        let single = fe.single();
        let several = single.is_none();
        let first = single.unwrap_or_else(|| fe.first());
        let conn = rustls::ServerConnection::new(first).map_err(io::Error::other)?;
        let mut t = Tls::with(Connection::Server(conn));
        if several {
            t.accepting = Some(Box::new((Default::default(), cfg.clone())));
        }
        Ok(t)
    }

    /// The client side of a connection to a server (`server ... ssl`).
    pub fn client(
        cfg: &crate::tls::client::ClientCtx,
        name: rustls::pki_types::ServerName<'static>,
    ) -> io::Result<Tls> {
        let conn = rustls::ClientConnection::new(cfg.0.clone(), name).map_err(io::Error::other)?;
        Ok(Tls::with(Connection::Client(conn)))
    }

    fn with(mut conn: Connection) -> Tls {
        conn.set_buffer_limit(Some(SEND_LIMIT));
        OPEN.fetch_add(1, Ordering::Relaxed);
        Tls {
            conn,
            owed: 0,
            eof: false,
            facts: None,
            verified: None,
            accepting: None,
            failed: None,
            counted: false,
            peer: Default::default(),
        }
    }

    /// What the session negotiated, for the `ssl_fc_*` fetches and logs
    /// (taken once, when the handshake is done: clones share the strings).
    pub fn facts(&self) -> TlsFacts {
        if let Some(f) = &self.facts {
            return f.clone();
        }
        self.negotiated()
    }

    fn negotiated(&self) -> TlsFacts {
        let c = &self.conn;
        let sni = match c {
            Connection::Server(s) => s.server_name(),
            Connection::Client(_) => None,
        };
        TlsFacts {
            sni: sni.map(Into::into),
            version: c.protocol_version().map(|v| match v {
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
                _ => "unknown",
            }),
            cipher: c
                .negotiated_cipher_suite()
                .and_then(|s| crate::tls::ciphers::openssl_name(u16::from(s.suite()))),
            alpn: c.alpn_protocol().map(Into::into),
            resumed: c.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
            client: self.peer.clone(),
        }
    }

    /// Whether the handshake is still to finish (or failed).
    pub fn handshaking(&self) -> bool {
        self.accepting.is_some() || self.conn.is_handshaking()
    }

    /// Why the handshake did not finish, if it ended: an error, the
    /// client's close, or the timeout `expired` noted.
    pub fn failure(&self) -> Option<HsFailure> {
        if !self.handshaking() {
            return None;
        }
        self.failed.or(self.eof.then_some(HsFailure::Empty))
    }

    /// None while the handshake runs; then whether its end was counted.
    pub fn counted(&self) -> Option<bool> {
        (self.counted || !self.handshaking()).then_some(self.counted)
    }

    /// Once, when the handshake has completed: whether it resumed a session.
    pub fn take_established(&mut self) -> Option<bool> {
        if self.counted || self.handshaking() {
            return None;
        }
        self.counted = true;
        Some(self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed))
    }

    /// Once, when the handshake has failed: true.
    pub fn take_failed(&mut self) -> bool {
        let first = !self.counted && self.failure().is_some();
        self.counted |= first;
        first
    }

    /// The session's timeout ran out: during the handshake, that is why it
    /// failed.
    pub fn expired(&mut self) {
        if self.handshaking() && self.failed.is_none() {
            self.failed = Some(HsFailure::Timeout);
        }
    }

    /// Note why the handshake failed (the first reason only), and return
    /// the error.
    fn fail(&mut self, why: HsFailure, e: io::Error) -> io::Error {
        if self.handshaking() && self.failed.is_none() {
            self.failed = Some(why);
        }
        e
    }

    /// Run the handshake on what the socket holds, so that the facts the
    /// session takes before reading describe the records it will read (the
    /// last flight and the first request often come together; the client's
    /// certificate is also found in `peer` later). An error shows again at
    /// the next `recv`: rustls keeps it.
    pub fn settle(&mut self, sock: &TcpStream) {
        if self.handshaking() && !self.eof && self.failed.is_none() {
            let _ = self.fill(sock);
        }
    }

    /// Drive a client handshake as far as the socket allows: Ok(true) once
    /// it is done. A connection to a server counts as established only then
    /// (HAProxy), so a refused certificate is a failed connect, retried.
    pub fn handshake(&mut self, mut sock: &TcpStream) -> io::Result<bool> {
        self.flush(sock)?;
        while self.conn.is_handshaking() {
            if self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed during the TLS handshake",
                ));
            }
            match self.conn.read_tls(&mut sock) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
            if let Err(e) = self.conn.process_new_packets() {
                // The alert rustls queued tells the peer why.
                let _ = self.flush(sock);
                return Err(io::Error::new(io::ErrorKind::InvalidData, e));
            }
            self.flush(sock)?;
        }
        if self.facts.is_none() {
            self.facts = Some(self.negotiated());
        }
        Ok(true)
    }

    /// Write pending records until rustls has none or the socket is full.
    fn flush(&mut self, mut sock: &TcpStream) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut sock) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Feed what the socket has to rustls, answering the handshake as it
    /// goes, until it would block (false) or rustls has plaintext, a
    /// close_notify or the end of the stream for the session (true).
    fn fill(&mut self, mut sock: &TcpStream) -> io::Result<bool> {
        if let Some(why) = self.failed.filter(|_| self.handshaking()) {
            // Failed in `settle`: the session learns it now.
            return Err(io::Error::new(io::ErrorKind::InvalidData, why.message()));
        }
        if self.accepting.is_some() && !self.accept(sock)? {
            return Ok(false);
        }
        loop {
            match self.conn.read_tls(&mut sock) {
                Ok(0) => self.eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(self.fail(HsFailure::Handshake, e)),
            }
            let processed = self.conn.process_new_packets();
            if let Some(o) = crate::tls::verify::take_outcome() {
                self.verified = Some(o);
            }
            let state = match processed {
                Ok(s) => s,
                Err(e) => {
                    // The alert rustls queued tells the peer why.
                    let _ = self.flush(sock);
                    let why = match self.verified.and_then(|v| v.refused) {
                        Some(true) => HsFailure::CaFail,
                        Some(false) => HsFailure::CrtFail,
                        None => HsFailure::Handshake,
                    };
                    let e = io::Error::new(io::ErrorKind::InvalidData, e);
                    return Err(self.fail(why, e));
                }
            };
            self.flush(sock)?;
            if self.facts.is_none() && !self.conn.is_handshaking() {
                if let Connection::Server(s) = &self.conn {
                    let der = s.peer_certificates().and_then(|c| c.first());
                    let cert = der.map(|der| {
                        std::sync::Arc::new(crate::tls::verify::PeerCert {
                            der: der.clone().into_owned(),
                            outcome: self.verified.unwrap_or_default(),
                        })
                    });
                    let _ = self.peer.set(cert);
                }
                self.facts = Some(self.negotiated());
            }
            if self.eof || state.plaintext_bytes_to_read() > 0 || state.peer_has_closed() {
                return Ok(true);
            }
        }
    }
}

impl Tls {
    /// Read the ClientHello, then make the connection with the context it
    /// picks: false while it is incomplete (see `accepting`).
    fn accept(&mut self, mut sock: &TcpStream) -> io::Result<bool> {
        let Some(a) = self.accepting.as_mut() else {
            return Ok(true);
        };
        let (acceptor, ctx) = &mut **a;
        loop {
            match acceptor.read_tls(&mut sock) {
                Ok(0) => {
                    // Closed before a whole hello: `recv` sees the end.
                    self.eof = true;
                    self.accepting = None;
                    return Ok(true);
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => {
                    self.accepting = None;
                    return Err(self.fail(HsFailure::Handshake, e));
                }
            }
            let refused = match acceptor.accept() {
                Ok(None) => continue,
                Ok(Some(hello)) => {
                    let cfg = ctx.0.site(&hello.client_hello());
                    match hello.into_connection(cfg) {
                        Ok(c) => {
                            self.conn = Connection::Server(c);
                            self.conn.set_buffer_limit(Some(SEND_LIMIT));
                            self.accepting = None;
                            // The ServerHello is out before we wait again.
                            self.flush(sock)?;
                            return Ok(true);
                        }
                        Err(refused) => refused,
                    }
                }
                Err(refused) => refused,
            };
            let (e, mut alert) = refused;
            let _ = alert.write_all(&mut sock);
            self.accepting = None;
            let e = io::Error::new(io::ErrorKind::InvalidData, e);
            return Err(self.fail(HsFailure::Handshake, e));
        }
    }
}

/// TLS connections open now, both sides, every thread (HAProxy's
/// `CurrSslConns`): one atomic add per connection, none per request.
static OPEN: AtomicU32 = AtomicU32::new(0);

/// How many TLS connections are open now.
pub fn open_count() -> u32 {
    OPEN.load(Ordering::Relaxed)
}

impl Drop for Tls {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Transport for Tls {
    fn recv(&mut self, sock: &TcpStream, buf: &mut Buffer) -> io::Result<usize> {
        let mut got = 0;
        loop {
            let space = buf.space();
            if space.is_empty() {
                return Ok(got);
            }
            match self.conn.reader().read(space) {
                Ok(0) => return Ok(got),
                Ok(n) => {
                    buf.fill(n);
                    got += n;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // EOF without close_notify: a close, as HAProxy takes it.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(got),
                Err(e) => return Err(e),
            }
            if got > 0 {
                return Ok(got);
            }
            if self.eof {
                return Ok(0);
            }
            if !self.fill(sock)? {
                return Err(io::ErrorKind::WouldBlock.into());
            }
        }
    }

    fn send(&mut self, sock: &TcpStream, parts: &[&[u8]]) -> io::Result<usize> {
        if self.accepting.is_some() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.flush(sock)?;
        if self.conn.wants_write() || (self.conn.is_handshaking() && self.owed > 0) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if self.owed > 0 {
            // The records of the bytes offered last time are out now.
            let n = std::mem::take(&mut self.owed).min(total);
            return Ok(n);
        }
        let slices: Vec<io::IoSlice> = parts.iter().map(|p| io::IoSlice::new(p)).collect();
        let n = self.conn.writer().write_vectored(&slices)?;
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.flush(sock)?;
        if self.conn.wants_write() || self.conn.is_handshaking() {
            self.owed = n;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    fn shutdown(&mut self, sock: &TcpStream, how: Shutdown) -> io::Result<()> {
        self.conn.send_close_notify();
        let _ = self.flush(sock);
        sock.shutdown(how)
    }

    fn close(&mut self, sock: &TcpStream) {
        self.conn.send_close_notify();
        let _ = self.flush(sock);
    }

    fn interest(&self, want: Interest) -> Interest {
        let hs = self.conn.is_handshaking();
        Interest {
            read: want.read || hs,
            write: self.conn.wants_write() || (want.write && !hs),
        }
    }

    fn on_ready(&mut self, sock: &TcpStream, ev: &Event) -> Interest {
        if ev.writable {
            // Records with no send to carry them (handshake, tickets, an
            // alert, bytes owed): out now. An error shows at the next call.
            let _ = self.flush(sock);
        }
        let any = ev.hup || ev.error;
        Interest {
            read: ev.readable || any,
            // A read may finish the handshake a send waits for.
            write: ev.writable || any || (ev.readable && self.conn.is_handshaking()),
        }
    }
}
