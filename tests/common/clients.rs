//! In-test clients: blocking helpers with timeouts for one connection at a time,
//! and `bulk_echo_clients`, an event loop driving many connections at once.

use super::PATIENCE;
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use socket2::{Domain, Socket, Type};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Connect (bounded), with read and write timeouts of PATIENCE.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, PATIENCE)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    s.set_read_timeout(Some(PATIENCE)).expect("read timeout");
    s.set_write_timeout(Some(PATIENCE)).expect("write timeout");
    let _ = s.set_nodelay(true);
    s
}

/// Connect from a chosen source address (bind before connect), e.g. 127.0.0.7.
pub fn connect_from(src: IpAddr, addr: SocketAddr) -> TcpStream {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None).expect("socket");
    sock.bind(&SocketAddr::new(src, 0).into())
        .unwrap_or_else(|e| panic!("bind {src}: {e}"));
    sock.connect_timeout(&addr.into(), PATIENCE)
        .unwrap_or_else(|e| panic!("connect {src} -> {addr}: {e}"));
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(PATIENCE)).expect("read timeout");
    s.set_write_timeout(Some(PATIENCE)).expect("write timeout");
    s
}

/// Whether the source address `src` can be bound here (127.0.0.2... on Linux).
pub fn can_bind_source(src: IpAddr) -> bool {
    std::net::TcpListener::bind((src, 0)).is_ok()
}

/// Read the `NAME\n` line a named server sends first.
pub fn read_name(s: &mut TcpStream) -> String {
    let mut name = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b) {
            Ok(0) => panic!(
                "connection closed before the server's name (got {:?})",
                String::from_utf8_lossy(&name)
            ),
            Ok(_) if b[0] == b'\n' => break,
            Ok(_) => name.push(b[0]),
            Err(e) => panic!(
                "reading the server's name: {e} (got {:?})",
                String::from_utf8_lossy(&name)
            ),
        }
        assert!(name.len() < 100, "no newline after the server's name");
    }
    String::from_utf8(name).expect("utf-8 name")
}

/// Connect and read the name of the server it reached.
pub fn which_server(addr: SocketAddr) -> (TcpStream, String) {
    let mut s = connect(addr);
    let name = read_name(&mut s);
    (s, name)
}

/// Send `msg` and read back exactly as many bytes; they must be `msg`.
pub fn roundtrip(s: &mut TcpStream, msg: &[u8]) {
    s.write_all(msg).expect("write");
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back)
        .unwrap_or_else(|e| panic!("reading the echo of {} bytes: {e}", msg.len()));
    assert_eq!(back, msg, "echo differs");
}

/// What happened when waiting on a connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// EOF or reset: the other side closed it.
    Closed,
    /// Still open, nothing received within the wait.
    Open,
    /// Bytes arrived.
    Data(Vec<u8>),
}

/// Read once, waiting at most `wait`.
pub fn wait_outcome(s: &mut TcpStream, wait: Duration) -> Outcome {
    s.set_read_timeout(Some(wait)).expect("read timeout");
    let mut buf = [0u8; 4096];
    let r = loop {
        match s.read(&mut buf) {
            Ok(0) => break Outcome::Closed,
            Ok(n) => break Outcome::Data(buf[..n].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break Outcome::Open
            }
            Err(_) => break Outcome::Closed,
        }
    };
    s.set_read_timeout(Some(PATIENCE)).expect("read timeout");
    r
}

/// The connection must get closed (EOF or reset) without any data, within PATIENCE.
pub fn assert_closed(s: &mut TcpStream, what: &str) {
    match wait_outcome(s, PATIENCE) {
        Outcome::Closed => {}
        Outcome::Open => panic!("{what}: connection still open after {PATIENCE:?}"),
        Outcome::Data(d) => panic!(
            "{what}: expected close, got data {:?}",
            String::from_utf8_lossy(&d)
        ),
    }
}

/// The connection must stay open, with nothing received, for `dur`.
pub fn assert_stays_open(s: &mut TcpStream, dur: Duration, what: &str) {
    match wait_outcome(s, dur) {
        Outcome::Open => {}
        Outcome::Closed => panic!("{what}: connection closed within {dur:?}"),
        Outcome::Data(d) => panic!("{what}: unexpected data {:?}", String::from_utf8_lossy(&d)),
    }
}

/// Read until EOF (bounded by the stream's read timeout).
pub fn read_to_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    s.read_to_end(&mut v)
        .unwrap_or_else(|e| panic!("read to EOF: {e} after {} bytes", v.len()));
    v
}

