//! Argument values: integers, sizes, times (manual §2.5) and socket
//! addresses as HAProxy writes them (manual §2.9, `bind`, `server`).
//! Errors are messages without position; the caller adds `FILE:LINE`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::model::BindAddr;

/// A plain decimal integer within `min..=max`.
pub(crate) fn parse_int(what: &str, s: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse::<u64>().ok()
    } else {
        None
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(format!("{what}: value '{s}' out of range {min}..{max}")),
        None => Err(format!("{what}: expected an integer, got '{s}'")),
    }
}

/// A size: an integer with an optional `k`, `m` or `g` suffix (powers of 1024).
pub(crate) fn parse_size(what: &str, s: &str, min: u64, max: u64) -> Result<u64, String> {
    let (digits, mult) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 1 << 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n = parse_int(what, digits, 0, u64::MAX / (1 << 30)).map_err(|_| {
        format!("{what}: expected a size (integer with optional k, m, g), got '{s}'")
    })?;
    let n = n * mult;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{what}: value '{s}' out of range {min}..{max}"))
    }
}

/// HAProxy's timers are milliseconds in a signed 32-bit integer.
const MAX_TIME_MS: u128 = i32::MAX as u128;

/// A time (manual §2.5): integer with unit `us`, `ms`, `s`, `m`, `h`, `d`;
/// no unit means milliseconds.
pub(crate) fn parse_time(what: &str, s: &str) -> Result<Duration, String> {
    let bad = || {
        format!("{what}: invalid time '{s}' (expected an integer with optional unit us, ms, s, m, h or d)")
    };
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let secs = |k: u64| n.checked_mul(k).map(Duration::from_secs);
    let d = match unit {
        "us" => Some(Duration::from_micros(n)),
        "" | "ms" => Some(Duration::from_millis(n)),
        "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        "d" => secs(86400),
        _ => return Err(bad()),
    };
    match d {
        Some(d) if d.as_millis() <= MAX_TIME_MS => Ok(d),
        _ => Err(format!(
            "{what}: time '{s}' is too large (at most {MAX_TIME_MS} ms)"
        )),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Any,
    V4,
    V6,
}

/// An address split into its parts, before resolution.
struct Parts<'a> {
    family: Family,
    host: &'a str,
    port: Option<&'a str>,
}

/// Prefixes pollux does not handle yet (unix sockets, UDP, QUIC...).
const UNSUPPORTED_PREFIXES: &[&str] = &[
    "unix", "abns", "abnsz", "uxst", "uxdg", "udp", "udp4", "udp6", "quic4", "quic6", "sockpair",
    "rhttp", "mptcp", "mptcp4", "mptcp6",
];

fn split_address(s: &str) -> Result<Parts<'_>, String> {
    let (family, rest) = match s.split_once('@') {
        None => (Family::Any, s),
        Some(("ipv4" | "tcp4", rest)) => (Family::V4, rest),
        Some(("ipv6" | "tcp6", rest)) => (Family::V6, rest),
        Some(("ip" | "tcp", rest)) => (Family::Any, rest),
        Some((p, _)) if UNSUPPORTED_PREFIXES.contains(&p) => {
            return Err(format!("address prefix '{p}@' is not supported yet"))
        }
        Some((p, _)) => return Err(format!("unknown address prefix '{p}@' in '{s}'")),
    };
    if rest.starts_with('/') {
        return Err(format!("UNIX socket address '{s}' is not supported yet"));
    }
    if let Some(inner) = rest.strip_prefix('[') {
        let Some((host, after)) = inner.split_once(']') else {
            return Err(format!("missing ']' in address '{s}'"));
        };
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| format!("invalid address '{s}'"))?,
            ),
        };
        return Ok(Parts { family, host, port });
    }
    // The port is always after the last colon, even for IPv6 (`:::80`).
    Ok(match rest.rsplit_once(':') {
        Some((host, port)) => Parts {
            family,
            host,
            port: Some(port),
        },
        None => Parts {
            family,
            host: rest,
            port: None,
        },
    })
}

/// Host names resolve unless [`refuse_host_names`] was called.
static RESOLVE_NAMES: AtomicBool = AtomicBool::new(true);

