//! The response analysers of a transaction: the server's response head
//! parsed and checked (interim responses, framing, protocol switches), the
//! `http-response` rules, persistence on the way back (decided by the
//! proxy), keep-alive on both sides, then the body streamed to the client.

use super::*;
use crate::http::compress::{self, InForce};

/// Server side of an exchange: read, parse the response head, apply the
/// response rules, stream the body. Returns a step when the engine must act.
pub(super) fn server_side(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    pool: &mut BufferPool,
    now: Instant,
    progress: &mut bool,
) -> Result<Outcome, Abort> {
    if s.srv.is_none() {
        return Ok(Outcome::NOTHING);
    }
    let want_more = !t.res_head_done || t.h1.response_body_open();
    if want_more {
        match t.h1.read_server(&mut s.conns_mut(), pool, now) {
            Ok(p) => *progress |= p,
            Err(e) => {
                log::info!("frontend {}: server read error: {e}", conf.fe_name);
                log_term(s, if t.res_head_done { b"SD" } else { b"SH" });
                return Ok(server_failed(t, conf));
            }
        }
    }
    while !t.res_head_done {
        let Some(head) = t.h1.response_head(&s.conns()) else {
            if s.conns().server_eof() {
                log::info!(
                    "frontend {}: server closed before responding, 502",
                    conf.fe_name
                );
                log_term(s, b"SH");
                return Ok(server_failed(t, conf));
            }
            return Ok(Outcome::NOTHING);
        };
        let (res, head_len) = match head {
            Head::Complete(res, len) => (res, len),
            Head::Partial => {
                if s.conns().server_eof() {
                    log::info!("frontend {}: truncated response head, 502", conf.fe_name);
                    log_term(s, b"SH");
                    return Ok(server_failed(t, conf));
                }
                return Ok(Outcome::NOTHING);
            }
            Head::Invalid(e) => {
                crate::warn_limited!(
                    "frontend {}: invalid response at byte {}: {}",
                    conf.fe_name,
                    e.at,
                    e.reason
                );
                let bad = BadMessage::new(false, &e, s.conns().server_input().to_vec());
                return Ok(bad_message(s, t, conf, bad, 502, b"PH"));
            }
        };
        t.htx_out += res.htx_len();
        if t.trace.is_some() {
            trace_response(s, t, conf, &res);
        }
        t.h1.take_response_head(&mut s.conns_mut(), pool, head_len);
        t.captured_res = capture(&res, &conf.fe.captures_res);
        t.captured_set_cookie = conf.fe.capture_cookie.as_ref().and_then(|(n, l)| {
            let v = res
                .header_values("set-cookie")
                .flat_map(|c| c.split(';').next());
            capture_cookie(v, n, *l)
        });
        *progress = true;
        // End of Tr: stamped here, with the head (interim ones too, the
        // final one last, as HAProxy's t_data), so that a response sent and
        // logged within this same step has its time.
        if let Some(r) = s.log.as_mut() {
            r.resp_at = Some(now);
        }
        if (100..200).contains(&res.status) && res.status != 101 {
            // Interim response: pass it on and wait for the final one.
            t.h1.send_response_head(&res);
            continue;
        }
        // A step for the engine, or the upgrade (a tunnel from now on).
        let out = on_response(s, t, conf, decide, res, now);
        if out != Outcome::NOTHING {
            return Ok(out);
        }
    }
    Ok(response_body(s, t, conf))
}

/// A final response head from the server: framing checked, the
/// `http-response` rules, persistence on the way back, keep-alive on both
/// sides, then the head as the client gets it. Some: the engine must act;
/// None with `TxnState::Tunnel`: bytes flow both ways from now on.
fn on_response(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    res: Response,
    now: Instant,
) -> Outcome {
    // Nothing on the way reads the request through the transaction.
    t.with_request(|t, req| respond_to(s, t, conf, decide, res, now, req))
}

