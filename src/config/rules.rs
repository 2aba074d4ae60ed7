//! Words to compiled rules: `http-request` and `http-response` actions,
//! the HAProxy 1.x `req*`/`rsp*` line rules, `redirect`, `tcp-request`
//! actions (manual §4.2), each with its optional `if`/`unless` condition.

use super::vars::set_var;
use crate::http::acl::{parse_condition, AclSet, Condition, Re};
use crate::http::fetch::{needs, Fetch};
use crate::http::format::Format;
use crate::http::rules::{
    Action, Capture, GptValue, Redirect, RedirectKind, Reply, ReplyBody, ReplyRaw, Rule, TcpAction,
    TcpRule, TrackSc,
};

/// Splits a rule line at its `if`/`unless` and compiles the condition.
pub(crate) fn split_cond<'a>(
    args: &'a [String],
    acls: &AclSet,
) -> Result<(&'a [String], Option<Condition>), String> {
    match args.iter().position(|w| w == "if" || w == "unless") {
        None => Ok((args, None)),
        Some(i) => Ok((&args[..i], Some(parse_condition(&args[i..], acls)?))),
    }
}

/// Where a rule runs, for the fetches it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    TcpConnection,
    TcpContent,
    HttpRequest,
    HttpResponse,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::TcpConnection => "tcp-request connection",
            Stage::TcpContent => "tcp-request content",
            Stage::HttpRequest => "request",
            Stage::HttpResponse => "response",
        }
    }
    fn allowed(self) -> u8 {
        match self {
            Stage::TcpConnection => 0,
            Stage::TcpContent => needs::PAYLOAD | needs::REQ,
            // Request rules run with the transaction's captures and id.
            Stage::HttpRequest => needs::PAYLOAD | needs::REQ | needs::TXN,
            Stage::HttpResponse => {
                needs::PAYLOAD | needs::REQ | needs::RES | needs::TXN | needs::SRV
            }
        }
    }
}

/// Refuses a fetch that reads what is not there yet at this stage.
pub(crate) fn check_needs(mask: u8, stage: Stage) -> Result<(), String> {
    let extra = mask & !stage.allowed();
    if extra == 0 {
        return Ok(());
    }
    if extra & needs::TXN != 0 {
        return Err(format!(
            "the 'unique-id', 'capture.req.hdr' and 'capture.res.hdr' fetches are not supported yet in {} rules",
            stage.name()
        ));
    }
    let what = if extra & needs::SRV != 0 {
        "the server connection"
    } else if extra & needs::RES != 0 {
        "response contents"
    } else if extra & needs::REQ != 0 {
        "HTTP request contents"
    } else {
        "request buffer contents"
    };
    Err(format!(
        "{} rule uses a fetch that extracts information from {what}, none of which is available here",
        stage.name()
    ))
}

fn cond_needs(c: &Option<Condition>) -> u8 {
    c.as_ref().map_or(0, Condition::needs)
}

pub(crate) fn fmt(s: &str, stage: Stage) -> Result<Format, String> {
    let f = Format::parse(s)?;
    check_needs(f.needs(), stage)?;
    Ok(f)
}

fn exactly(kw: &str, args: &[String], n: usize, what: &str) -> Result<(), String> {
    if args.len() != n {
        return Err(format!("'{kw}' expects exactly {n} argument(s): {what}"));
    }
    Ok(())
}

/// An HTTP status within `lo..=hi`.
fn status(kw: &str, s: Option<&String>, lo: u16, hi: u16) -> Result<u16, String> {
    let s = s.ok_or_else(|| format!("'{kw}' expects a status code"))?;
    match s.parse::<u16>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{kw}': invalid status code '{s}' (expected {lo} to {hi})"
        )),
    }
}

