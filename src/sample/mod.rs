//! HAProxy's sample values (configuration manual §7.1 and §7.3): the types a
//! fetch or converter produces (bool, integer, IPv4, IPv6, string, binary,
//! method) and the casts between them, with HAProxy 2.6's cast table: what
//! converts, what does not, and how (an integer becomes an IPv4 address, a
//! string an integer by its leading digits, binary a string up to its first
//! NUL). Strings and binaries borrow from the message when they can.

pub mod args;
pub mod conv;
pub mod hash;
pub mod patref;
pub mod pattern;
pub mod rand;
#[cfg(test)]
mod tests;
pub mod vars;

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A sample's type, as HAProxy names them in errors (`smp_to_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Any,
    Bool,
    Sint,
    /// Either address family (a converter's input that takes both).
    Addr,
    Ipv4,
    Ipv6,
    Str,
    Bin,
    Meth,
}

impl Type {
    pub fn name(self) -> &'static str {
        match self {
            Type::Any => "any",
            Type::Bool => "bool",
            Type::Sint => "sint",
            Type::Addr => "addr",
            Type::Ipv4 => "ipv4",
            Type::Ipv6 => "ipv6",
            Type::Str => "str",
            Type::Bin => "bin",
            Type::Meth => "meth",
        }
    }

    /// Whether a value of this type may be cast to `to` (HAProxy refuses
    /// the rest at config check).
    pub fn casts_to(self, to: Type) -> bool {
        use Type::*;
        match (self, to) {
            (Any, _) | (_, Any) => true,
            (a, b) if a == b => true,
            (Bool, Sint | Str | Bin) => true,
            (Sint, Bool | Addr | Ipv4 | Ipv6 | Str | Bin) => true,
            (Ipv4, Sint | Addr | Ipv6 | Str | Bin) => true,
            (Ipv6, Addr | Ipv4 | Str | Bin) => true,
            (Addr, _) => false,
            (Str, _) => true,
            (Bin, Str | Meth) => true,
            (Meth, Str | Bin) => true,
            _ => false,
        }
    }
}

/// One sample. Strings, binaries and methods borrow from the message when
/// they are a slice of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Bool(bool),
    Sint(i64),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Str(Cow<'a, [u8]>),
    Bin(Cow<'a, [u8]>),
    Meth(Cow<'a, [u8]>),
}

impl<'a> Value<'a> {
    pub fn str(s: impl Into<Cow<'a, [u8]>>) -> Value<'a> {
        Value::Str(s.into())
    }

    pub fn kind(&self) -> Type {
        match self {
            Value::Bool(_) => Type::Bool,
            Value::Sint(_) => Type::Sint,
            Value::Ipv4(_) => Type::Ipv4,
            Value::Ipv6(_) => Type::Ipv6,
            Value::Str(_) => Type::Str,
            Value::Bin(_) => Type::Bin,
            Value::Meth(_) => Type::Meth,
        }
    }

    /// HAProxy's `sample_casts[from][to]`; None where HAProxy's cast fails
    /// (an empty string to an integer, text that is no address, an IPv6
    /// address outside ::ffff:0:0/96 to IPv4) or does not exist.
    pub fn cast(self, to: Type) -> Option<Value<'a>> {
        use Value::*;
        Some(match (self, to) {
            (v, Type::Any) => v,
            (v @ (Ipv4(_) | Ipv6(_)), Type::Addr) => v,
            (v, t) if v.kind() == t => v,
            (Bool(b), Type::Sint) => Sint(i64::from(b)),
            (Bool(b), Type::Str) => Value::str(if b { &b"1"[..] } else { b"0" }),
            (Bool(b), Type::Bin) => Bin(i64::from(b).to_be_bytes().to_vec().into()),
            (Sint(n), Type::Bool) => Bool(n != 0),
            (Sint(n), Type::Addr | Type::Ipv4) => Ipv4(Ipv4Addr::from(n as u32)),
            (Sint(n), Type::Ipv6) => Ipv6(Ipv4Addr::from(n as u32).to_ipv6_mapped()),
            (Sint(n), Type::Str) => Value::str(n.to_string().into_bytes()),
            (Sint(n), Type::Bin) => Bin(n.to_be_bytes().to_vec().into()),
            (Ipv4(a), Type::Sint) => Sint(i64::from(u32::from(a))),
            (Ipv4(a), Type::Ipv6) => Ipv6(a.to_ipv6_mapped()),
            (Ipv4(a), Type::Str) => Value::str(a.to_string().into_bytes()),
            (Ipv4(a), Type::Bin) => Bin(a.octets().to_vec().into()),
            (Ipv6(a), Type::Ipv4) => Ipv4(v6_to_v4(a)?),
            (Ipv6(a), Type::Str) => Value::str(ipv6_text(a).into_bytes()),
            (Ipv6(a), Type::Bin) => Bin(a.octets().to_vec().into()),
            (Str(s), Type::Bool) => Bool(str_to_int(&s)? != 0),
            (Str(s), Type::Sint) => Sint(str_to_int(&s)?),
            (Str(s), Type::Addr) => match parse_v4(&s) {
                Some(a) => Ipv4(a),
                None => Ipv6(parse_v6(&s)?),
            },
            (Str(s), Type::Ipv4) => Ipv4(parse_v4(&s)?),
            (Str(s), Type::Ipv6) => Ipv6(parse_v6(&s)?),
            (Str(s), Type::Bin) => Bin(s),
            (Str(s) | Bin(s), Type::Meth) => Meth(s),
            (Bin(s), Type::Str) => Str(until_nul(s)),
            (Meth(s), Type::Str) => Str(s),
            (Meth(s), Type::Bin) => Bin(s),
            _ => return None,
        })
    }

    /// The bytes of a string-like sample.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) | Value::Bin(s) | Value::Meth(s) => Some(s),
            _ => None,
        }
    }

    /// The sample as a log-format `%[...]` prints it: cast to a string.
    pub fn into_text(self) -> Option<Cow<'a, [u8]>> {
        match self.cast(Type::Str)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The same sample borrowing this one's bytes: no copy.
    pub fn borrowed(&self) -> Value<'_> {
        use Value::*;
        match self {
            Bool(b) => Bool(*b),
            Sint(n) => Sint(*n),
            Ipv4(a) => Ipv4(*a),
            Ipv6(a) => Ipv6(*a),
            Str(s) => Str(Cow::Borrowed(s)),
            Bin(s) => Bin(Cow::Borrowed(s)),
            Meth(s) => Meth(Cow::Borrowed(s)),
        }
    }

    /// An owned copy, for a sample that must outlive the message.
    pub fn into_owned(self) -> Value<'static> {
        use Value::*;
        match self {
            Bool(b) => Bool(b),
            Sint(n) => Sint(n),
            Ipv4(a) => Ipv4(a),
            Ipv6(a) => Ipv6(a),
            Str(s) => Str(Cow::Owned(s.into_owned())),
            Bin(s) => Bin(Cow::Owned(s.into_owned())),
            Meth(s) => Meth(Cow::Owned(s.into_owned())),
        }
    }
}

