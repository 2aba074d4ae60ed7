//! The runtime API's sockets in the event loop: `stats socket` Unix
//! listeners, one `runtime::CliConn` per accepted connection (read, run,
//! write back, close or wait for the next prompt line), idle connections
//! closed after `stats timeout`. Commands run through `Ops` in `admin.rs`.

use super::owner::{Owner, Timer};
use super::Engine;
use crate::config::stats_socket::{CliAddr, StatsSocket};
use crate::config::BindAddr;
use crate::core::anysock::{AnyListener, AnyStream};
use crate::core::timers::TimerKey;
use crate::pollers::{Interest, Token};
use crate::proxy::listener;
use crate::runtime::{CliConn, Level};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

pub(super) struct CliListener {
    sock: AnyListener,
    token: Token,
    level: Level,
    pub(super) expose_fd: bool,
}

pub(super) struct CliClient {
    sock: AnyStream,
    token: Token,
    pub(super) conn: CliConn,
    /// The listener's `expose-fd listeners`: `_getsocks` is allowed.
    pub(super) expose_fd: bool,
    timer: Option<TimerKey>,
    timeout: Duration,
    /// Output not yet written.
    sent: usize,
}

/// Bind one runtime API socket. A path is bound to a temporary name first,
/// then renamed over PATH, so a reloading process replaces the old socket
/// without a window where PATH does not exist (as HAProxy does). `mode`
/// applies to paths only.
pub fn bind_cli_addr(
    addr: &CliAddr,
    mode: Option<u32>,
    owner: (Option<u32>, Option<u32>),
) -> Result<AnyListener, String> {
    let fail = |kind: &str, e: io::Error| {
        format!("Starting proxy GLOBAL: cannot bind {kind} socket ({e}) [{addr}]")
    };
    let l = match addr {
        CliAddr::Unix(path) => {
            let tmp = format!("{}.{}.tmp", path.display(), std::process::id());
            let _ = std::fs::remove_file(&tmp);
            let fail = |e: io::Error| {
                let _ = std::fs::remove_file(&tmp);
                fail("UNIX", e)
            };
            let l = UnixListener::bind(&tmp).map_err(fail)?;
            if let Some(mode) = mode {
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
                    .map_err(fail)?;
            }
            if owner != (None, None) {
                std::os::unix::fs::chown(&tmp, owner.0, owner.1).map_err(fail)?;
            }
            std::fs::rename(&tmp, path).map_err(fail)?;
            AnyListener::Unix(l)
        }
        CliAddr::Inet(a) => {
            let l = listener::open(&BindAddr::Inet(*a), 128, false).map_err(|e| fail("TCP", e))?;
            AnyListener::Tcp(l)
        }
        CliAddr::Fd(n) => listener::open(&BindAddr::Fd(*n), 0, false)
            .and_then(|l| AnyListener::from_listening(l.into()))
            .map_err(|e| fail("inherited", e))?,
    };
    l.set_nonblocking(true)
        .map_err(|e| fail("runtime API", e))?;
    Ok(l)
}

/// Bind every `stats socket` of the config (before chroot and setuid).
pub fn bind_cli(cfg: &crate::config::Config) -> Result<Vec<AnyListener>, String> {
    cfg.global
        .stats_sockets
        .iter()
        .map(|s| bind_cli_addr(&s.addr, s.mode, (s.uid, s.gid)))
        .collect()
}

impl Engine {
    /// Serve the runtime API on the listeners `bind_cli` bound.
    pub fn with_cli(mut self, cfg: &crate::config::Config, socks: Vec<AnyListener>) -> Engine {
        self.add_cli_listeners(&cfg.global.stats_sockets, socks);
        self
    }

    /// Stop serving the runtime API (soft stop: the next process owns it now).
    pub(super) fn close_cli_listeners(&mut self) {
        for l in std::mem::take(&mut self.cli_listeners) {
            self.reactor.deregister(l.token);
        }
    }

