//! `bind` options (manual §5.1) and the global TLS keywords that give
//! their defaults (`ca-base`, `crt-base`, `ssl-default-bind-*`): what a
//! line asks for, kept in the model; the certificate files are loaded and
//! the TLS context made when the configuration is finished (`finish_tls`),
//! so `-c` reports a file that does not load.

use super::args::need;
use super::model::{Bind, BindSsl, ServerSsl, TlsGlobal};
use crate::tls::server::TlsVer;

/// HAProxy bind options pollux does not implement yet.
const UNSUPPORTED: &[&str] = &[
    "accept-netscaler-cip",
    "accept-proxy",
    "allow-0rtt",
    "backlog",
    "ca-sign-file",
    "ca-sign-pass",
    "defer-accept",
    "ecdhe",
    "expose-fd",
    "generate-certificates",
    "gid",
    "group",
    "interface",
    "level",
    "maxconn",
    "mode",
    "mss",
    "namespace",
    "nbconn",
    "nice",
    "npn",
    "ocsp-update",
    "process",
    "proto",
    "quic-cc-algo",
    "quic-force-retry",
    "severity-output",
    "shards",
    "ssl_fc",
    "tcp-ut",
    "tfo",
    "thread",
    "transparent",
    "uid",
    "user",
    "v4v6",
    "v6only",
];

/// Parse the options after `bind ADDR` into `b`.
pub(crate) fn parse_options(b: &mut Bind, args: &[String]) -> Result<(), String> {
    let mut i = 0;
    while i < args.len() {
        let kw = args[i].as_str();
        let takes = |i: usize| need(args, i + 1, "an argument").map(str::to_string);
        let used = match kw {
            "tls-ticket-keys" => {
                let f = args.get(i + 1).filter(|f| !f.is_empty()).ok_or_else(|| {
                    "'tls-ticket-keys' : missing TLS ticket keys file path".to_string()
                })?;
                b.ssl.ticket_keys = Some(f.to_string());
                2
            }
            "name" => {
                b.name = Some(takes(i)?);
                2
            }
            "id" => {
                let v = takes(i)?;
                let id = super::values::parse_int("bind 'id'", &v, 1, i32::MAX as u64)?;
                b.id = Some(id as u32);
                2
            }
            "ssl" => {
                b.ssl.enabled = true;
                1
            }
            "crt" => {
                b.ssl.crts.push(takes(i)?);
                2
            }
            "crt-list" => {
                let at = b.ssl.crts.len();
                b.ssl.crt_lists.push((at, takes(i)?));
                2
            }
            _ => match ssl_option(&mut b.ssl, args, i)?.or(crate::tls::verify::parse_option(
                &mut b.ssl.client,
                args,
                i,
            )?) {
                Some(n) => n,
                None if UNSUPPORTED.contains(&kw) => {
                    return Err(format!("bind option '{kw}' is not supported yet"))
                }
                None => return Err(format!("unknown bind option '{kw}'")),
            },
        };
        i += used;
    }
    Ok(())
}

/// The TLS options shared by `bind` lines and `ssl-default-bind-options`:
/// how many words option `args[i]` took, None if it is not one of them.
pub(super) fn ssl_option(
    s: &mut BindSsl,
    args: &[String],
    i: usize,
) -> Result<Option<usize>, String> {
    let kw = args[i].as_str();
    let arg = || need(args, i + 1, "an argument");
    let ver = |v: &str| {
        TlsVer::parse(v).ok_or_else(|| {
            format!("'{kw}': unknown version '{v}' (expected SSLv3, TLSv1.0, TLSv1.1, TLSv1.2 or TLSv1.3)")
        })
    };
    Ok(Some(match kw {
        "ssl-min-ver" => {
            s.versions.min = Some(ver(arg()?)?);
            2
        }
        "ssl-max-ver" => {
            s.versions.max = Some(ver(arg()?)?);
            2
        }
        "alpn" => {
            s.alpn = arg()?.split(',').map(str::to_string).collect();
            2
        }
        "strict-sni" => {
            s.strict_sni = true;
            1
        }
        "no-tls-tickets" => {
            s.no_tickets = true;
            1
        }
        "prefer-client-ciphers" => {
            s.prefer_client = true;
            1
        }
        "ciphers" => {
            s.ciphers = Some(arg()?.to_string());
            2
        }
        "ciphersuites" => {
            s.ciphersuites = Some(arg()?.to_string());
            2
        }
        "curves" => {
            s.curves = Some(arg()?.to_string());
            2
        }
        _ => {
            let (prefix, rest) = match kw.split_once('-') {
                Some(p) => p,
                None => return Ok(None),
            };
            let Some(v) = TlsVer::from_suffix(rest) else {
                return Ok(None);
            };
            match prefix {
                "no" => s.versions.no.push(v),
                "force" => s.versions.force = Some(v),
                _ => return Ok(None),
            }
            1
        }
    }))
}

