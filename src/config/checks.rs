//! Health-check keywords: the check options of `server` and
//! `default-server` (manual §5.2: `check`, `inter`, `fastinter`,
//! `downinter`, `rise`, `fall`, `port`, `addr`, `slowstart`, `observe`,
//! `error-limit`, `on-error`) and the backend's method (`option httpchk`,
//! `http-check`, `option tcp-check`, `tcp-check`, `option allbackups`).
//! The state machine that runs the checks is `crate::proxy::checks`.

use std::net::IpAddr;
use std::time::Duration;

use super::parser::{need, only};
use super::proxy::{self, Draft};
use super::values;
use super::{
    CheckKind, HealthConfig, HttpCheck, HttpExpect, HttpMatch, Observe, OnError, ServerCheck,
    TcpCheckStep, TcpMatch,
};
use crate::http::acl::Re;

/// What a `server` line starts from: the section's `default-server` lines
/// (HAProxy: each one adds to the defaults of the later `server` lines).
#[derive(Debug, Clone)]
pub(crate) struct ServerOpts {
    pub weight: u32,
    pub maxconn: Option<u32>,
    /// `check` was given and not undone by `no-check`.
    pub check: bool,
    pub c: ServerCheck,
    /// `fastinter`/`downinter` were given; otherwise they follow `inter`.
    fastinter_set: bool,
    downinter_set: bool,
}

impl Default for ServerOpts {
    fn default() -> Self {
        ServerOpts {
            weight: 1,
            maxconn: None,
            check: false,
            c: ServerCheck::default(),
            fastinter_set: false,
            downinter_set: false,
        }
    }
}

impl ServerOpts {
    /// The model of a server with these options; a note for `observe`
    /// without `check` (HAProxy: observing needs health checks).
    pub(crate) fn check_model(&self, server: &str, notes: &mut Vec<String>) -> Option<ServerCheck> {
        if !self.check {
            if self.c.observe.is_some() {
                notes.push(format!(
                    "'observe' ignored for server '{server}' as it has no 'check'"
                ));
            }
            return None;
        }
        let mut c = self.c.clone();
        if !self.fastinter_set {
            c.fastinter = c.inter;
        }
        if !self.downinter_set {
            c.downinter = c.inter;
        }
        Some(c)
    }
}

fn value<'a>(
    args: &'a [String],
    i: &mut usize,
    what: &str,
    expected: &str,
) -> Result<&'a str, String> {
    let v = args
        .get(*i)
        .ok_or_else(|| format!("{what} expects {expected}"))?;
    *i += 1;
    Ok(v)
}

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

/// `default-server OPTIONS...`: the check options, `weight` and `maxconn`.
pub(crate) fn parse_default_server(d: &mut Draft, args: &[String]) -> Result<(), String> {
    let mut o = d.default_server.clone();
    let mut i = 1;
    while let Some(opt) = args.get(i) {
        let opt = opt.as_str();
        i += 1;
        match opt {
            "weight" | "maxconn" => {
                let what = format!("default-server option '{opt}'");
                let v = value(args, &mut i, &what, "an integer")?;
                if opt == "weight" {
                    o.weight = values::parse_int(&what, v, 0, 256)? as u32;
                } else {
                    let n = values::parse_int(&what, v, 0, u32::MAX.into())? as u32;
                    o.maxconn = (n > 0).then_some(n);
                }
            }
            _ if server_option(&mut o, opt, args, &mut i)? => {}
            _ if proxy::known_server_option(opt) => {
                return Err(format!(
                    "default-server option '{opt}' is not supported yet"
                ))
            }
            _ => return Err(format!("unknown default-server option '{opt}'")),
        }
    }
    d.default_server = o;
    Ok(())
}

/// Which check a backend runs; the rules of the others are kept so that
/// `option` lines may come before or after them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Method {
    #[default]
    Tcp,
    Http,
    Script,
}

/// The health-check settings of a section being parsed.
#[derive(Debug, Clone, Default)]
pub(crate) struct HealthDraft {
    method: Method,
    http: HttpCheck,
    steps: Vec<TcpCheckStep>,
    expect: Option<HttpExpect>,
    all_backups: bool,
}

impl HealthDraft {
    pub(crate) fn model(&self) -> HealthConfig {
        HealthConfig {
            kind: match self.method {
                Method::Tcp => CheckKind::Tcp,
                Method::Http => CheckKind::Http(self.http.clone()),
                Method::Script => CheckKind::TcpScript(self.steps.clone()),
            },
            expect: self.expect.clone(),
            all_backups: self.all_backups,
        }
    }
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
    if !["httpchk", "tcp-check", "allbackups"].contains(&name) {
        return Ok(false);
    }
    if name != "httpchk" || !on {
        only(args, at + 1)?;
    }
    if d.ignored(&format!("option {name}"), false, true) {
        return Ok(true);
    }
    let h = &mut d.health;
    match (name, on) {
        ("allbackups", _) => h.all_backups = on,
        (_, false) => h.method = Method::Tcp,
        ("tcp-check", true) => h.method = Method::Script,
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
            let port = match args.get(2).map(String::as_str) {
                None => None,
                Some("port") => {
                    let v = need(args, 3, "a port number")?;
                    only(args, 4)?;
                    Some(
                        values::parse_int("'tcp-check connect port'", v, 1, u16::MAX.into())?
                            as u16,
                    )
                }
                Some(opt) => return Err(format!("'tcp-check connect {opt}' is not supported yet")),
            };
            // HAProxy: with a `connect` rule, the first rule must be one.
            if !d.health.steps.is_empty()
                && !matches!(d.health.steps[0], TcpCheckStep::Connect { .. })
            {
                return Err("a 'tcp-check connect' rule must come first when there is one".into());
            }
            TcpCheckStep::Connect { port }
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
    if EXPECT_OPTIONS.contains(&kind) {
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
