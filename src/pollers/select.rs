//! select(2) backend: every Unix (POSIX); large fd sets on Linux, the BSDs and macOS.
//!
//! select is level-triggered by nature, matching the trait as is. Two master
//! sets (read, write) are copied into scratch sets before each call, since the
//! kernel overwrites its arguments. On Linux, the BSDs and macOS the sets are
//! rustix's variable-sized bit arrays, so fds above FD_SETSIZE (1024) work, as
//! in HAProxy's ev_select.c (the kernels take any `nfds` below the fd limit).
//! On illumos and Solaris select(3C) is bounded by FD_SETSIZE and rustix does
//! not wrap it, so libc's fixed `fd_set` is used there: `max_fd()` reports the
//! bound and `add` refuses larger fds with EINVAL (never UB).
//!
//! select has no hang-up or error sets: a closed or failed socket shows up as
//! readable (read returns 0 or the error) and writable, so `hup` and `error`
//! are never set here and an fd with no interest hears nothing.

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

use super::{
    interrupted_is_ok, not_registered, timespec, watched, Event, Events, FdTable, Interest, Poller,
    Token,
};

#[cfg(any(target_os = "illumos", target_os = "solaris"))]
use sets::fixed as set;
#[cfg(not(any(target_os = "illumos", target_os = "solaris")))]
use sets::growable as set;

pub struct Select {
    /// fd -> token.
    regs: FdTable<Token>,
    read: set::FdSet,
    write: set::FdSet,
    read_out: set::FdSet,
    write_out: set::FdSet,
}

impl Select {
    pub fn boxed() -> io::Result<Box<dyn Poller>> {
        Ok(Box::new(Select {
            regs: FdTable::new(),
            read: set::FdSet::new(),
            write: set::FdSet::new(),
            read_out: set::FdSet::new(),
            write_out: set::FdSet::new(),
        }))
    }

    /// Mirror `interest` for `fd` into the master sets.
    fn set_interest(&mut self, fd: RawFd, interest: Interest) {
        let (r, w) = to_select(interest);
        self.read.put(fd, r);
        self.write.put(fd, w);
    }
}

/// Interest -> membership of the (read, write) sets.
fn to_select(i: Interest) -> (bool, bool) {
    (i.read, i.write)
}

impl Poller for Select {
    fn name(&self) -> &'static str {
        "select"
    }

    fn add(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        watched(fd)?;
        if set::MAX_FD.is_some_and(|max| fd > max) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("select: fd {fd} is above FD_SETSIZE on this OS"),
            ));
        }
        self.regs.insert(fd, token)?;
        self.set_interest(fd, interest);
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        *self.regs.get_mut(fd).ok_or_else(not_registered)? = token;
        self.set_interest(fd, interest);
        Ok(())
    }

    fn remove(&mut self, fd: RawFd) -> io::Result<()> {
        self.regs.remove(fd)?;
        self.set_interest(fd, Interest::NONE);
        Ok(())
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let nfds = self.regs.end();
        self.read_out.copy_from(&self.read, nfds);
        self.write_out.copy_from(&self.write, nfds);
        let ts = timespec(timeout);
        if let Err(e) = set::select(nfds, &mut self.read_out, &mut self.write_out, ts.as_ref()) {
            return interrupted_is_ok(Err(e));
        }
        // Both result iterators are ascending: merge them into one event per fd.
        let mut reads = self.read_out.iter(nfds).peekable();
        let mut writes = self.write_out.iter(nfds).peekable();
        while !events.is_full() {
            let fd = match (reads.peek(), writes.peek()) {
                (Some(&r), Some(&w)) => r.min(w),
                (Some(&r), None) => r,
                (None, Some(&w)) => w,
                (None, None) => break,
            };
            let readable = reads.next_if_eq(&fd).is_some();
            let writable = writes.next_if_eq(&fd).is_some();
            if let Some(&token) = self.regs.get(fd) {
                events.push(Event {
                    token,
                    readable,
                    writable,
                    ..Event::default()
                });
            }
        }
        Ok(())
    }

    fn max_fd(&self) -> Option<RawFd> {
        set::MAX_FD
    }
}

/// The two fd-set flavours, with one interface.
mod sets {
    /// rustix's variable-sized sets (Linux, BSDs, macOS): no FD_SETSIZE bound.
    #[cfg(not(any(target_os = "illumos", target_os = "solaris")))]
    pub mod growable {
        use std::os::fd::RawFd;

        use rustix::event::{
            fd_set_insert, fd_set_num_elements, fd_set_remove, FdSetElement, FdSetIter,
        };

        pub const MAX_FD: Option<RawFd> = None;

        pub struct FdSet(Vec<FdSetElement>);

