//! Message body framing (RFC 9112 §6): Content-Length, chunked, close-delimited.
//!
//! Requests (RFC 9112 §6.3, strict: never guess):
//! - Transfer-Encoding and Content-Length together: 400.
//! - Transfer-Encoding in an HTTP/1.0 request: 400 (§6.1: faulty framing).
//! - Transfer-Encoding: a comma list over every TE line, empty elements
//!   skipped (RFC 9110 §5.6.1), coding names compared ignoring case. The final
//!   coding must be `chunked` (else 400); `chunked` at most once (else 400) and
//!   without parameters; an invalid token or no coding at all is 400; a coding
//!   other than chunked, gzip, x-gzip, deflate, compress, x-compress or
//!   identity is 501 (§6.1).
//! - Content-Length: every value of every line, split on commas; each element
//!   is 1*DIGIT (no sign, no inner space, no hex, no empty element) and fits a
//!   u64, else 400; all equal → that length, differing → 400.
//! - A header named like Transfer-Encoding or Content-Length with `_` for `-`
//!   (`Transfer_Encoding`) is 400: CGI-style backends map both to the same
//!   variable and would frame the body differently from us.
//! - Normalisation (`normalize_request_framing`): what we forward carries
//!   exactly one `Content-Length: N` (at the place of the first one), or one
//!   `Transfer-Encoding` line listing the codings in lower case joined by ", "
//!   (`chunked`, `gzip, chunked`).
//!
//! Responses (every error is 502): after HEAD, for 1xx, 204 and 304, and for a
//! 2xx to CONNECT there is no body. Otherwise TE wins over CL (§6.3 rule 3:
//! `normalize_response_framing` then drops the CL): final coding chunked →
//! Chunked, else close-delimited; chunked twice or a bad token → 502; TE in an
//! HTTP/1.0 response → 502 (strict). CL as for requests, else close-delimited.
//!
//! `BodyTracker` validates chunked framing as bytes pass (they are forwarded
//! unchanged, not de-chunked), so it is strict where the head parser is
//! lenient: chunk lines and trailers end with CRLF only, a chunk size is hex
//! digits (any number of leading zeros, but a value past 64 bits is rejected:
//! some parsers truncate), optional SP/HTAB only before a `;` extension,
//! extensions forwarded only when well formed (RFC 9112 §7.1.1: token names,
//! token or quoted-string values; an unclosed quote is 400), the size line
//! bounded to `MAX_CHUNK_LINE` bytes, trailers validated like header
//! lines and bounded to `MAX_TRAILERS`. Its errors have status 400 (the caller
//! sends 502 instead when tracking a response); `at` counts from the first
//! body byte.

use super::message::{Headers, Request, Response};
use super::parser::{is_field_vchar, is_tchar, ParseError};
use super::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding, ends with the last chunk and trailers.
    Chunked,
    /// Until the server closes (responses only).
    UntilClose,
}

/// Longest chunk-size line (size, extensions, BWS) we accept.
pub const MAX_CHUNK_LINE: u64 = 4096;
/// Largest trailer section we accept.
pub const MAX_TRAILERS: u64 = 16384;

fn err(status: u16, reason: &'static str) -> ParseError {
    ParseError::new(status, reason, 0)
}

fn is_te(name: &str) -> bool {
    name.eq_ignore_ascii_case("transfer-encoding")
}

fn is_cl(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-length")
}

/// `Transfer_Encoding`, `content_length` ...: a look-alike of a framing header.
fn is_lookalike(name: &str) -> bool {
    let like = |target: &str| {
        name.len() == target.len()
            && name.contains('_')
            && name
                .bytes()
                .zip(target.bytes())
                .all(|(a, b)| a.to_ascii_lowercase() == b || (a == b'_' && b == b'-'))
    };
    like("transfer-encoding") || like("content-length")
}

