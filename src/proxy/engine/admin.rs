//! What the runtime API's commands do to the running engine: the `Ops`
//! implementation behind every `stats socket` connection. Names are looked
//! up here and unknown ones answered with HAProxy's messages.

use super::Engine;
use crate::runtime::{Command, Ops};
use crate::session::Phase;
use std::fmt::Write;
use std::time::Instant;

pub(super) struct Admin<'a> {
    e: &'a mut Engine,
    /// The connection came through a socket with `expose-fd listeners`.
    expose_fd: bool,
    /// `_getsocks` was accepted: the connection now belongs to the
    /// listener handover (`proxy::takeover`), not to the CLI.
    pub(super) getsocks: bool,
}

impl<'a> Admin<'a> {
    pub(super) fn new(e: &'a mut Engine, expose_fd: bool) -> Admin<'a> {
        Admin {
            e,
            expose_fd,
            getsocks: false,
        }
    }
}

type Reply = Result<String, String>;

impl Engine {
    fn backend_index(&self, name: &str) -> Result<usize, String> {
        self.backends
            .iter()
            .position(|b| b.name == name)
            .ok_or_else(|| "No such backend.".to_string())
    }

    pub(super) fn server_index(&self, be: &str, srv: &str) -> Result<(usize, usize), String> {
        let bi = self.backend_index(be)?;
        let si = self.backends[bi]
            .servers
            .iter()
            .position(|s| s.name == srv)
            .ok_or_else(|| "No such server.".to_string())?;
        Ok((bi, si))
    }

    fn frontend_index(&self, name: &str) -> Result<usize, String> {
        self.frontends
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| "No such frontend.".to_string())
    }

    /// Let queued sessions take servers that have room again (after a limit
    /// was raised or a server came back by hand).
    pub(super) fn drain_queue(&mut self, bi: usize, now: Instant) {
        let n = self.backends[bi].queue.len();
        for _ in 0..n {
            let room = self.backends[bi]
                .servers
                .iter()
                .any(|s| s.usable() && !s.is_full());
            if !room {
                break;
            }
            let Some(sid) = self.backends[bi].queue.pop_front() else {
                break;
            };
            let queued = self.sessions.get(sid).and_then(Option::as_ref);
            if queued.is_some_and(|s| matches!(s.phase, Phase::Queued { .. })) {
                self.assign(sid, None, now);
                self.refresh(sid, now);
            }
        }
    }

    fn set_frontend_disabled(&mut self, fi: usize, disabled: bool) {
        self.frontends[fi].disabled = disabled;
        if disabled {
            for li in 0..self.listeners.len() {
                if self.listeners[li].frontend == fi {
                    self.pause(li);
                }
            }
        } else {
            // resume_listeners only looks when something is paused.
            self.any_paused = true;
            self.resume_listeners();
        }
    }

    /// `show sess`: one line per session.
    fn show_sess(&self, which: Option<&str>) -> Reply {
        let mut out = String::new();
        let one = match which {
            None | Some("all") => None,
            Some(id) => Some(parse_sid(id).ok_or("Session not found.")?),
        };
        for (sid, s) in self.sessions.iter().enumerate() {
            let Some(s) = s else { continue };
            if one.is_some_and(|o| o != sid) {
                continue;
            }
            let be = s
                .backend
                .map_or("<NONE>", |b| self.backends[b as usize].name.as_str());
            let srv = match (s.backend, s.server) {
                (Some(b), Some(v)) => self.backends[b as usize].servers[v as usize].name.as_str(),
                _ => "<none>",
            };
            let proto = if s.src.is_ipv4() { "tcpv4" } else { "tcpv6" };
            let src = std::net::SocketAddr::new(s.src, s.src_port);
            let phase = match s.phase {
                Phase::Idle => "idle",
                Phase::Queued { .. } => "queued",
                Phase::Connecting { .. } => "connecting",
                Phase::Connected => "connected",
            };
            let _ = writeln!(
                out,
                "{}: proto={proto} src={src} fe={} be={be} srv={srv} phase={phase}",
                sess_id(sid),
                self.frontends[s.frontend as usize].name,
            );
        }
        if one.is_some() && out.is_empty() {
            return Err("Session not found.".into());
        }
        Ok(out)
    }

