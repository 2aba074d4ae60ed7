//! TLS session resumption on frontends, with Python's `ssl` (OpenSSL) as
//! the client (tests/py/tls_resume.py): by ticket and by session id, over
//! TLS 1.2 and 1.3; `tune.ssl.lifetime` ending it; `tls-ticket-keys`
//! letting two processes that read the same file resume each other's
//! sessions (and, without it, not); the key file's errors at config check.

mod common;

use common::pki::Ca;
use common::*;
use std::path::Path;
use std::process::Command;

fn cfg(pem: &Path, global: &str, bind: &str) -> String {
    format!(
        "global\n{global}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@P0@ ssl crt {} {bind}\n    http-request return status 200 content-type text/plain string ok\n",
        pem.display()
    )
}

/// tls_resume.py's verdict: "reused" or "new", with the status line.
fn resume(ver: &str, p1: u16, p2: u16, pause: f32) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/py/tls_resume.py");
    let out = Command::new("python3")
        .args([
            script,
            ver,
            &p1.to_string(),
            &p2.to_string(),
            &pause.to_string(),
        ])
        .output()
        .expect("python3 tls_resume.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A key file of `n` keys, 80 bytes each, the `k`-th filled with
/// `first + k - 1`.
fn keys(dir: &TestDir, name: &str, first: u8, n: u8) -> String {
    let lines: Vec<String> = (first..first + n)
        .map(|k| common::pki::base64(&[k; 80]))
        .collect();
    dir.write(name, &(lines.join("\n") + "\n"))
        .display()
        .to_string()
}

/// Tickets (TLS 1.2 and 1.3) and, with `no-tls-tickets`, the session-id
/// cache both resume; with `tune.ssl.lifetime 1`, not after two seconds.
fn sessions_resume_until_their_lifetime(poller: &str) {
    let dir = TestDir::new("tls-resume");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    for bind in ["", "no-tls-tickets"] {
        let px = Launch::new(Some(poller)).start(&cfg(&pem, "    tune.ssl.lifetime 1", bind));
        let p = px.addr(0).port();
        for ver in ["1.2", "1.3"] {
            assert_eq!(
                resume(ver, p, p, 0.0),
                "reused HTTP/1.1 200 OK",
                "{ver} {bind}"
            );
            assert_eq!(
                resume(ver, p, p, 2.2),
                "new HTTP/1.1 200 OK",
                "{ver} {bind}"
            );
        }
        px.stop();
    }
}

per_poller!(sessions_resume_until_their_lifetime);

/// Two processes reading the same `tls-ticket-keys` file resume each
/// other's tickets; a third with its own keys does not; after one more
/// key is appended and the second restarts, tickets of the first still
/// open (the old key is still among the three in use).
fn ticket_keys_are_shared_by_processes(poller: &str) {
    let dir = TestDir::new("tls-keys");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    let shared = keys(&dir, "shared.keys", 1, 3);
    let other = keys(&dir, "other.keys", 100, 3);
    let bind = |f: &str| format!("tls-ticket-keys {f}");
    let a = Launch::new(Some(poller)).start(&cfg(&pem, "", &bind(&shared)));
    let b = Launch::new(Some(poller)).start(&cfg(&pem, "", &bind(&shared)));
    let c = Launch::new(Some(poller)).start(&cfg(&pem, "", &bind(&other)));
    let (pa, pb, pc) = (a.addr(0).port(), b.addr(0).port(), c.addr(0).port());
    for ver in ["1.2", "1.3"] {
        assert_eq!(resume(ver, pa, pb, 0.0), "reused HTTP/1.1 200 OK", "{ver}");
        assert_eq!(resume(ver, pb, pa, 0.0), "reused HTTP/1.1 200 OK", "{ver}");
        assert_eq!(resume(ver, pa, pc, 0.0), "new HTTP/1.1 200 OK", "{ver}");
    }
    b.stop();
    // Rotation: a fourth key; a (three keys) sealed with key 2, which
    // b (keys 2, 3, 4 in use) still opens.
    keys(&dir, "shared.keys", 1, 4);
    let b = Launch::new(Some(poller)).start(&cfg(&pem, "", &bind(&shared)));
    let pb = b.addr(0).port();
    assert_eq!(resume("1.3", pa, pb, 0.0), "reused HTTP/1.1 200 OK");
    // b now seals with key 3, which a (keys 1, 2, 3) opens too.
    assert_eq!(resume("1.3", pb, pa, 0.0), "reused HTTP/1.1 200 OK");
    for px in [a, b, c] {
        px.stop();
    }
}

per_poller!(ticket_keys_are_shared_by_processes);

/// A key file HAProxy would refuse stops the configuration at its bind
/// line with HAProxy's message.
#[test]
fn bad_key_files_are_config_errors() {
    let dir = TestDir::new("tls-keys-bad");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    let two = keys(&dir, "two.keys", 1, 2);
    let short = dir.write(
        "short.keys",
        &format!("{}\n", common::pki::base64(&[1; 40])),
    );
    for (file, want) in [
        (
            two.clone(),
            "please supply at least 3 keys in the tls-tickets-file".to_string(),
        ),
        (
            short.display().to_string(),
            "wrong sized key on line 1".into(),
        ),
        (
            "/nonexistent.keys".into(),
            "unable to load ssl tickets keys file".into(),
        ),
    ] {
        let text = cfg(&pem, "", &format!("tls-ticket-keys {file}")).replace("@P0@", "1");
        let path = dir.write("p.cfg", &text);
        let out = run_pollux(&dir, &["-c", "-f", path.to_str().unwrap()], &[]);
        assert_eq!(out.code(), Some(1), "{}", out.all());
        assert!(
            out.all().contains("p.cfg:9:") && out.all().contains(&format!("'{file}' : {want}")),
            "{}",
            out.all()
        );
    }
}

/// `show info`'s TLS fields after one TLS 1.2 session-id resumption (a full
/// handshake, then one resumed from the cache), for pollux and for HAProxy
/// 2.6 with the same configuration: the counts are the same; the rates'
/// maxima saw at least one connection and one full handshake; no TLS
/// connection is left open.
fn show_info_counts_tls_like_haproxy(poller: &str) {
    let dir = TestDir::new("tls-info-cache");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    let sock = dir.join("cli.sock");
    let global = format!("    stats socket {} level admin", sock.display());
    let text = cfg(&pem, &global, "no-tls-tickets");
    let fields = |launch: Launch| {
        let px = launch.start(&text);
        let p = px.addr(0).port();
        assert_eq!(resume("1.2", p, p, 0.0), "reused HTTP/1.1 200 OK");
        let mut info = String::new();
        for _ in 0..50 {
            info = common::ops::cli(&sock, "show info");
            if info.contains("\nCurrSslConns: 0\n") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(40));
        }
        px.stop();
        let get = |k: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                .unwrap_or_else(|| panic!("no {k} in {info}"))
                .parse::<u64>()
                .unwrap()
        };
        assert!(get("MaxSslRate") >= 1, "{info}");
        assert!(get("SslFrontendMaxKeyRate") >= 1, "{info}");
        assert_eq!(get("SslBackendKeyRate"), 0, "{info}");
        [
            "CurrSslConns",
            "CumSslConns",
            "SslCacheLookups",
            "SslCacheMisses",
        ]
        .map(|k| (k, get(k)))
    };
    let ours = fields(Launch::new(Some(poller)));
    assert_eq!(
        ours,
        [
            ("CurrSslConns", 0),
            ("CumSslConns", 2),
            ("SslCacheLookups", 1),
            ("SslCacheMisses", 0)
        ]
    );
    if let Some(haproxy) = common::reference::haproxy_26() {
        let theirs = fields(Launch::new(Some("poll")).program(haproxy));
        assert_eq!(ours, theirs);
    }
}

per_poller!(show_info_counts_tls_like_haproxy);
