//! Muxes: between a connection's bytes and the messages of its streams.
//! HTTP/1 (`h1.rs`, [`h1::H1Mux`]) carries one stream at a time: it reads a
//! connection into its input buffer, parses a head into a message, claims
//! body bytes through the body tracker, writes heads and bodies out, drains
//! and shuts, and says what it wants from the poller. The transaction
//! reaches the wire only through it. An HTTP/2 mux would carry many
//! transactions on one connection through the same operations (next head
//! and body bytes of a stream, queue a head and body, our own response,
//! shut, interests, EOF facts). Muxes sit below the session and know
//! nothing about it: they work on the connections (`conn::Side`) and input
//! buffers a session lends them.

pub mod h1;
