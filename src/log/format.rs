//! Log-format strings (manual §8.2.4 "Custom log format"): compiled once at
//! config check into literals, separators and `%var` fields, rendered per
//! session. As HAProxy: spaces are separators that collapse and disappear
//! after an empty field; `%{+Q}` quotes strings; untrusted bytes (headers,
//! request line) are escaped as `#XX` so a client cannot forge a line.

use super::LogRec;
use std::fmt::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    ClientIp,
    ClientPort,
    FrontendIp,
    FrontendPort,
    BackendIp,
    BackendPort,
    ServerIp,
    ServerPort,
    Frontend,
    FrontendTransport,
    Backend,
    Server,
    AcceptDate,
    RequestDate,
    GmtDate,
    LocalDate,
    Timestamp,
    AcceptMs,
    Th,
    Ti,
    TR,
    Tq,
    Tw,
    Tc,
    Tr,
    Ta,
    Tt,
    Td,
    Status,
    BytesOut,
    BytesIn,
    Term,
    TermCookie,
    ActConn,
    FeConn,
    BeConn,
    SrvConn,
    Retries,
    SrvQueue,
    BeQueue,
    HdrReq,
    HdrRes,
    HdrReqList,
    HdrResList,
    Request,
    Method,
    Path,
    Query,
    Uri,
    Version,
    CookieReq,
    CookieRes,
    Hostname,
    Pid,
}

/// Every variable name pollux renders.
const VARS: &[(&str, Var)] = &[
    ("ci", Var::ClientIp),
    ("cp", Var::ClientPort),
    ("fi", Var::FrontendIp),
    ("fp", Var::FrontendPort),
    ("bi", Var::BackendIp),
    ("bp", Var::BackendPort),
    ("si", Var::ServerIp),
    ("sp", Var::ServerPort),
    ("f", Var::Frontend),
    ("ft", Var::FrontendTransport),
    ("b", Var::Backend),
    ("s", Var::Server),
    ("t", Var::AcceptDate),
    ("tr", Var::RequestDate),
    ("T", Var::GmtDate),
    ("Tl", Var::LocalDate),
    ("Ts", Var::Timestamp),
    ("ms", Var::AcceptMs),
    ("Th", Var::Th),
    ("Ti", Var::Ti),
    ("TR", Var::TR),
    ("Tq", Var::Tq),
    ("Tw", Var::Tw),
    ("Tc", Var::Tc),
    ("Tr", Var::Tr),
    ("Ta", Var::Ta),
    ("Tt", Var::Tt),
    ("Td", Var::Td),
    ("ST", Var::Status),
    ("B", Var::BytesOut),
    ("U", Var::BytesIn),
    ("ts", Var::Term),
    ("tsc", Var::TermCookie),
    ("ac", Var::ActConn),
    ("fc", Var::FeConn),
    ("bc", Var::BeConn),
    ("sc", Var::SrvConn),
    ("rc", Var::Retries),
    ("sq", Var::SrvQueue),
    ("bq", Var::BeQueue),
    ("hr", Var::HdrReq),
    ("hs", Var::HdrRes),
    ("hrl", Var::HdrReqList),
    ("hsl", Var::HdrResList),
    ("r", Var::Request),
    ("HM", Var::Method),
    ("HP", Var::Path),
    ("HQ", Var::Query),
    ("HU", Var::Uri),
    ("HV", Var::Version),
    ("CC", Var::CookieReq),
    ("CS", Var::CookieRes),
    ("H", Var::Hostname),
    ("pid", Var::Pid),
];

/// HAProxy variables pollux does not render yet (refused at config check).
const LATER: &[&str] = &[
    "ID", "lc", "rt", "sslc", "sslv", "fb", "Tu", "HPO", "tid", "rid",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    /// One or more spaces: one space, unless the output already ends in one.
    Sep,
    Var(Var, bool),
}

/// A compiled log-format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    parts: Vec<Part>,
}

