//! Fetches that read no message and no connection (manual §7.3.2):
//! `env`, `date`, `date_us`, `rand`, `uuid`, `hostname`, `nbproc`, `proc`.
//! Their argument rules and failures are HAProxy 2.6's.

use super::{int_arg, owned_text, want_args, Fetched, Kind};
use crate::sample::Value;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misc {
    /// `env(NAME)`: no sample when unset.
    Env(String),
    /// `date([OFFSET[,UNIT]])`: the offset is added after the unit applies.
    Date(Option<i64>, Unit),
    DateUs,
    /// `rand([RANGE])`: 32 random bits, scaled into 0..RANGE.
    Rand(Option<i64>),
    Uuid,
    Hostname,
    /// `nbproc` and `proc`: always 1 (one process, as HAProxy 2.6).
    One,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    S,
    Ms,
    Us,
}

/// `Some` when `name` is one of these fetches.
pub fn parse(name: &str, a: &[&str]) -> Option<Result<Misc, String>> {
    let r = match name {
        "env" => want_args(name, a, 1, 1).map(|()| Misc::Env(a[0].to_string())),
        "date" => date(a),
        "date_us" => want_args(name, a, 0, 0).map(|()| Misc::DateUs),
        "rand" => want_args(name, a, 0, 1).and_then(|()| {
            a.first()
                .map(|r| int_arg(name, 1, r))
                .transpose()
                .map(Misc::Rand)
        }),
        "uuid" => want_args(name, a, 0, 1).and_then(|()| match a.first() {
            None => Ok(Misc::Uuid),
            Some(v) => match int_arg(name, 1, v)? {
                4 => Ok(Misc::Uuid),
                n => Err(format!(
                    "fetch method 'uuid': Unsupported UUID version: '{n}'"
                )),
            },
        }),
        "hostname" => want_args(name, a, 0, 0).map(|()| Misc::Hostname),
        "nbproc" | "proc" => want_args(name, a, 0, 0).map(|()| Misc::One),
        _ => return None,
    };
    Some(r)
}

fn date(a: &[&str]) -> Result<Misc, String> {
    want_args("date", a, 0, 2)?;
    let offset = match a.first() {
        Some(o) if !o.is_empty() => Some(int_arg("date", 1, o)?),
        _ => None,
    };
    let unit = match a.get(1) {
        None => Unit::S,
        Some(&"s") => Unit::S,
        Some(&"ms") => Unit::Ms,
        Some(&"us") => Unit::Us,
        Some(u) => {
            return Err(format!(
                "fetch method 'date': expects 's', 'ms' or 'us', got '{u}'"
            ))
        }
    };
    Ok(Misc::Date(offset, unit))
}

impl Misc {
    /// The same value every time within a request.
    pub fn stable(&self) -> bool {
        !matches!(
            self,
            Misc::Rand(_) | Misc::Uuid | Misc::Date(..) | Misc::DateUs
        )
    }

    pub fn kind(&self) -> Kind {
        match self {
            Misc::Env(_) | Misc::Uuid | Misc::Hostname => Kind::Str,
            _ => Kind::Int,
        }
    }

    pub fn fetch(&self) -> Fetched<'static> {
        let now = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
        };
        let int = |n: i64| Fetched::one(Value::Sint(n));
        match self {
            Misc::Env(name) => match std::env::var_os(name) {
                Some(v) => Fetched::one(owned_text(v.to_string_lossy().into_owned())),
                None => Fetched::none(),
            },
            Misc::Date(offset, unit) => {
                let d = now();
                let secs = d.as_secs() as i64;
                let v = match unit {
                    Unit::S => secs,
                    Unit::Ms => secs * 1000 + i64::from(d.subsec_millis()),
                    Unit::Us => secs * 1_000_000 + i64::from(d.subsec_micros()),
                };
                int(v.wrapping_add(offset.unwrap_or(0)))
            }
            Misc::DateUs => int(i64::from(now().subsec_micros())),
            Misc::Rand(range) => {
                let r = crate::sample::rand::next_u64() & 0xffff_ffff;
                int(match range {
                    // HAProxy multiplies as unsigned 64-bit: a negative
                    // range is a huge one, and the product wraps.
                    Some(n) => (r.wrapping_mul(*n as u64) >> 32) as i64,
                    None => r as i64,
                })
            }
            Misc::Uuid => Fetched::one(owned_text(crate::sample::rand::uuid_v4())),
            Misc::Hostname => Fetched::one(owned_text(hostname())),
            Misc::One => int(1),
        }
    }
}

/// The node name, as HAProxy's `hostname` (and `%H`) give it.
fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}
