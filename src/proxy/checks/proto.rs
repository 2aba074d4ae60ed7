//! The protocol checks HAProxy 2.6 runs as built-in tcp-check scripts
//! (`option redis-check`, `option smtpchk`, `option pgsql-check`,
//! `option ldap-check`, `option mysql-check`): what each sends and how each
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
    /// An LDAPv3 BindResponse, judged by `ldap_bind_response`.
    LdapBind,
    /// A MySQL packet, judged by `mysql_packet`: the initial handshake, or
    /// (`after_handshake`) the one after it; `ends`: the last expectation.
    Mysql {
        after_handshake: bool,
        ends: bool,
    },
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
        ProtoCheck::Ldap => vec![
            // BindRequest, message 1: LDAPv3, anonymous, simple.
            Step::Send(b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00".to_vec()),
            Step::Proto(ProtoExpect {
                what: Match::HexRegex(Regex::new("^30").expect("a valid built-in regex")),
                min_recv: Some(14),
                wrong_status: false,
                negate: false,
                error: Info::Text("Not LDAPv3 protocol"),
                success: Info::None,
                code_from_answer: false,
            }),
            Step::Proto(ProtoExpect {
                what: Match::LdapBind,
                min_recv: None,
                wrong_status: false,
                negate: false,
                error: Info::None,
                success: Info::None,
                code_from_answer: false,
            }),
        ],
        ProtoCheck::Mysql { user } => {
            let mysql = |after_handshake, ends| {
                Step::Proto(ProtoExpect {
                    what: Match::Mysql {
                        after_handshake,
                        ends,
                    },
                    min_recv: None,
                    wrong_status: false,
                    negate: false,
                    error: Info::None,
                    success: Info::None,
                    code_from_answer: false,
                })
            };
            match user {
                // HAProxy sends its login and a COM_QUIT at once.
                Some((user, post41)) => vec![
                    Step::Send(mysql_login(user, *post41)),
                    mysql(false, false),
                    mysql(true, true),
                ],
                None => vec![mysql(false, true)],
            }
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
    match e.what {
        Match::LdapBind => return ldap_bind_response(rx, last),
        Match::Mysql {
            after_handshake,
            ends,
        } => return mysql_packet(rx, last, after_handshake, ends),
        _ => {}
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
        Match::LdapBind | Match::Mysql { .. } => false,
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

/// HAProxy 2.6's reading of an LDAP BindResponse (RFC 4511 §4.2.2): a
/// BER SEQUENCE whose length takes one byte, or two or four after 0x82 or
/// 0x84, then messageID 1 and bindResponse, then the resultCode: 0 passes,
/// another is a wrong status with that code.
fn ldap_bind_response(rx: &[u8], last: bool) -> Eval {
    const NOT_LDAP: &str = "Layer7 invalid response, info: \"Not LDAPv3 protocol\"";
    let short = || {
        if last {
            Eval::Fail("Layer7 invalid response".into())
        } else {
            Eval::Wait
        }
    };
    let Some(&len) = rx.get(1) else {
        return short();
    };
    let (nbytes, msglen) = if len & 0x80 != 0 {
        let n = usize::from(len & 0x7f);
        let Some(bytes) = rx.get(2..2 + n) else {
            return short();
        };
        match n {
            2 | 4 => (
                n,
                bytes.iter().fold(0usize, |a, &b| a << 8 | usize::from(b)),
            ),
            _ => return Eval::Fail(NOT_LDAP.into()),
        }
    } else {
        (0, usize::from(len))
    };
    if rx.len() < 2 + nbytes + msglen {
        return short();
    }
    let mut at = 2 + nbytes;
    if rx.get(at..at + 4) != Some(b"\x02\x01\x01\x61") {
        return Eval::Fail(NOT_LDAP.into());
    }
    at += 4;
    // The bindResponse's own length.
    at += 1 + rx.get(at).map_or(0, |&b| {
        if b & 0x80 != 0 {
            usize::from(b & 0x7f)
        } else {
            0
        }
    });
    if rx.get(at..at + 2) != Some(b"\x0a\x01") {
        return Eval::Fail(NOT_LDAP.into());
    }
    match rx.get(at + 2) {
        // (See `info_replaced_at_end`.)
        Some(0) => Eval::Pass(Some(
            "Layer7 check passed, code: 0, info: \"Success\"".into(),
        )),
        Some(code) => Eval::Fail(format!(
            "Layer7 wrong status, code: {code}, info: \"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9\""
        )),
        None => Eval::Fail(NOT_LDAP.into()),
    }
}

/// HAProxy 2.6's client authentication packet for `user` (protocol 4.1,
/// or the older one), sequence 1, then a COM_QUIT.
fn mysql_login(user: &str, post41: bool) -> Vec<u8> {
    let mut body = if post41 {
        let mut b = vec![0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21];
        b.extend([0u8; 23]);
        b
    } else {
        vec![0x00, 0x80, 0x00, 0x00, 0x01]
    };
    body.extend(user.as_bytes());
    body.extend([0, 0]);
    let len = body.len() as u32;
    let mut p = len.to_le_bytes()[..3].to_vec();
    p.push(1);
    p.extend(body);
    p.extend([0x01, 0x00, 0x00, 0x00, 0x01]);
    p
}

/// HAProxy 2.6's reading of a MySQL packet: a 3-byte length and a
/// sequence number; an error packet (0xff) is a wrong status with its
/// error number as the code and the rest as the info; the last passes with
/// the server version (the handshake's C string at offset 5).
fn mysql_packet(rx: &[u8], last: bool, after_handshake: bool, ends: bool) -> Eval {
    let le3 = |at: usize| {
        rx.get(at..at + 3)
            .map(|b| usize::from(b[0]) | usize::from(b[1]) << 8 | usize::from(b[2]) << 16)
    };
    let offset = if after_handshake {
        4 + le3(0).unwrap_or(0)
    } else {
        0
    };
    let short = || {
        if last {
            Eval::Fail("Layer7 invalid response".into())
        } else {
            Eval::Wait
        }
    };
    let Some(plen) = le3(offset).filter(|_| rx.len() >= offset + 4) else {
        return short();
    };
    if rx.len() < offset + plen + 4 {
        return short();
    }
    if rx.get(offset + 4) == Some(&0xff) {
        let code = le3(offset + 5).map_or(0, |v| v & 0xffff);
        let text = c_string(rx.get(offset + 7..).unwrap_or(b""));
        return Eval::Fail(format!(
            "Layer7 wrong status, code: {code}, info: \"{text}\""
        ));
    }
    if !ends {
        return Eval::Pass(None);
    }
    // The server version (see `info_replaced_at_end`).
    Eval::Pass(Some(format!(
        "Layer7 check passed, code: 0, info: \"{}\"",
        c_string(rx.get(5..).unwrap_or(b""))
    )))
}

/// HAProxy's LDAP and MySQL judges set a success's info ("Success", the
/// server version), which `option log-health-checks` logs, and then the
/// end of the script sets it again, empty: what the stats show and the
/// state-change line says.
pub(super) fn info_replaced_at_end(e: &ProtoExpect) -> bool {
    matches!(e.what, Match::LdapBind | Match::Mysql { .. })
}

/// Bytes up to the first NUL, as text.
fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn info(i: &Info, rx: &[u8]) -> String {
    match i {
        Info::None => String::new(),
        Info::Text(t) => t.to_string(),
        Info::Answer(from) => answer(rx, *from),
        Info::CString(from) => c_string(rx.get(*from..).unwrap_or(b"")),
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

    /// A MySQL 8 style initial handshake (protocol 10, version "8.0.1").
    const HANDSHAKE: &[u8] = b"\x13\0\0\0\x0a8.0.1\0\x01\0\0\0abcdefgh";

    #[test]
    fn mysql_login_packets_as_haproxy() {
        let post41 = mysql_login("bob", true);
        assert_eq!(&post41[..4], [37, 0, 0, 1]);
        assert_eq!(post41.len(), 4 + 37 + 5);
        assert_eq!(&post41[4..13], [0, 0x82, 0, 0, 0, 0x80, 0, 1, 0x21]);
        assert_eq!(&post41[36..46], b"bob\0\0\x01\0\0\0\x01");
        let pre41 = mysql_login("bob", false);
        assert_eq!(pre41, b"\x0a\0\0\x01\0\x80\0\0\x01bob\0\0\x01\0\0\0\x01");
    }

    #[test]
    fn mysql_handshakes_and_errors() {
        let plain = &expects(&ProtoCheck::Mysql { user: None })[..];
        let [hs] = plain else { panic!() };
        assert_eq!(
            reason(eval(hs, HANDSHAKE, false, 2)),
            (true, "Layer7 check passed, code: 0, info: \"8.0.1\"".into())
        );
        assert_eq!(reason(eval(hs, &HANDSHAKE[..10], false, 2)).1, "wait");
        assert_eq!(
            reason(eval(hs, &HANDSHAKE[..10], true, 2)),
            (false, "Layer7 invalid response".into())
        );
        // "Host is not allowed to connect" (1130).
        let refused = b"\x13\0\0\0\xff\x6a\x04Host not allowed";
        assert_eq!(
            reason(eval(hs, refused, false, 2)),
            (
                false,
                "Layer7 wrong status, code: 1130, info: \"Host not allowed\"".into()
            )
        );
        let user = ProtoCheck::Mysql {
            user: Some(("bob".into(), true)),
        };
        let [hs, ok] = &expects(&user)[..] else {
            panic!()
        };
        assert_eq!(reason(eval(hs, HANDSHAKE, false, 3)), (true, String::new()));
        assert_eq!(reason(eval(ok, HANDSHAKE, false, 4)).1, "wait");
        let mut answer = HANDSHAKE.to_vec();
        answer.extend(b"\x07\0\0\x02\0\0\0\x02\0\0\0");
        assert_eq!(
            reason(eval(ok, &answer, false, 4)),
            (true, "Layer7 check passed, code: 0, info: \"8.0.1\"".into())
        );
        let mut denied = HANDSHAKE.to_vec();
        denied.extend(b"\x0f\0\0\x02\xff\x15\x04#28000Denied");
        assert_eq!(
            reason(eval(ok, &denied, false, 4)),
            (
                false,
                "Layer7 wrong status, code: 1045, info: \"#28000Denied\"".into()
            )
        );
    }

    #[test]
    fn ldap_bind_responses() {
        let [ber, bind] = &expects(&ProtoCheck::Ldap)[..] else {
            panic!()
        };
        // OpenLDAP's answer to an anonymous bind, and a refusal (49).
        let ok = b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00";
        assert!(reason(eval(ber, ok, false, 2)).0);
        assert_eq!(
            reason(eval(bind, ok, false, 3)),
            (
                true,
                "Layer7 check passed, code: 0, info: \"Success\"".into()
            )
        );
        let no = b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00";
        assert!(reason(eval(bind, no, false, 3))
            .1
            .starts_with("Layer7 wrong status, code: 49, info: \"See RFC"));
        // A long-form length (Active Directory's).
        let ad = b"\x30\x84\x00\x00\x00\x0c\x02\x01\x01\x61\x84\x00\x00\x00\x07\x0a\x01\x00\x04\x00\x04\x00";
        assert!(reason(eval(bind, ad, false, 3)).0);
        assert_eq!(reason(eval(bind, &ok[..10], false, 3)).1, "wait");
        assert_eq!(
            reason(eval(bind, &ok[..10], true, 3)),
            (false, "Layer7 invalid response".into())
        );
        let http = b"HTTP/1.1 400 Bad Request\r\n";
        assert_eq!(
            reason(eval(ber, http, false, 2)),
            (
                false,
                "Layer7 invalid response, info: \"Not LDAPv3 protocol\"".into()
            )
        );
        let other = b"\x30\x0c\x02\x01\x02\x61\x07\x0a\x01\x00\x04\x00\x04\x00";
        assert_eq!(
            reason(eval(bind, other, false, 3)).1,
            "Layer7 invalid response, info: \"Not LDAPv3 protocol\""
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
