//! The runtime API's certificate commands (management guide §9.3: `show`,
//! `new`, `set`, `commit`, `abort`, `del ssl cert`; `show`, `add`, `del ssl
//! crt-list`; `set ssl ocsp-response`): their grammar here, HAProxy 2.6's
//! answers in `tls::store`, which every thread's frontends share.

use crate::tls::store::{self, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SslCmd {
    ShowCert(Option<String>),
    NewCert(String),
    SetCert(String, String),
    CommitCert(String),
    AbortCert(String),
    DelCert(String),
    ShowList {
        name: Option<String>,
        numbered: bool,
    },
    AddList {
        list: String,
        cert: Option<String>,
        payload: Option<String>,
    },
    DelList {
        list: String,
        cert: String,
    },
    SetOcsp(String),
}

impl SslCmd {
    /// Only `show ssl cert` is open to operators (HAProxy 2.6).
    pub fn level(&self) -> super::Level {
        match self {
            SslCmd::ShowCert(_) => super::Level::Operator,
            _ => super::Level::Admin,
        }
    }
}

/// Words starting with `<verb> ssl`, and the payload after the line.
pub fn parse(w: &[String], payload: Option<&str>) -> Result<SslCmd, String> {
    let s: Vec<&str> = w.iter().map(String::as_str).collect();
    let own = |x: &&str| x.to_string();
    Ok(match s.as_slice() {
        ["show", "ssl", "cert"] => SslCmd::ShowCert(None),
        ["show", "ssl", "cert", n, ..] => SslCmd::ShowCert(Some(own(n))),
        ["new", "ssl", "cert", n, ..] => SslCmd::NewCert(own(n)),
        ["new", "ssl", "cert"] => return Err("'new ssl cert' expects a filename\n".into()),
        ["set", "ssl", "cert", n, ..] if payload.is_some() => {
            SslCmd::SetCert(own(n), payload.unwrap_or_default().to_string())
        }
        ["set", "ssl", "cert", ..] => {
            return Err("'set ssl cert expects a filename and a certificate as a payload\n".into())
        }
        ["commit", "ssl", "cert", n, ..] => SslCmd::CommitCert(own(n)),
        ["commit", "ssl", "cert"] => return Err("'commit ssl cert expects a filename\n".into()),
        ["abort", "ssl", "cert", n, ..] => SslCmd::AbortCert(own(n)),
        ["abort", "ssl", "cert"] => return Err("'abort ssl cert' expects a filename\n".into()),
        ["del", "ssl", "cert", n, ..] => SslCmd::DelCert(own(n)),
        ["del", "ssl", "cert"] => return Err("'del ssl cert' expects a certificate name\n".into()),
        ["show", "ssl", "crt-list", "-n", n, ..] => SslCmd::ShowList {
            name: Some(own(n)),
            numbered: true,
        },
        ["show", "ssl", "crt-list", "-n"] => SslCmd::ShowList {
            name: None,
            numbered: true,
        },
        ["show", "ssl", "crt-list", rest @ ..] => SslCmd::ShowList {
            name: rest.first().map(own),
            numbered: false,
        },
        ["add", "ssl", "crt-list", l, rest @ ..] if payload.is_some() || !rest.is_empty() => {
            SslCmd::AddList {
                list: own(l),
                cert: rest.first().map(own),
                payload: payload.map(str::to_string),
            }
        }
        ["add", "ssl", "crt-list", ..] => {
            return Err("'add ssl crtlist' expects a filename and a certificate name\n".into())
        }
        ["del", "ssl", "crt-list", l, c, ..] => SslCmd::DelList {
            list: own(l),
            cert: own(c),
        },
        ["del", "ssl", "crt-list", ..] => {
            return Err("'del ssl crtlist' expects a filename and a certificate name\n".into())
        }
        ["set", "ssl", "ocsp-response", rest @ ..] => {
            SslCmd::SetOcsp(payload.map_or_else(|| rest.join(""), str::to_string))
        }
        _ => return Err(format!("Unknown command: '{}'.", s.join(" "))),
    })
}

/// Runs one command on the store; `crt_base` completes relative paths in
/// `add ssl crt-list`, as in the configuration.
pub fn run(st: &Store, cmd: &SslCmd, crt_base: Option<&str>) -> Result<String, String> {
    match cmd {
        SslCmd::ShowCert(n) => store::show_cert(st, n.as_deref()),
        SslCmd::NewCert(n) => store::new_cert(st, n),
        SslCmd::SetCert(n, p) => store::set_cert(st, n, p),
        SslCmd::CommitCert(n) => store::commit_cert(st, n),
        SslCmd::AbortCert(n) => store::abort_cert(st, n),
        SslCmd::DelCert(n) => store::del_cert(st, n),
        SslCmd::ShowList { name, numbered } => store::show_list(st, name.as_deref(), *numbered),
        SslCmd::AddList {
            list,
            cert,
            payload,
        } => store::add_list(st, list, cert.as_deref(), payload.as_deref(), crt_base),
        SslCmd::DelList { list, cert } => store::del_list(st, list, cert),
        SslCmd::SetOcsp(b64) => store::set_ocsp(st, b64),
    }
}
