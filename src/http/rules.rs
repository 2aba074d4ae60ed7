//! `http-request`, `http-response`, the HAProxy 1.x `req*`/`rsp*` line
//! rules, `redirect` and `tcp-request` rules: the compiled model (built by
//! the config loader) and the executors the session engine calls.

use std::net::SocketAddr;

use regex::Captures;

use super::acl::{eval_opt_with, Re, Truth};
use super::fetch::{to_text, FetchCtx, Stamp, TxnView};
use super::format::Format;
use super::message::{Headers, Request, Response};
use super::Version;
use crate::sample::vars::Vars;
use crate::sample::Value;

pub use model::*;

/// `tcp-request connection|content` rules: the first accept or reject
/// whose condition holds decides (`set-var` rules run and go on); none
/// does: accept. Only `Accept` or `Reject` is returned. `None`: a
/// condition needs more payload (only while `ctx.payload_complete` is
/// false) — wait and run them again.
/// As in HAProxy, a later run starts over from the first rule: the
/// `set-var` rules before the one that waited run again, on more payload.
pub fn run_tcp(rules: &[TcpRule], ctx: &FetchCtx) -> Option<TcpAction> {
    run_tcp_tracked(rules, ctx, None)
}

/// [`run_tcp`] with stick counters: conditions read `tracker.counters()`
/// and `track-scN`/`sc-*` actions go to it. Running the rules again after
/// `None` tracks nothing twice (a tracked slot stays as it is).
pub fn run_tcp_tracked(
    rules: &[TcpRule],
    ctx: &FetchCtx,
    mut tracker: Option<&mut dyn Tracker>,
) -> Option<TcpAction> {
    for r in rules {
        let sc = tracker.as_deref().map(|t| t.counters());
        match eval_opt_with(r.cond.as_ref(), ctx, sc) {
            Truth::True => {}
            Truth::False => continue,
            Truth::NeedMore => return None,
        }
        match &r.action {
            TcpAction::SetVar(sv) => sv.run(ctx),
            TcpAction::Sc(Action::TrackSc(t)) => {
                if let (Some(tr), Some(key)) = (tracker.as_deref_mut(), t.key.fetch_one(ctx)) {
                    tr.track(t, &key);
                }
            }
            TcpAction::Sc(a) => {
                if let Some(tr) = tracker.as_deref() {
                    sc_action(a, ctx, tr.counters());
                }
            }
            a => return Some(a.clone()),
        }
    }
    Some(TcpAction::Accept)
}

/// Runs request rules in order; the first allow, deny, tarpit, redirect or
/// return stops.
/// `track-scN` actions do nothing here; see [`run_request_tracked`].
pub fn run_request(rules: &[Rule], req: &mut Request, src: SocketAddr, dst: SocketAddr) -> Verdict {
    run_request_inner(rules, req, src, dst, None, &Vars::default())
}

/// [`run_request`] with stick counters: `track-scN` actions call
/// `tracker.track`, and conditions read `tracker.counters()`, so a rule
/// sees what the rules before it tracked.
pub fn run_request_tracked(
    rules: &[Rule],
    req: &mut Request,
    src: SocketAddr,
    dst: SocketAddr,
    tracker: &mut dyn Tracker,
) -> Verdict {
    run_request_inner(rules, req, src, dst, Some(tracker), &Vars::default())
}

/// [`run_request_tracked`] with the stream's variables; `set-src` and
/// its siblings change `addrs` (source, destination).
pub fn run_request_in(
    rules: &[Rule],
    req: &mut Request,
    addrs: &mut (SocketAddr, SocketAddr),
    tracker: &mut dyn Tracker,
    vars: &Vars,
) -> Verdict {
    run_request_from(rules, None, req, addrs, tracker, vars)
}

/// [`run_request_in`] resumed at rule `resume` (a `wait-for-body` that
/// paused them), whose condition is not evaluated again (HAProxy).
pub fn run_request_from(
    rules: &[Rule],
    resume: Option<usize>,
    req: &mut Request,
    addrs: &mut (SocketAddr, SocketAddr),
    tracker: &mut dyn Tracker,
    vars: &Vars,
) -> Verdict {
    let (src, dst) = *addrs;
    let mut out = (src, dst);
    let v = run_request_addrs(rules, resume, req, &mut out, Some(tracker), vars);
    *addrs = out;
    v
}

