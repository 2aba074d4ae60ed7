//! `crt-list FILE` (HAProxy 2.6): one certificate per line,
//! `crtfile [[ssl-options]] [[!]sni-filter ...]`, `#` comments and blank
//! lines skipped. The options between brackets are given back as words for
//! the bind options' parser; which of them a line may carry is decided
//! there. Errors name the file and the line.

use std::path::{Path, PathBuf};

/// One certificate line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `FILE:LINE`, for errors.
    pub at: String,
    pub crt: PathBuf,
    /// The words between the brackets; None without brackets.
    pub options: Option<Vec<String>>,
    /// SNI filters, lower-cased, `!` kept for the negative ones.
    pub filters: Vec<String>,
}

/// Read `path`; relative certificate paths are taken from `crt_base`.
pub fn read(path: &Path, crt_base: Option<&str>) -> Result<Vec<Line>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let e = e.to_string();
        let e = e.split(" (os error").next().unwrap_or("");
        format!("'crt-list' : cannot open file '{}' : {e}", path.display())
    })?;
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), n + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_line(line, &at, crt_base)?);
    }
    Ok(out)
}

pub fn parse_line(line: &str, at: &str, crt_base: Option<&str>) -> Result<Line, String> {
    // Brackets are words of their own, wherever they are written.
    let spaced = line.replace('[', " [ ").replace(']', " ] ");
    let mut words = spaced.split_whitespace();
    let crt = words
        .next()
        .filter(|w| *w != "[" && *w != "]")
        .ok_or_else(|| format!("{at}: a line must start with a certificate file"))?;
    let crt = match crt_base {
        Some(b) if !crt.starts_with('/') => Path::new(b).join(crt),
        _ => PathBuf::from(crt),
    };
    let rest: Vec<&str> = words.collect();
    let mut options = None;
    let mut i = 0;
    if rest.first() == Some(&"[") {
        let close = rest
            .iter()
            .position(|w| *w == "]")
            .ok_or_else(|| format!("{at}: missing ']' after the SSL options"))?;
        options = Some(rest[1..close].iter().map(|w| w.to_string()).collect());
        i = close + 1;
    }
    let mut filters = Vec::new();
    for w in &rest[i..] {
        if *w == "[" || *w == "]" {
            return Err(format!(
                "{at}: the SSL options in brackets must follow the certificate file"
            ));
        }
        filters.push(w.to_ascii_lowercase());
    }
    Ok(Line {
        at: at.to_string(),
        crt,
        options,
        filters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_as_haproxy_writes_them() {
        let l = parse_line(
            "a.pem [alpn h2 verify none] A.test !b.test *.c",
            "f:1",
            None,
        )
        .unwrap();
        assert_eq!(l.crt, PathBuf::from("a.pem"));
        assert_eq!(
            l.options.as_deref(),
            Some(
                &[
                    "alpn".to_string(),
                    "h2".into(),
                    "verify".into(),
                    "none".into()
                ][..]
            )
        );
        assert_eq!(l.filters, ["a.test", "!b.test", "*.c"]);
        let l = parse_line("/x/a.pem[ssl-min-ver TLSv1.3]", "f:2", Some("/base")).unwrap();
        assert_eq!(l.crt, PathBuf::from("/x/a.pem"));
        assert_eq!(l.options.unwrap().len(), 2);
        let l = parse_line("a.pem", "f:3", Some("/base")).unwrap();
        assert_eq!(
            (l.crt, l.options, l.filters.len()),
            ("/base/a.pem".into(), None, 0)
        );
        let e = parse_line("a.pem [alpn h2", "f:4", None).unwrap_err();
        assert_eq!(e, "f:4: missing ']' after the SSL options");
        let e = parse_line("a.pem x.test [alpn h2]", "f:5", None).unwrap_err();
        assert!(e.starts_with("f:5: the SSL options"), "{e}");
        assert!(parse_line("[alpn h2] a.pem", "f:6", None).is_err());
    }
}
