//! Process settings as HAProxy's: privileges dropped after binding (`user`,
//! `group`, `chroot`), checked from /proc; `-D` daemon with `-p` pidfile;
//! `ulimit-n`; unknown users at config check.

mod common;

use common::*;
use std::fs;
use std::net::SocketAddr;
use std::path::Path;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// uid or gid of `name` in /etc/passwd or /etc/group (third field).
fn id_in(file: &str, name: &str) -> Option<u32> {
    fs::read_to_string(file).ok()?.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&name)).then(|| f.get(2)?.parse().ok())?
    })
}

/// The values of a `/proc/PID/status` line such as `Uid:`.
fn status_ids(pid: u32, key: &str) -> Vec<u32> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|r| {
            r.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn cfg(global_extra: &str, server: SocketAddr) -> String {
    format!(
        "global\n    maxconn 100\n{global_extra}\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    server s1 {server}\n",
        tcp_defaults()
    )
}

#[cfg(target_os = "linux")]
#[test]
fn serving_process_runs_as_nobody_inside_its_chroot() {
    init();
    if !is_root() {
        println!("!!!!!!!! SKIP serving_process_runs_as_nobody_inside_its_chroot: not root, cannot test setuid/chroot !!!!!!!!");
        return;
    }
    let (Some(nobody), Some(nogroup)) = (
        id_in("/etc/passwd", "nobody"),
        id_in("/etc/group", "nogroup"),
    ) else {
        println!("!!!!!!!! SKIP: no user 'nobody' or group 'nogroup' here !!!!!!!!");
        return;
    };
    let jail = TestDir::new("jail");
    let echo = TestServer::echo();
    let text = cfg(
        &format!(
            "    user nobody\n    group nogroup\n    chroot {}",
            jail.path().display()
        ),
        echo.addr(),
    );
    let px = Launch::new(None).start(&text);
    let pid = px.pid();
    assert_eq!(
        status_ids(pid, "Uid:"),
        vec![nobody; 4],
        "real, effective, saved and fs uid\n{}",
        px.logs()
    );
    assert_eq!(status_ids(pid, "Gid:"), vec![nogroup; 4], "gids");
    assert_eq!(
        status_ids(pid, "Groups:"),
        vec![nogroup],
        "supplementary groups"
    );
    let root = fs::read_link(format!("/proc/{pid}/root")).expect("readlink /proc/PID/root");
    assert_eq!(
        root,
        fs::canonicalize(jail.path()).unwrap(),
        "root directory of the serving process"
    );
    // And it still does its job.
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"proxied by nobody from a chroot");
    px.stop();
}

