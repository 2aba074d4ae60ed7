//! `nbthread N`: N event loops in one process, each with its own poller,
//! listeners, sessions and activity counters (shared nothing on the hot
//! path). What they must agree on lives in [`Shared`]: the stick tables
//! (behind a lock, so persistence is the process's), the rejected messages
//! kept for `show errors`, every listening socket (for a reload's
//! `_getsocks`), each thread's last published counters and current values
//! (which the stats add up), the process-wide current sessions per
//! frontend, backend and server (atomics, for the `smax` maxima), and a
//! mailbox per thread through which one loop has the others apply a change
//! (an admin command, a check result, a signal). Limits are divided: each
//! thread enforces its share of a maxconn, so the sum is never exceeded.
//!
//! Every lock a loop may take on a process-wide mutex goes through [`lock`],
//! which counts it (`show activity`'s `process_locks`): the data path must
//! take none.
//!
//! Thread 0 runs in the main thread and alone owns the signals, the runtime
//! API sockets and the health checks' I/O.

use super::Engine;
use crate::proxy::counters::Counters;
use crate::proxy::stick::StickTables;
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Work one thread hands another: run on the receiver's engine.
pub(super) type Job = Box<dyn FnOnce(&mut Engine) + Send>;

/// A thread's mailbox: queued jobs, and a socket pair whose read end the
/// thread's poller watches (one byte wakes it up).
struct Mailbox {
    jobs: Mutex<Vec<Job>>,
    wake: UnixStream,
    rx: Mutex<Option<UnixStream>>,
}

/// What `show activity` reports per thread.
#[derive(Default)]
pub(super) struct Activity {
    pub(super) loops: AtomicU64,
    pub(super) accepted: AtomicU64,
    pub(super) jobs: AtomicU64,
}

/// A thread's current values, published at the end of each loop turn when
/// there are several threads (the stats sum them).
#[derive(Default, Clone)]
pub(super) struct Gauges {
    pub(super) conns: u32,
    /// Per backend: its queue plus its servers' queues; per server: its queue.
    pub(super) be_q: Vec<u32>,
    pub(super) srv_q: Vec<Vec<u32>>,
    /// Per server: times it was picked (`lbtot`).
    pub(super) lbtot: Vec<Vec<u64>>,
}

pub struct Shared {
    nthreads: usize,
    /// Origin of every loop's rate periods, and the process start.
    pub(super) start: Instant,
    /// Each thread's counters as of the end of its last busy loop turn.
    ctr: Vec<Mutex<Counters>>,
    /// Process-wide current sessions per frontend and backend, and per
    /// server (by backend; a server added at run time is registered by
    /// the first thread that adds it).
    fe_cur: Vec<AtomicU32>,
    be_cur: Vec<AtomicU32>,
    srv_cur: Mutex<Vec<Vec<Arc<AtomicU32>>>>,
    stick: Mutex<StickTables>,
    pub(super) bad_msgs: Mutex<super::bad_msgs::BadMsgs>,
    /// Every listening socket of the process (duplicates), handed to the
    /// next process by `_getsocks`; dropped at soft stop.
    listeners: Mutex<Vec<TcpListener>>,
    mail: Vec<Mailbox>,
    /// Loops that have stopped: asking them would only time out.
    done: Vec<AtomicBool>,
    pub(super) activity: Vec<Activity>,
    gauges: Vec<Mutex<Gauges>>,
}

/// The global section's `set-var`: the process's `proc.` variables, set
/// once before any traffic, in the configuration's order (a later one may
/// read an earlier one).
fn set_proc_vars(rules: &[crate::http::rules::SetVar]) {
    let none = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
    let ctx = crate::http::fetch::FetchCtx::http(none, none, None, None);
    for r in rules {
        r.run(&ctx);
    }
}

/// The table converters read the process's tables, one lock per lookup.
impl crate::sample::conv::Tables for Shared {
    fn read(
        &self,
        table: &str,
        key: &crate::sample::Value<'_>,
        what: crate::sample::conv::Read,
    ) -> crate::sample::conv::Found {
        let now = Instant::now();
        crate::proxy::stick::conv::read(&lock(&self.stick), table, key, what, now)
    }
}

pub(super) use crate::proxy::locks::lock;
use crate::proxy::locks::lock_uncounted as lock_own;

