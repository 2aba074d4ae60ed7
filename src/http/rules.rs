//! Rules. (Interface stub; implemented on branch wt-h2.)
use super::acl::{Condition, FetchCtx};
use super::message::{Request, Response};
use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Rule {}

pub enum Verdict {
    Continue,
    Allow,
    Deny(u16),
    Tarpit(u16),
    Respond(Vec<u8>),
}

pub fn run_request(
    _rules: &[Rule],
    _req: &mut Request,
    _src: SocketAddr,
    _dst: SocketAddr,
) -> Verdict {
    todo!()
}
pub fn run_response(
    _rules: &[Rule],
    _req: &Request,
    _res: &mut Response,
    _src: SocketAddr,
    _dst: SocketAddr,
) -> Verdict {
    todo!()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpAction {
    Accept,
    Reject,
}
#[derive(Debug, Clone)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<Condition>,
}
pub fn run_tcp(_rules: &[TcpRule], _ctx: &FetchCtx) -> Option<TcpAction> {
    todo!()
}
