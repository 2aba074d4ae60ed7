//! Unit tests of the log-format compiler and renderer, the syslog framing
//! and the date helpers.

use super::format::Ctx;
use super::*;
use std::time::{Duration, Instant, SystemTime};

fn target(format: SyslogFormat, len: usize) -> LogTarget {
    LogTarget {
        addr: LogAddr::Udp("127.0.0.1:514".parse().unwrap()),
        len,
        format,
        facility: 16,
        level: 7,
        minlevel: 0,
        sample: None,
    }
}

/// A finished HTTP transaction: request head after 3 ms, queue 0, connect
/// 2 ms, response 10 ms after, logged 20 ms after the first byte.
fn rec(t0: Instant) -> Box<LogRec> {
    let mut r = LogRec::new(t0);
    r.start_date = SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_117_532_042);
    r.req_first = Some(t0 + Duration::from_millis(1));
    r.req_head = Some(t0 + Duration::from_millis(4));
    r.connecting(t0 + Duration::from_millis(4), None);
    r.connected(t0 + Duration::from_millis(6), None);
    r.resp_at = Some(t0 + Duration::from_millis(16));
    r.request_line = Some("GET /a?b=1 HTTP/1.1".into());
    r.server = Some(0);
    r
}

fn ctx<'a>(r: &'a LogRec, now: Instant, caps: &'a [Option<String>]) -> Ctx<'a> {
    Ctx {
        rec: r,
        now,
        client: "10.0.1.2:33317".parse().unwrap(),
        frontend_addr: "10.0.3.31:80".parse().unwrap(),
        frontend: "http-in",
        backend: Some("static"),
        server: Some("srv1"),
        status: Some(200),
        bytes_out: 2750,
        bytes_in: 80,
        term: *b"--",
        cookie: *b"--",
        actconn: 1,
        feconn: 1,
        beconn: 1,
        srvconn: 1,
        captured_req: caps,
        captured_res: &[],
        cookie_req: None,
        cookie_res: None,
        hostname: "host",
        unique_id: None,
        counter: 0,
        vars: None,
        tls: None,
        bc_tls: None,
        asap: false,
    }
}

#[test]
fn httplog_renders_haproxy_fields_in_order() {
    let t0 = Instant::now();
    let r = rec(t0);
    let caps = [Some("1wt.eu".to_string())];
    let line =
        LogFormat::parse(HTTPLOG)
            .unwrap()
            .render(&ctx(&r, t0 + Duration::from_millis(21), &caps));
    // %tr is the date of the first request byte (1 ms after the accept);
    // %hs renders nothing (no response capture): its separator goes too.
    assert_eq!(
        line,
        "10.0.1.2:33317 [26/Nov/2025:00:38:52.043] http-in static/srv1 3/0/2/10/20 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} \"GET /a?b=1 HTTP/1.1\""
    );
}

#[test]
fn tcplog_renders_haproxy_fields_in_order() {
    let t0 = Instant::now();
    let r = rec(t0);
    let line =
        LogFormat::parse(TCPLOG)
            .unwrap()
            .render(&ctx(&r, t0 + Duration::from_millis(30), &[]));
    assert_eq!(
        line,
        "10.0.1.2:33317 [26/Nov/2025:00:38:52.042] http-in static/srv1 0/2/30 2750 -- 1/1/1/1/0 0/0"
    );
}

#[test]
fn phases_never_reached_are_minus_one() {
    let t0 = Instant::now();
    let r = LogRec::new(t0);
    let f = LogFormat::parse("%TR/%Tw/%Tc/%Tr %Tq %ST %r %s").unwrap();
    let mut c = ctx(&r, t0, &[]);
    c.status = None;
    c.server = None;
    assert_eq!(f.render(&c), "-1/-1/-1/-1 -1 -1 <BADREQ> <NOSRV>");
}

