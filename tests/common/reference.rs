//! HAProxy 2.6 as the reference: the same config and traffic through Debian's
//! haproxy (`tests/reference/haproxy.sh` maps `--poller`) and through pollux,
//! so a test can compare what each answers and logs. Without haproxy 2.6 the
//! comparison is skipped with a loud line (and fails in CI, which installs it).

use super::{Launch, Pollux};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const HAPROXY: &str = "/usr/sbin/haproxy";

/// The wrapper that runs haproxy like pollux, if haproxy 2.6 is installed.
pub fn haproxy_26() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let out = Command::new(HAPROXY)
            .arg("-v")
            .output()
            .map_err(|e| format!("no {HAPROXY}: {e}"))?;
        let v = String::from_utf8_lossy(&out.stdout).to_string();
        if !v.contains("version 2.6.") {
            return Err(format!(
                "{HAPROXY} is not 2.6: {}",
                v.lines().next().unwrap_or("")
            ));
        }
        Ok(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/haproxy.sh"))
    });
    match found {
        Ok(p) => Some(p.clone()),
        Err(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "haproxy 2.6 is missing in CI (.ci/run installs it): {why}"
            );
            let test = std::thread::current().name().unwrap_or("?").to_string();
            eprintln!("\n*** SKIP: {test}: comparison with HAProxy 2.6 skipped: {why} ***\n");
            None
        }
    }
}

/// One implementation a comparison runs: pollux, or HAProxy 2.6.
pub struct Impl {
    pub name: &'static str,
    poller: String,
    program: Option<PathBuf>,
}

impl Impl {
    /// Start it on `template` (see `Pollux::start`).
    pub fn start(&self, template: &str) -> Pollux {
        let l = Launch::new(Some(&self.poller));
        match &self.program {
            Some(p) => l.program(p.clone()),
            None => l,
        }
        .start(template)
    }
    pub fn is_haproxy(&self) -> bool {
        self.program.is_some()
    }
}

/// pollux, then HAProxy 2.6 when it is installed: a test that runs the same
/// traffic and assertions through each checks that pollux behaves as HAProxy.
pub fn pollux_and_haproxy(poller: &str) -> Vec<Impl> {
    let mut v = vec![Impl {
        name: "pollux",
        poller: poller.into(),
        program: None,
    }];
    if let Some(p) = haproxy_26() {
        // HAProxy's select refuses to start with the raised fd limit the
        // tests run under (FD_SETSIZE); the comparison is about HTTP, not
        // pollers, so haproxy polls instead.
        let poller = if poller == "select" { "poll" } else { poller };
        v.push(Impl {
            name: "haproxy",
            poller: poller.into(),
            program: Some(p),
        });
    }
    v
}
