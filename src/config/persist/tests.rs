//! Persistence keywords through the whole loader (text in, model or
//! `FILE:LINE: message` out).

use std::time::Duration;

use crate::config::parser::Parser;
use crate::config::{Config, CookieMode, StickData, StickKeyType, StickKind};
use crate::http::rules::Action;

fn load(text: &str) -> Result<Config, Vec<String>> {
    let mut p = Parser::new(&|_| None);
    p.parse_text("pollux.cfg", text);
    p.finish()
        .map(crate::config::without_timeout_notes)
        .map_err(|e| e.iter().map(ToString::to_string).collect())
}

const ERRORS: &[(&str, &str)] = &[
    ("backend be\n  cookie\n", "pollux.cfg:2: 'cookie' expects a cookie name"),
    ("backend be\n  cookie S insert frob\n", "pollux.cfg:2: 'cookie': unknown option 'frob'"),
    ("backend be\n  cookie S insert rewrite\n", "pollux.cfg:2: 'cookie': 'insert' and 'rewrite' are exclusive"),
    ("backend be\n  cookie S insert domain\n", "pollux.cfg:2: 'cookie': option 'domain' expects a value"),
    ("backend be\n  cookie S insert maxidle 3x\n", "pollux.cfg:2: 'cookie maxidle': invalid time '3x'"),
    ("backend be\n  cookie S dynamic\n", "pollux.cfg:2: 'cookie' option 'dynamic' is not supported yet"),
    ("backend be\n  cookie S preserve\n", "pollux.cfg:2: 'cookie' option 'preserve' requires 'insert' or 'indirect'"),
    ("backend be\n  cookie S rewrite indirect\n", "pollux.cfg:2: 'cookie': 'rewrite' and 'indirect' are incompatible"),
    ("backend be\n  server s1 127.0.0.1:80 cookie\n", "pollux.cfg:2: server option 'cookie' expects a value"),
    ("backend be\n  server s1 127.0.0.1:80 cookie a;b\n", "pollux.cfg:2: server option 'cookie': character ';' is not permitted"),
    ("backend be\n  force-persist\n", "pollux.cfg:2: 'force-persist' requires either 'if' or 'unless'"),
    ("backend be\n  ignore-persist if nope\n", "pollux.cfg:2: no such ACL : 'nope'"),
    ("defaults\n  force-persist if TRUE\n", "pollux.cfg:2: 'force-persist' not allowed in 'defaults' section"),
    ("backend be\n  option persist now\n", "pollux.cfg:2: unexpected argument 'now'"),
    ("backend be\n  stick-table size 10\n", "pollux.cfg:2: 'stick-table': missing 'type'"),
    ("backend be\n  stick-table type ip\n", "pollux.cfg:2: 'stick-table': missing 'size'"),
    ("backend be\n  stick-table type mac size 1\n", "pollux.cfg:2: 'stick-table': unknown type 'mac'"),
    ("backend be\n  stick-table type ip len 4 size 1\n", "pollux.cfg:2: 'stick-table': 'len' is only for type string"),
    ("backend be\n  stick-table type ip size 1 nopurge\n", "pollux.cfg:2: 'stick-table' option 'nopurge' is not supported yet"),
    ("backend be\n  stick-table type ip size 1 store gpc(2)\n", "pollux.cfg:2: 'stick-table store gpc' is not supported yet"),
    ("backend be\n  stick-table type ip size 1 store conn_rate\n", "pollux.cfg:2: 'stick-table store': 'conn_rate' expects a period"),
    ("backend be\n  stick-table type ip size 1 store frob\n", "pollux.cfg:2: 'stick-table store': unknown data type 'frob'"),
    ("backend be\n  stick-table type ip size 1\n  stick-table type ip size 1\n", "pollux.cfg:3: only one 'stick-table' per section"),
    ("defaults\n  stick-table type ip size 1\n", "pollux.cfg:2: 'stick-table' not allowed in 'defaults' section"),
    ("backend be\n  stick frob src\n", "pollux.cfg:2: 'stick' expects 'on', 'match', 'store-request' or 'store-response', got 'frob'"),
    ("backend be\n  stick on\n", "pollux.cfg:2: 'stick on' expects a pattern"),
    ("backend be\n  stick on frob(1)\n", "pollux.cfg:2: 'stick on': unknown fetch method 'frob'"),
    ("backend be\n  stick on res.cook(J)\n", "pollux.cfg:2: 'stick on': request rule uses a fetch that extracts information from response contents"),
    ("backend be\n  stick on src\n", "pollux.cfg:2: 'stick' rule in backend 'be': no stick-table in this section"),
    ("backend be\n  stick match src table t\n", "pollux.cfg:2: 'stick' rule in backend 'be': no stick-table named 't'"),
    ("backend be\n  stick on src tabel t\n", "pollux.cfg:2: 'stick on': unexpected argument 'tabel'"),
    ("backend be\n  stick-table type ip size 1\n  stick on src_port\n", "pollux.cfg:3: 'stick' rule in backend 'be': the pattern's type cannot be a key"),
    ("frontend fe\n  bind :80\n  stick on src\n  default_backend be\nbackend be\n", "pollux.cfg:3: 'stick' not allowed in 'frontend' section"),
    ("listen li\n  bind :80\n  mode http\n  http-request track-sc0 src\n", "pollux.cfg:4: 'http-request track-sc0' in listen 'li': no stick-table in this section"),
    ("listen li\n  bind :80\n  http-request track-sc1 src table t\n", "pollux.cfg:3: 'http-request track-sc1' in listen 'li': no stick-table named 't'"),
    ("listen li\n  bind :80\n  http-request track-sc2\n", "pollux.cfg:3: 'http-request track-sc2' expects a key"),
    ("listen li\n  bind :80\n  stick-table type ip size 1\n  http-request track-sc0 src foo\n", "pollux.cfg:4: 'http-request track-sc0': unexpected argument 'foo'"),
    ("listen li\n  bind :80\n  http-request deny if { sc0_conn_rate(t) gt 1 }\n", "pollux.cfg:3: 'sample fetch sc0_conn_rate' in listen 'li': no stick-table named 't'"),
    ("listen li\n  bind :80\n  http-request sc-inc-gpc0(3)\n", "pollux.cfg:3: 'http-request sc-inc-gpc0(3)': invalid stick table track ID. The max allowed ID is 2"),
    ("listen li\n  bind :80\n  http-request sc-inc-gpc1(x)\n", "pollux.cfg:3: 'http-request sc-inc-gpc1(x)': expects a stick counter number, as 'sc-inc-gpc0(0)'"),
    ("listen li\n  bind :80\n  http-request sc-set-gpt0(1)\n", "pollux.cfg:3: 'http-request sc-set-gpt0(1)' expects exactly 1 argument(s): a value (an integer or a sample expression)"),
    ("listen li\n  bind :80\n  http-request sc-set-gpt0(1) frob\n", "pollux.cfg:3: 'http-request sc-set-gpt0(1)': unknown fetch method 'frob'"),
    ("listen li\n  bind :80\n  mode http\n  http-response sc-set-gpt0(0) req.hdr(x),frob\n", "pollux.cfg:4: 'http-response sc-set-gpt0(0)': unknown converter 'frob'"),
    ("listen li\n  bind :80\n  tcp-request content sc-inc-gpc0(0)\n", "pollux.cfg:3: 'tcp-request content sc-inc-gpc0(0)' is not supported yet"),
    ("listen li\n  bind :80\n  tcp-request connection sc-inc-gpc1(4)\n", "pollux.cfg:3: 'tcp-request connection sc-inc-gpc1(4)': invalid stick table track ID. The max allowed ID is 2"),
    ("listen li\n  bind :80\n  tcp-request connection track-sc0 src table nope\n", "pollux.cfg:3: 'tcp-request connection track-sc0' in listen 'li': no stick-table named 'nope'"),
    ("listen li\n  bind :80\n  tcp-request content track-sc2 src\n", "pollux.cfg:3: 'tcp-request content track-sc2' in listen 'li': no stick-table in this section (add one or use 'table NAME')"),
    ("listen li\n  bind :80\n  stick-table type ip size 1\n  tcp-request connection track-sc0 req.hdr(host)\n", "pollux.cfg:4: tcp-request connection rule uses a fetch that extracts information from HTTP request contents, none of which is available here"),
    ("listen li\n  bind :80\n  stick-table type ip size 1\n  tcp-request connection track-sc1\n", "pollux.cfg:4: 'tcp-request connection track-sc1' expects a key (a sample fetch like 'src')"),
    ("listen li\n  bind :80\n  http-request deny if { sc_get_gpc0(3) gt 1 }\n", "pollux.cfg:3: anonymous ACL: fetch method 'sc_get_gpc0': invalid stick counter '3' (0 to 2)"),
    ("listen li\n  bind :80\n  http-request deny if { sc_get_gpc0 gt 1 }\n", "pollux.cfg:3: anonymous ACL: fetch method 'sc_get_gpc0' expects a stick counter number (0 to 2)"),
    ("listen li\n  bind :80\n  http-request deny if { src_conn_cnt(a,b) gt 1 }\n", "pollux.cfg:3: anonymous ACL: fetch method 'src_conn_cnt' expects at most 1 argument(s), got 2"),
    ("listen li\n  bind :80\n  http-request deny if { src,table_gpc0(t) gt 1 }\n", "pollux.cfg:3: unable to find table 't' referenced in arg 1 of conversion keyword 'table_gpc0' in proxy 'li'"),
    ("listen li\n  bind :80\n  stick-table type ip size 1\n  http-request deny if { src,table_gpc(0,nope) gt 1 }\n", "pollux.cfg:4: unable to find table 'nope' referenced in arg 2 of conversion keyword 'table_gpc' in proxy 'li'"),
    ("listen li\n  bind :80\n  stick-table type ip size 1\n  http-request deny if { src,table_gpc0 gt 1 }\n", "pollux.cfg:4: anonymous ACL: converter 'table_gpc0': no table name (the proxy's own table) is not supported yet"),
    ("listen li\n  bind :80\n  stick-table type ip size 1\n  http-request deny if { src,table_expire(li,x) gt 1 }\n", "pollux.cfg:4: anonymous ACL: converter 'table_expire': failed to parse 'x' as type 'signed integer' at position 2"),
    ("listen li\n  bind :80\n  http-request deny if { sc0_http_fail_cnt gt 1 }\n", "pollux.cfg:3: anonymous ACL: fetch method 'sc0_http_fail_cnt' is not supported yet"),
    ("backend a\n  stick-table type ip size 1\nfrontend a\n  bind :80\n  stick-table type ip size 1\n  default_backend a\n", "pollux.cfg:5: stick-table 'a' is already declared at pollux.cfg:2"),
];

