//! The proxy section under construction: a [`Draft`] (one `defaults`,
//! `frontend`, `backend` or `listen` section, carrying both sides) and the
//! parts each keyword parser fills (server defaults, health checks, HTTP
//! rules, persistence, logging). It becomes a [`Frontend`] and/or a
//! [`Backend`] once every file is read. Below the keyword parsers and the
//! dispatchers: it imports neither, so they all can use it.

use crate::http::acl::AclSet;
use crate::http::rules::Rule;
use crate::log::{LogFormat, LogTarget};

use super::model::{
    Backend, Balance, Bind, CheckKind, Frontend, FrontendRules, HashType, HealthConfig, HttpCheck,
    HttpExpect, HttpProxy, LoadState, Mode, Origin, Persistence, ProtoCheck, Server, ServerCheck,
    StickTableCfg, TcpCheckStep, Timeouts,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Defaults,
    Frontend,
    Backend,
    Listen,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Defaults => "defaults",
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
            Kind::Listen => "listen",
        }
    }
    /// Frontend capability: accepts clients.
    pub(crate) fn fe(self) -> bool {
        self != Kind::Backend
    }
    /// Backend capability: connects to servers.
    pub(crate) fn be(self) -> bool {
        self != Kind::Frontend
    }
}

/// A proxy section being parsed; `defaults` use the same shape.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub kind: Kind,
    pub name: String,
    pub origin: Origin,
    pub mode: Mode,
    pub binds: Vec<Bind>,
    /// A `bind` line was seen, even one with errors (no follow-up error).
    pub bind_seen: bool,
    pub maxconn: Option<u32>,
    /// The backend name and where it was set, checked once all files are read.
    pub default_backend: Option<(String, Origin)>,
    pub timeouts: Timeouts,
    pub clitcpka: bool,
    pub srvtcpka: bool,
    pub balance: Balance,
    pub hash_type: HashType,
    pub servers: Vec<Server>,
    pub retries: u32,
    pub redispatch: bool,
    pub fullconn: Option<u32>,
    pub abortonclose: bool,
    /// `grace T`: after a soft stop, keep accepting for T.
    pub grace: Option<std::time::Duration>,
    pub disabled: bool,
    /// `load-server-state-from-file` and `server-state-file-name`.
    pub load_state: LoadState,
    pub state_file_name: Option<String>,
    /// HTTP settings (the rule lists stay in `h` until the end).
    pub http: HttpProxy,
    pub fe_rules: FrontendRules,
    pub h: HttpDraft,
    /// `default-server` options for the later `server` lines.
    pub default_server: ServerOpts,
    /// Health-check method (`option httpchk`, `tcp-check`...).
    pub health: HealthDraft,
    /// Persistence: cookie, stick table and rules.
    pub p: PersistDraft,
    /// `log` lines, log format and logging options.
    pub log: LogDraft,
    /// Warnings of the keyword being parsed; the parser adds FILE:LINE.
    pub notes: Vec<String>,
}

impl Draft {
    pub(crate) fn defaults(origin: Origin) -> Self {
        Draft {
            kind: Kind::Defaults,
            name: String::new(),
            origin,
            mode: Mode::Tcp,
            binds: Vec::new(),
            bind_seen: false,
            maxconn: None,
            default_backend: None,
            timeouts: Timeouts::default(),
            clitcpka: false,
            srvtcpka: false,
            balance: Balance::RoundRobin,
            hash_type: HashType::default(),
            servers: Vec::new(),
            retries: 3,
            redispatch: false,
            fullconn: None,
            abortonclose: false,
            grace: None,
            disabled: false,
            load_state: LoadState::None,
            state_file_name: None,
            http: HttpProxy::default(),
            fe_rules: FrontendRules::default(),
            h: HttpDraft::default(),
            default_server: ServerOpts::default(),
            health: HealthDraft::default(),
            p: PersistDraft::default(),
            log: LogDraft::default(),
            notes: Vec::new(),
        }
    }

    /// A new proxy section inheriting the current `defaults`.
    pub(crate) fn from_defaults(defaults: &Draft, kind: Kind, name: &str, origin: Origin) -> Self {
        let mut d = defaults.clone();
        d.kind = kind;
        d.name = name.to_string();
        d.origin = origin;
        d.http.listen = kind == Kind::Listen;
        // A listen section forwards to its own servers unless it says otherwise.
        if !kind.fe() || kind == Kind::Listen {
            d.default_backend = None;
        }
        d
    }

