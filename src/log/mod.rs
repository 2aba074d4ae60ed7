//! Logging as HAProxy does it (configuration manual §4.2 `log`, §8): syslog
//! targets, the per-session record the engine fills at its hook points, the
//! log-format compiler and renderer (`format.rs`) and the non-blocking
//! syslog senders (`sink.rs`).

pub mod format;
pub mod sink;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

pub use format::LogFormat;
pub use sink::Hub;

/// Syslog severities, most critical first (RFC 5424 §6.2.1 numbering).
pub const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];
pub const ALERT: u8 = 1;
pub const ERR: u8 = 3;
pub const WARNING: u8 = 4;
pub const NOTICE: u8 = 5;
pub const INFO: u8 = 6;

/// Syslog facilities, in code order (HAProxy's list).
pub const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// The header a message gets (`format F`, HAProxy's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyslogFormat {
    /// RFC 3164 without the host name (unless `log-send-hostname`).
    #[default]
    Local,
    /// RFC 3164 with the host name.
    Rfc3164,
    Rfc5424,
    /// `<PRI>` and the message.
    Priority,
    /// `<LEVEL>` and the message.
    Short,
    /// `<LEVEL>`, an ISO 8601 date, the message.
    Timed,
    /// An ISO 8601 date and the message.
    Iso,
    /// The message alone.
    Raw,
}

/// Where a target's messages go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LogAddr {
    Udp(SocketAddr),
    /// A Unix datagram socket such as `/dev/log`.
    Unix(PathBuf),
    /// `fd@N`, `stdout` (1), `stderr` (2): one write per message.
    Fd(i32),
}

/// `sample RANGES:SIZE`: of each SIZE messages in a row, the ones whose
/// number (from 1) is in one of the ranges go to the target.
#[derive(Debug, Clone)]
pub struct LogSample {
    pub ranges: Vec<(u64, u64)>,
    pub size: u64,
    /// Messages offered so far, shared by every thread's copy.
    pub seen: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl PartialEq for LogSample {
    fn eq(&self, o: &Self) -> bool {
        self.ranges == o.ranges && self.size == o.size
    }
}

impl Eq for LogSample {}

impl LogSample {
    /// Whether the next message goes to the target.
    pub fn take(&self) -> bool {
        let n = self.seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.size + 1;
        self.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&n))
    }
}

/// One `log ADDRESS [len N] [format F] FACILITY [LEVEL [MINLEVEL]]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub addr: LogAddr,
    /// Longest datagram, header and final LF included (default 1024).
    pub len: usize,
    pub format: SyslogFormat,
    pub facility: u8,
    /// Messages less critical than this are not sent (default debug: all).
    pub level: u8,
    /// Messages more critical than this are sent at this level (default emerg).
    pub minlevel: u8,
    pub sample: Option<LogSample>,
}

/// Per-process logging settings from the `global` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlobalLog {
    pub targets: Vec<LogTarget>,
    /// `log-tag`: the program name in the header (default "pollux").
    pub tag: Option<String>,
    /// `log-send-hostname [NAME]`: Some("") means the system's host name.
    pub send_hostname: Option<String>,
}

/// The default formats of `option tcplog` and `option httplog` (HAProxy 2.6).
pub const TCPLOG: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
pub const HTTPLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
/// `option httpslog`: the HTTP one with the TLS session's facts.
pub const HTTPSLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc";

/// A frontend's logging: where, in which format, and the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontendLog {
    pub targets: Vec<LogTarget>,
    /// None: HAProxy's default line ("Connect from ... to ...") at accept.
    pub format: Option<LogFormat>,
    /// `log-format-sd`: the structured data of RFC 5424 lines.
    pub sd: Option<LogFormat>,
    pub dontlognull: bool,
    pub separate_errors: bool,
    /// `option dontlog-normal`: only errors are logged.
    pub dontlog_normal: bool,
    /// `option logasap`: the line goes out when the server's response head
    /// arrives (HTTP) or the server connection is up (TCP), its total time
    /// and bytes so far marked with `+`.
    pub logasap: bool,
}

