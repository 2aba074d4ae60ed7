//! Client certificates on TLS frontends (`bind ... ca-file F verify
//! none|optional|required crl-file F ca-verify-file F no-ca-names
//! ca-ignore-err L crt-ignore-err L`), checked by rustls' webpki verifier
//! and reported the way HAProxy 2.6 reports OpenSSL's verification.
//!
//! OpenSSL reports each problem of a chain (an X509_V_ERR code and the
//! depth it was found at) to HAProxy's callback, which ignores it if it is
//! in `ca-ignore-err` (depth > 0) or `crt-ignore-err` (depth 0), else
//! fails the handshake. webpki stops at one error, so the sequence OpenSSL
//! would report is rebuilt from it (an unknown issuer is 20 then 21 for a
//! lone leaf, 18 for a self-signed one, with 3 in between when CRLs are
//! checked). What was seen is handed to the connection that ran the
//! handshake through a thread-local: rustls calls the verifier from
//! `process_new_packets` on the connection's thread, which takes it right
//! after (`take_outcome`).

use super::x509;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `verify`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    None,
    Optional,
    Required,
}

/// `ca-ignore-err`/`crt-ignore-err`: `all` or a list of X509_V_ERR codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignore {
    pub all: bool,
    pub codes: Vec<i64>,
}

impl Ignore {
    fn has(&self, code: i64) -> bool {
        self.all || self.codes.contains(&code)
    }
}

/// OpenSSL 3.0's highest X509_V_ERR code HAProxy lets one ignore.
const MAX_VFY_ERROR_CODE: i64 = 94;

/// The client-certificate options of a bind line, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOpts {
    pub verify: Option<Mode>,
    pub ca_file: Option<String>,
    pub ca_verify_file: Option<String>,
    pub crl_file: Option<String>,
    pub ca_ignore: Ignore,
    pub crt_ignore: Ignore,
    pub no_ca_names: bool,
}

/// Parse option `args[i]` if it is one of ours: the words it took.
pub fn parse_option(
    o: &mut ClientOpts,
    args: &[String],
    i: usize,
) -> Result<Option<usize>, String> {
    let kw = args[i].as_str();
    let arg = || {
        args.get(i + 1)
            .map(String::as_str)
            .ok_or_else(|| format!("'{kw}' : missing argument"))
    };
    match kw {
        "verify" => {
            o.verify = Some(match arg()? {
                "none" => Mode::None,
                "optional" => Mode::Optional,
                "required" => Mode::Required,
                v => {
                    return Err(format!(
                        "'verify' : unknown verify method '{v}', only 'none', 'optional', and 'required' are supported"
                    ))
                }
            })
        }
        "ca-file" => o.ca_file = Some(arg()?.to_string()),
        "ca-verify-file" => o.ca_verify_file = Some(arg()?.to_string()),
        "crl-file" => o.crl_file = Some(arg()?.to_string()),
        "ca-ignore-err" => o.ca_ignore = ignore_list(kw, arg()?)?,
        "crt-ignore-err" => o.crt_ignore = ignore_list(kw, arg()?)?,
        "no-ca-names" => {
            o.no_ca_names = true;
            return Ok(Some(1));
        }
        _ => return Ok(None),
    }
    Ok(Some(2))
}

fn ignore_list(kw: &str, list: &str) -> Result<Ignore, String> {
    if list == "all" {
        return Ok(Ignore {
            all: true,
            codes: Vec::new(),
        });
    }
    let mut codes = Vec::new();
    for id in list.split(',') {
        match id.parse::<i64>() {
            Ok(c) if (1..=MAX_VFY_ERROR_CODE).contains(&c) => codes.push(c),
            _ => {
                return Err(format!(
                    "'{kw}' : ID '{id}' out of range (1..{MAX_VFY_ERROR_CODE}) in error IDs list '{list}'"
                ))
            }
        }
    }
    Ok(Ignore { all: false, codes })
}

