//! `show errors`: the last request each frontend rejected and the last
//! response each backend rejected, kept with their bytes so an operator can
//! see exactly what a client or server sent (HAProxy's error snapshots).

use super::Engine;
use crate::session::txn::BadMessage;
use std::fmt::Write;
use std::net::SocketAddr;
use std::time::SystemTime;

pub(super) struct Snapshot {
    when: SystemTime,
    event: u64,
    src: SocketAddr,
    frontend: usize,
    backend: Option<usize>,
    server: Option<(usize, usize)>,
    msg: BadMessage,
}

/// Per proxy: the last rejected request (frontends) or response (backends).
#[derive(Default)]
pub(super) struct BadMsgs {
    requests: Vec<Option<Snapshot>>,
    responses: Vec<Option<Snapshot>>,
    events: u64,
}

impl Engine {
    /// Keep the message the session's parser just rejected, if any.
    pub(super) fn take_bad_message(&mut self, sid: usize) {
        let Some(s) = self.sessions[sid].as_mut() else {
            return;
        };
        let Some(msg) = s.http.as_mut().and_then(|t| t.bad.take()) else {
            return;
        };
        let mut guard = super::threads::lock(&self.shared.bad_msgs);
        let b = &mut *guard;
        b.events += 1;
        let backend = s
            .http
            .as_ref()
            .and_then(|t| t.backend)
            .or(s.backend.map(|b| b as usize));
        let snap = Snapshot {
            when: SystemTime::now(),
            event: b.events - 1,
            src: SocketAddr::new(s.src, s.src_port),
            frontend: s.frontend as usize,
            backend,
            server: backend.zip(s.server.map(|v| v as usize)),
            msg: *msg,
        };
        let (slots, at, n) = if snap.msg.request {
            (&mut b.requests, snap.frontend, self.frontends.len())
        } else {
            (&mut b.responses, backend.unwrap_or(0), self.backends.len())
        };
        slots.resize_with(n.max(slots.len()), || None);
        slots[at] = Some(snap);
    }

    /// `show errors [PROXY] [request|response]`.
    pub(super) fn show_errors(
        &self,
        proxy: Option<&str>,
        dir: Option<bool>,
    ) -> Result<String, String> {
        if let Some(p) = proxy {
            let known = self.frontends.iter().any(|f| f.name == p)
                || self.backends.iter().any(|b| b.name == p);
            if !known {
                return Err("No such proxy.".into());
            }
        }
        let b = super::threads::lock(&self.shared.bad_msgs);
        let mut out = format!(
            "Total events captured on [{}] : {}\n",
            date(SystemTime::now()),
            b.events
        );
        let all = b.requests.iter().chain(&b.responses).flatten();
        for s in all {
            let fe = &self.frontends[s.frontend].name;
            let be = s.backend.map(|b| self.backends[b].name.as_str());
            let owner = if s.msg.request {
                fe.as_str()
            } else {
                be.unwrap_or("")
            };
            if proxy.is_some_and(|p| p != owner) || dir.is_some_and(|d| d != s.msg.request) {
                continue;
            }
            let (kind, what, px_id) = if s.msg.request {
                (
                    "frontend",
                    "invalid request",
                    self.proxy_iid(Some(s.frontend), None),
                )
            } else {
                (
                    "backend",
                    "invalid response",
                    self.proxy_iid(None, s.backend),
                )
            };
            let srv = s
                .server
                .map_or("<NONE>", |(b, v)| self.backends[b].servers[v].name.as_str());
            let _ = writeln!(
                out,
                "\n[{}] {kind} {owner} (#{}): {what}\n  backend {} (#{}), server {srv}, event #{}, src {}\n  reason: {}\n  len {}, error at position {}:\n",
                date(s.when),
                px_id,
                be.unwrap_or("<NONE>"),
                s.backend.map_or(-1, |b| i64::from(self.proxy_iid(None, Some(b)))),
                s.event,
                s.src,
                s.msg.reason,
                s.msg.bytes.len(),
                s.msg.at
            );
            out.push_str(&dump(&s.msg.bytes));
        }
        Ok(out)
    }
}

/// The bytes as HAProxy dumps them: an offset per line, lines broken after
/// each LF or every 64 bytes, anything not printable as `\xNN` (and CR, LF,
/// TAB as `\r \n \t`), so nothing a client sent can forge the output.
fn dump(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut line = String::new();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\r' => line.push_str("\\r"),
            b'\n' => line.push_str("\\n"),
            b'\t' => line.push_str("\\t"),
            b'\\' => line.push_str("\\\\"),
            0x20..=0x7e => line.push(b as char),
            _ => {
                let _ = write!(line, "\\x{b:02x}");
            }
        }
        if b == b'\n' || i + 1 - start == 64 || i + 1 == bytes.len() {
            let _ = writeln!(out, "  {start:05}  {line}");
            line.clear();
            start = i + 1;
        }
    }
    out
}

/// `dd/Mon/yyyy:HH:MM:SS.mmm` in UTC, as the logs write it.
fn date(t: SystemTime) -> String {
    crate::log::log_date(t, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates_are_utc_in_haproxy_layout() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_653_538_123);
        assert_eq!(date(t), "26/Nov/2026:00:38:58.123");
    }

    #[test]
    fn dump_escapes_everything_unprintable_and_breaks_lines() {
        let d = dump(b"GET / HTTP/1.1\r\nX: \x01\x7f\\\r\n");
        assert_eq!(
            d,
            "  00000  GET / HTTP/1.1\\r\\n\n  00016  X: \\x01\\x7f\\\\\\r\\n\n"
        );
        let long = vec![b'a'; 70];
        let d = dump(&long);
        assert_eq!(d.lines().count(), 2);
        assert!(d.lines().nth(1).unwrap().starts_with("  00064  aaaaaa"));
    }
}
