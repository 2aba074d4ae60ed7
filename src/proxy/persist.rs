//! Cookie persistence (manual §4.2 `cookie`, `option persist`,
//! `force-persist`, `ignore-persist`), sans-IO over message heads.
//!
//! Engine use, per HTTP request to a backend with `persist.cookie`:
//! 1. [`persist_rules`] over the request -> [`Flags`] (with `option persist`);
//! 2. [`choose`] before load balancing: a server -> that one, "direct";
//!    its status is the log's third cookie letter ([`CookieIn`]);
//! 3. [`strip_request`] before forwarding the request head;
//! 4. [`on_response`] on the response head (`direct` from 2, unless a
//!    redispatch moved the request): the fourth letter ([`CookieOut`]).
//!
//! `maxidle`/`maxlife` (insert mode) carry dates in the cookie value as
//! HAProxy does, `VALUE|LAST|FIRST`; pollux writes each date as the Unix
//! time in seconds in lowercase hexadecimal (HAProxy uses its own base64).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{CookieCfg, CookieMode, PersistRule, ServerName, UseServer};
use crate::http::acl::Truth;
use crate::http::fetch::FetchCtx;
use crate::http::message::{Headers, Request, Response};
pub use crate::session::decide::{CookieIn, CookieOut, PersistFlags as Flags};

/// What the engine knows of a server, for [`choose`]: computed from its
/// record when asked (`lb::ServerRt::view`), never kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerView<'a> {
    pub name: &'a str,
    pub cookie: Option<&'a str>,
    /// Not DOWN and not disabled (in maintenance).
    pub usable: bool,
    pub backup: bool,
}

/// Every backend's servers as persistence sees them.
pub trait Servers {
    /// Server `si` of backend `bi`; None past the last.
    fn view(&self, bi: usize, si: usize) -> Option<ServerView<'_>>;
}

/// `force-persist` / `ignore-persist`: the first rule whose condition
/// holds decides; `option persist` is passed through.
pub fn persist_rules(rules: &[PersistRule], option_persist: bool, ctx: &FetchCtx) -> Flags {
    let mut f = Flags {
        persist: option_persist,
        ..Flags::default()
    };
    if let Some(r) = rules.iter().find(|r| r.cond.eval(ctx) == Truth::True) {
        f.force = r.force;
        f.ignore = !r.force;
    }
    f
}

/// `use-server` rules, when no cookie chose a server (HAProxy's
/// `process_server_rules`): the first rule whose condition holds names the
/// server, taken unless it is down (`option persist` and `force-persist`
/// take it anyway; a down one lets the next rules try). A log-format name
/// that names no server stops the rules: the balancer chooses.
pub fn use_server(
    rules: &[UseServer],
    servers: &dyn Servers,
    bi: usize,
    ctx: &FetchCtx,
    flags: Flags,
) -> Option<usize> {
    let by_name = |n: &str| {
        (0..)
            .map_while(|si| servers.view(bi, si))
            .position(|v| v.name == n)
    };
    for r in rules {
        if r.cond.eval(ctx) != Truth::True {
            continue;
        }
        let si = match &r.server {
            ServerName::Name(n) => by_name(n)?,
            ServerName::Format(f) => by_name(&f.render(ctx))?,
        };
        let usable = servers.view(bi, si).is_some_and(|v| v.usable);
        if usable || flags.persist || flags.force {
            return Some(si);
        }
    }
    None
}

/// HAProxy's delimiter between the server's value and the application's
/// value in prefix mode.
const PREFIX_DELIM: char = '~';

/// Our cookie as the client sent it: the server value and the dates.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sent {
    value: String,
    last: Option<u64>,
    first: Option<u64>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `NAME=VALUE` pairs of every `Cookie` header.
fn request_cookies(req: &Request) -> impl Iterator<Item = (&str, &str)> {
    req.header_values("cookie").flat_map(|line| {
        line.split(';').filter_map(|p| {
            let (n, v) = p.split_once('=')?;
            Some((n.trim(), v.trim()))
        })
    })
}

