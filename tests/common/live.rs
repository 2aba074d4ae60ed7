//! Servers that can die and come back, for health checks, queues and
//! persistence: `LiveServer` is an HTTP/1.1 server on a fixed port (probed once)
//! that can be stopped (listener closed, every connection shut down: connects are
//! refused) and restarted on the same port, whose health answer and live answer
//! can be changed while it runs, and which records each request and counts how
//! many are in flight at once.
//!
//! It answers by path:
//! - the health path (`/health` unless changed): `health_status`, body `health_body`
//!   (counted apart, never recorded as traffic);
//! - `/sleep/MS`: waits MS ms first (on top of `delay`);
//! - `/setcookie/NAME=VALUE`: adds `Set-Cookie: NAME=VALUE; path=/`;
//! - `/cacheable`: adds `Cache-Control: max-age=60` and a `Last-Modified`;
//! - anything else: `status` (200 unless changed), headers `X-Server: NAME` and
//!   `X-Seen-Cookie: ...` (the Cookie header it received, or `-`), body `NAME\n`.
//!
//! Plus the client side used with it: one-request helpers that never panic
//! (`try_get`), a load generator (`Load`) and a distribution counter (`spread`).

use super::{eventually, Head, HttpConn, Pollux, Wire, PATIENCE};
use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What a `LiveServer` answers; change it with `LiveServer::set`.
#[derive(Clone, Debug)]
pub struct Behaviour {
    pub health_path: String,
    pub health_status: u16,
    pub health_body: String,
    /// Status of every non-health answer.
    pub status: u16,
    /// Added before every non-health answer.
    pub delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            health_path: "/health".into(),
            health_status: 200,
            health_body: "OK\n".into(),
            status: 200,
            delay: Duration::ZERO,
        }
    }
}

/// One non-health request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub head: Head,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
}

#[derive(Default)]
struct Shared {
    behaviour: Mutex<Behaviour>,
    seen: Mutex<Vec<Seen>>,
    health: Mutex<Vec<Head>>,
    inflight: AtomicUsize,
    peak: AtomicUsize,
    accepted: AtomicUsize,
}

