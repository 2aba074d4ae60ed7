//! Sample fetches (configuration manual §7.3): what an ACL or a log-format
//! `%[...]` reads from the connection, the request buffer or the HTTP heads.

use std::borrow::Cow;
use std::net::SocketAddr;

use super::message::{Headers, Request, Response};
use crate::sample::vars::{self, VarRef, Vars};
use crate::sample::Value;
pub use counter::{Counter, CounterView, Tracked};
pub use values::{owned_text, text, to_text, Fetched, Values};

pub mod body;
pub mod counter;
mod hello;
mod misc;
mod msg;
mod names;
mod payload;
pub mod proxy;
pub mod tls;
mod tls_bc;
mod values;

/// Everything a fetch may read. Rules over parsed heads use an empty,
/// complete payload; `tcp-request content` rules see the bytes received so far.
#[derive(Debug, Clone, Copy)]
pub struct FetchCtx<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub req: Option<&'a Request>,
    pub res: Option<&'a Response>,
    /// Bytes received so far on the request side, for `tcp-request content`.
    pub payload: &'a [u8],
    /// No more will come (inspect-delay expired or buffer full).
    pub payload_complete: bool,
    /// The stream's variables; None: no stream (only `proc` ones exist).
    pub vars: Option<&'a Vars>,
    /// What the transaction holds beyond the messages (captures, unique id).
    pub txn: TxnView<'a>,
}

/// The transaction's captures and unique id, for `capture.req.hdr(N)`,
/// `capture.res.hdr(N)` and `unique-id` (empty where they are not kept).
#[derive(Debug, Clone, Copy, Default)]
pub struct TxnView<'a> {
    pub captured_req: &'a [Option<String>],
    pub captured_res: &'a [Option<String>],
    pub unique_id: Option<&'a str>,
    pub stamp: Stamp<'a>,
    /// The request body received so far (`req.body*`), where a request is.
    pub body: Option<body::ReqBody<'a>>,
}

/// Who and when the request is, for `%f`, `%rt`, `%Ts` and `%ms` outside
/// the log line (and in `unique-id-format`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stamp<'a> {
    pub frontend: &'a str,
    /// The backend once chosen (`be_name`; before, HAProxy's answer is
    /// the frontend's name).
    pub backend: Option<&'a str>,
    /// The first request of its connection (`http_first_req`).
    pub first: bool,
    /// The proxies' state and the stream's place in it (`fe_id`, `nbsrv`...).
    pub px: proxy::Where<'a>,
    /// Its number in the process (`%rt`).
    pub no: u64,
    /// The transaction's start: the accept, or the previous one's end.
    pub date: Option<std::time::SystemTime>,
    /// The client connection's TLS session, if it has one.
    pub tls: Option<&'a tls::TlsFacts>,
    /// The server connection's TLS session, if it has one (`ssl_bc*`).
    pub bc_tls: Option<&'a tls::TlsFacts>,
}

impl<'a> FetchCtx<'a> {
    /// A context for HTTP rules: heads parsed, no pending payload.
    pub fn http(
        src: SocketAddr,
        dst: SocketAddr,
        req: Option<&'a Request>,
        res: Option<&'a Response>,
    ) -> Self {
        FetchCtx {
            src,
            dst,
            req,
            res,
            payload: &[],
            payload_complete: true,
            vars: None,
            txn: TxnView::default(),
        }
    }

    /// The same context, with the stream's variables.
    pub fn with_vars(self, vars: &'a Vars) -> Self {
        FetchCtx {
            vars: Some(vars),
            ..self
        }
    }
}

/// The output type of a fetch; it picks the default match method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ip,
    Int,
    Str,
    Bool,
    Bin,
    /// Known only when fetched (`var()`): an ACL must name its match method.
    Any,
}