/// From now on, a host name in an address is an error instead of a DNS
/// query (IP literals still parse): for the config fuzz target, where a
/// query per input would make each run slow and send random names to the
/// resolver. Process-wide; nothing in pollux itself calls it.
pub fn refuse_host_names() {
    RESOLVE_NAMES.store(false, Ordering::Relaxed);
}

/// Resolves `host` (a valid name, not an IP literal) with the system resolver.
pub(crate) fn lookup(host: &str, port: u16) -> Result<std::vec::IntoIter<SocketAddr>, String> {
    if !RESOLVE_NAMES.load(Ordering::Relaxed) {
        return Err("host names are not resolved here".into());
    }
    (host, port).to_socket_addrs().map_err(|e| e.to_string())
}

/// Resolves a host (IP literal, `*`, empty, or host name) in a family.
fn resolve(family: Family, host: &str, port: u16, whole: &str) -> Result<SocketAddr, String> {
    if host.is_empty() || host == "*" {
        let ip = match family {
            Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        return Ok(SocketAddr::new(ip, port));
    }
    let wanted = |a: &SocketAddr| match family {
        Family::Any => true,
        Family::V4 => a.is_ipv4(),
        Family::V6 => a.is_ipv6(),
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        let addr = SocketAddr::new(ip, port);
        return if wanted(&addr) {
            Ok(addr)
        } else {
            Err(format!(
                "address '{whole}' does not match its family prefix"
            ))
        };
    }
    let valid_name = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !valid_name || numeric || host.contains(':') {
        return Err(format!("invalid address '{whole}'"));
    }
    let addrs = lookup(host, port).map_err(|e| format!("cannot resolve '{host}': {e}"))?;
    addrs
        .into_iter()
        .find(wanted)
        .ok_or_else(|| format!("cannot resolve '{host}': no address of the requested family"))
}

fn parse_port(s: &str, whole: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(p) if p > 0 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(format!(
            "invalid port '{s}' in '{whole}' (expected 1..65535)"
        )),
    }
}

/// HAProxy expands `$NAME` and `${NAME}` in addresses even outside double
/// quotes (its address parser calls env_expand; older configurations rely on
/// it): an unset variable expands to nothing.
pub(crate) fn env_expand(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('$') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let braced = after.starts_with('{');
        let name_at = usize::from(braced);
        let len = after[name_at..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let name = &after[name_at..name_at + len];
        if let Ok(v) = std::env::var(name) {
            out.push_str(&v);
        }
        let mut next = name_at + len;
        if braced && after[next..].starts_with('}') {
            next += 1;
        }
        rest = &after[next..];
    }
    out.push_str(rest);
    out.into()
}

/// One comma-separated element of a `bind` line: `[prefix@][host]:port[-port]`
/// or `fd@N`. A port range expands to one address per port.
pub(crate) fn parse_bind_addr(s: &str) -> Result<Vec<BindAddr>, String> {
    let s = &*env_expand(s);
    if let Some(fd) = s.strip_prefix("fd@") {
        return match fd.parse::<RawFd>() {
            Ok(n) if n >= 0 && fd.bytes().all(|b| b.is_ascii_digit()) => Ok(vec![BindAddr::Fd(n)]),
            _ => Err(format!("invalid file descriptor in '{s}'")),
        };
    }
    let parts = split_address(s)?;
    let Some(ports) = parts.port.filter(|p| !p.is_empty()) else {
        return Err(format!("missing port in bind address '{s}'"));
    };
    let (first, last) = match ports.split_once('-') {
        Some((a, b)) => (parse_port(a, s)?, parse_port(b, s)?),
        None => {
            let p = parse_port(ports, s)?;
            (p, p)
        }
    };
    if first > last {
        return Err(format!(
            "invalid port range '{ports}' in '{s}' (start is above end)"
        ));
    }
    let base = resolve(parts.family, parts.host, first, s)?;
    Ok((first..=last)
        .map(|p| BindAddr::Inet(SocketAddr::new(base.ip(), p)))
        .collect())
}

/// A `server` address: the address to connect to, and where its port
/// comes from.
#[derive(Debug)]
pub(crate) struct ServerAddr {
    /// An unspecified IP (`0.0.0.0`, `*`, `::`) stands for the address the
    /// client connected to.
    pub addr: SocketAddr,
    /// None: `addr`'s port. Some(N): the port the client connected to,
    /// plus N (no port, port 0, `+N` or `-N`, as HAProxy).
    pub map_ports: Option<i32>,
}

