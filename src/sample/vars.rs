//! HAProxy's variables (configuration manual §2.8, `set-var`, `var()`):
//! typed samples kept under a name in one of five scopes. `proc` is the
//! process's (every thread's: one mutex, locked for one map operation at a
//! time through `proxy::locks`, never across a socket call); `sess` lives
//! as long as the client connection; `txn` one HTTP transaction; `req` the
//! request side of it until the response comes, then `res`. A stream's
//! stores are plain vectors that allocate only when a variable is set.

use super::Value;
use std::cell::{Cell, OnceCell, RefCell};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Proc,
    Sess,
    Txn,
    Req,
    Res,
}

/// A variable as the configuration names it: `txn.host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub scope: Scope,
    /// The name after the scope.
    pub name: Box<str>,
}

impl VarRef {
    /// `SCOPE.NAME`, checked as HAProxy 2.6 checks it: a known scope, then
    /// at least one of `[A-Za-z0-9_.]`.
    pub fn parse(s: &str) -> Result<VarRef, String> {
        if s.is_empty() {
            return Err("Empty variable name cannot be accepted".into());
        }
        let scopes = [
            ("proc.", Scope::Proc),
            ("sess.", Scope::Sess),
            ("txn.", Scope::Txn),
            ("req.", Scope::Req),
            ("res.", Scope::Res),
        ];
        let found = scopes
            .iter()
            .find_map(|(p, sc)| s.strip_prefix(p).map(|n| (*sc, n)));
        let (scope, name) = match found {
            Some((sc, n)) if !n.is_empty() => (sc, n),
            _ if s.starts_with("check.") => {
                return Err(format!(
                    "variable '{s}': the 'check' scope (health checks) is not supported yet"
                ))
            }
            _ => {
                return Err(format!(
                    "invalid variable name '{s}'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req' or 'res'"
                ))
            }
        };
        if let Some(i) = name.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')) {
            return Err(format!(
                "invalid variable name '{s}': invalid syntax at char '{}'",
                &name[i..]
            ));
        }
        Ok(VarRef {
            scope,
            name: name.into(),
        })
    }
}

/// `set-var(NAME,COND...)`'s conditions (HAProxy 2.6), all of which must
/// hold for the variable to be set; a bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conds(u16);

const CONDS: [&str; 8] = [
    "ifexists",
    "ifnotexists",
    "ifempty",
    "ifnotempty",
    "ifset",
    "ifnotset",
    "ifgt",
    "iflt",
];

impl Conds {
    /// The words after the name; empty ones are skipped, as HAProxy does.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Conds, String> {
        let mut bits = 0;
        for w in words.iter().map(AsRef::as_ref).filter(|w| !w.is_empty()) {
            let i = CONDS
                .iter()
                .position(|c| *c == w)
                .ok_or_else(|| format!("unknown condition \"{w}\""))?;
            bits |= 1 << i;
        }
        Ok(Conds(bits))
    }

    /// Whether `input` may be stored, given whether the variable exists
    /// and its current value (None: not set).
    fn allow(self, exists: bool, cur: Option<&Value>, input: &Value) -> bool {
        if self.0 == 0 {
            return true;
        }
        let empty = input.bytes().is_some_and(<[u8]>::is_empty);
        // ifgt/iflt compare integers only; otherwise they hold.
        let ints = match (cur, input) {
            (Some(Value::Sint(a)), Value::Sint(b)) => Some((*a, *b)),
            _ => None,
        };
        // In the order of CONDS: what each condition asks.
        let holds = [
            exists,
            !exists,
            empty,
            !empty,
            cur.is_some(),
            cur.is_none(),
            ints.map_or(true, |(a, b)| a > b),
            ints.map_or(true, |(a, b)| a < b),
        ];
        (0..CONDS.len()).all(|i| self.0 & (1 << i) == 0 || holds[i])
    }
}

