//! epoll(7) backend: Linux (and Android).
//!
//! epoll is used level-triggered (no EPOLLET), which is the trait's contract
//! as is: the kernel keeps reporting a ready fd on every `epoll_wait` until
//! the condition goes away. EPOLLERR and EPOLLHUP are always reported by the
//! kernel whatever the interest (epoll_ctl(2)); EPOLLRDHUP is asked for with
//! read interest so that a peer's shutdown shows up as `hup`. The token lives
//! in the kernel's `data` field, so no per-fd table is kept here.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{OwnedFd, RawFd};
use std::time::Duration;

use rustix::event::epoll::{self, EventData, EventFlags};

use super::{interrupted_is_ok, timespec, watched, Event, Events, Interest, Poller, Token};

pub struct Epoll {
    ep: OwnedFd,
    /// Kernel output buffer, sized to `Events::capacity()` at each wait.
    buf: Vec<MaybeUninit<epoll::Event>>,
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        let ep = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        Ok(Epoll {
            ep,
            buf: Vec::new(),
        })
    }

    pub fn boxed() -> io::Result<Box<dyn Poller>> {
        Ok(Box::new(Epoll::new()?))
    }
}

/// Interest -> epoll flags. ERR and HUP need not be asked for.
fn to_epoll(i: Interest) -> EventFlags {
    let mut f = EventFlags::empty();
    if i.read {
        f |= EventFlags::IN | EventFlags::RDHUP;
    }
    if i.write {
        f |= EventFlags::OUT;
    }
    f
}

/// epoll flags -> Event.
fn from_epoll(token: Token, f: EventFlags) -> Event {
    Event {
        token,
        readable: f.intersects(EventFlags::IN | EventFlags::PRI),
        writable: f.contains(EventFlags::OUT),
        hup: f.intersects(EventFlags::HUP | EventFlags::RDHUP),
        error: f.contains(EventFlags::ERR),
    }
}

impl Poller for Epoll {
    fn name(&self) -> &'static str {
        "epoll"
    }

    fn add(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let data = EventData::new_u64(token as u64);
        Ok(epoll::add(
            &self.ep,
            watched(fd)?,
            data,
            to_epoll(interest),
        )?)
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let data = EventData::new_u64(token as u64);
        Ok(epoll::modify(
            &self.ep,
            watched(fd)?,
            data,
            to_epoll(interest),
        )?)
    }

    fn remove(&mut self, fd: RawFd) -> io::Result<()> {
        Ok(epoll::delete(&self.ep, watched(fd)?)?)
    }

    // epoll(7): closing the last fd of an open file description removes it
    // from every epoll set; pollux never duplicates its sockets, so the
    // EPOLL_CTL_DEL before a close is a syscall for nothing.
    fn remove_closing(&mut self, _fd: RawFd) -> io::Result<()> {
        Ok(())
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let cap = events.capacity();
        self.buf.resize(cap, MaybeUninit::uninit());
        let ts = timespec(timeout);
        let (ready, _) = match epoll::wait(&self.ep, &mut self.buf[..cap], ts.as_ref()) {
            Ok(r) => r,
            Err(e) => return interrupted_is_ok(Err(e)),
        };
        for ev in ready.iter() {
            let (flags, data) = (ev.flags, ev.data);
            events.push(from_epoll(data.u64() as Token, flags));
        }
        Ok(())
    }
}
