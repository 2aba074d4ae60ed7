//! ACLs. (Interface stub; implemented on branch wt-h2.)
use super::message::{Request, Response};
use std::net::SocketAddr;

pub struct FetchCtx<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub req: Option<&'a Request>,
    pub res: Option<&'a Response>,
    pub payload: &'a [u8],
    pub payload_complete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    NeedMore,
}

#[derive(Debug, Clone)]
pub struct Condition {}
impl Condition {
    pub fn eval(&self, _ctx: &FetchCtx) -> Truth {
        todo!()
    }
}
