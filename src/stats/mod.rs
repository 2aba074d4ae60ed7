//! Statistics as plain data, and the formats they are shown in. The engine
//! takes a [`Snapshot`] (every proxy with its frontend, server and backend
//! rows, plus process information); the renderers work from that alone:
//! HAProxy's CSV and typed JSON (`;csv`, `;json`, and the runtime API's
//! `show stat`), the HTML page (`html`), Prometheus' text format (`prom`).
//! `page` handles a stats page request (URI options, auth, admin form).

pub mod html;
pub mod page;
pub mod prom;

use std::fmt::Write;

/// HAProxy 2.6's `show stat` columns, in order (its management guide §9.1,
/// and what Debian's haproxy 2.6 prints; tests/reference keeps a copy).
/// Columns pollux has no data for stay empty, as HAProxy leaves the ones
/// that do not apply; `-` separates the base columns from the modules'.
pub const FIELDS: &[&str] = &[
    "pxname",
    "svname",
    "qcur",
    "qmax",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "qlimit",
    "pid",
    "iid",
    "sid",
    "throttle",
    "lbtot",
    "tracked",
    "type",
    "rate",
    "rate_lim",
    "rate_max",
    "check_status",
    "check_code",
    "check_duration",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "hanafail",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "lastsess",
    "last_chk",
    "last_agt",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "agent_status",
    "agent_code",
    "agent_duration",
    "check_desc",
    "agent_desc",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "addr",
    "cookie",
    "mode",
    "algo",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "intercepted",
    "dcon",
    "dses",
    "wrew",
    "connect",
    "reuse",
    "cache_lookups",
    "cache_hits",
    "srv_icur",
    "src_ilim",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
    "eint",
    "idle_conn_cur",
    "safe_conn_cur",
    "used_conn_cur",
    "need_conn_est",
    "uweight",
    "agg_server_status",
    "agg_server_check_status",
    "agg_check_status",
    "-",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
    "h2_headers_rcvd",
    "h2_data_rcvd",
    "h2_settings_rcvd",
    "h2_rst_stream_rcvd",
    "h2_goaway_rcvd",
    "h2_detected_conn_protocol_errors",
    "h2_detected_strm_protocol_errors",
    "h2_rst_stream_resp",
    "h2_goaway_resp",
    "h2_open_connections",
    "h2_backend_open_streams",
    "h2_total_connections",
    "h2_backend_total_streams",
    "h1_open_connections",
    "h1_open_streams",
    "h1_total_connections",
    "h1_total_streams",
    "h1_bytes_in",
    "h1_bytes_out",
    "h1_spliced_bytes_in",
    "h1_spliced_bytes_out",
];

/// Index of a column in [`FIELDS`].
pub fn field_index(name: &str) -> Option<usize> {
    FIELDS.iter().position(|f| *f == name)
}

/// The CSV header line, as `show stat` prints it.
pub fn csv_header() -> String {
    format!("# {},\n", FIELDS.join(","))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    U(u64),
    /// Signed, for HAProxy's -1 ("never", as `lastsess`).
    I(i64),
    S(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Value::U(n) => write!(f, "{n}"),
            Value::I(n) => write!(f, "{n}"),
            Value::S(s) => f.write_str(s),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Frontend,
    Backend,
    Server,
}

impl RowKind {
    /// HAProxy's `type` column: 0 frontend, 1 backend, 2 server.
    pub fn code(self) -> u64 {
        match self {
            RowKind::Frontend => 0,
            RowKind::Backend => 1,
            RowKind::Server => 2,
        }
    }
    fn obj_type(self) -> &'static str {
        match self {
            RowKind::Frontend => "Frontend",
            RowKind::Backend => "Backend",
            RowKind::Server => "Server",
        }
    }
}

/// The HTTP response classes' columns, in `Ctr::hrsp` order.
pub const HRSP: [&str; 6] = [
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
];

/// One line of `show stat`: a value (or nothing) per column of [`FIELDS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub kind: RowKind,
    vals: Vec<Option<Value>>,
}

impl Row {
    pub fn new(kind: RowKind, pxname: &str, svname: &str) -> Row {
        let mut r = Row {
            kind,
            vals: vec![None; FIELDS.len()],
        };
        r.set("pxname", Value::S(pxname.into()));
        r.set("svname", Value::S(svname.into()));
        r.set("type", Value::U(kind.code()));
        r.set("-", Value::S("-".into()));
        r
    }

    /// Set a column; a name not in [`FIELDS`] is a bug caught by the tests.
    pub fn set(&mut self, name: &str, v: Value) {
        match field_index(name) {
            Some(i) => self.vals[i] = Some(v),
            None => debug_assert!(false, "unknown stat column {name}"),
        }
    }

    pub fn u(&mut self, name: &str, n: u64) {
        self.set(name, Value::U(n));
    }

    pub fn s(&mut self, name: &str, s: impl Into<String>) {
        self.set(name, Value::S(s.into()));
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        field_index(name).and_then(|i| self.vals[i].as_ref())
    }

