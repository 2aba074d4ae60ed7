//! Operating a running pollux from a test, as an operator would: the runtime
//! API on a Unix socket (`SockDir`, `cli`), the stats CSV it and the stats
//! page give (`csv_rows`...), daemons started with `-D -p PIDFILE` and
//! followed through /proc (`Daemons`, `start_daemon`, `listen_inodes`), and
//! hot reloads (`-sf`) under load (`KeepAlive`, `reloads_under_load`).

use super::{
    eventually, failures, process_alive, request_bytes, run_pollux, send_signal, socket_inodes,
    tcp_listeners, HttpConn, Load, TestDir, PATIENCE,
};
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// The runtime API.

/// A directory with a short path, removed when dropped: a Unix socket path
/// must fit in 108 bytes, which TestDir's descriptive names do not.
pub struct SockDir(PathBuf);

impl SockDir {
    pub fn new() -> SockDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("pxs-{}-{n}", std::process::id()));
        fs::create_dir_all(&p).unwrap();
        SockDir(p)
    }
    /// The socket path in it.
    pub fn sock(&self) -> PathBuf {
        self.join("p.sock")
    }
    /// Another file in it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for SockDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Send `line` (non-interactive, a newline added) to the CLI socket `sock`
/// and read the answer until pollux closes.
pub fn cli(sock: &Path, line: &str) -> String {
    let s = UnixStream::connect(sock)
        .unwrap_or_else(|e| panic!("connect CLI socket {}: {e}", sock.display()));
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    one_command(s, line)
}

/// The same over TCP (`stats socket ipv4@...`, an inherited `fd@N`, `-S`).
pub fn tcp_cli(addr: SocketAddr, line: &str) -> String {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect CLI at {addr}: {e}"));
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    one_command(s, line)
}

/// Send one command line, read the answer until the CLI closes.
fn one_command(mut s: impl Read + Write, line: &str) -> String {
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read until close");
    out
}

// ---------------------------------------------------------------------------
// Stats CSV (`show stat`, a stats page's `;csv`).

/// Rows of a stats CSV keyed by "pxname/svname": column name -> value.
pub type CsvRows = HashMap<String, HashMap<String, String>>;

/// One CSV line's values; quoted values may hold commas and "" quotes.
pub fn split_csv(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) if cur.is_empty() => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// A stats CSV: its header line, and its rows. Strict: there must be a
/// header, and every line after it is a row with one value per column.
pub fn parse_csv(text: &str) -> (String, CsvRows) {
    let mut lines = text.lines();
    let header = lines.next().expect("a header line").to_string();
    let names: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    assert!(names.len() >= 2, "no pxname,svname in header {header:?}");
    let mut rows = HashMap::new();
    for l in lines {
        let vals = split_csv(l);
        assert_eq!(vals.len(), names.len(), "row {l}");
        let row: HashMap<String, String> = names
            .iter()
            .zip(&vals)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        rows.insert(format!("{}/{}", vals[0], vals[1]), row);
    }
    (header, rows)
}

/// The rows of a stats CSV (see [`parse_csv`]).
pub fn csv_rows(text: &str) -> CsvRows {
    parse_csv(text).1
}

/// `show stat` on the CLI socket `sock`, as rows. The empty line that ends
/// every CLI answer is not part of the CSV.
pub fn show_stat(sock: &Path) -> CsvRows {
    let text = cli(sock, "show stat");
    csv_rows(text.strip_suffix("\n\n").unwrap_or(&text))
}

/// The value of column `col` in row `row` ("pxname/svname").
pub fn csv_field(rows: &CsvRows, row: &str, col: &str) -> String {
    rows.get(row)
        .unwrap_or_else(|| panic!("no row {row} in {:?}", rows.keys()))
        .get(col)
        .cloned()
        .unwrap_or_else(|| panic!("no column {col} in row {row}"))
}

/// [`csv_field`], which must be a number.
pub fn csv_num(rows: &CsvRows, row: &str, col: &str) -> u64 {
    let v = csv_field(rows, row, col);
    v.parse()
        .unwrap_or_else(|_| panic!("{row} {col} = {v:?} is not a number"))
}

// ---------------------------------------------------------------------------
// Daemons (`-D -p PIDFILE`) and what /proc says of them.

/// Every pollux daemon a test started, killed at the end if still there.
pub struct Daemons {
    /// Found in each one's command line (the test dir, or its config): ours
    /// to kill.
    tag: String,
    pub pids: Vec<i32>,
}

