//! Log-format strings (configuration manual §8.2.4), the one engine behind
//! `log-format`, `unique-id-format`, header values, redirect locations,
//! `return ... lf-string` bodies and `use_backend` names: compiled once at
//! config check into literals, separators, `%var`s and `%[sample]`s, each
//! with its `+Q`/`+X`/`+E` flags, then rendered per use. Which variables a
//! string may name depends on where it is used (`var::Where`); the log line
//! renders them all (`log::format`).

pub mod var;

use super::expr::Expr;
use super::fetch::{needs, to_text, Fetch, FetchCtx};
use crate::sample::args::closing_paren;
use std::fmt::Write;
use std::net::IpAddr;
use std::time::SystemTime;
pub use var::{Var, Where};

/// A field's `%{...}` flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// `+Q`: strings in double quotes.
    pub quote: bool,
    /// `+X`: addresses, ports and counters in upper-case hexadecimal.
    pub hex: bool,
    /// `+E`: `"`, `\` and `]` escaped with a backslash (RFC 5424 values).
    pub esc: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    /// Log lines: one or more spaces, written as one space unless the line
    /// already ends in one.
    Sep,
    Var(Var, Flags),
    Sample(Expr, Flags),
}

/// A compiled log-format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    parts: Vec<Part>,
    at: Where,
}

/// What renders the `%var`s of a string: the log line's context
/// (`log::format::Ctx`), or [`HttpVars`] elsewhere.
pub trait Vars {
    fn var(&self, out: &mut String, v: Var, f: Flags);
}

