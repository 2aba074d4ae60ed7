//! Logging keywords (manual §4.2): `log` (global and proxies), `no log`,
//! `log-tag`, `log-send-hostname`, `log-format`, `option tcplog|httplog|
//! dontlognull|log-separate-errors`. `log global` is resolved once every
//! file is read, so the `global` section may come later.

use super::args::{need, only};
use super::draft::{Entry, Fmt, LogDraft};
use super::model::Mode;
use crate::log::{
    FrontendLog, GlobalLog, LogAddr, LogFormat, LogTarget, SyslogFormat, FACILITIES, HTTPLOG,
    HTTPSLOG, LEVELS, TCPLOG,
};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// `log ...` and `log-format ...` in a proxy or defaults section.
pub(crate) fn parse_keyword(d: &mut LogDraft, args: &[String]) -> Result<(), String> {
    match args[0].as_str() {
        "log" if args.get(1).is_some_and(|a| a == "global") => {
            only(args, 2)?;
            d.entries.push(Entry::Global);
        }
        "log" => d.entries.push(Entry::Target(parse_target(args)?)),
        "log-format-sd" => {
            let f = need(args, 1, "a format string")?;
            only(args, 2)?;
            d.sd = Some(LogFormat::parse(f)?);
        }
        _ => {
            let f = need(args, 1, "a format string")?;
            only(args, 2)?;
            d.format = Some(Fmt::Custom(LogFormat::parse(f)?));
        }
    }
    Ok(())
}

/// `no log`: forget every logger (also those inherited from defaults).
pub(crate) fn no_log(d: &mut LogDraft, args: &[String]) -> Result<(), String> {
    only(args, 2)?;
    d.entries.clear();
    Ok(())
}

