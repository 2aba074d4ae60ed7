//! The certificate store (HAProxy's "ckch store" and crt-list tree): each
//! certificate file and crt-list the configuration names, loaded once by
//! path and shared by the frontends that use it, and the runtime API's
//! transaction on one certificate (`set`/`commit`/`abort ssl cert`,
//! `add`/`del ssl crt-list`...). A change rebuilds the SNI tables of the
//! frontends concerned; handshakes that start afterwards, on every thread,
//! see it. The store's lock is taken at configuration time and by the
//! runtime API, never by a connection.

use super::certs::{self, Loaded, Parts};
use super::sni::{Frontend, Item, Source};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// The store, shared by the configuration and every thread's runtime API.
#[derive(Clone, Default)]
pub struct Store(Arc<Mutex<Inner>>);

/// The model's equality is about what was written: the store is what
/// loading it made, so any two compare equal.
impl PartialEq for Store {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Store {}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

/// One certificate by path; `loaded` is None for `new ssl cert` until a
/// commit fills it.
struct Cert {
    loaded: Option<Loaded>,
}

/// One line of a crt-list (or one file of a `crt` directory).
#[derive(Debug, Clone)]
struct Line {
    cert: String,
    options: Option<Vec<String>>,
    filters: Vec<String>,
    linenum: u32,
    /// `FILE:LINE` for errors (`CLI:1` for a line added at run time).
    at: String,
}

struct List {
    lines: Vec<Line>,
    linecount: u32,
    /// A `crt` directory: no options nor filters on its lines.
    dir: bool,
}

#[derive(Default)]
pub struct Inner {
    certs: BTreeMap<String, Cert>,
    lists: BTreeMap<String, List>,
    /// The ongoing transaction: the path and the pieces set so far.
    txn: Option<(String, Parts)>,
    frontends: Vec<Weak<Frontend>>,
}

fn key(path: &Path) -> String {
    path.display().to_string()
}

impl Store {
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    /// Load a certificate file, once.
    pub fn add_cert(&mut self, path: &Path) -> Result<String, String> {
        let k = key(path);
        if !self.certs.contains_key(&k) {
            let loaded = certs::load_file(path, &super::server::provider())?;
            self.certs.insert(
                k.clone(),
                Cert {
                    loaded: Some(loaded),
                },
            );
        }
        Ok(k)
    }

    /// Read a crt-list and load its certificates, once.
    pub fn add_list(&mut self, path: &Path, crt_base: Option<&str>) -> Result<String, String> {
        let k = key(path);
        if self.lists.contains_key(&k) {
            return Ok(k);
        }
        let mut lines = Vec::new();
        for (n, l) in super::crtlist::read(path, crt_base)?
            .into_iter()
            .enumerate()
        {
            let cert = self
                .add_cert(&l.crt)
                .map_err(|e| format!("{}: {e}", l.at))?;
            lines.push(Line {
                cert,
                options: l.options,
                filters: l.filters,
                linenum: u32::try_from(n + 1).unwrap_or(u32::MAX),
                at: l.at,
            });
        }
        let linecount = u32::try_from(lines.len()).unwrap_or(u32::MAX);
        self.lists.insert(
            k.clone(),
            List {
                lines,
                linecount,
                dir: false,
            },
        );
        Ok(k)
    }

    /// A `crt` directory: a crt-list of its files, as HAProxy makes it.
    pub fn add_dir(&mut self, path: &Path, files: &[std::path::PathBuf]) -> Result<String, String> {
        let k = key(path).trim_end_matches('/').to_string();
        if self.lists.contains_key(&k) {
            return Ok(k);
        }
        let mut lines = Vec::new();
        for (n, f) in files.iter().enumerate() {
            let cert = self.add_cert(f)?;
            lines.push(Line {
                cert,
                options: None,
                filters: Vec::new(),
                linenum: u32::try_from(n + 1).unwrap_or(u32::MAX),
                at: key(f),
            });
        }
        let linecount = u32::try_from(lines.len()).unwrap_or(u32::MAX);
        self.lists.insert(
            k.clone(),
            List {
                lines,
                linecount,
                dir: true,
            },
        );
        Ok(k)
    }

