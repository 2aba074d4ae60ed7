//! Hot reload as HAProxy's `-sf`/`-st`: the new process takes the listening
//! sockets over from the old one (`stats socket ... expose-fd listeners`,
//! found in the config or given by `-x`), so no connection and no request
//! is lost; without fd passing, it binds next to the old one (SO_REUSEPORT).

mod common;

use common::*;
use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

fn http_cfg(port: u16, server: SocketAddr, sock: Option<&Path>) -> String {
    let stats = sock.map_or(String::new(), |p| {
        format!(
            "    stats socket {} mode 600 level admin expose-fd listeners\n",
            p.display()
        )
    });
    format!(
        "global\n    maxconn 2000\n{stats}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n    timeout http-keep-alive 2s\n\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\nbackend be\n    server s1 {server}\n"
    )
}

/// wrk through the proxy for `secs`, if wrk is installed.
fn wrk(addr: SocketAddr, secs: u64) -> Option<Child> {
    Command::new("wrk")
        .args(["-t", "1", "-c", "8", "-d", &format!("{secs}s")])
        .arg(format!("http://{addr}/wrk"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()
}

#[cfg(target_os = "linux")]
#[test]
fn fifty_reloads_under_load_lose_no_connection_and_no_request() {
    init();
    fifty_reloads_under_load(None, true);
}

// Linux: pidfd_getfd(2) is what keeps the sockets (src/sys/pidfd.rs).
#[cfg(target_os = "linux")]
per_poller!(fifty_classic_reloads_under_load_lose_no_connection_and_no_request);

/// No exposed socket: each new process copies the old one's listening
/// sockets out of it (pidfd_getfd), so none is ever closed.
#[cfg(target_os = "linux")]
fn fifty_classic_reloads_under_load_lose_no_connection_and_no_request(poller: &str) {
    fifty_reloads_under_load(Some(poller), false);
}

/// 50 `-sf` reloads while wrk (keep-alive), keep-alive clients and
/// new-connection clients send requests: not one may fail, and the listening
/// socket is the same one throughout. `exposed`: handed over through `stats
/// socket ... expose-fd listeners`, else copied out of the old process.
fn fifty_reloads_under_load(poller: Option<&str>, exposed: bool) {
    let _heavy = heavy_lock();
    let dir = TestDir::new("reload");
    let srv = LiveServer::start("s1");
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let sockdir = SockDir::new();
    let sock = sockdir.sock();
    let cfg = dir.write(
        "p.cfg",
        &http_cfg(port, srv.addr(), exposed.then_some(sock.as_path())),
    );
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let args: Vec<&str> = poller.map_or(vec![], |p| vec!["--poller", p]);
    let first = start_daemon(&dir, &mut d, &cfg, &pidfile, &args);
    assert!(eventually(PATIENCE, || listens(first, port)));
    let inodes = listen_inodes(first as u32, port).unwrap();

    let wrk = wrk(addr, 15);
    if wrk.is_none() {
        println!("!!!!!!!! wrk not installed: in-test clients only !!!!!!!!");
    }
    let load = ReloadLoad {
        addr,
        args: &args,
        reloads: 50,
        keep_alive: 4,
        pause: Duration::from_millis(30),
    };
    let run = reloads_under_load(&dir, &mut d, &cfg, &pidfile, &load, |i, new| {
        // The very same socket, handed over, never closed: its backlog survives.
        assert_eq!(
            listen_inodes(new as u32, port).as_ref(),
            Some(&inodes),
            "reload {i}: pid {new} listens on another socket"
        );
    });
    println!(
        "{} reloads in {:?}: {} new-connection and {} keep-alive requests, all 200",
        load.reloads, run.took, run.fresh, run.keep_alive
    );
    if let Some(w) = wrk {
        let out = w.wait_with_output().expect("wrk");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "wrk: {text}");
        assert!(
            !text.contains("Socket errors"),
            "wrk saw socket errors:\n{text}"
        );
        assert!(
            !text.contains("Non-2xx"),
            "wrk saw non-2xx responses:\n{text}"
        );
        assert!(text.contains("requests in"), "wrk output:\n{text}");
        println!("wrk:\n{text}");
    }
    // Only the last one remains, once the old ones' sessions are done.
    stop_last_daemon(&d, &pidfile);
}

fn tcp_cfg(port: u16, server: SocketAddr, global_extra: &str) -> String {
    format!(
        "global\n    maxconn 100\n{global_extra}\n{}\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\nbackend be\n    server s1 {server}\n",
        tcp_defaults()
    )
}

fn stats_line(p: &Path) -> String {
    format!(
        "    stats socket {} level admin expose-fd listeners",
        p.display()
    )
}

per_poller!(
    x_flag_takes_the_listeners_from_the_named_socket,
    st_stops_the_old_process_at_once,
);

/// The old config exposes its listeners; the new one does not say where:
/// `-x` does. Same socket afterwards, sessions of the old one finish.
fn x_flag_takes_the_listeners_from_the_named_socket(poller: &str) {
    let dir = TestDir::new("x");
    let echo = TestServer::echo();
    let port = free_port();
    let sockdir = SockDir::new();
    let sock = sockdir.sock();
    let old_cfg = dir.write("old.cfg", &tcp_cfg(port, echo.addr(), &stats_line(&sock)));
    let new_cfg = dir.write("new.cfg", &tcp_cfg(port, echo.addr(), ""));
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let old = start_daemon(&dir, &mut d, &old_cfg, &pidfile, &["--poller", poller]);
    assert!(eventually(PATIENCE, || listens(old, port)));
    let inodes = listen_inodes(old as u32, port);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = connect(addr);
    roundtrip(&mut c, b"to the old one");
    let (x, oldpid) = (sock.to_str().unwrap(), old.to_string());
    let new = start_daemon(
        &dir,
        &mut d,
        &new_cfg,
        &pidfile,
        &["--poller", poller, "-x", x, "-sf", &oldpid],
    );
    assert!(wait_retired(old, port), "old one still listens");
    assert_eq!(
        listen_inodes(new as u32, port),
        inodes,
        "not the old socket"
    );
    // The old one finishes its session, then leaves.
    roundtrip(&mut c, b"old one still serves its session");
    assert!(process_alive(old), "old one left with a session open");
    drop(c);
    assert!(
        eventually(PATIENCE, || !process_alive(old)),
        "old one stays"
    );
    let mut c = connect(addr);
    roundtrip(&mut c, b"to the new one");
    // kill(2) on our daemon.
    send_signal(new, libc::SIGTERM);
    assert!(eventually(PATIENCE, || d.alive().is_empty()));
}

/// `-st`: the old process is terminated, open sessions or not.
fn st_stops_the_old_process_at_once(poller: &str) {
    let dir = TestDir::new("st");
    let echo = TestServer::echo();
    let port = free_port();
    let sockdir = SockDir::new();
    let sock = sockdir.sock();
    let cfg = dir.write("p.cfg", &tcp_cfg(port, echo.addr(), &stats_line(&sock)));
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let old = start_daemon(&dir, &mut d, &cfg, &pidfile, &["--poller", poller]);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = connect(addr);
    roundtrip(&mut c, b"to the old one");
    let oldpid = old.to_string();
    let new = start_daemon(
        &dir,
        &mut d,
        &cfg,
        &pidfile,
        &["--poller", poller, "-st", &oldpid],
    );
    assert_closed(&mut c, "session of the terminated old process");
    assert!(
        eventually(PATIENCE, || !process_alive(old)),
        "old one stays"
    );
    let mut c = connect(addr);
    roundtrip(&mut c, b"to the new one");
    // kill(2) on our daemon.
    send_signal(new, libc::SIGTERM);
    assert!(eventually(PATIENCE, || d.alive().is_empty()));
}

/// No exposed listeners: the new process copies the old one's listening
/// socket out of it (Linux pidfd_getfd(2); as root here, so permitted),
/// serves, then sends SIGUSR1; the old one leaves and the socket stays.
#[cfg(target_os = "linux")]
#[test]
fn reload_without_exposed_listeners_copies_the_old_sockets() {
    let dir = TestDir::new("classic");
    let echo = TestServer::echo();
    let port = free_port();
    let cfg = dir.write("p.cfg", &tcp_cfg(port, echo.addr(), ""));
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let old = start_daemon(&dir, &mut d, &cfg, &pidfile, &[]);
    assert!(eventually(PATIENCE, || listens(old, port)));
    let olds = listen_inodes(old as u32, port).unwrap();
    let oldpid = old.to_string();
    let new = start_daemon(&dir, &mut d, &cfg, &pidfile, &["-sf", &oldpid]);
    assert!(
        eventually(PATIENCE, || !process_alive(old)),
        "old one stays"
    );
    assert_eq!(
        listen_inodes(new as u32, port),
        Some(olds),
        "new one should hold the old socket"
    );
    let mut c = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    roundtrip(&mut c, b"to the new one");
    // kill(2) on our daemon.
    send_signal(new, libc::SIGTERM);
    assert!(eventually(PATIENCE, || d.alive().is_empty()));
}

/// When the old process's sockets cannot be copied (it runs as nobody, not
/// dumpable, and the new one is root without CAP_SYS_PTRACE), the new one
/// says so, binds sockets of its own next to the old one's (SO_REUSEPORT)
/// and serves; the old one leaves on SIGUSR1.
#[cfg(target_os = "linux")]
#[test]
fn reload_that_cannot_copy_the_sockets_binds_next_to_the_old_ones() {
    init();
    let setpriv = Path::new("/usr/bin/setpriv");
    if !rustix::process::geteuid().is_root() || !setpriv.exists() {
        println!("!!!!!!!! SKIP: needs root and setpriv(1) to make pidfd_getfd fail !!!!!!!!");
        return;
    }
    let dir = TestDir::new("fallback");
    let echo = TestServer::echo();
    let port = free_port();
    let cfg = dir.write("p.cfg", &tcp_cfg(port, echo.addr(), "    uid 65534"));
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let old = start_daemon(&dir, &mut d, &cfg, &pidfile, &[]);
    assert!(eventually(PATIENCE, || listens(old, port)));
    let olds = listen_inodes(old as u32, port).unwrap();
    let out = Command::new(setpriv)
        .arg("--bounding-set=-sys_ptrace")
        .arg(pollux_bin())
        .args(["-D", "-f", cfg.to_str().unwrap()])
        .args(["-p", pidfile.to_str().unwrap(), "-sf", &old.to_string()])
        .stdin(Stdio::null())
        .output()
        .expect("setpriv pollux");
    // Whatever the checks below say, the new daemon is stopped at the end.
    let new = read_pid(&pidfile).unwrap();
    d.pids.push(new);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot take the listening sockets of old process"),
        "{stderr}"
    );
    assert_ne!(new, old);
    assert!(
        eventually(PATIENCE, || !process_alive(old)),
        "old one stays"
    );
    let mine = listen_inodes(new as u32, port).unwrap_or_default();
    assert!(
        !mine.is_empty() && mine.is_disjoint(&olds),
        "new one should have its own socket"
    );
    let mut c = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    roundtrip(&mut c, b"to the new one");
    // kill(2) on our daemon.
    send_signal(new, libc::SIGTERM);
    assert!(eventually(PATIENCE, || d.alive().is_empty()));
}

