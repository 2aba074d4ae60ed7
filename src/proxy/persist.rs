//! Cookie persistence (manual §4.2 `cookie`, `option persist`,
//! `force-persist`, `ignore-persist`), sans-IO over message heads.
//!
//! Engine use, per HTTP request to a backend with `persist.cookie`:
//! 1. [`persist_rules`] over the request -> [`Flags`] (with `option persist`);
//! 2. [`choose`] before load balancing: Some(i) -> server i, "direct";
//! 3. [`strip_request`] before forwarding the request head;
//! 4. [`on_response`] on the response head (`chosen_by_cookie` from 2).
//!
//! `maxidle`/`maxlife` (insert mode) carry dates in the cookie value as
//! HAProxy does, `VALUE|LAST|FIRST`; pollux writes each date as the Unix
//! time in seconds in lowercase hexadecimal (HAProxy uses its own base64).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{CookieCfg, CookieMode, PersistRule};
use crate::http::acl::Truth;
use crate::http::fetch::FetchCtx;
use crate::http::message::{Headers, Request, Response};

/// What the engine knows of a server, for [`choose`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerView {
    pub cookie: Option<String>,
    /// Not DOWN and not disabled (in maintenance).
    pub usable: bool,
    pub backup: bool,
}

/// Persistence decisions for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `option persist`: a cookie naming a DOWN server still sends there.
    pub persist: bool,
    /// A `force-persist` rule matched.
    pub force: bool,
    /// An `ignore-persist` rule matched: no cookie (nor stick) persistence,
    /// and no cookie inserted in the response.
    pub ignore: bool,
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

/// The first `NAME=` cookie of the request, decoded for the mode.
fn sent(cfg: &CookieCfg, req: &Request) -> Option<Sent> {
    let (_, raw) = request_cookies(req).find(|(n, _)| *n == cfg.name)?;
    if cfg.mode == CookieMode::Prefix {
        let (v, _) = raw.split_once(PREFIX_DELIM)?;
        return Some(Sent {
            value: v.to_string(),
            last: None,
            first: None,
        });
    }
    let mut parts = raw.split('|');
    let value = parts.next().unwrap_or("").to_string();
    let date = |p: Option<&str>| p.and_then(|d| u64::from_str_radix(d, 16).ok());
    let (last, first) = (date(parts.next()), date(parts.next()));
    Some(Sent { value, last, first })
}

/// A cookie past `maxidle` since its last date, or `maxlife` since its
/// first, is ignored. Cookies without dates (set before the options) are
/// accepted and get dates in the response.
fn expired(cfg: &CookieCfg, s: &Sent, now: u64) -> bool {
    let past = |date: Option<u64>, max: Option<Duration>| match (date, max) {
        (Some(d), Some(m)) => d > now + 86400 || now.saturating_sub(d) > m.as_secs(),
        _ => false,
    };
    past(s.last, cfg.maxidle) || past(s.first, cfg.maxlife)
}

