//! Shared harness of the end-to-end tests: temp dirs, free ports, the pollux
//! process (`Pollux`), in-test servers and clients, operating it (runtime
//! API, stats CSV, daemons and reloads: `ops`), HAProxy 2.6 as a reference
//! to compare with (`reference`), and `per_poller!`, which runs one test body
//! once per polling backend usable on this OS.
//!
//! Rules kept here: loopback sockets only, every wait bounded, processes
//! stopped by their pid, nothing mocked.
#![allow(dead_code, unused_imports)]

pub mod clients;
pub mod http;
pub mod live;
pub mod ops;
pub mod pki;
pub mod pollux;
pub mod reference;
pub mod servers;
pub mod smuggling;

pub use clients::*;
pub use http::*;
pub use live::*;
pub use ops::*;
pub use pollux::*;
pub use reference::*;
pub use servers::*;

use std::collections::HashSet;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv6Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long the harness waits for anything that should happen "soon"
/// (a process to start or stop, a connection to be closed). Never a speed claim.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A short timeout written into configs ("fires").
pub const SHORT_TIMEOUT: &str = "300ms";
/// A long timeout written into configs ("does not fire during the test").
pub const LONG_TIMEOUT: &str = "30s";
/// How long a connection must stay open to show a long timeout did not fire.
pub const STAYS_OPEN: Duration = Duration::from_millis(1500);

/// The binary under test: pollux, or whatever `POLLUX_TEST_BIN` names (used to
/// check the suite itself against a reference such as HAProxy via an adapter
/// script that maps `--poller NAME` to `-de`/`-dp`).
pub fn pollux_bin() -> String {
    std::env::var("POLLUX_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pollux").to_string())
}

/// A `Command` that runs the binary under test: `pollux_bin()`, prefixed by
/// the words of `POLLUX_TEST_RUNNER` when set (e.g. `qemu-sparc64 -L
/// /usr/sparc64-linux-gnu` for a cross-built pollux, see ci/cross-run). The
/// runner must exec nothing else, so that pollux (as qemu-user runs it) stays
/// the direct child: its pid is the one signalled and looked up in /proc.
pub fn pollux_command() -> Command {
    let runner = std::env::var("POLLUX_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(prog) => {
            let mut cmd = Command::new(prog);
            cmd.args(words).arg(pollux_bin());
            cmd
        }
        None => Command::new(pollux_bin()),
    }
}

/// `POLLUX_TEST_SELECT_MAX_FD`: the highest fd the select(2) of this
/// environment takes, when it is lower than pollux's own bound (none on
/// Linux). Under qemu-user it is 1023: qemu copies the guest's fd sets into
/// the host's fixed `fd_set` and glibc aborts the whole emulator above
/// FD_SETSIZE - 1 ("bit out of range 0 - FD_SETSIZE on fd_set"), so
/// ci/cross-run sets it. Unset (natively): no bound.
pub fn env_select_max_fd() -> Option<usize> {
    let v = std::env::var("POLLUX_TEST_SELECT_MAX_FD").ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("POLLUX_TEST_SELECT_MAX_FD={v:?}: not a number")),
    )
}

/// Whether a test that makes pollux hold about `fds` descriptors must skip
/// `poller` because this environment's select cannot take them (see
/// [`env_select_max_fd`]); prints a SKIPPED line when it must.
pub fn select_cannot_hold(poller: &str, fds: usize) -> bool {
    match env_select_max_fd() {
        Some(max) if poller == "select" && fds > max => {
            println!(
                "SKIPPED: select with ~{fds} fds: POLLUX_TEST_SELECT_MAX_FD={max} (select(2) here cannot watch higher fds)"
            );
            true
        }
        _ => false,
    }
}

/// One-time process setup: raise the soft fd limit to the hard limit (the
/// 1,000-connection test needs a few thousand fds in this process and in pollux,
/// which inherits the limit).
pub fn init() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        use rustix::process::{getrlimit, setrlimit, Resource};
        // `None` is RLIM_INFINITY.
        let mut rl = getrlimit(Resource::Nofile);
        let below_hard = match (rl.current, rl.maximum) {
            (Some(cur), Some(max)) => cur < max,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if below_hard {
            let want = rl.maximum.unwrap_or(65536);
            rl.current = Some(want.max(rl.current.unwrap_or(0)));
            let _ = setrlimit(Resource::Nofile, rl);
        }
    });
}

/// Current soft limit on open files (u64::MAX when unlimited).
pub fn fd_limit() -> u64 {
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// Tests that open thousands of connections take this lock so that, within one
/// test binary, they do not all run at once (fd budget, 2-core machines).
pub fn heavy_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------
// Pollers: which backends `pollux -vv` says are usable, and `per_poller!`.

/// One line of the `-vv` block: `      epoll : pref=300,  test result OK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerEntry {
    pub name: String,
    /// None when the line says `disabled` instead of `pref=N`.
    pub pref: Option<u32>,
    pub test_ok: bool,
}