impl From<std::net::IpAddr> for Value<'static> {
    fn from(a: std::net::IpAddr) -> Self {
        match a {
            std::net::IpAddr::V4(a) => Value::Ipv4(a),
            std::net::IpAddr::V6(a) => Value::Ipv6(a),
        }
    }
}

/// A binary sample read as a string stops at its first NUL (`c_bin2str`).
fn until_nul(s: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    match s.iter().position(|&c| c == 0) {
        None => s,
        Some(i) => match s {
            Cow::Borrowed(b) => Cow::Borrowed(&b[..i]),
            Cow::Owned(mut v) => {
                v.truncate(i);
                Cow::Owned(v)
            }
        },
    }
}

/// HAProxy's `read_int64` over a whole string: an optional sign, then the
/// leading digits (none: 0); anything after them is ignored, and too many
/// digits saturate. An empty string is no integer.
pub fn str_to_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    Some(read_int64(s).0)
}

/// The value of the sign and leading digits of `s`, and how many bytes they
/// took.
pub fn read_int64(s: &[u8]) -> (i64, usize) {
    let (neg, start) = match s.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut n: u64 = 0;
    let mut i = start;
    while let Some(&c) = s.get(i) {
        if !c.is_ascii_digit() {
            break;
        }
        n = n.saturating_mul(10).saturating_add(u64::from(c - b'0'));
        i += 1;
    }
    let v = if neg {
        if n > 1 << 63 {
            i64::MIN
        } else {
            (n as i64).wrapping_neg()
        }
    } else {
        i64::try_from(n).unwrap_or(i64::MAX)
    };
    (v, i)
}

fn parse_v4(s: &[u8]) -> Option<Ipv4Addr> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

fn parse_v6(s: &[u8]) -> Option<Ipv6Addr> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// IPv4-mapped (::ffff:a.b.c.d) only, as HAProxy's `v6tov4`.
pub fn v6_to_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let o = a.octets();
    (o[..10] == [0; 10] && o[10..12] == [0xff, 0xff])
        .then(|| Ipv4Addr::new(o[12], o[13], o[14], o[15]))
}

/// An IPv6 address as glibc's `inet_ntop` writes it: RFC 5952, plus the
/// dotted form of the deprecated IPv4-compatible addresses (::a.b.c.d),
/// which Rust's formatter writes in hex.
pub fn ipv6_text(a: Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6] == [0; 6] && s[6] != 0 {
        let o = a.octets();
        return format!("::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    a.to_string()
}
