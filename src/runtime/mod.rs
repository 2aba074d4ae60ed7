//! The runtime API (HAProxy's "stats socket" CLI), without I/O: splitting an
//! input line into commands, parsing each into a `Command`, access levels,
//! the help text, and one connection's state (`CliConn`: prompt mode, level,
//! partial input, pending output). The engine owns the sockets and runs each
//! parsed command through the `Ops` trait; the text it returns is framed
//! here the way HAProxy frames it, so `socat` scripts read it unchanged.

pub mod command;
pub mod maps;
pub mod server_state;
pub mod ssl;
pub mod table;
#[cfg(test)]
mod tests;

pub use command::{parse, Command, Format, StatFilter, WeightSpec};
// Levels are named in the config (`stats socket ... level`); config owns the type.
pub use crate::config::stats_socket::Level;

/// Runs commands against the live process. `Ok` is the command's output
/// (empty for most setters), `Err` the message telling why it was refused.
pub trait Ops {
    fn run(&mut self, cmd: &Command) -> Result<String, String>;
}

/// Longest line accepted; a client sending more without a newline is cut off.
/// A payload (`<<`) may be as long.
pub const MAX_LINE: usize = 64 * 1024;

fn payload_len(p: &Option<(String, String)>) -> usize {
    p.as_ref().map_or(0, |(_, p)| p.len())
}

/// One CLI connection, fed with the bytes read from its socket.
#[derive(Debug)]
pub struct CliConn {
    pub level: Level,
    pub prompt: bool,
    input: Vec<u8>,
    /// Bytes to write to the client.
    pub out: Vec<u8>,
    /// Close once `out` is written: a non-interactive command ran, `quit`,
    /// or the input was unusable.
    pub done: bool,
    /// Set by `set timeout cli`: the connection's new idle limit.
    pub timeout: Option<std::time::Duration>,
    /// `expert-mode on`: expert commands allowed.
    pub expert: bool,
    /// A line that ended with `<<`, and the payload lines read since
    /// (HAProxy: the payload ends at the first empty line).
    payload: Option<(String, String)>,
}

impl CliConn {
    pub fn new(level: Level) -> CliConn {
        CliConn {
            level,
            prompt: false,
            input: Vec::new(),
            out: Vec::new(),
            done: false,
            timeout: None,
            expert: false,
            payload: None,
        }
    }

    /// Take newly read bytes and run every complete line in them.
    pub fn input(&mut self, bytes: &[u8], ops: &mut dyn Ops) {
        if self.done {
            return;
        }
        self.input.extend_from_slice(bytes);
        while let Some(nl) = self.input.iter().position(|&b| b == b'\n') {
            let raw: Vec<u8> = self.input.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&raw[..nl]);
            let text = text.trim_end_matches('\r');
            if let Some((cmd, mut payload)) = self.payload.take() {
                if text.is_empty() {
                    self.line(&cmd, Some(&payload), ops);
                } else {
                    payload.push_str(text);
                    payload.push('\n');
                    self.payload = Some((cmd, payload));
                    if payload_len(&self.payload) > MAX_LINE {
                        self.out.extend_from_slice(b"Payload too long.\n\n");
                        self.done = true;
                    }
                }
            } else if let Some(cmd) = text.strip_suffix("<<") {
                self.payload = Some((cmd.to_string(), String::new()));
            } else {
                self.line(text, None, ops);
            }
            if self.done {
                self.input.clear();
                return;
            }
        }
        if self.input.len() > MAX_LINE {
            self.out.extend_from_slice(b"Line too long.\n\n");
            self.done = true;
        }
    }

    /// The client closed its side: a last line without a newline still runs
    /// (as `echo -n 'show info' | socat` expects).
    pub fn eof(&mut self, ops: &mut dyn Ops) {
        if !self.done && !self.input.is_empty() {
            let line = std::mem::take(&mut self.input);
            let text = String::from_utf8_lossy(&line);
            match self.payload.take() {
                Some((cmd, mut payload)) => {
                    payload.push_str(text.trim_end_matches('\r'));
                    payload.push('\n');
                    self.line(&cmd, Some(&payload), ops);
                }
                None => self.line(text.trim_end_matches('\r'), None, ops),
            }
        } else if let Some((cmd, payload)) = self.payload.take() {
            self.line(&cmd, Some(&payload), ops);
        }
        self.done = true;
    }

    /// Run one line's commands; a payload goes to the last one.
    fn line(&mut self, text: &str, payload: Option<&str>, ops: &mut dyn Ops) {
        let cmds = command::split_line(text);
        let last = cmds.len().saturating_sub(1);
        if cmds.is_empty() && self.prompt {
            self.out.extend_from_slice(b"> ");
            return;
        }
        for (i, words) in cmds.into_iter().enumerate() {
            let reply = self.one(&words, payload.filter(|_| i == last), ops);
            self.out.extend_from_slice(reply.as_bytes());
            if !reply.is_empty() && !reply.ends_with('\n') {
                self.out.push(b'\n');
            }
            if self.done {
                return;
            }
            // An empty line ends each command's output block.
            self.out.push(b'\n');
        }
        if self.prompt {
            self.out.extend_from_slice(b"> ");
        } else {
            self.done = true;
        }
    }

    fn one(&mut self, words: &[String], payload: Option<&str>, ops: &mut dyn Ops) -> String {
        let cmd = match command::parse_with_payload(words, payload) {
            Ok(c) => c,
            Err(e) if e.starts_with("Unknown command") => {
                return format!("{e} {}", command::help(self.level, None))
            }
            Err(e) => return e,
        };
        match cmd {
            Command::Quit => {
                self.done = true;
                String::new()
            }
            Command::SetTimeoutCli(d) => {
                self.timeout = Some(d);
                String::new()
            }
            Command::Prompt => {
                self.prompt = !self.prompt;
                String::new()
            }
            Command::Lower(l) => {
                // A level can only be lowered (HAProxy's `user`/`operator`).
                if l <= self.level {
                    self.level = l;
                    String::new()
                } else {
                    "Permission denied".into()
                }
            }
            Command::Help(ref topic) => command::help(self.level, topic.as_deref()),
            ref c if c.level() > self.level => "Permission denied".into(),
            Command::ExpertMode(on) => {
                self.expert = on;
                String::new()
            }
            Command::DebugDevPanic(_) if !self.expert => {
                "This command is restricted to expert mode only.".into()
            }
            ref c => match ops.run(c) {
                Ok(s) | Err(s) => s,
            },
        }
    }
}
