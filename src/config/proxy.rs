//! Keywords of `defaults`, `frontend`, `backend` and `listen` sections
//! (manual §4): the dispatcher that hands each line to its keyword parser
//! (`server`, checks, HTTP, persistence, logs, stats), plus the few
//! keywords of its own (`mode`, `bind`, `balance`, `hash-type`, timeouts,
//! generic `option`s). Lines fill a [`Draft`] (see `draft.rs`).

use super::args::{need, only};
use super::draft::Draft;
use super::model::{Balance, Bind, HashFunction, HashMethod, HashType, LoadState, Mode, Origin};
use super::values;
use super::{checks, http, logs, persist, server};
use crate::http::format::{Format, Where};

/// The proxy keywords dispatched here (the others: `http::KEYWORDS`,
/// `persist::KEYWORDS`, `UNSUPPORTED`), for "did you mean".
const OWN: &[&str] = &[
    "balance",
    "bind",
    "clitimeout",
    "contimeout",
    "declare",
    "default-server",
    "default_backend",
    "description",
    "disabled",
    "enabled",
    "fullconn",
    "grace",
    "hash-type",
    "http-check",
    "load-server-state-from-file",
    "log",
    "log-format",
    "log-format-sd",
    "maxconn",
    "mode",
    "no",
    "option",
    "retries",
    "server",
    "server-state-file-name",
    "srvtimeout",
    "stats",
    "tcp-check",
    "timeout",
    "unique-id-format",
    "unique-id-header",
];

/// Known HAProxy proxy keywords that pollux does not implement yet.
const UNSUPPORTED: &[&str] = &[
    "backlog",
    "bind-process",
    "dispatch",
    "email-alert",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "error-log-format",
    "external-check",
    "guid",
    "hash-balance-factor",
    "hash-key",
    "hash-preserve-affinity",
    "http-reuse",
    "http-send-name-header",
    "id",
    "log-steps",
    "log-tag",
    "max-keep-alive-queue",
    "max-session-srv-conns",
    "monitor",
    "persist",
    "rate-limit",
    "retry-on",
    "server-template",
    "source",
    "tcp-response",
    "use-fcgi-app",
];

/// Known HAProxy `option`s that pollux does not implement yet.
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "accept-unsafe-violations-in-http-request",
    "accept-unsafe-violations-in-http-response",
    "checkcache",
    "contstats",
    "disable-h2-upgrade",
    "external-check",
    "forceclose",
    "forwarded",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "idle-close-on-response",
    "independent-streams",
    "nolinger",
    "prefer-last-server",
    "socket-stats",
    "splice-auto",
    "splice-request",
    "splice-response",
    "spop-check",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "transparent",
];

/// Parses one keyword line of a proxy or `defaults` section.
pub(crate) fn parse_keyword(d: &mut Draft, args: &[String], origin: &Origin) -> Result<(), String> {
    crate::http::fetch::counter::take_tables();
    crate::sample::conv::take_tables();
    let r = parse_line(d, args, origin);
    persist::note_counter_tables(d, origin);
    r
}

