//! Session resumption limits and keys: `tune.ssl.lifetime` (how long a
//! session may be resumed, by ticket or by id: HAProxy's 300 s default) and
//! `tls-ticket-keys FILE` (HAProxy's file: one base64 key a line, 48 or 80
//! bytes; of the last three, the middle one encrypts and all three decrypt,
//! so appending a key and reloading rotates them without breaking the
//! tickets clients hold). Processes that read the same file resume each
//! other's sessions. Tickets are sealed with AES-GCM under the key's AES
//! part (ring); their format is pollux's own, as the session inside is
//! rustls' and no other implementation could read it anyway.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::server::{ProducesTickets, StoresServerSessions};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many keys of the file are in use (HAProxy's TLS_TICKETS_NO).
const IN_USE: usize = 3;
const NAME_LEN: usize = 16;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `plain` behind the time it was made; None when it is older than
/// `lifetime` seconds (or from the future: a clock set back).
fn fresh(stamped: &[u8], lifetime: u32) -> Option<&[u8]> {
    let (ts, rest) = stamped.split_first_chunk::<8>()?;
    let age = now().checked_sub(u64::from_be_bytes(*ts))?;
    (age <= u64::from(lifetime)).then_some(rest)
}

fn stamp(plain: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + plain.len());
    v.extend_from_slice(&now().to_be_bytes());
    v.extend_from_slice(plain);
    v
}

/// The keys of a `tls-ticket-keys` file.
pub struct FileKeys {
    keys: Vec<([u8; NAME_LEN], LessSafeKey)>,
    /// The key that encrypts (the middle one of those in use).
    enc: usize,
    rng: SystemRandom,
}

impl std::fmt::Debug for FileKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileKeys({} keys)", self.keys.len())
    }
}

impl FileKeys {
    /// Read `path`, with HAProxy's errors.
    pub fn load(path: &str) -> Result<FileKeys, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|_| format!("'{path}' : unable to load ssl tickets keys file"))?;
        let mut raw = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let key = crate::sample::conv::base64_decode(line.trim_end_matches('\r').as_bytes())
                .ok_or_else(|| {
                    format!("'{path}' : unable to decode base64 key on line {}", i + 1)
                })?;
            let first = raw.first().map_or(key.len(), Vec::len);
            if !matches!(key.len(), 48 | 80) || key.len() != first {
                return Err(format!("'{path}' : wrong sized key on line {}", i + 1));
            }
            raw.push(key);
        }
        if raw.len() < IN_USE {
            return Err(format!(
                "'{path}' : please supply at least {IN_USE} keys in the tls-tickets-file"
            ));
        }
        let used = &raw[raw.len() - IN_USE..];
        let keys = used
            .iter()
            .map(|k| {
                // name(16) | HMAC key (16 or 32) | AES key (16 or 32)
                let (alg, aes) = if k.len() == 48 {
                    (&AES_128_GCM, &k[32..48])
                } else {
                    (&AES_256_GCM, &k[48..80])
                };
                let mut name = [0u8; NAME_LEN];
                name.copy_from_slice(&k[..NAME_LEN]);
                let key = UnboundKey::new(alg, aes).map_err(|_| format!("'{path}' : bad key"))?;
                Ok((name, LessSafeKey::new(key)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(FileKeys {
            keys,
            enc: IN_USE - 2,
            rng: SystemRandom::new(),
        })
    }
}

impl ProducesTickets for FileKeys {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        // The real limit is `Timed`'s, which wraps this.
        u32::MAX
    }

    /// name | nonce | sealed(plain) + tag
    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let (name, key) = &self.keys[self.enc];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut sealed = plain.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(name),
            &mut sealed,
        )
        .ok()?;
        let mut out = Vec::with_capacity(NAME_LEN + NONCE_LEN + sealed.len());
        out.extend_from_slice(name);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        let (name, rest) = cipher.split_first_chunk::<NAME_LEN>()?;
        let (nonce, sealed) = rest.split_first_chunk::<NONCE_LEN>()?;
        let (_, key) = self.keys.iter().find(|(n, _)| n == name)?;
        let mut buf = sealed.to_vec();
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(name),
                &mut buf,
            )
            .ok()?;
        Some(plain.to_vec())
    }
}

/// Tickets that stop resuming after `tune.ssl.lifetime`: the time they
/// were made travels sealed inside them.
#[derive(Debug)]
pub struct Timed {
    pub inner: Arc<dyn ProducesTickets>,
    pub lifetime: u32,
}

impl ProducesTickets for Timed {
    fn enabled(&self) -> bool {
        self.inner.enabled()
    }