/// The parsed `Available polling systems :` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerReport {
    pub entries: Vec<PollerEntry>,
    pub total: usize,
    pub usable: usize,
    pub will_use: String,
    /// The block's lines, verbatim, from the header to the Total line.
    pub lines: Vec<String>,
}

impl PollerReport {
    pub fn usable_names(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.test_ok && e.pref.is_some())
            .map(|e| e.name.clone())
            .collect()
    }
}

/// Parse the polling block out of `-vv` output. Strict about the HAProxy form.
pub fn parse_poller_block(text: &str) -> Result<PollerReport, String> {
    let mut lines = text.lines();
    lines
        .by_ref()
        .find(|l| *l == "Available polling systems :")
        .ok_or_else(|| format!("no line 'Available polling systems :' in:\n{text}"))?;
    let mut block = vec!["Available polling systems :".to_string()];
    let mut entries = Vec::new();
    for line in lines {
        block.push(line.to_string());
        if let Some(rest) = line.strip_prefix("Total: ") {
            // "N (U usable), will use NAME."
            let (n, rest) = rest
                .split_once(" (")
                .ok_or(format!("bad Total line {line:?}"))?;
            let (u, rest) = rest
                .split_once(" usable), will use ")
                .ok_or(format!("bad Total line {line:?}"))?;
            let will = rest
                .strip_suffix('.')
                .ok_or(format!("bad Total line {line:?}"))?;
            return Ok(PollerReport {
                entries,
                total: n.parse().map_err(|_| format!("bad total in {line:?}"))?,
                usable: u
                    .parse()
                    .map_err(|_| format!("bad usable count in {line:?}"))?,
                will_use: will.to_string(),
                lines: block,
            });
        }
        let (name, rest) = line
            .split_once(" : ")
            .ok_or(format!("bad poller line {line:?}"))?;
        if name.len() != 11 || !name.starts_with(' ') {
            return Err(format!(
                "poller name not right-aligned on 11 columns: {line:?}"
            ));
        }
        let (pref, result) = if let Some(r) = rest.strip_prefix("pref=") {
            let (p, r) = r
                .split_once(", ")
                .ok_or(format!("bad poller line {line:?}"))?;
            (
                Some(
                    p.trim()
                        .parse::<u32>()
                        .map_err(|_| format!("bad pref in {line:?}"))?,
                ),
                r,
            )
        } else if let Some(r) = rest.strip_prefix("disabled, ") {
            (None, r)
        } else {
            return Err(format!("bad poller line {line:?}"));
        };
        let test_ok = match result {
            " test result OK" => true,
            " test result FAILED" => false,
            _ => return Err(format!("bad test result in {line:?}")),
        };
        entries.push(PollerEntry {
            name: name.trim().to_string(),
            pref,
            test_ok,
        });
    }
    Err(format!(
        "no 'Total:' line after the polling block in:\n{text}"
    ))
}

/// `pollux -vv`, run once per test binary and parsed.
pub fn vv_report() -> &'static Result<PollerReport, String> {
    static REPORT: OnceLock<Result<PollerReport, String>> = OnceLock::new();
    REPORT.get_or_init(|| {
        let dir = TestDir::new("vv");
        let out = run_pollux(&dir, &["-vv"], &[]);
        if !out.status.success() {
            return Err(format!("`pollux -vv` failed: {out}"));
        }
        parse_poller_block(&out.stdout).map_err(|e| format!("`pollux -vv`: {e}"))
    })
}

/// Run `body` with `poller` if `pollux -vv` says it is usable here; otherwise
/// print why it is skipped. (A `-vv` that cannot be parsed fails the test.)
pub fn run_with_poller(poller: &str, body: fn(&str)) {
    init();
    let report = match vv_report() {
        Ok(r) => r,
        Err(e) => panic!("cannot tell which pollers are usable: {e}"),
    };
    match report.entries.iter().find(|e| e.name == poller) {
        None => println!("SKIPPED: poller {poller} is not compiled for this OS (pollux -vv)"),
        Some(e) if !e.test_ok => {
            println!("SKIPPED: poller {poller} failed its self-test here (pollux -vv)")
        }
        Some(_) => body(poller),
    }
}

/// `per_poller!(a, b)` generates `mod a { #[test] fn epoll() ...; fn poll(); fn select() }`
/// (and kqueue/evports where they exist), each running the body `fn a(poller: &str)`
/// through `run_with_poller`.
#[allow(unused_macros)]
macro_rules! per_poller {
    ($($body:ident),+ $(,)?) => {$(
        mod $body {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            #[test]
            fn epoll() {
                crate::common::run_with_poller("epoll", super::$body)
            }
            #[cfg(any(
                target_os = "freebsd",
                target_os = "openbsd",
                target_os = "netbsd",
                target_os = "dragonfly",
                target_os = "macos"
            ))]
            #[test]
            fn kqueue() {
                crate::common::run_with_poller("kqueue", super::$body)
            }
            #[cfg(any(target_os = "illumos", target_os = "solaris"))]
            #[test]
            fn evports() {
                crate::common::run_with_poller("evports", super::$body)
            }
            #[test]
            fn poll() {
                crate::common::run_with_poller("poll", super::$body)
            }
            #[test]
            fn select() {
                crate::common::run_with_poller("select", super::$body)
            }
        }
    )+};
}
#[allow(unused_imports)]
pub(crate) use per_poller;

