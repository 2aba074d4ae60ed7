//! TLS towards servers (`server ... ssl`): the rustls client configuration
//! a server line makes, built once at configuration time.
//!
//! Verification follows HAProxy 2.6: `verify required` (the default, unless
//! `ssl-server-verify none`) checks the chain against `ca-file`, and the
//! name against the SNI sent (`sni EXPR`) or else `verifyhost`; without
//! either, the chain only. The name is matched as HAProxy does (its
//! `ssl_sock_srv_hostcheck`, RFC 6125 §6.4.3): the SAN DNS names, then the
//! subject's CN, one wildcard in the leftmost label. A name that does not
//! match the SNI sent is [`SniMismatch`], which is not retried. `verify
//! none` checks nothing. Sessions are
//! resumed from rustls's per-configuration cache unless `no-ssl-reuse`.
//! `crt FILE` is the client certificate presented when the server asks.

use super::server::{provider, TlsVer, Versions};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, Resumption, Tls12Resumption};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};
use std::path::Path;
use std::sync::Arc;

/// What a `server ... ssl` line asks for.
pub struct ServerTlsCfg<'a> {
    /// `verify required`: check the certificate (else `verify none`).
    pub verify: bool,
    pub ca_file: Option<&'a Path>,
    /// `crt FILE`: the client certificate to present when asked.
    pub crt: Option<&'a Path>,
    pub verifyhost: Option<&'a str>,
    pub alpn: &'a [String],
    pub no_reuse: bool,
    /// `no-tls-tickets`: no RFC 5077 ticket asked for nor offered (TLS
    /// 1.2; in TLS 1.3 the server decides, as with OpenSSL).
    pub no_tickets: bool,
    pub versions: &'a Versions,
    pub ciphers: Option<&'a str>,
    pub ciphersuites: Option<&'a str>,
}

/// A server line's TLS configuration, shared by every thread.
pub type ClientCtx = super::Shared<rustls::ClientConfig>;

pub fn build(c: ServerTlsCfg<'_>, warn: &mut dyn FnMut(String)) -> Result<ClientCtx, String> {
    let mut prov = provider();
    let (suites, has12, has13) = super::server::suites(&prov, c.ciphers, c.ciphersuites, warn)?;
    prov.cipher_suites = suites;
    let wanted = c.versions.wanted();
    let mut versions = Vec::new();
    if wanted.contains(&TlsVer::Tls13) && has13 {
        versions.push(&rustls::version::TLS13);
    }
    if wanted.contains(&TlsVer::Tls12) && has12 {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        return Err(
            "no TLS version or cipher suite left that rustls offers (TLSv1.2, TLSv1.3)".into(),
        );
    }
    let roots =
        match (c.verify, c.ca_file) {
            (false, _) => None,
            (true, None) => return Err(
                "verify is enabled by default but no CA file specified; set 'verify none' on the \
                 'server' line or 'ssl-server-verify none' in 'global' to trust the server \
                 without checking"
                    .into(),
            ),
            (true, Some(f)) => Some(Arc::new(load_roots(f)?)),
        };
    let verifyhost = c.verifyhost.map(str::to_string);
    let verifier = Verifier {
        roots,
        verifyhost,
        algs: prov.signature_verification_algorithms,
    };
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(prov))
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut cfg = match c.crt {
        None => cfg.with_no_client_auth(),
        Some(path) => {
            if path.is_dir() {
                return Err(format!(
                    "'crt {}': a server's certificate is one file, not a directory",
                    path.display()
                ));
            }
            let cert = super::certs::load_file(path, &provider())?.key;
            cfg.with_client_cert_resolver(Arc::new(OneCert(cert)))
        }
    };
    cfg.alpn_protocols = c.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    if c.no_reuse {
        cfg.resumption = Resumption::disabled();
    } else if c.no_tickets {
        cfg.resumption = Resumption::default().tls12_resumption(Tls12Resumption::SessionIdOnly);
    }
    Ok(super::Shared(Arc::new(cfg)))
}

/// Every certificate of a PEM file, as trust anchors.
fn load_roots(path: &Path) -> Result<RootCertStore, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("unable to load CA file '{shown}': {e}"))?;
    let mut store = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(&pem) {
        let c = c.map_err(|e| format!("unable to load CA file '{shown}': {e}"))?;
        store
            .add(c)
            .map_err(|e| format!("unable to load CA file '{shown}': {e}"))?;
    }
    if store.is_empty() {
        return Err(format!(
            "unable to load CA file '{shown}': no certificate in it"
        ));
    }
    Ok(store)
}