fn run_request_inner(
    rules: &[Rule],
    req: &mut Request,
    src: SocketAddr,
    dst: SocketAddr,
    tracker: Option<&mut dyn Tracker>,
    vars: &Vars,
) -> Verdict {
    run_request_addrs(rules, None, req, &mut (src, dst), tracker, vars)
}

fn run_request_addrs(
    rules: &[Rule],
    resume: Option<usize>,
    req: &mut Request,
    addrs: &mut (SocketAddr, SocketAddr),
    mut tracker: Option<&mut dyn Tracker>,
    vars: &Vars,
) -> Verdict {
    for (i, rule) in rules.iter().enumerate().skip(resume.unwrap_or(0)) {
        let (src, dst) = *addrs;
        let mut ctx = FetchCtx::http(src, dst, Some(req), None).with_vars(vars);
        ctx.txn = tracker.as_deref().map(|t| t.txn()).unwrap_or_default();
        let sc = tracker.as_deref().map(|t| t.counters());
        let resumed = resume == Some(i);
        if !resumed && eval_opt_with(rule.cond.as_ref(), &ctx, sc) != Truth::True {
            continue;
        }
        match &rule.action {
            Action::WaitForBody { time, at_least } => {
                // Without a body to wait for (no request context), go on.
                match ctx.txn.body {
                    Some(b) if !b.enough(*at_least) => {
                        return Verdict::WaitBody {
                            rule: i,
                            time: *time,
                            at_least: *at_least,
                        }
                    }
                    _ => continue,
                }
            }
            Action::TrackSc(t) => {
                // Owned: the key may be a capture or the unique id, which
                // the tracker holds and is about to be changed through.
                let key = t.key.fetch_one(&ctx).map(Value::into_owned);
                if let (Some(tr), Some(key)) = (tracker.as_deref_mut(), key) {
                    tr.track(t, &key);
                }
                continue;
            }
            Action::Capture(c) => {
                let v = c.expr.fetch_one(&ctx).map(|s| cut(&to_text(&s), c.len));
                if let (Some(tr), Some(v), Some(slot)) = (tracker.as_deref_mut(), v, c.slot) {
                    tr.capture(slot, v);
                }
                continue;
            }
            _ => {}
        }
        if let Action::ScIncGpc(..) | Action::ScSetGpt0(..) = &rule.action {
            if let Some(tr) = tracker.as_deref() {
                sc_action(&rule.action, &ctx, tr.counters());
            }
            continue;
        }
        if let Action::SetVar(sv) = &rule.action {
            sv.run(&ctx);
            continue;
        }
        if let Action::SetAddr(which, e) = &rule.action {
            if let Some(s) = e.fetch_one(&ctx) {
                let at = match which {
                    Addr::Src | Addr::SrcPort => &mut addrs.0,
                    Addr::Dst | Addr::DstPort => &mut addrs.1,
                };
                if let Some(new) = which.apply(*at, &s) {
                    *at = new;
                }
            }
            continue;
        }
        let txn = tracker.as_deref().map(|t| t.txn()).unwrap_or_default();
        let v = apply_request(&rule.action, req, src, dst, txn, vars);
        let err = matches!(
            v,
            Verdict::Deny(_) | Verdict::DenyWith(..) | Verdict::Tarpit(_)
        );
        if err || matches!(rule.action, Action::Auth(_)) {
            if let Some(tr) = tracker.as_deref_mut() {
                tr.http_err();
            }
        }
        if v != Verdict::Continue {
            return v;
        }
    }
    Verdict::Continue
}

/// Runs response rules in order; the first allow, deny or return stops.
pub fn run_response(
    rules: &[Rule],
    req: &Request,
    res: &mut Response,
    src: SocketAddr,
    dst: SocketAddr,
) -> Verdict {
    let mut none = Vec::new();
    let mut txn = ResTxn {
        captured_req: &[],
        captured_res: &mut none,
        unique_id: None,
        stamp: Stamp::default(),
    };
    run_response_txn(rules, req, res, (src, dst), &mut txn, &Vars::default())
}

/// What response rules see of the transaction and may fill.
pub struct ResTxn<'a> {
    pub captured_req: &'a [Option<String>],
    /// `http-response capture ... id N` writes slot N.
    pub captured_res: &'a mut Vec<Option<String>>,
    pub unique_id: Option<&'a str>,
    pub stamp: Stamp<'a>,
}

