//! One attempt as a script of steps (connect, send, expect): every check
//! kind compiles to one, `run` walks it until a step needs the engine, and
//! `eval` judges what was received. Failure reasons use HAProxy's words.

use std::net::SocketAddr;
use std::time::Instant;

use super::http::{eval_http, http_request};
use super::{find, Action, Checker, Eval, Outcome, Phase, Step, CHECK_BUFSIZE};
use crate::config::{CheckKind, ProtoCheck, TcpCheckStep, TcpMatch};

/// The steps of an attempt for this check kind, and the index of the
/// first user rule (1 when a script gets an implicit first connect).
/// `tls` and `sni` (`check-sni`): how the implicit connect goes, and an
/// explicit `tcp-check connect default`; another explicit one is plain
/// text unless it says `ssl` (HAProxy 2.6).
pub(super) fn compile(kind: &CheckKind, tls: bool, sni: Option<&str>) -> (Vec<Step>, usize) {
    let mut steps = vec![Step::Connect {
        port: None,
        tls,
        sni: sni.map(str::to_string),
        default: true,
    }];
    let mut first_rule = 0;
    match kind {
        CheckKind::Tcp => {}
        CheckKind::SslHello => steps.extend([Step::SendSslHello, Step::ExpectSslHello]),
        CheckKind::Proto(p) => {
            // HAProxy numbers the steps from its own connect rule, if any.
            if matches!(p, ProtoCheck::Redis | ProtoCheck::Ldap) {
                first_rule = 1;
            }
            steps.extend(super::proto::steps(p));
        }
        CheckKind::Http(http) => {
            steps.push(Step::Send(http_request(http)));
            steps.push(Step::ExpectHttp);
        }
        CheckKind::TcpScript(rules) => {
            if matches!(rules.first(), Some(TcpCheckStep::Connect { .. })) {
                steps.clear();
            } else {
                first_rule = 1;
            }
            steps.extend(rules.iter().map(|r| {
                match r {
                    TcpCheckStep::Connect {
                        port,
                        default,
                        ssl,
                        sni: own,
                    } => Step::Connect {
                        port: *port,
                        tls: *ssl || (*default && tls),
                        sni: own
                            .clone()
                            .or_else(|| sni.filter(|_| *default).map(str::to_string)),
                        default: *default,
                    },
                    TcpCheckStep::Send(b) => Step::Send(b.clone()),
                    TcpCheckStep::Expect { negate, what } => Step::Expect {
                        negate: *negate,
                        what: what.clone(),
                    },
                }
            }));
        }
    }
    (steps, first_rule)
}

