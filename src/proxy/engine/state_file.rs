//! `load-server-state-from-file`: at startup, servers take back the state
//! the previous process had (`show servers state` saved it before the
//! reload): maintenance and drain, the weight set at run time, and DOWN
//! for a checked server that was down.

use super::stats::Admin;
use super::Engine;
use crate::config::Config;
use crate::proxy::checks::Health;
use crate::runtime::server_state;
use std::time::Instant;

impl Engine {
    pub(super) fn load_server_states(&mut self, cfg: &Config) {
        let now = Instant::now();
        for bi in 0..cfg.backends.len() {
            let Some(path) = cfg.server_state_path(bi) else {
                continue;
            };
            let be = cfg.backends[bi].name.clone();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    once!(
                        warn,
                        self.tid,
                        "backend {be}: cannot read server state file {}: {e}",
                        path.display()
                    );
                    continue;
                }
            };
            let rows = match server_state::parse(&text) {
                Ok((rows, bad)) => {
                    for b in bad {
                        once!(warn, self.tid, "server state file {}: {b}", path.display());
                    }
                    rows
                }
                Err(e) => {
                    once!(warn, self.tid, "server state file {}: {e}", path.display());
                    continue;
                }
            };
            for r in rows.iter().filter(|r| r.be_name == be) {
                self.apply_saved_state(bi, r, now);
            }
        }
    }

    fn apply_saved_state(&mut self, bi: usize, r: &server_state::Row, now: Instant) {
        let be = self.backends[bi].name.clone();
        let Ok((_, si)) = self.server_index(&be, &r.srv_name) else {
            once!(
                warn,
                self.tid,
                "server state file: no server '{}' in backend '{be}'",
                r.srv_name
            );
            return;
        };
        // A weight set at run time survives only if the configured weight
        // is the one it was set against (HAProxy's rule).
        if r.iweight == self.backends[bi].servers[si].iweight && r.uweight != r.iweight {
            let _ = self.set_server_weight(&be, &r.srv_name, r.uweight.min(256));
        }
        let admin = if r.admin_state & server_state::ADMIN_FMAINT != 0 {
            Some(Admin::Maint)
        } else if r.admin_state & server_state::ADMIN_FDRAIN != 0 {
            Some(Admin::Drain)
        } else {
            None
        };
        if let Some(a) = admin {
            let _ = self.set_server_admin(&be, &r.srv_name, a);
        }
        if r.op_state == server_state::OP_STOPPED {
            if let Some(c) = self
                .checks
                .iter_mut()
                .find(|c| c.bi == bi && c.si == si && c.checker.health() == Health::Up)
            {
                c.checker.set_down(now);
                self.backends[bi].servers[si].down = true;
                self.backends[bi].lb.invalidate();
            }
        }
    }
}
