//! Argument helpers shared by every keyword parser: the word at an index
//! or an error naming the keyword, no extra words, the next option value,
//! and HAProxy's name syntax. Imports nothing else of `config`, so every
//! parser can use it without a cycle.

/// Argument `i` of a keyword line, or an error naming the keyword (the
/// words before `i`) and what was expected.
pub(crate) fn need<'a>(args: &'a [String], i: usize, expected: &str) -> Result<&'a str, String> {
    args.get(i)
        .map(String::as_str)
        .ok_or_else(|| format!("'{}' expects {expected}", args[..i].join(" ")))
}

/// Rejects arguments after the first `n` words.
pub(crate) fn only(args: &[String], n: usize) -> Result<(), String> {
    match args.get(n) {
        Some(extra) => Err(format!(
            "unexpected argument '{extra}' after '{}'",
            args[..n].join(" ")
        )),
        None => Ok(()),
    }
}

/// The value of the option just read (`args[*i]`), stepping past it.
pub(crate) fn value<'a>(
    args: &'a [String],
    i: &mut usize,
    what: &str,
    expected: &str,
) -> Result<&'a str, String> {
    let v = args
        .get(*i)
        .ok_or_else(|| format!("{what} expects {expected}"))?;
    *i += 1;
    Ok(v)
}

/// Proxy names use HAProxy's set: letters, digits, `-`, `_`, `.`, `:`.
pub(crate) fn check_name(section: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("'{section}' expects a name"));
    }
    match name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "-_.:".contains(c)))
    {
        Some(c) => Err(format!(
            "character '{c}' is not permitted in {section} name '{name}'"
        )),
        None => Ok(()),
    }
}
