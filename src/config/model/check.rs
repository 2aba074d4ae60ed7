//! Health-check settings: a server's `check` options and its backend's
//! check method (`option httpchk`, `http-check`, `tcp-check`).

use std::net::IpAddr;
use std::time::Duration;

use crate::http::acl::Re;

/// `check` and its settings on a `server` or `default-server` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCheck {
    /// `inter`: between two checks while the server is steadily UP (2s).
    pub inter: Duration,
    /// `fastinter`: while changing state (default: `inter`).
    pub fastinter: Duration,
    /// `downinter`: while fully DOWN (default: `inter`).
    pub downinter: Duration,
    /// `rise`: consecutive successes to go UP (default 2).
    pub rise: u32,
    /// `fall`: consecutive failures to go DOWN (default 3).
    pub fall: u32,
    /// `port`: check this port instead of the server's.
    pub port: Option<u16>,
    /// `addr`: check this address instead of the server's.
    pub addr: Option<IpAddr>,
    /// `slowstart`: time for the weight to ramp up after going UP.
    pub slowstart: Option<Duration>,
    /// `observe layer4|layer7`: passive checks on live traffic.
    pub observe: Option<Observe>,
    /// `error-limit`: consecutive live errors before `on-error` (default 10).
    pub error_limit: u32,
    pub on_error: OnError,
    /// `check-ssl` (true) / `no-check-ssl` (false); once the server line
    /// is read, whether the check's own connection goes over TLS
    /// (`ServerCheck::over_tls`).
    pub ssl: Option<bool>,
    /// `check-sni NAME`: the SNI a TLS check sends.
    pub sni: Option<String>,
    /// `check-alpn LIST`: the ALPN a TLS check offers instead of the
    /// server's, and the TLS context made for it at the end of the load.
    pub alpn: Option<Vec<String>>,
    pub alpn_ctx: Option<crate::tls::client::ClientCtx>,
}

impl ServerCheck {
    /// HAProxy 2.6: `check-ssl` forces TLS and `no-check-ssl` plain text;
    /// otherwise checks go as the traffic does (`ssl`), unless `port` or
    /// `addr` sends them elsewhere.
    pub fn over_tls(&self, server_ssl: bool) -> bool {
        self.ssl
            .unwrap_or(server_ssl && self.port.is_none() && self.addr.is_none())
    }
}

impl Default for ServerCheck {
    fn default() -> Self {
        let inter = Duration::from_secs(2);
        ServerCheck {
            inter,
            fastinter: inter,
            downinter: inter,
            rise: 2,
            fall: 3,
            port: None,
            addr: None,
            slowstart: None,
            observe: None,
            error_limit: 10,
            on_error: OnError::FastInter,
            ssl: None,
            sni: None,
            alpn: None,
            alpn_ctx: None,
        }
    }
}

/// `observe`: what counts as an error in live traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observe {
    /// Connection failures and timeouts.
    Layer4,
    /// Also HTTP 5xx (but 501 and 505) and invalid responses.
    Layer7,
}

/// `on-error`: what `error-limit` consecutive live errors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Only check sooner (at `fastinter`).
    #[default]
    FastInter,
    /// Count as one failed check.
    FailCheck,
    /// Leave one check failure before DOWN, then count one.
    SuddenDeath,
    /// Mark the server DOWN at once.
    MarkDown,
}

/// A backend's health-check method (`option httpchk`, `option tcp-check`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthConfig {
    pub kind: CheckKind,
    /// `http-check expect`; None: HAProxy's default (2xx and 3xx pass).
    pub expect: Option<HttpExpect>,
    /// `option allbackups`: use every backup server, not only the first.
    pub all_backups: bool,
    /// `option log-health-checks`: log each check whose status or health
    /// counter changed, and no reason on the state-change lines.
    pub log_checks: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CheckKind {
    /// A TCP connection that opens is a success.
    #[default]
    Tcp,
    /// `option httpchk`.
    Http(HttpCheck),
    /// `option tcp-check` with its `tcp-check` rules, in order.
    TcpScript(Vec<TcpCheckStep>),
    /// `option ssl-hello-chk`: an SSLv3 ClientHello, answered by a TLS
    /// record (a handshake or an alert).
    SslHello,
    /// `option redis-check`, `option smtpchk`, `option pgsql-check`,
    /// `option ldap-check`, `option mysql-check`: a protocol's dialogue.
    Proto(ProtoCheck),
}

/// The protocol checks HAProxy 2.6 runs as built-in tcp-check scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoCheck {
    /// `option redis-check`: PING, answered `+PONG`.
    Redis,
    /// `option smtpchk [EHLO|HELO domain]`: a 2xx banner, the greeting
    /// (`hello`, default `HELO localhost`) answered 2xx, then QUIT.
    Smtp { hello: String },
    /// `option pgsql-check user U`: a StartupMessage for U, answered by
    /// an authentication request (not an error).
    Pgsql { user: String },
    /// `option ldap-check`: an anonymous LDAPv3 bind, answered Success.
    Ldap,
    /// `option mysql-check [user U [post-41|pre-41]]`: the server's
    /// handshake, and with a user a login (protocol 4.1 unless `pre-41`)
    /// answered without an error.
    Mysql { user: Option<(String, bool)> },
}

/// The request of an HTTP check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCheck {
    /// Default `OPTIONS`.
    pub method: String,
    /// Default `/`.
    pub uri: String,
    /// Default `HTTP/1.0`; HAProxy 1.x configs append headers here with
    /// `\r\n` (`"HTTP/1.1\r\nHost:\ www"`), which is sent as is.
    pub version: String,
    /// `http-check send hdr NAME VALUE`.
    pub headers: Vec<(String, String)>,
}

impl Default for HttpCheck {
    fn default() -> Self {
        HttpCheck {
            method: "OPTIONS".into(),
            uri: "/".into(),
            version: "HTTP/1.0".into(),
            headers: Vec::new(),
        }
    }
}

/// `http-check expect [!] status|rstatus|string|rstring VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpExpect {
    pub negate: bool,
    pub what: HttpMatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpMatch {
    /// Status codes and inclusive ranges (`200,201,300-310`).
    Status(Vec<(u16, u16)>),
    /// A regex on the three-digit status code.
    Rstatus(Re),
    /// A substring of the body.
    String(String),
    /// A regex on the body.
    Rstring(Re),
}

/// One `tcp-check` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpCheckStep {
    /// `tcp-check connect [port N] [default] [ssl] [sni NAME]`.
    Connect {
        port: Option<u16>,
        /// `default`: over TLS and with the SNI as the server's checks.
        default: bool,
        /// `ssl`: over TLS with the server's TLS settings.
        ssl: bool,
        sni: Option<String>,
    },
    /// `tcp-check send STRING` or `send-binary HEX`.
    Send(Vec<u8>),
    /// `tcp-check expect [!] string|rstring|binary VALUE`.
    Expect { negate: bool, what: TcpMatch },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpMatch {
    /// `string` or `binary` (decoded): these bytes appear in the response.
    Bytes(Vec<u8>),
    /// `rstring`: a regex on the response.
    Rstring(Re),
}
