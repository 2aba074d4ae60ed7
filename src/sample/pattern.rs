//! Pattern sets (HAProxy's pattern.c): what an ACL's values and a map's
//! keys are matched with. One set has one match method (`-m str`, `beg`,
//! `ip`...), its patterns in file order, and the indexes HAProxy keeps so
//! that big sets do not cost a scan: exact strings hashed, prefixes found
//! by length, addresses by longest prefix. Which pattern wins is HAProxy's:
//! the indexed ones first (the longest prefix, the first of equals), then
//! the first of the rest in order. Pattern and map files are read as
//! HAProxy reads them (`#` lines and blank lines skipped, leading blanks
//! stripped; a map line is a key, blanks, and the rest as its value).

use super::{read_int64, v6_to_v4, Value};
use fnv::FnvHashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A match method (`-m NAME`, or the one a fetch or map implies).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Found,
    Bool,
    Int,
    Ip,
    Bin,
    Len,
    Str,
    Beg,
    Sub,
    Dir,
    Dom,
    End,
    Reg,
}

impl Method {
    pub fn from_name(n: &str) -> Option<Method> {
        Some(match n {
            "found" => Method::Found,
            "bool" => Method::Bool,
            "int" => Method::Int,
            "ip" => Method::Ip,
            "bin" => Method::Bin,
            "len" => Method::Len,
            "str" => Method::Str,
            "beg" => Method::Beg,
            "sub" => Method::Sub,
            "dir" => Method::Dir,
            "dom" => Method::Dom,
            "end" => Method::End,
            "reg" => Method::Reg,
            _ => return None,
        })
    }

    /// HAProxy's name (`pat_match_names`), as `get map` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Method::Found => "found",
            Method::Bool => "bool",
            Method::Int => "int",
            Method::Ip => "ip",
            Method::Bin => "bin",
            Method::Len => "len",
            Method::Str => "str",
            Method::Beg => "beg",
            Method::Sub => "sub",
            Method::Dir => "dir",
            Method::Dom => "dom",
            Method::End => "end",
            Method::Reg => "reg",
        }
    }

    /// The sample type the method reads (the sample is cast to it).
    pub fn input(self) -> super::Type {
        use super::Type;
        match self {
            Method::Found => Type::Any,
            Method::Int | Method::Bool => Type::Sint,
            Method::Ip => Type::Addr,
            Method::Bin => Type::Bin,
            _ => Type::Str,
        }
    }
}

#[derive(Debug)]
enum Pat {
    Range(Option<i64>, Option<i64>),
    V4 { addr: u32, mask: u32 },
    V6 { addr: u128, bits: u8 },
    Bytes(Vec<u8>),
    Reg(regex::bytes::Regex),
}

/// Keys grouped by a length (prefix bits, prefix bytes), longest first:
/// a longest-prefix lookup tries one hash per length in use.
#[derive(Debug)]
struct ByLen<K> {
    by_len: Vec<(usize, FnvHashMap<K, usize>)>,
}

impl<K> Default for ByLen<K> {
    fn default() -> Self {
        ByLen { by_len: Vec::new() }
    }
}

impl<K: std::hash::Hash + Eq> ByLen<K> {
    /// The first pattern with this key keeps it.
    fn insert(&mut self, len: usize, key: K, at: usize) {
        let i = match self.by_len.iter().position(|(l, _)| *l == len) {
            Some(i) => i,
            None => {
                self.by_len.push((len, FnvHashMap::default()));
                self.by_len.sort_by_key(|e| std::cmp::Reverse(e.0));
                self.by_len.iter().position(|(l, _)| *l == len).unwrap_or(0)
            }
        };
        self.by_len[i].1.entry(key).or_insert(at);
    }

    /// The first hit of `probe` (given a length and its keys), longest first.
    fn longest(
        &self,
        probe: impl Fn(usize, &FnvHashMap<K, usize>) -> Option<usize>,
    ) -> Option<usize> {
        self.by_len.iter().find_map(|(len, m)| probe(*len, m))
    }
}