    /// A frontend's certificates, in order, from its sources.
    pub fn items(&self, sources: &[Source]) -> Vec<Item> {
        let mut out = Vec::new();
        let loaded = |k: &str| self.certs.get(k).and_then(|c| c.loaded.clone());
        for s in sources {
            match s {
                Source::Crt(k) => out.extend(loaded(k).map(|cert| Item {
                    cert,
                    filters: Vec::new(),
                    from: None,
                    options: None,
                })),
                Source::List(l) => {
                    for line in self.lists.get(l).map_or(&[][..], |l| &l.lines) {
                        out.extend(loaded(&line.cert).map(|cert| Item {
                            cert,
                            filters: line.filters.clone(),
                            from: Some((l.clone(), line.linenum)),
                            options: line.options.clone().map(|o| (o, line.at.clone())),
                        }));
                    }
                }
            }
        }
        out
    }

    pub fn register(&mut self, fe: &Arc<Frontend>) {
        self.frontends.retain(|w| w.strong_count() > 0);
        self.frontends.push(Arc::downgrade(fe));
    }

    fn live(&self) -> impl Iterator<Item = Arc<Frontend>> + '_ {
        self.frontends.iter().filter_map(Weak::upgrade)
    }

    /// Whether a live frontend serves this certificate.
    fn used(&self, cert: &str) -> bool {
        self.live().any(|fe| self.uses(&fe, cert))
    }

    fn uses(&self, fe: &Frontend, cert: &str) -> bool {
        fe.sources.iter().any(|s| match s {
            Source::Crt(k) => k == cert,
            Source::List(l) => self
                .lists
                .get(l)
                .is_some_and(|l| l.lines.iter().any(|x| x.cert == cert)),
        })
    }
}

// --- the runtime API ---------------------------------------------------------

/// `show ssl cert [NAME]`.
pub fn show_cert(store: &Store, name: Option<&str>) -> Result<String, String> {
    let s = store.lock();
    let Some(name) = name else {
        let mut out = String::new();
        if let Some((path, _)) = &s.txn {
            out.push_str(&format!("# transaction\n*{path}\n"));
        }
        out.push_str("# filename\n");
        for k in s.certs.keys() {
            out.push_str(k);
            out.push('\n');
        }
        return Ok(out);
    };
    let missing = || "Can't display the certificate: Not found or the certificate is a bundle!\n";
    if name.ends_with(".ocsp") {
        return Err("Can't display the OCSP response: 'show ssl cert NAME.ocsp' is not supported by pollux yet\n".into());
    }
    let (shown, parts, used) = match name.strip_prefix('*') {
        Some(path) => match &s.txn {
            // The transaction's copy serves nothing yet.
            Some((p, parts)) if p == path => (format!("*{p}"), Some(parts.clone()), false),
            _ => return Err(missing().into()),
        },
        None => {
            let c = s.certs.get(name).ok_or_else(missing)?;
            let parts = c.loaded.as_ref().map(|l| l.parts.clone());
            (name.to_string(), parts, s.used(name))
        }
    };
    let mut out = format!("Filename: {shown}\nStatus: ");
    match parts.as_ref().filter(|p| !p.chain.is_empty()) {
        None => out.push_str("Empty\nOCSP Response Key: \n"),
        Some(p) => {
            out.push_str(if used { "Used\n" } else { "Unused\n" });
            detail(&mut out, p);
        }
    }
    Ok(out)
}

