//! The plain typed model the parser produces and the runtime builds itself
//! from: global settings, frontends, backends, servers and their checks,
//! persistence, the stats page and the runtime API sockets. Data only (a
//! few defaults and accessors): the bottom of `config`'s module graph.
//! Health checks, persistence and the stats/runtime API settings have a
//! file each; everything is re-exported here.

mod check;
mod origin;
mod persist;
mod stats;
pub use check::*;
pub use origin::Origin;
pub use persist::*;
pub use stats::*;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::acl::Condition;
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
    /// Every ACL and map pattern reference, by id: the runtime API's
    /// `show map`/`show acl` and what it changes.
    pub patterns: crate::sample::patref::Registry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// `maxconn` (process-wide); `-n` on the command line overrides it.
    pub maxconn: u32,
    /// `maxconn` was written (or given with `-n`): the fd limit it needs
    /// must be had (see `strict_limits`).
    pub maxconn_set: bool,
    /// `strict-limits` (HAProxy 2.6's default; `no strict-limits` to turn
    /// off): an fd limit that cannot be raised as required stops the start.
    pub strict_limits: bool,
    /// `zero-warning`: any warning at start-up (or `-c`) is fatal.
    pub zero_warning: bool,
    /// `nbthread`: event-loop threads, default 1 (HAProxy: one per CPU),
    /// and where it was set, for the errors of what it rules out.
    pub nbthread: u32,
    pub nbthread_at: Origin,
    /// `tune.bufsize`, default 16384.
    pub bufsize: usize,
    /// `tune.comp.maxlevel`: the deflate level, 1 (HAProxy's default) to 9.
    pub comp_level: u32,
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
    pub stats_sockets: Vec<StatsSocket>,
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
    /// `set-var` / `set-var-fmt`: `proc.` variables set at start-up, in order.
    pub set_vars: Vec<crate::http::rules::SetVar>,
    /// `ca-base`, `crt-base`, `ssl-default-bind-*`, `tune.ssl.*`.
    pub tls: TlsGlobal,
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
            maxconn_set: false,
            strict_limits: true,
            zero_warning: false,
            nbthread: 1,
            nbthread_at: Origin::default(),
            bufsize: 16384,
            comp_level: 1,
            maxrewrite: 1024,
            maxaccept: 64,
            disabled_pollers: Vec::new(),
            daemon: false,
            pidfile: None,
            quiet: false,
            spread_checks: 0,
            stats_sockets: Vec::new(),
            stats_timeout: DEFAULT_TIMEOUT,
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
            set_vars: Vec::new(),
            tls: TlsGlobal {
                cache_size: 20000,
                lifetime: 300,
                ..Default::default()
            },
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
    /// `http-after-response` rules: on every response, pollux's own too;
    /// the backend's first, then the frontend's.
    pub rules_after: Vec<Rule>,
    pub conn_mode: ConnMode,
    pub forwardfor: Option<ForwardFor>,
    pub originalto: Option<OriginalTo>,
    /// `errorfile CODE FILE` (and `errorfiles` imports) in the order
    /// written, a later one for the same code winning: the raw response to
    /// send instead of pollux's own (empty: close without one).
    pub errorfiles: Vec<(u16, Vec<u8>)>,
    /// `http-error status CODE ...`: the reply for CODE, a later one winning.
    pub http_errors: Vec<crate::http::rules::Reply>,
    /// `option http-ignore-probes` (frontends).
    pub ignore_probes: bool,
    /// `option http-buffer-request`: the request body is waited for before
    /// the proxy's `http-request` rules.
    pub buffer_request: bool,
    /// `compression algo|type|offload`.
    pub compression: Option<crate::http::compress::Settings>,
    /// Both halves of one `listen` section carry the same rules: when such a
    /// frontend uses its own backend (same name), run the rules once.
    pub listen: bool,
}

/// A `use_backend` target: a backend's name, or a log-format string that
/// names one per request (`use_backend %[req.hdr(host),lower]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UseBackend {
    Name(String),
    Format(crate::http::format::Format),
}

