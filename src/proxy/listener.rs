//! Listening sockets for `bind` lines: binding addresses with the options
//! HAProxy uses, or adopting an inherited `fd@N` socket.

use crate::config::BindAddr;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener};

/// Create a non-blocking listening socket for one bind address.
/// `reuseport`: SO_REUSEPORT where the OS has it (HAProxy's default, off
/// with `noreuseport`), so that a reloading process binds next to the old one.
pub fn open(addr: &BindAddr, backlog: i32, reuseport: bool) -> io::Result<TcpListener> {
    match addr {
        BindAddr::Inet(sa) => bind_inet(*sa, backlog, reuseport),
        BindAddr::Fd(fd) => crate::sys::adopt_listener(*fd),
    }
}

fn bind_inet(sa: SocketAddr, backlog: i32, reuseport: bool) -> io::Result<TcpListener> {
    let sock = Socket::new(Domain::for_address(sa), Type::STREAM, Some(Protocol::TCP))?;
    // Rebinding right after a restart must not fail on TIME-WAIT sockets.
    sock.set_reuse_address(true)?;
    if reuseport {
        crate::sys::set_reuse_port(&sock)?;
    }
    sock.set_nonblocking(true)?;
    // Accepted sockets inherit TCP_NODELAY on Linux and the BSDs.
    sock.set_tcp_nodelay(true)?;
    sock.bind(&sa.into())?;
    sock.listen(backlog)?;
    Ok(sock.into())
}

/// Human form of a bind address for messages.
pub fn describe(addr: &BindAddr) -> String {
    match addr {
        BindAddr::Inet(sa) => sa.to_string(),
        BindAddr::Fd(fd) => format!("fd@{fd}"),
    }
}
