//! The HTML stats page: process information, a legend, then a table per
//! proxy (frontend row, a row per server, backend totals) with HAProxy's
//! column groups, and with `stats admin` a form per backend to set servers
//! READY, DRAIN or MAINT. Plain HTML and CSS, no script.

use super::{ProxyStats, Row, RowKind, Snapshot};
use std::fmt::Write;

/// How the page is to be drawn for this request.
#[derive(Debug, Clone, Default)]
pub struct PageView<'a> {
    /// The `stats uri` prefix (links and the form post there).
    pub uri: &'a str,
    /// Seconds between automatic reloads, None: no reload.
    pub refresh: Option<u64>,
    pub hide_version: bool,
    pub show_legends: bool,
    /// `stats show-node`: the node name shown instead of the process's.
    pub node: Option<&'a str>,
    /// `stats show-desc`: a line under the title.
    pub desc: Option<&'a str>,
    /// The admin form is offered (`stats admin` condition true).
    pub admin: bool,
    /// `;up`: servers that are not UP are left out.
    pub up_only: bool,
    /// `;st=CODE`: outcome of the last admin action.
    pub status: Option<&'a str>,
    /// `scope=TEXT`: the proxies shown were chosen by it; the form to
    /// change it shows it.
    pub scope: Option<&'a str>,
    /// `;up`, `;norefresh`, `?scope=TEXT` of this view, which the admin
    /// form and the [close] link carry on.
    pub carried: &'a str,
}

