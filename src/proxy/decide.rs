//! The proxy's answers to a transaction's questions (`session::decide`):
//! `track-scN` and stick counters, cookie and stick-table persistence. The
//! stick tables are the process's (shared by every thread): their lock is
//! taken around each table operation, never across a socket call.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use crate::config::Persistence;
use crate::http::fetch::{Counter, FetchCtx, Tracked};
use crate::http::message::{Request, Response};
use crate::http::rules::TrackSc;
use crate::http::track::Slots;
use crate::proxy::persist::{self, Servers};
use crate::proxy::stick::{self, StickTables};
use crate::sample::vars::Vars;
use crate::sample::Value;
use crate::session::decide::{CookieOut, Decide, PersistResponse, Persisted};

/// One step's view of the proxies for [`Decide`].
pub struct Decider<'a> {
    /// None: the configuration has no stick table (nothing to lock).
    pub stick: Option<&'a Mutex<StickTables>>,
    /// Persistence settings of every backend, by index.
    pub persist: &'a [Persistence],
    /// Each backend's servers as persistence sees them (cookie, usable).
    pub views: &'a dyn Servers,
    pub now: Instant,
}

impl Decider<'_> {
    /// One operation on the stick tables, under their lock; without tables
    /// it finds nothing.
    fn tables<R: Default>(&self, f: impl FnOnce(&mut StickTables) -> R) -> R {
        match self.stick {
            Some(m) => f(&mut crate::proxy::locks::lock(m)),
            None => R::default(),
        }
    }
}

