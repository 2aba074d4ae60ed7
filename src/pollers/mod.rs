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
    /// Event `i` of this turn, for backends that merge per-direction reports
    /// (kqueue's EVFILT_READ and EVFILT_WRITE) into one event per fd.
    #[cfg(any(
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly",
        target_os = "macos"
    ))]
    pub(crate) fn get_mut(&mut self, i: usize) -> Option<&mut Event> {
        self.list.get_mut(i)
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
    /// Stop watching `fd` because the caller closes it right after. Backends
    /// whose kernel forgets a closed fd by itself skip the syscall.
    fn remove_closing(&mut self, fd: RawFd) -> io::Result<()> {
        self.remove(fd)
    }
    /// Wait at most `timeout` (None: forever) and fill `events` (cleared first).
    /// EINTR returns Ok with no events.
    fn wait(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()>;
    /// Largest fd this backend can watch, if it has a limit (select without
    /// large-set support). The core closes connections whose fd exceeds it.
    fn max_fd(&self) -> Option<RawFd> {
        None
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(target_os = "illumos", target_os = "solaris"))]
mod evports;
#[cfg(any(
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly",
    target_os = "macos"
))]
mod kqueue;
mod poll;
mod select;
#[cfg(test)]
mod tests;

use std::os::fd::BorrowedFd;
use std::sync::OnceLock;
use std::time::Instant;

/// One entry of the registry: a backend compiled for this OS.
#[derive(Debug)]
pub struct Backend {
    pub name: &'static str,
    /// Preference as HAProxy's: epoll/kqueue/evports 300, poll 200, select 150.
    pub pref: u32,
    pub create: fn() -> io::Result<Box<dyn Poller>>,
}

/// Every backend compiled here, highest preference first (HAProxy's order).
static BACKENDS: &[Backend] = &[
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Backend {
        name: "epoll",
        pref: 300,
        create: epoll::Epoll::boxed,
    },
    #[cfg(any(
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly",
        target_os = "macos"
    ))]
    Backend {
        name: "kqueue",
        pref: 300,
        create: kqueue::Kqueue::boxed,
    },
    #[cfg(any(target_os = "illumos", target_os = "solaris"))]
    Backend {
        name: "evports",
        pref: 300,
        create: evports::Ports::boxed,
    },
    Backend {
        name: "poll",
        pref: 200,
        create: poll::Poll::boxed,
    },
    Backend {
        name: "select",
        pref: 150,
        create: select::Select::boxed,
    },
];

/// Every backend name pollux knows, compiled here or not, for error messages.
const KNOWN: &[&str] = &["epoll", "kqueue", "evports", "poll", "select"];

/// Every backend compiled for this OS, highest preference first.
pub fn compiled() -> Vec<&'static Backend> {
    let mut all: Vec<&'static Backend> = BACKENDS.iter().collect();
    all.sort_by_key(|b| std::cmp::Reverse(b.pref));
    all
}

/// Startup self-test: create the backend and check it reports a readable pipe.
///
/// Registers one end of a socketpair for read, checks that a short wait with
/// nothing ready reports nothing, writes a byte to the other end and checks
/// that the first end is reported readable within a second.
pub fn self_test(b: &Backend) -> bool {
    let ok = run_self_test(b).is_ok();
    #[cfg(any(
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly",
        target_os = "macos"
    ))]
    let ok = ok && (b.name != "kqueue" || kqueue::cross_check());
    ok
}

fn run_self_test(b: &Backend) -> io::Result<()> {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    const TOKEN: Token = 7;
    let fail = |what: &str| io::Error::other(format!("{} self-test: {what}", b.name));
    let mut p = (b.create)()?;
    let (a, mut peer) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    p.add(a.as_raw_fd(), TOKEN, Interest::READ)?;
    let mut events = Events::with_capacity(8);
    p.wait(&mut events, Some(Duration::from_millis(10)))?;
    if !events.is_empty() {
        return Err(fail("event reported with nothing ready"));
    }
    peer.write_all(b"x")?;
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut seen = false;
    while !seen && Instant::now() < deadline {
        p.wait(&mut events, Some(Duration::from_millis(100)))?;
        seen = events.iter().any(|e| e.token == TOKEN && e.readable);
    }
    p.remove(a.as_raw_fd())?;
    if seen {
        Ok(())
    } else {
        Err(fail("readable socket not reported"))
    }
}

/// Self-test results, run once per process, in `BACKENDS` order.
fn tested() -> &'static [bool] {
    static RESULTS: OnceLock<Vec<bool>> = OnceLock::new();
    RESULTS.get_or_init(|| BACKENDS.iter().map(self_test).collect())
}

fn is_usable(b: &Backend) -> bool {
    BACKENDS
        .iter()
        .zip(tested())
        .any(|(x, ok)| std::ptr::eq(x, b) && *ok)
}

