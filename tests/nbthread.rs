//! `nbthread N` (global): N event-loop threads in one process, each with its
//! own listening socket (SO_REUSEPORT) so that the kernel spreads new
//! connections over them. Seen from outside: the config checks that go with
//! it, `show info` and `show activity`, the spread itself, and everything
//! that must stay one per process however many threads serve: stats totals,
//! server states set on the CLI or by health checks, stick tables, server
//! `maxconn`, soft stop and reload.
//!
//! Most tests send their requests on new connections (`Connection: close`),
//! several at once, so that both threads take part: with 2 threads and 50+
//! connections, one thread getting none is a 2^-49 chance.

mod common;

use common::*;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::Duration;

per_poller!(
    nbthread_outside_1_to_64_is_a_config_error,
    observe_layer4_with_several_threads_is_a_config_error,
    server_maxconn_below_the_thread_count_is_a_config_error,
    two_threads_run_in_one_process_and_show_in_show_info_and_show_activity,
    nbthread_64_runs_64_threads_that_serve,
    new_connections_are_spread_over_every_threads_listener,
    stats_are_process_totals_across_threads,
    disable_server_on_the_cli_applies_to_every_thread,
    a_health_check_result_applies_to_every_thread,
    stick_table_entries_are_shared_between_threads,
    server_maxconn_holds_across_threads,
    soft_stop_lets_requests_in_flight_on_every_thread_finish,
    reloads_under_load_with_two_threads_lose_nothing,
    classic_reloads_under_load_with_two_threads_keep_both_sockets,
    show_sess_and_shutdown_session_reach_every_thread,
    keep_alive_requests_take_no_process_wide_lock,
);

/// How long threads may take to publish their counters (each does at the end
/// of its loop iteration) or to agree on a state: a bound, not a speed claim.
const SETTLE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------
// Configs and the runtime API.

/// `nbthread THREADS` and an admin stats socket at `sock`; HTTP defaults;
/// frontend `fe` on @P0@ to backend `be` (round robin, then `lines`, then one
/// `server NAME ADDR OPTS` per entry); then the `extra` sections.
fn cfg(
    threads: usize,
    sock: &Path,
    lines: &[&str],
    servers: &[(&LiveServer, &str)],
    extra: &str,
) -> String {
    let mut c = format!(
        "global\n    nbthread {threads}\n    maxconn 2000\n    stats socket {} level admin\n\n{}    timeout queue 10s\n\nfrontend fe\n    bind 127.0.0.1:@P0@\n    default_backend be\n\nbackend be\n    balance roundrobin\n",
        sock.display(),
        http_defaults()
    );
    for l in lines {
        c.push_str(&format!("    {l}\n"));
    }
    for (s, opts) in servers {
        c.push_str(&format!("    server {} {} {opts}\n", s.name(), s.addr()));
    }
    c.push_str(extra);
    c
}

/// The value of `Key: value` in `show info`.
fn info_field(sock: &Path, key: &str) -> String {
    let info = cli(sock, "show info");
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no '{key}:' line in show info:\n{info}"))
        .to_string()
}

/// `show activity`: its first line `thread_id: K (1..N)` as (K, N), and each
/// `NAME: TOTAL [ T1 T2 ... ]` line as NAME -> (TOTAL, [T1, T2, ...]).
#[derive(Debug)]
struct Activity {
    thread_id: (usize, usize),
    counters: HashMap<String, (u64, Vec<u64>)>,
    text: String,
}

impl Activity {
    /// The (total, per-thread values) of `name`; panics if absent.
    fn get(&self, name: &str) -> (u64, Vec<u64>) {
        self.counters
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no '{name}: TOTAL [ ... ]' line in:\n{}", self.text))
    }
}