// ---------------------------------------------------------------------------
// Deterministic per-connection byte patterns.

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Fill `out` with the bytes at positions `pos..` of the pattern of `seed`.
pub fn pattern_fill(seed: u64, pos: usize, out: &mut [u8]) {
    let base = seed.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let mut i = 0;
    while i < out.len() {
        let p = pos + i;
        let word = splitmix64(base ^ (p / 8) as u64).to_le_bytes();
        let off = p % 8;
        let n = (8 - off).min(out.len() - i);
        out[i..i + n].copy_from_slice(&word[off..off + n]);
        i += n;
    }
}

pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    pattern_fill(seed, 0, &mut v);
    v
}

// ---------------------------------------------------------------------------

/// Open `n` connections to `addr` (all at once), send `size` pattern bytes on
/// each while reading back the echo, and check every byte. Err describes what
/// went wrong (bounded by `limit`).
pub fn bulk_echo_clients(
    addr: SocketAddr,
    n: usize,
    size: usize,
    limit: Duration,
) -> Result<(), String> {
    struct C {
        s: TcpStream,
        sent: usize,
        recvd: usize,
    }
    let deadline = Instant::now() + limit;
    let mut conns: HashMap<usize, C> = HashMap::new();
    for i in 0..n {
        let s = TcpStream::connect_timeout(&addr, PATIENCE)
            .map_err(|e| format!("connect #{i}: {e}"))?;
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
        let _ = s.set_nodelay(true);
        conns.insert(
            i,
            C {
                s,
                sent: 0,
                recvd: 0,
            },
        );
    }
    let mut ready: Vec<usize> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut expect = vec![0u8; 64 * 1024];
    let mut rbuf = vec![0u8; 64 * 1024];
    let mut done = 0;
    while done < n {
        let now = Instant::now();
        if now >= deadline {
            let sent: usize = conns.values().map(|c| c.sent).sum();
            let recvd: usize = conns.values().map(|c| c.recvd).sum();
            return Err(format!(
                "{done}/{n} connections complete after {limit:?}; the {} others sent {sent} and received {recvd} bytes in all",
                n - done
            ));
        }
        // poll(2), level-triggered: readable always wanted, writable while
        // there is still something to send.
        ready.clear();
        {
            let mut keys = Vec::with_capacity(conns.len());
            let mut fds = Vec::with_capacity(conns.len());
            for (&i, c) in &conns {
                let mut flags = PollFlags::IN;
                if c.sent < size {
                    flags |= PollFlags::OUT;
                }
                keys.push(i);
                fds.push(PollFd::new(&c.s, flags));
            }
            let timeout = Timespec::try_from(deadline - now).map_err(|e| e.to_string())?;
            match poll(&mut fds, Some(&timeout)) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(format!("poll: {e}")),
            }
            ready.extend(
                keys.iter()
                    .zip(&fds)
                    .filter(|(_, fd)| !fd.revents().is_empty())
                    .map(|(&i, _)| i),
            );
        }
        for &i in &ready {
            let Some(c) = conns.get_mut(&i) else { continue };
            let seed = i as u64 + 1;
            while c.sent < size {
                let len = chunk.len().min(size - c.sent);
                pattern_fill(seed, c.sent, &mut chunk[..len]);
                match c.s.write(&chunk[..len]) {
                    Ok(k) => c.sent += k,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("conn #{i}: write after {} bytes: {e}", c.sent)),
                }
            }
            loop {
                match c.s.read(&mut rbuf) {
                    Ok(0) => {
                        return Err(format!(
                            "conn #{i}: EOF after receiving {} of {size} bytes",
                            c.recvd
                        ))
                    }
                    Ok(k) => {
                        if c.recvd + k > size {
                            return Err(format!(
                                "conn #{i}: received {} bytes, more than sent",
                                c.recvd + k
                            ));
                        }
                        pattern_fill(seed, c.recvd, &mut expect[..k]);
                        if rbuf[..k] != expect[..k] {
                            let at = (0..k).find(|&j| rbuf[j] != expect[j]).unwrap_or(0);
                            return Err(format!(
                                "conn #{i}: wrong byte at offset {}",
                                c.recvd + at
                            ));
                        }
                        c.recvd += k;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("conn #{i}: read after {} bytes: {e}", c.recvd)),
                }
            }
            if c.recvd == size {
                let c = conns.remove(&i).expect("conn");
                let _ = c.s.shutdown(Shutdown::Both);
                done += 1;
            }
        }
    }
    Ok(())
}
