//! The stick-table converters (`in_table`, `table_*`, manual §7.3.1): the
//! sample is a key looked up, without creating or refreshing its entry,
//! in a named table. The tables are the proxy's: each engine thread
//! installs its view of them here ([`install`]) when its loop starts, so
//! that a converter reads them from wherever it runs (ACLs, log-format,
//! `set-var`, stick rules) without every sample context carrying them.
//! Table names are checked at the end of the configuration's load
//! ([`take_tables`]).

use super::{int_at, want, Conv};
use crate::sample::{Type, Value};
use std::cell::RefCell;
use std::sync::Arc;

/// What a table converter reads from the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Whether the entry exists (`in_table`).
    Present,
    /// A stored type, by HAProxy's name (`http_req_cnt`, `gpc0_rate`...).
    Data(&'static str),
    /// A byte count divided by 1024 (`kbytes_in`/`kbytes_out`).
    KBytes(&'static str),
    /// Streams tracking the entry.
    Trackers,
    /// Milliseconds before the entry expires.
    Expire,
    /// Milliseconds since the entry was last refreshed.
    Idle,
}

/// An entry as a lookup found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No such key (or no such table: none is installed before the
    /// loops start, when every table is still empty).
    Absent,
    /// The entry exists; None: its table does not store what was asked.
    Entry(Option<i64>),
}

/// The proxy's stick tables as the converters read them.
pub trait Tables: Send + Sync {
    /// `key` (cast to the table's key type) looked up in `table`, now.
    fn read(&self, table: &str, key: &Value<'_>, what: Read) -> Found;
}

thread_local! {
    /// This thread's tables (its engine's).
    static TABLES: RefCell<Option<Arc<dyn Tables>>> = const { RefCell::new(None) };
    /// Table names the converters parsed on this thread named since the
    /// last [`take_tables`] (with the converter), for the load's check.
    // Already const: nightly clippy flags it anyway on targets with
    // emulated TLS (OpenBSD, Solaris).
    #[allow(clippy::missing_const_for_thread_local)]
    static NAMED: RefCell<Vec<(&'static str, String)>> = const { RefCell::new(Vec::new()) };
}

/// The tables the converters run on this thread read (None: uninstall).
pub fn install(t: Option<Arc<dyn Tables>>) {
    TABLES.with(|c| *c.borrow_mut() = t);
}

/// The (converter, table) pairs parsed since the last call.
pub fn take_tables() -> Vec<(&'static str, String)> {
    NAMED.with(|n| std::mem::take(&mut *n.borrow_mut()))
}

/// A table converter: what it reads, from which table, and the default
/// `table_expire`/`table_idle` give for an absent key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConv {
    pub name: &'static str,
    pub table: String,
    pub read: Read,
    pub default: Option<i64>,
}

/// HAProxy 2.6's table converters and what each reads. The `gpc`/`gpt`
/// arrays and `http_fail_*` are types no pollux table stores (the
/// configuration refuses them), so their converters give what HAProxy
/// gives for a table without them.
const CONVS: &[(&str, Read)] = &[
    ("in_table", Read::Present),
    ("table_bytes_in_rate", Read::Data("bytes_in_rate")),
    ("table_bytes_out_rate", Read::Data("bytes_out_rate")),
    ("table_conn_cnt", Read::Data("conn_cnt")),
    ("table_conn_cur", Read::Data("conn_cur")),
    ("table_conn_rate", Read::Data("conn_rate")),
    ("table_expire", Read::Expire),
    ("table_gpt", Read::Data("gpt")),
    ("table_gpt0", Read::Data("gpt0")),
    ("table_gpc", Read::Data("gpc")),
    ("table_gpc_rate", Read::Data("gpc_rate")),
    ("table_gpc0", Read::Data("gpc0")),
    ("table_gpc0_rate", Read::Data("gpc0_rate")),
    ("table_gpc1", Read::Data("gpc1")),
    ("table_gpc1_rate", Read::Data("gpc1_rate")),
    ("table_http_err_cnt", Read::Data("http_err_cnt")),
    ("table_http_err_rate", Read::Data("http_err_rate")),
    ("table_http_fail_cnt", Read::Data("http_fail_cnt")),
    ("table_http_fail_rate", Read::Data("http_fail_rate")),
    ("table_http_req_cnt", Read::Data("http_req_cnt")),
    ("table_http_req_rate", Read::Data("http_req_rate")),
    ("table_idle", Read::Idle),
    ("table_kbytes_in", Read::KBytes("bytes_in_cnt")),
    ("table_kbytes_out", Read::KBytes("bytes_out_cnt")),
    ("table_server_id", Read::Data("server_id")),
    ("table_sess_cnt", Read::Data("sess_cnt")),
    ("table_sess_rate", Read::Data("sess_rate")),
    ("table_trackers", Read::Trackers),
];

/// Every table converter's name.
pub(super) fn names() -> impl Iterator<Item = &'static str> {
    CONVS.iter().map(|(n, _)| *n)
}

/// Whether `name` is a table converter.
pub(super) fn known(name: &str) -> bool {
    CONVS.iter().any(|(n, _)| *n == name)
}