    /// A numeric column, None when empty or text.
    pub fn num(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Value::U(n)) => Some(*n),
            Some(Value::I(n)) => u64::try_from(*n).ok(),
            _ => None,
        }
    }

    /// A column as shown (empty when unset).
    pub fn text(&self, name: &str) -> String {
        self.get(name).map(Value::to_string).unwrap_or_default()
    }

    pub fn name(&self) -> &str {
        match &self.vals[1] {
            Some(Value::S(s)) => s,
            _ => "",
        }
    }
}

/// One proxy as the stats page shows it: a frontend row when it accepts
/// clients, its servers and a backend row when it has servers.
#[derive(Debug, Clone)]
pub struct ProxyStats {
    pub name: String,
    pub iid: u32,
    pub frontend: Option<Row>,
    pub servers: Vec<Row>,
    pub backend: Option<Row>,
}

impl ProxyStats {
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.frontend
            .iter()
            .chain(self.servers.iter())
            .chain(self.backend.iter())
    }
}

/// Process-wide information (`show info`, the page's header).
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub pid: u32,
    pub uptime_sec: u64,
    /// Unix time of the start.
    pub start_time: u64,
    pub maxconn: u32,
    /// Event-loop threads (`nbthread`).
    pub nbthread: u32,
    pub curr_conns: u32,
    pub cum_conns: u64,
    pub cum_req: u64,
    pub sess_rate: u32,
    pub max_sess_rate: u32,
    pub poller: String,
    pub node: String,
    /// The descriptor limit (`Ulimit-n`).
    pub ulimit_n: u64,
    pub listeners: u32,
    pub dropped_logs: u64,
    pub bytes_out: u64,
    /// TLS connections of both sides (handshakes done or failed).
    pub ssl_conns: u64,
    /// Frontends' full TLS handshakes, and those that resumed a session.
    /// TLS connections open now, both sides (CurrSslConns).
    pub curr_ssl_conns: u32,
    /// TLS connections accepted per second, and its maximum (SslRate).
    pub ssl_rate: u32,
    pub max_ssl_rate: u32,
    /// Full handshakes per second and their maxima, frontends and backends.
    pub fe_key_rate: u32,
    pub max_fe_key_rate: u32,
    pub be_key_rate: u32,
    pub max_be_key_rate: u32,
    /// Session-id cache lookups and misses (SslCacheLookups/Misses).
    pub ssl_cache_lookups: u64,
    pub ssl_cache_misses: u64,
}

impl Info {
    /// SslFrontendSessionReuse_pct as HAProxy 2.6 computes it: from the
    /// current rates of full handshakes and of TLS connections, rounded.
    pub fn ssl_reuse_pct(&self) -> u32 {
        let (keys, conns) = (self.fe_key_rate, self.ssl_rate);
        if keys >= conns {
            return 0;
        }
        100 - (100 * keys + (conns - 1) / 2) / conns
    }
}

/// Everything the renderers need, taken from the engine at one instant.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub info: Info,
    pub proxies: Vec<ProxyStats>,
}

impl Snapshot {
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.proxies.iter().flat_map(ProxyStats::rows)
    }

    /// The same snapshot with only the rows `keep` accepts (`show stat`'s
    /// proxy/type/server filter).
    pub fn filtered(&self, keep: impl Fn(&ProxyStats, &Row) -> bool) -> Snapshot {
        let proxies = self
            .proxies
            .iter()
            .map(|p| ProxyStats {
                name: p.name.clone(),
                iid: p.iid,
                frontend: p.frontend.clone().filter(|r| keep(p, r)),
                servers: p.servers.iter().filter(|r| keep(p, r)).cloned().collect(),
                backend: p.backend.clone().filter(|r| keep(p, r)),
            })
            .collect();
        Snapshot {
            info: self.info.clone(),
            proxies,
        }
    }

    /// `show stat typed`: one line per set column,
    /// `T.IID.SID.POS.NAME.1:TAGS:TYPE:VALUE` (T is F, B or S; TAGS the
    /// first letters of origin, nature and scope).
    pub fn typed(&self) -> String {
        let mut out = String::new();
        for p in &self.proxies {
            for r in p.rows() {
                let t = match r.kind {
                    RowKind::Frontend => 'F',
                    RowKind::Backend => 'B',
                    RowKind::Server => 'S',
                };
                let id = r.num("sid").unwrap_or(0);
                for (pos, v) in r.vals.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let name = FIELDS[pos];
                    if name == "-" {
                        continue;
                    }
                    let (origin, nature) = tags(name);
                    let ty = match v {
                        Value::U(_) => num_type(name),
                        Value::I(_) => "s32",
                        Value::S(_) => "str",
                    };
                    let _ = writeln!(
                        out,
                        "{t}.{}.{id}.{pos}.{name}.1:{}{}P:{ty}:{v}",
                        p.iid,
                        &origin[..1],
                        &nature[..1]
                    );
                }
            }
        }
        out
    }

    /// HAProxy's CSV: the header, then one line per row.
    pub fn csv(&self) -> String {
        let mut out = csv_header();
        for r in self.rows() {
            for v in &r.vals {
                if let Some(v) = v {
                    out.push_str(&csv_escape(&v.to_string()));
                }
                out.push(',');
            }
            out.push('\n');
        }
        out
    }

    /// `show stat json`'s typed layout: an array per row of objects
    /// {objType, proxyId, id, field{pos,name}, processNum, tags{origin,
    /// nature, scope}, value{type, value}}, set columns only.
    pub fn json(&self) -> String {
        let mut out = String::from("[");
        let mut first_row = true;
        for p in &self.proxies {
            for r in p.rows() {
                out.push_str(if first_row { "[" } else { ",[" });
                first_row = false;
                let id = r.num("sid").unwrap_or(0);
                let mut first = true;
                for (pos, v) in r.vals.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let name = FIELDS[pos];
                    if name == "-" {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    let (origin, nature) = tags(name);
                    let (ty, val) = match v {
                        Value::U(n) => (num_type(name), n.to_string()),
                        Value::I(n) => ("s32", n.to_string()),
                        Value::S(s) => ("str", json_str(s)),
                    };
                    let _ = write!(
                        out,
                        "{{\"objType\":\"{}\",\"proxyId\":{},\"id\":{id},\"field\":{{\"pos\":{pos},\"name\":\"{name}\"}},\"processNum\":1,\"tags\":{{\"origin\":\"{origin}\",\"nature\":\"{nature}\",\"scope\":\"Process\"}},\"value\":{{\"type\":\"{ty}\",\"value\":{val}}}}}",
                        r.kind.obj_type(),
                        p.iid
                    );
                }
                out.push(']');
            }
        }
        out.push_str("]\n");
        out
    }
}