fn parse_activity(text: &str) -> Result<Activity, String> {
    let first = text.lines().next().unwrap_or("");
    let id = first
        .strip_prefix("thread_id:")
        .ok_or_else(|| format!("first line is not 'thread_id: K (1..N)': {first:?}"))?;
    let bad_id = || format!("bad thread_id line {first:?}");
    let (k, range) = id.trim().split_once(' ').ok_or_else(bad_id)?;
    let (one, n) = range
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.split_once(".."))
        .ok_or_else(bad_id)?;
    if one != "1" {
        return Err(bad_id());
    }
    let thread_id = (
        k.parse().map_err(|_| bad_id())?,
        n.parse().map_err(|_| bad_id())?,
    );
    let mut counters = HashMap::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let Some((total, per)) = rest.trim().split_once('[') else {
            continue;
        };
        let Some(per) = per.trim().strip_suffix(']') else {
            continue;
        };
        let Ok(total) = total.trim().parse::<u64>() else {
            continue;
        };
        let Ok(per) = per
            .split_whitespace()
            .map(str::parse::<u64>)
            .collect::<Result<Vec<u64>, _>>()
        else {
            continue;
        };
        counters.insert(name.trim().to_string(), (total, per));
    }
    Ok(Activity {
        thread_id,
        counters,
        text: text.to_string(),
    })
}

fn show_activity(sock: &Path) -> Activity {
    let text = cli(sock, "show activity");
    parse_activity(&text).unwrap_or_else(|e| panic!("show activity: {e}\n{text}"))
}

/// The `status` column of server `be/NAME` in `show stat`.
fn server_status(sock: &Path, name: &str) -> String {
    csv_field(&show_stat(sock), &format!("be/{name}"), "status")
}

// ---------------------------------------------------------------------------
// Clients and the process seen through /proc.

