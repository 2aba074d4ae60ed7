//! HTTP side of the harness: a small strict HTTP/1.1 client (`HttpConn`) that
//! streams bodies into a hash, a recording backend (`HttpBackend`) that keeps
//! exactly the bytes it receives on each connection and parses them strictly
//! (so a smuggled request or an unclean rewrite shows), nginx started in a temp
//! dir (`Nginx`), and curl.
//!
//! Bodies are never held whole: both ends count bytes and hash them (FNV-1a 64),
//! keeping only the first `KEEP_BODY` bytes for assertions on text.

use super::{free_port, pattern_fill, process_alive, send_signal, wait_timeout, TestDir, PATIENCE};
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How much of a body is kept for assertions (the rest is only counted and hashed).
pub const KEEP_BODY: usize = 64 * 1024;
pub const MIB: usize = 1024 * 1024;

/// `defaults` for HTTP-mode configs that are not about timeouts.
pub fn http_defaults() -> String {
    "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    timeout http-request 5s\n    timeout http-keep-alive 5s\n".to_string()
}

/// Replace each `(key, value)` in `template` (e.g. `("@A@", "127.0.0.1:1234")`).
pub fn fill(template: &str, pairs: &[(&str, String)]) -> String {
    let mut s = template.to_string();
    for (k, v) in pairs {
        s = s.replace(k, v);
    }
    s
}

// ---------------------------------------------------------------------------
// Hashing and pattern bodies.

/// FNV-1a, 64 bits, fed incrementally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub fn update(&mut self, data: &[u8]) {
        let mut h = self.0;
        for &b in data {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
    pub fn of(data: &[u8]) -> u64 {
        let mut f = Fnv::default();
        f.update(data);
        f.0
    }
}

/// Hash of the first `len` bytes of pattern `seed`, computed by streaming.
pub fn pattern_hash(seed: u64, len: usize) -> u64 {
    let mut f = Fnv::default();
    let mut chunk = vec![0u8; 256 * 1024];
    let mut pos = 0;
    while pos < len {
        let n = chunk.len().min(len - pos);
        pattern_fill(seed, pos, &mut chunk[..n]);
        f.update(&chunk[..n]);
        pos += n;
    }
    f.0
}

/// Write `len` bytes of pattern `seed` to `w`, in `piece`-sized writes.
pub fn write_pattern(w: &mut impl Write, seed: u64, len: usize, piece: usize) -> io::Result<()> {
    let mut chunk = vec![0u8; piece.max(1)];
    let mut pos = 0;
    while pos < len {
        let n = chunk.len().min(len - pos);
        pattern_fill(seed, pos, &mut chunk[..n]);
        w.write_all(&chunk[..n])?;
        pos += n;
    }
    Ok(())
}

/// Write `len` bytes of pattern `seed` as chunked encoding (chunks of varying
/// sizes, then the last chunk and an empty trailer section).
pub fn write_pattern_chunked(w: &mut impl Write, seed: u64, len: usize) -> io::Result<()> {
    let sizes = [1usize, 7, 4096, 16 * 1024, 65536, 100_003];
    let mut chunk = vec![0u8; 100_003];
    let (mut pos, mut i) = (0, 0);
    while pos < len {
        let n = sizes[i % sizes.len()].min(len - pos);
        i += 1;
        pattern_fill(seed, pos, &mut chunk[..n]);
        write!(w, "{n:x}\r\n")?;
        w.write_all(&chunk[..n])?;
        w.write_all(b"\r\n")?;
        pos += n;
    }
    w.write_all(b"0\r\n\r\n")
}

// ---------------------------------------------------------------------------
// Strict head parsing, shared by the client and the recording backend.

/// A parsed message head.
#[derive(Clone, Debug, Default)]
pub struct Head {
    /// Request: method, target, version. Response: version, status, reason.
    pub start: [String; 3],
    pub headers: Vec<(String, String)>,
    /// The head's bytes, verbatim, up to and including the empty line.
    pub raw: Vec<u8>,
}

