//! Keywords of the `global` section (manual §3).

use std::path::PathBuf;

use super::args::{need, only};
use super::model::Global;
use super::values::{parse_int, parse_size};

/// Most event-loop threads (`nbthread`), as HAProxy's 64-bit builds.
pub const MAX_THREADS: u32 = 64;

/// Known HAProxy global keywords that pollux does not implement yet. Any
/// `tune.*`, `ssl-*` or `h1-*` keyword not handled below is also reported so.
const UNSUPPORTED: &[&str] = &[
    "busy-polling",
    "cluster-secret",
    "cpu-map",
    "cpu-policy",
    "cpu-set",
    "debug",
    "default-path",
    "description",
    "expose-experimental-directives",
    "external-check",
    "insecure-fork-wanted",
    "insecure-setuid-wanted",
    "localpeer",
    "lua-load",
    "lua-load-per-thread",
    "lua-prepend-path",
    "max-spread-checks",
    "maxcompcpuusage",
    "maxcomprate",
    "maxconnrate",
    "maxpipes",
    "maxsessrate",
    "maxsslconn",
    "maxsslrate",
    "maxzlibmem",
    "mworker-max-reloads",
    "nbproc",
    "node",
    "nogetaddrinfo",
    "nosplice",
    "numa-cpu-mapping",
    "pp2-never-send-local",
    "presetenv",
    "profiling.memory",
    "profiling.tasks",
    "resetenv",
    "set-dumpable",
    "setenv",
    "thread-group",
    "thread-groups",
    "unix-bind",
    "unsetenv",
];

/// HAProxy tuning keywords whose only effect there is speed or memory in
/// machinery pollux builds differently (its scheduler, pools, poll batch):
/// accepted, checked, and warned about, so an HAProxy configuration runs.
/// `true`: the value is `on|off`; `false`: a positive integer.
const NO_EFFECT: &[(&str, bool)] = &[
    ("tune.idle-pool.shared", true),
    ("tune.sched.low-latency", true),
    ("tune.fd.edge-triggered", true),
    ("tune.runqueue-depth", false),
    ("tune.maxpollevents", false),
    ("tune.recv_enough", false),
    ("tune.pattern.cache-size", false),
    ("tune.pool-high-fd-ratio", false),
    ("tune.pool-low-fd-ratio", false),
    ("tune.buffers.limit", false),
    ("tune.buffers.reserve", false),
];

/// A tuning keyword of `NO_EFFECT`: checks its value, returns the warning.
pub(crate) fn no_effect(args: &[String]) -> Option<Result<String, String>> {
    let kw = args[0].as_str();
    let &(_, on_off) = NO_EFFECT.iter().find(|(k, _)| *k == kw)?;
    let check = || -> Result<String, String> {
        if on_off {
            match need(args, 1, "'on' or 'off'")? {
                "on" | "off" => {}
                v => return Err(format!("'{kw}' expects 'on' or 'off', got '{v}'")),
            }
        } else {
            parse_int(
                &format!("'{kw}'"),
                need(args, 1, "an integer")?,
                0,
                i32::MAX as u64,
            )?;
        }
        only(args, 2)?;
        Ok(format!(
            "'{kw}' only tunes HAProxy's own scheduler, pools or polling; it has no effect in pollux (ignored)"
        ))
    };
    Some(check())
}

/// Parses one keyword line of the `global` section.
/// Global keywords pollux has, for "did you mean" (with `UNSUPPORTED`).
const GLOBAL: &[&str] = &[
    "ca-base",
    "chroot",
    "crt-base",
    "daemon",
    "description",
    "gid",
    "group",
    "hard-stop-after",
    "log",
    "log-send-hostname",
    "log-tag",
    "master-worker",
    "maxconn",
    "nbthread",
    "node",
    "noepoll",
    "noevports",
    "nokqueue",
    "nopoll",
    "noreuseport",
    "pidfile",
    "quiet",
    "server-state-base",
    "server-state-file",
    "set-var",
    "set-var-fmt",
    "spread-checks",
    "ssl-default-bind-ciphers",
    "ssl-default-bind-ciphersuites",
    "ssl-default-bind-curves",
    "ssl-default-bind-options",
    "ssl-default-server-ciphers",
    "ssl-default-server-ciphersuites",
    "ssl-default-server-options",
    "ssl-server-verify",
    "stats",
    "strict-limits",
    "tune.bufsize",
    "tune.comp.maxlevel",
    "tune.maxaccept",
    "tune.maxrewrite",
    "tune.ssl.cachesize",
    "tune.ssl.default-dh-param",
    "tune.ssl.lifetime",
    "tune.ssl.maxrecord",
    "uid",
    "ulimit-n",
    "user",
    "zero-warning",
];

