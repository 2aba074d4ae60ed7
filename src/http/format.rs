//! Log-format strings (configuration manual §8.2.6) as used by header
//! actions: literal text, `%%`, and `%[fetch,converters...]` samples. Other
//! `%` variables are refused at config check.

use super::expr::Expr;
use super::fetch::FetchCtx;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Sample(Expr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    parts: Vec<Part>,
}

impl Format {
    /// Parses a log-format string.
    pub fn parse(s: &str) -> Result<Format, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(i) = rest.find('%') {
            lit.push_str(&rest[..i]);
            rest = &rest[i + 1..];
            if let Some(r) = rest.strip_prefix('%') {
                lit.push('%');
                rest = r;
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r
                    .find(']')
                    .ok_or_else(|| format!("missing ']' after '%[' in format '{s}'"))?;
                let expr = &r[..end];
                rest = &r[end + 1..];
                if !lit.is_empty() {
                    parts.push(Part::Lit(std::mem::take(&mut lit)));
                }
                parts.push(Part::Sample(
                    Expr::parse(expr).map_err(|e| format!("{e} in format '{s}'"))?,
                ));
            } else {
                let var: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '{' || *c == '+')
                    .collect();
                return Err(format!(
                    "'%{var}' in format '{s}' is not supported yet (only %[sample] and %%)"
                ));
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Format { parts })
    }

    /// Renders the format; a sample that cannot be fetched renders empty.
    pub fn render(&self, ctx: &FetchCtx) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(l) => out.push_str(l),
                Part::Sample(e) => {
                    // A converter can make CR, LF or NUL out of wire bytes
                    // (`url_dec`, `b64dec`, `regsub`): inside a head they
                    // would start a header or a message of the client's
                    // choosing, so they never leave a sample.
                    if let Some(v) = e.fetch_one(ctx) {
                        out.extend(
                            v.to_text()
                                .chars()
                                .filter(|c| !matches!(c, '\r' | '\n' | '\0')),
                        );
                    }
                }
            }
        }
        out
    }

    /// A `fetch::needs` mask of every sample used.
    pub fn needs(&self) -> u8 {
        self.parts.iter().fold(0, |m, p| match p {
            Part::Sample(e) => m | e.needs(),
            Part::Lit(_) => m,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::message::Request;

    #[test]
    fn a_sample_never_brings_line_breaks_into_a_head() {
        let req = Request {
            method: "GET".into(),
            uri: "/".into(),
            version: crate::http::Version::Http11,
            headers: vec![("x".into(), "a%0d%0aContent-Length:%205%00b".into())],
        };
        let ctx = FetchCtx::http(
            "127.0.0.1:1".parse().unwrap(),
            "127.0.0.1:2".parse().unwrap(),
            Some(&req),
            None,
        );
        let f = Format::parse("v=%[req.fhdr(x),url_dec]").unwrap();
        assert_eq!(f.render(&ctx), "v=aContent-Length: 5b");
    }
}
