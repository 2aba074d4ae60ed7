//! Health-check keywords: the check options of `server` and
//! `default-server` (manual §5.2: `check`, `inter`, `fastinter`,
//! `downinter`, `rise`, `fall`, `port`, `addr`, `slowstart`, `observe`,
//! `error-limit`, `on-error`, `check-ssl`, `check-sni`) and the backend's
//! method (`option httpchk`, `http-check`, `option tcp-check`, `tcp-check`,
//! `option ssl-hello-chk`, `option redis-check`, `option smtpchk`,
//! `option pgsql-check`, `option ldap-check`, `option mysql-check`,
//! `option allbackups`, `option log-health-checks`).
//! The state machine that runs the checks is `crate::proxy::checks`.

use std::net::IpAddr;
use std::time::Duration;

use super::args::{need, only, value};
use super::draft::{Draft, Method, ServerOpts};
use super::model::{
    HttpCheck, HttpExpect, HttpMatch, Observe, OnError, ProtoCheck, TcpCheckStep, TcpMatch,
};
use super::values;
use crate::http::acl::Re;

/// A strictly positive delay (`inter 0` makes no sense).
fn delay(what: &str, s: &str) -> Result<Duration, String> {
    let t = values::parse_time(what, s)?;
    if t.is_zero() {
        return Err(format!("{what} expects a delay > 0, got '{s}'"));
    }
    Ok(t)
}

