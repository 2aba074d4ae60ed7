//! Header rules and actions: HAProxy 1.x `req*`/`rsp*` (regex, `if`), the
//! modern `http-request`/`http-response` actions, `%[src]` samples,
//! `option forwardfor` / `option originalto`, and `capture` (accepted).
//!
//! HAProxy 2.1+ removed the `req*`/`rsp*` keywords: the `legacy_*` tests fail
//! against the HAProxy 2.6 reference by design (config error).

mod common;

use common::*;
use std::time::{Duration, Instant};

/// Frontend @P0@ with `rules` in front of one recording backend "be".
fn start(poller: &str, rules: &str) -> (Pollux, HttpBackend) {
    let be = HttpBackend::start("be");
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    maxconn 200\n{}\n    timeout tarpit 300ms\nfrontend fe\n    bind 127.0.0.1:@P0@\n    {rules}\n    default_backend be\n\nbackend be\n    server s1 {}\n",
            http_defaults(),
            be.addr()
        ),
        );
    (px, be)
}

fn tarpitted(px: &Pollux, path: &str, headers: &[&str]) {
    let t0 = Instant::now();
    let r = http_get(px.addr(0), path, headers);
    assert_eq!(
        r.status, 500,
        "tarpit answers 500 once the delay is over: {r}"
    );
    assert!(
        t0.elapsed() >= Duration::from_millis(250),
        "tarpit held only {:?}",
        t0.elapsed()
    );
}

per_poller!(
    legacy_reqadd_adds_a_header_if_the_condition_holds,
    legacy_reqdel_and_reqidel_remove_matching_headers,
    legacy_reqrep_and_reqirep_rewrite_lines,
    legacy_reqdeny_gives_403,
    legacy_reqallow_stops_a_later_reqdeny,
    legacy_reqtarpit_holds_then_500,
    legacy_rspadd_rspdel_rsprep_edit_the_response,
    legacy_rspdeny_gives_502,
    http_request_allow_stops_the_rules,
    http_request_deny_with_deny_status,
    http_request_tarpit_holds_then_500,
    http_request_add_set_del_header,
    http_request_replace_header_and_replace_value,
    http_request_set_path_set_query_set_method,
    http_request_redirect,
    http_request_header_values_take_samples,
    http_response_add_set_del_replace_header,
    http_response_replace_value,
    http_response_deny_gives_502_and_allow_stops_it,
    option_forwardfor_adds_the_client_address,
    option_forwardfor_header_name,
    option_forwardfor_except_network,
    option_forwardfor_if_none,
    option_originalto_adds_the_address_connected_to,
    captures_are_accepted,
);

fn legacy_reqadd_adds_a_header_if_the_condition_holds(poller: &str) {
    let (px, be) = start(poller, "reqadd X-Added:\\ yes if { path_beg /a }");
    http_get(px.addr(0), "/a", &[]);
    assert_eq!(be.last().header("x-added"), Some("yes"));
    http_get(px.addr(0), "/b", &[]);
    assert_eq!(be.last().header("x-added"), None);
    px.stop();
}

fn legacy_reqdel_and_reqidel_remove_matching_headers(poller: &str) {
    let (px, be) = start(poller, "reqdel ^X-Remove:\n    reqidel ^x-iremove:");
    http_get(
        px.addr(0),
        "/",
        &["X-Remove: 1", "X-IREMOVE: 2", "x-remove: 3", "X-Keep: 4"],
    );
    let r = be.last();
    assert_eq!(r.header("x-iremove"), None, "reqidel ignores case");
    assert_eq!(r.head.all("x-remove"), ["3"], "reqdel is case-sensitive");
    assert_eq!(r.header("x-keep"), Some("4"));
    px.stop();
}

fn legacy_reqrep_and_reqirep_rewrite_lines(poller: &str) {
    let (px, be) = start(
        poller,
        "reqrep ^([^\\ :]*)\\ /old/(.*) \\1\\ /new/\\2\n    reqirep ^x-env:\\ dev X-Env:\\ staging",
    );
    http_get(px.addr(0), "/old/page?q=1", &["X-ENV: dev"]);
    let r = be.last();
    assert_eq!(r.target(), "/new/page?q=1");
    assert_eq!(r.header("x-env"), Some("staging"));
    px.stop();
}

fn legacy_reqdeny_gives_403(poller: &str) {
    let (px, be) = start(poller, "reqdeny ^X-Evil:");
    assert_eq!(http_get(px.addr(0), "/", &["X-Evil: 1"]).status, 403);
    assert_eq!(http_get(px.addr(0), "/", &[]).status, 200);
    assert_eq!(be.requests().len(), 1);
    px.stop();
}

fn legacy_reqallow_stops_a_later_reqdeny(poller: &str) {
    let (px, _be) = start(poller, "reqallow ^X-Good:\n    reqdeny ^GET\\ /guarded");
    assert_eq!(http_get(px.addr(0), "/guarded", &["X-Good: 1"]).status, 200);
    assert_eq!(http_get(px.addr(0), "/guarded", &[]).status, 403);
    px.stop();
}