    /// Register the bound `stats socket` listeners (same order as the config).
    fn add_cli_listeners(&mut self, cfg: &[StatsSocket], socks: Vec<AnyListener>) {
        for (s, sock) in cfg.iter().zip(socks) {
            let i = self.cli_listeners.len();
            let token = self.reactor.register(
                sock.as_raw_fd(),
                Owner::CliListener(i).pack(),
                Interest::READ,
            );
            self.cli_listeners.push(CliListener {
                sock,
                token,
                level: s.level,
                expose_fd: s.expose_fd,
            });
        }
    }

    pub(super) fn on_cli_accept(&mut self, li: usize) {
        loop {
            let Some(l) = self.cli_listeners.get(li) else {
                return;
            };
            let (sock, level, expose_fd) = match l.sock.accept() {
                Ok(sock) => (sock, l.level, l.expose_fd),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            if sock.set_nonblocking(true).is_err() {
                continue;
            }
            let ci = self
                .clis
                .iter()
                .position(Option::is_none)
                .unwrap_or_else(|| {
                    self.clis.push(None);
                    self.clis.len() - 1
                });
            let token =
                self.reactor
                    .register(sock.as_raw_fd(), Owner::Cli(ci).pack(), Interest::READ);
            self.clis[ci] = Some(CliClient {
                sock,
                token,
                conn: CliConn::new(level),
                expose_fd,
                timer: None,
                timeout: self.cli_timeout,
                sent: 0,
            });
            self.cli_io(ci);
        }
    }

    /// Read what the client sent, run complete lines, write the answers.
    pub(super) fn cli_io(&mut self, ci: usize) {
        let Some(mut c) = self.clis.get_mut(ci).and_then(Option::take) else {
            return;
        };
        let mut buf = [0u8; 16 * 1024];
        let mut failed = false;
        let mut getsocks = false;
        while !c.conn.done && c.conn.out.len() == c.sent && !getsocks {
            let mut ops = super::admin::Admin::new(self, c.expose_fd);
            match c.sock.read(&mut buf) {
                Ok(0) => c.conn.eof(&mut ops),
                Ok(n) => c.conn.input(&buf[..n], &mut ops),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => failed = true,
            }
            getsocks = ops.getsocks;
            if failed {
                break;
            }
        }
        if getsocks {
            // The client (a new process, `-x`) now speaks the handover
            // protocol on this connection; answered synchronously, as a
            // reload is rare and the exchange takes microseconds.
            // Every thread's sockets, as the process holds them.
            let all = self.shared.listeners();
            let socks = crate::proxy::takeover::exposed(all.iter());
            // expose-fd is refused at config check on anything but a Unix socket.
            if let Some(unix) = c.sock.as_unix() {
                match crate::proxy::takeover::answer(unix, &socks) {
                    Ok(()) => log::info!("stats socket: {} listeners handed over", socks.len()),
                    Err(e) => log::warn!("stats socket: handing the listeners over failed: {e}"),
                }
            }
            drop(all);
            self.close_cli(c);
            return;
        }
        while !failed && c.sent < c.conn.out.len() {
            match c.sock.write(&c.conn.out[c.sent..]) {
                Ok(n) => c.sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => failed = true,
            }
        }
        if c.sent == c.conn.out.len() {
            c.conn.out.clear();
            c.sent = 0;
        }
        let flushed = c.conn.out.is_empty();
        if failed || (c.conn.done && flushed) {
            self.close_cli(c);
            return;
        }
        let want = if flushed {
            Interest::READ
        } else {
            Interest::WRITE
        };
        self.reactor.set_want(c.token, want);
        if let Some(d) = c.conn.timeout.take() {
            c.timeout = d;
        }
        if let Some(t) = c.timer.take() {
            self.reactor.timers.cancel(t);
        }
        c.timer = Some(
            self.reactor
                .timers
                .add(Instant::now() + c.timeout, Timer::Cli(ci).pack()),
        );
        self.clis[ci] = Some(c);
    }

    /// `stats timeout` expired on an idle CLI connection.
    pub(super) fn on_cli_timer(&mut self, ci: usize) {
        if let Some(mut c) = self.clis.get_mut(ci).and_then(Option::take) {
            c.timer = None;
            self.close_cli(c);
        }
    }

    fn close_cli(&mut self, mut c: CliClient) {
        self.reactor.deregister(c.token);
        if let Some(t) = c.timer.take() {
            self.reactor.timers.cancel(t);
        }
    }
}
