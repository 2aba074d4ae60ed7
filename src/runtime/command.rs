//! CLI command grammar: one line is split on unescaped `;` into commands and
//! each into words; `parse` turns words into a `Command` or the message the
//! client gets back. Names and levels follow HAProxy's management guide.

use super::Level;
use std::time::Duration;

/// Output flavour of `show info` / `show stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Plain,
    Typed,
    Json,
}

/// `show stat {<iid>|<proxy>} <type> <sid>`: which rows to dump. `types` is
/// HAProxy's bit field (1 frontends, 2 backends, 4 servers), `sid` -1 for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatFilter {
    pub proxy: String,
    pub types: i32,
    pub sid: i64,
}

/// `set weight` argument: absolute, or a percentage of the initial weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightSpec {
    Absolute(u32),
    Percent(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `show table`, `clear table`, `set table`.
    Table(super::table::TableCmd),
    Help(Option<String>),
    Prompt,
    Quit,
    /// `user` / `operator`: lower this connection's level.
    Lower(Level),
    ShowInfo(Format),
    ShowStat(Format, Option<StatFilter>),
    ShowServersState(Option<String>),
    /// `show sess [ID|all]`.
    ShowSess(Option<String>),
    /// `show activity`: per-thread loop counters.
    ShowActivity,
    /// `show errors [PROXY] [request|response]`.
    ShowErrors(Option<String>, Option<bool>),
    /// Backend, server, new state (ready / drain / maint).
    SetServerState(String, String, AdminState),
    SetWeight(String, String, WeightSpec),
    /// `set server B/S addr IP [port P]` (IP and port checked by the engine,
    /// which answers in HAProxy's words).
    SetServerAddr(String, String, String, Option<String>),
    /// `set server B/S health up|stopping|down`.
    SetServerHealth(String, String, HealthState),
    /// `enable health B/S` / `disable health B/S`: run or stop its checks.
    SetChecks(String, String, bool),
    GetWeight(String, String),
    SetMaxconnServer(String, String, u32),
    SetMaxconnFrontend(String, u32),
    SetMaxconnGlobal(u32),
    DisableFrontend(String),
    EnableFrontend(String),
    ClearCounters {
        all: bool,
    },
    ShutdownSession(String),
    ShutdownSessionsServer(String, String),
    /// Backend, server, address, the rest of the line (server options).
    AddServer(String, String, String, Vec<String>),
    DelServer(String, String),
    SetTimeoutCli(Duration),
    /// `_getsocks`: hand the listening sockets to a new process (`-x`).
    GetSocks,
    /// `expert-mode on|off`: allow this connection's expert commands.
    ExpertMode(bool),
    /// `debug dev panic [THREAD]` (expert mode): panic on purpose, on this
    /// thread or event loop THREAD, as HAProxy's `debug dev panic`. Why it
    /// exists: the only way to show, on the real binary, that a panic stops
    /// the whole process (src/crash.rs) without keeping a real bug for it.
    /// It gives nothing new to whoever holds an admin socket, which can
    /// already stop every frontend and server.
    DebugDevPanic(Option<usize>),
    /// `show|get|add|set|del|clear map|acl ...` (`runtime/maps.rs`).
    Pat(super::maps::PatCmd),
    /// `... ssl cert|crt-list|ocsp-response` (`runtime/ssl.rs`).
    Ssl(super::ssl::SslCmd),
}

/// A server's operational state, as `set server B/S health` forces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    Up,
    Stopping,
    Down,
}

/// A server's administrative state, as `set server B/S state` sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminState {
    Ready,
    Drain,
    Maint,
}

impl Command {
    /// The lowest level allowed to run it (as HAProxy 2.6 checks them).
    pub fn level(&self) -> Level {
        use Command::*;
        match self {
            Help(_) | Prompt | Quit | Lower(_) | ShowInfo(_) | ShowStat(..)
            | ShowServersState(_) | GetWeight(..) | SetTimeoutCli(_) | ShowActivity => Level::User,
            // HAProxy 2.6 checks no level for the map and ACL commands.
            Pat(_) => Level::User,
            Ssl(c) => c.level(),
            // Gated by the socket's `expose-fd listeners` instead, as in
            // HAProxy (whose own example pairs it with `level user`).
            GetSocks => Level::User,
            ShowSess(_) | ShowErrors(..) | ClearCounters { all: false } => Level::Operator,
            Table(super::table::TableCmd::List | super::table::TableCmd::Show(..)) => {
                Level::Operator
            }
            _ => Level::Admin,
        }
    }
}

