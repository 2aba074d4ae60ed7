//! The compiled rules: actions, redirects, replies, `set-var`, captures,
//! address changes, `track-scN`, verdicts, and what request rules ask of
//! the engine ([`Tracker`]). Built by the config loader, run by `rules.rs`.

use std::net::SocketAddr;

use super::super::acl::Condition;
use super::super::acl::Re;
use super::super::expr::Expr;
use super::super::fetch::{to_text, CounterView, Fetch, FetchCtx, TxnView};
use super::super::format::Format;
use super::sc::GptValue;
use crate::sample::vars::{self, Conds, VarRef};
use crate::sample::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub action: Action,
    pub cond: Option<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `redirect location URL`: exactly this.
    Location,
    /// `redirect prefix P`: P followed by the request's path.
    Prefix,
    /// `redirect scheme S`: S://Host followed by the request's path.
    Scheme,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub kind: RedirectKind,
    pub target: Format,
    /// 301, 302 (default), 303, 307 or 308.
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
}

/// `http-request return`: a response built by pollux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: ReplyBody,
    /// `hdr NAME FMT` options.
    pub headers: Vec<(String, Format)>,
    /// `errorfile F`, `errorfiles NAME`, `default-errorfiles`: a whole
    /// response from elsewhere instead of one built here.
    pub raw: Option<ReplyRaw>,
}

/// Where a reply's response comes from when it is not built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyRaw {
    /// `errorfile F`, or `errorfiles NAME` once the sections are read: sent
    /// as is; empty: the connection closes without a response (HAProxy).
    Bytes(Vec<u8>),
    /// `errorfiles NAME` while `http-errors` sections may still come.
    Section(String),
    /// `default-errorfiles`: the proxy's error page for the status.
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyBody {
    Empty,
    /// `string S` or `file F` (read at config time).
    Bytes(Vec<u8>),
    /// `lf-string FMT`.
    Format(Format),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny(u16),
    /// `deny` with reply options (`errorfile`, `hdr`, `string`...).
    DenyReply(Reply),
    Tarpit(u16),
    AddHeader(String, Format),
    SetHeader(String, Format),
    DelHeader(String),
    /// Whole value matched by the regex replaced by the format, `\N` backrefs.
    ReplaceHeader(String, Re, Format),
    /// As ReplaceHeader, on each comma-separated value.
    ReplaceValue(String, Re, Format),
    SetPath(Format),
    SetQuery(Format),
    SetMethod(Format),
    SetUri(Format),
    /// `http-response set-status N [reason R]`.
    SetStatus(u16, Option<String>),
    Redirect(Redirect),
    Return(Reply),
    /// `reqadd`/`rspadd`: a whole "Name: value" line.
    LineAdd(String),
    /// `reqdel`/`rspdel`: header lines matching.
    LineDel(Re),
    /// `reqrep`/`rsprep`: a matching line (start line included) is replaced
    /// whole by the string, with `\N` backrefs.
    LineReplace(Re, String),
    /// `reqdeny` (403) / `rspdeny` (502) when the start line or a header line matches.
    LineDeny(Re, u16),
    LineAllow(Re),
    LineTarpit(Re),
    /// `http-request track-sc0|sc1|sc2 KEY [table T]`: the engine does the
    /// tracking, through the [`Tracker`] given to [`run_request_tracked`].
    TrackSc(TrackSc),
    /// `sc-inc-gpc0(N)` / `sc-inc-gpc1(N)` (slot, counter) and
    /// `sc-set-gpt0(N) VALUE`: on the entry slot N tracks, if any.
    ScIncGpc(u8, u8),
    ScSetGpt0(u8, Box<GptValue>),
    /// `http-request use-service NAME`: the proxy answers with a service.
    UseService(Service),
    /// `http-request set-src|set-src-port|set-dst|set-dst-port EXPR`: the
    /// stream's addresses as later rules, logs, `option forwardfor` and a
    /// `0.0.0.0` server see them.
    SetAddr(Addr, Expr),
    /// `http-request auth [realm R]`: a 401 asking for Basic credentials
    /// (the realm is the proxy's name unless given).
    Auth(Option<String>),
    /// `set-var`, `set-var-fmt`, `unset-var`.
    SetVar(SetVar),
    /// `http-request capture SAMPLE len N | id N`.
    Capture(Capture),
    /// `http-request wait-for-body time T [at-least N]`: the rules pause
    /// until the body is there (or N bytes of it, or the buffer is full);
    /// past T, a 408.
    WaitForBody {
        time: std::time::Duration,
        at_least: u64,
    },
}

