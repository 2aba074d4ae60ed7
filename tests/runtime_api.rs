//! The runtime API (`stats socket`): a real Unix-socket client (and socat)
//! against the running process, each command's effect checked on real
//! traffic. HAProxy 2.6 is the reference for levels, framing and messages.

mod common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

per_poller!(
    socat_runs_one_command_and_the_connection_closes,
    a_lower_level_cannot_run_admin_commands,
    disable_frontend_holds_new_connections_until_enabled,
    set_maxconn_server_bounds_concurrency_at_runtime,
    shutdown_session_closes_a_live_client_connection,
    prompt_mode_answers_several_commands_on_one_connection,
    an_idle_cli_connection_is_closed_after_stats_timeout,
    show_errors_keeps_the_last_bad_request_and_response_with_their_bytes,
);

/// A directory with a short path: a Unix socket path must fit in 108 bytes,
/// which TestDir's descriptive names do not.
struct SockDir(std::path::PathBuf);

impl SockDir {
    fn new() -> SockDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pxrt-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        SockDir(p)
    }
    fn sock(&self) -> std::path::PathBuf {
        self.0.join("p.sock")
    }
}

impl Drop for SockDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(sock: &Path, opts: &str, servers: &[&LiveServer]) -> String {
    let mut c = format!(
        "global\n    stats socket {} {opts}\n    stats timeout 2s\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n",
        sock.display(),
        http_defaults()
    );
    for s in servers {
        c.push_str(&format!("    server {} {}\n", s.name(), s.addr()));
    }
    c
}

/// Send `line` (non-interactive) and read the answer until pollux closes.
fn cli(sock: &Path, line: &str) -> String {
    let mut s = UnixStream::connect(sock).expect("connect stats socket");
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read until close");
    out
}

fn socat(sock: &Path, line: &str) -> String {
    let out = std::process::Command::new("socat")
        .args(["-t", "5", "-", &format!("UNIX-CONNECT:{}", sock.display())])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(line.as_bytes())?;
            c.wait_with_output()
        })
        .expect("run socat");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn socat_runs_one_command_and_the_connection_closes(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let a = LiveServer::start("a");
    let px = Pollux::start(poller, &config(&sock, "level admin mode 600", &[&a]));
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "stats socket mode");
    let help = socat(&sock, "help\n");
    assert!(help.contains("set maxconn server"), "{help}");
    assert!(
        help.ends_with("\n\n"),
        "blank line ends the answer: {help:?}"
    );
    // Two commands on one line, errors as HAProxy words them.
    let out = socat(&sock, "show sess 0xfff; set maxconn server zz/a 3\n");
    assert_eq!(out, "Session not found.\n\nNo such backend.\n\n");
    let out = socat(&sock, "frobnicate\n");
    assert!(out.starts_with("Unknown command: 'frobnicate'."), "{out}");
    px.stop();
}

fn a_lower_level_cannot_run_admin_commands(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let a = LiveServer::start("a");
    // No `level`: HAProxy's default is operator.
    let px = Pollux::start(poller, &config(&sock, "", &[&a]));
    assert_eq!(cli(&sock, "disable frontend fe"), "Permission denied\n\n");
    assert_eq!(cli(&sock, "set maxconn global 1"), "Permission denied\n\n");
    // show sess is an operator command: allowed; not after lowering to user.
    assert!(!cli(&sock, "show sess").contains("Permission denied"));
    assert_eq!(cli(&sock, "user; show sess"), "\nPermission denied\n\n");
    // The frontend was never disabled.
    assert_eq!(get_ok(px.addr(0), "/", &[]), "a");
    px.stop();
}

fn disable_frontend_holds_new_connections_until_enabled(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let a = LiveServer::start("a");
    let px = Pollux::start(poller, &config(&sock, "level admin", &[&a]));
    assert_eq!(cli(&sock, "disable frontend fe"), "\n");
    assert_eq!(
        cli(&sock, "disable frontend fe"),
        "Frontend is already disabled.\n\n"
    );
    // The listener stays bound: the connection waits in the backlog and
    // gets no answer while the frontend is disabled...
    let addr = px.addr(0);
    let waiting = thread::spawn(move || {
        let t0 = Instant::now();
        (try_get(addr, "/", &[]), t0.elapsed())
    });
    thread::sleep(Duration::from_millis(600));
    assert!(!waiting.is_finished(), "answered while disabled");
    assert_eq!(cli(&sock, "enable frontend fe"), "\n");
    // ...and is served once it is enabled again.
    let (got, took) = waiting.join().unwrap();
    assert_eq!(got, Ok((200, "a".to_string())));
    assert!(took >= Duration::from_millis(500), "{took:?}");
    px.stop();
}

fn set_maxconn_server_bounds_concurrency_at_runtime(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let a = LiveServer::start("a");
    let px = Pollux::start(poller, &config(&sock, "level admin", &[&a]));
    assert_eq!(cli(&sock, "set maxconn server be/a 1"), "\n");
    let addr = px.addr(0);
    let hs: Vec<_> = (0..6)
        .map(|_| thread::spawn(move || try_get(addr, "/sleep/150", &[])))
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok((200, "a".to_string())));
    }
    assert_eq!(a.peak(), 1, "maxconn 1 set at runtime");
    // Back to unlimited: requests run side by side again.
    a.reset_counts();
    assert_eq!(cli(&sock, "set maxconn server be/a 0"), "\n");
    let hs: Vec<_> = (0..4)
        .map(|_| thread::spawn(move || try_get(addr, "/sleep/300", &[])))
        .collect();
    for h in hs {
        assert!(h.join().unwrap().is_ok());
    }
    assert!(a.peak() > 1, "peak {} after lifting the limit", a.peak());
    px.stop();
}

