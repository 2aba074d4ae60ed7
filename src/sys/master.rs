//! What the master process of `-W` (master-worker) needs from the OS: a
//! fork that a worker can tell apart, workers that die with their master,
//! and signals seen through a pipe that a forked worker can forget.

use signal_hook::SigId;
use std::io::{self, Read};
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const SIGUSR2: i32 = signal_hook::consts::SIGUSR2;
pub const SIGCHLD: i32 = signal_hook::consts::SIGCHLD;

/// The master's signals: handlers set a flag and write a byte to a pipe.
pub struct MasterSignals {
    read: UnixStream,
    _write: UnixStream,
    flags: Vec<(i32, Arc<AtomicBool>)>,
    ids: Vec<SigId>,
}

impl MasterSignals {
    pub fn install(sigs: &[i32]) -> io::Result<MasterSignals> {
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let mut flags = Vec::new();
        let mut ids = Vec::new();
        for &sig in sigs {
            let flag = Arc::new(AtomicBool::new(false));
            ids.push(signal_hook::flag::register(sig, Arc::clone(&flag))?);
            ids.push(signal_hook::low_level::pipe::register(
                sig,
                write.try_clone()?,
            )?);
            flags.push((sig, flag));
        }
        Ok(MasterSignals {
            read,
            _write: write,
            flags,
            ids,
        })
    }

    /// Wait (at most `timeout`) for a signal or for `extra` to be readable;
    /// the signals received, and whether `extra` is readable.
    pub fn wait(&mut self, extra: Option<BorrowedFd<'_>>, timeout: Duration) -> (Vec<i32>, bool) {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let mut fds = vec![PollFd::new(&self.read, PollFlags::IN)];
        if let Some(fd) = &extra {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        let ts = Timespec {
            tv_sec: timeout.as_secs() as _,
            tv_nsec: timeout.subsec_nanos() as _,
        };
        let _ = poll(&mut fds, Some(&ts));
        let extra_ready = fds.get(1).is_some_and(|f| !f.revents().is_empty());
        let mut buf = [0u8; 64];
        while let Ok(1..) = self.read.read(&mut buf) {}
        let sigs = self
            .flags
            .iter()
            .filter(|(_, f)| f.swap(false, Ordering::SeqCst))
            .map(|(sig, _)| *sig)
            .collect();
        (sigs, extra_ready)
    }

    /// In a forked worker: drop the master's handlers (the worker installs
    /// its own; the pipe's two fds stay unused).
    pub fn forget(&self) {
        for id in &self.ids {
            signal_hook::low_level::unregister(*id);
        }
    }
}

/// fork(2): None in the child, the child's pid in the parent.
pub fn fork() -> io::Result<Option<u32>> {
    // SAFETY: the master is single-threaded (no event loop, no helper
    // thread), so the child starts from a consistent state.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(None),
        pid => Ok(Some(pid as u32)),
    }
}

/// A worker must not outlive its master (Linux: PR_SET_PDEATHSIG).
pub fn die_with_parent() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: prctl with an integer option and a valid signal number.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
    }
}
