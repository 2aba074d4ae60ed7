//! Line tokenizer following HAProxy's rules (configuration manual §2.2-2.3):
//! words split on unquoted spaces/tabs, `#` starts a comment, `\` escapes,
//! double quotes (weak: `$VAR`, `${VAR}`, `${VAR-default}` expanded) and
//! single quotes (strong: nothing interpreted).

/// Looks up an environment variable; injected so tests need not touch the
/// process environment.
pub(crate) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Double,
    Single,
}

/// Splits one line into words. An empty result means a blank or comment line.
/// The error message has no position prefix; the caller adds `FILE:LINE`.
pub(crate) fn split_line(line: &str, env: EnvLookup<'_>) -> Result<Vec<String>, String> {
    let bytes = line.as_bytes();
    let mut words = Vec::new();
    let mut word: Vec<u8> = Vec::new();
    // A word exists once any character or quote pair was seen: `""` is an
    // empty argument, as in HAProxy.
    let mut in_word = false;
    let mut quote = Quote::None;
    let mut quote_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Quote::Single => {
                if c == b'\'' {
                    quote = Quote::None;
                } else {
                    word.push(c);
                }
                i += 1;
            }
            Quote::Double if c == b'"' => {
                quote = Quote::None;
                i += 1;
            }
            Quote::Double if c == b'$' => {
                i = expand_var(bytes, i, &mut word, env)?;
            }
            _ if c == b'\\' => {
                i = unescape(bytes, i, &mut word)?;
                in_word = true;
            }
            Quote::Double => {
                word.push(c);
                i += 1;
            }
            Quote::None => {
                match c {
                    b' ' | b'\t' | b'\r' | b'\n' => {
                        if in_word {
                            words.push(finish(&mut word));
                            in_word = false;
                        }
                    }
                    b'#' => break,
                    b'"' | b'\'' => {
                        quote = if c == b'"' {
                            Quote::Double
                        } else {
                            Quote::Single
                        };
                        quote_start = i + 1;
                        in_word = true;
                    }
                    _ => {
                        word.push(c);
                        in_word = true;
                    }
                }
                i += 1;
            }
        }
    }
    match quote {
        Quote::None => {}
        Quote::Double => {
            return Err(format!(
                "unterminated double quote starting at column {quote_start}"
            ))
        }
        Quote::Single => {
            return Err(format!(
                "unterminated single quote starting at column {quote_start}"
            ))
        }
    }
    if in_word {
        words.push(finish(&mut word));
    }
    Ok(words)
}

fn finish(word: &mut Vec<u8>) -> String {
    let w = String::from_utf8_lossy(word).into_owned();
    word.clear();
    w
}

