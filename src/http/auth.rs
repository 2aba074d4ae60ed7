//! Userlists (`userlist` sections) and HTTP Basic authentication against
//! them: the `http_auth`, `http_auth_group`, `http_auth_type`,
//! `http_auth_user` and `http_auth_pass` fetches and `http-request auth`.
//!
//! Passwords are `insecure-password` text or crypt(3) SHA-256 (`$5$`) and
//! SHA-512 (`$6$`) hashes, checked in Rust (RustCrypto's `sha-crypt`) the
//! way glibc's crypt computes them, then compared whole, as HAProxy does.
//!
//! A fetch may name a userlist defined further down the configuration, as
//! HAProxy allows: it holds a [`UserlistRef`] filled in when the section is
//! read; the config loader refuses a name never defined.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::message::{Headers, Request};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// `user NAME` alone: no password ever matches.
    None,
    /// `insecure-password TEXT`.
    Plain(String),
    /// `password $5$...` / `$6$...`: the whole crypt(3) string.
    Sha256(String),
    Sha512(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: Password,
    /// Indexes into [`Userlist::groups`].
    pub groups: Vec<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Userlist {
    pub name: String,
    pub groups: Vec<String>,
    pub users: Vec<User>,
}

impl Userlist {
    /// The user these credentials authenticate, if any.
    pub fn check(&self, user: &str, pass: &str) -> Option<&User> {
        let u = self.users.iter().find(|u| u.name == user)?;
        let ok = match &u.password {
            Password::None => false,
            Password::Plain(p) => p == pass,
            Password::Sha256(h) | Password::Sha512(h) => {
                crypt(pass, h).is_some_and(|c| same(c.as_bytes(), h.as_bytes()))
            }
        };
        ok.then_some(u)
    }
}

/// Equality that takes as long for every mismatch position.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The parts of a `$5$`/`$6$` string: (is SHA-512, rounds given, salt).
fn parse_sha_crypt(h: &str) -> Result<(bool, Option<usize>, &str), String> {
    let (sha512, rest) = if let Some(r) = h.strip_prefix("$6$") {
        (true, r)
    } else if let Some(r) = h.strip_prefix("$5$") {
        (false, r)
    } else {
        return Err(format!(
            "password hash '{}' is not supported yet: pollux checks crypt(3) SHA-256 ('$5$') \
             and SHA-512 ('$6$') hashes (or use insecure-password)",
            scheme(h)
        ));
    };
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, rest) = r.split_once('$').ok_or("missing '$' after 'rounds=N'")?;
            let n: usize = n
                .parse()
                .map_err(|_| format!("invalid rounds '{n}' in password hash"))?;
            if !(sha_crypt::ROUNDS_MIN..=sha_crypt::ROUNDS_MAX).contains(&n) {
                // glibc (libxcrypt) refuses these: nothing would ever match.
                return Err(format!(
                    "password hash rounds={n} is out of range ({}..{})",
                    sha_crypt::ROUNDS_MIN,
                    sha_crypt::ROUNDS_MAX
                ));
            }
            (Some(n), rest)
        }
        None => (None, rest),
    };
    let salt = rest.split('$').next().unwrap_or("");
    Ok((sha512, rounds, salt))
}

/// `$6$`, `$1$`, `$2b$`..., or "DES" for a hash without a `$` scheme.
fn scheme(h: &str) -> String {
    match h.strip_prefix('$').and_then(|r| r.split_once('$')) {
        Some((id, _)) => format!("${id}$"),
        None => "DES".to_string(),
    }
}

/// What crypt(3) gives for `pass` with the settings of `hash`.
fn crypt(pass: &str, hash: &str) -> Option<String> {
    let (sha512, rounds, salt) = parse_sha_crypt(hash).ok()?;
    // At most 16 salt characters count, as in glibc.
    let salt = &salt[..salt.len().min(16)];
    let n = rounds.unwrap_or(sha_crypt::ROUNDS_DEFAULT);
    let b64 = if sha512 {
        let p = sha_crypt::Sha512Params::new(n).ok()?;
        sha_crypt::sha512_crypt_b64(pass.as_bytes(), salt.as_bytes(), &p).ok()?
    } else {
        let p = sha_crypt::Sha256Params::new(n).ok()?;
        sha_crypt::sha256_crypt_b64(pass.as_bytes(), salt.as_bytes(), &p).ok()?
    };
    let id = if sha512 { 6 } else { 5 };
    Some(match rounds {
        Some(n) => format!("${id}$rounds={n}${salt}${b64}"),
        None => format!("${id}${salt}${b64}"),
    })
}

