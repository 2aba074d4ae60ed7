use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::*;
use std::sync::Mutex;

use crate::config::{Origin, StickStore};
use crate::http::acl::{parse_condition, AclSet};
use crate::http::fetch::Fetch;
use crate::http::fetch::{Counter, CounterView, Tracked};
use crate::http::message::{Request, Response};
use crate::http::rules::TrackSc;
use crate::http::rules::{run_request_tracked, Action, Rule, Verdict};
use crate::http::Version;

fn table(key: StickKeyType, size: usize, expire: Option<u64>) -> StickTableCfg {
    StickTableCfg {
        name: "be".into(),
        origin: Origin::default(),
        key,
        len: 32,
        size,
        expire: expire.map(Duration::from_secs),
        store: store(&[
            (StickData::ConnCur, 0),
            (StickData::ConnRate, 10),
            (StickData::HttpReqRate, 10),
        ]),
        servers: Vec::new(),
    }
}

fn store(types: &[(StickData, u64)]) -> StickStore {
    let mut s = StickStore::default();
    for (d, p) in types {
        s.set(*d, Duration::from_secs(*p));
    }
    s
}

fn s(k: &str) -> StickKey {
    StickKey::Str(k.into())
}

fn ms(t0: Instant, n: u64) -> Instant {
    t0 + Duration::from_millis(n)
}

#[test]
fn entries_expire_unless_used_again() {
    let t0 = Instant::now();
    let mut t = StickTable::new(&table(StickKeyType::String, 10, Some(30)));
    assert!(t.put_server(&s("a"), 1, t0));
    assert!(t.put_server(&s("b"), 2, t0));
    // Reading "a" at 20s refreshes it; "b" expires at 30s.
    assert_eq!(t.get(&s("a"), ms(t0, 20_000)).unwrap().server_id, Some(1));
    assert!(t.get(&s("b"), ms(t0, 30_000)).is_none());
    assert!(t.get(&s("a"), ms(t0, 49_000)).is_some());
    assert!(t.get(&s("a"), ms(t0, 80_000)).is_none());
    assert!(t.is_empty());
}

#[test]
fn a_full_table_evicts_the_least_recently_used_untracked_entry() {
    let t0 = Instant::now();
    let mut t = StickTable::new(&table(StickKeyType::String, 2, None));
    t.put_server(&s("a"), 0, t0);
    t.put_server(&s("b"), 1, ms(t0, 1));
    t.get(&s("a"), ms(t0, 2));
    t.put_server(&s("c"), 2, ms(t0, 3));
    assert_eq!(t.len(), 2);
    assert!(t.get(&s("b"), ms(t0, 4)).is_none());
    // A tracked entry is never evicted; when all are tracked nothing fits.
    t.track(&s("a"), ms(t0, 5)).unwrap();
    t.track(&s("c"), ms(t0, 6)).unwrap();
    assert!(!t.put_server(&s("d"), 3, ms(t0, 7)));
    assert!(t.get(&s("a"), ms(t0, 8)).is_some());
}

#[test]
fn string_keys_are_truncated_and_addresses_converted() {
    let mut cfg = table(StickKeyType::String, 1, None);
    cfg.len = 4;
    let k = key_from_sample(&Value::str(&b"abcdefg"[..]), &cfg);
    assert_eq!(k, Some(s("abcd")));
    let cfg = table(StickKeyType::Ipv6, 1, None);
    let k = key_from_sample(&Value::from("10.0.0.1".parse::<IpAddr>().unwrap()), &cfg);
    assert_eq!(k, Some(StickKey::Ip("::ffff:10.0.0.1".parse().unwrap())));
    let cfg = table(StickKeyType::Ip, 1, None);
    let k = key_from_sample(&Value::from("2001:db8::1".parse::<IpAddr>().unwrap()), &cfg);
    assert_eq!(k, None);
}