/// [`run_response`] with the transaction's captures and unique id.
pub fn run_response_txn(
    rules: &[Rule],
    req: &Request,
    res: &mut Response,
    addrs: (SocketAddr, SocketAddr),
    txn: &mut ResTxn,
    vars: &Vars,
) -> Verdict {
    run_response_tracked(rules, req, res, addrs, txn, vars, None)
}

/// [`run_response_txn`] with stick counters: conditions read
/// `tracker.counters()`, `sc-inc-gpc0/1` and `sc-set-gpt0` go to it.
pub fn run_response_tracked(
    rules: &[Rule],
    req: &Request,
    res: &mut Response,
    (src, dst): (SocketAddr, SocketAddr),
    txn: &mut ResTxn,
    vars: &Vars,
    tracker: Option<&mut dyn Tracker>,
) -> Verdict {
    let sc = tracker.as_deref().map(|t| t.counters());
    for rule in rules {
        let mut ctx = FetchCtx::http(src, dst, Some(req), Some(res)).with_vars(vars);
        ctx.txn = TxnView {
            captured_req: txn.captured_req,
            captured_res: txn.captured_res,
            unique_id: txn.unique_id,
            stamp: txn.stamp,
            body: None,
        };
        if eval_opt_with(rule.cond.as_ref(), &ctx, sc) != Truth::True {
            continue;
        }
        if let Action::SetVar(sv) = &rule.action {
            sv.run(&ctx);
            continue;
        }
        if let Action::ScIncGpc(..) | Action::ScSetGpt0(..) = &rule.action {
            if let Some(sc) = sc {
                sc_action(&rule.action, &ctx, sc);
            }
            continue;
        }
        if let Action::Capture(c) = &rule.action {
            let v = c.expr.fetch_one(&ctx).map(|s| cut(&to_text(&s), c.len));
            if let (Some(v), Some(slot)) = (v, c.slot.and_then(|i| txn.captured_res.get_mut(i))) {
                *slot = Some(v);
            }
            continue;
        }
        let view = TxnView {
            captured_req: txn.captured_req,
            captured_res: txn.captured_res,
            unique_id: txn.unique_id,
            stamp: txn.stamp,
            body: None,
        };
        let v = apply_response(&rule.action, req, res, src, dst, view, vars);
        if v != Verdict::Continue {
            return v;
        }
    }
    Verdict::Continue
}

/// A capture's text: at most `len` bytes, cut on a character boundary.
fn cut(v: &str, len: usize) -> String {
    let mut end = v.len().min(len);
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    v[..end].to_string()
}

/// A request rule's fetch context: the message and the transaction.
fn ctx_at<'a>(
    src: SocketAddr,
    dst: SocketAddr,
    req: &'a Request,
    txn: TxnView<'a>,
    vars: &'a Vars,
) -> FetchCtx<'a> {
    let mut c = FetchCtx::http(src, dst, Some(req), None).with_vars(vars);
    c.txn = txn;
    c
}

fn apply_request(
    a: &Action,
    req: &mut Request,
    src: SocketAddr,
    dst: SocketAddr,
    txn: TxnView,
    vars: &Vars,
) -> Verdict {
    let render = |f: &Format, req: &Request| f.render(&ctx_at(src, dst, req, txn, vars));
    match a {
        Action::SetPath(f) => {
            let v = render(f, req);
            let (head, _, query) = split_uri(&req.uri);
            req.uri = format!(
                "{head}{v}{}",
                query.map_or(String::new(), |q| format!("?{q}"))
            );
        }
        Action::SetQuery(f) => {
            let v = render(f, req);
            let (head, path, _) = split_uri(&req.uri);
            let q = if v.is_empty() { v } else { format!("?{v}") };
            req.uri = format!("{head}{path}{q}");
        }
        Action::SetMethod(f) => {
            let v = render(f, req);
            if !v.is_empty() {
                req.method = v;
            }
        }
        Action::SetUri(f) => {
            let v = render(f, req);
            if !v.is_empty() {
                req.uri = v;
            }
        }
        Action::Redirect(r) => {
            let ctx = ctx_at(src, dst, req, txn, vars);
            return Verdict::Respond(redirect_response(r, req, &ctx));
        }
        Action::Return(r) | Action::DenyReply(r) => {
            let ctx = ctx_at(src, dst, req, txn, vars);
            return reply_verdict(a, r, &ctx, req.method == "HEAD");
        }
        Action::UseService(svc) => return Verdict::Service(*svc),
        Action::Auth(realm) => {
            return Verdict::Respond(unauthorized(realm.as_deref().unwrap_or("")));
        }
        Action::LineReplace(re, repl) => {
            let line = format!("{} {} {}", req.method, req.uri, version_str(req.version));
            if let Some(c) = re.0.captures(&line) {
                let new = expand(repl, &c);
                let mut it = new.split(' ').filter(|w| !w.is_empty());
                match (
                    it.next(),
                    it.next(),
                    it.next().and_then(parse_version),
                    it.next(),
                ) {
                    (Some(m), Some(u), Some(v), None) => {
                        req.method = m.to_string();
                        req.uri = u.to_string();
                        req.version = v;
                    }
                    // The rewritten request line is not a request line.
                    _ => return Verdict::Deny(400),
                }
            }
            replace_lines(req.headers_mut(), re, repl);
        }
        Action::LineDeny(re, _) | Action::LineAllow(re) | Action::LineTarpit(re) => {
            let line = format!("{} {} {}", req.method, req.uri, version_str(req.version));
            if re.0.is_match(&line) || any_line(req.headers(), re) {
                return match a {
                    Action::LineDeny(_, code) => Verdict::Deny(*code),
                    Action::LineAllow(_) => Verdict::Allow,
                    _ => Verdict::Tarpit(500),
                };
            }
        }
        _ => {
            let ctx = ctx_at(src, dst, req, txn, vars);
            let edit = header_edit(a, &ctx);
            return edit.apply(req.headers_mut());
        }
    }
    Verdict::Continue
}

