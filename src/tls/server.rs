//! A TLS frontend's contexts: the rustls server configuration a `bind ...
//! ssl` line makes (and one per `crt-list` line with options of its own),
//! built once at configuration time and shared by every thread. Which
//! certificate, and which of the contexts, a client gets is `tls::sni`'s.

use rustls::crypto::CryptoProvider;
use rustls::server::ResolvesServerCert;
use std::sync::Arc;

pub use super::sni::ServerCtx;

/// A protocol version as the configuration names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVer {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVer {
    /// `ssl-min-ver`/`ssl-max-ver` arguments.
    pub fn parse(s: &str) -> Option<TlsVer> {
        Some(match s {
            "SSLv3" => TlsVer::Ssl3,
            "TLSv1.0" => TlsVer::Tls10,
            "TLSv1.1" => TlsVer::Tls11,
            "TLSv1.2" => TlsVer::Tls12,
            "TLSv1.3" => TlsVer::Tls13,
            _ => return None,
        })
    }

    /// The `no-*`/`force-*` option suffix: `sslv3`, `tlsv10`...
    pub fn from_suffix(s: &str) -> Option<TlsVer> {
        Some(match s {
            "sslv3" => TlsVer::Ssl3,
            "tlsv10" => TlsVer::Tls10,
            "tlsv11" => TlsVer::Tls11,
            "tlsv12" => TlsVer::Tls12,
            "tlsv13" => TlsVer::Tls13,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsVer::Ssl3 => "SSLv3",
            TlsVer::Tls10 => "TLSv1.0",
            TlsVer::Tls11 => "TLSv1.1",
            TlsVer::Tls12 => "TLSv1.2",
            TlsVer::Tls13 => "TLSv1.3",
        }
    }
}

/// Which versions a bind allows, from HAProxy's options (HAProxy 2.6's
/// default floor is TLSv1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions {
    pub min: Option<TlsVer>,
    pub max: Option<TlsVer>,
    pub no: Vec<TlsVer>,
    pub force: Option<TlsVer>,
}

impl Versions {
    /// The versions asked for, in order.
    pub fn wanted(&self) -> Vec<TlsVer> {
        if let Some(f) = self.force {
            return vec![f];
        }
        let min = self.min.unwrap_or(TlsVer::Tls12);
        let max = self.max.unwrap_or(TlsVer::Tls13);
        [
            TlsVer::Ssl3,
            TlsVer::Tls10,
            TlsVer::Tls11,
            TlsVer::Tls12,
            TlsVer::Tls13,
        ]
        .into_iter()
        .filter(|v| *v >= min && *v <= max && !self.no.contains(v))
        .collect()
    }
}

/// What a `bind ... ssl` line (or a `crt-list` line with options) asks for.
pub struct BindTls<'a> {
    pub versions: &'a Versions,
    pub alpn: &'a [String],
    pub no_tickets: bool,
    /// `tune.ssl.cachesize`: sessions kept for resumption by session id.
    pub cache_size: usize,
    /// `tune.ssl.lifetime`, seconds.
    pub lifetime: u32,
    /// `tls-ticket-keys`: the keys read from the file (else rustls' own,
    /// rotated).
    pub ticket_keys: Option<Arc<dyn rustls::server::ProducesTickets>>,
    /// `tune.ssl.maxrecord` (0: none).
    pub max_record: usize,
    /// `curves`: the key exchange groups, in preference order.
    pub curves: Option<&'a str>,
    /// `ciphers` (TLS <= 1.2) and `ciphersuites` (TLS 1.3): OpenSSL strings.
    pub ciphers: Option<&'a str>,
    pub ciphersuites: Option<&'a str>,
    /// `prefer-client-ciphers`: the client's order of suites wins.
    pub prefer_client: bool,
    /// `verify optional|required` (with `ca-file`...): see `tls::verify`.
    pub client_auth: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
}

/// The provider pollux uses (`tls::backend`), with the key exchange groups
/// HAProxy 2.6 on OpenSSL 3.0 offers by default and ring has: X25519, P-256,
/// P-384 (aws-lc-rs would add a post-quantum hybrid first, which OpenSSL
/// 3.0 does not have). rustls marks ring's provider deprecated for want of
/// post-quantum key exchange: see doc/dependencies.md.
#[allow(deprecated)]
pub fn provider() -> CryptoProvider {
    use super::backend::kx_group::{SECP256R1, SECP384R1, X25519};
    let mut p = super::backend::default_provider();
    p.kx_groups = vec![X25519, SECP256R1, SECP384R1];
    p
}

