//! Persistence keywords of proxy sections (manual §4.2): `cookie`, the
//! server `cookie` option, `option persist`, `force-persist`,
//! `ignore-persist`, `stick-table`, `stick ...` and `http-request
//! track-scN`. Table references are checked once every file is read.

use crate::http::fetch::{Fetch, Kind as SampleKind};
use crate::http::rules::{Action, TcpAction, TcpRule};

use super::args::{need, only};
use super::draft::{Draft, Kind};
use super::model::{
    ConfigError, CookieCfg, CookieMode, Origin, PersistRule, ServerName, StickData, StickKeyType,
    StickKind, StickRule, StickStore, StickTableCfg, UseServer,
};
use super::rules::{check_needs, split_cond, Stage};
use super::values;

/// Proxy keywords handled here.
pub(crate) const KEYWORDS: &[&str] = &[
    "cookie",
    "force-persist",
    "ignore-persist",
    "stick",
    "stick-table",
    "use-server",
];

/// Parses one of [`KEYWORDS`].
pub(crate) fn parse_keyword(d: &mut Draft, args: &[String], origin: &Origin) -> Result<(), String> {
    let kw = args[0].as_str();
    match kw {
        "cookie" => {
            if d.ignored(kw, false, true) {
                return Ok(());
            }
            d.p.persistence.cookie = Some(parse_cookie(d, args)?);
        }
        "force-persist" | "ignore-persist" => {
            d.allow(kw, false, false, false)?;
            let (words, cond) = split_cond(&args[1..], &d.h.acls)?;
            let Some(cond) = cond else {
                return Err(format!(
                    "'{kw}' requires either 'if' or 'unless' followed by a condition"
                ));
            };
            if let Some(w) = words.first() {
                return Err(format!("unexpected argument '{w}' after '{kw}'"));
            }
            check_needs(cond.needs(), Stage::HttpRequest)?;
            if d.ignored(kw, false, true) {
                return Ok(());
            }
            let force = kw == "force-persist";
            d.p.persistence.rules.push(PersistRule { force, cond });
        }
        "use-server" => {
            d.allow(kw, false, true, false)?;
            let name = need(args, 1, "a server name")?;
            let (words, cond) = split_cond(&args[2..], &d.h.acls)?;
            let Some(cond) = cond else {
                return Err(format!(
                    "'{kw}' requires either 'if' or 'unless' followed by a condition"
                ));
            };
            if let Some(w) = words.first() {
                return Err(format!("unexpected argument '{w}' after '{kw} {name}'"));
            }
            let f = crate::http::format::Format::parse(name)?;
            // Decided with the persistence, which sees the request only.
            let needs = cond.needs() | f.needs();
            if needs & crate::http::fetch::needs::TXN != 0 {
                return Err(format!("the 'unique-id', 'capture.req.hdr' and 'capture.res.hdr' fetches are not supported yet in '{kw}'"));
            }
            check_needs(needs, Stage::HttpRequest)?;
            let server = match f.as_literal() {
                Some(n) => ServerName::Name(n.to_string()),
                None => ServerName::Format(f),
            };
            d.p.persistence.use_server.push(UseServer { server, cond });
            d.p.use_server_at.push(origin.clone());
        }
        "stick-table" => {
            d.allow(kw, false, false, false)?;
            if let Some(t) = &d.p.table {
                return Err(format!(
                    "only one 'stick-table' per section (one is declared at {}:{})",
                    t.origin.file, t.origin.line
                ));
            }
            d.p.table = Some(parse_table(&d.name, args, origin)?);
        }
        _ => {
            d.allow(kw, false, true, false)?;
            let rule = parse_stick(d, args)?;
            d.p.persistence.stick.push(rule);
            d.p.stick_at.push(origin.clone());
        }
    }
    Ok(())
}

/// `option persist`; Ok(false) if `args[at]` is another option.
pub(crate) fn parse_option(
    d: &mut Draft,
    args: &[String],
    at: usize,
    on: bool,
) -> Result<bool, String> {
    if args[at] != "persist" {
        return Ok(false);
    }
    only(args, at + 1)?;
    if !d.ignored("option persist", false, true) {
        d.p.persistence.persist = on;
    }
    Ok(true)
}