fn parse_line(d: &mut Draft, args: &[String], origin: &Origin) -> Result<(), String> {
    let kw = args[0].as_str();
    match kw {
        "mode" => {
            let mode = need(args, 1, "'tcp' or 'http'")?;
            only(args, 2)?;
            match mode {
                "tcp" => d.mode = Mode::Tcp,
                "http" => d.mode = Mode::Http,
                "health" => return Err("'mode health' is not supported yet".into()),
                _ => return Err(format!("'mode' expects 'tcp' or 'http', got '{mode}'")),
            }
        }
        "bind" => {
            d.allow(kw, true, false, false)?;
            d.bind_seen = true;
            parse_bind(d, args, origin)?;
        }
        "maxconn" => {
            d.allow(kw, true, false, true)?;
            let n = values::parse_int(
                "'maxconn'",
                need(args, 1, "an integer")?,
                0,
                u32::MAX.into(),
            )?;
            only(args, 2)?;
            // maxconn 0 means no per-frontend limit, as in HAProxy.
            d.maxconn = (n > 0).then_some(n as u32);
        }
        "default_backend" => {
            d.allow(kw, true, false, true)?;
            let name = need(args, 1, "a backend name")?;
            only(args, 2)?;
            d.default_backend = Some((name.to_string(), origin.clone()));
        }
        "server" => {
            d.allow(kw, false, true, false)?;
            server::parse_server(d, args, origin)?;
        }
        "default-server" => {
            d.allow(kw, false, true, true)?;
            server::parse_default_server(d, args)?;
        }
        "http-check" | "tcp-check" => checks::parse_keyword(d, args)?,
        "balance" => {
            d.allow(kw, false, true, true)?;
            d.balance = parse_balance(args)?;
        }
        "hash-type" => {
            d.allow(kw, false, true, true)?;
            d.hash_type = parse_hash_type(args)?;
        }
        "timeout" => parse_timeout(d, args, 1)?,
        // Pre-1.5 spellings of `timeout connect|client|server`.
        "contimeout" | "clitimeout" | "srvtimeout" => parse_timeout(d, args, 0)?,
        "grace" => {
            d.allow(kw, true, false, true)?;
            d.grace = Some(values::parse_time("'grace'", need(args, 1, "a time")?)?);
            only(args, 2)?;
        }
        "retries" => {
            d.allow(kw, false, true, true)?;
            let n = values::parse_int(
                "'retries'",
                need(args, 1, "an integer")?,
                0,
                u32::MAX.into(),
            )?;
            only(args, 2)?;
            d.retries = n as u32;
        }
        "load-server-state-from-file" => {
            d.allow(kw, false, true, true)?;
            d.load_state = match need(args, 1, "'global', 'local' or 'none'")? {
                "global" => LoadState::Global,
                "local" => LoadState::Local,
                "none" => LoadState::None,
                v => {
                    return Err(format!(
                    "'load-server-state-from-file' expects 'global', 'local' or 'none', got '{v}'"
                ))
                }
            };
            only(args, 2)?;
        }
        "server-state-file-name" => {
            d.allow(kw, false, true, true)?;
            d.state_file_name =
                Some(need(args, 1, "a file name or 'use-backend-name'")?.to_string());
            only(args, 2)?;
        }
        "fullconn" => {
            d.allow(kw, false, true, true)?;
            let n = values::parse_int(
                "'fullconn'",
                need(args, 1, "an integer")?,
                1,
                u32::MAX.into(),
            )?;
            only(args, 2)?;
            d.fullconn = Some(n as u32);
        }
        "option" => parse_option(d, args, 1, true)?,
        "no" if args.get(1).map(String::as_str) == Some("option") => {
            parse_option(d, args, 2, false)?
        }
        "no" if args.get(1).map(String::as_str) == Some("log") => logs::no_log(&mut d.log, args)?,
        "log-format" | "log-format-sd" => {
            d.allow(kw, true, false, true)?;
            logs::parse_keyword(&mut d.log, args)?
        }
        "log" => logs::parse_keyword(&mut d.log, args)?,
        "declare" => {
            d.allow(kw, true, false, false)?;
            http::declare_capture(d, args)?;
        }
        "unique-id-format" => {
            d.allow(kw, true, false, true)?;
            let f = need(args, 1, "a format string")?;
            only(args, 2)?;
            let f = Format::parse_in(f, Where::UniqueId)?;
            // An empty format: no id (HAProxy).
            d.fe_rules.unique_id_format = (f.as_literal() != Some("")).then_some(f);
        }
        "unique-id-header" => {
            d.allow(kw, true, false, true)?;
            let name = need(args, 1, "a header name")?;
            only(args, 2)?;
            d.fe_rules.unique_id_header = Some(name.to_string());
        }
        "disabled" | "enabled" => {
            only(args, 1)?;
            d.disabled = kw == "disabled";
        }
        "description" => {
            d.allow(kw, false, false, false)?;
            // Informational only (HAProxy shows it on its stats page).
            need(args, 1, "a text")?;
        }
        "stats" => super::stats::parse_keyword(d, args, origin)?,
        _ if http::KEYWORDS.contains(&kw) => {
            http::parse_keyword(d, args, origin)?;
            persist::note_track(d, args, origin);
        }
        _ if persist::KEYWORDS.contains(&kw) => persist::parse_keyword(d, args, origin)?,
        _ if UNSUPPORTED.contains(&kw) => return Err(format!("'{kw}' is not supported yet")),
        _ => {
            let known = [OWN, http::KEYWORDS, persist::KEYWORDS, UNSUPPORTED];
            return Err(format!(
                "unknown keyword '{kw}' in '{}' section{}",
                d.kind.name(),
                super::suggest::hint(kw, known.iter().flat_map(|l| l.iter().copied()))
            ));
        }
    }
    Ok(())
}

