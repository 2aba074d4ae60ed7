//! A connection as a stream uses it: the connection (its socket, transport
//! and half state) plus the last I/O instant, for the inactivity timeouts,
//! and the bytes moved since the engine last took them, for the stats and
//! the log. Sessions and the muxes reach the wire through it.

use super::{Conn, HalfState};
use crate::core::buffer::Buffer;
use crate::pollers::Token;
use std::io;
use std::time::Instant;

/// One connection of a session: the connection (the wire, through its
/// transport, and its half state) and what the session tracks about it.
pub struct Side {
    pub conn: Conn,
    pub token: Token,
    /// Last successful read or write, for the inactivity timeouts.
    pub last_io: Instant,
    /// Bytes read and written since the engine last took them (after each
    /// event, so 32 bits are plenty and keep the session small); the stats
    /// and the log record add them up.
    pub rx: u32,
    pub tx: u32,
}

impl Side {
    pub fn new(conn: Conn, token: Token, now: Instant) -> Side {
        Side {
            conn,
            token,
            last_io: now,
            rx: 0,
            tx: 0,
        }
    }

    /// The connection's half state.
    pub fn state(&self) -> HalfState {
        self.conn.state()
    }

    /// Read into `buf`'s free space. Ok(None): nothing to read now;
    /// Ok(Some(0)): EOF (the connection's state machine is updated).
    pub fn read_into(&mut self, buf: &mut Buffer, now: Instant) -> io::Result<Option<usize>> {
        let r = self.conn.recv(buf)?;
        if let Some(n @ 1..) = r {
            self.rx = self.rx.saturating_add(n as u32);
            self.last_io = now;
        }
        Ok(r)
    }

    /// Write as much of `parts` as the connection takes (0 if none).
    pub fn write_parts(&mut self, parts: &[&[u8]], now: Instant) -> io::Result<usize> {
        let n = self.conn.send(parts)?;
        if n > 0 {
            self.tx = self.tx.saturating_add(n as u32);
            self.last_io = now;
        }
        Ok(n)
    }
}
