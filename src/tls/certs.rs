//! Certificates for TLS frontends, as HAProxy reads them: a PEM file holds
//! the certificate, its chain and (usually) the private key; a key missing
//! from it is looked for in `FILE.key`, an OCSP response to staple in
//! `FILE.ocsp`; a directory stands for each certificate file in it. Every
//! file is read at configuration time (before `chroot`), and a key that does not match its certificate is an error naming the file.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One loaded certificate: the key pair rustls serves and the names it is
/// selected by (SAN DNS names, else the subject's CN, as HAProxy).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub key: Arc<CertifiedKey>,
    pub names: Vec<String>,
    /// What it was made of, for the runtime API.
    pub parts: Parts,
}

/// Files HAProxy skips when `crt` names a directory: the companions of a
/// certificate, not certificates.
const COMPANIONS: &[&str] = &["key", "ocsp", "issuer", "sctl"];

/// The certificate files of a directory named by `crt` (sorted by name,
/// companions skipped); None when `path` is not a directory.
pub fn dir_files(path: &Path) -> Result<Option<Vec<PathBuf>>, String> {
    if !path.is_dir() {
        return Ok(None);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| {
            format!(
                "unable to scan directory '{}': {}",
                path.display(),
                plain(&e)
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            !COMPANIONS.contains(&ext) && !p.to_string_lossy().ends_with('~')
        })
        .collect();
    files.sort();
    Ok(Some(files))
}

/// Load one PEM file (its key and OCSP companions too).
pub fn load_file(path: &Path, provider: &CryptoProvider) -> Result<Loaded, String> {
    let shown = path.display();
    let pem =
        std::fs::read(path).map_err(|e| format!("unable to load '{shown}': {}", plain(&e)))?;
    let mut parts = Parts::from_pem(&pem).map_err(|e| format!("unable to load '{shown}': {e}"))?;
    if parts.key.is_none() {
        // HAProxy's fallback: the key beside the certificate.
        let mut side = path.as_os_str().to_owned();
        side.push(".key");
        let side = PathBuf::from(side);
        let text = std::fs::read(&side).map_err(|_| {
            format!(
                "unable to load '{shown}': no private key in it nor in '{}'",
                side.display()
            )
        })?;
        parts.key = Some(
            PrivateKeyDer::from_pem_slice(&text)
                .map_err(|e| format!("unable to load the key '{}': {e}", side.display()))?,
        );
    }
    parts.ocsp = ocsp_beside(path, &parts.chain[0])?;
    parts
        .finish(path, provider)
        .map_err(|e| format!("unable to load '{shown}': {e}"))
}

/// A certificate's pieces as the runtime API changes them one at a time
/// (`set ssl cert F`, `F.key`, `F.ocsp`): the chain (leaf first), its key
/// and the OCSP response to staple.
#[derive(Debug, Default)]
pub struct Parts {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Option<PrivateKeyDer<'static>>,
    pub ocsp: Option<Vec<u8>>,
}

impl Clone for Parts {
    fn clone(&self) -> Self {
        Parts {
            chain: self.chain.clone(),
            key: self.key.as_ref().map(|k| k.clone_key()),
            ocsp: self.ocsp.clone(),
        }
    }
}

impl Parts {
    /// A PEM text: at least one certificate; the key is optional.
    pub fn from_pem(pem: &[u8]) -> Result<Parts, String> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("bad PEM: {e}"))?;
        if chain.is_empty() {
            return Err("no certificate in it".into());
        }
        Ok(Parts {
            chain,
            key: PrivateKeyDer::from_pem_slice(pem).ok(),
            ocsp: None,
        })
    }

    /// The key pair rustls serves, the key checked against the leaf (the
    /// OCSP response was checked when it was read).
    pub fn finish(&self, path: &Path, provider: &CryptoProvider) -> Result<Loaded, String> {
        let leaf = self.chain.first().ok_or("no certificate in it")?;
        let key = self.key.as_ref().ok_or("no private key")?;
        let names = names_of(leaf)?;
        let mut ck = CertifiedKey::from_der(self.chain.clone(), key.clone_key(), provider)
            .map_err(|e| format!("the private key does not fit the certificate ({e})"))?;
        ck.ocsp = self.ocsp.clone();
        Ok(Loaded {
            path: path.to_path_buf(),
            key: Arc::new(ck),
            names,
            parts: self.clone(),
        })
    }
}

/// The OCSP response in `CRT.ocsp`, if there is one, checked against the
/// certificate (see `super::ocsp`).
fn ocsp_beside(path: &Path, cert: &CertificateDer<'_>) -> Result<Option<Vec<u8>>, String> {
    let mut file = path.as_os_str().to_owned();
    file.push(".ocsp");
    let file = PathBuf::from(file);
    let der = match std::fs::read(&file) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "unable to load OCSP response '{}': {}",
                file.display(),
                plain(&e)
            ))
        }
    };
    super::ocsp::check(&der, cert, &file.display().to_string())?;
    Ok(Some(der))
}

/// The names an end-entity certificate answers to, lower-cased.
fn names_of(cert: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    let ee = webpki::EndEntityCert::try_from(cert)
        .map_err(|e| format!("not a usable X.509 certificate ({e:?})"))?;
    let mut names: Vec<String> = ee
        .valid_dns_names()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    if names.is_empty() {
        names.extend(common_name(ee.subject()).map(|n| n.to_ascii_lowercase()));
    }
    Ok(names)
}

/// The CN of a DER-encoded X.501 Name: the value after the id-at-commonName
/// OID (2.5.4.3) when it is a short string.
pub(crate) fn common_name(subject: &[u8]) -> Option<String> {
    const OID_CN: [u8; 5] = [0x06, 0x03, 0x55, 0x04, 0x03];
    let at = subject.windows(OID_CN.len()).position(|w| w == OID_CN)? + OID_CN.len();
    let (&tag, rest) = subject.get(at..)?.split_first()?;
    // UTF8String, PrintableString, T61String, IA5String.
    if !matches!(tag, 0x0c | 0x13 | 0x14 | 0x16) {
        return None;
    }
    let (&len, rest) = rest.split_first()?;
    let value = rest.get(..usize::from(len).min(127))?;
    String::from_utf8(value.to_vec()).ok()
}

/// An I/O error without Rust's "(os error N)" suffix.
fn plain(e: &std::io::Error) -> String {
    crate::core::plain_os(&e.to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_name_is_read_from_a_der_name() {
        // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, UTF8String "a.test" } } }
        let name = [
            0x30, 0x11, 0x31, 0x0f, 0x30, 0x0d, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x06, b'a',
            b'.', b't', b'e', b's', b't',
        ];
        assert_eq!(common_name(&name).as_deref(), Some("a.test"));
        assert_eq!(common_name(&name[..12]), None);
        assert_eq!(common_name(&[]), None);
    }
}