pub(crate) fn parse_keyword(g: &mut Global, args: &[String]) -> Result<(), String> {
    let kw = args[0].as_str();
    if super::logs::parse_global(&mut g.log, args)? || super::bind::parse_global(&mut g.tls, args)?
    {
        return Ok(());
    }
    match kw {
        "zero-warning" => {
            only(args, 1)?;
            g.zero_warning = true;
        }
        "strict-limits" => {
            only(args, 1)?;
            g.strict_limits = true;
        }
        "no" if args.get(1).is_some_and(|w| w == "strict-limits") => {
            only(args, 2)?;
            g.strict_limits = false;
        }
        "maxconn" => {
            g.maxconn_set = true;
            g.maxconn = parse_int(
                "'maxconn'",
                need(args, 1, "an integer")?,
                1,
                u32::MAX.into(),
            )? as u32;
            only(args, 2)?;
        }
        "stats" => super::stats_socket::parse(&mut g.stats_sockets, &mut g.stats_timeout, args)?,
        "daemon" => {
            only(args, 1)?;
            g.daemon = true;
        }
        "quiet" => {
            only(args, 1)?;
            g.quiet = true;
        }
        "server-state-file" | "server-state-base" => {
            let v = PathBuf::from(need(args, 1, "a path")?);
            only(args, 2)?;
            if kw == "server-state-file" {
                g.server_state_file = Some(v);
            } else {
                g.server_state_base = Some(v);
            }
        }
        "pidfile" => {
            g.pidfile = Some(PathBuf::from(need(args, 1, "a file path")?));
            only(args, 2)?;
        }
        "set-var" | "set-var-fmt" => g.set_vars.push(super::vars::global(args)?),
        "nbthread" => {
            // HAProxy's MAX_THREADS on 64-bit builds.
            let n = parse_int(
                "'nbthread'",
                need(args, 1, "an integer")?,
                1,
                MAX_THREADS.into(),
            )?;
            only(args, 2)?;
            g.nbthread = n as u32;
        }
        "tune.comp.maxlevel" => {
            let n =
                super::values::parse_int("'tune.comp.maxlevel'", need(args, 1, "a number")?, 1, 9)?;
            only(args, 2)?;
            g.comp_level = n as u32;
        }
        "tune.bufsize" => {
            // Below 1 KiB no request line or useful chunk would fit.
            let n = parse_size(
                "'tune.bufsize'",
                need(args, 1, "a size")?,
                1024,
                i32::MAX as u64,
            )?;
            only(args, 2)?;
            g.bufsize = n as usize;
        }
        "tune.maxrewrite" => {
            let n = parse_size(
                "'tune.maxrewrite'",
                need(args, 1, "a size")?,
                0,
                i32::MAX as u64,
            )?;
            only(args, 2)?;
            g.maxrewrite = n as usize;
        }
        "tune.maxaccept" => {
            let v = need(args, 1, "an integer (-1 for no limit)")?;
            only(args, 2)?;
            g.maxaccept = match v {
                "-1" => u32::MAX,
                _ => parse_int("'tune.maxaccept'", v, 1, i32::MAX as u64)? as u32,
            };
        }
        "spread-checks" => {
            let n = parse_int("'spread-checks'", need(args, 1, "a percentage")?, 0, 50)?;
            only(args, 2)?;
            g.spread_checks = n as u32;
        }
        "noreuseport" => {
            only(args, 1)?;
            g.noreuseport = true;
        }
        "noepoll" | "nopoll" | "nokqueue" | "noevports" => {
            only(args, 1)?;
            let poller = kw.trim_start_matches("no").to_string();
            if !g.disabled_pollers.contains(&poller) {
                g.disabled_pollers.push(poller);
            }
        }
        _ if super::process::KEYWORDS.contains(&kw) => super::process::parse_keyword(g, args)?,
        "master-worker" => {
            // `no-exit-on-failure` is the only option HAProxy has here.
            if args.get(1).is_some() {
                return Err(format!(
                    "'master-worker' option '{}' is not supported yet",
                    args[1]
                ));
            }
            g.master_worker = true;
        }
        _ if UNSUPPORTED.contains(&kw)
            || ["tune.", "ssl-", "h1-", "h2-"]
                .iter()
                .any(|p| kw.starts_with(p)) =>
        {
            return Err(format!("'{kw}' is not supported yet"));
        }
        _ => {
            return Err(format!(
                "unknown keyword '{kw}' in 'global' section{}",
                super::suggest::hint(kw, GLOBAL.iter().chain(UNSUPPORTED).copied())
            ))
        }
    }
    Ok(())
}

/// Checks done once the whole `global` section is known.
pub(crate) fn finish(g: &mut Global) {
    // As HAProxy does: the rewrite reserve may take at most half a buffer.
    if g.maxrewrite > g.bufsize / 2 {
        g.maxrewrite = g.bufsize / 2;
    }
}
