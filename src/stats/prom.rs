//! Prometheus text exposition format (version 0.0.4) from a snapshot, with
//! the metric names of HAProxy's prometheus-exporter
//! (`haproxy_frontend_current_sessions{proxy="fe"}`,
//! `haproxy_server_status{proxy="be",server="s1",state="UP"}`...), for the
//! metrics pollux has. Served by `http-request use-service
//! prometheus-exporter`.

use super::{Info, Row, RowKind, Snapshot};
use std::fmt::Write;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

const F: u8 = 1;
const B: u8 = 2;
const S: u8 = 4;

/// (name after `haproxy_<kind>_`, CSV column, type, which kinds, help).
/// Times are converted from the CSV's units where the name says seconds.
const METRICS: &[(&str, &str, &str, u8, &str)] = &[
    (
        "current_queue",
        "qcur",
        "gauge",
        B | S,
        "Requests waiting in the queue now.",
    ),
    (
        "max_queue",
        "qmax",
        "gauge",
        B | S,
        "Most requests ever waiting in the queue.",
    ),
    (
        "current_sessions",
        "scur",
        "gauge",
        F | B | S,
        "Sessions open now.",
    ),
    (
        "max_sessions",
        "smax",
        "gauge",
        F | B | S,
        "Most sessions ever open at once.",
    ),
    (
        "limit_sessions",
        "slim",
        "gauge",
        F | B | S,
        "Configured session limit.",
    ),
    (
        "sessions_total",
        "stot",
        "counter",
        F | B | S,
        "Sessions since the start.",
    ),
    (
        "bytes_in_total",
        "bin",
        "counter",
        F | B | S,
        "Bytes received from clients.",
    ),
    (
        "bytes_out_total",
        "bout",
        "counter",
        F | B | S,
        "Bytes sent to clients.",
    ),
    (
        "requests_denied_total",
        "dreq",
        "counter",
        F | B,
        "Requests denied by rules.",
    ),
    (
        "responses_denied_total",
        "dresp",
        "counter",
        F | B | S,
        "Responses denied by rules.",
    ),
    (
        "request_errors_total",
        "ereq",
        "counter",
        F,
        "Invalid or refused requests.",
    ),
    (
        "connection_errors_total",
        "econ",
        "counter",
        B | S,
        "Failed connections to servers.",
    ),
    (
        "response_errors_total",
        "eresp",
        "counter",
        B | S,
        "Invalid or failed server responses.",
    ),
    (
        "retry_warnings_total",
        "wretr",
        "counter",
        B | S,
        "Connection retries.",
    ),
    (
        "redispatch_warnings_total",
        "wredis",
        "counter",
        B | S,
        "Redispatches to another server.",
    ),
    ("weight", "weight", "gauge", B | S, "Effective weight."),
    (
        "active_servers",
        "act",
        "gauge",
        B,
        "Usable active servers.",
    ),
    (
        "backup_servers",
        "bck",
        "gauge",
        B,
        "Usable backup servers.",
    ),
    (
        "check_failures_total",
        "chkfail",
        "counter",
        S,
        "Failed health checks.",
    ),
    (
        "check_up_down_total",
        "chkdown",
        "counter",
        B | S,
        "UP to DOWN transitions.",
    ),
    (
        "check_last_change_seconds",
        "lastchg",
        "gauge",
        B | S,
        "Seconds since the last state change.",
    ),
    (
        "downtime_seconds_total",
        "downtime",
        "counter",
        B | S,
        "Total seconds spent DOWN.",
    ),
    (
        "queue_limit",
        "qlimit",
        "gauge",
        S,
        "Configured queue limit (maxqueue).",
    ),
    (
        "loadbalanced_total",
        "lbtot",
        "counter",
        B | S,
        "Times the server was picked.",
    ),
    (
        "current_session_rate",
        "rate",
        "gauge",
        F | B | S,
        "Sessions per second over the last second.",
    ),
    (
        "max_session_rate",
        "rate_max",
        "gauge",
        F | B | S,
        "Highest session rate seen.",
    ),
    (
        "check_duration_seconds",
        "check_duration",
        "gauge",
        S,
        "Duration of the last health check.",
    ),
    (
        "http_requests_rate_max",
        "req_rate_max",
        "gauge",
        F,
        "Highest HTTP request rate seen.",
    ),
    (
        "http_requests_total",
        "req_tot",
        "counter",
        F | B,
        "HTTP requests.",
    ),
    (
        "last_session_seconds",
        "lastsess",
        "gauge",
        B | S,
        "Seconds since the last session.",
    ),
    (
        "connections_total",
        "conn_tot",
        "counter",
        F,
        "Connections accepted.",
    ),
];

