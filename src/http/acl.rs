//! ACLs (configuration manual §7): a criterion is a fetch, a match method
//! and patterns; named ACLs OR their lines together; `if`/`unless`
//! conditions combine ACLs with `!`, implicit AND and `||`.
//!
//! Evaluation is three-valued for `tcp-request content`: a fetch over too
//! few bytes (that may still change) makes a failed match `NeedMore`.

use std::net::IpAddr;

use regex::{Regex, RegexBuilder};

use super::expr::Expr;
use super::fetch::{CounterView, Fetch, FetchCtx, Kind, Sample};

/// A compiled regex compared by its source, so models holding one can
/// still derive `PartialEq`.
#[derive(Debug, Clone)]
pub struct Re(pub Regex);

impl PartialEq for Re {
    fn eq(&self, other: &Re) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}
impl Eq for Re {}

impl Re {
    /// Compiles `pattern`; the error names it.
    pub fn new(pattern: &str, icase: bool) -> Result<Re, String> {
        RegexBuilder::new(pattern)
            .case_insensitive(icase)
            .build()
            .map(Re)
            .map_err(|e| {
                let why = e.to_string();
                let why = why.lines().last().unwrap_or("").trim().to_string();
                format!("invalid regex '{pattern}': {why}")
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    NeedMore,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::NeedMore => Truth::NeedMore,
        }
    }
}

/// `-m` match methods (manual §7.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dom,
    Dir,
}

impl Method {
    fn parse(s: &str) -> Result<Method, String> {
        Ok(match s {
            "found" => Method::Found,
            "bool" => Method::Bool,
            "int" => Method::Int,
            "ip" => Method::Ip,
            "bin" => Method::Bin,
            "len" => Method::Len,
            "str" => Method::Str,
            "beg" => Method::Beg,
            "end" => Method::End,
            "sub" => Method::Sub,
            "reg" => Method::Reg,
            "dom" => Method::Dom,
            "dir" => Method::Dir,
            _ => return Err(format!("unknown match method '{s}'")),
        })
    }

    fn default_for(kind: Kind) -> Option<Method> {
        Some(match kind {
            Kind::Ip => Method::Ip,
            Kind::Int => Method::Int,
            Kind::Str => Method::Str,
            Kind::Bool => Method::Bool,
            Kind::Bin => Method::Bin,
            Kind::Any => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Str(String),
    Reg(Re),
    /// Inclusive range.
    Int(i64, i64),
    /// Network address and prefix length.
    Ip(IpAddr, u8),
    Bin(Vec<u8>),
}

/// One `acl` line or one anonymous `{ ... }` ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub expr: Expr,
    pub method: Method,
    pub icase: bool,
    pub patterns: Vec<Pattern>,
}

/// Derived ACL keywords: `path_beg` is `path -m beg`, and so on.
fn derived(name: &str) -> Option<(String, Option<Method>)> {
    let (base, suffix) = name.rsplit_once('_')?;
    let bases = [
        "path",
        "url",
        "base",
        "hdr",
        "req.hdr",
        "shdr",
        "res.hdr",
        "cook",
        "urlp",
        "url_param",
    ];
    if !bases.contains(&base) {
        return None;
    }
    // hdr_cnt, cook_cnt and hdr_val are other fetches, not match methods.
    let m = match suffix {
        "cnt" if ["hdr", "req.hdr", "shdr", "res.hdr", "cook"].contains(&base) => {
            return Some((format!("{base}_cnt"), None))
        }
        "val" => Method::Int,
        "ip" => Method::Ip,
        "beg" | "end" | "sub" | "reg" | "dom" | "dir" | "len" => Method::parse(suffix).ok()?,
        _ => return None,
    };
    Some((base.to_string(), Some(m)))
}

/// Parses `CRITERION [flags] [VALUE...]` (the words after `acl NAME`, or
/// inside `{ }`).
pub fn parse_criterion(words: &[String]) -> Result<Criterion, String> {
    let whole = words.first().ok_or("missing fetch method in ACL")?.as_str();
    let (expr, convs) = super::expr::split(whole)?;
    let (name, args) = match expr.find('(') {
        Some(i) => (&expr[..i], &expr[i..]),
        None => (expr, ""),
    };
    let (fetch, mut method) = match derived(name) {
        Some((base, m)) => (Fetch::parse(&format!("{base}{args}"))?, m),
        None => (Fetch::parse(expr)?, None),
    };
    let expr = Expr::new(fetch, convs)?;
    let mut icase = false;
    let mut files = Vec::new();
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let w = w.as_str();
        if !w.starts_with('-') || w == "-" {
            break;
        }
        i += 1;
        match w {
            "--" => break,
            "-i" => icase = true,
            "-n" => {}
            "-m" | "-f" => {
                let v = words
                    .get(i)
                    .ok_or_else(|| format!("missing argument after '{w}' in ACL"))?;
                i += 1;
                if w == "-m" {
                    method = Some(Method::parse(v)?);
                } else {
                    files.push(v.clone());
                }
            }
            "-u" | "-M" => return Err(format!("ACL flag '{w}' is not supported yet")),
            _ => return Err(format!("unknown ACL flag '{w}'")),
        }
    }
    let method = match method.or_else(|| Method::default_for(expr.kind())) {
        Some(m) => m,
        None => return Err(format!(
            "matching method must be specified first (using '-m') when using a sample fetch of this type ('{}')",
            name
        )),
    };
    let mut values: Vec<String> = words[i..].to_vec();
    for f in &files {
        values.extend(read_pattern_file(f)?);
    }
    let patterns = parse_patterns(&expr.fetch, method, icase, &values)?;
    Ok(Criterion {
        expr,
        method,
        icase,
        patterns,
    })
}

/// `-f FILE`: one pattern a line, as HAProxy reads them: leading blanks
/// dropped, trailing ones kept, empty lines and lines starting with `#`
/// skipped.
fn read_pattern_file(path: &str) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to open pattern file '{path}': {e}"))?;
    Ok(crate::sample::pattern::read_acl_file(&text)
        .into_iter()
        .map(|(_, l)| l.to_string())
        .collect())
}

