//! Process control inside the event loop, as HAProxy does it: SIGUSR1 soft
//! stop (stop accepting, let sessions finish, bounded by `hard-stop-after`),
//! SIGTTOU/SIGTTIN pause and resume the listeners (they stay bound: new
//! clients wait in the kernel backlog), SIGHUP dumps the servers' states,
//! and the Unix socket that hands the listeners to a new process on reload.

use super::owner::Timer;
use super::{Engine, Listener};
use crate::config;
use crate::core::lifecycle;
use crate::pollers::Interest;
use std::time::{Duration, Instant};

pub(super) struct ProcCtl {
    hard_stop_after: Option<Duration>,
    /// When SIGUSR1 came (frontends' `grace` counts from it).
    soft_stop_at: Option<Instant>,
    /// SIGTTOU received: listeners paused until SIGTTIN.
    pub(super) paused: bool,
}

impl ProcCtl {
    pub(super) fn new(cfg: &config::Config) -> ProcCtl {
        ProcCtl {
            hard_stop_after: cfg.global.hard_stop_after,
            soft_stop_at: None,
            paused: false,
        }
    }
}

impl Engine {
    /// SIGUSR1: close the listeners once every connection waiting in their
    /// backlogs is accepted (a new process may hold the same sockets: the
    /// kernel queues stay open in it) and exit once the last session ends.
    pub(super) fn begin_soft_stop(&mut self) {
        if self.soft_stop {
            return;
        }
        self.soft_stop = true;
        lifecycle::set_stopping();
        // The process keeps no socket open beyond the loops' own any more.
        self.shared.listeners().clear();
        self.broadcast(|e| e.begin_soft_stop());
        self.log_proxies(crate::log::WARNING, |kind, name, _| {
            format!("Stopping {kind} {name} in 0 ms.")
        });
        // Frontends with `grace` keep accepting until it ends.
        self.proc.soft_stop_at = Some(Instant::now());
        self.end_grace(Instant::now());
        self.close_cli_listeners();
        once!(
            warn,
            self.tid,
            "soft stop: listeners closed, {} sessions to finish",
            self.cur_conns
        );
        if let Some(t) = self.proc.hard_stop_after {
            self.reactor
                .timers
                .add(Instant::now() + t, Timer::HardStop.pack());
        }
    }

    /// Close the listeners of the frontends whose `grace` (none: at once)
    /// has run out since the soft stop; wake up again for the others.
    pub(super) fn end_grace(&mut self, now: Instant) {
        let Some(start) = self.proc.soft_stop_at else {
            return;
        };
        let due = |g: Option<Duration>| start + g.unwrap_or_default();
        let mut next: Option<Instant> = None;
        for l in std::mem::take(&mut self.listeners) {
            let at = due(self.frontends[l.frontend].grace);
            if at <= now {
                once!(
                    warn,
                    self.tid,
                    "Stopping frontend {}.",
                    self.frontends[l.frontend].name
                );
                self.reactor.deregister(l.token);
                self.drain(&l);
                // Closed right after the drain. If no other process holds
                // the socket (a reload that bound anew: see reload.rs), what
                // the kernel queues in between is reset.
                drop(l);
            } else {
                next = Some(next.map_or(at, |n: Instant| n.min(at)));
                self.listeners.push(l);
            }
        }
        if let Some(at) = next {
            self.reactor.timers.add(at, Timer::Grace.pack());
        }
    }

