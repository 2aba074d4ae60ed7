//! The few OS-specific helpers: daemonizing, signal delivery through a
//! self-pipe, adopting inherited listening fds, and the fd limit.

pub mod clock;
pub mod fdpass;
pub mod master;
pub mod notify;
pub mod pidfd;
pub mod privs;

use std::io;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Signals the event loop acts on.
pub const SIGINT: i32 = signal_hook::consts::SIGINT;
pub const SIGTERM: i32 = signal_hook::consts::SIGTERM;
pub const SIGUSR1: i32 = signal_hook::consts::SIGUSR1;
pub const SIGTTOU: i32 = signal_hook::consts::SIGTTOU;
pub const SIGTTIN: i32 = signal_hook::consts::SIGTTIN;
pub const SIGHUP: i32 = signal_hook::consts::SIGHUP;

/// A pipe the signal handlers write to, plus one flag per signal: the event
/// loop watches the read end, so signals become ordinary readiness events.
pub struct SignalPipe {
    read: UnixStream,
    flags: Vec<(i32, Arc<AtomicBool>)>,
}

impl SignalPipe {
    pub fn install() -> io::Result<SignalPipe> {
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let mut flags = Vec::new();
        for sig in [SIGINT, SIGTERM, SIGUSR1, SIGTTOU, SIGTTIN, SIGHUP] {
            let flag = Arc::new(AtomicBool::new(false));
            // Flag first, then the wake-up byte, so a woken loop sees the flag.
            signal_hook::flag::register(sig, Arc::clone(&flag))?;
            signal_hook::low_level::pipe::register(sig, write.try_clone()?)?;
            flags.push((sig, flag));
        }
        // SIGPIPE would kill us on a write to a reset peer: writes return EPIPE instead.
        // SAFETY: SIG_IGN is a valid disposition and no handler code runs.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        Ok(SignalPipe { read, flags })
    }

    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Drain the pipe and return the signals received since the last call.
    pub fn drain(&mut self) -> Vec<i32> {
        use std::io::Read;
        let mut buf = [0u8; 64];
        while let Ok(1..) = self.read.read(&mut buf) {}
        self.flags
            .iter()
            .filter(|(_, f)| f.swap(false, Ordering::SeqCst))
            .map(|(sig, _)| *sig)
            .collect()
    }
}

/// Adopt an inherited listening socket (`bind fd@N`), checking it is one.
pub fn adopt_listener(fd: RawFd) -> io::Result<TcpListener> {
    if fd < 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "negative fd"));
    }
    // SAFETY: fcntl(F_GETFD) only queries the descriptor table; an unused
    // number yields EBADF and no ownership is taken.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut acceptconn: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the fd is open (checked above); the out-pointers are valid for
    // the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            so_acceptconn(),
            (&mut acceptconn as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    if acceptconn == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a listening socket",
        ));
    }
    // SAFETY: the parent handed this open listening socket to us to own; the
    // config names each fd once, so nothing else in the process owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let listener = TcpListener::from(owned);
    listener.set_nonblocking(true)?;
    rustix::io::fcntl_setfd(&listener, rustix::io::FdFlags::CLOEXEC)?;
    Ok(listener)
}

/// The process's descriptor limit (soft), 0 when unknown.
pub fn nofile_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(0)
}

/// A descriptor of our own for an inherited one (`log fd@N`, `stdout`,
/// `stderr`): a close-on-exec duplicate, so that the original stays as it
/// was (its mode is not changed: stderr also carries pollux's messages).
pub fn dup_inherited(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "negative fd"));
    }
    // SAFETY: F_DUPFD_CLOEXEC only reads the descriptor table; an unused
    // number yields EBADF, and the new descriptor is ours alone.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if new < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `new` was just created by fcntl above and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

#[cfg(not(any(target_os = "illumos", target_os = "solaris")))]
fn so_acceptconn() -> libc::c_int {
    libc::SO_ACCEPTCONN
}

#[cfg(any(target_os = "illumos", target_os = "solaris"))]
fn so_acceptconn() -> libc::c_int {
    // Solaris has no SO_ACCEPTCONN in libc's bindings: 0x0002 is its value.
    0x0002
}

/// Detach into the background (`-D`): fork, the parent returns the child's
/// pid, the child starts a new session with stdio on /dev/null.
pub fn daemonize() -> io::Result<Option<u32>> {
    // SAFETY: called before any thread is started (the event loop, signal
    // handlers and logger are set up afterwards), so the child is consistent.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => {
            rustix::process::setsid()?;
            let null = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")?;
            for fd in [0, 1, 2] {
                // SAFETY: dup2 onto the standard descriptors with a valid open fd.
                if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(None)
        }
        pid => Ok(Some(pid as u32)),
    }
}