/// Everything a log line may show about a session, gathered by the engine
/// when the line is emitted.
pub struct Ctx<'a> {
    pub rec: &'a LogRec,
    pub now: Instant,
    pub client: SocketAddr,
    pub frontend_addr: SocketAddr,
    pub frontend: &'a str,
    /// None: no backend was chosen (the frontend's name is shown, as HAProxy).
    pub backend: Option<&'a str>,
    pub server: Option<&'a str>,
    pub status: Option<u16>,
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Termination state, and the two cookie characters (`--` without cookie).
    pub term: [u8; 2],
    pub cookie: [u8; 2],
    pub actconn: u32,
    pub feconn: u32,
    pub beconn: u32,
    pub srvconn: u32,
    pub captured_req: &'a [Option<String>],
    pub captured_res: &'a [Option<String>],
    pub cookie_req: Option<&'a str>,
    pub cookie_res: Option<&'a str>,
    pub hostname: &'a str,
}

impl LogFormat {
    /// Compiles a format string; errors name the offending variable.
    pub fn parse(s: &str) -> Result<LogFormat, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut quote_all = false;
        let b = s.as_bytes();
        let mut i = 0;
        let flush = |lit: &mut String, parts: &mut Vec<Part>| {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(lit)));
            }
        };
        while i < b.len() {
            match b[i] {
                b' ' => {
                    flush(&mut lit, &mut parts);
                    if parts.last() != Some(&Part::Sep) {
                        parts.push(Part::Sep);
                    }
                    i += 1;
                }
                b'%' if b.get(i + 1) == Some(&b'%') => {
                    lit.push('%');
                    i += 2;
                }
                b'%' => {
                    i += 1;
                    let mut quote = quote_all;
                    if b.get(i) == Some(&b'{') {
                        let end = s[i..]
                            .find('}')
                            .ok_or_else(|| format!("missing '}}' in log-format '{s}'"))?;
                        for flag in s[i + 1..i + end].split(',') {
                            match flag {
                                "+Q" => quote = true,
                                "-Q" => quote = false,
                                "+X" | "-X" | "+E" | "-E" => {
                                    return Err(format!(
                                        "log-format flag '{flag}' is not supported yet"
                                    ))
                                }
                                _ => {
                                    return Err(format!(
                                        "unknown log-format flag '{flag}' in '{s}'"
                                    ))
                                }
                            }
                        }
                        i += end + 1;
                    }
                    if b.get(i) == Some(&b'[') {
                        return Err(format!(
                            "'%[sample]' in log-format '{s}' is not supported yet"
                        ));
                    }
                    let name: String = s[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect();
                    i += name.len();
                    if name == "o" {
                        // `%{+Q}o`: the flags apply to every later variable.
                        quote_all = quote;
                        continue;
                    }
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Var(lookup(&name, s)?, quote));
                }
                _ => {
                    let c = s[i..].chars().next().unwrap_or(' ');
                    lit.push(c);
                    i += c.len_utf8();
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(LogFormat { parts })
    }

    /// Renders one line.
    pub fn render(&self, c: &Ctx) -> String {
        let mut out = String::with_capacity(256);
        let mut last_space = true;
        for p in &self.parts {
            match p {
                Part::Sep => {
                    if !last_space {
                        out.push(' ');
                        last_space = true;
                    }
                }
                Part::Lit(l) => {
                    out.push_str(l);
                    last_space = false;
                }
                Part::Var(v, quote) => {
                    let before = out.len();
                    field(&mut out, *v, *quote, c);
                    if out.len() > before {
                        last_space = false;
                    }
                }
            }
        }
        out
    }
}

fn lookup(name: &str, s: &str) -> Result<Var, String> {
    if let Some((_, v)) = VARS.iter().find(|(n, _)| *n == name) {
        return Ok(*v);
    }
    if name.is_empty() {
        return Err(format!("a '%' without a variable name in log-format '{s}'"));
    }
    if LATER.contains(&name) {
        return Err(format!(
            "log-format variable '%{name}' is not supported yet"
        ));
    }
    Err(format!("no such log-format variable '%{name}' in '{s}'"))
}

fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

fn since(later: Instant, earlier: Instant) -> i64 {
    ms(later.saturating_duration_since(earlier))
}

/// The timers of §8.4, in ms; -1 for a phase never reached.
struct Timers {
    ti: i64,
    tr_req: i64,
    tw: i64,
    tc: i64,
    tr: i64,
    ta: i64,
    tt: i64,
}

fn timers(c: &Ctx) -> Timers {
    let r = c.rec;
    let first = r.req_first.unwrap_or(c.now);
    let tr = match (r.resp_at, r.connect_at, r.tc) {
        (Some(resp), Some(at), Some(tc)) => since(resp, at + tc),
        _ => -1,
    };
    Timers {
        ti: since(first, r.start),
        tr_req: r.req_head.map_or(-1, |h| since(h, first)),
        tw: r.tw.map_or(-1, ms),
        tc: r.tc.map_or(-1, ms),
        tr,
        ta: since(c.now, first),
        tt: since(c.now, r.start),
    }
}

/// `#XX` for control bytes, bytes >= 0x7f and those in `extra` (HAProxy
/// encodes `"#` in the request line, `{|}"#` in captured headers). Heads
/// hold each wire byte as one char (U+0000..U+00FF), so that byte is what
/// gets logged; any wider char is logged as its UTF-8 bytes.
fn escape(out: &mut String, v: &str, extra: &[u8]) {
    for c in v.chars() {
        let mut utf8 = [0u8; 4];
        let bytes: &[u8] = match u8::try_from(u32::from(c)) {
            Ok(b) => &[b][..],
            Err(_) => c.encode_utf8(&mut utf8).as_bytes(),
        };
        for &b in bytes {
            if !(0x20..0x7f).contains(&b) || extra.contains(&b) {
                let _ = write!(out, "#{b:02X}");
            } else {
                out.push(b as char);
            }
        }
    }
}

const URL_ESC: &[u8] = b"\"#";
const HDR_ESC: &[u8] = b"{|}\"#";

fn text(out: &mut String, v: Option<&str>, quote: bool, esc: &[u8]) {
    match v {
        Some(v) => {
            if quote {
                out.push('"');
            }
            escape(out, v, esc);
            if quote {
                out.push('"');
            }
        }
        None if quote => out.push_str("\"-\""),
        None => out.push('-'),
    }
}

fn num(out: &mut String, n: impl std::fmt::Display) {
    let _ = write!(out, "{n}");
}

/// The parts of the request line: method, URI, version.
fn req_parts<'a>(c: &'a Ctx) -> Option<(&'a str, &'a str, &'a str)> {
    let line = c.rec.request_line.as_deref()?;
    let mut it = line.splitn(3, ' ');
    Some((it.next()?, it.next()?, it.next().unwrap_or("")))
}