const SERVER_STATES: &[&str] = &["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];
const CHECK_STATES: &[&str] = &[
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];
const CODES: &[&str] = &["1xx", "2xx", "3xx", "4xx", "5xx", "other"];

fn kind_bit(k: RowKind) -> u8 {
    match k {
        RowKind::Frontend => F,
        RowKind::Backend => B,
        RowKind::Server => S,
    }
}

fn kind_name(k: RowKind) -> &'static str {
    match k {
        RowKind::Frontend => "frontend",
        RowKind::Backend => "backend",
        RowKind::Server => "server",
    }
}

fn labels(r: &Row) -> String {
    let px = r.text("pxname");
    match r.kind {
        RowKind::Server => format!("proxy=\"{}\",server=\"{}\"", lv(&px), lv(r.name())),
        _ => format!("proxy=\"{}\"", lv(&px)),
    }
}

/// Label values escape backslash, quote and line feed.
fn lv(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(o: &mut String, name: &str, ty: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}");
    let _ = writeln!(o, "# TYPE {name} {ty}");
}

/// The exposition: process metrics, then per kind (frontend, backend,
/// server) each metric with a line per row that has the value.
pub fn render(snap: &Snapshot) -> String {
    let mut o = String::with_capacity(32768);
    process(&mut o, &snap.info);
    let rows: Vec<&Row> = snap.rows().collect();
    for kind in [RowKind::Frontend, RowKind::Backend, RowKind::Server] {
        let of_kind: Vec<&&Row> = rows.iter().filter(|r| r.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        let prefix = format!("haproxy_{}_", kind_name(kind));
        // Status, per state label.
        let name = format!("{prefix}status");
        header(
            &mut o,
            &name,
            "gauge",
            "Current status, one line per state, 1 for the current one.",
        );
        for r in &of_kind {
            let st = r.text("status");
            let states: &[&str] = match kind {
                RowKind::Server => SERVER_STATES,
                _ => &["DOWN", "UP"],
            };
            let cur = current_state(kind, &st);
            for s in states {
                let _ = writeln!(
                    o,
                    "{name}{{{},state=\"{s}\"}} {}",
                    labels(r),
                    u8::from(*s == cur)
                );
            }
        }
        for (suffix, field, ty, kinds, help) in METRICS {
            if kinds & kind_bit(kind) == 0 {
                continue;
            }
            let lines: Vec<String> = of_kind
                .iter()
                .filter_map(|r| {
                    value(r, field).map(|v| format!("{prefix}{suffix}{{{}}} {v}", labels(r)))
                })
                .collect();
            if lines.is_empty() {
                continue;
            }
            header(&mut o, &format!("{prefix}{suffix}"), ty, help);
            for l in lines {
                o.push_str(&l);
                o.push('\n');
            }
        }
        // HTTP responses by class, for HTTP proxies (rows that have them).
        let name = format!("{prefix}http_responses_total");
        let http: Vec<&&&Row> = of_kind
            .iter()
            .filter(|r| r.get("hrsp_1xx").is_some())
            .collect();
        if !http.is_empty() {
            header(&mut o, &name, "counter", "HTTP responses by status class.");
            for r in http {
                for (c, f) in CODES.iter().zip(super::HRSP) {
                    let _ = writeln!(
                        o,
                        "{name}{{{},code=\"{c}\"}} {}",
                        labels(r),
                        r.num(f).unwrap_or(0)
                    );
                }
            }
        }
        if kind == RowKind::Server {
            let name = "haproxy_server_check_status";
            let checked: Vec<&&&Row> = of_kind
                .iter()
                .filter(|r| r.get("check_status").is_some())
                .collect();
            if !checked.is_empty() {
                header(
                    &mut o,
                    name,
                    "gauge",
                    "Result of the last health check, one line per result.",
                );
                for r in checked {
                    let cur = r.text("check_status");
                    let cur = cur.trim_start_matches("* ");
                    for s in CHECK_STATES {
                        let _ = writeln!(
                            o,
                            "{name}{{{},state=\"{s}\"}} {}",
                            labels(r),
                            u8::from(*s == cur)
                        );
                    }
                }
            }
        }
    }
    o
}

/// A CSV column as a metric value: milliseconds become seconds where the
/// metric says seconds; `lastsess` -1 (never) stays out.
fn value(r: &Row, field: &str) -> Option<String> {
    let n = r.num(field)?;
    Some(if field == "check_duration" {
        format!("{}", n as f64 / 1000.0)
    } else {
        n.to_string()
    })
}

/// The state label of a row's status: transitions count as where they are.
fn current_state(kind: RowKind, status: &str) -> &'static str {
    let word = status.split(' ').next().unwrap_or("");
    match (kind, word) {
        (RowKind::Server, "MAINT") => "MAINT",
        (RowKind::Server, "DRAIN") => "DRAIN",
        (RowKind::Server, "NOLB") => "NOLB",
        (_, "UP" | "OPEN" | "no") => "UP",
        _ => "DOWN",
    }
}