/// `-m MB`: cap the address space (RLIMIT_AS, as HAProxy does; RLIMIT_DATA
/// where there is no RLIMIT_AS, as HAProxy does too), so that allocations
/// beyond it fail instead of growing the process.
pub fn limit_memory(mb: u64) -> std::io::Result<()> {
    use rustix::process::{setrlimit, Resource, Rlimit};
    #[cfg(target_os = "openbsd")]
    const WHICH: Resource = Resource::Data;
    #[cfg(not(target_os = "openbsd"))]
    const WHICH: Resource = Resource::As;
    let bytes = mb.saturating_mul(1 << 20);
    let lim = Rlimit {
        current: Some(bytes),
        maximum: Some(bytes),
    };
    setrlimit(WHICH, lim).map_err(std::io::Error::from)
}

/// `ulimit-n N`: set the fd limit to exactly `n` (raising the hard limit
/// too when allowed); on failure, the current soft limit.
pub fn set_nofile(n: u64) -> Result<(), u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let lim = getrlimit(Resource::Nofile);
    let mut want = lim;
    want.current = Some(n);
    if lim.maximum.is_some_and(|max| max < n) {
        want.maximum = Some(n);
    }
    setrlimit(Resource::Nofile, want).map_err(|_| lim.current.unwrap_or(u64::MAX))
}

/// Raise the soft fd limit towards `want` (bounded by the hard limit).
pub fn raise_nofile(want: u64) -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    let cur = lim.current.unwrap_or(u64::MAX);
    if cur >= want {
        return cur;
    }
    let target = lim.maximum.map_or(want, |max| want.min(max));
    lim.current = Some(target);
    match setrlimit(Resource::Nofile, lim) {
        Ok(()) => target,
        Err(_) => cur,
    }
}

/// SO_REUSEPORT on a socket about to be bound, where the OS has it (not
/// Solaris/illumos: there it does nothing). FreeBSD 12+ also gets
/// SO_REUSEPORT_LB, its load-balancing form (best effort: older kernels
/// lack it, and then one socket of a group takes every connection).
pub fn set_reuse_port(sock: &socket2::Socket) -> io::Result<()> {
    #[cfg(not(any(target_os = "solaris", target_os = "illumos")))]
    sock.set_reuse_port(true)?;
    #[cfg(target_os = "freebsd")]
    let _ = rustix::net::sockopt::set_socket_reuseport_lb(sock, true);
    #[cfg(any(target_os = "solaris", target_os = "illumos"))]
    let _ = sock;
    Ok(())
}

/// Whether the kernel spreads incoming connections over the sockets bound
/// to one address with SO_REUSEPORT (so each `nbthread` loop can have its
/// own). Elsewhere the last socket bound may get them all: loops share one.
pub const REUSEPORT_BALANCES: bool = cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_os = "dragonfly",
    target_os = "freebsd"
));

/// Accept one connection, already non-blocking and close-on-exec (one
/// syscall where accept4(2) exists).
pub fn accept_nonblocking(
    l: &TcpListener,
) -> io::Result<(std::net::TcpStream, std::net::SocketAddr)> {
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
        target_os = "solaris"
    ))]
    {
        use rustix::net::{acceptfrom_with, SocketFlags};
        let (fd, addr) = acceptfrom_with(l, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC)?;
        let addr = addr
            .and_then(|a| std::net::SocketAddr::try_from(a).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "accepted a non-IP peer"))?;
        Ok((std::net::TcpStream::from(fd), addr))
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos",
        target_os = "solaris"
    )))]
    {
        let (s, a) = l.accept()?;
        s.set_nonblocking(true)?;
        Ok((s, a))
    }
}

/// A non-blocking, close-on-exec TCP socket: one syscall where the OS takes
/// SOCK_NONBLOCK at creation, two elsewhere.
pub fn tcp_socket(domain: socket2::Domain) -> io::Result<socket2::Socket> {
    use socket2::{Protocol, Socket, Type};
    #[cfg(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos"
    ))]
    {
        Socket::new(domain, Type::STREAM.nonblocking(), Some(Protocol::TCP))
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "dragonfly",
        target_os = "illumos"
    )))]
    {
        let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        s.set_nonblocking(true)?;
        Ok(s)
    }
}
