//! HAProxy-format configuration: the lexer, the `.if` preprocessor and the
//! section parser produce this plain typed model; the runtime builds itself
//! from it. Every error is `FILE:LINE: message`.

mod args;
mod checks;
mod cond;
mod draft;
pub use cond::eval_text as eval_condition;
mod global;
mod http;
mod lexer;
mod logs;
mod parser;
mod persist;
mod process;
mod proxy;
mod rules;
mod server;
pub use server::dynamic_server;
pub mod stats;
pub mod stats_socket;
#[cfg(test)]
mod tests;
mod values;
pub(crate) use values::parse_time;
pub use values::refuse_host_names;

pub use cond::features;
pub use stats_socket::StatsSocket;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::acl::{Condition, Re};
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
    /// `nbthread`: event-loop threads, default 1 (HAProxy: one per CPU),
    /// and where it was set, for the errors of what it rules out.
    pub nbthread: u32,
    pub nbthread_at: Origin,
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
    /// `spread-checks N`: health-check intervals vary by up to N% (0..=50).
    pub spread_checks: u32,
    /// `stats socket` lines: the runtime API's Unix sockets.
    pub stats_sockets: Vec<stats_socket::StatsSocket>,
    /// `stats timeout`: idle limit of a runtime API connection.
    pub stats_timeout: std::time::Duration,
    /// `server-state-file` and `server-state-base`.
    pub server_state_file: Option<PathBuf>,
    pub server_state_base: Option<PathBuf>,
    /// `log`, `log-tag`, `log-send-hostname`.
    pub log: crate::log::GlobalLog,
    /// `user`/`uid` and `group`/`gid`, resolved to numbers at parse time.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub chroot: Option<PathBuf>,
    /// `ulimit-n`; None: computed from maxconn.
    pub ulimit_n: Option<u64>,
    /// `hard-stop-after`: how long a soft stop may last.
    pub hard_stop_after: Option<Duration>,
    /// `noreuseport`: no SO_REUSEPORT on listeners.
    pub noreuseport: bool,
    /// `master-worker` (or `-W`).
    pub master_worker: bool,
}

impl Config {
    /// The server state file backend `bi` loads at startup, if any: the
    /// global `server-state-file`, or (local) `server-state-file-name` or the
    /// backend's name; relative paths are under `server-state-base`.
    pub fn server_state_path(&self, bi: usize) -> Option<PathBuf> {
        let b = &self.backends[bi];
        let name = match b.load_state {
            LoadState::None => return None,
            LoadState::Global => self.global.server_state_file.clone()?,
            LoadState::Local => PathBuf::from(b.state_file_name.as_ref().unwrap_or(&b.name)),
        };
        Some(match &self.global.server_state_base {
            Some(base) if name.is_relative() => base.join(name),
            _ => name,
        })
    }
}

/// `load-server-state-from-file global|local|none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadState {
    #[default]
    None,
    /// The global `server-state-file`.
    Global,
    /// One file per backend, named by `server-state-file-name`.
    Local,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            maxconn: 4096,
            nbthread: 1,
            nbthread_at: Origin::default(),
            bufsize: 16384,
            maxrewrite: 1024,
            maxaccept: 64,
            disabled_pollers: Vec::new(),
            daemon: false,
            pidfile: None,
            quiet: false,
            spread_checks: 0,
            stats_sockets: Vec::new(),
            stats_timeout: stats_socket::DEFAULT_TIMEOUT,
            server_state_file: None,
            server_state_base: None,
            log: Default::default(),
            uid: None,
            gid: None,
            chroot: None,
            ulimit_n: None,
            hard_stop_after: None,
            noreuseport: false,
            master_worker: false,
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
    /// `timeout check`: once a health check is connected, how long it may
    /// wait for the response (unset: the whole check must fit in `inter`).
    pub check: Option<Duration>,
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
    /// `stats enable|uri|auth|...`: the statistics page, when enabled.
    pub stats: Option<stats::StatsCfg>,
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
    /// `grace T`: after a soft stop (SIGUSR1), keep accepting for T.
    pub grace: Option<std::time::Duration>,
    /// `disabled` in the section.
    pub disabled: bool,
    pub http: HttpProxy,
    pub rules: FrontendRules,
    /// Session logging; None when the frontend has no `log` target.
    pub log: Option<crate::log::FrontendLog>,
}

