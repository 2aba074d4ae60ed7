//! The log-format compiler (`log-format`, `error-log-format`): any string
//! compiles or is refused with a message; what compiles renders against a
//! session record filled from the input, and the line carries no raw
//! control character (a client must not be able to forge log lines).
//! Input: format NUL request line NUL captured header NUL 16 bytes of figures.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use pollux::log::format::{Ctx, LogFormat};
use pollux::log::LogRec;
use pollux_fuzz::parts;

fuzz_target!(|data: &[u8]| {
    let [fmt, line, captured, figures] = parts::<4>(data);
    let Ok(fmt) = std::str::from_utf8(fmt) else {
        return;
    };
    let Ok(f) = LogFormat::parse(fmt) else { return };

    let mut n = [0u8; 16];
    for (d, s) in n.iter_mut().zip(figures) {
        *d = *s;
    }
    let now = Instant::now();
    let mut rec = LogRec::new(now);
    let ms = |i: usize| Duration::from_millis(u64::from(n[i]) * 37);
    let at = |i: usize| (n[i] & 1 == 1).then(|| now + ms(i));
    rec.req_first = at(0);
    rec.req_head = at(1);
    rec.tw = (n[2] & 1 == 1).then(|| ms(2));
    rec.connect_at = at(3);
    rec.tc = (n[4] & 1 == 1).then(|| ms(4));
    rec.resp_at = at(5);
    rec.bytes_out = u64::from(n[6]) << 40;
    rec.bytes_in = u64::from(n[7]);
    rec.out_base = u64::from(n[8]);
    rec.retries = u32::from(n[9]);
    rec.redispatched = n[9] & 1 == 1;
    rec.backend = (n[10] & 1 == 1).then_some(0);
    rec.server = (n[10] & 2 == 2).then_some(1);
    rec.srv_addr = (n[10] & 4 == 4).then(|| SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 8080));
    rec.local_addr =
        (n[10] & 8 == 8).then(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000));
    const TERM: &[u8] = b"-CSPRIcDLKUTsdr";
    rec.term = [
        TERM[n[11] as usize % TERM.len()],
        TERM[n[12] as usize % TERM.len()],
    ];
    rec.connect_timed_out = n[13] & 1 == 1;
    rec.request_line = (!line.is_empty()).then(|| line.iter().map(|&c| c as char).collect());
    let cap = [
        (!captured.is_empty()).then(|| captured.iter().map(|&c| c as char).collect::<String>()),
        None,
    ];
    let end = now + ms(14);
    let ctx = Ctx {
        vars: None,
        tls: None,
        bc_tls: None,
        asap: false,
        rec: &rec,
        now: end,
        client: SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, n[15])),
            1024 + u16::from(n[15]),
        ),
        frontend_addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 80),
        frontend: "fe",
        backend: rec.backend.map(|_| "be"),
        server: rec.server.map(|_| "srv1"),
        status: (n[14] & 1 == 1).then(|| 100 + u16::from(n[14]) * 2),
        bytes_out: rec.bytes_out,
        bytes_in: rec.bytes_in,
        term: rec.term,
        cookie: [b'-', b'-'],
        actconn: u32::from(n[0]),
        feconn: u32::from(n[1]),
        beconn: u32::from(n[2]),
        srvconn: u32::from(n[3]),
        captured_req: &cap,
        captured_res: &cap[1..],
        cookie_req: None,
        cookie_res: (n[13] & 2 == 2).then_some("SRV=a"),
        hostname: "host",
        unique_id: (n[15] & 1 == 1).then_some("7F000001:9C40_0A000001:0050_6B16BE92_0001:3226"),
        counter: u64::from(n[15]),
    };
    let out = f.render(&ctx);
    // Control characters may come from the format (the admin's choice),
    // never from the request.
    let ctl = |c: u8| c < 0x20 || c == 0x7f;
    assert!(
        fmt.bytes().any(ctl) || !out.bytes().any(ctl),
        "client bytes unescaped in log line {out:?} from format {fmt:?}"
    );
});
