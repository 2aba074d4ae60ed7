//! Every class of config error gives `FILE:LINE: message` and exit status 1
//! under `pollux -c -f FILE` (table-driven). The line must match exactly; the
//! message is matched by a stable fragment (the keyword or value it names).
//! Plus a table of configs that must be accepted.

mod common;

use common::*;

const DEFAULTS: &str = "defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n";

/// (name, config text, line of the error, fragments: at least one must appear on that line).
/// Configs are written after DEFAULTS (5 lines), so line numbers below count from 6
/// unless the case starts with `!` (then the text is the whole file).
const CASES: &[(&str, &str, usize, &[&str])] = &[
    ("unknown_keyword_global", "!global\n    maxconn 10\n    frobnicate 1\n", 3, &["frobnicate"]),
    ("unknown_keyword_defaults", "!defaults\n    mode tcp\n    frobnicate 1\n", 3, &["frobnicate"]),
    ("unknown_keyword_frontend", "frontend fe\n    bind 127.0.0.1:8000\n    frobnicate 1\n    default_backend be\nbackend be\n    server s 127.0.0.1:9000\n", 8, &["frobnicate"]),
    ("unknown_keyword_backend", "frontend fe\n    bind 127.0.0.1:8000\n    default_backend be\nbackend be\n    frobnicate 1\n    server s 127.0.0.1:9000\n", 10, &["frobnicate"]),
    ("unknown_keyword_listen", "listen ls\n    bind 127.0.0.1:8000\n    frobnicate 1\n    server s 127.0.0.1:9000\n", 8, &["frobnicate"]),
    ("keyword_outside_any_section", "!maxconn 10\nglobal\n    maxconn 10\n", 1, &["maxconn"]),
    ("bad_number_global_maxconn", "!global\n    maxconn ten\n", 2, &["maxconn", "ten"]),
    ("bad_number_retries", "listen ls\n    bind 127.0.0.1:8000\n    retries many\n    server s 127.0.0.1:9000\n", 8, &["retries", "many"]),
    ("bad_number_weight", "listen ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000 weight heavy\n", 8, &["weight", "heavy"]),
    ("weight_out_of_range", "listen ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000 weight 300\n", 8, &["weight", "300"]),
    ("bad_number_server_maxconn", "listen ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000 maxconn lots\n", 8, &["maxconn", "lots"]),
    ("bad_time_unit", "listen ls\n    bind 127.0.0.1:8000\n    timeout client 10xs\n    server s 127.0.0.1:9000\n", 8, &["timeout", "10xs"]),
    ("bad_time_not_a_number", "listen ls\n    bind 127.0.0.1:8000\n    timeout server soon\n    server s 127.0.0.1:9000\n", 8, &["timeout", "soon"]),
    ("unknown_timeout_kind", "listen ls\n    bind 127.0.0.1:8000\n    timeout frobnicate 5s\n    server s 127.0.0.1:9000\n", 8, &["frobnicate"]),
    ("bad_server_address", "listen ls\n    bind 127.0.0.1:8000\n    server s 300.1.2.3:9000\n", 8, &["300.1.2.3"]),
    ("server_without_address", "listen ls\n    bind 127.0.0.1:8000\n    server lonely\n", 8, &["lonely", "address"]),
    ("bad_bind_address", "listen ls\n    bind 127.0.0.999:8000\n    server s 127.0.0.1:9000\n", 7, &["127.0.0.999"]),
    ("bad_port", "listen ls\n    bind 127.0.0.1:70000\n    server s 127.0.0.1:9000\n", 7, &["70000"]),
    ("bad_port_range_reversed", "listen ls\n    bind 127.0.0.1:9010-9000\n    server s 127.0.0.1:9000\n", 7, &["9010-9000"]),
    ("bad_port_range_garbage", "listen ls\n    bind 127.0.0.1:9000-x\n    server s 127.0.0.1:9000\n", 7, &["9000-x", "'x'"]),
    ("bad_fd_bind", "listen ls\n    bind fd@seven\n    server s 127.0.0.1:9000\n", 7, &["fd@seven"]),
    ("unknown_balance", "listen ls\n    bind 127.0.0.1:8000\n    balance frobnicate\n    server s 127.0.0.1:9000\n", 8, &["frobnicate", "balance"]),
    ("http_action_not_supported_yet", "listen ls\n    bind 127.0.0.1:8000\n    http-request set-map(/tmp/x) a b\n    server s 127.0.0.1:9000\n", 8, &["not supported yet"]),
    ("set_var_bad_scope", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    http-request set-var(foo.x) str(1)\n    server s 127.0.0.1:9000\n", 9, &["invalid variable name 'foo.x'"]),
    ("set_var_bad_name", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    http-request set-var(txn.a/b) str(1)\n    server s 127.0.0.1:9000\n", 9, &["invalid syntax at char '/b'"]),
    ("set_var_unknown_condition", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    http-request set-var(txn.x,ifsunny) str(1)\n    server s 127.0.0.1:9000\n", 9, &["unknown condition \"ifsunny\""]),
    ("var_fetch_bad_scope", "listen ls\n    bind 127.0.0.1:8000\n    tcp-request content reject if { var(sees.x) -m found }\n    server s 127.0.0.1:9000\n", 8, &["invalid variable name 'sees.x'"]),
    ("mode_health_in_defaults", "!defaults\n    mode health\n", 2, &["not supported yet"]),
    ("use_backend_unknown", "frontend fe\n    bind 127.0.0.1:8000\n    use_backend nowhere\n    default_backend be\nbackend be\n    server s 127.0.0.1:9000\n", 8, &["nowhere"]),
    ("unknown_mode", "listen ls\n    bind 127.0.0.1:8000\n    mode frobnicate\n    server s 127.0.0.1:9000\n", 8, &["frobnicate"]),
    ("server_in_frontend", "frontend fe\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n", 8, &["server"]),
    ("bind_in_backend", "backend be\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n", 7, &["bind"]),
    ("balance_in_global", "!global\n    balance roundrobin\n", 2, &["balance"]),
    ("default_backend_in_backend", "backend be\n    default_backend other\n    server s 127.0.0.1:9000\n", 7, &["default_backend"]),
    ("duplicate_proxy", "backend dupname\n    server s 127.0.0.1:9000\nbackend dupname\n    server s 127.0.0.1:9001\n", 8, &["dupname"]),
    ("unknown_default_backend", "frontend fe\n    bind 127.0.0.1:8000\n    default_backend nosuchbackend\n", 8, &["nosuchbackend"]),
    ("unterminated_quote", "listen ls\n    bind \"127.0.0.1:8000\n    server s 127.0.0.1:9000\n", 7, &["quote", "\""]),
    ("unterminated_if", "listen ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n.if defined(HOME)\n", 9, &[".if"]),
    ("endif_without_if", "listen ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n.endif\n", 9, &[".endif"]),
    ("else_without_if", "listen ls\n    bind 127.0.0.1:8000\n.else\n    server s 127.0.0.1:9000\n", 8, &[".else"]),
    ("unknown_if_condition", ".if frobnicate(X)\n.endif\nlisten ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n", 6, &["frobnicate"]),
    ("alert_directive", "listen ls\n    bind 127.0.0.1:8000\n.alert \"stop right here\"\n    server s 127.0.0.1:9000\n", 8, &["stop right here"]),
    ("frontend_without_bind", "frontend nobind\n    default_backend be\nbackend be\n    server s 127.0.0.1:9000\n", 6, &["nobind", "bind"]),
    ("frontend_without_backend_name", "frontend fe\n    bind 127.0.0.1:8000\n    default_backend\nbackend be\n    server s 127.0.0.1:9000\n", 8, &["default_backend"]),
    ("proxy_without_name", "backend\n    server s 127.0.0.1:9000\n", 6, &["backend"]),
    ("log_without_facility", "!global\n    log 127.0.0.1:514\n", 2, &["facility"]),
    ("log_unknown_facility", "!global\n    log 127.0.0.1:514 local8\n", 2, &["local8"]),
    ("log_bad_address", "!global\n    log 127.0.0.1:99999 local0\n", 2, &["99999"]),
    ("log_format_unknown_variable", "listen ls\n    bind 127.0.0.1:8000\n    log-format \"%ci %zz\"\n    server s 127.0.0.1:9000\n", 8, &["%zz"]),
    ("log_format_in_backend", "backend be\n    log-format %ci\n    server s 127.0.0.1:9000\n", 7, &["log-format"]),
    ("table_converter_unknown_table", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    http-request set-header x %[src,table_http_req_cnt(nope)]\n    server s 127.0.0.1:9000\n", 9, &["unable to find table 'nope' referenced in arg 1 of conversion keyword 'table_http_req_cnt'"]),
    ("stats_show_modules_not_supported_yet", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    stats show-modules\n", 9, &["'stats show-modules' is not supported yet"]),
    ("stats_scope_without_name", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    stats scope\n", 9, &["'.'"]),
    ("stats_unknown_keyword", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    stats frobnicate\n", 9, &["frobnicate"]),
    ("stats_auth_without_colon", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    stats auth admin\n", 9, &["USER:PASSWORD"]),
    ("stats_admin_without_condition", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    stats admin\n", 9, &["'stats admin' expects"]),
    ("stats_admin_in_defaults", "!defaults\n    mode http\n    stats admin if TRUE\n", 3, &["'stats admin' not allowed"]),
    ("stats_in_backend", "backend be\n    mode http\n    stats enable\n    server s 127.0.0.1:9000\n", 8, &["'stats' in a backend section is not supported yet"]),
    ("stats_socket_in_proxy", "listen ls\n    bind 127.0.0.1:8000\n    stats socket /tmp/x.sock\n", 8, &["'global' section"]),
    ("stats_refresh_bad_time", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    stats refresh soon\n", 9, &["soon"]),
    ("stats_uri_without_prefix", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    stats uri\n", 9, &["stats uri"]),
    ("use_service_unknown", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    http-request use-service lua.hello\n", 9, &["'http-request use-service lua.hello' is not supported yet"]),
    ("use_service_without_name", "listen ls\n    bind 127.0.0.1:8000\n    mode http\n    http-request use-service\n", 9, &["expects a service name"]),
    ("occurrence_below_minus_10_hdr", "listen ls\n    bind 127.0.0.1:8000\n    acl a hdr(x,-11) -m found\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'hdr': header occurrence must be >= -10"]),
    ("occurrence_below_minus_10_req_hdr", "listen ls\n    bind 127.0.0.1:8000\n    acl a req.hdr(x,-11) -m found\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'req.hdr': header occurrence must be >= -10"]),
    ("occurrence_below_minus_10_res_hdr", "listen ls\n    bind 127.0.0.1:8000\n    acl a res.hdr(x,-11) -m found\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'res.hdr': header occurrence must be >= -10"]),
    ("occurrence_below_minus_10_shdr", "listen ls\n    bind 127.0.0.1:8000\n    acl a shdr(x,-11) -m found\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'shdr': header occurrence must be >= -10"]),
    ("occurrence_below_minus_10_req_fhdr", "listen ls\n    bind 127.0.0.1:8000\n    acl a req.fhdr(x,-11) -m found\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'req.fhdr': header occurrence must be >= -10"]),
    ("occurrence_below_minus_10_res_fhdr", "listen ls\n    bind 127.0.0.1:8000\n    acl a res.fhdr(x,-11) -m found\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'res.fhdr': header occurrence must be >= -10"]),
    ("occurrence_i64_min_in_anonymous_acl", "listen ls\n    bind 127.0.0.1:8000\n    tcp-request content reject if { hdr(host,-9223372036854775808) -m found }\n    server s 127.0.0.1:9000\n", 8, &["header occurrence must be >= -10"]),
    ("occurrence_not_an_integer", "listen ls\n    bind 127.0.0.1:8000\n    acl a req.fhdr(x,last) -m found\n    server s 127.0.0.1:9000\n", 8, &["failed to parse 'last' as type 'integer' at position 2"]),
    ("fetch_of_haproxy_not_supported_yet", "listen ls\n    bind 127.0.0.1:8000\n    acl a be_conn_free gt 1\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'be_conn_free' is not supported yet"]),
    ("uuid_version_other_than_4", "listen ls\n    bind 127.0.0.1:8000\n    acl a uuid(3) -m found\n    server s 127.0.0.1:9000\n", 8, &["Unsupported UUID version: '3'"]),
    ("date_unit_unknown", "listen ls\n    bind 127.0.0.1:8000\n    acl a date(0,h) gt 1\n    server s 127.0.0.1:9000\n", 8, &["expects 's', 'ms' or 'us', got 'h'"]),
    ("payload_lv_zero_length", "listen ls\n    bind 127.0.0.1:8000\n    acl a req.payload_lv(0,0) -m found\n    server s 127.0.0.1:9000\n", 8, &["payload length must be > 0"]),
    ("hdr_ip_occurrence_checked_as_hdr", "listen ls\n    bind 127.0.0.1:8000\n    http-request set-header y %[hdr_ip(x,-11)]\n    server s 127.0.0.1:9000\n", 8, &["header occurrence must be >= -10"]),
    ("userlist_unknown_group", "!userlist L\n    user a insecure-password x groups G9\n", 1, &["no such group 'G9' specified in user 'a'"]),
    ("userlist_unknown_user", "!userlist L\n    group G users nobody\n", 1, &["no such user 'nobody' specified in group 'G'"]),
    ("userlist_md5_hash", "!userlist L\n    user a password $1$abc$def\n", 2, &["password hash '$1$' is not supported yet"]),
    ("userlist_unknown_keyword", "!userlist L\n    frob x\n", 2, &["unknown keyword 'frob' in 'userlist' section"]),
    ("userlist_never_defined", "listen ls\n    mode http\n    bind 127.0.0.1:8000\n    acl a http_auth(NOPE)\n    http-request deny unless a\n    server s 127.0.0.1:9000\n", 9, &["unable to find userlist 'NOPE'"]),
    ("auth_realm_without_value", "listen ls\n    mode http\n    bind 127.0.0.1:8000\n    http-request auth realm\n    server s 127.0.0.1:9000\n", 9, &["missing realm value"]),
    ("nbsrv_of_an_unknown_backend", "listen ls\n    bind 127.0.0.1:8000\n    acl a nbsrv(nope) lt 1\n    server s 127.0.0.1:9000\n", 8, &["unable to find backend 'nope'"]),
    ("srv_conn_of_an_unknown_server", "listen ls\n    bind 127.0.0.1:8000\n    acl a srv_conn(ls/nope) gt 1\n    server s 127.0.0.1:9000\n", 8, &["unable to find server 'nope' in backend 'ls'"]),
    ("srv_name_in_a_request_rule", "listen ls\n    mode http\n    bind 127.0.0.1:8000\n    http-request set-header x %[srv_name]\n    server s 127.0.0.1:9000\n", 9, &["srv_name"]),
    ("bin_pattern_with_a_multibyte_character", "listen ls\n    bind 127.0.0.1:8000\n    acl a req.payload(0,3) -m bin 5\u{e9}5348\n    server s 127.0.0.1:9000\n", 8, &["is not a valid hexadecimal binary string"]),
    ("payload_offset_not_an_integer", "listen ls\n    bind 127.0.0.1:8000\n    acl a req.payload(abc,1) -m found\n    server s 127.0.0.1:9000\n", 8, &["fetch method 'req.payload': failed to parse 'abc' as type 'integer' at position 1"]),
];

fn config_text(text: &str) -> String {
    match text.strip_prefix('!') {
        Some(whole) => whole.to_string(),
        None => format!("{DEFAULTS}{text}"),
    }
}

#[test]
fn case_line_numbers_point_at_real_lines() {
    // Guard against typos in the table itself.
    for (name, text, line, _) in CASES {
        let full = config_text(text);
        assert!(
            *line >= 1 && *line <= full.lines().count(),
            "{name}: line {line} outside the file"
        );
    }
}

#[test]
fn every_error_class_gives_file_line_and_exit_1() {
    let dir = TestDir::new("cfgerr");
    let mut failures = Vec::new();
    for (name, text, line, fragments) in CASES {
        let file = format!("{name}.cfg");
        let path = dir.write(&file, &config_text(text));
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        let prefix = format!("{file}:{line}:");
        let all = out.all();
        let hit = all.lines().find(|l| l.contains(&prefix));
        let problem = if out.code() != Some(1) {
            Some(format!("exit status {:?}, expected 1", out.code()))
        } else if out.stdout.contains("Configuration file is valid") {
            Some("said the configuration is valid".to_string())
        } else {
            match hit {
                None => Some(format!("no line with {prefix:?}")),
                Some(l) if !fragments.iter().any(|f| l.contains(f)) => Some(format!(
                    "the {prefix} line does not name any of {fragments:?}"
                )),
                Some(_) => None,
            }
        };
        if let Some(p) = problem {
            failures.push(format!(
                "[{name}] {p}\n--- config ---\n{}--- output ---\n{all}",
                config_text(text)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn missing_file_exits_1_naming_it() {
    let dir = TestDir::new("missing");
    let path = dir.join("does-not-exist.cfg");
    let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.all().contains("does-not-exist.cfg"), "{out}");
}

#[test]
fn all_errors_of_a_file_are_reported() {
    let dir = TestDir::new("cfgerr");
    let text = format!("{DEFAULTS}listen ls\n    bind 127.0.0.1:8000\n    frobnicate 1\n    server s 127.0.0.1:9000\n    balance nosuchalgo\n");
    let path = dir.write("two.cfg", &text);
    let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(
        out.all().contains("two.cfg:8:"),
        "first error missing:\n{out}"
    );
    assert!(
        out.all().contains("two.cfg:10:"),
        "second error missing:\n{out}"
    );
}

#[test]
fn error_in_second_file_names_that_file() {
    let dir = TestDir::new("cfgerr");
    let a = dir.write(
        "first.cfg",
        &format!("{DEFAULTS}listen ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n"),
    );
    let b = dir.write("second.cfg", "global\n    maxconn 10\n    frobnicate 1\n");
    let out = run_pollux(
        &dir,
        &["-c", "-f", a.to_str().unwrap(), "-f", b.to_str().unwrap()],
        &[],
    );
    assert_eq!(out.code(), Some(1), "{out}");
    assert!(out.all().contains("second.cfg:3:"), "{out}");
    assert!(!out.all().contains("first.cfg:"), "{out}");
}

/// Configs that must be accepted: quoting, escapes, env expansion, conditions.
const VALID: &[(&str, &str)] = &[
    ("comments_and_blank_lines", "# a comment\n\nlisten ls   # trailing comment\n    bind 127.0.0.1:8000\n\n    server s 127.0.0.1:9000\n"),
    ("quoted_and_escaped_words", ".notice \"escaped \\\" quote and \\\\ backslash\"\nlisten \"ls\"\n    bind '127.0.0.1:8000'\n    server s \"127.0.0.1\":'9000'\n"),
    ("env_expansion_in_double_quotes", "listen ls\n    bind \"${POLLUX_TEST_ADDR}:8000\"\n    server s 127.0.0.1:9000\n"),
    ("env_default_value", "listen ls\n    bind \"127.0.0.1:${POLLUX_TEST_UNSET-8000}\"\n    server s 127.0.0.1:9000\n"),
    ("if_defined_else", ".if defined(POLLUX_TEST_ADDR)\nlisten ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n.else\n    frobnicate\n.endif\n"),
    ("if_elif_streq", ".if streq(a,b)\n    frobnicate\n.elif strneq(a,b)\nlisten ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n.endif\n"),
    ("if_version_atleast_and_feature", ".if version_atleast(0.0.1)\nlisten ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n.endif\n.if feature(FROBNICATE)\n    frobnicate\n.endif\n"),
    ("notice_and_warning_do_not_fail", ".notice \"just so you know\"\n.warning \"careful\"\nlisten ls\n    bind 127.0.0.1:8000\n    server s 127.0.0.1:9000\n"),
    ("logging_keywords", "global\n    log 127.0.0.1:514 local0\n    log [::1]:5514 len 2048 format rfc5424 local1 info notice\n    log unix@/dev/log daemon\n    log /dev/log local7 err\n    log-tag lb\n    log-send-hostname\ndefaults\n    log global\n    option tcplog\n    option dontlognull\n    option log-separate-errors\nlisten ls\n    bind 127.0.0.1:8000\n    log-format \"%ci:%cp %{+Q}r %Tt\"\n    server s 127.0.0.1:9000\nbackend quiet\n    no log\n    server s 127.0.0.1:9001\n"),
    ("all_stats_keywords", "defaults\n    mode http\n    stats enable\nlisten ls\n    bind 127.0.0.1:8000\n    stats uri /st\n    stats realm Our\\ stats\n    stats auth a:b\n    stats auth c:d:e\n    stats refresh 5s\n    stats hide-version\n    stats show-legends\n    stats admin if { src 127.0.0.1 }\n    http-request use-service prometheus-exporter if { path /metrics }\n"),
    ("all_tcp_keywords", "global\n    maxconn 100\n    tune.bufsize 16384\n    noepoll\n    nopoll\n    nokqueue\n    noevports\nfrontend fe\n    mode tcp\n    bind 127.0.0.1:8000\n    bind [::1]:8000\n    bind 127.0.0.1:8001-8003\n    maxconn 10\n    option clitcpka\n    timeout client 1m\n    default_backend be\nbackend be\n    mode tcp\n    balance leastconn\n    retries 2\n    option redispatch\n    option srvtcpka\n    option tcpka\n    timeout connect 100\n    timeout server 2s\n    timeout queue 3s\n    timeout tunnel 1h\n    server a 127.0.0.1:9000 weight 3 maxconn 5\n    server b [::1]:9000 backup\n    server c 127.0.0.1:9001 disabled\nbackend be2\n    balance first\nbackend be3\n    balance source\nbackend be4\n    balance static-rr\nbackend be5\n    balance roundrobin\n"),
    ("extreme_fetch_arguments_haproxy_accepts", "listen ls\n    bind 127.0.0.1:8000\n    tcp-request inspect-delay 1s\n    acl a req.payload(18446744073709551615,1) -m found\n    acl b req.payload(-1,18446744073709551616) -m found\n    acl c hdr(host,-10) -m found\n    acl d req.fhdr(x,99999999999999999999) -m found\n    tcp-request content reject if a || b || c || d\n    server s 127.0.0.1:9000\n"),
];

#[test]
fn valid_configs_are_accepted() {
    let dir = TestDir::new("cfgok");
    let mut failures = Vec::new();
    for (name, text) in VALID {
        let path = dir.write(&format!("{name}.cfg"), &format!("{DEFAULTS}{text}"));
        let out = run_pollux(
            &dir,
            &["-c", "-f", path.to_str().unwrap()],
            &[("POLLUX_TEST_ADDR", "127.0.0.1")],
        );
        if out.code() != Some(0) || !out.stdout.contains("Configuration file is valid") {
            failures.push(format!("[{name}] {out}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} valid configs rejected:\n\n{}",
        failures.len(),
        VALID.len(),
        failures.join("\n")
    );
}