/// The password of a `user ... password HASH` line, checked now.
pub fn hashed(h: &str) -> Result<Password, String> {
    let (sha512, _, _) = parse_sha_crypt(h)?;
    Ok(if sha512 {
        Password::Sha512(h.to_string())
    } else {
        Password::Sha256(h.to_string())
    })
}

/// What the `Authorization` header carries, read as HAProxy 2.6 reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// User and password.
    Basic(String, String),
    /// The token.
    Bearer(String),
}

/// The first value of the first `Authorization` header: a scheme, spaces,
/// then the data. As HAProxy, the scheme matches when it is a
/// case-insensitive prefix of "Basic" (or "Bearer"); Basic data is base64
/// of `user:password`, each cut at a NUL byte.
pub fn credentials(r: &Request) -> Option<Credentials> {
    let line = r.header_values("authorization").next()?;
    let v = line
        .split(',')
        .next()
        .unwrap_or("")
        .trim_matches([' ', '\t']);
    let sp = v.find(' ').filter(|&i| i > 0)?;
    let (scheme, data) = (&v[..sp], v[sp..].trim_start_matches(' '));
    let prefix_of = |word: &str| {
        scheme.len() <= word.len() && word[..scheme.len()].eq_ignore_ascii_case(scheme)
    };
    if prefix_of("Basic") {
        let raw: Vec<u8> = data.chars().map(|c| c as u32 as u8).collect();
        let mut d = crate::sample::conv::base64_decode(&raw)?;
        if let Some(nul) = d.iter().position(|&c| c == 0) {
            d.truncate(nul);
        }
        let colon = d.iter().position(|&c| c == b':')?;
        let text = |b: &[u8]| b.iter().map(|&c| c as char).collect::<String>();
        return Some(Credentials::Basic(text(&d[..colon]), text(&d[colon + 1..])));
    }
    if prefix_of("Bearer") {
        return Some(Credentials::Bearer(data.to_string()));
    }
    None
}

/// A userlist a fetch names, resolved once its section is read.
#[derive(Debug, Clone)]
pub struct UserlistRef {
    pub name: String,
    list: Arc<OnceLock<Userlist>>,
}

impl UserlistRef {
    pub fn get(&self) -> Option<&Userlist> {
        self.list.get()
    }
}

impl PartialEq for UserlistRef {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for UserlistRef {}

/// The userlists of the configuration being read (one per thread: the
/// loader runs on one).
#[derive(Default)]
struct Pending {
    slots: HashMap<String, Arc<OnceLock<Userlist>>>,
    /// Names referenced since the loader last asked (to know their lines).
    referenced: Vec<String>,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Starts reading a configuration: forget the previous one's userlists.
pub fn begin() {
    PENDING.with(|p| *p.borrow_mut() = Pending::default());
}

/// The slot of userlist `name`, for a fetch that names it.
pub fn reference(name: &str) -> UserlistRef {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.referenced.push(name.to_string());
        let list = p.slots.entry(name.to_string()).or_default().clone();
        UserlistRef {
            name: name.to_string(),
            list,
        }
    })
}

/// The names referenced since the last call.
pub fn take_references() -> Vec<String> {
    PENDING.with(|p| std::mem::take(&mut p.borrow_mut().referenced))
}

/// A userlist section, complete. False if one of that name exists already.
pub fn define(list: Userlist) -> bool {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let slot = p.slots.entry(list.name.clone()).or_default();
        slot.set(list).is_ok()
    })
}