/// The server option `cookie VALUE`; `i` is the index of VALUE, moved past it.
pub(crate) fn server_cookie(args: &[String], i: &mut usize) -> Result<String, String> {
    let v = args
        .get(*i)
        .filter(|v| !v.is_empty())
        .ok_or("server option 'cookie' expects a value")?;
    if let Some(c) = v
        .chars()
        .find(|&c| c == ';' || c == ',' || c == '~' || c <= ' ')
    {
        return Err(format!(
            "server option 'cookie': character '{}' is not permitted in cookie value '{v}'",
            c.escape_default()
        ));
    }
    *i += 1;
    Ok(v.clone())
}

/// Records an `http-request track-scN` line (already parsed by the HTTP
/// keywords) so that its table can be checked at the end.
pub(crate) fn note_track(d: &mut Draft, args: &[String], origin: &Origin) {
    let tcp_track = args.get(2).is_some_and(|a| a.starts_with("track-sc"));
    let last = match (args[0].as_str(), args.get(1).map(String::as_str)) {
        ("tcp-request", _) if !tcp_track => None,
        ("http-request", _) => d.h.req_http.last().map(|r| &r.action),
        ("tcp-request", Some("connection")) => d.fe_rules.tcp_conn.last().and_then(tcp_action),
        ("tcp-request", Some("content")) => d.fe_rules.tcp_content.last().and_then(tcp_action),
        _ => None,
    };
    let Some(Action::TrackSc(t)) = last else {
        return;
    };
    let table = t.table.clone();
    let kw = match args[0].as_str() {
        "http-request" => format!("http-request track-sc{}", t.slot),
        _ => format!("{} {} track-sc{}", args[0], args[1], t.slot),
    };
    d.p.tracks.push((kw, table, origin.clone()));
}

fn tcp_action(r: &TcpRule) -> Option<&Action> {
    match &r.action {
        TcpAction::Sc(a) => Some(a),
        _ => None,
    }
}

/// The tables that counter fetches on this line name (`sc0_conn_cur(t)`),
/// checked once every section is read.
pub(crate) fn note_counter_tables(d: &mut Draft, origin: &Origin) {
    for (fetch, t) in crate::http::fetch::counter::take_tables() {
        let kw = format!("sample fetch {fetch}");
        d.p.tracks
            .push((kw, Some(t.as_str().to_string()), origin.clone()));
    }
    for (conv, t) in crate::sample::conv::take_tables() {
        d.p.conv_tables.push((conv, t, origin.clone()));
    }
}