/// The lines HAProxy shows about a certificate and its chain.
fn detail(out: &mut String, p: &Parts) {
    use super::x509;
    let Some(leaf) = p.chain.first() else { return };
    let Some(info) = x509::parse(leaf) else {
        return;
    };
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let dn =
        |n: &x509::Name<'_>| String::from_utf8_lossy(&n.oneline().unwrap_or_default()).into_owned();
    out.push_str(&format!("Serial: {}\n", hex(info.serial)));
    out.push_str(&format!("notBefore: {}\n", info.not_before.printed()));
    out.push_str(&format!("notAfter: {}\n", info.not_after.printed()));
    let sans: Vec<String> = webpki::EndEntityCert::try_from(leaf)
        .map(|ee| ee.valid_dns_names().map(|n| format!("DNS:{n}")).collect())
        .unwrap_or_default();
    out.push_str(&format!("Subject Alternative Name: {}\n", sans.join(", ")));
    let Some(algo) = x509::key_algorithm(&info) else {
        out.push_str("Algorithm: ");
        return;
    };
    out.push_str(&format!("Algorithm: {algo}\n"));
    let sha1 = {
        use sha1::{Digest, Sha1};
        Sha1::digest(leaf.as_ref())
    };
    out.push_str(&format!("SHA1 FingerPrint: {}\n", hex(&sha1)));
    out.push_str(&format!("Subject: {}\n", dn(&info.subject)));
    out.push_str(&format!("Issuer: {}\n", dn(&info.issuer)));
    for ca in &p.chain[1..] {
        if let Some(i) = x509::parse(ca) {
            out.push_str(&format!("Chain Subject: {}\n", dn(&i.subject)));
            out.push_str(&format!("Chain Issuer: {}\n", dn(&i.issuer)));
        }
    }
    let certid = p
        .ocsp
        .as_deref()
        .and_then(super::ocsp::cert_id)
        .map(|id| id.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .unwrap_or_default();
    out.push_str(&format!("OCSP Response Key: {certid}\n"));
}

/// `new ssl cert NAME`: an empty entry, to fill with `set` and `commit`.
pub fn new_cert(store: &Store, name: &str) -> Result<String, String> {
    let mut s = store.lock();
    if s.certs.contains_key(name) {
        return Err(format!("Certificate '{name}' already exists!\n"));
    }
    s.certs.insert(name.to_string(), Cert { loaded: None });
    Ok(format!("New empty certificate store '{name}'!\n"))
}

/// What part of a certificate `set ssl cert NAME[.EXT]` replaces.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Piece {
    Pem,
    Key,
    Ocsp,
}

/// `set ssl cert NAME <<` + payload: the transaction's new pieces.
pub fn set_cert(store: &Store, name: &str, payload: &str) -> Result<String, String> {
    let mut s = store.lock();
    let fail = |e: String| format!("{e}Can't update {name}!\n");
    let (path, piece) = match name.rsplit_once('.') {
        Some((p, "key")) => (p, Piece::Key),
        Some((p, "ocsp")) => (p, Piece::Ocsp),
        Some((_, "issuer" | "sctl")) => {
            return Err(fail(format!(
                "'set ssl cert' of a '.{}' file is not supported by pollux\n",
                name.rsplit('.').next().unwrap_or("")
            )))
        }
        _ => (name, Piece::Pem),
    };
    let mut parts =
        match &s.txn {
            Some((p, parts)) if p == path => parts.clone(),
            Some((p, _)) => {
                return Err(fail(format!(
                    "The ongoing transaction is about '{p}' but you are trying to set '{path}'\n"
                )))
            }
            None => match s.certs.get(path) {
                Some(c) => c
                    .loaded
                    .as_ref()
                    .map(|l| l.parts.clone())
                    .unwrap_or_default(),
                None => return Err(fail(
                    "Can't replace a certificate which is not referenced by the configuration!\n"
                        .into(),
                )),
            },
        };
    let load = |e: String| fail(format!("{e}\nCan't load the payload\n"));
    match piece {
        // As HAProxy: a new PEM replaces the key too (with none if it has
        // none) and drops the OCSP response.
        Piece::Pem => parts = Parts::from_pem(payload.as_bytes()).map_err(load)?,
        Piece::Key => {
            use rustls::pki_types::pem::PemObject;
            let k = rustls::pki_types::PrivateKeyDer::from_pem_slice(payload.as_bytes())
                .map_err(|e| load(format!("no private key in the payload ({e})")))?;
            parts.key = Some(k);
        }
        Piece::Ocsp => {
            let text: String = payload.split_whitespace().collect();
            let der = crate::sample::conv::base64_decode(text.as_bytes())
                .ok_or_else(|| load("the OCSP response is not base64".into()))?;
            let leaf = parts
                .chain
                .first()
                .ok_or_else(|| load("no certificate to staple it to".into()))?;
            super::ocsp::check(&der, leaf, "payload").map_err(load)?;
            parts.ocsp = Some(der);
        }
    }
    let created = s.txn.is_none();
    s.txn = Some((path.to_string(), parts));
    Ok(if created {
        format!("Transaction created for certificate {path}!\n")
    } else {
        format!("Transaction updated for certificate {path}!\n")
    })
}

