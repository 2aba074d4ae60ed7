//! Master-worker mode (`-W` or `master-worker`), as HAProxy's: the master
//! binds the listeners, keeps them, and forks a worker that serves with
//! them. SIGUSR2 to the master re-reads the configuration, forks a new
//! worker with the same listening sockets (plus any new bind), then tells
//! the previous workers to finish (SIGUSR1): the kernel queues never close,
//! since the master holds every socket throughout. SIGTERM/SIGINT stop
//! everything; SIGUSR1, SIGHUP, SIGTTOU, SIGTTIN are passed to the workers.
//! If the current worker dies, the master stops the others and exits 1.
//! The master CLI (`-S`) is not supported yet.

use pollux::sys::master::{self, MasterSignals, SIGCHLD, SIGUSR2};
use pollux::{cli, config, pollers, proxy, sys};
use rustix::process::{kill_process, waitpid, Pid, Signal, WaitOptions};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::net::UnixListener;
use std::time::Duration;

type Bound = Vec<(usize, TcpListener)>;

pub fn run(
    opts: &cli::Options,
    cfg: config::Config,
    backend: &'static pollers::Backend,
    mut socks: Bound,
    exposer: Option<UnixListener>,
) -> Result<(), Vec<String>> {
    use sys::{SIGHUP, SIGINT, SIGTERM, SIGTTIN, SIGTTOU, SIGUSR1};
    let sigs = MasterSignals::install(&[
        SIGUSR2, SIGTERM, SIGINT, SIGCHLD, SIGUSR1, SIGHUP, SIGTTOU, SIGTTIN,
    ])
    .map_err(|e| vec![format!("[ALERT] master: cannot set signal handlers: {e}")])?;
    let mut sigs = sigs;
    let mut current = spawn(opts, &cfg, backend, &mut socks, &exposer, &sigs)?;
    let mut workers = vec![current];
    crate::reload::retire_old(opts);
    let mut stopping = false;
    let mut failed = false;
    loop {
        for sig in sigs.wait(Duration::from_secs(1)) {
            match sig {
                SIGUSR2 if !stopping => {
                    eprintln!("[WARNING] master: reexecuting the workers (SIGUSR2).");
                    match reread(opts, &mut socks) {
                        Ok(cfg) => match spawn(opts, &cfg, backend, &mut socks, &exposer, &sigs) {
                            Ok(pid) => {
                                send(&workers, Signal::USR1);
                                current = pid;
                                workers.push(pid);
                            }
                            Err(msgs) => print(&msgs),
                        },
                        Err(msgs) => {
                            print(&msgs);
                            eprintln!(
                                "[WARNING] master: reload failed, the current worker goes on."
                            );
                        }
                    }
                }
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
            let code = status.exit_status().unwrap_or(-1);
            if pid == current && !stopping {
                eprintln!(
                    "[ALERT] master: current worker ({pid}) exited with code {code}: exiting"
                );
                failed = true;
                stopping = true;
                send(&workers, Signal::TERM);
            } else {
                eprintln!("[NOTICE] master: worker ({pid}) exited with code {code}");
            }
        }
        if stopping && workers.is_empty() {
            return if failed { Err(Vec::new()) } else { Ok(()) };
        }
    }
}

/// Fork a worker serving `socks` (which the master keeps too).
fn spawn(
    opts: &cli::Options,
    cfg: &config::Config,
    backend: &'static pollers::Backend,
    socks: &mut Bound,
    exposer: &Option<UnixListener>,
    sigs: &MasterSignals,
) -> Result<u32, Vec<String>> {
    match master::fork() {
        Err(e) => Err(vec![format!("[ALERT] master: cannot fork a worker: {e}")]),
        Ok(Some(pid)) => {
            eprintln!("[NOTICE] master: new worker ({pid}) forked");
            Ok(pid)
        }
        Ok(None) => {
            sigs.forget();
            master::die_with_parent();
            // The child's copy of the master's memory: it owns these fds.
            let socks = std::mem::take(socks);
            let x = exposer.as_ref().and_then(|x| x.try_clone().ok());
            let code = match crate::serve(opts, cfg, backend, socks, x, || {}) {
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