/// `set-var(NAME[,COND...]) EXPR`, `set-var-fmt(NAME[,COND...]) FMT`,
/// `unset-var(NAME)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetVar {
    pub var: VarRef,
    pub conds: Conds,
    pub value: VarValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    Expr(Expr),
    /// `set-var-fmt`: the rendered string.
    Format(Format),
    Unset,
}

impl SetVar {
    /// An expression that gives no sample leaves the variable alone.
    pub fn run(&self, ctx: &FetchCtx) {
        let v = match &self.value {
            VarValue::Unset => return vars::unset(ctx.vars, &self.var),
            VarValue::Expr(e) => e.fetch_value(ctx),
            VarValue::Format(f) => Some(Value::str(f.render(ctx).into_bytes())),
        };
        if let Some(v) = v {
            vars::set(ctx.vars, &self.var, &v, self.conds);
        }
    }
}

/// A sample captured into a request capture slot (`%hr`,
/// `capture.req.hdr(N)`): its text, cut to `len` bytes. A sample that
/// cannot be fetched leaves the slot as it was (HAProxy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub expr: Expr,
    /// None until the config loader gives the `len` form its new slot.
    pub slot: Option<usize>,
    pub len: usize,
}

/// Which address `set-src` and its siblings change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    Src,
    SrcPort,
    Dst,
    DstPort,
}

impl Addr {
    /// `addr` with the part the sample gives replaced; None (unchanged)
    /// when the sample does not cast. An address keeps the port (both
    /// families have one); a port is cut to 16 bits, as HAProxy stores it.
    pub(super) fn apply(self, addr: SocketAddr, s: &Value) -> Option<SocketAddr> {
        let mut out = addr;
        match self {
            Addr::Src | Addr::Dst => {
                let ip = match s {
                    Value::Ipv4(a) => (*a).into(),
                    Value::Ipv6(a) => (*a).into(),
                    other => to_text(other).trim().parse().ok()?,
                };
                out.set_ip(ip);
            }
            Addr::SrcPort | Addr::DstPort => {
                let n = match s {
                    Value::Sint(n) => *n,
                    Value::Bool(b) => i64::from(*b),
                    other => to_text(other).trim().parse().ok()?,
                };
                out.set_port(n as u16);
            }
        }
        Some(out)
    }
}

/// Services `http-request use-service` can hand a request to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `prometheus-exporter`: the metrics in Prometheus' text format.
    Prometheus,
}

/// `track-scN KEY [table T]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSc {
    /// N: 0, 1 or 2.
    pub slot: u8,
    /// The sample fetch giving the key (`src`, `hdr(x-user)`...).
    pub key: Fetch,
    /// `table T`: a section holding a `stick-table`; None: the proxy's own.
    pub table: Option<String>,
}

/// What request rules need from the engine for `track-scN` actions and
/// `sc0_*`/`src_*` counter fetches (`proxy::stick::StreamTracker` is one).
pub trait Tracker {
    /// `track-scN` met with this key: start tracking it in slot N, unless
    /// slot N already tracks an entry (HAProxy keeps the first).
    fn track(&mut self, rule: &TrackSc, key: &Value);
    /// The counters ACLs read, as they are now (after earlier tracks).
    fn counters(&self) -> &dyn CounterView;
    /// The rules answered with a deny, a tarpit or an `auth` challenge: an
    /// HTTP error for the tracked entries, as HAProxy counts them.
    fn http_err(&mut self);
    /// `http-request capture`: `value` into request capture slot `slot`.
    fn capture(&mut self, _slot: usize, _value: String) {}
    /// The transaction's captures and unique id, for the fetches that read them.
    fn txn(&self) -> TxnView<'_> {
        TxnView::default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Continue,
    /// Stop evaluating, let it through.
    Allow,
    Deny(u16),
    Tarpit(u16),
    /// A full raw response (redirect, return), to be written as-is.
    Respond(Vec<u8>),
    /// `use-service`: the engine produces the response.
    Service(Service),
    /// A deny answered with these bytes (empty: closed without a word).
    DenyWith(u16, Vec<u8>),
    /// A `return ... default-errorfiles`: the proxy's error page.
    Page(u16),
    /// A `wait-for-body` rule (at this index) waits for more of the body,
    /// for at most `time`; the rules resume there once it has come.
    WaitBody {
        rule: usize,
        time: std::time::Duration,
        at_least: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpAction {
    Accept,
    Reject,
    /// `track-scN`, `sc-inc-gpc0/1`, `sc-set-gpt0` (an [`Action`] of those
    /// kinds): done through the tracker, then the next rule.
    Sc(Action),
    /// Runs and goes on to the next rule.
    SetVar(SetVar),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<Condition>,
}
