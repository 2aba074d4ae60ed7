//! Master-worker mode (`-W` or `master-worker`), as HAProxy's: the master
//! binds the listeners, keeps them, and forks a worker that serves with
//! them. SIGUSR2 to the master re-reads the configuration, forks a new
//! worker with the same listening sockets (plus any new bind), then tells
//! the previous workers to finish (SIGUSR1): the kernel queues never close,
//! since the master holds every socket throughout. SIGTERM/SIGINT stop
//! everything; SIGUSR1, SIGHUP, SIGTTOU, SIGTTIN are passed to the workers.
//! If the current worker dies unexpectedly (a crash, a signal, a non-zero
//! exit), the master says so in an ALERT and forks a new one from the last
//! good configuration on the sockets it holds, so the listeners never stop
//! accepting; after [`MAX_FAILURES`] deaths within [`FAILURE_WINDOW`] it
//! gives up, stops the others and exits 1 (a supervisor takes over).
//! `-S PATH` opens the master CLI, a Unix socket whose `reload` command does
//! what SIGUSR2 does and answers `Success=1` (or `Success=0` and why).
//! `-Ws` also tells systemd (`Type=notify`): READY=1 once a worker serves
//! (each worker says so on a socket pair), RELOADING=1, STOPPING=1.

use pollux::core::anysock::{AnyListener, AnyStream};
use pollux::sys::master::{self, MasterSignals, SIGCHLD, SIGUSR2};
use pollux::{cli, config, pollers, proxy, sys};
use rustix::process::{kill_process, waitpid, Pid, Signal, WaitOptions};
use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

type Bound = Vec<(usize, TcpListener)>;

/// A worker that keeps dying is not replaced forever: this many deaths...
const MAX_FAILURES: usize = 5;
/// ...within this long make the master give up.
const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// How a worker ended, for the master's messages.
fn describe(status: rustix::process::WaitStatus) -> String {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig} ({})", signal_name(sig)),
        _ => "ended".into(),
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGPIPE => "SIGPIPE",
        _ => "another signal",
    }
}

/// Records the current worker's deaths; false once there were too many
/// within the window (give up).
fn may_replace(deaths: &mut Vec<Instant>, now: Instant) -> bool {
    deaths.retain(|&t| now.duration_since(t) < FAILURE_WINDOW);
    deaths.push(now);
    deaths.len() < MAX_FAILURES
}