/// Where a fetch reads from, to refuse it where that is not available
/// (HAProxy: "fetch method X extracts information from Y, none of which is
/// available here").
pub mod needs {
    pub const PAYLOAD: u8 = 1;
    pub const REQ: u8 = 2;
    pub const RES: u8 = 4;
    /// The transaction's captures or unique id (`TxnView`).
    pub const TXN: u8 = 8;
    /// The server connection (`ssl_bc*`): response rules and logs.
    pub const SRV: u8 = 16;
}

/// Which message a header fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Req,
    Res,
    /// `hdr()`: the request in request rules, the response in response rules.
    Auto,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    Src,
    Dst,
    SrcPort,
    DstPort,
    Method,
    Path,
    Url,
    Query,
    Base,
    /// `url_param(NAME[,DELIM])`.
    UrlParam(String, Option<char>),
    /// `hdr(NAME[,OCC])`: values split on commas.
    Hdr(Dir, String, Option<i64>),
    /// `req.fhdr(NAME[,OCC])`: whole lines.
    FHdr(Dir, String, Option<i64>),
    HdrCnt(Dir, String),
    FHdrCnt(Dir, String),
    Cook(String),
    CookCnt(String),
    /// `res.cook(NAME)` / `scook(NAME)`: the value NAME gets in the
    /// response's `Set-Cookie` headers.
    ResCook(String),
    Status,
    ReqLen,
    /// `req.payload(OFFSET,LENGTH)`; length 0: to the end of the buffer.
    /// Signed as HAProxy's integer arguments: a negative one never matches.
    Payload(i64, i64),
    SslVer,
    AlwaysTrue,
    AlwaysFalse,
    /// `str(TEXT)`, `int(N)`, `bool(B)`, `bin(HEX)`, `ipv4(A)`, `ipv6(A)`:
    /// the argument itself.
    Const(Value<'static>),
    /// `sc0_conn_cur`, `sc1_http_req_rate`, `src_conn_rate`...: a stick
    /// counter, read through the [`CounterView`] the engine provides.
    Counter(Tracked, Counter),
    /// `env`, `date`, `rand`, `uuid`, `hostname`...: no message read.
    Misc(misc::Misc),
    /// `pathq`, `base32`, `req.ver`, `req.hdrs`, `hdr_ip`, `cook_val`...
    Msg(msg::Msg),
    /// `req.proto_http`, `req.payload_lv`, `req.rdp_cookie`...
    Buf(payload::Buf),
    /// `fe_id`, `srv_name`, `nbsrv`, `be_conn`, `srv_conn`...
    Px(proxy::Px),
    /// `ssl_fc`, `ssl_fc_sni`, `ssl_fc_protocol`...
    Ssl(tls::Ssl),
    /// `ssl_bc`, `ssl_bc_protocol`, `ssl_bc_cipher`...
    SslBc(tls_bc::SslBc),
    /// `req.ssl_sni`, `req.ssl_alpn`, `req.ssl_hello_type`: a ClientHello
    /// passing through.
    Hello(hello::Hello),
    /// `req.body`, `req.body_len`, `req.body_size`, `req.body_param`.
    Body(body::Body),
    /// `var(NAME[,DEFAULT])`: the variable as stored, else the default
    /// (a string).
    Var(VarRef, Option<String>),
    /// `unique-id`: the id `unique-id-format` gave the transaction.
    UniqueId,
    /// `capture.req.hdr(N)` / `capture.res.hdr(N)`: capture slot N.
    Capture(Dir, i64),
}

/// Splits `name(a,b)` into the name and its arguments.
pub fn split_call(expr: &str) -> Result<(&str, Vec<&str>), String> {
    match expr.find('(') {
        None => Ok((expr, Vec::new())),
        Some(i) => {
            let inner = expr[i + 1..]
                .strip_suffix(')')
                .ok_or_else(|| format!("missing closing ')' in '{expr}'"))?;
            let args = if inner.is_empty() {
                Vec::new()
            } else {
                inner.split(',').collect()
            };
            Ok((&expr[..i], args))
        }
    }
}