/// The verifier a bind line's options make (None: no client certificate
/// asked for). The files are read here, at configuration time; `base` is
/// `ca-base`.
pub fn build(
    o: &ClientOpts,
    base: Option<&str>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, String> {
    let path = |f: &str| match base {
        Some(b) if !f.starts_with('/') => Path::new(b).join(f),
        _ => PathBuf::from(f),
    };
    // HAProxy reads the files even when nothing is verified.
    let ca = o.ca_file.as_deref().map(|f| load_cas(&path(f), "ca-file"));
    let ca = ca.transpose()?;
    let ca_verify = o
        .ca_verify_file
        .as_deref()
        .map(|f| load_cas(&path(f), "ca-verify-file"));
    let ca_verify = ca_verify.transpose()?;
    let crls = match o.crl_file.as_deref() {
        Some(f) => load_crls(&path(f))?,
        None => Vec::new(),
    };
    let mode = o.verify.unwrap_or_default();
    if mode == Mode::None {
        return Ok(None);
    }
    let Some(ca) = ca else {
        return Err("verify is enabled but no CA file specified".into());
    };
    let mut roots = RootCertStore::empty();
    let mut hints: Vec<DistinguishedName> = Vec::new();
    for c in &ca {
        roots
            .add(c.clone())
            .map_err(|e| format!("'ca-file' : unable to use a certificate: {e}"))?;
    }
    if !o.no_ca_names {
        hints = roots.subjects();
    }
    for c in ca_verify.iter().flatten() {
        roots
            .add(c.clone())
            .map_err(|e| format!("'ca-verify-file' : unable to use a certificate: {e}"))?;
    }
    let has_crl = !crls.is_empty();
    let mut b = WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(super::server::provider()),
    )
    .clear_root_hint_subjects()
    .add_root_hint_subjects(hints);
    if has_crl {
        // OpenSSL's X509_V_FLAG_CRL_CHECK_ALL with the CRL's nextUpdate.
        b = b.with_crls(crls).enforce_revocation_expiration();
    }
    if mode == Mode::Optional {
        b = b.allow_unauthenticated();
    }
    let inner = b.build().map_err(|e| format!("client certificates: {e}"))?;
    Ok(Some(Arc::new(Verifier {
        inner,
        mandatory: mode == Mode::Required,
        ca_ignore: o.ca_ignore.clone(),
        crt_ignore: o.crt_ignore.clone(),
        has_crl,
    })))
}

fn load_cas(path: &Path, kw: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|_| format!("'{kw}' : unable to load {shown}"))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("'{kw}' : unable to load {shown} ({e})"))?;
    if certs.is_empty() {
        return Err(format!(
            "'{kw}' : unable to load {shown} (no certificate in it)"
        ));
    }
    Ok(certs)
}

fn load_crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|_| format!("'crl-file' : unable to load {shown}"))?;
    let crls: Vec<_> = CertificateRevocationListDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("'crl-file' : unable to load {shown} ({e})"))?;
    if crls.is_empty() {
        return Err(format!(
            "'crl-file' : unable to load {shown} (no CRL in it)"
        ));
    }
    Ok(crls)
}

/// What verifying a client's certificate gave, as the `ssl_c_*` fetches
/// show it: the last error OpenSSL would have reported (`ssl_c_verify`),
/// the first at depth 0 (`ssl_c_err`), the first above (`ssl_c_ca_err`,
/// `ssl_c_ca_err_depth`); 0 for none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub verify: i64,
    pub err: i64,
    pub ca_err: i64,
    pub ca_err_depth: i64,
    /// The handshake was refused for it: the certificate itself (false),
    /// or its chain (true, an error above depth 0).
    pub refused: Option<bool>,
}

thread_local! {
    // Already const: nightly clippy flags it anyway on targets with
    // emulated TLS (OpenBSD, Solaris).
    #[allow(clippy::missing_const_for_thread_local)]
    static LAST: Cell<Option<Outcome>> = const { Cell::new(None) };
}