/// What `ssl-default-bind-options` takes (HAProxy 2.6): the version
/// options, `no-tls-tickets` and `prefer-client-ciphers`;
/// `ssl-default-server-options` the same but the last.
fn default_option(opt: &str) -> bool {
    matches!(
        opt,
        "ssl-min-ver" | "ssl-max-ver" | "no-tls-tickets" | "prefer-client-ciphers"
    ) || opt
        .split_once('-')
        .is_some_and(|(p, v)| matches!(p, "no" | "force") && TlsVer::from_suffix(v).is_some())
}

/// A `server`/`default-server` TLS option `opt` (its arguments from
/// `args[*i]`, `*i` moved past them); false if it is none.
pub(crate) fn server_ssl_option(
    s: &mut ServerSsl,
    opt: &str,
    args: &[String],
    i: &mut usize,
) -> Result<bool, String> {
    let mut arg = || -> Result<String, String> {
        let v = args
            .get(*i)
            .ok_or_else(|| format!("server option '{opt}' expects an argument"))?;
        *i += 1;
        Ok(v.clone())
    };
    match opt {
        "ssl" => s.enabled = true,
        "no-ssl" => s.enabled = false,
        "verify" => {
            s.verify = Some(match arg()?.as_str() {
                "none" => false,
                "required" => true,
                v => {
                    return Err(format!(
                        "server option 'verify': expected 'none' or 'required', not '{v}'"
                    ))
                }
            })
        }
        "ca-file" => s.ca_file = Some(arg()?),
        "crt" => s.crt = Some(arg()?),
        "sni" => {
            let e = arg()?;
            crate::http::expr::Expr::parse(&e).map_err(|m| format!("server option 'sni': {m}"))?;
            s.sni = Some(e);
        }
        "verifyhost" => s.verifyhost = Some(arg()?),
        "alpn" => s.alpn = arg()?.split(',').map(str::to_string).collect(),
        "no-ssl-reuse" => s.no_reuse = true,
        "no-tls-tickets" => s.no_tickets = true,
        "tls-tickets" => s.no_tickets = false,
        "ssl-reuse" => s.no_reuse = false,
        "ciphers" => s.ciphers = Some(arg()?),
        "ciphersuites" => s.ciphersuites = Some(arg()?),
        _ => {
            // The version options shared with `bind` lines.
            let mut b = BindSsl {
                versions: s.versions.clone(),
                ..BindSsl::default()
            };
            let mut words = vec![opt.to_string()];
            words.extend(args.get(*i).cloned());
            let Some(n) = ssl_option(&mut b, &words, 0)? else {
                return Ok(false);
            };
            if !matches!(opt, "ssl-min-ver" | "ssl-max-ver")
                && !opt.starts_with("no-tlsv")
                && !opt.starts_with("force-tlsv")
                && opt != "no-sslv3"
                && opt != "force-sslv3"
            {
                return Ok(false);
            }
            s.versions = b.versions;
            *i += n - 1;
        }
    }
    Ok(true)
}