fn want_args(name: &str, args: &[&str], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min || args.len() > max {
        let what = match (min, max) {
            (0, 0) => "no argument".to_string(),
            (a, b) if a == b => format!("{a} argument(s)"),
            (a, b) => format!("{a} to {b} arguments"),
        };
        return Err(format!("fetch method '{name}' expects {what}"));
    }
    if args.iter().take(min).any(|a| a.is_empty()) {
        return Err(format!("fetch method '{name}': empty argument"));
    }
    Ok(())
}

/// The value of a constant fetch, checked as HAProxy checks its argument.
fn constant(name: &str, a: &str) -> Result<Value<'static>, String> {
    let bad = |what: &str| {
        format!("fetch method '{name}': failed to parse '{a}' as type '{what}' at position 1")
    };
    Ok(match name {
        "str" => owned_text(a.to_string()),
        "int" => Value::Sint(int_arg(name, 1, a)?),
        "bool" => Value::Bool(match a.to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                return Err(format!(
                    "fetch method '{name}': Expects 'true', 'false', '0' or '1'"
                ))
            }
        }),
        "bin" => Value::Bin(Cow::Owned(
            (0..a.len())
                .step_by(2)
                .map(|i| a.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect::<Option<Vec<u8>>>()
                .filter(|_| a.len() % 2 == 0)
                .ok_or_else(|| bad("binary"))?,
        )),
        "ipv4" => Value::Ipv4(a.parse().map_err(|_| bad("IPv4 address"))?),
        _ => Value::Ipv6(a.parse().map_err(|_| bad("IPv6 address"))?),
    })
}

/// HAProxy keeps the last 10 occurrences of a header for negative
/// positions, so it refuses anything below -10 at config check.
pub const MIN_OCCURRENCE: i64 = -10;

/// An integer argument as HAProxy reads one: decimal with an optional sign;
/// too many digits saturate (HAProxy accepts `hdr(x,99999999999999999999)`).
fn int_arg(name: &str, pos: usize, s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "fetch method '{name}': failed to parse '{s}' as type 'integer' at position {pos}"
        ));
    }
    Ok(s.parse::<i64>().unwrap_or(if s.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    }))
}

fn occurrence(name: &str, arg: Option<&&str>) -> Result<Option<i64>, String> {
    let Some(a) = arg else {
        return Ok(None);
    };
    let n = int_arg(name, 2, a)?;
    if n < MIN_OCCURRENCE {
        return Err(format!(
            "fetch method '{name}': header occurrence must be >= {MIN_OCCURRENCE}"
        ));
    }
    Ok(Some(n))
}

