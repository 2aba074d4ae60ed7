//! `server` and `default-server` lines (manual §5): a server's address and
//! options, starting from the section's `default-server` options; the
//! health-check options are parsed by `checks.rs`, the `cookie` option by
//! `persist.rs`. Also builds servers added at run time (`add server`).

use super::args::{check_name, need, value};
use super::draft::{Draft, ServerOpts};
use super::model::{Origin, Server};
use super::values::{self, ServerAddr};
use super::{checks, persist};

/// Known `server` options that pollux does not implement yet; options with
/// these prefixes are also known (`check-ssl`, `agent-port`, `no-tlsv13`...).
const UNSUPPORTED_SERVER_OPTIONS: &[&str] = &[
    "allow-0rtt",
    "crl-file",
    "curves",
    "guid",
    "hash-key",
    "init-addr",
    "log-bufsize",
    "log-proto",
    "max-reuse",
    "namespace",
    "non-stick",
    "npn",
    "on-marked-down",
    "on-marked-up",
    "proto",
    "redir",
    "shard",
    "sigalgs",
    "socks4",
    "source",
    "strict-maxconn",
    "tcp-ut",
    "tfo",
    "track",
    "usesrc",
    "ws",
];
const UNSUPPORTED_SERVER_PREFIXES: &[&str] = &[
    "check",
    "agent-",
    "no-",
    "force-",
    "ssl",
    "send-proxy",
    "proxy-v2",
    "resolve",
    "pool-",
    "set-proxy-v2",
];

pub(crate) fn parse_server(d: &mut Draft, args: &[String], origin: &Origin) -> Result<(), String> {
    let name = need(args, 1, "a name and an address")?;
    need(args, 2, "an address after the name")?;
    check_name("server", name)?;
    if let Some(other) = d.servers.iter().find(|s| s.name == name) {
        return Err(format!(
            "server '{name}' already defined in {} '{}' at {}:{}",
            d.kind.name(),
            d.name,
            other.origin.file,
            other.origin.line
        ));
    }
    let server = build_server(d.default_server.clone(), args, origin, &mut d.notes)?;
    if let Some(id) = server.id {
        if let Some(other) = d.servers.iter().find(|s| s.id == Some(id)) {
            return Err(format!(
                "server '{name}': id {id} already used by server '{}' at {}:{}",
                other.name, other.origin.file, other.origin.line
            ));
        }
    }
    d.servers.push(server);
    Ok(())
}

/// A server added at run time (`add server B/S ADDR [options]` on the
/// runtime API): the same options as a `server` line, without the
/// backend's `default-server` (HAProxy 2.6 ignores it there too).
pub fn dynamic_server(name: &str, addr: &str, opts: &[String]) -> Result<Server, String> {
    check_name("server", name)?;
    let mut args = vec!["server".to_string(), name.to_string(), addr.to_string()];
    args.extend_from_slice(opts);
    let origin = Origin {
        file: "cli".into(),
        line: 0,
    };
    let srv = build_server(ServerOpts::default(), &args, &origin, &mut Vec::new())?;
    // The global TLS settings (`ca-base`, `ssl-server-verify`...) are the
    // configuration's, which a server added at run time does not see yet.
    let check_tls = srv
        .check
        .as_ref()
        .is_some_and(|c| c.ssl == Some(true) || c.sni.is_some() || c.alpn.is_some());
    if srv.ssl != Default::default() || check_tls {
        return Err("TLS options ('ssl', 'check-ssl'...) on a server added at run time are not supported yet".into());
    }
    Ok(srv)
}