#[test]
fn untrusted_bytes_are_escaped() {
    let t0 = Instant::now();
    let mut r = rec(t0);
    r.request_line = Some("GET /\"x#y\u{1}z HTTP/1.1".into());
    // Heads keep wire bytes as U+0000..U+00FF: "\u{c3}\u{a9}" is UTF-8 é.
    let caps = [Some("a\"b#c|d{e}\u{c3}\u{a9}€".to_string()), None];
    let f = LogFormat::parse("%{+Q}r %hr %hrl").unwrap();
    assert_eq!(
        f.render(&ctx(&r, t0, &caps)),
        "\"GET /#22x#23y#01z HTTP/1.1\" {a#22b#23c#7Cd#7Be#7D#C3#A9#E2#82#AC|} a#22b#23c#7Cd#7Be#7D#C3#A9#E2#82#AC -"
    );
}

#[test]
fn request_parts_and_quoting() {
    let t0 = Instant::now();
    let r = rec(t0);
    let f = LogFormat::parse("%HM %HU %HP %HQ %HV %{+Q}HM %{+Q}o %f %ST").unwrap();
    assert_eq!(
        f.render(&ctx(&r, t0, &[])),
        "GET /a?b=1 /a ?b=1 HTTP/1.1 \"GET\" \"http-in\" 200"
    );
}

#[test]
fn separators_collapse_and_literals_stay() {
    let t0 = Instant::now();
    let r = rec(t0);
    let f = LogFormat::parse("  a   %hs  b%%c %ST").unwrap();
    assert_eq!(f.render(&ctx(&r, t0, &[])), "a b%c 200");
}

#[test]
fn bad_formats_are_refused_with_the_variable_named() {
    for (f, want) in [
        ("%frob", "no such log-format variable '%frob'"),
        ("%lc", "'%lc' is not supported yet"),
        ("%[req.hdr(host)]", "needs 'HTTP request headers'"),
        ("%{+Q", "missing '}'"),
        ("%{+Z}r", "unknown log-format flag '+Z'"),
        ("100%", "without a variable name"),
    ] {
        let e = LogFormat::parse(f).unwrap_err();
        assert!(e.contains(want), "{f}: {e}");
    }
}

#[test]
fn rfc3164_header_has_pri_date_tag_and_pid() {
    let hub = Hub::new(&GlobalLog::default());
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_117_532 - 20 * 86_400);
    let line = hub.frame(&target(SyslogFormat::Local, 1024), 6, "hello", when);
    let want = format!(
        "<134>Nov  6 00:38:52 pollux[{}]: hello\n",
        std::process::id()
    );
    assert_eq!(String::from_utf8(line).unwrap(), want);
}

#[test]
fn rfc5424_header_and_send_hostname() {
    let hub = Hub::new(&GlobalLog {
        targets: Vec::new(),
        tag: Some("lb".into()),
        send_hostname: Some("edge1".into()),
    });
    let when = SystemTime::UNIX_EPOCH + Duration::from_micros(1_764_117_532_042_007);
    let pid = std::process::id();
    let l = hub.frame(&target(SyslogFormat::Rfc5424, 1024), 3, "m", when);
    assert_eq!(
        String::from_utf8(l).unwrap(),
        format!("<131>1 2025-11-26T00:38:52.042007+00:00 edge1 lb {pid} - - m\n")
    );
    let l = hub.frame(&target(SyslogFormat::Rfc3164, 1024), 3, "m", when);
    assert!(String::from_utf8(l)
        .unwrap()
        .starts_with("<131>Nov 26 00:38:52 edge1 lb["));
}

#[test]
fn len_truncates_the_whole_datagram_keeping_a_final_newline() {
    let hub = Hub::new(&GlobalLog::default());
    let msg = "x".repeat(500);
    let l = hub.frame(
        &target(SyslogFormat::Local, 100),
        6,
        &msg,
        SystemTime::now(),
    );
    assert_eq!(l.len(), 100);
    assert_eq!(l.last(), Some(&b'\n'));
}

