//! Conditional blocks (configuration manual §2.4): the `.if` expression
//! evaluator and the nesting state of `.if/.elif/.else/.endif`.
//!
//! Expression grammar, as HAProxy's cfgcond.c parses it (`&&` binds tighter
//! than `||`; spaces are skipped around operators but belong to arguments):
//!
//! ```text
//! expr := and ( "||" and )*
//! and  := term ( "&&" term )*
//! term := "!"* ( integer | "(" expr ")" | predicate "(" args ")" )
//! ```

use super::lexer::EnvLookup;
use crate::about::HAPROXY_VERSION as HAPROXY;

/// Build facts reported true by `feature(NAME)`: those `-vv` lists with `+`
/// (the pollers compiled in, THREAD...).
pub fn features() -> Vec<String> {
    crate::about::features()
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n.to_string())
        .collect()
}

/// `-cc EXPR`: split as a configuration line is (quotes, `${VAR}`), then
/// evaluated as `.if` would, against the process environment.
pub fn eval_text(text: &str) -> Result<bool, String> {
    let env = |k: &str| std::env::var(k).ok();
    let words = super::lexer::split_line(text, &env)?;
    eval(&words, &env)
}

/// Evaluates the words following `.if`/`.elif`. Words are rejoined with one
/// space first, so spaces around commas become part of the arguments.
pub(crate) fn eval(words: &[String], env: EnvLookup<'_>) -> Result<bool, String> {
    let text = words.join(" ");
    if text.trim().is_empty() {
        return Ok(false);
    }
    let mut p = CondParser {
        s: text.as_bytes(),
        pos: 0,
        env,
        depth: 0,
    };
    let value = p.expr()?;
    p.skip_spaces();
    if p.pos < p.s.len() {
        return Err(format!(
            "unexpected '{}' at the end of conditional expression '{text}'",
            &text[p.pos..]
        ));
    }
    Ok(value)
}

struct CondParser<'a> {
    s: &'a [u8],
    pos: usize,
    env: EnvLookup<'a>,
    depth: usize,
}