    pub(crate) fn frontend(&self) -> Frontend {
        let default_backend = match (&self.default_backend, self.kind) {
            (Some((name, _)), _) => Some(name.clone()),
            (None, Kind::Listen) => Some(self.name.clone()),
            (None, _) => None,
        };
        Frontend {
            name: self.name.clone(),
            origin: self.origin.clone(),
            mode: self.mode,
            binds: self.binds.clone(),
            maxconn: self.maxconn,
            default_backend,
            timeouts: self.timeouts,
            clitcpka: self.clitcpka,
            grace: self.grace,
            disabled: self.disabled,
            http: self.http_model(),
            rules: self.fe_rules.clone(),
            // Resolved against the global section once every file is read.
            log: None,
        }
    }

    fn http_model(&self) -> HttpProxy {
        HttpProxy {
            rules_req: self.h.request_rules(),
            rules_res: self.h.response_rules(),
            rules_after: self.h.after_res.clone(),
            ..self.http.clone()
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        Backend {
            name: self.name.clone(),
            origin: self.origin.clone(),
            mode: self.mode,
            balance: self.balance.clone(),
            hash_type: self.hash_type,
            servers: self.servers.clone(),
            timeouts: self.timeouts,
            retries: self.retries,
            redispatch: self.redispatch,
            fullconn: self.fullconn,
            load_state: self.load_state,
            state_file_name: match self.state_file_name.as_deref() {
                Some("use-backend-name") | None => None,
                Some(n) => Some(n.to_string()),
            },
            abortonclose: self.abortonclose,
            srvtcpka: self.srvtcpka,
            disabled: self.disabled,
            http: self.http_model(),
            health: self.health.model(),
            persist: self.p.persistence.clone(),
            log_targets: Vec::new(),
        }
    }

    /// HAProxy only warns about a timeout or option that the section's
    /// capability makes useless ("'timeout client' ignored because backend
    /// 'be' has no frontend capability"): true when `kw` is to be ignored.
    pub(crate) fn ignored(&mut self, kw: &str, fe: bool, be: bool) -> bool {
        let missing = match self.kind {
            Kind::Frontend if be => "backend",
            Kind::Backend if fe => "frontend",
            _ => return false,
        };
        self.notes.push(format!(
            "'{kw}' ignored because {} '{}' has no {missing} capability",
            self.kind.name(),
            self.name
        ));
        true
    }

    /// Rejects a keyword this kind of section cannot hold. `fe`/`be`: the
    /// keyword needs that capability; `in_defaults`: `defaults` may hold it.
    pub(crate) fn allow(
        &self,
        kw: &str,
        fe: bool,
        be: bool,
        in_defaults: bool,
    ) -> Result<(), String> {
        let ok = match self.kind {
            Kind::Defaults => in_defaults,
            Kind::Frontend => !be,
            Kind::Backend => !fe,
            Kind::Listen => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "'{kw}' not allowed in '{}' section",
                self.kind.name()
            ))
        }
    }
}

// The parts each keyword parser fills: `server.rs` and `checks.rs`
// (`ServerOpts`, `HealthDraft`), `http.rs`, `persist.rs`, `logs.rs`.

/// What a `server` line starts from: the section's `default-server` lines
/// (HAProxy: each one adds to the defaults of the later `server` lines).
#[derive(Debug, Clone)]
pub(crate) struct ServerOpts {
    pub weight: u32,
    pub maxconn: Option<u32>,
    /// `check` was given and not undone by `no-check`.
    pub check: bool,
    pub c: ServerCheck,
    /// `fastinter`/`downinter` were given; otherwise they follow `inter`.
    pub fastinter_set: bool,
    pub downinter_set: bool,
    /// TLS options (`default-server ssl verify none ...`).
    pub ssl: super::model::ServerSsl,
}

impl Default for ServerOpts {
    fn default() -> Self {
        ServerOpts {
            weight: 1,
            maxconn: None,
            check: false,
            c: ServerCheck::default(),
            fastinter_set: false,
            downinter_set: false,
            ssl: Default::default(),
        }
    }
}

impl ServerOpts {
    /// The model of a server with these options; a note for `observe`
    /// without `check` (HAProxy: observing needs health checks).
    pub(crate) fn check_model(&self, server: &str, notes: &mut Vec<String>) -> Option<ServerCheck> {
        if !self.check {
            if self.c.observe.is_some() {
                notes.push(format!(
                    "'observe' ignored for server '{server}' as it has no 'check'"
                ));
            }
            return None;
        }
        let mut c = self.c.clone();
        if !self.fastinter_set {
            c.fastinter = c.inter;
        }
        if !self.downinter_set {
            c.downinter = c.inter;
        }
        Some(c)
    }
}

/// Which check a backend runs; the rules of the others are kept so that
/// `option` lines may come before or after them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Method {
    #[default]
    Tcp,
    Http,
    Script,
    SslHello,
    /// The protocol in `HealthDraft::proto`.
    Proto,
}