/// `n` GETs of `path`, each on a new connection, from `clients` threads at
/// once; how many 200s each server gave. Any other outcome panics, listed.
fn fresh_gets(addr: SocketAddr, n: usize, clients: usize, path: &str) -> HashMap<String, usize> {
    let handles: Vec<_> = (0..clients)
        .map(|t| {
            let path = path.to_string();
            thread::spawn(move || {
                (t..n)
                    .step_by(clients)
                    .map(|_| try_get(addr, &path, &[]))
                    .collect::<Vec<Got>>()
            })
        })
        .collect();
    let mut counts = HashMap::new();
    let mut bad = Vec::new();
    for h in handles {
        for got in h.join().expect("client thread") {
            match got {
                Ok((200, srv)) => *counts.entry(srv).or_insert(0) += 1,
                other => bad.push(other),
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {n} GET {path} on new connections failed: {:?}",
        bad.len(),
        bad.iter().take(5).collect::<Vec<_>>()
    );
    counts
}

/// How many threads process `pid` has (/proc/PID/task); None without /proc.
fn task_count(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/task")).ok()?.count())
}

// ---------------------------------------------------------------------------
// Config checks.

/// A config with `global_lines` and one server `s1` with `server_opts`,
/// checked by `pollux -c`: the output and the file's name.
fn check(poller: &str, global_lines: &str, server_opts: &str) -> (String, RunOutput) {
    let dir = TestDir::new("nbcheck");
    let text = check_text(global_lines, server_opts);
    let path = dir.write("nb.cfg", &text);
    let out = run_pollux(
        &dir,
        &["-c", "--poller", poller, "-f", path.to_str().unwrap()],
        &[],
    );
    (text, out)
}

fn check_text(global_lines: &str, server_opts: &str) -> String {
    format!(
        "global\n{global_lines}defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:8000\n    default_backend be\nbackend be\n    server s1 127.0.0.1:9000 {server_opts}\n"
    )
}

/// The 1-based line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
        + 1
}

/// Exit status 1 and an `nb.cfg:LINE:` error naming every one of
/// `fragments`, LINE being that of one of the lines containing `needles`.
fn assert_rejected(
    poller: &str,
    global_lines: &str,
    server_opts: &str,
    needles: &[&str],
    fragments: &[&str],
) {
    let (text, out) = check(poller, global_lines, server_opts);
    let lines: Vec<usize> = needles.iter().map(|n| line_of(&text, n)).collect();
    let all = out.all();
    // The message after `nb.cfg:LINE:` (the path before it holds the test's name).
    let hit = all.lines().any(|l| {
        lines.iter().any(|n| {
            l.split_once(&format!("nb.cfg:{n}:"))
                .is_some_and(|(_, msg)| fragments.iter().all(|f| msg.contains(f)))
        })
    });
    assert!(
        out.code() == Some(1) && !out.stdout.contains("Configuration file is valid") && hit,
        "expected exit 1 and an 'nb.cfg:LINE: ...' error naming {fragments:?}, LINE one of {lines:?}\n--- config ---\n{text}--- output ---\n{out}"
    );
}

fn assert_accepted(poller: &str, global_lines: &str, server_opts: &str) {
    let (text, out) = check(poller, global_lines, server_opts);
    assert!(
        out.code() == Some(0) && out.stdout.contains("Configuration file is valid"),
        "expected a valid config\n--- config ---\n{text}--- output ---\n{out}"
    );
}

fn nbthread_outside_1_to_64_is_a_config_error(poller: &str) {
    for n in [0, 65] {
        assert_rejected(
            poller,
            &format!("    nbthread {n}\n"),
            "",
            &["nbthread"],
            &["nbthread"],
        );
    }
    for n in [1, 2, 64] {
        assert_accepted(poller, &format!("    nbthread {n}\n"), "");
    }
}

/// `observe layer4` counts a server's failures where they happen: one
/// thread's view only, so it is refused with several threads.
fn observe_layer4_with_several_threads_is_a_config_error(poller: &str) {
    // The error may point at the server or at `nbthread`; it names both
    // keywords (a bare "nbthread > 1 not supported" would not do).
    assert_rejected(
        poller,
        "    nbthread 2\n",
        "check observe layer4",
        &["server s1", "nbthread"],
        &["nbthread", "observe"],
    );
    assert_accepted(poller, "    nbthread 1\n", "check observe layer4");
}

/// Limits are divided equally among the threads: each must get at least 1.
fn server_maxconn_below_the_thread_count_is_a_config_error(poller: &str) {
    for (threads, maxconn) in [(2, 1), (4, 3)] {
        assert_rejected(
            poller,
            &format!("    nbthread {threads}\n"),
            &format!("maxconn {maxconn}"),
            &["server s1", "nbthread"],
            &["nbthread", "maxconn"],
        );
    }
    for (threads, maxconn) in [(2, 2), (1, 1), (4, 4)] {
        assert_accepted(
            poller,
            &format!("    nbthread {threads}\n"),
            &format!("maxconn {maxconn}"),
        );
    }
}

// ---------------------------------------------------------------------------
// Threads, listeners and the runtime API.

fn two_threads_run_in_one_process_and_show_in_show_info_and_show_activity(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (s1, s2) = (LiveServer::start("s1"), LiveServer::start("s2"));
    let px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, ""), (&s2, "")], ""));
    let d = fresh_gets(px.addr(0), 20, 2, "/");
    assert_eq!(d.values().sum::<usize>(), 20, "{d:?}");
    if let Some(n) = task_count(px.pid()) {
        assert!(n >= 2, "{n} task(s) in /proc/{}/task", px.pid());
    }
    assert_eq!(info_field(&sock, "Nbthread"), "2");
    let act = show_activity(&sock);
    let (k, n) = act.thread_id;
    assert!(
        n == 2 && (1..=2).contains(&k),
        "thread_id {k} (1..{n}):\n{}",
        act.text
    );
    for name in ["accepted", "loops"] {
        let (_, per) = act.get(name);
        assert_eq!(per.len(), 2, "{name}: one value per thread:\n{}", act.text);
    }
    assert!(act.get("loops").0 > 0, "{}", act.text);
    // Accepted connections are counted once, on the thread that took them.
    assert!(
        eventually(SETTLE, || {
            let (total, per) = show_activity(&sock).get("accepted");
            total == per.iter().sum::<u64>() && total >= 20
        }),
        "accepted: the total is the sum of the threads' and counts the 20 connections:\n{}",
        show_activity(&sock).text
    );
    px.stop();
}