/// One scope's variables of one stream (or of the process).
#[derive(Debug, Default)]
pub struct Store(Vec<(Box<str>, Value<'static>)>);

impl Store {
    fn get(&self, name: &str) -> Option<&Value<'static>> {
        self.0.iter().find(|(n, _)| **n == *name).map(|(_, v)| v)
    }

    /// Sets `name` unless a condition says no; `always_exists` for `proc`
    /// variables, which HAProxy creates when it reads the configuration.
    fn set(&mut self, name: &str, v: &Value, conds: Conds, always_exists: bool) -> bool {
        let at = self.0.iter().position(|(n, _)| **n == *name);
        let cur = at.map(|i| &self.0[i].1);
        if !conds.allow(always_exists || at.is_some(), cur, v) {
            return false;
        }
        let v = v.clone().into_owned();
        match at {
            Some(i) => self.0[i].1 = v,
            None => self.0.push((name.into(), v)),
        }
        true
    }

    fn unset(&mut self, name: &str) {
        self.0.retain(|(n, _)| **n != *name);
    }

    fn clear(&mut self) {
        // Keeps nothing: a transaction's variables are its own.
        self.0 = Vec::new();
    }
}

/// The `proc` scope, shared by every thread of the process.
static PROC: Mutex<Store> = Mutex::new(Store(Vec::new()));

fn with_proc<R>(f: impl FnOnce(&mut Store) -> R) -> R {
    f(&mut crate::proxy::locks::lock(&PROC))
}

/// One stream's variables: `sess` for the client connection, `txn`, and
/// the request-then-response store. Reached through a shared reference by
/// the fetches, converters and actions that read and write them (one
/// thread: `RefCell`, never borrowed across a call out). Two words in the
/// session; the stores are allocated by the first variable set.
#[derive(Debug, Default)]
pub struct Vars {
    stores: OnceCell<Box<Stores>>,
    /// [`RES`] | [`NO_STREAM`].
    phase: Cell<u8>,
}

#[derive(Debug, Default)]
struct Stores {
    sess: RefCell<Store>,
    txn: RefCell<Store>,
    reqres: RefCell<Store>,
}

/// The request/response store holds `res.` variables (the server answered).
const RES: u8 = 1;
/// No stream yet (`tcp-request connection`): only `proc` and `sess` exist.
const NO_STREAM: u8 = 2;

impl Vars {
    /// The variables of a connection not yet a stream.
    pub fn connection_only() -> Vars {
        let v = Vars::default();
        v.phase.set(NO_STREAM);
        v
    }

    /// The stream begins (after `tcp-request connection`).
    pub fn stream_begins(&self) {
        self.phase.set(self.phase.get() & !NO_STREAM);
    }

    /// A new transaction on the same connection: `txn`, `req` and `res`
    /// start empty; `sess` stays.
    pub fn next_txn(&mut self) {
        if let Some(s) = self.stores.get_mut() {
            s.txn.get_mut().clear();
            s.reqres.get_mut().clear();
        }
        self.phase.set(0);
    }

    /// The response arrives: `req.` variables end, `res.` ones begin.
    pub fn response_begins(&self) {
        if self.phase.get() & RES == 0 {
            if let Some(s) = self.stores.get() {
                s.reqres.borrow_mut().clear();
            }
            self.phase.set(self.phase.get() | RES);
        }
    }

    /// Whether variables of `scope` exist at this point of the stream.
    fn exists(&self, scope: Scope) -> bool {
        let p = self.phase.get();
        match scope {
            Scope::Proc | Scope::Sess => true,
            _ if p & NO_STREAM != 0 => false,
            Scope::Txn => true,
            Scope::Req => p & RES == 0,
            Scope::Res => p & RES != 0,
        }
    }

    fn cell(s: &Stores, scope: Scope) -> &RefCell<Store> {
        match scope {
            Scope::Sess => &s.sess,
            Scope::Txn => &s.txn,
            _ => &s.reqres,
        }
    }
}

/// Reads a variable (a copy: `proc` ones cannot be lent out of their lock).
/// `vars` None: no stream, only `proc` variables exist.
pub fn get(vars: Option<&Vars>, r: &VarRef) -> Option<Value<'static>> {
    lookup(vars, r).flatten()
}

/// [`get`], telling a variable not set (Some(None)) from one whose scope
/// does not exist here (None: `req.` in a response, `txn.` before the
/// stream), where HAProxy's `var()` ignores its default.
pub fn lookup(vars: Option<&Vars>, r: &VarRef) -> Option<Option<Value<'static>>> {
    if r.scope == Scope::Proc {
        return Some(with_proc(|s| s.get(&r.name).cloned()));
    }
    let vars = vars.filter(|v| v.exists(r.scope))?;
    let Some(s) = vars.stores.get() else {
        return Some(None);
    };
    let v = Vars::cell(s, r.scope).borrow().get(&r.name).cloned();
    Some(v)
}

/// Sets a variable if its scope exists here and the conditions hold.
pub fn set(vars: Option<&Vars>, r: &VarRef, v: &Value, conds: Conds) -> bool {
    if r.scope == Scope::Proc {
        return with_proc(|s| s.set(&r.name, v, conds, true));
    }
    match vars.filter(|x| x.exists(r.scope)) {
        Some(x) => {
            let s = x.stores.get_or_init(Box::default);
            Vars::cell(s, r.scope)
                .borrow_mut()
                .set(&r.name, v, conds, false)
        }
        None => false,
    }
}

