//! Pattern references (HAProxy's `pat_ref`): the entries of one ACL or
//! map file, or of one ACL line's inline values, as the runtime API shows
//! and changes them. Each reference feeds one or more expressions (a
//! `PatternSet` per match method, case flag and value type that uses it),
//! shared by every ACL and map converter that uses the same file, so a
//! change through the runtime API reaches them all, on every thread: the
//! sets sit behind a lock per expression, read-locked for one lookup and
//! write-locked by the runtime API only (nothing process-wide).
//!
//! While a configuration loads, the references it creates are collected
//! in a per-thread registry (`begin_load`/`finish_load`) with the line
//! being parsed (`set_location`), which names the users; the finished
//! registry goes into the config model, and the engine answers from it.

use super::pattern::{Method, PatternSet};
use super::{Type, Value};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// A pattern's value in a set: the entry it came from and, in a map, the
/// value parsed as the map's output type.
#[derive(Debug)]
pub struct Slot {
    elt: u64,
    smp: Option<Value<'static>>,
}

/// One expression: the patterns of a reference as one match method reads
/// them.
#[derive(Debug)]
pub struct PatExpr {
    /// A map's value type; None for an ACL's (values are not parsed).
    smp: Option<Type>,
    dotted: bool,
    set: RwLock<PatternSet<Slot>>,
}