impl Decide for Decider<'_> {
    fn count_request(&mut self, slots: &Slots) {
        if slots.iter().any(Option::is_some) {
            self.tables(|t| stick::count_http_req(t, slots, self.now));
        }
    }

    fn count_http_err(&mut self, slots: &Slots) {
        if slots.iter().any(Option::is_some) {
            self.tables(|t| stick::count_http_err(t, slots, self.now));
        }
    }

    fn track(&mut self, slots: &mut Slots, own_table: &str, rule: &TrackSc, key: &Value) {
        self.tables(|t| stick::track_sc(t, slots, own_table, rule, key, self.now));
    }

    fn counter(
        &self,
        slots: &Slots,
        own_table: &str,
        src: IpAddr,
        of: Tracked,
        what: Counter,
    ) -> Option<i64> {
        self.tables(|t| stick::counter(t, slots, own_table, src, of, what, self.now))
    }

    fn persist_request(
        &mut self,
        bi: usize,
        req: &mut Request,
        src: SocketAddr,
        dst: SocketAddr,
        vars: &Vars,
    ) -> Option<Persisted> {
        let bp = self.persist.get(bi)?;
        if bp.cookie.is_none()
            && bp.stick.is_empty()
            && !bp.persist
            && bp.rules.is_empty()
            && bp.use_server.is_empty()
        {
            return None;
        }
        let ctx = FetchCtx::http(src, dst, Some(req), None).with_vars(vars);
        let flags = persist::persist_rules(&bp.rules, bp.persist, &ctx);
        let mut p = Persisted {
            flags,
            ..Persisted::default()
        };
        if let Some(cc) = bp.cookie.as_ref() {
            let views = (0..).map_while(|si| self.views.view(bi, si));
            let c = persist::choose(cc, req, views, flags, SystemTime::now());
            (p.server, p.cookie_in) = (c.server, c.status);
            p.by_cookie = c.server.is_some();
        }
        if p.server.is_none() && !bp.use_server.is_empty() {
            p.server = persist::use_server(&bp.use_server, self.views, bi, &ctx, flags);
        }
        if p.server.is_none() && !flags.ignore {
            let usable_or_forced = |si: &usize| {
                self.views.view(bi, *si).is_some_and(|v| v.usable) || flags.persist || flags.force
            };
            p.server = self
                .stick
                .and_then(|m| stick::stick_match(&bp.stick, m, &ctx, self.now))
                .filter(usable_or_forced);
        }
        if let Some(cc) = bp.cookie.as_ref() {
            p.cookie_req = Some(req.clone());
            persist::strip_request(cc, req);
        }
        Some(p)
    }

    fn persist_response(&mut self, r: PersistResponse, res: &mut Response) -> Option<CookieOut> {
        let bp = self.persist.get(r.bi)?;
        let out = bp.cookie.as_ref().map(|cc| {
            let own = self.views.view(r.bi, r.si).and_then(|v| v.cookie);
            let when = SystemTime::now();
            persist::on_response(cc, r.flags, r.sent, res, own, r.by_cookie, when)
        });
        if !bp.stick.is_empty() {
            let ctx = FetchCtx::http(r.src, r.dst, Some(r.req), Some(res)).with_vars(r.vars);
            if let Some(m) = self.stick {
                stick::stick_store_response(&bp.stick, m, &ctx, r.si, self.now);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No backend has servers.
    struct NoServers;
    impl Servers for NoServers {
        fn view(&self, _: usize, _: usize) -> Option<persist::ServerView<'_>> {
            None
        }
    }
    use crate::config::{Origin, StickData, StickKeyType, StickStore, StickTableCfg};
    use crate::http::fetch::Fetch;
    use crate::http::message::Headers;
    use std::time::Duration;

    fn tables() -> Mutex<StickTables> {
        let mut store = StickStore::default();
        store.set(StickData::ConnCur, Duration::ZERO);
        store.set(StickData::HttpReqRate, Duration::from_secs(10));
        let cfg = StickTableCfg {
            name: "fe".into(),
            origin: Origin::default(),
            key: StickKeyType::Ip,
            len: 32,
            size: 10,
            expire: None,
            store,
            servers: Vec::new(),
        };
        Mutex::new(StickTables::new(&[cfg]))
    }

    #[test]
    fn the_stick_lock_is_held_for_one_operation_only() {
        let m = tables();
        let mut d = Decider {
            stick: Some(&m),
            persist: &[],
            views: &NoServers,
            now: Instant::now(),
        };
        let mut slots: Slots = Default::default();
        let src: IpAddr = "10.0.0.1".parse().unwrap();
        let rule = TrackSc {
            slot: 0,
            key: Fetch::Src,
            table: None,
        };
        d.track(&mut slots, "fe", &rule, &Value::from(src));
        assert!(m.try_lock().is_ok(), "the lock outlived `track`");
        let rate = |d: &Decider, slots: &Slots| {
            d.counter(
                slots,
                "fe",
                src,
                Tracked::Sc(0, None),
                Counter::Data(StickData::HttpReqRate),
            )
        };
        assert_eq!(rate(&d, &slots), Some(1));
        assert_eq!(
            d.counter(
                &slots,
                "fe",
                src,
                Tracked::Src(None),
                Counter::Data(StickData::ConnCur)
            ),
            Some(1)
        );
        d.count_request(&slots);
        assert_eq!(rate(&d, &slots), Some(2));
        assert!(m.try_lock().is_ok(), "the lock outlived a counter update");
    }

    #[test]
    fn without_tables_or_persistence_nothing_is_decided() {
        let mut d = Decider {
            stick: None,
            persist: &[],
            views: &NoServers,
            now: Instant::now(),
        };
        let mut slots: Slots = Default::default();
        let src: IpAddr = "10.0.0.1".parse().unwrap();
        let rule = TrackSc {
            slot: 0,
            key: Fetch::Src,
            table: None,
        };
        d.track(&mut slots, "fe", &rule, &Value::from(src));
        assert!(slots.iter().all(Option::is_none));
        assert_eq!(
            d.counter(
                &slots,
                "fe",
                src,
                Tracked::Src(None),
                Counter::Data(StickData::ConnCur)
            ),
            None
        );
        let mut req = Request {
            method: "GET".into(),
            uri: "/".into(),
            version: crate::http::Version::Http11,
            headers: vec![("Cookie".into(), "SRV=a".into())],
        };
        let a: SocketAddr = "10.0.0.1:1234".parse().unwrap();
        assert!(d
            .persist_request(0, &mut req, a, a, &Vars::default())
            .is_none());
        assert_eq!(req.header("cookie"), Some("SRV=a"));
    }
}
