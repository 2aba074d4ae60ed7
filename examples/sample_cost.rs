//! What sample expressions cost per request, measured in-process (run by
//! `bench/sample-cost`; method and results in doc/performance.md, "Sample
//! expressions and maps"): a typical request head goes through pollux's
//! parser once, then each expression is evaluated against it many times and
//! the time per evaluation is reported, the median of several rounds. The
//! maps have 10,000 entries each and the keys looked up are spread over
//! them, so a linear lookup would show as microseconds, an indexed one as
//! tens of nanoseconds.
//!
//!   cargo run --release --example sample_cost -- [--rounds N] [--iters N]

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use pollux::http::acl::{parse_condition, AclSet, Condition};
use pollux::http::expr::Expr;
use pollux::http::fetch::FetchCtx;
use pollux::http::message::Request;
use pollux::http::parser::HeadParser;

const ENTRIES: usize = 10_000;

/// The maps' files, in a directory removed at the end.
struct Maps {
    dir: std::path::PathBuf,
}

impl Maps {
    fn write() -> std::io::Result<Maps> {
        let dir = std::env::temp_dir().join(format!("pollux-sample-cost-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let file = |name: &str, line: &dyn Fn(usize) -> String| {
            let text: String = (0..ENTRIES).map(|i| line(i) + "\n").collect();
            std::fs::write(dir.join(name), text)
        };
        file("hosts.map", &|i| format!("host{i}.example.com be{i}"))?;
        // Prefixes of three lengths, as path or host prefixes tend to be.
        file("beg.map", &|i| match i % 3 {
            0 => format!("/a{i} be{i}"),
            1 => format!("/api/v{i}/ be{i}"),
            _ => format!("/static/assets/{i}/ be{i}"),
        })?;
        // Networks of several prefix lengths.
        file("nets.map", &|i| {
            let (a, b) = (i / 256, i % 256);
            match i % 4 {
                0 => format!("10.{a}.{b}.0/24 be{i}"),
                1 => format!("10.{a}.{b}.128/25 be{i}"),
                2 => format!("10.{a}.{b}.7/32 be{i}"),
                _ => format!("172.{}.{b}.0/24 be{i}", 16 + a % 16),
            }
        })?;
        file("ids.map", &|i| format!("{} be{i}", i * 7))?;
        Ok(Maps { dir })
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }
}

impl Drop for Maps {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A browser-like request head through pollux's parser, with the looked-up
/// host near the end of the map's file.
fn request() -> Request {
    let raw = b"GET /api/v9997/users?id=1 HTTP/1.1\r\n\
        Host: HOST9997.example.com\r\n\
        User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
        Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
        Accept-Language: en-US,en;q=0.5\r\n\
        Accept-Encoding: gzip, deflate, br\r\n\
        Cookie: session=0123456789abcdef; theme=dark\r\n\
        X-Id: 69979\r\n\
        Connection: keep-alive\r\n\r\n";
    let mut p = HeadParser::new(raw.len());
    let head = p
        .parse_request(raw)
        .expect("a valid head")
        .expect("a complete head");
    Request::from_head(&head, raw)
}

enum Subject {
    Expr(Expr),
    Acl(Condition),
}

impl Subject {
    /// One evaluation; the result is kept from the optimiser.
    fn run(&self, ctx: &FetchCtx) {
        match self {
            Subject::Expr(e) => {
                black_box(e.fetch_one(ctx));
            }
            Subject::Acl(c) => {
                black_box(c.eval(ctx));
            }
        }
    }
}

fn acl(text: &str) -> Result<Subject, String> {
    let mut acls = AclSet::default();
    let words: Vec<String> = text.split_whitespace().map(String::from).collect();
    acls.add(&words)?;
    let cond = parse_condition(&["if".to_string(), words[0].clone()], &acls)?;
    Ok(Subject::Acl(cond))
}

fn main() -> Result<(), String> {
    let mut rounds = 3usize;
    let mut iters = 1_000_000usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let n = args.next().and_then(|n| n.parse().ok());
        match (a.as_str(), n) {
            ("--rounds", Some(n)) if n > 0 => rounds = n,
            ("--iters", Some(n)) if n > 0 => iters = n,
            _ => {
                return Err(format!(
                    "usage: sample_cost [--rounds N] [--iters N] (got '{a}')"
                ))
            }
        }
    }
    let maps = Maps::write().map_err(|e| format!("writing the maps: {e}"))?;
    let expr = |t: String| Expr::parse(&t).map(Subject::Expr);
    let cases: Vec<(String, Subject)> = vec![
        ("req.hdr(host)".into(), expr("req.hdr(host)".into())?),
        (
            "req.hdr(host),lower".into(),
            expr("req.hdr(host),lower".into())?,
        ),
        ("path".into(), expr("path".into())?),
        ("src".into(), expr("src".into())?),
        (
            "acl x req.hdr(host),lower -m str a.com".into(),
            acl("x req.hdr(host),lower -m str a.com")?,
        ),
        (
            "req.hdr(host),lower,map_str(hosts.map,none)".into(),
            expr(format!(
                "req.hdr(host),lower,map_str({},none)",
                maps.path("hosts.map")
            ))?,
        ),
        (
            "acl x req.hdr(host),lower,map_str(hosts.map) -m found".into(),
            acl(&format!(
                "x req.hdr(host),lower,map_str({}) -m found",
                maps.path("hosts.map")
            ))?,
        ),
        (
            "path,map_beg(beg.map,none)".into(),
            expr(format!("path,map_beg({},none)", maps.path("beg.map")))?,
        ),
        (
            "src,map_ip(nets.map,none)".into(),
            expr(format!("src,map_ip({},none)", maps.path("nets.map")))?,
        ),
        (
            "req.hdr(x-id),map_int(ids.map,none)".into(),
            expr(format!(
                "req.hdr(x-id),map_int({},none)",
                maps.path("ids.map")
            ))?,
        ),
        // A form HAProxy itself scans (a substring can be anywhere): what
        // a linear lookup of this map costs, for comparison.
        (
            "req.hdr(host),lower,map_sub(hosts.map,none) [linear]".into(),
            expr(format!(
                "req.hdr(host),lower,map_sub({},none)",
                maps.path("hosts.map")
            ))?,
        ),
    ];
    let req = request();
    let src: SocketAddr = "10.39.14.7:51234".parse().expect("an address");
    let dst: SocketAddr = "127.0.0.1:80".parse().expect("an address");
    let ctx = FetchCtx::http(src, dst, Some(&req), None);
    // Every lookup finds its entry (else the bench would time a miss).
    for (name, s) in &cases {
        if let Subject::Expr(e) = s {
            let v = e.fetch_one(&ctx).and_then(|v| v.into_text());
            if name.contains("map_") && !v.as_deref().is_some_and(|v| v.starts_with(b"be")) {
                return Err(format!("{name} found no entry: {v:?}"));
            }
        }
    }
    println!("{ENTRIES} entries per map, {iters} evaluations per round, median of {rounds} rounds");
    println!("{:>10}  expression", "ns/eval");
    for (name, s) in &cases {
        // The linear reference is some thousand times slower.
        let iters = if name.ends_with("[linear]") {
            (iters / 1000).max(1)
        } else {
            iters
        };
        let mut ns: Vec<f64> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                for _ in 0..iters {
                    s.run(&ctx);
                }
                t.elapsed().as_nanos() as f64 / iters as f64
            })
            .collect();
        ns.sort_by(f64::total_cmp);
        println!("{:>10.1}  {name}", ns[ns.len() / 2]);
    }
    Ok(())
}
