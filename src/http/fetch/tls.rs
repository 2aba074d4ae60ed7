//! Fetches on the client connection's TLS session (manual §7.3.4):
//! `ssl_fc`, `ssl_fc_sni`, `ssl_fc_has_sni`, `ssl_fc_protocol`,
//! `ssl_fc_cipher`, `ssl_fc_alpn`, `ssl_fc_is_resumed`, the client
//! certificate's `ssl_c_*` (in `cert`), and the error codes `option
//! httpslog` shows (`fc_err`, `ssl_fc_err`...). The connection
//! layer describes its session in [`TlsFacts`]; a plain connection has none.

use super::{text, want_args, FetchCtx, Fetched, Kind};
use crate::sample::Value;

mod cert;

/// What a TLS frontend connection negotiated, as the fetches and the log
/// (`%sslv`, `%sslc`) read it. Owned (shared strings), so a transaction can
/// hold it while its session changes; taken once the handshake is done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFacts {
    pub sni: Option<std::sync::Arc<str>>,
    /// `TLSv1.2`, `TLSv1.3`.
    pub version: Option<&'static str>,
    /// The suite's OpenSSL name (`ECDHE-RSA-AES128-GCM-SHA256`,
    /// `TLS_AES_128_GCM_SHA256`), as HAProxy reports it.
    pub cipher: Option<&'static str>,
    pub alpn: Option<std::sync::Arc<[u8]>>,
    pub resumed: bool,
    /// The client's certificate, if it sent one (`ssl_c_*`): set when the
    /// handshake completes, seen by facts taken before.
    pub client: crate::tls::verify::PeerSlot,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ssl {
    Fc,
    Sni,
    HasSni,
    Protocol,
    Cipher,
    Alpn,
    IsResumed,
    /// `fc_err`, `ssl_fc_err`: the error that ended a connection's setup.
    /// A connection that failed is closed before any rule or log line sees
    /// it, so these read 0 (`ssl_fc_err` only on a TLS connection).
    FcErr,
    SslErr,
    /// `ssl_c_*` (see `cert`).
    Cert(cert::Cert),
}

pub fn parse(name: &str, args: &[&str]) -> Option<Result<Ssl, String>> {
    let f = match name {
        "ssl_fc" => Ssl::Fc,
        "ssl_fc_sni" => Ssl::Sni,
        "ssl_fc_has_sni" => Ssl::HasSni,
        "ssl_fc_protocol" => Ssl::Protocol,
        "ssl_fc_cipher" => Ssl::Cipher,
        "ssl_fc_alpn" => Ssl::Alpn,
        "ssl_fc_is_resumed" => Ssl::IsResumed,
        "fc_err" => Ssl::FcErr,
        "ssl_fc_err" => Ssl::SslErr,
        _ => return cert::parse(name, args).map(|c| c.map(Ssl::Cert)),
    };
    Some(want_args(name, args, 0, 0).map(|_| f))
}

impl Ssl {
    pub fn kind(&self) -> Kind {
        match self {
            Ssl::Fc | Ssl::HasSni | Ssl::IsResumed => Kind::Bool,
            Ssl::FcErr | Ssl::SslErr => Kind::Int,
            Ssl::Cert(c) => c.kind(),
            _ => Kind::Str,
        }
    }

    pub fn fetch<'a>(&self, ctx: &FetchCtx<'a>) -> Fetched<'a> {
        let tls = ctx.txn.stamp.tls;
        let flag = |b: bool| Fetched::one(Value::Bool(b));
        match self {
            Ssl::FcErr => return Fetched::one(Value::Sint(0)),
            Ssl::Cert(c) => return c.fetch(ctx),
            _ => {}
        }
        let Some(t) = tls else {
            // HAProxy: false for the flags, no sample for the rest.
            return match self {
                Ssl::Fc | Ssl::HasSni | Ssl::IsResumed => flag(false),
                _ => Fetched::none(),
            };
        };
        let s = |v: Option<&'a str>| v.map_or_else(Fetched::none, |v| Fetched::one(text(v)));
        match self {
            Ssl::Fc => flag(true),
            Ssl::FcErr | Ssl::SslErr | Ssl::Cert(_) => Fetched::one(Value::Sint(0)),
            Ssl::HasSni => flag(t.sni.is_some()),
            Ssl::IsResumed => flag(t.resumed),
            Ssl::Sni => s(t.sni.as_deref()),
            Ssl::Protocol => s(t.version),
            Ssl::Cipher => s(t.cipher),
            Ssl::Alpn => t
                .alpn
                .as_deref()
                .map_or_else(Fetched::none, |a| Fetched::one(Value::str(a))),
        }
    }
}
