//! OpenSSL cipher strings, evaluated the way OpenSSL 3.0 does, so that the
//! `ciphers`/`ssl-default-*-ciphers` (TLS <= 1.2) and `ciphersuites` (TLS 1.3)
//! strings of HAProxy configurations select the same suites in the same order,
//! then split into what rustls can offer and what it cannot.
//!
//! The model (OpenSSL's ssl_ciph.c): every known suite sits in one ordered
//! list, inactive at first, pre-sorted by a fixed preference. Each item of the
//! string is a selector (a suite name, an alias, or `A+B` intersections) with
//! an operator: add (append the inactive matches at the end), `-` (deactivate
//! but keep their rank for a later add), `+` (move active matches to the end),
//! `!` (remove for good), and `@STRENGTH` / `@SECLEVEL=n` commands. Every move
//! is stable, so ties keep the previous order.

mod table;

pub use table::Suite;
use table::*;

/// OpenSSL's compiled-in security level (HAProxy does not change it).
pub const DEFAULT_SECLEVEL: u8 = 1;

/// The TLS 1.2 suites rustls 0.23 implements (ring and aws-lc-rs alike), IANA names.
pub const RUSTLS_TLS12: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// The TLS 1.3 suites rustls 0.23 implements (ring and aws-lc-rs alike).
pub const RUSTLS_TLS13: &[&str] = &[
    "TLS_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_CHACHA20_POLY1305_SHA256",
];

/// What a TLS <= 1.2 cipher string selects, in OpenSSL's preference order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherList {
    pub suites: Vec<&'static Suite>,
    /// The security level in force: the last `@SECLEVEL=n`, else the default.
    pub seclevel: u8,
}

/// A cipher string mapped onto rustls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Suites rustls can offer, in OpenSSL's order (IANA names).
    pub offered: Vec<&'static str>,
    /// Suites the string selects that rustls cannot offer (CBC, DHE, static
    /// RSA, PSK, CCM...), OpenSSL names for TLS <= 1.2, IANA names for 1.3.
    pub unavailable: Vec<&'static str>,
    pub seclevel: u8,
}

impl Selection {
    /// The warning a configuration check prints when some selected suites
    /// are lost, or None when rustls offers everything selected.
    pub fn warning(&self, keyword: &str, spec: &str) -> Option<String> {
        if self.unavailable.is_empty() {
            return None;
        }
        Some(format!(
            "{keyword} '{spec}': {} suites selected cannot be offered by rustls (CBC, DHE, static RSA, PSK, CCM...): {}; offering {}",
            self.unavailable.len(),
            self.unavailable.join(":"),
            if self.offered.is_empty() {
                "none".to_string()
            } else {
                self.offered.join(":")
            }
        ))
    }
}

/// The OpenSSL name of a suite given by its IANA code point (TLS 1.3
/// suites keep their IANA names in OpenSSL), as `ssl_fc_cipher` and `%sslc`
/// report it.
pub fn openssl_name(id: u16) -> Option<&'static str> {
    let tls13 = match id {
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        0x1304 => "TLS_AES_128_CCM_SHA256",
        0x1305 => "TLS_AES_128_CCM_8_SHA256",
        _ => return SUITES.iter().find(|s| s.id == id).map(|s| s.name),
    };
    Some(tls13)
}

/// Evaluates a TLS <= 1.2 cipher string (`SSL_CTX_set_cipher_list`).
pub fn evaluate(spec: &str) -> Result<CipherList, String> {
    // A C string ends at the first NUL.
    let spec = spec.split('\0').next().unwrap_or("");
    for suiteb in ["SUITEB128ONLY", "SUITEB128C2", "SUITEB128", "SUITEB192"] {
        if spec.starts_with(suiteb) {
            return Err(format!(
                "cipher string '{spec}': Suite B mode '{suiteb}' is not supported yet"
            ));
        }
    }
    let mut list = List::new();
    let mut seclevel = DEFAULT_SECLEVEL;
    let mut rest = spec.as_bytes();
    if let Some(after) = rest.strip_prefix(b"DEFAULT") {
        list.process(b"ALL:!COMPLEMENTOFDEFAULT:!eNULL", &mut seclevel)?;
        rest = after.strip_prefix(b":").unwrap_or(after);
    }
    list.process(rest, &mut seclevel)
        .map_err(|e| format!("cipher string '{spec}': {e}"))?;
    let suites: Vec<&'static Suite> = list
        .order
        .iter()
        .filter(|&&i| list.active[i])
        .map(|&i| &SUITES[i])
        .collect();
    if suites.is_empty() {
        return Err(format!(
            "cipher string '{spec}' selects no TLS <= 1.2 cipher suite (no cipher match)"
        ));
    }
    Ok(CipherList { suites, seclevel })
}