/// Handles the backslash at `bytes[i]`; returns the index after the sequence.
/// An unknown escape keeps its backslash (`\1` stays `\1`), as HAProxy does.
fn unescape(bytes: &[u8], i: usize, word: &mut Vec<u8>) -> Result<usize, String> {
    let Some(&next) = bytes.get(i + 1) else {
        word.push(b'\\');
        return Ok(i + 1);
    };
    let out = match next {
        b' ' | b'\t' | b'#' | b'\\' | b'\'' | b'"' | b'$' => next,
        b'r' => b'\r',
        b'n' => b'\n',
        b't' => b'\t',
        b'x' => {
            let hex = bytes
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) else {
                return Err("truncated or invalid hexadecimal sequence after '\\x'".into());
            };
            word.push(value);
            return Ok(i + 4);
        }
        _ => {
            word.push(b'\\');
            return Ok(i + 1);
        }
    };
    word.push(out);
    Ok(i + 2)
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Expands `$NAME`, `${NAME}` or `${NAME-default}` starting at the `$` in
/// `bytes[i]`; returns the index after it. An unset variable without default
/// expands to nothing; a `$` not followed by a name is kept literally.
fn expand_var(
    bytes: &[u8],
    i: usize,
    word: &mut Vec<u8>,
    env: EnvLookup<'_>,
) -> Result<usize, String> {
    let start = i + 1;
    if bytes.get(start) == Some(&b'{') {
        let name_start = start + 1;
        let mut j = name_start;
        while j < bytes.len() && is_name_byte(bytes[j]) {
            j += 1;
        }
        let name = String::from_utf8_lossy(&bytes[name_start..j]).into_owned();
        let (default, end) = match bytes.get(j) {
            Some(b'}') => (None, j),
            Some(b'-') => match bytes[j + 1..].iter().position(|&b| b == b'}') {
                Some(off) => (Some(&bytes[j + 1..j + 1 + off]), j + 1 + off),
                None => return Err(format!("missing '}}' after '${{{name}'")),
            },
            Some(b'[') => {
                return Err(format!(
                    "'${{{name}[*]}}' list expansion is not supported yet"
                ))
            }
            _ => return Err(format!("missing '}}' after '${{{name}'")),
        };
        if name.is_empty() {
            return Err("empty variable name in '${}'".into());
        }
        match (env(&name), default) {
            (Some(value), _) => word.extend_from_slice(value.as_bytes()),
            (None, Some(default)) => word.extend_from_slice(default),
            (None, None) => {}
        }
        return Ok(end + 1);
    }
    let mut j = start;
    while j < bytes.len() && is_name_byte(bytes[j]) {
        j += 1;
    }
    if j == start {
        word.push(b'$');
        return Ok(start);
    }
    let name = std::str::from_utf8(&bytes[start..j]).unwrap_or_default();
    if let Some(value) = env(name) {
        word.extend_from_slice(value.as_bytes());
    }
    Ok(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "PORT" => Some("8080".into()),
            "EMPTY" => Some(String::new()),
            "SPACED" => Some("a b".into()),
            _ => None,
        }
    }

    fn split(line: &str) -> Vec<String> {
        split_line(line, &env).unwrap()
    }

    #[test]
    fn words_are_split_on_spaces_and_tabs() {
        assert_eq!(split("  bind \t:80   ,:81 "), ["bind", ":80", ",:81"]);
    }

    #[test]
    fn blank_and_comment_lines_have_no_words() {
        assert!(split("").is_empty());
        assert!(split("   \t ").is_empty());
        assert!(split("   # a comment").is_empty());
    }

    #[test]
    fn hash_ends_the_line_unless_quoted_or_escaped() {
        assert_eq!(split("maxconn 10 # ten"), ["maxconn", "10"]);
        assert_eq!(split("a\\#b c#d"), ["a#b", "c"]);
        assert_eq!(split("\"a#b\" 'c#d'"), ["a#b", "c#d"]);
    }

    #[test]
    fn backslash_escapes_are_resolved() {
        assert_eq!(split(r"a\ b"), ["a b"]);
        assert_eq!(split(r#"a\\b \'x\' \"y\""#), [r"a\b", "'x'", "\"y\""]);
        assert_eq!(split(r"\r\n\t"), ["\r\n\t"]);
        assert_eq!(split(r"\x41\x7a"), ["Az"]);
        assert_eq!(split(r"\1"), [r"\1"]);
    }

    #[test]
    fn bad_hex_escape_is_an_error() {
        assert!(split_line(r"\xZZ", &env)
            .unwrap_err()
            .contains("hexadecimal"));
        assert!(split_line(r"\x4", &env).is_err());
    }

    #[test]
    fn double_quotes_protect_spaces_and_expand_variables() {
        assert_eq!(
            split("\"a b\" \"${PORT}\" \"$PORT/x\""),
            ["a b", "8080", "8080/x"]
        );
        assert_eq!(split("\":${PORT}\"x"), [":8080x"]);
        assert_eq!(split("\"${SPACED}\""), ["a b"]);
    }

    #[test]
    fn variables_are_not_expanded_outside_double_quotes() {
        assert_eq!(split("${PORT} '${PORT}'"), ["${PORT}", "${PORT}"]);
    }

    #[test]
    fn unset_variable_uses_its_default_or_expands_to_nothing() {
        assert_eq!(split("\"${NOPE-1.2.3.4}:80\""), ["1.2.3.4:80"]);
        assert_eq!(split("\"${EMPTY-x}\""), [""]);
        assert_eq!(split("\"<${NOPE}>\""), ["<>"]);
    }

    #[test]
    fn escaped_dollar_in_double_quotes_is_literal() {
        assert_eq!(split("\"\\$PORT\" \"5$\""), ["$PORT", "5$"]);
    }

    #[test]
    fn empty_quotes_are_an_empty_word() {
        assert_eq!(split("a \"\" b ''"), ["a", "", "b", ""]);
    }

    #[test]
    fn single_quotes_interpret_nothing() {
        assert_eq!(split(r"'a\nb $X \' x"), [r"a\nb $X \", "x"]);
    }

    #[test]
    fn quotes_concatenate_with_adjacent_text() {
        assert_eq!(split(r#"a"b c"'d e'f"#), ["ab cd ef"]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert!(split_line("a \"b c", &env)
            .unwrap_err()
            .contains("double quote"));
        assert!(split_line("a 'b c", &env)
            .unwrap_err()
            .contains("single quote"));
    }

    #[test]
    fn unterminated_variable_brace_is_an_error() {
        assert!(split_line("\"${PORT\"", &env).is_err());
    }
}
