//! Consistent hashing: a ring of points, `POINTS_PER_WEIGHT` per unit of
//! weight per server, each placed by a hash of the server's *name* and the
//! point's number, so a server's points do not depend on the others. A key
//! goes to the server of the first point at or after its hash (wrapping).
//! Taking a server out removes only its points: the keys it held move to the
//! next points, every other key stays where it was.

use super::hash::{full_hash, hash32, mix64};
use super::ServerRt;

/// Points per unit of weight. HAProxy uses 16; with so few points a weight-1
/// server's share varies by about 1/sqrt(16) = 25% from its due. 64 brings
/// that to ~12% for 8 bytes a point (a weight-256 server: 16384 points,
/// 128 KiB).
pub const POINTS_PER_WEIGHT: u32 = 64;

#[derive(Debug, Default)]
pub(super) struct Ring {
    /// (position, server index), sorted.
    points: Vec<(u32, u32)>,
    /// Signature of the server set and weights the ring was built for.
    sig: Option<u64>,
    /// Number of rebuilds, for tests and stats.
    pub(super) builds: u64,
}

impl Ring {
    /// Forget the ring; the next lookup rebuilds it.
    pub(super) fn invalidate(&mut self) {
        self.sig = None;
    }

    /// Rebuild if `pool` (the usable servers) or their weights changed.
    fn refresh(&mut self, servers: &[ServerRt], pool: &[usize]) {
        let sig = pool.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &i| {
            mix64(h ^ ((i as u64) << 32 | u64::from(servers[i].weight)))
        });
        if self.sig == Some(sig) {
            return;
        }
        self.points.clear();
        for &i in pool {
            let s = &servers[i];
            let base = u64::from(hash32(s.name.as_bytes())) << 32;
            for j in 0..s.weight * POINTS_PER_WEIGHT {
                self.points
                    .push((mix64(base | u64::from(j)) as u32, i as u32));
            }
        }
        self.points.sort_unstable();
        self.sig = Some(sig);
        self.builds += 1;
    }

    /// The server for hash `h` among `pool`, skipping `avoid` when another
    /// server exists. The hash is mixed again (HAProxy's `full_hash`) so
    /// similar keys spread around the ring whatever the hash function.
    pub(super) fn lookup(
        &mut self,
        servers: &[ServerRt],
        pool: &[usize],
        h: u32,
        avoid: Option<usize>,
    ) -> usize {
        self.refresh(servers, pool);
        let n = self.points.len();
        if n == 0 {
            return pool[0];
        }
        let h = full_hash(h);
        let start = self.points.partition_point(|&(p, _)| p < h);
        let mut first = None;
        for k in 0..n {
            let i = self.points[(start + k) % n].1 as usize;
            if Some(i) != avoid {
                return i;
            }
            first.get_or_insert(i);
        }
        first.unwrap_or(pool[0])
    }
}
