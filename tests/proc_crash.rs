//! No input crashes the process, and a crash is never partial: configs with
//! extreme fetch arguments (once two panics on the first request) serve on;
//! a panic on any thread stops the whole process with one ALERT line; under
//! `-W` the master replaces a worker that dies, on listening sockets that
//! never close.
//!
//! The panic is caused on purpose with the runtime API's `expert-mode on;
//! debug dev panic N` (admin level, as HAProxy's): no bug is kept for it.

mod common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;

per_poller!(
    extreme_fetch_arguments_serve_traffic,
    a_panic_on_one_thread_stops_the_whole_process,
);

fn extreme_fetch_arguments_serve_traffic(poller: &str) {
    let echo = TestServer::echo();
    let web = LiveServer::start("web");
    let px = Pollux::start(
        poller,
        &format!(
            "{}\nlisten tcp\n    bind 127.0.0.1:@P0@\n    tcp-request inspect-delay 200ms\n    tcp-request content reject if {{ req.payload(18446744073709551615,1) -m found }}\n    tcp-request content reject if {{ req.payload(9223372036854775807,9223372036854775807) -m found }}\n    server s {}\n\nlisten web\n    bind 127.0.0.1:@P1@\n    mode http\n    http-request deny if {{ hdr(host,-10) -m str nope }}\n    http-request deny if {{ req.fhdr(host,99999999999999999999) -m found }}\n    http-request deny if {{ hdr(host,9223372036854775807) -m found }}\n    server s {}\n",
            tcp_defaults(),
            echo.addr(),
            web.addr()
        ),
    );
    // Crash 1 came on the first connection, even one that sent nothing.
    drop(connect(px.addr(0)));
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"SSH-2.0-client\r\n");
    // Crash 2 came on every request the rule saw.
    for _ in 0..3 {
        let r = http_get(px.addr(1), "/", &["Host: a"]);
        assert_eq!(r.status, 200, "{}", px.logs());
    }
    px.stop();
}

fn a_panic_on_one_thread_stops_the_whole_process(poller: &str) {
    let echo = TestServer::echo();
    let sd = SockDir::new();
    let sock = sd.sock();
    let mut px = Pollux::start(
        poller,
        &format!(
            "global\n    nbthread 2\n    stats socket {} level admin\n{}\nlisten px\n    bind 127.0.0.1:@P0@\n    server s {}\n",
            sock.display(),
            tcp_defaults(),
            echo.addr()
        ),
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"before");
    let pid = px.pid();
    // Thread 1, not thread 0 (the main thread): the one that used to die
    // alone. The answer may be cut short by the crash itself.
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    s.write_all(b"expert-mode on; debug dev panic 1\n").unwrap();
    let st = px.signal_and_wait(0);
    let err = px.stderr();
    assert_eq!(st.signal(), Some(libc::SIGABRT), "{st}\n{err}");
    let alert = format!("[ALERT] ({pid}) : thread 1 panicked at ");
    let line = err.lines().find(|l| l.starts_with(&alert));
    assert!(
        line.is_some_and(|l| l.contains("debug dev panic 1") && l.ends_with("; exiting")),
        "no ALERT line for the panic:\n{err}"
    );
    assert!(!process_alive(pid as i32));
}

#[test]
fn debug_dev_panic_is_refused_without_expert_mode() {
    let echo = TestServer::echo();
    let sd = SockDir::new();
    let sock = sd.sock();
    let px = Launch::new(None).start(&format!(
        "global\n    stats socket {} level admin\n{}\nlisten px\n    bind 127.0.0.1:@P0@\n    server s {}\n",
        sock.display(),
        tcp_defaults(),
        echo.addr()
    ));
    let out = cli(&sock, "debug dev panic");
    assert!(out.contains("restricted to expert mode"), "{out}");
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"still serving");
    drop(c);
    px.stop();
}

#[cfg(target_os = "linux")]
fn mw_start() -> (Pollux, TestServer) {
    let echo = TestServer::echo();
    let px = Launch::new(None).mode(&["-db", "-W"]).start(&format!(
        "{}\nlisten px\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    ));
    assert!(eventually(PATIENCE, || children_of(px.pid()).len() == 1));
    (px, echo)
}

#[cfg(target_os = "linux")]
#[test]
fn master_replaces_a_killed_worker_and_the_listener_never_closes() {
    let (px, _echo) = mw_start();
    let master = px.pid();
    let old = children_of(master)[0];
    // Hold the master (it cannot reap nor fork), kill the worker: nothing
    // accepts now, yet a client connecting must be queued by the kernel on
    // the master's listening socket and served by the next worker.
    send_signal(master as i32, libc::SIGSTOP);
    send_signal(old, libc::SIGKILL);
    assert!(
        eventually(PATIENCE, || !children_of(master).contains(&old)),
        "{}",
        px.logs()
    );
    let mut c = connect(px.addr(0));
    let msg = b"sent while no worker runs";
    c.write_all(msg).unwrap();
    send_signal(master as i32, libc::SIGCONT);
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut back = vec![0; msg.len()];
    c.read_exact(&mut back)
        .unwrap_or_else(|e| panic!("no echo from the new worker: {e}\n{}", px.logs()));
    assert_eq!(back, msg);
    let now = children_of(master);
    assert!(now.len() == 1 && now[0] != old, "{now:?}\n{}", px.logs());
    let err = px.stderr();
    assert!(
        err.contains(&format!(
            "[ALERT] master: current worker ({old}) was killed by signal 9 (SIGKILL); forking a new one"
        )),
        "{err}"
    );
    drop(c);
    px.stop();
}

#[cfg(target_os = "linux")]
#[test]
fn master_gives_up_after_five_worker_deaths_in_a_row() {
    let (mut px, _echo) = mw_start();
    let master = px.pid();
    let mut killed = Vec::new();
    for i in 0..5 {
        let mut w = Vec::new();
        assert!(
            eventually(PATIENCE, || {
                w = children_of(master);
                w.len() == 1 && !killed.contains(&w[0])
            }),
            "death {i}: no new worker\n{}",
            px.logs()
        );
        // A crash (SIGABRT, as the panic hook's abort) or a kill.
        let sig = if i % 2 == 0 {
            libc::SIGABRT
        } else {
            libc::SIGKILL
        };
        send_signal(w[0], sig);
        killed.push(w[0]);
    }
    let st = px.signal_and_wait(0);
    let err = px.stderr();
    assert_eq!(st.code(), Some(1), "{err}");
    assert!(err.contains("5 deaths within 60s: exiting"), "{err}");
    assert!(err.contains("(SIGABRT); forking a new one"), "{err}");
}