const STYLE: &str = "
body { font-family: sans-serif; font-size: 12px; color: #111; background: #fff; margin: 1em; }
h1 { font-size: 20px; margin: 0 0 .3em 0; color: #3a2a80; }
h2 { font-size: 14px; margin: 1.2em 0 .3em 0; }
table.px { border-collapse: collapse; margin-bottom: 1em; }
form { margin-bottom: 1.5em; }
table.px td, table.px th { border: 1px solid #999; padding: 2px 4px; font-size: 11px; white-space: nowrap; }
table.px td { text-align: right; }
table.px td.name, table.px td.st { text-align: left; }
table.px th.pxname { background: #802050; color: #ffe860; text-align: left; font-size: 12px; }
table.px th.grp, table.px th.col { background: #40b8c0; }
tr.frontend, tr.backend { background: #e6e6d4; font-weight: bold; }
.active_up { background: #c4f4c4; } .backup_up { background: #b8d4ff; }
.active_going_down, .backup_going_down { background: #fff4a0; }
.active_going_up, .backup_going_up { background: #ffd24a; }
.active_down, .backup_down { background: #ff9a9a; }
.active_draining, .backup_draining { background: #58b4ff; }
.maintain { background: #c88a3a; }
.active_no_check, .backup_no_check { background: #e4e4e4; }
table.info td { padding: 1px 8px 1px 0; }
.msg { padding: 4px 8px; margin: .5em 0; border: 1px solid #888; display: inline-block; }
.msg.ok { background: #c4f4c4; } .msg.err { background: #ff9a9a; }
span.lg { display: inline-block; padding: 1px 6px; margin-right: 4px; border: 1px solid #999; }
";

/// The page.
pub fn render(snap: &Snapshot, v: &PageView) -> String {
    let mut o = String::with_capacity(16384);
    let i = &snap.info;
    o.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n");
    let _ = writeln!(o, "<title>Statistics Report for {}</title>", esc(&i.name));
    if let Some(r) = v.refresh {
        let _ = writeln!(o, "<meta http-equiv=\"refresh\" content=\"{r}\">");
    }
    let _ = writeln!(o, "<style>{STYLE}</style></head><body>");
    if v.hide_version {
        let _ = writeln!(o, "<h1>{} statistics</h1>", esc(&i.name));
    } else {
        let _ = writeln!(
            o,
            "<h1>{} version {} statistics</h1>",
            esc(&i.name),
            esc(&i.version)
        );
    }
    if let Some(code) = v.status {
        let (class, text) = match code {
            "DONE" => ("ok", "Action processed successfully."),
            "PART" => ("err", "Action not processed for every server."),
            "NONE" => (
                "err",
                "Nothing to do: no server selected or nothing changed.",
            ),
            "DENY" => ("err", "Action denied: administration is not allowed."),
            "ERRP" => ("err", "Action not processed: invalid parameters."),
            _ => ("err", "Unknown action status."),
        };
        let _ = writeln!(
            o,
            "<div class=\"msg {class}\">{text} <a href=\"{}{}\">[close]</a></div>",
            esc(v.uri),
            esc(v.carried)
        );
    }
    let _ = writeln!(
        o,
        "<table class=\"info\"><tr><td><b>pid</b> = {} (poller: {}; nbthread = {})</td><td><b>uptime</b> = {}</td></tr>\
         <tr><td><b>maxconn</b> = {}; <b>current conns</b> = {}</td><td><b>total conns</b> = {}; <b>total requests</b> = {}</td></tr>\
         <tr><td><b>session rate</b> = {}/s (max {}/s)</td><td><b>node</b> = {}</td></tr></table>",
        i.pid,
        esc(&i.poller),
        i.nbthread.max(1),
        human(i.uptime_sec),
        i.maxconn,
        i.curr_conns,
        i.cum_conns,
        i.cum_req,
        i.sess_rate,
        i.max_sess_rate,
        esc(v.node.filter(|n| !n.is_empty()).unwrap_or(&i.node))
    );
    if let Some(d) = v.desc.filter(|d| !d.is_empty()) {
        let _ = writeln!(o, "<p class=\"desc\">{}</p>", esc(d));
    }
    legend(&mut o, v);
    let base = esc(v.uri);
    // Every link keeps the scope, as HAProxy's `scope_txt`.
    let sc = v
        .scope
        .map_or(String::new(), |t| format!("?scope={}", esc(t)));
    let _ = writeln!(
        o,
        "<form method=\"get\">Scope: <input value=\"{}\" name=\"scope\" size=\"8\" maxlength=\"{}\"></form>",
        esc(v.scope.unwrap_or("")),
        super::page::SCOPE_MAX
    );
    let _ = writeln!(
        o,
        "<p><a href=\"{base};csv{sc}\">CSV export</a> | <a href=\"{base};json{sc}\">JSON export</a>{}{}</p>",
        if v.up_only {
            format!(" | <a href=\"{base}{sc}\">Show all servers</a>")
        } else {
            format!(" | <a href=\"{base};up{sc}\">Hide DOWN servers</a>")
        },
        if v.refresh.is_some() {
            format!(" | <a href=\"{base};norefresh{sc}\">Disable refresh</a>")
        } else {
            String::new()
        }
    );
    for p in &snap.proxies {
        proxy(&mut o, p, v);
    }
    o.push_str("</body></html>\n");
    o
}

fn legend(o: &mut String, v: &PageView) {
    o.push_str("<p>");
    for (class, text) in [
        ("active_up", "active UP"),
        ("backup_up", "backup UP"),
        ("active_going_down", "active UP, going down"),
        ("active_going_up", "active DOWN, going up"),
        ("active_down", "DOWN"),
        ("active_draining", "DRAIN"),
        ("maintain", "MAINT"),
        ("active_no_check", "not checked"),
    ] {
        let _ = write!(o, "<span class=\"lg {class}\">{text}</span>");
    }
    o.push_str("</p>\n");
    if v.show_legends {
        o.push_str(
            "<p>Status: UP or DOWN, with 'n/m' while a transition is in progress \
             (n checks of the m that <code>fall</code> or <code>rise</code> need); \
             DRAIN: no new traffic but persistent clients; MAINT: no traffic. \
             LastChk: the last health check's result; Chk: failed checks; \
             Dwn: UP to DOWN transitions; Dwntme: total downtime.</p>\n",
        );
    }
}

const GROUPS: &[(&str, &[&str])] = &[
    ("Queue", &["Cur", "Max", "Limit"]),
    ("Session rate", &["Cur", "Max", "Limit"]),
    (
        "Sessions",
        &["Cur", "Max", "Limit", "Total", "LbTot", "Last"],
    ),
    ("Bytes", &["In", "Out"]),
    ("Denied", &["Req", "Resp"]),
    ("Errors", &["Req", "Conn", "Resp"]),
    ("Warnings", &["Retr", "Redis"]),
    (
        "Server",
        &[
            "Status", "LastChk", "Wght", "Act", "Bck", "Chk", "Dwn", "Dwntme",
        ],
    ),
];

fn proxy(o: &mut String, p: &ProxyStats, v: &PageView) {
    let form = v.admin && !p.servers.is_empty();
    let name = esc(&p.name);
    if form {
        let _ = writeln!(
            o,
            "<form method=\"post\" action=\"{}{}\">",
            esc(v.uri),
            esc(v.carried)
        );
    }
    let cols: usize = GROUPS.iter().map(|g| g.1.len()).sum::<usize>() + 1 + usize::from(form);
    let _ = writeln!(
        o,
        "<table class=\"px\" id=\"{name}\"><tr><th class=\"pxname\" colspan=\"{cols}\">{name}</th></tr>"
    );
    o.push_str("<tr>");
    if form {
        o.push_str("<th class=\"grp\" rowspan=\"2\"></th>");
    }
    o.push_str("<th class=\"grp\" rowspan=\"2\"></th>");
    for (g, c) in GROUPS {
        let _ = write!(o, "<th class=\"grp\" colspan=\"{}\">{g}</th>", c.len());
    }
    o.push_str("</tr>\n<tr>");
    for (_, c) in GROUPS {
        for col in *c {
            let _ = write!(o, "<th class=\"col\">{col}</th>");
        }
    }
    o.push_str("</tr>\n");
    if let Some(r) = &p.frontend {
        row(o, r, form);
    }
    for r in &p.servers {
        if v.up_only && !r.text("status").starts_with("UP") && r.text("status") != "no check" {
            continue;
        }
        row(o, r, form);
    }
    if let Some(r) = &p.backend {
        row(o, r, form);
    }
    o.push_str("</table>\n");
    if form {
        let _ = writeln!(
            o,
            "<input type=\"hidden\" name=\"b\" value=\"{name}\">\
             Choose the action to perform on the checked servers: \
             <select name=\"action\"><option value=\"\"></option>\
             <option value=\"ready\">Set state to READY</option>\
             <option value=\"drain\">Set state to DRAIN</option>\
             <option value=\"maint\">Set state to MAINT</option></select> \
             <input type=\"submit\" value=\"Apply\"></form>"
        );
    }
}

fn row(o: &mut String, r: &Row, form: bool) {
    let class = row_class(r);
    let _ = write!(o, "<tr class=\"{class}\">");
    if form {
        if r.kind == RowKind::Server {
            let _ = write!(
                o,
                "<td><input type=\"checkbox\" name=\"s\" value=\"{}\"></td>",
                esc(r.name())
            );
        } else {
            o.push_str("<td></td>");
        }
    }
    let label = match r.kind {
        RowKind::Frontend => "Frontend".to_string(),
        RowKind::Backend => "Backend".to_string(),
        RowKind::Server => r.name().to_string(),
    };
    let _ = write!(o, "<td class=\"name\">{}</td>", esc(&label));
    let t = |f: &str| esc(&r.text(f));
    let age = |f: &str| match r.get(f) {
        Some(super::Value::U(n)) => human(*n),
        Some(super::Value::I(n)) if *n >= 0 => human(*n as u64),
        _ => String::new(),
    };
    let last_chk = match (r.text("check_status"), r.num("check_duration")) {
        (s, _) if s.is_empty() => String::new(),
        (s, Some(ms)) => format!("{s} in {ms}ms"),
        (s, None) => s,
    };
    let status = match (r.kind, r.text("status")) {
        (RowKind::Server, s) if !s.is_empty() => match r.num("lastchg") {
            Some(n) => format!("{} {s}", human(n)),
            None => s,
        },
        (_, s) => s,
    };
    let cells = [
        t("qcur"),
        t("qmax"),
        t("qlimit"),
        t("rate"),
        t("rate_max"),
        t("rate_lim"),
        t("scur"),
        t("smax"),
        t("slim"),
        t("stot"),
        t("lbtot"),
        age("lastsess"),
        t("bin"),
        t("bout"),
        t("dreq"),
        t("dresp"),
        t("ereq"),
        t("econ"),
        t("eresp"),
        t("wretr"),
        t("wredis"),
    ];
    for c in cells {
        let _ = write!(o, "<td>{c}</td>");
    }
    let tip = esc(&r.text("last_chk"));
    let _ = write!(
        o,
        "<td class=\"st\">{}</td><td class=\"st\" title=\"{tip}\">{}</td>",
        esc(&status),
        esc(&last_chk)
    );
    let bck = r.num("bck").unwrap_or(0) > 0 && r.kind == RowKind::Server;
    let (act, bckc) = match r.kind {
        RowKind::Server if bck => ("-".to_string(), "Y".to_string()),
        RowKind::Server => ("Y".to_string(), "-".to_string()),
        _ => (t("act"), t("bck")),
    };
    for c in [
        t("weight"),
        act,
        bckc,
        t("chkfail"),
        t("chkdown"),
        age("downtime"),
    ] {
        let _ = write!(o, "<td>{c}</td>");
    }
    o.push_str("</tr>\n");
}

/// The row's colour class, HAProxy's names.
fn row_class(r: &Row) -> &'static str {
    match r.kind {
        RowKind::Frontend => "frontend",
        RowKind::Backend => "backend",
        RowKind::Server => {
            let st = r.text("status");
            let bck = r.num("bck").unwrap_or(0) > 0;
            let pick = |a: &'static str, b: &'static str| if bck { b } else { a };
            if st.starts_with("MAINT") {
                "maintain"
            } else if st.starts_with("DRAIN") {
                pick("active_draining", "backup_draining")
            } else if st == "no check" {
                pick("active_no_check", "backup_no_check")
            } else if st.starts_with("UP ") {
                pick("active_going_down", "backup_going_down")
            } else if st.starts_with("DOWN ") {
                pick("active_going_up", "backup_going_up")
            } else if st.starts_with("UP") {
                pick("active_up", "backup_up")
            } else {
                pick("active_down", "backup_down")
            }
        }
    }
}

/// HAProxy's short durations: 7s, 5m6s, 3h4m, 1d2h.
pub fn human(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d{h}h")
    } else if h > 0 {
        format!("{h}h{m}m")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// HTML-escape text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Info, ProxyStats, Row, RowKind, Snapshot};

    fn snap() -> Snapshot {
        let mut s1 = Row::new(RowKind::Server, "web", "s<1>");
        s1.s("status", "UP 1/3");
        s1.u("bck", 0);
        let mut s2 = Row::new(RowKind::Server, "web", "s2");
        s2.s("status", "MAINT");
        Snapshot {
            info: Info {
                name: "pollux".into(),
                version: "9.9".into(),
                ..Default::default()
            },
            proxies: vec![ProxyStats {
                name: "web".into(),
                iid: 1,
                frontend: Some(Row::new(RowKind::Frontend, "web", "FRONTEND")),
                servers: vec![s1, s2],
                backend: Some(Row::new(RowKind::Backend, "web", "BACKEND")),
            }],
        }
    }

    #[test]
    fn page_has_a_table_per_proxy_with_escaped_names_and_state_classes() {
        let html = render(
            &snap(),
            &PageView {
                uri: "/st",
                ..Default::default()
            },
        );
        assert!(html.contains("<table class=\"px\" id=\"web\">"));
        assert!(html.contains("s&lt;1&gt;"));
        assert!(html.contains("<tr class=\"active_going_down\">"));
        assert!(html.contains("<tr class=\"maintain\">"));
        assert!(html.contains("version 9.9"));
        assert!(!html.contains("<form method=\"post\""));
    }

    #[test]
    fn a_scope_is_shown_and_kept_by_the_links_and_the_form() {
        let html = render(
            &snap(),
            &PageView {
                uri: "/st",
                admin: true,
                scope: Some("we"),
                carried: ";up?scope=we",
                ..Default::default()
            },
        );
        assert!(html.contains("<input value=\"we\" name=\"scope\""));
        assert!(html.contains("href=\"/st;csv?scope=we\""));
        assert!(html.contains("<form method=\"post\" action=\"/st;up?scope=we\">"));
    }

    #[test]
    fn admin_adds_a_form_and_hide_version_hides_it() {
        let html = render(
            &snap(),
            &PageView {
                uri: "/st",
                admin: true,
                hide_version: true,
                refresh: Some(5),
                ..Default::default()
            },
        );
        assert!(html.contains("<form method=\"post\" action=\"/st\">"));
        assert!(html.contains("name=\"s\" value=\"s2\""));
        assert!(html.contains("<option value=\"maint\">"));
        assert!(!html.contains("9.9"));
        assert!(html.contains("http-equiv=\"refresh\" content=\"5\""));
    }

    #[test]
    fn durations_read_as_haproxy_shows_them() {
        assert_eq!(human(7), "7s");
        assert_eq!(human(306), "5m6s");
        assert_eq!(human(3 * 3600 + 240), "3h4m");
        assert_eq!(human(86400 + 7200), "1d2h");
    }
}