fn parse_cookie(d: &mut Draft, args: &[String]) -> Result<CookieCfg, String> {
    let name = need(args, 1, "a cookie name")?;
    if name.contains(|c: char| c == '=' || c == ';' || c == ',' || c <= ' ') {
        return Err(format!("'cookie': invalid cookie name '{name}'"));
    }
    let mut c = CookieCfg {
        name: name.to_string(),
        ..CookieCfg::default()
    };
    let mut mode_word: Option<&str> = None;
    let mut i = 2;
    while let Some(w) = args.get(i) {
        let w = w.as_str();
        i += 1;
        let mut value = || {
            let v = args
                .get(i)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("'cookie': option '{w}' expects a value"));
            i += 1;
            v
        };
        match w {
            "insert" | "rewrite" | "prefix" => {
                if let Some(m) = mode_word {
                    if m != w {
                        return Err(format!(
                            "'cookie': '{m}' and '{w}' are exclusive (only one of 'insert', 'rewrite' and 'prefix')"
                        ));
                    }
                }
                mode_word = Some(w);
                c.mode = match w {
                    "insert" => CookieMode::Insert,
                    "rewrite" => CookieMode::Rewrite,
                    _ => CookieMode::Prefix,
                };
            }
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" => c.postonly = true,
            "preserve" => c.preserve = true,
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "domain" => {
                let v = value()?;
                if v.contains(|ch: char| ch == ';' || ch <= ' ') {
                    return Err(format!("'cookie': invalid domain '{v}'"));
                }
                c.domains.push(v.clone());
            }
            "maxidle" | "maxlife" => {
                let v = value()?;
                let t = values::parse_time(&format!("'cookie {w}'"), v)?;
                let t = (!t.is_zero()).then_some(t);
                if w == "maxidle" {
                    c.maxidle = t;
                } else {
                    c.maxlife = t;
                }
            }
            "attr" => {
                let v = value()?;
                if v.contains(|ch: char| ch == ';' || ch.is_control()) {
                    return Err(format!("'cookie': invalid attribute '{v}'"));
                }
                c.attrs.push(v.clone());
            }
            "dynamic" => return Err("'cookie' option 'dynamic' is not supported yet".into()),
            _ => {
                return Err(format!(
                    "'cookie': unknown option '{w}' (expected insert, rewrite, prefix, indirect, nocache, postonly, preserve, httponly, secure, domain, maxidle, maxlife or attr)"
                ))
            }
        }
    }
    if c.indirect && c.mode == CookieMode::Rewrite {
        // HAProxy refuses it too: a rewritten cookie would be removed.
        return Err("'cookie': 'rewrite' and 'indirect' are incompatible".into());
    }
    if c.preserve && !c.indirect && c.mode != CookieMode::Insert {
        return Err("'cookie' option 'preserve' requires 'insert' or 'indirect'".into());
    }
    if (c.maxidle.is_some() || c.maxlife.is_some()) && c.mode != CookieMode::Insert {
        d.notes.push(
            "'cookie' options 'maxidle' and 'maxlife' are only used in insert mode; ignored".into(),
        );
        c.maxidle = None;
        c.maxlife = None;
    }
    Ok(c)
}

fn parse_table(section: &str, args: &[String], origin: &Origin) -> Result<StickTableCfg, String> {
    let mut key = None;
    let mut len = None;
    let mut size = None;
    let mut expire = None;
    let mut store = StickStore::default();
    let mut i = 1;
    while let Some(w) = args.get(i) {
        let w = w.as_str();
        let v = args
            .get(i + 1)
            .ok_or_else(|| format!("'stick-table': '{w}' expects a value"));
        i += 2;
        match w {
            "type" => {
                key = Some(match v?.as_str() {
                    "ip" => StickKeyType::Ip,
                    "ipv6" => StickKeyType::Ipv6,
                    "integer" => StickKeyType::Integer,
                    "string" => StickKeyType::String,
                    "binary" => return Err("'stick-table type binary' is not supported yet".into()),
                    t => {
                        return Err(format!(
                        "'stick-table': unknown type '{t}' (expected ip, ipv6, integer or string)"
                    ))
                    }
                });
                if args.get(i).is_some_and(|w| w == "len") {
                    let n = args
                        .get(i + 1)
                        .ok_or("'stick-table': 'len' expects a value")?;
                    len = Some(values::parse_int("'stick-table len'", n, 1, 65535)? as usize);
                    i += 2;
                }
            }
            "size" => {
                size =
                    Some(values::parse_size("'stick-table size'", v?, 1, u32::MAX.into())? as usize)
            }
            "expire" => {
                let t = values::parse_time("'stick-table expire'", v?)?;
                expire = (!t.is_zero()).then_some(t);
            }
            "store" => {
                for item in v?.split(',') {
                    parse_store(item, &mut store)?;
                }
            }
            "nopurge" | "peers" | "srvkey" | "write-to" | "recv-only" => {
                return Err(format!("'stick-table' option '{w}' is not supported yet"))
            }
            _ => return Err(format!("'stick-table': unknown argument '{w}'")),
        }
    }
    let key = key.ok_or("'stick-table': missing 'type'")?;
    if len.is_some() && key != StickKeyType::String {
        return Err("'stick-table': 'len' is only for type string".into());
    }
    Ok(StickTableCfg {
        name: section.to_string(),
        origin: origin.clone(),
        key,
        len: len.unwrap_or(32),
        size: size.ok_or("'stick-table': missing 'size'")?,
        expire,
        store,
        servers: Vec::new(),
    })
}

