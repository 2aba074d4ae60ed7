//! Health checks (HAProxy semantics): TCP connect checks, `option httpchk` with
//! `http-check expect`, `option tcp-check` send/expect, `port`/`addr`, backup
//! servers, `slowstart`, `observe layer7`, `option log-health-checks` and
//! the state-change log lines (compared with HAProxy 2.6).
//!
//! A server's state is seen from outside through where traffic goes, and through
//! pollux's log line `Server BACKEND/SERVER is DOWN|UP` on stderr (an assumption
//! taken from HAProxy, see `common::live`).

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::thread;
use std::time::{Duration, Instant};

/// An HTTP frontend on @P0@ in front of backend `be` made of `lines`.
fn http_cfg(lines: &[String]) -> String {
    let mut c = format!(
        "global\n    maxconn 1000\n{}    timeout queue 5s\n\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n",
        http_defaults()
    );
    for l in lines {
        c.push_str(&format!("    {l}\n"));
    }
    c
}

fn tcp_cfg(lines: &[String]) -> String {
    let mut c = format!(
        "global\n    maxconn 1000\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n",
        tcp_defaults()
    );
    for l in lines {
        c.push_str(&format!("    {l}\n"));
    }
    c
}

fn srv(name: &str, addr: SocketAddr, opts: &str) -> String {
    format!("server {name} {addr} {opts}")
}

const DOWN_WITHIN: Duration = Duration::from_secs(5);

per_poller!(
    connect_check_marks_a_stopped_server_down_and_back_up_without_failed_requests,
    httpchk_expect_status_200_marks_a_503_health_down,
    httpchk_expect_string_marks_a_wrong_body_down,
    httpchk_expect_not_string_marks_a_matching_body_down,
    httpchk_expect_rstatus_marks_a_non_matching_status_down,
    tcp_check_send_ping_expect_pong,
    tcp_check_expect_rstring_smtp_banner,
    check_port_and_addr_send_checks_to_another_listener,
    first_backup_serves_when_every_active_server_is_down,
    allbackups_spreads_over_every_backup,
    observe_layer7_error_limit_marks_a_failing_server_down,
    slowstart_gives_a_recovering_server_a_reduced_share_first,
    log_health_checks_as_haproxy,
);

/// inter 200ms fall 3 rise 2: a stopped server is DOWN within fall x inter (plus
/// margin), not before (fall-1) x inter; no request fails meanwhile (retries +
/// redispatch) and, restarted, it gets traffic again after rise x inter.
fn connect_check_marks_a_stopped_server_down_and_back_up_without_failed_requests(poller: &str) {
    let mut a = LiveServer::start("a");
    let b = LiveServer::start("b");
    let px = Pollux::start(
        poller,
        &http_cfg(&[
            "balance roundrobin".into(),
            "retries 3".into(),
            "option redispatch".into(),
            "timeout connect 200ms".into(),
            "default-server inter 200ms fall 3 rise 2".into(),
            srv("a", a.addr(), "check"),
            srv("b", b.addr(), "check"),
        ]),
    );
    let d = spread(px.addr(0), 20, 1, |_| "/".into());
    assert!(
        share(&d, "a") > 0.3 && share(&d, "b") > 0.3,
        "both serve at first: {d:?}"
    );

    let load = Load::start(px.addr(0), 3, "/", Duration::from_millis(5));
    thread::sleep(Duration::from_millis(300));
    a.stop();
    let t_stop = Instant::now();
    thread::sleep(Duration::from_millis(150));
    // Three consecutive failures are at least two intervals apart.
    if t_stop.elapsed() < Duration::from_millis(380) {
        assert_eq!(
            state_changes(&px, "be", "a", "DOWN"),
            0,
            "DOWN before (fall-1) x inter\n{}",
            px.logs()
        );
    }
    assert!(
        wait_state(&px, "be", "a", "DOWN", 1, DOWN_WITHIN),
        "no '{}' within {DOWN_WITHIN:?} of stopping it\n{}",
        state_line("be", "a", "DOWN"),
        px.logs()
    );
    let t_down = Instant::now();
    thread::sleep(Duration::from_millis(400));
    let count_before = a.count();
    a.restart();
    let t_restart = Instant::now();
    thread::sleep(Duration::from_millis(100));
    if t_restart.elapsed() < Duration::from_millis(180) {
        assert_eq!(a.count(), count_before, "traffic before rise x inter");
    }
    assert!(
        eventually(DOWN_WITHIN, || a.count() > count_before + 5),
        "a gets no traffic within {DOWN_WITHIN:?} of its restart\n{}",
        px.logs()
    );
    assert!(
        wait_state(&px, "be", "a", "UP", 1, PATIENCE),
        "no '{}' logged\n{}",
        state_line("be", "a", "UP"),
        px.logs()
    );
    let shots = load.finish();
    let late: Vec<_> = failures(&shots)
        .into_iter()
        .filter(|s| s.at >= t_stop + Duration::from_millis(50))
        .collect();
    assert!(
        late.is_empty(),
        "{} failed requests after the stop: {late:?}",
        late.len()
    );
    assert!(failures(&shots).len() <= 3, "{:?}", failures(&shots));
    let during: Vec<_> = shots
        .iter()
        .filter(|s| s.at > t_down && s.at < t_restart)
        .collect();
    assert!(
        during.len() > 10,
        "too little traffic while a was down: {}",
        during.len()
    );
    assert_eq!(
        by_server(during.iter().copied()).get("a"),
        None,
        "traffic to a dead server"
    );
    px.stop();
}

