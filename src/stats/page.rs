//! A stats page request, from URI to response: HAProxy's URI options
//! (`;csv`, `;json`, `;norefresh`, `;up`, `;st=CODE`, `scope=TEXT` after the
//! `stats uri` prefix), which proxies are shown (`stats scope`, `scope=`),
//! Basic authentication against `stats auth`, and the admin form
//! (`b`=backend, `s`=server, repeated, `action`=ready|drain|maint).

/// What to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Csv,
    Json,
}

/// Options read from the URI after the `stats uri` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub format: Format,
    /// `;norefresh`: no automatic reload even with `stats refresh`.
    pub norefresh: bool,
    /// `;up`: only the servers that are UP.
    pub up_only: bool,
    /// `;st=DONE|PART|NONE|DENY|ERRP`: the outcome of the last admin action.
    pub status: Option<String>,
    /// `scope=TEXT` (`;scope=` or `?scope=`): only proxies whose name
    /// contains TEXT, ignoring case.
    pub scope: Option<String>,
}

/// The longest `scope=` text HAProxy keeps (`STAT_SCOPE_TXT_MAXLEN`).
pub const SCOPE_MAX: usize = 20;

/// HAProxy's reading of `scope=` in what follows the prefix
/// (`http_handle_stats`): the first `scope=` that starts at least 8 bytes
/// before the end, its text up to `;`, `&`, a space or the end, cut to 20
/// bytes; ignored when empty or when it holds anything but letters, digits,
/// `.`, `:`, `_` and `-`.
fn scope(rest: &str) -> Option<String> {
    let b = rest.as_bytes();
    let at = (0..=b.len().checked_sub(8)?).find(|&i| b[i..].starts_with(b"scope="))? + 6;
    let text: Vec<u8> = b[at..]
        .iter()
        .take_while(|&&c| !matches!(c, b';' | b'&' | b' '))
        .take(SCOPE_MAX)
        .copied()
        .collect();
    let ok = !text.is_empty()
        && text
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b".:_-".contains(&c));
    ok.then(|| String::from_utf8_lossy(&text).into_owned())
}

/// Whether proxy `name` is shown: `stats scope` names (exact, `.` for
/// `own`, the section serving the page), then the URI's `scope=` text
/// (a substring, ignoring case), as HAProxy.
pub fn in_scope(name: &str, listed: &[String], own: &str, text: Option<&str>) -> bool {
    let listed_ok = listed.is_empty()
        || listed
            .iter()
            .any(|l| l == name || (l == "." && name == own));
    let text_ok = text.map_or(true, |t| {
        name.to_ascii_lowercase().contains(&t.to_ascii_lowercase())
    });
    listed_ok && text_ok
}

impl Options {
    /// `;up`, `;norefresh` and `?scope=TEXT` as this request had them: what
    /// the page's links, form and redirect carry on (HAProxy's
    /// `scope_txt`).
    pub fn carried(&self) -> String {
        let mut s = String::new();
        if self.up_only {
            s.push_str(";up");
        }
        if self.norefresh {
            s.push_str(";norefresh");
        }
        s.push_str(&self.scope_suffix());
        s
    }

    /// `?scope=TEXT`, or nothing.
    pub fn scope_suffix(&self) -> String {
        self.scope
            .as_deref()
            .map_or(String::new(), |t| format!("?scope={t}"))
    }
}

