//! poll(2) backend: every Unix (POSIX).
//!
//! poll is level-triggered by nature, matching the trait as is. The watched
//! set is a dense array of `pollfd` handed whole to the kernel, plus an
//! fd -> index table so that `remove` is O(1) (swap_remove, then fix the
//! index of the entry moved into the hole). POLLHUP, POLLERR and POLLNVAL are
//! reported by the kernel whatever `events` asks (poll(2)), so an fd with no
//! interest stays in the array to hear about them. When more fds are ready
//! than `Events::capacity()`, the scan resumes next turn where it stopped so
//! that low-numbered entries cannot starve the rest.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags};

use super::{
    interrupted_is_ok, not_registered, timespec, watched, Event, Events, FdTable, Interest, Poller,
    Token,
};

pub struct Poll {
    /// What the kernel sees. The 'static borrow is bounded by the Poller
    /// contract: an fd is removed from here before it is closed.
    fds: Vec<PollFd<'static>>,
    /// Token of `fds[i]`.
    tokens: Vec<Token>,
    /// fd -> index into `fds`.
    index: FdTable<usize>,
    /// Where the next scan of `fds` starts (fairness under a full `Events`).
    cursor: usize,
}

impl Poll {
    pub fn new() -> Poll {
        Poll {
            fds: Vec::new(),
            tokens: Vec::new(),
            index: FdTable::new(),
            cursor: 0,
        }
    }

    pub fn boxed() -> io::Result<Box<dyn Poller>> {
        Ok(Box::new(Poll::new()))
    }
}

/// POLLRDHUP (Linux). Not `PollFlags::RDHUP`: rustix leaves that out on SPARC,
/// where the kernel's value differs (0x800, not 0x2000; asm/poll.h), so take
/// the value from libc, which has it for every Linux architecture.
#[cfg(any(target_os = "linux", target_os = "android"))]
const RDHUP: PollFlags = PollFlags::from_bits_retain(libc::POLLRDHUP as _);

/// Interest -> poll flags. HUP, ERR and NVAL need not be asked for.
fn to_poll(i: Interest) -> PollFlags {
    let mut f = PollFlags::empty();
    if i.read {
        f |= PollFlags::IN;
        // Linux reports a peer's shutdown(SHUT_WR) as POLLRDHUP if asked.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            f |= RDHUP;
        }
    }
    if i.write {
        f |= PollFlags::OUT;
    }
    f
}

/// poll revents -> Event.
fn from_poll(token: Token, f: PollFlags) -> Event {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let hup = PollFlags::HUP | RDHUP;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let hup = PollFlags::HUP;
    Event {
        token,
        readable: f.intersects(PollFlags::IN | PollFlags::PRI),
        writable: f.contains(PollFlags::OUT),
        hup: f.intersects(hup),
        error: f.intersects(PollFlags::ERR | PollFlags::NVAL),
    }
}

impl Poller for Poll {
    fn name(&self) -> &'static str {
        "poll"
    }

    fn add(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let borrowed = watched(fd)?;
        self.index.insert(fd, self.fds.len())?;
        self.fds
            .push(PollFd::from_borrowed_fd(borrowed, to_poll(interest)));
        self.tokens.push(token);
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let i = *self.index.get(fd).ok_or_else(not_registered)?;
        self.fds[i] = PollFd::from_borrowed_fd(watched(fd)?, to_poll(interest));
        self.tokens[i] = token;
        Ok(())
    }

    fn remove(&mut self, fd: RawFd) -> io::Result<()> {
        let i = self.index.remove(fd)?;
        self.fds.swap_remove(i);
        self.tokens.swap_remove(i);
        if let Some(moved) = self.fds.get(i) {
            let moved_fd = moved.as_fd().as_raw_fd();
            if let Some(slot) = self.index.get_mut(moved_fd) {
                *slot = i;
            }
        }
        Ok(())
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let ts = timespec(timeout);
        let ready = match rustix::event::poll(&mut self.fds, ts.as_ref()) {
            Ok(n) => n,
            Err(e) => return interrupted_is_ok(Err(e)),
        };
        let n = self.fds.len();
        if ready == 0 || n == 0 {
            return Ok(());
        }
        let start = self.cursor % n;
        for i in (start..n).chain(0..start) {
            let revents = self.fds[i].revents();
            if revents.is_empty() {
                continue;
            }
            if events.is_full() {
                self.cursor = i;
                return Ok(());
            }
            events.push(from_poll(self.tokens[i], revents));
        }
        self.cursor = start;
        Ok(())
    }
}