impl Checker {
    /// Runs steps from `self.step` until one needs the engine.
    pub(super) fn run(&mut self, now: Instant) -> Action {
        loop {
            let Some(step) = self.steps.get(self.step) else {
                let tls = self
                    .steps
                    .iter()
                    .any(|s| matches!(s, Step::Connect { tls: true, .. }));
                let reason = match self.pass_reason.take() {
                    Some(r) if self.steps.last().is_some_and(
                        |s| matches!(s, Step::Proto(e) if super::proto::info_replaced_at_end(e)),
                    ) =>
                    {
                        let last = r.split(", info: ").next().unwrap_or("").to_string();
                        self.log_reason = Some(r);
                        last
                    }
                    Some(r) => r,
                    // HAProxy: a script ending with a connect rule is a
                    // layer-4 (or 6) success, else layer 7 with code 0.
                    None if self.script => match self.steps.last() {
                        Some(Step::Connect { tls, .. }) => format!(
                            "Layer{} check passed, info: \"(tcp-check)\"",
                            if *tls { 6 } else { 4 }
                        ),
                        _ => "Layer7 check passed, code: 0, info: \"(tcp-check)\"".to_string(),
                    },
                    None if self.has_layer7() => "Layer7 check passed".to_string(),
                    // A TLS connect proves the handshake too (HAProxy's L6OK).
                    None if tls => "Layer6 check passed".to_string(),
                    None => "Layer4 check passed".to_string(),
                };
                return self.done(Outcome::pass(reason));
            };
            match step {
                Step::Connect { port, .. } => {
                    let ip = self.cfg.addr.unwrap_or(self.server_addr.ip());
                    let default = self.cfg.port.unwrap_or(self.server_addr.port());
                    let addr = SocketAddr::new(ip, port.unwrap_or(default));
                    self.phase = Phase::Connecting;
                    self.rx.clear();
                    self.eof = false;
                    if self.timeout_check.is_some() {
                        self.deadline = now + self.connect_timeout;
                    }
                    return Action::Connect(addr);
                }
                Step::Send(bytes) => {
                    self.phase = Phase::Sending;
                    // A new request: what follows answers it.
                    self.rx.clear();
                    return Action::Send(bytes.clone());
                }
                Step::SendSslHello => {
                    self.phase = Phase::Sending;
                    self.rx.clear();
                    let secs = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as u32);
                    return Action::Send(super::ssl_hello::client_hello(secs));
                }
                Step::Expect { .. } | Step::ExpectHttp | Step::ExpectSslHello | Step::Proto(_) => {
                    self.phase = Phase::Receiving;
                    match self.eval() {
                        Eval::Wait => return Action::Expect,
                        Eval::Pass(reason) => {
                            if reason.is_some() {
                                self.pass_reason = reason;
                            }
                            self.step += 1;
                        }
                        Eval::Fail(reason) => return self.done(Outcome::fail(reason)),
                    }
                }
            }
        }
    }

    pub(super) fn done(&mut self, outcome: Outcome) -> Action {
        self.phase = Phase::Finishing;
        Action::Done(outcome)
    }

    /// The engine called back at the wrong time: end the attempt rather
    /// than guess.
    pub(super) fn out_of_phase(&mut self, what: &str) -> Action {
        let phase = self.phase;
        self.done(Outcome::fail(format!(
            "Layer4 connection problem, info: \"{what} while {phase:?}\""
        )))
    }

    fn has_layer7(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(
                s,
                Step::Expect { .. } | Step::ExpectHttp | Step::ExpectSslHello | Step::Proto(_)
            )
        })
    }

    /// " at step N of tcp-check" and the rule for scripts, "" otherwise.
    pub(super) fn at_step(&self) -> String {
        if !self.script {
            String::new()
        } else if self.step < self.first_rule {
            " at initial connection step of tcp-check".to_string()
        } else {
            // HAProxy names the rule a connection error or timeout met.
            let what = match self.steps.get(self.step) {
                Some(Step::Connect { port: Some(p), .. }) => format!(" (connect port {p})"),
                Some(Step::Connect { port: None, .. }) => " (connect)".to_string(),
                Some(Step::Expect {
                    what: TcpMatch::Rstring(_),
                    ..
                }) => " (expect regex)".to_string(),
                Some(Step::Send(_)) => " (send)".to_string(),
                _ => String::new(),
            };
            format!(
                " at step {} of tcp-check{what}",
                self.step + 1 - self.first_rule
            )
        }
    }

    fn eval(&mut self) -> Eval {
        let full = self.rx.len() >= CHECK_BUFSIZE;
        let last = self.eof || full;
        // HAProxy words content failures " at step N", without the
        // " of tcp-check" of connection errors and timeouts.
        let step_no = self.step + 1 - self.first_rule.min(self.step + 1);
        match &self.steps[self.step] {
            Step::Expect { .. } if self.eof && self.rx.is_empty() => Eval::Fail(format!(
                "Layer7 invalid response, info: \"TCPCHK got an empty response at step {step_no}\""
            )),
            Step::Expect { negate, what } => {
                let matched = match what {
                    TcpMatch::Bytes(b) => find(&self.rx, b),
                    TcpMatch::Rstring(re) => re.0.is_match(&String::from_utf8_lossy(&self.rx)),
                };
                // HAProxy: on a mismatch, wait for more unless nothing more comes.
                if !matched && !last {
                    return Eval::Wait;
                }
                if matched != *negate {
                    return Eval::Pass(None);
                }
                let pattern = match what {
                    TcpMatch::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    TcpMatch::Rstring(re) => re.0.as_str().to_string(),
                };
                let verb = if *negate {
                    "matched unwanted content"
                } else {
                    "did not match content"
                };
                Eval::Fail(format!(
                    "Layer7 invalid response, info: \"TCPCHK {verb} '{pattern}' at step {step_no}\""
                ))
            }
            Step::ExpectSslHello => super::ssl_hello::eval(&self.rx, last),
            Step::Proto(e) => super::proto::eval(e, &self.rx, self.eof, step_no),
            _ => eval_http(&self.rx, last, self.expect.as_ref()),
        }
    }
}
