//! A crash is never partial: a panic on any thread stops the whole process
//! at once, after one ALERT line naming the thread, the place and the cause.
//! Unwinding would only end the panicking thread: with `nbthread` > 1 the
//! others went on serving while that thread's listening sockets stayed open
//! and nobody accepted on them. Aborting also leaves a core file (where the
//! limits allow one) and, under `-W`, a worker the master sees die by
//! SIGABRT and replaces.

/// Install the hook (the binary does, first thing; the library's tests keep
/// Rust's default so that `#[should_panic]` and assertions work).
pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        // (The hook's argument type is not named: PanicHookInfo is newer
        // than the rust-version we support.)
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        let me = std::thread::current();
        let pid = std::process::id();
        eprintln!("{}", format_alert(pid, me.name(), place.as_deref(), msg));
        // Set RUST_BACKTRACE=1 for the stack (the release build keeps line
        // tables: `debug = 1`).
        let bt = std::backtrace::Backtrace::capture();
        if bt.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{bt}");
        }
        std::process::abort();
    }));
}

/// `[ALERT] (PID) : thread N panicked at FILE:LINE: MSG; exiting`. Threads
/// are numbered as `nbthread` counts them: the main thread is 0, event loop
/// `pollux-N` is N; any other thread goes by its name.
pub fn format_alert(pid: u32, thread: Option<&str>, place: Option<&str>, msg: &str) -> String {
    let thread = match thread {
        Some("main") => "0".to_string(),
        Some(name) => name.strip_prefix("pollux-").unwrap_or(name).to_string(),
        None => "(unnamed)".to_string(),
    };
    let place = place.unwrap_or("an unknown place");
    // One line: a multi-line message would split the ALERT in logs.
    let msg = msg.replace('\n', " ");
    format!("[ALERT] ({pid}) : thread {thread} panicked at {place}: {msg}; exiting")
}

#[cfg(test)]
mod tests {
    use super::format_alert;

    #[test]
    fn alert_names_pid_thread_place_and_cause_on_one_line() {
        assert_eq!(
            format_alert(
                42,
                Some("pollux-1"),
                Some("src/http/fetch.rs:483"),
                "index out\nof range"
            ),
            "[ALERT] (42) : thread 1 panicked at src/http/fetch.rs:483: index out of range; exiting"
        );
        assert_eq!(
            format_alert(7, Some("main"), None, "boom"),
            "[ALERT] (7) : thread 0 panicked at an unknown place: boom; exiting"
        );
        assert!(format_alert(7, None, None, "x").contains("thread (unnamed) panicked"));
        assert!(format_alert(7, Some("helper"), None, "x").contains("thread helper panicked"));
    }
}
