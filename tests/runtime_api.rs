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
    a_backend_without_servers_is_up,
    socat_runs_one_command_and_the_connection_closes,
    a_lower_level_cannot_run_admin_commands,
    disable_frontend_holds_new_connections_until_enabled,
    set_maxconn_server_bounds_concurrency_at_runtime,
    shutdown_session_closes_a_live_client_connection,
    prompt_mode_answers_several_commands_on_one_connection,
    an_idle_cli_connection_is_closed_after_stats_timeout,
    show_errors_keeps_the_last_bad_request_and_response_with_their_bytes,
    show_stat_is_haproxys_csv_and_follows_traffic,
    show_info_reports_this_process,
    set_weight_changes_the_distribution_and_get_weight_reports_it,
    server_states_set_at_run_time_move_traffic,
    clear_counters_resets_maxima_and_all_resets_totals,
    server_states_survive_a_restart_through_the_state_file,
    add_server_then_ready_takes_traffic_and_del_server_removes_it,
    set_server_addr_moves_traffic_and_checks_as_haproxy_answers,
    set_server_health_forces_the_state_with_or_without_checks,
    added_server_checks_wait_for_enable_health_and_disable_health_stops_them,
    stats_socket_on_an_inherited_fd_and_on_tcp_serves_the_cli,
);

const REFERENCE_HEADER: &str = include_str!("reference/haproxy-2.6-show-stat-header.csv");

fn two_servers(sock: &Path, a: &LiveServer, b: &LiveServer, extra: &str) -> String {
    format!(
        "global\n    stats socket {} level admin\n{extra}{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    balance roundrobin\n    server a {} weight 2\n    server b {} weight 2\n",
        sock.display(),
        http_defaults(),
        a.addr(),
        b.addr()
    )
}

/// The CSV line of `svname` in `show stat`, split into (column, value).
fn stat_row(sock: &Path, svname: &str) -> std::collections::HashMap<String, String> {
    let csv = cli(sock, "show stat");
    let cols: Vec<&str> = csv
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let line = csv
        .lines()
        .find(|l| l.split(',').nth(1) == Some(svname))
        .unwrap_or_else(|| panic!("no row {svname}: {csv}"));
    cols.iter()
        .zip(line.split(','))
        .map(|(c, v)| (c.to_string(), v.to_string()))
        .collect()
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
    // Ids as HAProxy numbers them: its hidden CLI proxy (stats socket) is #1.
    assert!(out.contains("frontend fe (#2): invalid request"), "{out}");
    assert!(out.contains("X-\\x01Evil: 1\\r\\n"), "escaped bytes: {out}");
    assert!(out.contains("backend be (#3): invalid response"), "{out}");
    assert!(out.contains("server broken"), "{out}");
    assert!(out.contains("X-Bad : 1"), "{out}");
    // Filters: by proxy and direction.
    let only_req = cli(&sock, "show errors fe request");
    assert!(only_req.contains("invalid request") && !only_req.contains("invalid response"));
    assert_eq!(cli(&sock, "show errors nope"), "No such proxy.\n\n");
    px.stop();
}

fn show_stat_is_haproxys_csv_and_follows_traffic(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &two_servers(&sock, &a, &b, ""));
    let csv = cli(&sock, "show stat");
    assert_eq!(
        csv.lines().next(),
        REFERENCE_HEADER.lines().next(),
        "header"
    );
    for _ in 0..6 {
        get_ok(px.addr(0), "/", &[]);
    }
    assert_eq!(stat_row(&sock, "a")["stot"], "3");
    assert_eq!(stat_row(&sock, "BACKEND")["stot"], "6");
    assert_eq!(stat_row(&sock, "FRONTEND")["hrsp_2xx"], "6");
    // The filter: proxy be, servers only (4), every server (-1).
    let only = cli(&sock, "show stat be 4 -1");
    let names: Vec<&str> = only
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(cli(&sock, "show stat nope 4 -1"), "No such proxy.\n\n");
    let json = cli(&sock, "show stat json");
    assert!(json.starts_with("[[{\"objType\":\"Frontend\""), "{json}");
    assert!(json.contains("\"name\":\"stot\""), "{json}");
    let typed = cli(&sock, "show stat typed");
    assert!(
        typed
            .lines()
            .any(|l| l.starts_with("S.") && l.contains(".svname.1:") && l.ends_with(":str:a")),
        "{typed}"
    );
    px.stop();
}

