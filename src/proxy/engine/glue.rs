//! From the config model to the engine's HTTP and rule settings.

use crate::config;
use crate::http::rules::TcpRule;
use crate::session::http::{HttpFront, HttpSide};
use std::time::Duration;

pub(super) fn http_backend(_b: &config::Backend) -> HttpSide {
    HttpSide::default()
}

pub(super) fn http_frontend(_cfg: &config::Config, _f: &config::Frontend) -> Option<HttpFront> {
    None
}

pub(super) fn http_request_timeout(_f: &config::Frontend) -> Option<Duration> {
    None
}

pub(super) fn http_keep_alive_timeout(_f: &config::Frontend) -> Option<Duration> {
    None
}

pub(super) fn tcp_conn_rules(_f: &config::Frontend) -> Vec<TcpRule> {
    Vec::new()
}

pub(super) fn tcp_content_rules(_f: &config::Frontend) -> Vec<TcpRule> {
    Vec::new()
}

pub(super) fn inspect_delay(_f: &config::Frontend) -> Option<Duration> {
    None
}

pub(super) fn tarpit_timeout(_f: &config::Frontend) -> Option<Duration> {
    None
}