fn apply_response(
    a: &Action,
    req: &Request,
    res: &mut Response,
    src: SocketAddr,
    dst: SocketAddr,
    txn: TxnView,
    vars: &Vars,
) -> Verdict {
    match a {
        Action::SetStatus(code, reason) => {
            res.status = *code;
            res.reason = reason
                .clone()
                .unwrap_or_else(|| reason_phrase(*code).into());
        }
        Action::Return(r) | Action::DenyReply(r) => {
            let mut ctx = FetchCtx::http(src, dst, Some(req), Some(res)).with_vars(vars);
            ctx.txn = txn;
            return reply_verdict(a, r, &ctx, req.method == "HEAD");
        }
        Action::LineReplace(re, repl) => {
            let line = format!("{} {} {}", version_str(res.version), res.status, res.reason);
            if let Some(c) = re.0.captures(&line) {
                let new = expand(repl, &c);
                let mut it = new.splitn(3, ' ');
                let v = it.next().and_then(parse_version);
                let s = it.next().and_then(|s| s.parse::<u16>().ok());
                match (v, s) {
                    (Some(v), Some(s)) if (100..=999).contains(&s) => {
                        res.version = v;
                        res.status = s;
                        res.reason = it.next().unwrap_or("").to_string();
                    }
                    _ => return Verdict::Deny(502),
                }
            }
            replace_lines(res.headers_mut(), re, repl);
        }
        Action::LineDeny(re, _) | Action::LineAllow(re) => {
            let line = format!("{} {} {}", version_str(res.version), res.status, res.reason);
            if re.0.is_match(&line) || any_line(res.headers(), re) {
                return match a {
                    Action::LineDeny(_, code) => Verdict::Deny(*code),
                    _ => Verdict::Allow,
                };
            }
        }
        _ => {
            let mut ctx = FetchCtx::http(src, dst, Some(req), Some(res)).with_vars(vars);
            ctx.txn = txn;
            let edit = header_edit(a, &ctx);
            return edit.apply(res.headers_mut());
        }
    }
    Verdict::Continue
}