/// The server the request's cookie designates, if persistence applies:
/// a usable server with that value (a primary and a backup may share a
/// value: the usable one wins, the primary first); a DOWN one only with
/// `option persist` or `force-persist`. None: balance as usual.
pub fn choose(
    cfg: &CookieCfg,
    req: &Request,
    servers: &[ServerView],
    flags: Flags,
    now: SystemTime,
) -> Option<usize> {
    if flags.ignore {
        return None;
    }
    let s = sent(cfg, req)?;
    if s.value.is_empty() || expired(cfg, &s, secs(now)) {
        return None;
    }
    let named = |i: &usize| servers[*i].cookie.as_deref() == Some(s.value.as_str());
    let mut candidates: Vec<usize> = (0..servers.len()).filter(named).collect();
    // Primaries before backups, usable before not.
    candidates.sort_by_key(|&i| (!servers[i].usable, servers[i].backup));
    let &first = candidates.first()?;
    if servers[first].usable || flags.persist || flags.force {
        Some(first)
    } else {
        None
    }
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

/// Replaces the value of `Set-Cookie: NAME=...` lines with `f(value)`.
fn edit_set_cookie(res: &mut Response, name: &str, f: impl Fn(&str) -> String) {
    for (n, line) in res.headers.iter_mut() {
        if !n.eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let Some((k, v)) = set_cookie_pair(line) else {
            continue;
        };
        if k != name {
            continue;
        }
        let attrs = line.find(';').map_or("", |i| &line[i..]);
        *line = format!("{name}={}{attrs}", f(v));
    }
}

/// On the response head from the server whose cookie value is
/// `server_cookie` (`chosen_by_cookie`: [`choose`] picked it).
///
/// - insert: a `Set-Cookie: NAME=VALUE; path=/...` unless the client
///   already sent the right one and `indirect` is set (with `maxidle`, it is
///   still re-sent when its date is 1/16 of `maxidle` old), unless
///   `postonly` and the method is not POST, unless `preserve` and the server
///   set NAME itself; a server-set NAME is removed otherwise. A server
///   without a cookie value clears a cookie the client sent. `nocache`
///   adds `Cache-Control: private` when a cookie is inserted.
/// - rewrite: the server's own `Set-Cookie: NAME=x` gets VALUE instead of x.
/// - prefix: the server's `Set-Cookie: NAME=x` becomes `NAME=VALUE~x`.
pub fn on_response(
    cfg: &CookieCfg,
    flags: Flags,
    req: &Request,
    res: &mut Response,
    server_cookie: Option<&str>,
    chosen_by_cookie: bool,
    now: SystemTime,
) {
    let ours = |line: &str| set_cookie_pair(line).is_some_and(|(n, _)| n == cfg.name);
    match (cfg.mode, server_cookie) {
        (CookieMode::Rewrite, Some(v)) => edit_set_cookie(res, &cfg.name, |_| v.to_string()),
        (CookieMode::Prefix, Some(v)) => {
            edit_set_cookie(res, &cfg.name, |app| format!("{v}{PREFIX_DELIM}{app}"))
        }
        (CookieMode::Insert, _) => {
            let server_set = res.header_values("set-cookie").any(ours);
            if server_set && cfg.preserve {
                return;
            }
            if server_set {
                res.headers
                    .retain(|(n, v)| !(n.eq_ignore_ascii_case("set-cookie") && ours(v)));
            }
            if flags.ignore || (cfg.postonly && req.method != "POST") {
                return;
            }
            if let Some(line) = insert_line(cfg, req, server_cookie, chosen_by_cookie, now) {
                res.add_header("Set-Cookie", &line);
                let uncacheable = res.header_values("cache-control").any(|v| {
                    let v = v.to_ascii_lowercase();
                    v.contains("private") || v.contains("no-cache") || v.contains("no-store")
                });
                if cfg.nocache && !uncacheable {
                    res.add_header("Cache-Control", "private");
                }
            }
        }
        _ => {}
    }
}

/// The `Set-Cookie` value to insert, if one is needed.
fn insert_line(
    cfg: &CookieCfg,
    req: &Request,
    server_cookie: Option<&str>,
    chosen_by_cookie: bool,
    now: SystemTime,
) -> Option<String> {
    let now = secs(now);
    let sent = sent(cfg, req);
    let Some(value) = server_cookie else {
        // A server without a value: clear what the client holds.
        sent.as_ref()?;
        return Some(format!(
            "{}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/",
            cfg.name
        ));
    };
    let right = chosen_by_cookie && sent.as_ref().is_some_and(|s| s.value == value);
    let stale = match (cfg.maxidle, sent.as_ref().and_then(|s| s.last)) {
        (Some(_), None) => true,
        (Some(m), Some(last)) => now.saturating_sub(last) >= (m.as_secs() / 16).max(1),
        (None, _) => false,
    };
    if right && cfg.indirect && !stale && !(cfg.maxlife.is_some() && sent.as_ref()?.first.is_none())
    {
        return None;
    }
    let mut line = format!("{}={value}", cfg.name);
    if cfg.maxidle.is_some() || cfg.maxlife.is_some() {
        line.push_str(&format!("|{now:x}"));
        if cfg.maxlife.is_some() {
            let first = sent
                .filter(|s| right && s.value == value)
                .and_then(|s| s.first)
                .unwrap_or(now);
            line.push_str(&format!("|{first:x}"));
        }
    }
    line.push_str("; path=/");
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
    Some(line)
}

#[cfg(test)]
mod tests;