fn legacy_reqtarpit_holds_then_500(poller: &str) {
    let (px, be) = start(poller, "reqtarpit ^X-Bot:");
    tarpitted(&px, "/", &["X-Bot: 1"]);
    assert_eq!(be.requests().len(), 0);
    px.stop();
}

fn legacy_rspadd_rspdel_rsprep_edit_the_response(poller: &str) {
    let (px, _be) = start(
        poller,
        "rspadd X-Rsp:\\ added\n    rspdel ^X-Secret:\n    rsprep ^X-Resp:\\ orig(.*) X-Resp:\\ rewritten\\1",
    );
    let r = http_get(px.addr(0), "/", &[]);
    assert_eq!(r.header("x-rsp"), Some("added"));
    assert_eq!(r.header("x-secret"), None);
    assert_eq!(r.header("x-resp"), Some("rewritteninal"));
    px.stop();
}

fn legacy_rspdeny_gives_502(poller: &str) {
    let (px, _be) = start(poller, "rspdeny ^X-Secret: if { path_beg /deny }");
    assert_eq!(http_get(px.addr(0), "/deny", &[]).status, 502);
    assert_eq!(http_get(px.addr(0), "/ok", &[]).status, 200);
    px.stop();
}

fn http_request_allow_stops_the_rules(poller: &str) {
    let (px, _be) = start(
        poller,
        "http-request allow if { path_beg /ok }\n    http-request deny",
    );
    assert_eq!(http_get(px.addr(0), "/ok/1", &[]).status, 200);
    assert_eq!(http_get(px.addr(0), "/no", &[]).status, 403);
    px.stop();
}

fn http_request_deny_with_deny_status(poller: &str) {
    let (px, be) = start(
        poller,
        "http-request deny deny_status 429 if { path /limited }",
    );
    assert_eq!(http_get(px.addr(0), "/limited", &[]).status, 429);
    assert_eq!(http_get(px.addr(0), "/free", &[]).status, 200);
    assert_eq!(be.requests().len(), 1);
    px.stop();
}

fn http_request_tarpit_holds_then_500(poller: &str) {
    let (px, be) = start(
        poller,
        "http-request tarpit if { hdr(user-agent) -m sub badbot }",
    );
    tarpitted(&px, "/", &["User-Agent: a badbot"]);
    assert_eq!(be.requests().len(), 0);
    px.stop();
}

fn http_request_add_set_del_header(poller: &str) {
    let (px, be) = start(
        poller,
        "http-request add-header X-Add one\n    http-request set-header X-Env prod\n    http-request del-header X-Remove",
    );
    http_get(
        px.addr(0),
        "/",
        &["X-Add: zero", "X-Env: dev", "X-Env: qa", "X-Remove: 1"],
    );
    let r = be.last();
    assert_eq!(r.head.all("x-add"), ["zero", "one"], "add-header appends");
    assert_eq!(
        r.head.all("x-env"),
        ["prod"],
        "set-header replaces every occurrence"
    );
    assert_eq!(r.header("x-remove"), None);
    px.stop();
}

fn http_request_replace_header_and_replace_value(poller: &str) {
    let (px, be) = start(
        poller,
        "http-request replace-header X-Tag ^v1-(.*) v2-\\1\n    http-request replace-value X-List ^a$ z",
    );
    http_get(px.addr(0), "/", &["X-Tag: v1-abc", "X-List: a, b, a"]);
    let r = be.last();
    assert_eq!(r.header("x-tag"), Some("v2-abc"));
    assert_eq!(
        r.header("x-list").map(|v| v.replace(' ', "")),
        Some("z,b,z".to_string())
    );
    px.stop();
}

fn http_request_set_path_set_query_set_method(poller: &str) {
    let (px, be) = start(
        poller,
        "http-request set-path /v2%[path] if { path_beg /api }\n    http-request set-query lang=en if { path_beg /q }\n    http-request set-method PUT if { path_beg /m }",
    );
    http_get(px.addr(0), "/api/x?k=1", &[]);
    assert_eq!(be.last().target(), "/v2/api/x?k=1");
    http_get(px.addr(0), "/q/x?k=1", &[]);
    assert_eq!(be.last().target(), "/q/x?lang=en");
    http_get(px.addr(0), "/m", &[]);
    assert_eq!(be.last().method(), "PUT");
    px.stop();
}

fn http_request_redirect(poller: &str) {
    let (px, be) = start(
        poller,
        "http-request redirect location /moved code 307 if { path /here }",
    );
    let r = http_get(px.addr(0), "/here", &[]);
    assert_eq!((r.status, r.header("location")), (307, Some("/moved")));
    assert_eq!(be.requests().len(), 0);
    px.stop();
}

