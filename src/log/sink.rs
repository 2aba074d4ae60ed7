//! Syslog senders: the header (HAProxy's formats: `local`, RFC 3164 and
//! 5424, `priority`, `short`, `timed`, `iso`, `raw`), `len` truncation, the
//! level filter, `sample`, and one non-blocking socket per destination kind,
//! or a descriptor (`stdout`, `stderr`, `fd@N`) written once per message
//! when a poll says it would not block. A message that cannot go at once is
//! dropped and counted: logging never stalls the loop. A target that fails
//! is reported, at most once every ten seconds.

use super::{civil, GlobalLog, LogAddr, LogTarget, SyslogFormat, MONTHS};
use std::collections::HashMap;
use std::fmt::Write;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant, SystemTime};

/// The least time between two reports of failing log targets.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The process's log sockets and header settings.
pub struct Hub {
    udp4: Option<UdpSocket>,
    udp6: Option<UdpSocket>,
    unix: Option<UnixDatagram>,
    /// Our duplicates of `fd@N` targets' descriptors, by N.
    fds: HashMap<i32, OwnedFd>,
    tag: String,
    /// Shown in RFC 5424 headers, and in RFC 3164 ones with log-send-hostname.
    hostname: String,
    send_hostname: bool,
    /// Messages not sent because the socket was full or refused them.
    pub dropped: u64,
    /// The last report of a failing target, and failures since.
    reported: Option<Instant>,
    unreported: u64,
}

fn system_hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

impl Hub {
    pub fn new(g: &GlobalLog) -> Hub {
        let (hostname, send_hostname) = match g.send_hostname.as_deref() {
            Some("") => (system_hostname(), true),
            Some(h) => (h.to_string(), true),
            None => (system_hostname(), false),
        };
        Hub {
            udp4: None,
            udp6: None,
            unix: None,
            fds: HashMap::new(),
            tag: g.tag.clone().unwrap_or_else(|| "pollux".into()),
            hostname,
            send_hostname,
            dropped: 0,
            reported: None,
            unreported: 0,
        }
    }

    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Opens the sockets `targets` need (once per kind); errors name the
    /// target, for the startup alert.
    pub fn open(&mut self, targets: &[LogTarget]) -> io::Result<()> {
        for t in targets {
            match &t.addr {
                LogAddr::Udp(a) => {
                    let slot = if a.is_ipv4() {
                        &mut self.udp4
                    } else {
                        &mut self.udp6
                    };
                    if slot.is_none() {
                        let any: SocketAddr = if a.is_ipv4() {
                            "0.0.0.0:0".parse().expect("valid")
                        } else {
                            "[::]:0".parse().expect("valid")
                        };
                        let s = UdpSocket::bind(any)?;
                        s.set_nonblocking(true)?;
                        *slot = Some(s);
                    }
                }
                LogAddr::Unix(_) => {
                    if self.unix.is_none() {
                        let s = UnixDatagram::unbound()?;
                        s.set_nonblocking(true)?;
                        self.unix = Some(s);
                    }
                }
                LogAddr::Fd(n) => {
                    if !self.fds.contains_key(n) {
                        let fd = crate::sys::dup_inherited(*n)
                            .map_err(|e| io::Error::new(e.kind(), format!("log fd@{n}: {e}")))?;
                        self.fds.insert(*n, fd);
                    }
                }
            }
        }
        Ok(())
    }

    /// Sends `msg` at `level` to every target whose level lets it through.
    pub fn send(&mut self, targets: &[LogTarget], level: u8, msg: &str) {
        self.send_sd(targets, level, msg, "");
    }

