//! Reloads from the command line (`-sf`/`-st` PIDs, `-x PATH`), HAProxy's
//! way: take the old process's listening sockets over when it exposes them
//! (`stats socket PATH expose-fd listeners`), else bind anew next to the old
//! ones (SO_REUSEPORT lets both bind); once serving, tell the old ones to
//! finish (SIGUSR1) or to stop (SIGTERM).
//!
//! Without an exposed socket, on Linux, the old sockets are copied out of
//! the old processes (pidfd_getfd(2), sys::pidfd) when permitted: closing a
//! socket that the kernel still feeds (SO_REUSEPORT) resets what races with
//! the close, however well the old process drains its backlog first.
//!
//! The old ones are not paused (SIGTTOU) before the bind: pollux's pause
//! keeps the port, so it would free nothing for the bind and only let
//! connections pile up in the old backlogs while this process starts.
//! They keep accepting until SIGUSR1, then drain their backlogs and close.

use pollux::{cli, config, proxy};
use rustix::process::{kill_process, Pid, Signal};
use std::net::{SocketAddr, TcpListener};

type Bound = Vec<(usize, TcpListener)>;

/// Bind every listener, taking the old process's sockets over if possible.
pub fn bind(opts: &cli::Options, cfg: &config::Config) -> Result<Bound, Vec<String>> {
    let mut taken: Vec<(SocketAddr, TcpListener)> = Vec::new();
    // `-x PATH`; without it, a reload (-sf/-st) looks for the socket in the
    // new config, which is where the old process exposes its listeners.
    let path = opts.takeover.clone().or_else(|| {
        (!opts.old_pids.is_empty())
            .then(|| exposing_socket(cfg).and_then(|s| s.addr.path().cloned()))
            .flatten()
    });
    if let Some(p) = &path {
        match proxy::takeover::fetch(p) {
            Ok(v) => taken = v,
            Err(e) => eprintln!(
                "[WARNING] Failed to get the sockets from the old process ({}): {e}; binding them instead.",
                p.display()
            ),
        }
    }
    if taken.is_empty() {
        taken = take_from_pids(&opts.old_pids);
    }
    proxy::engine::bind_all(cfg, &mut taken).map_err(|e| vec![format!("[ALERT] {e}")])
}

/// No exposed socket: copy the old processes' listening sockets straight
/// out of them where the OS allows it (sys::pidfd), so that no socket of
/// theirs ever closes; else (empty) the binds make sockets of their own.
fn take_from_pids(pids: &[i32]) -> Vec<(SocketAddr, TcpListener)> {
    let mut taken = Vec::new();
    for &p in pids {
        match pollux::sys::pidfd::listeners_of(p) {
            Ok(v) => taken.extend(v),
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {}
            Err(e) => eprintln!(
                "[WARNING] cannot take the listening sockets of old process {p} ({e}); binding new ones next to them."
            ),
        }
    }
    taken
}

fn exposing_socket(cfg: &config::Config) -> Option<&config::StatsSocket> {
    cfg.global.stats_sockets.iter().find(|s| s.expose_fd)
}

/// This process serves: the old ones finish their sessions (-sf) or stop (-st).
pub fn retire_old(opts: &cli::Options) {
    let sig = if opts.hard_stop_old {
        Signal::TERM
    } else {
        Signal::USR1
    };
    signal_all(&opts.old_pids, sig);
}

fn signal_all(pids: &[i32], sig: Signal) {
    for &p in pids {
        let Some(pid) = Pid::from_raw(p) else {
            continue;
        };
        if let Err(e) = kill_process(pid, sig) {
            eprintln!("[WARNING] cannot send signal {sig:?} to old process {p}: {e}");
        }
    }
}
