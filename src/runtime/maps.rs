//! The runtime API's map and ACL commands (management guide §9.3: `show`,
//! `get`, `add`, `set`, `del`, `clear` on `map` and `acl`): their grammar
//! and HAProxy 2.6's answers, run on the config's pattern references
//! (`sample::patref`). The references are shared by every thread, so one
//! command changes what all of them match; files on disk are never
//! written. HAProxy checks no level for these: neither do we.

use crate::sample::patref::{PatRef, Registry, Which};
use std::sync::Arc;

/// One map or ACL command; `map` is false for the `acl` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatCmd {
    Show {
        map: bool,
        name: Option<String>,
    },
    Get {
        map: bool,
        name: String,
        key: String,
    },
    Add {
        map: bool,
        name: String,
        key: String,
        value: Option<String>,
    },
    /// `add map|acl NAME <<` and one `KEY VALUE` (or `PATTERN`) a line.
    AddMany {
        map: bool,
        name: String,
        payload: String,
    },
    Set {
        name: String,
        which: Which,
        value: String,
    },
    Del {
        map: bool,
        name: String,
        which: Which,
    },
    Clear {
        map: bool,
        name: String,
    },
}

/// `#0xHANDLE` names one entry; anything else is a key.
fn which(arg: &str) -> Result<Which, String> {
    match arg.strip_prefix("#0x") {
        Some(hex) => u64::from_str_radix(hex, 16)
            .map(Which::Id)
            .map_err(|_| "Malformed identifier. Please use #<id> or <file>.".into()),
        None => Ok(Which::Key(arg.to_string())),
    }
}

/// Words after `show|get|add|set|del|clear|prepare|commit` + `map|acl`,
/// and the payload that followed the line, if any.
pub fn parse(w: &[String], payload: Option<&str>) -> Result<PatCmd, String> {
    let verb = w[0].as_str();
    let map = w[1] == "map";
    let what = if map { "map" } else { "ACL" };
    let arg = |i: usize| w.get(i).filter(|a| !a.is_empty()).cloned();
    if w[2..].iter().any(|a| a.starts_with('@')) || matches!(verb, "prepare" | "commit") {
        return Err(format!(
            "'{verb} {}' with versions (prepare/commit, @<ver>) is not supported yet.",
            w[1]
        ));
    }
    Ok(match verb {
        "show" => PatCmd::Show {
            map,
            name: arg(2),
        },
        "get" => match (arg(2), arg(3)) {
            (Some(name), Some(key)) => PatCmd::Get { map, name, key },
            _ => return Err(format!("Missing {what} identifier and/or key.")),
        },
        // With a payload, the key and value words are ignored (an ACL
        // still needs one, as in HAProxy 2.6).
        "add" => match (arg(2), arg(3), arg(4), payload) {
            (Some(name), _, _, Some(p)) if map => PatCmd::AddMany {
                map,
                name,
                payload: p.to_string(),
            },
            (Some(name), Some(_), _, Some(p)) => PatCmd::AddMany {
                map,
                name,
                payload: p.to_string(),
            },
            (Some(name), Some(key), Some(value), _) if map => PatCmd::Add {
                map,
                name,
                key,
                value: Some(value),
            },
            (Some(name), Some(key), _, _) if !map => PatCmd::Add {
                map,
                name,
                key,
                value: None,
            },
            _ if map => return Err("'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload".into()),
            _ => return Err("'add acl' expects two parameters: ACL identifier and pattern.".into()),
        },
        "set" if map => match (arg(2), arg(3), arg(4)) {
            (Some(name), Some(k), Some(value)) => PatCmd::Set {
                name,
                which: which(&k)?,
                value,
            },
            _ => {
                return Err(
                    "'set map' expects three parameters: map identifier, key and value.".into(),
                )
            }
        },
        "del" => match (arg(2), arg(3)) {
            (Some(name), Some(k)) => PatCmd::Del {
                map,
                name,
                which: which(&k)?,
            },
            _ => {
                return Err(format!(
                    "This command expects two parameters: {what} identifier and key."
                ))
            }
        },
        "clear" => match arg(2) {
            Some(name) => PatCmd::Clear { map, name },
            None => return Err(format!("Missing {what} identifier.")),
        },
        _ => return Err(format!("Unknown command: '{}'.", w.join(" "))),
    })
}

fn unknown(map: bool) -> String {
    if map {
        "Unknown map identifier. Please use #<id> or <file>.".into()
    } else {
        "Unknown ACL identifier. Please use #<id> or <file>.".into()
    }
}

/// Whether a reference is listed by (and may be changed through) the
/// `map` or the `acl` form.
fn kind_is(r: &PatRef, map: bool) -> bool {
    if map {
        r.is_map()
    } else {
        r.is_acl()
    }
}

/// Run one command: `Ok` is the answer, `Err` the refusal.
pub fn run(reg: &Registry, cmd: &PatCmd) -> Result<String, String> {
    let find = |name: &str| -> Option<&Arc<PatRef>> { reg.find(name) };
    match cmd {
        PatCmd::Show { map, name: None } => {
            let mut out = String::from("# id (file) description\n");
            for r in reg.iter().filter(|r| kind_is(r, *map)) {
                out.push_str(&r.summary());
            }
            Ok(out)
        }
        PatCmd::Show { map, name: Some(n) } => match find(n).filter(|r| kind_is(r, *map)) {
            Some(r) => Ok(r.show()),
            None => Err(unknown(*map)),
        },
        PatCmd::Get { map, name, key } => match find(name) {
            Some(r) => Ok(r.get(key, *map)),
            None => Err(unknown(*map)),
        },
        PatCmd::Add {
            map,
            name,
            key,
            value,
        } => {
            let r = find(name).ok_or_else(|| unknown(*map))?;
            if !map && r.two_columns() {
                return Err("This ACL is shared with a map containing samples. You must use the command 'add map' to add values.".into());
            }
            r.add(key, value.as_deref())
                .map(|()| String::new())
                .map_err(|e| format!("{e}."))
        }
        PatCmd::AddMany { map, name, payload } => {
            let r = find(name).ok_or_else(|| unknown(*map))?;
            if !map && r.two_columns() {
                return Err("This ACL is shared with a map containing samples. You must use the command 'add map' to add values.".into());
            }
            // Line by line; the first error stops (what came before stays).
            for line in payload.lines() {
                let (key, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
                let value = rest.trim_start_matches([' ', '\t']);
                if *map && value.is_empty() && !line.contains([' ', '\t']) {
                    return Err(format!("Missing value for key '{key}'."));
                }
                r.add(key, map.then_some(value))
                    .map_err(|e| format!("{e}."))?;
            }
            Ok(String::new())
        }
        PatCmd::Set { name, which, value } => {
            let r = find(name).ok_or_else(|| unknown(true))?;
            r.set(which, value).map(|()| String::new())
        }
        PatCmd::Del { map, name, which } => {
            // HAProxy names a map here even for `del acl`.
            let r = find(name)
                .filter(|r| kind_is(r, *map))
                .ok_or_else(|| unknown(true))?;
            if r.del(which) {
                Ok(String::new())
            } else {
                Err("Key not found.".into())
            }
        }
        PatCmd::Clear { map, name } => {
            let r = find(name)
                .filter(|r| kind_is(r, *map))
                .ok_or_else(|| unknown(*map))?;
            r.clear();
            Ok(String::new())
        }
    }
}