fn v4_prefix(a: u32, bits: u8) -> u32 {
    a & u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0)
}

fn v6_prefix(a: u128, bits: u8) -> u128 {
    a & u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0)
}

/// Longest-prefix match of an IPv4 / IPv6 address.
fn lpm4(t: &ByLen<u32>, a: u32) -> Option<usize> {
    t.longest(|bits, m| m.get(&v4_prefix(a, bits as u8)).copied())
}

fn lpm6(t: &ByLen<u128>, a: u128) -> Option<usize> {
    t.longest(|bits, m| m.get(&v6_prefix(a, bits as u8)).copied())
}

/// A set of patterns, each with a value of type `V` (a map's value; `()`
/// for an ACL's).
#[derive(Debug)]
pub struct PatternSet<V> {
    method: Method,
    icase: bool,
    /// `int` patterns may be dotted versions (`req.ssl_ver 3.1`).
    dotted: bool,
    pats: Vec<(Pat, V)>,
    /// Patterns no index covers, in order.
    list: Vec<usize>,
    exact: FnvHashMap<Vec<u8>, usize>,
    /// `beg`: prefixes by length.
    prefixes: ByLen<Vec<u8>>,
    /// Networks with contiguous masks, by prefix length.
    v4: ByLen<u32>,
    v6: ByLen<u128>,
    /// `int`: the single values (not ranges), so that a large `map_int`
    /// is not scanned; HAProxy's order (one list) is kept at lookup.
    ints: FnvHashMap<i64, usize>,
}

impl<V> PatternSet<V> {
    pub fn new(method: Method, icase: bool) -> PatternSet<V> {
        PatternSet {
            method,
            icase,
            dotted: false,
            pats: Vec::new(),
            list: Vec::new(),
            exact: FnvHashMap::default(),
            prefixes: ByLen::default(),
            v4: ByLen::default(),
            v6: ByLen::default(),
            ints: FnvHashMap::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.pats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pats.is_empty()
    }

    /// Integer patterns read as dotted versions (`3.1` is 0x30001).
    pub fn dotted(mut self) -> PatternSet<V> {
        self.dotted = true;
        self
    }

    pub fn method(&self) -> Method {
        self.method
    }

    pub fn icase(&self) -> bool {
        self.icase
    }

    /// Add one pattern (HAProxy's `pat_parse_*` messages on error).
    pub fn add(&mut self, text: &str, value: V) -> Result<(), String> {
        let pat = match self.method {
            Method::Found | Method::Bool => {
                return Err(format!(
                    "match method '{}' takes no pattern, got '{text}'",
                    self.method.name()
                ))
            }
            Method::Int | Method::Len => parse_range(text, self.dotted)?,
            Method::Ip => parse_ip(text)?,
            Method::Bin => Pat::Bytes(parse_hex(text)?),
            Method::Reg => Pat::Reg(
                // HAProxy's PCRE runs without UTF mode: classes and `-i`
                // are ASCII, `.` is one byte.
                regex::bytes::RegexBuilder::new(text)
                    .unicode(false)
                    .case_insensitive(self.icase)
                    .build()
                    .map_err(|e| {
                        let why = e.to_string();
                        let why = why.lines().last().unwrap_or("").trim().to_string();
                        let why = why.strip_prefix("error: ").unwrap_or(&why).to_string();
                        format!("regex '{text}' is invalid: {why}")
                    })?,
            ),
            _ => Pat::Bytes(text.as_bytes().to_vec()),
        };
        self.pats.push((pat, value));
        self.index(self.pats.len() - 1);
        Ok(())
    }

    /// Put pattern `at` in the index that covers it, or the list.
    fn index(&mut self, at: usize) {
        match (&self.pats[at].0, self.method, self.icase) {
            (Pat::Bytes(b), Method::Str, false) => {
                self.exact.entry(b.clone()).or_insert(at);
            }
            (Pat::Bytes(b), Method::Beg, false) => self.prefixes.insert(b.len(), b.clone(), at),
            (Pat::V4 { addr, mask }, _, _) if mask.leading_ones() + mask.trailing_zeros() == 32 => {
                let bits = mask.leading_ones() as u8;
                self.v4.insert(bits.into(), v4_prefix(*addr, bits), at);
            }
            (Pat::V6 { addr, bits }, _, _) => {
                self.v6.insert((*bits).into(), v6_prefix(*addr, *bits), at)
            }
            (Pat::Range(Some(lo), Some(hi)), Method::Int, _) if lo == hi => {
                self.ints.entry(*lo).or_insert(at);
            }
            _ => self.list.push(at),
        }
    }

    /// Keep the patterns whose value `keep` accepts, in order (the
    /// runtime API's `del`); the indexes are rebuilt.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        self.pats.retain(|(_, v)| keep(v));
        self.list.clear();
        self.exact.clear();
        self.prefixes = ByLen::default();
        self.v4 = ByLen::default();
        self.v6 = ByLen::default();
        self.ints.clear();
        for at in 0..self.pats.len() {
            self.index(at);
        }
    }

