//! `-d`'s per-stream trace on stdout, in HAProxy's format: one line when a
//! stream starts (`ID:FE.accept(LFD)=CFD from [IP:PORT] ALPN=...`), the
//! request and response heads as they arrive (`clireq`, `clihdr`,
//! `srvrep`, `srvhdr`, names in lower case as HAProxy stores them), and
//! the end (`clicls`, `srvcls` when a server connection was up, then
//! `closed`). IDs are the stream numbers of `%rt`, fds in hex;
//! a missing connection is `ffff` (`ffffffff` in the head lines, as
//! HAProxy prints -1 there). Off unless `-d` (and not `-q` without `-V`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static ON: AtomicBool = AtomicBool::new(false);

pub fn enable(on: bool) {
    ON.store(on, Ordering::Relaxed);
}

#[inline]
pub fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// Writes one line (its newline added) to stdout, whole.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// An fd as HAProxy's `%04x` of an unsigned short (none: `ffff`).
pub fn fd(fd: Option<i32>) -> String {
    format!("{:04x}", fd.map_or(0xffff, |f| f as u16))
}

/// The server fd of a head line: none is -1 printed with `%04x`.
pub fn head_fd(fd: Option<i32>) -> String {
    match fd {
        Some(f) => format!("{:04x}", f as u16),
        None => "ffffffff".into(),
    }
}

/// `ID:PX.DIR[CFD:SFD]: ` and the head: its first line, then one line per
/// header (`DIR` is `clireq`/`srvrep`, the headers' `clihdr`/`srvhdr`).
pub fn head(
    id: u64,
    px: &str,
    (first, hdr): (&str, &str),
    fds: (i32, Option<i32>),
    start: &str,
    headers: &[(String, String)],
) {
    let pre = |dir: &str| {
        format!(
            "{:08x}:{px}.{dir}[{:04x}:{}]: ",
            id as u32,
            fds.0 as u16,
            head_fd(fds.1)
        )
    };
    let mut text = pre(first) + start;
    for (n, v) in headers.iter().filter(|(n, v)| shown(n, v)) {
        text.push('\n');
        text.push_str(&pre(hdr));
        text.push_str(&n.to_ascii_lowercase());
        text.push_str(": ");
        text.push_str(v);
    }
    line(&text);
}

/// An HTTP connection's trace state (boxed in its transaction, only with
/// `-d`): the listener's fd for each stream's `accept` line, and the
/// current stream's end.
#[derive(Debug, Clone)]
pub struct Stream {
    pub lfd: i32,
    pub end: Option<End>,
}

/// How a stream ends, kept until it does: its number and proxy, and the
/// fds of its two connections (the server's once one is up).
#[derive(Debug, Clone)]
pub struct End {
    pub id: u64,
    pub px: String,
    pub cfd: i32,
    pub sfd: Option<i32>,
    pub tcp: bool,
}

impl End {
    /// `clicls`, `srvcls` (with a server connection) and `closed`, in the
    /// order HAProxy prints them: the server side first when an HTTP
    /// stream ends on a kept-alive connection or a TCP one ends (its
    /// server fd already gone then), the client side first otherwise.
    pub fn print(&self, kept_alive: bool) {
        let id = self.id as u32;
        let sfd = if self.tcp { None } else { self.sfd };
        let tail = format!("[{}:{}]", fd(Some(self.cfd)), fd(sfd));
        let px = &self.px;
        let cli = format!("{id:08x}:{px}.clicls{tail}");
        let srv = self.sfd.map(|_| format!("{id:08x}:{px}.srvcls{tail}"));
        let mut text = String::new();
        let server_first = kept_alive || self.tcp;
        if let (true, Some(srv)) = (server_first, &srv) {
            text.push_str(srv);
            text.push('\n');
        }
        text.push_str(&cli);
        text.push('\n');
        if let (false, Some(srv)) = (server_first, &srv) {
            text.push_str(srv);
            text.push('\n');
        }
        text.push_str(&format!("{id:08x}:{px}.closed{tail}"));
        line(&text);
    }
}

/// Whether a head's header line is shown: HAProxy's parser takes the
/// `Connection: close|keep-alive` lines out of the message.
pub fn shown(name: &str, value: &str) -> bool {
    !name.eq_ignore_ascii_case("connection")
        || value.split(',').any(|t| {
            let t = t.trim();
            !t.eq_ignore_ascii_case("close") && !t.eq_ignore_ascii_case("keep-alive")
        })
}
