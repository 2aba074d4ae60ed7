//! The command line (HAProxy's): -vv, --poller, -de/-dp, -c, -d/-V, signals,
//! -D/-p, -f DIR, --, --help, unknown flags.

mod common;

use common::*;
use std::fs;
use std::net::SocketAddr;

/// A complete, valid config: frontend on `port`, backend to `server`.
fn valid_cfg(port: u16, server: SocketAddr, global_extra: &str) -> String {
    format!(
        "global\n    maxconn 100\n{global_extra}\n{}\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\nbackend be\n    server s1 {server}\n",
        tcp_defaults()
    )
}

fn report() -> &'static PollerReport {
    vv_report().as_ref().unwrap_or_else(|e| panic!("{e}"))
}

/// The backend pollux should pick when `disabled` are turned off: the usable one
/// with the highest preference.
fn expected_choice(disabled: &[&str]) -> Option<String> {
    let mut usable: Vec<&PollerEntry> = report()
        .entries
        .iter()
        .filter(|e| e.test_ok && e.pref.is_some() && !disabled.contains(&e.name.as_str()))
        .collect();
    usable.sort_by_key(|e| std::cmp::Reverse(e.pref));
    usable.first().map(|e| e.name.clone())
}

#[test]
fn vv_prints_version_target_and_a_consistent_poller_block() {
    let dir = TestDir::new("vv");
    let out = run_pollux(&dir, &["-vv"], &[]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(
        out.stdout.contains(env!("CARGO_PKG_VERSION")),
        "no version in -vv:\n{out}"
    );
    assert!(
        out.stdout.contains(std::env::consts::ARCH),
        "no build target (arch) in -vv:\n{out}"
    );
    assert!(
        out.stdout.contains(std::env::consts::OS),
        "no build target (os) in -vv:\n{out}"
    );
    let r = parse_poller_block(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert!(!r.entries.is_empty(), "no poller listed");
    assert_eq!(
        r.total,
        r.entries.len(),
        "Total does not count the lines above it:\n{}",
        r.lines.join("\n")
    );
    assert_eq!(
        r.usable,
        r.entries.iter().filter(|e| e.test_ok).count(),
        "usable count:\n{}",
        r.lines.join("\n")
    );
    for e in &r.entries {
        let pref = e.pref.expect("no poller is disabled without -d flags");
        let line = format!(
            "{:>11} : pref={pref:>3},  test result {}",
            e.name,
            if e.test_ok { "OK" } else { "FAILED" }
        );
        assert!(
            r.lines.contains(&line),
            "expected line {line:?} in:\n{}",
            r.lines.join("\n")
        );
    }
    let prefs: Vec<u32> = r.entries.iter().filter_map(|e| e.pref).collect();
    assert!(
        prefs.windows(2).all(|w| w[0] >= w[1]),
        "not listed by preference: {prefs:?}"
    );
    assert_eq!(
        Some(r.will_use.clone()),
        expected_choice(&[]),
        "will use:\n{}",
        r.lines.join("\n")
    );
}

#[cfg(target_os = "linux")]
#[test]
fn vv_on_linux_lists_epoll_poll_select_exactly() {
    let dir = TestDir::new("vv");
    let out = run_pollux(&dir, &["-vv"], &[]);
    let expected = "Available polling systems :\n      epoll : pref=300,  test result OK\n       poll : pref=200,  test result OK\n     select : pref=150,  test result OK\nTotal: 3 (3 usable), will use epoll.\n";
    assert!(
        out.stdout.contains(expected),
        "expected block:\n{expected}\nin:\n{out}"
    );
}

/// HAProxy's scripts/run-regtests.sh reads `-vv` with this pipeline; the
/// version it finds gates tests (REQUIRE_VERSION), the features skip those
/// pollux cannot run (REQUIRE_OPTIONS).
#[test]
fn vv_answers_haproxys_regtest_runner() {
    let sh = format!(
        "'{}' -vv | grep 'HA-\\?Proxy version\\|TARGET.*=\\|^Feature\\|^Available services' | sed 's/.* [:=] //'",
        pollux_bin()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &sh])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0].split(' ').nth(2), Some("2.6.12"), "{text}");
    #[cfg(target_os = "linux")]
    assert_eq!(lines[1], "linux-glibc");
    assert!(
        lines[2].contains("-OPENSSL") && lines[2].contains("-LUA"),
        "{text}"
    );
    assert_eq!(lines[3], "prometheus-exporter");
    // pollux's own name and version stay first.
    let dir = TestDir::new("vv-name");
    let vv = run_pollux(&dir, &["-vv"], &[]);
    assert!(
        vv.stdout
            .starts_with(&format!("pollux version {}\n", env!("CARGO_PKG_VERSION"))),
        "{vv}"
    );
}

