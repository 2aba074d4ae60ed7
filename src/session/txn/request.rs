//! The request analysers of a transaction: the request head once parsed
//! (log, captures, framing checks), the monitor URI, the frontend's and the
//! backend's `http-request` rules with their stick counters, the stats page
//! and services, backend switching, persistence (decided by the proxy), and
//! the head made ready for the server.

use super::*;
use crate::http::compress::{self, InForce};

/// The most a stats form body may hold (it must fit in the buffer anyway).
const MAX_APPLET_BODY: usize = 8192;

/// Parse the request head when complete and decide where it goes.
pub(super) fn analyse_request(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    now: Instant,
) -> Outcome {
    if let Some(p) = t.paused.take() {
        return body_wait::resume(s, t, conf, decide, p);
    }
    let Some(head) = t.h1.request_head(&s.conns()) else {
        if s.conns().client_eof() {
            // Closed before any request: HAProxy's CR, logged with a 400
            // for a connection's first (dontlognull skips it); after a
            // kept-alive exchange, not logged at all (`log_close`).
            log_term(s, b"CR");
            if t.requests == 0 {
                // Logged as answered with a 400 (nothing is sent: it is gone).
                t.last_status = Some(400);
                t.response_started = true;
            }
            return Outcome::step(Step::Close);
        }
        return Outcome::NOTHING;
    };
    let (req, head_len) = match head {
        Head::Complete(req, len) => (req, len),
        Head::Partial => {
            if s.conns().client_eof() {
                log::info!(
                    "frontend {}: truncated request from {}",
                    conf.fe_name,
                    s.src
                );
                log_term(s, b"CR");
                let pages = &conf.fe.side.errors;
                return Outcome::on(t.refused(400, pages, pages), Step::Wait);
            }
            return Outcome::NOTHING;
        }
        Head::Invalid(e) => {
            crate::warn_limited!(
                "frontend {}: invalid request from {} at byte {}: {}; answering {}",
                conf.fe_name,
                s.src,
                e.at,
                e.reason,
                e.status
            );
            let bad = BadMessage::new(true, &e, s.conns().client_input().to_vec());
            return bad_message(s, t, conf, bad, e.status, b"CR");
        }
    };
    // A form posted to the stats page is read whole before it is answered.
    let have = s.conns().client_input().len() - head_len;
    if applet_body_missing(conf, &req, have) {
        if s.conns().client_eof() {
            return Outcome::step(Step::Close);
        }
        return Outcome::NOTHING;
    }
    t.h1.take_request_head(&mut s.conns_mut(), head_len);
    on_request(s, t, conf, decide, req, head_len, now)
}

/// A request head arrived: logged, captured, checked; then the monitor
/// URI, the frontend's rules, the stats page, and the backend it goes to.
fn on_request(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    mut req: Request,
    head_len: usize,
    now: Instant,
) -> Outcome {
    if let Some(r) = s.log.as_mut() {
        let v = match req.version {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        };
        r.request(now, &req.method, &req.uri, v);
    }
    t.htx_in += req.htx_len();
    t.events.push(TxnEvent::Request);
    // Captured as received, before any rule rewrites them (HAProxy).
    t.captured_req = capture(&req, &conf.fe.captures_req);
    t.captured_cookie = conf
        .fe
        .capture_cookie
        .as_ref()
        .and_then(|(n, l)| capture_cookie(req.header_values("cookie"), n, *l));
    // Slots without a response show empty (`{|}`), as HAProxy.
    t.captured_res = vec![None; conf.fe.captures_res.len()];
    t.captured_set_cookie = None;
    let ctx = FetchCtx::http(SocketAddr::new(s.src, s.src_port), s.dst, Some(&req), None)
        .with_vars(&s.vars);
    // HAProxy's date of a transaction: the accept, or the previous one's end.
    let date = s
        .log
        .as_ref()
        .map_or_else(std::time::SystemTime::now, |r| r.start_date);
    super::switch::number_request(t, conf, ctx, date);
    if t.trace.is_some() {
        trace_request(s, t, conf, &req);
    }
    if !t.captured_req.is_empty() || t.captured_cookie.is_some() {
        log::debug!(
            "frontend {}: captured {:?} cookie {:?}",
            conf.fe_name,
            t.captured_req,
            t.captured_cookie
        );
    }
    // The rules see the message as it will be forwarded (`forward::before_rules`).
    let framing = match forward::before_rules(&mut req) {
        Ok(f) => f,
        Err((status, why)) => return reject_request(s, t, conf, &req, status, why),
    };
    t.head_method = req.method == "HEAD";
    t.connect_method = req.method == "CONNECT";
    t.since = now;
    t.peer = Some((SocketAddr::new(s.src, s.src_port), s.dst));

    if conf
        .fe
        .monitor_uri
        .as_deref()
        .is_some_and(|u| is_monitor(u, &req))
    {
        // HAProxy never logs monitor requests.
        if let Some(r) = s.log.as_mut() {
            r.silent = true;
        }
        let ok = crate::http::errors::default_response(200);
        return respond_local(t, &req, ok, framing, conf);
    }
    // `track-scN` entries still held from an earlier request count this one.
    decide.count_request(&t.slots);
    front(s, t, conf, decide, req, framing, head_len, None)
}

