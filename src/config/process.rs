//! Process-management keywords of the `global` section: privileges
//! (`user`, `group`, `uid`, `gid`, `chroot`), `ulimit-n`, `hard-stop-after`,
//! and the `stats socket` line as far as hot reload needs it.

use std::path::PathBuf;

use super::parser::{need, only};
use super::values::{parse_int, parse_time};
use super::Global;

/// `stats socket PATH ... expose-fd listeners`: a Unix socket from which
/// a new process (`-x PATH`, or `-sf` finding it in its own config) takes
/// over the listening sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    pub path: PathBuf,
    /// `mode OCTAL` for the socket file (default 0600 here, owner only).
    pub mode: u32,
    pub expose_listeners: bool,
}

pub(crate) const KEYWORDS: &[&str] = &[
    "user",
    "group",
    "uid",
    "gid",
    "chroot",
    "ulimit-n",
    "hard-stop-after",
    "stats",
];

pub(crate) fn parse_keyword(g: &mut Global, args: &[String]) -> Result<(), String> {
    let kw = args[0].as_str();
    match kw {
        "user" => {
            let name = need(args, 1, "a user name")?;
            only(args, 2)?;
            let uid = crate::sys::privs::lookup_user(name)
                .ok()
                .flatten()
                .ok_or_else(|| format!("cannot find user id for '{name}'"))?;
            g.uid = Some(uid.0);
        }
        "group" => {
            let name = need(args, 1, "a group name")?;
            only(args, 2)?;
            let gid = crate::sys::privs::lookup_group(name)
                .ok()
                .flatten()
                .ok_or_else(|| format!("cannot find group id for '{name}'"))?;
            g.gid = Some(gid);
        }
        "uid" | "gid" => {
            let n = parse_int(
                &format!("'{kw}'"),
                need(args, 1, "an integer")?,
                0,
                u32::MAX.into(),
            )? as u32;
            only(args, 2)?;
            *(if kw == "uid" { &mut g.uid } else { &mut g.gid }) = Some(n);
        }
        "chroot" => {
            let dir = need(args, 1, "a directory")?;
            only(args, 2)?;
            g.chroot = Some(PathBuf::from(dir));
        }
        "ulimit-n" => {
            let n = parse_int(
                "'ulimit-n'",
                need(args, 1, "an integer")?,
                1,
                u32::MAX.into(),
            )?;
            only(args, 2)?;
            g.ulimit_n = Some(n);
        }
        "hard-stop-after" => {
            let t = parse_time("'hard-stop-after'", need(args, 1, "a time")?)?;
            only(args, 2)?;
            g.hard_stop_after = Some(t);
        }
        "stats" => parse_stats(g, args)?,
        _ => unreachable!("{kw} is in KEYWORDS"),
    }
    Ok(())
}

/// `stats socket ...`. Only the fd-exposing socket exists for now; the
/// runtime API will extend this function (levels, commands, timeouts).
pub(crate) fn parse_stats(g: &mut Global, args: &[String]) -> Result<(), String> {
    let sub = need(args, 1, "'socket', 'timeout' or 'maxconn'")?;
    if sub != "socket" {
        return Err(format!("'stats {sub}' is not supported yet"));
    }
    let path = need(args, 2, "a path")?;
    if path.contains('@') {
        return Err(format!(
            "'stats socket' on '{path}': only Unix socket paths are supported yet"
        ));
    }
    let mut s = StatsSocket {
        path: PathBuf::from(path),
        mode: 0o600,
        expose_listeners: false,
    };
    let mut i = 3;
    while let Some(opt) = args.get(i).map(String::as_str) {
        match opt {
            "expose-fd" => {
                let what = need(args, i + 1, "'listeners'")?;
                if what != "listeners" {
                    return Err(format!("'expose-fd' expects 'listeners', got '{what}'"));
                }
                s.expose_listeners = true;
                i += 2;
            }
            "mode" => {
                let m = need(args, i + 1, "an octal mode")?;
                s.mode = u32::from_str_radix(m, 8)
                    .ok()
                    .filter(|&m| m <= 0o777)
                    .ok_or_else(|| format!("'mode' expects an octal mode, got '{m}'"))?;
                i += 2;
            }
            // Only admin level can hand out sockets, as in HAProxy.
            "level" => {
                let l = need(args, i + 1, "'user', 'operator' or 'admin'")?;
                if l != "admin" {
                    return Err(format!(
                        "'stats socket' level '{l}' is not supported yet (only 'admin')"
                    ));
                }
                i += 2;
            }
            _ => {
                return Err(format!(
                    "'stats socket' option '{opt}' is not supported yet"
                ))
            }
        }
    }
    if !s.expose_listeners {
        return Err(
            "'stats socket' without 'expose-fd listeners' is not supported yet (no runtime API)"
                .into(),
        );
    }
    g.stats_sockets.push(s);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn apply(g: &mut Global, line: &str) {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        parse_keyword(g, &args).unwrap_or_else(|e| panic!("{line}: {e}"));
    }

    #[test]
    fn process_keywords_fill_the_model() {
        let mut g = Global::default();
        apply(&mut g, "user root");
        apply(&mut g, "group root");
        assert_eq!((g.uid, g.gid), (Some(0), Some(0)));
        apply(&mut g, "uid 12");
        apply(&mut g, "gid 34");
        assert_eq!((g.uid, g.gid), (Some(12), Some(34)));
        apply(&mut g, "chroot /var/empty");
        assert_eq!(g.chroot, Some(PathBuf::from("/var/empty")));
        apply(&mut g, "ulimit-n 5000");
        assert_eq!(g.ulimit_n, Some(5000));
        apply(&mut g, "hard-stop-after 2s");
        assert_eq!(g.hard_stop_after, Some(Duration::from_secs(2)));
        apply(
            &mut g,
            "stats socket /run/p.sock mode 660 level admin expose-fd listeners",
        );
        assert_eq!(
            g.stats_sockets,
            vec![StatsSocket {
                path: PathBuf::from("/run/p.sock"),
                mode: 0o660,
                expose_listeners: true
            }]
        );
    }
}