/// One health-check option of a `server` or `default-server` line; `opt`
/// was just read and `args[*i]` is its value, if it takes one. Ok(false):
/// not a check option.
pub(crate) fn server_option(
    o: &mut ServerOpts,
    opt: &str,
    args: &[String],
    i: &mut usize,
) -> Result<bool, String> {
    let what = format!("server option '{opt}'");
    let c = &mut o.c;
    match opt {
        "check" => o.check = true,
        "no-check" => o.check = false,
        "check-ssl" => c.ssl = Some(true),
        "no-check-ssl" => c.ssl = Some(false),
        "check-sni" => c.sni = Some(value(args, i, &what, "a host name")?.to_string()),
        "check-alpn" => {
            let v = value(args, i, &what, "a protocol list")?;
            c.alpn = Some(v.split(',').map(str::to_string).collect());
        }
        "inter" | "fastinter" | "downinter" | "slowstart" => {
            let t = value(args, i, &what, "a time value like '2s'")?;
            match opt {
                "inter" => c.inter = delay(&what, t)?,
                "fastinter" => {
                    c.fastinter = delay(&what, t)?;
                    o.fastinter_set = true;
                }
                "downinter" => {
                    c.downinter = delay(&what, t)?;
                    o.downinter_set = true;
                }
                // `slowstart 0` means no slow start.
                _ => c.slowstart = Some(values::parse_time(&what, t)?).filter(|t| !t.is_zero()),
            }
        }
        "rise" | "fall" | "error-limit" => {
            let v = value(args, i, &what, "an integer")?;
            let n = values::parse_int(&what, v, 1, i32::MAX as u64)? as u32;
            match opt {
                "rise" => c.rise = n,
                "fall" => c.fall = n,
                _ => c.error_limit = n,
            }
        }
        "port" => {
            let v = value(args, i, &what, "a port number")?;
            c.port = Some(values::parse_int(&what, v, 1, u16::MAX.into())? as u16);
        }
        "addr" => {
            let v = value(args, i, &what, "an IP address")?;
            let ip = v
                .parse::<IpAddr>()
                .map_err(|_| format!("{what} expects an IP address, got '{v}'"))?;
            c.addr = Some(ip);
        }
        "observe" => {
            let v = value(args, i, &what, "'layer4' or 'layer7'")?;
            c.observe = Some(match v {
                "layer4" => Observe::Layer4,
                "layer7" => Observe::Layer7,
                _ => return Err(format!("{what} expects 'layer4' or 'layer7', got '{v}'")),
            });
        }
        "on-error" => {
            let expected = "'fastinter', 'fail-check', 'sudden-death' or 'mark-down'";
            let v = value(args, i, &what, expected)?;
            c.on_error = match v {
                "fastinter" => OnError::FastInter,
                "fail-check" => OnError::FailCheck,
                "sudden-death" => OnError::SuddenDeath,
                "mark-down" => OnError::MarkDown,
                _ => return Err(format!("{what} expects {expected}, got '{v}'")),
            };
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `option httpchk|tcp-check|allbackups` (or `no option ...`); Ok(false):
/// not a health-check option.
pub(crate) fn parse_option(
    d: &mut Draft,
    args: &[String],
    at: usize,
    on: bool,
) -> Result<bool, String> {
    let name = args[at].as_str();
    const NAMES: &[&str] = &[
        "httpchk",
        "tcp-check",
        "allbackups",
        "ssl-hello-chk",
        "log-health-checks",
        "redis-check",
        "smtpchk",
        "pgsql-check",
        "ldap-check",
        "mysql-check",
    ];
    if !NAMES.contains(&name) {
        return Ok(false);
    }
    const PROTOS: &[&str] = &[
        "redis-check",
        "smtpchk",
        "pgsql-check",
        "ldap-check",
        "mysql-check",
    ];
    if !on && PROTOS.contains(&name) {
        return Err(format!(
            "negation/default is not supported for option '{name}'"
        ));
    }
    if !["httpchk", "smtpchk", "pgsql-check", "mysql-check"].contains(&name) || !on {
        only(args, at + 1)?;
    }
    if d.ignored(&format!("option {name}"), false, true) {
        return Ok(true);
    }
    let h = &mut d.health;
    match (name, on) {
        ("allbackups", _) => h.all_backups = on,
        ("log-health-checks", _) => h.log_checks = on,
        (_, false) => h.method = Method::Tcp,
        ("tcp-check", true) => h.method = Method::Script,
        ("ssl-hello-chk", true) => h.method = Method::SslHello,
        ("redis-check" | "ldap-check", true) => {
            h.proto = Some(if name == "redis-check" {
                ProtoCheck::Redis
            } else {
                ProtoCheck::Ldap
            });
            h.method = Method::Proto;
        }
        ("smtpchk", true) => {
            only(args, at + 3)?;
            // HAProxy: `EHLO|HELO domain`, anything else the default.
            let hello = match &args[at + 1..] {
                [verb, domain] if verb == "EHLO" || verb == "HELO" => format!("{verb} {domain}"),
                _ => "HELO localhost".to_string(),
            };
            h.proto = Some(ProtoCheck::Smtp { hello });
            h.method = Method::Proto;
        }
        ("mysql-check", true) => {
            only(args, at + 4)?;
            let user = match &args[at + 1..] {
                [] => None,
                [kw, user, rest @ ..] if kw == "user" => {
                    let post41 = match rest {
                        [] => true,
                        [v] if v == "post-41" => true,
                        [v] if v == "pre-41" => false,
                        [v] => {
                            return Err(format!(
                                "'option mysql-check user {user}' expects 'post-41' or 'pre-41', got '{v}'"
                            ))
                        }
                        _ => unreachable!("at most 3 arguments"),
                    };
                    Some((user.clone(), post41))
                }
                _ => return Err(
                    "'option mysql-check' expects nothing or 'user <username> [post-41|pre-41]'"
                        .into(),
                ),
            };
            h.proto = Some(ProtoCheck::Mysql { user });
            h.method = Method::Proto;
        }
        ("pgsql-check", true) => {
            only(args, at + 3)?;
            let user = match &args[at + 1..] {
                [kw, user] if kw == "user" => user.clone(),
                _ => return Err("'option pgsql-check' expects 'user <username>'".into()),
            };
            h.proto = Some(ProtoCheck::Pgsql { user });
            h.method = Method::Proto;
        }
        _ => {
            // HAProxy: `URI`, `METHOD URI` or `METHOD URI VERSION`.
            let rest = &args[at + 1..];
            only(args, at + 4)?;
            let mut http = HttpCheck {
                headers: std::mem::take(&mut h.http.headers),
                ..HttpCheck::default()
            };
            match rest {
                [] => {}
                [uri] => http.uri = uri.clone(),
                [method, uri, ver @ ..] => {
                    http.method = method.clone();
                    http.uri = uri.clone();
                    if let [ver] = ver {
                        http.version = ver.clone();
                    }
                }
            }
            h.http = http;
            h.method = Method::Http;
        }
    }
    Ok(true)
}

/// `http-check ...` and `tcp-check ...` lines.
pub(crate) fn parse_keyword(d: &mut Draft, args: &[String]) -> Result<(), String> {
    let kw = args[0].as_str();
    let sub = need(args, 1, "an action")?;
    if d.ignored(&format!("{kw} {sub}"), false, true) {
        return Ok(());
    }
    if kw == "http-check" {
        http_check(d, args, sub)
    } else {
        tcp_check(d, args, sub)
    }
}

fn http_check(d: &mut Draft, args: &[String], sub: &str) -> Result<(), String> {
    match sub {
        "expect" => {
            if d.health.expect.is_some() {
                return Err("several 'http-check expect' rules are not supported yet".into());
            }
            let (negate, kind, v) = expect_args(args)?;
            let what = match kind {
                "status" => HttpMatch::Status(status_list(v)?),
                "rstatus" => HttpMatch::Rstatus(Re::new(v, false)?),
                "string" => HttpMatch::String(v.to_string()),
                "rstring" => HttpMatch::Rstring(Re::new(v, false)?),
                _ if kind == "hdr" || kind == "fhdr" || EXPECT_OPTIONS.contains(&kind) => {
                    return Err(format!("'http-check expect {kind}' is not supported yet"))
                }
                _ => {
                    return Err(format!(
                        "'http-check expect' expects 'status', 'rstatus', 'string' or 'rstring', got '{kind}'"
                    ))
                }
            };
            d.health.expect = Some(HttpExpect { negate, what });
        }
        "send" => {
            let http = &mut d.health.http;
            let mut i = 2;
            while let Some(opt) = args.get(i) {
                let opt = opt.as_str();
                let what = format!("'http-check send {opt}'");
                let v = args
                    .get(i + 1)
                    .ok_or_else(|| format!("{what} expects a value"))?
                    .clone();
                i += 2;
                match opt {
                    "meth" => http.method = v,
                    "uri" => http.uri = v,
                    "ver" => http.version = v,
                    "hdr" => {
                        let value = args
                            .get(i)
                            .ok_or_else(|| format!("{what} expects a name and a value"))?;
                        i += 1;
                        http.headers.push((v, value.clone()));
                    }
                    "body" | "body-lf" | "uri-lf" | "comment" => {
                        return Err(format!("{what} is not supported yet"))
                    }
                    _ => return Err(format!("unknown 'http-check send' option '{opt}'")),
                }
            }
        }
        "disable-on-404" | "send-state" | "connect" | "comment" | "set-var" | "unset-var" => {
            return Err(format!("'http-check {sub}' is not supported yet"))
        }
        _ => return Err(format!("unknown 'http-check' action '{sub}'")),
    }
    Ok(())
}

fn tcp_check(d: &mut Draft, args: &[String], sub: &str) -> Result<(), String> {
    let step = match sub {
        "connect" => {
            let (mut port, mut default, mut ssl, mut sni) = (None, false, false, None);
            let mut i = 2;
            while let Some(opt) = args.get(i).map(String::as_str) {
                i += 1;
                match opt {
                    "port" => {
                        let v = need(args, i, "a port number")?;
                        i += 1;
                        let p =
                            values::parse_int("'tcp-check connect port'", v, 1, u16::MAX.into())?;
                        port = Some(p as u16);
                    }
                    "default" => default = true,
                    "ssl" => ssl = true,
                    "sni" => {
                        sni = Some(need(args, i, "a host name")?.to_string());
                        i += 1;
                    }
                    "addr" | "alpn" | "send-proxy" | "via-socks4" | "linger" | "proto"
                    | "comment" => {
                        return Err(format!("'tcp-check connect {opt}' is not supported yet"))
                    }
                    _ => return Err(format!("unknown 'tcp-check connect' option '{opt}'")),
                }
            }
            // HAProxy: with a `connect` rule, the first rule must be one.
            if !d.health.steps.is_empty()
                && !matches!(d.health.steps[0], TcpCheckStep::Connect { .. })
            {
                return Err("a 'tcp-check connect' rule must come first when there is one".into());
            }
            TcpCheckStep::Connect {
                port,
                default,
                ssl,
                sni,
            }
        }
        "send" => {
            let v = need(args, 2, "a string")?;
            only(args, 3)?;
            TcpCheckStep::Send(v.as_bytes().to_vec())
        }
        "send-binary" => {
            let v = need(args, 2, "hexadecimal digits")?;
            only(args, 3)?;
            TcpCheckStep::Send(hex("'tcp-check send-binary'", v)?)
        }
        "expect" => {
            let (negate, kind, v) = expect_args(args)?;
            let what = match kind {
                "string" => TcpMatch::Bytes(v.as_bytes().to_vec()),
                "binary" => TcpMatch::Bytes(hex("'tcp-check expect binary'", v)?),
                "rstring" => TcpMatch::Rstring(Re::new(v, false)?),
                "rbinary" | "string-lf" | "binary-lf" => {
                    return Err(format!("'tcp-check expect {kind}' is not supported yet"))
                }
                _ if EXPECT_OPTIONS.contains(&kind) => {
                    return Err(format!("'tcp-check expect {kind}' is not supported yet"))
                }
                _ => {
                    return Err(format!(
                        "'tcp-check expect' expects 'string', 'rstring' or 'binary', got '{kind}'"
                    ))
                }
            };
            TcpCheckStep::Expect { negate, what }
        }
        "comment" | "set-var" | "unset-var" | "send-lf" | "send-binary-lf" => {
            return Err(format!("'tcp-check {sub}' is not supported yet"))
        }
        _ => return Err(format!("unknown 'tcp-check' action '{sub}'")),
    };
    d.health.steps.push(step);
    Ok(())
}

/// Words of `http-check expect` and `tcp-check expect` that pollux does not
/// support yet.
const EXPECT_OPTIONS: &[&str] = &[
    "min-recv",
    "comment",
    "ok-status",
    "error-status",
    "tout-status",
    "on-success",
    "on-error",
    "status-code",
];

/// `expect [!] KIND VALUE` from index 2: (negate, KIND, VALUE).
fn expect_args(args: &[String]) -> Result<(bool, &str, &str), String> {
    let negate = args.get(2).is_some_and(|a| a == "!");
    let at = if negate { 3 } else { 2 };
    let kind = need(args, at, "a match type and a pattern")?;
    if EXPECT_OPTIONS.contains(&kind) || kind == "hdr" || kind == "fhdr" {
        // HAProxy 2.2+ options, before the match type: the caller reports them.
        return Ok((negate, kind, ""));
    }
    let v = need(args, at + 1, "a pattern")?;
    only(args, at + 2)?;
    Ok((negate, kind, v))
}

/// `200`, `200,201` or `200-299,304`.
fn status_list(s: &str) -> Result<Vec<(u16, u16)>, String> {
    let what = "'http-check expect status'";
    s.split(',')
        .map(|part| {
            let (lo, hi) = part.split_once('-').unwrap_or((part, part));
            let lo = values::parse_int(what, lo, 100, 999)? as u16;
            let hi = values::parse_int(what, hi, 100, 999)? as u16;
            if lo > hi {
                return Err(format!("{what}: empty range '{part}'"));
            }
            Ok((lo, hi))
        })
        .collect()
}

fn hex(what: &str, s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("{what} expects an even number of hexadecimal digits, got '{s}'");
    if s.is_empty() || s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::parser::Parser;
    use super::super::{Backend, CheckKind, Config, HealthConfig, ServerCheck};
    use super::*;

    fn load(text: &str) -> Result<Config, Vec<String>> {
        let mut p = Parser::new(&|_| None);
        p.parse_text("pollux.cfg", text);
        p.finish()
            .map(crate::config::without_timeout_notes)
            .map_err(|e| e.iter().map(|e| e.to_string()).collect())
    }

    fn backend(text: &str) -> Backend {
        match load(text) {
            Ok(mut c) => c.backends.remove(0),
            Err(e) => panic!("unexpected errors: {e:#?}"),
        }
    }

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Each row: config text and the one expected error (`FILE:LINE: fragment`).
    const ERRORS: &[(&str, &str)] = &[
        ("backend be\n  server s 127.0.0.1:80 check inter\n", "pollux.cfg:2: server option 'inter' expects a time value"),
        ("backend be\n  server s 127.0.0.1:80 check inter 0\n", "pollux.cfg:2: server option 'inter' expects a delay > 0, got '0'"),
        ("backend be\n  server s 127.0.0.1:80 check fastinter 1x\n", "pollux.cfg:2: server option 'fastinter': invalid time '1x'"),
        ("backend be\n  server s 127.0.0.1:80 check rise 0\n", "pollux.cfg:2: server option 'rise': value '0' out of range"),
        ("backend be\n  server s 127.0.0.1:80 check fall x\n", "pollux.cfg:2: server option 'fall': expected an integer, got 'x'"),
        ("backend be\n  server s 127.0.0.1:80 check port 70000\n", "pollux.cfg:2: server option 'port': value '70000' out of range"),
        ("backend be\n  server s 127.0.0.1:80 check addr www\n", "pollux.cfg:2: server option 'addr' expects an IP address, got 'www'"),
        ("backend be\n  server s 127.0.0.1:80 check observe layer3\n", "pollux.cfg:2: server option 'observe' expects 'layer4' or 'layer7', got 'layer3'"),
        ("backend be\n  server s 127.0.0.1:80 check on-error die\n", "pollux.cfg:2: server option 'on-error' expects 'fastinter', 'fail-check', 'sudden-death' or 'mark-down', got 'die'"),
        ("backend be\n  server s 127.0.0.1:80 check error-limit 0\n", "pollux.cfg:2: server option 'error-limit': value '0' out of range"),
        ("backend be\n  server s 127.0.0.1:80 agent-check\n", "pollux.cfg:2: server option 'agent-check' is not supported yet"),
        ("backend be\n  default-server backup\n", "pollux.cfg:2: default-server option 'backup' is not supported yet"),
        ("backend be\n  default-server check-send-proxy\n", "pollux.cfg:2: default-server option 'check-send-proxy' is not supported yet"),
        ("backend be\n  server s 127.0.0.1:80 check check-sni\n", "pollux.cfg:2: server option 'check-sni' expects a host name"),
        ("backend be\n  default-server frob\n", "pollux.cfg:2: unknown default-server option 'frob'"),
        ("backend be\n  default-server weight 257\n", "pollux.cfg:2: default-server option 'weight': value '257' out of range"),
        ("frontend fe\n  bind :80\n  default-server check\n", "pollux.cfg:3: 'default-server' not allowed in 'frontend' section"),
        ("backend be\n  option httpchk GET / HTTP/1.1 extra\n", "pollux.cfg:2: unexpected argument 'extra'"),
        ("backend be\n  option tcp-check now\n", "pollux.cfg:2: unexpected argument 'now'"),
        ("backend be\n  http-check\n", "pollux.cfg:2: 'http-check' expects an action"),
        ("backend be\n  http-check expect\n", "pollux.cfg:2: 'http-check expect' expects a match type and a pattern"),
        ("backend be\n  http-check expect status\n", "pollux.cfg:2: 'http-check expect status' expects a pattern"),
        ("backend be\n  http-check expect status 2xx\n", "pollux.cfg:2: 'http-check expect status': expected an integer, got '2xx'"),
        ("backend be\n  http-check expect status 300-200\n", "pollux.cfg:2: 'http-check expect status': empty range '300-200'"),
        ("backend be\n  http-check expect rstring (\n", "pollux.cfg:2: invalid regex '('"),
        ("backend be\n  http-check expect body x\n", "pollux.cfg:2: 'http-check expect' expects 'status', 'rstatus', 'string' or 'rstring', got 'body'"),
        ("backend be\n  http-check expect hdr name x\n", "pollux.cfg:2: 'http-check expect hdr' is not supported yet"),
        ("backend be\n  http-check expect min-recv 10 string x\n", "pollux.cfg:2: 'http-check expect min-recv' is not supported yet"),
        ("backend be\n  http-check expect status 200\n  http-check expect string ok\n", "pollux.cfg:3: several 'http-check expect' rules are not supported yet"),
        ("backend be\n  http-check disable-on-404\n", "pollux.cfg:2: 'http-check disable-on-404' is not supported yet"),
        ("backend be\n  http-check send body x\n", "pollux.cfg:2: 'http-check send body' is not supported yet"),
        ("backend be\n  http-check send hdr Host\n", "pollux.cfg:2: 'http-check send hdr' expects a name and a value"),
        ("backend be\n  http-check frob\n", "pollux.cfg:2: unknown 'http-check' action 'frob'"),
        ("backend be\n  tcp-check connect port 0\n", "pollux.cfg:2: 'tcp-check connect port': value '0' out of range"),
        ("backend be\n  tcp-check connect ssl linger\n", "pollux.cfg:2: 'tcp-check connect linger' is not supported yet"),
        ("backend be\n  tcp-check connect ssl sni\n", "pollux.cfg:2: 'tcp-check connect ssl sni' expects a host name"),
        ("backend be\n  tcp-check connect tls\n", "pollux.cfg:2: unknown 'tcp-check connect' option 'tls'"),
        ("backend be\n  tcp-check send PING\n  tcp-check connect\n", "pollux.cfg:3: a 'tcp-check connect' rule must come first when there is one"),
        ("backend be\n  tcp-check send-binary 0g\n", "pollux.cfg:2: 'tcp-check send-binary' expects an even number of hexadecimal digits, got '0g'"),
        ("backend be\n  tcp-check expect binary abc\n", "pollux.cfg:2: 'tcp-check expect binary' expects an even number of hexadecimal digits, got 'abc'"),
        ("backend be\n  tcp-check expect rbinary 00\n", "pollux.cfg:2: 'tcp-check expect rbinary' is not supported yet"),
        ("backend be\n  tcp-check expect status 200\n", "pollux.cfg:2: 'tcp-check expect' expects 'string', 'rstring' or 'binary', got 'status'"),
        ("backend be\n  tcp-check set-var(check.x) int(1)\n", "pollux.cfg:2: unknown 'tcp-check' action 'set-var(check.x)'"),
        ("backend be\n  tcp-check comment hello\n", "pollux.cfg:2: 'tcp-check comment' is not supported yet"),
        ("backend be\n  tcp-check send\n", "pollux.cfg:2: 'tcp-check send' expects a string"),
        ("backend be\n  timeout check 5x\n", "pollux.cfg:2: 'timeout check': invalid time '5x'"),
        ("global\n  spread-checks 51\n", "pollux.cfg:2: 'spread-checks': value '51' out of range 0..50"),
        ("global\n  max-spread-checks 1s\n", "pollux.cfg:2: 'max-spread-checks' is not supported yet"),
        ("backend be\n  option mysql-check user\n", "pollux.cfg:2: 'option mysql-check' expects nothing or 'user <username> [post-41|pre-41]'"),
        ("backend be\n  option mysql-check user bob post-42\n", "pollux.cfg:2: 'option mysql-check user bob' expects 'post-41' or 'pre-41', got 'post-42'"),
        ("backend be\n  option mysql-check user bob post-41 x\n", "pollux.cfg:2: unexpected argument 'x'"),
        ("backend be\n  option ldap-check x\n", "pollux.cfg:2: unexpected argument 'x'"),
        ("backend be\n  option redis-check now\n", "pollux.cfg:2: unexpected argument 'now'"),
        ("backend be\n  option pgsql-check\n", "pollux.cfg:2: 'option pgsql-check' expects 'user <username>'"),
        ("backend be\n  option pgsql-check usr bob\n", "pollux.cfg:2: 'option pgsql-check' expects 'user <username>'"),
        ("backend be\n  no option smtpchk\n", "pollux.cfg:2: negation/default is not supported for option 'smtpchk'"),
        ("backend be\n  option smtpchk EHLO a.test more\n", "pollux.cfg:2: unexpected argument 'more'"),
    ];

    #[test]
    fn every_check_error_is_reported_at_its_file_and_line() {
        let mut failed = Vec::new();
        for (text, want) in ERRORS {
            match load(text) {
                Err(errors) if errors.len() == 1 && errors[0].starts_with(want) => {}
                other => failed.push(format!("{text}expected: {want}\ngot: {other:?}\n")),
            }
        }
        assert!(failed.is_empty(), "{}", failed.join("\n"));
    }

    #[test]
    fn server_without_check_has_none() {
        let be = backend("backend be\n  server s 127.0.0.1:80\n");
        assert_eq!(be.servers[0].check, None);
        assert_eq!(be.health, HealthConfig::default());
    }

    #[test]
    fn check_defaults_follow_haproxy() {
        let be = backend("backend be\n  server s 127.0.0.1:80 check\n");
        let c = be.servers[0].check.clone().unwrap();
        // (`ssl`: resolved from the server line, plain text here.)
        assert_eq!(
            c,
            ServerCheck {
                ssl: Some(false),
                ..ServerCheck::default()
            }
        );
        assert_eq!((c.inter, c.fastinter, c.downinter), (s(2), s(2), s(2)));
        assert_eq!((c.rise, c.fall, c.error_limit), (2, 3, 10));
        assert_eq!(c.on_error, OnError::FastInter);
    }

    #[test]
    fn every_server_check_option_reaches_the_model() {
        let be = backend(
            "backend be\n  server s 127.0.0.1:80 check inter 5s fastinter 1s downinter 10s rise 4 fall 1 port 8080 addr 10.0.0.1 slowstart 30s observe layer7 error-limit 5 on-error sudden-death check-ssl check-sni a.test check-alpn h2,http/1.1 verify none\n",
        );
        let c = be.servers[0].check.clone().unwrap();
        assert_eq!(
            c,
            ServerCheck {
                inter: s(5),
                fastinter: s(1),
                downinter: s(10),
                rise: 4,
                fall: 1,
                port: Some(8080),
                addr: Some("10.0.0.1".parse().unwrap()),
                slowstart: Some(s(30)),
                observe: Some(Observe::Layer7),
                error_limit: 5,
                on_error: OnError::SuddenDeath,
                ssl: Some(true),
                sni: Some("a.test".into()),
                alpn: Some(vec!["h2".into(), "http/1.1".into()]),
                alpn_ctx: c.alpn_ctx.clone(),
            }
        );
        assert!(c.alpn_ctx.is_some(), "check-alpn makes its TLS context");
    }

    #[test]
    fn checks_go_over_tls_as_haproxy_decides() {
        let over_tls = |line: &str| {
            let be = backend(&format!("backend be\n  {line}\n"));
            be.servers[0].check.as_ref().unwrap().ssl
        };
        let srv = "server s 127.0.0.1:443 check";
        assert_eq!(over_tls(&format!("{srv} ssl verify none")), Some(true));
        assert_eq!(
            over_tls(&format!("{srv} ssl verify none port 80")),
            Some(false)
        );
        assert_eq!(
            over_tls(&format!("{srv} ssl verify none addr 127.0.0.2")),
            Some(false)
        );
        assert_eq!(
            over_tls(&format!("{srv} ssl verify none no-check-ssl")),
            Some(false)
        );
        assert_eq!(
            over_tls(&format!("{srv} check-ssl verify none port 80")),
            Some(true)
        );
        assert_eq!(over_tls(srv), Some(false));
        // `default-server` options reach it too.
        let be = backend("backend be\n  default-server ssl verify none check-sni x.test\n  server s 127.0.0.1:443 check\n");
        let c = be.servers[0].check.as_ref().unwrap();
        assert_eq!((c.ssl, c.sni.as_deref()), (Some(true), Some("x.test")));
        assert!(!be.servers[0].ssl.enabled || be.servers[0].ssl.ctx.is_some());
    }

    #[test]
    fn option_ssl_hello_chk_is_a_check_kind() {
        let be = backend("backend be\n  option ssl-hello-chk\n  server s 127.0.0.1:443 check\n");
        assert_eq!(be.health.kind, CheckKind::SslHello);
        let be = backend("backend be\n  option ssl-hello-chk\n  no option ssl-hello-chk\n  server s 127.0.0.1:443 check\n");
        assert_eq!(be.health.kind, CheckKind::Tcp);
    }

    #[test]
    fn protocol_checks_are_check_kinds() {
        let kind = |line: &str| backend(&format!("backend be\n  {line}\n")).health.kind;
        let smtp = |h: &str| CheckKind::Proto(ProtoCheck::Smtp { hello: h.into() });
        assert_eq!(
            kind("option redis-check"),
            CheckKind::Proto(ProtoCheck::Redis)
        );
        assert_eq!(kind("option smtpchk"), smtp("HELO localhost"));
        assert_eq!(kind("option smtpchk EHLO a.test"), smtp("EHLO a.test"));
        // HAProxy: anything but EHLO|HELO DOMAIN is the default.
        assert_eq!(kind("option smtpchk EHLO"), smtp("HELO localhost"));
        assert_eq!(kind("option smtpchk ehlo a.test"), smtp("HELO localhost"));
        assert_eq!(
            kind("option smtpchk\n  option httpchk"),
            CheckKind::Http(HttpCheck::default())
        );
    }

    #[test]
    fn fastinter_and_downinter_follow_the_servers_own_inter() {
        let be = backend(
            "backend be\n  default-server inter 5s\n  server s 127.0.0.1:80 check inter 1s\n",
        );
        let c = be.servers[0].check.clone().unwrap();
        assert_eq!((c.inter, c.fastinter, c.downinter), (s(1), s(1), s(1)));
    }

    #[test]
    fn default_server_applies_to_later_servers_only() {
        let be = backend(
            "backend be\n  server a 127.0.0.1:80\n  default-server check rise 5 weight 7 maxconn 9\n  default-server fall 1\n  server b 127.0.0.1:81\n  server c 127.0.0.1:82 no-check weight 2\n",
        );
        let [a, b, c] = &be.servers[..] else { panic!() };
        assert_eq!((a.weight, a.maxconn, a.check.is_none()), (1, None, true));
        assert_eq!((b.weight, b.maxconn), (7, Some(9)));
        let bc = b.check.clone().unwrap();
        assert_eq!((bc.rise, bc.fall), (5, 1));
        assert_eq!((c.weight, c.check.is_none()), (2, true));
    }

    #[test]
    fn default_server_in_defaults_reaches_each_backend_which_may_extend_it() {
        let c = load(
            "defaults\n  default-server check inter 3s\nbackend a\n  default-server rise 1\n  server s 127.0.0.1:80\nbackend b\n  server s 127.0.0.1:80\n",
        )
        .unwrap();
        let a = c.backends[0].servers[0].check.clone().unwrap();
        let b = c.backends[1].servers[0].check.clone().unwrap();
        assert_eq!((a.inter, a.rise), (s(3), 1));
        assert_eq!((b.inter, b.rise), (s(3), 2));
    }

    #[test]
    fn observe_without_check_is_ignored_with_a_warning() {
        let c = load("backend be\n  server s 127.0.0.1:80 observe layer4\n").unwrap();
        assert_eq!(c.backends[0].servers[0].check, None);
        assert_eq!(
            c.warnings,
            ["pollux.cfg:2: 'observe' ignored for server 's' as it has no 'check'"]
        );
    }

    #[test]
    fn option_httpchk_takes_uri_or_method_uri_version() {
        let http = |line: &str| match backend(&format!("backend be\n  {line}\n")).health.kind {
            CheckKind::Http(h) => (h.method, h.uri, h.version),
            other => panic!("{other:?}"),
        };
        let t = |m: &str, u: &str, v: &str| (m.to_string(), u.to_string(), v.to_string());
        assert_eq!(http("option httpchk"), t("OPTIONS", "/", "HTTP/1.0"));
        assert_eq!(
            http("option httpchk /health"),
            t("OPTIONS", "/health", "HTTP/1.0")
        );
        assert_eq!(
            http("option httpchk GET /health"),
            t("GET", "/health", "HTTP/1.0")
        );
        assert_eq!(
            http(r#"option httpchk HEAD / "HTTP/1.1\r\nHost: www""#),
            t("HEAD", "/", "HTTP/1.1\r\nHost: www")
        );
    }

    #[test]
    fn http_check_send_and_expect_reach_the_model() {
        let be = backend(
            "backend be\n  option httpchk\n  http-check send meth GET uri /ping ver HTTP/1.1 hdr Host example.com\n  http-check expect ! rstatus ^5\n  option allbackups\n  timeout check 3s\n  option log-health-checks\n",
        );
        let HealthConfig {
            kind,
            expect,
            all_backups,
            log_checks,
        } = be.health;
        assert!(log_checks);
        assert_eq!(
            kind,
            CheckKind::Http(HttpCheck {
                method: "GET".into(),
                uri: "/ping".into(),
                version: "HTTP/1.1".into(),
                headers: vec![("Host".into(), "example.com".into())],
            })
        );
        assert_eq!(
            expect,
            Some(HttpExpect {
                negate: true,
                what: HttpMatch::Rstatus(Re::new("^5", false).unwrap())
            })
        );
        assert!(all_backups);
        assert_eq!(be.timeouts.check, Some(s(3)));
    }

    #[test]
    fn expect_status_takes_a_list_of_codes_and_ranges() {
        let be = backend("backend be\n  http-check expect status 200,301-303\n");
        assert_eq!(
            be.health.expect.unwrap().what,
            HttpMatch::Status(vec![(200, 200), (301, 303)])
        );
    }

    #[test]
    fn tcp_check_rules_make_a_script() {
        let be = backend(
            "backend be\n  option tcp-check\n  tcp-check connect port 6379\n  tcp-check send \"PING\\r\\n\"\n  tcp-check send-binary 0d0A\n  tcp-check expect ! string -ERR\n  tcp-check expect binary 2b504f4e47\n  tcp-check expect rstring ^\\+\n",
        );
        let bytes = |b: &[u8]| TcpMatch::Bytes(b.to_vec());
        assert_eq!(
            be.health.kind,
            CheckKind::TcpScript(vec![
                TcpCheckStep::Connect {
                    port: Some(6379),
                    default: false,
                    ssl: false,
                    sni: None
                },
                TcpCheckStep::Send(b"PING\r\n".to_vec()),
                TcpCheckStep::Send(b"\r\n".to_vec()),
                TcpCheckStep::Expect {
                    negate: true,
                    what: bytes(b"-ERR")
                },
                TcpCheckStep::Expect {
                    negate: false,
                    what: bytes(b"+PONG")
                },
                TcpCheckStep::Expect {
                    negate: false,
                    what: TcpMatch::Rstring(Re::new("^\\+", false).unwrap())
                },
            ])
        );
    }

    #[test]
    fn no_option_returns_to_tcp_checks() {
        let be = backend("backend be\n  option httpchk\n  no option httpchk\n");
        assert_eq!(be.health.kind, CheckKind::Tcp);
    }

    #[test]
    fn spread_checks_is_global() {
        assert_eq!(
            load("global\n  spread-checks 5\n")
                .unwrap()
                .global
                .spread_checks,
            5
        );
    }

    #[test]
    fn check_keywords_in_a_frontend_are_ignored_with_a_warning() {
        let c = load("frontend fe\n  bind :80\n  option httpchk\n  tcp-check send x\n").unwrap();
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        assert!(c.warnings[0].starts_with(
            "pollux.cfg:3: 'option httpchk' ignored because frontend 'fe' has no backend capability"
        ));
    }
}