/// The frontend's rules (from rule `rule` when a `wait-for-body` paused
/// them), the stats page, and the backend the request goes to.
#[allow(clippy::too_many_arguments)]
pub(super) fn front(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    mut req: Request,
    framing: Framing,
    head_len: usize,
    rule: Option<usize>,
) -> Outcome {
    let fe = &conf.fe.side;
    let body = body_wait::view(s, framing, head_len, conf);
    if let (None, Some(time)) = (rule, fe.buffer_request) {
        if !body.enough(0) {
            let at = body_wait::Resume::Front(None);
            return body_wait::pause(t, req, framing, head_len, at, time, 0, Instant::now());
        }
    }
    let dst = s.dst;
    let src = SocketAddr::new(s.src, s.src_port);
    let stamp = super::switch::stamp(t, conf, None);
    let mut tracker = Tracking {
        decide: &mut *decide,
        slots: &mut t.slots,
        own_table: conf.fe_name,
        src: s.src,
        stamp,
        captured: &mut t.captured_req,
        unique_id: t.unique_id.as_deref(),
        body: Some(body),
    };
    let mut addrs = (src, dst);
    let verdict = rules::run_request_from(
        &fe.rules_req,
        rule,
        &mut req,
        &mut addrs,
        &mut tracker,
        &s.vars,
    );
    let (src, dst) = addrs;
    (s.src, s.src_port, s.dst) = (src.ip(), src.port(), dst);
    match verdict {
        Verdict::Continue | Verdict::Allow => {}
        Verdict::WaitBody {
            rule,
            time,
            at_least,
        } => {
            let at = body_wait::Resume::Front(Some(rule));
            let now = Instant::now();
            return body_wait::pause(t, req, framing, head_len, at, Some(time), at_least, now);
        }
        v => {
            log_term(s, verdict_term(&v));
            return verdict_response(t, &mut req, v, framing, fe, conf, s);
        }
    }
    // The stats page comes after the frontend's rules, as in HAProxy.
    if let Some(prefix) = conf.fe.stats_uri.as_deref() {
        if stats_target(prefix, &req).is_some() {
            return to_applet(t, s, req, None, framing, conf);
        }
    }
    let mut ctx = FetchCtx::http(src, dst, Some(&req), None).with_vars(&s.vars);
    ctx.txn.unique_id = t.unique_id.as_deref();
    ctx.txn.captured_req = &t.captured_req;
    ctx.txn.stamp = super::switch::stamp(t, conf, None);
    ctx.txn.body = Some(body_wait::view(s, framing, head_len, conf));
    // `use_backend ... if { sc0_http_req_rate gt 10 }`: counters too.
    let sc = Counters {
        decide: &*decide,
        slots: &t.slots,
        own_table: conf.fe_name,
        src: s.src,
    };
    let Some(bi) = super::switch::choose_backend(conf, &ctx, Some(&sc)) else {
        log::info!("frontend {}: no backend for the request, 503", conf.fe_name);
        super::after::keep_request(t, conf, &req);
        return Outcome::on(t.failed(503, &fe.errors, &fe.errors), Step::Wait);
    };
    to_backend(s, t, conf, decide, req, framing, head_len, bi, None)
}