/// `crt FILE`: the one certificate a server line presents when the server
/// asks for one, whatever CAs it names (OpenSSL does the same).
#[derive(Debug)]
struct OneCert(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for OneCert {
    fn resolve(
        &self,
        _acceptable_issuers: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// HAProxy's server certificate check (see the module comment).
#[derive(Debug)]
struct Verifier {
    /// None: `verify none`.
    roots: Option<Arc<RootCertStore>>,
    verifyhost: Option<String>,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        let cert = ParsedCertificate::try_from(end_entity)?;
        verify_server_cert_signed_by_trust_anchor(&cert, roots, intermediates, now, self.algs.all)?;
        // The SNI sent is a DNS name; an address means none was sent.
        let (host, sni) = match (server_name, &self.verifyhost) {
            (ServerName::DnsName(n), _) => (n.as_ref(), true),
            (_, Some(h)) => (h.as_str(), false),
            _ => return Ok(ServerCertVerified::assertion()),
        };
        if name_matches(end_entity, host) {
            return Ok(ServerCertVerified::assertion());
        }
        Err(rustls::Error::InvalidCertificate(if sni {
            CertificateError::Other(OtherError(Arc::new(SniMismatch)))
        } else {
            CertificateError::NotValidForName
        }))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The certificate does not carry the name sent as SNI. HAProxy does not
/// retry such a connect: a wrong name (maybe the client's, through `sni
/// EXPR`) would only hammer the server.
#[derive(Debug)]
pub struct SniMismatch;

impl std::fmt::Display for SniMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the certificate does not match the SNI sent")
    }
}

impl std::error::Error for SniMismatch {}

/// Whether a failed handshake's error is a [`SniMismatch`].
pub fn sni_mismatch(e: &std::io::Error) -> bool {
    let tls = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    matches!(tls, Some(rustls::Error::InvalidCertificate(CertificateError::Other(o)))
        if o.0.downcast_ref::<SniMismatch>().is_some())
}

/// HAProxy's name check: the SAN DNS names, then the subject's CN.
fn name_matches(cert: &CertificateDer<'_>, host: &str) -> bool {
    let Ok(ee) = webpki::EndEntityCert::try_from(cert) else {
        return false;
    };
    ee.valid_dns_names().any(|p| host_matches(p, host))
        || super::certs::common_name(ee.subject()).is_some_and(|cn| host_matches(&cn, host))
}

/// RFC 6125 §6.4.3 as HAProxy applies it: equal (ignoring case), or one
/// `*` in the leftmost label standing for at least nothing of the host's
/// leftmost label, the other labels equal.
fn host_matches(pattern: &str, host: &str) -> bool {
    if pattern.eq_ignore_ascii_case(host) {
        return true;
    }
    let (Some((left, rest)), Some((hleft, hrest))) =
        (pattern.split_once('.'), host.split_once('.'))
    else {
        return false;
    };
    let Some((pre, suf)) = left.split_once('*') else {
        return false;
    };
    if suf.contains('*') || !rest.eq_ignore_ascii_case(hrest) || hleft.len() < pre.len() + suf.len()
    {
        return false;
    }
    let h = hleft.as_bytes();
    h[..pre.len()].eq_ignore_ascii_case(pre.as_bytes())
        && h[h.len() - suf.len()..].eq_ignore_ascii_case(suf.as_bytes())
}

/// The name a connection to a server presents: the SNI (a DNS name), or
/// the server's address, which rustls never sends as SNI.
pub fn server_name(sni: Option<&str>, addr: std::net::IpAddr) -> ServerName<'static> {
    sni.and_then(|s| ServerName::try_from(s.to_string()).ok())
        .unwrap_or(ServerName::IpAddress(addr.into()))
}

#[cfg(test)]
mod tests {
    use super::host_matches;

    #[test]
    fn names_match_as_haproxy_matches_them() {
        for (pattern, host, ok) in [
            ("a.test", "A.Test", true),
            ("*.w.test", "x.w.test", true),
            ("*.w.test", "w.test", false),
            ("*.w.test", "y.x.w.test", false),
            ("f*o.test", "foo.test", true),
            ("f*o.test", "fo.test", true),
            ("f*o.test", "bar.test", false),
            ("*.*.test", "a.b.test", false),
            ("test", "test2", false),
            ("*", "a", false),
        ] {
            assert_eq!(host_matches(pattern, host), ok, "{pattern} {host}");
        }
    }
}