#[test]
fn rates_slide_over_two_periods() {
    let t0 = Instant::now();
    let mut t = StickTable::new(&table(StickKeyType::String, 10, None));
    t.put_server(&s("k"), 0, t0);
    for i in 0..20 {
        t.inc_http_req(&s("k"), ms(t0, i * 50));
    }
    let rate = |t: &StickTable, at: u64| t.data(&s("k"), StickData::HttpReqRate, ms(t0, at));
    assert_eq!(rate(&t, 1_000), Some(20));
    assert_eq!(rate(&t, 9_999), Some(20));
    // Next period: the previous one weighs by the part of the window left.
    assert_eq!(rate(&t, 12_500), Some(15));
    assert_eq!(rate(&t, 15_000), Some(10));
    t.inc_http_req(&s("k"), ms(t0, 15_000));
    assert_eq!(rate(&t, 15_000), Some(11));
    // Two periods later nothing is left.
    assert_eq!(rate(&t, 30_000), Some(0));
    assert_eq!(t.data(&s("x"), StickData::HttpReqRate, t0), Some(0));
}

#[test]
fn tracking_counts_current_connections() {
    let t0 = Instant::now();
    let mut t = StickTable::new(&table(StickKeyType::String, 10, Some(10)));
    let r = t.track(&s("k"), t0).unwrap();
    t.track(&s("k"), t0).unwrap();
    let c = |d| t.data(&r.key, d, t0);
    assert_eq!(c(StickData::ConnCur), Some(2));
    assert_eq!(c(StickData::ConnRate), Some(2));
    assert_eq!(c(StickData::ConnCnt), None, "not stored");
    // Tracked entries do not expire.
    assert!(t.get(&s("k"), ms(t0, 60_000)).is_some());
    t.dec_conn_cur(&s("k"), ms(t0, 60_000));
    t.dec_conn_cur(&s("k"), ms(t0, 60_000));
    assert_eq!(t.data(&r.key, StickData::ConnCur, ms(t0, 60_000)), Some(0));
    assert!(t.get(&s("k"), ms(t0, 71_000)).is_none());
}

fn words(s: &str) -> Vec<String> {
    s.split(' ').map(String::from).collect()
}

fn get(cookie: Option<&str>) -> Request {
    let mut headers = vec![("Host".to_string(), "a".to_string())];
    if let Some(c) = cookie {
        headers.push(("Cookie".into(), c.into()));
    }
    Request {
        method: "GET".into(),
        uri: "/".into(),
        version: Version::Http11,
        headers,
    }
}

fn addr() -> SocketAddr {
    "192.0.2.7:4000".parse().unwrap()
}

#[test]
fn store_response_learns_the_applications_session_cookie() {
    let t0 = Instant::now();
    let cfg = table(StickKeyType::String, 100, Some(1800));
    let tables = Mutex::new(StickTables::new(&[cfg]));
    let rule = |kind, f: &str| StickRule {
        kind,
        pattern: Fetch::parse(f).unwrap(),
        table: "be".into(),
        cond: None,
    };
    let rules = [
        rule(StickKind::Match, "req.cook(JSESSIONID)"),
        rule(StickKind::StoreResponse, "res.cook(JSESSIONID)"),
    ];
    let first = get(None);
    let ctx = FetchCtx::http(addr(), addr(), Some(&first), None);
    assert_eq!(stick_match(&rules, &tables, &ctx, t0), None);
    let res = Response {
        version: Version::Http11,
        status: 200,
        reason: "OK".into(),
        headers: vec![("Set-Cookie".into(), "JSESSIONID=abc42; Path=/".into())],
    };
    let ctx = FetchCtx::http(addr(), addr(), Some(&first), Some(&res));
    stick_store_response(&rules, &tables, &ctx, 3, t0);
    let later = get(Some("JSESSIONID=abc42"));
    let ctx = FetchCtx::http(addr(), addr(), Some(&later), None);
    assert_eq!(stick_match(&rules, &tables, &ctx, ms(t0, 5_000)), Some(3));
    let other = get(Some("JSESSIONID=zzz"));
    let ctx = FetchCtx::http(addr(), addr(), Some(&other), None);
    assert_eq!(stick_match(&rules, &tables, &ctx, ms(t0, 5_000)), None);
}

