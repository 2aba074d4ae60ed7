//! The runtime API's map and ACL commands (`show|get|add|set|del|clear
//! map|acl`): each change is checked on real traffic, with one and two
//! event-loop threads, and the answers' text is compared with HAProxy
//! 2.6's for the same config and the same commands (entry handles, which
//! are addresses there, and the config's own path are masked).

mod common;

use common::reference::pollux_and_haproxy;
use common::*;
use std::path::Path;

per_poller!(
    changes_steer_traffic_on_every_thread,
    answers_match_haproxy_26,
);

/// A frontend whose routing reads a map (`gold` hosts go to `hit`) and
/// whose deny list is an ACL file.
fn config(sock: &Path, threads: u32, map: &Path, list: &Path, hit: &str, miss: &str) -> String {
    format!(
        "global\n    nbthread {threads}\n    maxconn 200\n    stats socket {} level admin\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    acl gold req.hdr(host),lower,map({},none) -m str gold\n    acl blocked path_beg -f {}\n    http-request deny if blocked\n    http-request set-header X-Tier %[req.hdr(host),lower,map({},none)]\n    use_backend hit if gold\n    default_backend miss\n\nbackend hit\n    server h {hit}\n\nbackend miss\n    server m {miss}\n",
        sock.display(),
        http_defaults(),
        map.display(),
        list.display(),
        map.display(),
    )
}

/// Where each of `n` requests (each on a new connection, so that both
/// threads take some) goes: the backend, or the status when denied.
fn routes(px: &Pollux, host: &str, path: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let r = http_get(
                px.addr(0),
                path,
                &[&format!("Host: {host}"), "Connection: close"],
            );
            match r.status {
                200 => r.server().to_string(),
                s => s.to_string(),
            }
        })
        .collect()
}

fn all(px: &Pollux, host: &str, path: &str, want: &str) {
    let got = routes(px, host, path, 12);
    assert!(
        got.iter().all(|g| g == want),
        "{host}{path}: want {want} on every connection, got {got:?}"
    );
}

fn changes_steer_traffic_on_every_thread(poller: &str) {
    for threads in [1, 2] {
        let hit = HttpBackend::start("hit");
        let miss = HttpBackend::start("miss");
        let dir = TestDir::new("rt-maps");
        let map_text = "# host tier\na.com silver\nb.com gold\n";
        let list_text = "/blocked\n";
        let map = dir.write("hosts.map", map_text);
        let list = dir.write("deny.lst", list_text);
        let sock = dir.join("s.sock");
        let cfg = config(
            &sock,
            threads,
            &map,
            &list,
            &hit.addr().to_string(),
            &miss.addr().to_string(),
        );
        let px = Pollux::start(poller, &cfg);
        let m = map.display().to_string();
        let l = list.display().to_string();
        all(&px, "b.com", "/", "hit");
        all(&px, "a.com", "/", "miss");
        all(&px, "a.com", "/blocked/x", "403");

        assert_eq!(cli(&sock, &format!("add map {m} c.com gold")), "\n");
        all(&px, "C.com", "/", "hit");
        assert_eq!(cli(&sock, &format!("set map {m} a.com gold")), "\n");
        all(&px, "a.com", "/", "hit");
        assert_eq!(cli(&sock, &format!("del map {m} b.com")), "\n");
        all(&px, "b.com", "/", "miss");
        // The map converter in a header sees the same change.
        let r = http_get(px.addr(0), "/", &["Host: a.com"]);
        let seen = hit.requests();
        let last = seen.last().expect("a request reached hit");
        assert_eq!(last.header("x-tier"), Some("gold"), "{r}");

        assert_eq!(cli(&sock, &format!("add acl {l} /new")), "\n");
        all(&px, "a.com", "/new/x", "403");
        assert_eq!(cli(&sock, &format!("del acl {l} /blocked")), "\n");
        all(&px, "a.com", "/blocked/x", "hit");
        assert_eq!(cli(&sock, &format!("clear acl {l}")), "\n");
        all(&px, "a.com", "/new/x", "hit");
        assert_eq!(cli(&sock, &format!("clear map {m}")), "\n");
        all(&px, "a.com", "/", "miss");
        // A new version is invisible until committed, then replaces the list.
        assert_eq!(
            cli(&sock, &format!("prepare map {m}")),
            "New version created: 1\n\n"
        );
        assert_eq!(cli(&sock, &format!("add map @1 {m} a.com gold")), "\n");
        all(&px, "a.com", "/", "miss");
        assert_eq!(cli(&sock, &format!("commit map @1 {m}")), "\n");
        all(&px, "a.com", "/", "hit");

        // The files on disk are never rewritten.
        assert_eq!(std::fs::read_to_string(&map).unwrap(), map_text);
        assert_eq!(std::fs::read_to_string(&list).unwrap(), list_text);
        px.stop();
    }
}

