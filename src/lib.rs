//! pollux: a portable, event-driven TCP/HTTP load balancer speaking HAProxy's
//! configuration language. Layers, top to bottom (data never flows back up):
//! cli -> config -> proxy -> session -> conn -> core -> pollers -> sys.

pub mod about;
pub mod cli;
pub mod config;
pub mod conn;
pub mod core;
pub mod crash;
pub mod http;
pub mod log;
pub mod mux;
pub mod pollers;
pub mod proxy;
pub mod runtime;
pub mod sample;
pub mod session;
pub mod stats;
pub mod sys;
pub mod tls;

/// Version string shown by `-v` / `-vv`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
