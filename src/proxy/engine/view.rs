//! The proxies' state as fetches read it (`fe_id`, `nbsrv`, `be_conn`,
//! `srv_conn`, `connslots`, `queue`...): one loop's view of its frontends
//! and backends, with the process-wide session gauges under `nbthread`.
//! Queues are this loop's own (each thread queues its own sessions).

use super::rt::{BackendRt, FrontendRt};
use super::stats::StatsRt;
use super::threads::Shared;
use crate::http::fetch::proxy::{BeStat, ProxyView, SrvStat};
use crate::proxy::lb::ServerRt;
use std::sync::atomic::Ordering;

pub(super) struct EngineView<'a> {
    pub(super) frontends: &'a [FrontendRt],
    pub(super) backends: &'a [BackendRt],
    pub(super) stats: &'a StatsRt,
    pub(super) shared: &'a Shared,
}

impl EngineView<'_> {
    fn iid(&self, fi: Option<usize>, bi: Option<usize>) -> Option<i64> {
        let at = self
            .stats
            .layout
            .iter()
            .position(|p| (fi.is_some() && p.1 == fi) || (bi.is_some() && p.2 == bi))?;
        Some(at as i64 + i64::from(self.stats.id_base))
    }

    fn cur(&self, s: &ServerRt) -> u32 {
        if self.shared.threads() == 1 {
            s.cur
        } else {
            s.cur_all.load(Ordering::Relaxed)
        }
    }

    /// HAProxy's usable servers: the running active ones, else the
    /// running backups, of which only the first serves without `option
    /// allbackups`.
    fn nbsrv(&self, b: &BackendRt) -> i64 {
        let live = |backup: bool| {
            b.servers
                .iter()
                .filter(|s| s.backup == backup && !s.deleted && s.usable())
                .count() as i64
        };
        match (live(false), b.lb.all_backups) {
            (0, true) => live(true),
            (0, false) => live(true).min(1),
            (n, _) => n,
        }
    }
}

impl ProxyView for EngineView<'_> {
    fn listener_name(&self, fi: usize, id: u32) -> Option<&str> {
        let names = &self.frontends.get(fi)?.so_names;
        names
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.as_str())
    }

    fn frontend_id(&self, fi: usize) -> Option<i64> {
        self.frontends.get(fi)?;
        self.iid(Some(fi), None)
    }

    fn backend(&self, bi: usize) -> Option<(i64, &str)> {
        let b = self.backends.get(bi)?;
        Some((self.iid(None, Some(bi))?, b.name.as_str()))
    }

    fn backend_index(&self, name: &str) -> Option<usize> {
        self.backends.iter().position(|b| b.name == name)
    }

    fn server(&self, bi: usize, si: usize) -> Option<(i64, &str)> {
        let s = self
            .backends
            .get(bi)?
            .servers
            .get(si)
            .filter(|s| !s.deleted)?;
        Some((i64::from(s.puid), s.name.as_str()))
    }

    fn server_index(&self, bi: usize, name: &str) -> Option<usize> {
        self.backends
            .get(bi)?
            .servers
            .iter()
            .position(|s| s.name == name && !s.deleted)
    }

    fn be_stat(&self, bi: usize, what: BeStat) -> i64 {
        let Some(b) = self.backends.get(bi) else {
            return 0;
        };
        let queued =
            || b.queue.len() as i64 + b.servers.iter().map(|s| s.queue.len() as i64).sum::<i64>();
        match what {
            BeStat::Nbsrv => self.nbsrv(b),
            BeStat::Conn => {
                if self.shared.threads() == 1 {
                    b.servers.iter().map(|s| i64::from(s.cur)).sum()
                } else {
                    i64::from(self.shared.be_cur_of(bi))
                }
            }
            BeStat::Queue => queued(),
            BeStat::AvgQueue => match self.nbsrv(b) {
                0 => queued() * 2,
                n => (queued() + n - 1) / n,
            },
            BeStat::Connslots => {
                let mut free = 0i64;
                for s in b
                    .servers
                    .iter()
                    .filter(|s| !s.deleted && !s.down && !s.disabled)
                {
                    let (Some(maxconn), Some(maxqueue)) = (s.cfg_maxconn, s.maxqueue) else {
                        return -1;
                    };
                    free += i64::from(maxconn) - i64::from(self.cur(s)) + i64::from(maxqueue)
                        - s.queue.len() as i64;
                }
                free
            }
        }
    }

    fn srv_stat(&self, bi: usize, si: usize, what: SrvStat) -> i64 {
        let Some(s) = self.backends.get(bi).and_then(|b| b.servers.get(si)) else {
            return 0;
        };
        match what {
            SrvStat::Conn => i64::from(self.cur(s)),
            SrvStat::IsUp => i64::from(!s.down && !s.disabled && !s.deleted),
            SrvStat::Queue => s.queue.len() as i64,
            SrvStat::Weight => i64::from(s.weight / crate::proxy::lb::WEIGHT_SCALE),
            SrvStat::IWeight => i64::from(s.iweight),
            SrvStat::UWeight => i64::from(s.uweight),
        }
    }
}
