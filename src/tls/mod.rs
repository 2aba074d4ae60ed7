//! TLS with rustls (ring provider): certificates and the server contexts
//! that `bind ... ssl` lines make. The transport that carries a session's
//! bytes over TLS is `conn::Tls`; nothing above the connection layer knows
//! TLS is there.

pub mod certs;
pub mod server;
