//! HTTP response compression, as HAProxy 2.6's compression filter does it:
//! `compression algo|type|offload` (the backend's settings first, else the
//! frontend's), the algorithm chosen from the request's Accept-Encoding,
//! the response compressed only when HAProxy would (HTTP/1.1 both ways,
//! 200-203, a body of known length, no Content-Encoding, no
//! `Cache-Control: no-transform`, one well-formed ETag, a listed type, not
//! multipart), and then re-framed as chunked with `Content-Encoding`, `Vary:
//! Accept-Encoding` and a weak ETag. The deflate is miniz_oxide's (pure
//! Rust, through flate2), each batch of input sync-flushed so a streamed
//! body streams on, as HAProxy's zlib/libslz does.

use super::message::{Headers, Request, Response};
use super::Version;
use flate2::{Compress, Compression as Level, Crc, FlushCompress};

/// A compression algorithm, by its configuration name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Identity,
    Gzip,
    Deflate,
    RawDeflate,
}

impl Algo {
    pub fn parse(name: &str) -> Option<Algo> {
        Some(match name {
            "identity" => Algo::Identity,
            "gzip" => Algo::Gzip,
            "deflate" => Algo::Deflate,
            "raw-deflate" => Algo::RawDeflate,
            _ => return None,
        })
    }

    /// The name clients ask for in Accept-Encoding (and the one sent in
    /// Content-Encoding): raw-deflate is offered as `deflate`, as HAProxy.
    fn token(self) -> &'static str {
        match self {
            Algo::Identity => "identity",
            Algo::Gzip => "gzip",
            Algo::Deflate | Algo::RawDeflate => "deflate",
        }
    }
}

/// One proxy's `compression` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// In HAProxy's list order: the algorithm written last comes first.
    pub algos: Vec<Algo>,
    /// Content-type prefixes, compared ignoring case.
    pub types: Vec<String>,
    pub offload: bool,
    /// `tune.comp.maxlevel` (global), set when the engine is built.
    pub level: u32,
}

/// The settings in force for one exchange: each list the backend's when
/// it has one, else the frontend's; `offload` from either.
#[derive(Debug, Clone, Copy)]
pub struct InForce<'a> {
    pub algos: &'a [Algo],
    pub types: &'a [String],
    pub offload: bool,
    pub level: u32,
}

impl<'a> InForce<'a> {
    /// None when neither proxy compresses.
    pub fn of(be: Option<&'a Settings>, fe: Option<&'a Settings>) -> Option<InForce<'a>> {
        if be.is_none() && fe.is_none() {
            return None;
        }
        let pick = |f: fn(&'a Settings) -> bool| be.filter(|s| f(s)).or(fe.filter(|s| f(s)));
        Some(InForce {
            algos: pick(|s| !s.algos.is_empty()).map_or(&[][..], |s| &s.algos),
            types: pick(|s| !s.types.is_empty()).map_or(&[][..], |s| &s.types),
            offload: be.is_some_and(|s| s.offload) || fe.is_some_and(|s| s.offload),
            level: be.or(fe).map_or(1, |s| s.level),
        })
    }
}

/// HAProxy's test for old browsers announcing "Mozilla/4" that mishandle
/// compressed responses (MSIE 6 with XP SP2 and MSIE 7+ excepted).
fn old_browser(ua: &[u8]) -> bool {
    ua.len() >= 9
        && ua.starts_with(b"Mozilla/4")
        && (ua.len() < 31
            || &ua[25..30] != b"MSIE "
            || ua[30] < b'6'
            || (ua[30] == b'6' && (ua.len() < 54 || &ua[51..54] != b"SV1")))
}

/// A q-value as HAProxy reads it: thousandths, `q=1` 1000, `q=0.5` 500.
fn qvalue(s: &str) -> u32 {
    let s = s.trim_start();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let Some(first) = int.bytes().next().filter(u8::is_ascii_digit) else {
        return 0;
    };
    if first >= b'1' {
        return 1000;
    }
    frac.bytes()
        .take(3)
        .take_while(u8::is_ascii_digit)
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * [100, 10, 1][i])
        .sum()
}

/// The algorithm for this request (None: no compression).
pub fn select(cfg: &InForce<'_>, req: &Request) -> Option<Algo> {
    if req
        .header("user-agent")
        .is_some_and(|ua| old_browser(ua.as_bytes()))
    {
        return None;
    }
    let mut best: Option<(u32, Algo)> = None;
    for value in req.header_values("accept-encoding") {
        for elem in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let tok_len = elem
                .bytes()
                .take_while(|&b| super::parser::is_tchar(b))
                .count();
            let (tok, params) = elem.split_at(tok_len);
            let q = params
                .split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix("q="))
                .map_or(1000, qvalue);
            if q <= best.map_or(0, |b| b.0) {
                continue;
            }
            let star = elem.starts_with('*');
            if let Some(&a) = cfg.algos.iter().find(|a| star || a.token() == tok) {
                best = Some((q, a));
            }
        }
    }
    match best {
        Some((_, a)) => Some(a),
        // identity is implicit: it needs no header.
        None => cfg.algos.iter().copied().find(|a| *a == Algo::Identity),
    }
}

