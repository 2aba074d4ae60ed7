//! What a fetch gives: zero, one or several `sample::Value`s, held inline
//! up to one so that the common case (one header, the path, a cookie)
//! costs no heap; and the passage between the message's text, where each
//! wire byte is one char (`message.rs`), and a sample's bytes.

use std::borrow::Cow;

use crate::sample::{Type, Value};

/// The values of one fetch, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Values<'a> {
    #[default]
    None,
    One(Value<'a>),
    /// Two or more.
    Many(Vec<Value<'a>>),
}

impl<'a> Values<'a> {
    pub fn push(&mut self, v: Value<'a>) {
        *self = match std::mem::take(self) {
            Values::None => Values::One(v),
            Values::One(a) => Values::Many(vec![a, v]),
            Values::Many(mut m) => {
                m.push(v);
                Values::Many(m)
            }
        };
    }

    pub fn as_slice(&self) -> &[Value<'a>] {
        match self {
            Values::None => &[],
            Values::One(v) => std::slice::from_ref(v),
            Values::Many(m) => m,
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Value<'a>> {
        self.as_slice().iter()
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The last value, taken out (no new allocation).
    pub fn pop(&mut self) -> Option<Value<'a>> {
        let Values::Many(m) = self else {
            return match std::mem::take(self) {
                Values::One(v) => Some(v),
                _ => None,
            };
        };
        let last = m.pop();
        if m.len() < 2 {
            *self = m.pop().map_or(Values::None, Values::One);
        }
        last
    }
}

impl<'a> FromIterator<Value<'a>> for Values<'a> {
    fn from_iter<I: IntoIterator<Item = Value<'a>>>(it: I) -> Self {
        let mut it = it.into_iter();
        let Some(first) = it.next() else {
            return Values::None;
        };
        let Some(second) = it.next() else {
            return Values::One(first);
        };
        let mut m = Vec::with_capacity(2 + it.size_hint().0);
        m.push(first);
        m.push(second);
        m.extend(it);
        Values::Many(m)
    }
}

/// Owning iterator over [`Values`].
pub enum IntoIter<'a> {
    One(Option<Value<'a>>),
    Many(std::vec::IntoIter<Value<'a>>),
}

impl<'a> Iterator for IntoIter<'a> {
    type Item = Value<'a>;
    fn next(&mut self) -> Option<Value<'a>> {
        match self {
            IntoIter::One(v) => v.take(),
            IntoIter::Many(m) => m.next(),
        }
    }
}

impl<'a> IntoIterator for Values<'a> {
    type Item = Value<'a>;
    type IntoIter = IntoIter<'a>;
    fn into_iter(self) -> IntoIter<'a> {
        match self {
            Values::None => IntoIter::One(None),
            Values::One(v) => IntoIter::One(Some(v)),
            Values::Many(m) => IntoIter::Many(m.into_iter()),
        }
    }
}

/// What a fetch produced: values (maybe none), and whether waiting for more
/// payload could change that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched<'a> {
    pub values: Values<'a>,
    pub may_change: bool,
}

impl<'a> Fetched<'a> {
    pub fn some(values: Values<'a>) -> Self {
        Fetched {
            values,
            may_change: false,
        }
    }
    pub fn one(v: Value<'a>) -> Self {
        Fetched::some(Values::One(v))
    }
    pub fn none() -> Self {
        Fetched::default()
    }
    /// Only the values `f` keeps, changed as it says.
    pub fn filter_map(self, f: impl FnMut(Value<'a>) -> Option<Value<'a>>) -> Self {
        Fetched {
            values: self.values.into_iter().filter_map(f).collect(),
            may_change: self.may_change,
        }
    }
}

/// Text of the message (or of the configuration) as a string sample: its
/// chars are the wire bytes, so ASCII text is borrowed as it is; other
/// Latin-1 text is mapped back to its bytes, and text with a char past
/// U+00FF (not such a mapping) gives its UTF-8.
pub fn text(s: &str) -> Value<'_> {
    if s.is_ascii() || s.chars().any(|c| u32::from(c) > 0xff) {
        return Value::Str(Cow::Borrowed(s.as_bytes()));
    }
    Value::Str(Cow::Owned(s.chars().map(|c| c as u8).collect()))
}

/// [`text`] for a string computed by the fetch.
pub fn owned_text(s: String) -> Value<'static> {
    if s.is_ascii() || s.chars().any(|c| u32::from(c) > 0xff) {
        return Value::Str(Cow::Owned(s.into_bytes()));
    }
    Value::Str(Cow::Owned(s.chars().map(|c| c as u8).collect()))
}

/// A sample as the message's text (each byte one char), for log-format
/// strings, captures and stick keys: strings and binaries whole (a NUL
/// included), numbers in decimal, booleans as 1 or 0. Borrowed when the
/// sample is ASCII bytes.
pub fn to_text<'v>(v: &'v Value) -> Cow<'v, str> {
    match v {
        Value::Str(b) | Value::Bin(b) | Value::Meth(b) => match std::str::from_utf8(b) {
            Ok(s) if s.is_ascii() => Cow::Borrowed(s),
            _ => Cow::Owned(b.iter().map(|&c| char::from(c)).collect()),
        },
        Value::Bool(b) => Cow::Borrowed(if *b { "1" } else { "0" }),
        Value::Sint(n) => Cow::Owned(n.to_string()),
        Value::Ipv4(a) => Cow::Owned(a.to_string()),
        Value::Ipv6(a) => Cow::Owned(a.to_string()),
    }
}

/// The `fetch::Kind` of a value (a constant's).
pub fn kind_of(v: &Value) -> super::Kind {
    use super::Kind;
    match v.kind() {
        Type::Bool => Kind::Bool,
        Type::Sint => Kind::Int,
        Type::Ipv4 | Type::Ipv6 | Type::Addr => Kind::Ip,
        Type::Bin => Kind::Bin,
        _ => Kind::Str,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_is_inline_and_more_are_in_order() {
        let mut v = Values::None;
        assert!(v.is_empty());
        v.push(Value::Sint(1));
        assert!(matches!(v, Values::One(_)));
        v.push(Value::Sint(2));
        v.push(Value::Sint(3));
        assert_eq!(v.len(), 3);
        assert_eq!(v.pop(), Some(Value::Sint(3)));
        assert_eq!(v.pop(), Some(Value::Sint(2)));
        assert_eq!(v, Values::One(Value::Sint(1)));
        assert_eq!(v.pop(), Some(Value::Sint(1)));
        assert_eq!(v.pop(), None);
        let c: Values = (1..=2).map(Value::Sint).collect();
        assert_eq!(
            c.into_iter().collect::<Vec<_>>(),
            [Value::Sint(1), Value::Sint(2)]
        );
    }

    #[test]
    fn text_round_trips_latin1_and_borrows_ascii() {
        assert!(matches!(text("abc"), Value::Str(Cow::Borrowed(b"abc"))));
        assert_eq!(
            text("caf\u{e9}"),
            Value::Str(Cow::Owned(b"caf\xe9".to_vec()))
        );
        assert_eq!(to_text(&text("caf\u{e9}")), "caf\u{e9}");
        assert_eq!(to_text(&Value::Bin(Cow::Borrowed(b"a\0b"))), "a\0b");
        assert_eq!(to_text(&Value::Bool(true)), "1");
        assert_eq!(to_text(&Value::Sint(-4)), "-4");
    }
}
