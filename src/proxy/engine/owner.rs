//! What a reactor registration or a timer stands for. The core stores owners
//! as plain `usize` (it knows nothing of proxies); the engine packs and
//! unpacks them here only, as an (index, kind) pair in one word.

/// Who a readiness event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    Listener(usize),
    /// A session's client side, and its server side.
    Client(usize),
    Server(usize),
    /// The signal pipe (thread 0).
    Signal,
    /// A `stats socket` listener, and one runtime API connection.
    CliListener(usize),
    Cli(usize),
    /// This thread's mailbox (`nbthread`): other threads posted work.
    Mail,
    /// A health check's connection.
    Check(usize),
}

/// Who a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// A session's next deadline.
    Session(usize),
    /// `stats timeout` of an idle runtime API connection.
    Cli(usize),
    /// A health check's next step.
    Check(usize),
    /// Try resuming paused listeners (after EMFILE and such).
    ResumeListeners,
    /// `hard-stop-after` ran out after a soft stop.
    HardStop,
    /// A frontend's `grace` after a soft stop ended.
    Grace,
}

const KIND_BITS: u32 = 3;
const KIND_MASK: usize = (1 << KIND_BITS) - 1;

fn pack(id: usize, kind: usize) -> usize {
    (id << KIND_BITS) | kind
}

fn unpack(o: usize) -> (usize, usize) {
    (o >> KIND_BITS, o & KIND_MASK)
}

impl Owner {
    pub(super) fn pack(self) -> usize {
        match self {
            Owner::Listener(i) => pack(i, 0),
            Owner::Client(i) => pack(i, 1),
            Owner::Server(i) => pack(i, 2),
            Owner::Signal => pack(0, 3),
            Owner::CliListener(i) => pack(i, 4),
            Owner::Cli(i) => pack(i, 5),
            Owner::Mail => pack(0, 6),
            Owner::Check(i) => pack(i, 7),
        }
    }

    pub(super) fn unpack(o: usize) -> Owner {
        match unpack(o) {
            (i, 0) => Owner::Listener(i),
            (i, 1) => Owner::Client(i),
            (i, 2) => Owner::Server(i),
            (_, 3) => Owner::Signal,
            (i, 4) => Owner::CliListener(i),
            (i, 5) => Owner::Cli(i),
            (_, 6) => Owner::Mail,
            (i, _) => Owner::Check(i),
        }
    }
}

impl Timer {
    pub(super) fn pack(self) -> usize {
        match self {
            Timer::Session(i) => pack(i, 0),
            Timer::Cli(i) => pack(i, 1),
            Timer::Check(i) => pack(i, 2),
            Timer::ResumeListeners => pack(0, 3),
            Timer::HardStop => pack(0, 4),
            Timer::Grace => pack(0, 5),
        }
    }

    /// None: a value no [`Timer::pack`] gives.
    pub(super) fn unpack(o: usize) -> Option<Timer> {
        Some(match unpack(o) {
            (i, 0) => Timer::Session(i),
            (i, 1) => Timer::Cli(i),
            (i, 2) => Timer::Check(i),
            (_, 3) => Timer::ResumeListeners,
            (_, 4) => Timer::HardStop,
            (_, 5) => Timer::Grace,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_and_timers_survive_packing() {
        for o in [
            Owner::Listener(7),
            Owner::Client(0),
            Owner::Server(1 << 40),
            Owner::Signal,
            Owner::CliListener(3),
            Owner::Cli(9),
            Owner::Mail,
            Owner::Check(0),
        ] {
            assert_eq!(Owner::unpack(o.pack()), o);
        }
        for t in [
            Timer::Session(5),
            Timer::Cli(2),
            Timer::Check(0),
            Timer::ResumeListeners,
            Timer::HardStop,
            Timer::Grace,
        ] {
            assert_eq!(Timer::unpack(t.pack()), Some(t));
        }
    }
}