/// Actions HAProxy has that pollux does not implement yet.
const UNSUPPORTED_ACTIONS: &[&str] = &[
    "add-acl",
    "cache-store",
    "cache-use",
    "capture",
    "del-acl",
    "del-map",
    "disable-l7-retry",
    "do-resolve",
    "early-hint",
    "normalize-uri",
    "reject",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "sc-add-gpc",
    "sc-inc-gpc",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt",
    "sc-set-gpt0",
    "send-spoe-group",
    "set-bandwidth-limit",
    "set-fc-mark",
    "set-fc-tos",
    "set-log-level",
    "set-map",
    "set-mark",
    "set-nice",
    "set-pathq",
    "set-priority-class",
    "set-priority-offset",
    "set-timeout",
    "set-tos",
    "silent-drop",
    "strict-mode",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "use-service",
    "wait-for-body",
    "wait-for-handshake",
    "redirect",
    "set-status",
    "set-path",
    "set-query",
    "set-method",
    "set-uri",
    "tarpit",
    "return",
    "close",
    "expect-proxy",
    "expect-netscaler-cip",
    "switch-mode",
    "attach-srv",
    "set-retries",
];

/// `wait-for-body time T [at-least N]`, the words in any order, as HAProxy.
fn wait_for_body(full: &str, a: &[String]) -> Result<Action, String> {
    let usage = || format!("'{full}' expects time <time> [ at-least <bytes> ]");
    let (mut time, mut at_least) = (None, 0);
    let mut i = 0;
    while let Some(w) = a.get(i) {
        let v = a
            .get(i + 1)
            .ok_or_else(|| format!("'{full}': missing argument for '{w}'"));
        match w.as_str() {
            "time" => time = Some(super::values::parse_time(&format!("'{full} time'"), v?)?),
            "at-least" => {
                at_least = super::values::parse_size(
                    &format!("'{full} at-least'"),
                    v?,
                    0,
                    u64::from(u32::MAX),
                )?
            }
            _ => return Err(format!("unexpected argument '{w}' after '{full}'")),
        }
        i += 2;
    }
    Ok(Action::WaitForBody {
        time: time.ok_or_else(usage)?,
        at_least,
    })
}

fn unknown_action(kw: &str, name: &str) -> String {
    // `set-var(txn.x)`, `sc-inc-gpc0(1)`: the action name is before the '('.
    let base = name.split('(').next().unwrap_or(name);
    if UNSUPPORTED_ACTIONS.contains(&base) || base.starts_with("lua.") {
        format!("'{kw} {name}' is not supported yet")
    } else {
        let names = ACTIONS.iter().chain(UNSUPPORTED_ACTIONS).copied();
        let hint = super::suggest::hint(base, names);
        format!("unknown '{kw}' action '{name}'{hint}")
    }
}

/// The rule actions pollux has, for "did you mean".
const ACTIONS: &[&str] = &[
    "accept",
    "add-header",
    "allow",
    "auth",
    "capture",
    "del-header",
    "deny",
    "redirect",
    "reject",
    "replace-header",
    "replace-value",
    "return",
    "sc-inc-gpc0",
    "sc-inc-gpc1",
    "sc-set-gpt0",
    "set-dst",
    "set-dst-port",
    "set-header",
    "set-method",
    "set-path",
    "set-query",
    "set-src",
    "set-src-port",
    "set-status",
    "set-uri",
    "set-var",
    "set-var-fmt",
    "tarpit",
    "track-sc0",
    "track-sc1",
    "track-sc2",
    "unset-var",
    "use-service",
    "wait-for-body",
];

/// `http-request ACTION ...` (the words after `http-request`).
pub(crate) fn http_request(args: &[String], acls: &AclSet) -> Result<Rule, String> {
    http_rule("http-request", args, acls, Stage::HttpRequest)
}

/// `http-response ACTION ...`.
pub(crate) fn http_response(args: &[String], acls: &AclSet) -> Result<Rule, String> {
    http_rule("http-response", args, acls, Stage::HttpResponse)
}

/// `http-after-response ACTION ...`: HAProxy 2.6's short list of actions
/// (header edits, `set-status`, variables, `capture`, `allow`), run on
/// every response, pollux's own included.
pub(crate) fn http_after_response(args: &[String], acls: &AclSet) -> Result<Rule, String> {
    let kw = "http-after-response";
    let name = match args.first().map(String::as_str) {
        Some("if" | "unless") | None => "",
        Some(w) => w,
    };
    let base = name.split('(').next().unwrap_or(name);
    match base {
        "add-header" | "allow" | "capture" | "del-header" | "replace-header" | "replace-value"
        | "set-header" | "set-status" | "set-var" | "set-var-fmt" | "unset-var" | "" => {
            http_rule(kw, args, acls, Stage::HttpResponse)
        }
        "strict-mode" => Err(format!("'{kw} {name}' is not supported yet")),
        _ => Err(format!(
            "unknown '{kw}' action '{name}' (expected 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)' or 'unset-var(*)')"
        )),
    }
}