/// A map shared by three users (an ACL with `-M`, `map` twice, `map_beg`),
/// an ACL file with an inline ACL beside it, `-i`, `-u`, an address map.
fn compat_config(sock: &Path, dir: &Path, srv: &str) -> String {
    let d = dir.display();
    format!(
        "global\n    stats socket {} level admin\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n    acl api path_beg -f {d}/paths.lst\n    acl inl path_beg /x /y\n    acl host hdr(host) -i -m str foo.com bar.com\n    acl mm hdr(host) -M -f {d}/hosts.map\n    acl ver req.len lt 10 eq 20 5:8 gt 100\n    acl fixed path -u 42 /fixed\n    http-request set-header X-B %[req.hdr(host),lower,map({d}/hosts.map,none)]\n    http-request set-header X-I %[src,map_ip({d}/ips.map,none)]\n    http-request set-header X-J %[req.hdr(host),map_beg({d}/hosts.map,none)]\n    http-request set-header X-N %[req.hdr(x),map_str_int({d}/ints.map,0)]\n    acl mo hdr(x) -M -f {d}/only.map\n    http-request deny if api || inl || host || mm || fixed\n    default_backend be\n\nbackend be\n    server s {srv}\n",
        sock.display(),
        http_defaults(),
    )
}

const COMMANDS: &[&str] = &[
    "show map",
    "show acl",
    "show map #9",
    "add map #9 k2 v2",
    "show acl #9",
    "show map @D/hosts.map",
    "show acl #0",
    "show acl #1",
    "show acl #2",
    "show acl #3",
    "show acl #42",
    "show acl @D/hosts.map",
    "show map #-1",
    "show map #3",
    "show map #abc",
    "get map @D/hosts.map b.com",
    "get map @D/hosts.map x.com",
    "get acl #0 /api/x",
    "get acl #1 /x",
    "get acl #2 /x",
    "get acl #3 FOO.com",
    "get acl #6 7",
    "get acl #6 200",
    "get acl #5 b.com",
    "get map @D/ips.map 10.1.2.3",
    "get map @D/ips.map 11.1.2.3",
    "get map",
    "get acl #2",
    "get map #99 x",
    "add map @D/hosts.map d.com be_d",
    "add map @D/hosts.map",
    "add map @D/hosts.map e.com",
    "add map @D/nope e.com x",
    "add acl @D/hosts.map e.com",
    "add acl #0 /new",
    "add acl #0",
    "add map @D/ips.map 1.2.3.4/40 bad",
    "add map @D/ips.map 1.2.3.4/24 ok",
    "add map @D/ints.map c 12",
    "add map @D/ints.map c x",
    "get map @D/ints.map c",
    "set map @D/ints.map a x",
    "set map @D/ints.map a 7",
    "get map @D/ints.map a",
    "show map @D/ints.map",
    "add map @D/hosts.map <<\nk1 v1\nk2   v2 x\n",
    "add map @D/hosts.map k9 v9 <<\nk8 v8\n",
    "add map @D/hosts.map <<\nk3\n",
    "add map @D/ips.map <<\n1.2.3.5 a\nbad b\n5.6.7.8 c\n",
    "add acl #0 <<\n/p1\n",
    "add acl #0 /x <<\n/p2 extra\n",
    "add acl @D/hosts.map x <<\n/p1\n",
    "show acl #0; show map #7 <<\nfoo\n",
    "set map @D/hosts.map b.com be_bb",
    "set map @D/hosts.map zz.com x",
    "set map @D/hosts.map",
    "set map #4 #0x1234 v",
    "del map @D/hosts.map c.com",
    "del map @D/hosts.map c.com",
    "del map @D/hosts.map",
    "del acl #0 /api",
    "del acl #0 /zz",
    "del acl #6 x",
    "del acl #2 #0xzz",
    "del acl #2 #zz",
    "del acl #3 FOO.com",
    "del acl #3 foo.com",
    "show acl #0",
    "clear acl #0",
    "show acl #0",
    "clear map #7",
    "show map #7",
    "clear map #6",
    "clear map",
    "clear acl",
    "clear map #99",
    "clear acl #99",
    "clear map #0",
    "show map",
    "show acl",
    "show map #9",
    "add map #9 k2 v2",
    "show acl #9",
    "show map @D/hosts.map",
    "get map #2 /x",
    "get acl #6 10.1.1.1",
    "set map #2 /x y",
    "show acl #2",
    "prepare map",
    "prepare map #99",
    "prepare map #2",
    "prepare acl #0",
    "show acl",
    "add acl @1 #0 /v1a",
    "add acl @1 #0 /v1b",
    "add acl @5 #0 /v5",
    "add acl @0 #0 /v0",
    "add acl @1 #0 <<\n/v1c\n",
    "show acl #0",
    "show acl @1 #0",
    "show acl @5 #0",
    "show acl @x #0",
    "show acl @2",
    "get acl #0 /v1a",
    "get acl #0 /v0",
    "prepare acl #0",
    "add acl @2 #0 /v2",
    "clear acl @2 #0",
    "show acl @2 #0",
    "commit acl #0",
    "commit acl @3 #0",
    "commit acl @1",
    "commit acl @1 #0",
    "show acl",
    "show acl #0",
    "get acl #0 /v1a",
    "get acl #0 /api",
    "commit acl @1 #0",
    "prepare map #4",
    "add map @1 #4 k v",
    "add map @1 #4 k",
    "add map @1 #4 k3 bad",
    "add map @1 #4 <<\nk4 v4\n",
    "set map #4 k vv",
    "show map @1 #4",
    "get map #4 k",
    "show map",
    "del map #4 k3",
    "show map",
    "commit map @1 #4",
    "show map",
    "show map #4",
    "get map #4 k",
    "get map #4 b.com",
    "prepare map #4",
    "prepare map #4",
    "add map @2 #4 x y",
    "add map @1 #4 x1 y",
    "add map @0 #4 x0 y",
    "show map",
    "commit map @3 #4",
    "show map",
    "show map #4",
    "clear map @3 #4",
    "prepare acl #2",
    "add acl @1 #2 /n1",
    "add acl #2 /c1",
    "clear acl #2",
    "show acl @1 #2",
    "show acl #2",
    "show acl",
];