/// The outcome of the verification the last `process_new_packets` of this
/// thread ran, if it ran one.
pub fn take_outcome() -> Option<Outcome> {
    LAST.with(Cell::take)
}

/// Where the transport puts the client's certificate (or None) when the
/// handshake completes; shared with every copy of the connection's facts,
/// since a session may take them before the last handshake flight and its
/// first request are read together.
pub type PeerSlot = Arc<std::sync::OnceLock<Option<Arc<PeerCert>>>>;

/// A client's certificate, for the fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    pub der: CertificateDer<'static>,
    pub outcome: Outcome,
}

/// HAProxy's verification on top of webpki's (see the module comment).
#[derive(Debug)]
struct Verifier {
    inner: Arc<dyn ClientCertVerifier>,
    mandatory: bool,
    ca_ignore: Ignore,
    crt_ignore: Ignore,
    has_crl: bool,
}

/// OpenSSL's X509_V_ERR codes.
mod code {
    pub const UNSPECIFIED: i64 = 1;
    pub const UNABLE_TO_GET_CRL: i64 = 3;
    pub const CERT_SIGNATURE_FAILURE: i64 = 7;
    pub const CERT_NOT_YET_VALID: i64 = 9;
    pub const CERT_HAS_EXPIRED: i64 = 10;
    pub const CRL_HAS_EXPIRED: i64 = 12;
    pub const DEPTH_ZERO_SELF_SIGNED_CERT: i64 = 18;
    pub const SELF_SIGNED_CERT_IN_CHAIN: i64 = 19;
    pub const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i64 = 20;
    pub const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i64 = 21;
    pub const CERT_REVOKED: i64 = 23;
    pub const INVALID_PURPOSE: i64 = 26;
    pub const UNHANDLED_CRITICAL_EXTENSION: i64 = 34;
}