fn http_rule(kw: &str, args: &[String], acls: &AclSet, stage: Stage) -> Result<Rule, String> {
    let (words, cond) = split_cond(args, acls)?;
    check_needs(cond_needs(&cond), stage)?;
    let name = words
        .first()
        .ok_or_else(|| format!("'{kw}' expects an action"))?
        .as_str();
    let a = &words[1..];
    let full = format!("{kw} {name}");
    let req = stage == Stage::HttpRequest;
    if let Some(sv) = set_var(kw, name, a, stage)? {
        return Ok(Rule {
            action: Action::SetVar(sv),
            cond,
        });
    }
    let action = match name {
        "allow" => {
            exactly(&full, a, 0, "none")?;
            Action::Allow
        }
        "deny" => deny(&full, a, if req { 403 } else { 502 }, stage)?,
        "tarpit" if req => Action::Tarpit(deny_status(&full, a, 500)?),
        "wait-for-body" if req => wait_for_body(&full, a)?,
        "add-header" | "set-header" => {
            exactly(&full, a, 2, "a header name and a format")?;
            let f = fmt(&a[1], stage)?;
            if name == "add-header" {
                Action::AddHeader(a[0].clone(), f)
            } else {
                Action::SetHeader(a[0].clone(), f)
            }
        }
        "del-header" => {
            if a.get(1).is_some_and(|w| w == "-m") {
                return Err(format!("'{full} ... -m' is not supported yet"));
            }
            exactly(&full, a, 1, "a header name")?;
            Action::DelHeader(a[0].clone())
        }
        "replace-header" | "replace-value" => {
            exactly(
                &full,
                a,
                3,
                "a header name, a regex and a replacement format",
            )?;
            let re = Re::new(&a[1], false).map_err(|e| format!("'{full}': {e}"))?;
            let f = fmt(&a[2], stage)?;
            if name == "replace-header" {
                Action::ReplaceHeader(a[0].clone(), re, f)
            } else {
                Action::ReplaceValue(a[0].clone(), re, f)
            }
        }
        "set-path" | "set-query" | "set-method" | "set-uri" if req => {
            exactly(&full, a, 1, "a format")?;
            let f = fmt(&a[0], stage)?;
            match name {
                "set-path" => Action::SetPath(f),
                "set-query" => Action::SetQuery(f),
                "set-method" => Action::SetMethod(f),
                _ => Action::SetUri(f),
            }
        }
        "set-status" if !req => {
            let code = status(&full, a.first(), 100, 999)?;
            let reason = match &a[1..] {
                [] => None,
                [r, text] if r == "reason" => Some(text.clone()),
                _ => {
                    return Err(format!(
                        "'{full}' expects a status code and optionally 'reason TEXT'"
                    ))
                }
            };
            Action::SetStatus(code, reason)
        }
        "redirect" if req => Action::Redirect(redirect(a, stage)?),
        "track-sc0" | "track-sc1" | "track-sc2" if req => {
            Action::TrackSc(track_sc(&full, name, a, stage)?)
        }
        _ if name.starts_with("sc-inc-gpc0") || name.starts_with("sc-inc-gpc1") => {
            exactly(&full, a, 0, "none")?;
            let i = u8::from(name.starts_with("sc-inc-gpc1"));
            Action::ScIncGpc(sc_slot(&full, &name["sc-inc-gpc0".len()..])?, i)
        }
        _ if name.starts_with("sc-set-gpt0") => {
            let slot = sc_slot(&full, &name["sc-set-gpt0".len()..])?;
            Action::ScSetGpt0(slot, Box::new(gpt_value(&full, a, stage)?))
        }
        "capture" => Action::Capture(capture(&full, a, stage)?),
        "return" => Action::Return(reply(&full, a, stage)?),
        "auth" if req => match a {
            [] => Action::Auth(None),
            [r, realm] if r == "realm" => Action::Auth(Some(realm.clone())),
            [r] if r == "realm" => return Err(format!("'{full}': missing realm value")),
            [w, ..] => {
                return Err(format!(
                    "'{full}': unexpected '{w}' (expects 'realm REALM')"
                ))
            }
        },
        "set-src" | "set-src-port" | "set-dst" | "set-dst-port" if req => {
            exactly(&full, a, 1, "a sample expression")?;
            let e = crate::http::expr::Expr::parse(&a[0]).map_err(|e| format!("'{full}': {e}"))?;
            check_needs(e.needs(), stage)?;
            let which = match name {
                "set-src" => crate::http::rules::Addr::Src,
                "set-src-port" => crate::http::rules::Addr::SrcPort,
                "set-dst" => crate::http::rules::Addr::Dst,
                _ => crate::http::rules::Addr::DstPort,
            };
            Action::SetAddr(which, e)
        }
        "use-service" if req => match a {
            [svc] if svc == "prometheus-exporter" => {
                Action::UseService(crate::http::rules::Service::Prometheus)
            }
            [svc] => return Err(format!("'{full} {svc}' is not supported yet")),
            _ => return Err(format!("'{full}' expects a service name")),
        },
        _ => return Err(unknown_action(kw, name)),
    };
    Ok(Rule { action, cond })
}

