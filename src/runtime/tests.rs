use super::*;

/// Records the commands it ran and answers each with a fixed text.
#[derive(Default)]
struct Fake {
    ran: Vec<Command>,
}

impl Ops for Fake {
    fn run(&mut self, cmd: &Command) -> Result<String, String> {
        self.ran.push(cmd.clone());
        match cmd {
            Command::GetWeight(b, _) if b == "nope" => Err("No such backend.".into()),
            Command::GetWeight(..) => Ok("3 (initial 3)\n".into()),
            _ => Ok(String::new()),
        }
    }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn session(level: Level, input: &str) -> (String, bool, Vec<Command>) {
    let mut c = CliConn::new(level);
    let mut f = Fake::default();
    c.input(input.as_bytes(), &mut f);
    (String::from_utf8(c.out).unwrap(), c.done, f.ran)
}

#[test]
fn split_line_on_semicolons_and_blanks_with_escapes() {
    assert_eq!(
        command::split_line("show info ;  get weight be/a;;"),
        vec![words("show info"), words("get weight be/a")]
    );
    assert_eq!(
        command::split_line(r"add server be/a\;b 1.2.3.4:80"),
        vec![vec!["add", "server", "be/a;b", "1.2.3.4:80"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()]
    );
    assert!(command::split_line("   ").is_empty());
}

#[test]
fn parse_known_commands() {
    let p = |s: &str| parse(&words(s));
    assert_eq!(p("show stat"), Ok(Command::ShowStat(Format::Plain, None)));
    assert_eq!(
        p("show stat json"),
        Ok(Command::ShowStat(Format::Json, None))
    );
    assert_eq!(
        p("show stat be 4 -1 typed"),
        Ok(Command::ShowStat(
            Format::Typed,
            Some(StatFilter {
                proxy: "be".into(),
                types: 4,
                sid: -1
            })
        ))
    );
    assert_eq!(p("show info json"), Ok(Command::ShowInfo(Format::Json)));
    assert_eq!(
        p("set server be/s state drain"),
        Ok(Command::SetServerState(
            "be".into(),
            "s".into(),
            command::AdminState::Drain
        ))
    );
    assert_eq!(
        p("disable server be/s"),
        Ok(Command::SetServerState(
            "be".into(),
            "s".into(),
            command::AdminState::Maint
        ))
    );
    assert_eq!(
        p("set weight be/s 50%"),
        Ok(Command::SetWeight(
            "be".into(),
            "s".into(),
            WeightSpec::Percent(50)
        ))
    );
    assert_eq!(
        p("set server be/s weight 7"),
        Ok(Command::SetWeight(
            "be".into(),
            "s".into(),
            WeightSpec::Absolute(7)
        ))
    );
    assert_eq!(
        p("set maxconn server be/s 10"),
        Ok(Command::SetMaxconnServer("be".into(), "s".into(), 10))
    );
    assert_eq!(
        p("set maxconn global 500"),
        Ok(Command::SetMaxconnGlobal(500))
    );
    assert_eq!(
        p("add server be/n 127.0.0.1:80 weight 2 check"),
        Ok(Command::AddServer(
            "be".into(),
            "n".into(),
            "127.0.0.1:80".into(),
            words("weight 2 check")
        ))
    );
    assert_eq!(
        p("set server be/s addr ::1 port 8080"),
        Ok(Command::SetServerAddr(
            "be".into(),
            "s".into(),
            "::1".into(),
            Some("8080".into())
        ))
    );
    assert_eq!(
        p("set server be/s health down"),
        Ok(Command::SetServerHealth(
            "be".into(),
            "s".into(),
            crate::runtime::command::HealthState::Down
        ))
    );
    assert_eq!(
        p("set timeout cli 30"),
        Ok(Command::SetTimeoutCli(std::time::Duration::from_secs(30)))
    );
    assert_eq!(
        p("show errors fe request"),
        Ok(Command::ShowErrors(Some("fe".into()), Some(true)))
    );
}

#[test]
fn parse_errors_say_what_is_expected() {
    let p = |s: &str| parse(&words(s)).unwrap_err();
    assert_eq!(p("disable server be"), "Require 'backend/server'.");
    assert_eq!(p("get weight /s"), "Require 'backend/server'.");
    assert_eq!(p("set maxconn server be/s"), "Require <maxconn>.");
    assert!(p("set weight be/s 300").contains("between 0 and 256"));
    assert!(p("set weight be/s x").contains("Invalid weight"));
    assert!(p("set server be/s state up").contains("'ready', 'drain' and 'maint'"));
    assert_eq!(
        p("set server be/s fqdn a.example"),
        "set server <b>/<s> fqdn failed because no resolution is configured."
    );
    assert_eq!(
        p("set server be/s fqdn"),
        "set server <b>/<s> fqdn requires a FQDN."
    );
    assert!(p("set server be/s check-port 80").contains("not supported yet"));
    assert_eq!(
        p("set server be/s addr"),
        "set server <b>/<s> addr requires an address and optionally a port."
    );
    assert!(p("set server be/s addr 1.2.3.4 prot 80").contains("optionally a port"));
    assert!(p("set server be/s health maybe").contains("'up', 'stopping', or 'down'"));
    assert!(p("set maxconn global 0").contains("out of range"));
    assert!(p("frobnicate").starts_with("Unknown command: 'frobnicate'"));
    assert!(p("set timeout cli soon").contains("integer"));
}

#[test]
fn levels_gate_commands_as_haproxy() {
    let lvl = |s: &str| parse(&words(s)).unwrap().level();
    for c in [
        "show info",
        "show stat",
        "show servers state",
        "get weight b/s",
    ] {
        assert_eq!(lvl(c), Level::User, "{c}");
    }
    for c in ["show sess", "show errors", "clear counters"] {
        assert_eq!(lvl(c), Level::Operator, "{c}");
    }
    for c in [
        "clear counters all",
        "set weight b/s 1",
        "disable server b/s",
        "set maxconn global 5",
        "disable frontend f",
        "shutdown session 0x1",
        "add server b/s 1.2.3.4:80",
        "del server b/s",
    ] {
        assert_eq!(lvl(c), Level::Admin, "{c}");
    }
}

#[test]
fn one_line_runs_every_command_then_closes() {
    let (out, done, ran) = session(Level::Admin, "get weight be/a; set weight be/a 2\n");
    assert_eq!(out, "3 (initial 3)\n\n\n");
    assert!(done);
    assert_eq!(ran.len(), 2);
}

#[test]
fn permission_denied_below_the_command_level_and_nothing_runs() {
    let (out, done, ran) = session(Level::User, "set weight be/a 2\n");
    assert_eq!(out, "Permission denied\n\n");
    assert!(done);
    assert!(ran.is_empty());
    // Lowering works, raising does not.
    let (out, _, ran) = session(Level::Admin, "operator; set weight be/a 2\n");
    assert_eq!(out, "\nPermission denied\n\n");
    assert!(ran.is_empty());
    let (out, _, _) = session(Level::User, "operator\n");
    assert_eq!(out, "Permission denied\n\n");
}

#[test]
fn errors_from_the_engine_reach_the_client() {
    let (out, _, _) = session(Level::Admin, "get weight nope/a\n");
    assert_eq!(out, "No such backend.\n\n");
}

#[test]
fn prompt_mode_keeps_the_connection_until_quit() {
    let mut c = CliConn::new(Level::Operator);
    let mut f = Fake::default();
    c.input(b"prompt\n", &mut f);
    assert_eq!(c.out, b"\n> ");
    assert!(!c.done);
    c.out.clear();
    c.input(b"get weight be/a\n\n", &mut f);
    assert_eq!(String::from_utf8_lossy(&c.out), "3 (initial 3)\n\n> > ");
    assert!(!c.done);
    c.out.clear();
    c.input(b"quit\n", &mut f);
    assert!(c.done);
}

#[test]
fn partial_lines_wait_for_their_newline_or_eof() {
    let mut c = CliConn::new(Level::Admin);
    let mut f = Fake::default();
    c.input(b"get wei", &mut f);
    assert!(c.out.is_empty() && f.ran.is_empty());
    c.input(b"ght be/a", &mut f);
    c.eof(&mut f);
    assert_eq!(f.ran.len(), 1);
    assert!(c.done);
}

#[test]
fn an_endless_line_is_cut_off() {
    let mut c = CliConn::new(Level::Admin);
    let mut f = Fake::default();
    c.input(&vec![b'a'; MAX_LINE + 1], &mut f);
    assert!(c.done);
    assert!(String::from_utf8_lossy(&c.out).contains("too long"));
}

#[test]
fn help_lists_only_what_the_level_may_run() {
    let (user, _, _) = session(Level::User, "help\n");
    assert!(user.contains("show stat"));
    assert!(!user.contains("set weight"));
    let (admin, _, _) = session(Level::Admin, "help\n");
    assert!(admin.contains("set weight") && admin.contains("del server"));
}

#[test]
fn debug_dev_panic_needs_admin_and_expert_mode() {
    assert_eq!(
        parse(&words("debug dev panic 1")),
        Ok(Command::DebugDevPanic(Some(1)))
    );
    assert!(parse(&words("debug dev panic one")).is_err());
    let (out, _, ran) = session(Level::Admin, "debug dev panic\n");
    assert!(
        out.starts_with("This command is restricted to expert mode only."),
        "{out}"
    );
    assert!(ran.is_empty());
    let (out, _, ran) = session(Level::Operator, "expert-mode on; debug dev panic\n");
    assert!(out.contains("Permission denied"), "{out}");
    assert!(ran.is_empty());
    let (_, _, ran) = session(Level::Admin, "expert-mode on; debug dev panic 1\n");
    assert_eq!(ran, vec![Command::DebugDevPanic(Some(1))]);
    let (_, _, ran) = session(
        Level::Admin,
        "expert-mode on; expert-mode off; debug dev panic\n",
    );
    assert!(ran.is_empty());
}

/// Runs map/ACL commands on a loaded config's references.
fn pat(cfg: &crate::config::Config, line: &str) -> String {
    match maps::parse(&words(line), None).and_then(|c| maps::run(&cfg.patterns, &c)) {
        Ok(s) | Err(s) => s,
    }
}

#[test]
fn map_and_acl_commands_change_the_shared_patterns() {
    let dir = std::env::temp_dir();
    let map = dir.join(format!("pollux-rt-{}.map", std::process::id()));
    std::fs::write(&map, "a.com be_a\n# no\nb.com be_b\n").unwrap();
    let m = map.display().to_string();
    let text = format!(
        "frontend fe\n  mode http\n  bind :80\n  acl api path_beg -u 7 /api\n  http-request set-header X %[req.hdr(host),map({m},none)]\n  http-request set-header Y %[req.hdr(host),map_beg({m},none)]\n"
    );
    let cfg = crate::config::load_text("t.cfg", &text, &|_| None).unwrap();
    assert_eq!(
        pat(&cfg, "show acl"),
        "# id (file) description\n7 () acl 'path_beg' file 't.cfg' line 4. curr_ver=0 next_ver=0 entry_cnt=1\n"
    );
    assert_eq!(
        pat(&cfg, "show map"),
        format!("# id (file) description\n0 ({m}) pattern loaded from file '{m}' used by map at file 't.cfg' line 5, by map at file 't.cfg' line 6. curr_ver=0 next_ver=0 entry_cnt=4\n")
    );
    assert_eq!(pat(&cfg, "add map #0 c.com be_c"), "");
    assert_eq!(
        pat(&cfg, "get map #0 c.com"),
        "type=str, case=sensitive, found=yes, idx=tree, key=\"c.com\", value=\"be_c\", type=\"str\"\ntype=beg, case=sensitive, found=yes, idx=tree, key=\"c.com\", value=\"be_c\", type=\"str\"\n"
    );
    assert_eq!(pat(&cfg, "set map #0 a.com other"), "");
    let shown = pat(&cfg, &format!("show map {m}"));
    let rows: Vec<&str> = shown
        .lines()
        .map(|l| l.split_once(' ').unwrap().1)
        .collect();
    assert_eq!(rows, ["a.com other", "b.com be_b", "c.com be_c"]);
    // By handle, as `show map` prints it.
    let id = shown.lines().nth(1).unwrap().split(' ').next().unwrap();
    assert_eq!(pat(&cfg, &format!("del map #0 #{id}")), "");
    assert_eq!(pat(&cfg, "del map #0 b.com"), "Key not found.");
    assert_eq!(
        pat(&cfg, "del map #0 #0xzz"),
        "Malformed identifier. Please use #<id> or <file>."
    );
    assert_eq!(
        pat(&cfg, "del acl #0 a.com"),
        "Unknown map identifier. Please use #<id> or <file>."
    );
    assert_eq!(pat(&cfg, "add acl #0 x"), "This ACL is shared with a map containing samples. You must use the command 'add map' to add values.");
    assert_eq!(pat(&cfg, "add acl #7 /v2"), "");
    assert_eq!(
        pat(&cfg, "get acl #7 /v2/x"),
        "type=beg, case=sensitive, match=yes, idx=tree, pattern=\"/v2\"\n"
    );
    assert_eq!(pat(&cfg, "clear acl #7"), "");
    assert_eq!(
        pat(&cfg, "get acl #7 /v2/x"),
        "type=beg, case=sensitive, match=no\n"
    );
    assert_eq!(pat(&cfg, "clear map"), "Missing map identifier.");
    assert_eq!(
        pat(&cfg, "show map #7"),
        "Unknown map identifier. Please use #<id> or <file>."
    );
    assert_eq!(pat(&cfg, "prepare map #0"), "New version created: 1\n");
    assert_eq!(pat(&cfg, "add map @1 #0 v1.com be_v1"), "");
    assert_eq!(
        pat(&cfg, "add map @2 #0 v2.com x"),
        "Version number in the future, please use 'prepare map' before."
    );
    assert!(pat(&cfg, "get map #0 v1.com").contains("found=no"));
    assert_eq!(pat(&cfg, "commit map @1 #0"), "");
    assert!(pat(&cfg, "get map #0 v1.com").contains("found=yes"));
    assert!(pat(&cfg, "get map #0 a.com").contains("found=no"));
    assert_eq!(
        pat(&cfg, "commit map @1 #0"),
        "Version number out of range."
    );
    assert_eq!(pat(&cfg, "commit map #0"), "Missing version number.");
    // The file on disk is never rewritten.
    assert_eq!(
        std::fs::read_to_string(&map).unwrap(),
        "a.com be_a\n# no\nb.com be_b\n"
    );
    let _ = std::fs::remove_file(&map);
}

#[test]
fn pattern_files_shared_with_another_column_count_or_id_are_config_errors() {
    let dir = std::env::temp_dir();
    let lst = dir.join(format!("pollux-rt-{}.lst", std::process::id()));
    std::fs::write(&lst, "/a\n").unwrap();
    let l = lst.display().to_string();
    let text = format!(
        "frontend fe\n  mode http\n  bind :80\n  acl a path_beg -f {l}\n  http-request set-header X %[path,map_beg({l},none)]\n  acl b path -u 3 /x\n  acl c path -u 3 /y\n"
    );
    let errs: Vec<String> = crate::config::load_text("t.cfg", &text, &|_| None)
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(errs[0].starts_with("t.cfg:5: ") && errs[0].contains(&format!("The file \"{l}\" is already used as one column file and cannot be used by as two column file.")), "{errs:?}");
    assert!(
        errs[1].starts_with("t.cfg:7: ") && errs[1].contains("the id is already used"),
        "{errs:?}"
    );
    let _ = std::fs::remove_file(&lst);
}

#[test]
fn a_payload_after_double_less_than_goes_to_the_last_command_until_an_empty_line() {
    let (out, done, ran) = session(Level::User, "show map; add map #0 <<\nk v w\nk2 v2\n\n");
    assert!(done, "{out}");
    assert_eq!(
        ran,
        [
            Command::Pat(maps::PatCmd::Show {
                map: true,
                name: None,
                gen: None
            }),
            Command::Pat(maps::PatCmd::AddMany {
                map: true,
                name: "#0".into(),
                payload: "k v w\nk2 v2\n".into(),
                gen: None
            })
        ]
    );
    // Without the empty line the client's close ends the payload.
    let (_, _, ran) = session(Level::User, "add acl #0 x <<\n/a\n");
    assert!(ran.is_empty(), "still reading the payload: {ran:?}");
    let mut c = CliConn::new(Level::User);
    let mut f = Fake::default();
    c.input(b"add acl #0 x <<\n/a\n", &mut f);
    c.eof(&mut f);
    assert_eq!(
        f.ran,
        [Command::Pat(maps::PatCmd::AddMany {
            map: false,
            name: "#0".into(),
            payload: "/a\n".into(),
            gen: None
        })]
    );
}
