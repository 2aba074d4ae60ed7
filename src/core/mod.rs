//! The event loop's machinery: the chosen poller, the fd table with its update
//! list, timers and the buffer pool. Knows nothing of proxies or HTTP: owners
//! are plain integers that the layer above encodes.

pub mod anysock;
pub mod buffer;
pub mod fdtab;
pub mod lifecycle;
pub mod ratelimit;
pub mod timers;
pub mod trace;

/// `text` without Rust's " (os error N)" after an OS error's message:
/// messages read `Connection refused`, as HAProxy's.
pub fn plain_os(text: &str) -> std::borrow::Cow<'_, str> {
    const MARK: &str = " (os error ";
    if !text.contains(MARK) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i]);
        let after = &rest[i + MARK.len()..];
        match after.find(')') {
            Some(j) if after[..j].bytes().all(|b| b.is_ascii_digit()) => rest = &after[j + 1..],
            _ => {
                out.push_str(MARK);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

use crate::pollers::{Event, Events, Interest, Poller, Token};
use buffer::BufferPool;
use fdtab::FdTable;
use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};
use timers::Timers;

pub struct Reactor {
    poller: Box<dyn Poller>,
    fds: FdTable,
    events: Events,
    pub timers: Timers,
    pub pool: BufferPool,
}

/// A readiness report resolved to its owner.
#[derive(Clone, Copy, Debug)]
pub struct Ready {
    pub owner: usize,
    pub token: Token,
    pub event: Event,
}

impl Reactor {
    pub fn new(poller: Box<dyn Poller>, bufsize: usize) -> Reactor {
        Reactor {
            poller,
            fds: FdTable::default(),
            events: Events::with_capacity(256),
            timers: Timers::default(),
            pool: BufferPool::new(bufsize, 256),
        }
    }

    pub fn poller_name(&self) -> &'static str {
        self.poller.name()
    }

    /// Largest fd the poller can watch, if limited (select without large sets).
    pub fn max_fd(&self) -> Option<RawFd> {
        self.poller.max_fd()
    }

    pub fn register(&mut self, fd: RawFd, owner: usize, want: Interest) -> Token {
        self.fds.insert(fd, owner, want)
    }

    pub fn set_want(&mut self, token: Token, want: Interest) {
        self.fds.set_want(token, want);
    }

    pub fn want(&self, token: Token) -> Interest {
        self.fds.want(token)
    }

    /// Unregister before closing the fd.
    pub fn deregister(&mut self, token: Token) {
        self.fds.remove(token, self.poller.as_mut());
    }

    /// Flush fd updates, wait for readiness (bounded by the next timer and
    /// `max_wait`), and append the events to `out`. Registration failures are
    /// reported as error events so their owner cleans up.
    pub fn poll(&mut self, out: &mut Vec<Ready>, max_wait: Option<Duration>) -> io::Result<()> {
        for (token, err) in self.fds.flush(self.poller.as_mut()) {
            log::warn!(
                "cannot watch fd (token {token}) with {}: {err}",
                self.poller.name()
            );
            if let Some(owner) = self.fds.owner(token) {
                let event = Event {
                    token,
                    error: true,
                    ..Event::default()
                };
                out.push(Ready {
                    owner,
                    token,
                    event,
                });
            }
        }
        let timeout = if out.is_empty() {
            let to_timer = self
                .timers
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()) + Duration::from_millis(1));
            match (to_timer, max_wait) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        } else {
            Some(Duration::ZERO)
        };
        self.poller.wait(&mut self.events, timeout)?;
        for event in self.events.iter() {
            if let Some(owner) = self.fds.owner(event.token) {
                out.push(Ready {
                    owner,
                    token: event.token,
                    event: *event,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod plain_os_tests {
    use super::plain_os;

    #[test]
    fn os_error_numbers_are_dropped_and_nothing_else() {
        assert_eq!(
            plain_os("connect: Connection refused (os error 111)"),
            "connect: Connection refused"
        );
        assert_eq!(plain_os("a (os error 2); b (os error 13) end"), "a; b end");
        assert_eq!(plain_os("kept (os error x)"), "kept (os error x)");
        assert_eq!(plain_os("no error here"), "no error here");
    }
}
