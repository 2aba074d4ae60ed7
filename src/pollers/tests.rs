//! One suite, run against every backend compiled here by `each_backend`.
//! Real sockets only: socketpairs and TCP on 127.0.0.1.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::*;

/// Run `body` once per backend in `compiled()`, naming the backend on failure.
fn each_backend(body: fn(&mut dyn Poller)) {
    for b in compiled() {
        let mut p = (b.create)().unwrap_or_else(|e| panic!("{}: create: {e}", b.name));
        eprintln!("-- backend {}", b.name);
        body(p.as_mut());
    }
}

/// `each_backend` for a body that watches fds up to `highest`, leaving out
/// select (with a SKIP line) where this environment's select(2) cannot take
/// them: `POLLUX_TEST_SELECT_MAX_FD`, set by ci/cross-run because qemu-user
/// copies fd sets into the host's fixed `fd_set` and glibc aborts the whole
/// emulator above FD_SETSIZE - 1. Unset (natively), every backend runs.
fn each_backend_up_to_fd(highest: RawFd, body: fn(&mut dyn Poller)) {
    let env_max = std::env::var("POLLUX_TEST_SELECT_MAX_FD").ok().map(|v| {
        v.trim()
            .parse::<RawFd>()
            .unwrap_or_else(|_| panic!("POLLUX_TEST_SELECT_MAX_FD={v:?}: not a number"))
    });
    for b in compiled() {
        if let Some(max) = env_max.filter(|&m| b.name == "select" && highest > m) {
            println!("SKIP select: fds up to {highest}, POLLUX_TEST_SELECT_MAX_FD={max}");
            continue;
        }
        let mut p = (b.create)().unwrap_or_else(|e| panic!("{}: create: {e}", b.name));
        eprintln!("-- backend {}", b.name);
        body(p.as_mut());
    }
}

/// A connected nonblocking socketpair.
fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Wait once and merge the events per token (a backend may split an fd's
/// directions into several events).
fn wait_once(p: &mut dyn Poller, timeout: Duration) -> HashMap<Token, Event> {
    let mut events = Events::with_capacity(1024);
    p.wait(&mut events, Some(timeout))
        .unwrap_or_else(|e| panic!("{}: wait: {e}", p.name()));
    let mut merged: HashMap<Token, Event> = HashMap::new();
    for ev in events.iter() {
        let m = merged.entry(ev.token).or_insert(Event {
            token: ev.token,
            ..Event::default()
        });
        m.readable |= ev.readable;
        m.writable |= ev.writable;
        m.hup |= ev.hup;
        m.error |= ev.error;
    }
    merged
}

/// Wait (up to 2 s in all) until `token` has an event matching `want`.
fn wait_for(p: &mut dyn Poller, token: Token, want: impl Fn(&Event) -> bool) -> Option<Event> {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Some(ev) = wait_once(p, Duration::from_millis(100)).remove(&token) {
            if want(&ev) {
                return Some(ev);
            }
        }
    }
    None
}

/// No event at all for `token` during a short wait.
fn quiet(p: &mut dyn Poller, token: Token) -> bool {
    !wait_once(p, Duration::from_millis(50)).contains_key(&token)
}

#[test]
fn readable_is_reported_when_peer_writes() {
    each_backend(|p| {
        let (a, mut b) = pair();
        p.add(a.as_raw_fd(), 1, Interest::READ).unwrap();
        assert!(quiet(p, 1), "{}: nothing written yet", p.name());
        b.write_all(b"hello").unwrap();
        assert!(
            wait_for(p, 1, |e| e.readable).is_some(),
            "{}: not readable",
            p.name()
        );
        p.remove(a.as_raw_fd()).unwrap();
    });
}

#[test]
fn writable_is_reported_when_buffer_has_room() {
    each_backend(|p| {
        let (a, _b) = pair();
        p.add(a.as_raw_fd(), 2, Interest::WRITE).unwrap();
        let ev =
            wait_for(p, 2, |e| e.writable).unwrap_or_else(|| panic!("{}: not writable", p.name()));
        assert!(
            !ev.readable,
            "{}: readable without data or read interest",
            p.name()
        );
        p.remove(a.as_raw_fd()).unwrap();
    });
}

#[test]
fn peer_close_is_reported_as_hup_or_eof() {
    each_backend(|p| {
        let (mut a, b) = pair();
        p.add(a.as_raw_fd(), 3, Interest::READ).unwrap();
        drop(b);
        let ev = wait_for(p, 3, |e| e.hup || e.readable)
            .unwrap_or_else(|| panic!("{}: peer close not reported", p.name()));
        if !ev.hup {
            // Readable with nothing to read: the EOF.
            assert_eq!(
                a.read(&mut [0u8; 8]).unwrap(),
                0,
                "{}: readable but no EOF",
                p.name()
            );
        }
        p.remove(a.as_raw_fd()).unwrap();
    });
}

