//! Certificates changed at run time through the runtime API: `show`,
//! `new`, `set`, `commit`, `abort`, `del ssl cert`, `show`, `add`, `del ssl
//! crt-list`, `set ssl ocsp-response`. The answers are compared with
//! HAProxy 2.6's for the same commands on the same files, and what clients
//! are served afterwards is checked with `openssl s_client` and curl; a
//! certificate swapped while clients keep connecting loses no request.

mod common;

use common::ops::cli;
use common::pki::{s_client, served_serial, Ca};
use common::*;
use std::path::Path;
use std::thread;

fn cfg(sock: &Path, a: &Path, list: &Path) -> String {
    format!(
        "global\n    stats socket {} level admin\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:@P0@ ssl crt {} crt-list {}\n    http-request return status 200 content-type text/plain string ok\n",
        sock.display(),
        a.display(),
        list.display()
    )
}

/// `cli` with a payload: the line ending in `<<`, then the payload, then
/// the empty line that ends it.
fn cli_payload(sock: &Path, line: &str, payload: &str) -> String {
    cli(sock, &format!("{line} <<\n{}\n", payload.trim_end()))
}

/// The same dialogue with pollux and HAProxy gives the same answers, and
/// the served certificates follow the commits.
fn answers_as_haproxy(poller: &str) {
    let dir = TestDir::new("tls-cli");
    let ca = Ca::new(&dir);
    let a = ca.issue("a", "a.test");
    let b = ca.issue("b", "b.test");
    let c = ca.issue("c", "a.test");
    let n = ca.issue("n", "n.test");
    let list = dir.write("l.crtlist", &format!("{} b.test\n", b.display()));
    let (a_serial, b_serial, c_serial, n_serial) = (
        ca.serial("a"),
        ca.serial("b"),
        ca.serial("c"),
        ca.serial("n"),
    );
    let (a_s, b_s, n_s, l_s) = (
        a.display().to_string(),
        b.display().to_string(),
        n.display().to_string(),
        list.display().to_string(),
    );
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let mut transcripts = Vec::new();
    for im in common::reference::pollux_and_haproxy(poller) {
        let sock = dir.join(&format!("{}.sock", im.name));
        let px = im.start(&cfg(&sock, &a, &list));
        let mut said = Vec::new();
        let mut ask = |line: &str, payload: Option<&str>| {
            let out = match payload {
                Some(p) => cli_payload(&sock, line, p),
                None => cli(&sock, line),
            };
            said.push(format!("> {line}\n{out}"));
            out
        };
        ask("show ssl cert", None);
        let detail = ask(&format!("show ssl cert {a_s}"), None);
        assert!(
            detail.contains("Status: Used\n") && detail.contains(&format!("Serial: {a_serial}\n")),
            "{}: {detail}",
            im.name
        );
        ask(
            &format!("show ssl cert {}", dir.join("none.pem").display()),
            None,
        );
        ask("show ssl crt-list", None);
        ask(&format!("show ssl crt-list {l_s}"), None);
        ask(&format!("show ssl crt-list -n {l_s}"), None);
        // A transaction: set, look, abort; then set and commit.
        let out = ask(&format!("set ssl cert {a_s}"), Some(&read(&c)));
        assert!(out.starts_with("Transaction created"), "{}: {out}", im.name);
        ask("show ssl cert", None);
        ask(&format!("show ssl cert *{a_s}"), None);
        if !im.is_haproxy() {
            // HAProxy 2.6 puts b's payload into a's transaction here.
            let out = cli_payload(&sock, &format!("set ssl cert {b_s}"), &read(&b));
            assert!(out.starts_with("The ongoing transaction is about"), "{out}");
        }
        ask(&format!("commit ssl cert {b_s}"), None);
        ask(&format!("abort ssl cert {a_s}"), None);
        ask(&format!("abort ssl cert {a_s}"), None);
        assert_eq!(served_serial(px.addr(0), "a.test"), a_serial, "{}", im.name);
        ask(&format!("set ssl cert {a_s}"), Some(&read(&c)));
        let out = ask(&format!("commit ssl cert {a_s}"), None);
        assert!(out.ends_with("Success!\n\n"), "{}: {out}", im.name);
        assert_eq!(served_serial(px.addr(0), "a.test"), c_serial, "{}", im.name);
        assert_eq!(served_serial(px.addr(0), "b.test"), b_serial, "{}", im.name);
        // A key alone, then a commit: the key does not fit the certificate.
        ask(
            &format!("set ssl cert {a_s}.key"),
            Some(&read(&dir.join("b.key"))),
        );
        ask(&format!("commit ssl cert {a_s}"), None);
        ask(&format!("abort ssl cert {a_s}"), None);
        // A new certificate, added to the crt-list with a filter.
        ask(&format!("add ssl crt-list {l_s} {n_s}"), None);
        ask(&format!("new ssl cert {n_s}"), None);
        ask(&format!("new ssl cert {n_s}"), None);
        ask(&format!("show ssl cert {n_s}"), None);
        ask(&format!("set ssl cert {n_s}"), Some(&read(&n)));
        ask(&format!("commit ssl cert {n_s}"), None);
        let out = ask(
            &format!("add ssl crt-list {l_s}"),
            Some(&format!("{n_s} n.test")),
        );
        assert!(out.ends_with("Success!\n\n"), "{}: {out}", im.name);
        assert_eq!(served_serial(px.addr(0), "n.test"), n_serial, "{}", im.name);
        ask(&format!("show ssl crt-list -n {l_s}"), None);
        ask(&format!("del ssl cert {n_s}"), None);
        ask(&format!("del ssl crt-list {l_s} {n_s}:7"), None);
        let out = ask(&format!("del ssl crt-list {l_s} {n_s}"), None);
        assert!(out.starts_with("Entry "), "{}: {out}", im.name);
        // Without its line, n.test gets the default certificate.
        assert_eq!(served_serial(px.addr(0), "n.test"), c_serial, "{}", im.name);
        ask(&format!("del ssl cert {n_s}"), None);
        ask(&format!("del ssl cert {a_s}"), None);
        ask("show ssl cert", None);
        px.stop();
        transcripts.push((im.name, said.concat()));
    }
    if let [(_, ours), (_, theirs)] = transcripts.as_slice() {
        assert_eq!(ours, theirs, "pollux, then HAProxy");
    }
}