/// Split one input line into commands (on `;`) and words (on blanks). A
/// backslash escapes the next character, so `\;` and `\ ` stay in a word.
pub fn split_line(line: &str) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                    in_word = true;
                }
            }
            ';' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
                if !words.is_empty() {
                    cmds.push(std::mem::take(&mut words));
                }
            }
            c if c == ' ' || c == '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    if !words.is_empty() {
        cmds.push(words);
    }
    cmds
}

fn backend_server(arg: Option<&String>) -> Result<(String, String), String> {
    match arg.and_then(|a| a.split_once('/')) {
        Some((b, s)) if !b.is_empty() && !s.is_empty() => Ok((b.to_string(), s.to_string())),
        _ => Err("Require 'backend/server'.".into()),
    }
}

fn number(arg: Option<&String>, what: &str) -> Result<u32, String> {
    let a = arg.ok_or_else(|| format!("Require <{what}>."))?;
    a.parse::<u32>()
        .map_err(|_| format!("Invalid {what} '{a}': expects an integer."))
}

fn format_of(words: &[String]) -> Result<Format, String> {
    let mut f = Format::Plain;
    for w in words {
        f = match w.as_str() {
            "typed" => Format::Typed,
            "json" => Format::Json,
            // `desc` and `float` only change typed output HAProxy-side.
            "desc" | "float" => f,
            other => return Err(format!("'{other}': expects 'typed', 'json' or 'desc'.")),
        };
    }
    Ok(f)
}

fn weight(arg: Option<&String>) -> Result<WeightSpec, String> {
    let a = arg.ok_or("Require <weight>.")?;
    let (digits, pct) = match a.strip_suffix('%') {
        Some(d) => (d, true),
        None => (a.as_str(), false),
    };
    let n: u32 = digits
        .parse()
        .map_err(|_| format!("Invalid weight '{a}': expects an integer or a percentage."))?;
    if pct {
        Ok(WeightSpec::Percent(n))
    } else if n > 256 {
        Err("Absolute weight can only be between 0 and 256 inclusive.".into())
    } else {
        Ok(WeightSpec::Absolute(n))
    }
}

/// Parse one command's words.
pub fn parse(w: &[String]) -> Result<Command, String> {
    parse_with_payload(w, None)
}

