//! Fetches on the proxies' state (manual §7.3.2): `fe_id`, `be_id`,
//! `srv_id`, `srv_name`, `nbsrv`, `be_conn`, `connslots`, `queue`,
//! `avg_queue`, `srv_conn`, `srv_is_up`, `srv_queue`, `srv_weight`,
//! `srv_iweight`, `srv_uweight`. The engine answers through [`ProxyView`];
//! backend and server names given as arguments are checked when the
//! configuration is read (see [`take_references`]).

use super::{text, want_args, FetchCtx, Fetched, Kind};
use crate::sample::Value;
use std::cell::RefCell;

/// What a backend-state fetch asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeStat {
    /// Usable servers: the active ones, or the backups when none is.
    Nbsrv,
    /// Current sessions.
    Conn,
    /// Free connection and queue slots of the running servers; -1 when one
    /// has no `maxconn` or no `maxqueue` (no bound).
    Connslots,
    /// Requests waiting, in the backend and its servers' queues.
    Queue,
    /// `queue` over `nbsrv`, rounded up (twice the queue without servers).
    AvgQueue,
}

/// What a server-state fetch asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrvStat {
    Conn,
    IsUp,
    Queue,
    /// The effective weight (after slowstart).
    Weight,
    /// The initial (configured) weight.
    IWeight,
    /// The user weight (`set weight`).
    UWeight,
}

/// The engine's answers, by index; ids are HAProxy's (`uuid`, `puid`).
pub trait ProxyView {
    fn frontend_id(&self, fi: usize) -> Option<i64>;
    /// The name (`bind ... name`) of frontend `fi`'s listener `id`.
    fn listener_name(&self, fi: usize, id: u32) -> Option<&str>;
    fn backend(&self, bi: usize) -> Option<(i64, &str)>;
    fn backend_index(&self, name: &str) -> Option<usize>;
    fn server(&self, bi: usize, si: usize) -> Option<(i64, &str)>;
    fn server_index(&self, bi: usize, name: &str) -> Option<usize>;
    fn be_stat(&self, bi: usize, what: BeStat) -> i64;
    fn srv_stat(&self, bi: usize, si: usize, what: SrvStat) -> i64;
}

/// The engine's view and where the stream stands in it, as a rule sees
/// them (in the transaction's [`super::Stamp`]).
#[derive(Clone, Copy, Default)]
pub struct Where<'a> {
    pub view: Option<&'a dyn ProxyView>,
    pub frontend: Option<usize>,
    /// The listener's id (`so_id`).
    pub listener: Option<u32>,
    pub backend: Option<usize>,
    pub server: Option<usize>,
}

impl std::fmt::Debug for Where<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Where")
            .field("frontend", &self.frontend)
            .field("backend", &self.backend)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Px {
    FeId,
    /// `so_id`, `so_name`: the listener the client connected to.
    SoId,
    SoName,
    BeId,
    SrvId,
    SrvName,
    /// A backend's state; None: the stream's backend.
    Be(BeStat, Option<String>),
    /// A server's state: `[BACKEND/]SERVER`.
    Srv(SrvStat, Option<String>, String),
}

thread_local! {
    /// Backend and `backend/server` names fetches named, for the loader.
    // Already const: nightly clippy flags it anyway on targets with
    // emulated TLS (OpenBSD, Solaris).
    #[allow(clippy::missing_const_for_thread_local)]
    static REFS: RefCell<Vec<(Option<String>, Option<String>)>> = const { RefCell::new(Vec::new()) };
}