/// Whether HAProxy 2.6 compresses this response to this request.
pub fn applies(
    cfg: &InForce<'_>,
    req: &Request,
    res: &Response,
    framing: &super::body::Framing,
) -> bool {
    use super::body::Framing;
    if req.version != Version::Http11 || res.version != Version::Http11 {
        return false;
    }
    if req.method == "HEAD" || !(200..=203).contains(&res.status) {
        return false;
    }
    if !matches!(framing, Framing::Length(_) | Framing::Chunked) {
        return false;
    }
    if res.header("content-encoding").is_some() {
        return false;
    }
    // A transfer coding besides chunked (`gzip, chunked`) stays the
    // server's: the body is left as it is.
    let other_coding = res.header_values("transfer-encoding").any(|v| {
        v.split(',')
            .map(str::trim)
            .any(|c| !c.is_empty() && !c.eq_ignore_ascii_case("chunked"))
    });
    if other_coding {
        return false;
    }
    let no_transform = res.header_values("cache-control").any(|v| {
        v.split(',')
            .any(|d| d.trim().eq_ignore_ascii_case("no-transform"))
    });
    if no_transform {
        return false;
    }
    let mut etags = res.header_values("etag");
    if let Some(e) = etags.next() {
        if !valid_etag(e) || etags.next().is_some() {
            return false;
        }
    }
    match res.header("content-type") {
        Some(ct) => {
            let lower = ct.to_ascii_lowercase();
            if lower.starts_with("multipart") {
                return false;
            }
            cfg.types.is_empty()
                || cfg
                    .types
                    .iter()
                    .any(|t| lower.starts_with(&t.to_ascii_lowercase()))
        }
        None => cfg.types.is_empty(),
    }
}

/// `"x"` or `W/"x"` (HAProxy's `http_get_etag_type`).
fn valid_etag(v: &str) -> bool {
    let v = v.trim();
    let v = v.strip_prefix("W/").unwrap_or(v);
    v.len() >= 2 && v.starts_with('"') && v.ends_with('"')
}

/// The response head of a compressed response: chunked, no length, a
/// weak ETag, `Vary` and the coding.
pub fn rewrite(res: &mut Response, algo: Algo) {
    res.del_header("content-length");
    if res.header("transfer-encoding").is_none() {
        res.add_header("Transfer-Encoding", "chunked");
    }
    let strong = res
        .headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case("etag"));
    if let Some((_, v)) = strong {
        if v.starts_with('"') {
            *v = format!("W/{v}");
        }
    }
    res.add_header("Vary", "Accept-Encoding");
    if algo != Algo::Identity {
        res.add_header("Content-Encoding", algo.token());
    }
}

/// Compresses one body, writing it as HTTP chunks.
pub struct Encoder {
    algo: Algo,
    z: Compress,
    crc: Crc,
    started: bool,
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Encoder({:?})", self.algo)
    }
}

/// gzip's header, as zlib writes it: no name, no time, Unix.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

impl Encoder {
    /// `level`: `tune.comp.maxlevel` (HAProxy's default 1).
    pub fn new(algo: Algo, level: u32) -> Encoder {
        Encoder {
            algo,
            z: Compress::new(Level::new(level.min(9)), algo == Algo::Deflate),
            crc: Crc::new(),
            started: false,
            scratch: Vec::new(),
        }
    }

    /// Compress `data` and sync-flush: one chunk appended to `out` (none
    /// when there is nothing to send yet).
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.scratch.clear();
        self.begin();
        if self.algo == Algo::Identity {
            self.scratch.extend_from_slice(data);
        } else {
            self.crc.update(data);
            self.run(data, FlushCompress::Sync);
        }
        chunk(&self.scratch, out);
    }

    /// The end of the stream, then the last chunk.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.scratch.clear();
        self.begin();
        if self.algo != Algo::Identity {
            self.run(&[], FlushCompress::Finish);
            if self.algo == Algo::Gzip {
                self.scratch
                    .extend_from_slice(&self.crc.sum().to_le_bytes());
                self.scratch
                    .extend_from_slice(&self.crc.amount().to_le_bytes());
            }
        }
        chunk(&self.scratch, out);
        out.extend_from_slice(b"0\r\n\r\n");
    }

    fn begin(&mut self) {
        if !self.started && self.algo == Algo::Gzip {
            self.scratch.extend_from_slice(&GZIP_HEADER);
        }
        self.started = true;
    }

    /// Feed all of `input` with `flush`, growing the output as needed.
    fn run(&mut self, mut input: &[u8], flush: FlushCompress) {
        loop {
            if self.scratch.capacity() - self.scratch.len() < 64 {
                self.scratch.reserve(input.len() / 2 + 1024);
            }
            let before = self.z.total_in();
            let status = self.z.compress_vec(input, &mut self.scratch, flush);
            let used = usize::try_from(self.z.total_in() - before).unwrap_or(input.len());
            input = &input[used.min(input.len())..];
            let full = self.scratch.len() == self.scratch.capacity();
            match status {
                Ok(flate2::Status::StreamEnd) => return,
                Ok(_) if input.is_empty() && !full && flush != FlushCompress::Finish => return,
                Ok(_) => {}
                // miniz_oxide reports no error on valid input; stop rather
                // than loop.
                Err(_) => return,
            }
        }
    }
}

