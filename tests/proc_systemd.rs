//! `-Ws`: master-worker mode for systemd units with `Type=notify`. A Unix
//! datagram socket in the test plays systemd ($NOTIFY_SOCKET) and receives
//! what the master says: READY=1 with its pid once the worker serves,
//! RELOADING=1 then READY=1 around a reload (STATUS says when a reload
//! failed), STOPPING=1 when it stops.

mod common;

use common::*;
use std::fs;
use std::os::unix::net::UnixDatagram;

/// The next notification, or None after PATIENCE.
fn next_state(rx: &UnixDatagram) -> Option<String> {
    let mut buf = [0u8; 4096];
    let n = rx.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn lines(state: &str) -> Vec<&str> {
    state.lines().collect()
}

fn cfg(server: std::net::SocketAddr) -> String {
    format!(
        "global\n    maxconn 200\n\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    server s1 {server}\n",
        http_defaults()
    )
}

#[test]
fn ws_tells_systemd_ready_reloading_and_stopping() {
    init();
    let dir = TestDir::new("systemd");
    let path = dir.join("notify.sock");
    let rx = UnixDatagram::bind(&path).expect("bind the notify socket");
    rx.set_read_timeout(Some(PATIENCE)).unwrap();
    let srv = LiveServer::start("s1");
    let px = Launch::new(None)
        .mode(&["-db", "-Ws"])
        .env("NOTIFY_SOCKET", path.to_str().unwrap())
        .start(&cfg(srv.addr()));
    let master = px.pid();

    let ready = next_state(&rx).unwrap_or_else(|| panic!("no READY=1\n{}", px.logs()));
    let l = lines(&ready);
    assert!(l.contains(&"READY=1"), "{ready}");
    assert!(l.contains(&format!("MAINPID={master}").as_str()), "{ready}");
    assert!(l.contains(&"STATUS=Ready."), "{ready}");
    assert_eq!(try_get(px.addr(0), "/", &[]), Ok((200, "s1".to_string())));

    // A reload: RELOADING=1, then READY=1 once the new worker serves.
    assert!(send_signal(master as i32, libc::SIGUSR2));
    let reloading = next_state(&rx).unwrap_or_else(|| panic!("no RELOADING=1\n{}", px.logs()));
    assert!(lines(&reloading).contains(&"RELOADING=1"), "{reloading}");
    let again = next_state(&rx).unwrap_or_else(|| panic!("no READY=1 after reload\n{}", px.logs()));
    assert!(lines(&again).contains(&"READY=1"), "{again}");
    assert!(lines(&again).contains(&"STATUS=Ready."), "{again}");
    assert_eq!(try_get(px.addr(0), "/", &[]), Ok((200, "s1".to_string())));

    // A reload with a broken config: the current worker stays, and systemd
    // hears that the reload failed (READY=1: the service is still up).
    let good = fs::read_to_string(&px.cfg_path).unwrap();
    fs::write(
        &px.cfg_path,
        format!("{good}\nbackend be2\n    bogus-keyword\n"),
    )
    .unwrap();
    assert!(send_signal(master as i32, libc::SIGUSR2));
    let reloading = next_state(&rx).unwrap_or_else(|| panic!("no RELOADING=1\n{}", px.logs()));
    assert!(lines(&reloading).contains(&"RELOADING=1"), "{reloading}");
    let failed =
        next_state(&rx).unwrap_or_else(|| panic!("no answer to a failed reload\n{}", px.logs()));
    assert!(lines(&failed).contains(&"READY=1"), "{failed}");
    assert!(
        lines(&failed).contains(&"STATUS=Reload failed!"),
        "{failed}"
    );
    assert_eq!(try_get(px.addr(0), "/", &[]), Ok((200, "s1".to_string())));
    fs::write(&px.cfg_path, good).unwrap();

    // Stopping (SIGTERM, exit status 0 checked by stop()).
    px.stop();
    let stopping = next_state(&rx).unwrap_or_else(|| panic!("no STOPPING=1"));
    assert!(lines(&stopping).contains(&"STOPPING=1"), "{stopping}");
}

#[test]
fn w_without_s_says_nothing_to_systemd() {
    init();
    let dir = TestDir::new("systemd-w");
    let path = dir.join("notify.sock");
    let rx = UnixDatagram::bind(&path).expect("bind the notify socket");
    rx.set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let srv = LiveServer::start("s1");
    let px = Launch::new(None)
        .mode(&["-db", "-W"])
        .env("NOTIFY_SOCKET", path.to_str().unwrap())
        .start(&cfg(srv.addr()));
    assert_eq!(try_get(px.addr(0), "/", &[]), Ok((200, "s1".to_string())));
    assert_eq!(next_state(&rx), None, "-W is not -Ws");
    px.stop();
}
