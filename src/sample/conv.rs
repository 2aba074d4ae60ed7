//! Converters (configuration manual §7.3.1): what follows a fetch after a
//! comma (`req.hdr(host),lower,crc32`). Each is parsed once at config check
//! with its arguments checked as HAProxy 2.6 checks them, has the input
//! type HAProxy casts the sample to before it runs and an output type, and
//! gives the same bytes as HAProxy's (sample.c, http_conv.c). A converter
//! that fails leaves no sample, as in HAProxy.

use super::hash;
use super::pattern::{self, Method, PatternSet};
use super::{args, Type, Value};
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

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
    Arith(Arith, i64),
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
}

/// `regsub(REGEX,SUBST[,FLAGS])`: the regex (compiled once; equal when
/// written the same), the replacement and the `g` flag.
#[derive(Debug, Clone)]
pub struct Regsub {
    re: regex::bytes::Regex,
    subst: Vec<u8>,
    global: bool,
}

impl PartialEq for Regsub {
    fn eq(&self, o: &Regsub) -> bool {
        self.re.as_str() == o.re.as_str() && self.subst == o.subst && self.global == o.global
    }
}
impl Eq for Regsub {}

/// A map converter's loaded file: its entries (values already of the
/// output type), its default, and the types it reads and gives.
#[derive(Debug)]
pub struct Map {
    pub file: String,
    set: PatternSet<Value<'static>>,
    default: Option<Value<'static>>,
    input: Type,
    output: Type,
}

/// Shared so that the runtime API can change a map every user sees;
/// equal when it is the same map.
#[derive(Debug, Clone)]
pub struct MapRef(pub Arc<Map>);

impl PartialEq for MapRef {
    fn eq(&self, o: &MapRef) -> bool {
        Arc::ptr_eq(&self.0, &o.0)
    }
}
impl Eq for MapRef {}

/// `http_date`'s input unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    S,
    Ms,
    Us,
}

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
    "concat",
    "strcmp",
    "secure_memcmp",
    "ltime",
    "utime",
    "sha2",
    "digest",
    "hmac",
    "set-var",
    "unset-var",
    "add_item",
    "be2dec",
    "be2hex",
    "debug",
    "language",
    "capture-req",
    "capture-res",
    "json_query",
    "in_table",
    "table_bytes_in_rate",
    "table_conn_cur",
    "table_http_req_rate",
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
                if a[0].contains('.') && args::int(&a[0]).is_err() {
                    return Err(format!(
                        "converter '{name}': a variable as operand ('{}') is not supported yet",
                        a[0]
                    ));
                }
                Conv::Arith(op, opt_int(0)?.unwrap_or(0))
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
            n if NOT_YET.contains(&n) => {
                return Err(format!("converter '{n}' is not supported yet"))
            }
            n => return Err(format!("unknown converter '{n}'")),
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
            Bytes(..) | Base64 | Ub64Enc | Hex | Hash(..) | Xxh(..) | Sha1 => Type::Bin,
            IpMask(..) => Type::Addr,
            Iif(..) => Type::Bool,
            Map(m) => m.0.input,
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
            Bytes(..) | B64Dec | Ub64Dec | Sha1 | Htonl => Type::Bin,
            IpMask(..) => Type::Ipv4,
            Bool | Not | Odd | Even => Type::Bool,
            Map(m) => m.0.output,
        }
    }

    /// Run it: the sample is cast to [`Conv::input`] first.
    pub fn apply<'a>(&'a self, v: Value<'a>) -> Option<Value<'a>> {
        let v = v.cast(self.input())?;
        if let Conv::Map(m) = self {
            let m = &m.0;
            return m.set.lookup(&v).or(m.default.as_ref()).map(borrow);
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
            Arith(op, b) => Value::Sint(arith(*op, n, *b)),
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
            Regsub(r) => str_of(regsub(r, &s)),
            _ => None,
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";
/// HAProxy's trash buffers are `tune.bufsize` long: 16 KiB by default.
const TRASH: usize = 16384;
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `len` bytes of `s` from `at`, still borrowed when `s` was.
fn sub(s: Cow<'_, [u8]>, at: usize, len: usize) -> Cow<'_, [u8]> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[at..at + len]),
        Cow::Owned(v) => Cow::Owned(v[at..at + len].to_vec()),
    }
}

fn mask4(s: &str) -> Option<Ipv4Addr> {
    if let Ok(bits) = s.parse::<u32>() {
        return (bits <= 32).then(|| Ipv4Addr::from(u32::MAX.checked_shl(32 - bits).unwrap_or(0)));
    }
    s.parse().ok()
}

