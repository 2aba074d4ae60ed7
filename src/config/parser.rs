//! The driver: reads files and directories, runs each line through the
//! lexer and the `.if` preprocessor, tracks the current section, dispatches
//! keywords, and checks cross-references once everything is read.

use std::path::Path;

use super::args::{check_name, need, only};
use super::cond::CondStack;
use super::draft::{Draft, Kind};
use super::global;
use super::lexer::{split_line, EnvLookup};
use super::model::{Config, ConfigError, Global, Mode, Origin, UseBackend};
use super::proxy;

/// HAProxy sections pollux does not handle; their lines are skipped after
/// one error.
const UNSUPPORTED_SECTIONS: &[&str] = &[
    "acme",
    "cache",
    "crt-store",
    "dynamic-update",
    "fcgi-app",
    "log-forward",
    "mailers",
    "peers",
    "program",
    "resolvers",
    "ring",
    "traces",
];

enum Section {
    /// Start of a file: no section yet.
    None,
    Global,
    Defaults,
    /// Index into `Parser::proxies`.
    Proxy(usize),
    /// A `userlist` section (the one in `Parser::userlist`).
    Userlist,
    /// An `http-errors` section (the last of `Parser::http_errors`).
    HttpErrors,
    /// An unsupported section, already reported.
    Skipped,
}

pub(crate) struct Parser<'e> {
    env: EnvLookup<'e>,
    file: String,
    errors: Vec<ConfigError>,
    warnings: Vec<String>,
    global: Global,
    defaults: Draft,
    /// Named `defaults` sections before the current one, as they ended,
    /// for `from NAME`.
    named_defaults: Vec<Draft>,
    section: Section,
    proxies: Vec<Draft>,
    /// The `userlist` section being read.
    userlist: Option<super::userlist::Draft>,
    /// `http-errors` sections.
    http_errors: super::errors::Sections,
    /// Userlists named by fetches: name and first (file, line).
    userlist_refs: Vec<(String, Origin)>,
    /// Backends and servers named by fetches (`nbsrv(be)`, `srv_conn(be/s)`):
    /// (backend, server, the proxy of the line, where).
    proxy_refs: Vec<ProxyRef>,
}

/// A backend and server a fetch names, the proxy of its line, and where.
type ProxyRef = (Option<String>, Option<String>, Option<usize>, Origin);

impl<'e> Parser<'e> {
    pub(crate) fn new(env: EnvLookup<'e>) -> Self {
        // ACL and map files loaded from here on belong to this config.
        crate::sample::patref::begin_load();
        Parser {
            env,
            file: String::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            global: Global::default(),
            defaults: Draft::defaults(Origin::default()),
            named_defaults: Vec::new(),
            section: Section::None,
            proxies: Vec::new(),
            userlist: None,
            http_errors: Default::default(),
            userlist_refs: Vec::new(),
            proxy_refs: Vec::new(),
        }
        .with_fresh_userlists()
    }

    fn with_fresh_userlists(self) -> Self {
        crate::http::auth::begin();
        self
    }

    /// The `userlist` section being read ends.
    fn end_userlist(&mut self) {
        if let Some(d) = self.userlist.take() {
            let line = d.line;
            if let Err(e) = d.finish() {
                self.error(line, e);
            }
        }
    }

