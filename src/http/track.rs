//! What a stream tracks in the stick tables (`track-scN`): the key of an
//! entry and the table holding it. Plain data, so that a transaction can
//! keep its slots without knowing the tables; `proxy::stick` owns the
//! tables and the operations on them.

use std::net::IpAddr;

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
}

/// A stream's `track-sc0..2` slots: what it tracks, in which table.
pub type Slots = [Option<EntryRef>; 3];