/// Whether userlist `name` is defined.
pub fn defined(name: &str) -> bool {
    PENDING.with(|p| {
        p.borrow()
            .slots
            .get(name)
            .is_some_and(|s| s.get().is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with glibc's crypt(3) (Debian 12, libxcrypt) for "elgato".
    const SHA512: &str = "$6$k6y3o.eP$igsQ78VXKk9l2wz.QFQagpKvYHWFNvg0DOkd1VmMynF60v8nKVbmNrY7rIn2yimPK6tKljx287YlyBOj9X8Gk/";
    const SHA256: &str = "$5$saltstring$IdnSaDXd1mU7jtAia471CUMHmx5YqUv2pZEDOlKVdR4";
    const ROUNDS: &str = "$6$rounds=1200$abc$OUt4GVgNtPuj/jRZ/tICm1pVIKZ2Sd1TEGLJyNmzvKd8QvZaoxQhrj8b1A9Ly5ZdPSWYUipntkzytaS5Ad5c2.";
    const LONG_SALT: &str = "$6$0123456789abcdef$jvmkZEfpth83fpcLp2fCuu8v0XOJZDfqM8VarnxcWHy9ZR0mPjOEdi/m5EvJILzTionIcHoQhhMQusPYanAEC1";

    fn list(pw: Password) -> Userlist {
        Userlist {
            name: "L".into(),
            groups: vec![],
            users: vec![User {
                name: "tiger".into(),
                password: pw,
                groups: vec![],
            }],
        }
    }

    #[test]
    fn glibc_hashes_check_as_glibc_computes_them() {
        for h in [SHA512, SHA256, ROUNDS, LONG_SALT] {
            let l = list(hashed(h).unwrap());
            assert!(l.check("tiger", "elgato").is_some(), "{h}");
            assert!(l.check("tiger", "elgatO").is_none(), "{h}");
            assert!(l.check("scott", "elgato").is_none(), "{h}");
        }
        // More than 16 salt characters: glibc's output never equals it.
        let long = LONG_SALT.replacen("abcdef$", "abcdefXYZ$", 1);
        assert!(list(hashed(&long).unwrap())
            .check("tiger", "elgato")
            .is_none());
    }

    #[test]
    fn other_schemes_and_rounds_out_of_range_are_refused() {
        for (h, frag) in [
            ("$1$abc$def", "'$1$' is not supported yet"),
            ("$y$j9T$abc$def", "'$y$' is not supported yet"),
            ("plaintext", "'DES' is not supported yet"),
            ("$6$rounds=10$abc$x", "rounds=10 is out of range"),
            ("$6$rounds=x$abc$x", "invalid rounds 'x'"),
        ] {
            let e = hashed(h).unwrap_err();
            assert!(e.contains(frag), "{h}: {e}");
        }
    }

    #[test]
    fn plain_and_missing_passwords() {
        let l = list(Password::Plain("elgato".into()));
        assert!(l.check("tiger", "elgato").is_some());
        assert!(l.check("tiger", "").is_none());
        assert!(list(Password::None).check("tiger", "").is_none());
    }

    fn req(auth: &str) -> Request {
        Request {
            method: "GET".into(),
            uri: "/".into(),
            version: crate::http::Version::Http11,
            headers: vec![("Authorization".into(), auth.into())],
        }
    }

    #[test]
    fn credentials_as_haproxy_reads_them() {
        let basic = |u: &str, p: &str| Some(Credentials::Basic(u.into(), p.into()));
        // "tiger:elgato"
        assert_eq!(
            credentials(&req("Basic dGlnZXI6ZWxnYXRv")),
            basic("tiger", "elgato")
        );
        assert_eq!(
            credentials(&req("basic   dGlnZXI6ZWxnYXRv")),
            basic("tiger", "elgato")
        );
        // A prefix of the scheme counts, as in HAProxy.
        assert_eq!(
            credentials(&req("Bas dGlnZXI6ZWxnYXRv")),
            basic("tiger", "elgato")
        );
        // "a:b:c": the password keeps the later colons.
        assert_eq!(credentials(&req("Basic YTpiOmM=")), basic("a", "b:c"));
        assert_eq!(
            credentials(&req("Bearer xyz")),
            Some(Credentials::Bearer("xyz".into()))
        );
        for bad in ["Basic", "Basic !!!", "Basic dGlnZXI=", "Digest x"] {
            assert_eq!(credentials(&req(bad)), None, "{bad}");
        }
    }

    #[test]
    fn references_resolve_when_the_section_is_read() {
        begin();
        let r = reference("L");
        assert_eq!(take_references(), vec!["L".to_string()]);
        assert!(r.get().is_none() && !defined("L"));
        assert!(define(list(Password::None)));
        assert!(!define(list(Password::None)), "a second L");
        assert_eq!(r.get().map(|l| l.name.as_str()), Some("L"));
    }
}
