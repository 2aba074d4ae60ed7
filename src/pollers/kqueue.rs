//! kqueue(2) backend: FreeBSD, OpenBSD, NetBSD, DragonFly BSD, macOS.
//!
//! kqueue has one filter per direction: EVFILT_READ and EVFILT_WRITE are
//! separate kernel registrations, so `modify` adds or deletes each direction
//! that changed (EV_ADD / EV_DELETE), as HAProxy's ev_kqueue.c does. Filters
//! are added without EV_CLEAR or EV_ONESHOT, which makes them level-triggered:
//! the kernel reports the condition on every kevent() until it goes away,
//! which is the trait's contract as is. A hang-up arrives as EV_EOF on the
//! filter (`hup`); a failed change or socket error as EV_ERROR (`error`).
//! Both are only heard through a registered filter, so an fd with no
//! interest hears nothing. The two filters of one fd are merged into one
//! `Event`. Changes are applied at once with EV_RECEIPT so each one's error
//! comes back with it (kevent(2): "EV_RECEIPT").

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{OwnedFd, RawFd};
use std::ptr::null_mut;
use std::time::Duration;

use rustix::event::kqueue::{self, EventFilter, EventFlags};

use super::{
    interrupted_is_ok, not_registered, timespec, watched, Event, Events, FdTable, Interest, Poller,
    Token,
};

#[derive(Clone, Copy)]
struct Reg {
    token: Token,
    interest: Interest,
    /// Index in this turn's `Events` of the fd's event, to merge read+write.
    slot: Option<(u64, usize)>,
}

pub struct Kqueue {
    kq: OwnedFd,
    regs: FdTable<Reg>,
    changes: Vec<kqueue::Event>,
    buf: Vec<MaybeUninit<kqueue::Event>>,
    /// Number of the current `wait` turn, to tell stale `Reg::slot`s.
    turn: u64,
}

impl Kqueue {
    pub fn boxed() -> io::Result<Box<dyn Poller>> {
        Ok(Box::new(Kqueue {
            kq: kqueue::kqueue()?,
            regs: FdTable::new(),
            changes: Vec::new(),
            buf: Vec::new(),
            turn: 0,
        }))
    }

    /// Move `fd` from interest `old` to `new`: the kevent changes, one per
    /// direction that changed.
    fn to_kqueue(fd: RawFd, old: Interest, new: Interest, changes: &mut Vec<kqueue::Event>) {
        let flags = |on: bool| {
            let action = if on {
                EventFlags::ADD
            } else {
                EventFlags::DELETE
            };
            action | EventFlags::RECEIPT
        };
        if old.read != new.read {
            changes.push(kqueue::Event::new(
                EventFilter::Read(fd),
                flags(new.read),
                null_mut(),
            ));
        }
        if old.write != new.write {
            changes.push(kqueue::Event::new(
                EventFilter::Write(fd),
                flags(new.write),
                null_mut(),
            ));
        }
    }

    /// Apply `changes` now; EV_RECEIPT makes each come back with its errno.
    fn apply(&mut self, fd: RawFd, old: Interest, new: Interest) -> io::Result<()> {
        self.changes.clear();
        Self::to_kqueue(fd, old, new, &mut self.changes);
        if self.changes.is_empty() {
            return Ok(());
        }
        watched(fd)?;
        let n = self.changes.len();
        self.buf
            .resize(n.max(self.buf.len()), MaybeUninit::uninit());
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: every fd named in `changes` is registered with this poller,
        // hence open until its `remove` deletes its filters (Poller contract).
        let (receipts, _) = unsafe {
            kqueue::kevent_timespec(&self.kq, &self.changes, &mut self.buf[..n], Some(&zero))
        }?;
        for r in receipts.iter() {
            // With EV_RECEIPT, data is the errno of that change (0: success).
            // ENOENT on delete means the kernel already dropped it: fine.
            let err = r.data() as i32;
            if r.flags().contains(EventFlags::ERROR) && err != 0 && err != errno_noent() {
                return Err(io::Error::from_raw_os_error(err));
            }
        }
        Ok(())
    }
}

