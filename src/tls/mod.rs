//! TLS with rustls (aws-lc-rs on x86_64 Linux, ring elsewhere): certificates, the server contexts that
//! `bind ... ssl` lines make, and OpenSSL's cipher-string language evaluated
//! against what rustls offers. The transport that carries a session's bytes
//! over TLS is `conn::Tls`; nothing above the connection layer knows TLS is
//! there.

pub mod certs;
pub mod ciphers;
pub mod client;
pub mod crtlist;
pub mod ocsp;
pub mod server;
pub mod sni;
pub mod store;
pub mod tickets;
pub mod verify;
pub mod x509;

use std::sync::Arc;

/// The crypto under rustls. aws-lc-rs where it builds with a C compiler
/// alone and is measured faster (x86_64 Linux: its RSA-2048 signature takes
/// 254 µs where ring's takes 571, X25519 28 µs against 50; bench/tls, doc/
/// performance.md); ring everywhere else (SPARC, ARM, the BSDs, illumos).
/// Both offer the same suites and, as `server::provider` sets them, the
/// same groups.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub use rustls::crypto::aws_lc_rs as backend;
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub use rustls::crypto::ring as backend;

/// The provider's name, for messages and `-vv`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
pub const BACKEND: &str = "aws-lc-rs";
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
pub const BACKEND: &str = "ring";

/// How a frontend's TLS handshake ended before completing, as HAProxy
/// names it in the line it logs for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HsFailure {
    /// A protocol error (garbage, no shared version or suite, no
    /// certificate where `verify required` wants one...) or a socket error
    /// (a reset: HAProxy sees it on the socket before OpenSSL does).
    Handshake,
    /// The client's certificate failed verification (depth 0).
    CrtFail,
    /// Its chain did (an error above depth 0).
    CaFail,
    /// The client closed before the end.
    Empty,
    /// `timeout client` (or `http-request`) ran out first.
    Timeout,
}

impl HsFailure {
    pub fn message(self) -> &'static str {
        match self {
            HsFailure::Handshake => "SSL handshake failure",
            HsFailure::CrtFail => "SSL client certificate not trusted",
            HsFailure::CaFail => "SSL client CA chain cannot be verified",
            HsFailure::Empty => "Connection closed during SSL handshake",
            HsFailure::Timeout => "Timeout during SSL handshake",
        }
    }

    /// What `option dontlognull` keeps out of the logs: a close, or a
    /// timeout (no error yet when it fires).
    pub fn is_null(self) -> bool {
        matches!(self, HsFailure::Empty | HsFailure::Timeout)
    }
}

/// A configuration made once and shared by every thread (a rustls server
/// or client configuration); compared by identity, since the model's
/// equality is about what was written and this is what it made.
pub struct Shared<T>(pub Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Eq for Shared<T> {}

impl<T> std::fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shared<{}>", std::any::type_name::<T>())
    }
}
