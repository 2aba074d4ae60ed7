//! The pollux process under test: spawn with a config, wait until it listens,
//! stop it with a signal and check it exits 0; logs kept in the test dir and
//! printed when the test fails.

use super::{free_ports, placeholders, pollux_command, render, wait_timeout, TestDir, PATIENCE};
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How to start pollux. `Pollux::start(poller, cfg)` covers the usual case.
pub struct Launch {
    /// Another program to run instead of the binary under test (HAProxy,
    /// for the tests that compare with it); None: `pollux_command()`.
    program: Option<PathBuf>,
    poller: Option<String>,
    /// `-db` by default; `-d` for debug output.
    mode: Vec<String>,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    /// An fd for pollux to inherit: its number here (kept in pollux) and a dup.
    inherit: Option<(RawFd, OwnedFd)>,
    consecutive: bool,
}

impl Launch {
    pub fn new(poller: Option<&str>) -> Launch {
        Launch {
            program: None,
            poller: poller.map(str::to_string),
            mode: vec!["-db".into()],
            args: Vec::new(),
            envs: Vec::new(),
            inherit: None,
            consecutive: false,
        }
    }
    /// Replace `-db` by these flags (e.g. `-d`, or `-db -V`).
    pub fn mode(mut self, flags: &[&str]) -> Launch {
        self.mode = flags.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Extra command-line arguments, after `-f CFG`.
    pub fn args(mut self, args: &[&str]) -> Launch {
        self.args.extend(args.iter().map(|s| s.to_string()));
        self
    }
    pub fn env(mut self, k: &str, v: &str) -> Launch {
        self.envs.push((k.into(), v.into()));
        self
    }
    /// Let pollux inherit this fd, under the same number as here (one fd at
    /// most; close-on-exec stays set here, so no other child gets it; needs bash).
    pub fn inherit_fd(mut self, fd: impl AsFd) -> Launch {
        assert!(self.inherit.is_none(), "inherit_fd: one fd at most");
        let fd = fd.as_fd();
        let dup = fd.try_clone_to_owned().expect("dup the fd to inherit");
        self.inherit = Some((fd.as_raw_fd(), dup));
        self
    }
    /// Run `path` instead of pollux, with the same arguments: e.g.
    /// `/usr/sbin/haproxy`, to compare with it. Messages still say "pollux".
    pub fn program(mut self, path: impl Into<PathBuf>) -> Launch {
        self.program = Some(path.into());
        self
    }
    /// Make the `@Pn@` ports consecutive (for port-range binds).
    pub fn consecutive_ports(mut self) -> Launch {
        self.consecutive = true;
        self
    }

    /// Write the config (with fresh ports for `@P0@`, `@P1@`...), spawn pollux and
    /// wait until it listens on all of them. Pollux exiting early (a port taken
    /// meanwhile) is retried once with new ports.
    pub fn start(self, template: &str) -> Pollux {
        let nports = placeholders(template);
        let mut last_failure = String::new();
        for attempt in 0..2 {
            let ports = free_ports(nports, self.consecutive);
            let mut px = self.spawn(&render(template, &ports), ports);
            match px.wait_listening() {
                Ok(()) => return px,
                Err(why) => {
                    last_failure = format!("{why}\n{}", px.logs());
                    px.kill();
                    eprintln!("pollux start attempt {attempt} failed: {last_failure}");
                }
            }
        }
        panic!("pollux did not start:\n{last_failure}");
    }

    /// `pollux_command()`, behind wrappers that set things up in the child and
    /// then exec the next word, so that pollux keeps the pid of the child:
    /// - `setpriv --pdeathsig KILL` (Linux, when util-linux's setpriv is there):
    ///   if the test process dies, pollux must not outlive it;
    /// - with `inherit_fd`: `bash -c 'exec "$@" N<&0 0</dev/null'`, which moves
    ///   the fd, given as stdin, to its number N (close-on-exec off) and gives
    ///   pollux /dev/null as stdin (bash: sh may only know fds 0 to 9).
    fn command(&self) -> Command {
        let base = match &self.program {
            Some(p) => Command::new(p),
            None => pollux_command(),
        };
        let mut argv: Vec<OsString> = std::iter::once(base.get_program())
            .chain(base.get_args())
            .map(OsStr::to_os_string)
            .collect();
        if let Some((num, _)) = &self.inherit {
            let script = format!("exec \"$@\" {num}<&0 0</dev/null");
            let wrapper = ["bash", "-c", &script, "bash"];
            argv.splice(0..0, wrapper.iter().map(OsString::from));
        }
        if pdeathsig_available() {
            let wrapper = ["setpriv", "--pdeathsig", "KILL", "--"];
            argv.splice(0..0, wrapper.iter().map(OsString::from));
        }
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        cmd
    }

    fn spawn(&self, cfg: &str, ports: Vec<u16>) -> Pollux {
        let dir = TestDir::new("pollux");
        let cfg_path = dir.write("pollux.cfg", cfg);
        let stdout = dir.join("stdout.log");
        let stderr = dir.join("stderr.log");
        let mut cmd = self.command();
        cmd.arg("-f").arg(&cfg_path).args(&self.mode);
        if let Some(p) = &self.poller {
            cmd.arg("--poller").arg(p);
        }
        let stdin = match &self.inherit {
            Some((_, fd)) => Stdio::from(fd.try_clone().expect("dup the fd to inherit")),
            None => Stdio::null(),
        };
        cmd.args(&self.args)
            .stdin(stdin)
            .stdout(fs::File::create(&stdout).expect("stdout file"))
            .stderr(fs::File::create(&stderr).expect("stderr file"));
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn pollux");
        Pollux {
            child: Some(child),
            ports,
            dir,
            cfg_path,
            stdout,
            stderr,
        }
    }
}

/// Whether `setpriv --pdeathsig KILL` works here (checked once).
fn pdeathsig_available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    cfg!(target_os = "linux")
        && *OK.get_or_init(|| {
            Command::new("setpriv")
                .args(["--pdeathsig", "KILL", "--", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|st| st.success())
        })
}

/// A running pollux. Dropping it sends SIGTERM and checks exit status 0 (unless
/// the test is already failing: then it is killed and its logs printed).
pub struct Pollux {
    child: Option<Child>,
    /// The ports that replaced `@P0@`, `@P1@`... in the config.
    pub ports: Vec<u16>,
    pub dir: TestDir,
    pub cfg_path: PathBuf,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Pollux {
    /// Start with `-db --poller POLLER` and wait until every `@Pn@` port listens.
    pub fn start(poller: &str, template: &str) -> Pollux {
        Launch::new(Some(poller)).start(template)
    }

    pub fn launch(poller: &str) -> Launch {
        Launch::new(Some(poller))
    }

    /// `127.0.0.1:PORT` of the i-th `@Pn@` placeholder.
    pub fn addr(&self, i: usize) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.ports[i]))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("pollux already stopped").id()
    }

    pub fn stdout(&self) -> String {
        fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Config, stdout and stderr, for failure messages.
    pub fn logs(&self) -> String {
        let cfg = fs::read_to_string(&self.cfg_path).unwrap_or_default();
        format!(
            "--- pollux config {} ---\n{cfg}\n--- pollux stdout ---\n{}\n--- pollux stderr ---\n{}\n---",
            self.cfg_path.display(),
            tail(&self.stdout()),
            tail(&self.stderr())
        )
    }

    /// Still running?
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn wait_listening(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + PATIENCE;
        let pid = self.pid();
        loop {
            if let Some(st) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(format!("pollux exited before listening: {st}"));
            }
            let ready = match listening_ports_of(pid) {
                Some(listening) => self.ports.iter().all(|p| listening.contains(p)),
                // No /proc: fall back to connecting (the backend sees one extra connection).
                None => self
                    .ports
                    .iter()
                    .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok()),
            };
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "pollux not listening on {:?} after {PATIENCE:?}",
                    self.ports
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait until stdout contains `needle` (bounded); false if it never does.
    pub fn wait_stdout(&self, needle: &str) -> bool {
        super::eventually(PATIENCE, || self.stdout().contains(needle))
    }

    /// Send `sig` and wait (bounded) for the exit status.
    pub fn signal_and_wait(&mut self, sig: i32) -> ExitStatus {
        let mut child = self.child.take().expect("pollux already stopped");
        // Our own child, not yet reaped: the pid cannot have been reused.
        send_signal(child.id() as i32, sig);
        match wait_timeout(&mut child, PATIENCE) {
            Some(st) => st,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "pollux did not exit within {PATIENCE:?} of signal {sig}; killed\n{}",
                    self.logs()
                );
            }
        }
    }

    /// Stop with SIGTERM and assert a clean exit (status 0).
    pub fn stop(mut self) {
        self.stop_with(libc::SIGTERM);
    }

    /// Stop with `sig` and assert a clean exit (status 0).
    pub fn stop_with(&mut self, sig: i32) {
        let st = self.signal_and_wait(sig);
        assert!(
            st.code() == Some(0),
            "pollux exited with {st} (signal {:?}) after signal {sig}, expected status 0\n{}",
            st.signal(),
            self.logs()
        );
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Pollux {
    fn drop(&mut self) {
        if thread::panicking() {
            if let Some(mut c) = self.child.take() {
                send_signal(c.id() as i32, libc::SIGTERM);
                if wait_timeout(&mut c, Duration::from_secs(2)).is_none() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
            }
            eprintln!("{}", self.logs());
        } else if self.child.is_some() {
            self.stop_with(libc::SIGTERM);
        }
    }
}

fn tail(s: &str) -> &str {
    const MAX: usize = 20_000;
    if s.len() <= MAX {
        return s;
    }
    let mut i = s.len() - MAX;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// TCP ports on which process `pid` has a listening socket, from /proc (Linux).
/// None where /proc is not available.
/// (Sockets of its descendants count too: a wrapper script or a worker process.)
pub fn listening_ports_of(pid: u32) -> Option<HashSet<u16>> {
    let mut inodes = socket_inodes(pid)?;
    for p in descendants_of(pid) {
        inodes.extend(socket_inodes(p).unwrap_or_default());
    }
    Some(
        tcp_listeners()
            .into_iter()
            .filter(|(_, ino)| inodes.contains(ino))
            .map(|(port, _)| port)
            .collect(),
    )
}

/// Inodes of the sockets process `pid` holds (its /proc/PID/fd links
/// `socket:[N]`); None if that directory cannot be read.
pub fn socket_inodes(pid: u32) -> Option<HashSet<u64>> {
    let mut inodes = HashSet::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        if let Ok(target) = fs::read_link(entry.path()) {
            let t = target.to_string_lossy();
            if let Some(ino) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                if let Ok(ino) = ino.parse::<u64>() {
                    inodes.insert(ino);
                }
            }
        }
    }
    Some(inodes)
}