/// With `check_lines`, a server answering `a_health` stays UP and one answering
/// `b_health` on its health path goes DOWN, while serving other paths fine.
fn only_b_goes_down(
    poller: &str,
    check_lines: &[&str],
    a_health: (u16, &str),
    b_health: (u16, &str),
) {
    let a = LiveServer::with("a", |b| {
        b.health_status = a_health.0;
        b.health_body = a_health.1.into();
    });
    let b = LiveServer::with("b", |b| {
        b.health_status = b_health.0;
        b.health_body = b_health.1.into();
    });
    let mut lines: Vec<String> = vec!["balance roundrobin".into()];
    lines.extend(check_lines.iter().map(|s| s.to_string()));
    lines.push("default-server inter 100ms fall 2 rise 2".into());
    lines.push(srv("a", a.addr(), "check"));
    lines.push(srv("b", b.addr(), "check"));
    let px = Pollux::start(poller, &http_cfg(&lines));
    if let Err(e) = wait_consecutive(px.addr(0), "/", 12, DOWN_WITHIN, |s| s == "a") {
        panic!("b never DOWN: {e}\n{}", px.logs());
    }
    let checks = b.health_checks();
    assert!(!checks.is_empty(), "b received no health check");
    assert_eq!(checks[0].start[1], "/health", "{:?}", checks[0].start);
    assert!(!a.health_checks().is_empty(), "a received no health check");
    let before = b.count();
    let d = spread(px.addr(0), 20, 2, |_| "/".into());
    assert_eq!(d.get("a"), Some(&20), "{d:?}");
    assert_eq!(b.count(), before, "a DOWN server got traffic");
    assert_eq!(state_changes(&px, "be", "a", "DOWN"), 0, "{}", px.logs());
    px.stop();
}

fn httpchk_expect_status_200_marks_a_503_health_down(poller: &str) {
    only_b_goes_down(
        poller,
        &["option httpchk GET /health", "http-check expect status 200"],
        (200, "OK\n"),
        (503, "OK\n"),
    );
}

fn httpchk_expect_string_marks_a_wrong_body_down(poller: &str) {
    only_b_goes_down(
        poller,
        &["option httpchk GET /health", "http-check expect string OK"],
        (200, "status: OK\n"),
        (200, "status: KO\n"),
    );
}

fn httpchk_expect_not_string_marks_a_matching_body_down(poller: &str) {
    only_b_goes_down(
        poller,
        &[
            "option httpchk GET /health",
            "http-check expect ! string ERROR",
        ],
        (200, "all fine\n"),
        (200, "ERROR: disk full\n"),
    );
}

