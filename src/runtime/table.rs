//! The stick-table commands of the runtime API (management guide §9.3):
//! `show table [NAME [data.TYPE OP VALUE]... | [key KEY]]`, `clear table
//! NAME [...]`, `set table NAME key KEY [data.TYPE VALUE]...`. Grammar only,
//! with HAProxy 2.6's messages; `proxy::stick::cli` runs them.

use crate::http::track::StickData;

/// A comparison of `data.TYPE OP VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Le,
    Ge,
    Lt,
    Gt,
}

impl Op {
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Op::Eq => a == b,
            Op::Ne => a != b,
            Op::Le => a <= b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Gt => a > b,
        }
    }
}

/// Which entries a `show`/`clear` applies to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    /// `key KEY`: the one entry.
    Key(String),
    /// `data.TYPE OP VALUE`, each of which must hold.
    Data(Vec<(StickData, Op, i64)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableCmd {
    /// `show table`: one header line per table.
    List,
    Show(String, Filter),
    Clear(String, Filter),
    /// `set table NAME key KEY data.TYPE VALUE...`.
    Set(String, String, Vec<(StickData, u64)>),
}

const FILTER_USAGE: &str =
    "Optional argument only supports \"data.<store_data_type>\" <operator> <value> and key <key>";

fn filter(w: &[String]) -> Result<Filter, String> {
    match w {
        [] => Ok(Filter::All),
        [k] if k == "key" => Err("Key value expected".into()),
        [k, v] if k == "key" => Ok(Filter::Key(v.clone())),
        _ if w[0].starts_with("data.") => {
            let mut out = Vec::new();
            for (i, c) in w.chunks(3).enumerate() {
                let n = i + 1;
                let Some(name) = c[0].strip_prefix("data.") else {
                    return Err(FILTER_USAGE.into());
                };
                let d = StickData::from_name(name)
                    .ok_or_else(|| format!("Filter entry #{n}: Unknown data type"))?;
                let op = match c.get(1).map(String::as_str) {
                    Some("eq") => Op::Eq,
                    Some("ne") => Op::Ne,
                    Some("le") => Op::Le,
                    Some("ge") => Op::Ge,
                    Some("lt") => Op::Lt,
                    Some("gt") => Op::Gt,
                    _ => {
                        return Err(format!(
                            "Filter entry #{n}: Require and operator among \"eq\", \"ne\", \"le\", \"ge\", \"lt\", \"gt\""
                        ))
                    }
                };
                let v = c
                    .get(2)
                    .and_then(|v| v.parse::<i64>().ok())
                    .ok_or_else(|| {
                        format!(
                            "Filter entry #{n}: Require a valid integer value to compare against"
                        )
                    })?;
                out.push((d, op, v));
            }
            Ok(Filter::Data(out))
        }
        _ => Err(FILTER_USAGE.into()),
    }
}

/// The command, if `w` is a table command.
pub fn parse(w: &[String]) -> Option<Result<TableCmd, String>> {
    let words: Vec<&str> = w.iter().map(String::as_str).collect();
    Some(match words.as_slice() {
        ["show", "table"] => Ok(TableCmd::List),
        ["show", "table", name, ..] => filter(&w[3..]).map(|f| TableCmd::Show(name.to_string(), f)),
        ["clear", "table"] => Err("Required arguments: <table> \"data.<store_data_type>\" <operator> <value> or <table> key <key>".into()),
        ["clear", "table", name, ..] => filter(&w[3..]).map(|f| TableCmd::Clear(name.to_string(), f)),
        ["set", "table", ..] => set(&w[2..]),
        _ => return None,
    })
}

fn set(w: &[String]) -> Result<TableCmd, String> {
    let usage = || "Required arguments: <table> key <key> [data.<store_data_type> <value>]*";
    let (name, key) = match w {
        [n, k, v, ..] if k == "key" => (n.clone(), v.clone()),
        [_, k] if k == "key" => return Err("Key value expected".into()),
        _ => return Err(usage().into()),
    };
    let mut data = Vec::new();
    for c in w[3..].chunks(2) {
        let d = c[0].strip_prefix("data.").ok_or_else(|| {
            format!(
                "\"data.<type>\" followed by a value expected, got '{}'",
                c[0]
            )
        })?;
        let d = StickData::from_name(d).ok_or("Unknown data type")?;
        let v = c
            .get(1)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or("Require a valid integer value to store")?;
        data.push((d, v));
    }
    Ok(TableCmd::Set(name, key, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Option<Result<TableCmd, String>> {
        let w: Vec<String> = line.split(' ').map(String::from).collect();
        parse(&w)
    }

    #[test]
    fn commands_and_haproxys_messages() {
        assert_eq!(p("show table"), Some(Ok(TableCmd::List)));
        assert_eq!(
            p("show table fe data.conn_cnt gt 3 data.gpc0 eq 0"),
            Some(Ok(TableCmd::Show(
                "fe".into(),
                Filter::Data(vec![
                    (StickData::ConnCnt, Op::Gt, 3),
                    (StickData::Gpc0, Op::Eq, 0)
                ])
            )))
        );
        assert_eq!(
            p("clear table fe key 1.2.3.4"),
            Some(Ok(TableCmd::Clear(
                "fe".into(),
                Filter::Key("1.2.3.4".into())
            )))
        );
        assert_eq!(
            p("set table st key ab data.gpt0 5 data.gpc1 7"),
            Some(Ok(TableCmd::Set(
                "st".into(),
                "ab".into(),
                vec![(StickData::Gpt0, 5), (StickData::Gpc1, 7)]
            )))
        );
        let err = |l| p(l).unwrap().unwrap_err();
        assert_eq!(err("show table fe key"), "Key value expected");
        assert_eq!(err("show table fe foo"), FILTER_USAGE);
        assert_eq!(
            err("show table fe data.frob gt 0"),
            "Filter entry #1: Unknown data type"
        );
        assert!(
            err("show table fe data.conn_cnt").starts_with("Filter entry #1: Require and operator")
        );
        assert!(err("clear table").starts_with("Required arguments"));
        assert!(p("show tables").is_none());
    }
}