/// Evaluates a TLS <= 1.2 cipher string and splits the result into what
/// rustls offers and what it cannot. Suites the security level forbids are
/// in neither list (OpenSSL would not use them either).
pub fn tls12_suites(spec: &str) -> Result<Selection, String> {
    let list = evaluate(spec)?;
    let mut sel = Selection {
        offered: Vec::new(),
        unavailable: Vec::new(),
        seclevel: list.seclevel,
    };
    for s in list.suites {
        if !seclevel_allows(s, list.seclevel) {
            continue;
        }
        match RUSTLS_TLS12.iter().find(|&&n| n == s.iana) {
            Some(n) => sel.offered.push(n),
            None => sel.unavailable.push(s.name),
        }
    }
    Ok(sel)
}

/// Parses a TLS 1.3 `ciphersuites` string (`SSL_CTX_set_ciphersuites`):
/// colon-separated IANA names, blanks around them ignored, unknown names
/// skipped; an empty string disables TLS 1.3, a string naming nothing known
/// is an error. `seclevel` is the level of the matching cipher string.
pub fn tls13_suites(spec: &str, seclevel: u8) -> Result<Selection, String> {
    let mut sel = Selection {
        offered: Vec::new(),
        unavailable: Vec::new(),
        seclevel,
    };
    let mut known = 0;
    for item in spec
        .split(':')
        .map(|s| s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')))
    {
        let (name, allowed) = if let Some(&(n, bits)) = TLS13_SUITES.iter().find(|s| s.0 == item) {
            (n, seclevel == 0 || bits >= min_bits(seclevel))
        } else if let Some(s) = SUITES.iter().find(|s| s.iana == item) {
            // OpenSSL accepts a TLS <= 1.2 suite here too; useless in 1.3.
            (s.iana, seclevel_allows(s, seclevel))
        } else {
            continue;
        };
        known += 1;
        if !allowed {
            continue;
        }
        if let Some(n) = RUSTLS_TLS13.iter().find(|&&n| n == name) {
            if !sel.offered.contains(n) {
                sel.offered.push(n);
            }
        } else if !sel.unavailable.contains(&name) {
            sel.unavailable.push(name);
        }
    }
    if !spec.is_empty() && known == 0 {
        return Err(format!(
            "ciphersuites '{spec}' names no TLS 1.3 cipher suite (no cipher match)"
        ));
    }
    Ok(sel)
}

/// Minimum symmetric strength per security level.
fn min_bits(level: u8) -> u16 {
    match level {
        0 => 0,
        1 => 80,
        2 => 112,
        3 => 128,
        4 => 192,
        _ => 256,
    }
}

/// OpenSSL's default security callback applied to a TLS <= 1.2 suite.
pub fn seclevel_allows(s: &Suite, level: u8) -> bool {
    if level == 0 {
        return true;
    }
    let minbits = min_bits(level);
    !(s.strength_bits < minbits
        || s.auth & A_NULL != 0
        || s.mac & M_MD5 != 0
        || (minbits > 160 && s.mac & M_SHA1 != 0)
        || (level >= 3 && s.kx & (K_DHE | K_ECDHE | K_DHEPSK | K_ECDHEPSK) == 0))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Kill,
    Del,
    Ord,
    Bump,
}

/// A selector: zero fields do not constrain; `bits` alone selects by strength.
#[derive(Default, Clone, Copy)]
struct Pattern {
    id: u16,
    kx: u32,
    auth: u32,
    enc: u32,
    mac: u32,
    min_tls: u16,
    strength: u32,
    bits: Option<u16>,
}

impl Pattern {
    fn matches(&self, s: &Suite) -> bool {
        if let Some(b) = self.bits {
            return s.strength_bits == b;
        }
        (self.id == 0 || self.id == s.id)
            && (self.kx == 0 || self.kx & s.kx != 0)
            && (self.auth == 0 || self.auth & s.auth != 0)
            && (self.enc == 0 || self.enc & s.enc != 0)
            && (self.mac == 0 || self.mac & s.mac != 0)
            && (self.min_tls == 0 || self.min_tls == s.min_tls)
            && (self.strength & S_STRONG_MASK == 0
                || self.strength & S_STRONG_MASK & s.strength != 0)
            && (self.strength & S_DEFAULT_MASK == 0
                || self.strength & S_DEFAULT_MASK & s.strength != 0)
    }
}

/// A fixed selector of the default ordering.
fn sel(kx: u32, auth: u32, enc: u32, mac: u32, min_tls: u16) -> Pattern {
    Pattern {
        kx,
        auth,
        enc,
        mac,
        min_tls,
        ..Default::default()
    }
}

/// The ordered suite list (indexes into SUITES) with activity flags.
struct List {
    order: Vec<usize>,
    active: Vec<bool>,
}

impl List {
    /// All suites, inactive, in OpenSSL's default preference order.
    fn new() -> List {
        let mut l = List {
            order: (0..SUITES.len()).collect(),
            active: vec![false; SUITES.len()],
        };
        let all = Pattern::default();
        // ECDHE first (ECDSA before RSA), then AES-GCM, ChaCha20, other AES.
        l.apply(&sel(K_ECDHE, A_ECDSA, 0, 0, 0), Op::Add);
        l.apply(&sel(K_ECDHE, 0, 0, 0, 0), Op::Add);
        l.apply(&sel(K_ECDHE, 0, 0, 0, 0), Op::Del);
        l.apply(&sel(0, 0, E_AESGCM, 0, 0), Op::Add);
        l.apply(&sel(0, 0, E_CHACHA20POLY1305, 0, 0), Op::Add);
        l.apply(&sel(0, 0, E_AES ^ E_AESGCM, 0, 0), Op::Add);
        l.apply(&all, Op::Add);
        // MD5, anonymous, static RSA and plain PSK to the end.
        l.apply(&sel(0, 0, 0, M_MD5, 0), Op::Ord);
        l.apply(&sel(0, A_NULL, 0, 0, 0), Op::Ord);
        l.apply(&sel(K_RSA, 0, 0, 0, 0), Op::Ord);
        l.apply(&sel(K_PSK, 0, 0, 0, 0), Op::Ord);
        l.strength_sort();
        // TLS 1.2 first, then (EC)DHE+AEAD > (EC)DHE > AEAD > rest.
        l.apply(&sel(0, 0, 0, 0, V_TLS12), Op::Bump);
        l.apply(&sel(0, 0, 0, M_AEAD, 0), Op::Bump);
        l.apply(&sel(K_DHE | K_ECDHE, 0, 0, 0, 0), Op::Bump);
        l.apply(&sel(K_DHE | K_ECDHE, 0, 0, M_AEAD, 0), Op::Bump);
        l.apply(&all, Op::Del);
        l
    }

    /// One rule, as a stable partition of the list.
    fn apply(&mut self, p: &Pattern, op: Op) {
        let active = &mut self.active;
        let hit = |i: usize, active: &[bool]| {
            p.matches(&SUITES[i])
                && match op {
                    Op::Add => !active[i],
                    Op::Kill => true,
                    Op::Del | Op::Ord | Op::Bump => active[i],
                }
        };
        let (moved, kept): (Vec<usize>, Vec<usize>) =
            self.order.iter().partition(|&&i| hit(i, active));
        for &i in &moved {
            active[i] = matches!(op, Op::Add | Op::Ord | Op::Bump);
        }
        self.order = match op {
            Op::Add | Op::Ord => [kept, moved].concat(),
            Op::Del | Op::Bump => [moved, kept].concat(),
            Op::Kill => kept,
        };
    }

    /// `@STRENGTH`: active suites by decreasing strength, ties kept in order.
    fn strength_sort(&mut self) {
        let mut bits: Vec<u16> = self
            .order
            .iter()
            .filter(|&&i| self.active[i])
            .map(|&i| SUITES[i].strength_bits)
            .collect();
        bits.sort_unstable_by(|a, b| b.cmp(a));
        bits.dedup();
        for b in bits {
            let p = Pattern {
                bits: Some(b),
                ..Default::default()
            };
            self.apply(&p, Op::Ord);
        }
    }

    /// Runs a rule string (ssl_cipher_process_rulestr).
    fn process(&mut self, rule: &[u8], seclevel: &mut u8) -> Result<(), String> {
        let is_sep = |c: u8| matches!(c, b':' | b' ' | b';' | b',');
        let is_word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'=');
        let mut l = 0;
        while l < rule.len() {
            let ch = rule[l];
            let (op, special) = match ch {
                b'-' => (Op::Del, false),
                b'+' => (Op::Ord, false),
                b'!' => (Op::Kill, false),
                b'@' => (Op::Add, true),
                _ => (Op::Add, false),
            };
            if ch == b'-' || ch == b'+' || ch == b'!' || ch == b'@' || is_sep(ch) {
                l += 1;
            }
            if is_sep(ch) {
                continue;
            }
            let mut p = Pattern::default();
            let mut found = false;
            loop {
                let start = l;
                while l < rule.len() && is_word(rule[l]) {
                    l += 1;
                }
                if l == start {
                    return Err(match rule.get(l) {
                        Some(&c) if c.is_ascii_graphic() => {
                            format!("unexpected character '{}' (invalid command)", c as char)
                        }
                        Some(_) => "unexpected character (invalid command)".to_string(),
                        None => "missing name at the end (invalid command)".to_string(),
                    });
                }
                let word = &rule[start..l];
                if special {
                    self.special(word, seclevel)?;
                    break;
                }
                let multi = rule.get(l) == Some(&b'+');
                if multi {
                    l += 1;
                }
                found = lookup(word).is_some_and(|w| p.intersect(&w));
                if !found || !multi {
                    break;
                }
            }
            if found {
                self.apply(&p, op);
            } else {
                while l < rule.len() && !is_sep(rule[l]) {
                    l += 1;
                }
            }
        }
        Ok(())
    }

    fn special(&mut self, word: &[u8], seclevel: &mut u8) -> Result<(), String> {
        if word == b"STRENGTH" {
            self.strength_sort();
            return Ok(());
        }
        if let Some(&[d]) = word.strip_prefix(b"SECLEVEL=") {
            if d.is_ascii_digit() && d <= b'5' {
                *seclevel = d - b'0';
                return Ok(());
            }
        }
        Err(format!(
            "unknown command '@{}' (@STRENGTH or @SECLEVEL=0..5 expected)",
            String::from_utf8_lossy(word)
        ))
    }
}