fn usable_names() -> String {
    let names: Vec<&str> = compiled()
        .into_iter()
        .filter(|b| is_usable(b))
        .map(|b| b.name)
        .collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

fn is_disabled(b: &Backend, disabled: &[String]) -> bool {
    disabled.iter().any(|d| d == b.name)
}

/// Pick the backend: `forced` (--poller NAME) wins, else the usable one with
/// the highest preference whose name is not in `disabled` (-de/-dp/... and
/// noepoll/nopoll/...). The error lists the usable names.
///
/// `--poller` is an explicit choice, so it is honoured even if the same
/// backend is also disabled: disabling only steers the automatic choice.
pub fn choose(forced: Option<&str>, disabled: &[String]) -> Result<&'static Backend, String> {
    let usable = usable_names();
    if let Some(name) = forced {
        return match compiled().into_iter().find(|b| b.name == name) {
            Some(b) if is_usable(b) => Ok(b),
            Some(_) => Err(format!(
                "--poller {name}: self-test failed on {} (usable: {usable})",
                std::env::consts::OS
            )),
            None if KNOWN.contains(&name) => Err(format!(
                "--poller {name}: not available on {} (usable: {usable})",
                std::env::consts::OS
            )),
            None => Err(format!(
                "--poller {name}: unknown polling system (usable: {usable})"
            )),
        };
    }
    compiled()
        .into_iter()
        .find(|b| is_usable(b) && !is_disabled(b, disabled))
        .ok_or_else(|| {
            format!("no polling system left once disabled ones are removed (usable: {usable})")
        })
}

/// The `-vv` block, "Available polling systems :" ... "Total: ..., will use X."
///
/// As HAProxy does, a disabled backend is shown with `pref=  0` (its preference
/// is zeroed) and its real test result, and is not counted as usable. Names are
/// right-aligned in a 10-wide field after one space; prefs in a 3-wide field.
pub fn report(disabled: &[String]) -> String {
    let all = compiled();
    let mut out = String::from("Available polling systems :\n");
    let mut usable = 0;
    for b in &all {
        let ok = is_usable(b);
        let pref = if is_disabled(b, disabled) { 0 } else { b.pref };
        if ok && pref != 0 {
            usable += 1;
        }
        let result = if ok { "OK" } else { "FAILED" };
        out.push_str(&format!(
            " {:>10} : pref={pref:>3},  test result {result}\n",
            b.name
        ));
    }
    let chosen = choose(None, disabled).map(|b| b.name).unwrap_or("none");
    out.push_str(&format!(
        "Total: {} ({usable} usable), will use {chosen}.\n",
        all.len()
    ));
    out
}

// ---- helpers shared by the backends ----

/// Longest wait handed to the kernel: about 24.8 days, the most every OS's
/// millisecond-based wait (epoll_wait(2), poll(2)) accepts. Longer is forever
/// in practice, and the core's timers wake us sooner anyway.
const MAX_WAIT: Duration = Duration::from_millis(i32::MAX as u64);

/// `wait`'s timeout as the kernel wants it; None waits forever.
fn timespec(timeout: Option<Duration>) -> Option<rustix::event::Timespec> {
    timeout.map(|t| {
        let t = t.min(MAX_WAIT);
        rustix::event::Timespec {
            tv_sec: t.as_secs() as _,
            tv_nsec: t.subsec_nanos() as _,
        }
    })
}

/// Map a wait error: EINTR is an empty turn (the trait contract), others pass.
fn interrupted_is_ok(r: rustix::io::Result<()>) -> io::Result<()> {
    match r {
        Err(rustix::io::Errno::INTR) => Ok(()),
        other => other.map_err(io::Error::from),
    }
}

/// Borrow a watched fd for a call into the kernel.
///
/// The `Poller` contract is that the caller owns `fd` and keeps it open from
/// `add` until `remove`, so the borrow is valid while it is registered; a
/// negative fd is refused here rather than handed to `borrow_raw`.
fn watched(fd: RawFd) -> io::Result<BorrowedFd<'static>> {
    if fd < 0 {
        return Err(errno(rustix::io::Errno::BADF));
    }
    // SAFETY: fd is non-negative, and by the Poller contract (see `remove`)
    // it stays open for as long as it is registered with this poller, which
    // bounds every use the backends make of the returned borrow.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) })
}

/// Per-fd registration records, indexed by fd: fds are small dense integers,
/// so a Vec beats a hash map. Trailing empty slots are trimmed so that
/// `end()` is one past the highest registered fd (select's `nfds`).
struct FdTable<T> {
    slots: Vec<Option<T>>,
}

impl<T> FdTable<T> {
    fn new() -> Self {
        FdTable { slots: Vec::new() }
    }

    fn get(&self, fd: RawFd) -> Option<&T> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get(i))
            .and_then(Option::as_ref)
    }

    fn get_mut(&mut self, fd: RawFd) -> Option<&mut T> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::as_mut)
    }

    /// Register `fd`; EEXIST if it already is (the trait: adding twice is an error).
    fn insert(&mut self, fd: RawFd, value: T) -> io::Result<()> {
        let i = usize::try_from(fd).map_err(|_| errno(rustix::io::Errno::BADF))?;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        match &mut self.slots[i] {
            Some(_) => Err(errno(rustix::io::Errno::EXIST)),
            slot => {
                *slot = Some(value);
                Ok(())
            }
        }
    }

    /// Unregister `fd`; ENOENT if it was not registered.
    fn remove(&mut self, fd: RawFd) -> io::Result<T> {
        let value = usize::try_from(fd)
            .ok()
            .and_then(|i| self.slots.get_mut(i))
            .and_then(Option::take)
            .ok_or_else(|| errno(rustix::io::Errno::NOENT))?;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(value)
    }

    /// One past the highest registered fd.
    fn end(&self) -> RawFd {
        self.slots.len() as RawFd
    }
}

fn errno(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// ENOENT for modify/remove of an fd that is not registered.
fn not_registered() -> io::Error {
    errno(rustix::io::Errno::NOENT)
}