/// `show activity`'s `process_locks`: locks taken on process-wide mutexes.
fn process_locks(sock: &Path) -> u64 {
    let text = cli(sock, "show activity");
    text.lines()
        .find_map(|l| l.strip_prefix("process_locks:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no 'process_locks: N' line in show activity:\n{text}"))
}

/// Each loop owns its counters: keep-alive requests through a real server
/// lock nothing process-wide, with one thread or two; `show errors` (the
/// kept messages are the process's) shows the count does move.
fn keep_alive_requests_take_no_process_wide_lock(poller: &str) {
    for threads in [1, 2] {
        let dir = SockDir::new();
        let sock = dir.sock();
        let s1 = LiveServer::start("s1");
        let px = Pollux::start(poller, &cfg(threads, &sock, &[], &[(&s1, "")], ""));
        let mut c = HttpConn::open(px.addr(0));
        assert_eq!(
            c.get("/", &[]).status,
            200,
            "nbthread {threads}: first request"
        );
        let before = process_locks(&sock);
        for i in 0..50 {
            let r = c.get(&format!("/{i}"), &[]);
            assert_eq!(r.status, 200, "nbthread {threads}: request {i}: {r}");
        }
        let after = process_locks(&sock);
        assert_eq!(
            after,
            before,
            "nbthread {threads}: 50 keep-alive requests took {} process-wide locks",
            after - before
        );
        cli(&sock, "show errors");
        let control = process_locks(&sock);
        assert!(
            control > after,
            "nbthread {threads}: show errors locks the kept errors, yet process_locks stayed {after}"
        );
        assert_eq!(s1.count(), 51, "nbthread {threads}");
        px.stop();
    }
}

/// `show sess` lists the sessions of every thread, and `shutdown session`
/// closes one whichever thread holds it (the id's top byte names it).
fn show_sess_and_shutdown_session_reach_every_thread(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let s1 = LiveServer::start("s1");
    let px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, "")], ""));
    // Idle client connections (no request yet): a session each.
    let conns: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(px.addr(0)).expect("connect"))
        .collect();
    let ports: HashSet<u16> = conns
        .iter()
        .map(|c| c.local_addr().unwrap().port())
        .collect();
    // (id, client port) of each of our sessions.
    let ours = |text: &str| -> Vec<(String, u16)> {
        text.lines()
            .filter_map(|l| {
                let id = l.split(':').next()?.to_string();
                let src = l.split_whitespace().find_map(|w| w.strip_prefix("src="))?;
                let port: u16 = src.rsplit(':').next()?.parse().ok()?;
                ports.contains(&port).then_some((id, port))
            })
            .collect()
    };
    let mut listed = Vec::new();
    assert!(
        eventually(SETTLE, || {
            listed = ours(&cli(&sock, "show sess"));
            listed.len() == conns.len()
        }),
        "show sess lists all 40 connections:\n{}",
        cli(&sock, "show sess")
    );
    let thread_of = |id: &str| {
        let v = u64::from_str_radix(id.trim_start_matches("0x"), 16).expect("hex id");
        v >> 56
    };
    let threads: HashSet<u64> = listed.iter().map(|(id, _)| thread_of(id)).collect();
    assert_eq!(
        threads,
        HashSet::from([0, 1]),
        "both threads hold sessions: {listed:?}"
    );
    // One session of each thread: shut down, and its client sees the close.
    for t in [0, 1] {
        let (id, port) = listed
            .iter()
            .find(|(id, _)| thread_of(id) == t)
            .expect("a session of that thread")
            .clone();
        let one = cli(&sock, &format!("show sess {id}"));
        assert!(one.contains(&format!(":{port} ")), "show sess {id}: {one}");
        let out = cli(&sock, &format!("shutdown session {id}"));
        assert!(out.trim().is_empty(), "shutdown session {id}: {out}");
        let mut c = conns
            .iter()
            .find(|c| c.local_addr().unwrap().port() == port)
            .unwrap()
            .try_clone()
            .unwrap();
        c.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut b = [0u8; 64];
        assert!(
            matches!(c.read(&mut b), Ok(0) | Err(_)),
            "session {id} (thread {t}) closed"
        );
    }
    assert!(
        eventually(SETTLE, || ours(&cli(&sock, "show sess")).len()
            == conns.len() - 2),
        "two sessions fewer:\n{}",
        cli(&sock, "show sess")
    );
    // A well-formed id that names no session, on thread 1.
    let out = cli(&sock, "shutdown session 0x100000000fffff0");
    assert!(out.contains("No such session"), "{out}");
    drop(conns);
    px.stop();
}

