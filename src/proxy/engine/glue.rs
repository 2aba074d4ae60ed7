//! From the config model to the engine's HTTP and rule settings.

use crate::config::{self, ConnMode as CfgConnMode, Mode, UseBackend};
use crate::http::errors::ErrorPages;
use crate::http::rules::ReplyRaw;
use crate::http::rules::TcpRule;
use crate::session::txn::{AddrHeader, ConnMode, HttpFront, HttpSide, Switch, UniqueId};
use std::time::Duration;

fn side(h: &config::HttpProxy, http_request: Option<Duration>, comp_level: u32) -> HttpSide {
    let mut errors = ErrorPages::new();
    for (code, bytes) in &h.errorfiles {
        errors.set(*code, bytes.clone());
    }
    for r in &h.http_errors {
        match &r.raw {
            Some(ReplyRaw::Bytes(b)) => errors.set(r.status, b.clone()),
            // The proxy's error file for the status, else the built-in page.
            Some(ReplyRaw::Default | ReplyRaw::Section(_)) => {
                match h.errorfiles.iter().rev().find(|(c, _)| *c == r.status) {
                    Some((c, b)) => errors.set(*c, b.clone()),
                    None => errors.unset(r.status),
                }
            }
            None => errors.set_reply(r.clone()),
        }
    }
    HttpSide {
        rules_req: h.rules_req.clone(),
        rules_res: h.rules_res.clone(),
        rules_after: h.rules_after.clone(),
        conn_mode: match h.conn_mode {
            CfgConnMode::KeepAlive => ConnMode::KeepAlive,
            CfgConnMode::ServerClose => ConnMode::ServerClose,
            CfgConnMode::Close => ConnMode::Close,
        },
        forwardfor: h.forwardfor.as_ref().map(|f| AddrHeader {
            header: f.header.clone(),
            except: f.except,
            if_none: f.if_none,
        }),
        originalto: h.originalto.as_ref().map(|o| AddrHeader {
            header: o.header.clone(),
            except: o.except,
            if_none: false,
        }),
        errors,
        buffer_request: h.buffer_request.then_some(http_request),
        compression: h.compression.clone().map(|mut c| {
            c.level = comp_level;
            c
        }),
    }
}

pub(super) fn http_backend(b: &config::Backend, comp_level: u32) -> HttpSide {
    match b.mode {
        Mode::Http => side(&b.http, b.timeouts.http_request, comp_level),
        Mode::Tcp => HttpSide::default(),
    }
}

pub(super) fn http_frontend(cfg: &config::Config, f: &config::Frontend) -> Option<HttpFront> {
    if f.mode != Mode::Http {
        return None;
    }
    let index = |name: &str| cfg.backends.iter().position(|b| b.name == name);
    let use_backend = switch_rules(cfg, f);
    Some(HttpFront {
        side: side(&f.http, f.timeouts.http_request, cfg.global.comp_level),
        use_backend,
        default_backend: f.default_backend.as_deref().and_then(index),
        monitor_uri: f.rules.monitor_uri.clone(),
        // A listen section's halves share one rule set: run it once.
        own_backend: if f.http.listen { index(&f.name) } else { None },
        captures_req: f.rules.captures_req.clone(),
        captures_res: f.rules.captures_res.clone(),
        capture_cookie: f.rules.capture_cookie.clone(),
        stats_uri: f.rules.stats.as_ref().map(|s| s.uri.clone()),
        ignore_probes: f.http.ignore_probes,
        unique_id: f.rules.unique_id_format.clone().map(|fmt| UniqueId {
            format: fmt,
            header: f.rules.unique_id_header.clone(),
        }),
    })
}

pub(super) fn http_request_timeout(f: &config::Frontend) -> Option<Duration> {
    f.timeouts.http_request
}

pub(super) fn http_keep_alive_timeout(f: &config::Frontend) -> Option<Duration> {
    f.timeouts.http_keep_alive
}

pub(super) fn tarpit_timeout(f: &config::Frontend) -> Option<Duration> {
    f.timeouts.tarpit
}

pub(super) fn tcp_conn_rules(f: &config::Frontend) -> Vec<TcpRule> {
    f.rules.tcp_conn.clone()
}

pub(super) fn tcp_content_rules(f: &config::Frontend) -> Vec<TcpRule> {
    f.rules.tcp_content.clone()
}

/// A frontend's `use_backend` rules, backends by index.
pub(super) fn switch_rules(
    cfg: &config::Config,
    f: &config::Frontend,
) -> Vec<(Switch, Option<crate::http::acl::Condition>)> {
    let index = |name: &str| cfg.backends.iter().position(|b| b.name == name);
    f.rules
        .use_backend
        .iter()
        .filter_map(|(target, cond)| {
            let to = match target {
                UseBackend::Name(name) => Switch::To(index(name)?),
                UseBackend::Format(fmt) => Switch::Named(fmt.clone()),
            };
            Some((to, cond.clone()))
        })
        .collect()
}

pub(super) fn inspect_delay(f: &config::Frontend) -> Option<Duration> {
    f.rules.inspect_delay
}

/// HAProxy's default `fullconn`: 10% of the maxconn of every frontend that
/// can send traffic to the backend (default_backend or use_backend).
pub(super) fn default_fullconn(cfg: &config::Config, backend: &str) -> u32 {
    let sum: u64 = cfg
        .frontends
        .iter()
        .filter(|f| {
            f.default_backend.as_deref() == Some(backend)
                || f.rules.use_backend.iter().any(|(b, _)| match b {
                    UseBackend::Name(b) => b == backend,
                    UseBackend::Format(_) => false,
                })
        })
        .map(|f| u64::from(f.maxconn.unwrap_or(cfg.global.maxconn)))
        .sum();
    (sum / 10).clamp(1, u64::from(u32::MAX)) as u32
}
