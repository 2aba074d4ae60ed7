//! The `Poller` trait and the registry of polling backends compiled for this OS.
//!
//! The trait is level-triggered: `wait` reports every registered fd that is ready
//! for one of its interests, again and again until the interest is dropped or the
//! condition goes away. Each backend says in its header how it maps to that.
//! (Backends: select, poll everywhere; epoll on Linux; kqueue on the BSDs and
//! macOS; event ports on illumos and Solaris.)

use std::io;
use std::os::fd::RawFd;
use std::time::Duration;

/// Opaque value handed back with an event; the core uses its fd table index.
pub type Token = usize;

/// What the caller wants to hear about for one fd.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interest {
    pub read: bool,
    pub write: bool,
}

impl Interest {
    pub const NONE: Interest = Interest {
        read: false,
        write: false,
    };
    pub const READ: Interest = Interest {
        read: true,
        write: false,
    };
    pub const WRITE: Interest = Interest {
        read: false,
        write: true,
    };
    pub const BOTH: Interest = Interest {
        read: true,
        write: true,
    };

    pub fn is_none(self) -> bool {
        !self.read && !self.write
    }
}

/// One readiness report. `hup` and `error` may be set whatever the interest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub token: Token,
    pub readable: bool,
    pub writable: bool,
    pub hup: bool,
    pub error: bool,
}

/// Output buffer for `Poller::wait`, reused across loop turns.
pub struct Events {
    list: Vec<Event>,
    capacity: usize,
}

impl Events {
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            list: Vec::with_capacity(capacity),
            capacity: capacity.max(1),
        }
    }
    /// Most events a backend should report in one `wait`.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
    pub fn clear(&mut self) {
        self.list.clear();
    }
    pub fn push(&mut self, ev: Event) {
        self.list.push(ev);
    }
    pub fn len(&self) -> usize {
        self.list.len()
    }
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    pub fn is_full(&self) -> bool {
        self.list.len() >= self.capacity
    }
    pub fn iter(&self) -> std::slice::Iter<'_, Event> {
        self.list.iter()
    }
}

/// A polling backend. Level-triggered at this boundary (see module header).
pub trait Poller {
    fn name(&self) -> &'static str;
    /// Start watching `fd`. Adding an fd twice is an error.
    fn add(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()>;
    /// Change the interest (and token) of a watched fd.
    fn modify(&mut self, fd: RawFd, token: Token, interest: Interest) -> io::Result<()>;
    /// Stop watching `fd`. Must be called before the fd is closed.
    fn remove(&mut self, fd: RawFd) -> io::Result<()>;
    /// Wait at most `timeout` (None: forever) and fill `events` (cleared first).
    /// EINTR returns Ok with no events.
    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()>;
    /// Largest fd this backend can watch, if it has a limit (select without
    /// large-set support). The core closes connections whose fd exceeds it.
    fn max_fd(&self) -> Option<RawFd> {
        None
    }
}

// Backend modules (one file each) are declared here by the pollers work.

/// One entry of the registry: a backend compiled for this OS.
pub struct Backend {
    pub name: &'static str,
    /// Preference as HAProxy's: epoll/kqueue/evports 300, poll 200, select 150.
    pub pref: u32,
    pub create: fn() -> io::Result<Box<dyn Poller>>,
}

/// Every backend compiled for this OS, highest preference first.
pub fn compiled() -> Vec<&'static Backend> {
    todo!("pollers registry")
}

/// Startup self-test: create the backend and check it reports a readable pipe.
pub fn self_test(_b: &Backend) -> bool {
    todo!("pollers self-test")
}

/// Pick the backend: `forced` (--poller NAME) wins, else the usable one with
/// the highest preference whose name is not in `disabled` (-de/-dp/... and
/// noepoll/nopoll/...). The error lists the usable names.
pub fn choose(_forced: Option<&str>, _disabled: &[String]) -> Result<&'static Backend, String> {
    todo!("pollers choose")
}

/// The `-vv` block, "Available polling systems :" ... "Total: ..., will use X."
pub fn report(_disabled: &[String]) -> String {
    todo!("pollers report")
}
