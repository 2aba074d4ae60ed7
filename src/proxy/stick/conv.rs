//! What the table converters (`in_table`, `table_*`) read: a key looked up
//! in a named table as HAProxy 2.6's `sample_conv_table_*` do, creating
//! and refreshing nothing. The engine's threads install the process's
//! tables for the sample layer (`sample::conv::install_tables`), which
//! lock them for one lookup at a time.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::{key_from_sample, StickTables};
use crate::config::{StickData, StickKeyType};
use crate::sample::conv::{Found, Read};
use crate::sample::Value;

/// `key` in table `name` at `now`, as the converter `what` reads it.
pub fn read(tables: &StickTables, name: &str, key: &Value<'_>, what: Read, now: Instant) -> Found {
    let Some(t) = tables.get(name) else {
        return Found::Absent;
    };
    let cast;
    let key = match (t.cfg.key, key) {
        // HAProxy casts an integer to an IPv4 address (IPv4-mapped for
        // an `ipv6` table).
        (StickKeyType::Ip | StickKeyType::Ipv6, Value::Sint(n)) => {
            cast = Value::Ipv4(Ipv4Addr::from(*n as u32));
            &cast
        }
        _ => key,
    };
    let Some(e) = key_from_sample(key, &t.cfg).and_then(|k| t.peek(&k, now)) else {
        return Found::Absent;
    };
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let since =
        |at: Option<Instant>| at.map_or(Duration::ZERO, |at| now.saturating_duration_since(at));
    let data = |n: &str| StickData::from_name(n).filter(|d| t.cfg.store.has(*d));
    Found::Entry(match what {
        Read::Present => Some(1),
        Read::Data(n) => data(n).map(|d| t.value(e, d, now)),
        Read::KBytes(n) => data(n).map(|d| t.value(e, d, now) >> 10),
        // HAProxy counts its own lookup's reference among the trackers.
        Read::Trackers => Some(i64::from(e.refs) + 1),
        // Without `expire`, an entry's date stays its creation's: HAProxy
        // finds it expired and idle for 0 ms.
        Read::Expire => Some(
            t.cfg
                .expire
                .map_or(0, |x| ms(x.saturating_sub(since(e.last_use)))),
        ),
        Read::Idle => Some(t.cfg.expire.map_or(0, |x| ms(since(e.last_use).min(x)))),
    })
}