fn show_info_reports_this_process(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &two_servers(&sock, &a, &b, ""));
    for _ in 0..3 {
        get_ok(px.addr(0), "/", &[]);
    }
    let info = cli(&sock, "show info");
    let field = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")))
            .unwrap_or_else(|| panic!("no {k}: {info}"))
            .to_string()
    };
    assert_eq!(field("Name"), "pollux");
    assert_eq!(field("Pid"), px.pid().to_string());
    assert_eq!(field("CumReq"), "3");
    assert_eq!(field("Poller"), poller);
    let json = cli(&sock, "show info json");
    assert!(json.contains(&format!("{{\"field\":{{\"pos\":6,\"name\":\"Pid\"}},\"processNum\":1,\"tags\":{{\"origin\":\"Status\",\"nature\":\"Gauge\",\"scope\":\"Process\"}},\"value\":{{\"type\":\"u32\",\"value\":{}}}}}", px.pid())), "{json}");
    let ours = cli(&sock, "show info typed");
    px.stop();
    // Each field HAProxy 2.6 also has: its position, name, tags and type.
    let Some(haproxy) = common::reference::haproxy_26() else {
        return;
    };
    let hp = Launch::new(Some("poll"))
        .program(haproxy)
        .start(&two_servers(&sock, &a, &b, ""));
    let theirs = cli(&sock, "show info typed");
    hp.stop();
    let head = |l: &str| l.rsplit_once(':').map(|(h, _)| h.to_string());
    let theirs: Vec<String> = theirs.lines().filter_map(head).collect();
    let mut shared = 0;
    for l in ours
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(".Poller."))
    {
        let h = head(l).unwrap();
        assert!(theirs.contains(&h), "{h} is not HAProxy's: {theirs:?}");
        shared += 1;
    }
    assert!(shared >= 30, "{ours}");
}

fn set_weight_changes_the_distribution_and_get_weight_reports_it(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &two_servers(&sock, &a, &b, ""));
    assert_eq!(cli(&sock, "get weight be/a"), "2 (initial 2)\n\n");
    assert_eq!(cli(&sock, "set weight be/a 6"), "\n");
    assert_eq!(cli(&sock, "get weight be/a"), "6 (initial 2)\n\n");
    let d = spread(px.addr(0), 40, 1, |_| "/".into());
    assert_eq!((d.get("a"), d.get("b")), (Some(&30), Some(&10)), "{d:?}");
    // A percentage of the configured weight: 50% of 2 is 1.
    assert_eq!(cli(&sock, "set server be/a weight 50%"), "\n");
    assert_eq!(cli(&sock, "get weight be/a"), "1 (initial 2)\n\n");
    let d = spread(px.addr(0), 30, 1, |_| "/".into());
    assert_eq!((d.get("a"), d.get("b")), (Some(&10), Some(&20)), "{d:?}");
    assert!(cli(&sock, "set weight be/a 257").contains("between 0 and 256"));
    px.stop();
}

fn server_states_set_at_run_time_move_traffic(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &two_servers(&sock, &a, &b, ""));
    assert_eq!(cli(&sock, "set server be/a state maint"), "\n");
    let d = spread(px.addr(0), 10, 1, |_| "/".into());
    assert_eq!(d.get("b"), Some(&10), "{d:?}");
    assert_eq!(stat_row(&sock, "a")["status"], "MAINT");
    let state = cli(&sock, "show servers state be");
    let row_a = state
        .lines()
        .find(|l| l.split(' ').nth(3) == Some("a"))
        .expect(&state);
    assert_eq!(
        row_a.split(' ').nth(6),
        Some("1"),
        "srv_admin_state FMAINT: {state}"
    );
    assert_eq!(cli(&sock, "enable server be/a"), "\n");
    let d = spread(px.addr(0), 10, 1, |_| "/".into());
    assert_eq!(d.get("a"), Some(&5), "{d:?}");
    assert_eq!(cli(&sock, "set server be/b state drain"), "\n");
    assert_eq!(stat_row(&sock, "b")["status"], "DRAIN");
    let d = spread(px.addr(0), 10, 1, |_| "/".into());
    assert_eq!(d.get("a"), Some(&10), "{d:?}");
    assert!(cli(&sock, "set server be/zz state ready").starts_with("No such server"));
    px.stop();
}

fn clear_counters_resets_maxima_and_all_resets_totals(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &two_servers(&sock, &a, &b, ""));
    for _ in 0..4 {
        get_ok(px.addr(0), "/", &[]);
    }
    assert_eq!(stat_row(&sock, "FRONTEND")["smax"], "1");
    assert_eq!(cli(&sock, "operator; clear counters"), "\n\n");
    let fe = stat_row(&sock, "FRONTEND");
    assert_eq!((fe["smax"].as_str(), fe["stot"].as_str()), ("0", "4"));
    assert_eq!(
        cli(&sock, "operator; clear counters all"),
        "\nPermission denied\n\n"
    );
    assert_eq!(cli(&sock, "clear counters all"), "\n");
    assert_eq!(stat_row(&sock, "FRONTEND")["stot"], "0");
    px.stop();
}