/// `-cc EXPR`: HAProxy's exit codes, 0 true, 1 false, 2 unparsable.
#[test]
fn cc_evaluates_a_condition_with_haproxys_exit_codes() {
    let dir = TestDir::new("cc");
    for (expr, code) in [
        ("version_atleast(2.5-dev0)", 0),
        ("version_atleast(2.7)", 1),
        ("feature(POLL) && !feature(OPENSSL)", 0),
        ("feature(OPENSSL) && ssllib_name_startswith(OpenSSL)", 1),
        ("defined(POLLUX_CC_SET) && streq(\"$POLLUX_CC_SET\",yes)", 0),
        ("defined(POLLUX_CC_UNSET)", 1),
        ("version_atleast(", 2),
        ("frobnicate(1)", 2),
    ] {
        let out = run_pollux(&dir, &["-cc", expr], &[("POLLUX_CC_SET", "yes")]);
        assert_eq!(out.code(), Some(code), "-cc '{expr}': {out}");
        if code == 2 {
            assert!(out.stderr.contains("failed to evaluate condition"), "{out}");
        }
    }
}

/// What the runner passes to every process: -dM, -L NAME, -m MB, -de.
#[test]
fn regtest_runner_flags_are_accepted_and_take_effect() {
    let dir = TestDir::new("runner-flags");
    let server: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let cfg = dir.write(
        "a.cfg",
        &format!(
            "global\n  .if streq(\"$HAPROXY_LOCALPEER\",peerA)\n  .warning \"local peer is peerA\"\n  .endif\n{}",
            valid_cfg(free_port(), server, "").split_once('\n').unwrap().1
        ),
    );
    let out = run_pollux(
        &dir,
        &[
            "-dM",
            "-de",
            "-m",
            "64",
            "-L",
            "peerA",
            "-c",
            "-f",
            cfg.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.all().contains("local peer is peerA"), "{out}");
    let out = run_pollux(
        &dir,
        &["-m", "lots", "-c", "-f", cfg.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.all().contains("megabytes"), "{out}");
}

#[test]
fn v_prints_the_version() {
    let dir = TestDir::new("v");
    let out = run_pollux(&dir, &["-v"], &[]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn help_exits_0_with_usage() {
    let dir = TestDir::new("help");
    let out = run_pollux(&dir, &["--help"], &[]);
    assert_eq!(out.code(), Some(0), "{out}");
    for flag in ["-f", "-c", "-db", "--poller"] {
        assert!(
            out.all().contains(flag),
            "usage does not mention {flag}:\n{out}"
        );
    }
}

#[test]
fn unknown_flag_exits_1_naming_it() {
    let dir = TestDir::new("badflag");
    let out = run_pollux(&dir, &["--frobnicate"], &[]);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.all().contains("frobnicate"), "{out}");
}

#[test]
fn unknown_poller_exits_1_listing_usable_ones() {
    let dir = TestDir::new("poller");
    let cfg = dir.write("ok.cfg", &valid_cfg(free_port(), dead_addr(), ""));
    let out = run_pollux(
        &dir,
        &["-f", cfg.to_str().unwrap(), "-db", "--poller", "frobnicate"],
        &[],
    );
    assert_eq!(out.code(), Some(1), "{out}");
    let usable = report().usable_names().join(", ");
    assert!(out.all().contains("--poller frobnicate"), "{out}");
    assert!(
        out.all().contains(&format!("(usable: {usable})")),
        "expected '(usable: {usable})' in:\n{out}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn kqueue_poller_on_linux_exits_1_not_available() {
    let dir = TestDir::new("poller");
    let cfg = dir.write("ok.cfg", &valid_cfg(free_port(), dead_addr(), ""));
    let out = run_pollux(
        &dir,
        &["-f", cfg.to_str().unwrap(), "-db", "--poller", "kqueue"],
        &[],
    );
    assert_eq!(out.code(), Some(1), "{out}");
    let msg = "--poller kqueue: not available on linux (usable: epoll, poll, select)";
    assert!(out.all().contains(msg), "expected {msg:?} in:\n{out}");
}

#[test]
fn disabling_flags_change_the_vv_choice() {
    let dir = TestDir::new("vv");
    for flags in [&["-de"][..], &["-dp"], &["-de", "-dp"], &["-dk", "-dv"]] {
        let disabled: Vec<&str> = flags
            .iter()
            .map(|f| match *f {
                "-de" => "epoll",
                "-dp" => "poll",
                "-dk" => "kqueue",
                _ => "evports",
            })
            .collect();
        let Some(expect) = expected_choice(&disabled) else {
            continue;
        };
        let mut args = flags.to_vec();
        args.push("-vv");
        let out = run_pollux(&dir, &args, &[]);
        assert_eq!(out.code(), Some(0), "{out}");
        let r = parse_poller_block(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.will_use, expect, "pollux {}", args.join(" "));
    }
}

/// Start with `-d` (plus `args`, config with `global_extra`) and return the
/// backend named in `Using X() as the polling mechanism.`.
fn chosen_at_startup(mode: &[&str], args: &[&str], global_extra: &str) -> String {
    let echo = TestServer::echo();
    let cfg = valid_cfg(0, echo.addr(), global_extra).replace("127.0.0.1:0", "127.0.0.1:@P0@");
    let px = Launch::new(None).mode(mode).args(args).start(&cfg);
    assert!(
        px.wait_stdout("as the polling mechanism."),
        "no 'Using X() as the polling mechanism.' line\n{}",
        px.logs()
    );
    let out = px.stdout();
    let line = out
        .lines()
        .find(|l| l.contains("as the polling mechanism."))
        .unwrap()
        .to_string();
    px.stop();
    let name = line
        .trim()
        .strip_prefix("Using ")
        .and_then(|r| r.strip_suffix("() as the polling mechanism."))
        .unwrap_or_else(|| panic!("malformed line {line:?}"));
    name.to_string()
}

#[test]
fn debug_mode_announces_the_default_poller() {
    init();
    assert_eq!(
        Some(chosen_at_startup(&["-d"], &[], "")),
        expected_choice(&[])
    );
}

#[test]
fn de_flag_changes_the_poller_used() {
    init();
    let Some(expect) = expected_choice(&["epoll"]) else {
        return;
    };
    assert_eq!(chosen_at_startup(&["-d"], &["-de"], ""), expect);
}

#[test]
fn noepoll_in_global_changes_the_poller_used() {
    init();
    let Some(expect) = expected_choice(&["epoll"]) else {
        return;
    };
    assert_eq!(chosen_at_startup(&["-d"], &[], "    noepoll"), expect);
}

#[test]
fn noepoll_and_nopoll_in_global_leave_select() {
    init();
    let Some(expect) = expected_choice(&["epoll", "poll", "kqueue", "evports"]) else {
        return;
    };
    assert_eq!(
        chosen_at_startup(
            &["-d"],
            &[],
            "    noepoll\n    nopoll\n    nokqueue\n    noevports"
        ),
        expect
    );
}

#[test]
fn check_mode_valid_config() {
    let dir = TestDir::new("check");
    let cfg = dir.write("ok.cfg", &valid_cfg(free_port(), dead_addr(), ""));
    let out = run_pollux(&dir, &["-c", "-f", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(0), "{out}");
    assert!(out.stdout.contains("Configuration file is valid"), "{out}");
}

#[test]
fn check_mode_invalid_config_exits_1_with_file_and_line() {
    let dir = TestDir::new("check");
    let text = valid_cfg(free_port(), dead_addr(), "").replace(
        "    default_backend be\n",
        "    default_backend be\n    frobnicate on\n",
    );
    let line = text.lines().position(|l| l.contains("frobnicate")).unwrap() + 1;
    let cfg = dir.write("bad.cfg", &text);
    let out = run_pollux(&dir, &["-c", "-f", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(
        out.all().contains(&format!("bad.cfg:{line}:")),
        "expected bad.cfg:{line}: in\n{out}"
    );
    assert!(!out.stdout.contains("Configuration file is valid"), "{out}");
}

#[test]
fn config_error_in_run_mode_exits_1_and_starts_nothing() {
    let dir = TestDir::new("run");
    let port = free_port();
    let text = valid_cfg(port, dead_addr(), "")
        .replace("    server s1", "    frobnicate on\n    server s1");
    let cfg = dir.write("bad.cfg", &text);
    let out = run_pollux(&dir, &["-f", cfg.to_str().unwrap(), "-db"], &[]);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.all().contains("bad.cfg:"), "{out}");
}

#[test]
fn several_f_and_double_dash_files_make_one_config() {
    let dir = TestDir::new("files");
    let front = format!(
        "{}\nfrontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n",
        tcp_defaults(),
        free_port()
    );
    let a = dir.write("front.cfg", &front);
    let b = dir.write(
        "back.cfg",
        &format!("backend be\n    server s1 {}\n", dead_addr()),
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    for args in [vec!["-c", "-f", a, "-f", b], vec!["-c", "--", a, b]] {
        let out = run_pollux(&dir, &args, &[]);
        assert_eq!(out.code(), Some(0), "pollux {}\n{out}", args.join(" "));
        assert!(out.stdout.contains("Configuration file is valid"), "{out}");
    }
    // Alone, the frontend's backend is missing: so both files were really read.
    let out = run_pollux(&dir, &["-c", "-f", a], &[]);
    assert_eq!(out.code(), Some(1), "{out}");
}

#[test]
fn f_dir_loads_its_cfg_files_in_lexical_order() {
    let dir = TestDir::new("dir");
    let conf = dir.join("conf.d");
    // Created out of order; lexical order is 10-front, 20-back, 9-dup.
    dir.write(
        "conf.d/9-dup.cfg",
        "listen twice\n    bind 127.0.0.1:1\n    server s 127.0.0.1:2\n",
    );
    dir.write(
        "conf.d/20-back.cfg",
        &format!("backend be\n    server s1 {}\n", dead_addr()),
    );
    dir.write(
        "conf.d/10-front.cfg",
        &format!(
            "{}\nfrontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\nlisten twice\n    bind 127.0.0.1:3\n    server s 127.0.0.1:4\n",
            tcp_defaults(),
            free_port()
        ),
    );
    dir.write("conf.d/notes.txt", "this is not a config file\n");
    let out = run_pollux(&dir, &["-c", "-f", conf.to_str().unwrap()], &[]);
    assert_eq!(
        out.code(),
        Some(1),
        "duplicate proxy 'twice' must be an error\n{out}"
    );
    // The second declaration (in lexical order) is the one reported.
    let all = out.all();
    let err_lines: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("twice"))
        .map(str::trim)
        .collect::<Vec<_>>();
    assert!(
        err_lines.iter().any(|l| l.contains("9-dup.cfg:1:")),
        "expected the error at 9-dup.cfg:1:\n{out}"
    );
    assert!(
        !out.all().contains("notes.txt"),
        "a non-.cfg file was read:\n{out}"
    );
    // Without the duplicate, the directory is one valid config.
    fs::remove_file(conf.join("9-dup.cfg")).unwrap();
    let out = run_pollux(&dir, &["-c", "-f", conf.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(0), "{out}");
}

per_poller!(
    debug_mode_names_the_forced_poller,
    verbose_flag_names_the_forced_poller,
    sigterm_stops_with_status_0,
    sigint_stops_with_status_0,
    sigterm_in_debug_mode_stops_with_status_0,
);

fn debug_mode_names_the_forced_poller(poller: &str) {
    assert_eq!(
        chosen_at_startup(&["-d"], &["--poller", poller], ""),
        poller
    );
}

fn verbose_flag_names_the_forced_poller(poller: &str) {
    assert_eq!(
        chosen_at_startup(&["-db", "-V"], &["--poller", poller], ""),
        poller
    );
}

/// Serve one client (left open) and stop with `sig`: exit status 0.
fn stops_cleanly(poller: &str, mode: &[&str], sig: i32) {
    let echo = TestServer::echo();
    let cfg = valid_cfg(0, echo.addr(), "").replace("127.0.0.1:0", "127.0.0.1:@P0@");
    let mut px = Pollux::launch(poller).mode(mode).start(&cfg);
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"before the signal");
    assert!(px.is_running());
    px.stop_with(sig);
    assert_closed(&mut c, "client of a stopped pollux");
}

fn sigterm_stops_with_status_0(poller: &str) {
    stops_cleanly(poller, &["-db"], libc::SIGTERM);
}

fn sigint_stops_with_status_0(poller: &str) {
    stops_cleanly(poller, &["-db"], libc::SIGINT);
}

fn sigterm_in_debug_mode_stops_with_status_0(poller: &str) {
    stops_cleanly(poller, &["-d"], libc::SIGTERM);
}

#[cfg(target_os = "linux")]
#[test]
fn daemon_mode_writes_its_pid_and_serves() {
    init();
    let dir = TestDir::new("daemon");
    let echo = TestServer::echo();
    let port = free_port();
    let cfg = dir.write("d.cfg", &valid_cfg(port, echo.addr(), ""));
    let pidfile = dir.join("pollux.pid");
    let out = run_pollux(
        &dir,
        &[
            "-D",
            "-p",
            pidfile.to_str().unwrap(),
            "-f",
            cfg.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(
        out.code(),
        Some(0),
        "the launching process should exit 0 once the daemon runs\n{out}"
    );
    assert!(
        eventually(PATIENCE, || read_pid(&pidfile).is_some()),
        "no pid in {}\n{out}",
        pidfile.display()
    );
    let pid = read_pid(&pidfile).unwrap();
    // Kills the daemon if the test fails midway (only if it is still ours).
    let mut guard = Daemons::tagged(cfg.to_str().unwrap());
    guard.pids.push(pid);
    assert!(
        guard.ours(pid),
        "pid {pid} from the pidfile is not a running pollux with our config"
    );
    assert!(
        eventually(PATIENCE, || listening_ports_of(pid as u32)
            .is_some_and(|p| p.contains(&port))),
        "daemon {pid} does not listen on {port}"
    );
    let mut c = connect(SocketAddr::from(([127, 0, 0, 1], port)));
    roundtrip(&mut c, b"served by the daemon");
    // kill(2) on the daemon's pid, checked to be ours above.
    send_signal(pid, libc::SIGTERM);
    assert!(
        eventually(PATIENCE, || !process_alive(pid)),
        "daemon {pid} still alive after SIGTERM"
    );
    drop(guard);
}

/// `-m MB` caps the address space as HAProxy does, and pollux still serves
/// under it.
#[cfg(target_os = "linux")]
#[test]
fn m_caps_the_address_space_and_pollux_serves_under_it() {
    let echo = TestServer::echo();
    let px = Launch::new(None)
        .mode(&["-db", "-m", "256"])
        .start(&format!(
            "{}\nlisten px\n    bind 127.0.0.1:@P0@\n    server s1 {}\n",
            tcp_defaults(),
            echo.addr()
        ));
    let limits = fs::read_to_string(format!("/proc/{}/limits", px.pid())).unwrap();
    assert!(
        limits
            .lines()
            .any(|l| l.starts_with("Max address space") && l.contains("268435456")),
        "{limits}"
    );
    let mut c = connect(px.addr(0));
    roundtrip(&mut c, b"under a memory cap");
    px.stop();
}

/// OS errors read as HAProxy's (`No such file or directory`), without
/// Rust's `(os error N)`.
#[test]
fn os_errors_are_plain_text() {
    let dir = TestDir::new("oserr");
    let echo = TestServer::echo();
    let cfg = dir.write("o.cfg", &valid_cfg(free_port(), echo.addr(), ""));
    let bad = dir.join("no/such/dir/pollux.pid");
    let out = run_pollux(
        &dir,
        &["-p", bad.to_str().unwrap(), "-f", cfg.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        out.all().contains("No such file or directory") && !out.all().contains("(os error"),
        "{}",
        out.all()
    );
}