fn mask6(s: &str) -> Option<Ipv6Addr> {
    let bits = s.parse::<u32>().ok().filter(|&b| b <= 128)?;
    Some(Ipv6Addr::from(
        u128::MAX.checked_shl(128 - bits).unwrap_or(0),
    ))
}

fn mask_v4(ip: Ipv4Addr, m: Ipv4Addr) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(ip) & u32::from(m))
}

/// Saturating arithmetic as HAProxy's (a division by zero gives the
/// largest integer, a modulo by zero 0).
fn arith(op: Arith, a: i64, b: i64) -> i64 {
    match op {
        Arith::Add => a.saturating_add(b),
        Arith::Sub => a.saturating_sub(b),
        Arith::Mul => a.saturating_mul(b),
        Arith::Div if b == 0 => i64::MAX,
        Arith::Div => a.checked_div(b).unwrap_or(i64::MAX),
        Arith::Mod if b == 0 => 0,
        Arith::Mod => a.checked_rem(b).unwrap_or(0),
        Arith::And => a & b,
        Arith::Or => a | b,
        Arith::Xor => a ^ b,
    }
}

/// `field` and `word` from the end (a negative index) are the same scans
/// over the string read backwards, the range mapped back.
fn nth_range(
    s: &[u8],
    index: i64,
    delims: &[u8],
    count: i64,
    word: bool,
) -> Option<(usize, usize)> {
    let n = s.len();
    let scan = if word { word_scan } else { field_scan };
    if index > 0 {
        scan(n, &|i| s[i], index, delims, count)
    } else {
        let (a, b) = scan(n, &|i| s[n - 1 - i], -index, delims, count)?;
        Some((n - b, n - a))
    }
}

/// `field`: field `index` (from 1) and the `count - 1` after it, the
/// delimiters between them included; None when there is no such field.
fn field_scan(
    n: usize,
    at: &dyn Fn(usize) -> u8,
    index: i64,
    delims: &[u8],
    mut count: i64,
) -> Option<(usize, usize)> {
    let (mut field, mut start) = (1i64, 0usize);
    for end in 0..n {
        if delims.contains(&at(end)) {
            if field == index {
                if count == 1 {
                    return Some((start, end));
                }
                count -= 1;
            } else {
                start = end + 1;
                field += 1;
            }
        }
    }
    (field == index).then_some((start, n))
}

/// `word`: as `field`, but runs of delimiters count as one and words are
/// never empty; a missing word is an empty string (HAProxy's quirk).
fn word_scan(
    n: usize,
    at: &dyn Fn(usize) -> u8,
    index: i64,
    delims: &[u8],
    mut count: i64,
) -> Option<(usize, usize)> {
    let (mut word, mut inword, mut start) = (0i64, false, 0usize);
    for end in 0..n {
        let sep = delims.contains(&at(end));
        if !inword {
            if !sep {
                if word != index {
                    word += 1;
                    start = end;
                }
                inword = true;
            }
        } else if sep {
            if word == index {
                if count == 1 {
                    return Some((start, end));
                }
                count -= 1;
            }
            inword = false;
        }
    }
    Some(if word == index { (start, n) } else { (0, 0) })
}

/// One UTF-8 sequence as HAProxy's `utf8_next` reads it (up to 6 bytes):
/// the code point, the bytes taken, and whether it is bad (broken
/// sequence or surrogate/non-character: `bad`) or overlong.
fn utf8_next(s: &[u8]) -> (u32, usize, bool, bool) {
    let b = s[0];
    let (mut c, dec) = match b {
        0x00..=0x7f => return (u32::from(b), 1, false, false),
        0xc0..=0xdf => (u32::from(b & 0x1f), 1),
        0xe0..=0xef => (u32::from(b & 0x0f), 2),
        0xf0..=0xf7 => (u32::from(b & 0x07), 3),
        0xf8..=0xfb => (u32::from(b & 0x03), 4),
        0xfc..=0xfd => (u32::from(b & 0x01), 5),
        _ => return (u32::from(b), 1, true, false),
    };
    if s.len() < dec + 1 {
        return (u32::from(b), 1, true, false);
    }
    for (i, &b) in s.iter().enumerate().take(dec + 1).skip(1) {
        if b & 0xc0 != 0x80 {
            return (c, i, true, false);
        }
        c = (c << 6) | u32::from(b & 0x3f);
    }
    let n = dec + 1;
    let overlong = (c <= 0x7f && n > 1)
        || ((0x80..=0x7ff).contains(&c) && n > 2)
        || ((0x800..=0xffff).contains(&c) && n > 3)
        || ((0x10000..=0x1f_ffff).contains(&c) && n > 4);
    let invrange = (0xd800..=0xdfff).contains(&c) || (0xfffe..=0xffff).contains(&c);
    (c, n, invrange, overlong)
}

