//! HAProxy-format configuration: the lexer, the `.if` preprocessor and the
//! section parser produce this plain typed model; the runtime builds itself
//! from it. Every error is `FILE:LINE: message`.

mod cond;
mod global;
mod lexer;
mod parser;
mod proxy;
#[cfg(test)]
mod tests;
mod values;

pub use cond::features;

use std::fmt;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

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
}

/// `timeout ...` values; None means unset (infinite, with HAProxy's warning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub queue: Option<Duration>,
    pub tunnel: Option<Duration>,
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