/// [`parse`] for a command followed by a payload (`<<`); only `add map`
/// and `add acl` read one, the others ignore it, as HAProxy.
pub fn parse_with_payload(w: &[String], payload: Option<&str>) -> Result<Command, String> {
    let s: Vec<&str> = w.iter().map(String::as_str).collect();
    let arg = |i: usize| w.get(i);
    Ok(match s.as_slice() {
        ["help", rest @ ..] => Command::Help((!rest.is_empty()).then(|| rest.join(" "))),
        ["prompt"] => Command::Prompt,
        ["quit"] => Command::Quit,
        ["user"] => Command::Lower(Level::User),
        ["operator"] => Command::Lower(Level::Operator),
        ["_getsocks"] => Command::GetSocks,
        ["expert-mode", "on"] => Command::ExpertMode(true),
        ["expert-mode", "off"] => Command::ExpertMode(false),
        ["expert-mode", ..] => return Err("Usage: expert-mode [on|off]".into()),
        ["debug", "dev", "panic"] => Command::DebugDevPanic(None),
        ["debug", "dev", "panic", t] => Command::DebugDevPanic(Some(
            t.parse()
                .map_err(|_| format!("Invalid thread number '{t}'."))?,
        )),
        ["show" | "get" | "add" | "del" | "clear" | "prepare" | "commit", "map" | "acl", ..]
        | ["set", "map", ..] => Command::Pat(super::maps::parse(w, payload)?),
        [_, "ssl", "cert" | "crt-list" | "ocsp-response", ..] => {
            Command::Ssl(super::ssl::parse(w, payload)?)
        }
        ["show", "info", rest @ ..] => Command::ShowInfo(format_of(&w[2..2 + rest.len()])?),
        ["show", "stat", ..] => {
            let mut rest: Vec<String> = w[2..].to_vec();
            let mut fmt = Format::Plain;
            if let Some(last) = rest.last() {
                if matches!(last.as_str(), "typed" | "json" | "desc" | "up" | "no-maint") {
                    fmt = format_of(&rest[rest.len() - 1..]).unwrap_or(Format::Plain);
                    rest.pop();
                }
            }
            let filter = match rest.as_slice() {
                [] => None,
                [px, ty, sid] => Some(StatFilter {
                    proxy: px.clone(),
                    types: ty.parse().map_err(|_| "Invalid type in 'show stat'.")?,
                    sid: sid
                        .parse()
                        .map_err(|_| "Invalid server id in 'show stat'.")?,
                }),
                _ => {
                    return Err(
                        "Usage: show stat [{<iid>|<proxy>} <type> <sid>] [typed|json]".into(),
                    )
                }
            };
            Command::ShowStat(fmt, filter)
        }
        ["show", "servers", "state"] => Command::ShowServersState(None),
        ["show", "servers", "state", b] => Command::ShowServersState(Some(b.to_string())),
        ["show", "sess"] => Command::ShowSess(None),
        ["show", "activity"] => Command::ShowActivity,
        ["show", "sess", id] => Command::ShowSess(Some(id.to_string())),
        ["show", "errors", rest @ ..] => {
            let mut px = None;
            let mut dir = None;
            for r in rest {
                match *r {
                    "request" => dir = Some(true),
                    "response" => dir = Some(false),
                    p if px.is_none() => px = Some(p.to_string()),
                    _ => return Err("Usage: show errors [<proxy>] [request|response]".into()),
                }
            }
            Command::ShowErrors(px, dir)
        }
        ["disable", "server", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::SetServerState(b, sv, AdminState::Maint)
        }
        ["enable", "server", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::SetServerState(b, sv, AdminState::Ready)
        }
        ["set", "server", _, "state", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            let st = match arg(4).map(String::as_str) {
                Some("ready") => AdminState::Ready,
                Some("drain") => AdminState::Drain,
                Some("maint") => AdminState::Maint,
                _ => {
                    return Err(
                        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.".into(),
                    )
                }
            };
            Command::SetServerState(b, sv, st)
        }
        ["set", "server", _, "weight", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::SetWeight(b, sv, weight(arg(4))?)
        }
        ["set", "server", _, "addr", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            let addr = arg(4)
                .ok_or("set server <b>/<s> addr requires an address and optionally a port.")?;
            let port = match (arg(5).map(String::as_str), arg(6)) {
                (None, _) => None,
                (Some("port"), Some(p)) => Some(p.clone()),
                _ => {
                    return Err(
                        "set server <b>/<s> addr requires an address and optionally a port.".into(),
                    )
                }
            };
            Command::SetServerAddr(b, sv, addr.clone(), port)
        }
        ["set", "server", _, "health", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            let st = match arg(4).map(String::as_str) {
                Some("up") => HealthState::Up,
                Some("stopping") => HealthState::Stopping,
                Some("down") => HealthState::Down,
                _ => {
                    return Err(
                        "'set server <srv> health' expects 'up', 'stopping', or 'down'.".into(),
                    )
                }
            };
            Command::SetServerHealth(b, sv, st)
        }
        ["set", "server", _, "fqdn", ..] => {
            backend_server(arg(2))?;
            // pollux has no `resolvers`: HAProxy's answer for a server
            // without one.
            return Err(match arg(4) {
                None => "set server <b>/<s> fqdn requires a FQDN.".into(),
                Some(_) => {
                    "set server <b>/<s> fqdn failed because no resolution is configured.".into()
                }
            });
        }
        ["set", "server", _, what, ..] => {
            backend_server(arg(2))?;
            return Err(format!("'set server <srv> {what}' is not supported yet."));
        }
        ["set", "server", ..] => {
            backend_server(arg(2))?;
            return Err("'set server <srv>' expects 'state', 'weight', 'addr' or 'health'.".into());
        }
        ["enable" | "disable", "health", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::SetChecks(b, sv, w[0] == "enable")
        }
        ["get", "weight", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::GetWeight(b, sv)
        }
        ["set", "weight", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::SetWeight(b, sv, weight(arg(3))?)
        }
        ["set", "maxconn", "server", ..] => {
            let (b, sv) = backend_server(arg(3))?;
            Command::SetMaxconnServer(b, sv, number(arg(4), "maxconn")?)
        }
        ["set", "maxconn", "frontend", ..] => {
            let f = arg(3).ok_or("A frontend name is expected.")?.clone();
            Command::SetMaxconnFrontend(f, number(arg(4), "maxconn")?)
        }
        ["set", "maxconn", "global", ..] => {
            let n = number(arg(3), "maxconn")?;
            if n == 0 {
                return Err("Value out of range.".into());
            }
            Command::SetMaxconnGlobal(n)
        }
        ["set", "maxconn", ..] => {
            return Err("'set maxconn' only supports 'frontend', 'server' and 'global'.".into())
        }
        ["disable", "frontend", f] => Command::DisableFrontend(f.to_string()),
        ["enable", "frontend", f] => Command::EnableFrontend(f.to_string()),
        ["disable" | "enable", "frontend"] => return Err("A frontend name is expected.".into()),
        ["clear", "counters"] => Command::ClearCounters { all: false },
        ["clear", "counters", "all"] => Command::ClearCounters { all: true },
        ["shutdown", "session", id] => Command::ShutdownSession(id.to_string()),
        ["shutdown", "session"] => return Err("Session pointer expected (use 'show sess').".into()),
        ["shutdown", "sessions", "server", ..] => {
            let (b, sv) = backend_server(arg(3))?;
            Command::ShutdownSessionsServer(b, sv)
        }
        ["add", "server", _, addr, rest @ ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::AddServer(
                b,
                sv,
                addr.to_string(),
                rest.iter().map(|r| r.to_string()).collect(),
            )
        }
        ["add", "server", ..] => {
            backend_server(arg(2))?;
            return Err("'add server' expects <bk>/<srv> <addr> [options].".into());
        }
        ["del", "server", ..] => {
            let (b, sv) = backend_server(arg(2))?;
            Command::DelServer(b, sv)
        }
        ["set", "timeout", "cli", t] => {
            // Seconds, as HAProxy; a unit may be given too.
            let d = match t.parse::<u64>() {
                Ok(n) => Duration::from_secs(n),
                Err(_) => crate::config::parse_time("timeout cli", t)
                    .map_err(|_| "Expects an integer value.".to_string())?,
            };
            Command::SetTimeoutCli(d)
        }
        ["set", "timeout", ..] => return Err("'set timeout' only supports 'cli'.".into()),
        _ => match super::table::parse(w) {
            Some(c) => Command::Table(c?),
            None => return Err(format!("Unknown command: '{}'.", s.join(" "))),
        },
    })
}

