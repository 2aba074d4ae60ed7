//! The config parser on a whole file: any text gives a config or errors,
//! never a panic. Errors must name the file and a line that exists.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pollux_fuzz::names_special_files;

fuzz_target!(|data: &[u8]| {
    if names_special_files(data) {
        return;
    }
    // A DNS query per input would be slow and send noise to the resolver.
    pollux::config::refuse_host_names();
    let text = String::from_utf8_lossy(data);
    // An empty environment: `${VAR}` expands to nothing or its default.
    match pollux::config::load_text("fuzz.cfg", &text, &|_| None) {
        Ok(c) => {
            for w in &c.warnings {
                assert!(w.starts_with("fuzz.cfg"), "warning without its place: {w}");
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            let lines = text.lines().count();
            for e in &errors {
                let shown = e.to_string();
                assert!(
                    shown.starts_with("fuzz.cfg"),
                    "error without its file: {shown}"
                );
                assert!(e.line <= lines, "{shown}: past the last line {lines}");
            }
        }
    }
});
