//! The TLS context of a `bind ... ssl` line, made when the configuration is
//! finished: `ssl-default-bind-*` and `crt-base` applied, the `crt` and
//! `crt-list` files loaded (in the order written: the first certificate is
//! the default one), one context for the line and one per crt-list line
//! with options of its own. Errors name the file (and the crt-list line).

use super::model::{Bind, BindSsl, TlsGlobal};
use crate::tls::sni::{Frontend, MakeSite, Source};
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
    at: &str,
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
    let base = |c: &str| match &g.crt_base {
        Some(base) if !c.starts_with('/') => Path::new(base).join(c),
        _ => PathBuf::from(c),
    };
    // The files, in the order written (the first certificate is the
    // default one), each loaded once in the store.
    let mut store = g.store.lock();
    let mut sources = Vec::new();
    for k in 0..=s.crts.len() {
        for (_, list) in s.crt_lists.iter().filter(|(at, _)| *at == k) {
            // The list's own path is not under crt-base (HAProxy 2.6).
            let list = store.add_list(Path::new(list), g.crt_base.as_deref())?;
            sources.push(Source::List(list));
        }
        if let Some(c) = s.crts.get(k) {
            let path = base(c);
            match crate::tls::certs::dir_files(&path)? {
                Some(files) => sources.push(Source::List(store.add_dir(&path, &files)?)),
                None => sources.push(Source::Crt(store.add_cert(&path)?)),
            }
        }
    }
    if !s.enabled {
        return Ok(());
    }
    let items = store.items(&sources);
    // Every context of the line, now and at run time, is made from the
    // line's options (a crt-list line's over them).
    let bind = s.clone();
    let (cache_size, max_record, lifetime) = (g.cache_size, g.max_record, g.lifetime);
    let ca_base = g.ca_base.clone();
    let ticket_keys = match &s.ticket_keys {
        Some(f) => Some(Arc::new(crate::tls::tickets::FileKeys::load(f)?)
            as Arc<dyn rustls::server::ProducesTickets>),
        None => None,
    };
    let make: MakeSite = Box::new(move |words, resolver, warn| {
        let mut o = bind.clone();
        if let Some(words) = words {
            line_options(&mut o, words)?;
        }
        let tls = crate::tls::server::BindTls {
            versions: &o.versions,
            alpn: &o.alpn,
            no_tickets: o.no_tickets,
            cache_size,
            lifetime,
            ticket_keys: ticket_keys.clone(),
            max_record,
            curves: o.curves.as_deref(),
            ciphers: o.ciphers.as_deref(),
            ciphersuites: o.ciphersuites.as_deref(),
            prefer_client: o.prefer_client,
            client_auth: crate::tls::verify::build(&o.client, ca_base.as_deref())?,
        };
        crate::tls::server::build(tls, resolver, warn)
    });
    // One warning once, whichever contexts it concerns.
    let mut said: Vec<String> = Vec::new();
    let fe = Frontend::new(
        sources,
        s.strict_sni,
        at.to_string(),
        make,
        items,
        &mut |w| {
            if !said.contains(&w) {
                said.push(w);
            }
        },
    )?;
    said.into_iter().for_each(&mut *warn);
    let fe = Arc::new(fe);
    store.register(&fe);
    s.ctx = Some(crate::tls::Shared(fe));
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