/// Apply `ssl-default-server-*` and `ca-base`, and make the TLS context of
/// a server line (`ssl`, or `checks` over TLS).
pub(crate) fn finish_server_tls(
    s: &mut ServerSsl,
    checks: bool,
    g: &TlsGlobal,
    warn: &mut dyn FnMut(String),
) -> Result<(), String> {
    if !s.enabled && !checks {
        return Ok(());
    }
    let d = &g.server;
    if s.versions == Default::default() {
        s.versions = d.versions.clone();
    }
    s.no_reuse |= d.no_reuse;
    s.no_tickets |= d.no_tickets;
    s.ciphers = s.ciphers.take().or_else(|| d.ciphers.clone());
    s.ciphersuites = s.ciphersuites.take().or_else(|| d.ciphersuites.clone());
    let ca = s.ca_file.as_ref().map(|c| match &g.ca_base {
        Some(base) if !c.starts_with('/') => std::path::Path::new(base).join(c),
        _ => std::path::PathBuf::from(c),
    });
    let crt = s.crt.as_ref().map(|c| match &g.crt_base {
        Some(base) if !c.starts_with('/') => std::path::Path::new(base).join(c),
        _ => std::path::PathBuf::from(c),
    });
    let cfg = crate::tls::client::ServerTlsCfg {
        verify: s.verify.unwrap_or(!g.server_verify_none),
        ca_file: ca.as_deref(),
        crt: crt.as_deref(),
        verifyhost: s.verifyhost.as_deref(),
        alpn: &s.alpn,
        no_reuse: s.no_reuse,
        no_tickets: s.no_tickets,
        versions: &s.versions,
        ciphers: s.ciphers.as_deref(),
        ciphersuites: s.ciphersuites.as_deref(),
    };
    let mut ctx = crate::tls::client::build(cfg, warn)?;
    if let Some(c) = std::sync::Arc::get_mut(&mut ctx.0) {
        // `tune.ssl.maxrecord` applies to every TLS connection.
        c.max_fragment_size = crate::tls::server::max_fragment(g.max_record)?;
    }
    s.ctx = Some(ctx);
    Ok(())
}

