//! Fetches on the server connection's TLS session (manual §7.3.4, the
//! `ssl_bc*` HAProxy 2.6 has that rustls can answer): `ssl_bc`,
//! `ssl_bc_protocol`, `ssl_bc_cipher`, `ssl_bc_alpn`, `ssl_bc_is_resumed`,
//! `ssl_bc_alg_keysize`, `ssl_bc_use_keysize`. They read the server
//! connection's [`TlsFacts`](super::tls::TlsFacts), which only response
//! rules and the log line have (HAProxy refuses them in request rules);
//! without a TLS server connection the flags are false and the rest give
//! no sample, as HAProxy.

use super::{text, want_args, FetchCtx, Fetched, Kind};
use crate::sample::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslBc {
    Bc,
    Protocol,
    Cipher,
    Alpn,
    IsResumed,
    /// The cipher's key size in bits (`SSL_get_cipher_bits`: both are the
    /// same for the AEAD suites rustls offers).
    AlgKeysize,
    UseKeysize,
}

pub fn parse(name: &str, args: &[&str]) -> Option<Result<SslBc, String>> {
    let f = match name {
        "ssl_bc" => SslBc::Bc,
        "ssl_bc_protocol" => SslBc::Protocol,
        "ssl_bc_cipher" => SslBc::Cipher,
        "ssl_bc_alpn" => SslBc::Alpn,
        "ssl_bc_is_resumed" => SslBc::IsResumed,
        "ssl_bc_alg_keysize" => SslBc::AlgKeysize,
        "ssl_bc_use_keysize" => SslBc::UseKeysize,
        _ => return None,
    };
    Some(want_args(name, args, 0, 0).map(|_| f))
}

/// The key size of a suite by its OpenSSL name.
fn key_bits(cipher: &str) -> Option<i64> {
    if cipher.contains("AES128") || cipher.contains("AES_128") {
        Some(128)
    } else if cipher.contains("AES256") || cipher.contains("AES_256") || cipher.contains("CHACHA20")
    {
        Some(256)
    } else {
        None
    }
}

impl SslBc {
    pub fn kind(&self) -> Kind {
        match self {
            SslBc::Bc | SslBc::IsResumed => Kind::Bool,
            SslBc::AlgKeysize | SslBc::UseKeysize => Kind::Int,
            _ => Kind::Str,
        }
    }

    pub fn fetch<'a>(&self, ctx: &FetchCtx<'a>) -> Fetched<'a> {
        let flag = |b: bool| Fetched::one(Value::Bool(b));
        let Some(t) = ctx.txn.stamp.bc_tls else {
            return match self {
                SslBc::Bc | SslBc::IsResumed => flag(false),
                _ => Fetched::none(),
            };
        };
        let s = |v: Option<&'a str>| v.map_or_else(Fetched::none, |v| Fetched::one(text(v)));
        match self {
            SslBc::Bc => flag(true),
            SslBc::IsResumed => flag(t.resumed),
            SslBc::Protocol => s(t.version),
            SslBc::Cipher => s(t.cipher),
            SslBc::Alpn => t
                .alpn
                .as_deref()
                .map_or_else(Fetched::none, |a| Fetched::one(Value::str(a))),
            SslBc::AlgKeysize | SslBc::UseKeysize => t
                .cipher
                .and_then(key_bits)
                .map_or_else(Fetched::none, |b| Fetched::one(Value::Sint(b))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_sizes_follow_the_suite() {
        for (c, b) in [
            ("TLS_AES_256_GCM_SHA384", Some(256)),
            ("TLS_AES_128_GCM_SHA256", Some(128)),
            ("TLS_CHACHA20_POLY1305_SHA256", Some(256)),
            ("ECDHE-ECDSA-AES128-GCM-SHA256", Some(128)),
            ("ECDHE-RSA-AES256-GCM-SHA384", Some(256)),
            ("ECDHE-RSA-CHACHA20-POLY1305", Some(256)),
            ("NULL", None),
        ] {
            assert_eq!(super::key_bits(c), b, "{c}");
        }
    }
}
