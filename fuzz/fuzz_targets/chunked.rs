//! `BodyTracker` over a body fed in pieces (cut points from the input): it
//! never claims more bytes than it was given, and the pieces end exactly as
//! one call over the whole body does (same bytes taken, same completion,
//! same error). Knob 0 is chunked; the others are the other framings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux::http::body::{BodyTracker, Framing};
use pollux::http::parser::ParseError;
use pollux_fuzz::split;

/// Bytes taken and done, or the error the body was refused with (the bytes
/// of earlier pieces were taken by then: only the error is compared).
type Outcome = Result<(u64, bool), (u16, &'static str, usize)>;

fn feed(f: Framing, pieces: &[&[u8]]) -> Outcome {
    let mut t = BodyTracker::new(f);
    let mut taken = 0u64;
    for p in pieces {
        match t.advance(p) {
            Ok(n) => {
                assert!(n <= p.len(), "took {n} of {} bytes", p.len());
                taken += n as u64;
                assert_eq!(t.consumed(), taken);
                if n < p.len() {
                    // What is left belongs to the next message.
                    assert!(t.is_done());
                    break;
                }
            }
            Err(ParseError { status, reason, at }) => {
                assert!(at as u64 <= taken + p.len() as u64);
                // Once failed, it stays failed.
                assert!(t.advance(b"0\r\n\r\n").is_err());
                return Err((status, reason, at));
            }
        }
    }
    Ok((taken, t.is_done()))
}

fuzz_target!(|data: &[u8]| {
    let Some(s) = split(data) else { return };
    let f = match s.knobs {
        1 => Framing::Length(s.msg.len() as u64 / 2),
        2 => Framing::Length(0),
        3 => Framing::UntilClose,
        4 => Framing::None,
        _ => Framing::Chunked,
    };
    let pieces = s.pieces();
    let split_outcome = feed(f, &pieces);
    let whole = feed(f, &[s.msg]);
    assert_eq!(split_outcome, whole);
    if let Ok((taken, _)) = whole {
        assert!(taken <= s.msg.len() as u64);
        if let Framing::Length(n) = f {
            assert_eq!(taken, n.min(s.msg.len() as u64));
        }
    }
});
