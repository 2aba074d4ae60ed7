//! Protocol health checks (`option redis-check`, `option smtpchk`,
//! `option pgsql-check`, `option ldap-check`, `option mysql-check`) side
//! by side with HAProxy 2.6, against in-test
//! fake servers that answer correctly, answer wrongly, close, or are not
//! there: the bytes each check sends, and the servers' states and check
//! results in `show stat` (`status`, `check_status`, `check_code`,
//! `last_chk`, `check_desc`) and `show servers state` (op state, check
//! status and result numbers); and redis-check against Debian's
//! redis-server when it is installed.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What a fake server does on each connection, in order; then it closes.
#[derive(Clone)]
enum Act {
    Send(&'static [u8]),
    /// One read: a request (kept in `Fake::requests`).
    Recv,
}

struct Fake {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Fake {
    fn start(script: &[Act]) -> Fake {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let addr = l.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, flag, script) = (requests.clone(), stop.clone(), script.to_vec());
        let thread = thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                let Ok((mut c, _)) = l.accept() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                c.set_nonblocking(false).unwrap();
                c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
                for act in &script {
                    match act {
                        Act::Send(s) => {
                            let _ = c.write_all(s);
                        }
                        Act::Recv => {
                            let mut buf = [0u8; 1024];
                            let n = c.read(&mut buf).unwrap_or(0);
                            let got = String::from_utf8_lossy(&buf[..n]).to_string();
                            seen.lock().unwrap().push(got);
                        }
                    }
                }
            }
        });
        Fake {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port nothing listens on.
fn refused() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Each server of backend `be`: `show stat`'s status, check_status,
/// check_code, last_chk and check_desc, and `show servers state`'s op
/// state, check status and check result. None while a check runs.
fn results(sock: &std::path::Path, be: &str, names: &[&str]) -> Option<Vec<String>> {
    let stat = show_stat(sock);
    let state = cli(sock, "show servers state");
    names
        .iter()
        .map(|n| {
            let row = format!("{be}/{n}");
            let f = |c: &str| csv_field(&stat, &row, c);
            let word = f("check_status");
            if word.starts_with('*') {
                return None;
            }
            let st = state
                .lines()
                .map(|l| l.split(' ').collect::<Vec<_>>())
                .find(|w| w.len() > 12 && w[1] == be && w[3] == *n)?;
            Some(format!(
                "{n} {} {word} {} '{}' '{}' | {} {} {}",
                f("status"),
                f("check_code"),
                f("last_chk"),
                f("check_desc"),
                st[5],
                st[10],
                st[11]
            ))
        })
        .collect()
}

/// Runs backend `be` (its `option` line, servers `servers`) through pollux
/// and HAProxy 2.6 until the results are `want` (or PATIENCE passed).
fn compare(poller: &str, option: &str, servers: &[(&str, SocketAddr)], want: &[&str]) {
    compare_with(poller, option, "inter 100ms", "1s", servers, want)
}

/// `compare`, with these check settings and `timeout check`.
fn compare_with(
    poller: &str,
    option: &str,
    check: &str,
    timeout: &str,
    servers: &[(&str, SocketAddr)],
    want: &[&str],
) {
    let names: Vec<&str> = servers.iter().map(|(n, _)| *n).collect();
    let want: Vec<String> = want.iter().map(|w| w.to_string()).collect();
    let mut seen = Vec::new();
    for imp in pollux_and_haproxy(poller) {
        let sock = SockDir::new();
        let mut cfg = format!(
            "global\n    stats socket {} level admin\n\
             defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout check {timeout}\n\
             frontend f\n    bind 127.0.0.1:@P0@\n    default_backend be\n\
             backend be\n    {option}\n",
            sock.sock().display()
        );
        for (n, addr) in servers {
            cfg.push_str(&format!("    server {n} {addr} check {check}\n"));
        }
        let px = imp.start(&cfg);
        let deadline = Instant::now() + PATIENCE;
        let got = loop {
            let got = results(&sock.sock(), "be", &names);
            let done = got.as_ref() == Some(&want);
            if done || Instant::now() > deadline {
                break got;
            }
            thread::sleep(Duration::from_millis(100));
        };
        px.stop();
        seen.push((imp.name, got));
    }
    for (name, got) in &seen {
        assert_eq!(got.as_ref(), Some(&want), "{name}: {seen:#?}");
    }
}

per_poller!(
    redis_check_as_haproxy,
    smtpchk_as_haproxy,
    pgsql_check_as_haproxy,
    ldap_check_as_haproxy,
    mysql_check_as_haproxy,
    redis_check_against_redis_server,
);

/// `option redis-check`: `PING` in RESP, `+PONG` passes ("Redis server is
/// ok"), an error reply is a wrong status with its first line, a close
/// without a word an empty response.
fn redis_check_as_haproxy(poller: &str) {
    let ok = Fake::start(&[Act::Recv, Act::Send(b"+PONG\r\n")]);
    let wrong = Fake::start(&[Act::Recv, Act::Send(b"-ERR unknown command\r\nmore\r\n")]);
    let close = Fake::start(&[Act::Recv]);
    compare(
        poller,
        "option redis-check",
        &[
            ("ok", ok.addr),
            ("wrong", wrong.addr),
            ("close", close.addr),
            ("refused", refused()),
        ],
        &[
            "ok UP L7OK 0 'Redis server is ok' 'Layer7 check passed' | 2 15 3",
            "wrong DOWN L7STS 0 '-ERR unknown command' 'Layer7 wrong status' | 0 17 2",
            "close DOWN L7STS 0 'TCPCHK got an empty response at step 2' 'Layer7 wrong status' | 0 17 2",
            "refused DOWN L4CON  'Connection refused' 'Layer4 connection problem' | 0 8 2",
        ],
    );
    let reqs = ok.requests();
    assert!(!reqs.is_empty());
    assert!(reqs.iter().all(|r| r == "*1\r\n$4\r\nPING\r\n"), "{reqs:?}");
}

/// `option smtpchk EHLO a.test`: a 2xx banner, `EHLO a.test` answered 2xx
/// (several lines), then `QUIT` answered 2xx, whose text is the info; a
/// 5xx banner or greeting reply is a wrong status with its code and text,
/// a banner that is no SMTP reply an invalid response, a close before
/// the banner an empty response.
fn smtpchk_as_haproxy(poller: &str) {
    let ok = Fake::start(&[
        Act::Send(b"220 mx ESMTP\r\n"),
        Act::Recv,
        Act::Send(b"250-mx\r\n250 SIZE 1000\r\n"),
        Act::Recv,
        Act::Send(b"221 2.0.0 Bye\r\n"),
    ]);
    let banner = Fake::start(&[Act::Send(b"554 go away\r\n")]);
    let hello = Fake::start(&[
        Act::Send(b"220 mx\r\n"),
        Act::Recv,
        Act::Send(b"502 5.5.2 no\r\n"),
    ]);
    let garbage = Fake::start(&[Act::Send(b"hello there\r\n")]);
    let close = Fake::start(&[]);
    compare(
        poller,
        "option smtpchk EHLO a.test",
        &[
            ("ok", ok.addr),
            ("banner", banner.addr),
            ("hello", hello.addr),
            ("garbage", garbage.addr),
            ("close", close.addr),
        ],
        &[
            "ok UP L7OK 221 '2.0.0 Bye' 'Layer7 check passed' | 2 15 3",
            "banner DOWN L7STS 554 'go away' 'Layer7 wrong status' | 0 17 2",
            "hello DOWN L7STS 502 '5.5.2 no' 'Layer7 wrong status' | 0 17 2",
            "garbage DOWN L7RSP  'hello there' 'Layer7 invalid response' | 0 13 2",
            "close DOWN L7RSP  'TCPCHK got an empty response at step 2' 'Layer7 invalid response' | 0 13 2",
        ],
    );
    let reqs = ok.requests();
    assert!(reqs.len() >= 2);
    assert_eq!(reqs[..2], ["EHLO a.test\r\n", "QUIT\r\n"], "{reqs:?}");
}

/// `option pgsql-check user bob`: a StartupMessage for bob; an
/// authentication request passes, an ErrorResponse is an invalid response
/// whose info is its severity, an authentication HAProxy does not know a
/// wrong status.
fn pgsql_check_as_haproxy(poller: &str) {
    let ok = Fake::start(&[Act::Recv, Act::Send(b"R\0\0\0\x0c\0\0\0\x05salt")]);
    let error = Fake::start(&[
        Act::Recv,
        Act::Send(b"E\0\0\0\x2fSFATAL\0VFATAL\0C28000\0Mrole \"bob\" does not exist\0\0"),
    ]);
    let gss = Fake::start(&[Act::Recv, Act::Send(b"R\0\0\0\x09\0\0\0\x08x")]);
    let close = Fake::start(&[Act::Recv]);
    compare(
        poller,
        "option pgsql-check user bob",
        &[
            ("ok", ok.addr),
            ("error", error.addr),
            ("gss", gss.addr),
            ("close", close.addr),
        ],
        &[
            "ok UP L7OK 0 'PostgreSQL server is ok' 'Layer7 check passed' | 2 15 3",
            "error DOWN L7RSP  'FATAL' 'Layer7 invalid response' | 0 13 2",
            "gss DOWN L7STS 0 'PostgreSQL unknown error' 'Layer7 wrong status' | 0 17 2",
            "close DOWN L7RSP  'TCPCHK got an empty response at step 3' 'Layer7 invalid response' | 0 13 2",
        ],
    );
    let reqs = ok.requests();
    assert!(!reqs.is_empty());
    assert!(
        reqs.iter()
            .all(|r| r == "\0\0\0\x12\0\x03\0\0user\0bob\0\0"),
        "{reqs:?}"
    );
}

/// `option ldap-check`: an anonymous LDAPv3 bind; resultCode 0 passes,
/// another is a wrong status with that code, an answer that
/// is no BindResponse "Not LDAPv3 protocol".
fn ldap_check_as_haproxy(poller: &str) {
    let ok = Fake::start(&[
        Act::Recv,
        Act::Send(b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00"),
    ]);
    let refused_bind = Fake::start(&[
        Act::Recv,
        Act::Send(b"\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x31\x04\x00\x04\x00"),
    ]);
    let http = Fake::start(&[Act::Recv, Act::Send(b"HTTP/1.1 400 Bad Request\r\n\r\n")]);
    let close = Fake::start(&[Act::Recv]);
    compare(
        poller,
        "option ldap-check",
        &[
            ("ok", ok.addr),
            ("bind", refused_bind.addr),
            ("http", http.addr),
            ("close", close.addr),
        ],
        &[
            "ok UP L7OK 0 '' 'Layer7 check passed' | 2 15 3",
            "bind DOWN L7STS 49 'See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9' 'Layer7 wrong status' | 0 17 2",
            "http DOWN L7RSP  'Not LDAPv3 protocol' 'Layer7 invalid response' | 0 13 2",
            "close DOWN L7RSP  'TCPCHK got an empty response at step 2' 'Layer7 invalid response' | 0 13 2",
        ],
    );
    let reqs = ok.requests();
    assert!(!reqs.is_empty());
    // (Requests are kept as text: 0x80 reads as U+FFFD.)
    let bind = String::from_utf8_lossy(b"\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00");
    assert!(reqs.iter().all(|r| *r == bind), "{reqs:?}");
}

/// `option mysql-check`: without a user, the server's initial handshake
/// passes; with `user bob`, the login (sent
/// at once, with a COM_QUIT) must be answered without an error packet; an
/// error packet is a wrong status with its error number and text.
fn mysql_check_as_haproxy(poller: &str) {
    const HANDSHAKE: &[u8] = b"\x13\0\0\0\x0a8.0.1\0\x01\0\0\0abcdefgh";
    let hs = Fake::start(&[Act::Send(HANDSHAKE)]);
    let host = Fake::start(&[Act::Send(b"\x13\0\0\0\xff\x6a\x04Host not allowed")]);
    let close = Fake::start(&[]);
    compare(
        poller,
        "option mysql-check",
        &[("hs", hs.addr), ("host", host.addr), ("close", close.addr)],
        &[
            "hs UP L7OK 0 '' 'Layer7 check passed' | 2 15 3",
            "host DOWN L7STS 1130 'Host not allowed' 'Layer7 wrong status' | 0 17 2",
            "close DOWN L7RSP  'TCPCHK got an empty response at step 2' 'Layer7 invalid response' | 0 13 2",
        ],
    );
    let ok = Fake::start(&[
        Act::Send(HANDSHAKE),
        Act::Recv,
        Act::Send(b"\x07\0\0\x02\0\0\0\x02\0\0\0"),
    ]);
    let denied = Fake::start(&[
        Act::Send(HANDSHAKE),
        Act::Recv,
        Act::Send(b"\x0f\0\0\x02\xff\x15\x04#28000Denied"),
    ]);
    let mute = Fake::start(&[Act::Send(HANDSHAKE), Act::Recv]);
    compare(
        poller,
        "option mysql-check user bob",
        &[
            ("ok", ok.addr),
            ("denied", denied.addr),
            ("mute", mute.addr),
        ],
        &[
            "ok UP L7OK 0 '' 'Layer7 check passed' | 2 15 3",
            "denied DOWN L7STS 1045 '#28000Denied' 'Layer7 wrong status' | 0 17 2",
            "mute DOWN L7RSP  '' 'Layer7 invalid response' | 0 13 2",
        ],
    );
    let reqs = ok.requests();
    assert!(!reqs.is_empty());
    // (Kept as text: the login's 0x82 and 0x80 read as U+FFFD.)
    let login = String::from_utf8_lossy(
        b"\x25\0\0\x01\0\x82\0\0\0\x80\0\x01\x21\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0bob\0\0\x01\0\0\0\x01",
    );
    assert!(reqs.iter().all(|r| *r == login), "{reqs:?}");
}

/// A redis-server we started, on a free port, stopped by its PID.
struct Redis {
    child: std::process::Child,
    addr: SocketAddr,
    _dir: TestDir,
}

impl Redis {
    /// None (and a loud line) without redis-server.
    fn start(extra: &[&str]) -> Option<Redis> {
        let dir = TestDir::new("redis");
        let port = free_ports(1, false)[0];
        let mut cmd = std::process::Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.join(""))
            .args(extra)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "redis-server is missing in CI (.ci/run installs it): {e}"
                );
                eprintln!("\n*** SKIP: redis-server: {e} ***\n");
                return None;
            }
        };
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let r = Redis {
            child,
            addr,
            _dir: dir,
        };
        let up = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < up, "redis-server did not listen on {addr}");
            thread::sleep(Duration::from_millis(20));
        }
        Some(r)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `option redis-check` against a real redis-server: UP; one that asks
/// for a password answers PING with `-NOAUTH` and keeps the connection:
/// the check waits for `+PONG` until `timeout check` (HAProxy 2.6 judges
/// a mismatch only once nothing more can come).
fn redis_check_against_redis_server(poller: &str) {
    let Some(open) = Redis::start(&[]) else {
        return;
    };
    let Some(locked) = Redis::start(&["--requirepass", "secret"]) else {
        return;
    };
    compare_with(
        poller,
        "option redis-check",
        "inter 1s",
        "200ms",
        &[("open", open.addr), ("locked", locked.addr)],
        &[
            "open UP L7OK 0 'Redis server is ok' 'Layer7 check passed' | 2 15 3",
            "locked DOWN L7TOUT  '' 'Layer7 timeout' | 0 12 2",
        ],
    );
}
