//! HAProxy-format configuration: the lexer, the `.if` preprocessor and the
//! section parser produce this plain typed model; the runtime builds itself
//! from it. Every error is `FILE:LINE: message`.

mod cond;
mod global;
mod http;
mod lexer;
mod parser;
mod persist;
mod proxy;
mod rules;
#[cfg(test)]
mod tests;
mod values;

pub use cond::features;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::acl::Condition;
use crate::http::fetch::Fetch;
use crate::http::rules::{Rule, TcpRule};

/// A config error, displayed as `FILE:LINE: message` (line 0: `FILE: message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Where a keyword came from, kept for runtime messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub global: Global,
    /// `frontend` sections and the frontend half of `listen` sections, in order.
    pub frontends: Vec<Frontend>,
    /// `backend` sections and the backend half of `listen` sections, in order.
    pub backends: Vec<Backend>,
    /// Every `stick-table`, named after its section (a `listen` section's
    /// table is one table, shared by its two halves).
    pub stick_tables: Vec<StickTableCfg>,
    /// Messages from `.diag/.notice/.warning` and keyword warnings, already
    /// formatted `FILE:LINE: message`; the CLI prints them (unless -q).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// `maxconn` (process-wide); `-n` on the command line overrides it.
    pub maxconn: u32,
    /// `tune.bufsize`, default 16384.
    pub bufsize: usize,
    /// `tune.maxrewrite`, default 1024 (used by HTTP mode).
    pub maxrewrite: usize,
    /// `tune.maxaccept`: connections accepted per listener wake-up, default 64.
    pub maxaccept: u32,
    /// Pollers disabled by `noepoll`, `nopoll`, `nokqueue`, `noevports`
    /// (by backend name: "epoll", "poll", "kqueue", "evports").
    pub disabled_pollers: Vec<String>,
    pub daemon: bool,
    pub pidfile: Option<PathBuf>,
    pub quiet: bool,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            maxconn: 4096,
            bufsize: 16384,
            maxrewrite: 1024,
            maxaccept: 64,
            disabled_pollers: Vec::new(),
            daemon: false,
            pidfile: None,
            quiet: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Tcp,
    Http,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Http => "http",
        }
    }
}

/// `timeout ...` values; None means unset (infinite, with HAProxy's warning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub queue: Option<Duration>,
    pub tunnel: Option<Duration>,
    /// `timeout http-request`: time to receive a complete request head.
    pub http_request: Option<Duration>,
    /// `timeout http-keep-alive`: idle time between two requests.
    pub http_keep_alive: Option<Duration>,
    /// `timeout tarpit`: how long `tarpit` holds a client before answering.
    pub tarpit: Option<Duration>,
}

/// Connection handling from `option http-keep-alive | http-server-close |
/// httpclose` (HAProxy combines the frontend's and the backend's: the
/// stronger of the two, close > server-close > keep-alive, wins).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    /// Clients in this network get no header.
    pub except: Option<(IpAddr, u8)>,
    /// Default `X-Forwarded-For`.
    pub header: String,
    /// Only add the header if the request has none.
    pub if_none: bool,
}

/// `option originalto [except NET] [header NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalTo {
    /// Destination addresses in this network get no header.
    pub except: Option<(IpAddr, u8)>,
    /// Default `X-Original-To`.
    pub header: String,
}

/// The HTTP parts of a frontend or backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpProxy {
    /// `http-request` rules, then `req*` rules (`reqadd` last), then
    /// `redirect` rules, in that order as HAProxy. The frontend's run first,
    /// then the chosen backend's.
    pub rules_req: Vec<Rule>,
    /// `http-response` rules, then `rsp*` rules (`rspadd` last). The
    /// backend's run first, then the frontend's.
    pub rules_res: Vec<Rule>,
    pub conn_mode: ConnMode,
    pub forwardfor: Option<ForwardFor>,
    pub originalto: Option<OriginalTo>,
    /// `errorfile CODE FILE`: the raw response to send instead of pollux's own.
    pub errorfiles: Vec<(u16, Vec<u8>)>,
    /// Both halves of one `listen` section carry the same rules: when such a
    /// frontend uses its own backend (same name), run the rules once.
    pub listen: bool,
}