fn parse_bind(d: &mut Draft, args: &[String], origin: &Origin) -> Result<(), String> {
    let list = need(args, 1, "an address like ':80' or '127.0.0.1:8000-8010'")?;
    let mut b = Bind {
        origin: origin.clone(),
        ..Bind::default()
    };
    for one in list.split(',') {
        b.addrs.extend(values::parse_bind_addr(one)?);
    }
    super::bind::parse_options(&mut b, &args[2..])?;
    if b.id.is_some() && b.addrs.len() > 1 {
        return Err(format!(
            "bind '{list}': 'id' can only be used with a single socket"
        ));
    }
    if let Some(other) = d.binds.iter().find(|o| b.id.is_some() && o.id == b.id) {
        return Err(format!(
            "bind '{list}': custom id {} already used at {}:{}",
            b.id.unwrap_or(0),
            other.origin.file,
            other.origin.line
        ));
    }
    d.binds.push(b);
    Ok(())
}

/// `NAME(ARG)` → `Some(ARG)`; `NAME` → `None`; anything else is an error.
fn paren_arg<'a>(algo: &'a str, name: &str) -> Result<Option<&'a str>, String> {
    let rest = &algo[name.len()..];
    if rest.is_empty() {
        return Ok(None);
    }
    match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(arg) if !arg.is_empty() => Ok(Some(arg)),
        _ => Err(format!(
            "'balance {algo}': expected '{name}' or '{name}(ARG)'"
        )),
    }
}

fn parse_balance(args: &[String]) -> Result<Balance, String> {
    let algo = need(
        args,
        1,
        "an algorithm (roundrobin, static-rr, leastconn, first, source, uri, url_param, \
         hdr(NAME), random, rdp-cookie, response-time)",
    )?;
    let balance = match algo {
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "response-time" => Balance::ResponseTime,
        "uri" => return parse_balance_uri(args),
        "url_param" => {
            let name = need(args, 2, "a parameter name")?;
            if let Some(opt) = args.get(3) {
                if opt == "check_post" {
                    return Err(
                        "'balance url_param' option 'check_post' is not supported yet".into(),
                    );
                }
            }
            only(args, 3)?;
            return Ok(Balance::UrlParam {
                name: name.to_string(),
                check_post: None,
            });
        }
        _ if algo.starts_with("hdr") => {
            let Some(name) = paren_arg(algo, "hdr")? else {
                return Err("'balance hdr' expects a header name: 'hdr(NAME)'".into());
            };
            let use_domain_only = match args.get(2).map(String::as_str) {
                Some("use_domain_only") => true,
                Some(other) => {
                    return Err(format!(
                        "unexpected argument '{other}' after 'balance {algo}' (expected use_domain_only)"
                    ))
                }
                None => false,
            };
            only(args, 2 + usize::from(use_domain_only))?;
            return Ok(Balance::Hdr {
                name: name.to_string(),
                use_domain_only,
            });
        }
        _ if algo.starts_with("random") => {
            let draws = match paren_arg(algo, "random")? {
                None => 2,
                Some(n) => values::parse_int("'balance random'", n, 1, 100)? as u32,
            };
            Balance::Random { draws }
        }
        _ if algo.starts_with("rdp-cookie") => {
            let name = paren_arg(algo, "rdp-cookie")?.unwrap_or("mstshash");
            Balance::RdpCookie {
                name: name.to_string(),
            }
        }
        "hash" | "sticky" | "log-hash" => {
            return Err(format!("'balance {algo}' is not supported yet"))
        }
        _ => {
            return Err(format!(
                "unknown balance algorithm '{algo}' (expected roundrobin, static-rr, leastconn, \
                 first, source, uri, url_param, hdr(NAME), random, rdp-cookie or response-time)"
            ))
        }
    };
    only(args, 2)?;
    Ok(balance)
}

