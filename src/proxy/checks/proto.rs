//! The protocol checks HAProxy 2.6 runs as built-in tcp-check scripts
//! (`option redis-check`, `option smtpchk`): what each sends and how each
//! answer is judged, with HAProxy's statuses and info texts. Unlike a
//! user's `tcp-check` script, their failures name no step, except an empty
//! response.

use regex::Regex;

use super::{Eval, Step, CHECK_BUFSIZE};
use crate::config::ProtoCheck;

/// One expectation of a protocol check.
#[derive(Debug, Clone)]
pub(super) struct ProtoExpect {
    what: Match,
    /// HAProxy's `min-recv`: bytes to wait for before judging, unless the
    /// server closed; with it a mismatch is conclusive, without it the
    /// check waits for more (until the server closes or the timeout).
    min_recv: Option<usize>,
    /// The status of a failure: L7STS ("Layer7 wrong status", which shows
    /// a code) or L7RSP ("Layer7 invalid response").
    wrong_status: bool,
    /// The info of a failure: the answer from this offset, spaces trimmed
    /// on the left, up to the first CR or LF.
    error_from: usize,
    /// The info of a success, if this expectation ends the check.
    success: Info,
    /// The code is the answer's first three characters (SMTP).
    code_from_answer: bool,
}

#[derive(Debug, Clone)]
enum Match {
    /// These bytes appear in the answer.
    Bytes(&'static [u8]),
    Regex(Regex),
}

#[derive(Debug, Clone)]
enum Info {
    None,
    Text(&'static str),
    /// As `error_from`.
    Answer(usize),
}

/// The steps after the connect for this protocol.
pub(super) fn steps(p: &ProtoCheck) -> Vec<Step> {
    let re = |s: &str| Match::Regex(Regex::new(s).expect("a valid built-in regex"));
    match p {
        ProtoCheck::Redis => vec![
            Step::Send(b"*1\r\n$4\r\nPING\r\n".to_vec()),
            Step::Proto(ProtoExpect {
                what: Match::Bytes(b"+PONG\r\n"),
                min_recv: None,
                wrong_status: true,
                error_from: 0,
                success: Info::Text("Redis server is ok"),
                code_from_answer: false,
            }),
        ],
        ProtoCheck::Smtp { hello } => {
            let reply = |what, min_recv| {
                Step::Proto(ProtoExpect {
                    what,
                    min_recv,
                    wrong_status: true,
                    error_from: 4,
                    success: Info::Answer(4),
                    code_from_answer: true,
                })
            };
            vec![
                // A banner, then a 2xx one.
                Step::Proto(ProtoExpect {
                    what: re(r"^[0-9]{3}[ \r]"),
                    min_recv: Some(4),
                    wrong_status: false,
                    error_from: 0,
                    success: Info::None,
                    code_from_answer: false,
                }),
                Step::Proto(ProtoExpect {
                    success: Info::None,
                    ..match reply(re(r"^2[0-9]{2}[ \r]"), Some(4)) {
                        Step::Proto(e) => e,
                        _ => unreachable!(),
                    }
                }),
                Step::Send(format!("{hello}\r\n").into_bytes()),
                reply(re(r"^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]"), None),
                Step::Send(b"QUIT\r\n".to_vec()),
                reply(re(r"^2[0-9]{2}[- \r]"), Some(4)),
            ]
        }
    }
}

/// Judges the answer so far (`last`: nothing more will come); `step`:
/// HAProxy's step number, for an empty response.
pub(super) fn eval(e: &ProtoExpect, rx: &[u8], last: bool, step: usize) -> Eval {
    let code = if e.code_from_answer {
        std::str::from_utf8(rx.get(..3).unwrap_or(b""))
            .ok()
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0)
    } else {
        0
    };
    let fail = |info: String| {
        if e.wrong_status {
            Eval::Fail(format!(
                "Layer7 wrong status, code: {code}, info: \"{info}\""
            ))
        } else {
            Eval::Fail(format!("Layer7 invalid response, info: \"{info}\""))
        }
    };
    if rx.is_empty() && last {
        return fail(format!("TCPCHK got an empty response at step {step}"));
    }
    let last = last || rx.len() >= CHECK_BUFSIZE;
    if rx.len() < e.min_recv.unwrap_or(0) && !last {
        return Eval::Wait;
    }
    let matched = match &e.what {
        Match::Bytes(b) => super::find(rx, b),
        Match::Regex(re) => re.is_match(&String::from_utf8_lossy(rx)),
    };
    if !matched && !last && e.min_recv.is_none() {
        return Eval::Wait;
    }
    if !matched {
        return fail(answer(rx, e.error_from));
    }
    match &e.success {
        Info::None => Eval::Pass(None),
        Info::Text(t) => Eval::Pass(Some(format!(
            "Layer7 check passed, code: {code}, info: \"{t}\""
        ))),
        Info::Answer(from) => Eval::Pass(Some(format!(
            "Layer7 check passed, code: {code}, info: \"{}\"",
            answer(rx, *from)
        ))),
    }
}

/// HAProxy's `res.payload(from,0),ltrim(' '),cut_crlf`.
fn answer(rx: &[u8], from: usize) -> String {
    let text = String::from_utf8_lossy(rx.get(from..).unwrap_or(b""));
    let text = text.trim_start_matches(' ');
    text.split(['\r', '\n']).next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expects(p: &ProtoCheck) -> Vec<ProtoExpect> {
        steps(p)
            .into_iter()
            .filter_map(|s| match s {
                Step::Proto(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    fn reason(e: Eval) -> (bool, String) {
        match e {
            Eval::Pass(r) => (true, r.unwrap_or_default()),
            Eval::Fail(r) => (false, r),
            Eval::Wait => (false, "wait".into()),
        }
    }

    #[test]
    fn redis_pong_passes_and_anything_else_is_a_wrong_status() {
        let [e] = &expects(&ProtoCheck::Redis)[..] else {
            panic!()
        };
        assert_eq!(
            reason(eval(e, b"+PONG\r\n", false, 2)),
            (
                true,
                "Layer7 check passed, code: 0, info: \"Redis server is ok\"".into()
            )
        );
        assert_eq!(reason(eval(e, b"-ERR x\r\n", false, 2)).1, "wait");
        assert_eq!(
            reason(eval(e, b"-ERR unknown\r\nmore", true, 2)),
            (
                false,
                "Layer7 wrong status, code: 0, info: \"-ERR unknown\"".into()
            )
        );
        assert_eq!(
            reason(eval(e, b"", true, 2)).1,
            "Layer7 wrong status, code: 0, info: \"TCPCHK got an empty response at step 2\""
        );
    }

    #[test]
    fn smtp_banner_greeting_and_quit() {
        let smtp = ProtoCheck::Smtp {
            hello: "EHLO a.test".into(),
        };
        let sent: Vec<Vec<u8>> = steps(&smtp)
            .into_iter()
            .filter_map(|s| match s {
                Step::Send(b) => Some(b),
                _ => None,
            })
            .collect();
        assert_eq!(sent, [b"EHLO a.test\r\n".to_vec(), b"QUIT\r\n".to_vec()]);
        let [banner, banner2xx, hello, quit] = &expects(&smtp)[..] else {
            panic!()
        };
        assert_eq!(reason(eval(banner, b"220", false, 2)).1, "wait");
        assert!(reason(eval(banner, b"220 mx ESMTP\r\n", false, 2)).0);
        assert_eq!(
            reason(eval(banner, b"hello\r\n", true, 2)),
            (false, "Layer7 invalid response, info: \"hello\"".into())
        );
        assert_eq!(
            reason(eval(banner2xx, b"554 go away\r\n", false, 3)),
            (
                false,
                "Layer7 wrong status, code: 554, info: \"go away\"".into()
            )
        );
        assert!(reason(eval(hello, b"250-mx\r\n250 SIZE 10\r\n", false, 5)).0);
        assert_eq!(reason(eval(hello, b"250-mx\r\n", false, 5)).1, "wait");
        assert_eq!(
            reason(eval(quit, b"221 2.0.0 Bye\r\n", false, 7)),
            (
                true,
                "Layer7 check passed, code: 221, info: \"2.0.0 Bye\"".into()
            )
        );
        assert_eq!(
            reason(eval(banner, b"", true, 2)).1,
            "Layer7 invalid response, info: \"TCPCHK got an empty response at step 2\""
        );
    }
}