    fn origin(&self, line: usize) -> Origin {
        Origin {
            file: self.file.clone(),
            line,
        }
    }

    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            line,
            message: message.into(),
        });
    }

    fn warn(&mut self, line: usize, message: &str) {
        self.warnings
            .push(format!("{}:{line}: {message}", self.file));
    }

    /// A file, or a directory whose `*.cfg` files load in lexical order.
    pub(crate) fn load_path(&mut self, path: &Path) {
        let shown = path.display().to_string();
        let fail = |this: &mut Self, e: std::io::Error| {
            this.errors.push(ConfigError {
                file: shown.clone(),
                line: 0,
                message: format!("cannot open: {e}"),
            })
        };
        match std::fs::metadata(path) {
            Err(e) => fail(self, e),
            Ok(m) if m.is_dir() => match std::fs::read_dir(path) {
                Err(e) => fail(self, e),
                Ok(entries) => {
                    let mut files: Vec<_> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "cfg") && !p.is_dir())
                        .collect();
                    files.sort();
                    for f in files {
                        self.load_file(&f);
                    }
                }
            },
            Ok(_) => self.load_file(path),
        }
    }

    fn load_file(&mut self, path: &Path) {
        match std::fs::read(path) {
            Ok(bytes) => self.parse_text(
                &path.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            ),
            Err(e) => self.errors.push(ConfigError {
                file: path.display().to_string(),
                line: 0,
                message: format!("cannot open: {e}"),
            }),
        }
    }

    /// Parses one file's text. Each file starts outside any section.
    pub(crate) fn parse_text(&mut self, file: &str, text: &str) {
        self.file = file.to_string();
        self.section = Section::None;
        let mut conds = CondStack::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let words = match split_line(raw, self.env) {
                Ok(words) if words.is_empty() => continue,
                Ok(words) => words,
                Err(e) => {
                    self.error(line, e);
                    continue;
                }
            };
            match conds.directive(&words, line, self.env) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    self.error(line, e);
                    continue;
                }
            }
            if !conds.active() {
                continue;
            }
            if words[0].starts_with('.') {
                self.message_directive(line, &words);
            } else {
                self.keyword(line, &words);
            }
        }
        for line in conds.unterminated().collect::<Vec<_>>() {
            self.error(line, "'.if' is never closed (missing '.endif')");
        }
        self.end_userlist();
    }

    /// `.diag`, `.notice`, `.warning` (to warnings) and `.alert` (fatal).
    fn message_directive(&mut self, line: usize, words: &[String]) {
        let text = words[1..].join(" ");
        match words[0].as_str() {
            ".diag" | ".notice" | ".warning" => self.warn(line, &text),
            ".alert" => self.error(line, text),
            other => self.error(line, format!("unknown directive '{other}'")),
        }
    }

    fn keyword(&mut self, line: usize, words: &[String]) {
        crate::sample::patref::set_location(&self.file, line);
        let kw = words[0].as_str();
        let starts_section = matches!(
            kw,
            "global" | "defaults" | "frontend" | "backend" | "listen" | "userlist" | "http-errors"
        ) || UNSUPPORTED_SECTIONS.contains(&kw);
        if starts_section {
            self.end_userlist();
        }
        let result = match kw {
            "global" => {
                self.section = Section::Global;
                only(words, 1)
            }
            "defaults" => self.start_defaults(line, words),
            "frontend" => self.start_proxy(line, words, Kind::Frontend),
            "backend" => self.start_proxy(line, words, Kind::Backend),
            "listen" => self.start_proxy(line, words, Kind::Listen),
            "userlist" => {
                self.section = Section::Skipped;
                super::userlist::start(words, line).map(|(d, warn)| {
                    if let Some(w) = warn {
                        self.warn(line, &w);
                    }
                    self.userlist = Some(d);
                    self.section = Section::Userlist;
                })
            }
            "http-errors" => {
                self.section = Section::Skipped;
                self.http_errors.start(words).map(|()| {
                    self.section = Section::HttpErrors;
                })
            }
            _ if UNSUPPORTED_SECTIONS.contains(&kw) => {
                self.section = Section::Skipped;
                Err(format!("'{kw}' sections are not supported yet"))
            }
            _ => {
                let origin = self.origin(line);
                match self.section {
                    Section::None => Err(format!("unknown keyword '{kw}' out of section")),
                    Section::Skipped => Ok(()),
                    Section::HttpErrors => self.http_errors.keyword(words),
                    Section::Userlist => match self.userlist.as_mut().map(|d| d.keyword(words)) {
                        Some(Ok(Some(w))) => {
                            self.warn(line, &w);
                            Ok(())
                        }
                        Some(Ok(None)) | None => Ok(()),
                        Some(Err(e)) => Err(e),
                    },
                    Section::Global => {
                        if kw == "nbthread" {
                            self.global.nbthread_at = origin;
                        }
                        match global::no_effect(words) {
                            Some(Ok(w)) => {
                                self.warn(line, &w);
                                Ok(())
                            }
                            Some(Err(e)) => Err(e),
                            None => global::parse_keyword(&mut self.global, words),
                        }
                    }
                    Section::Defaults => proxy::parse_keyword(&mut self.defaults, words, &origin),
                    Section::Proxy(i) => proxy::parse_keyword(&mut self.proxies[i], words, &origin),
                }
            }
        };
        if let Err(e) = result {
            self.error(line, e);
        }
        for (be, srv) in crate::http::fetch::proxy::take_references() {
            let at = self.origin(line);
            let current = match self.section {
                Section::Proxy(i) => Some(i),
                _ => None,
            };
            self.proxy_refs.push((be, srv, current, at));
        }
        for name in crate::http::auth::take_references() {
            if !self.userlist_refs.iter().any(|(n, _)| *n == name) {
                let at = self.origin(line);
                self.userlist_refs.push((name, at));
            }
        }
        let notes = match self.section {
            Section::Defaults => std::mem::take(&mut self.defaults.notes),
            Section::Proxy(i) => std::mem::take(&mut self.proxies[i].notes),
            _ => Vec::new(),
        };
        for n in notes {
            self.warn(line, &n);
        }
    }

    /// A `defaults` section replaces the previous one entirely.
    /// `defaults [NAME] [from OTHER]`: a new defaults section, empty or a
    /// copy of the named section OTHER; the one it replaces is kept, by
    /// name, for later `from`s.
    fn start_defaults(&mut self, line: usize, words: &[String]) -> Result<(), String> {
        let (name, from) = match words {
            [_] => (None, None),
            [_, f, o] if f == "from" => (None, Some(o)),
            [_, n] => (Some(n), None),
            [_, n, f, o] if f == "from" => (Some(n), Some(o)),
            [_, _, w, ..] => return Err(format!("unexpected argument '{w}' after 'defaults'")),
            [] => (None, None),
        };
        let origin = self.origin(line);
        let base = match from {
            Some(o) => Some(self.named(o)?.clone()),
            None => None,
        };
        let old = std::mem::replace(&mut self.defaults, Draft::defaults(origin.clone()));
        if !old.name.is_empty() {
            self.named_defaults.retain(|d| d.name != old.name);
            self.named_defaults.push(old);
        }
        if let Some(mut b) = base {
            // A copy of the other, under this one's name and place.
            (b.name, b.origin) = (String::new(), origin);
            self.defaults = b;
        }
        self.section = Section::Defaults;
        if let Some(name) = name {
            check_name("defaults", name)?;
            self.defaults.name = name.clone();
        }
        Ok(())
    }

    /// The named `defaults` section `name` (the current one included).
    fn named(&mut self, name: &str) -> Result<&mut Draft, String> {
        if self.defaults.name == name {
            return Ok(&mut self.defaults);
        }
        self.named_defaults
            .iter_mut()
            .find(|d| d.name == name)
            .ok_or_else(|| format!("'from' references an unknown defaults section '{name}'"))
    }

    fn start_proxy(&mut self, line: usize, words: &[String], kind: Kind) -> Result<(), String> {
        // Lines up to the next section go nowhere if this header is bad.
        self.section = Section::Skipped;
        let name = need(words, 1, "a name")?;
        check_name(kind.name(), name)?;
        let from = match &words[2..] {
            [] => None,
            [f, o] if f == "from" => Some(o.as_str()),
            [f] if f == "from" => return Err("'from' expects a defaults section name".into()),
            [w, ..] => {
                return Err(format!(
                    "unexpected argument '{w}' after '{} {name}'",
                    kind.name()
                ))
            }
        };
        let clash = self
            .proxies
            .iter()
            .find(|p| p.name == name && ((p.kind.fe() && kind.fe()) || (p.kind.be() && kind.be())));
        if let Some(other) = clash {
            return Err(format!(
                "{} '{name}' has the same name as {} '{name}' declared at {}:{}",
                kind.name(),
                other.kind.name(),
                other.origin.file,
                other.origin.line
            ));
        }
        let origin = self.origin(line);
        let defaults = match from {
            Some(o) => self.named(o)?,
            None => &mut self.defaults,
        };
        defaults_rules_user(defaults, kind)?;
        let draft = Draft::from_defaults(defaults, kind, name, origin);
        self.proxies.push(draft);
        self.section = Section::Proxy(self.proxies.len() - 1);
        Ok(())
    }

    /// Cross-section checks, then the model; all errors if there are any.
    pub(crate) fn finish(mut self) -> Result<Config, Vec<ConfigError>> {
        global::finish(&mut self.global);
        self.warnings.append(&mut self.global.tls.warnings);
        for (be, srv, current, origin) in &self.proxy_refs {
            let proxy = match be {
                Some(name) => self.proxies.iter().find(|p| p.kind.be() && &p.name == name),
                None => current.and_then(|i| self.proxies.get(i)),
            };
            let Some(p) = proxy else {
                if let Some(name) = be {
                    self.errors
                        .push(at(origin, format!("unable to find backend '{name}'")));
                }
                continue;
            };
            if let Some(s) = srv {
                if !p.servers.iter().any(|x| &x.name == s) {
                    let msg = format!("unable to find server '{s}' in backend '{}'", p.name);
                    self.errors.push(at(origin, msg));
                }
            }
        }
        for (name, origin) in &self.userlist_refs {
            if !crate::http::auth::defined(name) {
                self.errors
                    .push(at(origin, format!("unable to find userlist '{name}'")));
            }
        }
        let mut seen = Vec::new();
        for p in &mut self.proxies {
            for (origin, msg) in self.http_errors.resolve(p) {
                if !seen.contains(&(origin.clone(), msg.clone())) {
                    seen.push((origin.clone(), msg.clone()));
                    self.errors.push(at(&origin, msg));
                }
            }
        }
        let mut config = Config {
            global: self.global.clone(),
            frontends: Vec::new(),
            backends: Vec::new(),
            stick_tables: Vec::new(),
            warnings: Vec::new(),
            patterns: Default::default(),
        };
        for p in &self.proxies {
            if p.kind.fe() {
                if !p.bind_seen && !p.disabled {
                    let message = format!("{} '{}' has no 'bind' line", p.kind.name(), p.name);
                    self.errors.push(at(&p.origin, message));
                }
                match &p.default_backend {
                    Some((name, origin)) => {
                        self.errors
                            .extend(check_target(&self.proxies, p, "default_backend", name, origin));
                    }
                    // A stats frontend serves its page without a backend;
                    // switching or `http-request` rules (a `return`...) may
                    // serve everything.
                    None if p.kind == Kind::Frontend
                        && p.fe_rules.stats.is_none()
                        && p.fe_rules.use_backend.is_empty()
                        && p.h.req_http.is_empty() =>
                    {
                        self.warnings.push(format!(
                        "{}:{}: frontend '{}' has no backend (no 'default_backend'): connections will be refused",
                        p.origin.file, p.origin.line, p.name
                    ))
                    }
                    None => {}
                }
                for ((target, _), origin) in p.fe_rules.use_backend.iter().zip(&p.h.use_backend_at)
                {
                    // A log-format name is resolved per request (HAProxy).
                    let UseBackend::Name(name) = target else {
                        continue;
                    };
                    self.errors
                        .extend(check_target(&self.proxies, p, "use_backend", name, origin));
                }
                let mut fe = p.frontend();
                let mut notes = Vec::new();
                for b in &mut fe.binds {
                    let origin = b.origin.clone();
                    let shown = match b.addrs.first() {
                        Some(super::model::BindAddr::Inet(a)) => a.to_string(),
                        Some(super::model::BindAddr::Fd(n)) => format!("fd@{n}"),
                        None => String::new(),
                    };
                    let head = format!("{} '{}': bind '{shown}'", p.kind.name(), p.name);
                    let mut warn = |w: String| {
                        notes.push(format!("{}:{}: {head}: {w}", origin.file, origin.line));
                    };
                    let place = format!("{}:{}", origin.file, origin.line);
                    if let Err(e) = super::bind::finish_tls(b, &self.global.tls, &place, &mut warn)
                    {
                        self.errors.push(at(&origin, format!("{head}: {e}")));
                    }
                }
                fe.log = super::logs::resolve(&p.log, &self.global.log, p.mode, &mut |n| {
                    notes.push(format!(
                        "{}:{}: {} '{}': {n}",
                        p.origin.file,
                        p.origin.line,
                        p.kind.name(),
                        p.name
                    ))
                });
                self.warnings.extend(notes);
                config.frontends.push(fe);
            }
            if p.kind.be() {
                self.errors.extend(super::persist::check_use_server(p));
                let mut be = p.backend();
                be.log_targets = super::logs::targets(&p.log, &self.global.log);
                let ssl_connect = match &be.health.kind {
                    super::model::CheckKind::TcpScript(steps) => steps.iter().any(|r| {
                        matches!(r, super::model::TcpCheckStep::Connect { ssl: true, .. })
                    }),
                    _ => false,
                };
                for s in &mut be.servers {
                    let origin = s.origin.clone();
                    let head = format!("{} '{}': server '{}'", p.kind.name(), p.name, s.name);
                    // `check-ssl` or `tcp-check connect ssl` take the server's
                    // TLS settings without `ssl`.
                    let checks = s.check.as_ref().is_some_and(|c| c.ssl == Some(true))
                        || (s.check.is_some() && ssl_connect);
                    let mut warn = |w: String| {
                        self.warnings
                            .push(format!("{}:{}: {head}: {w}", origin.file, origin.line));
                    };
                    if let Err(e) = super::bind::finish_server_tls(
                        &mut s.ssl,
                        checks,
                        &self.global.tls,
                        &mut warn,
                    ) {
                        self.errors.push(at(&origin, format!("{head}: {e}")));
                    }
                    // `check-alpn`: the same settings, another ALPN list
                    // (what they warned about is said once, above).
                    if let Some(c) = s.check.as_mut().filter(|_| s.ssl.ctx.is_some()) {
                        if let Some(alpn) = c.alpn.clone() {
                            let mut t = s.ssl.clone();
                            (t.alpn, t.ctx) = (alpn, None);
                            let g = &self.global.tls;
                            match super::bind::finish_server_tls(&mut t, true, g, &mut |_| {}) {
                                Ok(()) => c.alpn_ctx = t.ctx,
                                Err(e) => self.errors.push(at(&origin, format!("{head}: {e}"))),
                            }
                        }
                    }
                }
                config.backends.push(be);
            }
            if let Some(w) = missing_timeouts(p) {
                self.warnings.push(w);
            }
            if let (Mode::Tcp, Some((kw, origin))) = (p.mode, &p.h.first_http_kw) {
                self.warnings.push(format!(
                    "{}:{}: '{kw}' rules ignored for {} '{}' as they require HTTP mode",
                    origin.file,
                    origin.line,
                    p.kind.name(),
                    p.name
                ));
            }
        }
        config.stick_tables = super::persist::finish(&self.proxies, &mut self.errors);
        super::persist::stick_servers(&mut config);
        self.errors.extend(threads_check(&config));
        // Taken even when the config is refused, so nothing stays loaded.
        let patterns = crate::sample::patref::finish_load();
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        config.warnings = self.warnings;
        config.patterns = patterns;
        Ok(config)
    }
}