#[test]
fn stick_on_src_stores_then_matches() {
    let t0 = Instant::now();
    let tables = Mutex::new(StickTables::new(&[table(StickKeyType::Ip, 10, None)]));
    let rules = [StickRule {
        kind: StickKind::On,
        pattern: Fetch::Src,
        table: "be".into(),
        cond: None,
    }];
    let rq = get(None);
    let ctx = FetchCtx::http(addr(), addr(), Some(&rq), None);
    assert_eq!(stick_match(&rules, &tables, &ctx, t0), None);
    stick_store_request(&rules, &tables, &ctx, 1, t0);
    assert_eq!(stick_match(&rules, &tables, &ctx, t0), Some(1));
}

#[test]
fn track_sc0_and_a_rate_acl_deny_through_the_rules_executor() {
    let t0 = Instant::now();
    let tables = Mutex::new(StickTables::new(&[table(StickKeyType::Ip, 100, Some(60))]));
    let acls = AclSet::default();
    let rules = [
        Rule {
            action: Action::TrackSc(TrackSc {
                slot: 0,
                key: Fetch::Src,
                table: None,
            }),
            cond: None,
        },
        Rule {
            action: Action::Deny(429),
            cond: Some(parse_condition(&words("if { sc0_http_req_rate gt 5 }"), &acls).unwrap()),
        },
    ];
    let mut verdicts = Vec::new();
    for i in 0..8 {
        let mut slots: Slots = Default::default();
        let now = ms(t0, i * 100);
        let mut tr = StreamTracker {
            tables: &tables,
            slots: &mut slots,
            own_table: "be",
            src: addr().ip(),
            now,
            http: true,
        };
        let mut rq = get(None);
        verdicts.push(run_request_tracked(
            &rules,
            &mut rq,
            addr(),
            addr(),
            &mut tr,
        ));
        let cur = tr.counter(Tracked::Src(None), Counter::Data(StickData::ConnCur));
        assert_eq!(cur, Some(1));
        release(&mut tables.lock().unwrap(), &mut slots, now);
    }
    let denied = verdicts
        .iter()
        .filter(|v| **v == Verdict::Deny(429))
        .count();
    assert_eq!(denied, 3, "{verdicts:?}");
    assert!(verdicts[..5].iter().all(|v| *v == Verdict::Continue));
    // Without a tracker, nothing is tracked and the ACL has no sample.
    let mut rq = get(None);
    let v = crate::http::rules::run_request(&rules, &mut rq, addr(), addr());
    assert_eq!(v, Verdict::Continue);
}

fn gpc_table() -> StickTableCfg {
    StickTableCfg {
        name: "t".into(),
        store: store(&[
            (StickData::Gpc0, 0),
            (StickData::Gpc0Rate, 10),
            (StickData::Gpt0, 0),
            (StickData::ConnCnt, 0),
            (StickData::BytesInCnt, 0),
        ]),
        ..table(StickKeyType::Ip, 10, Some(60))
    }
}

