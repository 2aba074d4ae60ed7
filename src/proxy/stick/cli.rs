//! The runtime API's table commands over the tables (`show table`, `clear
//! table`, `set table`), answering in HAProxy 2.6's format; the caller holds
//! the tables' lock for one command, never across socket I/O.

use std::fmt::Write;
use std::net::IpAddr;
use std::time::Instant;

use super::{Entry, StickKey, StickTable, StickTables};
use crate::config::{StickData, StickKeyType};
use crate::runtime::table::{Filter, TableCmd};

pub fn run(tables: &mut StickTables, cmd: &TableCmd, now: Instant) -> Result<String, String> {
    match cmd {
        TableCmd::List => {
            let mut out = String::new();
            // HAProxy lists its proxies last declared first.
            for t in tables.tables.iter_mut().rev() {
                t.purge(now);
                header(&mut out, t);
            }
            Ok(out)
        }
        TableCmd::Show(name, f) => {
            let t = tables.get_mut(name).ok_or("No such table")?;
            t.purge(now);
            check_filter(t, f)?;
            let mut out = String::new();
            if let Filter::Key(k) = f {
                let key = parse_key(t, k)?;
                let Some(e) = t.peek(&key, now) else {
                    return Ok(out);
                };
                header(&mut out, t);
                line(&mut out, t, &key, e, now);
                return Ok(out);
            }
            header(&mut out, t);
            let mut rows: Vec<(&StickKey, &Entry)> =
                t.iter(now).filter(|(_, e)| keep(t, e, f, now)).collect();
            rows.sort_by_key(|r| key_order(r.0));
            for (k, e) in rows {
                line(&mut out, t, k, e, now);
            }
            Ok(out)
        }
        TableCmd::Clear(name, f) => {
            let t = tables.get_mut(name).ok_or("No such table")?;
            t.purge(now);
            check_filter(t, f)?;
            let keys: Vec<StickKey> = match f {
                Filter::Key(k) => vec![parse_key(t, k)?],
                _ => t
                    .iter(now)
                    .filter(|(_, e)| keep(t, e, f, now))
                    .map(|(k, _)| k.clone())
                    .collect(),
            };
            // As HAProxy, an entry a stream tracks stays.
            for k in keys {
                t.remove(&k);
            }
            Ok(String::new())
        }
        TableCmd::Set(name, key, data) => {
            let t = tables.get_mut(name).ok_or("No such table")?;
            let key = parse_key(t, key)?;
            // As HAProxy, the entry exists even when a type is refused.
            if t.touch(&key, now).is_none() {
                return Err("Unable to allocate a new entry".into());
            }
            if data.iter().any(|(d, _)| !t.cfg.store.has(*d)) {
                return Err("Data type not stored in this table".into());
            }
            for (d, v) in data {
                t.set(&key, *d, *v, now);
            }
            Ok(String::new())
        }
    }
}

fn header(out: &mut String, t: &StickTable) {
    let ty = match t.cfg.key {
        StickKeyType::Ip => "ip",
        StickKeyType::Ipv6 => "ipv6",
        StickKeyType::Integer => "integer",
        StickKeyType::String => "string",
    };
    let _ = writeln!(
        out,
        "# table: {}, type: {ty}, size:{}, used:{}",
        t.cfg.name,
        t.cfg.size,
        t.len()
    );
}

fn check_filter(t: &StickTable, f: &Filter) -> Result<(), String> {
    if let Filter::Data(conds) = f {
        for (i, (d, _, _)) in conds.iter().enumerate() {
            if !t.cfg.store.has(*d) {
                return Err(format!(
                    "Filter entry #{}: Data type not stored in this table",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

fn keep(t: &StickTable, e: &Entry, f: &Filter, now: Instant) -> bool {
    match f {
        Filter::Data(conds) => conds
            .iter()
            .all(|(d, op, v)| op.holds(t.value(e, *d, now), *v)),
        _ => true,
    }
}

/// A key as the CLI gives it, in the table's type ("Invalid key" as
/// HAProxy when it does not convert).
fn parse_key(t: &StickTable, k: &str) -> Result<StickKey, String> {
    let invalid = || "Invalid key".to_string();
    match t.cfg.key {
        StickKeyType::Ip => match k.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => Ok(StickKey::Ip(IpAddr::V4(a))),
            _ => Err(invalid()),
        },
        StickKeyType::Ipv6 => match k.parse::<IpAddr>() {
            Ok(IpAddr::V6(a)) => Ok(StickKey::Ip(IpAddr::V6(a))),
            Ok(IpAddr::V4(a)) => Ok(StickKey::Ip(IpAddr::V6(a.to_ipv6_mapped()))),
            Err(_) => Err(invalid()),
        },
        StickKeyType::Integer => k
            .parse::<u32>()
            .map(|n| StickKey::Int(n.into()))
            .map_err(|_| invalid()),
        StickKeyType::String => {
            let mut end = k.len().min(t.cfg.len);
            while !k.is_char_boundary(end) {
                end -= 1;
            }
            Ok(StickKey::Str(k[..end].to_string()))
        }
    }
}

/// HAProxy walks its key tree: addresses by their bytes, integers as
/// unsigned, strings by their bytes.
fn key_order(k: &StickKey) -> (Vec<u8>, u64) {
    match k {
        StickKey::Ip(IpAddr::V4(a)) => (a.octets().to_vec(), 0),
        StickKey::Ip(IpAddr::V6(a)) => (a.octets().to_vec(), 0),
        StickKey::Int(n) => (Vec::new(), *n as u32 as u64),
        StickKey::Str(s) => (s.as_bytes().to_vec(), 0),
    }
}

/// `0x...: key=K use=N exp=MS TYPE=V TYPE(PERIOD_MS)=V...`.
fn line(out: &mut String, t: &StickTable, k: &StickKey, e: &Entry, now: Instant) {
    let key = match k {
        StickKey::Ip(a) => a.to_string(),
        StickKey::Int(n) => (*n as u32).to_string(),
        StickKey::Str(s) => s.clone(),
    };
    let exp = match (t.cfg.expire, e.last_use) {
        (Some(x), Some(at)) => x
            .saturating_sub(now.saturating_duration_since(at))
            .as_millis(),
        _ => 0,
    };
    let _ = write!(out, "{:p}: key={key} use={} exp={exp}", e, e.refs);
    let store = &t.cfg.store;
    for d in store.types() {
        let v = e.value(store, d, now);
        match store.period(d) {
            Some(p) => {
                let _ = write!(out, " {}({})={v}", d.name(), p.as_millis());
            }
            None if d == StickData::ServerId => {
                let _ = write!(out, " server_id={}", t.value(e, d, now));
            }
            None => {
                let _ = write!(out, " {}={v}", d.name());
            }
        }
    }
    if !t.cfg.servers.is_empty() {
        let _ = write!(out, " server_key={}", t.server_key(e).unwrap_or("-"));
    }
    out.push('\n');
}
