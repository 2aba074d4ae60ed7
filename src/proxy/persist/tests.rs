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

fn srv(cookie: &str, usable: bool, backup: bool) -> ServerView {
    ServerView {
        cookie: Some(cookie.into()),
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

fn after(c: &CookieCfg, rq: &Request, r: &mut Response, v: Option<&str>, direct: bool) {
    on_response(c, Flags::default(), rq, r, v, direct, at(NOW));
}

#[test]
fn insert_adds_the_cookie_with_its_attributes() {
    let mut c = cfg(CookieMode::Insert);
    c.httponly = true;
    c.secure = true;
    c.domains = vec![".example.com".into(), "b.example.com".into()];
    let mut r = res(None);
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    assert_eq!(
        set_cookies(&r),
        ["SRV=s1; path=/; domain=.example.com; domain=b.example.com; HttpOnly; Secure"]
    );
    assert_eq!(r.header("cache-control"), None);
}

#[test]
fn insert_nocache_marks_the_response_private() {
    let mut c = cfg(CookieMode::Insert);
    c.nocache = true;
    let mut r = res(None);
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    assert_eq!(r.header("cache-control"), Some("private"));
}

#[test]
fn insert_indirect_sends_nothing_to_a_client_with_the_right_cookie() {
    let mut c = cfg(CookieMode::Insert);
    c.indirect = true;
    c.nocache = true;
    let rq = req("GET", Some("SRV=s1"));
    let mut r = res(None);
    after(&c, &rq, &mut r, Some("s1"), true);
    assert!(set_cookies(&r).is_empty());
    assert_eq!(r.header("cache-control"), None);
    // Without indirect the cookie is sent again.
    c.indirect = false;
    after(&c, &rq, &mut r, Some("s1"), true);
    assert_eq!(set_cookies(&r), ["SRV=s1; path=/"]);
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
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    assert!(set_cookies(&r).is_empty());
    after(&c, &req("POST", None), &mut r, Some("s1"), false);
    assert_eq!(set_cookies(&r), ["SRV=s1; path=/"]);
}

#[test]
fn insert_preserve_leaves_a_server_set_cookie_alone() {
    let mut c = cfg(CookieMode::Insert);
    c.preserve = true;
    let mut r = res(Some("SRV=app; path=/x"));
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    assert_eq!(set_cookies(&r), ["SRV=app; path=/x"]);
    // Without preserve, the server's cookie is replaced by ours.
    c.preserve = false;
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    assert_eq!(set_cookies(&r), ["SRV=s1; path=/"]);
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
        choose(&c, &with(NOW - 50, NOW - 50), &servers, f, at(NOW)),
        Some(0)
    );
    assert_eq!(
        choose(&c, &with(NOW - 1601, NOW - 1601), &servers, f, at(NOW)),
        None
    );
    assert_eq!(
        choose(&c, &with(NOW - 10, NOW - 3601), &servers, f, at(NOW)),
        None
    );
    // A fresh date is not re-sent; one 1/16 of maxidle old is refreshed,
    // keeping the first date.
    let mut r = res(None);
    after(&c, &with(NOW - 50, NOW - 500), &mut r, Some("s1"), true);
    assert!(set_cookies(&r).is_empty());
    after(&c, &with(NOW - 100, NOW - 500), &mut r, Some("s1"), true);
    let line = format!("SRV=s1|{NOW:x}|{:x}; path=/", NOW - 500);
    assert_eq!(set_cookies(&r), [line.as_str()]);
}

#[test]
fn a_server_without_a_cookie_value_clears_the_clients() {
    let c = cfg(CookieMode::Insert);
    let mut r = res(None);
    after(&c, &req("GET", Some("SRV=gone")), &mut r, None, false);
    assert_eq!(
        set_cookies(&r),
        ["SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/"]
    );
}

#[test]
fn rewrite_replaces_the_value_of_the_servers_cookie() {
    let c = cfg(CookieMode::Rewrite);
    let mut r = res(Some("SRV=whatever; path=/; HttpOnly"));
    after(&c, &req("GET", None), &mut r, Some("s2"), false);
    assert_eq!(set_cookies(&r), ["SRV=s2; path=/; HttpOnly"]);
    let servers = [srv("s1", true, false), srv("s2", true, false)];
    let rq = req("GET", Some("SRV=s2"));
    assert_eq!(
        choose(&c, &rq, &servers, Flags::default(), at(NOW)),
        Some(1)
    );
}

#[test]
fn prefix_prefixes_the_servers_cookie_and_strips_it_on_the_way_back() {
    let c = cfg(CookieMode::Prefix);
    let mut r = res(Some("SRV=abc123; path=/"));
    after(&c, &req("GET", None), &mut r, Some("s1"), false);
    assert_eq!(set_cookies(&r), ["SRV=s1~abc123; path=/"]);
    let servers = [srv("s0", true, false), srv("s1", true, false)];
    let mut rq = req("GET", Some("x=1; SRV=s1~abc123"));
    assert_eq!(
        choose(&c, &rq, &servers, Flags::default(), at(NOW)),
        Some(1)
    );
    strip_request(&c, &mut rq);
    assert_eq!(rq.header("cookie"), Some("x=1; SRV=abc123"));
    // No delimiter: not ours.
    let rq = req("GET", Some("SRV=s1"));
    assert_eq!(choose(&c, &rq, &servers, Flags::default(), at(NOW)), None);
}

#[test]
fn a_down_servers_cookie_is_ignored_unless_persist_or_force_persist() {
    let c = cfg(CookieMode::Insert);
    let servers = [srv("s1", false, false), srv("s2", true, false)];
    let rq = req("GET", Some("SRV=s1"));
    assert_eq!(choose(&c, &rq, &servers, Flags::default(), at(NOW)), None);
    let persist = Flags {
        persist: true,
        ..Flags::default()
    };
    assert_eq!(choose(&c, &rq, &servers, persist, at(NOW)), Some(0));
    let force = Flags {
        force: true,
        ..Flags::default()
    };
    assert_eq!(choose(&c, &rq, &servers, force, at(NOW)), Some(0));
    // The client moved: the new server's cookie replaces the old one.
    let mut r = res(None);
    after(&c, &rq, &mut r, Some("s2"), false);
    assert_eq!(set_cookies(&r), ["SRV=s2; path=/"]);
}

#[test]
fn a_primary_and_a_backup_may_share_a_value() {
    let c = cfg(CookieMode::Insert);
    let rq = req("GET", Some("SRV=a"));
    let both_up = [srv("a", true, true), srv("a", true, false)];
    assert_eq!(
        choose(&c, &rq, &both_up, Flags::default(), at(NOW)),
        Some(1)
    );
    let primary_down = [srv("a", true, true), srv("a", false, false)];
    assert_eq!(
        choose(&c, &rq, &primary_down, Flags::default(), at(NOW)),
        Some(0)
    );
}

#[test]
fn ignore_persist_balances_and_inserts_nothing() {
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
    assert_eq!(choose(&c, &rq, &servers, flags, at(NOW)), None);
    let mut r = res(None);
    on_response(&c, flags, &rq, &mut r, Some("s1"), false, at(NOW));
    assert!(set_cookies(&r).is_empty());
}