impl CondParser<'_> {
    fn skip_spaces(&mut self) {
        while matches!(self.s.get(self.pos), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn rest(&self) -> String {
        String::from_utf8_lossy(&self.s[self.pos..]).into_owned()
    }

    fn eat(&mut self, op: &str) -> bool {
        self.skip_spaces();
        if self.s[self.pos..].starts_with(op.as_bytes()) {
            self.pos += op.len();
            true
        } else {
            false
        }
    }

    // Both sides are always parsed (so syntax errors are found), then combined.
    fn expr(&mut self) -> Result<bool, String> {
        let mut value = self.and()?;
        while self.eat("||") {
            let rhs = self.and()?;
            value = value || rhs;
        }
        Ok(value)
    }

    fn and(&mut self) -> Result<bool, String> {
        let mut value = self.term()?;
        while self.eat("&&") {
            let rhs = self.term()?;
            value = value && rhs;
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<bool, String> {
        self.skip_spaces();
        let mut negate = false;
        while self.s.get(self.pos) == Some(&b'!') {
            negate = !negate;
            self.pos += 1;
            self.skip_spaces();
        }
        let value = self.positive_term()?;
        self.skip_spaces();
        Ok(value != negate)
    }

    fn positive_term(&mut self) -> Result<bool, String> {
        if self.pos >= self.s.len() {
            return Err("missing term in conditional expression".into());
        }
        if let Some(n) = self.integer() {
            return Ok(n != 0);
        }
        if self.s[self.pos] == b'(' {
            self.depth += 1;
            if self.depth > 32 {
                return Err("conditional expression nested too deeply".into());
            }
            self.pos += 1;
            let value = self.expr()?;
            if !self.eat(")") {
                return Err(format!(
                    "expected ')' in conditional expression before '{}'",
                    self.rest()
                ));
            }
            self.depth -= 1;
            return Ok(value);
        }
        self.predicate()
    }

    /// Like strtol: optional sign, digits. Returns None if no digit.
    fn integer(&mut self) -> Option<i64> {
        let start = self.pos;
        let mut j = start;
        if matches!(self.s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let digits = j;
        while self.s.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j == digits {
            return None;
        }
        self.pos = j;
        let text = std::str::from_utf8(&self.s[start..j]).ok()?;
        // Overflowing integers are still non-zero.
        Some(text.parse::<i64>().unwrap_or(1))
    }

    fn predicate(&mut self) -> Result<bool, String> {
        let start = self.pos;
        while self
            .s
            .get(self.pos)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.pos += 1;
        }
        let name = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        if name.is_empty() {
            return Err(format!(
                "unparsable conditional expression '{}'",
                self.rest()
            ));
        }
        let arity = match name.as_str() {
            "defined" | "feature" | "version_atleast" | "version_before" => 1,
            "openssl_version_atleast" | "openssl_version_before" | "ssllib_name_startswith" => 1,
            "streq" | "strneq" | "strstr" => 2,
            _ => {
                return Err(format!(
                    "unknown predicate '{name}' in conditional expression"
                ))
            }
        };
        let args = self.args(&name)?;
        if args.len() != arity {
            return Err(format!(
                "predicate '{name}' expects {arity} argument{}, got {}",
                if arity == 1 { "" } else { "s" },
                args.len()
            ));
        }
        let env = self.env;
        Ok(match name.as_str() {
            "defined" => env(&args[0]).is_some(),
            "feature" => features().iter().any(|f| *f == args[0]),
            "streq" => args[0] == args[1],
            "strneq" => args[0] != args[1],
            "strstr" => args[0].contains(args[1].as_str()),
            // pollux follows one HAProxy release: configurations written
            // for HAProxy test its version, not pollux's own.
            "version_atleast" => version_cmp(HAPROXY, &args[0], &name)?.is_ge(),
            "version_before" => version_cmp(HAPROXY, &args[0], &name)?.is_lt(),
            // No OpenSSL is linked: no name matches and no version is
            // reached, so `feature(OPENSSL) && openssl_version_atleast(..)`
            // is false as in an HAProxy built without OpenSSL.
            _ => false,
        })
    }

    /// Parses `(a,b,...)`: commas separate, quotes and `\` protect; spaces
    /// are kept as part of the values.
    fn args(&mut self, name: &str) -> Result<Vec<String>, String> {
        if self.s.get(self.pos) != Some(&b'(') {
            return Err(format!("missing '(' after predicate '{name}'"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        let mut cur = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(format!("missing ')' after arguments of predicate '{name}'"));
            };
            self.pos += 1;
            match c {
                b')' => break,
                b',' => args.push(String::from_utf8_lossy(&std::mem::take(&mut cur)).into_owned()),
                b'\\' if self.pos < self.s.len() => {
                    cur.push(self.s[self.pos]);
                    self.pos += 1;
                }
                b'"' | b'\'' => {
                    let Some(len) = self.s[self.pos..].iter().position(|&b| b == c) else {
                        return Err(format!(
                            "unterminated quote in arguments of predicate '{name}'"
                        ));
                    };
                    cur.extend_from_slice(&self.s[self.pos..self.pos + len]);
                    self.pos += len + 1;
                }
                _ => cur.push(c),
            }
        }
        if !cur.is_empty() || !args.is_empty() {
            args.push(String::from_utf8_lossy(&cur).into_owned());
        }
        Ok(args)
    }
}

/// Parsed version: dotted numbers (missing ones are zero), and whether a
/// `-suffix` (like `-dev19`) marks it as a pre-release, older than the
/// release with the same numbers.
fn parse_version(v: &str) -> Option<(Vec<u64>, bool)> {
    let (nums, suffix) = match v.find('-') {
        Some(i) => (&v[..i], true),
        None => (v, false),
    };
    let parts = nums
        .split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    Some((parts, !suffix))
}

fn version_cmp(ours: &str, theirs: &str, pred: &str) -> Result<std::cmp::Ordering, String> {
    let bad = || format!("invalid version '{theirs}' in predicate '{pred}'");
    let (mut a, a_rel) = parse_version(ours).ok_or_else(bad)?;
    let (mut b, b_rel) = parse_version(theirs).ok_or_else(bad)?;
    let n = a.len().max(b.len());
    a.resize(n, 0);
    b.resize(n, 0);
    Ok(a.cmp(&b).then(a_rel.cmp(&b_rel)))
}

/// State of one `.if` level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    /// The current branch is taken.
    Taking,
    /// No branch taken yet; a later `.elif`/`.else` may be.
    Waiting,
    /// A branch was already taken, or the enclosing level is skipped.
    Done,
}

#[derive(Debug)]
struct Level {
    branch: Branch,
    seen_else: bool,
    line: usize,
}

/// The `.if` nesting of one file.
#[derive(Debug, Default)]
pub(crate) struct CondStack {
    levels: Vec<Level>,
}

impl CondStack {
    /// True when lines at the current position are to be parsed.
    pub(crate) fn active(&self) -> bool {
        self.levels
            .last()
            .map_or(true, |l| l.branch == Branch::Taking)
    }

    /// Handles a `.if/.elif/.else/.endif` line. Returns Ok(false) if `words[0]`
    /// is not one of them.
    pub(crate) fn directive(
        &mut self,
        words: &[String],
        line: usize,
        env: EnvLookup<'_>,
    ) -> Result<bool, String> {
        let name = words[0].as_str();
        let args = &words[1..];
        match name {
            ".if" => {
                let (branch, result) = if !self.active() {
                    (Branch::Done, Ok(()))
                } else {
                    match eval(args, env) {
                        Ok(true) => (Branch::Taking, Ok(())),
                        Ok(false) => (Branch::Waiting, Ok(())),
                        // Keep the level so the matching `.endif` still pairs up.
                        Err(e) => (Branch::Done, Err(e)),
                    }
                };
                self.levels.push(Level {
                    branch,
                    seen_else: false,
                    line,
                });
                result?;
            }
            ".elif" | ".else" => {
                let Some(level) = self.levels.last_mut() else {
                    return Err(format!("'{name}' without matching '.if'"));
                };
                if level.seen_else {
                    return Err(format!(
                        "'{name}' after '.else' (the '.if' is at line {})",
                        level.line
                    ));
                }
                if name == ".else" && !args.is_empty() {
                    return Err("'.else' takes no argument".into());
                }
                level.seen_else = name == ".else";
                level.branch = match level.branch {
                    Branch::Taking | Branch::Done => Branch::Done,
                    Branch::Waiting if name == ".else" => Branch::Taking,
                    Branch::Waiting => match eval(args, env) {
                        Ok(true) => Branch::Taking,
                        Ok(false) => Branch::Waiting,
                        Err(e) => {
                            level.branch = Branch::Done;
                            return Err(e);
                        }
                    },
                };
            }
            ".endif" => {
                if !args.is_empty() {
                    return Err("'.endif' takes no argument".into());
                }
                if self.levels.pop().is_none() {
                    return Err("'.endif' without matching '.if'".into());
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// At end of file: the line of each `.if` left open.
    pub(crate) fn unterminated(&self) -> impl Iterator<Item = usize> + '_ {
        self.levels.iter().map(|l| l.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "SET").then(|| "yes".to_string())
    }

    fn cond(text: &str) -> Result<bool, String> {
        let words: Vec<String> = text.split_whitespace().map(String::from).collect();
        eval(&words, &env)
    }

    fn t(text: &str) -> bool {
        cond(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn numbers_are_false_when_zero_and_true_otherwise() {
        assert!(!t("0"));
        assert!(t("1"));
        assert!(t("42"));
        assert!(t("-1"));
    }

    #[test]
    fn empty_condition_is_false() {
        assert!(!t(""));
    }

    #[test]
    fn negation_can_be_repeated() {
        assert!(t("!0"));
        assert!(!t("!1"));
        assert!(t("!!1"));
        assert!(t("! 0"));
    }

    #[test]
    fn defined_tests_the_environment() {
        assert!(t("defined(SET)"));
        assert!(!t("defined(UNSET)"));
        assert!(t("!defined(UNSET)"));
    }

    #[test]
    fn feature_reports_the_pollers_compiled_in() {
        assert!(t("feature(POLL)"));
        assert!(t("feature(SELECT)"));
        assert!(!t("feature(OPENSSL)"));
        let epoll = crate::pollers::compiled().iter().any(|b| b.name == "epoll");
        assert_eq!(t("feature(EPOLL)"), epoll);
    }

    #[test]
    fn string_predicates_compare_their_arguments() {
        assert!(t("streq(a,a)"));
        assert!(!t("streq(a,b)"));
        assert!(t("strneq(a,b)"));
        assert!(t("strstr(abc,b)"));
        assert!(t("streq(\"a,b\",'a,b')"));
    }

    #[test]
    fn spaces_after_commas_are_part_of_the_argument() {
        assert!(!t("streq(1, 1)"));
    }

    #[test]
    fn versions_compare_numerically_against_the_haproxy_release_followed() {
        // pollux follows HAProxy 2.6.12
        assert_eq!(HAPROXY, "2.6.12");
        assert!(t("version_atleast(2.6)"));
        assert!(t("version_atleast(2.6.12)"));
        assert!(t("version_atleast(2.5-dev0)"));
        assert!(t("version_atleast(2.6-dev0)"));
        assert!(!t("version_atleast(2.6.13)"));
        assert!(!t("version_atleast(2.10)"));
        assert!(t("version_before(2.10)"));
        assert!(t("version_before(3)"));
        assert!(!t("version_before(2.6)"));
        assert!(t("version_atleast(2.6.12-dev3)"));
    }

    #[test]
    fn ssl_library_predicates_answer_for_a_build_without_openssl() {
        assert!(!t("ssllib_name_startswith(OpenSSL)"));
        assert!(t("!feature(OPENSSL) && !ssllib_name_startswith(BoringSSL)"));
        assert!(!t("openssl_version_atleast(1.1.1)"));
        assert!(!t("openssl_version_before(9)"));
        assert!(t("!feature(OBSOLETE_LINKER) && feature(THREAD)"));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert!(t("1 || 0 && 0"));
        assert!(!t("(1 || 0) && 0"));
        assert!(t("0 && 0 || 1"));
        assert!(t("defined(SET) && !defined(UNSET)"));
        assert!(t("feature(POLL)&&(streq(a,b)||streq(c,c))"));
    }

    #[test]
    fn malformed_expressions_are_errors() {
        for bad in [
            "yes",
            "1 &&",
            "(1",
            "1)",
            "streq(a)",
            "defined",
            "defined(A",
            "nope(1)",
            "1 2",
            "version_atleast(x.y)",
        ] {
            assert!(cond(bad).is_err(), "{bad} should not parse");
        }
    }

    fn run(stack: &mut CondStack, line: &str) -> Result<bool, String> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        stack.directive(&words, 1, &env)
    }

    #[test]
    fn first_true_branch_only_is_taken() {
        let mut s = CondStack::default();
        run(&mut s, ".if 0").unwrap();
        assert!(!s.active());
        run(&mut s, ".elif 1").unwrap();
        assert!(s.active());
        run(&mut s, ".elif 1").unwrap();
        assert!(!s.active());
        run(&mut s, ".else").unwrap();
        assert!(!s.active());
        run(&mut s, ".endif").unwrap();
        assert!(s.active());
    }

    #[test]
    fn nested_blocks_inside_a_skipped_block_stay_skipped() {
        let mut s = CondStack::default();
        run(&mut s, ".if 0").unwrap();
        run(&mut s, ".if 1").unwrap();
        assert!(!s.active());
        run(&mut s, ".else").unwrap();
        assert!(!s.active());
        run(&mut s, ".endif").unwrap();
        run(&mut s, ".else").unwrap();
        assert!(s.active());
    }

    #[test]
    fn stray_else_elif_endif_are_errors() {
        assert!(run(&mut CondStack::default(), ".else").is_err());
        assert!(run(&mut CondStack::default(), ".elif 1").is_err());
        assert!(run(&mut CondStack::default(), ".endif").is_err());
        let mut s = CondStack::default();
        run(&mut s, ".if 1").unwrap();
        run(&mut s, ".else").unwrap();
        assert!(run(&mut s, ".else").is_err());
        assert!(run(&mut s, ".elif 1").is_err());
    }

    #[test]
    fn open_levels_are_reported_at_end_of_file() {
        let mut s = CondStack::default();
        run(&mut s, ".if 1").unwrap();
        assert_eq!(s.unterminated().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn other_words_are_not_directives() {
        assert!(!run(&mut CondStack::default(), "bind :80").unwrap());
    }
}
