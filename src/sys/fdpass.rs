//! Passing file descriptors over a Unix socket (SCM_RIGHTS), for handing
//! the listening sockets to a new process on reload.

use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

/// Fds per message: below every OS's SCM_RIGHTS limit (Linux: 253).
pub const BATCH: usize = 64;

/// Send `fds` (at most BATCH) attached to a one-byte message.
pub fn send_fds(sock: &UnixStream, fds: &[BorrowedFd<'_>]) -> io::Result<()> {
    assert!(fds.len() <= BATCH);
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(BATCH))];
    let mut ctl = SendAncillaryBuffer::new(&mut space);
    if !ctl.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err(io::Error::other("ancillary buffer too small"));
    }
    let n = sendmsg(
        sock.as_fd(),
        &[IoSlice::new(b"F")],
        &mut ctl,
        SendFlags::empty(),
    )?;
    if n != 1 {
        return Err(io::Error::new(io::ErrorKind::WriteZero, "short sendmsg"));
    }
    Ok(())
}

/// Receive one message sent by `send_fds`: its fds (close-on-exec).
pub fn recv_fds(sock: &UnixStream) -> io::Result<Vec<OwnedFd>> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(BATCH))];
    let mut ctl = RecvAncillaryBuffer::new(&mut space);
    let mut byte = [0u8; 1];
    let r = recvmsg(
        sock.as_fd(),
        &mut [IoSliceMut::new(&mut byte)],
        &mut ctl,
        RecvFlags::empty(),
    )?;
    if r.bytes == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "peer closed before sending the sockets",
        ));
    }
    let mut out = Vec::new();
    for msg in ctl.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = msg {
            out.extend(fds);
        }
    }
    // Not every OS has MSG_CMSG_CLOEXEC: set it on each fd instead.
    for fd in &out {
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    }
    if out.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "message without sockets",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_listener_crosses_a_socketpair_and_still_accepts() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        send_fds(&a, &[l.as_fd()]).unwrap();
        let mut got = recv_fds(&b).unwrap();
        assert_eq!(got.len(), 1);
        let l2 = TcpListener::from(got.pop().unwrap());
        assert_eq!(l2.local_addr().unwrap(), addr);
        drop(l);
        let _c = std::net::TcpStream::connect(addr).unwrap();
        l2.accept().unwrap();
    }
}