    fn lifetime(&self) -> u32 {
        self.lifetime.min(self.inner.lifetime())
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        self.inner.encrypt(&stamp(plain))
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        let stamped = self.inner.decrypt(cipher)?;
        fresh(&stamped, self.lifetime).map(<[u8]>::to_vec)
    }
}

/// The session-id cache, its entries good for `tune.ssl.lifetime`.
#[derive(Debug)]
pub struct TimedCache {
    pub inner: Arc<dyn StoresServerSessions>,
    pub lifetime: u32,
}

/// Session-id cache lookups and misses, process-wide as HAProxy's
/// `SslCacheLookups`/`SslCacheMisses` (every bind's cache adds to them).
static LOOKUPS: AtomicU64 = AtomicU64::new(0);
static MISSES: AtomicU64 = AtomicU64::new(0);

fn counted(found: Option<Vec<u8>>) -> Option<Vec<u8>> {
    LOOKUPS.fetch_add(1, Ordering::Relaxed);
    if found.is_none() {
        MISSES.fetch_add(1, Ordering::Relaxed);
    }
    found
}

/// (lookups, misses) of the session caches so far.
pub fn cache_counts() -> (u64, u64) {
    (
        LOOKUPS.load(Ordering::Relaxed),
        MISSES.load(Ordering::Relaxed),
    )
}

impl StoresServerSessions for TimedCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.inner.put(key, stamp(&value))
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let v = self.inner.get(key);
        counted(v.and_then(|v| fresh(&v, self.lifetime).map(<[u8]>::to_vec)))
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let v = self.inner.take(key);
        counted(v.and_then(|v| fresh(&v, self.lifetime).map(<[u8]>::to_vec)))
    }

    fn can_cache(&self) -> bool {
        self.inner.can_cache()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(lines: &[String]) -> String {
        let p = std::env::temp_dir().join(format!(
            "pollux-tickets-{}-{}",
            std::process::id(),
            lines.len()
        ));
        std::fs::write(&p, lines.join("\n")).unwrap();
        p.display().to_string()
    }

    fn b64(n: usize, fill: u8) -> String {
        crate::sample::conv::base64_encode(&vec![fill; n])
    }

    #[test]
    fn keys_files_are_read_as_haproxy_reads_them() {
        let p = file(&[b64(48, 1), b64(48, 2)]);
        assert!(FileKeys::load(&p)
            .unwrap_err()
            .contains("please supply at least 3 keys"));
        let p = file(&[b64(80, 1), b64(80, 2), b64(48, 3)]);
        assert!(FileKeys::load(&p)
            .unwrap_err()
            .contains("wrong sized key on line 3"));
        let p = file(&[b64(80, 1), "!!".into(), b64(80, 2), b64(80, 3)]);
        assert!(FileKeys::load(&p)
            .unwrap_err()
            .contains("unable to decode base64 key on line 2"));
        assert!(FileKeys::load("/nonexistent/keys")
            .unwrap_err()
            .contains("unable to load ssl tickets keys file"));
    }

    #[test]
    fn tickets_open_with_any_key_in_use_and_expire() {
        let p = file(&[b64(48, 1), b64(48, 2), b64(48, 3), b64(48, 4), b64(48, 5)]);
        let a = FileKeys::load(&p).unwrap();
        let t = a.encrypt(b"session").unwrap();
        // Sealed under key 4 (the middle of 3, 4, 5): its name leads.
        assert_eq!(&t[..NAME_LEN], &[4u8; NAME_LEN]);
        assert_eq!(a.decrypt(&t).as_deref(), Some(&b"session"[..]));
        // One more key appended: 4 is still in use, so the ticket opens.
        let p = file(&[
            b64(48, 1),
            b64(48, 2),
            b64(48, 3),
            b64(48, 4),
            b64(48, 5),
            b64(48, 6),
        ]);
        let b = FileKeys::load(&p).unwrap();
        assert_eq!(b.decrypt(&t).as_deref(), Some(&b"session"[..]));
        let mut bad = t.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(b.decrypt(&bad), None);
        for cut in 0..t.len() {
            assert_eq!(b.decrypt(&t[..cut]), None);
        }
        let timed = Timed {
            inner: Arc::new(b),
            lifetime: 0,
        };
        let t = timed.encrypt(b"x").unwrap();
        assert_eq!(timed.decrypt(&t).as_deref(), Some(&b"x"[..]));
        let old = [&(now() - 1).to_be_bytes()[..], b"x"].concat();
        assert_eq!(fresh(&old, 0), None);
        assert_eq!(fresh(&old, 1), Some(&b"x"[..]));
    }
}