    fn shutdown_session(&mut self, id: &str) -> Reply {
        let sid = parse_sid(id)
            .filter(|&sid| self.sessions.get(sid).is_some_and(Option::is_some))
            .ok_or("No such session (use 'show sess').")?;
        self.close(sid);
        Ok(String::new())
    }

    fn shutdown_server_sessions(&mut self, bi: usize, si: usize) {
        let victims: Vec<usize> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(sid, s)| s.as_ref().map(|s| (sid, s)))
            .filter(|(_, s)| s.backend == Some(bi as u32) && s.server == Some(si as u32))
            .map(|(sid, _)| sid)
            .collect();
        for sid in victims {
            self.close(sid);
        }
    }
}

/// Sessions are named `0x` + their slot number in hex.
fn sess_id(sid: usize) -> String {
    format!("0x{sid:x}")
}

fn parse_sid(id: &str) -> Option<usize> {
    usize::from_str_radix(id.strip_prefix("0x").unwrap_or(id), 16).ok()
}

impl Ops for Admin<'_> {
    fn run(&mut self, cmd: &Command) -> Reply {
        let now = Instant::now();
        let e = &mut *self.e;
        match cmd {
            Command::ShowSess(which) => e.show_sess(which.as_deref()),
            Command::ShowErrors(px, dir) => e.show_errors(px.as_deref(), *dir),
            Command::ShutdownSession(id) => e.shutdown_session(id),
            Command::ShutdownSessionsServer(b, s) => {
                let (bi, si) = e.server_index(b, s)?;
                e.shutdown_server_sessions(bi, si);
                Ok(String::new())
            }
            Command::SetMaxconnFrontend(f, n) => {
                let fi = e.frontend_index(f)?;
                e.frontends[fi].maxconn = (*n > 0).then_some(*n);
                e.any_paused = true;
                e.resume_listeners();
                Ok(String::new())
            }
            Command::SetMaxconnGlobal(n) => {
                if *n > e.hard_maxconn {
                    return Err("Value out of range.".into());
                }
                e.maxconn = *n;
                e.any_paused = true;
                e.resume_listeners();
                Ok(String::new())
            }
            Command::SetMaxconnServer(b, s, n) => {
                let (bi, si) = e.server_index(b, s)?;
                let limit = (*n > 0).then_some(*n);
                e.backends[bi].servers[si].maxconn = limit;
                e.backends[bi].limits[si].0 = limit;
                e.drain_queue(bi, now);
                Ok(String::new())
            }
            Command::DisableFrontend(f) => {
                let fi = e.frontend_index(f)?;
                if e.frontends[fi].disabled {
                    return Err("Frontend is already disabled.".into());
                }
                e.set_frontend_disabled(fi, true);
                Ok(String::new())
            }
            Command::EnableFrontend(f) => {
                let fi = e.frontend_index(f)?;
                if !e.frontends[fi].disabled {
                    return Err("Frontend is already enabled.".into());
                }
                e.set_frontend_disabled(fi, false);
                Ok(String::new())
            }
            Command::GetSocks if !self.expose_fd => {
                Err("Permission denied: this socket has no 'expose-fd listeners'.".into())
            }
            Command::GetSocks => {
                self.getsocks = true;
                Ok(String::new())
            }
            other => Err(format!("'{}' is not supported yet.", name_of(other))),
        }
    }
}

/// A command's name for messages.
fn name_of(cmd: &Command) -> &'static str {
    match cmd {
        Command::ShowInfo(_) => "show info",
        Command::ShowStat(..) => "show stat",
        Command::ShowServersState(_) => "show servers state",
        Command::SetServerState(..) => "set server state",
        Command::SetWeight(..) => "set weight",
        Command::GetWeight(..) => "get weight",
        Command::ClearCounters { .. } => "clear counters",
        Command::AddServer(..) => "add server",
        Command::DelServer(..) => "del server",
        _ => "this command",
    }
}
