//! The protocol checks HAProxy 2.6 runs as built-in tcp-check scripts
//! (`option redis-check`, `option smtpchk`, `option pgsql-check`): what each sends and how each
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
    /// `!`: the answer must not match.
    negate: bool,
    /// The info of a failure.
    error: Info,
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
    /// HAProxy's `rbinary`: a regex on the answer in uppercase hex.
    HexRegex(Regex),
}

#[derive(Debug, Clone)]
enum Info {
    None,
    Text(&'static str),
    /// The answer from this offset, spaces trimmed on the left, up to the
    /// first CR or LF.
    Answer(usize),
    /// The answer from this offset up to the first NUL (a C string).
    CString(usize),
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
                negate: false,
                error: Info::Answer(0),
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
                    negate: false,
                    error: Info::Answer(4),
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
                    negate: false,
                    error: Info::Answer(0),
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
        ProtoCheck::Pgsql { user } => {
            // A StartupMessage: length, protocol 3.0, "user" and the name.
            let mut startup = ((15 + user.len()) as u32).to_be_bytes().to_vec();
            startup.extend(b"\0\x03\0\0user\0");
            startup.extend(user.as_bytes());
            startup.extend(b"\0\0");
            vec![
                Step::Send(startup),
                // Not an ErrorResponse ('E'): its severity is the info.
                Step::Proto(ProtoExpect {
                    what: re("^E"),
                    min_recv: Some(5),
                    wrong_status: false,
                    negate: true,
                    error: Info::CString(6),
                    success: Info::None,
                    code_from_answer: false,
                }),
                // An Authentication request HAProxy knows.
                Step::Proto(ProtoExpect {
                    what: Match::HexRegex(
                        Regex::new("^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|07|09|0A)")
                            .expect("a valid built-in regex"),
                    ),
                    min_recv: Some(9),
                    wrong_status: true,
                    negate: false,
                    error: Info::Text("PostgreSQL unknown error"),
                    success: Info::Text("PostgreSQL server is ok"),
                    code_from_answer: false,
                }),
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
        Match::HexRegex(re) => {
            let hex: String = rx.iter().map(|b| format!("{b:02X}")).collect();
            re.is_match(&hex)
        }
    };
    if !matched && !last && e.min_recv.is_none() {
        return Eval::Wait;
    }
    if matched == e.negate {
        return fail(info(&e.error, rx));
    }
    match &e.success {
        Info::None => Eval::Pass(None),
        i => Eval::Pass(Some(format!(
            "Layer7 check passed, code: {code}, info: \"{}\"",
            info(i, rx)
        ))),
    }
}

fn info(i: &Info, rx: &[u8]) -> String {
    match i {
        Info::None => String::new(),
        Info::Text(t) => t.to_string(),
        Info::Answer(from) => answer(rx, *from),
        Info::CString(from) => {
            let rest = rx.get(*from..).unwrap_or(b"");
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end]).into_owned()
        }
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
    fn pgsql_startup_and_its_answers() {
        let p = ProtoCheck::Pgsql { user: "bob".into() };
        let steps = steps(&p);
        let Step::Send(startup) = &steps[0] else {
            panic!()
        };
        assert_eq!(startup, b"\0\0\0\x12\0\x03\0\0user\0bob\0\0");
        assert_eq!(startup.len(), 18);
        let [not_error, auth] = &expects(&p)[..] else {
            panic!()
        };
        let md5 = b"R\0\0\0\x0c\0\0\0\x05salt";
        assert!(reason(eval(not_error, md5, false, 3)).0);
        assert_eq!(
            reason(eval(auth, md5, false, 4)),
            (
                true,
                "Layer7 check passed, code: 0, info: \"PostgreSQL server is ok\"".into()
            )
        );
        let refused = b"E\0\0\0\x50SFATAL\0VFATAL\0C28000\0Mno such role\0\0";
        assert_eq!(
            reason(eval(not_error, refused, false, 3)),
            (false, "Layer7 invalid response, info: \"FATAL\"".into())
        );
        // SASL (10) is one HAProxy 2.6 knows, GSS continue (8) not.
        let sasl = b"R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0";
        assert!(reason(eval(auth, sasl, false, 4)).0);
        let gss = b"R\0\0\0\x09\0\0\0\x08x";
        assert_eq!(
            reason(eval(auth, gss, false, 4)),
            (
                false,
                "Layer7 wrong status, code: 0, info: \"PostgreSQL unknown error\"".into()
            )
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
