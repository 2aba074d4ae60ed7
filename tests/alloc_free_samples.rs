//! Sample expressions whose result is a slice of the message are evaluated
//! without touching the heap: a counting global allocator wraps the
//! system's, and the evaluation of header, path, method, cookie and query
//! parameter fetches (and an ACL over one) must not allocate once.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pollux::http::acl::{parse_criterion, Truth};
use pollux::http::expr::Expr;
use pollux::http::fetch::{FetchCtx, TxnView};
use pollux::http::format::{self, Format};
use pollux::http::message::Request;
use pollux::http::parser::HeadParser;

/// Counts the allocations made by the thread that armed it (the test
/// harness runs other threads whose allocations are not ours).
struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    // try_with: the thread-locals may be gone while a thread exits.
    let _ = ARMED.try_with(|a| {
        if a.get() {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are this allocator's; counting
// touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: `ptr` was allocated by `System` (all allocations go
        // through it) with `layout`, as the caller guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// How many allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    COUNT.with(|c| c.set(0));
    ARMED.with(|a| a.set(true));
    let out = f();
    ARMED.with(|a| a.set(false));
    (COUNT.with(Cell::get), out)
}

fn parsed() -> Request {
    let buf = b"GET /shop/cart?lang=fr&x=42&y HTTP/1.1\r\n\
        Host: a.com\r\n\
        Cookie: theme=dark; sid=abc123\r\n\
        User-Agent: curl\r\n\r\n";
    let head = HeadParser::new(buf.len())
        .parse_request(buf)
        .expect("valid request")
        .expect("complete request");
    Request::from_head(&head, buf)
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test below against a counter that counts nothing.
    let (n, v) = allocations(|| vec![1u8; 10]);
    assert!(n >= 1, "{n}");
    assert_eq!(v.len(), 10);
}

#[test]
fn message_slices_are_fetched_without_allocating() {
    let req = parsed();
    let ctx = FetchCtx::http(
        "192.0.2.1:40000".parse().unwrap(),
        "192.0.2.2:80".parse().unwrap(),
        Some(&req),
        None,
    );
    let captured = [Some("a.com".to_string())];
    let ctx = FetchCtx {
        payload: b"\x16\x03\x01",
        txn: TxnView {
            captured_req: &captured,
            unique_id: Some("id-1"),
            ..TxnView::default()
        },
        ..ctx
    };
    let cases = [
        ("req.hdr(host)", "a.com"),
        ("req.fhdr(cookie,1)", "theme=dark; sid=abc123"),
        ("hdr(user-agent,-1)", "curl"),
        ("pathq", "/shop/cart?lang=fr&x=42&y"),
        ("req.ver", "1.1"),
        ("capture.req.hdr(0)", "a.com"),
        ("unique-id", "id-1"),
        ("req.payload(1,2)", "\x03\x01"),
        ("str(abc)", "abc"),
        ("path", "/shop/cart"),
        ("method", "GET"),
        ("url", "/shop/cart?lang=fr&x=42&y"),
        ("query", "lang=fr&x=42&y"),
        ("req.cook(sid)", "abc123"),
        ("url_param(x)", "42"),
    ];
    for (text, want) in cases {
        let e = Expr::parse(text).unwrap();
        let (n, got) = allocations(|| {
            let one = e.fetch_one(&ctx).map(|v| v.bytes().map(<[u8]>::len));
            let all = e.fetch_all_with(&ctx, None).values.len();
            (one, all)
        });
        assert_eq!(got, (Some(Some(want.len())), 1), "{text}");
        assert_eq!(n, 0, "{text}: {n} allocation(s)");
        let v = e.fetch_one(&ctx).unwrap();
        assert_eq!(v.bytes(), Some(want.as_bytes()), "{text}");
    }
    let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
    for (acl, want) in [
        ("hdr(host) -m str a.com", Truth::True),
        ("hdr(host) -m str b.com", Truth::False),
        ("req.cook(sid) -m beg abc", Truth::True),
        ("path_beg /shop", Truth::True),
        ("hdr_cnt(host) 1", Truth::True),
        ("url_param(lang) fr", Truth::True),
    ] {
        let c = parse_criterion(&words(acl)).unwrap();
        let (n, got) = allocations(|| c.eval(&ctx));
        assert_eq!(got, want, "{acl}");
        assert_eq!(n, 0, "{acl}: {n} allocation(s)");
    }
    // The regex engine builds its scratch space on a regex's first use;
    // after that, matching borrows it.
    let c = parse_criterion(&words("path_reg ^/shop/ca")).unwrap();
    assert_eq!(c.eval(&ctx), Truth::True);
    let (n, got) = allocations(|| c.eval(&ctx));
    assert_eq!(got, Truth::True);
    assert_eq!(n, 0, "path_reg: {n} allocation(s)");
    // A header action's format renders into a buffer it was given.
    let f = Format::parse("%[req.hdr(host)]%[path] %[req.cook(sid)]").unwrap();
    let mut out = String::with_capacity(64);
    let (n, ()) = allocations(|| f.render_with(&mut out, &ctx, &NoVars));
    assert_eq!(out, "a.com/shop/cart abc123");
    assert_eq!(n, 0, "format: {n} allocation(s)");
}

/// The format above names no variable.
struct NoVars;

impl format::Vars for NoVars {
    fn var(&self, _: &mut String, _: format::Var, _: format::Flags) {
        unreachable!("no variable in the format");
    }
}