struct Run {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// A restartable HTTP server on a fixed loopback port. Stopped and joined on drop.
pub struct LiveServer {
    name: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    run: Option<Run>,
}

impl LiveServer {
    /// Start on 127.0.0.1, any free port (kept for restarts).
    pub fn start(name: &str) -> LiveServer {
        LiveServer::start_on(name, IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// Start on `ip` (a loopback address such as 127.0.0.2), any free port.
    pub fn start_on(name: &str, ip: IpAddr) -> LiveServer {
        let listener = TcpListener::bind((ip, 0)).expect("live server bind");
        let addr = listener.local_addr().expect("addr");
        let mut s = LiveServer {
            name: name.to_string(),
            addr,
            shared: Arc::new(Shared::default()),
            run: None,
        };
        s.run_with(listener);
        s
    }

    /// A server whose behaviour is set before it starts.
    pub fn with(name: &str, f: impl FnOnce(&mut Behaviour)) -> LiveServer {
        let s = LiveServer::start(name);
        s.set(f);
        s
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Change what it answers (takes effect on the next request).
    pub fn set(&self, f: impl FnOnce(&mut Behaviour)) {
        f(&mut self.shared.behaviour.lock().unwrap());
    }

    /// Close the listener and every open connection; connects are refused after this.
    pub fn stop(&mut self) {
        if let Some(run) = self.run.take() {
            run.stop.store(true, Ordering::SeqCst);
            let _ = run.thread.join();
        }
    }

    /// Listen again on the same address (bounded retry while the port is busy).
    pub fn restart(&mut self) {
        assert!(self.run.is_none(), "restart of a running server");
        let deadline = Instant::now() + PATIENCE;
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("rebinding {}: {e}; retrying", self.addr);
                    thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("cannot rebind {}: {e}", self.addr),
            }
        };
        self.run_with(listener);
    }

    fn run_with(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let (st, shared, name) = (stop.clone(), self.shared.clone(), self.name.clone());
        let thread = thread::Builder::new()
            .name(format!("live-{}", self.name))
            .spawn(move || accept_loop(listener, &name, &shared, &st))
            .expect("spawn live server");
        self.run = Some(Run { stop, thread });
    }

    /// Every non-health request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }
    /// How many non-health requests arrived.
    pub fn count(&self) -> usize {
        self.shared.seen.lock().unwrap().len()
    }
    /// Non-health requests whose target is `target`.
    pub fn count_target(&self, target: &str) -> usize {
        self.seen().iter().filter(|s| s.target == target).count()
    }
    /// Heads of the health-check requests received.
    pub fn health_checks(&self) -> Vec<Head> {
        self.shared.health.lock().unwrap().clone()
    }
    /// Connections accepted (health checks included).
    pub fn accepted(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }
    /// Most non-health requests it was processing at the same time.
    pub fn peak(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }
    pub fn inflight(&self) -> usize {
        self.shared.inflight.load(Ordering::SeqCst)
    }
    pub fn reset_counts(&self) {
        self.shared.seen.lock().unwrap().clear();
        self.shared.peak.store(0, Ordering::SeqCst);
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: TcpListener, name: &str, shared: &Arc<Shared>, stop: &Arc<AtomicBool>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    // A clone of each open connection, so `stop` can shut them all down; each
    // worker removes its own when done (keeping them all leaked one fd per
    // connection and, under a load loop, exhausted the test's fds).
    let open: Arc<Mutex<HashMap<usize, TcpStream>>> = Arc::default();
    let mut next_id = 0usize;
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((s, _)) => {
                shared.accepted.fetch_add(1, Ordering::SeqCst);
                let _ = s.set_nonblocking(false);
                next_id += 1;
                let id = next_id;
                if let Ok(c) = s.try_clone() {
                    open.lock().unwrap().insert(id, c);
                }
                let (shared, stop, name) = (shared.clone(), stop.clone(), name.to_string());
                let open = open.clone();
                workers.push(thread::spawn(move || {
                    serve_conn(s, &name, &shared, stop);
                    open.lock().unwrap().remove(&id);
                }));
                workers.retain(|w| !w.is_finished());
            }
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
    drop(listener);
    for (_, s) in open.lock().unwrap().drain() {
        let _ = s.shutdown(Shutdown::Both);
    }
    for w in workers {
        let _ = w.join();
    }
}

fn serve_conn(s: TcpStream, name: &str, shared: &Shared, stop: Arc<AtomicBool>) {
    let _ = s.set_nodelay(true);
    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = s.set_write_timeout(Some(PATIENCE));
    let mut w = Wire::new(s);
    w.stop = Some(stop.clone());
    while !stop.load(Ordering::SeqCst) {
        let Ok(Some(raw)) = w.read_head(64 * 1024) else {
            break;
        };
        let Ok(head) = super::parse_head(&raw) else {
            break;
        };
        let Ok(framing) = super::request_framing(&head) else {
            break;
        };
        if w.read_body(framing).is_err() {
            break;
        }
        match answer(&mut w.s, name, shared, &head, &stop) {
            Ok(true) => {}
            _ => break,
        }
    }
    let _ = w.s.shutdown(Shutdown::Both);
}

fn answer(
    s: &mut TcpStream,
    name: &str,
    shared: &Shared,
    head: &Head,
    stop: &AtomicBool,
) -> io::Result<bool> {
    let b = shared.behaviour.lock().unwrap().clone();
    let target = head.start[1].clone();
    let path = target.split('?').next().unwrap_or("").to_string();
    let close = head.has_token("connection", "close") || head.start[2] == "HTTP/1.0";
    let conn_hdr = if close { "Connection: close\r\n" } else { "" };
    if path == b.health_path {
        shared.health.lock().unwrap().push(head.clone());
        let body = if head.start[0] == "HEAD" {
            ""
        } else {
            b.health_body.as_str()
        };
        write!(
            s,
            "HTTP/1.1 {} Health\r\nContent-Length: {}\r\n{conn_hdr}\r\n{body}",
            b.health_status,
            body.len()
        )?;
        return Ok(!close);
    }
    shared.seen.lock().unwrap().push(Seen {
        method: head.start[0].clone(),
        target: target.clone(),
        head: head.clone(),
        at: Instant::now(),
    });
    let cur = shared.inflight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.peak.fetch_max(cur, Ordering::SeqCst);
    let mut wait = b.delay;
    if let Some(ms) = path.strip_prefix("/sleep/") {
        wait += Duration::from_millis(ms.parse().unwrap_or(0));
    }
    let until = Instant::now() + wait;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        thread::sleep((until - Instant::now()).min(Duration::from_millis(10)));
    }
    let mut extra = String::new();
    if let Some(c) = path.strip_prefix("/setcookie/") {
        extra.push_str(&format!("Set-Cookie: {c}; path=/\r\n"));
    }
    if path == "/cacheable" {
        extra.push_str(
            "Cache-Control: max-age=60\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n",
        );
    }
    let cookie = head.all("cookie").join("; ");
    let cookie = if cookie.is_empty() {
        "-".into()
    } else {
        cookie
    };
    let body = format!("{name}\n");
    // Done serving before the first response byte leaves: decrementing after
    // the write would let the proxy, having read the response, start the next
    // request before this thread runs again, and count one request too many.
    shared.inflight.fetch_sub(1, Ordering::SeqCst);
    let r = write!(
        s,
        "HTTP/1.1 {} Live\r\nX-Server: {name}\r\nX-Seen-Cookie: {cookie}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {}\r\n{conn_hdr}\r\n{body}",
        b.status,
        body.len()
    );
    r?;
    Ok(!close)
}

// ---------------------------------------------------------------------------
// Clients.

/// What one request got: a status and the server (`X-Server`, "" if none), or
/// an error (connection refused/closed without a response...).
pub type Got = Result<(u16, String), String>;

/// One request on a new connection, with `Connection: close`; never panics.
pub fn try_get(addr: SocketAddr, path: &str, headers: &[&str]) -> Got {
    let s = TcpStream::connect_timeout(&addr, PATIENCE).map_err(|e| format!("connect: {e}"))?;
    let _ = s.set_read_timeout(Some(PATIENCE));
    let _ = s.set_write_timeout(Some(PATIENCE));
    let mut c = HttpConn::from_stream(s);
    let mut h: Vec<&str> = headers.to_vec();
    h.push("Connection: close");
    let req = super::request_bytes("GET", path, &h, b"");
    c.wire.s.write_all(&req).map_err(|e| format!("send: {e}"))?;
    let r = c.try_response("GET")?;
    Ok((r.status, r.server().to_string()))
}

/// `try_get` that must succeed with 200; the server's name.
pub fn get_ok(addr: SocketAddr, path: &str, headers: &[&str]) -> String {
    match try_get(addr, path, headers) {
        Ok((200, srv)) => srv,
        other => panic!("GET {path} {headers:?}: expected 200, got {other:?}"),
    }
}

/// `n` requests (`path_of(i)`) over `conns` keep-alive connections in parallel;
/// how many 200 responses came from each server. Any other outcome panics.
pub fn spread(
    addr: SocketAddr,
    n: usize,
    conns: usize,
    path_of: impl Fn(usize) -> String + Send + Sync + 'static,
) -> HashMap<String, usize> {
    let path_of = Arc::new(path_of);
    let handles: Vec<_> = (0..conns)
        .map(|t| {
            let path_of = path_of.clone();
            thread::spawn(move || {
                let mut counts = HashMap::new();
                let mut c = HttpConn::open(addr);
                for i in (t..n).step_by(conns) {
                    let p = path_of(i);
                    let r = c.get(&p, &[]);
                    assert_eq!(r.status, 200, "GET {p}: {r}");
                    *counts.entry(r.server().to_string()).or_insert(0usize) += 1;
                }
                counts
            })
        })
        .collect();
    let mut total = HashMap::new();
    for h in handles {
        for (k, v) in h.join().expect("client thread") {
            *total.entry(k).or_insert(0) += v;
        }
    }
    total
}

/// Share of `name` in a distribution.
pub fn share(d: &HashMap<String, usize>, name: &str) -> f64 {
    let total: usize = d.values().sum();
    *d.get(name).unwrap_or(&0) as f64 / total.max(1) as f64
}

/// One request made by a `Load`.
#[derive(Clone, Debug)]
pub struct Shot {
    pub at: Instant,
    pub got: Got,
}

/// Background clients sending `path` on new connections in a loop (each waits
/// `pause` between requests) until stopped; every outcome is kept.
pub struct Load {
    stop: Arc<AtomicBool>,
    shots: Arc<Mutex<Vec<Shot>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    pub fn start(addr: SocketAddr, clients: usize, path: &str, pause: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let shots: Arc<Mutex<Vec<Shot>>> = Arc::default();
        let threads = (0..clients)
            .map(|_| {
                let (stop, shots, path) = (stop.clone(), shots.clone(), path.to_string());
                thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let at = Instant::now();
                        let got = try_get(addr, &path, &[]);
                        // After a failure, back off instead of spinning new
                        // connections into the same failure.
                        let wait = if got.is_err() {
                            pause.max(Duration::from_millis(50))
                        } else {
                            pause
                        };
                        shots.lock().unwrap().push(Shot { at, got });
                        thread::sleep(wait);
                    }
                })
            })
            .collect();
        Load {
            stop,
            shots,
            threads,
        }
    }
    pub fn shots(&self) -> Vec<Shot> {
        self.shots.lock().unwrap().clone()
    }
    /// Stop and join the clients; every shot.
    pub fn finish(mut self) -> Vec<Shot> {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.shots()
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Shots that did not get a 200.
pub fn failures(shots: &[Shot]) -> Vec<&Shot> {
    shots
        .iter()
        .filter(|s| !matches!(s.got, Ok((200, _))))
        .collect()
}

/// Count of 200 responses per server among `shots`.
pub fn by_server<'a>(shots: impl IntoIterator<Item = &'a Shot>) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for s in shots {
        if let Ok((200, srv)) = &s.got {
            *m.entry(srv.clone()).or_insert(0) += 1;
        }
    }
    m
}