/// (port, inode) of every TCP socket in LISTEN state, IPv4 and IPv6, from
/// /proc/net/tcp and /proc/net/tcp6 (none where they cannot be read).
pub fn tcp_listeners() -> Vec<(u16, u64)> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            // (the tables can be long under load: no more parsed than needed)
            let mut f = line.split_whitespace();
            let (Some(local), Some("0A")) = (f.nth(1), f.nth(1)) else {
                continue;
            };
            let Some(Ok(ino)) = f.nth(5).map(str::parse::<u64>) else {
                continue;
            };
            if let Some((_, port)) = local.rsplit_once(':') {
                if let Ok(p) = u16::from_str_radix(port, 16) {
                    out.push((p, ino));
                }
            }
        }
    }
    out
}

/// Pids of the processes descending from `pid` (from /proc/*/stat).
fn descendants_of(pid: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // "pid (comm) S ppid ...": fields after the last ')'.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().nth(1)?.parse::<u32>().ok());
            if let Some(pp) = ppid {
                parent_of.push((p, pp));
            }
        }
    }
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let cur = out[i];
        out.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == cur)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    out.remove(0);
    out
}

/// kill(2) through rustix's safe wrappers: send `sig` (`libc::SIGTERM`...; 0
/// only checks that the process exists and may be signalled) to process `pid`.
/// False if that failed (no such process, not permitted, or `pid` not positive:
/// never a process group).
pub fn send_signal(pid: i32, sig: i32) -> bool {
    use rustix::process::{kill_process, test_kill_process, Pid, Signal};
    let Some(pid) = Pid::from_raw(pid.max(0)) else {
        return false;
    };
    if sig == 0 {
        return test_kill_process(pid).is_ok();
    }
    let sig = Signal::from_named_raw(sig)
        .unwrap_or_else(|| panic!("send_signal: {sig} is not a named signal"));
    kill_process(pid, sig).is_ok()
}

/// Whether process `pid` exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    if !send_signal(pid, 0) {
        return false;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // "pid (comm) S ...": the state follows the last ')'.
        Ok(s) => s
            .rsplit_once(')')
            .map(|(_, r)| !r.trim_start().starts_with('Z'))
            .unwrap_or(true),
        Err(_) => !cfg!(target_os = "linux"),
    }
}
