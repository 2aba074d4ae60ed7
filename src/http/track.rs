//! What a stream tracks in the stick tables (`track-scN`): the key of an
//! entry and the table holding it. Plain data, so that a transaction can
//! keep its slots without knowing the tables; `proxy::stick` owns the
//! tables and the operations on them.

use std::net::IpAddr;
use std::sync::Mutex;

/// A stick-table key (manual §4.2 `stick-table type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StickKey {
    Ip(IpAddr),
    Int(i64),
    /// Truncated to the table's `len` bytes.
    Str(String),
}

/// A tracked entry, as `track` returns it: what to give `dec_conn_cur`
/// when the stream ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    pub table: String,
    pub key: StickKey,
    /// Tracked by a `tcp-request` rule: held for the whole connection,
    /// not released with each HTTP transaction.
    pub sess: bool,
}

/// A stream's `track-sc0..2` slots: what it tracks, in which table.
pub type Slots = [Option<EntryRef>; 3];

/// A data type a stick table stores (`store ...`), in HAProxy 2.6's
/// order, which `show table` follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StickData {
    ServerId,
    Gpt0,
    Gpc0,
    Gpc0Rate,
    ConnCnt,
    ConnRate,
    ConnCur,
    SessCnt,
    SessRate,
    HttpReqCnt,
    HttpReqRate,
    HttpErrCnt,
    HttpErrRate,
    BytesInCnt,
    BytesInRate,
    BytesOutCnt,
    BytesOutRate,
    Gpc1,
    Gpc1Rate,
}

impl StickData {
    pub const ALL: [StickData; 19] = [
        StickData::ServerId,
        StickData::Gpt0,
        StickData::Gpc0,
        StickData::Gpc0Rate,
        StickData::ConnCnt,
        StickData::ConnRate,
        StickData::ConnCur,
        StickData::SessCnt,
        StickData::SessRate,
        StickData::HttpReqCnt,
        StickData::HttpReqRate,
        StickData::HttpErrCnt,
        StickData::HttpErrRate,
        StickData::BytesInCnt,
        StickData::BytesInRate,
        StickData::BytesOutCnt,
        StickData::BytesOutRate,
        StickData::Gpc1,
        StickData::Gpc1Rate,
    ];

    /// HAProxy's name (`store`, `show table`, `data.NAME`).
    pub fn name(self) -> &'static str {
        match self {
            StickData::ServerId => "server_id",
            StickData::Gpt0 => "gpt0",
            StickData::Gpc0 => "gpc0",
            StickData::Gpc0Rate => "gpc0_rate",
            StickData::ConnCnt => "conn_cnt",
            StickData::ConnRate => "conn_rate",
            StickData::ConnCur => "conn_cur",
            StickData::SessCnt => "sess_cnt",
            StickData::SessRate => "sess_rate",
            StickData::HttpReqCnt => "http_req_cnt",
            StickData::HttpReqRate => "http_req_rate",
            StickData::HttpErrCnt => "http_err_cnt",
            StickData::HttpErrRate => "http_err_rate",
            StickData::BytesInCnt => "bytes_in_cnt",
            StickData::BytesInRate => "bytes_in_rate",
            StickData::BytesOutCnt => "bytes_out_cnt",
            StickData::BytesOutRate => "bytes_out_rate",
            StickData::Gpc1 => "gpc1",
            StickData::Gpc1Rate => "gpc1_rate",
        }
    }

    pub fn from_name(name: &str) -> Option<StickData> {
        StickData::ALL.into_iter().find(|d| d.name() == name)
    }

    /// A frequency counter over a period (`NAME(PERIOD)`).
    pub fn is_rate(self) -> bool {
        self.name().ends_with("_rate")
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A stick table's name as a counter fetch's `table` argument gives it:
/// interned (each distinct name is kept once for the process) so that
/// fetches stay `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableName(&'static str);

impl TableName {
    pub fn new(name: &str) -> TableName {
        static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
        let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = names.iter().find(|n| **n == name) {
            return TableName(n);
        }
        let n: &'static str = Box::leak(name.to_string().into_boxed_str());
        names.push(n);
        TableName(n)
    }

    pub fn as_str(&self) -> &'static str {
        self.0
    }
}
