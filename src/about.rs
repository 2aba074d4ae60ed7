//! What this build is, in the words HAProxy's own tooling reads: the HAProxy
//! version whose configuration and behaviour pollux follows (for
//! `version_atleast()` and the reg-test runner's REQUIRE_VERSION), the
//! build target name, and the feature list (`feature()`, REQUIRE_OPTIONS).

/// The HAProxy release pollux's configuration language and behaviour follow.
pub const HAPROXY_VERSION: &str = "2.6.12";

/// HAProxy's TARGET name for this OS (its Makefile's names; the reg-tests
/// exclude some by it, e.g. `EXCLUDE_TARGETS=freebsd,osx`).
pub fn target() -> &'static str {
    if cfg!(all(target_os = "linux", target_env = "musl")) {
        "linux-musl"
    } else if cfg!(target_os = "linux") {
        "linux-glibc"
    } else if cfg!(target_os = "freebsd") {
        "freebsd"
    } else if cfg!(target_os = "openbsd") {
        "openbsd"
    } else if cfg!(target_os = "netbsd") {
        "netbsd"
    } else if cfg!(target_os = "dragonfly") {
        "dragonfly"
    } else if cfg!(any(target_os = "solaris", target_os = "illumos")) {
        "solaris"
    } else if cfg!(target_os = "macos") {
        "osx"
    } else {
        "generic"
    }
}

/// HAProxy's build features with whether this build has them: the pollers
/// compiled in, and the libraries pollux does not link (so a configuration
/// or test that needs them knows at once).
pub fn features() -> Vec<(&'static str, bool)> {
    let pollers = crate::pollers::compiled();
    let has = |name: &str| pollers.iter().any(|b| b.name == name);
    let mut v = vec![
        ("EPOLL", has("epoll")),
        ("EVPORTS", has("evports")),
        ("KQUEUE", has("kqueue")),
        ("POLL", has("poll")),
        ("SELECT", has("select")),
        ("THREAD", true),
        ("LIBCRYPT", false),
        ("LINUX_SPLICE", false),
        ("LUA", false),
        ("OBSOLETE_LINKER", false),
        ("OPENSSL", false),
        ("PCRE", false),
        ("PCRE2", false),
        ("PROMEX", true),
        ("SLZ", false),
        // `compression algo gzip|deflate`: HAProxy's scripts and reg-tests
        // read this feature as "compression is there" (pollux's deflate is
        // miniz_oxide, not zlib; a `Built with` line says so).
        ("ZLIB", true),
    ];
    v.sort_by_key(|(name, _)| *name);
    v
}

/// `Feature list : +EPOLL -KQUEUE ...`, as `haproxy -vv` prints it.
pub fn feature_line() -> String {
    let words: Vec<String> = features()
        .iter()
        .map(|(n, on)| format!("{}{n}", if *on { '+' } else { '-' }))
        .collect();
    format!("Feature list : {}", words.join(" "))
}

/// `-vv`: pollux's own name and version first, then the lines HAProxy's
/// scripts read (`HAProxy version`, `Running on`, `TARGET =`, `Feature
/// list`, `Available services`), then the pollers.
pub fn build_report(disabled: &[String]) -> String {
    let u = rustix::system::uname();
    let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
    format!(
        "pollux version {}\n\
         HAProxy version {HAPROXY_VERSION} compatible (pollux {} follows HAProxy {HAPROXY_VERSION})\n\
         Running on: {} {} {} {}\n\
         Build options :\n  TARGET  = {}\n  RUST    = {}\n\
         \n{}\n\
         Built with miniz_oxide (pure-Rust deflate) for gzip, deflate and raw-deflate compression.\n\
         Built with rustls (crypto provider: {}) for TLS; no OpenSSL.\n\
         Available services : prometheus-exporter\n\
         Build target: {}\n\n{}",
        crate::VERSION,
        crate::VERSION,
        s(u.sysname()),
        s(u.release()),
        s(u.version()),
        s(u.machine()),
        target(),
        env!("POLLUX_TARGET"),
        feature_line(),
        crate::tls::BACKEND,
        env!("POLLUX_TARGET"),
        crate::pollers::report(disabled),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same extraction HAProxy's scripts/run-regtests.sh does on `-vv`:
    /// grep the four lines, strip up to ` : ` or ` = `, take field 3 of the
    /// version line.
    #[test]
    fn run_regtests_reads_version_target_and_features() {
        let out = build_report(&[]);
        let lines: Vec<&str> = out
            .lines()
            .filter(|l| {
                l.contains("HAProxy version")
                    || l.contains("HA-Proxy version")
                    || (l.contains("TARGET") && l.contains('='))
                    || l.starts_with("Feature")
                    || l.starts_with("Available services")
            })
            .map(|l| {
                [" : ", " = "]
                    .iter()
                    .filter_map(|sep| l.rfind(sep).map(|i| &l[i + 3..]))
                    .next()
                    .unwrap_or(l)
            })
            .collect();
        assert_eq!(lines.len(), 4, "{out}");
        assert_eq!(lines[0].split(' ').nth(2), Some(HAPROXY_VERSION));
        assert_eq!(lines[1], target());
        assert!(lines[2].contains(" -OPENSSL") && lines[2].contains("+POLL"));
        assert_eq!(lines[3], "prometheus-exporter");
        assert!(out.starts_with(&format!("pollux version {}\n", crate::VERSION)));
    }
}