impl Fetch {
    /// Parses a fetch expression like `hdr(host,1)`.
    pub fn parse(expr: &str) -> Result<Fetch, String> {
        let (name, args) = split_call(expr)?;
        let a = args.as_slice();
        let dir = |n: &str| {
            if n.starts_with("req.") {
                Dir::Req
            } else if n.starts_with("res.") || n.starts_with("shdr") {
                Dir::Res
            } else {
                Dir::Auto
            }
        };
        if let Some(c) = counter::parse(name, a) {
            return c.map(|(who, what)| Fetch::Counter(who, what));
        }
        if let Some(m) = misc::parse(name, a) {
            return m.map(Fetch::Misc);
        }
        if let Some(m) = msg::parse(name, a, Fetch::parse) {
            return m.map(Fetch::Msg);
        }
        if let Some(b) = payload::parse(name, a) {
            return b.map(Fetch::Buf);
        }
        if let Some(p) = proxy::parse(name, a) {
            return p.map(Fetch::Px);
        }
        if let Some(t) = tls::parse(name, a) {
            return t.map(Fetch::Ssl);
        }
        if let Some(t) = tls_bc::parse(name, a) {
            return t.map(Fetch::SslBc);
        }
        if let Some(h) = hello::parse(name, a) {
            return h.map(Fetch::Hello);
        }
        if let Some(b) = body::parse(name, a) {
            return b.map(Fetch::Body);
        }
        let (min, max, fetch) = match name {
            "src" => (0, 0, Fetch::Src),
            "dst" => (0, 0, Fetch::Dst),
            "src_port" => (0, 0, Fetch::SrcPort),
            "dst_port" => (0, 0, Fetch::DstPort),
            "method" => (0, 0, Fetch::Method),
            "path" => (0, 0, Fetch::Path),
            "url" => (0, 0, Fetch::Url),
            "query" => (0, 0, Fetch::Query),
            "base" => (0, 0, Fetch::Base),
            "url_param" | "urlp" => {
                want_args(name, a, 1, 2)?;
                let delim = match a.get(1) {
                    None => None,
                    Some(d) if d.chars().count() == 1 => d.chars().next(),
                    Some(d) => {
                        return Err(format!("fetch method '{name}': invalid delimiter '{d}'"))
                    }
                };
                (1, 2, Fetch::UrlParam(a[0].to_string(), delim))
            }
            "hdr" | "req.hdr" | "res.hdr" | "shdr" => {
                want_args(name, a, 1, 2)?;
                (
                    1,
                    2,
                    Fetch::Hdr(dir(name), a[0].into(), occurrence(name, a.get(1))?),
                )
            }
            "req.fhdr" | "res.fhdr" => {
                want_args(name, a, 1, 2)?;
                (
                    1,
                    2,
                    Fetch::FHdr(dir(name), a[0].into(), occurrence(name, a.get(1))?),
                )
            }
            "hdr_cnt" | "req.hdr_cnt" | "res.hdr_cnt" | "shdr_cnt" => {
                want_args(name, a, 1, 1)?;
                (1, 1, Fetch::HdrCnt(dir(name), a[0].into()))
            }
            "req.fhdr_cnt" | "res.fhdr_cnt" => {
                want_args(name, a, 1, 1)?;
                (1, 1, Fetch::FHdrCnt(dir(name), a[0].into()))
            }
            "cook" | "req.cook" => {
                want_args(name, a, 1, 1)?;
                (1, 1, Fetch::Cook(a[0].into()))
            }
            "cook_cnt" | "req.cook_cnt" => {
                want_args(name, a, 1, 1)?;
                (1, 1, Fetch::CookCnt(a[0].into()))
            }
            "res.cook" | "scook" => {
                want_args(name, a, 1, 1)?;
                (1, 1, Fetch::ResCook(a[0].into()))
            }
            "status" => (0, 0, Fetch::Status),
            "req.len" | "req_len" => (0, 0, Fetch::ReqLen),
            "req.payload" => {
                want_args(name, a, 2, 2)?;
                (
                    2,
                    2,
                    Fetch::Payload(int_arg(name, 1, a[0])?, int_arg(name, 2, a[1])?),
                )
            }
            "req.ssl_ver" | "req_ssl_ver" => (0, 0, Fetch::SslVer),
            "unique-id" => (0, 0, Fetch::UniqueId),
            "capture.req.hdr" | "capture.res.hdr" => {
                want_args(name, a, 1, 1)?;
                let n = int_arg(name, 1, a[0])?;
                let d = if name == "capture.req.hdr" {
                    Dir::Req
                } else {
                    Dir::Res
                };
                (1, 1, Fetch::Capture(d, n))
            }
            "always_true" => (0, 0, Fetch::AlwaysTrue),
            "always_false" => (0, 0, Fetch::AlwaysFalse),
            "var" => {
                // HAProxy reads the whole argument list, so `var()` is one
                // empty name.
                let var = VarRef::parse(a.first().copied().unwrap_or(""))
                    .map_err(|e| format!("fetch method 'var': {e}"))?;
                if a.len() > 2 {
                    return Err("fetch method 'var' expects 1 to 2 arguments".into());
                }
                (0, 2, Fetch::Var(var, a.get(1).map(|d| d.to_string())))
            }
            // `str()`: the empty string (HAProxy's reg-tests set variables so).
            "str" if a.is_empty() && expr.ends_with("()") => {
                (0, 0, Fetch::Const(Value::str(Vec::new())))
            }
            "str" | "int" | "bool" | "bin" | "ipv4" | "ipv6" => {
                want_args(name, a, 1, 1)?;
                (1, 1, Fetch::Const(constant(name, a[0])?))
            }
            _ => return Err(names::unknown(name)),
        };
        want_args(name, a, min, max)?;
        Ok(fetch)
    }