fn respond_to(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    mut res: Response,
    now: Instant,
    req: &Request,
) -> Outcome {
    let be = &conf.backends[t.backend.unwrap_or(0)];
    let framing = match body::response_framing(&res, &req.method) {
        Ok(f) => f,
        Err(e) => {
            crate::warn_limited!(
                "frontend {}: invalid response framing: {}",
                conf.fe_name,
                e.reason
            );
            log_term(s, b"PH");
            return server_failed(t, conf);
        }
    };
    let named = forward::connection_tokens(&res);
    forward::strip_nominated(&mut res, &named);
    if res.status == 101 && !forward::switch_allowed(req, &res) {
        // RFC 9110 §7.8: only to a protocol the forwarded request offered.
        crate::warn_limited!(
            "frontend {}: server switched to a protocol the request did not offer, 502",
            conf.fe_name
        );
        let why = "101 to a protocol the request did not offer";
        let bad = BadMessage::parsed(false, why, |b| res.serialize(b));
        return bad_message(s, t, conf, bad, 502, b"PH");
    }
    if (400..500).contains(&res.status) {
        decide.count_http_err(&t.slots);
    }
    let src = SocketAddr::new(s.src, s.src_port);
    // The server answered: `req.` variables end, `res.` ones begin.
    s.vars.response_begins();
    let own = conf.fe.own_backend.is_some() && conf.fe.own_backend == t.backend;
    for side in [be, &conf.fe.side]
        .into_iter()
        .take(if own { 1 } else { 2 })
    {
        let stamp = super::switch::stamp(t, conf, s.server);
        let mut txn = rules::ResTxn {
            captured_req: &t.captured_req,
            captured_res: &mut t.captured_res,
            unique_id: t.unique_id.as_deref(),
            stamp,
        };
        let mut tracker = Tracking {
            decide: &mut *decide,
            slots: &mut t.slots,
            own_table: match t.backend {
                Some(bi) if std::ptr::eq(side, be) => &conf.be_names[bi],
                _ => conf.fe_name,
            },
            src: s.src,
            captured: &mut Vec::new(),
            unique_id: None,
            stamp,
            body: None,
        };
        let tr: &mut dyn rules::Tracker = &mut tracker;
        let addrs = (src, s.dst);
        match rules::run_response_tracked(
            &side.rules_res,
            req,
            &mut res,
            addrs,
            &mut txn,
            &s.vars,
            Some(tr),
        ) {
            // `http-response wait-for-body` is refused at config check.
            Verdict::Continue | Verdict::Allow | Verdict::WaitBody { .. } => {}
            v @ (Verdict::Deny(_)
            | Verdict::DenyWith(..)
            | Verdict::Tarpit(_)
            | Verdict::Service(_)) => {
                // `deny_status` (502 by default), or the reply's bytes.
                let (code, bytes) = match v {
                    Verdict::Deny(c) => (c, None),
                    Verdict::DenyWith(c, b) => (c, Some(b)),
                    _ => (502, None),
                };
                log::info!("frontend {}: response denied, {code}", conf.fe_name);
                log_term(s, b"PH");
                t.events.push(TxnEvent::DeniedResponse);
                let ev = match bytes {
                    Some(b) => t.failed_with(code, b),
                    None => t.failed(code, &side.errors, &conf.fe.side.errors),
                };
                return Outcome::on(ev, Step::DropServer);
            }
            Verdict::Page(code) => {
                let page = t.page(code, &side.errors, &conf.fe.side.errors);
                return Outcome::on(t.failed_with(code, page), Step::DropServer);
            }
            Verdict::Respond(bytes) => {
                t.htx_out += htx_len_of(&bytes, t.head_method);
                t.h1.answer(bytes);
                t.close_after = true;
                t.after = true;
                return Outcome::on(Event::Answer, Step::DropServer);
            }
        }
    }
    // Persistence on the way back: the cookie naming the server, and
    // what `stick store-response` learns (an application session id).
    if let (Some(bi), Some(si)) = (t.backend, s.server.map(|x| x as usize)) {
        let r = PersistResponse {
            bi,
            si,
            flags: t.persist_flags,
            by_cookie: t.by_cookie,
            sent: t.cookie_req.as_ref().unwrap_or(req),
            req,
            src,
            dst: s.dst,
            vars: &s.vars,
        };
        if let Some(out) = decide.persist_response(r, &mut res) {
            t.cookie_out = out;
        }
    }
    // TE and CL together (RFC 9112 §6.3): TE wins, and the connection is
    // not reused, since the server's idea of the length is suspect.
    let ambiguous =
        res.header("transfer-encoding").is_some() && res.header("content-length").is_some();
    // The switch to a tunnel is the server's, whatever status the
    // `http-after-response` rules set; the framing is re-imposed after them.
    let tunnel = res.status == 101 || (t.connect_method && (200..300).contains(&res.status));
    super::after::run(s, t, conf, decide, req, &mut res);
    body::normalize_response_framing(&mut res, &framing);
    // The compression filter's response half, after every rule (HAProxy
    // runs it after them).
    let be_comp = t
        .backend
        .and_then(|bi| conf.backends.get(bi)?.compression.as_ref());
    let comp = t.comp.take().filter(|_| !tunnel).and_then(|algo| {
        InForce::of(be_comp, conf.fe.side.compression.as_ref())
            .filter(|c| compress::applies(c, req, &res, &framing))
            .map(|c| (algo, c.level))
    });
    if let Some((algo, _)) = comp {
        compress::rewrite(&mut res, algo);
    }
    let named = forward::connection_tokens(&res);
    let srv_keep = match res.version {
        Version::Http11 => !named.iter().any(|n| n == "close"),
        Version::Http10 => named.iter().any(|n| n == "keep-alive"),
    };
    t.server_keep &= srv_keep && framing != Framing::UntilClose && !tunnel && !ambiguous;
    t.client_keep &= framing != Framing::UntilClose && !tunnel;
    // Soft stop: keep-alive clients move to the new process.
    t.client_keep &= tunnel || !crate::core::lifecycle::stopping();
    forward::strip_connection_headers(&mut res);
    if res.status == 101 {
        res.add_header("Connection", "upgrade");
    } else if !t.client_keep && !tunnel {
        res.add_header("Connection", "close");
    } else if req.version == Version::Http10 && t.client_keep {
        res.add_header("Connection", "keep-alive");
    }
    t.last_status = Some(res.status);
    t.events.push(TxnEvent::Response {
        status: res.status,
        server: true,
    });
    let from = t.req_sent.unwrap_or(t.since);
    t.server_reply = Some((now.saturating_duration_since(from), res.status));
    if t.h1.send_response_head(&res) > conf.bufsize {
        crate::warn_limited!(
            "frontend {}: rewritten response head exceeds tune.bufsize; answering 500",
            conf.fe_name
        );
        log_term(s, b"PH");
        let ev = t.failed(500, &be.errors, &conf.fe.side.errors);
        return Outcome::on(ev, Step::DropServer);
    }
    t.response_started = true;
    t.res_head_done = true;
    if tunnel {
        return Outcome {
            ev: Some(Event::Upgraded),
            step: None,
        };
    }
    t.h1.start_response_body(framing);
    if let Some((algo, level)) = comp {
        t.h1.compress_response(algo, level, framing == Framing::Chunked);
    }
    Outcome::NOTHING
}