/// `balance ALGO [ARGS]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    /// Hash of the client address.
    Source,
    /// `uri [len N] [depth N] [whole] [path-only]`: hash of the request URI,
    /// the path only unless `whole` (then the query string too).
    Uri {
        /// Only the first N characters.
        len: Option<usize>,
        /// Only the first N directories (a level per `/`).
        depth: Option<usize>,
        whole: bool,
        /// Drop the scheme and authority of an absolute-form URI.
        path_only: bool,
    },
    /// `url_param NAME`: hash of a query-string parameter's value.
    /// `check_post` (searching a POST body) is not supported yet: always None.
    UrlParam {
        name: String,
        check_post: Option<usize>,
    },
    /// `hdr(NAME) [use_domain_only]`: hash of a request header's value.
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    /// `random[(N)]`: power of N choices (default 2) over the current load.
    Random {
        draws: u32,
    },
    /// `rdp-cookie[(NAME)]`: hash of the RDP connection request's cookie
    /// (default name `mstshash`).
    RdpCookie {
        name: String,
    },
    /// Beyond HAProxy: weight / decaying average response time
    /// (doc/response-time.md).
    ResponseTime,
}

impl Balance {
    /// The algorithms that hash something (and so follow `hash-type`).
    pub fn is_hash(&self) -> bool {
        matches!(
            self,
            Balance::Source
                | Balance::Uri { .. }
                | Balance::UrlParam { .. }
                | Balance::Hdr { .. }
                | Balance::RdpCookie { .. }
        )
    }
}

