//! The stick counter actions of request, response and `tcp-request`
//! rules: `sc-inc-gpc0/1(N)` and `sc-set-gpt0(N) VALUE`, run through the
//! counters the engine gives the rules.

use super::Action;
use crate::http::fetch::{to_text, CounterView, FetchCtx};

/// The value `sc-set-gpt0` stores: an integer or a sample expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GptValue {
    Int(i64),
    Expr(crate::http::expr::Expr),
}

/// `sc-inc-gpc0/1` and `sc-set-gpt0` through the counters (nothing when
/// the slot tracks nothing or the table does not store the type).
pub(super) fn sc_action(a: &Action, ctx: &FetchCtx, sc: &dyn CounterView) {
    use crate::http::fetch::{Counter, Tracked};
    match a {
        Action::ScIncGpc(slot, i) => {
            sc.counter(Tracked::Sc(*slot, None), Counter::IncGpc(*i));
        }
        Action::ScSetGpt0(slot, v) => {
            let v = match &**v {
                GptValue::Int(n) => Some(*n),
                GptValue::Expr(e) => e
                    .fetch_all_with(ctx, Some(sc))
                    .values
                    .pop()
                    .and_then(|s| to_text(&s).trim().parse::<i64>().ok()),
            };
            if let Some(v) = v {
                sc.counter(Tracked::Sc(*slot, None), Counter::SetGpt0(v));
            }
        }
        _ => {}
    }
}