fn server_states_survive_a_restart_through_the_state_file(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let state = dir.join("servers.state");
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let extra = format!("    server-state-file {}\n", state.display());
    let cfg = two_servers(&sock, &a, &b, &extra).replace(
        "\nbackend be\n",
        "\nbackend be\n    load-server-state-from-file global\n",
    );
    // No state file yet: a warning, and the servers start as configured.
    let px = Pollux::start(poller, &cfg);
    assert_eq!(
        cli(&sock, "set weight be/a 5; set server be/b state maint"),
        "\n\n"
    );
    std::fs::write(&state, cli(&sock, "show servers state")).unwrap();
    px.stop();
    let px = Pollux::start(poller, &cfg);
    assert_eq!(cli(&sock, "get weight be/a"), "5 (initial 2)\n\n");
    assert_eq!(stat_row(&sock, "b")["status"], "MAINT");
    let d = spread(px.addr(0), 6, 1, |_| "/".into());
    assert_eq!(d.get("a"), Some(&6), "{d:?}");
    px.stop();
}

fn add_server_then_ready_takes_traffic_and_del_server_removes_it(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b, c) = (
        LiveServer::start("a"),
        LiveServer::start("b"),
        LiveServer::start("c"),
    );
    let px = Pollux::start(poller, &two_servers(&sock, &a, &b, ""));
    let add = format!("add server be/c {} weight 4", c.addr());
    assert_eq!(cli(&sock, &add), "New server registered.\n\n");
    assert!(cli(&sock, &add).starts_with("Already exists a server"));
    // New servers start in maintenance: no traffic yet.
    assert_eq!(stat_row(&sock, "c")["status"], "MAINT");
    spread(px.addr(0), 8, 1, |_| "/".into());
    assert_eq!(c.count(), 0);
    assert_eq!(cli(&sock, "set server be/c state ready"), "\n");
    let d = spread(px.addr(0), 16, 1, |_| "/".into());
    assert_eq!(d.get("c"), Some(&8), "weight 4 of 8: {d:?}");
    assert_eq!(
        cli(&sock, "del server be/c"),
        "Only servers in maintenance mode can be deleted.\n\n"
    );
    // A client whose last request went to c keeps its connection: the
    // idle server connection to c is closed, the client stays.
    let mut kept = HttpConn::open(px.addr(0));
    let mut last = String::new();
    for _ in 0..16 {
        last = kept.get("/", &[]).server().to_string();
        if last == "c" {
            break;
        }
    }
    assert_eq!(last, "c");
    assert_eq!(
        cli(&sock, "disable server be/c; del server be/c"),
        "\nServer deleted.\n\n"
    );
    let r = kept.get("/", &[]);
    assert_eq!(r.status, 200);
    assert_ne!(r.server(), "c");
    assert!(!cli(&sock, "show stat").contains("\nbe,c,"));
    assert_eq!(cli(&sock, "get weight be/c"), "No such server.\n\n");
    let before = c.count();
    spread(px.addr(0), 8, 1, |_| "/".into());
    assert_eq!(c.count(), before, "a deleted server got traffic");
    // Bad additions are refused with a reason.
    // (A server without a port is valid: it takes the client's, as HAProxy.)
    assert!(cli(&sock, "add server be/d 300.1.2.3:80").contains("300.1.2.3"));
    let bad_inter = cli(&sock, "add server be/d 127.0.0.1:1 check inter soon");
    assert!(bad_inter.contains("inter"), "{bad_inter}");
    assert!(cli(&sock, "add server be/d 127.0.0.1:1 frobnicate").contains("frobnicate"));
    assert_eq!(
        cli(&sock, "add server nope/d 127.0.0.1:1"),
        "No such backend.\n\n"
    );
    // The name is free again.
    assert_eq!(cli(&sock, &add), "New server registered.\n\n");
    px.stop();
}