fn shutdown_session_closes_a_live_client_connection(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let a = LiveServer::start("a");
    let px = Pollux::start(poller, &config(&sock, "level admin", &[&a]));
    let mut c = HttpConn::open(px.addr(0));
    assert_eq!(c.get("/", &[]).status, 200);
    let port = c.wire.s.local_addr().unwrap().port();
    let sess = cli(&sock, "show sess");
    let line = sess
        .lines()
        .find(|l| l.contains(&format!("src=127.0.0.1:{port} ")))
        .unwrap_or_else(|| panic!("own session not listed: {sess}"));
    assert!(line.contains("fe=fe be=be"), "{line}");
    let id = line.split(':').next().unwrap();
    assert_eq!(cli(&sock, &format!("shutdown session {id}")), "\n");
    c.wire.s.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = [0u8; 16];
    let n = c.wire.s.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "connection still open after shutdown session");
    assert_eq!(
        cli(&sock, &format!("shutdown session {id}")),
        "No such session (use 'show sess').\n\n"
    );
    px.stop();
}

fn prompt_mode_answers_several_commands_on_one_connection(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let a = LiveServer::start("a");
    let px = Pollux::start(poller, &config(&sock, "level admin", &[&a]));
    let mut s = UnixStream::connect(&sock).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let read_until_prompt = |s: &mut UnixStream| {
        let mut got = Vec::new();
        let mut b = [0u8; 4096];
        while !got.ends_with(b"> ") {
            let n = s.read(&mut b).expect("read");
            assert!(
                n > 0,
                "closed in prompt mode: {:?}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&b[..n]);
        }
        String::from_utf8(got).unwrap()
    };
    s.write_all(b"prompt\n").unwrap();
    assert_eq!(read_until_prompt(&mut s), "\n> ");
    s.write_all(b"set maxconn server be/zz 1\n").unwrap();
    assert_eq!(read_until_prompt(&mut s), "No such server.\n\n> ");
    s.write_all(b"disable frontend fe\n").unwrap();
    assert_eq!(read_until_prompt(&mut s), "\n> ");
    s.write_all(b"quit\n").unwrap();
    let mut rest = String::new();
    s.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
    px.stop();
}

fn an_idle_cli_connection_is_closed_after_stats_timeout(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let a = LiveServer::start("a");
    // stats timeout 2s (config); `set timeout cli 1` shortens this connection's.
    let px = Pollux::start(poller, &config(&sock, "level admin", &[&a]));
    let mut s = UnixStream::connect(&sock).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(b"prompt; set timeout cli 1\n").unwrap();
    let t0 = Instant::now();
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("closed by pollux");
    let idle = t0.elapsed();
    assert!(
        idle >= Duration::from_millis(900) && idle < Duration::from_millis(1900),
        "closed after {idle:?}, want about 1s"
    );
    px.stop();
}

#[test]
fn an_unbindable_stats_socket_is_a_startup_alert() {
    let dir = TestDir::new("rt");
    let cfg = dir.write(
        "bad.cfg",
        &format!(
            "global\n    stats socket {}/no/such/dir/p.sock\nbackend be\n    server s 127.0.0.1:9\n",
            dir.path().display()
        ),
    );
    let out = std::process::Command::new(pollux_bin())
        .args(["-db", "-f"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot bind UNIX socket"), "{err}");
}

fn show_errors_keeps_the_last_bad_request_and_response_with_their_bytes(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    // A server whose response head has a space before the colon (invalid).
    let bad = FnServer::spawn(|mut s| {
        let mut b = [0u8; 4096];
        let _ = s.read(&mut b);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Bad : 1\r\nContent-Length: 0\r\n\r\n");
    });
    let cfg = format!(
        "global\n    stats socket {} level admin\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    server broken {}\n",
        sock.display(),
        http_defaults(),
        bad.addr()
    );
    let px = Pollux::start(poller, &cfg);
    assert!(cli(&sock, "show errors").starts_with("Total events captured on ["));
    // A request header name with a control byte: 400.
    let got = raw_exchange(
        px.addr(0),
        b"GET /x HTTP/1.1\r\nHost: a\r\nX-\x01Evil: 1\r\n\r\n",
        Duration::from_millis(500),
    );
    assert!(
        got.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&got)
    );
    let r = http_get(px.addr(0), "/", &[]);
    assert_eq!(r.status, 502);
    let out = cli(&sock, "show errors");
    assert!(
        out.contains("Total events captured on [") && out.contains("] : 2\n"),
        "{out}"
    );
    assert!(out.contains("frontend fe (#1): invalid request"), "{out}");
    assert!(out.contains("X-\\x01Evil: 1\\r\\n"), "escaped bytes: {out}");
    assert!(out.contains("backend be (#1): invalid response"), "{out}");
    assert!(out.contains("server broken"), "{out}");
    assert!(out.contains("X-Bad : 1"), "{out}");
    // Filters: by proxy and direction.
    let only_req = cli(&sock, "show errors fe request");
    assert!(only_req.contains("invalid request") && !only_req.contains("invalid response"));
    assert_eq!(cli(&sock, "show errors nope"), "No such proxy.\n\n");
    px.stop();
}