/// A new configuration with an address that cannot be bound (held by
/// another socket): the new process exits 1 with HAProxy's alert, and the
/// old one, whose sockets it had copied, serves on with them.
#[cfg(target_os = "linux")]
#[test]
fn failed_reload_leaves_the_old_process_serving() {
    let dir = TestDir::new("failed");
    let echo = TestServer::echo();
    let port = free_port();
    let cfg = dir.write("p.cfg", &tcp_cfg(port, echo.addr(), ""));
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let new_cfg = dir.write(
        "new.cfg",
        &format!(
            "{}\nfrontend taken\n    bind {}\n    default_backend be\n",
            tcp_cfg(port, echo.addr(), ""),
            busy.local_addr().unwrap()
        ),
    );
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let old = start_daemon(&dir, &mut d, &cfg, &pidfile, &[]);
    let oldpid = old.to_string();
    let out = run_pollux(
        &dir,
        &["-D", "-f", new_cfg.to_str().unwrap(), "-sf", &oldpid],
        &[],
    );
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.stderr.contains("cannot bind socket"), "{out}");
    let mut c = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    roundtrip(&mut c, b"old one serves on");
    assert!(listens(old, port), "old one lost its socket");
    // kill(2) on our daemon.
    send_signal(old, libc::SIGTERM);
    assert!(eventually(PATIENCE, || d.alive().is_empty()));
}

