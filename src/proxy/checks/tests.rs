//! The checker driven by hand: each test feeds callbacks and reads the
//! actions, transitions and deadlines, with no socket.

use super::http::http_request;
use super::*;
use crate::config::{HttpCheck, HttpMatch, OnError, TcpCheckStep};
use crate::http::acl::Re;

const SRV: &str = "127.0.0.1:8080";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn check() -> ServerCheck {
    ServerCheck {
        inter: secs(2),
        fastinter: secs(1),
        downinter: secs(5),
        ..ServerCheck::default()
    }
}

fn http(expect: Option<HttpExpect>) -> HealthConfig {
    HealthConfig {
        kind: CheckKind::Http(HttpCheck::default()),
        expect,
        ..HealthConfig::default()
    }
}

fn checker(cfg: &ServerCheck, health: &HealthConfig, t0: Instant) -> Checker {
    Checker::new(
        cfg,
        health,
        &Timeouts::default(),
        SRV.parse().unwrap(),
        t0,
        Spread::default(),
    )
}

fn tcp(t0: Instant) -> Checker {
    checker(&check(), &HealthConfig::default(), t0)
}

fn done(a: Action) -> Outcome {
    match a {
        Action::Done(o) => o,
        other => panic!("expected Done, got {other:?}"),
    }
}

/// One whole plain TCP attempt at `now`; the connection opens if `ok`.
fn attempt(c: &mut Checker, ok: bool, now: Instant) -> Option<Transition> {
    assert_eq!(c.start(now), Action::Connect(SRV.parse().unwrap()));
    let a = if ok {
        c.on_connected(now)
    } else {
        c.on_error("Connection refused", now)
    };
    let o = done(a);
    c.finish(o, now)
}

/// An HTTP check fed `response` then EOF; the outcome.
fn http_outcome(expect: Option<HttpExpect>, response: &[u8]) -> Outcome {
    let t0 = Instant::now();
    let mut c = checker(&check(), &http(expect), t0);
    assert!(matches!(c.start(t0), Action::Connect(_)));
    assert!(matches!(c.on_connected(t0), Action::Send(_)));
    assert_eq!(c.on_sent(t0), Action::Expect);
    match c.on_data(response, t0) {
        Action::Expect => done(c.on_eof(t0)),
        a => done(a),
    }
}

