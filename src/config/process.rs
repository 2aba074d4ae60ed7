//! Process-management keywords of the `global` section: privileges
//! (`user`, `group`, `uid`, `gid`, `chroot`), `ulimit-n`, `hard-stop-after`,
//! (the `stats socket` line is in stats_socket.rs).

use std::path::PathBuf;

use super::args::{need, only};
use super::model::Global;
use super::values::{parse_int, parse_time};

pub(crate) const KEYWORDS: &[&str] = &[
    "user",
    "group",
    "uid",
    "gid",
    "chroot",
    "ulimit-n",
    "hard-stop-after",
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
        _ => unreachable!("{kw} is in KEYWORDS"),
    }
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
    }
}
