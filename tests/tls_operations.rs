//! TLS in operation: OCSP stapling from a `.ocsp` file beside the
//! certificate (checked at load: one about another certificate, or
//! garbage, is a config error naming the file), certificates read before
//! `chroot` and the privilege drop, and master-worker reloads that keep
//! serving TLS under load and pick up a replaced certificate.

mod common;

use common::pki::{curl_https, s_client, served_serial, Ca};
use common::*;
use std::fs;
use std::thread;
use std::time::{Duration, Instant};

fn tls_cfg(crt: &str, extra_global: &str) -> String {
    format!(
        "global\n{extra_global}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n    timeout http-keep-alive 1s\n\
         frontend fe\n    bind 127.0.0.1:@P0@ ssl crt {crt}\n    http-request return status 200 content-type text/plain string ok\n"
    )
}

/// The stapled response, as `openssl s_client -status` prints it, for
/// TLS 1.3 and 1.2; the same through HAProxy.
fn ocsp_is_stapled(poller: &str) {
    let dir = TestDir::new("ocsp");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    ca.ocsp_good("a", "a.pem.ocsp");
    for im in common::reference::pollux_and_haproxy(poller) {
        let px = im.start(&tls_cfg(pem.to_str().unwrap(), ""));
        for v in ["-tls1_3", "-tls1_2"] {
            let out = s_client(px.addr(0), &["-servername", "a.test", "-status", v]);
            assert!(
                out.contains("OCSP Response Status: successful")
                    && out.contains("Cert Status: good"),
                "{} {v}: {out}",
                im.name
            );
        }
        // Without the client asking, nothing is sent.
        let out = s_client(px.addr(0), &["-servername", "a.test"]);
        assert!(!out.contains("OCSP Response Status"), "{}: {out}", im.name);
        px.stop();
    }
}

/// A `.ocsp` file that is not a response for its certificate stops the
/// configuration at its `bind` line, naming the file.
#[test]
fn a_wrong_ocsp_file_is_a_config_error() {
    let dir = TestDir::new("ocsp-bad");
    let ca = Ca::new(&dir);
    let a = ca.issue("a", "a.test");
    ca.issue("b", "b.test");
    // b's response beside a.
    ca.ocsp_good("b", "a.pem.ocsp");
    let cfg = dir.write(
        "p.cfg",
        &tls_cfg(a.to_str().unwrap(), "").replace("@P0@", "1"),
    );
    let out = run_pollux(&dir, &["-c", "-f", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        out.all().contains("p.cfg:10:")
            && out.all().contains("a.pem.ocsp")
            && out.all().contains("not about this certificate"),
        "{}",
        out.all()
    );
    fs::write(dir.join("a.pem.ocsp"), b"not DER at all").unwrap();
    let out = run_pollux(&dir, &["-c", "-f", cfg.to_str().unwrap()], &[]);
    assert_eq!(out.code(), Some(1), "{}", out.all());
    assert!(
        out.all().contains("a.pem.ocsp': not a DER OCSP response"),
        "{}",
        out.all()
    );
}

/// As root: the key is readable by root only, the process serves as
/// nobody from an empty chroot, and TLS works (read before both).
#[cfg(target_os = "linux")]
#[test]
fn certificates_are_read_before_chroot_and_setuid() {
    init();
    if my_uid() != 0 {
        println!("!!!!!!!! SKIP certificates_are_read_before_chroot_and_setuid: not root !!!!!!!!");
        return;
    }
    let dir = TestDir::new("tls-jail");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    let mut perm = fs::metadata(&pem).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o600);
    fs::set_permissions(&pem, perm).unwrap();
    let jail = TestDir::new("tls-jail-root");
    let px = Launch::new(None).start(&tls_cfg(
        pem.to_str().unwrap(),
        &format!(
            "    user nobody\n    group nogroup\n    chroot {}",
            jail.path().display()
        ),
    ));
    let root = fs::read_link(format!("/proc/{}/root", px.pid())).unwrap();
    assert_eq!(root, fs::canonicalize(jail.path()).unwrap());
    let (code, body) = curl_https(px.addr(0).port(), &ca.pem.display().to_string(), "a.test");
    assert_eq!(
        (code.as_str(), body.as_str()),
        ("200", "ok"),
        "{}",
        px.logs()
    );
    px.stop();
}

fn my_uid() -> u32 {
    // The uid from /proc, without libc.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

/// Master-worker reloads (SIGUSR2) under TLS load lose no request; after
/// the certificate file is replaced, the next worker serves the new one.
#[cfg(target_os = "linux")]
#[test]
fn reloads_keep_serving_tls_and_take_a_new_certificate() {
    init();
    let _heavy = heavy_lock();
    let dir = TestDir::new("tls-reload");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    let old_serial = ca.serial("a");
    let px = Launch::new(None)
        .mode(&["-db", "-W"])
        .start(&tls_cfg(pem.to_str().unwrap(), ""));
    let master = px.pid();
    assert!(eventually(PATIENCE, || children_of(master).len() == 1));
    assert_eq!(served_serial(px.addr(0), "a.test"), old_serial);
    let port = px.addr(0).port();
    let load = common::pki::HttpsLoad::start(1, port, &ca.pem.display().to_string(), "a.test");
    let mut worker = children_of(master)[0];
    for i in 0..5 {
        if i == 3 {
            // A new certificate (same name, new serial) before a reload.
            ca.issue("a", "a.test");
        }
        // kill(2) on our own child, the master.
        send_signal(master as i32, libc::SIGUSR2);
        let old = worker;
        assert!(
            eventually(PATIENCE, || children_of(master).iter().any(|&p| p != old)),
            "reload {i}: no new worker\n{}",
            px.logs()
        );
        worker = *children_of(master).iter().find(|&&p| p != old).unwrap();
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(300) {
            thread::sleep(Duration::from_millis(20));
        }
    }
    load.finish(&px.logs());
    let new_serial = ca.serial("a");
    assert_ne!(new_serial, old_serial);
    assert_eq!(served_serial(px.addr(0), "a.test"), new_serial);
    px.stop();
}

per_poller!(ocsp_is_stapled);

/// `show info` counts the TLS sessions (CumSslConns) and how many resumed
/// one (SslFrontendSessionReuse_pct), as HAProxy's fields say.
fn show_info_counts_tls_sessions(poller: &str) {
    let dir = TestDir::new("tls-info");
    let ca = Ca::new(&dir);
    let pem = ca.issue("a", "a.test");
    let sock = dir.join("cli.sock");
    let px = Launch::new(Some(poller)).start(&tls_cfg(
        pem.to_str().unwrap(),
        &format!("    stats socket {} level admin", sock.display()),
    ));
    for _ in 0..2 {
        let (code, _) = curl_https(px.addr(0).port(), &ca.pem.display().to_string(), "a.test");
        assert_eq!(code, "200");
    }
    let info = common::ops::cli(&sock, "show info");
    let field = |k: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}: ")))
            .map(str::to_string)
    };
    assert_eq!(field("CumSslConns").as_deref(), Some("2"), "{info}");
    assert_eq!(
        field("SslFrontendSessionReuse_pct").as_deref(),
        Some("0"),
        "{info}"
    );
    px.stop();
}

per_poller!(show_info_counts_tls_sessions);
