//! One loop's run-time frontends and backends, each built from its config
//! section by its own constructor. A backend's servers are `lb::ServerRt`
//! records: one per server, holding everything the loop knows of it.

use super::{glue, share, WEIGHT_SCALE};
use crate::config::{self, Balance, HashType, Timeouts};
use crate::http::rules::TcpRule;
use crate::proxy::lb::{self, LbState, ServerRt};
use crate::proxy::persist::{self, ServerView};
use crate::session::txn::HttpFront;
use std::collections::VecDeque;
use std::time::Duration;

pub(super) struct FrontendRt {
    pub(super) name: String,
    pub(super) maxconn: Option<u32>,
    pub(super) cur: u32,
    pub(super) backend: Option<usize>,
    pub(super) timeouts: Timeouts,
    pub(super) clitcpka: bool,
    /// `mode http`: the HTTP settings; None in TCP mode.
    pub(super) http: Option<HttpFront>,
    /// `timeout http-request` and `timeout http-keep-alive`.
    pub(super) http_request: Option<Duration>,
    pub(super) http_keep_alive: Option<Duration>,
    /// `timeout tarpit`.
    pub(super) tarpit: Option<Duration>,
    pub(super) tcp_conn: Vec<TcpRule>,
    pub(super) tcp_content: Vec<TcpRule>,
    pub(super) inspect_delay: Option<Duration>,
    /// `disable frontend` (runtime API): listeners paused until enabled.
    pub(super) disabled: bool,
    /// `grace`: how long the listeners stay open after a soft stop.
    pub(super) grace: Option<Duration>,
    /// Sessions accepted since start (for "Proxy X stopped" in the logs).
    pub(super) cum: u64,
    /// Session logging (`log` targets and format); None: no logs.
    pub(super) log: Option<Box<crate::log::FrontendLog>>,
    /// Names of the listeners that have one (`bind ... name`), by id.
    pub(super) so_names: Vec<(u32, String)>,
    /// A TCP frontend's `use_backend` rules, decided once the
    /// `tcp-request content` rules are done (or at accept without them).
    pub(super) tcp_switch: Vec<(
        crate::session::txn::Switch,
        Option<crate::http::acl::Condition>,
    )>,
}

impl FrontendRt {
    pub(super) fn new(cfg: &config::Config, f: &config::Frontend) -> FrontendRt {
        FrontendRt {
            name: f.name.clone(),
            maxconn: f.maxconn.filter(|&m| m > 0),
            cur: 0,
            backend: f
                .default_backend
                .as_ref()
                .and_then(|n| cfg.backends.iter().position(|b| &b.name == n)),
            timeouts: f.timeouts,
            clitcpka: f.clitcpka,
            http: glue::http_frontend(cfg, f),
            http_request: glue::http_request_timeout(f),
            http_keep_alive: glue::http_keep_alive_timeout(f),
            tarpit: glue::tarpit_timeout(f),
            tcp_conn: glue::tcp_conn_rules(f),
            tcp_content: glue::tcp_content_rules(f),
            inspect_delay: glue::inspect_delay(f),
            disabled: false,
            grace: f.grace,
            cum: 0,
            log: f.log.clone().map(Box::new),
            // HTTP frontends switch per request (`HttpFront`).
            tcp_switch: match f.mode {
                config::Mode::Tcp => glue::switch_rules(cfg, f),
                config::Mode::Http => Vec::new(),
            },
            so_names: f
                .binds
                .iter()
                .zip(crate::config::listener_ids(&f.binds))
                .filter_map(|(b, ids)| Some((ids.first().copied()?, b.name.clone()?)))
                .collect(),
        }
    }
}

pub(super) struct BackendRt {
    pub(super) name: String,
    pub(super) balance: Balance,
    pub(super) hash_type: HashType,
    pub(super) servers: Vec<ServerRt>,
    pub(super) lb: LbState,
    /// Sessions waiting for any server.
    pub(super) queue: VecDeque<usize>,
    pub(super) timeouts: Timeouts,
    pub(super) retries: u32,
    pub(super) redispatch: bool,
    pub(super) srvtcpka: bool,
    /// The backend load at which servers reach their maxconn (`minconn`).
    pub(super) fullconn: u32,
    pub(super) abortonclose: bool,
    /// Where server UP/DOWN messages go.
    pub(super) log_targets: Vec<crate::log::LogTarget>,
    /// Some server has `slowstart` (and the algorithm follows it) /
    /// `minconn`: only then do weights and limits need recomputing on each
    /// balancing decision.
    pub(super) slowstart: bool,
    pub(super) minconn: bool,
}

impl BackendRt {
    /// Backend `b` as loop `tid` of `n` runs it.
    pub(super) fn new(
        cfg: &config::Config,
        b: &config::Backend,
        tid: usize,
        n: usize,
    ) -> BackendRt {
        BackendRt {
            name: b.name.clone(),
            balance: b.balance.clone(),
            hash_type: b.hash_type,
            servers: b
                .servers
                .iter()
                .zip(b.server_ids())
                .map(|(s, puid)| server(s, puid, tid, n))
                .collect(),
            lb: {
                let mut lb = LbState::default();
                lb.all_backups = b.health.all_backups;
                lb
            },
            queue: VecDeque::new(),
            timeouts: b.timeouts,
            retries: b.retries,
            redispatch: b.redispatch,
            srvtcpka: b.srvtcpka,
            fullconn: b
                .fullconn
                .unwrap_or_else(|| glue::default_fullconn(cfg, &b.name)),
            abortonclose: b.abortonclose,
            log_targets: b.log_targets.clone(),
            slowstart: lb::ramps_weights(&b.balance, b.hash_type)
                && b.servers
                    .iter()
                    .any(|s| s.check.as_ref().is_some_and(|c| c.slowstart.is_some())),
            minconn: b.servers.iter().any(|s| s.minconn.is_some()),
        }
    }
}

/// Server `s` (id `puid`) as loop `tid` of `n` runs it: it enforces its
/// share of the server's maxconn. Checks link themselves (`check`).
pub(super) fn server(s: &config::Server, puid: u32, tid: usize, n: usize) -> ServerRt {
    let mut rt = ServerRt::new(
        s.name.clone(),
        s.addr,
        puid,
        s.weight * WEIGHT_SCALE,
        s.backup,
        s.disabled,
        s.maxconn.map(|m| if m > 0 { share(m, tid, n) } else { m }),
    );
    rt.map_ports = s.map_ports;
    rt.cfg_maxconn = s.maxconn.filter(|&m| m > 0);
    rt.minconn = s.minconn;
    rt.maxqueue = s.maxqueue;
    rt.cookie = s.cookie.clone();
    // (A context without `ssl` is the checks' alone: `check-ssl`.)
    rt.tls = s.ssl.ctx.clone().filter(|_| s.ssl.enabled).map(|ctx| {
        // Checked when the configuration was read.
        let sni = s
            .ssl
            .sni
            .as_deref()
            .and_then(|e| crate::http::expr::Expr::parse(e).ok());
        (ctx, sni)
    });
    rt
}

impl persist::Servers for Vec<BackendRt> {
    fn view(&self, bi: usize, si: usize) -> Option<ServerView<'_>> {
        self.get(bi)?.servers.get(si).map(ServerRt::view)
    }
}
