//! What the HTTP analysers know of the proxies at run time: each proxy's
//! HTTP settings (rules, connection mode, address headers, error pages) and
//! a frontend's switching, captures and special URIs. Plain data, built by
//! the engine from the configuration.

use crate::http::acl::Condition;
use crate::http::errors::ErrorPages;
use crate::http::format::Format;
use crate::http::rules::Rule;
use std::net::IpAddr;

/// `option http-keep-alive | http-server-close | httpclose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnMode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

impl ConnMode {
    /// Frontend and backend combined: the most closing one wins, as HAProxy.
    pub(super) fn combine(self, other: ConnMode) -> ConnMode {
        use ConnMode::*;
        match (self, other) {
            (Close, _) | (_, Close) => Close,
            (ServerClose, _) | (_, ServerClose) => ServerClose,
            _ => KeepAlive,
        }
    }
}

/// `option forwardfor` / `option originalto`: header name, exception network.
#[derive(Debug, Clone)]
pub struct AddrHeader {
    pub header: String,
    pub except: Option<(IpAddr, u8)>,
    /// forwardfor `if-none`: only when the header is absent.
    pub if_none: bool,
}

/// The HTTP settings of one proxy (frontend or backend side) at run time.
#[derive(Debug, Clone, Default)]
pub struct HttpSide {
    pub rules_req: Vec<Rule>,
    pub rules_res: Vec<Rule>,
    /// `http-after-response` rules (see `after.rs`).
    pub rules_after: Vec<Rule>,
    pub conn_mode: ConnMode,
    pub forwardfor: Option<AddrHeader>,
    pub originalto: Option<AddrHeader>,
    pub errors: ErrorPages,
    /// `option http-buffer-request`, waiting at most this proxy's `timeout
    /// http-request` (None: unset, `timeout client` bounds it).
    pub buffer_request: Option<Option<std::time::Duration>>,
    /// `compression algo|type|offload`.
    pub compression: Option<crate::http::compress::Settings>,
}

/// Frontend-only HTTP settings: content switching and monitoring.
#[derive(Debug, Clone, Default)]
pub struct HttpFront {
    pub side: HttpSide,
    pub use_backend: Vec<(Switch, Option<Condition>)>,
    pub default_backend: Option<usize>,
    pub monitor_uri: Option<String>,
    /// For a `listen` section: its own backend, whose rules are the
    /// frontend's and must not run twice.
    pub own_backend: Option<usize>,
    /// `capture request header NAME len N`, `capture response header ...`,
    /// `capture cookie NAME len N`.
    pub captures_req: Vec<(String, usize)>,
    pub captures_res: Vec<(String, usize)>,
    pub capture_cookie: Option<(String, usize)>,
    /// `stats uri`: requests under this prefix go to the stats page.
    pub stats_uri: Option<String>,
    /// `option http-ignore-probes`: a connection that sends nothing before
    /// it closes or times out gets no 408 and no log line.
    pub ignore_probes: bool,
    pub unique_id: Option<UniqueId>,
}

/// A `use_backend` rule's target.
#[derive(Debug, Clone)]
pub enum Switch {
    To(usize),
    /// A log-format name, looked up per request; no such backend: the
    /// rules stop and `default_backend` takes the request (HAProxy).
    Named(Format),
}

/// `unique-id-format`, and the request header `unique-id-header` names.
#[derive(Debug, Clone)]
pub struct UniqueId {
    pub format: Format,
    pub header: Option<String>,
}

/// What the analysers need to know about the proxies.
pub struct Conf<'a> {
    pub fe: &'a HttpFront,
    /// HTTP settings of every backend, by index.
    pub backends: &'a [HttpSide],
    /// Most bytes a head may take: tune.bufsize - tune.maxrewrite.
    pub max_head: usize,
    /// Backend names, by index (stick tables are named after sections).
    pub be_names: &'a [String],
    /// tune.bufsize: a head rewritten by the rules must still fit in it
    /// (the `tune.maxrewrite` reserve is what rewrites may add).
    pub bufsize: usize,
    pub fe_name: &'a str,
    /// The frontend's index, and the proxies' state for `fe_id`, `nbsrv`...
    pub fe_index: usize,
    /// The listener's id (`so_id`).
    pub so_id: u32,
    /// The client connection's TLS session (`ssl_fc*`).
    pub tls: Option<crate::http::fetch::tls::TlsFacts>,
    /// The server connection's (`ssl_bc*`, response rules only).
    pub bc_tls: Option<crate::http::fetch::tls::TlsFacts>,
    pub px: Option<&'a dyn crate::http::fetch::proxy::ProxyView>,
}
