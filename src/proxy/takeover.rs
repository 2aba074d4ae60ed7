//! Handing the listening sockets to a new process on reload, as HAProxy's
//! `stats socket ... expose-fd listeners` + `-x PATH` do, so that no
//! connection waiting in a kernel backlog is lost.
//!
//! Protocol on the Unix socket (ours, not HAProxy's binary one):
//!   client: `_getsocks\n`
//!   server: `N\n` then N lines `ADDRESS\n` (each listener's local address)
//!   client: `ok\n`
//!   server: the N fds, in order, in messages of at most `fdpass::BATCH`
//!           fds, each attached to one byte (SCM_RIGHTS).
//! The server side answers one client at a time, synchronously, with short
//! timeouts: a reload is rare and the exchange takes microseconds.

use crate::sys::fdpass;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// Bind the exposing socket at `path` without a window where the path is
/// missing: bind a temporary name, set its mode, rename it over `path` (the
/// old process keeps its own, now unnamed, socket until it stops).
pub fn bind(path: &Path, mode: u32) -> io::Result<UnixListener> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let l = UnixListener::bind(&tmp)?;
    let done = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Answer a runtime API client that sent `_getsocks`: hand out `socks`.
pub fn answer(stream: &UnixStream, socks: &[(SocketAddr, BorrowedFd<'_>)]) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut w = stream;
    let mut head = format!("{}\n", socks.len());
    for (addr, _) in socks {
        head.push_str(&format!("{addr}\n"));
    }
    w.write_all(head.as_bytes())?;
    let mut ack = [0u8; 3];
    (&*stream).read_exact(&mut ack)?;
    if &ack != b"ok\n" {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "no ack"));
    }
    let fds: Vec<BorrowedFd<'_>> = socks.iter().map(|(_, fd)| *fd).collect();
    for chunk in fds.chunks(fdpass::BATCH) {
        fdpass::send_fds(stream, chunk)?;
    }
    Ok(())
}

/// Connect to an old process's socket and take its listeners over.
pub fn fetch(path: &Path) -> io::Result<Vec<(SocketAddr, TcpListener)>> {
    let stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    (&stream).write_all(b"_getsocks\n")?;
    // Read the head byte by byte: nothing past it may be consumed, since
    // the fds ride on the bytes that follow the ack.
    let mut lines: Vec<String> = Vec::new();
    let mut cur = Vec::new();
    let mut want: Option<usize> = None;
    while want.map_or(true, |n| lines.len() < n) {
        let mut b = [0u8; 1];
        if (&stream).read(&mut b)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated answer",
            ));
        }
        if b[0] != b'\n' {
            cur.push(b[0]);
            if cur.len() > 256 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            continue;
        }
        let text = String::from_utf8_lossy(&std::mem::take(&mut cur)).into_owned();
        match want {
            None => {
                let n = text.parse::<usize>().map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("unexpected answer '{text}'"),
                    )
                })?;
                want = Some(n);
            }
            Some(_) => lines.push(text),
        }
    }
    let addrs: Vec<SocketAddr> = lines
        .iter()
        .map(|l| {
            l.parse().map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, format!("bad address '{l}'"))
            })
        })
        .collect::<io::Result<_>>()?;
    (&stream).write_all(b"ok\n")?;
    let mut fds = Vec::new();
    while fds.len() < addrs.len() {
        fds.extend(fdpass::recv_fds(&stream)?);
    }
    let mut out = Vec::new();
    for (addr, fd) in addrs.into_iter().zip(fds) {
        let l = TcpListener::from(fd);
        l.set_nonblocking(true)?;
        out.push((addr, l));
    }
    Ok(out)
}

/// Take the listener bound to `addr` out of `taken`, if one is.
pub fn take(taken: &mut Vec<(SocketAddr, TcpListener)>, addr: SocketAddr) -> Option<TcpListener> {
    let i = taken.iter().position(|(a, _)| *a == addr)?;
    Some(taken.swap_remove(i).1)
}

/// The listeners of `socks` as (address, fd) pairs for `serve`.
pub fn exposed<'a>(
    socks: impl Iterator<Item = &'a TcpListener>,
) -> Vec<(SocketAddr, BorrowedFd<'a>)> {
    socks
        .filter_map(|l| Some((l.local_addr().ok()?, l.as_fd())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_gets_every_listener_answer_hands_out_by_address() {
        let dir = std::env::temp_dir().join(format!("pollux-takeover-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s.sock");
        let server = bind(&path, 0o600).unwrap();
        let ls: Vec<TcpListener> = (0..70)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let want: Vec<SocketAddr> = ls.iter().map(|l| l.local_addr().unwrap()).collect();
        let client = std::thread::spawn({
            let path = path.clone();
            move || fetch(&path).unwrap()
        });
        server.set_nonblocking(false).unwrap();
        let (s, _) = server.accept().unwrap();
        // The runtime API reads the command; `answer` does the rest.
        let mut cmd = [0u8; 10];
        (&s).read_exact(&mut cmd).unwrap();
        assert_eq!(&cmd, b"_getsocks\n");
        answer(&s, &exposed(ls.iter())).unwrap();
        let mut got = client.join().unwrap();
        assert_eq!(got.len(), 70);
        for a in &want {
            let l = take(&mut got, *a).expect("listener for every address");
            assert_eq!(l.local_addr().unwrap(), *a);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