/// (usage, description, lowest level) for `help`.
const HELP: &[(&str, &str, Level)] = &[
    (
        "expert-mode [on|off]",
        "allow or forbid this session's expert commands",
        Level::Admin,
    ),
    (
        "debug dev panic [<thread>]",
        "(expert) stop the process as a crash would",
        Level::Admin,
    ),
    (
        "help [<command>]",
        "list matching or all commands",
        Level::User,
    ),
    ("prompt", "toggle interactive mode with prompt", Level::User),
    ("quit", "disconnect", Level::User),
    (
        "user",
        "lower the level of the current CLI session to user",
        Level::User,
    ),
    (
        "operator",
        "lower the level of the current CLI session to operator",
        Level::User,
    ),
    (
        "show info [json|typed]",
        "report information about the running process",
        Level::User,
    ),
    (
        "show stat [json|typed]",
        "report counters for each proxy and server",
        Level::User,
    ),
    (
        "show servers state [<bk>]",
        "dump volatile server information (all or one backend)",
        Level::User,
    ),
    (
        "show activity",
        "show per-thread activity counters (loops, accepted connections)",
        Level::User,
    ),
    (
        "get weight <bk>/<srv>",
        "report a server's current weight",
        Level::User,
    ),
    (
        "set timeout cli <delay>",
        "change this CLI session's idle timeout",
        Level::User,
    ),
    (
        "show ssl cert [<certfile>]",
        "display the SSL certificates used in memory, or the details of a file",
        Level::Operator,
    ),
    (
        "new ssl cert <certfile>",
        "create a new empty certificate store",
        Level::Admin,
    ),
    (
        "set ssl cert <certfile> <payload>",
        "replace a certificate file (or its .key/.ocsp part) in a transaction",
        Level::Admin,
    ),
    (
        "commit ssl cert <certfile>",
        "commit a certificate file: new handshakes use it",
        Level::Admin,
    ),
    (
        "abort ssl cert <certfile>",
        "abort a transaction for a certificate file",
        Level::Admin,
    ),
    (
        "del ssl cert <certfile>",
        "delete an unused certificate file",
        Level::Admin,
    ),
    (
        "show ssl crt-list [-n] [<list>]",
        "show the list of crt-lists or the content of a crt-list",
        Level::Admin,
    ),
    (
        "add ssl crt-list <list> <cert> [opts]*",
        "add a line to a crt-list (payload supported instead of the line)",
        Level::Admin,
    ),
    (
        "del ssl crt-list <list> <cert[:line]>",
        "delete a line from a crt-list",
        Level::Admin,
    ),
    (
        "set ssl ocsp-response <resp|payload>",
        "update a certificate's OCSP response from a base64-encoded DER",
        Level::Admin,
    ),
    (
        "show map|acl [[@<ver>] <id>|<file>]",
        "list the maps or ACLs, or one's entries",
        Level::User,
    ),
    (
        "get map|acl <id>|<file> <value>",
        "report what a map's or ACL's patterns match for a sample",
        Level::User,
    ),
    (
        "add map [@<ver>] <map> <key> <value>",
        "add a map entry (payload supported instead of key/value)",
        Level::User,
    ),
    (
        "add acl [@<ver>] <acl> <pattern>",
        "add an ACL entry",
        Level::User,
    ),
    (
        "set map <map> <key>|#<ref> <value>",
        "modify a map entry",
        Level::User,
    ),
    (
        "del map|acl <id>|<file> <key>|#<ref>",
        "delete map or ACL entries",
        Level::User,
    ),
    (
        "clear map|acl [@<ver>] <id>|<file>",
        "delete every entry of a map or ACL (version)",
        Level::User,
    ),
    (
        "prepare map|acl <id>|<file>",
        "create a new, empty version to fill then commit",
        Level::User,
    ),
    (
        "commit map|acl @<ver> <id>|<file>",
        "make that version the one matched",
        Level::User,
    ),
    (
        "show sess [<id>|all]",
        "report the list of current sessions or dump one",
        Level::Operator,
    ),
    (
        "show errors [<px>] [request|response]",
        "report the last invalid request/response per proxy",
        Level::Operator,
    ),
    (
        "clear counters [all]",
        "clear max statistics counters (or all counters: admin)",
        Level::Operator,
    ),
    (
        "enable|disable health <bk>/<srv>",
        "run or stop a server's health checks",
        Level::Admin,
    ),
    (
        "set server <bk>/<srv> state|weight|health|addr <v>",
        "change a server's state (ready, drain, maint), weight, health (up, down) or address",
        Level::Admin,
    ),
    (
        "set weight <bk>/<srv> <w>[%]",
        "change a server's weight",
        Level::Admin,
    ),
    (
        "disable server <bk>/<srv>",
        "put a server in maintenance (as 'set server ... state maint')",
        Level::Admin,
    ),
    (
        "enable server <bk>/<srv>",
        "take a server out of maintenance",
        Level::Admin,
    ),
    (
        "set maxconn server <bk>/<srv> <n>",
        "change a server's maxconn",
        Level::Admin,
    ),
    (
        "set maxconn frontend <fe> <n>",
        "change a frontend's maxconn",
        Level::Admin,
    ),
    (
        "set maxconn global <n>",
        "change the process-wide maxconn",
        Level::Admin,
    ),
    (
        "disable frontend <fe>",
        "stop accepting on a frontend (listeners stay bound)",
        Level::Admin,
    ),
    (
        "enable frontend <fe>",
        "accept again on a disabled frontend",
        Level::Admin,
    ),
    ("shutdown session <id>", "kill a session", Level::Admin),
    (
        "shutdown sessions server <bk>/<srv>",
        "kill every session on a server",
        Level::Admin,
    ),
    (
        "add server <bk>/<srv> <addr> [opts]",
        "create a server (starts in maintenance)",
        Level::Admin,
    ),
    (
        "del server <bk>/<srv>",
        "remove a server that is in maintenance and idle",
        Level::Admin,
    ),
];

/// The help text for `level`, optionally only the entries starting with `topic`.
pub fn help(level: Level, topic: Option<&str>) -> String {
    let mut out = String::from("The following commands are valid at this level:\n");
    for (usage, what, l) in HELP {
        if *l <= level && topic.map_or(true, |t| usage.starts_with(t)) {
            out.push_str(&format!("  {usage:<40}: {what}\n"));
        }
    }
    out
}