#[test]
fn a_missing_chroot_directory_is_an_alert_and_exit_1() {
    if !is_root() {
        println!(
            "!!!!!!!! SKIP a_missing_chroot_directory_is_an_alert_and_exit_1: not root !!!!!!!!"
        );
        return;
    }
    let dir = TestDir::new("nochroot");
    let text = cfg(
        &format!("    chroot {}", dir.join("absent").display()),
        dead_addr(),
    )
    .replace("@P0@", &free_port().to_string());
    let path = dir.write("p.cfg", &text);
    let out = run_pollux(&dir, &["-db", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(
        out.stderr.contains("[ALERT]") && out.stderr.contains("Cannot chroot"),
        "{out}"
    );
}

#[test]
fn unknown_user_or_group_fails_the_config_check_at_its_line() {
    let dir = TestDir::new("nouser");
    for (kw, what) in [("user", "user id"), ("group", "group id")] {
        let text = cfg(&format!("    {kw} no-such-name-pollux"), dead_addr());
        let path = dir.write("p.cfg", &text);
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{out}");
        let want = format!("p.cfg:3: cannot find {what} for 'no-such-name-pollux'");
        assert!(out.all().contains(&want), "expected {want:?} in\n{out}");
    }
}

/// The soft "Max open files" limit of `pid`.
fn max_open_files(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(target_os = "linux")]
#[test]
fn ulimit_n_sets_the_fd_limit_exactly() {
    init();
    let echo = TestServer::echo();
    let px = Launch::new(None).start(&cfg("    ulimit-n 3000", echo.addr()));
    assert_eq!(max_open_files(px.pid()), Some(3000), "{}", px.logs());
    px.stop();
    // Above our hard limit: set if allowed (root with CAP_SYS_RESOURCE),
    // else, with `no strict-limits`, HAProxy's warning and the limit left
    // as it was.
    let ours = max_open_files(std::process::id()).unwrap();
    let n = ours + 1000;
    let extra = format!("    ulimit-n {n}\n    no strict-limits");
    let px = Launch::new(None).start(&cfg(&extra, echo.addr()));
    let got = max_open_files(px.pid()).unwrap();
    let warned = px
        .stderr()
        .contains(&format!("Cannot raise FD limit to {n}, limit is {ours}."));
    assert!(
        got == n || (got == ours && warned),
        "limit {got}, warned: {warned}\n{}",
        px.logs()
    );
    px.stop();
}

#[cfg(target_os = "linux")]
#[test]
fn daemon_is_the_pidfile_pid_with_null_stdio_in_its_own_session() {
    init();
    let dir = TestDir::new("daemon");
    let echo = TestServer::echo();
    let port = free_port();
    let text = cfg("", echo.addr()).replace("@P0@", &port.to_string());
    let path = dir.write("d.cfg", &text);
    let pidfile = dir.join("pollux.pid");
    let out = run_pollux(
        &dir,
        &[
            "-D",
            "-p",
            pidfile.to_str().unwrap(),
            "-f",
            path.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code(), Some(0), "{out}");
    let pid = read_pid(&pidfile).expect("pid in the pidfile");
    // Kills the daemon if the test fails midway (only if it is still ours).
    let mut guard = Daemons::tagged(path.to_str().unwrap());
    guard.pids.push(pid);
    assert!(
        eventually(PATIENCE, || listening_ports_of(pid as u32)
            .is_some_and(|p| p.contains(&port))),
        "the pidfile's pid {pid} does not listen on {port}"
    );
    for fd in 0..3 {
        let target = fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap();
        assert_eq!(target, Path::new("/dev/null"), "fd {fd} of the daemon");
    }
    // "pid (comm) state ppid pgrp session ...": setsid made it a session leader.
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    assert_eq!(
        fields[3],
        pid.to_string(),
        "session id of the daemon: {stat}"
    );
    let mut c = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    roundtrip(&mut c, b"served by the daemon");
    // kill(2) on the daemon's pid, checked by the listening test above.
    send_signal(pid, libc::SIGTERM);
    assert!(
        eventually(PATIENCE, || !process_alive(pid)),
        "daemon still alive"
    );
}

/// `strict-limits` is HAProxy 2.6's default: a limit that cannot be had
/// (above the kernel's `nr_open`, even for root) stops the start, with
/// HAProxy's alert; `zero-warning` makes the warning of `no strict-limits`
/// fatal too.
#[cfg(target_os = "linux")]
#[test]
fn an_fd_limit_that_cannot_be_had_stops_the_start() {
    init();
    let Some(nr_open) = fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    else {
        println!("SKIPPED: no /proc/sys/fs/nr_open");
        return;
    };
    let n = nr_open + 1;
    let dir = TestDir::new("strict");
    let echo = TestServer::echo();
    for extra in ["", "    no strict-limits\n    zero-warning"] {
        let text = cfg(&format!("    ulimit-n {n}\n{extra}"), echo.addr())
            .replace("@P0@", &free_port().to_string());
        let path = dir.write("strict.cfg", &text);
        let out = run_pollux(&dir, &["-f", path.to_str().unwrap(), "-c"], &[]);
        assert_eq!(
            out.code(),
            Some(0),
            "-c does not apply limits: {}",
            out.all()
        );
        // Started for real, it must stop at once (run_pollux bounds it).
        let out = run_pollux(&dir, &["-f", path.to_str().unwrap(), "-db"], &[]);
        assert_eq!(out.code(), Some(1), "{extra:?}: {}", out.all());
        assert!(
            out.stderr
                .contains(&format!("Cannot raise FD limit to {n}"))
                && (extra.is_empty() || out.stderr.contains("'zero-warning' is set. Aborting.")),
            "{}",
            out.all()
        );
    }
    // A configuration warning is fatal too under zero-warning, even at -c.
    // (One HAProxy gives too, and so stops on: HTTP rules in TCP mode.)
    let text = "global\n    zero-warning\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten fe\n    bind 127.0.0.1:@P0@\n    http-request deny\n    server s 127.0.0.1:9\n"
        .replace("@P0@", &free_port().to_string());
    let path = dir.write("zero.cfg", &text);
    let out = run_pollux(&dir, &["-f", path.to_str().unwrap(), "-c"], &[]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        out.stderr.contains("require HTTP mode")
            && out.stderr.contains("'zero-warning' is set. Aborting."),
        "{}",
        out.all()
    );
}

/// `stats socket PATH user U group G mode M`: the Unix socket is created
/// with that owner and mode (root only: chown to another user); unknown
/// names fail the config check.
#[test]
fn stats_socket_owner_and_mode() {
    init();
    let dir = TestDir::new("sockowner");
    for opt in ["user no-such-name-pollux", "group no-such-name-pollux"] {
        let sock = dir.join("x.sock");
        let text = cfg(
            &format!("    stats socket {} {opt}", sock.display()),
            dead_addr(),
        );
        let path = dir.write("p.cfg", &text);
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{out}");
        assert!(
            out.all().contains("p.cfg:3: 'stats socket' option"),
            "{out}"
        );
        assert!(out.all().contains("unknown"), "{out}");
    }
    if !is_root() {
        println!("!!!!!!!! SKIP stats_socket_owner_and_mode (chown part): not root !!!!!!!!");
        return;
    }
    let (Some(nobody), Some(nogroup)) = (
        id_in("/etc/passwd", "nobody"),
        id_in("/etc/group", "nogroup"),
    ) else {
        println!("!!!!!!!! SKIP stats_socket_owner_and_mode: no nobody/nogroup here !!!!!!!!");
        return;
    };
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let echo = TestServer::echo();
    for (opts, uid, gid) in [
        (
            "user nobody group nogroup mode 660".to_string(),
            nobody,
            nogroup,
        ),
        (format!("uid {nobody} mode 600"), nobody, 0),
    ] {
        let sock = dir.join("s.sock");
        let _ = fs::remove_file(&sock);
        let px = Launch::new(None).start(&cfg(
            &format!("    stats socket {} {opts}", sock.display()),
            echo.addr(),
        ));
        let m = fs::metadata(&sock).expect("the socket exists");
        assert_eq!((m.uid(), m.gid()), (uid, gid), "{opts}");
        let want = if opts.contains("660") { 0o660 } else { 0o600 };
        assert_eq!(m.permissions().mode() & 0o777, want, "{opts}");
        px.stop();
    }
}