/// `commit ssl cert NAME`: the transaction replaces the certificate in
/// every frontend that uses it, one dot each.
pub fn commit_cert(store: &Store, name: &str) -> Result<String, String> {
    let mut s = store.lock();
    let fail = |e: String| format!("{e}Can't commit {name}!\n");
    let (path, parts) = match &s.txn {
        None => return Err(fail("No ongoing transaction! !\n".into())),
        Some((p, _)) if p != name => {
            return Err(fail(format!(
                "The ongoing transaction is about '{p}' but you are trying to set '{name}'\n"
            )))
        }
        Some((p, parts)) => (p.clone(), parts.clone()),
    };
    if !parts.chain.is_empty() && parts.key.is_none() {
        return Err(fail(
            "The transaction must contain at least a certificate and a private key!\n".into(),
        ));
    }
    let loaded = parts
        .finish(Path::new(&path), &super::server::provider())
        .map_err(|_| {
            fail(format!(
                "inconsistencies between private key and certificate loaded '{path}'.\n"
            ))
        })?;
    let old = s.certs.insert(
        path.clone(),
        Cert {
            loaded: Some(loaded),
        },
    );
    let mut out = format!("Committing {path}");
    let users: Vec<Arc<Frontend>> = s.live().filter(|fe| s.uses(fe, &path)).collect();
    for fe in &users {
        out.push('.');
        let items = s.items(&fe.sources);
        if let Err(e) = fe.rebuild(items, &mut |_| {}) {
            // Put the old certificate back everywhere it was rebuilt.
            if let Some(old) = old {
                s.certs.insert(path.clone(), old);
            }
            for fe in &users {
                let _ = fe.rebuild(s.items(&fe.sources), &mut |_| {});
            }
            s.txn = None;
            return Ok(format!("{out}\n{e}\nFailed!\n"));
        }
    }
    s.txn = None;
    out.push_str("\nSuccess!\n");
    Ok(out)
}

/// `abort ssl cert NAME`.
pub fn abort_cert(store: &Store, name: &str) -> Result<String, String> {
    let mut s = store.lock();
    match &s.txn {
        None => Err("No ongoing transaction!\n".into()),
        Some((p, _)) if p != name => Err(format!(
            "The ongoing transaction is about '{p}' but you are trying to abort a transaction for '{name}'\n"
        )),
        Some(_) => {
            s.txn = None;
            Ok(format!("Transaction aborted for certificate '{name}'!\n"))
        }
    }
}

/// `del ssl cert NAME`: only a certificate nothing uses.
pub fn del_cert(store: &Store, name: &str) -> Result<String, String> {
    let mut s = store.lock();
    let fail = |e: String| format!("Can't remove the certificate: {e}\n");
    if s.txn.as_ref().is_some_and(|(p, _)| p == name) {
        return Err(fail(format!(
            "ongoing transaction for the certificate '{name}'"
        )));
    }
    if !s.certs.contains_key(name) {
        return Err(fail(format!("certificate '{name}' doesn't exist!\n")));
    }
    let listed = s
        .lists
        .values()
        .any(|l| l.lines.iter().any(|x| x.cert == name));
    if listed || s.used(name) {
        return Err(fail(format!(
            "certificate '{name}' in use, can't be deleted!\n"
        )));
    }
    s.certs.remove(name);
    Ok(format!("Certificate '{name}' deleted!\n"))
}

/// `show ssl crt-list [-n] [NAME]`.
pub fn show_list(store: &Store, name: Option<&str>, numbered: bool) -> Result<String, String> {
    let s = store.lock();
    let Some(name) = name else {
        if numbered {
            return Err("'show ssl crt-list -n' expects a filename or a directory\n".into());
        }
        return Ok(s.lists.keys().map(|k| format!("{k}\n")).collect());
    };
    let name = name.trim_end_matches('/');
    let list = s
        .lists
        .get(name)
        .ok_or("didn't find the specified filename\n")?;
    let mut out = format!("# {name}\n");
    for l in &list.lines {
        out.push_str(&l.cert);
        if numbered {
            out.push_str(&format!(":{}", l.linenum));
        }
        if let Some(o) = &l.options {
            out.push_str(&format!(" [{}]", o.join(" ")));
        }
        for f in &l.filters {
            out.push(' ');
            out.push_str(f);
        }
        out.push('\n');
    }
    Ok(out)
}