/// Table converter `name` (see [`known`]) with its arguments:
/// `table_X(TABLE)`, `table_expire|idle(TABLE[,DEFAULT])`,
/// `table_gpc|gpt|gpc_rate(IDX,TABLE)`.
pub(super) fn parse(name: &str, a: &[String]) -> Result<Conv, String> {
    let Some(&(name, read)) = CONVS.iter().find(|(n, _)| *n == name) else {
        return Err(format!("unknown converter '{name}'"));
    };
    parse_args(name, read, a).map(Conv::Table)
}

fn parse_args(name: &'static str, read: Read, a: &[String]) -> Result<TableConv, String> {
    let indexed = matches!(name, "table_gpt" | "table_gpc" | "table_gpc_rate");
    // Where the table is; `table_expire`/`table_idle` may have a default.
    let (at, max) = match (indexed, read) {
        (true, _) => (1, 2),
        (false, Read::Expire | Read::Idle) => (0, 2),
        _ => (0, 1),
    };
    want(name, a, usize::from(indexed), max)?;
    if indexed {
        // Checked as HAProxy does (an integer); no array is ever stored,
        // so any index reads nothing.
        int_at(name, a, 0)?;
    }
    let default = if max == 2 && !indexed {
        int_at(name, a, 1)?
    } else {
        None
    };
    let table = a.get(at).filter(|t| !t.is_empty()).ok_or_else(|| {
        format!("converter '{name}': no table name (the proxy's own table) is not supported yet")
    })?;
    NAMED.with(|n| n.borrow_mut().push((name, table.clone())));
    Ok(TableConv {
        name,
        table: table.clone(),
        read,
        default,
    })
}

impl TableConv {
    pub fn output(&self) -> Type {
        match self.read {
            Read::Present => Type::Bool,
            _ => Type::Sint,
        }
    }

    /// HAProxy's answers: an absent key gives 0 (false for `in_table`;
    /// the default, else no sample, for `table_expire`/`table_idle`); an
    /// entry whose table does not store the type gives no sample.
    pub fn apply(&self, key: &Value<'_>) -> Option<Value<'static>> {
        let found = TABLES.with(|c| match &*c.borrow() {
            Some(t) => t.read(&self.table, key, self.read),
            None => Found::Absent,
        });
        match (found, self.read) {
            (Found::Absent, Read::Present) => Some(Value::Bool(false)),
            (Found::Absent, Read::Expire | Read::Idle) => self.default.map(Value::Sint),
            (Found::Absent, _) => Some(Value::Sint(0)),
            (Found::Entry(_), Read::Present) => Some(Value::Bool(true)),
            (Found::Entry(v), _) => v.map(Value::Sint),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::conv::parse_chain;

    struct One;
    impl Tables for One {
        fn read(&self, table: &str, key: &Value<'_>, what: Read) -> Found {
            if table != "t" || *key != Value::str(&b"k"[..]) {
                return Found::Absent;
            }
            Found::Entry(match what {
                Read::Data("gpc0") | Read::Present => Some(3),
                Read::Expire => Some(500),
                _ => None,
            })
        }
    }

    fn run(chain: &str, key: &'static [u8]) -> Option<Value<'static>> {
        let c = parse_chain(chain).unwrap();
        crate::sample::conv::run_chain(&c, Value::str(key)).map(|v| v.into_owned())
    }

    #[test]
    fn answers_as_haproxy() {
        install(Some(Arc::new(One)));
        assert_eq!(run("table_gpc0(t)", b"k"), Some(Value::Sint(3)));
        assert_eq!(run("table_gpc0(t)", b"x"), Some(Value::Sint(0)));
        // Stored nowhere: no sample for a present entry.
        assert_eq!(run("table_conn_cnt(t)", b"k"), None);
        assert_eq!(run("table_gpc(0,t)", b"x"), Some(Value::Sint(0)));
        assert_eq!(run("in_table(t)", b"k"), Some(Value::Bool(true)));
        assert_eq!(run("in_table(t)", b"x"), Some(Value::Bool(false)));
        assert_eq!(run("table_expire(t)", b"k"), Some(Value::Sint(500)));
        assert_eq!(run("table_expire(t)", b"x"), None);
        assert_eq!(run("table_idle(t,-1)", b"x"), Some(Value::Sint(-1)));
        install(None);
        // No tables installed yet: every table is empty.
        assert_eq!(run("table_gpc0(t)", b"k"), Some(Value::Sint(0)));
        take_tables();
    }

    #[test]
    fn arguments_checked() {
        let err = |c: &str| parse_chain(c).unwrap_err();
        assert_eq!(
            err("table_gpc0"),
            "converter 'table_gpc0': no table name (the proxy's own table) is not supported yet"
        );
        assert!(err("table_gpc(1)").contains("is not supported yet"));
        assert!(err("table_gpc").contains("missing arguments"));
        assert_eq!(
            err("table_gpc0(a,b)"),
            "converter 'table_gpc0': end of arguments expected at position 2"
        );
        assert!(err("table_expire(t,abc)").contains("'abc'"));
        assert!(err("table_gpc(x,t)").contains("'x'"));
        assert!(err("table_gpc0()").contains("is not supported yet"));
        take_tables();
        parse_chain("table_gpc0(a),table_idle(b,10)").unwrap();
        assert_eq!(
            take_tables(),
            [
                ("table_gpc0", "a".to_string()),
                ("table_idle", "b".to_string())
            ]
        );
    }
}