fn parse_patterns(
    fetch: &Fetch,
    method: Method,
    icase: bool,
    values: &[String],
) -> Result<Vec<Pattern>, String> {
    match method {
        Method::Found | Method::Bool if !values.is_empty() => {
            return Err(format!(
                "match method '{}' takes no pattern, got '{}'",
                if method == Method::Found {
                    "found"
                } else {
                    "bool"
                },
                values[0]
            ))
        }
        Method::Int | Method::Len => return int_patterns(values, fetch == &Fetch::SslVer),
        _ => {}
    }
    values
        .iter()
        .map(|v| {
            Ok(match method {
                Method::Reg => Pattern::Reg(Re::new(v, icase)?),
                Method::Ip => ip_pattern(v)?,
                Method::Bin => Pattern::Bin(hex(v)?),
                _ if icase => Pattern::Str(v.to_lowercase()),
                _ => Pattern::Str(v.clone()),
            })
        })
        .collect()
}

fn hex(s: &str) -> Result<Vec<u8>, String> {
    let bad = || format!("invalid hexadecimal pattern '{s}'");
    if s.len() % 2 != 0 {
        return Err(bad());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect()
}

/// An integer, or for `req.ssl_ver` a dotted version `3.1` (= 0x30001).
fn int_value(s: &str, dotted: bool) -> Result<i64, String> {
    if dotted {
        if let Some((maj, min)) = s.split_once('.') {
            let p = |x: &str| x.parse::<i64>().ok().filter(|n| (0..65536).contains(n));
            if let (Some(a), Some(b)) = (p(maj), p(min)) {
                return Ok((a << 16) | b);
            }
            return Err(format!("invalid version '{s}'"));
        }
    }
    let n = s
        .parse::<i64>()
        .map_err(|_| format!("invalid integer pattern '{s}'"))?;
    if !dotted {
        return Ok(n);
    }
    // A bare major version `3` is 3.0; a shift would drop high bits silently.
    n.checked_mul(1 << 16)
        .ok_or_else(|| format!("invalid version '{s}'"))
}

/// Integers: `N`, ranges `A:B`, `A:`, `:B`; an operator `eq|ne?|gt|ge|lt|le`
/// before the first value applies to all values.
fn int_patterns(values: &[String], dotted: bool) -> Result<Vec<Pattern>, String> {
    let (op, values) = match values.first().map(String::as_str) {
        Some(op @ ("eq" | "gt" | "ge" | "lt" | "le")) => (op, &values[1..]),
        _ => ("", values),
    };
    if !op.is_empty() && values.is_empty() {
        return Err(format!("missing value after operator '{op}'"));
    }
    values
        .iter()
        .map(|v| {
            if !op.is_empty() {
                let n = int_value(v, dotted)?;
                let (lo, hi) = match op {
                    "gt" => (n.saturating_add(1), i64::MAX),
                    "ge" => (n, i64::MAX),
                    "lt" => (i64::MIN, n.saturating_sub(1)),
                    "le" => (i64::MIN, n),
                    _ => (n, n),
                };
                return Ok(Pattern::Int(lo, hi));
            }
            match v.split_once(':') {
                Some((a, b)) => {
                    let lo = if a.is_empty() {
                        i64::MIN
                    } else {
                        int_value(a, dotted)?
                    };
                    let hi = if b.is_empty() {
                        i64::MAX
                    } else {
                        int_value(b, dotted)?
                    };
                    if lo > hi {
                        return Err(format!("invalid integer range '{v}'"));
                    }
                    Ok(Pattern::Int(lo, hi))
                }
                None => {
                    let n = int_value(v, dotted)?;
                    Ok(Pattern::Int(n, n))
                }
            }
        })
        .collect()
}

/// `ADDR`, `ADDR/LEN` or IPv4 `ADDR/MASK`.
pub fn parse_net(s: &str) -> Result<(IpAddr, u8), String> {
    let bad = || format!("invalid IP address or network '{s}'");
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match (l.parse::<u8>(), l.parse::<std::net::Ipv4Addr>()) {
            (Ok(n), _) if n <= max => n,
            (_, Ok(mask)) if ip.is_ipv4() => {
                let m = u32::from(mask);
                if m.leading_ones() + m.trailing_zeros() != 32 {
                    return Err(bad());
                }
                m.leading_ones() as u8
            }
            _ => return Err(bad()),
        },
    };
    Ok((ip, len))
}

