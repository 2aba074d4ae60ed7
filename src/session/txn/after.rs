//! `http-after-response` rules (HAProxy 2.6): they run on every final
//! response the client gets, the server's (after the `http-response` rules
//! and persistence) and pollux's own (deny, return, redirect, monitor,
//! the stats page and services, error pages such as 502, 503 and 504); the
//! backend's first, then the frontend's. As in HAProxy, not on what the
//! HTTP/1 layer refuses before a request is analysed (400, 408).

use super::*;

/// Runs the rules on `res`, the answer to `req`. `allow` ends its own
/// section's rules only: the frontend's still run (HAProxy's
/// `http_eval_after_res_rules`).
pub(super) fn run(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    req: &Request,
    res: &mut Response,
) {
    let fe = &conf.fe.side;
    // A `listen` section's own backend carries the frontend's rules.
    let bi = t.backend.filter(|b| conf.fe.own_backend != Some(*b));
    let be = bi.and_then(|b| conf.backends.get(b));
    if fe.rules_after.is_empty() && be.map_or(&[][..], |b| &b.rules_after).is_empty() {
        return;
    }
    // The request's variables end here, as for the `http-response` rules.
    s.vars.response_begins();
    let src = SocketAddr::new(s.src, s.src_port);
    let sides = be.map(|b| (b, bi)).into_iter().chain([(fe, None)]);
    for (side, bi) in sides {
        if side.rules_after.is_empty() {
            continue;
        }
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
            own_table: bi.map_or(conf.fe_name, |b| &conf.be_names[b]),
            src: s.src,
            captured: &mut Vec::new(),
            unique_id: None,
            stamp,
            body: None,
        };
        let tr: &mut dyn rules::Tracker = &mut tracker;
        // Header edits, `set-status`, variables, captures: nothing here
        // answers in the response's place, so the verdict is only `allow`.
        let _ = rules::run_response_tracked(
            &side.rules_after,
            req,
            res,
            (src, s.dst),
            &mut txn,
            &s.vars,
            Some(tr),
        );
    }
}

/// Whether any `http-after-response` rule may apply to this transaction.
fn any_rules(t: &Txn, conf: &Conf) -> bool {
    let be = t.backend.and_then(|b| conf.backends.get(b));
    !conf.fe.side.rules_after.is_empty() || be.is_some_and(|b| !b.rules_after.is_empty())
}

/// Our answer to `req`, which the analysers still hold: the rules will see
/// it (a copy, only when there are rules to run).
pub(super) fn keep_request(t: &mut Txn, conf: &Conf, req: &Request) {
    // `http-error` replies built per response read it too.
    let replies =
        conf.fe.side.errors.has_replies() || conf.backends.iter().any(|b| b.errors.has_replies());
    if replies || any_rules(t, conf) {
        t.req = Some(req.clone());
    }
}

/// Our own answer, queued as bytes ([`Txn::after`]): the rules edit its
/// head before it goes out, its body stays as it is. The bytes logged and
/// the status follow the edit.
pub(super) fn on_answer(s: &mut Session, t: &mut Txn, conf: &Conf, decide: &mut dyn Decide) {
    t.after = false;
    if !any_rules(t, conf) {
        return;
    }
    let bytes = t.h1.queued_to_client().to_vec();
    let mut p = crate::http::parser::HeadParser::new(bytes.len() + 1);
    // An `errorfile` that is not a readable response goes out as it is.
    let Ok(Some(head)) = p.parse_response(&bytes) else {
        return;
    };
    let mut res = Response::from_head(&head, &bytes);
    // HAProxy's HTTP/1 layer writes the connection header once the rules
    // ran: they do not see it, and what they add comes before it.
    let (conn, mut rest): (Vec<_>, Vec<_>) = std::mem::take(res.headers_mut())
        .into_iter()
        .partition(|(n, _)| n.eq_ignore_ascii_case("connection"));
    std::mem::swap(res.headers_mut(), &mut rest);
    t.with_request(|t, req| run(s, t, conf, decide, req, &mut res));
    res.headers_mut().extend(conn);
    let mut out = Vec::with_capacity(bytes.len() + 64);
    res.serialize(&mut out);
    out.extend_from_slice(&bytes[head.len..]);
    let before = htx_len_of(&bytes, t.head_method);
    t.htx_out = t.htx_out.saturating_sub(before) + htx_len_of(&out, t.head_method);
    t.h1.answer(out);
    if t.last_status.is_some() {
        t.last_status = Some(res.status);
    }
    // Counted with its new status, if the engine has not counted it yet.
    if let Some(TxnEvent::Response {
        status,
        server: false,
    }) = t.events.last_mut()
    {
        *status = res.status;
    }
}
