//! The `%var` names of a log-format string (configuration manual §8.2.4):
//! what each one is, and where pollux can render it. The log line knows
//! everything; a header value, a backend name or a unique id only the
//! connection's addresses, the frontend and the request's date and number.

/// A log-format variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    ClientIp,
    ClientPort,
    FrontendIp,
    FrontendPort,
    BackendIp,
    BackendPort,
    ServerIp,
    ServerPort,
    Frontend,
    FrontendTransport,
    /// `%sslv`, `%sslc`: the client connection's TLS version and cipher.
    SslVersion,
    SslCipher,
    Backend,
    Server,
    AcceptDate,
    RequestDate,
    GmtDate,
    LocalDate,
    Timestamp,
    AcceptMs,
    Th,
    Ti,
    TR,
    Tq,
    Tw,
    Tc,
    Tr,
    Ta,
    Tt,
    Td,
    Status,
    BytesOut,
    BytesIn,
    Term,
    TermCookie,
    ActConn,
    FeConn,
    BeConn,
    SrvConn,
    Retries,
    SrvQueue,
    BeQueue,
    HdrReq,
    HdrRes,
    HdrReqList,
    HdrResList,
    Request,
    Method,
    Path,
    Query,
    Uri,
    Version,
    CookieReq,
    CookieRes,
    Hostname,
    Pid,
    UniqueId,
    ReqCounter,
}

/// Every variable name pollux renders.
const VARS: &[(&str, Var)] = &[
    ("ci", Var::ClientIp),
    ("cp", Var::ClientPort),
    ("fi", Var::FrontendIp),
    ("fp", Var::FrontendPort),
    ("bi", Var::BackendIp),
    ("bp", Var::BackendPort),
    ("si", Var::ServerIp),
    ("sp", Var::ServerPort),
    ("f", Var::Frontend),
    ("ft", Var::FrontendTransport),
    ("sslv", Var::SslVersion),
    ("sslc", Var::SslCipher),
    ("b", Var::Backend),
    ("s", Var::Server),
    ("t", Var::AcceptDate),
    ("tr", Var::RequestDate),
    ("T", Var::GmtDate),
    ("Tl", Var::LocalDate),
    ("Ts", Var::Timestamp),
    ("ms", Var::AcceptMs),
    ("Th", Var::Th),
    ("Ti", Var::Ti),
    ("TR", Var::TR),
    ("Tq", Var::Tq),
    ("Tw", Var::Tw),
    ("Tc", Var::Tc),
    ("Tr", Var::Tr),
    ("Ta", Var::Ta),
    ("Tt", Var::Tt),
    ("Td", Var::Td),
    ("ST", Var::Status),
    ("B", Var::BytesOut),
    ("U", Var::BytesIn),
    ("ts", Var::Term),
    ("tsc", Var::TermCookie),
    ("ac", Var::ActConn),
    ("fc", Var::FeConn),
    ("bc", Var::BeConn),
    ("sc", Var::SrvConn),
    ("rc", Var::Retries),
    ("sq", Var::SrvQueue),
    ("bq", Var::BeQueue),
    ("hr", Var::HdrReq),
    ("hs", Var::HdrRes),
    ("hrl", Var::HdrReqList),
    ("hsl", Var::HdrResList),
    ("r", Var::Request),
    ("HM", Var::Method),
    ("HP", Var::Path),
    ("HQ", Var::Query),
    ("HU", Var::Uri),
    ("HV", Var::Version),
    ("CC", Var::CookieReq),
    ("CS", Var::CookieRes),
    ("H", Var::Hostname),
    ("pid", Var::Pid),
    ("ID", Var::UniqueId),
    ("rt", Var::ReqCounter),
];

/// HAProxy variables pollux does not render yet (refused at config check).
const LATER: &[&str] = &["lc", "fb", "Tu", "HPO", "tid", "rid"];

/// Where a log-format string is used, which decides the variables it may
/// name and how an empty value shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    /// `log-format`: every variable; an empty value is `-`.
    Log,
    /// `unique-id-format`: as `Http`, spaces merged.
    UniqueId,
    /// Header values, redirects, `return` bodies, backend and server names:
    /// the addresses, the pid, the frontend, the request's date and number.
    Http,
}

impl Var {
    /// Whether `w` can render this variable.
    pub fn usable_in(self, w: Where) -> bool {
        use Var::*;
        match w {
            Where::Log => true,
            Where::Http | Where::UniqueId => matches!(
                self,
                ClientIp
                    | ClientPort
                    | FrontendIp
                    | FrontendPort
                    | Pid
                    | Frontend
                    | FrontendTransport
                    | SslVersion
                    | SslCipher
                    | Timestamp
                    | AcceptMs
                    | ReqCounter
            ),
        }
    }

    /// `+X` applies: addresses, ports, the timestamp, the pid, the counter.
    pub fn hex_able(self) -> bool {
        use Var::*;
        matches!(
            self,
            ClientIp
                | ClientPort
                | FrontendIp
                | FrontendPort
                | BackendIp
                | BackendPort
                | ServerIp
                | ServerPort
                | Timestamp
                | Pid
                | ReqCounter
        )
    }
}

/// A variable by name; errors say which name and why.
pub fn lookup(name: &str, s: &str) -> Result<Var, String> {
    if let Some((_, v)) = VARS.iter().find(|(n, _)| *n == name) {
        return Ok(*v);
    }
    if name.is_empty() {
        return Err(format!("a '%' without a variable name in log-format '{s}'"));
    }
    if LATER.contains(&name) {
        return Err(format!(
            "log-format variable '%{name}' is not supported yet"
        ));
    }
    Err(format!("no such log-format variable '%{name}' in '{s}'"))
}