fn expect(negate: bool, what: HttpMatch) -> Option<HttpExpect> {
    Some(HttpExpect { negate, what })
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nhealthy";
const UNAVAILABLE: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";

#[test]
fn a_server_starts_up_and_its_first_failure_takes_it_down() {
    let t0 = Instant::now();
    let mut c = tcp(t0);
    assert_eq!(c.health(), Health::Up);
    let t = attempt(&mut c, false, t0);
    assert!(
        matches!(t, Some(Transition::WentDown { ref reason }) if reason.starts_with("Layer4 connection problem"))
    );
    assert_eq!(
        (c.health(), c.transitions(), c.last_change()),
        (Health::Down, 1, t0)
    );
}

#[test]
fn fully_up_server_goes_down_after_fall_failures_and_up_after_rise_successes() {
    let t0 = Instant::now();
    let mut c = tcp(t0);
    assert_eq!(attempt(&mut c, true, t0), None, "already UP");
    assert_eq!(attempt(&mut c, false, t0), None);
    assert_eq!(attempt(&mut c, false, t0), None);
    assert!(
        matches!(
            attempt(&mut c, false, t0),
            Some(Transition::WentDown { .. })
        ),
        "fall 3"
    );
    assert_eq!(attempt(&mut c, true, t0), None);
    let t1 = t0 + secs(30);
    assert_eq!(
        attempt(&mut c, true, t1),
        Some(Transition::WentUp),
        "rise 2"
    );
    assert_eq!((c.transitions(), c.last_change()), (2, t1));
}

#[test]
fn one_success_restores_a_server_going_down() {
    let t0 = Instant::now();
    let mut c = tcp(t0);
    attempt(&mut c, true, t0);
    attempt(&mut c, false, t0);
    attempt(&mut c, false, t0);
    attempt(&mut c, true, t0);
    assert_eq!(
        attempt(&mut c, false, t0),
        None,
        "full health again: fall 3 from here"
    );
    assert_eq!(c.health(), Health::Up);
}

#[test]
fn intervals_are_inter_when_up_fastinter_in_transition_downinter_when_down() {
    let t0 = Instant::now();
    let mut c = tcp(t0);
    attempt(&mut c, true, t0);
    assert_eq!((c.interval(), c.next_deadline()), (secs(2), t0 + secs(2)));
    attempt(&mut c, false, t0);
    assert_eq!((c.interval(), c.next_deadline()), (secs(1), t0 + secs(1)));
    attempt(&mut c, false, t0);
    attempt(&mut c, false, t0);
    assert_eq!((c.interval(), c.next_deadline()), (secs(5), t0 + secs(5)));
    attempt(&mut c, true, t0);
    assert_eq!(c.interval(), secs(1), "DOWN, going up");
}

#[test]
fn connect_timeout_is_a_layer4_timeout_at_inter_without_timeout_check() {
    let t0 = Instant::now();
    let mut c = tcp(t0);
    c.start(t0);
    assert!(c.is_running());
    assert_eq!(c.next_deadline(), t0 + secs(2));
    let o = done(c.on_timeout(t0 + secs(2)));
    assert_eq!(o, Outcome::fail("Layer4 timeout"));
    c.finish(o, t0 + secs(2));
    assert!(!c.is_running());
}

#[test]
fn timeout_check_bounds_the_wait_for_the_response() {
    let t0 = Instant::now();
    let timeouts = Timeouts {
        connect: Some(Duration::from_millis(500)),
        check: Some(secs(10)),
        ..Timeouts::default()
    };
    let mut c = Checker::new(
        &check(),
        &http(None),
        &timeouts,
        SRV.parse().unwrap(),
        t0,
        Spread::default(),
    );
    c.start(t0);
    assert_eq!(
        c.next_deadline(),
        t0 + Duration::from_millis(500),
        "min(timeout connect, inter)"
    );
    let t1 = t0 + Duration::from_millis(100);
    c.on_connected(t1);
    c.on_sent(t1);
    assert_eq!(c.next_deadline(), t1 + secs(10));
    assert_eq!(
        done(c.on_timeout(t1 + secs(10))),
        Outcome::fail("Layer7 timeout")
    );
}

#[test]
fn http_check_sends_haproxys_default_request() {
    let t0 = Instant::now();
    let mut c = checker(&check(), &http(None), t0);
    c.start(t0);
    assert_eq!(
        c.on_connected(t0),
        Action::Send(b"OPTIONS / HTTP/1.0\r\nConnection: close\r\n\r\n".to_vec())
    );
}

#[test]
fn http_check_request_carries_send_headers() {
    let hc = HttpCheck {
        method: "GET".into(),
        uri: "/health".into(),
        version: "HTTP/1.1".into(),
        headers: vec![("Host".into(), "www".into())],
    };
    assert_eq!(
        http_request(&hc),
        b"GET /health HTTP/1.1\r\nHost: www\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn default_http_expectation_passes_2xx_and_3xx_only() {
    let o = http_outcome(None, OK);
    assert_eq!(o, Outcome::pass("Layer7 check passed, code: 200"));
    assert!(http_outcome(None, b"HTTP/1.0 302 Found\r\n\r\n").ok);
    let o = http_outcome(None, UNAVAILABLE);
    assert_eq!(
        o,
        Outcome::fail("Layer7 wrong status, code: 503, info: \"Service Unavailable\"")
    );
    assert!(!http_outcome(None, b"HTTP/1.0 404 Not Found\r\n\r\n").ok);
}

#[test]
fn http_status_is_judged_as_soon_as_the_head_is_in() {
    let t0 = Instant::now();
    let mut c = checker(&check(), &http(None), t0);
    c.start(t0);
    c.on_connected(t0);
    c.on_sent(t0);
    assert_eq!(c.on_data(b"HTTP/1.1 200 OK\r\n", t0), Action::Expect);
    assert!(done(c.on_data(b"\r\n", t0)).ok);
}

#[test]
fn expect_status_list_rstatus_and_their_negations() {
    let list = |v: &[(u16, u16)]| HttpMatch::Status(v.to_vec());
    assert!(http_outcome(expect(false, list(&[(200, 200)])), OK).ok);
    assert!(!http_outcome(expect(false, list(&[(201, 299)])), OK).ok);
    assert!(http_outcome(expect(false, list(&[(500, 599)])), UNAVAILABLE).ok);
    assert!(!http_outcome(expect(true, list(&[(500, 599)])), UNAVAILABLE).ok);
    let re = |p: &str| HttpMatch::Rstatus(Re::new(p, false).unwrap());
    assert!(http_outcome(expect(false, re("^2")), OK).ok);
    assert!(!http_outcome(expect(true, re("^2")), OK).ok);
    assert!(http_outcome(expect(true, re("^2")), UNAVAILABLE).ok);
}

#[test]
fn expect_string_and_rstring_search_the_body() {
    let string = |s: &str| HttpMatch::String(s.into());
    assert!(http_outcome(expect(false, string("healthy")), OK).ok);
    let o = http_outcome(expect(false, string("OK")), OK);
    assert_eq!(
        o,
        Outcome::fail("Layer7 invalid response, info: \"HTTP content check did not match\""),
        "the reason phrase is not the body"
    );
    assert!(!http_outcome(expect(true, string("healthy")), OK).ok);
    assert!(http_outcome(expect(true, string("maintenance")), OK).ok);
    let re = |p: &str| HttpMatch::Rstring(Re::new(p, false).unwrap());
    assert!(http_outcome(expect(false, re("^heal+thy$")), OK).ok);
    assert!(!http_outcome(expect(false, re("^busy$")), OK).ok);
}

#[test]
fn body_is_complete_at_content_length_or_eof() {
    let t0 = Instant::now();
    let mut c = checker(
        &check(),
        &http(expect(false, HttpMatch::String("thy".into()))),
        t0,
    );
    c.start(t0);
    c.on_connected(t0);
    c.on_sent(t0);
    assert_eq!(
        c.on_data(&OK[..OK.len() - 3], t0),
        Action::Expect,
        "body incomplete"
    );
    assert!(done(c.on_data(&OK[OK.len() - 3..], t0)).ok);
    let o = http_outcome(
        expect(false, HttpMatch::String("end".into())),
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
    );
    assert!(o.ok, "no length: read to EOF");
}

#[test]
fn malformed_or_missing_responses_fail() {
    let invalid = |r: &[u8]| http_outcome(None, r).reason;
    assert!(invalid(b"SSH-2.0-OpenSSH\r\n\r\n").starts_with("Layer7 invalid response"));
    assert_eq!(
        invalid(b""),
        "Layer7 invalid response, info: \"empty response\""
    );
    assert_eq!(
        invalid(b"HTTP/1.1 200 OK\r\n"),
        "Layer7 invalid response, info: \"incomplete response\""
    );
}

#[test]
fn a_response_beyond_the_buffer_is_judged_at_the_bound() {
    let t0 = Instant::now();
    let mut c = checker(
        &check(),
        &http(expect(false, HttpMatch::String("needle".into()))),
        t0,
    );
    c.start(t0);
    c.on_connected(t0);
    c.on_sent(t0);
    let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".to_vec();
    big.resize(CHECK_BUFSIZE + 10, b'x');
    let o = done(c.on_data(&big, t0));
    assert!(!o.ok, "{o:?}");
}

fn script(steps: Vec<TcpCheckStep>) -> HealthConfig {
    HealthConfig {
        kind: CheckKind::TcpScript(steps),
        ..HealthConfig::default()
    }
}

fn expect_string(s: &str) -> TcpCheckStep {
    TcpCheckStep::Expect {
        negate: false,
        what: TcpMatch::Bytes(s.as_bytes().to_vec()),
    }
}

#[test]
fn redis_ping_pong_script() {
    let t0 = Instant::now();
    let steps = vec![
        TcpCheckStep::Connect {
            port: Some(6379),
            default: false,
            ssl: false,
            sni: None,
        },
        TcpCheckStep::Send(b"PING\r\n".to_vec()),
        expect_string("+PONG"),
    ];
    let mut c = checker(&check(), &script(steps), t0);
    assert_eq!(
        c.start(t0),
        Action::Connect("127.0.0.1:6379".parse().unwrap())
    );
    assert_eq!(c.on_connected(t0), Action::Send(b"PING\r\n".to_vec()));
    assert_eq!(c.on_sent(t0), Action::Expect);
    assert_eq!(c.on_data(b"+PO", t0), Action::Expect);
    let o = done(c.on_data(b"NG\r\n", t0));
    assert_eq!(
        o,
        Outcome::pass("Layer7 check passed, code: 0, info: \"(tcp-check)\"")
    );
    assert_eq!(o.status(), ("L7OK", Some(0)));
    assert_eq!(c.finish(o, t0), None);
}

#[test]
fn redis_error_reply_fails_with_the_step() {
    let t0 = Instant::now();
    let steps = vec![
        TcpCheckStep::Send(b"PING\r\n".to_vec()),
        expect_string("+PONG"),
    ];
    let mut c = checker(&check(), &script(steps), t0);
    assert_eq!(
        c.start(t0),
        Action::Connect(SRV.parse().unwrap()),
        "implicit connect"
    );
    c.on_connected(t0);
    c.on_sent(t0);
    assert_eq!(
        c.on_data(b"-ERR loading\r\n", t0),
        Action::Expect,
        "may still come"
    );
    assert_eq!(
        done(c.on_eof(t0)),
        Outcome::fail(
            "Layer7 invalid response, info: \"TCPCHK did not match content '+PONG' at step 2\""
        )
    );
}

#[test]
fn smtp_banner_then_quit() {
    let t0 = Instant::now();
    let steps = vec![
        expect_string("220"),
        TcpCheckStep::Send(b"QUIT\r\n".to_vec()),
        TcpCheckStep::Expect {
            negate: false,
            what: TcpMatch::Rstring(Re::new("^221 ", false).unwrap()),
        },
    ];
    let mut c = checker(&check(), &script(steps), t0);
    c.start(t0);
    assert_eq!(c.on_connected(t0), Action::Expect);
    assert_eq!(
        c.on_data(b"220 mail.example.com ESMTP\r\n", t0),
        Action::Send(b"QUIT\r\n".to_vec())
    );
    assert_eq!(c.on_sent(t0), Action::Expect);
    assert!(done(c.on_data(b"221 bye\r\n", t0)).ok);
}

#[test]
fn negated_expect_passes_only_when_the_response_ends_without_it() {
    let t0 = Instant::now();
    let steps = vec![TcpCheckStep::Expect {
        negate: true,
        what: TcpMatch::Bytes(b"ERR".to_vec()),
    }];
    let mut c = checker(&check(), &script(steps.clone()), t0);
    c.start(t0);
    c.on_connected(t0);
    assert_eq!(c.on_data(b"fine", t0), Action::Expect);
    assert!(done(c.on_eof(t0)).ok);
    let mut c = checker(&check(), &script(steps), t0);
    c.start(t0);
    c.on_connected(t0);
    assert!(!done(c.on_data(b"ERR", t0)).ok);
}

#[test]
fn script_expect_timeout_is_layer7() {
    let t0 = Instant::now();
    let mut c = checker(&check(), &script(vec![expect_string("220")]), t0);
    c.start(t0);
    c.on_connected(t0);
    assert_eq!(
        done(c.on_timeout(t0 + secs(2))),
        Outcome::fail("Layer7 timeout, info: \"at step 1 of tcp-check\"")
    );
}

#[test]
fn check_port_and_addr_override_the_servers() {
    let t0 = Instant::now();
    let cfg = ServerCheck {
        port: Some(9000),
        addr: Some("10.0.0.9".parse().unwrap()),
        ..check()
    };
    let mut c = checker(&cfg, &HealthConfig::default(), t0);
    assert_eq!(
        c.start(t0),
        Action::Connect("10.0.0.9:9000".parse().unwrap())
    );
}

#[test]
fn slowstart_ramps_the_weight_after_going_up() {
    let t0 = Instant::now();
    let cfg = ServerCheck {
        slowstart: Some(secs(10)),
        fall: 1,
        rise: 1,
        ..check()
    };
    let mut c = checker(&cfg, &HealthConfig::default(), t0);
    assert_eq!(c.effective_weight(100, t0), 100, "no slowstart at startup");
    attempt(&mut c, false, t0);
    assert_eq!(c.effective_weight(100, t0), 0, "DOWN");
    let up = t0 + secs(60);
    assert_eq!(attempt(&mut c, true, up), Some(Transition::WentUp));
    assert!(c.in_slowstart(up));
    assert_eq!(c.effective_weight(100, up), 1, "never 0 while UP");
    assert_eq!(c.effective_weight(100, up + secs(1)), 10);
    assert_eq!(c.effective_weight(100, up + secs(5)), 50);
    assert_eq!(c.effective_weight(3, up + secs(5)), 2);
    assert_eq!(c.effective_weight(100, up + secs(10)), 100);
    assert!(!c.in_slowstart(up + secs(10)));
}

fn observed(on_error: OnError) -> Checker {
    let cfg = ServerCheck {
        observe: Some(crate::config::Observe::Layer4),
        error_limit: 3,
        on_error,
        ..check()
    };
    let t0 = Instant::now();
    let mut c = checker(&cfg, &HealthConfig::default(), t0);
    attempt(&mut c, true, t0);
    c
}

/// `n` live errors at `now`; the last transition.
fn live_errors(c: &mut Checker, n: u32, now: Instant) -> Option<Transition> {
    (0..n)
        .map(|_| c.report_live_result(false, now))
        .last()
        .flatten()
}

#[test]
fn observe_fastinter_only_brings_the_next_check_closer() {
    let mut c = observed(OnError::FastInter);
    let now = c.last_change();
    assert_eq!(live_errors(&mut c, 3, now), None);
    assert_eq!((c.health(), c.next_deadline()), (Health::Up, now + secs(1)));
}

#[test]
fn observe_counts_consecutive_errors_only() {
    let mut c = observed(OnError::MarkDown);
    let now = c.last_change();
    live_errors(&mut c, 2, now);
    assert_eq!(c.report_live_result(true, now), None);
    assert_eq!(live_errors(&mut c, 2, now), None);
    assert_eq!(c.health(), Health::Up);
}

#[test]
fn observe_fail_check_counts_one_failed_check() {
    let mut c = observed(OnError::FailCheck);
    let now = c.last_change();
    assert_eq!(live_errors(&mut c, 3, now), None);
    assert_eq!(c.interval(), secs(1), "going down");
    assert_eq!(live_errors(&mut c, 3, now), None);
    assert!(
        matches!(
            live_errors(&mut c, 3, now),
            Some(Transition::WentDown { .. })
        ),
        "fall 3"
    );
}

#[test]
fn observe_sudden_death_leaves_one_check_before_down() {
    let mut c = observed(OnError::SuddenDeath);
    let now = c.last_change();
    assert_eq!(live_errors(&mut c, 3, now), None);
    assert_eq!(c.health(), Health::Up);
    let o = done({
        c.start(now);
        c.on_error("Connection refused", now)
    });
    assert!(matches!(
        c.finish(o, now),
        Some(Transition::WentDown { .. })
    ));
}

#[test]
fn observe_mark_down_goes_down_at_once() {
    let mut c = observed(OnError::MarkDown);
    let now = c.last_change();
    match live_errors(&mut c, 3, now) {
        Some(Transition::WentDown { reason }) => {
            assert_eq!(
                reason,
                "Health analyze, info: \"Detected 3 consecutive errors\""
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.next_deadline(), now + secs(1));
}

#[test]
fn live_results_are_ignored_without_observe() {
    let t0 = Instant::now();
    let mut c = tcp(t0);
    assert_eq!(live_errors(&mut c, 100, t0), None);
    assert_eq!(c.health(), Health::Up);
}

#[test]
fn first_checks_are_spread_over_the_first_interval() {
    let t0 = Instant::now();
    let first = |slot, percent, seed| {
        let spread = Spread {
            slot,
            slots: 4,
            percent,
            seed,
        };
        Checker::new(
            &check(),
            &HealthConfig::default(),
            &Timeouts::default(),
            SRV.parse().unwrap(),
            t0,
            spread,
        )
        .next_deadline()
    };
    let ms = |n| t0 + Duration::from_millis(n);
    assert_eq!(
        [0, 1, 2, 3].map(|s| first(s, 0, 0)),
        [ms(0), ms(500), ms(1000), ms(1500)]
    );
    for seed in 0..50 {
        let d = first(2, 10, seed);
        assert!(d >= ms(800) && d <= ms(1200), "±10% of inter: {d:?}");
    }
    let distinct: std::collections::HashSet<_> = (0..50).map(|seed| first(2, 10, seed)).collect();
    assert!(distinct.len() > 10, "random");
}

#[test]
fn spread_checks_varies_later_intervals_within_the_percentage() {
    let t0 = Instant::now();
    let spread = Spread {
        percent: 50,
        seed: 7,
        ..Spread::default()
    };
    let mut c = Checker::new(
        &check(),
        &HealthConfig::default(),
        &Timeouts::default(),
        SRV.parse().unwrap(),
        t0,
        spread,
    );
    let mut seen = std::collections::HashSet::new();
    for _ in 0..30 {
        attempt(&mut c, true, t0);
        let d = c.next_deadline() - t0;
        assert!(d >= secs(1) && d <= secs(3), "{d:?}");
        seen.insert(d);
    }
    assert!(seen.len() > 5);
}

#[test]
fn callbacks_out_of_phase_end_the_attempt() {
    let t0 = Instant::now();
    let mut c = tcp(t0);
    c.start(t0);
    assert!(!done(c.on_sent(t0)).ok);
}

fn ssl_hello_health() -> HealthConfig {
    HealthConfig {
        kind: CheckKind::SslHello,
        ..HealthConfig::default()
    }
}

#[test]
fn ssl_hello_check_passes_on_a_tls_record_with_layer6_words() {
    let t0 = Instant::now();
    let mut c = checker(&check(), &ssl_hello_health(), t0);
    assert!(matches!(c.start(t0), Action::Connect(_)));
    assert!(!c.connect_tls());
    let Action::Send(hello) = c.on_connected(t0) else {
        panic!("a hello to send")
    };
    assert_eq!(&hello[..3], [0x16, 0x03, 0x00]);
    assert_eq!(c.on_sent(t0), Action::Expect);
    // An alert (a server refusing SSLv3) proves it speaks TLS.
    let o = done(c.on_data(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46], t0));
    assert_eq!(o, Outcome::pass("Layer6 check passed"));
}

#[test]
fn ssl_hello_check_fails_on_text_and_times_out_at_layer6() {
    let t0 = Instant::now();
    let mut c = checker(&check(), &ssl_hello_health(), t0);
    c.start(t0);
    c.on_connected(t0);
    c.on_sent(t0);
    let o = done(c.on_data(b"HTTP/1.1 400 Bad Request\r\n", t0));
    assert_eq!(o, Outcome::fail("Layer6 invalid response"));
    c.finish(o, t0);
    c.start(t0);
    c.on_connected(t0);
    c.on_sent(t0);
    assert_eq!(c.on_data(&[0x16], t0), Action::Expect, "min-recv 5");
    assert_eq!(done(c.on_timeout(t0)), Outcome::fail("Layer6 timeout"));
}

#[test]
fn tls_checks_fail_and_time_out_in_the_handshake_at_layer6() {
    let t0 = Instant::now();
    let cfg = ServerCheck {
        ssl: Some(true),
        ..check()
    };
    let mut c = checker(&cfg, &http(None), t0);
    assert!(matches!(c.start(t0), Action::Connect(_)));
    assert!(c.connect_tls());
    c.on_tcp_connected(t0);
    let o = done(c.on_handshake_error(t0));
    assert_eq!(
        o,
        Outcome::fail("Layer6 invalid response, info: \"SSL handshake failure\"")
    );
    c.finish(o, t0);
    c.start(t0);
    c.on_tcp_connected(t0);
    assert_eq!(done(c.on_timeout(t0)), Outcome::fail("Layer6 timeout"));
    // Before TCP is up, a timeout is still layer 4; once the handshake is
    // done the check goes on as in plain text.
    c.start(t0);
    assert_eq!(done(c.on_timeout(t0)), Outcome::fail("Layer4 timeout"));
    c.start(t0);
    c.on_tcp_connected(t0);
    assert!(matches!(c.on_connected(t0), Action::Send(_)));
}

#[test]
fn tcp_check_connect_ssl_and_default_say_how_to_connect() {
    let t0 = Instant::now();
    let cfg = ServerCheck {
        ssl: Some(true),
        sni: Some("check.test".into()),
        ..check()
    };
    let connect = |default, ssl, sni: Option<&str>| HealthConfig {
        kind: CheckKind::TcpScript(vec![TcpCheckStep::Connect {
            port: None,
            default,
            ssl,
            sni: sni.map(str::to_string),
        }]),
        ..HealthConfig::default()
    };
    for (default, ssl, sni, tls, sent) in [
        (false, true, Some("x.test"), true, Some("x.test")),
        (false, true, None, true, None),
        (true, false, None, true, Some("check.test")),
        (true, false, Some("x.test"), true, Some("x.test")),
        (false, false, None, false, None),
    ] {
        let mut c = checker(&cfg, &connect(default, ssl, sni), t0);
        c.start(t0);
        assert_eq!(
            (c.connect_tls(), c.connect_sni()),
            (tls, sent),
            "default {default} ssl {ssl} sni {sni:?}"
        );
    }
    // The implicit connect carries `check-sni`.
    let mut c = checker(&cfg, &http(None), t0);
    c.start(t0);
    assert_eq!(c.connect_sni(), Some("check.test"));
}

#[test]
fn an_explicit_tcp_check_connect_is_plain_text_even_on_a_tls_server() {
    // HAProxy 2.6: only the implicit first connect inherits TLS.
    let t0 = Instant::now();
    let cfg = ServerCheck {
        ssl: Some(true),
        ..check()
    };
    let script = |steps| HealthConfig {
        kind: CheckKind::TcpScript(steps),
        ..HealthConfig::default()
    };
    let send = TcpCheckStep::Send(b"PING\r\n".to_vec());
    let mut c = checker(&cfg, &script(vec![send.clone()]), t0);
    c.start(t0);
    assert!(c.connect_tls());
    let mut c = checker(
        &cfg,
        &script(vec![
            TcpCheckStep::Connect {
                port: None,
                default: false,
                ssl: false,
                sni: None,
            },
            send,
        ]),
        t0,
    );
    c.start(t0);
    assert!(!c.connect_tls());
}

/// `option log-health-checks` reports an attempt when its status word
/// changed or the health counter moved (HAProxy's set_server_check_status),
/// with HAProxy's `N/M` steps.
#[test]
fn a_report_follows_a_status_change_or_a_counter_move() {
    let t0 = Instant::now();
    let cfg = ServerCheck {
        rise: 2,
        fall: 2,
        ..check()
    };
    let mut c = checker(&cfg, &HealthConfig::default(), t0);
    let steps = |c: &mut Checker, ok| {
        attempt(c, ok, t0);
        c.take_report().map(|r| (r.ok, r.steps, r.up))
    };
    // Starts at `rise`: the first pass moves it to fully UP.
    assert_eq!(steps(&mut c, true), Some((true, (2, 2), true)));
    assert_eq!(steps(&mut c, true), None, "fully UP, same status");
    assert_eq!(steps(&mut c, false), Some((false, (1, 2), true)));
    assert_eq!(steps(&mut c, false), Some((false, (0, 2), false)));
    assert_eq!(steps(&mut c, false), None, "fully DOWN, same status");
    assert_eq!(steps(&mut c, true), Some((true, (1, 2), false)));
    assert_eq!(steps(&mut c, true), Some((true, (2, 2), true)));
    let r = {
        attempt(&mut c, false, t0);
        c.take_report().unwrap()
    };
    assert_eq!(r.duration, Some(Duration::ZERO));
    assert!(r.reason.starts_with("Layer4 connection problem"), "{r:?}");
}

/// LDAP: HAProxy logs the judge's "Success" (`option log-health-checks`)
/// while the outcome, as the stats show it, has no info.
#[test]
fn ldap_success_info_is_logged_but_not_kept() {
    let t0 = Instant::now();
    let health = HealthConfig {
        kind: CheckKind::Proto(crate::config::ProtoCheck::Ldap),
        ..HealthConfig::default()
    };
    let mut c = checker(&check(), &health, t0);
    assert!(matches!(c.start(t0), Action::Connect(_)));
    assert!(matches!(c.on_connected(t0), Action::Send(_)));
    assert_eq!(c.on_sent(t0), Action::Expect);
    let bind_ok = b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00";
    let o = done(c.on_data(bind_ok, t0));
    assert_eq!(o, Outcome::pass("Layer7 check passed, code: 0"));
    c.finish(o, t0);
    let r = c.take_report().expect("a first check is reported");
    assert_eq!(r.reason, "Layer7 check passed, code: 0, info: \"Success\"");
}

/// A connection error at a `tcp-check connect` rule names it, as HAProxy.
#[test]
fn a_failed_connect_rule_is_named() {
    let t0 = Instant::now();
    let connect = |port| TcpCheckStep::Connect {
        port,
        default: false,
        ssl: false,
        sni: None,
    };
    let mut c = checker(&check(), &script(vec![connect(None), connect(Some(1))]), t0);
    c.start(t0);
    let a = c.on_connected(t0);
    assert!(matches!(a, Action::Connect(_)), "{a:?}");
    assert_eq!(
        done(c.on_error("Connection refused", t0)),
        Outcome::fail(
            "Layer4 connection problem, info: \"Connection refused at step 2 of tcp-check (connect port 1)\""
        )
    );
}
