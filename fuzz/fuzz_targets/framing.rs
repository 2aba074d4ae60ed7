//! The body framer: a head parsed, its framing decided (`request_framing` or
//! `response_framing`), the body after it tracked in pieces. Normalising the
//! framing headers (what pollux forwards) must not change the framing.
//! Knob bit 0: a response (else a request); bits 1-2: the request method
//! the response answers (GET, HEAD, CONNECT, POST).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux::http::body::{
    normalize_request_framing, normalize_response_framing, request_framing, response_framing,
    BodyTracker, Framing,
};
use pollux::http::message::{Request, Response};
use pollux::http::parser::HeadParser;
use pollux_fuzz::{split, track};

fuzz_target!(|data: &[u8]| {
    let Some(s) = split(data) else { return };
    let mut p = HeadParser::new(15360);
    let (framing, head_len) = if s.knobs & 1 == 0 {
        let Ok(Some(h)) = p.parse_request(s.msg) else {
            return;
        };
        let req = Request::from_head(&h, s.msg);
        let Ok(f) = request_framing(&req) else { return };
        let mut norm = req.clone();
        normalize_request_framing(&mut norm, &f);
        assert_eq!(request_framing(&norm), Ok(f), "normalised: {norm:?}");
        (f, h.len)
    } else {
        let method = ["GET", "HEAD", "CONNECT", "POST"][(s.knobs >> 1) as usize & 3];
        let Ok(Some(h)) = p.parse_response(s.msg) else {
            return;
        };
        let res = Response::from_head(&h, s.msg);
        let Ok(f) = response_framing(&res, method) else {
            return;
        };
        assert!(f != Framing::UntilClose || !matches!(method, "HEAD"));
        let mut norm = res.clone();
        normalize_response_framing(&mut norm, &f);
        assert_eq!(
            response_framing(&norm, method),
            Ok(f),
            "normalised: {norm:?}"
        );
        (f, h.len)
    };
    let body = &s.msg[head_len..];
    // The cut points apply to the body here.
    let mut pieces = Vec::new();
    let mut from = 0;
    for c in s.cuts.iter().copied().filter(|&c| c < body.len()) {
        if c > from {
            pieces.push(&body[from..c]);
            from = c;
        }
    }
    pieces.push(&body[from..]);
    let split_outcome = track(&mut BodyTracker::new(framing), &pieces);
    let whole = track(&mut BodyTracker::new(framing), &[body]);
    assert_eq!(split_outcome, whole);
    if let Ok(w) = whole {
        assert!(w.taken <= body.len() as u64);
        if let Framing::Length(n) = framing {
            assert_eq!(w.taken, n.min(body.len() as u64));
        }
    }
});
