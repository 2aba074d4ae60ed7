//! Log targets beside syslog, side by side with HAProxy 2.6: `log stdout`
//! and `log stderr` (the usual way in containers) with `format raw` and
//! `short`, `sample RANGES:SIZE` sending one message in two; and a target
//! that cannot be sent to is reported on stderr, once, not silently lost.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;

const CFG: &str = "global
    log stdout format raw local0
    log stderr format short sample 1:2 local0
defaults
    mode http
    log global
    log-format \"%ST %HM %HU\"
    timeout connect 5s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:@P0@
    http-request return status 200 if { path /a }
    http-request deny if { path /b }
    http-request return status 404 if { path /c }
";

/// The lines of `text` that are log messages (a status first, `-1`
/// included, or `<N>` then one), in order: not pollux's or HAProxy's own
/// warnings.
fn messages(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            let l = l.strip_prefix("<6>").unwrap_or(l);
            l.starts_with("-1 ")
                || (l.len() > 4 && l.as_bytes()[..3].iter().all(u8::is_ascii_digit))
        })
        .map(str::to_string)
        .collect()
}

fn stdout_and_stderr_as_haproxy(poller: &str) {
    let mut seen = Vec::new();
    for im in pollux_and_haproxy(poller) {
        let px = im.start(CFG);
        // One at a time: each line is out before the next request, so
        // that the order (and what `sample` takes) does not depend on when
        // each proxy logs a closed connection.
        for (i, p) in ["/a", "/b", "/c"].into_iter().enumerate() {
            let _ = http_get(px.addr(0), p, &[]);
            assert!(
                eventually(PATIENCE, || messages(&px.stdout()).len() > i),
                "{}: {}",
                im.name,
                px.logs()
            );
        }
        let out = messages(&px.stdout());
        let err = messages(&px.stderr());
        px.stop();
        seen.push((im.name, out, err));
    }
    let (_, out, err) = &seen[0];
    if let Some((name, their_out, their_err)) = seen.get(1) {
        assert_eq!((out, err), (their_out, their_err), "pollux vs {name}");
    }
    assert_eq!(out, &["200 GET /a", "403 GET /b", "404 GET /c"]);
    // `short` puts the level first; one message in two goes there.
    assert_eq!(err, &["<6>200 GET /a", "<6>404 GET /c"]);
    if let Some((name, their_out, their_err)) = seen.get(1) {
        assert_eq!((out, err), (their_out, their_err), "pollux vs {name}");
    }
}

per_poller!(stdout_and_stderr_as_haproxy);

/// A syslog socket that is not there: the messages are lost, and pollux
/// says so on stderr, once for the three of them (rate-limited).
#[test]
fn a_failing_log_target_is_reported_once() {
    let dir = TestDir::new("log-fail");
    let sock = dir.join("no-such.sock");
    let cfg = CFG.replace(
        "    log stdout format raw local0\n    log stderr format short sample 1:2 local0\n",
        &format!("    log {} local0\n", sock.display()),
    );
    let px = Pollux::start("poll", &cfg);
    for p in ["/a", "/b", "/c"] {
        let _ = http_get(px.addr(0), p, &[]);
    }
    let want = format!(
        "cannot send log to {}: No such file or directory",
        sock.display()
    );
    assert!(
        eventually(PATIENCE, || px.stderr().contains(&want)),
        "{}",
        px.logs()
    );
    assert_eq!(px.stderr().matches(&want).count(), 1, "{}", px.logs());
    px.stop();
}

/// Twenty bad requests in a row: one warning on stderr, not twenty (the
/// next says how many were held back, ten seconds later at the earliest).
#[test]
fn repeated_warnings_are_rate_limited() {
    let px = Pollux::start("poll", CFG);
    for _ in 0..20 {
        let _ = raw_exchange(
            px.addr(0),
            b"GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
            std::time::Duration::from_millis(200),
        );
    }
    assert!(
        eventually(PATIENCE, || messages(&px.stdout()).len() >= 20),
        "{}",
        px.logs()
    );
    let warned = px.stderr().matches("invalid request from").count();
    assert_eq!(warned, 1, "{}", px.logs());
    px.stop();
}

/// `option dontlog-normal`: only what HAProxy calls errors is logged (a
/// deny, a 5xx), not our own normal answers, as HAProxy.
fn dontlog_normal_as_haproxy(poller: &str) {
    let cfg = CFG
        .replace("    log stderr format short sample 1:2 local0\n", "")
        .replace("    log global\n", "    log global\n    option dontlog-normal\n")
        .replace(
            "    http-request return status 404 if { path /c }\n",
            "    http-request return status 404 if { path /c }\n    http-request return status 503 if { path /e }\n",
        );
    let mut seen = Vec::new();
    for im in pollux_and_haproxy(poller) {
        let px = im.start(&cfg);
        for p in ["/a", "/b", "/c", "/e"] {
            let _ = http_get(px.addr(0), p, &[]);
        }
        assert!(
            eventually(PATIENCE, || messages(&px.stdout()).len() >= 2),
            "{}: {}",
            im.name,
            px.logs()
        );
        // Past the last one: nothing else comes.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let out = messages(&px.stdout());
        px.stop();
        seen.push((im.name, out));
    }
    for (name, out) in &seen {
        assert_eq!(out, &["403 GET /b", "503 GET /e"], "{name}");
    }
}

per_poller!(dontlog_normal_as_haproxy);
