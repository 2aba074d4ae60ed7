//! What pollux forwards is framed by the headers it forwards: any request
//! the parser accepts and pollux would forward, once pollux's edits are
//! applied and it is serialized (head rebuilt, body bytes as received),
//! re-parses to the same request (method, target, headers) whose framing
//! takes exactly the same body bytes and leaves nothing over: one message,
//! never two.
//!
//! The edits are `body::normalize_request_framing` (the final framing
//! normalisation) on the parsed head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux::http::body::{normalize_request_framing, request_framing, BodyTracker};
use pollux::http::message::Request;
use pollux::http::parser::HeadParser;

fuzz_target!(|data: &[u8]| {
    let Ok(Some(head)) = HeadParser::new(15360).parse_request(data) else {
        return;
    };
    let mut req = Request::from_head(&head, data);
    // A framing error is answered with 400/501: nothing is forwarded.
    let Ok(framing) = request_framing(&req) else {
        return;
    };
    let rest = &data[head.len..];
    let mut body = BodyTracker::new(framing);
    let Ok(n) = body.advance(rest) else { return };
    if !body.is_done() {
        // Incomplete: pollux would wait (or fail on close); nothing to compare.
        return;
    }
    normalize_request_framing(&mut req, &framing);

    let mut out = Vec::new();
    req.serialize(&mut out);
    let head_len = out.len();
    out.extend_from_slice(&rest[..n]);

    let again = HeadParser::new(usize::MAX).parse_request(&out);
    let Ok(Some(h2)) = again else {
        panic!(
            "forwarded head does not parse: {again:?}\n{:?}",
            String::from_utf8_lossy(&out)
        );
    };
    assert_eq!(h2.len, head_len, "the head ends elsewhere");
    let req2 = Request::from_head(&h2, &out);
    assert_eq!(req2, req, "the request changed on the way");
    let f2 = request_framing(&req2).expect("forwarded framing is refused");
    let mut b2 = BodyTracker::new(f2);
    let n2 = b2
        .advance(&out[head_len..])
        .expect("forwarded body is refused");
    assert!(b2.is_done(), "forwarded body is incomplete under {f2:?}");
    assert_eq!(
        n2, n,
        "the body is {n} bytes, the forwarded framing takes {n2}"
    );
});