/// `balance uri [len N] [depth N] [whole] [path-only]`, options in any order.
fn parse_balance_uri(args: &[String]) -> Result<Balance, String> {
    let (mut len, mut depth, mut whole, mut path_only) = (None, None, false, false);
    let mut i = 2;
    while let Some(opt) = args.get(i) {
        match opt.as_str() {
            "len" | "depth" => {
                let v = need(args, i + 1, "an integer")?;
                let what = format!("'balance uri {opt}'");
                let n = values::parse_int(&what, v, 1, u32::MAX.into())? as usize;
                if opt == "len" {
                    len = Some(n);
                } else {
                    depth = Some(n);
                }
                i += 2;
            }
            "whole" => {
                whole = true;
                i += 1;
            }
            "path-only" => {
                path_only = true;
                i += 1;
            }
            _ => {
                return Err(format!(
                    "unknown 'balance uri' option '{opt}' (expected len, depth, whole or path-only)"
                ))
            }
        }
    }
    Ok(Balance::Uri {
        len,
        depth,
        whole,
        path_only,
    })
}

/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32] [avalanche]`
/// (pollux also takes the modifier without a function: sdbm).
fn parse_hash_type(args: &[String]) -> Result<HashType, String> {
    let method = match need(args, 1, "a method (map-based or consistent)")? {
        "map-based" => HashMethod::Map,
        "consistent" => HashMethod::Consistent,
        other => {
            return Err(format!(
                "unknown hash-type method '{other}' (expected map-based or consistent)"
            ))
        }
    };
    // HAProxy 2.6 (cfgparse-listen.c): a bare `consistent` is `consistent
    // sdbm avalanche`; a named function has no avalanche unless asked.
    let mut ht = HashType {
        method,
        function: HashFunction::Sdbm,
        avalanche: method == HashMethod::Consistent && args.len() == 2,
    };
    let mut i = 2;
    if let Some(f) = args.get(i) {
        let function = match f.as_str() {
            "sdbm" => Some(HashFunction::Sdbm),
            "djb2" => Some(HashFunction::Djb2),
            "wt6" => Some(HashFunction::Wt6),
            "crc32" => Some(HashFunction::Crc32),
            "none" => return Err("'hash-type' function 'none' is not supported yet".into()),
            "avalanche" => None,
            other => {
                return Err(format!(
                    "unknown hash-type function '{other}' (expected sdbm, djb2, wt6 or crc32)"
                ))
            }
        };
        if let Some(function) = function {
            ht.function = function;
            i += 1;
        }
    }
    if args.get(i).is_some_and(|m| m == "avalanche") {
        ht.avalanche = true;
        i += 1;
    }
    only(args, i)?;
    Ok(ht)
}

