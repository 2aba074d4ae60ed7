//! In-test servers on port 0 (the socket is kept, so no port race), each run by
//! one event-loop thread (poll(2) through rustix, level-triggered) so that
//! thousands of connections cost no threads; stopped and joined on drop.
//!
//! - `echo`: echoes everything; when the peer half-closes, finishes writing and closes.
//! - `named`: writes `NAME\n` first, then echoes (to count where connections land).
//! - `silent`: reads and discards, never writes; closes when the peer closes.
//! - `hold`: accepts and keeps the connection, never reads nor writes.
//!
//! Each counts accepted, current and peak-concurrent connections.
//! `FnServer` runs a closure per connection, for one-off behaviours.
//! `Blackhole` is a listener whose accept queue is full: connects to it never complete.

use super::PATIENCE;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use socket2::{Domain, Socket, Type};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behavior {
    Echo,
    Named(String),
    Silent,
    Hold,
}

#[derive(Default, Debug)]
pub struct ServerStats {
    pub accepted: AtomicUsize,
    pub current: AtomicUsize,
    pub peak: AtomicUsize,
}

pub struct TestServer {
    addr: SocketAddr,
    pub stats: Arc<ServerStats>,
    stop: Arc<AtomicBool>,
    /// Written to on drop, to wake the event loop up.
    wake: UnixStream,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn echo() -> TestServer {
        TestServer::spawn("127.0.0.1:0", Behavior::Echo)
    }
    pub fn named(name: &str) -> TestServer {
        TestServer::spawn("127.0.0.1:0", Behavior::Named(name.to_string()))
    }
    pub fn silent() -> TestServer {
        TestServer::spawn("127.0.0.1:0", Behavior::Silent)
    }
    pub fn hold() -> TestServer {
        TestServer::spawn("127.0.0.1:0", Behavior::Hold)
    }

