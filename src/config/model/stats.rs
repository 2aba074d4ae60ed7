//! The statistics page of a frontend (`stats ...`) and the runtime API
//! sockets of `global` (`stats socket`, `stats timeout`).

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

use crate::http::acl::Condition;

/// HAProxy's default `stats uri` and `stats realm`.
pub const DEFAULT_URI: &str = "/haproxy?stats";
pub const DEFAULT_REALM: &str = "HAProxy Statistics";

/// The stats page settings of one frontend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsCfg {
    pub uri: String,
    pub realm: String,
    /// `stats auth USER:PASS` lines; empty: no authentication.
    pub auth: Vec<(String, String)>,
    /// `stats refresh T`: the page reloads itself every T.
    pub refresh: Option<Duration>,
    pub hide_version: bool,
    pub show_legends: bool,
    /// `stats admin if|unless COND`: when the admin form is offered and obeyed.
    pub admin: Option<Condition>,
    /// `stats scope NAME` lines: only these sections are shown (`.`: the
    /// one serving the page); empty: all.
    pub scope: Vec<String>,
    /// `stats show-node [NAME]`: the node name the page shows (empty: the
    /// process's node name).
    pub node: Option<String>,
    /// `stats show-desc [TEXT]`: a description shown under it.
    pub desc: Option<String>,
}

impl Default for StatsCfg {
    fn default() -> Self {
        StatsCfg {
            uri: DEFAULT_URI.into(),
            realm: DEFAULT_REALM.into(),
            auth: Vec::new(),
            refresh: None,
            hide_version: false,
            show_legends: false,
            admin: None,
            scope: Vec::new(),
            node: None,
            desc: None,
        }
    }
}

/// What a CLI connection may do. Ordered: each level can do what the lower
/// ones can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    User,
    Operator,
    Admin,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "user" => Some(Level::User),
            "operator" => Some(Level::Operator),
            "admin" => Some(Level::Admin),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// Where a runtime API socket (`stats socket`, `-S`) listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CliAddr {
    /// A path, or `unix@PATH`.
    Unix(PathBuf),
    /// `ipv4@`/`ipv6@`/`host:port`.
    Inet(SocketAddr),
    /// `fd@N`: a listening socket inherited from the parent.
    Fd(RawFd),
}

impl CliAddr {
    pub fn path(&self) -> Option<&PathBuf> {
        match self {
            CliAddr::Unix(p) => Some(p),
            _ => None,
        }
    }
}

impl std::fmt::Display for CliAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliAddr::Unix(p) => write!(f, "{}", p.display()),
            CliAddr::Inet(a) => write!(f, "{a}"),
            CliAddr::Fd(n) => write!(f, "fd@{n}"),
        }
    }
}

/// One `stats socket ADDRESS [options]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    pub addr: CliAddr,
    /// `mode` (octal), applied with chmod after bind.
    pub mode: Option<u32>,
    /// `user`/`uid` and `group`/`gid`: the Unix socket's owner, applied
    /// with chown after bind (None: left as created).
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `level`: HAProxy's default is `operator`.
    pub level: Level,
    /// `expose-fd listeners`: `_getsocks` may hand the listening sockets to
    /// a new process (`-x`, reload).
    pub expose_fd: bool,
}

/// HAProxy's default `stats timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