/// A header action with its formats already rendered (so the message can
/// be borrowed mutably afterwards).
enum Edit<'a> {
    Add(&'a str, String),
    Set(&'a str, String),
    Del(&'a str),
    Replace(&'a str, &'a Re, String, bool),
    LineAdd(&'a str),
    LineDel(&'a Re),
    Stop(Verdict),
}

fn header_edit<'a>(a: &'a Action, ctx: &FetchCtx) -> Edit<'a> {
    match a {
        Action::AddHeader(n, f) => Edit::Add(n, f.render(ctx)),
        Action::SetHeader(n, f) => Edit::Set(n, f.render(ctx)),
        Action::DelHeader(n) => Edit::Del(n),
        Action::ReplaceHeader(n, re, f) => Edit::Replace(n, re, f.render(ctx), false),
        Action::ReplaceValue(n, re, f) => Edit::Replace(n, re, f.render(ctx), true),
        Action::LineAdd(l) => Edit::LineAdd(l),
        Action::LineDel(re) => Edit::LineDel(re),
        Action::Allow => Edit::Stop(Verdict::Allow),
        Action::Deny(c) => Edit::Stop(Verdict::Deny(*c)),
        Action::Tarpit(c) => Edit::Stop(Verdict::Tarpit(*c)),
        // Request-only actions met in a response rule set (the config loader
        // does not build these): no effect.
        _ => Edit::Stop(Verdict::Continue),
    }
}

impl Edit<'_> {
    fn apply(self, h: &mut Vec<(String, String)>) -> Verdict {
        match self {
            Edit::Add(n, v) => h.push((n.to_string(), v)),
            Edit::Set(n, v) => {
                h.retain(|(x, _)| !x.eq_ignore_ascii_case(n));
                h.push((n.to_string(), v));
            }
            Edit::Del(n) => h.retain(|(x, _)| !x.eq_ignore_ascii_case(n)),
            Edit::Replace(n, re, repl, per_value) => {
                for (name, value) in h.iter_mut() {
                    if !name.eq_ignore_ascii_case(n) {
                        continue;
                    }
                    if per_value {
                        let parts: Vec<String> = value
                            .split(',')
                            .map(|v| replace_whole(re, v.trim(), &repl))
                            .collect();
                        *value = parts.join(", ");
                    } else {
                        *value = replace_whole(re, value, &repl);
                    }
                }
            }
            Edit::LineAdd(l) => {
                let (n, v) = l.split_once(':').unwrap_or((l, ""));
                h.push((n.trim().to_string(), v.trim().to_string()));
            }
            Edit::LineDel(re) => h.retain(|(n, v)| !re.0.is_match(&format!("{n}: {v}"))),
            Edit::Stop(v) => return v,
        }
        Verdict::Continue
    }
}

/// If `re` matches `s`, the whole of `s` becomes `repl` with its backrefs.
fn replace_whole(re: &Re, s: &str, repl: &str) -> String {
    match re.0.captures(s) {
        Some(c) => expand(repl, &c),
        None => s.to_string(),
    }
}

fn any_line(h: &[(String, String)], re: &Re) -> bool {
    h.iter().any(|(n, v)| re.0.is_match(&format!("{n}: {v}")))
}

/// `reqrep` on header lines; a rewritten line without a colon is dropped.
fn replace_lines(h: &mut Vec<(String, String)>, re: &Re, repl: &str) {
    let mut out = Vec::with_capacity(h.len());
    for (n, v) in h.drain(..) {
        let line = format!("{n}: {v}");
        match re.0.captures(&line) {
            None => out.push((n, v)),
            Some(c) => {
                let new = expand(repl, &c);
                if let Some((n, v)) = new.split_once(':') {
                    out.push((n.trim().to_string(), v.trim().to_string()));
                }
            }
        }
    }
    *h = out;
}

/// HAProxy's replacement strings: `\N` is group N (0-9), `\xHH` a byte,
/// `\\` a backslash; other text is copied.
pub fn expand(repl: &str, caps: &Captures) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some(d @ '0'..='9') => {
                chars.next();
                let n = d as usize - '0' as usize;
                out.push_str(caps.get(n).map_or("", |m| m.as_str()));
            }
            Some('x') => {
                chars.next();
                let h: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&h, 16) {
                    Ok(b) => out.push(b as char),
                    Err(_) => {
                        out.push_str("\\x");
                        out.push_str(&h);
                    }
                }
            }
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// Splits a request target into (scheme://authority, path, query).
fn split_uri(uri: &str) -> (&str, &str, Option<&str>) {
    let (before_q, query) = match uri.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (uri, None),
    };
    let head_len = match before_q.find("://") {
        Some(i) => before_q[i + 3..]
            .find('/')
            .map_or(before_q.len(), |j| i + 3 + j),
        None => 0,
    };
    (&before_q[..head_len], &before_q[head_len..], query)
}

fn version_str(v: Version) -> &'static str {
    match v {
        Version::Http10 => "HTTP/1.0",
        Version::Http11 => "HTTP/1.1",
    }
}

fn parse_version(s: &str) -> Option<Version> {
    match s {
        "HTTP/1.0" => Some(Version::Http10),
        "HTTP/1.1" => Some(Version::Http11),
        _ => None,
    }
}