#[test]
fn connection_reset_is_reported_as_error_or_hup() {
    each_backend(|p| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client.set_nonblocking(true).unwrap();
        let (server, _) = listener.accept().unwrap();
        // SO_LINGER 0 then close: the peer gets an RST, a socket error.
        socket2::SockRef::from(&server)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(server);
        p.add(client.as_raw_fd(), 4, Interest::READ).unwrap();
        let ev = wait_for(p, 4, |e| e.error || e.hup || e.readable)
            .unwrap_or_else(|| panic!("{}: reset not reported", p.name()));
        if !(ev.error || ev.hup) {
            // select has no error set: the error shows as readable.
            let err = client.take_error().unwrap();
            let read = (&client).read(&mut [0u8; 8]);
            assert!(
                err.is_some() || read.is_err(),
                "{}: readable but no error",
                p.name()
            );
        }
        p.remove(client.as_raw_fd()).unwrap();
    });
}

#[test]
fn refused_connect_is_reported_as_error_or_hup() {
    use socket2::{Domain, Socket, Type};
    each_backend(|p| {
        // A port nobody listens on: bind, note it, close.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        match s.connect(&addr.into()) {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INPROGRESS.raw_os_error()) => {}
            other => {
                println!("SKIP {}: connect finished at once ({other:?})", p.name());
                return;
            }
        }
        p.add(s.as_raw_fd(), 12, Interest::WRITE).unwrap();
        let ev = wait_for(p, 12, |e| e.error || e.hup || e.writable)
            .unwrap_or_else(|| panic!("{}: refused connect not reported", p.name()));
        if !(ev.error || ev.hup) {
            // select has no error set: a failed connect shows as writable.
            assert!(
                s.take_error().unwrap().is_some(),
                "{}: writable but no error",
                p.name()
            );
        }
        p.remove(s.as_raw_fd()).unwrap();
    });
}

#[test]
fn timeout_with_nothing_ready_returns_no_events() {
    each_backend(|p| {
        let (a, _b) = pair();
        p.add(a.as_raw_fd(), 5, Interest::READ).unwrap();
        let mut events = Events::with_capacity(16);
        let start = Instant::now();
        p.wait(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        assert!(events.is_empty(), "{}: events with nothing ready", p.name());
        // Loose: the wait happened at all (EINTR could cut it short, rarely).
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "{}: returned at once",
            p.name()
        );
        p.remove(a.as_raw_fd()).unwrap();
    });
}

#[test]
fn wait_with_no_fds_sleeps_until_the_timeout() {
    each_backend(|p| {
        let start = Instant::now();
        assert!(
            wait_once(p, Duration::from_millis(50)).is_empty(),
            "{}: events from nothing",
            p.name()
        );
        assert!(
            start.elapsed() >= Duration::from_millis(10),
            "{}: returned at once",
            p.name()
        );
    });
}

#[test]
fn modify_switches_read_write_and_none() {
    each_backend(|p| {
        let (a, mut b) = pair();
        b.write_all(b"x").unwrap();
        p.add(a.as_raw_fd(), 6, Interest::READ).unwrap();
        let ev = wait_for(p, 6, |e| e.readable).unwrap_or_else(|| panic!("{}: read", p.name()));
        assert!(
            !ev.writable,
            "{}: writable without write interest",
            p.name()
        );
        p.modify(a.as_raw_fd(), 60, Interest::WRITE).unwrap();
        let ev = wait_for(p, 60, |e| e.writable).unwrap_or_else(|| panic!("{}: write", p.name()));
        assert!(!ev.readable, "{}: readable without read interest", p.name());
        p.modify(a.as_raw_fd(), 61, Interest::NONE).unwrap();
        let got = wait_once(p, Duration::from_millis(50));
        assert!(
            got.is_empty(),
            "{}: events with no interest: {got:?}",
            p.name()
        );
        p.modify(a.as_raw_fd(), 62, Interest::BOTH).unwrap();
        assert!(
            wait_for(p, 62, |e| e.readable && e.writable).is_some(),
            "{}: both",
            p.name()
        );
        p.remove(a.as_raw_fd()).unwrap();
    });
}

