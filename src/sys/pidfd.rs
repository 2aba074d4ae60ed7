//! Taking the listening sockets of an old process without its help: Linux
//! 5.6+ pidfd_getfd(2) copies a descriptor out of another process, given the
//! right to ptrace it (same user without Yama restrictions, or root). A
//! reload without an exposed socket then keeps the very same sockets, whose
//! backlogs are never closed, instead of binding new ones next to them.

use std::io;
use std::net::{SocketAddr, TcpListener};

/// Copies of the TCP sockets `pid` listens on, with their bound addresses.
/// Err when the process cannot be reached (gone, no permission, an older
/// kernel or another OS): the caller binds its own sockets instead.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn listeners_of(pid: i32) -> io::Result<Vec<(SocketAddr, TcpListener)>> {
    use rustix::process::{pidfd_getfd, pidfd_open, Pid, PidfdFlags, PidfdGetfdFlags};
    use std::collections::HashSet;
    let bad_pid = || io::Error::new(io::ErrorKind::InvalidInput, "not a process id");
    let pidfd = pidfd_open(Pid::from_raw(pid).ok_or_else(bad_pid)?, PidfdFlags::empty())?;
    let mut out = Vec::new();
    // Two descriptors of one socket (a dup) must not make two listeners.
    let mut seen = HashSet::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let entry = entry?;
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        // "socket:[INODE]": only sockets are worth copying. Reading the link
        // takes the same right as copying (ptrace), the listing does not.
        let link = match std::fs::read_link(entry.path()) {
            Ok(l) => l,
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Err(e),
            Err(_) => continue,
        };
        let Some(inode) = link.to_str().and_then(|l| l.strip_prefix("socket:")) else {
            continue;
        };
        if seen.contains(inode) {
            continue;
        }
        let copy = match pidfd_getfd(&pidfd, fd, PidfdGetfdFlags::empty()) {
            Ok(c) => c,
            // Not allowed to look inside that process: nothing will be.
            Err(e) if e == rustix::io::Errno::PERM || e == rustix::io::Errno::ACCESS => {
                return Err(e.into())
            }
            // Closed in between, and the like: skip it.
            Err(_) => continue,
        };
        let sock = socket2::Socket::from(copy);
        let listening = sock.r#type().is_ok_and(|t| t == socket2::Type::STREAM)
            && sock.is_listener().unwrap_or(false);
        // Unix sockets have no SocketAddr: skipped too.
        let addr = sock.local_addr().ok().and_then(|a| a.as_socket());
        if let (true, Some(addr)) = (listening, addr) {
            seen.insert(inode.to_string());
            out.push((addr, sock.into()));
        }
    }
    Ok(out)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn listeners_of(_pid: i32) -> io::Result<Vec<(SocketAddr, TcpListener)>> {
    Err(io::ErrorKind::Unsupported.into())
}