/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32] [avalanche]`.
/// As HAProxy 2.6, `consistent` alone means `consistent sdbm avalanche`;
/// naming a function drops the avalanche unless it is named too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashType {
    pub method: HashMethod,
    pub function: HashFunction,
    /// The `avalanche` modifier: mix the function's result (Jenkins'
    /// full-avalanche integer hash, as HAProxy's `full_hash`).
    pub avalanche: bool,
}

/// How a hash picks a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashMethod {
    /// `map-based`: hash modulo the total weight (any change remaps most keys).
    #[default]
    Map,
    /// `consistent`: a ring of points per server (a change moves ~1/N of keys).
    Consistent,
}

/// The function hashing keys (uri, url_param, hdr, rdp-cookie), as HAProxy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashFunction {
    #[default]
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub origin: Origin,
    pub addr: SocketAddr,
    /// `id N`: the server's id in its backend, unique, above 0. None: it
    /// gets one by [`Backend::server_ids`]. Consistent hashing places a
    /// server's points by this id (HAProxy's `puid`).
    pub id: Option<u32>,
    /// 0..=256, default 1.
    pub weight: u32,
    pub backup: bool,
    pub disabled: bool,
    /// 0 or None: no limit.
    pub maxconn: Option<u32>,
    /// `minconn N`: with `fullconn`, the limit grows from N to maxconn with
    /// the backend's load (HAProxy's dynamic limit).
    pub minconn: Option<u32>,
    /// `maxqueue N`: most requests waiting for this server in particular
    /// (bound to it by persistence); beyond, redispatch or 503. None: no limit.
    pub maxqueue: Option<u32>,
    /// Health checking; None when the server has no `check` keyword.
    pub check: Option<ServerCheck>,
    /// `cookie VALUE`: the value of the backend's persistence cookie that
    /// designates this server.
    pub cookie: Option<String>,
}

/// `check` and its settings on a `server` or `default-server` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCheck {
    /// `inter`: between two checks while the server is steadily UP (2s).
    pub inter: Duration,
    /// `fastinter`: while changing state (default: `inter`).
    pub fastinter: Duration,
    /// `downinter`: while fully DOWN (default: `inter`).
    pub downinter: Duration,
    /// `rise`: consecutive successes to go UP (default 2).
    pub rise: u32,
    /// `fall`: consecutive failures to go DOWN (default 3).
    pub fall: u32,
    /// `port`: check this port instead of the server's.
    pub port: Option<u16>,
    /// `addr`: check this address instead of the server's.
    pub addr: Option<IpAddr>,
    /// `slowstart`: time for the weight to ramp up after going UP.
    pub slowstart: Option<Duration>,
    /// `observe layer4|layer7`: passive checks on live traffic.
    pub observe: Option<Observe>,
    /// `error-limit`: consecutive live errors before `on-error` (default 10).
    pub error_limit: u32,
    pub on_error: OnError,
}

impl Default for ServerCheck {
    fn default() -> Self {
        let inter = Duration::from_secs(2);
        ServerCheck {
            inter,
            fastinter: inter,
            downinter: inter,
            rise: 2,
            fall: 3,
            port: None,
            addr: None,
            slowstart: None,
            observe: None,
            error_limit: 10,
            on_error: OnError::FastInter,
        }
    }
}

/// `observe`: what counts as an error in live traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observe {
    /// Connection failures and timeouts.
    Layer4,
    /// Also HTTP 5xx (but 501 and 505) and invalid responses.
    Layer7,
}

/// `on-error`: what `error-limit` consecutive live errors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Only check sooner (at `fastinter`).
    #[default]
    FastInter,
    /// Count as one failed check.
    FailCheck,
    /// Leave one check failure before DOWN, then count one.
    SuddenDeath,
    /// Mark the server DOWN at once.
    MarkDown,
}

/// A backend's health-check method (`option httpchk`, `option tcp-check`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthConfig {
    pub kind: CheckKind,
    /// `http-check expect`; None: HAProxy's default (2xx and 3xx pass).
    pub expect: Option<HttpExpect>,
    /// `option allbackups`: use every backup server, not only the first.
    pub all_backups: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CheckKind {
    /// A TCP connection that opens is a success.
    #[default]
    Tcp,
    /// `option httpchk`.
    Http(HttpCheck),
    /// `option tcp-check` with its `tcp-check` rules, in order.
    TcpScript(Vec<TcpCheckStep>),
}

/// The request of an HTTP check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// Default `OPTIONS`.
    pub method: String,
    /// Default `/`.
    pub uri: String,
    /// Default `HTTP/1.0`; HAProxy 1.x configs append headers here with
    /// `\r\n` (`"HTTP/1.1\r\nHost:\ www"`), which is sent as is.
    pub version: String,
    /// `http-check send hdr NAME VALUE`.
    pub headers: Vec<(String, String)>,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
        }
    }
}

/// `http-check expect [!] status|rstatus|string|rstring VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpExpect {
    pub negate: bool,
    pub what: HttpMatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpMatch {
    /// Status codes and inclusive ranges (`200,201,300-310`).
    Status(Vec<(u16, u16)>),
    /// A regex on the three-digit status code.
    Rstatus(Re),
    /// A substring of the body.
    String(String),
    /// A regex on the body.
    Rstring(Re),
}

/// One `tcp-check` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpCheckStep {
    /// `tcp-check connect [port N]`.
    Connect { port: Option<u16> },
    /// `tcp-check send STRING` or `send-binary HEX`.
    Send(Vec<u8>),
    /// `tcp-check expect [!] string|rstring|binary VALUE`.
    Expect { negate: bool, what: TcpMatch },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpMatch {
    /// `string` or `binary` (decoded): these bytes appear in the response.
    Bytes(Vec<u8>),
    /// `rstring`: a regex on the response.
    Rstring(Re),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub name: String,
    pub origin: Origin,
    pub mode: Mode,
    pub balance: Balance,
    /// `hash-type`, default map-based sdbm.
    pub hash_type: HashType,
    pub servers: Vec<Server>,
    pub timeouts: Timeouts,
    /// `retries`, default 3.
    pub retries: u32,
    /// `option redispatch`.
    pub redispatch: bool,
    /// `fullconn N`: the backend load at which servers reach their maxconn
    /// (with `minconn`). None: 10% of the frontends' maxconn, as HAProxy.
    pub fullconn: Option<u32>,
    /// `load-server-state-from-file`: where saved server states come from.
    pub load_state: LoadState,
    /// `server-state-file-name NAME` (local mode); None: the backend's name.
    pub state_file_name: Option<String>,
    /// `option abortonclose`: drop a queued or connecting request whose
    /// client has closed.
    pub abortonclose: bool,
    /// `option srvtcpka` or `option tcpka`.
    pub srvtcpka: bool,
    pub disabled: bool,
    pub http: HttpProxy,
    /// Health-check method of the servers that have `check`.
    pub health: HealthConfig,
    /// Cookie persistence and stick rules.
    pub persist: Persistence,
    /// Where the backend's own messages (server UP/DOWN) go.
    pub log_targets: Vec<crate::log::LogTarget>,
}

impl Backend {
    /// Each server's id (HAProxy's `puid`), in declaration order: its `id`,
    /// or else, as HAProxy 2.6 numbers them (cfgparse.c), the first id not
    /// taken by an `id` keyword at or after a counter that starts at 1 and
    /// goes one past each server, numbered or not. Without any `id`: 1, 2, 3...
    pub fn server_ids(&self) -> Vec<u32> {
        let forced: std::collections::HashSet<u32> =
            self.servers.iter().filter_map(|s| s.id).collect();
        let mut next = 1u32;
        self.servers
            .iter()
            .map(|s| {
                let id = s.id.unwrap_or_else(|| {
                    while forced.contains(&next) {
                        next += 1;
                    }
                    next
                });
                next += 1;
                id
            })
            .collect()
    }
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

/// One file's text, already in memory, checked as [`load`] would with the
/// environment `env`: for callers that have no file per config (the fuzz
/// targets). Files the config names (errorfile, `acl -f`) are still read.
pub fn load_text(
    file: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigError>> {
    let mut parser = parser::Parser::new(env);
    parser.parse_text(file, text);
    parser.finish()
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