#[test]
fn removed_fd_reports_nothing() {
    each_backend(|p| {
        let (a, mut b) = pair();
        p.add(a.as_raw_fd(), 7, Interest::BOTH).unwrap();
        b.write_all(b"x").unwrap();
        assert!(
            wait_for(p, 7, |e| e.readable).is_some(),
            "{}: not readable",
            p.name()
        );
        p.remove(a.as_raw_fd()).unwrap();
        assert!(quiet(p, 7), "{}: event after remove", p.name());
        assert!(
            p.remove(a.as_raw_fd()).is_err(),
            "{}: removed twice",
            p.name()
        );
    });
}

#[test]
fn fd_can_be_added_again_after_remove() {
    each_backend(|p| {
        let (a, mut b) = pair();
        p.add(a.as_raw_fd(), 8, Interest::READ).unwrap();
        p.remove(a.as_raw_fd()).unwrap();
        b.write_all(b"x").unwrap();
        p.add(a.as_raw_fd(), 80, Interest::READ).unwrap();
        let ev = wait_for(p, 80, |e| e.readable);
        assert!(ev.is_some(), "{}: re-added fd not reported", p.name());
        p.remove(a.as_raw_fd()).unwrap();
    });
}

#[test]
fn adding_an_fd_twice_is_an_error() {
    each_backend(|p| {
        let (a, _b) = pair();
        p.add(a.as_raw_fd(), 9, Interest::READ).unwrap();
        assert!(
            p.add(a.as_raw_fd(), 9, Interest::READ).is_err(),
            "{}: added twice",
            p.name()
        );
        p.remove(a.as_raw_fd()).unwrap();
        assert!(
            p.modify(a.as_raw_fd(), 9, Interest::READ).is_err(),
            "{}: modify unknown",
            p.name()
        );
    });
}

#[test]
fn unread_data_is_reported_again() {
    each_backend(|p| {
        let (a, mut b) = pair();
        p.add(a.as_raw_fd(), 10, Interest::READ).unwrap();
        b.write_all(b"unread").unwrap();
        for turn in 0..3 {
            let ev = wait_for(p, 10, |e| e.readable);
            assert!(ev.is_some(), "{}: not reported on turn {turn}", p.name());
        }
        p.remove(a.as_raw_fd()).unwrap();
    });
}

#[test]
fn wait_reports_at_most_capacity_events() {
    each_backend(|p| {
        let pairs: Vec<_> = (0..8).map(|_| pair()).collect();
        for (i, (a, _)) in pairs.iter().enumerate() {
            p.add(a.as_raw_fd(), i, Interest::WRITE).unwrap();
        }
        let mut events = Events::with_capacity(3);
        p.wait(&mut events, Some(Duration::from_secs(1))).unwrap();
        assert!(
            !events.is_empty() && events.len() <= 3,
            "{}: {} events",
            p.name(),
            events.len()
        );
        for (a, _) in &pairs {
            p.remove(a.as_raw_fd()).unwrap();
        }
    });
}

