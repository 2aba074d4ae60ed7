//! `maxconn` (global, frontend, `-n`): at most N client connections are served
//! at once; the others wait in the kernel's backlog and are served when one closes.

mod common;

use common::*;
use std::io::{Read, Write};

/// With a limit of 2: two clients served, a third accepted by the kernel but not
/// served; when the first closes, the third is served. The server never sees
/// more than 2 at once.
fn maxconn_holds_and_resumes(poller: &str, global: &str, frontend: &str, args: &[&str]) {
    let echo = TestServer::echo();
    let cfg = format!(
        "global\n{global}\n{}\nfrontend fe\n    bind 127.0.0.1:@P0@\n{frontend}\n    default_backend be\nbackend be\n    server s1 {}\n",
        tcp_defaults(),
        echo.addr()
    );
    let px = Pollux::launch(poller).args(args).start(&cfg);
    let mut c1 = connect(px.addr(0));
    roundtrip(&mut c1, b"one");
    let mut c2 = connect(px.addr(0));
    roundtrip(&mut c2, b"two");
    // The kernel completes the handshake (backlog), pollux must not serve it yet.
    let mut c3 = connect(px.addr(0));
    c3.write_all(b"three").unwrap();
    assert_stays_open(
        &mut c3,
        STAYS_OPEN,
        "third client while maxconn 2 are served",
    );
    assert_eq!(
        echo.accepted(),
        2,
        "the server saw a third connection despite maxconn 2"
    );
    // Closing one lets the third in.
    drop(c1);
    let mut back = [0u8; 5];
    c3.read_exact(&mut back)
        .expect("third client not served after one closed");
    assert_eq!(&back, b"three");
    roundtrip(&mut c2, b"two again");
    // And the limit still holds afterwards.
    let mut c4 = connect(px.addr(0));
    c4.write_all(b"four").unwrap();
    assert_stays_open(
        &mut c4,
        STAYS_OPEN,
        "fourth client while maxconn 2 are served",
    );
    assert!(
        echo.peak() <= 2,
        "server saw {} connections at once",
        echo.peak()
    );
    drop((c2, c3));
    let mut back = [0u8; 4];
    c4.read_exact(&mut back)
        .expect("fourth client not served after others closed");
    assert!(
        echo.peak() <= 2,
        "server saw {} connections at once",
        echo.peak()
    );
    px.stop();
}

per_poller!(
    global_maxconn_holds_and_resumes,
    frontend_maxconn_holds_and_resumes,
    cli_n_maxconn_holds_and_resumes
);

fn global_maxconn_holds_and_resumes(poller: &str) {
    maxconn_holds_and_resumes(poller, "    maxconn 2", "", &[]);
}

fn frontend_maxconn_holds_and_resumes(poller: &str) {
    maxconn_holds_and_resumes(poller, "    maxconn 100", "    maxconn 2", &[]);
}

fn cli_n_maxconn_holds_and_resumes(poller: &str) {
    // `-n 2` overrides the global maxconn.
    maxconn_holds_and_resumes(poller, "    maxconn 100", "", &["-n", "2"]);
}