/// `http-request capture SAMPLE len N | id N`, `http-response capture
/// SAMPLE id N`; the config loader gives the `len` form its slot and checks
/// the `id` (see `config::http`).
fn capture(full: &str, a: &[String], stage: Stage) -> Result<Capture, String> {
    let usage = || format!("'{full}' expects a sample expression followed by 'len N' or 'id N'");
    let [sample, kind, n] = a else {
        return Err(usage());
    };
    let expr = crate::http::expr::Expr::parse(sample).map_err(|e| format!("'{full}': {e}"))?;
    check_needs(expr.needs(), stage)?;
    match kind.as_str() {
        // HAProxy: a response capture goes to a declared slot.
        "len" if stage == Stage::HttpResponse => Err(format!(
            "'{full}' expects a sample expression followed by 'id N'"
        )),
        "len" => {
            let len = super::values::parse_int(&format!("'{full} ... len'"), n, 1, 65535)?;
            Ok(Capture {
                expr,
                slot: None,
                len: len as usize,
            })
        }
        "id" => {
            let id = super::values::parse_int(&format!("'{full} ... id'"), n, 0, 65535)?;
            Ok(Capture {
                expr,
                slot: Some(id as usize),
                len: 0,
            })
        }
        _ => Err(usage()),
    }
}

/// `deny`/`tarpit` options: `deny_status N` (or `status N`, HAProxy 2.2+).
fn deny_status(kw: &str, a: &[String], default: u16) -> Result<u16, String> {
    match a {
        [] => Ok(default),
        [k, _] if k == "deny_status" || k == "status" => status(kw, a.get(1), 200, 599),
        [k] if k == "deny_status" || k == "status" => status(kw, None, 200, 599),
        [k, ..] => Err(format!("'{kw}' option '{k}' is not supported yet")),
    }
}

/// `redirect location|prefix|scheme TARGET [code N] [drop-query] [append-slash]`.
pub(crate) fn redirect(a: &[String], stage: Stage) -> Result<Redirect, String> {
    let usage = "'redirect' expects 'location', 'prefix' or 'scheme' followed by a target";
    let kind = match a.first().map(String::as_str) {
        Some("location") => RedirectKind::Location,
        Some("prefix") => RedirectKind::Prefix,
        Some("scheme") => RedirectKind::Scheme,
        _ => return Err(usage.into()),
    };
    let target = fmt(a.get(1).ok_or(usage)?, stage)?;
    let mut r = Redirect {
        kind,
        target,
        code: 302,
        drop_query: false,
        append_slash: false,
    };
    let mut i = 2;
    while let Some(w) = a.get(i) {
        i += 1;
        match w.as_str() {
            "code" => {
                let c = a.get(i).ok_or("'redirect': 'code' expects a status code")?;
                i += 1;
                r.code = match c.parse::<u16>() {
                    Ok(n @ (301 | 302 | 303 | 307 | 308)) => n,
                    _ => {
                        return Err(format!(
                            "'redirect': unsupported HTTP code '{c}' (must be one of 301, 302, 303, 307 or 308)"
                        ))
                    }
                };
            }
            "drop-query" => r.drop_query = true,
            "append-slash" => r.append_slash = true,
            "set-cookie" | "clear-cookie" | "ignore-empty" | "keep-query" => {
                return Err(format!("'redirect' option '{w}' is not supported yet"))
            }
            _ => return Err(format!("'redirect': unknown option '{w}'")),
        }
    }
    Ok(r)
}