/// `unset-var`: the variable is gone (a `proc` one still exists, unset).
pub fn unset(vars: Option<&Vars>, r: &VarRef) {
    if r.scope == Scope::Proc {
        return with_proc(|s| s.unset(&r.name));
    }
    if let Some(s) = vars
        .filter(|x| x.exists(r.scope))
        .and_then(|x| x.stores.get())
    {
        Vars::cell(s, r.scope).borrow_mut().unset(&r.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> VarRef {
        VarRef::parse(s).unwrap()
    }

    #[test]
    fn names_need_a_scope_and_plain_characters() {
        assert_eq!(r("txn.a.b_C9").name.as_ref(), "a.b_C9");
        assert_eq!(r("proc.x").scope, Scope::Proc);
        for bad in ["", "txn", "txn.", "TXN.a", "foo.a", "txn.a-b", "txn.é"] {
            assert!(VarRef::parse(bad).is_err(), "{bad}");
        }
        assert!(VarRef::parse("check.a")
            .unwrap_err()
            .contains("not supported yet"));
        assert_eq!(
            VarRef::parse("txn.a-b").unwrap_err(),
            "invalid variable name 'txn.a-b': invalid syntax at char '-b'"
        );
    }

    #[test]
    fn conditions_are_known_words_and_empty_ones_are_skipped() {
        assert!(Conds::parse(&["ifexists", "", "iflt"]).is_ok());
        assert_eq!(
            Conds::parse(&["ifbogus"]).unwrap_err(),
            "unknown condition \"ifbogus\""
        );
    }

    #[test]
    fn conditions_as_haproxy_2_6() {
        let v = Vars::default();
        let c = |w: &str| Conds::parse(&[w]).unwrap();
        let n = r("txn.n");
        assert!(
            set(Some(&v), &n, &Value::Sint(5), c("ifgt")),
            "absent: holds"
        );
        assert!(!set(Some(&v), &n, &Value::Sint(7), c("ifgt")));
        assert!(set(Some(&v), &n, &Value::Sint(3), c("ifgt")));
        assert!(!set(Some(&v), &n, &Value::Sint(1), c("iflt")));
        assert!(
            set(Some(&v), &n, &Value::str(&b"x"[..]), c("iflt")),
            "not ints"
        );
        assert!(!set(Some(&v), &r("txn.e"), &Value::Sint(0), c("ifempty")));
        assert!(set(
            Some(&v),
            &r("txn.e"),
            &Value::str(&b""[..]),
            c("ifempty")
        ));
        assert!(!set(
            Some(&v),
            &r("txn.j"),
            &Value::Bool(true),
            c("ifexists")
        ));
        assert!(set(
            Some(&v),
            &r("txn.j"),
            &Value::Bool(true),
            c("ifnotset")
        ));
        assert!(!set(
            Some(&v),
            &r("txn.j"),
            &Value::Bool(false),
            c("ifnotexists")
        ));
        unset(Some(&v), &r("txn.j"));
        assert_eq!(get(Some(&v), &r("txn.j")), None);
        // A proc variable exists from the start, set or not.
        let p = r("proc.vars_unit_test");
        assert!(!set(None, &p, &Value::Sint(1), c("ifnotexists")));
        assert!(!set(None, &p, &Value::Sint(1), c("ifset")));
        assert!(set(None, &p, &Value::Sint(1), c("ifexists")));
        assert_eq!(get(None, &p), Some(Value::Sint(1)));
        unset(None, &p);
        assert!(set(None, &p, &Value::Sint(2), c("ifexists")));
    }

    #[test]
    fn no_variable_no_allocation() {
        let v = Vars::default();
        assert_eq!(get(Some(&v), &r("txn.a")), None);
        unset(Some(&v), &r("sess.a"));
        assert!(v.stores.get().is_none());
        assert!(std::mem::size_of::<Vars>() <= 16);
    }

    #[test]
    fn scopes_live_as_long_as_their_owner() {
        let mut v = Vars::connection_only();
        assert!(!set(
            Some(&v),
            &r("txn.a"),
            &Value::Sint(1),
            Conds::default()
        ));
        assert!(set(
            Some(&v),
            &r("sess.a"),
            &Value::Sint(1),
            Conds::default()
        ));
        v.stream_begins();
        for n in ["txn.a", "req.a"] {
            assert!(set(Some(&v), &r(n), &Value::Sint(2), Conds::default()));
        }
        assert!(!set(
            Some(&v),
            &r("res.a"),
            &Value::Sint(2),
            Conds::default()
        ));
        v.response_begins();
        assert_eq!(get(Some(&v), &r("req.a")), None);
        assert!(set(
            Some(&v),
            &r("res.a"),
            &Value::Sint(3),
            Conds::default()
        ));
        v.next_txn();
        assert_eq!(get(Some(&v), &r("txn.a")), None);
        assert_eq!(get(Some(&v), &r("res.a")), None);
        assert_eq!(get(Some(&v), &r("sess.a")), Some(Value::Sint(1)));
        assert!(set(
            Some(&v),
            &r("req.a"),
            &Value::Sint(4),
            Conds::default()
        ));
    }
}
