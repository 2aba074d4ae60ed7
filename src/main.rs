//! The `pollux` binary: parse argv, load the config, pick a poller, bind,
//! optionally daemonize, then run the event loop.

use pollux::{cli, config, core::Reactor, pollers, proxy, sys};
mod mworker;
mod reload;

use std::io::Write;
use std::process::ExitCode;
use std::sync::{mpsc, Arc};

fn main() -> ExitCode {
    // Before any thread or fork: every thread and worker inherits it.
    pollux::crash::install();
    let opts = match cli::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("pollux: {e}\n{}", cli::USAGE);
            return ExitCode::from(1);
        }
    };
    match run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msgs) => {
            for m in msgs {
                eprintln!("{}", pollux::core::plain_os(&m));
            }
            ExitCode::from(1)
        }
    }
}

fn run(opts: cli::Options) -> Result<(), Vec<String>> {
    if opts.help {
        print!("{}", cli::USAGE);
        return Ok(());
    }
    if opts.version > 0 {
        if opts.version > 1 {
            print!("{}", pollux::about::build_report(&opts.disabled));
        } else {
            println!("pollux version {}", pollux::VERSION);
        }
        return Ok(());
    }
    if let Some(expr) = &opts.check_cond {
        // HAProxy's -cc: 0 true, 1 false, 2 the expression is wrong.
        let code = match config::eval_condition(expr) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(e) => {
                eprintln!("[ALERT] failed to evaluate condition '{expr}': {e}");
                2
            }
        };
        std::process::exit(code);
    }
    if let Some(name) = &opts.local_peer {
        // As HAProxy: configurations and child programs may read it.
        std::env::set_var("HAPROXY_LOCALPEER", name);
    }
    if let Some(mb) = opts.mem_limit_mb {
        // A warning, as HAProxy without strict-limits.
        if let Err(e) = sys::limit_memory(mb) {
            eprintln!("[WARNING] [pollux.main()] Cannot fix MEM limit to {mb} megs: {e}");
        }
    }
    if opts.files.is_empty() {
        return Err(vec![format!(
            "pollux: no configuration file given (use -f FILE)\n{}",
            cli::USAGE
        )]);
    }
    let cfg = config::load(&opts.files).map_err(|errs| {
        let mut v: Vec<String> = errs.iter().map(|e| format!("[ALERT] {e}")).collect();
        v.push(format!(
            "[ALERT] Fatal errors found in configuration ({} error(s)).",
            errs.len()
        ));
        v
    })?;
    let quiet = (opts.quiet || cfg.global.quiet) && !opts.verbose && !opts.debug;
    if !quiet {
        for w in &cfg.warnings {
            eprintln!("[WARNING] {}", pollux::core::plain_os(w));
        }
    }
    if cfg.global.zero_warning && !cfg.warnings.is_empty() {
        return Err(vec![
            "[ALERT] Some warnings were found and 'zero-warning' is set. Aborting.".into(),
        ]);
    }
    if opts.check {
        println!("Configuration file is valid");
        return Ok(());
    }
    init_logger(&opts, quiet);
    // HAProxy's MODE_DEBUG trace: `-d`, unless quiet without `-V`.
    pollux::core::trace::enable(opts.debug && (!(opts.quiet || cfg.global.quiet) || opts.verbose));
    if opts.master_cli.is_some() && !(opts.master_worker || cfg.global.master_worker) {
        return Err(vec![
            "[ALERT] -S requires master-worker mode (-W or 'master-worker')".into(),
        ]);
    }

    let mut disabled = opts.disabled.clone();
    disabled.extend(cfg.global.disabled_pollers.iter().cloned());
    let backend = pollers::choose(opts.poller.as_deref(), &disabled)
        .map_err(|e| vec![format!("[ALERT] {e}")])?;

    let mut cfg = cfg;
    if let Some(n) = opts.maxconn {
        cfg.global.maxconn = n;
        cfg.global.maxconn_set = true;
    }
    // Each session holds two fds; keep room for listeners and the poller.
    let want = u64::from(cfg.global.maxconn) * 2 + 64;
    let failed = match cfg.global.ulimit_n {
        Some(n) => sys::set_nofile(n).err().map(|cur| (n, cur)),
        None => {
            let got = sys::raise_nofile(want);
            // A default maxconn is a wish, as HAProxy's computed one.
            (got < want && cfg.global.maxconn_set).then_some((want, got))
        }
    };
    if let Some((n, cur)) = failed {
        let msg = format!("[pollux.main()] Cannot raise FD limit to {n}, limit is {cur}.");
        if cfg.global.strict_limits {
            return Err(vec![format!("[ALERT] {msg}")]);
        }
        eprintln!("[WARNING] {msg}");
        if cfg.global.zero_warning {
            return Err(vec![
                "[ALERT] Some warnings were found and 'zero-warning' is set. Aborting.".into(),
            ]);
        }
    }

    // Bind before detaching so that bind errors reach the terminal; on a
    // reload, the old process's sockets are taken over first.
    let socks = reload::bind(&opts, &cfg)?;
    let cli_socks = proxy::engine::bind_cli(&cfg).map_err(|e| vec![format!("[ALERT] {e}")])?;
    let master_cli = mworker::bind_cli(&opts)?;
    let daemon = (opts.daemon || cfg.global.daemon) && !opts.debug && !opts.no_background;
    let pidfile = opts.pidfile.clone().or(cfg.global.pidfile.clone());
    if daemon {
        match sys::daemonize() {
            Ok(Some(child)) => {
                if let Some(p) = &pidfile {
                    write_pidfile(p, child)?;
                }
                return Ok(());
            }
            Ok(None) => {}
            Err(e) => return Err(vec![format!("[ALERT] cannot go daemon: {e}")]),
        }
    } else if let Some(p) = &pidfile {
        write_pidfile(p, std::process::id())?;
    }

    if opts.master_worker || cfg.global.master_worker {
        return mworker::run(&opts, cfg, backend, socks, cli_socks, master_cli);
    }
    serve(&opts, &cfg, backend, socks, cli_socks, || {
        reload::retire_old(&opts)
    })
}

