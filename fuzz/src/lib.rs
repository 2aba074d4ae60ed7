//! Helpers shared by the fuzz targets in `fuzz_targets/`: how an input is
//! cut into the pieces a socket would deliver, and tiny parsers for the
//! multi-part inputs.
//!
//! Split inputs start with a header byte `h`: `h & 15` is the number of cut
//! points that follow, one byte each, every one an increment (at least 1)
//! from the previous cut; the rest of the input is the message. The upper
//! bits of `h` are the target's own knobs. A seed that wants no cuts starts
//! with `\x00`.

/// The knob bits of the header, the cut points (increasing, possibly past
/// the end of the message) and the message.
pub struct Split<'a> {
    pub knobs: u8,
    pub cuts: Vec<usize>,
    pub msg: &'a [u8],
}

pub fn split(data: &[u8]) -> Option<Split<'_>> {
    let (&h, rest) = data.split_first()?;
    let n = (h & 15) as usize;
    if rest.len() < n {
        return None;
    }
    let mut at = 0;
    let cuts = rest[..n]
        .iter()
        .map(|&d| {
            at += d.max(1) as usize;
            at
        })
        .collect();
    Some(Split {
        knobs: h >> 4,
        cuts,
        msg: &rest[n..],
    })
}

impl Split<'_> {
    /// The prefix lengths a reader would see, ending with the whole message.
    pub fn prefixes(&self) -> impl Iterator<Item = usize> + '_ {
        self.cuts
            .iter()
            .copied()
            .filter(|&c| c < self.msg.len())
            .chain(std::iter::once(self.msg.len()))
    }

    /// The message as consecutive pieces (the bytes between two prefixes).
    pub fn pieces(&self) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut from = 0;
        for to in self.prefixes() {
            if to > from {
                out.push(&self.msg[from..to]);
                from = to;
            }
        }
        out
    }
}

/// Splits `data` on NUL bytes into exactly `N` parts (missing ones empty,
/// extra NULs left in the last part).
pub fn parts<const N: usize>(data: &[u8]) -> [&[u8]; N] {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for (i, slot) in out.iter_mut().enumerate() {
        if i + 1 == N {
            *slot = rest;
            break;
        }
        match rest.iter().position(|&b| b == 0) {
            Some(p) => {
                *slot = &rest[..p];
                rest = &rest[p + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    out
}

/// Words of a line as the config lexer would give them for simple input:
/// split on blanks (quotes and escapes are the config target's business).
pub fn words(line: &str) -> Vec<String> {
    line.split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// True when a config or ACL text could make pollux read a device or a
/// kernel file (`errorfile 400 /dev/zero`, `acl -f /proc/...`): reading
/// them may never end, and depends on the machine. Quotes, escapes, braces
/// and `$NAME` are dropped first (the targets' environment is empty, so a
/// variable expands to nothing or to its `-default`), since the lexer would
/// glue the pieces around them back together.
pub fn names_special_files(text: &[u8]) -> bool {
    let mut squeezed = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'$' => {
                i += 1;
                if text.get(i) == Some(&b'{') {
                    i += 1;
                }
                while text
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                if text.get(i) == Some(&b'-') {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' | b'\\' | b'{' | b'}' => {}
            c => squeezed.push(c.to_ascii_lowercase()),
        }
        i += 1;
    }
    [
        "dev/", "proc/", "sys/", "run/", "fd/", "/dev", "/proc", "/sys", "/run",
    ]
    .iter()
    .any(|s| squeezed.windows(s.len()).any(|w| w == s.as_bytes()))
}

/// What a body tracker made of a body fed in pieces.
#[derive(Debug, PartialEq, Eq)]
pub struct Tracked {
    /// Bytes claimed (`advance`'s results added up).
    pub taken: u64,
    pub done: bool,
    /// The claimed bytes minus the `cuts()`: what pollux forwards.
    pub forwarded: Vec<u8>,
    /// What the log counts of them (`htx_len`): the same however cut.
    pub htx: u64,
}

/// Feeds `pieces` to `t` as the session does: bytes `advance` does not
/// claim (the rest of an unfinished chunk-size line) are given again, in
/// front of the next piece. Stops once the body is done (what is left is
/// the next message). The error is returned with only its status, reason
/// and offset: the bytes claimed before it differ with the cut points.
pub fn track(
    t: &mut pollux::http::body::BodyTracker,
    pieces: &[&[u8]],
) -> Result<Tracked, (u16, &'static str, usize)> {
    let mut out = Tracked {
        taken: 0,
        done: false,
        forwarded: Vec::new(),
        htx: 0,
    };
    let mut pending: Vec<u8> = Vec::new();
    for p in pieces {
        pending.extend_from_slice(p);
        let n = match t.advance(&pending) {
            Ok(n) => n,
            Err(e) => {
                // Once failed, it stays failed.
                assert!(t.advance(b"0\r\n\r\n").is_err());
                return Err((e.status, e.reason, e.at));
            }
        };
        assert!(n <= pending.len(), "claimed {n} of {} bytes", pending.len());
        let mut from = 0;
        for &(start, len) in t.cuts() {
            assert!(
                from <= start && start + len <= n,
                "cut {start}+{len} outside 0..{n}"
            );
            out.forwarded.extend_from_slice(&pending[from..start]);
            from = start + len;
        }
        out.forwarded.extend_from_slice(&pending[from..n]);
        out.taken += n as u64;
        assert_eq!(t.consumed(), out.taken);
        pending.drain(..n);
        if t.is_done() {
            break;
        }
    }
    out.done = t.is_done();
    out.htx = t.htx_len();
    Ok(out)
}