#[test]
fn civil_dates_cross_leap_years_and_centuries() {
    let at = |s: u64| {
        let c = civil(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        (c.0, c.1, c.2)
    };
    assert_eq!(at(0), (1970, 1, 1));
    assert_eq!(at(951_782_400), (2000, 2, 29));
    assert_eq!(at(4_107_542_400), (2100, 3, 1));
    assert_eq!(at(1_709_164_800), (2024, 2, 29));
}

#[test]
fn keep_alive_record_restarts_per_transaction() {
    let t0 = Instant::now();
    let mut r = rec(t0);
    r.term(b'C', b'D');
    r.term(b'S', b'H');
    assert_eq!(&r.term, b"CD", "the first cause wins");
    r.next(t0 + Duration::from_millis(50), 100, 20);
    assert_eq!(
        (&r.term, r.logged, r.out_base, r.in_base),
        (b"--", 1, 100, 20)
    );
    assert!(r.request_line.is_none() && r.tw.is_none() && r.server.is_none());
}

/// HAProxy 2.6's rendering, as its log lines show it: `+X` on addresses,
/// ports, the timestamp, the pid and the counter only; `+E` backslashes
/// `"`, `\` and `]` after the `#XX` escaping; a sample with no value is `-`,
/// or `""` with `+Q`.
#[test]
fn flags_and_samples_render_as_haproxy() {
    let t0 = Instant::now();
    let r = rec(t0);
    let caps = [Some("a\"b\\c]d e".to_string()), None];
    let mut c = ctx(&r, t0, &caps);
    c.unique_id = Some("ID-1");
    c.counter = 10;
    let f = LogFormat::parse(
        "%{+X}ci:%{+X}cp %{+X}Ts %{+X}rt %{+X}ST %{+X}B %{+Q}ST %{+Q}ID %ID \
         %{+E}hr %{+E}[capture.req.hdr(0)] %{+Q}[capture.req.hdr(0)] \
         %[capture.req.hdr(1)] %{+Q}[capture.req.hdr(1)] %{+Q}[int(3)] \
         %{+X}[int(255)] %[unique-id,lower] %[src] %[status] %{+Q}CC %rt",
    )
    .unwrap();
    assert_eq!(
        f.render(&c),
        "0A000102:8225 69264C1C 000A 200 2750 200 \"ID-1\" ID-1 \
         {a#22b\\\\c\\]d e|} a\\\"b\\\\c\\]d e \"a\"b\\c]d e\" \
         - \"\" \"3\" 255 id-1 10.0.1.2 - \"\" 10"
    );
}

#[test]
fn short_formats_as_haproxy_names_them() {
    let hub = Hub::new(&GlobalLog::default());
    let when = SystemTime::UNIX_EPOCH + Duration::from_micros(1_764_117_532_042_007);
    let frame = |f| String::from_utf8(hub.frame(&target(f, 1024), 6, "m", when)).unwrap();
    assert_eq!(frame(SyslogFormat::Raw), "m\n");
    assert_eq!(frame(SyslogFormat::Short), "<6>m\n");
    // local0 (16) at info (6).
    assert_eq!(frame(SyslogFormat::Priority), "<134>m\n");
    assert_eq!(
        frame(SyslogFormat::Iso),
        "2025-11-26T00:38:52.042007+00:00 m\n"
    );
    assert_eq!(
        frame(SyslogFormat::Timed),
        "<6>2025-11-26T00:38:52.042007+00:00 m\n"
    );
    // rfc3164 names the host even without log-send-hostname; local does not.
    let host = hub.hostname().to_string();
    assert!(frame(SyslogFormat::Rfc3164).contains(&format!(" 00:38:52 {host} pollux[")));
    assert!(frame(SyslogFormat::Local).contains(" 00:38:52 pollux["));
}

#[test]
fn sample_takes_the_ranges_of_each_period() {
    let s = LogSample {
        ranges: vec![(1, 1), (3, 4)],
        size: 5,
        seen: Default::default(),
    };
    let taken: Vec<bool> = (0..10).map(|_| s.take()).collect();
    assert_eq!(
        taken,
        [true, false, true, true, false, true, false, true, true, false]
    );
}
