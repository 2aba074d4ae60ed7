//! The random numbers of the `rand` and `uuid` fetches: one xoshiro256**
//! generator per thread (no lock), seeded from /dev/urandom on first use,
//! or, where that cannot be read (a chroot without /dev), from the clock,
//! the pid and the thread. Not for secrets: HAProxy's generator is not
//! either, and these values are only as secret as a log line.

use std::cell::Cell;
use std::io::Read;

thread_local! {
    // Already const: nightly clippy flags it anyway on targets with
    // emulated TLS (OpenBSD, Solaris).
    #[allow(clippy::missing_const_for_thread_local)]
    static STATE: Cell<Option<[u64; 4]>> = const { Cell::new(None) };
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn seed() -> [u64; 4] {
    let mut bytes = [0u8; 8];
    let from_os = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok();
    let mut x = u64::from_ne_bytes(bytes);
    if !from_os {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let local = 0u8;
        x = t ^ (u64::from(std::process::id()) << 32) ^ (&local as *const u8 as u64);
    }
    [
        splitmix(&mut x),
        splitmix(&mut x),
        splitmix(&mut x),
        splitmix(&mut x),
    ]
}

/// The next 64 random bits of this thread's generator.
pub fn next_u64() -> u64 {
    STATE.with(|cell| {
        let mut s = cell.get().unwrap_or_else(seed);
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        cell.set(Some(s));
        out
    })
}

/// A version 4 (random) UUID in its 36-character text form (RFC 4122).
pub fn uuid_v4() -> String {
    let (a, b) = (next_u64(), next_u64());
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        (a & 0x0fff) | 0x4000,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_has_version_4_and_the_rfc_variant() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let u = uuid_v4();
            let b = u.as_bytes();
            assert_eq!(u.len(), 36, "{u}");
            assert_eq!([b[8], b[13], b[18], b[23]], [b'-'; 4], "{u}");
            assert_eq!(b[14], b'4', "{u}");
            assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{u}");
            assert!(seen.insert(u));
        }
    }

    #[test]
    fn generator_output_is_spread() {
        // Every bit takes both values over 256 draws (a stuck generator or
        // a zero state would not).
        let (mut or, mut and) = (0u64, u64::MAX);
        for _ in 0..256 {
            let x = next_u64();
            or |= x;
            and &= x;
        }
        assert_eq!((or, and), (u64::MAX, 0));
    }
}