/// Frontend-only switching, capture and TCP inspection settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontendRules {
    /// `use_backend NAME [if|unless COND]` in order; names checked to exist.
    pub use_backend: Vec<(String, Option<Condition>)>,
    pub monitor_uri: Option<String>,
    /// `capture request header NAME len N`.
    pub captures_req: Vec<(String, usize)>,
    /// `capture response header NAME len N`.
    pub captures_res: Vec<(String, usize)>,
    /// `capture cookie NAME len N`.
    pub capture_cookie: Option<(String, usize)>,
    /// `tcp-request connection accept|reject` rules.
    pub tcp_conn: Vec<TcpRule>,
    /// `tcp-request content accept|reject` rules.
    pub tcp_content: Vec<TcpRule>,
    /// `tcp-request inspect-delay`.
    pub inspect_delay: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// One socket address; a port range expands into several of these.
    Inet(SocketAddr),
    /// `fd@N`: an already-listening socket inherited from the parent.
    Fd(RawFd),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub addrs: Vec<BindAddr>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontend {
    pub name: String,
    pub origin: Origin,
    pub mode: Mode,
    pub binds: Vec<Bind>,
    /// Per-frontend `maxconn`; None means the global limit only.
    pub maxconn: Option<u32>,
    pub default_backend: Option<String>,
    pub timeouts: Timeouts,
    /// `option clitcpka` or `option tcpka`.
    pub clitcpka: bool,
    /// `disabled` in the section.
    pub disabled: bool,
    pub http: HttpProxy,
    pub rules: FrontendRules,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub origin: Origin,
    pub addr: SocketAddr,
    /// 0..=256, default 1.
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    /// 0 or None: no limit.
    pub maxconn: Option<u32>,
    /// `cookie VALUE`: the value of the backend's persistence cookie that
    /// designates this server.
    pub cookie: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub origin: Origin,
    pub mode: Mode,
    pub balance: Balance,
    pub servers: Vec<Server>,
    pub timeouts: Timeouts,
    /// `retries`, default 3.
    pub retries: u32,
    /// `option redispatch`.
    pub redispatch: bool,
    /// `option srvtcpka` or `option tcpka`.
    pub srvtcpka: bool,
    pub disabled: bool,
    pub http: HttpProxy,
    /// Cookie persistence and stick rules.
    pub persist: Persistence,
}

/// Session persistence settings of a backend (manual §4.2 `cookie`,
/// `option persist`, `force-persist`, `ignore-persist`, `stick`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Persistence {
    pub cookie: Option<CookieCfg>,
    /// `option persist`: a cookie naming a DOWN server still sends there.
    pub persist: bool,
    /// `force-persist` and `ignore-persist` rules, in order; the first
    /// matching rule decides.
    pub rules: Vec<PersistRule>,
    /// `stick on|match|store-request|store-response` rules, in order.
    pub stick: Vec<StickRule>,
}

/// How the persistence cookie is handled (`cookie NAME MODE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CookieMode {
    /// No mode given: the application sets the cookie; pollux only reads it.
    #[default]
    Passive,
    Insert,
    Rewrite,
    Prefix,
}

/// `cookie NAME [insert|rewrite|prefix] [indirect] [nocache] [postonly]
/// [preserve] [httponly] [secure] [domain D]... [maxidle T] [maxlife T]
/// [attr A]...`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieCfg {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    pub domains: Vec<String>,
    pub maxidle: Option<Duration>,
    pub maxlife: Option<Duration>,
    /// `attr A`: extra attributes appended to an inserted cookie.
    pub attrs: Vec<String>,
}

/// `force-persist if COND` (force: true) or `ignore-persist if COND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistRule {
    pub force: bool,
    pub cond: Condition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StickKeyType {
    Ip,
    Ipv6,
    Integer,
    String,
}

/// Counters a stick table stores (`store ...`); the server id is always kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StickStore {
    pub conn_cur: bool,
    /// `conn_cnt` (cumulated connections).
    pub conn_cnt: bool,
    /// `conn_rate(PERIOD)`.
    pub conn_rate: Option<Duration>,
    /// `http_req_cnt`.
    pub http_req_cnt: bool,
    /// `http_req_rate(PERIOD)`.
    pub http_req_rate: Option<Duration>,
}

/// `stick-table type T [len N] size N [expire T] [store ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickTableCfg {
    /// The section's name: `table NAME` refers to it.
    pub name: String,
    pub origin: Origin,
    pub key: StickKeyType,
    /// String keys are truncated to this many bytes (`len`, default 32).
    pub len: usize,
    pub size: usize,
    /// None: entries never expire (they are only evicted when full).
    pub expire: Option<Duration>,
    pub store: StickStore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StickKind {
    /// `stick on`: match at request time, then store.
    On,
    Match,
    StoreRequest,
    StoreResponse,
}

/// `stick on|match|store-request|store-response PATTERN [table T] [if COND]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickRule {
    pub kind: StickKind,
    pub pattern: Fetch,
    /// The table's section name (the backend's own when not given).
    pub table: String,
    pub cond: Option<Condition>,
}

/// Load and check every file (a directory loads its `*.cfg` in lexical order).
/// Returns all errors found, not just the first.
pub fn load(paths: &[PathBuf]) -> Result<Config, Vec<ConfigError>> {
    load_with_env(paths, &|name| std::env::var(name).ok())
}

/// [`load`] with an explicit environment for `"${VAR}"` and `defined(VAR)`.
pub(crate) fn load_with_env(
    paths: &[PathBuf],
    env: lexer::EnvLookup<'_>,
) -> Result<Config, Vec<ConfigError>> {
    let mut parser = parser::Parser::new(env);
    for path in paths {
        parser.load_path(path);
    }
    parser.finish()
}
