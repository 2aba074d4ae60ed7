//! The runtime API: bytes of one CLI connection, in pieces, through
//! `CliConn` (line splitting, `;` commands, levels, prompt mode, help) and
//! every command parser. Properties: splitting the input differently gives
//! the same output, and escaping words then splitting gives them back.
//! Knobs: bits 0-1 the connection's level.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux::runtime::command::{help, parse, split_line};
use pollux::runtime::{CliConn, Command, Level, Ops};
use pollux_fuzz::split;

/// Runs nothing: answers with the command, as text, or refuses every other.
struct Echo(u32);

impl Ops for Echo {
    fn run(&mut self, cmd: &Command) -> Result<String, String> {
        self.0 += 1;
        if self.0 % 2 == 0 {
            Ok(format!("{cmd:?}\n"))
        } else {
            Err("No such server.\n".into())
        }
    }
}

fn session(level: Level, pieces: &[&[u8]]) -> (Vec<u8>, bool, Level) {
    let mut c = CliConn::new(level);
    let mut ops = Echo(0);
    for p in pieces {
        c.input(p, &mut ops);
    }
    c.eof(&mut ops);
    assert!(c.level <= level, "a CLI connection raised its own level");
    (c.out, c.done, c.level)
}

fn escape(words: &[String]) -> String {
    let mut line = String::new();
    for w in words {
        for ch in w.chars() {
            if matches!(ch, ' ' | '\t' | ';' | '\\') {
                line.push('\\');
            }
            line.push(ch);
        }
        line.push(' ');
    }
    line
}

fuzz_target!(|data: &[u8]| {
    let Some(s) = split(data) else { return };
    // `add server` with a host name: no DNS query per input.
    pollux::config::refuse_host_names();
    let level = [Level::User, Level::Operator, Level::Admin, Level::Admin][(s.knobs & 3) as usize];
    let pieces = s.pieces();
    let by_pieces = session(level, &pieces);
    assert_eq!(by_pieces, session(level, &[s.msg]));

    for line in String::from_utf8_lossy(s.msg).split('\n') {
        for words in split_line(line) {
            assert!(!words.is_empty());
            let again = split_line(&escape(&words));
            assert_eq!(again, vec![words.clone()]);
            if let Ok(cmd) = parse(&words) {
                let _ = cmd.level();
                if let Command::AddServer(_, name, addr, opts) = &cmd {
                    // What the engine does with `add server` before anything else.
                    let _ = pollux::config::dynamic_server(name, addr, opts);
                }
            }
            let _ = help(level, words.get(1).map(String::as_str));
        }
    }
});