impl Shared {
    /// Process-wide current sessions of backend `bi`.
    pub(super) fn be_cur_of(&self, bi: usize) -> u32 {
        self.be_cur.get(bi).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub(super) fn threads(&self) -> usize {
        self.nthreads
    }

    pub fn new(
        cfg: &crate::config::Config,
        listeners: &[(usize, TcpListener)],
    ) -> io::Result<Shared> {
        let n = cfg.global.nbthread.max(1) as usize;
        set_proc_vars(&cfg.global.set_vars);
        let mut mail = Vec::with_capacity(n);
        for _ in 0..n {
            let (rx, wake) = UnixStream::pair()?;
            rx.set_nonblocking(true)?;
            wake.set_nonblocking(true)?;
            mail.push(Mailbox {
                jobs: Mutex::new(Vec::new()),
                wake,
                rx: Mutex::new(Some(rx)),
            });
        }
        let sizes: Vec<usize> = cfg.backends.iter().map(|b| b.servers.len()).collect();
        let start = Instant::now();
        let counters = Counters::new(cfg.frontends.len(), &sizes, start);
        Ok(Shared {
            nthreads: n,
            start,
            ctr: (0..n).map(|_| Mutex::new(counters.clone())).collect(),
            fe_cur: cfg.frontends.iter().map(|_| AtomicU32::new(0)).collect(),
            be_cur: cfg.backends.iter().map(|_| AtomicU32::new(0)).collect(),
            srv_cur: Mutex::new(
                sizes
                    .iter()
                    .map(|&k| (0..k).map(|_| Arc::default()).collect())
                    .collect(),
            ),
            stick: Mutex::new(StickTables::new(&cfg.stick_tables)),
            bad_msgs: Mutex::new(Default::default()),
            listeners: Mutex::new(
                listeners
                    .iter()
                    .filter_map(|(_, l)| l.try_clone().ok())
                    .collect(),
            ),
            mail,
            done: (0..n).map(|_| AtomicBool::new(false)).collect(),
            activity: (0..n).map(|_| Activity::default()).collect(),
            gauges: (0..n).map(|_| Mutex::new(Gauges::default())).collect(),
        })
    }

    pub fn nthreads(&self) -> usize {
        self.nthreads
    }

    /// Thread `tid`'s last published counters.
    pub(super) fn counters_of(&self, tid: usize) -> Counters {
        lock_own(&self.ctr[tid]).clone()
    }

    /// The process-wide current sessions of server `si` of backend `bi`,
    /// shared by every thread's record of it (taken at start and when a
    /// server is added, never on the data path).
    pub(super) fn srv_gauge(&self, bi: usize, si: usize) -> Arc<AtomicU32> {
        let mut all = lock(&self.srv_cur);
        let be = &mut all[bi];
        while be.len() <= si {
            be.push(Arc::default());
        }
        be[si].clone()
    }

    pub(super) fn stick(&self) -> MutexGuard<'_, StickTables> {
        lock(&self.stick)
    }

    /// The stick tables' lock itself, for code that locks per operation.
    pub(super) fn stick_tables(&self) -> &Mutex<StickTables> {
        &self.stick
    }

    pub(super) fn listeners(&self) -> MutexGuard<'_, Vec<TcpListener>> {
        lock(&self.listeners)
    }

    /// The read end of thread `tid`'s mailbox (taken once, by its engine).
    pub(super) fn take_mailbox(&self, tid: usize) -> Option<UnixStream> {
        lock(&self.mail[tid].rx).take()
    }

    fn post(&self, tid: usize, job: Job) {
        let m = &self.mail[tid];
        let was_empty = {
            let mut q = lock(&m.jobs);
            q.push(job);
            q.len() == 1
        };
        // One byte per batch is enough; a full socket buffer means the
        // thread has bytes to wake it already.
        if was_empty {
            let _ = (&m.wake).write(&[1]);
        }
    }

    fn take_jobs(&self, tid: usize) -> Vec<Job> {
        std::mem::take(&mut *lock(&self.mail[tid].jobs))
    }

    pub(super) fn publish(&self, tid: usize, g: Gauges) {
        *lock_own(&self.gauges[tid]) = g;
    }

    /// The other threads' last published values, summed by `f`.
    pub(super) fn others<T: std::iter::Sum<T>>(&self, tid: usize, f: impl Fn(&Gauges) -> T) -> T {
        (0..self.nthreads)
            .filter(|&t| t != tid)
            .map(|t| f(&lock_own(&self.gauges[t])))
            .sum()
    }
}

/// Thread `tid`'s equal share of a limit `n` (the shares add up to `n`).
pub fn share(n: u32, tid: usize, nthreads: usize) -> u32 {
    let k = nthreads.max(1) as u32;
    n / k + u32::from((tid as u32) < n % k)
}