        impl FdSet {
            pub fn new() -> FdSet {
                FdSet(Vec::new())
            }

            /// Set or clear `fd`, growing the set as needed.
            pub fn put(&mut self, fd: RawFd, on: bool) {
                let need = fd_set_num_elements(0, fd + 1);
                if on && self.0.len() < need {
                    self.0.resize(need, FdSetElement::default());
                }
                if on {
                    fd_set_insert(&mut self.0, fd);
                } else if self.0.len() >= need {
                    fd_set_remove(&mut self.0, fd);
                }
            }

            /// Become a copy of `other`, sized for `nfds`.
            pub fn copy_from(&mut self, other: &FdSet, nfds: RawFd) {
                let n = fd_set_num_elements(0, nfds);
                self.0.clear();
                self.0.extend_from_slice(&other.0[..n.min(other.0.len())]);
                self.0.resize(n, FdSetElement::default());
            }

            pub fn iter(&self, _nfds: RawFd) -> FdSetIter<'_> {
                FdSetIter::new(&self.0)
            }
        }

        pub fn select(
            nfds: RawFd,
            read: &mut FdSet,
            write: &mut FdSet,
            timeout: Option<&rustix::event::Timespec>,
        ) -> rustix::io::Result<()> {
            // SAFETY: every fd set in `read` and `write` is registered with the
            // poller, hence open (the Poller contract: remove before close), and
            // both slices hold `fd_set_num_elements(nfds)` elements (copy_from).
            unsafe {
                rustix::event::select(nfds, Some(&mut read.0), Some(&mut write.0), None, timeout)
            }
            .map(drop)
        }
    }

    /// libc's fixed `fd_set` (illumos, Solaris): bounded by FD_SETSIZE.
    #[cfg(any(target_os = "illumos", target_os = "solaris"))]
    pub mod fixed {
        use std::os::fd::RawFd;

        pub const MAX_FD: Option<RawFd> = Some(libc::FD_SETSIZE as RawFd - 1);

        pub struct FdSet(Box<libc::fd_set>);

        impl FdSet {
            pub fn new() -> FdSet {
                // SAFETY: fd_set is a plain bit array; all zeroes is the empty set.
                FdSet(Box::new(unsafe { std::mem::zeroed() }))
            }

            /// Set or clear `fd`; callers only pass fds in 0..FD_SETSIZE (add checks).
            pub fn put(&mut self, fd: RawFd, on: bool) {
                let set: *mut libc::fd_set = &mut *self.0;
                // SAFETY: `set` points to a live fd_set we own, and 0 <= fd <
                // FD_SETSIZE (checked by `add` before any fd gets here).
                unsafe {
                    if on {
                        libc::FD_SET(fd, set)
                    } else {
                        libc::FD_CLR(fd, set)
                    }
                }
            }

            pub fn copy_from(&mut self, other: &FdSet, _nfds: RawFd) {
                *self.0 = *other.0;
            }

            pub fn iter(&self, nfds: RawFd) -> impl Iterator<Item = RawFd> + '_ {
                let set: *const libc::fd_set = &*self.0;
                // SAFETY: `set` points to a live fd_set we own, and every fd
                // tested is below nfds <= FD_SETSIZE.
                (0..nfds).filter(move |&fd| unsafe { libc::FD_ISSET(fd, set) })
            }
        }

        pub fn select(
            nfds: RawFd,
            read: &mut FdSet,
            write: &mut FdSet,
            timeout: Option<&rustix::event::Timespec>,
        ) -> rustix::io::Result<()> {
            // Round up to whole microseconds, carrying into seconds.
            // (`Nsecs` is i64 here but c_long on some 32-bit targets.)
            #[allow(clippy::unnecessary_cast)]
            let mut tv = timeout.map(|t| {
                let usec = (t.tv_nsec as i64 + 999) / 1000;
                libc::timeval {
                    tv_sec: (t.tv_sec + usec / 1_000_000) as _,
                    tv_usec: (usec % 1_000_000) as _,
                }
            });
            let tvp = tv
                .as_mut()
                .map_or(std::ptr::null_mut(), |t| t as *mut libc::timeval);
            // SAFETY: both sets are live fd_sets we own holding only registered
            // (hence open) fds below nfds <= FD_SETSIZE; tvp is null or points
            // to a live timeval.
            let r = unsafe {
                libc::select(nfds, &mut *read.0, &mut *write.0, std::ptr::null_mut(), tvp)
            };
            if r < 0 {
                Err(
                    rustix::io::Errno::from_io_error(&std::io::Error::last_os_error())
                        .unwrap_or(rustix::io::Errno::INVAL),
                )
            } else {
                Ok(())
            }
        }
    }
}