    pub fn kind(&self) -> Kind {
        match self {
            Fetch::Src | Fetch::Dst => Kind::Ip,
            Fetch::SrcPort
            | Fetch::DstPort
            | Fetch::HdrCnt(..)
            | Fetch::FHdrCnt(..)
            | Fetch::CookCnt(_)
            | Fetch::Status
            | Fetch::ReqLen
            | Fetch::SslVer => Kind::Int,
            Fetch::AlwaysTrue | Fetch::AlwaysFalse | Fetch::Counter(_, Counter::Tracked) => {
                Kind::Bool
            }
            Fetch::Const(c) => values::kind_of(c),
            Fetch::Payload(..) => Kind::Bin,
            Fetch::Counter(..) => Kind::Int,
            Fetch::Misc(m) => m.kind(),
            Fetch::Msg(m) => m.kind(),
            Fetch::Buf(b) => b.kind(),
            Fetch::Px(p) => p.kind(),
            Fetch::Ssl(t) => t.kind(),
            Fetch::SslBc(t) => t.kind(),
            Fetch::Hello(h) => h.kind(),
            Fetch::Body(b) => b.kind(),
            Fetch::Var(..) => Kind::Any,
            _ => Kind::Str,
        }
    }

    /// Whether [`Fetch::fetch_one`] gives one of [`Fetch::fetch_all`]'s
    /// values: not for volatile fetches (`rand`, `uuid`, `date`), stick
    /// counters, nor `http_auth_group` (its sample is the user, its ACL
    /// values the user's groups).
    pub fn one_of_all(&self) -> bool {
        match self {
            Fetch::Counter(..) => false,
            Fetch::Misc(m) => m.stable(),
            Fetch::Msg(m) => m.one_of_all(),
            _ => true,
        }
    }

    /// A `needs::*` mask of what the fetch reads.
    pub fn needs(&self) -> u8 {
        match self {
            Fetch::Src
            | Fetch::Dst
            | Fetch::SrcPort
            | Fetch::DstPort
            | Fetch::AlwaysTrue
            | Fetch::Const(_)
            | Fetch::AlwaysFalse
            | Fetch::Counter(..)
            | Fetch::Misc(_)
            | Fetch::Ssl(_)
            | Fetch::Var(..) => 0,
            Fetch::Px(p) => p.needs(),
            Fetch::ReqLen
            | Fetch::Payload(..)
            | Fetch::SslVer
            | Fetch::Buf(_)
            | Fetch::Hello(_) => needs::PAYLOAD,
            Fetch::Msg(m) => m.needs(),
            Fetch::Status | Fetch::ResCook(_) => needs::RES,
            Fetch::SslBc(_) => needs::SRV,
            Fetch::UniqueId | Fetch::Capture(..) => needs::TXN,
            Fetch::Hdr(Dir::Res, ..)
            | Fetch::FHdr(Dir::Res, ..)
            | Fetch::HdrCnt(Dir::Res, _)
            | Fetch::FHdrCnt(Dir::Res, _) => needs::RES,
            _ => needs::REQ,
        }
    }

    /// Every value (ACL use: each one is tried against the patterns).
    pub fn fetch_all<'a>(&'a self, ctx: &FetchCtx<'a>) -> Fetched<'a> {
        self.fetch(ctx, None, false)
    }