/// The Location a redirect rule sends for this request.
fn location(r: &Redirect, req: &Request, ctx: &FetchCtx) -> String {
    let target = r.target.render(ctx);
    if r.kind == RedirectKind::Location {
        return target;
    }
    let mut path = req.path().to_string();
    if path.is_empty() {
        path.push('/');
    }
    if !r.drop_query {
        if let Some(q) = req.query() {
            path = format!("{path}?{q}");
        }
    }
    if r.append_slash && !path.ends_with('/') {
        path.push('/');
    }
    match r.kind {
        // A prefix of "/" means the path alone (no double slash).
        RedirectKind::Prefix if target == "/" => path,
        RedirectKind::Prefix => format!("{target}{path}"),
        _ => format!("{target}://{}{path}", req.header("host").unwrap_or("")),
    }
}

fn redirect_response(r: &Redirect, req: &Request, ctx: &FetchCtx) -> Vec<u8> {
    let loc = location(r, req, ctx);
    format!(
        "HTTP/1.1 {} {}\r\ncontent-length: 0\r\nlocation: {loc}\r\ncache-control: no-cache\r\n\r\n",
        r.code,
        reason_phrase(r.code)
    )
    .into_bytes()
}

/// The raw bytes of an `http-request return` response.
/// What a `return` or a `deny` with reply options answers.
fn reply_verdict(a: &Action, r: &Reply, ctx: &FetchCtx, head: bool) -> Verdict {
    let deny = matches!(a, Action::DenyReply(_));
    match (&r.raw, deny) {
        (Some(ReplyRaw::Default), true) => Verdict::Deny(r.status),
        (Some(ReplyRaw::Default), false) => Verdict::Page(r.status),
        (Some(ReplyRaw::Bytes(b)), true) => Verdict::DenyWith(r.status, b.clone()),
        (Some(ReplyRaw::Bytes(b)), false) => Verdict::Respond(b.clone()),
        // Resolved once the configuration is read; kept total.
        (Some(ReplyRaw::Section(_)), true) => Verdict::Deny(r.status),
        (Some(ReplyRaw::Section(_)), false) => Verdict::Page(r.status),
        (None, true) => Verdict::DenyWith(r.status, reply_bytes(r, ctx, head)),
        (None, false) => Verdict::Respond(reply_bytes(r, ctx, head)),
    }
}

/// A reply built from its parts (status, content type, `hdr`s, payload).
pub fn reply_bytes(r: &Reply, ctx: &FetchCtx, head: bool) -> Vec<u8> {
    let body = match &r.body {
        ReplyBody::Empty => Vec::new(),
        ReplyBody::Bytes(b) => b.clone(),
        ReplyBody::Format(f) => f.render(ctx).into_bytes(),
    };
    let mut out = format!("HTTP/1.1 {} {}\r\n", r.status, reason_phrase(r.status)).into_bytes();
    // HAProxy's order: the `hdr`s (those whose value is not empty), then
    // the length, then the type of a body.
    for (n, f) in &r.headers {
        let v = f.render(ctx);
        if !v.is_empty() {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
    }
    // RFC 9110 §8.6: no Content-Length in 1xx and 204; 304 has no body either.
    if !(r.status < 200 || r.status == 204 || r.status == 304) {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    if let (Some(ct), false) = (&r.content_type, body.is_empty()) {
        out.extend_from_slice(format!("content-type: {ct}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    // A response to HEAD has no body (RFC 9110 §9.3.2).
    if !head {
        out.extend_from_slice(&body);
    }
    out
}

/// Reason phrases (RFC 9110 §15) for the statuses rules produce: the one
/// table in errors.rs.
pub fn reason_phrase(code: u16) -> &'static str {
    super::errors::reason(code)
}

/// The 401 of `http-request auth`: the built-in page with a Basic
/// challenge for `realm` (quotes and backslashes dropped: they would end
/// or escape the quoted string).
fn unauthorized(realm: &str) -> Vec<u8> {
    let page = super::errors::default_response(401);
    let at = page
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(page.len(), |i| i + 2);
    let realm = realm.replace(['"', '\\'], "");
    let mut out = page[..at].to_vec();
    out.extend_from_slice(format!("www-authenticate: Basic realm=\"{realm}\"\r\n").as_bytes());
    out.extend_from_slice(&page[at..]);
    out
}

mod model;
mod sc;
use sc::sc_action;
pub use sc::GptValue;

#[cfg(test)]
mod tests;