/// Build one server configuration, its certificates chosen by `resolver`;
/// warnings for what rustls cannot do are pushed to `warn`.
pub fn build(
    b: BindTls<'_>,
    resolver: Arc<dyn ResolvesServerCert>,
    warn: &mut dyn FnMut(String),
) -> Result<Arc<rustls::ServerConfig>, String> {
    let wanted = b.versions.wanted();
    let old: Vec<&str> = wanted
        .iter()
        .filter(|v| **v < TlsVer::Tls12)
        .map(|v| v.name())
        .collect();
    let mut prov = provider();
    let (suites, has12, has13) = suites(&prov, b.ciphers, b.ciphersuites, warn)?;
    prov.cipher_suites = suites;
    let mut versions = Vec::new();
    if wanted.contains(&TlsVer::Tls13) && has13 {
        versions.push(&rustls::version::TLS13);
    }
    if wanted.contains(&TlsVer::Tls12) && has12 {
        versions.push(&rustls::version::TLS12);
    }
    for (v, has) in [(TlsVer::Tls12, has12), (TlsVer::Tls13, has13)] {
        if wanted.contains(&v) && !has && !versions.is_empty() {
            warn(format!(
                "no {} cipher suite left: {} is not offered",
                v.name(),
                v.name()
            ));
        }
    }
    if versions.is_empty() && wanted.iter().any(|v| *v >= TlsVer::Tls12) {
        return Err("no cipher suite left for the versions allowed".into());
    }
    if versions.is_empty() {
        return Err(format!(
            "only {} allowed, which pollux's TLS library (rustls) does not offer: it speaks TLSv1.2 and TLSv1.3",
            old.join(", ")
        ));
    }
    if !old.is_empty() {
        warn(format!(
            "{} cannot be offered (rustls speaks TLSv1.2 and TLSv1.3 only)",
            old.join(", ")
        ));
    }
    let mut alpn = Vec::new();
    for p in b.alpn {
        if p == "h2" {
            warn(
                "'alpn h2': HTTP/2 is not supported yet; 'h2' is left out of the ALPN list".into(),
            );
        } else {
            alpn.push(p.as_bytes().to_vec());
        }
    }
    if let Some(list) = b.curves {
        prov.kx_groups = groups(list, warn)?;
    }
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(prov))
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let cfg = match b.client_auth {
        Some(v) => cfg.with_client_cert_verifier(v),
        None => cfg.with_no_client_auth(),
    };
    let mut cfg = cfg.with_cert_resolver(resolver);
    cfg.alpn_protocols = alpn;
    // HAProxy's default: the server's order of suites (OpenSSL's
    // SSL_OP_CIPHER_SERVER_PREFERENCE), unless `prefer-client-ciphers`.
    cfg.ignore_client_order = !b.prefer_client;
    cfg.max_fragment_size = max_fragment(b.max_record)?;
    cfg.session_storage = if b.cache_size == 0 {
        Arc::new(rustls::server::NoServerSessionStorage {})
    } else {
        Arc::new(super::tickets::TimedCache {
            inner: rustls::server::ServerSessionMemoryCache::new(b.cache_size),
            lifetime: b.lifetime,
        })
    };
    if !b.no_tickets {
        let inner = match b.ticket_keys {
            Some(k) => k,
            None => super::backend::Ticketer::new().map_err(|e| e.to_string())?,
        };
        cfg.ticketer = Arc::new(super::tickets::Timed {
            inner,
            lifetime: b.lifetime,
        });
    }
    Ok(Arc::new(cfg))
}

/// rustls' `max_fragment_size` (a record with its 5-byte header) for
/// `tune.ssl.maxrecord N` (plaintext bytes; 0 or above 16384: no limit).
pub fn max_fragment(n: usize) -> Result<Option<usize>, String> {
    match n {
        0 | 16384.. => Ok(None),
        27.. => Ok(Some(n + 5)),
        _ => Err(format!(
            "'tune.ssl.maxrecord {n}': pollux's TLS library (rustls) needs at least 27 bytes per record"
        )),
    }
}