/// HAProxy quotes a CSV value holding a comma, quote or line break.
fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The JSON `tags` of a column: its origin and nature, as HAProxy types them.
fn tags(name: &str) -> (&'static str, &'static str) {
    match name {
        "pxname" | "svname" => ("Key", "Name"),
        "slim" | "qlimit" | "rate_lim" => ("Config", "Limit"),
        "weight" | "uweight" => ("Metric", "Avg"),
        "iid" | "sid" | "pid" | "check_rise" | "check_fall" | "mode" | "addr" | "cookie"
        | "algo" => ("Config", "Gauge"),
        "status" | "act" | "bck" | "type" | "qcur" | "scur" | "check_health" => ("Metric", "Gauge"),
        "lastchg" | "lastsess" => ("Metric", "Age"),
        "check_duration" => ("Metric", "Duration"),
        "check_status" | "check_desc" | "last_chk" => ("Status", "Output"),
        n if n.ends_with("max") => ("Metric", "Max"),
        n if n.ends_with("rate") => ("Metric", "Rate"),
        _ => ("Metric", "Counter"),
    }
}

fn num_type(name: &str) -> &'static str {
    match tags(name).1 {
        "Counter" => "u64",
        _ => "u32",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_the_reference_copy_of_haproxy_2_6() {
        let reference = include_str!("../../tests/reference/haproxy-2.6-show-stat-header.csv");
        assert_eq!(csv_header(), reference);
    }

    #[test]
    fn csv_rows_have_one_value_per_column_and_empty_unknowns() {
        let mut r = Row::new(RowKind::Server, "be", "s1");
        r.u("scur", 3);
        r.s("status", "UP 1/3");
        r.s("last_chk", "a, \"b\"");
        let snap = Snapshot {
            info: Info::default(),
            proxies: vec![ProxyStats {
                name: "be".into(),
                iid: 2,
                frontend: None,
                servers: vec![r],
                backend: None,
            }],
        };
        let csv = snap.csv();
        let line = csv.lines().nth(1).unwrap();
        assert!(line.starts_with("be,s1,,,3,"), "{line}");
        assert!(line.contains(",UP 1/3,"));
        assert!(line.contains(",\"a, \"\"b\"\"\","));
        // Same number of commas as the header (the quoted one aside).
        let header_commas = csv.lines().next().unwrap().matches(',').count();
        assert_eq!(
            line.replace("a, ", "a ").matches(',').count(),
            header_commas
        );
    }

    #[test]
    fn json_is_typed_per_field() {
        let mut r = Row::new(RowKind::Frontend, "fe", "FRONTEND");
        r.u("stot", 7);
        let snap = Snapshot {
            info: Info::default(),
            proxies: vec![ProxyStats {
                name: "fe".into(),
                iid: 1,
                frontend: Some(r),
                servers: vec![],
                backend: None,
            }],
        };
        let j = snap.json();
        assert!(j.contains(
            "\"field\":{\"pos\":7,\"name\":\"stot\"},\"processNum\":1,\"tags\":{\"origin\":\"Metric\",\"nature\":\"Counter\",\"scope\":\"Process\"},\"value\":{\"type\":\"u64\",\"value\":7}"
        ), "{j}");
        assert!(j.contains("\"value\":{\"type\":\"str\",\"value\":\"FRONTEND\"}"));
    }
}
