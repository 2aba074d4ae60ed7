//! TLS with rustls (ring provider): certificates, the server contexts that
//! `bind ... ssl` lines make, and OpenSSL's cipher-string language evaluated
//! against what rustls offers. The transport that carries a session's bytes
//! over TLS is `conn::Tls`; nothing above the connection layer knows TLS is
//! there.

pub mod certs;
pub mod ciphers;
pub mod client;
pub mod server;