/// The (backend, server) names referenced since the last call.
pub fn take_references() -> Vec<(Option<String>, Option<String>)> {
    REFS.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

fn note(be: Option<&str>, srv: Option<&str>) {
    REFS.with(|r| {
        r.borrow_mut()
            .push((be.map(str::to_string), srv.map(str::to_string)))
    });
}

pub fn parse(name: &str, a: &[&str]) -> Option<Result<Px, String>> {
    let none = |p: Px| want_args(name, a, 0, 0).map(|()| p);
    let be = |what: BeStat| {
        want_args(name, a, 0, 1).map(|()| {
            let b = a.first().filter(|b| !b.is_empty()).map(|b| b.to_string());
            if let Some(b) = &b {
                note(Some(b), None);
            }
            Px::Be(what, b)
        })
    };
    let srv = |what: SrvStat| {
        want_args(name, a, 1, 1).map(|()| {
            let (b, s) = match a[0].split_once('/') {
                Some((b, s)) => (Some(b.to_string()), s.to_string()),
                None => (None, a[0].to_string()),
            };
            note(b.as_deref(), Some(&s));
            Px::Srv(what, b, s)
        })
    };
    let r = match name {
        "fe_id" => none(Px::FeId),
        "so_id" => none(Px::SoId),
        "so_name" => none(Px::SoName),
        "be_id" => none(Px::BeId),
        "srv_id" => none(Px::SrvId),
        "srv_name" => none(Px::SrvName),
        "nbsrv" => be(BeStat::Nbsrv),
        "be_conn" => be(BeStat::Conn),
        "connslots" => be(BeStat::Connslots),
        "queue" => be(BeStat::Queue),
        "avg_queue" => be(BeStat::AvgQueue),
        "srv_conn" => srv(SrvStat::Conn),
        "srv_is_up" => srv(SrvStat::IsUp),
        "srv_queue" => srv(SrvStat::Queue),
        "srv_weight" => srv(SrvStat::Weight),
        "srv_iweight" => srv(SrvStat::IWeight),
        "srv_uweight" => srv(SrvStat::UWeight),
        _ => return None,
    };
    Some(r)
}

impl Px {
    /// The server is known once a response is being handled (HAProxy
    /// refuses `srv_id` and `srv_name` in request rules too).
    pub fn needs(&self) -> u8 {
        match self {
            Px::SrvId | Px::SrvName => super::needs::RES,
            _ => 0,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Px::SrvName | Px::SoName => Kind::Str,
            Px::Srv(SrvStat::IsUp, ..) => Kind::Bool,
            _ => Kind::Int,
        }
    }

    pub fn fetch<'a>(&self, ctx: &FetchCtx<'a>) -> Fetched<'a> {
        let w = ctx.txn.stamp.px;
        let Some(view) = w.view else {
            return Fetched::none();
        };
        let int = |n: i64| Fetched::one(Value::Sint(n));
        let backend = |name: &Option<String>| match name {
            Some(n) => view.backend_index(n),
            None => w.backend,
        };
        match self {
            Px::FeId => w
                .frontend
                .and_then(|f| view.frontend_id(f))
                .map_or_else(Fetched::none, int),
            Px::SoId => w.listener.map_or_else(Fetched::none, |id| int(id.into())),
            Px::SoName => w
                .frontend
                .zip(w.listener)
                .and_then(|(f, id)| view.listener_name(f, id))
                .map_or_else(Fetched::none, |n| Fetched::one(text(n))),
            // Before a backend is chosen, the frontend is the backend.
            Px::BeId => match w.backend {
                Some(b) => view
                    .backend(b)
                    .map_or_else(Fetched::none, |(id, _)| int(id)),
                None => w
                    .frontend
                    .and_then(|f| view.frontend_id(f))
                    .map_or_else(Fetched::none, int),
            },
            Px::SrvId | Px::SrvName => {
                let Some((id, name)) = w.backend.zip(w.server).and_then(|(b, s)| view.server(b, s))
                else {
                    return Fetched::none();
                };
                match self {
                    Px::SrvId => int(id),
                    _ => Fetched::one(text(name)),
                }
            }
            Px::Be(what, name) => backend(name).map_or_else(Fetched::none, |b| {
                let mut n = view.be_stat(b, *what);
                // HAProxy counts a stream in its backend from the moment it
                // is assigned; the engine, once it has a server.
                if *what == BeStat::Conn && w.backend == Some(b) && w.server.is_none() {
                    n += 1;
                }
                int(n)
            }),
            Px::Srv(what, be, srv) => {
                let Some(b) = backend(be) else {
                    return Fetched::none();
                };
                let Some(s) = view.server_index(b, srv) else {
                    return Fetched::none();
                };
                let n = view.srv_stat(b, s, *what);
                match what {
                    SrvStat::IsUp => Fetched::one(Value::Bool(n != 0)),
                    _ => int(n),
                }
            }
        }
    }
}