/// The logging options; Ok(false) when `name` is not one of them.
pub(crate) fn parse_option(
    d: &mut LogDraft,
    args: &[String],
    at: usize,
    on: bool,
) -> Result<bool, String> {
    let name = args[at].as_str();
    match name {
        "tcplog" | "httplog" | "httpslog" => {
            if let Some(extra) = args.get(at + 1) {
                if name == "httplog" && extra == "clf" {
                    return Err("'option httplog clf' is not supported yet".into());
                }
            }
            only(args, at + 1)?;
            let f = match name {
                "tcplog" => Fmt::Tcp,
                "httplog" => Fmt::Http,
                _ => Fmt::Https,
            };
            if on {
                d.format = Some(f);
            } else if d.format == Some(f) {
                d.format = None;
            }
        }
        "dontlognull" => {
            only(args, at + 1)?;
            d.dontlognull = on;
        }
        "log-separate-errors" => {
            only(args, at + 1)?;
            d.separate_errors = on;
        }
        "dontlog-normal" => {
            only(args, at + 1)?;
            d.dontlog_normal = on;
        }
        "logasap" => {
            only(args, at + 1)?;
            d.logasap = on;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `log`, `log-tag`, `log-send-hostname` in `global`; Ok(false) otherwise.
pub(crate) fn parse_global(g: &mut GlobalLog, args: &[String]) -> Result<bool, String> {
    match args[0].as_str() {
        "log" => {
            if args.get(1).is_some_and(|a| a == "global") {
                return Err("'log global' is not allowed in the 'global' section".into());
            }
            g.targets.push(parse_target(args)?)
        }
        "log-tag" => {
            g.tag = Some(need(args, 1, "a tag")?.to_string());
            only(args, 2)?;
        }
        "log-send-hostname" => {
            g.send_hostname = Some(args.get(1).cloned().unwrap_or_default());
            only(args, 2)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A frontend's loggers and format, `log global` replaced by the global
/// targets; `warn` receives the note about `option httplog` in TCP mode.
pub(crate) fn resolve(
    d: &LogDraft,
    global: &GlobalLog,
    mode: Mode,
    warn: &mut dyn FnMut(String),
) -> Option<FrontendLog> {
    let targets = targets(d, global);
    if targets.is_empty() {
        return None;
    }
    let builtin = |s: &str| Some(LogFormat::parse(s).expect("built-in formats parse"));
    let src = match (&d.format, mode) {
        (None, _) => None,
        (Some(Fmt::Custom(f)), _) => Some(f.clone()),
        (Some(Fmt::Tcp), _) => builtin(TCPLOG),
        (Some(Fmt::Http), Mode::Http) => builtin(HTTPLOG),
        (Some(Fmt::Https), Mode::Http) => builtin(HTTPSLOG),
        (Some(f @ (Fmt::Http | Fmt::Https)), Mode::Tcp) => {
            let name = if *f == Fmt::Http {
                "httplog"
            } else {
                "httpslog"
            };
            warn(format!(
                "'option {name}' not usable with a TCP frontend: using 'option tcplog' instead"
            ));
            builtin(TCPLOG)
        }
    };
    Some(FrontendLog {
        targets,
        format: src,
        sd: d.sd.clone(),
        dontlognull: d.dontlognull,
        separate_errors: d.separate_errors,
        dontlog_normal: d.dontlog_normal,
        logasap: d.logasap,
    })
}

/// The targets of a section, `log global` expanded.
pub(crate) fn targets(d: &LogDraft, global: &GlobalLog) -> Vec<LogTarget> {
    d.entries
        .iter()
        .flat_map(|e| match e {
            Entry::Global => global.targets.clone(),
            Entry::Target(t) => vec![t.clone()],
        })
        .collect()
}

/// `log ADDRESS [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]`.
fn parse_target(args: &[String]) -> Result<LogTarget, String> {
    let addr = parse_addr(need(args, 1, "an address, 'global', and a facility")?)?;
    let mut t = LogTarget {
        addr,
        len: 1024,
        format: SyslogFormat::Local,
        facility: 0,
        level: 7,
        minlevel: 0,
        sample: None,
    };
    let mut i = 2;
    loop {
        match args.get(i).map(String::as_str) {
            Some("len") => {
                let v = need(args, i + 1, "a length")?;
                t.len = super::values::parse_int("'log ... len'", v, 80, 65535)? as usize;
                i += 2;
            }
            Some("format") => {
                t.format = match need(args, i + 1, "a format")? {
                    "local" => SyslogFormat::Local,
                    "rfc3164" => SyslogFormat::Rfc3164,
                    "rfc5424" => SyslogFormat::Rfc5424,
                    "priority" => SyslogFormat::Priority,
                    "short" => SyslogFormat::Short,
                    "timed" => SyslogFormat::Timed,
                    "iso" => SyslogFormat::Iso,
                    "raw" => SyslogFormat::Raw,
                    f => {
                        return Err(format!(
                            "unknown log format '{f}' (expected local, rfc3164, rfc5424, priority, short, timed, iso or raw)"
                        ))
                    }
                };
                i += 2;
            }
            Some("sample") => {
                t.sample = Some(parse_sample(need(args, i + 1, "RANGES:SIZE")?)?);
                i += 2;
            }
            Some(kw @ "profile") => return Err(format!("'log ... {kw}' is not supported yet")),
            _ => break,
        }
    }
    let fac = need(args, i, "a facility (kern, user, ... local0 to local7)")?;
    t.facility = FACILITIES
        .iter()
        .position(|f| *f == fac)
        .ok_or_else(|| format!("unknown log facility '{fac}'"))? as u8;
    if let Some(l) = args.get(i + 1) {
        t.level = level(l)?;
    }
    if let Some(l) = args.get(i + 2) {
        t.minlevel = level(l)?;
    }
    only(args, i + 3)?;
    Ok(t)
}

/// `sample RANGES:SIZE`: ranges `N` or `N-M` (from 1) separated by commas,
/// none past SIZE.
fn parse_sample(v: &str) -> Result<crate::log::LogSample, String> {
    let bad = |why: &str| format!("'log ... sample {v}': {why}");
    let (ranges, size) = v
        .rsplit_once(':')
        .ok_or_else(|| bad("expected RANGES:SIZE"))?;
    let num = |s: &str| -> Result<u64, String> {
        s.parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad(&format!("'{s}' is not a number above 0")))
    };
    let size = num(size)?;
    let mut list = Vec::new();
    for r in ranges.split(',') {
        let (lo, hi) = match r.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(r)?, num(r)?),
        };
        if lo > hi {
            return Err(bad(&format!("range '{r}' ends before it starts")));
        }
        if hi > size {
            return Err(bad(&format!(
                "range '{r}' goes past the sample size {size}"
            )));
        }
        list.push((lo, hi));
    }
    Ok(crate::log::LogSample {
        ranges: list,
        size,
        seen: Default::default(),
    })
}

fn level(l: &str) -> Result<u8, String> {
    LEVELS
        .iter()
        .position(|x| *x == l)
        .map(|p| p as u8)
        .ok_or_else(|| {
            format!("unknown log level '{l}' (expected emerg, alert, crit, err, warning, notice, info or debug)")
        })
}

/// IPv4[:port], [IPv6][:port], `udp@`/`ipv4@`/`ipv6@` prefixes, host names
/// (resolved now, as HAProxy does), `unix@PATH` or an absolute path.
fn parse_addr(a: &str) -> Result<LogAddr, String> {
    let a = &*super::values::env_expand(a);
    if let Some(p) = a.strip_prefix("unix@") {
        if p.is_empty() {
            return Err("'log unix@' expects a socket path".into());
        }
        return Ok(LogAddr::Unix(PathBuf::from(p)));
    }
    if a.starts_with('/') {
        return Ok(LogAddr::Unix(PathBuf::from(a)));
    }
    let unsupported = ["tcp@", "tcp4@", "tcp6@", "ring@", "abns@", "sockpair@"];
    match a {
        "stdout" => return Ok(LogAddr::Fd(1)),
        "stderr" => return Ok(LogAddr::Fd(2)),
        _ => {}
    }
    if let Some(n) = a.strip_prefix("fd@") {
        return n
            .parse::<i32>()
            .ok()
            .filter(|&n| n >= 0)
            .map(LogAddr::Fd)
            .ok_or_else(|| format!("invalid file descriptor in log address '{a}'"));
    }
    if unsupported.iter().any(|p| a.starts_with(p)) {
        return Err(format!("log address '{a}' is not supported yet"));
    }
    let rest = ["udp@", "udp4@", "udp6@", "ipv4@", "ipv6@"]
        .iter()
        .find_map(|p| a.strip_prefix(p))
        .unwrap_or(a);
    let bad = || format!("invalid log address '{a}'");
    // IPv6 in brackets, or bare (several colons: no port possible).
    let port_given = rest.contains(':');
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let (h, tail) = r.split_once(']').ok_or_else(bad)?;
        match tail {
            "" => (h, None),
            t => (h, Some(t.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else if rest.matches(':').count() > 1 {
        (rest, None)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    // HAProxy takes an empty port as the syslog port and an empty host as
    // 0.0.0.0 (what `log ${HOST}:${PORT}` gives with both unset).
    let port = match port.filter(|p| !p.is_empty()) {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("invalid port '{p}' in log address '{a}'"))?,
        None => 514,
    };
    let host = if host.is_empty() && port_given {
        "0.0.0.0"
    } else {
        host
    };
    if host.is_empty() {
        return Err(bad());
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(LogAddr::Udp(SocketAddr::new(ip, port)));
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(bad());
    }
    super::values::lookup(host, port)
        .ok()
        .and_then(|mut it| it.next())
        .map(LogAddr::Udp)
        .ok_or_else(|| format!("cannot resolve log address '{a}'"))
}