#[test]
fn counter_fetches_follow_haproxys_absent_entry_rules() {
    let t0 = Instant::now();
    let mut tables = StickTables::new(&[gpc_table()]);
    let src: IpAddr = "10.0.0.1".parse().unwrap();
    let mut slots: Slots = Default::default();
    let c = |tables: &mut StickTables, slots: &Slots, of, what| {
        counter(tables, slots, "t", src, of, what, t0)
    };
    // Nothing tracked: scN_* have no sample, `tracked` is false.
    assert_eq!(
        c(
            &mut tables,
            &slots,
            Tracked::Sc(0, None),
            Counter::Data(StickData::Gpc0)
        ),
        None
    );
    assert_eq!(
        c(&mut tables, &slots, Tracked::Sc(0, None), Counter::Tracked),
        Some(0)
    );
    // src_* on an absent entry: 0, and nothing is created by reading.
    let gpc0 = Counter::Data(StickData::Gpc0);
    assert_eq!(c(&mut tables, &slots, Tracked::Src(None), gpc0), Some(0));
    assert!(tables.get("t").unwrap().is_empty());
    // src_inc_gpc0 creates the entry; a type not stored has no sample once
    // the entry exists (0 before).
    assert_eq!(
        c(&mut tables, &slots, Tracked::Src(None), Counter::IncGpc(0)),
        Some(1)
    );
    assert_eq!(
        c(&mut tables, &slots, Tracked::Src(None), Counter::IncGpc(0)),
        Some(2)
    );
    let http = Counter::Data(StickData::HttpReqCnt);
    assert_eq!(c(&mut tables, &slots, Tracked::Src(None), http), None);
    assert_eq!(
        c(&mut tables, &slots, Tracked::Src(None), Counter::IncGpc(1)),
        None
    );
    let rate = Counter::Data(StickData::Gpc0Rate);
    assert_eq!(c(&mut tables, &slots, Tracked::Src(None), rate), Some(2));
    // clr gives the old value.
    assert_eq!(
        c(&mut tables, &slots, Tracked::Src(None), Counter::ClrGpc(0)),
        Some(2)
    );
    assert_eq!(c(&mut tables, &slots, Tracked::Src(None), gpc0), Some(0));
    assert_eq!(
        c(
            &mut tables,
            &slots,
            Tracked::Src(None),
            Counter::UpdtConnCnt
        ),
        Some(1)
    );
    // Tracking: trackers, sc_* with the slot's entry.
    let rule = TrackSc {
        slot: 1,
        key: Fetch::Src,
        table: Some("t".into()),
    };
    track_sc(&mut tables, &mut slots, "t", &rule, &Value::from(src), t0);
    assert_eq!(
        c(&mut tables, &slots, Tracked::Sc(1, None), Counter::Trackers),
        Some(1)
    );
    assert_eq!(
        c(&mut tables, &slots, Tracked::Sc(1, None), Counter::Tracked),
        Some(1)
    );
    let conn = Counter::Data(StickData::ConnCnt);
    assert_eq!(c(&mut tables, &slots, Tracked::Sc(1, None), conn), Some(2));
    assert_eq!(
        c(
            &mut tables,
            &slots,
            Tracked::Sc(1, None),
            Counter::SetGpt0(-1)
        ),
        Some(-1)
    );
    let gpt0 = Counter::Data(StickData::Gpt0);
    assert_eq!(
        c(&mut tables, &slots, Tracked::Sc(1, None), gpt0),
        Some(i64::from(u32::MAX))
    );
    add_bytes(&mut tables, &slots, 3000, 10, t0);
    let kb = Counter::KBytes(StickData::BytesInCnt);
    assert_eq!(c(&mut tables, &slots, Tracked::Sc(1, None), kb), Some(2));
    // As HAProxy, src_inc_gpc1 creates the entry even without gpc1.
    let mut fresh = StickTables::new(&[gpc_table()]);
    let inc1 = Counter::IncGpc(1);
    assert_eq!(
        c(&mut fresh, &Slots::default(), Tracked::Src(None), inc1),
        None
    );
    assert_eq!(fresh.get("t").unwrap().len(), 1);
    release(&mut tables, &mut slots, t0);
    assert_eq!(
        c(&mut tables, &slots, Tracked::Src(None), Counter::Trackers),
        Some(0)
    );
}

fn words_of(line: &str) -> Vec<String> {
    line.split(' ').map(String::from).collect()
}

fn cli_run(tables: &mut StickTables, line: &str, now: Instant) -> Result<String, String> {
    let cmd = crate::runtime::table::parse(&words_of(line)).unwrap()?;
    cli::run(tables, &cmd, now)
}