/// A word of a rule: a suite name (then it selects that suite) or an alias.
struct Word {
    pat: Pattern,
    /// Suite names carry no protocol constraint, aliases may.
    suite: bool,
}

fn lookup(word: &[u8]) -> Option<Word> {
    if let Some(s) = SUITES.iter().find(|s| s.name.as_bytes() == word) {
        let pat = Pattern {
            id: s.id,
            kx: s.kx,
            auth: s.auth,
            enc: s.enc,
            mac: s.mac,
            min_tls: 0,
            strength: s.strength,
            bits: None,
        };
        return Some(Word { pat, suite: true });
    }
    ALIASES
        .iter()
        .find(|a| a.name.as_bytes() == word)
        .map(|a| Word {
            pat: Pattern {
                id: 0,
                kx: a.kx,
                auth: a.auth,
                enc: a.enc,
                mac: a.mac,
                min_tls: a.min_tls,
                strength: a.strength,
                bits: None,
            },
            suite: false,
        })
}

impl Pattern {
    /// Narrows the pattern by one more `+` part; false when the intersection
    /// is empty (OpenSSL then skips the whole item).
    fn intersect(&mut self, w: &Word) -> bool {
        let n = &w.pat;
        for (mine, theirs) in [
            (&mut self.kx, n.kx),
            (&mut self.auth, n.auth),
            (&mut self.enc, n.enc),
            (&mut self.mac, n.mac),
        ] {
            if theirs != 0 {
                *mine = if *mine != 0 { *mine & theirs } else { theirs };
                if *mine == 0 {
                    return false;
                }
            }
        }
        // Quirk kept from OpenSSL: a first strength class replaces the whole
        // strength word, dropping an earlier COMPLEMENTOFDEFAULT.
        if n.strength & S_STRONG_MASK != 0 {
            if self.strength & S_STRONG_MASK != 0 {
                self.strength &= (n.strength & S_STRONG_MASK) | !S_STRONG_MASK;
                if self.strength & S_STRONG_MASK == 0 {
                    return false;
                }
            } else {
                self.strength = n.strength & S_STRONG_MASK;
            }
        }
        if n.strength & S_DEFAULT_MASK != 0 {
            if self.strength & S_DEFAULT_MASK != 0 {
                self.strength &= (n.strength & S_DEFAULT_MASK) | !S_DEFAULT_MASK;
                if self.strength & S_DEFAULT_MASK == 0 {
                    return false;
                }
            } else {
                self.strength |= n.strength & S_DEFAULT_MASK;
            }
        }
        // Only the last part's suite id counts; the version constraint comes
        // from aliases only.
        self.id = n.id;
        if !w.suite && n.min_tls != 0 {
            if self.min_tls != 0 && self.min_tls != n.min_tls {
                return false;
            }
            self.min_tls = n.min_tls;
        }
        true
    }
}

#[cfg(test)]
mod tests;