impl PatExpr {
    fn new(method: Method, icase: bool, dotted: bool, smp: Option<Type>) -> PatExpr {
        let mut set = PatternSet::new(method, icase);
        if dotted {
            set = set.dotted();
        }
        PatExpr {
            smp,
            dotted,
            set: RwLock::new(set),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, PatternSet<Slot>> {
        self.set.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, PatternSet<Slot>> {
        self.set.write().unwrap_or_else(|e| e.into_inner())
    }

    pub fn method(&self) -> Method {
        self.read().method()
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `v` (already of the method's input type) matches a pattern.
    pub fn matches(&self, v: &Value<'_>) -> bool {
        self.read().lookup(v).is_some()
    }

    /// The map value of the pattern `v` matches (a copy: the set may
    /// change once the lock is released).
    pub fn lookup(&self, v: &Value<'_>) -> Option<Value<'static>> {
        self.read().lookup(v)?.smp.clone()
    }

    fn same(&self, method: Method, icase: bool, dotted: bool, smp: Option<Type>) -> bool {
        let s = self.read();
        s.method() == method && s.icase() == icase && self.dotted == dotted && self.smp == smp
    }

    /// Parse one entry into this expression.
    fn push(&self, elt: &Elt) -> Result<(), String> {
        let smp = match (self.smp, &elt.value) {
            // The runtime API answers as HAProxy does; a file's line says more.
            (Some(t), Some(v)) if elt.line == 0 => {
                Some(parse_value(t, v).map_err(|_| format!("unable to parse '{v}'"))?)
            }
            (Some(t), Some(v)) => Some(parse_value(t, v)?),
            _ => None,
        };
        self.write().add(&elt.key, Slot { elt: elt.id, smp })
    }
}

/// A map value of type `t` (HAProxy refuses a map whose value does not
/// parse as the converter's output type).
pub fn parse_value(t: Type, v: &str) -> Result<Value<'static>, String> {
    match t {
        Type::Sint => super::args::int(v).map(Value::Sint),
        Type::Addr => Value::str(v.as_bytes().to_vec())
            .cast(Type::Addr)
            .ok_or_else(|| format!("'{v}' is not a valid IPv4 or IPv6 address")),
        _ => Ok(Value::str(v.as_bytes().to_vec())),
    }
}

/// One entry: its handle (shown as `0x...`), its pattern text and, in a
/// two-column file, its value text.
#[derive(Debug, Clone)]
pub struct Elt {
    pub id: u64,
    pub key: String,
    pub value: Option<String>,
    /// Its line in the file (0: added at run time).
    line: usize,
    /// Its version (`prepare`/`commit`): only the current one is matched.
    gen: u32,
}

/// Entry handles, unique in the process.
static NEXT_ELT: AtomicU64 = AtomicU64::new(1);

fn new_elt(key: &str, value: Option<&str>, line: usize) -> Elt {
    Elt {
        id: NEXT_ELT.fetch_add(1, Ordering::Relaxed),
        key: key.to_string(),
        value: value.map(str::to_string),
        line,
        gen: 0,
    }
}

#[derive(Debug, Default)]
struct Inner {
    id: i64,
    desc: String,
    /// HAProxy's flags: used by an ACL, by a map, two columns.
    acl: bool,
    map: bool,
    two_cols: bool,
    elts: Vec<Elt>,
    exprs: Vec<Arc<PatExpr>>,
    /// HAProxy's `entry_cnt`, kept the way 2.6 counts it: one per entry
    /// indexed in each expression, minus one per entry deleted.
    entry_cnt: u64,
    /// The version matched, and the last one `prepare` created.
    curr: u32,
    next: u32,
}

/// A pattern reference. Its entries and expressions are under one mutex,
/// taken by the config loader and the runtime API, never by a lookup.
#[derive(Debug)]
pub struct PatRef {
    /// The file name; empty for an ACL line's inline patterns.
    pub name: String,
    /// An `-u ID` given in the config.
    fixed_id: Option<i64>,
    inner: Mutex<Inner>,
}

impl PatRef {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn id(&self) -> i64 {
        self.lock().id
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.lock().elts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_acl(&self) -> bool {
        self.lock().acl
    }

    pub fn is_map(&self) -> bool {
        self.lock().map
    }

    pub fn two_columns(&self) -> bool {
        self.lock().two_cols
    }

    /// The expression for this method, case flag and value type, created
    /// (with every entry parsed into it) if no user had it yet.
    fn expr(
        &self,
        method: Method,
        icase: bool,
        dotted: bool,
        smp: Option<Type>,
    ) -> Result<Arc<PatExpr>, String> {
        let mut g = self.lock();
        if let Some(e) = g.exprs.iter().find(|e| e.same(method, icase, dotted, smp)) {
            return Ok(e.clone());
        }
        let e = Arc::new(PatExpr::new(method, icase, dotted, smp));
        for elt in g.elts.iter().filter(|x| x.gen == g.curr) {
            e.push(elt).map_err(|err| match elt.line {
                0 => err,
                n => format!("{}:{n}: {err}", self.name),
            })?;
        }
        g.entry_cnt = g.entry_cnt.wrapping_add(g.elts.len() as u64);
        g.exprs.push(e.clone());
        Ok(e)
    }

    /// The entries, `0xID KEY[ VALUE]` a line (`show map FILE`).
    pub fn show(&self, gen: Option<u32>) -> String {
        let g = self.lock();
        let gen = gen.unwrap_or(g.curr);
        let mut out = String::new();
        for e in g.elts.iter().filter(|e| e.gen == gen) {
            out.push_str(&format!("0x{:x} {}", e.id, e.key));
            if let Some(v) = &e.value {
                out.push(' ');
                out.push_str(v);
            }
            out.push('\n');
        }
        out
    }

    /// The line `show map`/`show acl` lists it with.
    pub fn summary(&self) -> String {
        let g = self.lock();
        format!(
            "{} ({}) {}. curr_ver={} next_ver={} entry_cnt={}\n",
            g.id, self.name, g.desc, g.curr, g.next, g.entry_cnt
        )
    }

    /// `get map|acl`: what each expression finds for `key`.
    pub fn get(&self, key: &str, map: bool) -> String {
        let g = self.lock();
        let mut out = String::new();
        for e in &g.exprs {
            let set = e.read();
            let case = if set.icase() {
                "insensitive"
            } else {
                "sensitive"
            };
            out.push_str(&format!("type={}, case={case}", set.method().name()));
            let (yes, no) = if map {
                (", found=yes", ", found=no")
            } else {
                (", match=yes", ", match=no")
            };
            let hit = Value::str(key.as_bytes())
                .cast(set.method().input())
                .and_then(|v| {
                    set.lookup_how(&v)
                        .map(|(s, tree)| (s.elt, s.smp.clone(), tree))
                });
            let Some((id, smp, tree)) = hit else {
                out.push_str(no);
                out.push('\n');
                continue;
            };
            out.push_str(yes);
            out.push_str(if tree { ", idx=tree" } else { ", idx=list" });
            let elt = g.elts.iter().find(|x| x.id == id);
            let what = if map { "key" } else { "pattern" };
            match elt {
                Some(x) => out.push_str(&format!(", {what}=\"{}\"", x.key)),
                None => out.push_str(&format!(", {what}=unknown")),
            }
            if map {
                match (smp, elt.and_then(|x| x.value.as_ref())) {
                    (Some(v), Some(text)) => {
                        out.push_str(&format!(", value=\"{text}\", type=\"{}\"", v.kind().name()))
                    }
                    _ => out.push_str(", value=none"),
                }
            }
            out.push('\n');
        }
        out
    }

    /// Append one entry to every expression; nothing changes if one
    /// refuses it (its message is the answer).
    /// `gen`: the version to add to (the current one if None); another
    /// one is only checked now and matched once committed.
    pub fn add(&self, key: &str, value: Option<&str>, gen: Option<u32>) -> Result<(), String> {
        let mut g = self.lock();
        let mut elt = new_elt(key, value, 0);
        elt.gen = gen.unwrap_or(g.curr);
        add_locked(&mut g, elt)
    }

    /// (current, next) versions.
    pub fn versions(&self) -> (u32, u32) {
        let g = self.lock();
        (g.curr, g.next)
    }

    /// `prepare`: a new version, empty; its number.
    pub fn prepare(&self) -> u32 {
        let mut g = self.lock();
        g.next = g.next.wrapping_add(1);
        g.next
    }

    /// `commit`: version `gen` (prepared, newer than the current one)
    /// becomes the one matched, every entry of the others goes. False if
    /// `gen` is out of that range.
    pub fn commit(&self, gen: u32) -> bool {
        let mut g = self.lock();
        if gen.wrapping_sub(g.curr).wrapping_sub(1) >= g.next.wrapping_sub(g.curr) {
            return false;
        }
        let old: Vec<u64> = g
            .elts
            .iter()
            .filter(|e| e.gen != gen)
            .map(|e| e.id)
            .collect();
        remove_locked(&mut g, &old);
        for e in &g.exprs {
            for elt in &g.elts {
                // Checked when added (and `set map` keeps values valid).
                if let Err(err) = e.push(elt) {
                    log::warn!("commit of '{}': {err}", self.name);
                }
            }
        }
        g.curr = gen;
        true
    }

    /// `set map`: the new value of every entry with this key (or handle).
    pub fn set(&self, which: &Which, value: &str) -> Result<(), String> {
        let mut g = self.lock();
        let ids: Vec<u64> = g
            .elts
            .iter()
            .filter(|e| which.is(e))
            .map(|e| e.id)
            .collect();
        if ids.is_empty() {
            return Err(match which {
                Which::Key(_) => "entry not found.".into(),
                Which::Id(_) => "key or pattern not found.".into(),
            });
        }
        // Parse for every expression first: all or nothing. A value that
        // does not parse changes nothing, and HAProxy 2.6 still answers
        // with success (an empty answer): so do we.
        let Ok(parsed) = g
            .exprs
            .iter()
            .map(|e| e.smp.map(|t| parse_value(t, value)).transpose())
            .collect::<Result<Vec<Option<Value<'static>>>, _>>()
        else {
            return Ok(());
        };
        for e in &mut g.elts {
            if ids.contains(&e.id) {
                e.value = Some(value.to_string());
            }
        }
        for (e, v) in g.exprs.iter().zip(parsed) {
            let mut set = e.write();
            for slot in set.values_mut().filter(|s| ids.contains(&s.elt)) {
                slot.smp.clone_from(&v);
            }
        }
        Ok(())
    }

    /// `del map|acl`: remove the entries with this key (or this handle);
    /// false if there is none.
    pub fn del(&self, which: &Which) -> bool {
        let mut g = self.lock();
        let ids: Vec<u64> = g
            .elts
            .iter()
            .filter(|e| which.is(e))
            .map(|e| e.id)
            .collect();
        if ids.is_empty() {
            return false;
        }
        remove_locked(&mut g, &ids);
        true
    }

    /// `clear map|acl`: remove every entry.
    pub fn clear(&self, gen: Option<u32>) {
        let mut g = self.lock();
        let gen = gen.unwrap_or(g.curr);
        let ids: Vec<u64> = g
            .elts
            .iter()
            .filter(|e| e.gen == gen)
            .map(|e| e.id)
            .collect();
        remove_locked(&mut g, &ids);
    }
}

fn add_locked(g: &mut Inner, elt: Elt) -> Result<(), String> {
    for (i, e) in g.exprs.iter().enumerate() {
        let pushed = if elt.gen == g.curr {
            e.push(&elt)
        } else {
            // Another version: checked in a scratch expression of the same kind.
            let (method, icase) = {
                let set = e.read();
                (set.method(), set.icase())
            };
            PatExpr::new(method, icase, e.dotted, e.smp).push(&elt)
        };
        if let Err(err) = pushed {
            for done in &g.exprs[..i] {
                done.write().retain(|s| s.elt != elt.id);
            }
            // HAProxy appends the entry, then deletes it: one off the count.
            g.entry_cnt = g.entry_cnt.wrapping_sub(1);
            return Err(err);
        }
        g.entry_cnt = g.entry_cnt.wrapping_add(1);
    }
    g.elts.push(elt);
    Ok(())
}

fn remove_locked(g: &mut Inner, ids: &[u64]) {
    g.elts.retain(|e| !ids.contains(&e.id));
    for e in &g.exprs {
        e.write().retain(|s| !ids.contains(&s.elt));
    }
    g.entry_cnt = g.entry_cnt.wrapping_sub(ids.len() as u64);
}

/// An entry named by the runtime API: its key text, or `#0xHANDLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    Key(String),
    Id(u64),
}

impl Which {
    fn is(&self, e: &Elt) -> bool {
        match self {
            Which::Key(k) => e.key == *k,
            Which::Id(id) => e.id == *id,
        }
    }
}

/// What uses a reference, for its description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    Acl,
    Map,
}

/// Every reference of a configuration, by id.
#[derive(Debug, Clone, Default)]
pub struct Registry(Arc<Vec<Arc<PatRef>>>);

impl PartialEq for Registry {
    fn eq(&self, o: &Registry) -> bool {
        Arc::ptr_eq(&self.0, &o.0) || self.0.len() == o.0.len() && self.0.is_empty()
    }
}
impl Eq for Registry {}

impl Registry {
    pub fn iter(&self) -> impl Iterator<Item = &Arc<PatRef>> {
        self.0.iter()
    }

    /// `#ID` or a file name, as the runtime API names a reference.
    pub fn find(&self, name: &str) -> Option<&Arc<PatRef>> {
        match name.strip_prefix('#') {
            Some(id) => {
                let id: i64 = id.parse().ok()?;
                self.0.iter().find(|r| r.id() == id)
            }
            // Inline patterns have no name: nothing is found by "".
            None => self.0.iter().find(|r| !name.is_empty() && r.name == name),
        }
    }
}

/// The registry of the configuration being loaded on this thread.
#[derive(Default)]
struct Loader {
    refs: Vec<Arc<PatRef>>,
    file: String,
    line: usize,
}

thread_local! {
    // Already const: nightly clippy flags it anyway on targets with
    // emulated TLS (OpenBSD, Solaris).
    #[allow(clippy::missing_const_for_thread_local)]
    static LOADING: RefCell<Option<Loader>> = const { RefCell::new(None) };
}

/// A configuration starts loading on this thread.
pub fn begin_load() {
    LOADING.with(|l| *l.borrow_mut() = Some(Loader::default()));
}

/// The line being parsed, which the references created now name.
pub fn set_location(file: &str, line: usize) {
    LOADING.with(|l| {
        if let Some(l) = l.borrow_mut().as_mut() {
            if l.file != file {
                l.file = file.to_string();
            }
            l.line = line;
        }
    });
}

/// The loaded references, each with its id: those given by `-u`, then the
/// first free ones in creation order (HAProxy's `pattern_finalize_config`).
pub fn finish_load() -> Registry {
    let Some(l) = LOADING.with(|l| l.borrow_mut().take()) else {
        return Registry::default();
    };
    let mut used: Vec<i64> = l.refs.iter().filter_map(|r| r.fixed_id).collect();
    let mut next = 0;
    for r in &l.refs {
        let id = match r.fixed_id {
            Some(id) => id,
            None => {
                while used.contains(&next) {
                    next += 1;
                }
                used.push(next);
                next
            }
        };
        r.lock().id = id;
    }
    let mut refs = l.refs;
    refs.sort_by_key(|r| r.id());
    Registry(Arc::new(refs))
}

fn location() -> (String, usize) {
    LOADING.with(|l| {
        l.borrow()
            .as_ref()
            .map_or((String::new(), 0), |l| (l.file.clone(), l.line))
    })
}

fn register(r: &Arc<PatRef>) {
    LOADING.with(|l| {
        if let Some(l) = l.borrow_mut().as_mut() {
            l.refs.push(r.clone());
        }
    });
}

/// Whether `-u ID` is free.
pub fn id_is_free(id: i64) -> bool {
    LOADING.with(|l| {
        l.borrow()
            .as_ref()
            .map_or(true, |l| l.refs.iter().all(|r| r.fixed_id != Some(id)))
    })
}

/// What an expression is asked for: method, `-i`, dotted versions, and
/// for a map its value type.
#[derive(Debug, Clone, Copy)]
pub struct ExprSpec {
    pub method: Method,
    pub icase: bool,
    pub dotted: bool,
    pub smp: Option<Type>,
}

/// `-f FILE` (and a map converter's file): the file's reference, read
/// now or shared with an earlier user, and the expression for `spec`.
/// `two_cols` is a map file (`-M`, a converter).
pub fn load_file(
    path: &str,
    user: User,
    two_cols: bool,
    spec: ExprSpec,
    open_err: &dyn Fn(&std::io::Error) -> String,
) -> Result<Arc<PatExpr>, String> {
    let (file, line) = location();
    let existing = LOADING.with(|l| {
        l.borrow().as_ref().and_then(|l| {
            l.refs
                .iter()
                .find(|r| !path.is_empty() && r.name == path)
                .cloned()
        })
    });
    let by = format!(
        "by {} at file '{file}' line {line}",
        if two_cols { "map" } else { "acl" }
    );
    let r = match existing {
        Some(r) => {
            {
                let mut g = r.lock();
                if g.two_cols != two_cols {
                    let (was, now) = if g.two_cols {
                        ("two", "one")
                    } else {
                        ("one", "two")
                    };
                    return Err(format!(
                        "The file \"{path}\" is already used as {was} column file and cannot be used by as {now} column file."
                    ));
                }
                g.desc.push_str(&format!(", {by}"));
                // An ACL's `-M` file is listed as a map too, as in HAProxy.
                g.acl |= user == User::Acl;
                g.map |= user == User::Map || two_cols;
            }
            r
        }
        None => {
            let text = std::fs::read_to_string(path).map_err(|e| open_err(&e))?;
            let elts: Vec<Elt> = if two_cols {
                super::pattern::read_map_file(&text)
                    .into_iter()
                    .map(|(n, k, v)| new_elt(k, Some(v), n))
                    .collect()
            } else {
                super::pattern::read_acl_file(&text)
                    .into_iter()
                    .map(|(n, k)| new_elt(k, None, n))
                    .collect()
            };
            let r = Arc::new(PatRef {
                name: path.to_string(),
                fixed_id: None,
                inner: Mutex::new(Inner {
                    desc: format!("pattern loaded from file '{path}' used {by}"),
                    acl: user == User::Acl,
                    map: user == User::Map || two_cols,
                    two_cols,
                    elts,
                    ..Inner::default()
                }),
            });
            register(&r);
            r
        }
    };
    r.expr(spec.method, spec.icase, spec.dotted, spec.smp)
}

/// An ACL line's inline patterns: a reference of its own, described as
/// `acl 'KEYWORD' file 'F' line L` (created even without patterns, as
/// HAProxy does), with `-u ID` if given.
pub fn inline(kw: &str, id: Option<i64>, spec: ExprSpec) -> (Arc<PatRef>, Arc<PatExpr>) {
    let (file, line) = location();
    let r = Arc::new(PatRef {
        name: String::new(),
        fixed_id: id,
        inner: Mutex::new(Inner {
            id: id.unwrap_or(-1),
            desc: format!("acl '{kw}' file '{file}' line {line}"),
            acl: true,
            ..Inner::default()
        }),
    });
    register(&r);
    let e = Arc::new(PatExpr::new(spec.method, spec.icase, spec.dotted, None));
    r.lock().exprs.push(e.clone());
    (r, e)
}