    /// [`Fetch::fetch_all`] with stick counters available.
    pub fn fetch_all_with<'a>(
        &'a self,
        ctx: &FetchCtx<'a>,
        sc: Option<&dyn CounterView>,
    ) -> Fetched<'a> {
        self.fetch(ctx, sc, false)
    }

    /// The one value a log-format or action uses (for headers: the last
    /// occurrence unless one is named, as HAProxy).
    pub fn fetch_one<'a>(&'a self, ctx: &FetchCtx<'a>) -> Option<Value<'a>> {
        self.fetch(ctx, None, true).values.pop()
    }

    fn fetch<'a>(
        &'a self,
        ctx: &FetchCtx<'a>,
        sc: Option<&dyn CounterView>,
        one: bool,
    ) -> Fetched<'a> {
        let req = ctx.req;
        let heads = |d: Dir| -> Option<&'a dyn Headers> {
            match d {
                Dir::Req => req.map(|r| r as &dyn Headers),
                Dir::Res => ctx.res.map(|r| r as &dyn Headers),
                Dir::Auto => match ctx.res {
                    Some(r) => Some(r as &dyn Headers),
                    None => req.map(|r| r as &dyn Headers),
                },
            }
        };
        let str_of = |s: Option<&'a str>| s.map_or_else(Fetched::none, |s| Fetched::one(text(s)));
        match self {
            Fetch::Src => Fetched::one(ctx.src.ip().into()),
            Fetch::Dst => Fetched::one(ctx.dst.ip().into()),
            Fetch::SrcPort => Fetched::one(Value::Sint(ctx.src.port().into())),
            Fetch::DstPort => Fetched::one(Value::Sint(ctx.dst.port().into())),
            Fetch::AlwaysTrue => Fetched::one(Value::Bool(true)),
            Fetch::AlwaysFalse => Fetched::one(Value::Bool(false)),
            Fetch::Const(c) => Fetched::one(c.borrowed()),
            Fetch::Method => str_of(req.map(|r| r.method.as_str())),
            Fetch::Path => str_of(req.map(|r| r.path())),
            Fetch::Url => str_of(req.map(|r| r.uri.as_str())),
            Fetch::Query => str_of(req.and_then(|r| r.query())),
            Fetch::Base => req.map_or_else(Fetched::none, |r| Fetched::one(msg::base(r))),
            Fetch::UrlParam(name, delim) => {
                let Some(r) = req else {
                    return Fetched::none();
                };
                let mut all = url_params(r, name, *delim).map(|v| Value::Str(Cow::Borrowed(v)));
                match one {
                    true => all.next().map_or_else(Fetched::none, Fetched::one),
                    false => Fetched::some(all.collect()),
                }
            }
            Fetch::Hdr(d, name, occ) | Fetch::FHdr(d, name, occ) => {
                let Some(h) = heads(*d) else {
                    return Fetched::none();
                };
                let split = matches!(self, Fetch::Hdr(..));
                match occ.or(one.then_some(-1)) {
                    None => Fetched::some(header_values(h, name, split).map(text).collect()),
                    Some(n) => str_of(pick(|| header_values(h, name, split), n)),
                }
            }
            Fetch::HdrCnt(d, name) | Fetch::FHdrCnt(d, name) => {
                let split = matches!(self, Fetch::HdrCnt(..));
                let n = heads(*d).map_or(0, |h| header_values(h, name, split).count());
                Fetched::one(Value::Sint(n as i64))
            }
            Fetch::Cook(name) => {
                let Some(r) = req else {
                    return Fetched::none();
                };
                if one {
                    return str_of(cookies(r, name).last());
                }
                Fetched::some(cookies(r, name).map(text).collect())
            }
            Fetch::CookCnt(name) => {
                let n = req.map_or(0, |r| cookies(r, name).count());
                Fetched::one(Value::Sint(n as i64))
            }
            Fetch::ResCook(name) => {
                let Some(r) = ctx.res else {
                    return Fetched::none();
                };
                if one {
                    return str_of(set_cookies(r, name).last());
                }
                Fetched::some(set_cookies(r, name).map(text).collect())
            }
            Fetch::Var(r, default) => match vars::lookup(ctx.vars, r) {
                // A method stored in a variable reads back as a string.
                Some(Some(Value::Meth(m))) => Fetched::one(Value::Str(m)),
                Some(Some(v)) => Fetched::one(v),
                Some(None) => str_of(default.as_deref()),
                None => Fetched::none(),
            },
            Fetch::Counter(who, what) => match sc.and_then(|v| v.counter(*who, *what)) {
                Some(n) if *what == Counter::Tracked => Fetched::one(Value::Bool(n != 0)),
                Some(n) => Fetched::one(Value::Sint(n)),
                None if *what == Counter::Tracked => Fetched::one(Value::Bool(false)),
                None => Fetched::none(),
            },
            Fetch::Status => ctx.res.map_or_else(Fetched::none, |r| {
                Fetched::one(Value::Sint(r.status.into()))
            }),
            Fetch::UniqueId => str_of(ctx.txn.unique_id),
            Fetch::Capture(d, n) => {
                let slots = match d {
                    Dir::Res => ctx.txn.captured_res,
                    _ => ctx.txn.captured_req,
                };
                str_of(
                    usize::try_from(*n)
                        .ok()
                        .and_then(|i| slots.get(i)?.as_deref()),
                )
            }
            Fetch::ReqLen => Fetched {
                values: Values::One(Value::Sint(ctx.payload.len() as i64)),
                may_change: !ctx.payload_complete,
            },
            Fetch::Payload(off, len) => match payload_range(ctx.payload.len(), *off, *len) {
                Some(r) => Fetched::one(Value::Bin(Cow::Borrowed(&ctx.payload[r]))),
                // A negative argument: no byte can ever match.
                None if *off < 0 || *len < 0 => Fetched::none(),
                None => Fetched {
                    values: Values::None,
                    may_change: !ctx.payload_complete,
                },
            },
            Fetch::SslVer => match ssl_version(ctx.payload) {
                SslVer::Version(v) => Fetched::one(Value::Sint(v)),
                SslVer::TooShort => Fetched {
                    values: Values::None,
                    may_change: !ctx.payload_complete,
                },
                SslVer::NotSsl => Fetched::none(),
            },
            Fetch::Misc(m) => m.fetch(),
            Fetch::Msg(m) => m.fetch(ctx, sc, one),
            Fetch::Buf(b) => b.fetch(ctx),
            Fetch::Px(p) => p.fetch(ctx),
            Fetch::Ssl(t) => t.fetch(ctx),
            Fetch::SslBc(t) => t.fetch(ctx),
            Fetch::Hello(h) => h.fetch(ctx, one),
            Fetch::Body(b) => b.fetch(ctx, one),
        }
    }
}

