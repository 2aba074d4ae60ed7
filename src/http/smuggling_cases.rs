//! Request smuggling table: malformed or ambiguous requests and what pollux
//! does with each. Shared by the unit tests (src/http/smuggling_tests.rs) and
//! the end-to-end suite (`pollux::http::smuggling_cases` once exported).
//!
//! `Reject(status)`: pollux answers `status` and closes; the backend must see
//! nothing of this request (a reject from the chunked body checker may come
//! after the head was forwarded: then the server connection is closed too).
//! `Accept { first_len }`: bytes `[..first_len]` are the first request (head and
//! body); whatever follows is the next request on the connection (always empty,
//! `GET /next ...` or `GET /smuggled ...`), which pollux parses and switches
//! on its own. Accepted heads are re-serialized: CRLF line endings, one
//! `Content-Length: N` (lists and duplicates collapsed, leading zeros
//! dropped), or one `Transfer-Encoding` with lower-case codings joined by
//! ", ". Chunked bodies are forwarded byte for byte.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The status pollux answers.
    Reject(u16),
    /// Length of the first message, head and body.
    Accept { first_len: usize },
}

pub const CASES: &[(&str, &[u8], Expect)] = &[
    // CL and TE together: never guess (RFC 9112 §6.3)
    (
        "cl_then_te",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nXGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // TE and CL together, other order
    (
        "te_then_cl",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // CL with a TE that is not even chunked
    (
        "cl_and_te_identity",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: identity\r\n\r\nhello",
        Expect::Reject(400),
    ),
    // bare LF ends a line, so this TE line is real and joins a CL
    (
        "bare_lf_hides_te_behind_cl",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nX: a\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // two CL lines that disagree
    (
        "cl_cl_differing",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        Expect::Reject(400),
    ),
    // one CL line listing different values
    (
        "cl_list_differing",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!",
        Expect::Reject(400),
    ),
    // two equal CL lines: accepted, forwarded as one `Content-Length: 5`
    (
        "cl_cl_same",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 71 },
    ),
    // equal list `5, 5`: accepted, forwarded as one `Content-Length: 5`
    (
        "cl_list_same",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 55 },
    ),
    // sign in CL
    (
        "cl_plus_sign",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
        Expect::Reject(400),
    ),
    // negative CL
    (
        "cl_negative",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
        Expect::Reject(400),
    ),
    // space inside the digits
    (
        "cl_space_inside",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n0123456789",
        Expect::Reject(400),
    ),
    // hexadecimal CL
    (
        "cl_hex",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello",
        Expect::Reject(400),
    ),
    // CL beyond u64
    (
        "cl_overflow",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n",
        Expect::Reject(400),
    ),
    // empty CL
    (
        "cl_empty",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
        Expect::Reject(400),
    ),
    // empty element in a CL list
    (
        "cl_empty_element",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,,5\r\n\r\nhello",
        Expect::Reject(400),
    ),
    // CL written as 1e1
    (
        "cl_exponent",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1e1\r\n\r\n0123456789",
        Expect::Reject(400),
    ),
    // leading zeros: forwarded as `Content-Length: 5`
    (
        "cl_leading_zeros",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 54 },
    ),
    // spaces and tabs around the value are not part of it
    (
        "cl_surrounding_ows",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \t5 \t\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 55 },
    ),
    // CL 0: the next bytes are the next request
    (
        "cl_zero_then_pipelined",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 47 },
    ),
    // a request inside a CL body is body
    (
        "cl_body_contains_a_request",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 35\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 83 },
    ),
    // Content_Length look-alike (CGI maps it to CONTENT_LENGTH)
    (
        "cl_underscore",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent_Length: 5\r\n\r\nhello",
        Expect::Reject(400),
    ),
    // plain chunked body, then a pipelined request
    (
        "te_chunked",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 71 },
    ),
    // coding names ignore case: forwarded as `Transfer-Encoding: chunked`
    (
        "te_chunked_uppercase",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 71 },
    ),
    // OWS around the value (tab) is not part of it
    (
        "te_chunked_tab_value",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\t\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 72 },
    ),
    // gzip then chunked: forwarded as `Transfer-Encoding: gzip, chunked`
    (
        "te_gzip_chunked",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 96 },
    ),
    // unknown coding `xchunked` as the final one
    (
        "te_xchunked",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // chunked not last
    (
        "te_chunked_identity",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // identity alone: final coding is not chunked
    (
        "te_identity",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\nhello",
        Expect::Reject(400),
    ),
    // whitespace before the colon (RFC 9112 §5.1)
    (
        "te_space_before_colon",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // tab before the colon
    (
        "te_tab_before_colon",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // Transfer_Encoding look-alike
    (
        "te_underscore",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // TE value on a folded line (RFC 9112 §5.2)
    (
        "te_obs_fold",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // folded continuation with a tab
    (
        "te_obs_fold_tab",
        b"POST / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // whitespace before the first header line
    (
        "te_before_first_header_ws",
        b"POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // two TE lines both chunked: chunked applied twice
    (
        "te_duplicate",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // `chunked, chunked`
    (
        "te_chunked_twice_list",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // unknown coding before chunked: 501 (RFC 9112 §6.1)
    (
        "te_unknown_coding",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: foo, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(501),
    ),
    // quoted coding name
    (
        "te_quoted",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // parameter on chunked
    (
        "te_chunked_param",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // vertical tab (CTL) in the value
    (
        "te_vertical_tab",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0bchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // NUL after chunked
    (
        "te_nul_in_value",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x00\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // NUL before the name
    (
        "te_nul_in_name",
        b"POST / HTTP/1.1\r\nHost: a\r\n\x00Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // empty TE
    (
        "te_empty",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
        Expect::Reject(400),
    ),
    // TE in an HTTP/1.0 request (RFC 9112 §6.1)
    (
        "te_http10",
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // bare CR hides a TE line for CR-as-EOL parsers
    (
        "te_bare_cr_in_name_line",
        b"POST / HTTP/1.1\r\nHost: a\r\nX: a\rTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // CR CR LF ending a line
    (
        "bare_cr_before_crlf",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\r\n\r\nhello",
        Expect::Reject(400),
    ),
    // `0x` prefix on a chunk size
    (
        "chunk_size_0x",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // negative chunk size
    (
        "chunk_size_negative",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // 17 hex digits: beyond u64
    (
        "chunk_size_huge",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // 17 digits as leading zeros: still the last chunk (RFC 9112 §7.1 sets
    // no limit on leading zeros; the value is what counts)
    (
        "chunk_size_zero_padded",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 77 },
    ),
    // a 5 behind 21 zeros is a 5
    (
        "chunk_size_zero_padded_nonzero",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000000000005\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 92 },
    ),
    // leading zeros cannot hide a value past 64 bits
    (
        "chunk_size_zero_padded_huge",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n000010000000000000000\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // an unclosed quote in an extension: never forwarded
    (
        "chunk_ext_unclosed_quote",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // an extension value that is neither a token nor a quoted string
    (
        "chunk_ext_bad_value",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b c\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // space before the chunk size
    (
        "chunk_size_leading_space",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // space after the size without an extension
    (
        "chunk_size_trailing_space",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // chunk size line ended by a bare LF
    (
        "chunk_size_bare_lf",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // bare LF inside a chunk extension
    (
        "chunk_ext_bare_lf",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // CRLF inside a quoted extension value
    (
        "chunk_ext_quoted_crlf",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"\r\n\"\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // `;` without a name
    (
        "chunk_ext_empty_name",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;=x\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // extensions pass through unchanged
    (
        "chunk_ext_accepted",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 ;a=b;c=\"d e\"\r\nhello\r\n0;z\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 86 },
    ),
    // chunk data not followed by CRLF
    (
        "chunk_data_missing_crlf",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // more data than the size says
    (
        "chunk_data_longer_than_size",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // chunk data ended by a bare LF
    (
        "chunk_data_lf_only",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
        Expect::Reject(400),
    ),
    // a request right after `0\r\n` is an invalid trailer
    (
        "last_chunk_without_empty_line",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // folded trailer line
    (
        "trailer_obs_fold",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n",
        Expect::Reject(400),
    ),
    // trailer fields pass through unchanged
    (
        "trailers_accepted",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 75 },
    ),
    // a request inside chunk data is data
    (
        "chunked_body_contains_a_request",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n23\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n\r\n0\r\n\r\n",
        Expect::Accept { first_len: 102 },
    ),
    // HTTP/1.2: 505 (we forward only 1.0 and 1.1)
    (
        "version_1_2",
        b"GET / HTTP/1.2\r\nHost: a\r\n\r\n",
        Expect::Reject(505),
    ),
    // HTTP/2.0 in an h1 request line: 505
    (
        "version_2_0",
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        Expect::Reject(505),
    ),
    // lowercase http/1.1
    (
        "version_lowercase",
        b"GET / http/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // HTTP/0.9-style request line
    (
        "version_missing",
        b"GET /\r\n\r\n",
        Expect::Reject(400),
    ),
    // space inside an absolute-form target
    (
        "absolute_form_with_space",
        b"GET http://a/b c HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // two SP between method and target: one separator, as HAProxy 2.6
    // (RFC 9112 §3 allows it); the line goes on with a single SP, so no
    // recipient behind reads it otherwise
    (
        "request_line_two_spaces",
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 28 },
    ),
    // tab as separator
    (
        "request_line_tab",
        b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // `(` in the method
    (
        "method_invalid_char",
        b"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // NUL in the target
    (
        "uri_nul",
        b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Reject(400),
    ),
    // header line without a colon
    (
        "header_without_colon",
        b"GET / HTTP/1.1\r\nHost a\r\n\r\n",
        Expect::Reject(400),
    ),
    // line starting with a colon
    (
        "empty_header_name",
        b"GET / HTTP/1.1\r\n: x\r\n\r\n",
        Expect::Reject(400),
    ),
    // LF-only head: accepted, forwarded with CRLF
    (
        "bare_lf_head",
        b"GET / HTTP/1.1\nHost: a\n\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 24 },
    ),
    // empty lines before the request line are part of the head
    (
        "leading_empty_lines",
        b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 31 },
    ),
    // a blank line ends the head; what follows is the next request
    (
        "crlfcrlf_ends_the_head",
        b"GET / HTTP/1.1\r\nX: a\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 24 },
    ),
    // GET with a CL body
    (
        "get_with_body",
        b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 49 },
    ),
    // HTTP/1.0 with CL
    (
        "http10_cl",
        b"POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nokGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        Expect::Accept { first_len: 40 },
    ),
];