fn json(s: &[u8], mode: JsonInput) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let c = match mode {
            JsonInput::Ascii => {
                i += 1;
                u32::from(s[i - 1])
            }
            JsonInput::Utf8 { skip } | JsonInput::Utf8P { skip } => {
                let (c, n, bad, overlong) = utf8_next(&s[i..]);
                i += n;
                let strict = matches!(mode, JsonInput::Utf8 { .. });
                if bad || (strict && overlong) || c > 0xffff {
                    if skip {
                        continue;
                    }
                    return None;
                }
                c
            }
        };
        match c {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5c => out.extend_from_slice(b"\\\\"),
            0x2f => out.extend_from_slice(b"\\/"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x20..=0x7e => out.push(c as u8),
            _ => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
        }
    }
    Some(out)
}

fn base64(s: &[u8], tab: &[u8; 64]) -> Vec<u8> {
    let url = tab[62] == b'-';
    let mut out = Vec::with_capacity(s.len().div_ceil(3) * 4);
    for ch in s.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let keep = ch.len() + 1;
        for k in 0..4 {
            if k < keep {
                out.push(tab[((n >> (18 - 6 * k)) & 63) as usize]);
            } else if !url {
                out.push(b'=');
            }
        }
    }
    out
}

/// Standard base64 wants padding and a multiple of 4; the URL form has no
/// padding (2 or 3 trailing characters stand for 1 or 2 bytes).
fn b64dec(s: &[u8], url: bool) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' if !url => 62,
            b'/' if !url => 63,
            b'-' if url => 62,
            b'_' if url => 63,
            _ => return None,
        } as u32)
    };
    let body: &[u8] = if url {
        if s.len() % 4 == 1 {
            return None;
        }
        s
    } else {
        if s.len() % 4 != 0 {
            return None;
        }
        // Padding only ends the last quad, and fills at most its last two.
        let pad = s.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        &s[..s.len() - pad]
    };
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    for ch in body.chunks(4) {
        if ch.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (k, &c) in ch.iter().enumerate() {
            n |= val(c)? << (18 - 6 * k);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..ch.len()]);
    }
    Some(out)
}

/// The `:` before a port: the last `:` not inside an IPv6 literal.
fn port_colon(s: &[u8]) -> Option<usize> {
    let i = s.iter().rposition(|&c| c == b':' || c == b']')?;
    (s[i] == b':').then_some(i)
}

/// HAProxy's `strl2ui`: the leading digits, wrapping as an unsigned 32-bit.
fn strl2ui(s: &[u8]) -> u32 {
    let mut n = 0u32;
    for &c in s {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n.wrapping_mul(10).wrapping_add(u32::from(d));
    }
    n
}

/// `url_dec`: `%XX` decoded (a bad escape fails), `+` a space in a form (or
/// after the first `?`), and the string ends at a NUL as in C.
fn url_dec(s: &[u8], mut in_form: bool) -> Option<Vec<u8>> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(if in_form { b' ' } else { b'+' }),
            b'%' => {
                let (h, l) = (hex(s.get(i + 1))?, hex(s.get(i + 2))?);
                out.push((h * 16 + l) as u8);
                i += 2;
            }
            c => {
                in_form |= c == b'?';
                out.push(c);
            }
        }
        i += 1;
    }
    Some(out)
}

/// `url_enc`: everything but RFC 3986's unreserved characters as `%XX`.
fn url_enc(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &c in s {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(c);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
        }
    }
    out
}

