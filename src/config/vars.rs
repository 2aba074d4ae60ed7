//! Variables in the configuration (manual §2.8): the `set-var`,
//! `set-var-fmt` and `unset-var` actions of the rule sets, and the global
//! section's `set-var`/`set-var-fmt`, which set `proc.` variables once at
//! start-up from samples that need no traffic.

use super::rules::{check_needs, fmt, Stage};
use crate::http::expr::Expr;
use crate::http::fetch::Fetch;
use crate::http::rules::{SetVar, VarValue};
use crate::sample::vars::{Conds, Scope, VarRef};

/// `set-var(NAME[,COND...]) EXPR`, `set-var-fmt(NAME[,COND...]) FMT` and
/// `unset-var(NAME)` (`name` is the action word, `a` the words after it,
/// before any condition); None: another action.
pub(crate) fn set_var(
    kw: &str,
    name: &str,
    a: &[String],
    stage: Stage,
) -> Result<Option<SetVar>, String> {
    let base = name.split('(').next().unwrap_or(name);
    if !["set-var", "set-var-fmt", "unset-var"].contains(&base) {
        return Ok(None);
    }
    let full = format!("{kw} {name}");
    let inner = name[base.len()..]
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            format!(
                "'{full}': invalid or incomplete action. Expects 'set-var(<var-name>)', 'set-var-fmt(<var-name>)' or 'unset-var(<var-name>)'"
            )
        })?;
    let mut parts = inner.split(',');
    let var = VarRef::parse(parts.next().unwrap_or("")).map_err(|e| format!("'{full}': {e}"))?;
    let conds: Vec<&str> = parts.collect();
    let extra = |n: usize| match a.get(n) {
        Some(w) => Err(format!(
            "'{full}' expects either 'if' or 'unless' followed by a condition but found '{w}'"
        )),
        None => Ok(()),
    };
    let value = match base {
        "unset-var" => {
            if !conds.is_empty() {
                return Err(format!(
                    "'{full}': unset-var does not expect parameters after the variable name. Only \"set-var\" and \"set-var-fmt\" manage conditions"
                ));
            }
            extra(0)?;
            VarValue::Unset
        }
        "set-var" => {
            let e = a
                .first()
                .ok_or_else(|| format!("'{full}': missing fetch method"))?;
            extra(1)?;
            let e = Expr::parse(e).map_err(|e| format!("'{full}': {e}"))?;
            check_needs(e.needs(), stage)?;
            VarValue::Expr(e)
        }
        _ => {
            let f = a
                .first()
                .ok_or_else(|| format!("'{full}' expects a log-format string"))?;
            extra(1)?;
            VarValue::Format(fmt(f, stage).map_err(|e| format!("'{full}': {e}"))?)
        }
    };
    let conds = Conds::parse(&conds).map_err(|e| format!("'{full}': {e}"))?;
    Ok(Some(SetVar { var, conds, value }))
}

/// The global `set-var proc.NAME EXPR` / `set-var-fmt proc.NAME FMT`.
pub(crate) fn global(args: &[String]) -> Result<SetVar, String> {
    let kw = args[0].as_str();
    let (Some(name), Some(value), None) = (args.get(1), args.get(2), args.get(3)) else {
        return Err(format!(
            "'{kw}' requires a process-wide variable name ('proc.<name>') and a {}",
            if kw == "set-var" {
                "sample expression"
            } else {
                "log-format string"
            }
        ));
    };
    let var = VarRef::parse(name).map_err(|e| format!("'{kw}': {e}"))?;
    if var.scope != Scope::Proc {
        return Err(format!(
            "'{kw}': cannot set variable '{name}', only scope 'proc' is permitted in the global section"
        ));
    }
    let value = if kw == "set-var" {
        VarValue::Expr(config_time(value, kw, name)?)
    } else {
        // The format's samples, as the log-format parser will read them.
        let mut rest = value.as_str();
        while let Some(i) = rest.find('%') {
            rest = &rest[i + 1..];
            if let Some(r) = rest.strip_prefix('%') {
                rest = r;
            } else if let Some((e, r)) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
                config_time(e, kw, name)?;
                rest = r;
            }
        }
        VarValue::Format(
            fmt(value, Stage::TcpConnection).map_err(|e| format!("'{kw} {name}': {e}"))?,
        )
    };
    Ok(SetVar {
        var,
        conds: Conds::default(),
        value,
    })
}

/// An expression of samples that exist before any connection: constants
/// and variables.
fn config_time(text: &str, kw: &str, name: &str) -> Result<Expr, String> {
    let e = Expr::parse(text).map_err(|e| format!("'{kw} {name}': {e}"))?;
    match e.fetch {
        Fetch::Const(_) | Fetch::Var(..) | Fetch::AlwaysTrue | Fetch::AlwaysFalse => Ok(e),
        _ => Err(format!(
            "'{kw} {name}': fetch method '{}' extracts information from a connection or a request, none of which is available in the global section",
            text.split(['(', ',']).next().unwrap_or(text)
        )),
    }
}