fn ip_pattern(s: &str) -> Result<Pattern, String> {
    let (ip, len) = parse_net(s)?;
    Ok(Pattern::Ip(ip, len))
}

/// True if `ip` is inside `net/len`; IPv4 and IPv4-mapped IPv6 compare equal.
pub fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    let v6 = |a: IpAddr| match a {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    };
    let len = if net.is_ipv4() { len + 96 } else { len };
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    v6(ip) & mask == v6(net) & mask
}

/// `dom` and `dir`: the pattern appears in the sample as whole words
/// between delimiters (or the string ends).
fn match_word(s: &str, pat: &str, delims: &[u8]) -> bool {
    let pat = pat.trim_matches(|c: char| c.is_ascii() && delims.contains(&(c as u8)));
    if pat.is_empty() {
        return true;
    }
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find(pat) {
        let start = from + i;
        let end = start + pat.len();
        let before = start == 0 || delims.contains(&b[start - 1]);
        let after = end == b.len() || delims.contains(&b[end]);
        if before && after {
            return true;
        }
        from = start + 1;
        while !s.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

impl Criterion {
    pub fn eval(&self, ctx: &FetchCtx) -> Truth {
        self.eval_with(ctx, None)
    }

    /// [`Criterion::eval`] with stick counters for `sc0_*`/`src_*` fetches.
    pub fn eval_with(&self, ctx: &FetchCtx, sc: Option<&dyn CounterView>) -> Truth {
        let got = self.expr.fetch_all_with(ctx, sc);
        if got.values.iter().any(|s| self.matches(s)) {
            return Truth::True;
        }
        if got.may_change {
            Truth::NeedMore
        } else {
            Truth::False
        }
    }

    fn matches(&self, s: &Sample) -> bool {
        match self.method {
            Method::Found => true,
            Method::Bool => match s {
                Sample::Bool(b) => *b,
                Sample::Int(n) => *n != 0,
                _ => false,
            },
            Method::Int | Method::Len => {
                let n = match (self.method, s) {
                    (Method::Len, Sample::Bin(b)) => b.len() as i64,
                    (Method::Len, _) => s.to_text().chars().count() as i64,
                    (_, Sample::Int(n)) => *n,
                    (_, Sample::Bool(b)) => i64::from(*b),
                    (_, other) => match other.to_text().trim().parse::<i64>() {
                        Ok(n) => n,
                        Err(_) => return false,
                    },
                };
                self.patterns
                    .iter()
                    .any(|p| matches!(p, Pattern::Int(lo, hi) if (*lo..=*hi).contains(&n)))
            }
            Method::Ip => {
                let ip = match s {
                    Sample::Ip(ip) => *ip,
                    other => match other.to_text().trim().parse::<IpAddr>() {
                        Ok(ip) => ip,
                        Err(_) => return false,
                    },
                };
                self.patterns
                    .iter()
                    .any(|p| matches!(p, Pattern::Ip(net, len) if in_net(ip, *net, *len)))
            }
            Method::Bin => {
                let b = match s {
                    Sample::Bin(b) => b.clone(),
                    other => other.to_text().chars().map(|c| c as u32 as u8).collect(),
                };
                self.patterns
                    .iter()
                    .any(|p| matches!(p, Pattern::Bin(x) if *x == b))
            }
            Method::Reg => {
                let t = s.to_text();
                self.patterns
                    .iter()
                    .any(|p| matches!(p, Pattern::Reg(re) if re.0.is_match(&t)))
            }
            _ => {
                let t = s.to_text();
                let t = if self.icase { t.to_lowercase() } else { t };
                self.patterns.iter().any(|p| {
                    let Pattern::Str(p) = p else { return false };
                    match self.method {
                        Method::Str => t == *p,
                        Method::Beg => t.starts_with(p.as_str()),
                        Method::End => t.ends_with(p.as_str()),
                        Method::Sub => t.contains(p.as_str()),
                        Method::Dom => match_word(&t, p, b"/?.:"),
                        _ => match_word(&t, p, b"/?"),
                    }
                })
            }
        }
    }

    /// A `fetch::needs` mask.
    pub fn needs(&self) -> u8 {
        self.expr.needs()
    }
}

/// The named ACLs of one proxy section, in declaration order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclSet {
    acls: Vec<(String, Vec<Criterion>)>,
}

impl AclSet {
    /// `acl NAME CRITERION ...` (words after `acl`): several lines with the
    /// same name OR together.
    pub fn add(&mut self, words: &[String]) -> Result<(), String> {
        let name = words
            .first()
            .ok_or("'acl' expects a name and a criterion")?;
        if let Some(c) = name
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || "-_.:".contains(c)))
        {
            return Err(format!(
                "character '{c}' is not permitted in acl name '{name}'"
            ));
        }
        if words.len() < 2 {
            return Err(format!("'acl {name}' expects a criterion"));
        }
        let crit = parse_criterion(&words[1..]).map_err(|e| format!("acl '{name}': {e}"))?;
        match self.acls.iter_mut().find(|(n, _)| n == name) {
            Some((_, list)) => list.push(crit),
            None => self.acls.push((name.clone(), vec![crit])),
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&[Criterion]> {
        self.acls
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.as_slice())
    }
}