#[test]
fn show_clear_and_set_table() {
    let t0 = Instant::now();
    let mut tables = StickTables::new(&[gpc_table(), table(StickKeyType::String, 10, None)]);
    assert_eq!(
        cli_run(&mut tables, "show table", t0).unwrap(),
        "# table: be, type: string, size:10, used:0\n# table: t, type: ip, size:10, used:0\n"
    );
    cli_run(
        &mut tables,
        "set table t key 10.0.0.2 data.gpc0 7 data.gpt0 1",
        t0,
    )
    .unwrap();
    cli_run(&mut tables, "set table t key 10.0.0.10 data.gpc0 1", t0).unwrap();
    assert_eq!(
        cli_run(
            &mut tables,
            "set table t key 10.0.0.3 data.http_req_cnt 1",
            t0
        ),
        Err("Data type not stored in this table".into())
    );
    assert_eq!(
        cli_run(&mut tables, "set table t key nope data.gpc0 1", t0),
        Err("Invalid key".into())
    );
    let out = cli_run(&mut tables, "show table t", ms(t0, 1500)).unwrap();
    let re = regex::Regex::new("0x[0-9a-f]+: ").unwrap();
    assert_eq!(
        re.replace_all(&out, ""),
        "# table: t, type: ip, size:10, used:3\n\
         key=10.0.0.2 use=0 exp=58500 gpt0=1 gpc0=7 gpc0_rate(10000)=0 conn_cnt=0 bytes_in_cnt=0\n\
         key=10.0.0.3 use=0 exp=58500 gpt0=0 gpc0=0 gpc0_rate(10000)=0 conn_cnt=0 bytes_in_cnt=0\n\
         key=10.0.0.10 use=0 exp=58500 gpt0=0 gpc0=1 gpc0_rate(10000)=0 conn_cnt=0 bytes_in_cnt=0\n"
    );
    let shown = |tables: &mut StickTables, line| {
        let out = cli_run(tables, line, t0).unwrap();
        out.lines().skip(1).count()
    };
    assert_eq!(shown(&mut tables, "show table t data.gpc0 gt 0"), 2);
    assert_eq!(
        shown(&mut tables, "show table t data.gpc0 gt 0 data.gpt0 eq 1"),
        1
    );
    assert_eq!(
        cli_run(&mut tables, "show table t key 10.0.0.9", t0).unwrap(),
        ""
    );
    assert_eq!(
        cli_run(&mut tables, "show table t data.server_id eq 0", t0),
        Err("Filter entry #1: Data type not stored in this table".into())
    );
    cli_run(&mut tables, "clear table t data.gpc0 ge 1", t0).unwrap();
    assert_eq!(tables.get("t").unwrap().len(), 1);
    cli_run(&mut tables, "clear table t key 10.0.0.3", t0).unwrap();
    assert!(tables.get("t").unwrap().is_empty());
    assert_eq!(
        cli_run(&mut tables, "show table x", t0),
        Err("No such table".into())
    );
    cli_run(
        &mut tables,
        "set table be key abcdefghijklmnopqrstuvwxyz0123456789",
        t0,
    )
    .unwrap();
    let out = cli_run(&mut tables, "show table be", t0).unwrap();
    assert!(out.contains(" key=abcdefghijklmnopqrstuvwxyz012345 use=0 exp=0 conn_rate(10000)=0 conn_cur=0 http_req_rate(10000)=0\n"), "{out}");
}

#[test]
fn clear_table_keeps_tracked_entries() {
    let t0 = Instant::now();
    let mut tables = StickTables::new(&[gpc_table()]);
    let mut slots: Slots = Default::default();
    let rule = TrackSc {
        slot: 0,
        key: Fetch::Src,
        table: None,
    };
    track_sc(
        &mut tables,
        &mut slots,
        "t",
        &rule,
        &Value::from("10.0.0.1".parse::<IpAddr>().unwrap()),
        t0,
    );
    cli_run(&mut tables, "clear table t", t0).unwrap();
    let out = cli_run(&mut tables, "show table t", t0).unwrap();
    assert!(out.contains("key=10.0.0.1 use=1 "), "{out}");
    release(&mut tables, &mut slots, t0);
    cli_run(&mut tables, "clear table t", t0).unwrap();
    assert!(tables.get("t").unwrap().is_empty());
}