/// `http_date`: an IMF-fixdate (RFC 9110 §5.6.7) of a Unix time in `unit`,
/// with the fraction of a second after a dot for ms/us.
fn http_date(n: i64, unit: Unit) -> String {
    const DAY: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (secs, frac) = match unit {
        Unit::S => (n, None),
        Unit::Ms => (n / 1000, Some(n % 1000)),
        Unit::Us => (n / 1_000_000, Some(n % 1_000_000)),
    };
    // HAProxy keeps 55 bits so that the date is never negative.
    let t = secs & 0x007f_ffff_ffff_ffff;
    let (days, rem) = (t / 86400, t % 86400);
    let (y, m, d) = civil(days);
    let head = format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02}",
        DAY[(days % 7) as usize],
        d,
        MON[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    match frac {
        Some(f) => format!("{head}.{f} GMT"),
        None => format!("{head} GMT"),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
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
pub fn run_chain<'a>(chain: &'a [Conv], mut v: Value<'a>) -> Option<Value<'a>> {
    for c in chain {
        v = c.apply(v)?;
    }
    Some(v)
}

/// A view of a map's value that borrows from the map.
fn borrow<'a>(v: &'a Value<'static>) -> Value<'a> {
    match v {
        Value::Str(s) => Value::Str(Cow::Borrowed(s)),
        Value::Bin(s) => Value::Bin(Cow::Borrowed(s)),
        Value::Meth(s) => Value::Meth(Cow::Borrowed(s)),
        other => other.clone(),
    }
}

/// `map[_MATCH[_OUT]](FILE[,DEFAULT])`: the file read now, each value
/// parsed as the output type (HAProxy refuses a map whose value does not).
fn load_map(name: &str, a: &[String]) -> Result<Conv, String> {
    let (method, output) = match name.strip_prefix("map").unwrap_or("") {
        "" | "_str" => (Method::Str, Type::Str),
        rest => {
            let rest = rest.strip_prefix('_').unwrap_or(rest);
            // `map_MATCH` gives a string, `map_MATCH_int` / `_ip` those types.
            let (m, output) = match rest.split_once('_') {
                None => (rest, Type::Str),
                Some((m, "int")) => (m, Type::Sint),
                Some((m, "ip")) => (m, Type::Addr),
                Some(_) => return Err(format!("unknown converter '{name}'")),
            };
            let method = match m {
                "regm" => Method::Reg,
                m => Method::from_name(m)
                    .filter(|m| !matches!(m, Method::Bin | Method::Len))
                    .ok_or_else(|| format!("unknown converter '{name}'"))?,
            };
            if m == "regm" {
                return Err(format!("converter '{name}' is not supported yet"));
            }
            (method, output)
        }
    };
    want(name, a, 1, 2)?;
    let file = &a[0];
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("converter '{name}': failed to load map file '{file}': {e}"))?;
    let value = |v: &str| -> Result<Value<'static>, String> {
        match output {
            Type::Sint => args::int(v).map(Value::Sint),
            Type::Addr => Value::str(v.as_bytes().to_vec())
                .cast(Type::Addr)
                .ok_or_else(|| format!("'{v}' is not a valid IPv4 or IPv6 address")),
            _ => Ok(Value::str(v.as_bytes().to_vec())),
        }
    };
    let mut set = PatternSet::new(method, false);
    for (line, key, v) in pattern::read_map_file(&text) {
        let v = value(v).map_err(|e| format!("{file}:{line}: {e}"))?;
        set.add(key, v).map_err(|e| format!("{file}:{line}: {e}"))?;
    }
    let default = a
        .get(1)
        .map(|d| value(d))
        .transpose()
        .map_err(|e| format!("converter '{name}': default value: {e}"))?;
    Ok(Conv::Map(MapRef(Arc::new(Map {
        file: file.clone(),
        set,
        default,
        input: method.input(),
        output,
    }))))
}

/// `regsub`: HAProxy's loop: each match replaced, from where the last one
/// ended (`^` then no longer matches); an empty match at that point keeps
/// one byte and moves on. Without `g`, the first match only.
fn regsub(r: &Regsub, s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut start = 0;
    let mut first = true;
    loop {
        let caps = if r.global || first {
            r.re.captures_at(s, start)
        } else {
            None
        };
        let Some(caps) = caps else {
            out.extend_from_slice(&s[start..]);
            break;
        };
        let m = caps.get(0).map_or(start..start, |m| m.range());
        out.extend_from_slice(&s[start..m.start]);
        expand(&r.subst, &caps, &mut out);
        if start >= s.len() {
            break;
        }
        let mut end = m.end;
        if end == start {
            out.push(s[start]);
            end += 1;
        }
        start = end;
        first = false;
    }
    out
}

/// A replacement as HAProxy's `exp_replace`: `\N` is group N (nothing if it
/// did not take part), `\xHH` a byte, a backslash before anything else
/// that thing.
fn expand(subst: &[u8], caps: &regex::bytes::Captures<'_>, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < subst.len() {
        let c = subst[i];
        i += 1;
        if c != b'\\' || i >= subst.len() {
            out.push(c);
            continue;
        }
        let e = subst[i];
        i += 1;
        match e {
            b'0'..=b'9' => {
                if let Some(g) = caps.get(usize::from(e - b'0')) {
                    out.extend_from_slice(g.as_bytes());
                }
            }
            b'x' if i + 2 <= subst.len() => {
                let h = |c: u8| {
                    let c = c.to_ascii_uppercase().wrapping_sub(b'0');
                    if c > 9 {
                        c.wrapping_sub(b'A' - b'9' - 1)
                    } else {
                        c
                    }
                };
                out.push((h(subst[i]) << 4).wrapping_add(h(subst[i + 1])));
                i += 2;
            }
            other => out.push(other),
        }
    }
}