/// Handles are addresses in HAProxy: masked, as is each one's config path;
/// HAProxy's own `httpclient` proxy adds ACLs of its own: left out.
fn normalize(text: &str, cfg: &Path) -> String {
    text.lines()
        .filter(|l| !l.contains("file 'httpclient'"))
        .map(|l| {
            let l = l.replace(&cfg.display().to_string(), "CFG");
            match l.strip_prefix("0x") {
                Some(rest) => match rest.split_once(' ') {
                    Some((hex, tail)) if hex.bytes().all(|c| c.is_ascii_hexdigit()) => {
                        format!("0xADDR {tail}")
                    }
                    _ => l,
                },
                None => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn answers_match_haproxy_26(poller: &str) {
    let impls = pollux_and_haproxy(poller);
    if impls.len() < 2 {
        return;
    }
    let srv = HttpBackend::start("s");
    let mut answers: Vec<(String, Vec<String>)> = Vec::new();
    for imp in &impls {
        let dir = TestDir::new("rt-maps-compat");
        dir.write("paths.lst", "/api\n/static\n");
        dir.write(
            "hosts.map",
            "# comment\nwww.a.com  be_a\nb.com be_b\n  c.com   be_c  \n",
        );
        dir.write("ips.map", "10.0.0.0/8 ten\n127.0.0.1 lo\n");
        dir.write("ints.map", "a 1\nb 2\n");
        dir.write("only.map", "k1 v1\n");
        let sock = dir.join("s.sock");
        let px = imp.start(&compat_config(&sock, dir.path(), &srv.addr().to_string()));
        let d = dir.path().display().to_string();
        let got: Vec<String> = COMMANDS
            .iter()
            .map(|c| normalize(&cli(&sock, &c.replace("@D", &d)), &px.cfg_path).replace(&d, "D"))
            .collect();
        // What the changes leave is what traffic sees.
        // (the committed version of paths.lst; hosts.map emptied by one).
        let r = http_get(px.addr(0), "/v1a/x", &["Host: z.com"]);
        assert_eq!(r.status, 403, "{}: {r}", imp.name);
        let r = http_get(px.addr(0), "/static/x", &["Host: www.a.com"]);
        assert_eq!(r.status, 200, "{}: {r}", imp.name);
        answers.push((imp.name.to_string(), got));
        px.stop();
    }
    let (_, ours) = &answers[0];
    let (_, theirs) = &answers[1];
    let diffs: Vec<String> = COMMANDS
        .iter()
        .zip(ours.iter().zip(theirs))
        .filter(|(_, (a, b))| a != b)
        .map(|(c, (a, b))| format!("{c}\n  pollux:  {a:?}\n  haproxy: {b:?}"))
        .collect();
    assert!(diffs.is_empty(), "answers differ:\n{}", diffs.join("\n"));
}
