//! Stick counter fetches (manual §7.3.3): `sc_*(N[,TABLE])`,
//! `sc0_*`..`sc2_*([TABLE])` and `src_*([TABLE])`. Parsing only: the
//! engine reads (and for `inc`/`clr`/`updt`, changes) the tables through
//! [`CounterView`].

use std::cell::RefCell;

pub use crate::http::track::{StickData, TableName};

thread_local! {
    /// Tables named by the counter fetches parsed on this thread since
    /// the last [`take_tables`]: the configuration checks they exist.
    // Already const: nightly clippy flags it anyway on targets with
    // emulated TLS (OpenBSD, Solaris).
    #[allow(clippy::missing_const_for_thread_local)]
    static NAMED: RefCell<Vec<(String, TableName)>> = const { RefCell::new(Vec::new()) };
}

/// The tables counter fetches named since the last call (with the fetch).
pub fn take_tables() -> Vec<(String, TableName)> {
    NAMED.with(|n| std::mem::take(&mut *n.borrow_mut()))
}

/// Whose counters a counter fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracked {
    /// The entry tracked by `track-scN` (N = 0, 1, 2) in this stream; with
    /// a table, the same key looked up in that table instead.
    Sc(u8, Option<TableName>),
    /// The client address's entry in TABLE, or the current proxy's table.
    Src(Option<TableName>),
}

/// What a counter fetch gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// A stored value: `_cnt`, `_cur`, `_rate`, `get_gpc0`, `get_gpt0`...
    Data(StickData),
    /// `kbytes_in`/`kbytes_out`: the byte count divided by 1024.
    KBytes(StickData),
    /// `trackers`: how many streams track the entry.
    Trackers,
    /// `tracked` (a boolean; the only one that is never absent).
    Tracked,
    /// `inc_gpc0`/`inc_gpc1`: increments, gives the new value.
    IncGpc(u8),
    /// `clr_gpc0`/`clr_gpc1`: clears, gives the old value.
    ClrGpc(u8),
    /// `src_updt_conn_cnt`: one more connection, gives the new count.
    UpdtConnCnt,
    /// The `sc-set-gpt0` action (no fetch gives it): gpt0 becomes the
    /// value (as an unsigned 32-bit integer).
    SetGpt0(i64),
}

/// What counter fetches read: the engine implements it over its stick
/// tables and the stream's tracked entries (see `proxy::stick`). `None`
/// means no sample, as HAProxy: nothing tracked, or the entry exists but
/// its table does not store the type; an absent entry gives 0.
pub trait CounterView {
    fn counter(&self, of: Tracked, what: Counter) -> Option<i64>;
}

fn counter_name(what: &str) -> Option<Counter> {
    use StickData as D;
    Some(match what {
        "conn_cnt" => Counter::Data(D::ConnCnt),
        "conn_cur" => Counter::Data(D::ConnCur),
        "conn_rate" => Counter::Data(D::ConnRate),
        "sess_cnt" => Counter::Data(D::SessCnt),
        "sess_rate" => Counter::Data(D::SessRate),
        "http_req_cnt" => Counter::Data(D::HttpReqCnt),
        "http_req_rate" => Counter::Data(D::HttpReqRate),
        "http_err_cnt" => Counter::Data(D::HttpErrCnt),
        "http_err_rate" => Counter::Data(D::HttpErrRate),
        "bytes_in_rate" => Counter::Data(D::BytesInRate),
        "bytes_out_rate" => Counter::Data(D::BytesOutRate),
        "kbytes_in" => Counter::KBytes(D::BytesInCnt),
        "kbytes_out" => Counter::KBytes(D::BytesOutCnt),
        "get_gpc0" => Counter::Data(D::Gpc0),
        "get_gpc1" => Counter::Data(D::Gpc1),
        "get_gpt0" => Counter::Data(D::Gpt0),
        "gpc0_rate" => Counter::Data(D::Gpc0Rate),
        "gpc1_rate" => Counter::Data(D::Gpc1Rate),
        "inc_gpc0" => Counter::IncGpc(0),
        "inc_gpc1" => Counter::IncGpc(1),
        "clr_gpc0" => Counter::ClrGpc(0),
        "clr_gpc1" => Counter::ClrGpc(1),
        "trackers" => Counter::Trackers,
        "tracked" => Counter::Tracked,
        "updt_conn_cnt" => Counter::UpdtConnCnt,
        _ => return None,
    })
}

/// `sc0_http_req_rate`, `sc_get_gpc0(1,t)`, `src_conn_cur(t)`...: None if
/// `name` is not a counter fetch pollux has.
pub fn parse(name: &str, args: &[&str]) -> Option<Result<(Tracked, Counter), String>> {
    let (who, what) = name.split_once('_')?;
    let what = counter_name(what)?;
    let table = |a: Option<&&str>| -> Result<Option<TableName>, String> {
        match a {
            None => Ok(None),
            Some(&"") => Err(format!("fetch method '{name}': empty table name")),
            Some(t) => {
                let t = TableName::new(t);
                NAMED.with(|n| n.borrow_mut().push((name.to_string(), t)));
                Ok(Some(t))
            }
        }
    };
    let too_many = |max: usize| {
        Err(format!(
            "fetch method '{name}' expects at most {max} argument(s), got {}",
            args.len()
        ))
    };
    let who = match who {
        "sc0" | "sc1" | "sc2" if what != Counter::UpdtConnCnt => {
            if args.len() > 1 {
                return Some(too_many(1));
            }
            let n = who.as_bytes()[2] - b'0';
            match table(args.first()) {
                Ok(t) => Tracked::Sc(n, t),
                Err(e) => return Some(Err(e)),
            }
        }
        "sc" if what != Counter::UpdtConnCnt => {
            let Some(n) = args.first() else {
                return Some(Err(format!(
                    "fetch method '{name}' expects a stick counter number (0 to 2)"
                )));
            };
            if args.len() > 2 {
                return Some(too_many(2));
            }
            let n = match n.trim().parse::<u8>() {
                Ok(n) if n <= 2 => n,
                _ => {
                    return Some(Err(format!(
                        "fetch method '{name}': invalid stick counter '{n}' (0 to 2)"
                    )))
                }
            };
            match table(args.get(1)) {
                Ok(t) => Tracked::Sc(n, t),
                Err(e) => return Some(Err(e)),
            }
        }
        "src" if !matches!(what, Counter::Trackers | Counter::Tracked) => {
            if args.len() > 1 {
                return Some(too_many(1));
            }
            match table(args.first()) {
                Ok(t) => Tracked::Src(t),
                Err(e) => return Some(Err(e)),
            }
        }
        _ => return None,
    };
    Some(Ok((who, what)))
}

/// The table a counter fetch names, for the end-of-load check.
pub fn table_of(who: Tracked) -> Option<TableName> {
    match who {
        Tracked::Sc(_, t) | Tracked::Src(t) => t,
    }
}