/// `server NAME ADDR [options]`, starting from `opts` (the defaults).
fn build_server(
    mut opts: ServerOpts,
    args: &[String],
    origin: &Origin,
    notes: &mut Vec<String>,
) -> Result<Server, String> {
    let name = args[1].as_str();
    let addr = args[2].as_str();
    let ServerAddr { addr, map_ports } = values::parse_server_addr(addr)?;
    let mut server = Server {
        name: name.to_string(),
        origin: origin.clone(),
        addr,
        map_ports,
        id: None,
        weight: opts.weight,
        backup: false,
        disabled: false,
        maxconn: opts.maxconn,
        minconn: None,
        maxqueue: None,
        check: None,
        cookie: None,
        ssl: opts.ssl.clone(),
    };
    let mut i = 3;
    while let Some(opt) = args.get(i) {
        let opt = opt.as_str();
        i += 1;
        match opt {
            "minconn" => {
                let what = format!("server option '{opt}'");
                let value = args
                    .get(i)
                    .ok_or_else(|| format!("{what} expects an integer"))?;
                i += 1;
                server.minconn = Some(values::parse_int(&what, value, 0, u32::MAX.into())? as u32);
            }
            "maxqueue" => {
                let what = format!("server option '{opt}'");
                let value = args
                    .get(i)
                    .ok_or_else(|| format!("{what} expects an integer"))?;
                i += 1;
                // 0 means no limit, as in HAProxy.
                let n = values::parse_int(&what, value, 0, u32::MAX.into())? as u32;
                server.maxqueue = (n > 0).then_some(n);
            }
            "weight" | "maxconn" => {
                let what = format!("server option '{opt}'");
                let value = args
                    .get(i)
                    .ok_or_else(|| format!("{what} expects an integer"))?;
                i += 1;
                if opt == "weight" {
                    server.weight = values::parse_int(&what, value, 0, 256)? as u32;
                } else {
                    server.maxconn =
                        Some(values::parse_int(&what, value, 0, u32::MAX.into())? as u32);
                }
            }
            "id" => {
                let what = format!("server option '{opt}'");
                let value = args
                    .get(i)
                    .ok_or_else(|| format!("{what} expects an integer"))?;
                i += 1;
                // HAProxy keeps ids in an int: 1..=2^31-1.
                server.id = Some(values::parse_int(&what, value, 1, i32::MAX as u64)? as u32);
            }
            "cookie" => server.cookie = Some(persist::server_cookie(args, &mut i)?),
            _ if super::bind::server_ssl_option(&mut server.ssl, opt, args, &mut i)? => {}
            "backup" => server.backup = true,
            "disabled" => server.disabled = true,
            "enabled" => server.disabled = false,
            _ if checks::server_option(&mut opts, opt, args, &mut i)? => {}
            _ if UNSUPPORTED_SERVER_OPTIONS.contains(&opt)
                || UNSUPPORTED_SERVER_PREFIXES
                    .iter()
                    .any(|p| opt.starts_with(p)) =>
            {
                return Err(format!("server option '{opt}' is not supported yet"))
            }
            _ => return Err(format!("unknown server option '{opt}' for server '{name}'")),
        }
    }
    server.check = opts.check_model(name, notes);
    if let Some(c) = server.check.as_mut() {
        c.ssl = Some(c.over_tls(server.ssl.enabled));
    }
    if server.map_ports.is_some() && server.check.as_ref().is_some_and(|c| c.port.is_none()) {
        // As HAProxy 2.6: a check needs a port of its own then.
        return Err(format!(
            "server '{name}' has neither service port nor check port"
        ));
    }
    Ok(server)
}

/// `default-server OPTIONS...`: the check options, `weight` and `maxconn`.
pub(crate) fn parse_default_server(d: &mut Draft, args: &[String]) -> Result<(), String> {
    let mut o = d.default_server.clone();
    let mut i = 1;
    while let Some(opt) = args.get(i) {
        let opt = opt.as_str();
        i += 1;
        match opt {
            "weight" | "maxconn" => {
                let what = format!("default-server option '{opt}'");
                let v = value(args, &mut i, &what, "an integer")?;
                if opt == "weight" {
                    o.weight = values::parse_int(&what, v, 0, 256)? as u32;
                } else {
                    let n = values::parse_int(&what, v, 0, u32::MAX.into())? as u32;
                    o.maxconn = (n > 0).then_some(n);
                }
            }
            _ if checks::server_option(&mut o, opt, args, &mut i)? => {}
            _ if super::bind::server_ssl_option(&mut o.ssl, opt, args, &mut i)? => {}
            // As HAProxy: an id names one server.
            "id" => return Err("default-server option 'id' is not accepted".into()),
            _ if known_server_option(opt) => {
                return Err(format!(
                    "default-server option '{opt}' is not supported yet"
                ))
            }
            _ => return Err(format!("unknown default-server option '{opt}'")),
        }
    }
    d.default_server = o;
    Ok(())
}

/// A `server` option HAProxy has (supported or not), for `default-server`.
pub(crate) fn known_server_option(opt: &str) -> bool {
    [
        "backup", "disabled", "enabled", "weight", "maxconn", "minconn",
    ]
    .contains(&opt)
        || UNSUPPORTED_SERVER_OPTIONS.contains(&opt)
        || UNSUPPORTED_SERVER_PREFIXES
            .iter()
            .any(|p| opt.starts_with(p))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tls_on_a_server_added_at_run_time_is_refused_not_ignored() {
        let opts = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        for o in [
            "ssl verify none",
            "check check-ssl verify none",
            "crt x.pem",
            "check check-alpn h2",
        ] {
            let e = super::dynamic_server("s", "127.0.0.1:443", &opts(o)).unwrap_err();
            assert!(e.contains("not supported yet"), "{o}: {e}");
        }
        assert!(super::dynamic_server("s", "127.0.0.1:80", &opts("check weight 2")).is_ok());
    }
}