#[test]
fn connection_entries_outlive_their_transactions() {
    let t0 = Instant::now();
    let cfg = StickTableCfg {
        store: store(&[
            (StickData::ConnCur, 0),
            (StickData::SessCnt, 0),
            (StickData::SessRate, 10),
            (StickData::HttpReqCnt, 0),
        ]),
        ..gpc_table()
    };
    let mut tables = StickTables::new(&[cfg]);
    let src: IpAddr = "10.0.0.1".parse().unwrap();
    let mut slots: Slots = Default::default();
    let conn = |slot| TrackSc {
        slot,
        key: Fetch::Src,
        table: None,
    };
    // `tcp-request connection track-sc0`: no request counted, one session.
    let m = Mutex::new(tables);
    let ctx = crate::http::fetch::FetchCtx::http(SocketAddr::new(src, 1), addr(), None, None);
    let rules = [crate::http::rules::TcpRule {
        action: crate::http::rules::TcpAction::Sc(Action::TrackSc(conn(0))),
        cond: None,
    }];
    track_conn(&m, &rules, &ctx, &mut slots, "t", t0);
    tables = m.into_inner().unwrap();
    count_sess(&mut tables, &mut slots, t0);
    let d =
        |tables: &StickTables, what| tables.get("t").unwrap().data(&StickKey::Ip(src), what, t0);
    assert_eq!(d(&tables, StickData::SessCnt), Some(1));
    assert_eq!(d(&tables, StickData::SessRate), Some(1));
    assert_eq!(d(&tables, StickData::HttpReqCnt), Some(0));
    // An `http-request track-sc1` for one transaction, then its end.
    track_sc(
        &mut tables,
        &mut slots,
        "t",
        &conn(1),
        &Value::from(src),
        t0,
    );
    count_http_req(&mut tables, &slots, t0);
    assert_eq!(d(&tables, StickData::ConnCur), Some(2));
    release_stream(&mut tables, &mut slots, t0);
    assert!(slots[0].is_some() && slots[1].is_none());
    assert_eq!(d(&tables, StickData::ConnCur), Some(1));
    // One request counted on both, plus the one track-sc1 counted.
    assert_eq!(d(&tables, StickData::HttpReqCnt), Some(3));
    release(&mut tables, &mut slots, t0);
    assert_eq!(d(&tables, StickData::ConnCur), Some(0));
}

/// The table converters' reads: nothing created or refreshed, HAProxy's
/// answers for an absent key, an unstored type, the trackers (its own
/// lookup counted) and the entry's dates.
#[test]
fn table_converters_read_without_touching() {
    use crate::sample::conv::{Found, Read};
    use crate::sample::Value;
    let t0 = Instant::now();
    let mut cfgs = vec![table(StickKeyType::Ip, 10, Some(30))];
    cfgs.push(StickTableCfg {
        name: "noexp".into(),
        ..table(StickKeyType::Ip, 10, None)
    });
    let mut tables = StickTables::new(&cfgs);
    let key = StickKey::Ip("10.0.0.1".parse().unwrap());
    tables.get_mut("be").unwrap().track(&key, t0);
    tables.get_mut("noexp").unwrap().track(&key, t0);
    let read = |tables: &StickTables, t: &str, k: Value, what, at| {
        super::conv::read(tables, t, &k, what, ms(t0, at))
    };
    let ip = || Value::str(&b"10.0.0.1"[..]);
    let conn_cur = Read::Data("conn_cur");
    assert_eq!(
        read(&tables, "be", ip(), conn_cur, 5),
        Found::Entry(Some(1))
    );
    // 10.0.0.1 as an integer.
    let n = Value::Sint(0x0a00_0001);
    assert_eq!(read(&tables, "be", n, conn_cur, 5), Found::Entry(Some(1)));
    let gpc0 = Read::Data("gpc0");
    assert_eq!(read(&tables, "be", ip(), gpc0, 5), Found::Entry(None));
    let other = Value::str(&b"10.0.0.2"[..]);
    assert_eq!(read(&tables, "be", other, conn_cur, 5), Found::Absent);
    assert_eq!(read(&tables, "nope", ip(), conn_cur, 5), Found::Absent);
    assert_eq!(
        read(&tables, "be", ip(), Read::Trackers, 5),
        Found::Entry(Some(2))
    );
    let exp = read(&tables, "be", ip(), Read::Expire, 1_000);
    assert_eq!(exp, Found::Entry(Some(29_000)));
    let idle = read(&tables, "be", ip(), Read::Idle, 1_000);
    assert_eq!(idle, Found::Entry(Some(1_000)));
    // Read again later: still the same dates (nothing was refreshed).
    let idle = read(&tables, "be", ip(), Read::Idle, 2_000);
    assert_eq!(idle, Found::Entry(Some(2_000)));
    let exp = read(&tables, "noexp", ip(), Read::Expire, 1_000);
    assert_eq!(exp, Found::Entry(Some(0)));
    assert_eq!(tables.get("be").unwrap().len(), 1);
}
