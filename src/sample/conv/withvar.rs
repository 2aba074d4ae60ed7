//! Converters that read a variable: `concat([START],[VAR],[END])`,
//! `strcmp(VAR)`, `secure_memcmp(VAR)` and `hmac(ALG,KEYVAR)`, with
//! HAProxy 2.6's results (a missing variable: `concat` appends nothing,
//! the others give no sample).

use super::crypto::{self, Alg};
use crate::sample::vars::{self, VarRef, Vars};
use crate::sample::{Type, Value};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithVar {
    Concat(Vec<u8>, Option<VarRef>, Vec<u8>),
    Strcmp(VarRef),
    SecureMemcmp(VarRef),
    /// The key variable holds the base64 of the key.
    Hmac(Alg, VarRef),
}

fn var(conv: &str, pos: usize, s: &str) -> Result<VarRef, String> {
    VarRef::parse(s).map_err(|e| format!("converter '{conv}': {e} at position {pos}"))
}

pub fn parse(name: &str, a: &[String]) -> Option<Result<WithVar, String>> {
    let want = |min: usize, max: usize| super::want(name, a, min, max);
    let r = match name {
        "concat" => want(1, 3).and_then(|()| {
            let v = match a.get(1).filter(|s| !s.is_empty()) {
                Some(s) => Some(var(name, 2, s)?),
                None => None,
            };
            Ok(WithVar::Concat(
                a[0].as_bytes().to_vec(),
                v,
                a.get(2).map_or(Vec::new(), |s| s.as_bytes().to_vec()),
            ))
        }),
        "strcmp" => want(1, 1).and_then(|()| var(name, 1, &a[0]).map(WithVar::Strcmp)),
        "secure_memcmp" => want(1, 1).and_then(|()| var(name, 1, &a[0]).map(WithVar::SecureMemcmp)),
        "hmac" => want(2, 2).and_then(|()| {
            Ok(WithVar::Hmac(
                crypto::alg(name, &a[0])?,
                var(name, 2, &a[1])?,
            ))
        }),
        _ => return None,
    };
    Some(r)
}

impl WithVar {
    pub fn input(&self) -> Type {
        match self {
            WithVar::Concat(..) | WithVar::Strcmp(_) => Type::Str,
            WithVar::SecureMemcmp(_) | WithVar::Hmac(..) => Type::Bin,
        }
    }

    pub fn output(&self) -> Type {
        match self {
            WithVar::Concat(..) => Type::Str,
            WithVar::Strcmp(_) => Type::Sint,
            WithVar::SecureMemcmp(_) => Type::Bool,
            WithVar::Hmac(..) => Type::Bin,
        }
    }

    /// `s` is the sample already cast to [`WithVar::input`].
    pub fn apply<'a>(&self, s: Cow<'a, [u8]>, vs: Option<&Vars>) -> Option<Value<'a>> {
        let text_of = |r: &VarRef| -> Option<Vec<u8>> {
            vars::get(vs, r)?
                .cast(Type::Str)?
                .into_text()
                .map(Cow::into_owned)
        };
        match self {
            WithVar::Concat(start, v, end) => {
                let mut out = s.into_owned();
                out.extend_from_slice(start);
                if let Some(t) = v.as_ref().and_then(text_of) {
                    out.extend_from_slice(&t);
                }
                out.extend_from_slice(end);
                Some(Value::Str(Cow::Owned(out)))
            }
            WithVar::Strcmp(r) => {
                let other = text_of(r)?;
                Some(Value::Sint(strcmp(&s, &other)))
            }
            WithVar::SecureMemcmp(r) => {
                let other = vars::get(vs, r)?.cast(Type::Bin)?.into_text()?;
                let same = s.len() == other.len()
                    && s.iter()
                        .zip(other.iter())
                        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                        == 0;
                Some(Value::Bool(same))
            }
            WithVar::Hmac(alg, r) => {
                let key64 = text_of(r)?;
                let key = super::text::b64dec(&key64, false)?;
                Some(Value::Bin(Cow::Owned(crypto::hmac(*alg, &key, &s))))
            }
        }
    }
}

/// HAProxy's: `strncmp` over the common length (stopping at a NUL, and
/// giving the difference of the first differing bytes, as glibc), then
/// the shorter one is the smaller.
fn strcmp(a: &[u8], b: &[u8]) -> i64 {
    for (&x, &y) in a.iter().zip(b) {
        if x != y {
            return i64::from(x) - i64::from(y);
        }
        if x == 0 {
            return 0;
        }
    }
    match a.len().cmp(&b.len()) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}