/// Where a `%[` expression ends: the first `]` outside its parentheses
/// (a `regsub('[0-9]+',x)` argument may hold brackets).
fn expr_end(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(&c) = b.get(i) {
        match c {
            b'(' => i = closing_paren(b, i)?,
            b']' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// A log line cannot use what is gone when it is written: the request and
/// response heads and buffers (HAProxy refuses these the same way).
/// `status` is accepted and gives no sample there, as HAProxy 2.6. A unique
/// id is made when the request head arrives: it may read the request.
fn check_sample(e: &Expr, text: &str, at: Where) -> Result<(), String> {
    // Rendering has no stick counters at hand: refused, not left empty.
    if let Fetch::Counter(..) = e.fetch {
        return Err(format!(
            "sample fetch <{text}>: stick counter fetches in a log-format string are not supported yet"
        ));
    }
    let mut n = e.needs();
    if at == Where::UniqueId {
        n &= !needs::REQ;
        // Made before any server is chosen (HAProxy refuses it too).
        if n & needs::SRV != 0 {
            return Err(format!(
                "sample fetch <{text}> may not be reliably used here because it needs 'the server connection' which is not available here"
            ));
        }
    }
    if at != Where::Http && n & (needs::REQ | needs::RES | needs::PAYLOAD) != 0 {
        if e.fetch == Fetch::Status {
            return Ok(());
        }
        let what = if n & needs::PAYLOAD != 0 {
            "request buffer contents"
        } else if n & needs::REQ != 0 {
            "HTTP request headers"
        } else {
            "HTTP response headers"
        };
        return Err(format!(
            "sample fetch <{text}> may not be reliably used here because it needs '{what}' which is not available here"
        ));
    }
    Ok(())
}

fn parse_flags(spec: &str, f: &mut Flags, s: &str) -> Result<(), String> {
    for flag in spec.split(',') {
        let (on, name) = match flag.as_bytes().first() {
            Some(b'+') => (true, &flag[1..]),
            Some(b'-') => (false, &flag[1..]),
            _ => return Err(format!("unknown log-format flag '{flag}' in '{s}'")),
        };
        match name {
            "Q" => f.quote = on,
            "X" => f.hex = on,
            "E" => f.esc = on,
            _ => return Err(format!("unknown log-format flag '{flag}' in '{s}'")),
        }
    }
    Ok(())
}

impl Format {
    /// A string used outside the log line (header value, redirect, return
    /// body, backend name).
    pub fn parse(s: &str) -> Result<Format, String> {
        Format::parse_in(s, Where::Http)
    }

    /// Compiles `s` for use `at`; errors name the offending part.
    pub fn parse_in(s: &str, at: Where) -> Result<Format, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut global = Flags::default();
        let b = s.as_bytes();
        let mut i = 0;
        let flush = |lit: &mut String, parts: &mut Vec<Part>| {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(lit)));
            }
        };
        while i < b.len() {
            match b[i] {
                // Log lines and unique ids merge spaces; elsewhere they
                // are text (HAProxy 2.6).
                b' ' if at != Where::Http => {
                    flush(&mut lit, &mut parts);
                    if parts.last() != Some(&Part::Sep) {
                        parts.push(Part::Sep);
                    }
                    i += 1;
                }
                b'%' if b.get(i + 1) == Some(&b'%') => {
                    lit.push('%');
                    i += 2;
                }
                b'%' => {
                    i += 1;
                    let mut flags = global;
                    if b.get(i) == Some(&b'{') {
                        let end = s[i..]
                            .find('}')
                            .ok_or_else(|| format!("missing '}}' in log-format '{s}'"))?;
                        parse_flags(&s[i + 1..i + end], &mut flags, s)?;
                        i += end + 1;
                    }
                    if b.get(i) == Some(&b'[') {
                        let end = expr_end(b, i + 1)
                            .ok_or_else(|| format!("missing ']' after '%[' in log-format '{s}'"))?;
                        let text = &s[i + 1..end];
                        let e =
                            Expr::parse(text).map_err(|e| format!("{e} in log-format '{s}'"))?;
                        check_sample(&e, text, at)?;
                        if at != Where::Log {
                            // HAProxy quotes samples only in log lines.
                            flags.quote = false;
                        }
                        flush(&mut lit, &mut parts);
                        parts.push(Part::Sample(e, flags));
                        i = end + 1;
                        continue;
                    }
                    let name: String = s[i..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect();
                    i += name.len();
                    if name == "o" {
                        // `%{+Q}o`: the flags apply to every later field.
                        global = flags;
                        continue;
                    }
                    let v = var::lookup(&name, s)?;
                    if !v.usable_in(at) {
                        return Err(format!(
                            "log-format variable '%{name}' is not supported yet outside 'log-format' and 'unique-id-format' ('{s}')"
                        ));
                    }
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Var(v, flags));
                }
                _ => {
                    let c = s[i..].chars().next().unwrap_or(' ');
                    lit.push(c);
                    i += c.len_utf8();
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(Format { parts, at })
    }

    /// The text itself when the string holds no field (`use_backend app`).
    pub fn as_literal(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [Part::Lit(l)] => Some(l),
            _ => None,
        }
    }

    /// Renders a string used outside the log line.
    pub fn render(&self, ctx: &FetchCtx) -> String {
        let mut out = String::new();
        self.render_with(&mut out, ctx, &HttpVars(ctx));
        out
    }

    /// Renders into `out`, the variables by `vars`, the samples from `ctx`.
    pub fn render_with(&self, out: &mut String, ctx: &FetchCtx, vars: &dyn Vars) {
        let log = self.at == Where::Log;
        let mut last_space = true;
        for p in &self.parts {
            match p {
                Part::Sep => {
                    if !last_space {
                        out.push(' ');
                        last_space = true;
                    }
                }
                Part::Lit(l) => {
                    out.push_str(l);
                    last_space = false;
                }
                Part::Var(v, f) => {
                    let before = out.len();
                    vars.var(out, *v, *f);
                    if out.len() > before {
                        last_space = false;
                    }
                }
                Part::Sample(e, f) => {
                    let v = e.fetch_one(ctx);
                    let v = v.as_ref().map(to_text);
                    if log {
                        text(out, v.as_deref(), *f, &[], true);
                    } else {
                        // A converter can make CR, LF or NUL out of wire
                        // bytes (`url_dec`, `b64dec`, `regsub`): inside a
                        // head they would start a header or a message of
                        // the client's choosing, so no control byte leaves
                        // a sample as itself: `%XX`, as HAProxy encodes
                        // samples in HTTP proxies (HTAB stays).
                        for c in v.as_deref().unwrap_or("").chars() {
                            if (c < ' ' && c != '\t') || c == '\x7f' {
                                let _ = write!(out, "%{:02X}", u32::from(c));
                            } else {
                                if f.esc && matches!(c, '"' | '\\' | ']') {
                                    out.push('\\');
                                }
                                out.push(c);
                            }
                        }
                    }
                    last_space = false;
                }
            }
        }
    }

    /// A `fetch::needs` mask of every sample used.
    pub fn needs(&self) -> u8 {
        self.parts.iter().fold(0, |m, p| match p {
            Part::Sample(e, _) => m | e.needs(),
            _ => m,
        })
    }
}

/// `+E`: backslash before `"`, `\` and `]`.
fn esc_into(out: &mut String, s: impl Iterator<Item = char>) {
    for c in s {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// `#XX` for control bytes, bytes >= 0x7f and those in `extra` (HAProxy
/// encodes `"#` in the request line, `{|}"#` in captured headers), so a
/// client cannot forge a log line. Heads hold each wire byte as one char
/// (U+0000..U+00FF), so that byte is what gets logged; any wider char is
/// logged as its UTF-8 bytes.
pub fn escape(out: &mut String, v: &str, extra: &[u8]) {
    for c in v.chars() {
        let mut utf8 = [0u8; 4];
        let bytes: &[u8] = match u8::try_from(u32::from(c)) {
            Ok(b) => &[b][..],
            Err(_) => c.encode_utf8(&mut utf8).as_bytes(),
        };
        for &b in bytes {
            if !(0x20..0x7f).contains(&b) || extra.contains(&b) {
                let _ = write!(out, "#{b:02X}");
            } else {
                out.push(b as char);
            }
        }
    }
}

/// A text field: `#XX`-escaped (see [`escape`]), then `+E`, in quotes with
/// `+Q`. Empty or absent: `""` with `+Q`, else `-` in a log line
/// (`mandatory`) and nothing elsewhere, as HAProxy.
pub fn text(out: &mut String, v: Option<&str>, f: Flags, extra: &[u8], mandatory: bool) {
    let v = v.filter(|v| !v.is_empty());
    if f.quote {
        out.push('"');
    }
    match v {
        Some(v) if f.esc => {
            let mut plain = String::with_capacity(v.len());
            escape(&mut plain, v, extra);
            esc_into(out, plain.chars());
        }
        Some(v) => escape(out, v, extra),
        None if !f.quote && mandatory => out.push('-'),
        None => {}
    }
    if f.quote {
        out.push('"');
    }
}

/// Text already escaped, with `+E` and in quotes with `+Q`.
pub fn quoted(out: &mut String, v: &str, f: Flags) {
    if f.quote {
        out.push('"');
    }
    if f.esc {
        esc_into(out, v.chars());
    } else {
        out.push_str(v);
    }
    if f.quote {
        out.push('"');
    }
}

/// An address: dotted (or quoted with `+Q`), or its bytes in hex with `+X`.
pub fn ip(out: &mut String, a: IpAddr, f: Flags) {
    if f.hex {
        let bytes = match a {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        for b in bytes {
            let _ = write!(out, "{b:02X}");
        }
    } else {
        text(out, Some(&a.to_string()), f, &[], true);
    }
}

/// A number; with `+X`, `width` upper-case hex digits at least.
pub fn num_hex(out: &mut String, n: u64, f: Flags, width: usize) {
    if f.hex {
        let _ = write!(out, "{n:0width$X}");
    } else {
        let _ = write!(out, "{n}");
    }
}

/// The variables of `Where::Http` and `Where::UniqueId`: the connection's
/// addresses, the pid, and the request's stamp (`TxnView::stamp`).
pub struct HttpVars<'a>(pub &'a FetchCtx<'a>);

impl Vars for HttpVars<'_> {
    fn var(&self, out: &mut String, v: Var, f: Flags) {
        let ctx = self.0;
        let stamp = ctx.txn.stamp;
        let since = stamp
            .date
            .and_then(|d| d.duration_since(SystemTime::UNIX_EPOCH).ok())
            .unwrap_or_default();
        // Config check refuses the others here.
        match v {
            Var::ClientIp => ip(out, ctx.src.ip(), f),
            Var::ClientPort => num_hex(out, ctx.src.port().into(), f, 4),
            Var::FrontendIp => ip(out, ctx.dst.ip(), f),
            Var::FrontendPort => num_hex(out, ctx.dst.port().into(), f, 4),
            Var::Pid => num_hex(out, std::process::id().into(), f, 4),
            Var::Frontend => text(out, Some(stamp.frontend), f, &[], false),
            Var::FrontendTransport => match stamp.tls {
                Some(_) => text(out, Some(&format!("{}~", stamp.frontend)), f, &[], false),
                None => text(out, Some(stamp.frontend), f, &[], false),
            },
            Var::SslVersion => text(out, stamp.tls.and_then(|t| t.version), f, &[], false),
            Var::SslCipher => text(out, stamp.tls.and_then(|t| t.cipher), f, &[], false),
            Var::Timestamp => num_hex(out, since.as_secs(), f, 8),
            Var::AcceptMs => {
                let _ = write!(out, "{:03}", since.subsec_millis());
            }
            Var::ReqCounter => num_hex(out, stamp.no, f, 4),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