/// `add ssl crt-list LIST CERT` or `add ssl crt-list LIST <<` + one line
/// (`CERT [options] filters`): the certificate must be in the store.
pub fn add_list(
    store: &Store,
    list: &str,
    cert: Option<&str>,
    payload: Option<&str>,
    crt_base: Option<&str>,
) -> Result<String, String> {
    let mut s = store.lock();
    let fail = |e: String| format!("Can't edit the crt-list: {e}\n");
    let list = list.trim_end_matches('/');
    let Some(l) = s.lists.get(list) else {
        return Err(fail(format!("crt-list '{list}' does not exist!")));
    };
    let dir = l.dir;
    let line = match payload {
        Some(p) => {
            let p = p.trim_end_matches('\n');
            if p.contains('\n') {
                return Err(fail("only one line of payload is supported!".into()));
            }
            super::crtlist::parse_line(p.trim(), "CLI:1", crt_base).map_err(fail)?
        }
        None => {
            let c = cert.ok_or_else(|| {
                fail("'add ssl crtlist' should contain the certificate name in the payload".into())
            })?;
            super::crtlist::parse_line(c, "CLI:1", crt_base).map_err(fail)?
        }
    };
    let path = key(&line.crt);
    if dir && path.rsplit_once('/').map(|(d, _)| d) != Some(list) {
        return Err(fail(format!(
            "'{list}' is a directory, certificate path '{path}' must contain the directory path"
        )));
    }
    match s.certs.get(&path) {
        None => return Err(fail(format!("certificate '{path}' does not exist!"))),
        Some(c) if c.loaded.is_none() => {
            return Err(fail(format!("certificate '{path}' is empty!")))
        }
        Some(_) => {}
    }
    if dir {
        if s.lists[list].lines.iter().any(|l| l.cert == path) {
            return Err(fail("file already exists in this directory!".into()));
        }
        if line.options.is_some() || !line.filters.is_empty() {
            return Err(fail(
                "this is a directory, SSL configuration and filters are not allowed".into(),
            ));
        }
    }
    let l = s.lists.get_mut(list).expect("looked up above");
    l.linecount = l.linecount.saturating_add(1);
    l.lines.push(Line {
        cert: path.clone(),
        options: line.options,
        filters: line.filters,
        linenum: l.linecount,
        at: "CLI:1".into(),
    });
    let mut out = format!("Inserting certificate '{path}' in crt-list '{list}'");
    let users: Vec<Arc<Frontend>> = s
        .live()
        .filter(|fe| fe.sources.contains(&Source::List(list.to_string())))
        .collect();
    let mut warnings = String::new();
    for fe in &users {
        out.push('.');
        if let Err(e) = fe.rebuild(s.items(&fe.sources), &mut |w| {
            warnings.push_str(&w);
            warnings.push('\n');
        }) {
            // Take the line back out and rebuild what was rebuilt.
            if let Some(l) = s.lists.get_mut(list) {
                l.lines.pop();
            }
            for fe in &users {
                let _ = fe.rebuild(s.items(&fe.sources), &mut |_| {});
            }
            return Ok(format!("{out}\n{e}\nFailed!\n"));
        }
    }
    Ok(format!("{out}\n{warnings}Success!\n"))
}

