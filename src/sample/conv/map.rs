//! The map converters' files: loaded at config check with each value
//! parsed as the converter's output type, through the shared pattern
//! references (`sample::patref`), so that a runtime API change reaches
//! every user on every thread.

use super::{want, Conv};
use crate::sample::patref::{self, ExprSpec, PatExpr, User};
use crate::sample::pattern::Method;
use crate::sample::{Type, Value};
use std::sync::Arc;

/// A map converter's loaded file: its entries (values already of the
/// output type), its default, and the types it reads and gives.
#[derive(Debug)]
pub struct Map {
    pub file: String,
    pub(super) expr: Arc<PatExpr>,
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

impl Map {
    /// The value for `v` (of the input type), or the default.
    pub(super) fn lookup(&self, v: &Value<'_>) -> Option<Value<'static>> {
        self.expr.lookup(v).or_else(|| self.default.clone())
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
                    .filter(|m| {
                        !matches!(m, Method::Bin | Method::Len | Method::Found | Method::Bool)
                    })
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
    let spec = ExprSpec {
        method,
        icase: false,
        dotted: false,
        smp: Some(output),
    };
    let open_err =
        |e: &std::io::Error| format!("converter '{name}': failed to load map file '{file}': {e}");
    let expr = patref::load_file(file, User::Map, true, spec, &open_err)?;
    let default = a
        .get(1)
        .map(|d| patref::parse_value(output, d))
        .transpose()
        .map_err(|e| format!("converter '{name}': default value: {e}"))?;
    Ok(Conv::Map(MapRef(Arc::new(Map {
        file: file.clone(),
        expr,
        default,
        input: method.input(),
        output,
    }))))
}