    /// [`Hub::send`] with RFC 5424 structured data (`log-format-sd`; empty:
    /// none, `-`); RFC 3164 targets have no place for it.
    pub fn send_sd(&mut self, targets: &[LogTarget], level: u8, msg: &str, sd: &str) {
        if targets.is_empty() {
            return;
        }
        let now = SystemTime::now();
        for t in targets {
            if level > t.level || t.sample.as_ref().is_some_and(|s| !s.take()) {
                continue;
            }
            let line = self.frame_sd(t, level.max(t.minlevel), msg, sd, now);
            let r = match &t.addr {
                LogAddr::Udp(a) if a.is_ipv4() => self.udp4.as_ref().map(|s| s.send_to(&line, a)),
                LogAddr::Udp(a) => self.udp6.as_ref().map(|s| s.send_to(&line, a)),
                LogAddr::Unix(p) => self.unix.as_ref().map(|s| s.send_to(&line, p)),
                LogAddr::Fd(n) => self.fds.get(n).map(|fd| write_ready(fd, &line)),
            };
            match r {
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    self.dropped += 1;
                    // A full socket or pipe is load, not a fault.
                    if e.kind() != io::ErrorKind::WouldBlock {
                        self.report(&t.addr, &e);
                    }
                }
                None => self.dropped += 1,
            }
        }
    }

    /// A failing target, said at most every [`REPORT_EVERY`] (HAProxy
    /// warns when a log cannot be sent; silence would hide a lost log).
    fn report(&mut self, addr: &LogAddr, e: &io::Error) {
        let now = Instant::now();
        if self.reported.is_some_and(|at| now < at + REPORT_EVERY) {
            self.unreported += 1;
            return;
        }
        let shown = match addr {
            LogAddr::Udp(a) => a.to_string(),
            LogAddr::Unix(p) => p.display().to_string(),
            LogAddr::Fd(n) => format!("fd@{n}"),
        };
        let e = e.to_string();
        let e = crate::core::plain_os(&e);
        let more = match std::mem::take(&mut self.unreported) {
            0 => String::new(),
            n => format!(" ({n} more failed sends since the last report)"),
        };
        log::warn!("cannot send log to {shown}: {e}{more}");
        self.reported = Some(now);
    }

    /// Header + message, cut to the target's `len` with a final LF.
    pub fn frame(&self, t: &LogTarget, level: u8, msg: &str, now: SystemTime) -> Vec<u8> {
        self.frame_sd(t, level, msg, "", now)
    }

    /// [`Hub::frame`] with structured data for RFC 5424.
    pub fn frame_sd(
        &self,
        t: &LogTarget,
        level: u8,
        msg: &str,
        sd: &str,
        now: SystemTime,
    ) -> Vec<u8> {
        let pri = u32::from(t.facility) * 8 + u32::from(level);
        let (y, mo, d, h, mi, s, _, us) = civil(now);
        let pid = std::process::id();
        let mut head = String::with_capacity(64);
        let iso = || format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}+00:00");
        match t.format {
            SyslogFormat::Local | SyslogFormat::Rfc3164 => {
                let _ = write!(
                    head,
                    "<{pri}>{} {d:2} {h:02}:{mi:02}:{s:02} ",
                    MONTHS[(mo - 1) as usize]
                );
                if self.send_hostname || t.format == SyslogFormat::Rfc3164 {
                    let _ = write!(head, "{} ", self.hostname);
                }
                let _ = write!(head, "{}[{pid}]: ", self.tag);
            }
            SyslogFormat::Rfc5424 => {
                let host = if self.hostname.is_empty() {
                    "-"
                } else {
                    &self.hostname
                };
                let sd = if sd.is_empty() { "-" } else { sd };
                let _ = write!(head, "<{pri}>1 {} {host} {} {pid} - {sd} ", iso(), self.tag);
            }
            SyslogFormat::Priority => {
                let _ = write!(head, "<{pri}>");
            }
            SyslogFormat::Short => {
                let _ = write!(head, "<{level}>");
            }
            SyslogFormat::Timed => {
                let _ = write!(head, "<{level}>{} ", iso());
            }
            SyslogFormat::Iso => {
                let _ = write!(head, "{} ", iso());
            }
            SyslogFormat::Raw => {}
        }
        let mut out = head.into_bytes();
        out.extend_from_slice(msg.as_bytes());
        out.truncate(t.len.max(2) - 1);
        out.push(b'\n');
        out
    }
}

/// One write of `line` to `fd` if a zero-timeout poll says it can go
/// without blocking (the descriptor keeps its blocking mode: it may be the
/// terminal pollux also writes its messages to); else WouldBlock.
fn write_ready(fd: &OwnedFd, line: &[u8]) -> io::Result<usize> {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut p = [PollFd::new(fd, PollFlags::OUT)];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let n = poll(&mut p, Some(&zero)).map_err(io::Error::from)?;
    if n == 0 || !p[0].revents().contains(PollFlags::OUT) {
        if p[0].revents().intersects(PollFlags::ERR | PollFlags::HUP) {
            return Err(io::Error::from(io::ErrorKind::BrokenPipe));
        }
        return Err(io::ErrorKind::WouldBlock.into());
    }
    rustix::io::write(fd, line).map_err(io::Error::from)
}