    /// Accept every connection queued on a listener about to close: Linux
    /// resets what is left in a backlog at close(2). Neither `maxaccept` nor
    /// `maxconn` holds them back: a session over the limit is better than a
    /// client reset (the backlog bounds how many there can be).
    fn drain(&mut self, l: &Listener) {
        // Bounded all the same, should clients arrive as fast as we accept.
        for _ in 0..65536 {
            match crate::sys::accept_nonblocking(&l.sock) {
                Ok((sock, peer)) => {
                    if let Some(xprt) = self.transport(l) {
                        let lfd = std::os::fd::AsRawFd::as_raw_fd(&l.sock);
                        self.new_session(l.frontend, sock, (peer, l.addr, l.so_id, lfd), xprt)
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => continue,
                // WouldBlock: empty. EMFILE and the like: nothing more to do.
                Err(_) => return,
            }
        }
    }

    /// `hard-stop-after` expired during a soft stop.
    pub(super) fn hard_stop(&mut self) {
        once!(
            warn,
            self.tid,
            "soft-stop running for too long, performing a hard-stop ({} sessions killed).",
            self.cur_conns
        );
        self.stop = true;
        self.broadcast(|e| e.stop = true);
    }

    /// SIGTTOU: stop accepting; the sockets stay bound and listening.
    pub(super) fn pause_all(&mut self) {
        once!(
            warn,
            self.tid,
            "SIGTTOU received: pausing {} listeners.",
            self.listeners.len()
        );
        self.proc.paused = true;
        self.broadcast(|e| {
            if !e.proc.paused {
                e.pause_all()
            }
        });
        for l in &mut self.listeners {
            l.paused = true;
            self.reactor.set_want(l.token, Interest::NONE);
        }
    }

    /// SIGTTIN: accept again (limits still apply: a listener over its
    /// frontend's maxconn pauses itself on the next accept).
    pub(super) fn resume_all(&mut self) {
        once!(
            warn,
            self.tid,
            "SIGTTIN received: resuming {} listeners.",
            self.listeners.len()
        );
        self.proc.paused = false;
        self.broadcast(|e| {
            if e.proc.paused {
                e.resume_all()
            }
        });
        for l in &mut self.listeners {
            resume(l, &mut self.reactor);
        }
    }

    /// SIGHUP: one line per server and one per backend, in HAProxy's words.
    pub(super) fn dump_states(&mut self) {
        // Signals reach thread 0 only; the counts are the process's.
        for (bi, b) in self.backends.iter().enumerate() {
            log::warn!(
                "SIGHUP received, dumping servers states for proxy {}.",
                b.name
            );
            for (si, s) in b.servers.iter().enumerate() {
                let up = !s.down && !s.disabled;
                log::warn!(
                    "SIGHUP: Server {}/{} is {}. Conn: {} act, {} pend, {} tot.",
                    b.name,
                    s.name,
                    if up { "UP" } else { "DOWN" },
                    self.total_srv_cur(bi, si),
                    self.total_srv_queue(bi, si),
                    self.total_lbtot(bi, Some(si))
                );
            }
            let fe_cur: u32 = (0..self.frontends.len())
                .filter(|&fi| self.frontends[fi].name == b.name)
                .map(|fi| self.total_fe_cur(fi))
                .sum();
            let be_cur = self.total_be_cur(bi);
            let pend = self.total_be_queue(bi);
            let unass = pend
                - (0..b.servers.len())
                    .map(|si| self.total_srv_queue(bi, si))
                    .sum::<usize>();
            let tot = self.total_lbtot(bi, None);
            let usable = |backup: bool| {
                b.servers
                    .iter()
                    .filter(|s| s.backup == backup && !s.down && !s.disabled)
                    .count()
            };
            let (act, bck) = (usable(false), usable(true));
            let state = if b.servers.is_empty() {
                "has no servers.".to_string()
            } else if act == 0 && bck > 0 {
                "is running on backup servers !".to_string()
            } else if act == 0 {
                "has no server available !".to_string()
            } else {
                format!("has {act} active servers and {bck} backup servers available.")
            };
            log::warn!(
                "SIGHUP: Proxy {} {state} Conn: act(FE+BE): {fe_cur}+{be_cur}, {pend} pend ({unass} unass), tot(BE): {tot}.",
                b.name
            );
        }
    }
}

fn resume(l: &mut Listener, reactor: &mut crate::core::Reactor) {
    l.paused = false;
    reactor.set_want(l.token, Interest::READ);
}
