//! `stats ...` in proxy sections (manual §4.2): the statistics page of a
//! frontend or listen section. As in HAProxy, any `stats` keyword enables
//! the page (`stats uri` alone is enough).

use super::args::{need, only};
use super::draft::{Draft, Kind};
use super::model::Origin;
use super::rules::{self, Stage};

// The page's settings are model types; their old path stays.
pub use super::model::{StatsCfg, DEFAULT_REALM, DEFAULT_URI};

/// Known `stats` sub-keywords that pollux does not implement yet.
const UNSUPPORTED: &[&str] = &["show-modules", "http-request", "bind-process"];

/// Parses one `stats ...` line of a proxy or `defaults` section.
pub(crate) fn parse_keyword(d: &mut Draft, args: &[String], origin: &Origin) -> Result<(), String> {
    if d.kind == Kind::Backend {
        return Err("'stats' in a backend section is not supported yet".into());
    }
    // Ignored, with a warning, in a TCP-mode section (as HAProxy).
    if d.h.first_http_kw.is_none() {
        d.h.first_http_kw = Some(("stats".into(), origin.clone()));
    }
    let sub = need(
        args,
        1,
        "'enable', 'uri', 'realm', 'auth', 'refresh', 'hide-version', 'admin', 'scope' or 'show-legends'",
    )?;
    let mut st = d.fe_rules.stats.take().unwrap_or_default();
    match sub {
        "enable" | "hide-version" | "show-legends" => {
            only(args, 2)?;
            st.hide_version |= sub == "hide-version";
            st.show_legends |= sub == "show-legends";
        }
        "show-node" | "show-desc" => {
            only(args, 3)?;
            let text = args.get(2).cloned().unwrap_or_default();
            if sub == "show-node" {
                st.node = Some(text);
            } else {
                st.desc = Some(text);
            }
        }
        "uri" => {
            let uri = need(args, 2, "a URI prefix")?;
            only(args, 3)?;
            st.uri = uri.to_string();
        }
        "scope" => {
            let name = need(args, 2, "a proxy name or '.'")?;
            only(args, 3)?;
            if !st.scope.iter().any(|s| s == name) {
                st.scope.push(name.to_string());
            }
        }
        "realm" => {
            let realm = need(args, 2, "a realm name")?;
            only(args, 3)?;
            st.realm = realm.to_string();
        }
        "auth" => {
            let ua = need(args, 2, "'USER:PASSWORD'")?;
            only(args, 3)?;
            match ua.split_once(':') {
                Some((u, p)) if !u.is_empty() => st.auth.push((u.into(), p.into())),
                _ => return Err(format!("'stats auth' expects 'USER:PASSWORD', got '{ua}'")),
            }
        }
        "refresh" => {
            let t = need(args, 2, "a delay")?;
            only(args, 3)?;
            let t = super::values::parse_time("'stats refresh'", t)?;
            st.refresh = (!t.is_zero()).then_some(t);
        }
        "admin" => {
            if d.kind == Kind::Defaults {
                return Err("'stats admin' not allowed in 'defaults' section".into());
            }
            let (words, cond) = rules::split_cond(&args[2..], &d.h.acls)?;
            let (Some(cond), true) = (cond, words.is_empty()) else {
                return Err(
                    "'stats admin' expects 'if' or 'unless' followed by a condition".into(),
                );
            };
            rules::check_needs(cond.needs(), Stage::HttpRequest)?;
            st.admin = Some(cond);
        }
        "socket" | "timeout" | "maxconn" => {
            return Err(format!(
                "'stats {sub}' is only allowed in the 'global' section"
            ))
        }
        _ if UNSUPPORTED.contains(&sub) => {
            return Err(format!("'stats {sub}' is not supported yet"))
        }
        _ => return Err(format!("unknown 'stats' keyword '{sub}'")),
    }
    d.fe_rules.stats = Some(st);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::{load, Config};
    use std::time::Duration;

    fn load_text(tag: &str, text: &str) -> Config {
        let path =
            std::env::temp_dir().join(format!("pollux-stats-cfg-{}-{tag}.cfg", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let c = load(std::slice::from_ref(&path));
        let _ = std::fs::remove_file(&path);
        c.map(crate::config::without_timeout_notes)
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn any_stats_keyword_enables_the_page_with_haproxy_defaults() {
        let c = load_text(
            "defaults",
            "defaults\n  mode http\n  stats auth u:p\nlisten a\n  bind :8000\n  stats refresh 3s\nfrontend b\n  bind :8000\n  stats uri /st\n  stats admin if TRUE\n",
        );
        let a = c.frontends[0].rules.stats.as_ref().unwrap();
        assert_eq!(a.uri, super::DEFAULT_URI);
        assert_eq!(a.realm, super::DEFAULT_REALM);
        assert_eq!(a.auth, vec![("u".to_string(), "p".to_string())]);
        assert_eq!(a.refresh, Some(Duration::from_secs(3)));
        assert!(a.admin.is_none());
        let b = c.frontends[1].rules.stats.as_ref().unwrap();
        assert_eq!(b.uri, "/st");
        assert!(b.admin.is_some());
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn stats_scope_lists_sections_once() {
        let c = load_text(
            "scope",
            "defaults\n  mode http\nlisten a\n  bind :8000\n  stats scope .\n  stats scope be\n  stats scope .\n",
        );
        let a = c.frontends[0].rules.stats.as_ref().unwrap();
        assert_eq!(a.scope, [".", "be"]);
    }

    #[test]
    fn stats_in_a_tcp_section_is_a_warning() {
        let c = load_text("tcp", "listen a\n  bind :8000\n  stats enable\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0]
                .ends_with(":3: 'stats' rules ignored for listen 'a' as they require HTTP mode"),
            "{:?}",
            c.warnings
        );
    }
}