/// Content-Length over every line and list element: Ok(None) when absent.
fn content_length<'a>(values: impl Iterator<Item = &'a str>) -> Result<Option<u64>, &'static str> {
    let mut found: Option<u64> = None;
    for v in values {
        for elem in v.split(',') {
            let e = elem.trim_matches([' ', '\t']);
            if e.is_empty() {
                return Err("empty Content-Length value");
            }
            let mut n: u64 = 0;
            for c in e.bytes() {
                if !c.is_ascii_digit() {
                    return Err("invalid Content-Length value");
                }
                n = n
                    .checked_mul(10)
                    .and_then(|n| n.checked_add((c - b'0') as u64))
                    .ok_or("Content-Length value too large")?;
            }
            match found {
                Some(f) if f != n => return Err("differing Content-Length values"),
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// What a Transfer-Encoding list says.
#[derive(Default)]
struct Codings {
    present: bool,
    final_chunked: bool,
    chunked_count: u32,
    unknown: bool,
}

const KNOWN_CODINGS: &[&str] = &[
    "chunked",
    "gzip",
    "x-gzip",
    "deflate",
    "compress",
    "x-compress",
    "identity",
];

/// Calls `f` with each coding element (trimmed, non-empty) of every TE line.
fn for_each_coding<'a, E>(
    values: impl Iterator<Item = &'a str>,
    mut f: impl FnMut(&'a str) -> Result<(), E>,
) -> Result<(), E> {
    for v in values {
        for elem in v.split(',') {
            let e = elem.trim_matches([' ', '\t']);
            if !e.is_empty() {
                f(e)?;
            }
        }
    }
    Ok(())
}

fn codings<'a>(values: impl Iterator<Item = &'a str>) -> Result<Codings, &'static str> {
    let mut c = Codings::default();
    for_each_coding(values, |e| {
        let (name, params) = match e.split_once(';') {
            Some((n, p)) => (n.trim_end_matches([' ', '\t']), Some(p)),
            None => (e, None),
        };
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err("invalid transfer coding");
        }
        let chunked = name.eq_ignore_ascii_case("chunked");
        if chunked {
            if params.is_some() {
                return Err("parameters on chunked transfer coding");
            }
            c.chunked_count += 1;
        } else if !KNOWN_CODINGS.iter().any(|k| name.eq_ignore_ascii_case(k)) {
            c.unknown = true;
        }
        c.present = true;
        c.final_chunked = chunked;
        Ok(())
    })?;
    Ok(c)
}

/// Body framing of a request, or the error to answer (RFC 9112 §6.3).
pub fn request_framing(req: &Request) -> Result<Framing, ParseError> {
    let (mut te, mut cl) = (false, false);
    for (n, _) in &req.headers {
        if is_te(n) {
            te = true;
        } else if is_cl(n) {
            cl = true;
        } else if is_lookalike(n) {
            return Err(err(400, "look-alike of a framing header name"));
        }
    }
    if te && cl {
        // RFC 9112 §6.3: TE and CL together: reject, never guess.
        return Err(err(400, "both Transfer-Encoding and Content-Length"));
    }
    if te {
        if req.version == Version::Http10 {
            return Err(err(400, "Transfer-Encoding in an HTTP/1.0 request"));
        }
        let c = codings(req.header_values("transfer-encoding")).map_err(|r| err(400, r))?;
        if !c.present {
            return Err(err(400, "empty Transfer-Encoding"));
        }
        if !c.final_chunked {
            return Err(err(400, "final transfer coding is not chunked"));
        }
        if c.chunked_count > 1 {
            return Err(err(400, "chunked applied more than once"));
        }
        if c.unknown {
            return Err(err(501, "unknown transfer coding"));
        }
        return Ok(Framing::Chunked);
    }
    match content_length(req.header_values("content-length")) {
        Ok(Some(n)) => Ok(Framing::Length(n)),
        Ok(None) => Ok(Framing::None),
        Err(r) => Err(err(400, r)),
    }
}