fn errno_noent() -> i32 {
    rustix::io::Errno::NOENT.raw_os_error()
}

impl Poller for Kqueue {
    fn name(&self) -> &'static str {
        "kqueue"
    }

    fn add(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        self.regs.insert(
            fd,
            Reg {
                token,
                interest,
                slot: None,
            },
        )?;
        if let Err(e) = self.apply(fd, Interest::NONE, interest) {
            // Leave no half registration behind.
            let _ = self.apply(fd, interest, Interest::NONE);
            let _ = self.regs.remove(fd);
            return Err(e);
        }
        Ok(())
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let reg = self.regs.get_mut(fd).ok_or_else(not_registered)?;
        let old = reg.interest;
        *reg = Reg {
            token,
            interest,
            slot: None,
        };
        self.apply(fd, old, interest)
    }

    fn remove(&mut self, fd: RawFd) -> io::Result<()> {
        let reg = self.regs.remove(fd)?;
        self.apply(fd, reg.interest, Interest::NONE)
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        self.turn += 1;
        // Up to two kevents (read, write) per fd, merged into one Event.
        let n = events.capacity().saturating_mul(2);
        self.buf
            .resize(n.max(self.buf.len()), MaybeUninit::uninit());
        let ts = timespec(timeout);
        // SAFETY: every fd with a filter in this kqueue is registered with
        // this poller, hence open until `remove` deletes its filters.
        let ready = match unsafe {
            kqueue::kevent_timespec(&self.kq, &[], &mut self.buf[..n], ts.as_ref())
        } {
            Ok((ready, _)) => ready,
            Err(e) => return interrupted_is_ok(Err(e)),
        };
        for kev in ready.iter() {
            let (fd, readable, writable) = match kev.filter() {
                EventFilter::Read(fd) => (fd, true, false),
                EventFilter::Write(fd) => (fd, false, true),
                _ => continue,
            };
            let Some(reg) = self.regs.get_mut(fd) else {
                continue;
            };
            let flags = kev.flags();
            let slot = match reg.slot {
                Some((turn, i)) if turn == self.turn => i,
                _ if events.is_full() => continue,
                _ => {
                    events.push(Event {
                        token: reg.token,
                        ..Event::default()
                    });
                    reg.slot = Some((self.turn, events.len() - 1));
                    events.len() - 1
                }
            };
            if let Some(ev) = events.get_mut(slot) {
                // EV_EOF keeps the direction ready, as epoll and poll do: a
                // read returns 0 (or the error), a write fails with EPIPE.
                // rustix does not expose `fflags`, where EV_EOF carries the
                // socket error, so that error surfaces on the read or write.
                ev.readable |= readable;
                ev.writable |= writable;
                ev.hup |= flags.contains(EventFlags::EOF);
                ev.error |= flags.contains(EventFlags::ERROR);
            }
        }
        Ok(())
    }
}

/// Startup cross-check of the kernel's EVFILT_READ through an independent
/// kevent binding: the `kqueue` crate, whose `kqueue-sys` declares its own
/// `struct kevent` rather than libc's. If it and our rustix-based backend both
/// see a readable socket, the kevent ABI this build assumes matches the
/// running kernel (FreeBSD 12, for one, changed that struct's layout).
pub fn cross_check() -> bool {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    let check = || -> io::Result<bool> {
        let (a, mut peer) = UnixStream::pair()?;
        let mut w = ::kqueue::Watcher::new()?;
        w.add_fd(
            a.as_raw_fd(),
            ::kqueue::EventFilter::EVFILT_READ,
            ::kqueue::FilterFlag::empty(),
        )?;
        w.watch()?;
        peer.write_all(b"x")?;
        let ev = w.poll(Some(Duration::from_secs(1)));
        Ok(
            matches!(ev, Some(::kqueue::Event { data: ::kqueue::EventData::ReadReady(n), .. }) if n >= 1),
        )
    };
    matches!(check(), Ok(true))
}