/// The request goes to backend `bi`: its rules (from rule `rule` when a
/// `wait-for-body` paused them), persistence, then the head as it will be
/// sent to the server.
#[allow(clippy::too_many_arguments)]
pub(super) fn to_backend(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    mut req: Request,
    framing: Framing,
    head_len: usize,
    bi: usize,
    rule: Option<usize>,
) -> Outcome {
    let fe = &conf.fe.side;
    let be = &conf.backends[bi];
    let (src, dst) = (SocketAddr::new(s.src, s.src_port), s.dst);
    let own = conf.fe.own_backend == Some(bi);
    let be_rules: &[Rule] = if own { &[] } else { &be.rules_req };
    // The backend is the stream's now: logs name it, even if it waits here.
    if let Some(r) = s.log.as_mut() {
        r.backend = u32::try_from(bi).ok();
    }
    let body = body_wait::view(s, framing, head_len, conf);
    // The backend's option, unless the frontend's waited already.
    let waited = fe.buffer_request.is_some() || own;
    if let (None, Some(time), false) = (rule, be.buffer_request, waited) {
        if !body.enough(0) {
            let at = body_wait::Resume::Back(bi, None);
            return body_wait::pause(t, req, framing, head_len, at, time, 0, Instant::now());
        }
    }
    // The backend's rules run with the backend chosen (`be_id`, `nbsrv`).
    let mut stamp = super::switch::stamp(t, conf, None);
    stamp.px.backend = Some(bi);
    stamp.backend = conf.be_names.get(bi).map(String::as_str);
    let mut tracker = Tracking {
        decide: &mut *decide,
        slots: &mut t.slots,
        own_table: &conf.be_names[bi],
        src: s.src,
        stamp,
        captured: &mut t.captured_req,
        unique_id: t.unique_id.as_deref(),
        body: Some(body),
    };
    let mut addrs = (src, dst);
    let verdict =
        rules::run_request_from(be_rules, rule, &mut req, &mut addrs, &mut tracker, &s.vars);
    let (src, dst) = addrs;
    (s.src, s.src_port, s.dst) = (src.ip(), src.port(), dst);
    match verdict {
        Verdict::Continue | Verdict::Allow => {}
        Verdict::WaitBody {
            rule,
            time,
            at_least,
        } => {
            let at = body_wait::Resume::Back(bi, Some(rule));
            let now = Instant::now();
            return body_wait::pause(t, req, framing, head_len, at, Some(time), at_least, now);
        }
        v => {
            log_term(s, verdict_term(&v));
            // Denied by the backend: its `http-after-response` rules run.
            t.backend = Some(bi);
            return verdict_response(t, &mut req, v, framing, be, conf, s);
        }
    }
    persistence(t, &mut req, decide, bi, (src, dst), &s.vars);
    // HAProxy adds it before the address headers.
    if let (Some(h), Some(id)) = (
        conf.fe.unique_id.as_ref().and_then(|u| u.header.as_ref()),
        t.unique_id.as_ref(),
    ) {
        req.headers_mut().push((h.clone(), id.clone()));
    }
    // The compression filter's request half: the algorithm, and with
    // `compression offload` no Accept-Encoding for the server.
    t.comp = InForce::of(be.compression.as_ref(), fe.compression.as_ref())
        .and_then(|c| compress::select(&c, &req).map(|a| (a, c.offload)))
        .map(|(a, offload)| {
            if offload {
                req.del_header("accept-encoding");
            }
            a
        });
    prepare_request(s, t, &mut req, &framing, fe, be);
    let head_len = t.h1.send_request_head(&req, framing);
    if head_len > conf.bufsize {
        // HAProxy's strict rewriting: a head grown past the buffer is a 500.
        crate::warn_limited!(
            "frontend {}: rewritten request head of {} bytes exceeds tune.bufsize; answering 500",
            conf.fe_name,
            head_len
        );
        t.h1.cancel_request_head();
        log_term(s, b"PR");
        t.backend = Some(bi);
        super::after::keep_request(t, conf, &req);
        return Outcome::on(t.failed(500, &be.errors, &fe.errors), Step::Wait);
    }
    t.req = Some(req);
    t.backend = Some(bi);
    Outcome::on(Event::Routed, Step::NeedServer(bi))
}

