//! Log lines (manual §8.2.4 "Custom log format"): the `%var`s only a log
//! line knows (timers, counters, termination state, captures), rendered
//! over the one log-format engine of `http::format`. As HAProxy: spaces are
//! separators that collapse and disappear after an empty field; `%{+Q}`
//! quotes strings; untrusted bytes (headers, request line) are escaped as
//! `#XX` so a client cannot forge a line; `%[sample]`s see the connection
//! and the transaction's captures and unique id, not the messages.

use super::LogRec;
use crate::http::fetch::{FetchCtx, Stamp, TxnView};
use crate::http::format::{self, escape, ip, num_hex, text, Flags, Format, Var, Vars, Where};
use std::fmt::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

/// A compiled `log-format` string: the one log-format engine
/// (`http::format`), with every variable allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat(Format);

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
    /// The transaction's `unique-id-format` id and its number in the process.
    pub unique_id: Option<&'a str>,
    pub counter: u64,
    /// The stream's variables, for `%[var(...)]`.
    pub vars: Option<&'a crate::sample::vars::Vars>,
    /// The client connection's TLS session (`%sslv`, `%sslc`, `~` in `%ft`).
    pub tls: Option<&'a crate::http::fetch::tls::TlsFacts>,
    /// The server connection's (`ssl_bc*`).
    pub bc_tls: Option<&'a crate::http::fetch::tls::TlsFacts>,
    /// `option logasap`'s early line: `+` before `%Ta`, `%Tt` and `%B`.
    pub asap: bool,
}

impl LogFormat {
    /// Compiles a format string; errors name the offending variable.
    pub fn parse(s: &str) -> Result<LogFormat, String> {
        Format::parse_in(s, Where::Log).map(LogFormat)
    }

    /// Renders one line.
    pub fn render(&self, c: &Ctx) -> String {
        let mut out = String::with_capacity(256);
        let fetch = FetchCtx {
            src: c.client,
            dst: c.frontend_addr,
            req: None,
            res: None,
            payload: &[],
            payload_complete: true,
            vars: c.vars,
            txn: TxnView {
                captured_req: c.captured_req,
                captured_res: c.captured_res,
                unique_id: c.unique_id,
                stamp: Stamp {
                    frontend: c.frontend,
                    backend: c.backend,
                    tls: c.tls,
                    bc_tls: c.bc_tls,
                    ..Default::default()
                },
                body: None,
            },
        };
        self.0.render_with(&mut out, &fetch, c);
        out
    }
}

impl Vars for Ctx<'_> {
    fn var(&self, out: &mut String, v: Var, f: Flags) {
        field(out, v, f, self);
    }
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

const URL_ESC: &[u8] = b"\"#";
const HDR_ESC: &[u8] = b"{|}\"#";

fn num(out: &mut String, n: impl std::fmt::Display) {
    let _ = write!(out, "{n}");
}

/// The parts of the request line: method, URI, version.
fn req_parts<'a>(c: &'a Ctx) -> Option<(&'a str, &'a str, &'a str)> {
    let line = c.rec.request_line.as_deref()?;
    let mut it = line.splitn(3, ' ');
    Some((it.next()?, it.next()?, it.next().unwrap_or("")))
}

