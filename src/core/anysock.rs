//! Sockets of the runtime API and of the master CLI: a listener is a Unix
//! socket (a path) or a TCP socket (an address, or a socket inherited as
//! `fd@N`, which is how HAProxy's reg-test runner hands them over), and the
//! connections it accepts are the matching stream. Everything above sees one
//! type and plain Read/Write.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::Duration;

#[derive(Debug)]
pub enum AnyListener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

#[derive(Debug)]
pub enum AnyStream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl AnyListener {
    /// Own an inherited listening socket, whichever its family.
    pub fn from_listening(fd: OwnedFd) -> io::Result<AnyListener> {
        let unix =
            rustix::net::getsockname(&fd)?.address_family() == rustix::net::AddressFamily::UNIX;
        Ok(if unix {
            AnyListener::Unix(UnixListener::from(fd))
        } else {
            AnyListener::Tcp(TcpListener::from(fd))
        })
    }

    pub fn accept(&self) -> io::Result<AnyStream> {
        match self {
            AnyListener::Unix(l) => l.accept().map(|(s, _)| AnyStream::Unix(s)),
            AnyListener::Tcp(l) => l.accept().map(|(s, _)| AnyStream::Tcp(s)),
        }
    }

    pub fn try_clone(&self) -> io::Result<AnyListener> {
        Ok(match self {
            AnyListener::Unix(l) => AnyListener::Unix(l.try_clone()?),
            AnyListener::Tcp(l) => AnyListener::Tcp(l.try_clone()?),
        })
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            AnyListener::Unix(l) => l.set_nonblocking(on),
            AnyListener::Tcp(l) => l.set_nonblocking(on),
        }
    }
}

impl AnyStream {
    /// The Unix stream, for what only a Unix socket can carry (fd passing).
    pub fn as_unix(&self) -> Option<&UnixStream> {
        match self {
            AnyStream::Unix(s) => Some(s),
            AnyStream::Tcp(_) => None,
        }
    }

    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        match self {
            AnyStream::Unix(s) => s.set_nonblocking(on),
            AnyStream::Tcp(s) => s.set_nonblocking(on),
        }
    }

    pub fn set_timeouts(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            AnyStream::Unix(s) => s.set_read_timeout(d).and(s.set_write_timeout(d)),
            AnyStream::Tcp(s) => s.set_read_timeout(d).and(s.set_write_timeout(d)),
        }
    }

    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            AnyStream::Unix(s) => s.shutdown(how),
            AnyStream::Tcp(s) => s.shutdown(how),
        }
    }
}

impl Read for &AnyStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match *self {
            AnyStream::Unix(s) => (&*s).read(buf),
            AnyStream::Tcp(s) => (&*s).read(buf),
        }
    }
}

impl Write for &AnyStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match *self {
            AnyStream::Unix(s) => (&*s).write(buf),
            AnyStream::Tcp(s) => (&*s).write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for AnyStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for AnyStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

macro_rules! fd_of {
    ($t:ident) => {
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                self.as_fd().as_raw_fd()
            }
        }
        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                match self {
                    $t::Unix(s) => s.as_fd(),
                    $t::Tcp(s) => s.as_fd(),
                }
            }
        }
    };
}
fd_of!(AnyListener);
fd_of!(AnyStream);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_and_unix_listeners_accept_and_echo() {
        let dir = std::env::temp_dir().join(format!("pollux-anysock-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("s");
        let _ = std::fs::remove_file(&path);
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let taddr = tcp.local_addr().unwrap();
        let unix = UnixListener::bind(&path).unwrap();
        // Adopted as an inherited fd would be: the family is found by getsockname.
        let l1 = AnyListener::from_listening(OwnedFd::from(tcp)).unwrap();
        let l2 = AnyListener::from_listening(OwnedFd::from(unix)).unwrap();
        assert!(matches!(l1, AnyListener::Tcp(_)));
        assert!(matches!(l2, AnyListener::Unix(_)));
        let mut c1 = TcpStream::connect(taddr).unwrap();
        let mut c2 = UnixStream::connect(&path).unwrap();
        for (l, c) in [
            (&l1, &mut c1 as &mut dyn Write),
            (&l2, &mut c2 as &mut dyn Write),
        ] {
            c.write_all(b"ping").unwrap();
            let mut s = l.accept().unwrap();
            assert_eq!(s.as_unix().is_some(), matches!(l, AnyListener::Unix(_)));
            let mut got = [0u8; 4];
            s.read_exact(&mut got).unwrap();
            assert_eq!(&got, b"ping");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
