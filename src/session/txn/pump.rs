//! The transaction's driver: each round, one `match` over the state reads,
//! runs the analysers (`request.rs`, `response.rs`) and moves bytes through
//! the HTTP/1 mux; the events the analysers report are applied here, in
//! [`apply`], the one place the state moves during a pump (through
//! [`next`]) and what each transition asks for besides is done.

use super::*;

/// Run the HTTP analysers and move bytes as far as possible.
pub fn pump(
    s: &mut Session,
    conf: &Conf,
    decide: &mut dyn Decide,
    pool: &mut BufferPool,
    now: Instant,
) -> Result<Step, Abort> {
    let Some(mut txn) = s.http.take() else {
        return Ok(Step::Close);
    };
    let r = pump_txn(s, &mut txn, conf, decide, pool, now);
    let tunnel = txn.tunneling();
    s.http = Some(txn);
    if tunnel {
        // The upgrade's head went out: the session's one HTTP -> tunnel step.
        s.stage = Stage::Tunnel;
    }
    if tunnel && s.log.as_ref().is_some_and(|r| r.tunnel_from.is_none()) {
        let at = s.client_bytes();
        if let Some(r) = s.log.as_mut() {
            r.tunnel_from = Some(at);
        }
    }
    if tunnel && matches!(r, Ok(Step::Wait)) {
        // After 101 or a CONNECT's 2xx: plain TCP forwarding both ways.
        s.pump(pool, now)?;
        return Ok(if s.is_done() { Step::Close } else { Step::Wait });
    }
    r
}

fn pump_txn(
    s: &mut Session,
    t: &mut Txn,
    conf: &Conf,
    decide: &mut dyn Decide,
    pool: &mut BufferPool,
    now: Instant,
) -> Result<Step, Abort> {
    let connected = s.phase == Phase::Connected;
    for _ in 0..16 {
        // Each state reads, analyses and sends what it needs; the analysers
        // move the state on, `finish` below ends answers and exchanges.
        let mut progress = match t.state {
            TxnState::Drain => {
                // Our error went out and our write side is shut: read and
                // discard until the client's EOF.
                let read = read_client(s, t, pool, now)?;
                t.h1.discard_client_input(&mut s.conns_mut(), pool);
                if s.conns().client_eof() {
                    return Ok(Step::Close);
                }
                if !read {
                    return Ok(Step::Wait);
                }
                continue;
            }
            TxnState::WaitRequest => {
                let read = read_client(s, t, pool, now)?;
                if !s.conns().client_input().is_empty() {
                    if let Some(r) = s.log.as_mut() {
                        r.first_byte(now);
                    }
                }
                // A request analysed (or refused) is the engine's turn.
                let out = analyse_request(s, t, conf, decide, now);
                if let Some(step) = settle(s, t, out, now) {
                    return Ok(step);
                }
                if connected && t.h1.idle_server_spoke(&mut s.conns_mut(), pool, now) {
                    return Ok(Step::DropServer);
                }
                read
            }
            TxnState::WaitServer | TxnState::Exchange => {
                let mut progress = read_client(s, t, pool, now)?;
                let out = request_body(s, t, conf);
                if let Some(step) = settle(s, t, out, now) {
                    return Ok(step);
                }
                if connected {
                    if let Some(step) = apply(s, t, Event::ServerReady, now) {
                        return Ok(step);
                    }
                    progress |= send_request(s, t, pool, now)?;
                    let out = server_side(s, t, conf, decide, pool, now, &mut progress)?;
                    if let Some(step) = settle(s, t, out, now) {
                        return Ok(step);
                    }
                }
                progress
            }
            // Reading ahead keeps the client's interest steady; pipelined
            // bytes wait in the buffer for their turn.
            TxnState::Respond => read_client(s, t, pool, now)?,
            TxnState::Tunnel | TxnState::Tarpit => false,
        };
        if t.after {
            after::on_answer(s, t, conf, decide);
        }
        // Our bytes, then response body bytes, to the client.
        let body = t.state == TxnState::Exchange;
        progress |=
            t.h1.send_to_client(&mut s.conns_mut(), body, pool, now)
                .map_err(Abort::Client)?;
        let before = t.state;
        if let Some(step) = finish(s, t, now) {
            return Ok(step);
        }
        // A finished transaction is logged before the next one is parsed.
        if before != t.state && t.state == TxnState::WaitRequest && s.log.is_some() {
            return Ok(Step::Wait);
        }
        // A new state (next request, drain) has work to do at once.
        progress |= t.state != before;
        if !progress {
            break;
        }
    }
    let c = s.conns();
    if t.state == TxnState::WaitRequest && c.client_eof() && !c.has_client_input() {
        return Ok(Step::Close);
    }
    Ok(Step::Wait)
}