/// A `defaults` section with rules (`http-after-response`) serves
/// either frontends or backends, never a `listen` (HAProxy 2.6: its
/// rules would run twice, or on the wrong side).
fn defaults_rules_user(defaults: &mut Draft, kind: Kind) -> Result<(), String> {
    if defaults.h.after_res.is_empty() {
        return Ok(());
    }
    if kind == Kind::Listen {
        return Err(
            "a listen section cannot inherit from a defaults section defining TCP/HTTP rules"
                .into(),
        );
    }
    match defaults.h.rules_users_fe {
        Some(fe) if fe != kind.fe() => {
            let o = &defaults.origin;
            Err(format!(
                "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {}:{})",
                o.file, o.line
            ))
        }
        _ => {
            defaults.h.rules_users_fe = Some(kind.fe());
            Ok(())
        }
    }
}

/// HAProxy's warning for a proxy whose connections could stay forever: a
/// frontend without `timeout client`, a backend with servers but without
/// `timeout connect`, or without `timeout server` (in TCP mode, unless
/// `timeout tunnel` is set).
fn missing_timeouts(p: &Draft) -> Option<String> {
    if p.disabled {
        return None;
    }
    let t = &p.timeouts;
    let fe = p.kind.fe() && t.client.is_none();
    let be = p.kind.be()
        && !p.servers.is_empty()
        && (t.connect.is_none()
            || (t.server.is_none() && (p.mode == Mode::Http || t.tunnel.is_none())));
    (fe || be).then(|| {
        format!(
            "{}:{}: missing timeouts for {} '{}': connections may stay open forever; set 'timeout client', 'timeout connect' and 'timeout server'",
            p.origin.file,
            p.origin.line,
            p.kind.name(),
            p.name
        )
    })
}

