//! HTTP-mode keywords of proxy sections (manual §4.2): `acl`, rules,
//! `redirect`, `use_backend`, `monitor-uri`, `capture`, `tcp-request`,
//! `errorfile` and the HTTP `option`s.

use crate::http::acl::parse_net;
use crate::http::format::Format;
use crate::http::rules::Rule;

use super::args::{need, only};
use super::draft::{Draft, Kind};
use super::model::{ConnMode, ForwardFor, Origin, OriginalTo, UseBackend};
use super::rules::{self, Stage};
use super::values;

/// Proxy keywords handled here.
pub(crate) const KEYWORDS: &[&str] = &[
    "acl",
    "compression",
    "filter",
    "http-request",
    "http-response",
    "http-after-response",
    "redirect",
    "use_backend",
    "monitor-uri",
    "capture",
    "tcp-request",
    "errorfile",
    "errorfiles",
    "http-error",
    "reqadd",
    "reqdel",
    "reqidel",
    "reqrep",
    "reqirep",
    "reqdeny",
    "reqideny",
    "reqallow",
    "reqiallow",
    "reqtarpit",
    "reqitarpit",
    "reqpass",
    "reqipass",
    "reqsetbe",
    "reqisetbe",
    "rspadd",
    "rspdel",
    "rspidel",
    "rsprep",
    "rspirep",
    "rspdeny",
    "rspideny",
];

fn note_http(d: &mut Draft, kw: &str, origin: &Origin) {
    if d.h.first_http_kw.is_none() {
        d.h.first_http_kw = Some((kw.to_string(), origin.clone()));
    }
}