fn nbthread_64_runs_64_threads_that_serve(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let s1 = LiveServer::start("s1");
    let px = Pollux::start(poller, &cfg(64, &sock, &[], &[(&s1, "")], ""));
    if let Some(n) = task_count(px.pid()) {
        assert!(n >= 64, "{n} task(s) in /proc/{}/task", px.pid());
    }
    assert_eq!(info_field(&sock, "Nbthread"), "64");
    let act = show_activity(&sock);
    assert_eq!(act.thread_id.1, 64, "{}", act.text);
    assert!((1..=64).contains(&act.thread_id.0), "{}", act.text);
    for name in ["accepted", "loops"] {
        assert_eq!(act.get(name).1.len(), 64, "{name}:\n{}", act.text);
    }
    let d = fresh_gets(px.addr(0), 64, 4, "/");
    assert_eq!(d.get("s1"), Some(&64), "{d:?}");
    px.stop();
}

/// Each thread listens on its own socket (SO_REUSEPORT): the kernel hands
/// new connections to every one of them.
fn new_connections_are_spread_over_every_threads_listener(poller: &str) {
    let _heavy = heavy_lock();
    let dir = SockDir::new();
    let sock = dir.sock();
    let s1 = LiveServer::start("s1");
    let px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, "")], ""));
    if cfg!(target_os = "linux") {
        let socks = listen_inodes(px.pid(), px.ports[0]).unwrap_or_default();
        assert!(
            socks.len() >= 2,
            "one listening socket per thread on port {}: {socks:?}",
            px.ports[0]
        );
    }
    let d = fresh_gets(px.addr(0), 200, 4, "/");
    assert_eq!(d.get("s1"), Some(&200), "{d:?}");
    let spread = |a: &Activity| {
        let (total, per) = a.get("accepted");
        per.len() == 2 && per.iter().all(|&v| v > 0) && total >= 200
    };
    assert!(
        eventually(SETTLE, || spread(&show_activity(&sock))),
        "200 new connections: each thread accepts some, 200 in all:\n{}",
        show_activity(&sock).text
    );
    px.stop();
}

// ---------------------------------------------------------------------------
// One process, whatever the threads: stats, server states, tables, limits.

/// Frontend sessions and requests, server sessions (a list, in order),
/// backend 2xx, and current sessions of frontend and backend.
fn totals(rows: &CsvRows, servers: &[&str]) -> (u64, u64, Vec<u64>, u64, u64) {
    (
        csv_num(rows, "fe/FRONTEND", "stot"),
        csv_num(rows, "fe/FRONTEND", "req_tot"),
        servers
            .iter()
            .map(|s| csv_num(rows, &format!("be/{s}"), "stot"))
            .collect(),
        csv_num(rows, "be/BACKEND", "hrsp_2xx"),
        csv_num(rows, "fe/FRONTEND", "scur") + csv_num(rows, "be/BACKEND", "scur"),
    )
}