/// Values of header `name`; with `split`, comma-separated values are
/// separate (HAProxy's `hdr()`), else whole lines (`fhdr()`).
fn header_values<'a>(
    h: &'a dyn Headers,
    name: &'a str,
    split: bool,
) -> impl Iterator<Item = &'a str> + 'a {
    h.header_values(name).flat_map(move |v| {
        let (whole, parts) = if split {
            (None, Some(v.split(',').map(str::trim)))
        } else {
            (Some(v), None)
        };
        whole.into_iter().chain(parts.into_iter().flatten())
    })
}

/// The bytes `req.payload(off,len)` takes from `have` bytes, once they are
/// there; length 0: from `off` to the end (at least one byte). Checked
/// arithmetic: the arguments come from the config and may be near 2^63.
fn payload_range(have: usize, off: i64, len: i64) -> Option<std::ops::Range<usize>> {
    let off = usize::try_from(off).ok()?;
    let end = match usize::try_from(len).ok()? {
        0 if have > off => have,
        0 => return None,
        len => off.checked_add(len)?,
    };
    (end <= have).then_some(off..end)
}

/// Occurrence `n` of what `all` lists: 1 is the first, -1 the last; 0 or
/// out of range: none. `all` is walked again rather than collected.
fn pick<'a, I: Iterator<Item = &'a str>>(all: impl Fn() -> I, n: i64) -> Option<&'a str> {
    // unsigned_abs: i64::MIN has no positive i64 (no parse yields it, but
    // the engine must not rely on the parser for its safety).
    let k = usize::try_from(n.unsigned_abs()).ok()?.checked_sub(1)?;
    if n > 0 {
        return all().nth(k);
    }
    let len = all().count();
    all().nth(len.checked_sub(k + 1)?)
}