fn process(o: &mut String, i: &Info) {
    for (name, ty, help, v) in [
        (
            "haproxy_process_start_time_seconds",
            "gauge",
            "Start time, seconds since the epoch.",
            i.start_time,
        ),
        (
            "haproxy_process_max_connections",
            "gauge",
            "Configured maxconn.",
            u64::from(i.maxconn),
        ),
        (
            "haproxy_process_nbthread",
            "gauge",
            "Number of started threads (global.nbthread).",
            u64::from(i.nbthread.max(1)),
        ),
        (
            "haproxy_process_current_connections",
            "gauge",
            "Connections open now.",
            u64::from(i.curr_conns),
        ),
        (
            "haproxy_process_connections_total",
            "counter",
            "Connections accepted since the start.",
            i.cum_conns,
        ),
        (
            "haproxy_process_requests_total",
            "counter",
            "HTTP requests since the start.",
            i.cum_req,
        ),
        (
            "haproxy_process_current_ssl_connections",
            "gauge",
            "TLS connections open now, both sides.",
            u64::from(i.curr_ssl_conns),
        ),
        (
            "haproxy_process_ssl_connections_total",
            "counter",
            "TLS connections since the start, both sides.",
            i.ssl_conns,
        ),
        (
            "haproxy_process_current_ssl_rate",
            "gauge",
            "TLS connections accepted per second.",
            u64::from(i.ssl_rate),
        ),
        (
            "haproxy_process_max_ssl_rate",
            "gauge",
            "Highest TLS connections accepted per second.",
            u64::from(i.max_ssl_rate),
        ),
        (
            "haproxy_process_current_frontend_ssl_key_rate",
            "gauge",
            "Full TLS handshakes per second on frontends.",
            u64::from(i.fe_key_rate),
        ),
        (
            "haproxy_process_max_frontend_ssl_key_rate",
            "gauge",
            "Highest full TLS handshakes per second on frontends.",
            u64::from(i.max_fe_key_rate),
        ),
        (
            "haproxy_process_frontend_ssl_reuse",
            "gauge",
            "Percent of frontend TLS connections that resumed a session.",
            u64::from(i.ssl_reuse_pct()),
        ),
        (
            "haproxy_process_current_backend_ssl_key_rate",
            "gauge",
            "Full TLS handshakes per second towards servers.",
            u64::from(i.be_key_rate),
        ),
        (
            "haproxy_process_max_backend_ssl_key_rate",
            "gauge",
            "Highest full TLS handshakes per second towards servers.",
            u64::from(i.max_be_key_rate),
        ),
        (
            "haproxy_process_ssl_cache_lookups_total",
            "counter",
            "TLS session cache lookups.",
            i.ssl_cache_lookups,
        ),
        (
            "haproxy_process_ssl_cache_misses_total",
            "counter",
            "TLS session cache misses.",
            i.ssl_cache_misses,
        ),
    ] {
        header(o, name, ty, help);
        let _ = writeln!(o, "{name} {v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{ProxyStats, Row, RowKind, Snapshot};

    #[test]
    fn metrics_carry_haproxy_names_labels_and_state_lines() {
        let mut fe = Row::new(RowKind::Frontend, "web", "FRONTEND");
        fe.u("scur", 2);
        fe.s("status", "OPEN");
        fe.u("hrsp_5xx", 3);
        fe.u("hrsp_1xx", 0);
        let mut s = Row::new(RowKind::Server, "web", "a\"b");
        s.s("status", "UP 1/3");
        s.s("check_status", "L7OK");
        s.u("check_duration", 12);
        let snap = Snapshot {
            info: Default::default(),
            proxies: vec![ProxyStats {
                name: "web".into(),
                iid: 1,
                frontend: Some(fe),
                servers: vec![s],
                backend: None,
            }],
        };
        let t = render(&snap);
        assert!(t.contains("# TYPE haproxy_frontend_current_sessions gauge\nhaproxy_frontend_current_sessions{proxy=\"web\"} 2\n"));
        assert!(t.contains("haproxy_frontend_status{proxy=\"web\",state=\"UP\"} 1"));
        assert!(t.contains("haproxy_frontend_http_responses_total{proxy=\"web\",code=\"5xx\"} 3"));
        assert!(t.contains("haproxy_server_status{proxy=\"web\",server=\"a\\\"b\",state=\"UP\"} 1"));
        assert!(t.contains(
            "haproxy_server_check_status{proxy=\"web\",server=\"a\\\"b\",state=\"L7OK\"} 1"
        ));
        assert!(t.contains(
            "haproxy_server_check_duration_seconds{proxy=\"web\",server=\"a\\\"b\"} 0.012"
        ));
    }
}