fn stats_are_process_totals_across_threads(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (s1, s2) = (LiveServer::start("s1"), LiveServer::start("s2"));
    let page = "\nlisten st\n    bind 127.0.0.1:@P1@\n    stats enable\n    stats uri /stats\n";
    let px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, ""), (&s2, "")], page));
    let d = fresh_gets(px.addr(0), 100, 4, "/");
    assert_eq!(d.values().sum::<usize>(), 100, "{d:?}");
    let (c1, c2) = (s1.count() as u64, s2.count() as u64);
    assert_eq!(c1 + c2, 100);
    // Once every connection is closed and every thread has published.
    let want = (100, 100, vec![c1, c2], 100, 0);
    let mut last = None;
    let settled = eventually(SETTLE, || {
        let t = totals(&show_stat(&sock), &["s1", "s2"]);
        let ok = t == want;
        last = Some(t);
        ok
    });
    assert!(
        settled,
        "show stat (fe stot, fe req_tot, [s1 stot, s2 stot], be hrsp_2xx, fe+be scur): {last:?}, want {want:?}\n{}",
        cli(&sock, "show stat")
    );
    let csv = |px: &Pollux| {
        let r = http_get(px.addr(1), "/stats;csv", &["Connection: close"]);
        assert_eq!(r.status, 200, "{r}");
        r.text()
    };
    let page_totals = totals(&csv_rows(&csv(&px)), &["s1", "s2"]);
    assert_eq!(page_totals, want, "the stats page's CSV:\n{}", csv(&px));
    px.stop();
}

fn disable_server_on_the_cli_applies_to_every_thread(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (s1, s2) = (LiveServer::start("s1"), LiveServer::start("s2"));
    let px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, ""), (&s2, "")], ""));
    let d = fresh_gets(px.addr(0), 20, 4, "/");
    assert!(d.contains_key("s1") && d.contains_key("s2"), "{d:?}");
    assert_eq!(cli(&sock, "disable server be/s1"), "\n");
    let before = s1.count();
    let d = fresh_gets(px.addr(0), 100, 4, "/");
    assert_eq!(d.get("s2"), Some(&100), "s1 disabled: {d:?}");
    assert_eq!(s1.count(), before, "a disabled server got traffic");
    assert_eq!(cli(&sock, "enable server be/s1"), "\n");
    let d = fresh_gets(px.addr(0), 100, 4, "/");
    assert!(
        d.get("s1").is_some_and(|&n| n > 0),
        "s1 enabled again gets traffic: {d:?}"
    );
    // `set server ... health down` and `addr` reach every thread as well.
    assert_eq!(cli(&sock, "set server be/s1 health down"), "\n");
    let d = fresh_gets(px.addr(0), 100, 4, "/");
    assert_eq!(d.get("s2"), Some(&100), "s1 forced down: {d:?}");
    assert_eq!(cli(&sock, "set server be/s1 health up"), "\n");
    let moved = cli(
        &sock,
        &format!("set server be/s1 addr 127.0.0.1 port {}", s2.addr().port()),
    );
    assert!(moved.contains("port changed"), "{moved}");
    let before = s1.count();
    let d = fresh_gets(px.addr(0), 100, 4, "/");
    assert_eq!(d.get("s2"), Some(&100), "s1 now points at s2: {d:?}");
    assert_eq!(s1.count(), before, "the old address got traffic");
    px.stop();
}