fn parse_store(item: &str, s: &mut StickStore) -> Result<(), String> {
    let (name, arg) = match item.split_once('(') {
        Some((n, rest)) => {
            let a = rest
                .strip_suffix(')')
                .ok_or_else(|| format!("'stick-table store': missing ')' in '{item}'"))?;
            (n, Some(a))
        }
        None => (item, None),
    };
    let period = || -> Result<std::time::Duration, String> {
        let a = arg.ok_or_else(|| {
            format!("'stick-table store': '{name}' expects a period, as '{name}(10s)'")
        })?;
        let t = values::parse_time(&format!("'stick-table store {name}'"), a)?;
        if t.is_zero() {
            return Err(format!(
                "'stick-table store {name}': the period must not be zero"
            ));
        }
        Ok(t)
    };
    let no_arg = || match arg {
        Some(_) => Err(format!("'stick-table store': '{name}' takes no argument")),
        None => Ok(()),
    };
    match StickData::from_name(name) {
        Some(d) if d.is_rate() => s.set(d, period()?),
        Some(d) => {
            no_arg()?;
            s.set(d, std::time::Duration::ZERO);
        }
        None if KNOWN_STORE.contains(&name) => {
            return Err(format!("'stick-table store {name}' is not supported yet"))
        }
        None => return Err(format!("'stick-table store': unknown data type '{name}'")),
    }
    Ok(())
}

/// HAProxy 2.6's other stored data types.
const KNOWN_STORE: &[&str] = &[
    "gpc",
    "gpc_rate",
    "gpt",
    "http_fail_cnt",
    "http_fail_rate",
    "server_key",
    "server_name",
];

fn parse_stick(d: &Draft, args: &[String]) -> Result<StickRule, String> {
    let what = need(
        args,
        1,
        "'on', 'match', 'store-request' or 'store-response'",
    )?;
    let (kind, stage) = match what {
        "on" => (StickKind::On, Stage::HttpRequest),
        "match" => (StickKind::Match, Stage::HttpRequest),
        "store-request" => (StickKind::StoreRequest, Stage::HttpRequest),
        "store-response" => (StickKind::StoreResponse, Stage::HttpResponse),
        _ => {
            return Err(format!(
                "'stick' expects 'on', 'match', 'store-request' or 'store-response', got '{what}'"
            ))
        }
    };
    let kw = format!("stick {what}");
    let (words, cond) = split_cond(&args[2..], &d.h.acls)?;
    let pattern = words
        .first()
        .ok_or_else(|| format!("'{kw}' expects a pattern (a sample fetch like 'src')"))?;
    let pattern = Fetch::parse(pattern).map_err(|e| format!("'{kw}': {e}"))?;
    check_needs(pattern.needs(), stage).map_err(|e| format!("'{kw}': {e}"))?;
    if let Some(c) = &cond {
        check_needs(c.needs(), stage).map_err(|e| format!("'{kw}': {e}"))?;
    }
    let table = match &words[1..] {
        [] => d.name.clone(),
        [t, name] if t == "table" => name.clone(),
        [w, ..] => {
            return Err(format!(
                "'{kw}': unexpected argument '{w}' (expected 'table NAME' or a condition)"
            ))
        }
    };
    Ok(StickRule {
        kind,
        pattern,
        table,
        cond,
    })
}