fn field(out: &mut String, v: Var, f: Flags, c: &Ctx) {
    let t = || timers(c);
    let date = |d: Duration| c.rec.start_date + d;
    match v {
        Var::ClientIp => ip(out, c.client.ip(), f),
        Var::ClientPort => num_hex(out, c.client.port().into(), f, 4),
        Var::FrontendIp => ip(out, c.frontend_addr.ip(), f),
        Var::FrontendPort => num_hex(out, c.frontend_addr.port().into(), f, 4),
        Var::BackendIp | Var::ServerIp => {
            let a = if v == Var::BackendIp {
                c.rec.local_addr
            } else {
                c.rec.srv_addr
            };
            match a {
                Some(a) => ip(out, a.ip(), f),
                None => text(out, None, f, &[], true),
            }
        }
        Var::BackendPort | Var::ServerPort => {
            let a = if v == Var::BackendPort {
                c.rec.local_addr
            } else {
                c.rec.srv_addr
            };
            match a {
                Some(a) => num_hex(out, a.port().into(), f, 4),
                None => out.push('-'),
            }
        }
        Var::Frontend => text(out, Some(c.frontend), f, &[], true),
        // HAProxy's `~` marks a frontend connection that came over TLS.
        Var::FrontendTransport => match c.tls {
            Some(_) => text(out, Some(&format!("{}~", c.frontend)), f, &[], true),
            None => text(out, Some(c.frontend), f, &[], true),
        },
        Var::SslVersion => text(out, c.tls.and_then(|t| t.version), f, &[], true),
        Var::SslCipher => text(out, c.tls.and_then(|t| t.cipher), f, &[], true),
        Var::Backend => text(out, Some(c.backend.unwrap_or(c.frontend)), f, &[], true),
        Var::Server => text(out, Some(c.server.unwrap_or("<NOSRV>")), f, &[], true),
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
        Var::Timestamp => num_hex(
            out,
            c.rec
                .start_date
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            f,
            8,
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
        Var::Ta | Var::Tt => {
            if c.asap {
                out.push('+');
            }
            let t = t();
            num(out, if v == Var::Ta { t.ta } else { t.tt })
        }
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
        Var::BytesOut => {
            if c.asap {
                out.push('+');
            }
            num(out, c.bytes_out)
        }
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
            let mut all = String::from("{");
            for (i, h) in caps.iter().enumerate() {
                if i > 0 {
                    all.push('|');
                }
                escape(&mut all, h.as_deref().unwrap_or(""), HDR_ESC);
            }
            all.push('}');
            // Already escaped: `+Q` and `+E` only.
            let f = Flags {
                quote: f.quote,
                hex: false,
                esc: f.esc,
            };
            format::quoted(out, &all, f);
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
                text(out, h.as_deref(), f, HDR_ESC, true);
            }
        }
        Var::Request => {
            let line = c.rec.request_line.as_deref().unwrap_or("<BADREQ>");
            text(out, Some(line), f, URL_ESC, true)
        }
        // No request line: each part reads `<BADREQ>`, as HAProxy's.
        Var::Method | Var::Uri | Var::Path | Var::Query | Var::Version
            if c.rec.request_line.is_none() =>
        {
            text(out, Some("<BADREQ>"), f, URL_ESC, true)
        }
        Var::Method => text(out, req_parts(c).map(|p| p.0), f, URL_ESC, true),
        Var::Uri => text(out, req_parts(c).map(|p| p.1), f, URL_ESC, true),
        Var::Path => {
            let path = req_parts(c).map(|p| p.1.split('?').next().unwrap_or(""));
            text(out, path, f, URL_ESC, true)
        }
        Var::Query => {
            let q = req_parts(c).and_then(|p| p.1.find('?').map(|i| &p.1[i..]));
            // No query: an empty field, not `-` (HAProxy).
            match q {
                Some(q) => text(out, Some(q), f, URL_ESC, true),
                None => format::quoted(out, "", f),
            }
        }
        Var::Version => text(out, req_parts(c).map(|p| p.2), f, URL_ESC, true),
        Var::CookieReq => text(out, c.cookie_req, f, HDR_ESC, true),
        Var::CookieRes => text(out, c.cookie_res, f, HDR_ESC, true),
        Var::Hostname => text(out, Some(c.hostname), f, &[], true),
        Var::Pid => num_hex(out, std::process::id().into(), f, 4),
        Var::UniqueId => text(out, c.unique_id, f, &[], true),
        Var::ReqCounter => num_hex(out, c.counter, f, 4),
    }
}