    /// Every pattern's value, in order (the runtime API's `set map`).
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.pats.iter_mut().map(|(_, v)| v)
    }

    /// The value of the pattern `v` matches, and whether an index (a
    /// tree, for HAProxy) found it rather than the list (HAProxy lists
    /// every `int` pattern).
    pub fn lookup_how(&self, v: &Value<'_>) -> Option<(&V, bool)> {
        let i = self.find(v)?;
        let tree = self.method != Method::Int && !self.list.contains(&i);
        Some((&self.pats[i].1, tree))
    }

    /// The value of the pattern `v` matches, HAProxy's choice among several.
    pub fn lookup(&self, v: &Value<'_>) -> Option<&V> {
        self.find(v).map(|i| &self.pats[i].1)
    }

    fn find(&self, v: &Value<'_>) -> Option<usize> {
        match (self.method, v) {
            (Method::Ip, Value::Ipv4(a)) => self.find_v4(u32::from(*a)),
            (Method::Ip, Value::Ipv6(a)) => {
                let x = u128::from(*a);
                lpm6(&self.v6, x)
                    .or_else(|| v4_in_v6(*a).and_then(|v4| lpm4(&self.v4, v4)))
                    .or_else(|| self.scan(v))
            }
            (Method::Int, Value::Sint(n)) => {
                // The first pattern in order wins: a range listed before
                // the single value found.
                let hit = self.ints.get(n).copied();
                let earlier = self.list.iter().copied();
                let earlier = earlier.take_while(|&i| hit.map_or(true, |h| i < h));
                let mut earlier = earlier.filter(|&i| self.matches(&self.pats[i].0, v));
                earlier.next().or(hit)
            }
            (_, Value::Str(s) | Value::Bin(s)) => {
                let s: &[u8] = s;
                if let Some(&i) = (!self.exact.is_empty())
                    .then(|| self.exact.get(s))
                    .flatten()
                {
                    return Some(i);
                }
                let by_prefix = self.prefixes.longest(|l, m| m.get(s.get(..l)?).copied());
                by_prefix.or_else(|| self.scan(v))
            }
            _ => None,
        }
    }

    fn find_v4(&self, a: u32) -> Option<usize> {
        lpm4(&self.v4, a)
            .or_else(|| lpm6(&self.v6, u128::from(Ipv4Addr::from(a).to_ipv6_mapped())))
            .or_else(|| self.scan(&Value::Ipv4(Ipv4Addr::from(a))))
    }

    /// The unindexed patterns, in order.
    fn scan(&self, v: &Value<'_>) -> Option<usize> {
        self.list
            .iter()
            .copied()
            .find(|&i| self.matches(&self.pats[i].0, v))
    }

    fn matches(&self, p: &Pat, v: &Value<'_>) -> bool {
        let eq = |a: &[u8], b: &[u8]| {
            if self.icase {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        match (p, v) {
            (Pat::Range(lo, hi), Value::Sint(n)) if self.method == Method::Int => {
                in_range(*lo, *hi, *n)
            }
            (Pat::Range(lo, hi), Value::Str(s) | Value::Bin(s)) => {
                in_range(*lo, *hi, s.len() as i64)
            }
            (Pat::V4 { addr, mask }, Value::Ipv4(a)) => (u32::from(*a) ^ addr) & mask == 0,
            (Pat::V4 { addr, mask }, Value::Ipv6(a)) => {
                v4_in_v6(*a).is_some_and(|x| (x ^ addr) & mask == 0)
            }
            (Pat::Reg(r), Value::Str(s) | Value::Bin(s)) => r.is_match(s),
            (Pat::Bytes(p), Value::Str(s) | Value::Bin(s)) => match self.method {
                Method::Str | Method::Bin => eq(p, s),
                Method::Beg => s.len() >= p.len() && eq(p, &s[..p.len()]),
                Method::End => s.len() >= p.len() && eq(p, &s[s.len() - p.len()..]),
                Method::Sub => p.is_empty() || s.windows(p.len()).any(|w| eq(p, w)),
                Method::Dir => match_word(s, p, b"/?", self.icase),
                Method::Dom => match_word(s, p, b"/?.:", self.icase),
                _ => false,
            },
            _ => false,
        }
    }
}

fn in_range(lo: Option<i64>, hi: Option<i64>, n: i64) -> bool {
    lo.map_or(true, |l| l <= n) && hi.map_or(true, |h| n <= h)
}

/// The IPv4 address an IPv6 one carries, in the forms HAProxy recognises:
/// ::ffff:a.b.c.d, ::a.b.c.d and 6to4 (2002:AABB:CCDD::).
fn v4_in_v6(a: Ipv6Addr) -> Option<u32> {
    if let Some(v4) = v6_to_v4(a) {
        return Some(u32::from(v4));
    }
    let s = a.segments();
    if s[..6] == [0; 6] {
        return Some((u32::from(s[6]) << 16) | u32::from(s[7]));
    }
    (s[0] == 0x2002).then(|| (u32::from(s[1]) << 16) | u32::from(s[2]))
}

/// `dir` and `dom`: the pattern (stripped of delimiters at both ends) as a
/// whole run between delimiters or the string's ends.
fn match_word(s: &[u8], p: &[u8], delims: &[u8], icase: bool) -> bool {
    let is_d = |c: &u8| delims.contains(c);
    let start = p.iter().position(|c| !is_d(c)).unwrap_or(p.len());
    let end = p.iter().rposition(|c| !is_d(c)).map_or(start, |i| i + 1);
    let p = &p[start..end];
    if p.len() > s.len() {
        return false;
    }
    let eq = |a: &[u8]| {
        if icase {
            a.eq_ignore_ascii_case(p)
        } else {
            a == p
        }
    };
    let mut may = true;
    for i in 0..=s.len() - p.len() {
        if is_d(&s[i]) {
            may = true;
            continue;
        }
        if !may {
            continue;
        }
        if eq(&s[i..i + p.len()]) && (i + p.len() == s.len() || is_d(&s[i + p.len()])) {
            return true;
        }
        may = false;
    }
    false
}

/// `N`, `N:M` (or `N-M`), `:M`, `N:`; with `dotted`, each number may
/// be a version `MAJOR.MINOR` (`MAJOR << 16 | MINOR`).
fn parse_range(t: &str, dotted: bool) -> Result<Pat, String> {
    let int = |s: &str| -> Option<i64> {
        let (v, used) = read_int64(s.as_bytes());
        (!s.is_empty() && used == s.len()).then_some(v)
    };
    let num = |s: &str| -> Option<i64> {
        match s.split_once('.') {
            Some((maj, min)) if dotted => {
                let p = |x: &str| int(x).filter(|n| (0..65536).contains(n));
                Some((p(maj)? << 16) | p(min)?)
            }
            _ if dotted => int(s)?.checked_mul(1 << 16),
            _ => int(s),
        }
    };
    let bad = || format!("'{t}' is not a valid number range");
    if t.is_empty() {
        return Err(bad());
    }
    let Some(sep) = t.find([':', '-']) else {
        let n = num(t).ok_or_else(|| format!("'{t}' is not a number"))?;
        return Ok(Pat::Range(Some(n), Some(n)));
    };
    let (a, b) = (&t[..sep], &t[sep + 1..]);
    match (a.is_empty(), b.is_empty()) {
        (true, false) => Ok(Pat::Range(None, Some(num(b).ok_or_else(bad)?))),
        (_, true) => Ok(Pat::Range(Some(num(a).ok_or_else(bad)?), None)),
        (false, false) => {
            let (lo, hi) = (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?);
            if lo > hi {
                return Err(bad());
            }
            Ok(Pat::Range(Some(lo), Some(hi)))
        }
    }
}

fn parse_ip(t: &str) -> Result<Pat, String> {
    let bad = || format!("'{t}' is not a valid IPv4 or IPv6 address");
    let (addr, mask) = match t.rsplit_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (t, None),
    };
    if let Ok(a) = addr.parse::<Ipv4Addr>() {
        let mask = match mask {
            None => u32::MAX,
            Some(m) if m.contains('.') => u32::from(m.parse::<Ipv4Addr>().map_err(|_| bad())?),
            Some(m) => {
                let bits: u32 = m.parse().ok().filter(|&b| b <= 32).ok_or_else(bad)?;
                u32::MAX.checked_shl(32 - bits).unwrap_or(0)
            }
        };
        return Ok(Pat::V4 {
            addr: u32::from(a),
            mask,
        });
    }
    let a: Ipv6Addr = addr.parse().map_err(|_| bad())?;
    let bits = match mask {
        None => 128,
        Some(m) => m.parse::<u8>().ok().filter(|&b| b <= 128).ok_or_else(bad)?,
    };
    Ok(Pat::V6 {
        addr: u128::from(a),
        bits,
    })
}

