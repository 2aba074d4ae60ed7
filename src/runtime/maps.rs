//! The runtime API's map and ACL commands (management guide §9.3: `show`,
//! `get`, `add`, `set`, `del`, `clear` on `map` and `acl`): their grammar
//! and HAProxy 2.6's answers, run on the config's pattern references
//! (`sample::patref`). The references are shared by every thread, so one
//! command changes what all of them match; files on disk are never
//! written. HAProxy checks no level for these: neither do we. Versions
//! (`prepare`, `@VER`, `commit`) replace a whole list atomically.

use crate::sample::patref::{PatRef, Registry, Which};
use std::sync::Arc;

/// One map or ACL command; `map` is false for the `acl` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatCmd {
    Show {
        map: bool,
        name: Option<String>,
        gen: Option<u32>,
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
        gen: Option<u32>,
    },
    /// `add map|acl NAME <<` and one `KEY VALUE` (or `PATTERN`) a line.
    AddMany {
        map: bool,
        name: String,
        payload: String,
        gen: Option<u32>,
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
        gen: Option<u32>,
    },
    /// `prepare map|acl NAME`: a new, empty version.
    Prepare { map: bool, name: String },
    /// `commit map|acl @VER NAME`: that version replaces the current one.
    Commit { map: bool, name: String, gen: u32 },
}

/// A version number as HAProxy's `str2uic` reads it: the leading digits
/// (none: 0).
fn version(s: &str) -> u32 {
    s.bytes().take_while(u8::is_ascii_digit).fold(0u32, |n, d| {
        n.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
    })
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
    // `show`, `add`, `clear` and `commit` take a version first (`@VER`).
    let gen = match w.get(2) {
        Some(v) if matches!(verb, "show" | "add" | "clear" | "commit") && v.starts_with('@') => {
            Some(version(&v[1..]))
        }
        _ => None,
    };
    let shift = usize::from(gen.is_some());
    let arg = |i: usize| w.get(i + shift).filter(|a| !a.is_empty()).cloned();
    Ok(match verb {
        "show" => PatCmd::Show {
            map,
            // With a version, a name must follow.
            name: arg(2).or_else(|| gen.map(|_| String::new())),
            gen,
        },
        "prepare" => PatCmd::Prepare {
            map,
            name: arg(2).unwrap_or_default(),
        },
        "commit" => match (gen, arg(2)) {
            (None, _) => return Err("Missing version number.".into()),
            (Some(_), None) => return Err(format!("Missing {what} identifier.")),
            (Some(gen), Some(name)) => PatCmd::Commit { map, name, gen },
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
                gen,
            },
            (Some(name), Some(_), _, Some(p)) => PatCmd::AddMany {
                map,
                name,
                payload: p.to_string(),
                gen,
            },
            (Some(name), Some(key), Some(value), _) if map => PatCmd::Add {
                map,
                name,
                key,
                value: Some(value),
                gen,
            },
            (Some(name), Some(key), _, _) if !map => PatCmd::Add {
                map,
                name,
                key,
                value: None,
                gen,
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
            Some(name) => PatCmd::Clear { map, name, gen },
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

/// The reference `add` may change: it exists, `gen` is not beyond the
/// last prepared version, and an ACL's is not a map file.
fn addable(r: Option<&Arc<PatRef>>, map: bool, gen: Option<u32>) -> Result<&Arc<PatRef>, String> {
    let r = r.ok_or_else(|| unknown(map))?;
    let (_, next) = r.versions();
    if gen.is_some_and(|g| g.wrapping_sub(next.wrapping_add(1)) < i32::MAX as u32) {
        return Err(format!(
            "Version number in the future, please use 'prepare {}' before.",
            if map { "map" } else { "acl" }
        ));
    }
    if !map && r.two_columns() {
        return Err("This ACL is shared with a map containing samples. You must use the command 'add map' to add values.".into());
    }
    Ok(r)
}

/// Run one command: `Ok` is the answer, `Err` the refusal.
pub fn run(reg: &Registry, cmd: &PatCmd) -> Result<String, String> {
    let find = |name: &str| -> Option<&Arc<PatRef>> { reg.find(name) };
    match cmd {
        PatCmd::Show {
            map, name: None, ..
        } => {
            let mut out = String::from("# id (file) description\n");
            for r in reg.iter().filter(|r| kind_is(r, *map)) {
                out.push_str(&r.summary());
            }
            Ok(out)
        }
        PatCmd::Show {
            map,
            name: Some(n),
            gen,
        } => match find(n).filter(|r| kind_is(r, *map)) {
            Some(r) => Ok(r.show(*gen)),
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
            gen,
        } => {
            let r = addable(find(name), *map, *gen)?;
            r.add(key, value.as_deref(), *gen)
                .map(|()| String::new())
                .map_err(|e| format!("{e}."))
        }
        PatCmd::AddMany {
            map,
            name,
            payload,
            gen,
        } => {
            let r = addable(find(name), *map, *gen)?;
            // Line by line; the first error stops (what came before stays).
            for line in payload.lines() {
                let (key, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
                let value = rest.trim_start_matches([' ', '\t']);
                if *map && value.is_empty() && !line.contains([' ', '\t']) {
                    return Err(format!("Missing value for key '{key}'."));
                }
                r.add(key, map.then_some(value), *gen)
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
        PatCmd::Clear { map, name, gen } => {
            let r = find(name)
                .filter(|r| kind_is(r, *map))
                .ok_or_else(|| unknown(*map))?;
            r.clear(*gen);
            Ok(String::new())
        }
        PatCmd::Prepare { map, name } => {
            let r = find(name)
                .filter(|r| kind_is(r, *map))
                .ok_or_else(|| unknown(*map))?;
            Ok(format!("New version created: {}\n", r.prepare()))
        }
        PatCmd::Commit { map, name, gen } => {
            let r = find(name)
                .filter(|r| kind_is(r, *map))
                .ok_or_else(|| unknown(*map))?;
            if r.commit(*gen) {
                Ok(String::new())
            } else {
                Err("Version number out of range.".into())
            }
        }
    }
}
