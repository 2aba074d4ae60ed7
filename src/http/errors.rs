//! Error responses pollux sends itself, and `errorfile` loading.
//! (Interface stub; implemented on branch wt-h1.)
use std::borrow::Cow;

pub fn default_response(_status: u16) -> Vec<u8> {
    todo!()
}

#[derive(Debug, Clone, Default)]
pub struct ErrorPages {}
impl ErrorPages {
    pub fn set(&mut self, _status: u16, _bytes: Vec<u8>) {
        todo!()
    }
    pub fn get(&self, _status: u16) -> Cow<'_, [u8]> {
        todo!()
    }
}
