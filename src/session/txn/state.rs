//! The transaction's state machine: its states ([`TxnState`]), what moves
//! it on ([`Event`], returned by the analysers or seen by the driver), and
//! the one pure transition function ([`next`]) that says where each event
//! leads and what must happen besides. The driver applies events in one
//! place (`pump::apply`; outside a pump, the engine's own answers through
//! `Txn::answer`), and `Txn::on` is the only place a transaction's state is
//! assigned; nothing here touches a socket, so it is unit-tested.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnState {
    /// Reading and parsing a request head.
    WaitRequest,
    /// Request analysed; the engine is finding or connecting a server.
    WaitServer,
    /// Request (head, body) to the server, response back to the client.
    Exchange,
    /// Sending a response of our own (error, redirect, return, monitor).
    Respond,
    /// After 101 Switching Protocols or a 2xx to CONNECT: raw bytes both ways.
    Tunnel,
    /// Error sent and write side shut: discard input until EOF, so the
    /// client reads the response instead of a reset.
    Drain,
    /// `tarpit`: hold the client until `timeout tarpit`, then answer.
    Tarpit,
}

/// What happened to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A request head was analysed and goes to a backend's server.
    Routed,
    /// A `tarpit` rule holds the request.
    Tarpitted,
    /// The server connection is up: the request may go out.
    ServerReady,
    /// We answer ourselves: an error (a bad message, a timeout, a refused
    /// request or response), a redirect or return, the stats page or a
    /// service. Whatever was going on is replaced by that answer.
    Answer,
    /// A 101 or a CONNECT's 2xx went to the client: a tunnel from now on.
    Upgraded,
    /// Our own answer is fully sent; `close`: the connection ends with it.
    AnswerSent { close: bool },
    /// Request and response are complete; `client_keep`: the client
    /// connection carries the next request.
    ExchangeDone { client_keep: bool },
}

/// What must happen besides the change of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    /// Reset the per-request state: the next request may be parsed.
    NextRequest,
    /// Shut our write side to the client and discard its input until EOF
    /// (`Drain`'s timer starts now).
    ShutClient,
    /// The session ends.
    Close,
}

/// The transaction's transitions, all of them.
pub fn next(state: TxnState, ev: Event) -> (TxnState, Action) {
    use Event as E;
    use TxnState as S;
    match (state, ev) {
        (S::WaitRequest, E::Routed) => (S::WaitServer, Action::None),
        (S::WaitRequest, E::Tarpitted) => (S::Tarpit, Action::None),
        (S::WaitServer | S::Exchange, E::ServerReady) => (S::Exchange, Action::None),
        (S::Exchange, E::Upgraded) => (S::Tunnel, Action::None),
        (_, E::Answer) => (S::Respond, Action::None),
        (S::Respond, E::AnswerSent { close: true }) => (S::Drain, Action::ShutClient),
        (S::Respond, E::AnswerSent { close: false }) => (S::WaitRequest, Action::NextRequest),
        (S::Exchange, E::ExchangeDone { client_keep: true }) => {
            (S::WaitRequest, Action::NextRequest)
        }
        (S::Exchange, E::ExchangeDone { client_keep: false }) => (S::Exchange, Action::Close),
        // No analyser reports these events in these states: nothing moves.
        (s, _) => (s, Action::None),
    }
}

#[cfg(test)]
mod tests {
    use super::{next, Action, Event, TxnState as S};

    #[test]
    fn a_request_goes_to_a_server_and_back() {
        assert_eq!(
            next(S::WaitRequest, Event::Routed),
            (S::WaitServer, Action::None)
        );
        assert_eq!(
            next(S::WaitServer, Event::ServerReady),
            (S::Exchange, Action::None)
        );
        // Connected again in the same exchange: it stays.
        assert_eq!(
            next(S::Exchange, Event::ServerReady),
            (S::Exchange, Action::None)
        );
    }

    #[test]
    fn keep_alive_reuses_the_client_connection() {
        let done = Event::ExchangeDone { client_keep: true };
        assert_eq!(
            next(S::Exchange, done),
            (S::WaitRequest, Action::NextRequest)
        );
        let done = Event::ExchangeDone { client_keep: false };
        assert_eq!(next(S::Exchange, done), (S::Exchange, Action::Close));
        let sent = Event::AnswerSent { close: false };
        assert_eq!(
            next(S::Respond, sent),
            (S::WaitRequest, Action::NextRequest)
        );
    }

    #[test]
    fn a_bad_message_is_answered_then_drained() {
        // A request the parser refuses, or a server's bad response: our
        // answer replaces the exchange, then the client is drained.
        for s in [S::WaitRequest, S::Exchange, S::WaitServer, S::Tarpit] {
            assert_eq!(next(s, Event::Answer), (S::Respond, Action::None));
        }
        let sent = Event::AnswerSent { close: true };
        assert_eq!(next(S::Respond, sent), (S::Drain, Action::ShutClient));
    }

    #[test]
    fn upgrades_and_tarpits() {
        assert_eq!(
            next(S::Exchange, Event::Upgraded),
            (S::Tunnel, Action::None)
        );
        assert_eq!(
            next(S::WaitRequest, Event::Tarpitted),
            (S::Tarpit, Action::None)
        );
    }

    #[test]
    fn events_out_of_place_change_nothing() {
        assert_eq!(next(S::Tunnel, Event::Routed), (S::Tunnel, Action::None));
        let done = Event::ExchangeDone { client_keep: true };
        assert_eq!(next(S::Drain, done), (S::Drain, Action::None));
    }
}