/// The health-check settings of a section being parsed.
#[derive(Debug, Clone, Default)]
pub(crate) struct HealthDraft {
    pub method: Method,
    pub http: HttpCheck,
    pub steps: Vec<TcpCheckStep>,
    pub expect: Option<HttpExpect>,
    pub all_backups: bool,
    pub log_checks: bool,
    pub proto: Option<ProtoCheck>,
}

impl HealthDraft {
    pub(crate) fn model(&self) -> HealthConfig {
        HealthConfig {
            kind: match self.method {
                Method::Tcp => CheckKind::Tcp,
                Method::Http => CheckKind::Http(self.http.clone()),
                Method::Script => CheckKind::TcpScript(self.steps.clone()),
                Method::SslHello => CheckKind::SslHello,
                Method::Proto => match &self.proto {
                    Some(p) => CheckKind::Proto(p.clone()),
                    None => CheckKind::Tcp,
                },
            },
            expect: self.expect.clone(),
            all_backups: self.all_backups,
            log_checks: self.log_checks,
        }
    }
}

/// Per-section parsing state for HTTP keywords; the rule lists are kept
/// apart by kind and put in HAProxy's evaluation order at the end.
#[derive(Debug, Clone, Default)]
pub(crate) struct HttpDraft {
    pub acls: AclSet,
    pub req_http: Vec<Rule>,
    /// `req*` rules except `reqadd`.
    pub req_legacy: Vec<Rule>,
    pub req_add: Vec<Rule>,
    pub redirects: Vec<Rule>,
    pub res_http: Vec<Rule>,
    pub res_legacy: Vec<Rule>,
    pub res_add: Vec<Rule>,
    /// `http-after-response` rules.
    pub after_res: Vec<Rule>,
    /// In a `defaults` section with rules: whether the proxies using it
    /// have the frontend capability (HAProxy lets only one kind use it).
    pub rules_users_fe: Option<bool>,
    /// Where each `use_backend` was, parallel to `FrontendRules::use_backend`.
    pub use_backend_at: Vec<Origin>,
    /// The first keyword that needs HTTP mode, for the TCP-mode warning.
    pub first_http_kw: Option<(String, Origin)>,
    /// `http-errors` sections named (by `errorfiles` or a reply), checked
    /// once every section is read (`config::errors`).
    pub error_sections: Vec<(String, Origin)>,
    /// `errorfiles NAME [CODE...]`: where in `errorfile`'s list it goes.
    pub errorfiles_at: Vec<(usize, String, Vec<u16>)>,
}

impl HttpDraft {
    /// Request rules in HAProxy's order: http-request, req* (reqadd last), redirect.
    pub(crate) fn request_rules(&self) -> Vec<Rule> {
        [
            &self.req_http,
            &self.req_legacy,
            &self.req_add,
            &self.redirects,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// Response rules: http-response, rsp* (rspadd last).
    pub(crate) fn response_rules(&self) -> Vec<Rule> {
        [&self.res_http, &self.res_legacy, &self.res_add]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

/// Per-section persistence state while parsing.
#[derive(Debug, Clone, Default)]
pub(crate) struct PersistDraft {
    pub persistence: Persistence,
    pub table: Option<StickTableCfg>,
    /// Where each stick rule was, parallel to `persistence.stick`.
    pub stick_at: Vec<Origin>,
    /// Where each `use-server` was, parallel to `persistence.use_server`.
    pub use_server_at: Vec<Origin>,
    /// `http-request track-scN`: (keyword, table or None, where), checked
    /// at the end since the `stick-table` line may come later.
    pub tracks: Vec<(String, Option<String>, Origin)>,
    /// Table converters (`table_gpc0(t)`): (converter, table, where),
    /// checked at the end as `tracks`.
    pub conv_tables: Vec<(&'static str, String, Origin)>,
}

/// One `log` line of a section: `log global` or a target of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    Global,
    Target(LogTarget),
}

/// The log format asked for: `option tcplog`, `option httplog` or `log-format`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fmt {
    Tcp,
    Http,
    Https,
    Custom(LogFormat),
}

/// A proxy section's logging settings while parsing.
#[derive(Debug, Clone, Default)]
pub(crate) struct LogDraft {
    pub entries: Vec<Entry>,
    pub format: Option<Fmt>,
    /// `log-format-sd`: RFC 5424 structured data.
    pub sd: Option<LogFormat>,
    pub dontlognull: bool,
    pub separate_errors: bool,
    /// `option dontlog-normal`: only errors are logged.
    pub dontlog_normal: bool,
    /// `option logasap`.
    pub logasap: bool,
}