#[test]
fn every_persistence_error_is_reported_at_its_file_and_line() {
    let mut failures = Vec::new();
    for (text, want) in ERRORS {
        match load(text) {
            Ok(_) => failures.push(format!("{text:?}: no error, want {want}")),
            Err(errs) if errs.len() == 1 && errs[0].starts_with(want) => {}
            Err(errs) => failures.push(format!("{text:?}: got {errs:?}, want {want}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const FULL: &str = "\
defaults
  mode http
  cookie SRV insert indirect nocache httponly secure domain .a.com domain .b.com maxidle 30m maxlife 8h attr SameSite=Lax
frontend fe
  bind :80
  stick-table type ip size 100k expire 30s store conn_cur,conn_rate(10s),http_req_rate(10s)
  http-request track-sc0 src
  http-request track-sc1 hdr(x-user) table sessions
  http-request deny deny_status 429 if { sc0_http_req_rate gt 10 } || { src_conn_cur ge 20 }
  default_backend app
backend app
  option persist
  force-persist if { hdr(x-debug) -m found }
  ignore-persist if { path_beg /static }
  server s1 127.0.0.1:8001 cookie a
  server s2 127.0.0.1:8002 cookie b backup
backend sessions
  stick-table type string len 16 size 1m expire 30m
  stick match req.cook(JSESSIONID)
  stick store-response res.cook(JSESSIONID)
  stick on src table fe if TRUE
  server s1 127.0.0.1:9001
";

#[test]
fn persistence_config_parses_into_the_model() {
    let c = load(FULL).unwrap();
    let app = &c.backends[0];
    let ck = app.persist.cookie.as_ref().unwrap();
    assert_eq!((ck.name.as_str(), ck.mode), ("SRV", CookieMode::Insert));
    assert!(ck.indirect && ck.nocache && ck.httponly && ck.secure && !ck.postonly);
    assert_eq!(ck.domains, [".a.com", ".b.com"]);
    assert_eq!(ck.maxidle, Some(Duration::from_secs(1800)));
    assert_eq!(ck.maxlife, Some(Duration::from_secs(8 * 3600)));
    assert_eq!(ck.attrs, ["SameSite=Lax"]);
    assert!(app.persist.persist);
    let kinds: Vec<bool> = app.persist.rules.iter().map(|r| r.force).collect();
    assert_eq!(kinds, [true, false]);
    let cookies: Vec<_> = app.servers.iter().map(|s| s.cookie.as_deref()).collect();
    assert_eq!(cookies, [Some("a"), Some("b")]);

    let names: Vec<&str> = c.stick_tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["fe", "sessions"]);
    let fe = &c.stick_tables[0];
    assert_eq!(
        (fe.key, fe.size, fe.expire),
        (StickKeyType::Ip, 102400, Some(Duration::from_secs(30)))
    );
    assert!(fe.store.has(StickData::ConnCur));
    assert_eq!(
        fe.store.period(StickData::HttpReqRate),
        Some(Duration::from_secs(10))
    );
    assert_eq!(fe.store.period(StickData::ConnCur), None);
    let st = &c.stick_tables[1];
    assert_eq!(
        (st.key, st.len, st.size),
        (StickKeyType::String, 16, 1 << 20)
    );

    let sess = &c.backends[1];
    assert!(sess.persist.cookie.is_some(), "inherited from defaults");
    let rules: Vec<_> = sess
        .persist
        .stick
        .iter()
        .map(|r| (r.kind, r.table.as_str(), r.cond.is_some()))
        .collect();
    assert_eq!(
        rules,
        [
            (StickKind::Match, "sessions", false),
            (StickKind::StoreResponse, "sessions", false),
            (StickKind::On, "fe", true),
        ]
    );
    let tracks: Vec<_> = c.frontends[0]
        .http
        .rules_req
        .iter()
        .filter_map(|r| match &r.action {
            Action::TrackSc(t) => Some((t.slot, t.table.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(tracks, [(0, None), (1, Some("sessions".to_string()))]);
}

#[test]
fn cookie_in_a_frontend_and_maxidle_outside_insert_are_warnings() {
    let c = load("frontend fe\n  bind :80\n  cookie S insert\n  default_backend be\nbackend be\n  cookie S rewrite maxidle 1h\n").unwrap();
    assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
    assert!(c.warnings[0].starts_with("pollux.cfg:3: 'cookie' ignored because frontend 'fe'"));
    assert!(c.warnings[1].starts_with("pollux.cfg:6: 'cookie' options 'maxidle' and 'maxlife'"));
    assert_eq!(c.backends[0].persist.cookie.as_ref().unwrap().maxidle, None);
}