pub fn run(
    opts: &cli::Options,
    cfg: config::Config,
    backend: &'static pollers::Backend,
    mut socks: Bound,
    cli_socks: Vec<AnyListener>,
    cli_sock: Option<AnyListener>,
) -> Result<(), Vec<String>> {
    use sys::{SIGHUP, SIGINT, SIGTERM, SIGTTIN, SIGTTOU, SIGUSR1};
    let sigs = MasterSignals::install(&[
        SIGUSR2, SIGTERM, SIGINT, SIGCHLD, SIGUSR1, SIGHUP, SIGTTOU, SIGTTIN,
    ])
    .map_err(|e| vec![format!("[ALERT] master: cannot set signal handlers: {e}")])?;
    let mut sigs = sigs;
    let (mut current, ready) = spawn(opts, &cfg, backend, &mut socks, &cli_socks, &sigs)?;
    if opts.systemd {
        let state = if wait_ready(&ready) {
            "Ready."
        } else {
            "Worker not ready!"
        };
        tell_systemd(&format!(
            "READY=1\nMAINPID={}\nSTATUS={state}\n",
            std::process::id()
        ));
    }
    let mut workers = vec![current];
    crate::reload::retire_old(opts);
    let mut stopping = false;
    let mut failed = false;
    // The last configuration a worker was forked with: a replacement for a
    // dead worker uses it (the files may have changed since).
    let mut cfg = cfg;
    let mut deaths: Vec<Instant> = Vec::new();
    loop {
        let cli_fd = cli_sock.as_ref().map(|l| l.as_fd());
        let (got, cli_ready) = sigs.wait(cli_fd, Duration::from_secs(1));
        let mut reload_now = got.contains(&SIGUSR2) && !stopping;
        let mut cli_client = None;
        if cli_ready && !stopping {
            if let Some(c) = cli_sock.as_ref().and_then(cli_command) {
                reload_now = true;
                cli_client = Some(c);
            }
        }
        if reload_now {
            eprintln!("[WARNING] master: reexecuting the workers.");
            if opts.systemd {
                tell_systemd("RELOADING=1\nSTATUS=Reloading Configuration.\n");
            }
            let outcome = reread(opts, &mut socks).and_then(|new| {
                let forked = spawn(opts, &new, backend, &mut socks, &cli_socks, &sigs)?;
                cfg = new;
                Ok(forked)
            });
            match &outcome {
                Ok((pid, ready)) => {
                    // systemd: the old workers go once the new one serves.
                    if opts.systemd {
                        let state = if wait_ready(ready) {
                            "Ready."
                        } else {
                            "Worker not ready!"
                        };
                        tell_systemd(&format!("READY=1\nSTATUS={state}\n"));
                    }
                    send(&workers, Signal::USR1);
                    current = *pid;
                    workers.push(*pid);
                }
                Err(msgs) => {
                    print(msgs);
                    eprintln!("[WARNING] master: reload failed, the current worker goes on.");
                    if opts.systemd {
                        tell_systemd("READY=1\nSTATUS=Reload failed!\n");
                    }
                }
            }
            if let Some(mut c) = cli_client {
                let text = match &outcome {
                    Ok(_) => "Success=1\n--\n".to_string(),
                    Err(msgs) => format!("Success=0\n--\n{}\n", msgs.join("\n")),
                };
                let _ = c.write_all(text.as_bytes());
                // The new worker inherited this fd: close the socket itself.
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
        let stop_sig = got
            .iter()
            .any(|&s| s == SIGTERM || s == SIGINT || s == SIGUSR1);
        if stop_sig && !stopping && opts.systemd {
            tell_systemd("STOPPING=1\n");
        }
        for sig in got {
            match sig {
                SIGTERM | SIGINT => {
                    stopping = true;
                    send(&workers, Signal::TERM);
                }
                SIGUSR1 => {
                    stopping = true;
                    send(&workers, Signal::USR1);
                }
                SIGHUP => send(&[current], Signal::HUP),
                SIGTTOU => send(&workers, Signal::TTOU),
                SIGTTIN => send(&workers, Signal::TTIN),
                _ => {}
            }
        }
        while let Ok(Some((pid, status))) = waitpid(None, WaitOptions::NOHANG) {
            let pid = pid.as_raw_nonzero().get() as u32;
            workers.retain(|&w| w != pid);
            let how = describe(status);
            if pid != current || stopping {
                eprintln!("[NOTICE] master: worker ({pid}) {how}");
                continue;
            }
            if !may_replace(&mut deaths, Instant::now()) {
                eprintln!(
                    "[ALERT] master: current worker ({pid}) {how}; {MAX_FAILURES} deaths within {}s: exiting",
                    FAILURE_WINDOW.as_secs()
                );
                failed = true;
                stopping = true;
                send(&workers, Signal::TERM);
                continue;
            }
            eprintln!("[ALERT] master: current worker ({pid}) {how}; forking a new one");
            match spawn(opts, &cfg, backend, &mut socks, &cli_socks, &sigs) {
                Ok((pid, _ready)) => {
                    current = pid;
                    workers.push(pid);
                }
                Err(msgs) => {
                    print(&msgs);
                    eprintln!("[ALERT] master: cannot replace the worker: exiting");
                    failed = true;
                    stopping = true;
                    send(&workers, Signal::TERM);
                }
            }
        }
        if stopping && workers.is_empty() {
            return if failed { Err(Vec::new()) } else { Ok(()) };
        }
    }
}

/// Fork a worker serving `socks` (which the master keeps too): its pid, and
/// the master's end of a socket pair on which the worker says it serves.
fn spawn(
    opts: &cli::Options,
    cfg: &config::Config,
    backend: &'static pollers::Backend,
    socks: &mut Bound,
    cli_socks: &[AnyListener],
    sigs: &MasterSignals,
) -> Result<(u32, UnixStream), Vec<String>> {
    let (ours, theirs) = UnixStream::pair()
        .map_err(|e| vec![format!("[ALERT] master: cannot create a socket pair: {e}")])?;
    match master::fork() {
        Err(e) => Err(vec![format!("[ALERT] master: cannot fork a worker: {e}")]),
        Ok(Some(pid)) => {
            eprintln!("[NOTICE] master: new worker ({pid}) forked");
            Ok((pid, ours))
        }
        Ok(None) => {
            drop(ours);
            sigs.forget();
            master::die_with_parent();
            // The child's copy of the master's memory: it owns these fds.
            let socks = std::mem::take(socks);
            let cli: Vec<AnyListener> = cli_socks
                .iter()
                .filter_map(|x| x.try_clone().ok())
                .collect();
            let ready = move || {
                let _ = (&theirs).write_all(b"R");
            };
            let code = match crate::serve(opts, cfg, backend, socks, cli, ready) {
                Ok(()) => 0,
                Err(msgs) => {
                    print(&msgs);
                    1
                }
            };
            std::process::exit(code);
        }
    }
}

/// SIGUSR2: load the config again and bind it, reusing the master's
/// sockets by address; on any error, nothing changes.
fn reread(opts: &cli::Options, socks: &mut Bound) -> Result<config::Config, Vec<String>> {
    let mut cfg = config::load(&opts.files).map_err(|errs| {
        errs.iter()
            .map(|e| format!("[ALERT] {e}"))
            .collect::<Vec<_>>()
    })?;
    if let Some(n) = opts.maxconn {
        cfg.global.maxconn = n;
    }
    let inherited = cfg
        .frontends
        .iter()
        .flat_map(|f| &f.binds)
        .flat_map(|b| &b.addrs)
        .any(|a| matches!(a, config::BindAddr::Fd(_)));
    if inherited {
        return Err(vec![
            "[ALERT] master: reloading 'bind fd@N' listeners is not supported yet".into(),
        ]);
    }
    // Duplicates, so that a failed bind leaves the master's set intact.
    let mut taken: Vec<(SocketAddr, TcpListener)> = socks
        .iter()
        .filter_map(|(_, l)| Some((l.local_addr().ok()?, l.try_clone().ok()?)))
        .collect();
    let new =
        proxy::engine::bind_all(&cfg, &mut taken).map_err(|e| vec![format!("[ALERT] {e}")])?;
    *socks = new;
    Ok(cfg)
}

/// `-S ADDRESS`: bind the master CLI socket (before detaching, so that an
/// error reaches the terminal).
pub fn bind_cli(opts: &cli::Options) -> Result<Option<AnyListener>, Vec<String>> {
    let Some(addr) = &opts.master_cli else {
        return Ok(None);
    };
    proxy::engine::bind_cli_addr(addr, Some(0o600), (None, None))
        .map(Some)
        .map_err(|e| vec![format!("[ALERT] master CLI: {e}")])
}

/// Accept one master CLI client and read its command: the client if it
/// asked for `reload` (answered once the reload is done); other commands
/// are answered here.
fn cli_command(l: &AnyListener) -> Option<AnyStream> {
    let c = l.accept().ok()?;
    c.set_nonblocking(false).ok()?;
    c.set_timeouts(Some(Duration::from_secs(2))).ok()?;
    let mut line = String::new();
    std::io::BufReader::new(&c)
        .take(1024)
        .read_line(&mut line)
        .ok()?;
    let mut w = &c;
    let close = |c: &AnyStream| c.shutdown(std::net::Shutdown::Both);
    match line.trim() {
        "reload" => return Some(c),
        "help" | "" => {
            let _ = w.write_all(b"The following commands are valid at this level:\n  help           : this message\n  reload         : achieve a soft-reload (-sf) of haproxy\n");
        }
        other => {
            let _ = w.write_all(
                format!(
                    "Unknown command: '{other}'. Only 'help' and 'reload' are supported yet.\n"
                )
                .as_bytes(),
            );
        }
    }
    let _ = close(&c);
    None
}

/// Whether the worker behind `ready` says it serves, within a bound (EOF:
/// it exited first).
fn wait_ready(ready: &UnixStream) -> bool {
    let _ = ready.set_read_timeout(Some(Duration::from_secs(30)));
    let mut b = [0u8; 1];
    matches!((&*ready).read(&mut b), Ok(1))
}

fn tell_systemd(state: &str) {
    if let Err(e) = sys::notify::notify(state) {
        eprintln!("[WARNING] master: cannot notify systemd: {e}");
    }
}

fn send(pids: &[u32], sig: Signal) {
    for &p in pids {
        if let Some(pid) = Pid::from_raw(p as i32) {
            let _ = kill_process(pid, sig);
        }
    }
}

fn print(msgs: &[String]) {
    for m in msgs {
        eprintln!("{m}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_is_replaced_until_too_many_deaths_within_the_window() {
        let t0 = Instant::now();
        let mut deaths = Vec::new();
        for i in 0..MAX_FAILURES - 1 {
            assert!(may_replace(&mut deaths, t0 + Duration::from_secs(i as u64)));
        }
        assert!(!may_replace(
            &mut deaths.clone(),
            t0 + Duration::from_secs(10)
        ));
        // Deaths older than the window are forgotten.
        assert!(may_replace(
            &mut deaths,
            t0 + FAILURE_WINDOW + Duration::from_secs(2)
        ));
    }
}