/// What happened to one session (TCP) or transaction (HTTP), filled by the
/// engine as it goes and rendered at the end.
#[derive(Debug, Clone)]
pub struct LogRec {
    /// Start of this transaction: the accept for the first one, the end of
    /// the previous one on a kept-alive connection.
    pub start: Instant,
    pub start_date: SystemTime,
    /// First byte of the request (end of Ti) and complete head (end of TR).
    pub req_first: Option<Instant>,
    pub req_head: Option<Instant>,
    /// Time spent in queues (Tw) and connecting (Tc), once known.
    pub tw: Option<Duration>,
    pub connect_at: Option<Instant>,
    pub tc: Option<Duration>,
    /// When the server's response head arrived (end of Tr).
    pub resp_at: Option<Instant>,
    /// Bytes written to and read from the client so far on this connection.
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Those counters when this transaction started (B and U are
    /// differences from them).
    pub out_base: u64,
    pub in_base: u64,
    /// HTTP: the client byte counts when the connection became a tunnel
    /// (101, CONNECT); what flows after counts as it is, after the HTTP
    /// messages' own count.
    pub tunnel_from: Option<(u64, u64)>,
    pub retries: u32,
    pub redispatched: bool,
    /// Positions in the server's and backend's queues when queued.
    pub sq: u32,
    pub bq: u32,
    /// The backend chosen and the server used, the server's address and
    /// our address towards it.
    pub backend: Option<u32>,
    pub server: Option<u32>,
    pub srv_addr: Option<SocketAddr>,
    pub local_addr: Option<SocketAddr>,
    /// Termination cause and phase (HAProxy §8.5), b'-' while unset.
    pub term: [u8; 2],
    /// The last connect attempt failed by timeout (sC rather than SC).
    pub connect_timed_out: bool,
    /// The request line as received, for %r, %HM, %HU, %HP, %HV.
    pub request_line: Option<String>,
    /// Transactions already logged on this connection.
    pub logged: u32,
    /// This transaction is not logged (`monitor-uri`).
    pub silent: bool,
    /// `option logasap`: this transaction's line went out already.
    pub asap_done: bool,
    /// The server connection's TLS session once it is up (`ssl_bc*`).
    pub bc_tls: Option<crate::http::fetch::tls::TlsFacts>,
}

impl LogRec {
    pub fn new(now: Instant) -> Box<LogRec> {
        Box::new(LogRec {
            start: now,
            start_date: SystemTime::now(),
            req_first: None,
            req_head: None,
            tw: None,
            connect_at: None,
            tc: None,
            resp_at: None,
            bytes_out: 0,
            bytes_in: 0,
            out_base: 0,
            in_base: 0,
            tunnel_from: None,
            retries: 0,
            redispatched: false,
            sq: 0,
            bq: 0,
            backend: None,
            server: None,
            srv_addr: None,
            local_addr: None,
            term: *b"--",
            connect_timed_out: false,
            request_line: None,
            logged: 0,
            silent: false,
            asap_done: false,
            bc_tls: None,
        })
    }

    /// Sets the termination cause and phase unless one is already set: the
    /// first event that ended the session is the one reported.
    pub fn term(&mut self, cause: u8, phase: u8) {
        if self.term[0] == b'-' {
            self.term = [cause, phase];
        }
    }

    /// Ready for the next transaction of a kept-alive connection.
    pub fn next(&mut self, now: Instant, out: u64, inb: u64) {
        let logged = self.logged + 1;
        let (srv, local) = (self.srv_addr, self.local_addr);
        let bc_tls = self.bc_tls.take();
        let given = (self.bytes_out, self.bytes_in);
        *self = *LogRec::new(now);
        self.logged = logged;
        // The connection's byte counts go on; this transaction counts from
        // `out`/`inb` (which may include bytes not handed over yet).
        (self.bytes_out, self.bytes_in) = given;
        self.out_base = out;
        self.in_base = inb;
        // A kept-alive server connection may serve the next request.
        (self.srv_addr, self.local_addr) = (srv, local);
        self.bc_tls = bc_tls;
    }

    pub fn queued(&mut self, sq: usize, bq: usize) {
        self.sq = sq as u32;
        self.bq = bq as u32;
    }

    pub fn first_byte(&mut self, now: Instant) {
        self.req_first.get_or_insert(now);
    }

    /// The request head is complete: keep its first line as received.
    pub fn request(&mut self, now: Instant, method: &str, uri: &str, version: &str) {
        self.req_first.get_or_insert(now);
        self.req_head = Some(now);
        self.request_line = Some(format!("{method} {uri} {version}"));
    }

    /// The body `option http-buffer-request` waited for has come: the
    /// request's time (TR) ends now, as HAProxy's.
    pub fn request_body_waited(&mut self, now: Instant) {
        self.req_head = Some(now);
    }

    /// The session leaves the queue it entered at `since` without a
    /// connect (client abort, `timeout queue`): Tw is the time it waited,
    /// as HAProxy logs it (Tc and Tr stay -1).
    pub fn left_queue(&mut self, now: Instant, since: Instant) {
        self.tw.get_or_insert(now.saturating_duration_since(since));
    }

    /// A connect attempt starts; `queued_since` ends the queue wait.
    pub fn connecting(&mut self, now: Instant, queued_since: Option<Instant>) {
        if self.tw.is_none() {
            self.tw = Some(queued_since.map_or(Duration::ZERO, |q| now - q));
        }
        self.connect_at.get_or_insert(now);
        // A new server connection: the last one's TLS session is not its.
        self.bc_tls = None;
    }

    pub fn connected(&mut self, now: Instant, local: Option<SocketAddr>) {
        self.tc = Some(now.saturating_duration_since(self.connect_at.unwrap_or(now)));
        self.local_addr = local;
    }

    /// A kept-alive server connection is reused: no queue, no connect.
    pub fn reused(&mut self, now: Instant, server: usize) {
        self.server = Some(server as u32);
        self.tw.get_or_insert(Duration::ZERO);
        self.tc.get_or_insert(Duration::ZERO);
        self.connect_at.get_or_insert(now);
    }
}

/// Civil date and time (UTC) of a system time: (year, month 1-12, day,
/// hour, minute, second, millisecond, microsecond).
pub fn civil(t: SystemTime) -> (i64, u32, u32, u32, u32, u32, u32, u32) {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_millis(),
        d.subsec_micros(),
    )
}

pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `26/Nov/2026:00:38:52.123` (%t, %tr) or without milliseconds (%T).
pub fn log_date(t: SystemTime, millis: bool) -> String {
    let (y, mo, d, h, mi, s, ms, _) = civil(t);
    let m = MONTHS[(mo - 1) as usize];
    if millis {
        format!("{d:02}/{m}/{y:04}:{h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{d:02}/{m}/{y:04}:{h:02}:{mi:02}:{s:02}")
    }
}
