//! `BodyTracker` over a body fed in pieces (cut points from the input), the
//! unclaimed rest of each call given again with the next piece: it never
//! claims more bytes than it was given, its cuts lie inside what it claimed,
//! and the pieces end exactly as one call over the whole body does (same
//! bytes claimed, forwarded and counted for the log, same completion, same
//! error). Knob 0 is
//! chunked; the others are the other framings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux::http::body::{BodyTracker, Framing};
use pollux_fuzz::{split, track};

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
    let split_outcome = track(&mut BodyTracker::new(f), &pieces);
    let whole = track(&mut BodyTracker::new(f), &[s.msg]);
    assert_eq!(split_outcome, whole);
    if let Ok(w) = whole {
        assert!(w.taken <= s.msg.len() as u64);
        if let Framing::Length(n) = f {
            assert_eq!(w.taken, n.min(s.msg.len() as u64));
        }
        if f != Framing::Chunked {
            assert_eq!(w.forwarded, s.msg[..w.taken as usize]);
        }
    }
});
