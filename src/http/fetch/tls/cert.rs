//! `ssl_c_*`: the client certificate of a TLS frontend connection and how
//! its verification went (manual §7.3.4), as HAProxy 2.6 shows them: the
//! DNs one-line (`/C=FR/O=x/CN=y`) or one entry of them, the serial and
//! the SHA-1 as binary, dates as YYMMDDhhmmssZ.

use super::super::{int_arg, want_args, FetchCtx, Fetched, Kind};
use crate::sample::Value;
use crate::tls::x509;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cert {
    Used,
    Verify,
    Err,
    CaErr,
    CaErrDepth,
    /// `ssl_c_s_dn` (true) or `ssl_c_i_dn`, whole or one entry.
    Dn(bool, Option<(String, i64)>),
    Serial,
    Sha1,
    NotBefore,
    NotAfter,
    Version,
    Der,
}

pub fn parse(name: &str, args: &[&str]) -> Option<Result<Cert, String>> {
    let plain = |c: Cert| Some(want_args(name, args, 0, 0).map(|_| c));
    match name {
        "ssl_c_used" => plain(Cert::Used),
        "ssl_c_verify" => plain(Cert::Verify),
        "ssl_c_err" => plain(Cert::Err),
        "ssl_c_ca_err" => plain(Cert::CaErr),
        "ssl_c_ca_err_depth" => plain(Cert::CaErrDepth),
        "ssl_c_serial" => plain(Cert::Serial),
        "ssl_c_sha1" => plain(Cert::Sha1),
        "ssl_c_notbefore" => plain(Cert::NotBefore),
        "ssl_c_notafter" => plain(Cert::NotAfter),
        "ssl_c_version" => plain(Cert::Version),
        "ssl_c_der" => plain(Cert::Der),
        "ssl_c_s_dn" | "ssl_c_i_dn" => Some(dn(name, args)),
        _ => None,
    }
}

/// `ssl_c_s_dn([entry[,occ[,format]]])`.
fn dn(name: &str, args: &[&str]) -> Result<Cert, String> {
    want_args(name, args, 0, 3)?;
    let subject = name == "ssl_c_s_dn";
    if let Some(f) = args.get(2).filter(|f| !f.is_empty()) {
        if *f != "rfc2253" {
            return Err(format!(
                "fetch method '{name}': only rfc2253 or a blank value are currently supported as the format argument"
            ));
        }
        if args[0].is_empty() {
            return Err(format!(
                "fetch method '{name}': the 'rfc2253' format is not supported yet"
            ));
        }
    }
    let entry = match args.first().filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => {
            let pos = match args.get(1).filter(|p| !p.is_empty()) {
                Some(p) => int_arg(name, 2, p)?,
                None => 1,
            };
            Some((e.to_string(), pos))
        }
    };
    Ok(Cert::Dn(subject, entry))
}

impl Cert {
    pub fn kind(&self) -> Kind {
        match self {
            Cert::Used => Kind::Bool,
            Cert::Verify | Cert::Err | Cert::CaErr | Cert::CaErrDepth | Cert::Version => Kind::Int,
            Cert::Serial | Cert::Sha1 | Cert::Der => Kind::Bin,
            Cert::Dn(..) | Cert::NotBefore | Cert::NotAfter => Kind::Str,
        }
    }

    pub fn fetch<'a>(&self, ctx: &FetchCtx<'a>) -> Fetched<'a> {
        // Not a TLS connection: no sample.
        let Some(t) = ctx.txn.stamp.tls else {
            return Fetched::none();
        };
        let peer = t.client.get().and_then(|p| p.as_deref());
        let int = |v: i64| Fetched::one(Value::Sint(v));
        let outcome = peer.map(|p| p.outcome).unwrap_or_default();
        match self {
            Cert::Used => return Fetched::one(Value::Bool(peer.is_some())),
            Cert::Verify => return int(outcome.verify),
            Cert::Err => return int(outcome.err),
            Cert::CaErr => return int(outcome.ca_err),
            Cert::CaErrDepth => return int(outcome.ca_err_depth),
            _ => {}
        }
        let Some(p) = peer else {
            return Fetched::none();
        };
        let der: &'a [u8] = p.der.as_ref();
        let bin = |b: Cow<'a, [u8]>| Fetched::one(Value::Bin(b));
        match self {
            Cert::Der => return bin(Cow::Borrowed(der)),
            Cert::Sha1 => {
                use sha1::{Digest, Sha1};
                return bin(Cow::Owned(Sha1::digest(der).to_vec()));
            }
            _ => {}
        }
        let Some(c) = x509::parse(der) else {
            return Fetched::none();
        };
        let s = |v: Option<Cow<'a, [u8]>>| {
            v.filter(|v| !v.is_empty())
                .map_or_else(Fetched::none, |v| Fetched::one(Value::Str(v)))
        };
        match self {
            Cert::Serial => bin(Cow::Borrowed(c.serial)),
            Cert::Version => int(c.version),
            Cert::NotBefore => s(c.not_before.haproxy().map(Cow::Borrowed)),
            Cert::NotAfter => s(c.not_after.haproxy().map(Cow::Borrowed)),
            Cert::Dn(subject, entry) => {
                let name = if *subject { c.subject } else { c.issuer };
                match entry {
                    Some((field, pos)) => s(name.entry(field, *pos).map(Cow::Borrowed)),
                    None => s(name.oneline().map(Cow::Owned)),
                }
            }
            _ => Fetched::none(),
        }
    }
}