/// A parsed request refused for its meaning (framing, Host, authority):
/// logged, kept for `show errors` (as pollux understood it), answered.
fn reject_request(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    req: &Request,
    status: u16,
    reason: &'static str,
) -> Outcome {
    crate::warn_limited!(
        "frontend {}: invalid request from {}: {}; answering {}",
        conf.fe_name,
        s.src,
        reason,
        status
    );
    let bad = BadMessage::parsed(true, reason, |b| req.serialize(b));
    bad_message(s, t, conf, bad, status, b"CR")
}

/// Cookie and stick-table persistence, as the proxy decides it: which
/// server the request is bound to, if any (the engine connects there
/// instead of balancing); the request cookie is stripped as configured.
fn persistence(
    t: &mut Txn,
    req: &mut Request,
    decide: &mut dyn Decide,
    bi: usize,
    (src, dst): (SocketAddr, SocketAddr),
    vars: &crate::sample::vars::Vars,
) {
    t.forced_server = None;
    t.by_cookie = false;
    t.cookie_req = None;
    t.cookie_in = CookieIn::None;
    t.cookie_out = CookieOut::None;
    if let Some(p) = decide.persist_request(bi, req, src, dst, vars) {
        t.persist_flags = p.flags;
        (t.forced_server, t.by_cookie) = (p.server, p.by_cookie);
        (t.cookie_in, t.cookie_req) = (p.cookie_in, p.cookie_req);
    }
}

/// Connection headers and address headers on the way to the server.
fn prepare_request(
    s: &Session,
    t: &mut Txn,
    req: &mut Request,
    framing: &Framing,
    fe: &HttpSide,
    be: &HttpSide,
) {
    let named = forward::connection_tokens(req);
    let upgrade = named.iter().any(|n| n == "upgrade") && req.header("upgrade").is_some();
    t.client_keep = match req.version {
        Version::Http11 => !named.iter().any(|n| n == "close"),
        Version::Http10 => named.iter().any(|n| n == "keep-alive"),
    };
    let mode = fe.conn_mode.combine(be.conn_mode);
    t.client_keep &= mode != ConnMode::Close && !upgrade && !t.connect_method;
    // HTTP/1.0 clients get a kept-alive server connection too: the request
    // then says so explicitly.
    t.server_keep = mode == ConnMode::KeepAlive && !upgrade && !t.connect_method;
    let connection = if upgrade {
        Some("upgrade")
    } else if !t.server_keep {
        Some("close")
    } else if req.version == Version::Http10 {
        Some("keep-alive")
    } else {
        None
    };
    forward::set_connection(req, connection);
    for ff in [&fe.forwardfor, &be.forwardfor]
        .into_iter()
        .flatten()
        .take(1)
    {
        let present = ff.if_none && req.header(&ff.header).is_some();
        if !in_net(s.src, ff.except) && !present {
            req.add_header(&ff.header, &s.src.to_string());
        }
    }
    for ot in [&fe.originalto, &be.originalto]
        .into_iter()
        .flatten()
        .take(1)
    {
        if !in_net(s.dst.ip(), ot.except) {
            req.add_header(&ot.header, &s.dst.ip().to_string());
        }
    }
    // Whatever the rules did, the head we send is framed as we parsed it.
    forward::impose_request_framing(req, framing);
}

