//! `hash-type consistent`: HAProxy 2.6's tree of points (lb_chash.c). A
//! server of effective weight W (its user weight × [`WEIGHT_SCALE`], less
//! while slowstart ramps it) has W points, point j at
//! `full_hash(id × 4096 + j)`, where id is the server's `puid` (its `id`, or
//! its rank), so a server's points depend on nothing else. A hash goes to
//! the point nearest to it on the ring (either side; the one below on a
//! tie). Taking a server out removes only its points: the keys it held move
//! to their next nearest points, every other key stays.
//!
//! [`WEIGHT_SCALE`]: super::WEIGHT_SCALE

use super::hash::full_hash;
use super::{signature, ServerRt, WEIGHT_SCALE};

/// HAProxy's `SRV_EWGHT_RANGE`: points a server may have at most (user
/// weight 256 × the scale), and the spacing of the ids' point numbers.
const EWGHT_RANGE: u32 = 256 * WEIGHT_SCALE;

#[derive(Debug, Default)]
pub(super) struct Ring {
    /// (position, server index), sorted by position.
    points: Vec<(u32, u32)>,
    /// Signature of the server set and weights the ring was built for.
    sig: Option<u64>,
    /// Number of rebuilds, for tests.
    pub(super) builds: u64,
}

impl Ring {
    /// Forget the ring; the next lookup rebuilds it.
    pub(super) fn invalidate(&mut self) {
        self.sig = None;
    }

    /// Rebuild if `pool` (the usable servers) or their weights changed.
    fn refresh(&mut self, servers: &[ServerRt], pool: &[usize]) {
        let sig = signature(servers, pool);
        if self.sig == Some(sig) {
            return;
        }
        self.points.clear();
        for &i in pool {
            let s = &servers[i];
            // `puid * SRV_EWGHT_RANGE + node` in C int arithmetic: wraps
            // past 2^32 for ids above 2^20, as there.
            let base = s.puid.wrapping_mul(EWGHT_RANGE);
            for j in 0..s.weight.min(EWGHT_RANGE) {
                self.points
                    .push((full_hash(base.wrapping_add(j)), i as u32));
            }
        }
        self.points.sort_unstable();
        self.sig = Some(sig);
        self.builds += 1;
    }

    /// The server for hash `h` among `pool` (HAProxy's
    /// `chash_get_server_hash`): the nearest point, then, while it belongs
    /// to `avoid`, the next ones up the ring.
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
        // The first point at or above h (wrapping), and the one before it.
        let next = self.points.partition_point(|&(p, _)| p < h) % n;
        let prev = (next + n - 1) % n;
        let below = h.wrapping_sub(self.points[prev].0);
        let above = self.points[next].0.wrapping_sub(h);
        let start = if below <= above { prev } else { next };
        (0..n)
            .map(|k| self.points[(start + k) % n].1 as usize)
            .find(|&i| Some(i) != avoid)
            .unwrap_or(self.points[start].1 as usize)
    }
}