per_poller!(answers_as_haproxy);

/// `set ssl ocsp-response` staples the response with the certificate it
/// is about; one about no loaded certificate is refused.
fn ocsp_response_is_set(poller: &str) {
    let dir = TestDir::new("tls-cli-ocsp");
    let ca = Ca::new(&dir);
    let a = ca.issue("a", "a.test");
    ca.issue("z", "z.test");
    let list = dir.write("l.crtlist", "");
    let sock = dir.join("cli.sock");
    let px = Launch::new(Some(poller)).start(&cfg(&sock, &a, &list));
    let out = s_client(px.addr(0), &["-servername", "a.test", "-status"]);
    assert!(out.contains("OCSP response: no response sent"), "{out}");
    ca.ocsp_good("a", "a.ocsp");
    ca.ocsp_good("z", "z.ocsp");
    let b64 = |f: &str| common::pki::base64(&std::fs::read(dir.join(f)).unwrap());
    let out = cli(&sock, &format!("set ssl ocsp-response {}", b64("z.ocsp")));
    assert!(out.contains("does not match any certificate"), "{out}");
    assert_eq!(
        cli(&sock, "set ssl ocsp-response !!!"),
        "'set ssl ocsp-response' received invalid base64 encoded response.\n\n"
    );
    let out = cli_payload(&sock, "set ssl ocsp-response", &b64("a.ocsp"));
    assert_eq!(out, "OCSP Response updated!\n\n");
    let out = s_client(px.addr(0), &["-servername", "a.test", "-status"]);
    assert!(
        out.contains("OCSP Response Status: successful") && out.contains("Cert Status: good"),
        "{out}"
    );
    px.stop();
}

per_poller!(ocsp_response_is_set);

/// Clients that keep connecting while the certificate is replaced five
/// times all get their answer, each from one of the two certificates, and
/// the last commit is what is served at the end.
fn swap_under_load_loses_nothing(poller: &str) {
    let dir = TestDir::new("tls-cli-load");
    let ca = Ca::new(&dir);
    let a = ca.issue("a", "a.test");
    let c = ca.issue("c", "a.test");
    let list = dir.write("l.crtlist", "");
    let sock = dir.join("cli.sock");
    let px = Launch::new(Some(poller)).start(&cfg(&sock, &a, &list));
    let port = px.addr(0).port();
    let load = common::pki::HttpsLoad::start(2, port, &ca.pem.display().to_string(), "a.test");
    let pems = [
        std::fs::read_to_string(&c).unwrap(),
        std::fs::read_to_string(&a).unwrap(),
    ];
    for i in 0..5 {
        let name = a.display().to_string();
        let out = cli_payload(&sock, &format!("set ssl cert {name}"), &pems[i % 2]);
        assert!(out.starts_with("Transaction created"), "{out}");
        let out = cli(&sock, &format!("commit ssl cert {name}"));
        assert_eq!(out, format!("Committing {name}.\nSuccess!\n\n"));
        thread::sleep(std::time::Duration::from_millis(150));
    }
    load.finish(&px.logs());
    // Five commits, alternating: c's certificate is the last.
    assert_eq!(served_serial(px.addr(0), "a.test"), ca.serial("c"));
    px.stop();
}

per_poller!(swap_under_load_loses_nothing);