/// The global TLS keywords; false if `args[0]` is none of them.
pub(crate) fn parse_global(g: &mut TlsGlobal, args: &[String]) -> Result<bool, String> {
    let kw = args[0].as_str();
    let one = || -> Result<String, String> {
        let v = need(args, 1, "an argument")?;
        super::args::only(args, 2)?;
        Ok(v.to_string())
    };
    match kw {
        "ca-base" => g.ca_base = Some(one()?),
        "crt-base" => g.crt_base = Some(one()?),
        "ssl-default-bind-ciphers" => g.bind.ciphers = Some(one()?),
        "ssl-default-bind-ciphersuites" => g.bind.ciphersuites = Some(one()?),
        "ssl-default-bind-curves" => g.bind.curves = Some(one()?),
        "ssl-default-server-ciphers" => g.server.ciphers = Some(one()?),
        "ssl-default-server-ciphersuites" => g.server.ciphersuites = Some(one()?),
        "ssl-server-verify" => {
            g.server_verify_none = match one()?.as_str() {
                "none" => true,
                "required" => false,
                v => {
                    return Err(format!(
                        "'ssl-server-verify': expected 'none' or 'required', not '{v}'"
                    ))
                }
            }
        }
        "ssl-default-server-options" => {
            let mut i = 1;
            while i < args.len() {
                let opt = args[i].clone();
                i += 1;
                // HAProxy takes the version options and tickets only here.
                let version = default_option(&opt) && opt != "prefer-client-ciphers";
                if !version || !server_ssl_option(&mut g.server, &opt, args, &mut i)? {
                    return Err(format!(
                        "'ssl-default-server-options': unknown or unsupported option '{opt}'"
                    ));
                }
            }
        }
        "ssl-default-bind-options" => {
            if args.len() < 2 {
                return Err("'ssl-default-bind-options' expects an option as an argument".into());
            }
            let mut i = 1;
            while i < args.len() {
                // Versions, tickets and cipher order only, as HAProxy.
                let known = if default_option(&args[i]) {
                    ssl_option(&mut g.bind, args, i)?
                } else {
                    None
                };
                match known {
                    Some(n) => i += n,
                    None => {
                        return Err(format!(
                            "'ssl-default-bind-options': unknown or unsupported option '{}'",
                            args[i]
                        ))
                    }
                }
            }
        }
        "tune.ssl.cachesize" => {
            let v = one()?;
            g.cache_size =
                super::values::parse_int("'tune.ssl.cachesize'", &v, 0, 1 << 24)? as usize;
        }
        "tune.ssl.lifetime" => {
            // Seconds without a unit, as HAProxy reads it.
            let v = one()?;
            let v = if v.bytes().all(|b| b.is_ascii_digit()) {
                format!("{v}s")
            } else {
                v
            };
            let d = super::values::parse_time("'tune.ssl.lifetime'", &v)?;
            g.lifetime = u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        }
        "tune.ssl.maxrecord" => {
            let v = one()?;
            let n = super::values::parse_int("'tune.ssl.maxrecord'", &v, 0, i32::MAX as u64)?;
            g.max_record = crate::tls::server::max_fragment(n as usize)?.map_or(0, |_| n as usize);
        }
        "tune.ssl.default-dh-param" => {
            one()?;
            g.warnings.push(
                "'tune.ssl.default-dh-param' has no effect: pollux's TLS library (rustls) offers no DHE key exchange"
                    .into(),
            );
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// HAProxy's listener ids (`so_id`) of a frontend's binds, one per address
/// in order: a bind's `id`, else the next id not taken, counting on from
/// the listener's position (HAProxy's `next_id` walk).
pub fn listener_ids(binds: &[Bind]) -> Vec<Vec<u32>> {
    let taken: Vec<u32> = binds.iter().filter_map(|b| b.id).collect();
    let mut next = 1u32;
    let mut out = Vec::new();
    for b in binds {
        let mut ids = Vec::new();
        for _ in &b.addrs {
            let id = match b.id {
                Some(id) => id,
                None => {
                    while taken.contains(&next) {
                        next += 1;
                    }
                    next
                }
            };
            ids.push(id);
            next += 1;
        }
        out.push(ids);
    }
    out
}

pub(crate) use super::bind_tls::finish_tls;

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn ssl_options_fill_the_bind() {
        let mut b = Bind::default();
        let a = words("ssl crt a.pem crt b.pem alpn h2,http/1.1 ssl-min-ver TLSv1.3 no-tlsv12 strict-sni name web id 7");
        parse_options(&mut b, &a).unwrap();
        assert!(b.ssl.enabled && b.ssl.strict_sni);
        assert_eq!(b.ssl.crts, ["a.pem", "b.pem"]);
        assert_eq!(b.ssl.alpn, ["h2", "http/1.1"]);
        assert_eq!(b.ssl.versions.min, Some(TlsVer::Tls13));
        assert_eq!(b.ssl.versions.no, [TlsVer::Tls12]);
        assert_eq!((b.name.as_deref(), b.id), (Some("web"), Some(7)));
    }

    #[test]
    fn listener_ids_count_on_from_the_position() {
        let one = |id: Option<u32>| Bind {
            addrs: vec![super::super::model::BindAddr::Fd(3)],
            id,
            ..Bind::default()
        };
        // What HAProxy 2.6 gives: 1, 7, 3 (checked with so_id).
        assert_eq!(
            listener_ids(&[one(None), one(Some(7)), one(None)]),
            [[1], [7], [3]]
        );
        assert_eq!(
            listener_ids(&[one(Some(2)), one(None), one(None)]),
            [[2], [3], [4]]
        );
        assert_eq!(listener_ids(&[one(None), one(Some(1))]), [[2], [1]]);
    }

    #[test]
    fn unknown_and_unsupported_options_are_named() {
        let mut b = Bind::default();
        let e = parse_options(&mut b, &words("ssl npn h2")).unwrap_err();
        assert_eq!(e, "bind option 'npn' is not supported yet");
        let e = parse_options(&mut b, &words("frobnicate")).unwrap_err();
        assert_eq!(e, "unknown bind option 'frobnicate'");
        let e = parse_options(&mut b, &words("ssl-min-ver TLSv9")).unwrap_err();
        assert!(e.contains("unknown version 'TLSv9'"), "{e}");
        let e = parse_options(&mut b, &words("crt")).unwrap_err();
        assert!(e.contains("expects an argument"), "{e}");
    }

    /// `ssl-default-bind-options` takes what HAProxy 2.6 takes there:
    /// versions, `no-tls-tickets`, `prefer-client-ciphers`; not the bind
    /// line's other options.
    #[test]
    fn default_bind_options_take_versions_and_tickets_only() {
        let mut g = TlsGlobal::default();
        let ok = words("ssl-default-bind-options ssl-min-ver TLSv1.2 no-tlsv13 no-tls-tickets prefer-client-ciphers");
        assert_eq!(parse_global(&mut g, &ok), Ok(true));
        assert_eq!(g.bind.versions.min, Some(TlsVer::Tls12));
        assert!(g.bind.no_tickets && g.bind.prefer_client);
        for bad in ["alpn h2", "strict-sni", "ciphers HIGH", "curves X25519"] {
            let a = words(&format!("ssl-default-bind-options {bad}"));
            let e = parse_global(&mut TlsGlobal::default(), &a).unwrap_err();
            let first = bad.split(' ').next().unwrap();
            assert_eq!(
                e,
                format!("'ssl-default-bind-options': unknown or unsupported option '{first}'")
            );
        }
        let e = parse_global(&mut g, &words("ssl-default-bind-options")).unwrap_err();
        assert!(e.contains("expects an option"), "{e}");
    }
}