/// HAProxy's predefined ACLs (manual §7.4), as the criteria they stand for.
fn predefined(name: &str) -> Option<Result<Criterion, String>> {
    let text: &[&str] = match name {
        "TRUE" => &["always_true"],
        "FALSE" => &["always_false"],
        "LOCALHOST" => &["src", "127.0.0.1/8", "::1"],
        "METH_CONNECT" => &["method", "CONNECT"],
        "METH_DELETE" => &["method", "DELETE"],
        "METH_GET" => &["method", "GET", "HEAD"],
        "METH_HEAD" => &["method", "HEAD"],
        "METH_OPTIONS" => &["method", "OPTIONS"],
        "METH_POST" => &["method", "POST"],
        "METH_PUT" => &["method", "PUT"],
        "METH_TRACE" => &["method", "TRACE"],
        "HTTP_URL_ABS" => &["url_reg", "^[^/:]*://"],
        "HTTP_URL_SLASH" => &["url_beg", "/"],
        "HTTP_URL_STAR" => &["url", "*"],
        "REQ_CONTENT" => &["req.len", "gt", "0"],
        "HTTP" | "HTTP_1.0" | "HTTP_1.1" | "HTTP_CONTENT" | "RDP_COOKIE" | "WAIT_END" => {
            return Some(Err(format!("predefined ACL '{name}' is not supported yet")))
        }
        _ => return None,
    };
    let words: Vec<String> = text.iter().map(|s| s.to_string()).collect();
    Some(parse_criterion(&words))
}

/// One term of a condition: a named ACL (its lines ORed) or an anonymous one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    negate: bool,
    any_of: Vec<Criterion>,
}