// ---------------------------------------------------------------------------
// Server state as pollux reports it.
//
// ASSUMPTION (beyond the spec): like HAProxy, pollux writes a line containing
// `Server BACKEND/SERVER is DOWN` or `Server BACKEND/SERVER is UP` to stderr
// when a health check (or `observe`) changes a server's state.

/// The log line that says `backend/server` entered `state` ("UP" or "DOWN").
pub fn state_line(backend: &str, server: &str, state: &str) -> String {
    format!("Server {backend}/{server} is {state}")
}

/// How many times pollux has logged that `backend/server` entered `state`.
pub fn state_changes(px: &Pollux, backend: &str, server: &str, state: &str) -> usize {
    let needle = state_line(backend, server, state);
    px.stderr().matches(&needle).count() + px.stdout().matches(&needle).count()
}

/// Wait (bounded by `limit`) until pollux has logged `backend/server` entering
/// `state` at least `n` times in all.
pub fn wait_state(
    px: &Pollux,
    backend: &str,
    server: &str,
    state: &str,
    n: usize,
    limit: Duration,
) -> bool {
    eventually(limit, || state_changes(px, backend, server, state) >= n)
}

/// Wait (bounded) until `want` consecutive requests to `path` are all answered
/// 200 by servers for which `ok(server)` holds.
pub fn wait_consecutive(
    addr: SocketAddr,
    path: &str,
    want: usize,
    limit: Duration,
    ok: impl Fn(&str) -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut run = 0;
    let mut last = Vec::new();
    while Instant::now() < deadline {
        let g = try_get(addr, path, &[]);
        let good = matches!(&g, Ok((200, s)) if ok(s));
        last.push(g);
        if last.len() > 12 {
            let _ = last.remove(0);
        }
        run = if good { run + 1 } else { 0 };
        if run >= want {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(10));
    }
    Err(format!(
        "no {want} consecutive matching answers within {limit:?} (best run {run}); last: {last:?}"
    ))
}