impl Daemons {
    /// Daemons whose command line names a file of `dir`.
    pub fn new(dir: &TestDir) -> Daemons {
        Daemons::tagged(dir.path().to_str().unwrap())
    }
    /// Daemons whose command line contains `tag`.
    pub fn tagged(tag: &str) -> Daemons {
        Daemons {
            tag: tag.to_string(),
            pids: Vec::new(),
        }
    }
    /// Whether `pid` is alive and is ours (its command line holds the tag).
    pub fn ours(&self, pid: i32) -> bool {
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        process_alive(pid) && String::from_utf8_lossy(&cmdline).contains(&self.tag)
    }
    /// The daemons started that are still alive and ours.
    pub fn alive(&self) -> Vec<i32> {
        self.pids
            .iter()
            .copied()
            .filter(|&p| self.ours(p))
            .collect()
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        for p in self.alive() {
            // kill(2) on a daemon this test started (checked by cmdline).
            send_signal(p, libc::SIGKILL);
        }
    }
}

/// The pid in `path`, if it holds one (above 1).
pub fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&p: &i32| p > 1)
}

/// `pollux -D -f CFG -p PIDFILE ARGS`: the launcher must exit 0; the new pid.
pub fn start_daemon(
    dir: &TestDir,
    d: &mut Daemons,
    cfg: &Path,
    pidfile: &Path,
    args: &[&str],
) -> i32 {
    let before = read_pid(pidfile);
    let mut all = vec![
        "-D",
        "-f",
        cfg.to_str().unwrap(),
        "-p",
        pidfile.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = run_pollux(dir, &all, &[]);
    assert_eq!(out.code(), Some(0), "pollux {}\n{out}", all.join(" "));
    let pid = read_pid(pidfile).expect("pidfile");
    assert_ne!(Some(pid), before, "pidfile not rewritten\n{out}");
    d.pids.push(pid);
    pid
}

/// Inodes of the sockets `pid` holds that listen on TCP `port` (IPv4 or
/// IPv6); None without /proc.
pub fn listen_inodes(pid: u32, port: u16) -> Option<HashSet<u64>> {
    let mine = socket_inodes(pid)?;
    Some(
        tcp_listeners()
            .into_iter()
            .filter(|&(p, ino)| p == port && mine.contains(&ino))
            .map(|(_, ino)| ino)
            .collect(),
    )
}

/// Whether `pid` holds a socket listening on TCP `port`.
pub fn listens(pid: i32, port: u16) -> bool {
    u32::try_from(pid)
        .ok()
        .and_then(|pid| listen_inodes(pid, port))
        .is_some_and(|s| !s.is_empty())
}

/// Wait until `old` no longer listens on `port` (it stopped accepting).
pub fn wait_retired(old: i32, port: u16) -> bool {
    eventually(PATIENCE, || !process_alive(old) || !listens(old, port))
}

/// Once the old daemons have left (their sessions done), only the one in
/// `pidfile` remains; it is stopped (SIGTERM) and leaves too.
pub fn stop_last_daemon(d: &Daemons, pidfile: &Path) {
    let last = read_pid(pidfile).unwrap();
    assert!(
        eventually(PATIENCE, || d.alive() == vec![last]),
        "processes left: {:?} (last {last})",
        d.alive()
    );
    // kill(2) on our daemon, checked alive and ours just above.
    send_signal(last, libc::SIGTERM);
    assert!(eventually(PATIENCE, || d.alive().is_empty()));
}

// ---------------------------------------------------------------------------
// Hot reloads under load.

/// Clients on keep-alive connections: each sends requests back to back,
/// reconnecting when a response says `Connection: close`; every failure kept.
pub struct KeepAlive {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    errors: Arc<Mutex<Vec<String>>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl KeepAlive {
    pub fn start(addr: SocketAddr, n: usize) -> KeepAlive {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let threads = (0..n)
            .map(|_| {
                let (stop, ok, errors) = (stop.clone(), ok.clone(), errors.clone());
                thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let s = match TcpStream::connect_timeout(&addr, PATIENCE) {
                            Ok(s) => s,
                            Err(e) => {
                                errors.lock().unwrap().push(format!("connect: {e}"));
                                thread::sleep(Duration::from_millis(20));
                                continue;
                            }
                        };
                        let _ = s.set_read_timeout(Some(PATIENCE));
                        let mut c = HttpConn::from_stream(s);
                        while !stop.load(Ordering::SeqCst) {
                            let req = request_bytes("GET", "/ka", &[], b"");
                            if let Err(e) = c.wire.s.write_all(&req) {
                                errors.lock().unwrap().push(format!("send: {e}"));
                                break;
                            }
                            match c.try_response("GET") {
                                Ok(r) if r.status == 200 => {
                                    ok.fetch_add(1, Ordering::SeqCst);
                                    if r.header("connection") == Some("close") {
                                        break;
                                    }
                                }
                                Ok(r) => {
                                    errors.lock().unwrap().push(format!("status {}", r.status));
                                    break;
                                }
                                Err(e) => {
                                    errors.lock().unwrap().push(e);
                                    break;
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        KeepAlive {
            stop,
            ok,
            errors,
            threads,
        }
    }
    /// Stop and join the clients: how many requests got a 200, and every failure.
    pub fn finish(mut self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        (
            self.ok.load(Ordering::SeqCst),
            self.errors.lock().unwrap().clone(),
        )
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// How [`reloads_under_load`] reloads, and under which load.
pub struct ReloadLoad<'a> {
    /// Where the clients send their requests: the daemons' frontend.
    pub addr: SocketAddr,
    /// Arguments of every new daemon, before `-sf OLDPID`.
    pub args: &'a [&'a str],
    pub reloads: usize,
    /// How many keep-alive clients (next to 4 on new connections).
    pub keep_alive: usize,
    /// The wait after each reload, for traffic to reach the new process.
    pub pause: Duration,
}

/// What [`reloads_under_load`] saw: requests on new connections and on
/// keep-alive ones (all answered 200), and how long the reloads took.
pub struct ReloadRun {
    pub fresh: usize,
    pub keep_alive: usize,
    pub took: Duration,
}

/// Hot reloads of the daemon whose pid is in `pidfile` (`start_daemon` with
/// `load.args` then `-sf OLDPID`) while 4 clients send requests on new
/// connections and `load.keep_alive` on keep-alive ones. After each reload
/// the old process must stop listening, then `each(i, new)` checks the new one.
/// Not one request may fail, and each kind must outnumber the reloads.
pub fn reloads_under_load(
    dir: &TestDir,
    d: &mut Daemons,
    cfg: &Path,
    pidfile: &Path,
    load: &ReloadLoad,
    mut each: impl FnMut(usize, i32),
) -> ReloadRun {
    let reloads = load.reloads;
    let port = load.addr.port();
    let fresh = Load::start(load.addr, 4, "/new", Duration::ZERO);
    let ka = KeepAlive::start(load.addr, load.keep_alive);
    let t0 = Instant::now();
    for i in 0..reloads {
        let old = read_pid(pidfile).unwrap();
        let oldpid = old.to_string();
        let mut args = load.args.to_vec();
        args.extend_from_slice(&["-sf", &oldpid]);
        let new = start_daemon(dir, d, cfg, pidfile, &args);
        assert!(
            wait_retired(old, port),
            "reload {i}: old pid {old} still listens"
        );
        each(i, new);
        thread::sleep(load.pause);
    }
    let took = t0.elapsed();
    let shots = fresh.finish();
    let (ka_ok, ka_errors) = ka.finish();
    let fails = failures(&shots);
    assert!(
        fails.is_empty(),
        "{} of {} new-connection requests failed over {reloads} reloads in {took:?}: {:?}",
        fails.len(),
        shots.len(),
        fails.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        ka_errors.is_empty(),
        "{} keep-alive failures ({ka_ok} ok): {:?}",
        ka_errors.len(),
        ka_errors.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        shots.len() > reloads && ka_ok > reloads,
        "too little load: {} + {ka_ok}",
        shots.len()
    );
    ReloadRun {
        fresh: shots.len(),
        keep_alive: ka_ok,
        took,
    }
}

/// Live children of `pid` (from /proc/*/stat; zombies left out): the workers
/// of a `-W` master.
pub fn children_of(pid: u32) -> Vec<i32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let rest: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(vec![], |(_, r)| r.split_whitespace().collect());
        if rest.get(1).and_then(|pp| pp.parse::<u32>().ok()) == Some(pid)
            && rest.first() != Some(&"Z")
        {
            out.push(p);
        }
    }
    out
}
