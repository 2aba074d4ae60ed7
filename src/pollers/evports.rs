//! Event ports backend (port_create(3C)): illumos, Solaris.
//!
//! Event ports are one-shot: once an fd's event is retrieved by port_getn,
//! the fd is dissociated from the port (port_associate(3C)). To give the
//! trait's level-triggered contract, every fd reported in a turn is queued
//! and re-associated with its current interest at the start of the next
//! `wait`, after the caller has had its chance to read, write, modify or
//! remove it (HAProxy's ev_evports.c does the same through its update list).
//! If it is still ready then, the port reports it again. POLLHUP and POLLERR
//! come with any association whatever the events asked; an fd with no
//! interest is not associated at all, so it hears nothing.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{OwnedFd, RawFd};
use std::ptr::null_mut;
use std::time::Duration;

use rustix::event::port::{self, PollFlags};

use super::{
    interrupted_is_ok, not_registered, timespec, watched, Event, Events, FdTable, Interest, Poller,
    Token,
};

#[derive(Clone, Copy)]
struct Reg {
    token: Token,
    interest: Interest,
    /// Currently associated with the port (false after an event fired).
    associated: bool,
}

pub struct Ports {
    port: OwnedFd,
    regs: FdTable<Reg>,
    /// fds reported last turn, to re-associate before the next port_getn.
    rearm: Vec<RawFd>,
    buf: Vec<MaybeUninit<port::Event>>,
}

impl Ports {
    pub fn boxed() -> io::Result<Box<dyn Poller>> {
        Ok(Box::new(Ports {
            port: port::create()?,
            regs: FdTable::new(),
            rearm: Vec::new(),
            buf: Vec::new(),
        }))
    }

    /// Make the port's association of `fd` match its registered interest.
    fn sync(&mut self, fd: RawFd) -> io::Result<()> {
        let Some(reg) = self.regs.get_mut(fd) else {
            return Ok(());
        };
        let borrowed = watched(fd)?;
        if reg.interest.is_none() {
            if reg.associated {
                // SAFETY: fd was associated with this port by `sync`.
                unsafe { port::dissociate_fd(&self.port, borrowed) }?;
            }
            reg.associated = false;
        } else {
            // Associating an associated fd replaces its events (port_associate(3C)).
            // SAFETY: fd is registered, hence open until `remove` dissociates
            // it (Poller contract), so the port never holds a closed fd.
            unsafe {
                port::associate_fd(&self.port, borrowed, to_ports(reg.interest), null_mut())
            }?;
            reg.associated = true;
        }
        Ok(())
    }
}

/// Interest -> poll(2) flags for port_associate. HUP and ERR come anyway.
fn to_ports(i: Interest) -> PollFlags {
    let mut f = PollFlags::empty();
    if i.read {
        f |= PollFlags::IN;
    }
    if i.write {
        f |= PollFlags::OUT;
    }
    f
}

/// port event (poll(2) revents) -> Event.
fn from_ports(token: Token, revents: i32) -> Event {
    let f = PollFlags::from_bits_retain(revents as _);
    Event {
        token,
        readable: f.intersects(PollFlags::IN | PollFlags::PRI),
        writable: f.contains(PollFlags::OUT),
        hup: f.contains(PollFlags::HUP),
        error: f.intersects(PollFlags::ERR | PollFlags::NVAL),
    }
}

impl Poller for Ports {
    fn name(&self) -> &'static str {
        "evports"
    }

    fn add(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        watched(fd)?;
        self.regs.insert(
            fd,
            Reg {
                token,
                interest,
                associated: false,
            },
        )?;
        self.sync(fd).inspect_err(|_| {
            let _ = self.regs.remove(fd);
        })
    }

    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()> {
        let reg = self.regs.get_mut(fd).ok_or_else(not_registered)?;
        reg.token = token;
        reg.interest = interest;
        self.sync(fd)
    }

    fn remove(&mut self, fd: RawFd) -> io::Result<()> {
        let reg = self.regs.remove(fd)?;
        if reg.associated {
            // SAFETY: fd was associated with this port by `sync` and its
            // event has not fired since, so it still is.
            unsafe { port::dissociate_fd(&self.port, watched(fd)?) }?;
        }
        Ok(())
    }

    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.clear();
        let mut pending = std::mem::take(&mut self.rearm);
        for &fd in &pending {
            let Some(&reg) = self.regs.get(fd) else {
                continue;
            };
            if !reg.associated && self.sync(fd).is_err() {
                // Say so on that fd rather than fail the whole turn, and keep
                // saying so (level-triggered) until the caller removes it.
                self.rearm.push(fd);
                if !events.is_full() {
                    events.push(Event {
                        token: reg.token,
                        error: true,
                        ..Event::default()
                    });
                }
            }
        }
        if self.rearm.is_empty() {
            pending.clear();
            self.rearm = pending; // keep the allocation
        }
        if !events.is_empty() {
            return Ok(());
        }
        let cap = events.capacity();
        self.buf
            .resize_with(cap.max(self.buf.len()), MaybeUninit::uninit);
        let ts = timespec(timeout);
        let ready = match port::getn(&self.port, &mut self.buf[..cap], 1, ts.as_ref()) {
            Ok((ready, _)) => ready,
            // port_getn(3C): ETIME when the timeout expires with no event.
            Err(rustix::io::Errno::TIME) => return Ok(()),
            Err(e) => return interrupted_is_ok(Err(e)),
        };
        for pev in ready.iter() {
            let fd = pev.object() as RawFd;
            let Some(reg) = self.regs.get_mut(fd) else {
                continue;
            };
            reg.associated = false;
            self.rearm.push(fd);
            events.push(from_ports(reg.token, pev.events()));
        }
        Ok(())
    }
}
