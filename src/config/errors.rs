//! Error pages in the configuration, as HAProxy 2.6 reads them: `errorfile
//! CODE FILE` (an empty file: the connection closes without a response),
//! `http-errors NAME` sections of `errorfile` lines, `errorfiles NAME
//! [CODE...]` importing from one (in the order written: a later `errorfile`
//! or `errorfiles` overrides an earlier one, a proxy's own override its
//! `defaults`), `http-error status CODE [reply]`, and the `errorfile`,
//! `errorfiles` and `default-errorfiles` options of `return` and `deny`.
//! Sections may be defined after their use: names are checked, and the
//! imports resolved, once every file is read.

use super::draft::Draft;
use super::model::Origin;
use crate::http::rules::{Action, Reply, ReplyRaw, Rule};

/// Statuses an error file can be given for, as HAProxy 2.6.
pub(crate) const CODES: [u16; 17] = [
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

/// The status code of an `errorfile` line.
pub(crate) fn code(kw: &str, s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(c) if CODES.contains(&c) => Ok(c),
        _ => Err(format!(
            "'{kw}': status code '{s}' not handled (expected one of {})",
            CODES.map(|c| c.to_string()).join(", ")
        )),
    }
}

/// An error file's bytes: a whole HTTP response, or nothing at all.
pub(crate) fn read(kw: &str, file: &str) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(file).map_err(|e| {
        let e = e.to_string();
        format!(
            "'{kw}': cannot read '{file}': {}",
            crate::core::plain_os(&e)
        )
    })?;
    if !bytes.is_empty() && !bytes.starts_with(b"HTTP/") {
        return Err(format!(
            "'{kw}': '{file}' is not an HTTP response (it must start with 'HTTP/')"
        ));
    }
    Ok(bytes)
}

/// An `http-errors` section's pages, by status.
type Pages = Vec<(u16, Vec<u8>)>;

/// The `http-errors` sections read so far.
#[derive(Debug, Default)]
pub(crate) struct Sections {
    list: Vec<(String, Pages)>,
}

impl Sections {
    /// `http-errors NAME`: a new section, which the next `errorfile` lines fill.
    pub(crate) fn start(&mut self, words: &[String]) -> Result<(), String> {
        let name = match words {
            [_, n] => n,
            [_] => return Err("'http-errors' expects a name".into()),
            [_, _, extra, ..] => {
                return Err(format!("unexpected argument '{extra}' after 'http-errors'"))
            }
            [] => return Err("'http-errors' expects a name".into()),
        };
        if self.list.iter().any(|(n, _)| n == name) {
            return Err(format!("http-errors section '{name}' already exists"));
        }
        self.list.push((name.clone(), Vec::new()));
        Ok(())
    }

    /// A line in the current section: only `errorfile CODE FILE`.
    pub(crate) fn keyword(&mut self, words: &[String]) -> Result<(), String> {
        let Some((_, files)) = self.list.last_mut() else {
            return Ok(());
        };
        match words {
            [kw, c, f] if kw == "errorfile" => {
                let c = code("errorfile", c)?;
                let bytes = read(&format!("errorfile {c}"), f)?;
                files.retain(|(x, _)| *x != c);
                files.push((c, bytes));
                Ok(())
            }
            [kw, ..] if kw == "errorfile" => {
                Err("'errorfile' expects a status code and a file".into())
            }
            [kw, ..] => Err(format!(
                "unknown keyword '{kw}' in 'http-errors' section (expected 'errorfile')"
            )),
            [] => Ok(()),
        }
    }

    fn get(&self, name: &str) -> Option<&[(u16, Vec<u8>)]> {
        self.list
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.as_slice())
    }

    /// A proxy's imports and replies resolved: `errorfiles` lines become
    /// `errorfile` entries at their place, replies naming a section take its
    /// page for their status. Errors name the line of each unknown section.
    pub(crate) fn resolve(&self, d: &mut Draft) -> Vec<(Origin, String)> {
        let mut errors = Vec::new();
        for (name, origin) in &d.h.error_sections {
            if self.get(name).is_none() {
                errors.push((
                    origin.clone(),
                    format!("unable to find http-errors section '{name}'"),
                ));
            }
        }
        if !errors.is_empty() {
            return errors;
        }
        // Last first, so that the earlier insertion points stay valid.
        for (at, name, codes) in std::mem::take(&mut d.h.errorfiles_at).into_iter().rev() {
            let files = self.get(&name).unwrap_or_default();
            let picked = files
                .iter()
                .filter(|(c, _)| codes.is_empty() || codes.contains(c))
                .cloned();
            let at = at.min(d.http.errorfiles.len());
            d.http.errorfiles.splice(at..at, picked);
        }
        let rules = [&mut d.h.req_http, &mut d.h.res_http, &mut d.h.after_res];
        for list in rules {
            for r in list.iter_mut() {
                if let Rule {
                    action: Action::Return(reply) | Action::DenyReply(reply),
                    ..
                } = r
                {
                    self.fill(reply);
                }
            }
        }
        for reply in &mut d.http.http_errors {
            self.fill(reply);
        }
        errors
    }

    /// `errorfiles NAME` in a reply: the section's page for the status,
    /// else the proxy's (HAProxy falls back to its default messages).
    fn fill(&self, reply: &mut Reply) {
        if let Some(ReplyRaw::Section(name)) = &reply.raw {
            let page = self
                .get(name)
                .and_then(|f| f.iter().find(|(c, _)| *c == reply.status))
                .map(|(_, b)| b.clone());
            reply.raw = Some(page.map_or(ReplyRaw::Default, ReplyRaw::Bytes));
        }
    }
}

/// The `http-errors` section a rule's reply names, if any.
pub(crate) fn section_of(r: &Rule) -> Option<&str> {
    match &r.action {
        Action::Return(reply) | Action::DenyReply(reply) => match &reply.raw {
            Some(ReplyRaw::Section(n)) => Some(n),
            _ => None,
        },
        _ => None,
    }
}
