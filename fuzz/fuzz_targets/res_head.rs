//! Response head parser fed as a socket would: `parse_response` on growing
//! prefixes (cut points from the input) must end exactly as one call on the
//! whole buffer does: the same head, "need more", or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux::http::parser::{HeadParser, ParseError, ResponseHead};
use pollux_fuzz::split;

/// Head size limits picked by the input's knobs: tune.bufsize - maxrewrite,
/// and small ones so the limits are reached too.
const MAX: [usize; 8] = [15360, 16, 40, 100, 256, 1024, 4096, 65536];

fn limits(knobs: u8) -> (usize, usize) {
    let max_headers = if knobs & 8 != 0 { 3 } else { 101 };
    (MAX[(knobs & 7) as usize], max_headers)
}

fn parser(knobs: u8) -> HeadParser {
    let (max, max_headers) = limits(knobs);
    let mut p = HeadParser::new(max);
    p.set_max_headers(max_headers);
    p
}

fn check_head(h: &ResponseHead, buf: &[u8], max: usize) {
    assert!(h.len <= buf.len() && h.len <= max);
    for s in std::iter::once(&h.reason).chain(h.headers.iter().flat_map(|x| [&x.name, &x.value])) {
        assert!((s.start + s.len) as usize <= h.len, "span past the head");
    }
    assert!((100..=599).contains(&h.status));
}

fn same(
    a: &Result<Option<ResponseHead>, ParseError>,
    b: &Result<Option<ResponseHead>, ParseError>,
) {
    match (a, b) {
        (Err(x), Err(y)) => assert_eq!((x.status, x.reason), (y.status, y.reason)),
        _ => assert_eq!(a, b),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(s) = split(data) else { return };
    let mut inc = parser(s.knobs);
    let mut split_result = Ok(None);
    for end in s.prefixes() {
        split_result = inc.parse_response(&s.msg[..end]);
        if !matches!(split_result, Ok(None)) {
            break;
        }
    }
    let whole = parser(s.knobs).parse_response(s.msg);
    if let Ok(Some(h)) = &whole {
        check_head(h, s.msg, limits(s.knobs).0);
    }
    same(&split_result, &whole);
});
