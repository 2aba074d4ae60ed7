//! HAProxy's server state file, version 1: what `show servers state` prints
//! and what `load-server-state-from-file` reads back at startup, so that
//! weights, maintenance and health survive a reload. Columns and codes are
//! HAProxy's (management guide, "show servers state"), so a file written by
//! either program is read by the other.

use std::fmt::Write;

pub const HEADER: &str = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

/// `srv_op_state`.
pub const OP_STOPPED: u8 = 0;
pub const OP_RUNNING: u8 = 2;
/// `srv_admin_state` bits: forced maintenance (CLI, stats page), inherited,
/// from the configuration (`disabled`), forced drain.
pub const ADMIN_FMAINT: u8 = 0x01;
pub const ADMIN_CMAINT: u8 = 0x04;
pub const ADMIN_FDRAIN: u8 = 0x08;

/// One server's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub be_id: u32,
    pub be_name: String,
    pub srv_id: u32,
    pub srv_name: String,
    pub addr: String,
    pub op_state: u8,
    pub admin_state: u8,
    /// Current (user) weight and the configured one.
    pub uweight: u32,
    pub iweight: u32,
    pub since_change: u64,
    /// HAProxy's check status code, result (0 unknown, 2 failed, 3 passed),
    /// health counter and check state flags.
    pub check_status: u8,
    pub check_result: u8,
    pub check_health: u32,
    pub check_state: u32,
    pub port: u16,
    pub check_port: u16,
}

impl Row {
    fn line(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "{} {} {} {} {} {} {} {} {} {} {} {} {} {} 0 0 0 - {} - 0 {} - - 0",
            self.be_id,
            self.be_name,
            self.srv_id,
            self.srv_name,
            self.addr,
            self.op_state,
            self.admin_state,
            self.uweight,
            self.iweight,
            self.since_change,
            self.check_status,
            self.check_result,
            self.check_health,
            self.check_state,
            self.port,
            self.check_port,
        );
    }
}

/// The whole dump: version line, header, one line per server.
pub fn format(rows: &[Row]) -> String {
    let mut out = format!("1\n{HEADER}\n");
    for r in rows {
        r.line(&mut out);
    }
    out
}

/// Read a state file. Lines that do not parse are reported with their line
/// number; HAProxy skips them with a warning, and so does the caller.
pub fn parse(text: &str) -> Result<(Vec<Row>, Vec<String>), String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, v)) if v.trim() == "1" => {}
        Some((_, v)) => {
            return Err(format!(
                "unsupported server state file version '{}'",
                v.trim()
            ))
        }
        None => return Ok((Vec::new(), Vec::new())),
    }
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for (i, l) in lines {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        match row(l) {
            Some(r) => rows.push(r),
            None => bad.push(format!("line {}: cannot parse '{l}'", i + 1)),
        }
    }
    Ok((rows, bad))
}

fn row(l: &str) -> Option<Row> {
    let f: Vec<&str> = l.split_whitespace().collect();
    // Older HAProxy versions wrote fewer columns; the first 14 are enough.
    if f.len() < 14 {
        return None;
    }
    Some(Row {
        be_id: f[0].parse().ok()?,
        be_name: f[1].to_string(),
        srv_id: f[2].parse().ok()?,
        srv_name: f[3].to_string(),
        addr: f[4].to_string(),
        op_state: f[5].parse().ok().filter(|&s: &u8| s <= 3)?,
        admin_state: f[6].parse().ok()?,
        uweight: f[7].parse().ok()?,
        iweight: f[8].parse().ok()?,
        since_change: f[9].parse().ok()?,
        check_status: f[10].parse().ok()?,
        check_result: f[11].parse().ok()?,
        check_health: f[12].parse().ok()?,
        check_state: f[13].parse().ok()?,
        port: f.get(18).and_then(|p| p.parse().ok()).unwrap_or(0),
        check_port: f.get(21).and_then(|p| p.parse().ok()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as HAProxy 2.6 printed them for a DOWN checked server and an
    /// unchecked one (captured from Debian's haproxy).
    const HAPROXY: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n3 be 1 a 127.0.0.1 0 1 1 1 1 8 2 0 14 0 0 0 - 29412 - 0 0 - - 0\n3 be 2 b 127.0.0.1 2 0 5 3 1 1 0 2 0 0 0 0 - 29413 - 0 0 - - 0\n";

    #[test]
    fn reads_haproxys_own_file() {
        let (rows, bad) = parse(HAPROXY).unwrap();
        assert!(bad.is_empty());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].srv_name, "a");
        assert_eq!(rows[0].op_state, OP_STOPPED);
        assert_eq!(rows[0].admin_state & ADMIN_FMAINT, ADMIN_FMAINT);
        assert_eq!((rows[1].uweight, rows[1].iweight), (5, 3));
        assert_eq!(rows[1].port, 29413);
    }

    #[test]
    fn writes_what_it_reads() {
        let (rows, _) = parse(HAPROXY).unwrap();
        let text = format(&rows);
        assert_eq!(parse(&text).unwrap().0, rows);
        assert!(text.starts_with("1\n# be_id be_name srv_id"));
        // Same column count as HAProxy's lines.
        let ours = text.lines().nth(2).unwrap().split(' ').count();
        let theirs = HAPROXY.lines().nth(2).unwrap().split(' ').count();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn bad_lines_are_reported_not_fatal_and_bad_versions_are() {
        let (rows, bad) = parse("1\n3 be 1 a 127.0.0.1 9 0\n\n# comment\n").unwrap();
        assert!(rows.is_empty());
        assert_eq!(bad.len(), 1);
        assert!(bad[0].starts_with("line 2:"));
        assert!(parse("2\n").unwrap_err().contains("version '2'"));
        assert_eq!(parse("").unwrap().0, Vec::new());
    }
}