/// Body framing of a response to a `req_method` request; errors are 502.
pub fn response_framing(res: &Response, req_method: &str) -> Result<Framing, ParseError> {
    let s = res.status;
    if req_method == "HEAD" || (100..200).contains(&s) || s == 204 || s == 304 {
        return Ok(Framing::None);
    }
    if req_method == "CONNECT" && (200..300).contains(&s) {
        return Ok(Framing::None);
    }
    if res.headers.iter().any(|(n, _)| is_te(n)) {
        if res.version == Version::Http10 {
            return Err(err(502, "Transfer-Encoding in an HTTP/1.0 response"));
        }
        let c = codings(res.header_values("transfer-encoding")).map_err(|r| err(502, r))?;
        if c.chunked_count > 1 {
            return Err(err(502, "chunked applied more than once"));
        }
        return Ok(if c.final_chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    match content_length(res.header_values("content-length")) {
        Ok(Some(n)) => Ok(Framing::Length(n)),
        Ok(None) => Ok(Framing::UntilClose),
        Err(r) => Err(err(502, r)),
    }
}

/// Rewrites the framing headers of an accepted request so that what we send
/// is unambiguous: one Content-Length, or one Transfer-Encoding ending in
/// chunked (`forward::impose_request_framing`, applied again after the rules).
pub fn normalize_request_framing(req: &mut Request, f: &Framing) {
    super::forward::impose_request_framing(req, f);
}

/// Same for responses: one Content-Length, or one Transfer-Encoding and no
/// Content-Length (RFC 9112 §6.3 rule 3). Left alone for bodiless responses,
/// where Content-Length describes the representation (HEAD, 304).
pub fn normalize_response_framing(res: &mut Response, f: &Framing) {
    super::forward::impose_response_framing(res, f);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Done,
    Length,
    UntilClose,
    /// Chunk-size hex digits.
    Size,
    /// SP/HTAB after the size: only a `;` extension may follow.
    SizeBws,
    /// After `;`: optional BWS then an extension name (a token).
    ExtStart,
    ExtName,
    /// BWS after a name: `=` or the next `;`.
    ExtNameBws,
    /// After `=`: optional BWS then a token or a quoted string.
    ExtValStart,
    ExtToken,
    ExtQuoted,
    /// After a backslash in a quoted string.
    ExtQuotedPair,
    /// After the closing quote: `;`, BWS or the end of the line.
    ExtAfterQuote,
    /// BWS after a value: only the next `;` may follow.
    ExtValBws,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    EndLf,
    Failed,
}

/// Follows one message body as it streams through, validating chunked framing.
#[derive(Debug, Clone)]
pub struct BodyTracker {
    state: Body,
    /// Bytes left in the body (Length) or in the current chunk (Data).
    remaining: u64,
    /// Hex digits read of the current chunk size, and how many of them are
    /// leading zeros.
    digits: u32,
    zeros: u32,
    /// Bytes of an unfinished chunk-size line at the end of the last `advance`'s
    /// data, not claimed yet: the next call's data starts with them.
    held: usize,
    /// See `cuts()`.
    cuts: Vec<(usize, usize)>,
    /// Bytes of the current chunk-size line, or of the trailer section.
    line: u64,
    /// Body bytes accepted so far.
    offset: u64,
    /// What HAProxy 2.6 would count of the body so far (`htx_len`), and,
    /// inside a trailer value, whether it started and the blanks pending.
    htx: u64,
    in_value: bool,
    blanks: u64,
    error: Option<ParseError>,
}

fn chunk_err(reason: &'static str, at: u64) -> ParseError {
    ParseError::new(400, reason, at as usize)
}

impl BodyTracker {
    pub fn new(f: Framing) -> BodyTracker {
        let (state, remaining) = match f {
            Framing::None | Framing::Length(0) => (Body::Done, 0),
            Framing::Length(n) => (Body::Length, n),
            Framing::Chunked => (Body::Size, 0),
            Framing::UntilClose => (Body::UntilClose, 0),
        };
        BodyTracker {
            state,
            remaining,
            digits: 0,
            zeros: 0,
            held: 0,
            cuts: Vec::new(),
            line: 0,
            offset: 0,
            htx: 0,
            in_value: false,
            blanks: 0,
            error: None,
        }
    }

    /// What HAProxy 2.6 counts of this body so far in its logs (%B, %U):
    /// its internal (HTX) size, the data without the chunked framing, plus
    /// for a chunked body each trailer's name and value and 1 for the end.
    pub fn htx_len(&self) -> u64 {
        self.htx
    }

    /// The whole body has passed (for UntilClose: the peer closed).
    pub fn is_done(&self) -> bool {
        self.state == Body::Done
    }

    /// Body bytes accepted so far.
    pub fn consumed(&self) -> u64 {
        self.offset
    }

    /// How many bytes at the start of `data` belong to this body; the rest
    /// belong to the next message and must not be forwarded with this one.
    pub fn advance(&mut self, data: &[u8]) -> Result<usize, ParseError> {
        let n = match self.state {
            Body::Done => return Ok(0),
            Body::Failed => return Err(self.error.clone().unwrap_or(chunk_err("body error", 0))),
            Body::UntilClose => {
                self.htx += data.len() as u64;
                data.len()
            }
            Body::Length => {
                let n = self.remaining.min(data.len() as u64);
                self.remaining -= n;
                self.htx += n;
                if self.remaining == 0 {
                    self.state = Body::Done;
                }
                n as usize
            }
            _ => {
                // `data` starts with the held bytes of an unfinished size line,
                // scanned already.
                self.cuts.clear();
                let skip = self.held.min(data.len());
                match self.chunked(&data[skip..], skip) {
                    Ok(n) => {
                        // A size line is claimed only once complete, so that
                        // its leading zeros can still be cut (`cuts`).
                        self.held = if self.in_size_line() || self.state == Body::SizeLf {
                            self.line as usize
                        } else {
                            0
                        };
                        (skip + n).saturating_sub(self.held)
                    }
                    Err(e) => {
                        self.state = Body::Failed;
                        self.error = Some(e.clone());
                        return Err(e);
                    }
                }
            }
        };
        self.offset += n as u64;
        Ok(n)
    }

    /// Byte ranges (start, len) of the data given to the last `advance` that
    /// must not be forwarded: leading zeros of a chunk size longer than 16
    /// digits. Chunked bodies pass byte for byte, and a server that reads at
    /// most 16 digits would take `00000000000000005` for a last chunk; HAProxy
    /// re-chunks, pollux trims. In ascending order, inside the claimed bytes.
    pub fn cuts(&self) -> &[(usize, usize)] {
        &self.cuts
    }

    /// The peer closed: fine once the body is complete or if it is close-delimited.
    pub fn eof(&mut self) -> Result<(), ParseError> {
        match self.state {
            Body::Done => Ok(()),
            Body::UntilClose => {
                self.state = Body::Done;
                Ok(())
            }
            _ => Err(ParseError::new(400, "truncated body", self.offset as usize)),
        }
    }

    fn in_size_line(&self) -> bool {
        matches!(
            self.state,
            Body::Size
                | Body::SizeBws
                | Body::ExtStart
                | Body::ExtName
                | Body::ExtNameBws
                | Body::ExtValStart
                | Body::ExtToken
                | Body::ExtQuoted
                | Body::ExtQuotedPair
                | Body::ExtAfterQuote
                | Body::ExtValBws
        )
    }

    /// One byte of a chunk-size line (RFC 9112 §7.1, §7.1.1):
    /// `chunk-size *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ) CRLF`.
    /// Extensions are forwarded as received, so they must be well formed.
    fn size_line(&mut self, c: u8) -> Result<Body, &'static str> {
        let ws = c == b' ' || c == b'\t';
        Ok(match (self.state, c) {
            (Body::Size, _) if c.is_ascii_hexdigit() => {
                // Leading zeros are fine; a size past 64 bits is not (some
                // parsers would truncate it to another length).
                if self.remaining >> 60 != 0 {
                    return Err("chunk size too large");
                }
                let d = (c as char).to_digit(16).unwrap_or(0);
                if self.remaining == 0 && d == 0 {
                    self.zeros = self.zeros.saturating_add(1);
                }
                self.remaining = (self.remaining << 4) | u64::from(d);
                self.digits = self.digits.saturating_add(1);
                Body::Size
            }
            (Body::Size, _) if self.digits == 0 => return Err("invalid chunk size"),
            (Body::Size, b';') | (Body::SizeBws, b';') => Body::ExtStart,
            (Body::Size, b'\r') => Body::SizeLf,
            (Body::Size, _) if ws => Body::SizeBws,
            (Body::Size, _) => return Err("invalid chunk size"),
            (Body::SizeBws, _) if ws => Body::SizeBws,
            (Body::SizeBws, _) => return Err("whitespace after chunk size"),
            (Body::ExtStart, _) if ws => Body::ExtStart,
            (Body::ExtStart, _) if is_tchar(c) => Body::ExtName,
            (Body::ExtStart, _) => return Err("invalid chunk extension name"),
            (Body::ExtName, _) if is_tchar(c) => Body::ExtName,
            (Body::ExtName | Body::ExtNameBws, _) if ws => Body::ExtNameBws,
            (Body::ExtName | Body::ExtNameBws, b'=') => Body::ExtValStart,
            (Body::ExtValStart, _) if ws => Body::ExtValStart,
            (Body::ExtValStart, b'"') => Body::ExtQuoted,
            (Body::ExtValStart | Body::ExtToken, _) if is_tchar(c) => Body::ExtToken,
            (Body::ExtValStart, _) => return Err("invalid chunk extension value"),
            (Body::ExtQuoted, b'"') => Body::ExtAfterQuote,
            (Body::ExtQuoted, b'\\') => Body::ExtQuotedPair,
            (Body::ExtQuoted, b'\r') => {
                return Err("unterminated quoted string in chunk extension")
            }
            // qdtext: HTAB, SP, VCHAR but '"' and '\\', obs-text.
            (Body::ExtQuoted, _) if ws || is_field_vchar(c) => Body::ExtQuoted,
            (Body::ExtQuotedPair, _) if ws || is_field_vchar(c) => Body::ExtQuoted,
            (Body::ExtToken | Body::ExtAfterQuote | Body::ExtValBws, _) if ws => Body::ExtValBws,
            (
                Body::ExtName
                | Body::ExtNameBws
                | Body::ExtToken
                | Body::ExtAfterQuote
                | Body::ExtValBws,
                b';',
            ) => Body::ExtStart,
            (Body::ExtName | Body::ExtToken | Body::ExtAfterQuote, b'\r') => Body::SizeLf,
            _ => return Err("invalid character in chunk extension"),
        })
    }

    /// Scans `data`, which starts `base` bytes into what `advance` was given.
    fn chunked(&mut self, data: &[u8], base: usize) -> Result<usize, ParseError> {
        let mut i = 0;
        while i < data.len() {
            let c = data[i];
            let at = self.offset + (base + i) as u64;
            match self.state {
                _ if self.in_size_line() => {
                    self.state = self.size_line(c).map_err(|r| chunk_err(r, at))?;
                    self.line += 1;
                }
                Body::SizeLf => {
                    if c != b'\n' {
                        return Err(chunk_err("bare CR in chunk size line", at));
                    }
                    if self.digits > 16 {
                        // The line began `line` bytes before this LF.
                        let begin = (base + i).saturating_sub(self.line as usize);
                        let keep = if self.remaining == 0 { 1 } else { 0 };
                        let zeros = self.zeros.saturating_sub(keep) as usize;
                        if zeros > 0 {
                            self.cuts.push((begin, zeros));
                        }
                    }
                    self.zeros = 0;
                    self.line = 0;
                    self.digits = 0;
                    self.state = if self.remaining == 0 {
                        Body::TrailerStart
                    } else {
                        Body::Data
                    };
                }
                Body::Data => {
                    let n = self.remaining.min((data.len() - i) as u64);
                    self.remaining -= n;
                    self.htx += n;
                    i += n as usize;
                    if self.remaining == 0 {
                        self.state = Body::DataCr;
                    }
                    continue;
                }
                Body::DataCr => {
                    if c != b'\r' {
                        return Err(chunk_err("missing CRLF after chunk data", at));
                    }
                    self.state = Body::DataLf;
                }
                Body::DataLf => {
                    if c != b'\n' {
                        return Err(chunk_err("missing CRLF after chunk data", at));
                    }
                    self.state = Body::Size;
                }
                Body::TrailerStart => {
                    match c {
                        b'\r' => self.state = Body::EndLf,
                        _ if is_tchar(c) => {
                            self.state = Body::TrailerName;
                            self.htx += 1;
                        }
                        _ => return Err(chunk_err("invalid trailer field", at)),
                    }
                    self.line += 1;
                }
                Body::TrailerName => {
                    match c {
                        b':' => self.state = Body::TrailerValue,
                        _ if is_tchar(c) => self.htx += 1,
                        _ => return Err(chunk_err("invalid trailer field name", at)),
                    }
                    self.line += 1;
                }
                Body::TrailerValue => {
                    match c {
                        b'\r' => {
                            self.state = Body::TrailerLf;
                            (self.in_value, self.blanks) = (false, 0);
                        }
                        // Blanks count only between visible characters.
                        b' ' | b'\t' => self.blanks += u64::from(self.in_value),
                        _ if is_field_vchar(c) => {
                            self.htx += std::mem::take(&mut self.blanks) + 1;
                            self.in_value = true;
                        }
                        _ => return Err(chunk_err("invalid character in trailer value", at)),
                    }
                    self.line += 1;
                }
                Body::TrailerLf => {
                    if c != b'\n' {
                        return Err(chunk_err("bare CR in trailer", at));
                    }
                    self.state = Body::TrailerStart;
                    self.line += 1;
                }
                Body::EndLf => {
                    if c != b'\n' {
                        return Err(chunk_err("bare CR after last chunk", at));
                    }
                    self.state = Body::Done;
                    self.htx += 1;
                    return Ok(i + 1);
                }
                // Done, Length, UntilClose, Failed: not inside a chunked body.
                _ => return Ok(i),
            }
            if self.line > MAX_CHUNK_LINE && self.in_size_line() {
                return Err(chunk_err("chunk size line too long", at));
            }
            if self.line > MAX_TRAILERS {
                return Err(chunk_err("trailer section too large", at));
            }
            i += 1;
        }
        Ok(i)
    }
}

#[cfg(test)]
#[path = "body_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "smuggling_tests.rs"]
mod smuggling_tests;