/// The (code, depth) sequence OpenSSL reports for what webpki found; None
/// for what is no verification error to OpenSSL (a certificate that does
/// not parse fails the handshake itself).
fn openssl_errors(
    e: &CertificateError,
    chain: &[&CertificateDer<'_>],
    has_crl: bool,
) -> Option<Vec<(i64, i64)>> {
    use CertificateError as E;
    let one = |c| Some(vec![(c, 0)]);
    let self_signed = chain
        .last()
        .and_then(|c| x509::parse(c))
        .is_some_and(|c| c.issuer == c.subject);
    match e {
        // webpki refuses a self-signed CA certificate as a leaf before it
        // looks for its issuer; OpenSSL says it is self-signed.
        E::UnknownIssuer | E::Other(_) if e == &E::UnknownIssuer || self_signed => {
            let top = chain.len().saturating_sub(1);
            let depth = top as i64;
            let first = match (self_signed, top) {
                (true, 0) => code::DEPTH_ZERO_SELF_SIGNED_CERT,
                (true, _) => code::SELF_SIGNED_CERT_IN_CHAIN,
                (false, _) => code::UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
            };
            let mut v = vec![(first, depth)];
            if has_crl {
                v.push((code::UNABLE_TO_GET_CRL, 0));
            }
            if !self_signed && top == 0 {
                v.push((code::UNABLE_TO_VERIFY_LEAF_SIGNATURE, 0));
            }
            Some(v)
        }
        E::Expired | E::ExpiredContext { .. } => one(code::CERT_HAS_EXPIRED),
        E::NotValidYet | E::NotValidYetContext { .. } => one(code::CERT_NOT_YET_VALID),
        E::Revoked => one(code::CERT_REVOKED),
        E::UnknownRevocationStatus => one(code::UNABLE_TO_GET_CRL),
        E::ExpiredRevocationList | E::ExpiredRevocationListContext { .. } => {
            one(code::CRL_HAS_EXPIRED)
        }
        #[allow(deprecated)]
        E::BadSignature => one(code::CERT_SIGNATURE_FAILURE),
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => one(code::INVALID_PURPOSE),
        E::UnhandledCriticalExtension => one(code::UNHANDLED_CRITICAL_EXTENSION),
        E::BadEncoding => None,
        _ => one(code::UNSPECIFIED),
    }
}

impl Verifier {
    /// Walk OpenSSL's error sequence as HAProxy's callback does.
    fn judge(&self, errors: &[(i64, i64)]) -> Outcome {
        let mut o = Outcome::default();
        for &(c, depth) in errors {
            o.verify = c;
            let ignored = if depth > 0 {
                if o.ca_err == 0 {
                    (o.ca_err, o.ca_err_depth) = (c, depth);
                }
                self.ca_ignore.has(c)
            } else {
                if o.err == 0 {
                    o.err = c;
                }
                self.crt_ignore.has(c)
            };
            if !ignored {
                o.refused = Some(depth > 0);
                break;
            }
        }
        o
    }
}

impl ClientCertVerifier for Verifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let err = match self
            .inner
            .verify_client_cert(end_entity, intermediates, now)
        {
            Ok(v) => {
                LAST.with(|l| l.set(Some(Outcome::default())));
                return Ok(v);
            }
            Err(e) => e,
        };
        let rustls::Error::InvalidCertificate(ce) = &err else {
            return Err(err);
        };
        let chain: Vec<&CertificateDer<'_>> =
            std::iter::once(end_entity).chain(intermediates).collect();
        let Some(errors) = openssl_errors(ce, &chain, self.has_crl) else {
            return Err(err);
        };
        let o = self.judge(&errors);
        LAST.with(|l| l.set(Some(o)));
        match o.refused {
            Some(_) => Err(err),
            None => Ok(ClientCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn options_parse_as_haproxy() {
        let mut o = ClientOpts::default();
        let a = words("verify optional crt-ignore-err 20,21 ca-ignore-err all no-ca-names");
        assert_eq!(parse_option(&mut o, &a, 0), Ok(Some(2)));
        assert_eq!(parse_option(&mut o, &a, 2), Ok(Some(2)));
        assert_eq!(parse_option(&mut o, &a, 4), Ok(Some(2)));
        assert_eq!(parse_option(&mut o, &a, 6), Ok(Some(1)));
        assert_eq!(o.verify, Some(Mode::Optional));
        assert_eq!(o.crt_ignore.codes, [20, 21]);
        assert!(o.ca_ignore.all && o.no_ca_names);
        let e = parse_option(&mut o, &words("verify maybe"), 0).unwrap_err();
        assert!(e.contains("unknown verify method 'maybe'"), "{e}");
        let e = parse_option(&mut o, &words("crt-ignore-err 20,x"), 0).unwrap_err();
        assert!(e.contains("ID 'x' out of range"), "{e}");
        assert_eq!(parse_option(&mut o, &words("crt x"), 0), Ok(None));
    }

    #[test]
    fn errors_are_judged_in_openssl_order() {
        let v = |crt: &str| Verifier {
            inner: WebPkiClientVerifier::no_client_auth(),
            mandatory: false,
            ca_ignore: Ignore::default(),
            crt_ignore: ignore_list("crt-ignore-err", crt).unwrap(),
            has_crl: true,
        };
        let seq = [(20, 0), (3, 0), (21, 0)];
        let o = v("all").judge(&seq);
        assert_eq!((o.verify, o.err, o.ca_err, o.refused), (21, 20, 0, None));
        let o = v("20,21").judge(&seq);
        assert_eq!((o.verify, o.err, o.refused), (3, 20, Some(false)));
        let o = v("all").judge(&[(20, 1)]);
        assert_eq!((o.ca_err, o.ca_err_depth, o.refused), (20, 1, Some(true)));
    }
}
