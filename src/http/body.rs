//! Message body framing (RFC 9112 §6): Content-Length, chunked, close-delimited.