/// Drop privileges, start the poller and the engine, call `ready`, serve.
/// (The whole life of a worker in master-worker mode.)
fn serve(
    opts: &cli::Options,
    cfg: &config::Config,
    backend: &'static pollers::Backend,
    socks: Vec<(usize, std::net::TcpListener)>,
    cli_socks: Vec<pollux::core::anysock::AnyListener>,
    ready: impl FnOnce(),
) -> Result<(), Vec<String>> {
    // After binding and detaching, before serving, as HAProxy does.
    sys::privs::drop_privileges(cfg.global.chroot.as_deref(), cfg.global.gid, cfg.global.uid)
        .map_err(|e| vec![format!("[ALERT] {e}")])?;

    // Created after fork: kqueue descriptors are not inherited by children.
    let poller = (backend.create)()
        .map_err(|e| vec![format!("[ALERT] cannot start {}: {e}", backend.name)])?;
    if opts.debug || opts.verbose {
        println!("Using {}() as the polling mechanism.", backend.name);
        let _ = std::io::stdout().flush();
    }
    let alert = |e: String| vec![format!("[ALERT] {e}")];
    // `nbthread`: thread 0 is this one (signals, runtime API, checks); the
    // others each get their own poller and share of the listeners.
    let n = cfg.global.nbthread.max(1) as usize;
    let shared = Arc::new(proxy::Shared::new(cfg, &socks).map_err(|e| alert(e.to_string()))?);
    let mut per_thread =
        proxy::engine::split_listeners(socks, n).map_err(|e| alert(e.to_string()))?;
    let reactor = Reactor::new(poller, cfg.global.bufsize);
    let mine = std::mem::take(&mut per_thread[0]);
    let mut engine = proxy::Engine::new(cfg, reactor, mine, Arc::clone(&shared), 0)
        .map_err(|e| alert(e.to_string()))?
        .with_cli(cfg, cli_socks);
    let (started_tx, started) = mpsc::channel::<Result<(), String>>();
    let mut threads = Vec::new();
    for (tid, socks) in per_thread.into_iter().enumerate().skip(1) {
        let (cfg, shared, started_tx) = (cfg.clone(), Arc::clone(&shared), started_tx.clone());
        let run = move || -> Result<(), String> {
            let engine = (backend.create)()
                .map_err(|e| format!("cannot start {}: {e}", backend.name))
                .and_then(|p| {
                    let reactor = Reactor::new(p, cfg.global.bufsize);
                    proxy::Engine::new(&cfg, reactor, socks, shared, tid).map_err(|e| e.to_string())
                });
            let _ = started_tx.send(engine.as_ref().map(|_| ()).map_err(Clone::clone));
            engine?
                .run()
                .map_err(|e| format!("event loop of thread {tid} failed: {e}"))
        };
        let h = std::thread::Builder::new()
            .name(format!("pollux-{tid}"))
            .spawn(run)
            .map_err(|e| alert(format!("cannot start thread {tid}: {e}")))?;
        threads.push(h);
    }
    drop(started_tx);
    for _ in 1..n {
        match started.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(alert(e)),
            Err(_) => return Err(alert("a thread ended before starting".into())),
        }
    }
    // Serving now: the old processes may go.
    ready();
    let mut errs = Vec::new();
    if let Err(e) = engine.run() {
        errs.push(format!("[ALERT] event loop failed: {e}"));
    }
    drop(engine);
    for h in threads {
        match h.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => errs.push(format!("[ALERT] {e}")),
            Err(_) => errs.push("[ALERT] a thread panicked".into()),
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

fn write_pidfile(path: &std::path::Path, pid: u32) -> Result<(), Vec<String>> {
    std::fs::write(path, format!("{pid}\n")).map_err(|e| {
        vec![format!(
            "[ALERT] cannot write pidfile {}: {e}",
            path.display()
        )]
    })
}

fn init_logger(opts: &cli::Options, quiet: bool) {
    let level = if opts.debug {
        "debug"
    } else if quiet {
        "error"
    } else {
        "warn"
    };
    let env = env_logger::Env::default().default_filter_or(level);
    let _ = env_logger::Builder::from_env(env)
        .format(|buf, rec| {
            let tag = match rec.level() {
                log::Level::Error => "ALERT",
                log::Level::Warn => "WARNING",
                log::Level::Info => "NOTICE",
                _ => "DEBUG",
            };
            let text = rec.args().to_string();
            let text = pollux::core::plain_os(&text);
            writeln!(buf, "[{tag}] {} {text}", buf.timestamp_millis())
        })
        .try_init();
}