fn httpchk_expect_rstatus_marks_a_non_matching_status_down(poller: &str) {
    only_b_goes_down(
        poller,
        &[
            "option httpchk GET /health",
            "http-check expect rstatus ^2[0-9][0-9]$",
        ],
        (204, ""),
        (302, ""),
    );
}

/// A line-based server for TCP-mode checks: answers `PING` with `pong`, and
/// `WHO` with its name.
fn redis_like(name: &'static str, pong: &'static str) -> FnServer {
    FnServer::spawn(move |s| {
        let mut w = s.try_clone().expect("clone");
        let mut r = BufReader::new(s);
        let mut line = String::new();
        while r.read_line(&mut line).is_ok_and(|n| n > 0) {
            let reply = match line.trim_end() {
                "PING" => format!("{pong}\r\n"),
                "WHO" => format!("{name}\r\n"),
                _ => "-ERR unknown\r\n".to_string(),
            };
            if w.write_all(reply.as_bytes()).is_err() {
                break;
            }
            line.clear();
        }
    })
}

/// Connect, send `hello` (if any), read the first line.
fn first_line(addr: SocketAddr, hello: &[u8]) -> String {
    let mut s = connect(addr);
    if !hello.is_empty() {
        s.write_all(hello).expect("send");
    }
    let mut r = BufReader::new(s);
    let mut line = String::new();
    let _ = r.read_line(&mut line);
    line.trim_end().to_string()
}