/// `-x` naming no socket: a warning, and the listeners are bound anew.
#[cfg(target_os = "linux")]
#[test]
fn x_flag_to_a_missing_socket_warns_and_binds() {
    let dir = TestDir::new("xmissing");
    let echo = TestServer::echo();
    let port = free_port();
    let cfg = dir.write("p.cfg", &tcp_cfg(port, echo.addr(), ""));
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let missing = dir.join("nothing.sock");
    let out = run_pollux(
        &dir,
        &[
            "-D",
            "-f",
            cfg.to_str().unwrap(),
            "-p",
            pidfile.to_str().unwrap(),
            "-x",
            missing.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        out.stderr
            .contains("Failed to get the sockets from the old process"),
        "{out}"
    );
    let pid = read_pid(&pidfile).unwrap();
    d.pids.push(pid);
    let mut c = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    roundtrip(&mut c, b"bound anew");
    // kill(2) on our daemon.
    send_signal(pid, libc::SIGTERM);
    assert!(eventually(PATIENCE, || d.alive().is_empty()));
}

fn mw_cfg(server: SocketAddr) -> String {
    format!(
        "global\n    maxconn 2000\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 10s\n    timeout server 10s\n    timeout http-keep-alive 2s\n\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    server s1 {server}\n"
    )
}

#[cfg(target_os = "linux")]
#[test]
fn master_worker_reloads_on_sigusr2_under_load_without_loss() {
    init();
    let _heavy = heavy_lock();
    let srv = LiveServer::start("s1");
    let px = Launch::new(None)
        .mode(&["-db", "-W"])
        .start(&mw_cfg(srv.addr()));
    let master = px.pid();
    assert!(
        eventually(PATIENCE, || children_of(master).len() == 1),
        "{}",
        px.logs()
    );
    let mut worker = children_of(master)[0];
    let fresh = Load::start(px.addr(0), 4, "/new", Duration::ZERO);
    let ka = KeepAlive::start(px.addr(0), 4);
    const RELOADS: usize = 20;
    for i in 0..RELOADS {
        // kill(2) on our own child, the master.
        send_signal(master as i32, libc::SIGUSR2);
        let old = worker;
        assert!(
            eventually(PATIENCE, || children_of(master).iter().any(|&p| p != old)),
            "reload {i}: no new worker\n{}",
            px.logs()
        );
        worker = *children_of(master).iter().find(|&&p| p != old).unwrap();
        assert!(
            eventually(PATIENCE, || !children_of(master).contains(&old)),
            "reload {i}: old worker {old} stays\n{}",
            px.logs()
        );
        thread::sleep(Duration::from_millis(30));
    }
    let shots = fresh.finish();
    let (ka_ok, ka_errors) = ka.finish();
    let fails = failures(&shots);
    assert!(
        fails.is_empty() && ka_errors.is_empty(),
        "{} of {} new-connection and {} keep-alive requests failed: {:?} {:?}\n{}",
        fails.len(),
        shots.len(),
        ka_errors.len(),
        fails.iter().take(3).collect::<Vec<_>>(),
        ka_errors.iter().take(3).collect::<Vec<_>>(),
        px.logs()
    );
    assert!(shots.len() > RELOADS && ka_ok > RELOADS, "too little load");
    assert_eq!(children_of(master), vec![worker]);
    px.stop();
    assert!(
        eventually(PATIENCE, || !process_alive(worker)),
        "worker outlived its master"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn master_worker_keeps_the_worker_when_the_new_config_is_bad() {
    let echo = TestServer::echo();
    let px = Launch::new(None).mode(&["-db", "-W"]).start(&format!(
        "{}\nlisten px\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    ));
    let master = px.pid();
    assert!(eventually(PATIENCE, || children_of(master).len() == 1));
    let worker = children_of(master)[0];
    let good = fs::read_to_string(&px.cfg_path).unwrap();
    fs::write(&px.cfg_path, format!("{good}    frobnicate 1\n")).unwrap();
    // kill(2) on our own child, the master.
    send_signal(master as i32, libc::SIGUSR2);
    assert!(
        eventually(PATIENCE, || px.stderr().contains("reload failed")),
        "{}",
        px.logs()
    );
    assert!(
        px.stderr().contains("unknown keyword 'frobnicate'"),
        "{}",
        px.logs()
    );
    assert_eq!(children_of(master), vec![worker]);
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"the old worker serves on");
    px.stop();
}

#[cfg(target_os = "linux")]
#[test]
fn master_cli_reload_forks_a_new_worker() {
    let echo = TestServer::echo();
    let mcli = SockDir::new();
    let master_sock = mcli.sock();
    let px = Launch::new(None)
        .mode(&["-db", "-W", "-S", master_sock.to_str().unwrap()])
        .start(&format!(
            "{}\nlisten px\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
            tcp_defaults(),
            echo.addr()
        ));
    let master = px.pid();
    reload_through_the_master_cli(&px, |l| cli(&master_sock, l));
    assert!(cli(&master_sock, "show proc").contains("Unknown command"));
    let c = connect(px.addr(0));
    // A broken config: Success=0 with the reason, the worker stays.
    let worker = children_of(master)[0];
    let good = fs::read_to_string(&px.cfg_path).unwrap();
    fs::write(&px.cfg_path, format!("{good}    frobnicate 1\n")).unwrap();
    let answer = cli(&master_sock, "reload");
    assert!(
        answer.starts_with("Success=0") && answer.contains("frobnicate"),
        "{answer}"
    );
    assert_eq!(children_of(master), vec![worker]);
    drop(c);
    px.stop();
}

/// With one worker serving `px`: `help`, then `reload` through the master
/// CLI (`ask` sends a line, returns the answer); a new worker alone serves.
fn reload_through_the_master_cli(px: &Pollux, ask: impl Fn(&str) -> String) {
    let master = px.pid();
    assert!(eventually(PATIENCE, || children_of(master).len() == 1));
    let old = children_of(master)[0];
    assert!(ask("help").contains("reload"));
    let answer = ask("reload");
    assert!(answer.starts_with("Success=1"), "{answer}\n{}", px.logs());
    assert!(
        eventually(PATIENCE, || {
            let c = children_of(master);
            c.len() == 1 && c[0] != old
        }),
        "no new worker alone: {:?}\n{}",
        children_of(master),
        px.logs()
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"the new worker serves");
}

/// `-S fd@N`: the master CLI on an inherited TCP socket, as HAProxy's
/// reg-test runner (VTest) starts a master-worker process.
#[cfg(target_os = "linux")]
#[test]
fn master_cli_on_an_inherited_fd_reloads() {
    let echo = TestServer::echo();
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = l.local_addr().unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&l).to_string();
    let px = Launch::new(None)
        .mode(&["-db", "-W", "-S", &format!("fd@{fd}")])
        .inherit_fd(&l)
        .start(&format!(
            "{}\nlisten px\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
            tcp_defaults(),
            echo.addr()
        ));
    reload_through_the_master_cli(&px, |line| tcp_cli(at, line));
    px.stop();
    drop(l);
}

#[test]
fn master_cli_without_master_worker_mode_is_an_error() {
    let dir = TestDir::new("mcli");
    let cfg = dir.write(
        "p.cfg",
        &format!(
            "{}\nlisten px\n    bind 127.0.0.1:{}\n    server s1 {}\n",
            tcp_defaults(),
            free_port(),
            dead_addr()
        ),
    );
    let sock = dir.join("m.sock");
    let out = run_pollux(
        &dir,
        &[
            "-db",
            "-S",
            sock.to_str().unwrap(),
            "-f",
            cfg.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(
        out.stderr.contains("-S requires master-worker mode"),
        "{out}"
    );
}