fn http_request_header_values_take_samples(poller: &str) {
    let (px, be) = start(
        poller,
        "http-request set-header X-Client %[src]:%[src_port]\n    http-request set-header X-Seen-Path %[path]",
    );
    let mut c = HttpConn::open(px.addr(0));
    let port = c.wire.s.local_addr().unwrap().port();
    c.get("/p?q", &[]);
    let r = be.last();
    assert_eq!(
        r.header("x-client"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert_eq!(r.header("x-seen-path"), Some("/p"));
    px.stop();
}

fn http_response_add_set_del_replace_header(poller: &str) {
    let (px, _be) = start(
        poller,
        "http-response add-header X-Via pollux\n    http-response set-header Content-Type text/x-test\n    http-response del-header X-Secret\n    http-response replace-header X-Resp ^orig(.*)$ changed\\1",
    );
    let r = http_get(px.addr(0), "/", &[]);
    assert_eq!(r.header("x-via"), Some("pollux"));
    assert_eq!(r.head.all("content-type"), ["text/x-test"]);
    assert_eq!(r.header("x-secret"), None);
    assert_eq!(r.header("x-resp"), Some("changedinal"));
    px.stop();
}

fn http_response_replace_value(poller: &str) {
    let (px, _be) = start(
        poller,
        "http-response add-header X-List a,b,a\n    http-response replace-value X-List ^a$ z",
    );
    let r = http_get(px.addr(0), "/", &[]);
    assert_eq!(
        r.header("x-list").map(|v| v.replace(' ', "")),
        Some("z,b,z".to_string())
    );
    px.stop();
}

fn http_response_deny_gives_502_and_allow_stops_it(poller: &str) {
    let (px, _be) = start(
        poller,
        "http-response allow if { res.hdr(x-path) -m beg /allowed }\n    http-response deny if { res.hdr(x-secret) -m found }",
    );
    assert_eq!(http_get(px.addr(0), "/x", &[]).status, 502);
    assert_eq!(http_get(px.addr(0), "/allowed", &[]).status, 200);
    px.stop();
}

fn option_forwardfor_adds_the_client_address(poller: &str) {
    let (px, be) = start(poller, "option forwardfor");
    http_get(px.addr(0), "/", &[]);
    assert_eq!(be.last().head.all("x-forwarded-for"), ["127.0.0.1"]);
    // A client-sent value is kept and ours added after it.
    http_get(px.addr(0), "/", &["X-Forwarded-For: 192.0.2.1"]);
    let all = be
        .last()
        .head
        .all("x-forwarded-for")
        .join(",")
        .replace(' ', "");
    assert_eq!(all, "192.0.2.1,127.0.0.1");
    px.stop();
}

fn option_forwardfor_header_name(poller: &str) {
    let (px, be) = start(poller, "option forwardfor header X-Client-IP");
    http_get(px.addr(0), "/", &[]);
    let r = be.last();
    assert_eq!(r.header("x-client-ip"), Some("127.0.0.1"));
    assert_eq!(r.header("x-forwarded-for"), None);
    px.stop();
}

fn option_forwardfor_except_network(poller: &str) {
    let (px, be) = start(poller, "option forwardfor except 127.0.0.0/8");
    http_get(px.addr(0), "/", &[]);
    assert_eq!(
        be.last().header("x-forwarded-for"),
        None,
        "source in the except network"
    );
    px.stop();
    let (px, be) = start(poller, "option forwardfor except 10.0.0.0/8");
    http_get(px.addr(0), "/", &[]);
    assert_eq!(be.last().header("x-forwarded-for"), Some("127.0.0.1"));
    px.stop();
}

fn option_forwardfor_if_none(poller: &str) {
    let (px, be) = start(poller, "option forwardfor if-none");
    http_get(px.addr(0), "/", &["X-Forwarded-For: 192.0.2.1"]);
    assert_eq!(be.last().head.all("x-forwarded-for"), ["192.0.2.1"]);
    http_get(px.addr(0), "/", &[]);
    assert_eq!(be.last().head.all("x-forwarded-for"), ["127.0.0.1"]);
    px.stop();
}

fn option_originalto_adds_the_address_connected_to(poller: &str) {
    let (px, be) = start(poller, "option originalto");
    http_get(px.addr(0), "/", &[]);
    assert_eq!(be.last().header("x-original-to"), Some("127.0.0.1"));
    px.stop();
}

fn captures_are_accepted(poller: &str) {
    let be = HttpBackend::start("be");
    // -d: the captures show in the debug log until the logging issue puts
    // them in HAProxy's log line.
    let px = Pollux::launch(poller).args(&["-d"]).start(&format!(
        "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    capture request header Host len 32\n    capture request header User-Agent len 4\n    capture response header Content-Type len 32\n    capture cookie session len 40\n    default_backend be\n\nbackend be\n    server s1 {}\n",
        http_defaults(),
        be.addr()
    ));
    let r = http_get(
        px.addr(0),
        "/",
        &["Cookie: a=1; session=abc", "User-Agent: tester"],
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        be.last().header("cookie"),
        Some("a=1; session=abc"),
        "captures change nothing"
    );
    assert!(
        eventually(PATIENCE, || px.stderr().contains("Some(\"test\")")
            && px.stderr().contains("session=abc")),
        "captured User-Agent cut to 4 bytes and the session cookie:\n{}",
        px.logs()
    );
    px.stop();
}
