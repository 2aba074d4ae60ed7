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
use std::sync::{Arc, Mutex, RwLock};

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
    default: Option<Entry>,
    strict: bool,
}

impl Names {
    /// A table that serves nothing (until the first `rebuild`).
    fn empty(strict: bool) -> Names {
        Names {
            exact: HashMap::new(),
            wild: HashMap::new(),
            default: None,
            strict,
        }
    }

    /// None without certificates.
    pub fn new(certs: Vec<SiteCert>, strict: bool) -> Option<Names> {
        let first = certs.first()?;
        let default = Some(Entry {
            key: first.cert.key.clone(),
            site: first.site,
            neg: false,
        });
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
        self.default.as_ref().filter(|_| !self.strict)
    }

    fn default_site(&self) -> usize {
        self.default.as_ref().map_or(0, |d| d.site)
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

/// The names of a frontend, replaced whole when the runtime API changes a
/// certificate or a crt-list (handshakes that started keep what they read).
type NamesCell = Arc<RwLock<Arc<Names>>>;

fn current(cell: &NamesCell) -> Arc<Names> {
    // A poisoned lock still holds a complete table: it is only ever
    // replaced whole.
    cell.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The resolver of one site: the certificate the lookup gives when it is
/// this site's (always, once `Frontend::site` chose the site by it).
#[derive(Debug)]
struct Resolver {
    names: NamesCell,
    site: usize,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        current(&self.names)
            .lookup(&hello)
            .filter(|e| e.site == self.site)
            .map(|e| e.key.clone())
    }
}

/// Where a frontend's certificates come from, in the order written: a
/// certificate file, or a crt-list (a `crt` directory is one too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Crt(String),
    List(String),
}

/// One certificate of a frontend, in order: the first is the default.
pub struct Item {
    pub cert: Loaded,
    pub filters: Vec<String>,
    /// The crt-list line it comes from: (list, line number).
    pub from: Option<(String, u32)>,
    /// That line's options and its `FILE:LINE` (for errors), when it has
    /// options: such a line has a context of its own.
    pub options: Option<(Vec<String>, String)>,
}

/// Makes a context: the bind line's (no options) or a crt-list line's
/// (its options over the bind line's), with the resolver it must use;
/// warnings go to the sink.
pub type MakeSite = Box<
    dyn Fn(
            Option<&[String]>,
            Arc<dyn ResolvesServerCert>,
            &mut dyn FnMut(String),
        ) -> Result<Arc<rustls::ServerConfig>, String>
        + Send
        + Sync,
>;

/// A TLS frontend's contexts, shared by every thread. The runtime API
/// rebuilds its names (`rebuild`) and may add contexts; handshakes read
/// both under a read lock, taken once or twice per handshake.
pub struct Frontend {
    sites: RwLock<Vec<Arc<rustls::ServerConfig>>>,
    names: NamesCell,
    /// The context of each crt-list line with options: (list, line).
    line_sites: Mutex<HashMap<(String, u32), usize>>,
    make: MakeSite,
    pub sources: Vec<Source>,
    pub strict: bool,
    /// `FILE:LINE` of the bind line, for the runtime API's messages.
    pub at: String,
}

impl std::fmt::Debug for Frontend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frontend")
            .field("sources", &self.sources)
            .field("at", &self.at)
            .finish()
    }
}

impl Frontend {
    /// The bind line's context, then `items` (see `rebuild`).
    pub fn new(
        sources: Vec<Source>,
        strict: bool,
        at: String,
        make: MakeSite,
        items: Vec<Item>,
        warn: &mut dyn FnMut(String),
    ) -> Result<Frontend, String> {
        let names: NamesCell = Arc::new(RwLock::new(Arc::new(Names::empty(strict))));
        let first = make(
            None,
            Arc::new(Resolver {
                names: names.clone(),
                site: 0,
            }),
            warn,
        )?;
        let fe = Frontend {
            sites: RwLock::new(vec![first]),
            names,
            line_sites: Mutex::new(HashMap::new()),
            make,
            sources,
            strict,
            at,
        };
        fe.rebuild(items, warn)?;
        Ok(fe)
    }

    /// Serve `items` from now on: a context is made for each crt-list line
    /// with options not seen before, then the names are replaced. On error
    /// nothing changes (a context made is kept, unused).
    pub fn rebuild(&self, items: Vec<Item>, warn: &mut dyn FnMut(String)) -> Result<(), String> {
        let mut line_sites = self.line_sites.lock().unwrap_or_else(|p| p.into_inner());
        let mut certs = Vec::with_capacity(items.len());
        for it in items {
            let site = match (&it.from, &it.options) {
                (None, _) | (_, None) => 0,
                (Some((list, n)), Some((options, at))) => match line_sites.get(&(list.clone(), *n))
                {
                    Some(&site) => site,
                    None => {
                        let site = self.sites.read().unwrap_or_else(|p| p.into_inner()).len();
                        let r = Arc::new(Resolver {
                            names: self.names.clone(),
                            site,
                        });
                        let mut on_line = |w: String| warn(format!("{at}: {w}"));
                        let cfg = (self.make)(Some(options), r, &mut on_line)
                            .map_err(|e| format!("{at}: {e}"))?;
                        self.sites
                            .write()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(cfg);
                        line_sites.insert((list.clone(), *n), site);
                        site
                    }
                },
            };
            certs.push(SiteCert {
                cert: it.cert,
                filters: it.filters,
                site,
            });
        }
        let names = Names::new(certs, self.strict)
            .ok_or_else(|| "no SSL certificate specified (use 'crt')".to_string())?;
        *self.names.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(names);
        Ok(())
    }

    /// The one context when there is one: no need to read the ClientHello
    /// before choosing.
    pub fn single(&self) -> Option<Arc<rustls::ServerConfig>> {
        match self
            .sites
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_slice()
        {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    /// The first context (the bind line's).
    pub fn first(&self) -> Arc<rustls::ServerConfig> {
        self.sites.read().unwrap_or_else(|p| p.into_inner())[0].clone()
    }

    /// The context for this hello (the default one when no certificate
    /// fits: its resolver then ends the handshake, as `strict-sni` wants).
    pub fn site(&self, hello: &ClientHello<'_>) -> Arc<rustls::ServerConfig> {
        let names = current(&self.names);
        let i = names.lookup(hello).map_or(names.default_site(), |e| e.site);
        let sites = self.sites.read().unwrap_or_else(|p| p.into_inner());
        sites.get(i).unwrap_or(&sites[0]).clone()
    }
}

/// A TLS frontend's contexts, shared by every thread.
pub type ServerCtx = super::Shared<Frontend>;