/// Raise the soft fd limit to the hard one; the number of fds now allowed.
fn raise_fd_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current < lim.maximum {
        lim.current = lim.maximum;
        let _ = setrlimit(Resource::Nofile, lim);
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[test]
fn many_fds_are_all_reported() {
    const PAIRS: usize = 2000;
    let limit = raise_fd_limit();
    // Two fds a pair, plus room for the other tests running alongside.
    if limit < (PAIRS as u64) * 2 + 1000 {
        println!(
            "SKIP many_fds_are_all_reported: RLIMIT_NOFILE is {limit}, need {}",
            PAIRS * 2 + 1000
        );
        return;
    }
    // Two fds a pair, above those already open.
    each_backend_up_to_fd(PAIRS as RawFd * 2, |p| {
        let pairs: Vec<_> = (0..PAIRS).map(|_| pair()).collect();
        for (i, (a, b)) in pairs.iter().enumerate() {
            p.add(a.as_raw_fd(), i, Interest::READ)
                .unwrap_or_else(|e| panic!("{}: add {i}: {e}", p.name()));
            (&*b).write_all(b"x").unwrap();
        }
        // Drain what is reported so the rest gets its turn within capacity.
        let mut seen = HashSet::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut events = Events::with_capacity(256);
        while seen.len() < PAIRS && Instant::now() < deadline {
            p.wait(&mut events, Some(Duration::from_millis(100)))
                .unwrap();
            for ev in events.iter().filter(|e| e.readable) {
                let _ = (&pairs[ev.token].0).read(&mut [0u8; 4]);
                seen.insert(ev.token);
            }
        }
        assert_eq!(seen.len(), PAIRS, "{}: not every fd reported", p.name());
        for (a, _) in &pairs {
            p.remove(a.as_raw_fd()).unwrap();
        }
    });
}

#[test]
fn fd_above_fd_setsize_is_watched_or_refused() {
    const HIGH: RawFd = 1100; // above select's FD_SETSIZE of 1024
    if raise_fd_limit() <= HIGH as u64 + 16 {
        println!("SKIP fd_above_fd_setsize_is_watched_or_refused: RLIMIT_NOFILE too low");
        return;
    }
    each_backend_up_to_fd(HIGH, |p| {
        let (a, mut b) = pair();
        let high = rustix::io::fcntl_dupfd_cloexec(&a, HIGH).unwrap();
        let fd = high.as_raw_fd();
        assert!(fd >= HIGH);
        match p.max_fd() {
            Some(max) if fd > max => {
                assert!(
                    p.add(fd, 11, Interest::READ).is_err(),
                    "{}: fd {fd} > max {max} accepted",
                    p.name()
                );
            }
            _ => {
                p.add(fd, 11, Interest::READ).unwrap();
                b.write_all(b"x").unwrap();
                assert!(
                    wait_for(p, 11, |e| e.readable).is_some(),
                    "{}: fd {fd} not reported",
                    p.name()
                );
                p.remove(fd).unwrap();
            }
        }
    });
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn select_takes_fds_above_fd_setsize_on_linux() {
    let select = compiled().into_iter().find(|b| b.name == "select").unwrap();
    assert_eq!((select.create)().unwrap().max_fd(), None);
}

// ---- the registry ----

#[test]
fn every_compiled_backend_passes_self_test() {
    for b in compiled() {
        assert!(self_test(b), "{}: self-test failed", b.name);
    }
}

#[test]
fn compiled_backends_are_ordered_by_preference() {
    let prefs: Vec<u32> = compiled().iter().map(|b| b.pref).collect();
    assert!(prefs.windows(2).all(|w| w[0] >= w[1]), "{prefs:?}");
    let names: Vec<&str> = compiled().iter().map(|b| b.name).collect();
    assert!(
        names.contains(&"poll") && names.contains(&"select"),
        "{names:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn report_lists_every_backend_and_the_choice() {
    let expected = "Available polling systems :\n      epoll : pref=300,  test result OK\n       poll : pref=200,  test result OK\n     select : pref=150,  test result OK\nTotal: 3 (3 usable), will use epoll.\n";
    assert_eq!(report(&[]), expected);
}

#[cfg(target_os = "linux")]
#[test]
fn report_shows_disabled_backend_with_pref_zero() {
    let out = report(&["epoll".to_string()]);
    assert!(
        out.contains("      epoll : pref=  0,  test result OK\n"),
        "{out}"
    );
    assert!(
        out.ends_with("Total: 3 (2 usable), will use poll.\n"),
        "{out}"
    );
}

#[test]
fn best_usable_backend_is_chosen() {
    assert_eq!(choose(None, &[]).unwrap().name, compiled()[0].name);
}

#[test]
fn disabled_backends_are_skipped() {
    let first = compiled()[0].name.to_string();
    let chosen = choose(None, std::slice::from_ref(&first)).unwrap();
    assert_ne!(chosen.name, first);
    assert_eq!(chosen.name, compiled()[1].name);
}

#[test]
fn forced_backend_wins_even_if_disabled() {
    assert_eq!(
        choose(Some("select"), &["select".to_string()])
            .unwrap()
            .name,
        "select"
    );
}

#[test]
fn everything_disabled_is_an_error_listing_usable_ones() {
    let all: Vec<String> = compiled().iter().map(|b| b.name.to_string()).collect();
    let err = choose(None, &all).unwrap_err();
    assert!(err.contains("(usable: "), "{err}");
}

#[cfg(target_os = "linux")]
#[test]
fn forced_backend_from_another_os_is_refused() {
    let err = choose(Some("kqueue"), &[]).unwrap_err();
    assert_eq!(
        err,
        "--poller kqueue: not available on linux (usable: epoll, poll, select)"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn forced_unknown_backend_is_refused() {
    let err = choose(Some("frob"), &[]).unwrap_err();
    assert_eq!(
        err,
        "--poller frob: unknown polling system (usable: epoll, poll, select)"
    );
}

#[test]
fn negative_fd_is_refused_not_undefined() {
    each_backend(|p| {
        assert!(
            p.add(-1, 0, Interest::READ).is_err(),
            "{}: fd -1 accepted",
            p.name()
        );
    });
}