/// `timeout NAME VALUE` (`at` = 1) or the old `contimeout VALUE` (`at` = 0).
fn parse_timeout(d: &mut Draft, args: &[String], at: usize) -> Result<(), String> {
    let which = if at == 0 {
        match args[0].as_str() {
            "contimeout" => "connect",
            "clitimeout" => "client",
            _ => "server",
        }
    } else {
        need(
            args,
            1,
            "a timeout name (connect, client, server, queue, tunnel, http-request, http-keep-alive, tarpit, check) and a value",
        )?
    };
    let kw = format!("timeout {which}");
    let (fe, be) = match which {
        "client" => (true, false),
        "connect" | "server" | "queue" | "tunnel" | "check" => (false, true),
        "http-request" | "http-keep-alive" | "tarpit" => (false, false),
        "client-fin" | "server-fin" | "client-hs" => return Err(format!("'{kw}' is not supported yet")),
        _ => {
            return Err(format!(
                "unknown timeout '{which}' (expected connect, client, server, queue, tunnel, http-request, http-keep-alive, tarpit or check)"
            ))
        }
    };
    if d.ignored(&kw, fe, be) {
        return Ok(());
    }
    let value = args
        .get(at + 1)
        .ok_or_else(|| format!("'{kw}' expects a time value like '5s'"))?;
    only(args, at + 2)?;
    let t = values::parse_time(&format!("'{kw}'"), value)?;
    // A zero timeout means no timeout, as in HAProxy.
    let t = (!t.is_zero()).then_some(t);
    let slot = match which {
        "client" => &mut d.timeouts.client,
        "connect" => &mut d.timeouts.connect,
        "server" => &mut d.timeouts.server,
        "queue" => &mut d.timeouts.queue,
        "http-request" => &mut d.timeouts.http_request,
        "http-keep-alive" => &mut d.timeouts.http_keep_alive,
        "tarpit" => &mut d.timeouts.tarpit,
        "check" => &mut d.timeouts.check,
        _ => &mut d.timeouts.tunnel,
    };
    *slot = t;
    Ok(())
}

/// `option NAME` or `no option NAME`; `at` is the index of NAME.
fn parse_option(d: &mut Draft, args: &[String], at: usize, on: bool) -> Result<(), String> {
    let name = need(args, at, "an option name")?;
    let kw = format!("option {name}");
    match name {
        "abortonclose" => {
            only(args, at + 1)?;
            if d.ignored(&kw, false, true) {
                return Ok(());
            }
            d.abortonclose = on;
        }
        "redispatch" => {
            only(args, at + 1)?;
            if d.ignored(&kw, false, true) {
                return Ok(());
            }
            d.redispatch = on;
        }
        "clitcpka" => {
            only(args, at + 1)?;
            if d.ignored(&kw, true, false) {
                return Ok(());
            }
            d.clitcpka = on;
        }
        "srvtcpka" => {
            only(args, at + 1)?;
            if d.ignored(&kw, false, true) {
                return Ok(());
            }
            d.srvtcpka = on;
        }
        // Both sides, where the section has them.
        "tcpka" => {
            only(args, at + 1)?;
            if d.kind.fe() {
                d.clitcpka = on;
            }
            if d.kind.be() {
                d.srvtcpka = on;
            }
        }
        _ if logs::parse_option(&mut d.log, args, at, on)? => {}
        _ if checks::parse_option(d, args, at, on)? => {}
        _ if http::parse_option(d, args, at, on)? => {}
        _ if persist::parse_option(d, args, at, on)? => {}
        _ if name.starts_with("http") || UNSUPPORTED_OPTIONS.contains(&name) => {
            return Err(format!("'{kw}' is not supported yet"))
        }
        _ => {
            return Err(format!(
                "unknown option '{name}'{}",
                super::suggest::hint(name, OPTIONS.iter().chain(UNSUPPORTED_OPTIONS).copied())
            ))
        }
    }
    Ok(())
}

/// The options pollux has, for "did you mean" (with `UNSUPPORTED_OPTIONS`).
const OPTIONS: &[&str] = &[
    "abortonclose",
    "allbackups",
    "checkcache",
    "dontlog-normal",
    "dontlognull",
    "forwardfor",
    "http-buffer-request",
    "http-ignore-probes",
    "http-keep-alive",
    "http-server-close",
    "httpchk",
    "httpclose",
    "httplog",
    "httpslog",
    "ldap-check",
    "log-separate-errors",
    "logasap",
    "mysql-check",
    "originalto",
    "persist",
    "pgsql-check",
    "redis-check",
    "redispatch",
    "smtpchk",
    "ssl-hello-chk",
    "tcp-check",
    "tcpka",
    "tcplog",
    "clitcpka",
    "srvtcpka",
    "log-health-checks",
];