/// Checks run on one thread; the state they set is the one every thread
/// balances on: once s1 is DOWN no thread sends it a request (which, s1
/// being stopped, would fail: there are no retries).
fn a_health_check_result_applies_to_every_thread(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let mut s1 = LiveServer::start("s1");
    let s2 = LiveServer::start("s2");
    let chk = "check inter 100 fall 2 rise 1";
    let px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, chk), (&s2, chk)], ""));
    assert!(
        eventually(SETTLE, || server_status(&sock, "s1") == "UP"
            && server_status(&sock, "s2") == "UP"),
        "both UP at first:\n{}\n{}",
        cli(&sock, "show stat"),
        px.logs()
    );
    s1.stop();
    assert!(
        eventually(PATIENCE, || server_status(&sock, "s1") == "DOWN"),
        "s1 stopped but not DOWN: {}\n{}",
        server_status(&sock, "s1"),
        px.logs()
    );
    let d = fresh_gets(px.addr(0), 100, 4, "/");
    assert_eq!(d.get("s2"), Some(&100), "s1 DOWN: {d:?}");
    s1.restart();
    assert!(
        eventually(PATIENCE, || server_status(&sock, "s1") == "UP"),
        "s1 restarted but not UP: {}\n{}",
        server_status(&sock, "s1"),
        px.logs()
    );
    let d = fresh_gets(px.addr(0), 100, 4, "/");
    assert!(
        d.get("s1").is_some_and(|&n| n > 0),
        "s1 UP again gets traffic: {d:?}"
    );
    px.stop();
}

/// `stick on src` with one table for the process: every connection from
/// 127.0.0.1 reaches the server the first one was given, whichever thread
/// accepts it. s1 starts in maintenance so that the first request goes to
/// s2; once s1 is enabled, a thread with a table of its own (which had not
/// seen 127.0.0.1) would balance the source anew and, round robin, give it s1.
fn stick_table_entries_are_shared_between_threads(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let (s1, s2) = (LiveServer::start("s1"), LiveServer::start("s2"));
    let px = Pollux::start(
        poller,
        &cfg(
            2,
            &sock,
            &["stick-table type ip size 1k expire 1m", "stick on src"],
            &[(&s1, "disabled"), (&s2, "")],
            "",
        ),
    );
    assert_eq!(get_ok(px.addr(0), "/", &[]), "s2");
    assert_eq!(cli(&sock, "enable server be/s1"), "\n");
    let st = server_status(&sock, "s1");
    assert!(!st.contains("MAINT"), "s1 still in maintenance: {st}");
    let d = fresh_gets(px.addr(0), 50, 4, "/");
    assert_eq!(d.get("s2"), Some(&50), "127.0.0.1 moved: {d:?}");
    assert_eq!(s1.count(), 0);
    px.stop();
}

/// `maxconn 2` with 2 threads: 1 each; never more than 2 at the server,
/// the rest wait in the queue and are served.
fn server_maxconn_holds_across_threads(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let s1 = LiveServer::start("s1");
    let px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, "maxconn 2")], ""));
    let addr = px.addr(0);
    let hs: Vec<_> = (0..20)
        .map(|_| thread::spawn(move || try_get(addr, "/sleep/200", &[])))
        .collect();
    for h in hs {
        assert_eq!(h.join().unwrap(), Ok((200, "s1".to_string())));
    }
    assert_eq!(s1.count(), 20);
    assert!(
        s1.peak() <= 2,
        "{} requests at once at a server with maxconn 2",
        s1.peak()
    );
    // At run time too, a limit must leave each thread a share.
    for cmd in [
        "set maxconn server be/s1 1",
        "set maxconn frontend fe 1",
        "set maxconn global 1",
        "add server be/n 127.0.0.1:1 maxconn 1",
    ] {
        let out = cli(&sock, cmd);
        assert!(
            out.contains("nbthread") || out.contains("out of range"),
            "{cmd}: {out}"
        );
    }
    assert_eq!(cli(&sock, "set maxconn server be/s1 4"), "\n");
    px.stop();
}

// ---------------------------------------------------------------------------
// The process as a whole: soft stop and reload.