/// The response body: claim what arrived; a body refused, or a server gone
/// in the middle of it, ends the exchange.
fn response_body(s: &mut Session, t: &mut Txn, conf: &Conf) -> Outcome {
    let tracked = t.h1.claim_response_body(&mut s.conns_mut());
    if let Err(e) = tracked.map(|n| t.htx_out += n) {
        crate::warn_limited!(
            "frontend {}: invalid response body at byte {}: {}",
            conf.fe_name,
            e.at,
            e.reason
        );
        // The head went out already: `bad_message` closes.
        let bad = BadMessage::new(false, &e, s.conns().server_input().to_vec());
        return bad_message(s, t, conf, bad, 502, b"SD");
    }
    if s.conns().server_eof() && t.h1.response_body_flushed() && t.h1.response_body_eof().is_err() {
        log::info!(
            "frontend {}: server closed in the middle of the body",
            conf.fe_name
        );
        log_term(s, b"SD");
        return Outcome::step(Step::Close);
    }
    Outcome::NOTHING
}

/// `-d`: the server's response head (`srvrep`, `srvhdr`), the stream now
/// in its backend.
fn trace_response(s: &Session, t: &mut Txn, conf: &Conf, res: &Response) {
    use crate::core::trace;
    let be = t
        .backend
        .and_then(|b| conf.be_names.get(b))
        .map_or(conf.fe_name, String::as_str);
    let (cfd, sfd) = (s.client.conn.fd(), s.srv.as_ref().map(|x| x.conn.fd()));
    let start = format!("{} {} {}", res.version.as_str(), res.status, res.reason);
    trace::head(
        t.req_no,
        be,
        ("srvrep", "srvhdr"),
        (cfd, sfd),
        &start,
        &res.headers,
    );
    let id = t.req_no;
    if let Some(tr) = t.trace.as_mut() {
        tr.end = Some(trace::End {
            id,
            px: be.to_string(),
            cfd,
            sfd,
            tcp: false,
        });
    }
}