/// Eventually `want` consecutive first lines all equal `expect`.
fn wait_lines(addr: SocketAddr, hello: &[u8], expect: &str, want: usize) -> Result<(), String> {
    let deadline = Instant::now() + DOWN_WITHIN;
    let (mut run, mut last) = (0, String::new());
    while Instant::now() < deadline {
        last = first_line(addr, hello);
        run = if last == expect { run + 1 } else { 0 };
        if run >= want {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(format!(
        "no {want} consecutive {expect:?} (last {last:?}, run {run})"
    ))
}

fn tcp_check_send_ping_expect_pong(poller: &str) {
    let a = redis_like("a", "+PONG");
    let b = redis_like("b", "-ERR not ready");
    let px = Pollux::start(
        poller,
        &tcp_cfg(&[
            "balance roundrobin".into(),
            "option tcp-check".into(),
            "tcp-check send PING\\r\\n".into(),
            "tcp-check expect string +PONG".into(),
            "default-server inter 100ms fall 2 rise 2".into(),
            srv("a", a.addr(), "check"),
            srv("b", b.addr(), "check"),
        ]),
    );
    if let Err(e) = wait_lines(px.addr(0), b"WHO\r\n", "a", 12) {
        panic!("b (answering -ERR to PING) never DOWN: {e}\n{}", px.logs());
    }
    for _ in 0..10 {
        assert_eq!(first_line(px.addr(0), b"WHO\r\n"), "a");
    }
    px.stop();
}

/// An SMTP-like server: a banner first, then reads until EOF.
fn smtp_like(banner: &'static str) -> FnServer {
    FnServer::spawn(move |mut s| {
        if s.write_all(banner.as_bytes()).is_err() {
            return;
        }
        let mut buf = [0u8; 1024];
        while s.read(&mut buf).is_ok_and(|n| n > 0) {}
    })
}

fn tcp_check_expect_rstring_smtp_banner(poller: &str) {
    let a = smtp_like("220 a ESMTP ready\r\n");
    let b = smtp_like("554 b no service\r\n");
    let px = Pollux::start(
        poller,
        &tcp_cfg(&[
            "balance roundrobin".into(),
            "option tcp-check".into(),
            "tcp-check expect rstring ^220".into(),
            "default-server inter 100ms fall 2 rise 2".into(),
            srv("a", a.addr(), "check"),
            srv("b", b.addr(), "check"),
        ]),
    );
    if let Err(e) = wait_lines(px.addr(0), b"", "220 a ESMTP ready", 12) {
        panic!("b (banner 554) never DOWN: {e}\n{}", px.logs());
    }
    px.stop();
}

/// `check port P` checks another port of the server's address; `check addr A
/// port P` another address. a's check port is closed (DOWN although its traffic
/// port answers); b's checks go to a listener on 127.0.0.2 (UP although nothing
/// listens on that port at b's own address).
fn check_port_and_addr_send_checks_to_another_listener(poller: &str) {
    let alt = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    if !can_bind_source(alt) {
        println!("SKIPPED: cannot bind 127.0.0.2 here");
        return;
    }
    let a = LiveServer::start("a");
    let b = LiveServer::start("b");
    let health = LiveServer::start_on("health", alt);
    let dead = dead_addr();
    let px = Pollux::start(
        poller,
        &http_cfg(&[
            "balance roundrobin".into(),
            "default-server inter 100ms fall 2 rise 2".into(),
            srv("a", a.addr(), &format!("check port {}", dead.port())),
            srv(
                "b",
                b.addr(),
                &format!("check addr 127.0.0.2 port {}", health.addr().port()),
            ),
        ]),
    );
    if let Err(e) = wait_consecutive(px.addr(0), "/", 12, DOWN_WITHIN, |s| s == "b") {
        panic!(
            "a (check port closed) never DOWN, or b not UP: {e}\n{}",
            px.logs()
        );
    }
    let d = spread(px.addr(0), 20, 2, |_| "/".into());
    assert_eq!(d.get("b"), Some(&20), "{d:?}");
    px.stop();
}

/// Two active servers whose health fails, two healthy backups.
fn backups(poller: &str, allbackups: bool) -> (Pollux, Vec<LiveServer>) {
    let a = LiveServer::with("a", |b| b.health_status = 503);
    let b = LiveServer::with("b", |b| b.health_status = 503);
    let c = LiveServer::start("c");
    let d = LiveServer::start("d");
    let mut lines = vec![
        "balance roundrobin".to_string(),
        "option httpchk GET /health".into(),
        "default-server inter 100ms fall 2 rise 2".into(),
    ];
    if allbackups {
        lines.push("option allbackups".into());
    }
    lines.push(srv("a", a.addr(), "check"));
    lines.push(srv("b", b.addr(), "check"));
    lines.push(srv("c", c.addr(), "check backup"));
    lines.push(srv("d", d.addr(), "check backup"));
    let px = Pollux::start(poller, &http_cfg(&lines));
    (px, vec![a, b, c, d])
}

fn first_backup_serves_when_every_active_server_is_down(poller: &str) {
    let (px, _s) = backups(poller, false);
    if let Err(e) = wait_consecutive(px.addr(0), "/", 12, DOWN_WITHIN, |s| s == "c") {
        panic!("first backup c not alone in service: {e}\n{}", px.logs());
    }
    let d = spread(px.addr(0), 30, 2, |_| "/".into());
    assert_eq!(d.get("c"), Some(&30), "only the first backup serves: {d:?}");
    px.stop();
}

fn allbackups_spreads_over_every_backup(poller: &str) {
    let (px, _s) = backups(poller, true);
    if let Err(e) = wait_consecutive(px.addr(0), "/", 12, DOWN_WITHIN, |s| s == "c" || s == "d") {
        panic!("backups not serving alone: {e}\n{}", px.logs());
    }
    let d = spread(px.addr(0), 40, 1, |_| "/".into());
    assert_eq!(
        d.get("c").unwrap_or(&0) + d.get("d").unwrap_or(&0),
        40,
        "{d:?}"
    );
    assert!(
        share(&d, "c") >= 0.3 && share(&d, "d") >= 0.3,
        "allbackups: both backups share: {d:?}"
    );
    px.stop();
}

/// `slowstart 4s`: right after coming back UP, b gets well under its full share
/// (50%), and its full share once the ramp is over. Wide tolerances: early
/// share < 35%, late share within 35%..65%.
fn slowstart_gives_a_recovering_server_a_reduced_share_first(poller: &str) {
    let a = LiveServer::start("a");
    let b = LiveServer::with("b", |b| b.health_status = 503);
    let px = Pollux::start(
        poller,
        &http_cfg(&[
            "balance roundrobin".into(),
            "option httpchk GET /health".into(),
            "default-server inter 100ms fall 2 rise 2".into(),
            srv("a", a.addr(), "check"),
            srv("b", b.addr(), "check slowstart 4s"),
        ]),
    );
    if let Err(e) = wait_consecutive(px.addr(0), "/", 12, DOWN_WITHIN, |s| s == "a") {
        panic!("b never DOWN: {e}\n{}", px.logs());
    }
    let load = Load::start(px.addr(0), 4, "/", Duration::ZERO);
    b.reset_counts();
    b.set(|b| b.health_status = 200);
    assert!(
        eventually(DOWN_WITHIN, || b.count() > 0),
        "b never back\n{}",
        px.logs()
    );
    let t0 = b.seen()[0].at;
    let late_start = t0 + Duration::from_millis(4500);
    let late_end = late_start + Duration::from_millis(800);
    thread::sleep(late_end.saturating_duration_since(Instant::now()));
    let shots = load.finish();
    assert!(failures(&shots).is_empty(), "{:?}", failures(&shots));
    let window =
        |from: Instant, to: Instant| by_server(shots.iter().filter(|s| s.at >= from && s.at < to));
    let early = window(t0, t0 + Duration::from_millis(800));
    let late = window(late_start, late_end);
    assert!(
        early.values().sum::<usize>() >= 20 && late.values().sum::<usize>() >= 20,
        "too few requests: {early:?} {late:?}"
    );
    assert!(
        share(&early, "b") < 0.35,
        "b's share right after UP: {early:?}"
    );
    let l = share(&late, "b");
    assert!(
        (0.35..=0.65).contains(&l),
        "b's share after the ramp: {late:?}"
    );
    px.stop();
}

/// a answers 500 to live traffic (its health check passes): after error-limit
/// consecutive errors, `on-error mark-down` takes it out.
fn observe_layer7_error_limit_marks_a_failing_server_down(poller: &str) {
    let a = LiveServer::with("a", |b| b.status = 500);
    let b = LiveServer::start("b");
    let px = Pollux::start(
        poller,
        &http_cfg(&[
            "balance roundrobin".into(),
            "option httpchk GET /health".into(),
            srv(
                "a",
                a.addr(),
                "check inter 10s observe layer7 error-limit 3 on-error mark-down",
            ),
            srv("b", b.addr(), "check inter 10s"),
        ]),
    );
    if let Err(e) = wait_consecutive(px.addr(0), "/", 12, DOWN_WITHIN, |s| s == "b") {
        panic!("a (answering 500) never marked DOWN: {e}\n{}", px.logs());
    }
    let n = a.count();
    assert!(
        (3..=6).contains(&n),
        "a got {n} requests before going DOWN (error-limit 3)"
    );
    let d = spread(px.addr(0), 20, 1, |_| "/".into());
    assert_eq!(d.get("b"), Some(&20), "{d:?}");
    assert_eq!(a.count(), n, "a DOWN server got traffic");
    px.stop();
}

/// A server that accepts and closes connections on a fixed port until
/// stopped; started again on the same port.
struct Flapper {
    addr: SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Flapper {
    fn start(addr: SocketAddr) -> Flapper {
        let l = std::net::TcpListener::bind(addr).expect("bind the flapping server");
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                match l.accept() {
                    Ok((c, _)) => drop(c),
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Flapper {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for Flapper {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Syslog lines received on a UDP socket, as `<PRI>message` (the date and
/// the program name dropped, check durations as `Nms`).
struct Syslog {
    sock: std::net::UdpSocket,
    lines: Vec<String>,
}

impl Syslog {
    fn new() -> Syslog {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        Syslog {
            sock,
            lines: Vec::new(),
        }
    }

    /// Read until a line containing `needle` came (now or before), then
    /// `settle` more, or until PATIENCE passed.
    fn until(&mut self, needle: &str, settle: Duration) {
        let deadline = Instant::now() + PATIENCE;
        let mut seen = self
            .lines
            .iter()
            .any(|l| l.contains(needle))
            .then(Instant::now);
        let mut buf = vec![0u8; 4096];
        while Instant::now() < deadline && !seen.is_some_and(|t| t.elapsed() >= settle) {
            let Ok(n) = self.sock.recv(&mut buf) else {
                continue;
            };
            let raw = String::from_utf8_lossy(&buf[..n]).trim_end().to_string();
            let pri = raw.split('>').next().unwrap_or("").to_string();
            let msg = raw.split_once("]: ").map_or(raw.as_str(), |(_, m)| m);
            let msg = match msg.split_once("check duration: ") {
                Some((a, b)) => {
                    let rest = b.trim_start_matches(|c: char| c.is_ascii_digit());
                    format!("{a}check duration: N{rest}")
                }
                None => msg.to_string(),
            };
            let line = format!("{pri}> {msg}");
            if seen.is_none() && line.contains(needle) {
                seen = Some(Instant::now());
            }
            self.lines.push(line);
        }
        assert!(
            seen.is_some(),
            "no log line with {needle:?}: {:#?}",
            self.lines
        );
    }

    /// The lines about `what` (`be/s1`, or a backend), in order.
    fn about(&self, what: &str) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| l.contains(what))
            .cloned()
            .collect()
    }
}

/// `option log-health-checks`, side by side with HAProxy 2.6: a server
/// that stops and comes back, with a backup server UP, logs each check
/// that moved the health counter or changed the check status ("Health
/// check for server be/s1 failed, reason: ..., status: 1/2 UP."), at
/// NOTICE, and state-change lines without a reason; without the option
/// (backend be2, the same server) the state-change lines carry the check's
/// reason, and a backend left without servers says so at EMERG.
fn log_health_checks_as_haproxy(poller: &str) {
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let mut log = Syslog::new();
        let mut s1 = Flapper::start("127.0.0.1:0".parse().unwrap());
        let backup = Flapper::start("127.0.0.1:0".parse().unwrap());
        let chk = "check inter 100ms rise 2 fall 2";
        let cfg = format!(
            "global\n    log 127.0.0.1:{log} local0\n\
             defaults\n    mode tcp\n    log global\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
             frontend f\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
             backend be\n    option log-health-checks\n\
             \x20   server s1 {s1} {chk}\n    server s2 {bk} {chk} backup\n\
             backend be2\n    server t1 {s1} {chk}\n",
            log = log.sock.local_addr().unwrap().port(),
            s1 = s1.addr,
            bk = backup.addr,
        );
        let px = imp.start(&cfg);
        log.until("be/s2 succeeded", Duration::from_millis(300));
        s1.stop();
        log.until("Server be/s1 is DOWN", Duration::from_millis(300));
        log.until("be2 has no server available", Duration::from_millis(100));
        let s1 = Flapper::start(s1.addr);
        log.until("Server be/s1 is UP", Duration::from_millis(300));
        log.until("Server be2/t1 is UP", Duration::from_millis(100));
        px.stop();
        drop(s1);
        seen.push((imp.name, log.about("be/"), log.about("be2")));
    }
    let be = [
        "<133> Health check for server be/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 2/2 UP.",
        "<133> Health check for backup server be/s2 succeeded, reason: Layer4 check passed, check duration: Nms, status: 2/2 UP.",
        "<133> Health check for server be/s1 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 1/2 UP.",
        "<133> Health check for server be/s1 failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms, status: 0/2 DOWN.",
        "<129> Server be/s1 is DOWN. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "<133> Health check for server be/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 1/2 DOWN.",
        "<133> Health check for server be/s1 succeeded, reason: Layer4 check passed, check duration: Nms, status: 2/2 UP.",
        "<133> Server be/s1 is UP. 1 active and 1 backup servers online. 0 sessions requeued, 0 total in queue.",
    ];
    let be2 = [
        "<129> Server be2/t1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        "<128> backend be2 has no server available!",
        "<133> Server be2/t1 is UP, reason: Layer4 check passed, check duration: Nms. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.",
    ];
    for (name, got_be, got_be2) in &seen {
        // (The two servers' first checks come in either order.)
        let mut got_be = got_be.clone();
        if got_be.len() > 1 && got_be[1].contains("be/s1") {
            got_be.swap(0, 1);
        }
        assert_eq!(got_be, be, "{name}: {seen:#?}");
        assert_eq!(got_be2, &be2, "{name}: {seen:#?}");
    }
}
