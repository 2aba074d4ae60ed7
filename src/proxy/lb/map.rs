//! `hash-type map-based`: HAProxy 2.6's server map (lb_map.c). Each usable
//! server owns as many slots as its user weight, interleaved in declaration
//! order by a weighted round robin; hash `h` goes to slot `h % slots`. Any
//! change to the usable set or a weight remaps most keys (that is what
//! `consistent` avoids).

use super::{signature, ServerRt, WEIGHT_SCALE};

#[derive(Debug, Default)]
pub(super) struct Map {
    /// Server index of each slot.
    slots: Vec<u32>,
    /// Signature of the server set and weights the map was built for.
    sig: Option<u64>,
    /// Number of rebuilds, for tests.
    pub(super) builds: u64,
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Map {
    pub(super) fn invalidate(&mut self) {
        self.sig = None;
    }

    /// Rebuild if `pool` (the usable servers, in declaration order) or
    /// their weights changed. HAProxy's `recalc_server_map`: for each slot,
    /// every server adds its weight to its score and the first one with the
    /// highest `(score + total) / total` takes the slot and pays `total`
    /// back, which spreads each server's slots evenly and gives ties to the
    /// first declared.
    ///
    /// Weights are divided by their GCD first, as HAProxy does (`wmult`,
    /// from the configured weights): the map of weights k×w is the map of w
    /// repeated k times, so this only makes it smaller, and `h % slots`
    /// lands on the same server either way.
    fn refresh(&mut self, servers: &[ServerRt], pool: &[usize]) {
        let sig = signature(servers, pool);
        if self.sig == Some(sig) {
            return;
        }
        // User weights: map-based hashing does not follow slowstart (a
        // static algorithm for HAProxy), so these are whole.
        let user: Vec<u32> = pool
            .iter()
            .map(|&i| servers[i].weight.div_ceil(WEIGHT_SCALE))
            .collect();
        let g = user.iter().copied().reduce(gcd).unwrap_or(1).max(1);
        let weights: Vec<i64> = user.iter().map(|&w| i64::from(w / g)).collect();
        let total: i64 = weights.iter().sum();
        let mut score = vec![0i64; pool.len()];
        self.slots.clear();
        for _ in 0..total {
            let mut best = 0;
            let mut max = 0;
            for (k, w) in weights.iter().enumerate() {
                score[k] += w;
                // Rust's `/` truncates toward zero, as C's on a negative score.
                let v = (score[k] + total) / total;
                if k == 0 || v > max {
                    max = v;
                    best = k;
                }
            }
            score[best] -= total;
            self.slots.push(pool[best] as u32);
        }
        self.sig = Some(sig);
        self.builds += 1;
    }

    /// The server for hash `h` (HAProxy's `map_get_server_hash`). With
    /// `avoid` (a redispatch after a failure), the next slot holding another
    /// server instead, when there is one: HAProxy would retry the same one.
    pub(super) fn lookup(
        &mut self,
        servers: &[ServerRt],
        pool: &[usize],
        h: u32,
        avoid: Option<usize>,
    ) -> usize {
        self.refresh(servers, pool);
        let n = self.slots.len();
        if n == 0 {
            return pool[0];
        }
        let start = (h as usize) % n;
        (0..n)
            .map(|k| self.slots[(start + k) % n] as usize)
            .find(|&i| Some(i) != avoid)
            .unwrap_or(self.slots[start] as usize)
    }
}