/// A `server` address: `[prefix@]host[:port]`, host names resolved now.
pub(crate) fn parse_server_addr(s: &str) -> Result<ServerAddr, String> {
    let s = &*env_expand(s);
    if s.starts_with("fd@") {
        return Err(format!(
            "'fd@' addresses are not supported for servers ('{s}')"
        ));
    }
    let parts = split_address(s)?;
    let (port, map_ports) = match parts.port {
        None | Some("") | Some("0") => (0, Some(0)),
        Some(p) if p.starts_with('+') || p.starts_with('-') => {
            let n: i32 = p[1..]
                .parse()
                .ok()
                .filter(|n| (1..=65535).contains(n))
                .ok_or_else(|| format!("invalid port offset '{p}' in '{s}'"))?;
            (0, Some(if p.starts_with('-') { -n } else { n }))
        }
        Some(p) if p.contains('-') => {
            return Err(format!("a server takes one port, not a range ('{s}')"))
        }
        Some(p) => (parse_port(p, s)?, None),
    };
    if parts.host.is_empty() {
        return Err(format!("server address '{s}' has no host"));
    }
    // `*`: the client's destination address, as 0.0.0.0.
    let host = if parts.host == "*" {
        "0.0.0.0"
    } else {
        parts.host
    };
    let addr = resolve(parts.family, host, port, s)?;
    Ok(ServerAddr { addr, map_ports })
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_expand_environment_variables_even_unquoted() {
        std::env::set_var("POLLUX_T_ADDR", "127.0.0.1");
        std::env::set_var("POLLUX_T_PORT", "8123");
        assert_eq!(
            super::env_expand("${POLLUX_T_ADDR}:$POLLUX_T_PORT"),
            "127.0.0.1:8123"
        );
        assert_eq!(super::env_expand("${POLLUX_T_UNSET}:x$"), ":x");
        assert_eq!(super::env_expand("plain:80"), "plain:80");
        assert_eq!(
            super::parse_bind_addr("${POLLUX_T_ADDR}:${POLLUX_T_PORT}"),
            Ok(vec![super::BindAddr::Inet(
                "127.0.0.1:8123".parse().unwrap()
            )])
        );
    }

    use super::*;

    fn inet(s: &str) -> BindAddr {
        BindAddr::Inet(s.parse().unwrap())
    }

    #[test]
    fn integers_must_be_decimal_and_in_range() {
        assert_eq!(parse_int("x", "42", 0, 100), Ok(42));
        assert!(parse_int("x", "101", 0, 100)
            .unwrap_err()
            .contains("out of range"));
        assert!(parse_int("x", "-1", 0, 100)
            .unwrap_err()
            .contains("expected an integer"));
        assert!(parse_int("x", "1k", 0, 100).is_err());
        assert!(parse_int("x", "", 0, 100).is_err());
    }

    #[test]
    fn sizes_accept_binary_suffixes() {
        assert_eq!(parse_size("x", "16384", 0, u64::MAX), Ok(16384));
        assert_eq!(parse_size("x", "16k", 0, u64::MAX), Ok(16384));
        assert_eq!(parse_size("x", "1m", 0, u64::MAX), Ok(1 << 20));
        assert!(parse_size("x", "k", 0, u64::MAX).is_err());
        assert!(parse_size("x", "1t", 0, u64::MAX).is_err());
    }

    #[test]
    fn times_default_to_milliseconds_and_take_units() {
        let ms = Duration::from_millis;
        assert_eq!(parse_time("t", "150"), Ok(ms(150)));
        assert_eq!(parse_time("t", "150ms"), Ok(ms(150)));
        assert_eq!(parse_time("t", "250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_time("t", "5s"), Ok(ms(5000)));
        assert_eq!(parse_time("t", "2m"), Ok(ms(120_000)));
        assert_eq!(parse_time("t", "1h"), Ok(ms(3_600_000)));
        assert_eq!(parse_time("t", "1d"), Ok(ms(86_400_000)));
    }

    #[test]
    fn bad_or_huge_times_are_errors() {
        for bad in ["", "s", "5x", "5 s", "-5s", "1.5s", "5S"] {
            assert!(parse_time("t", bad).is_err(), "{bad}");
        }
        assert!(parse_time("t", "25d").unwrap_err().contains("too large"));
        assert!(parse_time("t", "99999999999999999999d").is_err());
    }

    #[test]
    fn bind_addresses_take_haproxy_forms() {
        assert_eq!(parse_bind_addr(":80"), Ok(vec![inet("0.0.0.0:80")]));
        assert_eq!(parse_bind_addr("*:80"), Ok(vec![inet("0.0.0.0:80")]));
        assert_eq!(
            parse_bind_addr("127.0.0.1:80"),
            Ok(vec![inet("127.0.0.1:80")])
        );
        assert_eq!(parse_bind_addr(":::80"), Ok(vec![inet("[::]:80")]));
        assert_eq!(parse_bind_addr("[::1]:80"), Ok(vec![inet("[::1]:80")]));
        assert_eq!(parse_bind_addr("ipv6@:80"), Ok(vec![inet("[::]:80")]));
        assert_eq!(
            parse_bind_addr("ipv4@10.0.0.1:80"),
            Ok(vec![inet("10.0.0.1:80")])
        );
        assert_eq!(parse_bind_addr("fd@3"), Ok(vec![BindAddr::Fd(3)]));
    }

    #[test]
    fn bind_port_range_expands_to_one_address_per_port() {
        let addrs = parse_bind_addr("127.0.0.1:8000-8002").unwrap();
        assert_eq!(
            addrs,
            [
                inet("127.0.0.1:8000"),
                inet("127.0.0.1:8001"),
                inet("127.0.0.1:8002")
            ]
        );
    }

    #[test]
    fn bad_bind_addresses_are_errors() {
        for (bad, frag) in [
            ("127.0.0.1", "missing port"),
            (":0", "invalid port"),
            (":65536", "invalid port"),
            (":80x", "invalid port"),
            (":90-80", "start is above end"),
            (":80-70000", "invalid port"),
            ("1.2.3.999:80", "invalid address"),
            ("ipv4@::1:80", "family"),
            ("unix@/tmp/s", "not supported yet"),
            ("/tmp/sock", "not supported yet"),
            ("foo@x:1", "unknown address prefix"),
            ("fd@x", "file descriptor"),
            ("[::1:80", "missing ']'"),
        ] {
            let err = parse_bind_addr(bad).unwrap_err();
            assert!(err.contains(frag), "{bad}: {err}");
        }
    }

    #[test]
    fn server_addresses_and_their_ports() {
        let ok = |s: &str| {
            let a = parse_server_addr(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            (a.addr.to_string(), a.map_ports)
        };
        assert_eq!(ok("127.0.0.1:80"), ("127.0.0.1:80".into(), None));
        assert!(parse_server_addr("localhost:80")
            .unwrap()
            .addr
            .ip()
            .is_loopback());
        // No port, port 0, or an offset: from the client's destination port.
        assert_eq!(ok("127.0.0.1"), ("127.0.0.1:0".into(), Some(0)));
        assert_eq!(ok("127.0.0.1:"), ("127.0.0.1:0".into(), Some(0)));
        assert_eq!(ok("127.0.0.1:0"), ("127.0.0.1:0".into(), Some(0)));
        assert_eq!(ok("127.0.0.1:+1000"), ("127.0.0.1:0".into(), Some(1000)));
        assert_eq!(ok("127.0.0.1:-1"), ("127.0.0.1:0".into(), Some(-1)));
        // `*` and 0.0.0.0: the client's destination address.
        assert_eq!(ok("*:8080"), ("0.0.0.0:8080".into(), None));
        assert_eq!(ok("0.0.0.0"), ("0.0.0.0:0".into(), Some(0)));
        assert_eq!(ok("[::]:0"), ("[::]:0".into(), Some(0)));
        for bad in [
            "127.0.0.1:80-81",
            "127.0.0.1:+x",
            "127.0.0.1:+0",
            "127.0.0.1:+70000",
            ":80",
        ] {
            assert!(parse_server_addr(bad).is_err(), "{bad}");
        }
        assert!(parse_server_addr("bad!host:80")
            .unwrap_err()
            .contains("invalid address"));
        assert!(parse_server_addr("no-such-host.invalid:80")
            .unwrap_err()
            .contains("cannot resolve"));
    }
}