impl Term {
    fn eval(&self, ctx: &FetchCtx, sc: Option<&dyn CounterView>) -> Truth {
        let mut t = Truth::False;
        for c in &self.any_of {
            match c.eval_with(ctx, sc) {
                Truth::True => {
                    t = Truth::True;
                    break;
                }
                Truth::NeedMore => t = Truth::NeedMore,
                Truth::False => {}
            }
        }
        if self.negate {
            t.not()
        } else {
            t
        }
    }
}

/// `if|unless TERM...`: OR of groups, each an AND of terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    unless: bool,
    groups: Vec<Vec<Term>>,
}

/// Parses `if ...` or `unless ...`.
pub fn parse_condition(words: &[String], acls: &AclSet) -> Result<Condition, String> {
    let unless = match words.first().map(String::as_str) {
        Some("if") => false,
        Some("unless") => true,
        Some(w) => return Err(format!("expected 'if' or 'unless', got '{w}'")),
        None => return Err("expected 'if' or 'unless'".into()),
    };
    let kw = &words[0];
    if words.len() < 2 {
        return Err(format!("missing condition after '{kw}'"));
    }
    let mut groups = vec![Vec::new()];
    let mut negate = false;
    let mut i = 1;
    while i < words.len() {
        let mut w = words[i].as_str();
        i += 1;
        if w == "||" || w == "or" {
            if negate || groups.last().is_some_and(Vec::is_empty) {
                return Err(format!("missing term before '{w}' in condition"));
            }
            groups.push(Vec::new());
            continue;
        }
        if let Some(rest) = w.strip_prefix('!') {
            negate = !negate;
            if rest.is_empty() {
                continue;
            }
            w = rest;
        }
        let any_of = if w == "{" {
            let end = words[i..]
                .iter()
                .position(|x| x == "}")
                .ok_or("missing '}' after anonymous ACL in condition")?;
            let crit =
                parse_criterion(&words[i..i + end]).map_err(|e| format!("anonymous ACL: {e}"))?;
            i += end + 1;
            vec![crit]
        } else if w == "}" {
            return Err("unexpected '}' in condition".into());
        } else if let Some(c) = acls.get(w) {
            c.to_vec()
        } else if let Some(c) = predefined(w) {
            vec![c?]
        } else {
            return Err(format!("no such ACL : '{w}'"));
        };
        let term = Term {
            negate: std::mem::take(&mut negate),
            any_of,
        };
        if let Some(g) = groups.last_mut() {
            g.push(term);
        }
    }
    if negate || groups.last().is_some_and(Vec::is_empty) {
        return Err(format!("missing term at the end of the '{kw}' condition"));
    }
    Ok(Condition { unless, groups })
}

impl Condition {
    pub fn eval(&self, ctx: &FetchCtx) -> Truth {
        self.eval_with(ctx, None)
    }

    /// [`Condition::eval`] with stick counters for `sc0_*`/`src_*` fetches
    /// (without them those fetches give no sample, so they never match).
    pub fn eval_with(&self, ctx: &FetchCtx, sc: Option<&dyn CounterView>) -> Truth {
        let mut any = Truth::False;
        for group in &self.groups {
            let mut all = Truth::True;
            for term in group {
                match term.eval(ctx, sc) {
                    Truth::False => {
                        all = Truth::False;
                        break;
                    }
                    Truth::NeedMore => all = Truth::NeedMore,
                    Truth::True => {}
                }
            }
            match all {
                Truth::True => {
                    any = Truth::True;
                    break;
                }
                Truth::NeedMore => any = Truth::NeedMore,
                Truth::False => {}
            }
        }
        if self.unless {
            any.not()
        } else {
            any
        }
    }

    /// A `fetch::needs` mask of every fetch the condition uses.
    pub fn needs(&self) -> u8 {
        self.groups
            .iter()
            .flatten()
            .flat_map(|t| &t.any_of)
            .fold(0, |m, c| m | c.needs())
    }
}

/// An optional condition: absent means true.
pub fn eval_opt(cond: Option<&Condition>, ctx: &FetchCtx) -> Truth {
    cond.map_or(Truth::True, |c| c.eval(ctx))
}

/// [`eval_opt`] with stick counters.
pub fn eval_opt_with(
    cond: Option<&Condition>,
    ctx: &FetchCtx,
    sc: Option<&dyn CounterView>,
) -> Truth {
    cond.map_or(Truth::True, |c| c.eval_with(ctx, sc))
}

#[cfg(test)]
mod tests;