/// Client -> request buffer. Ok(true) on progress (data or EOF).
fn read_client(
    s: &mut Session,
    t: &mut Txn,
    pool: &mut BufferPool,
    now: Instant,
) -> Result<bool, Abort> {
    let read = t.h1.read_client(&mut s.conns_mut(), pool, now);
    read.map_err(Abort::Client)
}

/// Let the request body claim the bytes read; a body refused, or a client
/// gone in the middle of it, ends the transaction.
fn request_body(s: &mut Session, t: &mut Txn, conf: &Conf) -> Outcome {
    let tracked = t.h1.claim_request_body(&mut s.conns_mut());
    if let Err(e) = tracked.map(|n| t.htx_in += n) {
        crate::warn_limited!(
            "frontend {}: invalid request body from {} at byte {}: {}",
            conf.fe_name,
            s.src,
            e.at,
            e.reason
        );
        let bad = BadMessage::new(true, &e, s.conns().client_input().to_vec());
        return bad_message(s, t, conf, bad, 400, b"CD");
    }
    if s.conns().client_eof() && t.h1.request_body_open() && t.h1.request_body_flushed() {
        // Client went away in the middle of its body.
        log_term(s, &[b'C', log_phase(s, Some(t))]);
        return Outcome::step(Step::Close);
    }
    Outcome::NOTHING
}

/// The request head, then the body bytes claimed, to the server.
fn send_request(
    s: &mut Session,
    t: &mut Txn,
    pool: &mut BufferPool,
    now: Instant,
) -> Result<bool, Abort> {
    if s.srv.is_none() {
        return Ok(false);
    }
    let sent = t.h1.send_to_server(&mut s.conns_mut(), pool, now);
    let sent = sent.map_err(Abort::Server)?;
    if t.h1.request_head_sent() && t.req_sent.is_none() {
        t.req_sent = Some(now);
    }
    Ok(sent)
}

/// End of an exchange or of our own response: keep-alive, drain or close.
fn finish(s: &mut Session, t: &mut Txn, now: Instant) -> Option<Step> {
    let mut drop_server = false;
    let ev = match t.state {
        TxnState::Respond if !t.h1.client_output_pending() => Event::AnswerSent {
            close: t.close_after,
        },
        TxnState::Exchange if t.request_done() && t.response_done() => {
            // Bytes past the end of the response (a body sent to a HEAD, a
            // server miscounting): they would be read as the next response,
            // so this server connection is not reused (as HAProxy).
            let stray = !s.conns().server_input().is_empty();
            drop_server = !t.server_keep || stray;
            Event::ExchangeDone {
                client_keep: t.client_keep && !s.conns().client_eof(),
            }
        }
        _ => return None,
    };
    match apply(s, t, ev, now) {
        // On to the next request, without this server connection.
        None if drop_server && t.state == TxnState::WaitRequest => Some(Step::DropServer),
        step => step,
    }
}

/// An analyser's outcome: its event applied, then the engine's turn.
fn settle(s: &mut Session, t: &mut Txn, out: Outcome, now: Instant) -> Option<Step> {
    let after = out.ev.and_then(|ev| apply(s, t, ev, now));
    after.or(out.step)
}

/// The one place an event takes effect in the pump: the state moves as
/// [`next`] says, and what must happen besides is done here.
fn apply(s: &mut Session, t: &mut Txn, ev: Event, now: Instant) -> Option<Step> {
    match t.on(ev) {
        Action::None => None,
        Action::NextRequest => {
            if let Some(end) = t.trace.as_mut().and_then(|x| x.end.take()) {
                end.print(true);
            }
            t.next_request(now);
            s.vars.next_txn();
            None
        }
        Action::ShutClient => {
            t.h1.shut_client(&mut s.conns_mut());
            t.since = now;
            Some(if s.srv.is_some() {
                Step::DropServer
            } else {
                Step::Wait
            })
        }
        Action::Close => Some(Step::Close),
    }
}
