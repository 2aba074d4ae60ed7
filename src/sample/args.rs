//! The arguments between a fetch's or converter's parentheses, read as
//! HAProxy 2.6's `make_arg_list` reads them: split on commas outside
//! quotes, single and double quotes removed, `\\`, `\ `, `\"`, `\'`, `\r`,
//! `\n` and `\t` unescaped (a lone backslash stays), and integers with
//! `read_int64`'s rules (a sign and digits, nothing after them).

/// Where an expression's argument list ends: the index of the `)` closing
/// the list that starts just after `open`, skipping quoted text and escaped
/// characters as `make_arg_list` does.
pub fn closing_paren(s: &[u8], open: usize) -> Option<usize> {
    let (mut sq, mut dq) = (false, false);
    let mut i = open + 1;
    while let Some(&c) = s.get(i) {
        match c {
            b'"' if !sq => dq = !dq,
            b'\'' if !dq => sq = !sq,
            b'\\' if !sq => i += 1,
            b')' if !sq && !dq => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The arguments of `inner` (the text between the parentheses, which
/// [`closing_paren`] found). An empty list has no argument; otherwise an
/// empty argument after a comma always exists.
pub fn split(inner: &str) -> Result<Vec<String>, String> {
    let b = inner.as_bytes();
    let mut out: Vec<Vec<u8>> = Vec::new();
    if b.is_empty() {
        return Ok(Vec::new());
    }
    let mut cur = Vec::new();
    let (mut sq, mut dq) = (false, false);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' if !sq => dq = !dq,
            b'\'' if !dq => sq = !sq,
            b'\\' if !sq && i + 1 < b.len() => {
                let e = match b[i + 1] {
                    c @ (b'\\' | b' ' | b'"' | b'\'') => Some(c),
                    b'r' => Some(b'\r'),
                    b'n' => Some(b'\n'),
                    b't' => Some(b'\t'),
                    // A lone backslash stays; what follows is read as usual.
                    _ => None,
                };
                match e {
                    Some(e) => {
                        cur.push(e);
                        i += 1;
                    }
                    None => cur.push(b'\\'),
                }
            }
            b',' if !sq && !dq => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
        i += 1;
    }
    if sq || dq {
        return Err("unmatched quote".into());
    }
    out.push(cur);
    out.into_iter()
        .map(|a| String::from_utf8(a).map_err(|_| "argument is not UTF-8".to_string()))
        .collect()
}

/// An integer argument: the whole text is a sign and digits.
pub fn int(s: &str) -> Result<i64, String> {
    if s.is_empty() {
        return Err("empty number".into());
    }
    let (v, used) = super::read_int64(s.as_bytes());
    if used < s.len() {
        return Err(format!("failed to parse '{s}' as type 'signed integer'"));
    }
    Ok(v)
}
