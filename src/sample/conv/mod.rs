//! Converters (configuration manual §7.3.1): what follows a fetch after a
//! comma (`req.hdr(host),lower,crc32`). Each is parsed once at config check
//! with its arguments checked as HAProxy 2.6 checks them, has the input
//! type HAProxy casts the sample to before it runs and an output type, and
//! gives the same bytes as HAProxy's (sample.c, http_conv.c). A converter
//! that fails leaves no sample, as in HAProxy.

mod crypto;
mod map;
mod num;
mod regsub;
mod table;
mod text;
mod withvar;

pub use map::{Map, MapRef};
pub use regsub::Regsub;
pub use table::{install as install_tables, take_tables, Found, Read, TableConv, Tables};

/// Base64 encoding as HAProxy's `base64`.
pub fn base64_encode(s: &[u8]) -> String {
    String::from_utf8_lossy(&text::base64(s, text::B64)).into_owned()
}

/// Base64 decoding as HAProxy's `b64dec` (and its Basic authentication).
pub fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    text::b64dec(s, false)
}

use super::hash;
use super::vars::{self, Conds, VarRef, Vars};
use super::{args, Type, Value};
use map::load_map;
use num::{arith, http_date, mask4, mask6, mask_v4};
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use text::{
    b64dec, base64, json, nth_range, port_colon, strl2ui, url_dec, url_enc, B64, B64URL, HEX,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFn {
    Crc32,
    Crc32c,
    Djb2,
    Sdbm,
    Wt6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Xxh {
    H32,
    H64,
    H3,
}

/// `json`'s input decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonInput {
    Ascii,
    /// Invalid UTF-8 fails the converter / is skipped (`utf8s`).
    Utf8 {
        skip: bool,
    },
    /// Permissive: overlong sequences pass (`utf8p`, `utf8ps`).
    Utf8P {
        skip: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
}

/// An arithmetic converter's operand: a variable if the argument names
/// one (HAProxy tries that first), else an integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    Int(i64),
    /// Read when the converter runs, cast to an integer; missing or not a
    /// number: the converter fails.
    Var(VarRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conv {
    Lower,
    Upper,
    Length,
    Bytes(i64, Option<i64>),
    /// `field(INDEX,DELIMS[,COUNT])` and `word(...)`.
    Field {
        index: i64,
        delims: Vec<u8>,
        count: i64,
        word: bool,
    },
    Json(JsonInput),
    Base64,
    B64Dec,
    Ub64Enc,
    Ub64Dec,
    Hex,
    Hex2i,
    /// crc32/crc32c/djb2/sdbm/wt6, with the `avalanche` argument.
    Hash(HashFn, bool),
    Xxh(Xxh, u64),
    Sha1,
    IpMask(Ipv4Addr, Option<Ipv6Addr>),
    Arith(Arith, Operand),
    Cpl,
    Neg,
    Bool,
    Not,
    Odd,
    Even,
    Iif(Vec<u8>, Vec<u8>),
    Htonl,
    CutCrlf,
    Ltrim(Vec<u8>),
    Rtrim(Vec<u8>),
    HostOnly,
    PortOnly,
    UrlDec(bool),
    UrlEnc,
    HttpDate(i64, Unit),
    /// `ltime(FORMAT[,OFFSET])` / `utime(...)`: strftime in local time / UTC.
    Time {
        format: String,
        offset: i64,
        local: bool,
    },
    Map(MapRef),
    Regsub(Regsub),
    /// `set-var(NAME[,COND...])`: stores the sample, passes it on.
    SetVar(VarRef, Conds),
    /// `sha2(BITS)`, `digest(ALG)`.
    Digest(crypto::Alg),
    /// `concat`, `strcmp`, `secure_memcmp`, `hmac`: they read a variable.
    WithVar(withvar::WithVar),
    /// `unset-var(NAME)`: passes the sample on.
    UnsetVar(VarRef),
    /// `in_table(T)`, `table_http_req_cnt(T)`...: a stick table's entry.
    Table(TableConv),
}

/// `http_date`'s input unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    S,
    Ms,
    Us,
}

/// The converters parsed here, beside `table::names` (for "did you mean").
const OWN: &[&str] = &[
    "add",
    "and",
    "b64dec",
    "base64",
    "bool",
    "bytes",
    "concat",
    "cpl",
    "crc32",
    "crc32c",
    "cut_crlf",
    "digest",
    "div",
    "djb2",
    "even",
    "field",
    "hex",
    "hex2i",
    "hmac",
    "host_only",
    "htonl",
    "http_date",
    "iif",
    "ipmask",
    "json",
    "length",
    "lower",
    "ltime",
    "ltrim",
    "mod",
    "mul",
    "neg",
    "not",
    "odd",
    "or",
    "port_only",
    "regsub",
    "rtrim",
    "sdbm",
    "secure_memcmp",
    "set-var",
    "sha1",
    "sha2",
    "strcmp",
    "sub",
    "ub64dec",
    "ub64enc",
    "unset-var",
    "upper",
    "url_dec",
    "url_enc",
    "utime",
    "word",
    "wt6",
    "xor",
    "xxh3",
    "xxh32",
    "xxh64",
];

/// HAProxy 2.6 converters pollux does not have yet: refused by name.
const NOT_YET: &[&str] = &[
    "regsub",
    "map",
    "map_str",
    "map_beg",
    "map_dir",
    "map_dom",
    "map_end",
    "map_int",
    "map_ip",
    "map_reg",
    "map_sub",
    "map_str_int",
    "ltime",
    "utime",
    "add_item",
    "be2dec",
    "be2hex",
    "debug",
    "language",
    "capture-req",
    "capture-res",
    "json_query",
    "ungrpc",
    "protobuf",
    "aes_gcm_dec",
    "jwt_verify",
    "jwt_header_query",
    "jwt_payload_query",
    "fix_is_valid",
    "fix_tag_value",
    "mqtt_is_valid",
    "mqtt_field_value",
    "x509_v_err_str",
];

fn want(name: &str, a: &[String], min: usize, max: usize) -> Result<(), String> {
    if a.len() < min {
        return Err(format!(
            "converter '{name}': missing arguments (got {}/{min})",
            a.len()
        ));
    }
    if a.len() > max {
        return Err(format!(
            "converter '{name}': end of arguments expected at position {}",
            max + 1
        ));
    }
    Ok(())
}

fn int_at(name: &str, a: &[String], i: usize) -> Result<Option<i64>, String> {
    match a.get(i) {
        None => Ok(None),
        Some(s) => args::int(s)
            .map(Some)
            .map_err(|e| format!("converter '{name}': {e} at position {}", i + 1)),
    }
}

impl Conv {
    /// The converter `name` with the arguments between its parentheses
    /// (already split by [`args::split`]).
    pub fn parse(name: &str, a: &[String]) -> Result<Conv, String> {
        let n0 = |c: Conv| want(name, a, 0, 0).map(|_| c);
        let opt_int = |i| int_at(name, a, i);
        Ok(match name {
            "lower" => n0(Conv::Lower)?,
            "upper" => n0(Conv::Upper)?,
            "length" => n0(Conv::Length)?,
            "bytes" => {
                want(name, a, 1, 2)?;
                Conv::Bytes(opt_int(0)?.unwrap_or(0), opt_int(1)?)
            }
            "field" | "word" => {
                want(name, a, 2, 3)?;
                let index = opt_int(0)?.unwrap_or(0);
                if index == 0 {
                    return Err(format!("converter '{name}': Unexpected value 0 for index"));
                }
                if a[1].is_empty() {
                    return Err(format!("converter '{name}': Empty separators list"));
                }
                Conv::Field {
                    index,
                    delims: a[1].as_bytes().to_vec(),
                    count: opt_int(2)?.unwrap_or(1),
                    word: name == "word",
                }
            }
            "json" => {
                want(name, a, 0, 1)?;
                Conv::Json(match a.first().map(String::as_str).unwrap_or("") {
                    "" | "ascii" => JsonInput::Ascii,
                    "utf8" => JsonInput::Utf8 { skip: false },
                    "utf8s" => JsonInput::Utf8 { skip: true },
                    "utf8p" => JsonInput::Utf8P { skip: false },
                    "utf8ps" => JsonInput::Utf8P { skip: true },
                    _ => {
                        return Err(format!(
                            "converter '{name}': Unexpected input code type. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'"
                        ))
                    }
                })
            }
            "base64" => n0(Conv::Base64)?,
            "b64dec" => n0(Conv::B64Dec)?,
            "ub64enc" => n0(Conv::Ub64Enc)?,
            "ub64dec" => n0(Conv::Ub64Dec)?,
            "hex" => n0(Conv::Hex)?,
            "hex2i" => n0(Conv::Hex2i)?,
            "crc32" | "crc32c" | "djb2" | "sdbm" | "wt6" => {
                want(name, a, 0, 1)?;
                let f = match name {
                    "crc32" => HashFn::Crc32,
                    "crc32c" => HashFn::Crc32c,
                    "djb2" => HashFn::Djb2,
                    "sdbm" => HashFn::Sdbm,
                    _ => HashFn::Wt6,
                };
                Conv::Hash(f, opt_int(0)?.unwrap_or(0) != 0)
            }
            "xxh32" | "xxh64" | "xxh3" => {
                want(name, a, 0, 1)?;
                let x = match name {
                    "xxh32" => Xxh::H32,
                    "xxh64" => Xxh::H64,
                    _ => Xxh::H3,
                };
                Conv::Xxh(x, opt_int(0)?.unwrap_or(0) as u64)
            }
            "sha1" => n0(Conv::Sha1)?,
            "sha2" => {
                want(name, a, 0, 1)?;
                Conv::Digest(crypto::sha2_bits(opt_int(0)?)?)
            }
            "digest" => {
                want(name, a, 1, 1)?;
                Conv::Digest(crypto::alg(name, &a[0])?)
            }
            _ if withvar::parse(name, a).is_some() => {
                Conv::WithVar(withvar::parse(name, a).expect("checked")?)
            }
            "ipmask" => {
                want(name, a, 1, 2)?;
                let v4 = mask4(&a[0])
                    .ok_or_else(|| format!("converter '{name}': failed to parse '{}' as type 'network mask' at position 1", a[0]))?;
                let v6 = match a.get(1) {
                    None => None,
                    Some(m) => Some(mask6(m).ok_or_else(|| {
                        format!("converter '{name}': failed to parse '{m}' as type 'IPv6 mask' at position 2")
                    })?),
                };
                Conv::IpMask(v4, v6)
            }
            "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" => {
                want(name, a, 1, 1)?;
                let op = match name {
                    "add" => Arith::Add,
                    "sub" => Arith::Sub,
                    "mul" => Arith::Mul,
                    "div" => Arith::Div,
                    "mod" => Arith::Mod,
                    "and" => Arith::And,
                    "or" => Arith::Or,
                    _ => Arith::Xor,
                };
                match VarRef::parse(&a[0]) {
                    Ok(r) => Conv::Arith(op, Operand::Var(r)),
                    Err(_) => Conv::Arith(op, Operand::Int(opt_int(0)?.unwrap_or(0))),
                }
            }
            "cpl" => n0(Conv::Cpl)?,
            "neg" => n0(Conv::Neg)?,
            "bool" => n0(Conv::Bool)?,
            "not" => n0(Conv::Not)?,
            "odd" => n0(Conv::Odd)?,
            "even" => n0(Conv::Even)?,
            "iif" => {
                want(name, a, 2, 2)?;
                Conv::Iif(a[0].as_bytes().to_vec(), a[1].as_bytes().to_vec())
            }
            "htonl" => n0(Conv::Htonl)?,
            "cut_crlf" => n0(Conv::CutCrlf)?,
            "ltrim" | "rtrim" => {
                want(name, a, 1, 1)?;
                let d = a[0].as_bytes().to_vec();
                if name == "ltrim" {
                    Conv::Ltrim(d)
                } else {
                    Conv::Rtrim(d)
                }
            }
            "host_only" => n0(Conv::HostOnly)?,
            "port_only" => n0(Conv::PortOnly)?,
            "url_dec" => {
                want(name, a, 0, 1)?;
                Conv::UrlDec(opt_int(0)?.unwrap_or(0) != 0)
            }
            "url_enc" => {
                want(name, a, 0, 1)?;
                match a.first().map(String::as_str).unwrap_or("") {
                    "" | "query" => Conv::UrlEnc,
                    _ => {
                        return Err(format!(
                            "converter '{name}': Unexpected encode type. Allowed value is 'query'"
                        ))
                    }
                }
            }
            "ltime" | "utime" => {
                want(name, a, 1, 2)?;
                Conv::Time {
                    format: a[0].clone(),
                    offset: opt_int(1)?.unwrap_or(0),
                    local: name == "ltime",
                }
            }
            "http_date" => {
                want(name, a, 0, 2)?;
                let unit = match a.get(1).map(String::as_str).unwrap_or("") {
                    "" | "s" => Unit::S,
                    "ms" => Unit::Ms,
                    "us" => Unit::Us,
                    u => {
                        return Err(format!(
                            "converter '{name}': Invalid unit '{u}': expects 's', 'ms' or 'us'"
                        ))
                    }
                };
                Conv::HttpDate(opt_int(0)?.unwrap_or(0), unit)
            }
            n if n == "map" || n.starts_with("map_") => load_map(n, a)?,
            "regsub" => {
                want(name, a, 2, 3)?;
                let (mut icase, mut global) = (false, false);
                for f in a.get(2).map_or("", String::as_str).chars() {
                    match f {
                        'i' => icase = true,
                        'g' => global = true,
                        c => {
                            return Err(format!(
                                "converter '{name}': invalid regex flag '{c}', only 'i' and 'g' are supported"
                            ))
                        }
                    }
                }
                let re = regex::bytes::RegexBuilder::new(&a[0])
                    .case_insensitive(icase)
                    .build()
                    .map_err(|e| format!("converter '{name}': regex '{}' is invalid: {e}", a[0]))?;
                Conv::Regsub(Regsub {
                    re,
                    subst: a[1].as_bytes().to_vec(),
                    global,
                })
            }
            "set-var" | "unset-var" => {
                let var = a
                    .first()
                    .ok_or_else(|| format!("converter '{name}': missing arguments (got 0/1)"))?;
                let var = VarRef::parse(var).map_err(|e| format!("converter '{name}': {e}"))?;
                if name == "unset-var" {
                    want(name, a, 1, 1)?;
                    Conv::UnsetVar(var)
                } else {
                    Conv::SetVar(
                        var,
                        Conds::parse(&a[1..]).map_err(|e| format!("converter '{name}': {e}"))?,
                    )
                }
            }
            n if table::known(n) => table::parse(n, a)?,
            n if NOT_YET.contains(&n) => {
                return Err(format!("converter '{n}' is not supported yet"))
            }
            n => {
                let names = OWN.iter().chain(NOT_YET).copied();
                let names = names.chain(table::names());
                return Err(format!(
                    "unknown converter '{n}'{}",
                    crate::config::hint(n, names)
                ));
            }
        })
    }

    /// The type HAProxy casts the sample to before this converter runs.
    pub fn input(&self) -> Type {
        use Conv::*;
        match self {
            Lower
            | Upper
            | Length
            | Field { .. }
            | Json(_)
            | B64Dec
            | Ub64Dec
            | Hex2i
            | CutCrlf
            | Ltrim(_)
            | Rtrim(_)
            | HostOnly
            | PortOnly
            | UrlDec(_)
            | UrlEnc
            | Regsub(_) => Type::Str,
            Bytes(..) | Base64 | Ub64Enc | Hex | Hash(..) | Xxh(..) | Sha1 | Digest(_) => Type::Bin,
            WithVar(w) => w.input(),
            IpMask(..) => Type::Addr,
            Iif(..) => Type::Bool,
            Map(m) => m.0.input,
            SetVar(..) | UnsetVar(_) | Table(_) => Type::Any,
            Arith(..)
            | Cpl
            | Neg
            | Bool
            | Not
            | Odd
            | Even
            | Htonl
            | HttpDate(..)
            | Time { .. } => Type::Sint,
        }
    }

    /// What it produces.
    pub fn output(&self) -> Type {
        use Conv::*;
        match self {
            Lower
            | Upper
            | Field { .. }
            | Json(_)
            | Base64
            | Ub64Enc
            | Hex
            | Iif(..)
            | CutCrlf
            | Ltrim(_)
            | Rtrim(_)
            | HostOnly
            | UrlDec(_)
            | UrlEnc
            | HttpDate(..)
            | Time { .. }
            | Regsub(_) => Type::Str,
            Length | Hex2i | Hash(..) | Xxh(..) | Arith(..) | Cpl | Neg | PortOnly => Type::Sint,
            Bytes(..) | B64Dec | Ub64Dec | Sha1 | Htonl | Digest(_) => Type::Bin,
            WithVar(w) => w.output(),
            IpMask(..) => Type::Ipv4,
            Bool | Not | Odd | Even => Type::Bool,
            Map(m) => m.0.output,
            Table(t) => t.output(),
            SetVar(..) | UnsetVar(_) => Type::Any,
        }
    }

    /// Run it: the sample is cast to [`Conv::input`] first.
    pub fn apply<'a>(&'a self, v: Value<'a>) -> Option<Value<'a>> {
        self.apply_in(v, None)
    }

    /// [`Conv::apply`] with a stream's variables (for `set-var` and
    /// `unset-var`; None: only `proc` variables exist).
    pub fn apply_in<'a>(&'a self, v: Value<'a>, vs: Option<&Vars>) -> Option<Value<'a>> {
        match self {
            Conv::SetVar(r, c) => {
                vars::set(vs, r, &v, *c);
                return Some(v);
            }
            Conv::UnsetVar(r) => {
                vars::unset(vs, r);
                return Some(v);
            }
            Conv::Table(t) => return t.apply(&v),
            Conv::WithVar(w) => {
                return match v.cast(w.input())? {
                    Value::Str(s) | Value::Bin(s) => w.apply(s, vs),
                    _ => None,
                };
            }
            Conv::Arith(op, Operand::Var(r)) => {
                let (Value::Sint(n), Value::Sint(b)) =
                    (v.cast(Type::Sint)?, vars::get(vs, r)?.cast(Type::Sint)?)
                else {
                    return None;
                };
                return Some(Value::Sint(arith(*op, n, b)));
            }
            _ => {}
        }
        let v = v.cast(self.input())?;
        if let Conv::Map(m) = self {
            return m.0.lookup(&v);
        }
        match v {
            Value::Str(s) | Value::Bin(s) => self.on_bytes(s),
            Value::Sint(n) => self.on_int(n),
            Value::Bool(b) => match self {
                Conv::Iif(t, f) => Some(Value::str(if b { t.clone() } else { f.clone() })),
                _ => None,
            },
            Value::Ipv4(ip) => match self {
                Conv::IpMask(m, _) => Some(Value::Ipv4(mask_v4(ip, *m))),
                _ => None,
            },
            Value::Ipv6(ip) => match (self, super::v6_to_v4(ip)) {
                (Conv::IpMask(m, _), Some(v4)) => Some(Value::Ipv4(mask_v4(v4, *m))),
                (Conv::IpMask(_, Some(m)), None) => {
                    Some(Value::Ipv6(Ipv6Addr::from(u128::from(ip) & u128::from(*m))))
                }
                _ => None,
            },
            Value::Meth(_) => None,
        }
    }

    fn on_int<'a>(&self, n: i64) -> Option<Value<'a>> {
        use Conv::*;
        Some(match self {
            Arith(op, Operand::Int(b)) => Value::Sint(arith(*op, n, *b)),
            Cpl => Value::Sint(!n),
            Neg => Value::Sint(if n == i64::MIN { i64::MAX } else { -n }),
            Bool => Value::Bool(n != 0),
            Not => Value::Bool(n == 0),
            Odd => Value::Bool(n & 1 == 1),
            Even => Value::Bool(n & 1 == 0),
            Htonl => Value::Bin((n as u32).to_be_bytes().to_vec().into()),
            HttpDate(off, unit) => Value::str(http_date(n.wrapping_add(*off), *unit).into_bytes()),
            Time {
                format,
                offset,
                local,
            } => {
                // HAProxy keeps 55 bits so that the date is never negative.
                let t = (n & 0x007f_ffff_ffff_ffff).wrapping_add(*offset);
                Value::str(crate::sys::clock::strftime(format, t, *local, TRASH)?)
            }
            _ => return None,
        })
    }

    fn on_bytes<'a>(&self, s: Cow<'a, [u8]>) -> Option<Value<'a>> {
        use Conv::*;
        let str_of = |v: Vec<u8>| Some(Value::Str(Cow::Owned(v)));
        match self {
            Lower => str_of(s.to_ascii_lowercase()),
            Upper => str_of(s.to_ascii_uppercase()),
            Length => Some(Value::Sint(s.len() as i64)),
            Bytes(off, len) => {
                // A negative offset is past any end, as in HAProxy's
                // unsigned comparison; a negative length cuts nothing.
                let off = usize::try_from(*off).unwrap_or(usize::MAX);
                let rest = s.len().saturating_sub(off);
                let take = len
                    .and_then(|l| usize::try_from(l).ok())
                    .map_or(rest, |l| l.min(rest));
                let at = off.min(s.len());
                Some(Value::Bin(sub(s, at, take)))
            }
            Field {
                index,
                delims,
                count,
                word,
            } => {
                let (a, b) = nth_range(&s, *index, delims, *count, *word)?;
                Some(Value::Str(sub(s, a, b - a)))
            }
            Json(mode) => str_of(json(&s, *mode)?),
            Base64 => str_of(base64(&s, B64)),
            Ub64Enc => str_of(base64(&s, B64URL)),
            B64Dec => Some(Value::Bin(b64dec(&s, false)?.into())),
            Ub64Dec => Some(Value::Bin(b64dec(&s, true)?.into())),
            Hex => str_of(
                s.iter()
                    .flat_map(|&c| [HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]])
                    .collect(),
            ),
            Hex2i => {
                let mut n: i64 = 0;
                for &c in s.iter() {
                    n = (n << 4).wrapping_add(i64::from((c as char).to_digit(16)?));
                }
                Some(Value::Sint(n))
            }
            Hash(f, avalanche) => {
                let h = match f {
                    HashFn::Crc32 => hash::crc32(&s),
                    HashFn::Crc32c => hash::crc32c(&s),
                    HashFn::Djb2 => hash::djb2(&s),
                    HashFn::Sdbm => hash::sdbm(&s),
                    HashFn::Wt6 => hash::wt6(&s),
                };
                Some(Value::Sint(i64::from(if *avalanche {
                    hash::full_hash(h)
                } else {
                    h
                })))
            }
            Xxh(x, seed) => Some(Value::Sint(match x {
                self::Xxh::H32 => i64::from(xxhash_rust::xxh32::xxh32(&s, *seed as u32)),
                self::Xxh::H64 => xxhash_rust::xxh64::xxh64(&s, *seed) as i64,
                self::Xxh::H3 => xxhash_rust::xxh3::xxh3_64_with_seed(&s, *seed) as i64,
            })),
            Sha1 => {
                use sha1::Digest;
                Some(Value::Bin(sha1::Sha1::digest(&s).to_vec().into()))
            }
            Digest(alg) => Some(Value::Bin(crypto::digest(*alg, &s).into())),
            CutCrlf => {
                let n = s
                    .iter()
                    .position(|&c| c == b'\r' || c == b'\n')
                    .unwrap_or(s.len());
                Some(Value::Str(sub(s, 0, n)))
            }
            Ltrim(d) => {
                let n = s.iter().position(|c| !d.contains(c)).unwrap_or(s.len());
                let len = s.len() - n;
                Some(Value::Str(sub(s, n, len)))
            }
            Rtrim(d) => {
                let n = s.iter().rposition(|c| !d.contains(c)).map_or(0, |i| i + 1);
                Some(Value::Str(sub(s, 0, n)))
            }
            HostOnly => {
                let end = match port_colon(&s) {
                    Some(i) => i,
                    None => s.len(),
                };
                str_of(s[..end].to_ascii_lowercase())
            }
            PortOnly => Some(Value::Sint(match port_colon(&s) {
                Some(i) => i64::from(strl2ui(&s[i + 1..])),
                None => 0,
            })),
            UrlDec(in_form) => str_of(url_dec(&s, *in_form)?),
            UrlEnc => str_of(url_enc(&s)),
            Regsub(r) => str_of(regsub::regsub(r, &s)),
            _ => None,
        }
    }
}

