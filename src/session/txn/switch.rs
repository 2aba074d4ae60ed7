//! What a request's head decides through log-format strings: its number in
//! the process (`%rt`), its unique id (`unique-id-format`) and its backend
//! (`use_backend` rules, a log-format name resolved per request).

use super::conf::{Conf, Switch};
use super::Txn;
use crate::http::acl::Truth;
use crate::http::fetch::{FetchCtx, Stamp};
use crate::http::format::HttpVars;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// HAProxy's request counter (`%rt`): every request of the process, from 0.
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// A number for a TCP stream, from the same counter (HAProxy's `uniq_id`).
pub fn next_stream_no() -> u64 {
    REQUESTS.fetch_add(1, Ordering::Relaxed)
}

/// Numbers and dates the request and, with `unique-id-format`, gives it
/// its id; `ctx` is the request's, without the stamp.
pub(super) fn number_request<'a>(
    t: &mut Txn,
    conf: &'a Conf<'a>,
    mut ctx: FetchCtx<'a>,
    date: SystemTime,
) {
    t.req_no = REQUESTS.fetch_add(1, Ordering::Relaxed);
    t.req_date = Some(date);
    ctx.txn.stamp = stamp(t, conf, None);
    t.unique_id = conf.fe.unique_id.as_ref().map(|u| {
        let mut id = String::new();
        u.format.render_with(&mut id, &ctx, &HttpVars(&ctx));
        id.retain(|c| !matches!(c, '\r' | '\n' | '\0'));
        id
    });
}

/// The request's stamp, for the log-format strings of its rules; `server`
/// once one is chosen.
pub(super) fn stamp<'a>(t: &Txn, conf: &'a Conf<'a>, server: Option<u32>) -> Stamp<'a> {
    Stamp {
        frontend: conf.fe_name,
        backend: t
            .backend
            .and_then(|b| conf.be_names.get(b))
            .map(String::as_str),
        first: t.requests == 0,
        px: crate::http::fetch::proxy::Where {
            view: conf.px,
            frontend: Some(conf.fe_index),
            listener: Some(conf.so_id),
            backend: t.backend,
            server: server.map(|s| s as usize),
        },
        no: t.req_no,
        date: t.req_date,
        tls: conf.tls.as_ref(),
        bc_tls: conf.bc_tls.as_ref(),
    }
}

/// The first `use_backend` rule whose condition holds; a log-format name
/// that names no backend ends the search (HAProxy); then `default_backend`.
pub(super) fn choose_backend(
    conf: &Conf,
    ctx: &FetchCtx,
    sc: Option<&dyn crate::http::fetch::CounterView>,
) -> Option<usize> {
    pick_backend(&conf.fe.use_backend, conf.be_names, ctx, sc).or(conf.fe.default_backend)
}

/// The backend the first `use_backend` rule whose condition holds names,
/// in HTTP and TCP frontends alike; None: `default_backend`'s turn.
pub fn pick_backend(
    rules: &[(Switch, Option<crate::http::acl::Condition>)],
    be_names: &[String],
    ctx: &FetchCtx,
    sc: Option<&dyn crate::http::fetch::CounterView>,
) -> Option<usize> {
    for (to, cond) in rules {
        if cond
            .as_ref()
            .is_some_and(|c| c.eval_with(ctx, sc) != Truth::True)
        {
            continue;
        }
        match to {
            Switch::To(b) => return Some(*b),
            Switch::Named(f) => {
                let name = f.render(ctx);
                match be_names.iter().position(|b| *b == name) {
                    Some(b) => return Some(b),
                    None => break,
                }
            }
        }
    }
    None
}