/// Parses one of [`KEYWORDS`].
pub(crate) fn parse_keyword(d: &mut Draft, args: &[String], origin: &Origin) -> Result<(), String> {
    let kw = args[0].as_str();
    match kw {
        "acl" => {
            d.allow(kw, false, false, false)?;
            d.h.acls.add(&args[1..])?;
        }
        "compression" => compression(d, args)?,
        // The compression filter is implicit with `compression`; declared,
        // it is the same one. Other filters are not supported yet.
        "filter" => match args.get(1).map(String::as_str) {
            Some("compression") => only(args, 2)?,
            Some(f) => return Err(format!("'filter {f}' is not supported yet")),
            None => return Err("'filter' expects a filter name".into()),
        },
        "http-request" | "http-response" => {
            d.allow(kw, false, false, false)?;
            note_http(d, kw, origin);
            if kw == "http-request" {
                let mut r = rules::http_request(&args[1..], &d.h.acls)?;
                if let crate::http::rules::Action::Auth(realm @ None) = &mut r.action {
                    // HAProxy's default realm: the proxy's name.
                    *realm = Some(d.name.clone());
                }
                if let crate::http::rules::Action::Capture(c) = &mut r.action {
                    capture_slot(d, c, kw)?;
                }
                note_sections(d, &r, origin);
                d.h.req_http.push(r);
            } else {
                let mut r = rules::http_response(&args[1..], &d.h.acls)?;
                if let crate::http::rules::Action::Capture(c) = &mut r.action {
                    capture_slot(d, c, kw)?;
                }
                note_sections(d, &r, origin);
                d.h.res_http.push(r);
            }
        }
        "http-after-response" => {
            let defaults = d.kind == Kind::Defaults;
            // HAProxy: only a named `defaults` holds rules; its proxies run
            // them before their own (they are copied ahead of them).
            if defaults && d.name.is_empty() {
                return Err(format!(
                    "'{kw}' not allowed in anonymous 'defaults' section"
                ));
            }
            note_http(d, kw, origin);
            let mut r = rules::http_after_response(&args[1..], &d.h.acls)?;
            if let crate::http::rules::Action::Capture(c) = &mut r.action {
                if defaults {
                    return Err(format!(
                        "'{kw} capture' in a 'defaults' section is not supported yet"
                    ));
                }
                capture_slot(d, c, kw)?;
            }
            d.h.after_res.push(r);
        }
        "redirect" => {
            d.allow(kw, false, false, false)?;
            note_http(d, kw, origin);
            let (words, cond) = rules::split_cond(&args[1..], &d.h.acls)?;
            let r = rules::redirect(words, Stage::HttpRequest)?;
            let action = crate::http::rules::Action::Redirect(r);
            d.h.redirects.push(Rule { action, cond });
        }
        "use_backend" => {
            d.allow(kw, true, false, false)?;
            let name = need(args, 1, "a backend name")?;
            let target = match Format::parse(name)? {
                f if f.as_literal().is_none() => {
                    // The switching rules see the captures and unique id.
                    let n = f.needs() & !crate::http::fetch::needs::TXN;
                    rules::check_needs(n, Stage::HttpRequest)?;
                    UseBackend::Format(f)
                }
                f => UseBackend::Name(f.as_literal().unwrap_or(name).to_string()),
            };
            let (words, cond) = rules::split_cond(&args[2..], &d.h.acls)?;
            if let Some(extra) = words.first() {
                return Err(format!(
                    "unexpected argument '{extra}' after 'use_backend {name}' (expected 'if' or 'unless')"
                ));
            }
            if let Some(c) = &cond {
                rules::check_needs(c.needs(), Stage::HttpRequest)?;
            }
            d.fe_rules.use_backend.push((target, cond));
            d.h.use_backend_at.push(origin.clone());
        }
        "monitor-uri" => {
            d.allow(kw, true, false, true)?;
            let uri = need(args, 1, "a URI")?;
            only(args, 2)?;
            d.fe_rules.monitor_uri = Some(uri.to_string());
        }
        "capture" => {
            d.allow(kw, true, false, false)?;
            parse_capture(d, args)?;
        }
        "tcp-request" => parse_tcp_request(d, args)?,
        "errorfile" => {
            let code = need(args, 1, "a status code and a file")?;
            let file = need(args, 2, "a file after the status code")?;
            only(args, 3)?;
            let code = super::errors::code(kw, code)?;
            let bytes = super::errors::read(&format!("errorfile {code}"), file)?;
            d.http.errorfiles.push((code, bytes));
        }
        "errorfiles" => {
            let name = need(args, 1, "the name of an 'http-errors' section")?;
            let codes = args[2..]
                .iter()
                .map(|c| super::errors::code(kw, c))
                .collect::<Result<Vec<u16>, String>>()?;
            let at = d.http.errorfiles.len();
            d.h.errorfiles_at.push((at, name.to_string(), codes));
            d.h.error_sections.push((name.to_string(), origin.clone()));
        }
        "http-error" => {
            // `http-error status CODE [reply options]`, the code first.
            let code = match args.get(1..3) {
                Some([k, c]) if k == "status" => super::errors::code(kw, c)?,
                _ => return Err(format!("'{kw}' expects 'status' and a status code")),
            };
            let r = rules::reply_with(kw, &args[3..], Stage::HttpRequest, code)?;
            if r.status != code {
                return Err(format!("'{kw}': 'status' may be given only once"));
            }
            if let Some(crate::http::rules::ReplyRaw::Section(n)) = &r.raw {
                d.h.error_sections.push((n.clone(), origin.clone()));
            }
            d.http.http_errors.push(r);
        }
        _ => {
            d.allow(kw, false, false, false)?;
            note_http(d, kw, origin);
            let r = rules::legacy(kw, args, &d.h.acls)?;
            let h = &mut d.h;
            let list = match kw {
                "reqadd" => &mut h.req_add,
                "rspadd" => &mut h.res_add,
                _ if kw.starts_with("req") => &mut h.req_legacy,
                _ => &mut h.res_legacy,
            };
            list.push(r);
        }
    }
    Ok(())
}

/// A reply naming an `http-errors` section: checked once all are read.
fn note_sections(d: &mut Draft, r: &Rule, origin: &Origin) {
    if let Some(n) = super::errors::section_of(r) {
        d.h.error_sections.push((n.to_string(), origin.clone()));
    }
}

