//! Sample fetches, ACL criteria, conditions and header-action formats
//! (`%[fetch,conv]`) with fuzzed arguments, evaluated against a fuzzed
//! request, response and `tcp-request content` payload.
//!
//! Arguments go through the parsers pollux runs at config check
//! (`AclSet::add`, `parse_criterion`, `parse_condition`, `Fetch::parse`,
//! `Format::parse`): what they refuse is never evaluated. What they accept
//! is evaluated only where pollux would (a fetch needing the response only
//! in response rules, one needing a head only in HTTP rules).
//!
//! Input, NUL-separated: rule lines, request head, response head, payload,
//! figures (addresses, stick counter values, payload completeness). A rule
//! line is `acl NAME CRITERION...`, `if|unless ...`, a format when it holds
//! a `%`, else one criterion (its first word also fetched alone).
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use pollux::http::acl::{parse_condition, parse_criterion, AclSet, Truth};
use pollux::http::fetch::{needs, Counter, CounterView, Fetch, FetchCtx, Tracked};
use pollux::http::format::Format;
use pollux::http::message::{Request, Response};
use pollux::http::parser::HeadParser;
use pollux_fuzz::{parts, words};

struct Counters(i64);

impl CounterView for Counters {
    fn counter(&self, of: Tracked, what: Counter) -> Option<i64> {
        // Some counters tracked, some not.
        match (of, what) {
            (Tracked::Sc(2, _), _) => None,
            (_, Counter::Trackers) => Some(self.0.wrapping_neg()),
            _ => Some(self.0),
        }
    }
}

/// The contexts a rule needing `mask` is evaluated in.
fn contexts<'a>(mask: u8, all: &'a [FetchCtx<'a>; 3]) -> impl Iterator<Item = &'a FetchCtx<'a>> {
    let [tcp, req, res] = all;
    let tcp_ok = mask & (needs::REQ | needs::RES) == 0;
    let req_ok = mask & needs::RES == 0;
    [(tcp_ok, tcp), (req_ok, req), (true, res)]
        .into_iter()
        .filter(|(ok, _)| *ok)
        .map(|(_, c)| c)
}

fn not(t: Truth) -> Truth {
    match t {
        Truth::True => Truth::False,
        Truth::False => Truth::True,
        Truth::NeedMore => Truth::NeedMore,
    }
}

fuzz_target!(|data: &[u8]| {
    let [rules, req_bytes, res_bytes, payload, figures] = parts::<5>(data);
    let Ok(rules) = std::str::from_utf8(rules) else {
        return;
    };
    let mut n = [0u8; 8];
    for (d, s) in n.iter_mut().zip(figures) {
        *d = *s;
    }

    let req_head = HeadParser::new(15360).parse_request(req_bytes);
    let Ok(Some(req_head)) = req_head else { return };
    let req = Request::from_head(&req_head, req_bytes);
    let res = match HeadParser::new(15360).parse_response(res_bytes) {
        Ok(Some(h)) => Some(Response::from_head(&h, res_bytes)),
        _ => None,
    };
    let src = match n[0] & 1 {
        0 => SocketAddr::new(IpAddr::V4(Ipv4Addr::new(n[1], n[2], n[3], n[4])), 40000),
        _ => SocketAddr::new(
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n[1].into())),
            40000,
        ),
    };
    let dst = SocketAddr::new(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        u16::from_le_bytes([n[5], n[6]]),
    );
    let counters = Counters(match n[7] {
        0xff => i64::MAX,
        0xfe => i64::MIN,
        v => i64::from(v),
    });
    let sc: Option<&dyn CounterView> = (n[0] & 2 == 2).then_some(&counters as &dyn CounterView);
    // Variables too: `set-var` converters in one rule, `var()` in the next.
    let vars = pollux::sample::vars::Vars::default();
    let all = [
        FetchCtx {
            src,
            dst,
            req: None,
            res: None,
            payload,
            payload_complete: n[0] & 4 == 4,
            vars: Some(&vars),
            txn: Default::default(),
        },
        FetchCtx::http(src, dst, Some(&req), None).with_vars(&vars),
        FetchCtx::http(src, dst, Some(&req), res.as_ref()).with_vars(&vars),
    ];

    let mut acls = AclSet::default();
    for line in rules.lines() {
        let w = words(line);
        // `-f FILE` reads a pattern file: not this target's business.
        if w.is_empty() || w.iter().any(|x| x == "-f") {
            continue;
        }
        match w[0].as_str() {
            "acl" => {
                let _ = acls.add(&w[1..]);
            }
            "if" | "unless" => {
                let Ok(c) = parse_condition(&w, &acls) else {
                    continue;
                };
                let mut flipped = w.clone();
                flipped[0] = if w[0] == "if" { "unless" } else { "if" }.into();
                let flipped = parse_condition(&flipped, &acls).expect("if/unless parse alike");
                for ctx in contexts(c.needs(), &all) {
                    let t = c.eval_with(ctx, sc);
                    assert_eq!(flipped.eval_with(ctx, sc), not(t), "{line}");
                }
            }
            _ if line.contains('%') => {
                let Ok(f) = Format::parse(line) else { continue };
                for ctx in contexts(f.needs(), &all) {
                    let _ = f.render(ctx);
                }
            }
            _ => {
                if let Ok(c) = parse_criterion(&w) {
                    for ctx in contexts(c.needs(), &all) {
                        let _ = c.eval_with(ctx, sc);
                    }
                }
                if let Ok(f) = Fetch::parse(&w[0]) {
                    for ctx in contexts(f.needs(), &all) {
                        let every = f.fetch_all_with(ctx, sc);
                        if let Some(one) = f.fetch_one(ctx) {
                            assert!(every.values.as_slice().contains(&one) || !f.one_of_all());
                        }
                    }
                }
            }
        }
    }
});
