//! What pollux forwards is framed by the headers it forwards: any request
//! the parser accepts and pollux would forward re-parses, after pollux's
//! edits, to the same message (method, target, headers, framing) whose body
//! is exactly the bytes pollux passed on (claimed by the body tracker, minus
//! its cuts), with nothing left over: one
//! message, never two.
//!
//! The edits are the ones `session/http.rs` makes, through the same
//! functions: `forward::before_rules` (framing normalised, duplicate Host
//! folded, absolute-form authority checked, `Connection`-nominated headers
//! and the h2c upgrade removed), header rules (the first input byte picks
//! some, among them ones that break framing), `forward::set_connection`,
//! `forward::impose_request_framing`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux::http::body::{request_framing, BodyTracker};
use pollux::http::forward;
use pollux::http::message::{Headers, Request};
use pollux::http::parser::HeadParser;
use pollux_fuzz::track;

/// What `http-request add-header/set-header/del-header` rules could do, one
/// bit of the first input byte each.
fn rules(req: &mut Request, mask: u8) {
    if mask & 1 != 0 {
        req.del_header("content-length");
    }
    if mask & 2 != 0 {
        req.del_header("transfer-encoding");
    }
    if mask & 4 != 0 {
        req.add_header("Transfer-Encoding", "chunked");
    }
    if mask & 8 != 0 {
        req.add_header("Content-Length", "0");
    }
    if mask & 16 != 0 {
        req.set_header("content-length", "7, 8");
    }
    if mask & 32 != 0 {
        req.add_header("Connection", "content-length, transfer-encoding");
    }
    if mask & 64 != 0 {
        req.add_header("transfer-encoding", "gzip");
    }
    if mask & 128 != 0 {
        req.add_header("Upgrade", "h2c");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mask, msg)) = data.split_first() else {
        return;
    };
    let Ok(Some(head)) = HeadParser::new(15360).parse_request(msg) else {
        return;
    };
    let received = Request::from_head(&head, msg);
    let mut req = received.clone();
    // None where pollux answers an error instead.
    let Ok(framing) = forward::before_rules(&mut req) else {
        return;
    };
    let rest = &msg[head.len..];
    let Ok(body) = track(&mut BodyTracker::new(framing), &[rest]) else {
        return;
    };
    if !body.done {
        // Incomplete: pollux waits for more (or fails on close).
        return;
    }
    rules(&mut req, mask);
    // prepare_request: pollux writes its own Connection line.
    let named = forward::connection_tokens(&req);
    let upgrade = named.iter().any(|t| t == "upgrade") && req.header("upgrade").is_some();
    forward::set_connection(&mut req, Some(if upgrade { "upgrade" } else { "close" }));
    forward::impose_request_framing(&mut req, &framing);

    let mut out = Vec::new();
    req.serialize(&mut out);
    let head_len = out.len();
    out.extend_from_slice(&body.forwarded);

    // pollux adds a Connection line: a head at the header limit grows past it.
    let mut p = HeadParser::new(usize::MAX);
    p.set_max_headers(usize::MAX);
    let again = p.parse_request(&out);
    let Ok(Some(h2)) = again else {
        panic!(
            "forwarded head does not parse: {again:?}\n{:?}",
            String::from_utf8_lossy(&out)
        );
    };
    assert_eq!(h2.len, head_len, "the head ends elsewhere");
    let req2 = Request::from_head(&h2, &out);
    assert_eq!(req2, req, "the request changed on the wire");
    assert_eq!((&req2.method, &req2.uri), (&received.method, &received.uri));
    let f2 = request_framing(&req2).expect("forwarded framing is refused");
    assert_eq!(f2, framing, "forwarded framing differs");
    let b2 =
        track(&mut BodyTracker::new(f2), &[&out[head_len..]]).expect("forwarded body is refused");
    assert!(b2.done, "forwarded body is incomplete under {f2:?}");
    assert_eq!(
        b2.taken as usize,
        body.forwarded.len(),
        "forwarded framing takes another length"
    );
    assert_eq!(
        b2.forwarded, body.forwarded,
        "a forwarded body would be trimmed again"
    );
});