fn field(out: &mut String, v: Var, quote: bool, c: &Ctx) {
    let t = || timers(c);
    let date = |d: Duration| c.rec.start_date + d;
    match v {
        Var::ClientIp => text(out, Some(&c.client.ip().to_string()), quote, &[]),
        Var::ClientPort => num(out, c.client.port()),
        Var::FrontendIp => text(out, Some(&c.frontend_addr.ip().to_string()), quote, &[]),
        Var::FrontendPort => num(out, c.frontend_addr.port()),
        Var::BackendIp => text(
            out,
            c.rec.local_addr.map(|a| a.ip().to_string()).as_deref(),
            quote,
            &[],
        ),
        Var::BackendPort => match c.rec.local_addr {
            Some(a) => num(out, a.port()),
            None => out.push('-'),
        },
        Var::ServerIp => text(
            out,
            c.rec.srv_addr.map(|a| a.ip().to_string()).as_deref(),
            quote,
            &[],
        ),
        Var::ServerPort => match c.rec.srv_addr {
            Some(a) => num(out, a.port()),
            None => out.push('-'),
        },
        Var::Frontend | Var::FrontendTransport => text(out, Some(c.frontend), quote, &[]),
        Var::Backend => text(out, Some(c.backend.unwrap_or(c.frontend)), quote, &[]),
        Var::Server => text(out, Some(c.server.unwrap_or("<NOSRV>")), quote, &[]),
        Var::AcceptDate => out.push_str(&super::log_date(c.rec.start_date, true)),
        Var::RequestDate => {
            let ti = c.rec.req_first.unwrap_or(c.now);
            let d = ti.saturating_duration_since(c.rec.start);
            out.push_str(&super::log_date(date(d), true))
        }
        Var::GmtDate => {
            out.push_str(&super::log_date(c.rec.start_date, false));
            out.push_str(" +0000");
        }
        // Local time is UTC: pollux carries no time zone database.
        Var::LocalDate => {
            out.push_str(&super::log_date(c.rec.start_date, false));
            out.push_str(" +0000");
        }
        Var::Timestamp => num(
            out,
            c.rec
                .start_date
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        ),
        Var::AcceptMs => {
            let _ = write!(out, "{:03}", super::civil(c.rec.start_date).6);
        }
        Var::Th => out.push('0'),
        Var::Ti => num(out, t().ti),
        Var::TR => num(out, t().tr_req),
        Var::Tq => {
            let t = t();
            num(out, if t.tr_req < 0 { -1 } else { t.ti + t.tr_req })
        }
        Var::Tw => num(out, t().tw),
        Var::Tc => num(out, t().tc),
        Var::Tr => num(out, t().tr),
        Var::Ta => num(out, t().ta),
        Var::Tt => num(out, t().tt),
        Var::Td => {
            let t = t();
            let parts = [t.ti + t.tr_req, t.tw, t.tc, t.tr];
            if parts.iter().any(|&p| p < 0) {
                out.push_str("-1")
            } else {
                num(out, t.tt - parts.iter().sum::<i64>())
            }
        }
        Var::Status => num(out, c.status.map_or(-1, i32::from)),
        Var::BytesOut => num(out, c.bytes_out),
        Var::BytesIn => num(out, c.bytes_in),
        Var::Term => out.extend(c.term.iter().map(|&b| b as char)),
        Var::TermCookie => {
            out.extend(c.term.iter().chain(&c.cookie).map(|&b| b as char));
        }
        Var::ActConn => num(out, c.actconn),
        Var::FeConn => num(out, c.feconn),
        Var::BeConn => num(out, c.beconn),
        Var::SrvConn => num(out, c.srvconn),
        Var::Retries => {
            if c.rec.redispatched {
                out.push('+');
            }
            num(out, c.rec.retries)
        }
        Var::SrvQueue => num(out, c.rec.sq),
        Var::BeQueue => num(out, c.rec.bq),
        Var::HdrReq | Var::HdrRes => {
            let caps = if v == Var::HdrReq {
                c.captured_req
            } else {
                c.captured_res
            };
            if caps.is_empty() {
                return;
            }
            if quote {
                out.push('"');
            }
            out.push('{');
            for (i, h) in caps.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                escape(out, h.as_deref().unwrap_or(""), HDR_ESC);
            }
            out.push('}');
            if quote {
                out.push('"');
            }
        }
        Var::HdrReqList | Var::HdrResList => {
            let caps = if v == Var::HdrReqList {
                c.captured_req
            } else {
                c.captured_res
            };
            for (i, h) in caps.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                text(out, h.as_deref(), quote, HDR_ESC);
            }
        }
        Var::Request => {
            let line = c.rec.request_line.as_deref().unwrap_or("<BADREQ>");
            text(out, Some(line), quote, URL_ESC)
        }
        Var::Method => text(out, req_parts(c).map(|p| p.0), quote, URL_ESC),
        Var::Uri => text(out, req_parts(c).map(|p| p.1), quote, URL_ESC),
        Var::Path => {
            let path = req_parts(c).map(|p| p.1.split('?').next().unwrap_or(""));
            text(out, path, quote, URL_ESC)
        }
        Var::Query => {
            let q = req_parts(c).and_then(|p| p.1.find('?').map(|i| &p.1[i..]));
            text(out, Some(q.unwrap_or("")), quote, URL_ESC)
        }
        Var::Version => text(out, req_parts(c).map(|p| p.2), quote, URL_ESC),
        Var::CookieReq => text(out, c.cookie_req, quote, HDR_ESC),
        Var::CookieRes => text(out, c.cookie_res, quote, HDR_ESC),
        Var::Hostname => text(out, Some(c.hostname), quote, &[]),
        Var::Pid => num(out, std::process::id()),
    }
}
