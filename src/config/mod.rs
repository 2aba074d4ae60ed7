//! HAProxy-format configuration: the lexer, the `.if` preprocessor and the
//! section parser produce a plain typed model (`model.rs`, re-exported
//! here); the runtime builds itself from it. Every error is
//! `FILE:LINE: message`. Modules, top to bottom (no import goes up):
//! `parser` (files, sections) -> `proxy` (proxy keywords) -> keyword
//! parsers -> `draft` (a section being parsed) -> `model`; `args`,
//! `values`, `lexer` and `cond` are leaves.

mod args;
mod bind;
mod bind_tls;
mod checks;
mod cond;
mod draft;
mod errors;
pub use cond::eval_text as eval_condition;
mod global;
mod http;
mod lexer;
mod logs;
mod model;
pub use model::*;
mod parser;
mod persist;
mod process;
mod proxy;
mod rules;
mod server;
mod suggest;

/// Unit tests' configurations rarely set timeouts: the warning about them
/// (tested on its own) is left out of what the others compare.
#[cfg(test)]
pub(crate) fn without_timeout_notes(mut c: Config) -> Config {
    c.warnings
        .retain(|w| !w.contains(": missing timeouts for "));
    c
}
pub use bind::listener_ids;
pub use server::dynamic_server;
pub(crate) use suggest::hint;
pub mod stats;
pub mod stats_socket;
#[cfg(test)]
mod tests;
mod userlist;
mod values;
mod vars;
pub(crate) use values::parse_time;
pub use values::refuse_host_names;

pub use cond::features;

use std::path::PathBuf;

/// Load and check every file (a directory loads its `*.cfg` in lexical order).
/// Returns all errors found, not just the first.
pub fn load(paths: &[PathBuf]) -> Result<Config, Vec<ConfigError>> {
    load_with_env(paths, &|name| std::env::var(name).ok())
}

/// One file's text, already in memory, checked as [`load`] would with the
/// environment `env`: for callers that have no file per config (the fuzz
/// targets). Files the config names (errorfile, `acl -f`) are still read.
pub fn load_text(
    file: &str,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<ConfigError>> {
    let mut parser = parser::Parser::new(env);
    parser.parse_text(file, text);
    parser.finish()
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
