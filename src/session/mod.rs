//! One client<->server stream: two half state machines.