/// Deal the bound listeners out to `n` threads: sockets bound to one
/// address (and frontend) go round-robin; where there are fewer than
/// threads (one, on OSes whose SO_REUSEPORT does not spread connections),
/// threads share them through duplicated descriptors.
pub fn split(
    socks: Vec<(usize, TcpListener)>,
    n: usize,
) -> io::Result<Vec<Vec<(usize, TcpListener)>>> {
    let n = n.max(1);
    type Key = (usize, Option<std::net::SocketAddr>);
    let mut groups: Vec<(Key, Vec<TcpListener>)> = Vec::new();
    for (fi, l) in socks {
        let key = (fi, l.local_addr().ok());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(l),
            None => groups.push((key, vec![l])),
        }
    }
    let mut out: Vec<Vec<(usize, TcpListener)>> = (0..n).map(|_| Vec::new()).collect();
    for ((fi, _), ls) in groups {
        let k = ls.len();
        if k < n {
            for t in k..n {
                out[t].push((fi, ls[t % k].try_clone()?));
            }
        }
        for (j, l) in ls.into_iter().enumerate() {
            out[j % n].push((fi, l));
        }
    }
    Ok(out)
}

impl Engine {
    pub(super) fn nthreads(&self) -> usize {
        self.shared.nthreads
    }

    /// This thread's share of limit `n`.
    pub(super) fn share(&self, n: u32) -> u32 {
        share(n, self.tid, self.shared.nthreads)
    }

    /// Have every other thread run `job` on its engine.
    pub(super) fn broadcast(&self, job: impl Fn(&mut Engine) + Send + Sync + Clone + 'static) {
        for t in (0..self.shared.nthreads).filter(|&t| t != self.tid) {
            self.shared.post(t, Box::new(job.clone()));
        }
    }

