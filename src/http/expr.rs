//! Sample expressions: a fetch and the converters after it
//! (`req.hdr(host),lower,map(hosts.map,www)`), as ACLs and `%[...]` take
//! them. The fetch reads the message (`fetch.rs`); the converters are the
//! sample layer's (`sample::conv`), run on each fetched value.

use super::fetch::{CounterView, Fetch, FetchCtx, Fetched, Kind, Sample};
use crate::sample::args::closing_paren;
use crate::sample::conv::{parse_chain, run_chain_in, Conv};
use crate::sample::{Type, Value};
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub fetch: Fetch,
    pub convs: Vec<Conv>,
}

/// Where the fetch ends: the first comma outside its parentheses (and
/// outside quotes within them).
fn fetch_end(expr: &str) -> Result<usize, String> {
    let b = expr.as_bytes();
    let Some(open) = b.iter().position(|&c| c == b'(' || c == b',') else {
        return Ok(b.len());
    };
    if b[open] == b',' {
        return Ok(open);
    }
    let close = closing_paren(b, open).ok_or_else(|| format!("missing closing ')' in '{expr}'"))?;
    Ok(close + 1)
}

/// `fetch(args),conv,...` -> (`fetch(args)`, `conv,...`).
pub fn split(expr: &str) -> Result<(&str, &str), String> {
    let end = fetch_end(expr)?;
    match expr[end..].strip_prefix(',') {
        Some(rest) => Ok((&expr[..end], rest)),
        None if end < expr.len() => Err(format!(
            "unexpected '{}' after fetch method '{}'",
            &expr[end..],
            &expr[..end]
        )),
        None => Ok((expr, "")),
    }
}

impl Expr {
    pub fn parse(expr: &str) -> Result<Expr, String> {
        let (fetch, convs) = split(expr)?;
        Expr::new(Fetch::parse(fetch)?, convs)
    }

    /// A parsed fetch and the converters' text.
    pub fn new(fetch: Fetch, convs: &str) -> Result<Expr, String> {
        let convs = if convs.is_empty() {
            Vec::new()
        } else {
            parse_chain(convs)?
        };
        Ok(Expr { fetch, convs })
    }

    /// The type of what the expression gives: the last converter's output
    /// (`set-var` passes its input's type on).
    pub fn kind(&self) -> Kind {
        match self
            .convs
            .iter()
            .rev()
            .map(Conv::output)
            .find(|t| *t != Type::Any)
        {
            None => self.fetch.kind(),
            Some(Type::Bool) => Kind::Bool,
            Some(Type::Sint) => Kind::Int,
            Some(Type::Addr | Type::Ipv4 | Type::Ipv6) => Kind::Ip,
            Some(Type::Bin) => Kind::Bin,
            Some(_) => Kind::Str,
        }
    }

    pub fn needs(&self) -> u8 {
        self.fetch.needs()
    }

    /// Every value, each through the converters (a value a converter drops
    /// is dropped).
    pub fn fetch_all_with(&self, ctx: &FetchCtx, sc: Option<&dyn CounterView>) -> Fetched {
        let mut got = self.fetch.fetch_all_with(ctx, sc);
        if !self.convs.is_empty() {
            got.values = got
                .values
                .into_iter()
                .filter_map(|s| self.convert(s, ctx))
                .collect();
        }
        got
    }

    /// The one value a log-format string uses.
    pub fn fetch_one(&self, ctx: &FetchCtx) -> Option<Sample> {
        let s = self.fetch.fetch_one(ctx)?;
        if self.convs.is_empty() {
            return Some(s);
        }
        self.convert(s, ctx)
    }

    /// The one value, as the sample layer types it (for `set-var`).
    pub fn fetch_value(&self, ctx: &FetchCtx) -> Option<Value<'static>> {
        let s = self.fetch_one(ctx)?;
        Some(to_value(&s).into_owned())
    }

    fn convert(&self, s: Sample, ctx: &FetchCtx) -> Option<Sample> {
        run_chain_in(&self.convs, to_value(&s), ctx.vars).map(to_sample)
    }
}

/// A fetched sample as the sample layer sees it (borrowed when it is
/// ASCII). A fetched string holds the message's bytes one char each
/// (`message.rs`'s Latin-1 mapping), so its bytes are the chars; a string
/// with a char past U+00FF is no such mapping and gives its UTF-8.
pub fn to_value(s: &Sample) -> Value<'_> {
    match s {
        Sample::Str(t) if t.is_ascii() || t.chars().any(|c| u32::from(c) > 0xff) => {
            Value::str(t.as_bytes())
        }
        Sample::Str(t) => Value::str(t.chars().map(|c| c as u8).collect::<Vec<u8>>()),
        Sample::Int(n) => Value::Sint(*n),
        Sample::Bool(b) => Value::Bool(*b),
        Sample::Bin(b) => Value::Bin(b.as_slice().into()),
        Sample::Ip(IpAddr::V4(a)) => Value::Ipv4(*a),
        Sample::Ip(IpAddr::V6(a)) => Value::Ipv6(*a),
    }
}

/// A sample-layer value as a fetched sample.
pub fn to_sample(v: Value) -> Sample {
    match v {
        Value::Bool(b) => Sample::Bool(b),
        Value::Sint(n) => Sample::Int(n),
        Value::Ipv4(a) => Sample::Ip(IpAddr::V4(a)),
        Value::Ipv6(a) => Sample::Ip(IpAddr::V6(a)),
        Value::Bin(b) => Sample::Bin(b.into_owned()),
        // Bytes back to one char each, losslessly (see `to_value`).
        Value::Str(t) | Value::Meth(t) => Sample::Str(t.iter().map(|&c| c as char).collect()),
    }
}
