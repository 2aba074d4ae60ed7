//! The TLS context of a `bind ... ssl` line, made when the configuration is
//! finished: `ssl-default-bind-*` and `crt-base` applied, the `crt` and
//! `crt-list` files loaded (in the order written: the first certificate is
//! the default one), one context for the line and one per crt-list line
//! with options of its own. Errors name the file (and the crt-list line).

use super::model::{Bind, BindSsl, TlsGlobal};
use crate::tls::sni::{Frontend, Names, SiteCert};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The options a crt-list line may carry (HAProxy 2.6's list, less those
/// pollux does not have).
const LINE_OPTIONS: &[&str] = &[
    "alpn",
    "ca-file",
    "ca-verify-file",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "curves",
    "no-ca-names",
    "ssl-min-ver",
    "ssl-max-ver",
    "verify",
];

/// HAProxy's crt-list options pollux does not implement yet.
const LINE_UNSUPPORTED: &[&str] = &["allow-0rtt", "ecdhe", "npn"];

pub(crate) fn finish_tls(
    b: &mut Bind,
    g: &TlsGlobal,
    warn: &mut dyn FnMut(String),
) -> Result<(), String> {
    let s = &mut b.ssl;
    if !s.enabled && s.crts.is_empty() && s.crt_lists.is_empty() {
        return Ok(());
    }
    let d = &g.bind;
    if s.versions == Default::default() {
        s.versions = d.versions.clone();
    }
    s.no_tickets |= d.no_tickets;
    s.prefer_client |= d.prefer_client;
    s.ciphers = s.ciphers.take().or_else(|| d.ciphers.clone());
    s.ciphersuites = s.ciphersuites.take().or_else(|| d.ciphersuites.clone());
    s.curves = s.curves.take().or_else(|| d.curves.clone());
    let provider = crate::tls::server::provider();
    let base = |c: &str| match &g.crt_base {
        Some(base) if !c.starts_with('/') => Path::new(base).join(c),
        _ => PathBuf::from(c),
    };
    // Site 0 is the bind line's; each crt-list line with options adds one.
    let mut sites: Vec<(String, BindSsl)> = Vec::new();
    let mut certs: Vec<SiteCert> = Vec::new();
    for k in 0..=s.crts.len() {
        for (_, list) in s.crt_lists.iter().filter(|(at, _)| *at == k) {
            // The list's own path is not under crt-base (HAProxy 2.6).
            for line in crate::tls::crtlist::read(Path::new(list), g.crt_base.as_deref())? {
                let site = match &line.options {
                    None => 0,
                    Some(words) => {
                        let mut o = s.clone();
                        line_options(&mut o, words).map_err(|e| format!("{}: {e}", line.at))?;
                        sites.push((line.at.clone(), o));
                        sites.len()
                    }
                };
                let loaded = crate::tls::certs::load(&line.crt, &provider)
                    .map_err(|e| format!("{}: {e}", line.at))?;
                certs.extend(loaded.into_iter().map(|cert| SiteCert {
                    cert,
                    filters: line.filters.clone(),
                    site,
                }));
            }
        }
        if let Some(c) = s.crts.get(k) {
            let loaded = crate::tls::certs::load(&base(c), &provider)?;
            certs.extend(loaded.into_iter().map(|cert| SiteCert {
                cert,
                filters: Vec::new(),
                site: 0,
            }));
        }
    }
    if !s.enabled {
        return Ok(());
    }
    let names = Names::new(certs, s.strict_sni)
        .ok_or_else(|| "no SSL certificate specified (use 'crt')".to_string())?;
    // One warning once, whichever contexts it concerns.
    let mut said: Vec<String> = Vec::new();
    let fe = Frontend::new(names, 1 + sites.len(), |i, resolver| {
        let (at, o) = match i {
            0 => (None, &*s),
            _ => (Some(&sites[i - 1].0), &sites[i - 1].1),
        };
        let on_line = |e: String| match at {
            Some(at) => format!("{at}: {e}"),
            None => e,
        };
        let tls = crate::tls::server::BindTls {
            versions: &o.versions,
            alpn: &o.alpn,
            no_tickets: o.no_tickets,
            cache_size: g.cache_size,
            max_record: g.max_record,
            curves: o.curves.as_deref(),
            ciphers: o.ciphers.as_deref(),
            ciphersuites: o.ciphersuites.as_deref(),
            prefer_client: o.prefer_client,
            client_auth: crate::tls::verify::build(&o.client, g.ca_base.as_deref())
                .map_err(on_line)?,
        };
        crate::tls::server::build(tls, resolver, &mut |w| {
            let w = on_line(w);
            if !said.contains(&w) {
                said.push(w);
            }
        })
        .map_err(on_line)
    })?;
    said.into_iter().for_each(&mut *warn);
    s.ctx = Some(crate::tls::Shared(Arc::new(fe)));
    Ok(())
}

/// Apply the options of a crt-list line over its bind line's.
fn line_options(o: &mut BindSsl, words: &[String]) -> Result<(), String> {
    let mut i = 0;
    while i < words.len() {
        let kw = words[i].as_str();
        if LINE_UNSUPPORTED.contains(&kw) {
            return Err(format!("crt-list option '{kw}' is not supported yet"));
        }
        if !LINE_OPTIONS.contains(&kw) {
            return Err(format!("unknown crt-list option '{kw}'"));
        }
        let n = super::bind::ssl_option(o, words, i)?.or(crate::tls::verify::parse_option(
            &mut o.client,
            words,
            i,
        )?);
        i += n.ok_or_else(|| format!("unknown crt-list option '{kw}'"))?;
    }
    Ok(())
}
