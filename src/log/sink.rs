//! Syslog senders: the header (RFC 3164 as HAProxy sends it, without host
//! name unless `log-send-hostname`; or RFC 5424), `len` truncation, the
//! level filter, and one non-blocking socket per destination kind. A send
//! that would block is dropped and counted: logging never stalls the loop.

use super::{civil, GlobalLog, LogAddr, LogTarget, SyslogFormat, MONTHS};
use std::fmt::Write;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::SystemTime;

/// The process's log sockets and header settings.
pub struct Hub {
    udp4: Option<UdpSocket>,
    udp6: Option<UdpSocket>,
    unix: Option<UnixDatagram>,
    tag: String,
    /// Shown in RFC 5424 headers, and in RFC 3164 ones with log-send-hostname.
    hostname: String,
    send_hostname: bool,
    /// Messages not sent because the socket was full or refused them.
    pub dropped: u64,
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
            tag: g.tag.clone().unwrap_or_else(|| "pollux".into()),
            hostname,
            send_hostname,
            dropped: 0,
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
            if level > t.level {
                continue;
            }
            let line = self.frame_sd(t, level.max(t.minlevel), msg, sd, now);
            let r = match &t.addr {
                LogAddr::Udp(a) if a.is_ipv4() => self.udp4.as_ref().map(|s| s.send_to(&line, a)),
                LogAddr::Udp(a) => self.udp6.as_ref().map(|s| s.send_to(&line, a)),
                LogAddr::Unix(p) => self.unix.as_ref().map(|s| s.send_to(&line, p)),
            };
            if !matches!(r, Some(Ok(_))) {
                self.dropped += 1;
            }
        }
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
        match t.format {
            SyslogFormat::Rfc3164 => {
                let _ = write!(
                    head,
                    "<{pri}>{} {d:2} {h:02}:{mi:02}:{s:02} ",
                    MONTHS[(mo - 1) as usize]
                );
                if self.send_hostname {
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
                let _ = write!(
                    head,
                    "<{pri}>1 {y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{us:06}+00:00 {host} {} {pid} - {sd} ",
                    self.tag
                );
            }
        }
        let mut out = head.into_bytes();
        out.extend_from_slice(msg.as_bytes());
        out.truncate(t.len.max(2) - 1);
        out.push(b'\n');
        out
    }
}
