use super::*;
use crate::http::acl::{parse_condition, AclSet};
use crate::http::expr::Expr;
use crate::http::fetch::CounterView;
use crate::sample::vars::{Conds, VarRef};
use crate::sample::Value;

fn src() -> SocketAddr {
    "192.168.1.20:40000".parse().unwrap()
}
fn dst() -> SocketAddr {
    "10.0.0.1:80".parse().unwrap()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn req(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        uri: uri.into(),
        version: Version::Http11,
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn res(status: u16, headers: &[(&str, &str)]) -> Response {
    Response {
        version: Version::Http11,
        status,
        reason: reason_phrase(status).into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

fn rule(action: Action) -> Rule {
    Rule { action, cond: None }
}

fn when(action: Action, cond: &str) -> Rule {
    Rule {
        action,
        cond: Some(parse_condition(&words(cond), &AclSet::default()).unwrap()),
    }
}

fn f(s: &str) -> Format {
    Format::parse(s).unwrap()
}

fn re(s: &str) -> Re {
    Re::new(s, false).unwrap()
}

fn run(rules: &[Rule], r: &mut Request) -> Verdict {
    run_request(rules, r, src(), dst())
}

fn text(v: &Verdict) -> String {
    match v {
        Verdict::Respond(b) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("not a response: {other:?}"),
    }
}

fn head(r: &Request) -> String {
    let mut out = Vec::new();
    r.serialize(&mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn no_rule_or_no_match_continues() {
    let mut r = req("GET", "/", &[]);
    assert_eq!(run(&[], &mut r), Verdict::Continue);
    let rules = [when(Action::Deny(403), "if { path /admin }")];
    assert_eq!(run(&rules, &mut r), Verdict::Continue);
}

#[test]
fn first_stopping_action_wins_in_order() {
    let mut r = req("GET", "/admin", &[]);
    let rules = [
        when(Action::Allow, "if { src 10.0.0.0/8 }"),
        rule(Action::AddHeader("X-Seen".into(), f("1"))),
        when(Action::Deny(403), "if { path_beg /admin }"),
        rule(Action::Tarpit(500)),
    ];
    assert_eq!(run(&rules, &mut r), Verdict::Deny(403));
    assert_eq!(r.header("x-seen"), Some("1"));
    let rules = [rule(Action::Allow), rule(Action::Deny(403))];
    assert_eq!(run(&rules, &mut r), Verdict::Allow);
    let rules = [rule(Action::Tarpit(500))];
    assert_eq!(run(&rules, &mut r), Verdict::Tarpit(500));
}

#[test]
fn header_actions_render_samples() {
    let mut r = req(
        "GET",
        "/p?q=1",
        &[("Host", "a.example"), ("X-A", "1"), ("x-a", "2")],
    );
    let rules = [
        rule(Action::AddHeader(
            "X-Client".into(),
            f("%[src]:%[src_port]"),
        )),
        rule(Action::SetHeader(
            "X-A".into(),
            f("host=%[hdr(host)] path=%[path] 100%%"),
        )),
        rule(Action::AddHeader("X-Upper".into(), f("%[hdr(host),upper]"))),
        rule(Action::DelHeader("host".into())),
    ];
    assert_eq!(run(&rules, &mut r), Verdict::Continue);
    assert_eq!(
        r.headers,
        vec![
            ("X-Client".to_string(), "192.168.1.20:40000".to_string()),
            ("X-A".into(), "host=a.example path=/p 100%".into()),
            ("X-Upper".into(), "A.EXAMPLE".into()),
        ]
    );
}

#[test]
fn replace_header_and_replace_value_use_backrefs() {
    let mut r = req(
        "GET",
        "/",
        &[
            ("Cookie", "foo=bar; expires=never"),
            ("X-Forwarded-For", "1.1.1.1, 10.0.0.1, 2.2.2.2"),
        ],
    );
    let rules = [
        rule(Action::ReplaceHeader(
            "cookie".into(),
            re("foo=([^;]*);(.*)"),
            f(r"foo=\1;ip=%[src];\2"),
        )),
        rule(Action::ReplaceValue(
            "X-Forwarded-For".into(),
            re(r"^10\.(.*)$"),
            f(r"internal-\1"),
        )),
    ];
    run(&rules, &mut r);
    assert_eq!(
        r.header("cookie"),
        Some("foo=bar;ip=192.168.1.20; expires=never")
    );
    assert_eq!(
        r.header("x-forwarded-for"),
        Some("1.1.1.1, internal-0.0.1, 2.2.2.2")
    );
}

#[test]
fn set_path_query_method_and_uri() {
    let mut r = req("GET", "http://h.example/old/p?x=1", &[]);
    run(&[rule(Action::SetPath(f("/new%[path]")))], &mut r);
    assert_eq!(r.uri, "http://h.example/new/old/p?x=1");
    run(&[rule(Action::SetQuery(f("y=2")))], &mut r);
    assert_eq!(r.uri, "http://h.example/new/old/p?y=2");
    run(&[rule(Action::SetQuery(f("")))], &mut r);
    assert_eq!(r.uri, "http://h.example/new/old/p");
    run(&[rule(Action::SetMethod(f("POST")))], &mut r);
    assert_eq!(r.method, "POST");
    run(&[rule(Action::SetUri(f("/x")))], &mut r);
    assert_eq!(r.uri, "/x");
}

fn redirect(kind: RedirectKind, target: &str, code: u16, drop_query: bool, slash: bool) -> Rule {
    rule(Action::Redirect(Redirect {
        kind,
        target: f(target),
        code,
        drop_query,
        append_slash: slash,
    }))
}

#[test]
fn redirect_location_prefix_and_scheme_responses() {
    let mut r = req("GET", "/a/b?x=1", &[("Host", "www.example.com")]);
    let v = run(
        &[redirect(
            RedirectKind::Location,
            "https://x.example/",
            302,
            false,
            false,
        )],
        &mut r,
    );
    assert_eq!(
        text(&v),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://x.example/\r\ncache-control: no-cache\r\n\r\n"
    );
    let v = run(
        &[redirect(
            RedirectKind::Prefix,
            "https://new.example",
            301,
            false,
            false,
        )],
        &mut r,
    );
    assert!(text(&v).starts_with("HTTP/1.1 301 Moved Permanently\r\n"));
    assert!(text(&v).contains("\r\nlocation: https://new.example/a/b?x=1\r\n"));
    let v = run(
        &[redirect(RedirectKind::Prefix, "/", 302, true, true)],
        &mut r,
    );
    assert!(text(&v).contains("\r\nlocation: /a/b/\r\n"), "{}", text(&v));
    let v = run(
        &[redirect(RedirectKind::Scheme, "https", 308, false, false)],
        &mut r,
    );
    assert!(text(&v).starts_with("HTTP/1.1 308 Permanent Redirect\r\n"));
    assert!(text(&v).contains("\r\nlocation: https://www.example.com/a/b?x=1\r\n"));
    let v = run(
        &[redirect(RedirectKind::Scheme, "https", 302, true, false)],
        &mut r,
    );
    assert!(text(&v).contains("\r\nlocation: https://www.example.com/a/b\r\n"));
}

#[test]
fn return_builds_a_complete_response() {
    let reply = Reply {
        status: 200,
        content_type: Some("text/plain".into()),
        body: ReplyBody::Bytes(b"backend one\n".to_vec()),
        headers: vec![("x-served-by".into(), f("%[dst]"))],
        raw: None,
    };
    let mut r = req("GET", "/", &[]);
    let v = run(&[rule(Action::Return(reply.clone()))], &mut r);
    assert_eq!(
        text(&v),
        "HTTP/1.1 200 OK\r\nx-served-by: 10.0.0.1\r\ncontent-length: 12\r\ncontent-type: text/plain\r\n\r\nbackend one\n"
    );
    // HEAD: same head, no body.
    let mut h = req("HEAD", "/", &[]);
    let v = run(&[rule(Action::Return(reply))], &mut h);
    assert!(text(&v).ends_with("content-length: 12\r\ncontent-type: text/plain\r\n\r\n"));
    let empty = Reply {
        status: 204,
        content_type: None,
        body: ReplyBody::Empty,
        headers: vec![],
        raw: None,
    };
    let v = run(&[rule(Action::Return(empty))], &mut r);
    assert_eq!(text(&v), "HTTP/1.1 204 No Content\r\n\r\n");
    let lf = Reply {
        status: 503,
        content_type: Some("text/plain".into()),
        body: ReplyBody::Format(f("path=%[path]")),
        headers: vec![],
        raw: None,
    };
    let mut r = req("GET", "/z", &[]);
    let v = run(&[rule(Action::Return(lf))], &mut r);
    assert!(text(&v).starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    assert!(text(&v).ends_with("content-length: 7\r\ncontent-type: text/plain\r\n\r\npath=/z"));
}

#[test]
fn legacy_reqrep_rewrites_request_line_and_headers_with_backrefs() {
    let mut r = req(
        "GET",
        "/static/x.png",
        &[("Host", "www.example.com"), ("X-Y", "z")],
    );
    let rules = [
        rule(Action::LineReplace(
            re(r"^([^\ :]*)\ /static/(.*)"),
            r"\1 /\2".into(),
        )),
        rule(Action::LineReplace(
            Re::new(r"^Host:\ www\.(.*)$", true).unwrap(),
            r"Host: \1".into(),
        )),
    ];
    assert_eq!(run(&rules, &mut r), Verdict::Continue);
    assert_eq!(
        head(&r),
        "GET /x.png HTTP/1.1\r\nHost: example.com\r\nX-Y: z\r\n\r\n"
    );
}

#[test]
fn legacy_reqrep_producing_a_bad_request_line_is_a_400() {
    let mut r = req("GET", "/", &[]);
    let rules = [rule(Action::LineReplace(re("^GET"), "NOPE".into()))];
    assert_eq!(run(&rules, &mut r), Verdict::Deny(400));
}

#[test]
fn legacy_add_del_deny_allow_tarpit() {
    let mut r = req("GET", "/", &[("X-Debug", "1"), ("User-Agent", "evilbot/1")]);
    let rules = [
        rule(Action::LineAdd("X-Via: pollux".into())),
        rule(Action::LineDel(Re::new("^x-debug:", true).unwrap())),
    ];
    run(&rules, &mut r);
    assert_eq!(r.header("x-debug"), None);
    assert_eq!(r.header("x-via"), Some("pollux"));
    let deny = [rule(Action::LineDeny(re("^User-Agent:.*evilbot"), 403))];
    assert_eq!(run(&deny, &mut r), Verdict::Deny(403));
    let deny_line = [rule(Action::LineDeny(re("^GET /secret"), 403))];
    assert_eq!(run(&deny_line, &mut r), Verdict::Continue);
    let allow = [rule(Action::LineAllow(re("^GET ")))];
    assert_eq!(run(&allow, &mut r), Verdict::Allow);
    let tarpit = [rule(Action::LineTarpit(re("evilbot")))];
    assert_eq!(run(&tarpit, &mut r), Verdict::Tarpit(500));
}

#[test]
fn response_rules_edit_the_response_and_see_the_request() {
    let r = req("GET", "/api", &[("Host", "h")]);
    let mut s = res(200, &[("Server", "nginx/1.22"), ("Set-Cookie", "a=1")]);
    let rules = [
        rule(Action::DelHeader("server".into())),
        rule(Action::AddHeader("X-Path".into(), f("%[path] %[status]"))),
        rule(Action::LineReplace(
            re(r"^Set-Cookie:\ (.*)"),
            r"Set-Cookie: \1; Secure".into(),
        )),
        rule(Action::LineAdd("X-Frame-Options: DENY".into())),
        when(
            Action::SetStatus(404, None),
            "if { res.hdr(x-path) -m beg /api }",
        ),
    ];
    assert_eq!(
        run_response(&rules, &r, &mut s, src(), dst()),
        Verdict::Continue
    );
    assert_eq!((s.status, s.reason.as_str()), (404, "Not Found"));
    assert_eq!(
        s.headers,
        vec![
            ("Set-Cookie".to_string(), "a=1; Secure".to_string()),
            ("X-Path".into(), "/api 200".into()),
            ("X-Frame-Options".into(), "DENY".into()),
        ]
    );
}

#[test]
fn response_deny_and_status_line_rewrites() {
    let r = req("GET", "/", &[]);
    let mut s = res(500, &[]);
    let deny = [rule(Action::LineDeny(re("^HTTP/1\\.1 5"), 502))];
    assert_eq!(
        run_response(&deny, &r, &mut s, src(), dst()),
        Verdict::Deny(502)
    );
    let rep = [rule(Action::LineReplace(
        re(r"^HTTP/1\.1 500 (.*)"),
        r"HTTP/1.1 503 Busy".into(),
    ))];
    run_response(&rep, &r, &mut s, src(), dst());
    assert_eq!((s.status, s.reason.as_str()), (503, "Busy"));
    let bad = [rule(Action::LineReplace(re("^HTTP"), "garbage".into()))];
    assert_eq!(
        run_response(&bad, &r, &mut s, src(), dst()),
        Verdict::Deny(502)
    );
    let stop = [
        when(Action::Deny(502), "if { status 503 }"),
        rule(Action::Allow),
    ];
    assert_eq!(
        run_response(&stop, &r, &mut s, src(), dst()),
        Verdict::Deny(502)
    );
}

#[test]
fn expand_handles_groups_hex_and_backslashes() {
    let rx = re("(a)(b)?");
    let caps = rx.0.captures("a").unwrap();
    assert_eq!(expand(r"[\1][\2][\0]\x41\\z\q", &caps), r"[a][][a]A\z\q");
}

fn tcp_rule(action: TcpAction, cond: &str) -> TcpRule {
    TcpRule {
        action,
        cond: Some(parse_condition(&words(cond), &AclSet::default()).unwrap()),
    }
}

fn ctx(payload: &[u8], complete: bool) -> FetchCtx<'_> {
    FetchCtx {
        src: src(),
        dst: dst(),
        req: None,
        res: None,
        payload,
        payload_complete: complete,
        vars: None,
        txn: Default::default(),
    }
}

#[test]
fn tcp_rules_let_tls_through_and_refuse_ssh() {
    // tcp-request content accept if { req.ssl_ver 3.0: }
    // tcp-request content reject if { req.payload(0,4) -m str SSH- }
    let rules = [
        tcp_rule(TcpAction::Accept, "if { req.ssl_ver 3.0: }"),
        tcp_rule(TcpAction::Reject, "if { req.payload(0,4) -m str SSH- }"),
    ];
    let hello = [
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ];
    assert_eq!(
        run_tcp(&rules, &ctx(&hello, false)),
        Some(TcpAction::Accept)
    );
    assert_eq!(
        run_tcp(&rules, &ctx(b"SSH-2.0-OpenSSH_9.2\r\n", false)),
        Some(TcpAction::Reject)
    );
    // Nothing yet: wait; still nothing when the delay expires: no rule matched, accept.
    assert_eq!(run_tcp(&rules, &ctx(b"", false)), None);
    assert_eq!(run_tcp(&rules, &ctx(b"", true)), Some(TcpAction::Accept));
    assert_eq!(
        run_tcp(&rules, &ctx(b"GET / HTTP/1.1\r\n", false)),
        Some(TcpAction::Accept)
    );
}

#[test]
fn tcp_rules_without_rules_or_conditions() {
    assert_eq!(run_tcp(&[], &ctx(b"", false)), Some(TcpAction::Accept));
    let reject_all = [TcpRule {
        action: TcpAction::Reject,
        cond: None,
    }];
    assert_eq!(
        run_tcp(&reject_all, &ctx(b"", false)),
        Some(TcpAction::Reject)
    );
    let local_only = [tcp_rule(TcpAction::Reject, "unless { src 127.0.0.0/8 }")];
    assert_eq!(
        run_tcp(&local_only, &ctx(b"", false)),
        Some(TcpAction::Reject)
    );
}

fn set_var(var: &str, value: VarValue) -> Action {
    Action::SetVar(SetVar {
        var: VarRef::parse(var).unwrap(),
        conds: Conds::default(),
        value,
    })
}

fn expr(s: &str) -> VarValue {
    VarValue::Expr(Expr::parse(s).unwrap())
}

#[test]
fn set_var_rules_are_seen_by_later_rules_and_the_response() {
    let vars = Vars::default();
    let rules = [
        rule(set_var("txn.host", expr("req.hdr(host),lower"))),
        rule(set_var("txn.n", expr("int(41)"))),
        rule(set_var("txn.n", expr("var(txn.n),add(1)"))),
        rule(set_var(
            "req.f",
            VarValue::Format(f("%[var(txn.host)]:%[var(txn.n)]")),
        )),
        rule(set_var("txn.gone", expr("str(x)"))),
        rule(set_var("txn.gone", VarValue::Unset)),
        when(
            Action::SetHeader("X-V".into(), f("%[var(req.f)] %[var(txn.gone,none)]")),
            "if { var(txn.n) -m int 42 }",
        ),
    ];
    let mut r = req("GET", "/", &[("Host", "WWW.Example.Org")]);
    let mut t = NoTrack;
    let v = run_request_in(&rules, &mut r, &mut (src(), dst()), &mut t, &vars);
    assert_eq!(v, Verdict::Continue);
    assert_eq!(r.header("x-v"), Some("www.example.org:42 none"));
    // The response: `req.` variables are gone, `txn.` ones stay, `res.` begin.
    vars.response_begins();
    let rules = [
        rule(set_var("res.s", expr("status"))),
        rule(Action::SetHeader(
            "X-R".into(),
            f("%[var(res.s)] %[var(req.f,dflt)] %[var(txn.host)]"),
        )),
    ];
    let mut s = res(201, &[]);
    let mut none = Vec::new();
    let mut txn = ResTxn {
        captured_req: &[],
        captured_res: &mut none,
        unique_id: None,
        stamp: Default::default(),
    };
    run_response_txn(&rules, &r, &mut s, (src(), dst()), &mut txn, &vars);
    assert_eq!(s.header("x-r"), Some("201  www.example.org"));
}

#[test]
fn tcp_set_var_goes_on_to_the_next_rule() {
    let vars = Vars::default();
    let rules = [
        TcpRule {
            action: TcpAction::SetVar(SetVar {
                var: VarRef::parse("sess.len").unwrap(),
                conds: Conds::default(),
                value: expr("req.len"),
            }),
            cond: None,
        },
        tcp_rule(TcpAction::Reject, "if { var(sess.len) -m int gt 3 }"),
    ];
    let c = ctx(b"abcd", true).with_vars(&vars);
    assert_eq!(run_tcp(&rules, &c), Some(TcpAction::Reject));
    let c = ctx(b"ab", true).with_vars(&vars);
    assert_eq!(run_tcp(&rules, &c), Some(TcpAction::Accept));
}

struct NoTrack;

impl Tracker for NoTrack {
    fn track(&mut self, _: &TrackSc, _: &Value) {}
    fn counters(&self) -> &dyn CounterView {
        self
    }
    fn http_err(&mut self) {}
}

impl CounterView for NoTrack {
    fn counter(
        &self,
        _: crate::http::fetch::Tracked,
        _: crate::http::fetch::Counter,
    ) -> Option<i64> {
        None
    }
}