fn read_file(kw: &str, path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("'{kw}': cannot read file '{path}': {e}"))
}

/// `deny [deny_status N] [reply options]`: a plain deny answers the
/// proxy's error page; with reply options, that reply (as HAProxy 2.2+).
fn deny(kw: &str, a: &[String], default: u16, stage: Stage) -> Result<Action, String> {
    if a.len() <= 2
        && a.first()
            .map_or(true, |k| k == "deny_status" || k == "status")
    {
        return deny_status(kw, a, default).map(Action::Deny);
    }
    let words: Vec<String> = a
        .iter()
        .map(|w| match w.as_str() {
            "deny_status" => "status".to_string(),
            _ => w.clone(),
        })
        .collect();
    let r = reply_with(kw, &words, stage, default)?;
    Ok(match r.raw {
        Some(ReplyRaw::Default) => Action::Deny(r.status),
        _ => Action::DenyReply(r),
    })
}

/// `return [status N] [content-type T] [string S | lf-string F | file F |
/// lf-file F | errorfile F | errorfiles NAME | default-errorfiles]
/// [hdr NAME FMT]...`.
fn reply(kw: &str, a: &[String], stage: Stage) -> Result<Reply, String> {
    reply_with(kw, a, stage, 200)
}

/// A reply's options, `status` defaulting to `status`; also `http-error`'s.
pub(crate) fn reply_with(
    kw: &str,
    a: &[String],
    stage: Stage,
    default_status: u16,
) -> Result<Reply, String> {
    let mut r = Reply {
        status: default_status,
        content_type: None,
        body: ReplyBody::Empty,
        headers: Vec::new(),
        raw: None,
    };
    let mut i = 0;
    let mut has_payload = false;
    while let Some(w) = a.get(i) {
        let w = w.as_str();
        let arg = |n: usize| {
            a.get(i + n)
                .ok_or_else(|| format!("'{kw}': '{w}' expects an argument"))
        };
        match w {
            "status" => r.status = status(kw, Some(arg(1)?), 200, 599)?,
            "content-type" => r.content_type = Some(arg(1)?.clone()),
            "string" | "lf-string" | "file" | "lf-file" => {
                if has_payload || r.raw.is_some() {
                    return Err(format!("'{kw}': only one payload may be given"));
                }
                has_payload = true;
                let v = arg(1)?;
                r.body = match w {
                    "string" => ReplyBody::Bytes(v.as_bytes().to_vec()),
                    "lf-string" => ReplyBody::Format(fmt(v, stage)?),
                    "file" => ReplyBody::Bytes(read_file(kw, v)?),
                    _ => {
                        let text = String::from_utf8(read_file(kw, v)?)
                            .map_err(|_| format!("'{kw}': file '{v}' is not text"))?;
                        ReplyBody::Format(fmt(&text, stage)?)
                    }
                };
            }
            "hdr" => {
                let name = arg(1)?.clone();
                let value = fmt(arg(2)?, stage)?;
                r.headers.push((name, value));
                i += 1;
            }
            "errorfile" | "errorfiles" | "default-errorfiles" => {
                if has_payload || r.raw.is_some() {
                    return Err(format!("'{kw}': only one payload may be given"));
                }
                r.raw = Some(match w {
                    "errorfile" => ReplyRaw::Bytes(super::errors::read(kw, arg(1)?)?),
                    "errorfiles" => ReplyRaw::Section(arg(1)?.clone()),
                    _ => ReplyRaw::Default,
                });
                // `default-errorfiles` takes no argument.
                if w == "default-errorfiles" {
                    i += 1;
                    continue;
                }
            }
            _ => return Err(format!("'{kw}': unknown option '{w}'")),
        }
        i += 2;
    }
    if matches!(r.raw, Some(ReplyRaw::Default | ReplyRaw::Section(_)))
        && !super::errors::CODES.contains(&r.status)
    {
        let arg = if r.raw == Some(ReplyRaw::Default) {
            "default-errorfiles"
        } else {
            "errorfiles"
        };
        return Err(format!(
            "'{kw}': status code '{}' not handled by default with '{arg}'",
            r.status
        ));
    }
    if r.raw.is_some() && (r.content_type.is_some() || !r.headers.is_empty()) {
        return Err(format!(
            "'{kw}': 'content-type' and 'hdr' cannot be used with an error file"
        ));
    }
    if has_payload {
        if r.content_type.is_none() {
            return Err(format!(
                "'{kw}': a content type must be defined when non-empty payload is configured"
            ));
        }
        if r.status == 204 || r.status == 304 {
            return Err(format!(
                "'{kw}': no payload may be sent with status {}",
                r.status
            ));
        }
    }
    Ok(r)
}

