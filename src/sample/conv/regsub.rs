//! `regsub`: HAProxy's search-and-replace loop and its replacement syntax.

/// `regsub(REGEX,SUBST[,FLAGS])`: the regex (compiled once; equal when
/// written the same), the replacement and the `g` flag.
#[derive(Debug, Clone)]
pub struct Regsub {
    pub(super) re: regex::bytes::Regex,
    pub(super) subst: Vec<u8>,
    pub(super) global: bool,
}

impl PartialEq for Regsub {
    fn eq(&self, o: &Regsub) -> bool {
        self.re.as_str() == o.re.as_str() && self.subst == o.subst && self.global == o.global
    }
}
impl Eq for Regsub {}

/// `regsub`: HAProxy's loop: each match replaced, from where the last one
/// ended (`^` then no longer matches); an empty match at that point keeps
/// one byte and moves on. Without `g`, the first match only.
pub(super) fn regsub(r: &Regsub, s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut start = 0;
    let mut first = true;
    loop {
        let caps = if r.global || first {
            r.re.captures_at(s, start)
        } else {
            None
        };
        let Some(caps) = caps else {
            out.extend_from_slice(&s[start..]);
            break;
        };
        let m = caps.get(0).map_or(start..start, |m| m.range());
        out.extend_from_slice(&s[start..m.start]);
        expand(&r.subst, &caps, &mut out);
        if start >= s.len() {
            break;
        }
        let mut end = m.end;
        if end == start {
            out.push(s[start]);
            end += 1;
        }
        start = end;
        first = false;
    }
    out
}

/// A replacement as HAProxy's `exp_replace`: `\N` is group N (nothing if it
/// did not take part), `\xHH` a byte, a backslash before anything else
/// that thing.
pub(super) fn expand(subst: &[u8], caps: &regex::bytes::Captures<'_>, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < subst.len() {
        let c = subst[i];
        i += 1;
        if c != b'\\' || i >= subst.len() {
            out.push(c);
            continue;
        }
        let e = subst[i];
        i += 1;
        match e {
            b'0'..=b'9' => {
                if let Some(g) = caps.get(usize::from(e - b'0')) {
                    out.extend_from_slice(g.as_bytes());
                }
            }
            b'x' if i + 2 <= subst.len() => {
                let h = |c: u8| {
                    let c = c.to_ascii_uppercase().wrapping_sub(b'0');
                    if c > 9 {
                        c.wrapping_sub(b'A' - b'9' - 1)
                    } else {
                        c
                    }
                };
                out.push((h(subst[i]) << 4).wrapping_add(h(subst[i + 1])));
                i += 2;
            }
            other => out.push(other),
        }
    }
}
