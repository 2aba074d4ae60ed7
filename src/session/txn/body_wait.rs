//! Waiting for the request body before the rules (HAProxy's
//! `http_wait_for_msg_body`): `option http-buffer-request` on the frontend
//! (before its rules) or the backend (before its own), and `http-request
//! wait-for-body`, which pauses the rules at that rule. The request head is
//! off the input and kept here with where the analysis resumes; the body
//! collects in the client's input buffer behind it, where `req.body` reads
//! it. It stops waiting once the body is all there, the buffer is full
//! (`tune.bufsize` less `tune.maxrewrite`, head included), or `at-least`
//! bytes came; past the deadline the engine answers 408 (`cR`), and a
//! client that closes in the middle is logged `CR` with no answer.

use super::*;
use crate::http::fetch::body::ReqBody;
use std::time::Duration;

/// Where the paused analysis goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// The frontend's rules, from the start or at a `wait-for-body` rule.
    Front(Option<usize>),
    /// Backend `bi`'s rules, likewise.
    Back(usize, Option<usize>),
}

/// A request whose analysis waits for its body.
#[derive(Debug)]
pub(super) struct Paused {
    pub req: Request,
    pub framing: Framing,
    pub head_len: usize,
    pub at: Resume,
    pub at_least: u64,
    /// When a 408 answers instead (None: `timeout client` bounds it).
    pub until: Option<Instant>,
}

/// The body as it has arrived behind a head of `head_len` bytes.
pub(super) fn view<'a>(
    s: &'a Session,
    framing: Framing,
    head_len: usize,
    conf: &Conf,
) -> ReqBody<'a> {
    let c = s.conns();
    let raw = c.client_input();
    ReqBody {
        raw,
        framing,
        stalled: head_len + raw.len() >= conf.max_head
            || raw.len() >= conf.bufsize
            || c.client_eof(),
    }
}

/// Pause the analysis at `at` until the body (or `at_least` bytes of it)
/// is there, for at most `time`. The first pause answers an `Expect:
/// 100-continue` (the client would otherwise hold its body back) and
/// removes it, so that the server does not answer it again.
#[allow(clippy::too_many_arguments)]
pub(super) fn pause(
    t: &mut Txn,
    mut req: Request,
    framing: Framing,
    head_len: usize,
    at: Resume,
    time: Option<Duration>,
    at_least: u64,
    now: Instant,
) -> Outcome {
    if req.version == Version::Http11 && framing != Framing::None {
        let expects = req
            .header_values("expect")
            .any(|v| v.eq_ignore_ascii_case("100-continue"));
        if expects {
            t.h1.send_response_head(&Response {
                version: Version::Http11,
                status: 100,
                reason: "Continue".into(),
                headers: Vec::new(),
            });
            req.del_header("expect");
        }
    }
    t.paused = Some(Box::new(Paused {
        req,
        framing,
        head_len,
        at,
        at_least,
        until: time.map(|d| now + d),
    }));
    Outcome::NOTHING
}

/// A paused analysis: on when enough of the body is there. A client gone
/// before that is logged `CR` and closed, as HAProxy, which still runs the
/// rules and switching on what came (the log names the backend) but
/// connects nowhere.
pub(super) fn resume(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    p: Box<Paused>,
) -> Outcome {
    let body = view(s, p.framing, p.head_len, conf);
    let cut = s.conns().client_eof() && !body.arrived().complete;
    if !cut && !body.enough(p.at_least) {
        t.paused = Some(p);
        return Outcome::NOTHING;
    }
    let Paused {
        req,
        framing,
        head_len,
        at,
        ..
    } = *p;
    if let (Resume::Front(None) | Resume::Back(_, None), Some(r)) = (at, s.log.as_mut()) {
        r.request_body_waited(Instant::now());
    }
    let out = match at {
        Resume::Front(rule) => {
            super::request::front(s, t, conf, decide, req, framing, head_len, rule)
        }
        Resume::Back(bi, rule) => {
            super::request::to_backend(s, t, conf, decide, req, framing, head_len, bi, rule)
        }
    };
    if !cut {
        return out;
    }
    log::info!(
        "frontend {}: client {} closed before its request body was complete",
        conf.fe_name,
        s.src
    );
    if let (Some(Step::NeedServer(bi)), Some(r)) = (out.step, s.log.as_mut()) {
        r.backend = u32::try_from(bi).ok();
    }
    log_term(s, b"CR");
    Outcome::step(Step::Close)
}
