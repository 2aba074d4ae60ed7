//! ACLs (configuration manual §7): a criterion is a fetch, a match method
//! and patterns; named ACLs OR their lines together; `if`/`unless`
//! conditions combine ACLs with `!`, implicit AND and `||`.
//!
//! A criterion (`criterion.rs`) matches through the shared pattern engine
//! (`sample::pattern`). Evaluation is three-valued for `tcp-request content`: a fetch over too
//! few bytes (that may still change) makes a failed match `NeedMore`.

use std::net::IpAddr;

use regex::{Regex, RegexBuilder};

use super::fetch::{CounterView, FetchCtx};

mod criterion;
pub use criterion::{parse_criterion, Criterion};

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
