//! Command-line parsing, with HAProxy's flags so existing scripts and
//! service units work unchanged.

use crate::config::stats_socket::CliAddr;
use std::path::PathBuf;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-f FILE|DIR` (repeatable) and files after `--`, in order.
    pub files: Vec<PathBuf>,
    /// `-c`: check the configuration and exit.
    pub check: bool,
    /// `-d`: foreground with debug output.
    pub debug: bool,
    /// `-db`: foreground even if the config says `daemon`.
    pub no_background: bool,
    /// `-D`: daemon.
    pub daemon: bool,
    /// `-p FILE`.
    pub pidfile: Option<PathBuf>,
    /// `-q`.
    pub quiet: bool,
    /// `-V`: verbose (prints the polling mechanism).
    pub verbose: bool,
    /// 1 for `-v`, 2 for `-vv`.
    pub version: u8,
    /// `-n MAXCONN`.
    pub maxconn: Option<u32>,
    /// `--poller NAME`.
    pub poller: Option<String>,
    /// Backends disabled by `-de -dp -dk -dv`.
    pub disabled: Vec<String>,
    pub help: bool,
    /// `-sf PID*` (soft: finish sessions) or `-st PID*` (terminate): the
    /// old processes to replace once this one serves.
    pub old_pids: Vec<i32>,
    pub hard_stop_old: bool,
    /// `-x PATH`: take the listening sockets over from this Unix socket.
    pub takeover: Option<PathBuf>,
    /// `-W`: master-worker mode.
    pub master_worker: bool,
    /// `-Ws`: master-worker mode that tells systemd (`Type=notify`) when it
    /// is ready, reloading and stopping.
    pub systemd: bool,
    /// `-S ADDRESS`: the master CLI's socket (`reload`).
    pub master_cli: Option<CliAddr>,
    /// `-cc EXPR`: evaluate a conditional expression (as `.if`) and exit
    /// 0 (true), 1 (false) or 2 (error).
    pub check_cond: Option<String>,
    /// `-L NAME`: the local peer name (HAPROXY_LOCALPEER).
    pub local_peer: Option<String>,
    /// `-m MB`: the process's memory limit.
    pub mem_limit_mb: Option<u64>,
}

pub const USAGE: &str = "\
Usage : pollux [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -p <pidfile> ]
        [ -sf|-st <pid>* ] [ -x <unix_socket> ] [ -W | -Ws ] [ -S <unix_socket> ]
        [ --poller <name> ] [ -de ] [ -dp ] [ -dk ] [ -dv ] [ -cc <expr> ]
        [ -L <name> ] [ -m <megs> ] [ -- <cfgfile>* ]
        -v displays version ; -vv shows known build options and polling systems.
        -d enters debug mode (foreground) ; -db only disables background mode.
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -c checks the configuration and exits
        -f loads a file or the *.cfg files of a directory (repeatable)
        -n sets the maximum total # of connections
        -p writes pids of all children to this file
        -q quiet mode : don't display messages
        -sf/-st [pid ]* finishes/terminates old pids once serving
        -x <unix_socket> gets the listeners from an old process's socket
        -W master-worker mode: SIGUSR2 to the master reloads the workers
        -Ws master-worker mode with systemd notify support (Type=notify)
        -S <unix_socket> master CLI socket (-W): 'reload' reloads the workers
        -cc <expr> evaluates a condition as '.if' does (exit 0 true, 1 false, 2 error)
        -L <name> sets the local peer name (HAPROXY_LOCALPEER)
        -m <megs> limits the usable amount of memory (in MB)
        -dM accepted for HAProxy's scripts (memory poisoning: nothing to poison)
        --poller <name> forces a polling system (see -vv for the usable ones)
        -de disables epoll() usage, -dp disables poll() usage
        -dk disables kqueue() usage, -dv disables event ports usage
        --help shows this text
";

pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.into_iter().peekable();
    let value = |it: &mut std::iter::Peekable<I::IntoIter>, flag: &str| {
        it.next()
            .ok_or_else(|| format!("option '{flag}' requires an argument"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--" => {
                o.files.extend(it.by_ref().map(PathBuf::from));
                break;
            }
            "-f" => o.files.push(PathBuf::from(value(&mut it, "-f")?)),
            "-c" => o.check = true,
            "-d" => o.debug = true,
            "-db" => o.no_background = true,
            "-D" => o.daemon = true,
            "-p" => o.pidfile = Some(PathBuf::from(value(&mut it, "-p")?)),
            "-q" => o.quiet = true,
            "-V" => o.verbose = true,
            "-v" => o.version = o.version.max(1),
            "-vv" => o.version = 2,
            "-n" => {
                let v = value(&mut it, "-n")?;
                let n = v.parse::<u32>().ok().filter(|&n| n > 0);
                o.maxconn =
                    Some(n.ok_or_else(|| {
                        format!("option '-n' expects a positive integer, got '{v}'")
                    })?);
            }
            "--poller" => o.poller = Some(value(&mut it, "--poller")?),
            "-de" => o.disabled.push("epoll".into()),
            "-dp" => o.disabled.push("poll".into()),
            "-dk" => o.disabled.push("kqueue".into()),
            "-dv" => o.disabled.push("evports".into()),
            "--help" | "-h" => o.help = true,
            _ if a.starts_with("--poller=") => o.poller = Some(a["--poller=".len()..].to_string()),
            "-sf" | "-st" => {
                o.hard_stop_old = a == "-st";
                // HAProxy takes every following numeric argument as a pid.
                while let Some(pid) = it.peek().and_then(|p| p.parse::<i32>().ok()) {
                    it.next();
                    if pid <= 0 {
                        return Err(format!("option '{a}': invalid pid '{pid}'"));
                    }
                    o.old_pids.push(pid);
                }
            }
            "-x" => o.takeover = Some(PathBuf::from(value(&mut it, "-x")?)),
            "-W" => o.master_worker = true,
            "-S" => {
                let v = value(&mut it, "-S")?;
                if v.contains(',') {
                    return Err(format!(
                        "option '-S {v}': bind options are not supported (give only the address)"
                    ));
                }
                o.master_cli = Some(CliAddr::parse(&v).map_err(|e| format!("option '-S': {e}"))?);
            }
            "-cc" => o.check_cond = Some(value(&mut it, "-cc")?),
            "-L" => o.local_peer = Some(value(&mut it, "-L")?),
            "-m" => {
                let v = value(&mut it, "-m")?;
                match v.parse::<u64>() {
                    Ok(n) if n > 0 => o.mem_limit_mb = Some(n),
                    _ => {
                        return Err(format!(
                            "option '-m' expects a size in megabytes, got '{v}'"
                        ))
                    }
                }
            }
            // Memory poisoning (-dM[byte][,opts]) finds use-after-free in
            // HAProxy's C pools; safe Rust has none to find: accepted, no effect.
            _ if a.starts_with("-dM") => {}
            "-Ws" => {
                o.master_worker = true;
                o.systemd = true;
            }
            _ => return Err(format!("unknown option '{a}'")),
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn files_flags_and_double_dash_collect_in_order() {
        let o = p(&["-f", "a.cfg", "-db", "-f", "dir", "--", "b.cfg", "-c"]).unwrap();
        assert_eq!(
            o.files,
            vec![
                PathBuf::from("a.cfg"),
                "dir".into(),
                "b.cfg".into(),
                "-c".into()
            ]
        );
        assert!(o.no_background && !o.check);
    }

    #[test]
    fn poller_flags_are_recorded() {
        let o = p(&["--poller", "poll", "-de", "-dk"]).unwrap();
        assert_eq!(o.poller.as_deref(), Some("poll"));
        assert_eq!(o.disabled, vec!["epoll", "kqueue"]);
    }

    #[test]
    fn sf_and_st_take_the_following_pids() {
        let o = p(&["-sf", "12", "34", "-f", "a.cfg"]).unwrap();
        assert_eq!(o.old_pids, vec![12, 34]);
        assert!(!o.hard_stop_old);
        assert_eq!(o.files, vec![PathBuf::from("a.cfg")]);
        let o = p(&["-st", "7", "-x", "/run/s.sock"]).unwrap();
        assert_eq!((o.old_pids, o.hard_stop_old), (vec![7], true));
        assert_eq!(o.takeover, Some(PathBuf::from("/run/s.sock")));
        // An empty pid list (an empty pidfile) is accepted, as by HAProxy.
        assert!(p(&["-sf"]).unwrap().old_pids.is_empty());
        assert!(p(&["-sf", "0"]).unwrap_err().contains("invalid pid"));
        assert!(p(&["-W"]).unwrap().master_worker);
        assert_eq!(
            p(&["-S", "/run/m.sock"]).unwrap().master_cli,
            Some(CliAddr::Unix(PathBuf::from("/run/m.sock")))
        );
        assert_eq!(p(&["-S", "fd@7"]).unwrap().master_cli, Some(CliAddr::Fd(7)));
        assert_eq!(
            p(&["-S", "ipv4@127.0.0.1:9999"]).unwrap().master_cli,
            Some(CliAddr::Inet("127.0.0.1:9999".parse().unwrap()))
        );
        assert!(p(&["-S", "/m.sock,mode,600"])
            .unwrap_err()
            .contains("not supported"));
        let ws = p(&["-Ws"]).unwrap();
        assert!(ws.master_worker && ws.systemd);
        assert!(!p(&["-W"]).unwrap().systemd);
    }

    #[test]
    fn unknown_flag_and_missing_values_are_errors() {
        assert!(p(&["-z"]).unwrap_err().contains("unknown option '-z'"));
        assert!(p(&["-f"]).unwrap_err().contains("requires an argument"));
        assert!(p(&["-n", "abc"]).unwrap_err().contains("positive integer"));
        assert!(p(&["-m", "0"]).unwrap_err().contains("megabytes"));
    }

    #[test]
    fn haproxy_regtest_runner_flags() {
        // What HAProxy's reg-test runner passes: -dM, -L NAME, -m MB, -cc EXPR.
        let o = p(&["-dM", "-de", "-m", "50", "-L", "A", "-cc", "feature(EPOLL)"]).unwrap();
        assert_eq!(o.mem_limit_mb, Some(50));
        assert_eq!(o.local_peer.as_deref(), Some("A"));
        assert_eq!(o.check_cond.as_deref(), Some("feature(EPOLL)"));
        assert!(p(&["-dM0x55,no-merge"]).is_ok());
    }
}