    /// Run `f` on thread `tid`'s engine and wait for its answer (runtime
    /// API commands that read another loop's sessions). Bounded: a loop
    /// stuck elsewhere gives None after a second.
    pub(super) fn ask<T: Send + 'static>(
        &mut self,
        tid: usize,
        f: impl FnOnce(&mut Engine) -> T + Send + 'static,
    ) -> Option<T> {
        if tid == self.tid {
            return Some(f(self));
        }
        if tid >= self.shared.nthreads || self.shared.done[tid].load(Ordering::Acquire) {
            return None;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        self.shared.post(
            tid,
            Box::new(move |e: &mut Engine| {
                let _ = tx.send(f(e));
            }),
        );
        rx.recv_timeout(std::time::Duration::from_secs(1)).ok()
    }

    /// Our mailbox is readable: run what the other threads sent.
    pub(super) fn on_mail(&mut self) {
        if let Some(rx) = self.mailbox.as_ref() {
            let mut buf = [0u8; 64];
            while matches!((&*rx).read(&mut buf), Ok(n) if n > 0) {}
        }
        let jobs = self.shared.take_jobs(self.tid);
        self.shared.activity[self.tid]
            .jobs
            .fetch_add(jobs.len() as u64, Ordering::Relaxed);
        for job in jobs {
            job(self);
        }
    }

    /// End of a loop turn: count it, and publish the current values and
    /// counters (when they moved) the other threads' stats add up.
    pub(super) fn end_of_turn(&mut self) {
        self.shared.activity[self.tid]
            .loops
            .fetch_add(1, Ordering::Relaxed);
        if self.shared.nthreads > 1 {
            let g = self.gauges();
            self.shared.publish(self.tid, g);
            if std::mem::take(&mut self.ctr_dirty) {
                lock_own(&self.shared.ctr[self.tid]).clone_from(&self.ctr);
            }
        }
    }

    /// This loop stopped (its counters were published at its last turn).
    pub(super) fn loop_done(&self) {
        self.shared.done[self.tid].store(true, Ordering::Release);
    }

    /// The process's counters: ours, plus the other threads'. Thread 0
    /// (the runtime API's) asks each for its live ones, so that a read
    /// right after traffic sees all of it; the others (and thread 0 when
    /// `live` is false or a thread does not answer) take their last
    /// published ones. Only thread 0 asks, so two loops never wait on
    /// each other.
    pub(super) fn process_counters(&mut self, live: bool) -> Counters {
        let now = Instant::now();
        let mut all = self.ctr.clone();
        let (me, n) = (self.tid, self.shared.nthreads);
        for t in (0..n).filter(|&t| t != me) {
            let asked = if live && self.tid == 0 {
                self.ask(t, |e| e.ctr.clone())
            } else {
                None
            };
            let theirs = asked.unwrap_or_else(|| self.shared.counters_of(t));
            all.add(&theirs, now);
        }
        all
    }

    /// A session opened on frontend `fi` (`up`) or closed.
    pub(super) fn fe_gauge(&self, fi: usize, up: bool) {
        if self.shared.nthreads > 1 {
            gauge(&self.shared.fe_cur[fi], up);
        }
    }

    /// A session took (`up`) or gave back a slot of server `si`.
    pub(super) fn srv_gauge(&self, bi: usize, si: usize, up: bool) {
        if self.shared.nthreads > 1 {
            gauge(&self.backends[bi].servers[si].cur_all, up);
            gauge(&self.shared.be_cur[bi], up);
        }
    }

    fn gauges(&self) -> Gauges {
        Gauges {
            conns: self.cur_conns,
            be_q: self
                .backends
                .iter()
                .map(|b| {
                    (b.queue.len() + b.servers.iter().map(|s| s.queue.len()).sum::<usize>()) as u32
                })
                .collect(),
            srv_q: self
                .backends
                .iter()
                .map(|b| b.servers.iter().map(|s| s.queue.len() as u32).collect())
                .collect(),
            lbtot: self
                .backends
                .iter()
                .map(|b| b.servers.iter().map(|s| s.total).collect())
                .collect(),
        }
    }

    /// Process-wide current values: ours plus the other threads' last.
    pub(super) fn total_conns(&self) -> u32 {
        self.cur_conns + self.shared.others(self.tid, |g| g.conns)
    }

    pub(super) fn total_fe_cur(&self, fi: usize) -> u32 {
        if self.shared.nthreads == 1 {
            return self.frontends[fi].cur;
        }
        self.shared.fe_cur[fi].load(Ordering::Relaxed)
    }

    pub(super) fn total_srv_cur(&self, bi: usize, si: usize) -> u32 {
        let s = &self.backends[bi].servers[si];
        if self.shared.nthreads == 1 {
            return s.cur;
        }
        s.cur_all.load(Ordering::Relaxed)
    }

    pub(super) fn total_be_cur(&self, bi: usize) -> u32 {
        if self.shared.nthreads == 1 {
            return self.backends[bi].servers.iter().map(|s| s.cur).sum();
        }
        self.shared.be_cur[bi].load(Ordering::Relaxed)
    }

    pub(super) fn total_be_queue(&self, bi: usize) -> usize {
        let b = &self.backends[bi];
        b.queue.len()
            + b.servers.iter().map(|s| s.queue.len()).sum::<usize>()
            + self
                .shared
                .others(self.tid, |g| g.be_q.get(bi).copied().unwrap_or(0) as usize)
    }

    /// `lbtot` of server `si`, or of the whole backend.
    pub(super) fn total_lbtot(&self, bi: usize, si: Option<usize>) -> u64 {
        let pick = |v: &[u64]| match si {
            Some(si) => v.get(si).copied().unwrap_or(0),
            None => v.iter().sum(),
        };
        let servers = &self.backends[bi].servers;
        let ours = match si {
            Some(si) => servers.get(si).map_or(0, |s| s.total),
            None => servers.iter().map(|s| s.total).sum(),
        };
        ours + self
            .shared
            .others(self.tid, |g| g.lbtot.get(bi).map_or(0, |v| pick(v)))
    }

    pub(super) fn total_srv_queue(&self, bi: usize, si: usize) -> usize {
        self.backends[bi]
            .servers
            .get(si)
            .map_or(0, |s| s.queue.len())
            + self.shared.others(self.tid, |g| {
                g.srv_q
                    .get(bi)
                    .and_then(|v| v.get(si))
                    .copied()
                    .unwrap_or(0) as usize
            })
    }
}

fn gauge(g: &AtomicU32, up: bool) {
    if up {
        g.fetch_add(1, Ordering::Relaxed);
    } else {
        // Never below 0, as the per-thread counts it mirrors.
        let _ = g.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        for n in [0u32, 1, 2, 3, 7, 100, 101] {
            for k in 1..=5usize {
                let s: Vec<u32> = (0..k).map(|t| share(n, t, k)).collect();
                assert_eq!(s.iter().sum::<u32>(), n, "{n} over {k}");
                let (lo, hi) = (s.iter().min().unwrap(), s.iter().max().unwrap());
                assert!(hi - lo <= 1, "{s:?}");
            }
        }
    }
}