/// One `NAME=` cookie of the request, decoded for the mode: in prefix mode
/// the server value is what comes before `~` (all of it without one, as
/// HAProxy reads it); otherwise `VALUE|LAST|FIRST`.
fn decode(cfg: &CookieCfg, raw: &str) -> Sent {
    if cfg.mode == CookieMode::Prefix {
        let value = raw.split_once(PREFIX_DELIM).map_or(raw, |(v, _)| v);
        return Sent {
            value: value.to_string(),
            last: None,
            first: None,
        };
    }
    let mut parts = raw.split('|');
    let value = parts.next().unwrap_or("").to_string();
    let date = |p: Option<&str>| p.and_then(|d| u64::from_str_radix(d, 16).ok());
    let (last, first) = (date(parts.next()), date(parts.next()));
    Sent { value, last, first }
}

/// Every `NAME=` cookie of the request, in order.
fn sent_all<'a>(cfg: &'a CookieCfg, req: &'a Request) -> impl Iterator<Item = Sent> + 'a {
    request_cookies(req)
        .filter(move |(n, _)| *n == cfg.name)
        .map(move |(_, raw)| decode(cfg, raw))
}

/// A cookie past `maxlife` since its first date (Old), else past `maxidle`
/// since its last (Expired), or dated more than a day ahead, is ignored
/// (checked in this order, as HAProxy). Cookies without dates (set before
/// the options) are accepted and get dates in the response.
fn stale(cfg: &CookieCfg, s: &Sent, now: u64) -> Option<CookieIn> {
    let past = |date: Option<u64>, max: Option<Duration>| match (date, max) {
        (Some(d), Some(m)) => d > now + 86400 || now.saturating_sub(d) > m.as_secs(),
        _ => false,
    };
    if past(s.first, cfg.maxlife) {
        Some(CookieIn::Old)
    } else if past(s.last, cfg.maxidle) {
        Some(CookieIn::Expired)
    } else {
        None
    }
}

/// What the request's cookies decide: the server they bind the request to,
/// if any, and what the log says of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Choice {
    pub server: Option<usize>,
    pub status: CookieIn,
}

/// HAProxy's `http_manage_client_side_cookies`: each `NAME=` cookie of the
/// request in turn, until one binds the request. A cookie names the first
/// server (in configuration order) with that value that is usable, or, with
/// `option persist` or `force-persist`, the first one at all; a DOWN one is
/// reported (D) and the search goes on. An empty, expired or old cookie
/// binds nothing. The first cookie's status stays unless a later one binds
/// (`SRV=bogus; SRV=a` is V, `SRV=a; SRV=bogus` too).
pub fn choose<'s>(
    cfg: &CookieCfg,
    req: &Request,
    servers: impl IntoIterator<Item = ServerView<'s>> + Clone,
    flags: Flags,
    now: SystemTime,
) -> Choice {
    let mut c = Choice::default();
    for s in sent_all(cfg, req) {
        let mut value = Some(s.value.as_str()).filter(|v| !v.is_empty());
        if let Some(st) = stale(cfg, &s, secs(now)) {
            c.status = st;
            value = None;
        }
        let mut bound = false;
        if let Some(v) = value.filter(|_| !flags.ignore && c.server.is_none()) {
            for (i, srv) in servers.clone().into_iter().enumerate() {
                if srv.cookie != Some(v) {
                    continue;
                }
                if srv.usable || flags.persist || flags.force {
                    c.status = if srv.usable {
                        CookieIn::Valid
                    } else {
                        CookieIn::Down
                    };
                    c.server = Some(i);
                    bound = true;
                    break;
                }
                c.status = CookieIn::Down;
            }
        }
        if !bound && c.status == CookieIn::None {
            c.status = if flags.ignore {
                CookieIn::Unused
            } else {
                CookieIn::Invalid
            };
        }
    }
    c
}

