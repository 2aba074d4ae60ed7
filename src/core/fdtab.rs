//! The fd table: per-fd owner, wanted interest and the interest the poller
//! currently has. Changes are queued in an update list and applied once per
//! loop turn, so many changes to one fd cost at most one syscall.

use crate::pollers::{Interest, Poller, Token};
use std::io;
use std::os::fd::RawFd;

struct Entry {
    fd: RawFd,
    owner: usize,
    want: Interest,
    /// What the poller was last told; None: not registered.
    polled: Option<Interest>,
    queued: bool,
}

#[derive(Default)]
pub struct FdTable {
    entries: Vec<Option<Entry>>,
    free: Vec<Token>,
    updates: Vec<Token>,
}

impl FdTable {
    pub fn insert(&mut self, fd: RawFd, owner: usize, want: Interest) -> Token {
        let entry = Entry {
            fd,
            owner,
            want,
            polled: None,
            queued: false,
        };
        let token = match self.free.pop() {
            Some(t) => {
                self.entries[t] = Some(entry);
                t
            }
            None => {
                self.entries.push(Some(entry));
                self.entries.len() - 1
            }
        };
        self.queue(token);
        token
    }

    fn queue(&mut self, token: Token) {
        if let Some(e) = self.entries[token].as_mut() {
            if !e.queued {
                e.queued = true;
                self.updates.push(token);
            }
        }
    }

    pub fn owner(&self, token: Token) -> Option<usize> {
        self.entries.get(token)?.as_ref().map(|e| e.owner)
    }

    pub fn want(&self, token: Token) -> Interest {
        self.entries
            .get(token)
            .and_then(Option::as_ref)
            .map_or(Interest::NONE, |e| e.want)
    }

    /// Record a new wanted interest; the poller learns it at the next flush.
    pub fn set_want(&mut self, token: Token, want: Interest) {
        let Some(e) = self.entries.get_mut(token).and_then(Option::as_mut) else {
            return;
        };
        if e.want != want {
            e.want = want;
            self.queue(token);
        }
    }

    /// Forget `token` whose fd the caller closes right after, unregistering
    /// it from the poller first where the backend needs that.
    pub fn remove(&mut self, token: Token, poller: &mut dyn Poller) {
        let Some(e) = self.entries.get_mut(token).and_then(Option::take) else {
            return;
        };
        if e.polled.is_some() {
            if let Err(err) = poller.remove_closing(e.fd) {
                log::debug!("poller remove fd {}: {err}", e.fd);
            }
        }
        self.free.push(token);
    }

    /// Apply queued changes: add, modify or remove each changed fd once.
    pub fn flush(&mut self, poller: &mut dyn Poller) -> Vec<(Token, io::Error)> {
        let mut failed = Vec::new();
        for token in std::mem::take(&mut self.updates) {
            let Some(e) = self.entries.get_mut(token).and_then(Option::as_mut) else {
                continue;
            };
            e.queued = false;
            if e.polled == Some(e.want) || (e.polled.is_none() && e.want.is_none()) {
                continue;
            }
            // No interest: unregister, so a hung-up fd cannot wake us in a loop.
            let res = match (e.polled, e.want.is_none()) {
                (Some(_), true) => poller.remove(e.fd),
                (Some(_), false) => poller.modify(e.fd, token, e.want),
                (None, _) => poller.add(e.fd, token, e.want),
            };
            match res {
                Ok(()) => e.polled = if e.want.is_none() { None } else { Some(e.want) },
                Err(err) => failed.push((token, err)),
            }
        }
        failed
    }
}
