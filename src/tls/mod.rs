//! TLS support.

pub mod ciphers;
