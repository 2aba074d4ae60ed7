//! The half state machine of one connection (one side of a session): which
//! directions are still open. Transitions are a pure function, testable
//! without sockets; `Conn` feeds it what the wire says (EOF, shutdown).

/// State of one connection as seen by the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HalfState {
    /// Server side only: non-blocking connect in progress.
    Connecting,
    /// Reading and writing.
    Established,
    /// The peer sent EOF; we may still write to it.
    InputClosed,
    /// We shut our write side; the peer may still send.
    OutputClosed,
    /// Both directions finished, or failed.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HalfEvent {
    Connected,
    /// read() returned 0.
    InputEof,
    /// We called shutdown(SHUT_WR).
    OutputShut,
    /// An error: the connection is unusable.
    Failed,
}

impl HalfState {
    pub fn next(self, ev: HalfEvent) -> HalfState {
        use HalfEvent::*;
        use HalfState::*;
        match (self, ev) {
            (_, Failed) => Closed,
            (Connecting, Connected) => Established,
            (Connecting, _) => Connecting,
            (Established, InputEof) => InputClosed,
            (Established, OutputShut) => OutputClosed,
            (InputClosed, OutputShut) | (OutputClosed, InputEof) => Closed,
            (s, _) => s,
        }
    }

    pub fn can_read(self) -> bool {
        matches!(self, HalfState::Established | HalfState::OutputClosed)
    }

    pub fn can_write(self) -> bool {
        matches!(self, HalfState::Established | HalfState::InputClosed)
    }

    pub fn input_closed(self) -> bool {
        matches!(self, HalfState::InputClosed | HalfState::Closed)
    }
}

#[cfg(test)]
mod tests {
    use super::HalfEvent::*;
    use super::HalfState::*;

    #[test]
    fn connect_then_half_close_both_ways_ends_closed() {
        let s = Connecting.next(Connected);
        assert_eq!(s, Established);
        assert_eq!(s.next(InputEof), InputClosed);
        assert_eq!(s.next(InputEof).next(OutputShut), Closed);
        assert_eq!(s.next(OutputShut).next(InputEof), Closed);
    }

    #[test]
    fn input_closed_side_can_still_be_written() {
        assert!(InputClosed.can_write());
        assert!(!InputClosed.can_read());
        assert!(OutputClosed.can_read());
        assert!(!OutputClosed.can_write());
    }

    #[test]
    fn failure_closes_from_any_state() {
        for s in [Connecting, Established, InputClosed, OutputClosed, Closed] {
            assert_eq!(s.next(Failed), Closed);
        }
    }

    #[test]
    fn connecting_ignores_data_events() {
        assert_eq!(Connecting.next(InputEof), Connecting);
        assert!(!Connecting.can_read() && !Connecting.can_write());
    }

    #[test]
    fn repeated_events_are_idempotent() {
        assert_eq!(InputClosed.next(InputEof), InputClosed);
        assert_eq!(Closed.next(OutputShut), Closed);
    }
}