/// The HAProxy 1.x line rules: `reqadd`, `reqdel`, `reqrep`, `reqdeny`,
/// `reqallow`, `reqtarpit`, `rspadd`, `rspdel`, `rsprep`, `rspdeny` and
/// their case-insensitive `i` forms.
pub(crate) fn legacy(kw: &str, args: &[String], acls: &AclSet) -> Result<Rule, String> {
    let (words, cond) = split_cond(&args[1..], acls)?;
    let res = kw.starts_with("rsp");
    check_needs(
        cond_needs(&cond),
        if res {
            Stage::HttpResponse
        } else {
            Stage::HttpRequest
        },
    )?;
    let op = &kw[3..];
    let (icase, op) = match op.strip_prefix('i') {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, op),
    };
    let regex = |w: &[String]| -> Result<Re, String> {
        let s = w
            .first()
            .ok_or_else(|| format!("'{kw}' expects a regex as argument"))?;
        Re::new(s, icase).map_err(|e| format!("'{kw}': {e}"))
    };
    let one = |w: &[String], what: &str| -> Result<(), String> {
        match w.len() {
            0 => Err(format!("'{kw}' expects {what} as argument")),
            1 => Ok(()),
            _ => Err(format!("unexpected argument '{}' after '{kw}'", w[1])),
        }
    };
    let action = match op {
        "add" if !icase => {
            one(words, "a header line")?;
            if !words[0].contains(':') {
                return Err(format!(
                    "'{kw}': '{}' is not a 'Name: value' header line",
                    words[0]
                ));
            }
            Action::LineAdd(words[0].clone())
        }
        "del" | "deny" | "allow" | "tarpit" => {
            one(words, "a regex")?;
            let re = regex(words)?;
            match op {
                "del" => Action::LineDel(re),
                "deny" => Action::LineDeny(re, if res { 502 } else { 403 }),
                "allow" if !res => Action::LineAllow(re),
                "tarpit" if !res => Action::LineTarpit(re),
                _ => return Err(format!("unknown keyword '{kw}'")),
            }
        }
        "rep" => {
            if words.len() != 2 {
                return Err(format!(
                    "'{kw}' expects <search> and <replace> as arguments"
                ));
            }
            Action::LineReplace(regex(words)?, words[1].clone())
        }
        _ => return Err(format!("'{kw}' is not supported yet")),
    };
    Ok(Rule { action, cond })
}