/// Cross-section checks of table references; returns every table.
pub(crate) fn finish(proxies: &[Draft], errors: &mut Vec<ConfigError>) -> Vec<StickTableCfg> {
    let mut tables: Vec<StickTableCfg> = Vec::new();
    for p in proxies {
        let Some(t) = &p.p.table else { continue };
        match tables.iter().find(|o| o.name == t.name) {
            Some(o) => errors.push(err(
                &t.origin,
                format!(
                    "stick-table '{}' is already declared at {}:{} (tables are named after their section)",
                    t.name, o.origin.file, o.origin.line
                ),
            )),
            None => tables.push(t.clone()),
        }
    }
    for p in proxies {
        let section = format!("{} '{}'", p.kind.name(), p.name);
        for (rule, origin) in p.p.persistence.stick.iter().zip(&p.p.stick_at) {
            match tables.iter().find(|t| t.name == rule.table) {
                None if rule.table == p.name => errors.push(err(
                    origin,
                    format!("'stick' rule in {section}: no stick-table in this section (add one or use 'table NAME')"),
                )),
                None => errors.push(err(
                    origin,
                    format!("'stick' rule in {section}: no stick-table named '{}'", rule.table),
                )),
                Some(t) if !key_fits(rule.pattern.kind(), t.key) => errors.push(err(
                    origin,
                    format!(
                        "'stick' rule in {section}: the pattern's type cannot be a key of stick-table '{}'",
                        t.name
                    ),
                )),
                Some(_) => {}
            }
        }
        if p.kind == Kind::Defaults {
            continue;
        }
        for (kw, table, origin) in &p.p.tracks {
            let name = table.as_deref().unwrap_or(&p.name);
            if !tables.iter().any(|t| t.name == name) {
                let message = match table {
                    None => format!("'{kw}' in {section}: no stick-table in this section (add one or use 'table NAME')"),
                    Some(t) => format!("'{kw}' in {section}: no stick-table named '{t}'"),
                };
                errors.push(err(origin, message));
            }
        }
        for (conv, t, origin) in &p.p.conv_tables {
            if !tables.iter().any(|x| x.name == *t) {
                // `table_gpc(IDX,TABLE)`: the table is the second argument.
                let arg = if matches!(*conv, "table_gpc" | "table_gpt" | "table_gpc_rate") {
                    2
                } else {
                    1
                };
                errors.push(err(
                    origin,
                    format!("unable to find table '{t}' referenced in arg {arg} of conversion keyword '{conv}' in proxy '{}'", p.name),
                ));
            }
        }
    }
    tables
}

/// Tables `stick` rules use store `server_id` (and show `server_key`), as
/// HAProxy: each learns its first such backend's server ids and names.
pub(crate) fn stick_servers(config: &mut super::Config) {
    for b in &config.backends {
        let ids = b.server_ids();
        for rule in &b.persist.stick {
            let Some(t) = config
                .stick_tables
                .iter_mut()
                .find(|t| t.name == rule.table)
            else {
                continue;
            };
            if t.servers.is_empty() {
                t.store.set(StickData::ServerId, std::time::Duration::ZERO);
                let names = b.servers.iter().map(|s| s.name.clone());
                t.servers = ids.iter().copied().zip(names).collect();
            }
        }
    }
}

/// Whether samples of this kind convert to keys of this table type.
fn key_fits(k: SampleKind, t: StickKeyType) -> bool {
    match t {
        StickKeyType::Ip | StickKeyType::Ipv6 => matches!(k, SampleKind::Ip | SampleKind::Str),
        StickKeyType::Integer => matches!(k, SampleKind::Int | SampleKind::Bool | SampleKind::Str),
        StickKeyType::String => true,
    }
}

fn err(origin: &Origin, message: String) -> ConfigError {
    ConfigError {
        file: origin.file.clone(),
        line: origin.line,
        message,
    }
}

#[cfg(test)]
mod tests;

/// `use-server` names a server of its backend, in an HTTP backend (HAProxy:
/// "unable to find server 'x' referenced in a 'use-server' rule").
pub(crate) fn check_use_server(p: &Draft) -> Vec<ConfigError> {
    let rules = p.p.persistence.use_server.iter().zip(&p.p.use_server_at);
    let mut errors = Vec::new();
    for (r, origin) in rules {
        let err = |m: String| ConfigError {
            file: origin.file.clone(),
            line: origin.line,
            message: m,
        };
        if p.mode == super::model::Mode::Tcp {
            errors.push(err(
                "'use-server' in a TCP backend is not supported yet".into()
            ));
            break;
        }
        if let ServerName::Name(n) = &r.server {
            if !p.servers.iter().any(|s| s.name == *n) {
                errors.push(err(format!(
                    "{} '{}': unable to find server '{n}' referenced in a 'use-server' rule",
                    p.kind.name(),
                    p.name
                )));
            }
        }
    }
    errors
}