/// `len` bytes of `s` from `at`, still borrowed when `s` was.
fn sub(s: Cow<'_, [u8]>, at: usize, len: usize) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[at..at + len]),
        Cow::Owned(v) => Cow::Owned(v[at..at + len].to_vec()),
    }
}

/// A chain of converters as written after a fetch: `lower,field(2,/),crc32`.
/// Errors name the converter whole, arguments included.
pub fn parse_chain(text: &str) -> Result<Vec<Conv>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let name_end = b[i..]
            .iter()
            .position(|&c| c == b'(' || c == b',')
            .map_or(b.len(), |p| i + p);
        let name = &text[i..name_end];
        if name.is_empty() {
            return Err(format!("missing converter name in '{text}'"));
        }
        let (a, next) = if b.get(name_end) == Some(&b'(') {
            let close = super::args::closing_paren(b, name_end)
                .ok_or_else(|| format!("missing closing ')' after converter '{}'", &text[i..]))?;
            let a = args::split(&text[name_end + 1..close])
                .map_err(|e| format!("converter '{}': {e}", &text[i..=close]))?;
            (a, close + 1)
        } else {
            (Vec::new(), name_end)
        };
        out.push(Conv::parse(name, &a)?);
        match b.get(next) {
            None => break,
            Some(b',') => i = next + 1,
            Some(_) => {
                return Err(format!(
                    "converter '{}': unexpected text after its arguments",
                    &text[i..]
                ))
            }
        }
    }
    Ok(out)
}

/// Run a chain; None as soon as one converter leaves no sample.
pub fn run_chain<'a>(chain: &'a [Conv], v: Value<'a>) -> Option<Value<'a>> {
    run_chain_in(chain, v, None)
}

/// [`run_chain`] with a stream's variables.
pub fn run_chain_in<'a>(
    chain: &'a [Conv],
    mut v: Value<'a>,
    vs: Option<&Vars>,
) -> Option<Value<'a>> {
    for c in chain {
        v = c.apply_in(v, vs)?;
    }
    Some(v)
}

/// HAProxy's trash buffers are `tune.bufsize` long: 16 KiB by default.
const TRASH: usize = 16384;
