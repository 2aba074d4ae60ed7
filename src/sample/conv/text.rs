//! The byte-level work of the text converters, as HAProxy does it: `field`
//! and `word` scans, `json` escaping (with HAProxy's own UTF-8 reader),
//! base64 in both alphabets, `host_only`/`port_only` parsing, URL
//! decoding and encoding.

use super::JsonInput;

pub(super) const HEX: &[u8; 16] = b"0123456789ABCDEF";
pub(super) const B64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub(super) const B64URL: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `field` and `word` from the end (a negative index) are the same scans
/// over the string read backwards, the range mapped back.
pub(super) fn nth_range(
    s: &[u8],
    index: i64,
    delims: &[u8],
    count: i64,
    word: bool,
) -> Option<(usize, usize)> {
    let n = s.len();
    let scan = if word { word_scan } else { field_scan };
    if index > 0 {
        scan(n, &|i| s[i], index, delims, count)
    } else {
        let (a, b) = scan(n, &|i| s[n - 1 - i], -index, delims, count)?;
        Some((n - b, n - a))
    }
}

/// `field`: field `index` (from 1) and the `count - 1` after it, the
/// delimiters between them included; None when there is no such field.
pub(super) fn field_scan(
    n: usize,
    at: &dyn Fn(usize) -> u8,
    index: i64,
    delims: &[u8],
    mut count: i64,
) -> Option<(usize, usize)> {
    let (mut field, mut start) = (1i64, 0usize);
    for end in 0..n {
        if delims.contains(&at(end)) {
            if field == index {
                if count == 1 {
                    return Some((start, end));
                }
                count -= 1;
            } else {
                start = end + 1;
                field += 1;
            }
        }
    }
    (field == index).then_some((start, n))
}

/// `word`: as `field`, but runs of delimiters count as one and words are
/// never empty; a missing word is an empty string (HAProxy's quirk).
pub(super) fn word_scan(
    n: usize,
    at: &dyn Fn(usize) -> u8,
    index: i64,
    delims: &[u8],
    mut count: i64,
) -> Option<(usize, usize)> {
    let (mut word, mut inword, mut start) = (0i64, false, 0usize);
    for end in 0..n {
        let sep = delims.contains(&at(end));
        if !inword {
            if !sep {
                if word != index {
                    word += 1;
                    start = end;
                }
                inword = true;
            }
        } else if sep {
            if word == index {
                if count == 1 {
                    return Some((start, end));
                }
                count -= 1;
            }
            inword = false;
        }
    }
    Some(if word == index { (start, n) } else { (0, 0) })
}

/// One UTF-8 sequence as HAProxy's `utf8_next` reads it (up to 6 bytes):
/// the code point, the bytes taken, and whether it is bad (broken
/// sequence or surrogate/non-character: `bad`) or overlong.
pub(super) fn utf8_next(s: &[u8]) -> (u32, usize, bool, bool) {
    let b = s[0];
    let (mut c, dec) = match b {
        0x00..=0x7f => return (u32::from(b), 1, false, false),
        0xc0..=0xdf => (u32::from(b & 0x1f), 1),
        0xe0..=0xef => (u32::from(b & 0x0f), 2),
        0xf0..=0xf7 => (u32::from(b & 0x07), 3),
        0xf8..=0xfb => (u32::from(b & 0x03), 4),
        0xfc..=0xfd => (u32::from(b & 0x01), 5),
        _ => return (u32::from(b), 1, true, false),
    };
    if s.len() < dec + 1 {
        return (u32::from(b), 1, true, false);
    }
    for (i, &b) in s.iter().enumerate().take(dec + 1).skip(1) {
        if b & 0xc0 != 0x80 {
            return (c, i, true, false);
        }
        c = (c << 6) | u32::from(b & 0x3f);
    }
    let n = dec + 1;
    let overlong = (c <= 0x7f && n > 1)
        || ((0x80..=0x7ff).contains(&c) && n > 2)
        || ((0x800..=0xffff).contains(&c) && n > 3)
        || ((0x10000..=0x1f_ffff).contains(&c) && n > 4);
    let invrange = (0xd800..=0xdfff).contains(&c) || (0xfffe..=0xffff).contains(&c);
    (c, n, invrange, overlong)
}

pub(super) fn json(s: &[u8], mode: JsonInput) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let c = match mode {
            JsonInput::Ascii => {
                i += 1;
                u32::from(s[i - 1])
            }
            JsonInput::Utf8 { skip } | JsonInput::Utf8P { skip } => {
                let (c, n, bad, overlong) = utf8_next(&s[i..]);
                i += n;
                let strict = matches!(mode, JsonInput::Utf8 { .. });
                if bad || (strict && overlong) || c > 0xffff {
                    if skip {
                        continue;
                    }
                    return None;
                }
                c
            }
        };
        match c {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x2f => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x20..=0x7e => out.push(c as u8),
            _ => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
        }
    }
    Some(out)
}

pub(super) fn base64(s: &[u8], tab: &[u8; 64]) -> Vec<u8> {
    let url = tab[62] == b'-';
    let mut out = Vec::with_capacity(s.len().div_ceil(3) * 4);
    for ch in s.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let keep = ch.len() + 1;
        for k in 0..4 {
            if k < keep {
                out.push(tab[((n >> (18 - 6 * k)) & 63) as usize]);
            } else if !url {
                out.push(b'=');
            }
        }
    }
    out
}

/// Standard base64 wants padding and a multiple of 4; the URL form has no
/// padding (2 or 3 trailing characters stand for 1 or 2 bytes).
pub(super) fn b64dec(s: &[u8], url: bool) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' if !url => 62,
            b'/' if !url => 63,
            b'-' if url => 62,
            b'_' if url => 63,
            _ => return None,
        } as u32)
    };
    let body: &[u8] = if url {
        if s.len() % 4 == 1 {
            return None;
        }
        s
    } else {
        if s.len() % 4 != 0 {
            return None;
        }
        // Padding only ends the last quad, and fills at most its last two.
        let pad = s.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        &s[..s.len() - pad]
    };
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    for ch in body.chunks(4) {
        if ch.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (k, &c) in ch.iter().enumerate() {
            n |= val(c)? << (18 - 6 * k);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..ch.len()]);
    }
    Some(out)
}

/// The `:` before a port: the last `:` not inside an IPv6 literal.
pub(super) fn port_colon(s: &[u8]) -> Option<usize> {
    let i = s.iter().rposition(|&c| c == b':' || c == b']')?;
    (s[i] == b':').then_some(i)
}

/// HAProxy's `strl2ui`: the leading digits, wrapping as an unsigned 32-bit.
pub(super) fn strl2ui(s: &[u8]) -> u32 {
    let mut n = 0u32;
    for &c in s {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n.wrapping_mul(10).wrapping_add(u32::from(d));
    }
    n
}

/// `url_dec`: `%XX` decoded (a bad escape fails), `+` a space in a form (or
/// after the first `?`), and the string ends at a NUL as in C.
pub(super) fn url_dec(s: &[u8], mut in_form: bool) -> Option<Vec<u8>> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(if in_form { b' ' } else { b'+' }),
            b'%' => {
                let (h, l) = (hex(s.get(i + 1))?, hex(s.get(i + 2))?);
                out.push((h * 16 + l) as u8);
                i += 2;
            }
            c => {
                in_form |= c == b'?';
                out.push(c);
            }
        }
        i += 1;
    }
    Some(out)
}

/// `url_enc`: everything but RFC 3986's unreserved characters as `%XX`.
pub(super) fn url_enc(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        }
    }
    out
}
