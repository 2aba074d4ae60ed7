//! Which certificate, and which context, a TLS frontend's client gets.
//!
//! As HAProxy: the SNI name is looked up exactly, then, only if no entry
//! has that exact name, as a wildcard (`*.example.com` covers one label);
//! a negative entry (`!name` in a crt-list) is never chosen but still
//! stops the wildcard lookup. Among the certificates of a name, the first
//! whose key the client can verify wins (an ECDSA and an RSA certificate
//! for one name serve both kinds of clients). No SNI or no match: the
//! first certificate loaded, unless `strict-sni`, which ends the handshake.
//!
//! Each certificate belongs to a context ("site"): the bind line's, or the
//! one a crt-list line with options of its own makes. With one site, rustls
//! resolves the certificate itself; with several, the connection reads the
//! ClientHello first (rustls' `Acceptor`) and `Frontend::site` picks the
//! context, whose resolver then gives the same certificate.

use super::certs::Loaded;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::sync::Arc;

/// One certificate under one name.
#[derive(Debug, Clone)]
struct Entry {
    key: Arc<CertifiedKey>,
    site: usize,
    neg: bool,
}

/// A certificate to serve: its names (the crt-list line's filters, else
/// the certificate's), and its site.
pub struct SiteCert {
    pub cert: Loaded,
    pub filters: Vec<String>,
    pub site: usize,
}

/// Certificates by name: exact names and wildcard suffixes (`*.a.com` is
/// kept as `a.com`), each with its entries in load order.
#[derive(Debug)]
pub struct Names {
    exact: HashMap<String, Vec<Entry>>,
    wild: HashMap<String, Vec<Entry>>,
    default: Entry,
    strict: bool,
}

impl Names {
    /// None without certificates.
    pub fn new(certs: Vec<SiteCert>, strict: bool) -> Option<Names> {
        let first = certs.first()?;
        let default = Entry {
            key: first.cert.key.clone(),
            site: first.site,
            neg: false,
        };
        let (mut exact, mut wild) = (HashMap::new(), HashMap::new());
        for c in certs {
            let names = if c.filters.is_empty() {
                &c.cert.names
            } else {
                &c.filters
            };
            for n in names {
                let n = n.to_ascii_lowercase();
                let (neg, n) = match n.strip_prefix('!') {
                    Some(rest) => (true, rest.to_string()),
                    None => (false, n),
                };
                let (map, key) = match n.strip_prefix("*.") {
                    Some(rest) => (&mut wild, rest.to_string()),
                    None => (&mut exact, n),
                };
                let e = Entry {
                    key: c.cert.key.clone(),
                    site: c.site,
                    neg,
                };
                map.entry(key).or_insert_with(Vec::new).push(e);
            }
        }
        Some(Names {
            exact,
            wild,
            default,
            strict,
        })
    }

    /// The entry for this hello; None: no certificate (`strict-sni`).
    fn lookup(&self, hello: &ClientHello<'_>) -> Option<&Entry> {
        if let Some(name) = hello.server_name() {
            let name = name.to_ascii_lowercase();
            let list = match self.exact.get(&name) {
                Some(l) => Some(l),
                None => name
                    .split_once('.')
                    .and_then(|(_, parent)| self.wild.get(parent)),
            };
            if let Some(e) = list.and_then(|l| Self::pick(l, hello)) {
                return Some(e);
            }
        }
        (!self.strict).then_some(&self.default)
    }

    fn pick<'a>(list: &'a [Entry], hello: &ClientHello<'_>) -> Option<&'a Entry> {
        let schemes = hello.signature_schemes();
        let mut usable = list.iter().filter(|e| !e.neg);
        let first = usable.clone().next();
        usable
            .find(|e| e.key.key.choose_scheme(schemes).is_some())
            .or(first)
    }
}

/// The resolver of one site: the certificate the lookup gives when it is
/// this site's (always, once `Frontend::site` chose the site by it).
#[derive(Debug)]
struct Resolver {
    names: Arc<Names>,
    site: usize,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.names
            .lookup(&hello)
            .filter(|e| e.site == self.site)
            .map(|e| e.key.clone())
    }
}

/// A TLS frontend's contexts, shared by every thread.
#[derive(Debug)]
pub struct Frontend {
    sites: Vec<Arc<rustls::ServerConfig>>,
    names: Arc<Names>,
}

impl Frontend {
    /// Make each site's configuration with `build(site, its resolver)`.
    pub fn new(
        names: Names,
        sites: usize,
        mut build: impl FnMut(
            usize,
            Arc<dyn ResolvesServerCert>,
        ) -> Result<Arc<rustls::ServerConfig>, String>,
    ) -> Result<Frontend, String> {
        let names = Arc::new(names);
        let sites = (0..sites)
            .map(|site| {
                let r = Resolver {
                    names: names.clone(),
                    site,
                };
                build(site, Arc::new(r))
            })
            .collect::<Result<_, _>>()?;
        Ok(Frontend { sites, names })
    }

    /// The one context when there is one: no need to read the ClientHello
    /// before choosing.
    pub fn single(&self) -> Option<&Arc<rustls::ServerConfig>> {
        match self.sites.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// The first context (the bind line's).
    pub fn first(&self) -> &Arc<rustls::ServerConfig> {
        &self.sites[0]
    }

    /// The context for this hello (the default one when no certificate
    /// fits: its resolver then ends the handshake, as `strict-sni` wants).
    pub fn site(&self, hello: &ClientHello<'_>) -> &Arc<rustls::ServerConfig> {
        let i = self
            .names
            .lookup(hello)
            .map_or(self.names.default.site, |e| e.site);
        &self.sites[i]
    }
}

/// A TLS frontend's contexts, shared by every thread.
pub type ServerCtx = super::Shared<Frontend>;
