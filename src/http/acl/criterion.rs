//! One ACL criterion (manual §7.1): a sample expression, a match method
//! and patterns, parsed with HAProxy 2.6's flags (`-i`, `-f FILE`, `-M`,
//! `-m`, `-n`, `-u ID`, `--`) and matched by the shared pattern engine
//! (`sample::pattern` through `sample::patref`), so ACLs and map
//! converters agree on every method and the runtime API can change them.

use std::sync::Arc;

use crate::http::expr::Expr;
use crate::http::fetch::{Fetch, Kind};
use crate::sample::patref::{self, ExprSpec, PatExpr, PatRef, User};
use crate::sample::pattern::Method;
use crate::sample::{Type, Value};

/// One `acl` line or one anonymous `{ ... }` ACL.
#[derive(Debug, Clone)]
pub struct Criterion {
    pub expr: Expr,
    pub method: Method,
    /// One expression per `-f` file, then the inline patterns' (all are
    /// tried: any match is a match).
    pats: Vec<Arc<PatExpr>>,
    /// The inline patterns' reference.
    inline: Arc<PatRef>,
}

/// Equal when they read the same patterns (the same shared sets).
impl PartialEq for Criterion {
    fn eq(&self, o: &Criterion) -> bool {
        self.expr == o.expr
            && self.method == o.method
            && self.pats.len() == o.pats.len()
            && self
                .pats
                .iter()
                .zip(&o.pats)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }
}
impl Eq for Criterion {}

/// The method a fetch's type implies; none for one of any type (`var()`).
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
        "beg" | "end" | "sub" | "reg" | "dom" | "dir" | "len" => Method::from_name(suffix)?,
        _ => return None,
    };
    Some((base.to_string(), Some(m)))
}

/// Parses `CRITERION [flags] [VALUE...]` (the words after `acl NAME`, or
/// inside `{ }`).
pub fn parse_criterion(words: &[String]) -> Result<Criterion, String> {
    let whole = words.first().ok_or("missing fetch method in ACL")?.as_str();
    let (expr, convs) = crate::http::expr::split(whole)?;
    let (name, args) = match expr.find('(') {
        Some(i) => (&expr[..i], &expr[i..]),
        None => (expr, ""),
    };
    let (fetch, mut method) = match derived(name) {
        Some((base, m)) => (Fetch::parse(&format!("{base}{args}"))?, m),
        None => (Fetch::parse(expr)?, None),
    };
    let expr = Expr::new(fetch, convs)?;
    // `req.ssl_ver 3.1`: versions are dotted (HAProxy's pat_parse_dotted_ver).
    let dotted = expr.fetch == Fetch::SslVer && expr.convs.is_empty();
    let default = default_for(expr.kind());
    let need_method = || {
        format!(
            "matching method must be specified first (using '-m') when using a sample fetch of this type ('{name}')"
        )
    };
    let mut icase = false;
    let mut as_map = false;
    let mut uid = None;
    let mut pats = Vec::new();
    let mut i = 1;
    while let Some(w) = words.get(i) {
        let w = w.as_str();
        if !w.starts_with('-') || w == "-" {
            break;
        }
        i += 1;
        let mut arg = || {
            i += 1;
            words
                .get(i - 1)
                .ok_or_else(|| format!("missing argument after '{w}' in ACL"))
        };
        match w {
            "--" => break,
            "-i" => icase = true,
            // No pattern is ever resolved through the DNS here.
            "-n" => {}
            "-M" => as_map = true,
            "-u" => {
                let v = arg()?;
                let id: i64 = v
                    .parse()
                    .map_err(|_| "the argument of -u must be an integer".to_string())?;
                if !patref::id_is_free(id) {
                    return Err("the id is already used".into());
                }
                uid = Some(id);
            }
            "-m" => {
                let v = arg()?;
                if !pats.is_empty() {
                    return Err(
                        "'-m' must only be specified before patterns and files in parsing ACL expression".into(),
                    );
                }
                method = Some(Method::from_name(v).ok_or(format!("unknown match method '{v}'"))?);
            }
            "-f" => {
                let f = arg()?;
                let spec = ExprSpec {
                    method: method.or(default).ok_or_else(need_method)?,
                    icase,
                    dotted,
                    smp: None,
                };
                let open_err =
                    |e: &std::io::Error| format!("failed to open pattern file '{f}': {e}");
                pats.push(patref::load_file(f, User::Acl, as_map, spec, &open_err)?);
            }
            _ => return Err(format!("unknown ACL flag '{w}'")),
        }
    }
    let method = method.or(default).ok_or_else(need_method)?;
    let spec = ExprSpec {
        method,
        icase,
        dotted,
        smp: None,
    };
    let kw = name.split(',').next().unwrap_or(name);
    let (inline, e) = patref::inline(kw, uid, spec);
    let values = &words[i..];
    if matches!(method, Method::Int | Method::Len) {
        for text in int_patterns(values, dotted)? {
            inline.add(&text, None, None)?;
        }
    } else {
        for v in values {
            inline.add(v, None, None)?;
        }
    }
    pats.push(e);
    Ok(Criterion {
        expr,
        method,
        pats,
        inline,
    })
}

/// HAProxy's compatibility layer for integers: an operator (`eq`, `ge`,
/// `gt`, `le`, `lt`) applies to the values after it and is rewritten into
/// a range (`gt 10` is `11:`), which is what the reference keeps.
fn int_patterns(values: &[String], dotted: bool) -> Result<Vec<String>, String> {
    let mut op = "";
    let mut out = Vec::new();
    for v in values {
        if matches!(v.as_str(), "eq" | "ge" | "gt" | "le" | "lt") {
            op = v;
            continue;
        }
        let num = |s: &str| -> Option<i64> {
            match s.split_once('.') {
                Some((a, b)) if dotted => {
                    let p = |x: &str| x.parse::<i64>().ok().filter(|n| (0..65536).contains(n));
                    Some((p(a)? << 16) | p(b)?)
                }
                _ if dotted => s.parse::<i64>().ok()?.checked_mul(1 << 16),
                _ => s.parse().ok(),
            }
        };
        let text = |n: i64| {
            if dotted {
                format!("{}.{}", n >> 16, n & 0xffff)
            } else {
                n.to_string()
            }
        };
        out.push(match (op, num(v)) {
            ("le", _) => format!(":{v}"),
            ("ge", _) => format!("{v}:"),
            ("lt", Some(n)) => format!(":{}", text(n.saturating_sub(1))),
            ("gt", Some(n)) => format!("{}:", text(n.saturating_add(1))),
            _ => v.clone(),
        });
    }
    if !op.is_empty() && out.is_empty() {
        return Err(format!("missing value after operator '{op}'"));
    }
    Ok(out)
}

impl Criterion {
    /// Whether one fetched sample matches: cast to what the method reads
    /// (a sample that does not cast matches nothing), then any pattern.
    pub(super) fn matches(&self, s: &Value) -> bool {
        match self.method {
            Method::Found => true,
            Method::Bool => matches!(s.borrowed().cast(Type::Bool), Some(Value::Bool(true))),
            m => match s.borrowed().cast(m.input()) {
                Some(v) => self.pats.iter().any(|p| p.matches(&v)),
                None => false,
            },
        }
    }

    /// How many patterns it has (files and inline).
    pub fn len(&self) -> usize {
        self.pats.iter().map(|p| p.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reference of its inline patterns.
    pub fn inline_ref(&self) -> &Arc<PatRef> {
        &self.inline
    }
}