/// The cipher suites rustls offers for `ciphers` and `ciphersuites`, in
/// the order they give (default: all of the provider's); whether any TLS 1.2 and any
/// TLS 1.3 suite is left.
pub(super) fn suites(
    prov: &CryptoProvider,
    tls12: Option<&str>,
    tls13: Option<&str>,
    warn: &mut dyn FnMut(String),
) -> Result<(Vec<rustls::SupportedCipherSuite>, bool, bool), String> {
    use super::ciphers;
    let is13 =
        |s: &rustls::SupportedCipherSuite| matches!(s, rustls::SupportedCipherSuite::Tls13(_));
    // rustls names TLS 1.3 suites TLS13_*, the IANA registry TLS_*.
    let find = |iana: &str, want13: bool| {
        prov.cipher_suites.iter().copied().find(|s| {
            let name = s.suite().as_str().unwrap_or("");
            is13(s) == want13
                && (name == iana || name.strip_prefix("TLS13_") == iana.strip_prefix("TLS_"))
        })
    };
    let mut out = Vec::new();
    let mut seclevel = 1;
    match tls12 {
        Some(spec) => {
            let sel = ciphers::tls12_suites(spec).map_err(|e| format!("ciphers '{spec}': {e}"))?;
            warn_lost(&sel, "ciphers", spec, warn);
            seclevel = sel.seclevel;
            out.extend(sel.offered.iter().filter_map(|n| find(n, false)));
        }
        None => out.extend(prov.cipher_suites.iter().copied().filter(|s| !is13(s))),
    }
    let has12 = !out.is_empty();
    match tls13 {
        Some(spec) => {
            let sel = ciphers::tls13_suites(spec, seclevel)
                .map_err(|e| format!("ciphersuites '{spec}': {e}"))?;
            warn_lost(&sel, "ciphersuites", spec, warn);
            // TLS 1.3 suites first: rustls keeps them apart anyway.
            let first: Vec<_> = sel.offered.iter().filter_map(|n| find(n, true)).collect();
            out.splice(0..0, first);
        }
        None => {
            let first: Vec<_> = prov.cipher_suites.iter().copied().filter(is13).collect();
            out.splice(0..0, first);
        }
    }
    let has13 = out.iter().any(is13);
    Ok((out, has12, has13))
}

fn warn_lost(sel: &super::ciphers::Selection, kw: &str, spec: &str, warn: &mut dyn FnMut(String)) {
    if let Some(w) = sel.warning(kw, spec) {
        warn(w);
    }
}

/// The key exchange groups of an OpenSSL `curves` list (colon-separated,
/// OpenSSL's names and aliases) that the provider offers, in the order given.
fn groups(
    list: &str,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<&'static dyn rustls::crypto::SupportedKxGroup>, String> {
    use super::backend::kx_group::{SECP256R1, SECP384R1, X25519};
    let mut out: Vec<&'static dyn rustls::crypto::SupportedKxGroup> = Vec::new();
    let mut missing = Vec::new();
    for name in list.split(':').filter(|n| !n.is_empty()) {
        let g = match name {
            "X25519" | "x25519" => X25519,
            "P-256" | "prime256v1" | "secp256r1" => SECP256R1,
            "P-384" | "secp384r1" => SECP384R1,
            "P-521" | "secp521r1" | "X448" | "x448" | "ffdhe2048" | "ffdhe3072" | "ffdhe4096"
            | "ffdhe6144" | "ffdhe8192" => {
                missing.push(name);
                continue;
            }
            _ => return Err(format!("'curves': unknown curve '{name}'")),
        };
        if !out.iter().any(|x| x.name() == g.name()) {
            out.push(g);
        }
    }
    if out.is_empty() {
        return Err(format!(
            "'curves {list}': none of these is offered by pollux's TLS library (rustls with {}: X25519, P-256, P-384)",
            super::BACKEND
        ));
    }
    if !missing.is_empty() {
        warn(format!(
            "'curves': {} cannot be offered (rustls with {} has X25519, P-256, P-384)",
            missing.join(", "),
            super::BACKEND
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_min_max_no_and_force() {
        let v = Versions::default();
        assert_eq!(v.wanted(), vec![TlsVer::Tls12, TlsVer::Tls13]);
        let v = Versions {
            min: Some(TlsVer::Tls10),
            no: vec![TlsVer::Tls11],
            ..Default::default()
        };
        assert_eq!(
            v.wanted(),
            vec![TlsVer::Tls10, TlsVer::Tls12, TlsVer::Tls13]
        );
        let v = Versions {
            force: Some(TlsVer::Tls12),
            ..Default::default()
        };
        assert_eq!(v.wanted(), vec![TlsVer::Tls12]);
        let v = Versions {
            max: Some(TlsVer::Tls12),
            ..Default::default()
        };
        assert_eq!(v.wanted(), vec![TlsVer::Tls12]);
    }
}