/// Rewrites every `Cookie` header pair by pair; `f` returns the new
/// value of a `NAME=` pair, or None to drop it. Empty headers go.
fn edit_request_cookie(req: &mut Request, name: &str, f: impl Fn(&str) -> Option<String>) {
    for (n, line) in req.headers.iter_mut() {
        if !n.eq_ignore_ascii_case("cookie") {
            continue;
        }
        let pairs: Vec<String> = line
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .filter_map(|p| match p.split_once('=') {
                Some((k, v)) if k.trim() == name => f(v.trim()).map(|v| format!("{name}={v}")),
                _ => Some(p.to_string()),
            })
            .collect();
        *line = pairs.join("; ");
    }
    req.headers
        .retain(|(n, v)| !(n.eq_ignore_ascii_case("cookie") && v.is_empty()));
}

/// Before forwarding: `insert indirect` removes our cookie (the
/// application never sees it); `prefix` strips `VALUE~` so the
/// application sees its own cookie. Other modes forward it as is.
pub fn strip_request(cfg: &CookieCfg, req: &mut Request) {
    match cfg.mode {
        CookieMode::Insert if cfg.indirect => edit_request_cookie(req, &cfg.name, |_| None),
        CookieMode::Prefix => edit_request_cookie(req, &cfg.name, |v| {
            Some(
                v.split_once(PREFIX_DELIM)
                    .map_or(v, |(_, app)| app)
                    .to_string(),
            )
        }),
        _ => {}
    }
}

/// The name of a `Set-Cookie` line's cookie and its value.
fn set_cookie_pair(line: &str) -> Option<(&str, &str)> {
    let pair = line.split(';').next()?;
    let (n, v) = pair.split_once('=')?;
    Some((n.trim(), v.trim()))
}

/// HAProxy's `http_manage_server_side_cookies`: the server's own
/// `Set-Cookie: NAME=...` lines (found: P), removed in insert mode and
/// when the client came `indirect`ly with the right cookie (D), given the
/// server's value in rewrite mode or prefixed with it in prefix mode (R);
/// `preserve` leaves them alone.
fn server_cookies(
    cfg: &CookieCfg,
    res: &mut Response,
    server_cookie: Option<&str>,
    direct: bool,
) -> CookieOut {
    let mut out = CookieOut::None;
    let mut kept = Vec::with_capacity(res.headers.len());
    for (n, line) in std::mem::take(&mut res.headers) {
        let ours = n.eq_ignore_ascii_case("set-cookie")
            && set_cookie_pair(&line).is_some_and(|(k, _)| k == cfg.name);
        if !ours || cfg.preserve {
            out = if ours { CookieOut::Found } else { out };
            kept.push((n, line));
            continue;
        }
        let attrs = line.find(';').map_or("", |i| &line[i..]).to_string();
        let app = set_cookie_pair(&line).map_or("", |(_, v)| v).to_string();
        out = CookieOut::Found;
        match (cfg.mode, server_cookie) {
            (CookieMode::Insert, _) => out = CookieOut::Deleted,
            _ if direct && cfg.indirect => out = CookieOut::Deleted,
            (CookieMode::Rewrite, Some(v)) => {
                kept.push((n, format!("{}={v}{attrs}", cfg.name)));
                out = CookieOut::Replaced;
            }
            (CookieMode::Prefix, Some(v)) => {
                kept.push((n, format!("{}={v}{PREFIX_DELIM}{app}{attrs}", cfg.name)));
                out = CookieOut::Replaced;
            }
            _ => kept.push((n, line)),
        }
    }
    res.headers = kept;
    out
}