/// `set server B/S addr IP [port P]`: HAProxy 2.6's answers (checked against
/// Debian's haproxy), new connections go to the new address, and checks
/// follow it (the old address stops answering, the server stays UP).
fn set_server_addr_moves_traffic_and_checks_as_haproxy_answers(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let cfg = format!(
        "global\n    stats socket {} level admin\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    server app {} check inter 100 fall 2 rise 1\n",
        sock.display(),
        http_defaults(),
        a.addr()
    );
    let px = Pollux::start(poller, &cfg);
    assert!(eventually(PATIENCE, || stat_row(&sock, "app")["status"] == "UP"));
    assert_eq!(spread(px.addr(0), 4, 1, |_| "/".into()).get("a"), Some(&4));
    let (pa, pb) = (a.addr().port(), b.addr().port());
    assert_eq!(
        cli(&sock, &format!("set server be/app addr 127.0.0.1 port {pb}")),
        format!("no need to change the addr, port changed from '{pa}' to '{pb}' by 'stats socket command'\n\n")
    );
    let d = spread(px.addr(0), 6, 1, |_| "/".into());
    assert_eq!(d.get("b"), Some(&6), "{d:?}");
    assert_eq!(stat_row(&sock, "app")["addr"], b.addr().to_string());
    // The old address goes away: checks are on the new one, app stays UP.
    drop(a);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(stat_row(&sock, "app")["status"], "UP", "{}", px.logs());
    assert_eq!(
        cli(
            &sock,
            &format!("set server be/app addr 127.0.0.1 port {pb}")
        ),
        "no need to change the addr, no need to change the port by 'stats socket command'\n\n"
    );
    assert_eq!(
        cli(&sock, "set server be/app addr bogus"),
        "Invalid addr 'bogus' by 'stats socket command'\n\n"
    );
    assert_eq!(
        cli(&sock, "set server be/app addr"),
        "set server <b>/<s> addr requires an address and optionally a port.\n\n"
    );
    assert_eq!(
        cli(&sock, "set server be/app addr ::1 port x"),
        "IP changed from '127.0.0.1' to '::1', problem converting port 'x' to an int by 'stats socket command'\n\n"
    );
    assert!(cli(&sock, "set server be/zz addr 127.0.0.1").starts_with("No such server"));
    px.stop();
}

/// `set server B/S health up|down`: the operational state at once, for a
/// checked server (the checks go on from there) and an unchecked one.
fn set_server_health_forces_the_state_with_or_without_checks(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    // a: checks every 10s (none lands during the test after the first); b: none.
    let cfg = format!(
        "global\n    stats socket {} level admin\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    balance roundrobin\n    server a {} check inter 10s rise 1\n    server b {}\n",
        sock.display(),
        http_defaults(),
        a.addr(),
        b.addr()
    );
    let px = Pollux::start(poller, &cfg);
    assert!(eventually(PATIENCE, || stat_row(&sock, "a")["status"] == "UP"));
    assert_eq!(cli(&sock, "set server be/a health down"), "\n");
    assert_eq!(stat_row(&sock, "a")["status"], "DOWN");
    let d = spread(px.addr(0), 6, 1, |_| "/".into());
    assert_eq!(d.get("b"), Some(&6), "{d:?}");
    assert_eq!(cli(&sock, "set server be/a health up"), "\n");
    assert_eq!(stat_row(&sock, "a")["status"], "UP");
    assert_eq!(cli(&sock, "set server be/b health down"), "\n");
    assert_eq!(stat_row(&sock, "b")["status"], "DOWN");
    let d = spread(px.addr(0), 6, 1, |_| "/".into());
    assert_eq!(d.get("a"), Some(&6), "{d:?}");
    assert_eq!(cli(&sock, "set server be/b health up"), "\n");
    assert_eq!(stat_row(&sock, "b")["status"], "no check");
    let d = spread(px.addr(0), 6, 1, |_| "/".into());
    assert_eq!((d.get("a"), d.get("b")), (Some(&3), Some(&3)), "{d:?}");
    assert!(
        px.logs().contains("Server be/b is DOWN, changed from CLI."),
        "{}",
        px.logs()
    );
    assert_eq!(
        cli(&sock, "set server be/a health sideways"),
        "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n"
    );
    assert!(cli(&sock, "set server be/a health stopping").contains("not supported"));
    px.stop();
}

