//! The request-smuggling table of the end-to-end suite: malformed or ambiguous
//! requests and what pollux must do with each. Same shape as the parser-level
//! table planned in `pollux::http::smuggling_cases::CASES`, so the two can merge.
//!
//! - `Reject(code)`: the first (and only) response is `code`, then the connection
//!   is closed; the backend receives no complete request.
//! - `Accept { first_len }`: the first `first_len` bytes are one request, which
//!   reaches the backend (normalised, see the comments); whatever follows is a
//!   separate request `GET /smuggled`, which the test config denies (403), so
//!   it must never reach the backend.
//!
//! Every request that tries to hide something hides `GET /smuggled`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Reject(u16),
    Accept { first_len: usize },
}

/// `accept!(name, first, tail)`: `first` is one request, `tail` the bytes after it.
macro_rules! accept {
    ($name:literal, $first:literal, $tail:literal) => {
        (
            $name,
            concat!($first, $tail).as_bytes(),
            Expect::Accept {
                first_len: $first.len(),
            },
        )
    };
}

macro_rules! reject {
    ($name:literal, $bytes:literal) => {
        ($name, $bytes as &[u8], Expect::Reject(400))
    };
}

/// Cases whose first request uses a lenient syntax that the suite's own strict
/// parser does not take (the self-consistency check skips them).
pub const LENIENT: &[&str] = &["bare_lf_line_endings"];

pub static CASES: &[(&str, &[u8], Expect)] = &[
    // --- RFC 9112 §6.1/§6.3: framing ambiguities -------------------------------
    reject!("te_and_cl", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_and_te", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_and_cl_zero", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n23\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n"),
    reject!("two_differing_cl", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_list_differing", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 40\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_chunked_not_final", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_gzip_only", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_identity", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_xchunked", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_chunked_twice", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_two_headers_gzip_last", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_on_http10", b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // --- header syntax that hides or fakes a framing header ----------------------
    reject!("te_space_before_colon", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_space_before_colon", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("te_tab_before_colon", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding\t: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("obs_fold_te", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("obs_fold_plain", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("bare_cr_in_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("bare_cr_as_line_end", b"POST / HTTP/1.1\r\nHost: x\r\nX-A: a\rContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("bare_cr_in_request_line", b"GET /\r HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("nul_in_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("ctl_in_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("del_in_value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("space_in_name", b"GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("paren_in_name", b"GET / HTTP/1.1\r\nHost: x\r\nX(A): b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("empty_name", b"GET / HTTP/1.1\r\nHost: x\r\n: b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("non_ascii_name", b"GET / HTTP/1.1\r\nHost: x\r\nX-\xc3\xa9: b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("line_without_colon", b"GET / HTTP/1.1\r\nHost: x\r\nX-A b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // --- Content-Length values (RFC 9110 §8.6: 1*DIGIT) -------------------------
    reject!("cl_negative", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_plus_sign", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_hex", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_alpha", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_empty", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_overflow", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999999\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("cl_two_numbers_space", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 35\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // --- chunked framing (RFC 9112 §7.1), checked as it streams ------------------
    reject!("chunk_size_not_hex", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("chunk_size_negative", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("chunk_size_overflow", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("chunk_size_0x_prefix", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("chunk_size_empty", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("chunk_data_longer_than_size", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // --- start line -------------------------------------------------------------
    reject!("invalid_method_char", b"G(T / HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("nul_in_method", b"GE\x00T / HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("version_without_dot", b"GET / HTTP/11\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("version_lowercase", b"GET / http/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("version_garbage", b"GET / HTTP/1.1x\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("http09_request", b"GET /\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("space_in_uri", b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("ctl_in_uri", b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    reject!("two_differing_hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // --- accepted: unambiguous, or normalised safely -----------------------------
    // Control: a plain pipelined request after a GET is seen (and denied) by the proxy.
    accept!("pipelined_after_get", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("pipelined_after_chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("pipelined_after_cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // A request inside a body is body: forwarded as such, never parsed.
    accept!("cl_body_holds_a_request", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", ""),
    accept!("chunk_holds_a_request", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n23\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n", ""),
    // RFC 9110 §8.6: identical Content-Length values: forwarded as one.
    accept!("identical_duplicate_cl", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("identical_cl_list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("cl_leading_zeros", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 005\r\n\r\nhello", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("cl_trailing_ows", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5 \t\r\n\r\nhello", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("get_with_cl_body", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("cl_zero", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // Coding and header names are case-insensitive (RFC 9110 §5.1, §7.8).
    accept!("te_uppercase_value", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("te_lowercase_name", "POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("te_tab_ows", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("chunk_extension", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("chunk_uppercase_hex", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("chunk_size_leading_zeros", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0005\r\nhello\r\n0000\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("chunked_trailers", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("last_chunk_extension", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0;x=y\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("absolute_form_target", "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("options_asterisk", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("head_request", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("http10_keep_alive", "GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("obs_text_in_value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: caf\u{e9}\r\n\r\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    accept!("te_lookalike_header", "POST / HTTP/1.1\r\nHost: x\r\nX-Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    // RFC 9112 §2.2: a recipient MAY take a bare LF as a line end; forwarded with CRLF.
    accept!("bare_lf_line_endings", "GET / HTTP/1.1\nHost: x\n\n", "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
];