/// Whether the reference under test is HAProxy (the suite's self-check), for
/// tests of pollux-only features.
pub fn reference_is_haproxy() -> bool {
    std::env::var("POLLUX_TEST_BIN").is_ok_and(|b| b.contains("haproxy"))
}

// ---------------------------------------------------------------------------
// curl with a cookie jar.

/// What curl got: status, response head lines (as `-D` wrote them) and body.
#[derive(Debug)]
pub struct CurlGot {
    pub code: u16,
    pub head: String,
    pub body: String,
    pub stderr: String,
}

impl CurlGot {
    /// Values of response header `name` (case-insensitive), in order.
    pub fn headers(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }
    /// The server that answered (its `X-Server` header), or "".
    pub fn server(&self) -> String {
        self.headers("x-server").pop().unwrap_or_default()
    }
}

/// `curl -sS -b JAR -c JAR -D HEADERS ARGS... URL`: a browser-like client keeping
/// its cookies in `jar` across calls.
pub fn curl_jar(jar: &std::path::Path, url: &str, args: &[&str]) -> CurlGot {
    let dir = super::TestDir::new("curljar");
    let (head, body) = (dir.join("head"), dir.join("body"));
    let out = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "20", "-b"])
        .arg(jar)
        .arg("-c")
        .arg(jar)
        .arg("-D")
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .args(["-w", "%{http_code}"])
        .args(args)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run curl");
    CurlGot {
        code: String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0),
        head: std::fs::read_to_string(&head).unwrap_or_default(),
        body: std::fs::read_to_string(&body).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}