/// Options of the URI `uri` under prefix `prefix`: as HAProxy, each option
/// is searched for anywhere after the prefix (`/s;csv` and `/s?stats;csv`).
pub fn options(prefix: &str, uri: &str) -> Options {
    let rest = uri.get(prefix.len()..).unwrap_or("");
    let has = |o: &str| {
        rest.match_indices(o).any(|(i, _)| {
            let after = &rest[i + o.len()..];
            after.is_empty() || after.starts_with([';', '&', '?', '#'])
        })
    };
    let format = if has(";csv") {
        Format::Csv
    } else if has(";json") {
        Format::Json
    } else {
        Format::Html
    };
    let status = rest.find(";st=").map(|i| {
        rest[i + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect()
    });
    Options {
        format,
        norefresh: has(";norefresh"),
        up_only: has(";up"),
        status,
        scope: scope(rest),
    }
}

/// Whether the `Authorization` header carries one of the `stats auth`
/// pairs (no pairs configured: everybody is let in).
pub fn authorized(pairs: &[(String, String)], header: Option<&str>) -> bool {
    if pairs.is_empty() {
        return true;
    }
    let Some(h) = header else { return false };
    let mut it = h.trim().splitn(2, ' ');
    let (Some(scheme), Some(cred)) = (it.next(), it.next()) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(decoded) = crate::sample::conv::base64_decode(cred.trim().as_bytes()) else {
        return false;
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((u, p)) = decoded.split_once(':') else {
        return false;
    };
    pairs.iter().any(|(pu, pp)| pu == u && pp == p)
}

/// The admin form as posted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminForm {
    /// `b`: the backend, by name or `#ID`.
    pub backend: String,
    pub servers: Vec<String>,
    pub action: String,
}

/// Decode an `application/x-www-form-urlencoded` admin form.
pub fn parse_form(body: &[u8]) -> AdminForm {
    let mut f = AdminForm::default();
    for pair in body.split(|&b| b == b'&') {
        let mut kv = pair.splitn(2, |&b| b == b'=');
        let k = url_decode(kv.next().unwrap_or_default());
        let v = url_decode(kv.next().unwrap_or_default());
        match k.as_str() {
            "b" => f.backend = v,
            "s" => f.servers.push(v),
            "action" => f.action = v,
            _ => {}
        }
    }
    f
}

fn url_decode(b: &[u8]) -> String {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(x) => {
                        out.push(x);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A complete response with a body (HEAD: the body is left out, the
/// length stays).
pub fn response(
    status: u16,
    reason: &str,
    content_type: &str,
    extra: &[(&str, String)],
    body: &[u8],
    head_only: bool,
) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nCache-Control: no-cache\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (k, v) in extra {
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}

/// The 401 that asks for the `stats auth` credentials.
pub fn unauthorized(realm: &str, head_only: bool) -> Vec<u8> {
    let body = b"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
    let realm = realm.replace(['"', '\\'], "");
    response(
        401,
        "Unauthorized",
        "text/html",
        &[("WWW-Authenticate", format!("Basic realm=\"{realm}\""))],
        body,
        head_only,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_options_are_found_after_the_prefix() {
        assert_eq!(options("/s", "/s;csv").format, Format::Csv);
        assert_eq!(options("/s", "/s?stats;csv").format, Format::Csv);
        assert_eq!(options("/s", "/s;json").format, Format::Json);
        assert_eq!(options("/s", "/s;csvx").format, Format::Html);
        let o = options("/haproxy?stats", "/haproxy?stats;up;norefresh;st=DONE");
        assert!(o.up_only && o.norefresh);
        assert_eq!(o.status.as_deref(), Some("DONE"));
        assert_eq!(options("/s", "/s").format, Format::Html);
    }

    #[test]
    fn scope_is_read_as_haproxy_reads_it() {
        let sc = |u: &str| options("/s", u).scope;
        assert_eq!(sc("/s;csv;scope=b1"), Some("b1".into()));
        assert_eq!(sc("/s?;csv;scope=b1"), Some("b1".into()));
        assert_eq!(sc("/s?scope=web&x=1"), Some("web".into()));
        assert_eq!(sc("/s;scope=Fe.1:x_-y;up"), Some("Fe.1:x_-y".into()));
        // A one-byte text at the very end is not seen (HAProxy's bound).
        assert_eq!(sc("/s;scope=b"), None);
        assert_eq!(sc("/s;csv;scope=b"), None);
        assert_eq!(sc("/s?scope="), None);
        assert_eq!(sc("/s?scope=a%20b"), None);
        assert_eq!(sc("/s?scope=<b>"), None);
        assert_eq!(
            sc("/s?scope=abcdefghijklmnopqrstuvwxyz"),
            Some("abcdefghijklmnopqrst".into())
        );
        assert_eq!(sc("/s"), None);
        // The prefix itself is not searched.
        assert_eq!(options("/scope=ab", "/scope=ab;csv").scope, None);
    }

    #[test]
    fn scope_shows_listed_sections_whose_name_contains_the_text() {
        let none: Vec<String> = vec![];
        assert!(in_scope("Web_Front", &none, "st", Some("web")));
        assert!(!in_scope("api", &none, "st", Some("web")));
        assert!(in_scope("api", &none, "st", None));
        let listed = vec!["api".to_string(), ".".to_string()];
        assert!(in_scope("api", &listed, "st", None));
        assert!(in_scope("st", &listed, "st", None));
        assert!(!in_scope("apis", &listed, "st", None));
        assert!(!in_scope("st", &listed, "st", Some("api")));
    }

    #[test]
    fn basic_auth_checks_every_configured_pair() {
        let pairs = vec![
            ("admin".to_string(), "s3cret".to_string()),
            ("ops".to_string(), "x:y".to_string()),
        ];
        // "admin:s3cret", "ops:x:y", "admin:nope"
        assert!(authorized(&pairs, Some("Basic YWRtaW46czNjcmV0")));
        assert!(authorized(&pairs, Some("basic b3BzOng6eQ==")));
        assert!(!authorized(&pairs, Some("Basic YWRtaW46bm9wZQ==")));
        assert!(!authorized(&pairs, None));
        assert!(!authorized(&pairs, Some("Bearer YWRtaW46czNjcmV0")));
        assert!(!authorized(&pairs, Some("Basic !!!")));
        assert!(authorized(&[], None));
    }

    #[test]
    fn admin_form_is_url_decoded() {
        let f = parse_form(b"s=web%201&s=web2&action=maint&b=%232");
        assert_eq!(f.servers, vec!["web 1", "web2"]);
        assert_eq!(f.action, "maint");
        assert_eq!(f.backend, "#2");
        assert_eq!(url_decode(b"100%"), "100%");
        assert_eq!(url_decode(b"a%zz"), "a%zz");
    }
}