/// `del ssl crt-list LIST CERT[:LINE]`.
pub fn del_list(store: &Store, list: &str, cert: &str) -> Result<String, String> {
    let mut s = store.lock();
    let fail = |e: String| format!("Can't delete the entry: {e}\n");
    let (path, linenum) = match cert.split_once(':') {
        Some((p, n)) => match n.parse::<u32>() {
            Ok(n) => (p, n),
            Err(_) => return Err(fail(format!("wrong line number after colons in '{cert}'!"))),
        },
        None => (cert, 0),
    };
    let list = list.trim_end_matches('/');
    let Some(l) = s.lists.get(list) else {
        return Err(fail(format!("crt-list '{list}' does not exist!")));
    };
    match s.certs.get(path) {
        None => return Err(fail(format!("certificate '{path}' does not exist!"))),
        Some(c) if c.loaded.is_none() => {
            return Err(fail(format!("certificate '{path}' is empty!")))
        }
        Some(_) => {}
    }
    let hits: Vec<&Line> = l.lines.iter().filter(|x| x.cert == path).collect();
    if hits.is_empty() {
        return Err(fail(format!(
            "certificate '{path}' can't be found in crt-list '{list}'!"
        )));
    }
    let nums: Vec<String> = hits.iter().map(|h| h.linenum.to_string()).collect();
    let nums = nums.join(", ");
    let Some(pick) = hits.iter().find(|h| linenum == 0 || h.linenum == linenum) else {
        return Err(fail(format!("found a certificate '{path}' but the line number is incorrect, please specify a correct line number preceded by colons ({nums})!")));
    };
    if linenum == 0 && hits.len() > 1 {
        return Err(fail(format!("found the certificate '{path}' in several entries, please specify a line number preceded by colons ({nums})!")));
    }
    let pick = pick.linenum;
    // A frontend's default certificate stays (unless strict-sni).
    let users: Vec<Arc<Frontend>> = s
        .live()
        .filter(|fe| fe.sources.contains(&Source::List(list.to_string())))
        .collect();
    let here = Some((list.to_string(), pick));
    let defaults: Vec<&Arc<Frontend>> = users
        .iter()
        .filter(|fe| !fe.strict && s.items(&fe.sources).first().is_some_and(|i| i.from == here))
        .collect();
    if !defaults.is_empty() {
        let mut e = format!("certificate '{path}' cannot be deleted, it is used as default certificate by the following frontends:\n");
        for fe in defaults {
            e.push_str(&format!("\t- {}\n", fe.at));
        }
        return Err(fail(e));
    }
    let l = s.lists.get_mut(list).expect("looked up above");
    l.lines.retain(|x| !(x.cert == path && x.linenum == pick));
    for fe in &users {
        let _ = fe.rebuild(s.items(&fe.sources), &mut |_| {});
    }
    Ok(format!("Entry '{cert}' deleted in crtlist '{list}'!\n"))
}

/// `set ssl ocsp-response <base64>|<<`: the response staples from now on
/// with the certificate it is about.
pub fn set_ocsp(store: &Store, b64: &str) -> Result<String, String> {
    let text: String = b64.split(['\r', '\n']).collect();
    if text.is_empty() {
        return Err("'set ssl ocsp-response' expects response in base64 encoding.\n".into());
    }
    let der = crate::sample::conv::base64_decode(text.trim().as_bytes())
        .ok_or("'set ssl ocsp-response' received invalid base64 encoded response.\n")?;
    let mut s = store.lock();
    let target = s.certs.iter().find_map(|(k, c)| {
        let l = c.loaded.as_ref()?;
        let leaf = l.parts.chain.first()?;
        super::ocsp::check(&der, leaf, "payload").ok()?;
        Some(k.clone())
    });
    let Some(path) = target else {
        return Err(match super::ocsp::cert_id(&der) {
            None => "Unable to parse OCSP response.\n".into(),
            Some(_) => {
                "OCSP single response: Certificate ID does not match any certificate or issuer.\n"
                    .into()
            }
        });
    };
    let mut parts = s.certs[&path]
        .loaded
        .as_ref()
        .map(|l| l.parts.clone())
        .unwrap_or_default();
    parts.ocsp = Some(der);
    let loaded = parts
        .finish(Path::new(&path), &super::server::provider())
        .map_err(|e| format!("{e}.\n"))?;
    s.certs.insert(
        path.clone(),
        Cert {
            loaded: Some(loaded),
        },
    );
    let users: Vec<Arc<Frontend>> = s.live().filter(|fe| s.uses(fe, &path)).collect();
    for fe in &users {
        let _ = fe.rebuild(s.items(&fe.sources), &mut |_| {});
    }
    Ok("OCSP Response updated!\n".into())
}