fn chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The payload of a chunked body that `BodyTracker` already validated:
/// chunk data without sizes, extensions or trailers.
#[derive(Debug, Default)]
pub struct Dechunk {
    state: DState,
}

#[derive(Debug, Default, Clone, Copy)]
enum DState {
    /// Reading a chunk-size line: the size so far, and whether the hex
    /// digits are over (extensions follow).
    #[default]
    Start,
    Size(u64, bool),
    /// Chunk data left, then its CRLF.
    Data(u64),
    DataEnd(u8),
    /// After the last chunk: trailer lines, `1` when a line just began.
    Trailers(bool),
    Done,
}

impl Dechunk {
    /// Append the payload bytes of `input` to `out`.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            self.state = match self.state {
                DState::Start => DState::Size(0, false).step_size(b),
                s @ DState::Size(..) => s.step_size(b),
                DState::Data(left) => {
                    let n = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(input.len() - i);
                    out.extend_from_slice(&input[i..i + n]);
                    i += n;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        DState::DataEnd(2)
                    } else {
                        DState::Data(left)
                    };
                    continue;
                }
                DState::DataEnd(1) => DState::Start,
                DState::DataEnd(n) => DState::DataEnd(n - 1),
                DState::Trailers(at_start) => match (b, at_start) {
                    (b'\n', true) => DState::Done,
                    (b'\n', false) => DState::Trailers(true),
                    (b'\r', s) => DState::Trailers(s),
                    _ => DState::Trailers(false),
                },
                DState::Done => DState::Done,
            };
            i += 1;
        }
    }
}