/// Frontend-only switching, capture and TCP inspection settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontendRules {
    /// `use_backend NAME [if|unless COND]` in order; names checked to exist.
    pub use_backend: Vec<(UseBackend, Option<Condition>)>,
    /// `unique-id-format FMT` and `unique-id-header NAME`.
    pub unique_id_format: Option<crate::http::format::Format>,
    pub unique_id_header: Option<String>,
    pub monitor_uri: Option<String>,
    /// `capture request header NAME len N`, in slot order; an empty name is
    /// a slot rules fill (`declare capture`, `http-request capture ... len`).
    pub captures_req: Vec<(String, usize)>,
    /// `capture response header NAME len N`, `declare capture response`.
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
    pub stats: Option<StatsCfg>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// One socket address; a port range expands into several of these.
    Inet(SocketAddr),
    /// `fd@N`: an already-listening socket inherited from the parent.
    Fd(RawFd),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bind {
    pub addrs: Vec<BindAddr>,
    pub origin: Origin,
    /// `name`: the listener's name (`so_name`, stats).
    pub name: Option<String>,
    /// `id`: the listener's numeric id (`so_id`).
    pub id: Option<u32>,
    /// `ssl`, `crt` and the other TLS options.
    pub ssl: BindSsl,
}

/// A bind line's TLS options, `ssl-default-bind-options` applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindSsl {
    /// `ssl`: the listener speaks TLS (else `crt` files are only checked,
    /// as HAProxy loads them anyway).
    pub enabled: bool,
    /// `crt` files or directories, as written (`crt-base` applied later).
    pub crts: Vec<String>,
    /// `crt-list` files, each after the first N `crt` (their order decides
    /// the default certificate).
    pub crt_lists: Vec<(usize, String)>,
    pub versions: crate::tls::server::Versions,
    pub alpn: Vec<String>,
    pub strict_sni: bool,
    pub no_tickets: bool,
    pub prefer_client: bool,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub curves: Option<String>,
    /// `ca-file`, `verify`, `crl-file`...: client certificates.
    pub client: crate::tls::verify::ClientOpts,
    /// `tls-ticket-keys FILE`.
    pub ticket_keys: Option<String>,
    /// The context made from all this when the configuration is finished.
    pub ctx: Option<crate::tls::server::ServerCtx>,
}

/// The `global` section's TLS keywords.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsGlobal {
    pub ca_base: Option<String>,
    pub crt_base: Option<String>,
    /// `ssl-default-bind-ciphers|ciphersuites|curves|options`: the options
    /// every `bind ... ssl` line starts from.
    pub bind: BindSsl,
    /// `ssl-default-server-*`, likewise for `server ... ssl`.
    pub server: ServerSsl,
    /// `ssl-server-verify none`: servers' certificates unchecked by default.
    pub server_verify_none: bool,
    /// `tune.ssl.cachesize` (HAProxy's default: 20000 sessions).
    pub cache_size: usize,
    /// `tune.ssl.lifetime`: seconds a session may be resumed (300).
    pub lifetime: u32,
    /// `tune.ssl.maxrecord`: the most plaintext per TLS record (0: 16 kB).
    pub max_record: usize,
    /// Said once the configuration is loaded.
    pub warnings: Vec<String>,
    /// Every certificate and crt-list the binds load, for the runtime API.
    pub store: crate::tls::store::Store,
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
    /// An unspecified IP (`0.0.0.0`, `*`) connects to the address the client
    /// connected to (after `set-dst`).
    pub addr: SocketAddr,
    /// None: connect to `addr`'s port. Some(N): to the client's destination
    /// port plus N (`server s 10.0.0.1` without a port, `:0`, `:+N`, `:-N`).
    pub map_ports: Option<i32>,
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
    /// `ssl` and the other TLS options towards the server.
    pub ssl: ServerSsl,
}

/// A server line's TLS options (`default-server` and
/// `ssl-default-server-*` applied).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerSsl {
    pub enabled: bool,
    /// `verify none|required`; None: `ssl-server-verify` (required).
    pub verify: Option<bool>,
    pub ca_file: Option<String>,
    /// `sni EXPR`: the sample expression giving the name to send.
    pub sni: Option<String>,
    pub verifyhost: Option<String>,
    pub alpn: Vec<String>,
    pub no_reuse: bool,
    pub versions: crate::tls::server::Versions,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    /// `crt FILE`: the client certificate (PEM with its key) presented.
    pub crt: Option<String>,
    /// `no-tls-tickets`: TLS 1.2 sessions resume by session id only.
    pub no_tickets: bool,
    /// The context made from all this when the configuration is finished.
    pub ctx: Option<crate::tls::client::ClientCtx>,
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
