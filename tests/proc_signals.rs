//! Signals as HAProxy's: SIGUSR1 soft stop (sessions finish, bounded by
//! `hard-stop-after`), SIGTTOU pauses and SIGTTIN resumes the listeners,
//! SIGHUP dumps the servers' states. (SIGTERM/SIGINT: tests/cli.rs.)

mod common;

use common::*;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

fn cfg(global_extra: &str, servers: &str) -> String {
    format!(
        "global\n    maxconn 100\n{global_extra}\n{}\nlisten px\n    bind 127.0.0.1:@P0@\n{servers}",
        tcp_defaults()
    )
}

fn send(px: &Pollux, sig: i32) {
    // Our own running child.
    send_signal(px.pid() as i32, sig);
}

fn refused(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err()
}

per_poller!(
    sigusr1_stops_accepting_and_exits_when_sessions_end,
    hard_stop_after_ends_a_soft_stop_that_lasts,
    sigttou_pauses_listeners_and_sigttin_resumes_them,
    sighup_logs_each_servers_state,
    grace_keeps_accepting_for_its_time_after_sigusr1,
);

/// `grace 1s`: after SIGUSR1 the frontend still accepts (and serves) new
/// connections for 1 s, then closes its listener, and the process exits.
fn grace_keeps_accepting_for_its_time_after_sigusr1(poller: &str) {
    let echo = TestServer::echo();
    let mut px = Pollux::start(
        poller,
        &cfg(
            "",
            &format!("    grace 1s\n    server s1 {}\n", echo.addr()),
        ),
    );
    let t0 = std::time::Instant::now();
    send(&px, libc::SIGUSR1);
    std::thread::sleep(Duration::from_millis(300));
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"during the grace");
    drop(c);
    assert!(
        eventually(PATIENCE, || refused(px.addr(0))),
        "still accepting long after the grace\n{}",
        px.logs()
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "listener closed after {:?}, before the 1 s grace",
        t0.elapsed()
    );
    assert!(
        eventually(PATIENCE, || !px.is_running()),
        "no exit after the grace\n{}",
        px.logs()
    );
}

fn sigusr1_stops_accepting_and_exits_when_sessions_end(poller: &str) {
    let echo = TestServer::echo();
    let mut px = Pollux::start(
        poller,
        &cfg("", &format!("    server s1 {}\n", echo.addr())),
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"before");
    send(&px, libc::SIGUSR1);
    assert!(
        eventually(PATIENCE, || refused(px.addr(0))),
        "still accepting after SIGUSR1\n{}",
        px.logs()
    );
    // The session goes on, and keeps the process alive.
    roundtrip(&mut c, b"during the soft stop");
    std::thread::sleep(Duration::from_millis(200));
    assert!(px.is_running(), "exited with a session open\n{}", px.logs());
    drop(c);
    let mut exited = false;
    for _ in 0..(PATIENCE.as_millis() / 10) {
        if !px.is_running() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(exited, "no exit after the last session\n{}", px.logs());
}

fn hard_stop_after_ends_a_soft_stop_that_lasts(poller: &str) {
    let echo = TestServer::echo();
    let mut px = Pollux::start(
        poller,
        &cfg(
            "    hard-stop-after 300ms",
            &format!("    server s1 {}\n", echo.addr()),
        ),
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"before");
    send(&px, libc::SIGUSR1);
    // The idle session would last 30s (timeout client): the hard stop cuts it.
    assert_closed(&mut c, "session of a hard-stopped process");
    assert!(
        eventually(PATIENCE, || !px.is_running()),
        "still running after hard-stop-after\n{}",
        px.logs()
    );
    assert!(
        px.stderr().contains("performing a hard-stop"),
        "{}",
        px.logs()
    );
}

fn sigttou_pauses_listeners_and_sigttin_resumes_them(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(
        poller,
        &cfg("", &format!("    server s1 {}\n", echo.addr())),
    );
    send(&px, libc::SIGTTOU);
    assert!(
        eventually(PATIENCE, || px.stderr().contains("SIGTTOU received")),
        "{}",
        px.logs()
    );
    // Still bound: the kernel completes the handshake, nobody accepts.
    let mut c = connect(px.addr(0));
    c.write_all(b"waiting in the backlog").unwrap();
    assert_eq!(
        wait_outcome(&mut c, Duration::from_millis(500)),
        Outcome::Open,
        "served while paused\n{}",
        px.logs()
    );
    send(&px, libc::SIGTTIN);
    let mut back = vec![0u8; b"waiting in the backlog".len()];
    std::io::Read::read_exact(&mut c, &mut back).expect("echo after SIGTTIN");
    assert_eq!(back, b"waiting in the backlog");
    let mut c2 = connect(px.addr(0));
    roundtrip(&mut c2, b"new one after resume");
    px.stop();
}

fn sighup_logs_each_servers_state(poller: &str) {
    let echo = TestServer::echo();
    let px = Pollux::start(
        poller,
        &cfg(
            "",
            &format!(
                "    server s1 {}\n    server s2 {} disabled\n",
                echo.addr(),
                dead_addr()
            ),
        ),
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"one session on s1");
    send(&px, libc::SIGHUP);
    let want = [
        "SIGHUP received, dumping servers states for proxy px.",
        "SIGHUP: Server px/s1 is UP. Conn: 1 act, 0 pend, 1 tot.",
        "SIGHUP: Server px/s2 is DOWN. Conn: 0 act, 0 pend, 0 tot.",
        "SIGHUP: Proxy px has 1 active servers and 0 backup servers available. Conn: act(FE+BE): 1+1, 0 pend (0 unass), tot(BE): 1.",
    ];
    assert!(
        eventually(PATIENCE, || want.iter().all(|w| px.stderr().contains(w))),
        "expected {want:#?}\n{}",
        px.logs()
    );
    drop(c);
    px.stop();
}