impl DState {
    fn step_size(self, b: u8) -> DState {
        let DState::Size(n, over) = self else {
            return self;
        };
        match b {
            b'\n' if n == 0 => DState::Trailers(true),
            b'\n' => DState::Data(n),
            _ if over => self,
            b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                let d = (b as char).to_digit(16).unwrap_or(0);
                DState::Size(n.saturating_mul(16).saturating_add(u64::from(d)), false)
            }
            _ => DState::Size(n, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn req(ae: &[&str], ua: Option<&str>) -> Request {
        let mut headers: Vec<(String, String)> = ae
            .iter()
            .map(|v| ("Accept-Encoding".to_string(), v.to_string()))
            .collect();
        if let Some(ua) = ua {
            headers.push(("User-Agent".into(), ua.into()));
        }
        Request {
            method: "GET".into(),
            uri: "/".into(),
            version: Version::Http11,
            headers,
        }
    }

    #[test]
    fn the_algorithm_is_chosen_as_haproxy_chooses_it() {
        // `compression algo gzip deflate`: deflate first in the list.
        let s = Settings {
            algos: vec![Algo::Deflate, Algo::Gzip],
            ..Default::default()
        };
        let cfg = InForce::of(Some(&s), None).unwrap();
        assert_eq!(
            select(&cfg, &req(&["gzip, deflate"], None)),
            Some(Algo::Gzip)
        );
        assert_eq!(
            select(&cfg, &req(&["gzip;q=0.5, deflate"], None)),
            Some(Algo::Deflate)
        );
        assert_eq!(select(&cfg, &req(&["*"], None)), Some(Algo::Deflate));
        assert_eq!(select(&cfg, &req(&["br"], None)), None);
        assert_eq!(select(&cfg, &req(&["gzip;q=0"], None)), None);
        assert_eq!(select(&cfg, &req(&[], None)), None);
        let old = "Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)";
        assert_eq!(select(&cfg, &req(&["gzip"], Some(old))), None);
        let ok = "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)";
        assert_eq!(select(&cfg, &req(&["gzip"], Some(ok))), Some(Algo::Gzip));
        let s = Settings {
            algos: vec![Algo::Identity, Algo::Gzip],
            ..Default::default()
        };
        let id = InForce::of(None, Some(&s)).unwrap();
        assert_eq!(select(&id, &req(&["br"], None)), Some(Algo::Identity));
        // The backend's list wins when it has one; offload from either.
        let be = Settings {
            types: vec!["text/".into()],
            offload: true,
            ..Default::default()
        };
        let both = InForce::of(Some(&be), Some(&s)).unwrap();
        assert_eq!(
            (both.algos, both.types.len(), both.offload),
            (&s.algos[..], 1, true)
        );
        assert!(InForce::of(None, None).is_none());
        assert_eq!(qvalue("0.25"), 250);
        assert_eq!(qvalue("1.0"), 1000);
        assert_eq!(qvalue("x"), 0);
    }

    #[test]
    fn every_algorithm_round_trips_through_chunks() {
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| (i % 251).to_string().into_bytes())
            .collect();
        for algo in [Algo::Gzip, Algo::Deflate, Algo::RawDeflate, Algo::Identity] {
            let mut e = Encoder::new(algo, 1);
            let mut wire = Vec::new();
            for part in text.chunks(3000) {
                e.push(part, &mut wire);
            }
            e.finish(&mut wire);
            assert!(wire.ends_with(b"0\r\n\r\n"));
            let mut body = Vec::new();
            Dechunk::default().feed(&wire, &mut body);
            let mut plain = Vec::new();
            match algo {
                Algo::Gzip => {
                    flate2::read::GzDecoder::new(&body[..])
                        .read_to_end(&mut plain)
                        .unwrap();
                }
                Algo::Deflate => {
                    flate2::read::ZlibDecoder::new(&body[..])
                        .read_to_end(&mut plain)
                        .unwrap();
                }
                Algo::RawDeflate => {
                    flate2::read::DeflateDecoder::new(&body[..])
                        .read_to_end(&mut plain)
                        .unwrap();
                }
                Algo::Identity => plain = body.clone(),
            }
            assert_eq!(plain, text, "{algo:?}");
            if algo != Algo::Identity {
                assert!(body.len() < text.len() / 2, "{algo:?}: {}", body.len());
            }
        }
    }

    #[test]
    fn only_what_haproxy_compresses_is_compressed() {
        use crate::http::body::Framing;
        let s = Settings {
            algos: vec![Algo::Gzip],
            ..Default::default()
        };
        let cfg = InForce::of(Some(&s), None).unwrap();
        let r = req(&["gzip"], None);
        let res = |status: u16, h: &[(&str, &str)]| Response {
            version: Version::Http11,
            status,
            reason: "X".into(),
            headers: h
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        };
        let ok = res(200, &[("Content-Type", "text/plain")]);
        assert!(applies(&cfg, &r, &ok, &Framing::Length(10)));
        assert!(applies(&cfg, &r, &ok, &Framing::Chunked));
        assert!(!applies(&cfg, &r, &ok, &Framing::UntilClose));
        assert!(!applies(&cfg, &r, &res(204, &[]), &Framing::None));
        assert!(!applies(&cfg, &r, &res(206, &[]), &Framing::Length(1)));
        let te = res(200, &[("Transfer-Encoding", "gzip, chunked")]);
        assert!(!applies(&cfg, &r, &te, &Framing::Chunked));
        let two = res(200, &[("ETag", "\"a\""), ("ETag", "\"b\"")]);
        assert!(!applies(&cfg, &r, &two, &Framing::Length(1)));
        let bad = res(200, &[("ETag", "a")]);
        assert!(!applies(&cfg, &r, &bad, &Framing::Length(1)));
        let mut head = r.clone();
        head.method = "HEAD".into();
        assert!(!applies(&cfg, &head, &ok, &Framing::Length(1)));
        let mut old = r.clone();
        old.version = Version::Http10;
        assert!(!applies(&cfg, &old, &ok, &Framing::Length(1)));
        let mut w = res(200, &[("ETag", "\"v\""), ("Content-Length", "3")]);
        rewrite(&mut w, Algo::Gzip);
        assert_eq!(
            w.headers,
            [
                ("ETag".to_string(), "W/\"v\"".to_string()),
                ("Transfer-Encoding".into(), "chunked".into()),
                ("Vary".into(), "Accept-Encoding".into()),
                ("Content-Encoding".into(), "gzip".into()),
            ]
        );
    }

    #[test]
    fn dechunk_takes_sizes_extensions_and_trailers_out() {
        let mut out = Vec::new();
        let wire = b"3;x=y\r\nabc\r\n0A\r\n0123456789\r\n0\r\nT: v\r\n\r\n";
        let mut d = Dechunk::default();
        // Byte by byte, as data may arrive.
        for b in wire {
            d.feed(std::slice::from_ref(b), &mut out);
        }
        assert_eq!(out, b"abc0123456789");
        assert!(matches!(d.state, DState::Done));
    }
}
