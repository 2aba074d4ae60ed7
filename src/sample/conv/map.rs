//! The map converters' files: loaded at config check with each value
//! parsed as the converter's output type, shared (`MapRef`) so that a
//! change reaches every user, and looked up through `sample::pattern`.

use super::{args, want, Conv};
use crate::sample::pattern::{self, Method, PatternSet};
use crate::sample::{Type, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// A map converter's loaded file: its entries (values already of the
/// output type), its default, and the types it reads and gives.
#[derive(Debug)]
pub struct Map {
    pub file: String,
    pub(super) set: PatternSet<Value<'static>>,
    pub(super) default: Option<Value<'static>>,
    pub(super) input: Type,
    pub(super) output: Type,
}

/// Shared so that the runtime API can change a map every user sees;
/// equal when it is the same map.
#[derive(Debug, Clone)]
pub struct MapRef(pub Arc<Map>);

impl PartialEq for MapRef {
    fn eq(&self, o: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &o.0)
    }
}
impl Eq for MapRef {}

/// A view of a map's value that borrows from the map.
pub(super) fn borrow<'a>(v: &'a Value<'static>) -> Value<'a> {
    match v {
        Value::Str(s) => Value::Str(Cow::Borrowed(s)),
        Value::Bin(s) => Value::Bin(Cow::Borrowed(s)),
        Value::Meth(s) => Value::Meth(Cow::Borrowed(s)),
        other => other.clone(),
    }
}

/// `map[_MATCH[_OUT]](FILE[,DEFAULT])`: the file read now, each value
/// parsed as the output type (HAProxy refuses a map whose value does not).
pub(super) fn load_map(name: &str, a: &[String]) -> Result<Conv, String> {
    let (method, output) = match name.strip_prefix("map").unwrap_or("") {
        "" | "_str" => (Method::Str, Type::Str),
        rest => {
            let rest = rest.strip_prefix('_').unwrap_or(rest);
            // `map_MATCH` gives a string, `map_MATCH_int` / `_ip` those types.
            let (m, output) = match rest.split_once('_') {
                None => (rest, Type::Str),
                Some((m, "int")) => (m, Type::Sint),
                Some((m, "ip")) => (m, Type::Addr),
                Some(_) => return Err(format!("unknown converter '{name}'")),
            };
            let method = match m {
                "regm" => Method::Reg,
                m => Method::from_name(m)
                    .filter(|m| !matches!(m, Method::Bin | Method::Len))
                    .ok_or_else(|| format!("unknown converter '{name}'"))?,
            };
            if m == "regm" {
                return Err(format!("converter '{name}' is not supported yet"));
            }
            (method, output)
        }
    };
    want(name, a, 1, 2)?;
    let file = &a[0];
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("converter '{name}': failed to load map file '{file}': {e}"))?;
    let value = |v: &str| -> Result<Value<'static>, String> {
        match output {
            Type::Sint => args::int(v).map(Value::Sint),
            Type::Addr => Value::str(v.as_bytes().to_vec())
                .cast(Type::Addr)
                .ok_or_else(|| format!("'{v}' is not a valid IPv4 or IPv6 address")),
            _ => Ok(Value::str(v.as_bytes().to_vec())),
        }
    };
    let mut set = PatternSet::new(method, false);
    for (line, key, v) in pattern::read_map_file(&text) {
        let v = value(v).map_err(|e| format!("{file}:{line}: {e}"))?;
        set.add(key, v).map_err(|e| format!("{file}:{line}: {e}"))?;
    }
    let default = a
        .get(1)
        .map(|d| value(d))
        .transpose()
        .map_err(|e| format!("converter '{name}': default value: {e}"))?;
    Ok(Conv::Map(MapRef(Arc::new(Map {
        file: file.clone(),
        set,
        default,
        input: method.input(),
        output,
    }))))
}