fn soft_stop_lets_requests_in_flight_on_every_thread_finish(poller: &str) {
    let dir = SockDir::new();
    let sock = dir.sock();
    let s1 = LiveServer::start("s1");
    let mut px = Pollux::start(poller, &cfg(2, &sock, &[], &[(&s1, "")], ""));
    const N: usize = 16;
    let addr = px.addr(0);
    let hs: Vec<_> = (0..N)
        .map(|_| thread::spawn(move || try_get(addr, "/sleep/1000", &[])))
        .collect();
    assert!(
        eventually(PATIENCE, || s1.inflight() == N),
        "{} of {N} requests reached the server\n{}",
        s1.inflight(),
        px.logs()
    );
    let st = px.signal_and_wait(libc::SIGUSR1);
    let got: Vec<Got> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    let bad: Vec<&Got> = got
        .iter()
        .filter(|g| **g != Ok((200, "s1".to_string())))
        .collect();
    assert!(
        bad.is_empty(),
        "{} of {N} requests in flight at SIGUSR1 did not complete: {bad:?}\n{}",
        bad.len(),
        px.logs()
    );
    assert_eq!(
        st.code(),
        Some(0),
        "exit after the soft stop: {st}\n{}",
        px.logs()
    );
}

/// Hot reload as tests/proc_reload.rs does it (`-sf OLDPID`, listeners
/// handed over through `expose-fd listeners`), both processes running two
/// threads: no connection and no request lost.
fn reloads_under_load_with_two_threads_lose_nothing(poller: &str) {
    two_thread_reloads(poller, true);
}

/// The same without an exposed socket: each new process copies the old
/// one's two listening sockets out of it (pidfd_getfd) and keeps both.
fn classic_reloads_under_load_with_two_threads_keep_both_sockets(poller: &str) {
    two_thread_reloads(poller, false);
}

fn two_thread_reloads(poller: &str, exposed: bool) {
    if !cfg!(target_os = "linux") {
        println!("SKIPPED: needs /proc to follow the daemons");
        return;
    }
    let _heavy = heavy_lock();
    let dir = TestDir::new("nbreload");
    let sockdir = SockDir::new();
    let sock = sockdir.sock();
    let srv = LiveServer::start("s1");
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let stats = if exposed {
        format!(
            "    stats socket {} mode 600 level admin expose-fd listeners\n",
            sock.display()
        )
    } else {
        String::new()
    };
    let text = format!(
        "global\n    nbthread 2\n    maxconn 2000\n{stats}\n{}\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\nbackend be\n    server s1 {}\n",
        http_defaults(),
        srv.addr()
    );
    let cfg_path = dir.write("p.cfg", &text);
    let pidfile = dir.join("p.pid");
    let mut d = Daemons::new(&dir);
    let first = start_daemon(&dir, &mut d, &cfg_path, &pidfile, &["--poller", poller]);
    assert!(
        eventually(PATIENCE, || listens(first, port)),
        "pid {first} does not listen"
    );
    let load = ReloadLoad {
        addr,
        args: &["--poller", poller],
        reloads: 10,
        keep_alive: 2,
        pause: Duration::from_millis(50),
    };
    let inodes = listen_inodes(first as u32, port).unwrap_or_default();
    assert_eq!(inodes.len(), 2, "one socket per thread");
    reloads_under_load(&dir, &mut d, &cfg_path, &pidfile, &load, |i, new| {
        // Both sockets, never closed, whichever way they were handed over.
        assert_eq!(
            listen_inodes(new as u32, port).as_ref(),
            Some(&inodes),
            "reload {i}: new pid {new} listens on other sockets"
        );
        if let Some(n) = task_count(new as u32) {
            assert!(n >= 2, "reload {i}: pid {new} runs {n} thread(s)");
        }
    });
    stop_last_daemon(&d, &pidfile);
}

#[test]
fn show_activity_lines_parse() {
    let a = parse_activity(
        "thread_id: 2 (1..2)\ndate_now: 1700000000.5\nloops: 30 [ 10 20 ]\naccepted: 7 [ 3 4 ]\n",
    )
    .unwrap();
    assert_eq!(a.thread_id, (2, 2));
    assert_eq!(a.get("loops"), (30, vec![10, 20]));
    assert_eq!(a.get("accepted"), (7, vec![3, 4]));
    assert!(parse_activity("loops: 1 [ 1 ]\n").is_err());
}