/// `nbthread N` > 1: each thread enforces an equal share of every limit, so
/// each must get at least one; what has no cross-thread form yet is refused.
fn threads_check(c: &Config) -> Vec<ConfigError> {
    let n = c.global.nbthread;
    let mut errs = Vec::new();
    if n <= 1 {
        return errs;
    }
    let low = |what: &str, v: u32| {
        format!("{what} {v} is lower than nbthread {n} (each thread enforces an equal share of it)")
    };
    if c.global.maxconn < n {
        errs.push(at(
            &c.global.nbthread_at,
            low("global maxconn", c.global.maxconn),
        ));
    }
    for f in &c.frontends {
        if let Some(m) = f.maxconn.filter(|&m| m > 0 && m < n) {
            errs.push(at(
                &f.origin,
                low(&format!("frontend '{}': maxconn", f.name), m),
            ));
        }
    }
    for b in &c.backends {
        for s in &b.servers {
            let who = format!("server '{}/{}'", b.name, s.name);
            for (kw, v) in [("maxconn", s.maxconn), ("maxqueue", s.maxqueue)] {
                if let Some(v) = v.filter(|&v| v > 0 && v < n) {
                    errs.push(at(&s.origin, low(&format!("{who}: {kw}"), v)));
                }
            }
            let unsupported = [
                ("minconn", s.minconn.is_some()),
                (
                    "observe",
                    s.check.as_ref().is_some_and(|k| k.observe.is_some()),
                ),
            ];
            for (kw, set) in unsupported {
                if set {
                    errs.push(at(
                        &s.origin,
                        format!("{who}: '{kw}' is not supported with nbthread > 1 (its state is per thread)"),
                    ));
                }
            }
        }
    }
    errs
}

/// A frontend's `default_backend` or `use_backend` target must exist and
/// have the frontend's mode.
fn check_target(
    proxies: &[Draft],
    p: &Draft,
    kw: &str,
    name: &str,
    origin: &Origin,
) -> Option<ConfigError> {
    {
        let target = proxies.iter().find(|b| b.kind.be() && b.name == name);
        let message = match target {
            None => format!(
                "{kw} '{name}' of {} '{}': no such backend",
                p.kind.name(),
                p.name
            ),
            Some(b) if b.mode != p.mode => format!(
                "{} '{}': unable to use proxy '{name}' with wrong mode, required: {}, has: {}",
                p.kind.name(),
                p.name,
                p.mode.name(),
                b.mode.name()
            ),
            Some(_) => return None,
        };
        Some(at(origin, message))
    }
}

fn at(origin: &Origin, message: String) -> ConfigError {
    ConfigError {
        file: origin.file.clone(),
        line: origin.line,
        message,
    }
}