    /// Listen on `bind` (port 0: any free port, kept) with `behavior`.
    pub fn spawn(bind: &str, behavior: Behavior) -> TestServer {
        let listener = listen_deep(bind);
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let stats = Arc::new(ServerStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (wake, woken) = UnixStream::pair().expect("wake-up socket pair");
        woken.set_nonblocking(true).expect("nonblocking");
        let thread = {
            let (stats, stop) = (stats.clone(), stop.clone());
            thread::Builder::new()
                .name(format!("server-{addr}"))
                .spawn(move || serve(listener, behavior, &woken, &stats, &stop))
                .expect("spawn server thread")
        };
        TestServer {
            addr,
            stats,
            stop,
            wake,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn accepted(&self) -> usize {
        self.stats.accepted.load(Ordering::SeqCst)
    }
    pub fn current(&self) -> usize {
        self.stats.current.load(Ordering::SeqCst)
    }
    pub fn peak(&self) -> usize {
        self.stats.peak.load(Ordering::SeqCst)
    }
    /// Wait (bounded) until exactly `n` connections are open on this server.
    pub fn wait_current(&self, n: usize) -> bool {
        super::eventually(PATIENCE, || self.current() == n)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = (&self.wake).write(&[1]);
        if let Some(t) = self.thread.take() {
            let r = t.join();
            if r.is_err() && !thread::panicking() {
                panic!("test server thread panicked");
            }
        }
    }
}

/// A listener with a deep accept queue: std's backlog (128) overflows when a
/// thousand connections arrive at once, and the kernel's SYN-cookie and
/// dropped-ACK paths then reset some of them (seen as `TcpExtListenOverflows`
/// and `TcpExtTCPAbortOnData` under load: a test flake, not a proxy bug).
pub fn listen_deep(bind: &str) -> TcpListener {
    let addr: SocketAddr = bind.parse().expect("test server address");
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .expect("socket");
    sock.set_reuse_address(true).expect("SO_REUSEADDR");
    sock.bind(&addr.into()).expect("test server bind");
    sock.listen(4096).expect("listen");
    sock.into()
}

/// Stop reading from a connection whose echo backlog is above this.
const MAX_PENDING: usize = 4 << 20;

struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    out_pos: usize,
    read_eof: bool,
}

impl Conn {
    fn pending(&self) -> usize {
        self.out.len() - self.out_pos
    }
    fn wanted(&self) -> (bool, bool) {
        (
            !self.read_eof && self.pending() < MAX_PENDING,
            self.pending() > 0,
        )
    }
    /// Do what can be done now; false when the connection is finished.
    fn on_ready(&mut self, echo: bool, buf: &mut [u8]) -> bool {
        while !self.read_eof && self.pending() < MAX_PENDING {
            match self.stream.read(buf) {
                Ok(0) => self.read_eof = true,
                Ok(n) if echo => self.out.extend_from_slice(&buf[..n]),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        while self.pending() > 0 {
            match self.stream.write(&self.out[self.out_pos..]) {
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        if self.pending() == 0 {
            self.out.clear();
            self.out_pos = 0;
        }
        // Peer finished sending and everything is echoed: close (a FIN after the data).
        !(self.read_eof && self.pending() == 0)
    }
}

fn flags_for((r, w): (bool, bool)) -> PollFlags {
    let mut f = PollFlags::empty();
    if r {
        f |= PollFlags::IN;
    }
    if w {
        f |= PollFlags::OUT;
    }
    f
}

fn serve(
    listener: TcpListener,
    behavior: Behavior,
    woken: &UnixStream,
    stats: &ServerStats,
    stop: &AtomicBool,
) {
    let echo = matches!(behavior, Behavior::Echo | Behavior::Named(_));
    let mut conns: HashMap<usize, Conn> = HashMap::new();
    let mut held: Vec<TcpStream> = Vec::new();
    let mut next_key = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let mut ready: Vec<usize> = Vec::new();
    let tick = Timespec::try_from(Duration::from_millis(200)).expect("timespec");
    let close = |conns: &mut HashMap<usize, Conn>, key: usize| {
        if conns.remove(&key).is_some() {
            stats.current.fetch_sub(1, Ordering::SeqCst);
        }
    };
    while !stop.load(Ordering::SeqCst) {
        // poll(2), level-triggered, on the wake-up socket, the listener and
        // each connection with what it wants now (none: only errors and hangups).
        ready.clear();
        let (wake, accept) = {
            let mut keys = Vec::with_capacity(conns.len());
            let mut fds = Vec::with_capacity(conns.len() + 2);
            fds.push(PollFd::new(woken, PollFlags::IN));
            fds.push(PollFd::new(&listener, PollFlags::IN));
            for (&key, c) in &conns {
                keys.push(key);
                fds.push(PollFd::new(&c.stream, flags_for(c.wanted())));
            }
            if let Err(e) = poll(&mut fds, Some(&tick)) {
                assert!(e == rustix::io::Errno::INTR, "poll: {e}");
                continue;
            }
            ready.extend(
                keys.iter()
                    .zip(&fds[2..])
                    .filter(|(_, fd)| !fd.revents().is_empty())
                    .map(|(&key, _)| key),
            );
            (!fds[0].revents().is_empty(), !fds[1].revents().is_empty())
        };
        if wake {
            // Drain; the loop condition sees `stop`.
            while matches!((&*woken).read(&mut buf), Ok(n) if n > 0) {}
        }
        if accept {
            for _ in 0..256 {
                let stream = match listener.accept() {
                    Ok((s, _)) => s,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        eprintln!("test server accept: {e}");
                        break;
                    }
                };
                stats.accepted.fetch_add(1, Ordering::SeqCst);
                let cur = stats.current.fetch_add(1, Ordering::SeqCst) + 1;
                stats.peak.fetch_max(cur, Ordering::SeqCst);
                if behavior == Behavior::Hold {
                    held.push(stream);
                    continue;
                }
                stream.set_nonblocking(true).expect("nonblocking");
                let _ = stream.set_nodelay(true);
                let out = match &behavior {
                    Behavior::Named(name) => format!("{name}\n").into_bytes(),
                    _ => Vec::new(),
                };
                let mut c = Conn {
                    stream,
                    out,
                    out_pos: 0,
                    read_eof: false,
                };
                let key = next_key;
                next_key += 1;
                if !c.on_ready(echo, &mut buf) {
                    stats.current.fetch_sub(1, Ordering::SeqCst);
                    continue;
                }
                conns.insert(key, c);
            }
        }
        for &key in &ready {
            let alive = match conns.get_mut(&key) {
                Some(c) => c.on_ready(echo, &mut buf),
                None => continue,
            };
            if !alive {
                close(&mut conns, key);
            }
        }
    }
    let keys: Vec<usize> = conns.keys().copied().collect();
    for k in keys {
        close(&mut conns, k);
    }
}

// ---------------------------------------------------------------------------

/// A server that runs `handler` on each accepted connection, in its own thread
/// (the stream has 10 s read/write timeouts). Threads are joined on drop.
pub struct FnServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FnServer {
    pub fn spawn<F>(handler: F) -> FnServer
    where
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(handler);
        let thread = {
            let stop = stop.clone();
            thread::spawn(move || {
                let workers: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((s, _)) => {
                            s.set_nonblocking(false).expect("blocking");
                            s.set_read_timeout(Some(PATIENCE)).expect("timeout");
                            s.set_write_timeout(Some(PATIENCE)).expect("timeout");
                            let h = handler.clone();
                            workers.lock().unwrap().push(thread::spawn(move || h(s)));
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
                for w in workers.into_inner().unwrap() {
                    let _ = w.join();
                }
            })
        };
        FnServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for FnServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------

/// A listener with backlog 1 whose accept queue is filled and never accepted,
/// so that further SYNs are dropped: a connect to it never completes
/// (simulates an unreachable server, for `timeout connect`).
pub struct Blackhole {
    addr: SocketAddr,
    _listener: Socket,
    _fillers: Vec<TcpStream>,
}

impl Blackhole {
    pub fn new() -> Blackhole {
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        sock.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("bind");
        sock.listen(1).expect("listen");
        let addr = sock.local_addr().expect("addr").as_socket().expect("inet");
        let mut fillers = Vec::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
                Ok(s) => fillers.push(s),
                Err(e)
                    if e.kind() == io::ErrorKind::TimedOut
                        || e.kind() == io::ErrorKind::WouldBlock =>
                {
                    break
                }
                Err(e) => panic!("filling the blackhole's accept queue: {e}"),
            }
            assert!(
                fillers.len() < 64 && Instant::now() < deadline,
                "accept queue of a backlog-1 listener never filled"
            );
        }
        Blackhole {
            addr,
            _listener: sock,
            _fillers: fillers,
        }
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Default for Blackhole {
    fn default() -> Self {
        Blackhole::new()
    }
}
