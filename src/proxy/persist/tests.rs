use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;
use crate::http::Version;

fn cfg(mode: CookieMode) -> CookieCfg {
    CookieCfg {
        name: "SRV".into(),
        mode,
        ..CookieCfg::default()
    }
}

fn req(method: &str, cookie: Option<&str>) -> Request {
    let mut headers = vec![("Host".to_string(), "a".to_string())];
    if let Some(c) = cookie {
        headers.push(("Cookie".into(), c.into()));
    }
    Request {
        method: method.into(),
        uri: "/".into(),
        version: Version::Http11,
        headers,
    }
}

fn res(set_cookie: Option<&str>) -> Response {
    let mut headers = vec![];
    if let Some(c) = set_cookie {
        headers.push(("Set-Cookie".to_string(), c.to_string()));
    }
    Response {
        version: Version::Http11,
        status: 200,
        reason: "OK".into(),
        headers,
    }
}

fn srv(cookie: &'static str, usable: bool, backup: bool) -> ServerView<'static> {
    ServerView {
        name: cookie,
        cookie: Some(cookie),
        usable,
        backup,
    }
}

fn at(s: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(s)
}

const NOW: u64 = 1_700_000_000;

fn set_cookies(r: &Response) -> Vec<&str> {
    r.header_values("set-cookie").collect()
}

fn after(c: &CookieCfg, rq: &Request, r: &mut Response, v: Option<&str>, direct: bool) -> char {
    on_response(c, Flags::default(), rq, r, v, direct, at(NOW)).letter() as char
}

/// The server a request's cookie binds it to, and the log's letter for it.
fn pick(c: &CookieCfg, rq: &Request, servers: &[ServerView], f: Flags) -> (Option<usize>, char) {
    let ch = choose(c, rq, servers.iter().copied(), f, at(NOW));
    (ch.server, ch.status.letter() as char)
}

#[test]
fn insert_adds_the_cookie_with_its_attributes() {
    let mut c = cfg(CookieMode::Insert);
    c.httponly = true;
    c.secure = true;
    c.domains = vec![".example.com".into(), "b.example.com".into()];
    let mut r = res(None);
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s1"), false), 'I');
    assert_eq!(
        set_cookies(&r),
        ["SRV=s1; path=/; domain=.example.com; domain=b.example.com; HttpOnly; Secure"]
    );
    assert_eq!(r.header("cache-control"), None);
}

#[test]
fn insert_nocache_marks_only_a_cacheable_response_private() {
    let mut c = cfg(CookieMode::Insert);
    c.nocache = true;
    // HAProxy 2.6: nothing tells a cache it may keep a bare 200.
    let mut r = res(None);
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    assert_eq!(r.header("cache-control"), None);
    for (method, status, h, private) in [
        ("GET", 200, ("Cache-Control", "max-age=60"), true),
        ("HEAD", 200, ("ETag", "\"x\""), true),
        (
            "GET",
            404,
            ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"),
            true,
        ),
        (
            "GET",
            200,
            ("Expires", "Mon, 01 Jan 2024 00:00:00 GMT"),
            true,
        ),
        ("POST", 200, ("Cache-Control", "max-age=60"), false),
        ("POST", 200, ("Cache-Control", "public, max-age=60"), true),
        ("GET", 302, ("Cache-Control", "max-age=60"), false),
        ("GET", 200, ("Cache-Control", "public"), false),
        ("GET", 200, ("Cache-Control", "max-age=60, private"), false),
        ("GET", 200, ("Pragma", "no-cache"), false),
    ] {
        let mut r = res(None);
        r.status = status;
        r.headers.push((h.0.into(), h.1.into()));
        after(&c, &req(method, None), &mut r, Some("s1"), false);
        let got = r.header_values("cache-control").any(|v| v == "private");
        assert_eq!(got, private, "{method} {status} {h:?}");
    }
}

#[test]
fn insert_sends_nothing_to_a_client_with_the_right_cookie() {
    let mut c = cfg(CookieMode::Insert);
    c.indirect = true;
    c.nocache = true;
    let rq = req("GET", Some("SRV=s1"));
    let mut r = res(None);
    assert_eq!(after(&c, &rq, &mut r, Some("s1"), true), 'N');
    assert!(set_cookies(&r).is_empty());
    assert_eq!(r.header("cache-control"), None);
    // Without indirect either (HAProxy 2.6: only a date refresh re-sends it).
    c.indirect = false;
    assert_eq!(after(&c, &rq, &mut r, Some("s1"), true), 'N');
    assert!(set_cookies(&r).is_empty());
}

#[test]
fn insert_indirect_removes_our_cookie_from_the_request() {
    let mut c = cfg(CookieMode::Insert);
    c.indirect = true;
    let mut rq = req("GET", Some("a=1; SRV=s1; b=2"));
    rq.headers.push(("Cookie".into(), "SRV=s1".into()));
    strip_request(&c, &mut rq);
    assert_eq!(rq.header_values("cookie").collect::<Vec<_>>(), ["a=1; b=2"]);
}

#[test]
fn insert_postonly_only_answers_posts() {
    let mut c = cfg(CookieMode::Insert);
    c.postonly = true;
    let mut r = res(None);
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s1"), false), 'N');
    assert!(set_cookies(&r).is_empty());
    assert_eq!(
        after(&c, &req("POST", None), &mut r, Some("s1"), false),
        'I'
    );
    assert_eq!(set_cookies(&r), ["SRV=s1; path=/"]);
    // The server's own cookie still goes.
    let mut r = res(Some("SRV=app"));
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s1"), false), 'D');
    assert!(set_cookies(&r).is_empty());
}

#[test]
fn insert_preserve_leaves_a_server_set_cookie_alone() {
    let mut c = cfg(CookieMode::Insert);
    c.preserve = true;
    let mut r = res(Some("SRV=app; path=/x"));
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s1"), false), 'P');
    assert_eq!(set_cookies(&r), ["SRV=app; path=/x"]);
    // Without preserve, the server's cookie is replaced by ours.
    c.preserve = false;
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s1"), false), 'I');
    assert_eq!(set_cookies(&r), ["SRV=s1; path=/"]);
    // ...or just removed for a client that has ours.
    let mut r = res(Some("SRV=app; path=/x"));
    let rq = req("GET", Some("SRV=s1"));
    assert_eq!(after(&c, &rq, &mut r, Some("s1"), true), 'D');
    assert!(set_cookies(&r).is_empty());
}

#[test]
fn insert_maxidle_and_maxlife_carry_dates_and_expire() {
    let mut c = cfg(CookieMode::Insert);
    c.indirect = true;
    c.maxidle = Some(Duration::from_secs(1600));
    c.maxlife = Some(Duration::from_secs(3600));
    let mut r = res(None);
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    let line = format!("SRV=s1|{NOW:x}|{NOW:x}; path=/");
    assert_eq!(set_cookies(&r), [line.as_str()]);
    let servers = [srv("s1", true, false)];
    let with = |last: u64, first: u64| req("GET", Some(&format!("SRV=s1|{last:x}|{first:x}")));
    let f = Flags::default();
    assert_eq!(
        pick(&c, &with(NOW - 50, NOW - 50), &servers, f),
        (Some(0), 'V')
    );
    assert_eq!(
        pick(&c, &with(NOW - 1601, NOW - 1601), &servers, f),
        (None, 'E')
    );
    assert_eq!(
        pick(&c, &with(NOW - 10, NOW - 3601), &servers, f),
        (None, 'O')
    );
    assert_eq!(pick(&c, &with(NOW + 90000, NOW), &servers, f), (None, 'E'));
    // A fresh date is not re-sent; one 1/16 of maxidle old is refreshed
    // (U: same server), keeping the first date.
    let mut r = res(None);
    assert_eq!(
        after(&c, &with(NOW - 50, NOW - 500), &mut r, Some("s1"), true),
        'N'
    );
    assert!(set_cookies(&r).is_empty());
    assert_eq!(
        after(&c, &with(NOW - 100, NOW - 500), &mut r, Some("s1"), true),
        'U'
    );
    let line = format!("SRV=s1|{NOW:x}|{:x}; path=/", NOW - 500);
    assert_eq!(set_cookies(&r), [line.as_str()]);
    // Dates the configuration no longer wants are dropped.
    c.maxidle = None;
    c.maxlife = None;
    let mut r = res(None);
    assert_eq!(after(&c, &with(NOW, NOW), &mut r, Some("s1"), true), 'U');
    assert_eq!(set_cookies(&r), ["SRV=s1; path=/"]);
}

#[test]
fn a_server_without_a_cookie_value_clears_the_clients() {
    let mut c = cfg(CookieMode::Insert);
    c.httponly = true;
    let mut r = res(None);
    // Whether or not the client holds one (HAProxy 2.6).
    for cookie in [Some("SRV=gone"), None] {
        let mut r2 = res(None);
        assert_eq!(after(&c, &req("GET", cookie), &mut r2, None, false), 'I');
        r = r2;
    }
    assert_eq!(
        set_cookies(&r),
        ["SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; HttpOnly"]
    );
}

#[test]
fn rewrite_replaces_the_value_of_the_servers_cookie() {
    let c = cfg(CookieMode::Rewrite);
    let mut r = res(Some("SRV=whatever; path=/; HttpOnly"));
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s2"), false), 'R');
    assert_eq!(set_cookies(&r), ["SRV=s2; path=/; HttpOnly"]);
    let mut r = res(None);
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s2"), false), 'N');
    let servers = [srv("s1", true, false), srv("s2", true, false)];
    let rq = req("GET", Some("SRV=s2"));
    assert_eq!(pick(&c, &rq, &servers, Flags::default()), (Some(1), 'V'));
}

#[test]
fn prefix_prefixes_the_servers_cookie_and_strips_it_on_the_way_back() {
    let c = cfg(CookieMode::Prefix);
    let mut r = res(Some("SRV=abc123; path=/"));
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s1"), false), 'R');
    assert_eq!(set_cookies(&r), ["SRV=s1~abc123; path=/"]);
    let servers = [srv("s0", true, false), srv("s1", true, false)];
    let mut rq = req("GET", Some("x=1; SRV=s1~abc123"));
    assert_eq!(pick(&c, &rq, &servers, Flags::default()), (Some(1), 'V'));
    strip_request(&c, &mut rq);
    assert_eq!(rq.header("cookie"), Some("x=1; SRV=abc123"));
    // No delimiter: the whole value names the server (HAProxy), and the
    // cookie goes on unchanged.
    let mut rq = req("GET", Some("SRV=s1"));
    assert_eq!(pick(&c, &rq, &servers, Flags::default()), (Some(1), 'V'));
    strip_request(&c, &mut rq);
    assert_eq!(rq.header("cookie"), Some("SRV=s1"));
}

#[test]
fn passive_indirect_drops_the_servers_cookie_for_a_direct_client() {
    let mut c = cfg(CookieMode::Passive);
    c.indirect = true;
    let mut r = res(Some("SRV=app"));
    assert_eq!(after(&c, &req("GET", None), &mut r, Some("s1"), false), 'P');
    assert_eq!(set_cookies(&r), ["SRV=app"]);
    let rq = req("GET", Some("SRV=s1"));
    assert_eq!(after(&c, &rq, &mut r, Some("s1"), true), 'D');
    assert!(set_cookies(&r).is_empty());
}

#[test]
fn the_request_status_is_haproxys() {
    let c = cfg(CookieMode::Insert);
    let servers = [srv("s1", true, false), srv("s2", false, false)];
    let f = Flags::default();
    for (cookie, want) in [
        (None, (None, 'N')),
        (Some("a=1"), (None, 'N')),
        (Some("SRV=s1"), (Some(0), 'V')),
        (Some("SRV=bogus"), (None, 'I')),
        (Some("SRV="), (None, 'I')),
        (Some("SRV=s2"), (None, 'D')),
        // Each cookie in turn until one binds; the first status stays.
        (Some("SRV=bogus; SRV=s1"), (Some(0), 'V')),
        (Some("SRV=s1; SRV=bogus"), (Some(0), 'V')),
        (Some("SRV=s2; SRV=bogus"), (None, 'D')),
    ] {
        assert_eq!(
            pick(&c, &req("GET", cookie), &servers, f),
            want,
            "{cookie:?}"
        );
    }
}

#[test]
fn a_down_servers_cookie_is_ignored_unless_persist_or_force_persist() {
    let c = cfg(CookieMode::Insert);
    let servers = [srv("s1", false, false), srv("s2", true, false)];
    let rq = req("GET", Some("SRV=s1"));
    assert_eq!(pick(&c, &rq, &servers, Flags::default()), (None, 'D'));
    let persist = Flags {
        persist: true,
        ..Flags::default()
    };
    assert_eq!(pick(&c, &rq, &servers, persist), (Some(0), 'D'));
    let force = Flags {
        force: true,
        ..Flags::default()
    };
    assert_eq!(pick(&c, &rq, &servers, force), (Some(0), 'D'));
    // The client moved: the new server's cookie replaces the old one.
    let mut r = res(None);
    assert_eq!(after(&c, &rq, &mut r, Some("s2"), false), 'I');
    assert_eq!(set_cookies(&r), ["SRV=s2; path=/"]);
}

#[test]
fn servers_sharing_a_value_are_tried_in_configuration_order() {
    let c = cfg(CookieMode::Insert);
    let rq = req("GET", Some("SRV=a"));
    let f = Flags::default();
    let both_up = [srv("a", true, true), srv("a", true, false)];
    assert_eq!(pick(&c, &rq, &both_up, f), (Some(0), 'V'));
    let first_down = [srv("a", false, false), srv("a", true, true)];
    assert_eq!(pick(&c, &rq, &first_down, f), (Some(1), 'V'));
}

#[test]
fn ignore_persist_balances_and_touches_no_cookie() {
    use crate::config::PersistRule;
    use crate::http::acl::{parse_condition, AclSet};
    let words: Vec<String> = ["if", "{", "path_beg", "/static", "}"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let rules = [PersistRule {
        force: false,
        cond: parse_condition(&words, &AclSet::default()).unwrap(),
    }];
    let mut rq = req("GET", Some("SRV=s1"));
    rq.uri = "/static/a.css".into();
    let a = "127.0.0.1:1".parse().unwrap();
    let flags = persist_rules(&rules, false, &FetchCtx::http(a, a, Some(&rq), None));
    assert!(flags.ignore && !flags.force);
    let c = cfg(CookieMode::Insert);
    let servers = [srv("s1", true, false)];
    assert_eq!(pick(&c, &rq, &servers, flags), (None, 'U'));
    let mut r = res(Some("SRV=app"));
    let out = on_response(&c, flags, &rq, &mut r, Some("s1"), false, at(NOW));
    assert_eq!(out, CookieOut::None);
    assert_eq!(set_cookies(&r), ["SRV=app"]);
}

/// Servers as one backend (index 0) for `use_server`.
struct OneBackend(Vec<ServerView<'static>>);

impl Servers for OneBackend {
    fn view(&self, bi: usize, si: usize) -> Option<ServerView<'_>> {
        (bi == 0).then(|| self.0.get(si).copied()).flatten()
    }
}

#[test]
fn use_server_skips_a_down_server_unless_persist_and_stops_at_an_unknown_name() {
    let acls = crate::http::acl::AclSet::default();
    let cond = |c: &str| {
        let words: Vec<String> = c.split(' ').map(String::from).collect();
        crate::http::acl::parse_condition(&words, &acls).unwrap()
    };
    let rule = |name: &str, c: &str| UseServer {
        server: match name.contains('%') {
            true => ServerName::Format(crate::http::format::Format::parse(name).unwrap()),
            false => ServerName::Name(name.into()),
        },
        cond: cond(c),
    };
    let servers = OneBackend(vec![srv("s1", false, false), srv("s2", true, false)]);
    let rq = req("GET", None);
    let ctx = FetchCtx::http(
        "127.0.0.1:1".parse().unwrap(),
        "127.0.0.1:2".parse().unwrap(),
        Some(&rq),
        None,
    );
    let rules = [rule("s1", "if TRUE"), rule("s2", "if TRUE")];
    let pick = |rules: &[UseServer], f| use_server(rules, &servers, 0, &ctx, f);
    assert_eq!(
        pick(&rules, Flags::default()),
        Some(1),
        "s1 is down: next rule"
    );
    let persist = Flags {
        persist: true,
        ..Flags::default()
    };
    assert_eq!(pick(&rules, persist), Some(0));
    let rules = [rule("s2", "unless TRUE"), rule("s%[str(2)]", "if TRUE")];
    assert_eq!(pick(&rules, Flags::default()), Some(1));
    let rules = [rule("s%[str(9)]", "if TRUE"), rule("s2", "if TRUE")];
    assert_eq!(
        pick(&rules, Flags::default()),
        None,
        "no s9: the rules stop"
    );
}