/// `http-request capture ... len N` takes a new request capture slot (in a
/// frontend); `... id N` writes to slot N, declared before.
fn capture_slot(
    d: &mut Draft,
    c: &mut crate::http::rules::Capture,
    kw: &str,
) -> Result<(), String> {
    let req = kw == "http-request";
    let dir = if req { "request" } else { "response" };
    if !d.kind.fe() {
        return Err(format!(
            "'{kw} capture' in a 'backend' section is not supported yet"
        ));
    }
    let slots = if req {
        &mut d.fe_rules.captures_req
    } else {
        &mut d.fe_rules.captures_res
    };
    match c.slot {
        None => {
            slots.push((String::new(), c.len));
            c.slot = Some(slots.len() - 1);
        }
        Some(id) => {
            c.len = slots
                .get(id)
                .map(|s| s.1)
                .ok_or_else(|| format!("'{kw} capture ... id {id}': no {dir} capture slot {id} declared (see 'declare capture {dir} len N')"))?;
        }
    }
    Ok(())
}

/// `declare capture request|response len N`: a capture slot that rules fill.
pub(crate) fn declare_capture(d: &mut Draft, args: &[String]) -> Result<(), String> {
    let usage = "'declare' expects 'capture request len N' or 'capture response len N'";
    let (Some("capture"), Some(dir), Some("len"), Some(n)) = (
        args.get(1).map(String::as_str),
        args.get(2).map(String::as_str),
        args.get(3).map(String::as_str),
        args.get(4),
    ) else {
        return Err(usage.into());
    };
    only(args, 5)?;
    let len = values::parse_int("'declare capture ... len'", n, 1, 65535)? as usize;
    match dir {
        "request" => d.fe_rules.captures_req.push((String::new(), len)),
        "response" => d.fe_rules.captures_res.push((String::new(), len)),
        _ => return Err(usage.into()),
    }
    Ok(())
}

/// `capture request header NAME len N`, `capture response header NAME len N`,
/// `capture cookie NAME len N`.
fn parse_capture(d: &mut Draft, args: &[String]) -> Result<(), String> {
    let usage = "'capture' expects 'cookie NAME len N', 'request header NAME len N' or 'response header NAME len N'";
    let (name_at, which) = match (
        args.get(1).map(String::as_str),
        args.get(2).map(String::as_str),
    ) {
        (Some("cookie"), _) => (2, "cookie"),
        (Some("request"), Some("header")) => (3, "request"),
        (Some("response"), Some("header")) => (3, "response"),
        _ => return Err(usage.into()),
    };
    let name = args.get(name_at).ok_or(usage)?;
    if args.get(name_at + 1).map(String::as_str) != Some("len") {
        return Err(usage.into());
    }
    let len = values::parse_int(
        "'capture ... len'",
        args.get(name_at + 2).ok_or(usage)?,
        1,
        65535,
    )? as usize;
    only(args, name_at + 3)?;
    let entry = (name.clone(), len);
    match which {
        "cookie" => {
            if d.fe_rules.capture_cookie.is_some() {
                return Err("only one 'capture cookie' is allowed".into());
            }
            d.fe_rules.capture_cookie = Some(entry);
        }
        "request" => d.fe_rules.captures_req.push(entry),
        _ => d.fe_rules.captures_res.push(entry),
    }
    Ok(())
}

fn parse_tcp_request(d: &mut Draft, args: &[String]) -> Result<(), String> {
    let what = need(args, 1, "'connection', 'content' or 'inspect-delay'")?;
    let kw = format!("tcp-request {what}");
    match what {
        "connection" => {
            d.allow(&kw, true, false, false)?;
            let r = rules::tcp(&args[2..], &d.h.acls, Stage::TcpConnection)?;
            d.fe_rules.tcp_conn.push(r);
        }
        "content" | "inspect-delay" => {
            d.allow(&kw, false, false, false)?;
            if !d.kind.fe() {
                return Err(format!("'{kw}' in a backend is not supported yet"));
            }
            if what == "content" {
                let r = rules::tcp(&args[2..], &d.h.acls, Stage::TcpContent)?;
                d.fe_rules.tcp_content.push(r);
            } else {
                let t = need(args, 2, "a time value like '5s'")?;
                only(args, 3)?;
                let t = values::parse_time("'tcp-request inspect-delay'", t)?;
                d.fe_rules.inspect_delay = (!t.is_zero()).then_some(t);
            }
        }
        "session" => return Err("'tcp-request session' is not supported yet".into()),
        _ => {
            return Err(format!(
                "'tcp-request' expects 'connection', 'content' or 'inspect-delay', got '{what}'"
            ))
        }
    }
    Ok(())
}