/// The stats page or a `use-service`: the engine answers (see
/// [`Txn::applet`]); the body of a small form comes along.
fn to_applet(
    t: &mut Txn,
    s: &mut Session,
    req: Request,
    service: Option<rules::Service>,
    framing: Framing,
    conf: &Conf,
) -> Outcome {
    let mut body = Vec::new();
    let mut keep = wants_keep_alive(&req) && conf.fe.side.conn_mode != ConnMode::Close;
    match framing {
        Framing::None => {}
        Framing::Length(n) if n as usize <= MAX_APPLET_BODY => {
            body = t.h1.take_request_body(&mut s.conns_mut(), n as usize);
            t.htx_in += body.len() as u64;
        }
        // Anything else is not read: close after the answer.
        _ => keep = false,
    }
    t.response_started = true;
    t.applet = Some(Box::new(AppletReq {
        service,
        req,
        body,
        src: SocketAddr::new(s.src, s.src_port),
        dst: s.dst,
        keep,
    }));
    Outcome::on(Event::Answer, Step::Wait)
}

/// A POST to the stats page whose body has not fully arrived yet.
fn applet_body_missing(conf: &Conf, req: &Request, have: usize) -> bool {
    let Some(prefix) = conf.fe.stats_uri.as_deref() else {
        return false;
    };
    if stats_target(prefix, req).is_none() {
        return false;
    }
    match body::request_framing(req) {
        Ok(Framing::Length(n)) => (n as usize) <= MAX_APPLET_BODY && have < n as usize,
        _ => false,
    }
}

/// `monitor-uri U`: the whole target is U, or, when U starts with '/', its
/// path (query included) is: an absolute-form `GET http://h/U` matches as
/// in HAProxy 2.6 (`http_wait_for_request`).
fn is_monitor(u: &str, req: &Request) -> bool {
    req.uri == u || (u.starts_with('/') && req.path_on() == Some(u))
}

/// The target a `stats uri` prefix is matched against (its path when the
/// prefix starts with '/', as HAProxy), if the prefix matches.
pub fn stats_target<'a>(prefix: &str, req: &'a Request) -> Option<&'a str> {
    let target = if prefix.starts_with('/') {
        req.path_on()?
    } else {
        req.uri.as_str()
    };
    target.starts_with(prefix).then_some(target)
}

fn wants_keep_alive(req: &Request) -> bool {
    let named = forward::connection_tokens(req);
    match req.version {
        Version::Http11 => !named.iter().any(|n| n == "close"),
        Version::Http10 => named.iter().any(|n| n == "keep-alive"),
    }
}