fn parse_hex(t: &str) -> Result<Vec<u8>, String> {
    if t.len() % 2 != 0 {
        return Err(format!("'{t}' is not a valid hexadecimal binary string"));
    }
    // On bytes: a multi-byte character must be an error, not a slice
    // inside it (found by the config fuzz target).
    let digit = |c: u8| (c as char).to_digit(16);
    t.as_bytes()
        .chunks(2)
        .map(|p| match (digit(p[0]), digit(p[1])) {
            (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
            _ => Err(format!("'{t}' is not a valid hexadecimal binary string")),
        })
        .collect()
}

/// The patterns of an ACL file (`-f FILE`): one per line, the whole line.
pub fn read_acl_file(text: &str) -> Vec<(usize, &str)> {
    lines(text)
        .filter_map(|(n, l)| (!l.is_empty()).then_some((n, l)))
        .collect()
}

/// The entries of a map file: (line number, key, value).
pub fn read_map_file(text: &str) -> Vec<(usize, &str, &str)> {
    lines(text)
        .filter(|(_, l)| !l.is_empty())
        .map(|(n, l)| {
            let k = l.find([' ', '\t']).unwrap_or(l.len());
            let v = l[k..]
                .trim_start_matches([' ', '\t'])
                .trim_end_matches([' ', '\t']);
            (n, &l[..k], v)
        })
        .collect()
}

/// Lines without `#` lines, leading blanks, or anything from a CR or LF.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#'))
        .map(|(i, l)| {
            let l = l.trim_start_matches([' ', '\t']);
            (i + 1, &l[..l.find('\r').unwrap_or(l.len())])
        })
}
