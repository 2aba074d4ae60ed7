//! The plain-socket transport: bytes go to and from the TCP socket as they
//! are, with read(2), write(2) and writev(2). It keeps no state.

use super::Transport;
use crate::core::buffer::Buffer;
use crate::pollers::{Event, Interest};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};

#[derive(Debug, Default, Clone, Copy)]
pub struct Plain;

impl Transport for Plain {
    fn recv(&mut self, mut sock: &TcpStream, buf: &mut Buffer) -> io::Result<usize> {
        let n = sock.read(buf.space())?;
        buf.fill(n);
        Ok(n)
    }

    fn send(&mut self, mut sock: &TcpStream, parts: &[&[u8]]) -> io::Result<usize> {
        // One part (or one empty of two): write(2); a head and a body: one
        // writev(2), so they leave in one segment.
        match parts {
            [one] => sock.write(one),
            [a, []] => sock.write(a),
            [[], b] => sock.write(b),
            [a, b] => sock.write_vectored(&[io::IoSlice::new(a), io::IoSlice::new(b)]),
            _ => {
                let slices: Vec<io::IoSlice> = parts.iter().map(|p| io::IoSlice::new(p)).collect();
                sock.write_vectored(&slices)
            }
        }
    }

    fn shutdown(&mut self, sock: &TcpStream, how: Shutdown) -> io::Result<()> {
        sock.shutdown(how)
    }

    fn close(&mut self, _sock: &TcpStream) {}

    fn interest(&self, want: Interest) -> Interest {
        want
    }

    fn on_ready(&mut self, _sock: &TcpStream, ev: &Event) -> Interest {
        // A hang-up or an error is reported to whichever operation runs
        // next: let both try.
        Interest {
            read: ev.readable || ev.hup || ev.error,
            write: ev.writable || ev.hup || ev.error,
        }
    }
}