/// `tcp-request connection|content accept|reject [cond]` (the words after
/// `connection` or `content`).
pub(crate) fn tcp(args: &[String], acls: &AclSet, stage: Stage) -> Result<TcpRule, String> {
    let kw = stage.name();
    let (words, cond) = split_cond(args, acls)?;
    check_needs(cond_needs(&cond), stage)?;
    if let Some(name) = words.first() {
        if let Some(sv) = set_var(kw, name, &words[1..], stage)? {
            return Ok(TcpRule {
                action: TcpAction::SetVar(sv),
                cond,
            });
        }
    }
    let action = match words.first().map(String::as_str) {
        Some("accept") => TcpAction::Accept,
        Some("reject") => TcpAction::Reject,
        Some(n @ ("track-sc0" | "track-sc1" | "track-sc2")) => {
            let t = track_sc(&format!("{kw} {n}"), n, &words[1..], stage)?;
            return Ok(TcpRule {
                action: TcpAction::Sc(Action::TrackSc(t)),
                cond,
            });
        }
        // Content rules may run again while waiting for data: an increment
        // would count twice there.
        Some(n)
            if stage == Stage::TcpConnection
                && ["sc-inc-gpc0", "sc-inc-gpc1", "sc-set-gpt0"]
                    .iter()
                    .any(|p| n.starts_with(p)) =>
        {
            let full = format!("{kw} {n}");
            let a = &words[1..];
            let slot = sc_slot(&full, n.get(11..).unwrap_or(""))?;
            let action = if n.starts_with("sc-set-gpt0") {
                Action::ScSetGpt0(slot, Box::new(gpt_value(&full, a, stage)?))
            } else {
                exactly(&full, a, 0, "none")?;
                Action::ScIncGpc(slot, u8::from(n.starts_with("sc-inc-gpc1")))
            };
            return Ok(TcpRule {
                action: TcpAction::Sc(action),
                cond,
            });
        }
        Some(a) => {
            let known = UNSUPPORTED_ACTIONS.contains(&a)
                || a.starts_with("track-sc")
                || a.starts_with("sc-")
                || a.starts_with("lua.");
            return Err(if known {
                format!("'{kw} {a}' is not supported yet")
            } else {
                format!("unknown '{kw}' action '{a}' (expected 'accept' or 'reject')")
            });
        }
        None => return Err(format!("'{kw}' expects an action")),
    };
    if let Some(extra) = words.get(1) {
        return Err(format!(
            "unexpected argument '{extra}' after '{kw} {}'",
            words[0]
        ));
    }
    Ok(TcpRule { action, cond })
}

/// The `(N)` of `sc-inc-gpc0(N)` (none: 0), a stick counter 0 to 2.
fn sc_slot(full: &str, tail: &str) -> Result<u8, String> {
    if tail.is_empty() {
        return Ok(0);
    }
    match tail
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .map(str::parse::<u8>)
    {
        Some(Ok(n)) if n <= 2 => Ok(n),
        Some(Ok(_)) => Err(format!(
            "'{full}': invalid stick table track ID. The max allowed ID is 2"
        )),
        _ => Err(format!(
            "'{full}': expects a stick counter number, as 'sc-inc-gpc0(0)'"
        )),
    }
}

/// The value of `sc-set-gpt0(N) VALUE`: an integer or an expression.
fn gpt_value(full: &str, a: &[String], stage: Stage) -> Result<GptValue, String> {
    exactly(full, a, 1, "a value (an integer or a sample expression)")?;
    Ok(match a[0].parse::<i64>() {
        Ok(n) => GptValue::Int(n),
        Err(_) => {
            let e = crate::http::expr::Expr::parse(&a[0]).map_err(|e| format!("'{full}': {e}"))?;
            check_needs(e.needs(), stage)?;
            GptValue::Expr(e)
        }
    })
}

/// `track-scN KEY [table T]` (`kw` is the whole keyword, as
/// `http-request track-sc0`, `name` is `track-scN`, `a` the words after).
fn track_sc(kw: &str, name: &str, a: &[String], stage: Stage) -> Result<TrackSc, String> {
    let slot = match name {
        "track-sc0" => 0,
        "track-sc1" => 1,
        _ => 2,
    };
    let key = a
        .first()
        .ok_or_else(|| format!("'{kw}' expects a key (a sample fetch like 'src')"))?;
    let key = Fetch::parse(key).map_err(|e| format!("'{kw}': {e}"))?;
    check_needs(key.needs(), stage)?;
    let table = match &a[1..] {
        [] => None,
        [t, name] if t == "table" => Some(name.clone()),
        [w, ..] => {
            return Err(format!(
                "'{kw}': unexpected argument '{w}' (expected 'table NAME')"
            ))
        }
    };
    Ok(TrackSc { slot, key, table })
}