/// HTTP `option`s; `name` is at `args[at]`. Returns Ok(false) if `name` is
/// not one of them.
pub(crate) fn parse_option(
    d: &mut Draft,
    args: &[String],
    at: usize,
    on: bool,
) -> Result<bool, String> {
    let name = args[at].as_str();
    let mode = match name {
        "http-keep-alive" => ConnMode::KeepAlive,
        "http-server-close" => ConnMode::ServerClose,
        "httpclose" => ConnMode::Close,
        "forwardfor" | "originalto" => {
            if !on {
                only(args, at + 1)?;
                if name == "forwardfor" {
                    d.http.forwardfor = None;
                } else {
                    d.http.originalto = None;
                }
                return Ok(true);
            }
            parse_forward_option(d, name, &args[at + 1..])?;
            return Ok(true);
        }
        "http-ignore-probes" => {
            only(args, at + 1)?;
            if !d.ignored(&format!("option {name}"), true, false) {
                d.http.ignore_probes = on;
            }
            return Ok(true);
        }
        "http-buffer-request" => {
            only(args, at + 1)?;
            d.http.buffer_request = on;
            return Ok(true);
        }
        _ => return Ok(false),
    };
    only(args, at + 1)?;
    if on {
        d.http.conn_mode = mode;
    } else if d.http.conn_mode == mode {
        d.http.conn_mode = ConnMode::KeepAlive;
    }
    Ok(true)
}

/// `option forwardfor [except NET] [header NAME] [if-none]`,
/// `option originalto [except NET] [header NAME]`.
fn parse_forward_option(d: &mut Draft, name: &str, opts: &[String]) -> Result<(), String> {
    let mut except = None;
    let mut header = None;
    let mut if_none = false;
    let mut i = 0;
    while let Some(o) = opts.get(i) {
        let arg = || {
            opts.get(i + 1)
                .ok_or_else(|| format!("'option {name}': '{o}' expects an argument"))
        };
        match o.as_str() {
            "except" => {
                except = Some(parse_net(arg()?).map_err(|e| format!("'option {name}': {e}"))?);
                i += 1;
            }
            "header" => {
                let h = arg()?;
                if h.is_empty() {
                    return Err(format!("'option {name}': empty header name"));
                }
                header = Some(h.clone());
                i += 1;
            }
            "if-none" if name == "forwardfor" => if_none = true,
            _ => return Err(format!("'option {name}': unknown parameter '{o}'")),
        }
        i += 1;
    }
    if name == "forwardfor" {
        d.http.forwardfor = Some(ForwardFor {
            except,
            header: header.unwrap_or_else(|| "X-Forwarded-For".into()),
            if_none,
        });
    } else {
        d.http.originalto = Some(OriginalTo {
            except,
            header: header.unwrap_or_else(|| "X-Original-To".into()),
        });
    }
    Ok(())
}

/// `compression algo A...|type T...|offload`, HAProxy 2.6's grammar and
/// messages: each `algo` and `type` line adds to the list (a proxy adds to
/// what its defaults gave), `offload` is ignored in `defaults`.
fn compression(d: &mut Draft, args: &[String]) -> Result<(), String> {
    use crate::http::compress::Algo;
    let what = args.get(1).map(String::as_str);
    if what == Some("offload") {
        only(args, 2)?;
        if d.kind == Kind::Defaults {
            d.notes
                .push("'compression' : 'offload' ignored in 'defaults' section.".into());
        } else {
            d.http
                .compression
                .get_or_insert_with(Default::default)
                .offload = true;
        }
        return Ok(());
    }
    let c = d.http.compression.get_or_insert_with(Default::default);
    match what {
        Some("algo") => {
            if args.len() < 3 {
                return Err("'compression' expects <algorithm>.".into());
            }
            for a in &args[2..] {
                let algo = Algo::parse(a).ok_or_else(|| {
                    format!("'compression' : '{a}' is not a supported algorithm.")
                })?;
                // HAProxy puts each one at the head of its list.
                c.algos.insert(0, algo);
            }
        }
        Some("type") => {
            if args.len() < 3 {
                return Err("'compression' expects <type>.".into());
            }
            for t in &args[2..] {
                c.types.insert(0, t.clone());
            }
        }
        _ => return Err("'compression' expects 'algo', 'type' or 'offload'".into()),
    }
    Ok(())
}