/// A deny, tarpit, redirect, return or service decided by the rules.
fn verdict_response(
    t: &mut Txn,
    req: &mut Request,
    v: Verdict,
    framing: Framing,
    side: &HttpSide,
    conf: &Conf,
    s: &mut Session,
) -> Outcome {
    if matches!(
        v,
        Verdict::Deny(_) | Verdict::DenyWith(..) | Verdict::Tarpit(_)
    ) {
        t.events.push(TxnEvent::Denied);
    }
    match v {
        Verdict::Service(svc) => {
            let req = std::mem::replace(
                req,
                Request {
                    method: String::new(),
                    uri: String::new(),
                    version: req.version,
                    headers: Vec::new(),
                },
            );
            to_applet(t, s, req, Some(svc), framing, conf)
        }
        Verdict::Deny(code) => {
            log::info!("frontend {}: request denied ({code})", conf.fe_name);
            super::after::keep_request(t, conf, req);
            let ev = t.failed(code, &side.errors, &conf.fe.side.errors);
            Outcome::on(ev, Step::Wait)
        }
        Verdict::Tarpit(code) => {
            // The engine's timer answers once `timeout tarpit` has passed.
            log::info!("frontend {}: request tarpitted ({code})", conf.fe_name);
            t.tarpit_status = code;
            super::after::keep_request(t, conf, req);
            Outcome::on(Event::Tarpitted, Step::Wait)
        }
        Verdict::DenyWith(code, bytes) => {
            log::info!("frontend {}: request denied ({code})", conf.fe_name);
            super::after::keep_request(t, conf, req);
            Outcome::on(t.failed_with(code, bytes), Step::Wait)
        }
        Verdict::Respond(bytes) => respond_local(t, req, bytes, framing, conf),
        Verdict::Page(code) => {
            super::after::keep_request(t, conf, req);
            let page = t.page(code, &side.errors, &conf.fe.side.errors);
            if page.is_empty() {
                // An empty errorfile: closed without a response (HAProxy).
                super::after::keep_request(t, conf, req);
                return Outcome::on(t.failed_with(code, page), Step::Wait);
            }
            respond_local(t, req, page, framing, conf)
        }
        // The callers pause on WaitBody themselves.
        Verdict::Continue | Verdict::Allow | Verdict::WaitBody { .. } => Outcome::step(Step::Wait),
    }
}

/// Send a response of our own (monitor, redirect, return). The connection
/// stays open for the next request only when the request had no body left
/// to read and the client wants keep-alive.
fn respond_local(
    t: &mut Txn,
    req: &Request,
    bytes: Vec<u8>,
    framing: Framing,
    conf: &Conf,
) -> Outcome {
    let named = forward::connection_tokens(req);
    let wants_keep = match req.version {
        Version::Http11 => !named.iter().any(|n| n == "close"),
        Version::Http10 => named.iter().any(|n| n == "keep-alive"),
    };
    let keep = wants_keep
        && framing == Framing::None
        && conf.fe.side.conn_mode != ConnMode::Close
        && !crate::core::lifecycle::stopping();
    t.events.push(TxnEvent::Response {
        status: status_of(&bytes),
        server: false,
    });
    super::after::keep_request(t, conf, req);
    t.h1.answer(with_connection(bytes, keep, req.version));
    t.htx_out += htx_len_of(t.h1.queued_to_client(), t.head_method);
    t.last_status = Some(status_of(t.h1.queued_to_client()));
    t.close_after = !keep;
    t.response_started = true;
    t.after = true;
    Outcome::on(Event::Answer, Step::Wait)
}

fn in_net(ip: IpAddr, net: Option<(IpAddr, u8)>) -> bool {
    let Some((base, bits)) = net else {
        return false;
    };
    match (ip, base) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits.min(32)))
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits.min(128)))
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// `-d`: a stream starts with this request (HAProxy makes one stream per
/// request): its `accept`, `clireq` and `clihdr` lines.
fn trace_request(s: &Session, t: &mut Txn, conf: &Conf, req: &Request) {
    use crate::core::trace;
    let (id, fe, cfd) = (t.req_no, conf.fe_name, s.client.conn.fd());
    let Some(tr) = t.trace.as_mut() else {
        return;
    };
    let alpn = conf
        .tls
        .as_ref()
        .and_then(|x| x.alpn.as_deref())
        .map_or_else(
            || "<none>".into(),
            |a| String::from_utf8_lossy(a).into_owned(),
        );
    trace::line(&format!(
        "{:08x}:{fe}.accept({})={} from [{}:{}] ALPN={alpn}",
        id as u32,
        trace::fd(Some(tr.lfd)),
        trace::fd(Some(cfd)),
        s.src,
        s.src_port
    ));
    let start = format!("{} {} {}", req.method, req.uri, req.version.as_str());
    trace::head(
        id,
        fe,
        ("clireq", "clihdr"),
        (cfd, None),
        &start,
        &req.headers,
    );
    tr.end = Some(trace::End {
        id,
        px: fe.to_string(),
        cfd,
        sfd: None,
        tcp: false,
    });
}