/// As HAProxy 2.6: `add server ... check` registers the check stopped
/// ("no check") until `enable health`; `disable health` stops checks (the
/// server keeps its state), `enable health` resumes them; a server with
/// checks can be deleted once in maintenance.
fn added_server_checks_wait_for_enable_health_and_disable_health_stops_them(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (a, b) = (LiveServer::start("a"), LiveServer::start("b"));
    let px = Pollux::start(poller, &two_servers(&sock, &a, &b, ""));
    // A port nothing listens on: its checks would fail at once.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    assert_eq!(
        cli(
            &sock,
            &format!("add server be/n {dead} check inter 100 fall 1 rise 1")
        ),
        "New server registered.\n\n"
    );
    assert_eq!(cli(&sock, "enable server be/n"), "\n");
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(
        stat_row(&sock, "n")["status"],
        "no check",
        "checks wait for enable health"
    );
    assert_eq!(cli(&sock, "enable health be/n"), "\n");
    assert!(
        eventually(PATIENCE, || stat_row(&sock, "n")["status"] == "DOWN"),
        "enabled checks find nothing at {dead}: {:?}",
        stat_row(&sock, "n")
    );
    assert_eq!(stat_row(&sock, "n")["check_status"], "L4CON");
    let d = spread(px.addr(0), 8, 1, |_| "/".into());
    assert_eq!(
        d.values().sum::<usize>(),
        8,
        "n is DOWN, a and b serve: {d:?}"
    );
    // disable health: no checks, the server stays as it was (DOWN here).
    assert_eq!(cli(&sock, "disable health be/n"), "\n");
    assert_eq!(stat_row(&sock, "n")["status"], "DOWN");
    assert_eq!(stat_row(&sock, "n")["check_status"], "");
    // A server without checks: nothing to stop, no error (as HAProxy).
    assert_eq!(cli(&sock, "disable health be/a"), "\n");
    assert!(cli(&sock, "enable health be/zz").starts_with("No such server"));
    assert_eq!(cli(&sock, "disable server be/n"), "\n");
    assert_eq!(cli(&sock, "del server be/n"), "Server deleted.\n\n");
    assert!(stat_row_absent(&sock, "n"));
    px.stop();
}

fn stat_row_absent(sock: &Path, svname: &str) -> bool {
    !cli(sock, "show stat")
        .lines()
        .any(|l| l.split(',').nth(1) == Some(svname))
}

/// `stats socket "fd@N"` (HAProxy's reg-test runner hands the CLI over this
/// way) and `stats socket ipv4@ADDR:PORT`: the same CLI as on a Unix socket.
fn stats_socket_on_an_inherited_fd_and_on_tcp_serves_the_cli(poller: &str) {
    let a = LiveServer::start("a");
    // Port 0: the kernel picks, we keep the socket; pollux inherits it.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let inherited = l.local_addr().unwrap();
    let cfg = format!(
        "global\n    stats socket \"fd@${{CLI_FD}}\" level admin\n    stats socket ipv4@127.0.0.1:@P1@ level operator\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    server a {}\n",
        http_defaults(),
        a.addr()
    );
    let px = Pollux::launch(poller)
        .inherit_fd(&l)
        .env("CLI_FD", &std::os::fd::AsRawFd::as_raw_fd(&l).to_string())
        .start(&cfg);
    assert_eq!(get_ok(px.addr(0), "/", &[]), "a");
    let info = tcp_cli(inherited, "show info");
    assert!(info.contains(&format!("Pid: {}\n", px.pid())), "{info}");
    // Levels hold on TCP too: the operator socket cannot disable.
    let tcp = px.addr(1);
    assert_eq!(tcp_cli(tcp, "disable frontend fe"), "Permission denied\n\n");
    assert_eq!(tcp_cli(inherited, "disable frontend fe"), "\n");
    let stat = tcp_cli(tcp, "show stat");
    assert!(
        stat.lines()
            .any(|l| l.starts_with("fe,FRONTEND,") && l.contains(",PAUSED,")),
        "{stat}"
    );
    px.stop();
    drop(l);
}

/// A backend with no server at all is UP in `show stat`, as in HAProxy
/// (a stats `listen`, or one that answers with `return`); one whose only
/// server is down is DOWN.
fn a_backend_without_servers_is_up(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let cfg = format!(
        "global\n    stats socket {} level admin\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend empty\n\nbackend empty\n    http-request return status 200\n\nbackend dead\n    server d {}\n",
        sock.display(),
        http_defaults(),
        dead_addr()
    );
    let px = Pollux::start(poller, &cfg);
    let status = |px_name: &str| {
        let csv = cli(&sock, "show stat");
        let cols: Vec<&str> = csv
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("# ")
            .split(',')
            .collect();
        let at = cols.iter().position(|c| *c == "status").unwrap();
        csv.lines()
            .find(|l| l.starts_with(&format!("{px_name},BACKEND,")))
            .map(|l| l.split(',').nth(at).unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(status("empty"), "UP");
    assert_eq!(cli(&sock, "set server dead/d health down"), "\n");
    assert_eq!(status("dead"), "DOWN");
    px.stop();
}
