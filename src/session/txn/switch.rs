//! What a request's head decides through log-format strings: its unique id
//! (`unique-id-format`, numbered per process for `%rt`) and its backend
//! (`use_backend` rules, a log-format name resolved per request).

use super::conf::{Conf, Switch};
use super::Txn;
use crate::http::acl::Truth;
use crate::http::fetch::FetchCtx;
use crate::http::format::IdVars;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// HAProxy's request counter (`%rt`): every request of the process, from 0.
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Numbers the request and, with `unique-id-format`, gives it its id.
pub(super) fn number_request(t: &mut Txn, conf: &Conf, ctx: &FetchCtx) {
    t.req_no = REQUESTS.fetch_add(1, Ordering::Relaxed);
    t.unique_id = conf.fe.unique_id.as_ref().map(|u| {
        let vars = IdVars {
            ctx,
            frontend: conf.fe_name,
            date: SystemTime::now(),
            counter: t.req_no,
        };
        let mut id = String::new();
        u.format.render_with(&mut id, ctx, &vars);
        id.retain(|c| !matches!(c, '\r' | '\n' | '\0'));
        id
    });
}

/// The first `use_backend` rule whose condition holds; a log-format name
/// that names no backend ends the search (HAProxy); then `default_backend`.
pub(super) fn choose_backend(conf: &Conf, ctx: &FetchCtx) -> Option<usize> {
    for (to, cond) in &conf.fe.use_backend {
        if cond.as_ref().is_some_and(|c| c.eval(ctx) != Truth::True) {
            continue;
        }
        match to {
            Switch::To(b) => return Some(*b),
            Switch::Named(f) => {
                let name = f.render(ctx);
                match conf.be_names.iter().position(|b| *b == name) {
                    Some(b) => return Some(b),
                    None => break,
                }
            }
        }
    }
    conf.fe.default_backend
}
