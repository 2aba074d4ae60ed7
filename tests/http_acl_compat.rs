//! ACL matching against HAProxy 2.6: the same criteria (every `-m` method,
//! `-i`, `-f`, `-M`, operators, converters) and the same requests go
//! through Debian's haproxy and through pollux; each criterion that
//! matches adds its name to an `X-Acl` header, and the backend must see
//! the same names from both.

mod common;

use common::reference::pollux_and_haproxy;
use common::*;

per_poller!(every_match_method_and_flag_matches_as_haproxy);

/// (name, criterion); FILE and MAP are the pattern files.
const CRITERIA: &[(&str, &str)] = &[
    ("str", "hdr(x-a) abc"),
    ("str_i", "hdr(x-a) -i ABC"),
    ("str_i_utf8", "hdr(x-a) -i É"),
    ("beg", "hdr(x-a) -m beg ab"),
    ("beg_i", "hdr(x-a) -m beg -i AB"),
    ("end", "hdr(x-a) -m end bc"),
    ("sub", "hdr(x-a) -m sub X"),
    ("sub_i", "hdr(x-a) -m sub -i x"),
    ("reg", "hdr(x-a) -m reg ^a.c$"),
    ("reg_i", "hdr(x-a) -m reg -i ^A.C$"),
    ("reg_byte", "hdr(x-a) -m reg ^.$"),
    ("len2", "hdr(x-a) -m len 2"),
    ("len_ge3", "hdr(x-a) -m len ge 3"),
    ("bin", "hdr(x-a) -m bin 616263"),
    ("found", "hdr(x-a) -m found"),
    ("notfound", "hdr(x-none) -m found"),
    ("bool", "hdr(x-n) -m bool"),
    ("int", "hdr(x-n) -m int 12"),
    ("int_gt", "hdr(x-n) -m int gt 10"),
    ("int_ops", "hdr(x-n) -m int lt 1 gt 11"),
    ("int_range", "hdr(x-n) -m int 1:3"),
    ("int_open", "hdr(x-n) -m int :0"),
    ("ip", "hdr(x-ip) -m ip 10.0.0.0/8"),
    ("ip_mask", "hdr(x-ip) -m ip 192.168.0.0/255.255.0.0"),
    ("ip6", "hdr(x-ip) -m ip ::ffff:10.0.0.0/104"),
    ("dir", "path -m dir b"),
    ("dir2", "path -m dir /a/b/"),
    ("dom", "path -m dom b"),
    ("dom2", "hdr(host) -m dom b.com"),
    ("path_beg_f", "path_beg -f FILE"),
    ("map_keys", "hdr(host) -M -f MAP"),
    ("conv", "req.hdr(x-a),lower -m str abc"),
    ("conv_map", "req.hdr(host),map(MAP,none) -m str gold"),
    ("cnt", "hdr_cnt(x-a) 2"),
    ("urlp", "urlp(q) -m int 5"),
    ("path_len", "path -m len ge 6"),
    ("src", "src 127.0.0.0/8"),
];

/// (path, headers): numbers, addresses, case, non-ASCII bytes, repeats.
const REQUESTS: &[(&str, &[&str])] = &[
    (
        "/a/b/c?q=5",
        &["X-A: abc", "X-N: 12", "X-Ip: 10.1.2.3", "Host: a.com"],
    ),
    (
        "/x.b.y",
        &["X-A: ABC", "X-N: 3", "X-Ip: 192.168.7.1", "Host: www.b.com"],
    ),
    ("/z", &["X-A: é", "X-N: abc", "X-Ip: ::ffff:10.0.0.1"]),
    (
        "/api/v1",
        &[
            "X-A: aXc",
            "X-A: abc",
            "X-N: 0",
            "Host: b.com",
            "X-Ip: nope",
        ],
    ),
    ("/", &["X-A: É", "X-N: -4", "X-Ip: 2001:db8::1"]),
];

fn every_match_method_and_flag_matches_as_haproxy(poller: &str) {
    let impls = pollux_and_haproxy(poller);
    if impls.len() < 2 {
        return;
    }
    let dir = TestDir::new("acl-compat");
    let file = dir.write("paths.lst", "# paths\n/api\n  /x.\n");
    let map = dir.write("hosts.map", "b.com gold\nwww.b.com silver\n");
    let mut rules = String::new();
    for (name, crit) in CRITERIA {
        let crit = crit
            .replace("FILE", &file.display().to_string())
            .replace("MAP", &map.display().to_string());
        rules.push_str(&format!("    acl {name} {crit}\n"));
        rules.push_str(&format!(
            "    http-request add-header X-Acl {name} if {name}\n"
        ));
    }
    let mut seen: Vec<Vec<String>> = Vec::new();
    for imp in &impls {
        let be = HttpBackend::start("be");
        let cfg = format!(
            "{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n{rules}    default_backend be\n\nbackend be\n    server s {}\n",
            http_defaults(),
            be.addr()
        );
        let px = imp.start(&cfg);
        for (path, headers) in REQUESTS {
            let r = http_get(px.addr(0), path, headers);
            assert_eq!(r.status, 200, "{}: {path}: {r}", imp.name);
        }
        let got: Vec<String> = be
            .requests()
            .iter()
            .map(|r| r.head.all("x-acl").join(" "))
            .collect();
        assert_eq!(got.len(), REQUESTS.len(), "{}", imp.name);
        seen.push(got);
        px.stop();
    }
    let diffs: Vec<String> = REQUESTS
        .iter()
        .zip(seen[0].iter().zip(&seen[1]))
        .filter(|(_, (a, b))| a != b)
        .map(|((p, h), (a, b))| format!("{p} {h:?}\n  pollux:  {a}\n  haproxy: {b}"))
        .collect();
    assert!(diffs.is_empty(), "matches differ:\n{}", diffs.join("\n"));
    // Not a comparison of nothing: each request matched something.
    assert!(seen[0].iter().all(|m| !m.is_empty()), "{:?}", seen[0]);
}