/// On the response head from the server whose cookie value is
/// `server_cookie`; `direct`: [`choose`] bound the request to it (and no
/// redispatch moved it). Returns what the log reports (see [`CookieOut`]).
///
/// With `ignore-persist` nothing is touched. Otherwise the server's own
/// cookie is handled first (`server_cookies`), then in insert mode a
/// `Set-Cookie: NAME=VALUE; path=/...` is added, as HAProxy
/// (`http_process_res_common`), unless the server's own cookie was
/// preserved, unless `postonly` and the method is not POST, and unless the
/// request came with the right cookie (with or without `indirect`) whose
/// dates need no refresh (with `maxidle`, one 1/16 of it old is re-sent;
/// dates are added to, or removed from, a cookie that lacks or should not
/// have them). A server without a cookie value gets an expired
/// `NAME=`, clearing whatever the client holds. `nocache` adds
/// `Cache-Control: private` when a cookie is inserted into a response
/// that caches could otherwise keep ([`cacheable`]).
pub fn on_response(
    cfg: &CookieCfg,
    flags: Flags,
    req: &Request,
    res: &mut Response,
    server_cookie: Option<&str>,
    direct: bool,
    now: SystemTime,
) -> CookieOut {
    if flags.ignore {
        return CookieOut::None;
    }
    let out = server_cookies(cfg, res, server_cookie, direct);
    if cfg.mode != CookieMode::Insert
        || (out == CookieOut::Found && cfg.preserve)
        || (cfg.postonly && req.method != "POST")
    {
        return out;
    }
    let now = secs(now);
    // The dates of the first cookie that was not stale (HAProxy keeps those).
    let sent = sent_all(cfg, req).find(|s| stale(cfg, s, now).is_none());
    let (last, first) = sent.as_ref().map_or((None, None), |s| (s.last, s.first));
    let refresh = match (cfg.maxidle, last) {
        (Some(m), Some(l)) => now.saturating_sub(l) >= (m.as_secs() / 16).max(1),
        (Some(_), None) => true,
        (None, l) => l.is_some(),
    } || (cfg.maxlife.is_some() != first.is_some());
    if direct && !refresh {
        return out;
    }
    let mut line = match server_cookie {
        None => format!(
            "{}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/",
            cfg.name
        ),
        Some(value) => {
            let mut line = format!("{}={value}", cfg.name);
            if cfg.maxidle.is_some() || cfg.maxlife.is_some() {
                line.push_str(&format!("|{now:x}"));
                if cfg.maxlife.is_some() {
                    line.push_str(&format!("|{:x}", first.unwrap_or(now)));
                }
            }
            line.push_str("; path=/");
            line
        }
    };
    for d in &cfg.domains {
        line.push_str(&format!("; domain={d}"));
    }
    if cfg.httponly {
        line.push_str("; HttpOnly");
    }
    if cfg.secure {
        line.push_str("; Secure");
    }
    for a in &cfg.attrs {
        line.push_str(&format!("; {a}"));
    }
    res.add_header("Set-Cookie", &line);
    if cfg.nocache && cacheable(req, res) {
        res.add_header("Cache-Control", "private");
    }
    if server_cookie.is_some() && direct {
        CookieOut::Updated
    } else {
        CookieOut::Inserted
    }
}

/// Whether a shared cache could keep this response, as HAProxy judges it
/// for `nocache` (`http_check_response_for_cacheability`): no `Pragma:
/// no-cache`; a GET, HEAD, OPTIONS or TRACE answered with a status
/// cacheable by default (RFC 9111 §3), or a `public` directive, and no
/// `private`, `no-cache`, `no-store`, `max-age=0` or `s-maxage=0` after
/// it; and something that lets a cache keep it: a `max-age`/`s-maxage`,
/// `Expires`, `ETag` or `Last-Modified`.
pub fn cacheable(req: &Request, res: &Response) -> bool {
    let pragma = res.header_values("pragma").next();
    if pragma.is_some_and(|p| p.trim().eq_ignore_ascii_case("no-cache")) {
        return false;
    }
    let mut ok = matches!(req.method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
        && [200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501].contains(&res.status);
    let mut fresh = false;
    for d in res
        .header_values("cache-control")
        .flat_map(|v| v.split(','))
        .map(str::trim)
    {
        let lower = d.to_ascii_lowercase();
        match lower.as_str() {
            "public" => ok = true,
            "private" | "no-cache" | "no-store" | "max-age=0" | "s-maxage=0" => ok = false,
            _ if lower.starts_with("max-age") || lower.starts_with("s-maxage") => fresh = true,
            _ => {}
        }
    }
    fresh |= res.header("expires").is_some()
        || res.header("etag").is_some()
        || res.header("last-modified").is_some();
    ok && fresh
}

#[cfg(test)]
mod tests;
