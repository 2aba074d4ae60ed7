//! `stats socket` and `stats timeout` in `global` (HAProxy manual §3.1):
//! where the runtime API listens and with which rights.

use super::parser::need;
use super::values::parse_time;
use crate::runtime::Level;
use std::path::PathBuf;
use std::time::Duration;

/// One `stats socket PATH [options]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    pub path: PathBuf,
    /// `mode` (octal), applied with chmod after bind.
    pub mode: Option<u32>,
    /// `level`: HAProxy's default is `operator`.
    pub level: Level,
    /// `expose-fd listeners`: `_getsocks` may hand the listening sockets to
    /// a new process (`-x`, reload).
    pub expose_fd: bool,
}

/// HAProxy's default `stats timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// `stats ...` in `global`.
pub(crate) fn parse(
    socks: &mut Vec<StatsSocket>,
    timeout: &mut Duration,
    args: &[String],
) -> Result<(), String> {
    match need(args, 1, "'socket', 'timeout' or 'maxconn'")? {
        "socket" => {
            let path = need(args, 2, "a socket path")?;
            let path = path.strip_prefix("unix@").unwrap_or(path);
            if path.contains(':') && !path.starts_with('/') {
                return Err(format!(
                    "'stats socket {path}': only Unix sockets are supported yet"
                ));
            }
            let mut s = StatsSocket {
                path: PathBuf::from(path),
                mode: None,
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
            if socks.iter().any(|o| o.path == s.path) {
                return Err(format!(
                    "'stats socket {}' declared twice",
                    s.path.display()
                ));
            }
            socks.push(s);
        }
        "timeout" => {
            *timeout = parse_time("'stats timeout'", need(args, 2, "a time")?)?;
            super::parser::only(args, 3)?;
            if timeout.is_zero() {
                return Err("'stats timeout' must be greater than 0".into());
            }
        }
        other => return Err(format!("'stats {other}' is not supported yet")),
    }
    Ok(())
}
