//! HTTP health checks: the request `option httpchk` and `http-check send`
//! describe, and the judgement of the response by `http-check expect`
//! (HAProxy's default: any 2xx or 3xx passes).

use super::{find, Eval, CHECK_BUFSIZE};
use crate::config::{HttpCheck, HttpExpect, HttpMatch};
use crate::http::parser::HeadParser;

/// The check request: `METHOD URI VERSION`, the `http-check send` headers,
/// and `Connection: close` unless a header already says otherwise.
pub(super) fn http_request(h: &HttpCheck) -> Vec<u8> {
    let mut req = format!("{} {} {}\r\n", h.method, h.uri, h.version);
    for (name, value) in &h.headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if !req.to_ascii_lowercase().contains("\nconnection:") {
        req.push_str("Connection: close\r\n");
    }
    req.push_str("\r\n");
    req.into_bytes()
}

/// Judges an HTTP response; `last`: no more bytes will come.
pub(super) fn eval_http(rx: &[u8], last: bool, expect: Option<&HttpExpect>) -> Eval {
    let head = match HeadParser::new(CHECK_BUFSIZE).parse_response(rx) {
        Err(e) => return Eval::Fail(format!("Layer7 invalid response, info: \"{}\"", e.reason)),
        Ok(None) if last && rx.is_empty() => {
            return Eval::Fail("Layer7 invalid response, info: \"empty response\"".into())
        }
        Ok(None) if last => {
            return Eval::Fail("Layer7 invalid response, info: \"incomplete response\"".into())
        }
        Ok(None) => return Eval::Wait,
        Ok(Some(head)) => head,
    };
    let status = head.status;
    let info = String::from_utf8_lossy(head.reason.get(rx)).into_owned();
    // (HAProxy says no more of a success.)
    let passed = format!("Layer7 check passed, code: {status}");
    let wrong = format!("Layer7 wrong status, code: {status}, info: \"{info}\"");
    let Some(expect) = expect else {
        // HAProxy's default: 2xx and 3xx pass.
        return if (200..400).contains(&status) {
            Eval::Pass(Some(passed))
        } else {
            Eval::Fail(wrong)
        };
    };
    let on_status = |matched: bool| {
        if matched != expect.negate {
            Eval::Pass(Some(passed.clone()))
        } else {
            Eval::Fail(wrong.clone())
        }
    };
    let body = match &expect.what {
        HttpMatch::Status(ranges) => {
            return on_status(ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&status)))
        }
        HttpMatch::Rstatus(re) => return on_status(re.0.is_match(&status.to_string())),
        HttpMatch::String(_) | HttpMatch::Rstring(_) => &rx[head.len..],
    };
    let length = head.headers.iter().find_map(|h| {
        h.name
            .get(rx)
            .eq_ignore_ascii_case(b"content-length")
            .then(|| {
                std::str::from_utf8(h.value.get(rx))
                    .ok()?
                    .parse::<usize>()
                    .ok()
            })
            .flatten()
    });
    let body = match length {
        Some(n) if body.len() >= n => &body[..n],
        _ if last => body,
        _ => return Eval::Wait,
    };
    let matched = match &expect.what {
        HttpMatch::String(s) => find(body, s.as_bytes()),
        HttpMatch::Rstring(re) => re.0.is_match(&String::from_utf8_lossy(body)),
        // Judged on the status above.
        HttpMatch::Status(_) | HttpMatch::Rstatus(_) => false,
    };
    if matched != expect.negate {
        Eval::Pass(Some(passed))
    } else if expect.negate {
        Eval::Fail("Layer7 invalid response, info: \"HTTP check matched unwanted content\"".into())
    } else {
        Eval::Fail("Layer7 invalid response, info: \"HTTP content check did not match\"".into())
    }
}
