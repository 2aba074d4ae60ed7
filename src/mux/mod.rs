//! Muxes: between a connection's bytes and the messages of its streams.
//! HTTP/1 (`h1.rs`) carries one stream at a time: it reads a connection into
//! its buffer, parses a head into a message, claims body bytes through the
//! body tracker, writes heads and bodies out, drains and shuts. An HTTP/2
//! mux would carry many transactions on one connection through the same
//! operations (next request head and body bytes of a stream, send a
//! response head and body, shut or close). Muxes sit below the session and
//! know nothing about it: they work on `conn::Side`s and their buffers.

pub mod h1;
