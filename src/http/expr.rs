//! Sample expressions: a fetch and the converters after it
//! (`req.hdr(host),lower,map(hosts.map,www)`), as ACLs and `%[...]` take
//! them. The fetch reads the message (`fetch.rs`); the converters are the
//! sample layer's (`sample::conv`), run on each fetched value.

use super::fetch::{CounterView, Fetch, FetchCtx, Fetched, Kind};
use crate::sample::args::closing_paren;
use crate::sample::conv::{parse_chain, run_chain_in, Conv};
use crate::sample::{Type, Value};

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
    pub fn fetch_all_with<'a>(
        &'a self,
        ctx: &FetchCtx<'a>,
        sc: Option<&dyn CounterView>,
    ) -> Fetched<'a> {
        let got = self.fetch.fetch_all_with(ctx, sc);
        if self.convs.is_empty() {
            return got;
        }
        got.filter_map(|v| self.convert(v, ctx))
    }

    /// The one value a log-format string uses.
    pub fn fetch_one<'a>(&'a self, ctx: &FetchCtx<'a>) -> Option<Value<'a>> {
        let v = self.fetch.fetch_one(ctx)?;
        if self.convs.is_empty() {
            return Some(v);
        }
        self.convert(v, ctx)
    }

    /// The one value, owned (for `set-var`).
    pub fn fetch_value(&self, ctx: &FetchCtx) -> Option<Value<'static>> {
        Some(self.fetch_one(ctx)?.into_owned())
    }

    fn convert<'a>(&'a self, v: Value<'a>, ctx: &FetchCtx<'a>) -> Option<Value<'a>> {
        // A method reads as a string from here on, as fetched values did
        // before the converters saw them.
        let v = match run_chain_in(&self.convs, v, ctx.vars)? {
            Value::Meth(m) => Value::Str(m),
            v => v,
        };
        Some(v)
    }
}