// ---------------------------------------------------------------------------
// Temp dirs.

/// A fresh directory per test, removed on success, kept (and named) on failure.
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    pub fn new(tag: &str) -> TestDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let test = thread::current()
            .name()
            .unwrap_or("main")
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let path = std::env::temp_dir().join(format!(
            "pollux-test-{}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            tag,
            test
        ));
        fs::create_dir_all(&path).expect("create test dir");
        TestDir { path }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
    /// Write a file and return its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("create dir");
        }
        fs::write(&p, text).expect("write file");
        p
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("test files kept in {}", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

// ---------------------------------------------------------------------------
// Ports.

/// A random number, different on each call.
pub fn random_u64() -> u64 {
    static N: AtomicUsize = AtomicUsize::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(N.fetch_add(1, Ordering::Relaxed));
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// Whether `[::1]` can be bound here.
pub fn ipv6_available() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

fn port_is_free(port: u16) -> bool {
    if TcpListener::bind(("127.0.0.1", port)).is_err() {
        return false;
    }
    match TcpListener::bind((Ipv6Addr::LOCALHOST, port)) {
        Ok(_) => true,
        Err(e) => e.kind() != std::io::ErrorKind::AddrInUse,
    }
}

/// `n` ports that are free right now on 127.0.0.1 (and ::1 when it exists),
/// chosen at random in 10000..32000 (below the ephemeral range), never handed out
/// twice in this process. With `consecutive`, they follow each other (port ranges).
pub fn free_ports(n: usize, consecutive: bool) -> Vec<u16> {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    let mut out = Vec::with_capacity(n);
    for _ in 0..10_000 {
        if out.len() == n {
            break;
        }
        if consecutive {
            let start = 10_000 + (random_u64() % (22_000 - n as u64)) as u16;
            let cand: Vec<u16> = (start..start + n as u16).collect();
            if cand.iter().all(|p| !given.contains(p) && port_is_free(*p)) {
                out = cand;
            }
        } else {
            let p = 10_000 + (random_u64() % 22_000) as u16;
            if !given.contains(&p) && !out.contains(&p) && port_is_free(p) {
                out.push(p);
            }
        }
    }
    assert_eq!(out.len(), n, "could not find {n} free ports");
    given.extend(out.iter().copied());
    out
}

pub fn free_port() -> u16 {
    free_ports(1, false)[0]
}

/// An address on which nothing listens: connecting to it is refused.
pub fn dead_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

/// Replace `@P0@`, `@P1@`... in a config template by `ports`.
pub fn render(template: &str, ports: &[u16]) -> String {
    let mut s = template.to_string();
    for (i, p) in ports.iter().enumerate() {
        s = s.replace(&format!("@P{i}@"), &p.to_string());
    }
    s
}

/// How many ports a template needs: one more than its highest `@Pn@` (a port
/// range `@P0@-@P3@` thus gets 4, all of which pollux must listen on).
pub fn placeholders(template: &str) -> usize {
    (0..64)
        .filter(|i| template.contains(&format!("@P{i}@")))
        .map(|i| i + 1)
        .max()
        .unwrap_or(0)
}

/// The usual TCP-mode defaults with generous timeouts, for configs that are not
/// about timeouts.
pub fn tcp_defaults() -> String {
    format!(
        "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client {LONG_TIMEOUT}\n    timeout server {LONG_TIMEOUT}\n"
    )
}

// ---------------------------------------------------------------------------
// Running pollux as a command (not a server): -vv, -c, --help...

/// Status and output of a finished command.
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
    /// stdout and stderr together (pollux may print a message on either).
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for RunOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// Run `pollux ARGS` to completion (bounded by PATIENCE, killed after), output
/// captured in files of `dir` (files, not pipes: a daemon keeps no pipe open).
pub fn run_pollux(dir: &TestDir, args: &[&str], envs: &[(&str, &str)]) -> RunOutput {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let out_path = dir.join(&format!("run{n}.stdout"));
    let err_path = dir.join(&format!("run{n}.stderr"));
    let mut cmd = pollux_command();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).expect("stdout file"))
        .stderr(fs::File::create(&err_path).expect("stderr file"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn pollux");
    let status = wait_timeout(&mut child, PATIENCE).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "`pollux {}` still running after {PATIENCE:?}; killed.\n--- stdout ---\n{}\n--- stderr ---\n{}",
            args.join(" "),
            fs::read_to_string(&out_path).unwrap_or_default(),
            fs::read_to_string(&err_path).unwrap_or_default()
        )
    });
    RunOutput {
        status,
        stdout: fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// Wait for a child to exit, at most `limit`.
pub fn wait_timeout(child: &mut std::process::Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Poll `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}
