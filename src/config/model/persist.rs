//! Persistence settings: the cookie, `force-persist`/`ignore-persist`,
//! stick tables and `stick` rules.

use std::time::Duration;

use super::origin::Origin;
use crate::http::acl::Condition;
use crate::http::fetch::Fetch;

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
    /// `use-server NAME if|unless COND`, in order.
    pub use_server: Vec<UseServer>,
}

/// `use-server NAME if|unless COND`: the request goes to that server when
/// the condition holds and the server is not down (or `option persist`,
/// `force-persist`), unless a cookie already chose one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseServer {
    pub server: ServerName,
    pub cond: Condition,
}

/// A `use-server` target: a server's name, or a log-format string naming
/// one per request (no such server: the rules stop, the balancer chooses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerName {
    Name(String),
    Format(crate::http::format::Format),
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

pub use crate::http::track::StickData;

/// The data types a stick table stores (`store ...`), with the period of
/// each rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StickStore {
    mask: u32,
    periods: [Duration; 19],
}

impl StickStore {
    /// Stores `d` (a rate with `period`).
    pub fn set(&mut self, d: StickData, period: Duration) {
        self.mask |= 1 << d.index();
        self.periods[d.index()] = period;
    }

    pub fn has(&self, d: StickData) -> bool {
        self.mask & (1 << d.index()) != 0
    }

    /// The period of a stored rate.
    pub fn period(&self, d: StickData) -> Option<Duration> {
        (self.has(d) && d.is_rate()).then_some(self.periods[d.index()])
    }

    /// The stored types, in HAProxy's order.
    pub fn types(&self) -> impl Iterator<Item = StickData> + '_ {
        StickData::ALL.into_iter().filter(|d| self.has(*d))
    }
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
    /// For a table `stick` rules use (HAProxy then stores `server_id` and
    /// `server_key`): the (id, name) of the first such backend's servers,
    /// by index, for `show table`.
    pub servers: Vec<(u32, String)>,
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