impl Head {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Every value of header `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.all(name)
            .iter()
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parse a head that ends with CRLF CRLF (strict: CRLF line ends, no obs-fold,
/// tchar names, no CTL but HTAB in values).
pub fn parse_head(raw: &[u8]) -> Result<Head, String> {
    if !raw.ends_with(b"\r\n\r\n") {
        return Err("head does not end with CRLF CRLF".into());
    }
    // Without the final CRLF, every line ends with CRLF; drop the empty piece after the last.
    let text = &raw[..raw.len() - 3];
    let mut lines = text.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let first = first
        .strip_suffix(b"\r")
        .ok_or("start line not ended by CRLF")?;
    if first.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "control byte in start line {:?}",
            String::from_utf8_lossy(first)
        ));
    }
    let first = String::from_utf8_lossy(first).to_string();
    let parts: Vec<&str> = first.splitn(3, ' ').collect();
    if parts.len() < 2 {
        return Err(format!("bad start line {first:?}"));
    }
    let mut head = Head {
        start: [
            parts[0].to_string(),
            parts[1].to_string(),
            parts.get(2).unwrap_or(&"").to_string(),
        ],
        headers: Vec::new(),
        raw: raw.to_vec(),
    };
    for line in lines {
        let line = line.strip_suffix(b"\r").ok_or_else(|| {
            format!(
                "header line not ended by CRLF: {:?}",
                String::from_utf8_lossy(line)
            )
        })?;
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            return Err("obs-fold in a head".into());
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| format!("header without colon: {:?}", String::from_utf8_lossy(line)))?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(format!(
                "bad header name {:?}",
                String::from_utf8_lossy(name)
            ));
        }
        if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(format!(
                "control byte in value of {}",
                String::from_utf8_lossy(name)
            ));
        }
        let value = String::from_utf8_lossy(value)
            .trim_matches(|c| c == ' ' || c == '\t')
            .to_string();
        head.headers
            .push((String::from_utf8_lossy(name).to_string(), value));
    }
    Ok(head)
}

/// What HAProxy 2.6 logs as the bytes (%B, %U) of one message with a
/// Content-Length body (or none), whether it received it or made it itself
/// (a response of its own): not the wire size but that of its internal (HTX) form, 20
/// bytes plus the start line's three words, each header's name and value
/// (`Connection` without its `close` and `keep-alive` tokens, not at all if
/// none is left), 1 for the end of the head, then the body.
pub fn htx_bytes(raw: &[u8]) -> u64 {
    let end = find(raw, b"\r\n\r\n").expect("a message head") + 4;
    let head = parse_head(&raw[..end]).expect("a message head");
    let mut n = 20 + head.start.iter().map(String::len).sum::<usize>() + 1;
    for (name, value) in &head.headers {
        if name.eq_ignore_ascii_case("connection") {
            let kept: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|t| !["", "close", "keep-alive"].contains(&t.to_ascii_lowercase().as_str()))
                .collect();
            if !kept.is_empty() {
                n += name.len() + kept.join(",").len();
            }
        } else {
            n += name.len() + value.len();
        }
    }
    (n + raw.len() - end) as u64
}

/// How a message body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    Close,
}

/// Framing of a request head (strict: TE+CL, differing CLs, TE not ending in
/// chunked are errors).
pub fn request_framing(h: &Head) -> Result<Framing, String> {
    let te = h.all("transfer-encoding");
    let cl = h.all("content-length");
    if !te.is_empty() && !cl.is_empty() {
        return Err("both Transfer-Encoding and Content-Length".into());
    }
    if !te.is_empty() {
        let codings: Vec<String> = te
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .collect();
        if codings.len() != 1 || codings[0] != "chunked" {
            return Err(format!(
                "Transfer-Encoding {codings:?} is not exactly chunked"
            ));
        }
        return Ok(Framing::Chunked);
    }
    let mut len: Option<u64> = None;
    for v in cl.iter().flat_map(|v| v.split(',')) {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || v.len() > 18 {
            return Err(format!("bad Content-Length {v:?}"));
        }
        let n: u64 = v.parse().map_err(|_| format!("bad Content-Length {v:?}"))?;
        if len.is_some_and(|l| l != n) {
            return Err("differing Content-Length values".into());
        }
        len = Some(n);
    }
    Ok(len.map_or(Framing::None, Framing::Length))
}

/// Framing of a response to a request with `method`.
pub fn response_framing(h: &Head, method: &str) -> Result<Framing, String> {
    let status: u16 = h.start[1]
        .parse()
        .map_err(|_| format!("bad status {:?}", h.start[1]))?;
    if method == "HEAD" || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::None);
    }
    if method == "CONNECT" && (200..300).contains(&status) {
        return Ok(Framing::None);
    }
    match request_framing(h)? {
        Framing::None => Ok(Framing::Close),
        f => Ok(f),
    }
}

// ---------------------------------------------------------------------------
// A buffered reader over a socket that can also hand back raw bytes.

pub struct Wire {
    pub s: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    /// Everything read, capped (for the recording backend).
    pub record: Option<Arc<Mutex<Vec<u8>>>>,
    /// When set, a read timeout is retried until this flag is raised.
    pub stop: Option<Arc<AtomicBool>>,
}

const RECORD_CAP: usize = 2 * MIB;

impl Wire {
    pub fn new(s: TcpStream) -> Wire {
        Wire {
            s,
            buf: Vec::new(),
            pos: 0,
            record: None,
            stop: None,
        }
    }
    fn avail(&self) -> &[u8] {
        &self.buf[self.pos..]
    }
    /// Read more bytes; Ok(0) at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
        let mut tmp = [0u8; 64 * 1024];
        let started = Instant::now();
        loop {
            match self.s.read(&mut tmp) {
                Ok(n) => {
                    if let Some(r) = &self.record {
                        let mut r = r.lock().unwrap();
                        let room = RECORD_CAP.saturating_sub(r.len()).min(n);
                        r.extend_from_slice(&tmp[..room]);
                    }
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) && self.stop.is_some() =>
                {
                    if self.stop.as_ref().unwrap().load(Ordering::SeqCst)
                        || started.elapsed() > PATIENCE * 3
                    {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
    /// Bytes up to and including CRLF CRLF (or LF LF, for the error message).
    pub fn read_head(&mut self, limit: usize) -> Result<Option<Vec<u8>>, String> {
        loop {
            let a = self.avail();
            if let Some(i) = find(a, b"\r\n\r\n") {
                let head = a[..i + 4].to_vec();
                self.pos += i + 4;
                return Ok(Some(head));
            }
            if a.len() > limit {
                return Err(format!("head larger than {limit} bytes"));
            }
            match self.fill() {
                Ok(0) if self.avail().is_empty() => return Ok(None),
                // A peer closing an idle keep-alive connection may reset it.
                Err(e)
                    if self.avail().is_empty()
                        && matches!(
                            e.kind(),
                            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                        ) =>
                {
                    return Ok(None)
                }
                Ok(0) => {
                    return Err(format!(
                        "EOF inside a head: {:?}",
                        String::from_utf8_lossy(self.avail())
                    ))
                }
                Ok(_) => {}
                Err(e) => {
                    return Err(format!(
                        "reading a head: {e} (have {:?})",
                        String::from_utf8_lossy(self.avail())
                    ))
                }
            }
        }
    }
    fn read_line(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if let Some(i) = find(self.avail(), b"\r\n") {
                let l = self.avail()[..i].to_vec();
                self.pos += i + 2;
                return Ok(l);
            }
            if self.avail().len() > 4096 {
                return Err("line too long in chunked body".into());
            }
            match self.fill() {
                Ok(0) => return Err("EOF in chunked framing".into()),
                Ok(_) => {}
                Err(e) => return Err(format!("reading chunked framing: {e}")),
            }
        }
    }
    /// Consume exactly `n` bytes (or up to EOF when `n` is None), feeding `sink`.
    fn read_exact_into(&mut self, n: Option<u64>, sink: &mut BodySink) -> Result<(), String> {
        let mut left = n.unwrap_or(u64::MAX);
        while left > 0 {
            if self.avail().is_empty() {
                match self.fill() {
                    Ok(0) if n.is_none() => return Ok(()),
                    Ok(0) => return Err(format!("EOF with {left} body bytes missing")),
                    Ok(_) => {}
                    Err(e) if n.is_none() => {
                        return Err(format!("reading a close-delimited body: {e}"))
                    }
                    Err(e) => return Err(format!("reading a body, {left} bytes missing: {e}")),
                }
            }
            let take = (self.avail().len() as u64).min(left) as usize;
            let (start, end) = (self.pos, self.pos + take);
            sink.feed(&self.buf[start..end]);
            self.pos = end;
            left -= take as u64;
        }
        Ok(())
    }
    /// Read a body with `framing`; chunked is checked strictly.
    pub fn read_body(&mut self, framing: Framing) -> Result<BodySink, String> {
        let mut sink = BodySink::default();
        match framing {
            Framing::None => {}
            Framing::Length(n) => self.read_exact_into(Some(n), &mut sink)?,
            Framing::Close => self.read_exact_into(None, &mut sink)?,
            Framing::Chunked => loop {
                let line = self.read_line()?;
                let size = line.split(|&b| b == b';').next().unwrap_or_default();
                if size.is_empty() || size.len() > 15 || !size.iter().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(format!(
                        "bad chunk size line {:?}",
                        String::from_utf8_lossy(&line)
                    ));
                }
                let n = u64::from_str_radix(std::str::from_utf8(size).unwrap(), 16).unwrap();
                if n == 0 {
                    loop {
                        let t = self.read_line()?;
                        if t.is_empty() {
                            break;
                        }
                        sink.trailers.push(String::from_utf8_lossy(&t).to_string());
                    }
                    break;
                }
                self.read_exact_into(Some(n), &mut sink)?;
                sink.chunks += 1;
                if !self.read_line()?.is_empty() {
                    return Err("chunk data not followed by CRLF".into());
                }
            },
        }
        Ok(sink)
    }
    /// Bytes received but not consumed yet.
    pub fn leftover(&self) -> &[u8] {
        self.avail()
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A body as received: length, hash, first KEEP_BODY bytes.
#[derive(Clone, Debug, Default)]
pub struct BodySink {
    pub len: u64,
    pub hash: Fnv,
    pub kept: Vec<u8>,
    pub chunks: usize,
    pub trailers: Vec<String>,
}

impl BodySink {
    fn feed(&mut self, d: &[u8]) {
        self.len += d.len() as u64;
        self.hash.update(d);
        let room = KEEP_BODY.saturating_sub(self.kept.len()).min(d.len());
        self.kept.extend_from_slice(&d[..room]);
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept).to_string()
    }
}

// ---------------------------------------------------------------------------
// The client.

/// A response as the client saw it.
#[derive(Clone, Debug)]
pub struct Response {
    pub head: Head,
    pub status: u16,
    pub framing: Framing,
    pub body: BodySink,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
    pub fn text(&self) -> String {
        self.body.text()
    }
    /// The recording backend's name (its `X-Server` header), or "" if absent.
    pub fn server(&self) -> &str {
        self.header("x-server").unwrap_or("")
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}[body {} bytes: {:?}]",
            String::from_utf8_lossy(&self.head.raw),
            self.body.len,
            String::from_utf8_lossy(&self.body.kept[..self.body.kept.len().min(300)])
        )
    }
}

/// One client connection, speaking HTTP/1.1 (or whatever bytes it is told to send).
pub struct HttpConn {
    pub wire: Wire,
}

impl HttpConn {
    pub fn open(addr: SocketAddr) -> HttpConn {
        HttpConn::from_stream(super::connect(addr))
    }
    pub fn from_stream(s: TcpStream) -> HttpConn {
        HttpConn { wire: Wire::new(s) }
    }
    pub fn send(&mut self, bytes: &[u8]) {
        self.wire.s.write_all(bytes).expect("send to pollux");
    }
    /// Send `GET path` with extra header lines (each `Name: value`).
    pub fn get(&mut self, path: &str, headers: &[&str]) -> Response {
        self.send(&request_bytes("GET", path, headers, b""));
        self.response_to("GET")
    }
    /// Read one response to a request of `method`; panics on error.
    pub fn response_to(&mut self, method: &str) -> Response {
        self.try_response(method)
            .unwrap_or_else(|e| panic!("reading the response to {method}: {e}"))
    }
    /// Read one response; Err on EOF before a response, or a malformed one.
    pub fn try_response(&mut self, method: &str) -> Result<Response, String> {
        loop {
            let raw = self
                .wire
                .read_head(256 * 1024)?
                .ok_or("connection closed before a response")?;
            let head = parse_head(&raw)?;
            if !head.start[0].starts_with("HTTP/1.") {
                return Err(format!("bad status line {:?}", head.start));
            }
            let framing = response_framing(&head, method)?;
            let status: u16 = head.start[1].parse().unwrap();
            // Interim responses other than 101 are skipped (RFC 9110 §15.2).
            if (100..200).contains(&status) && status != 101 {
                continue;
            }
            let body = self.wire.read_body(framing)?;
            return Ok(Response {
                head,
                status,
                framing,
                body,
            });
        }
    }
    /// Whether pollux closes this connection (EOF, reset) within `wait`, with no data.
    pub fn closed_within(&mut self, wait: Duration) -> bool {
        if !self.wire.leftover().is_empty() {
            return false;
        }
        matches!(
            super::wait_outcome(&mut self.wire.s, wait),
            super::Outcome::Closed
        )
    }
    pub fn shutdown_write(&self) {
        let _ = self.wire.s.shutdown(Shutdown::Write);
    }
}

/// `METHOD path HTTP/1.1` with `Host: test`, the extra header lines, and a
/// Content-Length when `body` is not empty.
pub fn request_bytes(method: &str, path: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\n");
    if !headers
        .iter()
        .any(|h| h.to_ascii_lowercase().starts_with("host:"))
    {
        r.push_str("Host: test\r\n");
    }
    for h in headers {
        r.push_str(h);
        r.push_str("\r\n");
    }
    if !body.is_empty() {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    let mut v = r.into_bytes();
    v.extend_from_slice(body);
    v
}

/// One request on a new connection; the response.
pub fn http_get(addr: SocketAddr, path: &str, headers: &[&str]) -> Response {
    HttpConn::open(addr).get(path, headers)
}

/// Send raw bytes on a new connection, then read whatever comes back until EOF
/// or until nothing arrives for `quiet`.
pub fn raw_exchange(addr: SocketAddr, bytes: &[u8], quiet: Duration) -> Vec<u8> {
    let mut s = super::connect(addr);
    s.write_all(bytes).expect("send raw request");
    read_until_quiet(&mut s, quiet)
}

pub fn read_until_quiet(s: &mut TcpStream, quiet: Duration) -> Vec<u8> {
    s.set_read_timeout(Some(quiet)).expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
    s.set_read_timeout(Some(PATIENCE)).expect("timeout");
    out
}

/// The status code of the first response in `bytes`, if it starts with one.
pub fn first_status(bytes: &[u8]) -> Option<u16> {
    let t = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).to_string();
    let rest = t.strip_prefix("HTTP/1.")?;
    rest.get(2..5)?.parse().ok()
}

/// Status codes of every response head found in `bytes` (`HTTP/1.x NNN` at a line start).
pub fn statuses(bytes: &[u8]) -> Vec<u16> {
    let mut v = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&bytes[i..], b"HTTP/1.") {
        let at = i + p;
        if at == 0 || bytes[at - 1] == b'\n' {
            if let Some(s) = first_status(&bytes[at..]) {
                v.push(s);
            }
        }
        i = at + 7;
    }
    v
}

// ---------------------------------------------------------------------------
// The recording backend.

/// One request as the backend parsed it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Connection index on this backend (0, 1, ...) and request index on it.
    pub conn: usize,
    pub index: usize,
    pub head: Head,
    pub framing: Framing,
    pub body: BodySink,
}

impl Recorded {
    pub fn method(&self) -> &str {
        &self.head.start[0]
    }
    pub fn target(&self) -> &str {
        &self.head.start[1]
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
}

/// One connection as the backend saw it.
#[derive(Clone, Debug, Default)]
pub struct ConnRecord {
    /// Every byte received (capped at 2 MiB).
    pub raw: Vec<u8>,
    /// Complete requests, in order.
    pub requests: Vec<Recorded>,
    /// Bytes that were not a valid request (strict parse), if any: a proxy bug.
    pub violation: Option<String>,
    /// The connection ended inside a request (the proxy aborted it).
    pub incomplete: bool,
    pub closed: bool,
}

#[derive(Default)]
struct BackendState {
    conns: Mutex<Vec<Arc<Mutex<ConnRecord>>>>,
    raws: Mutex<Vec<Arc<Mutex<Vec<u8>>>>>,
}

/// A raw HTTP/1.1 server that records what it receives and answers by path:
///
/// - default: 200, body `NAME\n`, headers `X-Server: NAME`, `X-Conn`, `X-Req`,
///   `X-Body-Len`, `X-Body-Hash` (of the request body, hex), `X-Resp: original`,
///   `X-Secret: s3cr3t`;
/// - `/len/N`, `/chunked/N`, `/close/N`: N bytes of pattern N as a
///   Content-Length, chunked or close-delimited body;
/// - `/sleep/MS`: waits MS ms first;
/// - `/bad-response` (two different Content-Lengths), `/garbage-response`,
///   `/no-response` (closes), `/huge-response-head` (a 20 KiB header);
/// - a request with `Upgrade:` to which it answers 101, or `CONNECT` (200): then
///   echoes raw bytes until EOF.
///
/// It closes after a response when the request says `Connection: close`.
pub struct HttpBackend {
    name: String,
    addr: SocketAddr,
    state: Arc<BackendState>,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpBackend {
    pub fn start(name: &str) -> HttpBackend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(BackendState::default());
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, state, accepted, name) = (
                stop.clone(),
                state.clone(),
                accepted.clone(),
                name.to_string(),
            );
            thread::Builder::new()
                .name(format!("http-backend-{name}"))
                .spawn(move || {
                    let mut workers = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        match listener.accept() {
                            Ok((s, _)) => {
                                let idx = accepted.fetch_add(1, Ordering::SeqCst);
                                let rec = Arc::new(Mutex::new(ConnRecord::default()));
                                let raw = Arc::new(Mutex::new(Vec::new()));
                                state.conns.lock().unwrap().push(rec.clone());
                                state.raws.lock().unwrap().push(raw.clone());
                                let (stop, name) = (stop.clone(), name.clone());
                                workers.push(thread::spawn(move || {
                                    serve_http(s, idx, &name, rec, raw, stop)
                                }));
                            }
                            Err(_) => thread::sleep(Duration::from_millis(2)),
                        }
                    }
                    for w in workers {
                        let _ = w.join();
                    }
                })
                .expect("spawn backend")
        };
        HttpBackend {
            name: name.to_string(),
            addr,
            state,
            accepted,
            stop,
            thread: Some(thread),
        }
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
    /// A snapshot of every connection (with its raw bytes).
    pub fn conns(&self) -> Vec<ConnRecord> {
        let conns = self.state.conns.lock().unwrap();
        let raws = self.state.raws.lock().unwrap();
        conns
            .iter()
            .zip(raws.iter())
            .map(|(c, r)| {
                let mut c = c.lock().unwrap().clone();
                c.raw = r.lock().unwrap().clone();
                c
            })
            .collect()
    }
    /// Every complete request, in arrival order per connection.
    pub fn requests(&self) -> Vec<Recorded> {
        self.conns().into_iter().flat_map(|c| c.requests).collect()
    }
    /// The last complete request (panics if none).
    pub fn last(&self) -> Recorded {
        self.requests()
            .pop()
            .unwrap_or_else(|| panic!("backend {} received no complete request", self.name))
    }
    /// Wait (bounded) until `n` complete requests have arrived.
    pub fn wait_requests(&self, n: usize) -> bool {
        super::eventually(PATIENCE, || self.requests().len() >= n)
    }
    /// Strict-parse violations seen on any connection.
    pub fn violations(&self) -> Vec<String> {
        self.conns()
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.violation.as_ref().map(|v| {
                    format!(
                        "backend {} conn {i}: {v}; bytes: {:?}",
                        self.name,
                        String::from_utf8_lossy(&c.raw[..c.raw.len().min(2000)])
                    )
                })
            })
            .collect()
    }
    /// Everything every connection received, for failure messages.
    pub fn dump(&self) -> String {
        self.conns()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "--- backend {} conn {i} ({} requests) ---\n{}\n",
                    self.name,
                    c.requests.len(),
                    String::from_utf8_lossy(&c.raw[..c.raw.len().min(4000)])
                )
            })
            .collect()
    }
}

impl Drop for HttpBackend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_http(
    s: TcpStream,
    idx: usize,
    name: &str,
    rec: Arc<Mutex<ConnRecord>>,
    raw: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
) {
    let _ = s.set_nodelay(true);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    s.set_write_timeout(Some(PATIENCE)).expect("timeout");
    let mut w = Wire::new(s);
    w.record = Some(raw);
    w.stop = Some(stop);
    let mut n = 0;
    let fail = |v: String| rec.lock().unwrap().violation = Some(v);
    loop {
        let head_raw = match w.read_head(64 * 1024) {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                if e.contains("EOF inside") || e.contains("timed out") || e.contains("would block")
                {
                    rec.lock().unwrap().incomplete = true;
                } else {
                    fail(e);
                }
                break;
            }
        };
        let head = match parse_head(&head_raw) {
            Ok(h) => h,
            Err(e) => {
                fail(e);
                break;
            }
        };
        if head.start[2] != "HTTP/1.1" && head.start[2] != "HTTP/1.0" {
            fail(format!("bad request line {:?}", head.start));
            break;
        }
        let framing = match request_framing(&head) {
            Ok(f) => f,
            Err(e) => {
                fail(e);
                break;
            }
        };
        let body = match w.read_body(framing) {
            Ok(b) => b,
            Err(e) => {
                if e.contains("EOF") || e.contains("missing") {
                    rec.lock().unwrap().incomplete = true;
                } else {
                    fail(e);
                }
                break;
            }
        };
        let r = Recorded {
            conn: idx,
            index: n,
            head,
            framing,
            body,
        };
        n += 1;
        rec.lock().unwrap().requests.push(r.clone());
        match respond(&mut w, name, &r) {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
    rec.lock().unwrap().closed = true;
}

/// Answer `r`; Ok(false) when the connection must close now.
fn respond(w: &mut Wire, name: &str, r: &Recorded) -> io::Result<bool> {
    let path = r.target().to_string();
    let path = path.split('?').next().unwrap_or("").to_string();
    let num = |p: &str| -> usize { path[p.len()..].parse().unwrap_or(0) };
    let close = r.head.has_token("connection", "close")
        || (r.head.start[2] == "HTTP/1.0" && !r.head.has_token("connection", "keep-alive"));
    let conn_hdr = if close { "Connection: close\r\n" } else { "" };
    let s = &mut w.s;
    if path.starts_with("/sleep/") {
        thread::sleep(Duration::from_millis(num("/sleep/") as u64));
    }
    if r.method() == "CONNECT" || r.head.header("upgrade").is_some() {
        if r.method() == "CONNECT" {
            s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        } else {
            // RFC 6455 §1.3's sample key and its accept value (the tests use that key).
            let accept = if r.head.header("sec-websocket-key") == Some("dGhlIHNhbXBsZSBub25jZQ==") {
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            } else {
                ""
            };
            write!(
                s,
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{accept}\r\n"
            )?;
        }
        // Tunnel: echo raw bytes (those already buffered first) until EOF.
        let left = w.leftover().to_vec();
        w.s.write_all(&left)?;
        let mut buf = [0u8; 16384];
        loop {
            match w.s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => w.s.write_all(&buf[..n])?,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if w.stop.as_ref().unwrap().load(Ordering::SeqCst) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = w.s.shutdown(Shutdown::Write);
        return Ok(false);
    }
    if path.starts_with("/len/") {
        let n = num("/len/");
        write!(
            s,
            "HTTP/1.1 200 OK\r\nX-Server: {name}\r\nContent-Length: {n}\r\n{conn_hdr}\r\n"
        )?;
        write_pattern(s, n as u64, n, 64 * 1024)?;
        return Ok(!close);
    }
    if path.starts_with("/chunked/") {
        let n = num("/chunked/");
        write!(
            s,
            "HTTP/1.1 200 OK\r\nX-Server: {name}\r\nTransfer-Encoding: chunked\r\n{conn_hdr}\r\n"
        )?;
        let mut bw = io::BufWriter::with_capacity(256 * 1024, &mut *s);
        write_pattern_chunked(&mut bw, n as u64, n)?;
        bw.flush()?;
        return Ok(!close);
    }
    if path.starts_with("/close/") {
        let n = num("/close/");
        write!(
            s,
            "HTTP/1.1 200 OK\r\nX-Server: {name}\r\nConnection: close\r\n\r\n"
        )?;
        write_pattern(s, n as u64, n, 64 * 1024)?;
        let _ = s.shutdown(Shutdown::Write);
        return Ok(false);
    }
    match path.as_str() {
        "/bad-response" => {
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc")?;
            return Ok(false);
        }
        "/garbage-response" => {
            s.write_all(b"HELLO THERE\r\n\r\n")?;
            return Ok(false);
        }
        "/no-response" => return Ok(false),
        "/huge-response-head" => {
            let big = "b".repeat(20 * 1024);
            write!(
                s,
                "HTTP/1.1 200 OK\r\nX-Big: {big}\r\nContent-Length: 2\r\n\r\nok"
            )?;
            return Ok(!close);
        }
        _ => {}
    }
    let body = if r.method() == "HEAD" {
        String::new()
    } else {
        format!("{name}\n")
    };
    let body_len = if r.method() == "HEAD" {
        name.len() + 1
    } else {
        body.len()
    };
    write!(
        s,
        "HTTP/1.1 200 OK\r\nX-Server: {name}\r\nX-Path: {}\r\nX-Conn: {}\r\nX-Req: {}\r\nX-Body-Len: {}\r\nX-Body-Hash: {:016x}\r\nX-Resp: original\r\nX-Secret: s3cr3t\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n{conn_hdr}\r\n{body}",
        r.target(),
        r.conn,
        r.index,
        r.body.len,
        r.body.hash.0,
        body_len
    )?;
    Ok(!close)
}

// ---------------------------------------------------------------------------
// nginx.

/// nginx (Debian's nginx-light) in a temp dir: one process (`master_process off`,
/// `daemon off`), on a probed free port, serving `www/`; stopped by its PID.
pub struct Nginx {
    child: Option<Child>,
    pub dir: TestDir,
    pub port: u16,
}

impl Nginx {
    /// Start nginx serving pattern files: `(name, len)` → `www/NAME` holding
    /// `len` bytes of pattern `len`.
    pub fn start(files: &[(&str, usize)]) -> Nginx {
        let dir = TestDir::new("nginx");
        fs::create_dir_all(dir.join("www")).expect("www");
        fs::create_dir_all(dir.join("tmp")).expect("tmp");
        for (name, len) in files {
            let f = fs::File::create(dir.join("www").join(name)).expect("create file");
            let mut w = io::BufWriter::new(f);
            write_pattern(&mut w, *len as u64, *len, MIB).expect("write file");
            w.flush().expect("flush");
        }
        let mut last = String::new();
        let mut dir = dir;
        for _ in 0..3 {
            let port = free_port();
            let d = dir.path().display();
            let user = if getuid_is_root() { "user root;" } else { "" };
            let conf = format!(
                "{user}\nworker_processes 1;\ndaemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  sendfile on;\n  keepalive_timeout 60s;\n  keepalive_requests 100000;\n\
                 default_type application/octet-stream;\n  client_body_temp_path {d}/tmp/body;\n  proxy_temp_path {d}/tmp/proxy;\n\
                 fastcgi_temp_path {d}/tmp/fastcgi;\n  uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;\n\
                 server {{\n    listen 127.0.0.1:{port};\n    root {d}/www;\n  }}\n}}\n"
            );
            let conf_path = dir.write("nginx.conf", &conf);
            let child = Command::new("nginx")
                .arg("-p")
                .arg(dir.path())
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-c")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(fs::File::create(dir.join("stdout.log")).expect("log"))
                .stderr(fs::File::create(dir.join("stderr.log")).expect("log"))
                .spawn()
                .expect("spawn nginx (Debian package nginx-light)");
            let mut n = Nginx {
                child: Some(child),
                dir,
                port,
            };
            let pid = n.child.as_ref().unwrap().id() as i32;
            let up = super::eventually(PATIENCE, || {
                !process_alive(pid) || TcpStream::connect(("127.0.0.1", port)).is_ok()
            });
            if up && process_alive(pid) {
                return n;
            }
            last = format!(
                "{}{}",
                fs::read_to_string(n.dir.join("stderr.log")).unwrap_or_default(),
                fs::read_to_string(n.dir.join("error.log")).unwrap_or_default()
            );
            n.stop();
            dir = std::mem::replace(&mut n.dir, TestDir::new("nginx-spare"));
        }
        panic!("nginx did not start: {last}");
    }
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // Our own unreaped child.
            send_signal(c.id() as i32, libc::SIGTERM);
            if wait_timeout(&mut c, PATIENCE).is_none() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

fn getuid_is_root() -> bool {
    rustix::process::getuid().is_root()
}

// ---------------------------------------------------------------------------
// curl.

pub struct CurlOut {
    pub code: u16,
    pub body: Vec<u8>,
    pub stderr: String,
    pub ok: bool,
}

impl CurlOut {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// Run `curl -sS --max-time 20 -o BODYFILE -w '%{http_code}' ARGS` (Debian's curl).
pub fn curl(args: &[&str]) -> CurlOut {
    let dir = TestDir::new("curl");
    let body = dir.join("body");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-o"])
        .arg(&body)
        .args(["-w", "%{http_code}"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    CurlOut {
        code: String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0),
        body: fs::read(&body).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        ok: out.status.success(),
    }
}

/// `curl -sS --max-time 60 -o PATH URL`; the status code (0 when curl failed).
pub fn curl_download(url: &str, path: &Path) -> u16 {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-w", "%{http_code}", "-o"])
        .arg(path)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Whether `path` exists and holds exactly pattern `seed` of `len` bytes.
pub fn file_is_pattern(path: &Path, seed: u64, len: usize) -> bool {
    let Ok(mut f) = fs::File::open(path) else {
        return false;
    };
    let mut h = Fnv::default();
    let mut buf = vec![0u8; MIB];
    let mut total = 0;
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                total += n;
            }
            Err(_) => return false,
        }
    }
    total == len && h.0 == pattern_hash(seed, len)
}