/// Values of cookie `name` in every `Cookie` header, in order.
fn cookies<'a>(r: &'a Request, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    r.header_values("cookie").flat_map(move |line| {
        line.split(';').filter_map(move |pair| {
            let pair = pair.trim();
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (n.trim() == name).then(|| v.trim())
        })
    })
}

/// Values cookie `name` is given in every `Set-Cookie` header, in order
/// (one cookie a header: the first `NAME=VALUE` pair, before attributes).
pub fn set_cookies<'a>(r: &'a Response, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    r.header_values("set-cookie").filter_map(move |line| {
        let pair = line.split(';').next()?.trim();
        let (n, v) = pair.split_once('=')?;
        (n.trim() == name).then(|| v.trim())
    })
}

/// Values of query parameter `name`, as HAProxy's `url_param`: the list
/// starts after the URI's first `delim` (`?` by default) and parameters
/// end at `&`, `;` or `delim`.
fn url_params<'a>(
    r: &'a Request,
    name: &'a str,
    delim: Option<char>,
) -> impl Iterator<Item = &'a [u8]> {
    let delim = delim.map_or(b'?', |c| u8::try_from(c).unwrap_or(b'?'));
    let uri = r.uri.as_bytes();
    let list = match uri.iter().position(|&b| b == delim) {
        Some(i) => &uri[i + 1..],
        None => &[][..],
    };
    body::params(list, name.as_bytes(), delim)
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SslVer {
    /// `(major << 16) | minor`.
    Version(i64),
    TooShort,
    NotSsl,
}

/// The SSL/TLS version announced at the start of the payload, as HAProxy's
/// `req.ssl_ver`: for SSLv3/TLS, the record layer version; for an SSLv2
/// compatible CLIENT-HELLO, the version inside it.
pub(crate) fn ssl_version(d: &[u8]) -> SslVer {
    let Some(&first) = d.first() else {
        return SslVer::TooShort;
    };
    if (0x14..=0x17).contains(&first) || first == 0xff {
        // SSLv3 record header: type, version (2 bytes), length (2 bytes).
        if d.len() < 5 {
            return SslVer::TooShort;
        }
        let version = (i64::from(d[1]) << 16) | i64::from(d[2]);
        let len = (usize::from(d[3]) << 8) | usize::from(d[4]);
        if version < 0x30000 || len == 0 || len > (1 << 14) + 2048 {
            return SslVer::NotSsl;
        }
        return SslVer::Version(version);
    }
    // SSLv2 header: 2 bytes (high bit set) or 3 bytes (with padding length).
    let (rlen, plen, rest) = if first & 0x80 != 0 {
        if d.len() < 3 {
            return SslVer::TooShort;
        }
        (
            (usize::from(first & 0x7f) << 8) | usize::from(d[1]),
            0,
            &d[2..],
        )
    } else {
        if d.len() < 4 {
            return SslVer::TooShort;
        }
        (
            (usize::from(first & 0x3f) << 8) | usize::from(d[1]),
            usize::from(d[2]),
            &d[3..],
        )
    };
    // Only CLIENT-HELLO (message type 1) is recognised.
    if rest[0] != 0x01 {
        return SslVer::NotSsl;
    }
    let h = &rest[1..];
    if h.len() < 8 {
        return SslVer::TooShort;
    }
    let word = |i: usize| (usize::from(h[i]) << 8) | usize::from(h[i + 1]);
    let version = (i64::from(h[0]) << 16) | i64::from(h[1]);
    let (cipher_len, session_len, challenge_len) = (word(2), word(4), word(6));
    let plausible = cipher_len % 3 == 0
        && (session_len == 0 || session_len == 16)
        && (16..=32).contains(&challenge_len)
        && rlen == 9 + cipher_len + session_len + challenge_len
        && plen < rlen;
    if plausible {
        SslVer::Version(version)
    } else {
        SslVer::NotSsl
    }
}

#[cfg(test)]
mod tests;
