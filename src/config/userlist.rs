//! `userlist NAME` sections (manual §3.4): `group NAME [users U,...]` and
//! `user NAME [password HASH | insecure-password TEXT] [groups G,...]`.
//! A section is built when it ends and published to the fetches that name
//! it (`http::auth`); duplicates are warned about and ignored, as HAProxy.

use crate::http::auth::{self, Password, User, Userlist};

/// A section being read.
pub(crate) struct Draft {
    name: String,
    /// Line of the header, for errors found when the section ends.
    pub line: usize,
    groups: Vec<(String, Vec<String>)>,
    users: Vec<(String, Password, Vec<String>)>,
    /// A section of the same name was read before: ignore this one.
    duplicate: bool,
}

/// `userlist NAME`; a warning when the name was used already.
pub(crate) fn start(words: &[String], line: usize) -> Result<(Draft, Option<String>), String> {
    let name = super::args::need(words, 1, "a userlist name")?;
    super::args::only(words, 2)?;
    let duplicate = auth::defined(name);
    let warn = duplicate.then(|| format!("ignoring duplicated userlist '{name}'."));
    Ok((
        Draft {
            name: name.to_string(),
            line,
            groups: Vec::new(),
            users: Vec::new(),
            duplicate,
        },
        warn,
    ))
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Draft {
    /// One line of the section; Ok(Some(warning)) for an ignored duplicate.
    pub(crate) fn keyword(&mut self, words: &[String]) -> Result<Option<String>, String> {
        match words[0].as_str() {
            "group" => {
                let name = super::args::need(words, 1, "a group name")?;
                let users = match words.get(2).map(String::as_str) {
                    None => Vec::new(),
                    Some("users") => list(super::args::need(words, 3, "a list of users")?),
                    Some(w) => {
                        return Err(format!(
                            "'group {name}': unexpected '{w}' (expects 'users')"
                        ))
                    }
                };
                super::args::only(words, 4)?;
                if self.groups.iter().any(|(g, _)| g == name) {
                    return Ok(Some(format!(
                        "ignoring duplicated group '{name}' in userlist '{}'.",
                        self.name
                    )));
                }
                self.groups.push((name.to_string(), users));
            }
            "user" => {
                let name = super::args::need(words, 1, "a user name")?;
                let mut password = Password::None;
                let mut groups = Vec::new();
                let mut i = 2;
                while let Some(w) = words.get(i) {
                    let value = words
                        .get(i + 1)
                        .ok_or_else(|| format!("'user {name}': '{w}' expects an argument"))?;
                    match w.as_str() {
                        "password" => {
                            password =
                                auth::hashed(value).map_err(|e| format!("'user {name}': {e}"))?
                        }
                        "insecure-password" => password = Password::Plain(value.clone()),
                        "groups" => groups = list(value),
                        _ => {
                            return Err(format!(
                                "'user {name}': unknown option '{w}' (expects 'password', \
                                 'insecure-password' or 'groups')"
                            ))
                        }
                    }
                    i += 2;
                }
                if self.users.iter().any(|(u, ..)| u == name) {
                    return Ok(Some(format!(
                        "ignoring duplicated user '{name}' in userlist '{}'.",
                        self.name
                    )));
                }
                self.users.push((name.to_string(), password, groups));
            }
            kw => return Err(format!("unknown keyword '{kw}' in 'userlist' section")),
        }
        Ok(None)
    }

    /// The section ends: resolve groups both ways and publish it.
    pub(crate) fn finish(self) -> Result<(), String> {
        if self.duplicate {
            return Ok(());
        }
        let group_names: Vec<String> = self.groups.iter().map(|(g, _)| g.clone()).collect();
        let index = |g: &str| group_names.iter().position(|n| n == g);
        let mut users = Vec::with_capacity(self.users.len());
        for (name, password, groups) in &self.users {
            let mut ids = Vec::new();
            for g in groups {
                let i = index(g).ok_or_else(|| {
                    format!(
                        "userlist '{}': no such group '{g}' specified in user '{name}'",
                        self.name
                    )
                })?;
                ids.push(i);
            }
            users.push(User {
                name: name.clone(),
                password: password.clone(),
                groups: ids,
            });
        }
        for (gi, (g, members)) in self.groups.iter().enumerate() {
            for m in members {
                let u = users.iter_mut().find(|u| &u.name == m).ok_or_else(|| {
                    format!(
                        "userlist '{}': no such user '{m}' specified in group '{g}'",
                        self.name
                    )
                })?;
                if !u.groups.contains(&gi) {
                    u.groups.push(gi);
                }
            }
        }
        auth::define(Userlist {
            name: self.name,
            groups: group_names,
            users,
        });
        Ok(())
    }
}
