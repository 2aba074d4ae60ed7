//! ACLs: every criterion and match method, `-i`, `-f FILE`, anonymous ACLs,
//! `!`, `||`, implicit AND and `unless`, each shown by where `use_backend`
//! sends a matching and a non-matching request (backends "hit" and "miss").

mod common;

use common::*;
use socket2::{Domain, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};

/// A request to send: raw bytes, to frontend port `port` (0 or 1) on `dst`,
/// from `src` (and `src_port` when set).
struct Req {
    bytes: Vec<u8>,
    port: usize,
    dst: Ipv4Addr,
    src: Ipv4Addr,
    src_port: u16,
}

fn get(path: &str, headers: &[&str]) -> Req {
    Req {
        bytes: request_bytes("GET", path, headers, b""),
        port: 0,
        dst: Ipv4Addr::LOCALHOST,
        src: Ipv4Addr::LOCALHOST,
        src_port: 0,
    }
}

fn method(m: &str) -> Req {
    Req {
        bytes: request_bytes(m, "/", &[], b""),
        ..get("/", &[])
    }
}

const LO2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn open(px: &Pollux, r: &Req) -> TcpStream {
    let to = SocketAddr::new(IpAddr::V4(r.dst), px.ports[r.port]);
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.set_reuse_address(true).expect("reuseaddr");
    sock.bind(&SocketAddr::new(IpAddr::V4(r.src), r.src_port).into())
        .expect("bind client");
    sock.connect_timeout(&to.into(), PATIENCE)
        .unwrap_or_else(|e| panic!("connect {to}: {e}"));
    let s: TcpStream = sock.into();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Start pollux with `rules` in the frontend (`use_backend hit if t` added when
/// there is no use_backend line), then every `hits` request must reach "hit"
/// and every `misses` one "miss".
fn case(poller: &str, rules: &str, hits: &[Req], misses: &[Req]) {
    let hit = HttpBackend::start("hit");
    let miss = HttpBackend::start("miss");
    let mut rules = rules.to_string();
    if !rules.contains("use_backend") {
        rules.push_str("\n    use_backend hit if t");
    }
    let lo2 = if can_bind_source(IpAddr::V4(LO2)) {
        "    bind 127.0.0.2:@P0@\n"
    } else {
        ""
    };
    let px = Pollux::start(
        poller,
        &format!(
            "global\n    maxconn 200\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    bind 127.0.0.1:@P1@\n{lo2}    {rules}\n    default_backend miss\n\nbackend hit\n    server h {}\n\nbackend miss\n    server m {}\n",
            http_defaults(),
            hit.addr(),
            miss.addr()
        ),
    );
    for (want, reqs) in [("hit", hits), ("miss", misses)] {
        for r in reqs {
            let mut c = HttpConn::from_stream(open(&px, r));
            c.send(&r.bytes);
            let method = String::from_utf8_lossy(&r.bytes)
                .split(' ')
                .next()
                .unwrap()
                .to_string();
            let resp = c.response_to(&method);
            assert_eq!(
                resp.server(),
                want,
                "rules:\n    {rules}\nrequest {:?} from {}:{} to {}:port{} went to {:?} ({})",
                String::from_utf8_lossy(&r.bytes),
                r.src,
                r.src_port,
                r.dst,
                r.port,
                resp.server(),
                resp.status
            );
        }
    }
    px.stop();
}

per_poller!(
    src_matches_the_client_address,
    dst_matches_the_address_connected_to,
    src_port_matches_the_client_port,
    dst_port_matches_the_port_connected_to,
    method_matches,
    path_matches_exactly_without_the_query,
    path_beg_matches,
    path_end_matches,
    path_sub_matches,
    path_reg_matches,
    path_dir_matches_a_slash_delimited_part,
    url_matches_path_and_query,
    url_beg_matches,
    url_sub_matches,
    url_reg_matches,
    url_param_matches_a_query_parameter,
    hdr_matches_a_header_value,
    hdr_beg_matches,
    hdr_end_matches,
    hdr_sub_matches,
    hdr_reg_matches,
    hdr_dom_matches_dot_delimited_parts,
    hdr_cnt_counts_header_values,
    req_hdr_with_match_str,
    converters_apply_to_the_fetched_value,
    a_map_converter_feeds_the_match,
    cook_matches_a_cookie_value,
    base_matches_host_and_path,
    always_true_and_always_false,
    flag_i_ignores_case,
    match_str_beg_end_sub,
    match_reg_and_dom,
    match_ip,
    match_int,
    match_found,
    flag_f_reads_patterns_from_a_file,
    anonymous_acl_in_braces,
    negation_with_bang,
    or_with_double_bar,
    implicit_and_of_two_acls,
    unless_inverts_the_condition,
);

fn src_matches_the_client_address(poller: &str) {
    if !can_bind_source(IpAddr::V4(LO2)) {
        println!("SKIPPED: cannot bind 127.0.0.2 here");
        return;
    }
    let other = Req {
        src: LO2,
        ..get("/", &[])
    };
    case(poller, "acl t src 127.0.0.1", &[get("/", &[])], &[other]);
}

fn dst_matches_the_address_connected_to(poller: &str) {
    if !can_bind_source(IpAddr::V4(LO2)) {
        println!("SKIPPED: cannot bind 127.0.0.2 here");
        return;
    }
    let to2 = Req {
        dst: LO2,
        ..get("/", &[])
    };
    case(poller, "acl t dst 127.0.0.2", &[to2], &[get("/", &[])]);
}

fn src_port_matches_the_client_port(poller: &str) {
    let p = free_port();
    let from_p = Req {
        src_port: p,
        ..get("/", &[])
    };
    case(
        poller,
        &format!("acl t src_port {p}"),
        &[from_p],
        &[get("/", &[])],
    );
}

fn dst_port_matches_the_port_connected_to(poller: &str) {
    let to1 = Req {
        port: 1,
        ..get("/", &[])
    };
    case(poller, "acl t dst_port @P1@", &[to1], &[get("/", &[])]);
}

fn method_matches(poller: &str) {
    case(
        poller,
        "acl t method POST PUT",
        &[method("PUT")],
        &[method("GET")],
    );
}

fn path_matches_exactly_without_the_query(poller: &str) {
    case(
        poller,
        "acl t path /a/b",
        &[get("/a/b?x=1", &[])],
        &[get("/a/b/c", &[]), get("/a", &[])],
    );
}

fn path_beg_matches(poller: &str) {
    case(
        poller,
        "acl t path_beg /api/",
        &[get("/api/v1", &[])],
        &[get("/apx/api/", &[])],
    );
}

fn path_end_matches(poller: &str) {
    case(
        poller,
        "acl t path_end .jpg .png",
        &[get("/i/a.png?s=1", &[])],
        &[get("/a.jpg.gz", &[])],
    );
}

fn path_sub_matches(poller: &str) {
    case(
        poller,
        "acl t path_sub admin",
        &[get("/x/badminton", &[])],
        &[get("/adm/in?admin", &[])],
    );
}

fn path_reg_matches(poller: &str) {
    case(
        poller,
        "acl t path_reg ^/v[0-9]+/",
        &[get("/v12/x", &[])],
        &[get("/vx/1/", &[])],
    );
}

fn path_dir_matches_a_slash_delimited_part(poller: &str) {
    case(
        poller,
        "acl t path_dir img",
        &[get("/static/img/a.png", &[])],
        &[get("/static/imgs/a", &[])],
    );
}

fn url_matches_path_and_query(poller: &str) {
    case(
        poller,
        "acl t url /a?b=1",
        &[get("/a?b=1", &[])],
        &[get("/a?b=2", &[]), get("/a", &[])],
    );
}

fn url_beg_matches(poller: &str) {
    case(
        poller,
        "acl t url_beg /a?b",
        &[get("/a?b=9", &[])],
        &[get("/a/?b", &[])],
    );
}

fn url_sub_matches(poller: &str) {
    case(
        poller,
        "acl t url_sub token=",
        &[get("/x?y=1&token=2", &[])],
        &[get("/x?tok=2", &[])],
    );
}

fn url_reg_matches(poller: &str) {
    case(
        poller,
        "acl t url_reg [?&]debug=1",
        &[get("/p?a=2&debug=1", &[])],
        &[get("/debug=1", &[])],
    );
}

fn url_param_matches_a_query_parameter(poller: &str) {
    case(
        poller,
        "acl t url_param(user) alice",
        &[get("/?x=1&user=alice", &[])],
        &[get("/?user=bob", &[]), get("/alice", &[])],
    );
}

fn hdr_matches_a_header_value(poller: &str) {
    case(
        poller,
        "acl t hdr(host) example.com",
        &[get("/", &["Host: example.com"])],
        &[get("/", &["Host: www.example.com"])],
    );
}

fn hdr_beg_matches(poller: &str) {
    case(
        poller,
        "acl t hdr_beg(user-agent) curl/",
        &[get("/", &["User-Agent: curl/8.0"])],
        &[get("/", &["User-Agent: xcurl/8"])],
    );
}

fn hdr_end_matches(poller: &str) {
    case(
        poller,
        "acl t hdr_end(host) .example.com",
        &[get("/", &["Host: a.example.com"])],
        &[get("/", &["Host: a.example.org"])],
    );
}

fn hdr_sub_matches(poller: &str) {
    case(
        poller,
        "acl t hdr_sub(accept) json",
        &[get("/", &["Accept: application/json"])],
        &[get("/", &["Accept: text/html"])],
    );
}

fn hdr_reg_matches(poller: &str) {
    case(
        poller,
        "acl t hdr_reg(x-id) ^[0-9]+$",
        &[get("/", &["X-Id: 1234"])],
        &[get("/", &["X-Id: 12a4"])],
    );
}

fn hdr_dom_matches_dot_delimited_parts(poller: &str) {
    case(
        poller,
        "acl t hdr_dom(host) example.com",
        &[get("/", &["Host: www.example.com"])],
        &[get("/", &["Host: www.example.community"])],
    );
}

fn hdr_cnt_counts_header_values(poller: &str) {
    case(
        poller,
        "acl t hdr_cnt(x-a) gt 1",
        &[get("/", &["X-A: 1", "X-A: 2"])],
        &[get("/", &["X-A: 1"])],
    );
}

fn req_hdr_with_match_str(poller: &str) {
    case(
        poller,
        "acl t req.hdr(x-env) -m str prod",
        &[get("/", &["X-Env: prod"])],
        &[get("/", &["X-Env: production"])],
    );
}

fn converters_apply_to_the_fetched_value(poller: &str) {
    case(
        poller,
        "acl t req.hdr(host),lower,field(1,.) -m str api\n    \
         acl long path,length -m int 6:\n    use_backend hit if t || long",
        &[
            get("/", &["Host: API.example.com"]),
            get("/abcdef", &["Host: www"]),
        ],
        &[get("/", &["Host: www.api.com"]), get("/abcd", &[])],
    );
}

fn a_map_converter_feeds_the_match(poller: &str) {
    let dir = TestDir::new("acl-map");
    let map = dir.write(
        "hosts.map",
        "# host -> tier\napi.example.com gold\nexample.com silver\n",
    );
    case(
        poller,
        &format!(
            "acl t req.hdr(host),lower,map({},none) -m str gold",
            map.display()
        ),
        &[get("/", &["Host: API.Example.com"])],
        &[get("/", &["Host: example.com"]), get("/", &["Host: other"])],
    );
}

fn cook_matches_a_cookie_value(poller: &str) {
    case(
        poller,
        "acl t cook(session) abc",
        &[get("/", &["Cookie: a=1; session=abc"])],
        &[
            get("/", &["Cookie: session=abd"]),
            get("/", &["Cookie: xsession=abc"]),
        ],
    );
}

fn base_matches_host_and_path(poller: &str) {
    case(
        poller,
        "acl t base example.com/app",
        &[get("/app?q=1", &["Host: example.com"])],
        &[
            get("/app2", &["Host: example.com"]),
            get("/app", &["Host: other.com"]),
        ],
    );
}

fn always_true_and_always_false(poller: &str) {
    case(
        poller,
        "acl f always_false\n    acl t always_true\n    use_backend miss if f\n    use_backend hit if t",
        &[get("/", &[])],
        &[],
    );
}

fn flag_i_ignores_case(poller: &str) {
    case(
        poller,
        "acl t hdr(x-a) -i FoO\n    acl u hdr(x-a) FoO\n    use_backend hit if t !u",
        &[get("/", &["X-A: foo"])],
        &[get("/", &["X-A: FoO"]), get("/", &["X-A: fox"])],
    );
}

fn match_str_beg_end_sub(poller: &str) {
    case(
        poller,
        "acl s req.hdr(x-s) -m str abc\n    acl b req.hdr(x-b) -m beg ab\n    acl e req.hdr(x-e) -m end bc\n    acl u req.hdr(x-u) -m sub b\n    use_backend hit if s b e u",
        &[get("/", &["X-S: abc", "X-B: abz", "X-E: zbc", "X-U: zbz"])],
        &[
            get("/", &["X-S: abcd", "X-B: abz", "X-E: zbc", "X-U: zbz"]),
            get("/", &["X-S: abc", "X-B: zab", "X-E: zbc", "X-U: zbz"]),
            get("/", &["X-S: abc", "X-B: abz", "X-E: bcz", "X-U: zbz"]),
            get("/", &["X-S: abc", "X-B: abz", "X-E: zbc", "X-U: zzz"]),
        ],
    );
}

fn match_reg_and_dom(poller: &str) {
    case(
        poller,
        "acl r req.hdr(x-r) -m reg ^a.c$\n    acl d req.hdr(x-d) -m dom example.com\n    use_backend hit if r d",
        &[get("/", &["X-R: abc", "X-D: a.example.com"])],
        &[get("/", &["X-R: abbc", "X-D: example.com"]), get("/", &["X-R: abc", "X-D: myexample.com"])],
    );
}

fn match_ip(poller: &str) {
    case(
        poller,
        "acl t req.hdr(x-ip) -m ip 10.0.0.0/8 192.168.1.1",
        &[
            get("/", &["X-Ip: 10.1.2.3"]),
            get("/", &["X-Ip: 192.168.1.1"]),
        ],
        &[
            get("/", &["X-Ip: 11.0.0.1"]),
            get("/", &["X-Ip: 192.168.1.2"]),
        ],
    );
}

fn match_int(poller: &str) {
    case(
        poller,
        "acl t req.hdr(x-n) -m int gt 10",
        &[get("/", &["X-N: 11"])],
        &[get("/", &["X-N: 10"]), get("/", &["X-N: 2"])],
    );
}

fn match_found(poller: &str) {
    case(
        poller,
        "acl t req.hdr(x-debug) -m found",
        &[get("/", &["X-Debug: 0"])],
        &[get("/", &[])],
    );
}

fn flag_f_reads_patterns_from_a_file(poller: &str) {
    let dir = TestDir::new("acl-file");
    let f = dir.write("paths.lst", "# comment\n/alpha\n\n/beta\n");
    case(
        poller,
        &format!("acl t path_beg -f {}", f.display()),
        &[get("/alpha/1", &[]), get("/beta", &[])],
        &[get("/gamma", &[]), get("/comment", &[])],
    );
}

fn anonymous_acl_in_braces(poller: &str) {
    case(
        poller,
        "use_backend hit if { path_beg /anon } { method GET }",
        &[get("/anon/x", &[])],
        &[
            get("/named", &[]),
            Req {
                bytes: request_bytes("POST", "/anon", &[], b"x"),
                ..get("/", &[])
            },
        ],
    );
}

fn negation_with_bang(poller: &str) {
    case(
        poller,
        "acl x path_beg /x\n    use_backend hit if !x",
        &[get("/y", &[])],
        &[get("/x", &[])],
    );
}

fn or_with_double_bar(poller: &str) {
    case(
        poller,
        "acl a path_beg /a\n    acl b path_beg /b\n    use_backend hit if a || b",
        &[get("/a", &[]), get("/b", &[])],
        &[get("/c", &[])],
    );
}

fn implicit_and_of_two_acls(poller: &str) {
    case(
        poller,
        "acl a path_beg /a\n    acl g method GET\n    use_backend hit if a g",
        &[get("/a", &[])],
        &[
            get("/b", &[]),
            Req {
                bytes: request_bytes("DELETE", "/a", &[], b""),
                ..get("/", &[])
            },
        ],
    );
}

fn unless_inverts_the_condition(poller: &str) {
    case(
        poller,
        "acl x path_beg /x\n    use_backend hit unless x",
        &[get("/y", &[])],
        &[get("/x", &[])],
    );
}
