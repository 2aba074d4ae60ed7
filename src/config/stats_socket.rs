//! `stats socket` and `stats timeout` in `global` (HAProxy manual §3.1):
//! where the runtime API listens and with which rights. `Level` is a model
//! type, below the runtime API that re-exports it: config never imports
//! runtime.

use super::args::{need, only};
use super::model::BindAddr;
use super::values::{parse_bind_addr, parse_time};
use std::path::PathBuf;
use std::time::Duration;

// The sockets' settings are model types; their old paths stay.
pub use super::model::{CliAddr, Level, StatsSocket, DEFAULT_TIMEOUT};

impl CliAddr {
    /// HAProxy's address syntax: a path unless it has a prefix or a port.
    pub fn parse(s: &str) -> Result<CliAddr, String> {
        if let Some(p) = s.strip_prefix("unix@") {
            return Ok(CliAddr::Unix(PathBuf::from(p)));
        }
        if s.starts_with("abns@") {
            return Err(format!(
                "'{s}': abstract namespace sockets are not supported"
            ));
        }
        if s.starts_with('/') || !(s.contains(':') || s.contains('@')) {
            return Ok(CliAddr::Unix(PathBuf::from(s)));
        }
        match parse_bind_addr(s)?.as_slice() {
            [BindAddr::Fd(n)] => Ok(CliAddr::Fd(*n)),
            [BindAddr::Inet(a)] => Ok(CliAddr::Inet(*a)),
            _ => Err(format!("'{s}': a port range cannot be used here")),
        }
    }
}

/// `stats ...` in `global`.
pub(crate) fn parse(
    socks: &mut Vec<StatsSocket>,
    timeout: &mut Duration,
    args: &[String],
) -> Result<(), String> {
    match need(args, 1, "'socket', 'timeout' or 'maxconn'")? {
        "socket" => {
            let addr = CliAddr::parse(need(args, 2, "a socket address")?)
                .map_err(|e| format!("'stats socket' {e}"))?;
            let mut s = StatsSocket {
                addr,
                mode: None,
                uid: None,
                gid: None,
                level: Level::Operator,
                expose_fd: false,
            };
            let mut i = 3;
            while i < args.len() {
                let opt = args[i].as_str();
                let val = |what: &str| need(args, i + 1, what);
                match opt {
                    "mode" => {
                        let v = val("an octal mode")?;
                        s.mode = Some(
                            u32::from_str_radix(v, 8)
                                .ok()
                                .filter(|&m| m <= 0o777)
                                .ok_or_else(|| {
                                    format!(
                                        "'stats socket' option 'mode': '{v}' is not an octal mode"
                                    )
                                })?,
                        );
                        i += 2;
                    }
                    "user" | "group" => {
                        let v = val(if opt == "user" {
                            "a user name"
                        } else {
                            "a group name"
                        })?;
                        if opt == "user" {
                            let (uid, _) = crate::sys::privs::lookup_user(v)
                                .ok()
                                .flatten()
                                .ok_or_else(|| {
                                    format!("'stats socket' option 'user': unknown user '{v}'")
                                })?;
                            s.uid = Some(uid);
                        } else {
                            s.gid = Some(
                                crate::sys::privs::lookup_group(v)
                                    .ok()
                                    .flatten()
                                    .ok_or_else(|| {
                                        format!(
                                            "'stats socket' option 'group': unknown group '{v}'"
                                        )
                                    })?,
                            );
                        }
                        i += 2;
                    }
                    "uid" | "gid" => {
                        let v = val("an integer")?;
                        let n = crate::config::values::parse_int(
                            &format!("'stats socket' option '{opt}'"),
                            v,
                            0,
                            u32::MAX.into(),
                        )? as u32;
                        *(if opt == "uid" { &mut s.uid } else { &mut s.gid }) = Some(n);
                        i += 2;
                    }
                    "level" => {
                        let v = val("'user', 'operator' or 'admin'")?;
                        s.level = Level::parse(v).ok_or_else(|| {
                            format!("'stats socket' option 'level' expects 'user', 'operator' or 'admin', got '{v}'")
                        })?;
                        i += 2;
                    }
                    "expose-fd" => {
                        if val("'listeners'")? != "listeners" {
                            return Err(
                                "'stats socket' option 'expose-fd' only supports 'listeners'"
                                    .into(),
                            );
                        }
                        s.expose_fd = true;
                        i += 2;
                    }
                    _ => {
                        return Err(format!(
                            "'stats socket' option '{opt}' is not supported yet"
                        ))
                    }
                }
            }
            if socks.iter().any(|o| o.addr == s.addr) {
                return Err(format!("'stats socket {}' declared twice", s.addr));
            }
            if s.expose_fd && s.addr.path().is_none() {
                return Err(format!(
                    "'stats socket {}': 'expose-fd listeners' needs a Unix socket (file descriptors travel only over those)",
                    s.addr
                ));
            }
            socks.push(s);
        }
        "timeout" => {
            *timeout = parse_time("'stats timeout'", need(args, 2, "a time")?)?;
            only(args, 3)?;
            if timeout.is_zero() {
                return Err("'stats timeout' must be greater than 0".into());
            }
        }
        other => return Err(format!("'stats {other}' is not supported yet")),
    }
    Ok(())
}
